//! Offline cache and search with 100,000 users: snapshot size, "open to first window"
//! (read, decrypt, decode users, groups and the stored index, first search), keystroke
//! latency and peak memory.
//!
//! `cargo bench -p muster-core --bench cache` (set `MUSTER_BENCH_USERS` for another size,
//! `MUSTER_BENCH_RUNS` for the number of timed opens, default 7; `MUSTER_BENCH_KEEP=1`
//! keeps the file for profiling an open: `MUSTER_BENCH_OPEN=<file> <bench binary>`).
//!
//! Each timed open runs in a fresh child process (this binary re-run with
//! `MUSTER_BENCH_OPEN=<file>`), as the desktop app opens the cache at start: the page cache
//! is warm (the file was just written) but the process is not, and its peak RSS is the
//! open's alone, not the generator's. Opens in this process, with its heap already grown,
//! are printed too.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use muster_core::cache::{self, PackedUser, Snapshot, SyncState};
use muster_core::cache::{OpenOutcome, Store};
use muster_core::search::{Index, SearchQuery, SortKey};
use muster_scim::group::{Group, Member};
use muster_scim::user::User;
use muster_test_support::bench::{env_number, proc_status_kib};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};
use time::OffsetDateTime;

const KEY: [u8; 32] = [0x5a; 32];

fn main() {
    if let Some(path) = std::env::var_os("MUSTER_BENCH_OPEN") {
        open_child(Path::new(&path));
        return;
    }
    let count: usize = env_number("MUSTER_BENCH_USERS", 100_000);
    let runs: usize = env_number("MUSTER_BENCH_RUNS", 7);
    let now = OffsetDateTime::now_utc();
    let started = Instant::now();
    let users = generate(count, now);
    let groups = groups(&users);
    println!(
        "generated {count} users and {} groups ({} members) in {:?}",
        groups.len(),
        groups.iter().map(|g| g.members.len()).sum::<usize>(),
        started.elapsed()
    );
    let dir = std::env::temp_dir().join(format!("muster-cache-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("profile.cache");
    let started = Instant::now();
    let packed: Vec<PackedUser> = users.iter().map(PackedUser::pack).collect();
    println!("packing the users: {:?}", started.elapsed());
    let started = Instant::now();
    let read: usize = packed.iter().map(|user| user.user().emails.len()).sum();
    println!(
        "reading them all back, one at a time: {:?} ({read} emails)",
        started.elapsed()
    );
    drop(users);
    let snapshot = Snapshot {
        users: packed,
        groups,
        sync: SyncState {
            last_modified_high_water: Some("2026-01-01T00:00:00.000Z".into()),
            last_full_sync: Some(now),
            last_id_pass: Some(now),
            syncs_since_id_pass: 0,
        },
        capabilities: Some(muster_core::discovery::Capabilities {
            filter: true,
            patch: true,
            ..Default::default()
        }),
        ..Snapshot::empty(now)
    };
    let json = serde_json::to_vec(&snapshot).unwrap();
    println!(
        "the same snapshot as JSON (format 1's payload): {:.1} MB",
        json.len() as f64 / 1e6
    );
    drop(json);
    let mut writes = Vec::new();
    for _ in 0..3 {
        let started = Instant::now();
        cache::write(&path, &snapshot, &KEY).unwrap();
        writes.push(started.elapsed());
    }
    println!("write snapshot (build index, encode, encrypt, fsync, rename), 3 runs: {writes:?}");
    let size = std::fs::metadata(&path).unwrap().len();
    println!(
        "snapshot size on disk: {:.1} MB ({size} bytes)",
        size as f64 / 1e6
    );

    let mut opens = Vec::new();
    for run in 1..=runs {
        let output = Command::new(std::env::current_exe().unwrap())
            .env("MUSTER_BENCH_OPEN", &path)
            .stderr(Stdio::inherit())
            .output()
            .unwrap();
        assert!(output.status.success(), "the open child failed");
        let line = String::from_utf8(output.stdout).unwrap();
        let value: Value = serde_json::from_str(line.trim()).unwrap();
        println!("open to first window, fresh process (run {run}): {value}");
        opens.push((
            value["openMs"].as_f64().unwrap(),
            value["peakKib"].as_u64().unwrap(),
            value["baselineKib"].as_u64().unwrap(),
        ));
    }
    let mut times: Vec<f64> = opens.iter().map(|o| o.0).collect();
    times.sort_by(f64::total_cmp);
    let peak = opens.iter().map(|o| o.1).max().unwrap_or(0);
    let baseline = opens.iter().map(|o| o.2).max().unwrap_or(0);
    println!(
        "open to first window, fresh process, {runs} runs: median {:.1} ms, min {:.1} ms, \
         max {:.1} ms; peak RSS {:.1} MiB ({:.1} MiB before the open)",
        times[times.len() / 2],
        times[0],
        times[times.len() - 1],
        peak as f64 / 1024.0,
        baseline as f64 / 1024.0
    );

    let store = Store::new(&path, KEY);
    let mut kept = None;
    for run in 1..=3 {
        let started = Instant::now();
        let (snapshot, index, outcome) = store.open_indexed(now);
        let first = index.search(&SearchQuery::default(), now);
        let took = started.elapsed();
        assert_eq!(outcome, OpenOutcome::Fresh);
        assert_eq!(first.rows.len(), 100.min(snapshot.users.len()));
        println!("open to first window, in this process (run {run}): {took:?}");
        kept = Some((snapshot, index));
    }
    let (snapshot, index) = kept.unwrap();
    let started = Instant::now();
    let rebuilt = Index::of_packed(&snapshot.users);
    println!(
        "for comparison, Index::build over the users: {:?}",
        started.elapsed()
    );
    let query = SearchQuery {
        text: "an".into(),
        sort: SortKey::Email,
        ..SearchQuery::default()
    };
    assert_eq!(
        rebuilt.search(&query, now),
        index.search(&query, now),
        "the stored index answers as a rebuilt one"
    );
    drop(rebuilt);
    keystrokes(&index, &snapshot.users, now);
    one_edit(&store, &snapshot, &index);
    println!(
        "peak RSS of this process (VmHWM, includes generating): {} kB",
        proc_status_kib("VmHWM")
    );
    if std::env::var_os("MUSTER_BENCH_KEEP").is_some() {
        println!("kept {} (key: 32 bytes of 0x5a)", path.display());
    } else {
        cache::remove(&path).unwrap();
        let _ = std::fs::remove_dir(&dir);
    }
}

/// One user's edit put into the copy as the console does it after the server answered
/// (`console/writes.rs` `change`): a copy of the snapshot (sharing its users), the user
/// replaced, the index mended for the new copy (checked against a fresh build, untimed),
/// and the file saved with that index.
fn one_edit(store: &Store, snapshot: &Snapshot, index: &Index) {
    let mut edited = snapshot.users[snapshot.users.len() / 2].user();
    edited.display_name = Some("Edited in the benchmark".into());
    for run in 1..=3 {
        let started = Instant::now();
        let mut copy = snapshot.clone();
        let cloned = started.elapsed();
        muster_core::sync::apply_user(&mut copy, edited.clone());
        let applied = started.elapsed();
        let mended = index.updated(&snapshot.users, &copy.users).unwrap();
        let indexed = started.elapsed();
        assert_eq!(mended, Index::of_packed(&copy.users), "mended as built");
        let saving = Instant::now();
        store.save_indexed(&copy, &mended).unwrap();
        let saved = saving.elapsed();
        drop((copy, mended));
        println!(
            "one edit into the copy (run {run}): clone {cloned:?}, apply {:?}, index {:?}, \
             save {saved:?}; total {:?}",
            applied - cloned,
            indexed - applied,
            indexed + saved
        );
    }
}

/// The child: one open to the first window, timed, with the process's peak RSS. Prints
/// one JSON line.
fn open_child(path: &Path) {
    let now = OffsetDateTime::now_utc();
    let baseline = proc_status_kib("VmRSS");
    let store = Store::new(path, KEY);
    let started = Instant::now();
    let (snapshot, index, outcome) = store.open_indexed(now);
    let first = index.search(&SearchQuery::default(), now);
    let took = started.elapsed();
    let peak = proc_status_kib("VmHWM");
    assert_eq!(outcome, OpenOutcome::Fresh);
    assert_eq!(first.rows.len(), 100.min(snapshot.users.len()));
    assert_eq!(first.total, snapshot.users.len());
    println!(
        "{}",
        json!({
            "openMs": took.as_secs_f64() * 1e3,
            "users": snapshot.users.len(),
            "total": first.total,
            "peakKib": peak,
            "baselineKib": baseline,
        })
    );
}

/// 200 queries as a person types them: growing prefixes of names, emails and phone
/// numbers, with and without filters and sorts.
fn keystrokes(index: &Index, users: &[PackedUser], now: OffsetDateTime) {
    let mut rng = StdRng::seed_from_u64(7);
    let mut queries = Vec::new();
    while queries.len() < 200 {
        let user = &users[rng.random_range(0..users.len())].user();
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
            // The window's users read from their compact form, as the table's rows are.
            let rows: Vec<User> = result.rows.iter().map(|&row| users[row].user()).collect();
            let took = started.elapsed();
            std::hint::black_box((result, rows));
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

/// The demo's three groups, but with every user of their share (the demo stops at 40):
/// about 25,000 memberships in all.
fn groups(users: &[User]) -> Vec<Group> {
    [
        ("Dispatch", 7),
        ("Service Managers", 13),
        ("Safety Committee", 29),
    ]
    .into_iter()
    .enumerate()
    .map(|(i, (name, share))| Group {
        id: Some(format!("group-{i}")),
        members: users
            .iter()
            .step_by(share)
            .map(|user| Member {
                display: user.display_name.clone(),
                ..Member::user(user.id.clone().unwrap())
            })
            .collect(),
        ..Group::new(name)
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
