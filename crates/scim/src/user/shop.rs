//! Muster's shop extension of User, keyed by [`urn::SHOP_USER`](crate::urn::SHOP_USER):
//! licence, role, where the person works, and the account state the server maintains.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::Extra;
use crate::lenient::{self, open_enum};

/// Muster's shop extension of User.
///
/// The enumerated values (licence, role, status, invitation state, sign-in method) are
/// open enums: known values parse in any case and are written canonically, while a value
/// this version does not know is kept in `Other` instead of failing the whole user, so a
/// client keeps working against a newer server.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ShopUser {
    /// Product licence.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub licence: Option<Licence>,
    /// Role in the shop software.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<Role>,
    /// Security group.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub security_group: Option<String>,
    /// Service groups, e.g. `Sprinkler`, `Electrical`.
    #[serde(
        default,
        deserialize_with = "lenient::vec_or_null",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub service_groups: Vec<String>,
    /// Service zones.
    #[serde(
        default,
        deserialize_with = "lenient::vec_or_null",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub zones: Vec<String>,
    /// Home branch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub home_branch: Option<String>,
    /// Branches the user may work for.
    #[serde(
        default,
        deserialize_with = "lenient::vec_or_null",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub branches: Vec<String>,
    /// Job role, e.g. `Service Technician`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job_role: Option<String>,
    /// Work phone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    /// Permission flags beyond the role, e.g. `viewPricing`. Kept as strings: the set is
    /// the server's to extend.
    #[serde(
        default,
        deserialize_with = "lenient::vec_or_null",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub permissions: Vec<String>,
    /// Account state (read-only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<UserStatus>,
    /// Latest invitation (read-only).
    #[serde(
        default,
        deserialize_with = "crate::lenient::option_object",
        skip_serializing_if = "Option::is_none"
    )]
    pub invitation: Option<Invitation>,
    /// Most recent sign-in (read-only).
    #[serde(
        default,
        deserialize_with = "crate::lenient::option_object",
        skip_serializing_if = "Option::is_none"
    )]
    pub last_sign_in: Option<LastSignIn>,
    /// Whether two-factor authentication is set up (read-only).
    #[serde(
        default,
        deserialize_with = "lenient::option_bool",
        skip_serializing_if = "Option::is_none"
    )]
    pub mfa_enabled: Option<bool>,
    /// Signed-in sessions (read-only).
    #[serde(
        default,
        deserialize_with = "lenient::option_uint",
        skip_serializing_if = "Option::is_none"
    )]
    pub active_sessions: Option<u32>,
    /// Attributes this crate does not model.
    #[serde(flatten)]
    pub extra: Extra,
}

/// An invitation to sign up.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Invitation {
    /// When it was sent.
    #[serde(
        default,
        with = "lenient::datetime",
        skip_serializing_if = "Option::is_none"
    )]
    pub sent_at: Option<OffsetDateTime>,
    /// When its link expires.
    #[serde(
        default,
        with = "lenient::datetime",
        skip_serializing_if = "Option::is_none"
    )]
    pub expires_at: Option<OffsetDateTime>,
    /// Pending, accepted or expired.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<InvitationState>,
}

/// A sign-in.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LastSignIn {
    /// When.
    #[serde(
        default,
        with = "lenient::datetime",
        skip_serializing_if = "Option::is_none"
    )]
    pub at: Option<OffsetDateTime>,
    /// How.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<SignInMethod>,
}

open_enum! {
    /// A shop product licence.
    pub enum Licence {
        /// Mobile technicians.
        Field = "field",
        /// Office staff: web and app.
        Desk = "desk",
        /// Contractor portal.
        Contractor = "contractor",
        /// Customer portal.
        Customer = "customer",
        /// Integration access.
        Api = "api",
        /// Timesheets only.
        Timesheet = "timesheet",
    }
}

open_enum! {
    /// A shop role.
    pub enum Role {
        /// Everything, including user management.
        Admin = "admin",
        /// Day-to-day work, no user management.
        Technician = "technician",
        /// Read only.
        Viewer = "viewer",
    }
}

impl Licence {
    /// The role this licence is for, if it is for one: the field licence is for
    /// technicians (the shop products' seed rule: a mobile licence goes with the
    /// Technician security group, which is Muster's technician role).
    pub fn required_role(&self) -> Option<Role> {
        match self {
            Self::Field => Some(Role::Technician),
            _ => None,
        }
    }
}

/// Why `licence` and `role` do not go together, if they do not: a licence that is for one
/// role with another role or none. One sentence, naming the fix; the server refuses such a
/// user and the client says so before sending.
pub fn licence_role_conflict(licence: Option<&Licence>, role: Option<&Role>) -> Option<String> {
    let required = licence?.required_role()?;
    if role == Some(&required) {
        return None;
    }
    Some(format!(
        "The {} licence is for the {required} role: choose {required} as the role, or \
         another licence.",
        licence.map(Licence::as_str).unwrap_or_default()
    ))
}

open_enum! {
    /// An account's state.
    pub enum UserStatus {
        /// Invited, not yet signed up.
        Invited = "invited",
        /// Can sign in.
        Active = "active",
        /// Temporarily barred and signed out everywhere.
        Suspended = "suspended",
        /// Cannot sign in; data kept.
        Deactivated = "deactivated",
        /// Soft-deleted.
        Deleted = "deleted",
    }
}

open_enum! {
    /// An invitation's state.
    pub enum InvitationState {
        /// Sent, not used, not expired.
        Pending = "pending",
        /// Used to sign up.
        Accepted = "accepted",
        /// Past its expiry.
        Expired = "expired",
    }
}

open_enum! {
    /// How a user signed in.
    pub enum SignInMethod {
        /// Password.
        Password = "password",
        /// Emailed single-use link.
        MagicLink = "magic_link",
        /// Google account.
        Google = "google",
        /// Microsoft account.
        Microsoft = "microsoft",
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use serde_json::json;

    #[test]
    fn the_field_licence_goes_with_the_technician_role_only() {
        let field = Some(&Licence::Field);
        assert_eq!(licence_role_conflict(field, Some(&Role::Technician)), None);
        let admin = licence_role_conflict(field, Some(&Role::Admin)).unwrap();
        assert!(admin.contains("technician"), "{admin}");
        assert!(
            licence_role_conflict(field, None).is_some(),
            "no role is not technician"
        );
        assert_eq!(
            licence_role_conflict(Some(&Licence::Desk), Some(&Role::Viewer)),
            None
        );
        assert_eq!(licence_role_conflict(None, Some(&Role::Admin)), None);
    }

    #[test]
    fn open_enums_keep_unknown_values() {
        let shop: ShopUser =
            serde_json::from_value(json!({"licence": "Desk", "role": "owner"})).unwrap();
        assert_eq!(shop.licence, Some(Licence::Desk));
        assert_eq!(shop.role, Some(Role::Other("owner".to_owned())));
        assert_eq!(
            serde_json::to_value(&shop).unwrap(),
            json!({"licence": "desk", "role": "owner"})
        );
    }
}
