//! What to do with one existing user: act, or skip and why. Pure: it reads the user's
//! record and the job's rules, and never the network, so every rule is unit-tested here.

use std::collections::HashSet;
use std::time::Duration;

use muster_scim::message::PatchOperation;
use muster_scim::user::{InvitationState, ShopUser, User, UserStatus, licence_role_conflict};
use serde_json::json;
use time::OffsetDateTime;

use super::Operation;
use crate::actions::{Action, Reassign};
use crate::discovery::Capabilities;
use crate::rules::{Account, Offer, UserAction};

/// The shop extension's URN, the prefix of its attribute paths in a PATCH.
const SHOP: &str = muster_scim::urn::SHOP_USER;

/// The decision for one user.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Plan {
    /// Send this.
    Act(Write),
    /// Leave the user alone.
    Skip {
        /// Why, for people.
        reason: String,
        /// The user is already as the job would leave them (a re-run's "already done").
        already: bool,
    },
}

/// The request that carries out the operation on one user.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Write {
    /// An account action (`POST /Users/{id}/actions/NAME`).
    Action(Action),
    /// A PATCH of the user, sent with the record's version as `If-Match`.
    Patch(Vec<PatchOperation>),
}

/// What the plan needs besides the user.
#[derive(Debug)]
pub(crate) struct Rules<'a> {
    /// The signed-in person's user id: never acted on.
    pub me: Option<&'a str>,
    /// Now, for the age of invitations.
    pub now: OffsetDateTime,
    /// A pending invitation sent less than this long ago counts as sent.
    pub resend_cooldown: Duration,
    /// Users named to take over a deactivated user's responsibilities.
    pub successors: &'a HashSet<String>,
    /// The signed-in account, for the engine's [`rules`](crate::rules).
    pub account: Option<&'a Account>,
    /// The provider's capabilities, for the same.
    pub capabilities: &'a Capabilities,
}

/// Decides what `operation` does to `user`.
pub(crate) fn plan(operation: &Operation, user: &User, rules: &Rules<'_>) -> Plan {
    let id = user.id.as_deref().unwrap_or_default();
    if rules.me.is_some_and(|me| me == id) {
        return skip(
            "This is your own account; bulk actions never change it.",
            false,
        );
    }
    let status = user.status();
    if status == UserStatus::Deleted {
        return skip("The user is deleted.", false);
    }
    let shop = user.shop.clone().unwrap_or_default();
    match operation {
        Operation::Invite { .. } => skip("The user exists already.", true),
        Operation::ResendWelcome => resend_welcome(user, &status, &shop, rules),
        Operation::Suspend => match status {
            UserStatus::Suspended => skip("Already suspended.", true),
            _ => offered(UserAction::Suspend, Action::Suspend, user, rules),
        },
        Operation::Unsuspend => match status {
            UserStatus::Suspended => offered(UserAction::Unsuspend, Action::Unsuspend, user, rules),
            _ => skip(&format!("Not suspended (the user is {status})."), true),
        },
        Operation::Deactivate { reassign } => deactivate(reassign, &status, user, rules),
        Operation::SetLicence(licence) => {
            if shop.licence.as_ref() == Some(licence) {
                skip(&format!("Already has the {licence} licence."), true)
            } else if let Some(why) = licence_role_conflict(Some(licence), shop.role.as_ref()) {
                skip(&why, false)
            } else {
                edit(
                    vec![PatchOperation::replace(
                        format!("{SHOP}:licence"),
                        json!(licence.as_str()),
                    )],
                    user,
                    rules,
                )
            }
        }
        Operation::SetRole(role) => {
            if shop.role.as_ref() == Some(role) {
                skip(&format!("Already has the {role} role."), true)
            } else if let Some(why) = licence_role_conflict(shop.licence.as_ref(), Some(role)) {
                skip(&why, false)
            } else {
                edit(
                    vec![PatchOperation::replace(
                        format!("{SHOP}:role"),
                        json!(role.as_str()),
                    )],
                    user,
                    rules,
                )
            }
        }
        Operation::SetBranches {
            home_branch,
            branches,
        } => set_branches(
            home_branch.as_deref(),
            branches.as_deref(),
            &shop,
            user,
            rules,
        ),
        Operation::SetZones(zones) => {
            if same_set(&shop.zones, zones) {
                skip("Already has these zones.", true)
            } else {
                edit(vec![list_patch("zones", zones)], user, rules)
            }
        }
        Operation::RevokeSessions => {
            if shop.active_sessions == Some(0) {
                skip("No sessions to end.", true)
            } else {
                offered(
                    UserAction::RevokeSessions,
                    Action::RevokeSessions,
                    user,
                    rules,
                )
            }
        }
        Operation::ResetMfa => {
            if shop.mfa_enabled == Some(false) {
                skip("Two-factor is not set up.", true)
            } else {
                offered(UserAction::ResetMfa, Action::ResetMfa, user, rules)
            }
        }
    }
}

/// Deactivating `user`, handing their work over by `reassign`: skipped when already
/// deactivated, or when they are named to take over others' work.
fn deactivate(reassign: &Reassign, status: &UserStatus, user: &User, rules: &Rules<'_>) -> Plan {
    let id = user.id.as_deref().unwrap_or_default();
    if *status == UserStatus::Deactivated {
        skip("Already deactivated.", true)
    } else if rules.successors.contains(id) {
        skip(
            "The user is named to take over the others' responsibilities, so stays active.",
            false,
        )
    } else {
        let write = Action::Deactivate {
            reassign: reassign.clone(),
        };
        offered(UserAction::Deactivate, write, user, rules)
    }
}

/// Setting the home branch and/or the branches: only what differs is patched.
fn set_branches(
    home_branch: Option<&str>,
    branches: Option<&[String]>,
    shop: &ShopUser,
    user: &User,
    rules: &Rules<'_>,
) -> Plan {
    let mut operations = Vec::new();
    if let Some(home) = home_branch
        && !shop
            .home_branch
            .as_deref()
            .is_some_and(|h| h.eq_ignore_ascii_case(home))
    {
        operations.push(PatchOperation::replace(
            format!("{SHOP}:homeBranch"),
            json!(home),
        ));
    }
    if let Some(branches) = branches
        && !same_set(&shop.branches, branches)
    {
        operations.push(list_patch("branches", branches));
    }
    if operations.is_empty() {
        skip("Already has these branches.", true)
    } else {
        edit(operations, user, rules)
    }
}

/// `write`, when the engine's rules offer `action` for `user`; else skipped with their
/// reason.
fn offered(action: UserAction, write: Action, user: &User, rules: &Rules<'_>) -> Plan {
    match crate::rules::offer(action, user, rules.account, rules.capabilities) {
        None => skip(
            &crate::rules::not_applicable(action, user, rules.capabilities),
            false,
        ),
        Some(Offer {
            available: false,
            reason,
            ..
        }) => skip(reason.as_deref().unwrap_or("Not allowed."), false),
        Some(_) => act(write),
    }
}

/// A PATCH, when the engine's rules let the account edit `user`; else skipped with
/// their reason.
fn edit(operations: Vec<PatchOperation>, user: &User, rules: &Rules<'_>) -> Plan {
    match crate::rules::offer(UserAction::Edit, user, rules.account, rules.capabilities) {
        Some(Offer {
            available: false,
            reason,
            ..
        }) => skip(reason.as_deref().unwrap_or("Not allowed."), false),
        _ => match crate::rules::unread_refusal(user, &operations) {
            Some(why) => skip(&why, false),
            None => patch(operations),
        },
    }
}

fn resend_welcome(user: &User, status: &UserStatus, shop: &ShopUser, rules: &Rules<'_>) -> Plan {
    if *status != UserStatus::Invited {
        let why = match status {
            UserStatus::Active => "The user accepted the invitation already.".to_owned(),
            other => format!("The user is {other}; invitations go to invited users only."),
        };
        return skip(&why, false);
    }
    let invitation = shop.invitation.as_ref();
    let pending = user.invitation_state(rules.now) == Some(InvitationState::Pending);
    if pending && let Some(sent) = invitation.and_then(|i| i.sent_at) {
        let age = rules.now - sent;
        if age < time::Duration::try_from(rules.resend_cooldown).unwrap_or(time::Duration::ZERO) {
            let minutes = age.whole_minutes().max(0);
            return skip(
                &match minutes {
                    0 => "An invitation was sent less than a minute ago.".to_owned(),
                    1 => "An invitation was sent a minute ago.".to_owned(),
                    m => format!("An invitation was sent {m} minutes ago."),
                },
                true,
            );
        }
    }
    offered(UserAction::SendWelcome, Action::welcome(), user, rules)
}

/// Whether two lists hold the same values, case and order aside.
fn same_set(have: &[String], want: &[String]) -> bool {
    let fold = |list: &[String]| {
        let mut folded: Vec<String> = list.iter().map(|v| v.trim().to_lowercase()).collect();
        folded.sort_unstable();
        folded.dedup();
        folded
    };
    fold(have) == fold(want)
}

/// Replaces a multi-valued shop attribute (or removes it, for an empty list).
fn list_patch(name: &str, values: &[String]) -> PatchOperation {
    let path = format!("{SHOP}:{name}");
    if values.is_empty() {
        PatchOperation::remove(path)
    } else {
        PatchOperation::replace(path, json!(values))
    }
}

fn skip(reason: &str, already: bool) -> Plan {
    Plan::Skip {
        reason: reason.to_owned(),
        already,
    }
}

fn act(action: Action) -> Plan {
    Plan::Act(Write::Action(action))
}

fn patch(operations: Vec<PatchOperation>) -> Plan {
    Plan::Act(Write::Patch(operations))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use muster_scim::user::{Invitation, Licence, Role};

    use super::*;
    use crate::actions::Reassign;
    use crate::rules::tests::{admin, muster};

    fn user(id: &str, status: UserStatus) -> User {
        User {
            id: Some(id.to_owned()),
            shop: Some(ShopUser {
                status: Some(status),
                licence: Some(Licence::Field),
                role: Some(Role::Technician),
                zones: vec!["North".into(), "East".into()],
                mfa_enabled: Some(true),
                active_sessions: Some(2),
                ..ShopUser::default()
            }),
            ..User::new(format!("{id}@acme.test"))
        }
    }

    fn decide(operation: &Operation, user: &User) -> Plan {
        decide_as(operation, user, &admin("me"))
    }

    fn decide_as(operation: &Operation, user: &User, account: &Account) -> Plan {
        let successors = HashSet::from(["heir".to_owned()]);
        plan(
            operation,
            user,
            &Rules {
                me: Some("me"),
                now: OffsetDateTime::now_utc(),
                resend_cooldown: Duration::from_secs(600),
                successors: &successors,
                account: Some(account),
                capabilities: &muster(),
            },
        )
    }

    #[test]
    fn what_the_rules_withhold_is_skipped_with_their_reason() {
        let viewer = Account {
            role: Some(Role::Viewer),
            ..admin("me")
        };
        let Plan::Skip { reason, already } =
            decide_as(&Operation::Suspend, &user("x", UserStatus::Active), &viewer)
        else {
            panic!("a viewer's bulk job changes nobody");
        };
        assert!(!already && reason.contains("viewer"), "{reason}");
        let Plan::Skip { reason, .. } =
            decide(&Operation::Suspend, &user("x", UserStatus::Deactivated))
        else {
            panic!("suspending applies to invited or active users");
        };
        assert!(reason.contains("invited or active"), "{reason}");
        let Plan::Skip { reason, .. } = decide_as(
            &Operation::SetLicence(Licence::Desk),
            &user("x", UserStatus::Active),
            &viewer,
        ) else {
            panic!("nor edits anyone");
        };
        assert!(reason.contains("viewer"), "{reason}");
    }

    fn already(plan: &Plan) -> Option<bool> {
        match plan {
            Plan::Skip { already, .. } => Some(*already),
            Plan::Act(_) => None,
        }
    }

    #[test]
    fn oneself_and_deleted_users_are_never_touched() {
        for operation in [Operation::Suspend, Operation::SetRole(Role::Viewer)] {
            assert_eq!(
                already(&decide(&operation, &user("me", UserStatus::Active))),
                Some(false),
                "the signed-in admin is skipped, not 'already done'"
            );
            assert!(matches!(
                decide(&operation, &user("x", UserStatus::Deleted)),
                Plan::Skip { .. }
            ));
        }
    }

    #[test]
    fn users_in_the_target_state_are_already_done() {
        let cases = [
            (Operation::Suspend, UserStatus::Suspended),
            (Operation::Unsuspend, UserStatus::Active),
            (
                Operation::Deactivate {
                    reassign: Reassign::default(),
                },
                UserStatus::Deactivated,
            ),
        ];
        for (operation, status) in cases {
            assert_eq!(
                already(&decide(&operation, &user("x", status.clone()))),
                Some(true),
                "{operation:?} on a {status} user is already done"
            );
        }
        let same = decide(
            &Operation::SetZones(vec!["east".into(), "North ".into()]),
            &user("x", UserStatus::Active),
        );
        assert_eq!(already(&same), Some(true), "zones compare as a set");
        assert_eq!(
            already(&decide(
                &Operation::SetLicence(Licence::Field),
                &user("x", UserStatus::Active)
            )),
            Some(true)
        );
    }

    #[test]
    fn a_licence_and_role_that_do_not_go_together_are_skipped_unsent() {
        let technician = user("x", UserStatus::Active);
        let Plan::Skip { reason, already } = decide(&Operation::SetRole(Role::Viewer), &technician)
        else {
            panic!("a field technician cannot be made a viewer");
        };
        assert!(reason.contains("field licence"), "{reason}");
        assert!(!already, "not done: left as it is, with the reason");
        let mut viewer = user("y", UserStatus::Active);
        if let Some(shop) = viewer.shop.as_mut() {
            shop.licence = Some(Licence::Desk);
            shop.role = Some(Role::Viewer);
        }
        assert!(matches!(
            decide(&Operation::SetLicence(Licence::Field), &viewer),
            Plan::Skip { already: false, .. }
        ));
        assert!(matches!(
            decide(&Operation::SetLicence(Licence::Timesheet), &viewer),
            Plan::Act(_)
        ));
    }

    #[test]
    fn a_change_over_what_could_not_be_read_is_skipped_unsent() {
        let mut partly = user("x", UserStatus::Active);
        partly.unread = vec![muster_scim::user::Unread {
            attribute: format!("{SHOP}:zones"),
            reason: "attribute \"zones\" must be a string".into(),
            raw: "{}".into(),
        }];
        let Plan::Skip { reason, already } =
            decide(&Operation::SetZones(vec!["North".into()]), &partly)
        else {
            panic!("setting zones would replace the ones the server holds");
        };
        assert!(reason.contains("could not read"), "{reason}");
        assert!(!already);
        assert!(
            matches!(
                decide(&Operation::SetLicence(Licence::Desk), &partly),
                Plan::Act(_)
            ),
            "a change elsewhere goes ahead"
        );
    }

    #[test]
    fn changes_are_patches_of_the_shop_extension() {
        let Plan::Act(Write::Patch(operations)) = decide(
            &Operation::SetLicence(Licence::Desk),
            &user("x", UserStatus::Active),
        ) else {
            panic!("a different licence is a PATCH");
        };
        assert_eq!(
            serde_json::to_value(&operations).unwrap(),
            json!([{"op": "replace", "path": format!("{SHOP}:licence"), "value": "desk"}])
        );
        let Plan::Act(Write::Patch(operations)) =
            decide(&Operation::SetZones(vec![]), &user("x", UserStatus::Active))
        else {
            panic!("clearing the zones is a PATCH");
        };
        assert_eq!(
            operations[0].path.as_deref(),
            Some(&*format!("{SHOP}:zones"))
        );
        assert!(operations[0].value.is_none(), "an empty list is a remove");
    }

    #[test]
    fn successors_are_not_deactivated() {
        let plan = decide(
            &Operation::Deactivate {
                reassign: Reassign::all_to("heir"),
            },
            &user("heir", UserStatus::Active),
        );
        assert_eq!(
            already(&plan),
            Some(false),
            "the user taking over must stay active"
        );
    }

    #[test]
    fn welcomes_go_to_invited_users_not_invited_a_moment_ago() {
        let mut invited = user("x", UserStatus::Invited);
        assert!(matches!(
            decide(&Operation::ResendWelcome, &invited),
            Plan::Act(Write::Action(Action::SendWelcome(_)))
        ));
        let now = OffsetDateTime::now_utc();
        let shop = invited.shop.as_mut().unwrap();
        shop.invitation = Some(Invitation {
            sent_at: Some(now - time::Duration::minutes(3)),
            expires_at: Some(now + time::Duration::hours(47)),
            state: Some(InvitationState::Pending),
        });
        let Plan::Skip {
            reason,
            already: true,
        } = decide(&Operation::ResendWelcome, &invited)
        else {
            panic!("an invitation sent 3 minutes ago is not sent again (already done)");
        };
        assert!(reason.contains("3 minutes"), "{reason}");
        let shop = invited.shop.as_mut().unwrap();
        shop.invitation = Some(Invitation {
            sent_at: Some(now - time::Duration::hours(50)),
            expires_at: Some(now - time::Duration::hours(2)),
            state: Some(InvitationState::Expired),
        });
        assert!(
            matches!(decide(&Operation::ResendWelcome, &invited), Plan::Act(_)),
            "an expired invitation is sent again"
        );
        let shop = invited.shop.as_mut().unwrap();
        shop.invitation = Some(Invitation {
            sent_at: Some(now - time::Duration::minutes(3)),
            expires_at: Some(now - time::Duration::minutes(1)),
            state: Some(InvitationState::Pending),
        });
        assert!(
            matches!(decide(&Operation::ResendWelcome, &invited), Plan::Act(_)),
            "read as pending, but lapsed since: it is expired now, and sent again"
        );
        assert_eq!(
            already(&decide(
                &Operation::ResendWelcome,
                &user("x", UserStatus::Active)
            )),
            Some(false),
            "an active user has nothing to accept: skipped, with the reason"
        );
    }
}
