//! `GET|POST /o/{org}/api-tokens` and `DELETE /o/{org}/api-tokens/{id}`: API tokens of
//! API-licence integration accounts, listed without their secrets, issued (to another
//! account than one's own, with a recent sign-in, a scope and an expiry) and revoked;
//! each issue and revocation audited.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{delete, get};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::json;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::caller::Caller;
use super::no_store;
use super::tokens::{
    ApiTokenRequest, TokenScope, create_api_token, delete_api_token, list_api_tokens,
};
use crate::AppState;
use crate::audit::{self, Actor, Entry, Outcome};
use crate::body::JsonBody;
use crate::error::{AppError, AppResult};
use crate::ratelimit::ClientAddr;

/// The API token routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/o/{org}/api-tokens", get(list).post(create))
        .route("/o/{org}/api-tokens/{id}", delete(revoke))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct NewApiToken {
    user_id: String,
    name: String,
    #[serde(default)]
    expires_at: Option<String>,
    /// `read` (the default) or `provision`.
    #[serde(default)]
    scope: Option<TokenScope>,
}

#[derive(Serialize)]
struct CreatedApiToken {
    token: String,
    #[serde(flatten)]
    listed: super::tokens::ApiToken,
}

/// `POST /o/{org}/api-tokens`: issues an API token; its secret is in this answer only.
/// Admins and system admins who signed in within the last 10 minutes, for an API-licence
/// account other than their own; `read` scope unless `provision` is asked for; 90 days
/// unless `expiresAt` says otherwise (at most a year).
async fn create(
    caller: Caller,
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    Path(org): Path<String>,
    JsonBody(request): JsonBody<NewApiToken>,
) -> AppResult<Response> {
    crate::orgs::require_writable(&state, &caller, &org).await?;
    if caller.is_user(&org, &request.user_id) {
        return Err(AppError::forbidden(
            "An API token is never issued to oneself: issue it to the integration's own \
             API-licence account.",
        ));
    }
    let now = state.clock.now();
    caller.require_recent_sign_in(now)?;
    let expires = request
        .expires_at
        .as_deref()
        .map(parse_expiry)
        .transpose()?;
    let actor = Actor::from_caller(&caller);
    let created_by = caller.name().map(str::to_owned);
    let (listed, token) = state
        .db
        .write(move |tx| {
            let new = ApiTokenRequest {
                user_id: &request.user_id,
                name: &request.name,
                scope: request.scope.unwrap_or(TokenScope::Read),
                expires,
                created_by: created_by.as_deref(),
            };
            let created = create_api_token(tx, &org, new, now)?;
            let entry = Entry {
                org: Some(&org),
                actor,
                action: "api_token.create",
                target_id: Some(&created.0.id),
                target_name: Some(&created.0.name),
                client,
                outcome: Outcome::Success,
                detail: json!({
                    "userId": created.0.user_id,
                    "scope": created.0.scope,
                    "expiresAt": created.0.expires_at,
                }),
            };
            audit::record(tx, &entry, now)?;
            Ok(created)
        })
        .await?;
    Ok(no_store(
        StatusCode::CREATED,
        CreatedApiToken { token, listed },
    ))
}

fn parse_expiry(text: &str) -> AppResult<OffsetDateTime> {
    OffsetDateTime::parse(text.trim(), &Rfc3339).map_err(|_| {
        AppError::invalid_value("expiresAt must be an RFC 3339 time such as 2030-01-31T00:00:00Z.")
    })
}

#[derive(Serialize)]
struct ApiTokenList {
    tokens: Vec<super::tokens::ApiToken>,
}

/// `GET /o/{org}/api-tokens`: lists the org's API tokens, never their secrets. Readers
/// (admins, viewers, system admins) may list; only admins issue and revoke.
async fn list(
    caller: Caller,
    State(state): State<AppState>,
    Path(org): Path<String>,
) -> AppResult<Json<ApiTokenList>> {
    crate::orgs::require_readable(&state, &caller, &org).await?;
    let tokens = state
        .db
        .read(move |conn| list_api_tokens(conn, &org))
        .await?;
    Ok(Json(ApiTokenList { tokens }))
}

/// `DELETE /o/{org}/api-tokens/{id}`: revokes an API token.
async fn revoke(
    caller: Caller,
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    Path((org, id)): Path<(String, String)>,
) -> AppResult<StatusCode> {
    crate::orgs::require_writable(&state, &caller, &org).await?;
    let detail = format!("There is no API token '{id}' in organisation {org}.");
    let now = state.clock.now();
    let actor = Actor::from_caller(&caller);
    let deleted = state
        .db
        .write(move |tx| {
            let Some(deleted) = delete_api_token(tx, &org, &id)? else {
                return Ok(false);
            };
            let entry = Entry {
                org: Some(&org),
                actor,
                action: "api_token.revoke",
                target_id: Some(&id),
                target_name: Some(&deleted.name),
                client,
                outcome: Outcome::Success,
                detail: json!({"userId": deleted.user_id}),
            };
            audit::record(tx, &entry, now)?;
            Ok(true)
        })
        .await?;
    if deleted {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(AppError::not_found(detail))
    }
}
