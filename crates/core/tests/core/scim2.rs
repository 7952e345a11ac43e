//! The engine against scim2-server, an independent SCIM 2.0 server from PyPI that nobody
//! here wrote: its quirks (a silently capped `count`, PATCH answered with 204 and no
//! body, strict refusal of unknown attributes) are the real world's.

use std::collections::HashSet;

use muster_core::Error;
use muster_core::actions::Action;
use muster_core::connection::Connection;
use muster_core::discovery::{Feature, Support};
use muster_core::query::{ListQuery, Progress, attr};
use muster_scim::message::PatchOperation;
use muster_scim::user::{Name, User};
use serde_json::json;

use muster_test_support::scim2::Scim2;
use muster_test_support::server::token_client;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_all_survives_a_silently_capped_count() {
    let server = Scim2::start().await;
    let seeded = server.seed_users(2500).await;
    let client = server.client();
    let mut reports: Vec<Progress> = Vec::new();
    let all = client
        .users()
        .list_all(&ListQuery::default().with_count(2000), |p| reports.push(p))
        .await
        .expect("the walk succeeds");
    assert_eq!(all.len(), 2500, "every seeded user arrives");
    let names: HashSet<&str> = all.iter().map(|u| u.user_name.as_str()).collect();
    assert_eq!(names.len(), 2500, "each exactly once");
    assert!(
        seeded.iter().all(|name| names.contains(name.as_str())),
        "the very users that were seeded"
    );
    assert_eq!(
        reports.len(),
        3,
        "scim2-server gives 1,000 a page whatever is asked: {reports:?}"
    );
    assert_eq!(
        reports.last().copied(),
        Some(Progress {
            fetched: 2500,
            total: Some(2500),
            unreadable: 0,
        })
    );
    assert!(
        all.iter().all(|u| u.enterprise.is_some()),
        "extension attributes come through"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_follow_scim2_servers_rules() {
    let server = Scim2::start().await;
    let client = server.client();
    let users = client.users();

    let created = users
        .create(&User {
            name: Some(Name::new("Pat", "Lee")),
            active: Some(true),
            ..User::new("pat.lee")
        })
        .await
        .expect("create");
    let id = created.value.id.clone().expect("an id");
    assert!(
        created.etag.is_some(),
        "scim2-server versions its resources"
    );

    let off = users
        .patch(
            &id,
            vec![PatchOperation::replace("active", json!(false))],
            created.etag.as_deref(),
        )
        .await
        .expect("patch active=false");
    assert_eq!(
        off.value.active,
        Some(false),
        "the 204 answer is followed by a read of the user as it now is"
    );
    assert_eq!(off.value.user_name, "pat.lee");
    assert_ne!(off.etag, created.etag, "with its new version");

    let with_password = users
        .patch(
            &id,
            vec![PatchOperation::replace(
                "password",
                json!("Quartz-Lantern-47!"),
            )],
            off.etag.as_deref(),
        )
        .await
        .expect("set a password");
    assert!(
        with_password.value.password.is_none(),
        "passwords are written, never returned"
    );

    let stale = users
        .patch(
            &id,
            vec![PatchOperation::replace("active", json!(true))],
            created.etag.as_deref(),
        )
        .await
        .expect_err("an old version");
    assert!(
        matches!(stale, Error::Conflict { stale: true, .. }),
        "412 is a stale conflict: {stale:?}"
    );

    let mut odd = User::new("odd.one");
    odd.extra.insert("favouriteColour".into(), json!("red"));
    let invalid = users.create(&odd).await.expect_err("unknown attribute");
    assert!(
        matches!(invalid, Error::Validation { .. }),
        "scim2-server refuses unknown attributes: {invalid:?}"
    );

    let found = users
        .search(&ListQuery::filtered(attr("userName").eq("pat.lee")))
        .await
        .expect("search");
    assert_eq!(found.resources.len(), 1);
    assert_eq!(found.resources[0].active, Some(false));

    users.delete(&id, None).await.expect("delete");
    assert!(matches!(users.get(&id).await, Err(Error::NotFound { .. })));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn discovery_sees_a_plain_scim_provider() {
    let server = Scim2::start().await;
    let client = server.client();
    let caps = client.discover().await.expect("discover");
    assert!(!caps.is_muster, "scim2-server has no /actions document");
    assert!(caps.patch && caps.filter && caps.etag, "{caps:?}");
    assert!(caps.actions.is_empty());
    assert!(caps.resource_types.iter().any(|t| t == "User"));
    match caps.supports(Feature::Action("suspend".into())) {
        Support::No { reason } => assert!(
            reason.contains("does not offer 'suspend'"),
            "the reason names the action: {reason}"
        ),
        Support::Yes => panic!("scim2-server cannot suspend"),
    }

    let user = client
        .users()
        .create(&User::new("sam"))
        .await
        .expect("create");
    let id = user.value.id.expect("an id");
    let refused = client
        .actions()
        .run(&id, Action::Suspend)
        .await
        .expect_err("no actions here");
    assert!(
        matches!(&refused, Error::Unsupported { message } if message.contains("'suspend'")),
        "a missing action is unsupported, not a bare 404: {refused:?}"
    );

    let scim = token_client(Connection::scim(&server.base), &server.token);
    let not_muster = scim
        .actions()
        .responsibilities(&id)
        .await
        .expect_err("Muster only");
    assert!(
        matches!(not_muster, Error::Unsupported { .. }),
        "{not_muster:?}"
    );
}
