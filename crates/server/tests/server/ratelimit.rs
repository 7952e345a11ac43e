//! Rate limits over real HTTP: sign-ins per account and per client address, link emails
//! per sending account, and API requests per account.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use muster_server::ratelimit::{ApiRate, LimitSettings, Rule};
use serde_json::json;
use time::Duration;

use crate::support::{
    NewUser, PASSWORD, TestServer, scim_error, seed_org, seed_system_admin, seed_user, set_status,
};

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

#[tokio::test]
async fn the_api_limit_answers_429_per_account_and_recovers() {
    let server = TestServer::start_with_limits(LimitSettings {
        api: ApiRate::new(2, 3),
        ..LimitSettings::default()
    })
    .await;
    let acme = seed_org(&server, "acme");
    let admin = server.sign_in(Some("acme"), &acme.admin.email).await.access;
    let users = "/o/acme/scim/v2/Users";
    for n in 1..=3 {
        let response = server.get(users, &admin).await;
        assert_eq!(response.status(), 200, "request {n} of the burst of 3");
    }
    let response = server
        .get("/o/acme/scim/v2/ServiceProviderConfig", &admin)
        .await;
    assert_eq!(
        response.status(),
        429,
        "the fourth at once is refused, whatever SCIM endpoint it is for"
    );
    assert_eq!(
        retry_after(&response),
        1,
        "in whole seconds, rounded up from half a second"
    );
    let body = scim_error(response, 429).await;
    assert_eq!(body["status"], "429", "a SCIM error body: {body}");
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .contains("Too many requests"),
        "says why: {body}"
    );

    let again = server.sign_in(Some("acme"), &acme.admin.email).await.access;
    assert_eq!(
        server.get(users, &again).await.status(),
        429,
        "a new session of the same account shares its limit"
    );
    let viewer = server
        .sign_in(Some("acme"), &acme.viewer.email)
        .await
        .access;
    assert_eq!(
        server.get(users, &viewer).await.status(),
        200,
        "another account is not affected"
    );
    let api_token = server.write(|tx| {
        muster_server::admin::integration_token(tx, "acme", "robot", server.now()).unwrap()
    });
    assert_eq!(
        server.get(users, &api_token).await.status(),
        200,
        "nor is an API token of another account"
    );
    assert_eq!(
        server.get("/o/acme/audit", &admin).await.status(),
        200,
        "only the SCIM API is limited"
    );
    assert_eq!(
        server.get(users, "not-a-token").await.status(),
        401,
        "requests without valid credentials are refused as before"
    );

    server.advance(Duration::seconds(1));
    for n in 1..=2 {
        assert_eq!(
            server.get(users, &admin).await.status(),
            200,
            "a second later, the sustained rate of 2 is allowed again: {n}"
        );
    }
    assert_eq!(server.get(users, &admin).await.status(), 429, "and no more");
}

#[tokio::test]
async fn one_admin_may_invite_a_whole_shop_from_one_address() {
    let server = TestServer::start().await;
    let acme = seed_org(&server, "acme");
    let admin = server.sign_in(Some("acme"), &acme.admin.email).await.access;
    for n in 0..40 {
        let user = seed_user(
            &server,
            "acme",
            NewUser {
                user_name: &format!("new{n}"),
                role: "technician",
                licence: "field",
                active: true,
            },
        );
        set_status(&server, "acme", &user.id, "invited");
        let response = server
            .post(
                &format!("/o/acme/scim/v2/Users/{}/actions/send-welcome", user.id),
                &admin,
                &json!({}),
            )
            .await;
        assert_eq!(
            response.status(),
            200,
            "invitation {n}: more than the 30 an hour one address may request without \
             signing in"
        );
    }
}

#[tokio::test]
async fn link_emails_are_limited_per_sending_account() {
    let server = TestServer::start_with_limits(LimitSettings {
        link_sender: Rule::new(3, Duration::hours(1)),
        ..LimitSettings::default()
    })
    .await;
    let acme = seed_org(&server, "acme");
    let admin = server.sign_in(Some("acme"), &acme.admin.email).await.access;
    let root = server
        .sign_in(None, &seed_system_admin(&server))
        .await
        .access;
    let mut invited = Vec::new();
    for n in 0..5 {
        let user = seed_user(
            &server,
            "acme",
            NewUser {
                user_name: &format!("new{n}"),
                role: "technician",
                licence: "field",
                active: true,
            },
        );
        set_status(&server, "acme", &user.id, "invited");
        invited.push(user.id);
    }
    let welcome = |id: &str| format!("/o/acme/scim/v2/Users/{id}/actions/send-welcome");
    for id in &invited[..3] {
        let response = server.post(&welcome(id), &admin, &json!({})).await;
        assert_eq!(response.status(), 200, "within the sender's limit");
    }
    let response = server.post(&welcome(&invited[3]), &admin, &json!({})).await;
    assert!(retry_after(&response) >= 1, "429 says when to retry");
    let body = scim_error(response, 429).await;
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .contains("This account has sent too many"),
        "the fourth email from this admin waits, to whomever it goes: {body}"
    );
    let response = server.post(&welcome(&invited[3]), &root, &json!({})).await;
    assert_eq!(
        response.status(),
        200,
        "another sending account is not affected"
    );
    server.advance(Duration::hours(1));
    let admin = server.sign_in(Some("acme"), &acme.admin.email).await.access;
    let response = server.post(&welcome(&invited[4]), &admin, &json!({})).await;
    assert_eq!(
        response.status(),
        200,
        "an hour later the admin may send again"
    );
}

/// A client whose requests come from `address` (another loopback address: the server,
/// on 127.0.0.1, sees it as another machine).
fn client_from(address: &str) -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(address.parse::<std::net::IpAddr>().unwrap())
        .build()
        .unwrap()
}

async fn sign_in_from(
    server: &TestServer,
    client: &reqwest::Client,
    email: &str,
    password: &str,
) -> reqwest::Response {
    client
        .post(server.url("/auth/token"))
        .json(&json!({"org": "acme", "email": email, "password": password}))
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_guesser_is_held_back_while_the_owner_signs_in_from_elsewhere() {
    let server = TestServer::start().await;
    let acme = seed_org(&server, "acme");
    let guesser = client_from("127.0.0.2");
    for _ in 0..5 {
        let response = sign_in_from(&server, &guesser, &acme.admin.email, "wrong").await;
        assert_eq!(response.status(), 401);
    }
    let held = sign_in_from(&server, &guesser, &acme.admin.email, PASSWORD).await;
    assert_eq!(held.status(), 429, "the guessing address waits");
    let owner = sign_in_from(&server, &server.client, &acme.admin.email, PASSWORD).await;
    assert_eq!(
        owner.status(),
        200,
        "the owner, elsewhere, is not locked out"
    );
}

#[tokio::test]
async fn guesses_from_many_addresses_lock_the_account_and_the_lock_is_audited() {
    let server = TestServer::start_with_limits(LimitSettings {
        sign_in_account: Rule::new(6, Duration::minutes(15)),
        ..LimitSettings::default()
    })
    .await;
    let acme = seed_org(&server, "acme");
    for address in ["127.0.0.2", "127.0.0.3"] {
        let guesser = client_from(address);
        for _ in 0..3 {
            let response = sign_in_from(&server, &guesser, &acme.admin.email, "wrong").await;
            assert_eq!(response.status(), 401);
        }
    }
    let owner = sign_in_from(&server, &server.client, &acme.admin.email, PASSWORD).await;
    let body = scim_error(owner, 429).await;
    assert!(
        body["detail"].as_str().unwrap().contains("locked"),
        "{body}"
    );
    let locks: i64 = server.write(|tx| {
        tx.query_row(
            "SELECT COUNT(*) FROM audit WHERE action = 'session.account_locked' AND target_id = ?1",
            [&acme.admin.id],
            |row| row.get(0),
        )
        .unwrap()
    });
    assert_eq!(locks, 1, "the lock is in the audit log, once");
}
