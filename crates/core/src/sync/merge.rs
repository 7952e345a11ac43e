//! Putting fresh users and groups into a snapshot by id: the survey of what a sync's
//! changes will replace and append (one pass over the cache), the merge itself, the
//! id-only pass's removals, and a single write's answer put into the copy.

use std::collections::{HashMap, HashSet};

use muster_scim::group::Group;
use muster_scim::user::User;
use time::OffsetDateTime;

use crate::cache::{PackedUser, Snapshot};

pub(super) fn user_keys(user: &PackedUser) -> (Option<&str>, Option<OffsetDateTime>) {
    (user.id(), user.modified())
}

pub(super) fn group_keys(group: &Group) -> (Option<&str>, Option<OffsetDateTime>) {
    (
        group.id.as_deref(),
        group.meta.as_ref().and_then(|m| m.last_modified),
    )
}

/// What merging fresh items into cached ones by id will do, found in one pass over the
/// cache (which, at 100,000 users, is what a sync of a few changes mostly costs).
pub(super) struct Survey {
    /// Cached positions to replace, each with the fresh item (its last copy) replacing it.
    pub(super) replace: Vec<(usize, usize)>,
    /// Fresh items (their last copy) whose id the cache lacks, in order.
    pub(super) append: Vec<usize>,
    /// Items that, after the merge, were last modified at or after the window start.
    pub(super) in_window: usize,
}

impl Survey {
    pub(super) fn new<T>(
        cached: &[T],
        fresh: &[T],
        from: OffsetDateTime,
        keys: impl Fn(&T) -> (Option<&str>, Option<OffsetDateTime>),
    ) -> Self {
        let inside = |modified: Option<OffsetDateTime>| modified.is_some_and(|at| at >= from);
        let mut last: HashMap<&str, (usize, bool)> = HashMap::with_capacity(fresh.len());
        for (index, item) in fresh.iter().enumerate() {
            if let Some(id) = keys(item).0 {
                last.insert(id, (index, false));
            }
        }
        let mut replace = Vec::new();
        let mut in_window = 0;
        for (position, item) in cached.iter().enumerate() {
            let (id, modified) = keys(item);
            match id.and_then(|id| last.get_mut(id)) {
                Some((index, found)) if !*found => {
                    *found = true;
                    replace.push((position, *index));
                }
                _ => in_window += usize::from(inside(modified)),
            }
        }
        let mut append: Vec<usize> = last
            .values()
            .filter(|(_, found)| !found)
            .map(|(index, _)| *index)
            .collect();
        append.sort_unstable();
        in_window += last
            .values()
            .filter(|(index, _)| inside(keys(&fresh[*index]).1))
            .count();
        Self {
            replace,
            append,
            in_window,
        }
    }

    /// Merges `fresh` into `cached` as surveyed (or, should `cached` have changed since,
    /// by id the slow way).
    pub(super) fn merge<T>(
        self,
        cached: &mut Vec<T>,
        fresh: Vec<T>,
        id: impl Fn(&T) -> Option<&str>,
    ) {
        let still = self.replace.iter().all(|(position, index)| {
            cached
                .get(*position)
                .zip(fresh.get(*index))
                .is_some_and(|(old, new)| id(old).is_some() && id(old) == id(new))
        });
        if !still {
            merge(cached, fresh, id);
            return;
        }
        let mut fresh: Vec<Option<T>> = fresh.into_iter().map(Some).collect();
        for (position, index) in self.replace {
            if let Some(item) = fresh[index].take() {
                cached[position] = item;
            }
        }
        cached.extend(
            self.append
                .into_iter()
                .filter_map(|index| fresh[index].take()),
        );
    }
}

/// Puts `user`, as the server answered a create, replace or patch, into the snapshot:
/// replacing the cached user with its id, or adding it.
///
/// The high-water mark is left alone: it says that every change up to it has been
/// fetched, which one write does not show (others may have changed other users since the
/// last sync; raising the mark past their changes would hide them from every later sync).
/// The next sync fetches this user again, and the merge by id makes that harmless.
pub fn apply_user(snapshot: &mut Snapshot, user: User) {
    merge(
        &mut snapshot.users,
        vec![PackedUser::pack(&user)],
        PackedUser::id,
    );
}

/// Drops the user with `id` from the snapshot (after the server deleted it); `true` when
/// it was there.
pub fn remove_user(snapshot: &mut Snapshot, id: &str) -> bool {
    let before = snapshot.users.len();
    snapshot.users.retain(|u| u.id() != Some(id));
    snapshot.users.len() != before
}

/// Puts `group`, as the server answered a write, into the snapshot (see [`apply_user`]).
pub fn apply_group(snapshot: &mut Snapshot, group: Group) {
    merge(&mut snapshot.groups, vec![group], |g| g.id.as_deref());
}

/// Drops the group with `id` from the snapshot; `true` when it was there.
pub fn remove_group(snapshot: &mut Snapshot, id: &str) -> bool {
    let before = snapshot.groups.len();
    snapshot.groups.retain(|g| g.id.as_deref() != Some(id));
    snapshot.groups.len() != before
}

/// Replaces each cached item that has the id of one in `fresh`, and appends the others
/// (in their order in `fresh`). One pass over the cache with a map of the few fresh ids,
/// so a handful of changes costs little even against a large cache.
pub(super) fn merge<T>(cached: &mut Vec<T>, fresh: Vec<T>, id: impl Fn(&T) -> Option<&str>) {
    if fresh.is_empty() {
        return;
    }
    let ids: Vec<Option<String>> = fresh
        .iter()
        .map(|item| id(item).map(str::to_owned))
        .collect();
    let wanted: HashMap<&str, usize> = {
        let mut last = HashMap::with_capacity(ids.len());
        for (index, item_id) in ids.iter().enumerate() {
            if let Some(item_id) = item_id {
                last.insert(item_id.as_str(), index);
            }
        }
        last
    };
    let mut fresh: Vec<Option<T>> = fresh.into_iter().map(Some).collect();
    for item in cached.iter_mut() {
        let Some(&index) = id(item).and_then(|item_id| wanted.get(item_id)) else {
            continue;
        };
        if let Some(replacement) = fresh[index].take() {
            *item = replacement;
        }
    }
    // The rest, once each, in order of their last copy.
    let mut rest: Vec<usize> = wanted
        .values()
        .copied()
        .filter(|index| fresh[*index].is_some())
        .collect();
    rest.sort_unstable();
    cached.extend(rest.into_iter().filter_map(|index| fresh[index].take()));
}

/// Keeps the items whose id is in `ids`; how many were dropped.
pub(super) fn retain_known<T>(
    cached: &mut Vec<T>,
    ids: &HashSet<String>,
    id: impl Fn(&T) -> Option<&str>,
) -> usize {
    let before = cached.len();
    cached.retain(|item| id(item).is_some_and(|id| ids.contains(id)));
    before - cached.len()
}
