//! Sync and offline reads against a real muster-server on a loopback port: the first sync
//! pages through everything, later ones fetch only changes and reconcile deletions, an
//! interrupted sync leaves the snapshot as it was, and the cache answers reads offline.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use muster_core::cache::{OpenOutcome, Store, offline_read};
use muster_core::cache::{PackedUser, Snapshot};
use muster_core::connection::Connection;
use muster_core::query::ListQuery;
use muster_core::sync::{self, Phase, SyncOptions, apply_user, remove_user};
use muster_core::{Client, Error};
use muster_scim::message::PatchOperation;
use muster_test_support::Muster;
use muster_test_support::server::token_client;
use serde_json::json;
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
    snapshot.users.iter().filter_map(PackedUser::id).collect()
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
    let report = sync::sync(&client, &mut snapshot, now(), |p| {
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
        snapshot.capabilities.as_ref().map(|c| c.filter),
        Some(true),
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

    // Change three users, delete a fourth (users who hold no work: the server refuses to
    // delete someone with responsibilities unless they are handed over).
    let targets = server.users_without_work(14).split_off(10);
    assert_eq!(targets.len(), 4, "the demo has people without work");
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
            .find(|u| u.id() == Some(id))
            .expect("still cached")
            .user();
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
    assert_eq!(
        snapshot.sync.last_modified_high_water.as_deref(),
        Some(second_mark.as_str()),
        "only a sync moves the mark"
    );
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

/// A write applied to the cache from the server's answer must not hide what others
/// changed since the last sync (it once raised the mark past their changes).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_applied_locally_does_not_hide_changes_made_by_others() {
    let server = Muster::start("syncothers", 40).await;
    age_the_seed(&server);
    let client = server.client();
    let mut snapshot = Snapshot::empty(now());
    sync::sync(&client, &mut snapshot, now(), |_| {})
        .await
        .expect("the first sync");
    let ids: Vec<String> = ids(&snapshot).iter().map(|s| (*s).to_owned()).collect();
    // Someone else changes one user; then this client changes another and applies it.
    client
        .users()
        .patch(
            &ids[5],
            vec![PatchOperation::replace("title", json!("By someone else"))],
            None,
        )
        .await
        .expect("patch");
    tokio::time::sleep(Duration::from_millis(20)).await;
    let mine = client
        .users()
        .patch(
            &ids[6],
            vec![PatchOperation::replace("title", json!("Mine"))],
            None,
        )
        .await
        .expect("patch");
    apply_user(&mut snapshot, mine.value);
    assert_eq!(title_of(&snapshot, &ids[6]).as_deref(), Some("Mine"));
    // No straggler window: only the mark decides what is fetched.
    let exact = SyncOptions {
        straggler_window: time::Duration::ZERO,
        ..SyncOptions::default()
    };
    let report = sync::sync_with(&client, &mut snapshot, now(), &exact, |_| {})
        .await
        .expect("a sync");
    assert!(!report.full, "{report:?}");
    assert_eq!(
        title_of(&snapshot, &ids[5]).as_deref(),
        Some("By someone else")
    );
    assert_eq!(title_of(&snapshot, &ids[6]).as_deref(), Some("Mine"));
    assert_eq!(
        report.fetched, 2,
        "both changes, the applied one again: {report:?}"
    );
}

/// `modified` of every user and group of the org set to a long time ago, so that the marks
/// the tests see come from their own writes (the seed stamps everything with one time).
fn age_the_seed(server: &Muster) {
    let org = server.org.clone();
    server
        .state
        .db
        .write_blocking(move |tx| {
            for table in ["users", "groups"] {
                tx.execute(
                    &format!("UPDATE {table} SET modified = ?1 WHERE org = ?2"),
                    ["2020-01-01T00:00:00.000Z", org.as_str()],
                )?;
            }
            Ok(())
        })
        .expect("aged");
}

/// A change as a server makes it when the write was stamped at `modified` but committed
/// only now: after the sync that read the data and set the mark.
fn straggle(server: &Muster, id: &str, title: &str, modified: &str) {
    let (org, id, title, modified) = (
        server.org.clone(),
        id.to_owned(),
        title.to_owned(),
        modified.to_owned(),
    );
    let changed = server
        .state
        .db
        .write_blocking(move |tx| {
            Ok(tx.execute(
                "UPDATE users SET doc = json_set(doc, '$.title', ?1), modified = ?2, \
                 version = version + 1 WHERE org = ?3 AND id = ?4",
                [title.as_str(), modified.as_str(), org.as_str(), id.as_str()],
            )?)
        })
        .expect("a straggling write");
    assert_eq!(changed, 1);
}

fn shifted(mark: &str, by: time::Duration) -> String {
    let at = OffsetDateTime::parse(mark, &time::format_description::well_known::Rfc3339)
        .expect("a mark")
        + by;
    at.format(time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
    ))
    .expect("formatted")
}

fn title_of(snapshot: &Snapshot, id: &str) -> Option<String> {
    snapshot
        .users
        .iter()
        .find(|u| u.id() == Some(id))
        .and_then(|u| u.user().title)
}

/// A change stamped in the very millisecond of the high-water mark, or shortly before it,
/// but committed after the sync that set the mark had read, is not `gt` the mark; the
/// straggler count finds it, and quiet syncs stay quiet.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changes_committed_after_the_read_but_stamped_before_the_mark_are_not_missed() {
    let server = Muster::start("syncstraggle", 60).await;
    age_the_seed(&server);
    let client = server.client();
    let mut snapshot = Snapshot::empty(now());
    sync::sync(&client, &mut snapshot, now(), |_| {})
        .await
        .expect("the first sync");
    let ids: Vec<String> = ids(&snapshot).iter().map(|s| (*s).to_owned()).collect();

    // A write through the API moves the mark to now.
    client
        .users()
        .patch(
            &ids[0],
            vec![PatchOperation::replace("title", json!("Seen"))],
            None,
        )
        .await
        .expect("patch");
    let report = sync::sync(&client, &mut snapshot, now(), |_| {})
        .await
        .expect("a sync");
    assert_eq!((report.fetched, report.stragglers), (1, 0), "{report:?}");
    let mark = snapshot
        .sync
        .last_modified_high_water
        .clone()
        .expect("a mark");

    // Two writes stamped at the mark and a second before it, committed after that read.
    straggle(&server, &ids[1], "Same millisecond", &mark);
    straggle(
        &server,
        &ids[2],
        "Queued behind the writer",
        &shifted(&mark, -time::Duration::seconds(1)),
    );
    let report = sync::sync(&client, &mut snapshot, now(), |_| {})
        .await
        .expect("a sync");
    assert!(!report.full, "{report:?}");
    assert!(report.stragglers >= 2, "{report:?}");
    assert_eq!(
        title_of(&snapshot, &ids[1]).as_deref(),
        Some("Same millisecond")
    );
    assert_eq!(
        title_of(&snapshot, &ids[2]).as_deref(),
        Some("Queued behind the writer")
    );
    assert_eq!(
        snapshot.users.len(),
        ids.len(),
        "merged by id, nothing doubled"
    );

    // Now the cache agrees with the server: nothing is fetched again.
    let quiet = sync::sync(&client, &mut snapshot, now(), |_| {})
        .await
        .expect("a quiet sync");
    assert_eq!((quiet.fetched, quiet.stragglers), (0, 0), "{quiet:?}");

    // A window of zero still covers the mark's own millisecond.
    let mark = snapshot
        .sync
        .last_modified_high_water
        .clone()
        .expect("a mark");
    straggle(&server, &ids[3], "At the mark again", &mark);
    let exact = SyncOptions {
        straggler_window: time::Duration::ZERO,
        ..SyncOptions::default()
    };
    let report = sync::sync_with(&client, &mut snapshot, now(), &exact, |_| {})
        .await
        .expect("a sync");
    assert!(report.stragglers >= 1, "{report:?}");
    assert_eq!(
        title_of(&snapshot, &ids[3]).as_deref(),
        Some("At the mark again")
    );
}

/// Besides a disagreeing count and a day's age, the id-only pass runs every
/// `id_pass_every` incremental syncs, counted in the snapshot (so across restarts).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_id_pass_also_runs_every_n_incremental_syncs() {
    let server = Muster::start("syncevery", 40).await;
    let client = server.client();
    let store = Store::new(temp_cache("every"), KEY);
    let (mut snapshot, _) = store.open(now());
    let report = sync::sync(&client, &mut snapshot, now(), |_| {})
        .await
        .expect("the first sync");
    assert!(report.full);
    assert_eq!(snapshot.sync.syncs_since_id_pass, 0);
    let every_third = SyncOptions {
        id_pass_every: 3,
        ..SyncOptions::default()
    };
    let mut passes = Vec::new();
    for _ in 0..7 {
        let report = sync::sync_with(&client, &mut snapshot, now(), &every_third, |_| {})
            .await
            .expect("a sync");
        assert!(!report.full, "{report:?}");
        passes.push((report.id_pass, snapshot.sync.syncs_since_id_pass));
        // Saved and reopened: the count survives a restart.
        store.save(&snapshot).expect("saved");
        snapshot = store.open(now()).0;
    }
    assert_eq!(
        passes,
        [
            (false, 1),
            (false, 2),
            (true, 0),
            (false, 1),
            (false, 2),
            (true, 0),
            (false, 1)
        ]
    );

    // 0: never by count (the counts agree and the day has not passed).
    let never = SyncOptions {
        id_pass_every: 0,
        ..SyncOptions::default()
    };
    for _ in 0..3 {
        let report = sync::sync_with(&client, &mut snapshot, now(), &never, |_| {})
            .await
            .expect("a sync");
        assert!(!report.id_pass, "{report:?}");
    }
    assert_eq!(snapshot.sync.syncs_since_id_pass, 4);
    store.remove().expect("removed");
    let _ = std::fs::remove_dir_all(store.path().parent().expect("a directory"));
}

/// A command's refresh (`sync_store`) stores the index a fresh build would make, whether
/// the sync changed nothing (the stored index kept as it is), a few users (mended) or
/// removed one (built again).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refresh_stores_the_index_a_build_would_make() {
    let server = Muster::start("syncstore", 40).await;
    let client = server.client();
    let store = Store::new(temp_cache("store"), KEY);
    let stored_as_built = |what: &str| {
        let (snapshot, index, _) = store.open_indexed(now());
        assert_eq!(
            index,
            muster_core::search::Index::of_packed(&snapshot.users),
            "after {what}"
        );
        snapshot.users.len()
    };
    let (report, _, saved) = sync::sync_store(&client, &store, now(), |_| {})
        .await
        .unwrap();
    saved.unwrap();
    assert!(report.full);
    let all = stored_as_built("the first refresh");

    let (report, _, saved) = sync::sync_store(&client, &store, now(), |_| {})
        .await
        .unwrap();
    saved.unwrap();
    assert_eq!((report.fetched, report.removed), (0, 0), "{report:?}");
    assert_eq!(stored_as_built("a refresh that changed nothing"), all);

    let targets = server.users_without_work(2);
    client
        .users()
        .patch(
            &targets[0],
            vec![PatchOperation::replace("title", json!("Refreshed Title"))],
            None,
        )
        .await
        .unwrap();
    let (report, _, saved) = sync::sync_store(&client, &store, now(), |_| {})
        .await
        .unwrap();
    saved.unwrap();
    assert!(report.fetched >= 1, "{report:?}");
    assert_eq!(stored_as_built("a refresh that changed a user"), all);

    // The server's count now differs from the copy's: the id pass finds the deletion.
    client.users().delete(&targets[1], None).await.unwrap();
    let (report, _, saved) = sync::sync_store(&client, &store, now(), |_| {})
        .await
        .unwrap();
    saved.unwrap();
    assert_eq!(report.removed, 1, "{report:?}");
    assert_eq!(stored_as_built("a refresh that removed a user"), all - 1);
}
