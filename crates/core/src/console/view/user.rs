//! What the users table and a user's page show of a user, made from a `User` and the
//! clock: the row, the detail (with what could not be read), the invitation in words.

use muster_scim::user::{InvitationState, User};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

#[cfg(feature = "specta")]
use specta::Type;

use super::stamp;
use crate::rules::{FieldLock, Offer, UserAction};

/// One row of the users table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(Type))]
#[serde(rename_all = "camelCase")]
pub struct UserRow {
    /// User id.
    pub id: String,
    /// Name to show.
    pub name: String,
    /// Primary email.
    pub email: Option<String>,
    /// Sign-in name.
    pub user_name: String,
    /// Phone.
    pub phone: Option<String>,
    /// Role.
    pub role: Option<String>,
    /// Licence.
    pub licence: Option<String>,
    /// Account status.
    pub status: String,
    /// Home branch.
    pub branch: Option<String>,
    /// Security group.
    pub security_group: Option<String>,
    /// Zones.
    pub zones: Vec<String>,
    /// Last sign-in (RFC 3339).
    pub last_sign_in_at: Option<String>,
    /// How they last signed in.
    pub last_sign_in_method: Option<String>,
    /// The invitation's state now: pending, expired or accepted.
    pub invitation_state: Option<String>,
    /// When the invitation's link expires (RFC 3339).
    pub invitation_expires_at: Option<String>,
    /// The invitation for people, as of now: "expires in 5 h", "expired 2 days ago".
    pub invitation_label: Option<String>,
    /// Two-factor on.
    pub mfa_enabled: Option<bool>,
    /// One or two letters to show where there is no photo.
    pub initials: String,
    /// The user has a photo (`Console::photos` reads it).
    pub has_photo: bool,
}

/// A window of the users table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(Type))]
#[serde(rename_all = "camelCase")]
pub struct UserWindow {
    /// Matching users in all.
    pub total: u32,
    /// Users who match but are left out (deactivated, with `hide_deactivated`).
    pub hidden: u32,
    /// The first row's position.
    pub offset: u32,
    /// The rows.
    pub rows: Vec<UserRow>,
}

/// A filter value with how many cached users hold it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(Type))]
#[serde(rename_all = "camelCase")]
pub struct FacetValue {
    /// The value (wire form).
    pub value: String,
    /// Users holding it.
    pub count: u32,
}

/// The values each filter chip offers, from the cached users.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(Type))]
#[serde(rename_all = "camelCase")]
pub struct Facets {
    /// Roles.
    pub roles: Vec<FacetValue>,
    /// Licences.
    pub licences: Vec<FacetValue>,
    /// Statuses.
    pub statuses: Vec<FacetValue>,
    /// Branches (home or worked for).
    pub branches: Vec<FacetValue>,
    /// Zones.
    pub zones: Vec<FacetValue>,
    /// Security groups.
    pub security_groups: Vec<FacetValue>,
    /// Service groups.
    pub service_groups: Vec<FacetValue>,
    /// Sign-in methods.
    pub sign_in_methods: Vec<FacetValue>,
    /// Invitation states.
    pub invitation_states: Vec<FacetValue>,
}

/// An invitation's state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(Type))]
#[serde(rename_all = "camelCase")]
pub struct InvitationView {
    /// pending, accepted or expired, as of now.
    pub state: Option<String>,
    /// The same for people, with the time: "expires in 5 h", "expired 2 days ago".
    pub label: Option<String>,
    /// When it was sent (RFC 3339).
    pub sent_at: Option<String>,
    /// When its link expires (RFC 3339).
    pub expires_at: Option<String>,
}

/// Everything the detail screen shows about one user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(Type))]
#[serde(rename_all = "camelCase")]
pub struct UserDetail {
    /// User id.
    pub id: String,
    /// The version to send back with a change (ETag).
    pub version: Option<String>,
    /// Sign-in name.
    pub user_name: String,
    /// Given name.
    pub given_name: Option<String>,
    /// Family name.
    pub family_name: Option<String>,
    /// Name to show.
    pub display_name: String,
    /// One or two letters to show where there is no photo.
    pub initials: String,
    /// The user has a photo (`Console::photos` reads it).
    pub has_photo: bool,
    /// Primary email.
    pub email: Option<String>,
    /// Phone.
    pub phone: Option<String>,
    /// Job role (free text).
    pub job_role: Option<String>,
    /// Licence.
    pub licence: Option<String>,
    /// Role.
    pub role: Option<String>,
    /// Security group.
    pub security_group: Option<String>,
    /// Service groups.
    pub service_groups: Vec<String>,
    /// Zones.
    pub zones: Vec<String>,
    /// Home branch.
    pub home_branch: Option<String>,
    /// Branches worked for.
    pub branches: Vec<String>,
    /// Permissions granted beyond the role (`viewPricing`…).
    pub permissions: Vec<String>,
    /// Account status.
    pub status: String,
    /// Invitation.
    pub invitation: Option<InvitationView>,
    /// Last sign-in time (RFC 3339).
    pub last_sign_in_at: Option<String>,
    /// Last sign-in method.
    pub last_sign_in_method: Option<String>,
    /// Two-factor on.
    pub mfa_enabled: Option<bool>,
    /// Sessions open now.
    pub active_sessions: Option<u32>,
    /// SCIM groups (names).
    pub groups: Vec<String>,
    /// Created (RFC 3339).
    pub created: Option<String>,
    /// Last changed (RFC 3339).
    pub last_modified: Option<String>,
    /// This is the signed-in person.
    pub is_self: bool,
    /// Read from the offline copy (the server could not be reached).
    pub from_cache: bool,
    /// What can be done to this user, each available or not with the reason (the
    /// engine's [`rules`](crate::rules) decide; the screen renders them).
    pub actions: Vec<Offer>,
    /// Said once when the provider has no account actions at all.
    pub actions_note: Option<String>,
    /// Form fields the signed-in account may not change for this user, with why.
    pub locked_fields: Vec<FieldLock>,
    /// What the write that gave this detail did, as the server answered; `None` for a
    /// plain read.
    pub outcome: Option<OutcomeView>,
    /// Attributes the server sent for this user that could not be read, so are not
    /// shown (they are kept as sent, and never written back).
    pub unread: Vec<UnreadView>,
}

/// An attribute of a user that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(Type))]
#[serde(rename_all = "camelCase")]
pub struct UnreadView {
    /// Its name as the server sent it: `active`, or `urn:…:User:status` in an extension.
    pub attribute: String,
    /// Why, for people: "attribute \"active\" must be a boolean (true or false), got the
    /// string \"maybe\"".
    pub reason: String,
}

/// What a write did, in words, once the server answered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(Type))]
#[serde(rename_all = "camelCase")]
pub struct OutcomeView {
    /// For people: "Jane Doe is signed out of 3 sessions."
    pub message: String,
    /// Everything asked for was done; `false` when part of it failed (the message says
    /// which, and why).
    pub complete: bool,
    /// The action to offer again for the part that failed.
    pub retry: Option<UserAction>,
}

fn phone_of(user: &User) -> Option<String> {
    user.shop
        .as_ref()
        .and_then(|s| s.phone.clone())
        .or_else(|| user.phone_numbers.iter().find_map(|p| p.value.clone()))
}

impl UserRow {
    /// The row for `user` at `now`.
    pub fn of(user: &User, now: OffsetDateTime) -> Self {
        let shop = user.shop.as_ref();
        let last = shop.and_then(|s| s.last_sign_in.as_ref());
        let invitation = invitation_of(user, now);
        Self {
            id: user.id.clone().unwrap_or_default(),
            name: user.display_name().into_owned(),
            email: user.primary_email().map(str::to_owned),
            user_name: user.user_name.clone(),
            phone: phone_of(user),
            role: shop
                .and_then(|s| s.role.as_ref())
                .map(|r| r.as_str().to_owned()),
            licence: shop
                .and_then(|s| s.licence.as_ref())
                .map(|l| l.as_str().to_owned()),
            status: user.status_name().to_owned(),
            branch: shop.and_then(|s| s.home_branch.clone()),
            security_group: shop.and_then(|s| s.security_group.clone()),
            zones: shop.map(|s| s.zones.clone()).unwrap_or_default(),
            last_sign_in_at: last.and_then(|l| l.at).map(stamp),
            last_sign_in_method: last
                .and_then(|l| l.method.as_ref())
                .map(|m| m.as_str().to_owned()),
            invitation_state: invitation.as_ref().and_then(|i| i.state.clone()),
            invitation_expires_at: invitation.as_ref().and_then(|i| i.expires_at.clone()),
            invitation_label: invitation.and_then(|i| i.label),
            mfa_enabled: shop.and_then(|s| s.mfa_enabled),
            initials: crate::photos::initials(user),
            has_photo: crate::photos::photo_url(user).is_some(),
        }
    }
}

/// The invitation of `user` as it stands at `now`, if one was sent.
fn invitation_of(user: &User, now: OffsetDateTime) -> Option<InvitationView> {
    let invitation = user.shop.as_ref()?.invitation.as_ref()?;
    let state = user.invitation_state(now);
    Some(InvitationView {
        label: state
            .as_ref()
            .map(|state| invitation_label(state, invitation.expires_at, now)),
        state: state.map(|s| s.as_str().to_owned()),
        sent_at: invitation.sent_at.map(stamp),
        expires_at: invitation.expires_at.map(stamp),
    })
}

/// An invitation for people, with the time left or gone: "expires in 5 h", "expired 2
/// days ago", "accepted".
fn invitation_label(
    state: &InvitationState,
    expires: Option<OffsetDateTime>,
    now: OffsetDateTime,
) -> String {
    match (state, expires) {
        (InvitationState::Pending, Some(at)) => format!("expires in {}", span(at - now)),
        (InvitationState::Expired, Some(at)) => format!("expired {} ago", span(now - at)),
        (state, _) => state.as_str().to_owned(),
    }
}

/// A length of time in the largest unit that fits: "45 min", "5 h", "2 days".
fn span(length: time::Duration) -> String {
    let minutes = length.whole_minutes().max(0);
    match minutes {
        0 => "less than a minute".to_owned(),
        1..=59 => format!("{minutes} min"),
        60..=2879 => format!("{} h", minutes / 60),
        _ => format!("{} days", minutes / (60 * 24)),
    }
}

impl UserDetail {
    /// The detail of `user` at `version` and `now`; `me` is the signed-in person's id.
    /// Its actions are left empty for the console to fill in.
    pub fn of(
        user: &User,
        version: Option<String>,
        me: Option<&str>,
        from_cache: bool,
        now: OffsetDateTime,
    ) -> Self {
        let shop = user.shop.as_ref();
        let last = shop.and_then(|s| s.last_sign_in.as_ref());
        let id = user.id.clone().unwrap_or_default();
        Self {
            is_self: me.is_some_and(|me| me == id),
            id,
            version: version.or_else(|| user.meta.as_ref().and_then(|m| m.version.clone())),
            user_name: user.user_name.clone(),
            given_name: user.name.as_ref().and_then(|n| n.given_name.clone()),
            family_name: user.name.as_ref().and_then(|n| n.family_name.clone()),
            display_name: user.display_name().into_owned(),
            initials: crate::photos::initials(user),
            has_photo: crate::photos::photo_url(user).is_some(),
            email: user.primary_email().map(str::to_owned),
            phone: phone_of(user),
            job_role: shop
                .and_then(|s| s.job_role.clone())
                .or_else(|| user.title.clone()),
            licence: shop
                .and_then(|s| s.licence.as_ref())
                .map(|l| l.as_str().to_owned()),
            role: shop
                .and_then(|s| s.role.as_ref())
                .map(|r| r.as_str().to_owned()),
            security_group: shop.and_then(|s| s.security_group.clone()),
            service_groups: shop.map(|s| s.service_groups.clone()).unwrap_or_default(),
            zones: shop.map(|s| s.zones.clone()).unwrap_or_default(),
            home_branch: shop.and_then(|s| s.home_branch.clone()),
            branches: shop.map(|s| s.branches.clone()).unwrap_or_default(),
            permissions: shop.map(|s| s.permissions.clone()).unwrap_or_default(),
            status: user.status_name().to_owned(),
            invitation: invitation_of(user, now),
            last_sign_in_at: last.and_then(|l| l.at).map(stamp),
            last_sign_in_method: last
                .and_then(|l| l.method.as_ref())
                .map(|m| m.as_str().to_owned()),
            mfa_enabled: shop.and_then(|s| s.mfa_enabled),
            active_sessions: shop.and_then(|s| s.active_sessions),
            groups: user
                .groups
                .iter()
                .filter_map(|g| g.display.clone().or_else(|| g.value.clone()))
                .collect(),
            created: user.meta.as_ref().and_then(|m| m.created).map(stamp),
            last_modified: user.meta.as_ref().and_then(|m| m.last_modified).map(stamp),
            from_cache,
            actions: Vec::new(),
            actions_note: None,
            locked_fields: Vec::new(),
            outcome: None,
            unread: user
                .unread
                .iter()
                .map(|unread| UnreadView {
                    attribute: unread.attribute.clone(),
                    reason: unread.reason.clone(),
                })
                .collect(),
        }
    }
}
