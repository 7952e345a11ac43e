//! SCIM Users and Groups over HTTP: CRUD, filters, sorting, paging, PATCH, ETags, the
//! attribute selection, and every kind of bad input answered with a SCIM error.

use serde_json::{Value, json};

use crate::support::{SHOP, TestServer, scim_error, seed_org};

const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

/// A server with org `acme` and an admin's access token.
async fn admin() -> (TestServer, String) {
    let server = TestServer::start().await;
    let org = seed_org(&server, "acme");
    let token = server.sign_in(Some("acme"), &org.admin.email).await.access;
    (server, token)
}

fn users(path: &str) -> String {
    format!("/o/acme/scim/v2/Users{path}")
}

async fn send(
    server: &TestServer,
    method: reqwest::Method,
    path: &str,
    token: &str,
    body: Option<&Value>,
) -> reqwest::Response {
    let mut request = server
        .client
        .request(method, server.url(path))
        .bearer_auth(token);
    if let Some(body) = body {
        request = request
            .header("content-type", "application/scim+json")
            .json(body);
    }
    request.send().await.unwrap()
}

async fn create(server: &TestServer, token: &str, body: Value) -> Value {
    let response = server.post(&users(""), token, &body).await;
    assert_eq!(response.status(), 201, "a valid user is created");
    response.json().await.unwrap()
}

fn person(user_name: &str, family: &str) -> Value {
    json!({
        "schemas": [USER],
        "userName": user_name,
        "name": {"givenName": "Pat", "familyName": family},
        "emails": [{"value": format!("{user_name}@acme.test"), "type": "work", "primary": true}],
    })
}

async fn list(server: &TestServer, token: &str, query: &[(&str, &str)]) -> Value {
    let response = server
        .client
        .get(server.url(&users("")))
        .query(query)
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "the list query {query:?} is valid");
    response.json().await.unwrap()
}

fn ids(list: &Value) -> Vec<String> {
    list["Resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["userName"].as_str().unwrap_or("").to_owned())
        .collect()
}

#[tokio::test]
async fn create_read_replace_delete_round_trip() {
    let (server, token) = admin().await;
    let mut body = person("sam.smith", "Smith");
    body[ENTERPRISE] = json!({"department": "Field Operations"});
    body[SHOP] = json!({"licence": "Field", "role": "technician", "zones": ["North"]});
    body["password"] = json!("Sup3r-Secret-Pass!");
    let created = create(&server, &token, body).await;
    let id = created["id"].as_str().unwrap().to_owned();
    assert_eq!(
        created["schemas"],
        json!([USER, ENTERPRISE, SHOP]),
        "schemas lists each extension present"
    );
    assert_eq!(
        created[SHOP]["licence"], "field",
        "licence is stored in canonical case"
    );
    assert!(
        created.get("password").is_none(),
        "a password is never returned"
    );
    assert_eq!(created["meta"]["version"], "W/\"1\"");
    assert!(
        created["meta"]["location"]
            .as_str()
            .unwrap()
            .ends_with(&format!("/o/acme/scim/v2/Users/{id}"))
    );

    let fetched: Value = server
        .get(&users(&format!("/{id}")), &token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(fetched, created, "a read returns what the create returned");

    let mut replacement = person("sam.smith", "Smith-Jones");
    replacement["active"] = json!(false);
    let response = send(
        &server,
        reqwest::Method::PUT,
        &users(&format!("/{id}")),
        &token,
        Some(&replacement),
    )
    .await;
    assert_eq!(response.status(), 200);
    let replaced: Value = response.json().await.unwrap();
    assert_eq!(replaced["name"]["familyName"], "Smith-Jones");
    assert_eq!(replaced["active"], false);
    assert!(
        replaced.get(ENTERPRISE).is_none(),
        "PUT replaces: attributes left out are gone"
    );
    assert_eq!(
        replaced["meta"]["version"], "W/\"2\"",
        "every change bumps the version"
    );

    let response = send(
        &server,
        reqwest::Method::DELETE,
        &users(&format!("/{id}")),
        &token,
        None,
    )
    .await;
    assert_eq!(response.status(), 204);
    scim_error(server.get(&users(&format!("/{id}")), &token).await, 404).await;
}

#[tokio::test]
async fn lenient_input_is_accepted_and_stored_canonically() {
    let (server, token) = admin().await;
    let body = json!({
        "USERNAME": "lee", "Active": "False",
        "Name": {"FamilyName": "Lee"},
        "emails": [{"Value": "lee@acme.test", "Primary": "true"}],
    });
    let response = server
        .client
        .post(server.url(&users("")))
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.status(),
        201,
        "missing schemas, odd key case and string booleans are taken"
    );
    assert_eq!(response.headers()["content-type"], "application/scim+json");
    let user: Value = response.json().await.unwrap();
    assert_eq!(user["userName"], "lee");
    assert_eq!(user["active"], false, "\"False\" is read as false");
    assert_eq!(user["name"]["familyName"], "Lee");
    assert_eq!(user["emails"][0]["primary"], true);
}

#[tokio::test]
async fn duplicates_are_refused_with_uniqueness() {
    let (server, token) = admin().await;
    create(&server, &token, person("dana", "Doe")).await;
    let same_name = server
        .post(&users(""), &token, &person("DANA", "Other"))
        .await;
    let error = scim_error(same_name, 409).await;
    assert_eq!(
        error["scimType"], "uniqueness",
        "userName compares case-insensitively"
    );

    let mut same_email = person("dana2", "Doe");
    same_email["emails"] = json!([{"value": "Dana@ACME.test"}]);
    let error = scim_error(server.post(&users(""), &token, &same_email).await, 409).await;
    assert_eq!(error["scimType"], "uniqueness");
    let detail = error["detail"].as_str().unwrap();
    assert!(
        detail.contains("dana+contractor@acme.test"),
        "the detail suggests a plus address: {detail}"
    );
}

#[tokio::test]
async fn filters_sorting_and_paging() {
    let (server, token) = admin().await;
    for (name, family) in [
        ("a1", "Smith"),
        ("a2", "smythe"),
        ("a3", "Jones"),
        ("a4", "Smalls"),
        ("a5", "Ng"),
    ] {
        let mut body = person(name, family);
        body[ENTERPRISE] = json!({"department": if family == "Jones" { "Ops" } else { "Sales" }});
        create(&server, &token, body).await;
    }
    let page = list(
        &server,
        &token,
        &[
            ("filter", r#"name.familyName sw "SM""#),
            ("sortBy", "name.familyName"),
        ],
    )
    .await;
    assert_eq!(page["totalResults"], 3, "sw is case-insensitive");
    assert_eq!(
        ids(&page),
        ["a4", "a1", "a2"],
        "sorted by family name, case-insensitively"
    );

    let page = list(
        &server,
        &token,
        &[
            ("filter", r#"name.familyName sw "sm""#),
            ("sortBy", "name.familyName"),
            ("sortOrder", "descending"),
            ("startIndex", "2"),
            ("count", "1"),
        ],
    )
    .await;
    assert_eq!(
        (
            page["totalResults"].as_u64(),
            page["startIndex"].as_u64(),
            page["itemsPerPage"].as_u64()
        ),
        (Some(3), Some(2), Some(1))
    );
    assert_eq!(ids(&page), ["a1"]);

    let ext = format!(r#"{ENTERPRISE}:department eq "ops" or emails[value ew "a5@acme.test"]"#);
    let page = list(&server, &token, &[("filter", &ext), ("sortBy", "userName")]).await;
    assert_eq!(
        ids(&page),
        ["a3", "a5"],
        "extension attributes and value filters are filterable"
    );

    let page = list(
        &server,
        &token,
        &[(
            "filter",
            r#"not (userName sw "a") and emails.value co "@acme""#,
        )],
    )
    .await;
    assert_eq!(
        page["totalResults"], 2,
        "of the seeded ada, tom and vera (@acme.example), ada starts with a"
    );

    let page = list(
        &server,
        &token,
        &[
            ("filter", r#"meta.lastModified gt "2000-01-01T00:00:00Z""#),
            ("count", "0"),
        ],
    )
    .await;
    assert_eq!(page["totalResults"], 8, "dates compare as dates");
    assert_eq!(
        page["Resources"],
        json!([]),
        "count=0 returns only the total"
    );
}

#[tokio::test]
async fn attribute_selection_follows_returned_rules() {
    let (server, token) = admin().await;
    let created = create(&server, &token, person("ivy", "Ito")).await;
    let id = created["id"].as_str().unwrap();
    let only: Value = server
        .get(
            &users(&format!("/{id}?attributes=name.familyName,emails.value")),
            &token,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        only,
        json!({"schemas": [USER], "id": id, "name": {"familyName": "Ito"}, "emails": [{"value": "ivy@acme.test"}]})
    );
    let without: Value = server
        .get(
            &users(&format!("/{id}?excludedAttributes=emails,meta,id")),
            &token,
        )
        .await
        .json()
        .await
        .unwrap();
    assert!(without.get("emails").is_none() && without.get("meta").is_none());
    assert_eq!(without["id"], id, "id is always returned");
}

#[tokio::test]
async fn patch_paths_value_filters_and_provider_quirks() {
    let (server, token) = admin().await;
    let created = create(&server, &token, person("pia", "Park")).await;
    let path = users(&format!("/{}", created["id"].as_str().unwrap()));
    let patch = |ops: Value| json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": ops});

    // Entra ID: "Replace" with a capital, "False" as a string, and an add through a filter
    // that matches nothing yet.
    let ops = patch(json!([
        {"op": "Replace", "path": "active", "value": "False"},
        {"op": "Add", "path": "emails[type eq \"home\"].value", "value": "pia@home.test"},
        {"op": "replace", "path": "name.givenName", "value": "Pia"},
        {"op": "add", "path": format!("{SHOP}:zones"), "value": ["North"]},
        {"op": "add", "path": format!("{SHOP}:zones"), "value": ["South"]},
    ]));
    let response = send(&server, reqwest::Method::PATCH, &path, &token, Some(&ops)).await;
    assert_eq!(response.status(), 200);
    let user: Value = response.json().await.unwrap();
    assert_eq!(user["active"], false);
    assert_eq!(
        user["emails"][1],
        json!({"type": "home", "value": "pia@home.test"})
    );
    assert_eq!(
        user["name"],
        json!({"givenName": "Pia", "familyName": "Park"})
    );
    assert_eq!(
        user[SHOP]["zones"],
        json!(["North", "South"]),
        "add appends to a multi-valued attribute (RFC 7644 §3.5.2.1)"
    );

    // Okta: a path-less replace; then removing through a value filter.
    let ops = patch(json!([
        {"op": "replace", "value": {"active": true, "displayName": "Pia P."}},
        {"op": "remove", "path": "emails[type eq \"home\"]"},
    ]));
    let user: Value = send(&server, reqwest::Method::PATCH, &path, &token, Some(&ops))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (user["active"].as_bool(), user["displayName"].as_str()),
        (Some(true), Some("Pia P."))
    );
    assert_eq!(
        user["emails"].as_array().unwrap().len(),
        1,
        "the home email is removed"
    );

    let error = scim_error(
        send(
            &server,
            reqwest::Method::PATCH,
            &path,
            &token,
            Some(&patch(
                json!([{"op": "replace", "path": "emails[type eq \"fax\"", "value": "x"}]),
            )),
        )
        .await,
        400,
    )
    .await;
    assert_eq!(error["scimType"], "invalidPath");
    let error = scim_error(
        send(
            &server,
            reqwest::Method::PATCH,
            &path,
            &token,
            Some(&patch(
                json!([{"op": "replace", "path": "id", "value": "x"}]),
            )),
        )
        .await,
        400,
    )
    .await;
    assert_eq!(error["scimType"], "mutability", "id is read-only");
    let error = scim_error(
        send(
            &server,
            reqwest::Method::PATCH,
            &path,
            &token,
            Some(&patch(json!([{"op": "remove", "path": "userName"}]))),
        )
        .await,
        400,
    )
    .await;
    assert_eq!(error["scimType"], "invalidValue", "userName is required");
}

#[tokio::test]
async fn etags_guard_updates_and_answer_304() {
    let (server, token) = admin().await;
    let created = create(&server, &token, person("eve", "Eng")).await;
    let path = users(&format!("/{}", created["id"].as_str().unwrap()));
    let response = server
        .client
        .get(server.url(&path))
        .bearer_auth(&token)
        .header("if-none-match", "W/\"1\"")
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.status(),
        304,
        "If-None-Match with the current version"
    );

    let body = person("eve", "Engel");
    let stale = server
        .client
        .put(server.url(&path))
        .bearer_auth(&token)
        .header("if-match", "W/\"7\"")
        .json(&body)
        .send()
        .await
        .unwrap();
    let error = scim_error(stale, 412).await;
    assert!(
        error["detail"].as_str().unwrap().contains("W/\"1\""),
        "the detail names the current version"
    );
    let fresh = server
        .client
        .put(server.url(&path))
        .bearer_auth(&token)
        .header("if-match", "W/\"1\"")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(fresh.status(), 200);
    assert_eq!(fresh.headers()["etag"], "W/\"2\"");
}

#[tokio::test]
async fn groups_members_and_users_groups() {
    let (server, token) = admin().await;
    let user = create(&server, &token, person("gus", "Grant")).await;
    let uid = user["id"].as_str().unwrap();
    let group = json!({"displayName": "Dispatch", "members": [{"value": uid}]});
    let response = server.post("/o/acme/scim/v2/Groups", &token, &group).await;
    assert_eq!(response.status(), 201);
    let group: Value = response.json().await.unwrap();
    assert_eq!(group["members"], json!([{"value": uid, "type": "User"}]));
    let user: Value = server
        .get(&users(&format!("/{uid}")), &token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        user["groups"][0]["display"], "Dispatch",
        "a user lists the groups it belongs to"
    );

    let page: Value = server
        .get(
            &format!("/o/acme/scim/v2/Groups?filter=members.value%20eq%20%22{uid}%22"),
            &token,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(page["totalResults"], 1);

    let ghost = json!({"displayName": "Ghosts", "members": [{"value": "no-such-id"}]});
    let error = scim_error(
        server.post("/o/acme/scim/v2/Groups", &token, &ghost).await,
        400,
    )
    .await;
    assert_eq!(error["scimType"], "invalidValue");

    send(
        &server,
        reqwest::Method::DELETE,
        &users(&format!("/{uid}")),
        &token,
        None,
    )
    .await;
    let group: Value = server
        .get(
            &format!("/o/acme/scim/v2/Groups/{}", group["id"].as_str().unwrap()),
            &token,
        )
        .await
        .json()
        .await
        .unwrap();
    assert!(
        group.get("members").is_none(),
        "deleting a user takes it out of its groups"
    );
}

#[tokio::test]
async fn bad_input_gets_scim_errors_never_500() {
    let (server, token) = admin().await;
    let raw = |body: &'static str| {
        server
            .client
            .post(server.url(&users("")))
            .bearer_auth(&token)
            .header("content-type", "application/scim+json")
            .body(body)
            .send()
    };
    let error = scim_error(raw("{\"userName\": ").await.unwrap(), 400).await;
    assert_eq!(error["scimType"], "invalidSyntax", "malformed JSON");
    scim_error(raw("[1, 2]").await.unwrap(), 400).await;
    scim_error(raw("").await.unwrap(), 400).await;

    let huge = format!("{{\"userName\": \"{}\"}}", "x".repeat(1024 * 1024 + 10));
    let response = server
        .client
        .post(server.url(&users("")))
        .bearer_auth(&token)
        .body(huge)
        .send()
        .await
        .unwrap();
    scim_error(response, 413).await;

    let error = scim_error(
        server
            .client
            .get(server.url(&users("")))
            .query(&[("filter", "userName xx \"a\"")])
            .bearer_auth(&token)
            .send()
            .await
            .unwrap(),
        400,
    )
    .await;
    assert_eq!(error["scimType"], "invalidFilter");
    assert!(
        error["detail"].as_str().unwrap().contains("position 9"),
        "the detail points at the operator: {error}"
    );
    let error = scim_error(
        server
            .client
            .get(server.url(&users("")))
            .query(&[("filter", "active gt true")])
            .bearer_auth(&token)
            .send()
            .await
            .unwrap(),
        400,
    )
    .await;
    assert_eq!(error["scimType"], "invalidFilter", "gt on a boolean");

    let page = list(
        &server,
        &token,
        &[("count", "99999999999999999999"), ("startIndex", "-4")],
    )
    .await;
    assert_eq!(
        (page["itemsPerPage"].as_u64(), page["startIndex"].as_u64()),
        (Some(3), Some(1)),
        "absurd paging is clamped"
    );
    let error = scim_error(
        server
            .client
            .get(server.url(&users("?count=lots")))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap(),
        400,
    )
    .await;
    assert_eq!(error["scimType"], "invalidValue");

    let mut bad_email = person("bea", "Bell");
    bad_email["emails"] = json!([{"value": "not an email"}]);
    let error = scim_error(server.post(&users(""), &token, &bad_email).await, 400).await;
    assert!(
        error["detail"]
            .as_str()
            .unwrap()
            .contains("not a valid email")
    );
    let error = scim_error(
        server
            .post(
                &users(""),
                &token,
                &json!({"userName": "x", "favouriteColour": "red"}),
            )
            .await,
        400,
    )
    .await;
    assert!(
        error["detail"]
            .as_str()
            .unwrap()
            .contains("favouriteColour"),
        "unknown attributes are named"
    );
    let error = scim_error(
        server
            .post(
                &users(""),
                &token,
                &json!({"userName": "x", SHOP: {"licence": "platinum"}}),
            )
            .await,
        400,
    )
    .await;
    assert!(
        error["detail"].as_str().unwrap().contains("field, desk"),
        "the detail lists valid licences"
    );
    scim_error(
        server
            .post(
                &users(""),
                &token,
                &json!({"name": {"familyName": "No Username"}}),
            )
            .await,
        400,
    )
    .await;
    scim_error(
        server
            .post(
                &users(""),
                &token,
                &json!({"userName": "x", "active": "maybe"}),
            )
            .await,
        400,
    )
    .await;

    scim_error(server.get("/o/nope/scim/v2/Users", &token).await, 403).await;
    scim_error(server.get("/o/acme/scim/v2/Nothing", &token).await, 404).await;
    scim_error(
        server.get("/o/acme/scim/v2/Users/unknown-id", &token).await,
        404,
    )
    .await;
    let response = server
        .client
        .delete(server.url("/o/acme/scim/v2/ServiceProviderConfig"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    scim_error(response, 405).await;
    scim_error(
        server
            .client
            .get(server.url(&users("")))
            .bearer_auth("mst_at_forged")
            .send()
            .await
            .unwrap(),
        401,
    )
    .await;
}

#[tokio::test]
async fn discovery_describes_the_server() {
    let (server, token) = admin().await;
    let config: Value = server
        .get("/o/acme/scim/v2/ServiceProviderConfig", &token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (
            config["patch"]["supported"].as_bool(),
            config["etag"]["supported"].as_bool()
        ),
        (Some(true), Some(true))
    );
    assert_eq!(config["filter"]["maxResults"], 1000);
    let types: Value = server
        .get("/o/acme/scim/v2/ResourceTypes", &token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(types["totalResults"], 2);
    let shop: Value = server
        .get(&format!("/o/acme/scim/v2/Schemas/{SHOP}"), &token)
        .await
        .json()
        .await
        .unwrap();
    let names: Vec<&str> = shop["attributes"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|a| a["name"].as_str())
        .collect();
    for name in [
        "licence",
        "role",
        "zones",
        "status",
        "invitation",
        "lastSignIn",
        "mfaEnabled",
    ] {
        assert!(names.contains(&name), "the shop schema defines {name}");
    }
}

#[tokio::test]
async fn viewers_read_and_technicians_are_kept_out() {
    let server = TestServer::start().await;
    let org = seed_org(&server, "acme");
    let viewer = server.sign_in(Some("acme"), &org.viewer.email).await.access;
    assert_eq!(
        server.get(&users(""), &viewer).await.status(),
        200,
        "viewers read"
    );
    scim_error(
        server.post(&users(""), &viewer, &person("v", "V")).await,
        403,
    )
    .await;
    let technician = server
        .sign_in(Some("acme"), &org.technician.email)
        .await
        .access;
    scim_error(server.get(&users(""), &technician).await, 403).await;
}

#[tokio::test]
async fn a_restart_loses_nothing() {
    let dir = std::env::temp_dir().join(format!("muster-restart-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let now = time::OffsetDateTime::now_utc();
    {
        let db = muster_server::db::Db::open(&dir).unwrap();
        db.write_blocking(|tx| {
            muster_server::orgs::create_org_blocking(tx, "keep", "Keep", now)?;
            muster_server::admin::integration_token(tx, "keep", "robot", now).map(|_| ())
        })
        .unwrap();
    }
    let db = muster_server::db::Db::open(&dir).unwrap();
    let count: i64 = db
        .read(|conn| {
            Ok(
                conn.query_row("SELECT count(*) FROM users WHERE org = 'keep'", [], |r| {
                    r.get(0)
                })?,
            )
        })
        .await
        .unwrap();
    assert_eq!(
        count, 1,
        "the user written before the restart is there after it"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[cfg(unix)]
#[test]
fn the_data_directory_and_database_are_private() {
    use std::os::unix::fs::PermissionsExt;
    let dir = std::env::temp_dir()
        .join(format!("muster-modes-{}", std::process::id()))
        .join("data");
    let _ = std::fs::remove_dir_all(&dir);
    let db = muster_server::db::Db::open(&dir).unwrap();
    drop(db);
    let mode =
        |path: &std::path::Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
    assert_eq!(
        mode(&dir),
        0o700,
        "a new data directory is this user's only"
    );
    let file = dir.join("muster.db");
    assert_eq!(mode(&file), 0o600, "the database is this user's only");
    // A database left readable by an older version is tightened at the next start.
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
    drop(muster_server::db::Db::open(&dir).unwrap());
    assert_eq!(mode(&file), 0o600);
    let _ = std::fs::remove_dir_all(dir.parent().unwrap());
}
