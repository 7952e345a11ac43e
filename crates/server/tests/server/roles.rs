//! Who reaches what, over real HTTP: roles decide reading and writing, org users stay
//! in their organisation, system admins reach and create every one.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::{Value, json};

use crate::support::{PASSWORD, TestServer, Tokens, scim_error, seed_org, seed_system_admin};

#[tokio::test]
async fn roles_decide_reading_and_writing() {
    let server = TestServer::start().await;
    let acme = seed_org(&server, "acme");
    let technician = server.sign_in(Some("acme"), &acme.technician.email).await;
    let body = scim_error(
        server.get("/o/acme/api-tokens", &technician.access).await,
        403,
    )
    .await;
    assert_eq!(
        body["detail"],
        "Technicians do not see or manage accounts in Muster: an admin manages them, and support staff (viewers) review them.",
        "technicians"
    );

    let viewer = server.sign_in(Some("acme"), &acme.viewer.email).await;
    let response = server.get("/o/acme/api-tokens", &viewer.access).await;
    assert_eq!(response.status(), 200, "viewers read");
    let body = json!({"userId": acme.viewer.id, "name": "x"});
    let error = scim_error(
        server
            .post("/o/acme/api-tokens", &viewer.access, &body)
            .await,
        403,
    )
    .await;
    assert_eq!(
        error["detail"], "Viewers have read-only access.",
        "viewers do not write"
    );

    // Promoting the viewer in the table takes effect on their next request.
    server.write(|tx| {
        tx.execute(
            "UPDATE users SET role = 'technician' WHERE id = ?1",
            [&acme.viewer.id],
        )
        .unwrap()
    });
    scim_error(server.get("/o/acme/api-tokens", &viewer.access).await, 403).await;
}

#[tokio::test]
async fn org_users_stay_in_their_org_and_system_admins_reach_all() {
    let server = TestServer::start().await;
    let acme = seed_org(&server, "acme");
    seed_org(&server, "bolt");
    let admin = server.sign_in(Some("acme"), &acme.admin.email).await;
    for org in ["bolt", "nope"] {
        let body = scim_error(
            server
                .get(&format!("/o/{org}/api-tokens"), &admin.access)
                .await,
            403,
        )
        .await;
        assert_eq!(
            body["detail"], "This token belongs to organisation acme.",
            "{org}: the same 403 whether or not the org exists"
        );
    }

    let root = seed_system_admin(&server);
    let response = server.sign_in_raw(None, &root, PASSWORD).await;
    assert_eq!(
        response.status(),
        200,
        "system admins sign in without an org"
    );
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        body["user"]["systemAdmin"], true,
        "flagged as a system admin: {body}"
    );
    assert_eq!(body["org"], Value::Null, "no org");
    let root = Tokens::from_answer(&body);
    for org in ["acme", "bolt"] {
        let response = server
            .get(&format!("/o/{org}/api-tokens"), &root.access)
            .await;
        assert_eq!(response.status(), 200, "system admins reach {org}");
    }
    let body = scim_error(server.get("/o/nope/api-tokens", &root.access).await, 404).await;
    assert_eq!(
        body["detail"], "There is no organisation 'nope'.",
        "unknown org for a sysadmin"
    );
    let response = server
        .client
        .get(server.url("/o/nope/api-tokens"))
        .send()
        .await
        .unwrap();
    scim_error(response, 401).await;
}

#[tokio::test]
async fn system_admins_list_and_create_orgs() {
    let server = TestServer::start().await;
    let acme = seed_org(&server, "acme");
    let root = seed_system_admin(&server);
    let root = server.sign_in(None, &root).await;
    let listed: Value = server
        .get("/admin/orgs", &root.access)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(listed["orgs"][0]["id"], "acme", "orgs are listed: {listed}");
    assert_eq!(listed["orgs"][0]["userCount"], 3, "with their user counts");
    assert_eq!(
        listed["orgs"][0]["created"], "2030-01-01T09:00:00Z",
        "and creation time"
    );

    let response = server
        .post(
            "/admin/orgs",
            &root.access,
            &json!({"id": "cog", "name": "Cog HVAC"}),
        )
        .await;
    assert_eq!(response.status(), 201, "system admins create orgs");
    let response = server
        .post(
            "/admin/orgs",
            &root.access,
            &json!({"id": "cog", "name": "Again"}),
        )
        .await;
    let body = scim_error(response, 409).await;
    assert_eq!(body["scimType"], "uniqueness", "org ids are unique");
    let response = server
        .post(
            "/admin/orgs",
            &root.access,
            &json!({"id": "Bad Id", "name": "x"}),
        )
        .await;
    scim_error(response, 400).await;

    let admin = server.sign_in(Some("acme"), &acme.admin.email).await;
    scim_error(server.get("/admin/orgs", &admin.access).await, 403).await;
}
