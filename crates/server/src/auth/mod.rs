//! Sign-in and tokens: who is calling, and what they may do.
//!
//! - [`password`]: argon2id hashing and verification.
//! - [`tokens`]: random bearer tokens (`mst_at_`, `mst_rt_`, `mst_api_`), stored only as
//!   SHA-256 hashes; sessions, refresh rotation with reuse detection, API tokens.
//! - [`caller`]: the [`Caller`] extractor and the role checks handlers call.
//! - [`accounts`]: the people who can sign in (org users and system admins).
//! - [`session`]: session lifetimes (absolute and idle) and the recent sign-in that
//!   changing credentials needs.
//! - `me`: the signed-in account's own credentials: `POST /auth/password` (current
//!   password, and a code when two-factor is on), `POST /auth/reauthenticate`,
//!   `POST /auth/mfa/disable`, `GET /auth/me`, `POST /auth/sessions/end-others`.
//! - `api_tokens`: listing, issuing (scope, expiry, never to oneself) and revoking API
//!   tokens.
//! - `sign_in`: `POST /auth/token`, a password and then a two-factor code when it is on,
//!   rate limited and audited.
//! - `routes`: the router of every `/auth` and token route, `POST /auth/refresh` and
//!   `POST /auth/logout`.
//!
//! Routes: `POST /auth/token` (password, then a TOTP code when two-factor sign-in is on:
//! see [`crate::mfa`]), `POST /auth/refresh`, `POST /auth/logout`,
//! `POST /auth/mfa/enroll`, `POST /auth/mfa/confirm`, and `GET|POST /o/{org}/api-tokens`,
//! `DELETE /o/{org}/api-tokens/{id}`.
//!
//! Only users whose `users.status` is `active` sign in or use their tokens; the check is
//! made at sign-in, at refresh and on every request. Sign-ins are rate limited
//! ([`crate::ratelimit`]) and audited ([`crate::audit`]).

pub mod accounts;
mod api_tokens;
pub mod caller;
mod me;
pub mod password;
mod routes;
pub mod session;
mod sign_in;
pub mod tokens;

use axum::Json;
use axum::http::StatusCode;
use axum::http::header::{CACHE_CONTROL, HeaderValue};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use time::macros::format_description;

pub use accounts::create_system_admin;
pub use caller::{AccountCaller, Caller, Identity, Role, actor_of_token};
pub(crate) use me::check_own_password;
pub use password::{hash_password, verify_password};
pub use routes::routes;
pub use tokens::{
    active_session_count, active_session_counts, issue_api_token_blocking, sign_out_user_blocking,
};

use crate::error::{AppError, AppResult};

/// Formats a time as fixed-width RFC 3339 in UTC to the second (`2024-05-01T12:00:00Z`),
/// the form the auth tables store: equal widths make text order the same as time order.
pub fn stamp(at: OffsetDateTime) -> String {
    let format = format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");
    at.to_offset(time::UtcOffset::UTC)
        .format(&format)
        .unwrap_or_else(|_| at.unix_timestamp().to_string())
}

/// Reads a time written by [`stamp`] (or any RFC 3339 time).
pub(crate) fn parse_stamp(text: &str) -> AppResult<OffsetDateTime> {
    OffsetDateTime::parse(text, &Rfc3339)
        .map_err(|error| AppError::internal(format_args!("stored time {text:?}: {error}")))
}

/// A JSON answer carrying secrets (tokens, a TOTP secret): `Cache-Control: no-store`, so
/// nothing on the way keeps it.
pub(crate) fn no_store(status: StatusCode, body: impl Serialize) -> Response {
    let mut response = (status, Json(body)).into_response();
    response
        .headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}
