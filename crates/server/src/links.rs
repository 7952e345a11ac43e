//! Single-use links for end users: welcome (set a first password), password reset and
//! magic sign-in.
//!
//! A link carries a token of 256 random bits, base64url, behind a prefix naming its kind
//! (`mst_lw_` welcome, `mst_lr_` reset, `mst_lm_` magic) so secret scanners can spot
//! leaked ones. Only the token's SHA-256 is stored, in `link_tokens`. Issuing a link voids
//! every earlier unused link of the same kind for that user, so a resend leaves one valid
//! link. Consuming marks it used; a used, voided or expired link never works again, and
//! each of those answers differently so the page can say what happened.

use axum::http::{HeaderMap, StatusCode};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use rusqlite::{Connection, OptionalExtension, Transaction, params};
use time::{Duration, OffsetDateTime};

use crate::AppState;
use crate::auth::stamp;
use crate::auth::tokens::token_hash;
use crate::error::{AppError, AppResult};

/// The `link_tokens` table. Times are fixed-width RFC 3339 UTC seconds
/// ([`crate::auth::stamp`]), so they compare as text.
pub const SCHEMA: &str = r#"
-- Single-use links, stored as the SHA-256 (hex) of their token only.
-- kind: welcome, reset or magic. A link is usable while used_at and voided_at are NULL
-- and expires is in the future.
CREATE TABLE link_tokens (
    hash TEXT PRIMARY KEY,
    org TEXT NOT NULL REFERENCES orgs(id),
    user_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    created TEXT NOT NULL,
    expires TEXT NOT NULL,
    used_at TEXT,
    voided_at TEXT
);
CREATE INDEX link_tokens_user ON link_tokens (org, user_id, kind);
CREATE INDEX link_tokens_expires ON link_tokens (expires);
"#;

/// Rows are kept this long after they expire, so an old link still answers "expired"
/// (or "used") rather than "unknown"; then they are forgotten.
const KEEP_AFTER_EXPIRY: Duration = Duration::days(30);

/// What a link lets its holder do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LinkKind {
    /// Accept an invitation by setting a first password.
    Welcome,
    /// Set a new password.
    Reset,
    /// Sign in without a password.
    Magic,
}

impl LinkKind {
    /// Every kind.
    pub const ALL: [Self; 3] = [Self::Welcome, Self::Reset, Self::Magic];

    /// The `link_tokens.kind` value, which is also the page's path segment.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Welcome => "welcome",
            Self::Reset => "reset",
            Self::Magic => "magic",
        }
    }

    /// The prefix every token of this kind starts with.
    pub fn prefix(self) -> &'static str {
        match self {
            Self::Welcome => "mst_lw_",
            Self::Reset => "mst_lr_",
            Self::Magic => "mst_lm_",
        }
    }

    /// The kind a token claims by its prefix; `None` if it is not a link token.
    pub fn of_token(token: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|kind| token.starts_with(kind.prefix()))
    }
}

/// Whose link it was, once it has been checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkUse {
    /// The organisation.
    pub org: String,
    /// The user the link was issued for.
    pub user_id: String,
}

/// Why a link cannot be used. Each message says what happened in words for the person
/// holding the link; the pages add what to do about it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LinkError {
    /// No such link (mistyped, truncated, or forgotten long after it expired).
    #[error("This link is not valid. It may be incomplete: check that you used the whole link.")]
    Unknown,
    /// The link's lifetime is over.
    #[error("This link has expired.")]
    Expired,
    /// The link has been used already; links work once.
    #[error("This link has already been used. Each link works only once.")]
    Used,
    /// A newer link replaced it, or the account's links were cancelled.
    #[error("This link was cancelled: a newer link replaced it, or an administrator withdrew it.")]
    Voided,
    /// The server could not check the link (the cause is logged).
    #[error("The server could not check this link. Try again in a moment.")]
    Storage,
}

impl LinkError {
    /// The HTTP status a page answers with: 404 unknown, 410 expired, used or voided.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::Unknown => StatusCode::NOT_FOUND,
            Self::Expired | Self::Used | Self::Voided => StatusCode::GONE,
            Self::Storage => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl From<rusqlite::Error> for LinkError {
    fn from(error: rusqlite::Error) -> Self {
        tracing::error!(%error, "link_tokens");
        Self::Storage
    }
}

impl From<LinkError> for AppError {
    fn from(error: LinkError) -> Self {
        AppError::new(error.status(), error.to_string())
    }
}

fn new_token(kind: LinkKind) -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    format!("{}{}", kind.prefix(), URL_SAFE_NO_PAD.encode(bytes))
}

/// Issues a `kind` link for `user_id` of `org` that works for `ttl` from `now`, voiding
/// every earlier unused link of the same kind for that user. Returns the token, which
/// exists only in this answer (and the email it goes into).
pub fn issue(
    tx: &Transaction<'_>,
    org: &str,
    user_id: &str,
    kind: LinkKind,
    ttl: Duration,
    now: OffsetDateTime,
) -> AppResult<String> {
    if !ttl.is_positive() {
        return Err(AppError::internal("a link needs a positive lifetime"));
    }
    forget_old(tx, now)?;
    void(tx, org, user_id, Some(kind), now)?;
    let token = new_token(kind);
    tx.execute(
        "INSERT INTO link_tokens (hash, org, user_id, kind, created, expires)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![
            token_hash(&token),
            org,
            user_id,
            kind.as_str(),
            stamp(now),
            stamp(now.saturating_add(ttl)),
        ],
    )?;
    tracing::info!(org, user_id, kind = kind.as_str(), "link issued");
    Ok(token)
}

/// Voids every unused link of `user_id` of `org`, of any kind: for suspension,
/// deactivation and deletion.
pub fn void_all(
    tx: &Transaction<'_>,
    org: &str,
    user_id: &str,
    now: OffsetDateTime,
) -> AppResult<()> {
    let voided = void(tx, org, user_id, None, now)?;
    if voided > 0 {
        tracing::info!(org, user_id, voided, "links voided");
    }
    Ok(())
}

/// Voids the unused links of a user, of `kind` or of every kind; how many.
fn void(
    tx: &Transaction<'_>,
    org: &str,
    user_id: &str,
    kind: Option<LinkKind>,
    now: OffsetDateTime,
) -> AppResult<usize> {
    Ok(tx.execute(
        "UPDATE link_tokens SET voided_at = ?4
         WHERE org = ?1 AND user_id = ?2 AND (?3 IS NULL OR kind = ?3)
           AND used_at IS NULL AND voided_at IS NULL",
        params![org, user_id, kind.map(LinkKind::as_str), stamp(now)],
    )?)
}

fn forget_old(tx: &Transaction<'_>, now: OffsetDateTime) -> AppResult<()> {
    tx.execute(
        "DELETE FROM link_tokens WHERE expires < ?1",
        [stamp(now.saturating_sub(KEEP_AFTER_EXPIRY))],
    )?;
    Ok(())
}

/// Checks a `kind` link without using it up (to show its form). A token of another kind
/// is [`LinkError::Unknown`].
pub fn peek(
    conn: &Connection,
    token: &str,
    kind: LinkKind,
    now: OffsetDateTime,
) -> Result<LinkUse, LinkError> {
    check(conn, token, kind, now).map(|(link, _)| link)
}

/// Uses a `kind` link up: checks it as [`peek`] does, then marks it used so it never
/// works again.
pub fn consume(
    tx: &Transaction<'_>,
    token: &str,
    kind: LinkKind,
    now: OffsetDateTime,
) -> Result<LinkUse, LinkError> {
    let (link, hash) = check(tx, token, kind, now)?;
    tx.execute(
        "UPDATE link_tokens SET used_at = ?2 WHERE hash = ?1",
        params![hash, stamp(now)],
    )?;
    tracing::info!(org = %link.org, user_id = %link.user_id, kind = kind.as_str(), "link used");
    Ok(link)
}

/// The usable link `token` of `kind` and its hash.
fn check(
    conn: &Connection,
    token: &str,
    kind: LinkKind,
    now: OffsetDateTime,
) -> Result<(LinkUse, String), LinkError> {
    if LinkKind::of_token(token) != Some(kind) {
        return Err(LinkError::Unknown);
    }
    let hash = token_hash(token);
    let row = conn
        .query_row(
            "SELECT org, user_id, expires, used_at IS NOT NULL, voided_at IS NOT NULL
             FROM link_tokens WHERE hash = ?1 AND kind = ?2",
            params![hash, kind.as_str()],
            |row| {
                let link = LinkUse {
                    org: row.get(0)?,
                    user_id: row.get(1)?,
                };
                Ok((link, row.get::<_, String>(2)?, row.get(3)?, row.get(4)?))
            },
        )
        .optional()?;
    let (link, expires, used, voided): (LinkUse, String, bool, bool) =
        row.ok_or(LinkError::Unknown)?;
    if used {
        Err(LinkError::Used)
    } else if voided {
        Err(LinkError::Voided)
    } else if expires <= stamp(now) {
        Err(LinkError::Expired)
    } else {
        Ok((link, hash))
    }
}

/// The address of a link's page: `{public_base}/links/{kind}?token={token}`.
pub fn url(public_base: &str, kind: LinkKind, token: &str) -> String {
    format!(
        "{}/links/{}?token={token}",
        public_base.trim_end_matches('/'),
        kind.as_str()
    )
}

/// The root URL end users reach the server at, for building link URLs: the configured
/// `public_url`, else `http://` and the request's `Host`. Links go into emails, so
/// deployments should set `public_url`: a `Host` header is chosen by the client.
pub fn public_base(state: &AppState, headers: &HeaderMap) -> String {
    match &state.config.public_url {
        Some(url) => url.trim_end_matches('/').to_owned(),
        None => {
            let host = headers
                .get(axum::http::header::HOST)
                .and_then(|h| h.to_str().ok())
                .filter(|h| !h.is_empty() && h.chars().all(|c| c.is_ascii_graphic()))
                .unwrap_or("localhost");
            format!("http://{host}")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_name_their_kind_and_carry_256_bits() {
        for kind in LinkKind::ALL {
            let token = new_token(kind);
            assert_eq!(
                LinkKind::of_token(&token),
                Some(kind),
                "the prefix names the kind"
            );
            assert_eq!(
                token.len() - kind.prefix().len(),
                43,
                "32 random bytes are 43 base64url characters"
            );
        }
        assert_ne!(
            new_token(LinkKind::Reset),
            new_token(LinkKind::Reset),
            "tokens are random"
        );
    }

    #[test]
    fn urls_use_a_query_parameter() {
        assert_eq!(
            url("https://muster.example/", LinkKind::Welcome, "mst_lw_abc"),
            "https://muster.example/links/welcome?token=mst_lw_abc",
            "one slash between base and path; the token in the query"
        );
    }

    #[test]
    fn statuses() {
        assert_eq!(
            LinkError::Unknown.status(),
            StatusCode::NOT_FOUND,
            "unknown is 404"
        );
        for gone in [LinkError::Expired, LinkError::Used, LinkError::Voided] {
            assert_eq!(gone.status(), StatusCode::GONE, "{gone:?} is 410 Gone");
        }
    }
}
