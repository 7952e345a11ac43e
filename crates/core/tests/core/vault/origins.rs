use std::sync::{Arc, Mutex};

use axum::Router;
use axum::http::{HeaderMap, StatusCode, header};
use axum::routing::any;
use muster_core::Secret;
use muster_core::console::Console;
use muster_core::console::view::Phase;
use muster_core::search::SearchQuery;
use muster_core::vault::SecretKind;
use muster_test_support::Muster;
use muster_test_support::console::{Home, PROFILE, fail_fast, muster_profile, sign_in};
use muster_test_support::server::serve;

#[test]
fn a_secret_is_given_back_only_to_its_origin() {
    let vault = super::support::vault();
    let first = vault.bound_to("https://one.example:443 org=acme");
    first
        .store("shop", SecretKind::AccessToken, &Secret::new("mst_at_one"))
        .unwrap();
    assert_eq!(
        first.load("shop", SecretKind::AccessToken).unwrap(),
        Some(Secret::new("mst_at_one"))
    );
    let second = vault.bound_to("https://two.example:443 org=acme");
    assert_eq!(second.load("shop", SecretKind::AccessToken).unwrap(), None);
    assert_eq!(
        first.load("shop", SecretKind::AccessToken).unwrap(),
        None,
        "another origin's look removed it: it is not left to be found again"
    );
    // One stored before origins were kept is not trusted either.
    vault
        .store("shop", SecretKind::AccessToken, &Secret::new("mst_at_old"))
        .unwrap();
    assert_eq!(first.load("shop", SecretKind::AccessToken).unwrap(), None);
    vault.delete_profile("shop").unwrap();
}

/// A server that records every Authorization header it is sent and refuses them all.
async fn recorder() -> (String, Arc<Mutex<Vec<String>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    let router = Router::new().fallback(any(move |headers: HeaderMap| {
        let log = log.clone();
        async move {
            if let Some(value) = headers.get(header::AUTHORIZATION) {
                log.lock()
                    .unwrap()
                    .push(value.to_str().unwrap_or_default().to_owned());
            }
            (StatusCode::UNAUTHORIZED, "{}")
        }
    }));
    let (address, _task) = serve(router).await;
    (format!("http://{address}"), seen)
}

/// A console of `home` signed in as the admin of `server`, failing fast.
async fn admin_console(server: &Muster, home: &Home) -> Console {
    let console = home.console(fail_fast());
    sign_in(
        &console,
        &server.url,
        &server.org,
        &server.admin_email(),
        muster_test_support::PASSWORD,
    )
    .await;
    console
}

/// The first sync into a copy just made (its key new, no file yet: the index starts as
/// the empty one of a missing copy) lists every user it brought.
#[tokio::test]
async fn a_first_sync_into_a_new_copy_lists_every_user() {
    let server = Muster::start("first-copy", 12).await;
    let home = Home::new("first-copy");
    let console = admin_console(&server, &home).await;
    let status = console.sync(|_| {}).await.unwrap();
    let found = console
        .search(&SearchQuery {
            limit: 100,
            ..SearchQuery::default()
        })
        .await;
    assert!(status.user_count > 12, "{status:?}");
    assert_eq!(found.total, status.user_count);
    assert_eq!(found.rows.len(), found.total as usize, "counted and listed");
}

#[tokio::test]
async fn a_sync_puts_its_copy_on_show_then_saves_it() {
    let server = Muster::start("show-then-save", 12).await;
    let home = Home::new("show-then-save");
    let console = admin_console(&server, &home).await;
    let mut phases = Vec::new();
    let mut saving = Vec::new();
    let status = console
        .sync(|p| {
            saving.push(console.saving());
            phases.push((p.phase, p.fetched));
        })
        .await
        .unwrap();
    assert_eq!(
        phases.last(),
        Some(&("saving".to_owned(), status.user_count)),
        "the last step is the file's save, of every user: {phases:?}"
    );
    assert_eq!(
        saving.last(),
        Some(&true),
        "while the file is written, quitting is told to wait"
    );
    assert!(!saving[0], "not while the pages come");
    assert!(!console.saving(), "the write is over once the sync is");
    tokio::time::timeout(std::time::Duration::from_secs(1), console.settled())
        .await
        .expect("nothing to wait for");
    drop(console);
    // What was saved is what a restart reads.
    let console = home.console(fail_fast());
    console.open_profile(PROFILE).await.unwrap();
    let found = console
        .search(&SearchQuery {
            limit: 100,
            ..SearchQuery::default()
        })
        .await;
    assert_eq!(found.total, status.user_count);
}

#[tokio::test]
async fn a_reused_profile_name_never_sends_the_first_servers_token() {
    let server = Muster::start("origin-one", 5).await;
    let home = Home::new("origin");
    let console = admin_console(&server, &home).await;
    let token = home
        .vault()
        .load_tokens(PROFILE)
        .unwrap()
        .expect("the session is in the keychain")
        .access;
    drop(console);

    // The settings are gone (another install, a reset), the keychain entries stay; a
    // new connection of the same name points at another server.
    std::fs::remove_dir_all(home.dirs().config).unwrap();
    let (other, seen) = recorder().await;
    let console = home.console(fail_fast());
    console
        .save_profile(muster_profile(&other, "acme"), false)
        .await
        .unwrap();
    let opened = console.open_profile(PROFILE).await.unwrap();
    assert_eq!(
        opened.phase,
        Phase::SignedOut,
        "no session was taken over: {opened:?}"
    );
    let _ = console.refresh().await;
    let _ = console.sync(|_| {}).await;
    assert!(
        seen.lock()
            .unwrap()
            .iter()
            .all(|value| !value.contains(token.expose())),
        "the other server never saw the first server's token"
    );
    assert!(
        home.vault().load_tokens(PROFILE).unwrap().is_none(),
        "the left-over entry was removed, not kept"
    );
}

#[tokio::test]
async fn pointing_a_connection_elsewhere_ends_its_session_and_copy() {
    let server = Muster::start("origin-move", 5).await;
    let home = Home::new("origin-move");
    let console = admin_console(&server, &home).await;
    console.sync(|_| {}).await.unwrap();
    let copy = muster_core::console::cache_path(&home.dirs().cache, PROFILE);
    assert!(copy.exists(), "the offline copy is on disk");

    // The same server and organisation: nothing changes.
    console
        .save_profile(muster_profile(&server.url, &server.org), true)
        .await
        .unwrap();
    assert!(home.vault().load_tokens(PROFILE).unwrap().is_some());

    // Another organisation: the session and the copy go.
    console
        .save_profile(muster_profile(&server.url, "elsewhere"), true)
        .await
        .unwrap();
    assert!(home.vault().load_tokens(PROFILE).unwrap().is_none());
    assert!(
        home.vault()
            .load(PROFILE, SecretKind::CacheKey)
            .unwrap()
            .is_none(),
        "the copy's key"
    );
    assert!(!copy.exists(), "and its file");
    assert_eq!(
        console.status().await.phase,
        Phase::NoProfile,
        "it is closed"
    );
}

#[tokio::test]
async fn nothing_of_a_switched_organisation_survives_sign_out() {
    let server = Muster::start("origin-root", 5).await;
    server.server.seed_demo("beta", 5);
    server
        .server
        .seed_system_admin(muster_test_support::server::SYSTEM_ADMIN);
    let home = Home::new("origin-root");
    let console = home.console(fail_fast());
    sign_in(
        &console,
        &server.url,
        &server.org,
        muster_test_support::server::SYSTEM_ADMIN,
        muster_test_support::PASSWORD,
    )
    .await;
    console.sync(|_| {}).await.unwrap();
    console.switch_org("beta").await.unwrap();
    console.sync(|_| {}).await.unwrap();
    let files = || {
        std::fs::read_dir(home.dirs().cache)
            .map(|entries| {
                entries
                    .filter_map(Result::ok)
                    .map(|e| e.file_name())
                    .collect()
            })
            .unwrap_or_else(|_| Vec::new())
    };
    assert_eq!(
        files().len(),
        2,
        "a copy of each organisation: {:?}",
        files()
    );
    assert!(
        home.vault()
            .load_org_copy_key(PROFILE, "beta")
            .unwrap()
            .is_some()
    );

    console.sign_out().await.unwrap();
    assert!(files().is_empty(), "no copy is left: {:?}", files());
    assert!(
        home.vault()
            .load_org_copy_key(PROFILE, "beta")
            .unwrap()
            .is_none(),
        "nor the key of the switched organisation's copy"
    );
}
