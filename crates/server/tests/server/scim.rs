//! SCIM Users and Groups over HTTP: create, read, replace and delete, ETags, group
//! membership, discovery, who may read, and what survives a restart; and the helpers the
//! other SCIM modules share (`scim_queries`, `scim_patch`, `scim_input`).

use serde_json::{Value, json};

use crate::support::{SHOP, TestServer, scim_error, seed_org};

pub(crate) const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";

pub(crate) const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

/// A server with org `acme` and an admin's access token.
pub(crate) async fn admin() -> (TestServer, String) {
    let server = TestServer::start().await;
    let org = seed_org(&server, "acme");
    let token = server.sign_in(Some("acme"), &org.admin.email).await.access;
    (server, token)
}

pub(crate) fn users(path: &str) -> String {
    format!("/o/acme/scim/v2/Users{path}")
}

pub(crate) async fn send(
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

pub(crate) async fn create(server: &TestServer, token: &str, body: Value) -> Value {
    let response = server.post(&users(""), token, &body).await;
    assert_eq!(response.status(), 201, "a valid user is created");
    response.json().await.unwrap()
}

pub(crate) fn person(user_name: &str, family: &str) -> Value {
    json!({
        "schemas": [USER],
        "userName": user_name,
        "name": {"givenName": "Pat", "familyName": family},
        "emails": [{"value": format!("{user_name}@acme.test"), "type": "work", "primary": true}],
    })
}

pub(crate) async fn list(server: &TestServer, token: &str, query: &[(&str, &str)]) -> Value {
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

pub(crate) fn ids(list: &Value) -> Vec<String> {
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
