//! The in-memory search index over users: free text, every filter (alternatives within
//! one, all of them together), sorting, dormancy and invitations pending, expired or about
//! to lapse, as of a fixed clock.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use muster_scim::user::User;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::json;
use time::format_description::well_known::Rfc3339;

use crate::cache::{NOW, user};
use muster_core::cache::PackedUser;
use muster_core::search::{Index, SearchQuery, SortKey};

/// Five users with distinct shop data; index = position.
fn users() -> Vec<User> {
    let shop = |role: &str, licence: &str, status: &str, branch: &str, zones: &[&str]| {
        json!({"role": role, "licence": licence, "status": status, "homeBranch": branch,
               "branches": [branch], "zones": zones, "securityGroup": format!("SG {role}")})
    };
    let mut users = vec![
        user(
            0,
            shop("technician", "field", "active", "Denver", &["North"]),
        ),
        user(
            1,
            shop("admin", "desk", "active", "Boulder", &["South", "North"]),
        ),
        user(2, shop("viewer", "desk", "suspended", "Denver", &["East"])),
        user(
            3,
            shop("technician", "contractor", "invited", "Aurora", &[]),
        ),
        User::from_json(json!({"userName": "zz-no-shop", "active": false})).unwrap(),
    ];
    users[0].display_name = Some("Maria Lopez".into());
    users[1].display_name = Some("Ann Lopez".into());
    users[2].display_name = Some("Bob Smith".into());
    let sign_in = |user: &mut User, days: i64, method: &str, state: &str| {
        let shop = user.shop.as_mut().unwrap();
        shop.last_sign_in = Some(muster_scim::user::LastSignIn {
            at: Some(NOW - time::Duration::days(days)),
            method: Some(method.into()),
        });
        shop.invitation = Some(muster_scim::user::Invitation {
            state: Some(state.into()),
            ..Default::default()
        });
    };
    sign_in(&mut users[0], 1, "password", "accepted");
    sign_in(&mut users[1], 40, "google", "accepted");
    sign_in(&mut users[2], 10, "google", "accepted");
    users[3].shop.as_mut().unwrap().invitation = Some(muster_scim::user::Invitation {
        state: Some("pending".into()),
        ..Default::default()
    });
    users
}

#[test]
fn invitations_expiring_soon_are_the_pending_ones_within_the_hours() {
    let invited = |index: usize, state: &str, hours: i64| {
        let mut user = user(index, json!({"status": "invited"}));
        user.shop.as_mut().unwrap().invitation = Some(muster_scim::user::Invitation {
            state: Some(state.into()),
            expires_at: Some(NOW + time::Duration::hours(hours)),
            ..Default::default()
        });
        user
    };
    let users = vec![
        invited(0, "pending", 2),
        invited(1, "pending", 30),
        invited(2, "pending", -1),
        invited(3, "accepted", 3),
        user(4, json!({"status": "active"})),
    ];
    let index = Index::build(&users);
    let within = |hours: u32| {
        sorted(rows(
            &index,
            SearchQuery {
                invitation_expires_within_hours: Some(hours),
                ..SearchQuery::default()
            },
        ))
    };
    assert_eq!(
        within(24),
        [0],
        "expired and accepted ones are not expiring"
    );
    assert_eq!(within(48), [0, 1]);
    assert_eq!(within(0), Vec::<usize>::new());
    assert_eq!(within(u32::MAX), [0, 1], "any number of hours is taken");
}

fn rows(index: &Index, query: SearchQuery) -> Vec<usize> {
    let result = index.search(&query, NOW);
    assert_eq!(
        result.total,
        result.rows.len(),
        "windows here hold everything"
    );
    result.rows
}

fn sorted(mut rows: Vec<usize>) -> Vec<usize> {
    rows.sort_unstable();
    rows
}

#[test]
fn empty_query_returns_everyone_sorted_by_name() {
    let index = Index::build(&users());
    assert_eq!(index.len(), 5);
    // Ann Lopez, Bob Smith, Maria Lopez, Person 3; the user without a name last.
    assert_eq!(rows(&index, SearchQuery::default()), vec![1, 2, 0, 3, 4]);
}

#[test]
fn free_text_needs_every_term_in_any_field() {
    let index = Index::build(&users());
    let text = |text: &str| {
        sorted(rows(
            &index,
            SearchQuery {
                text: text.into(),
                ..SearchQuery::default()
            },
        ))
    };
    assert_eq!(text("lopez"), vec![0, 1], "case-insensitive, in the name");
    assert_eq!(text("LOPEZ ann"), vec![1], "every term must match");
    assert_eq!(text("user2@shop"), vec![2], "emails and user names");
    assert_eq!(text("555 0003"), vec![3], "phone numbers as written");
    assert_eq!(text("3035550003"), vec![3], "phone numbers as digits");
    assert_eq!(text("zz-no"), vec![4]);
    assert_eq!(text("lopez nobody"), Vec::<usize>::new());
    assert_eq!(
        text("lopezuser"),
        Vec::<usize>::new(),
        "terms never span two fields"
    );
}

#[test]
fn each_filter_ors_within_and_ands_across() {
    let index = Index::build(&users());
    let q = SearchQuery::default;
    let check = |query: SearchQuery, want: Vec<usize>| {
        assert_eq!(sorted(rows(&index, query.clone())), want, "{query:?}");
    };
    check(
        SearchQuery {
            roles: vec!["Technician".into()],
            ..q()
        },
        vec![0, 3],
    );
    check(
        SearchQuery {
            licences: vec!["desk".into(), "field".into()],
            ..q()
        },
        vec![0, 1, 2],
    );
    check(
        SearchQuery {
            statuses: vec!["suspended".into()],
            ..q()
        },
        vec![2],
    );
    check(
        SearchQuery {
            statuses: vec!["deactivated".into()],
            ..q()
        },
        vec![4],
    );
    check(
        SearchQuery {
            branches: vec!["denver".into()],
            ..q()
        },
        vec![0, 2],
    );
    check(
        SearchQuery {
            zones: vec!["North".into()],
            ..q()
        },
        vec![0, 1],
    );
    check(
        SearchQuery {
            security_groups: vec!["SG admin".into()],
            ..q()
        },
        vec![1],
    );
    check(
        SearchQuery {
            sign_in_methods: vec!["google".into()],
            ..q()
        },
        vec![1, 2],
    );
    check(
        SearchQuery {
            invitation_states: vec!["pending".into()],
            ..q()
        },
        vec![3],
    );
    check(
        SearchQuery {
            roles: vec!["nobody".into()],
            ..q()
        },
        vec![],
    );
    check(
        SearchQuery {
            roles: vec!["technician".into(), "admin".into()],
            zones: vec!["North".into()],
            text: "lopez".into(),
            ..q()
        },
        vec![0, 1],
    );
    check(
        SearchQuery {
            roles: vec!["admin".into()],
            zones: vec!["East".into()],
            ..q()
        },
        vec![],
    );
}

#[test]
fn no_sign_in_for_days_includes_the_never_signed_in() {
    let index = Index::build(&users());
    let idle = |days| {
        sorted(rows(
            &index,
            SearchQuery {
                no_sign_in_for_days: Some(days),
                ..SearchQuery::default()
            },
        ))
    };
    assert_eq!(idle(30), vec![1, 3, 4]);
    assert_eq!(idle(5), vec![1, 2, 3, 4]);
    assert_eq!(idle(0), vec![0, 1, 2, 3, 4]);
    // Any day count is valid input: past the calendar's reach, only the never signed in.
    assert_eq!(idle(u32::MAX), vec![3, 4]);
}

#[test]
fn sorts_both_ways_with_missing_values_last_and_ties_stable() {
    let index = Index::build(&users());
    let by = |sort, descending| {
        rows(
            &index,
            SearchQuery {
                sort,
                descending,
                ..SearchQuery::default()
            },
        )
    };
    // The name shown: a user with no name is shown (and sorted) by their userName.
    assert_eq!(by(SortKey::Name, true), vec![4, 3, 0, 2, 1]);
    assert_eq!(
        by(SortKey::Role, false),
        vec![1, 0, 3, 2, 4],
        "ties keep user order"
    );
    assert_eq!(
        by(SortKey::Role, true),
        vec![2, 0, 3, 1, 4],
        "ties keep user order descending too"
    );
    assert_eq!(by(SortKey::LastSignIn, false), vec![1, 2, 0, 3, 4]);
    assert_eq!(
        by(SortKey::LastSignIn, true),
        vec![0, 2, 1, 3, 4],
        "never signed in stays last"
    );
    assert_eq!(by(SortKey::Branch, false), vec![3, 1, 0, 2, 4]);
    assert_eq!(by(SortKey::Email, false), vec![0, 1, 2, 3, 4]);
    assert_eq!(by(SortKey::UserName, true), vec![4, 3, 2, 1, 0]);
    assert_eq!(by(SortKey::Created, false), vec![0, 1, 2, 3, 4]);
    for key in SortKey::ALL {
        assert_eq!(
            sorted(by(key, false)),
            vec![0, 1, 2, 3, 4],
            "{key:?} lists everyone once"
        );
    }
}

#[test]
fn windows_carry_the_total() {
    let many: Vec<User> = (0..250)
        .map(|i| user(i, json!({"role": "viewer"})))
        .collect();
    let index = Index::build(&many);
    let window = |offset, limit| {
        index.search(
            &SearchQuery {
                offset,
                limit,
                sort: SortKey::UserName,
                ..SearchQuery::default()
            },
            NOW,
        )
    };
    let first = window(0, 100);
    assert_eq!((first.total, first.rows.len()), (250, 100));
    let last = window(200, 100);
    assert_eq!(
        (last.total, last.rows.len()),
        (250, 50),
        "the last window is short"
    );
    assert!(
        window(300, 100).rows.is_empty(),
        "past the end is empty, not an error"
    );
    let all: Vec<usize> = (0..3)
        .flat_map(|page| window(page * 100, 100).rows)
        .collect();
    assert_eq!(
        sorted(all),
        (0..250).collect::<Vec<_>>(),
        "windows tile the result"
    );
    let text = index.search(
        &SearchQuery {
            text: "user1".into(),
            limit: 5,
            ..SearchQuery::default()
        },
        NOW,
    );
    assert_eq!(
        (text.total, text.rows.len()),
        (111, 5),
        "user1, user10-19, user100-199"
    );
}

/// Someone with values drawn from short lists, so that many share a value (ties keep
/// row order), some lack one (they sort last), and names differ in case and accents.
fn someone(rng: &mut StdRng, row: usize) -> PackedUser {
    let mut pick = |options: &[&'static str]| options[rng.random_range(0..options.len())];
    let name = pick(&["Ann Lopez", "ann lopez", "Émile Zola", "Bob", "", "Zoë"]);
    let role = pick(&["technician", "admin", "viewer", ""]);
    let licence = pick(&["field", "desk", "contractor"]);
    let status = pick(&["active", "suspended", "invited", "deactivated"]);
    let branch = pick(&["Denver", "denver", "Boulder", ""]);
    let zones = [pick(&["North", "South", "East"]), pick(&["North", "West"])];
    let method = pick(&["password", "google", ""]);
    let days = pick(&["1", "1", "30", ""]);
    let invitation = pick(&["accepted", "pending", "expired", ""]);
    let mut shop = json!({"role": role, "licence": licence, "status": status,
        "homeBranch": branch, "branches": [branch], "zones": zones,
        "securityGroup": format!("SG {role}")});
    if !method.is_empty() && !days.is_empty() {
        let at = NOW - time::Duration::days(days.parse().unwrap());
        shop["lastSignIn"] = json!({"at": at.format(&Rfc3339).unwrap(), "method": method});
    }
    if !invitation.is_empty() {
        let expires = (NOW + time::Duration::days(2)).format(&Rfc3339).unwrap();
        shop["invitation"] = json!({"state": invitation, "expiresAt": expires});
    }
    let mut user = user(row, shop);
    user.display_name = (!name.is_empty()).then(|| name.to_owned());
    PackedUser::pack(&user)
}

#[test]
fn an_index_mended_for_a_few_changed_or_added_users_is_the_one_built_afresh() {
    let mut rng = StdRng::seed_from_u64(7);
    let mut users: Vec<PackedUser> = (0..300).map(|row| someone(&mut rng, row)).collect();
    let mut index = Index::of_packed(&users);
    for round in 0..40 {
        let mut next = users.clone();
        for _ in 0..rng.random_range(0..6) {
            let row = rng.random_range(0..next.len());
            next[row] = someone(&mut rng, row);
        }
        for _ in 0..rng.random_range(0..3) {
            next.push(someone(&mut rng, next.len()));
        }
        let mended = index
            .updated(&users, &next)
            .expect("a few changed users are mended");
        assert_eq!(mended, Index::of_packed(&next), "round {round}");
        (users, index) = (next, mended);
    }

    // A removed user moves the rows after it; too many changes, or an index of other
    // users, are built afresh.
    let mut fewer = users.clone();
    fewer.remove(3);
    assert!(index.updated(&users, &fewer).is_none());
    let copied: Vec<PackedUser> = users.iter().map(|u| PackedUser::pack(&u.user())).collect();
    assert!(index.updated(&users, &copied).is_none());
    assert!(index.updated(&copied[..10], &copied[..10]).is_none());

    // The empty index of a missing copy has nothing to mend: the first sync builds.
    let few = &users[..50];
    let first = Index::default().updated(&[], few);
    assert!(first.is_none_or(|first| first == Index::of_packed(few)));
    let empty: [PackedUser; 0] = [];
    let mended = Index::of_packed(&empty).updated(&[], few).unwrap();
    assert_eq!(mended, Index::of_packed(few), "from a built empty index");
}
