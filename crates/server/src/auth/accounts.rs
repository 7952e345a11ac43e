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
use crate::lifecycle::Status;

/// What sign-in and the per-request check need to know about an org user.
#[derive(Debug, Clone)]
pub struct OrgUser {
    /// The user's SCIM id.
    pub id: String,
    /// The userName (folded), the name the audit log knows them by.
    pub user_name: String,
    /// Display name for the sign-in answer.
    pub display_name: String,
    /// Shop role, from `users.role`.
    pub role: Role,
    /// Lifecycle status, from `users.status`. Only [`Status::Active`] users may sign in
    /// or use their tokens.
    pub status: Status,
    /// Whether the user must choose a new password (`users.must_change_password`).
    pub must_change_password: bool,
    /// Whether the user's shop licence is `api` (compared case-insensitively).
    pub api_licence: bool,
}

impl OrgUser {
    /// Whether the user may sign in and use their tokens now.
    pub fn may_sign_in(&self) -> bool {
        self.status == Status::Active
    }

    /// Why a user who is not active is refused, for the 401's detail.
    pub fn refusal(&self) -> &'static str {
        not_active_detail(self.status)
    }
}

/// The 401 detail for a user whose status is `status` (not active).
pub fn not_active_detail(status: Status) -> &'static str {
    match status {
        Status::Active => "This account is active.",
        Status::Invited => {
            "This account is not active yet: accept the invitation in your email to set a \
             password."
        }
        Status::Suspended => {
            "This account is suspended, so it is not active; ask an admin of your organisation."
        }
        Status::Deactivated => {
            "This account has been deactivated, so it is not active; ask an admin of your \
             organisation."
        }
        Status::Deleted => "This account has been deleted, so it is not active.",
    }
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
                status, must_change_password, user_name,
                json_extract(doc, '$.\"{SHOP_USER}\".licence')
         FROM users WHERE org = ?1 AND id = ?2"
    );
    let row = conn
        .query_row(&sql, params![org, user_id], |row| {
            let role: Option<String> = row.get(1)?;
            let status: String = row.get(4)?;
            let user = OrgUser {
                id: row.get(0)?,
                role: Role::from_column(role.as_deref()),
                display_name: text(row.get(3)?).unwrap_or_default(),
                status: Status::parse(&status),
                must_change_password: row.get::<_, Option<i64>>(5)?.unwrap_or(0) != 0,
                user_name: row.get(6)?,
                api_licence: text(row.get(7)?).is_some_and(|l| l.eq_ignore_ascii_case("api")),
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
    fn every_refusal_says_not_active() {
        for status in [
            Status::Invited,
            Status::Suspended,
            Status::Deactivated,
            Status::Deleted,
        ] {
            assert!(
                not_active_detail(status).contains("not active"),
                "{status:?}: clients match on the words 'not active'"
            );
        }
    }
}
