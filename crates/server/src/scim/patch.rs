//! PATCH (RFC 7644 §3.5.2) applied to a stored document. The result is checked by
//! [`super::validate::normalize`] like any other write, so this module only moves values.
//!
//! Real providers' habits are taken as they come: `add` or `replace` through a value filter
//! that matches nothing creates the element (Entra ID sends `emails[type eq "work"].value`
//! for a user who has no work email yet); a path-less value may hold attribute paths and
//! whole extensions as keys; `remove` with a value removes just those values (Entra's
//! group member removal).

use muster_scim::filter::{
    AttrPath, CompValue, CompareOp, Filter, PatchPath, parse_attr_path, parse_patch_path,
};
use muster_scim::message::{PatchOpKind, PatchOperation, ScimType};
use muster_scim::schema::{Attribute, Mutability, find_attribute};
use serde_json::{Map, Value};

use super::kind::Kind;
use crate::error::{AppError, AppResult};

/// Applies every operation in order to `doc`, a stored document.
pub fn apply(kind: Kind, doc: &mut Value, operations: &[PatchOperation]) -> AppResult<()> {
    if operations.is_empty() {
        return Err(AppError::invalid_value(
            "A PatchOp needs at least one operation.",
        ));
    }
    for operation in operations {
        apply_one(kind, doc, operation)?;
    }
    Ok(())
}

fn apply_one(kind: Kind, doc: &mut Value, operation: &PatchOperation) -> AppResult<()> {
    let op = operation.op;
    let value = operation.value.clone().filter(|v| !v.is_null());
    match operation
        .path
        .as_deref()
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        Some(text) => {
            let path = parse_patch_path(text).map_err(|error| {
                AppError::bad_request(
                    ScimType::InvalidPath,
                    format!("The path '{text}' is not valid: {error}."),
                )
            })?;
            if op != PatchOpKind::Remove && value.is_none() {
                return Err(AppError::invalid_value(format!(
                    "The {op:?} operation on '{text}' needs a value."
                )));
            }
            apply_path(kind, doc, op, &path, value)
        }
        None => {
            if op == PatchOpKind::Remove {
                return Err(AppError::bad_request(
                    ScimType::NoTarget,
                    "A remove operation needs a path.",
                ));
            }
            let Some(Value::Object(values)) = value else {
                return Err(AppError::invalid_value(
                    "An add or replace without a path needs an object of attributes as its value.",
                ));
            };
            for (key, value) in values {
                let path = if kind.schema().extension(&key).is_some() {
                    PatchPath {
                        attr: urn_path(&key),
                        filter: None,
                        sub_attr: None,
                    }
                } else {
                    let attr = parse_attr_path(&key).map_err(|error| {
                        AppError::bad_request(
                            ScimType::InvalidPath,
                            format!("'{key}' is not an attribute: {error}."),
                        )
                    })?;
                    PatchPath {
                        attr,
                        filter: None,
                        sub_attr: None,
                    }
                };
                if is_read_only(kind, &path.attr) {
                    continue; // read-only values in a body are ignored, as in POST and PUT
                }
                apply_path(kind, doc, op, &path, Some(value).filter(|v| !v.is_null()))?;
            }
            Ok(())
        }
    }
}

/// An AttrPath that names a whole schema, as the grammar parses a bare URN.
fn urn_path(urn: &str) -> AttrPath {
    match urn.rsplit_once(':') {
        Some((prefix, name)) => AttrPath {
            urn: Some(prefix.to_owned()),
            name: name.to_owned(),
            sub_attr: None,
        },
        None => AttrPath::new(urn),
    }
}

fn is_read_only(kind: Kind, attr: &AttrPath) -> bool {
    if attr.name.eq_ignore_ascii_case("meta") || attr.name.eq_ignore_ascii_case("id") {
        return attr.urn.is_none();
    }
    let top = AttrPath {
        sub_attr: None,
        ..attr.clone()
    };
    kind.schema()
        .attribute(&top)
        .is_some_and(|a| a.mutability == Mutability::ReadOnly)
}

/// Where a path points: the object holding the attribute, and the attribute's definition.
fn container<'d>(
    kind: Kind,
    doc: &'d mut Value,
    attr: &AttrPath,
    create: bool,
) -> AppResult<Option<&'d mut Map<String, Value>>> {
    let schema = kind.schema();
    let root = doc
        .as_object_mut()
        .ok_or_else(|| AppError::internal("stored document is not an object"))?;
    match &attr.urn {
        None => Ok(Some(root)),
        Some(urn) if urn.eq_ignore_ascii_case(&schema.core.id) => Ok(Some(root)),
        Some(urn) => {
            let ext = schema.extension(urn).ok_or_else(|| {
                AppError::bad_request(
                    ScimType::InvalidPath,
                    format!("'{urn}' is not a schema of this resource."),
                )
            })?;
            let key = existing_key(root, &ext.id).unwrap_or_else(|| ext.id.clone());
            if !root.contains_key(&key) {
                if !create {
                    return Ok(None);
                }
                root.insert(key.clone(), Value::Object(Map::new()));
            }
            match root.get_mut(&key) {
                Some(Value::Object(object)) => Ok(Some(object)),
                _ => Err(AppError::invalid_value(format!(
                    "The extension '{urn}' is not an object."
                ))),
            }
        }
    }
}

fn apply_path(
    kind: Kind,
    doc: &mut Value,
    op: PatchOpKind,
    path: &PatchPath,
    value: Option<Value>,
) -> AppResult<()> {
    let schema = kind.schema();
    // A bare extension URN: the whole extension object.
    if let Some(full) = path.attr.full_urn()
        && let Some(ext) = schema.extension(&full)
    {
        let root = doc
            .as_object_mut()
            .ok_or_else(|| AppError::internal("stored document is not an object"))?;
        let key = existing_key(root, &ext.id).unwrap_or_else(|| ext.id.clone());
        match op {
            PatchOpKind::Remove => {
                root.remove(&key);
            }
            PatchOpKind::Add | PatchOpKind::Replace => {
                let Some(Value::Object(values)) = value else {
                    return Err(AppError::invalid_value(format!(
                        "The value for '{full}' must be an object."
                    )));
                };
                let target = root.entry(key).or_insert_with(|| Value::Object(Map::new()));
                merge(target, values);
            }
        }
        return Ok(());
    }
    let top = AttrPath {
        sub_attr: None,
        ..path.attr.clone()
    };
    let def = schema.attribute(&top).ok_or_else(|| {
        AppError::bad_request(
            ScimType::InvalidPath,
            format!("'{}' is not an attribute of a {}.", top, kind.name()),
        )
    })?;
    if is_read_only(kind, &top) {
        return Err(AppError::bad_request(
            ScimType::Mutability,
            format!("'{}' is read-only.", def.name),
        ));
    }
    let Some(object) = container(kind, doc, &path.attr, op != PatchOpKind::Remove)? else {
        return Ok(()); // removing from an extension the resource does not have
    };
    let key = existing_key(object, &def.name).unwrap_or_else(|| def.name.clone());
    let sub = path.attr.sub_attr.as_deref().or(path.sub_attr.as_deref());
    match &path.filter {
        None => match sub {
            None => whole(object, &key, def, op, value),
            Some(sub) => sub_attribute(object, &key, def, sub, op, value),
        },
        Some(filter) => {
            let target = FilterTarget {
                kind,
                key: &key,
                def,
                top: &top,
            };
            filtered(&target, object, filter, sub, op, value)
        }
    }
}

/// An operation on a whole attribute.
fn whole(
    object: &mut Map<String, Value>,
    key: &str,
    def: &Attribute,
    op: PatchOpKind,
    value: Option<Value>,
) -> AppResult<()> {
    match (op, value) {
        (PatchOpKind::Remove, None) => {
            object.remove(key);
        }
        (PatchOpKind::Remove, Some(value)) if def.multi_valued => {
            let doomed = as_list(value);
            if let Some(Value::Array(items)) = object.get_mut(key) {
                items.retain(|item| !doomed.iter().any(|gone| same_value(item, gone)));
            }
        }
        (PatchOpKind::Remove, Some(_)) => {
            object.remove(key);
        }
        (PatchOpKind::Add, Some(value)) if def.multi_valued => {
            let items = object
                .entry(key.to_owned())
                .or_insert_with(|| Value::Array(Vec::new()));
            if !items.is_array() {
                *items = Value::Array(Vec::new());
            }
            if let Value::Array(items) = items {
                for new in as_list(value) {
                    if !items.iter().any(|item| item == &new) {
                        items.push(new);
                    }
                }
            }
        }
        (PatchOpKind::Add | PatchOpKind::Replace, Some(Value::Object(values)))
            if !def.multi_valued =>
        {
            let target = object
                .entry(key.to_owned())
                .or_insert_with(|| Value::Object(Map::new()));
            if def.sub_attributes.is_empty() {
                *target = Value::Object(values);
            } else {
                merge(target, values);
            }
        }
        (PatchOpKind::Replace, Some(value)) if def.multi_valued => {
            object.insert(key.to_owned(), Value::Array(as_list(value)));
        }
        (PatchOpKind::Add | PatchOpKind::Replace, Some(value)) => {
            object.insert(key.to_owned(), value);
        }
        (PatchOpKind::Add | PatchOpKind::Replace, None) => {}
    }
    Ok(())
}

/// An operation on `attr.sub` without a filter: on the complex value, or on every value of
/// a multi-valued attribute.
fn sub_attribute(
    object: &mut Map<String, Value>,
    key: &str,
    def: &Attribute,
    sub: &str,
    op: PatchOpKind,
    value: Option<Value>,
) -> AppResult<()> {
    let sub_def = find_attribute(&def.sub_attributes, sub).ok_or_else(|| {
        AppError::bad_request(
            ScimType::InvalidPath,
            format!("'{}' has no sub-attribute '{sub}'.", def.name),
        )
    })?;
    if sub_def.mutability == Mutability::ReadOnly {
        return Err(AppError::bad_request(
            ScimType::Mutability,
            format!("'{}.{}' is read-only.", def.name, sub_def.name),
        ));
    }
    if def.multi_valued {
        if let Some(Value::Array(items)) = object.get_mut(key) {
            for item in items.iter_mut().filter_map(Value::as_object_mut) {
                set_sub(item, &sub_def.name, op, value.clone());
            }
        }
        return Ok(());
    }
    if op == PatchOpKind::Remove {
        if let Some(Value::Object(inner)) = object.get_mut(key) {
            set_sub(inner, &sub_def.name, op, None);
            if inner.is_empty() {
                object.remove(key);
            }
        }
        return Ok(());
    }
    let target = object
        .entry(key.to_owned())
        .or_insert_with(|| Value::Object(Map::new()));
    if !target.is_object() {
        *target = Value::Object(Map::new());
    }
    if let Value::Object(inner) = target {
        set_sub(inner, &sub_def.name, op, value);
    }
    Ok(())
}

fn set_sub(item: &mut Map<String, Value>, name: &str, op: PatchOpKind, value: Option<Value>) {
    let key = existing_key(item, name).unwrap_or_else(|| name.to_owned());
    match (op, value) {
        (PatchOpKind::Remove, _) => {
            item.remove(&key);
        }
        (_, Some(value)) => {
            item.insert(key, value);
        }
        (_, None) => {}
    }
}

/// The multi-valued attribute an operation reaches through a value filter: the
/// resource's kind, the attribute's key in the object that holds it, its definition, and
/// its path without a sub-attribute.
struct FilterTarget<'a> {
    kind: Kind,
    key: &'a str,
    def: &'a Attribute,
    top: &'a AttrPath,
}

/// An operation through a value filter: `emails[type eq "work"]` or
/// `emails[type eq "work"].value`.
fn filtered(
    target: &FilterTarget<'_>,
    object: &mut Map<String, Value>,
    filter: &Filter,
    sub: Option<&str>,
    op: PatchOpKind,
    value: Option<Value>,
) -> AppResult<()> {
    let FilterTarget { key, def, .. } = *target;
    if !def.multi_valued {
        return Err(AppError::bad_request(
            ScimType::InvalidPath,
            format!(
                "'{}' is not multi-valued, so it cannot take a value filter.",
                def.name
            ),
        ));
    }
    let sub = match sub {
        Some(sub) => Some(
            find_attribute(&def.sub_attributes, sub)
                .ok_or_else(|| {
                    AppError::bad_request(
                        ScimType::InvalidPath,
                        format!("'{}' has no sub-attribute '{sub}'.", def.name),
                    )
                })?
                .name
                .clone(),
        ),
        None => None,
    };
    let items = items_of(object, key)?;
    let hits = matching(target, filter, items);
    if hits.is_empty() {
        return match op {
            PatchOpKind::Remove => Ok(()),
            PatchOpKind::Add | PatchOpKind::Replace => {
                items.push(created(def, filter, sub, value)?);
                Ok(())
            }
        };
    }
    if op == PatchOpKind::Remove && sub.is_none() {
        let mut index = 0;
        items.retain(|_| {
            let keep = !hits.contains(&index);
            index += 1;
            keep
        });
        if items.is_empty() {
            object.remove(key);
        }
        return Ok(());
    }
    for index in hits {
        let Some(item) = items.get_mut(index) else {
            continue;
        };
        match (&sub, op, &value) {
            (Some(sub), _, _) => {
                if let Some(item) = item.as_object_mut() {
                    set_sub(item, sub, op, value.clone());
                }
            }
            (None, PatchOpKind::Replace, Some(new)) => *item = new.clone(),
            (None, PatchOpKind::Add, Some(Value::Object(values))) => merge(item, values.clone()),
            (None, _, _) => {}
        }
    }
    Ok(())
}

/// The values of the multi-valued attribute at `key`, made an empty list when there are
/// none (or they are not a list).
fn items_of<'o>(object: &'o mut Map<String, Value>, key: &str) -> AppResult<&'o mut Vec<Value>> {
    if !matches!(object.get(key), Some(Value::Array(_))) {
        object.insert(key.to_owned(), Value::Array(Vec::new()));
    }
    match object.get_mut(key) {
        Some(Value::Array(items)) => Ok(items),
        _ => Err(AppError::internal("array just inserted is missing")),
    }
}

/// The positions of the values the filter matches.
fn matching(target: &FilterTarget<'_>, filter: &Filter, items: &[Value]) -> Vec<usize> {
    let matcher = Filter::ValuePath {
        path: AttrPath {
            urn: None,
            ..target.top.clone()
        },
        filter: Box::new(filter.clone()),
    };
    let schema = target.kind.schema();
    let is_match = |item: &Value| {
        let mut probe = Map::new();
        probe.insert(target.def.name.clone(), Value::Array(vec![item.clone()]));
        muster_scim::filter::matches(&matcher, &Value::Object(probe), schema)
    };
    items
        .iter()
        .enumerate()
        .filter(|(_, item)| is_match(item))
        .map(|(i, _)| i)
        .collect()
}

/// The value an `add` or `replace` through a filter that matches nothing creates: what
/// the filter's equalities pin down, with the operation's value (409 `noTarget` when the
/// filter pins nothing down).
fn created(
    def: &Attribute,
    filter: &Filter,
    sub: Option<String>,
    value: Option<Value>,
) -> AppResult<Value> {
    let mut created = equalities(filter).ok_or_else(|| {
        AppError::bad_request(
            ScimType::NoTarget,
            format!("No value of '{}' matches the filter.", def.name),
        )
    })?;
    match (sub, value) {
        (Some(sub), Some(value)) => {
            created.insert(sub, value);
        }
        (None, Some(Value::Object(values))) => created.extend(values),
        _ => {}
    }
    Ok(Value::Object(created))
}

/// The sub-attribute values a filter of `eq` comparisons joined by `and` pins down, as
/// the start of a new element; `None` when the filter says anything else.
fn equalities(filter: &Filter) -> Option<Map<String, Value>> {
    match filter {
        Filter::Compare {
            path,
            op: CompareOp::Eq,
            value,
        } if path.sub_attr.is_none() => {
            let value = match value {
                CompValue::String(s) => Value::String(s.clone()),
                CompValue::Bool(b) => Value::Bool(*b),
                CompValue::Number(n) => Value::Number(n.clone()),
                CompValue::Null => return None,
            };
            let mut map = Map::new();
            map.insert(path.name.clone(), value);
            Some(map)
        }
        Filter::And(a, b) => {
            let mut map = equalities(a)?;
            map.extend(equalities(b)?);
            Some(map)
        }
        _ => None,
    }
}

/// Merges an object's keys into a target value (case-insensitively matched), replacing it
/// if it was not an object.
fn merge(target: &mut Value, values: Map<String, Value>) {
    if !target.is_object() {
        *target = Value::Object(Map::new());
    }
    if let Value::Object(object) = target {
        for (name, value) in values {
            let key = existing_key(object, &name).unwrap_or(name);
            if value.is_null() {
                object.remove(&key);
            } else {
                object.insert(key, value);
            }
        }
    }
}

fn as_list(value: Value) -> Vec<Value> {
    match value {
        Value::Array(items) => items,
        other => vec![other],
    }
}

/// Whether a stored value is the one a `remove` value names: same `value` sub-attribute
/// for complex values, equal otherwise.
fn same_value(item: &Value, gone: &Value) -> bool {
    match (item.get("value"), gone.get("value")) {
        (Some(a), Some(b)) => a == b,
        _ => item == gone,
    }
}

/// The key in `object` that equals `name` ignoring case.
fn existing_key(object: &Map<String, Value>, name: &str) -> Option<String> {
    object
        .keys()
        .find(|key| key.eq_ignore_ascii_case(name))
        .cloned()
}
