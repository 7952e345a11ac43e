//! Administration of a data directory from the command line: what `muster-server`'s
//! subcommands and `--demo` do before (or instead of) serving.

use rusqlite::{OptionalExtension, Transaction, params};
use serde_json::json;
use time::OffsetDateTime;

use crate::error::{AppError, AppResult};
use crate::scim::kind::{Kind, fold};
use crate::scim::store::{self, PasswordChange};

/// Issues an API token for the integration user `user_name` of `org`, creating that user
/// (API licence, admin role) if it does not exist. Returns the token, which is shown once.
pub fn integration_token(
    tx: &Transaction<'_>,
    org: &str,
    user_name: &str,
    now: OffsetDateTime,
) -> AppResult<String> {
    if !crate::orgs::org_exists(tx, org)? {
        return Err(AppError::not_found(format!(
            "There is no organisation '{org}'."
        )));
    }
    let existing: Option<String> = tx
        .query_row(
            "SELECT id FROM users WHERE org = ?1 AND user_name = ?2",
            params![org, fold(user_name)],
            |row| row.get(0),
        )
        .optional()?;
    let user_id = match existing {
        Some(id) => id,
        None => {
            let doc = json!({
                "userName": user_name,
                "displayName": format!("{user_name} (integration)"),
                "active": true,
                muster_scim::urn::SHOP_USER: {"licence": "api", "role": "admin"},
            });
            store::insert(tx, Kind::User, org, &doc, PasswordChange::Keep, now)?.id
        }
    };
    crate::auth::issue_api_token_blocking(tx, org, &user_id, "command line", now)
}

/// Creates the system admin `email` unless one exists. `password_hash` is an argon2id PHC
/// string. Returns whether it was created.
pub fn ensure_system_admin(
    tx: &Transaction<'_>,
    email: &str,
    display_name: &str,
    password_hash: &str,
    now: OffsetDateTime,
) -> AppResult<bool> {
    let exists: bool = tx.query_row(
        "SELECT EXISTS (SELECT 1 FROM system_admins WHERE email = ?1)",
        [fold(email)],
        |row| row.get(0),
    )?;
    if !exists {
        crate::auth::create_system_admin(tx, email, display_name, password_hash, now)?;
    }
    Ok(!exists)
}
