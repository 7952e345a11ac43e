//! Discovery (RFC 7644 §4): what this server supports, which resource types it serves and
//! the schemas that define them. Clients such as Muster's core read these to decide which
//! features to offer.

use axum::extract::{FromRequestParts, Path, RawPathParams, State};
use axum::http::request::Parts;
use axum::response::Response;
use muster_scim::schema::Schema;
use muster_scim::urn;
use serde_json::{Value, json};

use super::{base_url, list_response};
use crate::AppState;
use crate::auth::Caller;
use crate::error::{AppError, AppResult, scim_json};

/// `GET /ServiceProviderConfig`.
pub async fn service_provider_config(
    State(state): State<AppState>,
    Readable(base): Readable,
) -> AppResult<Response> {
    Ok(scim_json(&json!({
        "schemas": [urn::SERVICE_PROVIDER_CONFIG],
        "documentationUri": "https://github.com/muster-app/muster",
        "patch": {"supported": true},
        "bulk": {
            "supported": true,
            "maxOperations": super::bulk::MAX_OPERATIONS,
            "maxPayloadSize": super::bulk::MAX_PAYLOAD_BYTES
        },
        "filter": {"supported": true, "maxResults": state.config.max_results},
        "changePassword": {"supported": true},
        "sort": {"supported": true},
        "etag": {"supported": true},
        "authenticationSchemes": [{
            "type": "oauthbearertoken",
            "name": "Bearer token",
            "description": "An access token from POST /auth/token, or a long-lived API token.",
            "specUri": "https://www.rfc-editor.org/info/rfc6750",
            "primary": true
        }],
        "meta": {
            "resourceType": "ServiceProviderConfig",
            "location": format!("{base}/ServiceProviderConfig")
        }
    })))
}

fn resource_types(base: &str) -> Vec<Value> {
    vec![
        json!({
            "schemas": [urn::RESOURCE_TYPE],
            "id": "User",
            "name": "User",
            "endpoint": "/Users",
            "description": "People who sign in to the shop's software.",
            "schema": urn::USER,
            "schemaExtensions": [
                {"schema": urn::ENTERPRISE_USER, "required": false},
                {"schema": urn::SHOP_USER, "required": false}
            ],
            "meta": {"resourceType": "ResourceType", "location": format!("{base}/ResourceTypes/User")}
        }),
        json!({
            "schemas": [urn::RESOURCE_TYPE],
            "id": "Group",
            "name": "Group",
            "endpoint": "/Groups",
            "description": "Named sets of users.",
            "schema": urn::GROUP,
            "meta": {"resourceType": "ResourceType", "location": format!("{base}/ResourceTypes/Group")}
        }),
    ]
}

fn schemas(base: &str) -> Vec<Value> {
    muster_scim::schema::all_schemas()
        .iter()
        .map(|schema: &Schema| {
            let mut value = serde_json::to_value(schema).unwrap_or(Value::Null);
            if let Value::Object(object) = &mut value {
                object.insert("schemas".into(), json!([urn::SCHEMA]));
                object.insert(
                    "meta".into(),
                    json!({"resourceType": "Schema", "location": format!("{base}/Schemas/{}", schema.id)}),
                );
            }
            value
        })
        .collect()
}

/// `GET /ResourceTypes`.
pub async fn list_resource_types(Readable(base): Readable) -> AppResult<Response> {
    Ok(scim_json(&list_response(resource_types(&base))))
}

/// `GET /ResourceTypes/{id}`.
pub async fn get_resource_type(
    Readable(base): Readable,
    Path((_, id)): Path<(String, String)>,
) -> AppResult<Response> {
    one_by_id(resource_types(&base), &id, "resource type")
}

/// `GET /Schemas`.
pub async fn list_schemas(Readable(base): Readable) -> AppResult<Response> {
    Ok(scim_json(&list_response(schemas(&base))))
}

/// `GET /Schemas/{id}`.
pub async fn get_schema(
    Readable(base): Readable,
    Path((_, id)): Path<(String, String)>,
) -> AppResult<Response> {
    one_by_id(schemas(&base), &id, "schema")
}

/// What every discovery document starts from: the SCIM base URL of the `{org}` in the
/// path, once the caller may read it and the organisation exists.
#[derive(Debug)]
pub struct Readable(pub String);

impl FromRequestParts<AppState> for Readable {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> AppResult<Self> {
        let caller = Caller::from_request_parts(parts, state).await?;
        let params = RawPathParams::from_request_parts(parts, state)
            .await
            .map_err(|_| AppError::not_found("There is no such endpoint."))?;
        let org = params
            .iter()
            .find_map(|(name, value)| (name == "org").then_some(value))
            .ok_or_else(|| AppError::not_found("There is no such endpoint."))?;
        crate::orgs::require_readable(state, &caller, org).await?;
        Ok(Self(base_url(state, &parts.headers, org)))
    }
}

/// The item of a discovery list whose `id` is `id` (case-insensitively), or 404.
fn one_by_id(items: Vec<Value>, id: &str, what: &str) -> AppResult<Response> {
    items
        .into_iter()
        .find(|item| {
            item["id"]
                .as_str()
                .is_some_and(|v| v.eq_ignore_ascii_case(id))
        })
        .map(|item| scim_json(&item))
        .ok_or_else(|| AppError::not_found(format!("There is no {what} '{id}'.")))
}
