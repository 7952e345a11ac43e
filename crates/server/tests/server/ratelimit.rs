//! Sign-in rate limits: per account and per client address, over real HTTP.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use muster_server::ratelimit::{LimitSettings, Rule};
use time::Duration;

use crate::support::{PASSWORD, TestServer, scim_error, seed_org};

fn retry_after(response: &reqwest::Response) -> u64 {
    response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap()
}

#[tokio::test]
async fn the_sixth_bad_password_locks_the_account_until_the_window_clears() {
    let server = TestServer::start().await;
    let acme = seed_org(&server, "acme");
    for attempt in 1..=5 {
        // Email and userName are the same account: both count against it.
        let login = if attempt % 2 == 0 {
            acme.admin.email.clone()
        } else {
            acme.admin.user_name.to_uppercase()
        };
        let response = server.sign_in_raw(Some("acme"), &login, "wrong").await;
        assert_eq!(
            response.status(),
            401,
            "bad password {attempt} is just refused"
        );
        server.advance(Duration::minutes(1));
    }
    let response = server
        .sign_in_raw(Some("acme"), &acme.admin.email, "wrong")
        .await;
    assert_eq!(response.status(), 429, "the sixth attempt is rate limited");
    assert_eq!(
        retry_after(&response),
        10 * 60,
        "until the first failure, 5 minutes ago, is 15 minutes old"
    );
    let body = scim_error(response, 429).await;
    assert!(
        body["detail"].as_str().unwrap().contains("Too many"),
        "says why: {body}"
    );
    let response = server
        .sign_in_raw(Some("acme"), &acme.admin.email, PASSWORD)
        .await;
    assert_eq!(
        response.status(),
        429,
        "while locked, even the right password waits"
    );
    let response = server
        .sign_in_raw(Some("acme"), &acme.viewer.email, PASSWORD)
        .await;
    assert_eq!(response.status(), 200, "other accounts are not affected");

    server.advance(Duration::minutes(10));
    let response = server
        .sign_in_raw(Some("acme"), &acme.admin.email, PASSWORD)
        .await;
    assert_eq!(
        response.status(),
        200,
        "once the window clears, it works again"
    );
}

#[tokio::test]
async fn a_successful_sign_in_clears_the_account_count() {
    let server = TestServer::start().await;
    let acme = seed_org(&server, "acme");
    for _ in 0..4 {
        let response = server
            .sign_in_raw(Some("acme"), &acme.admin.email, "wrong")
            .await;
        assert_eq!(response.status(), 401, "a typo");
    }
    server.sign_in(Some("acme"), &acme.admin.email).await;
    for _ in 0..4 {
        let response = server
            .sign_in_raw(Some("acme"), &acme.admin.email, "wrong")
            .await;
        assert_eq!(
            response.status(),
            401,
            "failures are counted afresh after a success"
        );
    }
    server.sign_in(Some("acme"), &acme.admin.email).await;
}

#[tokio::test]
async fn unknown_logins_are_limited_too() {
    let server = TestServer::start().await;
    seed_org(&server, "acme");
    for _ in 0..5 {
        let response = server
            .sign_in_raw(Some("acme"), "ghost@acme.example", "x")
            .await;
        assert_eq!(response.status(), 401, "no such account");
    }
    let response = server
        .sign_in_raw(Some("acme"), " GHOST@acme.example", "x")
        .await;
    assert_eq!(
        response.status(),
        429,
        "probing a login that does not exist is limited the same way, so it does not stand out"
    );
}

#[tokio::test]
async fn one_client_address_is_limited_across_accounts() {
    let server = TestServer::start_with_limits(LimitSettings {
        sign_in_client: Rule::new(3, Duration::minutes(15)),
        ..LimitSettings::default()
    })
    .await;
    let acme = seed_org(&server, "acme");
    for login in [
        &acme.admin.email,
        &acme.viewer.email,
        &acme.technician.email,
    ] {
        let response = server.sign_in_raw(Some("acme"), login, "wrong").await;
        assert_eq!(response.status(), 401, "one failure for {login}");
    }
    let response = server
        .sign_in_raw(Some("acme"), &acme.admin.email, PASSWORD)
        .await;
    assert_eq!(
        response.status(),
        429,
        "the address that failed three times waits, whichever account it tries"
    );
    assert!(retry_after(&response) >= 1, "with a Retry-After");
    server.advance(Duration::minutes(15));
    let response = server
        .sign_in_raw(Some("acme"), &acme.admin.email, PASSWORD)
        .await;
    assert_eq!(response.status(), 200, "and may try again later");
}
