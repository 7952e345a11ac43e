#![allow(clippy::unwrap_used)]

use muster_scim::user::{
    Invitation, InvitationState, LastSignIn, Licence, Role, ShopUser, SignInMethod, UserStatus,
};
use time::macros::datetime;

use super::*;
use crate::search::Index;

const NOW: OffsetDateTime = datetime!(2026-03-01 12:00 UTC);

/// A user with a shop extension; `signed_in` is days ago (with `method`).
fn person(
    n: usize,
    status: Option<UserStatus>,
    licence: Option<Licence>,
    role: Option<Role>,
    signed_in: Option<(i64, Option<SignInMethod>)>,
    mfa: Option<bool>,
) -> User {
    let mut user = User::new(format!("user{n}@shop.test"));
    user.id = Some(format!("u{n}"));
    user.shop = Some(ShopUser {
        status,
        licence,
        role,
        last_sign_in: signed_in.map(|(days, method)| LastSignIn {
            at: Some(NOW - time::Duration::days(days)),
            method,
        }),
        mfa_enabled: mfa,
        ..ShopUser::default()
    });
    user
}

fn invited(n: usize, state: InvitationState) -> User {
    let mut user = person(
        n,
        Some(UserStatus::Invited),
        Some(Licence::Field),
        None,
        None,
        None,
    );
    if let Some(shop) = user.shop.as_mut() {
        shop.invitation = Some(Invitation {
            state: Some(state),
            ..Invitation::default()
        });
    }
    user
}

/// Every kind of user the review tells apart, and the odd ones the index must agree
/// with: open-enum values in mixed case, blank values, no shop extension at all, a
/// method without a time, a sign-in exactly at the cutoff.
#[rustfmt::skip]
fn users() -> Vec<User> {
    use Licence::{Desk, Field};
    use Role::{Admin, Technician};
    use SignInMethod::{MagicLink, Password};
    use UserStatus::{Active, Deactivated, Suspended};
    let mut users = vec![
        person(0, Some(Active), Some(Field), Some(Technician), Some((3, Some(Password))), Some(false)),
        person(1, Some(Active), Some(Field), Some(Technician), Some((120, Some(Password))), Some(true)),
        person(2, Some(Active), Some(Desk), Some(Admin), Some((95, Some(MagicLink))), Some(false)),
        person(3, Some(Active), Some(Desk), Some(Admin), None, Some(false)),
        person(4, Some(Active), None, None, None, None),
        // Exactly 90 days: dormant at 90 (the index keeps "at or before the cutoff").
        person(5, Some(Active), Some(Field), Some(Technician), Some((90, Some(Password))), Some(false)),
        person(6, Some(Suspended), Some(Field), Some(Technician), Some((200, Some(Password))), Some(false)),
        person(7, Some(Deactivated), Some(Desk), Some(Technician), Some((300, Some(Password))), None),
        person(8, Some(Active), Some(Licence::Other("Fleet".into())), Some(Role::Other("Owner".into())), Some((400, Some(SignInMethod::Other("SSO".into())))), Some(false)),
        person(9, Some(Active), Some(Licence::Other("fleet".into())), Some(Role::Other("".into())), Some((1, None)), Some(false)),
        person(10, Some(UserStatus::Other("Locked".into())), Some(Field), None, None, None),
        // A sign-in method with no time: "never", and idle to the index.
        person(11, Some(Active), Some(Field), Some(Technician), None, Some(false)),
        invited(12, InvitationState::Pending),
        invited(13, InvitationState::Expired),
        invited(14, InvitationState::Other("EXPIRED".into())),
    ];
    if let Some(shop) = users[11].shop.as_mut() {
        shop.last_sign_in = Some(LastSignIn {
            at: None,
            method: Some(Password),
        });
    }
    // Another provider: no shop extension, status from `active`.
    let mut plain = User::new("plain@other.test");
    plain.active = Some(true);
    users.push(plain);
    let mut gone = User::new("gone@other.test");
    gone.active = Some(false);
    users.push(gone);
    users.push(User::new("nothing@other.test"));
    users
}

fn all_counts(review: &ReviewView) -> Vec<&ReviewCount> {
    let mut all = vec![
        &review.dormant,
        &review.never_signed_in,
        &review.pending_invitations,
        &review.expired_invitations,
        &review.without_mfa,
    ];
    all.extend(&review.statuses);
    all.extend(&review.licences);
    all.extend(&review.roles);
    all.extend(&review.sign_in_methods);
    all
}

fn count(review: &ReviewView, key: &str) -> u32 {
    all_counts(review)
        .into_iter()
        .find(|c| c.key == key)
        .unwrap_or_else(|| panic!("no count {key} in {review:#?}"))
        .count
}

#[test]
fn every_query_finds_exactly_the_users_counted() {
    let users = users();
    let index = Index::build(&users);
    for days in [1, 30, 90, 91, 365, MAX_DORMANT_DAYS] {
        let review = ReviewView::of(&users, Some(NOW), days, NOW);
        let mut linked = 0;
        for item in all_counts(&review) {
            let Some(query) = &item.query else { continue };
            linked += 1;
            let found = index
                .search(&super::super::reads::windowed(query), NOW)
                .total;
            assert_eq!(
                found, item.count as usize,
                "{} at {days} days: the table must list exactly the users counted ({query:?})",
                item.key
            );
        }
        assert!(linked > 20, "most counts link to the table ({linked})");
    }
}

#[test]
fn counts_follow_the_definitions() {
    let users = users();
    let review = ReviewView::of(&users, Some(NOW - time::Duration::hours(2)), 90, NOW);
    assert_eq!(review.total, 18);
    assert_eq!(
        review.age_seconds,
        Some(7200),
        "the copy's age at the review"
    );
    // Active: 0-5, 8, 9, 11, `plain` (from SCIM's `active`), and `nothing` (a provider
    // that says nothing has an account in use).
    assert_eq!(review.active, 11);
    assert_eq!(
        review.dormant.count, 5,
        "1 (120 days), 2 (95), 5 (exactly 90), 8 (400), and 11 (a method but no time: \
         idle to the index); not 9 (no method) nor the suspended or deactivated"
    );
    assert_eq!(
        review.never_signed_in.count, 5,
        "3, 4, 11, plain and nothing"
    );
    assert_eq!(review.pending_invitations.count, 1);
    assert_eq!(
        review.expired_invitations.count, 2,
        "values compare lower-cased"
    );
    assert_eq!(
        review.without_mfa.count, 7,
        "active and reported off: 0, 2, 3, 5, 8, 9, 11"
    );
    assert_eq!(count(&review, "status-active"), 11);
    assert_eq!(count(&review, "status-deactivated"), 2, "7 and gone");
    assert_eq!(
        count(&review, "status-locked"),
        1,
        "unknown statuses are listed"
    );
    assert_eq!(count(&review, "licence-field"), 4, "0, 1, 5, 11");
    assert_eq!(
        count(&review, "licence-fleet"),
        2,
        "Fleet and fleet are one value"
    );
    assert_eq!(count(&review, "licence-none"), 3, "4, plain and nothing");
    assert!(
        review
            .licences
            .iter()
            .all(|l| l.key != "licence-none" || l.query.is_none())
    );
    assert_eq!(
        count(&review, "role-none"),
        4,
        "4, a blank role, plain and nothing"
    );
    assert_eq!(count(&review, "method-password"), 4, "0, 1, 5 and 11");
    assert_eq!(count(&review, "method-never"), review.never_signed_in.count);
    assert_eq!(
        count(&review, "method-google"),
        0,
        "known methods are always listed"
    );
    let sums = |items: &[ReviewCount]| items.iter().map(|i| i.count).sum::<u32>();
    assert_eq!(
        sums(&review.licences),
        review.active,
        "licence bars cover the active"
    );
    assert_eq!(
        sums(&review.roles),
        review.active,
        "role bars cover the active"
    );
    assert_eq!(
        review.statuses.iter().map(|s| s.count).sum::<u32>(),
        review.total,
        "every user has a status (one with none at all is active)"
    );
    let keys: HashSet<&str> = all_counts(&review).iter().map(|c| c.key.as_str()).collect();
    assert_eq!(keys.len(), all_counts(&review).len(), "keys are unique");
    assert!(
        review
            .licences
            .windows(2)
            .all(|w| w[0].count >= w[1].count || w[1].query.is_none()),
        "licences most first: {:?}",
        review.licences
    );
}

#[test]
fn an_empty_copy_reviews_to_zeros_and_bad_thresholds_are_refused() {
    let review = ReviewView::of::<User>([], None, 90, NOW);
    assert_eq!(
        (review.total, review.active, review.dormant.count),
        (0, 0, 0)
    );
    assert_eq!(review.synced_at, None);
    assert_eq!(review.age_seconds, None);
    assert_eq!(
        review.statuses.len(),
        STATUSES.len(),
        "the usual statuses at zero"
    );
    assert!(ReviewOptions { dormant_days: 0 }.check().is_err());
    assert!(
        ReviewOptions {
            dormant_days: MAX_DORMANT_DAYS + 1
        }
        .check()
        .is_err()
    );
    assert!(ReviewOptions::default().check().is_ok());
    // Far past the range `time` handles: no panic, nobody is idle that long.
    let far = ReviewView::of(users(), Some(NOW), u32::MAX, NOW);
    assert_eq!(
        far.dormant.count, 1,
        "only 11, which has a method and no time"
    );
}

#[test]
fn labels_and_keys_read_well() {
    assert_eq!(words("magic_link"), "Magic link");
    assert_eq!(words("api"), "API");
    assert_eq!(words("field"), "Field");
    let mut keys = Keys::default();
    assert_eq!(keys.unique("licence-Field Plus"), "licence-field-plus");
    assert_eq!(keys.unique("licence-field plus"), "licence-field-plus-2");
}
