//! Evaluating a filter against a JSON resource (RFC 7644 §3.4.2.2 semantics), and checking
//! a filter against a schema for the combinations the RFC calls `invalidFilter`.
//!
//! The decisions taken where the RFC is silent or loose are documented on [`matches`], so
//! that they show in the public docs.

use std::cmp::Ordering;

use serde_json::{Map, Number, Value};
use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{Date, OffsetDateTime, PrimitiveDateTime};

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

/// A comparison's literal with what the schema says about the attribute, prepared once per
/// comparison rather than once per value.
struct Literal<'a> {
    value: &'a CompValue,
    case_exact: bool,
    /// The attribute is typed dateTime: parse dates leniently.
    date_typed: bool,
    /// The literal as an instant, when it is a string that parses as one.
    date: Option<OffsetDateTime>,
}

impl<'a> Literal<'a> {
    fn new(value: &'a CompValue, attribute: Option<&Attribute>) -> Self {
        let date_typed = attribute.is_some_and(|a| a.kind == AttributeType::DateTime);
        let date = match value {
            CompValue::String(text) => parse_date(text, date_typed),
            _ => None,
        };
        Self {
            value,
            case_exact: attribute.is_some_and(|a| a.case_exact),
            date_typed,
            date,
        }
    }

    /// Whether `candidate op literal` holds, for every operator but `ne`.
    fn test(&self, op: CompareOp, candidate: &Value) -> bool {
        match (candidate, self.value) {
            (Value::String(text), CompValue::String(literal)) => self.test_str(op, text, literal),
            (Value::Number(number), CompValue::Number(literal)) => {
                holds(op, compare_numbers(number, literal))
            }
            (Value::String(text), CompValue::Number(literal)) => {
                let number = text.trim().parse::<f64>().ok();
                holds(
                    op,
                    number
                        .zip(literal.as_f64())
                        .and_then(|(a, b)| a.partial_cmp(&b)),
                )
            }
            (Value::Bool(flag), CompValue::Bool(literal)) => op == CompareOp::Eq && flag == literal,
            (Value::String(text), CompValue::Bool(literal)) => {
                op == CompareOp::Eq && parse_bool(text) == Some(*literal)
            }
            (Value::Bool(flag), CompValue::String(literal)) => {
                op == CompareOp::Eq && parse_bool(literal) == Some(*flag)
            }
            _ => false,
        }
    }

    fn test_str(&self, op: CompareOp, text: &str, literal: &str) -> bool {
        let ordered = !matches!(op, CompareOp::Co | CompareOp::Sw | CompareOp::Ew);
        if ordered
            && let Some(literal) = self.date
            && let Some(date) = parse_date(text, self.date_typed)
        {
            return holds(op, Some(date.cmp(&literal)));
        }
        match (op, self.case_exact) {
            (CompareOp::Eq, true) => text == literal,
            (CompareOp::Eq, false) => eq_fold(text, literal),
            (CompareOp::Co, true) => text.contains(literal),
            (CompareOp::Co, false) => contains_fold(text, literal),
            (CompareOp::Sw, true) => text.starts_with(literal),
            (CompareOp::Sw, false) => starts_with_fold(text, literal),
            (CompareOp::Ew, true) => text.ends_with(literal),
            (CompareOp::Ew, false) => ends_with_fold(text, literal),
            (op, true) => holds(op, Some(text.cmp(literal))),
            (op, false) => holds(op, Some(cmp_fold(text, literal))),
        }
    }
}

/// Whether an ordering satisfies an ordering operator (`eq` included). `None` (incomparable)
/// satisfies none; `co`, `sw`, `ew` and `ne` are not ordering operators.
fn holds(op: CompareOp, ordering: Option<Ordering>) -> bool {
    let Some(ordering) = ordering else {
        return false;
    };
    match op {
        CompareOp::Eq => ordering.is_eq(),
        CompareOp::Gt => ordering.is_gt(),
        CompareOp::Ge => ordering.is_ge(),
        CompareOp::Lt => ordering.is_lt(),
        CompareOp::Le => ordering.is_le(),
        CompareOp::Ne | CompareOp::Co | CompareOp::Sw | CompareOp::Ew => false,
    }
}

/// Integers exactly, anything involving a float as `f64`.
fn compare_numbers(a: &Number, b: &Number) -> Option<Ordering> {
    let integer = |n: &Number| {
        n.as_i64()
            .map(i128::from)
            .or_else(|| n.as_u64().map(i128::from))
    };
    match (integer(a), integer(b)) {
        (Some(a), Some(b)) => Some(a.cmp(&b)),
        _ => a.as_f64()?.partial_cmp(&b.as_f64()?),
    }
}

fn parse_bool(text: &str) -> Option<bool> {
    let text = text.trim();
    if text.eq_ignore_ascii_case("true") {
        Some(true)
    } else if text.eq_ignore_ascii_case("false") {
        Some(false)
    } else {
        None
    }
}

/// An RFC 3339 timestamp; with `lenient`, also `YYYY-MM-DDTHH:MM:SS[.fff]` without an offset
/// and a plain `YYYY-MM-DD`, both taken as UTC.
fn parse_date(text: &str, lenient: bool) -> Option<OffsetDateTime> {
    // Cheap rejection of the common case of a string that is no date at all.
    let bytes = text.as_bytes();
    if bytes.len() < 10 || !bytes[..4].iter().all(u8::is_ascii_digit) || bytes[4] != b'-' {
        return None;
    }
    if let Ok(date) = OffsetDateTime::parse(text, &Rfc3339) {
        return Some(date);
    }
    if !lenient {
        return None;
    }
    let local = format_description!(
        "[year]-[month]-[day][first [T][t][ ]][hour]:[minute]:[second][optional [.[subsecond]]]"
    );
    if let Ok(date) = PrimitiveDateTime::parse(text, local) {
        return Some(date.assume_utc());
    }
    Date::parse(text, format_description!("[year]-[month]-[day]"))
        .ok()
        .map(|date| date.midnight().assume_utc())
}

/// The Unicode lowercase chars of `text`.
fn fold(text: &str) -> impl DoubleEndedIterator<Item = char> + Clone + '_ {
    text.chars().flat_map(char::to_lowercase)
}

fn eq_fold(a: &str, b: &str) -> bool {
    if a.is_ascii() && b.is_ascii() {
        a.eq_ignore_ascii_case(b)
    } else {
        fold(a).eq(fold(b))
    }
}

fn cmp_fold(a: &str, b: &str) -> Ordering {
    if a.is_ascii() && b.is_ascii() {
        a.bytes()
            .map(|c| c.to_ascii_lowercase())
            .cmp(b.bytes().map(|c| c.to_ascii_lowercase()))
    } else {
        fold(a).cmp(fold(b))
    }
}

/// Whether `haystack` starts with all of `needle`'s chars, both iterators.
fn iter_starts_with(
    mut haystack: impl Iterator<Item = char>,
    needle: impl Iterator<Item = char>,
) -> bool {
    needle.into_iter().all(|c| haystack.next() == Some(c))
}

fn starts_with_fold(haystack: &str, needle: &str) -> bool {
    if haystack.is_ascii() && needle.is_ascii() {
        haystack
            .as_bytes()
            .get(..needle.len())
            .is_some_and(|head| head.eq_ignore_ascii_case(needle.as_bytes()))
    } else {
        iter_starts_with(fold(haystack), fold(needle))
    }
}

fn ends_with_fold(haystack: &str, needle: &str) -> bool {
    if haystack.is_ascii() && needle.is_ascii() {
        haystack
            .len()
            .checked_sub(needle.len())
            .is_some_and(|start| {
                haystack.as_bytes()[start..].eq_ignore_ascii_case(needle.as_bytes())
            })
    } else {
        iter_starts_with(fold(haystack).rev(), fold(needle).rev())
    }
}

fn contains_fold(haystack: &str, needle: &str) -> bool {
    if needle.is_empty() {
        return true;
    }
    if haystack.is_ascii() && needle.is_ascii() {
        return haystack
            .as_bytes()
            .windows(needle.len())
            .any(|window| window.eq_ignore_ascii_case(needle.as_bytes()));
    }
    let mut rest = fold(haystack);
    loop {
        if iter_starts_with(rest.clone(), fold(needle)) {
            return true;
        }
        if rest.next().is_none() {
            return false;
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use serde_json::json;

    use super::super::parse::parse_filter;
    use super::*;
    use crate::schema::{Mutability, Returned, Schema, Uniqueness};

    const CORE: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
    const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

    fn attr(name: &str, kind: AttributeType) -> Attribute {
        Attribute {
            name: name.into(),
            kind,
            multi_valued: false,
            description: String::new(),
            required: false,
            canonical_values: Vec::new(),
            case_exact: false,
            mutability: Mutability::ReadWrite,
            returned: Returned::Default,
            uniqueness: Uniqueness::None,
            reference_types: Vec::new(),
            sub_attributes: Vec::new(),
        }
    }

    fn exact(attribute: Attribute) -> Attribute {
        Attribute {
            case_exact: true,
            ..attribute
        }
    }

    fn complex(name: &str, multi_valued: bool, subs: Vec<Attribute>) -> Attribute {
        Attribute {
            multi_valued,
            sub_attributes: subs,
            ..attr(name, AttributeType::Complex)
        }
    }

    fn schema_with(id: &str, attributes: Vec<Attribute>) -> Schema {
        Schema {
            id: id.into(),
            name: None,
            description: None,
            attributes,
        }
    }

    /// A cut-down User schema: enough definitions to exercise caseExact and types.
    fn user_schema() -> ResourceSchema {
        use AttributeType::*;
        ResourceSchema {
            core: schema_with(
                CORE,
                vec![
                    exact(attr("id", String)),
                    attr("userName", String),
                    exact(attr("externalId", String)),
                    complex(
                        "name",
                        false,
                        vec![attr("familyName", String), attr("givenName", String)],
                    ),
                    attr("active", Boolean),
                    attr("age", Integer),
                    attr("photo", Binary),
                    complex(
                        "emails",
                        true,
                        vec![
                            attr("value", String),
                            attr("type", String),
                            attr("primary", Boolean),
                        ],
                    ),
                    complex("x509Certificates", true, vec![exact(attr("value", Binary))]),
                    complex(
                        "meta",
                        false,
                        vec![
                            attr("created", DateTime),
                            attr("lastModified", DateTime),
                            exact(attr("version", String)),
                        ],
                    ),
                    complex(
                        "tags",
                        true,
                        vec![exact(attr("value", String)), attr("label", String)],
                    ),
                ],
            ),
            extensions: vec![(
                schema_with(
                    ENTERPRISE,
                    vec![
                        attr("employeeNumber", String),
                        attr("department", String),
                        complex(
                            "manager",
                            false,
                            vec![exact(attr("value", String)), attr("displayName", String)],
                        ),
                    ],
                ),
                false,
            )],
        }
    }

    fn user() -> Value {
        json!({
            "schemas": [CORE, ENTERPRISE],
            "id": "2819c223-7f76-453a-919d-413861904646",
            "externalId": "BJ-1",
            "userName": "Bjensen@Example.com",
            "name": { "familyName": "Jensen", "givenName": "Barbara", "middleName": "" },
            "displayName": "Babs Jensen",
            "title": null,
            "nickName": "",
            "active": true,
            "age": 42,
            "score": 3.5,
            "emails": [
                { "value": "bjensen@example.com", "type": "work", "primary": true },
                { "value": "babs@jensen.org", "type": "home" }
            ],
            "phoneNumbers": [],
            "addresses": [{ "type": null }],
            "tags": [{ "value": "VIP", "label": "Important" }, { "value": "gold" }],
            "meta": {
                "resourceType": "User",
                "created": "2010-01-23T04:56:22Z",
                "lastModified": "2011-05-13T04:42:34.000Z",
                "version": "W/\"a330bc54f0671c9\""
            },
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {
                "employeeNumber": "701984",
                "department": "Tour Operations",
                "manager": { "value": "26118915-6090-4610-87e4-49d8ca9f808d", "displayName": "John Smith" }
            }
        })
    }

    /// Asserts that `filter` does or does not match the sample user.
    #[track_caller]
    fn check(filter: &str, expected: bool) {
        let parsed = parse_filter(filter).unwrap();
        assert_eq!(
            matches(&parsed, &user(), &user_schema()),
            expected,
            "`{filter}` should {}match the sample user",
            if expected { "" } else { "not " }
        );
    }

    #[test]
    fn eq_and_ne() {
        check(r#"userName eq "bjensen@example.com""#, true);
        check(r#"USERNAME EQ "BJENSEN@EXAMPLE.COM""#, true);
        check(r#"userName eq "bjensen""#, false);
        check(r#"userName ne "bjensen""#, true);
        check(r#"userName ne "BJENSEN@example.com""#, false);
        check(r#"name.familyName eq "jensen""#, true);
        check(r#"nosuch ne "x""#, true);
        check(r#"nosuch eq "x""#, false);
    }

    #[test]
    fn case_exact_attributes() {
        check(r#"externalId eq "BJ-1""#, true);
        check(r#"externalId eq "bj-1""#, false);
        check(r#"externalId ne "bj-1""#, true);
        check(r#"externalId sw "bj""#, false);
        check(r#"id eq "2819C223-7F76-453A-919D-413861904646""#, false);
        check(r#"meta.version eq "W/\"A330BC54F0671C9\"""#, false);
        check(r#"meta.version ew "9\"""#, true);
        check(r#"tags eq "vip""#, false);
        check(r#"tags eq "VIP""#, true);
        check(r#"tags[value eq "vip"]"#, false);
        check(r#"tags[value eq "VIP" and label eq "IMPORTANT"]"#, true);
        check(r#"tags.label eq "important""#, true);
        check(
            &format!(r#"{ENTERPRISE}:manager eq "26118915-6090-4610-87E4-49D8CA9F808D""#),
            false,
        );
        check(
            &format!(r#"{ENTERPRISE}:manager.displayName eq "JOHN smith""#),
            true,
        );
    }

    #[test]
    fn substring_operators() {
        check(r#"userName co "@EXAMPLE""#, true);
        check(r#"userName sw "bjen""#, true);
        check(r#"userName ew ".COM""#, true);
        check(r#"userName co "@acme""#, false);
        check(r#"userName sw "example""#, false);
        check(r#"userName ew "bjensen""#, false);
        check(r#"userName co """#, true);
        check(r#"age co "4""#, false);
        check(r#"active sw "t""#, false);
    }

    #[test]
    fn unicode_case_folding() {
        let resource = json!({ "displayName": "ÅSA Ölund-Straße", "nickName": "İstanbul" });
        let schema = user_schema();
        let test = |text: &str| matches(&parse_filter(text).unwrap(), &resource, &schema);
        assert!(test(r#"displayName eq "åsa ölund-straße""#));
        assert!(test(r#"displayName sw "åsa Ö""#));
        assert!(
            !test(r#"displayName ew "STRASSE""#),
            "lowercasing is not full case folding"
        );
        assert!(test(r#"displayName ew "-STRAßE""#));
        assert!(test(r#"displayName co "ölund""#));
        assert!(!test(r#"displayName co "olund""#));
        assert!(test(r#"displayName gt "åsa a""#));
        assert!(
            test(r#"nickName co "i̇st""#),
            "İ lowercases to i + combining dot"
        );
        assert!(test(r#"nickName ew "BUL""#));
    }

    #[test]
    fn ordering() {
        check("age gt 41", true);
        check("age gt 42", false);
        check("age ge 42", true);
        check("age lt 42.5", true);
        check("age le 41.9", false);
        check("age eq 42.0", true);
        check("score gt 3", true);
        check("score lt -1e3", false);
        check(r#"userName gt "BJENSEN""#, true);
        check(r#"userName lt "c""#, true);
        check(r#"userName lt "B""#, false);
        check(r#"externalId lt "bj""#, true);
        check(r#"age gt "41""#, false);
        check("active gt false", false);
        check("userName gt 3", false);
    }

    #[test]
    fn datetimes() {
        check(r#"meta.created eq "2010-01-23T04:56:22.000Z""#, true);
        check(r#"meta.created eq "2010-01-23T05:56:22+01:00""#, true);
        check(r#"meta.lastModified eq "2011-05-13T04:42:34Z""#, true);
        check(r#"meta.lastModified ne "2011-05-13T04:42:34Z""#, false);
        check(r#"meta.lastModified gt "2011-05-13T04:42:33.999Z""#, true);
        check(r#"meta.lastModified gt "2011-05-13T04:42:34Z""#, false);
        check(r#"meta.lastModified ge "2011-05-13T04:42:34Z""#, true);
        check(r#"meta.created lt "2011-01-01T00:00:00Z""#, true);
        check(r#"meta.created le "2010-01-01T00:00:00Z""#, false);
        check(r#"meta.created gt "2010-01-23""#, true);
        check(r#"meta.created lt "2010-01-23T04:56:23""#, true);
        check(r#"meta.created sw "2010-01""#, true);
    }

    #[test]
    fn datetimes_of_unknown_attributes_need_rfc3339_on_both_sides() {
        let schema = user_schema();
        let resource = json!({ "hired": "2020-03-01T09:00:00.000Z", "left": "2021-03-01" });
        let test = |text: &str| matches(&parse_filter(text).unwrap(), &resource, &schema);
        assert!(test(r#"hired eq "2020-03-01T09:00:00Z""#));
        assert!(test(r#"hired gt "2020-03-01T08:59:59.5Z""#));
        assert!(
            !test(r#"left eq "2021-03-01T00:00:00Z""#),
            "no lenient dates without a schema"
        );
        assert!(
            test(r#"left eq "2021-03-01""#),
            "plain string equality still applies"
        );
    }

    #[test]
    fn booleans() {
        check("active eq true", true);
        check("active eq TRUE", true);
        check("active eq false", false);
        check("active ne false", true);
        check(r#"active eq "true""#, true);
        let schema = user_schema();
        let lenient = json!({ "active": "False" });
        assert!(matches(
            &parse_filter("active eq false").unwrap(),
            &lenient,
            &schema
        ));
        assert!(!matches(
            &parse_filter("active eq true").unwrap(),
            &lenient,
            &schema
        ));
    }

    #[test]
    fn presence_and_null() {
        check("userName pr", true);
        check("title pr", false);
        check("nickName pr", false);
        check("phoneNumbers pr", false);
        check("addresses pr", false);
        check("nosuch pr", false);
        check("name pr", true);
        check("name.middleName pr", false);
        check("emails pr", true);
        check("emails.primary pr", true);
        check("emails.display pr", false);
        check("age pr", true);
        check("active pr", true);
        check("title eq null", true);
        check("nosuch eq null", true);
        check("userName eq null", false);
        check("userName ne null", true);
        check("title ne null", false);
        check("userName co null", false);
    }

    #[test]
    fn multi_valued() {
        check(r#"emails co "jensen.org""#, true);
        check(r#"emails eq "BABS@jensen.org""#, true);
        check(r#"emails.value ew "example.com""#, true);
        check(r#"emails.type eq "home""#, true);
        check(r#"emails.type eq "other""#, false);
        check(r#"emails.type ne "work""#, false);
        check(r#"emails.type ne "other""#, true);
        check(
            r#"schemas eq "URN:IETF:PARAMS:SCIM:SCHEMAS:CORE:2.0:USER""#,
            true,
        );
    }

    #[test]
    fn value_paths() {
        check(
            r#"emails[type eq "work" and value co "@example.com"]"#,
            true,
        );
        check(
            r#"emails[type eq "home" and value co "@example.com"]"#,
            false,
        );
        check(r#"emails[type eq "work" and primary eq true]"#, true);
        check(r#"emails[type eq "home" and primary eq true]"#, false);
        check(r#"emails[not (primary pr)]"#, true);
        check(r#"emails[primary pr] and emails[not (primary pr)]"#, true);
        check(r#"name[familyName sw "J"]"#, true);
        check(r#"phoneNumbers[value pr]"#, false);
        check(r#"nosuch[value pr]"#, false);
        check(r#"userName[value pr]"#, false);
        check(
            &format!(r#"{ENTERPRISE}:manager[displayName co "smith"]"#),
            true,
        );
    }

    #[test]
    fn urn_paths() {
        check(&format!(r#"{ENTERPRISE}:employeeNumber eq "701984""#), true);
        check(
            &format!(
                r#"{}:employeeNumber eq "701984""#,
                ENTERPRISE.to_uppercase()
            ),
            true,
        );
        check(&format!(r#"{ENTERPRISE}:EmployeeNumber gt "7""#), true);
        check(
            &format!(r#"{ENTERPRISE}:manager.value sw "26118915""#),
            true,
        );
        check(
            &format!(r#"{ENTERPRISE}:manager eq "26118915-6090-4610-87e4-49d8ca9f808d""#),
            true,
        );
        check(&format!(r#"{ENTERPRISE}:userName pr"#), false);
        check(&format!(r#"{CORE}:userName sw "bj""#), true);
        check(&format!(r#"{CORE}:name.givenName eq "barbara""#), true);
        check(&format!("{ENTERPRISE} pr"), true);
        check("urn:example:other:2.0:User pr", false);
        check("urn:example:other:2.0:User:employeeNumber pr", false);
    }

    #[test]
    fn logic() {
        check(
            r#"userName sw "bj" and (age lt 18 or active eq true)"#,
            true,
        );
        check(
            r#"userName sw "bj" and age lt 18 or active eq false"#,
            false,
        );
        check(r#"not (userName sw "bj")"#, false);
        check(r#"not (not (userName sw "bj"))"#, true);
        check(r#"age lt 18 or not (active eq false)"#, true);
    }

    #[test]
    fn non_objects_never_panic() {
        let schema = user_schema();
        let filter =
            parse_filter(r#"emails[type eq "work"] or a.b pr or a eq 1 or x co "y""#).unwrap();
        for resource in [
            json!(null),
            json!([]),
            json!("text"),
            json!(3),
            json!({ "a": [[1]] }),
        ] {
            assert!(!matches(&filter, &resource, &schema));
        }
    }

    #[test]
    fn validation() {
        let schema = user_schema();
        let check = |text: &str| validate(&parse_filter(text).unwrap(), &schema);
        assert_eq!(
            check(r#"userName co "x" and age gt 3 and meta.created lt "2020-01-01""#),
            Ok(())
        );
        assert_eq!(
            check("unknownAttr gt true and urn:x:y:z co 1"),
            Ok(()),
            "unknown attributes pass"
        );
        let err = check("active gt false").unwrap_err();
        assert_eq!(err.kind, AttributeType::Boolean);
        assert_eq!(
            err.to_string(),
            "operator 'gt' cannot be applied to boolean attribute 'active'"
        );
        assert_eq!(check(r#"ACTIVE co "t""#).unwrap_err().op, CompareOp::Co);
        assert_eq!(
            check(r#"photo le "abc""#).unwrap_err().kind,
            AttributeType::Binary
        );
        assert!(check(r#"photo eq "abc""#).is_ok());
        assert!(check(r#"age sw "4""#).is_err());
        assert!(
            check(r#"x509Certificates gt "a""#).is_err(),
            "compares the binary value"
        );
        let err = check(r#"userName pr or not (emails[primary ge true])"#).unwrap_err();
        assert_eq!(err.path, AttrPath::sub("emails", "primary"));
        assert_eq!(
            err.to_string(),
            "operator 'ge' cannot be applied to boolean attribute 'emails.primary'"
        );
        assert!(check(r#"emails[type sw "w"]"#).is_ok());
    }

    #[test]
    fn longest_chains_evaluate() {
        // The parser's limit: 1000 comparisons, a tree 1000 levels deep. Evaluating and
        // validating it must fit in a test thread's stack.
        let text = vec![r#"emails[value eq "nobody"]"#; 1000].join(" or ");
        let filter = parse_filter(&text).unwrap();
        assert!(!matches(&filter, &user(), &user_schema()));
        assert_eq!(validate(&filter, &user_schema()), Ok(()));
        let text = vec!["userName pr"; 1000].join(" and ");
        assert!(matches(
            &parse_filter(&text).unwrap(),
            &user(),
            &user_schema()
        ));
    }

    #[test]
    fn fold_helpers() {
        assert!(contains_fold("aÄbc", "äB"));
        assert!(!contains_fold("aÄbc", "äc"));
        assert!(contains_fold("x", ""));
        assert!(starts_with_fold("Ébc", "é"));
        assert!(!starts_with_fold("É", "éa"));
        assert!(ends_with_fold("abÉ", "BÉ"));
        assert!(!ends_with_fold("É", "aé"));
        assert!(!ends_with_fold("a", "ab"));
        assert_eq!(cmp_fold("ä", "Ä"), Ordering::Equal);
        assert_eq!(cmp_fold("B", "a"), Ordering::Greater);
    }
}
