//! Tokens and sessions over real HTTP: access and refresh tokens expire, refresh
//! rotates and a reused refresh token revokes its session, logout, status changes that
//! cut access on the next call, refused tokens, and tokens stored only as hashes.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::{Value, json};
use time::Duration;

use crate::support::{NewUser, TestServer, Tokens, scim_error, seed_org, seed_user, set_status};

#[tokio::test]
async fn status_changes_cut_access_refresh_and_api_tokens_on_the_next_call() {
    for status in ["suspended", "deactivated", "deleted", "invited"] {
        let server = TestServer::start().await;
        let acme = seed_org(&server, "acme");
        let robot = seed_user(
            &server,
            "acme",
            NewUser {
                user_name: "robot",
                role: "admin",
                licence: "api",
                active: true,
            },
        );
        let admin = server.sign_in(Some("acme"), &acme.admin.email).await;
        let created: Value = server
            .post(
                "/o/acme/api-tokens",
                &admin.access,
                &json!({"userId": robot.id, "name": "sync"}),
            )
            .await
            .json()
            .await
            .unwrap();
        let api = created["token"].as_str().unwrap().to_owned();
        let user = server.sign_in(Some("acme"), &acme.admin.email).await;
        for token in [&user.access, &api] {
            assert_eq!(
                server.get("/o/acme/api-tokens", token).await.status(),
                200,
                "works while active"
            );
        }

        set_status(&server, "acme", &acme.admin.id, status);
        set_status(&server, "acme", &robot.id, status);
        for (what, token) in [("access token", &user.access), ("API token", &api)] {
            let body = scim_error(server.get("/o/acme/api-tokens", token).await, 401).await;
            assert!(
                body["detail"].as_str().unwrap().contains("not active"),
                "{status}, {what}: refused on the very next call, saying why: {body}"
            );
        }
        let body = scim_error(server.refresh(&user.refresh).await, 401).await;
        assert!(
            body["detail"].as_str().unwrap().contains("not active"),
            "{status}: refresh is refused too: {body}"
        );
        set_status(&server, "acme", &acme.admin.id, "active");
        scim_error(server.refresh(&user.refresh).await, 401).await;
        let response = server.get("/o/acme/api-tokens", &user.access).await;
        assert_eq!(
            response.status(),
            401,
            "{status}: a refused refresh signed the session out for good"
        );
    }
}

#[tokio::test]
async fn access_tokens_expire() {
    let server = TestServer::start().await;
    let acme = seed_org(&server, "acme");
    let tokens = server.sign_in(Some("acme"), &acme.admin.email).await;
    server.advance(Duration::minutes(14));
    let response = server.get("/o/acme/api-tokens", &tokens.access).await;
    assert_eq!(
        response.status(),
        200,
        "an access token works within its 15 minutes"
    );
    server.advance(Duration::minutes(2));
    let body = scim_error(server.get("/o/acme/api-tokens", &tokens.access).await, 401).await;
    assert_eq!(
        body["detail"], "The access token has expired; refresh it or sign in again.",
        "an expired token is told apart from a bad one"
    );
    let response = server.refresh(&tokens.refresh).await;
    assert_eq!(
        response.status(),
        200,
        "the refresh token outlives the access token"
    );
}

#[tokio::test]
async fn refresh_rotates_and_reuse_revokes_the_session() {
    let server = TestServer::start().await;
    let acme = seed_org(&server, "acme");
    let first = server.sign_in(Some("acme"), &acme.admin.email).await;
    let response = server.refresh(&first.refresh).await;
    assert_eq!(response.status(), 200, "a fresh refresh token refreshes");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["user"]["id"], acme.admin.id.as_str(), "the same user");
    let second = Tokens::from_answer(&body);
    assert_ne!(second.refresh, first.refresh, "refresh tokens rotate");
    assert_eq!(
        server
            .get("/o/acme/api-tokens", &second.access)
            .await
            .status(),
        200,
        "new works"
    );

    let body = scim_error(server.refresh(&first.refresh).await, 401).await;
    assert!(
        body["detail"].as_str().unwrap().contains("already used"),
        "reuse is named: {body}"
    );
    for (what, response) in [
        (
            "new access token",
            server.get("/o/acme/api-tokens", &second.access).await,
        ),
        ("new refresh token", server.refresh(&second.refresh).await),
        (
            "old access token",
            server.get("/o/acme/api-tokens", &first.access).await,
        ),
    ] {
        assert_eq!(
            response.status(),
            401,
            "{what}: reuse of a rotated token revokes the session"
        );
    }
}

#[tokio::test]
async fn refresh_tokens_expire_and_cannot_be_bearer_tokens() {
    let server = TestServer::start().await;
    let acme = seed_org(&server, "acme");
    let tokens = server.sign_in(Some("acme"), &acme.admin.email).await;
    let body = scim_error(server.get("/o/acme/api-tokens", &tokens.refresh).await, 401).await;
    assert!(
        body["detail"].as_str().unwrap().contains("refresh token"),
        "says why: {body}"
    );
    server.advance(Duration::days(31));
    let body = scim_error(server.refresh(&tokens.refresh).await, 401).await;
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .contains("end of its lifetime"),
        "a session, and so its refresh token, lives 30 days: {body}"
    );
    let body = scim_error(server.refresh("mst_rt_forged").await, 401).await;
    assert!(
        body["detail"].as_str().unwrap().contains("not valid"),
        "unknown token: {body}"
    );
}

#[tokio::test]
async fn logout_cuts_every_token_of_the_session() {
    let server = TestServer::start().await;
    let acme = seed_org(&server, "acme");
    let tokens = server.sign_in(Some("acme"), &acme.admin.email).await;
    let other = server.sign_in(Some("acme"), &acme.admin.email).await;
    let response = server
        .client
        .post(server.url("/auth/logout"))
        .bearer_auth(&tokens.access)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204, "logout with the access token");
    scim_error(server.get("/o/acme/api-tokens", &tokens.access).await, 401).await;
    scim_error(server.refresh(&tokens.refresh).await, 401).await;
    let response = server.get("/o/acme/api-tokens", &other.access).await;
    assert_eq!(
        response.status(),
        200,
        "other sessions of the same user are untouched"
    );

    let body = json!({"refreshToken": other.refresh});
    let response = server
        .client
        .post(server.url("/auth/logout"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.status(),
        204,
        "logout with the refresh token in the body"
    );
    scim_error(server.get("/o/acme/api-tokens", &other.access).await, 401).await;
}

#[tokio::test]
async fn missing_forged_and_malformed_tokens_are_refused() {
    let server = TestServer::start().await;
    seed_org(&server, "acme");
    let response = server
        .client
        .get(server.url("/o/acme/api-tokens"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.headers()["www-authenticate"],
        "Bearer realm=\"muster\"",
        "401s name the scheme"
    );
    let body = scim_error(response, 401).await;
    assert_eq!(
        body["detail"], "Sign in first: this endpoint needs a bearer token.",
        "no token"
    );
    let forged = format!("mst_at_{}", "A".repeat(43));
    scim_error(server.get("/o/acme/api-tokens", &forged).await, 401).await;
    let response = server
        .client
        .get(server.url("/o/acme/api-tokens"))
        .header("authorization", "Basic dXNlcjpwYXNz")
        .send()
        .await
        .unwrap();
    scim_error(response, 401).await;
}

#[tokio::test]
async fn bearer_scheme_is_case_insensitive() {
    let server = TestServer::start().await;
    let acme = seed_org(&server, "acme");
    let tokens = server.sign_in(Some("acme"), &acme.admin.email).await;
    let response = server
        .client
        .get(server.url("/o/acme/api-tokens"))
        .header("authorization", format!("bearer {}", tokens.access))
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.status(),
        200,
        "RFC 7235 schemes are case-insensitive"
    );
}

#[tokio::test]
async fn tokens_are_stored_only_as_hashes() {
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
    let tokens = server.sign_in(Some("acme"), &acme.admin.email).await;
    let body = json!({"userId": robot.id, "name": "sync"});
    let created: Value = server
        .post("/o/acme/api-tokens", &tokens.access, &body)
        .await
        .json()
        .await
        .unwrap();
    let api = created["token"].as_str().unwrap().to_owned();
    let stored: Vec<String> = server.write(|tx| {
        let mut statement = tx
            .prepare(
                "SELECT hash || '|' || COALESCE(id, '') || '|' || COALESCE(name, '') FROM tokens",
            )
            .unwrap();
        statement
            .query_map([], |row| row.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    });
    assert_eq!(
        stored.len(),
        3,
        "an access, a refresh and an API token: {stored:?}"
    );
    for secret in [&tokens.access, &tokens.refresh, &api] {
        let random_part = secret.splitn(3, '_').nth(2).unwrap();
        assert!(
            stored.iter().all(|row| !row.contains(random_part)),
            "no plaintext token may be stored: {stored:?}"
        );
        let hash = muster_server_hash(secret);
        assert!(
            stored.iter().any(|row| row.starts_with(&hash)),
            "its SHA-256 is the key"
        );
    }
}

fn muster_server_hash(token: &str) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
