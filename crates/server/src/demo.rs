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
use time::{Duration, OffsetDateTime};

use crate::error::AppResult;
use crate::lifecycle::Status;
use crate::scim::kind::Kind;
use crate::scim::store::{self, PasswordChange, format_time};

/// The password of every demo account that can sign in. Demo mode only: it is printed on
/// start so a newcomer can sign in, and it guards nothing but generated data.
pub const DEMO_PASSWORD: &str = "Muster-Demo-2026!";

/// The system admin the demo creates.
pub const DEMO_SYSTEM_ADMIN: &str = "ops@muster.test";

/// A demo organisation to generate.
#[derive(Debug, Clone, Copy)]
pub struct OrgSpec<'a> {
    /// Organisation id (URL segment).
    pub id: &'a str,
    /// Display name.
    pub name: &'a str,
    /// Email domain of its people.
    pub domain: &'a str,
    /// How many users.
    pub users: usize,
}

/// The organisations `--demo` seeds: a small sprinkler contractor and a large HVAC firm.
pub const DEMO_ORGS: &[OrgSpec<'static>] = &[
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

/// The demo organisation's branches (its warehouses too).
pub(crate) const BRANCHES: &[&str] = &[
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

/// The generator of an org's people: [`user_doc`] called with it, in order, yields the
/// users `seed_org` creates after the admin.
pub fn people_rng(org: &str) -> StdRng {
    StdRng::seed_from_u64(org.bytes().map(u64::from).sum())
}

/// Creates an organisation with `spec.users` generated users, a signed-in-able admin
/// (`admin@DOMAIN`, [`DEMO_PASSWORD`]) and a few groups, unless it exists already.
/// `password_hash` is the argon2id hash of the demo password, computed once by the caller.
pub fn seed_org(
    tx: &Transaction<'_>,
    spec: &OrgSpec<'_>,
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
    // People and their history come from separate generators, so the people of an org are
    // the same whatever history they get (the benchmark seeds its peer with them alone).
    let mut rng = people_rng(spec.id);
    let mut history = StdRng::seed_from_u64(!spec.id.bytes().map(u64::from).sum::<u64>());
    let mut ids = Vec::with_capacity(spec.users);
    let mut people = crate::responsibilities::SeedPeople {
        technicians: Vec::new(),
        office: Vec::new(),
    };
    for index in 0..spec.users.saturating_sub(1) {
        let doc = user_doc(&mut rng, spec.domain, index);
        let shop = doc.get(muster_scim::urn::SHOP_USER);
        let text = |name: &str| {
            shop.and_then(|s| s.get(name))
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned()
        };
        let (licence, role) = (text("licence"), text("role"));
        let password = if role == "admin" && licence != "api" {
            PasswordChange::Set(password_hash.to_owned())
        } else {
            PasswordChange::Keep
        };
        let id = store::insert(tx, Kind::User, spec.id, &doc, password, now)?.id;
        let status = seed_lifecycle(tx, spec.id, &id, &licence, &mut history, now)?;
        if status == Status::Active {
            match licence.as_str() {
                "field" | "contractor" => people.technicians.push(id.clone()),
                "desk" => people.office.push(id.clone()),
                _ => {}
            }
        }
        ids.push(id);
    }
    crate::responsibilities::seed(tx, spec.id, &people, &mut history)?;
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

/// Gives a generated user a plausible history: most are active and signed in at some
/// point in the last four months; a few are invited (pending or expired), suspended or
/// deactivated. API accounts are always active.
fn seed_lifecycle(
    tx: &Transaction<'_>,
    org: &str,
    id: &str,
    licence: &str,
    rng: &mut StdRng,
    now: OffsetDateTime,
) -> AppResult<Status> {
    let roll = rng.random_range(0..100);
    let status = match roll {
        _ if licence == "api" => Status::Active,
        0..=2 => Status::Invited,
        3..=6 => Status::Deactivated,
        7 => Status::Suspended,
        _ => Status::Active,
    };
    let ago = |rng: &mut StdRng, max_minutes: i64| {
        now - Duration::minutes(rng.random_range(1..max_minutes))
    };
    let (mut sent, mut expires, mut accepted, mut signed_in, mut method) =
        (None, None, None, None, None);
    if status == Status::Invited {
        let at = ago(rng, 5 * 24 * 60);
        sent = Some(format_time(at));
        expires = Some(format_time(at + Duration::hours(48)));
    } else if licence != "api" {
        let joined = ago(rng, 400 * 24 * 60);
        sent = Some(format_time(joined));
        expires = Some(format_time(joined + Duration::hours(48)));
        accepted = Some(format_time(joined + Duration::hours(3)));
        if rng.random_range(0..10) > 0 {
            signed_in = Some(format_time(ago(rng, 120 * 24 * 60).max(joined)));
            method = Some(if rng.random_range(0..5) == 0 {
                "magic_link"
            } else {
                "password"
            });
        }
    }
    tx.execute(
        "UPDATE users SET status = ?3, invitation_sent = ?4, invitation_expires = ?5, \
         invitation_accepted = ?6, last_sign_in_at = ?7, last_sign_in_method = ?8 \
         WHERE org = ?1 AND id = ?2",
        rusqlite::params![
            org,
            id,
            status.as_str(),
            sent,
            expires,
            accepted,
            signed_in,
            method
        ],
    )?;
    Ok(status)
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

/// Seeds the demo system admin and [`DEMO_ORGS`] into `db`, once: organisations that
/// exist are left as they are, so a restarted demo keeps what the newcomer changed.
///
/// # Errors
///
/// What the database answers.
pub fn seed_demo(db: &crate::db::Db) -> AppResult<()> {
    let now = OffsetDateTime::now_utc();
    let hash = crate::auth::hash_password(DEMO_PASSWORD)?;
    db.write_blocking(|tx| {
        crate::admin::ensure_system_admin(tx, DEMO_SYSTEM_ADMIN, "Muster Operations", &hash, now)?;
        for spec in DEMO_ORGS {
            if seed_org(tx, spec, &hash, now)? {
                tracing::info!(
                    org = spec.id,
                    users = spec.users,
                    "seeded demo organisation"
                );
            }
        }
        Ok(())
    })
}

/// A demo server running in this process (the desktop app's demo mode).
#[derive(Debug)]
pub struct InProcess {
    /// Where it listens: always a loopback address.
    pub address: std::net::SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl InProcess {
    /// The base URL clients connect to (`http://127.0.0.1:PORT`).
    pub fn url(&self) -> String {
        format!("http://{}", self.address)
    }
}

impl Drop for InProcess {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Opens (creating and seeding once) the demo database in `data_dir` and serves it on
/// `127.0.0.1` at `port` (0 for any free port) on the current Tokio runtime, until the
/// returned handle is dropped. Seeding 20,000 people takes a few seconds the first time.
///
/// # Errors
///
/// When the database cannot be opened or seeded, or the port cannot be bound.
pub async fn serve_in_process(
    data_dir: &std::path::Path,
    port: u16,
) -> Result<InProcess, Box<dyn std::error::Error + Send + Sync>> {
    let data_dir = data_dir.to_path_buf();
    let db = tokio::task::spawn_blocking(
        move || -> Result<_, Box<dyn std::error::Error + Send + Sync>> {
            let db = crate::db::Db::open(&data_dir)?;
            seed_demo(&db)?;
            Ok(db)
        },
    )
    .await??;
    let state = crate::AppState {
        config: std::sync::Arc::new(crate::Config {
            demo: true,
            ..crate::Config::default()
        }),
        ..crate::AppState::new(db)
    };
    let listener =
        tokio::net::TcpListener::bind(std::net::SocketAddr::from(([127, 0, 0, 1], port))).await?;
    let address = listener.local_addr()?;
    crate::outbox::spawn_delivery(state.clone());
    crate::denials::spawn_flush(state.clone());
    let service = crate::app(state).into_make_service_with_connect_info::<std::net::SocketAddr>();
    let task = tokio::spawn(async move {
        if let Err(error) = axum::serve(listener, service).await {
            tracing::error!(%error, "the demo server stopped");
        }
    });
    Ok(InProcess { address, task })
}
