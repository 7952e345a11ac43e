//! Organisation settings against a real muster-server: an admin reads and changes them
//! through the console and gets back what the server saved (and audited); values out of
//! the server's bounds are refused by name; the engine's preview of each password style
//! is what the server then enforces and advertises; viewers, technicians and other
//! organisations cannot change them.

#![allow(clippy::unwrap_used)]

use muster_core::Error;
use muster_core::auth::Tokens;
use muster_core::client::Client;
use muster_core::connection::Connection;
use muster_core::console::settings::{LifetimeInput, SettingsInput};
use muster_core::console::view::{AuditQuery, ProviderFeature};
use muster_core::settings::{PolicyStyle, SettingsChange};
use muster_core::transport::TransportConfig;
use muster_test_support::console::fail_fast;
use muster_test_support::{Muster, PASSWORD};

fn lifetime(key: &str, value: u32) -> LifetimeInput {
    LifetimeInput {
        key: key.to_owned(),
        value,
    }
}

#[tokio::test]
async fn an_admin_changes_the_settings_and_sees_what_the_server_saved() {
    let server = Muster::start("settings-console", 10).await;
    let console = server
        .admin_console("settings", fail_fast(), &server.url)
        .await;
    let status = console.sync(|_| {}).await.unwrap();
    let feature = status
        .features
        .iter()
        .find(|f| f.name == ProviderFeature::Settings.into())
        .unwrap();
    assert!(feature.available, "{feature:?}");

    let before = console.org_settings().await.unwrap();
    assert_eq!(before.policy_style, "shop");
    assert_eq!(before.lifetimes[0].key, "invitationHours");
    assert_eq!(before.lifetimes[0].words, "48 hours");

    let saved = console
        .save_org_settings(SettingsInput {
            policy_style: Some("nist".into()),
            lifetimes: vec![
                lifetime("invitationHours", 72),
                lifetime("magicLinkMinutes", 45),
            ],
            require_admin_mfa: None,
        })
        .await
        .unwrap();
    assert_eq!(saved.policy_style, "nist");
    assert_eq!(saved.lifetimes[0].value, 72);
    assert_eq!(saved.lifetimes[0].words, "3 days");
    let message = saved.message.clone().unwrap();
    assert!(
        message.contains("invitations last 3 days") && message.contains("45 minutes"),
        "{message}"
    );
    // Read again: the server kept it.
    let again = console.org_settings().await.unwrap();
    assert_eq!(again.lifetimes, saved.lifetimes);

    // The engine's preview of the style is what the server now advertises.
    let policy = console.password_policy().await.unwrap();
    assert_eq!(policy.style, "nist");
    assert_eq!(policy.rules, PolicyStyle::Nist.rules());
    let nist = saved.policies.iter().find(|p| p.value == "nist").unwrap();
    assert_eq!(
        nist.rules, policy.rules,
        "the preview says what the server asks"
    );

    let audit = console
        .audit(&AuditQuery {
            action: Some("org.settings_change".into()),
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(audit.entries.len(), 1, "one change, audited: {audit:?}");

    // Out of bounds: refused by name, before anything is sent.
    let refused = console
        .save_org_settings(SettingsInput {
            lifetimes: vec![lifetime("resetLinkMinutes", 4)],
            ..SettingsInput::default()
        })
        .await
        .unwrap_err();
    assert_eq!(
        muster_core::ErrorBody::from(&refused).fields[0].field,
        "resetLinkMinutes"
    );
    // And the server refuses it too when sent by hand.
    let raw = reqwest::Client::new()
        .patch(format!("{}/o/{}/settings", server.url, server.org))
        .bearer_auth(&server.token)
        .json(&serde_json::json!({"magicLinkMinutes": 2000}))
        .send()
        .await
        .unwrap();
    assert_eq!(raw.status(), 400);

    // Back to the shop rule for the next reader, and the same preview holds.
    let back = console
        .save_org_settings(SettingsInput {
            policy_style: Some("shop".into()),
            ..SettingsInput::default()
        })
        .await
        .unwrap();
    assert_eq!(back.policy_style, "shop");
    let policy = console.password_policy().await.unwrap();
    assert_eq!(policy.rules, PolicyStyle::Shop.rules());
}

#[tokio::test]
async fn only_admins_of_the_organisation_change_the_settings() {
    let server = Muster::start("settings-roles", 10).await;
    let change = SettingsChange {
        lifetimes: vec![("invitationHours".into(), 1)],
        ..SettingsChange::default()
    };
    for (name, role) in [("vera", "viewer"), ("tom", "technician")] {
        let email = format!("{name}@settings-roles.test");
        server
            .server
            .seed_person(&server.org, name, &email, role, PASSWORD);
        let client = server.sign_in(&email, PASSWORD).await;
        let changed = client.org_settings().change(&change).await.unwrap_err();
        assert!(
            matches!(changed, Error::Forbidden { .. }),
            "{role}: {changed:?}"
        );
        let console = server.console_as(name, &email).await;
        let refused = console.org_settings().await.unwrap_err();
        assert!(
            matches!(refused, Error::Forbidden { .. }),
            "{role}: {refused:?}"
        );
        let feature = console
            .status()
            .await
            .features
            .into_iter()
            .find(|f| f.name == ProviderFeature::Settings.into())
            .unwrap();
        assert!(!feature.available, "{role}: {feature:?}");
    }
    let domain = server.server.seed_demo("settings-away", 5);
    let stranger = server
        .server
        .sign_in("settings-away", &format!("admin@{domain}"), PASSWORD)
        .await;
    let aimed = Client::from_tokens(
        Connection::muster(&server.url, &server.org),
        Tokens::clone(&stranger.tokens().await),
        &TransportConfig::default(),
    )
    .unwrap();
    assert!(matches!(
        aimed.org_settings().get().await,
        Err(Error::Forbidden { .. })
    ));
    assert!(matches!(
        aimed.org_settings().change(&change).await,
        Err(Error::Forbidden { .. })
    ));
    let admin = server.admin().await;
    assert_eq!(
        admin.org_settings().get().await.unwrap().invitation_hours,
        48,
        "nothing changed"
    );
}
