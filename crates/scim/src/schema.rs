//! Attribute definitions (RFC 7643 §7) and the schemas Muster serves.
//!
//! The built-in schemas ([`Schema::core_user`], [`Schema::core_group`],
//! [`Schema::enterprise_user`], [`Schema::shop_user`]) are data, so that one definition
//! drives the `/Schemas` endpoint, case-insensitive attribute names
//! ([`ResourceSchema::canonicalize`]) and lenient-but-checked values
//! ([`ResourceSchema::coerce`]).
//!
//! The core User and Group schemas also define the common attributes `id`, `externalId`
//! and `meta` of RFC 7643 §3.1 (which §8.7.1 leaves out of its listing), so that their
//! characteristics (`id` is case-exact, read-only, always returned) are looked up like any
//! other attribute's.

use std::sync::LazyLock;

use serde::{Deserialize, Deserializer, Serialize};

use crate::filter::AttrPath;
use crate::urn;

mod builtin;
mod normalize;

pub use normalize::ValueError;

/// An attribute's data type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum AttributeType {
    /// A string.
    String,
    /// `true` / `false`.
    Boolean,
    /// A real number.
    Decimal,
    /// A whole number.
    Integer,
    /// An `xsd:dateTime` string.
    DateTime,
    /// Base64 data.
    Binary,
    /// A URI.
    Reference,
    /// An object with sub-attributes.
    Complex,
}

/// Whether and how an attribute may be written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Mutability {
    /// Set by the service provider only.
    ReadOnly,
    /// Read and written by clients (the default).
    #[default]
    ReadWrite,
    /// Written once, at creation (or while unset).
    Immutable,
    /// Written, never returned (passwords).
    WriteOnly,
}

/// When an attribute is returned.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Returned {
    /// Always, even when `attributes` excludes it.
    Always,
    /// Never.
    Never,
    /// Unless excluded (the default).
    #[default]
    Default,
    /// Only when asked for by `attributes`.
    Request,
}

/// The scope in which an attribute's values are unique.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Uniqueness {
    /// No uniqueness (the default).
    #[default]
    None,
    /// Unique within the service provider (for Muster: within an organisation).
    Server,
    /// Globally unique.
    Global,
}

/// One attribute definition. Characteristics a peer leaves out of its `/Schemas` take the
/// defaults of RFC 7643 §2.2.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Attribute {
    /// Attribute name, in its canonical case.
    pub name: String,
    /// Data type.
    #[serde(rename = "type")]
    pub kind: AttributeType,
    /// Whether the attribute holds a list of values.
    #[serde(default)]
    pub multi_valued: bool,
    /// Human-readable description.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// Whether a value is required.
    #[serde(default)]
    pub required: bool,
    /// Suggested values.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub canonical_values: Vec<String>,
    /// Whether string comparison is case-sensitive.
    #[serde(default)]
    pub case_exact: bool,
    /// Write rules.
    #[serde(default)]
    pub mutability: Mutability,
    /// Read rules.
    #[serde(default)]
    pub returned: Returned,
    /// Uniqueness scope.
    #[serde(default)]
    pub uniqueness: Uniqueness,
    /// Resource types a reference may point to.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reference_types: Vec<String>,
    /// Sub-attributes of a complex attribute.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sub_attributes: Vec<Attribute>,
}

/// A schema: a named set of attribute definitions. Serialised as a `/Schemas` resource,
/// with `"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Schema"]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self", rename_all = "camelCase")]
pub struct Schema {
    /// The schema URN.
    pub id: String,
    /// Short name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Attribute definitions.
    #[serde(default)]
    pub attributes: Vec<Attribute>,
}

/// A resource type's schemas: its core schema and its extensions, which together say what
/// each attribute path of a resource means.
#[derive(Debug, Clone, PartialEq)]
pub struct ResourceSchema {
    /// The core schema (`urn:ietf:params:scim:schemas:core:2.0:User` for users).
    pub core: Schema,
    /// Extension schemas, with whether each is required.
    pub extensions: Vec<(Schema, bool)>,
}

urn::serialize_tagged!(Schema, |_this| vec![urn::SCHEMA]);

impl<'de> Deserialize<'de> for Schema {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Schema::deserialize(deserializer)
    }
}

impl Schema {
    /// The attribute called `name` (case-insensitively), top level only.
    pub fn attribute(&self, name: &str) -> Option<&Attribute> {
        find_attribute(&self.attributes, name)
    }
}

/// The schemas Muster serves at `/Schemas`: core User, the enterprise and shop extensions,
/// and core Group.
pub fn all_schemas() -> Vec<Schema> {
    vec![
        Schema::core_user(),
        Schema::enterprise_user(),
        Schema::shop_user(),
        Schema::core_group(),
    ]
}

static USER: LazyLock<ResourceSchema> = LazyLock::new(ResourceSchema::user);
static GROUP: LazyLock<ResourceSchema> = LazyLock::new(ResourceSchema::group);

/// The User resource schema, built once; what the typed [`crate::user::User`] reads with.
pub(crate) fn user_schema() -> &'static ResourceSchema {
    &USER
}

/// The Group resource schema, built once.
pub(crate) fn group_schema() -> &'static ResourceSchema {
    &GROUP
}

impl ResourceSchema {
    /// Users: core User with the enterprise and shop extensions, neither required.
    pub fn user() -> Self {
        Self {
            core: Schema::core_user(),
            extensions: vec![
                (Schema::enterprise_user(), false),
                (Schema::shop_user(), false),
            ],
        }
    }

    /// Groups: core Group, no extensions.
    pub fn group() -> Self {
        Self {
            core: Schema::core_group(),
            extensions: Vec::new(),
        }
    }

    /// Every schema URN of this resource type, core first.
    pub fn urns(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.core.id.as_str())
            .chain(self.extensions.iter().map(|(schema, _)| schema.id.as_str()))
    }

    /// The extension schema with this URN (compared case-insensitively).
    pub fn extension(&self, urn: &str) -> Option<&Schema> {
        self.extensions
            .iter()
            .map(|(schema, _)| schema)
            .find(|schema| schema.id.eq_ignore_ascii_case(urn))
    }

    /// The schema a path lives in: the core schema when it has no URN or the core URN,
    /// otherwise the extension it names. `None` for an unknown URN.
    pub fn schema_of(&self, path: &AttrPath) -> Option<&Schema> {
        match &path.urn {
            None => Some(&self.core),
            Some(urn) if urn.eq_ignore_ascii_case(&self.core.id) => Some(&self.core),
            Some(urn) => self.extension(urn),
        }
    }

    /// The definition of the attribute (or sub-attribute) a path names; names compare
    /// case-insensitively. `None` when the schema does not define it.
    pub fn attribute(&self, path: &AttrPath) -> Option<&Attribute> {
        let top = find_attribute(&self.schema_of(path)?.attributes, &path.name)?;
        match &path.sub_attr {
            None => Some(top),
            Some(sub) => find_attribute(&top.sub_attributes, sub),
        }
    }
}

/// The attribute called `name` (case-insensitively) in a list of definitions.
pub fn find_attribute<'a>(attributes: &'a [Attribute], name: &str) -> Option<&'a Attribute> {
    attributes
        .iter()
        .find(|attribute| attribute.name.eq_ignore_ascii_case(name))
}
