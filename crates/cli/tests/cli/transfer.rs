//! `muster users export` and `muster users import` against a real server: the export
//! agrees with `users list`, and an import names every problem before sending, then creates
//! and welcomes only the good rows.

use std::collections::BTreeSet;
use std::path::PathBuf;

use serde_json::Value;

use crate::support::{ADMIN_EMAIL, Muster, SEEDED_USERS, Server};
use muster_test_support::TempDir;

const ROLE: &str = "urn:muster:params:scim:schemas:extension:shop:2.0:User:role";

/// The values of one column of CSV `text` (a header row, CRLF line ends, no quoted
/// line breaks), by header name.
fn column(text: &str, name: &str) -> Vec<String> {
    let mut lines = text.split("\r\n").filter(|l| !l.is_empty());
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let at = header.iter().position(|h| *h == name).unwrap();
    lines
        .map(|line| line.split(',').nth(at).unwrap_or_default().to_owned())
        .collect()
}

/// `users list --all --json` for `filter`, as (id, userName) pairs in the server's order.
fn listed(muster: &Muster, args: &[&str]) -> Vec<(String, String)> {
    let mut all = vec!["users", "list", "--all", "--json"];
    all.extend_from_slice(args);
    let users = muster.run(&all).success().json();
    users
        .as_array()
        .unwrap()
        .iter()
        .map(|u| {
            (
                u["id"].as_str().unwrap().to_owned(),
                u["userName"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// How many emails the server's outbox holds for `address`.
fn mail_to(server: &Server, address: &str) -> usize {
    let sql = format!(
        "SELECT CAST(count(*) AS TEXT) FROM outbox WHERE recipient_folded = '{}'",
        address.to_lowercase().replace('\'', "''")
    );
    server.query_one(&sql).unwrap().parse().unwrap()
}

fn write_file(name: &str, text: &str) -> (TempDir, PathBuf) {
    let dir = TempDir::new("cli-import");
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    (dir, path)
}

#[test]
fn export_matches_users_list_for_the_same_filter() {
    let server = Server::start();
    let muster = server.muster();
    let filter = format!("{ROLE} eq \"technician\"");

    let listed = listed(&muster, &["--filter", &filter, "--sort-by", "userName"]);
    assert!(
        listed.len() > 5 && listed.len() < SEEDED_USERS,
        "a filter that picks some users: {}",
        listed.len()
    );
    let exported = muster
        .run(&[
            "users",
            "export",
            "--filter",
            &filter,
            "--sort-by",
            "userName",
            "--columns",
            "id,userName,role",
        ])
        .success()
        .stdout;
    assert_eq!(
        column(&exported, "id"),
        listed.iter().map(|(id, _)| id.clone()).collect::<Vec<_>>(),
        "the same users, in the same order, as `users list` for the same filter"
    );
    assert!(column(&exported, "role").iter().all(|r| r == "technician"));

    let by_option = muster
        .run(&[
            "users",
            "export",
            "--role",
            "TECHNICIAN",
            "--sort-by",
            "userName",
            "--columns",
            "id,userName,role",
        ])
        .success()
        .stdout;
    assert_eq!(
        by_option, exported,
        "--role filters like the SCIM filter on role"
    );

    let searched = muster
        .run(&[
            "users",
            "export",
            "--search",
            ADMIN_EMAIL,
            "--columns",
            "userName",
            "--bom",
        ])
        .success()
        .stdout;
    assert_eq!(
        searched,
        format!("\u{FEFF}userName\r\n{ADMIN_EMAIL}\r\n"),
        "--search finds the admin alone; --bom starts the file with a byte-order mark"
    );

    let ids: BTreeSet<String> = column(
        &muster
            .run(&["users", "export", "--columns", "id"])
            .success()
            .stdout,
        "id",
    )
    .into_iter()
    .collect();
    assert_eq!(
        ids.len(),
        SEEDED_USERS + 1,
        "every user, the integration user too"
    );

    let offline = muster.run(&["users", "export", "--offline"]).code(1);
    assert!(
        offline.stderr.contains("no offline copy"),
        "without a keychain there is no copy, and it says so: {}",
        offline.stderr
    );
    let bad = muster
        .run(&["users", "export", "--columns", "id,shoeSize"])
        .code(2);
    assert!(bad.stderr.contains("'shoeSize'"), "{}", bad.stderr);
}

/// A file with two good rows and one row for each kind of problem.
fn people() -> String {
    [
        "E-mail,First name,Last name,Licence,Role,Branch,Zones,Notes",
        "new.one@acme.test,New,One,field,technician,denver,North,first good row",
        "new.two@acme.test,New,Two,desk,viewer,Boulder,,second good row",
        "not-an-email,Bad,Address,field,,,,",
        ",No,Address,field,,,,",
        "twin@acme.test,Twin,A,field,,,,",
        "TWIN@acme.test,Twin,B,field,,,,",
        &format!("{ADMIN_EMAIL},Avery,Admin,contractor,,,,"),
        "typo@acme.test,Ty,Po,feild,technican,Dever,Nowhere,",
        "ragged@acme.test,Rag,Ged",
        "",
    ]
    .join("\r\n")
}

#[test]
fn a_dry_run_names_each_problem_and_sends_nothing() {
    let server = Server::start();
    let muster = server.muster();
    let (_dir, file) = write_file("people.csv", &people());
    let file = file.to_str().unwrap();
    let before = listed(&muster, &[]).len();

    let run = muster.run(&["users", "import", file, "--dry-run"]).code(7);
    for expected in [
        "E-mail      email",
        "Notes       Left out",
        "9 rows: 2 ready, 7 with problems.",
        "'not-an-email' is not an email address.",
        "No email address.",
        "row 7 too",
        "Avery Admin already has this email address (active).",
        "Try: admin+contractor@acme.test",
        "'feild' is not a licence",
        "Try: field",
        "Try: technician",
        "No user has the home branch 'Dever'. Try: Denver",
        "No user has the zone 'Nowhere'.",
        "This row has 3 fields but the header has 8",
    ] {
        assert!(
            run.stdout.contains(expected),
            "{expected:?} in:\n{}",
            run.stdout
        );
    }
    assert!(
        run.stderr
            .contains("7 of 9 rows have problems; nothing was sent."),
        "{}",
        run.stderr
    );

    let json = muster
        .run(&["users", "import", file, "--dry-run", "--json"])
        .code(7)
        .json();
    let rows = json["error"]["preview"]["rows"].as_array().unwrap();
    let kinds = |row: u64| -> Vec<&str> {
        rows.iter().find(|r| r["row"] == row).unwrap()["problems"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["kind"].as_str().unwrap())
            .collect()
    };
    assert!(kinds(2).is_empty() && kinds(3).is_empty());
    assert_eq!(kinds(4), ["badEmail"]);
    assert_eq!(kinds(5), ["missing"]);
    assert_eq!(kinds(6), ["duplicate"]);
    assert_eq!(kinds(7), ["duplicate"]);
    assert_eq!(kinds(8), ["exists"]);
    assert_eq!(kinds(9), ["unknown", "unknown", "unknown", "unknown"]);
    assert_eq!(kinds(10), ["ragged"]);

    assert_eq!(
        listed(&muster, &[]).len(),
        before,
        "a dry run creates nobody"
    );
    assert_eq!(mail_to(&server, "new.one@acme.test"), 0);
}

#[test]
fn an_import_creates_and_welcomes_only_the_good_rows() {
    let server = Server::start();
    let muster = server.muster();
    let (dir, file) = write_file("people.csv", &people());
    let report = dir.join("report.csv");
    let (file, report_path) = (file.to_str().unwrap(), report.to_str().unwrap());

    let declined = muster
        .run_with_stdin(&["users", "import", file], "n\n")
        .code(2);
    assert!(
        declined.stderr.contains("Not confirmed"),
        "{}",
        declined.stderr
    );
    assert_eq!(
        mail_to(&server, "new.one@acme.test"),
        0,
        "nothing sent when declined"
    );

    let run = muster
        .run_with_stdin(&["users", "import", file, "--report", report_path], "y\n")
        .code(7);
    assert!(
        run.stdout
            .contains("Created 2 users and sent 2 welcome emails."),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("7 rows with problems were left out."));

    for good in ["new.one@acme.test", "new.two@acme.test"] {
        let found = muster
            .run(&[
                "users",
                "list",
                "--filter",
                &format!("userName eq \"{good}\""),
                "--json",
            ])
            .success()
            .json();
        let shop = &found[0]["urn:muster:params:scim:schemas:extension:shop:2.0:User"];
        assert_eq!(shop["status"], "invited", "{found}");
        assert_eq!(
            shop["invitation"]["state"], "pending",
            "the welcome went: {found}"
        );
        assert_eq!(mail_to(&server, good), 1, "one welcome email to {good}");
    }
    let one = muster
        .run(&[
            "users",
            "export",
            "--search",
            "new.one@",
            "--columns",
            "homeBranch,zones,licence",
        ])
        .success()
        .stdout;
    assert_eq!(
        one, "homeBranch,zones,licence\r\nDenver,North,field\r\n",
        "values as the organisation spells them"
    );
    for bad in [
        "not-an-email",
        "twin@acme.test",
        "typo@acme.test",
        "ragged@acme.test",
    ] {
        let found = muster
            .run(&[
                "users",
                "list",
                "--filter",
                &format!("userName eq \"{bad}\""),
                "--json",
            ])
            .success()
            .json();
        assert_eq!(found, Value::Array(vec![]), "{bad} is not created");
        assert_eq!(mail_to(&server, bad), 0);
    }
    assert_eq!(
        mail_to(&server, ADMIN_EMAIL),
        0,
        "the existing admin is not re-invited"
    );

    let text = std::fs::read_to_string(&report).unwrap();
    assert!(
        text.starts_with("row,email,outcome,message,userId\r\n"),
        "{text}"
    );
    assert_eq!(
        column(&text, "outcome"),
        [
            "invited", "invited", "skipped", "skipped", "skipped", "skipped", "skipped", "skipped",
            "skipped"
        ]
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&report).unwrap().permissions().mode();
        assert_eq!(
            mode & 0o077,
            0,
            "the report holds personal data: owner only"
        );
    }

    let again = muster.run(&["users", "import", file, "--yes"]).code(7);
    assert!(
        again.stderr.contains("No row is ready"),
        "a second run finds everyone created already: {}",
        again.stderr
    );
    assert_eq!(
        mail_to(&server, "new.one@acme.test"),
        1,
        "and sends nothing again"
    );
}

#[test]
fn columns_can_be_mapped_and_bad_files_are_refused_with_their_line() {
    let server = Server::start();
    let muster = server.muster();
    let (_dir, file) = write_file(
        "mapped.csv",
        "Work mail;Who;Shoe size\r\nmapped@acme.test;Map Ped;44\r\n",
    );
    let file = file.to_str().unwrap();
    let unmapped = muster.run(&["users", "import", file, "--dry-run"]).code(7);
    assert!(
        unmapped.stderr.contains("No column holds email addresses"),
        "{}",
        unmapped.stderr
    );
    let mapped = muster
        .run(&[
            "users",
            "import",
            file,
            "--dry-run",
            "--map",
            "work mail=email",
            "--map",
            "Who=name",
            "--map",
            "Shoe size=",
        ])
        .success();
    assert!(
        mapped.stdout.contains("1 rows: 1 ready, 0 with problems."),
        "{}",
        mapped.stdout
    );
    let bad_map = muster
        .run(&["users", "import", file, "--map", "Who=shoeSize"])
        .code(2);
    assert!(
        bad_map.stderr.contains("no field 'shoeSize'"),
        "{}",
        bad_map.stderr
    );

    let (other, broken) = write_file(
        "broken.csv",
        "email,name\nok@acme.test,Ok\nx\"y@acme.test,X\n",
    );
    let refused = muster
        .run(&["users", "import", broken.to_str().unwrap(), "--dry-run"])
        .code(7);
    assert!(
        refused.stderr.contains("Line 3") && refused.stderr.contains("quote"),
        "{}",
        refused.stderr
    );
    let _ = std::fs::remove_dir_all(other);
}
