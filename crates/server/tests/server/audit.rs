//! The audit log: what sign-ins, sessions, two-factor and API tokens leave behind, that no
//! secret is ever in it, that it cannot be changed, and `GET /o/{org}/audit`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use axum::extract::Path;
use axum::http::StatusCode;
use axum::routing::post;
use muster_server::auth::Caller;
use muster_server::error::AppResult;
use serde_json::{Value, json};
use time::Duration;

use crate::mfa::code_at;
use crate::support::{
    NewUser, PASSWORD, TestServer, Tokens, scim_error, seed_org, seed_system_admin, seed_user,
};

/// Every column of every audit row, as text.
fn audit_rows(server: &TestServer) -> Vec<Vec<String>> {
    server.write(|tx| {
        let mut statement = tx.prepare("SELECT * FROM audit ORDER BY seq").unwrap();
        let columns = statement.column_count();
        statement
            .query_map([], |row| {
                Ok((0..columns)
                    .map(|i| {
                        let value: rusqlite::types::Value = row.get(i).unwrap();
                        match value {
                            rusqlite::types::Value::Text(text) => text,
                            rusqlite::types::Value::Integer(n) => n.to_string(),
                            rusqlite::types::Value::Null => String::new(),
                            other => format!("{other:?}"),
                        }
                    })
                    .collect())
            })
            .unwrap()
            .map(Result::unwrap)
            .collect()
    })
}

async fn audit_page(server: &TestServer, token: &str, query: &str) -> Value {
    let response = server.get(&format!("/o/acme/audit{query}"), token).await;
    assert_eq!(response.status(), 200, "GET /o/acme/audit{query}");
    response.json().await.unwrap()
}

fn actions(page: &Value) -> Vec<String> {
    page["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| entry["action"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn sign_ins_are_recorded_without_any_secret() {
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
    let mut secrets: Vec<String> = vec![PASSWORD.to_owned()];
    let wrong_password = "Tr0ub4dor&3-not-it";
    secrets.push(wrong_password.to_owned());
    let response = server
        .sign_in_raw(Some("acme"), &acme.admin.email, wrong_password)
        .await;
    assert_eq!(response.status(), 401, "a failed sign-in");
    let tokens = server.sign_in(Some("acme"), &acme.admin.email).await;
    secrets.extend([tokens.access.clone(), tokens.refresh.clone()]);
    let refreshed = Tokens::from_answer(
        &server
            .refresh(&tokens.refresh)
            .await
            .json::<Value>()
            .await
            .unwrap(),
    );
    secrets.extend([refreshed.access.clone(), refreshed.refresh.clone()]);
    assert_eq!(
        server.refresh(&tokens.refresh).await.status(),
        401,
        "reuse of a rotated refresh token"
    );
    let tokens = server.sign_in(Some("acme"), &acme.admin.email).await;
    secrets.extend([tokens.access.clone(), tokens.refresh.clone()]);
    let created: Value = server
        .post(
            "/o/acme/api-tokens",
            &tokens.access,
            &json!({"userId": robot.id, "name": "Payroll sync"}),
        )
        .await
        .json()
        .await
        .unwrap();
    let api = created["token"].as_str().unwrap().to_owned();
    secrets.push(api.clone());
    let response = server
        .client
        .delete(server.url(&format!(
            "/o/acme/api-tokens/{}",
            created["id"].as_str().unwrap()
        )))
        .bearer_auth(&tokens.access)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204, "revoked");

    let enrol: Value = server
        .post(
            "/auth/mfa/enroll",
            &tokens.access,
            &json!({"password": PASSWORD}),
        )
        .await
        .json()
        .await
        .unwrap();
    let secret = enrol["secret"].as_str().unwrap().to_owned();
    let confirm_code = code_at(&secret, server.now());
    server
        .post(
            "/auth/mfa/confirm",
            &tokens.access,
            &json!({"code": confirm_code}),
        )
        .await;
    let challenge = server.challenge("acme", &acme.admin.email).await;
    server.advance(Duration::seconds(30));
    let code = code_at(&secret, server.now());
    let answer: Value = server
        .answer_challenge(&challenge, &code)
        .await
        .json()
        .await
        .unwrap();
    let last = Tokens::from_answer(&answer);
    let response = server
        .client
        .post(server.url("/auth/logout"))
        .bearer_auth(&last.access)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204, "signed out");
    secrets.extend([
        secret,
        challenge,
        last.access,
        last.refresh,
        code,
        confirm_code,
    ]);

    let rows = audit_rows(&server);
    assert!(rows.len() >= 10, "the events above were recorded: {rows:?}");
    for secret in &secrets {
        // Tokens are compared by their random part, after the `mst_xx_` prefix.
        let needle = match secret.strip_prefix("mst_") {
            Some(rest) => rest.split_once('_').unwrap().1,
            None => secret.as_str(),
        };
        let is_code = needle.len() == 6 && needle.bytes().all(|b| b.is_ascii_digit());
        for column in rows.iter().flatten() {
            if is_code {
                // Six digits can turn up inside a timestamp; a code would be a value.
                assert!(
                    column != needle && !column.contains(&format!("\"{needle}\"")),
                    "no TOTP code in the audit log: {column:?}"
                );
            } else {
                assert!(
                    !column.contains(needle),
                    "no password, token, TOTP secret or challenge in the audit log: \
                     {column:?} holds {secret:?}"
                );
            }
        }
    }

    let root = seed_system_admin(&server);
    let root = server.sign_in(None, &root).await;
    let page = audit_page(&server, &root.access, "").await;
    let listed = actions(&page);
    for expected in [
        "session.sign_in_failed",
        "session.sign_in",
        "session.refresh_reused",
        "api_token.create",
        "api_token.revoke",
        "mfa.enroll",
        "mfa.confirm",
        "session.mfa_challenge",
        "session.sign_out",
    ] {
        assert!(
            listed.iter().any(|action| action == expected),
            "{expected} is recorded: {listed:?}"
        );
    }
    let failed = page["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|entry| entry["action"] == "session.sign_in_failed")
        .unwrap();
    assert_eq!(failed["outcome"], "failed", "{failed}");
    assert_eq!(
        failed["targetName"],
        acme.admin.email.as_str(),
        "the login that was tried"
    );
    assert_eq!(
        failed["targetId"],
        acme.admin.id.as_str(),
        "and the account it names"
    );
    assert_eq!(
        failed["actorKind"], "anonymous",
        "nobody proved who they are"
    );
    assert_eq!(failed["detail"]["reason"], "bad_credentials", "why");
    assert_eq!(failed["client"], "127.0.0.1", "from where");
    let reused = page["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|entry| entry["action"] == "session.refresh_reused")
        .unwrap();
    assert_eq!(reused["outcome"], "denied", "{reused}");
    assert_eq!(reused["actorId"], acme.admin.id.as_str(), "whose session");
    let sign_in = page["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|entry| entry["action"] == "session.sign_in")
        .unwrap();
    assert_eq!(sign_in["actorKind"], "user", "{sign_in}");
    assert_eq!(sign_in["actorName"], "ada", "known by userName");

    let server_level: i64 = server.write(|tx| {
        tx.query_row(
            "SELECT COUNT(*) FROM audit WHERE org IS NULL AND action = 'session.sign_in'",
            [],
            |row| row.get(0),
        )
        .unwrap()
    });
    assert_eq!(
        server_level, 1,
        "the system admin's sign-in is a server-level event"
    );
}

#[tokio::test]
async fn the_audit_log_cannot_be_changed() {
    let server = TestServer::start().await;
    let acme = seed_org(&server, "acme");
    server.sign_in(Some("acme"), &acme.admin.email).await;
    let update = server.write(|tx| {
        tx.execute("UPDATE audit SET outcome = 'failed'", [])
            .map_err(|e| e.to_string())
    });
    assert!(
        update.unwrap_err().contains("append-only"),
        "UPDATE is refused"
    );
    let delete = server.write(|tx| {
        tx.execute("DELETE FROM audit", [])
            .map_err(|e| e.to_string())
    });
    assert!(
        delete.unwrap_err().contains("append-only"),
        "DELETE is refused"
    );
    assert_eq!(audit_rows(&server).len(), 1, "the entry is still there");
}

#[tokio::test]
async fn audit_is_listed_filtered_and_paged_for_readers() {
    let server = TestServer::start().await;
    let acme = seed_org(&server, "acme");
    let bolt = seed_org(&server, "bolt");
    for _ in 0..3 {
        server
            .sign_in_raw(Some("acme"), &acme.technician.email, "wrong")
            .await;
        server.advance(Duration::minutes(1));
    }
    let admin = server.sign_in(Some("acme"), &acme.admin.email).await;
    server.advance(Duration::minutes(1));
    let viewer = server.sign_in(Some("acme"), &acme.viewer.email).await;
    server.sign_in(Some("bolt"), &bolt.admin.email).await;

    let page = audit_page(&server, &admin.access, "").await;
    assert_eq!(page["totalResults"], 5, "acme's entries only: {page}");
    assert_eq!(
        actions(&page),
        [
            "session.sign_in",
            "session.sign_in",
            "session.sign_in_failed",
            "session.sign_in_failed",
            "session.sign_in_failed"
        ],
        "newest first"
    );
    let seqs: Vec<i64> = page["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["seq"].as_i64().unwrap())
        .collect();
    assert!(seqs.windows(2).all(|w| w[0] > w[1]), "descending: {seqs:?}");

    let page = audit_page(&server, &viewer.access, "?startIndex=2&count=2").await;
    assert_eq!(page["totalResults"], 5, "the total ignores paging");
    assert_eq!(page["startIndex"], 2, "echoed");
    assert_eq!(page["itemsPerPage"], 2, "a page of two");
    assert_eq!(
        page["entries"][0]["seq"].as_i64().unwrap(),
        seqs[1],
        "the second newest starts page 2"
    );

    let page = audit_page(&server, &admin.access, "?outcome=failed").await;
    assert_eq!(page["totalResults"], 3, "failures: {page}");
    let page = audit_page(&server, &admin.access, "?action=session.sign_in").await;
    assert_eq!(page["totalResults"], 2, "exact action");
    let page = audit_page(&server, &admin.access, "?action=session.*").await;
    assert_eq!(page["totalResults"], 5, "action prefix");
    let page = audit_page(&server, &admin.access, "?actor=ADA").await;
    assert_eq!(
        page["totalResults"], 1,
        "actor by name, case-insensitive: {page}"
    );
    let page = audit_page(&server, &admin.access, &format!("?actor={}", acme.admin.id)).await;
    assert_eq!(page["totalResults"], 1, "actor by id");
    let page = audit_page(
        &server,
        &admin.access,
        &format!("?target={}", acme.technician.id),
    )
    .await;
    assert_eq!(page["totalResults"], 3, "attacks on one account");
    let page = audit_page(
        &server,
        &admin.access,
        "?since=2030-01-01T09:01:00Z&until=2030-01-01T09:03:00Z",
    )
    .await;
    assert_eq!(
        page["totalResults"], 2,
        "since is inclusive, until exclusive: {page}"
    );

    let body = scim_error(
        server
            .get("/o/acme/audit?outcome=maybe", &admin.access)
            .await,
        400,
    )
    .await;
    assert_eq!(body["scimType"], "invalidValue", "bad filters say so");
    scim_error(
        server
            .get("/o/acme/audit?since=yesterday", &admin.access)
            .await,
        400,
    )
    .await;

    let technician = server.sign_in(Some("acme"), &acme.technician.email).await;
    scim_error(server.get("/o/acme/audit", &technician.access).await, 403).await;
    scim_error(server.get("/o/bolt/audit", &admin.access).await, 403).await;
    let response = server
        .client
        .get(server.url("/o/acme/audit"))
        .send()
        .await
        .unwrap();
    scim_error(response, 401).await;
    let root = seed_system_admin(&server);
    let root = server.sign_in(None, &root).await;
    let page = audit_page(&server, &root.access, "?count=0").await;
    assert_eq!(
        page["totalResults"], 6,
        "system admins read every org; the technician's sign-in is the sixth: {page}"
    );
    assert_eq!(page["itemsPerPage"], 0, "count=0 asks for the total only");
}

/// A write endpoint that only admins may call, behind the denied-write middleware.
async fn probe(
    caller: Caller,
    Path((org, _id)): Path<(String, String)>,
) -> AppResult<&'static str> {
    caller.require_write(&org)?;
    Ok("done")
}

#[tokio::test]
async fn refused_writes_are_recorded_by_the_middleware() {
    let server = TestServer::start().await;
    let acme = seed_org(&server, "acme");
    let state = server.state.clone();
    let router = axum::Router::new()
        .route("/o/{org}/things/{id}", post(probe).get(probe))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            muster_server::audit::denied_layer,
        ))
        .with_state(state);
    let base = crate::support::serve(router).await;
    let id = "0b7e7dc4-52c5-4b4e-9a55-2a8a3a4f6a11";
    let url = format!("{base}/o/acme/things/{id}");
    let viewer = server.sign_in(Some("acme"), &acme.viewer.email).await;
    let admin = server.sign_in(Some("acme"), &acme.admin.email).await;
    let before = audit_rows(&server).len();

    let response = server
        .client
        .post(&url)
        .bearer_auth(&viewer.access)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403, "viewers cannot write");
    let response = server.client.post(&url).send().await.unwrap();
    assert_eq!(response.status(), 401, "nor can strangers");
    let response = server
        .client
        .get(&url)
        .bearer_auth(&viewer.access)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403, "a refused read");
    let response = server
        .client
        .post(&url)
        .bearer_auth(&admin.access)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "an allowed write");
    // The stranger's refusal is counted for its minute, written once the minute is over.
    muster_server::denials::flush(&server.state, true).await;

    let page = audit_page(&server, &admin.access, "?outcome=denied").await;
    assert_eq!(
        page["totalResults"], 2,
        "two refused writes, no reads, nothing allowed: {page}"
    );
    assert_eq!(
        audit_rows(&server).len(),
        before + 2,
        "nothing else was written"
    );
    let stranger = &page["entries"][0];
    let denied_viewer = &page["entries"][1];
    assert_eq!(
        denied_viewer["action"], "POST /o/{org}/things/{id}",
        "the route, not the raw path: {denied_viewer}"
    );
    assert_eq!(denied_viewer["targetId"], id, "the id in the path");
    assert_eq!(
        denied_viewer["actorId"],
        acme.viewer.id.as_str(),
        "who tried"
    );
    assert_eq!(denied_viewer["actorKind"], "user", "a signed-in user");
    assert_eq!(denied_viewer["client"], "127.0.0.1", "from where");
    assert_eq!(denied_viewer["detail"]["status"], 403, "how it ended");
    assert_eq!(
        stranger["actorKind"], "anonymous",
        "no token, no actor: {stranger}"
    );
    assert_eq!(stranger["action"], "denied.anonymous", "{stranger}");
    assert_eq!(stranger["detail"]["count"], 1, "{stranger}");
    assert_eq!(
        stranger["detail"]["statuses"],
        json!([401]),
        "unauthenticated"
    );
}

#[tokio::test]
async fn a_flood_of_anonymous_writes_is_one_row_a_minute() {
    let server = TestServer::start().await;
    let acme = seed_org(&server, "acme");
    let state = server.state.clone();
    let router = axum::Router::new()
        .route("/o/{org}/things/{id}", post(probe))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            muster_server::audit::denied_layer,
        ))
        .with_state(state);
    let base = crate::support::serve(router).await;
    let admin = server.sign_in(Some("acme"), &acme.admin.email).await;
    let before = audit_rows(&server).len();
    for n in 0..30 {
        let url = format!("{base}/o/acme/things/0b7e7dc4-52c5-4b4e-9a55-2a8a3a4f6a{n:02}");
        let response = server.client.post(&url).send().await.unwrap();
        assert_eq!(response.status(), 401);
    }
    assert_eq!(
        audit_rows(&server).len(),
        before,
        "nothing yet: the minute is not over"
    );
    server.advance(Duration::minutes(1));
    let url = format!("{base}/o/acme/things/0b7e7dc4-52c5-4b4e-9a55-2a8a3a4f6a11");
    server.client.post(&url).send().await.unwrap();
    let page = audit_page(&server, &admin.access, "?action=denied.anonymous").await;
    assert_eq!(page["totalResults"], 1, "one row for the minute: {page}");
    let entry = &page["entries"][0];
    assert_eq!(entry["detail"]["count"], 30, "{entry}");
    assert_eq!(entry["client"], "127.0.0.1");
    assert_eq!(
        entry["detail"]["routes"],
        json!(["POST /o/{org}/things/{id}"]),
        "{entry}"
    );
}

#[tokio::test]
async fn a_refusal_of_another_organisations_user_names_nobody_of_theirs() {
    let server = TestServer::start().await;
    let acme = seed_org(&server, "acme");
    let beta = seed_org(&server, "beta");
    let state = server.state.clone();
    let router = axum::Router::new()
        .route("/o/{org}/things/{id}", post(probe))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            muster_server::audit::denied_layer,
        ))
        .with_state(state);
    let base = crate::support::serve(router).await;
    let intruder = server.sign_in(Some("beta"), &beta.admin.email).await;
    let response = server
        .client
        .post(format!(
            "{base}/o/acme/things/0b7e7dc4-52c5-4b4e-9a55-2a8a3a4f6a11"
        ))
        .bearer_auth(&intruder.access)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);

    let admin = server.sign_in(Some("acme"), &acme.admin.email).await;
    let page = audit_page(&server, &admin.access, "?outcome=denied").await;
    assert_eq!(page["totalResults"], 1, "{page}");
    let entry = &page["entries"][0];
    assert_eq!(entry["actorKind"], "other_organisation", "{entry}");
    assert!(
        entry["actorId"].is_null() && entry["actorName"].is_null(),
        "{entry}"
    );
    let all = audit_page(&server, &admin.access, "").await;
    assert!(
        !all.to_string().contains(beta.admin.id.as_str()),
        "nothing in acme's log names the other organisation's user: {all}"
    );
    let response = server
        .get("/o/beta/audit?outcome=denied", &intruder.access)
        .await;
    assert_eq!(response.status(), 200, "beta's own log");
    let beta_page: Value = response.json().await.unwrap();
    assert_eq!(
        beta_page["totalResults"], 0,
        "nor is it in their own org's log"
    );
}

#[tokio::test]
async fn org_creation_is_recorded() {
    let server = TestServer::start().await;
    let root = seed_system_admin(&server);
    let root = server.sign_in(None, &root).await;
    let response = server
        .post(
            "/admin/orgs",
            &root.access,
            &json!({"id": "acme", "name": "Acme Sprinklers"}),
        )
        .await;
    assert_eq!(response.status(), 201, "created");
    let response = server
        .get("/admin/audit?action=org.create", &root.access)
        .await;
    let page: Value = response.json().await.unwrap();
    let entry = &page["entries"][0];
    assert_eq!(
        entry["org"],
        Value::Null,
        "in the system-level log, which outlives the organisation"
    );
    assert_eq!(entry["targetId"], "acme", "naming the organisation");
    assert_eq!(entry["targetName"], "Acme Sprinklers", "{entry}");
    assert_eq!(entry["actorKind"], "system_admin", "by a system admin");
    assert_eq!(entry["actorName"], "root@muster.example", "known by email");
}

#[tokio::test]
async fn a_failed_sign_in_keeps_a_typed_login_only_when_it_names_an_account() {
    let server = TestServer::start().await;
    let acme = seed_org(&server, "acme");
    // A password typed into the login field names nobody: it is not kept.
    let typed = "Tr0ub4dor-typed-into-the-wrong-field";
    let refused = server.sign_in_raw(Some("acme"), typed, "x").await;
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    // A real account's login is (what was tried, and against whom).
    server
        .sign_in_raw(Some("acme"), &acme.admin.email, "wrong")
        .await;
    let rows = audit_rows(&server);
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert!(
        rows.iter().flatten().all(|column| !column.contains(typed)),
        "the typed text is nowhere in the log: {rows:?}"
    );
    assert!(
        rows.iter()
            .flatten()
            .any(|column| column == acme.admin.email.as_str()),
        "{rows:?}"
    );
}

#[tokio::test]
async fn throttled_sign_ins_write_no_rows() {
    let server = TestServer::start().await;
    let acme = seed_org(&server, "acme");
    let mut refused = 0;
    let mut throttled = 0;
    for _ in 0..30 {
        let answer = server
            .sign_in_raw(Some("acme"), &acme.technician.email, "wrong")
            .await;
        match answer.status() {
            StatusCode::TOO_MANY_REQUESTS => throttled += 1,
            _ => refused += 1,
        }
    }
    assert!(throttled > 0, "the limit is reached");
    assert_eq!(
        audit_rows(&server).len(),
        refused,
        "one row per attempt that was checked, none for the throttled ones"
    );
}
