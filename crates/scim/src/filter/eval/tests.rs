//! Unit tests of the evaluator and the validator, against a cut-down User schema and one
//! sample user.

#![allow(clippy::unwrap_used)]

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
    let filter = parse_filter(r#"emails[type eq "work"] or a.b pr or a eq 1 or x co "y""#).unwrap();
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
