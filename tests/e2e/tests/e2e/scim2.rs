//! The app against an independent SCIM 2.0 provider: scim2-server (python-scim, PyPI),
//! with its default RFC 7643 schemas and a bearer token, seeded with 3,000 people through
//! `/Bulk`. An admin connects with the token, sees everyone, searches, adds a person (with
//! the fields the provider has: no shop extension is sent), deactivates one (SCIM
//! `active: false` at the provider), creates a group with two members, and exports CSV.
//! The provider's own API confirms each change.

use muster_e2e::{App, answer_file_dialog, fresh_dir, wait_for_file};
use muster_test_support::scim2::Scim2;
use serde_json::Value;

const PEOPLE: usize = 3_000;

/// `GET {base}{path}` with the provider's token, as JSON.
async fn provider_get(scim: &Scim2, path: &str, query: &[(&str, &str)]) -> Value {
    reqwest::Client::new()
        .get(format!("{}{path}", scim.base))
        .query(query)
        .bearer_auth(&scim.token)
        .send()
        .await
        .expect("scim2-server answers")
        .json()
        .await
        .expect("a SCIM answer")
}

/// The provider's user with this userName.
async fn provider_user(scim: &Scim2, user_name: &str) -> Value {
    let filter = format!("userName eq \"{user_name}\"");
    let found = provider_get(scim, "/Users", &[("filter", &filter)]).await;
    found["Resources"][0].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plain_scim_provider_is_usable_in_the_app() {
    let scim = Scim2::start().await;
    let names = scim.seed_users(PEOPLE).await;
    let app = App::launch().await;

    // --- connect with the provider's token ------------------------------------------
    app.fill("profile-name", "Provider").await;
    app.find("profile-kind")
        .await
        .select_by_value("scim")
        .await
        .expect("the kind select");
    app.fill("profile-url", &scim.base).await;
    app.click("profile-save").await;
    app.click("profile-open-Provider").await;
    app.fill("signin-token", &scim.token).await;
    app.click("signin-token-submit").await;
    app.find("user-row").await;
    app.wait_text("user-count", |t| t.contains("3,000")).await;
    // No shop fields or Muster-only screens where the provider has none.
    assert!(
        !app.present("nav-audit").await,
        "scim2-server keeps no audit log"
    );
    app.screenshot("scim2-01-users").await;

    // --- search ---------------------------------------------------------------------
    let someone = &names[1234];
    app.fill("user-search", someone).await;
    app.wait_text("user-count", |t| t.starts_with("1 of")).await;
    app.fill("user-search", "").await;

    // --- add a person, with the fields the provider has --------------------------------
    app.click("nav-create").await;
    assert!(
        !app.present("form-licence").await,
        "no licence field: the provider has no shop extension"
    );
    app.fill("form-givenName", "Ida").await;
    app.fill("form-familyName", "Provider").await;
    app.fill("form-email", "ida.provider@scim2.test").await;
    // The sign-in name follows the engine's proposal until typed in: wait for it, as a
    // person sees it, so the proposal cannot land between clearing the field and typing.
    app.wait_value("form-userName", |v| v == "iprovider").await;
    app.fill("form-userName", "ida.provider@scim2.test").await;
    app.fill("form-phone", "+1 303 555 0199").await;
    app.screenshot("scim2-02-create").await;
    app.click("form-submit").await;
    app.find("user-detail").await;
    let created = provider_user(&scim, "ida.provider@scim2.test").await;
    assert_eq!(
        created["name"]["givenName"], "Ida",
        "created at the provider: {created}"
    );
    assert_eq!(
        created["phoneNumbers"][0]["value"], "+1 303 555 0199",
        "the phone goes to SCIM's own phoneNumbers: {created}"
    );

    // --- deactivate someone: SCIM `active: false` --------------------------------------
    app.click("detail-back").await;
    app.fill("user-search", someone).await;
    app.wait_text("user-count", |t| t.starts_with("1 of")).await;
    app.click("user-row").await;
    app.find("user-detail").await;
    app.screenshot("scim2-03-detail").await;
    app.click("action-deactivate").await;
    app.click("confirm-ok").await;
    app.wait_text("detail-status", |t| t.contains("Deactivated"))
        .await;
    let deactivated = provider_user(&scim, someone).await;
    assert_eq!(
        deactivated["active"], false,
        "the provider holds the change: {deactivated}"
    );

    // --- a group with two members ------------------------------------------------------
    app.click("nav-groups").await;
    app.fill("group-new-name", "Fitters").await;
    app.click("group-create").await;
    app.wait_text("group-name", |t| t == "Fitters").await;
    for (n, person) in [&names[10], &names[20]].into_iter().enumerate() {
        app.fill("group-find", person).await;
        app.find_css("[data-testid^=\"group-add-\"]")
            .await
            .click()
            .await
            .expect("add the member");
        let members = format!("{} member", n + 1);
        app.wait_text("group-member-count", |t| t.starts_with(&members))
            .await;
    }
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let group = loop {
        let found = provider_get(
            &scim,
            "/Groups",
            &[("filter", "displayName eq \"Fitters\"")],
        )
        .await;
        let group = found["Resources"][0].clone();
        if group["members"].as_array().map_or(0, Vec::len) == 2
            || std::time::Instant::now() > deadline
        {
            break group;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    };
    assert_eq!(
        group["members"].as_array().map_or(0, Vec::len),
        2,
        "two members at the provider: {group}"
    );
    app.screenshot("scim2-04-group").await;

    // --- export -------------------------------------------------------------------------
    app.click("nav-users").await;
    app.fill("user-search", "").await;
    app.find("user-row").await;
    app.click("users-export").await;
    let file = fresh_dir("scim2-csv").join("people.csv");
    answer_file_dialog(&file).await;
    let text = wait_for_file(&file).await;
    let rows = text.split("\r\n").filter(|l| !l.is_empty()).count();
    // Everyone but the deactivated (left out of the default view), plus the header.
    assert!(rows > 2_900, "the view's people are exported: {rows} lines");
    assert!(
        text.contains("ida.provider@scim2.test"),
        "the new person too"
    );
    app.close().await;
}
