//! Protocol messages of RFC 7644: ListResponse, PatchOp, SearchRequest and Error.
//!
//! Every message is written with its `schemas` and read without needing one. Top-level
//! keys are matched case-insensitively (`"operations"`, `"resources"`), PATCH op names in
//! any case (Entra sends `"Replace"`), and numbers may arrive as strings.

use std::fmt;

use serde::de::{self, Deserializer};
use serde::{Deserialize, Serialize, Serializer};
use serde_json::Value;

use crate::lenient::{self, deserialize_any_case, open_enum};
use crate::schema::ValueError;
use crate::urn::{self, serialize_tagged};

/// A query response: one page of resources.
///
/// On input `totalResults` may be missing (django-scim2 omits it on `/ResourceTypes`, and
/// other providers on discovery lists), `Resources` may be spelt `resources`, and a
/// missing or `null` `Resources` is an empty page. On output `totalResults` and
/// `Resources` are always present, as RFC 7644 §3.4.2 requires.
#[derive(Debug, Clone, PartialEq)]
pub struct ListResponse<T> {
    /// Total number of results matching the query, over all pages; `None` when the server
    /// did not say. Written as the number of `resources` when `None`.
    pub total_results: Option<u64>,
    /// Number of resources in this page.
    pub items_per_page: Option<u64>,
    /// 1-based index of the first resource of this page.
    pub start_index: Option<u64>,
    /// The resources (`Resources`).
    pub resources: Vec<T>,
}

impl<T> ListResponse<T> {
    /// A complete, unpaged list.
    pub fn new(resources: Vec<T>) -> Self {
        let count = len_u64(&resources);
        Self {
            total_results: Some(count),
            items_per_page: Some(count),
            start_index: Some(1),
            resources,
        }
    }

    /// One page of `total_results`, starting at the 1-based `start_index`.
    pub fn page(resources: Vec<T>, total_results: u64, start_index: u64) -> Self {
        Self {
            total_results: Some(total_results),
            items_per_page: Some(len_u64(&resources)),
            start_index: Some(start_index),
            resources,
        }
    }

    /// The total as reported, or the number of resources in this response when the server
    /// left it out.
    pub fn total(&self) -> u64 {
        self.total_results
            .unwrap_or_else(|| len_u64(&self.resources))
    }
}

fn len_u64<T>(items: &[T]) -> u64 {
    u64::try_from(items.len()).unwrap_or(u64::MAX)
}

impl<T: Serialize> Serialize for ListResponse<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        #[serde(rename_all = "camelCase")]
        struct Out<'a, T> {
            schemas: [&'static str; 1],
            total_results: u64,
            #[serde(skip_serializing_if = "Option::is_none")]
            items_per_page: Option<u64>,
            #[serde(skip_serializing_if = "Option::is_none")]
            start_index: Option<u64>,
            #[serde(rename = "Resources")]
            resources: &'a [T],
        }
        Out {
            schemas: [urn::LIST_RESPONSE],
            total_results: self.total(),
            items_per_page: self.items_per_page,
            start_index: self.start_index,
            resources: &self.resources,
        }
        .serialize(serializer)
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for ListResponse<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase", bound(deserialize = "T: Deserialize<'de>"))]
        struct In<T> {
            #[serde(default, deserialize_with = "lenient::option_uint")]
            total_results: Option<u64>,
            #[serde(default, deserialize_with = "lenient::option_uint")]
            items_per_page: Option<u64>,
            #[serde(default, deserialize_with = "lenient::option_uint")]
            start_index: Option<u64>,
            #[serde(
                rename = "Resources",
                default,
                deserialize_with = "lenient::vec_or_null"
            )]
            resources: Vec<T>,
        }
        let mut value = Value::deserialize(deserializer)?;
        lenient::canonical_keys(
            &mut value,
            &["totalResults", "itemsPerPage", "startIndex", "Resources"],
        );
        let input = In::<T>::deserialize(value).map_err(de::Error::custom)?;
        Ok(Self {
            total_results: input.total_results,
            items_per_page: input.items_per_page,
            start_index: input.start_index,
            resources: input.resources,
        })
    }
}

/// A PATCH request body (RFC 7644 §3.5.2).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self")]
pub struct PatchOp {
    /// The operations, applied in order (`Operations`).
    #[serde(rename = "Operations", deserialize_with = "lenient::vec_or_null")]
    pub operations: Vec<PatchOperation>,
}

serialize_tagged!(PatchOp, |_this| vec![urn::PATCH_OP]);
deserialize_any_case!(PatchOp, ["Operations"]);

impl PatchOp {
    /// A request of these operations.
    pub fn new(operations: Vec<PatchOperation>) -> Self {
        Self { operations }
    }
}

/// One PATCH operation.
///
/// `value` is kept as JSON: its shape depends on `path` and the target schema, so it is
/// checked where the schema is known (see [`crate::schema::Attribute::coerce`]). Entra's
/// `"value": "False"` for `active` is coerced there.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self")]
pub struct PatchOperation {
    /// `add`, `replace` or `remove`.
    pub op: PatchOpKind,
    /// Target attribute path, e.g. `emails[type eq "work"].value`; `None` to apply
    /// `value` as a set of attributes (Okta's `{"active": false}`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// The value to add or replace with; `None` for `remove`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<Value>,
}

impl Serialize for PatchOperation {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        PatchOperation::serialize(self, serializer)
    }
}
deserialize_any_case!(PatchOperation, ["op", "path", "value"]);

impl PatchOperation {
    /// `add` `value` at `path`.
    pub fn add(path: impl Into<String>, value: Value) -> Self {
        Self {
            op: PatchOpKind::Add,
            path: Some(path.into()),
            value: Some(value),
        }
    }

    /// `replace` the value at `path`.
    pub fn replace(path: impl Into<String>, value: Value) -> Self {
        Self {
            op: PatchOpKind::Replace,
            path: Some(path.into()),
            value: Some(value),
        }
    }

    /// `remove` the value(s) at `path`.
    pub fn remove(path: impl Into<String>) -> Self {
        Self {
            op: PatchOpKind::Remove,
            path: Some(path.into()),
            value: None,
        }
    }

    /// `replace` without a path: `value` is an object of attributes to replace.
    pub fn replace_attributes(value: Value) -> Self {
        Self {
            op: PatchOpKind::Replace,
            path: None,
            value: Some(value),
        }
    }
}

/// A PATCH operation name. Read in any case (`"Replace"`, `"ADD"`); written lowercase.
/// Unknown names are an error: an operation that cannot be applied must not be guessed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PatchOpKind {
    /// `add`.
    Add,
    /// `replace`.
    Replace,
    /// `remove`.
    Remove,
}

impl PatchOpKind {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Add => "add",
            Self::Replace => "replace",
            Self::Remove => "remove",
        }
    }
}

impl fmt::Display for PatchOpKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for PatchOpKind {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for PatchOpKind {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        [Self::Add, Self::Replace, Self::Remove]
            .into_iter()
            .find(|kind| kind.as_str().eq_ignore_ascii_case(&text))
            .ok_or_else(|| {
                de::Error::custom(format!(
                    "unknown PATCH op \"{text}\", expected add, replace or remove"
                ))
            })
    }
}

/// A query (RFC 7644 §3.4.3): the body of `POST /.search`, and the shape of the query
/// parameters of `GET /Users`; as query parameters, numbers arrive as strings and
/// `attributes` as one comma-separated string, both of which are accepted.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(remote = "Self", rename_all = "camelCase")]
pub struct SearchRequest {
    /// Attributes to return (and only those, plus the always-returned ones).
    #[serde(
        default,
        deserialize_with = "lenient::strings_or_csv",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub attributes: Vec<String>,
    /// Attributes not to return.
    #[serde(
        default,
        deserialize_with = "lenient::strings_or_csv",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub excluded_attributes: Vec<String>,
    /// Filter expression.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter: Option<String>,
    /// Attribute path to sort by.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sort_by: Option<String>,
    /// Sort direction.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sort_order: Option<SortOrder>,
    /// 1-based index of the first result.
    #[serde(
        default,
        deserialize_with = "lenient::option_uint",
        skip_serializing_if = "Option::is_none"
    )]
    pub start_index: Option<u64>,
    /// Maximum number of results per page.
    #[serde(
        default,
        deserialize_with = "lenient::option_uint",
        skip_serializing_if = "Option::is_none"
    )]
    pub count: Option<u64>,
}

serialize_tagged!(SearchRequest, |_this| vec![urn::SEARCH_REQUEST]);
deserialize_any_case!(
    SearchRequest,
    [
        "attributes",
        "excludedAttributes",
        "filter",
        "sortBy",
        "sortOrder",
        "startIndex",
        "count"
    ]
);

/// Sort direction. Read in any case; written `ascending` / `descending`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum SortOrder {
    /// Smallest first (the default).
    #[default]
    Ascending,
    /// Largest first.
    Descending,
}

impl SortOrder {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ascending => "ascending",
            Self::Descending => "descending",
        }
    }
}

impl Serialize for SortOrder {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for SortOrder {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        [Self::Ascending, Self::Descending]
            .into_iter()
            .find(|order| order.as_str().eq_ignore_ascii_case(&text))
            .ok_or_else(|| {
                de::Error::custom(format!(
                    "unknown sortOrder \"{text}\", expected ascending or descending"
                ))
            })
    }
}

/// Muster's own `scimType` on a 403: the change needs a recent sign-in; the client asks
/// for the password again (`POST /auth/reauthenticate`) and retries.
pub const REAUTHENTICATE: &str = "reauthenticate";

/// Muster's own `scimType` on a 403: the account must choose a new password
/// (`POST /auth/password`) before it may do anything else.
pub const MUST_CHANGE_PASSWORD: &str = "mustChangePassword";

/// Muster's own `scimType` on a 403: the organisation requires two-factor sign-in for
/// admins and this one has none yet; only setting it up (`/auth/mfa/enroll`) is allowed.
pub const MFA_ENROLLMENT_REQUIRED: &str = "mfaEnrollmentRequired";

/// Muster's own `scimType` on a 403: the organisation is suspended by a system admin; its
/// users cannot sign in and nothing under `/o/{org}/` answers until it is reactivated.
pub const ORG_SUSPENDED: &str = "orgSuspended";

/// An error response (RFC 7644 §3.12). `status` is written as a string, as the RFC says,
/// and read as a string or a number (Okta's examples send a number).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(remote = "Self", rename_all = "camelCase")]
pub struct ScimError {
    /// HTTP status code.
    #[serde(
        serialize_with = "status_as_string",
        deserialize_with = "lenient::status"
    )]
    pub status: u16,
    /// SCIM detail error keyword, for 400 (and 409, 403) errors.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scim_type: Option<ScimType>,
    /// Human-readable explanation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

fn status_as_string<S: Serializer>(status: &u16, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.collect_str(status)
}

serialize_tagged!(ScimError, |_this| vec![urn::ERROR]);
deserialize_any_case!(ScimError, ["status", "scimType", "detail"]);

impl ScimError {
    /// An error with a status and a detail message, no `scimType`.
    pub fn new(status: u16, detail: impl Into<String>) -> Self {
        Self {
            status,
            scim_type: None,
            detail: Some(detail.into()),
        }
    }

    /// An error with a `scimType`, and the status RFC 7644 Table 9 gives it.
    pub fn with_type(scim_type: ScimType, detail: impl Into<String>) -> Self {
        Self {
            status: scim_type.status(),
            scim_type: Some(scim_type),
            detail: Some(detail.into()),
        }
    }

    /// 400 `invalidValue`: a value does not fit its attribute.
    pub fn invalid_value(detail: impl Into<String>) -> Self {
        Self::with_type(ScimType::InvalidValue, detail)
    }

    /// 400 `invalidFilter`: a filter that does not parse or cannot be evaluated.
    pub fn invalid_filter(detail: impl Into<String>) -> Self {
        Self::with_type(ScimType::InvalidFilter, detail)
    }

    /// 400 `invalidSyntax`: a request body that is not a valid message.
    pub fn invalid_syntax(detail: impl Into<String>) -> Self {
        Self::with_type(ScimType::InvalidSyntax, detail)
    }

    /// 400 `invalidPath`: a PATCH path that does not parse or names nothing.
    pub fn invalid_path(detail: impl Into<String>) -> Self {
        Self::with_type(ScimType::InvalidPath, detail)
    }

    /// 400 `noTarget`: a PATCH path filter that matched nothing.
    pub fn no_target(detail: impl Into<String>) -> Self {
        Self::with_type(ScimType::NoTarget, detail)
    }

    /// 400 `mutability`: an attempt to change a read-only or immutable attribute.
    pub fn mutability(detail: impl Into<String>) -> Self {
        Self::with_type(ScimType::Mutability, detail)
    }

    /// 409 `uniqueness`: a value that must be unique is taken.
    pub fn uniqueness(detail: impl Into<String>) -> Self {
        Self::with_type(ScimType::Uniqueness, detail)
    }

    /// 401: missing or bad credentials.
    pub fn unauthorized(detail: impl Into<String>) -> Self {
        Self::new(401, detail)
    }

    /// 403: not allowed.
    pub fn forbidden(detail: impl Into<String>) -> Self {
        Self::new(403, detail)
    }

    /// 404: no such resource.
    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::new(404, detail)
    }

    /// 412: the `If-Match` version is not the current one.
    pub fn precondition_failed(detail: impl Into<String>) -> Self {
        Self::new(412, detail)
    }

    /// 500: the server failed.
    pub fn internal(detail: impl Into<String>) -> Self {
        Self::new(500, detail)
    }
}

impl fmt::Display for ScimError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SCIM error {}", self.status)?;
        if let Some(scim_type) = &self.scim_type {
            write!(f, " ({scim_type})")?;
        }
        if let Some(detail) = &self.detail {
            write!(f, ": {detail}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ScimError {}

impl From<ValueError> for ScimError {
    fn from(error: ValueError) -> Self {
        Self::invalid_value(error.to_string())
    }
}

open_enum! {
    /// The `scimType` error keywords of RFC 7644 Table 9.
    pub enum ScimType {
        /// The filter syntax is invalid or the filter cannot be applied.
        InvalidFilter = "invalidFilter",
        /// Too many results; the client should narrow its filter.
        TooMany = "tooMany",
        /// A unique value is already taken.
        Uniqueness = "uniqueness",
        /// The change conflicts with an attribute's mutability.
        Mutability = "mutability",
        /// The request body is not a valid message.
        InvalidSyntax = "invalidSyntax",
        /// The path attribute is invalid or malformed.
        InvalidPath = "invalidPath",
        /// The path's filter matched no value.
        NoTarget = "noTarget",
        /// A value is invalid for its attribute.
        InvalidValue = "invalidValue",
        /// The protocol version is not supported.
        InvalidVers = "invalidVers",
        /// The request carries sensitive data in the URI.
        Sensitive = "sensitive",
    }
}

impl ScimType {
    /// The HTTP status RFC 7644 Table 9 pairs with this keyword: 409 for `uniqueness`,
    /// 403 for `sensitive`, 400 otherwise.
    pub fn status(&self) -> u16 {
        match self {
            Self::Uniqueness => 409,
            Self::Sensitive => 403,
            _ => 400,
        }
    }
}
