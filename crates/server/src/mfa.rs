//! Two-factor sign-in with TOTP (RFC 6238: HMAC-SHA-1, 6 digits, 30-second steps, one
//! step of clock skew either way), for organisation users and for system admins (whose rows
//! have [`SYSTEM`] as their organisation).
//!
//! A signed-in user enrols with `POST /auth/mfa/enroll`, which answers a fresh secret (and
//! its `otpauth://` URL for authenticator apps) that stays pending until
//! `POST /auth/mfa/confirm` proves the app produces the right codes. From then on a
//! correct password at `POST /auth/token` answers a short-lived, single-use challenge
//! instead of tokens; the challenge and a current code complete the sign-in (see
//! `auth::routes`). Each accepted code's time step is remembered, so a code cannot be
//! used twice. An admin's "reset MFA" action calls [`reset`].
//!
//! The shared secret must be readable to check codes, so it is stored sealed with the
//! server key ([`crate::sealed`], kept outside the database); challenges are stored as
//! SHA-256 hashes only.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::post;
use axum::{Json, Router};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use rusqlite::{Connection, OptionalExtension, Transaction, params};
use serde::{Deserialize, Serialize};
use serde_json::json;
use time::OffsetDateTime;
use totp_rs::{Algorithm, Secret, TOTP};

use crate::AppState;
use crate::audit::{self, Actor, Entry, Outcome};
use crate::auth::tokens::token_hash;
use crate::auth::{AccountCaller, Caller, stamp};
use crate::body::JsonBody;
use crate::error::{AppError, AppResult};
use crate::ratelimit::{ClientAddr, Scope, account_key};
use crate::sealed::{self, ServerKey};

/// The two-factor tables.
pub const SCHEMA: &str = r#"
-- A user's TOTP secret (base32). Pending until `confirmed_at` is set; `last_step` is the
-- time step (unix seconds / 30) of the last accepted code, so no code is accepted twice.
CREATE TABLE mfa (
    org TEXT NOT NULL,
    user_id TEXT NOT NULL,
    secret TEXT NOT NULL,
    created TEXT NOT NULL,
    confirmed_at TEXT,
    last_step INTEGER,
    PRIMARY KEY (org, user_id),
    FOREIGN KEY (org, user_id) REFERENCES users (org, id) ON DELETE CASCADE
);

-- Sign-ins waiting for a code: the challenge's SHA-256 only, single-use, short-lived.
CREATE TABLE mfa_challenges (
    hash TEXT PRIMARY KEY,
    org TEXT NOT NULL,
    user_id TEXT NOT NULL,
    created TEXT NOT NULL,
    expires TEXT NOT NULL,
    FOREIGN KEY (org, user_id) REFERENCES users (org, id) ON DELETE CASCADE
);
CREATE INDEX mfa_challenges_user ON mfa_challenges (org, user_id);
CREATE INDEX mfa_challenges_expires ON mfa_challenges (expires);
"#;

/// The count of wrong codes per challenge (credentials migration).
pub const ATTEMPTS_SCHEMA: &str = r#"
ALTER TABLE mfa_challenges ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
"#;

/// Two-factor for system admins too: the tables rebuilt without the foreign key to
/// `users`, so that a system admin's rows ([`SYSTEM`] as the organisation, their id as the
/// user) can live beside the org users'. Users are only ever soft-deleted, and [`reset`]
/// deletes a user's rows when two-factor is reset.
pub const SYSTEM_ADMINS_SCHEMA: &str = r#"
CREATE TABLE mfa_accounts (
    org TEXT NOT NULL,
    user_id TEXT NOT NULL,
    secret TEXT NOT NULL,
    created TEXT NOT NULL,
    confirmed_at TEXT,
    last_step INTEGER,
    PRIMARY KEY (org, user_id)
);
INSERT INTO mfa_accounts SELECT org, user_id, secret, created, confirmed_at, last_step FROM mfa;
DROP TABLE mfa;
ALTER TABLE mfa_accounts RENAME TO mfa;
CREATE TABLE mfa_challenges_accounts (
    hash TEXT PRIMARY KEY,
    org TEXT NOT NULL,
    user_id TEXT NOT NULL,
    created TEXT NOT NULL,
    expires TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0
);
INSERT INTO mfa_challenges_accounts
    SELECT hash, org, user_id, created, expires, attempts FROM mfa_challenges;
DROP TABLE mfa_challenges;
ALTER TABLE mfa_challenges_accounts RENAME TO mfa_challenges;
CREATE INDEX mfa_challenges_user ON mfa_challenges (org, user_id);
CREATE INDEX mfa_challenges_expires ON mfa_challenges (expires);
"#;

/// The organisation of a system admin's two-factor rows (system admins belong to none).
pub const SYSTEM: &str = "";

/// The audit log's organisation for rows of `org`: none for a system admin's.
fn log_org(org: &str) -> Option<&str> {
    (org != SYSTEM).then_some(org)
}

/// Wrong codes one challenge takes before it is void (the password is asked again).
pub const CHALLENGE_ATTEMPTS: i64 = 5;

/// How long a sign-in challenge can be answered.
pub const CHALLENGE_TTL: time::Duration = time::Duration::minutes(5);

/// Seconds per TOTP step.
const STEP_SECONDS: i64 = 30;
/// Digits per code.
const DIGITS: usize = 6;
/// Steps accepted either side of the current one.
const SKEW: i64 = 1;
/// Bytes of secret: 160 bits, as RFC 4226 recommends.
const SECRET_BYTES: usize = 20;
/// What authenticator apps show as the account's issuer.
const ISSUER: &str = "Muster";
/// Prefix of challenge tokens, so they are recognisable (and never mistaken for bearers).
const CHALLENGE_PREFIX: &str = "mst_mfa_";

/// Whether `user_id` of `org` has confirmed two-factor sign-in.
pub fn is_enabled(conn: &Connection, org: &str, user_id: &str) -> AppResult<bool> {
    Ok(conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM mfa WHERE org = ?1 AND user_id = ?2
                                             AND confirmed_at IS NOT NULL)",
        params![org, user_id],
        |row| row.get(0),
    )?)
}

/// Turns two-factor sign-in off for `user_id` of `org` (an admin's "reset MFA"): forgets
/// the secret, pending or confirmed, and any open sign-in challenge. Returns whether it
/// was enabled (confirmed). The caller records the audit entry.
pub fn reset(tx: &Transaction<'_>, org: &str, user_id: &str) -> AppResult<bool> {
    let was_enabled = is_enabled(tx, org, user_id)?;
    tx.execute(
        "DELETE FROM mfa WHERE org = ?1 AND user_id = ?2",
        params![org, user_id],
    )?;
    tx.execute(
        "DELETE FROM mfa_challenges WHERE org = ?1 AND user_id = ?2",
        params![org, user_id],
    )?;
    if was_enabled {
        tracing::info!(org, user_id, "two-factor sign-in reset");
    }
    Ok(was_enabled)
}

/// Checks a current code of `user_id`'s confirmed two-factor, outside a sign-in (a
/// password change, a re-authentication, turning two-factor off); an accepted code's
/// step is remembered, so it cannot be used again. `Ok(Err(_))` for a wrong or used code.
pub(crate) fn verify_code(
    tx: &Transaction<'_>,
    key: &ServerKey,
    org: &str,
    user_id: &str,
    code: &str,
    now: OffsetDateTime,
) -> AppResult<Result<(), CodeError>> {
    Ok(check_and_record(tx, key, org, user_id, code, now)?.unwrap_or(Err(CodeError::Wrong)))
}

/// Checks `code` against `user_id`'s confirmed secret and, when it is accepted, records
/// its step; `None` when two-factor is not on.
fn check_and_record(
    tx: &Transaction<'_>,
    key: &ServerKey,
    org: &str,
    user_id: &str,
    code: &str,
    now: OffsetDateTime,
) -> AppResult<Option<Result<(), CodeError>>> {
    let row: Option<(String, Option<i64>)> = tx
        .query_row(
            "SELECT secret, last_step FROM mfa
             WHERE org = ?1 AND user_id = ?2 AND confirmed_at IS NOT NULL",
            params![org, user_id],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .optional()?;
    let Some((secret, last_step)) = row else {
        return Ok(None);
    };
    match accept_code(
        &read_secret(key, org, user_id, &secret)?,
        code,
        now,
        last_step,
    )? {
        Ok(step) => {
            tx.execute(
                "UPDATE mfa SET last_step = ?3 WHERE org = ?1 AND user_id = ?2",
                params![org, user_id, step],
            )?;
            Ok(Some(Ok(())))
        }
        Err(error) => Ok(Some(Err(error))),
    }
}

/// `POST /auth/mfa/enroll` and `POST /auth/mfa/confirm`.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/auth/mfa/enroll", post(enroll))
        .route("/auth/mfa/confirm", post(confirm))
}

/// A TOTP over `secret` with the parameters above.
fn totp(secret: Vec<u8>) -> AppResult<TOTP> {
    TOTP::new(
        Algorithm::SHA1,
        DIGITS,
        1,
        u64::try_from(STEP_SECONDS).unwrap_or(30),
        secret,
    )
    .map_err(|error| AppError::internal(format_args!("TOTP setup: {error}")))
}

fn decode_secret(base32: &str) -> AppResult<Vec<u8>> {
    Secret::Encoded(base32.to_owned())
        .to_bytes()
        .map_err(|_| AppError::internal("a stored TOTP secret is not base32"))
}

/// What a user's TOTP secret is sealed for: its row.
fn context(org: &str, user_id: &str) -> String {
    format!("mfa:{org}:{user_id}")
}

/// The secret of `user_id` as stored: opened with the server key (a value from before
/// sealing, which [`seal_plain_secrets`] seals at start-up, is read as it is).
fn read_secret(key: &ServerKey, org: &str, user_id: &str, stored: &str) -> AppResult<Vec<u8>> {
    if !sealed::is_sealed(stored) {
        return decode_secret(stored);
    }
    let text = key.open(&context(org, user_id), stored).ok_or_else(|| {
        AppError::internal(
            "a TOTP secret does not open with this server key (was server.key or \
             MUSTER_SERVER_KEY changed?)",
        )
    })?;
    decode_secret(std::str::from_utf8(&text).map_err(AppError::internal)?)
}

/// Seals the TOTP secrets stored before they were sealed (at start-up, once).
pub(crate) fn seal_plain_secrets(
    conn: &mut Connection,
    key: &ServerKey,
) -> rusqlite::Result<usize> {
    let tx = conn.transaction()?;
    let plain: Vec<(String, String, String)> = {
        let mut statement =
            tx.prepare("SELECT org, user_id, secret FROM mfa WHERE secret NOT LIKE 'v1:%'")?;
        statement
            .query_map([], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))?
            .collect::<Result<_, _>>()?
    };
    for (org, user_id, secret) in &plain {
        tx.execute(
            "UPDATE mfa SET secret = ?3 WHERE org = ?1 AND user_id = ?2",
            params![
                org,
                user_id,
                key.seal(&context(org, user_id), secret.as_bytes())
            ],
        )?;
    }
    tx.commit()?;
    if !plain.is_empty() {
        tracing::info!(
            sealed = plain.len(),
            "sealed the TOTP secrets stored in plain text"
        );
    }
    Ok(plain.len())
}

/// Why a code was not accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CodeError {
    /// Not the code of any step in the window.
    Wrong,
    /// The code of a step at or before the last accepted one.
    Reused,
}

/// The time step whose code `code` is, within one step of `now`, and later than
/// `last_step`.
fn accept_code(
    secret: &[u8],
    code: &str,
    now: OffsetDateTime,
    last_step: Option<i64>,
) -> AppResult<Result<i64, CodeError>> {
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    if code.len() != DIGITS || !code.bytes().all(|b| b.is_ascii_digit()) {
        return Ok(Err(CodeError::Wrong));
    }
    let totp = totp(secret.to_vec())?;
    let current = now.unix_timestamp().div_euclid(STEP_SECONDS);
    let mut reused = false;
    for step in current - SKEW..=current + SKEW {
        let Ok(at) = u64::try_from(step * STEP_SECONDS) else {
            continue;
        };
        if constant_time_eq(totp.generate(at).as_bytes(), code.as_bytes()) {
            if last_step.is_some_and(|last| step <= last) {
                reused = true;
            } else {
                return Ok(Ok(step));
            }
        }
    }
    Ok(Err(if reused {
        CodeError::Reused
    } else {
        CodeError::Wrong
    }))
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The two-factor rows of the caller, who signed in with a password: `(org, user_id)` of
/// an org user, `(SYSTEM, id)` of a system admin; API tokens have none.
pub(crate) fn own_account(caller: &Caller) -> AppResult<(String, String)> {
    if caller.is_api_token() {
        return Err(AppError::forbidden(
            "API tokens cannot set up two-factor sign-in; sign in as the user.",
        ));
    }
    match (caller.org(), caller.user_id(), caller.system_admin_id()) {
        (Some(org), Some(user_id), _) => Ok((org.to_owned(), user_id.to_owned())),
        (_, _, Some(id)) => Ok((SYSTEM.to_owned(), id.to_owned())),
        _ => Err(AppError::forbidden(
            "This account cannot set up two-factor sign-in.",
        )),
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Enrolment {
    secret: String,
    otpauth_url: String,
}

#[derive(Deserialize)]
struct EnrolRequest {
    password: String,
}

/// `POST /auth/mfa/enroll` `{"password"}`: a new pending secret for the caller, replacing a
/// pending one, once the current password is given (a stolen access token alone cannot
/// put the thief's authenticator on the account); 409 if two-factor sign-in is already on.
async fn enroll(
    AccountCaller(caller): AccountCaller,
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    JsonBody(request): JsonBody<EnrolRequest>,
) -> AppResult<Response> {
    let (org, user_id) = own_account(&caller)?;
    crate::auth::check_own_password(&state, &caller, client, request.password).await?;
    let actor = Actor::from_caller(&caller);
    let mut bytes = [0u8; SECRET_BYTES];
    rand::rng().fill_bytes(&mut bytes);
    let secret = match Secret::Raw(bytes.to_vec()).to_encoded() {
        Secret::Encoded(text) => text,
        Secret::Raw(_) => return Err(AppError::internal("base32 encoding failed")),
    };
    let now = state.clock.now();
    let stored = state
        .db
        .key()
        .seal(&context(&org, &user_id), secret.as_bytes());
    let label = state
        .db
        .write(move |tx| {
            if is_enabled(tx, &org, &user_id)? {
                return Err(AppError::new(
                    StatusCode::CONFLICT,
                    "Two-factor sign-in is already on for this account; an admin can reset it.",
                ));
            }
            tx.execute(
                "INSERT INTO mfa (org, user_id, secret, created) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (org, user_id) DO UPDATE SET
                     secret = excluded.secret, created = excluded.created,
                     confirmed_at = NULL, last_step = NULL",
                params![org, user_id, stored, stamp(now)],
            )?;
            let label = account_label(tx, &org, &user_id)?;
            audit::record(
                tx,
                &Entry {
                    org: log_org(&org),
                    actor,
                    action: "mfa.enroll",
                    target_id: Some(&user_id),
                    target_name: Some(&label),
                    client,
                    outcome: Outcome::Success,
                    detail: json!({}),
                },
                now,
            )?;
            Ok(label)
        })
        .await?;
    let otpauth_url = format!(
        "otpauth://totp/{ISSUER}:{}?secret={secret}&issuer={ISSUER}",
        percent_encode(&label)
    );
    Ok(crate::auth::no_store(
        StatusCode::OK,
        Enrolment {
            secret,
            otpauth_url,
        },
    ))
}

/// The name an authenticator app shows for the account: the primary email, else the
/// first, else the userName.
fn account_label(conn: &Connection, org: &str, user_id: &str) -> AppResult<String> {
    if org == SYSTEM {
        let email: Option<String> = conn
            .query_row(
                "SELECT email FROM system_admins WHERE id = ?1",
                [user_id],
                |row| row.get(0),
            )
            .optional()?;
        return Ok(email.unwrap_or_else(|| user_id.to_owned()));
    }
    let label: Option<String> = conn
        .query_row(
            "SELECT COALESCE(
                 (SELECT json_extract(e.value, '$.value') FROM json_each(users.doc, '$.emails') e
                  WHERE json_extract(e.value, '$.primary') = 1 LIMIT 1),
                 json_extract(users.doc, '$.emails[0].value'),
                 user_name)
             FROM users WHERE org = ?1 AND id = ?2",
            params![org, user_id],
            |row| row.get(0),
        )
        .optional()?
        .flatten();
    Ok(label.unwrap_or_else(|| user_id.to_owned()))
}

/// Percent-encodes everything but RFC 3986 unreserved characters and `@`.
fn percent_encode(text: &str) -> String {
    use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
    const LABEL: &percent_encoding::AsciiSet = &NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'.')
        .remove(b'_')
        .remove(b'~')
        .remove(b'@');
    utf8_percent_encode(text, LABEL).to_string()
}

#[derive(Deserialize)]
struct CodeRequest {
    code: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Confirmed {
    mfa_enabled: bool,
}

/// `POST /auth/mfa/confirm` `{"code"}`: turns the pending secret on when the code is
/// right (400 when it is not; wrong codes count toward the two-factor rate limit).
async fn confirm(
    AccountCaller(caller): AccountCaller,
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    JsonBody(request): JsonBody<CodeRequest>,
) -> AppResult<Json<Confirmed>> {
    let (org, user_id) = own_account(&caller)?;
    let now = state.clock.now();
    let limit_key = account_key(Some(&org), &user_id);
    state.limits.check(Scope::MfaCode, &limit_key, now)?;
    let actor = Actor::from_caller(&caller);
    let key = state.db.key();
    let outcome = state
        .db
        .write(move |tx| {
            let row: Option<(String, Option<String>)> = tx
                .query_row(
                    "SELECT secret, confirmed_at FROM mfa WHERE org = ?1 AND user_id = ?2",
                    params![org, user_id],
                    |row| Ok((row.get(0)?, row.get(1)?)),
                )
                .optional()?;
            let secret = match row {
                None => {
                    return Ok(Err(AppError::new(
                        StatusCode::CONFLICT,
                        "There is no two-factor enrolment to confirm; start with \
                         POST /auth/mfa/enroll.",
                    )));
                }
                Some((_, Some(_))) => {
                    return Ok(Err(AppError::new(
                        StatusCode::CONFLICT,
                        "Two-factor sign-in is already on for this account.",
                    )));
                }
                Some((secret, None)) => read_secret(&key, &org, &user_id, &secret)?,
            };
            let accepted = accept_code(&secret, &request.code, now, None)?;
            let entry = |outcome| Entry {
                org: log_org(&org),
                actor: actor.clone(),
                action: "mfa.confirm",
                target_id: Some(&user_id),
                target_name: caller.name(),
                client,
                outcome,
                detail: json!({}),
            };
            match accepted {
                Ok(step) => {
                    tx.execute(
                        "UPDATE mfa SET confirmed_at = ?3, last_step = ?4
                         WHERE org = ?1 AND user_id = ?2",
                        params![org, user_id, stamp(now), step],
                    )?;
                    audit::record(tx, &entry(Outcome::Success), now)?;
                    tracing::info!(org, user_id, "two-factor sign-in enabled");
                    Ok(Ok(()))
                }
                Err(_) => {
                    audit::record(tx, &entry(Outcome::Failed), now)?;
                    Ok(Err(AppError::invalid_value(
                        "The code is not correct. Enter the 6-digit code your authenticator \
                         app shows now.",
                    )))
                }
            }
        })
        .await?;
    if let Err(error) = outcome {
        if error.status == StatusCode::BAD_REQUEST {
            state.limits.hit(Scope::MfaCode, &limit_key, now);
        }
        return Err(error);
    }
    Ok(Json(Confirmed { mfa_enabled: true }))
}

/// Opens a sign-in challenge for `user_id` of `org` and returns it (shown once; only its
/// hash is kept). Forgets expired challenges on the way.
pub(crate) fn start_challenge(
    tx: &Transaction<'_>,
    org: &str,
    user_id: &str,
    now: OffsetDateTime,
) -> AppResult<String> {
    tx.execute(
        "DELETE FROM mfa_challenges WHERE expires <= ?1",
        [stamp(now)],
    )?;
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    let challenge = format!("{CHALLENGE_PREFIX}{}", URL_SAFE_NO_PAD.encode(bytes));
    tx.execute(
        "INSERT INTO mfa_challenges (hash, org, user_id, created, expires)
         VALUES (?1, ?2, ?3, ?4, ?5)",
        params![
            token_hash(&challenge),
            org,
            user_id,
            stamp(now),
            stamp(now + CHALLENGE_TTL)
        ],
    )?;
    Ok(challenge)
}

/// The account a live challenge belongs to: `(org, user_id)`.
pub(crate) fn challenge_owner(
    conn: &Connection,
    challenge: &str,
    now: OffsetDateTime,
) -> AppResult<Option<(String, String)>> {
    if !challenge.starts_with(CHALLENGE_PREFIX) {
        return Ok(None);
    }
    Ok(conn
        .query_row(
            "SELECT org, user_id FROM mfa_challenges WHERE hash = ?1 AND expires > ?2",
            params![token_hash(challenge), stamp(now)],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .optional()?)
}

/// What answering a challenge came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Redeemed {
    /// The code was right: the challenge is used up and the step remembered.
    Accepted,
    /// The challenge is unknown, used or expired (or two-factor was reset meanwhile).
    NoChallenge,
    /// The code was wrong or already used.
    Refused(CodeError),
    /// The code was wrong, and the challenge has taken [`CHALLENGE_ATTEMPTS`] wrong codes:
    /// it is void, and the password must be given again.
    Exhausted,
}

/// Answers the challenge of `org`/`user_id` with `code`. On success the challenge is
/// deleted and the code's step recorded, in `tx`, so neither can be used again.
pub(crate) fn redeem(
    tx: &Transaction<'_>,
    key: &ServerKey,
    challenge: &str,
    org: &str,
    user_id: &str,
    code: &str,
    now: OffsetDateTime,
) -> AppResult<Redeemed> {
    let hash = token_hash(challenge);
    let live: bool = tx.query_row(
        "SELECT EXISTS (SELECT 1 FROM mfa_challenges
                        WHERE hash = ?1 AND org = ?2 AND user_id = ?3 AND expires > ?4)",
        params![hash, org, user_id, stamp(now)],
        |row| row.get(0),
    )?;
    if !live {
        return Ok(Redeemed::NoChallenge);
    }
    match check_and_record(tx, key, org, user_id, code, now)? {
        // Two-factor was reset meanwhile: the challenge means nothing now.
        None => Ok(Redeemed::NoChallenge),
        Some(Ok(())) => {
            tx.execute("DELETE FROM mfa_challenges WHERE hash = ?1", [&hash])?;
            Ok(Redeemed::Accepted)
        }
        Some(Err(error)) => {
            let attempts: i64 = tx.query_row(
                "UPDATE mfa_challenges SET attempts = attempts + 1 WHERE hash = ?1
                 RETURNING attempts",
                [&hash],
                |row| row.get(0),
            )?;
            if attempts >= CHALLENGE_ATTEMPTS {
                tx.execute("DELETE FROM mfa_challenges WHERE hash = ?1", [&hash])?;
                return Ok(Redeemed::Exhausted);
            }
            Ok(Redeemed::Refused(error))
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use time::macros::datetime;

    use super::*;

    /// RFC 6238 appendix B's SHA-1 key.
    const RFC_KEY: &[u8] = b"12345678901234567890";

    #[test]
    fn rfc_6238_vectors_with_six_digits() {
        let totp = totp(RFC_KEY.to_vec()).unwrap();
        for (time, code) in [
            (59, "287082"),
            (1_111_111_109, "081804"),
            (1_234_567_890, "005924"),
            (2_000_000_000, "279037"),
        ] {
            assert_eq!(
                totp.generate(time),
                code,
                "the last six digits of RFC 6238's vector at {time}"
            );
        }
    }

    #[test]
    fn codes_are_accepted_within_one_step_and_only_once() {
        let now = datetime!(2030-01-01 09:00:10 UTC);
        let totp = totp(RFC_KEY.to_vec()).unwrap();
        let at = |offset: i64| u64::try_from(now.unix_timestamp() + offset).unwrap();
        let step = now.unix_timestamp() / 30;
        for offset in [-30, 0, 30] {
            assert_eq!(
                accept_code(RFC_KEY, &totp.generate(at(offset)), now, None).unwrap(),
                Ok(step + offset / 30),
                "a code {offset} s away is accepted, with its own step"
            );
        }
        assert_eq!(
            accept_code(RFC_KEY, &totp.generate(at(60)), now, None).unwrap(),
            Err(CodeError::Wrong),
            "two steps away is too far"
        );
        let code = totp.generate(at(0));
        assert_eq!(
            accept_code(RFC_KEY, &code, now, Some(step)).unwrap(),
            Err(CodeError::Reused),
            "a code whose step was already used is refused"
        );
        let spaced = format!("{} {}", &code[..3], &code[3..]);
        assert_eq!(
            accept_code(RFC_KEY, &spaced, now, None).unwrap(),
            Ok(step),
            "spaces as apps show them are ignored"
        );
        assert_eq!(
            accept_code(RFC_KEY, "12345", now, None).unwrap(),
            Err(CodeError::Wrong),
            "short codes are wrong"
        );
    }

    #[test]
    fn secrets_stored_in_plain_text_are_sealed_at_start_up() {
        let mut conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(
            "CREATE TABLE mfa (org TEXT, user_id TEXT, secret TEXT);
             INSERT INTO mfa VALUES ('acme', 'u1', 'JBSWY3DPEHPK3PXP');",
        )
        .unwrap();
        let key = ServerKey::random();
        assert_eq!(seal_plain_secrets(&mut conn, &key).unwrap(), 1);
        assert_eq!(seal_plain_secrets(&mut conn, &key).unwrap(), 0, "once");
        let stored: String = conn
            .query_row("SELECT secret FROM mfa", [], |row| row.get(0))
            .unwrap();
        assert!(!stored.contains("JBSWY3DPEHPK3PXP"), "{stored}");
        assert_eq!(
            read_secret(&key, "acme", "u1", &stored).unwrap(),
            decode_secret("JBSWY3DPEHPK3PXP").unwrap()
        );
        assert!(read_secret(&ServerKey::random(), "acme", "u1", &stored).is_err());
    }

    #[test]
    fn labels_are_percent_encoded() {
        assert_eq!(
            percent_encode("ada+ops@acme.example"),
            "ada%2Bops@acme.example",
            "reserved characters are escaped, @ is kept"
        );
    }
}
