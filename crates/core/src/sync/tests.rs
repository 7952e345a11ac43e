use super::*;
use muster_scim::meta::Meta;
use time::macros::datetime;

fn user(id: &str, name: &str, modified: OffsetDateTime) -> User {
    User {
        id: Some(id.into()),
        user_name: name.into(),
        meta: Some(Meta {
            last_modified: Some(modified),
            ..Meta::default()
        }),
        ..User::default()
    }
}

#[test]
fn writes_update_the_snapshot_but_not_the_mark() {
    let mut snapshot = Snapshot::empty(datetime!(2030-01-01 0:00 UTC));
    apply_user(
        &mut snapshot,
        user("a", "ann", datetime!(2030-01-02 0:00 UTC)),
    );
    assert_eq!(
        snapshot.sync.last_modified_high_water, None,
        "a write before any sync does not make the next sync an incremental one"
    );
    snapshot.sync.last_modified_high_water = Some("2030-01-01T00:00:00.000Z".into());
    apply_user(
        &mut snapshot,
        user("b", "bob", datetime!(2030-01-01 0:00 UTC)),
    );
    apply_user(
        &mut snapshot,
        user("a", "anne", datetime!(2030-01-03 0:00:00.1234 UTC)),
    );
    assert_eq!(snapshot.users.len(), 2);
    assert_eq!(
        snapshot.users[0].user().user_name,
        "anne",
        "replaced in place"
    );
    assert_eq!(
        snapshot.sync.last_modified_high_water.as_deref(),
        Some("2030-01-01T00:00:00.000Z"),
        "only a sync moves the mark"
    );
    assert!(remove_user(&mut snapshot, "a"));
    assert!(!remove_user(&mut snapshot, "a"));
    assert_eq!(snapshot.users.len(), 1);
}

#[test]
fn the_mark_only_rises_and_is_cut_to_the_millisecond() {
    let mut snapshot = Snapshot::empty(datetime!(2030-01-01 0:00 UTC));
    raise_high_water(&mut snapshot, Some(datetime!(2030-01-03 0:00:00.1239 UTC)));
    assert_eq!(
        snapshot.sync.last_modified_high_water.as_deref(),
        Some("2030-01-03T00:00:00.123Z"),
        "cut, never rounded up"
    );
    raise_high_water(&mut snapshot, Some(datetime!(2030-01-02 0:00 UTC)));
    assert_eq!(
        snapshot.sync.last_modified_high_water.as_deref(),
        Some("2030-01-03T00:00:00.123Z")
    );
}

#[test]
fn merging_counts_new_ids_once() {
    let t = datetime!(2030-01-01 0:00 UTC);
    let later = datetime!(2030-01-02 0:00 UTC);
    let packed = |users: Vec<User>| -> Vec<PackedUser> { packed(users) };
    let cached = packed(vec![user("a", "a", t), user("b", "b", t)]);
    let fresh = packed(vec![
        user("b", "b2", later),
        user("c", "c", later),
        user("c", "c2", later),
    ]);
    let names = |users: &[PackedUser]| -> Vec<String> {
        users.iter().map(|u| u.user().user_name).collect()
    };
    let survey = Survey::new(&cached, &fresh, later, user_keys);
    assert_eq!(survey.replace, [(1, 0)]);
    assert_eq!(survey.append, [2], "the last copy of a new id, once");
    assert_eq!(survey.in_window, 2, "b2 and c2; a is older");
    let mut merged = cached.clone();
    survey.merge(&mut merged, fresh.clone(), PackedUser::id);
    assert_eq!(names(&merged), ["a", "b2", "c2"]);

    // The slow way, should the cache have changed since the survey, agrees.
    let survey = Survey::new(&cached, &fresh, later, user_keys);
    let mut changed = packed(vec![user("b", "b", t), user("a", "a", t)]);
    survey.merge(&mut changed, fresh, PackedUser::id);
    assert_eq!(names(&changed), ["b2", "a", "c2"]);
}
