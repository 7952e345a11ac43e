//! Sync: bringing a profile's offline [`Snapshot`] up to date with the server, and reading
//! it when the server cannot be reached.
//!
//! - The first sync (no high-water mark yet) pages through every user and group, with
//!   progress.
//! - Later syncs ask only for what changed: `meta.lastModified gt <high water>`, for users
//!   and groups, when the provider can filter (else they fall back to a full sync). The
//!   changes are merged by id.
//! - Deletions leave no `lastModified` behind, so they are reconciled by an id-only pass
//!   (`attributes=id`, every page): it runs when the server's user or group count differs
//!   from the merged cache's, when the last one is older than
//!   [`SyncOptions::id_pass_interval`] (a day by default), or when asked for.
//! - Every request of a sync is made before the snapshot is touched; the merge itself
//!   cannot fail. So an interrupted sync (network drop, error answer, a dropped future)
//!   leaves the caller's snapshot exactly as it was.
//! - Writes go to the server through the [`Client`]; callers then update the snapshot
//!   from the server's answer with [`apply_user`] / [`remove_user`] (and
//!   [`apply_group`] / [`remove_group`]) and [`Store::save`] it.
//!
//! Offline: when the server is unreachable the transport fails every request with
//! [`Error::Offline`]; the app then reads the cached users with [`offline_read`], which
//! reports the snapshot's age, and writes fail with that same `Offline` error.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use muster_scim::group::Group;
use muster_scim::user::User;
use time::OffsetDateTime;
use time::macros::format_description;
use zeroize::Zeroizing;

use crate::cache::{self, Opened, Snapshot};
use crate::client::Client;
use crate::error::Error;
use crate::query::{DEFAULT_PAGE_SIZE, ListQuery, attr};

/// The attribute incremental syncs filter on.
const LAST_MODIFIED: &str = "meta.lastModified";

/// A profile's cache file and the key that encrypts it.
///
/// The key is wiped from memory when the store is dropped; `Debug` never shows it.
pub struct Store {
    path: PathBuf,
    key: Zeroizing<[u8; 32]>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

/// What [`Store::open`] found on disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OpenOutcome {
    /// A usable snapshot was read.
    Fresh,
    /// There was no cache yet.
    Missing,
    /// A cache existed but could not be used (it was logged); it is rebuilt by the next
    /// sync.
    Discarded {
        /// Why, in words free of user data and secrets.
        reason: String,
    },
}

impl Store {
    /// A store for the cache file at `path` (one per profile), encrypted under `key`
    /// (the profile's [`SecretKind::CacheKey`](crate::vault::SecretKind::CacheKey)).
    pub fn new(path: impl Into<PathBuf>, key: [u8; 32]) -> Self {
        Self {
            path: path.into(),
            key: Zeroizing::new(key),
        }
    }

    /// Where the cache file lives.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The cached snapshot, or an empty one (synced at `now`, no high-water mark, so the
    /// next sync is a full one) when there is none or it could not be used.
    pub fn open(&self, now: OffsetDateTime) -> (Snapshot, OpenOutcome) {
        match cache::open(&self.path, &self.key) {
            Opened::Fresh(snapshot) => (snapshot, OpenOutcome::Fresh),
            Opened::Missing => (Snapshot::empty(now), OpenOutcome::Missing),
            Opened::Discarded { reason } => {
                (Snapshot::empty(now), OpenOutcome::Discarded { reason })
            }
        }
    }

    /// Encrypts `snapshot` and atomically replaces the cache file with it.
    ///
    /// # Errors
    ///
    /// [`Error::Storage`] when it cannot be written; the previous file is then intact.
    pub fn save(&self, snapshot: &Snapshot) -> Result<(), Error> {
        Ok(cache::write(&self.path, snapshot, &self.key)?)
    }

    /// Deletes the cache file (sign-out, profile removal).
    ///
    /// # Errors
    ///
    /// [`Error::Storage`] when the file exists and cannot be deleted.
    pub fn remove(&self) -> Result<(), Error> {
        Ok(cache::remove(&self.path)?)
    }
}

/// The cached data, for reading while the server is unreachable.
#[derive(Debug, Clone, PartialEq)]
pub struct Offline {
    /// The snapshot as last synced.
    pub snapshot: Snapshot,
    /// How old it is: show it next to the data.
    pub age: time::Duration,
}

/// The cached snapshot with its age at `now`, for reads while the server cannot be
/// reached.
///
/// # Errors
///
/// [`Error::Storage`] when there is no usable cache (none yet, or it was unreadable and
/// discarded): there is nothing to show until the server can be reached again.
pub fn offline_read(store: &Store, now: OffsetDateTime) -> Result<Offline, Error> {
    match store.open(now) {
        (snapshot, OpenOutcome::Fresh) => Ok(Offline {
            age: snapshot.age(now),
            snapshot,
        }),
        (_, OpenOutcome::Missing) => Err(Error::Storage {
            message: "There is no offline copy of this profile's data yet; connect to the \
                      server once to sync it."
                .to_owned(),
        }),
        (_, OpenOutcome::Discarded { reason }) => Err(Error::Storage {
            message: format!(
                "The offline copy of this profile's data could not be used ({reason}); it \
                 will be rebuilt at the next sync with the server."
            ),
        }),
    }
}

/// How [`sync_with`] behaves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncOptions {
    /// Resources per page.
    pub page_size: u64,
    /// The id-only pass runs at least this often.
    pub id_pass_interval: time::Duration,
    /// Run the id-only pass this time whatever the counts say.
    pub force_id_pass: bool,
    /// Page through everything this time, even when an incremental sync is possible.
    pub force_full: bool,
}

impl Default for SyncOptions {
    fn default() -> Self {
        Self {
            page_size: DEFAULT_PAGE_SIZE,
            id_pass_interval: time::Duration::DAY,
            force_id_pass: false,
            force_full: false,
        }
    }
}

/// Which part of a sync is running.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Fetching users.
    Users,
    /// Fetching groups.
    Groups,
    /// Fetching the changes to users and groups.
    Changes,
    /// Fetching every id, to find deletions.
    Ids,
}

/// How far a sync has got.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    /// What is being fetched.
    pub phase: Phase,
    /// Resources fetched so far in this phase.
    pub fetched: u64,
    /// How many the server says there are in this phase, when it says.
    pub total: Option<u64>,
}

/// What a sync did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SyncReport {
    /// Whether it paged through everything (rather than fetching changes).
    pub full: bool,
    /// Users and groups fetched (new or changed; everything for a full sync).
    pub fetched: usize,
    /// Cached users and groups dropped because the server no longer has them.
    pub removed: usize,
    /// Whether the id-only pass ran.
    pub id_pass: bool,
}

/// Brings `snapshot` up to date with the server, with [`SyncOptions::default`].
/// See [`sync_with`].
///
/// # Errors
///
/// Whatever the server or the network answers ([`Error::Offline`] when it cannot be
/// reached); `snapshot` is then unchanged.
pub async fn sync(
    client: &Client,
    snapshot: &mut Snapshot,
    now: OffsetDateTime,
    progress: impl FnMut(Progress),
) -> Result<SyncReport, Error> {
    sync_with(client, snapshot, now, &SyncOptions::default(), progress).await
}

/// Brings `snapshot` up to date with the server (see the [module](self) documentation):
/// a full sync when it has no high-water mark, the provider cannot filter, or
/// `options.force_full`; else the changes since the high-water mark, and the id-only
/// pass when due. On success `snapshot.synced_at` is `now`.
///
/// # Errors
///
/// Whatever the server or the network answers ([`Error::Offline`] when it cannot be
/// reached). Every request is made before `snapshot` is changed, so on error (or when
/// the future is dropped) it is exactly as it was.
pub async fn sync_with(
    client: &Client,
    snapshot: &mut Snapshot,
    now: OffsetDateTime,
    options: &SyncOptions,
    mut progress: impl FnMut(Progress),
) -> Result<SyncReport, Error> {
    let mut capabilities = None;
    if snapshot.capabilities.is_null() {
        capabilities = Some(discover(client).await?);
    }
    let can_filter = capabilities
        .as_ref()
        .unwrap_or(&snapshot.capabilities)
        .get("filter")
        .and_then(serde_json::Value::as_bool)
        .unwrap_or(false);
    let high_water = snapshot
        .sync
        .last_modified_high_water
        .as_deref()
        .and_then(parse_time);
    match high_water {
        Some(since) if can_filter && !options.force_full => {
            let changes = fetch_changes(client, snapshot, since, now, options, &mut progress);
            let changes = match changes.await {
                // A provider that claims filtering but refuses this filter: page through
                // everything instead.
                Err(Error::Validation { .. }) => None,
                other => Some(other?),
            };
            if let Some(changes) = changes {
                if let Some(capabilities) = capabilities {
                    snapshot.capabilities = capabilities;
                }
                return Ok(changes.apply(snapshot, now));
            }
        }
        _ => {}
    }
    let full = fetch_full(client, options, &mut progress).await?;
    let capabilities = match capabilities {
        Some(capabilities) => capabilities,
        None => discover(client).await?,
    };
    snapshot.capabilities = capabilities;
    Ok(full.apply(snapshot, now))
}

/// The provider's capabilities as the snapshot keeps them.
async fn discover(client: &Client) -> Result<serde_json::Value, Error> {
    let capabilities = client.discover().await?;
    serde_json::to_value(capabilities)
        .map_err(|e| Error::protocol(format!("cannot encode the capabilities: {e}"), b""))
}

/// Everything a full sync fetched, not yet applied.
struct Full {
    users: Vec<User>,
    groups: Vec<Group>,
}

async fn fetch_full(
    client: &Client,
    options: &SyncOptions,
    progress: &mut impl FnMut(Progress),
) -> Result<Full, Error> {
    let query = ListQuery::default().with_count(options.page_size.max(1));
    let users = client
        .users()
        .list_all(&query, |p| {
            progress(Progress {
                phase: Phase::Users,
                fetched: p.fetched,
                total: p.total,
            });
        })
        .await?;
    let groups = client
        .groups()
        .list_all(&query, |p| {
            progress(Progress {
                phase: Phase::Groups,
                fetched: p.fetched,
                total: p.total,
            });
        })
        .await?;
    Ok(Full { users, groups })
}

impl Full {
    fn apply(self, snapshot: &mut Snapshot, now: OffsetDateTime) -> SyncReport {
        let fetched = self.users.len() + self.groups.len();
        let high_water = newest(&self.users, &self.groups);
        snapshot.users = self.users;
        snapshot.groups = self.groups;
        // A full list is its own reconciliation; the mark restarts from what is there now
        // (the old one may be ahead of the server's clock after a restore).
        snapshot.sync.last_modified_high_water = high_water.map(format_time);
        snapshot.sync.last_full_sync = Some(now);
        snapshot.sync.last_id_pass = Some(now);
        snapshot.synced_at = now;
        SyncReport {
            full: true,
            fetched,
            removed: 0,
            id_pass: false,
        }
    }
}

/// Everything an incremental sync fetched, not yet applied.
struct Changes {
    users: Vec<User>,
    groups: Vec<Group>,
    /// Every id on the server, when the id-only pass ran.
    ids: Option<(HashSet<String>, HashSet<String>)>,
}

async fn fetch_changes(
    client: &Client,
    snapshot: &Snapshot,
    since: OffsetDateTime,
    now: OffsetDateTime,
    options: &SyncOptions,
    progress: &mut impl FnMut(Progress),
) -> Result<Changes, Error> {
    // `gt`: resources at the mark itself were seen by the sync that set it. (With `ge`
    // a bulk import sharing one timestamp would be fetched again by every sync.) The
    // residual risk, a change stamped in the very millisecond of the mark but committed
    // after that sync read it, is left to a forced full sync.
    let changed = ListQuery::filtered(attr(LAST_MODIFIED).gt(format_time(since)))
        .with_count(options.page_size.max(1));
    let count_only = ListQuery {
        attributes: vec!["id".to_owned()],
        ..ListQuery::default()
    }
    .with_count(0);
    let users = client.users();
    let groups = client.groups();
    let (changed_users, changed_groups, user_total, group_total) = tokio::join!(
        users.list_all(&changed, |_| {}),
        groups.list_all(&changed, |_| {}),
        users.page(&count_only),
        groups.page(&count_only),
    );
    let (changed_users, changed_groups) = (changed_users?, changed_groups?);
    let (user_total, group_total) = (user_total?.total, group_total?.total);
    progress(Progress {
        phase: Phase::Changes,
        fetched: u64::try_from(changed_users.len() + changed_groups.len()).unwrap_or(u64::MAX),
        total: None,
    });
    let users_after = merged_len(&snapshot.users, &changed_users, |u| u.id.as_deref());
    let groups_after = merged_len(&snapshot.groups, &changed_groups, |g| g.id.as_deref());
    let counts_differ = |total: Option<u64>, cached: usize| {
        total.is_none_or(|total| u64::try_from(cached) != Ok(total))
    };
    let overdue = snapshot
        .sync
        .last_id_pass
        .is_none_or(|last| now - last >= options.id_pass_interval);
    let ids = if options.force_id_pass
        || overdue
        || counts_differ(user_total, users_after)
        || counts_differ(group_total, groups_after)
    {
        Some(fetch_ids(client, options, progress).await?)
    } else {
        None
    };
    Ok(Changes {
        users: changed_users,
        groups: changed_groups,
        ids,
    })
}

/// Every user id and every group id on the server.
async fn fetch_ids(
    client: &Client,
    options: &SyncOptions,
    progress: &mut impl FnMut(Progress),
) -> Result<(HashSet<String>, HashSet<String>), Error> {
    let query = ListQuery {
        attributes: vec!["id".to_owned()],
        ..ListQuery::default()
    }
    .with_count(options.page_size.max(1));
    let users = client
        .users()
        .list_all(&query, |p| {
            progress(Progress {
                phase: Phase::Ids,
                fetched: p.fetched,
                total: p.total,
            });
        })
        .await?;
    let groups = client.groups().list_all(&query, |_| {}).await?;
    Ok((
        users.into_iter().filter_map(|u| u.id).collect(),
        groups.into_iter().filter_map(|g| g.id).collect(),
    ))
}

impl Changes {
    fn apply(self, snapshot: &mut Snapshot, now: OffsetDateTime) -> SyncReport {
        let fetched = self.users.len() + self.groups.len();
        let newest_seen = newest(&self.users, &self.groups);
        merge(&mut snapshot.users, self.users, |u| u.id.as_deref());
        merge(&mut snapshot.groups, self.groups, |g| g.id.as_deref());
        let mut removed = 0;
        let id_pass = self.ids.is_some();
        if let Some((user_ids, group_ids)) = self.ids {
            removed += retain_known(&mut snapshot.users, &user_ids, |u| u.id.as_deref());
            removed += retain_known(&mut snapshot.groups, &group_ids, |g| g.id.as_deref());
            snapshot.sync.last_id_pass = Some(now);
        }
        raise_high_water(snapshot, newest_seen);
        snapshot.synced_at = now;
        SyncReport {
            full: false,
            fetched,
            removed,
            id_pass,
        }
    }
}

/// Puts `user`, as the server answered a create, replace or patch, into the snapshot:
/// replacing the cached user with its id, or adding it. Raises the high-water mark to its
/// `meta.lastModified` when that is newer.
pub fn apply_user(snapshot: &mut Snapshot, user: User) {
    let modified = user.meta.as_ref().and_then(|m| m.last_modified);
    merge(&mut snapshot.users, vec![user], |u| u.id.as_deref());
    raise_high_water(snapshot, modified);
}

/// Drops the user with `id` from the snapshot (after the server deleted it); `true` when
/// it was there.
pub fn remove_user(snapshot: &mut Snapshot, id: &str) -> bool {
    let before = snapshot.users.len();
    snapshot.users.retain(|u| u.id.as_deref() != Some(id));
    snapshot.users.len() != before
}

/// Puts `group`, as the server answered a write, into the snapshot (see [`apply_user`]).
pub fn apply_group(snapshot: &mut Snapshot, group: Group) {
    let modified = group.meta.as_ref().and_then(|m| m.last_modified);
    merge(&mut snapshot.groups, vec![group], |g| g.id.as_deref());
    raise_high_water(snapshot, modified);
}

/// Drops the group with `id` from the snapshot; `true` when it was there.
pub fn remove_group(snapshot: &mut Snapshot, id: &str) -> bool {
    let before = snapshot.groups.len();
    snapshot.groups.retain(|g| g.id.as_deref() != Some(id));
    snapshot.groups.len() != before
}

/// Replaces each cached item that has the id of one in `fresh`, and appends the others.
fn merge<T>(cached: &mut Vec<T>, fresh: Vec<T>, id: impl Fn(&T) -> Option<&str>) {
    if fresh.is_empty() {
        return;
    }
    let mut place: HashMap<String, usize> = cached
        .iter()
        .enumerate()
        .filter_map(|(index, item)| id(item).map(|id| (id.to_owned(), index)))
        .collect();
    for item in fresh {
        let Some(key) = id(&item).map(str::to_owned) else {
            continue;
        };
        match place.get(&key) {
            Some(&index) => cached[index] = item,
            None => {
                place.insert(key, cached.len());
                cached.push(item);
            }
        }
    }
}

/// How many items `cached` would hold after merging `fresh` into it.
fn merged_len<T>(cached: &[T], fresh: &[T], id: impl Fn(&T) -> Option<&str>) -> usize {
    let known: HashSet<&str> = cached.iter().filter_map(&id).collect();
    let new: HashSet<&str> = fresh
        .iter()
        .filter_map(&id)
        .filter(|id| !known.contains(id))
        .collect();
    cached.len() + new.len()
}

/// Keeps the items whose id is in `ids`; how many were dropped.
fn retain_known<T>(
    cached: &mut Vec<T>,
    ids: &HashSet<String>,
    id: impl Fn(&T) -> Option<&str>,
) -> usize {
    let before = cached.len();
    cached.retain(|item| id(item).is_some_and(|id| ids.contains(id)));
    before - cached.len()
}

/// The newest `meta.lastModified` among users and groups.
fn newest(users: &[User], groups: &[Group]) -> Option<OffsetDateTime> {
    let users = users.iter().filter_map(|u| u.meta.as_ref()?.last_modified);
    let groups = groups.iter().filter_map(|g| g.meta.as_ref()?.last_modified);
    users.chain(groups).max()
}

/// Moves the high-water mark to `seen` if that is newer; it never goes back.
fn raise_high_water(snapshot: &mut Snapshot, seen: Option<OffsetDateTime>) {
    let Some(seen) = seen else { return };
    let current = snapshot
        .sync
        .last_modified_high_water
        .as_deref()
        .and_then(parse_time);
    if current.is_none_or(|current| seen > current) {
        snapshot.sync.last_modified_high_water = Some(format_time(seen));
    }
}

fn parse_time(text: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339).ok()
}

/// RFC 3339 in UTC with exactly three fraction digits, cut (not rounded) to the
/// millisecond, so the mark never passes a change and compares correctly even with a
/// provider that compares timestamps as text.
fn format_time(at: OffsetDateTime) -> String {
    let utc = at.to_offset(time::UtcOffset::UTC);
    utc.format(format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
    ))
    .unwrap_or_else(|_| utc.to_string())
}

#[cfg(test)]
mod tests {
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
    fn writes_update_the_snapshot_and_the_mark_only_rises() {
        let mut snapshot = Snapshot::empty(datetime!(2030-01-01 0:00 UTC));
        apply_user(
            &mut snapshot,
            user("a", "ann", datetime!(2030-01-02 0:00 UTC)),
        );
        apply_user(
            &mut snapshot,
            user("b", "bob", datetime!(2030-01-01 0:00 UTC)),
        );
        assert_eq!(
            snapshot.sync.last_modified_high_water.as_deref(),
            Some("2030-01-02T00:00:00.000Z")
        );
        apply_user(
            &mut snapshot,
            user("a", "anne", datetime!(2030-01-03 0:00:00.1234 UTC)),
        );
        assert_eq!(snapshot.users.len(), 2);
        assert_eq!(snapshot.users[0].user_name, "anne", "replaced in place");
        assert_eq!(
            snapshot.sync.last_modified_high_water.as_deref(),
            Some("2030-01-03T00:00:00.123Z"),
            "cut to the millisecond, never rounded up"
        );
        assert!(remove_user(&mut snapshot, "a"));
        assert!(!remove_user(&mut snapshot, "a"));
        assert_eq!(snapshot.users.len(), 1);
    }

    #[test]
    fn merging_counts_new_ids_once() {
        let t = datetime!(2030-01-01 0:00 UTC);
        let cached = vec![user("a", "a", t), user("b", "b", t)];
        let fresh = vec![user("b", "b2", t), user("c", "c", t), user("c", "c", t)];
        assert_eq!(merged_len(&cached, &fresh, |u| u.id.as_deref()), 3);
        let mut merged = cached.clone();
        merge(&mut merged, fresh, |u| u.id.as_deref());
        let names: Vec<_> = merged.iter().map(|u| u.user_name.as_str()).collect();
        assert_eq!(names, ["a", "b2", "c"]);
    }
}
