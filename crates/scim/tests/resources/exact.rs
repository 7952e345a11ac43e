//! `from_json_text`, which reads a resource straight into its struct when the text is
//! written as the schema spells it, reads everything to the same result as the lenient
//! reading: real providers' payloads, odd input of every kind the lenient reading mends,
//! and generated users with their keys in any case.

use muster_scim::group::Group;
use muster_scim::user::User;
use proptest::prelude::*;
use serde_json::{Value, json};

use crate::properties::user;

/// Both readings of `text` agree: the same resource, or both refuse it.
fn same_either_way(text: &str) {
    let lenient = serde_json::from_str::<Value>(text)
        .map_err(|e| e.to_string())
        .and_then(|value| User::from_json(value).map_err(|e| e.to_string()));
    let exact = User::from_json_text(text).map_err(|e| e.to_string());
    match (&lenient, &exact) {
        (Ok(a), Ok(b)) => assert_eq!(a, b, "{text}"),
        (Err(_), Err(_)) => {}
        _ => panic!("the readings disagree on {text}: lenient {lenient:?}, exact {exact:?}"),
    }
}

fn same_group_either_way(text: &str) {
    let lenient = Group::from_json(serde_json::from_str(text).unwrap());
    let exact = Group::from_json_text(text);
    assert_eq!(lenient.ok(), exact.ok(), "{text}");
}

/// Every resource in a fixture: the fixture itself, or each of its `Resources`.
fn resources(value: &Value) -> Vec<&Value> {
    match value.get("Resources").and_then(Value::as_array) {
        Some(listed) => listed.iter().collect(),
        None => vec![value],
    }
}

#[test]
fn every_provider_payload_reads_the_same_either_way() {
    let dir = format!("{}/tests/fixtures", env!("CARGO_MANIFEST_DIR"));
    let mut users = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "json") {
            continue;
        }
        let value: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        for resource in resources(&value) {
            let text = resource.to_string();
            let schemas = resource["schemas"].to_string();
            if schemas.contains("core:2.0:User") {
                same_either_way(&text);
                users += 1;
            } else if schemas.contains("core:2.0:Group") {
                same_group_either_way(&text);
            }
        }
    }
    assert!(users >= 5, "the fixtures hold users: {users}");
}

#[test]
fn odd_input_reads_the_same_either_way() {
    let odd = [
        // Keys in other case, at the top, in a name, an email, an extension, its URN.
        json!({"USERNAME": "ada", "Name": {"FamilyName": "L"}}),
        json!({"userName": "ada", "emails": [{"Value": "a@x", "Primary": true}]}),
        json!({"userName": "ada", "URN:IETF:PARAMS:SCIM:SCHEMAS:EXTENSION:ENTERPRISE:2.0:USER": {"department": "Ops"}}),
        json!({"userName": "ada", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"Department": "Ops"}}),
        json!({"userName": "ada", "SCHEMAS": ["urn:ietf:params:scim:schemas:core:2.0:User"]}),
        json!({"userName": "ada", "name.givenName": "Ada"}),
        // Keys of structs that keep no extra: the manager, meta.
        json!({"userName": "ada", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"manager": {"Value": "m1"}}}),
        json!({"userName": "ada", "meta": {"LastModified": "2026-01-01T00:00:00Z", "resourceType": "User"}}),
        json!({"userName": "ada", "meta": {"resourceType": "User", "unheard": 1}}),
        // A struct's array form, which serde's derive alone would read.
        json!({"userName": "ada", "meta": []}),
        json!({"userName": "ada", "meta": ["User"]}),
        json!({"userName": "ada", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"manager": ["m1"]}}),
        json!({"userName": "ada", "urn:muster:params:scim:schemas:extension:shop:2.0:User": {"invitation": []}}),
        json!({"userName": "ada", "urn:muster:params:scim:schemas:extension:shop:2.0:User": {"lastSignIn": ["2026-01-01T00:00:00Z"]}}),
        // Values the lenient reading coerces.
        json!({"userName": "ada", "active": "False"}),
        json!({"userName": "ada", "active": "maybe"}),
        json!({"userName": "ada", "title": 7}),
        json!({"userName": "ada", "emails": {"value": "a@x"}}),
        json!({"userName": "ada", "emails": [{"value": "a@x", "primary": "True"}]}),
        json!({"userName": "ada", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"manager": "m1"}}),
        json!({"userName": "ada", "meta": {"created": "2026-01-01T10:00:00"}}),
        json!({"userName": "ada", "meta": {"created": "2026-01-01 10:00:00"}}),
        json!({"userName": "ada", "displayName": null, "emails": null}),
        // Unknown attributes and extensions, kept.
        json!({"userName": "ada", "nickname2": "x", "urn:example:ext:1.0:User": {"a": 1}}),
        json!({"userName": "ada", "emails": [{"value": "a@x", "display2": "x"}]}),
        // Not a user.
        json!({"userName": 5}),
        json!([1, 2]),
        json!("ada"),
    ];
    for value in odd {
        same_either_way(&value.to_string());
    }
    for text in [
        r#"{"userName": "ada", "userName": "bea"}"#,
        r#"{"userName": "ada"} trailing"#,
        r#"{"userName": "ada""#,
        "",
    ] {
        same_either_way(text);
    }
    same_group_either_way(r#"{"displayName": "Ops", "Members": [{"Value": "u1"}]}"#);
    same_group_either_way(
        r#"{"displayName": "Ops", "members": [{"value": "u1", "type": "User"}]}"#,
    );
}

/// `text` with the key at `at` (counting every key in document order) in upper case.
fn upper_key(value: &mut Value, at: &mut usize) {
    match value {
        Value::Object(map) => {
            let keys: Vec<String> = map.keys().cloned().collect();
            for key in keys {
                if *at == 0 {
                    let inner = map.shift_remove(&key).unwrap();
                    map.insert(key.to_uppercase(), inner);
                    *at = usize::MAX;
                    return;
                }
                *at -= 1;
                upper_key(map.get_mut(&key).unwrap(), at);
                if *at == usize::MAX {
                    return;
                }
            }
        }
        Value::Array(items) => {
            for item in items {
                upper_key(item, at);
                if *at == usize::MAX {
                    return;
                }
            }
        }
        _ => {}
    }
}

proptest! {
    #[test]
    fn generated_users_read_the_same_either_way(user in user(), at in 0usize..40) {
        let text = user.to_json().unwrap().to_string();
        prop_assert_eq!(User::from_json_text(&text).unwrap(), user.clone());
        let mut odd = user.to_json().unwrap();
        let mut at = at;
        upper_key(&mut odd, &mut at);
        same_either_way(&odd.to_string());
    }
}
