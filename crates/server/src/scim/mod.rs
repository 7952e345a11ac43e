//! SCIM 2.0 under `/o/{org}/scim/v2`: discovery, Users and Groups through one set of
//! handlers parameterised by [`kind::Kind`], and `/Bulk`. Every request here counts
//! against its account's API rate limit ([`crate::ratelimit::api_layer`]).

pub mod bulk;
pub mod discovery;
pub mod kind;
pub mod patch;
pub mod photo;
pub mod query;
pub mod render;
pub mod resources;
pub mod store;
pub mod validate;

use axum::Router;
use axum::http::{HeaderMap, header};
use axum::routing::{get, post};
use muster_scim::urn;
use serde_json::{Value, json};

use crate::AppState;

/// The SCIM routes, to be nested under `/o/{org}/scim/v2`.
pub fn routes(state: AppState) -> Router<AppState> {
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
        .route("/Bulk", post(bulk::run))
        .route("/actions", get(crate::lifecycle::actions::capabilities))
        .route(
            "/Users/{id}/photo",
            get(photo::get).put(photo::put).delete(photo::remove).layer(
                axum::extract::DefaultBodyLimit::max(photo::MAX_UPLOAD_BYTES),
            ),
        )
        .route(
            "/Users/{id}/actions/{name}",
            post(crate::lifecycle::actions::run),
        )
        .route("/{resource}", get(resources::list).post(resources::create))
        .route("/{resource}/.search", post(resources::search))
        .route(
            "/{resource}/{id}",
            get(resources::get_one)
                .put(resources::replace)
                .patch(resources::modify)
                .delete(resources::remove),
        )
        .route_layer(axum::middleware::from_fn_with_state(
            state,
            crate::ratelimit::api_layer,
        ))
}

/// The server's URL as the client reached it (`http://host:port`), or the configured
/// public URL: the root of resource locations and of the links in emails.
pub fn root_url(state: &AppState, headers: &HeaderMap) -> String {
    match &state.config.public_url {
        Some(url) => url.trim_end_matches('/').to_owned(),
        None => {
            let host = headers
                .get(header::HOST)
                .and_then(|h| h.to_str().ok())
                .filter(|h| !h.is_empty() && h.chars().all(|c| c.is_ascii_graphic()))
                .unwrap_or("localhost");
            format!("http://{host}")
        }
    }
}

/// The SCIM base URL of an organisation as the client reached it, for `meta.location`.
pub fn base_url(state: &AppState, headers: &HeaderMap, org: &str) -> String {
    format!("{}/o/{org}/scim/v2", root_url(state, headers))
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
