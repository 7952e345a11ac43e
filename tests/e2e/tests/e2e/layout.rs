//! Every screen at three window sizes (1024×768, 1280×800, 1920×1080): a screenshot of
//! each, no form field spilling out of its card, and axe-core (the accessibility engine,
//! from npm) finding no serious or critical violation. (A system admin's Organisations
//! screen is checked the same way in `orgs`, signed in as one.)

use std::time::Duration;

use muster_e2e::{App, PASSWORD, Server, root};
use serde_json::Value;

const ORG: &str = "e2e-layout";
const DOMAIN: &str = "e2e-layout.test";
pub(crate) const SIZES: [(u32, u32); 3] = [(1024, 768), (1280, 800), (1920, 1080)];

/// axe-core's serious and critical violations on the page as it is, one line each.
async fn violations(app: &App) -> Vec<String> {
    let script = r#"
        const done = arguments[arguments.length - 1];
        // label-content-name-mismatch is tagged experimental, so off unless asked for.
        axe.run(document, {
          resultTypes: ["violations"],
          rules: { "label-content-name-mismatch": { enabled: true } },
        })
          .then((result) => done(result.violations
            .filter((v) => v.impact === "serious" || v.impact === "critical")
            .map((v) => `${v.id} (${v.impact}): ${v.help} at ${v.nodes.slice(0, 3)
              .map((n) => n.target.join(" ")).join(" | ")}`)))
          .catch((error) => done([`axe did not run: ${error}`]));
    "#;
    let found = app
        .client
        .execute_async(script, Vec::new())
        .await
        .expect("axe runs in the webview");
    lines(&found)
}

/// The script's answer, a list of lines; anything else fails the test (a check that
/// could not run must not pass as "no problems").
fn lines(found: &Value) -> Vec<String> {
    found
        .as_array()
        .unwrap_or_else(|| panic!("the check answers with a list, not {found}"))
        .iter()
        .map(|line| line.as_str().expect("each line is text").to_owned())
        .collect()
}

/// Form cards whose content is wider than the card (a field spilling out).
async fn spilling(app: &App) -> Vec<String> {
    let script = r#"
        return [...document.querySelectorAll(".panel")]
          .filter((card) => card.scrollWidth > card.clientWidth + 1
            && !card.querySelector("[role=grid], .vt, table"))
          .map((card) => (card.querySelector("h2, h3")?.textContent ?? card.className).trim());
    "#;
    let found = app
        .client
        .execute(script, Vec::new())
        .await
        .expect("the page answers");
    lines(&found)
}

/// Screenshots the page as `layout-WxH-NAME` and collects its spills and violations.
pub(crate) async fn check(app: &App, size: (u32, u32), name: &str, problems: &mut Vec<String>) {
    let shot = format!("layout-{}x{}-{name}", size.0, size.1);
    app.screenshot(&shot).await;
    for spill in spilling(app).await {
        problems.push(format!("{shot}: the card '{spill}' is wider than its room"));
    }
    for violation in violations(app).await {
        problems.push(format!("{shot}: {violation}"));
    }
}

/// Fails the test with every problem [`check`] found, if any.
pub(crate) fn no_problems(problems: &[String]) {
    assert!(
        problems.is_empty(),
        "layout and accessibility problems:\n{}",
        problems.join("\n")
    );
}

pub(crate) async fn resize(app: &App, (width, height): (u32, u32)) {
    app.client
        .set_window_size(width, height)
        .await
        .expect("the window is resized");
    tokio::time::sleep(Duration::from_millis(400)).await;
}

/// Loads axe-core into the page (again after a reload would be needed; the app is a
/// single page, so once per launch).
pub(crate) async fn load_axe(app: &App) {
    let axe = std::fs::read_to_string(root().join("ui/node_modules/axe-core/axe.min.js"))
        .expect("axe-core is installed with the console's npm packages (scripts/ui)");
    app.client
        .execute(&axe, Vec::new())
        .await
        .expect("axe-core loads into the webview");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_screen_fits_three_sizes_and_passes_axe() {
    let mut server = Server::start(ORG, 150).await;
    let app = App::launch().await;
    load_axe(&app).await;
    let mut problems = Vec::new();

    // First run: the connection form, then the sign-in card.
    app.find("profile-name").await;
    for size in SIZES {
        resize(&app, size).await;
        check(&app, size, "first-run", &mut problems).await;
    }
    app.fill("profile-name", "Layout").await;
    app.fill("profile-url", &server.url).await;
    app.fill("profile-org", ORG).await;
    app.click("profile-save").await;
    app.click("profile-open-Layout").await;
    app.find("signin-email").await;
    for size in SIZES {
        resize(&app, size).await;
        check(&app, size, "sign-in", &mut problems).await;
    }
    app.fill("signin-email", &format!("admin@{DOMAIN}")).await;
    app.fill("signin-password", PASSWORD).await;
    app.click("signin-submit").await;
    app.find("user-row").await;

    // Signed in: every screen of the console. (click, then what shows it is ready)
    let screens: [(&str, &str, &str); 11] = [
        ("users", "nav-users", "user-row"),
        ("user", "user-row", "user-detail"),
        ("import", "users-import", "import-pick"),
        ("invite", "nav-create", "form-givenName"),
        ("groups", "nav-groups", "group-new-name"),
        ("review", "nav-review", "review-licences"),
        ("audit", "nav-audit", "audit-row"),
        ("api-tokens", "nav-api-tokens", "api-tokens-table"),
        ("settings", "nav-settings", "settings-policy-preview"),
        ("connections", "nav-connections", "current-profile"),
        ("account", "nav-account", "account-mfa"),
    ];
    for size in SIZES {
        resize(&app, size).await;
        for (name, click, ready) in screens {
            if matches!(name, "user" | "import") {
                app.click("nav-users").await;
                app.find("user-row").await;
            }
            app.click(click).await;
            app.find(ready).await;
            check(&app, size, name, &mut problems).await;
        }
    }
    no_problems(&problems);
    app.close().await;
    server.stop().await;
}
