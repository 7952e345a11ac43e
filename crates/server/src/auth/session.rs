//! How long a session lives, and how recently its holder proved who they are.
//!
//! A session's end is fixed at sign-in (`sessions.expires`: the organisation's session
//! lifetime, 30 days by default) and no refresh moves it; the tokens issued on it never
//! outlive it. A session not refreshed for the organisation's idle time (7 days by
//! default) is signed out at its next refresh. Access tokens live 15 minutes, so a client
//! in use refreshes every 15 minutes and `last_used` is a fair measure of use.
//!
//! `sessions.authenticated` is when the password (and code) was last given on the
//! session: at sign-in, at `POST /auth/reauthenticate`, at a password change. Changing
//! anyone's credentials or factors needs it to be within [`RECENT`] (ASVS 6.2.3, 7.5.1),
//! so a stolen access token does not turn into a password or a second factor of the
//! thief's choosing.

use rusqlite::{Connection, Transaction, params};
use time::{Duration, OffsetDateTime};

use super::tokens::Owner;
use super::{parse_stamp, stamp};
use crate::error::{AppError, AppResult};

/// The session columns and API token columns of the credentials migration.
pub const SCHEMA: &str = r#"
-- When the password was last given on the session, when the session ends whatever
-- happens, and when it was last refreshed (idle timeout). NULL in sessions from before.
ALTER TABLE sessions ADD COLUMN authenticated TEXT;
ALTER TABLE sessions ADD COLUMN expires TEXT;
ALTER TABLE sessions ADD COLUMN last_used TEXT;
-- Sessions from before end 30 days after they began, as new ones do.
UPDATE sessions SET expires = strftime('%Y-%m-%dT%H:%M:%SZ', created, '+30 days');
-- API tokens: what they may do (`read` or `provision`; NULL, from before, is
-- `provision`), who issued them, and when they were last used (to the hour).
ALTER TABLE tokens ADD COLUMN scope TEXT;
ALTER TABLE tokens ADD COLUMN created_by TEXT;
ALTER TABLE tokens ADD COLUMN last_used TEXT;
"#;

/// How recent a sign-in must be to change credentials or factors.
pub const RECENT: Duration = Duration::minutes(10);

/// A session's lifetimes, from its organisation's settings (system admins: the defaults).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lifetimes {
    /// From sign-in to the end, whatever happens.
    pub absolute: Duration,
    /// Without a refresh, after which the session is signed out.
    pub idle: Duration,
}

impl Default for Lifetimes {
    fn default() -> Self {
        let settings = crate::policy::OrgSettings::default();
        Self {
            absolute: settings.session_ttl,
            idle: settings.session_idle,
        }
    }
}

/// The lifetimes that apply to `owner`'s sessions now.
pub(crate) fn lifetimes(conn: &Connection, owner: &Owner) -> AppResult<Lifetimes> {
    match owner {
        Owner::SystemAdmin(_) => Ok(Lifetimes::default()),
        Owner::OrgUser { org, .. } => {
            let settings = crate::policy::settings(conn, org)?;
            Ok(Lifetimes {
                absolute: settings.session_ttl,
                idle: settings.session_idle,
            })
        }
    }
}

/// A session's times, as stored.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Times {
    pub authenticated: Option<OffsetDateTime>,
    pub expires: Option<OffsetDateTime>,
    pub last_used: Option<OffsetDateTime>,
}

impl Times {
    /// Reads the three stored columns.
    pub fn parse(columns: [Option<String>; 3]) -> AppResult<Self> {
        let [authenticated, expires, last_used] =
            columns.map(|column| column.as_deref().map(parse_stamp).transpose());
        Ok(Self {
            authenticated: authenticated?,
            expires: expires?,
            last_used: last_used?,
        })
    }

    /// Whether the password was given within [`RECENT`] of `now`.
    pub fn is_recent(&self, now: OffsetDateTime) -> bool {
        self.authenticated
            .is_some_and(|at| at <= now && now - at <= RECENT)
    }

    /// Why a refresh at `now` is refused, if it is: the absolute end has passed, or the
    /// session has not been used for the idle time.
    pub fn ended(&self, lifetimes: Lifetimes, now: OffsetDateTime) -> Option<&'static str> {
        if self.expires.is_some_and(|expires| expires <= now) {
            return Some(
                "This session has reached the end of its lifetime; sign in again with your \
                 password.",
            );
        }
        if self
            .last_used
            .is_some_and(|used| now - used >= lifetimes.idle)
        {
            return Some("This session was signed out after a time without use; sign in again.");
        }
        None
    }
}

/// Sets a new session's times: authenticated and used now, ending after `absolute`.
pub(crate) fn begin(
    tx: &Transaction<'_>,
    id: &str,
    absolute: Duration,
    now: OffsetDateTime,
) -> AppResult<OffsetDateTime> {
    let expires = now.saturating_add(absolute);
    tx.execute(
        "UPDATE sessions SET authenticated = ?2, expires = ?3, last_used = ?2 WHERE id = ?1",
        params![id, stamp(now), stamp(expires)],
    )?;
    Ok(expires)
}

/// Records that the password was given again on session `id`.
pub(crate) fn mark_authenticated(
    tx: &Transaction<'_>,
    id: &str,
    now: OffsetDateTime,
) -> AppResult<()> {
    tx.execute(
        "UPDATE sessions SET authenticated = ?2 WHERE id = ?1",
        params![id, stamp(now)],
    )?;
    Ok(())
}

/// Records a refresh of session `id`.
pub(crate) fn mark_used(tx: &Transaction<'_>, id: &str, now: OffsetDateTime) -> AppResult<()> {
    tx.execute(
        "UPDATE sessions SET last_used = ?2 WHERE id = ?1",
        params![id, stamp(now)],
    )?;
    Ok(())
}

/// 403 [`AppError::reauthenticate`] unless `times` says the password was given within
/// [`RECENT`].
pub(crate) fn require_recent(times: &Times, now: OffsetDateTime) -> AppResult<()> {
    if times.is_recent(now) {
        Ok(())
    } else {
        Err(AppError::reauthenticate())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use time::macros::datetime;

    use super::*;

    const NOW: OffsetDateTime = datetime!(2030-01-01 09:00 UTC);

    #[test]
    fn recent_means_within_ten_minutes_and_not_in_the_future() {
        let at = |authenticated| Times {
            authenticated,
            ..Times::default()
        };
        assert!(at(Some(NOW - Duration::minutes(10))).is_recent(NOW));
        assert!(!at(Some(NOW - Duration::minutes(11))).is_recent(NOW));
        assert!(!at(None).is_recent(NOW), "sessions from before never are");
        assert!(
            !at(Some(NOW + Duration::minutes(1))).is_recent(NOW),
            "a time ahead of the clock is not trusted"
        );
    }

    #[test]
    fn sessions_from_before_end_thirty_days_after_they_began() {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(
            "CREATE TABLE sessions (id TEXT, created TEXT NOT NULL);
             CREATE TABLE tokens (hash TEXT);
             INSERT INTO sessions VALUES ('s', '2030-01-01T09:00:00Z');",
        )
        .unwrap();
        conn.execute_batch(SCHEMA).unwrap();
        let expires: String = conn
            .query_row("SELECT expires FROM sessions", [], |row| row.get(0))
            .unwrap();
        assert_eq!(expires, "2030-01-31T09:00:00Z");
    }

    #[test]
    fn a_session_ends_at_its_end_or_after_the_idle_time() {
        let lifetimes = Lifetimes::default();
        let times = Times {
            authenticated: Some(NOW),
            expires: Some(NOW + Duration::days(30)),
            last_used: Some(NOW),
        };
        assert_eq!(times.ended(lifetimes, NOW + Duration::days(6)), None);
        assert!(
            times
                .ended(lifetimes, NOW + Duration::days(7))
                .is_some_and(|why| why.contains("without use"))
        );
        let used = Times {
            last_used: Some(NOW + Duration::days(29)),
            ..times
        };
        assert!(
            used.ended(lifetimes, NOW + Duration::days(30))
                .is_some_and(|why| why.contains("lifetime")),
            "use does not extend the end"
        );
    }
}
