//! `muster groups`.

use crate::support::{ADMIN_EMAIL, Server, user_id};

#[test]
fn groups_are_created_changed_and_deleted() {
    let server = Server::start();
    let muster = server.muster();
    let admin = user_id(&muster, ADMIN_EMAIL);
    let integration = user_id(&muster, "integration");

    let list = muster.run(&["groups", "list"]).success();
    assert!(
        list.stdout.contains("Dispatch"),
        "the seeded groups: {}",
        list.stdout
    );

    let created = muster
        .run(&[
            "groups",
            "create",
            "Night Shift",
            "--member",
            &admin,
            "--json",
        ])
        .success()
        .json();
    let id = created["id"].as_str().unwrap().to_owned();
    assert_eq!(created["members"].as_array().unwrap().len(), 1);

    let added = muster
        .run(&["groups", "add-member", &id, &integration])
        .success();
    assert!(
        added.stdout.contains("it has 2 members"),
        "{}",
        added.stdout
    );
    let shown = muster.run(&["groups", "show", &id]).success();
    assert!(shown.stdout.contains(&integration), "{}", shown.stdout);

    let removed = muster
        .run(&["groups", "remove-member", &id, &admin, "--json"])
        .success()
        .json();
    let members = removed["members"].as_array().unwrap();
    assert_eq!(members.len(), 1);
    assert_eq!(members[0]["value"], integration);

    let filtered = muster
        .run(&[
            "groups",
            "list",
            "--filter",
            "displayName eq \"Night Shift\"",
            "--json",
        ])
        .success()
        .json();
    assert_eq!(filtered.as_array().unwrap().len(), 1);

    muster.run(&["groups", "delete", &id]).success();
    muster.run(&["groups", "show", &id]).code(4);
    muster.run(&["groups", "add-member", &id]).code(2);
}
