//! Muster's client engine: everything the desktop app and the `muster` command line do,
//! testable without a window. It speaks SCIM 2.0 to any provider and Muster's account
//! actions where a server offers them. Nothing here depends on Tauri.
//!
//! - [`connection`]: where to connect and how to authenticate; HTTPS rules.
//! - [`transport`]: HTTP with timeouts, bounded retries for idempotent requests, and one
//!   mapping of every non-2xx answer to an [`Error`].
//! - [`auth`]: password sign-in (with the TOTP step), refresh, sign-out, static tokens.
//! - [`client`]: a signed-in [`Client`]; [`users`], [`groups`], [`actions`] and
//!   [`discovery`] hang off it.
//! - [`tokens`]: a Muster server's API tokens (list, issue, revoke); [`settings`]: its
//!   organisation settings (password policy, link and session lifetimes, two-factor).
//! - [`rules`]: what may be done to a user, decided once for the app, the bulk runner and
//!   the command line.
//! - [`bulk`]: one operation over many users, with bounded concurrency, rate limits
//!   respected, progress, cancel and retry.
//! - [`console`]: the desktop console's state (profiles, session, offline copy, search).
//! - [`csv`]: CSV export of users (works offline) and import of people to invite.
//! - [`error`], [`secret`]: the one error type, and the type secrets live in.
#![deny(missing_docs)]

pub mod account;
pub mod actions;
pub mod audit;
pub mod auth;
pub mod bulk;
pub mod cache;
pub mod client;
pub mod clock;
pub mod connection;
pub mod console;
pub mod csv;
pub mod discovery;
pub mod error;
pub mod groups;
pub mod orgs;
pub mod photos;
pub mod profiles;
pub mod query;
pub mod resources;
pub mod rules;
pub mod search;
pub mod secret;
pub mod settings;
pub mod sync;
pub mod tokens;
pub mod transport;
pub mod user_name;
pub mod users;
pub mod vault;

pub use client::Client;
pub use error::{Code, Error, ErrorBody, FieldError, Notice};
pub use secret::Secret;
