//! The engine against the real muster-server over loopback HTTP: every operation, every
//! lifecycle action, and each kind of error.

use std::collections::HashSet;

use muster_core::Error;
use muster_core::actions::{Action, Reassign};
use muster_core::discovery::{Feature, Support};
use muster_core::query::{ListQuery, Progress, and, attr, not};
use muster_core::secret::Secret;
use muster_scim::group::Group;
use muster_scim::message::PatchOperation;
use muster_scim::user::{Licence, MultiValue, Name, Role, ShopUser, User, UserStatus};
use serde_json::json;

use muster_test_support::Muster;

/// A new user with an email and a shop licence and role; no password (so: invited).
fn person(user_name: &str, given: &str, family: &str, role: Role) -> User {
    User {
        name: Some(Name::new(given, family)),
        display_name: Some(format!("{given} {family}")),
        emails: vec![MultiValue {
            primary: Some(true),
            ..MultiValue::typed(format!("{user_name}@core.test"), "work")
        }],
        shop: Some(ShopUser {
            // The field licence is for technicians; office staff are on desk licences.
            licence: Some(if role == Role::Technician {
                Licence::Field
            } else {
                Licence::Desk
            }),
            role: Some(role),
            ..ShopUser::default()
        }),
        ..User::new(user_name)
    }
}

fn status(user: &User) -> Option<UserStatus> {
    user.shop.as_ref().and_then(|shop| shop.status.clone())
}

fn id(user: &User) -> &str {
    user.id
        .as_deref()
        .expect("the server gives every user an id")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_all_pages_through_every_user_once_with_progress() {
    let server = Muster::start("paging", 2500).await;
    let users = server.client();
    let users = users.users();

    let mut reports: Vec<Progress> = Vec::new();
    let query = ListQuery::default().with_count(700);
    let all = users
        .list_all(&query, |progress| reports.push(progress))
        .await
        .expect("the walk succeeds");
    let total = reports
        .last()
        .and_then(|p| p.total)
        .expect("muster-server reports totalResults");
    assert!(
        total >= 2500,
        "2,500 seeded users (plus the integration user): {total}"
    );
    assert_eq!(all.len() as u64, total, "every user arrives");
    let ids: HashSet<&str> = all.iter().map(id).collect();
    assert_eq!(ids.len(), all.len(), "each user exactly once");
    assert_eq!(
        reports.len(),
        4,
        "2,501 users in pages of 700 are four pages"
    );
    assert!(
        reports.windows(2).all(|w| w[0].fetched < w[1].fetched),
        "progress only grows: {reports:?}"
    );
    assert_eq!(reports.last().map(|p| p.fetched), Some(total));

    // muster-server caps count at 1,000: asking for 2,000 still brings everyone, once.
    let capped = users
        .list_all(&ListQuery::default().with_count(2000), |_| {})
        .await
        .expect("the capped walk succeeds");
    assert_eq!(capped.len() as u64, total, "a silent cap loses no one");

    let page = users
        .page(&ListQuery {
            start_index: 11,
            count: Some(10),
            ..ListQuery::default()
        })
        .await
        .expect("one page");
    assert_eq!(page.resources.len(), 10);
    assert_eq!(page.items_per_page, 10);
    assert_eq!(page.start_index, 11);
    assert_eq!(page.total, Some(total));
    assert_eq!(
        id(&page.resources[0]),
        id(&all[10]),
        "pages follow the same creation order as the walk"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn users_are_created_read_replaced_patched_and_deleted() {
    let server = Muster::start("crud", 5).await;
    let client = server.client();
    let users = client.users();

    let created = users
        .create(&person("casey", "Casey", "Quinn", Role::Technician))
        .await
        .expect("create");
    let user_id = id(&created.value).to_owned();
    assert!(created.etag.is_some(), "a created user has a version");
    assert_eq!(status(&created.value), Some(UserStatus::Invited));

    let read = users.get(&user_id).await.expect("get");
    assert_eq!(read.value.user_name, "casey");
    assert_eq!(read.etag, created.etag, "nothing changed since creation");

    let mut changed = read.value.clone();
    changed.title = Some("Lead Technician".into());
    let replaced = users
        .replace(&user_id, &changed, read.etag.as_deref())
        .await
        .expect("replace at the current version");
    assert_eq!(replaced.value.title.as_deref(), Some("Lead Technician"));
    assert_ne!(replaced.etag, read.etag, "a change makes a new version");

    let stale = users
        .replace(&user_id, &changed, read.etag.as_deref())
        .await
        .expect_err("the old version is stale");
    assert!(
        matches!(stale, Error::Conflict { stale: true, .. }),
        "a stale If-Match is a stale conflict: {stale:?}"
    );

    let patched = users
        .patch(
            &user_id,
            vec![PatchOperation::replace("nickName", json!("Case"))],
            replaced.etag.as_deref(),
        )
        .await
        .expect("patch at the current version");
    assert_eq!(patched.value.nick_name.as_deref(), Some("Case"));
    let unversioned = users
        .patch(
            &user_id,
            vec![PatchOperation::replace("title", json!("Foreman"))],
            None,
        )
        .await
        .expect("patch without a version");
    assert_eq!(unversioned.value.title.as_deref(), Some("Foreman"));
    assert_eq!(
        unversioned.value.nick_name.as_deref(),
        Some("Case"),
        "a patch leaves the rest alone"
    );

    users
        .delete(&user_id, unversioned.etag.as_deref())
        .await
        .expect("delete");
    let gone = users
        .get(&user_id)
        .await
        .expect_err("deleted users are gone");
    assert!(matches!(gone, Error::NotFound { .. }), "{gone:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_sends_builder_filters() {
    let server = Muster::start("search", 5).await;
    let client = server.client();
    let users = client.users();
    for (user_name, given, family) in [
        ("zed1", "Ann", "Zedd"),
        ("zed2", "Bob", "Zedman"),
        ("zed3", "Cy", "Zebra"),
    ] {
        users
            .create(&person(user_name, given, family, Role::Technician))
            .await
            .expect("create");
    }
    let by_family =
        ListQuery::filtered(attr("name.familyName").sw("Zed")).sorted_by("userName", true);
    let page = users.search(&by_family).await.expect("search");
    let names: Vec<&str> = page
        .resources
        .iter()
        .map(|u| u.user_name.as_str())
        .collect();
    assert_eq!(
        names,
        ["zed2", "zed1"],
        "sw matches a prefix; sorted descending"
    );
    assert_eq!(page.total, Some(2));

    let narrower = ListQuery::filtered(and(
        attr("name.familyName").sw("Ze"),
        not(attr("name.givenName").eq("Ann")),
    ));
    let found = users.search_post(&narrower).await.expect("POST .search");
    let mut names: Vec<&str> = found
        .resources
        .iter()
        .map(|u| u.user_name.as_str())
        .collect();
    names.sort_unstable();
    assert_eq!(names, ["zed2", "zed3"]);

    let emails = ListQuery::filtered(attr("emails").matching(attr("value").ew("@core.test")));
    let all = users
        .list_all(&emails, |_| {})
        .await
        .expect("list_all with a filter");
    assert_eq!(all.len(), 3, "value filters work as well");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn groups_are_managed_with_their_members() {
    let server = Muster::start("groups", 5).await;
    let client = server.client();
    let (users, groups) = (client.users(), client.groups());
    let ann = users
        .create(&person("ann", "Ann", "Archer", Role::Technician))
        .await
        .expect("create ann");
    let bob = users
        .create(&person("bob", "Bob", "Baker", Role::Technician))
        .await
        .expect("create bob");
    let (ann, bob) = (id(&ann.value).to_owned(), id(&bob.value).to_owned());

    let crew = groups
        .create(&Group::new("Night Crew"))
        .await
        .expect("create group");
    let group_id = crew.value.id.clone().expect("a group id");
    let added = groups
        .add_members(&group_id, [&ann, &bob], crew.etag.as_deref())
        .await
        .expect("add members");
    let members: HashSet<String> = added
        .value
        .members
        .iter()
        .filter_map(|m| m.value.clone())
        .collect();
    assert_eq!(members, HashSet::from([ann.clone(), bob.clone()]));

    let removed = groups
        .remove_members(&group_id, [&ann], added.etag.as_deref())
        .await
        .expect("remove a member");
    let left: Vec<_> = removed
        .value
        .members
        .iter()
        .filter_map(|m| m.value.clone())
        .collect();
    assert_eq!(left, [bob], "only Ann left");

    let mut renamed = removed.value.clone();
    renamed.display_name = "Night Shift".into();
    let replaced = groups
        .replace(&group_id, &renamed, removed.etag.as_deref())
        .await
        .expect("replace the group");
    assert_eq!(replaced.value.display_name, "Night Shift");

    let found = groups
        .search(&ListQuery::filtered(attr("displayName").eq("Night Shift")))
        .await
        .expect("search groups");
    assert_eq!(found.resources.len(), 1);
    let all = groups
        .list_all(&ListQuery::default(), |_| {})
        .await
        .expect("list groups");
    assert_eq!(all.len(), 4, "the three seeded groups and ours");

    groups
        .delete(&group_id, replaced.etag.as_deref())
        .await
        .expect("delete the group");
    let gone = groups.get(&group_id).await.expect_err("gone");
    assert!(matches!(gone, Error::NotFound { .. }), "{gone:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn discovery_finds_a_muster_server_and_its_actions() {
    let server = Muster::start("discover", 3).await;
    let caps = server.client().discover().await.expect("discover");
    assert!(
        caps.is_muster,
        "the /actions document marks a Muster server"
    );
    assert!(
        caps.patch && caps.filter && caps.sort && caps.etag,
        "{caps:?}"
    );
    assert_eq!(caps.max_results, Some(1000));
    let names: Vec<&str> = caps.actions.iter().map(|a| a.name.as_str()).collect();
    assert_eq!(names, Action::NAMES, "every action, in order");
    let suspend = caps.action("suspend").unwrap();
    assert_eq!(
        suspend.allowed_from,
        Some(vec![UserStatus::Invited, UserStatus::Active]),
        "with the statuses it applies to"
    );
    assert!(
        suspend.not_on_self.is_some(),
        "and that nobody suspends themselves"
    );
    assert!(
        caps.schemas
            .iter()
            .any(|s| s == muster_scim::urn::SHOP_USER)
    );
    assert!(caps.resource_types.iter().any(|t| t == "User"));
    assert_eq!(
        caps.supports(Feature::Action("suspend".into())),
        Support::Yes
    );
    assert_eq!(caps.supports(Feature::Groups), Support::Yes);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_lifecycle_action_runs_once_and_answers_the_user() {
    let server = Muster::start("lifecycle", 40).await;
    let client = server.admin().await;
    let (users, actions) = (client.users(), client.actions());
    let new = users
        .create(&person("newbie", "Nia", "Newton", Role::Technician))
        .await
        .expect("create");
    let newbie = id(&new.value).to_owned();

    let welcomed = actions
        .run(&newbie, Action::welcome())
        .await
        .expect("send-welcome");
    assert_eq!(status(&welcomed.value), Some(UserStatus::Invited));
    let invitation = welcomed
        .value
        .shop
        .as_ref()
        .and_then(|s| s.invitation.clone());
    assert!(
        invitation.and_then(|i| i.sent_at).is_some(),
        "the invitation is recorded as sent"
    );
    assert!(welcomed.etag.is_some(), "actions answer the new version");

    let set = Action::SetPassword {
        password: Secret::new("Quartz-Lantern-47!"),
        must_change: false,
    };
    let active = actions.run(&newbie, set).await.expect("set-password");
    assert_eq!(
        status(&active.value),
        Some(UserStatus::Active),
        "a password activates"
    );
    server
        .sign_in("newbie@core.test", "Quartz-Lantern-47!")
        .await;

    for (action, expected) in [
        (Action::SendPasswordReset, UserStatus::Active),
        (Action::SendMagicLink, UserStatus::Active),
        (Action::Suspend, UserStatus::Suspended),
        (Action::Unsuspend, UserStatus::Active),
        (Action::RevokeSessions, UserStatus::Active),
    ] {
        let name = action.name();
        let answer = actions
            .run(&newbie, action)
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(status(&answer.value), Some(expected), "after {name}");
        if name == "revoke-sessions" {
            assert_eq!(
                answer.value.shop.as_ref().and_then(|s| s.active_sessions),
                Some(0),
                "no session survives"
            );
        }
    }
    // Two-factor the user never set up: nothing to reset, and the server says so.
    let reset = actions.run(&newbie, Action::ResetMfa).await.unwrap_err();
    assert!(
        matches!(reset, Error::Conflict { .. }) && reset.to_string().contains("two-factor"),
        "{reset:?}"
    );

    let wrong = actions
        .run(&newbie, Action::Reactivate)
        .await
        .expect_err("not deactivated");
    assert!(
        matches!(wrong, Error::Conflict { .. }),
        "an action that does not apply is a conflict: {wrong:?}"
    );

    // Deactivate someone who holds work, handing it to an active colleague.
    let (holder, load) = holder_of_work(&client).await;
    let heir = actions
        .assignees("", 50)
        .await
        .expect("assignees")
        .into_iter()
        .find(|a| a.id != holder)
        .expect("someone else is active");
    let deactivated = actions
        .run(
            &holder,
            Action::Deactivate {
                reassign: Reassign::all_to(&heir.id),
            },
        )
        .await
        .expect("deactivate with reassignment");
    assert_eq!(status(&deactivated.value), Some(UserStatus::Deactivated));
    let after = actions
        .responsibilities(&holder)
        .await
        .expect("responsibilities");
    assert_eq!(after.total, 0, "all {load} responsibilities moved");
    assert!(
        actions
            .assignees("", 200)
            .await
            .expect("assignees")
            .iter()
            .all(|a| a.id != holder),
        "deactivated users drop out of assignment lists"
    );
    let back = actions
        .run(&holder, Action::Reactivate)
        .await
        .expect("reactivate");
    assert_eq!(status(&back.value), Some(UserStatus::Active));

    // Soft delete, then restore: only a system admin may.
    users.delete(&newbie, None).await.expect("soft delete");
    assert!(matches!(
        users.get(&newbie).await,
        Err(Error::NotFound { .. })
    ));
    let refused = actions
        .run(&newbie, Action::Restore)
        .await
        .expect_err("admins cannot restore");
    assert!(matches!(refused, Error::Forbidden { .. }), "{refused:?}");
    let root = server.system_admin().await;
    let restored = root
        .actions()
        .run(&newbie, Action::Restore)
        .await
        .expect("restore");
    assert_eq!(status(&restored.value), Some(UserStatus::Active));
    users.get(&newbie).await.expect("a restored user is back");

    let missing = actions
        .run("no-such-user", Action::Suspend)
        .await
        .expect_err("no user");
    assert!(
        matches!(missing, Error::NotFound { .. }),
        "a missing user is not an unsupported action: {missing:?}"
    );
}

/// A seeded active user who holds responsibilities, and how many.
async fn holder_of_work(client: &muster_core::Client) -> (String, u64) {
    let actions = client.actions();
    for candidate in actions.assignees("", 200).await.expect("assignees") {
        let held = actions
            .responsibilities(&candidate.id)
            .await
            .expect("responsibilities");
        if held.total > 0 {
            assert_eq!(
                held.kinds.iter().map(|k| k.count).sum::<u64>(),
                held.total,
                "the kinds add up"
            );
            return (candidate.id, held.total);
        }
    }
    panic!("the demo seed gives some active users responsibilities");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_error_kind_is_told_apart() {
    let server = Muster::start("errors", 3).await;
    let client = server.client();
    let users = client.users();

    let stranger = server.client_with_token("mst_api_not-a-real-token");
    let refused = stranger
        .users()
        .page(&ListQuery::default())
        .await
        .expect_err("bad token");
    assert!(matches!(refused, Error::Unauthorized { .. }), "{refused:?}");

    let missing = users.get("no-such-user").await.expect_err("missing");
    assert!(matches!(missing, Error::NotFound { .. }), "{missing:?}");

    let first = users
        .create(&person("dup", "Dee", "Upton", Role::Technician))
        .await
        .expect("create");
    let again = users
        .create(&person("dup", "Dee", "Upton", Role::Technician))
        .await
        .expect_err("userName taken");
    match &again {
        Error::Conflict {
            scim_type,
            stale,
            fields,
            ..
        } => {
            assert_eq!(scim_type.as_deref(), Some("uniqueness"));
            assert!(!stale, "a uniqueness clash is not a stale version");
            let named: Vec<&str> = fields.iter().map(|f| f.field.as_str()).collect();
            assert_eq!(named, ["userName"], "the server names the taken attribute");
        }
        other => panic!("a taken userName is a conflict, got {other:?}"),
    }

    let mut odd = person("odd", "Odd", "Ball", Role::Technician);
    odd.extra.insert("favouriteColour".into(), json!("red"));
    let invalid = users.create(&odd).await.expect_err("unknown attribute");
    match &invalid {
        Error::Validation { fields, .. } => assert_eq!(
            fields.first().map(|f| f.field.as_str()),
            Some("favouriteColour"),
            "the field is named: {invalid:?}"
        ),
        other => panic!("an unknown attribute is a validation error, got {other:?}"),
    }

    // A viewer may read but not write.
    let viewer = User {
        password: Some("Quartz-Lantern-47!".into()),
        ..person("vera", "Vera", "Viewer", Role::Viewer)
    };
    users.create(&viewer).await.expect("create a viewer");
    let as_viewer = server.sign_in("vera@core.test", "Quartz-Lantern-47!").await;
    as_viewer
        .users()
        .get(id(&first.value))
        .await
        .expect("viewers read");
    let forbidden = as_viewer
        .users()
        .create(&person("nope", "No", "Pe", Role::Technician))
        .await
        .expect_err("viewers do not write");
    assert!(
        matches!(forbidden, Error::Forbidden { .. }),
        "{forbidden:?}"
    );

    // Hammer send-welcome: the server allows a few emails per user an hour.
    let actions = client.actions();
    let target = id(&first.value);
    let mut limited = None;
    for _ in 0..10 {
        match actions.run(target, Action::welcome()).await {
            Ok(_) => continue,
            Err(error) => {
                limited = Some(error);
                break;
            }
        }
    }
    match limited {
        Some(Error::RateLimited { retry_after, .. }) => {
            assert!(retry_after.is_some(), "the server says when to come back")
        }
        other => panic!("repeated sends are rate limited, got {other:?}"),
    }
}
