//! The one gate every written document passes (POST, PUT and the result of a PATCH):
//! keys to canonical case, lenient values coerced, read-only values dropped, unknown
//! attributes and bad values refused with a clear `detail`, required values present,
//! the shop's closed vocabularies (licence, role) enforced.

use muster_scim::message::ScimType;
use muster_scim::schema::{Attribute, AttributeType, Mutability, Returned};
use muster_scim::urn;
use muster_scim::user::{Licence, Role, licence_role_conflict};
use serde_json::{Map, Value};

use super::kind::Kind;
use crate::error::{AppError, AppResult};

/// A document ready to store, and the password that came with it (users only).
#[derive(Debug)]
pub struct Incoming {
    /// Canonical document without id, meta, schemas, read-only and write-only values.
    pub doc: Value,
    /// A new password, to be checked and hashed.
    pub password: Option<String>,
}

/// Checks and cleans a document. `previous` is the stored document on PUT and PATCH, for
/// the immutability rule.
pub fn normalize(kind: Kind, body: Value, previous: Option<&Value>) -> AppResult<Incoming> {
    let schema = kind.schema();
    let mut doc = body;
    if !doc.is_object() {
        return Err(AppError::bad_request(
            ScimType::InvalidSyntax,
            format!("A {} must be a JSON object.", kind.name()),
        ));
    }
    schema.canonicalize(&mut doc);
    schema
        .coerce(&mut doc)
        .map_err(|error| AppError::invalid_value(error.to_string()))?;
    let Value::Object(mut object) = doc else {
        return Err(AppError::internal("document stopped being an object"));
    };
    object.remove("schemas");
    let mut password = None;
    let mut out = Map::new();
    for (key, value) in object {
        if let Some(ext) = schema.extension(&key) {
            let Value::Object(values) = value else {
                return Err(AppError::invalid_value(format!(
                    "The extension '{key}' must be an object."
                )));
            };
            let cleaned = clean_attributes(&ext.attributes, values, &ext.id)?;
            if !cleaned.is_empty() {
                out.insert(ext.id.clone(), Value::Object(cleaned));
            }
            continue;
        }
        if key.eq_ignore_ascii_case("id") || key.eq_ignore_ascii_case("meta") {
            continue;
        }
        if key.to_ascii_lowercase().starts_with("urn:") {
            return Err(AppError::invalid_value(format!(
                "'{key}' is not a schema extension this server knows for a {}.",
                kind.name()
            )));
        }
        let Some(def) = schema.core.attributes.iter().find(|a| a.name == key) else {
            return Err(AppError::invalid_value(format!(
                "'{key}' is not an attribute of a {}.",
                kind.name()
            )));
        };
        if def.returned == Returned::Never && def.mutability == Mutability::WriteOnly {
            match value {
                Value::String(text) if !text.is_empty() => password = Some(text),
                Value::Null => {}
                _ => {
                    return Err(AppError::invalid_value(format!(
                        "'{key}' must be a non-empty string."
                    )));
                }
            }
            continue;
        }
        if let Some(value) = clean_value(def, value, &key)? {
            out.insert(key, value);
        }
    }
    check_required(kind, &out)?;
    if let Some(previous) = previous {
        check_immutable(kind, &out, previous)?;
    }
    if kind == Kind::User {
        check_user(&mut out, previous)?;
    }
    Ok(Incoming {
        doc: Value::Object(out),
        password,
    })
}

/// Cleans the attributes of one schema (core or extension).
fn clean_attributes(
    defs: &[Attribute],
    values: Map<String, Value>,
    owner: &str,
) -> AppResult<Map<String, Value>> {
    let mut out = Map::new();
    for (key, value) in values {
        // Some clients repeat the extension's own `schemas` inside it; it says nothing new.
        if key.eq_ignore_ascii_case("schemas") {
            continue;
        }
        let Some(def) = defs.iter().find(|a| a.name == key) else {
            return Err(AppError::invalid_value(format!(
                "'{key}' is not an attribute of {owner}."
            )));
        };
        if let Some(value) = clean_value(def, value, &key)? {
            out.insert(key, value);
        }
    }
    Ok(out)
}

/// One attribute's value: `None` when it is to be dropped (read-only, null, empty).
fn clean_value(def: &Attribute, value: Value, path: &str) -> AppResult<Option<Value>> {
    if def.mutability == Mutability::ReadOnly || value.is_null() {
        return Ok(None);
    }
    if def.multi_valued {
        let items = match value {
            Value::Array(items) => items,
            single => vec![single],
        };
        let mut out = Vec::with_capacity(items.len());
        for item in items {
            if let Some(item) = clean_single(def, item, path)? {
                out.push(item);
            }
        }
        let primaries = out
            .iter()
            .filter(|item| item.get("primary") == Some(&Value::Bool(true)))
            .count();
        if primaries > 1 {
            return Err(AppError::invalid_value(format!(
                "Only one value of '{path}' can be primary."
            )));
        }
        return Ok((!out.is_empty()).then_some(Value::Array(out)));
    }
    clean_single(def, value, path)
}

fn clean_single(def: &Attribute, value: Value, path: &str) -> AppResult<Option<Value>> {
    if value.is_null() {
        return Ok(None);
    }
    if def.kind != AttributeType::Complex {
        return Ok(Some(value));
    }
    let Value::Object(values) = value else {
        return Err(AppError::invalid_value(format!(
            "'{path}' must be an object."
        )));
    };
    let mut out = Map::new();
    for (key, value) in values {
        let Some(sub) = def.sub_attributes.iter().find(|a| a.name == key) else {
            return Err(AppError::invalid_value(format!(
                "'{path}.{key}' is not an attribute."
            )));
        };
        if sub.mutability == Mutability::ReadOnly || value.is_null() {
            continue;
        }
        out.insert(key, value);
    }
    for sub in def.sub_attributes.iter().filter(|sub| sub.required) {
        if !out.contains_key(&sub.name) {
            return Err(AppError::invalid_value(format!(
                "'{path}.{}' is required.",
                sub.name
            )));
        }
    }
    Ok((!out.is_empty()).then_some(Value::Object(out)))
}

fn check_required(kind: Kind, doc: &Map<String, Value>) -> AppResult<()> {
    for def in kind
        .schema()
        .core
        .attributes
        .iter()
        .filter(|a| a.required && a.mutability != Mutability::ReadOnly)
    {
        let present = match doc.get(&def.name) {
            Some(Value::String(text)) => !text.trim().is_empty(),
            Some(_) => true,
            None => false,
        };
        if !present {
            return Err(AppError::invalid_value(format!(
                "A {} needs '{}'.",
                kind.name(),
                def.name
            )));
        }
    }
    Ok(())
}

/// An immutable attribute keeps the value it has once it has one.
fn check_immutable(kind: Kind, doc: &Map<String, Value>, previous: &Value) -> AppResult<()> {
    for def in kind
        .schema()
        .core
        .attributes
        .iter()
        .filter(|a| a.mutability == Mutability::Immutable)
    {
        if let Some(old) = previous.get(&def.name)
            && doc.get(&def.name).is_some_and(|new| new != old)
        {
            return Err(AppError::bad_request(
                ScimType::Mutability,
                format!("'{}' cannot be changed once set.", def.name),
            ));
        }
    }
    Ok(())
}

/// Muster's rules for users beyond the schema: valid email addresses, licence, role and
/// permissions from their closed lists (stored canonically), and a role the licence is
/// for (the field licence is for technicians). `previous` is the stored user on PUT and
/// PATCH: what it held already is not refused again.
fn check_user(doc: &mut Map<String, Value>, previous: Option<&Value>) -> AppResult<()> {
    if let Some(Value::Array(emails)) = doc.get("emails") {
        for email in emails {
            let Some(address) = email.get("value").and_then(Value::as_str) else {
                return Err(AppError::invalid_value("Each email needs a 'value'."));
            };
            if !looks_like_email(address) {
                return Err(AppError::invalid_value(format!(
                    "'{address}' is not a valid email address."
                )));
            }
        }
    }
    let Some(shop_schema) = Kind::User.schema().extension(urn::SHOP_USER) else {
        return Ok(());
    };
    if let Some(Value::Object(shop)) = doc.get_mut(urn::SHOP_USER) {
        for name in ["licence", "role"] {
            let Some(def) = shop_schema.attributes.iter().find(|a| a.name == name) else {
                continue;
            };
            let Some(value) = shop.get_mut(name) else {
                continue;
            };
            let Some(text) = value.as_str() else {
                return Err(AppError::invalid_value(format!(
                    "'{name}' must be a string."
                )));
            };
            let Some(canonical) = def
                .canonical_values
                .iter()
                .find(|c| c.eq_ignore_ascii_case(text.trim()))
            else {
                return Err(AppError::invalid_value(format!(
                    "'{text}' is not a {name}; use one of: {}.",
                    def.canonical_values.join(", ")
                )));
            };
            *value = Value::String(canonical.clone());
        }
        let before = previous.and_then(|p| p.get(urn::SHOP_USER));
        if let Some(def) = shop_schema
            .attributes
            .iter()
            .find(|a| a.name == "permissions")
        {
            check_permissions(shop, &def.canonical_values, before)?;
        }
        check_licence_role(shop, before)?;
    }
    Ok(())
}

/// `permissions`, each one the server offers (made canonical) or one the user held
/// already (kept, so a flag the server no longer offers does not block other changes), no
/// value twice.
fn check_permissions(
    shop: &mut Map<String, Value>,
    offered: &[String],
    before: Option<&Value>,
) -> AppResult<()> {
    let Some(Value::Array(granted)) = shop.get_mut("permissions") else {
        return Ok(());
    };
    let held: Vec<&str> = before
        .and_then(|b| b.get("permissions"))
        .and_then(Value::as_array)
        .map(|held| held.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let mut kept: Vec<Value> = Vec::new();
    for value in granted.iter() {
        let text = value.as_str().map(str::trim).unwrap_or_default();
        let name = offered
            .iter()
            .find(|c| c.eq_ignore_ascii_case(text))
            .map(String::as_str)
            .or_else(|| held.iter().copied().find(|h| *h == text));
        let Some(name) = name else {
            return Err(AppError::invalid_attribute(
                "permissions",
                format!(
                    "{value} is not a permission; use any of: {}.",
                    offered.join(", ")
                ),
            ));
        };
        if !kept.iter().any(|k| k.as_str() == Some(name)) {
            kept.push(Value::String(name.to_owned()));
        }
    }
    *granted = kept;
    Ok(())
}

/// A role the licence is for: filled in when the licence is set and no role is given (the
/// field licence makes a technician, as an import does), refused when another is given. A
/// user stored before the rule keeps their pair until one of the two changes.
fn check_licence_role(shop: &mut Map<String, Value>, before: Option<&Value>) -> AppResult<()> {
    let text = |map: &Map<String, Value>, name: &str| {
        map.get(name).and_then(Value::as_str).map(str::to_owned)
    };
    let before = before.and_then(Value::as_object);
    let licence = text(shop, "licence").map(|l| Licence::from(l.as_str()));
    let licence_set = before.is_none_or(|b| text(b, "licence") != text(shop, "licence"));
    if licence_set
        && text(shop, "role").is_none()
        && let Some(required) = licence.as_ref().and_then(Licence::required_role)
    {
        shop.insert("role".into(), Value::String(required.as_str().to_owned()));
    }
    let role = text(shop, "role").map(|r| Role::from(r.as_str()));
    let unchanged = before.is_some_and(|before| {
        text(before, "licence") == text(shop, "licence")
            && text(before, "role") == text(shop, "role")
    });
    match licence_role_conflict(licence.as_ref(), role.as_ref()) {
        Some(problem) if !unchanged => Err(AppError::invalid_attribute("role", problem)),
        _ => Ok(()),
    }
}

pub use muster_scim::user::looks_like_email;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn email_check_accepts_real_addresses_and_refuses_junk() {
        assert!(looks_like_email("sam.smith+contractor@acme-fire.com"));
        assert!(!looks_like_email("sam.smith"), "no @");
        assert!(!looks_like_email("sam@localhost"), "no dotted domain");
        assert!(!looks_like_email("sam smith@acme.com"), "spaces");
        assert!(!looks_like_email("@acme.com"), "empty local part");
    }
}
