//! Bulk work in the real app, against a real server: three people deactivated at once,
//! one of whom still holds work that nobody was chosen to take over. The summary names
//! that one and the other two are done; "Retry failed" asks again for just that person,
//! a replacement is chosen, and the retry finishes the job. The server agrees each time.

use muster_e2e::{App, PASSWORD, Server};

const ORG: &str = "e2e-bulk";
const DOMAIN: &str = "e2e-bulk.test";
/// What the three people share, so one search finds exactly them.
const PHONE: &str = "+1 555 0199";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bulk_deactivate_with_a_failure_and_a_retry() {
    let mut server = Server::start(ORG, 120).await;
    // A technician who holds work (the seed gives technicians properties and tasks), and
    // two people who hold none.
    let (_, holder) = server.active_technician(ORG, 0).await;
    let free = [
        server
            .create_viewer(ORG, &format!("fran.free@{DOMAIN}"))
            .await,
        server
            .create_viewer(ORG, &format!("finn.free@{DOMAIN}"))
            .await,
    ];
    for id in free.iter().chain([&holder]) {
        server.set_phone(ORG, id, PHONE).await;
    }

    let app = App::launch().await;
    app.connect_and_sign_in(
        "Bulk",
        &server.url,
        ORG,
        &format!("admin@{DOMAIN}"),
        PASSWORD,
    )
    .await;

    // Find the three, select them all, deactivate with no replacement chosen.
    app.fill("user-search", PHONE).await;
    app.wait_text("user-count", |t| t.starts_with("3 of")).await;
    app.click("select-all").await;
    app.wait_text("selection-count", |t| t.starts_with("3 selected"))
        .await;
    app.click("bulk-action-deactivate").await;
    app.screenshot("bulk-01-deactivate").await;
    app.click("bulk-confirm").await;
    app.find("bulk-summary").await;
    assert_eq!(app.text("bulk-summary-done").await, "2");
    assert_eq!(app.text("bulk-summary-failed").await, "1");
    let failed = app.find("bulk-failed-row").await;
    assert_eq!(
        failed.attr("data-id").await.expect("attr").as_deref(),
        Some(holder.as_str()),
        "the summary names the one who holds work"
    );
    app.screenshot("bulk-02-summary").await;
    for id in &free {
        assert_eq!(server.status_of(ORG, id).await, "deactivated");
    }
    assert_eq!(
        server.status_of(ORG, &holder).await,
        "active",
        "nothing was orphaned"
    );

    // Retry failed: the form again for that one person; choose who takes over.
    app.click("bulk-retry").await;
    let search = app.find("bulk-assignee-search").await;
    search.send_keys("a").await.expect("type");
    app.click("assignee-option").await;
    app.screenshot("bulk-03-retry").await;
    app.click("bulk-confirm").await;
    app.find("bulk-summary").await;
    assert_eq!(app.text("bulk-summary-failed").await, "0");
    assert_eq!(app.text("bulk-summary-done").await, "1");
    assert_eq!(server.status_of(ORG, &holder).await, "deactivated");
    app.click("bulk-close").await;

    app.close().await;
    server.stop().await;
}
