//! SCIM 2.0 (RFC 7643 resources, RFC 7644 protocol) as plain data, shared by the Muster
//! client engine and the reference server. No I/O lives here.
//!
//! Parsing is lenient (real providers send `"active": "False"`, PATCH ops in any case,
//! no `schemas`), sending is strict: everything this crate serialises is RFC-correct JSON.
//!
//! - [`filter`]: the filter grammar of RFC 7644 §3.4.2.2 (parse, print, evaluate) and
//!   PATCH paths.
//! - [`schema`]: attribute definitions (RFC 7643 §7) and the built-in schemas Muster
//!   serves: core User and Group, the enterprise extension and the Muster shop extension.
//! - [`user`], [`group`]: typed resources; [`message`]: ListResponse, PatchOp, SearchRequest,
//!   Error; [`discovery`]: ServiceProviderConfig and ResourceType; [`meta`]: resource meta.
//! - [`urn`]: the schema URNs; [`lenient`]: the serde helpers that accept providers' quirks.
#![deny(missing_docs)]

pub mod discovery;
mod extra;
pub mod filter;
pub mod group;
pub mod lenient;
pub mod message;
pub mod meta;
mod resource;
pub mod schema;
pub mod urn;
pub mod user;

pub use extra::Extra;
