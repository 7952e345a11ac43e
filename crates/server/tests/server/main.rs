//! Integration tests of muster-server over real HTTP on port 0, one module per area.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod api_tokens;
mod audit;
mod auth;
mod bulk;
mod credentials;
mod lifecycle;
mod links;
mod matrix;
mod mfa;
mod orgs;
mod photos;
mod policy;
mod ratelimit;
mod responsibilities;
mod roles;
mod scim;
mod scim_input;
mod scim_patch;
mod scim_queries;
mod sessions;
mod support;
