//! Organisations under `/admin`: listed with plan and status, created, re-planned,
//! suspended (closed to its users and their tokens), reactivated and deleted (nothing of it
//! left); only system admins may, and each change is in the system-level audit log.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use reqwest::Method;
use serde_json::{Value, json};

use crate::support::{
    PASSWORD, TestServer, scim_error, seed_api_user, seed_org, seed_system_admin,
};

/// A request with a bearer token and an optional JSON body.
async fn send(
    server: &TestServer,
    method: Method,
    path: &str,
    token: &str,
    body: Option<Value>,
) -> reqwest::Response {
    let mut request = server
        .client
        .request(method, server.url(path))
        .bearer_auth(token);
    if let Some(body) = body {
        request = request.json(&body);
    }
    request.send().await.unwrap()
}

/// A server with acme and beta (each with an admin, a technician and a viewer), an
/// API-licence account in acme with a token, and a system admin signed in.
struct World {
    server: TestServer,
    root: String,
    api_token: String,
}

async fn world() -> World {
    let server = TestServer::start().await;
    seed_org(&server, "acme");
    seed_org(&server, "beta");
    let robot = seed_api_user(&server, "acme", "robot");
    let now = server.now();
    let api_token = server.write(|tx| {
        muster_server::auth::issue_api_token_blocking(tx, "acme", &robot.id, "sync", now).unwrap()
    });
    let email = seed_system_admin(&server);
    let root = server.sign_in(None, &email).await.access;
    World {
        server,
        root,
        api_token,
    }
}

/// `GET path` with `token`, read as JSON.
async fn get_json(server: &TestServer, path: &str, token: &str) -> Value {
    server.get(path, token).await.json().await.unwrap()
}

/// The system-level log's `org.*` entries, newest first: each one's action and target,
/// and the page.
async fn org_log(server: &TestServer, root: &str) -> (Vec<(String, String)>, Value) {
    let audit = get_json(server, "/admin/audit?action=org.*", root).await;
    let actions = audit["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| {
            let text = |key: &str| entry[key].as_str().unwrap().to_owned();
            (text("action"), text("targetId"))
        })
        .collect();
    (actions, audit)
}

/// An access token of `email` in `org`.
async fn access(server: &TestServer, org: &str, email: &str) -> String {
    server.sign_in(Some(org), email).await.access
}

fn find<'a>(list: &'a Value, id: &str) -> &'a Value {
    list["orgs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|org| org["id"] == id)
        .unwrap_or_else(|| panic!("{id} is listed: {list}"))
}

#[tokio::test]
async fn organisations_are_listed_created_and_replanned() {
    let World { server, root, .. } = world().await;
    let plans = get_json(&server, "/admin/plans", &root).await;
    let ids: Vec<&str> = plans["plans"]
        .as_array()
        .unwrap()
        .iter()
        .map(|plan| plan["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        ["free", "standard", "enterprise"],
        "the plans are the server's data, in order: {plans}"
    );
    assert!(
        plans["plans"][0]["name"].is_string() && plans["plans"][0]["description"].is_string(),
        "plans have names and descriptions for people: {plans}"
    );

    let list = get_json(&server, "/admin/orgs", &root).await;
    let acme = find(&list, "acme");
    assert_eq!(acme["userCount"], 4, "three people and the robot: {acme}");
    assert_eq!(
        acme["plan"], "free",
        "new organisations are on free: {acme}"
    );
    assert_eq!(acme["status"], "active", "and active: {acme}");
    assert!(acme["created"].is_string(), "with their creation: {acme}");

    let response = server
        .post(
            "/admin/orgs",
            &root,
            &json!({"id": "gamma", "name": " Gamma Heating ", "plan": "enterprise"}),
        )
        .await;
    assert_eq!(
        response.status(),
        201,
        "a system admin creates an organisation"
    );
    let gamma: Value = response.json().await.unwrap();
    assert_eq!(
        (&gamma["name"], &gamma["plan"], &gamma["status"]),
        (
            &json!("Gamma Heating"),
            &json!("enterprise"),
            &json!("active")
        ),
        "answered as saved: {gamma}"
    );
    let response = server
        .post(
            "/admin/orgs",
            &root,
            &json!({"id": "delta", "name": "Delta", "plan": "platinum"}),
        )
        .await;
    let error = scim_error(response, 400).await;
    assert!(
        error["detail"]
            .as_str()
            .unwrap()
            .contains("free, standard, enterprise"),
        "an unknown plan is refused naming the plans: {error}"
    );
    let response = server
        .post(
            "/admin/orgs",
            &root,
            &json!({"id": "Bad Id", "name": "Bad"}),
        )
        .await;
    scim_error(response, 400).await;
    let response = server
        .post(
            "/admin/orgs",
            &root,
            &json!({"id": "acme", "name": "Again"}),
        )
        .await;
    scim_error(response, 409).await;

    let response = server
        .put("/admin/orgs/acme/plan", &root, &json!({"plan": "standard"}))
        .await;
    assert_eq!(response.status(), 200, "the plan changes");
    let acme: Value = response.json().await.unwrap();
    assert_eq!(acme["plan"], "standard", "answered as saved: {acme}");
    let response = server
        .put("/admin/orgs/acme/plan", &root, &json!({"plan": "gold"}))
        .await;
    scim_error(response, 400).await;
    let response = server
        .put("/admin/orgs/nowhere/plan", &root, &json!({"plan": "free"}))
        .await;
    scim_error(response, 404).await;

    let (actions, audit) = org_log(&server, &root).await;
    let expected = [("org.set_plan", "acme"), ("org.create", "gamma")];
    assert!(
        actions
            .iter()
            .map(|(a, t)| (a.as_str(), t.as_str()))
            .eq(expected),
        "the system log holds the changes, newest first: {audit}"
    );
    let change = &audit["entries"][0];
    assert_eq!(
        (&change["detail"]["before"], &change["detail"]["after"]),
        (&json!("free"), &json!("standard")),
        "a plan change says what it was: {change}"
    );
    assert_eq!(
        change["org"],
        Value::Null,
        "system-level entries have no org"
    );
    assert_eq!(
        change["actorName"], "root@muster.example",
        "and name who: {change}"
    );
}

#[tokio::test]
async fn only_system_admins_manage_organisations() {
    let World {
        server, api_token, ..
    } = world().await;
    let admin = access(&server, "acme", "ada@acme.example").await;
    let viewer = access(&server, "acme", "vera@acme.example").await;
    let other = access(&server, "beta", "ada@beta.example").await;
    let attempts = [
        (Method::GET, "/admin/orgs", None),
        (
            Method::POST,
            "/admin/orgs",
            Some(json!({"id": "evil", "name": "Evil"})),
        ),
        (Method::GET, "/admin/plans", None),
        (Method::GET, "/admin/audit", None),
        (Method::POST, "/admin/orgs/acme/suspend", None),
        (Method::POST, "/admin/orgs/beta/suspend", None),
        (Method::POST, "/admin/orgs/acme/reactivate", None),
        (
            Method::PUT,
            "/admin/orgs/acme/plan",
            Some(json!({"plan": "enterprise"})),
        ),
        (
            Method::DELETE,
            "/admin/orgs/acme",
            Some(json!({"confirm": "acme"})),
        ),
        (
            Method::DELETE,
            "/admin/orgs/beta",
            Some(json!({"confirm": "beta"})),
        ),
    ];
    for (who, token) in [
        ("an org admin", &admin),
        ("a viewer", &viewer),
        ("an API token", &api_token),
        ("another org's admin", &other),
    ] {
        for (method, path, body) in &attempts {
            let response = send(&server, method.clone(), path, token, body.clone()).await;
            assert_eq!(
                response.status(),
                403,
                "{who} cannot {method} {path}: only system admins manage organisations"
            );
        }
    }
    for (method, path, body) in &attempts[..4] {
        let response = send(&server, method.clone(), path, "mst_at_forged", body.clone()).await;
        assert_eq!(response.status(), 401, "{method} {path} needs credentials");
    }
    let email = seed_system_admin_twin(&server);
    let root = server.sign_in(None, &email).await.access;
    let list = get_json(&server, "/admin/orgs", &root).await;
    for id in ["acme", "beta"] {
        let org = find(&list, id);
        assert_eq!(
            (&org["status"], &org["plan"]),
            (&json!("active"), &json!("free")),
            "nothing the refused callers tried happened: {org}"
        );
    }
    assert!(
        list["orgs"]
            .as_array()
            .unwrap()
            .iter()
            .all(|org| org["id"] != "evil"),
        "no organisation was created: {list}"
    );
}

/// A second system admin, so the refused callers' test signs in afresh.
fn seed_system_admin_twin(server: &TestServer) -> String {
    let now = server.now();
    let hash = muster_server::auth::password::hash_password(PASSWORD).unwrap();
    server.write(|tx| {
        muster_server::auth::create_system_admin(tx, "ops@muster.example", "Ops", &hash, now)
            .unwrap();
    });
    "ops@muster.example".to_owned()
}

#[tokio::test]
async fn a_suspended_organisation_is_closed_to_its_users_and_tokens() {
    let World {
        server,
        root,
        api_token,
    } = world().await;
    let admin = server.sign_in(Some("acme"), "ada@acme.example").await;
    let beta = server.sign_in(Some("beta"), "ada@beta.example").await;

    let response = server
        .post("/admin/orgs/acme/suspend", &root, &json!({}))
        .await;
    assert_eq!(response.status(), 200, "a system admin suspends acme");
    let acme: Value = response.json().await.unwrap();
    assert_eq!(acme["status"], "suspended", "answered as saved: {acme}");
    let response = server
        .post("/admin/orgs/acme/suspend", &root, &json!({}))
        .await;
    scim_error(response, 409).await;

    let suspended = |body: &Value| body["scimType"] == "orgSuspended";
    for (who, token) in [
        ("the admin's session", &admin.access),
        ("the API token", &api_token),
    ] {
        for path in [
            "/o/acme/scim/v2/Users",
            "/o/acme/settings",
            "/o/acme/api-tokens",
            "/o/acme/audit",
        ] {
            let body = scim_error(server.get(path, token).await, 403).await;
            assert!(
                suspended(&body),
                "{who} is refused {path} with the reason: {body}"
            );
        }
    }
    let body = scim_error(server.get("/auth/me", &admin.access).await, 403).await;
    assert!(suspended(&body), "even one's own account says why: {body}");
    let write = server
        .post(
            "/o/acme/scim/v2/Users",
            &api_token,
            &json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "x"}),
        )
        .await;
    let body = scim_error(write, 403).await;
    assert!(suspended(&body), "SCIM writes are refused: {body}");
    let response = server.refresh(&admin.refresh).await;
    assert_eq!(
        response.status(),
        401,
        "the session was ended, not only paused"
    );

    let response = server
        .sign_in_raw(Some("acme"), "ada@acme.example", PASSWORD)
        .await;
    let body = scim_error(response, 403).await;
    assert!(
        suspended(&body),
        "signing in is refused with the reason: {body}"
    );
    let response = server
        .sign_in_raw(Some("acme"), "ada@acme.example", "Wrong-Password-1-x")
        .await;
    assert_eq!(
        response.status(),
        401,
        "without the password nobody learns the organisation is suspended"
    );
    let body = scim_error(server.get("/o/acme/scim/v2/Users", &root).await, 403).await;
    assert!(
        suspended(&body),
        "a system admin reactivates it before working in it: {body}"
    );
    let response = server.get("/o/beta/scim/v2/Users", &beta.access).await;
    assert_eq!(response.status(), 200, "other organisations are untouched");

    let response = server
        .post("/admin/orgs/acme/reactivate", &root, &json!({}))
        .await;
    assert_eq!(response.status(), 200, "a system admin reactivates acme");
    let acme: Value = response.json().await.unwrap();
    assert_eq!(acme["status"], "active", "answered as saved: {acme}");
    let response = server.get("/o/acme/scim/v2/Users", &api_token).await;
    assert_eq!(response.status(), 200, "API tokens work again");
    let response = server.get("/o/acme/scim/v2/Users", &admin.access).await;
    assert_eq!(response.status(), 401, "ended sessions stay ended");
    server.sign_in(Some("acme"), "ada@acme.example").await;

    let (actions, audit) = org_log(&server, &root).await;
    assert!(
        actions
            .iter()
            .map(|(a, _)| a.as_str())
            .eq(["org.reactivate", "org.suspend"]),
        "both audited: {audit}"
    );
    assert_eq!(
        audit["entries"][1]["detail"]["sessionsRevoked"], 1,
        "the suspension says how many sessions it ended: {audit}"
    );
}

/// Rows of `org` in `table`.
fn rows_of(server: &TestServer, table: &str, org: &str) -> i64 {
    server.write(|tx| {
        tx.query_row(
            &format!("SELECT COUNT(*) FROM \"{table}\" WHERE org = ?1"),
            [org],
            |row| row.get(0),
        )
        .unwrap()
    })
}

/// Tables that hold an organisation's data, each filled before the deletion.
const TABLES: [&str; 14] = [
    "users",
    "user_emails",
    "groups",
    "group_members",
    "sessions",
    "tokens",
    "link_tokens",
    "properties",
    "tasks",
    "warehouses",
    "mfa",
    "mfa_challenges",
    "outbox",
    "audit",
];

#[tokio::test]
async fn deleting_needs_the_id_repeated_and_leaves_nothing_of_the_organisation() {
    let World {
        server,
        root,
        api_token,
    } = world().await;
    let admin = access(&server, "acme", "ada@acme.example").await;
    let beta = access(&server, "beta", "ada@beta.example").await;
    // Some of everything: a group with a member, settings, a link and its email, and
    // straight into the tables two-factor rows and responsibilities.
    let users = get_json(
        &server,
        "/o/acme/scim/v2/Users?filter=userName eq \"tom\"",
        &admin,
    )
    .await;
    let tom = users["Resources"][0]["id"].as_str().unwrap().to_owned();
    let response = server
        .post(
            "/o/acme/scim/v2/Groups",
            &admin,
            &json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
                    "displayName": "Night shift", "members": [{"value": tom}]}),
        )
        .await;
    assert_eq!(response.status(), 201, "a group with a member");
    let response = server
        .patch("/o/acme/settings", &admin, &json!({"invitationHours": 24}))
        .await;
    assert_eq!(response.status(), 200, "settings saved");
    let response = server
        .post(
            &format!("/o/acme/scim/v2/Users/{tom}/actions/send-password-reset"),
            &admin,
            &json!({}),
        )
        .await;
    assert_eq!(response.status(), 200, "a link emailed");
    let now = muster_server::auth::stamp(server.now());
    server.write(|tx| {
        tx.execute_batch(&format!(
            "INSERT INTO mfa (org, user_id, secret, created) VALUES ('acme', '{tom}', 'x', '{now}');
             INSERT INTO mfa_challenges (hash, org, user_id, created, expires)
                 VALUES ('h', 'acme', '{tom}', '{now}', '{now}');
             INSERT INTO properties (org, id, name, address, default_technician)
                 VALUES ('acme', 'p1', 'Depot', '1 Road', '{tom}');
             INSERT INTO tasks (org, id, title, property_id, primary_technician)
                 VALUES ('acme', 't1', 'Service', 'p1', '{tom}');
             INSERT INTO warehouses (org, id, name, manager) VALUES ('acme', 'w1', 'Main', '{tom}');"
        ))
        .unwrap();
    });
    for table in TABLES {
        assert!(
            rows_of(&server, table, "acme") > 0,
            "acme has rows in {table} to delete"
        );
    }
    let beta_before: Vec<i64> = TABLES
        .iter()
        .map(|table| rows_of(&server, table, "beta"))
        .collect();

    let attempt =
        |body: Option<Value>| send(&server, Method::DELETE, "/admin/orgs/acme", &root, body);
    let error = scim_error(attempt(None).await, 400).await;
    assert!(
        error["detail"].as_str().unwrap().contains("confirm"),
        "without confirmation nothing is deleted, and the answer says what to send: {error}"
    );
    scim_error(attempt(Some(json!({"confirm": "beta"}))).await, 400).await;
    scim_error(attempt(Some(json!({"confirm": "ACME"}))).await, 400).await;
    scim_error(attempt(Some(json!({}))).await, 400).await;
    let as_text = server
        .client
        .delete(server.url("/admin/orgs/acme"))
        .bearer_auth(&root)
        .header("content-type", "text/plain")
        .body(r#"{"confirm": "acme"}"#)
        .send()
        .await
        .unwrap();
    scim_error(as_text, 415).await;
    let response = server.get("/o/acme/scim/v2/Users", &api_token).await;
    assert_eq!(response.status(), 200, "a refused deletion changes nothing");

    let response = attempt(Some(json!({"confirm": "acme"}))).await;
    assert_eq!(response.status(), 200, "a confirmed deletion");
    let deleted: Value = response.json().await.unwrap();
    assert_eq!(
        (&deleted["id"], &deleted["usersDeleted"]),
        (&json!("acme"), &json!(4)),
        "answered with what went: {deleted}"
    );

    let tables = server.write(|tx| muster_server::orgs::tables_with_org(tx).unwrap());
    assert!(
        tables.len() >= TABLES.len(),
        "the schema was read: {tables:?}"
    );
    for table in tables {
        assert_eq!(
            rows_of(&server, &table, "acme"),
            0,
            "nothing of acme is left in {table}"
        );
    }
    for table in TABLES {
        assert_eq!(
            rows_of(&server, table, "acme"),
            0,
            "nothing of acme is left in {table}"
        );
    }
    let orgs_left: i64 = server.write(|tx| {
        tx.query_row("SELECT COUNT(*) FROM orgs WHERE id = 'acme'", [], |row| {
            row.get(0)
        })
        .unwrap()
    });
    assert_eq!(orgs_left, 0, "the organisation and its settings are gone");
    let beta_after: Vec<i64> = TABLES
        .iter()
        .map(|table| rows_of(&server, table, "beta"))
        .collect();
    assert_eq!(beta_before, beta_after, "beta keeps every row");

    scim_error(server.get("/o/acme/scim/v2/Users", &root).await, 404).await;
    scim_error(
        server
            .post("/admin/orgs/acme/suspend", &root, &json!({}))
            .await,
        404,
    )
    .await;
    scim_error(attempt(Some(json!({"confirm": "acme"}))).await, 404).await;
    let response = server.get("/o/acme/scim/v2/Users", &api_token).await;
    assert_eq!(response.status(), 401, "its tokens are gone");
    let response = server.get("/o/beta/scim/v2/Users", &beta).await;
    assert_eq!(response.status(), 200, "beta works on");

    let audit = get_json(&server, "/admin/audit?target=acme", &root).await;
    let entry = &audit["entries"][0];
    assert_eq!(
        (&entry["action"], &entry["detail"]["usersDeleted"]),
        (&json!("org.delete"), &json!(4)),
        "the system log keeps the deletion: {audit}"
    );
    let list = get_json(&server, "/admin/orgs", &root).await;
    assert!(
        list["orgs"]
            .as_array()
            .unwrap()
            .iter()
            .all(|org| org["id"] != "acme"),
        "no longer listed: {list}"
    );
}

#[tokio::test]
async fn the_audit_log_keeps_its_rows_while_their_organisation_exists() {
    let World { server, .. } = world().await;
    server.sign_in(Some("acme"), "ada@acme.example").await;
    assert!(
        rows_of(&server, "audit", "acme") > 0,
        "acme has a signed-in entry"
    );
    let refused = server.write(|tx| {
        tx.execute("DELETE FROM audit WHERE org = 'acme'", [])
            .is_err()
    });
    assert!(
        refused,
        "rows of an existing organisation cannot be deleted"
    );
    let refused = server.write(|tx| {
        tx.execute("DELETE FROM audit WHERE org IS NULL", [])
            .is_err()
    });
    assert!(refused, "nor system-level rows");
}
