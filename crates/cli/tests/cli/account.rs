//! `muster account`: a person's own account from the real binary — show it, change the
//! password (the old one stops working), set up two-factor with a code from the key it
//! printed, and refusals that name what is wrong.

use crate::session::code_at;
use crate::support::{ADMIN_PASSWORD, Server, as_person};

#[test]
fn a_person_changes_their_password_and_sets_up_two_factor() {
    let server = Server::start();
    let admin = server.muster();
    server.seed_person("vic", "vic@acme.test", "viewer");
    let vic = as_person(&admin, "vic@acme.test");

    let me = vic.run(&["account", "show", "--json"]).success().json();
    assert_eq!(me["role"], "viewer");
    assert_eq!(me["mfaEnabled"], false);
    let human = vic.run(&["account", "show"]).success();
    assert!(human.stdout.contains("two-factor off"), "{}", human.stdout);

    // The new password comes on stdin; an unchanged one is refused before sending.
    vic.run_with_stdin(&["account", "password"], ADMIN_PASSWORD)
        .code(7);
    let new = "Orchard-Lantern-5821!x";
    vic.run_with_stdin(&["account", "password"], &format!("{new}\n"))
        .success();
    vic.run(&["account", "show"]).code(3);
    let vic = vic.env("MUSTER_PASSWORD", new);
    vic.run(&["account", "show"]).success();

    // Two-factor: the key printed, a code from it, then sign-ins need a code.
    let enrolment = vic
        .run(&["account", "mfa", "setup", "--json"])
        .success()
        .json();
    let secret: String = enrolment["secret"]
        .as_str()
        .unwrap()
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    assert!(enrolment["qr"]["size"].as_u64().unwrap() >= 21);
    let printed = vic.run(&["account", "mfa", "setup"]).success();
    assert!(
        printed.stdout.contains("muster account mfa confirm"),
        "{}",
        printed.stdout
    );
    assert!(
        printed.stdout.contains('█'),
        "the QR code is drawn: {}",
        printed.stdout
    );
    let printed_key = printed.stdout.split("type the key: ").nth(1).unwrap();
    let secret_now: String = printed_key
        .lines()
        .next()
        .unwrap()
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    assert_ne!(secret_now, secret, "setting up again gives a new key");
    vic.clone()
        .env("MUSTER_TOTP", "000000")
        .run(&["account", "mfa", "confirm"])
        .code(7);
    let now = time::OffsetDateTime::now_utc();
    vic.clone()
        .env("MUSTER_TOTP", &code_at(&secret_now, now))
        .run(&["account", "mfa", "confirm"])
        .success();
    vic.run(&["account", "show"]).code(3);
    let next = code_at(&secret_now, now + time::Duration::seconds(30));
    let me = vic
        .env("MUSTER_TOTP", &next)
        .run(&["account", "show", "--json"])
        .success()
        .json();
    assert_eq!(me["mfaEnabled"], true);
}

#[test]
fn a_token_has_no_account_to_manage() {
    let server = Server::start();
    let run = server.muster().run(&["account", "show", "--json"]).json();
    assert_eq!(run["error"]["code"], "unsupported", "{run}");
    let ended = as_person(&server.muster(), "admin@acme.test")
        .run(&["account", "end-sessions", "--json"])
        .success()
        .json();
    assert_eq!(
        ended["sessionsEnded"], 0,
        "only this run's session was open"
    );
}
