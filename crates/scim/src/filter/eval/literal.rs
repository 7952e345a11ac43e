//! Comparing one stored value with a comparison's literal: strings (case-exact or folded),
//! numbers, booleans and dateTimes, with the leniency described on
//! [`matches`](crate::filter::matches).

use std::cmp::Ordering;

use serde_json::{Number, Value};
use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{Date, OffsetDateTime, PrimitiveDateTime};

use super::fold::{cmp_fold, contains_fold, ends_with_fold, eq_fold, starts_with_fold};
use crate::filter::ast::{CompValue, CompareOp};
use crate::schema::{Attribute, AttributeType};

/// A comparison's literal with what the schema says about the attribute, prepared once per
/// comparison rather than once per value.
pub(super) struct Literal<'a> {
    value: &'a CompValue,
    case_exact: bool,
    /// The attribute is typed dateTime: parse dates leniently.
    date_typed: bool,
    /// The literal as an instant, when it is a string that parses as one.
    date: Option<OffsetDateTime>,
}

impl<'a> Literal<'a> {
    pub(super) fn new(value: &'a CompValue, attribute: Option<&Attribute>) -> Self {
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
    pub(super) fn test(&self, op: CompareOp, candidate: &Value) -> bool {
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
    crate::lenient::parse_bool(text.trim())
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
