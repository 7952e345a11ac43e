//! Sign-in, tokens, sessions, API tokens and role checks, over real HTTP.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::{Value, json};
use time::Duration;

use crate::support::{
    NewUser, PASSWORD, TestServer, Tokens, scim_error, seed_org, seed_system_admin, seed_user,
    set_status,
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
        body["detail"], "Technicians cannot manage users; ask an admin.",
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
