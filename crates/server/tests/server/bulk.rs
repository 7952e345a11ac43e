//! SCIM `/Bulk` (RFC 7644 §3.7) over HTTP: bulkId references, per-operation results,
//! failOnErrors, the advertised limits, and that each operation is held to the same rules,
//! audit and rate limits as a request of its own.

use muster_server::Config;
use muster_server::ratelimit::{ApiRate, LimitSettings};
use serde_json::{Value, json};

use crate::support::{Org, SHOP, TestServer, scim_error, seed_org};

const BULK: &str = "/o/acme/scim/v2/Bulk";
const BULK_REQUEST: &str = "urn:ietf:params:scim:api:messages:2.0:BulkRequest";

async fn admin_of(server: &TestServer) -> (Org, String) {
    let org = seed_org(server, "acme");
    let token = server.sign_in(Some("acme"), &org.admin.email).await.access;
    (org, token)
}

fn person(user_name: &str) -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", SHOP],
        "userName": user_name,
        "name": {"givenName": "Casey", "familyName": "Quinn"},
        "emails": [{"value": format!("{user_name}@acme.test"), "primary": true}],
        SHOP: {"licence": "field", "role": "technician"},
    })
}

fn bulk(operations: Value) -> Value {
    json!({"schemas": [BULK_REQUEST], "Operations": operations})
}

/// POSTs a bulk request that must be answered 200; returns its operations.
async fn run(server: &TestServer, token: &str, body: &Value) -> Vec<Value> {
    let response = server.post(BULK, token, body).await;
    let status = response.status();
    let text = response.text().await.unwrap();
    assert_eq!(
        status, 200,
        "a bulk request is answered 200 as a whole: {text}"
    );
    let answer: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(
        answer["schemas"],
        json!(["urn:ietf:params:scim:api:messages:2.0:BulkResponse"]),
        "the answer is a BulkResponse"
    );
    answer["Operations"].as_array().unwrap().clone()
}

fn statuses(operations: &[Value]) -> Vec<&str> {
    operations
        .iter()
        .map(|op| op["status"].as_str().unwrap())
        .collect()
}

async fn user_count(server: &TestServer, token: &str, user_name: &str) -> u64 {
    let page: Value = server
        .get(
            &format!("/o/acme/scim/v2/Users?filter=userName%20eq%20%22{user_name}%22"),
            token,
        )
        .await
        .json()
        .await
        .unwrap();
    page["totalResults"].as_u64().unwrap()
}

#[tokio::test]
async fn the_service_provider_config_advertises_bulk() {
    let server = TestServer::start().await;
    let (_, token) = admin_of(&server).await;
    let config: Value = server
        .get("/o/acme/scim/v2/ServiceProviderConfig", &token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        config["bulk"],
        json!({"supported": true, "maxOperations": 1000, "maxPayloadSize": 1_048_576}),
        "clients size their bulk requests by these"
    );
}

#[tokio::test]
async fn creates_and_actions_chain_through_bulk_ids() {
    let server = TestServer::start().await;
    let (_, token) = admin_of(&server).await;
    let operations = run(
        &server,
        &token,
        &bulk(json!([
            // A forward reference: the group names a user created further down.
            {"method": "POST", "path": "/Groups", "bulkId": "crew",
             "data": {"displayName": "Night crew", "members": [{"value": "bulkId:casey"}]}},
            {"method": "POST", "path": "/Users", "bulkId": "casey", "data": person("casey")},
            {"method": "POST", "path": "/Users/bulkId:casey/actions/send-welcome", "bulkId": "welcome"},
            {"method": "PATCH", "path": "/Users/bulkId:casey", "version": "W/\"1\"",
             "data": {"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                      "Operations": [{"op": "replace", "path": "displayName", "value": "Casey Q"}]}},
        ])),
    )
    .await;
    assert_eq!(
        statuses(&operations),
        ["201", "201", "200", "200"],
        "every operation ran, in request order: {operations:#?}"
    );
    let user = &operations[1];
    let id = user["response"]["id"].as_str().unwrap();
    assert_eq!(user["method"], "POST", "the method is echoed");
    assert_eq!(user["bulkId"], "casey", "the bulkId is echoed");
    assert!(
        user["location"]
            .as_str()
            .unwrap()
            .ends_with(&format!("/o/acme/scim/v2/Users/{id}")),
        "a created resource's location: {user}"
    );
    assert_eq!(user["version"], "W/\"1\"", "and its version");
    assert_eq!(
        operations[0]["response"]["members"][0]["value"], id,
        "bulkId:casey in data became the user's id, though the group came first"
    );
    let welcomed = &operations[2]["response"];
    assert_eq!(welcomed["id"], id, "the action ran on the created user");
    assert!(
        welcomed[SHOP]["invitation"]["sentAt"].is_string(),
        "the invitation was sent: {welcomed}"
    );
    assert_eq!(
        operations[3]["response"]["displayName"], "Casey Q",
        "version became If-Match, which matched"
    );
    assert_ne!(
        operations[3]["version"], "W/\"1\"",
        "the patch made a new version, and the entry carries it"
    );

    let audit: Vec<String> = server.write(|tx| {
        let mut statement = tx
            .prepare("SELECT action FROM audit WHERE org = 'acme' ORDER BY seq")
            .unwrap();
        statement
            .query_map([], |row| row.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    });
    for action in [
        "user.create",
        "group.create",
        "user.send_welcome",
        "user.patch",
        "bulk.run",
    ] {
        assert!(
            audit.iter().any(|a| a == action),
            "each operation is audited as a single request would be, and the bulk too: \
             {action} in {audit:?}"
        );
    }
}

#[tokio::test]
async fn failed_operations_are_reported_while_the_others_succeed() {
    let server = TestServer::start().await;
    let (org, token) = admin_of(&server).await;
    let tom = &org.technician.id;
    let mut bad_email = person("bad");
    bad_email["emails"] = json!([{"value": "not an address"}]);
    let operations = run(
        &server,
        &token,
        &bulk(json!([
            {"method": "POST", "path": format!("/Users/{}/actions/suspend", org.admin.id)},
            {"method": "POST", "path": "/Users", "bulkId": "bad", "data": bad_email},
            {"method": "POST", "path": "/Users/bulkId:bad/actions/send-welcome"},
            {"method": "POST", "path": "/Users", "bulkId": "good", "data": person("good")},
            {"method": "POST", "path": format!("/Users/{tom}/actions/suspend")},
            {"method": "PUT", "path": format!("/Users/{tom}"), "version": "W/\"99\"",
             "data": person("tom")},
            {"method": "DELETE", "path": "/Users/bulkId:good"},
            {"method": "POST", "path": "/Users/bulkId:nobody/actions/suspend"},
            {"method": "post", "path": "/Admin/orgs", "data": {}},
        ])),
    )
    .await;
    assert_eq!(
        statuses(&operations),
        [
            "403", "400", "409", "201", "200", "412", "204", "400", "400"
        ],
        "each operation has its own outcome: {operations:#?}"
    );
    assert_eq!(
        operations[0]["response"]["detail"], "You cannot suspend your own account.",
        "the same rule and words as a single request"
    );
    assert_eq!(
        operations[0]["response"]["schemas"],
        json!(["urn:ietf:params:scim:api:messages:2.0:Error"]),
        "failures carry a SCIM error body"
    );
    assert_eq!(
        operations[0]["response"]["status"], "403",
        "its status is a string too"
    );
    assert!(
        operations[0].get("location").is_none() && operations[0].get("version").is_none(),
        "a failure has no location or version"
    );
    assert_eq!(
        operations[1]["response"]["scimType"], "invalidValue",
        "an invalid email"
    );
    assert!(
        operations[2]["response"]["detail"]
            .as_str()
            .unwrap()
            .contains("bulkId 'bad'"),
        "an operation on a failed creation says so: {}",
        operations[2]
    );
    assert!(
        operations[6]["location"]
            .as_str()
            .unwrap()
            .ends_with(&format!(
                "/Users/{}",
                operations[3]["response"]["id"].as_str().unwrap()
            )),
        "a delete says where it happened"
    );
    assert_eq!(
        operations[7]["response"]["scimType"], "invalidValue",
        "a bulkId no operation has"
    );
    assert_eq!(
        operations[8]["response"]["scimType"], "invalidPath",
        "only users, groups and their actions can be reached"
    );
    let status: Value = server
        .get(&format!("/o/acme/scim/v2/Users/{}", org.admin.id), &token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        status[SHOP]["status"], "active",
        "the refused suspension changed nothing"
    );
}

#[tokio::test]
async fn fail_on_errors_stops_after_that_many_failures() {
    let server = TestServer::start().await;
    let (org, token) = admin_of(&server).await;
    let self_suspend = json!({"method": "POST",
                              "path": format!("/Users/{}/actions/suspend", org.admin.id)});
    let mut body = bulk(json!([
        self_suspend,
        {"method": "POST", "path": "/Users", "bulkId": "a", "data": person("first")},
        self_suspend,
        {"method": "POST", "path": "/Users", "bulkId": "b", "data": person("second")},
    ]));
    body["failOnErrors"] = json!(2);
    let operations = run(&server, &token, &body).await;
    assert_eq!(
        statuses(&operations),
        ["403", "201", "403"],
        "the second failure stops the request; what did not run is left out"
    );
    assert_eq!(user_count(&server, &token, "first").await, 1, "ran");
    assert_eq!(user_count(&server, &token, "second").await, 0, "never ran");

    let mut cycle = bulk(json!([
        {"method": "POST", "path": "/Groups", "bulkId": "x",
         "data": {"displayName": "X", "members": [{"value": "bulkId:y"}]}},
        {"method": "POST", "path": "/Groups", "bulkId": "y",
         "data": {"displayName": "Y", "members": [{"value": "bulkId:x"}]}},
    ]));
    cycle["failOnErrors"] = json!(5);
    let operations = run(&server, &token, &cycle).await;
    assert_eq!(
        statuses(&operations),
        ["409", "409"],
        "references in a cycle can never be resolved"
    );
}

#[tokio::test]
async fn malformed_and_oversized_bulk_requests_are_refused_whole() {
    let server = TestServer::start().await;
    let (org, token) = admin_of(&server).await;
    let one = json!({"method": "POST", "path": "/Users", "bulkId": "a", "data": person("a")});

    let too_many: Vec<Value> = (0..1001)
        .map(|n| json!({"method": "DELETE", "path": format!("/Users/u{n}")}))
        .collect();
    let error = scim_error(server.post(BULK, &token, &bulk(json!(too_many))).await, 413).await;
    assert_eq!(error["scimType"], "tooMany", "over maxOperations: {error}");
    assert!(
        error["detail"].as_str().unwrap().contains("1000"),
        "names the limit: {error}"
    );

    let mut big = person("big");
    big["title"] = json!("x".repeat(1_100_000));
    let error = scim_error(
        server
            .post(
                BULK,
                &token,
                &bulk(json!([{"method": "POST", "path": "/Users", "data": big}])),
            )
            .await,
        413,
    )
    .await;
    assert_eq!(error["scimType"], "tooMany", "over maxPayloadSize: {error}");
    assert_eq!(user_count(&server, &token, "big").await, 0, "nothing ran");

    let error = scim_error(
        server
            .post(BULK, &token, &json!({"Operations": [one.clone()]}))
            .await,
        400,
    )
    .await;
    assert_eq!(error["scimType"], "invalidSyntax", "the schema is required");
    let error = scim_error(
        server
            .post(BULK, &token, &bulk(json!([one.clone(), one.clone()])))
            .await,
        400,
    )
    .await;
    assert!(
        error["detail"].as_str().unwrap().contains("bulkId 'a'"),
        "a bulkId names one operation: {error}"
    );
    scim_error(
        server
            .post(
                BULK,
                &token,
                &bulk(json!([{"method": "GET", "path": "/Users"}])),
            )
            .await,
        400,
    )
    .await;
    assert_eq!(user_count(&server, &token, "a").await, 0, "nothing ran");

    let viewer = server.sign_in(Some("acme"), &org.viewer.email).await.access;
    scim_error(server.post(BULK, &viewer, &bulk(json!([one]))).await, 403).await;
}

#[tokio::test]
async fn each_operation_counts_against_the_api_rate_limit() {
    let server = TestServer::start_with_limits(LimitSettings {
        api: ApiRate::new(1, 5),
        ..LimitSettings::default()
    })
    .await;
    let (_, token) = admin_of(&server).await;
    let operations: Vec<Value> = (0..6)
        .map(|n| {
            json!({"method": "POST", "path": "/Users", "bulkId": format!("u{n}"),
                        "data": person(&format!("user{n}"))})
        })
        .collect();
    let response = server.post(BULK, &token, &bulk(json!(operations))).await;
    assert_eq!(
        response.status(),
        200,
        "the bulk request itself was allowed"
    );
    assert_eq!(
        response.headers()["retry-after"],
        "1",
        "the answer says when the refused operations may be retried"
    );
    let answer: Value = response.json().await.unwrap();
    let operations = answer["Operations"].as_array().unwrap();
    assert_eq!(
        statuses(operations),
        ["201", "201", "201", "201", "429", "429"],
        "a burst of 5: one for the bulk request, four for operations"
    );
    assert!(
        operations[4]["response"]["detail"]
            .as_str()
            .unwrap()
            .contains("Too many requests"),
        "a refused operation says why: {}",
        operations[4]
    );
    server.advance(time::Duration::seconds(2));
    assert_eq!(
        user_count(&server, &token, "user4").await,
        0,
        "a refused operation did nothing"
    );
}

#[tokio::test]
async fn slow_requests_time_out_with_a_scim_error() {
    let server = TestServer::start_with(
        Config {
            request_timeout: std::time::Duration::from_millis(1),
            ..Config::default()
        },
        LimitSettings::default(),
    )
    .await;
    let org = seed_org(&server, "acme");
    // Signing in is held to the same timeout, so the token comes from the database.
    let token = server.write(|tx| {
        muster_server::admin::integration_token(tx, "acme", "robot", server.now()).unwrap()
    });
    // Setting a password hashes it with argon2id, which takes far longer than 1 ms.
    let set_password = format!("/Users/{}/actions/set-password", org.viewer.id);
    let password = json!({"password": "Sprinkler-Valve-42!"});
    let body = scim_error(
        server
            .post(&format!("/o/acme/scim/v2{set_password}"), &token, &password)
            .await,
        503,
    )
    .await;
    assert!(
        body["detail"].as_str().unwrap().contains("did not finish"),
        "says what happened: {body}"
    );
    let operations = run(
        &server,
        &token,
        &bulk(json!([{"method": "POST", "path": set_password, "data": password}])),
    )
    .await;
    assert_eq!(
        statuses(&operations),
        ["503"],
        "a bulk request has its own, longer limit; each operation keeps the normal one"
    );
}
