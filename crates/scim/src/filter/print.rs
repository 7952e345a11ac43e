//! Canonical filter text: lowercase keywords, JSON string literals, single spaces, and
//! parentheses exactly where the tree needs them.
//!
//! For every well-formed tree (attribute names that fit the grammar, value paths without a
//! sub-attribute and without value paths inside), `parse_filter(&f.to_string()) == Ok(f)`;
//! printing a parsed filter is therefore a fixed point.

use std::fmt;

use super::ast::{AttrPath, CompValue, CompareOp, Filter};

impl fmt::Display for AttrPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(urn) = &self.urn {
            write!(f, "{urn}:")?;
        }
        f.write_str(&self.name)?;
        if let Some(sub_attr) = &self.sub_attr {
            write!(f, ".{sub_attr}")?;
        }
        Ok(())
    }
}

impl fmt::Display for CompareOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Display for CompValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Null => f.write_str("null"),
            Self::Bool(value) => write!(f, "{value}"),
            Self::Number(number) => write!(f, "{number}"),
            Self::String(text) => {
                f.write_str(&serde_json::to_string(text).map_err(|_| fmt::Error)?)
            }
        }
    }
}

/// How tightly an expression binds: `or` < `and` < everything else.
fn precedence(filter: &Filter) -> u8 {
    match filter {
        Filter::Or(..) => 1,
        Filter::And(..) => 2,
        _ => 3,
    }
}

/// Writes `operand`, in parentheses when it binds less tightly than `min`.
fn write_operand(f: &mut fmt::Formatter<'_>, operand: &Filter, min: u8) -> fmt::Result {
    if precedence(operand) < min {
        write!(f, "({operand})")
    } else {
        write!(f, "{operand}")
    }
}

impl fmt::Display for Filter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Compare { path, op, value } => write!(f, "{path} {op} {value}"),
            Self::Present(path) => write!(f, "{path} pr"),
            // Left-associative: the left operand may be the same operator unbracketed, the
            // right one may not.
            Self::And(left, right) => {
                write_operand(f, left, 2)?;
                f.write_str(" and ")?;
                write_operand(f, right, 3)
            }
            Self::Or(left, right) => {
                write_operand(f, left, 1)?;
                f.write_str(" or ")?;
                write_operand(f, right, 2)
            }
            Self::Not(inner) => write!(f, "not ({inner})"),
            Self::ValuePath { path, filter } => write!(f, "{path}[{filter}]"),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::super::parse::parse_filter;
    use super::*;

    fn pr(name: &str) -> Filter {
        Filter::Present(AttrPath::new(name))
    }

    fn and(a: Filter, b: Filter) -> Filter {
        Filter::And(Box::new(a), Box::new(b))
    }

    fn or(a: Filter, b: Filter) -> Filter {
        Filter::Or(Box::new(a), Box::new(b))
    }

    #[test]
    fn parentheses_only_where_needed() {
        let (a, b, c) = (pr("a"), pr("b"), pr("c"));
        let cases = [
            (
                and(and(a.clone(), b.clone()), c.clone()),
                "a pr and b pr and c pr",
            ),
            (
                and(a.clone(), and(b.clone(), c.clone())),
                "a pr and (b pr and c pr)",
            ),
            (
                or(or(a.clone(), b.clone()), c.clone()),
                "a pr or b pr or c pr",
            ),
            (
                or(a.clone(), or(b.clone(), c.clone())),
                "a pr or (b pr or c pr)",
            ),
            (
                and(or(a.clone(), b.clone()), c.clone()),
                "(a pr or b pr) and c pr",
            ),
            (
                and(a.clone(), or(b.clone(), c.clone())),
                "a pr and (b pr or c pr)",
            ),
            (
                or(and(a.clone(), b.clone()), c.clone()),
                "a pr and b pr or c pr",
            ),
            (
                or(a.clone(), and(b.clone(), c.clone())),
                "a pr or b pr and c pr",
            ),
            (
                Filter::Not(Box::new(or(a.clone(), b.clone()))),
                "not (a pr or b pr)",
            ),
            (
                and(Filter::Not(Box::new(a.clone())), b.clone()),
                "not (a pr) and b pr",
            ),
        ];
        for (filter, text) in cases {
            assert_eq!(filter.to_string(), text);
            assert_eq!(
                parse_filter(text).unwrap(),
                filter,
                "{text} must parse back"
            );
        }
    }

    #[test]
    fn canonical_form() {
        let text = r#"UserName EQ "a\u0041\"\\\/" AND (emails[Type eq "work" OR primary eq TRUE] oR urn:x:y:age GE -1.5e0) and meta.created lt NULL"#;
        let canonical = parse_filter(text).unwrap().to_string();
        assert_eq!(
            canonical,
            r#"UserName eq "aA\"\\/" and (emails[Type eq "work" or primary eq true] or urn:x:y:age ge -1.5) and meta.created lt null"#
        );
        assert_eq!(parse_filter(&canonical).unwrap().to_string(), canonical);
    }

    #[test]
    fn strings_are_json_escaped() {
        let filter = Filter::Compare {
            path: AttrPath::new("a"),
            op: CompareOp::Eq,
            value: CompValue::String("tab\tquote\"nul\u{0}é".into()),
        };
        assert_eq!(filter.to_string(), r#"a eq "tab\tquote\"nul\u0000é""#);
        assert_eq!(parse_filter(&filter.to_string()).unwrap(), filter);
    }
}
