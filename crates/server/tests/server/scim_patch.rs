//! SCIM PATCH over HTTP: attribute paths, value filters and the habits of real
//! providers.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::{Value, json};

use crate::scim::{admin, create, person, send, users};
use crate::support::{SHOP, scim_error};

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
