//! What the console hands a user interface and takes from it: plain, serialisable shapes
//! with no secrets in any reply. With the `specta` feature each derives `specta::Type`, so
//! the desktop app generates its TypeScript types from these definitions.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

#[cfg(feature = "specta")]
use specta::Type;

use crate::error::Notice;

mod feature;
mod user;
pub use feature::{FeatureName, ProviderFeature};
pub use user::{
    FacetValue, Facets, InvitationView, OutcomeView, UnreadView, UserDetail, UserRow, UserWindow,
};

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
