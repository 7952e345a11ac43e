//! Offline cache and search with 100,000 users: snapshot size, "open to first window"
//! (read, decrypt, deserialize, index, first search), keystroke latency and peak memory.
//!
//! `cargo bench -p muster-core --bench cache` (set `MUSTER_BENCH_USERS` for another size).
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::time::{Duration, Instant};

use muster_core::cache::{self, Snapshot, SyncState};
use muster_core::search::{Index, SearchQuery, SortKey};
use muster_scim::user::User;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};
use time::OffsetDateTime;

const KEY: [u8; 32] = [0x5a; 32];

fn main() {
    let count: usize = std::env::var("MUSTER_BENCH_USERS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(100_000);
    let now = OffsetDateTime::now_utc();
    let started = Instant::now();
    let users = generate(count, now);
    println!("generated {count} users in {:?}", started.elapsed());
    let dir = std::env::temp_dir().join(format!("muster-cache-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("profile.cache");
    let snapshot = Snapshot {
        users,
        sync: SyncState {
            last_modified_high_water: Some("2026-01-01T00:00:00Z".into()),
            last_full_sync: Some(now),
            last_id_pass: Some(now),
        },
        capabilities: json!({"filter": true, "patch": true}),
        ..Snapshot::empty(now)
    };
    let json = serde_json::to_vec(&snapshot).unwrap();
    let started = Instant::now();
    let parsed: Snapshot = serde_json::from_slice(&json).unwrap();
    println!(
        "of which deserialize alone ({:.1} MB JSON): {:?}",
        json.len() as f64 / 1e6,
        started.elapsed()
    );
    drop((json, parsed));
    let started = Instant::now();
    cache::write(&path, &snapshot, &KEY).unwrap();
    println!("write snapshot: {:?}", started.elapsed());
    drop(snapshot);
    let size = std::fs::metadata(&path).unwrap().len();
    println!(
        "snapshot size on disk: {:.1} MB ({size} bytes)",
        size as f64 / 1e6
    );

    for run in 1..=3 {
        let (index, users, phases) = open_to_first_window(&path, now);
        println!("open to first window (run {run}): {phases}");
        if run == 3 {
            keystrokes(&index, &users, now);
        }
    }
    println!("peak RSS (VmHWM): {}", peak_rss());
    cache::remove(&path).unwrap();
    let _ = std::fs::remove_dir(&dir);
}

fn open_to_first_window(path: &std::path::Path, now: OffsetDateTime) -> (Index, Vec<User>, String) {
    let started = Instant::now();
    let snapshot = cache::read(path, &KEY)
        .unwrap()
        .expect("the snapshot was written");
    let read = started.elapsed();
    let index = Index::build(&snapshot.users);
    let built = started.elapsed();
    let first = index.search(&SearchQuery::default(), now);
    let total = started.elapsed();
    assert_eq!(first.rows.len(), 100.min(snapshot.users.len()));
    let phases = format!(
        "{total:?} (read+decrypt+deserialize {read:?}, index {:?}, first search {:?})",
        built - read,
        total - built
    );
    (index, snapshot.users, phases)
}

/// 200 queries as a person types them: growing prefixes of names, emails and phone
/// numbers, with and without filters and sorts.
fn keystrokes(index: &Index, users: &[User], now: OffsetDateTime) {
    let mut rng = StdRng::seed_from_u64(7);
    let mut queries = Vec::new();
    while queries.len() < 200 {
        let user = &users[rng.random_range(0..users.len())];
        let word = match queries.len() % 4 {
            0 => user.display_name.clone().unwrap_or_default(),
            1 => user.user_name.clone(),
            2 => user.phone_numbers[0].value.clone().unwrap_or_default(),
            _ => user
                .name
                .as_ref()
                .and_then(|n| n.family_name.clone())
                .unwrap_or_default(),
        };
        let chars: Vec<char> = word.chars().collect();
        for len in 1..=chars.len().min(6) {
            let mut query = SearchQuery {
                text: chars[..len].iter().collect(),
                sort: SortKey::ALL[queries.len() % SortKey::ALL.len()],
                descending: queries.len() % 3 == 0,
                ..SearchQuery::default()
            };
            match queries.len() % 5 {
                1 => query.roles = vec!["technician".into()],
                2 => query.licences = vec!["field".into(), "desk".into()],
                3 => query.no_sign_in_for_days = Some(30),
                4 => query.zones = vec!["North".into(), "Metro".into()],
                _ => {}
            }
            queries.push(query);
        }
    }
    queries.truncate(200);
    let mut times: Vec<Duration> = queries
        .iter()
        .map(|query| {
            let started = Instant::now();
            let result = index.search(query, now);
            let took = started.elapsed();
            std::hint::black_box(result);
            took
        })
        .collect();
    times.sort();
    let pct = |p: usize| times[(times.len() * p / 100).min(times.len() - 1)];
    println!(
        "keystroke latency over {} queries: p50 {:?}, p95 {:?}, max {:?}",
        times.len(),
        pct(50),
        pct(95),
        times[times.len() - 1]
    );
}

/// Users as the reference server holds them: the demo generator's people, plus the
/// server-maintained id, meta, status, invitation and last sign-in.
fn generate(count: usize, now: OffsetDateTime) -> Vec<User> {
    let mut people = muster_server::demo::people_rng("bench");
    let mut rng = StdRng::seed_from_u64(42);
    (0..count)
        .map(|i| {
            let mut doc = muster_server::demo::user_doc(&mut people, "bench.test", i);
            add_server_fields(&mut doc, &mut rng, now, i);
            User::from_json(doc).unwrap()
        })
        .collect()
}

fn add_server_fields(doc: &mut Value, rng: &mut StdRng, now: OffsetDateTime, i: usize) {
    let rfc = |t: OffsetDateTime| {
        t.format(&time::format_description::well_known::Rfc3339)
            .unwrap()
    };
    let created = now - time::Duration::days(rng.random_range(30..2000));
    let id = format!("{:032x}", rng.random::<u128>());
    doc["id"] = json!(id);
    doc["meta"] = json!({
        "resourceType": "User",
        "created": rfc(created),
        "lastModified": rfc(created + time::Duration::days(rng.random_range(0..30))),
        "location": format!("https://bench.test/scim/v2/Users/{id}"),
        "version": format!("W/\"{i}\""),
    });
    doc["active"] = json!(true);
    let shop = &mut doc[muster_scim::urn::SHOP_USER];
    let roll = rng.random_range(0..100);
    let (status, invitation) = match roll {
        0..5 => ("invited", "pending"),
        5..8 => ("suspended", "accepted"),
        8..12 => ("deactivated", "accepted"),
        _ => ("active", "accepted"),
    };
    shop["status"] = json!(status);
    shop["invitation"] = json!({"state": invitation, "sentAt": rfc(created)});
    shop["mfaEnabled"] = json!(rng.random_bool(0.4));
    if status != "invited" {
        let methods = ["password", "magic_link", "google", "microsoft"];
        shop["lastSignIn"] = json!({
            "at": rfc(now - time::Duration::minutes(rng.random_range(0..60 * 24 * 120))),
            "method": methods[rng.random_range(0..methods.len())],
        });
    }
}

fn peak_rss() -> String {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|line| line.starts_with("VmHWM:"))
                .map(|line| line.trim_start_matches("VmHWM:").trim().to_owned())
        })
        .unwrap_or_else(|| "unknown".into())
}
