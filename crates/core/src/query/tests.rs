#![allow(clippy::unwrap_used)]
use muster_scim::filter::parse_filter;
use muster_scim::message::ListResponse;
use muster_scim::user::User;
use serde_json::json;
use time::macros::datetime;

use super::pages::{Read, Walk, parse_page_body};
use super::*;
use crate::error::Error;
use crate::transport::Answer;

#[test]
fn the_builder_prints_canonical_filters() {
    let cases = [
        (
            attr("name.familyName").sw("Sm"),
            r#"name.familyName sw "Sm""#,
        ),
        (attr("userName").eq("a\"b"), r#"userName eq "a\"b""#),
        (attr("active").eq(true), "active eq true"),
        (attr("x").gt(3u64), "x gt 3"),
        (attr("x").le(-1.5), "x le -1.5"),
        (attr("title").pr(), "title pr"),
        (
            attr("meta.lastModified").gt(datetime!(2030-01-01 10:00 +01:00)),
            r#"meta.lastModified gt "2030-01-01T09:00:00Z""#,
        ),
        (
            attr("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department")
                .eq("Office"),
            r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department eq "Office""#,
        ),
        (
            attr("emails").matching(and(attr("type").eq("work"), attr("value").co("@acme"))),
            r#"emails[type eq "work" and value co "@acme"]"#,
        ),
        (
            or(attr("a").pr(), and(attr("b").pr(), not(attr("c").ne(1)))),
            "a pr or b pr and not (c ne 1)",
        ),
        // The module documentation's example.
        (
            and(
                attr("name.familyName").sw("Sm"),
                not(attr("active").eq(false)),
            ),
            r#"name.familyName sw "Sm" and not (active eq false)"#,
        ),
    ];
    for (filter, text) in cases {
        assert_eq!(filter.to_string(), text);
        assert_eq!(
            parse_filter(text).unwrap(),
            filter,
            "what the builder makes is what the parser reads back: {text}"
        );
    }
    assert_eq!(all(Vec::new()), None);
    assert_eq!(
        any([attr("a").pr(), attr("b").pr()]).unwrap().to_string(),
        "a pr or b pr"
    );
}

#[test]
fn queries_become_parameters() {
    let query = ListQuery {
        attributes: vec!["userName".into(), "emails".into()],
        ..ListQuery::filtered(attr("userName").sw("a")).sorted_by("userName", true)
    };
    let params = query.to_params();
    assert_eq!(
        params,
        vec![
            ("filter", r#"userName sw "a""#.to_owned()),
            ("sortBy", "userName".to_owned()),
            ("sortOrder", "descending".to_owned()),
            ("startIndex", "1".to_owned()),
            ("attributes", "userName,emails".to_owned()),
        ]
    );
    let search = serde_json::to_value(query.to_search_request()).unwrap();
    assert_eq!(search["sortOrder"], "descending");
    assert_eq!(search["filter"], r#"userName sw "a""#);
}

fn list(ids: &[&str], total: Option<u64>) -> Read<User> {
    Read {
        list: ListResponse {
            total_results: total,
            items_per_page: None,
            start_index: None,
            resources: ids
                .iter()
                .map(|id| User::from_json(json!({"id": id, "userName": id})).unwrap())
                .collect(),
        },
        unreadable: 0,
    }
}

#[test]
fn a_capped_count_advances_by_what_came_back() {
    let mut walk = Walk::<User>::new(2000);
    let first: Vec<String> = (0..1000).map(|i| format!("u{i}")).collect();
    let first: Vec<&str> = first.iter().map(String::as_str).collect();
    assert_eq!(
        walk.absorb(list(&first, Some(1500)), 1).unwrap(),
        Some(1001)
    );
    assert_eq!(walk.step, 1000, "the provider's cap becomes the page size");
    assert_eq!(
        walk.absorb(list(&[], Some(1500)), 1001).unwrap(),
        None,
        "an empty page ends the walk even if the total promised more"
    );
}

#[test]
fn without_total_a_short_page_ends_the_walk() {
    let mut walk = Walk::<User>::new(3);
    assert_eq!(
        walk.absorb(list(&["a", "b", "c"], None), 1).unwrap(),
        Some(4)
    );
    assert!(walk.worth_prefetching(4));
    assert_eq!(walk.absorb(list(&["d"], None), 4).unwrap(), None);
    assert_eq!(
        walk.progress(),
        Progress {
            fetched: 4,
            total: None,
            unreadable: 0,
        }
    );
    let mut capped = Walk::<User>::new(10);
    assert_eq!(
        capped.absorb(list(&["a", "b"], None), 1).unwrap(),
        Some(3),
        "a short first page may be a cap: look once more"
    );
    assert_eq!(capped.absorb(list(&[], None), 3).unwrap(), None);
}

#[test]
fn pages_handed_on_as_read_keep_the_first_copy_of_an_id_and_count_in_progress() {
    let ids =
        |users: &[User]| -> Vec<String> { users.iter().map(|u| u.id.clone().unwrap()).collect() };
    let mut walk = Walk::<User>::new(2);
    walk.absorb(list(&["a", "b"], Some(5)), 1).unwrap();
    assert_eq!(ids(&walk.hand_on()), ["a", "b"]);
    let mut later = list(&["b", "c", "c"], Some(5));
    later.list.resources[0].display_name = Some("changed".into());
    later.list.resources[2].display_name = Some("second c".into());
    walk.absorb(later, 3).unwrap();
    let second = walk.hand_on();
    assert_eq!(ids(&second), ["c"], "b was handed on already; c once");
    assert_eq!(second[0].display_name.as_deref(), Some("second c"));
    let late = std::mem::take(&mut walk.late);
    assert_eq!(late.len(), 1, "b's later copy, for a caller that keeps it");
    assert_eq!(late[0].0, 1, "at b's place among those handed on");
    assert_eq!(late[0].1.display_name.as_deref(), Some("changed"));
    assert_eq!(walk.progress().fetched, 3);
    assert!(walk.hand_on().is_empty());
}

#[test]
fn duplicates_keep_the_later_copy_in_the_first_place() {
    let mut walk = Walk::<User>::new(2);
    walk.absorb(list(&["a", "b"], Some(3)), 1).unwrap();
    let mut later = list(&["b", "c"], Some(3));
    later.list.resources[0].display_name = Some("changed".into());
    assert_eq!(walk.absorb(later, 3).unwrap(), None);
    let users = walk.into_resources();
    let ids: Vec<_> = users.iter().map(|u| u.id.clone().unwrap()).collect();
    assert_eq!(ids, ["a", "b", "c"], "each id once, in first-seen order");
    assert_eq!(users[1].display_name.as_deref(), Some("changed"));
}

fn answer(body: serde_json::Value) -> Answer {
    Answer {
        status: reqwest::StatusCode::OK,
        headers: reqwest::header::HeaderMap::new(),
        body: bytes::Bytes::from(body.to_string()),
        attempts: 1,
    }
}

#[test]
fn pages_are_read_in_every_shape_providers_send() {
    let plain = answer(json!({"totalResults": "2", "startIndex": 1,
        "Resources": [{"id": "a", "userName": "a"}, {"id": "b", "userName": "b"}]}));
    let list = parse_page_body::<User>(&plain).unwrap().list;
    assert_eq!((list.total_results, list.resources.len()), (Some(2), 2));
    let odd_case = answer(json!({"TotalResults": 1, "resources": [{"id": "a", "userName": "a"}]}));
    let list = parse_page_body::<User>(&odd_case).unwrap().list;
    assert_eq!(
        (list.total_results, list.resources.len()),
        (Some(1), 1),
        "keys in another case fall back to the lenient reading"
    );
    let no_total = answer(json!({"Resources": [{"id": "a", "userName": "a"}]}));
    assert_eq!(
        parse_page_body::<User>(&no_total)
            .unwrap()
            .list
            .total_results,
        None
    );
    let null = answer(json!({"totalResults": 0, "Resources": null}));
    assert!(
        parse_page_body::<User>(&null)
            .unwrap()
            .list
            .resources
            .is_empty()
    );
    let not_a_list = answer(json!(["a", "b"]));
    assert!(
        matches!(
            parse_page_body::<User>(&not_a_list),
            Err(Error::Protocol { .. })
        ),
        "a page that is not a list is a protocol error"
    );
}

#[test]
fn a_page_keeps_what_it_can_read_and_counts_what_it_cannot() {
    let resources = json!([
        {"id": "a", "userName": "a", "active": "perhaps"},
        {"userName": "no id"},
        "not a user",
        {"id": "d", "userName": "d"},
    ]);
    for body in [
        json!({"totalResults": 4, "Resources": resources}),
        // The lenient reading (keys in another case) reads each resource alike.
        json!({"TOTALRESULTS": 4, "resources": resources}),
    ] {
        let read = parse_page_body::<User>(&answer(body)).unwrap();
        assert_eq!(read.unreadable, 2, "no id, and not an object");
        let users = &read.list.resources;
        let ids: Vec<_> = users.iter().map(|u| u.id.as_deref().unwrap()).collect();
        assert_eq!(ids, ["a", "d"]);
        assert_eq!(users[0].active, None);
        assert_eq!(users[0].unread.len(), 1);
        assert_eq!(users[0].unread[0].attribute, "active");
        assert!(users[1].unread.is_empty());
    }
}

#[test]
fn resources_left_out_keep_their_places_in_the_walk() {
    let mut walk = Walk::<User>::new(4);
    let mut page = list(&["a", "b", "c"], Some(8));
    page.unreadable = 1;
    assert_eq!(
        walk.absorb(page, 1).unwrap(),
        Some(5),
        "the next page starts after the one left out"
    );
    assert_eq!(walk.step, 4, "a page with one left out is not a cap");
    assert_eq!(
        walk.progress(),
        Progress {
            fetched: 3,
            total: Some(8),
            unreadable: 1,
        }
    );
    // Pages of nothing readable, the total known: the walk goes on to the total.
    for start in [5, 9] {
        let mut page = list(&[], Some(16));
        page.unreadable = 4;
        assert!(
            walk.absorb(page, start).unwrap().is_some(),
            "a page of unreadable resources is not a provider ignoring startIndex"
        );
    }
}

#[test]
fn a_provider_ignoring_start_index_is_an_error_not_a_loop() {
    let mut walk = Walk::<User>::new(2);
    walk.absorb(list(&["a", "b"], Some(10)), 1).unwrap();
    walk.absorb(list(&["a", "b"], Some(10)), 3).unwrap();
    assert!(walk.absorb(list(&["a", "b"], Some(10)), 5).is_err());
}
