//! The people who can sign in: users of an organisation (the `users` table the SCIM store
//! owns, read here) and system admins (the `system_admins` table, owned here).

use argon2::password_hash::PasswordHash;
use muster_scim::urn::SHOP_USER;
use rusqlite::types::Value;
use rusqlite::{Connection, OptionalExtension, Transaction, params};
use time::OffsetDateTime;

use super::caller::Role;
use super::stamp;
use crate::error::{AppError, AppResult};

/// What sign-in and the per-request check need to know about an org user.
#[derive(Debug, Clone)]
pub struct OrgUser {
    /// The user's SCIM id.
    pub id: String,
    /// Display name for the sign-in answer.
    pub display_name: String,
    /// Shop role, from `users.role`.
    pub role: Role,
    /// Whether the user may use the service now: `active` is not false and the shop
    /// `status` is not suspended, deactivated or deleted.
    pub enabled: bool,
    /// Whether the user's shop licence is `api` (compared case-insensitively).
    pub api_licence: bool,
}

/// A system admin's identity.
#[derive(Debug, Clone)]
pub struct SystemAdmin {
    /// Generated id.
    pub id: String,
    /// Sign-in email, folded to lower case.
    pub email: String,
    /// Name to show.
    pub display_name: String,
}

/// Folds an email or user name the way the tables store it.
pub(crate) fn fold(login: &str) -> String {
    login.trim().to_lowercase()
}

/// The user `user_id` of `org`, if they exist.
pub fn org_user(conn: &Connection, org: &str, user_id: &str) -> AppResult<Option<OrgUser>> {
    Ok(org_user_with_hash(conn, org, user_id)?.map(|(user, _)| user))
}

/// The user of `org` whose email or userName is `login` (emails first), with their
/// password hash if they have one.
pub(crate) fn org_user_by_login(
    conn: &Connection,
    org: &str,
    login: &str,
) -> AppResult<Option<(OrgUser, Option<String>)>> {
    let login = fold(login);
    let id: Option<String> = conn
        .query_row(
            "SELECT id FROM users WHERE org = ?1
               AND seq IN (SELECT user_seq FROM user_emails WHERE org = ?1 AND email = ?2)
             UNION ALL
             SELECT id FROM users WHERE org = ?1 AND user_name = ?2
             LIMIT 1",
            params![org, login],
            |row| row.get(0),
        )
        .optional()?;
    match id {
        Some(id) => org_user_with_hash(conn, org, &id),
        None => Ok(None),
    }
}

fn org_user_with_hash(
    conn: &Connection,
    org: &str,
    user_id: &str,
) -> AppResult<Option<(OrgUser, Option<String>)>> {
    let sql = format!(
        "SELECT id, role, password_hash,
                COALESCE(json_extract(doc, '$.displayName'), json_extract(doc, '$.name.formatted'),
                         json_extract(doc, '$.userName'), user_name),
                json_extract(doc, '$.active'),
                json_extract(doc, '$.\"{SHOP_USER}\".licence'),
                json_extract(doc, '$.\"{SHOP_USER}\".status')
         FROM users WHERE org = ?1 AND id = ?2"
    );
    let row = conn
        .query_row(&sql, params![org, user_id], |row| {
            let role: Option<String> = row.get(1)?;
            let user = OrgUser {
                id: row.get(0)?,
                role: Role::from_column(role.as_deref()),
                display_name: text(row.get(3)?).unwrap_or_default(),
                enabled: is_active(&row.get(4)?) && !is_blocked_status(text(row.get(6)?)),
                api_licence: text(row.get(5)?).is_some_and(|l| l.eq_ignore_ascii_case("api")),
            };
            Ok((user, row.get::<_, Option<String>>(2)?))
        })
        .optional()?;
    Ok(row)
}

/// A JSON value pulled out with `json_extract`, as text when it is a scalar.
fn text(value: Value) -> Option<String> {
    match value {
        Value::Text(text) => Some(text),
        Value::Integer(number) => Some(number.to_string()),
        Value::Real(number) => Some(number.to_string()),
        Value::Null | Value::Blob(_) => None,
    }
}

/// `active` counts as true unless it is explicitly false (`false`, or the string "false"
/// some providers send). SQLite's `json_extract` turns JSON booleans into 0 and 1.
fn is_active(value: &Value) -> bool {
    match value {
        Value::Integer(0) => false,
        Value::Text(text) => !text.trim().eq_ignore_ascii_case("false"),
        _ => true,
    }
}

fn is_blocked_status(status: Option<String>) -> bool {
    status.is_some_and(|status| {
        ["suspended", "deactivated", "deleted"]
            .iter()
            .any(|s| status.eq_ignore_ascii_case(s))
    })
}

/// The system admin with id `id`, if they still exist.
pub fn system_admin(conn: &Connection, id: &str) -> AppResult<Option<SystemAdmin>> {
    let admin = conn
        .query_row(
            "SELECT id, email, display_name FROM system_admins WHERE id = ?1",
            [id],
            |row| {
                Ok(SystemAdmin {
                    id: row.get(0)?,
                    email: row.get(1)?,
                    display_name: row.get(2)?,
                })
            },
        )
        .optional()?;
    Ok(admin)
}

/// The system admin who signs in with `email`, with their password hash.
pub(crate) fn system_admin_by_email(
    conn: &Connection,
    email: &str,
) -> AppResult<Option<(SystemAdmin, String)>> {
    let admin = conn
        .query_row(
            "SELECT id, email, display_name, password_hash FROM system_admins WHERE email = ?1",
            [fold(email)],
            |row| {
                let admin = SystemAdmin {
                    id: row.get(0)?,
                    email: row.get(1)?,
                    display_name: row.get(2)?,
                };
                Ok((admin, row.get(3)?))
            },
        )
        .optional()?;
    Ok(admin)
}

/// Creates a system admin who signs in with `email` (no organisation) and the password
/// whose argon2id PHC string is `password_hash` (from [`hash_password`](super::password::hash_password), computed before
/// the transaction so the writer is not held while hashing), and returns their new id.
/// Duplicate email → 409 `uniqueness`; a `password_hash` that is not a PHC string → 400.
pub fn create_system_admin(
    tx: &Transaction<'_>,
    email: &str,
    display_name: &str,
    password_hash: &str,
    now: OffsetDateTime,
) -> AppResult<String> {
    let email = fold(email);
    if !email.contains('@') || email.len() > 254 {
        return Err(AppError::invalid_value(format!(
            "'{email}' is not an email address."
        )));
    }
    if PasswordHash::new(password_hash).is_err() {
        return Err(AppError::invalid_value(
            "create_system_admin takes the password's hash (hash_password), not the password.",
        ));
    }
    let taken: bool = tx.query_row(
        "SELECT EXISTS (SELECT 1 FROM system_admins WHERE email = ?1)",
        [&email],
        |row| row.get(0),
    )?;
    if taken {
        return Err(AppError::uniqueness(format!(
            "There is already a system admin '{email}'."
        )));
    }
    let id = uuid::Uuid::new_v4().to_string();
    let display_name = match display_name.trim() {
        "" => email.clone(),
        name => name.to_owned(),
    };
    tx.execute(
        "INSERT INTO system_admins (id, email, display_name, password_hash, created)
         VALUES (?1, ?2, ?3, ?4, ?5)",
        params![id, email, display_name, password_hash, stamp(now)],
    )?;
    tracing::info!(system_admin_id = %id, "system admin created");
    Ok(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn active_is_true_unless_explicitly_false() {
        assert!(is_active(&Value::Null), "a missing `active` means active");
        assert!(is_active(&Value::Integer(1)), "true is active");
        assert!(!is_active(&Value::Integer(0)), "false is inactive");
        assert!(
            !is_active(&Value::Text("False".into())),
            "lenient providers send \"False\""
        );
    }

    #[test]
    fn blocked_statuses() {
        assert!(
            is_blocked_status(Some("Suspended".into())),
            "suspension blocks"
        );
        assert!(!is_blocked_status(Some("active".into())), "active does not");
        assert!(!is_blocked_status(None), "no status does not");
    }
}
