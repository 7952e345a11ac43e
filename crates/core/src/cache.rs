//! The offline cache: one encrypted [`Snapshot`] per profile, stored with the search
//! [`Index`] built from it, so that opening it is reading, not rebuilding.
//!
//! File layout (all integers little-endian):
//!
//! | bytes        | content                                                     |
//! |--------------|-------------------------------------------------------------|
//! | 0..4         | magic `MSTC`                                                |
//! | 4..8         | format version ([`FORMAT`])                                 |
//! | 8..32        | random 24-byte XChaCha20-Poly1305 nonce                      |
//! | 32..36       | number of segments, `n`                                     |
//! | 36..36+13n   | per segment: kind (1 byte), users or groups in it (4),      |
//! |              | plaintext length (8)                                        |
//! | then         | each segment's ciphertext followed by its 16-byte tag       |
//!
//! Every segment is sealed on its own (so that segments are decrypted and decoded on all
//! cores at once) under the file's nonce with the segment's number XORed into its last
//! four bytes, and with the whole header above as associated data. So no byte of the file
//! can change, and no segment can be moved, dropped or added, without decryption failing
//! or the lengths no longer adding up; a file is used only when every segment
//! authenticates. The 256-bit key lives in the OS keychain; this module only receives it.
//!
//! The segments: a head (JSON: times, capabilities, sync state, counts); the users and the
//! groups in a compact binary form, a few thousand a segment; and the search index built
//! from those users, in its own segments (text, facets, one per sort order).
//!
//! [`write()`] is atomic (temp file in the same directory, fsync, rename, fsync of the
//! directory), so a crash leaves the old snapshot or the new one, never a mix. [`open`]
//! turns any unreadable file, including one of an older format, into
//! [`Opened::Discarded`] with a logged warning: the caller rebuilds from the server.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::mem::MaybeUninit;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, SystemTime};

use chacha20poly1305::aead::{AeadInPlace, KeyInit};
use chacha20poly1305::{Tag, XChaCha20Poly1305, XNonce};
use muster_scim::group::Group;
use muster_scim::user::User;
use rand::TryRngCore;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::search::{self, Index};

/// The current file and snapshot format version. Files of any other version are
/// discarded (and rebuilt by the next sync).
///
/// 1: one sealed JSON document. 2: sealed segments, binary users and groups, the search
/// index stored. 3: the index keeps invitation expiries (pending or expired is decided
/// at each search) and an invitation sort order.
///
/// Bump it for any change to the layout, to the binary form, or to what
/// [`Index::build`] produces (text folding, facets, sort orders): a stored index must
/// answer exactly as a fresh build would.
pub const FORMAT: u32 = 3;

const MAGIC: &[u8; 4] = b"MSTC";
const NONCE_LEN: usize = 24;
/// Magic, version, nonce and segment count.
const FIXED_HEADER_LEN: usize = 4 + 4 + NONCE_LEN + 4;
/// A segment's entry in the header: kind, item count and plaintext length.
const ENTRY_LEN: usize = 1 + 4 + 8;
const TAG_LEN: usize = 16;
/// Temp files left by a crash are removed by a later write once they are this old.
const STALE_TEMP: Duration = Duration::from_secs(60);
/// Users (or groups) per segment: small enough to spread over the cores evenly.
const SEGMENT_ITEMS: usize = 4096;

/// Everything cached for one profile.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Snapshot {
    /// Snapshot format version; [`FORMAT`] when written by this version.
    pub format: u32,
    /// When the data was last brought up to date with the server.
    #[serde(with = "time::serde::rfc3339")]
    pub synced_at: OffsetDateTime,
    /// The cached users.
    #[serde(with = "strict_users")]
    pub users: Vec<User>,
    /// The cached groups.
    pub groups: Vec<Group>,
    /// The server's capabilities as discovered (opaque to the cache).
    pub capabilities: serde_json::Value,
    /// Where incremental sync resumes.
    pub sync: SyncState,
}

/// Sync bookkeeping kept with the snapshot.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SyncState {
    /// The highest `meta.lastModified` a sync has seen (every change up to it has been
    /// fetched), cut to the millisecond, for the next `meta.lastModified gt` filter.
    pub last_modified_high_water: Option<String>,
    /// When the last full sync finished.
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_full_sync: Option<OffsetDateTime>,
    /// When the last id-only pass (deletion reconciliation) finished.
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_id_pass: Option<OffsetDateTime>,
    /// Incremental syncs since the last id-only pass (or full sync), for the id pass that
    /// runs every [`SyncOptions::id_pass_every`](crate::sync::SyncOptions) syncs.
    #[serde(default)]
    pub syncs_since_id_pass: u32,
}

impl Snapshot {
    /// An empty snapshot of the current format, synced at `synced_at`.
    pub fn empty(synced_at: OffsetDateTime) -> Self {
        Self {
            format: FORMAT,
            synced_at,
            users: Vec::new(),
            groups: Vec::new(),
            capabilities: serde_json::Value::Null,
            sync: SyncState::default(),
        }
    }

    /// How old the data is at `now` (zero if `synced_at` is in the future).
    pub fn age(&self, now: OffsetDateTime) -> time::Duration {
        (now - self.synced_at).max(time::Duration::ZERO)
    }
}

/// Why a cache file could not be written or read.
#[derive(Debug, thiserror::Error)]
pub enum CacheError {
    /// The file system refused.
    #[error("cache file I/O failed: {0}")]
    Io(#[from] io::Error),
    /// The snapshot could not be encoded.
    #[error("cache snapshot could not be encoded: {0}")]
    Encode(String),
    /// The OS random source failed.
    #[error("no randomness for the cache nonce: {0}")]
    Random(String),
    /// The file exists but cannot be used; discard it and rebuild.
    #[error("cache file unusable: {0}")]
    Unusable(Unusable),
}

/// Why an existing cache file cannot be used. None of these hold user data.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Unusable {
    /// Shorter than its header says.
    #[error("truncated ({0} bytes)")]
    Truncated(usize),
    /// Not a Muster cache file.
    #[error("not a cache file (bad magic)")]
    BadMagic,
    /// Written by a different format version.
    #[error("unknown format version {0}")]
    UnknownVersion(u32),
    /// Wrong key, or the file was altered.
    #[error("decryption failed (wrong key or altered file)")]
    Undecryptable,
    /// Decrypted, but not a snapshot this version can read.
    #[error("snapshot cannot be decoded: {0}")]
    Malformed(String),
}

/// The outcome of [`open`].
#[derive(Debug)]
pub enum Opened {
    /// The snapshot, ready to show.
    Fresh(Snapshot),
    /// No cache yet.
    Missing,
    /// A cache existed but could not be used; it should be rebuilt from the server.
    Discarded {
        /// Why, in words free of user data and secrets.
        reason: String,
    },
}

/// Builds the search index of `snapshot`, encrypts both under `key` and atomically
/// replaces the file at `path`.
///
/// # Errors
///
/// When the snapshot cannot be encoded, randomness is unavailable, or the file system
/// refuses (the previous file is then left as it was).
pub fn write(path: &Path, snapshot: &Snapshot, key: &[u8; 32]) -> Result<(), CacheError> {
    let segments = encode(snapshot)?;
    let (header, segments) = seal(segments, key)?;
    let dir = parent_dir(path);
    fs::create_dir_all(&dir)?;
    let temp = temp_path(path)?;
    let result = write_temp(&temp, &header, &segments).and_then(|()| fs::rename(&temp, path));
    drop(segments);
    if let Err(error) = result {
        let _ = fs::remove_file(&temp);
        return Err(error.into());
    }
    sync_dir(&dir)?;
    remove_stale_temps(path, STALE_TEMP);
    Ok(())
}

/// Reads and decrypts the snapshot at `path`; `Ok(None)` when there is no file.
///
/// # Errors
///
/// [`CacheError::Unusable`] for a file that is truncated, altered, foreign, of another
/// version or encrypted under another key; [`CacheError::Io`] when it cannot be read.
pub fn read(path: &Path, key: &[u8; 32]) -> Result<Option<Snapshot>, CacheError> {
    Ok(load(path, key, false)?.map(|(snapshot, _)| snapshot))
}

/// Reads and decrypts the snapshot at `path` with the search index stored beside it,
/// ready to answer [`Index::search`]: the fast way to the first window. `Ok(None)` when
/// there is no file.
///
/// # Errors
///
/// As [`read`].
pub fn read_indexed(path: &Path, key: &[u8; 32]) -> Result<Option<(Snapshot, Index)>, CacheError> {
    let Some((snapshot, index)) = load(path, key, true)? else {
        return Ok(None);
    };
    let index = index.ok_or_else(|| malformed("the index is missing"))?;
    Ok(Some((snapshot, index)))
}

/// Reads the snapshot at `path`, turning every failure into [`Opened::Discarded`] with a
/// logged warning (which names neither the user data nor the key).
pub fn open(path: &Path, key: &[u8; 32]) -> Opened {
    match read(path, key) {
        Ok(Some(snapshot)) => Opened::Fresh(snapshot),
        Ok(None) => Opened::Missing,
        Err(error) => Opened::Discarded {
            reason: discarded(&error),
        },
    }
}

/// Logs that the cache is discarded because of `error`; the reason, for the caller.
pub(crate) fn discarded(error: &CacheError) -> String {
    let reason = error.to_string();
    tracing::warn!(%reason, "discarding the offline cache; it will be rebuilt");
    reason
}

/// Deletes the cache file at `path` and any temp files a crashed write left beside it
/// (sign-out, profile removal). A missing file is not an error.
///
/// # Errors
///
/// When the file exists and cannot be deleted.
pub fn remove(path: &Path) -> Result<(), CacheError> {
    match fs::remove_file(path) {
        Ok(()) => {}
        Err(error) if error.kind() == io::ErrorKind::NotFound => {}
        Err(error) => return Err(error.into()),
    }
    remove_stale_temps(path, Duration::ZERO);
    Ok(())
}

/// What a segment holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// JSON [`Head`].
    Head = 0,
    /// Users, binary.
    Users = 1,
    /// Groups, binary.
    Groups = 2,
    /// The index's text, as it is.
    IndexText = 3,
    /// The rest of the index but its sort orders: row count, text offsets, facets,
    /// sign-in times.
    IndexFacets = 4,
    /// One of the index's sort orders.
    IndexOrder = 5,
}

impl Kind {
    fn from_byte(byte: u8) -> Option<Self> {
        Some(match byte {
            0 => Self::Head,
            1 => Self::Users,
            2 => Self::Groups,
            3 => Self::IndexText,
            4 => Self::IndexFacets,
            5 => Self::IndexOrder,
            _ => return None,
        })
    }

    fn is_index(self) -> bool {
        matches!(self, Self::IndexText | Self::IndexFacets | Self::IndexOrder)
    }
}

/// Everything in a snapshot but its users and groups, with their counts.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Head<C, S> {
    format: u32,
    #[serde(with = "time::serde::rfc3339")]
    synced_at: OffsetDateTime,
    capabilities: C,
    sync: S,
    users: usize,
    groups: usize,
}

/// The plaintext segments of `snapshot` and of its index, in file order.
fn encode(snapshot: &Snapshot) -> Result<Vec<Plain>, CacheError> {
    let head = Head {
        format: snapshot.format,
        synced_at: snapshot.synced_at,
        capabilities: &snapshot.capabilities,
        sync: &snapshot.sync,
        users: snapshot.users.len(),
        groups: snapshot.groups.len(),
    };
    let head = serde_json::to_vec(&head).map_err(|e| CacheError::Encode(e.to_string()))?;
    type Task<'a> = Box<dyn FnOnce() -> Result<Plain, CacheError> + Send + 'a>;
    let mut tasks: Vec<Task<'_>> = Vec::new();
    for chunk in snapshot.users.chunks(SEGMENT_ITEMS) {
        tasks.push(Box::new(move || {
            codec::segment(chunk, codec::user).map(|bytes| (Kind::Users, chunk.len(), bytes))
        }));
    }
    for chunk in snapshot.groups.chunks(SEGMENT_ITEMS) {
        tasks.push(Box::new(move || {
            codec::segment(chunk, codec::group).map(|bytes| (Kind::Groups, chunk.len(), bytes))
        }));
    }
    // The index is built (on its own threads) while the users are encoded.
    let (index, encoded) = std::thread::scope(|scope| {
        let index = scope.spawn(|| Index::build(&snapshot.users));
        let encoded = parallel(tasks, || (), |(), task| task());
        let index = index
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        (index, encoded)
    });
    let mut segments = vec![(Kind::Head, 0, head)];
    for segment in encoded {
        segments.push(segment?);
    }
    segments.extend(codec::index(index.into_parts()));
    Ok(segments)
}

/// A decoded segment other than users.
enum Part {
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

/// Where a segment is and what it holds, from the file's header.
#[derive(Debug, Clone, Copy)]
struct Entry {
    /// Its position among the segments (part of its nonce).
    number: usize,
    kind: Kind,
    /// Users or groups in it.
    items: usize,
    /// Where its ciphertext starts in the file.
    offset: u64,
    /// Its plaintext length (the tag follows).
    len: usize,
}

/// An open cache file and its header, which every segment is checked against.
struct Sealed<'a> {
    file: &'a File,
    header: Vec<u8>,
    nonce: [u8; NONCE_LEN],
    cipher: XChaCha20Poly1305,
}

impl Sealed<'_> {
    /// Reads segment `entry` into `buffer` and decrypts it there; its plaintext.
    fn open<'b>(&self, entry: &Entry, buffer: &'b mut Vec<u8>) -> Result<&'b [u8], CacheError> {
        let sealed_len = entry.len + TAG_LEN;
        if buffer.len() < sealed_len {
            buffer.resize(sealed_len, 0);
        }
        let sealed = &mut buffer[..sealed_len];
        read_at(self.file, sealed, entry.offset)?;
        let (plain, tag) = sealed.split_at_mut(entry.len);
        self.cipher
            .decrypt_in_place_detached(
                &segment_nonce(&self.nonce, entry.number),
                &self.header,
                plain,
                Tag::from_slice(tag),
            )
            .map_err(|_| CacheError::Unusable(Unusable::Undecryptable))?;
        Ok(plain)
    }
}

/// Work for a core while a file is loaded.
enum Job<'u> {
    /// Touch the memory of some users-to-be, so that the kernel maps it on every core
    /// at once rather than on one while the room is made.
    Touch(&'u mut [MaybeUninit<User>]),
    /// Decrypt and decode a segment that is not users.
    Part(Entry),
    /// Decrypt a user segment and decode it into its place.
    Users(Entry, &'u mut [User]),
}

enum Done {
    Touched,
    Part(usize, Part),
    Users,
}

/// Reads, authenticates and decodes the file at `path`, with its index when `want_index`.
/// Segments are read, decrypted and decoded on every core; only a file whose every
/// segment authenticates is returned.
fn load(
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
    // The head first: once it authenticates, so does the header with its counts, which
    // then size the work.
    let head_entry = entries
        .first()
        .filter(|entry| entry.kind == Kind::Head)
        .ok_or_else(|| malformed("the head is not first"))?;
    let mut buffer = Vec::new();
    let head: Head<serde_json::Value, SyncState> =
        serde_json::from_slice(sealed.open(head_entry, &mut buffer)?)
            .map_err(|e| CacheError::Unusable(Unusable::Malformed(e.classify_text())))?;
    drop(buffer);
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

    // The users' memory is touched on every core while the other segments are decrypted
    // and decoded (largest first, so that the cores finish together); then the users are
    // decoded in place, so none is moved afterwards.
    let mut users: Vec<User> = Vec::with_capacity(head.users);
    let mut jobs: Vec<Job<'_>> = users
        .spare_capacity_mut()
        .chunks_mut(SEGMENT_ITEMS)
        .map(Job::Touch)
        .collect();
    let mut others: Vec<Entry> = entries[1..]
        .iter()
        .filter(|entry| entry.kind != Kind::Users)
        .copied()
        .collect();
    others.sort_by_key(|entry| std::cmp::Reverse(entry.len));
    jobs.extend(others.into_iter().map(Job::Part));
    let work = |buffer: &mut Vec<u8>, job: Job<'_>| -> Result<Done, CacheError> {
        match job {
            Job::Touch(room) => {
                // One user in so many that the gaps are shorter than a page: every page is
                // touched, with fewer writes.
                let stride = (4096 / std::mem::size_of::<User>()).max(1);
                for slot in room.iter_mut().step_by(stride) {
                    slot.write(User::default());
                }
                Ok(Done::Touched)
            }
            Job::Part(entry) if entry.kind == Kind::IndexText && want_index => {
                let mut text = Vec::new();
                sealed.open(&entry, &mut text)?;
                text.truncate(entry.len);
                Ok(Done::Part(entry.number, Part::Text(text)))
            }
            Job::Part(entry) => {
                let plain = sealed.open(&entry, buffer)?;
                let part = if entry.kind.is_index() && !want_index {
                    Part::Skipped
                } else {
                    decode_part(entry.kind, plain).map_err(CacheError::Unusable)?
                };
                Ok(Done::Part(entry.number, part))
            }
            Job::Users(entry, place) => {
                let plain = sealed.open(&entry, buffer)?;
                codec::read_users(plain, place).map_err(CacheError::Unusable)?;
                Ok(Done::Users)
            }
        }
    };
    let mut parts = Vec::new();
    for done in parallel(jobs, Vec::new, work) {
        match done? {
            Done::Part(number, part) => parts.push((number, part)),
            Done::Touched | Done::Users => {}
        }
    }
    // Writing what is already mapped: quick.
    users.resize_with(head.users, User::default);
    let mut place = users.as_mut_slice();
    let mut jobs = Vec::new();
    for entry in entries.iter().filter(|entry| entry.kind == Kind::Users) {
        let (here, rest) = std::mem::take(&mut place).split_at_mut(entry.items);
        place = rest;
        jobs.push(Job::Users(*entry, here));
    }
    for done in parallel(jobs, Vec::new, work) {
        done?;
    }
    parts.sort_by_key(|(number, _)| *number);
    let (groups, index) = assemble(
        parts.into_iter().map(|(_, part)| part),
        users.len(),
        want_index,
    )
    .map_err(CacheError::Unusable)?;
    let snapshot = Snapshot {
        format: head.format,
        synced_at: head.synced_at,
        users,
        groups,
        capabilities: head.capabilities,
        sync: head.sync,
    };
    Ok(Some((snapshot, index)))
}

/// The header of the file (the associated data of every segment) and its entries, after
/// checking magic, version and that the segments exactly fill the file.
fn read_header(file: &File, size: u64) -> Result<(Vec<u8>, Vec<Entry>), CacheError> {
    let unusable = CacheError::Unusable;
    let total = usize::try_from(size).unwrap_or(usize::MAX);
    let mut fixed = [0u8; FIXED_HEADER_LEN];
    let fixed_len = total.min(FIXED_HEADER_LEN);
    read_at(file, &mut fixed[..fixed_len], 0)?;
    if total < 4 {
        return Err(unusable(Unusable::Truncated(total)));
    }
    if &fixed[..4] != MAGIC {
        return Err(unusable(Unusable::BadMagic));
    }
    if total < FIXED_HEADER_LEN {
        return Err(unusable(if total >= 8 {
            version_or_truncated(&fixed, total)
        } else {
            Unusable::Truncated(total)
        }));
    }
    let version = u32::from_le_bytes([fixed[4], fixed[5], fixed[6], fixed[7]]);
    if version != FORMAT {
        return Err(unusable(Unusable::UnknownVersion(version)));
    }
    let count = u32::from_le_bytes([fixed[32], fixed[33], fixed[34], fixed[35]]) as usize;
    // Each segment takes at least its entry and its tag.
    if count == 0 || count > (total - FIXED_HEADER_LEN) / (ENTRY_LEN + TAG_LEN) {
        return Err(unusable(Unusable::Truncated(total)));
    }
    let header_len = FIXED_HEADER_LEN + ENTRY_LEN * count;
    let mut header = vec![0u8; header_len];
    header[..FIXED_HEADER_LEN].copy_from_slice(&fixed);
    read_at(
        file,
        &mut header[FIXED_HEADER_LEN..],
        FIXED_HEADER_LEN as u64,
    )?;
    let mut offset = header_len as u64;
    let mut entries = Vec::with_capacity(count);
    for (number, entry) in header[FIXED_HEADER_LEN..]
        .chunks_exact(ENTRY_LEN)
        .enumerate()
    {
        let kind = Kind::from_byte(entry[0]).ok_or_else(|| malformed("unknown segment kind"))?;
        let items = u32::from_le_bytes([entry[1], entry[2], entry[3], entry[4]]) as usize;
        let mut len = [0u8; 8];
        len.copy_from_slice(&entry[5..]);
        let len = u64::from_le_bytes(len);
        let end = offset
            .checked_add(len)
            .and_then(|end| end.checked_add(TAG_LEN as u64))
            .filter(|end| *end <= size)
            .ok_or(unusable(Unusable::Truncated(total)))?;
        // Every user or group takes more than a byte, so a count cannot outgrow its
        // segment (nor ask for memory the file does not justify).
        let len = usize::try_from(len).map_err(|_| unusable(Unusable::Truncated(total)))?;
        if items > len {
            return Err(malformed("more items than bytes"));
        }
        entries.push(Entry {
            number,
            kind,
            items,
            offset,
            len,
        });
        offset = end;
    }
    if offset != size {
        return Err(malformed("bytes after the last segment"));
    }
    Ok((header, entries))
}

/// For a file too short for a header: an unknown version if it names one, else
/// truncated.
fn version_or_truncated(fixed: &[u8; FIXED_HEADER_LEN], total: usize) -> Unusable {
    let version = u32::from_le_bytes([fixed[4], fixed[5], fixed[6], fixed[7]]);
    if version == FORMAT {
        Unusable::Truncated(total)
    } else {
        Unusable::UnknownVersion(version)
    }
}

/// Fills `buffer` from `file` at `offset`, without moving a shared file position (so
/// that every core can read its own segments).
fn read_at(file: &File, buffer: &mut [u8], offset: u64) -> io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileExt;
        file.read_exact_at(buffer, offset)
    }
    #[cfg(windows)]
    {
        use std::os::windows::fs::FileExt;
        let mut done = 0;
        while done < buffer.len() {
            match file.seek_read(&mut buffer[done..], offset + done as u64)? {
                0 => return Err(io::ErrorKind::UnexpectedEof.into()),
                read => done += read,
            }
        }
        Ok(())
    }
    #[cfg(not(any(unix, windows)))]
    {
        let _ = (file, buffer, offset);
        Err(io::ErrorKind::Unsupported.into())
    }
}

fn decode_part(kind: Kind, plain: &[u8]) -> Result<Part, Unusable> {
    Ok(match kind {
        Kind::Head | Kind::Users => {
            return Err(Unusable::Malformed(
                "a second head or stray users".to_owned(),
            ));
        }
        Kind::Groups => Part::Groups(codec::read_segment(plain, codec::read_group)?),
        Kind::IndexText => Part::Text(plain.to_vec()),
        Kind::IndexFacets => Part::Facets(codec::read_index_facets(plain)?),
        Kind::IndexOrder => {
            let (key, ascending, descending) = codec::read_index_order(plain)?;
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
fn assemble(
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

fn malformed(what: &str) -> CacheError {
    CacheError::Unusable(Unusable::Malformed(what.to_owned()))
}

/// `f` over `tasks`, on as many threads as there are cores (the caller's among them),
/// each with its own `state` and taking the next task when done with one; results in
/// task order.
fn parallel<T: Send, R: Send, S>(
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

/// The nonce of segment `number`: the file's nonce with the number XORed into its end.
fn segment_nonce(nonce: &[u8; NONCE_LEN], number: usize) -> XNonce {
    let mut nonce = *nonce;
    let number = u32::try_from(number).unwrap_or(u32::MAX).to_le_bytes();
    for (byte, mask) in nonce[NONCE_LEN - 4..].iter_mut().zip(number) {
        *byte ^= mask;
    }
    XNonce::from(nonce)
}

/// A plaintext segment: what it holds, how many users or groups, its bytes.
type Plain = (Kind, usize, Vec<u8>);

/// The header, and every segment encrypted in place with its tag appended.
fn seal(segments: Vec<Plain>, key: &[u8; 32]) -> Result<(Vec<u8>, Vec<Vec<u8>>), CacheError> {
    let mut nonce = [0u8; NONCE_LEN];
    rand::rngs::OsRng
        .try_fill_bytes(&mut nonce)
        .map_err(|e| CacheError::Random(e.to_string()))?;
    let count = u32::try_from(segments.len())
        .map_err(|_| CacheError::Encode("too many segments".to_owned()))?;
    let mut header = Vec::with_capacity(FIXED_HEADER_LEN + ENTRY_LEN * segments.len());
    header.extend_from_slice(MAGIC);
    header.extend_from_slice(&FORMAT.to_le_bytes());
    header.extend_from_slice(&nonce);
    header.extend_from_slice(&count.to_le_bytes());
    for (kind, items, plain) in &segments {
        let items = u32::try_from(*items)
            .map_err(|_| CacheError::Encode("too many items in a segment".to_owned()))?;
        header.push(*kind as u8);
        header.extend_from_slice(&items.to_le_bytes());
        header.extend_from_slice(&(plain.len() as u64).to_le_bytes());
    }
    let cipher = XChaCha20Poly1305::new(key.into());
    let tasks: Vec<_> = segments.into_iter().enumerate().collect();
    let sealed = parallel(
        tasks,
        || (),
        |(), (number, (_, _, mut plain))| {
            let tag = cipher
                .encrypt_in_place_detached(&segment_nonce(&nonce, number), &header, &mut plain)
                .map_err(|_| CacheError::Encode("encryption failed".to_owned()))?;
            plain.extend_from_slice(&tag);
            Ok::<_, CacheError>(plain)
        },
    );
    let sealed = sealed.into_iter().collect::<Result<Vec<_>, _>>()?;
    Ok((header, sealed))
}

fn parent_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_owned(),
        _ => PathBuf::from("."),
    }
}

/// `.<name>.<random>.tmp` beside `path`.
fn temp_path(path: &Path) -> Result<PathBuf, CacheError> {
    let name = file_name(path)?;
    let mut random = [0u8; 8];
    rand::rngs::OsRng
        .try_fill_bytes(&mut random)
        .map_err(|e| CacheError::Random(e.to_string()))?;
    let suffix = u64::from_le_bytes(random);
    Ok(parent_dir(path).join(format!(".{name}.{suffix:016x}.tmp")))
}

fn file_name(path: &Path) -> Result<String, CacheError> {
    path.file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .ok_or_else(|| {
            CacheError::Io(io::Error::new(
                io::ErrorKind::InvalidInput,
                "the cache path has no file name",
            ))
        })
}

/// Writes `header` and `segments` to a new owner-only file and flushes it to disk.
fn write_temp(temp: &Path, header: &[u8], segments: &[Vec<u8>]) -> io::Result<()> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(temp)?;
    file.write_all(header)?;
    for segment in segments {
        file.write_all(segment)?;
    }
    file.sync_all()
}

/// Makes a rename in `dir` durable (a no-op where directories cannot be opened).
fn sync_dir(dir: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        File::open(dir)?.sync_all()
    }
    #[cfg(not(unix))]
    {
        let _ = (dir, File::open);
        Ok(())
    }
}

/// Deletes temp files of `path` older than `older_than`; failures are ignored (a temp
/// file is never read, only wasted space).
fn remove_stale_temps(path: &Path, older_than: Duration) {
    let Ok(name) = file_name(path) else { return };
    let prefix = format!(".{name}.");
    let Ok(entries) = fs::read_dir(parent_dir(path)) else {
        return;
    };
    let now = SystemTime::now();
    for entry in entries.flatten() {
        let entry_name = entry.file_name();
        let entry_name = entry_name.to_string_lossy();
        if !entry_name.starts_with(&prefix) || !entry_name.ends_with(".tmp") {
            continue;
        }
        let age = entry
            .metadata()
            .and_then(|meta| meta.modified())
            .ok()
            .and_then(|modified| now.duration_since(modified).ok())
            .unwrap_or(Duration::ZERO);
        if age >= older_than {
            let _ = fs::remove_file(entry.path());
        }
    }
}

/// A [`Snapshot`]'s users in JSON (its `Serialize`/`Deserialize`, which the file no
/// longer uses) are written and read with the crate's strict (derived) form: the lenient
/// reading that providers' answers need normalises every user through a
/// `serde_json::Value`, which is several times slower.
mod strict_users {
    use muster_scim::user::User;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    struct Out<'a>(&'a User);

    impl Serialize for Out<'_> {
        fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            User::serialize(self.0, serializer)
        }
    }

    struct In(User);

    impl<'de> Deserialize<'de> for In {
        fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
            User::deserialize(deserializer).map(In)
        }
    }

    pub(super) fn serialize<S: Serializer>(
        users: &[User],
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(users.iter().map(Out))
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Vec<User>, D::Error> {
        let users = Vec::<In>::deserialize(deserializer)?;
        Ok(users.into_iter().map(|user| user.0).collect())
    }
}

/// A short description of a decode error that carries no document text.
trait ClassifyText {
    fn classify_text(&self) -> String;
}

impl ClassifyText for serde_json::Error {
    fn classify_text(&self) -> String {
        format!(
            "{:?} error at line {} column {}",
            self.classify(),
            self.line(),
            self.column()
        )
    }
}

/// The binary form of users, groups and index parts.
///
/// A segment starts with its strings: their count, each one's length, then all of them
/// as one UTF-8 run (checked once when read); each distinct string is stored once. The
/// rest refers to strings by number, and holds varint (LEB128) counts and numbers,
/// options as a leading tag (strings: number + 1, 0 for none), times as Unix seconds,
/// nanoseconds and offset. Attributes this crate does not model (`extra`) are kept as
/// JSON text.
///
/// Encoders destructure every struct without `..`, so a field added to `muster-scim`
/// fails to compile here rather than being silently dropped from the cache.
mod codec {
    use std::collections::HashMap;
    use std::hash::{BuildHasherDefault, Hasher};

    use muster_scim::group::{Group, Member, MemberType};
    use muster_scim::meta::Meta;
    use muster_scim::user::{
        Address, EnterpriseUser, Invitation, InvitationState, LastSignIn, Licence, Manager,
        MultiValue, Name, Password, Role, ShopUser, SignInMethod, User, UserStatus,
    };
    use serde_json::{Map, Value};
    use time::{OffsetDateTime, UtcOffset};

    use super::{CacheError, Kind, Plain, Unusable};
    use crate::search;

    /// FNV-1a: a quick hash for the strings of one segment (no adversary here: the
    /// strings are the ones being written).
    struct Fnv(u64);

    impl Default for Fnv {
        fn default() -> Self {
            Self(0xcbf2_9ce4_8422_2325)
        }
    }

    impl Hasher for Fnv {
        fn finish(&self) -> u64 {
            self.0
        }

        fn write(&mut self, bytes: &[u8]) {
            for byte in bytes {
                self.0 = (self.0 ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3);
            }
        }
    }

    /// A growing segment.
    #[derive(Default)]
    pub(super) struct Out<'a> {
        bytes: Vec<u8>,
        /// Distinct strings, in order of first use.
        strings: Vec<&'a str>,
        numbers: HashMap<&'a str, u64, BuildHasherDefault<Fnv>>,
    }

    impl<'a> Out<'a> {
        fn with_capacity(capacity: usize) -> Self {
            Self {
                bytes: Vec::with_capacity(capacity),
                ..Self::default()
            }
        }

        /// The segment: strings, then the rest.
        fn finish(self) -> Vec<u8> {
            let text: usize = self.strings.iter().map(|s| s.len()).sum();
            let mut out = Out::with_capacity(text + self.strings.len() * 2 + self.bytes.len() + 8);
            out.len(self.strings.len());
            for text in &self.strings {
                out.len(text.len());
            }
            for text in &self.strings {
                out.bytes.extend_from_slice(text.as_bytes());
            }
            out.bytes.extend_from_slice(&self.bytes);
            out.bytes
        }

        fn byte(&mut self, byte: u8) {
            self.bytes.push(byte);
        }

        fn varint(&mut self, mut value: u64) {
            while value >= 0x80 {
                self.bytes.push((value as u8) | 0x80);
                value >>= 7;
            }
            self.bytes.push(value as u8);
        }

        fn len(&mut self, len: usize) {
            self.varint(len as u64);
        }

        fn signed(&mut self, value: i64) {
            self.varint(((value << 1) ^ (value >> 63)) as u64);
        }

        fn number(&mut self, text: &'a str) -> u64 {
            let next = self.strings.len() as u64;
            let number = *self.numbers.entry(text).or_insert(next);
            if number == next {
                self.strings.push(text);
            }
            number
        }

        fn str(&mut self, text: &'a str) {
            let number = self.number(text);
            self.varint(number);
        }

        fn opt_str(&mut self, text: Option<&'a str>) {
            match text {
                None => self.byte(0),
                Some(text) => {
                    let number = self.number(text);
                    self.varint(number + 1);
                }
            }
        }

        /// A string written where it stands (for index parts, whose strings are few).
        fn inline_str(&mut self, text: &str) {
            self.len(text.len());
            self.bytes.extend_from_slice(text.as_bytes());
        }

        fn opt_bool(&mut self, value: Option<bool>) {
            self.byte(match value {
                None => 0,
                Some(false) => 1,
                Some(true) => 2,
            });
        }

        fn opt_time(&mut self, at: Option<OffsetDateTime>) {
            let Some(at) = at else {
                self.byte(0);
                return;
            };
            self.byte(1);
            self.signed(at.unix_timestamp());
            self.varint(u64::from(at.nanosecond()));
            self.signed(i64::from(at.offset().whole_seconds()));
        }

        fn strings(&mut self, values: &'a [String]) {
            self.len(values.len());
            for value in values {
                self.str(value);
            }
        }

        fn opt<T>(
            &mut self,
            value: Option<&'a T>,
            f: impl FnOnce(&mut Self, &'a T) -> Result<(), CacheError>,
        ) -> Result<(), CacheError> {
            match value {
                None => {
                    self.byte(0);
                    Ok(())
                }
                Some(value) => {
                    self.byte(1);
                    f(self, value)
                }
            }
        }

        fn list<T>(
            &mut self,
            values: &'a [T],
            mut f: impl FnMut(&mut Self, &'a T) -> Result<(), CacheError>,
        ) -> Result<(), CacheError> {
            self.len(values.len());
            values.iter().try_for_each(|value| f(self, value))
        }

        /// Unmodelled attributes: nothing when empty, else their JSON.
        fn extra(&mut self, extra: &Map<String, Value>) -> Result<(), CacheError> {
            if extra.is_empty() {
                self.byte(0);
                return Ok(());
            }
            let json = serde_json::to_vec(extra).map_err(|e| CacheError::Encode(e.to_string()))?;
            self.len(json.len() + 1);
            self.bytes.extend_from_slice(&json);
            Ok(())
        }

        fn u32s(&mut self, values: &[u32]) {
            self.len(values.len());
            self.bytes.reserve(values.len() * 4);
            for value in values {
                self.bytes.extend_from_slice(&value.to_le_bytes());
            }
        }

        fn u64s(&mut self, values: impl ExactSizeIterator<Item = u64>) {
            self.len(values.len());
            self.bytes.reserve(values.len() * 8);
            for value in values {
                self.bytes.extend_from_slice(&value.to_le_bytes());
            }
        }
    }

    /// A segment being read; every read is bounds-checked.
    pub(super) struct In<'a> {
        bytes: &'a [u8],
        strings: Vec<&'a str>,
    }

    type Read<T> = Result<T, Unusable>;

    fn bad(what: &str) -> Unusable {
        Unusable::Malformed(format!("bad {what}"))
    }

    impl<'a> In<'a> {
        /// Reads the segment's strings; the rest is read by the other methods.
        fn new(bytes: &'a [u8]) -> Read<Self> {
            let mut input = In {
                bytes,
                strings: Vec::new(),
            };
            let count = input.len()?;
            let mut lens = Vec::with_capacity(count);
            let mut total = 0usize;
            for _ in 0..count {
                let len = input.len()?;
                total = total.checked_add(len).ok_or_else(|| bad("length"))?;
                lens.push(len);
            }
            let text = std::str::from_utf8(input.take(total)?).map_err(|_| bad("text"))?;
            input.strings.reserve(count);
            let mut at = 0;
            for len in lens {
                let end = at + len;
                input
                    .strings
                    .push(text.get(at..end).ok_or_else(|| bad("text"))?);
                at = end;
            }
            Ok(input)
        }

        fn take(&mut self, len: usize) -> Read<&'a [u8]> {
            if len > self.bytes.len() {
                return Err(bad("length"));
            }
            let (taken, rest) = self.bytes.split_at(len);
            self.bytes = rest;
            Ok(taken)
        }

        fn byte(&mut self) -> Read<u8> {
            let (first, rest) = self.bytes.split_first().ok_or_else(|| bad("length"))?;
            self.bytes = rest;
            Ok(*first)
        }

        fn varint(&mut self) -> Read<u64> {
            let mut value = 0u64;
            for shift in (0..64).step_by(7) {
                let byte = self.byte()?;
                value |= u64::from(byte & 0x7f) << shift;
                if byte & 0x80 == 0 {
                    return Ok(value);
                }
            }
            Err(bad("number"))
        }

        /// A length or count, which can never exceed the bytes left (every item takes at
        /// least one), so a bad one cannot ask for a huge allocation.
        fn len(&mut self) -> Read<usize> {
            usize::try_from(self.varint()?)
                .ok()
                .filter(|len| *len <= self.bytes.len())
                .ok_or_else(|| bad("length"))
        }

        fn signed(&mut self) -> Read<i64> {
            let raw = self.varint()?;
            Ok(((raw >> 1) as i64) ^ -((raw & 1) as i64))
        }

        fn numbered(&self, number: u64) -> Read<&'a str> {
            usize::try_from(number)
                .ok()
                .and_then(|number| self.strings.get(number))
                .copied()
                .ok_or_else(|| bad("string number"))
        }

        fn str(&mut self) -> Read<&'a str> {
            let number = self.varint()?;
            self.numbered(number)
        }

        fn string(&mut self) -> Read<String> {
            self.str().map(str::to_owned)
        }

        fn opt_str(&mut self) -> Read<Option<&'a str>> {
            match self.varint()? {
                0 => Ok(None),
                number => self.numbered(number - 1).map(Some),
            }
        }

        fn opt_string(&mut self) -> Read<Option<String>> {
            Ok(self.opt_str()?.map(str::to_owned))
        }

        fn inline_string(&mut self) -> Read<String> {
            let len = self.len()?;
            let bytes = self.take(len)?;
            std::str::from_utf8(bytes)
                .map(str::to_owned)
                .map_err(|_| bad("text"))
        }

        fn opt_bool(&mut self) -> Read<Option<bool>> {
            match self.byte()? {
                0 => Ok(None),
                1 => Ok(Some(false)),
                2 => Ok(Some(true)),
                _ => Err(bad("flag")),
            }
        }

        fn opt_time(&mut self) -> Read<Option<OffsetDateTime>> {
            if self.flag()? {
                let seconds = self.signed()?;
                let nanos = u32::try_from(self.varint()?).map_err(|_| bad("time"))?;
                let offset = i32::try_from(self.signed()?).map_err(|_| bad("time"))?;
                let offset = UtcOffset::from_whole_seconds(offset).map_err(|_| bad("time"))?;
                OffsetDateTime::from_unix_timestamp(seconds)
                    .ok()
                    .and_then(|at| at.replace_nanosecond(nanos).ok())
                    .and_then(|at| at.checked_to_offset(offset))
                    .map(Some)
                    .ok_or_else(|| bad("time"))
            } else {
                Ok(None)
            }
        }

        fn flag(&mut self) -> Read<bool> {
            match self.byte()? {
                0 => Ok(false),
                1 => Ok(true),
                _ => Err(bad("flag")),
            }
        }

        fn strings(&mut self) -> Read<Vec<String>> {
            self.list(Self::string)
        }

        fn opt<T>(&mut self, f: impl FnOnce(&mut Self) -> Read<T>) -> Read<Option<T>> {
            if self.flag()? {
                f(self).map(Some)
            } else {
                Ok(None)
            }
        }

        fn list<T>(&mut self, mut f: impl FnMut(&mut Self) -> Read<T>) -> Read<Vec<T>> {
            let count = self.len()?;
            let mut items = Vec::with_capacity(count);
            for _ in 0..count {
                items.push(f(self)?);
            }
            Ok(items)
        }

        fn extra(&mut self) -> Read<Map<String, Value>> {
            match self.len()? {
                0 => Ok(Map::new()),
                len => serde_json::from_slice(self.take(len - 1)?).map_err(|_| bad("attributes")),
            }
        }

        fn u32s(&mut self) -> Read<Vec<u32>> {
            let count = self.varint()?;
            let bytes = usize::try_from(count)
                .ok()
                .and_then(|count| count.checked_mul(4))
                .ok_or_else(|| bad("length"))?;
            let bytes = self.take(bytes)?;
            Ok(bytes
                .chunks_exact(4)
                .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect())
        }

        fn u64s(&mut self) -> Read<Vec<u64>> {
            let count = self.varint()?;
            let bytes = usize::try_from(count)
                .ok()
                .and_then(|count| count.checked_mul(8))
                .ok_or_else(|| bad("length"))?;
            let bytes = self.take(bytes)?;
            Ok(bytes
                .chunks_exact(8)
                .map(|b| u64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]))
                .collect())
        }

        fn end(&self) -> Read<()> {
            if self.bytes.is_empty() {
                Ok(())
            } else {
                Err(bad("segment end"))
            }
        }
    }

    #[cfg(test)]
    pub(super) fn test_varint(out: &mut Out<'_>, value: u64) {
        out.varint(value);
    }

    #[cfg(test)]
    pub(super) fn test_finish(out: Out<'_>) -> Vec<u8> {
        out.finish()
    }

    #[cfg(test)]
    pub(super) fn test_read_varint(bytes: &[u8]) -> Option<u64> {
        In::new(bytes).and_then(|mut input| input.varint()).ok()
    }

    /// A segment of `items`: their count, then each.
    pub(super) fn segment<'a, T>(
        items: &'a [T],
        item: impl FnMut(&mut Out<'a>, &'a T) -> Result<(), CacheError>,
    ) -> Result<Vec<u8>, CacheError> {
        let mut out = Out::with_capacity(items.len() * 256);
        out.list(items, item)?;
        Ok(out.finish())
    }

    /// The items of a segment written by [`segment`].
    pub(super) fn read_segment<T>(bytes: &[u8], item: fn(&mut In<'_>) -> Read<T>) -> Read<Vec<T>> {
        let mut input = In::new(bytes)?;
        let items = input.list(item)?;
        input.end()?;
        Ok(items)
    }

    /// Decodes a segment of users written by [`segment`] into `place`, which must have
    /// room for exactly as many.
    pub(super) fn read_users(bytes: &[u8], place: &mut [User]) -> Read<()> {
        let mut input = In::new(bytes)?;
        if input.len()? != place.len() {
            return Err(bad("user count"));
        }
        for slot in place {
            read_user(&mut input, slot)?;
        }
        input.end()
    }

    pub(super) fn user<'a>(out: &mut Out<'a>, user: &'a User) -> Result<(), CacheError> {
        let User {
            id,
            external_id,
            user_name,
            name,
            display_name,
            nick_name,
            profile_url,
            title,
            user_type,
            preferred_language,
            locale,
            timezone,
            active,
            password,
            emails,
            phone_numbers,
            ims,
            photos,
            addresses,
            groups,
            entitlements,
            roles,
            x509_certificates,
            enterprise,
            shop,
            meta: user_meta,
            extra,
        } = user;
        out.opt_str(id.as_deref());
        out.opt_str(external_id.as_deref());
        out.str(user_name);
        out.opt(name.as_ref(), self::name)?;
        for text in [
            display_name,
            nick_name,
            profile_url,
            title,
            user_type,
            preferred_language,
            locale,
            timezone,
        ] {
            out.opt_str(text.as_deref());
        }
        out.opt_bool(*active);
        out.opt_str(password.as_ref().map(Password::expose));
        for values in [emails, phone_numbers, ims, photos] {
            out.list(values, multi_value)?;
        }
        out.list(addresses, address)?;
        for values in [groups, entitlements, roles, x509_certificates] {
            out.list(values, multi_value)?;
        }
        out.opt(enterprise.as_ref(), self::enterprise)?;
        out.opt(shop.as_ref(), self::shop)?;
        out.opt(user_meta.as_ref(), |out, m| {
            meta(out, m);
            Ok(())
        })?;
        out.extra(extra)
    }

    /// Decodes a user into `slot`, field by field (a `User` is large: building one
    /// aside and moving it in would copy it again).
    fn read_user(input: &mut In<'_>, slot: &mut User) -> Read<()> {
        let User {
            id,
            external_id,
            user_name,
            name,
            display_name,
            nick_name,
            profile_url,
            title,
            user_type,
            preferred_language,
            locale,
            timezone,
            active,
            password,
            emails,
            phone_numbers,
            ims,
            photos,
            addresses,
            groups,
            entitlements,
            roles,
            x509_certificates,
            enterprise,
            shop,
            meta,
            extra,
        } = slot;
        *id = input.opt_string()?;
        *external_id = input.opt_string()?;
        *user_name = input.string()?;
        *name = input.opt(read_name)?;
        for text in [
            display_name,
            nick_name,
            profile_url,
            title,
            user_type,
            preferred_language,
            locale,
            timezone,
        ] {
            *text = input.opt_string()?;
        }
        *active = input.opt_bool()?;
        *password = input.opt_string()?.map(Password::new);
        for values in [emails, phone_numbers, ims, photos] {
            *values = input.list(read_multi_value)?;
        }
        *addresses = input.list(read_address)?;
        for values in [groups, entitlements, roles, x509_certificates] {
            *values = input.list(read_multi_value)?;
        }
        *enterprise = input.opt(read_enterprise)?;
        *shop = input.opt(read_shop)?;
        *meta = input.opt(|input| read_meta(input))?;
        *extra = input.extra()?;
        Ok(())
    }

    fn name<'a>(out: &mut Out<'a>, name: &'a Name) -> Result<(), CacheError> {
        let Name {
            formatted,
            family_name,
            given_name,
            middle_name,
            honorific_prefix,
            honorific_suffix,
            extra,
        } = name;
        for text in [
            formatted,
            family_name,
            given_name,
            middle_name,
            honorific_prefix,
            honorific_suffix,
        ] {
            out.opt_str(text.as_deref());
        }
        out.extra(extra)
    }

    fn read_name(input: &mut In<'_>) -> Read<Name> {
        Ok(Name {
            formatted: input.opt_string()?,
            family_name: input.opt_string()?,
            given_name: input.opt_string()?,
            middle_name: input.opt_string()?,
            honorific_prefix: input.opt_string()?,
            honorific_suffix: input.opt_string()?,
            extra: input.extra()?,
        })
    }

    fn multi_value<'a>(out: &mut Out<'a>, value: &'a MultiValue) -> Result<(), CacheError> {
        let MultiValue {
            value,
            display,
            kind,
            primary,
            reference,
            extra,
        } = value;
        out.opt_str(value.as_deref());
        out.opt_str(display.as_deref());
        out.opt_str(kind.as_deref());
        out.opt_bool(*primary);
        out.opt_str(reference.as_deref());
        out.extra(extra)
    }

    fn read_multi_value(input: &mut In<'_>) -> Read<MultiValue> {
        Ok(MultiValue {
            value: input.opt_string()?,
            display: input.opt_string()?,
            kind: input.opt_string()?,
            primary: input.opt_bool()?,
            reference: input.opt_string()?,
            extra: input.extra()?,
        })
    }

    fn address<'a>(out: &mut Out<'a>, address: &'a Address) -> Result<(), CacheError> {
        let Address {
            formatted,
            street_address,
            locality,
            region,
            postal_code,
            country,
            kind,
            primary,
            extra,
        } = address;
        for text in [
            formatted,
            street_address,
            locality,
            region,
            postal_code,
            country,
            kind,
        ] {
            out.opt_str(text.as_deref());
        }
        out.opt_bool(*primary);
        out.extra(extra)
    }

    fn read_address(input: &mut In<'_>) -> Read<Address> {
        Ok(Address {
            formatted: input.opt_string()?,
            street_address: input.opt_string()?,
            locality: input.opt_string()?,
            region: input.opt_string()?,
            postal_code: input.opt_string()?,
            country: input.opt_string()?,
            kind: input.opt_string()?,
            primary: input.opt_bool()?,
            extra: input.extra()?,
        })
    }

    fn enterprise<'a>(out: &mut Out<'a>, enterprise: &'a EnterpriseUser) -> Result<(), CacheError> {
        let EnterpriseUser {
            employee_number,
            cost_center,
            organization,
            division,
            department,
            manager,
            extra,
        } = enterprise;
        for text in [
            employee_number,
            cost_center,
            organization,
            division,
            department,
        ] {
            out.opt_str(text.as_deref());
        }
        out.opt(manager.as_ref(), |out, manager| {
            let Manager {
                value,
                reference,
                display_name,
            } = manager;
            out.opt_str(value.as_deref());
            out.opt_str(reference.as_deref());
            out.opt_str(display_name.as_deref());
            Ok(())
        })?;
        out.extra(extra)
    }

    fn read_enterprise(input: &mut In<'_>) -> Read<EnterpriseUser> {
        Ok(EnterpriseUser {
            employee_number: input.opt_string()?,
            cost_center: input.opt_string()?,
            organization: input.opt_string()?,
            division: input.opt_string()?,
            department: input.opt_string()?,
            manager: input.opt(|input| {
                Ok(Manager {
                    value: input.opt_string()?,
                    reference: input.opt_string()?,
                    display_name: input.opt_string()?,
                })
            })?,
            extra: input.extra()?,
        })
    }

    fn shop<'a>(out: &mut Out<'a>, shop: &'a ShopUser) -> Result<(), CacheError> {
        let ShopUser {
            licence,
            role,
            security_group,
            service_groups,
            zones,
            home_branch,
            branches,
            job_role,
            phone,
            permissions,
            status,
            invitation,
            last_sign_in,
            mfa_enabled,
            active_sessions,
            extra,
        } = shop;
        out.opt_str(licence.as_ref().map(Licence::as_str));
        out.opt_str(role.as_ref().map(Role::as_str));
        out.opt_str(security_group.as_deref());
        out.strings(service_groups);
        out.strings(zones);
        out.opt_str(home_branch.as_deref());
        out.strings(branches);
        out.opt_str(job_role.as_deref());
        out.opt_str(phone.as_deref());
        out.strings(permissions);
        out.opt_str(status.as_ref().map(UserStatus::as_str));
        out.opt(invitation.as_ref(), |out, invitation| {
            let Invitation {
                sent_at,
                expires_at,
                state,
            } = invitation;
            out.opt_time(*sent_at);
            out.opt_time(*expires_at);
            out.opt_str(state.as_ref().map(InvitationState::as_str));
            Ok(())
        })?;
        out.opt(last_sign_in.as_ref(), |out, last| {
            let LastSignIn { at, method } = last;
            out.opt_time(*at);
            out.opt_str(method.as_ref().map(SignInMethod::as_str));
            Ok(())
        })?;
        out.opt_bool(*mfa_enabled);
        match active_sessions {
            None => out.byte(0),
            Some(sessions) => {
                out.byte(1);
                out.varint(u64::from(*sessions));
            }
        }
        out.extra(extra)
    }

    fn read_shop(input: &mut In<'_>) -> Read<ShopUser> {
        Ok(ShopUser {
            licence: input.opt_str()?.map(Licence::parse),
            role: input.opt_str()?.map(Role::parse),
            security_group: input.opt_string()?,
            service_groups: input.strings()?,
            zones: input.strings()?,
            home_branch: input.opt_string()?,
            branches: input.strings()?,
            job_role: input.opt_string()?,
            phone: input.opt_string()?,
            permissions: input.strings()?,
            status: input.opt_str()?.map(UserStatus::parse),
            invitation: input.opt(|input| {
                Ok(Invitation {
                    sent_at: input.opt_time()?,
                    expires_at: input.opt_time()?,
                    state: input.opt_str()?.map(InvitationState::parse),
                })
            })?,
            last_sign_in: input.opt(|input| {
                Ok(LastSignIn {
                    at: input.opt_time()?,
                    method: input.opt_str()?.map(SignInMethod::parse),
                })
            })?,
            mfa_enabled: input.opt_bool()?,
            active_sessions: input
                .opt(|input| u32::try_from(input.varint()?).map_err(|_| bad("session count")))?,
            extra: input.extra()?,
        })
    }

    fn meta<'a>(out: &mut Out<'a>, meta: &'a Meta) {
        let Meta {
            resource_type,
            created,
            last_modified,
            location,
            version,
        } = meta;
        out.opt_str(resource_type.as_deref());
        out.opt_time(*created);
        out.opt_time(*last_modified);
        out.opt_str(location.as_deref());
        out.opt_str(version.as_deref());
    }

    fn read_meta(input: &mut In<'_>) -> Read<Meta> {
        Ok(Meta {
            resource_type: input.opt_string()?,
            created: input.opt_time()?,
            last_modified: input.opt_time()?,
            location: input.opt_string()?,
            version: input.opt_string()?,
        })
    }

    pub(super) fn group<'a>(out: &mut Out<'a>, group: &'a Group) -> Result<(), CacheError> {
        let Group {
            id,
            external_id,
            display_name,
            members,
            meta: group_meta,
            extra,
        } = group;
        out.opt_str(id.as_deref());
        out.opt_str(external_id.as_deref());
        out.str(display_name);
        out.list(members, |out, member| {
            let Member {
                value,
                reference,
                kind,
                display,
                extra,
            } = member;
            out.opt_str(value.as_deref());
            out.opt_str(reference.as_deref());
            out.opt_str(kind.as_ref().map(MemberType::as_str));
            out.opt_str(display.as_deref());
            out.extra(extra)
        })?;
        out.opt(group_meta.as_ref(), |out, m| {
            meta(out, m);
            Ok(())
        })?;
        out.extra(extra)
    }

    pub(super) fn read_group(input: &mut In<'_>) -> Read<Group> {
        Ok(Group {
            id: input.opt_string()?,
            external_id: input.opt_string()?,
            display_name: input.string()?,
            members: input.list(|input| {
                Ok(Member {
                    value: input.opt_string()?,
                    reference: input.opt_string()?,
                    kind: input.opt_str()?.map(MemberType::parse),
                    display: input.opt_string()?,
                    extra: input.extra()?,
                })
            })?,
            meta: input.opt(|input| read_meta(input))?,
            extra: input.extra()?,
        })
    }

    /// The segments of an index: text, facets, then one per sort order.
    pub(super) fn index(parts: search::Parts) -> Vec<Plain> {
        let search::Parts {
            len,
            text,
            starts,
            facets,
            last_sign_in,
            invitation_expires,
            orders,
        } = parts;
        let mut segments = Vec::with_capacity(2 + orders.len());
        // The text as it is, so that it is read straight into its place.
        segments.push((Kind::IndexText, 0, text));
        let mut out = Out::with_capacity(starts.len() * 8 + last_sign_in.len() * 16 + 4096);
        out.len(len);
        out.u64s(starts.iter().map(|start| *start as u64));
        out.len(facets.len());
        for values in &facets {
            out.len(values.len());
            for (value, words) in values {
                out.inline_str(value);
                out.u64s(words.iter().copied());
            }
        }
        // No sign-in is `i64::MIN`, which no real time is.
        out.u64s(last_sign_in.iter().map(|at| at.unwrap_or(i64::MIN) as u64));
        out.u64s(
            invitation_expires
                .iter()
                .map(|at| at.unwrap_or(i64::MIN) as u64),
        );
        segments.push((Kind::IndexFacets, 0, out.finish()));
        for (key, (ascending, descending)) in orders.iter().enumerate() {
            let mut out = Out::with_capacity(ascending.len() * 8 + 16);
            out.len(key);
            out.u32s(ascending);
            out.u32s(descending);
            segments.push((Kind::IndexOrder, 0, out.finish()));
        }
        segments
    }

    /// The index's row count, text offsets, facets, sign-in times and invitation expiries.
    pub(super) fn read_index_facets(bytes: &[u8]) -> Read<search::Parts> {
        let mut input = In::new(bytes)?;
        let len = usize::try_from(input.varint()?).map_err(|_| bad("length"))?;
        let starts = input
            .u64s()?
            .into_iter()
            .map(usize::try_from)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|_| bad("offset"))?;
        let facets = input.list(|input| {
            input.list(|input| {
                let value = input.inline_string()?;
                let words = input.u64s()?;
                Ok((value, words))
            })
        })?;
        let mut times = || -> Read<Vec<Option<i64>>> {
            Ok(input
                .u64s()?
                .into_iter()
                .map(|at| Some(at as i64).filter(|at| *at != i64::MIN))
                .collect())
        };
        let last_sign_in = times()?;
        let invitation_expires = times()?;
        input.end()?;
        Ok(search::Parts {
            len,
            starts,
            facets,
            last_sign_in,
            invitation_expires,
            ..search::Parts::default()
        })
    }

    pub(super) fn read_index_order(bytes: &[u8]) -> Read<(usize, Vec<u32>, Vec<u32>)> {
        let mut input = In::new(bytes)?;
        let key = usize::try_from(input.varint()?).map_err(|_| bad("sort key"))?;
        let ascending = input.u32s()?;
        let descending = input.u32s()?;
        input.end()?;
        Ok((key, ascending, descending))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use muster_scim::meta::Meta;

    const KEY: [u8; 32] = [7; 32];

    struct Temp(PathBuf);

    impl Temp {
        fn new(name: &str) -> Self {
            let dir = std::env::temp_dir().join(format!(
                "muster-cache-unit-{name}-{}-{}",
                std::process::id(),
                rand::random::<u32>()
            ));
            fs::create_dir_all(&dir).unwrap();
            Self(dir)
        }

        fn file(&self) -> PathBuf {
            self.0.join("p.cache")
        }
    }

    impl Drop for Temp {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.0);
        }
    }

    fn snapshot() -> Snapshot {
        let times = [
            OffsetDateTime::UNIX_EPOCH,
            time::macros::datetime!(2026-06-01 12:00:00.123456789 +02:00),
            time::macros::datetime!(1969-12-31 23:59:59.5 UTC),
        ];
        let mut extra = serde_json::Map::new();
        extra.insert(
            "urn:example:ext".into(),
            serde_json::json!({"k": [1, "two"]}),
        );
        Snapshot {
            users: times
                .iter()
                .enumerate()
                .map(|(i, at)| User {
                    id: Some(format!("u{i}")),
                    display_name: Some("Zoë Ünal".into()),
                    emails: vec![muster_scim::user::MultiValue {
                        value: Some(format!("u{i}@example.test")),
                        primary: Some(i == 0),
                        ..Default::default()
                    }],
                    meta: Some(Meta {
                        created: Some(*at),
                        last_modified: Some(*at),
                        ..Default::default()
                    }),
                    extra: if i == 1 {
                        extra.clone()
                    } else {
                        Default::default()
                    },
                    ..User::new(format!("user {i}"))
                })
                .collect(),
            groups: vec![Group {
                id: Some("g".into()),
                members: vec![muster_scim::group::Member::user("u0")],
                ..Group::new("Dispatch")
            }],
            capabilities: serde_json::json!({"filter": true}),
            ..Snapshot::empty(times[1])
        }
    }

    fn unusable(path: &Path) -> Unusable {
        match read_indexed(path, &KEY) {
            Err(CacheError::Unusable(why)) => why,
            other => panic!("expected an unusable file, got {other:?}"),
        }
    }

    #[test]
    fn round_trip_keeps_times_offsets_text_and_unknown_attributes() {
        let temp = Temp::new("round-trip");
        let original = snapshot();
        write(&temp.file(), &original, &KEY).unwrap();
        let (read, index) = read_indexed(&temp.file(), &KEY).unwrap().unwrap();
        assert_eq!(read, original);
        assert_eq!(index.len(), 3);
        for (a, b) in read.users.iter().zip(&original.users) {
            let (a, b) = (a.meta.as_ref().unwrap(), b.meta.as_ref().unwrap());
            assert_eq!(a.created.unwrap().offset(), b.created.unwrap().offset());
        }
        assert_eq!(
            read_header(
                &File::open(temp.file()).unwrap(),
                fs::metadata(temp.file()).unwrap().len()
            )
            .unwrap()
            .1[0]
                .kind,
            Kind::Head
        );
    }

    #[test]
    fn segment_table_and_order_are_authenticated() {
        let temp = Temp::new("table");
        write(&temp.file(), &snapshot(), &KEY).unwrap();
        let bytes = fs::read(temp.file()).unwrap();
        let (_, entries) =
            read_header(&File::open(temp.file()).unwrap(), bytes.len() as u64).unwrap();
        let entry_at = |n: usize| FIXED_HEADER_LEN + ENTRY_LEN * n;

        // A changed item count (the table is associated data of every segment).
        let mut changed = bytes.clone();
        changed[entry_at(1) + 1] ^= 1;
        fs::write(temp.file(), &changed).unwrap();
        assert!(matches!(
            unusable(&temp.file()),
            Unusable::Undecryptable | Unusable::Malformed(_)
        ));

        // Two sort-order segments of equal length swapped: their nonces differ.
        let orders: Vec<&Entry> = entries
            .iter()
            .filter(|e| e.kind == Kind::IndexOrder)
            .collect();
        let (a, b) = (orders[0], orders[1]);
        assert_eq!(a.len, b.len);
        let span = |e: &Entry| e.offset as usize..e.offset as usize + e.len + TAG_LEN;
        let mut swapped = bytes.clone();
        swapped[span(a)].copy_from_slice(&bytes[span(b)]);
        swapped[span(b)].copy_from_slice(&bytes[span(a)]);
        fs::write(temp.file(), &swapped).unwrap();
        assert_eq!(unusable(&temp.file()), Unusable::Undecryptable);

        // A segment dropped, with its entry and the count adjusted.
        let last = entries.last().unwrap();
        let mut dropped = bytes[..FIXED_HEADER_LEN].to_vec();
        let count = u32::try_from(entries.len() - 1).unwrap();
        dropped[FIXED_HEADER_LEN - 4..].copy_from_slice(&count.to_le_bytes());
        dropped.extend_from_slice(&bytes[FIXED_HEADER_LEN..entry_at(entries.len() - 1)]);
        dropped.extend_from_slice(&bytes[entry_at(entries.len())..last.offset as usize]);
        fs::write(temp.file(), &dropped).unwrap();
        assert_eq!(unusable(&temp.file()), Unusable::Undecryptable);

        // Bytes appended.
        let mut longer = bytes.clone();
        longer.push(0);
        fs::write(temp.file(), &longer).unwrap();
        assert!(matches!(unusable(&temp.file()), Unusable::Malformed(_)));
    }

    #[test]
    fn every_segment_is_authenticated_even_when_the_index_is_not_wanted() {
        let temp = Temp::new("skip");
        write(&temp.file(), &snapshot(), &KEY).unwrap();
        let mut bytes = fs::read(temp.file()).unwrap();
        let (_, entries) =
            read_header(&File::open(temp.file()).unwrap(), bytes.len() as u64).unwrap();
        let text = entries.iter().find(|e| e.kind == Kind::IndexText).unwrap();
        bytes[text.offset as usize] ^= 1;
        fs::write(temp.file(), &bytes).unwrap();
        assert!(matches!(
            read(&temp.file(), &KEY),
            Err(CacheError::Unusable(Unusable::Undecryptable))
        ));
    }

    #[test]
    fn varints_round_trip_at_their_edges() {
        for value in [
            0,
            1,
            127,
            128,
            16_383,
            16_384,
            u64::from(u32::MAX),
            u64::MAX,
        ] {
            let mut out = codec::Out::default();
            codec::test_varint(&mut out, value);
            let bytes = codec::test_finish(out);
            assert_eq!(codec::test_read_varint(&bytes), Some(value), "{value}");
        }
        // No strings, then eleven continuation bytes: not a number.
        let mut too_long = vec![0x00];
        too_long.extend([0xff; 10]);
        too_long.push(0x01);
        assert_eq!(codec::test_read_varint(&too_long), None);
    }
}
