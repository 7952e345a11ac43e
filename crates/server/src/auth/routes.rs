//! HTTP endpoints for signing in and out and for API tokens.

use axum::extract::{FromRequest, Path, Request, State};
use axum::http::StatusCode;
use axum::http::header::{AUTHORIZATION, CACHE_CONTROL, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use muster_scim::message::ScimType;
use rusqlite::{Connection, Transaction};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::accounts::{
    OrgUser, SystemAdmin, org_user, org_user_by_login, system_admin, system_admin_by_email,
};
use super::caller::{Caller, Role, bearer_token};
use super::password::{verify_dummy, verify_password};
use super::tokens::{
    Owner, TokenKind, TokenPair, cleanup, create_api_token, delete_api_token, issue_pair,
    list_api_tokens, lookup, mark_rotated, revoke_session, start_session, token_hash,
};
use crate::body::JsonBody;
use crate::error::{AppError, AppResult};
use crate::orgs::require_org;
use crate::{AppState, Config};

/// `/auth/token`, `/auth/refresh`, `/auth/logout` and `/o/{org}/api-tokens[/{id}]`.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/auth/token", post(sign_in))
        .route("/auth/refresh", post(refresh))
        .route("/auth/logout", post(logout))
        .route("/o/{org}/api-tokens", get(list).post(create))
        .route("/o/{org}/api-tokens/{id}", delete(revoke))
}

const WRONG_CREDENTIALS: &str = "The email or password is incorrect.";
const NOT_ACTIVE: &str = "This account is not active; ask an admin of your organisation.";
const BAD_REFRESH: &str = "The refresh token is not valid; sign in again.";
const REFRESH_EXPIRED: &str = "The refresh token has expired; sign in again.";
const REFRESH_REUSED: &str = "This refresh token was already used, so the session has been \
                              signed out to protect the account; sign in again.";
const SIGNED_OUT: &str = "This session has been signed out; sign in again.";
const UNKNOWN_TOKEN: &str = "This token is not valid or is already signed out.";
const ACCOUNT_GONE: &str = "This account no longer exists or is not active.";

/// Someone who can hold a session, as the token answer describes them.
struct Account {
    owner: Owner,
    org: Option<String>,
    user: UserSummary,
    enabled: bool,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct UserSummary {
    id: String,
    display_name: String,
    /// System admins are reported as `admin`: they have an admin's rights in every org.
    role: Role,
    system_admin: bool,
}

impl Account {
    fn org_user(org: &str, user: OrgUser) -> Self {
        Self {
            owner: Owner::OrgUser {
                org: org.to_owned(),
                user_id: user.id.clone(),
            },
            org: Some(org.to_owned()),
            enabled: user.enabled,
            user: UserSummary {
                id: user.id,
                display_name: user.display_name,
                role: user.role,
                system_admin: false,
            },
        }
    }

    fn system_admin(admin: SystemAdmin) -> Self {
        Self {
            owner: Owner::SystemAdmin(admin.id.clone()),
            org: None,
            enabled: true,
            user: UserSummary {
                id: admin.id,
                display_name: admin.display_name,
                role: Role::Admin,
                system_admin: true,
            },
        }
    }
}

/// The account that `owner` is today, if it still exists.
fn account_of(conn: &Connection, owner: &Owner) -> AppResult<Option<Account>> {
    Ok(match owner {
        Owner::SystemAdmin(id) => system_admin(conn, id)?.map(Account::system_admin),
        Owner::OrgUser { org, user_id } => {
            org_user(conn, org, user_id)?.map(|user| Account::org_user(org, user))
        }
    })
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct TokenAnswer {
    access_token: String,
    refresh_token: String,
    token_type: &'static str,
    expires_in: u64,
    org: Option<String>,
    user: UserSummary,
}

impl TokenAnswer {
    fn new(pair: TokenPair, config: &Config, account: Account) -> Self {
        Self {
            access_token: pair.access,
            refresh_token: pair.refresh,
            token_type: "Bearer",
            expires_in: config.access_token_ttl.as_secs(),
            org: account.org,
            user: account.user,
        }
    }
}

/// Secrets in an answer must not be cached by anything on the way.
fn no_store(status: StatusCode, body: impl Serialize) -> Response {
    let mut response = (status, Json(body)).into_response();
    response
        .headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

#[derive(Deserialize)]
struct SignInRequest {
    email: String,
    password: String,
    #[serde(default)]
    org: Option<String>,
}

/// `POST /auth/token`: an org user (with `org`) or a system admin (without) signs in.
async fn sign_in(
    State(state): State<AppState>,
    JsonBody(request): JsonBody<SignInRequest>,
) -> AppResult<Response> {
    let SignInRequest {
        email,
        password,
        org,
    } = request;
    let found = state
        .db
        .read(move |conn| find_account(conn, org.as_deref(), &email))
        .await?;
    let (account, hash) = found.map_or((None, None), |(account, hash)| (Some(account), hash));
    let verified = check_password(password, hash).await?;
    let account = account
        .filter(|_| verified)
        .ok_or_else(|| AppError::unauthorized(WRONG_CREDENTIALS))?;
    if !account.enabled {
        return Err(AppError::unauthorized(NOT_ACTIVE));
    }
    let (now, config) = (state.clock.now(), state.config.clone());
    let answer = state
        .db
        .write(move |tx| {
            cleanup(tx, now)?;
            let pair = start_session(tx, &account.owner, now, &config)?;
            Ok(TokenAnswer::new(pair, &config, account))
        })
        .await?;
    Ok(no_store(StatusCode::OK, answer))
}

/// The account signing in with `login`, and its password hash if it has one.
fn find_account(
    conn: &Connection,
    org: Option<&str>,
    login: &str,
) -> AppResult<Option<(Account, Option<String>)>> {
    Ok(match org {
        Some(org) => org_user_by_login(conn, org, login)?
            .map(|(user, hash)| (Account::org_user(org, user), hash)),
        None => system_admin_by_email(conn, login)?
            .map(|(admin, hash)| (Account::system_admin(admin), Some(hash))),
    })
}

/// Verifies off the async runtime; with no hash, spends the same time and says no.
async fn check_password(password: String, hash: Option<String>) -> AppResult<bool> {
    tokio::task::spawn_blocking(move || match hash {
        Some(hash) => verify_password(&password, &hash),
        None => {
            verify_dummy(&password);
            false
        }
    })
    .await
    .map_err(AppError::internal)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RefreshRequest {
    refresh_token: String,
}

/// `POST /auth/refresh`: exchanges a refresh token for a new pair on the same session.
async fn refresh(
    State(state): State<AppState>,
    JsonBody(request): JsonBody<RefreshRequest>,
) -> AppResult<Response> {
    if TokenKind::of_token(&request.refresh_token) != Some(TokenKind::Refresh) {
        return Err(AppError::unauthorized(BAD_REFRESH));
    }
    let hash = token_hash(&request.refresh_token);
    let (now, config) = (state.clock.now(), state.config.clone());
    let answer = state
        .db
        .write(move |tx| rotate(tx, &hash, now, &config))
        .await??;
    Ok(no_store(StatusCode::OK, answer))
}

/// Rotates the refresh token whose hash is `hash`. The outer error rolls back; the inner
/// one is a refusal whose writes (revoking a session on reuse) must be committed.
fn rotate(
    tx: &Transaction<'_>,
    hash: &str,
    now: OffsetDateTime,
    config: &Config,
) -> AppResult<AppResult<TokenAnswer>> {
    let refuse = |detail: &str| Ok(Err(AppError::unauthorized(detail)));
    let Some(row) = lookup(tx, hash)?.filter(|row| row.kind == TokenKind::Refresh) else {
        return refuse(BAD_REFRESH);
    };
    let session_id = row
        .session_id
        .clone()
        .ok_or_else(|| AppError::internal("no session"))?;
    if row.session_revoked {
        return refuse(SIGNED_OUT);
    }
    if row.rotated {
        revoke_session(tx, &session_id)?;
        tracing::warn!(%session_id, "a used refresh token was presented again; session revoked");
        return refuse(REFRESH_REUSED);
    }
    if row.is_expired(now) {
        return refuse(REFRESH_EXPIRED);
    }
    let Some(account) = account_of(tx, &row.owner)?.filter(|account| account.enabled) else {
        revoke_session(tx, &session_id)?;
        return refuse(ACCOUNT_GONE);
    };
    mark_rotated(tx, hash, now)?;
    let pair = issue_pair(tx, &session_id, &row.owner, now, config)?;
    Ok(Ok(TokenAnswer::new(pair, config, account)))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct LogoutRequest {
    refresh_token: String,
}

/// `POST /auth/logout`: revokes the session of the bearer token, or of the refresh token in
/// the body. Expired tokens still sign their session out.
async fn logout(State(state): State<AppState>, request: Request) -> AppResult<StatusCode> {
    let token = if request.headers().contains_key(AUTHORIZATION) {
        let (parts, _) = request.into_parts();
        bearer_token(&parts)?.to_owned()
    } else {
        let JsonBody(body) = JsonBody::<LogoutRequest>::from_request(request, &state).await?;
        body.refresh_token
    };
    match TokenKind::of_token(&token) {
        Some(TokenKind::Api) => {
            return Err(AppError::bad_request(
                ScimType::InvalidValue,
                "API tokens have no session; revoke them with DELETE /o/{org}/api-tokens/{id}.",
            ));
        }
        None => return Err(AppError::unauthorized(BAD_REFRESH)),
        Some(TokenKind::Access | TokenKind::Refresh) => {}
    }
    let hash = token_hash(&token);
    state
        .db
        .write(move |tx| {
            let row = lookup(tx, &hash)?.ok_or_else(|| AppError::unauthorized(UNKNOWN_TOKEN))?;
            let session_id = row
                .session_id
                .ok_or_else(|| AppError::unauthorized(SIGNED_OUT))?;
            tracing::info!(%session_id, "signed out");
            revoke_session(tx, &session_id)
        })
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct NewApiToken {
    user_id: String,
    name: String,
    #[serde(default)]
    expires_at: Option<String>,
}

#[derive(Serialize)]
struct CreatedApiToken {
    token: String,
    #[serde(flatten)]
    listed: super::tokens::ApiToken,
}

/// `POST /o/{org}/api-tokens`: issues an API token; its secret is in this answer only.
async fn create(
    caller: Caller,
    State(state): State<AppState>,
    Path(org): Path<String>,
    JsonBody(request): JsonBody<NewApiToken>,
) -> AppResult<Response> {
    caller.require_write(&org)?;
    require_org(&state, &org).await?;
    let expires = request
        .expires_at
        .as_deref()
        .map(parse_expiry)
        .transpose()?;
    let now = state.clock.now();
    let (listed, token) = state
        .db
        .write(move |tx| create_api_token(tx, &org, &request.user_id, &request.name, expires, now))
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
    caller.require_read(&org)?;
    require_org(&state, &org).await?;
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
    Path((org, id)): Path<(String, String)>,
) -> AppResult<StatusCode> {
    caller.require_write(&org)?;
    require_org(&state, &org).await?;
    let detail = format!("There is no API token '{id}' in organisation {org}.");
    let deleted = state
        .db
        .write(move |tx| delete_api_token(tx, &org, &id))
        .await?;
    if deleted {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(AppError::not_found(detail))
    }
}
