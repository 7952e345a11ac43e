//! `muster settings`: an admin reads and changes the organisation's settings and sees what
//! the server saved; values out of bounds are refused; a viewer may not change them.

use crate::support::{ADMIN_EMAIL, ADMIN_PASSWORD, Server};

#[test]
fn an_admin_shows_and_changes_the_settings() {
    let server = Server::start();
    let muster = server.muster();
    let shown = muster.run(&["settings", "show"]).success();
    assert!(
        shown
            .stdout
            .contains("invitations         48 hours (48 hours)"),
        "{}",
        shown.stdout
    );
    assert!(shown.stdout.contains("at least 12"), "{}", shown.stdout);

    let set = muster
        .run(&[
            "settings",
            "set",
            "--invitation-hours",
            "72",
            "--password-policy",
            "nist",
            "--require-admin-mfa",
            "false",
        ])
        .success();
    assert!(set.stdout.contains("3 days (72 hours)"), "{}", set.stdout);
    assert!(set.stdout.contains("at least 8"), "{}", set.stdout);
    let json = muster.run(&["settings", "show", "--json"]).success().json();
    assert_eq!(json["invitationHours"], 72);
    assert_eq!(json["passwordPolicy"], "nist");

    muster
        .run(&["settings", "set", "--magic-link-minutes", "2000"])
        .code(7);
    muster.run(&["settings", "set"]).code(2);
    muster
        .run(&["settings", "set", "--password-policy", "weak"])
        .code(2);

    let viewer = "vera@acme.test";
    server.seed_person("vera", viewer, "viewer");
    let as_viewer = muster
        .clone()
        .without("MUSTER_TOKEN")
        .env("MUSTER_EMAIL", viewer)
        .env("MUSTER_PASSWORD", ADMIN_PASSWORD);
    as_viewer
        .run(&["settings", "set", "--invitation-hours", "1"])
        .code(3);
    let admin = muster
        .clone()
        .without("MUSTER_TOKEN")
        .env("MUSTER_EMAIL", ADMIN_EMAIL)
        .env("MUSTER_PASSWORD", ADMIN_PASSWORD);
    let after = admin.run(&["settings", "show", "--json"]).success().json();
    assert_eq!(after["invitationHours"], 72, "the viewer changed nothing");
}
