//! SCIM 2.0 under `/o/{org}/scim/v2`: discovery, and Users and Groups through one set of
//! handlers parameterised by [`kind::Kind`].

pub mod discovery;
pub mod kind;
pub mod patch;
pub mod query;
pub mod render;
pub mod resources;
pub mod store;
pub mod validate;

use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::http::{HeaderMap, StatusCode, header};
use axum::routing::{get, post};
use muster_scim::message::ScimType;
use muster_scim::urn;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::AppState;
use crate::error::{AppError, AppResult};

/// The SCIM routes, to be nested under `/o/{org}/scim/v2`.
pub fn routes(_state: AppState) -> Router<AppState> {
    Router::new()
        .route(
            "/ServiceProviderConfig",
            get(discovery::service_provider_config),
        )
        .route("/ResourceTypes", get(discovery::list_resource_types))
        .route("/ResourceTypes/{id}", get(discovery::get_resource_type))
        .route("/Schemas", get(discovery::list_schemas))
        .route("/Schemas/{id}", get(discovery::get_schema))
        .route("/.search", post(resources::search_all))
        .route("/{resource}", get(resources::list).post(resources::create))
        .route("/{resource}/.search", post(resources::search))
        .route(
            "/{resource}/{id}",
            get(resources::get_one)
                .put(resources::replace)
                .patch(resources::modify)
                .delete(resources::remove),
        )
}

/// The SCIM base URL of an organisation as the client reached it, for `meta.location`.
pub fn base_url(state: &AppState, headers: &HeaderMap, org: &str) -> String {
    let root = match &state.config.public_url {
        Some(url) => url.trim_end_matches('/').to_owned(),
        None => {
            let host = headers
                .get(header::HOST)
                .and_then(|h| h.to_str().ok())
                .filter(|h| !h.is_empty() && h.chars().all(|c| c.is_ascii_graphic()))
                .unwrap_or("localhost");
            format!("http://{host}")
        }
    };
    format!("{root}/o/{org}/scim/v2")
}

/// A ListResponse holding every item (discovery lists are small and never paged).
pub fn list_response(resources: Vec<Value>) -> Value {
    json!({
        "schemas": [urn::LIST_RESPONSE],
        "totalResults": resources.len(),
        "itemsPerPage": resources.len(),
        "startIndex": 1,
        "Resources": resources,
    })
}

/// Parses a JSON request body, turning every way it can be wrong into a SCIM error:
/// too large (413), unreadable, not JSON, or not the expected shape (400 invalidSyntax).
/// Both `application/scim+json` and `application/json` are accepted, as is no type.
pub fn parse_body<T: DeserializeOwned>(body: Result<Bytes, BytesRejection>) -> AppResult<T> {
    let bytes = body.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            AppError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!(
                    "The request body is larger than {} bytes.",
                    crate::MAX_BODY_BYTES
                ),
            )
        } else {
            AppError::bad_request(
                ScimType::InvalidSyntax,
                format!("The request body could not be read: {rejection}."),
            )
        }
    })?;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(AppError::bad_request(
            ScimType::InvalidSyntax,
            "The request body is empty.",
        ));
    }
    serde_json::from_slice(&bytes).map_err(|error| {
        AppError::bad_request(
            ScimType::InvalidSyntax,
            format!("The request body is not valid: {error}."),
        )
    })
}
