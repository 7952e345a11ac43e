//! Unit tests of the filter and attribute-path parser: the tree it builds, and the position and
//! message of each error.

#![allow(clippy::unwrap_used)]

use serde_json::Number;

use super::*;
use crate::filter::CompValue;

fn cmp(path: AttrPath, op: CompareOp, value: CompValue) -> Filter {
    Filter::Compare { path, op, value }
}

fn s(text: &str) -> CompValue {
    CompValue::String(text.to_owned())
}

fn and(a: Filter, b: Filter) -> Filter {
    Filter::And(Box::new(a), Box::new(b))
}

fn or(a: Filter, b: Filter) -> Filter {
    Filter::Or(Box::new(a), Box::new(b))
}

fn pr(name: &str) -> Filter {
    Filter::Present(AttrPath::new(name))
}

fn err(input: &str) -> FilterError {
    parse_filter(input).unwrap_err()
}

#[test]
fn every_operator_parses_in_any_case() {
    for op in CompareOp::ALL {
        for keyword in [op.as_str().to_owned(), op.as_str().to_uppercase()] {
            let filter = parse_filter(&format!("userName {keyword} \"x\"")).unwrap();
            assert_eq!(
                filter,
                cmp(AttrPath::new("userName"), op, s("x")),
                "{keyword}"
            );
        }
    }
    assert_eq!(parse_filter("title Pr").unwrap(), pr("title"));
}

#[test]
fn literals() {
    let value = |text: &str| match parse_filter(&format!("a eq {text}")).unwrap() {
        Filter::Compare { value, .. } => value,
        other => panic!("not a comparison: {other:?}"),
    };
    assert_eq!(value("true"), CompValue::Bool(true));
    assert_eq!(value("FALSE"), CompValue::Bool(false));
    assert_eq!(value("Null"), CompValue::Null);
    assert_eq!(value("42"), CompValue::Number(42.into()));
    assert_eq!(value("-7"), CompValue::Number((-7).into()));
    assert_eq!(
        value("18446744073709551615"),
        CompValue::Number(u64::MAX.into())
    );
    assert_eq!(
        value("1.5"),
        CompValue::Number(Number::from_f64(1.5).unwrap())
    );
    assert_eq!(
        value("-2.5E+2"),
        CompValue::Number(Number::from_f64(-250.0).unwrap())
    );
    assert_eq!(
        value("1e3"),
        CompValue::Number(Number::from_f64(1000.0).unwrap())
    );
    assert_eq!(value(r#""""#), s(""));
}

#[test]
fn string_escapes() {
    let filter = parse_filter(r#"a eq "q\"b\\s\/\b\f\n\r\t\u00e9\uD83D\uDE00""#).unwrap();
    assert_eq!(
        filter,
        cmp(
            AttrPath::new("a"),
            CompareOp::Eq,
            s("q\"b\\s/\u{8}\u{c}\n\r\t\u{e9}\u{1F600}")
        )
    );
    assert_eq!(
        parse_filter("a eq \"ünï ☃\"").unwrap(),
        cmp(AttrPath::new("a"), CompareOp::Eq, s("ünï ☃")),
        "raw non-ASCII text is taken as is"
    );
}

#[test]
fn bad_escapes_point_at_the_backslash() {
    let e = err(r#"a eq "x\q""#);
    assert_eq!(
        (e.position, e.message.as_str()),
        (7, "invalid escape '\\q'")
    );
    let e = err(r#"a eq "\u12G4""#);
    assert_eq!(e.position, 6);
    assert!(e.message.contains("four hex digits"), "{e}");
    let e = err(r#"a eq "\uD83D""#);
    assert_eq!(
        (e.position, e.message.as_str()),
        (6, "unpaired surrogate in '\\u' escape")
    );
    let e = err(r#"a eq "\uDE00""#);
    assert_eq!(e.position, 6);
    let e = err(r#"a eq "\uD83D\u0041""#);
    assert_eq!(e.position, 12, "the second escape is not a low surrogate");
}

#[test]
fn precedence_and_associativity() {
    let (a, b, c) = (pr("a"), pr("b"), pr("c"));
    assert_eq!(
        parse_filter("a pr and b pr and c pr").unwrap(),
        and(and(a.clone(), b.clone()), c.clone())
    );
    assert_eq!(
        parse_filter("a pr or b pr or c pr").unwrap(),
        or(or(a.clone(), b.clone()), c.clone())
    );
    assert_eq!(
        parse_filter("a pr or b pr and c pr").unwrap(),
        or(a.clone(), and(b.clone(), c.clone())),
        "and binds tighter than or"
    );
    assert_eq!(
        parse_filter("a pr AND b pr Or c pr").unwrap(),
        or(and(a.clone(), b.clone()), c.clone())
    );
    assert_eq!(
        parse_filter("a pr and (b pr or c pr)").unwrap(),
        and(a.clone(), or(b.clone(), c.clone()))
    );
    assert_eq!(
        parse_filter("not (a pr) and b pr").unwrap(),
        and(Filter::Not(Box::new(a.clone())), b.clone()),
        "not binds tighter than and"
    );
    assert_eq!(
        parse_filter("NOT(a pr or b pr)").unwrap(),
        Filter::Not(Box::new(or(a.clone(), b.clone())))
    );
    assert_eq!(parse_filter("((a pr))").unwrap(), a);
}

#[test]
fn whitespace_is_lenient() {
    assert_eq!(
        parse_filter("\t ( a  eq\"x\" )and(b pr)  ").unwrap(),
        and(cmp(AttrPath::new("a"), CompareOp::Eq, s("x")), pr("b"))
    );
    assert_eq!(
        parse_filter("emails [type eq \"work\"]").unwrap(),
        parse_filter("emails[type eq \"work\"]").unwrap()
    );
}

#[test]
fn paths() {
    let path = |text: &str| parse_attr_path(text).unwrap();
    assert_eq!(path("name.familyName"), AttrPath::sub("name", "familyName"));
    assert_eq!(path(" $ref "), AttrPath::new("$ref"));
    assert_eq!(
        path("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber"),
        AttrPath {
            urn: Some("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User".into()),
            name: "employeeNumber".into(),
            sub_attr: None,
        }
    );
    assert_eq!(
        path("urn:ietf:params:scim:schemas:core:2.0:User:name.familyName"),
        AttrPath {
            urn: Some("urn:ietf:params:scim:schemas:core:2.0:User".into()),
            name: "name".into(),
            sub_attr: Some("familyName".into()),
        }
    );
    let bare = path("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User");
    assert_eq!(
        bare.urn.as_deref(),
        Some("urn:ietf:params:scim:schemas:extension:enterprise:2.0")
    );
    assert_eq!(bare.name, "User");
    assert_eq!(
        bare.full_urn().as_deref(),
        Some("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User")
    );
}

#[test]
fn bad_paths() {
    let e = parse_attr_path("a.b.c").unwrap_err();
    assert_eq!(e.position, 3);
    let e = parse_attr_path("1abc").unwrap_err();
    assert_eq!(e.position, 0);
    assert!(
        e.message.starts_with("invalid attribute name '1abc'"),
        "{e}"
    );
    let e = parse_attr_path("urn:x:").unwrap_err();
    assert_eq!(
        (e.position, e.message.as_str()),
        (6, "expected an attribute name")
    );
    let e = parse_attr_path(":a").unwrap_err();
    assert_eq!(e.position, 0);
    let e = parse_attr_path("  ").unwrap_err();
    assert_eq!(
        (e.position, e.message.as_str()),
        (2, "the attribute path is empty")
    );
    let e = parse_attr_path("a b").unwrap_err();
    assert_eq!(e.position, 2);
    assert_eq!(
        e.to_string(),
        "expected the end of the attribute path, found 'b' at position 2"
    );
}

#[test]
fn urn_paths_in_filters() {
    let filter = parse_filter(
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq \"26\"",
    )
    .unwrap();
    let Filter::Compare { path, .. } = filter else {
        panic!("not a comparison")
    };
    assert_eq!(
        path.urn.as_deref(),
        Some("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User")
    );
    assert_eq!(
        (path.name.as_str(), path.sub_attr.as_deref()),
        ("manager", Some("value"))
    );
}

#[test]
fn value_filters() {
    let filter =
        parse_filter(r#"emails[type eq "work" and value co "@acme"] or userName sw "j""#).unwrap();
    let expected = or(
        Filter::ValuePath {
            path: AttrPath::new("emails"),
            filter: Box::new(and(
                cmp(AttrPath::new("type"), CompareOp::Eq, s("work")),
                cmp(AttrPath::new("value"), CompareOp::Co, s("@acme")),
            )),
        },
        cmp(AttrPath::new("userName"), CompareOp::Sw, s("j")),
    );
    assert_eq!(filter, expected);
    assert!(matches!(
        parse_filter("not (emails[not (primary eq true)])").unwrap(),
        Filter::Not(_)
    ));
}

#[test]
fn value_filter_errors() {
    let e = err(r#"emails[type eq "work""#);
    assert_eq!(e.position, 21);
    assert!(
        e.message.contains("']' to close the '[' at position 6"),
        "{e}"
    );
    let e = err(r#"a[b[c pr]]"#);
    assert_eq!(
        (e.position, e.message.as_str()),
        (3, "a value filter cannot contain another one")
    );
    let e = err(r#"name.givenName[c pr]"#);
    assert_eq!(e.position, 14);
    let e = err("emails[]");
    assert_eq!(e.position, 7);
    assert_eq!(e.message, "expected an attribute path, found ']'");
}

#[test]
fn error_positions_and_messages() {
    let e = err(r#"name.familyName xx "a""#);
    assert_eq!(e.position, 16);
    assert_eq!(
        e.message,
        "unknown operator 'xx', expected one of eq, ne, co, sw, ew, gt, ge, lt, le, pr"
    );

    let e = err(r#"userName eq "bjensen"#);
    assert_eq!(
        (e.position, e.message.as_str()),
        (12, "unterminated string")
    );
    assert_eq!(e.to_string(), "unterminated string at position 12");

    let e = err("(a pr or b pr");
    assert_eq!(e.position, 13);
    assert_eq!(
        e.message,
        "expected 'and', 'or' or ')' to close the '(' at position 0, found the end of the input"
    );

    let e = err("a pr )");
    assert_eq!(e.position, 5);
    assert_eq!(
        e.message,
        "expected 'and', 'or' or the end of the filter, found ')'"
    );

    let e = err(r#"a eq "x" garbage"#);
    assert_eq!(e.position, 9);
    assert_eq!(
        e.message,
        "expected 'and', 'or' or the end of the filter, found 'garbage'"
    );

    assert_eq!(
        err(""),
        FilterError {
            position: 0,
            message: "the filter is empty".into()
        }
    );
    assert_eq!(err(" \t").position, 2);

    let e = err("userName");
    assert_eq!(e.position, 8);
    assert_eq!(
        e.message,
        "expected a comparison operator, found the end of the input"
    );
    assert_eq!(
        e.to_string(),
        "expected a comparison operator, found the end of the input at position 8"
    );

    let e = err(r#""bjensen" eq userName"#);
    assert_eq!(
        (e.position, e.message.as_str()),
        (0, "expected an attribute path, found a string")
    );

    let e = err("userName eq bjensen");
    assert_eq!(e.position, 12);
    assert!(
        e.message
            .contains("found 'bjensen'; strings need double quotes"),
        "{e}"
    );

    let e = err("userName eq");
    assert_eq!(e.position, 11);
    assert!(e.message.ends_with("found the end of the input"), "{e}");

    let e = err("a pr and");
    assert_eq!(e.position, 8);
    assert_eq!(
        e.message,
        "expected an attribute path, found the end of the input"
    );

    let e = err("not a pr");
    assert_eq!(
        (e.position, e.message.as_str()),
        (4, "expected '(' after 'not', found 'a'")
    );

    let e = err("a eq 1.");
    assert_eq!(
        (e.position, e.message.as_str()),
        (7, "expected a digit after '.'")
    );
    let e = err("a eq 1e999");
    assert_eq!((e.position, e.message.as_str()), (5, "number out of range"));
    let e = err("a eq -x");
    assert_eq!(e.position, 6);
}

#[test]
fn positions_are_byte_offsets() {
    let e = err("é eq 1");
    assert_eq!(e.position, 0);
    let e = err("a eq \"é\" é");
    assert_eq!(e.position, 10, "the é inside the string takes two bytes");
    let e = err("a ≠ 1");
    assert_eq!(
        (e.position, e.message.starts_with("unknown operator '≠'")),
        (2, true)
    );
}

#[test]
fn keywords_are_attribute_names_where_they_fit() {
    assert_eq!(parse_filter("not pr").unwrap(), pr("not"));
    assert_eq!(
        parse_filter("and pr and or pr").unwrap(),
        and(pr("and"), pr("or"))
    );
    assert_eq!(
        parse_filter("not eq true").unwrap(),
        cmp(AttrPath::new("not"), CompareOp::Eq, CompValue::Bool(true))
    );
    assert!(parse_filter("a pr andb pr").is_err(), "'andb' is not 'and'");
}

#[test]
fn nesting_is_bounded() {
    let deep =
        |n: usize, open: &str, close: &str| format!("{}a pr{}", open.repeat(n), close.repeat(n));
    assert!(parse_filter(&deep(50, "(", ")")).is_ok());
    let e = err(&deep(51, "(", ")"));
    assert_eq!(e.position, 50);
    assert_eq!(e.message, "the filter nests more than 50 groups deep");
    assert!(parse_filter(&deep(50, "not (", ")")).is_ok());
    assert!(err(&deep(51, "not (", ")")).message.contains("nests"));
    assert!(err(&deep(100_000, "(", ")")).message.contains("nests"));
    assert!(err(&"not (".repeat(100_000)).message.contains("nests"));
    assert!(
        err(&"a[".repeat(100_000))
            .message
            .contains("cannot contain")
    );
}

#[test]
fn terms_are_bounded() {
    let chain = |n: usize| vec!["a pr"; n].join(" and ");
    let filter = parse_filter(&chain(1000)).unwrap();
    // The tree is 1000 levels deep; printing, comparing and dropping it must not
    // overflow a test thread's stack.
    assert_eq!(parse_filter(&filter.to_string()).unwrap(), filter);
    let e = err(&chain(1001));
    assert_eq!(e.message, "the filter has more than 1000 comparisons");
    assert_eq!(e.position, 1000 * 9);
}
