//! SCIM list queries over HTTP: filters, sorting and paging, and the attribute
//! selection following each attribute's `returned` rule.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::{Value, json};

use crate::scim::{ENTERPRISE, USER, admin, create, ids, list, person, users};

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
async fn ids_only_pages_answer_what_the_full_projection_would() {
    let (server, token) = admin().await;
    for (name, extension) in [
        ("i1", None),
        ("i2", Some(ENTERPRISE)),
        ("i3", Some(crate::support::SHOP)),
    ] {
        let mut body = person(name, "Ids");
        if let Some(urn) = extension {
            body[urn] = if urn == ENTERPRISE {
                json!({"department": "Ops"})
            } else {
                json!({"licence": "desk", "role": "viewer"})
            };
        }
        create(&server, &token, body).await;
    }
    // `attributes=id,id` names id twice: the general projection, for comparison.
    for query in [
        vec![("count", "100")],
        vec![("count", "2"), ("startIndex", "3")],
        vec![
            ("filter", r#"name.familyName eq "Ids""#),
            ("sortBy", "userName"),
            ("sortOrder", "descending"),
        ],
    ] {
        let fast = list(
            &server,
            &token,
            &[query.clone(), vec![("attributes", "id")]].concat(),
        )
        .await;
        let general = list(
            &server,
            &token,
            &[query.clone(), vec![("attributes", "id,id")]].concat(),
        )
        .await;
        assert_eq!(fast, general, "{query:?}");
        let first = &fast["Resources"][0];
        assert!(
            first["id"].is_string() && first["schemas"][0] == USER,
            "{first}"
        );
        assert!(first.get("meta").is_none() && first.get("userName").is_none());
    }
    let shop = list(
        &server,
        &token,
        &[("filter", r#"userName eq "i3""#), ("attributes", "id")],
    )
    .await;
    assert_eq!(
        shop["Resources"][0]["schemas"],
        json!([USER, crate::support::SHOP])
    );
}

#[tokio::test]
async fn totals_follow_every_write_although_walks_count_once() {
    let (server, token) = admin().await;
    let total = |page: &Value| page["totalResults"].as_u64().unwrap();
    // Every reader answers at least once, so each has a count to reuse.
    let mut before = 0;
    for _ in 0..8 {
        before = total(&list(&server, &token, &[("attributes", "id"), ("count", "1")]).await);
    }
    let created = create(&server, &token, person("tally", "Count")).await;
    for _ in 0..8 {
        let page = list(&server, &token, &[("attributes", "id"), ("count", "1")]).await;
        assert_eq!(
            total(&page),
            before + 1,
            "a new user is counted by every reader"
        );
    }
    let id = created["id"].as_str().unwrap();
    let deleted = server
        .client
        .delete(server.url(&users(&format!("/{id}"))))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), 204);
    for _ in 0..8 {
        let page = list(&server, &token, &[("count", "1")]).await;
        assert_eq!(total(&page), before, "a deleted user is no longer counted");
    }
}

/// The ids of every page of 4 from the start, each page asked for on its own.
async fn walk(
    server: &crate::support::TestServer,
    token: &str,
    query: &[(&str, &str)],
) -> Vec<String> {
    let mut seen = Vec::new();
    loop {
        let start = (seen.len() + 1).to_string();
        let mut asked = query.to_vec();
        asked.extend([("startIndex", start.as_str()), ("count", "4")]);
        let page = list(server, token, &asked).await;
        let resources = page["Resources"].as_array().unwrap().clone();
        seen.extend(
            resources
                .iter()
                .map(|r| r["id"].as_str().unwrap().to_owned()),
        );
        if resources.len() < 4 {
            return seen;
        }
    }
}

#[tokio::test]
async fn a_walk_page_by_page_lists_what_one_page_would_also_after_a_write() {
    let (server, token) = admin().await;
    for n in 0..30 {
        create(&server, &token, person(&format!("walker{n:02}"), "Walker")).await;
    }
    let whole = |query: Vec<(&'static str, &'static str)>| {
        let (server, token) = (&server, &token);
        async move {
            let mut asked = query;
            asked.push(("count", "1000"));
            let page = list(server, token, &asked).await;
            page["Resources"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r["id"].as_str().unwrap().to_owned())
                .collect::<Vec<_>>()
        }
    };
    let queries: [Vec<(&str, &str)>; 5] = [
        vec![],
        vec![("attributes", "id")],
        vec![("sortOrder", "descending")],
        vec![("attributes", "id"), ("sortOrder", "descending")],
        vec![("filter", r#"userName sw "walker""#), ("attributes", "id")],
    ];
    for query in &queries {
        let expected = whole(query.clone()).await;
        assert!(expected.len() >= 30, "{query:?}");
        // Every reader serves pages of the walk, and later walks start from where its
        // earlier pages ended.
        for round in 0..4 {
            assert_eq!(
                walk(&server, &token, query).await,
                expected,
                "{query:?}, walk {round}"
            );
        }
        // Pages of other sizes, out of order: each starts some rows after the nearest
        // known row before it.
        for (start, count) in [(13usize, 3usize), (22, 5), (9, 7), (27, 2), (30, 9)] {
            let (first, size) = (start.to_string(), count.to_string());
            let mut asked = query.clone();
            asked.extend([("startIndex", first.as_str()), ("count", size.as_str())]);
            let page = list(&server, &token, &asked).await;
            let got: Vec<&str> = page["Resources"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r["id"].as_str().unwrap())
                .collect();
            let end = (start - 1 + count).min(expected.len());
            assert_eq!(
                got,
                expected[start - 1..end],
                "{query:?} from {start}, {count}"
            );
        }
    }
    // A user early in the list goes: every later page moves up by one, as a single page
    // would say, although the readers knew where the pages ended before.
    let gone = whole(vec![]).await[2].clone();
    let deleted = server
        .client
        .delete(server.url(&users(&format!("/{gone}"))))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), 204);
    for query in &queries {
        let expected = whole(query.clone()).await;
        assert!(!expected.contains(&gone));
        assert_eq!(
            walk(&server, &token, query).await,
            expected,
            "{query:?} after the delete"
        );
    }
}
