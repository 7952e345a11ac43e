//! Sync and offline reads against a real muster-server on a loopback port: the first sync
//! pages through everything, later ones fetch only changes and reconcile deletions, an
//! interrupted sync leaves the snapshot as it was, and the cache answers reads offline.

#[path = "../core/support.rs"]
mod support;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use muster_core::cache::Snapshot;
use muster_core::connection::Connection;
use muster_core::query::ListQuery;
use muster_core::sync::{
    self, OpenOutcome, Phase, Progress, Store, SyncOptions, apply_user, offline_read, remove_user,
};
use muster_core::{Client, Error};
use muster_scim::message::PatchOperation;
use serde_json::json;
use support::{Muster, token_client};
use time::OffsetDateTime;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

const KEY: [u8; 32] = [7; 32];

fn now() -> OffsetDateTime {
    OffsetDateTime::now_utc()
}

fn temp_cache(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!(
        "muster-sync-test-{}-{name}/cache.bin",
        std::process::id()
    ))
}

/// A TCP forwarder in front of the server that can be cut: once cut, it closes every
/// open connection and stops listening, as a server going away or a network drop does.
struct Gate {
    url: String,
    cut: watch::Sender<bool>,
}

impl Gate {
    async fn start(upstream: &str) -> Self {
        let upstream: SocketAddr = upstream
            .trim_start_matches("http://")
            .parse()
            .expect("a loopback address");
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("a port");
        let url = format!("http://{}", listener.local_addr().expect("an address"));
        let (cut, mut cut_seen) = watch::channel(false);
        let connection_cut = cut.subscribe();
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    _ = cut_seen.changed() => return,
                    accepted = listener.accept() => {
                        let Ok((mut client, _)) = accepted else { return };
                        let mut cut = connection_cut.clone();
                        tokio::spawn(async move {
                            let Ok(mut server) = TcpStream::connect(upstream).await else {
                                return;
                            };
                            tokio::select! {
                                _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
                                _ = cut.wait_for(|cut| *cut) => {}
                            }
                        });
                    }
                }
            }
        });
        Self { url, cut }
    }

    fn cut(&self) {
        let _ = self.cut.send(true);
    }

    fn client(&self, server: &Muster) -> Client {
        token_client(Connection::muster(&self.url, &server.org), &server.token)
    }
}

fn ids(snapshot: &Snapshot) -> Vec<&str> {
    snapshot
        .users
        .iter()
        .filter_map(|u| u.id.as_deref())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn first_sync_fetches_all_then_only_changes_and_deletions() {
    let server = Muster::start("syncorg", 1500).await;
    let client = server.client();
    let total = client
        .users()
        .page(&ListQuery::default().with_count(0))
        .await
        .expect("a count")
        .total
        .expect("a total");
    assert!(total >= 1500, "seeded: {total}");

    let mut snapshot = Snapshot::empty(now());
    let mut phases = Vec::new();
    let report = sync::sync(&client, &mut snapshot, now(), |p: Progress| {
        phases.push(p.phase);
    })
    .await
    .expect("the first sync");
    assert!(report.full, "no high-water mark: a full sync");
    assert_eq!(snapshot.users.len() as u64, total);
    assert_eq!(report.fetched, snapshot.users.len() + snapshot.groups.len());
    assert!(!snapshot.groups.is_empty(), "the seeded groups are synced");
    assert!(phases.contains(&Phase::Users) && phases.contains(&Phase::Groups));
    assert_eq!(
        snapshot.capabilities["filter"], true,
        "capabilities are kept"
    );
    let first_mark = snapshot
        .sync
        .last_modified_high_water
        .clone()
        .expect("a high-water mark");

    // Nothing changed: (almost) nothing fetched.
    let quiet = sync::sync(&client, &mut snapshot, now(), |_| {})
        .await
        .expect("a quiet sync");
    assert!(!quiet.full);
    assert!(quiet.fetched < 10, "a quiet sync fetched {}", quiet.fetched);
    assert_eq!(quiet.removed, 0);

    // Change three users, delete a fourth.
    let targets: Vec<String> = ids(&snapshot)[10..14]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
    for id in &targets[..3] {
        client
            .users()
            .patch(
                id,
                vec![PatchOperation::replace("title", json!("Synced Title"))],
                None,
            )
            .await
            .expect("patch");
    }
    client
        .users()
        .delete(&targets[3], None)
        .await
        .expect("delete");

    let report = sync::sync(&client, &mut snapshot, now(), |_| {})
        .await
        .expect("the incremental sync");
    assert!(!report.full, "{report:?}");
    assert!(
        (3..10).contains(&report.fetched),
        "only the changes are fetched, not {total}: {report:?}"
    );
    assert!(report.id_pass, "the count changed: the id pass runs");
    assert_eq!(report.removed, 1, "the deleted user is dropped");
    assert_eq!(snapshot.users.len() as u64, total - 1);
    assert!(!ids(&snapshot).contains(&targets[3].as_str()));
    for id in &targets[..3] {
        let user = snapshot
            .users
            .iter()
            .find(|u| u.id.as_deref() == Some(id))
            .expect("still cached");
        assert_eq!(user.title.as_deref(), Some("Synced Title"));
    }
    let second_mark = snapshot
        .sync
        .last_modified_high_water
        .clone()
        .expect("a mark");
    assert!(second_mark > first_mark, "{second_mark} > {first_mark}");

    // Writes update the cache from the server's answer.
    let patched = client
        .users()
        .patch(
            &targets[0],
            vec![PatchOperation::replace("title", json!("Written"))],
            None,
        )
        .await
        .expect("patch");
    apply_user(&mut snapshot, patched.value);
    assert_eq!(snapshot.users.len() as u64, total - 1, "replaced in place");
    assert!(snapshot.sync.last_modified_high_water.as_deref() > Some(second_mark.as_str()));
    client
        .users()
        .delete(&targets[1], None)
        .await
        .expect("delete");
    assert!(remove_user(&mut snapshot, &targets[1]));
    let after = sync::sync(&client, &mut snapshot, now(), |_| {})
        .await
        .expect("a sync after the writes");
    assert_eq!(after.removed, 0, "the cache already knew: {after:?}");
    assert_eq!(snapshot.users.len() as u64, total - 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_interrupted_sync_leaves_the_snapshot_and_the_cache_reads_offline() {
    let server = Muster::start("syncdrop", 1500).await;
    let gate = Gate::start(&server.url).await;
    let client = gate.client(&server);
    let store = Store::new(temp_cache("drop"), KEY);
    let (mut snapshot, outcome) = store.open(now());
    assert_eq!(outcome, OpenOutcome::Missing);
    sync::sync(&client, &mut snapshot, now(), |_| {})
        .await
        .expect("the first sync");
    store.save(&snapshot).expect("saved");
    let synced = snapshot.clone();

    // A full re-sync, 200 a page; the server goes away after the first page.
    let options = SyncOptions {
        page_size: 200,
        force_full: true,
        ..SyncOptions::default()
    };
    let mut pages = 0;
    let error = sync::sync_with(&client, &mut snapshot, now(), &options, |_| {
        pages += 1;
        gate.cut();
    })
    .await
    .expect_err("the server went away");
    assert!(matches!(error, Error::Offline { .. }), "{error:?}");
    assert!(pages >= 1, "it was cut midway");
    assert_eq!(snapshot, synced, "the previous snapshot is intact");

    // Writes fail with Offline; reads come from the cache, with their age.
    let write = client.users().delete("anyone", None).await;
    assert!(matches!(write, Err(Error::Offline { .. })), "{write:?}");
    let later = synced.synced_at + time::Duration::minutes(5);
    let offline = offline_read(&store, later).expect("the cache answers");
    assert_eq!(offline.snapshot, synced);
    assert_eq!(offline.age, time::Duration::minutes(5));

    let elsewhere = Store::new(temp_cache("none"), KEY);
    let missing = offline_read(&elsewhere, now()).expect_err("no cache yet");
    assert_eq!(missing.code(), muster_core::Code::Storage);
    let wrong_key = Store::new(store.path(), [8; 32]);
    assert!(matches!(
        wrong_key.open(now()).1,
        OpenOutcome::Discarded { .. }
    ));
    store.remove().expect("removed");
    let _ = std::fs::remove_dir_all(store.path().parent().expect("a directory"));
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

/// Prints the figure BENCHMARKS.md asks for: an incremental sync with 100 changes against
/// one page fetch (1,000 users), on the same server. Run with `--nocapture` to see it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_incremental_sync_of_100_changes_costs_about_one_page() {
    let server = Muster::start("syncbench", 1500).await;
    let client = server.client();
    let mut base = Snapshot::empty(now());
    sync::sync(&client, &mut base, now(), |_| {})
        .await
        .expect("the first sync");
    let changed: Vec<String> = ids(&base)[..100].iter().map(|s| (*s).to_owned()).collect();
    for id in &changed {
        client
            .users()
            .patch(
                id,
                vec![PatchOperation::replace("title", json!("Bench"))],
                None,
            )
            .await
            .expect("patch");
    }
    let page_query = ListQuery::default().with_count(1000);
    let mut syncs = Vec::new();
    let mut pages = Vec::new();
    for _ in 0..7 {
        let mut snapshot = base.clone();
        let started = Instant::now();
        let report = sync::sync(&client, &mut snapshot, now(), |_| {})
            .await
            .expect("sync");
        syncs.push(started.elapsed());
        assert!(!report.full && !report.id_pass, "{report:?}");
        assert!((100..110).contains(&report.fetched), "{report:?}");
        let started = Instant::now();
        let page = client.users().page(&page_query).await.expect("a page");
        pages.push(started.elapsed());
        assert_eq!(page.resources.len(), 1000);
    }
    let (sync_time, page_time) = (median(syncs), median(pages));
    let ratio = sync_time.as_secs_f64() / page_time.as_secs_f64();
    println!(
        "incremental sync of 100 changes: {sync_time:?}; one page of 1000 users: \
         {page_time:?}; ratio {ratio:.2}"
    );
    assert!(ratio < 1.5, "target < 1.5×, got {ratio:.2}");
}
