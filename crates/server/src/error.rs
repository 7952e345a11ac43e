//! The server's one error type. Every failure a client can see leaves as an RFC 7644
//! §3.12 error body (`application/scim+json`), never as a bare status or a panic.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use muster_scim::message::{ScimError, ScimType};

/// A failed request: an HTTP status, an optional SCIM `scimType`, and a detail for people.
#[derive(Debug, thiserror::Error)]
#[error("{status}: {detail}")]
pub struct AppError {
    /// HTTP status.
    pub status: StatusCode,
    /// RFC 7644 `scimType`, for 400 and 409 answers.
    pub scim_type: Option<ScimType>,
    /// What went wrong, in words a person can act on. Never contains a secret.
    pub detail: String,
    /// Seconds to wait before trying again, sent as `Retry-After` (429 and 503).
    pub retry_after: Option<u64>,
    /// The ids of the password rules a refused password breaks, sent in the
    /// [`UNMET_RULES_HEADER`], so a client can mark them without reading the sentence.
    pub unmet_rules: Vec<&'static str>,
    /// The attribute at fault of a 409 `uniqueness` or a 400 `invalidValue`, sent in the
    /// [`ATTRIBUTE_HEADER`], so a client can mark the field without reading the sentence.
    pub attribute: Option<&'static str>,
}

impl AppError {
    /// An error with no `scimType`.
    pub fn new(status: StatusCode, detail: impl Into<String>) -> Self {
        Self {
            status,
            scim_type: None,
            detail: detail.into(),
            retry_after: None,
            unmet_rules: Vec::new(),
            attribute: None,
        }
    }

    /// 400 with a `scimType`.
    pub fn bad_request(scim_type: ScimType, detail: impl Into<String>) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            scim_type: Some(scim_type),
            detail: detail.into(),
            retry_after: None,
            unmet_rules: Vec::new(),
            attribute: None,
        }
    }

    /// 400 `invalidValue`.
    pub fn invalid_value(detail: impl Into<String>) -> Self {
        Self::bad_request(ScimType::InvalidValue, detail)
    }

    /// 400 `invalidValue` of `attribute`, named in the body (as [`AppError::taken`] does),
    /// so a client can mark the field without reading the sentence.
    pub fn invalid_attribute(attribute: &'static str, detail: impl Into<String>) -> Self {
        Self {
            attribute: Some(attribute),
            ..Self::invalid_value(detail)
        }
    }

    /// 401: no credentials, or credentials that are unknown, expired or revoked.
    pub fn unauthorized(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, detail)
    }

    /// 403: valid credentials that do not allow this.
    pub fn forbidden(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, detail)
    }

    /// 403 `reauthenticate`: changing credentials or factors needs a sign-in within the
    /// last [`crate::auth::session::RECENT`]; the client asks for the password again.
    pub fn reauthenticate() -> Self {
        Self {
            scim_type: Some(ScimType::Other(muster_scim::message::REAUTHENTICATE.into())),
            ..Self::forbidden(
                "Sign in again to do this: changes to passwords and two-factor need a sign-in \
                 within the last 10 minutes.",
            )
        }
    }

    /// 403 `mustChangePassword`: the account must choose its own password first.
    pub fn must_change_password() -> Self {
        Self {
            scim_type: Some(ScimType::Other(
                muster_scim::message::MUST_CHANGE_PASSWORD.into(),
            )),
            ..Self::forbidden(
                "Choose a new password first: the one you signed in with was set by an admin \
                 (POST /auth/password).",
            )
        }
    }

    /// 403 `mfaEnrollmentRequired`: the organisation requires two-factor for admins, and
    /// this admin has not set it up yet.
    pub fn mfa_enrollment_required() -> Self {
        Self {
            scim_type: Some(ScimType::Other(
                muster_scim::message::MFA_ENROLLMENT_REQUIRED.into(),
            )),
            ..Self::forbidden(
                "Set up two-factor sign-in first: this organisation requires it for admins \
                 (POST /auth/mfa/enroll).",
            )
        }
    }

    /// 403 `orgSuspended`: organisation `org` is suspended, so nothing of it may be used.
    pub fn org_suspended(org: &str) -> Self {
        Self {
            scim_type: Some(ScimType::Other(muster_scim::message::ORG_SUSPENDED.into())),
            ..Self::forbidden(format!(
                "Organisation {org} is suspended: its users cannot sign in or use the API \
                 until a system admin reactivates it."
            ))
        }
    }

    /// 404.
    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, detail)
    }

    /// 409 `uniqueness`.
    pub fn uniqueness(detail: impl Into<String>) -> Self {
        Self {
            status: StatusCode::CONFLICT,
            scim_type: Some(ScimType::Uniqueness),
            detail: detail.into(),
            retry_after: None,
            unmet_rules: Vec::new(),
            attribute: None,
        }
    }

    /// 409 `uniqueness` of a user's `attribute` (`userName`, `emails`), named in the body.
    pub fn taken(attribute: &'static str, detail: impl Into<String>) -> Self {
        Self {
            attribute: Some(attribute),
            ..Self::uniqueness(detail)
        }
    }

    /// 412: the `If-Match` version is not the current one.
    pub fn precondition_failed(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::PRECONDITION_FAILED, detail)
    }

    /// 429 with `Retry-After`.
    pub fn too_many_requests(retry_after_secs: u64, detail: impl Into<String>) -> Self {
        Self {
            retry_after: Some(retry_after_secs.max(1)),
            ..Self::new(StatusCode::TOO_MANY_REQUESTS, detail)
        }
    }

    /// 500 for a fault of ours. The cause is logged; the client gets no internals.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        tracing::error!(%cause, "internal error");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "The server failed to handle the request.",
        )
    }
}

impl From<rusqlite::Error> for AppError {
    fn from(error: rusqlite::Error) -> Self {
        Self::internal(format_args!("database: {error}"))
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let retry_after = self.retry_after;
        let body = ScimError {
            status: self.status.as_u16(),
            scim_type: self.scim_type,
            detail: Some(self.detail),
        };
        let mut response = (self.status, scim_json(&body)).into_response();
        // What Muster says besides (the attribute at fault, the password rules broken)
        // rides in headers: a SCIM error body takes no other members, and strict clients
        // refuse one that has them.
        if let Some(attribute) = self.attribute {
            response
                .headers_mut()
                .insert(ATTRIBUTE_HEADER, HeaderValue::from_static(attribute));
        }
        if !self.unmet_rules.is_empty()
            && let Ok(rules) = HeaderValue::from_str(&self.unmet_rules.join(","))
        {
            response.headers_mut().insert(UNMET_RULES_HEADER, rules);
        }
        if self.status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"muster\""),
            );
        }
        if let Some(seconds) = retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

/// The header naming the attribute at fault of a 400 `invalidValue` or 409 `uniqueness`.
pub const ATTRIBUTE_HEADER: &str = "muster-attribute";

/// The header listing the ids of the password rules a refused password breaks,
/// comma-separated.
pub const UNMET_RULES_HEADER: &str = "muster-unmet-rules";

/// The SCIM media type every answer carries.
pub const SCIM_MEDIA_TYPE: &str = "application/scim+json";

/// A JSON body with the SCIM media type.
pub fn scim_json<T: serde::Serialize>(body: &T) -> Response {
    match serde_json::to_vec(body) {
        Ok(bytes) => (
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static(SCIM_MEDIA_TYPE),
            )],
            bytes,
        )
            .into_response(),
        Err(error) => AppError::internal(format_args!("serialise: {error}")).into_response(),
    }
}

/// Result of a handler.
pub type AppResult<T> = Result<T, AppError>;
