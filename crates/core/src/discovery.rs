//! What the connected provider supports, read from `/ServiceProviderConfig`, `/Schemas`,
//! `/ResourceTypes` and (Muster servers only) the `/actions` capability document, so the
//! app and the command line can hide or disable a feature and say why
//! ([`Capabilities::supports`]).
//!
//! Only `/ServiceProviderConfig` is required. Providers that do not serve `/Schemas` or
//! `/ResourceTypes` (or serve them as bare arrays, or without `totalResults`) are read as
//! listing nothing; a `404` for `/actions` means "not a Muster server, no actions".

use muster_scim::discovery::ServiceProviderConfig;
use muster_scim::user::UserStatus;
use reqwest::Method;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

use crate::client::Client;
use crate::error::Error;

/// The schema URN of Muster's `/actions` document.
pub const ACTIONS_URN: &str = "urn:muster:params:scim:api:messages:2.0:Actions";

/// Bulk limits of a provider that supports `/Bulk`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BulkLimits {
    /// Most operations in one request.
    pub max_operations: u64,
    /// Largest request, in bytes.
    pub max_payload_size: u64,
}

/// What a provider supports.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Capabilities {
    /// PATCH.
    pub patch: bool,
    /// `/Bulk`, with its limits; `None` when unsupported.
    pub bulk: Option<BulkLimits>,
    /// `filter`.
    pub filter: bool,
    /// Most results one query returns, when the provider says.
    pub max_results: Option<u64>,
    /// `sortBy`.
    pub sort: bool,
    /// Versions (`meta.version`, `If-Match`).
    pub etag: bool,
    /// Changing `password`.
    pub change_password: bool,
    /// Account actions offered (`send-welcome`, `suspend`…) with the rules the server
    /// enforces for each, from Muster's `/actions` document; empty for other providers.
    pub actions: Vec<ActionRule>,
    /// Whether this is a Muster server (it serves the `/actions` document).
    pub is_muster: bool,
    /// Schema URNs served at `/Schemas`.
    pub schemas: Vec<String>,
    /// Resource type names served at `/ResourceTypes` (`User`, `Group`).
    pub resource_types: Vec<String>,
    /// Whether system admins may list deleted users (`includeDeleted`): Muster's
    /// `/actions` document says so.
    pub list_deleted: bool,
    /// The per-user permissions the provider's software has (Muster's `/actions`
    /// document lists them with their words), in its order; empty elsewhere.
    pub permissions: Vec<PermissionInfo>,
    /// The largest profile photo the provider takes, in bytes, when it takes photos
    /// (Muster's `/actions` document offers `photo`); `None` elsewhere.
    pub photo_max_bytes: Option<u64>,
}

/// One per-user permission a provider offers, as its capability document words it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct PermissionInfo {
    /// The value in the shop extension's `permissions` (`viewPricing`).
    pub name: String,
    /// A few words for a toggle.
    pub label: String,
    /// What it allows.
    pub description: String,
}

/// Who may use an action, as the `/actions` document says.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Requires {
    /// An admin of the organisation (or a system admin).
    #[default]
    Admin,
    /// Only a system admin.
    SystemAdmin,
}

/// One account action of a Muster server and the rules the server enforces for it: the
/// statuses it applies to, who may use it, whether one may use it on oneself, and what
/// the user must have (an email address to send to, two-factor to reset).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ActionRule {
    /// `send-welcome`, `suspend`…
    pub name: String,
    /// The statuses it applies to; `None` when the server did not say (the server then
    /// decides each time).
    pub allowed_from: Option<Vec<UserStatus>>,
    /// Who may use it.
    pub requires: Requires,
    /// Why nobody may use it on their own account, when that is refused (the server's
    /// words).
    pub not_on_self: Option<String>,
    /// What the user must have: `email`, `mfaEnabled`. A need this version does not know
    /// makes the action unavailable (rather than a button the server refuses).
    pub needs: Vec<String>,
}

impl ActionRule {
    /// An action known by name only (a copy saved before servers said more): it applies
    /// to every status, and the server decides.
    pub fn named(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            allowed_from: None,
            requires: Requires::Admin,
            not_on_self: None,
            needs: Vec::new(),
        }
    }
}

impl<'de> Deserialize<'de> for ActionRule {
    /// A rule as written above, or a bare name (how earlier versions kept them).
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Full {
            name: String,
            #[serde(default)]
            allowed_from: Option<Vec<UserStatus>>,
            #[serde(default)]
            requires: Requires,
            #[serde(default = "yes")]
            on_self: bool,
            #[serde(default)]
            self_refusal: Option<String>,
            #[serde(default)]
            not_on_self: Option<String>,
            #[serde(default)]
            needs: Vec<String>,
        }
        fn yes() -> bool {
            true
        }
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Stored {
            Name(String),
            Full(Full),
        }
        Ok(match Stored::deserialize(deserializer)? {
            Stored::Name(name) => ActionRule::named(name),
            Stored::Full(full) => ActionRule {
                // The document says `onSelf` and `selfRefusal`; a saved copy says
                // `notOnSelf`.
                not_on_self: full.not_on_self.or_else(|| {
                    (!full.on_self).then(|| {
                        full.self_refusal
                            .unwrap_or_else(|| "You cannot do this to your own account.".to_owned())
                    })
                }),
                name: full.name,
                allowed_from: full.allowed_from,
                requires: full.requires,
                needs: full.needs,
            },
        })
    }
}

/// A feature the app or command line may offer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Feature {
    /// Partial updates.
    Patch,
    /// Bulk requests.
    Bulk,
    /// Server-side filtering.
    Filter,
    /// Server-side sorting.
    Sort,
    /// Versions, to detect concurrent edits.
    Etag,
    /// Changing passwords.
    ChangePassword,
    /// The `/Groups` resource.
    Groups,
    /// Muster's shop fields (licence, role, branches, zones…): the shop extension.
    ShopFields,
    /// The audit log (a Muster server keeps one; SCIM has none).
    AuditLog,
    /// API tokens of integration accounts (a Muster server's own endpoints).
    ApiTokens,
    /// The organisation's settings (a Muster server's own endpoint).
    OrgSettings,
    /// The server's organisations, for system admins (a Muster server's own endpoints).
    Organisations,
    /// An account action by name, e.g. `suspend` (see
    /// [`Action::name`](crate::actions::Action::name)).
    Action(String),
}

/// Whether a feature can be used, and if not, why, in words for people.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "supported", rename_all = "camelCase")]
pub enum Support {
    /// It can.
    Yes,
    /// It cannot.
    No {
        /// Why, for the app or command line to show.
        reason: String,
    },
}

impl Support {
    /// Whether the feature can be used.
    pub fn is_yes(&self) -> bool {
        matches!(self, Support::Yes)
    }

    /// Why not, when not.
    pub fn reason(&self) -> Option<&str> {
        match self {
            Support::Yes => None,
            Support::No { reason } => Some(reason),
        }
    }
}

impl Capabilities {
    /// Whether `feature` can be used with this provider, and why not.
    pub fn supports(&self, feature: Feature) -> Support {
        let (ok, reason) = match &feature {
            Feature::Patch => (
                self.patch,
                "This provider does not support partial updates (PATCH).",
            ),
            Feature::Bulk => (
                self.bulk.is_some(),
                "This provider does not support bulk requests.",
            ),
            Feature::Filter => (self.filter, "This provider does not support filtering."),
            Feature::Sort => (self.sort, "This provider does not support sorting."),
            Feature::Etag => (
                self.etag,
                "This provider does not support versions (ETags), so a change made by someone \
                 else meanwhile cannot be detected.",
            ),
            Feature::ChangePassword => (
                self.change_password,
                "This provider does not allow passwords to be changed.",
            ),
            Feature::Groups => (
                self.resource_types.is_empty()
                    || self
                        .resource_types
                        .iter()
                        .any(|t| t.eq_ignore_ascii_case("Group")),
                "This provider does not serve groups.",
            ),
            Feature::ShopFields => (
                self.serves_schema(muster_scim::urn::SHOP_USER),
                "This provider has no shop fields (licence, role, branches, zones): they are \
                 Muster's own extension.",
            ),
            Feature::AuditLog => (
                self.is_muster,
                "This provider keeps no audit log that Muster can read; a Muster server does.",
            ),
            Feature::ApiTokens => (
                self.is_muster,
                "This provider has no API tokens that Muster can manage; a Muster server does.",
            ),
            Feature::OrgSettings => (
                self.is_muster,
                "This provider has no organisation settings that Muster can change; a Muster \
                 server does.",
            ),
            Feature::Organisations => (
                self.is_muster,
                "This provider has no organisations that Muster can manage; a Muster server \
                 does.",
            ),
            Feature::Action(name) => return self.action_support(name),
        };
        if ok {
            Support::Yes
        } else {
            Support::No {
                reason: reason.to_owned(),
            }
        }
    }

    fn action_support(&self, name: &str) -> Support {
        if self.offers(name) {
            return Support::Yes;
        }
        let reason = if self.is_muster {
            format!("This server does not offer '{name}'.")
        } else {
            format!("This server does not offer '{name}'. Account actions need a Muster server.")
        };
        Support::No { reason }
    }

    /// [`Capabilities::supports`] as a result: `Err(Error::Unsupported)` with the reason.
    pub fn require(&self, feature: Feature) -> Result<(), Error> {
        match self.supports(feature) {
            Support::Yes => Ok(()),
            Support::No { reason } => Err(Error::Unsupported { message: reason }),
        }
    }

    /// Whether the provider takes the schema extension `urn`: it lists it at `/Schemas`;
    /// a provider that lists no schemas takes the standard enterprise extension, and
    /// Muster's shop extension only if it is a Muster server.
    pub fn serves_schema(&self, urn: &str) -> bool {
        if self
            .schemas
            .iter()
            .any(|schema| schema.eq_ignore_ascii_case(urn))
        {
            return true;
        }
        if urn == muster_scim::urn::SHOP_USER {
            return self.is_muster;
        }
        self.schemas.is_empty()
    }

    /// `user` as this provider takes it: the extensions it does not serve are left out (a
    /// provider refuses attributes it does not know).
    pub fn fit(&self, user: &mut muster_scim::user::User) {
        if !self.serves_schema(muster_scim::urn::SHOP_USER)
            && let Some(shop) = user.shop.take()
        {
            // What SCIM itself can hold stays: the phone and the job title.
            if let Some(phone) = shop.phone
                && user.phone_numbers.is_empty()
            {
                user.phone_numbers = vec![muster_scim::user::MultiValue::typed(phone, "work")];
            }
            if user.title.is_none() {
                user.title = shop.job_role;
            }
        }
        if !self.serves_schema(muster_scim::urn::ENTERPRISE_USER) {
            user.enterprise = None;
        }
    }

    /// Whether the server offers the action called `name`.
    pub fn offers(&self, name: &str) -> bool {
        self.action(name).is_some()
    }

    /// The server's rules for the action called `name`, if it offers it.
    pub fn action(&self, name: &str) -> Option<&ActionRule> {
        self.actions.iter().find(|action| action.name == name)
    }
}

impl Client {
    /// Reads what the provider supports. The four documents are fetched at once.
    pub async fn discover(&self) -> Result<Capabilities, Error> {
        let (config, schemas, types, actions) = tokio::join!(
            self.discovery_get("/ServiceProviderConfig"),
            self.discovery_get("/Schemas"),
            self.discovery_get("/ResourceTypes"),
            self.discovery_get("/actions"),
        );
        let config: ServiceProviderConfig = serde_json::from_value(config?).map_err(|e| {
            Error::protocol(
                format!("the ServiceProviderConfig could not be read ({e})"),
                b"",
            )
        })?;
        let actions = optional(actions)?;
        let mut capabilities = from_config(&config);
        capabilities.schemas = list_of(optional(schemas)?.as_ref(), "id");
        capabilities.resource_types = list_of(optional(types)?.as_ref(), "name");
        capabilities.is_muster = actions.as_ref().is_some_and(is_actions_document);
        capabilities.actions = actions.as_ref().map(action_rules).unwrap_or_default();
        capabilities.list_deleted = actions
            .as_ref()
            .filter(|doc| is_actions_document(doc))
            .is_some_and(|doc| doc.get("listDeleted").is_some_and(Value::is_object));
        capabilities.permissions = actions
            .as_ref()
            .filter(|doc| is_actions_document(doc))
            .map(permissions_of)
            .unwrap_or_default();
        capabilities.photo_max_bytes = actions
            .as_ref()
            .filter(|doc| is_actions_document(doc))
            .and_then(|doc| doc.pointer("/photo/maxBytes"))
            .and_then(Value::as_u64)
            .filter(|max| *max > 0);
        Ok(capabilities)
    }

    /// The actions the server's `/actions` document lists, or `None` when it serves none
    /// (not a Muster server). One request; used to explain a `404` from an action.
    pub(crate) async fn offered_actions(&self) -> Result<Option<Vec<String>>, Error> {
        let document = optional(self.discovery_get("/actions").await)?;
        Ok(document.filter(is_actions_document).map(|doc| {
            action_rules(&doc)
                .into_iter()
                .map(|rule| rule.name)
                .collect()
        }))
    }

    async fn discovery_get(&self, path: &str) -> Result<Value, Error> {
        self.send(Method::GET, path, &[], None, None, true)
            .await?
            .json()
    }
}

/// The permissions a capability document lists: each with a name (others are left out),
/// its label falling back to the name.
fn permissions_of(document: &Value) -> Vec<PermissionInfo> {
    document
        .get("permissions")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|entry| {
            let text = |key: &str| entry.get(key).and_then(Value::as_str).map(str::trim);
            let name = text("name").filter(|n| !n.is_empty())?;
            Some(PermissionInfo {
                name: name.to_owned(),
                label: text("label")
                    .filter(|l| !l.is_empty())
                    .unwrap_or(name)
                    .to_owned(),
                description: text("description").unwrap_or_default().to_owned(),
            })
        })
        .collect()
}

fn from_config(config: &ServiceProviderConfig) -> Capabilities {
    Capabilities {
        patch: config.patch.supported,
        bulk: config.bulk.supported.then_some(BulkLimits {
            max_operations: config.bulk.max_operations,
            max_payload_size: config.bulk.max_payload_size,
        }),
        filter: config.filter.supported,
        max_results: (config.filter.max_results > 0).then_some(config.filter.max_results),
        sort: config.sort.supported,
        etag: config.etag.supported,
        change_password: config.change_password.supported,
        ..Capabilities::default()
    }
}

/// A document a provider may lack: `None` when it answers that it has no such thing
/// (404, 400, 403, 405, 501, or something that is not JSON); failures that say nothing
/// about the document (offline, signed out, rate limited, a server error) stay errors.
fn optional(answer: Result<Value, Error>) -> Result<Option<Value>, Error> {
    match answer {
        Ok(value) => Ok(Some(value)),
        Err(
            Error::NotFound { .. }
            | Error::Validation { .. }
            | Error::Forbidden { .. }
            | Error::Protocol { .. }
            | Error::Server { status: 501, .. },
        ) => Ok(None),
        Err(other) => Err(other),
    }
}

/// `key` of every item of a list: a ListResponse (`Resources`, any case, `totalResults`
/// or not) or a bare array.
fn list_of(document: Option<&Value>, key: &str) -> Vec<String> {
    let items = match document {
        Some(Value::Array(items)) => items.as_slice(),
        Some(Value::Object(map)) => map
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case("Resources"))
            .and_then(|(_, value)| value.as_array())
            .map_or(&[][..], Vec::as_slice),
        _ => &[],
    };
    items
        .iter()
        .filter_map(|item| item.get(key).and_then(Value::as_str))
        .map(str::to_owned)
        .collect()
}

fn is_actions_document(document: &Value) -> bool {
    let tagged = document
        .get("schemas")
        .and_then(Value::as_array)
        .is_some_and(|schemas| schemas.iter().any(|s| s.as_str() == Some(ACTIONS_URN)));
    tagged || document.get("actions").is_some_and(Value::is_array)
}

/// The actions of an `/actions` document with their rules. An entry that cannot be read
/// (no name, a field of the wrong type) is left out: not offered, rather than offered
/// with rules that may be wrong.
fn action_rules(document: &Value) -> Vec<ActionRule> {
    document
        .get("actions")
        .and_then(Value::as_array)
        .map(|actions| {
            actions
                .iter()
                .filter(|action| action.is_object())
                .filter_map(|action| ActionRule::deserialize(action).ok())
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use serde_json::json;

    use super::*;

    #[test]
    fn lists_are_read_whatever_their_shape() {
        let listed = json!({"resources": [{"id": "urn:a"}, {"id": "urn:b"}]});
        assert_eq!(list_of(Some(&listed), "id"), ["urn:a", "urn:b"]);
        let bare = json!([{"name": "User"}]);
        assert_eq!(list_of(Some(&bare), "name"), ["User"]);
        assert!(list_of(None, "id").is_empty());
    }

    #[test]
    fn extensions_go_only_to_providers_that_take_them() {
        use muster_scim::urn::{ENTERPRISE_USER, SHOP_USER};
        let plain = Capabilities {
            schemas: vec![muster_scim::urn::USER.into(), ENTERPRISE_USER.into()],
            ..Capabilities::default()
        };
        assert!(
            !plain.serves_schema(SHOP_USER),
            "the shop extension is Muster's own"
        );
        assert!(plain.serves_schema(ENTERPRISE_USER));
        let silent = Capabilities::default();
        assert!(
            silent.serves_schema(ENTERPRISE_USER),
            "a standard extension, when unsaid"
        );
        assert!(!silent.serves_schema(SHOP_USER));
        let muster = Capabilities {
            is_muster: true,
            ..Capabilities::default()
        };
        assert!(muster.serves_schema(SHOP_USER));
        let mut user = muster_scim::user::User::from_json(json!({"userName": "a",
            SHOP_USER: {"role": "admin"}, ENTERPRISE_USER: {"department": "Office"}}))
        .unwrap();
        plain.fit(&mut user);
        assert!(user.shop.is_none() && user.enterprise.is_some());
        assert!(
            !user.schemas().contains(&SHOP_USER),
            "nor is it named in `schemas`"
        );
    }

    #[test]
    fn unsupported_features_say_why() {
        let caps = Capabilities {
            patch: true,
            actions: vec![ActionRule::named("suspend")],
            is_muster: true,
            ..Capabilities::default()
        };
        assert!(caps.supports(Feature::Patch).is_yes());
        assert_eq!(
            caps.supports(Feature::Sort).reason(),
            Some("This provider does not support sorting.")
        );
        assert!(caps.supports(Feature::Action("suspend".into())).is_yes());
        assert_eq!(
            caps.supports(Feature::Action("restore".into())).reason(),
            Some("This server does not offer 'restore'.")
        );
        let other = Capabilities::default();
        let reason = other.supports(Feature::Action("suspend".into()));
        assert!(
            reason
                .reason()
                .unwrap()
                .starts_with("This server does not offer 'suspend'."),
            "{reason:?}"
        );
        assert!(matches!(
            other.require(Feature::Bulk),
            Err(Error::Unsupported { .. })
        ));
    }

    #[test]
    fn malformed_documents_fall_back_to_not_offered() {
        // An /actions document with one good entry among broken ones: the broken ones are
        // not offered (a missing name, a status list that is not one, a bare number).
        let document = json!({
            "schemas": [ACTIONS_URN],
            "actions": [
                {"name": "suspend", "allowedFrom": ["active"]},
                {"allowedFrom": ["active"]},
                {"name": "unlock", "allowedFrom": "active"},
                42,
            ]
        });
        let rules = action_rules(&document);
        let names: Vec<&str> = rules.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, ["suspend"]);
        let caps = Capabilities {
            is_muster: true,
            actions: rules,
            ..Capabilities::default()
        };
        assert_eq!(
            caps.supports(Feature::Action("unlock".into())).reason(),
            Some("This server does not offer 'unlock'."),
            "a broken entry is a reason, not a broken button"
        );
        // `actions` of the wrong type, or no document at all: nothing offered.
        assert!(action_rules(&json!({"actions": {"suspend": true}})).is_empty());
        // Permissions need a name; a missing label is the name.
        let permissions = permissions_of(&json!({"permissions": [
            {"name": "viewPricing", "label": "Prices", "description": "See prices."},
            {"name": "viewReports"},
            {"label": "No name"},
            "junk",
        ]}));
        assert_eq!(
            permissions,
            [
                PermissionInfo {
                    name: "viewPricing".into(),
                    label: "Prices".into(),
                    description: "See prices.".into(),
                },
                PermissionInfo {
                    name: "viewReports".into(),
                    label: "viewReports".into(),
                    description: String::new(),
                },
            ]
        );
        assert!(permissions_of(&json!({"permissions": 7})).is_empty());
        // /Schemas that is not a list, or lists junk: no schema is served, so no
        // extension is sent, and the list still reads.
        for junk in [
            json!({"Resources": "oops"}),
            json!([1, null, {"id": 7}]),
            json!("x"),
        ] {
            assert!(list_of(Some(&junk), "id").is_empty(), "{junk}");
        }
        let schemaless = Capabilities {
            schemas: list_of(Some(&json!({"Resources": "oops"})), "id"),
            ..Capabilities::default()
        };
        assert!(!schemaless.serves_schema(muster_scim::urn::SHOP_USER));
        // A document that is not JSON at all is absent, not a failure of discovery.
        let garbled = Err(Error::protocol("not JSON", b"<html>"));
        assert_eq!(optional(garbled).unwrap(), None);
    }

    #[test]
    fn optional_documents_tolerate_absence_only() {
        let missing = Err(Error::NotFound {
            message: "no".into(),
        });
        assert_eq!(optional(missing).unwrap(), None);
        let offline = Err(Error::Offline {
            host: "h".into(),
            reason: "r".into(),
        });
        assert!(
            optional(offline).is_err(),
            "being offline is not 'no actions'"
        );
    }
}
