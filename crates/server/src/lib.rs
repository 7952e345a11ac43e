//! Muster's reference user-management API: SCIM 2.0 users and groups for many
//! organisations, with sign-in and tokens, over axum and SQLite.
//!
//! [`app`] builds the whole HTTP service from an [`AppState`]; `main.rs` only parses the
//! command line, opens the data directory and serves it. Tests run [`app`] on port 0.
#![deny(missing_docs)]

pub mod admin;
pub mod audit;
pub mod auth;
pub mod body;
pub mod db;
pub mod demo;
pub mod denials;
pub mod error;
pub mod lifecycle;
pub mod links;
pub mod mfa;
pub mod orgs;
pub mod outbox;
pub mod pages;
pub mod permissions;
pub mod policy;
pub mod ratelimit;
pub mod responsibilities;
pub mod scim;
pub mod sealed;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use tower_http::trace::TraceLayer;

use crate::db::Db;
use crate::error::AppError;

/// Requests larger than this are refused with 413 before they are parsed.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// Where the current time comes from: the wall clock, or a fixed one in tests.
pub use muster_api::Clock;

/// Settings that are fixed for the life of the process.
#[derive(Debug, Clone)]
pub struct Config {
    /// How long an access token lives.
    pub access_token_ttl: Duration,
    /// How long a refresh token lives.
    pub refresh_token_ttl: Duration,
    /// The URL clients reach the server at, used in `meta.location`; when `None` it is
    /// taken from each request's `Host` header.
    pub public_url: Option<String>,
    /// Cap on `count` in list requests (advertised as `filter.maxResults`).
    pub max_results: usize,
    /// Demo mode: emails are also written to the log, so their links can be followed.
    pub demo: bool,
    /// Where to deliver email (`smtp://host:port`); without it emails stay in the outbox.
    pub smtp_url: Option<String>,
    /// How long a request may take before it is abandoned with 503: 30 seconds.
    pub request_timeout: Duration,
    /// The same for a SCIM `/Bulk` request, which runs up to a thousand operations (each
    /// still held to `request_timeout`): 5 minutes.
    pub bulk_timeout: Duration,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            access_token_ttl: Duration::from_secs(15 * 60),
            refresh_token_ttl: Duration::from_secs(30 * 24 * 3600),
            public_url: None,
            max_results: 1000,
            demo: false,
            smtp_url: None,
            request_timeout: Duration::from_secs(30),
            bulk_timeout: Duration::from_secs(5 * 60),
        }
    }
}

/// Everything a handler needs, cheap to clone.
#[derive(Debug, Clone)]
pub struct AppState {
    /// Storage.
    pub db: Db,
    /// Time source.
    pub clock: Clock,
    /// Settings.
    pub config: Arc<Config>,
    /// Recent sign-in and link-sending attempts and API requests, for rate limits.
    pub limits: Arc<ratelimit::Limits>,
    /// Refused anonymous writes of the current minute, not yet in the audit log.
    pub denials: Arc<denials::Denials>,
}

impl AppState {
    /// State over an open database with the system clock and default settings.
    pub fn new(db: Db) -> Self {
        Self {
            db,
            clock: Clock::system(),
            config: Arc::new(Config::default()),
            limits: Arc::default(),
            denials: Arc::default(),
        }
    }
}

/// The whole HTTP service.
pub fn app(state: AppState) -> Router {
    Router::new()
        .merge(auth::routes())
        .merge(orgs::routes())
        .merge(responsibilities::routes())
        .merge(policy::routes())
        .merge(outbox::routes())
        .merge(pages::routes())
        .nest("/o/{org}/scim/v2", scim::routes(state.clone()))
        .route("/healthz", axum::routing::get(|| async { "ok" }))
        .fallback(not_found)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            audit::denied_layer,
        ))
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            deadline,
        ))
        .layer(TraceLayer::new_for_http().make_span_with(request_span))
        .with_state(state)
}

/// Abandons a request that takes longer than [`Config::request_timeout`] (or
/// [`Config::bulk_timeout`] for SCIM `/Bulk`) with 503 and a SCIM error body. Work
/// already committed stays done, so the answer says the change may have been made.
async fn deadline(
    axum::extract::State(state): axum::extract::State<AppState>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let limit = if scim::bulk::is_bulk_path(request.uri().path()) {
        state.config.bulk_timeout
    } else {
        state.config.request_timeout
    };
    match tokio::time::timeout(limit, next.run(request)).await {
        Ok(response) => response,
        Err(_) => {
            tracing::warn!(seconds = limit.as_secs_f64(), "request timed out");
            AppError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                format!(
                    "The server did not finish this request within {} seconds and stopped \
                     working on it. A change it asked for may have been made: read the \
                     resource before repeating it.",
                    limit.as_secs()
                ),
            )
            .into_response()
        }
    }
}

/// The tracing span of a request: method and path only. The query string is left out
/// because single-use links carry their token there.
fn request_span(request: &axum::http::Request<axum::body::Body>) -> tracing::Span {
    tracing::info_span!("request", method = %request.method(), path = %request.uri().path())
}

async fn not_found() -> AppError {
    AppError::not_found("There is no such endpoint.")
}

async fn method_not_allowed() -> AppError {
    AppError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "This endpoint does not support that method.",
    )
}

/// Whether the server may listen on `listen` with `public_url`: emailed links carry
/// single-use tokens and clients send passwords, so a server other machines can reach
/// must be reached over HTTPS (`--public-url https://…`, with TLS in front of it). Without
/// one it would build links from each request's Host header, over plain HTTP. Loopback
/// and the demo are exempt (nothing leaves the machine, or nothing real is at stake).
///
/// # Errors
///
/// What is wrong and what to pass instead.
pub fn check_exposure(
    listen: std::net::SocketAddr,
    public_url: Option<&str>,
    demo: bool,
) -> Result<(), String> {
    if demo || listen.ip().is_loopback() {
        return Ok(());
    }
    match public_url.map(str::trim) {
        Some(url) if url.to_ascii_lowercase().starts_with("https://") => Ok(()),
        Some(url) => Err(format!(
            "--public-url {url} is not HTTPS: a server listening on {listen} (reachable from \
             other machines) sends sign-in links and takes passwords, so it needs an https:// \
             public URL (with TLS in front of it), or listen on 127.0.0.1."
        )),
        None => Err(format!(
            "listening on {listen} (reachable from other machines) needs --public-url \
             https://…: emailed links carry single-use tokens and must point at HTTPS, not \
             at whatever Host a request names. Or listen on 127.0.0.1."
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_or_https_may_serve_links() {
        let address = |text: &str| -> std::net::SocketAddr { text.parse().expect("an address") };
        let (public, loopback, v6) = (
            address("0.0.0.0:8650"),
            address("127.0.0.1:8650"),
            address("[::]:8650"),
        );
        assert!(check_exposure(public, None, false).is_err());
        assert!(check_exposure(v6, None, false).is_err());
        assert!(check_exposure(public, Some("http://muster.example"), false).is_err());
        assert!(check_exposure(public, Some("https://muster.example"), false).is_ok());
        assert!(check_exposure(loopback, None, false).is_ok());
        assert!(
            check_exposure(public, None, true).is_ok(),
            "the demo keeps working"
        );
    }
}
