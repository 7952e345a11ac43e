//! `muster tokens`: an admin lists, issues and revokes API tokens; the secret is printed
//! once (alone on stdout) and never again; viewers, technicians and other organisations
//! cannot issue or revoke.

use crate::support::{ADMIN_EMAIL, Muster, Server, as_person, user_id};

/// The runner signed in as the seeded admin with a password (a fresh sign-in each run,
/// so issuing finds it recent).
fn as_admin(muster: &Muster) -> Muster {
    as_person(muster, ADMIN_EMAIL)
}

#[test]
fn an_admin_issues_lists_and_revokes_a_token() {
    let server = Server::start();
    let muster = server.muster();
    let integration = user_id(&muster, "integration");
    let admin = as_admin(&muster);

    let issued = admin
        .run(&[
            "tokens",
            "create",
            "--user",
            &integration,
            "--name",
            "Entra ID",
            "--scope",
            "provision",
            "--days",
            "30",
        ])
        .success();
    let secret = issued.stdout.trim().to_owned();
    assert!(secret.starts_with("mst_api_"), "{}", issued.stdout);
    assert_eq!(
        issued.stdout.lines().count(),
        1,
        "the secret alone on stdout"
    );
    assert!(
        issued.stderr.contains("not shown again") && !issued.stderr.contains(&secret),
        "the warning on stderr, without the secret: {}",
        issued.stderr
    );

    // It works at once.
    let with_secret = muster.clone().env("MUSTER_TOKEN", &secret);
    with_secret
        .run(&["users", "list", "--count", "1"])
        .success();

    let table = admin.run(&["tokens", "list"]).success();
    assert!(table.stdout.contains("Entra ID"), "{}", table.stdout);
    assert!(table.stdout.contains("provision"), "{}", table.stdout);
    let listed = admin.run(&["tokens", "list", "--json"]).success();
    assert!(
        !listed.stdout.contains(&secret) && !table.stdout.contains(&secret),
        "a listing never holds a secret"
    );
    let tokens = listed.json();
    let entry = tokens
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "Entra ID")
        .unwrap()
        .clone();
    assert_eq!(entry["userId"], integration);
    assert_eq!(entry["createdBy"], ADMIN_EMAIL, "the issuer, by userName");
    let id = entry["id"].as_str().unwrap().to_owned();

    let revoked = admin.run(&["tokens", "revoke", &id, "--json"]).success();
    assert_eq!(revoked.json()["revoked"], id);
    with_secret.run(&["users", "list", "--count", "1"]).code(3);
    admin.run(&["tokens", "revoke", &id]).code(4);

    // Issued as JSON: the secret under "secret", with the listing's fields.
    let json = admin
        .run(&[
            "tokens",
            "create",
            "--user",
            &integration,
            "--name",
            "Backup",
            "--json",
        ])
        .success()
        .json();
    assert!(json["secret"].as_str().unwrap().starts_with("mst_api_"));
    assert_eq!(json["scope"], "read", "read is the default");
    assert!(json["expiresAt"].is_string(), "{json}");
}

#[test]
fn bad_requests_are_refused_before_or_by_the_server() {
    let server = Server::start();
    let muster = server.muster();
    let integration = user_id(&muster, "integration");
    let admin = as_admin(&muster);
    let create = |extra: &[&str]| {
        let mut args = vec!["tokens", "create", "--user", &integration, "--name", "x"];
        args.extend_from_slice(extra);
        admin.run(&args)
    };
    create(&["--scope", "write"]).code(2);
    create(&["--days", "0"]).code(7);
    create(&["--days", "400"]).code(7);
    let own = user_id(&muster, ADMIN_EMAIL);
    admin
        .run(&["tokens", "create", "--user", &own, "--name", "mine"])
        .code(3);
    // A person without the API licence.
    let person = server.users_without_work(1).pop().unwrap();
    let refused = admin
        .run(&[
            "tokens", "create", "--user", &person, "--name", "p", "--json",
        ])
        .code(7);
    assert!(refused.stdout.contains("API licence"), "{}", refused.stdout);
}

#[test]
fn only_admins_of_the_organisation_manage_tokens() {
    let server = Server::start();
    let muster = server.muster();
    let integration = user_id(&muster, "integration");
    let tokens = muster.run(&["tokens", "list", "--json"]).success().json();
    let id = tokens[0]["id"].as_str().unwrap().to_owned();

    for (name, role) in [("vera", "viewer"), ("tom", "technician")] {
        let email = format!("{name}@acme.test");
        server.seed_person(name, &email, role);
        let person = as_person(&muster, &email);
        person
            .run(&["tokens", "create", "--user", &integration, "--name", "mine"])
            .code(3);
        person.run(&["tokens", "revoke", &id]).code(3);
        let listed = person.run(&["tokens", "list", "--json"]);
        match role {
            // Support staff may read the listing (the server's rule), never a secret.
            "viewer" => {
                let listed = listed.success();
                assert!(listed.stdout.contains(&id));
                assert!(!listed.stdout.contains("mst_api_"), "{}", listed.stdout);
            }
            _ => {
                listed.code(3);
            }
        }
    }

    // Another organisation's admin token, aimed at this one.
    let stranger = muster
        .clone()
        .env("MUSTER_TOKEN", &server.other_org("elsewhere"));
    stranger.run(&["tokens", "list"]).code(3);
    stranger.run(&["tokens", "revoke", &id]).code(3);
    stranger
        .run(&["tokens", "create", "--user", &integration, "--name", "x"])
        .code(3);

    // The token is still there.
    let after = muster.run(&["tokens", "list", "--json"]).success().json();
    assert!(after.as_array().unwrap().iter().any(|t| t["id"] == id));
}
