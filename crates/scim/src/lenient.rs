//! Serde helpers that accept what real SCIM peers send, used by the typed messages and
//! resources of this crate (`#[serde(deserialize_with = "...")]`).
//!
//! Each one widens exactly one deviation seen in the field and nothing more:
//!
//! - booleans as strings in any case: Microsoft Entra ID sends `"active": "False"`;
//! - integers as decimal strings: `"totalResults": "12"`, `"count": "100"`;
//! - the error `status` as a number: Okta's documentation sends `"status": 404`, where
//!   RFC 7644 §3.12 asks for the string `"404"`;
//! - `null` where a list belongs: Okta's documentation returns `"members": null`;
//! - dateTimes without a UTC offset (`"2024-05-15T09:21:23"`, Okta's group list example),
//!   read as UTC.
//!
//! Everything else is rejected with serde's usual error. Output never uses these forms.

use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serializer};
use serde_json::{Map, Value};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use time::macros::format_description;

/// Parses `true` / `false` in any letter case.
pub fn parse_bool(text: &str) -> Option<bool> {
    if text.eq_ignore_ascii_case("true") {
        Some(true)
    } else if text.eq_ignore_ascii_case("false") {
        Some(false)
    } else {
        None
    }
}

/// Parses an RFC 3339 dateTime; one without a UTC offset is read as UTC.
pub fn parse_datetime(text: &str) -> Option<OffsetDateTime> {
    if let Ok(at) = OffsetDateTime::parse(text, &Rfc3339) {
        return Some(at);
    }
    let local = format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second][optional [.[subsecond]]]"
    );
    time::PrimitiveDateTime::parse(text, local)
        .ok()
        .map(|at| at.assume_utc())
}

/// Formats a dateTime as RFC 3339, the only form this crate emits.
pub fn format_datetime(at: OffsetDateTime) -> Result<String, time::error::Format> {
    at.format(&Rfc3339)
}

struct BoolVisitor;

impl Visitor<'_> for BoolVisitor {
    type Value = bool;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a boolean or the string \"true\" or \"false\"")
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<bool, E> {
        Ok(v)
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<bool, E> {
        parse_bool(v).ok_or_else(|| E::invalid_value(de::Unexpected::Str(v), &self))
    }
}

/// A boolean, or `"true"` / `"false"` in any case.
pub fn bool<'de, D: Deserializer<'de>>(deserializer: D) -> Result<bool, D::Error> {
    deserializer.deserialize_any(BoolVisitor)
}

/// An optional [`bool()`]; `null` is `None`.
pub fn option_bool<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<bool>, D::Error> {
    deserializer.deserialize_option(OptionVisitor(BoolVisitor))
}

struct UintVisitor<T>(PhantomData<T>);

impl<T: TryFrom<u64>> Visitor<'_> for UintVisitor<T> {
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a non-negative integer, as a number or a decimal string")
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<T, E> {
        T::try_from(v).map_err(|_| E::invalid_value(de::Unexpected::Unsigned(v), &self))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<T, E> {
        let unsigned =
            u64::try_from(v).map_err(|_| E::invalid_value(de::Unexpected::Signed(v), &self))?;
        self.visit_u64(unsigned)
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<T, E> {
        let number: u64 = v
            .trim()
            .parse()
            .map_err(|_| E::invalid_value(de::Unexpected::Str(v), &self))?;
        self.visit_u64(number)
    }
}

/// A non-negative integer, as a number or a decimal string.
pub fn uint<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: TryFrom<u64>,
{
    deserializer.deserialize_any(UintVisitor(PhantomData))
}

/// An optional [`uint`]; `null` is `None`.
pub fn option_uint<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: TryFrom<u64>,
{
    deserializer.deserialize_option(OptionVisitor(UintVisitor(PhantomData)))
}

/// An HTTP status code, as a string (RFC 7644 §3.12) or a number (Okta).
pub fn status<'de, D: Deserializer<'de>>(deserializer: D) -> Result<u16, D::Error> {
    uint(deserializer)
}

/// An object, or `null`/absent as `None`; never the array form serde's derive also reads
/// a struct from (`"meta": []`), which the schema refuses for a single-valued attribute.
/// For the fields whose struct keeps no `extra` (a struct with one reads only objects).
pub fn option_object<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    struct ObjectOrNull<T>(PhantomData<T>);

    impl<'de, T: Deserialize<'de>> Visitor<'de> for ObjectOrNull<T> {
        type Value = Option<T>;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("an object or null")
        }

        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }

        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }

        fn visit_some<D2: Deserializer<'de>>(self, inner: D2) -> Result<Self::Value, D2::Error> {
            inner.deserialize_map(self)
        }

        fn visit_map<A: de::MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
            T::deserialize(de::value::MapAccessDeserializer::new(map)).map(Some)
        }
    }

    deserializer.deserialize_option(ObjectOrNull(PhantomData))
}

/// A list, with `null` read as empty.
pub fn vec_or_null<'de, D, T>(deserializer: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Ok(Option::<Vec<T>>::deserialize(deserializer)?.unwrap_or_default())
}

/// A list of strings, also accepted as one comma-separated string (the query-parameter
/// form of `attributes` and `excludedAttributes`); `null` is empty.
pub fn strings_or_csv<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Form {
        List(Vec<String>),
        Csv(String),
    }
    Ok(match Option::<Form>::deserialize(deserializer)? {
        None => Vec::new(),
        Some(Form::List(list)) => list,
        Some(Form::Csv(text)) => text
            .split(',')
            .map(str::trim)
            .filter(|part| !part.is_empty())
            .map(str::to_owned)
            .collect(),
    })
}

struct OptionVisitor<V>(V);

impl<'de, V: Visitor<'de>> Visitor<'de> for OptionVisitor<V> {
    type Value = Option<V::Value>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        self.0.expecting(f)?;
        f.write_str(" or null")
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(self.0).map(Some)
    }
}

/// `#[serde(with = "lenient::datetime")]` for `Option<OffsetDateTime>`: RFC 3339 out,
/// [`parse_datetime`] in, `None` omitted by `skip_serializing_if` and read from `null`.
pub mod datetime {
    use super::*;

    /// Writes RFC 3339.
    pub fn serialize<S: Serializer>(
        at: &Option<OffsetDateTime>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        time::serde::rfc3339::option::serialize(at, serializer)
    }

    /// Reads RFC 3339, or a dateTime without offset as UTC.
    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<OffsetDateTime>, D::Error> {
        struct DateTimeVisitor;
        impl Visitor<'_> for DateTimeVisitor {
            type Value = OffsetDateTime;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an RFC 3339 dateTime")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<OffsetDateTime, E> {
                parse_datetime(v).ok_or_else(|| E::invalid_value(de::Unexpected::Str(v), &self))
            }
        }
        deserializer.deserialize_option(OptionVisitor(DateTimeVisitor))
    }
}

/// Renames the keys of a JSON object that match one of `names` case-insensitively to that
/// name (SCIM attribute names are case-insensitive, RFC 7643 §2.1). A key whose canonical
/// form is already present is left alone rather than overwriting it.
pub(crate) fn canonical_keys(value: &mut Value, names: &[&str]) {
    let Value::Object(map) = value else { return };
    rename_keys(map, |key| {
        names
            .iter()
            .find(|name| name.eq_ignore_ascii_case(key))
            .copied()
    });
}

/// Renames keys of `map` to what `canonical` says, in place, keeping key order and never
/// overwriting an existing key.
pub(crate) fn rename_keys<'n>(
    map: &mut Map<String, Value>,
    canonical: impl Fn(&str) -> Option<&'n str>,
) {
    let renames: Vec<(String, &str)> = map
        .keys()
        .filter_map(|key| {
            canonical(key)
                .filter(|name| *name != key)
                .map(|name| (key.clone(), name))
        })
        .collect();
    for (from, to) in renames {
        if map.contains_key(to) {
            continue;
        }
        if let Some(value) = map.remove(&from) {
            map.insert(to.to_owned(), value);
        }
    }
}

/// Implements `Deserialize` for a type derived with `#[serde(remote = "Self")]`, matching
/// its top-level keys case-insensitively against the listed canonical names first.
macro_rules! deserialize_any_case {
    ($ty:ty, [$($key:literal),* $(,)?]) => {
        impl<'de> serde::Deserialize<'de> for $ty {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let mut value =
                    <serde_json::Value as serde::Deserialize>::deserialize(deserializer)?;
                $crate::lenient::canonical_keys(&mut value, &[$($key),*]);
                <$ty>::deserialize(value).map_err(<D::Error as serde::de::Error>::custom)
            }
        }
    };
}
pub(crate) use deserialize_any_case;

/// Defines a string enum for values a peer may extend (licences, roles, states, error
/// types): known values parse case-insensitively and are emitted in canonical form, and
/// anything else is kept verbatim in `Other` so that one new value on a server does not
/// make a whole resource unreadable for an older client.
macro_rules! open_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident = $wire:literal, )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )+
            /// A value this version does not know, kept as received.
            Other(String),
        }

        impl $name {
            /// Every value this version knows, in their wire form and declaration order.
            pub const KNOWN: &'static [&'static str] = &[$( $wire, )+];

            /// The canonical wire form.
            pub fn as_str(&self) -> &str {
                match self {
                    $( Self::$variant => $wire, )+
                    Self::Other(other) => other,
                }
            }

            /// Parses a wire value, case-insensitively; unknown values become `Other`.
            pub fn parse(text: &str) -> Self {
                $( if text.eq_ignore_ascii_case($wire) { return Self::$variant; } )+
                Self::Other(text.to_owned())
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl From<&str> for $name {
            fn from(text: &str) -> Self {
                Self::parse(text)
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = String::deserialize(deserializer)?;
                Ok(Self::parse(&text))
            }
        }
    };
}
pub(crate) use open_enum;

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use serde_json::json;

    #[derive(Deserialize)]
    struct Probe {
        #[serde(default, deserialize_with = "option_bool")]
        flag: Option<bool>,
        #[serde(default, deserialize_with = "option_uint")]
        count: Option<u32>,
    }

    #[test]
    fn booleans_accept_strings_in_any_case_and_reject_junk() {
        let probe: Probe = serde_json::from_value(json!({"flag": "False"})).unwrap();
        assert_eq!(probe.flag, Some(false), "Entra sends \"False\"");
        let probe: Probe = serde_json::from_value(json!({"flag": null})).unwrap();
        assert_eq!(probe.flag, None, "null is unassigned");
        let error = serde_json::from_value::<Probe>(json!({"flag": "maybe"}))
            .err()
            .unwrap();
        assert!(
            error.to_string().contains("maybe"),
            "the error names the bad value: {error}"
        );
    }

    #[test]
    fn integers_accept_decimal_strings_and_reject_overflow() {
        let probe: Probe = serde_json::from_value(json!({"count": "12"})).unwrap();
        assert_eq!(probe.count, Some(12));
        assert!(serde_json::from_value::<Probe>(json!({"count": 5_000_000_000u64})).is_err());
        assert!(serde_json::from_value::<Probe>(json!({"count": -1})).is_err());
        assert!(serde_json::from_value::<Probe>(json!({"count": 1.5})).is_err());
    }

    #[test]
    fn datetimes_without_offset_are_utc() {
        let at = parse_datetime("2024-05-15T09:21:23").unwrap();
        assert_eq!(format_datetime(at).unwrap(), "2024-05-15T09:21:23Z");
        let at = parse_datetime("2018-03-27T19:59:26.000Z").unwrap();
        assert_eq!(at.unix_timestamp(), 1_522_180_766);
        assert!(parse_datetime("yesterday").is_none());
    }

    #[test]
    fn rename_keys_never_overwrites() {
        let mut value = json!({"USERNAME": "a", "userName": "b", "Active": true});
        canonical_keys(&mut value, &["userName", "active"]);
        assert_eq!(
            value,
            json!({"USERNAME": "a", "userName": "b", "active": true})
        );
    }
}
