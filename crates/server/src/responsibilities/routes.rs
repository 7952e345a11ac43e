//! The HTTP side: `GET /o/{org}/scim/v2/Users/{id}/responsibilities` (what a user holds)
//! and `GET /o/{org}/assignees` (the active users who can take it over).

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::routing::get;
use axum::{Json, Router};
use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};

use super::{Counts, Kind, counts};
use crate::AppState;
use crate::auth::Caller;
use crate::error::{AppError, AppResult};

/// `GET /o/{org}/scim/v2/Users/{id}/responsibilities` and `GET /o/{org}/assignees`, to be
/// merged at the root.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/o/{org}/scim/v2/Users/{id}/responsibilities",
            get(responsibilities_handler),
        )
        .route("/o/{org}/assignees", get(assignees_handler))
}

/// One user's responsibilities, as `GET .../Users/{id}/responsibilities` answers.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Responsibilities {
    /// The user's SCIM id.
    pub user_id: String,
    /// How many of each kind.
    pub counts: Counts,
    /// All kinds together.
    pub total: u64,
    /// The kinds held, each with its count and a label for people.
    pub kinds: Vec<KindCount>,
}

/// One kind a user holds.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct KindCount {
    /// Which kind.
    pub kind: Kind,
    /// How many.
    pub count: u64,
    /// `default technician on 12 properties`.
    pub label: String,
}

impl Responsibilities {
    /// The answer for `user_id` holding `counts`.
    pub fn new(user_id: String, counts: Counts) -> Self {
        let kinds = counts
            .kinds()
            .into_iter()
            .map(|kind| KindCount {
                kind,
                count: counts.get(kind),
                label: kind.label(counts.get(kind)),
            })
            .collect();
        Self {
            user_id,
            total: counts.total(),
            counts,
            kinds,
        }
    }
}

/// `GET /o/{org}/scim/v2/Users/{id}/responsibilities`: what the user holds now. 404 for
/// an unknown or deleted user. Works merged at the root or nested under the SCIM base.
pub async fn responsibilities_handler(
    State(state): State<AppState>,
    caller: Caller,
    Path((org, id)): Path<(String, String)>,
) -> AppResult<Json<Responsibilities>> {
    crate::orgs::require_readable(&state, &caller, &org).await?;
    let answer = state
        .db
        .read(move |conn| {
            let status: Option<String> = conn
                .query_row(
                    "SELECT status FROM users WHERE org = ?1 AND id = ?2",
                    params![org, id],
                    |row| row.get(0),
                )
                .optional()?;
            if matches!(status.as_deref(), None | Some("deleted")) {
                return Err(AppError::not_found(format!(
                    "There is no User with id '{id}'."
                )));
            }
            let counts = counts(conn, &org, &id)?;
            Ok(Responsibilities::new(id, counts))
        })
        .await?;
    Ok(Json(answer))
}

/// The query of `GET /o/{org}/assignees`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct AssigneeQuery {
    /// The kind being filled (`defaultTechnician`, …). Checked, but every active user is
    /// eligible for every kind, as in the shop products.
    pub kind: Option<String>,
    /// Part of the display name or userName, case-insensitive.
    pub q: Option<String>,
    /// How many to return: default [`DEFAULT_ASSIGNEES`], at most [`MAX_ASSIGNEES`].
    pub count: Option<String>,
}

/// How many assignees a list returns when `count` is not given.
pub const DEFAULT_ASSIGNEES: usize = 50;

/// The most assignees one list returns.
pub const MAX_ASSIGNEES: usize = 200;

pub use muster_api::responsibilities::Assignee;

/// `GET /o/{org}/assignees?kind=&q=&count=`: active users (never invited, suspended,
/// deactivated or deleted ones), by display name.
pub async fn assignees_handler(
    State(state): State<AppState>,
    caller: Caller,
    Path(org): Path<String>,
    query: Result<Query<AssigneeQuery>, QueryRejection>,
) -> AppResult<Json<Vec<Assignee>>> {
    crate::orgs::require_readable(&state, &caller, &org).await?;
    let Query(query) = query.map_err(|error| {
        AppError::invalid_value(format!("The query string could not be read: {error}."))
    })?;
    if let Some(kind) = query.kind.as_deref()
        && Kind::parse(kind).is_none()
    {
        return Err(AppError::invalid_value(format!(
            "Unknown kind '{kind}': use defaultTechnician, primaryTechnician, officeAssignee \
             or warehouseManager."
        )));
    }
    let count = match query.count.as_deref().map(str::trim) {
        None | Some("") => DEFAULT_ASSIGNEES,
        Some(text) => text
            .parse::<usize>()
            .map_err(|_| {
                AppError::invalid_value(format!(
                    "count must be a whole number from 0 to {MAX_ASSIGNEES}, not '{text}'."
                ))
            })?
            .min(MAX_ASSIGNEES),
    };
    let q = query.q.unwrap_or_default();
    let list = state
        .db
        .read(move |conn| assignees(conn, &org, &q, count))
        .await?;
    Ok(Json(list))
}

/// Up to `count` active users of `org` whose display name or userName contains `q`
/// (case-insensitively; empty matches all), by display name.
pub fn assignees(conn: &Connection, org: &str, q: &str, count: usize) -> AppResult<Vec<Assignee>> {
    let pattern = format!("%{}%", like_escape(&crate::scim::kind::fold(q.trim())));
    let limit = i64::try_from(count).unwrap_or(i64::MAX);
    let mut statement = conn.prepare_cached(
        "SELECT id,
                COALESCE(json_extract(doc, '$.displayName'), json_extract(doc, '$.name.formatted'),
                         json_extract(doc, '$.userName'), user_name),
                COALESCE(json_extract(doc, '$.userName'), user_name)
         FROM users
         WHERE org = ?1 AND status = 'active'
           AND (?2 = '%%'
                OR COALESCE(display_name, lower(json_extract(doc, '$.name.formatted')), '')
                   LIKE ?2 ESCAPE '\\'
                OR user_name LIKE ?2 ESCAPE '\\')
         ORDER BY COALESCE(display_name, lower(json_extract(doc, '$.name.formatted')), user_name),
                  user_name
         LIMIT ?3",
    )?;
    let rows = statement.query_map(params![org, pattern, limit], |row| {
        Ok(Assignee {
            id: row.get(0)?,
            display_name: row.get(1)?,
            user_name: row.get(2)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Escapes `%`, `_` and `\` for a `LIKE … ESCAPE '\'` pattern.
fn like_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}
