//! User resources: providers' payloads read leniently and written strictly, unknown
//! attributes kept, junk rejected with a clear message.

use muster_scim::message::{ListResponse, ScimError, ScimType};
use muster_scim::schema::ResourceSchema;
use muster_scim::urn;
use muster_scim::user::{
    EnterpriseUser, InvitationState, Licence, MultiValue, Name, Role, ShopUser, SignInMethod, User,
    UserStatus,
};
use serde_json::json;
use time::macros::datetime;

use crate::support::{assert_no_nulls, fixture, parse, schemas_of, to_json};

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
