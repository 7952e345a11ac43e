//! The kinds of responsibility ([`Kind`]), their names in JSON and in words, and how
//! many of each one user holds ([`Counts`]).

use serde::{Deserialize, Serialize};

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
    /// Every kind, in the order [`reassign`](super::reassign) moves them.
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
}

impl std::fmt::Display for Kind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}
/// How many of each kind of responsibility one user holds (open tasks only for the task
/// kinds), or how many [`reassign`](super::reassign) moved.
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

    pub(super) fn set(&mut self, kind: Kind, count: u64) {
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
