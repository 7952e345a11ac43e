//! The transport under faults a real server does not produce on demand, injected by the
//! proxy in front of a real muster-server: retries only for requests that may be repeated,
//! at most three attempts, `Retry-After` honoured, a POST sent exactly once, and errors
//! that say what happened without leaking a secret. Also the HTTPS and CA rules.

use std::time::{Duration, Instant};

use muster_core::auth::Tokens;
use muster_core::connection::Connection;
use muster_core::transport::{Answer, RetryPolicy, TransportConfig};
use muster_core::{Client, Code, Error, Secret};
use reqwest::Method;
use serde_json::{Value, json};

use muster_test_support::TestServer;
use muster_test_support::proxy::{Fault, Proxy};

/// Quick to fail and quick to retry, so the tests are fast.
fn fast() -> TransportConfig {
    TransportConfig {
        connect_timeout: Duration::from_secs(2),
        request_timeout: Duration::from_secs(5),
        retry: RetryPolicy {
            max_attempts: 3,
            base_delay: Duration::from_millis(10),
            max_delay: Duration::from_millis(40),
            max_retry_after: Duration::from_secs(5),
        },
        extra_ca_pem: None,
    }
}

/// A real server, the proxy in front of it, and an API-token client that talks to the
/// proxy.
struct Rig {
    _upstream: TestServer,
    proxy: Proxy,
    client: Client,
    token: String,
}

async fn rig(config: TransportConfig) -> Rig {
    let upstream = TestServer::start().await;
    let token = upstream.seed_org("acme");
    let proxy = Proxy::start(upstream.addr).await;
    let client = Client::from_tokens(
        Connection::muster(&proxy.base, "acme"),
        Tokens {
            access: Secret::new(token.clone()),
            refresh: None,
        },
        &config,
    )
    .expect("a loopback connection is valid");
    Rig {
        _upstream: upstream,
        proxy,
        client,
        token,
    }
}

impl Rig {
    async fn get(&self, path: &str) -> Result<Answer, Error> {
        self.client
            .send(Method::GET, path, &[], None, None, true)
            .await
    }

    /// Creates a user through the proxy (no fault scripted) and returns its id and ETag.
    async fn create_user(&self, user_name: &str) -> (String, String) {
        let answer = self
            .client
            .send(
                Method::POST,
                "/Users",
                &[],
                Some(&new_user(user_name)),
                None,
                false,
            )
            .await
            .expect("the server creates the user");
        let body: Value = answer.json().expect("the created user is JSON");
        let id = body["id"].as_str().expect("a created user has an id");
        let etag = answer
            .etag()
            .expect("the server tags each resource with an ETag");
        (id.to_owned(), etag)
    }

    /// How many users with this userName the server holds.
    async fn users_named(&self, user_name: &str) -> u64 {
        let filter = format!("userName eq \"{user_name}\"");
        let answer = self
            .client
            .send(
                Method::GET,
                "/Users",
                &[("filter", filter)],
                None,
                None,
                true,
            )
            .await
            .expect("the server lists users");
        let body: Value = answer.json().expect("a list is JSON");
        body["totalResults"]
            .as_u64()
            .expect("a list has totalResults")
    }
}

fn new_user(user_name: &str) -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": user_name,
        "displayName": format!("{user_name} (test)"),
        "emails": [{"value": format!("{user_name}@acme.example"), "primary": true}],
    })
}

/// Neither the message nor the serialised error holds `secret`.
fn assert_no_secret(error: &Error, secret: &str) {
    let shown = format!(
        "{error} | {error:?} | {}",
        serde_json::to_string(error).expect("errors serialise")
    );
    assert!(
        !shown.contains(secret),
        "an error shown to a person or sent to the UI must not carry a secret: {shown}"
    );
}

#[tokio::test]
async fn a_get_cut_off_mid_body_is_retried_and_succeeds() {
    let rig = rig(fast()).await;
    rig.proxy.script([Fault::CutMidBody]);
    let answer = rig
        .get("/Users")
        .await
        .expect("the second attempt gets the whole answer");
    assert_eq!(
        answer.attempts, 2,
        "one attempt was cut off, the next succeeded"
    );
    let faults: Vec<Fault> = rig
        .proxy
        .seen()
        .into_iter()
        .map(|seen| seen.fault)
        .collect();
    assert_eq!(
        faults,
        [Fault::CutMidBody, Fault::Pass],
        "the proxy saw the GET and its one retry"
    );
    let body: Value = answer.json().expect("the retried answer is whole JSON");
    assert!(
        body["totalResults"].is_u64(),
        "it is the server's list: {body}"
    );
}

#[tokio::test]
async fn a_stalled_get_is_retried_then_reported_offline() {
    let config = TransportConfig {
        request_timeout: Duration::from_millis(300),
        ..fast()
    };
    let rig = rig(config).await;
    rig.proxy.script([Fault::Stall, Fault::Stall, Fault::Stall]);
    let started = Instant::now();
    let error = rig.get("/Users").await.expect_err("every attempt stalls");
    assert_eq!(
        rig.proxy.count("GET"),
        3,
        "a stalled GET is tried max_attempts times, no more"
    );
    assert!(
        started.elapsed() >= Duration::from_millis(900),
        "each attempt waited for its timeout: {:?}",
        started.elapsed()
    );
    match &error {
        Error::Offline { host, reason } => {
            assert_eq!(host, "127.0.0.1", "the host tried is named");
            assert!(
                reason.contains("timed out") && reason.contains("3 attempts"),
                "the reason says what happened and how often: {reason}"
            );
        }
        other => panic!("a request that never gets an answer is Offline, got {other:?}"),
    }
    assert_eq!(error.code(), Code::Offline);
    assert_no_secret(&error, &rig.token);
}

#[tokio::test]
async fn a_503_then_200_succeeds_on_the_second_attempt() {
    let rig = rig(fast()).await;
    rig.proxy.script([Fault::unavailable()]);
    let answer = rig
        .get("/Users")
        .await
        .expect("the retry reaches the server");
    assert_eq!(answer.attempts, 2, "one 503, then success");
    assert_eq!(rig.proxy.count("GET"), 2);
}

#[tokio::test]
async fn three_503s_are_a_server_error_after_exactly_three_attempts() {
    let rig = rig(fast()).await;
    rig.proxy.script([
        Fault::unavailable(),
        Fault::unavailable(),
        Fault::unavailable(),
    ]);
    let error = rig
        .get("/Users")
        .await
        .expect_err("the server stays unavailable for every attempt");
    assert!(
        matches!(error, Error::Server { status: 503, .. }),
        "a 503 that outlasts the retries is a server error, got {error:?}"
    );
    assert_eq!(
        rig.proxy.count("GET"),
        3,
        "three attempts in all: the fourth request would have passed"
    );
}

#[tokio::test]
async fn a_429_with_retry_after_waits_that_long_and_succeeds() {
    let rig = rig(fast()).await;
    rig.proxy.script([Fault::retry_after(429, 1)]);
    let started = Instant::now();
    let answer = rig
        .get("/Users")
        .await
        .expect("after the wait the request passes");
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_millis(900),
        "Retry-After: 1 is honoured (not the 10 ms backoff): waited {waited:?}"
    );
    assert_eq!(answer.attempts, 2);
    assert_eq!(rig.proxy.count("GET"), 2);
}

#[tokio::test]
async fn a_503_with_retry_after_waits_that_long_and_succeeds() {
    let rig = rig(fast()).await;
    rig.proxy.script([Fault::retry_after(503, 1)]);
    let started = Instant::now();
    let answer = rig
        .get("/Users")
        .await
        .expect("after the wait the request passes");
    assert!(
        started.elapsed() >= Duration::from_millis(900),
        "a 503's Retry-After is honoured too: waited {:?}",
        started.elapsed()
    );
    assert_eq!(answer.attempts, 2);
}

#[tokio::test]
async fn a_retry_after_beyond_the_cap_is_rate_limited_at_once() {
    let rig = rig(fast()).await;
    for status in [429, 503] {
        rig.proxy.script([Fault::retry_after(status, 120)]);
        let started = Instant::now();
        let error = rig
            .get("/Users")
            .await
            .expect_err("the engine will not wait two minutes by itself");
        match &error {
            Error::RateLimited { retry_after, .. } => assert_eq!(
                *retry_after,
                Some(Duration::from_secs(120)),
                "the UI is told how long the server asked for ({status})"
            ),
            other => panic!(
                "a {status} asking for more than max_retry_after is RateLimited, got {other:?}"
            ),
        }
        assert_eq!(
            serde_json::to_value(&error).expect("errors serialise")["retryAfterSeconds"],
            120,
            "the wait crosses the IPC boundary"
        );
        assert_eq!(
            rig.proxy.count("GET"),
            1,
            "it gives up at once, without retrying ({status})"
        );
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "and without waiting"
        );
    }
}

#[tokio::test]
async fn invalid_json_is_a_protocol_error_that_masks_tokens() {
    let rig = rig(fast()).await;
    let leaked = "mst_at_Zq9xLw2Vb7Nc4Rt8Yp1Ks6Hd3Fg";
    rig.proxy.script([Fault::Body(format!(
        "<html>oops token={leaked} {{accessToken:{leaked}}}</html>"
    ))]);
    let answer = rig
        .get("/Users")
        .await
        .expect("a 200 is a success for the transport");
    assert_eq!(
        answer.attempts, 1,
        "a 200 is not retried, whatever its body"
    );
    let error = answer
        .json::<Value>()
        .expect_err("HTML is not the JSON promised");
    match &error {
        Error::Protocol { excerpt, .. } => {
            assert!(
                excerpt.starts_with("<html>oops"),
                "the excerpt shows how the answer began: {excerpt}"
            );
            assert!(
                !excerpt.contains("mst_at_") && excerpt.contains("<redacted>"),
                "a token in a malformed answer is masked in the excerpt: {excerpt}"
            );
        }
        other => panic!("a malformed answer is a protocol error, got {other:?}"),
    }
    assert_no_secret(&error, leaked);
}

#[tokio::test]
async fn a_post_meeting_a_503_is_sent_exactly_once() {
    let rig = rig(fast()).await;
    rig.proxy.script([Fault::unavailable()]);
    // The caller even claims the POST may be repeated; the transport knows better.
    let error = rig
        .client
        .send(
            Method::POST,
            "/Users",
            &[],
            Some(&new_user("once503")),
            None,
            true,
        )
        .await
        .expect_err("the one attempt met a 503");
    assert!(
        matches!(error, Error::Server { status: 503, .. }),
        "the 503 is surfaced, got {error:?}"
    );
    assert_eq!(rig.proxy.count("POST"), 1, "a POST is never sent twice");
}

#[tokio::test]
async fn a_post_cut_off_mid_body_is_sent_exactly_once() {
    let rig = rig(fast()).await;
    rig.proxy.script([Fault::CutMidBody]);
    let error = rig
        .client
        .send(
            Method::POST,
            "/Users",
            &[],
            Some(&new_user("oncecut")),
            None,
            true,
        )
        .await
        .expect_err("the answer was cut off");
    match &error {
        Error::Offline { reason, .. } => assert!(
            reason.contains("broke while the answer was arriving"),
            "the reason says the answer was cut off: {reason}"
        ),
        other => panic!("a cut-off answer is Offline, got {other:?}"),
    }
    assert_eq!(rig.proxy.count("POST"), 1, "a POST is never sent twice");
    assert_eq!(
        rig.users_named("oncecut").await,
        1,
        "the server did create the user, once: why the POST must not be resent"
    );
}

#[tokio::test]
async fn a_patch_is_retried_only_with_if_match() {
    let rig = rig(fast()).await;
    let (id, etag) = rig.create_user("patchy").await;
    let patch = json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "replace", "path": "displayName", "value": "Patchy"}],
    });
    let path = format!("/Users/{id}");

    rig.proxy.script([Fault::unavailable()]);
    let answer = rig
        .client
        .send(Method::PATCH, &path, &[], Some(&patch), Some(&etag), true)
        .await
        .expect("a conditional PATCH is retried past a 503");
    assert_eq!(answer.attempts, 2);
    assert_eq!(rig.proxy.count("PATCH"), 2);
    assert!(
        rig.proxy.seen().iter().all(|seen| seen.if_match),
        "both attempts carried If-Match"
    );

    rig.proxy.script([Fault::unavailable()]);
    let error = rig
        .client
        .send(Method::PATCH, &path, &[], Some(&patch), None, true)
        .await
        .expect_err("an unconditional PATCH gets one attempt");
    assert!(
        matches!(error, Error::Server { status: 503, .. }),
        "its 503 is surfaced, got {error:?}"
    );
    assert_eq!(
        rig.proxy.count("PATCH"),
        1,
        "a PATCH without If-Match could apply twice, so it is sent once"
    );
}

#[tokio::test]
async fn put_and_delete_are_retried() {
    let rig = rig(fast()).await;
    let (id, etag) = rig.create_user("putty").await;
    let path = format!("/Users/{id}");

    rig.proxy.script([Fault::unavailable()]);
    let mut replacement = new_user("putty");
    replacement["displayName"] = json!("Putty Replaced");
    let answer = rig
        .client
        .send(
            Method::PUT,
            &path,
            &[],
            Some(&replacement),
            Some(&etag),
            true,
        )
        .await
        .expect("a PUT is retried past a 503");
    assert_eq!((answer.attempts, rig.proxy.count("PUT")), (2, 2));
    let body: Value = answer.json().expect("the replaced user");
    assert_eq!(body["displayName"], "Putty Replaced");

    rig.proxy.script([Fault::CutMidBody]);
    let answer = rig
        .get(&path)
        .await
        .expect("a GET of one user is retried past a cut-off answer");
    assert_eq!(answer.attempts, 2);

    rig.proxy.script([Fault::Status {
        status: 502,
        retry_after: None,
    }]);
    let answer = rig
        .client
        .send(Method::DELETE, &path, &[], None, None, true)
        .await
        .expect("a DELETE is retried past a 502");
    assert_eq!((answer.attempts, rig.proxy.count("DELETE")), (2, 2));
    let gone = rig.get(&path).await.expect_err("the user was deleted");
    assert_eq!(gone.code(), Code::NotFound, "got {gone:?}");
}

#[test]
fn plain_http_is_refused_except_on_this_machine() {
    for url in ["http://muster.acme.example", "http://10.0.0.7:8650"] {
        let connection = Connection::muster(url, "acme");
        match connection.validate() {
            Err(Error::Validation { fields, .. }) => assert_eq!(
                fields.first().map(|field| field.field.as_str()),
                Some("url"),
                "the url field is blamed for {url}"
            ),
            other => panic!("plain http to {url} crosses a network in the clear: {other:?}"),
        }
        let client = Client::from_tokens(
            connection,
            Tokens {
                access: Secret::new("mst_api_x"),
                refresh: None,
            },
            &fast(),
        );
        assert!(
            matches!(client, Err(Error::Validation { .. })),
            "no client is built for http to {url}"
        );
    }
    for url in [
        "http://127.0.0.1:8650",
        "http://localhost:8650",
        "http://[::1]:8650",
        "https://muster.acme.example",
    ] {
        assert!(
            Connection::muster(url, "acme").validate().is_ok(),
            "{url} is allowed"
        );
    }
}

/// A self-signed CA ("Muster Test CA", P-256, valid to 2126) for the PEM checks.
const TEST_CA: &str = "-----BEGIN CERTIFICATE-----
MIIBijCCAS+gAwIBAgIUWy8oKz80OU1hF9AW7Wapjz+sq5AwCgYIKoZIzj0EAwIw
GTEXMBUGA1UEAwwOTXVzdGVyIFRlc3QgQ0EwIBcNMjYxMTIzMDcxNDEwWhgPMjEy
NjEwMzAwNzE0MTBaMBkxFzAVBgNVBAMMDk11c3RlciBUZXN0IENBMFkwEwYHKoZI
zj0CAQYIKoZIzj0DAQcDQgAEexxE9UNabFyZfGIu7dG7S+tlO6V7i+TLJ1YN4ka4
uZmfbkT+rgp/Pt36kJEnYtzv4UZsnrfvv5YSo2Nc4H/dv6NTMFEwHQYDVR0OBBYE
FAg3/tr5nfzWEbl9LScFXHwUyNjUMB8GA1UdIwQYMBaAFAg3/tr5nfzWEbl9LScF
XHwUyNjUMA8GA1UdEwEB/wQFMAMBAf8wCgYIKoZIzj0EAwIDSQAwRgIhANp0HXHF
Mnjb3z3VM3RkI2mGrmVaDRqj5sv8TN6B1EW3AiEAoGiigv523zp7ok11xeXpmwWW
fjm1fs15Kii6BA3JEqw=
-----END CERTIFICATE-----
";

#[test]
fn an_invalid_extra_ca_is_a_validation_error_on_its_field() {
    let client_with = |pem: &str| {
        let mut connection = Connection::muster("https://muster.acme.example", "acme");
        connection.extra_ca_pem = Some(pem.to_owned());
        Client::from_tokens(
            connection,
            Tokens {
                access: Secret::new("mst_api_x"),
                refresh: None,
            },
            &fast(),
        )
    };
    assert!(
        client_with(TEST_CA).is_ok(),
        "a real CA certificate is accepted"
    );
    let broken_base64 = TEST_CA.replace("MIIB", "!!!!");
    let not_a_certificate = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
    for (why, pem) in [
        ("no PEM block at all", "this is not a certificate"),
        ("a block that is not base64", broken_base64.as_str()),
        ("base64 that is not a certificate", not_a_certificate),
    ] {
        match client_with(pem) {
            Err(Error::Validation {
                fields, message, ..
            }) => assert_eq!(
                fields.first().map(|field| field.field.as_str()),
                Some("extraCaPem"),
                "{why}: the CA field is blamed ({message})"
            ),
            other => panic!("{why} must be refused as invalid input, got {other:?}"),
        }
    }
}
