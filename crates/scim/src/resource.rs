//! What the typed resources share: User and Group read through their schema's lenient
//! normalisation; they and the discovery documents write the attributes they do not model
//! (`extra`) without a second `schemas`, and name the extensions kept there in `schemas`.

use serde::de::{self, Deserializer};
use serde::{Deserialize, Serializer};
use serde_json::{Map, Value};

use crate::schema;

/// What a typed resource is for reading and writing, given its `remote = "Self"` serde
/// derive, its schema and how it computes its `schemas`: written tagged with them, read
/// through the schema's lenient normalisation, with `from_json` and `to_json`.
macro_rules! lenient_resource {
    ($ty:ident, $schema:expr, |$this:ident| $schemas:expr) => {
        $crate::urn::serialize_tagged!($ty, |$this| $schemas);

        impl<'de> serde::Deserialize<'de> for $ty {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let value = $crate::resource::normalized(deserializer, $schema)?;
                $ty::deserialize(value).map_err(serde::de::Error::custom)
            }
        }

        impl $ty {
            /// Reads it from JSON, leniently (see the [module docs](self)).
            ///
            /// # Errors
            ///
            /// When a value cannot be coerced to its attribute's type, or the JSON is not
            /// an object.
            pub fn from_json(value: serde_json::Value) -> Result<Self, serde_json::Error> {
                serde_json::from_value(value)
            }

            /// Writes it as RFC-correct JSON.
            ///
            /// # Errors
            ///
            /// Only for a date outside the years RFC 3339 can express (0 to 9999).
            pub fn to_json(&self) -> Result<serde_json::Value, serde_json::Error> {
                serde_json::to_value(self)
            }
        }
    };
}
pub(crate) use lenient_resource;

/// Reads a JSON value and normalises it against `schema`; drops `schemas`, which this
/// crate recomputes on output.
pub(crate) fn normalized<'de, D: Deserializer<'de>>(
    deserializer: D,
    schema: &schema::ResourceSchema,
) -> Result<Value, D::Error> {
    let mut value = Value::deserialize(deserializer)?;
    schema.normalize(&mut value).map_err(de::Error::custom)?;
    if let Value::Object(map) = &mut value {
        map.remove("schemas");
    }
    Ok(value)
}

/// Writes `extra` without a `schemas` member, which the resource computes itself.
pub(crate) fn serialize_extra<S: Serializer>(
    extra: &crate::Extra,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.collect_map(
        extra
            .iter()
            .filter(|(key, _)| !key.eq_ignore_ascii_case("schemas")),
    )
}

/// The keys of `extra` that hold extension objects (a URN key with an object value).
pub(crate) fn extension_keys(extra: &Map<String, Value>) -> impl Iterator<Item = &str> {
    extra.iter().filter_map(|(key, value)| {
        let is_urn = key
            .get(..4)
            .is_some_and(|head| head.eq_ignore_ascii_case("urn:"));
        (is_urn && value.is_object()).then_some(key.as_str())
    })
}
