//! Reading fixtures and checking what this crate writes.

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

pub fn fixture(name: &str) -> Value {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path} is not JSON: {e}"))
}

pub fn parse<T: DeserializeOwned>(name: &str) -> T {
    serde_json::from_value(fixture(name)).unwrap_or_else(|e| panic!("{name} should parse: {e}"))
}

pub fn to_json<T: Serialize>(value: &T) -> Value {
    serde_json::to_value(value).expect("SCIM types serialise")
}

/// Absent members are omitted on output, never written as `null`.
pub fn assert_no_nulls(value: &Value, at: &str) {
    match value {
        Value::Null => panic!("{at} is null; absent members must be omitted"),
        Value::Array(items) => {
            for (index, item) in items.iter().enumerate() {
                assert_no_nulls(item, &format!("{at}[{index}]"));
            }
        }
        Value::Object(map) => {
            for (key, item) in map {
                assert_no_nulls(item, &format!("{at}.{key}"));
            }
        }
        _ => {}
    }
}

pub fn schemas_of(value: &Value) -> Vec<&str> {
    value["schemas"]
        .as_array()
        .expect("every message and resource is written with schemas")
        .iter()
        .map(|urn| urn.as_str().expect("schemas holds strings"))
        .collect()
}
