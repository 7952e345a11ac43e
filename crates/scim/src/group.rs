//! The Group resource (RFC 7643 §4.2), typed for clients. Read leniently and written
//! strictly, like [`User`](crate::user::User).

use serde::{Deserialize, Serialize};

use crate::Extra;
use crate::lenient::{self, open_enum};
use crate::meta::Meta;
use crate::resource::{extension_keys, lenient_resource, serialize_extra};
use crate::{schema, urn};

/// A SCIM Group.
///
/// `display_name` is empty when a server left it out of a partial response, and is then
/// not written back. `members` is empty when the server excluded it
/// (`excludedAttributes=members`, as Entra asks) or sent `null` (as Okta's examples do).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self", rename_all = "camelCase")]
pub struct Group {
    /// Server-assigned identifier.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The provisioning client's identifier for the group.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    /// Name for display.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub display_name: String,
    /// Members.
    #[serde(
        default,
        deserialize_with = "lenient::vec_or_null",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub members: Vec<Member>,
    /// Resource metadata.
    #[serde(
        default,
        deserialize_with = "lenient::option_object",
        skip_serializing_if = "Option::is_none"
    )]
    pub meta: Option<Meta>,
    /// Attributes this crate does not model, including extensions.
    #[serde(flatten, serialize_with = "serialize_extra")]
    pub extra: Extra,
}

lenient_resource!(Group, schema::group_schema(), |this| this.schemas());

impl Group {
    /// Whether it holds attributes this crate does not model (in its own `extra` or a
    /// member's).
    pub fn holds_unmodelled(&self) -> bool {
        !self.extra.is_empty() || self.members.iter().any(|member| !member.extra.is_empty())
    }

    /// Gives back the room its member list holds beyond its length.
    pub fn shrink_to_fit(&mut self) {
        self.members.shrink_to_fit();
    }

    /// Reads a group listed by a provider, as [`from_json_text`](Self::from_json_text)
    /// does; `None` when it cannot be read or has no id. (A group is kept whole or not at
    /// all: its members are what it is for.)
    pub fn from_listed_text(text: &str) -> Option<Self> {
        Self::from_json_text(text)
            .ok()
            .filter(|group| group.id.is_some())
    }

    /// A group with just a display name.
    pub fn new(display_name: impl Into<String>) -> Self {
        Self {
            display_name: display_name.into(),
            ..Self::default()
        }
    }

    /// The `schemas` this group is written with: the core Group URN, then any extension
    /// kept in `extra`.
    pub fn schemas(&self) -> Vec<&str> {
        let mut schemas: Vec<&str> = vec![urn::GROUP];
        schemas.extend(extension_keys(&self.extra));
        schemas
    }
}

/// A member of a group.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Member {
    /// The member's `id`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// URI of the member's resource (`$ref`); Entra sends `null`.
    #[serde(rename = "$ref", default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    /// Whether the member is a user or a group.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<MemberType>,
    /// The member's display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display: Option<String>,
    /// Sub-attributes this crate does not model.
    #[serde(flatten)]
    pub extra: Extra,
}

impl Member {
    /// A user member by `id`.
    pub fn user(id: impl Into<String>) -> Self {
        Self {
            value: Some(id.into()),
            kind: Some(MemberType::User),
            ..Self::default()
        }
    }
}

open_enum! {
    /// What kind of resource a member is.
    pub enum MemberType {
        /// A user.
        User = "User",
        /// A nested group.
        Group = "Group",
    }
}
