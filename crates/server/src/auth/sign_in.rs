//! `POST /auth/token`: signing in with a password, then a two-factor code when the
//! account has it on. Every attempt is rate limited and audited.

use std::net::IpAddr;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use muster_scim::message::ScimType;
use rusqlite::{Connection, Transaction};
use serde::{Deserialize, Serialize};
use serde_json::json;
use time::OffsetDateTime;

use super::accounts::{org_user, org_user_by_login, system_admin, system_admin_by_email};
use super::no_store;
use super::password::{verify_dummy, verify_password};
use super::routes::{ACCOUNT_GONE, Account, TokenAnswer};
use super::tokens::{Owner, cleanup, start_session};
use crate::audit::{self, Actor, Entry, Outcome};
use crate::body::JsonBody;
use crate::error::{AppError, AppResult};
use crate::lifecycle::{SignInMethod, record_sign_in};
use crate::mfa::{self, CodeError, Redeemed};
use crate::orgs::org_exists;
use crate::ratelimit::{ClientAddr, Limits, Scope, account_client_key, account_key, login_key};
use crate::sealed::ServerKey;
use crate::{AppState, Config};

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

/// The first step's answer for an account with two-factor sign-in on.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct MfaRequired {
    mfa_required: bool,
    challenge: String,
    expires_in: i64,
}

#[derive(Deserialize)]
pub(super) struct SignInRequest {
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
pub(super) async fn sign_in(
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

/// The rate-limit keys a sign-in counts against: the account (from everywhere), the
/// account from this client address, and the address alone (when it is known).
struct SignInKeys {
    account: String,
    account_client: String,
    client: Option<String>,
}

impl SignInKeys {
    fn new(account: String, client: Option<String>) -> Self {
        let account_client = account_client_key(&account, client.as_deref());
        Self {
            account,
            account_client,
            client,
        }
    }

    /// 429 when any of the password step's limits is reached.
    fn check(&self, limits: &Limits, now: OffsetDateTime) -> AppResult<()> {
        limits
            .check(Scope::SignInAccountClient, &self.account_client, now)
            .and_then(|()| limits.check(Scope::SignInAccount, &self.account, now))
            .and_then(|()| match &self.client {
                Some(key) => limits.check(Scope::SignInClient, key, now),
                None => Ok(()),
            })
    }

    /// Counts a wrong password against every key; returns the account's count from
    /// everywhere.
    fn hit(&self, limits: &Limits, now: OffsetDateTime) -> usize {
        limits.hit(Scope::SignInAccountClient, &self.account_client, now);
        let total = limits.hit(Scope::SignInAccount, &self.account, now);
        if let Some(key) = &self.client {
            limits.hit(Scope::SignInClient, key, now);
        }
        total
    }

    /// A successful sign-in clears the account's counts (the address keeps its own).
    fn clear(&self, limits: &Limits) {
        limits.clear(Scope::SignInAccount, &self.account);
        limits.clear(Scope::SignInAccountClient, &self.account_client);
    }
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
    let (found, org_known) = look_up_account(&state, org.clone(), login.clone()).await?;
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
    let keys = SignInKeys::new(limit_key, client_key(client));
    // A throttled attempt writes no audit row: a flood of them would bury the log (the
    // attempts that reached the limit are there already).
    keys.check(&state.limits, now)?;

    let (account, hash) = found.map_or((None, None), |(account, hash)| (Some(account), hash));
    let verified = check_password(password, hash).await?;
    let Some(account) = account.filter(|_| verified) else {
        let total = keys.hit(&state.limits, now);
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
    if let Some(org) = account.org.clone() {
        let open = state
            .db
            .read(move |conn| crate::orgs::require_not_suspended(conn, &org))
            .await;
        if let Err(error) = open {
            record_failure(&state, client, failure("org_suspended", None)).await;
            return Err(error);
        }
    }

    let config = state.config.clone();
    let answer = state
        .db
        .write(move |tx| start_sign_in(tx, account, client, now, &config))
        .await?;
    if let SignInAnswer::Tokens(_) = &answer {
        keys.clear(&state.limits);
    }
    Ok(match answer {
        SignInAnswer::Tokens(tokens) => no_store(StatusCode::OK, tokens),
        SignInAnswer::Mfa(challenge) => no_store(StatusCode::OK, challenge),
    })
}

/// The account signing in with `login` (see [`find_account`]), and whether `org` exists.
async fn look_up_account(
    state: &AppState,
    org: Option<String>,
    login: String,
) -> AppResult<(Option<(Account, Option<String>)>, bool)> {
    state
        .db
        .read(move |conn| {
            let found = find_account(conn, org.as_deref(), &login)?;
            let known = match &org {
                Some(org) => org_exists(conn, org)?,
                None => false,
            };
            Ok((found, known))
        })
        .await
}

enum SignInAnswer {
    Tokens(TokenAnswer),
    Mfa(MfaRequired),
}

/// After a right password: a two-factor challenge when the account has two-factor on,
/// else the session and its tokens.
fn start_sign_in(
    tx: &Transaction<'_>,
    account: Account,
    client: Option<IpAddr>,
    now: OffsetDateTime,
    config: &Config,
) -> AppResult<SignInAnswer> {
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
    complete_sign_in(tx, account, client, now, config).map(SignInAnswer::Tokens)
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
    if let Owner::OrgUser { org, .. } = &account.owner {
        // Also after a two-factor code: the organisation may have been suspended since.
        crate::orgs::require_not_suspended(tx, org)?;
    }
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
        let no_challenge = Failure {
            org: None,
            target_id: None,
            login: None,
            reason: "mfa_failed",
            problem: Some("expired_or_unknown_challenge"),
        };
        record_failure(&state, client, no_challenge).await;
        return Err(AppError::unauthorized(NO_CHALLENGE));
    };
    let system = org == mfa::SYSTEM;
    let keys = SignInKeys::new(
        account_key((!system).then_some(org.as_str()), &user_id),
        client_key.clone(),
    );
    state.limits.check(Scope::MfaCode, &keys.account, now)?;
    state
        .limits
        .check(Scope::MfaCodeDaily, &keys.account, now)?;
    let attempt = CodeAttempt {
        org,
        user_id,
        challenge,
        code,
        client,
        now,
    };
    let (config, key) = (state.config.clone(), state.db.key());
    let result = state
        .db
        .write(move |tx| redeem_code(tx, &key, &attempt, &config))
        .await?;
    match result {
        Ok(answer) => {
            keys.clear(&state.limits);
            state.limits.clear(Scope::MfaCode, &keys.account);
            state.limits.clear(Scope::MfaCodeDaily, &keys.account);
            Ok(no_store(StatusCode::OK, answer))
        }
        Err(refusal) => {
            if refusal.counts {
                state.limits.hit(Scope::MfaCode, &keys.account, now);
                state.limits.hit(Scope::MfaCodeDaily, &keys.account, now);
                hit_client();
            }
            Err(AppError::unauthorized(refusal.detail))
        }
    }
}

/// A second step whose challenge names an account: the account (`org` is
/// [`mfa::SYSTEM`] for a system admin), what was sent, from where and when.
struct CodeAttempt {
    org: String,
    user_id: String,
    challenge: String,
    code: String,
    client: Option<IpAddr>,
    now: OffsetDateTime,
}

/// Checks the account may still sign in and redeems the code against the challenge, in
/// one transaction: tokens, or the refusal (audited either way). The outer error rolls
/// back; a refusal's audit entry is committed.
fn redeem_code(
    tx: &Transaction<'_>,
    key: &ServerKey,
    attempt: &CodeAttempt,
    config: &Config,
) -> AppResult<Result<TokenAnswer, Refusal>> {
    let CodeAttempt {
        org,
        user_id,
        challenge,
        code,
        client,
        now,
    } = attempt;
    let (client, now) = (*client, *now);
    let account = if org == mfa::SYSTEM {
        system_admin(tx, user_id)?.map(Account::system_admin)
    } else {
        org_user(tx, org, user_id)?.map(|user| Account::org_user(org, user))
    };
    let Some(account) = account else {
        return Ok(Err(Refusal::uncounted(ACCOUNT_GONE)));
    };
    let refuse = |problem: &'static str, reason: &'static str| -> AppResult<()> {
        let entry = Entry {
            org: account.org.as_deref(),
            actor: Actor::anonymous(),
            action: "session.sign_in_failed",
            target_id: Some(user_id),
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
    match mfa::redeem(tx, key, challenge, org, user_id, code, now)? {
        Redeemed::Accepted => complete_sign_in(tx, account, client, now, config).map(Ok),
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
