//! Signing in to a real muster-server: password, the TOTP step, transparent refresh with
//! rotating refresh tokens (one refresh however many calls meet the expiry), revoked API
//! tokens, sign-out; and that no secret shows in a client's Debug or in any error.
//! Where a test must count refreshes, the client talks through the proxy (passing
//! everything) so its log can be read.

use std::time::Duration;

use muster_core::auth::{self, Credentials, Tokens};
use muster_core::client::SignIn;
use muster_core::connection::Connection;
use muster_core::transport::{Answer, RetryPolicy, Transport, TransportConfig};
use muster_core::{Client, Code, Error, Secret};
use muster_server::Config;
use reqwest::Method;
use serde_json::{Value, json};
use tokio::task::JoinSet;
use totp_rs::{Algorithm, TOTP};

use muster_test_support::TestServer;
use muster_test_support::proxy::Proxy;

const EMAIL: &str = "ada@acme.example";
const PASSWORD: &str = "Lantern-Orchard-42-quill";
/// Access tokens live a minute on these servers, so a test can outlive one.
const ACCESS_TTL: Duration = Duration::from_secs(60);

fn config() -> TransportConfig {
    TransportConfig {
        connect_timeout: Duration::from_secs(2),
        // Sign-in runs argon2 on the server: generous, for a busy machine.
        request_timeout: Duration::from_secs(30),
        retry: RetryPolicy {
            max_attempts: 3,
            base_delay: Duration::from_millis(10),
            max_delay: Duration::from_millis(40),
            max_retry_after: Duration::from_secs(5),
        },
        extra_ca_pem: None,
    }
}

/// A server with a one-minute access TTL, org `acme` with an API token and the admin
/// `ada` (password [`PASSWORD`]), and a proxy in front of it that passes everything.
struct Rig {
    upstream: TestServer,
    proxy: Proxy,
    api_token: String,
}

async fn rig() -> Rig {
    let upstream = TestServer::start_with_config(Config {
        access_token_ttl: ACCESS_TTL,
        ..Config::default()
    })
    .await;
    let api_token = upstream.seed_org("acme");
    upstream.seed_admin("acme", "ada", EMAIL, PASSWORD);
    let proxy = Proxy::start(upstream.addr).await;
    Rig {
        upstream,
        proxy,
        api_token,
    }
}

impl Rig {
    /// The org at the server itself.
    fn direct(&self) -> Connection {
        Connection::muster(&self.upstream.base, "acme")
    }

    /// The org through the proxy, whose log counts requests.
    fn proxied(&self) -> Connection {
        Connection::muster(&self.proxy.base, "acme")
    }

    /// Requests to `/auth/refresh` since the proxy's last script.
    fn refreshes(&self) -> usize {
        self.proxy
            .seen()
            .iter()
            .filter(|seen| seen.target == "/auth/refresh")
            .count()
    }
}

fn password() -> Credentials {
    Credentials::Password {
        email: EMAIL.to_owned(),
        password: Secret::new(PASSWORD),
    }
}

/// Signs ada in; she has no two-factor.
async fn sign_in(connection: Connection) -> Client {
    match Client::sign_in(connection, password(), &config())
        .await
        .expect("the right password signs in")
    {
        SignIn::Done(client) => client,
        SignIn::MfaRequired(_) => panic!("ada has no two-factor yet"),
    }
}

async fn list_users(client: &Client) -> Result<Answer, Error> {
    client
        .send(Method::GET, "/Users", &[], None, None, true)
        .await
}

/// None of `secrets` shows in `shown`.
fn assert_hidden(shown: &str, secrets: &[&str], what: &str) {
    for secret in secrets {
        assert!(
            !shown.contains(secret),
            "{what} must not show a secret, but shows {secret:?}: {shown}"
        );
    }
}

/// The error's message, Debug and IPC form hold none of `secrets`.
fn assert_error_hides(error: &Error, secrets: &[&str]) {
    let shown = format!(
        "{error} | {error:?} | {}",
        serde_json::to_string(error).expect("errors serialise")
    );
    assert_hidden(&shown, secrets, "an error");
}

/// The client's Debug holds neither of its tokens nor the password.
async fn assert_client_hides_secrets(client: &Client) {
    let tokens = client.tokens().await;
    let mut secrets = vec![tokens.access.expose().to_owned(), PASSWORD.to_owned()];
    secrets.extend(tokens.refresh.map(|refresh| refresh.expose().to_owned()));
    let secrets: Vec<&str> = secrets.iter().map(String::as_str).collect();
    assert_hidden(&format!("{client:?}"), &secrets, "a client's Debug");
}

#[tokio::test]
async fn a_password_signs_in_to_a_session_with_a_refresh_token() {
    let rig = rig().await;
    let client = sign_in(rig.direct()).await;
    let account = client.account().expect("a password sign-in says who");
    assert_eq!(
        (account.display_name.as_str(), account.role.as_str()),
        ("ada of acme", "admin"),
        "the server's account summary is kept"
    );
    let tokens = client.tokens().await;
    assert!(
        tokens.access.expose().starts_with("mst_at_"),
        "an access token"
    );
    assert!(
        tokens
            .refresh
            .as_ref()
            .is_some_and(|refresh| refresh.expose().starts_with("mst_rt_")),
        "a session has a refresh token"
    );
    list_users(&client).await.expect("the session reaches SCIM");
    assert_client_hides_secrets(&client).await;

    let wrong = Client::sign_in(
        rig.direct(),
        Credentials::Password {
            email: EMAIL.to_owned(),
            password: Secret::new("Wrong-Password-1!"),
        },
        &config(),
    )
    .await
    .expect_err("a wrong password does not sign in");
    assert_eq!(wrong.code(), Code::Unauthorized, "got {wrong:?}");
    assert_error_hides(&wrong, &["Wrong-Password-1!", PASSWORD]);
}

/// ada's TOTP generator, from the secret the server handed out at enrolment.
fn authenticator(secret: &str) -> TOTP {
    let bytes = totp_rs::Secret::Encoded(secret.to_owned())
        .to_bytes()
        .expect("the enrolment secret is base32");
    TOTP::new(Algorithm::SHA1, 6, 1, 30, bytes).expect("a valid TOTP setup")
}

fn unix(at: time::OffsetDateTime) -> u64 {
    u64::try_from(at.unix_timestamp()).expect("after 1970")
}

#[tokio::test]
async fn two_factor_asks_for_a_code_and_refuses_a_wrong_one() {
    let rig = rig().await;
    let client = sign_in(rig.direct()).await;
    let root = client.root();
    let enrolment: Value = client
        .send(
            Method::POST,
            &format!("{root}/auth/mfa/enroll"),
            &[],
            Some(&json!({"password": PASSWORD})),
            None,
            false,
        )
        .await
        .expect("a signed-in user enrols")
        .json()
        .expect("the enrolment is JSON");
    let secret = enrolment["secret"]
        .as_str()
        .expect("the enrolment carries the secret");
    let totp = authenticator(secret);
    client
        .send(
            Method::POST,
            &format!("{root}/auth/mfa/confirm"),
            &[],
            Some(&json!({"code": totp.generate(unix(rig.upstream.now()))})),
            None,
            false,
        )
        .await
        .expect("the current code confirms the enrolment");
    // A code is accepted once per 30-second step: move on to a fresh one.
    rig.upstream.advance(time::Duration::seconds(30));

    let pending = match Client::sign_in(rig.direct(), password(), &config())
        .await
        .expect("the password is right")
    {
        SignIn::MfaRequired(pending) => pending,
        SignIn::Done(_) => panic!("with two-factor on, a password alone must not sign in"),
    };
    assert_hidden(
        &format!("{pending:?}"),
        &["mst_mfa_", PASSWORD],
        "a pending sign-in's Debug",
    );

    let now = unix(rig.upstream.now());
    let valid: Vec<String> = [now - 30, now, now + 30]
        .into_iter()
        .map(|at| totp.generate(at))
        .collect();
    let wrong = (0..1_000_000)
        .map(|n| format!("{n:06}"))
        .find(|code| !valid.contains(code))
        .expect("some code is wrong");
    let error = pending
        .complete(&wrong)
        .await
        .expect_err("a wrong code does not sign in");
    assert_eq!(error.code(), Code::Unauthorized, "got {error:?}");
    assert_error_hides(&error, &[&wrong, secret, PASSWORD]);

    let signed_in = pending
        .complete(&totp.generate(now))
        .await
        .expect("the right code, on the same challenge, signs in");
    assert_eq!(
        signed_in.account().map(|account| account.role.as_str()),
        Some("admin")
    );
    list_users(&signed_in)
        .await
        .expect("the two-factor session reaches SCIM");
    assert_client_hides_secrets(&signed_in).await;
}

#[tokio::test]
async fn an_expired_access_token_is_refreshed_transparently() {
    let rig = rig().await;
    let client = sign_in(rig.proxied()).await;
    let before = client.tokens().await;
    rig.upstream
        .advance(time::Duration::seconds(ACCESS_TTL.as_secs() as i64 + 1));
    rig.proxy.script([]);

    list_users(&client)
        .await
        .expect("the call after expiry succeeds through one refresh");
    assert_eq!(rig.refreshes(), 1, "exactly one refresh");
    assert_eq!(
        rig.proxy.count("GET"),
        2,
        "the GET met a 401, then was sent again with the new token"
    );
    let after = client.tokens().await;
    assert_ne!(
        after.access, before.access,
        "the client holds the new access token"
    );
    assert_ne!(
        after.refresh, before.refresh,
        "the refresh token rotated with it"
    );
    assert_client_hides_secrets(&client).await;

    // The spent refresh token is refused; the server takes its reuse as a theft and ends
    // the session, which the client then reports as such.
    let old_refresh = before.refresh.expect("a session has a refresh token");
    let transport = Transport::new(&config()).expect("a transport");
    let error = auth::refresh(&transport, &rig.direct(), &old_refresh)
        .await
        .expect_err("a rotated refresh token no longer works");
    assert_eq!(error.code(), Code::Unauthorized, "got {error:?}");
    assert_error_hides(&error, &[old_refresh.expose()]);
    let ended = list_users(&client)
        .await
        .expect_err("reuse of a refresh token ended the session");
    assert_eq!(ended.code(), Code::Unauthorized, "got {ended:?}");
    assert!(
        ended.to_string().contains("sign in again"),
        "the message says what to do: {ended}"
    );
    let now_tokens = client.tokens().await;
    assert_error_hides(&ended, &[now_tokens.access.expose(), after.access.expose()]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_calls_after_expiry_share_one_refresh() {
    let rig = rig().await;
    let client = sign_in(rig.proxied()).await;
    let before = client.tokens().await;
    rig.upstream
        .advance(time::Duration::seconds(ACCESS_TTL.as_secs() as i64 + 1));
    rig.proxy.script([]);

    let mut calls = JoinSet::new();
    for _ in 0..8 {
        let client = client.clone();
        calls.spawn(async move { list_users(&client).await.map(|answer| answer.status) });
    }
    let mut succeeded = 0;
    while let Some(joined) = calls.join_next().await {
        let status = joined
            .expect("the call did not panic")
            .expect("every call succeeds: one refresh served them all");
        assert!(status.is_success());
        succeeded += 1;
    }
    assert_eq!(succeeded, 8);
    assert_eq!(
        rig.refreshes(),
        1,
        "eight calls meeting the expiry refresh once (a second refresh with the same \
         token would be taken for theft and end the session)"
    );
    let gets = rig.proxy.count("GET");
    assert!(
        (9..=16).contains(&gets),
        "each call was sent at most twice, and some met the 401: {gets} GETs"
    );
    let after = client.tokens().await;
    assert_ne!(
        after.access, before.access,
        "the clones share the new tokens"
    );
    list_users(&client)
        .await
        .expect("the session was not revoked by reuse detection");
    assert_eq!(rig.refreshes(), 1, "and no further refresh was needed");
}

#[tokio::test]
async fn a_revoked_api_token_is_unauthorized_without_a_refresh() {
    let rig = rig().await;
    let robot = Client::from_tokens(
        rig.proxied(),
        Tokens {
            access: Secret::new(rig.api_token.clone()),
            refresh: None,
        },
        &config(),
    )
    .expect("a loopback connection");
    list_users(&robot).await.expect("the API token works");

    let admin = sign_in(rig.direct()).await;
    let tokens_url = format!("{}/o/acme/api-tokens", admin.root());
    let listed: Value = admin
        .send(Method::GET, &tokens_url, &[], None, None, true)
        .await
        .expect("an admin lists API tokens")
        .json()
        .expect("the list is JSON");
    let ids: Vec<&str> = listed["tokens"]
        .as_array()
        .expect("a list of tokens")
        .iter()
        .filter_map(|token| token["id"].as_str())
        .collect();
    assert_eq!(ids.len(), 1, "the org has the one API token: {listed}");
    admin
        .send(
            Method::DELETE,
            &format!("{tokens_url}/{}", ids[0]),
            &[],
            None,
            None,
            true,
        )
        .await
        .expect("an admin revokes it");

    rig.proxy.script([]);
    let error = list_users(&robot)
        .await
        .expect_err("a revoked token stops working");
    assert_eq!(error.code(), Code::Unauthorized, "got {error:?}");
    assert_eq!(rig.refreshes(), 0, "an API token has nothing to refresh");
    assert_eq!(rig.proxy.count("GET"), 1, "and a 401 is not retried");
    assert_error_hides(&error, &[&rig.api_token]);
    assert_hidden(&format!("{robot:?}"), &[&rig.api_token], "a client's Debug");
}

#[tokio::test]
async fn signing_out_ends_the_session() {
    let rig = rig().await;
    let client = sign_in(rig.proxied()).await;
    list_users(&client)
        .await
        .expect("signed in, the client works");
    let tokens = client.tokens().await;
    let refresh = tokens
        .refresh
        .clone()
        .expect("a session has a refresh token");

    client
        .sign_out()
        .await
        .expect("the server ends the session");
    rig.proxy.script([]);
    let error = list_users(&client)
        .await
        .expect_err("after sign-out the client is not signed in");
    assert_eq!(error.code(), Code::Unauthorized, "got {error:?}");
    assert_eq!(
        rig.refreshes(),
        0,
        "a signed-out client does not try to refresh its way back in"
    );
    assert_error_hides(&error, &[tokens.access.expose(), refresh.expose()]);

    let transport = Transport::new(&config()).expect("a transport");
    let error = auth::refresh(&transport, &rig.direct(), &refresh)
        .await
        .expect_err("the session's refresh token died with it");
    assert_eq!(error.code(), Code::Unauthorized, "got {error:?}");
    client
        .sign_out()
        .await
        .expect("signing out twice is harmless");
}
