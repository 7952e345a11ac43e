//! A provider that sends a user the engine cannot read in full, as the proxy spoils a real
//! muster-server's answers: the user is kept with what could be read and shown as such
//! (its status unknown, no action offered that depends on it), every other user is kept,
//! and the sync says what it could not read. A user with no id is left out and counted.

#![allow(clippy::unwrap_used)]

use std::collections::HashMap;
use std::net::SocketAddr;

use muster_core::connection::Connection;
use muster_core::console::view::{ProfileInput, ServerKindView, SimpleAction, UserDetail};
use muster_core::rules::UserAction;
use muster_core::search::SearchQuery;
use muster_core::transport::TransportConfig;
use muster_core::{Error, Secret};
use muster_scim::urn;
use muster_scim::user::User;

use muster_test_support::Muster;
use muster_test_support::console::{Home, TestConsole, person};
use muster_test_support::proxy::Proxy;
use muster_test_support::scim2::Scim2;
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

/// `raw` with the first `true` after `key` made `false`: the text to find and its
/// replacement.
fn made_false(raw: &str, key: &str) -> (String, String) {
    let start = raw.find(key).unwrap_or_else(|| panic!("{key} in {raw}"));
    let end = start + raw[start..].find("true").unwrap() + "true".len();
    let from = raw[start..end].to_owned();
    let to = format!("{}false", &from[..from.len() - "true".len()]);
    (from, to)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_provider_that_can_only_replace_a_user_is_refused_for_one_read_in_part() {
    let scim2 = Scim2::start().await;
    let straight = scim2.client();
    let mut user = User::new("zed.read.in.part");
    user.active = Some(false);
    let id = straight
        .users()
        .create(&user)
        .await
        .unwrap()
        .value
        .id
        .unwrap();
    let get = async |path: &str| {
        let answer = straight
            .send(Method::GET, path, &[], None, None, true)
            .await
            .unwrap();
        String::from_utf8(answer.body.to_vec()).unwrap()
    };
    let config = get("/ServiceProviderConfig").await;
    let alone = get(&format!("/Users/{id}")).await;

    let upstream: SocketAddr = scim2.base["http://".len()..]
        .split('/')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let proxy = Proxy::start(upstream).await;
    // A provider without PATCH: changing a user means replacing all of it.
    let (from, to) = made_false(&config, r#""patch""#);
    proxy.rewrite("/ServiceProviderConfig", &from, &to);
    let home = Home::new("unread-put-only");
    let console = home.console(TransportConfig::default());
    let profile = ProfileInput {
        name: "scim2".into(),
        kind: ServerKindView::Scim,
        url: format!("{}/v2", proxy.base),
        org: None,
        make_default: true,
    };
    console.save_profile(profile, false).await.unwrap();
    console.open_profile("scim2").await.unwrap();
    console
        .sign_in_with_token(Secret::new(scim2.token.clone()))
        .await
        .unwrap();

    // The user comes with a title no schema allows.
    let user_name = [
        "\"userName\": \"zed.read.in.part\"",
        "\"userName\":\"zed.read.in.part\"",
    ]
    .into_iter()
    .find(|name| alone.contains(name))
    .unwrap_or_else(|| panic!("the user name in {alone}"));
    proxy.rewrite(
        &format!("/Users/{id}"),
        user_name,
        &format!(r#"{user_name}, "title": {{"not": "a string"}}"#),
    );
    let detail = console.user(&id).await.unwrap();
    assert_eq!(detail.unread.len(), 1, "{:?}", detail.unread);
    assert_eq!(detail.unread[0].attribute, "title");
    assert!(
        available(&detail, UserAction::Reactivate),
        "`active` was read: reactivating is offered"
    );
    proxy.script([]);
    let refused = console
        .run_action(&id, SimpleAction::Reactivate)
        .await
        .expect_err("replacing the user would drop its title at the server");
    assert!(
        matches!(&refused, Error::Unsupported { message } if message.contains("could not read")),
        "{refused:?}"
    );
    assert_eq!(proxy.count("PUT"), 0, "nothing was sent");

    // Read whole, the same action replaces the user.
    proxy.stop_rewriting();
    proxy.rewrite("/ServiceProviderConfig", &from, &to);
    let done = console
        .run_action(&id, SimpleAction::Reactivate)
        .await
        .unwrap();
    assert_eq!(done.status, "active");
    assert_eq!(proxy.count("PUT"), 1, "by replacing the user");
}

#[tokio::test]
async fn an_edit_over_what_could_not_be_read_is_refused_and_changes_nothing() {
    let (server, proxy, console, _straight, _) = rig("unread-edit").await;
    let email = format!("rosa.unread@{}", server.domain);
    let created = console.create_user(&person(&email), None).await.unwrap();
    // Read alone, the user's email comes with a `primary` no schema allows.
    proxy.rewrite(
        &format!("/Users/{}", created.id),
        r#""primary":true"#,
        r#""primary":{"x":1}"#,
    );
    let detail = console.user(&created.id).await.unwrap();
    assert_eq!(detail.email, None, "not shown: it could not be read");
    assert_eq!(detail.unread[0].attribute, "emails");

    let mut edit = person(&format!("rosa.elsewhere@{}", server.domain));
    edit.user_name = email.clone();
    let refused = console
        .update_user(&created.id, &edit, detail.version.clone())
        .await
        .expect_err("writing the email would replace what the server holds");
    assert!(
        matches!(&refused, Error::Unsupported { message } if message.contains("'emails'")),
        "{refused:?}"
    );
    proxy.stop_rewriting();
    let whole = console.user(&created.id).await.unwrap();
    assert_eq!(
        whole.email.as_deref(),
        Some(email.as_str()),
        "nothing was changed"
    );
}
