//! The router of every `/auth` and token route, the endpoints that keep a session going
//! (`POST /auth/refresh`) and end it (`POST /auth/logout`), and the account and token
//! answer they share with signing in (`sign_in`).

use std::net::IpAddr;

use axum::Router;
use axum::extract::{FromRequest, Request, State};
use axum::http::StatusCode;
use axum::http::header::AUTHORIZATION;
use axum::response::Response;
use axum::routing::post;
use muster_scim::message::ScimType;
use rusqlite::{Connection, Transaction};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use time::OffsetDateTime;

use super::accounts::{OrgUser, SystemAdmin, org_user, system_admin};
use super::caller::{Role, bearer_token};
use super::sign_in::sign_in;
use super::tokens::{
    Owner, TokenKind, TokenPair, issue_pair, lookup, mark_rotated, revoke_session, token_hash,
};
use super::{no_store, session};
use crate::audit::{self, Actor, ActorKind, Entry, Outcome};
use crate::body::JsonBody;
use crate::error::{AppError, AppResult};
use crate::mfa;
use crate::ratelimit::{ClientAddr, account_key};
use crate::{AppState, Config};

/// `/auth/token`, `/auth/refresh`, `/auth/logout`, and the routes of `api_tokens`
/// (`/o/{org}/api-tokens[/{id}]`), `me` (`/auth/password`…), [`mfa`] (`/auth/mfa/*`) and
/// [`audit`] (`/o/{org}/audit`).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/auth/token", post(sign_in))
        .route("/auth/refresh", post(refresh))
        .route("/auth/logout", post(logout))
        .merge(super::api_tokens::routes())
        .merge(super::me::routes())
        .merge(mfa::routes())
        .merge(audit::routes())
}

const BAD_REFRESH: &str = "The refresh token is not valid; sign in again.";
const REFRESH_EXPIRED: &str = "The refresh token has expired; sign in again.";
const REFRESH_REUSED: &str = "This refresh token was already used, so the session has been \
                              signed out to protect the account; sign in again.";
const SIGNED_OUT: &str = "This session has been signed out; sign in again.";
const UNKNOWN_TOKEN: &str = "This token is not valid or is already signed out.";
/// The refusal when the account a token belongs to has been deleted.
pub(super) const ACCOUNT_GONE: &str = "This account no longer exists.";

/// Someone who can hold a session, as the token answer describes them.
pub(super) struct Account {
    pub(super) owner: Owner,
    pub(super) org: Option<String>,
    pub(super) user: UserSummary,
    /// The name the audit log knows them by: userName, or a system admin's email.
    pub(super) name: String,
    /// Why they may not sign in now; `None` when they may.
    pub(super) refusal: Option<&'static str>,
    pub(super) must_change_password: bool,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct UserSummary {
    pub(super) id: String,
    display_name: String,
    /// System admins are reported as `admin`: they have an admin's rights in every org.
    role: Role,
    system_admin: bool,
}

impl Account {
    pub(super) fn org_user(org: &str, user: OrgUser) -> Self {
        Self {
            owner: Owner::OrgUser {
                org: org.to_owned(),
                user_id: user.id.clone(),
            },
            org: Some(org.to_owned()),
            refusal: (!user.may_sign_in()).then(|| user.refusal()),
            must_change_password: user.must_change_password,
            name: user.user_name,
            user: UserSummary {
                id: user.id,
                display_name: user.display_name,
                role: user.role,
                system_admin: false,
            },
        }
    }

    pub(super) fn system_admin(admin: SystemAdmin) -> Self {
        Self {
            owner: Owner::SystemAdmin(admin.id.clone()),
            org: None,
            refusal: None,
            must_change_password: false,
            name: admin.email,
            user: UserSummary {
                id: admin.id,
                display_name: admin.display_name,
                role: Role::Admin,
                system_admin: true,
            },
        }
    }

    /// The account's [`Scope::SignInAccount`] key.
    pub(super) fn limit_key(&self) -> String {
        account_key(self.org.as_deref(), &self.user.id)
    }

    pub(super) fn actor(&self) -> Actor {
        Actor {
            kind: if self.user.system_admin {
                ActorKind::SystemAdmin
            } else {
                ActorKind::User
            },
            id: Some(self.user.id.clone()),
            name: Some(self.name.clone()),
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

/// Who `owner` is, for the audit log, even when the account is gone.
fn actor_of_owner(conn: &Connection, owner: &Owner) -> AppResult<Actor> {
    Ok(match account_of(conn, owner)? {
        Some(account) => account.actor(),
        None => match owner {
            Owner::SystemAdmin(id) => Actor {
                kind: ActorKind::SystemAdmin,
                id: Some(id.clone()),
                name: None,
            },
            Owner::OrgUser { user_id, .. } => Actor {
                kind: ActorKind::User,
                id: Some(user_id.clone()),
                name: None,
            },
        },
    })
}

/// An event of a session that its owner both did and had done to them: a sign-out, a
/// refresh token used twice.
struct SessionEvent {
    action: &'static str,
    outcome: Outcome,
    detail: Value,
}

impl SessionEvent {
    fn new(action: &'static str, outcome: Outcome, detail: Value) -> Self {
        Self {
            action,
            outcome,
            detail,
        }
    }

    /// Appends it to the audit log in `tx`.
    fn record(
        self,
        tx: &Transaction<'_>,
        owner: &Owner,
        client: Option<IpAddr>,
        now: OffsetDateTime,
    ) -> AppResult<()> {
        let actor = actor_of_owner(tx, owner)?;
        let entry = Entry {
            org: owner_org(owner),
            target_id: actor.id.as_deref(),
            target_name: actor.name.as_deref(),
            actor: actor.clone(),
            action: self.action,
            client,
            outcome: self.outcome,
            detail: self.detail,
        };
        audit::record(tx, &entry, now)
    }
}

fn owner_org(owner: &Owner) -> Option<&str> {
    match owner {
        Owner::OrgUser { org, .. } => Some(org),
        Owner::SystemAdmin(_) => None,
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct TokenAnswer {
    access_token: String,
    refresh_token: String,
    token_type: &'static str,
    expires_in: u64,
    org: Option<String>,
    user: UserSummary,
    must_change_password: bool,
    /// An admin of an organisation that requires two-factor, without it: everything but
    /// setting it up answers 403 `mfaEnrollmentRequired` until it is on.
    mfa_enrollment_required: bool,
}

impl TokenAnswer {
    /// The answer for `account`'s new pair (`conn` tells whether it must set up
    /// two-factor first).
    pub(super) fn new(
        conn: &Connection,
        pair: TokenPair,
        config: &Config,
        account: Account,
    ) -> AppResult<Self> {
        let mfa_enrollment_required = match &account.owner {
            Owner::OrgUser { org, user_id } => {
                super::caller::must_enrol_mfa(conn, org, user_id, account.user.role)?
            }
            Owner::SystemAdmin(_) => false,
        };
        Ok(Self {
            access_token: pair.access,
            refresh_token: pair.refresh,
            token_type: "Bearer",
            expires_in: config.access_token_ttl.as_secs(),
            org: account.org,
            user: account.user,
            must_change_password: account.must_change_password,
            mfa_enrollment_required,
        })
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RefreshRequest {
    refresh_token: String,
}

/// `POST /auth/refresh`: exchanges a refresh token for a new pair on the same session.
async fn refresh(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    JsonBody(request): JsonBody<RefreshRequest>,
) -> AppResult<Response> {
    if TokenKind::of_token(&request.refresh_token) != Some(TokenKind::Refresh) {
        return Err(AppError::unauthorized(BAD_REFRESH));
    }
    let hash = token_hash(&request.refresh_token);
    let (now, config) = (state.clock.now(), state.config.clone());
    let answer = state
        .db
        .write(move |tx| rotate(tx, &hash, client, now, &config))
        .await??;
    Ok(no_store(StatusCode::OK, answer))
}

/// Rotates the refresh token whose hash is `hash`. The outer error rolls back; the inner
/// one is a refusal whose writes (revoking a session on reuse, its audit entry) must be
/// committed.
fn rotate(
    tx: &Transaction<'_>,
    hash: &str,
    client: Option<IpAddr>,
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
        let detail = json!({"sessionId": session_id, "sessionRevoked": true});
        let event = SessionEvent::new("session.refresh_reused", Outcome::Denied, detail);
        event.record(tx, &row.owner, client, now)?;
        return refuse(REFRESH_REUSED);
    }
    // The session's own end and idle time, as its organisation sets them now (before
    // the token's expiry, which the session's end caps: the reason is the session's).
    if let Some(ended) = row.session.ended(session::lifetimes(tx, &row.owner)?, now) {
        revoke_session(tx, &session_id)?;
        tracing::info!(%session_id, ended, "session ended at refresh");
        return refuse(ended);
    }
    if row.is_expired(now) {
        return refuse(REFRESH_EXPIRED);
    }
    let Some(account) = account_of(tx, &row.owner)? else {
        revoke_session(tx, &session_id)?;
        return refuse(ACCOUNT_GONE);
    };
    if let Some(refusal) = account.refusal {
        revoke_session(tx, &session_id)?;
        return refuse(refusal);
    }
    mark_rotated(tx, hash, now)?;
    session::mark_used(tx, &session_id, now)?;
    let pair = issue_pair(
        tx,
        &session_id,
        &row.owner,
        row.session.expires,
        now,
        config,
    )?;
    Ok(Ok(TokenAnswer::new(tx, pair, config, account)?))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct LogoutRequest {
    refresh_token: String,
}

/// `POST /auth/logout`: revokes the session of the bearer token, or of the refresh token in
/// the body. Expired tokens still sign their session out.
async fn logout(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    request: Request,
) -> AppResult<StatusCode> {
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
    let now = state.clock.now();
    state
        .db
        .write(move |tx| {
            let row = lookup(tx, &hash)?.ok_or_else(|| AppError::unauthorized(UNKNOWN_TOKEN))?;
            let session_id = row
                .session_id
                .ok_or_else(|| AppError::unauthorized(SIGNED_OUT))?;
            tracing::info!(%session_id, "signed out");
            revoke_session(tx, &session_id)?;
            let detail = json!({"sessionId": session_id});
            let event = SessionEvent::new("session.sign_out", Outcome::Success, detail);
            event.record(tx, &row.owner, client, now)
        })
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
