//! The account lifecycle over HTTP: invitation to sign-in, passwords, suspension,
//! deactivation with reassignment, soft delete and restore, and the rules that guard them.

use serde_json::{Value, json};

use crate::support::{Org, SHOP, TestServer, scim_error, seed_org, seed_system_admin};

struct Fixture {
    server: TestServer,
    org: Org,
    admin: String,
    root: String,
}

async fn fixture() -> Fixture {
    let server = TestServer::start().await;
    let org = seed_org(&server, "acme");
    let admin = server.sign_in(Some("acme"), &org.admin.email).await.access;
    let root = server
        .sign_in(None, &seed_system_admin(&server))
        .await
        .access;
    Fixture {
        server,
        org,
        admin,
        root,
    }
}

impl Fixture {
    async fn create(&self, user_name: &str, extra: Value) -> Value {
        let mut body = json!({
            "userName": user_name,
            "name": {"givenName": "Casey", "familyName": "Quinn"},
            "emails": [{"value": format!("{user_name}@acme.test"), "primary": true}],
            SHOP: {"licence": "field", "role": "technician"},
        });
        if let (Value::Object(body), Value::Object(extra)) = (&mut body, extra) {
            body.extend(extra);
        }
        let response = self
            .server
            .post("/o/acme/scim/v2/Users", &self.admin, &body)
            .await;
        assert_eq!(response.status(), 201, "the user is created");
        response.json().await.unwrap()
    }

    async fn action(&self, token: &str, id: &str, name: &str, body: Value) -> reqwest::Response {
        self.server
            .post(
                &format!("/o/acme/scim/v2/Users/{id}/actions/{name}"),
                token,
                &body,
            )
            .await
    }

    async fn ok(&self, id: &str, name: &str, body: Value) -> Value {
        let response = self.action(&self.admin, id, name, body).await;
        let status = response.status();
        let text = response.text().await.unwrap();
        assert_eq!(status, 200, "{name} succeeds: {text}");
        serde_json::from_str(&text).unwrap()
    }

    /// The newest email to `to`, from the outbox a system admin reads.
    async fn last_email(&self, to: &str) -> Value {
        let page: Value = self
            .server
            .get(&format!("/admin/outbox?to={to}"), &self.root)
            .await
            .json()
            .await
            .unwrap();
        page["Resources"][0].clone()
    }

    async fn sign_in_status(&self, email: &str, password: &str) -> u16 {
        self.server
            .sign_in_raw(Some("acme"), email, password)
            .await
            .status()
            .as_u16()
    }
}

fn status(user: &Value) -> &str {
    user[SHOP]["status"].as_str().unwrap_or("?")
}

const GOOD_PASSWORD: &str = "Sprinkler-Valve-42!";

#[tokio::test]
async fn invite_accept_and_sign_in() {
    let f = fixture().await;
    let user = f.create("casey", json!({})).await;
    let id = user["id"].as_str().unwrap();
    assert_eq!(
        status(&user),
        "invited",
        "a user created without a password is invited"
    );
    assert_eq!(user["active"], true, "an invited account is in use");

    let user = f.ok(id, "send-welcome", json!({})).await;
    assert_eq!(user[SHOP]["invitation"]["state"], "pending");
    let first = f.last_email("casey@acme.test").await;
    let first_link = first["link"].as_str().unwrap().to_owned();
    assert!(
        first["subject"]
            .as_str()
            .unwrap()
            .to_lowercase()
            .contains("invit"),
        "{first}"
    );

    f.ok(id, "send-welcome", json!({})).await;
    let second_link = f.last_email("casey@acme.test").await["link"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_ne!(first_link, second_link, "a resend issues a new link");
    let voided = f.server.client.get(&first_link).send().await.unwrap();
    assert_eq!(voided.status(), 410, "a resend voids the previous link");

    let token = second_link.split("token=").nth(1).unwrap();
    let accepted = f
        .server
        .client
        .post(f.server.url("/links/welcome"))
        .form(&[
            ("token", token),
            ("password", GOOD_PASSWORD),
            ("confirm", GOOD_PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(
        accepted.status(),
        200,
        "a strong password accepts the invitation"
    );
    let user: Value = f
        .server
        .get(&format!("/o/acme/scim/v2/Users/{id}"), &f.admin)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(status(&user), "active");
    assert_eq!(user[SHOP]["invitation"]["state"], "accepted");
    assert_eq!(user[SHOP]["lastSignIn"]["method"], "password");
    assert_eq!(
        f.sign_in_status("casey@acme.test", GOOD_PASSWORD).await,
        200
    );
}

#[tokio::test]
async fn set_password_enforces_policy_and_signs_the_user_out() {
    let f = fixture().await;
    let tom = f
        .server
        .sign_in(Some("acme"), &f.org.technician.email)
        .await
        .access;
    let weak = f
        .action(
            &f.admin,
            &f.org.technician.id,
            "set-password",
            json!({"password": "password"}),
        )
        .await;
    let error = scim_error(weak, 400).await;
    assert_eq!(
        error["scimType"], "invalidValue",
        "the policy refuses a weak password"
    );

    let user = f
        .ok(
            &f.org.technician.id,
            "set-password",
            json!({"password": GOOD_PASSWORD}),
        )
        .await;
    assert_eq!(user[SHOP]["activeSessions"], 0, "every session was revoked");
    scim_error(f.server.get("/o/acme/policy", &tom).await, 401).await;
    let answer: Value = f
        .server
        .sign_in_raw(Some("acme"), &f.org.technician.email, GOOD_PASSWORD)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        answer["mustChangePassword"], true,
        "set-password defaults to must-change"
    );
    let notice = f.last_email(&f.org.technician.email).await;
    assert!(
        notice["link"].is_null(),
        "a password-changed notice carries no link"
    );
}

#[tokio::test]
async fn suspension_cuts_access_at_once() {
    let f = fixture().await;
    let tom = f
        .server
        .sign_in(Some("acme"), &f.org.technician.email)
        .await
        .access;
    assert_eq!(f.server.get("/o/acme/policy", &tom).await.status(), 200);
    let user = f.ok(&f.org.technician.id, "suspend", json!({})).await;
    assert_eq!(
        (status(&user), user["active"].as_bool()),
        ("suspended", Some(false))
    );
    scim_error(f.server.get("/o/acme/policy", &tom).await, 401).await;
    assert_eq!(
        f.sign_in_status(&f.org.technician.email, crate::support::PASSWORD)
            .await,
        401
    );
    let again = f
        .action(&f.admin, &f.org.technician.id, "suspend", json!({}))
        .await;
    scim_error(again, 409).await;
    let user = f.ok(&f.org.technician.id, "unsuspend", json!({})).await;
    assert_eq!(status(&user), "active");
    assert_eq!(
        f.sign_in_status(&f.org.technician.email, crate::support::PASSWORD)
            .await,
        200
    );
}

#[tokio::test]
async fn admins_cannot_act_against_themselves() {
    let f = fixture().await;
    let me = &f.org.admin.id;
    for action in ["suspend", "deactivate"] {
        let error = scim_error(f.action(&f.admin, me, action, json!({})).await, 403).await;
        assert!(
            error["detail"].as_str().unwrap().contains("your own"),
            "{error}"
        );
    }
    let delete = f
        .server
        .client
        .delete(f.server.url(&format!("/o/acme/scim/v2/Users/{me}")))
        .bearer_auth(&f.admin)
        .send()
        .await
        .unwrap();
    scim_error(delete, 403).await;
    let demote = json!({"Operations": [{"op": "replace", "path": format!("{SHOP}:role"), "value": "viewer"}]});
    let patch = f
        .server
        .client
        .patch(f.server.url(&format!("/o/acme/scim/v2/Users/{me}")))
        .bearer_auth(&f.admin)
        .json(&demote)
        .send()
        .await
        .unwrap();
    scim_error(patch, 403).await;
    let off = json!({"Operations": [{"op": "replace", "path": "active", "value": false}]});
    let patch = f
        .server
        .client
        .patch(f.server.url(&format!("/o/acme/scim/v2/Users/{me}")))
        .bearer_auth(&f.admin)
        .json(&off)
        .send()
        .await
        .unwrap();
    scim_error(patch, 403).await;
    let audit: Value = f
        .server
        .get("/o/acme/audit?outcome=denied", &f.admin)
        .await
        .json()
        .await
        .unwrap();
    assert!(
        audit["totalResults"].as_u64().unwrap() >= 4,
        "denied attempts are audited: {audit}"
    );
}

#[tokio::test]
async fn deactivation_needs_reassignment_and_reactivation_restores() {
    let f = fixture().await;
    let tom = &f.org.technician.id;
    f.server.write(|tx| {
        tx.execute("INSERT INTO properties (org, id, name, address, default_technician) VALUES ('acme', 'p1', 'Hillcrest', '1 Main St', ?1)", [tom]).unwrap();
    });
    let error = scim_error(f.action(&f.admin, tom, "deactivate", json!({})).await, 409).await;
    assert!(
        error["detail"]
            .as_str()
            .unwrap()
            .contains("default technician"),
        "{error}"
    );
    let off = json!({"Operations": [{"op": "replace", "path": "active", "value": "False"}]});
    let patch = f
        .server
        .client
        .patch(f.server.url(&format!("/o/acme/scim/v2/Users/{tom}")))
        .bearer_auth(&f.admin)
        .json(&off)
        .send()
        .await
        .unwrap();
    scim_error(patch, 409).await;

    let user = f
        .ok(
            tom,
            "deactivate",
            json!({"reassign": {"defaultTechnician": f.org.admin.id}}),
        )
        .await;
    assert_eq!(
        (status(&user), user["active"].as_bool()),
        ("deactivated", Some(false))
    );
    let moved: String = f.server.write(|tx| {
        tx.query_row(
            "SELECT default_technician FROM properties WHERE id = 'p1'",
            [],
            |r| r.get(0),
        )
        .unwrap()
    });
    assert_eq!(
        moved, f.org.admin.id,
        "the property moved to the named user"
    );
    assert_eq!(
        f.sign_in_status(&f.org.technician.email, crate::support::PASSWORD)
            .await,
        401
    );
    let user = f.ok(tom, "reactivate", json!({})).await;
    assert_eq!(status(&user), "active");
}

#[tokio::test]
async fn soft_delete_and_system_admin_restore() {
    let f = fixture().await;
    let user = f.create("dana", json!({"password": GOOD_PASSWORD})).await;
    let id = user["id"].as_str().unwrap();
    assert_eq!(
        status(&user),
        "active",
        "created with a password, the user is active"
    );
    let deleted = f
        .server
        .client
        .delete(f.server.url(&format!("/o/acme/scim/v2/Users/{id}")))
        .bearer_auth(&f.admin)
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), 204);
    scim_error(
        f.server
            .get(&format!("/o/acme/scim/v2/Users/{id}"), &f.admin)
            .await,
        404,
    )
    .await;
    let list: Value = f
        .server
        .get(
            "/o/acme/scim/v2/Users?filter=userName%20eq%20%22dana%22",
            &f.admin,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["totalResults"], 0, "deleted users are not listed");
    let again = f
        .server
        .post(
            "/o/acme/scim/v2/Users",
            &f.admin,
            &json!({"userName": "dana2", "emails": [{"value": "dana@acme.test"}]}),
        )
        .await;
    scim_error(again, 409).await;

    scim_error(f.action(&f.admin, id, "restore", json!({})).await, 403).await;
    let restored = f.action(&f.root, id, "restore", json!({})).await;
    assert_eq!(restored.status(), 200, "a system admin restores");
    let user: Value = restored.json().await.unwrap();
    assert_eq!(
        status(&user),
        "active",
        "restore returns the user to the status before the delete"
    );
}

#[tokio::test]
async fn an_email_change_signs_the_user_out() {
    let f = fixture().await;
    let tom = f
        .server
        .sign_in(Some("acme"), &f.org.technician.email)
        .await
        .access;
    let change = json!({"Operations": [{"op": "replace", "path": "emails", "value": [{"value": "tom.new@acme.test", "primary": true}]}]});
    let response = f
        .server
        .client
        .patch(
            f.server
                .url(&format!("/o/acme/scim/v2/Users/{}", f.org.technician.id)),
        )
        .bearer_auth(&f.admin)
        .json(&change)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    scim_error(f.server.get("/o/acme/policy", &tom).await, 401).await;
}

#[tokio::test]
async fn capabilities_statuses_and_link_rate_limits() {
    let f = fixture().await;
    let doc: Value = f
        .server
        .get("/o/acme/scim/v2/actions", &f.admin)
        .await
        .json()
        .await
        .unwrap();
    let names: Vec<&str> = doc["actions"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|a| a["name"].as_str())
        .collect();
    for name in [
        "send-welcome",
        "send-password-reset",
        "send-magic-link",
        "set-password",
        "suspend",
        "unsuspend",
        "revoke-sessions",
        "reset-mfa",
        "deactivate",
        "reactivate",
        "restore",
    ] {
        assert!(
            names.contains(&name),
            "the capability document lists {name}"
        );
    }
    let user = f.create("erin", json!({})).await;
    let id = user["id"].as_str().unwrap();
    scim_error(
        f.action(&f.admin, id, "send-password-reset", json!({}))
            .await,
        409,
    )
    .await;
    scim_error(
        f.action(&f.admin, id, "no-such-action", json!({})).await,
        404,
    )
    .await;
    scim_error(
        f.action(&f.admin, "no-such-user", "suspend", json!({}))
            .await,
        404,
    )
    .await;
    let viewer = f
        .server
        .sign_in(Some("acme"), &f.org.viewer.email)
        .await
        .access;
    scim_error(f.action(&viewer, id, "send-welcome", json!({})).await, 403).await;

    let mut limited = None;
    for _ in 0..12 {
        let response = f.action(&f.admin, id, "send-welcome", json!({})).await;
        if response.status() == 429 {
            limited = Some(response);
            break;
        }
    }
    let limited = limited.expect("resending invitations is rate limited");
    assert!(
        limited.headers().get("retry-after").is_some(),
        "429 says when to retry"
    );
    f.server.advance(time::Duration::hours(2));
    let admin = f
        .server
        .sign_in(Some("acme"), &f.org.admin.email)
        .await
        .access;
    assert_eq!(
        f.action(&admin, id, "send-welcome", json!({}))
            .await
            .status(),
        200,
        "the limit lifts"
    );
}

#[tokio::test]
async fn an_invitation_for_the_mobile_app_asks_for_a_code_sent_by_sms() {
    let f = fixture().await;
    let user = f.create("sia", json!({})).await;
    let id = user["id"].as_str().unwrap();
    let options = json!({"channel": "mobile", "smsCode": true});
    let refused = f
        .action(&f.admin, id, "send-welcome", options.clone())
        .await;
    let error = scim_error(refused, 400).await;
    assert_eq!(error["attribute"], "phone", "no phone, no SMS: {error}");
    let odd = f
        .action(&f.admin, id, "send-welcome", json!({"channel": "fax"}))
        .await;
    scim_error(odd, 400).await;
    let elsewhere = f
        .action(
            &f.admin,
            &f.org.technician.id,
            "revoke-sessions",
            json!({"smsCode": true}),
        )
        .await;
    scim_error(elsewhere, 400).await;

    let patch = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "add", "path": format!("{SHOP}:phone"), "value": "+1 303 555 0142"}]});
    let patched = f
        .server
        .patch(&format!("/o/acme/scim/v2/Users/{id}"), &f.admin, &patch)
        .await;
    assert_eq!(patched.status(), 200);
    f.ok(id, "send-welcome", options).await;
    // A resend that says nothing keeps the options: a new code goes out too.
    f.ok(id, "send-welcome", json!({})).await;
    let texts: Value = f
        .server
        .get("/admin/outbox?to=%2B1%20303%20555%200142", &f.root)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(texts["totalResults"], 2, "one code per invitation: {texts}");
    let email = f.last_email("sia@acme.test").await;
    let body = email["body"].as_str().unwrap();
    assert!(
        body.contains("mobile app") && body.contains("SMS"),
        "{body}"
    );
    let sms = f.last_email("%2B1%20303%20555%200142").await;
    assert_eq!(sms["channel"], "sms", "{sms}");
    let text = sms["body"].as_str().unwrap();
    let code: String = text.chars().take_while(char::is_ascii_digit).collect();
    assert_eq!(code.len(), 6, "{text}");
    assert!(sms["link"].is_null(), "the text carries no link");

    let link = email["link"].as_str().unwrap().to_owned();
    let page = f.server.client.get(&link).send().await.unwrap();
    let html = page.text().await.unwrap();
    assert!(html.contains("name=\"code\""), "the page asks for the code");
    let token = link.split("token=").nth(1).unwrap().to_owned();
    let submit = |code: String| {
        let (client, url, token) = (
            f.server.client.clone(),
            f.server.url("/links/welcome"),
            token.clone(),
        );
        async move {
            client
                .post(url)
                .form(&[
                    ("token", token.as_str()),
                    ("password", GOOD_PASSWORD),
                    ("confirm", GOOD_PASSWORD),
                    ("code", code.as_str()),
                ])
                .send()
                .await
                .unwrap()
        }
    };
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let first = submit(wrong.to_owned()).await;
    assert_eq!(first.status(), 400);
    assert!(first.text().await.unwrap().contains("4 tries left"));
    let accepted = submit(format!("{} {}", &code[..3], &code[3..])).await;
    assert_eq!(
        accepted.status(),
        200,
        "the right code, spaced as people type it"
    );
    assert!(accepted.text().await.unwrap().contains("mobile app"));
    assert_eq!(f.sign_in_status("sia@acme.test", GOOD_PASSWORD).await, 200);
}

#[tokio::test]
async fn five_wrong_sms_codes_cancel_the_invitation() {
    let f = fixture().await;
    let user = f
        .create(
            "sam",
            json!({"phoneNumbers": [{"value": "+1 720 555 0199"}]}),
        )
        .await;
    let id = user["id"].as_str().unwrap();
    f.ok(id, "send-welcome", json!({"smsCode": true})).await;
    let code: String = f.last_email("%2B1%20720%20555%200199").await["body"]
        .as_str()
        .unwrap()
        .chars()
        .take(6)
        .collect();
    let link = f.last_email("sam@acme.test").await["link"]
        .as_str()
        .unwrap()
        .to_owned();
    let token = link.split("token=").nth(1).unwrap().to_owned();
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let mut last = 0;
    for _ in 0..5 {
        last = f
            .server
            .client
            .post(f.server.url("/links/welcome"))
            .form(&[
                ("token", token.as_str()),
                ("password", GOOD_PASSWORD),
                ("confirm", GOOD_PASSWORD),
                ("code", wrong),
            ])
            .send()
            .await
            .unwrap()
            .status()
            .as_u16();
    }
    assert_eq!(last, 410, "the fifth wrong code cancels the link");
    let late = f
        .server
        .client
        .post(f.server.url("/links/welcome"))
        .form(&[
            ("token", token.as_str()),
            ("password", GOOD_PASSWORD),
            ("confirm", GOOD_PASSWORD),
            ("code", code.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(late.status(), 410, "not even the right code works after");
    assert_ne!(f.sign_in_status("sam@acme.test", GOOD_PASSWORD).await, 200);
}
