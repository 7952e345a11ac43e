//! The attributes a resource holds that this crate does not model, kept so that a
//! read-modify-write round trip loses nothing.
//!
//! Nearly every resource has none, and a map held inline costs 72 bytes in every user,
//! name, email, phone number and extension: an [`Extra`] is one pointer until it holds
//! something. It reads and changes as the map itself (`Deref`, `DerefMut`), and reads and
//! writes as a JSON object.

use std::ops::{Deref, DerefMut};
use std::sync::LazyLock;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

/// Unmodelled attributes, by name.
#[derive(Debug, Clone, Default)]
pub struct Extra(Option<Box<Map<String, Value>>>);

/// What an `Extra` that holds nothing reads as.
static NONE: LazyLock<Map<String, Value>> = LazyLock::new(Map::new);

impl Deref for Extra {
    type Target = Map<String, Value>;

    fn deref(&self) -> &Self::Target {
        self.0.as_deref().unwrap_or(&NONE)
    }
}

impl DerefMut for Extra {
    fn deref_mut(&mut self) -> &mut Self::Target {
        self.0.get_or_insert_with(Box::default)
    }
}

/// Equal when they hold the same attributes (one changed and emptied again is equal to
/// one never changed).
impl PartialEq for Extra {
    fn eq(&self, other: &Self) -> bool {
        **self == **other
    }
}

impl From<Map<String, Value>> for Extra {
    fn from(map: Map<String, Value>) -> Self {
        Self((!map.is_empty()).then(|| Box::new(map)))
    }
}

impl From<Extra> for Map<String, Value> {
    fn from(extra: Extra) -> Self {
        extra.0.map(|map| *map).unwrap_or_default()
    }
}

impl Serialize for Extra {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        (**self).serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Extra {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Map::deserialize(deserializer).map(Self::from)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use serde_json::json;

    #[test]
    fn an_empty_one_is_one_pointer_and_reads_as_an_empty_map() {
        assert_eq!(std::mem::size_of::<Extra>(), 8);
        let mut extra = Extra::default();
        assert!(extra.is_empty() && extra.get("x").is_none());
        extra.insert("x".into(), json!(1));
        assert_eq!(extra.get("x"), Some(&json!(1)));
        extra.remove("x");
        assert_eq!(
            extra,
            Extra::default(),
            "emptied again, equal to never changed"
        );
    }

    #[test]
    fn it_reads_and_writes_as_a_json_object() {
        let extra: Extra = serde_json::from_value(json!({"b": 2, "a": [1]})).unwrap();
        assert_eq!(
            serde_json::to_value(&extra).unwrap(),
            json!({"b": 2, "a": [1]})
        );
        let none: Extra = serde_json::from_value(json!({})).unwrap();
        assert!(none.0.is_none(), "nothing held, nothing allocated");
    }
}
