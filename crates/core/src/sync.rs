//! Sync: bringing a profile's offline [`Snapshot`] up to date with the server, and reading
//! it when the server cannot be reached.
//!
//! - The first sync (no high-water mark yet) pages through every user and group, with
//!   progress.
//! - Later syncs ask only for what changed: `meta.lastModified gt <high water>`, for users
//!   and groups, when the provider can filter (else they fall back to a full sync). The
//!   changes are merged by id.
//! - Stragglers: a change stamped at or shortly before the mark but committed after the
//!   sync that set the mark read (a server stamps a write before it commits it) is not
//!   `gt` the mark. So before fetching changes a sync counts the resources stamped within
//!   [`SyncOptions::straggler_window`] before the mark or later; when the server holds
//!   more of them than the cache would after the merge, that window is fetched again and
//!   merged by id (idempotent). A count is one cheap request, so quiet syncs stay quiet
//!   even after a bulk import that stamped every user with one time.
//! - Deletions leave no `lastModified` behind, so they are reconciled by an id-only pass
//!   (`attributes=id`, every page): it runs when the server's user or group count differs
//!   from the merged cache's, when the last one is older than
//!   [`SyncOptions::id_pass_interval`] (a day by default), after
//!   [`SyncOptions::id_pass_every`] incremental syncs without one (10 by default), or
//!   when asked for.
//! - Every request of a sync is made before the snapshot is touched; the merge itself
//!   cannot fail. So an interrupted sync (network drop, error answer, a dropped future)
//!   leaves the caller's snapshot exactly as it was.
//! - Writes go to the server through the [`Client`]; callers then update the snapshot
//!   from the server's answer with [`apply_user`] / [`remove_user`] (and
//!   [`apply_group`] / [`remove_group`]) and [`Store::save`](crate::cache::Store::save) it.
//!
//! Offline: when the server is unreachable the transport fails every request with
//! [`Error::Offline`]; the app then reads the cached users with [`offline_read`](crate::cache::offline_read), which
//! reports the snapshot's age, and writes fail with that same `Offline` error.
//!
//! Opening: [`Store::open_indexed`](crate::cache::Store::open_indexed) returns the snapshot with its search [`Index`](crate::search::Index), stored
//! in the cache file, so the first window of the user table needs no index build.

use std::collections::HashSet;

use muster_scim::filter::Filter;
use muster_scim::group::Group;
use muster_scim::user::User;
use time::OffsetDateTime;
use time::macros::format_description;

use crate::cache::{PackedUser, Snapshot, Store};
use crate::client::Client;
use crate::error::{Error, Notice};
use crate::query::{DEFAULT_PAGE_SIZE, ListQuery, Page, attr};
use crate::search::Index;
use merge::{Survey, group_keys, retain_known, user_keys};
pub use merge::{apply_group, apply_user, remove_group, remove_user};

/// The attribute incremental syncs filter on.
const LAST_MODIFIED: &str = "meta.lastModified";

/// How [`sync_with`] behaves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncOptions {
    /// Resources per page.
    pub page_size: u64,
    /// The id-only pass runs at least this often.
    pub id_pass_interval: time::Duration,
    /// The id-only pass runs at least every this many incremental syncs (counted in
    /// [`SyncState::syncs_since_id_pass`](crate::cache::SyncState)); 0 for never by
    /// count.
    pub id_pass_every: u32,
    /// How far before the high-water mark an incremental sync looks for stragglers:
    /// changes stamped before the mark but committed after the sync that set it read.
    /// Zero still covers the mark's own millisecond.
    pub straggler_window: time::Duration,
    /// Run the id-only pass this time whatever the counts say.
    pub force_id_pass: bool,
    /// Page through everything this time, even when an incremental sync is possible.
    pub force_full: bool,
    /// Keep soft-deleted users in the copy (a system admin's, on a Muster server that
    /// lists them), so they can be found and restored.
    pub include_deleted: bool,
    /// The snapshot's capabilities were read just now (the caller discovered them before
    /// deciding the options): they are not asked for again.
    pub discovered: bool,
}

impl Default for SyncOptions {
    fn default() -> Self {
        Self {
            page_size: DEFAULT_PAGE_SIZE,
            id_pass_interval: time::Duration::DAY,
            id_pass_every: 10,
            straggler_window: time::Duration::seconds(5),
            force_id_pass: false,
            force_full: false,
            include_deleted: false,
            discovered: false,
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
    /// Users and groups fetched again because the server counted more in the straggler
    /// window than the cache knew (included in `fetched`).
    pub stragglers: usize,
    /// Users kept without some of their attributes, which could not be read (listed in
    /// each one's `User::unread`); included in `fetched`.
    pub partly_read: usize,
    /// Users and groups the server listed that could not be kept (a user that is not an
    /// object or has no id among what could be read; a group that does not read whole),
    /// left out of the copy.
    pub unreadable: u64,
}

impl SyncReport {
    /// What the sync could not read, in words, if anything: users kept without some
    /// attributes, and users or groups left out.
    pub fn unread_notice(&self) -> Option<Notice> {
        let some = |count: u64, one: &str, many: &str| {
            format!("{count} {}", if count == 1 { one } else { many })
        };
        let partly = u64::try_from(self.partly_read).unwrap_or(u64::MAX);
        let text = match (partly, self.unreadable) {
            (0, 0) => return None,
            (partly, 0) => format!(
                "The server sent {} with details Muster could not read; they are shown without them.",
                some(partly, "user", "users")
            ),
            (0, left_out) => format!(
                "The server listed {} Muster could not read at all; they are left out.",
                some(left_out, "user or group", "users or groups")
            ),
            (partly, left_out) => format!(
                "The server sent {} with details Muster could not read, shown without them, \
                 and {} it could not read at all, left out.",
                some(partly, "user", "users"),
                some(left_out, "user or group", "users or groups")
            ),
        };
        Some(Notice {
            text,
            fix: Some(
                "A user's page names what could not be read. Whoever runs the server can \
                 correct the data; the next sync reads it again."
                    .to_owned(),
            ),
            detail: None,
        })
    }
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
    if snapshot.capabilities.is_none() {
        capabilities = Some(client.discover().await?);
    }
    let can_filter = capabilities
        .as_ref()
        .or(snapshot.capabilities.as_ref())
        .is_some_and(|capabilities| capabilities.filter);
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
                    snapshot.capabilities = Some(capabilities);
                }
                return Ok(changes.apply(snapshot, now));
            }
        }
        _ => {}
    }
    let full = fetch_full(client, options, &mut progress).await?;
    if capabilities.is_none() && !options.discovered {
        capabilities = Some(client.discover().await?);
    }
    if capabilities.is_some() {
        snapshot.capabilities = capabilities;
    }
    Ok(full.apply(snapshot, now))
}

/// A page-progress callback that reports each page to `progress` as part of `phase`, and
/// keeps in `unreadable` how many resources the walk has left out so far.
fn in_phase<'a>(
    phase: Phase,
    progress: &'a mut impl FnMut(Progress),
    unreadable: &'a mut u64,
) -> impl FnMut(crate::query::Progress) + 'a {
    move |page| {
        *unreadable = page.unreadable;
        progress(Progress {
            phase,
            fetched: page.fetched,
            total: page.total,
        });
    }
}

/// Everything a full sync fetched, not yet applied.
struct Full {
    /// Packed as each page came: the typed users of a page are let go once it is read.
    users: Vec<PackedUser>,
    /// The newest `meta.lastModified` among them.
    newest_user: Option<OffsetDateTime>,
    groups: Vec<Group>,
    odd: Odd,
}

/// What a sync's lists held that could not be read in full.
#[derive(Debug, Default, Clone, Copy)]
struct Odd {
    /// Users kept without the attributes that could not be read.
    partly_read: usize,
    /// Users and groups left out, not readable at all.
    unreadable: u64,
}

impl Odd {
    fn count_partly_read<'a>(&mut self, users: impl IntoIterator<Item = &'a User>) {
        self.partly_read += users
            .into_iter()
            .filter(|user| !user.unread.is_empty())
            .count();
    }
}

async fn fetch_full(
    client: &Client,
    options: &SyncOptions,
    progress: &mut impl FnMut(Progress),
) -> Result<Full, Error> {
    let query = ListQuery::default()
        .with_count(options.page_size.max(1))
        .including_deleted(options.include_deleted);
    let mut full = Full {
        users: Vec::new(),
        newest_user: None,
        groups: Vec::new(),
        odd: Odd::default(),
    };
    let users = client.users();
    let (mut users_unreadable, mut groups_unreadable) = (0, 0);
    let on_page = in_phase(Phase::Users, progress, &mut users_unreadable);
    let walk = users.for_each_page_with_later(&query, on_page, |page, later| {
        full.users.reserve(page.len());
        full.odd.count_partly_read(&page);
        for user in page {
            full.newest_user = full.newest_user.max(modified(&user));
            full.users.push(PackedUser::pack(&user));
        }
        // A user changed while the walk went on: the later copy, in the first one's
        // place (as `list_all` keeps it).
        for (place, user) in later {
            full.newest_user = full.newest_user.max(modified(&user));
            if let Some(slot) = full.users.get_mut(place) {
                *slot = PackedUser::pack(&user);
            }
        }
        Ok(())
    });
    walk.await?;
    full.users.shrink_to_fit();
    let on_page = in_phase(Phase::Groups, progress, &mut groups_unreadable);
    full.groups = client.groups().list_all(&query, on_page).await?;
    full.odd.unreadable = users_unreadable + groups_unreadable;
    Ok(full)
}

impl Full {
    fn apply(self, snapshot: &mut Snapshot, now: OffsetDateTime) -> SyncReport {
        let fetched = self.users.len() + self.groups.len();
        let high_water = newest(std::iter::once(self.newest_user), &self.groups);
        snapshot.users = self.users;
        snapshot.groups = self.groups;
        // A full list is its own reconciliation; the mark restarts from what is there now
        // (the old one may be ahead of the server's clock after a restore).
        snapshot.sync.last_modified_high_water = high_water.map(format_time);
        snapshot.sync.last_full_sync = Some(now);
        snapshot.sync.last_id_pass = Some(now);
        snapshot.sync.syncs_since_id_pass = 0;
        snapshot.synced_at = now;
        SyncReport {
            full: true,
            fetched,
            removed: 0,
            id_pass: false,
            stragglers: 0,
            partly_read: self.odd.partly_read,
            unreadable: self.odd.unreadable,
        }
    }
}

/// Everything an incremental sync fetched, not yet applied.
struct Changes {
    users: Vec<PackedUser>,
    groups: Vec<Group>,
    /// How each merges into the snapshot it was fetched for.
    user_survey: Survey,
    group_survey: Survey,
    /// How many of them the straggler check fetched.
    stragglers: usize,
    /// Every id on the server, when the id-only pass ran.
    ids: Option<(HashSet<String>, HashSet<String>)>,
    odd: Odd,
}

async fn fetch_changes(
    client: &Client,
    snapshot: &Snapshot,
    since: OffsetDateTime,
    now: OffsetDateTime,
    options: &SyncOptions,
    progress: &mut impl FnMut(Progress),
) -> Result<Changes, Error> {
    let page_size = options.page_size.max(1);
    let count_of = |filter: Option<Filter>| {
        ListQuery {
            filter,
            attributes: vec!["id".to_owned()],
            ..ListQuery::default()
        }
        .with_count(0)
        .including_deleted(options.include_deleted)
    };
    let users = client.users();
    let groups = client.groups();
    // Counted before the changes are fetched, so that a change committed in between is
    // in the changes but not in the count and cannot be taken for a straggler.
    let window_start = format_time(since - options.straggler_window.max(time::Duration::ZERO));
    let in_window = count_of(Some(attr(LAST_MODIFIED).ge(window_start.clone())));
    let (users_in_window, groups_in_window) =
        tokio::join!(users.page(&in_window), groups.page(&in_window));
    // A provider that cannot count this filter goes without the check (rather than
    // falling back to full syncs); any other failure ends the sync.
    let (users_in_window, groups_in_window) = (
        count_if_supported(users_in_window)?,
        count_if_supported(groups_in_window)?,
    );

    // `gt`: resources at the mark itself were seen by the sync that set it (with `ge` a
    // bulk import sharing one timestamp would be fetched again by every sync); one
    // committed later is found by the window count above.
    let changed = ListQuery::filtered(attr(LAST_MODIFIED).gt(format_time(since)))
        .with_count(page_size)
        .including_deleted(options.include_deleted);
    let count_only = count_of(None);
    let (mut users_unreadable, mut groups_unreadable) = (0, 0);
    let (changed_users, changed_groups, user_total, group_total) = tokio::join!(
        users.list_all(&changed, |page| users_unreadable = page.unreadable),
        groups.list_all(&changed, |page| groups_unreadable = page.unreadable),
        users.page(&count_only),
        groups.page(&count_only),
    );
    let mut odd = Odd {
        partly_read: 0,
        unreadable: users_unreadable + groups_unreadable,
    };
    let changed_users = changed_users?;
    odd.count_partly_read(&changed_users);
    let (mut changed_users, mut changed_groups) = (packed(changed_users), changed_groups?);
    let (user_total, group_total) = (user_total?.total, group_total?.total);

    let window = Window {
        start: window_start,
        since,
        users: users_in_window,
        groups: groups_in_window,
    };
    let (user_survey, group_survey, stragglers) = surveys(
        client,
        snapshot,
        (&mut changed_users, &mut changed_groups),
        window,
        options,
    )
    .await?;
    progress(Progress {
        phase: Phase::Changes,
        fetched: u64::try_from(changed_users.len() + changed_groups.len()).unwrap_or(u64::MAX),
        total: None,
    });

    let after = [
        (user_total, snapshot.users.len() + user_survey.append.len()),
        (
            group_total,
            snapshot.groups.len() + group_survey.append.len(),
        ),
    ];
    let ids = if id_pass_due(snapshot, options, now, after) {
        Some(fetch_ids(client, options, progress).await?)
    } else {
        None
    };
    Ok(Changes {
        users: changed_users,
        groups: changed_groups,
        user_survey,
        group_survey,
        stragglers,
        ids,
        odd,
    })
}

/// The straggler window: where it starts, and how many users and groups the server
/// counted in it (when it could count).
struct Window {
    start: String,
    since: OffsetDateTime,
    users: Option<u64>,
    groups: Option<u64>,
}

/// How the changed users and groups merge into the copy. Stragglers: when the server holds
/// more resources stamped in the window than the copy would, the window is fetched again
/// (merged by id, so what is already known is simply replaced). Returns the two surveys
/// and how many came late.
async fn surveys(
    client: &Client,
    snapshot: &Snapshot,
    (changed_users, changed_groups): (&mut Vec<PackedUser>, &mut Vec<Group>),
    window: Window,
    options: &SyncOptions,
) -> Result<(Survey, Survey, usize), Error> {
    let start_time = parse_time(&window.start).unwrap_or(window.since);
    let query = ListQuery::filtered(attr(LAST_MODIFIED).ge(window.start))
        .with_count(options.page_size.max(1))
        .including_deleted(options.include_deleted);
    let (users, groups) = (client.users(), client.groups());
    let (user_survey, user_stragglers) = survey_with_stragglers(
        &snapshot.users,
        changed_users,
        window.users,
        start_time,
        user_keys,
        || async { users.list_all(&query, |_| {}).await.map(packed) },
    )
    .await?;
    let (group_survey, group_stragglers) = survey_with_stragglers(
        &snapshot.groups,
        changed_groups,
        window.groups,
        start_time,
        group_keys,
        || groups.list_all(&query, |_| {}),
    )
    .await?;
    Ok((
        user_survey,
        group_survey,
        user_stragglers + group_stragglers,
    ))
}

/// How `changed` merges into `cached`, after fetching the straggler window again when the
/// server counted more resources in it (`counted`) than the merge would hold; with how
/// many the second fetch brought.
async fn survey_with_stragglers<T, F, Fut>(
    cached: &[T],
    changed: &mut Vec<T>,
    counted: Option<u64>,
    window_start: OffsetDateTime,
    keys: fn(&T) -> (Option<&str>, Option<OffsetDateTime>),
    fetch_window: F,
) -> Result<(Survey, usize), Error>
where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = Result<Vec<T>, Error>>,
{
    let survey = Survey::new(cached, changed, window_start, keys);
    let missing =
        counted.is_some_and(|counted| u64::try_from(survey.in_window).is_ok_and(|k| counted > k));
    if !missing {
        return Ok((survey, 0));
    }
    let late = fetch_window().await?;
    let stragglers = late.len();
    changed.extend(late);
    Ok((Survey::new(cached, changed, window_start, keys), stragglers))
}

/// Whether the id-only pass runs: asked for, overdue, due by count, or the server's user
/// or group total (when it gave one) differs from what the merged copy would hold.
fn id_pass_due(
    snapshot: &Snapshot,
    options: &SyncOptions,
    now: OffsetDateTime,
    totals_and_merged: [(Option<u64>, usize); 2],
) -> bool {
    let overdue = snapshot
        .sync
        .last_id_pass
        .is_none_or(|last| now - last >= options.id_pass_interval);
    let by_count = options.id_pass_every > 0
        && snapshot.sync.syncs_since_id_pass.saturating_add(1) >= options.id_pass_every;
    let counts_differ = totals_and_merged
        .iter()
        .any(|(total, merged)| total.is_none_or(|total| u64::try_from(*merged) != Ok(total)));
    options.force_id_pass || overdue || by_count || counts_differ
}

/// The total of a count request; none when the provider refused its filter.
fn count_if_supported<T>(page: Result<Page<T>, Error>) -> Result<Option<u64>, Error> {
    match page {
        Ok(page) => Ok(page.total),
        Err(Error::Validation { .. }) => Ok(None),
        Err(error) => Err(error),
    }
}

/// Every user id and every group id on the server.
async fn fetch_ids(
    client: &Client,
    options: &SyncOptions,
    progress: &mut impl FnMut(Progress),
) -> Result<(HashSet<String>, HashSet<String>), Error> {
    let query = ListQuery::default()
        .with_count(options.page_size.max(1))
        .including_deleted(options.include_deleted);
    let users = client
        .users()
        // An id-only listing reads ids alone: it leaves nothing out as unreadable.
        .list_ids(&query, in_phase(Phase::Ids, progress, &mut 0))
        .await?;
    let groups = client.groups().list_ids(&query, |_| {}).await?;
    Ok((users.into_iter().collect(), groups.into_iter().collect()))
}

impl Changes {
    fn apply(self, snapshot: &mut Snapshot, now: OffsetDateTime) -> SyncReport {
        let fetched = self.users.len() + self.groups.len();
        let newest_seen = newest(self.users.iter().map(PackedUser::modified), &self.groups);
        self.user_survey
            .merge(&mut snapshot.users, self.users, PackedUser::id);
        self.group_survey
            .merge(&mut snapshot.groups, self.groups, |g| g.id.as_deref());
        let mut removed = 0;
        let id_pass = self.ids.is_some();
        if let Some((user_ids, group_ids)) = self.ids {
            removed += retain_known(&mut snapshot.users, &user_ids, PackedUser::id);
            removed += retain_known(&mut snapshot.groups, &group_ids, |g| g.id.as_deref());
            snapshot.sync.last_id_pass = Some(now);
            snapshot.sync.syncs_since_id_pass = 0;
        } else {
            snapshot.sync.syncs_since_id_pass = snapshot.sync.syncs_since_id_pass.saturating_add(1);
        }
        raise_high_water(snapshot, newest_seen);
        snapshot.synced_at = now;
        SyncReport {
            full: false,
            fetched,
            removed,
            id_pass,
            stragglers: self.stragglers,
            partly_read: self.odd.partly_read,
            unreadable: self.odd.unreadable,
        }
    }
}

/// Brings the copy in `store` up to date with the server and saves it, with the index it
/// stores mended for the users that changed rather than built again (a command's refresh
/// of the copy). Returns the report, the snapshot, and how the save went, for the caller
/// to decide whether a copy left unsaved fails its command.
///
/// # Errors
///
/// As [`sync_with`]; the copy on disk is then unchanged.
pub async fn sync_store(
    client: &Client,
    store: &Store,
    now: OffsetDateTime,
    progress: impl FnMut(Progress),
) -> Result<(SyncReport, Snapshot, Result<(), Error>), Error> {
    let (mut snapshot, index, _) = store.open_indexed(now);
    let before = snapshot.users.clone();
    let report = sync_with(
        client,
        &mut snapshot,
        now,
        &SyncOptions::default(),
        progress,
    )
    .await?;
    let unchanged = before.len() == snapshot.users.len()
        && before.iter().zip(&snapshot.users).all(|(a, b)| a.same(b));
    // One index at a time: a mended one is made beside the old (about 25 MB at 100,000
    // users), so a sync that changed no user keeps the old, and a rebuild lets it go first.
    let index = if unchanged {
        index
    } else {
        match index.updated(&before, &snapshot.users) {
            Some(mended) => mended,
            None => {
                drop(index);
                Index::of_packed(&snapshot.users)
            }
        }
    };
    drop(before);
    let saved = store.save_indexed(&snapshot, &index);
    Ok((report, snapshot, saved))
}

fn modified(user: &User) -> Option<OffsetDateTime> {
    user.meta.as_ref().and_then(|meta| meta.last_modified)
}

/// Users as the snapshot holds them: packed, each shared. Each typed user is let go as
/// soon as it is packed.
fn packed(users: Vec<User>) -> Vec<PackedUser> {
    users.into_iter().map(PackedUser::from).collect()
}

/// The newest `meta.lastModified` among users (theirs, given) and groups.
fn newest(
    users: impl Iterator<Item = Option<OffsetDateTime>>,
    groups: &[Group],
) -> Option<OffsetDateTime> {
    let groups = groups.iter().map(|g| g.meta.as_ref()?.last_modified);
    users.chain(groups).flatten().max()
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

mod merge;
#[cfg(test)]
mod tests;
