//! Organisations: the tenants one server hosts. System admins list and create them at
//! `/admin/orgs`; every `/o/{org}/...` handler calls [`require_org`].

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use rusqlite::{Connection, Transaction, params};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::AppState;
use crate::audit::{Actor, Entry, Outcome};
use crate::auth::{Caller, stamp};
use crate::body::JsonBody;
use crate::db::Db;
use crate::error::{AppError, AppResult};
use crate::ratelimit::ClientAddr;

/// `GET /admin/orgs` and `POST /admin/orgs`, for system admins.
pub fn routes() -> Router<AppState> {
    Router::new().route("/admin/orgs", get(list).post(create))
}

/// An organisation as listed.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OrgSummary {
    /// Its id, as in `/o/{id}/...`.
    pub id: String,
    /// Its name.
    pub name: String,
    /// When it was created (RFC 3339).
    pub created: String,
    /// How many users it has.
    pub user_count: u64,
}

/// Checks an organisation id: 1 to 63 lower-case letters, digits and `-`.
pub fn validate_org_id(id: &str) -> AppResult<()> {
    let allowed = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-';
    if (1..=63).contains(&id.len()) && id.chars().all(allowed) {
        Ok(())
    } else {
        Err(AppError::invalid_value(format!(
            "'{id}' is not a valid organisation id: use 1 to 63 lower-case letters, digits and \
             '-'."
        )))
    }
}

/// Creates organisation `id` named `name` in a transaction the caller holds: for seeding
/// and the command line. Invalid id or name → 400; an existing id → 409 `uniqueness`.
pub fn create_org_blocking(
    tx: &Transaction<'_>,
    id: &str,
    name: &str,
    now: OffsetDateTime,
) -> AppResult<()> {
    validate_org_id(id)?;
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 200 {
        return Err(AppError::invalid_value(
            "An organisation needs a name of 1 to 200 characters.",
        ));
    }
    if org_exists(tx, id)? {
        return Err(AppError::uniqueness(format!(
            "There is already an organisation '{id}'."
        )));
    }
    tx.execute(
        "INSERT INTO orgs (id, name, created) VALUES (?1, ?2, ?3)",
        params![id, name, stamp(now)],
    )?;
    tracing::info!(org = id, "organisation created");
    Ok(())
}

/// Creates organisation `id` named `name`; see [`create_org_blocking`].
pub async fn create_org(db: &Db, id: &str, name: &str, now: OffsetDateTime) -> AppResult<()> {
    let (id, name) = (id.to_owned(), name.to_owned());
    db.write(move |tx| create_org_blocking(tx, &id, &name, now))
        .await
}

/// Whether organisation `id` exists.
pub fn org_exists(conn: &Connection, id: &str) -> AppResult<bool> {
    Ok(conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM orgs WHERE id = ?1)",
        [id],
        |row| row.get(0),
    )?)
}

/// 404 unless organisation `org` exists. Call it after the caller's permission checks,
/// so org users never learn whether another organisation exists.
pub async fn require_org(state: &AppState, org: &str) -> AppResult<()> {
    let id = org.to_owned();
    if state.db.read(move |conn| org_exists(conn, &id)).await? {
        Ok(())
    } else {
        Err(AppError::not_found(format!(
            "There is no organisation '{org}'."
        )))
    }
}

/// The caller may read organisation `org`, and it exists (checked in that order).
pub async fn require_readable(state: &AppState, caller: &Caller, org: &str) -> AppResult<()> {
    caller.require_read(org)?;
    require_org(state, org).await
}

/// The caller may change organisation `org`, and it exists (checked in that order).
pub async fn require_writable(state: &AppState, caller: &Caller, org: &str) -> AppResult<()> {
    caller.require_write(org)?;
    require_org(state, org).await
}

/// Every organisation with its user count, by id.
pub fn list_orgs(conn: &Connection) -> AppResult<Vec<OrgSummary>> {
    let mut statement = conn.prepare(
        "SELECT id, name, created, (SELECT COUNT(*) FROM users WHERE users.org = orgs.id)
         FROM orgs ORDER BY id",
    )?;
    let orgs = statement
        .query_map([], |row| {
            Ok(OrgSummary {
                id: row.get(0)?,
                name: row.get(1)?,
                created: row.get(2)?,
                user_count: row.get::<_, i64>(3)?.try_into().unwrap_or(0),
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(orgs)
}

#[derive(Serialize)]
struct OrgList {
    orgs: Vec<OrgSummary>,
}

/// `GET /admin/orgs`.
async fn list(caller: Caller, State(state): State<AppState>) -> AppResult<Json<OrgList>> {
    caller.require_system_admin()?;
    let orgs = state.db.read(list_orgs).await?;
    Ok(Json(OrgList { orgs }))
}

#[derive(Deserialize)]
struct NewOrg {
    id: String,
    name: String,
}

/// `POST /admin/orgs` `{"id", "name"}` → 201 with the new organisation.
async fn create(
    caller: Caller,
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    JsonBody(request): JsonBody<NewOrg>,
) -> AppResult<impl IntoResponse> {
    caller.require_system_admin()?;
    let now = state.clock.now();
    let actor = Actor::from_caller(&caller);
    let summary = state
        .db
        .write(move |tx| {
            create_org_blocking(tx, &request.id, &request.name, now)?;
            let entry = Entry {
                org: Some(&request.id),
                actor,
                action: "org.create",
                target_id: Some(&request.id),
                target_name: Some(request.name.trim()),
                client,
                outcome: Outcome::Success,
                detail: serde_json::json!({}),
            };
            crate::audit::record(tx, &entry, now)?;
            Ok(OrgSummary {
                id: request.id,
                name: request.name.trim().to_owned(),
                created: stamp(now),
                user_count: 0,
            })
        })
        .await?;
    Ok((StatusCode::CREATED, Json(summary)))
}
