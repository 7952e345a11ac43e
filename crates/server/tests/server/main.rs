//! Integration tests of muster-server over real HTTP on port 0, one module per area.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod auth;
mod scim;
mod support;
