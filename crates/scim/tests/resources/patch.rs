//! PatchOp messages as Entra, Okta and GitHub send them: op names in any case, path-less
//! values, group membership changes.

use muster_scim::filter::AttrPath;
use muster_scim::group::Member;
use muster_scim::message::{PatchOp, PatchOpKind, PatchOperation};
use muster_scim::schema::ResourceSchema;
use muster_scim::urn;
use serde_json::json;

use crate::support::{parse, schemas_of, to_json};

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
