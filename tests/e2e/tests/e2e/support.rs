//! Support staff (the viewer role) review accounts in the real app: they sign in (first
//! replacing the password an admin set with their own), browse
//! and search every user, open one, and read the audit log, and every change is refused
//! in place with the reason — no write control is enabled anywhere they look.

use muster_e2e::{App, PASSWORD, Server};

const ORG: &str = "e2e-support";
const DOMAIN: &str = "e2e-support.test";
const OWN_PASSWORD: &str = "Harbour-Tulip-58-meadow";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn support_staff_review_read_only() {
    let mut server = Server::start(ORG, 120).await;
    let viewer = format!("sam.support@{DOMAIN}");
    // Sam's password was set by an admin: the app asks for one of Sam's own first.
    server.create_viewer_with(ORG, &viewer, true).await;
    let app = App::launch().await;

    app.fill("profile-name", "Support").await;
    app.fill("profile-url", &server.url).await;
    app.fill("profile-org", ORG).await;
    app.click("profile-save").await;
    app.click("profile-open-Support").await;
    app.fill("signin-email", &viewer).await;
    app.fill("signin-password", PASSWORD).await;
    app.click("signin-submit").await;
    app.find("choose-password").await;
    app.screenshot("support-00-choose-password").await;
    app.fill("choose-current", PASSWORD).await;
    app.fill("choose-new", OWN_PASSWORD).await;
    app.fill("choose-again", OWN_PASSWORD).await;
    app.click("choose-save").await;
    app.wait_gone("choose-password").await;
    assert_eq!(
        server.token_status(ORG, &viewer, PASSWORD).await,
        401,
        "the admin-set password stopped working"
    );

    // The whole organisation is there to review, with the reason changes are not.
    app.find("user-row").await;
    app.wait_text("user-count", |t| t.contains("121")).await;
    let banner = app.wait_text("readonly-banner", |t| !t.is_empty()).await;
    assert!(banner.contains("viewer"), "{banner}");
    let invite = app.find("nav-create").await;
    assert!(
        invite.attr("disabled").await.expect("attr").is_some(),
        "no inviting for a viewer"
    );
    app.screenshot("support-01-users").await;

    // A user's page: every action disabled, the reason on show.
    app.fill("user-search", &format!("admin@{DOMAIN}")).await;
    app.wait_text("user-count", |t| t.starts_with("1 of")).await;
    app.click("user-row").await;
    app.find("user-detail").await;
    for action in ["action-edit", "action-suspend", "action-revoke-sessions"] {
        let button = app.find(action).await;
        assert!(
            button.attr("disabled").await.expect("attr").is_some(),
            "{action} is refused to a viewer"
        );
    }
    let reasons = app.wait_text("action-reasons", |t| !t.is_empty()).await;
    assert!(reasons.contains("only admins change"), "{reasons}");
    app.screenshot("support-02-user-read-only").await;

    // The audit log, filtered to one kind of event.
    app.click("nav-audit").await;
    app.find("audit-row").await;
    app.fill("audit-action", "user.set_password").await;
    app.click("audit-refresh").await;
    // The admin set Sam's password while setting up this test: that is the entry.
    app.wait_text("audit-row", |t| t.contains("user.set_password"))
        .await;
    app.screenshot("support-03-audit").await;

    app.close().await;
    server.stop().await;
}
