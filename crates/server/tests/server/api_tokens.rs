//! API tokens over real HTTP: issued to API-licence users, listed without secrets,
//! used, revoked, and expiring when given an expiry.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::{Value, json};
use time::Duration;

use crate::support::{NewUser, TestServer, scim_error, seed_org, seed_user};

#[tokio::test]
async fn api_tokens_are_issued_listed_used_and_revoked() {
    let server = TestServer::start().await;
    let acme = seed_org(&server, "acme");
    let robot = seed_user(
        &server,
        "acme",
        NewUser {
            user_name: "robot",
            role: "viewer",
            licence: "API",
            active: true,
        },
    );
    let admin = server.sign_in(Some("acme"), &acme.admin.email).await;
    let body = json!({"userId": robot.id, "name": "Payroll sync"});
    let response = server
        .post("/o/acme/api-tokens", &admin.access, &body)
        .await;
    assert_eq!(
        response.status(),
        201,
        "an admin issues a token for an API-licence user"
    );
    let created: Value = response.json().await.unwrap();
    let token = created["token"].as_str().unwrap().to_owned();
    assert!(token.starts_with("mst_api_"), "API prefix: {created}");
    assert_eq!(created["userId"], robot.id.as_str(), "acts as the API user");
    assert_eq!(created["name"], "Payroll sync", "named");
    let id = created["id"].as_str().unwrap().to_owned();

    let response = server.get("/o/acme/api-tokens", &token).await;
    assert_eq!(
        response.status(),
        200,
        "the API token authenticates its (viewer) user"
    );
    let listed: Value = response.json().await.unwrap();
    assert_eq!(
        listed["tokens"][0]["id"],
        id.as_str(),
        "the token is listed: {listed}"
    );
    assert!(
        !listed.to_string().contains(&token),
        "listings never show the secret"
    );

    let listed = &listed["tokens"][0];
    assert_eq!(listed["scope"], "read", "read-only unless asked: {listed}");
    assert_eq!(listed["createdBy"], "ada", "who issued it: {listed}");
    assert_eq!(
        listed["lastUsedAt"],
        muster_server::auth::stamp(server.now()),
        "when it was last used: {listed}"
    );

    let response = server
        .client
        .delete(server.url(&format!("/o/acme/api-tokens/{id}")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.status(),
        403,
        "a viewer's API token cannot revoke tokens"
    );
    let admin = server.sign_in(Some("acme"), &acme.admin.email).await;
    let delete = |id: String| {
        server
            .client
            .delete(server.url(&format!("/o/acme/api-tokens/{id}")))
            .bearer_auth(&admin.access)
            .send()
    };
    assert_eq!(
        delete(id.clone()).await.unwrap().status(),
        204,
        "an admin revokes it"
    );
    scim_error(server.get("/o/acme/api-tokens", &token).await, 401).await;
    scim_error(delete(id).await.unwrap(), 404).await;
}

#[tokio::test]
async fn api_tokens_need_an_api_licence_user_and_a_sane_body() {
    let server = TestServer::start().await;
    let acme = seed_org(&server, "acme");
    let admin = server.sign_in(Some("acme"), &acme.admin.email).await;
    let cases = [
        (
            json!({"userId": acme.viewer.id, "name": "x"}),
            "API licence",
        ),
        (json!({"userId": "nobody", "name": "x"}), "no user"),
        (json!({"userId": acme.viewer.id, "name": " "}), "name"),
        (
            json!({"userId": acme.viewer.id, "name": "x", "expiresAt": "soon"}),
            "RFC 3339",
        ),
    ];
    for (body, expected) in cases {
        let error = scim_error(
            server
                .post("/o/acme/api-tokens", &admin.access, &body)
                .await,
            400,
        )
        .await;
        assert_eq!(
            error["scimType"], "invalidValue",
            "bad token requests are invalidValue"
        );
        let detail = error["detail"].as_str().unwrap();
        assert!(
            detail.contains(expected),
            "{body}: the detail says what is wrong: {detail}"
        );
    }
}

#[tokio::test]
async fn api_tokens_with_an_expiry_expire() {
    let server = TestServer::start().await;
    let acme = seed_org(&server, "acme");
    let robot = seed_user(
        &server,
        "acme",
        NewUser {
            user_name: "robot",
            role: "viewer",
            licence: "api",
            active: true,
        },
    );
    let admin = server.sign_in(Some("acme"), &acme.admin.email).await;
    let body = json!({"userId": robot.id, "name": "trial", "expiresAt": "2030-01-02T09:00:00Z"});
    let created: Value = server
        .post("/o/acme/api-tokens", &admin.access, &body)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        created["expiresAt"], "2030-01-02T09:00:00Z",
        "the expiry is echoed: {created}"
    );
    let token = created["token"].as_str().unwrap();
    assert_eq!(
        server.get("/o/acme/api-tokens", token).await.status(),
        200,
        "valid for a day"
    );
    server.advance(Duration::days(2));
    scim_error(server.get("/o/acme/api-tokens", token).await, 401).await;
}
