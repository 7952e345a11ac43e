//! Profiles: adding, editing, removing and opening them, with the offline copy an open
//! profile reads from.

use std::sync::Arc;

use crate::cache::OpenOutcome;
use crate::client::Client;
use crate::error::{Error, Notice};
use crate::profiles::{Profile, ProfileKind, Profiles};

use super::status::status_of;
use super::store::{CopyOf, open_store};
use super::view::{ProfileInput, ProfileView, ServerKindView, StatusView};
use super::{Active, Console, Data, Link, Notices, Session, store};

impl Console {
    /// Every profile.
    pub async fn profiles(&self) -> Vec<ProfileView> {
        let state = self.state.lock().await;
        profile_views(&state.profiles)
    }

    /// Adds a profile, or changes the one named `input.name` when `editing`. A change of
    /// server, kind or organisation (another origin) ends the profile's saved sign-in and
    /// deletes its offline copies: credentials and data belong to the origin they came
    /// from (the app asks first).
    ///
    /// # Errors
    ///
    /// [`Error::Validation`] for a bad name, URL or organisation, or a name in use;
    /// [`Error::KeychainUnavailable`] when a moved profile's secrets cannot be deleted
    /// (nothing is changed then).
    pub async fn save_profile(
        &self,
        input: ProfileInput,
        editing: bool,
    ) -> Result<Vec<ProfileView>, Error> {
        let profile = match input.kind {
            ServerKindView::Muster => Profile::muster(
                input.name.trim(),
                input.url.trim(),
                input.org.unwrap_or_default().trim(),
            ),
            ServerKindView::Scim => Profile::scim(input.name.trim(), input.url.trim()),
        };
        let name = profile.name.clone();
        let mut state = self.state.lock().await;
        if editing {
            let origin = |p: &Profile| p.to_connection().and_then(|c| c.origin()).ok();
            let moved = state
                .profiles
                .get(&name)
                .is_some_and(|old| origin(old) != origin(&profile));
            if moved {
                profile.to_connection()?.validate()?;
                if state
                    .active
                    .as_ref()
                    .is_some_and(|active| active.profile.name == name)
                {
                    state.active = None;
                }
                store::remove_org_copies(&self.vault, &self.dirs.cache, &name)?;
                self.vault.delete_profile(&name)?;
                store::remove_cache(&self.dirs.cache, &name)?;
                self.remember_account(&name, None);
            }
            state.profiles.edit(profile)?;
        } else {
            state.profiles.add(profile)?;
        }
        if input.make_default {
            state.profiles.set_default(&name)?;
        }
        Ok(profile_views(&state.profiles))
    }

    /// Removes a profile with its keychain entries and offline copy (closing it first).
    ///
    /// # Errors
    ///
    /// [`Error::KeychainUnavailable`] when its secrets cannot be removed (the profile is
    /// then kept, so no secret is left behind unnamed); [`Error::NotFound`].
    pub async fn remove_profile(&self, name: &str) -> Result<Vec<ProfileView>, Error> {
        let mut state = self.state.lock().await;
        if state
            .active
            .as_ref()
            .is_some_and(|a| a.profile.name == name)
        {
            state.active = None;
        }
        store::remove_org_copies(&self.vault, &self.dirs.cache, name)?;
        state.profiles.remove(name, &self.vault)?;
        store::remove_cache(&self.dirs.cache, name)?;
        Ok(profile_views(&state.profiles))
    }

    /// Opens a profile: its offline copy at once, and its stored session if the keychain
    /// holds one (checked with the server in the background by [`Console::refresh`]).
    ///
    /// # Errors
    ///
    /// [`Error::NotFound`] for an unknown profile.
    pub async fn open_profile(&self, name: &str) -> Result<StatusView, Error> {
        let profile = {
            let state = self.state.lock().await;
            state
                .profiles
                .get(name)
                .cloned()
                .ok_or_else(|| Error::NotFound {
                    message: format!("There is no profile named '{name}'."),
                })?
        };
        let mut active = placeholder(&profile);
        self.load_cache(&mut active, false).await;
        match self
            .vault_for(&active.profile)
            .load_tokens(&active.profile.name)
        {
            Ok(Some(tokens)) => {
                let connection = self.connection(&active)?;
                active.session.kept = Some(tokens.access.clone());
                active.session.offered = active.session.kept.clone();
                active.session.client =
                    Some(Client::from_tokens(connection, tokens, &self.transport)?);
                active.session.account = store::Settings::load(&self.dirs.config)
                    .accounts
                    .remove(&active.profile.name);
            }
            Ok(None) => {}
            Err(error) => {
                active.notices.session =
                    Some(error.notice("Your saved sign-in could not be read: sign in again."));
            }
        }
        let mut state = self.state.lock().await;
        state.active = Some(active);
        Ok(status_of(&state))
    }

    /// Reads the profile's offline copy (off the async threads: it is large).
    pub(super) async fn load_cache(&self, active: &mut Active, create_key: bool) {
        let (profile, org) = copy_names(active);
        let cache_dir = self.dirs.cache.clone();
        let vault = self.vault_for(&active.profile);
        let now = self.clock.now();
        let loaded = tokio::task::spawn_blocking(move || {
            let copy = match &org {
                Some(org) => CopyOf::Org {
                    profile: &profile,
                    org,
                },
                None => CopyOf::Profile(&profile),
            };
            let store = open_store(&vault, &cache_dir, copy, create_key)?;
            Ok::<_, Error>(store.map(|store| {
                // The stored index: no rebuild on open.
                let (snapshot, index, outcome) = store.open_indexed(now);
                (store, Arc::new(Data { snapshot, index }), outcome)
            }))
        })
        .await;
        match loaded {
            Ok(Ok(Some((store, data, outcome)))) => {
                active.notices.cache = match outcome {
                    OpenOutcome::Discarded { reason } => Some(Notice {
                        text: "The offline copy could not be used; the next sync rebuilds it."
                            .to_owned(),
                        fix: None,
                        detail: Some(reason),
                    }),
                    OpenOutcome::Fresh | OpenOutcome::Missing => None,
                };
                active.store = Some(Arc::new(store));
                active.data = data;
            }
            Ok(Ok(None)) => {}
            Ok(Err(error)) => {
                active.notices.cache =
                    Some(error.notice(format!("No offline copy is kept: {}.", error.clause())));
            }
            Err(_) => {
                active.notices.cache = Some(Notice::new("The offline copy could not be read."));
            }
        }
    }
}

/// A profile just opened: nothing loaded, nobody signed in, online until a request says
/// otherwise.
pub(super) fn placeholder(profile: &Profile) -> Active {
    Active {
        org: muster_org(profile),
        profile: profile.clone(),
        store: None,
        data: Data::empty(),
        session: Session::default(),
        link: Link::default(),
        notices: Notices::default(),
    }
}

pub(super) fn muster_org(profile: &Profile) -> Option<String> {
    match &profile.kind {
        ProfileKind::Muster { org } => Some(org.clone()),
        ProfileKind::Scim => None,
    }
}

/// Whose offline copy the active profile shows: the profile's name, with the other
/// organisation a system admin switched to (none for the profile's own).
pub(super) fn copy_names(active: &Active) -> (String, Option<String>) {
    let org = match (&active.org, muster_org(&active.profile)) {
        (Some(org), Some(own)) if *org != own => Some(org.clone()),
        _ => None,
    };
    (active.profile.name.clone(), org)
}

pub(super) fn profile_views(profiles: &Profiles) -> Vec<ProfileView> {
    let default = profiles.default().map(|p| p.name.clone());
    profiles
        .list()
        .iter()
        .map(|p| profile_view(p, default.as_deref()))
        .collect()
}

pub(super) fn profile_view(profile: &Profile, default: Option<&str>) -> ProfileView {
    ProfileView {
        name: profile.name.clone(),
        kind: match profile.kind {
            ProfileKind::Muster { .. } => ServerKindView::Muster,
            ProfileKind::Scim => ServerKindView::Scim,
        },
        url: profile.url.clone(),
        org: muster_org(profile),
        is_default: default == Some(profile.name.as_str()),
    }
}
