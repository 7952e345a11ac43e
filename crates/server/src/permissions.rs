//! The per-user permissions of the shop's software: flags granted beyond the role, each
//! with the words a form shows for it. Server data: the `/actions` capability document
//! publishes this list (clients draw their toggles from it), and the shop schema takes
//! exactly these names in `permissions` (a test holds the two together). Muster stores the
//! flags; the shop's software acts on them.

/// One permission: its wire name, a label, and what it allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Permission {
    /// The value in `permissions` (`viewPricing`).
    pub name: &'static str,
    /// A few words for a toggle.
    pub label: &'static str,
    /// What it allows, in a sentence.
    pub description: &'static str,
}

/// Every permission, in the order a form lists them.
pub const PERMISSIONS: &[Permission] = &[
    Permission {
        name: "mobileAppAccess",
        label: "Mobile app",
        description: "Sign in to the mobile app as well as the web app.",
    },
    Permission {
        name: "viewOthersAssignments",
        label: "Other people's assignments",
        description: "See the jobs and tickets assigned to other users, not only their own.",
    },
    Permission {
        name: "pushToShopSystem",
        label: "Push to the shop system",
        description: "Send jobs, invoices and time to the shop management system.",
    },
    Permission {
        name: "viewPricing",
        label: "Prices",
        description: "See prices and costs on quotes, jobs and invoices.",
    },
    Permission {
        name: "manageInventory",
        label: "Inventory",
        description: "Add, move and adjust stock in warehouses and vans.",
    },
    Permission {
        name: "approveTimesheets",
        label: "Approve timesheets",
        description: "Approve or send back other people's timesheets.",
    },
    Permission {
        name: "manageSchedules",
        label: "Schedules",
        description: "Plan and change the schedule of other technicians.",
    },
    Permission {
        name: "manageCustomers",
        label: "Customers",
        description: "Create and edit customers, locations and contacts.",
    },
    Permission {
        name: "viewReports",
        label: "Reports",
        description: "Open the business reports.",
    },
];

/// The list as the capability document sends it.
pub fn document() -> serde_json::Value {
    PERMISSIONS
        .iter()
        .map(
            |p| serde_json::json!({"name": p.name, "label": p.label, "description": p.description}),
        )
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use muster_scim::schema::Schema;

    #[test]
    fn the_schema_takes_exactly_the_published_permissions() {
        let schema = Schema::shop_user();
        let attribute = schema
            .attributes
            .iter()
            .find(|a| a.name == "permissions")
            .expect("permissions");
        let mut published: Vec<&str> = PERMISSIONS.iter().map(|p| p.name).collect();
        let mut taken: Vec<&str> = attribute
            .canonical_values
            .iter()
            .map(String::as_str)
            .collect();
        published.sort_unstable();
        taken.sort_unstable();
        assert_eq!(published, taken);
    }
}
