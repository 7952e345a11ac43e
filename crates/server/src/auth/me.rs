//! The signed-in account's own credentials, each behind the current password (and a
//! current two-factor code when two-factor is on), never behind the bearer token alone:
//!
//! - `POST /auth/password` `{"currentPassword", "newPassword", "code"?}`: chooses a new
//!   password. The one way out of "must change password"; the other sessions and the
//!   account's API tokens end, this one is kept and counts as a fresh sign-in.
//! - `POST /auth/reauthenticate` `{"password", "code"?}`: proves it is still the account's
//!   holder, so that changes to credentials (anyone's password or two-factor, API tokens)
//!   are allowed for the next [`RECENT`](super::session::RECENT).
//! - `POST /auth/mfa/disable` `{"password", "code"}`: turns one's own two-factor off.
//! - `GET /auth/me`: the account as it is now; `POST /auth/sessions/end-others`: signs
//!   it out everywhere but here.
//!
//! A wrong password or code answers 400 and counts toward the account's sign-in (or
//! two-factor) limit, so these endpoints are no way around the sign-in throttle.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use rusqlite::{Connection, OptionalExtension, params};
use serde::Deserialize;
use serde_json::json;

use super::caller::{AccountCaller, Caller, Identity};
use super::password::{hash_password, verify_password};
use super::session;
use super::tokens::{Owner, owner_session_count, revoke_sessions_of, sign_out_user_except};
use crate::AppState;
use crate::audit::{self, Actor, Entry, Outcome};
use crate::body::JsonBody;
use crate::error::{AppError, AppResult};
use crate::mfa::{self, CodeError};
use crate::outbox;
use crate::ratelimit::{ClientAddr, Scope, account_client_key};

/// `/auth/password`, `/auth/reauthenticate`, `/auth/mfa/disable`.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/auth/password", post(change_password))
        .route("/auth/reauthenticate", post(reauthenticate))
        .route("/auth/mfa/disable", post(disable_mfa))
        .route("/auth/me", get(me))
        .route("/auth/sessions/end-others", post(end_other_sessions))
}

const WRONG_PASSWORD: &str = "The password is not correct.";
const CODE_NEEDED: &str = "Two-factor sign-in is on for this account: enter the code your \
                           authenticator app shows now as well.";
const WRONG_CODE: &str = "The two-factor code is not correct; enter the code your \
                          authenticator app shows now.";
const NO_SESSION: &str = "API tokens have no password; sign in as a person to do this.";

/// The session of a caller who signed in with a password; 403 for API tokens.
fn session_of(caller: &Caller) -> AppResult<String> {
    caller
        .session_id()
        .map(str::to_owned)
        .ok_or_else(|| AppError::forbidden(NO_SESSION))
}

/// The stored password hash of the caller's account, if it has one.
fn own_hash(conn: &Connection, caller: &Caller) -> AppResult<Option<String>> {
    Ok(match caller.identity() {
        Identity::SystemAdmin { id, .. } => conn
            .query_row(
                "SELECT password_hash FROM system_admins WHERE id = ?1",
                [id],
                |row| row.get(0),
            )
            .optional()?,
        Identity::OrgUser { org, user_id, .. } => conn
            .query_row(
                "SELECT password_hash FROM users WHERE org = ?1 AND id = ?2",
                params![org, user_id],
                |row| row.get::<_, Option<String>>(0),
            )
            .optional()?
            .flatten(),
    })
}

/// Checks `password` against the caller's own, within the account's sign-in limit: 400
/// when it is wrong (the failure counts), 429 when too many have failed.
pub(crate) async fn check_own_password(
    state: &AppState,
    caller: &Caller,
    client: Option<std::net::IpAddr>,
    password: String,
) -> AppResult<()> {
    let now = state.clock.now();
    let key = caller.account_key();
    let pair = account_client_key(&key, ClientAddr(client).limit_key().as_deref());
    state.limits.check(Scope::SignInAccountClient, &pair, now)?;
    state.limits.check(Scope::SignInAccount, &key, now)?;
    let lookup = caller.clone();
    let hash = state.db.read(move |conn| own_hash(conn, &lookup)).await?;
    let verified = tokio::task::spawn_blocking(move || match hash {
        Some(hash) => verify_password(&password, &hash),
        None => {
            super::password::verify_dummy(&password);
            false
        }
    })
    .await
    .map_err(AppError::internal)?;
    if verified {
        Ok(())
    } else {
        state.limits.hit(Scope::SignInAccountClient, &pair, now);
        state.limits.hit(Scope::SignInAccount, &key, now);
        Err(AppError::invalid_value(WRONG_PASSWORD))
    }
}

/// When the caller has two-factor on, checks `code` (required then) within the account's
/// two-factor limit; a wrong or used code answers 400 and counts.
async fn check_own_code(state: &AppState, caller: &Caller, code: Option<String>) -> AppResult<()> {
    let (org, user_id) = mfa::own_account(caller)?;
    let now = state.clock.now();
    let key = caller.account_key();
    state.limits.check(Scope::MfaCode, &key, now)?;
    state.limits.check(Scope::MfaCodeDaily, &key, now)?;
    let server_key = state.db.key();
    let outcome = state
        .db
        .write(move |tx| {
            if !mfa::is_enabled(tx, &org, &user_id)? {
                return Ok(Ok(()));
            }
            match code {
                None => Ok(Err(CODE_NEEDED)),
                Some(code) => Ok(
                    mfa::verify_code(tx, &server_key, &org, &user_id, &code, now)?.map_err(
                        |error| match error {
                            CodeError::Wrong | CodeError::Reused => WRONG_CODE,
                        },
                    ),
                ),
            }
        })
        .await?;
    outcome.map_err(|detail| {
        if detail == WRONG_CODE {
            state.limits.hit(Scope::MfaCode, &key, now);
            state.limits.hit(Scope::MfaCodeDaily, &key, now);
        }
        AppError::invalid_value(detail)
    })
}

/// Records an entry about the caller's own account.
async fn record(
    state: &AppState,
    caller: &Caller,
    client: Option<std::net::IpAddr>,
    action: &'static str,
    outcome: Outcome,
) -> AppResult<()> {
    let (caller, now) = (caller.clone(), state.clock.now());
    state
        .db
        .write(move |tx| {
            let target = caller
                .user_id()
                .or(caller.system_admin_id())
                .map(str::to_owned);
            audit::record(
                tx,
                &Entry {
                    org: caller.org(),
                    actor: Actor::from_caller(&caller),
                    action,
                    target_id: target.as_deref(),
                    target_name: caller.name(),
                    client,
                    outcome,
                    detail: json!({}),
                },
                now,
            )
        })
        .await
}

/// Runs the password and code checks, recording a refusal under `action`.
async fn prove(
    state: &AppState,
    caller: &Caller,
    client: Option<std::net::IpAddr>,
    action: &'static str,
    password: String,
    code: Option<String>,
) -> AppResult<()> {
    let proved = match check_own_password(state, caller, client, password).await {
        Ok(()) => check_own_code(state, caller, code).await,
        Err(error) => Err(error),
    };
    if let Err(error) = &proved
        && error.status == StatusCode::BAD_REQUEST
    {
        record(state, caller, client, action, Outcome::Failed).await?;
    }
    proved
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct PasswordChange {
    current_password: String,
    new_password: String,
    #[serde(default)]
    code: Option<String>,
}

/// `POST /auth/password`: 204 once the new password is set.
async fn change_password(
    AccountCaller(caller): AccountCaller,
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    JsonBody(request): JsonBody<PasswordChange>,
) -> AppResult<StatusCode> {
    const ACTION: &str = "user.password_change_own";
    let session_id = session_of(&caller)?;
    if request.new_password == request.current_password {
        return Err(AppError::invalid_value(
            "Choose a new password different from the current one.",
        ));
    }
    prove(
        &state,
        &caller,
        client,
        ACTION,
        request.current_password,
        request.code,
    )
    .await?;
    let hash = match caller.identity() {
        Identity::OrgUser { org, user_id, .. } => {
            let personal = {
                let (org, user_id) = (org.clone(), user_id.clone());
                state
                    .db
                    .read(move |conn| crate::policy::personal_info(conn, &org, &user_id))
                    .await?
            };
            crate::policy::checked_hash(&state, org, personal, request.new_password).await?
        }
        Identity::SystemAdmin { email, .. } => {
            let policy = crate::policy::PolicyStyle::Shop.policy();
            policy.check(&request.new_password, &[email.as_str()])?;
            let password = request.new_password;
            tokio::task::spawn_blocking(move || hash_password(&password))
                .await
                .map_err(AppError::internal)??
        }
    };
    let now = state.clock.now();
    let (writer, demo) = (caller.clone(), state.config.demo);
    let ended = state
        .db
        .write(move |tx| {
            let ended = match writer.identity() {
                Identity::OrgUser { org, user_id, .. } => {
                    tx.execute(
                        "UPDATE users SET password_hash = ?3, must_change_password = 0
                         WHERE org = ?1 AND id = ?2",
                        params![org, user_id, hash],
                    )?;
                    if let Some((to, org_name)) =
                        crate::lifecycle::actions::email_of(tx, org, user_id)?
                    {
                        outbox::queue(
                            tx,
                            Some(org),
                            &outbox::password_changed_notice(&to, &org_name),
                            demo,
                            now,
                        )?;
                    }
                    sign_out_user_except(tx, org, user_id, Some(&session_id))?
                }
                Identity::SystemAdmin { id, .. } => {
                    tx.execute(
                        "UPDATE system_admins SET password_hash = ?2 WHERE id = ?1",
                        params![id, hash],
                    )?;
                    revoke_sessions_of(tx, &writer.owner(), Some(&session_id))?
                }
            };
            session::mark_authenticated(tx, &session_id, now)?;
            Ok(ended)
        })
        .await?;
    tracing::info!(
        sessions_ended = ended,
        "a password was changed by its holder"
    );
    record(&state, &caller, client, ACTION, Outcome::Success).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Proof {
    password: String,
    #[serde(default)]
    code: Option<String>,
}

/// `POST /auth/reauthenticate`: 204, and the session counts as freshly signed in.
async fn reauthenticate(
    caller: Caller,
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    JsonBody(proof): JsonBody<Proof>,
) -> AppResult<StatusCode> {
    const ACTION: &str = "session.reauthenticate";
    let session_id = session_of(&caller)?;
    prove(&state, &caller, client, ACTION, proof.password, proof.code).await?;
    let now = state.clock.now();
    state
        .db
        .write(move |tx| session::mark_authenticated(tx, &session_id, now))
        .await?;
    record(&state, &caller, client, ACTION, Outcome::Success).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /auth/mfa/disable`: turns the caller's two-factor off (the password and a current
/// code); the other sessions and the account's API tokens end.
async fn disable_mfa(
    caller: Caller,
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    JsonBody(proof): JsonBody<Proof>,
) -> AppResult<Json<serde_json::Value>> {
    const ACTION: &str = "mfa.disable";
    let session_id = session_of(&caller)?;
    let (org, user_id) = mfa::own_account(&caller)?;
    let enabled = {
        let (org, user_id) = (org.clone(), user_id.clone());
        state
            .db
            .read(move |conn| mfa::is_enabled(conn, &org, &user_id))
            .await?
    };
    if !enabled {
        return Err(AppError::new(
            StatusCode::CONFLICT,
            "Two-factor sign-in is not on for this account.",
        ));
    }
    let code = Some(
        proof
            .code
            .ok_or_else(|| AppError::invalid_value(CODE_NEEDED))?,
    );
    prove(&state, &caller, client, ACTION, proof.password, code).await?;
    let (now, demo) = (state.clock.now(), state.config.demo);
    state
        .db
        .write(move |tx| {
            mfa::reset(tx, &org, &user_id)?;
            if org == mfa::SYSTEM {
                revoke_sessions_of(tx, &Owner::SystemAdmin(user_id), Some(&session_id))?;
                return Ok(());
            }
            sign_out_user_except(tx, &org, &user_id, Some(&session_id))?;
            if let Some((to, org_name)) = crate::lifecycle::actions::email_of(tx, &org, &user_id)? {
                outbox::queue(
                    tx,
                    Some(&org),
                    &outbox::mfa_off_notice(&to, &org_name),
                    demo,
                    now,
                )?;
            }
            Ok(())
        })
        .await?;
    record(&state, &caller, client, ACTION, Outcome::Success).await?;
    Ok(Json(json!({"mfaEnabled": false})))
}

/// `GET /auth/me`: the signed-in account as it is now (for "My account"): who, the role,
/// whether two-factor is on, how many sessions are open, and whether a new password
/// must be chosen first. Sessions only (an API token has no account page).
async fn me(
    AccountCaller(caller): AccountCaller,
    State(state): State<AppState>,
) -> AppResult<Json<serde_json::Value>> {
    session_of(&caller)?;
    let now = state.clock.now();
    let reader = caller.clone();
    let (mfa_enabled, sessions) = state
        .db
        .read(move |conn| match reader.identity() {
            Identity::OrgUser { org, user_id, .. } => Ok((
                mfa::is_enabled(conn, org, user_id)?,
                super::tokens::active_session_count(conn, org, user_id, now)?,
            )),
            Identity::SystemAdmin { id, .. } => Ok((
                mfa::is_enabled(conn, mfa::SYSTEM, id)?,
                owner_session_count(conn, &reader.owner(), now)?,
            )),
        })
        .await?;
    Ok(Json(json!({
        "id": caller.user_id().or(caller.system_admin_id()),
        "name": caller.name(),
        "role": caller.role().map_or("admin", super::Role::as_str),
        "systemAdmin": caller.is_system_admin(),
        "mfaEnabled": mfa_enabled,
        "activeSessions": sessions,
        "mustChangePassword": caller.must_change_password(),
        "mfaEnrollmentRequired": caller.must_enrol_mfa(),
    })))
}

/// `POST /auth/sessions/end-others`: signs the account out everywhere but here; answers
/// how many sessions ended.
async fn end_other_sessions(
    caller: Caller,
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
) -> AppResult<Json<serde_json::Value>> {
    let session_id = session_of(&caller)?;
    let owner = caller.owner();
    let ended = state
        .db
        .write(move |tx| revoke_sessions_of(tx, &owner, Some(&session_id)))
        .await?;
    record(
        &state,
        &caller,
        client,
        "session.end_others",
        Outcome::Success,
    )
    .await?;
    Ok(Json(json!({ "sessionsEnded": ended })))
}
