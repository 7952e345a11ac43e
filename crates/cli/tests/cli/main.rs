//! Integration tests of the `muster` binary against a real muster-server on a loopback
//! port, one module per command group. `keychain::` needs a Secret Service:
//! `scripts/test` leaves it out of the main run and runs it under one.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod account;
mod actions;
mod bulk;
mod errors;
mod groups;
mod keychain;
mod orgs;
mod profiles;
mod review;
mod session;
mod settings;
mod support;
mod tokens;
mod transfer;
mod users;
