//! The features the app asks the provider about, by name.

use serde::{Deserialize, Serialize};
#[cfg(feature = "specta")]
use specta::Type;

use crate::discovery::Feature;

/// A feature the app asks the provider about: a protocol feature, or an account action
/// by its name. An enum, so a misspelt feature is a compile error on either side rather
/// than one that silently reads as missing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(Type))]
#[serde(rename_all = "kebab-case")]
pub enum FeatureName {
    /// PATCH of users and groups.
    Patch,
    /// ETags (versions) for safe concurrent edits.
    Etag,
    /// The Groups endpoint.
    Groups,
    /// `/Bulk`.
    Bulk,
    /// Muster's shop fields (licence, role, branches, zones…).
    Shop,
    /// The organisation's audit log.
    Audit,
    /// The organisation's API tokens (admins only).
    ApiTokens,
    /// The organisation's settings (admins only).
    Settings,
    /// The server's organisations (system admins only).
    Organisations,
    /// Send (or resend) the invitation.
    SendWelcome,
    /// Email a password-reset link.
    SendPasswordReset,
    /// Email a one-time sign-in link.
    SendMagicLink,
    /// Set a password for someone.
    SetPassword,
    /// Suspend an account.
    Suspend,
    /// Lift a suspension.
    Unsuspend,
    /// End every session of an account.
    RevokeSessions,
    /// Clear an account's two-factor set-up.
    ResetMfa,
    /// Deactivate, handing responsibilities over.
    Deactivate,
    /// Reactivate a deactivated account.
    Reactivate,
    /// Delete an account.
    Delete,
    /// Restore a deleted account.
    Restore,
}

impl FeatureName {
    /// Every feature, in the order the status lists them.
    pub const ALL: [Self; 21] = [
        Self::Patch,
        Self::Etag,
        Self::Groups,
        Self::Bulk,
        Self::Shop,
        Self::Audit,
        Self::ApiTokens,
        Self::Settings,
        Self::Organisations,
        Self::SendWelcome,
        Self::SendPasswordReset,
        Self::SendMagicLink,
        Self::SetPassword,
        Self::Suspend,
        Self::Unsuspend,
        Self::RevokeSessions,
        Self::ResetMfa,
        Self::Deactivate,
        Self::Reactivate,
        Self::Delete,
        Self::Restore,
    ];

    /// Whether only an organisation's admins (and system admins) may use it: the
    /// screens that administer the organisation rather than its users.
    pub fn admins_only(self) -> bool {
        matches!(self, Self::ApiTokens | Self::Settings)
    }

    /// Whether only system admins may use it: the screens that administer the server.
    pub fn system_admins_only(self) -> bool {
        matches!(self, Self::Organisations)
    }

    /// The capability it asks about.
    pub fn feature(self) -> Feature {
        let action = |name: &str| Feature::Action(name.to_owned());
        match self {
            Self::Patch => Feature::Patch,
            Self::Etag => Feature::Etag,
            Self::Groups => Feature::Groups,
            Self::Bulk => Feature::Bulk,
            Self::Shop => Feature::ShopFields,
            Self::Audit => Feature::AuditLog,
            Self::ApiTokens => Feature::ApiTokens,
            Self::Settings => Feature::OrgSettings,
            Self::Organisations => Feature::Organisations,
            Self::SendWelcome => action("send-welcome"),
            Self::SendPasswordReset => action("send-password-reset"),
            Self::SendMagicLink => action("send-magic-link"),
            Self::SetPassword => action("set-password"),
            Self::Suspend => action("suspend"),
            Self::Unsuspend => action("unsuspend"),
            Self::RevokeSessions => action("revoke-sessions"),
            Self::ResetMfa => action("reset-mfa"),
            Self::Deactivate => action("deactivate"),
            Self::Reactivate => action("reactivate"),
            Self::Delete => action("delete"),
            Self::Restore => action("restore"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::actions::Action;

    #[test]
    fn every_account_action_is_a_feature_by_its_own_name() {
        for name in Action::NAMES {
            let feature = FeatureName::ALL
                .into_iter()
                .find(|f| f.feature() == Feature::Action(name.to_owned()));
            let Some(feature) = feature else {
                panic!("no feature asks about the action {name}");
            };
            assert_eq!(
                serde_json::to_value(feature).ok(),
                Some(serde_json::Value::String(name.to_owned())),
                "the app names the feature as the server names the action"
            );
        }
        assert_eq!(FeatureName::ALL.len(), 9 + Action::NAMES.len());
    }
}
