//! Reading the audit log: `GET /o/{org}/audit` (an organisation's entries, for its
//! readers) and `GET /admin/audit` (the system-level ones, for system admins), newest
//! first, filtered by actor, target, action, outcome and time.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::routing::get;
use axum::{Json, Router};
use rusqlite::types::ToSql;
use rusqlite::{Connection, params_from_iter};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::Outcome;
use crate::AppState;
use crate::auth::Caller;
use crate::error::{AppError, AppResult};
use crate::scim::store::normalize_time;

/// `GET /o/{org}/audit`. Already merged into [`crate::auth::routes`], so `app` gets it
/// with the other sign-in routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/o/{org}/audit", get(list))
        .route("/admin/audit", get(system_list))
}

/// An audit entry as listed.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Listed {
    /// Position in the log: later entries have larger numbers.
    pub seq: i64,
    /// When (RFC 3339, UTC, milliseconds).
    pub at: String,
    /// The organisation, or `null` for server-level events.
    pub org: Option<String>,
    /// `user`, `system_admin`, `api_token` or `anonymous`.
    pub actor_kind: String,
    /// Who acted (user or system admin id).
    pub actor_id: Option<String>,
    /// Who acted, by name.
    pub actor_name: Option<String>,
    /// What was done.
    pub action: String,
    /// What it was done to.
    pub target_id: Option<String>,
    /// What it was done to, by name.
    pub target_name: Option<String>,
    /// The client's address.
    pub client: Option<String>,
    /// `success`, `denied` or `failed`.
    pub outcome: String,
    /// More about it.
    pub detail: Value,
}

/// Filters and paging for [`list_entries`].
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Actor id or name (names compared case-insensitively).
    pub actor: Option<String>,
    /// Target id or name (names compared case-insensitively).
    pub target: Option<String>,
    /// Exact action, or a prefix ending in `*` (`session.*`).
    pub action: Option<String>,
    /// Only this outcome.
    pub outcome: Option<Outcome>,
    /// At or after this time (stored form, see [`format_time`]).
    pub since: Option<String>,
    /// Before this time (stored form).
    pub until: Option<String>,
    /// 1-based index of the first entry to return.
    pub start_index: usize,
    /// Most entries to return.
    pub count: usize,
}

/// The entries of `org` (`None`: the system-level ones) matching `filter`, newest first:
/// how many match, and the page.
pub fn list_entries(
    conn: &Connection,
    org: Option<&str>,
    filter: &Filter,
) -> AppResult<(u64, Vec<Listed>)> {
    let mut clauses = vec!["org IS ?".to_owned()];
    let mut args: Vec<Box<dyn ToSql>> = vec![Box::new(org.map(str::to_owned))];
    if let Some(actor) = &filter.actor {
        clauses.push("(actor_id = ? OR actor_name = ? COLLATE NOCASE)".into());
        args.push(Box::new(actor.clone()));
        args.push(Box::new(actor.clone()));
    }
    if let Some(target) = &filter.target {
        clauses.push("(target_id = ? OR target_name = ? COLLATE NOCASE)".into());
        args.push(Box::new(target.clone()));
        args.push(Box::new(target.clone()));
    }
    if let Some(action) = &filter.action {
        match action.strip_suffix('*') {
            Some(prefix) => {
                clauses.push("substr(action, 1, length(?)) = ?".into());
                args.push(Box::new(prefix.to_owned()));
                args.push(Box::new(prefix.to_owned()));
            }
            None => {
                clauses.push("action = ?".into());
                args.push(Box::new(action.clone()));
            }
        }
    }
    if let Some(outcome) = filter.outcome {
        clauses.push("outcome = ?".into());
        args.push(Box::new(outcome.as_str()));
    }
    if let Some(since) = &filter.since {
        clauses.push("at >= ?".into());
        args.push(Box::new(since.clone()));
    }
    if let Some(until) = &filter.until {
        clauses.push("at < ?".into());
        args.push(Box::new(until.clone()));
    }
    let filter_sql = clauses.join(" AND ");
    let total: i64 = conn.query_row(
        &format!("SELECT COUNT(*) FROM audit WHERE {filter_sql}"),
        params_from_iter(args.iter()),
        |row| row.get(0),
    )?;
    let limit = i64::try_from(filter.count).unwrap_or(i64::MAX);
    let offset = i64::try_from(filter.start_index.saturating_sub(1)).unwrap_or(i64::MAX);
    args.push(Box::new(limit));
    args.push(Box::new(offset));
    let mut statement = conn.prepare(&format!(
        "SELECT seq, at, org, actor_kind, actor_id, actor_name, action, target_id, target_name,
                client, outcome, detail
         FROM audit WHERE {filter_sql} ORDER BY seq DESC LIMIT ? OFFSET ?"
    ))?;
    let entries = statement
        .query_map(params_from_iter(args.iter()), |row| {
            let detail: String = row.get(11)?;
            Ok(Listed {
                seq: row.get(0)?,
                at: row.get(1)?,
                org: row.get(2)?,
                actor_kind: row.get(3)?,
                actor_id: row.get(4)?,
                actor_name: row.get(5)?,
                action: row.get(6)?,
                target_id: row.get(7)?,
                target_name: row.get(8)?,
                client: row.get(9)?,
                outcome: row.get(10)?,
                detail: serde_json::from_str(&detail).unwrap_or(Value::String(detail)),
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok((u64::try_from(total).unwrap_or(0), entries))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawQuery {
    actor: Option<String>,
    target: Option<String>,
    action: Option<String>,
    outcome: Option<String>,
    since: Option<String>,
    until: Option<String>,
    start_index: Option<String>,
    count: Option<String>,
}

/// How many entries a page holds when `count` is not given.
const DEFAULT_COUNT: usize = 100;

impl RawQuery {
    fn into_filter(self, max_results: usize) -> AppResult<Filter> {
        let nonempty =
            |value: Option<String>| value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
        let time = |value: Option<String>, name: &str| {
            nonempty(value)
                .map(|text| {
                    normalize_time(&text).ok_or_else(|| {
                        AppError::invalid_value(format!(
                            "{name} must be an RFC 3339 time such as 2030-01-31T00:00:00Z."
                        ))
                    })
                })
                .transpose()
        };
        let number = |value: Option<String>, name: &str| {
            nonempty(value)
                .map(|text| {
                    text.parse::<i64>().map_err(|_| {
                        AppError::invalid_value(format!("{name} must be a whole number."))
                    })
                })
                .transpose()
        };
        let outcome = nonempty(self.outcome)
            .map(|text| {
                Outcome::parse(&text).ok_or_else(|| {
                    AppError::invalid_value("outcome must be success, denied or failed.")
                })
            })
            .transpose()?;
        let start_index = number(self.start_index, "startIndex")?.unwrap_or(1).max(1);
        let count = number(self.count, "count")?
            .map_or(DEFAULT_COUNT, |count| {
                usize::try_from(count.max(0)).unwrap_or(0)
            })
            .min(max_results);
        Ok(Filter {
            actor: nonempty(self.actor),
            target: nonempty(self.target),
            action: nonempty(self.action),
            outcome,
            since: time(self.since, "since")?,
            until: time(self.until, "until")?,
            start_index: usize::try_from(start_index).unwrap_or(usize::MAX),
            count,
        })
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Page {
    total_results: u64,
    start_index: usize,
    items_per_page: usize,
    entries: Vec<Listed>,
}

/// `GET /o/{org}/audit?actor=&target=&action=&outcome=&since=&until=&startIndex=&count=`:
/// for admins, viewers and system admins; newest first.
async fn list(
    caller: Caller,
    State(state): State<AppState>,
    Path(org): Path<String>,
    query: Result<Query<RawQuery>, QueryRejection>,
) -> AppResult<Json<Value>> {
    crate::orgs::require_readable(&state, &caller, &org).await?;
    page(&state, Some(org), query).await
}

/// `GET /admin/audit?…` (the same filters): the system-level entries, for system admins.
async fn system_list(
    caller: Caller,
    State(state): State<AppState>,
    query: Result<Query<RawQuery>, QueryRejection>,
) -> AppResult<Json<Value>> {
    caller.require_system_admin()?;
    page(&state, None, query).await
}

/// A page of `org`'s entries (`None`: system-level) as `query` asks.
async fn page(
    state: &AppState,
    org: Option<String>,
    query: Result<Query<RawQuery>, QueryRejection>,
) -> AppResult<Json<Value>> {
    let Query(raw) = query.map_err(|error| {
        AppError::invalid_value(format!("The query string could not be read: {error}."))
    })?;
    let filter = raw.into_filter(state.config.max_results)?;
    let start_index = filter.start_index;
    let (total, entries) = state
        .db
        .read(move |conn| list_entries(conn, org.as_deref(), &filter))
        .await?;
    let page = Page {
        total_results: total,
        start_index,
        items_per_page: entries.len(),
        entries,
    };
    Ok(Json(
        serde_json::to_value(page).map_err(AppError::internal)?,
    ))
}
