//! The app as a whole under faults: the desktop console's engine ([`Console`], which every
//! Tauri command calls) with the app's own transport settings, a real keychain and its
//! encrypted offline copy on disk, against a real muster-server through the
//! fault-injecting proxy of muster-test-support.
//!
//! For each fault the suite checks the same five things: the console stays up (every call
//! answers, none panics); the offline copy stays readable (a second console over the same
//! files, as the app's next start, opens the last good copy without a notice); the user
//! gets a clear message; nothing is lost; and all is well again once the fault clears.
//!
//! Real where it can be: the keychain is gnome-keyring and "disappearing" is its daemon
//! killed; "disk full" is a full tmpfs (mounting it needs root, as CI runs); the clock skew
//! is the server's own clock moved. The proxy stands in for the server's death (it drops
//! every connection mid-answer and closes the port) and makes the answers a healthy
//! server does not give on demand (stalls, cuts, 5xx storms, 429s).
//!
//! `scripts/test` runs these tests (`resilience::`) apart from the main run, in a private
//! D-Bus session with an unlocked gnome-keyring, one at a time (one kills the keychain
//! daemon), and passes the keyring's password in `MUSTER_TEST_KEYRING_PASSWORD` so that
//! test can bring it back.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use muster_core::console::Console;
use muster_core::console::view::Phase;
use muster_core::search::SearchQuery;
use muster_core::transport::TransportConfig;
use muster_core::vault::Vault;
use muster_core::{Error, Secret};
use muster_scim::urn::SHOP_USER;
use muster_server::scim::kind::Kind;
use muster_server::scim::store::{self, PasswordChange};
use muster_test_support::console::{Home, PROFILE, person, sign_in};
use muster_test_support::proxy::{Fault, Proxy};
use muster_test_support::{PASSWORD, TestServer};
use serde_json::json;

const ORG: &str = "acme";

/// A real server with a seeded organisation, the proxy in front of it, and an install of
/// the app of the test's own (files and keychain service).
struct Rig {
    upstream: TestServer,
    proxy: Proxy,
    domain: String,
    home: Home,
    added: AtomicU64,
}

impl Rig {
    async fn start(users: usize) -> Self {
        let upstream = TestServer::start().await;
        let domain = upstream.seed_demo(ORG, users);
        let proxy = Proxy::start(upstream.addr).await;
        Self {
            upstream,
            proxy,
            domain,
            home: Home::new("resilience"),
            added: AtomicU64::new(0),
        }
    }

    fn dirs(&self) -> muster_core::console::Dirs {
        self.home.dirs()
    }

    fn vault(&self) -> Vault {
        self.home.vault()
    }

    /// A console as the app makes one at start: the app's transport settings.
    fn console(&self) -> Arc<Console> {
        self.console_with(TransportConfig::default())
    }

    fn console_with(&self, transport: TransportConfig) -> Arc<Console> {
        Arc::new(self.home.console(transport))
    }

    /// A new console with the profile saved, opened and signed in as the org's admin.
    async fn signed_in(&self) -> Arc<Console> {
        self.signed_in_with(TransportConfig::default()).await
    }

    async fn signed_in_with(&self, transport: TransportConfig) -> Arc<Console> {
        let console = self.console_with(transport);
        sign_in(&console, &self.proxy.base, ORG, &self.admin(), PASSWORD).await;
        assert_eq!(
            console.status().await.session_notice,
            None,
            "the keychain took the session"
        );
        console
    }

    /// Signs an open console in again.
    async fn sign_in(&self, console: &Console) {
        let status = console
            .sign_in(&self.admin(), Secret::new(PASSWORD))
            .await
            .unwrap();
        assert_eq!(status.phase, Phase::Ready, "{status:?}");
        assert_eq!(status.session_notice, None, "the keychain took the session");
    }

    fn admin(&self) -> String {
        format!("admin@{}", self.domain)
    }

    /// The app started again over the same files and keychain: the profile opened, the
    /// stored session checked with the server.
    async fn restarted(&self) -> Arc<Console> {
        let console = self.console();
        let opened = console.open_profile(PROFILE).await.unwrap();
        assert_eq!(
            opened.cache_notice, None,
            "the offline copy on disk opens as it was written"
        );
        console
    }

    /// How many users the table shows at the app's next start: what the offline copy on
    /// disk holds.
    async fn next_start_total(&self) -> u32 {
        table_total(&*self.restarted().await).await
    }

    /// Adds `n` people at the server (as another admin would), a minute later on the
    /// server's clock so the next sync's change query sees them.
    fn add_people(&self, n: usize) {
        self.upstream.advance(time::Duration::minutes(1));
        let now = self.upstream.now();
        let first = self.added.fetch_add(n as u64, Ordering::Relaxed);
        self.upstream
            .state
            .db
            .write_blocking(|tx| {
                for i in first..first + n as u64 {
                    let doc = json!({
                        "schemas": [muster_scim::urn::USER, SHOP_USER],
                        "userName": format!("added.{i}@{}", self.domain),
                        "name": {"givenName": "Added", "familyName": format!("Person {i}")},
                        "active": true,
                        "emails": [{"value": format!("added.{i}@{}", self.domain), "primary": true}],
                        SHOP_USER: {"role": "technician", "licence": "field"},
                    });
                    store::insert(tx, Kind::User, ORG, &doc, PasswordChange::Keep, now)?;
                }
                Ok(())
            })
            .expect("the people are added");
    }

    /// How many users the server holds.
    fn server_count(&self) -> u32 {
        let count = self
            .upstream
            .state
            .db
            .write_blocking(|tx| {
                Ok(
                    tx.query_row("SELECT COUNT(*) FROM users WHERE org = ?1", [ORG], |row| {
                        row.get::<_, i64>(0)
                    })?,
                )
            })
            .expect("the server's database reads");
        u32::try_from(count).unwrap()
    }
}

impl Drop for Rig {
    fn drop(&mut self) {
        // The keychain entries go with the files (the home's directory).
        let _ = self.vault().delete_profile(PROFILE);
    }
}

/// How many users the console's table holds.
async fn table_total(console: &Console) -> u32 {
    console
        .search(&SearchQuery {
            limit: 5,
            ..SearchQuery::default()
        })
        .await
        .total
}

/// The message a person would read: the error's own words, not a debug dump.
fn assert_clear(error: &Error, words: &[&str]) {
    let message = error.to_string();
    assert!(
        words
            .iter()
            .any(|w| message.to_lowercase().contains(&w.to_lowercase())),
        "the message {message:?} says none of {words:?}"
    );
    assert!(!message.contains("mst_"), "no token in {message:?}");
}

#[tokio::test]
async fn the_server_dying_mid_sync_keeps_the_last_copy_and_recovers() {
    let rig = Rig::start(120).await;
    let console = rig.signed_in().await;
    let first = console.sync(|_| {}).await.unwrap();
    assert_eq!(first.user_count, rig.server_count());

    // Enough new people for the next sync to take several requests; the server dies
    // while answering the second.
    rig.add_people(40);
    rig.proxy.script([Fault::Pass, Fault::Kill]);
    let error = console.sync(|_| {}).await.unwrap_err();
    assert!(matches!(error, Error::Offline { .. }), "{error:?}");
    assert_clear(&error, &["cannot reach", "connect"]);
    assert!(
        rig.proxy.seen().len() >= 2,
        "the server died mid-sync, not before it"
    );

    // Up, offline, showing the last copy; writes refused with the reason.
    let status = console.status().await;
    assert!(!status.online);
    assert!(status.offline_reason.is_some());
    assert!(status.read_only);
    assert_eq!(status.user_count, first.user_count, "the last copy is kept");
    assert_eq!(table_total(&console).await, first.user_count);
    let refused = console
        .create_user(&person(&format!("rosa@{}", rig.domain)), None)
        .await
        .unwrap_err();
    assert!(matches!(refused, Error::Offline { .. }), "{refused:?}");
    assert_eq!(table_total(&console).await, first.user_count);

    // The copy on disk is the last good one.
    assert_eq!(
        rig.next_start_total().await,
        first.user_count,
        "the next start shows the last copy"
    );

    // The server is back: the console reconnects and the sync completes.
    rig.proxy.revive().await;
    let back = console.refresh().await.unwrap();
    assert!(back.online, "{back:?}");
    let synced = console.sync(|_| {}).await.unwrap();
    assert_eq!(synced.user_count, first.user_count + 40);
    assert_eq!(synced.user_count, rig.server_count());
    assert_eq!(
        rig.next_start_total().await,
        synced.user_count,
        "the completed sync is on disk"
    );
}

#[tokio::test]
async fn a_connection_reset_mid_body_is_retried_or_reported_and_loses_nothing() {
    let rig = Rig::start(80).await;
    let console = rig.signed_in().await;
    let first = console.sync(|_| {}).await.unwrap();

    // One cut: the page is asked for again and the sync completes.
    rig.add_people(10);
    rig.proxy.script([Fault::CutMidBody]);
    let synced = console.sync(|_| {}).await.unwrap();
    assert_eq!(synced.user_count, first.user_count + 10);
    assert!(rig.proxy.seen().len() >= 2, "the cut request was repeated");

    // Cut on every attempt (three each of the user and group queries the sync opens
    // with, side by side): the sync fails with the reason and changes nothing.
    rig.add_people(10);
    rig.proxy.script(vec![Fault::CutMidBody; 6]);
    let error = console.sync(|_| {}).await.unwrap_err();
    assert_clear(&error, &["cut off", "connection", "reach", "incomplete"]);
    assert_eq!(table_total(&console).await, synced.user_count);
    assert_eq!(rig.next_start_total().await, synced.user_count);

    // The fault cleared: everything arrives.
    let last = console.sync(|_| {}).await.unwrap();
    assert_eq!(last.user_count, synced.user_count + 10);
    assert!(last.online);
}

/// The app's transport settings scaled down tenfold in time (a 6 s request timeout for the
/// app's 60), so a stall of half the timeout takes 3 s instead of 30.
fn tenth_time() -> TransportConfig {
    let app = TransportConfig::default();
    TransportConfig {
        request_timeout: app.request_timeout / 10,
        connect_timeout: app.connect_timeout / 10,
        ..app
    }
}

#[tokio::test]
async fn a_stall_of_half_the_timeout_keeps_the_app_responsive_and_then_completes() {
    let rig = Rig::start(60).await;
    let transport = tenth_time();
    let stall = transport.request_timeout / 2;
    let console = rig.signed_in_with(transport).await;
    let first = console.sync(|_| {}).await.unwrap();

    rig.add_people(5);
    rig.proxy.script([Fault::Delay(stall)]);
    let started = Instant::now();
    let syncing = tokio::spawn({
        let console = console.clone();
        async move { console.sync(|_| {}).await }
    });
    tokio::time::sleep(stall / 10).await;

    // While the server says nothing, the table, the filters and the status still answer.
    assert_eq!(table_total(&console).await, first.user_count);
    assert!(!console.facets().await.roles.is_empty());
    let status = console.status().await;
    assert!(status.online, "a slow server is not an offline one");
    assert!(!syncing.is_finished(), "the stall is still going on");

    let synced = syncing.await.unwrap().unwrap();
    assert!(
        started.elapsed() >= stall,
        "the answer came after the stall"
    );
    assert_eq!(synced.user_count, first.user_count + 5);
    assert_eq!(rig.proxy.seen().len(), rig.proxy.count("GET"));
    assert_eq!(rig.next_start_total().await, synced.user_count);
}

#[tokio::test]
async fn storms_of_500s_and_503s_fail_plainly_until_they_pass() {
    let rig = Rig::start(60).await;
    let console = rig.signed_in().await;
    let first = console.sync(|_| {}).await.unwrap();
    rig.add_people(7);

    // A storm longer than the retries of one sync: each sync in it fails, plainly.
    let storm: Vec<Fault> = (0..8)
        .map(|i| {
            if i % 2 == 0 {
                Fault::unavailable()
            } else {
                Fault::Status {
                    status: 500,
                    retry_after: None,
                }
            }
        })
        .collect();
    rig.proxy.script(storm);
    let mut failed = 0;
    let synced = loop {
        match console.sync(|_| {}).await {
            Ok(status) => break status,
            Err(error) => {
                failed += 1;
                assert!(failed <= 8, "the storm ended, the sync must too");
                assert!(matches!(error, Error::Server { .. }), "{error:?}");
                assert_clear(&error, &["server", "unavailable", "503", "500"]);
                let status = console.status().await;
                assert!(status.online, "the server answered, if badly");
                assert_eq!(status.user_count, first.user_count, "nothing half-applied");
            }
        }
    };
    assert!(failed >= 2, "the storm failed more than one sync: {failed}");
    assert_eq!(synced.user_count, first.user_count + 7);
    assert_eq!(rig.next_start_total().await, synced.user_count);
}

#[tokio::test]
async fn a_429_is_waited_out_or_reported_with_its_wait() {
    let rig = Rig::start(60).await;
    let console = rig.signed_in().await;
    let first = console.sync(|_| {}).await.unwrap();

    // A short wait is waited out.
    rig.add_people(3);
    rig.proxy.script([Fault::retry_after(429, 2)]);
    let started = Instant::now();
    let synced = console.sync(|_| {}).await.unwrap();
    assert!(
        started.elapsed() >= Duration::from_secs(2),
        "Retry-After honoured"
    );
    assert_eq!(synced.user_count, first.user_count + 3);

    // A long one is reported at once, with how long to wait.
    rig.add_people(3);
    rig.proxy.script([Fault::retry_after(429, 3600)]);
    let error = console.sync(|_| {}).await.unwrap_err();
    let Error::RateLimited { retry_after, .. } = &error else {
        panic!("{error:?}");
    };
    assert_eq!(*retry_after, Some(Duration::from_secs(3600)));
    assert_clear(&error, &["too many", "rate", "wait", "later"]);
    assert_eq!(table_total(&console).await, synced.user_count);

    let last = console.sync(|_| {}).await.unwrap();
    assert_eq!(last.user_count, synced.user_count + 3);
}

#[tokio::test]
async fn clock_skew_past_token_expiry_refreshes_keeps_the_session_and_ends_it_plainly() {
    let rig = Rig::start(40).await;
    let console = rig.signed_in().await;
    let first = console.sync(|_| {}).await.unwrap();

    // The server's clock runs 16 minutes ahead of the access token's life: its 401 is
    // answered with a refresh (the client keeps no clock of its own for tokens).
    rig.upstream.advance(time::Duration::minutes(16));
    rig.add_people(2);
    rig.proxy.script([]);
    let synced = console.sync(|_| {}).await.unwrap();
    assert_eq!(synced.user_count, first.user_count + 2);
    assert!(
        rig.proxy
            .seen()
            .iter()
            .any(|s| s.method == "POST" && s.target.ends_with("/auth/refresh")),
        "the session was refreshed"
    );
    assert_eq!(synced.session_notice, None);

    // The rotated session reached the keychain: the next start keeps it. (Were the spent
    // refresh token still stored, the server would take its reuse for theft and end
    // the session.)
    drop(console);
    rig.upstream.advance(time::Duration::minutes(16));
    let console = rig.restarted().await;
    let status = console.refresh().await.unwrap();
    assert_eq!(status.phase, Phase::Ready, "{status:?}");
    assert!(status.online);
    console.sync(|_| {}).await.unwrap();

    // Skewed past the refresh token's life too: the session has ended. Said so; the
    // copy stays viewable; the keychain forgets the dead tokens.
    rig.upstream.advance(time::Duration::days(31));
    let error = console.sync(|_| {}).await.unwrap_err();
    assert!(matches!(error, Error::Unauthorized { .. }), "{error:?}");
    assert_clear(&error, &["session", "sign in"]);
    let status = console.status().await;
    assert_eq!(status.phase, Phase::SignedOut);
    assert!(
        status
            .session_notice
            .as_ref()
            .is_some_and(|n| n.text.contains("sign in again")),
        "{status:?}"
    );
    assert_eq!(table_total(&console).await, synced.user_count);
    assert!(rig.vault().load_tokens(PROFILE).unwrap().is_none());

    // Signing in again picks up where it was.
    rig.sign_in(&console).await;
    let again = console.sync(|_| {}).await.unwrap();
    assert_eq!(again.user_count, rig.server_count());
}

/// A tmpfs of `size` mounted at `path` for the test's life.
struct SmallDisk {
    path: PathBuf,
}

impl SmallDisk {
    fn mount(path: &Path, size: &str) -> Self {
        std::fs::create_dir_all(path).unwrap();
        let mounted = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size},mode=0700")])
            .arg("muster-test")
            .arg(path)
            .status()
            .expect("mount runs");
        assert!(
            mounted.success(),
            "mounting a {size} tmpfs at {} failed: the disk-full test needs root (as CI \
             runs scripts/test), to make a small disk that really fills",
            path.display()
        );
        Self {
            path: path.to_owned(),
        }
    }

    /// Fills the disk with one file and returns its path.
    fn fill(&self) -> PathBuf {
        use std::io::Write;
        let filler = self.path.join("filler");
        let mut file = std::fs::File::create(&filler).unwrap();
        let chunk = vec![0u8; 64 * 1024];
        loop {
            match file.write(&chunk) {
                Ok(0) => break,
                Ok(_) => {}
                Err(error) if error.kind() == std::io::ErrorKind::StorageFull => break,
                Err(error) => panic!("filling the disk: {error}"),
            }
        }
        // The last partial blocks too.
        while file.write(&[0u8; 512]).is_ok_and(|n| n > 0) {}
        filler
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.path).status();
    }
}

#[tokio::test]
async fn a_full_disk_while_writing_the_cache_loses_nothing_and_saves_once_freed() {
    let rig = Rig::start(200).await;
    let disk = SmallDisk::mount(&rig.dirs().cache, "8m");
    let console = rig.signed_in().await;
    let first = console.sync(|_| {}).await.unwrap();
    assert_eq!(first.cache_notice, None);

    let filler = disk.fill();
    rig.add_people(50);
    let synced = console.sync(|_| {}).await.unwrap();
    assert_eq!(
        synced.user_count,
        first.user_count + 50,
        "the sync itself works"
    );
    let notice = synced
        .cache_notice
        .clone()
        .map(|n| n.text)
        .unwrap_or_default();
    assert_eq!(
        notice, "The offline copy could not be saved: the disk is full.",
        "{synced:?}"
    );
    assert_eq!(
        table_total(&console).await,
        synced.user_count,
        "all in memory"
    );

    // A change made now is kept too (in memory, and said not saved).
    let email = format!("rosa@{}", rig.domain);
    console.create_user(&person(&email), None).await.unwrap();
    let status = console.status().await;
    assert_eq!(status.user_count, synced.user_count + 1);
    assert!(
        status
            .cache_notice
            .is_some_and(|n| n.text.contains("disk is full"))
    );

    // The copy on disk is the previous one, whole (no half-written file, no temp file).
    assert_eq!(rig.next_start_total().await, first.user_count);
    let leftovers: Vec<_> = std::fs::read_dir(&rig.dirs().cache)
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");

    // Space again: the next sync saves everything, and the notice goes.
    std::fs::remove_file(filler).unwrap();
    let saved = console.sync(|_| {}).await.unwrap();
    assert_eq!(saved.cache_notice, None);
    assert_eq!(saved.user_count, rig.server_count());
    assert_eq!(
        rig.next_start_total().await,
        saved.user_count,
        "nothing was lost"
    );
    drop(disk);
}

/// The process that owns the Secret Service name on this session bus: gnome-keyring's
/// daemon.
fn keychain_daemon() -> Option<u32> {
    let out = Command::new("dbus-send")
        .args([
            "--session",
            "--print-reply",
            "--dest=org.freedesktop.DBus",
            "/org/freedesktop/DBus",
            "org.freedesktop.DBus.GetConnectionUnixProcessID",
            "string:org.freedesktop.secrets",
        ])
        .output()
        .expect("dbus-send runs");
    let text = String::from_utf8_lossy(&out.stdout);
    text.split_whitespace()
        .skip_while(|w| *w != "uint32")
        .nth(1)
        .and_then(|pid| pid.parse().ok())
}

/// Starts gnome-keyring's secrets daemon again on this session bus, unlocked with the
/// password `scripts/test` gave it.
fn start_keychain() {
    let password = std::env::var("MUSTER_TEST_KEYRING_PASSWORD")
        .expect("MUSTER_TEST_KEYRING_PASSWORD: scripts/test sets it to the keyring's password");
    let mut daemon = Command::new("gnome-keyring-daemon")
        .args(["--replace", "--unlock", "--components=secrets"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("gnome-keyring-daemon starts");
    {
        use std::io::Write;
        let mut stdin = daemon.stdin.take().unwrap();
        stdin.write_all(password.as_bytes()).unwrap();
    }
    assert!(daemon.wait().unwrap().success());
    let deadline = Instant::now() + Duration::from_secs(10);
    while keychain_daemon().is_none() {
        assert!(Instant::now() < deadline, "the keychain came back");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Brings the keychain back when dropped (best effort: a panic in a drop that runs
/// while unwinding would abort).
struct KeychainBack;

impl Drop for KeychainBack {
    fn drop(&mut self) {
        if std::panic::catch_unwind(start_keychain).is_err() {
            eprintln!("the keychain daemon could not be started again");
        }
    }
}

#[tokio::test]
async fn the_keychain_leaving_mid_session_keeps_the_session_in_memory_until_it_is_back() {
    let rig = Rig::start(40).await;
    let console = rig.signed_in().await;
    let first = console.sync(|_| {}).await.unwrap();

    let pid = keychain_daemon().expect("a Secret Service is running (scripts/test starts one)");
    let killed = Command::new("kill")
        .args(["-KILL", &pid.to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let deadline = Instant::now() + Duration::from_secs(10);
    while keychain_daemon() == Some(pid) {
        assert!(Instant::now() < deadline, "the keychain daemon died");
        std::thread::sleep(Duration::from_millis(50));
    }
    {
        // Whatever happens in here, the keychain comes back for the tests after this one.
        let _back = KeychainBack;
        // The keychain is gone. The session rotates (the access token expired), and the
        // new tokens have nowhere to go: the work goes on, and the console says so.
        rig.upstream.advance(time::Duration::minutes(16));
        rig.add_people(4);
        let synced = console.sync(|_| {}).await.unwrap();
        assert_eq!(synced.user_count, first.user_count + 4);
        assert_eq!(synced.phase, Phase::Ready);
        // One short sentence, with the steps and the technical cause apart.
        let notice = synced.session_notice.clone().expect("a session notice");
        assert!(
            notice.text.starts_with("Your sign-in is not saved: ")
                && notice.text.contains("keychain")
                && notice.text.len() < 80,
            "{notice:?}"
        );
        let fix = notice.fix.clone().unwrap_or_default();
        assert!(fix.contains("this session only"), "{notice:?}");
        assert!(
            notice.detail.as_ref().is_some_and(
                |d| d.starts_with("Cannot store the ") && !notice.text.contains("D-Bus")
            ),
            "the keychain's own words are kept apart, under Details: {notice:?}"
        );
        // The offline copy is still saved: its key was read at sign-in.
        assert_eq!(synced.cache_notice, None);
        let email = format!("rosa@{}", rig.domain);
        console.create_user(&person(&email), None).await.unwrap();
        // A start while the keychain is away opens the copy? It cannot: its key is in
        // the keychain. It says so plainly instead.
        let away = rig.console();
        let opened = away.open_profile(PROFILE).await.unwrap();
        assert_eq!(opened.phase, Phase::SignedOut);
        assert!(
            opened.cache_notice.is_some() || opened.session_notice.is_some(),
            "{opened:?}"
        );
    }

    // Back: the next request saves the session and the notice goes.
    let status = console.refresh().await.unwrap();
    assert_eq!(status.session_notice, None, "{status:?}");
    let synced = console.sync(|_| {}).await.unwrap();
    assert_eq!(synced.user_count, rig.server_count());
    drop(console);

    // Nothing was lost: the next start has the session and the whole copy.
    let console = rig.restarted().await;
    let status = console.refresh().await.unwrap();
    assert_eq!(status.phase, Phase::Ready, "{status:?}");
    assert_eq!(table_total(&console).await, synced.user_count);
}
