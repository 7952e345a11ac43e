#![allow(clippy::unwrap_used)]

use muster_scim::user::{Role, User, UserStatus};
use serde_json::{Value, json};

use super::*;
use crate::discovery::{ActionRule, Capabilities, Requires};

/// The rules a Muster server publishes, as its `/actions` document says them (some of
/// the server's actions, with `reset-mfa` left without the server's words for oneself).
pub(crate) fn muster() -> Capabilities {
    let document = json!([
        {"name": "send-welcome", "allowedFrom": ["invited"], "requires": "admin", "onSelf": true, "needs": ["email"]},
        {"name": "suspend", "allowedFrom": ["invited", "active"], "requires": "admin", "onSelf": false,
         "selfRefusal": "You cannot suspend your own account."},
        {"name": "unsuspend", "allowedFrom": ["suspended"], "requires": "admin", "onSelf": true},
        {"name": "revoke-sessions", "allowedFrom": ["invited", "active", "suspended", "deactivated"],
         "requires": "admin", "onSelf": false},
        {"name": "reset-mfa", "allowedFrom": ["invited", "active", "suspended", "deactivated"],
         "requires": "admin", "onSelf": false, "needs": ["mfaEnabled"]},
        {"name": "deactivate", "allowedFrom": ["invited", "active", "suspended"], "requires": "admin",
         "onSelf": false, "selfRefusal": "You cannot deactivate your own account."},
        {"name": "restore", "allowedFrom": ["deleted"], "requires": "systemAdmin", "onSelf": true},
    ]);
    Capabilities {
        is_muster: true,
        actions: serde_json::from_value(document).unwrap(),
        ..Capabilities::default()
    }
}

fn user(id: &str, shop: Value) -> User {
    User::from_json(json!({
        "id": id, "userName": format!("{id}@shop.test"),
        "emails": [{"value": format!("{id}@shop.test")}],
        "urn:muster:params:scim:schemas:extension:shop:2.0:User": shop,
    }))
    .unwrap()
}

pub(crate) fn admin(id: &str) -> Account {
    Account {
        user_id: Some(id.into()),
        role: Some(Role::Admin),
        system_admin: false,
    }
}

fn names(offers: &[Offer]) -> Vec<(&'static str, bool)> {
    offers
        .iter()
        .map(|o| (o.action.name(), o.available))
        .collect()
}

#[test]
fn the_status_decides_what_applies_and_the_account_what_is_available() {
    let caps = muster();
    let invited = user("u1", json!({"status": "invited"}));
    assert_eq!(
        names(&offers(&invited, Some(&admin("me")), &caps)),
        [
            ("edit", true),
            ("send-welcome", true),
            ("suspend", true),
            ("revoke-sessions", true),
            ("deactivate", true),
            ("delete", true)
        ],
        "unsuspend, restore and reset-mfa (no two-factor) do not apply"
    );
    let suspended = user("u2", json!({"status": "suspended", "mfaEnabled": true}));
    assert_eq!(
        names(&offers(&suspended, Some(&admin("me")), &caps)),
        [
            ("edit", true),
            ("unsuspend", true),
            ("revoke-sessions", true),
            ("reset-mfa", true),
            ("deactivate", true),
            ("delete", true)
        ]
    );
}

#[test]
fn oneself_gets_the_servers_reason() {
    let caps = muster();
    let me = user("me", json!({"status": "active", "mfaEnabled": true}));
    let offers = offers(&me, Some(&admin("me")), &caps);
    let suspend = offers
        .iter()
        .find(|o| o.action == UserAction::Suspend)
        .unwrap();
    assert!(!suspend.available);
    assert_eq!(
        suspend.reason.as_deref(),
        Some("You cannot suspend your own account.")
    );
    let reset = offers
        .iter()
        .find(|o| o.action == UserAction::ResetMfa)
        .unwrap();
    assert_eq!(
        reset.reason.as_deref(),
        Some("You cannot do this to your own account."),
        "a refusal the server did not word gets a plain one"
    );
    let delete = offers
        .iter()
        .find(|o| o.action == UserAction::Delete)
        .unwrap();
    assert!(!delete.available);
    let edit = offers
        .iter()
        .find(|o| o.action == UserAction::Edit)
        .unwrap();
    assert!(edit.available, "one edits one's own details");
}

#[test]
fn read_only_roles_see_the_actions_with_their_role_as_the_reason() {
    let caps = muster();
    let someone = user("u1", json!({"status": "active"}));
    for (role, words) in [(Role::Viewer, "viewer"), (Role::Technician, "Technicians")] {
        let account = Account {
            user_id: Some("me".into()),
            role: Some(role),
            system_admin: false,
        };
        let offers = offers(&someone, Some(&account), &caps);
        assert!(!offers.is_empty());
        for offer in &offers {
            assert!(!offer.available, "{offer:?}");
            assert!(
                offer.reason.as_deref().unwrap().contains(words),
                "{offer:?}"
            );
        }
    }
}

#[test]
fn only_system_admins_restore_and_nothing_else_applies_to_the_deleted() {
    let caps = muster();
    let deleted = user("gone", json!({"status": "deleted"}));
    let as_admin = offers(&deleted, Some(&admin("me")), &caps);
    assert_eq!(names(&as_admin), [("restore", false)]);
    assert_eq!(
        as_admin[0].reason.as_deref(),
        Some("Only system admins can restore deleted users.")
    );
    let root = Account {
        system_admin: true,
        ..Account::default()
    };
    assert_eq!(
        names(&offers(&deleted, Some(&root), &caps)),
        [("restore", true)]
    );
}

#[test]
fn what_the_user_lacks_is_said() {
    let caps = muster();
    let no_email = User::from_json(json!({"id": "u9", "userName": "nine",
        "urn:muster:params:scim:schemas:extension:shop:2.0:User": {"status": "invited"}}))
    .unwrap();
    let welcome = offer(
        UserAction::SendWelcome,
        &no_email,
        Some(&admin("me")),
        &caps,
    )
    .unwrap();
    assert!(!welcome.available);
    assert!(welcome.reason.unwrap().contains("no email address"));

    let mut strange = muster();
    strange.actions.push(ActionRule {
        name: "send-magic-link".into(),
        allowed_from: Some(vec![UserStatus::Active]),
        requires: Requires::Admin,
        not_on_self: None,
        needs: vec!["smsVerified".into()],
    });
    let active = user("u1", json!({"status": "active"}));
    let magic = offer(
        UserAction::SendMagicLink,
        &active,
        Some(&admin("me")),
        &strange,
    )
    .unwrap();
    assert!(
        !magic.available,
        "an unknown need is not offered as if it were met"
    );
    assert!(magic.reason.unwrap().contains("smsVerified"));
}

#[test]
fn a_plain_scim_provider_offers_what_scim_can_do() {
    let caps = Capabilities {
        change_password: true,
        ..Capabilities::default()
    };
    let active = User::from_json(json!({"id": "a", "userName": "a", "active": true})).unwrap();
    assert_eq!(
        names(&offers(&active, None, &caps)),
        [
            ("edit", true),
            ("set-password", true),
            ("deactivate", true),
            ("delete", true)
        ]
    );
    let inactive = User::from_json(json!({"id": "b", "userName": "b", "active": false})).unwrap();
    let without_passwords = Capabilities::default();
    assert_eq!(
        names(&offers(&inactive, None, &without_passwords)),
        [("edit", true), ("reactivate", true), ("delete", true)]
    );
    assert!(missing_actions_note(&caps).is_some());
    assert!(missing_actions_note(&muster()).is_none());
}

#[test]
fn a_copy_saved_with_bare_names_reads_and_lets_the_server_decide() {
    let caps: Capabilities = serde_json::from_value(json!({
        "isMuster": true, "actions": ["suspend", "unsuspend"]
    }))
    .unwrap();
    assert_eq!(caps.actions[0], ActionRule::named("suspend"));
    let active = user("u1", json!({"status": "active"}));
    let listed = names(&offers(&active, Some(&admin("me")), &caps));
    assert!(listed.contains(&("suspend", true)) && listed.contains(&("unsuspend", true)));
    // And the saved form reads back as written.
    let saved = serde_json::to_value(muster()).unwrap();
    let again: Capabilities = serde_json::from_value(saved).unwrap();
    assert_eq!(again, muster());
}

#[test]
fn action_names_round_trip() {
    for action in UserAction::ALL {
        assert_eq!(UserAction::from_name(action.name()), Some(action));
        assert_eq!(
            serde_json::to_value(action).unwrap(),
            json!(action.name()),
            "the wire name is the name"
        );
    }
    assert_eq!(UserAction::from_name("fly"), None);
}

#[test]
fn nobody_changes_their_own_role() {
    let caps = muster();
    let locks = locked_fields(Some("me"), Some(&admin("me")), &caps);
    assert_eq!(locks.len(), 1);
    assert_eq!(locks[0].field, "role");
    assert!(locked_fields(Some("other"), Some(&admin("me")), &caps).is_empty());
    assert!(
        locked_fields(Some("me"), Some(&admin("me")), &Capabilities::default()).is_empty(),
        "another provider's rules are its own"
    );
}

#[test]
fn who_may_act_is_known_without_the_users_state() {
    let caps = muster();
    assert_eq!(
        refusal(UserAction::Suspend, Some("u1"), Some(&admin("me")), &caps),
        None
    );
    assert_eq!(
        refusal(UserAction::Suspend, Some("me"), Some(&admin("me")), &caps).as_deref(),
        Some("You cannot suspend your own account.")
    );
    assert!(
        refusal(
            UserAction::SendMagicLink,
            Some("u1"),
            Some(&admin("me")),
            &caps
        )
        .unwrap()
        .contains("does not offer"),
        "an action the server does not list"
    );
    assert_eq!(
        refusal(
            UserAction::Suspend,
            Some("me"),
            None,
            &Capabilities::default()
        ),
        None,
        "another provider decides for itself"
    );
}
