//! Serde round trips of every SCIM type, against payloads real providers send
//! (`tests/fixtures/`, sources in its README): lenient input parses to the right values,
//! output is RFC-correct, unknown attributes survive, bad values are rejected clearly.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use muster_scim::discovery::{ResourceType, ServiceProviderConfig, Supported};
use muster_scim::filter::AttrPath;
use muster_scim::group::{Group, Member, MemberType};
use muster_scim::message::{
    ListResponse, PatchOp, PatchOpKind, PatchOperation, ScimError, ScimType, SearchRequest,
    SortOrder,
};
use muster_scim::schema::{
    self, AttributeType, Mutability, ResourceSchema, Returned, Schema, Uniqueness,
};
use muster_scim::urn;
use muster_scim::user::{
    EnterpriseUser, InvitationState, Licence, MultiValue, Name, Role, ShopUser, SignInMethod, User,
    UserStatus,
};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use time::macros::datetime;

fn fixture(name: &str) -> Value {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path} is not JSON: {e}"))
}

fn parse<T: DeserializeOwned>(name: &str) -> T {
    serde_json::from_value(fixture(name)).unwrap_or_else(|e| panic!("{name} should parse: {e}"))
}

fn to_json<T: Serialize>(value: &T) -> Value {
    serde_json::to_value(value).expect("SCIM types serialise")
}

/// Absent members are omitted on output, never written as `null`.
fn assert_no_nulls(value: &Value, at: &str) {
    match value {
        Value::Null => panic!("{at} is null; absent members must be omitted"),
        Value::Array(items) => {
            for (index, item) in items.iter().enumerate() {
                assert_no_nulls(item, &format!("{at}[{index}]"));
            }
        }
        Value::Object(map) => {
            for (key, item) in map {
                assert_no_nulls(item, &format!("{at}.{key}"));
            }
        }
        _ => {}
    }
}

fn schemas_of(value: &Value) -> Vec<&str> {
    value["schemas"]
        .as_array()
        .expect("every message and resource is written with schemas")
        .iter()
        .map(|urn| urn.as_str().expect("schemas holds strings"))
        .collect()
}

// ---- User -------------------------------------------------------------------------------

#[test]
fn entra_user_create_parses_and_is_written_with_correct_schemas() {
    let user: User = parse("entra_user_create.json");
    assert_eq!(
        user.user_name,
        "Test_User_ab6490ee-1e48-479e-a20b-2d77186b5dd1"
    );
    assert_eq!(
        user.external_id.as_deref(),
        Some("0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef")
    );
    assert_eq!(user.active, Some(true));
    assert_eq!(
        user.name.as_ref().and_then(|n| n.family_name.as_deref()),
        Some("familyName")
    );
    assert_eq!(
        user.primary_email(),
        Some("Test_User_fd0ea19b-0777-472c-9f96-4f70d2226f2e@testuser.com")
    );
    assert_eq!(
        user.meta.as_ref().and_then(|m| m.resource_type.as_deref()),
        Some("User")
    );
    assert!(
        user.enterprise.is_none(),
        "Entra lists the enterprise URN but sends no object"
    );

    let out = to_json(&user);
    assert_eq!(
        schemas_of(&out),
        [urn::USER],
        "schemas name only extensions the user holds, not what the input listed"
    );
    assert!(out.get("roles").is_none(), "an empty list is omitted");
    assert_no_nulls(&out, "user");
    assert_eq!(
        User::from_json(out).unwrap(),
        user,
        "written users read back the same"
    );
}

#[test]
fn entra_example_user_reads_bare_string_manager_and_keeps_unknown_extension() {
    let user: User = parse("entra_user_schema_example.json");
    let enterprise = user
        .enterprise
        .as_ref()
        .expect("the enterprise object is read");
    assert_eq!(
        enterprise.manager.as_ref().and_then(|m| m.value.as_deref()),
        Some("123456"),
        "`\"Manager\": \"123456\"` is the manager's id, key in any case"
    );
    let custom = "urn:ietf:params:scim:schemas:extension:CustomExtensionName:2.0:User";
    assert_eq!(
        user.extra[custom],
        json!({"tag": "701984"}),
        "unknown extensions are kept"
    );
    let meta = user.meta.as_ref().unwrap();
    assert_eq!(meta.created, Some(datetime!(2010-01-23 04:56:22 UTC)));
    assert_eq!(meta.version.as_deref(), Some("W/\"3694e05e9dff591\""));

    let out = to_json(&user);
    assert_eq!(schemas_of(&out), [urn::USER, urn::ENTERPRISE_USER, custom]);
    assert_eq!(
        out[urn::ENTERPRISE_USER],
        json!({"manager": {"value": "123456"}})
    );
    assert_eq!(out[custom], json!({"tag": "701984"}));
    assert_eq!(out["meta"]["lastModified"], "2011-05-13T04:42:34Z");
}

#[test]
fn okta_user_create_carries_its_password_out_but_never_into_debug() {
    let user: User = parse("okta_user_create.json");
    assert_eq!(user.password.as_ref().map(|p| p.expose()), Some("1mz050nq"));
    assert_eq!(user.locale.as_deref(), Some("en-US"));
    assert!(user.groups.is_empty());
    assert!(
        !format!("{user:?}").contains("1mz050nq"),
        "Debug must redact the password"
    );

    let out = to_json(&user);
    assert_eq!(
        out["password"], "1mz050nq",
        "a password set for create is sent"
    );
    assert!(out.get("groups").is_none());
    let without = User {
        password: None,
        ..user
    };
    assert!(
        to_json(&without).get("password").is_none(),
        "no password, no member"
    );
}

#[test]
fn okta_user_response_keeps_empty_middle_name_and_email_display() {
    let user: User = parse("okta_user_response.json");
    let name = user.name.as_ref().unwrap();
    assert_eq!(
        name.middle_name.as_deref(),
        Some(""),
        "an empty string is a value, not absence"
    );
    assert_eq!(
        user.emails[0].display.as_deref(),
        Some("test.user@okta.local")
    );
    assert_eq!(to_json(&user)["name"]["middleName"], "");
}

#[test]
fn list_of_users_with_nulls_pascal_case_meta_and_local_dates_parses() {
    let list: ListResponse<User> = parse("entra_validator_app_list_response.json");
    assert_eq!(list.total_results, Some(1));
    let user = &list.resources[0];
    assert_eq!(user.active, Some(false));
    let name = user.name.as_ref().unwrap();
    assert_eq!(name.middle_name, None, "null is unassigned");
    assert_eq!(name.honorific_prefix.as_deref(), Some(""));
    assert!(
        user.addresses.is_empty(),
        "\"addresses\": null is no addresses"
    );
    let meta = user.meta.as_ref().unwrap();
    assert_eq!(
        meta.resource_type.as_deref(),
        Some("User"),
        "\"ResourceType\" is resourceType"
    );
    assert_eq!(
        meta.created,
        Some(datetime!(2025-03-25 16:17:00 UTC)),
        "a dateTime without offset is read as UTC"
    );
    assert_eq!(meta.version, None);

    let out = to_json(&list);
    assert_no_nulls(&out, "list");
    assert_eq!(
        out["Resources"][0]["meta"]["created"],
        "2025-03-25T16:17:00Z"
    );
    assert_eq!(out["Resources"][0]["meta"]["resourceType"], "User");
}

#[test]
fn shop_user_round_trips_exactly() {
    let input = fixture("muster_shop_user.json");
    let user = User::from_json(input.clone()).unwrap();
    let shop = user.shop.as_ref().expect("shop extension is read");
    assert_eq!(shop.licence, Some(Licence::Field));
    assert_eq!(shop.role, Some(Role::Technician));
    assert_eq!(shop.status, Some(UserStatus::Suspended));
    assert_eq!(shop.service_groups, ["Sprinkler", "Fire Alarm"]);
    assert_eq!(
        shop.invitation.as_ref().and_then(|i| i.state.clone()),
        Some(InvitationState::Accepted)
    );
    let last = shop.last_sign_in.as_ref().unwrap();
    assert_eq!(last.method, Some(SignInMethod::MagicLink));
    assert_eq!(last.at, Some(datetime!(2025-07-14 06:42:10 UTC)));
    assert_eq!(shop.mfa_enabled, Some(true));
    assert_eq!(shop.active_sessions, Some(0));
    assert_eq!(
        user.enterprise
            .as_ref()
            .and_then(|e| e.manager.as_ref()?.display_name.as_deref()),
        Some("Sam Okafor")
    );
    assert_eq!(
        user.to_json().unwrap(),
        input,
        "canonical JSON must round-trip unchanged"
    );
}

#[test]
fn lenient_user_input_reads_odd_case_and_stringly_values() {
    let user = User::from_json(json!({
        "SCHEMAS": ["URN:IETF:PARAMS:SCIM:SCHEMAS:CORE:2.0:USER"],
        "USERNAME": "ann@example.com",
        "Name": {"FamilyName": "Lee", "GIVENNAME": "Ann"},
        "active": "False",
        "Emails": [{"Value": "ann@example.com", "Primary": "TRUE", "Type": "work"}],
        "URN:MUSTER:PARAMS:SCIM:SCHEMAS:EXTENSION:SHOP:2.0:USER": {
            "MfaEnabled": "true",
            "activeSessions": "3",
            "Licence": "DESK",
            "lastSignIn": {"at": "2025-01-02T03:04:05", "method": "Google"}
        }
    }))
    .unwrap();
    assert_eq!(user.user_name, "ann@example.com");
    assert_eq!(user.name, Some(Name::new("Ann", "Lee")));
    assert_eq!(user.active, Some(false), "Entra's \"False\" is false");
    assert_eq!(user.emails[0].primary, Some(true));
    assert_eq!(user.emails[0].kind.as_deref(), Some("work"));
    let shop = user
        .shop
        .as_ref()
        .expect("an extension key in any case is the extension");
    assert_eq!(shop.mfa_enabled, Some(true));
    assert_eq!(shop.active_sessions, Some(3));
    assert_eq!(shop.licence, Some(Licence::Desk));
    assert_eq!(
        shop.last_sign_in.as_ref().unwrap().method,
        Some(SignInMethod::Google)
    );

    let out = user.to_json().unwrap();
    assert_eq!(out["active"], false, "strict output: a JSON boolean");
    assert_eq!(out[urn::SHOP_USER]["licence"], "desk");
    assert_eq!(
        out[urn::SHOP_USER]["lastSignIn"]["at"],
        "2025-01-02T03:04:05Z"
    );
    assert_eq!(schemas_of(&out), [urn::USER, urn::SHOP_USER]);
}

#[test]
fn unknown_attributes_survive_a_round_trip() {
    let input = json!({
        "schemas": [urn::USER, "urn:example:params:scim:schemas:extension:tools:2.0:User"],
        "userName": "sam",
        "favouriteTool": "pipe wrench",
        "name": {"givenName": "Sam", "middleInitial": "Q"},
        "emails": [{"value": "sam@example.com", "verified": true}],
        "addresses": [{"locality": "Leeds", "what3words": "index.home.raft"}],
        "urn:example:params:scim:schemas:extension:tools:2.0:User": {"van": "VN-12"},
        "urn:muster:params:scim:schemas:extension:shop:2.0:User": {"futureFlag": 7}
    });
    let user = User::from_json(input.clone()).unwrap();
    let out = user.to_json().unwrap();
    assert_eq!(out["favouriteTool"], "pipe wrench");
    assert_eq!(out["name"]["middleInitial"], "Q");
    assert_eq!(out["emails"][0]["verified"], true);
    assert_eq!(out["addresses"][0]["what3words"], "index.home.raft");
    assert_eq!(out[urn::SHOP_USER]["futureFlag"], 7);
    let mut expected = input;
    expected["schemas"] = json!([
        urn::USER,
        urn::SHOP_USER,
        "urn:example:params:scim:schemas:extension:tools:2.0:User"
    ]);
    assert_eq!(out, expected, "nothing is lost or invented");
}

#[test]
fn schemas_extra_member_is_never_written_twice() {
    let mut user = User::new("ann");
    user.extra.insert("schemas".to_owned(), json!(["bogus"]));
    let text = serde_json::to_string(&user).unwrap();
    assert_eq!(text.matches("\"schemas\"").count(), 1, "{text}");
    assert_eq!(
        schemas_of(&serde_json::from_str(&text).unwrap()),
        [urn::USER]
    );
}

#[test]
fn built_users_are_written_without_nulls() {
    let user = User {
        emails: vec![MultiValue {
            primary: Some(true),
            ..MultiValue::typed("a@b.example", "work")
        }],
        enterprise: Some(EnterpriseUser::default()),
        shop: Some(ShopUser {
            licence: Some(Licence::Api),
            ..ShopUser::default()
        }),
        ..User::new("a@b.example")
    };
    let out = user.to_json().unwrap();
    assert_no_nulls(&out, "user");
    assert_eq!(
        out,
        json!({
            "schemas": [urn::USER, urn::ENTERPRISE_USER, urn::SHOP_USER],
            "userName": "a@b.example",
            "emails": [{"value": "a@b.example", "type": "work", "primary": true}],
            urn::ENTERPRISE_USER: {},
            urn::SHOP_USER: {"licence": "api"}
        })
    );
}

#[test]
fn junk_values_are_rejected_with_a_clear_message() {
    let error = User::from_json(json!({"userName": "a", "active": "maybe"})).unwrap_err();
    let message = error.to_string();
    assert!(
        message.contains("\"active\"") && message.contains("boolean") && message.contains("maybe"),
        "the message names the attribute, the type and the value: {message}"
    );

    let schema = ResourceSchema::user();
    let cases = [
        (json!({"name": "Bob"}), "name", "an object"),
        (json!({"userName": {"first": "a"}}), "userName", "a string"),
        (
            json!({"emails": [{"primary": "perhaps"}]}),
            "emails[0].primary",
            "a boolean",
        ),
        (
            json!({"displayName": ["a", "b"]}),
            "displayName",
            "a single value",
        ),
        (
            json!({urn::SHOP_USER: {"activeSessions": "lots"}}),
            "urn:muster:params:scim:schemas:extension:shop:2.0:User:activeSessions",
            "an integer",
        ),
        (json!({urn::SHOP_USER: "x"}), urn::SHOP_USER, "an object"),
        (
            json!({"meta": {"created": "last Tuesday"}}),
            "meta.created",
            "an RFC 3339 dateTime",
        ),
    ];
    for (mut resource, attribute, expected) in cases {
        let error = schema
            .coerce(&mut resource)
            .expect_err("junk must not be coerced");
        assert_eq!(error.attribute, attribute, "{error}");
        assert!(error.expected.starts_with(expected), "{error}");
        let scim: ScimError = error.into();
        assert_eq!(
            (scim.status, scim.scim_type),
            (400, Some(ScimType::InvalidValue))
        );
    }
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

// ---- Group ------------------------------------------------------------------------------

#[test]
fn entra_group_create_drops_foreign_schema_uri_on_output() {
    let group: Group = parse("entra_group_create.json");
    assert_eq!(group.display_name, "displayName");
    assert_eq!(
        group.external_id.as_deref(),
        Some("8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159")
    );
    let out = to_json(&group);
    assert_eq!(schemas_of(&out), [urn::GROUP]);
    assert_eq!(Group::from_json(out).unwrap(), group);
}

#[test]
fn okta_group_with_null_members_and_list_without_schemas() {
    let group: Group = parse("okta_group_response_null_members.json");
    assert!(group.members.is_empty(), "\"members\": null is no members");
    assert!(to_json(&group).get("members").is_none());

    let list: ListResponse<Group> = parse("okta_group_list.json");
    let group = &list.resources[0];
    assert_eq!(
        group.display_name, "Test SCIMv1",
        "resources without schemas are fine"
    );
    assert_eq!(
        group.meta.as_ref().unwrap().created,
        Some(datetime!(2024-05-15 09:21:23 UTC))
    );
    let out = to_json(&list);
    assert_eq!(schemas_of(&out["Resources"][0]), [urn::GROUP]);
    assert_eq!(
        out["Resources"][0]["meta"]["created"],
        "2024-05-15T09:21:23Z"
    );
}

#[test]
fn group_members_round_trip() {
    let group = Group {
        members: vec![
            Member::user("u1"),
            Member {
                value: Some("g2".into()),
                kind: Some(MemberType::Group),
                display: Some("Night shift".into()),
                reference: Some("https://x.example/Groups/g2".into()),
                ..Member::default()
            },
        ],
        ..Group::new("Technicians")
    };
    let out = group.to_json().unwrap();
    assert_eq!(
        out["members"],
        json!([
            {"value": "u1", "type": "User"},
            {
                "value": "g2",
                "$ref": "https://x.example/Groups/g2",
                "type": "Group",
                "display": "Night shift"
            }
        ])
    );
    assert_eq!(Group::from_json(out).unwrap(), group);
    let member: Member = serde_json::from_value(json!({"value": "u", "type": "user"})).unwrap();
    assert_eq!(
        member.kind,
        Some(MemberType::User),
        "member type in any case"
    );
}

// ---- PatchOp ----------------------------------------------------------------------------

#[test]
fn entra_legacy_disable_patch_reads_and_is_written_lowercase() {
    let patch: PatchOp = parse("entra_patch_disable_legacy.json");
    let op = &patch.operations[0];
    assert_eq!(op.op, PatchOpKind::Replace, "\"Replace\" is replace");
    assert_eq!(op.path.as_deref(), Some("active"));
    assert_eq!(op.value, Some(json!("False")));

    let schema = ResourceSchema::user();
    let attribute = schema.attribute(&AttrPath::new("active")).unwrap();
    let mut value = op.value.clone().unwrap();
    attribute.coerce(&mut value).unwrap();
    assert_eq!(
        value,
        json!(false),
        "the schema turns Entra's \"False\" into false"
    );

    let out = to_json(&patch);
    assert_eq!(
        out,
        json!({
            "schemas": [urn::PATCH_OP],
            "Operations": [{"op": "replace", "path": "active", "value": "False"}]
        })
    );
}

#[test]
fn entra_legacy_multi_replace_keeps_paths_and_order() {
    let patch: PatchOp = parse("entra_patch_replace_legacy.json");
    let paths: Vec<_> = patch
        .operations
        .iter()
        .map(|op| op.path.as_deref().unwrap())
        .collect();
    assert_eq!(
        paths,
        [
            "displayName",
            "emails[type eq \"work\"].value",
            "name.givenName",
            "name.familyName",
            "externalId",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber"
        ]
    );
    assert!(
        patch
            .operations
            .iter()
            .all(|op| op.op == PatchOpKind::Replace)
    );
    let out = to_json(&patch);
    assert!(
        out["Operations"]
            .as_array()
            .unwrap()
            .iter()
            .all(|op| op["op"] == "replace")
    );
    assert_eq!(serde_json::from_value::<PatchOp>(out).unwrap(), patch);
}

#[test]
fn entra_compliant_pathless_replace_value_is_normalised_by_the_schema() {
    let patch: PatchOp = parse("entra_patch_replace_compliant.json");
    assert_eq!(patch.operations[1].path, None);
    let mut value = patch.operations[1].value.clone().unwrap();
    value["NAME.GIVENNAME"] = value["name.givenName"].take();
    value.as_object_mut().unwrap().remove("name.givenName");
    ResourceSchema::user().normalize(&mut value).unwrap();
    assert_eq!(
        value,
        json!({
            "displayName": "Bjfe",
            "name.familyName": "Unua",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber": "Aklq",
            "name.givenName": "Kkom"
        }),
        "path-shaped keys of a path-less value get canonical paths"
    );
    assert!(
        to_json(&patch)["Operations"][1].get("path").is_none(),
        "no path, no member"
    );
}

#[test]
fn okta_and_github_pathless_deactivation_without_schemas() {
    for name in ["okta_patch_deactivate.json", "github_patch_no_schemas.json"] {
        let patch: PatchOp = parse(name);
        assert_eq!(
            patch.operations,
            [PatchOperation::replace_attributes(json!({"active": false}))],
            "{name}"
        );
        assert_eq!(
            schemas_of(&to_json(&patch)),
            [urn::PATCH_OP],
            "{name}: schemas added"
        );
    }
}

#[test]
fn okta_group_membership_and_rename_patches() {
    let patch: PatchOp = parse("okta_group_patch_membership.json");
    assert_eq!(
        patch.operations[0],
        PatchOperation::remove("members[value eq \"89bb1940-b905-4575-9e7f-6f887cfb368e\"]")
    );
    assert_eq!(patch.operations[1].op, PatchOpKind::Add);
    let out = to_json(&patch);
    assert!(
        out["Operations"][0].get("value").is_none(),
        "remove carries no value"
    );

    let rename: PatchOp = parse("okta_group_rename_patch.json");
    assert_eq!(
        rename.operations[0].value.as_ref().unwrap()["displayName"],
        "Test SCIMv2"
    );
}

#[test]
fn entra_group_member_patches() {
    let add: PatchOp = parse("entra_group_add_member.json");
    assert_eq!(add.operations[0].op, PatchOpKind::Add);
    let members: Vec<Member> =
        serde_json::from_value(add.operations[0].value.clone().unwrap()).unwrap();
    assert_eq!(members[0].value.as_deref(), Some("f648f8d5ea4e4cd38e9c"));
    assert_eq!(members[0].reference, None, "\"$ref\": null is no reference");
    assert!(to_json(&members[0]).get("$ref").is_none());

    let remove: PatchOp = parse("entra_group_remove_member_legacy.json");
    assert_eq!(remove.operations[0].op, PatchOpKind::Remove);
    assert_eq!(
        remove.operations[0].value,
        Some(json!([{"value": "u1091"}]))
    );
}

#[test]
fn patch_op_names_and_keys_in_any_case_unknown_op_rejected() {
    let patch: PatchOp = serde_json::from_value(json!({
        "operations": [
            {"OP": "ADD", "Path": "nickName", "VALUE": "Babs"},
            {"op": "rEmOvE", "path": "title"}
        ]
    }))
    .unwrap();
    assert_eq!(
        patch.operations,
        [
            PatchOperation::add("nickName", json!("Babs")),
            PatchOperation::remove("title")
        ]
    );
    let error = serde_json::from_value::<PatchOp>(json!({"Operations": [{"op": "move"}]}))
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("move") && error.contains("add, replace or remove"),
        "{error}"
    );
    assert!(
        serde_json::from_value::<PatchOp>(json!({"schemas": [urn::PATCH_OP]})).is_err(),
        "a PatchOp without Operations is not a PatchOp"
    );
}

// ---- ListResponse -----------------------------------------------------------------------

#[test]
fn list_without_total_results_is_read_and_written_with_one() {
    let list: ListResponse<ResourceType> = parse("django_scim2_resource_types.json");
    assert_eq!(list.total_results, None, "django-scim2 omits totalResults");
    assert_eq!(list.total(), 2);
    assert_eq!(list.resources[1].name, "User");
    assert_eq!(list.resources[1].endpoint, "/scim/v2/Users");
    let out = to_json(&list);
    assert_eq!(out["totalResults"], 2, "output always carries totalResults");
    assert_eq!(schemas_of(&out), [urn::LIST_RESPONSE]);
    assert_eq!(schemas_of(&out["Resources"][0]), [urn::RESOURCE_TYPE]);
    assert_no_nulls(&out, "list");
}

#[test]
fn list_accepts_lowercase_resources_string_numbers_and_empty_pages() {
    let list: ListResponse<Value> = serde_json::from_value(json!({
        "totalResults": "40", "startIndex": "21", "itemsPerPage": 20, "resources": [{"id": "x"}]
    }))
    .unwrap();
    assert_eq!(
        (list.total_results, list.start_index, list.items_per_page),
        (Some(40), Some(21), Some(20))
    );
    assert_eq!(list.resources, [json!({"id": "x"})]);

    let empty: ListResponse<User> =
        serde_json::from_value(json!({"schemas": [urn::LIST_RESPONSE], "totalResults": 0}))
            .unwrap();
    assert!(empty.resources.is_empty());
    assert_eq!(
        to_json(&empty),
        json!({"schemas": [urn::LIST_RESPONSE], "totalResults": 0, "Resources": []}),
        "Resources is written even when empty"
    );
    assert!(serde_json::from_value::<ListResponse<Value>>(json!({"totalResults": -1})).is_err());
}

#[test]
fn list_page_round_trip() {
    let list = ListResponse::page(vec![Group::new("A"), Group::new("B")], 7, 3);
    let out = to_json(&list);
    assert_eq!(out["totalResults"], 7);
    assert_eq!(out["startIndex"], 3);
    assert_eq!(out["itemsPerPage"], 2);
    assert_eq!(
        serde_json::from_value::<ListResponse<Group>>(out).unwrap(),
        list
    );
}

// ---- Error ------------------------------------------------------------------------------

#[test]
fn errors_read_status_as_string_or_number_and_write_a_string() {
    let entra: ScimError = parse("entra_error_not_found.json");
    assert_eq!(entra.status, 404);
    assert_eq!(to_json(&entra)["status"], "404");

    let okta: ScimError = parse("okta_error_conflict.json");
    assert_eq!(okta.status, 409);
    assert_eq!(
        okta.detail.as_deref(),
        Some("User already exists in the database.")
    );
    assert_eq!(
        to_json(&okta),
        json!({
            "schemas": [urn::ERROR],
            "status": "409",
            "detail": "User already exists in the database."
        })
    );
    assert!(serde_json::from_value::<ScimError>(json!({"status": "not found"})).is_err());
}

#[test]
fn error_types_constructors_and_display() {
    let error = ScimError::uniqueness("userName \"ann\" is taken");
    assert_eq!(
        error.status, 409,
        "RFC 7644 Table 9 pairs uniqueness with 409"
    );
    assert_eq!(
        error.to_string(),
        "SCIM error 409 (uniqueness): userName \"ann\" is taken"
    );
    let out = to_json(&error);
    assert_eq!(out["scimType"], "uniqueness");
    assert_eq!(serde_json::from_value::<ScimError>(out).unwrap(), error);

    let odd: ScimError =
        serde_json::from_value(json!({"Status": 400, "SCIMTYPE": "INVALIDFILTER"})).unwrap();
    assert_eq!(odd.scim_type, Some(ScimType::InvalidFilter));
    assert_eq!(odd.to_string(), "SCIM error 400 (invalidFilter)");
    let future: ScimError =
        serde_json::from_value(json!({"status": "400", "scimType": "quotaExceeded"})).unwrap();
    assert_eq!(
        future.scim_type,
        Some(ScimType::Other("quotaExceeded".into()))
    );
    assert_eq!(
        to_json(&future)["scimType"],
        "quotaExceeded",
        "unknown types are kept"
    );
    assert_eq!(ScimError::not_found("gone").status, 404);
    assert_eq!(ScimError::precondition_failed("stale").status, 412);
}

// ---- SearchRequest ----------------------------------------------------------------------

#[test]
fn search_request_reads_query_parameter_forms_and_writes_rfc_json() {
    let request: SearchRequest = serde_json::from_value(json!({
        "FILTER": "userName sw \"a\"",
        "attributes": "userName, emails",
        "sortBy": "name.familyName",
        "sortOrder": "DESCENDING",
        "startIndex": "1",
        "count": "100"
    }))
    .unwrap();
    assert_eq!(request.filter.as_deref(), Some("userName sw \"a\""));
    assert_eq!(request.attributes, ["userName", "emails"]);
    assert_eq!(request.sort_order, Some(SortOrder::Descending));
    assert_eq!((request.start_index, request.count), (Some(1), Some(100)));
    let out = to_json(&request);
    assert_eq!(
        out,
        json!({
            "schemas": [urn::SEARCH_REQUEST],
            "attributes": ["userName", "emails"],
            "filter": "userName sw \"a\"",
            "sortBy": "name.familyName",
            "sortOrder": "descending",
            "startIndex": 1,
            "count": 100
        })
    );
    assert_eq!(
        serde_json::from_value::<SearchRequest>(out).unwrap(),
        request
    );
    assert!(serde_json::from_value::<SearchRequest>(json!({"sortOrder": "up"})).is_err());
}

// ---- Discovery --------------------------------------------------------------------------

#[test]
fn service_provider_config_round_trips_the_rfc_example() {
    let input = fixture("rfc7643_service_provider_config.json");
    let config: ServiceProviderConfig = serde_json::from_value(input.clone()).unwrap();
    assert_eq!(config.bulk.max_operations, 1000);
    assert_eq!(config.filter.max_results, 200);
    assert!(config.etag.supported);
    assert_eq!(config.authentication_schemes[1].kind, "httpbasic");
    assert_eq!(config.authentication_schemes[1].primary, None);
    assert_eq!(to_json(&config), input, "the RFC example is what we write");
}

#[test]
fn service_provider_config_missing_features_are_unsupported_but_written() {
    let config: ServiceProviderConfig = serde_json::from_value(json!({
        "patch": {"supported": "True"},
        "filter": {"supported": true, "maxResults": "50"},
        "xPasswordPolicy": {"minLength": 12}
    }))
    .unwrap();
    assert_eq!(config.patch, Supported::YES);
    assert!(
        !config.bulk.supported,
        "a feature left out is not supported"
    );
    assert_eq!(config.filter.max_results, 50);
    let out = to_json(&config);
    for member in [
        "patch",
        "bulk",
        "filter",
        "changePassword",
        "sort",
        "etag",
        "authenticationSchemes",
    ] {
        assert!(out.get(member).is_some(), "RFC 7643 §5 requires {member}");
    }
    assert_eq!(
        out["xPasswordPolicy"]["minLength"], 12,
        "provider extras are kept"
    );
    assert_eq!(schemas_of(&out), [urn::SERVICE_PROVIDER_CONFIG]);
}

#[test]
fn resource_types_describe_users_and_groups() {
    let out = to_json(&ResourceType::user());
    assert_eq!(
        out,
        json!({
            "schemas": [urn::RESOURCE_TYPE],
            "id": "User",
            "name": "User",
            "endpoint": "/Users",
            "description": "User Account",
            "schema": urn::USER,
            "schemaExtensions": [
                {"schema": urn::ENTERPRISE_USER, "required": false},
                {"schema": urn::SHOP_USER, "required": false}
            ],
            "meta": {"resourceType": "ResourceType"}
        })
    );
    assert_eq!(
        serde_json::from_value::<ResourceType>(out).unwrap(),
        ResourceType::user()
    );
    assert!(
        to_json(&ResourceType::group())
            .get("schemaExtensions")
            .is_none()
    );
}

// ---- Schema -----------------------------------------------------------------------------

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

// ---- Properties -------------------------------------------------------------------------

mod properties {
    use super::*;
    use proptest::prelude::*;

    fn user() -> impl Strategy<Value = User> {
        (
            "[a-z0-9.@+-]{1,30}",
            proptest::option::of("\\PC{0,20}"),
            proptest::option::of(any::<bool>()),
            proptest::collection::vec(("[a-z]{1,8}@[a-z]{1,8}\\.example", any::<bool>()), 0..3),
            proptest::option::of(0u32..1000),
            proptest::option::of("[A-Za-z_]{1,12}"),
        )
            .prop_map(
                |(user_name, display, active, emails, sessions, licence)| User {
                    display_name: display,
                    active,
                    emails: emails
                        .into_iter()
                        .map(|(value, primary)| MultiValue {
                            primary: Some(primary),
                            ..MultiValue::typed(value, "work")
                        })
                        .collect(),
                    shop: sessions.map(|sessions| ShopUser {
                        active_sessions: Some(sessions),
                        licence: licence.as_deref().map(Licence::parse),
                        ..ShopUser::default()
                    }),
                    ..User::new(user_name)
                },
            )
    }

    proptest! {
        #[test]
        fn users_round_trip(user in user()) {
            let json = user.to_json().unwrap();
            prop_assert_eq!(User::from_json(json).unwrap(), user);
        }
    }
}
