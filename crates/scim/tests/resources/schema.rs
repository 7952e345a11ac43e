//! Schemas: the built-in ones as data and on the wire, schemas read from providers, and
//! resources normalised against a schema (`coerce`, `canonicalize`).

use muster_scim::filter::AttrPath;
use muster_scim::message::ListResponse;
use muster_scim::schema::{
    self, AttributeType, Mutability, ResourceSchema, Returned, Schema, Uniqueness,
};
use muster_scim::urn;
use serde_json::json;

use crate::support::{assert_no_nulls, parse, schemas_of, to_json};

#[test]
fn built_in_schemas_follow_rfc_7643() {
    let user = ResourceSchema::user();
    let at = |path: &str| {
        let (name, sub) = match path.split_once('.') {
            Some((name, sub)) => (name, Some(sub)),
            None => (path, None),
        };
        let path = match sub {
            Some(sub) => AttrPath::sub(name, sub),
            None => AttrPath::new(name),
        };
        user.attribute(&path)
            .unwrap_or_else(|| panic!("{path:?} is defined"))
            .clone()
    };
    let id = at("id");
    assert!(id.case_exact);
    assert_eq!(
        (id.mutability, id.returned, id.uniqueness),
        (Mutability::ReadOnly, Returned::Always, Uniqueness::Server)
    );
    let user_name = at("userName");
    assert!(user_name.required && !user_name.case_exact);
    assert_eq!(user_name.uniqueness, Uniqueness::Server);
    let password = at("password");
    assert_eq!(
        (password.mutability, password.returned),
        (Mutability::WriteOnly, Returned::Never)
    );
    assert_eq!(
        at("emails.type").canonical_values,
        ["work", "home", "other"]
    );
    assert!(at("emails").multi_valued);
    assert_eq!(at("x509Certificates.value").kind, AttributeType::Binary);
    assert_eq!(at("groups").mutability, Mutability::ReadOnly);
    assert_eq!(at("groups.$ref").mutability, Mutability::ReadOnly);
    assert_eq!(at("groups.$ref").reference_types, ["User", "Group"]);
    assert_eq!(at("profileUrl").reference_types, ["external"]);
    assert_eq!(at("meta.lastModified").kind, AttributeType::DateTime);

    let enterprise = |name: &str, sub: &str| {
        let path = AttrPath {
            urn: Some(urn::ENTERPRISE_USER.into()),
            name: name.into(),
            sub_attr: Some(sub.into()),
        };
        user.attribute(&path).unwrap().clone()
    };
    assert_eq!(
        enterprise("manager", "displayName").mutability,
        Mutability::ReadOnly
    );
    assert_eq!(enterprise("manager", "$ref").kind, AttributeType::Reference);

    let shop = Schema::shop_user();
    assert_eq!(
        shop.attribute("licence").unwrap().canonical_values,
        [
            "field",
            "desk",
            "contractor",
            "customer",
            "api",
            "timesheet"
        ]
    );
    assert_eq!(
        shop.attribute("role").unwrap().canonical_values,
        ["admin", "technician", "viewer"]
    );
    for read_only in [
        "status",
        "invitation",
        "lastSignIn",
        "mfaEnabled",
        "activeSessions",
    ] {
        assert_eq!(
            shop.attribute(read_only).unwrap().mutability,
            Mutability::ReadOnly,
            "{read_only}"
        );
    }
    let method = &shop.attribute("lastSignIn").unwrap().sub_attributes[1];
    assert_eq!(
        method.canonical_values,
        ["password", "magic_link", "google", "microsoft"]
    );
    assert!(shop.attribute("serviceGroups").unwrap().multi_valued);

    let group = ResourceSchema::group();
    let value = group.attribute(&AttrPath::sub("members", "value")).unwrap();
    assert_eq!(value.mutability, Mutability::Immutable);
    let kind = group.attribute(&AttrPath::sub("members", "type")).unwrap();
    assert_eq!(kind.canonical_values, ["User", "Group"]);
}

#[test]
fn schemas_are_served_with_schemas_and_read_back_identical() {
    let all = schema::all_schemas();
    let ids: Vec<_> = all.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(
        ids,
        [urn::USER, urn::ENTERPRISE_USER, urn::SHOP_USER, urn::GROUP]
    );
    let list = ListResponse::new(all.clone());
    let out = to_json(&list);
    assert_no_nulls(&out, "schemas");
    let first = &out["Resources"][0];
    assert_eq!(schemas_of(first), [urn::SCHEMA]);
    let password = first["attributes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["name"] == "password")
        .unwrap();
    assert_eq!(password["mutability"], "writeOnly");
    assert_eq!(password["returned"], "never");
    let back: ListResponse<Schema> = serde_json::from_value(out).unwrap();
    assert_eq!(back.resources, all, "schemas survive the wire unchanged");
}

#[test]
fn entra_schemas_list_parses() {
    let list: ListResponse<Schema> = parse("entra_schemas_list.json");
    assert_eq!(list.total_results, Some(3));
    assert_eq!(list.resources[2].id, urn::ENTERPRISE_USER);
    let user_name = list.resources[0].attribute("USERNAME").unwrap();
    assert!(user_name.required);
    assert_eq!(user_name.uniqueness, Uniqueness::Server);
}

#[test]
fn schema_attributes_missing_characteristics_take_rfc_defaults() {
    let schema: Schema = serde_json::from_value(json!({
        "id": "urn:example:Thing",
        "attributes": [{"name": "colour", "type": "string"}]
    }))
    .unwrap();
    let colour = schema.attribute("colour").unwrap();
    assert!(!colour.multi_valued && !colour.required && !colour.case_exact);
    assert_eq!(
        (colour.mutability, colour.returned, colour.uniqueness),
        (Mutability::ReadWrite, Returned::Default, Uniqueness::None)
    );
}

#[test]
fn coerce_fixes_what_providers_send_and_nothing_else() {
    let schema = ResourceSchema::user();
    let mut resource = json!({
        "active": "TRUE",
        "emails": {"value": "a@b.example", "primary": "false"},
        "unknownThing": "True",
        "name": null,
        urn::ENTERPRISE_USER: {"employeeNumber": 701984, "manager": "m-1"},
        urn::SHOP_USER: {"mfaEnabled": "False", "activeSessions": "2", "zones": "North"},
        "meta": {"lastModified": "2024-05-15T09:21:23.5"}
    });
    schema.coerce(&mut resource).unwrap();
    assert_eq!(
        resource,
        json!({
            "active": true,
            "emails": [{"value": "a@b.example", "primary": false}],
            "unknownThing": "True",
            "name": null,
            urn::ENTERPRISE_USER: {"employeeNumber": "701984", "manager": {"value": "m-1"}},
            urn::SHOP_USER: {"mfaEnabled": false, "activeSessions": 2, "zones": ["North"]},
            "meta": {"lastModified": "2024-05-15T09:21:23.5Z"}
        })
    );
}

#[test]
fn canonicalize_fixes_key_case_everywhere_and_leaves_unknown_keys() {
    let schema = ResourceSchema::user();
    let mut resource = json!({
        "Schemas": ["urn:ietf:params:scim:schemas:core:2.0:user", "urn:other:Thing"],
        "USERNAME": "ann",
        "Name": {"FamilyName": "Lee", "Nickname": "x"},
        "PHONENUMBERS": [{"VALUE": "1", "TYPE": "work"}],
        "urn:ietf:params:scim:schemas:extension:ENTERPRISE:2.0:user": {
            "MANAGER": {"Value": "m", "DISPLAYNAME": "Boss"},
            "CostCenter": "4130"
        },
        "NAME.GIVENNAME": "Ann",
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:EMPLOYEENUMBER": "7",
        "Meta": {"LastModified": "2024-01-01T00:00:00Z"},
        "SomethingElse": {"Inner": 1}
    });
    schema.canonicalize(&mut resource);
    assert_eq!(
        resource,
        json!({
            "schemas": [urn::USER, "urn:other:Thing"],
            "userName": "ann",
            "name": {"familyName": "Lee", "Nickname": "x"},
            "phoneNumbers": [{"value": "1", "type": "work"}],
            urn::ENTERPRISE_USER: {
                "manager": {"value": "m", "displayName": "Boss"},
                "costCenter": "4130"
            },
            "name.givenName": "Ann",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber": "7",
            "meta": {"lastModified": "2024-01-01T00:00:00Z"},
            "SomethingElse": {"Inner": 1}
        })
    );
}

#[test]
fn canonicalize_group_members() {
    let mut resource = json!({"DisplayName": "Techs", "Members": [{"Value": "u1", "$REF": "x"}]});
    ResourceSchema::group().canonicalize(&mut resource);
    assert_eq!(
        resource,
        json!({"displayName": "Techs", "members": [{"value": "u1", "$ref": "x"}]})
    );
}
