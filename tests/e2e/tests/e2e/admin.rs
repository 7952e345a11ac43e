//! A shop admin's session in the real app, against a real server: connect and sign in;
//! search and filter; open a user; invite someone and follow the emailed link to set
//! their password; set a password; deactivate with reassignment; suspend and see the
//! session cut; lose the server and keep browsing and searching with writes refused;
//! get it back. A screenshot of each screen lands in `target/e2e-screenshots/`.

use std::time::Duration;

use muster_e2e::{App, PASSWORD, Server};

const ORG: &str = "e2e-shop";
const DOMAIN: &str = "e2e-shop.test";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shop_admins_day() {
    let mut server = Server::start(ORG, 300).await;
    let app = App::launch().await;

    // --- connect and sign in -------------------------------------------------------
    app.fill("profile-name", "Shop").await;
    app.fill("profile-url", &server.url).await;
    app.fill("profile-org", ORG).await;
    app.screenshot("01-connections").await;
    app.click("profile-save").await;
    app.click("profile-open-Shop").await;
    app.fill("signin-email", &format!("admin@{DOMAIN}")).await;
    app.fill("signin-password", PASSWORD).await;
    app.screenshot("02-sign-in").await;
    app.click("signin-submit").await;

    // The first sync fills the table.
    app.find("user-row").await;
    let count = app.wait_text("user-count", |t| t.contains("300")).await;
    assert!(count.contains("users"), "{count}");
    app.screenshot("03-users").await;

    // --- search and filter ----------------------------------------------------------
    app.fill("user-search", &format!("admin@{DOMAIN}")).await;
    app.wait_text("user-count", |t| t.starts_with("1 of")).await;
    app.fill("user-search", "").await;
    app.click("chip-role-technician").await;
    let filtered = app.wait_text("user-count", |t| t.contains(" of ")).await;
    app.screenshot("04-filtered").await;
    app.click("chip-role-technician").await;
    assert!(!filtered.starts_with("0 of"), "{filtered}");

    // --- open a user ----------------------------------------------------------------
    app.fill("user-search", &format!("admin@{DOMAIN}")).await;
    app.wait_text("user-count", |t| t.starts_with("1 of")).await;
    app.click("user-row").await;
    app.find("user-detail").await;
    app.wait_text("detail-status", |t| t.to_lowercase().contains("active"))
        .await;
    app.screenshot("05-user-detail").await;
    // A toast stands beside the page's column of actions, over none of them: the admin's
    // own page has the longest column (what they cannot do to themselves, and why).
    app.click("action-send-password-reset").await;
    assert_no_toast_covers_actions(&app).await;
    app.screenshot("05b-toast-beside-actions").await;
    // On a wide window too, where the page stops growing and its column moves in.
    crate::layout::resize(&app, (1900, 800)).await;
    app.click("action-send-password-reset").await;
    assert_no_toast_covers_actions(&app).await;
    app.screenshot("05c-toast-beside-actions-wide").await;
    crate::layout::resize(&app, (1280, 800)).await;

    // --- invite a user and follow the link from the outbox ----------------------------
    app.click("nav-create").await;
    let email = format!("new.hire@{DOMAIN}");
    app.fill("form-givenName", "Nova").await;
    app.fill("form-familyName", "Hire").await;
    app.fill("form-email", &email).await;
    // The sign-in name is made from the name; the permissions are the server's toggles.
    app.wait_value("form-userName", |v| v == "nhire").await;
    app.click("form-permission-mobileAppAccess").await;
    // A photo: a web page named like an image is refused by its content, then a real one.
    let files = muster_e2e::fresh_dir("photos");
    let disguised = files.join("nova.png");
    std::fs::write(&disguised, "<html><body>not a photo</body></html>").expect("a file");
    app.choose_file("form-photo-file", &disguised).await;
    app.wait_text("form-photo-error", |t| t.contains("a web page"))
        .await;
    let photo = files.join("nova-portrait.png");
    image::RgbImage::from_fn(320, 320, |x, y| {
        image::Rgb([(x * 255 / 320) as u8, 120, (y * 255 / 320) as u8])
    })
    .save(&photo)
    .expect("a PNG");
    app.choose_file("form-photo-file", &photo).await;
    app.find("form-photo-preview").await;
    app.screenshot("06-invite").await;
    app.click("form-submit").await;
    app.wait_text("detail-status", |t| t.to_lowercase().contains("invited"))
        .await;
    app.wait_text("detail-permissions", |t| t.contains("Mobile app"))
        .await;
    // The server's re-encoded photo, shown from a data: URL the engine built.
    let shown = app.find("avatar-photo").await;
    let src = shown.attr("src").await.ok().flatten().unwrap_or_default();
    assert!(src.starts_with("data:image/jpeg;base64,"), "{src:.40}");
    app.screenshot("06c-user-photo").await;
    let filter = format!("emails.value eq \"{email}\"");
    let nova = server.list_users(ORG, &[("filter", &filter)]).await;
    let nova = &nova["Resources"][0];
    assert_eq!(nova["userName"], "nhire", "{nova}");
    assert!(
        nova["photos"][0]["value"]
            .as_str()
            .is_some_and(|url| url.contains("/photo?v=")),
        "{nova}"
    );
    assert_eq!(
        nova["urn:muster:params:scim:schemas:extension:shop:2.0:User"]["permissions"],
        serde_json::json!(["mobileAppAccess"]),
        "{nova}"
    );
    let link = server.link_sent_to(&email).await;
    let token = link
        .split("token=")
        .nth(1)
        .expect("the link carries its token")
        .to_owned();
    let accepted = reqwest::Client::new()
        .post(format!("{}/links/welcome", server.url))
        .form(&[
            ("token", token.as_str()),
            ("password", "Brisk-Lantern-7294!q"),
            ("confirm", "Brisk-Lantern-7294!q"),
        ])
        .send()
        .await
        .expect("the welcome page answers");
    assert!(accepted.status().is_success(), "{}", accepted.status());
    let nova = server.token(ORG, &email, "Brisk-Lantern-7294!q").await;
    assert!(
        !nova.is_empty(),
        "the invited user can sign in with their password"
    );

    // --- invite for the mobile app, with a code by SMS --------------------------------
    app.click("nav-create").await;
    let sia = format!("sia.mobile@{DOMAIN}");
    let phone = "+1 303 555 0166";
    app.fill("form-givenName", "Sia").await;
    app.fill("form-familyName", "Mobile").await;
    app.fill("form-email", &sia).await;
    app.fill("form-phone", phone).await;
    app.click("form-channel-mobile").await;
    app.click("form-sms-code").await;
    app.screenshot("06b-invite-mobile-sms").await;
    app.click("form-submit").await;
    app.wait_text("detail-status", |t| t.to_lowercase().contains("invited"))
        .await;
    let code = server.sms_code_sent_to(phone).await;
    let link = server.link_sent_to(&sia).await;
    let page = reqwest::get(&link).await.expect("the welcome page answers");
    assert!(
        page.text()
            .await
            .unwrap_or_default()
            .contains("name=\"code\""),
        "the welcome page asks for the SMS code"
    );
    let token = link.split("token=").nth(1).expect("a token").to_owned();
    let welcomed = reqwest::Client::new()
        .post(format!("{}/links/welcome", server.url))
        .form(&[
            ("token", token.as_str()),
            ("password", "Copper-Meadow-8142!t"),
            ("confirm", "Copper-Meadow-8142!t"),
            ("code", code.as_str()),
        ])
        .send()
        .await
        .expect("the welcome page answers");
    assert!(welcomed.status().is_success(), "{}", welcomed.status());
    assert!(
        welcomed
            .text()
            .await
            .unwrap_or_default()
            .contains("mobile app"),
        "the page says where to sign in"
    );

    // --- set a password ---------------------------------------------------------------
    // Reload the detail: the invitation is accepted now.
    app.click("nav-users").await;
    app.fill("user-search", &email).await;
    app.wait_text("user-count", |t| t.starts_with("1 of")).await;
    app.click("user-row").await;
    app.wait_text("detail-status", |t| t.to_lowercase().contains("active"))
        .await;
    app.click("action-set-password").await;
    app.click("password-generate").await;
    app.screenshot("07-set-password").await;
    // The test types its own, so it can sign in as Nova with it afterwards.
    app.fill("password-input", "Quiet-Harbor-5813!k").await;
    app.click("password-save").await;
    app.wait_gone("password-save").await;
    let refused = reqwest::Client::new()
        .post(format!("{}/auth/token", server.url))
        .json(&serde_json::json!({"org": ORG, "email": email, "password": "Brisk-Lantern-7294!q"}))
        .send()
        .await
        .expect("sign-in answers");
    assert_eq!(refused.status(), 401, "the old password stopped working");

    // --- deactivate with reassignment --------------------------------------------------
    let (tech_email, tech_id) = server.active_technician(ORG, 0).await;
    open_user(&app, &tech_email).await;
    app.click("action-deactivate").await;
    app.find_css("[data-testid=\"deactivate-confirm\"]").await;
    let kinds = app
        .client
        .find_all(fantoccini::Locator::Css(
            "[data-testid^=\"deactivate-assignee-\"]",
        ))
        .await
        .expect("the wizard lists what the user holds");
    for input in kinds {
        input.send_keys("a").await.expect("type");
        app.click("assignee-option").await;
    }
    app.screenshot("08-deactivate").await;
    app.click("deactivate-confirm").await;
    app.wait_text("detail-status", |t| {
        t.to_lowercase().contains("deactivated")
    })
    .await;
    assert!(server.status_of(ORG, &tech_id).await == "deactivated");

    // --- suspend and see the session cut --------------------------------------------
    let session = server.token(ORG, &email, "Quiet-Harbor-5813!k").await;
    let nova_id = server.id_of(ORG, &email).await;
    assert_ne!(
        server.probe(ORG, &nova_id, &session).await,
        401,
        "signed in"
    );
    open_user(&app, &email).await;
    app.click("action-suspend").await;
    app.screenshot("09-suspend-confirm").await;
    app.click("confirm-ok").await;
    app.wait_text("detail-status", |t| t.to_lowercase().contains("suspended"))
        .await;
    assert_eq!(
        server.probe(ORG, &nova_id, &session).await,
        401,
        "suspending cut the session"
    );

    // --- offline: browse and search, writes refused -----------------------------------
    server.stop().await;
    app.click("sync").await;
    app.find("offline-banner").await;
    app.click("nav-users").await;
    app.fill("user-search", &email).await;
    app.wait_text("user-count", |t| t.starts_with("1 of")).await;
    app.click("user-row").await;
    app.find("user-detail").await;
    let unsuspend = app.find("action-unsuspend").await;
    assert!(
        unsuspend.attr("disabled").await.expect("attr").is_some(),
        "writes are off while offline"
    );
    app.screenshot("10-offline").await;

    // --- back online by itself --------------------------------------------------------
    server.resume().await;
    app.wait_gone("offline-banner").await;
    app.click("nav-audit").await;
    app.find("audit-row").await;
    app.screenshot("11-audit").await;

    app.close().await;
    server.stop().await;
}

/// Finds a user by email in the table and opens them.
/// Waits for a toast, then checks that none covers a button of the user page's actions.
async fn assert_no_toast_covers_actions(app: &App) {
    let mut shown = (0, Vec::new());
    for _ in 0..50 {
        shown = app.toasts_covering("aside.actions button").await;
        if shown.0 > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(shown.0 > 0, "the reset link is announced");
    assert!(shown.1.is_empty(), "a toast covers {:?}", shown.1);
}

async fn open_user(app: &App, email: &str) {
    app.click("nav-users").await;
    app.fill("user-search", email).await;
    app.wait_text("user-count", |t| t.starts_with("1 of")).await;
    app.click("user-row").await;
    app.find("user-detail").await;
    tokio::time::sleep(Duration::from_millis(100)).await;
}
