//! Responsibilities: what a user holds (properties, open tasks, warehouses), moving all of
//! it to active users in one transaction before deactivation, and the assignee list the
//! deactivate wizard picks replacements from.

use axum::http::StatusCode;
use muster_scim::message::ScimType;
use muster_server::error::AppResult;
use muster_server::responsibilities::{self, Counts, Reassign};
use rusqlite::params;
use serde_json::{Value, json};

use crate::support::{NewUser, Org, TestServer, User, scim_error, seed_org, seed_user, set_status};

/// A server with org `acme` (ada admin, tom technician, vera viewer) and ada's token.
async fn shop() -> (TestServer, Org, String) {
    let server = TestServer::start().await;
    let org = seed_org(&server, "acme");
    let token = server.sign_in(Some("acme"), &org.admin.email).await.access;
    (server, org, token)
}

/// Seeds a user of `acme` with lifecycle `status`.
fn person(server: &TestServer, user_name: &str, status: &str) -> User {
    let user = seed_user(
        server,
        "acme",
        NewUser {
            user_name,
            role: "technician",
            licence: "field",
            active: status == "active",
        },
    );
    set_status(server, "acme", &user.id, status);
    user
}

/// What to hand one user.
#[derive(Default)]
struct Load {
    properties: usize,
    open_tasks: usize,
    closed_tasks: usize,
    office_tasks: usize,
    warehouses: usize,
}

/// Gives `holder` the load, straight into the tables.
fn give(server: &TestServer, holder: &str, load: Load) {
    server.write(|tx| {
        let id = || uuid::Uuid::new_v4().to_string();
        let site = id();
        tx.execute(
            "INSERT INTO properties (org, id, name, address) VALUES ('acme', ?1, 'Site', '1 Main St')",
            params![site],
        )
        .unwrap();
        for _ in 0..load.properties {
            tx.execute(
                "INSERT INTO properties (org, id, name, address, default_technician)
                 VALUES ('acme', ?1, 'Hillcrest Medical Center', '12 Oak St, Denver', ?2)",
                params![id(), holder],
            )
            .unwrap();
        }
        let task = |status: &str, primary: Option<&str>, office: Option<&str>| {
            tx.execute(
                "INSERT INTO tasks (org, id, title, property_id, status, primary_technician,
                                    office_assignee, due)
                 VALUES ('acme', ?1, 'Annual sprinkler inspection', ?2, ?3, ?4, ?5, '2030-02-01')",
                params![id(), site, status, primary, office],
            )
            .unwrap();
        };
        for _ in 0..load.open_tasks {
            task("open", Some(holder), None);
        }
        for _ in 0..load.closed_tasks {
            task("closed", Some(holder), Some(holder));
        }
        for _ in 0..load.office_tasks {
            task("open", None, Some(holder));
        }
        for _ in 0..load.warehouses {
            tx.execute(
                "INSERT INTO warehouses (org, id, name, manager) VALUES ('acme', ?1, 'Denver Warehouse', ?2)",
                params![id(), holder],
            )
            .unwrap();
        }
    });
}

/// The user's counts straight from the tables (open tasks only), bypassing the server.
fn held(server: &TestServer, user_id: &str) -> Counts {
    server.write(|tx| responsibilities::counts(tx, "acme", user_id).unwrap())
}

/// Closed tasks the user is still named on: history, never moved.
fn closed_tasks(server: &TestServer, user_id: &str) -> i64 {
    server.write(|tx| {
        tx.query_row(
            "SELECT count(*) FROM tasks WHERE org = 'acme' AND status = 'closed'
               AND primary_technician = ?1 AND office_assignee = ?1",
            params![user_id],
            |row| row.get(0),
        )
        .unwrap()
    })
}

fn counts(
    default_technician: u64,
    primary_technician: u64,
    office_assignee: u64,
    warehouse_manager: u64,
) -> Counts {
    Counts {
        default_technician,
        primary_technician,
        office_assignee,
        warehouse_manager,
    }
}

/// Runs [`responsibilities::reassign`] in a write transaction that commits only on success.
fn reassign(server: &TestServer, user_id: &str, to: &Reassign) -> AppResult<Counts> {
    let (user_id, to) = (user_id.to_owned(), to.clone());
    server
        .state
        .db
        .write_blocking(move |tx| responsibilities::reassign(tx, "acme", &user_id, &to))
}

fn all_to(target: &str) -> Reassign {
    Reassign {
        default_technician: Some(target.to_owned()),
        primary_technician: Some(target.to_owned()),
        office_assignee: Some(target.to_owned()),
        warehouse_manager: Some(target.to_owned()),
    }
}

async fn responsibilities_of(server: &TestServer, token: &str, user_id: &str) -> Value {
    let response = server
        .get(
            &format!("/o/acme/scim/v2/Users/{user_id}/responsibilities"),
            token,
        )
        .await;
    assert_eq!(
        response.status(),
        200,
        "an existing user's work can be read"
    );
    response.json().await.unwrap()
}

#[tokio::test]
async fn counts_each_kind_with_open_tasks_only() {
    let (server, org, token) = shop().await;
    give(
        &server,
        &org.technician.id,
        Load {
            properties: 12,
            open_tasks: 3,
            closed_tasks: 5,
            ..Load::default()
        },
    );
    give(
        &server,
        &org.viewer.id,
        Load {
            office_tasks: 1,
            warehouses: 2,
            ..Load::default()
        },
    );

    let tom = responsibilities_of(&server, &token, &org.technician.id).await;
    assert_eq!(
        tom,
        json!({
            "userId": org.technician.id,
            "counts": {
                "defaultTechnician": 12,
                "primaryTechnician": 3,
                "officeAssignee": 0,
                "warehouseManager": 0,
            },
            "total": 15,
            "kinds": [
                {"kind": "defaultTechnician", "count": 12,
                 "label": "default technician on 12 properties"},
                {"kind": "primaryTechnician", "count": 3,
                 "label": "primary technician on 3 open tasks"},
            ],
        }),
        "closed tasks are history, not responsibilities"
    );
    let vera = responsibilities_of(&server, &token, &org.viewer.id).await;
    assert_eq!(
        vera["counts"],
        json!({"defaultTechnician": 0, "primaryTechnician": 0, "officeAssignee": 1,
               "warehouseManager": 2}),
        "office work and warehouses count too"
    );
    let ada = responsibilities_of(&server, &token, &org.admin.id).await;
    assert_eq!(ada["total"], 0, "a user with nothing holds nothing");
    assert_eq!(ada["kinds"], json!([]), "and lists no kinds");
}

#[tokio::test]
async fn reassign_moves_every_kind_in_one_go() {
    let (server, org, token) = shop().await;
    let leaver = person(&server, "leo", "active");
    give(
        &server,
        &leaver.id,
        Load {
            properties: 4,
            open_tasks: 3,
            closed_tasks: 2,
            office_tasks: 2,
            warehouses: 1,
        },
    );
    let to = Reassign {
        default_technician: Some(org.technician.id.clone()),
        primary_technician: Some(org.technician.id.clone()),
        office_assignee: Some(org.admin.id.clone()),
        warehouse_manager: Some(org.viewer.id.clone()),
    };

    let moved = reassign(&server, &leaver.id, &to).expect("every kind has an active target");

    assert_eq!(moved, counts(4, 3, 2, 1), "reassign reports what it moved");
    assert_eq!(
        responsibilities_of(&server, &token, &leaver.id).await["total"],
        0,
        "the leaver holds nothing afterwards, so deactivation loses no work"
    );
    assert_eq!(
        held(&server, &org.technician.id),
        counts(4, 3, 0, 0),
        "properties and tasks went to tom"
    );
    assert_eq!(
        held(&server, &org.admin.id),
        counts(0, 0, 2, 0),
        "office work went to ada"
    );
    assert_eq!(
        held(&server, &org.viewer.id),
        counts(0, 0, 0, 1),
        "the warehouse went to vera"
    );
    assert_eq!(
        closed_tasks(&server, &leaver.id),
        2,
        "closed tasks keep who did them"
    );
    assert_eq!(
        reassign(&server, &leaver.id, &Reassign::default()).expect("nothing left to move"),
        Counts::default(),
        "with nothing held, no targets are needed"
    );
}

#[tokio::test]
async fn a_kind_without_a_target_is_a_conflict_listing_every_such_kind() {
    let (server, org, _token) = shop().await;
    let leaver = person(&server, "leo", "active");
    give(
        &server,
        &leaver.id,
        Load {
            properties: 12,
            open_tasks: 1,
            office_tasks: 2,
            ..Load::default()
        },
    );
    let to = Reassign {
        office_assignee: Some(org.admin.id.clone()),
        warehouse_manager: Some("   ".into()),
        ..Reassign::default()
    };

    let error = reassign(&server, &leaver.id, &to).expect_err("two kinds have no target");

    assert_eq!(error.status, StatusCode::CONFLICT, "the wizard must finish");
    assert_eq!(
        error.detail,
        "Reassign these first: default technician on 12 properties, \
         primary technician on 1 open task.",
        "the detail lists every unassigned kind with its count, and only those"
    );
    assert_eq!(
        held(&server, &leaver.id),
        counts(12, 1, 2, 0),
        "nothing moves, not even the kind that had a target"
    );
}

#[tokio::test]
async fn an_ineligible_target_fails_and_nothing_is_half_moved() {
    let (server, org, token) = shop().await;
    let leaver = person(&server, "leo", "active");
    give(
        &server,
        &leaver.id,
        Load {
            properties: 5,
            open_tasks: 2,
            office_tasks: 1,
            ..Load::default()
        },
    );
    let mut ineligible: Vec<(String, String)> = [
        ("suspended", "suspended"),
        ("invited", "invited"),
        ("deactivated", "deactivated"),
        ("deleted", "not a user"),
    ]
    .into_iter()
    .map(|(status, why)| {
        let user = person(&server, &format!("{status}-user"), status);
        (user.id, why.to_owned())
    })
    .collect();
    ineligible.push((leaver.id.clone(), "someone else".to_owned()));
    ineligible.push(("no-such-user".to_owned(), "not a user".to_owned()));

    for (target, why) in ineligible {
        let to = Reassign {
            // Valid, and moved first: only the rollback can undo it.
            default_technician: Some(org.technician.id.clone()),
            primary_technician: Some(target),
            office_assignee: Some(org.admin.id.clone()),
            warehouse_manager: None,
        };
        let (leaver_id, tom) = (leaver.id.clone(), org.technician.id.clone());
        let error = server
            .state
            .db
            .write_blocking(move |tx| {
                let result = responsibilities::reassign(tx, "acme", &leaver_id, &to);
                let moved_so_far = responsibilities::counts(tx, "acme", &tom)?;
                assert_eq!(
                    moved_so_far.default_technician, 5,
                    "the first kind moved before the second target was checked"
                );
                result
            })
            .expect_err("an ineligible target is refused");

        assert_eq!(error.status, StatusCode::BAD_REQUEST, "{why}");
        assert_eq!(error.scim_type, Some(ScimType::InvalidValue), "{why}");
        assert!(
            error.detail.contains("primary technician") && error.detail.contains(&why),
            "the detail names the kind and why the target cannot take it: {}",
            error.detail
        );
        assert_eq!(
            held(&server, &leaver.id),
            counts(5, 2, 1, 0),
            "the rollback restores the kind that had moved ({why})"
        );
        assert_eq!(
            held(&server, &org.technician.id),
            Counts::default(),
            "the valid target got nothing ({why})"
        );
    }
    assert_eq!(
        responsibilities_of(&server, &token, &leaver.id).await["total"],
        8,
        "over HTTP too, the leaver still holds everything"
    );
}

#[tokio::test]
async fn a_user_of_another_org_is_not_a_target() {
    let (server, org, _token) = shop().await;
    let other = seed_org(&server, "globex");
    give(
        &server,
        &org.technician.id,
        Load {
            warehouses: 1,
            ..Load::default()
        },
    );
    let error = reassign(&server, &org.technician.id, &all_to(&other.admin.id))
        .expect_err("targets must belong to the org");
    assert_eq!(error.status, StatusCode::BAD_REQUEST);
    assert!(
        error.detail.contains("warehouse manager")
            && error.detail.contains("not a user of this organisation"),
        "{}",
        error.detail
    );
}

async fn assignees(server: &TestServer, token: &str, query: &str) -> Vec<String> {
    let response = server
        .get(&format!("/o/acme/assignees{query}"), token)
        .await;
    assert_eq!(response.status(), 200, "the assignee list answers {query}");
    let list: Vec<Value> = response.json().await.unwrap();
    for entry in &list {
        assert!(
            entry["id"].is_string() && entry["userName"].is_string(),
            "each assignee has an id and a userName: {entry}"
        );
    }
    list.iter()
        .map(|entry| entry["displayName"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn assignees_are_active_users_by_display_name() {
    let (server, _org, token) = shop().await;
    person(&server, "zed", "active");
    person(&server, "ivy", "invited");
    person(&server, "sam", "suspended");
    person(&server, "dan", "deactivated");
    person(&server, "del", "deleted");

    assert_eq!(
        assignees(&server, &token, "?kind=defaultTechnician").await,
        ["ada of acme", "tom of acme", "vera of acme", "zed of acme"],
        "only active users can take over work; invited, suspended, deactivated and \
         deleted users never appear"
    );
    assert_eq!(
        assignees(&server, &token, "?kind=officeAssignee&q=TOM").await,
        ["tom of acme"],
        "q matches the display name case-insensitively"
    );
    assert_eq!(
        assignees(&server, &token, "?q=Zed").await,
        ["zed of acme"],
        "kind is optional"
    );
    assert_eq!(
        assignees(&server, &token, "?q=sam").await,
        Vec::<String>::new(),
        "a suspended user is not found by name either"
    );
    assert_eq!(
        assignees(&server, &token, "?q=%25").await,
        Vec::<String>::new(),
        "% in q is a literal, not a wildcard"
    );
    assert_eq!(
        assignees(&server, &token, "?kind=warehouseManager&count=2").await,
        ["ada of acme", "tom of acme"],
        "count limits the list"
    );
    assert_eq!(
        assignees(&server, &token, "?count=100000").await.len(),
        4,
        "a large count is capped, not refused"
    );

    for query in ["?kind=plumber", "?count=lots", "?count=-1"] {
        let response = server
            .get(&format!("/o/acme/assignees{query}"), &token)
            .await;
        let body = scim_error(response, 400).await;
        assert_eq!(body["scimType"], "invalidValue", "{query} is refused");
    }
}

#[tokio::test]
async fn assignees_match_user_names() {
    let (server, _org, token) = shop().await;
    let user = person(&server, "Kim.Nguyen", "active");
    server.write(|tx| {
        tx.execute(
            "UPDATE users SET display_name = 'k. nguyen' WHERE org = 'acme' AND id = ?1",
            params![user.id],
        )
        .unwrap()
    });
    assert_eq!(
        assignees(&server, &token, "?q=kim.ng").await.len(),
        1,
        "q also matches the userName"
    );
}

#[tokio::test]
async fn only_readers_of_the_org_see_responsibilities() {
    let (server, org, _token) = shop().await;
    let other = seed_org(&server, "globex");
    let tom = server.sign_in(Some("acme"), &org.technician.email).await;
    let vera = server.sign_in(Some("acme"), &org.viewer.email).await;
    let outsider = server.sign_in(Some("globex"), &other.admin.email).await;
    let work = format!("/o/acme/scim/v2/Users/{}/responsibilities", org.admin.id);
    let list = "/o/acme/assignees".to_owned();

    for path in [&work, &list] {
        scim_error(server.get(path, &tom.access).await, 403).await;
        scim_error(server.get(path, &outsider.access).await, 403).await;
        let response = server.client.get(server.url(path)).send().await.unwrap();
        scim_error(response, 401).await;
        assert_eq!(
            server.get(path, &vera.access).await.status(),
            200,
            "viewers read, as they read users ({path})"
        );
    }
}

#[tokio::test]
async fn unknown_and_deleted_users_are_not_found() {
    let (server, _org, token) = shop().await;
    let gone = person(&server, "gone", "deleted");
    let dormant = person(&server, "dormant", "deactivated");
    for id in ["no-such-user", gone.id.as_str()] {
        let response = server
            .get(
                &format!("/o/acme/scim/v2/Users/{id}/responsibilities"),
                &token,
            )
            .await;
        let body = scim_error(response, 404).await;
        assert!(
            body["detail"].as_str().unwrap().contains(id),
            "the 404 names the id: {body}"
        );
    }
    assert_eq!(
        responsibilities_of(&server, &token, &dormant.id).await["total"],
        0,
        "a deactivated user's responsibilities can still be read"
    );
    let response = server
        .get("/o/nowhere/scim/v2/Users/x/responsibilities", &token)
        .await;
    scim_error(response, 403).await;
}

#[tokio::test]
async fn deleting_someone_who_holds_work_asks_for_the_same_handover_as_deactivating() {
    let (server, org, token) = shop().await;
    let holder = person(&server, "hal", "active");
    let heir = person(&server, "hana", "active");
    give(
        &server,
        &holder.id,
        Load {
            properties: 2,
            open_tasks: 1,
            ..Load::default()
        },
    );

    // SCIM's DELETE is refused with the list, and nothing changes.
    let refused = server
        .client
        .delete(server.url(&format!("/o/acme/scim/v2/Users/{}", holder.id)))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    let body = scim_error(refused, 409).await;
    let detail = body["detail"].as_str().unwrap();
    assert!(
        detail.contains("Reassign these first") && detail.contains("2 properties"),
        "{detail}"
    );
    assert_eq!(
        held(&server, &holder.id),
        counts(2, 1, 0, 0),
        "nothing moved"
    );

    // The delete action takes the handover, and answers with the user, deleted.
    let deleted = server
        .post(
            &format!("/o/acme/scim/v2/Users/{}/actions/delete", holder.id),
            &token,
            &json!({"reassign": {"defaultTechnician": heir.id, "primaryTechnician": heir.id}}),
        )
        .await;
    assert_eq!(deleted.status(), StatusCode::OK);
    let user: Value = deleted.json().await.unwrap();
    assert_eq!(
        user["urn:muster:params:scim:schemas:extension:shop:2.0:User"]["status"],
        "deleted"
    );
    assert_eq!(held(&server, &holder.id), counts(0, 0, 0, 0));
    assert_eq!(
        held(&server, &heir.id),
        counts(2, 1, 0, 0),
        "all to the heir"
    );

    // Nobody deletes themselves, by either way.
    let own = server
        .post(
            &format!("/o/acme/scim/v2/Users/{}/actions/delete", org.admin.id),
            &token,
            &json!({}),
        )
        .await;
    scim_error(own, 403).await;
}

#[tokio::test]
async fn only_system_admins_list_and_read_deleted_users() {
    let (server, org, token) = shop().await;
    let gone = person(&server, "gus", "active");
    let deleted = server
        .client
        .delete(server.url(&format!("/o/acme/scim/v2/Users/{}", gone.id)))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    let list = |token: String| {
        let server = &server;
        async move {
            server
                .get(
                    "/o/acme/scim/v2/Users?includeDeleted=true&count=100",
                    &token,
                )
                .await
        }
    };
    // An org admin (and a viewer) may not.
    scim_error(list(token.clone()).await, 403).await;
    let viewer = server.sign_in(Some("acme"), &org.viewer.email).await.access;
    scim_error(list(viewer).await, 403).await;
    let one = server
        .get(
            &format!("/o/acme/scim/v2/Users/{}?includeDeleted=true", gone.id),
            &token,
        )
        .await;
    scim_error(one, 403).await;

    // A system admin lists them with their status, and reads one to restore.
    let root = crate::support::seed_system_admin(&server);
    let root = server.sign_in(None, &root).await.access;
    let all: Value = list(root.clone()).await.json().await.unwrap();
    let statuses: Vec<&str> = all["Resources"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|u| u["id"] == gone.id.as_str())
        .map(|u| {
            u["urn:muster:params:scim:schemas:extension:shop:2.0:User"]["status"]
                .as_str()
                .unwrap()
        })
        .collect();
    assert_eq!(statuses, ["deleted"], "{all}");
    let plain: Value = server
        .get("/o/acme/scim/v2/Users?count=100", &root)
        .await
        .json()
        .await
        .unwrap();
    assert!(
        plain["Resources"]
            .as_array()
            .unwrap()
            .iter()
            .all(|u| u["id"] != gone.id.as_str()),
        "without the parameter, deleted users stay hidden"
    );
    let read = server
        .get(
            &format!("/o/acme/scim/v2/Users/{}?includeDeleted=true", gone.id),
            &root,
        )
        .await;
    assert_eq!(read.status(), StatusCode::OK);
    let bad = server
        .get("/o/acme/scim/v2/Users?includeDeleted=maybe", &root)
        .await;
    scim_error(bad, 400).await;
    let document: Value = server
        .get("/o/acme/scim/v2/actions", &root)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        document["listDeleted"]["parameter"], "includeDeleted",
        "the capability document says how: {document}"
    );
}
