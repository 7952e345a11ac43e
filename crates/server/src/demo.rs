//! Demo data: a system admin and realistic shop organisations, generated from a fixed seed
//! so every demo (and benchmark) run sees the same people.
//!
//! A generated org looks like a trade business: field technicians with service groups,
//! office staff, contractors, customers with portal access, a few API and timesheet
//! accounts, spread across branches and zones, some of them deactivated.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rusqlite::Transaction;
use serde_json::{Value, json};
use time::OffsetDateTime;

use crate::error::AppResult;
use crate::scim::kind::Kind;
use crate::scim::store::{self, PasswordChange};

/// The password of every demo account that can sign in. Demo mode only: it is printed on
/// start so a newcomer can sign in, and it guards nothing but generated data.
pub const DEMO_PASSWORD: &str = "Muster-Demo-2026!";

/// The system admin the demo creates.
pub const DEMO_SYSTEM_ADMIN: &str = "ops@muster.test";

/// A demo organisation to generate.
#[derive(Debug, Clone, Copy)]
pub struct OrgSpec {
    /// Organisation id (URL segment).
    pub id: &'static str,
    /// Display name.
    pub name: &'static str,
    /// Email domain of its people.
    pub domain: &'static str,
    /// How many users.
    pub users: usize,
}

/// The organisations `--demo` seeds: a small sprinkler contractor and a large HVAC firm.
pub const DEMO_ORGS: &[OrgSpec] = &[
    OrgSpec {
        id: "northwind-fire",
        name: "Northwind Fire & Sprinkler",
        domain: "northwind-fire.test",
        users: 40,
    },
    OrgSpec {
        id: "summit-hvac",
        name: "Summit Heating & Air",
        domain: "summit-hvac.test",
        users: 20_000,
    },
];

const FIRST: &[&str] = &[
    "James",
    "Mary",
    "Robert",
    "Patricia",
    "John",
    "Jennifer",
    "Michael",
    "Linda",
    "David",
    "Elizabeth",
    "William",
    "Barbara",
    "Richard",
    "Susan",
    "Joseph",
    "Jessica",
    "Thomas",
    "Sarah",
    "Carlos",
    "Karen",
    "Daniel",
    "Lisa",
    "Matthew",
    "Nancy",
    "Anthony",
    "Betty",
    "Mark",
    "Sandra",
    "Luis",
    "Ashley",
    "Steven",
    "Kimberly",
    "Paul",
    "Emily",
    "Andrew",
    "Donna",
    "Joshua",
    "Michelle",
    "Kenji",
    "Priya",
    "Kevin",
    "Carol",
    "Brian",
    "Amanda",
    "George",
    "Melissa",
    "Timothy",
    "Deborah",
    "Ronald",
    "Stephanie",
    "Jason",
    "Rebecca",
    "Edward",
    "Sharon",
    "Jeffrey",
    "Laura",
    "Ryan",
    "Cynthia",
    "Jacob",
    "Dorothy",
    "Gary",
    "Amy",
    "Nicholas",
    "Kathleen",
    "Eric",
    "Angela",
    "Jonathan",
    "Shirley",
    "Stephen",
    "Emma",
    "Larry",
    "Brenda",
    "Justin",
    "Pamela",
    "Scott",
    "Nicole",
    "Brandon",
    "Anna",
    "Benjamin",
    "Samantha",
    "Samuel",
    "Katherine",
    "Gregory",
    "Christine",
    "Alexander",
    "Debra",
    "Patrick",
    "Rachel",
    "Frank",
    "Carolyn",
    "Raymond",
    "Janet",
    "Jack",
    "Maria",
    "Dennis",
    "Olivia",
    "Jerry",
    "Heather",
    "Tyler",
    "Helen",
    "Aaron",
    "Catherine",
    "José",
    "Diane",
    "Adam",
    "Julie",
    "Nathan",
    "Victoria",
    "Henry",
    "Joyce",
    "Zachary",
    "Lauren",
    "Douglas",
    "Kelly",
    "Peter",
    "Christina",
    "Kyle",
    "Ruth",
    "Noah",
    "Joan",
    "Ethan",
    "Virginia",
    "Jeremy",
    "Judith",
    "Walter",
    "Evelyn",
    "Siobhan",
    "Dmitri",
    "Aisha",
    "Mateo",
    "Ingrid",
    "Tomás",
    "Zoë",
    "Rafael",
    "Mei",
    "Oluwaseun",
    "Fatima",
];

const LAST: &[&str] = &[
    "Smith",
    "Johnson",
    "Williams",
    "Brown",
    "Jones",
    "Garcia",
    "Miller",
    "Davis",
    "Rodriguez",
    "Martinez",
    "Hernandez",
    "Lopez",
    "Gonzalez",
    "Wilson",
    "Anderson",
    "Thomas",
    "Taylor",
    "Moore",
    "Jackson",
    "Martin",
    "Lee",
    "Perez",
    "Thompson",
    "White",
    "Harris",
    "Sanchez",
    "Clark",
    "Ramirez",
    "Lewis",
    "Robinson",
    "Walker",
    "Young",
    "Allen",
    "King",
    "Wright",
    "Scott",
    "Torres",
    "Nguyen",
    "Hill",
    "Flores",
    "Green",
    "Adams",
    "Nelson",
    "Baker",
    "Hall",
    "Rivera",
    "Campbell",
    "Mitchell",
    "Carter",
    "Roberts",
    "Gomez",
    "Phillips",
    "Evans",
    "Turner",
    "Diaz",
    "Parker",
    "Cruz",
    "Edwards",
    "Collins",
    "Reyes",
    "Stewart",
    "Morris",
    "Morales",
    "Murphy",
    "Cook",
    "Rogers",
    "Gutierrez",
    "Ortiz",
    "Morgan",
    "Cooper",
    "Peterson",
    "Bailey",
    "Reed",
    "Kelly",
    "Howard",
    "Ramos",
    "Kim",
    "Cox",
    "Ward",
    "Richardson",
    "Watson",
    "Brooks",
    "Chavez",
    "Wood",
    "James",
    "Bennett",
    "Gray",
    "Mendoza",
    "Ruiz",
    "Hughes",
    "Price",
    "Alvarez",
    "Castillo",
    "Sanders",
    "Patel",
    "Myers",
    "Long",
    "Ross",
    "Foster",
    "Jimenez",
    "Smythe",
    "Smithson",
    "Small",
    "Snow",
    "O'Brien",
    "Müller",
    "Kowalski",
    "Nakamura",
    "Okafor",
    "Søndergaard",
    "Dubois",
    "Rossi",
    "Novak",
    "Schmidt",
    "Fischer",
    "Larsen",
];

const BRANCHES: &[&str] = &[
    "Denver",
    "Boulder",
    "Colorado Springs",
    "Fort Collins",
    "Pueblo",
    "Grand Junction",
];
const ZONES: &[&str] = &["North", "South", "East", "West", "Central", "Mountain"];
const SERVICE_GROUPS: &[&str] = &[
    "Sprinkler",
    "Electrical",
    "HVAC",
    "Plumbing",
    "Fire Alarm",
    "Backflow",
    "Refrigeration",
];

/// Who a generated person is: licence, role, job title, security group, share of an org.
const PROFILES: &[(&str, &str, &str, &str, u32)] = &[
    (
        "field",
        "technician",
        "Service Technician",
        "Field Standard",
        45,
    ),
    ("field", "technician", "Lead Technician", "Field Lead", 8),
    ("field", "technician", "Installer", "Field Standard", 6),
    ("desk", "admin", "Office Manager", "Office Manager", 2),
    ("desk", "technician", "Dispatcher", "Office Standard", 5),
    ("desk", "viewer", "Billing Specialist", "Office Standard", 4),
    ("desk", "viewer", "Customer Service", "Office Standard", 4),
    (
        "contractor",
        "technician",
        "Subcontractor",
        "Contractor Portal",
        12,
    ),
    (
        "customer",
        "viewer",
        "Property Manager",
        "Customer Portal",
        10,
    ),
    ("timesheet", "technician", "Apprentice", "Field Standard", 3),
    ("api", "admin", "Integration", "Office Standard", 1),
];

/// Builds the document of the `index`-th generated user of an org.
pub fn user_doc(rng: &mut StdRng, domain: &str, index: usize) -> Value {
    let first = FIRST[rng.random_range(0..FIRST.len())];
    let last = LAST[rng.random_range(0..LAST.len())];
    let total: u32 = PROFILES.iter().map(|p| p.4).sum();
    let mut pick = rng.random_range(0..total);
    let profile = PROFILES
        .iter()
        .find(|p| {
            if pick < p.4 {
                true
            } else {
                pick -= p.4;
                false
            }
        })
        .unwrap_or(&PROFILES[0]);
    let (licence, role, title, security, _) = *profile;
    let local = format!("{}.{}{}", ascii(first), ascii(last), index);
    let email = format!("{local}@{domain}");
    let branch = BRANCHES[rng.random_range(0..BRANCHES.len())];
    let zone_count = rng.random_range(1..=2);
    let zones: Vec<&str> = (0..zone_count)
        .map(|_| ZONES[rng.random_range(0..ZONES.len())])
        .collect();
    let services: Vec<&str> =
        if licence == "field" || licence == "contractor" || licence == "timesheet" {
            (0..rng.random_range(1..=2))
                .map(|_| SERVICE_GROUPS[rng.random_range(0..SERVICE_GROUPS.len())])
                .collect()
        } else {
            Vec::new()
        };
    let phone = format!("+1 303 555 {:04}", rng.random_range(0..10_000));
    let active = rng.random_range(0..100) >= 4;
    let mut zones = zones;
    zones.sort_unstable();
    zones.dedup();
    let mut services = services;
    services.sort_unstable();
    services.dedup();
    json!({
        "userName": email,
        "name": {"givenName": first, "familyName": last, "formatted": format!("{first} {last}")},
        "displayName": format!("{first} {last}"),
        "title": title,
        "active": active,
        "emails": [{"value": email, "type": "work", "primary": true}],
        "phoneNumbers": [{"value": phone, "type": "mobile"}],
        muster_scim::urn::ENTERPRISE_USER: {
            "employeeNumber": format!("E{:05}", index + 1),
            "department": if licence == "desk" { "Office" } else { "Field Operations" },
        },
        muster_scim::urn::SHOP_USER: {
            "licence": licence,
            "role": role,
            "jobRole": title,
            "securityGroup": security,
            "serviceGroups": services,
            "homeBranch": branch,
            "branches": [branch],
            "zones": zones,
            "phone": phone,
        }
    })
}

fn ascii(name: &str) -> String {
    name.chars()
        .filter_map(|c| match c {
            'é' => Some('e'),
            'á' => Some('a'),
            'ë' => Some('e'),
            'ü' => Some('u'),
            'ø' => Some('o'),
            c if c.is_ascii_alphabetic() => Some(c.to_ascii_lowercase()),
            _ => None,
        })
        .collect()
}

/// Creates an organisation with `spec.users` generated users, a signed-in-able admin
/// (`admin@DOMAIN`, [`DEMO_PASSWORD`]) and a few groups, unless it exists already.
/// `password_hash` is the argon2id hash of the demo password, computed once by the caller.
pub fn seed_org(
    tx: &Transaction<'_>,
    spec: &OrgSpec,
    password_hash: &str,
    now: OffsetDateTime,
) -> AppResult<bool> {
    if crate::orgs::org_exists(tx, spec.id)? {
        return Ok(false);
    }
    crate::orgs::create_org_blocking(tx, spec.id, spec.name, now)?;
    let admin = json!({
        "userName": format!("admin@{}", spec.domain),
        "name": {"givenName": "Avery", "familyName": "Admin"},
        "displayName": "Avery Admin",
        "title": "Owner",
        "active": true,
        "emails": [{"value": format!("admin@{}", spec.domain), "type": "work", "primary": true}],
        muster_scim::urn::SHOP_USER: {"licence": "desk", "role": "admin", "jobRole": "Owner", "securityGroup": "Office Manager", "homeBranch": BRANCHES[0], "branches": BRANCHES},
    });
    store::insert(
        tx,
        Kind::User,
        spec.id,
        &admin,
        PasswordChange::Set(password_hash.to_owned()),
        now,
    )?;
    let mut rng = StdRng::seed_from_u64(spec.id.bytes().map(u64::from).sum());
    let mut ids = Vec::with_capacity(spec.users);
    for index in 0..spec.users.saturating_sub(1) {
        let doc = user_doc(&mut rng, spec.domain, index);
        let password = if doc.pointer(&format!(
            "/{}/role",
            pointer_key(muster_scim::urn::SHOP_USER)
        )) == Some(&json!("admin"))
        {
            PasswordChange::Set(password_hash.to_owned())
        } else {
            PasswordChange::Keep
        };
        ids.push(store::insert(tx, Kind::User, spec.id, &doc, password, now)?.id);
    }
    for (name, share) in [
        ("Dispatch", 7),
        ("Service Managers", 13),
        ("Safety Committee", 29),
    ] {
        let members: Vec<Value> = ids
            .iter()
            .step_by(share)
            .take(40)
            .map(|id| json!({"value": id, "type": "User"}))
            .collect();
        store::insert(
            tx,
            Kind::Group,
            spec.id,
            &json!({"displayName": name, "members": members}),
            PasswordChange::Keep,
            now,
        )?;
    }
    Ok(true)
}

/// Escapes a key for a JSON pointer.
fn pointer_key(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_users_are_deterministic_and_valid() {
        let a = user_doc(&mut StdRng::seed_from_u64(7), "acme.test", 3);
        let b = user_doc(&mut StdRng::seed_from_u64(7), "acme.test", 3);
        assert_eq!(
            a, b,
            "the same seed gives the same person, so demos are repeatable"
        );
        let incoming = crate::scim::validate::normalize(Kind::User, a, None);
        assert!(
            incoming.is_ok(),
            "generated users pass the server's own validation: {incoming:?}"
        );
    }
}
