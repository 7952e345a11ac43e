//! `muster orgs`: a system admin lists, creates, suspends, reactivates, re-plans and
//! deletes organisations (a deletion needs the id repeated); an organisation's admin and
//! its API tokens cannot.

use crate::support::{ADMIN_EMAIL, SYSTEM_ADMIN, Server, as_person};

fn org_in(list: &serde_json::Value, id: &str) -> Option<serde_json::Value> {
    list.as_array()
        .unwrap()
        .iter()
        .find(|org| org["id"] == id)
        .cloned()
}

#[test]
fn a_system_admin_manages_organisations() {
    let server = Server::start();
    server.seed_system_admin();
    let muster = server.muster();
    let root = as_person(&muster, SYSTEM_ADMIN);

    let list = root.run(&["orgs", "list", "--json"]).success().json();
    let acme = org_in(&list, "acme").expect("acme is listed");
    assert_eq!(
        (&acme["plan"], &acme["status"]),
        (&serde_json::json!("free"), &serde_json::json!("active")),
        "{acme}"
    );
    let table = root.run(&["orgs", "list"]).success();
    assert!(
        table.stdout.contains("PLAN") && table.stdout.contains("acme"),
        "{}",
        table.stdout
    );
    let plans = root.run(&["orgs", "plans", "--json"]).success().json();
    assert_eq!(plans[1]["id"], "standard", "the server's plans: {plans}");

    let created = root
        .run(&[
            "orgs",
            "create",
            "gamma",
            "--name",
            "Gamma Heating",
            "--plan",
            "standard",
        ])
        .success();
    assert!(
        created.stdout.contains("Created Gamma Heating (gamma)"),
        "{}",
        created.stdout
    );
    root.run(&["orgs", "create", "Gamma Two", "--name", "x"])
        .code(7);
    root.run(&[
        "orgs", "create", "delta", "--name", "Delta", "--plan", "gold",
    ])
    .code(7);
    root.run(&["orgs", "create", "gamma", "--name", "Again"])
        .code(5);

    let replanned = root
        .run(&["orgs", "set-plan", "gamma", "enterprise", "--json"])
        .success()
        .json();
    assert_eq!(replanned["plan"], "enterprise", "as saved: {replanned}");
    let suspended = root
        .run(&["orgs", "suspend", "gamma", "--json"])
        .success()
        .json();
    assert_eq!(suspended["status"], "suspended", "as saved: {suspended}");
    root.run(&["orgs", "suspend", "gamma"]).code(5);
    let reactivated = root.run(&["orgs", "reactivate", "gamma"]).success();
    assert!(
        reactivated.stdout.contains("active"),
        "{}",
        reactivated.stdout
    );

    root.run(&["orgs", "delete", "gamma"]).code(2);
    root.run(&["orgs", "delete", "gamma", "--confirm", "gama"])
        .code(7);
    assert_eq!(
        server.query_one("SELECT id FROM orgs WHERE id = 'gamma'"),
        Some("gamma".to_owned()),
        "a deletion not confirmed changes nothing"
    );
    let deleted = root
        .run(&["orgs", "delete", "gamma", "--confirm", "gamma", "--json"])
        .success()
        .json();
    assert_eq!(deleted["id"], "gamma", "{deleted}");
    assert_eq!(
        server.query_one("SELECT id FROM orgs WHERE id = 'gamma'"),
        None,
        "gone"
    );
    root.run(&["orgs", "suspend", "gamma"]).code(4);
    let list = root.run(&["orgs", "list", "--json"]).success().json();
    assert!(org_in(&list, "gamma").is_none(), "no longer listed: {list}");
}

#[test]
fn organisations_are_for_system_admins_only() {
    let server = Server::start();
    let muster = server.muster();
    let admin = as_person(&muster, ADMIN_EMAIL);
    for runner in [&admin, &muster] {
        runner.run(&["orgs", "list"]).code(3);
        runner
            .run(&["orgs", "create", "evil", "--name", "Evil"])
            .code(3);
        runner.run(&["orgs", "suspend", "acme"]).code(3);
        runner
            .run(&["orgs", "delete", "acme", "--confirm", "acme"])
            .code(3);
    }
    assert_eq!(
        server.query_one("SELECT status FROM orgs WHERE id = 'acme'"),
        Some("active".to_owned()),
        "nothing happened"
    );
}
