//! API tokens against a real muster-server: an admin issues one through the console (the
//! secret once, working at once), sees it listed without the secret, and revokes it (it
//! stops working at once); nobody else can list, issue or revoke as they please, and the
//! secret shows up in no listing, audit entry or error.

#![allow(clippy::unwrap_used)]

use muster_core::Error;
use muster_core::auth::Tokens;
use muster_core::client::Client;
use muster_core::connection::Connection;
use muster_core::console::tokens::ApiTokenInput;
use muster_core::console::view::{AuditQuery, ProviderFeature};
use muster_core::tokens::{NewApiToken, TokenScope};
use muster_core::transport::TransportConfig;
use muster_test_support::console::fail_fast;
use muster_test_support::{Muster, PASSWORD};

/// The id of the seeded integration account (API licence, admin role).
async fn integration_id(server: &Muster) -> String {
    let admin = server.admin().await;
    let filter = muster_scim::filter::parse_filter(r#"userName eq "integration""#).unwrap();
    let page = admin
        .users()
        .page(&muster_core::query::ListQuery {
            filter: Some(filter),
            ..Default::default()
        })
        .await
        .unwrap();
    page.resources[0].id.clone().unwrap()
}

fn new_token(user_id: &str, name: &str) -> NewApiToken {
    NewApiToken {
        user_id: user_id.to_owned(),
        name: name.to_owned(),
        scope: TokenScope::Read,
        days: Some(7),
    }
}

#[tokio::test]
async fn an_admin_issues_sees_and_revokes_a_token_in_the_console() {
    let server = Muster::start("tokens-console", 20).await;
    let console = server
        .admin_console("tokens", fail_fast(), &server.url)
        .await;
    let status = console.sync(|_| {}).await.unwrap();
    let feature = status
        .features
        .iter()
        .find(|f| f.name == ProviderFeature::ApiTokens.into())
        .unwrap();
    assert!(
        feature.available,
        "an admin manages API tokens: {feature:?}"
    );

    let integration = integration_id(&server).await;
    let choices = console.api_token_choices().await;
    assert!(
        choices.owners.iter().any(|o| o.value == integration),
        "the active API-licence account is offered: {:?}",
        choices.owners
    );
    let me = console.status().await.account.unwrap().id;
    assert!(
        choices.owners.iter().all(|o| o.value != me),
        "a token is never offered for oneself: {:?}",
        choices.owners
    );
    assert_eq!(choices.scopes[0].value, "read", "read is the default scope");

    let bad = console
        .create_api_token(ApiTokenInput {
            user_id: integration.clone(),
            name: " ".into(),
            scope: "read".into(),
            days: Some(30),
        })
        .await
        .unwrap_err();
    assert_eq!(
        muster_core::ErrorBody::from(&bad).fields[0].field,
        "name",
        "{bad:?}"
    );

    let issued = console
        .create_api_token(ApiTokenInput {
            user_id: integration.clone(),
            name: "Entra provisioning".into(),
            scope: "provision".into(),
            days: Some(30),
        })
        .await
        .unwrap();
    assert!(issued.secret.starts_with("mst_api_"), "a Muster API token");
    assert!(
        !format!("{issued:?}").contains(&issued.secret),
        "a logged reply would not show the secret"
    );
    assert_eq!(
        issued.listed.owner, "integration (integration)",
        "named from the copy"
    );
    assert_eq!(issued.listed.scope, "provision");
    assert!(
        issued.message.contains("not shown again"),
        "{}",
        issued.message
    );

    // It works at once, as a provisioning token.
    let as_token = server.client_with_token(&issued.secret);
    as_token.users().get(&integration).await.unwrap();

    let rows = console.api_tokens().await.unwrap();
    let row = rows.iter().find(|r| r.id == issued.listed.id).unwrap();
    assert_eq!(row.name, "Entra provisioning");
    assert!(!row.expired);
    let listed = serde_json::to_string(&rows).unwrap();
    assert!(
        !listed.contains(&issued.secret),
        "a listing never holds a secret"
    );

    let audit = console
        .audit(&AuditQuery {
            action: Some("api_token.*".into()),
            limit: 50,
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(
        audit.entries.iter().any(|e| e.action == "api_token.create"),
        "issuing is audited: {audit:?}"
    );
    assert!(
        !format!("{audit:?}").contains(&issued.secret),
        "the audit log never holds a secret"
    );

    let after = console.revoke_api_token(&issued.listed.id).await.unwrap();
    assert!(after.iter().all(|r| r.id != issued.listed.id));
    let refused = as_token.users().get(&integration).await.unwrap_err();
    assert!(
        matches!(refused, Error::Unauthorized { .. }),
        "a revoked token stops working at once: {refused:?}"
    );
    assert!(
        !format!("{refused:?} {refused}").contains(&issued.secret),
        "the error does not quote the token"
    );
    let again = console
        .revoke_api_token(&issued.listed.id)
        .await
        .unwrap_err();
    assert!(matches!(again, Error::NotFound { .. }), "{again:?}");
}

#[tokio::test]
async fn viewers_and_technicians_do_not_manage_tokens() {
    let server = Muster::start("tokens-roles", 10).await;
    let integration = integration_id(&server).await;
    let admin = server.admin().await;
    let issued = admin
        .api_tokens()
        .create(
            &new_token(&integration, "Nightly export"),
            server.server.now(),
        )
        .await
        .unwrap();
    let id = issued.token.id.clone();
    for (name, role) in [("vera", "viewer"), ("tom", "technician")] {
        let email = format!("{name}@tokens-roles.test");
        server
            .server
            .seed_person(&server.org, name, &email, role, PASSWORD);
        let client = server.sign_in(&email, PASSWORD).await;
        let tokens = client.api_tokens();
        let created = tokens
            .create(&new_token(&integration, "mine"), server.server.now())
            .await
            .unwrap_err();
        assert!(
            matches!(created, Error::Forbidden { .. }),
            "{role}: {created:?}"
        );
        let revoked = tokens.revoke(&id).await.unwrap_err();
        assert!(
            matches!(revoked, Error::Forbidden { .. }),
            "{role}: {revoked:?}"
        );
        match (role, tokens.list().await) {
            // The server lets viewers (support staff) read the listing, never a secret.
            ("viewer", Ok(list)) => {
                let text = serde_json::to_string(&list).unwrap();
                assert!(list.iter().any(|t| t.id == id));
                assert!(!text.contains(issued.secret.expose()));
            }
            ("technician", Err(Error::Forbidden { .. })) => {}
            (role, other) => panic!("{role} listing tokens: {other:?}"),
        }

        // The console shows them no API token screen, and says why.
        let console = server.console_as(name, &email).await;
        let _ = console.sync(|_| {}).await;
        let status = console.status().await;
        if let Some(feature) = status
            .features
            .iter()
            .find(|f| f.name == ProviderFeature::ApiTokens.into())
        {
            assert!(!feature.available, "{role}: {feature:?}");
            assert!(
                feature
                    .reason
                    .as_deref()
                    .unwrap_or("")
                    .contains("only admins"),
                "{role}: {feature:?}"
            );
        }
        let refused = console.api_tokens().await.unwrap_err();
        assert!(
            matches!(refused, Error::Forbidden { .. }),
            "{role}: {refused:?}"
        );
    }
    // Still there, still working.
    let list = admin.api_tokens().list().await.unwrap();
    assert!(
        list.iter().any(|t| t.id == id),
        "nobody but an admin revoked it"
    );
    server
        .client_with_token(issued.secret.expose())
        .users()
        .get(&integration)
        .await
        .unwrap();
}

#[tokio::test]
async fn another_organisations_admin_cannot_reach_the_tokens() {
    let server = Muster::start("tokens-home", 10).await;
    let integration = integration_id(&server).await;
    let issued = server
        .admin()
        .await
        .api_tokens()
        .create(&new_token(&integration, "Payroll"), server.server.now())
        .await
        .unwrap();
    let other_domain = server.server.seed_demo("tokens-away", 5);
    let stranger = server
        .server
        .sign_in("tokens-away", &format!("admin@{other_domain}"), PASSWORD)
        .await;
    // The stranger's own session, aimed at the first organisation.
    let aimed = Client::from_tokens(
        Connection::muster(&server.url, &server.org),
        Tokens::clone(&stranger.tokens().await),
        &TransportConfig::default(),
    )
    .unwrap();
    let tokens = aimed.api_tokens();
    assert!(matches!(tokens.list().await, Err(Error::Forbidden { .. })));
    let created = tokens
        .create(&new_token(&integration, "stolen"), server.server.now())
        .await;
    assert!(
        matches!(created, Err(Error::Forbidden { .. })),
        "{created:?}"
    );
    let revoked = tokens.revoke(&issued.token.id).await;
    assert!(
        matches!(revoked, Err(Error::Forbidden { .. })),
        "{revoked:?}"
    );
    // Nor does a token of the first organisation work in the other.
    let elsewhere = Client::from_tokens(
        Connection::muster(&server.url, "tokens-away"),
        Tokens {
            access: muster_core::Secret::new(issued.secret.expose()),
            refresh: None,
        },
        &TransportConfig::default(),
    )
    .unwrap();
    assert!(elsewhere.users().get(&integration).await.is_err());
    server
        .client_with_token(issued.secret.expose())
        .users()
        .get(&integration)
        .await
        .unwrap();
}

#[tokio::test]
async fn a_token_is_never_issued_to_oneself_nor_to_a_person() {
    let server = Muster::start("tokens-self", 10).await;
    let admin = server.admin().await;
    let me = admin.account().unwrap().id.clone();
    let own = admin
        .api_tokens()
        .create(&new_token(&me, "mine"), server.server.now())
        .await
        .unwrap_err();
    assert!(matches!(own, Error::Forbidden { .. }), "{own:?}");
    let person = server.users_without_work(1).pop().unwrap();
    let refused = admin
        .api_tokens()
        .create(&new_token(&person, "person"), server.server.now())
        .await
        .unwrap_err();
    assert!(
        matches!(refused, Error::Validation { .. }) && refused.to_string().contains("API licence"),
        "{refused:?}"
    );
}
