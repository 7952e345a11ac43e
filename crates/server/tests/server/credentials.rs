//! Credentials against a stolen token: recent sign-in for changes to anyone's
//! credentials, no changes to one's own through the admin endpoints, one's own password
//! and two-factor behind the current password, must-change enforced, session lifetimes,
//! access ended with credentials, API token scope and expiry.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::{Value, json};
use time::Duration;

use crate::mfa::{code_at, enable_mfa};
use crate::support::{
    NewUser, PASSWORD, SHOP, TestServer, Tokens, scim_error, seed_org, seed_user,
};

const NEW_PASSWORD: &str = "Juniper-Canoe-71-lattice";

fn user_path(id: &str) -> String {
    format!("/o/acme/scim/v2/Users/{id}")
}

fn action_path(id: &str, action: &str) -> String {
    format!("/o/acme/scim/v2/Users/{id}/actions/{action}")
}

fn set_password_body(password: &str) -> Value {
    json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
           "Operations": [{"op": "replace", "path": "password", "value": password}]})
}

/// An API-licence integration account of acme.
fn seed_robot(server: &TestServer) -> crate::support::User {
    seed_user(
        server,
        "acme",
        NewUser {
            user_name: "robot",
            role: "admin",
            licence: "api",
            active: true,
        },
    )
}

async fn issue_token(server: &TestServer, admin: &str, user_id: &str, extra: Value) -> Value {
    let mut body = json!({"userId": user_id, "name": "Identity provider"});
    if let (Some(body), Some(extra)) = (body.as_object_mut(), extra.as_object()) {
        body.extend(extra.clone());
    }
    let response = server.post("/o/acme/api-tokens", admin, &body).await;
    assert_eq!(response.status(), 201, "issued");
    response.json().await.unwrap()
}

/// How many API tokens acme has.
async fn token_count(server: &TestServer, admin: &str) -> usize {
    let list: Value = server
        .get("/o/acme/api-tokens", admin)
        .await
        .json()
        .await
        .unwrap();
    list["tokens"].as_array().unwrap().len()
}

#[tokio::test]
async fn a_stolen_token_cannot_set_passwords_once_the_sign_in_is_ten_minutes_old() {
    let server = TestServer::start().await;
    let acme = seed_org(&server, "acme");
    let robot = seed_robot(&server);
    let admin = server.sign_in(Some("acme"), &acme.admin.email).await;
    // Eleven minutes on, the access token (15 minutes) still works...
    server.advance(Duration::minutes(11));
    assert_eq!(
        server.get("/o/acme/settings", &admin.access).await.status(),
        200
    );
    // ...but not for credentials: a password set, through the action or SCIM, or an API
    // token.
    let attempts = [
        server
            .post(
                &action_path(&acme.technician.id, "set-password"),
                &admin.access,
                &json!({"password": NEW_PASSWORD}),
            )
            .await,
        server
            .patch(
                &user_path(&acme.technician.id),
                &admin.access,
                &set_password_body(NEW_PASSWORD),
            )
            .await,
        server
            .post(
                "/o/acme/api-tokens",
                &admin.access,
                &json!({"userId": robot.id, "name": "backdoor"}),
            )
            .await,
    ];
    for response in attempts {
        let body = scim_error(response, 403).await;
        assert_eq!(body["scimType"], "reauthenticate", "{body}");
    }
    // A wrong password does not renew the sign-in; the right one does.
    let wrong = server
        .post(
            "/auth/reauthenticate",
            &admin.access,
            &json!({"password": "Not-the-password-1"}),
        )
        .await;
    scim_error(wrong, 400).await;
    let right = server
        .post(
            "/auth/reauthenticate",
            &admin.access,
            &json!({"password": PASSWORD}),
        )
        .await;
    assert_eq!(right.status(), 204);
    let response = server
        .post(
            &action_path(&acme.technician.id, "set-password"),
            &admin.access,
            &json!({"password": NEW_PASSWORD}),
        )
        .await;
    assert_eq!(response.status(), 200, "after re-authentication");
    let actions: Value = server
        .get("/o/acme/scim/v2/actions", &admin.access)
        .await
        .json()
        .await
        .unwrap();
    let set_password = actions["actions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|action| action["name"] == "set-password")
        .unwrap();
    assert_eq!(set_password["recentSignIn"], true, "clients are told");
}

#[tokio::test]
async fn nobody_changes_their_own_credentials_through_the_admin_endpoints() {
    let server = TestServer::start().await;
    let acme = seed_org(&server, "acme");
    let admin = server.sign_in(Some("acme"), &acme.admin.email).await;
    let own = user_path(&acme.admin.id);
    let changes = [
        (
            json!({"op": "replace", "path": "emails", "value": [{"value": "mine@elsewhere.example", "primary": true}]}),
            "email",
        ),
        (
            json!({"op": "replace", "path": format!("{SHOP}:licence"), "value": "timesheet"}),
            "licence",
        ),
        (
            json!({"op": "replace", "path": "password", "value": NEW_PASSWORD}),
            "current password",
        ),
    ];
    for (operation, named) in changes {
        let body = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                          "Operations": [operation]});
        let error = scim_error(server.patch(&own, &admin.access, &body).await, 403).await;
        assert!(
            error["detail"].as_str().unwrap().contains(named),
            "{named}: {error}"
        );
    }
    // An API-licence admin cannot mint a token for itself.
    let robot = seed_robot(&server);
    let robot_session = server.sign_in(Some("acme"), &robot.email).await;
    let error = scim_error(
        server
            .post(
                "/o/acme/api-tokens",
                &robot_session.access,
                &json!({"userId": robot.id, "name": "mine"}),
            )
            .await,
        403,
    )
    .await;
    assert!(error["detail"].as_str().unwrap().contains("oneself"));
}

#[tokio::test]
async fn ones_own_password_changes_with_the_current_one_and_ends_other_sessions() {
    let server = TestServer::start().await;
    let acme = seed_org(&server, "acme");
    let this = server.sign_in(Some("acme"), &acme.admin.email).await;
    let other = server.sign_in(Some("acme"), &acme.admin.email).await;
    let change = |current: &str, new: &str| json!({"currentPassword": current, "newPassword": new});
    let wrong = server
        .post(
            "/auth/password",
            &this.access,
            &change("Not-the-password-1", NEW_PASSWORD),
        )
        .await;
    scim_error(wrong, 400).await;
    let same = server
        .post("/auth/password", &this.access, &change(PASSWORD, PASSWORD))
        .await;
    scim_error(same, 400).await;
    let weak = server
        .post(
            "/auth/password",
            &this.access,
            &change(PASSWORD, "password1"),
        )
        .await;
    scim_error(weak, 400).await;

    let changed = server
        .post(
            "/auth/password",
            &this.access,
            &change(PASSWORD, NEW_PASSWORD),
        )
        .await;
    assert_eq!(changed.status(), 204);
    scim_error(server.get("/o/acme/settings", &other.access).await, 401).await;
    assert_eq!(
        server.refresh(&other.refresh).await.status(),
        401,
        "the other session is over"
    );
    assert_eq!(
        server.get("/o/acme/settings", &this.access).await.status(),
        200,
        "this one goes on"
    );
    assert_eq!(
        server
            .sign_in_raw(Some("acme"), &acme.admin.email, PASSWORD)
            .await
            .status(),
        401,
        "the old password is gone"
    );
    assert_eq!(
        server
            .sign_in_raw(Some("acme"), &acme.admin.email, NEW_PASSWORD)
            .await
            .status(),
        200
    );
}

#[tokio::test]
async fn with_two_factor_on_a_code_is_needed_too_and_turning_it_off_takes_both() {
    let server = TestServer::start().await;
    let acme = seed_org(&server, "acme");
    let tokens = server.sign_in(Some("acme"), &acme.viewer.email).await;
    let secret = enable_mfa(&server, &tokens.access).await;
    server.advance(Duration::seconds(30));
    let without_code = server
        .post(
            "/auth/reauthenticate",
            &tokens.access,
            &json!({"password": PASSWORD}),
        )
        .await;
    let body = scim_error(without_code, 400).await;
    assert!(body["detail"].as_str().unwrap().contains("code"), "{body}");
    let code = code_at(&secret, server.now());
    let with_code = server
        .post(
            "/auth/reauthenticate",
            &tokens.access,
            &json!({"password": PASSWORD, "code": code}),
        )
        .await;
    assert_eq!(with_code.status(), 204);
    let replayed = server
        .post(
            "/auth/mfa/disable",
            &tokens.access,
            &json!({"password": PASSWORD, "code": code}),
        )
        .await;
    scim_error(replayed, 400).await;
    server.advance(Duration::seconds(30));
    let off = server
        .post(
            "/auth/mfa/disable",
            &tokens.access,
            &json!({"password": PASSWORD, "code": code_at(&secret, server.now())}),
        )
        .await;
    assert_eq!(off.status(), 200);
    let response = server
        .sign_in_raw(Some("acme"), &acme.viewer.email, PASSWORD)
        .await;
    let answer: Value = response.json().await.unwrap();
    assert!(
        answer["accessToken"].is_string(),
        "no code is asked any more: {answer}"
    );
}

#[tokio::test]
async fn a_password_set_by_an_admin_must_be_changed_before_anything_else() {
    let server = TestServer::start().await;
    let acme = seed_org(&server, "acme");
    let admin = server.sign_in(Some("acme"), &acme.admin.email).await;
    let set = server
        .post(
            &action_path(&acme.viewer.id, "set-password"),
            &admin.access,
            &json!({"password": NEW_PASSWORD}),
        )
        .await;
    assert_eq!(set.status(), 200);
    let response = server
        .sign_in_raw(Some("acme"), &acme.viewer.email, NEW_PASSWORD)
        .await;
    let answer: Value = response.json().await.unwrap();
    assert_eq!(answer["mustChangePassword"], true, "{answer}");
    let vera = Tokens::from_answer(&answer);
    let body = scim_error(server.get("/o/acme/scim/v2/Users", &vera.access).await, 403).await;
    assert_eq!(body["scimType"], "mustChangePassword", "{body}");
    scim_error(server.get("/o/acme/settings", &vera.access).await, 403).await;

    let chosen = "Harbour-Tulip-58-meadow";
    let changed = server
        .post(
            "/auth/password",
            &vera.access,
            &json!({"currentPassword": NEW_PASSWORD, "newPassword": chosen}),
        )
        .await;
    assert_eq!(changed.status(), 204);
    assert_eq!(
        server
            .get("/o/acme/scim/v2/Users", &vera.access)
            .await
            .status(),
        200,
        "everything else is open again"
    );
    assert_eq!(
        server
            .sign_in_raw(Some("acme"), &acme.viewer.email, NEW_PASSWORD)
            .await
            .status(),
        401,
        "the admin-set password stopped working"
    );
}

#[tokio::test]
async fn sessions_end_at_their_lifetime_and_after_a_week_unused() {
    let server = TestServer::start().await;
    let acme = seed_org(&server, "acme");
    let mut tokens = server.sign_in(Some("acme"), &acme.admin.email).await;
    for _ in 0..4 {
        server.advance(Duration::days(6));
        let response = server.refresh(&tokens.refresh).await;
        assert_eq!(response.status(), 200, "in use, within 30 days");
        tokens = Tokens::from_answer(&response.json().await.unwrap());
    }
    server.advance(Duration::days(6));
    let ended = scim_error(server.refresh(&tokens.refresh).await, 401).await;
    assert!(
        ended["detail"].as_str().unwrap().contains("lifetime"),
        "30 days after sign-in, however used: {ended}"
    );

    let idle = server.sign_in(Some("acme"), &acme.admin.email).await;
    server.advance(Duration::days(7));
    let ended = scim_error(server.refresh(&idle.refresh).await, 401).await;
    assert!(
        ended["detail"].as_str().unwrap().contains("without use"),
        "{ended}"
    );

    // The organisation sets its own.
    let admin = server.sign_in(Some("acme"), &acme.admin.email).await;
    let response = server
        .patch(
            "/o/acme/settings",
            &admin.access,
            &json!({"sessionDays": 1, "sessionIdleDays": 1}),
        )
        .await;
    assert_eq!(response.status(), 200);
    let short = server.sign_in(Some("acme"), &acme.admin.email).await;
    server.advance(Duration::hours(12));
    let response = server.refresh(&short.refresh).await;
    assert_eq!(response.status(), 200);
    let short = Tokens::from_answer(&response.json().await.unwrap());
    server.advance(Duration::hours(13));
    scim_error(server.refresh(&short.refresh).await, 401).await;
}

#[tokio::test]
async fn credential_changes_end_sessions_and_api_tokens() {
    let server = TestServer::start().await;
    let acme = seed_org(&server, "acme");
    let robot = seed_robot(&server);
    let admin = server.sign_in(Some("acme"), &acme.admin.email).await;
    let email_change = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "replace", "path": "emails",
                        "value": [{"value": "robot@idp.example", "primary": true}]}]});
    let changes: [(&str, Option<Value>); 3] = [
        ("revoke-sessions", None),
        ("set-password", Some(json!({"password": NEW_PASSWORD}))),
        ("email", Some(email_change)),
    ];
    // Signed in by userName, which the email change leaves alone.
    let mut password = PASSWORD;
    for (change, body) in changes {
        let created = issue_token(
            &server,
            &admin.access,
            &robot.id,
            json!({"scope": "provision"}),
        )
        .await;
        let token = created["token"].as_str().unwrap();
        let session = server.sign_in_raw(Some("acme"), "robot", password).await;
        assert_eq!(session.status(), 200, "{change}");
        let session = Tokens::from_answer(&session.json().await.unwrap());
        assert_eq!(token_count(&server, &admin.access).await, 1);
        let response = match change {
            "email" => {
                server
                    .patch(&user_path(&robot.id), &admin.access, &body.unwrap())
                    .await
            }
            action => {
                server
                    .post(
                        &action_path(&robot.id, action),
                        &admin.access,
                        &body.unwrap_or_else(|| json!({})),
                    )
                    .await
            }
        };
        assert_eq!(response.status(), 200, "{change}");
        assert_eq!(
            token_count(&server, &admin.access).await,
            0,
            "{change}: the API token is gone"
        );
        scim_error(server.get("/o/acme/scim/v2/Users", token).await, 401).await;
        scim_error(server.get("/o/acme/settings", &session.access).await, 401).await;
        if change == "set-password" {
            // As if its holder had chosen it, for the next round.
            server.write(|tx| {
                tx.execute(
                    "UPDATE users SET must_change_password = 0 WHERE id = ?1",
                    [&robot.id],
                )
                .unwrap()
            });
            password = NEW_PASSWORD;
        }
    }
}

#[tokio::test]
async fn api_tokens_are_read_only_unless_they_provision_and_expire_within_a_year() {
    let server = TestServer::start().await;
    let acme = seed_org(&server, "acme");
    let robot = seed_robot(&server);
    let admin = server.sign_in(Some("acme"), &acme.admin.email).await;
    let read = issue_token(&server, &admin.access, &robot.id, json!({})).await;
    assert_eq!(read["scope"], "read");
    assert_eq!(
        read["expiresAt"],
        muster_server::auth::stamp(server.now() + Duration::days(90)),
        "90 days unless chosen"
    );
    let read = read["token"].as_str().unwrap().to_owned();
    let provision = issue_token(
        &server,
        &admin.access,
        &robot.id,
        json!({"scope": "provision"}),
    )
    .await["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let new_user = |name: &str| {
        json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": name,
               "emails": [{"value": format!("{name}@acme.example"), "primary": true}]})
    };
    assert_eq!(
        server.get("/o/acme/scim/v2/Users", &read).await.status(),
        200
    );
    let refused = scim_error(
        server
            .post("/o/acme/scim/v2/Users", &read, &new_user("rae"))
            .await,
        403,
    )
    .await;
    assert!(refused["detail"].as_str().unwrap().contains("read-only"));
    assert_eq!(
        server
            .post("/o/acme/scim/v2/Users", &provision, &new_user("pia"))
            .await
            .status(),
        201,
        "an identity provider provisions"
    );
    let too_long = server
        .post(
            "/o/acme/api-tokens",
            &admin.access,
            &json!({"userId": robot.id, "name": "forever",
                    "expiresAt": muster_server::auth::stamp(server.now() + Duration::days(800))}),
        )
        .await;
    scim_error(too_long, 400).await;

    server.advance(Duration::days(91));
    scim_error(server.get("/o/acme/scim/v2/Users", &read).await, 401).await;
}

#[tokio::test]
async fn read_only_shop_attributes_are_ignored_on_put_and_patch() {
    let server = TestServer::start().await;
    let acme = seed_org(&server, "acme");
    let admin = server.sign_in(Some("acme"), &acme.admin.email).await;
    let path = user_path(&acme.technician.id);
    let before: Value = server.get(&path, &admin.access).await.json().await.unwrap();
    let forged = json!({"status": "suspended", "mfaEnabled": true, "activeSessions": 9,
                        "invitation": {"state": "accepted", "sentAt": "2020-01-01T00:00:00Z"},
                        "lastSignIn": {"at": "2020-01-01T00:00:00Z", "method": "password"}});
    let mut replaced = before.clone();
    for (key, value) in forged.as_object().unwrap() {
        replaced[SHOP][key] = value.clone();
    }
    let put = server.put(&path, &admin.access, &replaced).await;
    assert_eq!(put.status(), 200);
    let patch = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "replace", "path": format!("{SHOP}:status"), "value": "deleted"},
                       {"op": "replace", "path": format!("{SHOP}:mfaEnabled"), "value": true}]});
    let patched = server.patch(&path, &admin.access, &patch).await;
    assert!(
        matches!(patched.status().as_u16(), 200 | 400),
        "a PATCH of read-only values is ignored or refused, never applied"
    );
    let after: Value = server.get(&path, &admin.access).await.json().await.unwrap();
    for key in [
        "status",
        "mfaEnabled",
        "activeSessions",
        "invitation",
        "lastSignIn",
    ] {
        assert_eq!(after[SHOP][key], before[SHOP][key], "{key}: {after}");
    }
}

#[tokio::test]
async fn a_password_set_through_scim_ends_the_users_sessions() {
    let server = TestServer::start().await;
    let acme = seed_org(&server, "acme");
    let admin = server.sign_in(Some("acme"), &acme.admin.email).await;
    let vera = server.sign_in(Some("acme"), &acme.viewer.email).await;
    let response = server
        .patch(
            &user_path(&acme.viewer.id),
            &admin.access,
            &set_password_body(NEW_PASSWORD),
        )
        .await;
    assert_eq!(response.status(), 200);
    scim_error(server.get("/o/acme/scim/v2/Users", &vera.access).await, 401).await;
    assert_eq!(server.refresh(&vera.refresh).await.status(), 401);
}

#[tokio::test]
async fn a_two_factor_reset_needs_a_recent_sign_in_and_ends_the_users_sessions() {
    let server = TestServer::start().await;
    let acme = seed_org(&server, "acme");
    let vera = server.sign_in(Some("acme"), &acme.viewer.email).await;
    enable_mfa(&server, &vera.access).await;
    let admin = server.sign_in(Some("acme"), &acme.admin.email).await;
    server.advance(Duration::minutes(11));
    let reset = || async {
        server
            .post(
                &action_path(&acme.viewer.id, "reset-mfa"),
                &admin.access,
                &json!({}),
            )
            .await
    };
    let body = scim_error(reset().await, 403).await;
    assert_eq!(body["scimType"], "reauthenticate", "{body}");
    let again = server
        .post(
            "/auth/reauthenticate",
            &admin.access,
            &json!({"password": PASSWORD}),
        )
        .await;
    assert_eq!(again.status(), 204);
    assert_eq!(reset().await.status(), 200);
    assert_eq!(
        server.refresh(&vera.refresh).await.status(),
        401,
        "the user is signed out everywhere"
    );
}

#[tokio::test]
async fn my_account_says_what_is_true_now_and_ends_my_other_sessions() {
    let server = TestServer::start().await;
    let acme = seed_org(&server, "acme");
    let here = server.sign_in(Some("acme"), &acme.technician.email).await;
    let there = server.sign_in(Some("acme"), &acme.technician.email).await;
    let me: Value = server
        .get("/auth/me", &here.access)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["id"], acme.technician.id.as_str(), "{me}");
    assert_eq!(me["role"], "technician");
    assert_eq!(me["mfaEnabled"], false);
    assert_eq!(me["activeSessions"], 2);
    enable_mfa(&server, &here.access).await;
    let ended: Value = server
        .post("/auth/sessions/end-others", &here.access, &json!({}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(ended["sessionsEnded"], 1);
    scim_error(server.get("/auth/me", &there.access).await, 401).await;
    let me: Value = server
        .get("/auth/me", &here.access)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["mfaEnabled"], true, "{me}");
    assert_eq!(me["activeSessions"], 1, "{me}");
}

#[tokio::test]
async fn an_org_that_requires_two_factor_takes_admins_straight_to_setting_it_up() {
    let server = TestServer::start().await;
    let acme = seed_org(&server, "acme");
    let other_admin = seed_user(
        &server,
        "acme",
        NewUser {
            user_name: "otto",
            role: "admin",
            licence: "desk",
            active: true,
        },
    );
    let ada = server.sign_in(Some("acme"), &acme.admin.email).await;
    let response = server
        .patch(
            "/o/acme/settings",
            &ada.access,
            &json!({"requireAdminMfa": true}),
        )
        .await;
    assert_eq!(response.status(), 200);

    let answer: Value = server
        .sign_in_raw(Some("acme"), &other_admin.email, PASSWORD)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(answer["mfaEnrollmentRequired"], true, "{answer}");
    let otto = Tokens::from_answer(&answer);
    let body = scim_error(server.get("/o/acme/scim/v2/Users", &otto.access).await, 403).await;
    assert_eq!(body["scimType"], "mfaEnrollmentRequired", "{body}");
    let me: Value = server
        .get("/auth/me", &otto.access)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["mfaEnrollmentRequired"], true, "{me}");
    enable_mfa(&server, &otto.access).await;
    assert_eq!(
        server
            .get("/o/acme/scim/v2/Users", &otto.access)
            .await
            .status(),
        200,
        "everything is open once two-factor is on"
    );

    // Viewers and technicians are not admins: nothing changes for them.
    let vera = server.sign_in(Some("acme"), &acme.viewer.email).await;
    assert_eq!(
        server
            .get("/o/acme/scim/v2/Users", &vera.access)
            .await
            .status(),
        200
    );
}
