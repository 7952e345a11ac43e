//! What a user is responsible for in the shop's software: default technician on
//! properties (customer sites), primary technician and office assignee on open tasks (work
//! orders), manager of a warehouse. Before a user is deactivated each of these is
//! reassigned to an active user ([`reassign`]), or work gets lost; the deactivate wizard
//! shows [`counts`] and picks replacements from [`routes`]' assignee list, which only ever
//! holds active users.
//!
//! User columns hold SCIM user ids and are indexed together with the org, so counting and
//! moving one user's work stays an index lookup however large the organisation is.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::routing::get;
use axum::{Json, Router};
use rand::Rng;
use rand::rngs::StdRng;
use rusqlite::{Connection, OptionalExtension, Transaction, params};
use serde::{Deserialize, Serialize};
use time::Date;
use time::macros::date;

use crate::AppState;
use crate::auth::Caller;
use crate::error::{AppError, AppResult};

/// Tables: properties, tasks and warehouses, each with its user columns indexed.
pub const SCHEMA: &str = r#"
-- Customer sites. `default_technician` is the user sent when nobody else is named.
CREATE TABLE properties (
    org TEXT NOT NULL REFERENCES orgs(id),
    id TEXT NOT NULL,
    name TEXT NOT NULL,
    address TEXT NOT NULL,
    default_technician TEXT,
    PRIMARY KEY (org, id)
);
CREATE INDEX properties_default_technician ON properties (org, default_technician);

-- Work orders. Only open tasks count as someone's responsibility; closed ones keep their
-- people as history. `due` is a calendar date, `YYYY-MM-DD`.
CREATE TABLE tasks (
    org TEXT NOT NULL REFERENCES orgs(id),
    id TEXT NOT NULL,
    title TEXT NOT NULL,
    property_id TEXT,
    status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'closed')),
    primary_technician TEXT,
    office_assignee TEXT,
    due TEXT,
    PRIMARY KEY (org, id),
    FOREIGN KEY (org, property_id) REFERENCES properties (org, id)
);
CREATE INDEX tasks_primary_technician ON tasks (org, primary_technician, status);
CREATE INDEX tasks_office_assignee ON tasks (org, office_assignee, status);
CREATE INDEX tasks_property ON tasks (org, property_id);

-- Stock locations, one per branch in the demo.
CREATE TABLE warehouses (
    org TEXT NOT NULL REFERENCES orgs(id),
    id TEXT NOT NULL,
    name TEXT NOT NULL,
    manager TEXT,
    PRIMARY KEY (org, id)
);
CREATE INDEX warehouses_manager ON warehouses (org, manager);
"#;

/// A kind of responsibility a user can hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Kind {
    /// Default technician on properties.
    DefaultTechnician,
    /// Primary technician on open tasks.
    PrimaryTechnician,
    /// Office assignee on open tasks.
    OfficeAssignee,
    /// Manager of warehouses.
    WarehouseManager,
}

impl Kind {
    /// Every kind, in the order [`reassign`] moves them.
    pub const ALL: [Kind; 4] = [
        Kind::DefaultTechnician,
        Kind::PrimaryTechnician,
        Kind::OfficeAssignee,
        Kind::WarehouseManager,
    ];

    /// The camelCase name used in JSON and query strings: `defaultTechnician`.
    pub fn name(self) -> &'static str {
        match self {
            Kind::DefaultTechnician => "defaultTechnician",
            Kind::PrimaryTechnician => "primaryTechnician",
            Kind::OfficeAssignee => "officeAssignee",
            Kind::WarehouseManager => "warehouseManager",
        }
    }

    /// The kind named `name` (as [`Kind::name`] writes it, compared case-insensitively).
    pub fn parse(name: &str) -> Option<Kind> {
        Kind::ALL
            .into_iter()
            .find(|kind| kind.name().eq_ignore_ascii_case(name.trim()))
    }

    /// The role in words: `default technician`.
    pub fn title(self) -> &'static str {
        match self {
            Kind::DefaultTechnician => "default technician",
            Kind::PrimaryTechnician => "primary technician",
            Kind::OfficeAssignee => "office assignee",
            Kind::WarehouseManager => "warehouse manager",
        }
    }

    /// The role with its count, for people: `default technician on 12 properties`,
    /// `primary technician on 1 open task`, `manager of 2 warehouses`.
    pub fn label(self, count: u64) -> String {
        let plural = |one: &str, many: &str| if count == 1 { one } else { many }.to_owned();
        match self {
            Kind::DefaultTechnician => format!(
                "default technician on {count} {}",
                plural("property", "properties")
            ),
            Kind::PrimaryTechnician => format!(
                "primary technician on {count} {}",
                plural("open task", "open tasks")
            ),
            Kind::OfficeAssignee => format!(
                "office assignee on {count} {}",
                plural("open task", "open tasks")
            ),
            Kind::WarehouseManager => {
                format!("manager of {count} {}", plural("warehouse", "warehouses"))
            }
        }
    }

    /// Counts this kind for `?2` of org `?1`.
    fn count_sql(self) -> &'static str {
        match self {
            Kind::DefaultTechnician => {
                "SELECT count(*) FROM properties WHERE org = ?1 AND default_technician = ?2"
            }
            Kind::PrimaryTechnician => {
                "SELECT count(*) FROM tasks \
                 WHERE org = ?1 AND primary_technician = ?2 AND status = 'open'"
            }
            Kind::OfficeAssignee => {
                "SELECT count(*) FROM tasks \
                 WHERE org = ?1 AND office_assignee = ?2 AND status = 'open'"
            }
            Kind::WarehouseManager => {
                "SELECT count(*) FROM warehouses WHERE org = ?1 AND manager = ?2"
            }
        }
    }

    /// Moves this kind from `?2` to `?3` in org `?1`.
    fn move_sql(self) -> &'static str {
        match self {
            Kind::DefaultTechnician => {
                "UPDATE properties SET default_technician = ?3 \
                 WHERE org = ?1 AND default_technician = ?2"
            }
            Kind::PrimaryTechnician => {
                "UPDATE tasks SET primary_technician = ?3 \
                 WHERE org = ?1 AND primary_technician = ?2 AND status = 'open'"
            }
            Kind::OfficeAssignee => {
                "UPDATE tasks SET office_assignee = ?3 \
                 WHERE org = ?1 AND office_assignee = ?2 AND status = 'open'"
            }
            Kind::WarehouseManager => {
                "UPDATE warehouses SET manager = ?3 WHERE org = ?1 AND manager = ?2"
            }
        }
    }
}

impl std::fmt::Display for Kind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// How many of each kind of responsibility one user holds (open tasks only for the task
/// kinds), or how many [`reassign`] moved.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Counts {
    /// Properties whose default technician the user is.
    pub default_technician: u64,
    /// Open tasks whose primary technician the user is.
    pub primary_technician: u64,
    /// Open tasks whose office assignee the user is.
    pub office_assignee: u64,
    /// Warehouses the user manages.
    pub warehouse_manager: u64,
}

impl Counts {
    /// All responsibilities together.
    pub fn total(&self) -> u64 {
        Kind::ALL.into_iter().map(|kind| self.get(kind)).sum()
    }

    /// The kinds the user holds at least one of, in [`Kind::ALL`] order.
    pub fn kinds(&self) -> Vec<Kind> {
        Kind::ALL
            .into_iter()
            .filter(|kind| self.get(*kind) > 0)
            .collect()
    }

    /// The count of one kind.
    pub fn get(&self, kind: Kind) -> u64 {
        match kind {
            Kind::DefaultTechnician => self.default_technician,
            Kind::PrimaryTechnician => self.primary_technician,
            Kind::OfficeAssignee => self.office_assignee,
            Kind::WarehouseManager => self.warehouse_manager,
        }
    }

    fn set(&mut self, kind: Kind, count: u64) {
        match kind {
            Kind::DefaultTechnician => self.default_technician = count,
            Kind::PrimaryTechnician => self.primary_technician = count,
            Kind::OfficeAssignee => self.office_assignee = count,
            Kind::WarehouseManager => self.warehouse_manager = count,
        }
    }

    /// The non-zero kinds in words, joined: `default technician on 12 properties, manager
    /// of 1 warehouse`.
    pub fn describe(&self) -> String {
        self.kinds()
            .into_iter()
            .map(|kind| kind.label(self.get(kind)))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

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

/// The people demo responsibilities are handed to: SCIM user ids, active users only.
#[derive(Debug, Clone, Default)]
pub struct SeedPeople {
    /// Field staff: default technicians of properties, primary technicians of tasks.
    pub technicians: Vec<String>,
    /// Office staff: office assignees of tasks, warehouse managers.
    pub office: Vec<String>,
}

/// One warehouse per branch; the same branches as the demo's users.
const BRANCHES: &[&str] = &[
    "Denver",
    "Boulder",
    "Colorado Springs",
    "Fort Collins",
    "Pueblo",
    "Grand Junction",
];

const PLACE_NAMES: &[&str] = &[
    "Hillcrest",
    "Maple Ridge",
    "Riverside",
    "Cedar Creek",
    "Lakeview",
    "Pine Valley",
    "Aspen Grove",
    "Willow Park",
    "Eagle Point",
    "Stonebridge",
    "Highland",
    "Meadowbrook",
    "Sunrise",
    "Clear Creek",
    "Red Rock",
    "Bear Creek",
    "Fox Run",
    "Golden Bluff",
    "Prairie Wind",
    "Cherry Hills",
    "Silver Peak",
    "Canyon View",
];

const PLACE_KINDS: &[&str] = &[
    "Medical Center",
    "HOA",
    "Apartments",
    "Elementary School",
    "High School",
    "Office Park",
    "Shopping Center",
    "Senior Living",
    "Community Church",
    "Distribution Center",
    "Hotel",
    "Public Library",
    "Condominiums",
    "Business Park",
    "Recreation Center",
    "Dental Clinic",
    "Self Storage",
    "Plaza",
    "Brewery",
    "Data Center",
    "Cold Storage",
    "Parking Garage",
];

const STREETS: &[&str] = &[
    "Maple",
    "Oak",
    "Cedar",
    "Elm",
    "Pine",
    "Aspen",
    "Spruce",
    "Willow",
    "Colfax",
    "Broadway",
    "Lincoln",
    "Federal",
    "Colorado",
    "Wadsworth",
    "Sheridan",
    "Alameda",
    "Evans",
    "Hampden",
    "Arapahoe",
    "Quebec",
    "Monaco",
    "Kipling",
    "Pearl",
    "Walnut",
];

const STREET_TYPES: &[&str] = &["St", "Ave", "Blvd", "Dr", "Way", "Pkwy", "Ct", "Rd"];

const TASK_TITLES: &[&str] = &[
    "Annual sprinkler inspection",
    "Quarterly sprinkler inspection",
    "Replace backflow preventer",
    "Backflow test and certification",
    "Five-year standpipe test",
    "Fire pump annual test",
    "Replace corroded sprinkler heads",
    "Repair leaking riser",
    "Quarterly fire alarm test",
    "Kitchen hood suppression inspection",
    "Fire extinguisher service",
    "Emergency lighting test",
    "Panel upgrade to 200 A",
    "GFCI outlet troubleshooting",
    "Install surge protection",
    "Replace parking lot light fixtures",
    "Furnace tune-up",
    "AC not cooling",
    "Replace rooftop unit compressor",
    "Thermostat replacement",
    "Boiler inspection",
    "Walk-in cooler not holding temperature",
    "Replace air handler belts",
    "Water heater replacement",
];

/// Tasks are due around this date: the demo is fixed, not relative to when it is seeded.
const DUE_AROUND: Date = date!(2026 - 06 - 01);

/// Generates a realistic load of properties, tasks and warehouses for `org`, all assigned
/// to `people` (pass active users only). About 1.5 properties and 2 tasks per person, a
/// quarter of the tasks closed, a few things unassigned, one warehouse per branch managed
/// by office staff. The same `rng` state gives the same data.
pub fn seed(
    tx: &Transaction<'_>,
    org: &str,
    people: &SeedPeople,
    rng: &mut StdRng,
) -> AppResult<()> {
    let headcount = people.technicians.len() + people.office.len();
    let pick = |rng: &mut StdRng, ids: &[String], share_assigned: f64| -> Option<String> {
        if ids.is_empty() || !rng.random_bool(share_assigned) {
            None
        } else {
            Some(ids[rng.random_range(0..ids.len())].clone())
        }
    };
    let one_of = |rng: &mut StdRng, list: &[&'static str]| list[rng.random_range(0..list.len())];

    let property_count = headcount * 3 / 2;
    let mut property_ids = Vec::with_capacity(property_count);
    {
        let mut insert = tx.prepare_cached(
            "INSERT INTO properties (org, id, name, address, default_technician) \
             VALUES (?1, ?2, ?3, ?4, ?5)",
        )?;
        for index in 0..property_count {
            let id = format!("P-{:06}", index + 1);
            let name = format!("{} {}", one_of(rng, PLACE_NAMES), one_of(rng, PLACE_KINDS));
            let address = format!(
                "{} {} {}, {}, CO {}",
                rng.random_range(100..10_000),
                one_of(rng, STREETS),
                one_of(rng, STREET_TYPES),
                one_of(rng, BRANCHES),
                rng.random_range(80_001..81_700),
            );
            let technician = pick(rng, &people.technicians, 0.9);
            insert.execute(params![org, id, name, address, technician])?;
            property_ids.push(id);
        }
    }

    let mut insert = tx.prepare_cached(
        "INSERT INTO tasks (org, id, title, property_id, status, primary_technician, \
         office_assignee, due) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?;
    for index in 0..headcount * 2 {
        let id = format!("WO-{:06}", 100_001 + index);
        let property = if property_ids.is_empty() {
            None
        } else {
            Some(&property_ids[rng.random_range(0..property_ids.len())])
        };
        let status = if rng.random_bool(0.25) {
            "closed"
        } else {
            "open"
        };
        let technician = pick(rng, &people.technicians, 0.95);
        let office = pick(rng, &people.office, 0.8);
        let due = DUE_AROUND + time::Duration::days(rng.random_range(-60..=90));
        insert.execute(params![
            org,
            id,
            one_of(rng, TASK_TITLES),
            property,
            status,
            technician,
            office,
            due.to_string()
        ])?;
    }

    let mut insert = tx.prepare_cached(
        "INSERT INTO warehouses (org, id, name, manager) VALUES (?1, ?2, ?3, ?4)",
    )?;
    for (index, branch) in BRANCHES.iter().enumerate() {
        let id = format!("WH-{:02}", index + 1);
        let manager = pick(rng, &people.office, 1.0);
        insert.execute(params![org, id, format!("{branch} Warehouse"), manager])?;
    }
    Ok(())
}

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
    caller.require_read(&org)?;
    crate::orgs::require_org(&state, &org).await?;
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

/// A user who can take over work.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Assignee {
    /// SCIM id: the value to put in [`Reassign`].
    pub id: String,
    /// Display name (or formatted name, or userName when there is none).
    pub display_name: String,
    /// userName.
    pub user_name: String,
}

/// `GET /o/{org}/assignees?kind=&q=&count=`: active users (never invited, suspended,
/// deactivated or deleted ones), by display name.
pub async fn assignees_handler(
    State(state): State<AppState>,
    caller: Caller,
    Path(org): Path<String>,
    query: Result<Query<AssigneeQuery>, QueryRejection>,
) -> AppResult<Json<Vec<Assignee>>> {
    caller.require_read(&org)?;
    crate::orgs::require_org(&state, &org).await?;
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

#[cfg(test)]
mod tests {
    use rand::SeedableRng;

    use super::*;

    fn schema() -> Connection {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(
            "CREATE TABLE orgs (id TEXT PRIMARY KEY);
             INSERT INTO orgs VALUES ('acme');",
        )
        .unwrap();
        conn.execute_batch(SCHEMA).unwrap();
        conn
    }

    #[test]
    fn labels_read_as_english() {
        assert_eq!(
            Kind::DefaultTechnician.label(12),
            "default technician on 12 properties"
        );
        assert_eq!(
            Kind::PrimaryTechnician.label(1),
            "primary technician on 1 open task",
            "one task is singular"
        );
        assert_eq!(Kind::WarehouseManager.label(2), "manager of 2 warehouses");
        for kind in Kind::ALL {
            assert_eq!(
                Kind::parse(kind.name()),
                Some(kind),
                "names round-trip through parse"
            );
            assert_eq!(
                serde_json::to_value(kind).unwrap(),
                serde_json::json!(kind.name()),
                "JSON uses the same camelCase names as the query string"
            );
        }
    }

    #[test]
    fn counts_and_moves_use_the_indexes() {
        let conn = schema();
        for kind in Kind::ALL {
            for sql in [kind.count_sql(), kind.move_sql()] {
                let mut statement = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
                for index in 1..=statement.parameter_count() {
                    statement.raw_bind_parameter(index, "x").unwrap();
                }
                let mut rows = statement.raw_query();
                let mut plan = Vec::new();
                while let Some(row) = rows.next().unwrap() {
                    plan.push(row.get::<_, String>(3).unwrap());
                }
                let plan = plan.join("; ");
                assert!(
                    plan.contains("USING") && plan.contains("INDEX") && !plan.contains("SCAN"),
                    "{kind} must be an index lookup to stay fast with 20,000 users: {plan}"
                );
            }
        }
    }

    #[test]
    fn seed_is_deterministic_and_realistic() {
        let people = SeedPeople {
            technicians: (0..20).map(|i| format!("t{i}")).collect(),
            office: (0..4).map(|i| format!("o{i}")).collect(),
        };
        let dump = |seed: u64| {
            let mut conn = schema();
            let tx = conn.transaction().unwrap();
            seed_fn(&tx, &people, seed);
            let rows: Vec<String> = tx
                .prepare(
                    "SELECT id || name || address || COALESCE(default_technician, '') \
                     FROM properties UNION ALL SELECT id || title || status || \
                     COALESCE(primary_technician, '') || COALESCE(office_assignee, '') || due \
                     FROM tasks UNION ALL SELECT id || name || COALESCE(manager, '') \
                     FROM warehouses",
                )
                .unwrap()
                .query_map([], |row| row.get(0))
                .unwrap()
                .collect::<Result<_, _>>()
                .unwrap();
            rows
        };
        let first = dump(7);
        assert_eq!(first, dump(7), "the same seed gives the same demo data");
        assert_ne!(first, dump(8), "another seed gives other data");
        assert_eq!(
            first.len(),
            36 + 48 + BRANCHES.len(),
            "1.5 properties and 2 tasks per person, one warehouse per branch"
        );
    }

    fn seed_fn(tx: &Transaction<'_>, people: &SeedPeople, seed_value: u64) {
        seed(tx, "acme", people, &mut StdRng::seed_from_u64(seed_value)).unwrap();
    }
}
