//! A system admin's organisations in the real app, against a real server: the list with
//! plans and statuses, creating one on a plan, suspending and reactivating it (each after
//! a confirmation), moving it to another plan, and deleting it once its id is typed (the
//! button waits until it is); the server's own audit log records it all, and a direct read
//! confirms each change. Screenshots of the screen, the form and the delete confirmation;
//! the screen at the three window sizes and the delete dialog pass the layout checks and
//! axe-core as every other screen does (`layout`).

use muster_e2e::{App, PASSWORD, Server};

use crate::layout;
use serde_json::Value;

const ORG: &str = "e2e-orgs";
const NEW: &str = "e2e-branch";
const SYSTEM_ADMIN: &str = "ops@e2e.test";
/// The window's size at launch, back after the layout checks.
const WINDOW: (u32, u32) = (1280, 800);

/// Organisation `id` as `GET /admin/orgs` lists it, if it is there.
async fn listed(server: &Server, id: &str) -> Option<Value> {
    let token = server.token(ORG, SYSTEM_ADMIN, PASSWORD).await;
    let list: Value = reqwest::Client::new()
        .get(format!("{}/admin/orgs", server.url))
        .bearer_auth(token)
        .send()
        .await
        .expect("the organisations request")
        .json()
        .await
        .expect("the organisations");
    list["orgs"]
        .as_array()
        .expect("a list")
        .iter()
        .find(|org| org["id"] == id)
        .cloned()
}

/// The button of `action` in the row of organisation `org`.
fn in_row(org: &str, action: &str) -> String {
    format!(r#"[data-org="{org}"] [data-testid="org-{action}"]"#)
}

/// Clicks `action` in the new organisation's row, picks `choose` in the dialog if given,
/// confirms, and waits for the row to match `shows` (an attribute selector).
async fn act(app: &App, action: &str, choose: Option<&str>, shows: &str) {
    app.find_css(&in_row(NEW, action))
        .await
        .click()
        .await
        .unwrap_or_else(|e| panic!("cannot click {action}: {e}"));
    app.find("confirm-dialog").await;
    if let Some(css) = choose {
        app.find_css(css).await.click().await.expect("the choice");
    }
    app.click("confirm-ok").await;
    app.find_css(&format!(r#"[data-org="{NEW}"]{shows}"#)).await;
}

/// Asserts the server lists the new organisation with `key` as `value`.
async fn saved(server: &Server, key: &str, value: &str) {
    let org = listed(server, NEW).await.expect("still there");
    assert_eq!(org[key], value, "as the screen says: {org}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_system_admin_manages_organisations() {
    let mut server = Server::start(ORG, 10).await;
    let app = App::launch().await;
    layout::load_axe(&app).await;
    let mut problems = Vec::new();
    app.connect_and_sign_in("Server", &server.url, ORG, SYSTEM_ADMIN, PASSWORD)
        .await;
    app.click("nav-orgs").await;
    app.find_css(&format!(r#"[data-org="{ORG}"][data-status="active"]"#))
        .await;
    app.wait_text("system-audit-table", |t| t.contains("session.sign_in"))
        .await;
    app.screenshot("40-orgs").await;
    for size in layout::SIZES {
        layout::resize(&app, size).await;
        layout::check(&app, size, "orgs", &mut problems).await;
    }
    layout::resize(&app, WINDOW).await;

    // --- create one on a plan ----------------------------------------------------------
    app.click("org-new").await;
    app.fill("org-id", NEW).await;
    app.fill("org-name", "Branch Office").await;
    app.find_css(r#"[data-testid="org-plan"] option[value="standard"]"#)
        .await
        .click()
        .await
        .expect("the standard plan is chosen");
    app.screenshot("41-org-create").await;
    app.click("org-create").await;
    app.find_css(&format!(r#"[data-org="{NEW}"][data-plan="standard"]"#))
        .await;
    let created = listed(&server, NEW).await.expect("created on the server");
    assert_eq!(created["name"], "Branch Office", "{created}");
    assert_eq!(created["plan"], "standard", "{created}");

    // --- suspend, reactivate, change the plan: each confirmed, each saved ---------------
    act(&app, "suspend", None, r#"[data-status="suspended"]"#).await;
    saved(&server, "status", "suspended").await;
    act(&app, "reactivate", None, r#"[data-status="active"]"#).await;
    saved(&server, "status", "active").await;
    let enterprise = r#"[data-testid="org-plan-choice"] option[value="enterprise"]"#;
    act(
        &app,
        "set-plan",
        Some(enterprise),
        r#"[data-plan="enterprise"]"#,
    )
    .await;
    saved(&server, "plan", "enterprise").await;

    // --- delete it, once its id is typed ------------------------------------------------
    app.find_css(&in_row(NEW, "delete"))
        .await
        .click()
        .await
        .expect("delete");
    app.find("org-delete-dialog").await;
    let ok = app.find("org-delete-ok").await;
    assert!(
        !ok.is_enabled().await.expect("enabled?"),
        "the delete button waits for the id"
    );
    app.fill("org-delete-confirm", "e2e-branc").await;
    assert!(
        !app.find("org-delete-ok")
            .await
            .is_enabled()
            .await
            .expect("enabled?"),
        "a near miss is not the id"
    );
    app.fill("org-delete-confirm", NEW).await;
    assert!(
        app.find("org-delete-ok")
            .await
            .is_enabled()
            .await
            .expect("enabled?"),
        "the id typed, the button can be pressed"
    );
    app.screenshot("42-org-delete").await;
    layout::check(&app, WINDOW, "org-delete", &mut problems).await;
    app.click("org-delete-ok").await;
    app.wait_gone("org-delete-dialog").await;
    assert!(
        listed(&server, NEW).await.is_none(),
        "deleted on the server"
    );
    let rows = app
        .client
        .find_all(fantoccini::Locator::Css(&format!(r#"[data-org="{NEW}"]"#)))
        .await
        .expect("the table's rows");
    assert!(rows.is_empty(), "and gone from the table");
    let log = app
        .wait_text("system-audit-table", |t| t.contains("org.delete"))
        .await;
    for action in [
        "org.create",
        "org.suspend",
        "org.reactivate",
        "org.set_plan",
    ] {
        assert!(
            log.contains(action),
            "{action} is in the server's log: {log}"
        );
    }
    app.screenshot("43-orgs-audit").await;
    layout::no_problems(&problems);

    app.close().await;
    server.stop().await;
}
