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

            /// Reads it from JSON text, to the same result as [`from_json`](Self::from_json):
            /// straight into the struct when the text is written as the schema spells it
            /// (what most providers send: about a fifth of the time), else through the
            /// lenient normalisation. Straight means: every key known by its exact name or
            /// kept in an `extra` that stays empty, none passed over, no value that needs
            /// coercing, nothing after the object.
            ///
            /// # Errors
            ///
            /// As [`from_json`](Self::from_json), and for text that is not JSON.
            pub fn from_json_text(text: &str) -> Result<Self, serde_json::Error> {
                let mut passed_over = false;
                let mut note = |_: serde_ignored::Path<'_>| passed_over = true;
                let mut json = serde_json::Deserializer::from_str(text);
                let exact =
                    $ty::deserialize(serde_ignored::Deserializer::new(&mut json, &mut note))
                        .and_then(|this| json.end().map(|()| this));
                if let Ok(mut this) = exact
                    && !passed_over
                {
                    $crate::resource::drop_schemas(&mut this.extra);
                    if !this.holds_unmodelled() {
                        // Lists read from text grow by doubling; the lenient reading
                        // knows their length. Kept for long, they take no more room.
                        this.shrink_to_fit();
                        return Ok(this);
                    }
                }
                serde_json::from_str(text)
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

/// Takes a `schemas` member out of `extra`, as the lenient reading does (the resource
/// computes its own), leaving no map behind when it was the only one.
pub(crate) fn drop_schemas(extra: &mut crate::Extra) {
    if extra.contains_key("schemas") {
        extra.remove("schemas");
        if extra.is_empty() {
            *extra = crate::Extra::default();
        }
    }
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
