//! HTTP for the engine: timeouts, bounded retries for idempotent requests only, and the
//! one function ([`error_of`]) that turns every non-2xx answer into an [`Error`].
//!
//! Retry rules: a request marked idempotent (GET, PUT, DELETE, PATCH with `If-Match`) is
//! tried at most [`RetryPolicy::max_attempts`] times when the network fails (connect,
//! reset, timeout, a body cut short) or the server answers 429, 502, 503 or 504. Waits
//! grow exponentially with full jitter; a `Retry-After` on 429/503 is honoured (and if it
//! asks for longer than [`RetryPolicy::max_retry_after`], the engine gives up at once with
//! [`Error::RateLimited`]). A request that is not idempotent (POST, or PATCH without
//! `If-Match`) is sent exactly once: [`Transport::send`] checks the method itself, whatever
//! the caller claims. A 503 with `Retry-After` that the engine gives up on is reported as
//! [`Error::RateLimited`] with the wait, like a 429.

use std::time::Duration;

use rand::Rng;
use reqwest::header::{HeaderMap, IF_MATCH, RETRY_AFTER};
use reqwest::{Method, Request, StatusCode};
use serde::de::DeserializeOwned;

use crate::error::{Error, redact};

/// How persistent to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in all, the first included.
    pub max_attempts: u32,
    /// The first backoff ceiling; it doubles per attempt.
    pub base_delay: Duration,
    /// The largest backoff ceiling.
    pub max_delay: Duration,
    /// The longest `Retry-After` the engine waits out by itself.
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 3,
            base_delay: Duration::from_millis(250),
            max_delay: Duration::from_secs(8),
            max_retry_after: Duration::from_secs(60),
        }
    }
}

/// Transport settings.
#[derive(Debug, Clone)]
pub struct TransportConfig {
    /// Time allowed to open a connection.
    pub connect_timeout: Duration,
    /// Time allowed for a whole request, body included.
    pub request_timeout: Duration,
    /// Retries.
    pub retry: RetryPolicy,
    /// An extra CA certificate (PEM) to trust.
    pub extra_ca_pem: Option<String>,
}

impl Default for TransportConfig {
    fn default() -> Self {
        Self {
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(60),
            retry: RetryPolicy::default(),
            extra_ca_pem: None,
        }
    }
}

/// A complete answer: status, headers and the whole body.
#[derive(Debug, Clone)]
pub struct Answer {
    /// HTTP status.
    pub status: StatusCode,
    /// Headers.
    pub headers: HeaderMap,
    /// Body.
    pub body: bytes::Bytes,
    /// How many attempts it took.
    pub attempts: u32,
}

impl Answer {
    /// The body as JSON of type `T`, or a [`Error::Protocol`] with an excerpt.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, Error> {
        serde_json::from_slice(&self.body)
            .map_err(|error| Error::protocol(json_problem(&error), &self.body))
    }

    /// The `ETag` header.
    pub fn etag(&self) -> Option<String> {
        self.headers
            .get(reqwest::header::ETAG)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    }
}

/// The HTTP client the engine uses.
#[derive(Debug, Clone)]
pub struct Transport {
    http: reqwest::Client,
    retry: RetryPolicy,
}

impl Transport {
    /// Builds the client: timeouts, the OS trust store plus an optional extra CA.
    pub fn new(config: &TransportConfig) -> Result<Self, Error> {
        let mut builder = reqwest::Client::builder()
            // A redirect is not followed: it would carry the bearer token (or replay a
            // password) to wherever the server points. A 3xx is an answer like any other,
            // reported as unexpected.
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(config.connect_timeout)
            .timeout(config.request_timeout)
            .user_agent(concat!("muster/", env!("CARGO_PKG_VERSION")))
            .pool_idle_timeout(Duration::from_secs(30));
        if let Some(pem) = &config.extra_ca_pem {
            // Parsed here, not left to `build`: an unreadable or empty PEM must say so
            // rather than quietly trusting nothing extra.
            let certificates = reqwest::Certificate::from_pem_bundle(pem.as_bytes())
                .map_err(|error| bad_ca(&error))?;
            if certificates.is_empty() {
                return Err(Error::invalid(
                    "extraCaPem",
                    "The CA certificate has no '-----BEGIN CERTIFICATE-----' block; paste the \
                     whole PEM file.",
                ));
            }
            for certificate in certificates {
                builder = builder.add_root_certificate(certificate);
            }
        }
        let http = builder.build().map_err(|error| {
            if config.extra_ca_pem.is_some() {
                bad_ca(&error)
            } else {
                Error::refused(format!(
                    "Cannot set up HTTPS: {}.",
                    root_cause(&error).unwrap_or_else(|| error.to_string())
                ))
            }
        })?;
        Ok(Self {
            http,
            retry: config.retry,
        })
    }

    /// The underlying client, to build requests with.
    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    /// The retry policy in force.
    pub fn retry_policy(&self) -> RetryPolicy {
        self.retry
    }

    /// The same HTTP client (sharing its connections) with another retry policy.
    pub fn with_retry(&self, retry: RetryPolicy) -> Self {
        Self {
            http: self.http.clone(),
            retry,
        }
    }

    /// Sends a request and reads the whole answer. Retries per the module rules when
    /// `idempotent` and the request is of a kind that may be repeated (GET, HEAD, OPTIONS,
    /// PUT, DELETE, or PATCH carrying `If-Match`): a POST, or a PATCH without `If-Match`,
    /// is sent exactly once whatever the caller says. A non-2xx answer becomes an
    /// [`Error`] through [`error_of`].
    pub async fn send(&self, request: Request, idempotent: bool) -> Result<Answer, Error> {
        let host = request.url().host_str().unwrap_or("the server").to_owned();
        let max_attempts = if idempotent && repeatable(&request) {
            self.retry.max_attempts.max(1)
        } else {
            1
        };
        let mut original = Some(request);
        let mut attempt = 1;
        loop {
            // Clone only when another attempt may follow; a body that cannot be cloned
            // (a stream) makes this the last attempt.
            let mut last = attempt >= max_attempts;
            let copy = if last {
                None
            } else {
                original.as_ref().and_then(Request::try_clone)
            };
            let this_try = match copy {
                Some(copy) => copy,
                None => {
                    last = true;
                    original.take().ok_or_else(|| {
                        Error::protocol("a request body could not be replayed", b"")
                    })?
                }
            };
            let outcome = self.attempt(this_try).await;
            let wait = match outcome {
                Ok(mut answer)
                    if answer.status.is_success() || answer.status == StatusCode::NOT_MODIFIED =>
                {
                    answer.attempts = attempt;
                    return Ok(answer);
                }
                Ok(answer) if retryable_status(answer.status) && !last => {
                    match retry_after(&answer.headers) {
                        Some(after) if after > self.retry.max_retry_after => {
                            return Err(too_long_to_wait(&answer, after));
                        }
                        Some(after) => after,
                        None => self.backoff(attempt),
                    }
                }
                Ok(answer) => return Err(error_of(answer.status, &answer.headers, &answer.body)),
                Err(_) if !last => self.backoff(attempt),
                Err(reason) => {
                    let reason = if attempt > 1 {
                        format!("{reason} ({attempt} attempts)")
                    } else {
                        reason
                    };
                    return Err(Error::Offline { host, reason });
                }
            };
            tracing::debug!(
                attempt,
                wait_ms = u64::try_from(wait.as_millis()).unwrap_or(u64::MAX),
                "retrying an idempotent request"
            );
            tokio::time::sleep(wait).await;
            attempt += 1;
        }
    }

    /// One try; a network failure (including a body cut short) is an `Err` with a reason.
    async fn attempt(&self, request: Request) -> Result<Answer, String> {
        let response = self.http.execute(request).await.map_err(describe)?;
        let status = response.status();
        let headers = response.headers().clone();
        let body = response.bytes().await.map_err(describe)?;
        Ok(Answer {
            status,
            headers,
            body,
            attempts: 1,
        })
    }

    /// Full jitter: a random wait up to `min(max_delay, base_delay × 2^(attempt-1))`.
    fn backoff(&self, attempt: u32) -> Duration {
        let ceiling = self
            .retry
            .base_delay
            .saturating_mul(2u32.saturating_pow(attempt.saturating_sub(1)))
            .min(self.retry.max_delay);
        let millis = u64::try_from(ceiling.as_millis()).unwrap_or(u64::MAX);
        Duration::from_millis(rand::rng().random_range(0..=millis))
    }
}

/// An extra CA certificate that cannot be used, as a field error.
fn bad_ca(error: &reqwest::Error) -> Error {
    Error::invalid(
        "extraCaPem",
        format!(
            "The CA certificate is not a valid PEM certificate ({}).",
            root_cause(error).unwrap_or_else(|| error.to_string())
        ),
    )
}

fn retryable_status(status: StatusCode) -> bool {
    matches!(status.as_u16(), 429 | 502 | 503 | 504)
}

/// Whether sending `request` twice does no more than sending it once: the idempotent
/// methods of RFC 9110 §9.2.2, and a PATCH made conditional by `If-Match` (a repeat of an
/// applied PATCH fails the precondition instead of applying twice).
fn repeatable(request: &Request) -> bool {
    let method = request.method();
    method == Method::GET
        || method == Method::HEAD
        || method == Method::OPTIONS
        || method == Method::PUT
        || method == Method::DELETE
        || method == Method::PATCH && request.headers().contains_key(IF_MATCH)
}

/// The server asked for a longer pause than the engine waits out by itself.
fn too_long_to_wait(answer: &Answer, after: Duration) -> Error {
    let message = match error_of(answer.status, &answer.headers, &answer.body) {
        Error::RateLimited { message, .. } | Error::Server { message, .. } => message,
        other => other.to_string(),
    };
    Error::RateLimited {
        message,
        retry_after: Some(after),
    }
}

/// What was wrong with a body that should have been JSON, without quoting its values
/// (serde quotes the offending string, which may be a secret).
fn json_problem(error: &serde_json::Error) -> String {
    use serde_json::error::Category;
    match error.classify() {
        Category::Syntax => format!(
            "not valid JSON (line {}, column {})",
            error.line(),
            error.column()
        ),
        Category::Eof => "the JSON was empty or ended early".to_owned(),
        Category::Io => "the answer could not be read".to_owned(),
        Category::Data => {
            let message = error.to_string();
            let unquoted = message.split('"').step_by(2).collect::<Vec<_>>().join("…");
            format!("not the expected shape ({})", redact(&unquoted))
        }
    }
}

/// A network failure in words (never the URL, whose query may hold a token).
fn describe(error: reqwest::Error) -> String {
    let error = error.without_url();
    if error.is_timeout() {
        "the request timed out".to_owned()
    } else if error.is_connect() {
        format!(
            "the connection could not be made ({})",
            root_cause(&error).unwrap_or_else(|| "refused".to_owned())
        )
    } else if error.is_body() || error.is_decode() {
        "the connection broke while the answer was arriving".to_owned()
    } else {
        match root_cause(&error) {
            Some(cause) => format!("the connection failed ({cause})"),
            None => format!("the connection failed ({error})"),
        }
    }
}

/// The innermost cause of an error, in words, secrets masked.
fn root_cause(error: &(dyn std::error::Error + 'static)) -> Option<String> {
    let mut cause = error.source()?;
    while let Some(next) = cause.source() {
        cause = next;
    }
    Some(redact(&cause.to_string()))
}

/// `Retry-After` (RFC 9110 §10.2.3): delay-seconds, or an HTTP date (a date already past
/// means "now"). A value that is neither is ignored, so the usual backoff applies.
pub fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at =
        time::OffsetDateTime::parse(value, &time::format_description::well_known::Rfc2822).ok()?;
    let wait = at - time::OffsetDateTime::now_utc();
    Some(Duration::try_from(wait).unwrap_or(Duration::ZERO))
}

/// The one mapping of a non-2xx answer to an [`Error`], keeping SCIM `scimType` and
/// `detail` (RFC 7644 §3.12) and tolerating providers whose bodies are not SCIM errors.
pub fn error_of(status: StatusCode, headers: &HeaderMap, body: &[u8]) -> Error {
    let parsed: Option<serde_json::Value> = serde_json::from_slice(body).ok();
    let field = |name: &str| {
        parsed
            .as_ref()
            .and_then(|v| v.get(name))
            .and_then(|v| v.as_str())
            .map(str::to_owned)
    };
    let scim_type = field("scimType");
    let detail = field("detail")
        .or_else(|| field("message"))
        .or_else(|| field("error_description"));
    let message = detail.clone().unwrap_or_else(|| {
        format!(
            "The server answered {} {}.",
            status.as_u16(),
            status.canonical_reason().unwrap_or("")
        )
    });
    // A Muster server names the attribute at fault (a value taken, or refused) in a
    // header; older ones put it in the body.
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned)
    };
    let named = header("muster-attribute")
        .or_else(|| field("attribute"))
        .map(|attribute| vec![crate::error::FieldError::new(attribute, &message)]);
    match status.as_u16() {
        401 => Error::Unauthorized { message },
        403 => match scim_type.as_deref() {
            Some(muster_scim::message::REAUTHENTICATE) => Error::Reauthenticate { message },
            Some(muster_scim::message::MUST_CHANGE_PASSWORD) => {
                Error::MustChangePassword { message }
            }
            Some(muster_scim::message::MFA_ENROLLMENT_REQUIRED) => {
                Error::MfaEnrollmentRequired { message }
            }
            _ => Error::Forbidden { message },
        },
        404 => Error::NotFound { message },
        409 => Error::Conflict {
            message,
            scim_type,
            stale: false,
            fields: named.unwrap_or_default(),
        },
        412 => Error::Conflict {
            message,
            scim_type,
            stale: true,
            fields: Vec::new(),
        },
        429 => Error::RateLimited {
            message,
            retry_after: retry_after(headers),
        },
        // "Unavailable, come back after…": the UI treats it as a pause, not a failure.
        503 if retry_after(headers).is_some() => Error::RateLimited {
            message,
            retry_after: retry_after(headers),
        },
        400 | 413 | 415 | 422 => {
            // A Muster server names the password rules a refused password breaks.
            let unmet_rules: Option<Vec<String>> = header("muster-unmet-rules")
                .map(|rules| rules.split(',').map(str::trim).map(str::to_owned).collect())
                .or_else(|| {
                    parsed
                        .as_ref()
                        .and_then(|v| v.get("unmetRules"))
                        .and_then(|v| serde_json::from_value(v.clone()).ok())
                });
            let fields = refused_fields(named, unmet_rules, scim_type.as_deref(), detail);
            Error::Validation {
                message,
                scim_type,
                fields,
            }
        }
        500..=599 => Error::Server {
            status: status.as_u16(),
            message,
        },
        _ => Error::protocol(format!("unexpected HTTP status {}", status.as_u16()), body),
    }
}

/// The fields a refused input names: the attribute the server named, else the password
/// with the rules it breaks, else what a SCIM `detail` names.
fn refused_fields(
    named: Option<Vec<crate::error::FieldError>>,
    unmet_rules: Option<Vec<String>>,
    scim_type: Option<&str>,
    detail: Option<String>,
) -> Vec<crate::error::FieldError> {
    if let Some(named) = named {
        return named;
    }
    let Some(detail) = detail else {
        return Vec::new();
    };
    match (scim_type, unmet_rules) {
        (_, Some(rules)) => vec![crate::error::FieldError {
            rules,
            ..crate::error::FieldError::new("password", &detail)
        }],
        (Some("invalidValue" | "invalidSyntax" | "mutability"), None) => field_errors(&detail),
        _ => Vec::new(),
    }
}

/// Field errors read from a SCIM `detail`: an attribute named in quotes at the start
/// (`'emails' …`, `attribute "active" …`) is the field.
fn field_errors(detail: &str) -> Vec<crate::error::FieldError> {
    let is_name = |name: &&str| {
        !name.is_empty()
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || ".:$_-".contains(c))
    };
    // `'emails' is not…` / `attribute "active" must…` (Muster, muster-scim), or a name
    // after the last colon: `Extra inputs are not permitted: favouriteColour` (pydantic
    // providers such as scim2-server).
    let quoted = detail.split(['\'', '"']).nth(1).filter(is_name);
    let trailing = || {
        detail
            .rsplit_once(": ")
            .map(|(_, name)| name.trim_end_matches('.'))
            .filter(is_name)
    };
    quoted
        .or_else(trailing)
        .map(|name| vec![crate::error::FieldError::new(name, detail)])
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scim_errors_keep_type_and_detail() {
        let body = br#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":"409","scimType":"uniqueness","detail":"taken"}"#;
        match error_of(StatusCode::CONFLICT, &HeaderMap::new(), body) {
            Error::Conflict {
                message,
                scim_type,
                stale,
                fields,
            } => {
                assert_eq!(
                    (message.as_str(), scim_type.as_deref(), stale),
                    ("taken", Some("uniqueness"), false)
                );
                assert!(fields.is_empty(), "no attribute named, no field guessed");
            }
            other => panic!("409 is a conflict, got {other:?}"),
        }
        let named =
            br#"{"status":"409","scimType":"uniqueness","detail":"taken","attribute":"emails"}"#;
        let error = error_of(StatusCode::CONFLICT, &HeaderMap::new(), named);
        let body = crate::error::ErrorBody::from(&error);
        assert_eq!(body.fields.len(), 1, "{body:?}");
        assert_eq!(body.fields[0].field, "emails");
        assert_eq!(body.fields[0].message, "taken");
        let stale = error_of(StatusCode::PRECONDITION_FAILED, &HeaderMap::new(), b"");
        assert!(
            matches!(stale, Error::Conflict { stale: true, .. }),
            "412 is a stale conflict"
        );
        let invalid = error_of(
            StatusCode::BAD_REQUEST,
            &HeaderMap::new(),
            br#"{"scimType":"invalidValue","detail":"'favouriteColour' is not an attribute of a User."}"#,
        );
        match invalid {
            Error::Validation { fields, .. } => assert_eq!(fields[0].field, "favouriteColour"),
            other => panic!("400 is a validation error, got {other:?}"),
        }
        let refused = error_of(
            StatusCode::BAD_REQUEST,
            &HeaderMap::new(),
            br#"{"scimType":"invalidValue","detail":"The field licence is for the technician role.","attribute":"role"}"#,
        );
        match refused {
            Error::Validation { fields, .. } => assert_eq!(
                fields[0].field, "role",
                "a named attribute is the field, whatever the sentence quotes"
            ),
            other => panic!("400 is a validation error, got {other:?}"),
        }
        let mut named = HeaderMap::new();
        named.insert("muster-attribute", "phone".parse().unwrap());
        let refused = error_of(
            StatusCode::BAD_REQUEST,
            &named,
            br#"{"scimType":"invalidValue","detail":"An SMS code needs a phone number."}"#,
        );
        match refused {
            Error::Validation { fields, .. } => assert_eq!(fields[0].field, "phone"),
            other => panic!("400 is a validation error, got {other:?}"),
        }
        let mut rules = HeaderMap::new();
        rules.insert("muster-unmet-rules", "length,upper".parse().unwrap());
        match error_of(
            StatusCode::BAD_REQUEST,
            &rules,
            br#"{"scimType":"invalidValue","detail":"Use at least 12 characters."}"#,
        ) {
            Error::Validation { fields, .. } => {
                assert_eq!(fields[0].field, "password");
                assert_eq!(fields[0].rules, ["length", "upper"], "the header's rules");
            }
            other => panic!("400 is a validation error, got {other:?}"),
        }
        let pydantic = error_of(
            StatusCode::BAD_REQUEST,
            &HeaderMap::new(),
            br#"{"scimType":"invalidSyntax","detail":"Extra inputs are not permitted: favouriteColour"}"#,
        );
        match pydantic {
            Error::Validation { fields, .. } => {
                assert_eq!(
                    fields[0].field, "favouriteColour",
                    "a trailing name is the field"
                )
            }
            other => panic!("400 is a validation error, got {other:?}"),
        }
        let html = error_of(
            StatusCode::BAD_GATEWAY,
            &HeaderMap::new(),
            b"<html>bad gateway</html>",
        );
        assert!(
            matches!(html, Error::Server { status: 502, .. }),
            "non-SCIM bodies are tolerated"
        );
    }

    #[test]
    fn retry_after_reads_seconds_and_dates() {
        let with = |value: &str| {
            let mut headers = HeaderMap::new();
            headers.insert(RETRY_AFTER, value.parse().unwrap());
            retry_after(&headers)
        };
        assert_eq!(with("7"), Some(Duration::from_secs(7)));
        assert_eq!(
            with("Sun, 06 Nov 1994 08:49:37 GMT"),
            Some(Duration::ZERO),
            "a date in the past means now"
        );
        let soon = time::OffsetDateTime::now_utc() + time::Duration::seconds(120);
        let date = soon
            .format(&time::format_description::well_known::Rfc2822)
            .unwrap()
            .replace("+0000", "GMT");
        let wait = with(&date).expect("an IMF-fixdate is understood");
        assert!(
            (Duration::from_secs(110)..=Duration::from_secs(121)).contains(&wait),
            "a date two minutes ahead is a two-minute wait, got {wait:?}"
        );
        assert_eq!(
            with("soon"),
            None,
            "nonsense is ignored, not read as a minute"
        );
    }

    #[test]
    fn only_repeatable_requests_are_retried() {
        let http = reqwest::Client::new();
        let url = "http://127.0.0.1:1/x";
        let build = |method: Method, if_match: bool| {
            let mut request = http.request(method, url);
            if if_match {
                request = request.header(IF_MATCH, "W/\"1\"");
            }
            request.build().unwrap()
        };
        assert!(repeatable(&build(Method::GET, false)));
        assert!(repeatable(&build(Method::PUT, false)));
        assert!(repeatable(&build(Method::DELETE, false)));
        assert!(
            repeatable(&build(Method::PATCH, true)),
            "a conditional PATCH"
        );
        assert!(
            !repeatable(&build(Method::PATCH, false)),
            "an unconditional PATCH could apply twice"
        );
        assert!(
            !repeatable(&build(Method::POST, true)),
            "a POST is never repeated"
        );
    }

    #[test]
    fn json_problems_never_quote_values() {
        #[derive(Debug, serde::Deserialize)]
        #[allow(dead_code)]
        struct Shape {
            ok: bool,
        }
        let answer = Answer {
            status: StatusCode::OK,
            headers: HeaderMap::new(),
            body: bytes::Bytes::from_static(br#"{"ok":"hunter2"}"#),
            attempts: 1,
        };
        let Error::Protocol { message, .. } = answer.json::<Shape>().unwrap_err() else {
            panic!("a body of the wrong shape is a protocol error");
        };
        assert!(
            !message.contains("hunter2") && message.contains("expected a boolean"),
            "serde's quoted value is dropped, its explanation kept: {message}"
        );
    }

    #[test]
    fn backoff_stays_under_its_ceiling() {
        let transport = Transport::new(&TransportConfig::default()).unwrap();
        for attempt in 1..10 {
            assert!(
                transport.backoff(attempt) <= Duration::from_secs(8),
                "capped at max_delay"
            );
        }
        assert!(transport.backoff(1) <= Duration::from_millis(250));
    }
}
