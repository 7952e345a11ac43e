//! Account lifecycle: each user's status, invitation and last sign-in, the actions that
//! move a user between states (`/Users/{id}/actions/NAME`), and the rules that guard them.
//!
//! Status is server state, not client data: it lives in `users` columns and is rendered
//! into the shop extension (read-only) and SCIM `active` on the way out.
//!
//! ```text
//!  create ─▶ invited ──accept link──▶ active ◀──unsuspend── suspended
//!   (with a password or an API licence) ─▶ active ──suspend──▶ suspended
//!  active|invited ──deactivate──▶ deactivated ──reactivate──▶ active|invited
//!  any ──DELETE──▶ deleted ──restore (system admin)──▶ the status before
//! ```

pub mod actions;
pub mod invite;

use rusqlite::{Connection, OptionalExtension, Transaction, params};
use serde_json::{Map, Value, json};
use time::OffsetDateTime;

use crate::auth::Caller;
use crate::error::{AppError, AppResult};
use crate::scim::store::{format_time, normalize_time};

/// Lifecycle columns on `users`.
pub const SCHEMA: &str = r#"
ALTER TABLE users ADD COLUMN status TEXT NOT NULL DEFAULT 'active';
ALTER TABLE users ADD COLUMN status_before_delete TEXT;
ALTER TABLE users ADD COLUMN deleted_at TEXT;
ALTER TABLE users ADD COLUMN invitation_sent TEXT;
ALTER TABLE users ADD COLUMN invitation_expires TEXT;
ALTER TABLE users ADD COLUMN invitation_accepted TEXT;
ALTER TABLE users ADD COLUMN last_sign_in_at TEXT;
ALTER TABLE users ADD COLUMN last_sign_in_method TEXT;
ALTER TABLE users ADD COLUMN must_change_password INTEGER NOT NULL DEFAULT 0;
CREATE INDEX users_status ON users (org, status);
-- Paging in creation order skips rows inside this index, status test included.
CREATE INDEX users_org_seq ON users (org, seq, status);
-- Filters on indexed attributes also test the status: keep it in their indexes so
-- counting matches never reads the table.
DROP INDEX users_family_name;
CREATE INDEX users_family_name ON users (org, family_name, status);
DROP INDEX users_given_name;
CREATE INDEX users_given_name ON users (org, given_name, status);
DROP INDEX users_display_name;
CREATE INDEX users_display_name ON users (org, display_name, status);
DROP INDEX users_external_id;
CREATE INDEX users_external_id ON users (org, external_id, status);
DROP INDEX users_modified;
CREATE INDEX users_modified ON users (org, modified, status);
"#;

/// Where a user stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Created, has not accepted an invitation (no password yet).
    Invited,
    /// Can sign in.
    Active,
    /// Temporarily barred; every session was cut.
    Suspended,
    /// Left the business; data kept, responsibilities reassigned.
    Deactivated,
    /// Soft-deleted: invisible to SCIM until a system admin restores it.
    Deleted,
}

impl Status {
    /// The stored and rendered name.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Invited => "invited",
            Status::Active => "active",
            Status::Suspended => "suspended",
            Status::Deactivated => "deactivated",
            Status::Deleted => "deleted",
        }
    }

    /// Reads a stored name; anything unknown counts as deactivated (least access).
    pub fn parse(text: &str) -> Self {
        match text {
            "invited" => Status::Invited,
            "active" => Status::Active,
            "suspended" => Status::Suspended,
            "deleted" => Status::Deleted,
            _ => Status::Deactivated,
        }
    }

    /// SCIM `active`: the account is in use (invited or active).
    pub fn is_active(self) -> bool {
        matches!(self, Status::Invited | Status::Active)
    }
}

/// How a user signed in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignInMethod {
    /// Email and password (with TOTP when enrolled).
    Password,
    /// A single-use emailed link.
    MagicLink,
    /// Reserved: Google sign-in.
    Google,
    /// Reserved: Microsoft sign-in.
    Microsoft,
}

impl SignInMethod {
    /// The stored and rendered name.
    pub fn as_str(self) -> &'static str {
        match self {
            SignInMethod::Password => "password",
            SignInMethod::MagicLink => "magic_link",
            SignInMethod::Google => "google",
            SignInMethod::Microsoft => "microsoft",
        }
    }
}

/// Records a successful sign-in.
pub fn record_sign_in(
    tx: &Transaction<'_>,
    org: &str,
    user_id: &str,
    method: SignInMethod,
    now: OffsetDateTime,
) -> AppResult<()> {
    tx.execute(
        "UPDATE users SET last_sign_in_at = ?3, last_sign_in_method = ?4 WHERE org = ?1 AND id = ?2",
        params![org, user_id, format_time(now), method.as_str()],
    )?;
    Ok(())
}

/// An invited user accepted their invitation (set a password): they become active.
pub fn accept_invitation(
    tx: &Transaction<'_>,
    org: &str,
    user_id: &str,
    now: OffsetDateTime,
) -> AppResult<()> {
    tx.execute(
        "UPDATE users SET status = CASE status WHEN 'invited' THEN 'active' ELSE status END, \
         invitation_accepted = coalesce(invitation_accepted, ?3), must_change_password = 0 \
         WHERE org = ?1 AND id = ?2",
        params![org, user_id, format_time(now)],
    )?;
    Ok(())
}

/// A user's current status, or `None` if there is no such user in the org.
pub fn status_of(conn: &Connection, org: &str, user_id: &str) -> AppResult<Option<Status>> {
    let status: Option<String> = conn
        .query_row(
            "SELECT status FROM users WHERE org = ?1 AND id = ?2",
            params![org, user_id],
            |row| row.get(0),
        )
        .optional()?;
    Ok(status.as_deref().map(Status::parse))
}

/// Moves a user to `status`, keeping SCIM `active` in step, and bumps the version so
/// clients holding an ETag see the change.
pub fn set_status(
    tx: &Transaction<'_>,
    org: &str,
    user_id: &str,
    status: Status,
    now: OffsetDateTime,
) -> AppResult<()> {
    let changed = tx.execute(
        "UPDATE users SET status = ?3, version = version + 1, modified = ?4 WHERE org = ?1 AND id = ?2",
        params![org, user_id, status.as_str(), format_time(now)],
    )?;
    if changed == 0 {
        return Err(AppError::not_found(format!(
            "There is no User with id '{user_id}'."
        )));
    }
    Ok(())
}

/// The lifecycle columns of a user row, as selected by [`STATE_COLUMNS`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct UserState {
    /// Status.
    pub status: Option<String>,
    /// When the last invitation was sent.
    pub invitation_sent: Option<String>,
    /// When it expires.
    pub invitation_expires: Option<String>,
    /// When an invitation was accepted.
    pub invitation_accepted: Option<String>,
    /// Last sign-in time.
    pub last_sign_in_at: Option<String>,
    /// Last sign-in method.
    pub last_sign_in_method: Option<String>,
    /// Whether TOTP is confirmed.
    pub mfa_enabled: bool,
    /// Open sessions.
    pub active_sessions: i64,
}

/// The `users` columns [`UserState::from_row`] reads, over a row aliased `t`.
pub const STATE_COLUMNS: &str = "t.status, t.invitation_sent, t.invitation_expires, \
    t.invitation_accepted, t.last_sign_in_at, t.last_sign_in_method";

impl UserState {
    /// Reads the columns of [`STATE_COLUMNS`] starting at `first`; MFA and sessions are
    /// filled in by [`load_live`].
    pub fn from_row(row: &rusqlite::Row<'_>, first: usize) -> rusqlite::Result<Self> {
        Ok(Self {
            status: row.get(first)?,
            invitation_sent: row.get(first + 1)?,
            invitation_expires: row.get(first + 2)?,
            invitation_accepted: row.get(first + 3)?,
            last_sign_in_at: row.get(first + 4)?,
            last_sign_in_method: row.get(first + 5)?,
            mfa_enabled: false,
            active_sessions: 0,
        })
    }

    /// Writes the read-only state into a rendered user: SCIM `active` and the shop
    /// extension's status, invitation, lastSignIn, mfaEnabled and activeSessions.
    pub fn render(&self, resource: &mut Map<String, Value>, now: OffsetDateTime) {
        let status = Status::parse(self.status.as_deref().unwrap_or("active"));
        resource.insert("active".into(), Value::Bool(status.is_active()));
        let mut shop = match resource.remove(muster_scim::urn::SHOP_USER) {
            Some(Value::Object(shop)) => shop,
            _ => Map::new(),
        };
        shop.insert("status".into(), json!(status.as_str()));
        if let Some(sent) = &self.invitation_sent {
            let state = if self.invitation_accepted.is_some() {
                "accepted"
            } else if self
                .invitation_expires
                .as_deref()
                .is_some_and(|e| e <= format_time(now).as_str())
            {
                "expired"
            } else {
                "pending"
            };
            let mut invitation = Map::new();
            invitation.insert("sentAt".into(), json!(sent));
            if let Some(expires) = &self.invitation_expires {
                invitation.insert("expiresAt".into(), json!(expires));
            }
            invitation.insert("state".into(), json!(state));
            shop.insert("invitation".into(), Value::Object(invitation));
        }
        if let (Some(at), Some(method)) = (&self.last_sign_in_at, &self.last_sign_in_method) {
            shop.insert(
                "lastSignIn".into(),
                json!({"at": normalize_time(at).unwrap_or_else(|| at.clone()), "method": method}),
            );
        }
        shop.insert("mfaEnabled".into(), json!(self.mfa_enabled));
        shop.insert("activeSessions".into(), json!(self.active_sessions));
        resource.insert(muster_scim::urn::SHOP_USER.into(), Value::Object(shop));
    }
}

/// Stores a status without bumping the version, for writes that bump it themselves.
fn write_status(tx: &Transaction<'_>, org: &str, user_id: &str, status: Status) -> AppResult<()> {
    tx.execute(
        "UPDATE users SET status = ?3 WHERE org = ?1 AND id = ?2",
        params![org, user_id, status.as_str()],
    )?;
    Ok(())
}

/// The status a user created through SCIM starts in: deactivated when created with
/// `active: false`; active with a password or as an API integration; invited otherwise
/// (they set a password through the welcome link).
pub fn on_create(
    tx: &Transaction<'_>,
    org: &str,
    user_id: &str,
    requested_active: Option<bool>,
    has_password: bool,
    doc: &Value,
) -> AppResult<()> {
    let status = if requested_active == Some(false) {
        Status::Deactivated
    } else if has_password || shop_text(doc, "licence").as_deref() == Some("api") {
        Status::Active
    } else {
        Status::Invited
    };
    write_status(tx, org, user_id, status)
}

/// A replace or patch of a user, as [`check_update`] judges it before the write and
/// [`on_update`] carries it through after.
#[derive(Debug, Clone, Copy)]
pub struct Update<'a> {
    /// The document before.
    pub old: &'a Value,
    /// The document after.
    pub new: &'a Value,
    /// SCIM `active`, when the request sets it.
    pub requested_active: Option<bool>,
    /// Whether the request sets a password.
    pub sets_password: bool,
    /// The server's time.
    pub now: OffsetDateTime,
}

/// The rules a replace or patch of a user must keep, checked before anything is written.
/// On oneself: no change of role, licence or email, no deactivation, no password (one's
/// own password is changed with the current one, `POST /auth/password`). A password
/// needs a sign-in within the last 10 minutes (403 `reauthenticate`).
pub fn check_update(
    caller: &Caller,
    org: &str,
    user_id: &str,
    update: &Update<'_>,
) -> AppResult<()> {
    if update.sets_password {
        caller.require_recent_sign_in(update.now)?;
    }
    if !caller.is_user(org, user_id) {
        return Ok(());
    }
    if shop_text(update.old, "role") != shop_text(update.new, "role") {
        return Err(AppError::forbidden(
            "You cannot change your own role; ask another admin.",
        ));
    }
    if shop_text(update.old, "licence") != shop_text(update.new, "licence") {
        return Err(AppError::forbidden(
            "You cannot change your own licence; ask another admin.",
        ));
    }
    if crate::scim::store::emails_of(update.old) != crate::scim::store::emails_of(update.new) {
        return Err(AppError::forbidden(
            "You cannot change your own email address here (it is where password resets \
             go); ask another admin.",
        ));
    }
    if update.sets_password {
        return Err(AppError::forbidden(
            "You cannot set your own password here: change it with your current password \
             (My account).",
        ));
    }
    if update.requested_active == Some(false) {
        return Err(AppError::forbidden(
            "You cannot deactivate your own account.",
        ));
    }
    Ok(())
}

/// What a replace or patch means beyond the document, in the same transaction: SCIM
/// `active` moves the status (deactivating keeps the responsibilities rule), and a new
/// email or password signs the user out everywhere. `update` is the write as made (its
/// `sets_password` says a password was stored); `version_bumped` says whether the
/// document write already made a new version.
pub fn on_update(
    tx: &Transaction<'_>,
    org: &str,
    user_id: &str,
    update: &Update<'_>,
    version_bumped: bool,
) -> AppResult<()> {
    let Update {
        old,
        new,
        requested_active,
        sets_password: password_changed,
        now,
    } = *update;
    let status = status_of(tx, org, user_id)?.unwrap_or(Status::Active);
    // One write, one new version: bump only if the document write did not.
    let move_to = |status: Status| -> AppResult<()> {
        if version_bumped {
            write_status(tx, org, user_id, status)
        } else {
            set_status(tx, org, user_id, status, now)
        }
    };
    match (requested_active, status) {
        (Some(false), Status::Invited | Status::Active | Status::Suspended) => {
            crate::responsibilities::reassign(tx, org, user_id, &Default::default())?;
            move_to(Status::Deactivated)?;
            actions::cut_access(tx, org, user_id, now)?;
        }
        (Some(true), Status::Deactivated | Status::Suspended) => {
            move_to(actions::resumed_status(tx, org, user_id)?)?;
        }
        _ => {}
    }
    let email_changed = crate::scim::store::emails_of(old) != crate::scim::store::emails_of(new);
    if email_changed || password_changed {
        crate::auth::sign_out_user_blocking(tx, org, user_id)?;
    }
    Ok(())
}

/// `DELETE /Users/{id}`: a soft delete. The user disappears from SCIM, loses every
/// session and link and leaves its groups; a system admin can restore it. A user who still
/// holds responsibilities is refused, with the list (the `delete` action takes a
/// reassignment, as deactivating does).
pub fn soft_delete(
    tx: &Transaction<'_>,
    caller: &Caller,
    org: &str,
    user_id: &str,
    now: OffsetDateTime,
) -> AppResult<()> {
    if caller.is_user(org, user_id) {
        return Err(AppError::forbidden("You cannot delete your own account."));
    }
    delete_handing_over(tx, org, user_id, &Default::default(), now).map(|_| ())
}

/// Soft-deletes a user after handing their responsibilities over as `reassign` says; a
/// kind they hold with nobody named refuses the delete (409, naming what to hand over).
/// Returns what moved and how many sessions ended.
pub fn delete_handing_over(
    tx: &Transaction<'_>,
    org: &str,
    user_id: &str,
    reassign: &crate::responsibilities::Reassign,
    now: OffsetDateTime,
) -> AppResult<(crate::responsibilities::Counts, usize)> {
    let status = status_of(tx, org, user_id)?
        .filter(|s| *s != Status::Deleted)
        .ok_or_else(|| AppError::not_found(format!("There is no User with id '{user_id}'.")))?;
    let moved = crate::responsibilities::reassign(tx, org, user_id, reassign)?;
    tx.execute(
        "UPDATE users SET status = 'deleted', status_before_delete = ?3, deleted_at = ?4, \
         version = version + 1, modified = ?4 WHERE org = ?1 AND id = ?2",
        params![org, user_id, status.as_str(), format_time(now)],
    )?;
    let sessions = actions::cut_access(tx, org, user_id, now)?;
    crate::scim::store::remove_from_groups(tx, org, user_id, now)?;
    Ok((moved, sessions))
}

/// A text value of the shop extension, folded: `licence`, `role`.
fn shop_text(doc: &Value, name: &str) -> Option<String> {
    doc.get(muster_scim::urn::SHOP_USER)?
        .get(name)?
        .as_str()
        .map(str::to_lowercase)
}

/// Fills in, for a page of users, what changes with time or lives in other tables: MFA
/// enrolment and open sessions. Two queries, whatever the page size.
pub fn load_live(
    conn: &Connection,
    org: &str,
    rows: &mut [crate::scim::store::Row],
    now: OffsetDateTime,
) -> AppResult<()> {
    let ids: Vec<&str> = rows
        .iter()
        .filter(|r| r.state.is_some())
        .map(|r| r.id.as_str())
        .collect();
    if ids.is_empty() {
        return Ok(());
    }
    let sessions = crate::auth::active_session_counts(conn, org, &ids, now)?;
    let json_ids = serde_json::to_string(&ids).map_err(AppError::internal)?;
    let mut statement = conn.prepare_cached(
        "SELECT user_id FROM mfa WHERE org = ?1 AND confirmed_at IS NOT NULL \
         AND user_id IN (SELECT value FROM json_each(?2))",
    )?;
    let enrolled: std::collections::HashSet<String> = statement
        .query_map(params![org, json_ids], |row| row.get(0))?
        .collect::<Result<_, _>>()?;
    for row in rows.iter_mut() {
        if let Some(state) = &mut row.state {
            state.mfa_enabled = enrolled.contains(&row.id);
            state.active_sessions = i64::from(sessions.get(&row.id).copied().unwrap_or(0));
        }
    }
    Ok(())
}
