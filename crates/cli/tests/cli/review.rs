//! `muster audit` and `muster review`: the audit log filtered as in the app (table, JSON,
//! CSV) and the account review's counts, from the real binary against the server.

use crate::support::{Server, as_person};

#[test]
fn the_audit_log_filters_pages_and_exports() {
    let server = Server::start();
    let muster = server.muster();
    let created = muster
        .run(&[
            "users",
            "create",
            "--email",
            "aud.it@acme.test",
            "--given",
            "Aud",
            "--family",
            "It",
            "--json",
        ])
        .success()
        .json();
    let id = created["id"].as_str().unwrap();

    let entries = muster
        .run(&["audit", "--target", id, "--json"])
        .success()
        .json();
    let entries = entries.as_array().unwrap();
    assert!(!entries.is_empty(), "the create is audited");
    assert!(
        entries
            .iter()
            .all(|e| e["outcome"] == "success" && e["at"].is_string()),
        "{entries:?}"
    );
    let action = entries[0]["action"].as_str().unwrap().to_owned();

    muster
        .run(&["users", "create", "--email", "aud.two@acme.test"])
        .success();
    let one = muster.run(&["audit", "--count", "1"]).success();
    assert_eq!(
        one.stdout.lines().count(),
        3,
        "a header, one entry, and how many more: {}",
        one.stdout
    );
    assert!(one.stdout.contains("--all"), "{}", one.stdout);

    let csv = muster
        .run(&["audit", "--target", id, "--action", &action, "--csv", "-"])
        .success();
    let mut lines = csv.stdout.lines();
    assert_eq!(lines.next(), Some("at,actor,action,target,outcome,detail"));
    assert!(
        lines.next().is_some_and(|l| l.contains(&action)),
        "{}",
        csv.stdout
    );

    let later = muster
        .run(&["audit", "--since", "2999-01-01", "--json"])
        .success()
        .json();
    assert_eq!(
        later.as_array().unwrap().len(),
        0,
        "nothing is audited in the future"
    );
    let recent = muster
        .run(&["audit", "--since", "1h", "--target", id, "--json"])
        .success()
        .json();
    assert!(
        !recent.as_array().unwrap().is_empty(),
        "an hour ago takes in the create"
    );
    muster.run(&["audit", "--since", "soon"]).code(2);
    muster.run(&["audit", "--since", "2026"]).code(2);
    muster.run(&["audit", "--outcome", "maybe"]).code(2);

    // Technicians have nothing in Muster, the log included.
    server.seed_person("tess", "tess@acme.test", "technician");
    as_person(&muster, "tess@acme.test")
        .run(&["audit", "--json"])
        .code(3);
}

#[test]
fn the_review_counts_every_user() {
    let server = Server::start();
    let muster = server.muster();
    muster
        .run(&[
            "users",
            "create",
            "--email",
            "new.one@acme.test",
            "--given",
            "New",
            "--family",
            "One",
            "--invite",
        ])
        .success();
    let review = muster.run(&["review", "--json"]).success().json();
    let users = muster
        .run(&["users", "list", "--all", "--json"])
        .success()
        .json();
    assert_eq!(
        review["total"],
        users.as_array().unwrap().len(),
        "every user is counted"
    );
    assert!(
        review["pendingInvitations"]["count"].as_u64().unwrap() >= 1,
        "{review}"
    );
    assert_eq!(review["dormantDays"], 90, "the app's default threshold");
    let statuses: u64 = review["statuses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["count"].as_u64().unwrap())
        .sum();
    assert_eq!(
        Some(statuses),
        review["total"].as_u64(),
        "each user has one status"
    );

    let table = muster.run(&["review", "--dormant-days", "30"]).success();
    for heading in [
        "NEEDS A LOOK",
        "STATUS",
        "LICENCE",
        "ROLE",
        "Pending invitations",
    ] {
        assert!(
            table.stdout.contains(heading),
            "{heading} in {}",
            table.stdout
        );
    }
    assert!(
        table.stdout.contains("no sign-in for 30 days"),
        "the threshold is said: {}",
        table.stdout
    );
    muster
        .run(&["review", "--dormant-days", "0", "--json"])
        .code(7);
    // The copy's key lives in the keychain; this run has none, and says so.
    let offline = muster
        .run(&["review", "--offline", "--json"])
        .code(1)
        .json();
    let message = offline["error"]["message"].as_str().unwrap();
    assert!(message.contains("keychain"), "{message}");
}
