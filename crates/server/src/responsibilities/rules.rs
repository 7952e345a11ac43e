//! The rules of holding and handing over work: what one user holds now ([`counts`]), and
//! moving all of it to active users before they leave ([`reassign`]).

use rusqlite::{Connection, OptionalExtension, Transaction, params};
use serde::Deserialize;

use super::{Counts, Kind};
use crate::error::{AppError, AppResult};

/// What `user_id` of `org` is responsible for now.
pub fn counts(conn: &Connection, org: &str, user_id: &str) -> AppResult<Counts> {
    let mut counts = Counts::default();
    for kind in Kind::ALL {
        counts.set(kind, count_kind(conn, kind, org, user_id)?);
    }
    Ok(counts)
}

fn count_kind(conn: &Connection, kind: Kind, org: &str, user_id: &str) -> AppResult<u64> {
    let count: i64 = conn
        .prepare_cached(kind.count_sql())?
        .query_row(params![org, user_id], |row| row.get(0))?;
    Ok(u64::try_from(count).unwrap_or(0))
}

/// Who takes over each kind of responsibility: target user ids. A blank id counts as none.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Reassign {
    /// New default technician of the user's properties.
    pub default_technician: Option<String>,
    /// New primary technician of the user's open tasks.
    pub primary_technician: Option<String>,
    /// New office assignee of the user's open tasks.
    pub office_assignee: Option<String>,
    /// New manager of the user's warehouses.
    pub warehouse_manager: Option<String>,
}

impl Reassign {
    /// The target named for `kind`, if any (blank ids are none).
    pub fn target(&self, kind: Kind) -> Option<&str> {
        let target = match kind {
            Kind::DefaultTechnician => &self.default_technician,
            Kind::PrimaryTechnician => &self.primary_technician,
            Kind::OfficeAssignee => &self.office_assignee,
            Kind::WarehouseManager => &self.warehouse_manager,
        };
        target.as_deref().map(str::trim).filter(|id| !id.is_empty())
    }
}

/// Moves every responsibility of `user_id` to the targets in `reassign`, kind by kind, in
/// the caller's transaction, and returns how many of each kind moved.
///
/// - A kind the user holds with no target named: 409, listing every such kind with its
///   count, before anything moves.
/// - A target that is not an active user of `org`, or is `user_id` itself: 400
///   `invalidValue` naming the kind. Targets are checked as their kind is reached, so
///   earlier kinds may already have moved: the caller must roll the transaction back on
///   error (as [`crate::db::Db::write`] does), which leaves nothing half-moved.
///
/// Targets for kinds the user holds none of are not checked: there is nothing to move.
pub fn reassign(
    tx: &Transaction<'_>,
    org: &str,
    user_id: &str,
    reassign: &Reassign,
) -> AppResult<Counts> {
    let held = counts(tx, org, user_id)?;
    let unassigned: Vec<String> = held
        .kinds()
        .into_iter()
        .filter(|kind| reassign.target(*kind).is_none())
        .map(|kind| kind.label(held.get(kind)))
        .collect();
    if !unassigned.is_empty() {
        return Err(AppError::new(
            axum::http::StatusCode::CONFLICT,
            format!("Reassign these first: {}.", unassigned.join(", ")),
        ));
    }
    let mut moved = Counts::default();
    for kind in held.kinds() {
        let Some(target) = reassign.target(kind) else {
            continue;
        };
        check_target(tx, org, user_id, kind, target)?;
        let changed = tx
            .prepare_cached(kind.move_sql())?
            .execute(params![org, user_id, target])?;
        moved.set(kind, u64::try_from(changed).unwrap_or(0));
    }
    Ok(moved)
}

/// 400 unless `target` is an active user of `org` other than `user_id`.
fn check_target(
    conn: &Connection,
    org: &str,
    user_id: &str,
    kind: Kind,
    target: &str,
) -> AppResult<()> {
    let title = kind.title();
    if target == user_id {
        return Err(AppError::invalid_value(format!(
            "The new {title} must be someone else: the user whose work is being handed over \
             cannot take it back."
        )));
    }
    let status: Option<String> = conn
        .query_row(
            "SELECT status FROM users WHERE org = ?1 AND id = ?2",
            params![org, target],
            |row| row.get(0),
        )
        .optional()?;
    match status.as_deref() {
        Some("active") => Ok(()),
        None | Some("deleted") => Err(AppError::invalid_value(format!(
            "The new {title} '{target}' is not a user of this organisation."
        ))),
        Some(status) => Err(AppError::invalid_value(format!(
            "The new {title} '{target}' is {status}; choose an active user."
        ))),
    }
}
