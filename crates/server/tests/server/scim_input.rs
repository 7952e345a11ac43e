//! What SCIM writes accept over HTTP: lenient input stored canonically, duplicates
//! refused with `uniqueness`, and every kind of bad input answered with a SCIM error,
//! never a 500.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::{Value, json};

use crate::scim::{admin, create, list, person, users};
use crate::support::{SHOP, scim_error};

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
async fn the_field_licence_is_for_technicians_on_create_and_patch() {
    let (server, token) = admin().await;
    let mut boss = person("bo", "Boss");
    boss[SHOP] = json!({"licence": "field", "role": "admin"});
    let error = scim_error(server.post(&users(""), &token, &boss).await, 400).await;
    assert_eq!(error["scimType"], "invalidValue");
    assert_eq!(error["attribute"], "role", "the field at fault is named");
    let mut roleless = person("ro", "Less");
    roleless[SHOP] = json!({"licence": "Field"});
    let filled = create(&server, &token, roleless).await;
    assert_eq!(
        filled[SHOP]["role"], "technician",
        "a field licence with no role given makes a technician"
    );

    let mut tech = person("tia", "Tech");
    tech[SHOP] = json!({"licence": "field", "role": "Technician"});
    let tech = create(&server, &token, tech).await;
    let path = users(&format!("/{}", tech["id"].as_str().unwrap()));
    let patch = |path: String, value: &str| {
        json!({
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [{"op": "replace", "path": path, "value": value}],
        })
    };
    let promote = patch(format!("{SHOP}:role"), "viewer");
    let error = scim_error(server.patch(&path, &token, &promote).await, 400).await;
    assert_eq!(
        error["attribute"], "role",
        "a PATCH is held to the same rule"
    );
    let to_desk = patch(format!("{SHOP}:licence"), "desk");
    assert_eq!(server.patch(&path, &token, &to_desk).await.status(), 200);
    let now_viewer = server.patch(&path, &token, &promote).await;
    assert_eq!(now_viewer.status(), 200, "a desk licence takes any role");

    // A user stored before the rule (field and admin, a flag no longer offered) can still
    // be changed otherwise, and deprovisioned; only a change to the pair is held to it.
    let legacy = create(&server, &token, person("leg", "Acy")).await;
    let legacy_id = legacy["id"].as_str().unwrap().to_owned();
    let shop = json!({"licence": "field", "role": "admin", "permissions": ["oldFlag"]});
    server.write(|tx| {
        tx.execute(
            "UPDATE users SET doc = json_set(doc, ?2, json(?3)) WHERE id = ?1",
            rusqlite::params![legacy_id, format!("$.\"{SHOP}\""), shop.to_string()],
        )
        .unwrap()
    });
    let legacy_path = users(&format!("/{legacy_id}"));
    let rename = patch("name.familyName".to_owned(), "Acy-Two");
    assert_eq!(
        server.patch(&legacy_path, &token, &rename).await.status(),
        200
    );
    let off = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                     "Operations": [{"op": "replace", "path": "active", "value": false}]});
    let deprovisioned = server.patch(&legacy_path, &token, &off).await;
    assert_eq!(deprovisioned.status(), 200, "deprovisioning works");
    let viewer = patch(format!("{SHOP}:role"), "viewer");
    let error = scim_error(server.patch(&legacy_path, &token, &viewer).await, 400).await;
    assert_eq!(error["attribute"], "role");
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
    assert_eq!(
        error["attribute"], "userName",
        "the taken attribute is named"
    );

    let mut same_email = person("dana2", "Doe");
    same_email["emails"] = json!([{"value": "Dana@ACME.test"}]);
    let error = scim_error(server.post(&users(""), &token, &same_email).await, 409).await;
    assert_eq!(error["scimType"], "uniqueness");
    assert_eq!(error["attribute"], "emails", "the taken attribute is named");
    let detail = error["detail"].as_str().unwrap();
    assert!(
        detail.contains("dana+contractor@acme.test"),
        "the detail suggests a plus address: {detail}"
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
async fn permissions_come_from_the_capability_document_and_only_those_are_taken() {
    let (server, token) = admin().await;
    let document: Value = server
        .get("/o/acme/scim/v2/actions", &token)
        .await
        .json()
        .await
        .unwrap();
    let permissions = document["permissions"].as_array().unwrap();
    assert!(permissions.len() >= 3, "{document}");
    for permission in permissions {
        assert!(permission["label"].is_string() && permission["description"].is_string());
    }
    let names: Vec<&str> = permissions
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert!(names.contains(&"viewOthersAssignments") && names.contains(&"pushToShopSystem"));

    let mut body = person("perm", "Ission");
    body[SHOP] = json!({"licence": "desk", "role": "viewer", "permissions": names});
    let created = create(&server, &token, body).await;
    assert_eq!(
        created[SHOP]["permissions"].as_array().unwrap().len(),
        names.len()
    );
    let mut twice = person("perm3", "Ission");
    twice[SHOP] = json!({"permissions": ["viewPricing", "VIEWPRICING", " viewpricing "]});
    let twice = create(&server, &token, twice).await;
    assert_eq!(
        twice[SHOP]["permissions"],
        json!(["viewPricing"]),
        "no value twice"
    );
    let mut unknown = person("perm2", "Ission");
    unknown[SHOP] = json!({"permissions": ["launchRockets"]});
    let error = scim_error(server.post(&users(""), &token, &unknown).await, 400).await;
    assert!(
        error["detail"].as_str().unwrap().contains("launchRockets"),
        "{error}"
    );
}
