//! PATCH operation paths (RFC 7644 §3.5.2): `PATH = attrPath / valuePath [subAttr]`.

use std::fmt;

use super::ast::{AttrPath, Filter};
use super::parse::{FilterError, Parser};

/// The target of a PATCH operation, e.g. `name.familyName`, `members[value eq "2819c223"]`
/// or `emails[type eq "work"].value`.
#[derive(Debug, Clone, PartialEq)]
pub struct PatchPath {
    /// The attribute: for a value path, the multi-valued attribute the filter selects values
    /// of (without a sub-attribute); otherwise the whole target, sub-attribute included.
    pub attr: AttrPath,
    /// The value filter in `[ ]`, if any; its paths are relative to each value.
    pub filter: Option<Filter>,
    /// The sub-attribute after a value filter (`value` in `emails[type eq "work"].value`).
    /// Only set together with `filter`: without a filter the sub-attribute lives in `attr`.
    pub sub_attr: Option<String>,
}

/// Parses a PATCH `path`.
///
/// # Errors
/// A [`FilterError`] pointing at the first byte that does not fit the grammar.
pub fn parse_patch_path(input: &str) -> Result<PatchPath, FilterError> {
    let mut parser = Parser::new(input);
    parser.skip_ws();
    if parser.at_end() {
        return Err(parser.error(input.len(), "the path is empty"));
    }
    let attr = parser.parse_path()?;
    let (filter, sub_attr) = if parser.peek() == Some('[') {
        let filter = parser.parse_value_filter(&attr)?;
        (Some(filter), parser.parse_sub_attr()?)
    } else {
        (None, None)
    };
    parser.expect_end("the end of the path")?;
    Ok(PatchPath {
        attr,
        filter,
        sub_attr,
    })
}

impl fmt::Display for PatchPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.attr)?;
        if let Some(filter) = &self.filter {
            write!(f, "[{filter}]")?;
        }
        if let Some(sub_attr) = &self.sub_attr {
            write!(f, ".{sub_attr}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::super::ast::{CompValue, CompareOp};
    use super::*;

    const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

    fn round_trips(text: &str) -> PatchPath {
        let path = parse_patch_path(text).unwrap();
        assert_eq!(
            path.to_string(),
            text,
            "canonical paths print as they were written"
        );
        path
    }

    #[test]
    fn plain_attribute_paths() {
        let path = round_trips("name.familyName");
        assert_eq!(
            path,
            PatchPath {
                attr: AttrPath::sub("name", "familyName"),
                filter: None,
                sub_attr: None
            }
        );
        let path = round_trips(&format!("{ENTERPRISE}:manager.value"));
        assert_eq!(path.attr.urn.as_deref(), Some(ENTERPRISE));
        assert_eq!(path.attr.name, "manager");
        assert_eq!(path.attr.sub_attr.as_deref(), Some("value"));
        assert_eq!(path.filter, None);
    }

    #[test]
    fn value_paths() {
        let path = round_trips(r#"emails[type eq "work"].value"#);
        assert_eq!(path.attr, AttrPath::new("emails"));
        assert_eq!(
            path.filter,
            Some(Filter::Compare {
                path: AttrPath::new("type"),
                op: CompareOp::Eq,
                value: CompValue::String("work".into()),
            })
        );
        assert_eq!(path.sub_attr.as_deref(), Some("value"));

        let path = round_trips(r#"members[value eq "2819c223"]"#);
        assert_eq!(path.attr, AttrPath::new("members"));
        assert!(path.filter.is_some());
        assert_eq!(path.sub_attr, None);

        let path = round_trips(
            r#"urn:ietf:params:scim:schemas:core:2.0:User:addresses[type eq "work" and primary eq true].streetAddress"#,
        );
        assert_eq!(
            path.attr.urn.as_deref(),
            Some("urn:ietf:params:scim:schemas:core:2.0:User")
        );
        assert_eq!(path.sub_attr.as_deref(), Some("streetAddress"));

        let lenient = parse_patch_path(r#" Emails[ TYPE EQ "work" ].Value "#).unwrap();
        assert_eq!(lenient.to_string(), r#"Emails[TYPE eq "work"].Value"#);
    }

    #[test]
    fn bad_paths() {
        let e = parse_patch_path("").unwrap_err();
        assert_eq!((e.position, e.message.as_str()), (0, "the path is empty"));
        let e = parse_patch_path(r#"emails[type eq "work"#).unwrap_err();
        assert_eq!(
            (e.position, e.message.as_str()),
            (15, "unterminated string")
        );
        let e = parse_patch_path(r#"emails[type eq "work""#).unwrap_err();
        assert_eq!(e.position, 21);
        let e = parse_patch_path(r#"emails[type eq "work"]."#).unwrap_err();
        assert_eq!(
            (e.position, e.message.as_str()),
            (23, "expected an attribute name")
        );
        let e = parse_patch_path(r#"emails[type eq "work"].value.x"#).unwrap_err();
        assert_eq!(e.position, 28);
        let e = parse_patch_path(r#"emails[type eq "work"] x"#).unwrap_err();
        assert_eq!(e.message, "expected the end of the path, found 'x'");
        let e = parse_patch_path(r#"name.givenName[value pr]"#).unwrap_err();
        assert_eq!(e.position, 14);
        let e = parse_patch_path(r#"emails[a[b pr]]"#).unwrap_err();
        assert_eq!(e.position, 8);
        let e = parse_patch_path("name familyName").unwrap_err();
        assert_eq!(e.position, 5);
    }
}
