//! Schema-driven normalisation of incoming JSON: attribute names to their canonical case,
//! and leniently-typed values to their schema type.

use serde_json::{Map, Number, Value};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::{Attribute, AttributeType, ResourceSchema, Schema, find_attribute};
use crate::lenient;

/// A value that does not fit its attribute's type and cannot be coerced to it; the server
/// answers it with `400` and `scimType` `invalidValue`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("attribute \"{attribute}\" must be {expected}, got {found}")]
pub struct ValueError {
    /// Where the value sits, e.g. `active`, `name.familyName`, `emails[0].primary` or
    /// `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value`.
    pub attribute: String,
    /// What the schema wants there, e.g. `a boolean (true or false)`.
    pub expected: String,
    /// What was sent, e.g. `the string "maybe"`.
    pub found: String,
}

impl ValueError {
    fn new(attribute: &str, expected: &str, found: &Value) -> Self {
        Self {
            attribute: attribute.to_owned(),
            expected: expected.to_owned(),
            found: describe(found),
        }
    }
}

/// A short human description of a JSON value for error messages.
fn describe(value: &Value) -> String {
    match value {
        Value::Null => "null".to_owned(),
        Value::Bool(flag) => format!("the boolean {flag}"),
        Value::Number(number) => format!("the number {number}"),
        Value::String(text) if text.chars().count() > 40 => {
            let head: String = text.chars().take(40).collect();
            format!("the string \"{head}…\"")
        }
        Value::String(text) => format!("the string \"{text}\""),
        Value::Array(_) => "an array".to_owned(),
        Value::Object(_) => "an object".to_owned(),
    }
}

fn expected(kind: AttributeType) -> &'static str {
    match kind {
        AttributeType::String => "a string",
        AttributeType::Boolean => "a boolean (true or false)",
        AttributeType::Decimal => "a number",
        AttributeType::Integer => "an integer",
        AttributeType::DateTime => "an RFC 3339 dateTime",
        AttributeType::Binary => "a base64 string",
        AttributeType::Reference => "a URI string",
        AttributeType::Complex => "an object",
    }
}

/// What a top-level key of a resource denotes.
enum Target<'a> {
    /// An attribute or sub-attribute, possibly written as a path (`name.givenName`,
    /// `urn:…:User:manager`), as in the path-less PATCH values Entra sends.
    Attribute(&'a Attribute),
    /// An extension's object, keyed by its URN.
    Extension(&'a Schema),
}

/// `key` with an ASCII-case-insensitive `prefix` removed.
fn strip_prefix_ci<'k>(key: &'k str, prefix: &str) -> Option<&'k str> {
    let head = key.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &key[prefix.len()..])
}

/// Resolves `attr` or `attr.sub` within `schema`, with its canonical spelling.
fn resolve_path<'a>(schema: &'a Schema, path: &str) -> Option<(String, &'a Attribute)> {
    match path.split_once('.') {
        None => {
            let attribute = find_attribute(&schema.attributes, path)?;
            Some((attribute.name.clone(), attribute))
        }
        Some((top, sub)) => {
            let parent = find_attribute(&schema.attributes, top)?;
            let attribute = find_attribute(&parent.sub_attributes, sub)?;
            Some((format!("{}.{}", parent.name, attribute.name), attribute))
        }
    }
}

impl ResourceSchema {
    /// What a top-level key denotes, and its canonical spelling. `None` for unknown keys
    /// (and for `schemas`, which is not an attribute).
    fn resolve(&self, key: &str) -> Option<(String, Target<'_>)> {
        for (schema, _) in &self.extensions {
            if schema.id.eq_ignore_ascii_case(key) {
                return Some((schema.id.clone(), Target::Extension(schema)));
            }
        }
        let schemas = std::iter::once(&self.core).chain(self.extensions.iter().map(|(s, _)| s));
        for schema in schemas {
            if let Some(rest) = strip_prefix_ci(key, &schema.id).and_then(|r| r.strip_prefix(':')) {
                let (path, attribute) = resolve_path(schema, rest)?;
                return Some((
                    format!("{}:{path}", schema.id),
                    Target::Attribute(attribute),
                ));
            }
        }
        if key.contains(':') {
            return None;
        }
        let (path, attribute) = resolve_path(&self.core, key)?;
        Some((path, Target::Attribute(attribute)))
    }

    /// Rewrites every key of a JSON resource to its schema-canonical case, recursively:
    /// sub-attributes, elements of multi-valued complex attributes, and extension objects,
    /// whose URN key is rewritten to the canonical URN. The `schemas` key and its known URN
    /// entries are canonicalised too. Keys written as attribute paths (`NAME.GIVENNAME`,
    /// `urn:…:User:employeenumber`) get canonical paths. Unknown keys are left untouched,
    /// as is a key whose canonical spelling is already present.
    ///
    /// This is what makes `"USERNAME"` or `"Name": {"FamilyName": …}` readable.
    pub fn canonicalize(&self, resource: &mut Value) {
        let Value::Object(map) = resource else { return };
        lenient::rename_keys(map, |key| {
            key.eq_ignore_ascii_case("schemas").then_some("schemas")
        });
        if let Some(Value::Array(entries)) = map.get_mut("schemas") {
            for entry in entries {
                if let Value::String(text) = entry
                    && let Some(urn) = self.urns().find(|urn| urn.eq_ignore_ascii_case(text))
                {
                    *text = urn.to_owned();
                }
            }
        }
        let renames: Vec<(String, String)> = map
            .keys()
            .filter_map(|key| {
                let (canonical, _) = self.resolve(key)?;
                (canonical != *key).then(|| (key.clone(), canonical))
            })
            .collect();
        for (from, to) in renames {
            if !map.contains_key(&to)
                && let Some(value) = map.remove(&from)
            {
                map.insert(to, value);
            }
        }
        for (key, value) in map.iter_mut() {
            match self.resolve(key) {
                Some((_, Target::Attribute(attribute))) => attribute.canonicalize(value),
                Some((_, Target::Extension(schema))) => {
                    if let Value::Object(object) = value {
                        canonicalize_object(&schema.attributes, object);
                    }
                }
                None => {}
            }
        }
    }

    /// Coerces leniently-typed values of known attributes to their schema type, in place:
    /// `"False"` → `false` for booleans (any case), decimal strings → numbers for integers
    /// and decimals, numbers → strings for string attributes, a dateTime without offset →
    /// RFC 3339 UTC, a lone value → a one-element array for multi-valued attributes, and a
    /// bare string → `{"value": …}` for a single-valued complex attribute with a `value`
    /// sub-attribute (Entra sends the enterprise `manager` so). `null` is left alone
    /// (unassigned). Unknown attributes are left alone.
    ///
    /// Run [`ResourceSchema::canonicalize`] first if keys may be in odd case; lookups here
    /// are case-insensitive, but a key is reported as written.
    ///
    /// # Errors
    ///
    /// The first value that cannot be coerced: `"active": "maybe"`, an object where a
    /// string belongs, a string where a complex attribute belongs, an array for a
    /// single-valued attribute.
    pub fn coerce(&self, resource: &mut Value) -> Result<(), ValueError> {
        let Value::Object(map) = resource else {
            return Ok(());
        };
        for (key, value) in map.iter_mut() {
            match self.resolve(key) {
                Some((_, Target::Attribute(attribute))) => attribute.coerce_at(value, key)?,
                Some((_, Target::Extension(schema))) => match value {
                    Value::Null => {}
                    Value::Object(object) => {
                        coerce_object(&schema.attributes, object, &format!("{key}:"))?;
                    }
                    other => return Err(ValueError::new(key, "an object", other)),
                },
                None => {}
            }
        }
        Ok(())
    }

    /// [`canonicalize`](Self::canonicalize), then [`coerce`](Self::coerce).
    ///
    /// # Errors
    ///
    /// As [`coerce`](Self::coerce).
    pub fn normalize(&self, resource: &mut Value) -> Result<(), ValueError> {
        self.canonicalize(resource);
        self.coerce(resource)
    }
}

fn canonicalize_object(attributes: &[Attribute], object: &mut Map<String, Value>) {
    lenient::rename_keys(object, |key| {
        find_attribute(attributes, key).map(|attribute| attribute.name.as_str())
    });
    for (key, value) in object.iter_mut() {
        if let Some(attribute) = find_attribute(attributes, key) {
            attribute.canonicalize(value);
        }
    }
}

/// Coerces the known members of `object`; `prefix` (`name.`, `urn:…:User:`) is put in
/// front of each key in error paths.
fn coerce_object(
    attributes: &[Attribute],
    object: &mut Map<String, Value>,
    prefix: &str,
) -> Result<(), ValueError> {
    for (key, value) in object.iter_mut() {
        if let Some(attribute) = find_attribute(attributes, key) {
            attribute.coerce_at(value, &format!("{prefix}{key}"))?;
        }
    }
    Ok(())
}

impl Attribute {
    /// Rewrites the keys of this attribute's value (sub-attributes, including in each
    /// element of a multi-valued attribute) to their canonical case.
    pub fn canonicalize(&self, value: &mut Value) {
        if self.kind != AttributeType::Complex {
            return;
        }
        match value {
            Value::Object(object) => canonicalize_object(&self.sub_attributes, object),
            Value::Array(items) => {
                for item in items {
                    if let Value::Object(object) = item {
                        canonicalize_object(&self.sub_attributes, object);
                    }
                }
            }
            _ => {}
        }
    }

    /// Coerces a whole value of this attribute (an array for a multi-valued one); see
    /// [`ResourceSchema::coerce`] for what is accepted. A PATCH `value` for a path that
    /// names this attribute is such a value.
    ///
    /// # Errors
    ///
    /// When the value cannot be coerced.
    pub fn coerce(&self, value: &mut Value) -> Result<(), ValueError> {
        self.coerce_at(value, &self.name)
    }

    /// Coerces one element of this attribute: the attribute's value if single-valued, one
    /// element of the array if multi-valued (a PATCH `value` for `emails[type eq "work"]`).
    ///
    /// # Errors
    ///
    /// When the value cannot be coerced.
    pub fn coerce_element(&self, value: &mut Value) -> Result<(), ValueError> {
        self.coerce_one(value, &self.name)
    }

    fn coerce_at(&self, value: &mut Value, path: &str) -> Result<(), ValueError> {
        match value {
            Value::Null => Ok(()),
            Value::Array(items) if self.multi_valued => {
                for (index, item) in items.iter_mut().enumerate() {
                    self.coerce_one(item, &format!("{path}[{index}]"))?;
                }
                Ok(())
            }
            Value::Array(_) => Err(ValueError::new(path, "a single value", value)),
            _ if self.multi_valued => {
                self.coerce_one(value, path)?;
                let single = value.take();
                *value = Value::Array(vec![single]);
                Ok(())
            }
            _ => self.coerce_one(value, path),
        }
    }

    fn coerce_one(&self, value: &mut Value, path: &str) -> Result<(), ValueError> {
        let fail = |value: &Value| Err(ValueError::new(path, expected(self.kind), value));
        match (self.kind, &*value) {
            (_, Value::Null) => Ok(()),
            (
                AttributeType::String | AttributeType::Reference | AttributeType::Binary,
                Value::String(_),
            )
            | (AttributeType::Boolean, Value::Bool(_))
            | (AttributeType::Decimal, Value::Number(_)) => Ok(()),
            (AttributeType::String, Value::Number(number)) => {
                *value = Value::String(number.to_string());
                Ok(())
            }
            (AttributeType::Boolean, Value::String(text)) => match lenient::parse_bool(text) {
                Some(flag) => {
                    *value = Value::Bool(flag);
                    Ok(())
                }
                None => fail(value),
            },
            (AttributeType::Integer, Value::Number(number)) => {
                if number.is_i64() || number.is_u64() {
                    Ok(())
                } else {
                    fail(value)
                }
            }
            (AttributeType::Integer, Value::String(text)) => match text.trim().parse::<i64>() {
                Ok(number) => {
                    *value = Value::from(number);
                    Ok(())
                }
                Err(_) => fail(value),
            },
            (AttributeType::Decimal, Value::String(text)) => {
                match text.trim().parse::<f64>().ok().and_then(Number::from_f64) {
                    Some(number) => {
                        *value = Value::Number(number);
                        Ok(())
                    }
                    None => fail(value),
                }
            }
            (AttributeType::DateTime, Value::String(text)) => {
                if OffsetDateTime::parse(text, &Rfc3339).is_ok() {
                    return Ok(());
                }
                match lenient::parse_datetime(text).and_then(|at| lenient::format_datetime(at).ok())
                {
                    Some(formatted) => {
                        *value = Value::String(formatted);
                        Ok(())
                    }
                    None => fail(value),
                }
            }
            (AttributeType::Complex, Value::Object(_)) => {
                if let Value::Object(object) = value {
                    coerce_object(&self.sub_attributes, object, &format!("{path}."))?;
                }
                Ok(())
            }
            (AttributeType::Complex, Value::String(_))
                if !self.multi_valued
                    && find_attribute(&self.sub_attributes, "value").is_some() =>
            {
                let text = value.take();
                let mut object = Map::new();
                object.insert("value".to_owned(), text);
                *value = Value::Object(object);
                Ok(())
            }
            _ => fail(value),
        }
    }
}
