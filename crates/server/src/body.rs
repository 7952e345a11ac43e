//! [`JsonBody`]: a JSON request body whose every rejection is a SCIM error body, not one of
//! axum's plain-text answers.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderMap, StatusCode};
use muster_scim::message::ScimType;
use serde::de::DeserializeOwned;
use serde_json::error::Category;

use crate::error::{AppError, AppResult};

/// A JSON body parsed into `T`. A missing `Content-Type` is accepted; any JSON type
/// (`application/json`, `application/scim+json`, `…+json`) is; others answer 415. Bodies
/// that are not JSON, or not the expected shape, answer 400 `invalidSyntax`.
#[derive(Debug, Clone, Copy, Default)]
pub struct JsonBody<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for JsonBody<T> {
    type Rejection = AppError;

    async fn from_request(request: Request, state: &S) -> AppResult<Self> {
        check_content_type(request.headers())?;
        let bytes = Bytes::from_request(request, state)
            .await
            .map_err(|rejection| {
                if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    AppError::new(
                        StatusCode::PAYLOAD_TOO_LARGE,
                        format!(
                            "The request body is larger than {} bytes.",
                            crate::MAX_BODY_BYTES
                        ),
                    )
                } else {
                    AppError::new(rejection.status(), "The request body could not be read.")
                }
            })?;
        parse_json(&bytes).map(JsonBody)
    }
}

/// Accepts a missing `Content-Type` and any JSON type; 415 otherwise.
pub(crate) fn check_content_type(headers: &HeaderMap) -> AppResult<()> {
    let Some(value) = headers.get(CONTENT_TYPE) else {
        return Ok(());
    };
    let essence = value
        .to_str()
        .unwrap_or("")
        .split(';')
        .next()
        .unwrap_or("")
        .trim();
    let essence = essence.to_ascii_lowercase();
    if essence == "application/json" || essence.ends_with("+json") {
        Ok(())
    } else {
        Err(AppError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "Send the body as JSON, with Content-Type: application/json.",
        ))
    }
}

/// Parses a JSON body into `T`, answering 400 `invalidSyntax` with what is wrong.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> AppResult<T> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(AppError::bad_request(
            ScimType::InvalidSyntax,
            "The request needs a JSON body.",
        ));
    }
    serde_json::from_slice(bytes).map_err(|error| {
        let detail = match error.classify() {
            Category::Data => format!("The JSON body does not have the expected fields: {error}."),
            Category::Io | Category::Syntax | Category::Eof => {
                format!("The request body is not valid JSON: {error}.")
            }
        };
        AppError::bad_request(ScimType::InvalidSyntax, detail)
    })
}
