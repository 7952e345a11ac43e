//! An admin's API tokens in the real app, against a real server: open the screen, issue a
//! token for an integration account, see its secret once (and that it works), revoke it
//! after confirming (and that it stops working at once). A screenshot of the list, the
//! form, the one-time secret and the confirmation lands in `target/e2e-screenshots/`.

use muster_e2e::{App, PASSWORD, Server};

const ORG: &str = "e2e-tokens";
const DOMAIN: &str = "e2e-tokens.test";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_issues_and_revokes_an_api_token() {
    let mut server = Server::start(ORG, 40).await;
    // An integration account with a token of its own, issued on the server's command line.
    let first = server.integration(ORG, "payroll-sync").await;
    let found = server
        .list_users(ORG, &[("filter", r#"userName eq "payroll-sync""#)])
        .await;
    let owner = found["Resources"][0]["id"]
        .as_str()
        .expect("the integration account")
        .to_owned();

    let app = App::launch().await;
    app.connect_and_sign_in(
        "Tokens",
        &server.url,
        ORG,
        &format!("admin@{DOMAIN}"),
        PASSWORD,
    )
    .await;
    app.click("nav-api-tokens").await;
    app.find("token-row").await;
    let listed = app.text("api-tokens-table").await;
    assert!(
        listed.contains("payroll-sync"),
        "the account is named: {listed}"
    );
    assert!(!listed.contains(&first), "a listing never shows a secret");
    app.screenshot("20-api-tokens").await;

    // --- issue one ---------------------------------------------------------------------
    app.click("token-new").await;
    app.find("token-form").await;
    app.find_css(&format!(
        r#"[data-testid="token-owner"] option[value="{owner}"]"#
    ))
    .await
    .click()
    .await
    .expect("the account is chosen");
    app.fill("token-name", "Nightly roster sync").await;
    app.click("token-scope-provision").await;
    app.find_css(r#"[data-testid="token-expiry"] option[value="30"]"#)
        .await
        .click()
        .await
        .expect("30 days is chosen");
    app.screenshot("21-api-token-issue").await;
    app.click("token-issue").await;

    let secret = app
        .find("token-secret")
        .await
        .prop("value")
        .await
        .expect("the field's value")
        .unwrap_or_default();
    assert!(
        secret.starts_with("mst_api_"),
        "the new token is shown: {secret:?}"
    );
    let warning = app.text("token-secret-warning").await;
    assert!(warning.contains("only time"), "{warning}");
    assert_eq!(
        server.probe(ORG, &owner, &secret).await,
        200,
        "the token works at once"
    );
    app.screenshot("22-api-token-secret").await;
    app.click("token-secret-done").await;
    app.wait_gone("token-secret").await;
    let listed = app
        .wait_text("api-tokens-table", |t| t.contains("Nightly roster sync"))
        .await;
    assert!(!listed.contains(&secret), "gone from the screen once done");

    // --- revoke it ---------------------------------------------------------------------
    app.find_css(r#"[data-testid="token-revoke"][aria-label="Revoke Nightly roster sync"]"#)
        .await
        .click()
        .await
        .expect("the revoke button is clicked");
    app.find("confirm-dialog").await;
    app.screenshot("23-api-token-revoke").await;
    app.click("confirm-ok").await;
    app.wait_gone("confirm-dialog").await;
    app.wait_text("api-tokens-table", |t| !t.contains("Nightly roster sync"))
        .await;
    assert_eq!(
        server.probe(ORG, &owner, &secret).await,
        401,
        "a revoked token stops working at once"
    );
    assert_eq!(
        server.probe(ORG, &owner, &first).await,
        200,
        "the other token is untouched"
    );

    app.close().await;
    server.stop().await;
}
