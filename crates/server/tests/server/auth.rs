//! Signing in over real HTTP: by email or userName, refusals that all look alike,
//! only active users, must-change passwords, system admins, malformed bodies.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::Value;

use crate::support::{
    NewUser, PASSWORD, TestServer, scim_error, seed_org, seed_system_admin, seed_user, set_status,
};

const WRONG: &str = "The email or password is incorrect.";

#[tokio::test]
async fn org_user_signs_in_by_email_or_user_name() {
    let server = TestServer::start().await;
    let acme = seed_org(&server, "acme");
    let response = server
        .sign_in_raw(Some("acme"), &acme.admin.email.to_uppercase(), PASSWORD)
        .await;
    assert_eq!(
        response.status(),
        200,
        "emails are matched case-insensitively"
    );
    assert_eq!(
        response.headers()["cache-control"],
        "no-store",
        "answers carrying tokens must not be cached"
    );
    let body: Value = response.json().await.unwrap();
    assert!(
        body["accessToken"].as_str().unwrap().starts_with("mst_at_"),
        "access prefix: {body}"
    );
    assert!(
        body["refreshToken"]
            .as_str()
            .unwrap()
            .starts_with("mst_rt_"),
        "refresh prefix"
    );
    assert_eq!(body["tokenType"], "Bearer", "OAuth-style token type");
    assert_eq!(
        body["expiresIn"], 900,
        "access tokens live 15 minutes by default"
    );
    assert_eq!(body["org"], acme.id.as_str(), "the org signed in to");
    assert_eq!(
        body["user"]["id"],
        acme.admin.id.as_str(),
        "the user who signed in"
    );
    assert_eq!(
        body["user"]["displayName"], "ada of acme",
        "display name from the doc"
    );
    assert_eq!(body["user"]["role"], "admin", "role from users.role");
    assert_eq!(
        body["user"]["systemAdmin"], false,
        "an org user is no system admin"
    );

    let by_name = server
        .sign_in_raw(Some("acme"), &acme.technician.user_name, PASSWORD)
        .await;
    assert_eq!(by_name.status(), 200, "the userName works as a login too");
    let body: Value = by_name.json().await.unwrap();
    assert_eq!(body["user"]["role"], "technician", "technicians sign in");
}

#[tokio::test]
async fn wrong_password_unknown_email_and_unknown_org_look_the_same() {
    let server = TestServer::start().await;
    let acme = seed_org(&server, "acme");
    let wrong_password = server
        .sign_in_raw(Some("acme"), &acme.admin.email, "nope")
        .await;
    let unknown_email = server
        .sign_in_raw(Some("acme"), "ghost@acme.example", PASSWORD)
        .await;
    let unknown_org = server
        .sign_in_raw(Some("nope"), &acme.admin.email, PASSWORD)
        .await;
    let other_org_user = server.sign_in_raw(None, &acme.admin.email, PASSWORD).await;
    for (case, response) in [
        ("wrong password", wrong_password),
        ("unknown email", unknown_email),
        ("unknown org", unknown_org),
        ("org user without org", other_org_user),
    ] {
        let body = scim_error(response, 401).await;
        assert_eq!(
            body["detail"], WRONG,
            "{case}: one message, so accounts cannot be probed"
        );
    }
}

#[tokio::test]
async fn only_active_users_sign_in() {
    let server = TestServer::start().await;
    let acme = seed_org(&server, "acme");
    let gone = seed_user(
        &server,
        "acme",
        NewUser {
            user_name: "gone",
            role: "admin",
            licence: "desk",
            active: false,
        },
    );
    let response = server
        .sign_in_raw(Some("acme"), &gone.email, PASSWORD)
        .await;
    let body = scim_error(response, 401).await;
    assert!(
        body["detail"].as_str().unwrap().contains("deactivated"),
        "a deactivated user is told why: {body}"
    );
    for (status, says) in [
        ("invited", "invitation"),
        ("suspended", "suspended"),
        ("deleted", "deleted"),
    ] {
        set_status(&server, "acme", &acme.viewer.id, status);
        let response = server
            .sign_in_raw(Some("acme"), &acme.viewer.email, PASSWORD)
            .await;
        let body = scim_error(response, 401).await;
        let detail = body["detail"].as_str().unwrap();
        assert!(
            detail.contains("not active") && detail.contains(says),
            "{status}: only status 'active' signs in, and the detail says why: {body}"
        );
    }
    let response = server
        .sign_in_raw(Some("acme"), &acme.viewer.email, "wrong")
        .await;
    let body = scim_error(response, 401).await;
    assert_eq!(
        body["detail"], WRONG,
        "the status is only told to someone who knows the password"
    );
    set_status(&server, "acme", &acme.viewer.id, "active");
    let response = server
        .sign_in_raw(Some("acme"), &acme.viewer.email, PASSWORD)
        .await;
    assert_eq!(response.status(), 200, "active again, signs in again");
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        body["mustChangePassword"], false,
        "the answer says whether a new password is due: {body}"
    );
}

#[tokio::test]
async fn sign_in_says_when_the_password_must_change() {
    let server = TestServer::start().await;
    let acme = seed_org(&server, "acme");
    server.write(|tx| {
        tx.execute(
            "UPDATE users SET must_change_password = 1 WHERE id = ?1",
            [&acme.admin.id],
        )
        .unwrap()
    });
    let body: Value = server
        .sign_in_raw(Some("acme"), &acme.admin.email, PASSWORD)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        body["mustChangePassword"], true,
        "an admin-set password must be changed: {body}"
    );
}

#[tokio::test]
async fn a_system_admin_signs_in_through_any_organisation() {
    let server = TestServer::start().await;
    seed_org(&server, "acme");
    let email = seed_system_admin(&server);
    let answer: Value = server
        .sign_in_raw(Some("acme"), &email, PASSWORD)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        answer["user"]["systemAdmin"], true,
        "clients always name an org; admins still get in"
    );
    let token = answer["accessToken"].as_str().unwrap();
    assert_eq!(
        server.get("/admin/orgs", token).await.status(),
        200,
        "with system admin rights"
    );
    let wrong = server
        .sign_in_raw(Some("acme"), &email, "not-the-password")
        .await;
    assert_eq!(wrong.status(), 401, "the password still has to be right");
}

#[tokio::test]
async fn malformed_bodies_get_scim_errors() {
    let server = TestServer::start().await;
    let post = |body: &'static str, content_type: &'static str| {
        server
            .client
            .post(server.url("/auth/token"))
            .header("content-type", content_type)
            .body(body)
            .send()
    };
    let body = scim_error(post("{\"email\": ", "application/json").await.unwrap(), 400).await;
    assert_eq!(
        body["scimType"], "invalidSyntax",
        "broken JSON is invalidSyntax: {body}"
    );
    let body = scim_error(
        post("{\"email\": \"a@b\"}", "application/json")
            .await
            .unwrap(),
        400,
    )
    .await;
    assert!(
        body["detail"].as_str().unwrap().contains("password"),
        "names the missing field: {body}"
    );
    let body = scim_error(post("", "application/json").await.unwrap(), 400).await;
    assert_eq!(
        body["scimType"], "invalidSyntax",
        "an empty body is invalidSyntax"
    );
    scim_error(
        post("email=a", "application/x-www-form-urlencoded")
            .await
            .unwrap(),
        415,
    )
    .await;
    let response = server
        .client
        .post(server.url("/auth/token"))
        .body("{\"email\": \"a@b\", \"password\": \"x\"}")
        .send()
        .await
        .unwrap();
    scim_error(response, 401).await;
}
