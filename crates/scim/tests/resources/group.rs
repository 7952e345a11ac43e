//! Group resources and their members.

use muster_scim::group::{Group, Member, MemberType};
use muster_scim::message::ListResponse;
use muster_scim::urn;
use serde_json::json;
use time::macros::datetime;

use crate::support::{parse, schemas_of, to_json};

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
