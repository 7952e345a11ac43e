//! The features the app asks the provider about, by name.

use serde::{Deserialize, Serialize};
#[cfg(feature = "specta")]
use specta::Type;

use crate::discovery::Feature;
use crate::rules::UserAction;

/// A feature the app asks the provider about: one of the provider's features or screens,
/// or an account action by its name (`suspend`…, as [`UserAction`] names it). An enum, so a
/// misspelt feature is a compile error on either side rather than one that silently reads
/// as missing. On the wire it is the bare name: `"patch"`, `"api-tokens"`, `"suspend"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(Type))]
#[serde(untagged)]
pub enum FeatureName {
    /// A feature or screen of the provider.
    Provider(ProviderFeature),
    /// An account action (every one but `edit`, which the rules decide from PATCH and the
    /// role: [`offers`](crate::rules::offers)).
    Action(UserAction),
}

/// A feature or screen of the provider, beside its account actions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(Type))]
#[serde(rename_all = "kebab-case")]
pub enum ProviderFeature {
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
}

impl ProviderFeature {
    /// Every one, in the order the status lists them.
    pub const ALL: [Self; 9] = [
        Self::Patch,
        Self::Etag,
        Self::Groups,
        Self::Bulk,
        Self::Shop,
        Self::Audit,
        Self::ApiTokens,
        Self::Settings,
        Self::Organisations,
    ];
}

impl From<ProviderFeature> for FeatureName {
    fn from(feature: ProviderFeature) -> Self {
        Self::Provider(feature)
    }
}

impl FeatureName {
    /// Every feature, in the order the status lists them: the provider's, then the
    /// account actions in the order a Muster server lists them.
    pub fn all() -> impl Iterator<Item = Self> {
        let actions = crate::actions::Action::NAMES
            .into_iter()
            .filter_map(UserAction::from_name);
        (ProviderFeature::ALL.into_iter().map(Self::Provider)).chain(actions.map(Self::Action))
    }

    /// Whether only an organisation's admins (and system admins) may use it: the
    /// screens that administer the organisation rather than its users.
    pub fn admins_only(self) -> bool {
        matches!(
            self,
            Self::Provider(ProviderFeature::ApiTokens | ProviderFeature::Settings)
        )
    }

    /// Whether only system admins may use it: the screens that administer the server.
    pub fn system_admins_only(self) -> bool {
        self == Self::Provider(ProviderFeature::Organisations)
    }

    /// The capability it asks about.
    pub fn feature(self) -> Feature {
        let feature = match self {
            Self::Action(action) => return Feature::Action(action.name().to_owned()),
            Self::Provider(feature) => feature,
        };
        match feature {
            ProviderFeature::Patch => Feature::Patch,
            ProviderFeature::Etag => Feature::Etag,
            ProviderFeature::Groups => Feature::Groups,
            ProviderFeature::Bulk => Feature::Bulk,
            ProviderFeature::Shop => Feature::ShopFields,
            ProviderFeature::Audit => Feature::AuditLog,
            ProviderFeature::ApiTokens => Feature::ApiTokens,
            ProviderFeature::Settings => Feature::OrgSettings,
            ProviderFeature::Organisations => Feature::Organisations,
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
            let feature =
                FeatureName::all().find(|f| f.feature() == Feature::Action(name.to_owned()));
            let Some(feature) = feature else {
                panic!("no feature asks about the action {name}");
            };
            assert_eq!(
                serde_json::to_value(feature).ok(),
                Some(serde_json::Value::String(name.to_owned())),
                "the app names the feature as the server names the action"
            );
        }
        assert_eq!(FeatureName::all().count(), 9 + Action::NAMES.len());
    }

    #[test]
    fn the_status_lists_the_features_in_their_order() {
        let names: Vec<String> = FeatureName::all()
            .map(|f| {
                serde_json::to_value(f)
                    .unwrap()
                    .as_str()
                    .unwrap()
                    .to_owned()
            })
            .collect();
        assert_eq!(
            names,
            [
                "patch",
                "etag",
                "groups",
                "bulk",
                "shop",
                "audit",
                "api-tokens",
                "settings",
                "organisations",
                "send-welcome",
                "send-password-reset",
                "send-magic-link",
                "set-password",
                "suspend",
                "unsuspend",
                "revoke-sessions",
                "reset-mfa",
                "deactivate",
                "reactivate",
                "delete",
                "restore",
            ]
        );
    }

    #[test]
    fn a_feature_is_its_bare_name_on_the_wire() {
        for feature in FeatureName::all() {
            let text = serde_json::to_value(feature).unwrap();
            assert!(text.is_string(), "{text}");
            assert_eq!(
                serde_json::from_value::<FeatureName>(text).ok(),
                Some(feature)
            );
        }
        assert_eq!(
            serde_json::to_value(FeatureName::from(ProviderFeature::ApiTokens)).ok(),
            Some(serde_json::json!("api-tokens"))
        );
        assert!(serde_json::from_value::<FeatureName>(serde_json::json!("suspnd")).is_err());
    }
}
