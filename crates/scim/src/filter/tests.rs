//! Property tests across the parser and printer: printing round-trips, printing is a fixed
//! point, and no input makes the parser panic.

#![allow(clippy::unwrap_used)]

use proptest::prelude::*;
use serde_json::Number;

use super::{
    AttrPath, CompValue, CompareOp, Filter, PatchPath, parse_attr_path, parse_filter,
    parse_patch_path,
};

fn name() -> impl Strategy<Value = String> {
    "\\$?[a-zA-Z][a-zA-Z0-9_-]{0,6}"
}

fn urn() -> impl Strategy<Value = String> {
    "[uU][rR][nN](:[a-zA-Z0-9.-]{1,6}){1,4}"
}

fn attr_path() -> impl Strategy<Value = AttrPath> {
    (
        proptest::option::weighted(0.2, urn()),
        name(),
        proptest::option::of(name()),
    )
        .prop_map(|(urn, name, sub_attr)| AttrPath {
            urn,
            name,
            sub_attr,
        })
}

fn comp_value() -> impl Strategy<Value = CompValue> {
    prop_oneof![
        Just(CompValue::Null),
        any::<bool>().prop_map(CompValue::Bool),
        any::<i64>().prop_map(|n| CompValue::Number(n.into())),
        any::<u64>().prop_map(|n| CompValue::Number(n.into())),
        any::<f64>().prop_filter_map("finite", |f| Number::from_f64(f).map(CompValue::Number)),
        any::<String>().prop_map(CompValue::String),
    ]
}

fn comparison() -> impl Strategy<Value = Filter> {
    prop_oneof![
        4 => (attr_path(), proptest::sample::select(CompareOp::ALL.to_vec()), comp_value())
            .prop_map(|(path, op, value)| Filter::Compare { path, op, value }),
        1 => attr_path().prop_map(Filter::Present),
    ]
}

/// Grows `leaf` into and/or/not trees.
fn logic(leaf: BoxedStrategy<Filter>) -> impl Strategy<Value = Filter> {
    leaf.prop_recursive(4, 24, 2, |inner| {
        prop_oneof![
            (inner.clone(), inner.clone()).prop_map(|(a, b)| Filter::And(Box::new(a), Box::new(b))),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| Filter::Or(Box::new(a), Box::new(b))),
            inner.prop_map(|f| Filter::Not(Box::new(f))),
        ]
    })
}

/// A filter that may appear inside `[ ]`: anything but another value path.
fn value_filter() -> impl Strategy<Value = Filter> {
    logic(comparison().boxed())
}

fn value_path() -> impl Strategy<Value = Filter> {
    (
        proptest::option::weighted(0.2, urn()),
        name(),
        value_filter(),
    )
        .prop_map(|(urn, name, filter)| Filter::ValuePath {
            path: AttrPath {
                urn,
                name,
                sub_attr: None,
            },
            filter: Box::new(filter),
        })
}

fn filter() -> impl Strategy<Value = Filter> {
    logic(prop_oneof![3 => comparison(), 1 => value_path()].boxed())
}

fn patch_path() -> impl Strategy<Value = PatchPath> {
    prop_oneof![
        attr_path().prop_map(|attr| PatchPath {
            attr,
            filter: None,
            sub_attr: None
        }),
        (
            proptest::option::weighted(0.2, urn()),
            name(),
            value_filter(),
            proptest::option::of(name())
        )
            .prop_map(|(urn, name, filter, sub_attr)| PatchPath {
                attr: AttrPath {
                    urn,
                    name,
                    sub_attr: None
                },
                filter: Some(filter),
                sub_attr,
            }),
    ]
}

/// Pieces of filter text, valid and broken, to glue together.
const FRAGMENTS: &[&str] = &[
    "userName",
    "emails",
    ".value",
    "name.familyName",
    "$ref",
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:",
    "urn:",
    ":",
    ".",
    " eq ",
    " EQ ",
    " ne ",
    " co ",
    " sw ",
    " ew ",
    " gt ",
    " ge ",
    " lt ",
    " le ",
    " pr",
    " xx ",
    " and ",
    " AND ",
    " or ",
    "not ",
    "not",
    "(",
    ")",
    "[",
    "]",
    "\"",
    "\"work\"",
    "\"a\\\"b\"",
    "\\",
    "\\u",
    "\\uD83D",
    "\\uDE00",
    "\\u00e9",
    "D83D",
    "-",
    "-1.5e3",
    "0",
    "1e999",
    "1.",
    "true",
    "FALSE",
    "null",
    " ",
    "\t",
    "é",
    "😀",
    "\u{0}",
    "İ",
    "]]",
    "((",
];

fn fragments() -> impl Strategy<Value = String> {
    proptest::collection::vec(proptest::sample::select(FRAGMENTS), 0..24)
        .prop_map(|pieces| pieces.concat())
}

/// A printed filter with a random edit: truncated, a char removed, or a fragment spliced in.
fn mutated() -> impl Strategy<Value = String> {
    (
        filter(),
        any::<prop::sample::Index>(),
        proptest::sample::select(FRAGMENTS),
        0..3u8,
    )
        .prop_map(|(filter, index, fragment, edit)| {
            let text = filter.to_string();
            let boundaries: Vec<usize> = text
                .char_indices()
                .map(|(i, _)| i)
                .chain([text.len()])
                .collect();
            let at = boundaries[index.index(boundaries.len())];
            match edit {
                0 => text[..at].to_owned(),
                1 => {
                    let mut text = text;
                    if at < text.len() {
                        text.remove(at);
                    }
                    text
                }
                _ => format!("{}{fragment}{}", &text[..at], &text[at..]),
            }
        })
}

/// Parses `text` as a filter, attribute path and PATCH path. A filter that parses must
/// print to a fixed point; an error must point inside the input.
fn parse_is_total(text: &str) -> Result<(), TestCaseError> {
    match parse_filter(text) {
        Ok(filter) => {
            let printed = filter.to_string();
            let reparsed = parse_filter(&printed);
            prop_assert_eq!(reparsed.as_ref(), Ok(&filter), "printed: {}", printed);
            prop_assert_eq!(reparsed.unwrap().to_string(), printed);
        }
        Err(error) => prop_assert!(
            text.is_char_boundary(error.position),
            "{error} must point at a char boundary inside {text:?}"
        ),
    }
    let _ = parse_attr_path(text);
    let _ = parse_patch_path(text);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]

    #[test]
    fn printed_filters_parse_back(filter in filter()) {
        let printed = filter.to_string();
        prop_assert_eq!(parse_filter(&printed), Ok(filter), "printed: {}", printed);
    }

    #[test]
    fn printing_is_a_fixed_point(filter in filter()) {
        let printed = filter.to_string();
        prop_assert_eq!(parse_filter(&printed).unwrap().to_string(), printed);
    }

    #[test]
    fn printed_attr_paths_parse_back(path in attr_path()) {
        prop_assert_eq!(parse_attr_path(&path.to_string()), Ok(path));
    }

    #[test]
    fn printed_patch_paths_parse_back(path in patch_path()) {
        let printed = path.to_string();
        prop_assert_eq!(parse_patch_path(&printed), Ok(path), "printed: {}", printed);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn arbitrary_strings_never_panic(text in any::<String>()) {
        parse_is_total(&text)?;
    }

    #[test]
    fn glued_fragments_never_panic(text in fragments()) {
        parse_is_total(&text)?;
    }

    #[test]
    fn mutated_filters_never_panic(text in mutated()) {
        parse_is_total(&text)?;
    }
}
