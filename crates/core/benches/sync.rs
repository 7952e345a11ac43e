//! Incremental sync against a 100,000-user organisation: a sync that brings in 100 changed
//! users against one page fetch (1,000 users, parsed), the target being < 1.5×.
//!
//! The server runs as its own process (the release binary, as in the `fetch` benchmark),
//! seeded once per data directory; the client runs here. The snapshot the syncs start
//! from is the one a full sync produced (its mark is the seed's time, which every user
//! shares: the straggler count then spans all 100,000, the most it ever counts). Each
//! round clones it, syncs, then fetches the page; medians are reported. Also printed, not
//! targets: the full sync, the id-only pass (run every 10th sync or when counts disagree),
//! and what the app does after a sync: saving the cache (index build included).
//!
//! ```sh
//! cargo build --release -p muster-server   # the server the benchmark starts
//! cargo bench -p muster-core --bench sync
//! ```
//!
//! `BENCH_USERS` (default 100,000), `BENCH_RUNS` (default 7), `MUSTER_SERVER_BIN`.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::time::Instant;

use muster_core::Client;
use muster_core::auth::Tokens;
use muster_core::cache::Snapshot;
use muster_core::cache::Store;
use muster_core::connection::Connection;
use muster_core::query::ListQuery;
use muster_core::secret::Secret;
use muster_core::sync::{self, SyncOptions};
use muster_core::transport::TransportConfig;
use muster_scim::message::PatchOperation;
use muster_test_support::bench::{env_number, median_duration};
use muster_test_support::process::{BenchServer, release_server};
use serde_json::json;
use time::OffsetDateTime;

const ORG: &str = "bench";
const CHANGES: usize = 100;
const PAGE: u64 = 1000;

/// The release muster-server over a data directory seeded once with `users` people.
fn start_server(users: usize) -> BenchServer {
    let name = format!("muster-sync-bench-{users}");
    BenchServer::start(release_server(), &name, ORG, users)
}

fn main() {
    let users: usize = env_number("BENCH_USERS", 100_000);
    let runs: usize = env_number("BENCH_RUNS", 7).max(1);
    let server = start_server(users);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let client = Client::from_tokens(
        Connection::muster(server.root(), ORG),
        Tokens {
            access: Secret::new(server.token.clone()),
            refresh: None,
        },
        &TransportConfig::default(),
    )
    .unwrap();
    let now = OffsetDateTime::now_utc;

    let mut base = Snapshot::empty(now());
    let started = Instant::now();
    let report = runtime
        .block_on(sync::sync(&client, &mut base, now(), |_| {}))
        .unwrap();
    assert!(report.full);
    println!(
        "full sync: {} users, {} groups in {:.2} s",
        base.users.len(),
        base.groups.len(),
        started.elapsed().as_secs_f64()
    );

    // 100 users change on the server after that sync.
    let changed: Vec<String> = base
        .users
        .iter()
        .filter(|u| {
            u.addresses()
                .is_some_and(|a| !a.user_name.starts_with("admin@"))
        })
        .step_by(base.users.len() / CHANGES)
        .take(CHANGES)
        .filter_map(|u| u.id().map(str::to_owned))
        .collect();
    runtime.block_on(async {
        for (i, id) in changed.iter().enumerate() {
            client
                .users()
                .patch(
                    id,
                    vec![PatchOperation::replace(
                        "title",
                        json!(format!("Bench {i} {}", now())),
                    )],
                    None,
                )
                .await
                .unwrap();
        }
    });

    let page = ListQuery::default().with_count(PAGE);
    // Warm both paths once (connections, SQLite caches); not counted.
    runtime.block_on(async {
        let mut warm = base.clone();
        sync::sync(&client, &mut warm, now(), |_| {}).await.unwrap();
        client.users().page(&page).await.unwrap();
    });
    let mut syncs = Vec::new();
    let mut pages = Vec::new();
    for _ in 0..runs {
        let mut snapshot = base.clone();
        let started = Instant::now();
        let report = runtime
            .block_on(sync::sync(&client, &mut snapshot, now(), |_| {}))
            .unwrap();
        syncs.push(started.elapsed());
        assert!(!report.full && !report.id_pass, "{report:?}");
        assert_eq!(report.stragglers, 0, "{report:?}");
        assert!(
            (CHANGES..CHANGES + 10).contains(&report.fetched),
            "{report:?}"
        );
        let started = Instant::now();
        let fetched = runtime.block_on(client.users().page(&page)).unwrap();
        pages.push(started.elapsed());
        assert_eq!(fetched.resources.len() as u64, PAGE);
    }
    let (sync_time, page_time) = (median_duration(&mut syncs), median_duration(&mut pages));
    println!(
        "incremental sync, {CHANGES} changes: median {sync_time:?} (runs {:?})",
        syncs
    );
    println!("one page of {PAGE} users: median {page_time:?} (runs {pages:?})");
    println!(
        "ratio {:.2} (target < 1.5)",
        sync_time.as_secs_f64() / page_time.as_secs_f64()
    );

    // Not targets, for the record.
    let mut snapshot = base.clone();
    runtime
        .block_on(sync::sync(&client, &mut snapshot, now(), |_| {}))
        .unwrap();
    let mut next = snapshot.clone();
    let started = Instant::now();
    let report = runtime
        .block_on(sync::sync(&client, &mut next, now(), |_| {}))
        .unwrap();
    println!(
        "the next incremental sync (mark at the last change, nothing new): {:?}, fetched {}",
        started.elapsed(),
        report.fetched
    );
    let forced = SyncOptions {
        force_id_pass: true,
        ..SyncOptions::default()
    };
    let mut with_ids = snapshot.clone();
    let started = Instant::now();
    let report = runtime
        .block_on(sync::sync_with(
            &client,
            &mut with_ids,
            now(),
            &forced,
            |_| {},
        ))
        .unwrap();
    assert!(report.id_pass);
    println!(
        "incremental sync with the id-only pass: {:?}",
        started.elapsed()
    );
    let dir = std::env::temp_dir().join(format!("muster-sync-bench-cache-{}", std::process::id()));
    let store = Store::new(dir.join("profile.cache"), [0x5a; 32]);
    let started = Instant::now();
    store.save(&snapshot).unwrap();
    println!(
        "saving the synced snapshot (index build, encode, encrypt, fsync): {:?}",
        started.elapsed()
    );
    store.remove().unwrap();
    let _ = std::fs::remove_dir(&dir);
}
