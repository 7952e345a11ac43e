//! `muster bulk ACTION`: over a filter or ids, the summary, re-runs, failures and their
//! exit code, and the confirmation.

use serde_json::Value;

use crate::support::{Muster, Server};

const SHOP: &str = "urn:muster:params:scim:schemas:extension:shop:2.0:User";

/// Ids of users the filter matches.
fn ids(muster: &Muster, filter: &str) -> Vec<String> {
    let users = muster
        .run(&["users", "list", "--all", "--filter", filter, "--json"])
        .success()
        .json();
    users
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["id"].as_str().unwrap().to_owned())
        .collect()
}

fn summary_ids(summary: &Value, outcome: &str) -> Vec<String> {
    summary["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["outcome"] == outcome)
        .map(|r| r["id"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn a_filter_names_the_users_and_a_rerun_finds_them_done() {
    let server = Server::start();
    let muster = server.muster();
    let field = format!("{SHOP}:licence eq \"field\"");
    let before = ids(&muster, &field);
    assert!(before.len() >= 3, "the seed has field technicians");
    let summary = muster
        .run(&[
            "bulk",
            "set-licence",
            "--filter",
            &field,
            "--licence",
            "timesheet",
            "--yes",
            "--json",
        ])
        .success()
        .json();
    assert_eq!(summary["action"], "set-licence");
    assert_eq!(summary["total"], before.len());
    assert_eq!(summary["done"], before.len(), "{summary}");
    assert!(
        ids(&muster, &field).is_empty(),
        "the server agrees: nobody is on the field licence now"
    );

    // The same users again: nothing to do, each "already done", exit 0.
    let again = muster
        .run(&[
            "bulk",
            "set-licence",
            "--ids",
            &before.join(","),
            "--licence",
            "timesheet",
            "--yes",
        ])
        .success();
    assert!(
        again.stdout.starts_with(&format!(
            "set-licence: 0 done, {} skipped, 0 failed, 0 not run",
            before.len()
        )),
        "{}",
        again.stdout
    );
    assert!(
        again.stdout.contains("Already has the timesheet licence."),
        "skips are listed by reason: {}",
        again.stdout
    );
}

#[test]
fn failures_are_listed_and_set_the_exit_code() {
    let server = Server::start();
    let muster = server.muster();
    // A field technician with work to hand over, and a newcomer with none.
    let technicians = ids(
        &muster,
        &format!("{SHOP}:licence eq \"field\" and {SHOP}:status eq \"active\""),
    );
    let holder = technicians
        .iter()
        .find(|id| {
            let held = muster
                .run(&["users", "responsibilities", id, "--json"])
                .success()
                .json();
            held["total"].as_u64().unwrap_or(0) > 0
        })
        .expect("a seeded technician holds responsibilities")
        .clone();
    let newcomer = muster
        .run(&[
            "users",
            "create",
            "--user-name",
            "nia",
            "--email",
            "nia@acme.test",
            "--json",
        ])
        .success()
        .json()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let run = muster
        .run(&[
            "bulk",
            "deactivate",
            "--ids",
            &format!("{holder},{newcomer}"),
            "--yes",
            "--json",
        ])
        .code(5);
    let error = &run.json()["error"];
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .starts_with("1 of 2 users failed"),
        "{error}"
    );
    let summary = &error["summary"];
    assert_eq!(
        summary_ids(summary, "done"),
        std::slice::from_ref(&newcomer)
    );
    assert_eq!(
        summary_ids(summary, "failed"),
        std::slice::from_ref(&holder)
    );
    let failed = &summary["results"][0];
    assert_eq!(failed["code"], "conflict");
    assert!(
        failed["reason"]
            .as_str()
            .unwrap()
            .contains("Reassign these first"),
        "the server's reason: {failed}"
    );

    // Fixed and run again: the newcomer is already done, the technician is deactivated.
    let successor = technicians
        .iter()
        .find(|id| **id != holder)
        .unwrap()
        .clone();
    let fixed = muster
        .run(&[
            "bulk",
            "deactivate",
            "--ids",
            &format!("{holder},{newcomer}"),
            "--reassign-to",
            &successor,
            "--yes",
        ])
        .success();
    assert!(
        fixed
            .stdout
            .starts_with("deactivate: 1 done, 1 skipped, 0 failed"),
        "{}",
        fixed.stdout
    );
}

#[test]
fn without_yes_it_asks_first() {
    let server = Server::start();
    let muster = server.muster();
    let id = muster
        .run(&[
            "users",
            "create",
            "--user-name",
            "ola",
            "--email",
            "ola@acme.test",
            "--json",
        ])
        .success()
        .json()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let declined = muster.run_with_stdin(&["bulk", "suspend", "--ids", &id], "n\n");
    assert_eq!(declined.code, 2, "{}", declined.stderr);
    assert!(
        declined.stderr.contains("Suspend 1 user? [y/N]"),
        "{}",
        declined.stderr
    );
    let user = muster
        .run(&["users", "show", &id, "--json"])
        .success()
        .json();
    assert_eq!(user[SHOP]["status"], "invited", "declined: nothing changed");

    let accepted = muster.run_with_stdin(&["bulk", "suspend", "--ids", &id], "y\n");
    assert_eq!(accepted.code, 0, "{}", accepted.stderr);
    let user = muster
        .run(&["users", "show", &id, "--json"])
        .success()
        .json();
    assert_eq!(user[SHOP]["status"], "suspended");

    let missing = muster.run(&["bulk", "set-role", "--ids", &id, "--yes"]);
    assert_eq!(missing.code, 2, "set-role without --role is a usage error");
    assert!(
        missing.stderr.contains("needs --role"),
        "{}",
        missing.stderr
    );
}
