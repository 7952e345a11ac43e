//! Bearer tokens and sessions.
//!
//! A token is 256 random bits, base64url without padding, behind a prefix that says its
//! kind (`mst_at_` access, `mst_rt_` refresh, `mst_api_` API) so secret scanners can spot
//! leaked ones. Only its SHA-256 (hex) is stored, as the `tokens` primary key: a token is
//! checked by looking up its hash, which is the constant-time comparison (the secret is
//! never compared byte by byte, and a 256-bit random value needs no slow hash).
//!
//! A sign-in opens a session holding one refresh token and the access tokens issued from
//! it. Refreshing rotates: the presented refresh token is marked `rotated` (it stops
//! working) and a new pair is issued on the same session. Presenting a rotated refresh
//! token again means it was copied, so the whole session is revoked. Rows of rotated
//! tokens stay until they would have expired, so reuse is caught for as long as it matters.
//! Clients must therefore not refresh the same session concurrently.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use rusqlite::{Connection, OptionalExtension, Transaction, params};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use super::accounts::org_user;
use super::{parse_stamp, session, stamp};
use crate::Config;
use crate::error::{AppError, AppResult};

/// What a token is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    /// Short-lived bearer token of a session.
    Access,
    /// Exchanged at `/auth/refresh` for a new pair; never a bearer token.
    Refresh,
    /// Long-lived, named bearer token of an API-licence user; no session.
    Api,
}

impl TokenKind {
    /// The prefix every token of this kind starts with.
    pub fn prefix(self) -> &'static str {
        match self {
            Self::Access => "mst_at_",
            Self::Refresh => "mst_rt_",
            Self::Api => "mst_api_",
        }
    }

    /// The `tokens.kind` value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Access => "access",
            Self::Refresh => "refresh",
            Self::Api => "api",
        }
    }

    /// The kind a token claims by its prefix; `None` if it is not a Muster token.
    pub fn of_token(token: &str) -> Option<Self> {
        [Self::Access, Self::Refresh, Self::Api]
            .into_iter()
            .find(|kind| token.starts_with(kind.prefix()))
    }

    fn from_column(kind: &str) -> AppResult<Self> {
        [Self::Access, Self::Refresh, Self::Api]
            .into_iter()
            .find(|k| k.as_str() == kind)
            .ok_or_else(|| AppError::internal(format_args!("unknown token kind {kind:?}")))
    }
}

/// A fresh random token of `kind`.
pub(crate) fn new_token(kind: TokenKind) -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    format!("{}{}", kind.prefix(), URL_SAFE_NO_PAD.encode(bytes))
}

/// The SHA-256 of a token, lower-case hex: the only form in which tokens are stored.
pub(crate) fn token_hash(token: &str) -> String {
    Sha256::digest(token.as_bytes())
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// Whose token or session it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Owner {
    SystemAdmin(String),
    OrgUser { org: String, user_id: String },
}

impl Owner {
    fn columns(&self) -> (Option<&str>, Option<&str>, Option<&str>) {
        match self {
            Self::SystemAdmin(id) => (None, None, Some(id)),
            Self::OrgUser { org, user_id } => (Some(org), Some(user_id), None),
        }
    }

    fn from_columns(
        org: Option<String>,
        user_id: Option<String>,
        system_admin_id: Option<String>,
    ) -> AppResult<Self> {
        match (org, user_id, system_admin_id) {
            (_, _, Some(id)) => Ok(Self::SystemAdmin(id)),
            (Some(org), Some(user_id), None) => Ok(Self::OrgUser { org, user_id }),
            _ => Err(AppError::internal("a token has no owner")),
        }
    }
}

/// A stored token, as found by its hash.
#[derive(Debug)]
pub(crate) struct TokenRow {
    pub kind: TokenKind,
    pub session_id: Option<String>,
    pub owner: Owner,
    pub expires: Option<OffsetDateTime>,
    pub rotated: bool,
    pub session_revoked: bool,
    /// The session's times (default for API tokens).
    pub session: session::Times,
    /// What an API token may do.
    pub scope: TokenScope,
    /// When an API token was last used (to the hour).
    pub last_used: Option<OffsetDateTime>,
}

impl TokenRow {
    pub fn is_expired(&self, now: OffsetDateTime) -> bool {
        self.expires.is_some_and(|expires| expires <= now)
    }
}

/// The token whose hash is `hash`, with its session's state.
pub(crate) fn lookup(conn: &Connection, hash: &str) -> AppResult<Option<TokenRow>> {
    struct Raw {
        kind: String,
        session_id: Option<String>,
        owner: [Option<String>; 3],
        expires: Option<String>,
        rotated: bool,
        revoked: bool,
        session: [Option<String>; 3],
        scope: Option<String>,
        last_used: Option<String>,
    }
    let raw: Option<Raw> = conn
        .query_row(
            "SELECT t.kind, t.session_id, t.org, t.user_id, t.system_admin_id, t.expires,
                    t.rotated IS NOT NULL, COALESCE(s.revoked, 0) != 0,
                    s.authenticated, s.expires, s.last_used, t.scope, t.last_used
             FROM tokens t LEFT JOIN sessions s ON s.id = t.session_id
             WHERE t.hash = ?1",
            [hash],
            |row| {
                Ok(Raw {
                    kind: row.get(0)?,
                    session_id: row.get(1)?,
                    owner: [row.get(2)?, row.get(3)?, row.get(4)?],
                    expires: row.get(5)?,
                    rotated: row.get(6)?,
                    revoked: row.get(7)?,
                    session: [row.get(8)?, row.get(9)?, row.get(10)?],
                    scope: row.get(11)?,
                    last_used: row.get(12)?,
                })
            },
        )
        .optional()?;
    let Some(raw) = raw else {
        return Ok(None);
    };
    let [org, user_id, admin] = raw.owner;
    Ok(Some(TokenRow {
        kind: TokenKind::from_column(&raw.kind)?,
        session_id: raw.session_id,
        owner: Owner::from_columns(org, user_id, admin)?,
        expires: raw.expires.as_deref().map(parse_stamp).transpose()?,
        rotated: raw.rotated,
        session_revoked: raw.revoked,
        session: session::Times::parse(raw.session)?,
        scope: scope_of_column(raw.scope.as_deref()),
        last_used: raw.last_used.as_deref().map(parse_stamp).transpose()?,
    }))
}

pub use muster_api::tokens::TokenScope;

/// The stored scope; tokens from before scopes (NULL) could write, so they still may.
fn scope_of_column(scope: Option<&str>) -> TokenScope {
    match scope {
        Some("read") => TokenScope::Read,
        _ => TokenScope::Provision,
    }
}

/// An access and a refresh token, in plain text: shown to the client once, never stored.
pub(crate) struct TokenPair {
    pub access: String,
    pub refresh: String,
}

impl std::fmt::Debug for TokenPair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenPair(<redacted>)")
    }
}

/// `now + ttl`, saturating instead of overflowing.
fn after(now: OffsetDateTime, ttl: std::time::Duration) -> OffsetDateTime {
    now.saturating_add(time::Duration::try_from(ttl).unwrap_or(time::Duration::MAX))
}

struct NewToken<'a> {
    kind: TokenKind,
    id: Option<&'a str>,
    session_id: Option<&'a str>,
    owner: &'a Owner,
    name: Option<&'a str>,
    expires: Option<OffsetDateTime>,
    scope: Option<TokenScope>,
    created_by: Option<&'a str>,
}

/// Stores `token` (as its hash) and returns it.
fn insert(
    tx: &Transaction<'_>,
    token: String,
    new: NewToken<'_>,
    now: OffsetDateTime,
) -> AppResult<String> {
    let (org, user_id, admin) = new.owner.columns();
    tx.execute(
        "INSERT INTO tokens (hash, kind, id, session_id, org, user_id, system_admin_id, name,
                             created, expires, scope, created_by)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
        params![
            token_hash(&token),
            new.kind.as_str(),
            new.id,
            new.session_id,
            org,
            user_id,
            admin,
            new.name,
            stamp(now),
            new.expires.map(stamp),
            new.scope.map(TokenScope::name),
            new.created_by,
        ],
    )?;
    Ok(token)
}

/// Opens a session for `owner`, ending after its organisation's session lifetime, and
/// issues its first pair.
pub(crate) fn start_session(
    tx: &Transaction<'_>,
    owner: &Owner,
    now: OffsetDateTime,
    config: &Config,
) -> AppResult<TokenPair> {
    let session_id = uuid::Uuid::new_v4().to_string();
    let (org, user_id, admin) = owner.columns();
    tx.execute(
        "INSERT INTO sessions (id, org, user_id, system_admin_id, created)
         VALUES (?1, ?2, ?3, ?4, ?5)",
        params![session_id, org, user_id, admin, stamp(now)],
    )?;
    let lifetimes = session::lifetimes(tx, owner)?;
    let ends = session::begin(tx, &session_id, lifetimes.absolute, now)?;
    tracing::info!(%session_id, org, user_id, system_admin_id = admin, "session started");
    issue_pair(tx, &session_id, owner, Some(ends), now, config)
}

/// A new access and refresh token on `session_id`; neither outlives `session_ends`.
pub(crate) fn issue_pair(
    tx: &Transaction<'_>,
    session_id: &str,
    owner: &Owner,
    session_ends: Option<OffsetDateTime>,
    now: OffsetDateTime,
    config: &Config,
) -> AppResult<TokenPair> {
    let token = |kind, ttl| NewToken {
        kind,
        id: None,
        session_id: Some(session_id),
        owner,
        name: None,
        expires: Some(match session_ends {
            Some(ends) => after(now, ttl).min(ends),
            None => after(now, ttl),
        }),
        scope: None,
        created_by: None,
    };
    let issue = |kind, ttl| insert(tx, new_token(kind), token(kind, ttl), now);
    Ok(TokenPair {
        access: issue(TokenKind::Access, config.access_token_ttl)?,
        refresh: issue(TokenKind::Refresh, config.refresh_token_ttl)?,
    })
}

/// Marks a refresh token as exchanged: it no longer works, and presenting it again
/// revokes its session.
pub(crate) fn mark_rotated(tx: &Transaction<'_>, hash: &str, now: OffsetDateTime) -> AppResult<()> {
    tx.execute(
        "UPDATE tokens SET rotated = ?2 WHERE hash = ?1",
        params![hash, stamp(now)],
    )?;
    Ok(())
}

/// Revokes a session: every token on it stops working at once.
pub(crate) fn revoke_session(tx: &Transaction<'_>, session_id: &str) -> AppResult<()> {
    tx.execute(
        "UPDATE sessions SET revoked = 1 WHERE id = ?1",
        [session_id],
    )?;
    Ok(())
}

/// Forgets expired tokens and the sessions left with none.
pub(crate) fn cleanup(tx: &Transaction<'_>, now: OffsetDateTime) -> AppResult<()> {
    tx.execute("DELETE FROM tokens WHERE expires <= ?1", [stamp(now)])?;
    tx.execute(
        "DELETE FROM sessions WHERE NOT EXISTS (SELECT 1 FROM tokens WHERE session_id = sessions.id)",
        [],
    )?;
    Ok(())
}

/// Signs `user_id` of `org` out everywhere: revokes all their sessions and deletes their
/// API tokens (for password, email or two-factor changes, suspension, deactivation,
/// "revoke sessions"). Returns how many sessions were still open.
pub fn sign_out_user_blocking(tx: &Transaction<'_>, org: &str, user_id: &str) -> AppResult<usize> {
    sign_out_user_except(tx, org, user_id, None)
}

/// [`sign_out_user_blocking`], keeping session `keep` (the one that changed its own
/// password).
pub(crate) fn sign_out_user_except(
    tx: &Transaction<'_>,
    org: &str,
    user_id: &str,
    keep: Option<&str>,
) -> AppResult<usize> {
    let owner = Owner::OrgUser {
        org: org.to_owned(),
        user_id: user_id.to_owned(),
    };
    let revoked = revoke_sessions_of(tx, &owner, keep)?;
    let api_tokens = tx.execute(
        "DELETE FROM tokens WHERE kind = 'api' AND org = ?1 AND user_id = ?2",
        params![org, user_id],
    )?;
    tracing::info!(
        org,
        user_id,
        revoked,
        api_tokens,
        "user signed out everywhere"
    );
    Ok(revoked)
}

/// Revokes the open sessions of `owner` but `keep`; how many there were.
pub(crate) fn revoke_sessions_of(
    tx: &Transaction<'_>,
    owner: &Owner,
    keep: Option<&str>,
) -> AppResult<usize> {
    let (org, user_id, admin) = owner.columns();
    Ok(tx.execute(
        "UPDATE sessions SET revoked = 1
         WHERE org IS ?1 AND user_id IS ?2 AND system_admin_id IS ?3 AND revoked = 0
           AND id IS NOT ?4",
        params![org, user_id, admin, keep],
    )?)
}

/// How many sessions `owner` has open (see [`active_session_count`]).
pub(crate) fn owner_session_count(
    conn: &Connection,
    owner: &Owner,
    now: OffsetDateTime,
) -> AppResult<u32> {
    let (org, user_id, admin) = owner.columns();
    Ok(conn.query_row(
        "SELECT COUNT(DISTINCT s.id) FROM sessions s JOIN tokens t ON t.session_id = s.id
         WHERE s.org IS ?1 AND s.user_id IS ?2 AND s.system_admin_id IS ?3 AND s.revoked = 0
           AND t.kind = 'refresh' AND t.rotated IS NULL AND t.expires > ?4",
        params![org, user_id, admin, stamp(now)],
        |row| row.get(0),
    )?)
}

/// How many sessions of `user_id` of `org` are open: not revoked, with a refresh token
/// that is neither used nor expired.
pub fn active_session_count(
    conn: &Connection,
    org: &str,
    user_id: &str,
    now: OffsetDateTime,
) -> AppResult<u32> {
    Ok(active_session_counts(conn, org, &[user_id], now)?
        .get(user_id)
        .copied()
        .unwrap_or(0))
}

/// [`active_session_count`] for many users in one query (users with none are absent).
pub fn active_session_counts(
    conn: &Connection,
    org: &str,
    user_ids: &[&str],
    now: OffsetDateTime,
) -> AppResult<std::collections::HashMap<String, u32>> {
    let ids = serde_json::to_string(user_ids).map_err(AppError::internal)?;
    let mut statement = conn.prepare_cached(
        "SELECT s.user_id, COUNT(DISTINCT s.id) FROM sessions s JOIN tokens t ON t.session_id = s.id
         WHERE s.org = ?1 AND s.user_id IN (SELECT value FROM json_each(?2)) AND s.revoked = 0
           AND t.kind = 'refresh' AND t.rotated IS NULL AND t.expires > ?3
         GROUP BY s.user_id",
    )?;
    let rows = statement.query_map(params![org, ids, stamp(now)], |row| {
        Ok((row.get(0)?, row.get(1)?))
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

pub use muster_api::tokens::ApiToken;

/// How long an API token works unless its issuer chooses: 90 days.
pub const API_TOKEN_DEFAULT_TTL: time::Duration =
    time::Duration::days(muster_api::tokens::DEFAULT_DAYS as i64);
/// The longest an API token may work: a year, counted as 366 days so that a year from
/// any day fits.
pub const API_TOKEN_MAX_TTL: time::Duration =
    time::Duration::days(muster_api::tokens::MAX_DAYS as i64 + 1);

/// What a new API token is.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ApiTokenRequest<'a> {
    pub user_id: &'a str,
    pub name: &'a str,
    pub scope: TokenScope,
    /// `None`: [`API_TOKEN_DEFAULT_TTL`] from now.
    pub expires: Option<OffsetDateTime>,
    /// Who issues it, for the listing.
    pub created_by: Option<&'a str>,
}

/// Issues an API token for an API-licence user of `org`, who must exist, be active and
/// hold the API licence; returns it listed, and its plain text (shown once, never stored).
/// It expires within [`API_TOKEN_MAX_TTL`].
pub(crate) fn create_api_token(
    tx: &Transaction<'_>,
    org: &str,
    request: ApiTokenRequest<'_>,
    now: OffsetDateTime,
) -> AppResult<(ApiToken, String)> {
    let (user_id, name) = (request.user_id, request.name.trim());
    if !muster_api::tokens::is_token_name(name) {
        return Err(AppError::invalid_value(format!(
            "Give the API token a name of 1 to {} characters, such as the integration it is \
             for.",
            muster_api::tokens::MAX_NAME
        )));
    }
    let expires = request.expires.unwrap_or(now + API_TOKEN_DEFAULT_TTL);
    if expires <= now {
        return Err(AppError::invalid_value("expiresAt must be in the future."));
    }
    if expires > now + API_TOKEN_MAX_TTL {
        return Err(AppError::invalid_value(
            "An API token works for at most one year: choose an expiresAt within a year.",
        ));
    }
    let user = org_user(tx, org, user_id)?
        .ok_or_else(|| AppError::invalid_value(format!("There is no user '{user_id}' here.")))?;
    if !user.api_licence {
        return Err(AppError::invalid_value(format!(
            "User '{user_id}' does not have the API licence; only API-licence users can hold \
             API tokens."
        )));
    }
    if !user.may_sign_in() {
        return Err(AppError::invalid_value(format!(
            "User '{user_id}' is {}, not active; their API tokens would not work.",
            user.status.as_str()
        )));
    }
    let id = uuid::Uuid::new_v4().to_string();
    let owner = Owner::OrgUser {
        org: org.to_owned(),
        user_id: user.id.clone(),
    };
    let new = NewToken {
        kind: TokenKind::Api,
        id: Some(&id),
        session_id: None,
        owner: &owner,
        name: Some(name),
        expires: Some(expires),
        scope: Some(request.scope),
        created_by: request.created_by,
    };
    let secret = insert(tx, new_token(TokenKind::Api), new, now)?;
    tracing::info!(org, user_id = %user.id, token_id = %id, "API token issued");
    let listed = ApiToken {
        id,
        name: name.to_owned(),
        user_id: user.id,
        scope: request.scope,
        created_at: stamp(now),
        created_by: request.created_by.map(str::to_owned),
        expires_at: Some(stamp(expires)),
        last_used_at: None,
    };
    Ok((listed, secret))
}

/// Issues an API token named `name` for the API-licence user `user_id` of `org`, with
/// the `provision` scope and the default lifetime, and returns its plain text, the only
/// time it is available. For the `muster-server admin create-api-token` command and demo
/// seeding.
pub fn issue_api_token_blocking(
    tx: &Transaction<'_>,
    org: &str,
    user_id: &str,
    name: &str,
    now: OffsetDateTime,
) -> AppResult<String> {
    let request = ApiTokenRequest {
        user_id,
        name,
        scope: TokenScope::Provision,
        expires: None,
        created_by: None,
    };
    create_api_token(tx, org, request, now).map(|(_, secret)| secret)
}

/// Records that API token `hash` was used at `now`, at most once an hour (so a busy
/// integration does not write on every request).
pub(crate) fn mark_api_token_used(
    tx: &Transaction<'_>,
    hash: &str,
    now: OffsetDateTime,
) -> AppResult<()> {
    tx.execute(
        "UPDATE tokens SET last_used = ?2
         WHERE hash = ?1 AND kind = 'api' AND (last_used IS NULL OR last_used <= ?3)",
        params![hash, stamp(now), stamp(now - time::Duration::HOUR)],
    )?;
    Ok(())
}

/// The API tokens of `org`, oldest first.
pub(crate) fn list_api_tokens(conn: &Connection, org: &str) -> AppResult<Vec<ApiToken>> {
    let mut statement = conn.prepare(
        "SELECT id, COALESCE(name, ''), user_id, scope, created, created_by, expires, last_used
         FROM tokens WHERE kind = 'api' AND org = ?1 ORDER BY created, id",
    )?;
    let tokens = statement
        .query_map([org], |row| {
            Ok(ApiToken {
                id: row.get(0)?,
                name: row.get(1)?,
                user_id: row.get(2)?,
                scope: scope_of_column(row.get::<_, Option<String>>(3)?.as_deref()),
                created_at: row.get(4)?,
                created_by: row.get(5)?,
                expires_at: row.get(6)?,
                last_used_at: row.get(7)?,
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(tokens)
}

/// What was revoked.
#[derive(Debug, Clone)]
pub(crate) struct RevokedApiToken {
    pub name: String,
    pub user_id: String,
}

/// Deletes API token `id` of `org`; what it was, if there was one.
pub(crate) fn delete_api_token(
    tx: &Transaction<'_>,
    org: &str,
    id: &str,
) -> AppResult<Option<RevokedApiToken>> {
    let found = tx
        .query_row(
            "SELECT COALESCE(name, ''), user_id FROM tokens
             WHERE kind = 'api' AND org = ?1 AND id = ?2",
            [org, id],
            |row| {
                Ok(RevokedApiToken {
                    name: row.get(0)?,
                    user_id: row.get(1)?,
                })
            },
        )
        .optional()?;
    if found.is_some() {
        tx.execute(
            "DELETE FROM tokens WHERE kind = 'api' AND org = ?1 AND id = ?2",
            [org, id],
        )?;
        tracing::info!(org, token_id = id, "API token revoked");
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_carry_their_kind_and_256_bits() {
        let token = new_token(TokenKind::Api);
        assert_eq!(
            TokenKind::of_token(&token),
            Some(TokenKind::Api),
            "the prefix names the kind"
        );
        let body = token.trim_start_matches(TokenKind::Api.prefix());
        assert_eq!(
            body.len(),
            43,
            "32 bytes are 43 base64url characters without padding"
        );
        assert_ne!(new_token(TokenKind::Api), token, "tokens are random");
        assert_eq!(
            TokenKind::of_token("mst_rt_x"),
            Some(TokenKind::Refresh),
            "refresh prefix"
        );
        assert_eq!(
            TokenKind::of_token("ghp_x"),
            None,
            "foreign tokens are not ours"
        );
    }

    #[test]
    fn hash_is_sha256_hex() {
        assert_eq!(
            token_hash("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
            "the stored form is the SHA-256 of the token in lower-case hex"
        );
    }
}
