//! Organisations: the tenants one server hosts, each with a status (active or suspended)
//! and a billing plan (one of the `plans` table's rows). System admins list, create,
//! suspend, reactivate, re-plan and delete them at `/admin/orgs`; every `/o/{org}/...`
//! handler calls [`require_org`], which also refuses a suspended organisation. Each of
//! those changes is written to the system-level audit log (entries without an
//! organisation), which outlives the organisation.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{delete, get, post, put};
use axum::{Json, Router};
use rusqlite::{Connection, OptionalExtension, Transaction, params};
use serde::{Deserialize, Serialize};
use serde_json::json;
use time::OffsetDateTime;

use crate::AppState;
use crate::audit::{Actor, Entry, Outcome};
use crate::auth::{Caller, stamp};
use crate::body::JsonBody;
use crate::db::Db;
use crate::error::{AppError, AppResult};
use crate::ratelimit::ClientAddr;

/// The plans, an organisation's status and plan. Plans are data: the app and the command
/// line offer what `GET /admin/plans` lists.
pub const SCHEMA: &str = r#"
-- What an organisation pays for. `position` orders them for people.
CREATE TABLE plans (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    description TEXT NOT NULL,
    position INTEGER NOT NULL
);
INSERT INTO plans (id, name, description, position) VALUES
    ('free', 'Free', 'Up to 25 users, community support.', 1),
    ('standard', 'Standard', 'Unlimited users, email support.', 2),
    ('enterprise', 'Enterprise', 'Unlimited users, single sign-on, a support contract.', 3);
-- `active` or `suspended`; `status_changed` is when it last moved (NULL: never).
ALTER TABLE orgs ADD COLUMN status TEXT NOT NULL DEFAULT 'active'
    CHECK (status IN ('active', 'suspended'));
ALTER TABLE orgs ADD COLUMN status_changed TEXT;
ALTER TABLE orgs ADD COLUMN plan TEXT NOT NULL DEFAULT 'free';
"#;

/// The plan a new organisation gets unless another is named.
pub const DEFAULT_PLAN: &str = "free";

/// Organisation routes under `/admin`, for system admins.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/orgs", get(list).post(create))
        .route("/admin/orgs/{org}", delete(remove))
        .route("/admin/orgs/{org}/suspend", post(suspend))
        .route("/admin/orgs/{org}/reactivate", post(reactivate))
        .route("/admin/orgs/{org}/plan", put(set_plan))
        .route("/admin/plans", get(plans))
}

pub use muster_api::orgs::{DeletedOrganisation, OrgStatus, Organisation, Plan};

/// A stored status read back; anything unknown reads as suspended (least access).
fn status_of_column(text: &str) -> OrgStatus {
    if text == OrgStatus::Active.name() {
        OrgStatus::Active
    } else {
        OrgStatus::Suspended
    }
}

/// Checks an organisation id: 1 to 63 lower-case letters, digits and `-`.
pub fn validate_org_id(id: &str) -> AppResult<()> {
    if muster_api::orgs::is_org_id(id) {
        Ok(())
    } else {
        Err(AppError::invalid_value(format!(
            "'{id}' is not a valid organisation id: use 1 to 63 lower-case letters, digits and \
             '-'."
        )))
    }
}

/// Creates organisation `id` named `name` on the default plan, in a transaction the caller
/// holds: for seeding and the command line. Invalid id or name → 400; an existing id → 409
/// `uniqueness`.
pub fn create_org_blocking(
    tx: &Transaction<'_>,
    id: &str,
    name: &str,
    now: OffsetDateTime,
) -> AppResult<()> {
    create_with_plan(tx, id, name, DEFAULT_PLAN, now)
}

fn create_with_plan(
    tx: &Transaction<'_>,
    id: &str,
    name: &str,
    plan: &str,
    now: OffsetDateTime,
) -> AppResult<()> {
    validate_org_id(id)?;
    if !muster_api::orgs::is_org_name(name) {
        return Err(AppError::invalid_value(format!(
            "An organisation needs a name of 1 to {} characters.",
            muster_api::orgs::MAX_NAME
        )));
    }
    let name = name.trim();
    require_plan(tx, plan)?;
    if org_exists(tx, id)? {
        return Err(AppError::uniqueness(format!(
            "There is already an organisation '{id}'."
        )));
    }
    tx.execute(
        "INSERT INTO orgs (id, name, created, plan) VALUES (?1, ?2, ?3, ?4)",
        params![id, name, stamp(now), plan],
    )?;
    tracing::info!(org = id, plan, "organisation created");
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
    Ok(org_status(conn, id)?.is_some())
}

/// Organisation `id`'s status, or `None` when there is no such organisation.
pub fn org_status(conn: &Connection, id: &str) -> AppResult<Option<OrgStatus>> {
    Ok(conn
        .query_row("SELECT status FROM orgs WHERE id = ?1", [id], |row| {
            row.get::<_, String>(0)
        })
        .optional()?
        .map(|status| status_of_column(&status)))
}

/// 403 `orgSuspended` when organisation `org` exists and is suspended: for signing in and
/// for every token of its users.
pub fn require_not_suspended(conn: &Connection, org: &str) -> AppResult<()> {
    match org_status(conn, org)? {
        Some(OrgStatus::Suspended) => Err(AppError::org_suspended(org)),
        _ => Ok(()),
    }
}

/// 404 unless organisation `org` exists, 403 `orgSuspended` while it is suspended (for
/// system admins too: a suspended organisation is reactivated before it is worked on).
/// Call it after the caller's permission checks, so org users never learn whether another
/// organisation exists.
pub async fn require_org(state: &AppState, org: &str) -> AppResult<()> {
    let id = org.to_owned();
    match state.db.read(move |conn| org_status(conn, &id)).await? {
        Some(OrgStatus::Active) => Ok(()),
        Some(OrgStatus::Suspended) => Err(AppError::org_suspended(org)),
        None => Err(no_such_org(org)),
    }
}

fn no_such_org(org: &str) -> AppError {
    AppError::not_found(format!("There is no organisation '{org}'."))
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

const SUMMARY_COLUMNS: &str = "id, name, created, plan, status,
     (SELECT COUNT(*) FROM users WHERE users.org = orgs.id)";

fn summary_of(row: &rusqlite::Row<'_>) -> rusqlite::Result<Organisation> {
    Ok(Organisation {
        id: row.get(0)?,
        name: row.get(1)?,
        created: row.get(2)?,
        plan: row.get(3)?,
        status: status_of_column(&row.get::<_, String>(4)?),
        user_count: row.get::<_, i64>(5)?.try_into().unwrap_or(0),
    })
}

/// Every organisation with its user count, plan and status, by id.
pub fn list_orgs(conn: &Connection) -> AppResult<Vec<Organisation>> {
    let mut statement = conn.prepare(&format!("SELECT {SUMMARY_COLUMNS} FROM orgs ORDER BY id"))?;
    let orgs = statement
        .query_map([], summary_of)?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(orgs)
}

/// Organisation `id` as listed; 404 when there is none.
pub fn org_summary(conn: &Connection, id: &str) -> AppResult<Organisation> {
    conn.query_row(
        &format!("SELECT {SUMMARY_COLUMNS} FROM orgs WHERE id = ?1"),
        [id],
        summary_of,
    )
    .optional()?
    .ok_or_else(|| no_such_org(id))
}

/// Every plan, in their order.
pub fn list_plans(conn: &Connection) -> AppResult<Vec<Plan>> {
    let mut statement =
        conn.prepare("SELECT id, name, description FROM plans ORDER BY position, id")?;
    let plans = statement
        .query_map([], |row| {
            Ok(Plan {
                id: row.get(0)?,
                name: row.get(1)?,
                description: row.get(2)?,
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(plans)
}

/// 400 `invalidValue` naming the plans unless `plan` is one of them.
fn require_plan(conn: &Connection, plan: &str) -> AppResult<()> {
    let plans = list_plans(conn)?;
    if plans.iter().any(|known| known.id == plan) {
        return Ok(());
    }
    let ids: Vec<&str> = plans.iter().map(|known| known.id.as_str()).collect();
    Err(AppError::invalid_value(format!(
        "'{plan}' is not a plan: use one of {}.",
        ids.join(", ")
    )))
}

/// Suspends organisation `id`: its users' sessions end (revoked, so a token still
/// presented is told why), their outstanding links and two-factor sign-ins are voided,
/// and nothing of it answers until it is reactivated. Its API tokens are kept but refused
/// while it is suspended. Returns how many sessions were open. 409 when already suspended.
pub fn suspend_blocking(tx: &Transaction<'_>, id: &str, now: OffsetDateTime) -> AppResult<usize> {
    move_status(tx, id, OrgStatus::Suspended, now)?;
    let sessions = tx.execute(
        "UPDATE sessions SET revoked = 1 WHERE org = ?1 AND revoked = 0",
        [id],
    )?;
    tx.execute(
        "UPDATE link_tokens SET voided_at = ?2
         WHERE org = ?1 AND used_at IS NULL AND voided_at IS NULL",
        params![id, stamp(now)],
    )?;
    tx.execute("DELETE FROM mfa_challenges WHERE org = ?1", [id])?;
    tracing::info!(org = id, sessions, "organisation suspended");
    Ok(sessions)
}

/// Reactivates suspended organisation `id`; 409 when it is active.
pub fn reactivate_blocking(tx: &Transaction<'_>, id: &str, now: OffsetDateTime) -> AppResult<()> {
    move_status(tx, id, OrgStatus::Active, now)?;
    tracing::info!(org = id, "organisation reactivated");
    Ok(())
}

fn move_status(
    tx: &Transaction<'_>,
    id: &str,
    to: OrgStatus,
    now: OffsetDateTime,
) -> AppResult<()> {
    let from = org_status(tx, id)?.ok_or_else(|| no_such_org(id))?;
    if from == to {
        return Err(AppError::new(
            StatusCode::CONFLICT,
            format!("Organisation {id} is already {}.", to.name()),
        ));
    }
    tx.execute(
        "UPDATE orgs SET status = ?2, status_changed = ?3 WHERE id = ?1",
        params![id, to.name(), stamp(now)],
    )?;
    Ok(())
}

/// Deletes organisation `id` and everything of it: every row of every table with an `org`
/// column (users, groups, sessions, tokens, links, responsibilities, two-factor rows, the
/// outbox, its own audit entries), then the organisation with its settings. Returns how
/// many users it had. The system-level audit log keeps the entry saying so.
pub fn delete_blocking(tx: &Transaction<'_>, id: &str) -> AppResult<u64> {
    let summary = org_summary(tx, id)?;
    // Rows reference the organisation and each other; the references are checked when
    // the transaction commits, when none is left.
    tx.pragma_update(None, "defer_foreign_keys", true)?;
    // First the organisation, so that the audit log's trigger lets its rows go.
    tx.execute("DELETE FROM orgs WHERE id = ?1", [id])?;
    for table in tables_with_org(tx)? {
        let removed = tx.execute(&format!("DELETE FROM \"{table}\" WHERE org = ?1"), [id])?;
        tracing::debug!(org = id, table, removed, "organisation rows deleted");
    }
    tracing::info!(org = id, users = summary.user_count, "organisation deleted");
    Ok(summary.user_count)
}

/// Every table with an `org` column, so that one added later is emptied too.
pub fn tables_with_org(conn: &Connection) -> AppResult<Vec<String>> {
    let mut statement = conn.prepare(
        "SELECT m.name FROM sqlite_master m JOIN pragma_table_info(m.name) c
         WHERE m.type = 'table' AND c.name = 'org' ORDER BY m.name",
    )?;
    let tables = statement
        .query_map([], |row| row.get(0))?
        .collect::<Result<Vec<String>, _>>()?;
    Ok(tables)
}

/// A system-level audit entry about organisation `org` (it has no organisation of its
/// own, so it outlives a deletion).
fn system_entry<'a>(
    caller: &Caller,
    action: &'a str,
    org: &'a str,
    name: Option<&'a str>,
    client: Option<std::net::IpAddr>,
    detail: serde_json::Value,
) -> Entry<'a> {
    Entry {
        org: None,
        actor: Actor::from_caller(caller),
        action,
        target_id: Some(org),
        target_name: name,
        client,
        outcome: Outcome::Success,
        detail,
    }
}

/// What `read` lists, as `{key: [...]}`, for a system admin.
async fn listing<T: Serialize + Send + 'static>(
    caller: &Caller,
    state: &AppState,
    key: &str,
    read: fn(&Connection) -> AppResult<Vec<T>>,
) -> AppResult<Json<serde_json::Value>> {
    caller.require_system_admin()?;
    let items = state.db.read(read).await?;
    let items = serde_json::to_value(items).map_err(AppError::internal)?;
    Ok(Json(serde_json::Value::Object(
        [(key.to_owned(), items)].into_iter().collect(),
    )))
}

/// `GET /admin/orgs`: `{orgs: [...]}`.
async fn list(caller: Caller, State(state): State<AppState>) -> AppResult<Json<serde_json::Value>> {
    listing(&caller, &state, "orgs", list_orgs).await
}

/// `GET /admin/plans`: `{plans: [...]}`.
async fn plans(
    caller: Caller,
    State(state): State<AppState>,
) -> AppResult<Json<serde_json::Value>> {
    listing(&caller, &state, "plans", list_plans).await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewOrg {
    id: String,
    name: String,
    #[serde(default)]
    plan: Option<String>,
}

/// `POST /admin/orgs` `{"id", "name", "plan"?}` → 201 with the new organisation.
async fn create(
    caller: Caller,
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    JsonBody(request): JsonBody<NewOrg>,
) -> AppResult<impl IntoResponse> {
    caller.require_system_admin()?;
    let now = state.clock.now();
    let summary = state
        .db
        .write(move |tx| {
            let plan = request.plan.as_deref().unwrap_or(DEFAULT_PLAN);
            create_with_plan(tx, &request.id, &request.name, plan, now)?;
            let summary = org_summary(tx, &request.id)?;
            let detail = json!({"plan": summary.plan});
            let entry = system_entry(
                &caller,
                "org.create",
                &summary.id,
                Some(&summary.name),
                client,
                detail,
            );
            crate::audit::record(tx, &entry, now)?;
            Ok(summary)
        })
        .await?;
    Ok((StatusCode::CREATED, Json(summary)))
}

/// One change to organisation `org` by a system admin, in one transaction: `work` makes
/// it and says what to record about it; then the system-level audit entry `action`. The
/// organisation as it now is.
async fn change(
    caller: Caller,
    state: AppState,
    client: Option<std::net::IpAddr>,
    org: String,
    action: &'static str,
    work: impl FnOnce(&Transaction<'_>, &str, OffsetDateTime) -> AppResult<serde_json::Value>
    + Send
    + 'static,
) -> AppResult<Json<Organisation>> {
    caller.require_system_admin()?;
    let now = state.clock.now();
    let summary = state
        .db
        .write(move |tx| {
            let detail = work(tx, &org, now)?;
            let summary = org_summary(tx, &org)?;
            let entry = system_entry(&caller, action, &org, Some(&summary.name), client, detail);
            crate::audit::record(tx, &entry, now)?;
            Ok(summary)
        })
        .await?;
    Ok(Json(summary))
}

/// `POST /admin/orgs/{org}/suspend` → the organisation as it now is.
async fn suspend(
    caller: Caller,
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    Path(org): Path<String>,
) -> AppResult<Json<Organisation>> {
    change(caller, state, client, org, "org.suspend", |tx, org, now| {
        let sessions = suspend_blocking(tx, org, now)?;
        Ok(json!({"sessionsRevoked": sessions}))
    })
    .await
}

/// `POST /admin/orgs/{org}/reactivate` → the organisation as it now is.
async fn reactivate(
    caller: Caller,
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    Path(org): Path<String>,
) -> AppResult<Json<Organisation>> {
    change(
        caller,
        state,
        client,
        org,
        "org.reactivate",
        |tx, org, now| {
            reactivate_blocking(tx, org, now)?;
            Ok(json!({}))
        },
    )
    .await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PlanChange {
    plan: String,
}

/// `PUT /admin/orgs/{org}/plan` `{"plan"}` → the organisation as it now is.
async fn set_plan(
    caller: Caller,
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    Path(org): Path<String>,
    JsonBody(request): JsonBody<PlanChange>,
) -> AppResult<Json<Organisation>> {
    change(
        caller,
        state,
        client,
        org,
        "org.set_plan",
        move |tx, org, _| {
            let before = org_summary(tx, org)?.plan;
            require_plan(tx, &request.plan)?;
            tx.execute(
                "UPDATE orgs SET plan = ?2 WHERE id = ?1",
                params![org, request.plan],
            )?;
            Ok(json!({"before": before, "after": request.plan}))
        },
    )
    .await
}

#[derive(Deserialize)]
struct Confirmation {
    #[serde(default)]
    confirm: Option<String>,
}

/// `DELETE /admin/orgs/{org}` `{"confirm": "<org>"}` → what was deleted. Without the id
/// repeated in `confirm`, 400 and nothing happens.
async fn remove(
    caller: Caller,
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    Path(org): Path<String>,
    headers: axum::http::HeaderMap,
    body: axum::body::Bytes,
) -> AppResult<Json<DeletedOrganisation>> {
    caller.require_system_admin()?;
    // Read after the caller's check (as `JsonBody` would, but a missing body is the 400
    // below), so that only a system admin learns what is missing.
    let confirm = if body.is_empty() {
        None
    } else {
        crate::body::check_content_type(&headers)?;
        crate::body::parse_json::<Confirmation>(&body)?.confirm
    };
    if confirm.as_deref().map(str::trim) != Some(org.as_str()) {
        return Err(AppError::invalid_value(format!(
            "Deleting an organisation cannot be undone: repeat its id in the body, \
             {{\"confirm\": \"{org}\"}}."
        )));
    }
    let now = state.clock.now();
    let deleted = state
        .db
        .write(move |tx| {
            let summary = org_summary(tx, &org)?;
            let users = delete_blocking(tx, &org)?;
            let detail = json!({"usersDeleted": users, "plan": summary.plan});
            let entry = system_entry(
                &caller,
                "org.delete",
                &org,
                Some(&summary.name),
                client,
                detail,
            );
            crate::audit::record(tx, &entry, now)?;
            Ok(DeletedOrganisation {
                id: summary.id,
                name: summary.name,
                users_deleted: users,
            })
        })
        .await?;
    Ok(Json(deleted))
}
