//! Resource metadata (RFC 7643 §3.1).

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::lenient;

/// The `meta` attribute of a resource, maintained by the service provider. Every member is
/// optional on input: Entra and Okta send only `resourceType` on create.
///
/// Dates are written in RFC 3339; a date without offset is read as UTC
/// (see [`crate::lenient`]).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Meta {
    /// Resource type name, e.g. `User`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_type: Option<String>,
    /// When the resource was created.
    #[serde(
        default,
        with = "lenient::datetime",
        skip_serializing_if = "Option::is_none"
    )]
    pub created: Option<OffsetDateTime>,
    /// When the resource was last changed.
    #[serde(
        default,
        with = "lenient::datetime",
        skip_serializing_if = "Option::is_none"
    )]
    pub last_modified: Option<OffsetDateTime>,
    /// The resource's URI.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    /// The resource's version: its entity tag, e.g. `W/"3694e05e9dff591"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
}

impl Meta {
    /// Metadata naming only the resource type.
    pub fn of_type(resource_type: impl Into<String>) -> Self {
        Self {
            resource_type: Some(resource_type.into()),
            ..Self::default()
        }
    }
}
