//! Reading a file: every segment read, authenticated and decoded on all cores.

use std::fs::File;
use std::io;
use std::path::Path;
use std::sync::{Mutex, PoisonError};

use chacha20poly1305::XChaCha20Poly1305;
use chacha20poly1305::aead::KeyInit;
use muster_scim::group::Group;

use super::codec;
use super::file::{Entry, Sealed, malformed, read_header};
use super::index_codec;
use super::wire;
use super::{
    CacheError, ClassifyText, FORMAT, Head, Kind, NONCE_LEN, PackedUser, Snapshot,
    StoredCapabilities, SyncState, Unusable,
};
use crate::search::{self, Index};

/// A decoded segment other than users.
pub(super) enum Part {
    Groups(Vec<Group>),
    /// The index's text.
    Text(Vec<u8>),
    /// The rest of the index but its sort orders.
    Facets(search::Parts),
    Order {
        key: usize,
        ascending: Vec<u32>,
        descending: Vec<u32>,
    },
    /// Authenticated, not decoded (an index segment when no index is wanted).
    Skipped,
}

/// A decrypted and decoded segment: users, or another part with its number in the file.
pub(super) enum Done {
    Users(usize, Vec<PackedUser>),
    Part(usize, Part),
}

/// Reads, authenticates and decodes the file at `path`, with its index when `want_index`.
/// Segments are read, decrypted and decoded on every core; only a file whose every
/// segment authenticates is returned.
pub(super) fn load(
    path: &Path,
    key: &[u8; 32],
    want_index: bool,
) -> Result<Option<(Snapshot, Option<Index>)>, CacheError> {
    let file = match File::open(path) {
        Ok(file) => file,
        Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(error) => return Err(error.into()),
    };
    let size = file.metadata()?.len();
    let (header, entries) = read_header(&file, size)?;
    let mut nonce = [0u8; NONCE_LEN];
    nonce.copy_from_slice(&header[8..8 + NONCE_LEN]);
    let sealed = Sealed {
        file: &file,
        header,
        nonce,
        cipher: XChaCha20Poly1305::new(key.into()),
    };
    let head = read_head(&sealed, &entries)?;
    let (users, parts) = decode_segments(&sealed, &entries, head.users, want_index)?;
    let (groups, index) =
        assemble(parts.into_iter(), users.len(), want_index).map_err(CacheError::Unusable)?;
    let snapshot = Snapshot {
        format: head.format,
        synced_at: head.synced_at,
        users,
        groups,
        capabilities: head.capabilities.0,
        sync: head.sync,
    };
    Ok(Some((snapshot, index)))
}

/// The head, read first: once it authenticates, so does the header with its counts,
/// which then size the work. A head of another format, or counts the entries do not add
/// up to, make the file unusable.
fn read_head(
    sealed: &Sealed<'_>,
    entries: &[Entry],
) -> Result<Head<StoredCapabilities, SyncState>, CacheError> {
    let head_entry = entries
        .first()
        .filter(|entry| entry.kind == Kind::Head)
        .ok_or_else(|| malformed("the head is not first"))?;
    let mut buffer = Vec::new();
    let head: Head<StoredCapabilities, SyncState> =
        serde_json::from_slice(sealed.open(head_entry, &mut buffer)?)
            .map_err(|e| CacheError::Unusable(Unusable::Malformed(e.classify_text())))?;
    if head.format != FORMAT {
        return Err(CacheError::Unusable(Unusable::UnknownVersion(head.format)));
    }
    let count = |kind: Kind| {
        entries
            .iter()
            .filter(|entry| entry.kind == kind)
            .map(|entry| entry.items)
            .sum::<usize>()
    };
    if count(Kind::Users) != head.users || count(Kind::Groups) != head.groups {
        return Err(malformed("user or group count differs"));
    }
    Ok(head)
}

/// Every segment after the head, decrypted and decoded: the users in file order, and the
/// other parts in file order. The largest segments go first, so that the cores finish
/// together.
fn decode_segments(
    sealed: &Sealed<'_>,
    entries: &[Entry],
    user_count: usize,
    want_index: bool,
) -> Result<(Vec<PackedUser>, Vec<Part>), CacheError> {
    let mut jobs: Vec<Entry> = entries[1..].to_vec();
    jobs.sort_by_key(|entry| std::cmp::Reverse(entry.len));
    let work = |buffer: &mut Vec<u8>, entry: Entry| run_job(sealed, want_index, buffer, entry);
    let mut users = Vec::new();
    let mut parts = Vec::new();
    for done in parallel(jobs, Vec::new, work) {
        match done? {
            Done::Users(number, chunk) => users.push((number, chunk)),
            Done::Part(number, part) => parts.push((number, part)),
        }
    }
    users.sort_by_key(|(number, _)| *number);
    let mut all = Vec::with_capacity(user_count);
    for (_, chunk) in users {
        all.extend(chunk);
    }
    parts.sort_by_key(|(number, _)| *number);
    Ok((all, parts.into_iter().map(|(_, part)| part).collect()))
}

/// One core's share of loading: the segment `entry`, with `buffer` to decrypt into.
fn run_job(
    sealed: &Sealed<'_>,
    want_index: bool,
    buffer: &mut Vec<u8>,
    entry: Entry,
) -> Result<Done, CacheError> {
    match entry.kind {
        Kind::Users => {
            let plain = sealed.open(&entry, buffer)?;
            let users = codec::read_users(plain, entry.items).map_err(CacheError::Unusable)?;
            Ok(Done::Users(entry.number, users))
        }
        Kind::IndexText if want_index => {
            let mut text = Vec::new();
            sealed.open(&entry, &mut text)?;
            text.truncate(entry.len);
            Ok(Done::Part(entry.number, Part::Text(text)))
        }
        _ => {
            let plain = sealed.open(&entry, buffer)?;
            let part = if entry.kind.is_index() && !want_index {
                Part::Skipped
            } else {
                decode_part(entry.kind, plain).map_err(CacheError::Unusable)?
            };
            Ok(Done::Part(entry.number, part))
        }
    }
}

pub(super) fn decode_part(kind: Kind, plain: &[u8]) -> Result<Part, Unusable> {
    Ok(match kind {
        Kind::Head | Kind::Users => {
            return Err(Unusable::Malformed(
                "a second head or stray users".to_owned(),
            ));
        }
        Kind::Groups => Part::Groups(wire::read_segment(plain, codec::read_group)?),
        Kind::IndexText => Part::Text(plain.to_vec()),
        Kind::IndexFacets => Part::Facets(index_codec::read_index_facets(plain)?),
        Kind::IndexOrder => {
            let (key, ascending, descending) = index_codec::read_index_order(plain)?;
            Part::Order {
                key,
                ascending,
                descending,
            }
        }
    })
}

/// The groups and the index (when wanted, for `users` users) from the decoded segments
/// other than head and users, in file order.
pub(super) fn assemble(
    parts: impl Iterator<Item = Part>,
    users: usize,
    want_index: bool,
) -> Result<(Vec<Group>, Option<Index>), Unusable> {
    let mut groups: Vec<Group> = Vec::new();
    let mut index = search::Parts::default();
    let mut orders: Vec<Option<(Vec<u32>, Vec<u32>)>> = Vec::new();
    orders.resize_with(search::SortKey::ALL.len(), || None);
    let (mut text_seen, mut facets_seen) = (false, false);
    let twice = |what: &str| Unusable::Malformed(format!("two {what} segments"));
    for part in parts {
        match part {
            Part::Groups(chunk) => groups.extend(chunk),
            Part::Text(text) => {
                if std::mem::replace(&mut text_seen, true) {
                    return Err(twice("index text"));
                }
                index.text = text;
            }
            Part::Facets(parts) => {
                if std::mem::replace(&mut facets_seen, true) {
                    return Err(twice("index facet"));
                }
                let text = std::mem::take(&mut index.text);
                index = search::Parts { text, ..parts };
            }
            Part::Order {
                key,
                ascending,
                descending,
            } => {
                let slot = orders
                    .get_mut(key)
                    .ok_or_else(|| Unusable::Malformed("unknown sort order".to_owned()))?;
                if slot.replace((ascending, descending)).is_some() {
                    return Err(twice("sort order"));
                }
            }
            Part::Skipped => {}
        }
    }
    if !want_index {
        return Ok((groups, None));
    }
    if !text_seen || !facets_seen {
        return Err(Unusable::Malformed("index segments missing".to_owned()));
    }
    index.orders = orders
        .into_iter()
        .collect::<Option<Vec<_>>>()
        .ok_or_else(|| Unusable::Malformed("a sort order is missing".to_owned()))?;
    if index.len != users {
        return Err(Unusable::Malformed(
            "the index does not fit the users".to_owned(),
        ));
    }
    let index = Index::from_parts(index).map_err(Unusable::Malformed)?;
    Ok((groups, Some(index)))
}

/// `f` over `tasks`, on as many threads as there are cores (the caller's among them),
/// each with its own `state` and taking the next task when done with one; results in
/// task order.
pub(super) fn parallel<T: Send, R: Send, S>(
    tasks: Vec<T>,
    state: impl Fn() -> S + Sync,
    f: impl Fn(&mut S, T) -> R + Sync,
) -> Vec<R> {
    let count = tasks.len();
    let threads = std::thread::available_parallelism()
        .map_or(1, std::num::NonZero::get)
        .min(count);
    if threads <= 1 {
        let mut state = state();
        return tasks.into_iter().map(|task| f(&mut state, task)).collect();
    }
    let queue = Mutex::new(tasks.into_iter().enumerate());
    let work = || {
        let mut state = state();
        let mut done = Vec::new();
        loop {
            let next = queue.lock().unwrap_or_else(PoisonError::into_inner).next();
            let Some((number, task)) = next else {
                return done;
            };
            done.push((number, f(&mut state, task)));
        }
    };
    let mut done = std::thread::scope(|scope| {
        let helpers: Vec<_> = (1..threads).map(|_| scope.spawn(work)).collect();
        let mut done = work();
        for helper in helpers {
            done.extend(
                helper
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
            );
        }
        done
    });
    done.sort_unstable_by_key(|(number, _)| *number);
    done.into_iter().map(|(_, result)| result).collect()
}
