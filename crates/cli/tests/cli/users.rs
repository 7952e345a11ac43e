//! `muster users`: list, show, create, update, delete and export.

use crate::support::{ADMIN_EMAIL, SEEDED_USERS, Server};

#[test]
fn list_prints_a_table_or_json() {
    let server = Server::start();
    let muster = server.muster();

    let table = muster.run(&["users", "list", "--count", "5"]).success();
    let header = table.stdout.lines().next().unwrap();
    for column in [
        "ID", "USERNAME", "NAME", "EMAIL", "ROLE", "LICENCE", "STATUS",
    ] {
        assert!(header.contains(column), "the default columns: {header}");
    }
    assert_eq!(
        table.stdout.lines().count(),
        1 + 5 + 1,
        "a header, five users and a line saying there are more: {}",
        table.stdout
    );
    assert!(table.stdout.contains("--all"), "{}", table.stdout);

    let json = muster
        .run(&["users", "list", "--all", "--count", "7", "--json"])
        .success();
    let users = json.json();
    let users = users.as_array().unwrap();
    assert_eq!(
        users.len(),
        SEEDED_USERS + 1,
        "every seeded user and the integration user, across pages of 7"
    );
    assert!(
        users
            .iter()
            .all(|u| u["id"].is_string() && u["schemas"].is_array())
    );
    assert!(
        json.stderr.is_empty(),
        "no progress line when stderr is not a terminal: {}",
        json.stderr
    );

    let picked = muster
        .run(&[
            "users",
            "list",
            "--filter",
            &format!("userName eq \"{ADMIN_EMAIL}\""),
            "--columns",
            "userName,role",
        ])
        .success();
    assert_eq!(
        picked.stdout.lines().collect::<Vec<_>>(),
        ["USERNAME         ROLE", "admin@acme.test  admin"]
    );

    let sorted = muster
        .run(&[
            "users",
            "list",
            "--sort-by",
            "userName",
            "--descending",
            "--json",
            "--count",
            "3",
        ])
        .success()
        .json();
    let names: Vec<&str> = sorted
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["userName"].as_str().unwrap())
        .collect();
    let mut expected = names.clone();
    expected.sort_by_key(|n| std::cmp::Reverse(n.to_lowercase()));
    assert_eq!(names, expected, "sorted largest first");
}

#[test]
fn create_show_update_and_delete() {
    let server = Server::start();
    let muster = server.muster();

    let created = muster
        .run(&[
            "users",
            "create",
            "--user-name",
            "ann.lee",
            "--email",
            "ann.lee@acme.test",
            "--given",
            "Ann",
            "--family",
            "Lee",
            "--licence",
            "field",
            "--role",
            "technician",
            "--json",
        ])
        .success()
        .json();
    let id = created["id"].as_str().unwrap().to_owned();
    let shop = &created["urn:muster:params:scim:schemas:extension:shop:2.0:User"];
    assert_eq!(shop["licence"], "field");
    assert_eq!(shop["role"], "technician");
    assert_eq!(
        shop["status"], "invited",
        "a user created without a password is invited"
    );

    let shown = muster.run(&["users", "show", &id]).success();
    assert!(
        shown.stdout.contains("ann.lee@acme.test"),
        "{}",
        shown.stdout
    );
    assert!(shown.stdout.contains("Ann Lee"), "{}", shown.stdout);

    // A field licence is for technicians: a viewer needs another licence, and the
    // refusal names the field before anything is sent.
    let refused = muster
        .run(&["users", "update", &id, "--role", "viewer", "--json"])
        .code(7)
        .json();
    assert_eq!(refused["error"]["fields"][0]["field"], "role", "{refused}");
    let updated = muster
        .run(&[
            "users",
            "update",
            &id,
            "--given",
            "Anne",
            "--licence",
            "desk",
            "--role",
            "viewer",
            "--zones",
            "North,East",
            "--phone",
            "+1 303 555 0100",
            "--email",
            "anne@acme.test",
            "--json",
        ])
        .success()
        .json();
    assert_eq!(updated["name"]["givenName"], "Anne");
    assert_eq!(updated["name"]["familyName"], "Lee", "other parts stay");
    assert_eq!(updated["emails"][0]["value"], "anne@acme.test");
    let shop = &updated["urn:muster:params:scim:schemas:extension:shop:2.0:User"];
    assert_eq!(shop["role"], "viewer");
    assert_eq!(shop["licence"], "desk");
    assert_eq!(shop["zones"], serde_json::json!(["North", "East"]));
    assert_eq!(shop["phone"], "+1 303 555 0100");
    assert_ne!(
        updated["meta"]["version"], created["meta"]["version"],
        "a new version after the change"
    );

    let human = muster
        .run(&["users", "update", &id, "--family", "Li"])
        .success();
    assert!(
        human.stdout.starts_with("Updated ann.lee"),
        "{}",
        human.stdout
    );
    muster.run(&["users", "update", &id]).code(2);

    let deleted = muster
        .run(&["users", "delete", &id, "--json"])
        .success()
        .json();
    assert_eq!(deleted["deleted"], id);
    muster.run(&["users", "show", &id]).code(4);
}

#[test]
fn export_writes_rfc_4180_csv_that_spreadsheets_cannot_run() {
    let server = Server::start();
    let muster = server.muster();
    muster
        .run(&[
            "users",
            "create",
            "--user-name",
            "eve",
            "--email",
            "eve@acme.test",
            "--given",
            "=HYPERLINK(\"http://evil.test\",\"x\")",
            "--family",
            "O'Neil, Jr",
        ])
        .success();

    let run = muster
        .run(&[
            "users",
            "export",
            "--filter",
            "userName eq \"eve\"",
            "--columns",
            "userName,givenName,familyName,email",
        ])
        .success();
    assert_eq!(
        run.stdout,
        "userName,givenName,familyName,email\r\n\
         eve,\"'=HYPERLINK(\"\"http://evil.test\"\",\"\"x\"\")\",\"O'Neil, Jr\",eve@acme.test\r\n",
        "a formula is prefixed with ' and quoted; commas and quotes are escaped; CRLF line ends"
    );

    let dir = muster_test_support::TempDir::new("cli-export");
    let file = dir.join("users.csv");
    let saved = muster
        .run(&["users", "export", "--output", file.to_str().unwrap()])
        .success();
    assert!(saved.stdout.contains("Exported"), "{}", saved.stdout);
    let csv = std::fs::read_to_string(&file).unwrap();
    let header = csv.lines().next().unwrap();
    assert!(header.starts_with("id,userName,name,givenName"), "{header}");
    assert_eq!(
        csv.matches("\r\n").count(),
        1 + SEEDED_USERS + 2,
        "a header and one line per user (the seeded ones, integration and eve)"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file).unwrap().permissions().mode();
        assert_eq!(
            mode & 0o077,
            0,
            "an export of personal data is private to its owner"
        );
    }
}

#[test]
fn create_makes_the_sign_in_name_and_list_finds_invitations_about_to_lapse() {
    let server = Server::start();
    let muster = server.muster();
    let create = |email: &str, invite: bool| {
        let mut args = vec![
            "users",
            "create",
            "--email",
            email,
            "--given",
            "Jo",
            "--family",
            "Smith",
            "--licence",
            "field",
            "--zones",
            "North",
            "--json",
        ];
        if invite {
            args.push("--invite");
        }
        muster.run(&args).success().json()
    };
    let first = create("jo.smith@acme.test", true);
    assert_eq!(first["userName"], "jsmith", "the initial and the last name");
    let shop = &first["urn:muster:params:scim:schemas:extension:shop:2.0:User"];
    assert_eq!(
        shop["role"], "technician",
        "a field licence alone makes a technician"
    );
    assert_eq!(shop["zones"], serde_json::json!(["North"]));
    let second = create("jo.smith2@acme.test", false);
    assert_eq!(
        second["userName"], "jsmith2",
        "numbered past the taken name"
    );
    let id = second["id"].as_str().unwrap();
    let granted = muster
        .run(&[
            "users",
            "update",
            id,
            "--permissions",
            "viewPricing,MOBILEAPPACCESS",
            "--json",
        ])
        .success()
        .json();
    assert_eq!(
        granted["urn:muster:params:scim:schemas:extension:shop:2.0:User"]["permissions"],
        serde_json::json!(["viewPricing", "mobileAppAccess"]),
        "stored as the server spells them"
    );
    muster
        .run(&["users", "update", id, "--permissions", "launchRockets"])
        .code(7);
    let discovered = muster.run(&["discover"]).success();
    assert!(
        discovered.stdout.contains("pushToShopSystem"),
        "the server's permissions are listed: {}",
        discovered.stdout
    );
    let refused = muster
        .run(&[
            "users",
            "create",
            "--email",
            "boss@acme.test",
            "--licence",
            "field",
            "--role",
            "admin",
            "--json",
        ])
        .code(7)
        .json();
    assert_eq!(refused["error"]["fields"][0]["field"], "role");

    // The invitation lasts the organisation's 48 hours: lapsing within 3 days, not 24 hours.
    let lapsing = |within: &str| -> Vec<String> {
        let listed = muster
            .run(&[
                "users",
                "list",
                "--status",
                "invited",
                "--expiring-within",
                within,
                "--json",
            ])
            .success()
            .json();
        listed
            .as_array()
            .unwrap()
            .iter()
            .map(|u| u["userName"].as_str().unwrap().to_owned())
            .collect()
    };
    let (days, hours) = (lapsing("3d"), lapsing("24h"));
    assert!(days.contains(&"jsmith".to_owned()), "{days:?}");
    assert!(
        !days.contains(&"jsmith2".to_owned()),
        "never invited: {days:?}"
    );
    assert!(!hours.contains(&"jsmith".to_owned()), "{hours:?}");
    assert!(hours.iter().all(|h| days.contains(h)), "sooner is a subset");
    let invited = muster
        .run(&["users", "list", "--status", "invited", "--json"])
        .success()
        .json();
    let invited = invited.as_array().unwrap();
    assert!(
        invited.iter().any(|u| u["userName"] == "jsmith2"),
        "--status alone lists every invited user, across pages"
    );
    muster
        .run(&["users", "list", "--expiring-within", "soon"])
        .code(2);
    muster.run(&["users", "list", "--status", "invted"]).code(2);
    let one = muster
        .run(&[
            "users", "list", "--status", "invited", "--count", "1", "--json",
        ])
        .success()
        .json();
    assert_eq!(
        one.as_array().unwrap().len(),
        1,
        "--count keeps so many matches"
    );
}

#[test]
fn a_user_stored_before_the_licence_rule_can_still_be_updated() {
    let server = Server::start();
    let muster = server.muster();
    let created = muster
        .run(&[
            "users",
            "create",
            "--email",
            "old.hand@acme.test",
            "--licence",
            "desk",
            "--role",
            "admin",
            "--json",
        ])
        .success()
        .json();
    let id = created["id"].as_str().unwrap();
    // Stored before the rule: a field licence beside the admin role.
    let shop = "urn:muster:params:scim:schemas:extension:shop:2.0:User";
    let changed = server.query_one(&format!(
        "UPDATE users SET doc = json_set(doc, '$.\"{shop}\".licence', 'field') \
         WHERE id = '{id}' RETURNING id"
    ));
    assert_eq!(changed.as_deref(), Some(id));
    muster
        .run(&["users", "update", id, "--phone", "+1 303 555 0123"])
        .success();
    muster
        .run(&["users", "update", id, "--role", "viewer"])
        .code(7);
}

/// `--all --json` writes each page as it is read; a walk that fails after the first page
/// leaves the list cut off, says so, and fails (the offline copy cannot stand in for the
/// part already written).
#[test]
fn a_list_streamed_page_by_page_that_fails_midway_is_cut_off_and_says_so() {
    use muster_test_support::proxy::{Fault, Proxy};

    let server = Server::start();
    let upstream = server.base.trim_start_matches("http://").parse().unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let proxy = runtime.block_on(Proxy::start(upstream));
    let muster = server.muster_at(&proxy.base);

    let whole = muster
        .run(&["users", "list", "--all", "--count", "7", "--json"])
        .success();
    assert_eq!(whole.json().as_array().unwrap().len(), SEEDED_USERS + 1);

    // The first page passes; every later one is refused.
    let refused = Fault::Status {
        status: 400,
        retry_after: None,
    };
    proxy.script(std::iter::once(Fault::Pass).chain(std::iter::repeat_n(refused, 20)));
    let cut = muster.run(&["users", "list", "--all", "--count", "7", "--json"]);
    assert_ne!(cut.code, 0, "{}", cut.stderr);
    assert!(cut.stdout.starts_with("[\n  {"), "{}", cut.stdout);
    assert!(
        serde_json::from_str::<serde_json::Value>(&cut.stdout).is_err(),
        "a cut-off list is not a complete JSON document: {}",
        cut.stdout
    );
    assert!(
        cut.stderr.contains("cut off after 7 users"),
        "{}",
        cut.stderr
    );
}
