//! Integration tests of muster-core against a real muster-server on port 0, one module
//! per area.

mod auth;
mod bulk;
mod console;
mod faults;
mod muster;
mod proxy;
mod review;
mod scim2;
mod support;
mod transfer;
