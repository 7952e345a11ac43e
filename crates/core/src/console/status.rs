//! What the console shows about itself: phase, read-only reason, features, and the
//! provider's capabilities kept in the copy.

use crate::client::Client;
use crate::discovery::{Capabilities, Support};
use crate::profiles::ProfileKind;
use crate::rules::{self};

use super::profiles::profile_view;
use super::view::{AccountView, Choices, FeatureName, FeatureView, Phase, StatusView};
use super::{Active, Console, State, view};

impl Console {
    /// Keeps what the provider offers now in the copy, when the copy knew it already and
    /// it changed (a server upgraded, an action added), so features and offers follow the
    /// server without a full sync. A system admin's copy is left to their next sync,
    /// which decides from the change whether to fetch deleted users.
    pub(super) async fn renew_capabilities(&self, client: &Client, fresh: Capabilities) {
        if client.account().is_some_and(|a| a.system_admin) {
            return;
        }
        let known = {
            let state = self.state.lock().await;
            state
                .active
                .as_ref()
                .and_then(|a| a.capabilities().cloned())
        };
        if known.is_none_or(|known| known == fresh) {
            return;
        }
        self.change(move |snapshot| snapshot.capabilities = Some(fresh))
            .await;
    }
}

/// Why the signed-in person may only look, if so (the engine's rule for their role).
pub(super) fn role_read_only(active: &Active) -> Option<String> {
    rules_account(active)?.read_only_reason()
}

/// The signed-in account as the engine's rules see it.
pub(super) fn rules_account(active: &Active) -> Option<rules::Account> {
    active.session.account.as_ref().map(rules::Account::from)
}

/// What the provider supports, as last read; before the first read, a Muster profile
/// counts as a Muster server offering no actions yet, any other as plain SCIM.
pub(super) fn capabilities_of(active: &Active) -> Capabilities {
    active
        .capabilities()
        .cloned()
        .unwrap_or_else(|| Capabilities {
            is_muster: matches!(active.profile.kind, ProfileKind::Muster { .. }),
            ..Capabilities::default()
        })
}

/// Why nothing can be changed now whoever is signed in: signed out, or offline.
pub(super) fn session_held(active: &Active) -> Option<String> {
    if active.session.client.is_none() {
        Some("Sign in to make changes.".to_owned())
    } else if !active.link.online {
        Some("You are offline: changes are off until the server can be reached.".to_owned())
    } else {
        None
    }
}

pub(super) fn status_of(state: &State) -> StatusView {
    let default = state.profiles.default().map(|p| p.name.clone());
    let Some(active) = state.active.as_ref() else {
        return StatusView {
            phase: Phase::NoProfile,
            profile: None,
            org: None,
            account: None,
            online: true,
            offline_reason: None,
            synced_at: None,
            user_count: 0,
            group_count: 0,
            read_only: true,
            read_only_reason: Some("Open a connection first.".to_owned()),
            no_access_reason: None,
            features: Vec::new(),
            cache_notice: None,
            session_notice: None,
            sync_notice: None,
            must_change_password: false,
            mfa_enrollment_required: false,
            choices: Choices::known(),
        };
    };
    let phase = if active.session.client.is_some() {
        Phase::Ready
    } else if active.session.pending_mfa.is_some() {
        Phase::MfaRequired
    } else {
        Phase::SignedOut
    };
    let read_only_reason = session_held(active).or_else(|| role_read_only(active));
    let data = &active.data;
    StatusView {
        phase,
        profile: Some(profile_view(&active.profile, default.as_deref())),
        org: active.org.clone(),
        account: active.session.account.as_ref().map(|a| AccountView {
            id: a.id.clone(),
            display_name: a.display_name.clone(),
            role: a.role.clone(),
            system_admin: a.system_admin,
        }),
        online: active.link.online,
        offline_reason: active.link.offline_reason.clone(),
        synced_at: data
            .has_data()
            .then(|| view::stamp(data.snapshot.synced_at)),
        user_count: view::clamp(data.snapshot.users.len()),
        group_count: view::clamp(data.snapshot.groups.len()),
        read_only: read_only_reason.is_some(),
        read_only_reason,
        no_access_reason: rules_account(active).and_then(|a| a.no_access_reason()),
        features: features_of(active),
        cache_notice: active.notices.cache.clone(),
        session_notice: active.notices.session.clone(),
        sync_notice: active.notices.sync.clone(),
        must_change_password: active.session.must_change_password,
        mfa_enrollment_required: active.session.mfa_enrollment_required,
        choices: Choices::of(active.capabilities()),
    }
}

pub(super) fn features_of(active: &Active) -> Vec<FeatureView> {
    match active.capabilities() {
        Some(capabilities) => FeatureName::all()
            .map(|name| feature_view(capabilities, active, name))
            .collect(),
        // Before the provider's offer is first read, the features only admins may use
        // are told all the same (from the account and the profile's kind), so that none
        // shows, as an unknown feature would, to someone it is not for.
        None => {
            let assumed = capabilities_of(active);
            FeatureName::all()
                .filter(|name| name.admins_only() || name.system_admins_only())
                .map(|name| feature_view(&assumed, active, name))
                .collect()
        }
    }
}

/// Whether `name` can be used with this provider by the signed-in account, and why not:
/// what the provider offers, then, for the features that administer the organisation,
/// the account's role ([`rules::Account::admin_only_reason`]).
pub(super) fn feature_view(
    capabilities: &Capabilities,
    active: &Active,
    name: FeatureName,
) -> FeatureView {
    let reason = match capabilities.supports(name.feature()) {
        Support::Yes if name.admins_only() => admin_gate(active),
        Support::Yes if name.system_admins_only() => system_admin_gate(active),
        other => other.reason().map(str::to_owned),
    };
    FeatureView {
        name,
        available: reason.is_none(),
        reason,
    }
}

/// Why the signed-in account may not administer the server, if so. A token sign-in is an
/// organisation's: it administers nothing from here.
fn system_admin_gate(active: &Active) -> Option<String> {
    match rules_account(active) {
        Some(account) => account.system_admin_only_reason(),
        None => Some("Sign in as a system admin to manage the server's organisations.".to_owned()),
    }
}

/// Why the signed-in account may not administer the organisation, if so. A token
/// sign-in has no role the engine knows: it administers nothing from here.
fn admin_gate(active: &Active) -> Option<String> {
    match rules_account(active) {
        Some(account) => account.admin_only_reason(),
        None if active.session.client.is_some() => Some(
            "Sign in with an admin's email and password to manage the organisation.".to_owned(),
        ),
        None => Some("Sign in as an admin to manage the organisation.".to_owned()),
    }
}
