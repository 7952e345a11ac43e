//! The engine's rules against a real muster-server: for every status a user can be in
//! (invited, invited with a lapsed invitation, active, suspended, deactivated, deleted),
//! every role that can sign in (admin, technician, viewer, system admin), and the user
//! being someone else or oneself, every action the engine offers succeeds and every
//! action it withholds is refused by the server. No mismatch in either direction.
//!
//! Each attempt acts on a fresh user put straight into that state, so no attempt depends
//! on another's outcome.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use muster_core::Client;
use muster_core::actions::{Action, Reassign};
use muster_core::discovery::Capabilities;
use muster_core::rules::{self, Account, UserAction};
use muster_core::secret::Secret;
use muster_scim::message::PatchOperation;
use muster_scim::urn::SHOP_USER;
use muster_scim::user::User;
use muster_server::scim::kind::Kind;
use muster_server::scim::store::{self, PasswordChange};
use muster_test_support::{PASSWORD, TestServer};
use rusqlite::params;
use serde_json::json;

const ORG: &str = "rules";

/// The states a user is put into, by name.
const STATES: [&str; 6] = [
    "invited",
    "invited-expired",
    "active",
    "suspended",
    "deactivated",
    "deleted",
];

/// Someone signed in, and how the engine knows them.
struct Signed {
    label: &'static str,
    client: Client,
    account: Account,
    /// Their own user id (not for the system admin).
    own_id: Option<String>,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_offered_action_succeeds_and_every_withheld_one_is_refused() {
    let server = TestServer::start().await;
    server.seed_org(ORG);
    let mut people = Vec::new();
    for role in ["admin", "technician", "viewer"] {
        let email = format!("{role}@rules.test");
        // No two-factor for the people signing in (the matrix signs them in with a
        // password alone); so resetting one's own is not in play, and the rules say so.
        let id = server.seed_person(ORG, role, &email, role, PASSWORD);
        let client = server.sign_in(ORG, &email, PASSWORD).await;
        people.push(Signed {
            label: role,
            account: Account::from(client.account().expect("a signed-in account")),
            client,
            own_id: Some(id),
        });
    }
    let root = server.system_admin(ORG).await;
    // Signed in by token (no organisation), so the client knows no account: the app
    // knows it from the sign-in, as this.
    people.push(Signed {
        label: "system admin",
        account: Account {
            user_id: None,
            role: None,
            system_admin: true,
        },
        client: root,
        own_id: None,
    });
    // The capabilities as the admin's app reads them.
    let capabilities = people[0].client.discover().await.unwrap();
    assert!(
        capabilities.is_muster,
        "the rules come from a Muster server"
    );

    let root = &people[3].client;
    let mut checked = 0;
    let mut mismatches = Vec::new();
    for person in &people {
        for state in STATES {
            for action in UserAction::ALL {
                let target = target(&server, state, checked);
                checked += 1;
                let user = as_read(&server, root, &target, state).await;
                let offered = offered(&user, &person.account, &capabilities, action);
                let done = attempt(&person.client, &target, action).await;
                if offered != done.is_ok() {
                    mismatches.push(format!(
                        "{} × {state} × {}: offered {offered}, server {:?}",
                        person.label,
                        action.name(),
                        done
                    ));
                }
            }
        }
        // Oneself: signed in, so active.
        if let Some(own) = &person.own_id {
            for action in UserAction::ALL {
                let user = as_read(&server, root, own, "active").await;
                let offered = offered(&user, &person.account, &capabilities, action);
                // Never let an attempt on oneself succeed by accident of order: the rules
                // must withhold every lock-out, and the server refuse it.
                let done = attempt(&person.client, own, action).await;
                checked += 1;
                if offered != done.is_ok() {
                    mismatches.push(format!(
                        "{} × oneself × {}: offered {offered}, server {:?}",
                        person.label,
                        action.name(),
                        done
                    ));
                }
            }
        }
    }
    assert!(
        mismatches.is_empty(),
        "the engine and the server disagree in {} of {checked} cases:\n{}",
        mismatches.len(),
        mismatches.join("\n")
    );
    assert!(checked > 300, "the whole matrix ran: {checked} cases");
}

/// Whether the engine offers `action` for `user`, available to `account`.
fn offered(
    user: &User,
    account: &Account,
    capabilities: &Capabilities,
    action: UserAction,
) -> bool {
    rules::offer(action, user, Some(account), capabilities).is_some_and(|offer| offer.available)
}

/// A fresh user of the org in `state`, with an email address and two-factor on, and no
/// responsibilities (so deactivating needs no handover).
fn target(server: &TestServer, state: &str, n: usize) -> String {
    let email = format!("target{n}@rules.test");
    let now = server.now();
    let doc = json!({
        "schemas": [muster_scim::urn::USER, SHOP_USER],
        "userName": format!("target{n}"),
        "name": {"givenName": "Target", "familyName": format!("{n}")},
        "emails": [{"value": email, "primary": true}],
        SHOP_USER: {"role": "technician", "licence": "field"},
    });
    let id = server
        .state
        .db
        .write_blocking(|tx| {
            Ok(store::insert(tx, Kind::User, ORG, &doc, PasswordChange::Keep, now)?.id)
        })
        .unwrap();
    let stamp = |at: time::OffsetDateTime| muster_server::scim::store::format_time(at);
    let sent = stamp(now - time::Duration::hours(50));
    let (status, expires) = match state {
        "invited" => ("invited", Some(stamp(now + time::Duration::hours(40)))),
        "invited-expired" => ("invited", Some(stamp(now - time::Duration::hours(2)))),
        "active" => ("active", None),
        "suspended" => ("suspended", None),
        "deactivated" => ("deactivated", None),
        "deleted" => ("deleted", None),
        other => panic!("no state {other}"),
    };
    server.write(|tx| {
        tx.execute(
            "UPDATE users SET status = ?3, invitation_sent = ?4, invitation_expires = ?5, \
             status_before_delete = CASE ?3 WHEN 'deleted' THEN 'active' END, \
             deleted_at = CASE ?3 WHEN 'deleted' THEN ?6 END WHERE org = ?1 AND id = ?2",
            params![
                ORG,
                id,
                status,
                expires.as_ref().map(|_| &sent),
                expires,
                stamp(now)
            ],
        )
        .unwrap();
    });
    enrol_mfa(server, &id);
    id
}

/// Two-factor on, as if the user had enrolled.
fn enrol_mfa(server: &TestServer, id: &str) {
    let now = muster_server::scim::store::format_time(server.now());
    server.write(|tx| {
        tx.execute(
            "INSERT INTO mfa (org, user_id, secret, created, confirmed_at) VALUES (?1, ?2, ?3, ?4, ?4)",
            params![ORG, id, "JBSWY3DPEHPK3PXP", now],
        )
        .unwrap();
    });
}

/// The user as the app holds them: the server's rendering, read as the system admin
/// (deleted users are hidden from SCIM, so theirs is read before and marked deleted, as
/// a listing of deleted users shows them).
async fn as_read(server: &TestServer, root: &Client, id: &str, state: &str) -> User {
    if state == "deleted" {
        let status: String = server.write(|tx| {
            tx.query_row(
                "SELECT status FROM users WHERE org = ?1 AND id = ?2",
                params![ORG, id],
                |row| row.get(0),
            )
            .unwrap()
        });
        assert_eq!(status, "deleted");
        server.write(|tx| {
            tx.execute(
                "UPDATE users SET status = 'active' WHERE org = ?1 AND id = ?2",
                params![ORG, id],
            )
            .unwrap()
        });
        let mut user = root.users().get(id).await.unwrap().value;
        server.write(|tx| {
            tx.execute(
                "UPDATE users SET status = 'deleted' WHERE org = ?1 AND id = ?2",
                params![ORG, id],
            )
            .unwrap()
        });
        user.shop.as_mut().unwrap().status = Some(muster_scim::user::UserStatus::Deleted);
        return user;
    }
    root.users().get(id).await.unwrap().value
}

/// Tries `action` on user `id` as `client`: what the server answered.
async fn attempt(client: &Client, id: &str, action: UserAction) -> Result<(), String> {
    let write = match action {
        UserAction::Edit => {
            let change = vec![PatchOperation::replace(
                format!("{SHOP_USER}:jobRole"),
                json!("Fitter"),
            )];
            return client
                .users()
                .patch(id, change, None)
                .await
                .map(|_| ())
                .map_err(|e| e.to_string());
        }
        // The app deletes with the server's `delete` action (which takes a handover).
        UserAction::Delete => Action::Delete {
            reassign: Reassign::default(),
        },
        UserAction::SendWelcome => Action::welcome(),
        UserAction::SendPasswordReset => Action::SendPasswordReset,
        UserAction::SendMagicLink => Action::SendMagicLink,
        UserAction::SetPassword => Action::SetPassword {
            password: Secret::new("Fresh-Rules-Pass-42!"),
            must_change: true,
        },
        UserAction::Suspend => Action::Suspend,
        UserAction::Unsuspend => Action::Unsuspend,
        UserAction::RevokeSessions => Action::RevokeSessions,
        UserAction::ResetMfa => Action::ResetMfa,
        UserAction::Deactivate => Action::Deactivate {
            reassign: Reassign::default(),
        },
        UserAction::Reactivate => Action::Reactivate,
        UserAction::Restore => Action::Restore,
    };
    client
        .actions()
        .run(id, write)
        .await
        .map(|_| ())
        .map_err(|e| e.to_string())
}
