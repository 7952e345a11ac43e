//! The other protocol messages: ListResponse, Error and SearchRequest.

use muster_scim::discovery::ResourceType;
use muster_scim::group::Group;
use muster_scim::message::{ListResponse, ScimError, ScimType, SearchRequest, SortOrder};
use muster_scim::urn;
use muster_scim::user::User;
use serde_json::{Value, json};

use crate::support::{assert_no_nulls, parse, schemas_of, to_json};

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
