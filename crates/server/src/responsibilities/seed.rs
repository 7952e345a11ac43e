//! Demo data: a realistic, repeatable load of properties, tasks and warehouses handed to
//! the demo's people ([`seed`]).

use rand::Rng;
use rand::rngs::StdRng;
use rusqlite::{Transaction, params};
use time::Date;
use time::macros::date;

use crate::demo::BRANCHES;
use crate::error::AppResult;

/// The people demo responsibilities are handed to: SCIM user ids, active users only.
#[derive(Debug, Clone, Default)]
pub struct SeedPeople {
    /// Field staff: default technicians of properties, primary technicians of tasks.
    pub technicians: Vec<String>,
    /// Office staff: office assignees of tasks, warehouse managers.
    pub office: Vec<String>,
}

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
    // One warehouse per branch; the same branches as the demo's users.
    for (index, branch) in BRANCHES.iter().enumerate() {
        let id = format!("WH-{:02}", index + 1);
        let manager = pick(rng, &people.office, 1.0);
        insert.execute(params![org, id, format!("{branch} Warehouse"), manager])?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;

    use super::*;

    #[test]
    fn seed_is_deterministic_and_realistic() {
        let people = SeedPeople {
            technicians: (0..20).map(|i| format!("t{i}")).collect(),
            office: (0..4).map(|i| format!("o{i}")).collect(),
        };
        let dump = |seed: u64| {
            let mut conn = crate::responsibilities::schema::test_connection();
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
