//! Discovery documents: ServiceProviderConfig and ResourceType.

use muster_scim::discovery::{ResourceType, ServiceProviderConfig, Supported};
use muster_scim::urn;
use serde_json::json;

use crate::support::{fixture, schemas_of, to_json};

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
