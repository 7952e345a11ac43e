//! An admin's organisation settings in the real app, against a real server: the password
//! policy's preview follows the style chosen (the engine's words), a lifetime is picked
//! from the presets and another typed in, and the screen then says what the server saved,
//! which a direct read confirms. Screenshots of the screen before and after.

use muster_e2e::{App, PASSWORD, Server};
use serde_json::Value;

const ORG: &str = "e2e-settings";
const DOMAIN: &str = "e2e-settings.test";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_changes_the_organisation_settings() {
    let mut server = Server::start(ORG, 20).await;
    let app = App::launch().await;
    app.connect_and_sign_in(
        "Settings",
        &server.url,
        ORG,
        &format!("admin@{DOMAIN}"),
        PASSWORD,
    )
    .await;
    app.click("nav-settings").await;
    let preview = app
        .wait_text("settings-policy-preview", |t| t.contains("at least 12"))
        .await;
    assert!(preview.contains("upper-case"), "{preview}");
    app.screenshot("30-settings").await;

    app.click("settings-policy-nist").await;
    let preview = app
        .wait_text("settings-policy-preview", |t| t.contains("at least 8"))
        .await;
    assert!(
        !preview.contains("upper-case"),
        "NIST has no composition rules: {preview}"
    );
    app.find_css(r#"[data-testid="settings-invitationHours"] option[value="72"]"#)
        .await
        .click()
        .await
        .expect("3 days is chosen");
    app.find_css(r#"[data-testid="settings-magicLinkMinutes"] option[value="custom"]"#)
        .await
        .click()
        .await
        .expect("a custom lifetime is chosen");
    app.fill("settings-magicLinkMinutes-custom", "45").await;
    app.screenshot("31-settings-changed").await;
    app.click("settings-save").await;
    let saved = app
        .wait_text("settings-saved", |t| t.starts_with("Saved"))
        .await;
    assert!(
        saved.contains("invitations last 3 days") && saved.contains("45 minutes"),
        "{saved}"
    );
    app.screenshot("32-settings-saved").await;

    let admin = server.admin_token(ORG).await;
    let settings: Value = reqwest::Client::new()
        .get(format!("{}/o/{ORG}/settings", server.url))
        .bearer_auth(admin)
        .send()
        .await
        .expect("the settings request")
        .json()
        .await
        .expect("the settings");
    assert_eq!(settings["passwordPolicy"], "nist");
    assert_eq!(settings["invitationHours"], 72);
    assert_eq!(settings["magicLinkMinutes"], 45);

    app.close().await;
    server.stop().await;
}
