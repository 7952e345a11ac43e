//! The schema URNs of RFC 7643 and RFC 7644, and of Muster's own extension.
//!
//! URNs compare case-insensitively on input (RFC 7643 §2.1); this crate always emits them
//! exactly as written here.

use serde::{Serialize, Serializer};

/// Core User resource (RFC 7643 §4.1).
pub const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
/// Core Group resource (RFC 7643 §4.2).
pub const GROUP: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
/// Enterprise User extension (RFC 7643 §4.3).
pub const ENTERPRISE_USER: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
/// Muster's shop extension of User: licence, role, branches and read-only account state.
pub const SHOP_USER: &str = "urn:muster:params:scim:schemas:extension:shop:2.0:User";

/// Query response message (RFC 7644 §3.4.2).
pub const LIST_RESPONSE: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
/// PATCH request message (RFC 7644 §3.5.2).
pub const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
/// `POST .search` request message (RFC 7644 §3.4.3).
pub const SEARCH_REQUEST: &str = "urn:ietf:params:scim:api:messages:2.0:SearchRequest";
/// Error response message (RFC 7644 §3.12).
pub const ERROR: &str = "urn:ietf:params:scim:api:messages:2.0:Error";
/// Bulk request message (RFC 7644 §3.7).
pub const BULK_REQUEST: &str = "urn:ietf:params:scim:api:messages:2.0:BulkRequest";
/// Bulk response message (RFC 7644 §3.7).
pub const BULK_RESPONSE: &str = "urn:ietf:params:scim:api:messages:2.0:BulkResponse";

/// Service provider configuration resource (RFC 7643 §5).
pub const SERVICE_PROVIDER_CONFIG: &str =
    "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig";
/// Resource type resource (RFC 7643 §6).
pub const RESOURCE_TYPE: &str = "urn:ietf:params:scim:schemas:core:2.0:ResourceType";
/// Schema resource (RFC 7643 §7).
pub const SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Schema";

/// Every URN above, for case-insensitive lookup of what a peer sent.
pub const ALL: &[&str] = &[
    USER,
    GROUP,
    ENTERPRISE_USER,
    SHOP_USER,
    LIST_RESPONSE,
    PATCH_OP,
    SEARCH_REQUEST,
    ERROR,
    BULK_REQUEST,
    BULK_RESPONSE,
    SERVICE_PROVIDER_CONFIG,
    RESOURCE_TYPE,
    SCHEMA,
];

/// The canonical spelling of a known URN, compared case-insensitively.
pub fn canonical(urn: &str) -> Option<&'static str> {
    ALL.iter()
        .copied()
        .find(|known| known.eq_ignore_ascii_case(urn))
}

/// Serialises a value with a `schemas` array in front of its own attributes: how every
/// message and resource of this crate is put on the wire.
pub(crate) struct Tagged<'a, T> {
    /// The `schemas` array.
    pub(crate) schemas: &'a [&'a str],
    /// The value; must serialise as a map or struct.
    pub(crate) body: T,
}

impl<T: Serialize> Serialize for Tagged<'_, T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Out<'a, T> {
            schemas: &'a [&'a str],
            #[serde(flatten)]
            body: &'a T,
        }
        Out {
            schemas: self.schemas,
            body: &self.body,
        }
        .serialize(serializer)
    }
}

/// Implements `Serialize` for a type derived with `#[serde(remote = "Self")]`, adding the
/// `schemas` array computed by `$schemas` (an expression over `$this: &Type`).
macro_rules! serialize_tagged {
    ($ty:ty, |$this:ident| $schemas:expr) => {
        impl serde::Serialize for $ty {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                struct Body<'a>(&'a $ty);
                impl serde::Serialize for Body<'_> {
                    fn serialize<S: serde::Serializer>(
                        &self,
                        serializer: S,
                    ) -> Result<S::Ok, S::Error> {
                        <$ty>::serialize(self.0, serializer)
                    }
                }
                let $this = self;
                let schemas: Vec<&str> = $schemas;
                $crate::urn::Tagged {
                    schemas: &schemas,
                    body: Body(self),
                }
                .serialize(serializer)
            }
        }
    };
}
pub(crate) use serialize_tagged;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_finds_urns_in_any_case() {
        assert_eq!(
            canonical("URN:IETF:PARAMS:SCIM:SCHEMAS:EXTENSION:ENTERPRISE:2.0:USER"),
            Some(ENTERPRISE_USER),
            "URNs are case-insensitive on input"
        );
        assert_eq!(
            canonical("urn:example:unknown"),
            None,
            "unknown URNs are not invented"
        );
    }
}
