//! Password policy and per-organisation settings.
//!
//! Each organisation picks a [`PolicyStyle`]: the shop products' rules (the default: at
//! least 12 characters with upper, lower, digit and special) or NIST SP 800-63B (at least
//! 8 characters, no composition rules). Both refuse passwords longer than 128 characters
//! (counted in Unicode code points, never truncated), passwords on the shipped
//! common-password list (`data/common-passwords.txt`, compared case-insensitively) and
//! passwords that contain the user's own name or email.
//!
//! The settings (policy style and link lifetimes) live in `orgs.settings` as JSON with
//! camelCase keys: `{"passwordPolicy":"shop","invitationHours":48,"resetLinkMinutes":1440,
//! "magicLinkMinutes":30}`. Missing keys take their defaults; other keys are kept as they are.
//!
//! Routes: `GET /o/{org}/policy` (any signed-in member of the org), `GET|PATCH
//! /o/{org}/settings` (readers; admins change).

use std::collections::HashSet;
use std::sync::LazyLock;

use axum::extract::{Path, State};
use axum::routing::get;
use axum::{Json, Router};
use rusqlite::{Connection, OptionalExtension, Transaction, params};
use serde::Deserialize;
use serde_json::{Map, Value, json};
use time::Duration;

use crate::AppState;
use crate::audit::{self, Actor, Entry, Outcome};
use crate::auth::Caller;
use crate::body::JsonBody;
use crate::error::{AppError, AppResult};
use crate::orgs::require_org;
use crate::ratelimit::ClientAddr;

/// Settings live in `orgs.settings`; this module adds no tables.
pub const SCHEMA: &str = "";

/// The longest password accepted, in Unicode code points.
pub const MAX_PASSWORD_LENGTH: usize = 128;

/// Which family of password rules an organisation follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PolicyStyle {
    /// The shop products' rules: 12+ characters with upper, lower, digit and special.
    #[default]
    Shop,
    /// NIST SP 800-63B: 8+ characters, no composition rules.
    Nist,
}

impl PolicyStyle {
    /// The stored and advertised name: `shop` or `nist`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Shop => "shop",
            Self::Nist => "nist",
        }
    }

    /// Reads `shop` or `nist` (any case).
    pub fn parse(text: &str) -> Option<Self> {
        [Self::Shop, Self::Nist]
            .into_iter()
            .find(|style| text.trim().eq_ignore_ascii_case(style.as_str()))
    }

    /// The rules of this style.
    pub fn policy(self) -> PasswordPolicy {
        match self {
            Self::Shop => PasswordPolicy {
                min_length: 12,
                max_length: MAX_PASSWORD_LENGTH,
                require_upper: true,
                require_lower: true,
                require_digit: true,
                require_special: true,
                deny_common: true,
            },
            Self::Nist => PasswordPolicy {
                min_length: 8,
                max_length: MAX_PASSWORD_LENGTH,
                require_upper: false,
                require_lower: false,
                require_digit: false,
                require_special: false,
                deny_common: true,
            },
        }
    }
}

/// An organisation's settings, as stored in `orgs.settings`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OrgSettings {
    /// Which password rules apply.
    pub password_policy: PolicyStyle,
    /// How long an invitation (welcome link) works; 1 hour to 30 days, default 48 hours.
    pub invitation_ttl: Duration,
    /// How long a password-reset link works; 5 minutes to 7 days, default 24 hours.
    pub reset_link_ttl: Duration,
    /// How long a magic sign-in link works; 5 minutes to 24 hours, default 30 minutes.
    pub magic_link_ttl: Duration,
    /// How long a session lives from sign-in, whatever happens; 1 to 90 days, default 30.
    pub session_ttl: Duration,
    /// How long a session may go without use before it is signed out; 1 to 30 days,
    /// default 7 (as the shop platform documents).
    pub session_idle: Duration,
    /// Whether admins must have two-factor sign-in: an admin without it is taken
    /// straight to setting it up, and can do nothing else first. Default off.
    pub require_admin_mfa: bool,
}

impl OrgSettings {
    /// How long a link of `kind` works.
    pub fn link_ttl(&self, kind: crate::links::LinkKind) -> Duration {
        use crate::links::LinkKind;
        match kind {
            LinkKind::Welcome => self.invitation_ttl,
            LinkKind::Reset => self.reset_link_ttl,
            LinkKind::Magic => self.magic_link_ttl,
        }
    }
}

impl Default for OrgSettings {
    fn default() -> Self {
        Self {
            password_policy: PolicyStyle::Shop,
            invitation_ttl: Duration::hours(48),
            reset_link_ttl: Duration::hours(24),
            magic_link_ttl: Duration::minutes(30),
            session_ttl: Duration::days(30),
            session_idle: Duration::days(7),
            require_admin_mfa: false,
        }
    }
}

/// A lifetime setting: its JSON key, its unit and its allowed range in that unit.
struct Lifetime {
    key: &'static str,
    unit: Duration,
    unit_name: &'static str,
    min: i64,
    max: i64,
}

const INVITATION: Lifetime = Lifetime {
    key: "invitationHours",
    unit: Duration::HOUR,
    unit_name: "hours",
    min: 1,
    max: 30 * 24,
};
const RESET: Lifetime = Lifetime {
    key: "resetLinkMinutes",
    unit: Duration::MINUTE,
    unit_name: "minutes",
    min: 5,
    max: 7 * 24 * 60,
};
const MAGIC: Lifetime = Lifetime {
    key: "magicLinkMinutes",
    unit: Duration::MINUTE,
    unit_name: "minutes",
    min: 5,
    max: 24 * 60,
};
const SESSION: Lifetime = Lifetime {
    key: "sessionDays",
    unit: Duration::DAY,
    unit_name: "days",
    min: 1,
    max: 90,
};
const IDLE: Lifetime = Lifetime {
    key: "sessionIdleDays",
    unit: Duration::DAY,
    unit_name: "days",
    min: 1,
    max: 30,
};
const POLICY_KEY: &str = "passwordPolicy";
const ADMIN_MFA_KEY: &str = "requireAdminMfa";

impl Lifetime {
    /// The stored value, clamped into range; `default` when missing or not a number.
    fn read(&self, stored: &Map<String, Value>, default: Duration) -> Duration {
        match stored.get(self.key).and_then(Value::as_i64) {
            Some(count) => self.times(count.clamp(self.min, self.max)),
            None => default,
        }
    }

    /// `count` units, or 400 naming the allowed range.
    fn validate(&self, count: i64) -> AppResult<Duration> {
        if (self.min..=self.max).contains(&count) {
            Ok(self.times(count))
        } else {
            Err(AppError::invalid_value(format!(
                "{} must be between {} and {} {}.",
                self.key, self.min, self.max, self.unit_name
            )))
        }
    }

    fn times(&self, count: i64) -> Duration {
        Duration::seconds(self.unit.whole_seconds().saturating_mul(count))
    }

    fn count(&self, ttl: Duration) -> i64 {
        ttl.whole_seconds() / self.unit.whole_seconds()
    }
}

impl OrgSettings {
    fn from_stored(stored: &Map<String, Value>) -> Self {
        let defaults = Self::default();
        let password_policy = stored
            .get(POLICY_KEY)
            .and_then(Value::as_str)
            .and_then(PolicyStyle::parse)
            .unwrap_or(defaults.password_policy);
        Self {
            password_policy,
            invitation_ttl: INVITATION.read(stored, defaults.invitation_ttl),
            reset_link_ttl: RESET.read(stored, defaults.reset_link_ttl),
            magic_link_ttl: MAGIC.read(stored, defaults.magic_link_ttl),
            session_ttl: SESSION.read(stored, defaults.session_ttl),
            session_idle: IDLE.read(stored, defaults.session_idle),
            require_admin_mfa: stored
                .get(ADMIN_MFA_KEY)
                .and_then(Value::as_bool)
                .unwrap_or(defaults.require_admin_mfa),
        }
    }

    /// The settings as JSON: the stored form, which `GET|PATCH /o/{org}/settings` answer.
    pub fn to_json(&self) -> Value {
        json!({
            POLICY_KEY: self.password_policy.as_str(),
            INVITATION.key: INVITATION.count(self.invitation_ttl),
            RESET.key: RESET.count(self.reset_link_ttl),
            MAGIC.key: MAGIC.count(self.magic_link_ttl),
            SESSION.key: SESSION.count(self.session_ttl),
            IDLE.key: IDLE.count(self.session_idle),
            ADMIN_MFA_KEY: self.require_admin_mfa,
        })
    }
}

fn no_such_org(org: &str) -> AppError {
    AppError::not_found(format!("There is no organisation '{org}'."))
}

/// The raw `orgs.settings` object of `org`; 404 if there is no such organisation. A
/// value that is not a JSON object is logged and read as empty (all defaults).
fn stored_settings(conn: &Connection, org: &str) -> AppResult<Map<String, Value>> {
    let text: Option<String> = conn
        .query_row("SELECT settings FROM orgs WHERE id = ?1", [org], |row| {
            row.get(0)
        })
        .optional()?;
    let text = text.ok_or_else(|| no_such_org(org))?;
    match serde_json::from_str::<Value>(&text) {
        Ok(Value::Object(map)) => Ok(map),
        _ => {
            tracing::warn!(org, "orgs.settings is not a JSON object; using defaults");
            Ok(Map::new())
        }
    }
}

/// The settings of `org`, with defaults for whatever is not set; 404 for an unknown org.
pub fn settings(conn: &Connection, org: &str) -> AppResult<OrgSettings> {
    stored_settings(conn, org).map(|stored| OrgSettings::from_stored(&stored))
}

/// Applies `change` to the stored settings of `org` (keeping keys it does not touch) and
/// returns the settings that result.
fn update_settings(
    tx: &Transaction<'_>,
    org: &str,
    change: impl FnOnce(&mut Map<String, Value>),
) -> AppResult<OrgSettings> {
    let mut stored = stored_settings(tx, org)?;
    change(&mut stored);
    tx.execute(
        "UPDATE orgs SET settings = ?2 WHERE id = ?1",
        params![org, Value::Object(stored.clone()).to_string()],
    )?;
    Ok(OrgSettings::from_stored(&stored))
}

/// Sets the password-policy style of `org` (for `create-org --password-policy nist`);
/// 404 for an unknown org.
pub fn set_password_policy(tx: &Transaction<'_>, org: &str, style: PolicyStyle) -> AppResult<()> {
    update_settings(tx, org, |stored| {
        stored.insert(POLICY_KEY.to_owned(), style.as_str().into());
    })?;
    tracing::info!(org, style = style.as_str(), "password policy set");
    Ok(())
}

/// The password rules of `org`; 404 for an unknown org.
pub fn policy(conn: &Connection, org: &str) -> AppResult<PasswordPolicy> {
    Ok(settings(conn, org)?.password_policy.policy())
}

/// The words a user must not put in their password: their userName, the local part of
/// each email, and their given and family names, as stored for `user_id` of `org`.
/// Empty when there is no such user.
pub fn personal_info(conn: &Connection, org: &str, user_id: &str) -> AppResult<Vec<String>> {
    let doc: Option<String> = conn
        .query_row(
            "SELECT doc FROM users WHERE org = ?1 AND id = ?2",
            params![org, user_id],
            |row| row.get(0),
        )
        .optional()?;
    Ok(doc
        .and_then(|doc| serde_json::from_str::<Value>(&doc).ok())
        .map(|doc| personal_words(&doc))
        .unwrap_or_default())
}

/// The words a user document says a password must not contain: the userName (whole and,
/// when it is an address, its local part), the given and family names, and the local part
/// of each email.
pub fn personal_words(doc: &Value) -> Vec<String> {
    let mut words: Vec<String> = Vec::new();
    let mut push = |value: Option<&str>| {
        if let Some(value) = value.map(str::trim).filter(|v| !v.is_empty()) {
            words.push(value.to_owned());
        }
    };
    push(doc["userName"].as_str());
    push(doc["userName"].as_str().map(email_local_part));
    push(doc["name"]["givenName"].as_str());
    push(doc["name"]["familyName"].as_str());
    for email in doc["emails"].as_array().into_iter().flatten() {
        push(email["value"].as_str().map(email_local_part));
    }
    words.dedup();
    words
}

/// Checks a new password against the org's policy (with the user's `personal` words) and
/// hashes it with argon2id off the async runtime. Every way a password is set goes here.
pub async fn checked_hash(
    state: &AppState,
    org: &str,
    personal: Vec<String>,
    password: String,
) -> AppResult<String> {
    let (org, checked) = (org.to_owned(), password.clone());
    state
        .db
        .read(move |conn| {
            let personal: Vec<&str> = personal.iter().map(String::as_str).collect();
            policy(conn, &org)?.check(&checked, &personal)?;
            Ok(())
        })
        .await?;
    tokio::task::spawn_blocking(move || crate::auth::hash_password(&password))
        .await
        .map_err(AppError::internal)?
}

fn email_local_part(email: &str) -> &str {
    email.split('@').next().unwrap_or(email)
}

/// The rules a new password must meet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PasswordPolicy {
    /// Fewest characters (Unicode code points).
    pub min_length: usize,
    /// Most characters (Unicode code points): 128.
    pub max_length: usize,
    /// Needs an upper-case letter.
    pub require_upper: bool,
    /// Needs a lower-case letter.
    pub require_lower: bool,
    /// Needs a digit.
    pub require_digit: bool,
    /// Needs a character that is neither a letter nor a digit.
    pub require_special: bool,
    /// Refuses passwords on the common-password list.
    pub deny_common: bool,
}

/// Why a password was refused: every rule it fails, as sentences for people.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", .reasons.join(" "))]
pub struct PolicyViolation {
    /// One sentence per failed rule, such as "Use at least 12 characters.".
    pub reasons: Vec<String>,
    /// The failed rules' ids, in the same order: `length`, `upper`, `lower`, `digit`,
    /// `special`, `common`, `personal`.
    pub rules: Vec<&'static str>,
}

impl From<PolicyViolation> for AppError {
    fn from(violation: PolicyViolation) -> Self {
        AppError {
            unmet_rules: violation.rules,
            ..AppError::invalid_value(violation.reasons.join(" "))
        }
    }
}

/// Personal words shorter than this are too likely to occur by chance to refuse.
const MIN_PERSONAL_TOKEN: usize = 4;

const TOO_COMMON: &str = "This password is too common.";
const PERSONAL: &str = "Don't use your name or email address.";

impl PasswordPolicy {
    /// Checks `password` against every rule; `personal` holds the user's userName, email
    /// local part, given and family name (see [`personal_info`]). A password containing
    /// any of them, or any word of them, of 4 or more characters (ignoring case) fails.
    pub fn check(&self, password: &str, personal: &[&str]) -> Result<(), PolicyViolation> {
        let mut violation = PolicyViolation {
            reasons: Vec::new(),
            rules: Vec::new(),
        };
        let mut fail = |rule: &'static str, reason: String| {
            violation.rules.push(rule);
            violation.reasons.push(reason);
        };
        let length = password.chars().count();
        if length < self.min_length {
            fail(
                "length",
                format!("Use at least {} characters.", self.min_length),
            );
        }
        if length > self.max_length {
            fail(
                "length",
                format!("Use at most {} characters.", self.max_length),
            );
        }
        let classes = [
            (
                self.require_upper,
                "upper",
                "Add an upper-case letter.",
                char::is_uppercase as fn(char) -> bool,
            ),
            (
                self.require_lower,
                "lower",
                "Add a lower-case letter.",
                char::is_lowercase,
            ),
            (
                self.require_digit,
                "digit",
                "Add a digit.",
                char::is_numeric,
            ),
            (
                self.require_special,
                "special",
                "Add a special character, such as ! or #.",
                is_special,
            ),
        ];
        for (required, rule, reason, test) in classes {
            if required && !password.chars().any(test) {
                fail(rule, reason.to_owned());
            }
        }
        if self.deny_common && is_common(password) {
            fail("common", TOO_COMMON.to_owned());
        }
        if contains_personal(password, personal) {
            fail("personal", PERSONAL.to_owned());
        }
        if violation.reasons.is_empty() {
            Ok(())
        } else {
            Err(violation)
        }
    }

    /// The rules as sentences, for the set-password pages and the admin app.
    pub fn describe(&self) -> Vec<String> {
        let mut rules = vec![format!(
            "Use at least {} and at most {} characters; spaces and any symbols are allowed.",
            self.min_length, self.max_length
        )];
        let classes = [
            (self.require_upper, "Include an upper-case letter."),
            (self.require_lower, "Include a lower-case letter."),
            (self.require_digit, "Include a digit."),
            (
                self.require_special,
                "Include a special character, such as ! or #.",
            ),
        ];
        rules.extend(
            classes
                .into_iter()
                .filter(|(required, _)| *required)
                .map(|(_, rule)| rule.to_owned()),
        );
        if self.deny_common {
            rules.push("Don't use a common password.".to_owned());
        }
        rules.push(PERSONAL.to_owned());
        rules
    }

    /// The policy as `GET /o/{org}/policy` advertises it.
    pub fn to_json(&self, style: PolicyStyle) -> Value {
        json!({
            "style": style.as_str(),
            "minLength": self.min_length,
            "maxLength": self.max_length,
            "requireUpper": self.require_upper,
            "requireLower": self.require_lower,
            "requireDigit": self.require_digit,
            "requireSpecial": self.require_special,
            "denyCommonPasswords": self.deny_common,
            "rules": self.describe(),
        })
    }
}

/// Anything that is not a letter or digit counts as special, spaces included.
fn is_special(c: char) -> bool {
    !c.is_alphanumeric()
}

/// The shipped deny list, folded to lower case, built on first use.
static COMMON_PASSWORDS: LazyLock<HashSet<String>> = LazyLock::new(|| {
    include_str!("../data/common-passwords.txt")
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .map(str::to_lowercase)
        .collect()
});

/// Whether `password` is on the common-password list, ignoring case.
pub fn is_common(password: &str) -> bool {
    COMMON_PASSWORDS.contains(&password.to_lowercase())
}

/// How many passwords the deny list holds.
pub fn common_password_count() -> usize {
    COMMON_PASSWORDS.len()
}

/// Whether `password` contains (ignoring case) a personal word of at least 4 characters:
/// each whole entry of `personal`, and each run of letters and digits within it — except
/// runs that are hexadecimal with a digit (`4b1c`, `2f9a0c`): those are pieces of
/// generated identifiers such as UUIDs, not names, and they turn up in random passwords
/// by chance.
fn contains_personal(password: &str, personal: &[&str]) -> bool {
    let password = password.to_lowercase();
    let whole = personal.iter().map(|entry| entry.trim());
    let parts = personal
        .iter()
        .flat_map(|entry| entry.split(|c: char| !c.is_alphanumeric()))
        .filter(|part| !is_identifier_piece(part));
    whole
        .chain(parts)
        .filter(|token| token.chars().count() >= MIN_PERSONAL_TOKEN)
        .any(|token| password.contains(&token.to_lowercase()))
}

/// A run of hexadecimal digits with at least one decimal digit: part of a generated id.
fn is_identifier_piece(part: &str) -> bool {
    part.chars().all(|c| c.is_ascii_hexdigit()) && part.chars().any(|c| c.is_ascii_digit())
}

/// `GET /o/{org}/policy` and `GET|PATCH /o/{org}/settings`.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/o/{org}/policy", get(get_policy))
        .route("/o/{org}/settings", get(get_settings).patch(patch_settings))
}

/// `GET /o/{org}/policy`: any signed-in member of the org, and system admins.
async fn get_policy(
    caller: Caller,
    State(state): State<AppState>,
    Path(org): Path<String>,
) -> AppResult<Json<Value>> {
    caller.check_org(&org)?;
    require_org(&state, &org).await?;
    let style = state
        .db
        .read(move |conn| Ok(settings(conn, &org)?.password_policy))
        .await?;
    Ok(Json(style.policy().to_json(style)))
}

/// `GET /o/{org}/settings`: admins, viewers and system admins.
async fn get_settings(
    caller: Caller,
    State(state): State<AppState>,
    Path(org): Path<String>,
) -> AppResult<Json<Value>> {
    crate::orgs::require_readable(&state, &caller, &org).await?;
    let settings = state.db.read(move |conn| settings(conn, &org)).await?;
    Ok(Json(settings.to_json()))
}

/// The body of `PATCH /o/{org}/settings`: any subset of the settings.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct SettingsChange {
    password_policy: Option<String>,
    invitation_hours: Option<i64>,
    reset_link_minutes: Option<i64>,
    magic_link_minutes: Option<i64>,
    session_days: Option<i64>,
    session_idle_days: Option<i64>,
    require_admin_mfa: Option<bool>,
}

impl SettingsChange {
    /// The validated keys and values to store.
    fn validated(&self) -> AppResult<Vec<(&'static str, Value)>> {
        let mut changes = Vec::new();
        if let Some(style) = &self.password_policy {
            let style = PolicyStyle::parse(style).ok_or_else(|| {
                AppError::invalid_value("passwordPolicy must be 'shop' or 'nist'.")
            })?;
            changes.push((POLICY_KEY, style.as_str().into()));
        }
        let lifetimes = [
            (&INVITATION, self.invitation_hours),
            (&RESET, self.reset_link_minutes),
            (&MAGIC, self.magic_link_minutes),
            (&SESSION, self.session_days),
            (&IDLE, self.session_idle_days),
        ];
        for (lifetime, count) in lifetimes {
            if let Some(count) = count {
                lifetime.validate(count)?;
                changes.push((lifetime.key, count.into()));
            }
        }
        if let Some(required) = self.require_admin_mfa {
            changes.push((ADMIN_MFA_KEY, required.into()));
        }
        Ok(changes)
    }
}

/// `PATCH /o/{org}/settings`: admins and system admins; answers the new settings. A
/// change is audited (`org.settings_change`) with each setting's value before and after.
async fn patch_settings(
    caller: Caller,
    ClientAddr(client): ClientAddr,
    State(state): State<AppState>,
    Path(org): Path<String>,
    JsonBody(change): JsonBody<SettingsChange>,
) -> AppResult<Json<Value>> {
    crate::orgs::require_writable(&state, &caller, &org).await?;
    let changes = change.validated()?;
    let now = state.clock.now();
    let settings = state
        .db
        .write(move |tx| {
            let before = settings(tx, &org)?.to_json();
            let updated = update_settings(tx, &org, |stored| {
                for (key, value) in changes {
                    stored.insert(key.to_owned(), value);
                }
            })?;
            let after = updated.to_json();
            let changed = changed_settings(&before, &after);
            if !changed.is_empty() {
                let entry = Entry {
                    org: Some(&org),
                    actor: Actor::from_caller(&caller),
                    action: "org.settings_change",
                    target_id: Some(&org),
                    target_name: Some(&org),
                    client,
                    outcome: Outcome::Success,
                    detail: json!({ "changes": changed }),
                };
                audit::record(tx, &entry, now)?;
            }
            tracing::info!(org, "organisation settings changed");
            Ok(updated)
        })
        .await?;
    Ok(Json(settings.to_json()))
}

/// Each setting whose value differs, as `{setting, before, after}` (the setting's name is
/// a value, not a key: the audit log strips keys that look like secrets, and
/// `passwordPolicy` would be one).
fn changed_settings(before: &Value, after: &Value) -> Vec<Value> {
    let Some(after) = after.as_object() else {
        return Vec::new();
    };
    after
        .iter()
        .filter(|(key, value)| before.get(key.as_str()) != Some(*value))
        .map(|(key, value)| {
            json!({"setting": key, "before": before.get(key.as_str()), "after": value})
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_settings_fall_back_to_defaults_and_clamp() {
        let stored = json!({"passwordPolicy": "NIST", "invitationHours": 100_000});
        let settings = OrgSettings::from_stored(stored.as_object().unwrap_or(&Map::new()));
        assert_eq!(
            settings.password_policy,
            PolicyStyle::Nist,
            "style is read case-insensitively"
        );
        assert_eq!(
            settings.invitation_ttl,
            Duration::days(30),
            "an out-of-range stored value is clamped to the allowed range"
        );
        assert_eq!(
            settings.magic_link_ttl,
            Duration::minutes(30),
            "missing keys take their defaults"
        );
    }

    #[test]
    fn settings_round_trip_through_json() {
        let settings = OrgSettings::default();
        let json = settings.to_json();
        assert_eq!(
            json,
            json!({"passwordPolicy": "shop", "invitationHours": 48,
                   "resetLinkMinutes": 1440, "magicLinkMinutes": 30,
                   "sessionDays": 30, "sessionIdleDays": 7, "requireAdminMfa": false}),
            "the defaults in their stored form"
        );
        let back = OrgSettings::from_stored(json.as_object().unwrap_or(&Map::new()));
        assert_eq!(back, settings, "the stored form reads back unchanged");
    }

    #[test]
    fn pieces_of_generated_ids_are_not_personal_but_names_and_whole_ids_are() {
        let id = "3f2a9c1e-4b1c-4d2e-8a9b-0c1d2e3f4a5b";
        assert!(
            !contains_personal("x-4b1c-7777-secret", &[id]),
            "a 4-hex-digit piece of a UUID turns up in random passwords by chance"
        );
        assert!(
            contains_personal(&format!("pre{id}post"), &[id]),
            "the whole id still counts"
        );
        assert!(
            contains_personal("Xbede-2026!", &["Bede Smith"]),
            "letters-only names count"
        );
        assert!(
            contains_personal("ross2024!", &["ross2024@acme.test"]),
            "name-and-digit runs count"
        );
    }

    #[test]
    fn personal_words_are_split_and_short_ones_ignored() {
        assert!(
            contains_personal("Xlovelace!99", &["ada.lovelace"]),
            "a word of the userName counts"
        );
        assert!(
            !contains_personal("ada-is-fine-9X!", &["ada"]),
            "three-letter names are too common to refuse"
        );
    }
}
