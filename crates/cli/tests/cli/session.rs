//! `muster login` without a keychain (the `keychain` binary has it with one), writes and
//! the offline copy without one, and `muster discover`.

use crate::support::{ADMIN_EMAIL, ADMIN_PASSWORD, ORG, Server};

/// An active technician of the test organisation.
fn technician(server: &Server) -> String {
    server
        .query_one(&format!(
            "SELECT id FROM users WHERE org = '{ORG}' AND status = 'active' \
             AND role = 'technician' LIMIT 1"
        ))
        .expect("an active technician")
}

#[test]
fn a_write_without_an_offline_copy_neither_starts_one_nor_warns() {
    let server = Server::start();
    let muster = server.muster();
    let id = technician(&server);
    let suspended = muster.run(&["users", "suspend", &id]).success();
    assert!(
        suspended.stderr.is_empty(),
        "nothing to update, so no keychain is asked and nothing is said: {}",
        suspended.stderr
    );
    assert_eq!(
        std::fs::read_dir(muster.cache_dir()).unwrap().count(),
        0,
        "a write never starts an offline copy"
    );
}

#[test]
fn an_offline_copy_that_cannot_be_updated_is_a_warning_not_a_failure() {
    let server = Server::start();
    let muster = server.muster();
    let id = technician(&server);
    // A copy exists, but its key is in a keychain this runner cannot reach.
    let copy = muster.cache_dir().join("test.cache");
    std::fs::write(&copy, b"an earlier snapshot").unwrap();
    let suspended = muster.run(&["users", "suspend", &id, "--json"]).success();
    assert_eq!(
        suspended.json()["urn:muster:params:scim:schemas:extension:shop:2.0:User"]["status"],
        "suspended",
        "the server's write is reported as done"
    );
    assert!(
        suspended
            .stderr
            .contains("the offline copy was not updated: no keychain is running."),
        "{}",
        suspended.stderr
    );
    assert!(
        suspended.stderr.contains("muster sync"),
        "{}",
        suspended.stderr
    );
    assert_eq!(
        std::fs::read(&copy).unwrap(),
        b"an earlier snapshot",
        "the copy is left as it was"
    );
}

#[test]
fn login_without_a_keychain_fails_and_explains() {
    let server = Server::start();
    let muster = server
        .muster()
        .without("MUSTER_TOKEN")
        .env("MUSTER_EMAIL", ADMIN_EMAIL)
        .env("MUSTER_PASSWORD", ADMIN_PASSWORD);
    // Signing in works, but the session cannot be kept: never a plaintext fallback.
    let login = muster.run(&["login"]).code(1);
    assert!(
        login.stderr.contains("No keychain is running.") && login.stderr.contains("How to fix:"),
        "{}",
        login.stderr
    );
    for (path, text) in muster.config_files() {
        assert!(
            !text.contains(ADMIN_PASSWORD),
            "{} holds the password",
            path.display()
        );
    }
    assert_eq!(
        std::fs::read_dir(muster.cache_dir()).unwrap().count(),
        0,
        "nothing is cached without a keychain"
    );
    // Without credentials, a command says how to give some (the keychain is unreachable).
    let none = server
        .muster()
        .without("MUSTER_TOKEN")
        .run(&["users", "list"])
        .code(3);
    assert!(none.stderr.contains("MUSTER_TOKEN"), "{}", none.stderr);

    // The same credentials work for any command, through the top-level --email too.
    let listed = server
        .muster()
        .without("MUSTER_TOKEN")
        .env("MUSTER_PASSWORD", ADMIN_PASSWORD)
        .run(&["--email", ADMIN_EMAIL, "users", "list", "--count", "1"])
        .success();
    assert!(listed.stdout.starts_with("ID"), "{}", listed.stdout);

    let wrong = muster
        .clone()
        .env("MUSTER_PASSWORD", "wrong-password-123")
        .run(&["login"]);
    wrong.code(3);
    let json = muster.run(&["login", "--json"]).code(1).json();
    assert_eq!(json["error"]["code"], "keychainUnavailable");
}

#[test]
fn discover_lists_each_feature() {
    let server = Server::start();
    let muster = server.muster();
    let human = muster.run(&["discover"]).success();
    assert!(human.stdout.contains("FEATURE"), "{}", human.stdout);
    assert!(human.stdout.contains("action suspend"), "{}", human.stdout);
    let json = muster.run(&["discover", "--json"]).success().json();
    assert_eq!(json["capabilities"]["isMuster"], true);
    let features = json["features"].as_array().unwrap();
    let bulk = features.iter().find(|f| f["feature"] == "bulk").unwrap();
    if bulk["supported"] == "no" {
        assert!(
            bulk["reason"].is_string(),
            "an unsupported feature says why"
        );
    }
    let patch = features.iter().find(|f| f["feature"] == "patch").unwrap();
    assert_eq!(patch["supported"], "yes");
}

#[test]
fn two_factor_asks_for_the_code() {
    let server = Server::start();
    let secret = enable_mfa(&server);
    let muster = server
        .muster()
        .without("MUSTER_TOKEN")
        .env("MUSTER_EMAIL", ADMIN_EMAIL)
        .env("MUSTER_PASSWORD", ADMIN_PASSWORD);

    let no_code = muster.run(&["login"]).code(3);
    assert!(
        no_code.stderr.contains("MUSTER_TOTP"),
        "without a terminal, says where the code goes: {}",
        no_code.stderr
    );
    // The confirmation used the current step's code; the next step's is still in the
    // server's window and has not been used.
    let code = code_at(
        &secret,
        time::OffsetDateTime::now_utc() + time::Duration::seconds(30),
    );
    let listed = muster
        .env("MUSTER_TOTP", &code)
        .run(&["users", "list", "--count", "1"])
        .success();
    assert!(listed.stdout.starts_with("ID"), "{}", listed.stdout);
}

/// Enrols the admin in two-factor sign-in over HTTP; returns the TOTP secret.
fn enable_mfa(server: &Server) -> String {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let http = reqwest::Client::new();
        let tokens: serde_json::Value = http
            .post(format!("{}/auth/token", server.base))
            .json(
                &serde_json::json!({"org": ORG, "email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}),
            )
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let access = tokens["accessToken"].as_str().unwrap().to_owned();
        let enrolled: serde_json::Value = http
            .post(format!("{}/auth/mfa/enroll", server.base))
            .bearer_auth(&access)
            .json(&serde_json::json!({"password": ADMIN_PASSWORD}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let secret = enrolled["secret"].as_str().unwrap().to_owned();
        let code = code_at(&secret, time::OffsetDateTime::now_utc());
        let confirmed = http
            .post(format!("{}/auth/mfa/confirm", server.base))
            .bearer_auth(&access)
            .json(&serde_json::json!({"code": code}))
            .send()
            .await
            .unwrap();
        assert_eq!(confirmed.status(), 200, "two-factor is on");
        secret
    })
}

/// The code an authenticator app shows at `at`.
pub(crate) fn code_at(secret: &str, at: time::OffsetDateTime) -> String {
    let bytes = totp_rs::Secret::Encoded(secret.to_owned())
        .to_bytes()
        .unwrap();
    let totp = totp_rs::TOTP::new(totp_rs::Algorithm::SHA1, 6, 1, 30, bytes).unwrap();
    totp.generate(u64::try_from(at.unix_timestamp()).unwrap())
}
