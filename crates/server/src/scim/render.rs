//! Turning stored rows into the JSON clients see: `schemas`, `id`, the document, the
//! computed `groups`, and `meta`; then the `attributes` / `excludedAttributes` selection
//! with each attribute's `returned` rule (RFC 7643 §7, RFC 7644 §3.4.2.5).

use muster_scim::filter::{AttrPath, parse_attr_path};
use muster_scim::message::ScimType;
use muster_scim::schema::{Attribute, Returned, find_attribute};
use rusqlite::Connection;
use serde_json::{Map, Value, json};
use time::OffsetDateTime;

use super::kind::Kind;
use super::store::{self, Row};
use crate::error::{AppError, AppResult};

/// Which attributes a response carries.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    /// `attributes`: only these (plus those always returned).
    pub attributes: Vec<AttrPath>,
    /// `excludedAttributes`: all but these.
    pub excluded: Vec<AttrPath>,
}

impl Selection {
    /// Parses the comma-separated query parameters.
    pub fn parse(attributes: Option<&str>, excluded: Option<&str>) -> AppResult<Self> {
        let split = |text: Option<&str>| -> Vec<String> {
            text.map(|t| {
                t.split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default()
        };
        Self::from_lists(&split(attributes), &split(excluded))
    }

    /// Parses lists of attribute paths.
    pub fn from_lists(attributes: &[String], excluded: &[String]) -> AppResult<Self> {
        let parse = |list: &[String]| -> AppResult<Vec<AttrPath>> {
            list.iter()
                .map(|text| {
                    parse_attr_path(text.trim()).map_err(|error| {
                        AppError::bad_request(
                            ScimType::InvalidPath,
                            format!("'{text}' is not an attribute path: {error}."),
                        )
                    })
                })
                .collect()
        };
        Ok(Self {
            attributes: parse(attributes)?,
            excluded: parse(excluded)?,
        })
    }

    /// Whether only `id` was asked for (a client reconciling its copy): the answer is each
    /// resource's `schemas` and `id`, which the list can read without the documents.
    pub fn is_ids_only(&self, kind: Kind) -> bool {
        let core = &kind.schema().core.id;
        self.excluded.is_empty()
            && matches!(self.attributes.as_slice(), [path]
                if path.name.eq_ignore_ascii_case("id")
                    && path.sub_attr.is_none()
                    && path.urn.as_deref().is_none_or(|u| u.eq_ignore_ascii_case(core)))
    }

    /// Whether nothing was asked for: the full default representation.
    pub fn is_default(&self) -> bool {
        self.attributes.is_empty() && self.excluded.is_empty()
    }
}

/// The full representation of a stored resource. `groups` is the user's group list
/// (id, displayName), when known.
pub fn resource(
    kind: Kind,
    base: &str,
    mut row: Row,
    groups: Option<&[(String, String)]>,
    now: OffsetDateTime,
) -> Value {
    let schema = kind.schema();
    let mut out = Map::new();
    let mut schemas = vec![Value::String(schema.core.id.clone())];
    if let Some(doc) = row.doc.as_object() {
        for urn in schema.extensions.iter().map(|(ext, _)| &ext.id) {
            if doc
                .get(urn)
                .is_some_and(|ext| ext.as_object().is_some_and(|o| !o.is_empty()))
            {
                schemas.push(Value::String(urn.clone()));
            }
        }
    }
    out.insert("schemas".into(), Value::Array(schemas));
    out.insert("id".into(), Value::String(row.id.clone()));
    if let Value::Object(doc) = std::mem::take(&mut row.doc) {
        for (key, mut value) in doc {
            if key == "photos" && kind == Kind::User {
                super::photo::rendered(&mut value, base, &row.id);
            }
            if key != "schemas" {
                out.insert(key, value);
            }
        }
    }
    if let Some(groups) = groups.filter(|groups| !groups.is_empty()) {
        let groups = groups
            .iter()
            .map(|(id, display)| {
                json!({"value": id, "$ref": format!("{base}/Groups/{id}"), "display": display, "type": "direct"})
            })
            .collect();
        out.insert("groups".into(), Value::Array(groups));
    }
    if let Some(state) = &row.state {
        state.render(&mut out, now);
    }
    out.insert(
        "meta".into(),
        json!({
            "resourceType": kind.name(),
            "created": row.created,
            "lastModified": row.modified,
            "location": format!("{base}/{}/{}", kind.endpoint(), row.id),
            "version": row.etag(),
        }),
    );
    Value::Object(out)
}

/// Renders and projects a page of rows, reading users' groups in one go.
pub fn page(
    conn: &Connection,
    kind: Kind,
    org: &str,
    base: &str,
    mut rows: Vec<Row>,
    selection: &Selection,
    now: OffsetDateTime,
) -> AppResult<Vec<Value>> {
    let groups = if kind == Kind::User {
        let ids: Vec<&str> = rows.iter().map(|row| row.id.as_str()).collect();
        store::groups_of_users(conn, org, &ids)?
    } else {
        Default::default()
    };
    crate::lifecycle::load_live(conn, org, &mut rows, now)?;
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let member_of = groups.get(&row.id).map(Vec::as_slice);
        let full = resource(kind, base, row, member_of, now);
        out.push(project(kind, full, selection));
    }
    Ok(out)
}

/// Renders one row with its groups and the selection applied.
pub fn one(
    conn: &Connection,
    kind: Kind,
    org: &str,
    base: &str,
    row: &Row,
    selection: &Selection,
    now: OffsetDateTime,
) -> AppResult<Value> {
    Ok(
        page(conn, kind, org, base, vec![row.clone()], selection, now)?
            .pop()
            .unwrap_or(Value::Null),
    )
}

/// Applies `attributes` / `excludedAttributes` and the `returned` rules to a full resource.
pub fn project(kind: Kind, full: Value, selection: &Selection) -> Value {
    let Value::Object(full) = full else {
        return full;
    };
    let schema = kind.schema();
    let mut out = Map::new();
    for (key, value) in full {
        if key == "schemas" || key == "id" {
            out.insert(key, value);
            continue;
        }
        if let Some(ext) = schema.extension(&key) {
            let Value::Object(attrs) = value else {
                continue;
            };
            let whole_asked = selection
                .attributes
                .iter()
                .any(|p| names_schema(p, &ext.id));
            let mut kept = Map::new();
            for (name, value) in attrs {
                let def = find_attribute(&ext.attributes, &name);
                let in_ext = |p: &AttrPath| {
                    p.urn
                        .as_deref()
                        .is_some_and(|u| u.eq_ignore_ascii_case(&ext.id))
                        && p.name.eq_ignore_ascii_case(&name)
                };
                if let Some(value) = select(def, value, selection, whole_asked, in_ext) {
                    kept.insert(name, value);
                }
            }
            if !kept.is_empty() {
                out.insert(key, Value::Object(kept));
            }
            continue;
        }
        let def = if key == "meta" {
            None
        } else {
            find_attribute(&schema.core.attributes, &key)
        };
        let core_urn = &schema.core.id;
        let in_core = |p: &AttrPath| {
            p.urn
                .as_deref()
                .is_none_or(|u| u.eq_ignore_ascii_case(core_urn))
                && p.name.eq_ignore_ascii_case(&key)
        };
        if let Some(value) = select(def, value, selection, false, in_core) {
            out.insert(key, value);
        }
    }
    Value::Object(out)
}

/// Whether a path is a bare schema URN naming `urn` as a whole.
fn names_schema(path: &AttrPath, urn: &str) -> bool {
    path.full_urn()
        .is_some_and(|full| full.eq_ignore_ascii_case(urn))
}

/// Decides one top-level attribute: dropped, kept whole, or cut down to the requested
/// sub-attributes. `matches` says whether a selection path points at this attribute.
fn select(
    def: Option<&Attribute>,
    value: Value,
    selection: &Selection,
    whole_asked: bool,
    matches: impl Fn(&AttrPath) -> bool,
) -> Option<Value> {
    let returned = def.map_or(Returned::Default, |d| d.returned);
    match returned {
        Returned::Never => return None,
        Returned::Always => return Some(value),
        Returned::Default | Returned::Request => {}
    }
    if !selection.attributes.is_empty() {
        if whole_asked {
            return Some(value);
        }
        let asked: Vec<&AttrPath> = selection.attributes.iter().filter(|p| matches(p)).collect();
        if asked.is_empty() {
            return None;
        }
        if asked.iter().any(|p| p.sub_attr.is_none()) {
            return Some(value);
        }
        let subs: Vec<&str> = asked.iter().filter_map(|p| p.sub_attr.as_deref()).collect();
        return keep_subs(value, &subs);
    }
    if returned == Returned::Request {
        return None;
    }
    let excluded: Vec<&AttrPath> = selection.excluded.iter().filter(|p| matches(p)).collect();
    if excluded.iter().any(|p| p.sub_attr.is_none()) {
        return None;
    }
    if excluded.is_empty() {
        return Some(value);
    }
    let subs: Vec<&str> = excluded
        .iter()
        .filter_map(|p| p.sub_attr.as_deref())
        .collect();
    drop_subs(value, &subs)
}

fn keep_subs(value: Value, subs: &[&str]) -> Option<Value> {
    let keep = |object: Map<String, Value>| -> Map<String, Value> {
        object
            .into_iter()
            .filter(|(k, _)| subs.iter().any(|s| s.eq_ignore_ascii_case(k)))
            .collect()
    };
    map_complex(value, keep)
}

fn drop_subs(value: Value, subs: &[&str]) -> Option<Value> {
    let drop = |object: Map<String, Value>| -> Map<String, Value> {
        object
            .into_iter()
            .filter(|(k, _)| !subs.iter().any(|s| s.eq_ignore_ascii_case(k)))
            .collect()
    };
    map_complex(value, drop)
}

/// Applies `f` to a complex value, or to each complex value of a list; empty results vanish.
fn map_complex(
    value: Value,
    f: impl Fn(Map<String, Value>) -> Map<String, Value>,
) -> Option<Value> {
    match value {
        Value::Object(object) => Some(f(object)).filter(|o| !o.is_empty()).map(Value::Object),
        Value::Array(items) => {
            let items: Vec<Value> = items
                .into_iter()
                .filter_map(|item| match item {
                    Value::Object(object) => {
                        Some(f(object)).filter(|o| !o.is_empty()).map(Value::Object)
                    }
                    other => Some(other),
                })
                .collect();
            (!items.is_empty()).then_some(Value::Array(items))
        }
        other => Some(other),
    }
}
