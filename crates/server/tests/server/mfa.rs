//! Two-factor sign-in (TOTP): enrolment, confirmation, the two-step sign-in, replay and
//! expiry, rate limits, and an admin's reset.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use muster_server::ratelimit::{LimitSettings, Rule};
use serde_json::{Value, json};
use time::{Duration, OffsetDateTime};
use totp_rs::{Algorithm, Secret, TOTP};

use crate::support::{
    NewUser, PASSWORD, TestServer, Tokens, scim_error, seed_org, seed_system_admin, seed_user,
};

/// The code an authenticator app shows at `at` for the base32 `secret`.
pub fn code_at(secret: &str, at: OffsetDateTime) -> String {
    let bytes = Secret::Encoded(secret.to_owned()).to_bytes().unwrap();
    let totp = TOTP::new(Algorithm::SHA1, 6, 1, 30, bytes).unwrap();
    totp.generate(u64::try_from(at.unix_timestamp()).unwrap())
}

/// A six-digit code that is not the right one at `at` (nor a step either side).
fn wrong_code(secret: &str, at: OffsetDateTime) -> String {
    let right: Vec<String> = [-30, 0, 30]
        .iter()
        .map(|s| code_at(secret, at + Duration::seconds(*s)))
        .collect();
    (0..1000)
        .map(|n| format!("{:06}", n * 7919 % 1_000_000))
        .find(|code| !right.contains(code))
        .unwrap()
}

/// Enrols and confirms the signed-in user; returns the secret.
pub async fn enable_mfa(server: &TestServer, access: &str) -> String {
    let response = server
        .post("/auth/mfa/enroll", access, &json!({"password": PASSWORD}))
        .await;
    assert_eq!(response.status(), 200, "enrolment starts");
    let body: Value = response.json().await.unwrap();
    let secret = body["secret"].as_str().unwrap().to_owned();
    let response = server
        .post(
            "/auth/mfa/confirm",
            access,
            &json!({"code": code_at(&secret, server.now())}),
        )
        .await;
    assert_eq!(response.status(), 200, "the current code confirms");
    let stored: Vec<String> = server.write(|tx| {
        let mut statement = tx.prepare("SELECT secret FROM mfa").unwrap();
        statement
            .query_map([], |row| row.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    });
    assert!(
        stored
            .iter()
            .all(|sealed| sealed.starts_with("v1:") && !sealed.contains(&secret)),
        "the database holds the secret sealed with the server key only"
    );
    secret
}

impl TestServer {
    /// `POST /auth/token` with a challenge and a code.
    pub async fn answer_challenge(&self, challenge: &str, code: &str) -> reqwest::Response {
        self.client
            .post(self.url("/auth/token"))
            .json(&json!({"challenge": challenge, "code": code}))
            .send()
            .await
            .unwrap()
    }

    /// Signs in with the password, expecting a two-factor challenge; returns it.
    pub async fn challenge(&self, org: &str, email: &str) -> String {
        let response = self.sign_in_raw(Some(org), email, PASSWORD).await;
        assert_eq!(response.status(), 200, "the password step succeeds");
        assert_eq!(
            response.headers()["cache-control"],
            "no-store",
            "a challenge is a secret too"
        );
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["mfaRequired"], true, "two-factor is asked for: {body}");
        assert_eq!(body["expiresIn"], 300, "challenges live five minutes");
        assert!(
            body.get("accessToken").is_none() && body.get("refreshToken").is_none(),
            "no tokens before the second factor: {body}"
        );
        body["challenge"].as_str().unwrap().to_owned()
    }
}

#[tokio::test]
async fn enrol_confirm_and_sign_in_with_a_code() {
    let server = TestServer::start().await;
    let acme = seed_org(&server, "acme");
    let tokens = server.sign_in(Some("acme"), &acme.admin.email).await;

    let response = server
        .post(
            "/auth/mfa/enroll",
            &tokens.access,
            &json!({"password": PASSWORD}),
        )
        .await;
    assert_eq!(response.status(), 200, "a signed-in user enrols");
    assert_eq!(
        response.headers()["cache-control"],
        "no-store",
        "the secret must not be cached"
    );
    let first: Value = response.json().await.unwrap();
    let first_secret = first["secret"].as_str().unwrap().to_owned();
    assert_eq!(
        first_secret.len(),
        32,
        "160 bits are 32 base32 characters: {first}"
    );
    assert_eq!(
        first["otpauthUrl"],
        format!("otpauth://totp/Muster:ada@acme.example?secret={first_secret}&issuer=Muster"),
        "authenticator apps read the key URI"
    );
    let url = reqwest::Url::parse(first["otpauthUrl"].as_str().unwrap()).unwrap();
    assert_eq!(url.scheme(), "otpauth", "a valid URL");

    let second: Value = server
        .post(
            "/auth/mfa/enroll",
            &tokens.access,
            &json!({"password": PASSWORD}),
        )
        .await
        .json()
        .await
        .unwrap();
    let secret = second["secret"].as_str().unwrap().to_owned();
    assert_ne!(
        secret, first_secret,
        "enrolling again replaces the pending secret"
    );
    let stale = json!({"code": code_at(&first_secret, server.now())});
    let body = scim_error(
        server
            .post("/auth/mfa/confirm", &tokens.access, &stale)
            .await,
        400,
    )
    .await;
    assert_eq!(
        body["scimType"], "invalidValue",
        "the replaced secret's code is wrong"
    );
    let wrong = json!({"code": wrong_code(&secret, server.now())});
    scim_error(
        server
            .post("/auth/mfa/confirm", &tokens.access, &wrong)
            .await,
        400,
    )
    .await;
    let enabled_before =
        server.write(|tx| muster_server::mfa::is_enabled(tx, "acme", &acme.admin.id).unwrap());
    assert!(!enabled_before, "pending until confirmed");

    let confirm_code = code_at(&secret, server.now());
    let response = server
        .post(
            "/auth/mfa/confirm",
            &tokens.access,
            &json!({"code": confirm_code}),
        )
        .await;
    assert_eq!(response.status(), 200, "the right code confirms");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["mfaEnabled"], true, "on: {body}");
    assert!(
        server.write(|tx| muster_server::mfa::is_enabled(tx, "acme", &acme.admin.id).unwrap()),
        "is_enabled sees it"
    );
    let body = scim_error(
        server
            .post(
                "/auth/mfa/enroll",
                &tokens.access,
                &json!({"password": PASSWORD}),
            )
            .await,
        409,
    )
    .await;
    assert!(
        body["detail"].as_str().unwrap().contains("already on"),
        "enabled accounts cannot re-enrol: {body}"
    );

    let challenge = server.challenge("acme", &acme.admin.email).await;
    let body = scim_error(
        server
            .answer_challenge(&challenge, &wrong_code(&secret, server.now()))
            .await,
        401,
    )
    .await;
    assert!(
        body["detail"].as_str().unwrap().contains("not correct"),
        "a wrong code is refused: {body}"
    );
    let body = scim_error(
        server.answer_challenge(&challenge, &confirm_code).await,
        401,
    )
    .await;
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .contains("already been used"),
        "the code that confirmed cannot sign in within its window: {body}"
    );

    server.advance(Duration::seconds(30));
    let code = code_at(&secret, server.now());
    let response = server.answer_challenge(&challenge, &code).await;
    assert_eq!(response.status(), 200, "challenge and a fresh code sign in");
    assert_eq!(
        response.headers()["cache-control"],
        "no-store",
        "tokens are not cached"
    );
    let body: Value = response.json().await.unwrap();
    let signed_in = Tokens::from_answer(&body);
    assert_eq!(
        body["user"]["id"],
        acme.admin.id.as_str(),
        "as the user: {body}"
    );
    assert_eq!(body["mustChangePassword"], false, "like a password sign-in");
    assert_eq!(
        server
            .get("/o/acme/api-tokens", &signed_in.access)
            .await
            .status(),
        200,
        "the tokens work"
    );
    let (at, method): (String, String) = server.write(|tx| {
        tx.query_row(
            "SELECT last_sign_in_at, last_sign_in_method FROM users WHERE id = ?1",
            [&acme.admin.id],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .unwrap()
    });
    assert_eq!(
        (at.as_str(), method.as_str()),
        ("2030-01-01T09:00:30.000Z", "password"),
        "the sign-in is recorded on the user"
    );

    server.advance(Duration::seconds(30));
    let body = scim_error(
        server
            .answer_challenge(&challenge, &code_at(&secret, server.now()))
            .await,
        401,
    )
    .await;
    assert!(
        body["detail"].as_str().unwrap().contains("sign in again"),
        "a challenge is single-use: {body}"
    );

    let replay = code_at(&secret, server.now());
    let first = server.challenge("acme", &acme.admin.email).await;
    assert_eq!(
        server.answer_challenge(&first, &replay).await.status(),
        200,
        "a new step's code works once"
    );
    let again = server.challenge("acme", &acme.admin.email).await;
    let body = scim_error(server.answer_challenge(&again, &replay).await, 401).await;
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .contains("already been used"),
        "a replayed code is refused even with a new challenge: {body}"
    );

    let stored: Vec<String> = server.write(|tx| {
        let mut statement = tx
            .prepare("SELECT hash || org || user_id FROM mfa_challenges")
            .unwrap();
        statement
            .query_map([], |row| row.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    });
    assert!(
        stored.iter().all(|row| !row.contains(&again)),
        "challenges are stored hashed only"
    );

    server.advance(Duration::minutes(5));
    let body = scim_error(
        server
            .answer_challenge(&again, &code_at(&secret, server.now()))
            .await,
        401,
    )
    .await;
    assert!(
        body["detail"].as_str().unwrap().contains("expired"),
        "a challenge lasts five minutes: {body}"
    );
}

#[tokio::test]
async fn an_admin_reset_turns_two_factor_off() {
    let server = TestServer::start().await;
    let acme = seed_org(&server, "acme");
    let tokens = server.sign_in(Some("acme"), &acme.viewer.email).await;
    let secret = enable_mfa(&server, &tokens.access).await;
    let challenge = server.challenge("acme", &acme.viewer.email).await;

    let was_enabled =
        server.write(|tx| muster_server::mfa::reset(tx, "acme", &acme.viewer.id).unwrap());
    assert!(was_enabled, "reset says it was on");
    let response = server
        .sign_in_raw(Some("acme"), &acme.viewer.email, PASSWORD)
        .await;
    assert_eq!(response.status(), 200, "password alone signs in again");
    let body: Value = response.json().await.unwrap();
    assert!(
        body["accessToken"].is_string(),
        "tokens, no challenge: {body}"
    );
    server.advance(Duration::seconds(30));
    scim_error(
        server
            .answer_challenge(&challenge, &code_at(&secret, server.now()))
            .await,
        401,
    )
    .await;
    let again = server.write(|tx| muster_server::mfa::reset(tx, "acme", &acme.viewer.id).unwrap());
    assert!(!again, "nothing was on the second time");

    let response = server
        .post(
            "/auth/mfa/enroll",
            &tokens.access,
            &json!({"password": PASSWORD}),
        )
        .await;
    assert_eq!(response.status(), 200, "the user can enrol afresh");
}

#[tokio::test]
async fn wrong_codes_are_rate_limited_per_account() {
    let server = TestServer::start().await;
    let acme = seed_org(&server, "acme");
    let tokens = server.sign_in(Some("acme"), &acme.admin.email).await;
    let secret = enable_mfa(&server, &tokens.access).await;
    server.advance(Duration::seconds(30));
    for attempt in 1..=5 {
        // A new challenge each time: the limit is per account, not per challenge.
        let challenge = server.challenge("acme", &acme.admin.email).await;
        let response = server
            .answer_challenge(&challenge, &wrong_code(&secret, server.now()))
            .await;
        assert_eq!(response.status(), 401, "wrong code {attempt} is refused");
    }
    let challenge = server.challenge("acme", &acme.admin.email).await;
    let response = server
        .answer_challenge(&challenge, &code_at(&secret, server.now()))
        .await;
    assert_eq!(
        response.status(),
        429,
        "after five wrong codes even the right one waits"
    );
    let wait: u64 = response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        (1..=900).contains(&wait),
        "Retry-After within the window: {wait}"
    );

    server.advance(Duration::minutes(15));
    let challenge = server.challenge("acme", &acme.admin.email).await;
    let response = server
        .answer_challenge(&challenge, &code_at(&secret, server.now()))
        .await;
    assert_eq!(response.status(), 200, "the window clears");
}

#[tokio::test]
async fn only_accounts_signed_in_with_a_password_enrol() {
    let server = TestServer::start().await;
    let acme = seed_org(&server, "acme");
    let robot = seed_user(
        &server,
        "acme",
        NewUser {
            user_name: "robot",
            role: "admin",
            licence: "api",
            active: true,
        },
    );
    let admin = server.sign_in(Some("acme"), &acme.admin.email).await;
    let created: Value = server
        .post(
            "/o/acme/api-tokens",
            &admin.access,
            &json!({"userId": robot.id, "name": "sync"}),
        )
        .await
        .json()
        .await
        .unwrap();
    let api = created["token"].as_str().unwrap();
    scim_error(
        server
            .post("/auth/mfa/enroll", api, &json!({"password": PASSWORD}))
            .await,
        403,
    )
    .await;

    let response = server
        .client
        .post(server.url("/auth/mfa/enroll"))
        .send()
        .await
        .unwrap();
    scim_error(response, 401).await;
    let body = scim_error(
        server
            .post(
                "/auth/mfa/confirm",
                &admin.access,
                &json!({"code": "123456"}),
            )
            .await,
        409,
    )
    .await;
    assert!(
        body["detail"].as_str().unwrap().contains("enroll"),
        "confirming without enrolling says what to do: {body}"
    );
}

#[tokio::test]
async fn a_suspended_user_cannot_finish_a_two_factor_sign_in() {
    let server = TestServer::start().await;
    let acme = seed_org(&server, "acme");
    let tokens = server.sign_in(Some("acme"), &acme.admin.email).await;
    let secret = enable_mfa(&server, &tokens.access).await;
    let challenge = server.challenge("acme", &acme.admin.email).await;
    crate::support::set_status(&server, "acme", &acme.admin.id, "suspended");
    server.advance(Duration::seconds(30));
    let body = scim_error(
        server
            .answer_challenge(&challenge, &code_at(&secret, server.now()))
            .await,
        401,
    )
    .await;
    assert!(
        body["detail"].as_str().unwrap().contains("suspended"),
        "status is checked at the second step too: {body}"
    );
}

#[tokio::test]
async fn a_challenge_is_void_after_five_wrong_codes_and_a_day_allows_twenty() {
    let server = TestServer::start_with_limits(LimitSettings {
        mfa_code: Rule::new(100, Duration::minutes(15)),
        sign_in_client: Rule::new(100, Duration::minutes(15)),
        ..LimitSettings::default()
    })
    .await;
    let acme = seed_org(&server, "acme");
    let tokens = server.sign_in(Some("acme"), &acme.admin.email).await;
    let secret = enable_mfa(&server, &tokens.access).await;
    server.advance(Duration::seconds(30));

    let challenge = server.challenge("acme", &acme.admin.email).await;
    for attempt in 1..=5 {
        let body = scim_error(
            server
                .answer_challenge(&challenge, &wrong_code(&secret, server.now()))
                .await,
            401,
        )
        .await;
        let detail = body["detail"].as_str().unwrap();
        assert_eq!(
            detail.contains("sign in again"),
            attempt == 5,
            "the fifth wrong code voids the challenge: {detail}"
        );
    }
    let body = scim_error(
        server
            .answer_challenge(&challenge, &code_at(&secret, server.now()))
            .await,
        401,
    )
    .await;
    assert!(
        body["detail"].as_str().unwrap().contains("password"),
        "even the right code needs the password again: {body}"
    );

    // Fifteen more wrong codes over new challenges: twenty in the day.
    for _ in 0..3 {
        let challenge = server.challenge("acme", &acme.admin.email).await;
        for _ in 0..5 {
            server
                .answer_challenge(&challenge, &wrong_code(&secret, server.now()))
                .await;
        }
    }
    let challenge = server.challenge("acme", &acme.admin.email).await;
    let capped = server
        .answer_challenge(&challenge, &code_at(&secret, server.now()))
        .await;
    assert_eq!(
        capped.status(),
        429,
        "twenty wrong codes a day, then a wait"
    );
    server.advance(Duration::hours(24));
    let challenge = server.challenge("acme", &acme.admin.email).await;
    let response = server
        .answer_challenge(&challenge, &code_at(&secret, server.now()))
        .await;
    assert_eq!(response.status(), 200, "the next day");
}

#[tokio::test]
async fn a_system_admin_signs_in_with_a_code_once_enrolled() {
    let server = TestServer::start().await;
    let root = seed_system_admin(&server);
    let tokens = server.sign_in(None, &root).await;
    let secret = enable_mfa(&server, &tokens.access).await;
    server.advance(Duration::seconds(30));
    let answer: Value = server
        .sign_in_raw(None, &root, PASSWORD)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(answer["mfaRequired"], true, "{answer}");
    let challenge = answer["challenge"].as_str().unwrap();
    let wrong = server
        .answer_challenge(challenge, &wrong_code(&secret, server.now()))
        .await;
    assert_eq!(wrong.status(), 401);
    let right = server
        .answer_challenge(challenge, &code_at(&secret, server.now()))
        .await;
    assert_eq!(right.status(), 200, "the code completes the sign-in");
    let answer: Value = right.json().await.unwrap();
    assert_eq!(answer["user"]["systemAdmin"], true, "{answer}");
}
