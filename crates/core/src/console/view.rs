//! What the console hands a user interface and takes from it: plain, serialisable shapes
//! with no secrets in any reply. With the `specta` feature each derives `specta::Type`, so
//! the desktop app generates its TypeScript types from these definitions.

use muster_scim::user::{InvitationState, User};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

#[cfg(feature = "specta")]
use specta::Type;

use crate::error::Notice;
use crate::rules::{FieldLock, Offer, UserAction};

mod feature;
pub use feature::{FeatureName, ProviderFeature};

/// A saved connection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(Type))]
#[serde(rename_all = "camelCase")]
pub struct ProfileView {
    /// Unique name.
    pub name: String,
    /// A Muster server, or any SCIM provider.
    pub kind: ServerKindView,
    /// The server's URL (a SCIM provider's base URL).
    pub url: String,
    /// The organisation, for Muster servers.
    pub org: Option<String>,
    /// Opened first when the app starts.
    pub is_default: bool,
}

/// Which kind of server a profile talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(Type))]
#[serde(rename_all = "camelCase")]
pub enum ServerKindView {
    /// A Muster server: password sign-in, account actions.
    Muster,
    /// Any SCIM 2.0 provider: an API token.
    Scim,
}

/// A profile to add or change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(Type))]
#[serde(rename_all = "camelCase")]
pub struct ProfileInput {
    /// Unique name (fixed once created).
    pub name: String,
    /// Server kind.
    pub kind: ServerKindView,
    /// URL.
    pub url: String,
    /// Organisation (Muster servers).
    pub org: Option<String>,
    /// Make it the default.
    pub make_default: bool,
}

/// Where the console is: the screen follows from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(Type))]
#[serde(rename_all = "camelCase")]
pub enum Phase {
    /// No profile is open.
    NoProfile,
    /// A profile is open, nobody is signed in (cached data may still be shown).
    SignedOut,
    /// The password was right; the TOTP code is awaited.
    MfaRequired,
    /// Signed in (online or offline).
    Ready,
}

/// Who is signed in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(Type))]
#[serde(rename_all = "camelCase")]
pub struct AccountView {
    /// Their user id (or system admin id).
    pub id: String,
    /// Their name.
    pub display_name: String,
    /// admin, technician or viewer.
    pub role: String,
    /// Reaches every organisation.
    pub system_admin: bool,
}

/// Whether something can be used, and why not.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(Type))]
#[serde(rename_all = "camelCase")]
pub struct FeatureView {
    /// Which feature.
    pub name: FeatureName,
    /// Whether it can be used.
    pub available: bool,
    /// Why not, in words for people.
    pub reason: Option<String>,
}

/// A value a form offers, with its words for people.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(Type))]
#[serde(rename_all = "camelCase")]
pub struct Choice {
    /// The wire value.
    pub value: String,
    /// In words.
    pub label: String,
}

/// The values the forms offer, from the engine, so the app keeps no list of its own.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(Type))]
#[serde(rename_all = "camelCase")]
pub struct Choices {
    /// Licences (`field`, `desk`…).
    pub licences: Vec<String>,
    /// Roles (`admin`, `technician`, `viewer`).
    pub roles: Vec<String>,
    /// The kinds of responsibility a deactivation hands over.
    pub responsibility_kinds: Vec<Choice>,
    /// The per-user permissions the provider offers, as it words them (empty when it
    /// offers none): the form's toggles.
    pub permissions: Vec<PermissionChoice>,
    /// The largest photo file the provider takes, in bytes; `None` when it takes none
    /// (the form then has no photo field).
    pub photo_max_bytes: Option<u32>,
    /// What the photo field says it takes ("PNG or JPEG, up to 5 MB."), with it.
    pub photo_hint: Option<String>,
}

/// A per-user permission the form offers as a toggle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(Type))]
#[serde(rename_all = "camelCase")]
pub struct PermissionChoice {
    /// The value (`viewPricing`).
    pub value: String,
    /// A few words for the toggle.
    pub label: String,
    /// What it allows.
    pub description: String,
}

impl Choices {
    /// What this version of the engine knows, with the permissions the provider offers
    /// (none before its offer is first read).
    pub fn of(capabilities: Option<&crate::discovery::Capabilities>) -> Self {
        Self {
            permissions: capabilities
                .map_or(&[][..], |c| c.permissions.as_slice())
                .iter()
                .map(|p| PermissionChoice {
                    value: p.name.clone(),
                    label: p.label.clone(),
                    description: p.description.clone(),
                })
                .collect(),
            photo_max_bytes: capabilities
                .and_then(|c| c.photo_max_bytes)
                .map(|max| u32::try_from(max).unwrap_or(u32::MAX)),
            photo_hint: capabilities
                .and_then(|c| c.photo_max_bytes)
                .map(crate::photos::hint),
            ..Self::known()
        }
    }

    /// What this version of the engine knows (no provider's permissions).
    pub fn known() -> Self {
        let owned = |values: &[&str]| values.iter().map(|v| (*v).to_owned()).collect();
        Self {
            licences: owned(muster_scim::user::Licence::KNOWN),
            roles: owned(muster_scim::user::Role::KNOWN),
            responsibility_kinds: crate::actions::ResponsibilityKind::ALL
                .iter()
                .map(|kind| Choice {
                    value: kind.name().to_owned(),
                    label: kind.label().to_owned(),
                })
                .collect(),
            permissions: Vec::new(),
            photo_max_bytes: None,
            photo_hint: None,
        }
    }
}

/// The console's state, returned by every command that changes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(Type))]
#[serde(rename_all = "camelCase")]
pub struct StatusView {
    /// Where the console is.
    pub phase: Phase,
    /// The open profile.
    pub profile: Option<ProfileView>,
    /// The organisation shown (a system admin may switch it).
    pub org: Option<String>,
    /// Who is signed in.
    pub account: Option<AccountView>,
    /// Whether the server answered the last request.
    pub online: bool,
    /// Why the console is offline: "Cannot reach muster.example.", with the cause.
    pub offline_reason: Option<Notice>,
    /// When the cached data was last synced (RFC 3339), if there is any.
    pub synced_at: Option<String>,
    /// Cached users.
    pub user_count: u32,
    /// Cached groups.
    pub group_count: u32,
    /// Whether changes are refused (viewer role, support staff, or offline).
    pub read_only: bool,
    /// Why, in words.
    pub read_only_reason: Option<String>,
    /// Why the signed-in account sees no users here at all, if so (technicians: the
    /// server refuses them user reads), as of their sign-in: the app does not sync by
    /// itself then; a sync asks the server, whose answer stands (a role changed since).
    pub no_access_reason: Option<String>,
    /// What the server supports, each with the reason when not.
    pub features: Vec<FeatureView>,
    /// A notice about the offline copy (discarded, cannot be kept, or not saved), if any.
    pub cache_notice: Option<Notice>,
    /// A notice about the session (kept for this session only as the keychain cannot be
    /// reached, or ended by the server), if any.
    pub session_notice: Option<Notice>,
    /// What the last sync could not read of what the server sent, if anything.
    pub sync_notice: Option<Notice>,
    /// The server asked the signed-in person to choose a new password.
    pub must_change_password: bool,
    /// The organisation requires two-factor for admins, and this one has not set it up:
    /// that comes first.
    pub mfa_enrollment_required: bool,
    /// The values the forms offer.
    pub choices: Choices,
}

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

/// The editable fields of a user, for create and edit.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(Type))]
#[serde(default, rename_all = "camelCase")]
pub struct UserInput {
    /// Sign-in name (usually the email).
    pub user_name: String,
    /// Given name.
    pub given_name: String,
    /// Family name.
    pub family_name: String,
    /// Email.
    pub email: String,
    /// Phone.
    pub phone: Option<String>,
    /// Job role.
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
    /// Branches.
    pub branches: Vec<String>,
    /// Permissions granted beyond the role (those the provider offers).
    pub permissions: Vec<String>,
}

/// What the create form learns about an email address as it is typed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(Type))]
#[serde(rename_all = "camelCase")]
pub struct EmailCheck {
    /// Whether it is a usable address.
    pub valid: bool,
    /// What is wrong, or a warning.
    pub message: Option<String>,
    /// Who already uses it (name), from the cached users.
    pub taken_by: Option<String>,
    /// A free address for a second account of the same person (`name+contractor@…`).
    pub suggestion: Option<String>,
}

/// What the user form learns as it is typed, from the engine: each field's problem, and a
/// free sign-in name made from the person's name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(Type))]
#[serde(rename_all = "camelCase")]
pub struct InputCheck {
    /// Each field's problem, in the form's order (the same the save would be refused
    /// with before sending).
    pub fields: Vec<crate::error::FieldError>,
    /// The first initial and last name (`jsmith`), numbered when the copy has it taken
    /// (`jsmith2`); `None` when the names make none.
    pub user_name: Option<String>,
}

/// The organisation's password rules, for checking as the admin types.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(Type))]
#[serde(rename_all = "camelCase")]
pub struct PasswordPolicyView {
    /// `shop` or `nist`.
    pub style: String,
    /// Fewest characters.
    pub min_length: u32,
    /// Most characters.
    pub max_length: u32,
    /// Needs an upper-case letter.
    pub require_upper: bool,
    /// Needs a lower-case letter.
    pub require_lower: bool,
    /// Needs a digit.
    pub require_digit: bool,
    /// Needs a symbol.
    pub require_special: bool,
    /// Common passwords are refused (the server checks this one).
    pub deny_common_passwords: bool,
    /// The rules in words.
    pub rules: Vec<String>,
}

/// An account action without inputs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(Type))]
#[serde(rename_all = "camelCase")]
pub enum SimpleAction {
    /// Send or resend the invitation.
    SendWelcome,
    /// Email a password-reset link.
    SendPasswordReset,
    /// Email a sign-in link.
    SendMagicLink,
    /// Suspend (signs them out now).
    Suspend,
    /// Lift a suspension.
    Unsuspend,
    /// Sign out everywhere.
    RevokeSessions,
    /// Clear two-factor.
    ResetMfa,
    /// Undo a deactivation.
    Reactivate,
    /// Undo a deletion (system admins).
    Restore,
}

/// One kind of responsibility a user holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(Type))]
#[serde(rename_all = "camelCase")]
pub struct ResponsibilityView {
    /// The kind (`defaultTechnician`…).
    pub kind: String,
    /// How many.
    pub count: u32,
    /// In words.
    pub label: String,
}

/// Someone who can take over responsibilities.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(Type))]
#[serde(rename_all = "camelCase")]
pub struct AssigneeView {
    /// User id.
    pub id: String,
    /// Name.
    pub display_name: String,
    /// Sign-in name.
    pub user_name: String,
}

/// Who takes over one kind of responsibility.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(Type))]
#[serde(rename_all = "camelCase")]
pub struct Handover {
    /// The kind (as in [`ResponsibilityView::kind`]).
    pub kind: String,
    /// The user taking it over.
    pub user_id: String,
}

pub use crate::audit::{AuditEntryView, AuditPage, AuditQuery};

/// An organisation a system admin can open.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(Type))]
#[serde(rename_all = "camelCase")]
pub struct OrgView {
    /// Id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Users.
    pub user_count: u32,
    /// Starred by this admin.
    pub favourite: bool,
}

/// How far a sync has got.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(Type))]
#[serde(rename_all = "camelCase")]
pub struct SyncProgressView {
    /// users, groups, changes, ids, or saving (the new copy is on show, its file being
    /// written).
    pub phase: String,
    /// Fetched so far in this phase.
    pub fetched: u32,
    /// How many there are, when known.
    pub total: Option<u32>,
}

/// RFC 3339 text of a time.
pub(crate) fn stamp(at: OffsetDateTime) -> String {
    at.format(&Rfc3339).unwrap_or_default()
}

pub(crate) fn clamp(n: impl TryInto<u32>) -> u32 {
    n.try_into().unwrap_or(u32::MAX)
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
pub(crate) fn invitation_label(
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
