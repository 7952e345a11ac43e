//! Serde round trips of every SCIM type, against payloads real providers send
//! (`tests/fixtures/`, sources in its README): lenient input parses to the right values,
//! output is RFC-correct, unknown attributes survive, bad values are rejected clearly.
//! One module per area.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod discovery;
mod exact;
mod group;
mod message;
mod patch;
mod properties;
mod schema;
mod support;
mod user;
