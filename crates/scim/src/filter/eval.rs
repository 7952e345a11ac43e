//! Evaluating a filter against a JSON resource (RFC 7644 §3.4.2.2 semantics), and checking
//! a filter against a schema for the combinations the RFC calls `invalidFilter`.
//!
//! The decisions taken where the RFC is silent or loose are documented on [`matches()`], so
//! that they show in the public docs.

mod fold;
mod literal;

use serde_json::{Map, Value};

use self::literal::Literal;
use super::ast::{AttrPath, CompValue, CompareOp, Filter};
use crate::schema::{Attribute, AttributeType, ResourceSchema, find_attribute};

/// Whether `resource` satisfies `filter`, reading attribute definitions (`caseExact`, type)
/// from `schema`. Never fails: a comparison that cannot apply (wrong type, invalid operator)
/// is simply false.
///
/// Decisions where the RFC is silent or loose:
///
/// - **Lookup.** Object keys match attribute names ASCII-case-insensitively. A path with no
///   URN, or with the core schema's URN, starts at the resource root; any other URN starts
///   at the object under that URN's key. A bare schema URN (`…:enterprise:2.0:User pr`,
///   parsed as URN `…:2.0` and name `User`) names that extension object itself.
/// - **Multiple values.** A comparison holds when *any* value holds: every element of a
///   multi-valued attribute, every element's sub-attribute for `emails.value`. A complex
///   attribute compared without a sub-attribute (`emails co "acme"`, `manager eq "26"`)
///   compares its `value` sub-attribute.
/// - **`ne`** is the negation of `eq`: true when *no* value equals the literal, so it is
///   true for an absent attribute (`emails.type ne "work"`: no work address).
/// - **`pr`** holds when the attribute has a value that is not `null`, `""`, `[]` or `{}`;
///   a list or object counts when one of its members is such a value.
/// - **`null`.** `eq null` means "not present" (the negation of `pr`), `ne null` means
///   present; any other operator with `null` is false.
/// - **Strings** compare case-insensitively (Unicode lowercase) unless the schema marks the
///   attribute `caseExact`; unknown attributes are case-insensitive.
/// - **Ordering.** Numbers compare numerically, strings lexicographically by code point
///   (after case folding), dateTimes chronologically: when both sides parse as RFC 3339,
///   `eq`, `gt`, `ge`, `lt` and `le` compare instants, so `…00Z` equals `…00.000Z`. For
///   attributes the schema types as dateTime, values without an offset (taken as UTC) and
///   plain dates are accepted too.
/// - **Leniency.** Stored booleans may be strings (`"True"`), stored numbers may be numeric
///   strings (`"42"`); `active eq "true"` matches a JSON `true`. Booleans only support `eq`
///   and `ne`. Mismatched types never match.
pub fn matches(filter: &Filter, resource: &Value, schema: &ResourceSchema) -> bool {
    Evaluator {
        schema,
        root: resource,
    }
    .eval(filter, Scope::Root)
}

/// A filter that parses but compares an attribute in a way its type does not allow
/// (RFC 7644 §3.4.2.2: SCIM `invalidFilter`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("operator '{op}' cannot be applied to {kind_name} attribute '{path}'", kind_name = type_name(*.kind))]
pub struct InvalidFilterError {
    /// The attribute, with the enclosing attribute prepended inside a value filter
    /// (`emails.primary` for `emails[primary gt true]`).
    pub path: AttrPath,
    /// The operator that does not apply.
    pub op: CompareOp,
    /// The attribute's type according to the schema.
    pub kind: AttributeType,
}

/// Checks `filter` against `schema`: rejects ordering (`gt`, `ge`, `lt`, `le`) of boolean
/// and binary attributes and substring matching (`co`, `sw`, `ew`) of boolean and numeric
/// attributes. Attributes the schema does not define pass: providers add extension
/// attributes the schema may not know.
///
/// # Errors
/// The first offending comparison, as an [`InvalidFilterError`].
pub fn validate(filter: &Filter, schema: &ResourceSchema) -> Result<(), InvalidFilterError> {
    validate_in(filter, schema, Parent::Resource)
}

fn validate_in(
    filter: &Filter,
    schema: &ResourceSchema,
    parent: Parent<'_>,
) -> Result<(), InvalidFilterError> {
    match filter {
        Filter::Compare { path, op, .. } => {
            let Some(kind) = definition(schema, path, parent).map(|attribute| attribute.kind)
            else {
                return Ok(());
            };
            let ordering = matches!(
                op,
                CompareOp::Gt | CompareOp::Ge | CompareOp::Lt | CompareOp::Le
            );
            let substring = matches!(op, CompareOp::Co | CompareOp::Sw | CompareOp::Ew);
            let invalid = match kind {
                AttributeType::Boolean => ordering || substring,
                AttributeType::Binary => ordering,
                AttributeType::Integer | AttributeType::Decimal => substring,
                _ => false,
            };
            if !invalid {
                return Ok(());
            }
            let path = match parent {
                Parent::Attribute(Some(outer)) => AttrPath {
                    urn: outer.urn.clone(),
                    name: outer.name.clone(),
                    sub_attr: Some(path.name.clone()),
                },
                _ => path.clone(),
            };
            Err(InvalidFilterError {
                path,
                op: *op,
                kind,
            })
        }
        Filter::Present(_) => Ok(()),
        Filter::And(left, right) | Filter::Or(left, right) => {
            validate_in(left, schema, parent)?;
            validate_in(right, schema, parent)
        }
        Filter::Not(inner) => validate_in(inner, schema, parent),
        Filter::ValuePath { path, filter } => {
            let parent = match parent {
                Parent::Resource => Parent::Attribute(Some(path)),
                Parent::Attribute(_) => Parent::Attribute(None),
            };
            validate_in(filter, schema, parent)
        }
    }
}

/// The SCIM name of an attribute type, for messages.
fn type_name(kind: AttributeType) -> &'static str {
    match kind {
        AttributeType::String => "string",
        AttributeType::Boolean => "boolean",
        AttributeType::Decimal => "decimal",
        AttributeType::Integer => "integer",
        AttributeType::DateTime => "dateTime",
        AttributeType::Binary => "binary",
        AttributeType::Reference => "reference",
        AttributeType::Complex => "complex",
    }
}

/// What a path is relative to, for looking up its definition.
#[derive(Debug, Clone, Copy)]
enum Parent<'a> {
    /// The resource: the path is absolute.
    Resource,
    /// A value of this attribute, inside a value filter (`None` when the value filter is
    /// itself nested, where the schema offers no definitions).
    Attribute(Option<&'a AttrPath>),
}

/// Where a path is resolved.
#[derive(Debug, Clone, Copy)]
enum Scope<'a> {
    /// At the resource.
    Root,
    /// At one value of a multi-valued or complex attribute, inside a value filter.
    Element {
        value: &'a Value,
        parent: Option<&'a AttrPath>,
    },
}

impl<'a> Scope<'a> {
    fn parent(self) -> Parent<'a> {
        match self {
            Scope::Root => Parent::Resource,
            Scope::Element { parent, .. } => Parent::Attribute(parent),
        }
    }
}

/// The definition of the attribute a comparison reads, if the schema has one: for a complex
/// attribute compared without a sub-attribute, its `value` sub-attribute.
fn definition<'s>(
    schema: &'s ResourceSchema,
    path: &AttrPath,
    parent: Parent<'_>,
) -> Option<&'s Attribute> {
    match parent {
        Parent::Resource => {
            let attribute = schema.attribute(path)?;
            if path.sub_attr.is_none() && attribute.kind == AttributeType::Complex {
                find_attribute(&attribute.sub_attributes, "value")
            } else {
                Some(attribute)
            }
        }
        // Inside `emails[…]`, `type` is `emails.type`.
        Parent::Attribute(Some(outer)) if path.sub_attr.is_none() => {
            let top = find_attribute(&schema.schema_of(outer)?.attributes, &outer.name)?;
            find_attribute(&top.sub_attributes, &path.name)
        }
        Parent::Attribute(_) => None,
    }
}

struct Evaluator<'a> {
    schema: &'a ResourceSchema,
    root: &'a Value,
}

impl<'a> Evaluator<'a> {
    fn eval(&self, filter: &'a Filter, scope: Scope<'a>) -> bool {
        match filter {
            Filter::Compare { path, op, value } => self.compare(path, *op, value, scope),
            Filter::Present(path) => self.present(path, scope),
            Filter::And(left, right) => self.eval(left, scope) && self.eval(right, scope),
            Filter::Or(left, right) => self.eval(left, scope) || self.eval(right, scope),
            Filter::Not(inner) => !self.eval(inner, scope),
            Filter::ValuePath { path, filter } => {
                let parent = match scope {
                    Scope::Root => Some(path),
                    Scope::Element { .. } => None,
                };
                let test = |value: &'a Value| {
                    value.is_object() && self.eval(filter, Scope::Element { value, parent })
                };
                match self.resolve(path, scope) {
                    Some(Value::Array(items)) => items.iter().any(test),
                    Some(value) => test(value),
                    None => false,
                }
            }
        }
    }

    /// The value of the attribute `path` names (ignoring its sub-attribute), if any.
    fn resolve(&self, path: &AttrPath, scope: Scope<'a>) -> Option<&'a Value> {
        let container = match scope {
            Scope::Element { value, .. } => return get(value, &path.name),
            Scope::Root => match &path.urn {
                None => self.root,
                Some(urn) if urn.eq_ignore_ascii_case(&self.schema.core.id) => self.root,
                Some(urn) => match get(self.root, urn) {
                    Some(extension) => extension,
                    None if path.sub_attr.is_none() => return self.bare_urn(urn, &path.name),
                    None => return None,
                },
            },
        };
        get(container, &path.name)
    }

    /// The object under the key `urn:name`: a bare schema URN, as the grammar splits it.
    fn bare_urn(&self, urn: &str, name: &str) -> Option<&'a Value> {
        let object = self.root.as_object()?;
        object.iter().find_map(|(key, value)| {
            let key = key.as_bytes();
            let matched = key.len() == urn.len() + 1 + name.len()
                && key[..urn.len()].eq_ignore_ascii_case(urn.as_bytes())
                && key[urn.len()] == b':'
                && key[urn.len() + 1..].eq_ignore_ascii_case(name.as_bytes());
            matched.then_some(value)
        })
    }

    fn present(&self, path: &AttrPath, scope: Scope<'a>) -> bool {
        let Some(value) = self.resolve(path, scope) else {
            return false;
        };
        match (&path.sub_attr, value) {
            (None, value) => has_value(value),
            (Some(sub), Value::Array(items)) => items
                .iter()
                .any(|item| get(item, sub).is_some_and(has_value)),
            (Some(sub), value) => get(value, sub).is_some_and(has_value),
        }
    }

    fn compare(&self, path: &AttrPath, op: CompareOp, value: &CompValue, scope: Scope<'a>) -> bool {
        match (op, value) {
            (CompareOp::Eq, CompValue::Null) => return !self.present(path, scope),
            (CompareOp::Ne, CompValue::Null) => return self.present(path, scope),
            (CompareOp::Ne, _) => return !self.compare(path, CompareOp::Eq, value, scope),
            (_, CompValue::Null) => return false,
            _ => {}
        }
        let Some(attribute) = self.resolve(path, scope) else {
            return false;
        };
        let literal = Literal::new(value, definition(self.schema, path, scope.parent()));
        let test = |candidate: &Value| literal.test(op, candidate);
        match (&path.sub_attr, attribute) {
            (None, attribute) => any_scalar(attribute, &test),
            (Some(sub), Value::Array(items)) => items
                .iter()
                .any(|item| get(item, sub).is_some_and(|v| any_scalar(v, &test))),
            (Some(sub), attribute) => get(attribute, sub).is_some_and(|v| any_scalar(v, &test)),
        }
    }
}

/// `object[name]`, with the name matched ASCII-case-insensitively; `None` for non-objects.
fn get<'v>(value: &'v Value, name: &str) -> Option<&'v Value> {
    let object: &Map<String, Value> = value.as_object()?;
    object.get(name).or_else(|| {
        object
            .iter()
            .find_map(|(key, value)| key.eq_ignore_ascii_case(name).then_some(value))
    })
}

/// Tests each scalar an attribute value stands for: the value itself, each element of a
/// list, and for objects (complex values) their `value` sub-attribute.
fn any_scalar(value: &Value, test: &impl Fn(&Value) -> bool) -> bool {
    let one = |value: &Value| match value {
        Value::Object(_) => {
            get(value, "value").is_some_and(|inner| is_scalar(inner) && test(inner))
        }
        Value::Array(_) => false,
        scalar => test(scalar),
    };
    match value {
        Value::Array(items) => items.iter().any(one),
        value => one(value),
    }
}

fn is_scalar(value: &Value) -> bool {
    !matches!(value, Value::Array(_) | Value::Object(_))
}

/// Whether a value counts as present for `pr`: not null, `""`, `[]` or `{}`, and for a list
/// or object, holding at least one member that is not. Looks two levels deep at most.
fn has_value(value: &Value) -> bool {
    fn leaf(value: &Value) -> bool {
        match value {
            Value::Null => false,
            Value::String(text) => !text.is_empty(),
            Value::Array(items) => !items.is_empty(),
            Value::Object(members) => !members.is_empty(),
            Value::Bool(_) | Value::Number(_) => true,
        }
    }
    fn node(value: &Value) -> bool {
        match value {
            Value::Object(members) => members.values().any(leaf),
            value => leaf(value),
        }
    }
    match value {
        Value::Array(items) => items.iter().any(node),
        value => node(value),
    }
}

#[cfg(test)]
mod tests;
