//! Where responsibilities are stored: the properties, tasks and warehouses tables, and
//! the SQL that counts and moves each [`Kind`] through their indexes.

use super::Kind;

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

/// The statements [`counts`](super::counts) and [`reassign`](super::reassign) run for
/// each kind, each an index lookup.
impl Kind {
    /// Counts this kind for `?2` of org `?1`.
    pub(super) fn count_sql(self) -> &'static str {
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
    pub(super) fn move_sql(self) -> &'static str {
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

/// An in-memory database with org `acme` and the responsibility tables, for unit tests.
#[cfg(test)]
pub(super) fn test_connection() -> rusqlite::Connection {
    let conn = rusqlite::Connection::open_in_memory().unwrap();
    conn.execute_batch(
        "CREATE TABLE orgs (id TEXT PRIMARY KEY);
         INSERT INTO orgs VALUES ('acme');",
    )
    .unwrap();
    conn.execute_batch(SCHEMA).unwrap();
    conn
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_and_moves_use_the_indexes() {
        let conn = test_connection();
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
}
