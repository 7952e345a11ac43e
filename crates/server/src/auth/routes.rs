//! HTTP endpoints for signing in and out, and the router of every `/auth` and token route.

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
use serde_json::json;
use time::OffsetDateTime;

use super::accounts::{
    OrgUser, SystemAdmin, org_user, org_user_by_login, system_admin, system_admin_by_email,
};
use super::caller::{Role, bearer_token};
use super::password::{verify_dummy, verify_password};
use super::tokens::{
    Owner, TokenKind, TokenPair, cleanup, issue_pair, lookup, mark_rotated, revoke_session,
    start_session, token_hash,
};
use super::{no_store, session};
use crate::audit::{self, Actor, ActorKind, Entry, Outcome};
use crate::body::JsonBody;
use crate::error::{AppError, AppResult};
use crate::lifecycle::{SignInMethod, record_sign_in};
use crate::mfa::{self, CodeError, Redeemed};
use crate::orgs::org_exists;
use crate::ratelimit::{ClientAddr, Scope, account_client_key, account_key, login_key};
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

const WRONG_CREDENTIALS: &str = "The email or password is incorrect.";
const BAD_SIGN_IN_BODY: &str = "Send \"email\" and \"password\" (with \"org\" for a user of an \
                                organisation), or \"challenge\" and \"code\" to finish a \
                                two-factor sign-in.";
const NO_CHALLENGE: &str = "This two-factor sign-in has expired or was already completed; sign \
                            in again with your password.";
const WRONG_CODE: &str = "The two-factor code is not correct; enter the code your \
                          authenticator app shows now.";
const CHALLENGE_VOID: &str = "Too many wrong two-factor codes for this sign-in; sign in again \
                              with your password.";
const REUSED_CODE: &str = "This two-factor code has already been used; wait for the next one.";
const BAD_REFRESH: &str = "The refresh token is not valid; sign in again.";
const REFRESH_EXPIRED: &str = "The refresh token has expired; sign in again.";
const REFRESH_REUSED: &str = "This refresh token was already used, so the session has been \
                              signed out to protect the account; sign in again.";
const SIGNED_OUT: &str = "This session has been signed out; sign in again.";
const UNKNOWN_TOKEN: &str = "This token is not valid or is already signed out.";
const ACCOUNT_GONE: &str = "This account no longer exists.";

/// Someone who can hold a session, as the token answer describes them.
struct Account {
    owner: Owner,
    org: Option<String>,
    user: UserSummary,
    /// The name the audit log knows them by: userName, or a system admin's email.
    name: String,
    /// Why they may not sign in now; `None` when they may.
    refusal: Option<&'static str>,
    must_change_password: bool,
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

    fn system_admin(admin: SystemAdmin) -> Self {
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
    fn limit_key(&self) -> String {
        account_key(self.org.as_deref(), &self.user.id)
    }

    fn actor(&self) -> Actor {
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

fn owner_org(owner: &Owner) -> Option<&str> {
    match owner {
        Owner::OrgUser { org, .. } => Some(org),
        Owner::SystemAdmin(_) => None,
    }
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
    must_change_password: bool,
    /// An admin of an organisation that requires two-factor, without it: everything but
    /// setting it up answers 403 `mfaEnrollmentRequired` until it is on.
    mfa_enrollment_required: bool,
}

impl TokenAnswer {
    /// The answer for `account`'s new pair (`conn` tells whether it must set up
    /// two-factor first).
    fn new(
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

/// The first step's answer for an account with two-factor sign-in on.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct MfaRequired {
    mfa_required: bool,
    challenge: String,
    expires_in: i64,
}

#[derive(Deserialize)]
struct SignInRequest {
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    password: Option<String>,
    #[serde(default)]
    org: Option<String>,
    #[serde(default)]
    challenge: Option<String>,
    #[serde(default)]
    code: Option<String>,
}

/// `POST /auth/token`, in one or two steps.
///
/// 1. `{"email", "password", "org"?}`: an org user (with `org`) or a system admin
///    (without) signs in. Answers tokens, or, when two-factor sign-in is on,
///    `{"mfaRequired": true, "challenge", "expiresIn": 300}` and no tokens.
/// 2. `{"challenge", "code"}`: the challenge and a current TOTP code answer tokens.
///
/// Failures count toward the per-account and per-address limits (429 with
/// `Retry-After`); a successful sign-in clears the account's count. Every attempt is
/// audited; passwords, codes and tokens never are.
async fn sign_in(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    JsonBody(request): JsonBody<SignInRequest>,
) -> AppResult<Response> {
    match request {
        SignInRequest {
            challenge: Some(challenge),
            code: Some(code),
            ..
        } => code_step(state, client, challenge, code).await,
        SignInRequest {
            email: Some(email),
            password: Some(password),
            org,
            challenge: None,
            ..
        } => password_step(state, client, email, password, org).await,
        _ => Err(AppError::bad_request(
            ScimType::InvalidSyntax,
            BAD_SIGN_IN_BODY,
        )),
    }
}

/// A failed sign-in attempt, for the audit log.
struct Failure<'a> {
    org: Option<&'a str>,
    target_id: Option<&'a str>,
    login: Option<&'a str>,
    reason: &'static str,
    problem: Option<&'static str>,
}

async fn record_failure(state: &AppState, client: Option<IpAddr>, failure: Failure<'_>) {
    let mut detail = json!({"reason": failure.reason});
    if let Some(problem) = failure.problem {
        detail["problem"] = json!(problem);
    }
    audit::record_detached(
        state,
        Entry {
            org: failure.org,
            actor: Actor::anonymous(),
            action: "session.sign_in_failed",
            target_id: failure.target_id,
            target_name: failure.login,
            client,
            outcome: Outcome::Failed,
            detail,
        },
    )
    .await;
}

/// Records that an account has met the ceiling of failed sign-ins from everywhere and is
/// locked for the window: an attack from many addresses, for the admins to see.
async fn record_lock(
    state: &AppState,
    client: Option<IpAddr>,
    org: Option<&str>,
    target_id: Option<&str>,
    login: Option<&str>,
) {
    let rule = state.limits.settings().sign_in_account;
    audit::record_detached(
        state,
        Entry {
            org,
            actor: Actor::anonymous(),
            action: "session.account_locked",
            target_id,
            target_name: login,
            client,
            outcome: Outcome::Denied,
            detail: json!({
                "failures": rule.max,
                "windowMinutes": rule.window.whole_minutes(),
            }),
        },
    )
    .await;
}

fn client_key(client: Option<IpAddr>) -> Option<String> {
    ClientAddr(client).limit_key()
}

/// Step 1: email and password.
async fn password_step(
    state: AppState,
    client: Option<IpAddr>,
    email: String,
    password: String,
    org: Option<String>,
) -> AppResult<Response> {
    let now = state.clock.now();
    let login = email.trim().to_owned();
    let lookup_org = org.clone();
    let lookup_login = login.clone();
    let (found, org_known) = state
        .db
        .read(move |conn| {
            let found = find_account(conn, lookup_org.as_deref(), &lookup_login)?;
            let known = match &lookup_org {
                Some(org) => org_exists(conn, org)?,
                None => false,
            };
            Ok((found, known))
        })
        .await?;
    let audit_org = org.as_deref().filter(|_| org_known);
    let limit_key = match &found {
        Some((account, _)) => account.limit_key(),
        None => login_key(org.as_deref(), &login),
    };
    let target_id = found.as_ref().map(|(account, _)| account.user.id.clone());
    // What was typed is kept only when it names an account: otherwise it may be a
    // password typed into the wrong field.
    let known_login = found.is_some().then_some(login.as_str());
    let failure = |reason, problem| Failure {
        org: audit_org,
        target_id: target_id.as_deref(),
        login: known_login,
        reason,
        problem,
    };
    let client_key = client_key(client);
    let pair_key = account_client_key(&limit_key, client_key.as_deref());
    let limited = state
        .limits
        .check(Scope::SignInAccountClient, &pair_key, now)
        .and_then(|()| state.limits.check(Scope::SignInAccount, &limit_key, now))
        .and_then(|()| match &client_key {
            Some(key) => state.limits.check(Scope::SignInClient, key, now),
            None => Ok(()),
        });
    // A throttled attempt writes no audit row: a flood of them would bury the log (the
    // attempts that reached the limit are there already).
    limited?;

    let (account, hash) = found.map_or((None, None), |(account, hash)| (Some(account), hash));
    let verified = check_password(password, hash).await?;
    let Some(account) = account.filter(|_| verified) else {
        state.limits.hit(Scope::SignInAccountClient, &pair_key, now);
        let total = state.limits.hit(Scope::SignInAccount, &limit_key, now);
        if let Some(key) = &client_key {
            state.limits.hit(Scope::SignInClient, key, now);
        }
        record_failure(&state, client, failure("bad_credentials", None)).await;
        if total == state.limits.settings().sign_in_account.max as usize {
            record_lock(&state, client, audit_org, target_id.as_deref(), known_login).await;
        }
        return Err(AppError::unauthorized(WRONG_CREDENTIALS));
    };
    if let Some(refusal) = account.refusal {
        record_failure(&state, client, failure("not_active", None)).await;
        return Err(AppError::unauthorized(refusal));
    }

    let config = state.config.clone();
    let answer = state
        .db
        .write(move |tx| {
            let (org, user_id) = match &account.owner {
                Owner::OrgUser { org, user_id } => (org.as_str(), user_id.as_str()),
                Owner::SystemAdmin(id) => (mfa::SYSTEM, id.as_str()),
            };
            if mfa::is_enabled(tx, org, user_id)? {
                let challenge = mfa::start_challenge(tx, org, user_id, now)?;
                audit::record(
                    tx,
                    &Entry {
                        org: account.org.as_deref(),
                        actor: account.actor(),
                        action: "session.mfa_challenge",
                        target_id: Some(user_id),
                        target_name: Some(&account.name),
                        client,
                        outcome: Outcome::Success,
                        detail: json!({}),
                    },
                    now,
                )?;
                return Ok(SignInAnswer::Mfa(MfaRequired {
                    mfa_required: true,
                    challenge,
                    expires_in: mfa::CHALLENGE_TTL.whole_seconds(),
                }));
            }
            complete_sign_in(tx, account, client, now, &config).map(SignInAnswer::Tokens)
        })
        .await?;
    if let SignInAnswer::Tokens(_) = &answer {
        state.limits.clear(Scope::SignInAccount, &limit_key);
        state.limits.clear(Scope::SignInAccountClient, &pair_key);
    }
    Ok(match answer {
        SignInAnswer::Tokens(tokens) => no_store(StatusCode::OK, tokens),
        SignInAnswer::Mfa(challenge) => no_store(StatusCode::OK, challenge),
    })
}

enum SignInAnswer {
    Tokens(TokenAnswer),
    Mfa(MfaRequired),
}

/// Opens a session for an account that has proved who it is, records the sign-in on the
/// user and in the audit log, and answers its tokens.
fn complete_sign_in(
    tx: &Transaction<'_>,
    account: Account,
    client: Option<IpAddr>,
    now: OffsetDateTime,
    config: &Config,
) -> AppResult<TokenAnswer> {
    cleanup(tx, now)?;
    let pair = start_session(tx, &account.owner, now, config)?;
    if let Owner::OrgUser { org, user_id } = &account.owner {
        record_sign_in(tx, org, user_id, SignInMethod::Password, now)?;
    }
    audit::record(
        tx,
        &Entry {
            org: account.org.as_deref(),
            actor: account.actor(),
            action: "session.sign_in",
            target_id: Some(&account.user.id),
            target_name: Some(&account.name),
            client,
            outcome: Outcome::Success,
            detail: json!({"method": SignInMethod::Password.as_str()}),
        },
        now,
    )?;
    TokenAnswer::new(tx, pair, config, account)
}

/// A refused second step: the 401's detail, and whether it counts toward the rate limits
/// (a wrong or replayed code does; a stale challenge or a blocked account does not).
struct Refusal {
    detail: &'static str,
    counts: bool,
}

impl Refusal {
    fn counted(detail: &'static str) -> Self {
        Self {
            detail,
            counts: true,
        }
    }

    fn uncounted(detail: &'static str) -> Self {
        Self {
            detail,
            counts: false,
        }
    }
}

/// Step 2: the challenge and a TOTP code.
async fn code_step(
    state: AppState,
    client: Option<IpAddr>,
    challenge: String,
    code: String,
) -> AppResult<Response> {
    let now = state.clock.now();
    let client_key = client_key(client);
    let no_challenge = Failure {
        org: None,
        target_id: None,
        login: None,
        reason: "mfa_failed",
        problem: Some("expired_or_unknown_challenge"),
    };
    // Throttled attempts write no audit row (see `password_step`).
    if let Some(key) = &client_key {
        state.limits.check(Scope::SignInClient, key, now)?;
    }
    let lookup = challenge.clone();
    let owner = state
        .db
        .read(move |conn| mfa::challenge_owner(conn, &lookup, now))
        .await?;
    let hit_client = || {
        if let Some(key) = &client_key {
            state.limits.hit(Scope::SignInClient, key, now);
        }
    };
    let Some((org, user_id)) = owner else {
        hit_client();
        record_failure(&state, client, no_challenge).await;
        return Err(AppError::unauthorized(NO_CHALLENGE));
    };
    let system = org == mfa::SYSTEM;
    let limit_key = account_key((!system).then_some(org.as_str()), &user_id);
    state.limits.check(Scope::MfaCode, &limit_key, now)?;
    state.limits.check(Scope::MfaCodeDaily, &limit_key, now)?;
    let config = state.config.clone();
    let key = state.db.key();
    let result = state
        .db
        .write(move |tx| {
            let account = if system {
                system_admin(tx, &user_id)?.map(Account::system_admin)
            } else {
                org_user(tx, &org, &user_id)?.map(|user| Account::org_user(&org, user))
            };
            let Some(account) = account else {
                return Ok(Err(Refusal::uncounted(ACCOUNT_GONE)));
            };
            let refuse = |problem: &'static str, reason: &'static str| -> AppResult<()> {
                let entry = Entry {
                    org: account.org.as_deref(),
                    actor: Actor::anonymous(),
                    action: "session.sign_in_failed",
                    target_id: Some(&user_id),
                    target_name: Some(&account.name),
                    client,
                    outcome: Outcome::Failed,
                    detail: json!({"reason": reason, "problem": problem}),
                };
                audit::record(tx, &entry, now)
            };
            if let Some(refusal) = account.refusal {
                refuse("status", "not_active")?;
                return Ok(Err(Refusal::uncounted(refusal)));
            }
            match mfa::redeem(tx, &key, &challenge, &org, &user_id, &code, now)? {
                Redeemed::Accepted => complete_sign_in(tx, account, client, now, &config).map(Ok),
                Redeemed::NoChallenge => {
                    refuse("expired_or_unknown_challenge", "mfa_failed")?;
                    Ok(Err(Refusal::uncounted(NO_CHALLENGE)))
                }
                Redeemed::Refused(CodeError::Wrong) => {
                    refuse("wrong_code", "mfa_failed")?;
                    Ok(Err(Refusal::counted(WRONG_CODE)))
                }
                Redeemed::Refused(CodeError::Reused) => {
                    refuse("reused_code", "mfa_failed")?;
                    Ok(Err(Refusal::counted(REUSED_CODE)))
                }
                Redeemed::Exhausted => {
                    refuse("wrong_code_challenge_void", "mfa_failed")?;
                    Ok(Err(Refusal::counted(CHALLENGE_VOID)))
                }
            }
        })
        .await?;
    match result {
        Ok(answer) => {
            state.limits.clear(Scope::SignInAccount, &limit_key);
            state.limits.clear(
                Scope::SignInAccountClient,
                &account_client_key(&limit_key, client_key.as_deref()),
            );
            state.limits.clear(Scope::MfaCode, &limit_key);
            state.limits.clear(Scope::MfaCodeDaily, &limit_key);
            Ok(no_store(StatusCode::OK, answer))
        }
        Err(refusal) => {
            if refusal.counts {
                state.limits.hit(Scope::MfaCode, &limit_key, now);
                state.limits.hit(Scope::MfaCodeDaily, &limit_key, now);
                hit_client();
            }
            Err(AppError::unauthorized(refusal.detail))
        }
    }
}

/// The account signing in with `login` and its password hash, if it has one: an org user
/// of `org` first, else a system admin with that email.
fn find_account(
    conn: &Connection,
    org: Option<&str>,
    login: &str,
) -> AppResult<Option<(Account, Option<String>)>> {
    let system_admin = || -> AppResult<Option<(Account, Option<String>)>> {
        Ok(system_admin_by_email(conn, login)?
            .map(|(admin, hash)| (Account::system_admin(admin), Some(hash))))
    };
    match org {
        // A system admin reaches every organisation, so signing in "to" one with a
        // system admin's email works too: a client's connection always names an org.
        Some(org) => match org_user_by_login(conn, org, login)? {
            Some((user, hash)) => Ok(Some((Account::org_user(org, user), hash))),
            None => system_admin(),
        },
        None => system_admin(),
    }
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
        let actor = actor_of_owner(tx, &row.owner)?;
        let entry = Entry {
            org: owner_org(&row.owner),
            target_id: actor.id.as_deref(),
            target_name: actor.name.as_deref(),
            actor: actor.clone(),
            action: "session.refresh_reused",
            client,
            outcome: Outcome::Denied,
            detail: json!({"sessionId": session_id, "sessionRevoked": true}),
        };
        audit::record(tx, &entry, now)?;
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
            let actor = actor_of_owner(tx, &row.owner)?;
            let entry = Entry {
                org: owner_org(&row.owner),
                target_id: actor.id.as_deref(),
                target_name: actor.name.as_deref(),
                actor: actor.clone(),
                action: "session.sign_out",
                client,
                outcome: Outcome::Success,
                detail: json!({"sessionId": session_id}),
            };
            audit::record(tx, &entry, now)
        })
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
