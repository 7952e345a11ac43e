//! Discovery resources: `/ServiceProviderConfig` (RFC 7643 §5) and `/ResourceTypes` (§6).
//! (`/Schemas` serves [`crate::schema::Schema`].)
//!
//! Read leniently: a provider that leaves a feature out of its configuration is read as not
//! supporting it, and flags and limits may arrive as strings. Written with every member
//! the RFC requires.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::lenient::{self, deserialize_any_case};
use crate::meta::Meta;
use crate::schema::ResourceSchema;
use crate::urn::{self, serialize_tagged};

/// What a service provider supports.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self", rename_all = "camelCase")]
pub struct ServiceProviderConfig {
    /// Help page for the service.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub documentation_uri: Option<String>,
    /// PATCH support.
    #[serde(default)]
    pub patch: Supported,
    /// Bulk support and limits.
    #[serde(default)]
    pub bulk: BulkConfig,
    /// Filter support and limit.
    #[serde(default)]
    pub filter: FilterConfig,
    /// Whether `password` may be changed.
    #[serde(default)]
    pub change_password: Supported,
    /// Sorting support.
    #[serde(default)]
    pub sort: Supported,
    /// ETag (`meta.version`, `If-Match`) support.
    #[serde(default)]
    pub etag: Supported,
    /// Accepted authentication schemes.
    #[serde(default, deserialize_with = "lenient::vec_or_null")]
    pub authentication_schemes: Vec<AuthenticationScheme>,
    /// Resource metadata.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
    /// Members this crate does not model (a provider's own capability flags).
    #[serde(flatten, serialize_with = "crate::resource::serialize_extra")]
    pub extra: crate::Extra,
}

serialize_tagged!(ServiceProviderConfig, |_this| vec![
    urn::SERVICE_PROVIDER_CONFIG
]);

impl<'de> Deserialize<'de> for ServiceProviderConfig {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let mut value = Value::deserialize(deserializer)?;
        lenient::canonical_keys(
            &mut value,
            &[
                "schemas",
                "documentationUri",
                "patch",
                "bulk",
                "filter",
                "changePassword",
                "sort",
                "etag",
                "authenticationSchemes",
                "meta",
            ],
        );
        if let Value::Object(map) = &mut value {
            map.remove("schemas");
        }
        ServiceProviderConfig::deserialize(value).map_err(serde::de::Error::custom)
    }
}

/// A feature flag: `{"supported": true}`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Supported {
    /// Whether the feature is supported.
    #[serde(default, deserialize_with = "lenient::bool")]
    pub supported: bool,
}

impl Supported {
    /// `{"supported": true}`.
    pub const YES: Self = Self { supported: true };
    /// `{"supported": false}`.
    pub const NO: Self = Self { supported: false };
}

/// Bulk support and its limits.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BulkConfig {
    /// Whether `/Bulk` is supported.
    #[serde(default, deserialize_with = "lenient::bool")]
    pub supported: bool,
    /// Most operations in one bulk request.
    #[serde(default, deserialize_with = "lenient::uint")]
    pub max_operations: u64,
    /// Largest bulk payload, in bytes.
    #[serde(default, deserialize_with = "lenient::uint")]
    pub max_payload_size: u64,
}

/// Filter support and its limit.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FilterConfig {
    /// Whether `filter` is supported.
    #[serde(default, deserialize_with = "lenient::bool")]
    pub supported: bool,
    /// Most resources returned by one query.
    #[serde(default, deserialize_with = "lenient::uint")]
    pub max_results: u64,
}

/// An authentication scheme a provider accepts.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuthenticationScheme {
    /// Scheme keyword: `oauthbearertoken`, `httpbasic`, `oauth2`, …
    #[serde(rename = "type", default)]
    pub kind: String,
    /// Common name, e.g. `OAuth Bearer Token`.
    #[serde(default)]
    pub name: String,
    /// Description.
    #[serde(default)]
    pub description: String,
    /// The scheme's specification.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spec_uri: Option<String>,
    /// The provider's help page for it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub documentation_uri: Option<String>,
    /// Whether this is the preferred scheme.
    #[serde(
        default,
        deserialize_with = "lenient::option_bool",
        skip_serializing_if = "Option::is_none"
    )]
    pub primary: Option<bool>,
}

impl AuthenticationScheme {
    /// OAuth 2.0 bearer tokens (RFC 6750), as the RFC 7643 §8.5 example describes them.
    pub fn oauth_bearer_token() -> Self {
        Self {
            kind: "oauthbearertoken".to_owned(),
            name: "OAuth Bearer Token".to_owned(),
            description: "Authentication scheme using the OAuth Bearer Token Standard".to_owned(),
            spec_uri: Some("http://www.rfc-editor.org/info/rfc6750".to_owned()),
            documentation_uri: None,
            primary: Some(true),
        }
    }
}

/// A resource type a provider serves (`/ResourceTypes`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self", rename_all = "camelCase")]
pub struct ResourceType {
    /// Identifier, usually the same as `name`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Name, e.g. `User`.
    #[serde(default)]
    pub name: String,
    /// Endpoint relative to the base URL, e.g. `/Users`.
    #[serde(default)]
    pub endpoint: String,
    /// Description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// URN of the core schema.
    #[serde(default)]
    pub schema: String,
    /// Extension schemas.
    #[serde(
        default,
        deserialize_with = "lenient::vec_or_null",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub schema_extensions: Vec<SchemaExtension>,
    /// Resource metadata.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
}

serialize_tagged!(ResourceType, |_this| vec![urn::RESOURCE_TYPE]);
deserialize_any_case!(
    ResourceType,
    [
        "id",
        "name",
        "endpoint",
        "description",
        "schema",
        "schemaExtensions",
        "meta"
    ]
);

impl ResourceType {
    /// A resource type described by `schema`, served at `endpoint`.
    pub fn new(name: &str, endpoint: &str, description: &str, schema: &ResourceSchema) -> Self {
        Self {
            id: Some(name.to_owned()),
            name: name.to_owned(),
            endpoint: endpoint.to_owned(),
            description: Some(description.to_owned()),
            schema: schema.core.id.clone(),
            schema_extensions: schema
                .extensions
                .iter()
                .map(|(extension, required)| SchemaExtension {
                    schema: extension.id.clone(),
                    required: *required,
                })
                .collect(),
            meta: Some(Meta::of_type("ResourceType")),
        }
    }

    /// `User` at `/Users`, with the enterprise and shop extensions.
    pub fn user() -> Self {
        Self::new("User", "/Users", "User Account", &ResourceSchema::user())
    }

    /// `Group` at `/Groups`.
    pub fn group() -> Self {
        Self::new("Group", "/Groups", "Group", &ResourceSchema::group())
    }
}

/// An extension schema of a resource type.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SchemaExtension {
    /// The extension's URN.
    pub schema: String,
    /// Whether resources must carry it.
    #[serde(default, deserialize_with = "lenient::bool")]
    pub required: bool,
}
