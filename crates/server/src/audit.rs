//! The audit log: an append-only record of who did what to whom, from where, and how it
//! ended. Sign-ins (and failed ones), sessions, two-factor changes, API tokens,
//! organisations and user changes are written with [`record`]; writes refused with 401 or
//! 403 under `/o/{org}/` are written by the [`denied_layer`] middleware.
//!
//! Rows are never changed: SQLite triggers abort any `UPDATE` or `DELETE` on the table,
//! except deleting the rows of an organisation that no longer exists (a system admin
//! deleted it, and nothing of it stays; the system-level entry saying so does). That
//! guards against the server's own bugs, not against someone holding the database file,
//! who can drop the triggers.
//!
//! Nothing secret is written: [`record`] strips detail keys that name passwords, tokens,
//! secrets, codes or challenges (and fails debug builds, so the mistake is found in tests).
//! Failed sign-ins do record the login that was tried, so admins can see attacks on their
//! accounts.
//!
//! `GET /o/{org}/audit` lists an organisation's entries, newest first, for readers
//! (admins, viewers, system admins); `GET /admin/audit` the system-level entries (those
//! of no organisation: system admins' sign-ins, organisations created, suspended,
//! reactivated, re-planned and deleted), for system admins.

use std::net::IpAddr;

use axum::extract::{OriginalUri, Request, State};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::Response;
use rusqlite::Connection;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use time::OffsetDateTime;

use crate::AppState;
use crate::auth::Caller;
use crate::error::AppResult;
use crate::ratelimit::ClientAddr;
use crate::scim::store::format_time;

mod read;

pub use read::{Filter, Listed, list_entries, routes};

/// The `audit` table and the triggers that keep it append-only.
pub const SCHEMA: &str = r#"
-- One row per event, never changed. `org` is NULL for server-level events (a system
-- admin's sign-in, a failed sign-in to an unknown organisation). `detail` is a JSON object.
CREATE TABLE audit (
    seq INTEGER PRIMARY KEY,
    org TEXT,
    at TEXT NOT NULL,
    actor_kind TEXT NOT NULL,
    actor_id TEXT,
    actor_name TEXT,
    action TEXT NOT NULL,
    target_id TEXT,
    target_name TEXT,
    client TEXT,
    outcome TEXT NOT NULL,
    detail TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_org ON audit (org, seq);
CREATE INDEX audit_actor ON audit (org, actor_id, seq);
CREATE INDEX audit_target ON audit (org, target_id, seq);
CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
"#;

/// Lets the rows of a deleted organisation go: the delete trigger now aborts only while
/// the row's organisation exists, or for system-level rows.
pub const PURGE_SCHEMA: &str = r#"
DROP TRIGGER audit_no_delete;
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
WHEN OLD.org IS NULL OR EXISTS (SELECT 1 FROM orgs WHERE id = OLD.org)
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
"#;

/// What kind of party acted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ActorKind {
    /// An org user with a signed-in session.
    User,
    /// A system admin.
    SystemAdmin,
    /// An org user's API token (an integration).
    ApiToken,
    /// Nobody known: a sign-in attempt, a request without valid credentials.
    Anonymous,
    /// A user or API token of another organisation, refused here: not named, so one
    /// organisation's log does not identify another's people.
    OtherOrganisation,
}

impl ActorKind {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::User => "user",
            Self::SystemAdmin => "system_admin",
            Self::ApiToken => "api_token",
            Self::Anonymous => "anonymous",
            Self::OtherOrganisation => "other_organisation",
        }
    }
}

/// Who acted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    /// User, system admin, API token or anonymous.
    pub kind: ActorKind,
    /// The user's SCIM id (also for API tokens: the user the token acts as), or the
    /// system admin's id.
    pub id: Option<String>,
    /// A name people recognise: the user's userName, the system admin's email.
    pub name: Option<String>,
}

impl Actor {
    /// The caller of a request.
    pub fn from_caller(caller: &Caller) -> Self {
        let name = caller.name().map(str::to_owned);
        if let Some(id) = caller.system_admin_id() {
            return Self {
                kind: ActorKind::SystemAdmin,
                id: Some(id.to_owned()),
                name,
            };
        }
        Self {
            kind: if caller.is_api_token() {
                ActorKind::ApiToken
            } else {
                ActorKind::User
            },
            id: caller.user_id().map(str::to_owned),
            name,
        }
    }

    /// Nobody known.
    pub fn anonymous() -> Self {
        Self {
            kind: ActorKind::Anonymous,
            id: None,
            name: None,
        }
    }
}

/// How the attempt ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// It was done.
    Success,
    /// It was not allowed (401, 403, 429, a locked account, a reused token).
    Denied,
    /// It was tried and did not work (a wrong password or code).
    Failed,
}

impl Outcome {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Success => "success",
            Self::Denied => "denied",
            Self::Failed => "failed",
        }
    }

    fn parse(text: &str) -> Option<Self> {
        [Self::Success, Self::Denied, Self::Failed]
            .into_iter()
            .find(|outcome| outcome.as_str().eq_ignore_ascii_case(text.trim()))
    }
}

/// One event to record.
#[derive(Debug, Clone)]
pub struct Entry<'a> {
    /// The organisation it happened in; `None` for server-level events.
    pub org: Option<&'a str>,
    /// Who acted.
    pub actor: Actor,
    /// What was done, as `thing.verb`: `user.create`, `session.sign_in`, `mfa.enroll`…
    pub action: &'a str,
    /// The id of what it was done to.
    pub target_id: Option<&'a str>,
    /// A name people recognise for what it was done to (for failed sign-ins: the login
    /// that was tried).
    pub target_name: Option<&'a str>,
    /// The client's address.
    pub client: Option<IpAddr>,
    /// How it ended.
    pub outcome: Outcome,
    /// More about it, as a JSON object (`json!({})` for nothing). Never put secrets here:
    /// keys naming passwords, tokens, secrets, codes or challenges are stripped.
    pub detail: Value,
}

/// Longest name or id kept in a column; longer values (a client can send anything as a
/// login) are cut.
const MAX_TEXT: usize = 256;
/// Largest detail kept, in bytes of JSON.
const MAX_DETAIL: usize = 8 * 1024;

/// Appends `entry`, stamped `now`. Call it with the transaction that does the work, so the
/// entry is committed (or rolled back) with it; [`record_detached`] writes one on its own.
pub fn record(conn: &Connection, entry: &Entry<'_>, now: OffsetDateTime) -> AppResult<()> {
    let mut detail = entry.detail.clone();
    let stripped = strip_secrets(&mut detail);
    debug_assert!(
        stripped.is_empty(),
        "audit detail of {} must not carry secrets; stripped {stripped:?}",
        entry.action
    );
    if !stripped.is_empty() {
        tracing::error!(action = entry.action, keys = ?stripped, "secret-looking keys stripped from an audit entry");
    }
    let mut detail = match detail {
        Value::Object(_) => detail,
        Value::Null => json!({}),
        other => json!({ "value": other }),
    }
    .to_string();
    if detail.len() > MAX_DETAIL {
        detail = json!({"truncated": true}).to_string();
    }
    let cut = |text: Option<&str>| text.map(|text| truncate(text, MAX_TEXT));
    conn.execute(
        "INSERT INTO audit (org, at, actor_kind, actor_id, actor_name, action, target_id,
                            target_name, client, outcome, detail)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
        rusqlite::params![
            entry.org,
            format_time(now),
            entry.actor.kind.as_str(),
            cut(entry.actor.id.as_deref()),
            cut(entry.actor.name.as_deref()),
            truncate(entry.action, MAX_TEXT),
            cut(entry.target_id),
            cut(entry.target_name),
            entry.client.map(|ip| ip.to_canonical().to_string()),
            entry.outcome.as_str(),
            detail,
        ],
    )?;
    Ok(())
}

/// Writes `entry` in a transaction of its own, stamped now: for events recorded after
/// the work's own transaction, whatever its outcome.
pub async fn record_alone(state: &AppState, entry: &Entry<'_>) -> AppResult<()> {
    let now = state.clock.now();
    let owned = OwnedEntry::from(entry);
    state
        .db
        .write(move |tx| record(tx, &owned.entry(), now))
        .await
}

/// [`record_alone`], logging (not returning) a failure: for events whose request must
/// answer whatever happens to the log.
pub async fn record_detached(state: &AppState, entry: Entry<'_>) {
    if let Err(error) = record_alone(state, &entry).await {
        tracing::warn!(%error, action = entry.action, "could not write an audit entry");
    }
}

/// An [`Entry`] that can cross to the blocking pool.
struct OwnedEntry {
    org: Option<String>,
    actor: Actor,
    action: String,
    target_id: Option<String>,
    target_name: Option<String>,
    client: Option<IpAddr>,
    outcome: Outcome,
    detail: Value,
}

impl OwnedEntry {
    fn from(entry: &Entry<'_>) -> Self {
        Self {
            org: entry.org.map(str::to_owned),
            actor: entry.actor.clone(),
            action: entry.action.to_owned(),
            target_id: entry.target_id.map(str::to_owned),
            target_name: entry.target_name.map(str::to_owned),
            client: entry.client,
            outcome: entry.outcome,
            detail: entry.detail.clone(),
        }
    }

    fn entry(&self) -> Entry<'_> {
        Entry {
            org: self.org.as_deref(),
            actor: self.actor.clone(),
            action: &self.action,
            target_id: self.target_id.as_deref(),
            target_name: self.target_name.as_deref(),
            client: self.client,
            outcome: self.outcome,
            detail: self.detail.clone(),
        }
    }
}

fn truncate(text: &str, max_chars: usize) -> String {
    match text.char_indices().nth(max_chars) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_owned(),
    }
}

/// Whether a detail key names something secret: anything mentioning a password, secret,
/// challenge, passcode or TOTP, any `…token`/`…tokens` (`refreshToken`, `apiTokens`),
/// `otp`, `code` and `…otpCode`/`…mfaCode`. `tokenId` and `tokenName` are fine: they
/// identify a token without being one; so is `statusCode`.
fn is_secret_key(key: &str) -> bool {
    let folded: String = key
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect();
    ["password", "secret", "challenge", "passcode", "totp"]
        .iter()
        .any(|word| folded.contains(word))
        || ["token", "tokens", "otp", "otpcode", "mfacode"]
            .iter()
            .any(|end| folded.ends_with(end))
        || folded == "code"
}

/// Removes secret-looking keys anywhere in `value`; returns the keys removed.
fn strip_secrets(value: &mut Value) -> Vec<String> {
    let mut stripped = Vec::new();
    match value {
        Value::Object(map) => {
            let secret: Vec<String> = map.keys().filter(|k| is_secret_key(k)).cloned().collect();
            for key in secret {
                map.remove(&key);
                stripped.push(key);
            }
            for nested in map.values_mut() {
                stripped.extend(strip_secrets(nested));
            }
        }
        Value::Array(items) => {
            for item in items {
                stripped.extend(strip_secrets(item));
            }
        }
        _ => {}
    }
    stripped
}

/// Middleware recording writes refused with 401 or 403 under `/o/{org}/`: those without
/// credentials are counted per client and minute ([`crate::denials`]); for the others,
/// after the response, a `denied` entry with action `"{METHOD} {route}"` (the path with the
/// organisation replaced by `{org}` and ids by `{id}`, the last id becoming the target),
/// the actor the bearer token names if any (even an expired or revoked one), and the
/// client address; the detail holds the path and the status.
/// Recording is best effort: a failure is logged and the response goes out unchanged.
///
/// Add it with `axum::middleware::from_fn_with_state(state.clone(), audit::denied_layer)`.
pub async fn denied_layer(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let method = request.method().clone();
    if !matches!(
        method,
        Method::POST | Method::PUT | Method::PATCH | Method::DELETE
    ) {
        return next.run(request).await;
    }
    let path = request
        .extensions()
        .get::<OriginalUri>()
        .map_or_else(|| request.uri().path(), |original| original.0.path())
        .to_owned();
    let Some(org) = org_of_path(&path) else {
        return next.run(request).await;
    };
    let (parts, body) = request.into_parts();
    let client = ClientAddr::of(&parts);
    let token = crate::auth::caller::bearer_token(&parts)
        .ok()
        .map(str::to_owned);
    let response = next.run(Request::from_parts(parts, body)).await;
    let status = response.status();
    if status != 401 && status != 403 {
        return response;
    }
    let (route, target) = route_of(&path);
    let action = format!("{method} {route}");
    let now = state.clock.now();
    if token.is_none() {
        // Without credentials: counted per client and minute (see `crate::denials`).
        let over = state
            .denials
            .count(client.0, &org, action, status.as_u16(), now);
        crate::denials::write(&state, over).await;
        return response;
    }
    let result = state
        .db
        .write(move |tx| {
            let known = crate::orgs::org_exists(tx, &org)?;
            let log_org = known.then_some(org.as_str());
            let actor = match token {
                Some(token) => crate::auth::actor_of_token(tx, &token, log_org)?,
                None => Actor::anonymous(),
            };
            let entry = Entry {
                org: known.then_some(org.as_str()),
                actor,
                action: &action,
                target_id: target.as_deref(),
                target_name: None,
                client: client.0,
                outcome: Outcome::Denied,
                detail: json!({"path": path, "status": status.as_u16()}),
            };
            record(tx, &entry, now)
        })
        .await;
    if let Err(error) = result {
        tracing::warn!(%error, "could not record a denied request in the audit log");
    }
    response
}

/// A path as a route: `/o/acme/scim/v2/Users/<uuid>` → `/o/{org}/scim/v2/Users/{id}`, and
/// the last id in it.
fn route_of(path: &str) -> (String, Option<String>) {
    let mut target = None;
    let segments: Vec<String> = path
        .split('/')
        .enumerate()
        .map(|(index, segment)| {
            if index == 2 && path.starts_with("/o/") {
                "{org}".to_owned()
            } else if uuid::Uuid::parse_str(segment).is_ok() {
                target = Some(segment.to_owned());
                "{id}".to_owned()
            } else {
                segment.to_owned()
            }
        })
        .collect();
    (segments.join("/"), target)
}

/// The `{org}` of a `/o/{org}/…` path.
fn org_of_path(path: &str) -> Option<String> {
    let rest = path.strip_prefix("/o/")?;
    let (org, _) = rest.split_once('/')?;
    crate::orgs::validate_org_id(org).ok()?;
    Some(org.to_owned())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    #[test]
    fn secret_keys_are_recognised() {
        for key in [
            "password",
            "newPassword",
            "token",
            "refresh_token",
            "apiTokens",
            "secret",
            "clientSecret",
            "code",
            "challenge",
            "totp",
            "mfa_code",
            "otp",
        ] {
            assert!(is_secret_key(key), "{key} names a secret");
        }
        for key in [
            "tokenId",
            "tokenName",
            "reason",
            "path",
            "status",
            "statusCode",
            "role",
            "footprint",
        ] {
            assert!(!is_secret_key(key), "{key} is harmless");
        }
    }

    #[test]
    fn secrets_are_stripped_at_any_depth() {
        let mut detail = json!({
            "reason": "x",
            "nested": {"password": "p", "keep": 1},
            "list": [{"apiToken": "t"}],
        });
        let stripped = strip_secrets(&mut detail);
        assert_eq!(stripped.len(), 2, "both secrets found: {stripped:?}");
        assert_eq!(
            detail,
            json!({"reason": "x", "nested": {"keep": 1}, "list": [{}]}),
            "everything else is kept"
        );
    }

    #[test]
    fn org_is_read_from_the_path() {
        assert_eq!(
            org_of_path("/o/acme/scim/v2/Users"),
            Some("acme".into()),
            "org paths"
        );
        assert_eq!(org_of_path("/auth/token"), None, "not under /o/");
        assert_eq!(org_of_path("/o/Bad%20Org/x"), None, "invalid org ids");
    }

    #[test]
    fn paths_become_routes() {
        let id = "0b7e7dc4-52c5-4b4e-9a55-2a8a3a4f6a11";
        assert_eq!(
            route_of(&format!("/o/acme/scim/v2/Users/{id}/actions/suspend")),
            (
                "/o/{org}/scim/v2/Users/{id}/actions/suspend".to_owned(),
                Some(id.to_owned())
            ),
            "org and ids are replaced, so actions group; the id is the target"
        );
    }

    #[test]
    fn long_texts_are_cut() {
        assert_eq!(truncate("abc", 2), "ab…", "cut and marked");
        assert_eq!(truncate("ab", 2), "ab", "short texts stay");
    }
}
