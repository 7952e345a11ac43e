//! `muster users <action>`: invitations, passwords, suspension, deactivation.

use crate::support::{ADMIN_EMAIL, ORG, Server, user_id};

const SHOP: &str = "urn:muster:params:scim:schemas:extension:shop:2.0:User";

#[test]
fn invite_sends_the_welcome_email() {
    let server = Server::start();
    let muster = server.muster();
    let created = muster
        .run(&[
            "users",
            "create",
            "--user-name",
            "ivy",
            "--email",
            "ivy@acme.test",
            "--json",
        ])
        .success()
        .json();
    assert!(
        created[SHOP]["invitation"].is_null(),
        "not invited yet: {created}"
    );
    let id = created["id"].as_str().unwrap();

    let invited = muster
        .run(&["users", "invite", id, "--json"])
        .success()
        .json();
    assert_eq!(invited[SHOP]["invitation"]["state"], "pending");
    assert!(invited[SHOP]["invitation"]["sentAt"].is_string());

    let at_once = muster
        .run(&[
            "users",
            "create",
            "--user-name",
            "ike",
            "--email",
            "ike@acme.test",
            "--invite",
        ])
        .success();
    assert!(
        at_once.stdout.contains("Invitation sent to ike@acme.test."),
        "{}",
        at_once.stdout
    );
}

#[test]
fn set_password_reads_stdin_and_the_user_can_sign_in() {
    let server = Server::start();
    let muster = server.muster();
    let created = muster
        .run(&[
            "users",
            "create",
            "--user-name",
            "vic",
            "--email",
            "vic@acme.test",
            "--role",
            "viewer",
            "--licence",
            "desk",
            "--json",
        ])
        .success()
        .json();
    let id = created["id"].as_str().unwrap();
    let password = "Granite-Falcon-42-orbit!";

    // There is no way to pass the password as an argument: an extra word is a usage error.
    muster.run(&["users", "set-password", id, password]).code(2);

    let set = muster
        .run_with_stdin(
            &["users", "set-password", id, "--no-must-change"],
            &format!("{password}\n"),
        )
        .success();
    assert!(
        set.stdout.starts_with("Set the password of vic"),
        "{}",
        set.stdout
    );
    assert!(
        !set.stdout.contains(password) && !set.stderr.contains(password),
        "the password is never echoed"
    );

    // The new password signs in (login itself would also keep the session, which needs a
    // keychain: the keychain binary covers that).
    let signed_in = muster
        .clone()
        .without("MUSTER_TOKEN")
        .env("MUSTER_PASSWORD", password)
        .run(&["--email", "vic@acme.test", "users", "list", "--count", "1"])
        .success();
    assert!(signed_in.stdout.starts_with("ID"), "{}", signed_in.stdout);

    let weak = muster
        .run_with_stdin(&["users", "set-password", id], "password\n")
        .code(7);
    assert!(!weak.stderr.contains("password\n"), "{}", weak.stderr);
    muster
        .run_with_stdin(&["users", "set-password", id], "")
        .code(7);
}

#[test]
fn suspend_and_unsuspend() {
    let server = Server::start();
    let muster = server.muster();
    let id = server
        .query_one(&format!(
            "SELECT id FROM users WHERE org = '{ORG}' AND status = 'active' AND role = 'technician' LIMIT 1"
        ))
        .expect("an active technician");

    let suspended = muster.run(&["users", "suspend", &id]).success();
    assert!(
        suspended.stdout.contains("now suspended"),
        "{}",
        suspended.stdout
    );
    let again = muster.run(&["users", "suspend", &id]).code(5);
    assert!(again.stderr.contains("suspended"), "{}", again.stderr);
    let back = muster
        .run(&["users", "unsuspend", &id, "--json"])
        .success()
        .json();
    assert_eq!(back[SHOP]["status"], "active");
    muster.run(&["users", "revoke-sessions", &id]).success();
    // The seed's technicians have no two-factor: there is nothing to reset, and the
    // server says so (a conflict), rather than doing nothing and calling it done.
    let reset = muster.run(&["users", "reset-mfa", &id]).code(5);
    assert!(reset.stderr.contains("two-factor"), "{}", reset.stderr);
    muster.run(&["users", "send-reset", &id]).success();
    muster.run(&["users", "send-magic-link", &id]).success();
}

#[test]
fn deactivation_is_refused_with_the_counts_until_work_is_reassigned() {
    let server = Server::start();
    let muster = server.muster();
    let id = server
        .query_one(&format!(
            "SELECT default_technician FROM properties WHERE org = '{ORG}' \
             AND default_technician IS NOT NULL LIMIT 1"
        ))
        .expect("a default technician");

    let held = muster
        .run(&["users", "responsibilities", &id, "--json"])
        .success()
        .json();
    let total = held["total"].as_u64().unwrap();
    assert!(total > 0);
    let table = muster.run(&["users", "responsibilities", &id]).success();
    assert!(
        table.stdout.contains("defaultTechnician"),
        "{}",
        table.stdout
    );

    let refused = muster.run(&["users", "deactivate", &id]).code(5);
    assert!(
        refused
            .stderr
            .contains("--reassign-default-technician: default technician on"),
        "the refusal shows each count and the option that hands it over: {}",
        refused.stderr
    );
    let refused = muster
        .run(&["users", "deactivate", &id, "--json"])
        .code(5)
        .json();
    assert_eq!(refused["error"]["code"], "conflict");
    assert_eq!(refused["error"]["responsibilities"]["total"], total);

    let admin = user_id(&muster, ADMIN_EMAIL);
    let done = muster
        .run(&[
            "users",
            "deactivate",
            &id,
            "--reassign-all",
            &admin,
            "--json",
        ])
        .success()
        .json();
    assert_eq!(done[SHOP]["status"], "deactivated");
    assert_eq!(
        muster
            .run(&["users", "responsibilities", &id, "--json"])
            .success()
            .json()["total"],
        0
    );
    let back = muster
        .run(&["users", "reactivate", &id, "--json"])
        .success()
        .json();
    assert_eq!(back[SHOP]["status"], "active");
}

#[test]
fn actions_shows_what_can_be_done_now_and_why_not() {
    let server = Server::start();
    let muster = server.muster();
    let created = muster
        .run(&[
            "users",
            "create",
            "--user-name",
            "iris",
            "--email",
            "iris@acme.test",
            "--json",
        ])
        .success()
        .json();
    let id = created["id"].as_str().unwrap();
    let offers = muster
        .run(&["users", "actions", id, "--json"])
        .success()
        .json();
    let listed: Vec<&str> = offers
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["action"].as_str().unwrap())
        .collect();
    assert!(
        listed.contains(&"send-welcome") && listed.contains(&"suspend"),
        "an invited user is invited and suspended: {offers}"
    );
    assert!(
        !listed.contains(&"unsuspend") && !listed.contains(&"send-magic-link"),
        "nothing that does not apply to an invited user: {offers}"
    );
    let text = muster.run(&["users", "actions", id]).success().stdout;
    assert!(
        text.contains("ACTION") && text.contains("send-welcome"),
        "{text}"
    );

    // The engine's answer is the server's: what it offers, the server does.
    muster.run(&["users", "suspend", id]).success();
    let after = muster
        .run(&["users", "actions", id, "--json"])
        .success()
        .json();
    let listed: Vec<&str> = after
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["action"].as_str().unwrap())
        .collect();
    assert!(
        listed.contains(&"unsuspend") && !listed.contains(&"suspend"),
        "{after}"
    );
}

#[test]
fn an_invitation_for_the_mobile_app_with_an_sms_code() {
    let server = Server::start();
    let muster = server.muster();
    let args = |email: &str| {
        vec![
            "users",
            "create",
            "--email",
            email,
            "--given",
            "Mo",
            "--family",
            "Bile",
            "--invite",
            "--mobile",
            "--sms-code",
        ]
        .into_iter()
        .map(str::to_owned)
        .collect::<Vec<String>>()
    };
    let without: Vec<String> = args("mo@acme.test");
    let refs: Vec<&str> = without.iter().map(String::as_str).collect();
    let refused = muster.run(&refs).code(7);
    assert!(refused.stderr.contains("--phone"), "{}", refused.stderr);
    muster
        .run(&["users", "create", "--email", "x@acme.test", "--sms-code"])
        .code(2);
    let mut with = args("mo@acme.test");
    with.extend(["--phone".to_owned(), "+1 303 555 0188".to_owned()]);
    let refs: Vec<&str> = with.iter().map(String::as_str).collect();
    let sent = muster.run(&refs).success();
    assert!(
        sent.stdout
            .contains("with a code by SMS to +1 303 555 0188"),
        "{}",
        sent.stdout
    );
}

/// A 1×1 PNG.
const PNG: &[u8] = b"\x89\x50\x4e\x47\x0d\x0a\x1a\x0a\x00\x00\x00\x0d\x49\x48\x44\x52\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89\x00\x00\x00\x0d\x49\x44\x41\x54\x78\xda\x63\x64\xf8\xcf\x50\x0f\x00\x03\x86\x01\x80\x5a\x34\x7d\x6b\x00\x00\x00\x00\x49\x45\x4e\x44\xae\x42\x60\x82";

#[test]
fn a_photo_is_set_from_a_file_judged_by_its_content_and_removed() {
    let server = Server::start();
    let muster = server.muster();
    let created = muster
        .run(&[
            "users",
            "create",
            "--user-name",
            "pam",
            "--email",
            "pam@acme.test",
            "--json",
        ])
        .success()
        .json();
    let id = created["id"].as_str().unwrap();
    let dir = muster_test_support::TempDir::new("cli-photo");

    // A web page named like an image is refused before anything is sent.
    let disguised = dir.path().join("pam.png");
    std::fs::write(&disguised, b"<html><body>not a photo</body></html>").unwrap();
    let refused = muster
        .run(&["users", "set-photo", id, disguised.to_str().unwrap()])
        .code(7);
    assert!(refused.stderr.contains("a web page"), "{}", refused.stderr);
    let missing = dir.path().join("nowhere.jpg");
    let refused = muster
        .run(&["users", "set-photo", id, missing.to_str().unwrap()])
        .code(7);
    assert!(
        refused.stderr.contains("could not be read"),
        "{}",
        refused.stderr
    );

    let real = dir.path().join("pam-photo.png");
    std::fs::write(&real, PNG).unwrap();
    let set = muster
        .run(&["users", "set-photo", id, real.to_str().unwrap(), "--json"])
        .success()
        .json();
    let url = set["photos"][0]["value"].as_str().unwrap();
    assert!(url.contains(&format!("/Users/{id}/photo?v=")), "{url}");
    let said = muster.run(&["users", "remove-photo", id]).success();
    assert!(
        said.stdout.starts_with("Removed the photo of"),
        "{}",
        said.stdout
    );
    let shown = muster
        .run(&["users", "show", id, "--json"])
        .success()
        .json();
    assert!(shown.get("photos").is_none(), "{shown}");
}
