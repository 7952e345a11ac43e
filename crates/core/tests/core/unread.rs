//! A provider that sends a user the engine cannot read in full, as the proxy spoils a real
//! muster-server's answers: the user is kept with what could be read and shown as such
//! (its status unknown, no action offered that depends on it), every other user is kept,
//! and the sync says what it could not read. A user with no id is left out and counted.

#![allow(clippy::unwrap_used)]

use std::collections::HashMap;
use std::net::SocketAddr;

use muster_core::connection::Connection;
use muster_core::console::view::UserDetail;
use muster_core::rules::UserAction;
use muster_core::search::SearchQuery;
use muster_core::transport::TransportConfig;
use muster_scim::urn;

use muster_test_support::Muster;
use muster_test_support::console::TestConsole;
use muster_test_support::proxy::Proxy;
use muster_test_support::server::token_client;
use reqwest::Method;
use serde_json::value::RawValue;

/// The server, a proxy in front of it, an admin console through the proxy, a console
/// straight to the server, and how many users it syncs.
async fn rig(tag: &str) -> (Muster, Proxy, TestConsole, TestConsole, u32) {
    let server = Muster::start(tag, 40).await;
    let straight = server
        .admin_console(
            &format!("{tag}-straight"),
            TransportConfig::default(),
            &server.url,
        )
        .await;
    let all = straight.sync(|_| {}).await.unwrap().user_count;
    let upstream: SocketAddr = server.url.trim_start_matches("http://").parse().unwrap();
    let proxy = Proxy::start(upstream).await;
    let console = server
        .admin_console(tag, TransportConfig::default(), &proxy.base)
        .await;
    (server, proxy, console, straight, all)
}

/// An active technician's id, and the JSON the server writes for them in a list and
/// alone.
async fn a_technician(server: &Muster, straight: &TestConsole) -> (String, [String; 2]) {
    let query = SearchQuery {
        roles: vec!["technician".to_owned()],
        ..with_status("active")
    };
    let id = straight.search(&query).await.rows[0].id.clone();
    let client = token_client(Connection::muster(&server.url, &server.org), &server.token);
    let get = async |path: String| {
        let answer = client
            .send(Method::GET, &path, &[], None, None, true)
            .await
            .unwrap();
        String::from_utf8(answer.body.to_vec()).unwrap()
    };
    let page = get(format!("/Users?filter=id%20eq%20%22{id}%22")).await;
    let page: HashMap<String, &RawValue> = serde_json::from_str(&page).unwrap();
    let listed: Vec<&RawValue> = serde_json::from_str(page["Resources"].get()).unwrap();
    let alone = get(format!("/Users/{id}")).await;
    (id, [listed[0].get().to_owned(), alone])
}

fn with_status(status: &str) -> SearchQuery {
    SearchQuery {
        statuses: vec![status.to_owned()],
        limit: 100,
        ..SearchQuery::default()
    }
}

fn available(detail: &UserDetail, action: UserAction) -> bool {
    detail
        .actions
        .iter()
        .any(|offer| offer.action == action && offer.available)
}

#[tokio::test]
async fn a_user_with_a_bad_attribute_is_kept_with_what_could_be_read() {
    let (server, proxy, console, straight, all) = rig("unread-partly").await;
    // One technician comes with a status no schema allows, in lists and alone.
    let (id, texts) = a_technician(&server, &straight).await;
    for whole in texts {
        // As it comes through the proxy: its address in `meta.location`.
        let whole = whole.replace(&server.url, &proxy.base);
        let spoilt = whole.replacen(r#""status":"active""#, r#""status":{"now":"active"}"#, 1);
        assert_ne!(whole, spoilt, "{whole}");
        proxy.rewrite("/Users", &whole, &spoilt);
    }
    let status = console.sync(|_| {}).await.unwrap();
    assert_eq!(status.user_count, all, "every user is kept");
    let notice = status
        .sync_notice
        .expect("the sync says what it could not read");
    assert!(
        notice.text.contains("1 user with details"),
        "{}",
        notice.text
    );

    let unknown = console.search(&with_status("unknown")).await;
    assert_eq!(unknown.total, 1, "one user's status could not be read");
    let row = &unknown.rows[0];
    assert_eq!(row.id, id);
    assert!(!row.name.is_empty(), "shown with its known fields");

    // Read again from the server (spoilt again): shown with what could be read.
    let detail = console.user(&id).await.unwrap();
    assert!(!detail.from_cache);
    assert_eq!(detail.status, "unknown");
    assert_eq!(detail.unread.len(), 1, "{:?}", detail.unread);
    assert_eq!(
        detail.unread[0].attribute,
        format!("{}:status", urn::SHOP_USER)
    );
    assert!(
        detail.unread[0].reason.contains("string"),
        "{:?}",
        detail.unread
    );
    assert!(
        detail.licence.is_some(),
        "the extension's other attributes are kept"
    );
    for action in [
        UserAction::Suspend,
        UserAction::Deactivate,
        UserAction::Reactivate,
    ] {
        assert!(
            !available(&detail, action),
            "{action:?} depends on a status that could not be read"
        );
    }

    // Once the server sends it whole, it is read whole, in the copy too.
    proxy.stop_rewriting();
    let detail = console.user(&id).await.unwrap();
    assert_eq!(detail.status, "active");
    assert!(detail.unread.is_empty());
    assert!(available(&detail, UserAction::Suspend));
    assert_eq!(console.search(&with_status("unknown")).await.total, 0);
}

#[tokio::test]
async fn a_listed_user_without_an_id_is_left_out_and_counted() {
    let (_server, proxy, console, _straight, all) = rig("unread-no-id").await;
    proxy.rewrite("/Users", r#""id":""#, r#""xid":""#);
    let status = console.sync(|_| {}).await.unwrap();
    assert_eq!(status.user_count, all - 1, "only that user is left out");
    let notice = status.sync_notice.expect("the sync says what it left out");
    assert!(
        notice
            .text
            .contains("1 user or group Muster could not read at all"),
        "{}",
        notice.text
    );
}
