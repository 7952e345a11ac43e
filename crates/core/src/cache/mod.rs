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
//! The segments: a head (JSON: times, capabilities, sync state, counts); the users, each in
//! the packed form the snapshot holds in memory ([`PackedUser`]: a segment is their bytes,
//! each after its length, so opening the file reads no user), and the groups in a compact
//! binary form, a few thousand a segment; and the search index built from those users, in
//! its own segments (text, facets, one per sort order).
//!
//! [`write()`] is atomic (temp file in the same directory, fsync, rename, fsync of the
//! directory), so a crash leaves the old snapshot or the new one, never a mix. [`open`]
//! turns any unreadable file, including one of an older format, into
//! [`Opened::Discarded`] with a logged warning: the caller rebuilds from the server.

mod codec;
mod file;
mod index_codec;
mod load;
mod packed;
mod store;
mod wire;

use std::fs::{self};
use std::io;
use std::path::Path;
use std::time::Duration;

use muster_scim::group::Group;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::discovery::Capabilities;
use crate::search::Index;

use file::malformed;
use file::{
    Sealer, encode, parent_dir, remove_stale_temps, sync_dir, temp_path, write_segments, write_temp,
};
use load::load;
pub use packed::{Addresses, PackedUser};
pub use store::{Offline, OpenOutcome, Store, offline_read};

/// The current file and snapshot format version. Files of any other version are
/// discarded (and rebuilt by the next sync).
///
/// 1: one sealed JSON document. 2: sealed segments, binary users and groups, the search
/// index stored. 3: the index keeps invitation expiries (pending or expired is decided
/// at each search) and an invitation sort order. 4: each user in its own compact form
/// ([`PackedUser`]), as the snapshot holds it in memory. 5: a user keeps the attributes
/// the provider sent that could not be read (`User::unread`).
///
/// Bump it for any change to the layout, to the binary form, or to what
/// [`Index::build`] produces (text folding, facets, sort orders): a stored index must
/// answer exactly as a fresh build would.
pub const FORMAT: u32 = 5;

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
    /// The cached users in their compact form, each shared: a copy of the snapshot (a
    /// sync's or a write's working copy) shares every user it does not change, instead
    /// of copying them all.
    #[serde(with = "strict_users")]
    pub users: Vec<PackedUser>,
    /// The cached groups.
    pub groups: Vec<Group>,
    /// What the provider supported when last asked; `None` before the first sync.
    #[serde(default, deserialize_with = "lenient_capabilities")]
    pub capabilities: Option<Capabilities>,
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
            capabilities: None,
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
    Fresh(Box<Snapshot>),
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
    write_with(path, snapshot, None, key)
}

/// [`write`] with the snapshot's index as the caller built it, so it is not built again.
///
/// # Errors
///
/// As [`write`].
pub fn write_indexed(
    path: &Path,
    snapshot: &Snapshot,
    index: &crate::search::Index,
    key: &[u8; 32],
) -> Result<(), CacheError> {
    write_with(path, snapshot, Some(index), key)
}

fn write_with(
    path: &Path,
    snapshot: &Snapshot,
    index: Option<&crate::search::Index>,
    key: &[u8; 32],
) -> Result<(), CacheError> {
    let segments = encode(snapshot, index)?;
    let users: Vec<&[PackedUser]> = snapshot.users.chunks(SEGMENT_ITEMS).collect();
    let entries: Vec<(Kind, usize, usize)> = segments
        .iter()
        .map(|(kind, items, plain)| (*kind, *items, plain.len()))
        .chain(
            users
                .iter()
                .map(|chunk| (Kind::Users, chunk.len(), codec::users_segment_len(chunk))),
        )
        .collect();
    let sealer = Sealer::new(&entries, key)?;
    let sealed = sealer.seal_all(0, segments.into_iter().map(|(_, _, plain)| plain).collect())?;
    let dir = parent_dir(path);
    fs::create_dir_all(&dir)?;
    let temp = temp_path(path)?;
    let result = write_temp(&temp, |file| write_segments(file, &sealer, sealed, &users))
        .and_then(|()| Ok(fs::rename(&temp, path)?));
    if let Err(error) = result {
        let _ = fs::remove_file(&temp);
        return Err(error);
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
        Ok(Some(snapshot)) => Opened::Fresh(Box::new(snapshot)),
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
    /// Users, packed ([`PackedUser`]), each after its length.
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
    pub(super) fn from_byte(byte: u8) -> Option<Self> {
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

    pub(super) fn is_index(self) -> bool {
        matches!(self, Self::IndexText | Self::IndexFacets | Self::IndexOrder)
    }
}

/// Capabilities as a file holds them: ones this version cannot read count as not yet
/// known (the next sync asks the provider again) rather than making the copy unusable.
fn lenient_capabilities<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Capabilities>, D::Error> {
    let value = serde_json::Value::deserialize(deserializer)?;
    Ok(serde_json::from_value(value).ok())
}

/// A head's capabilities, read leniently.
#[derive(Deserialize)]
struct StoredCapabilities(#[serde(deserialize_with = "lenient_capabilities")] Option<Capabilities>);

/// Everything in a snapshot but its users and groups, with their counts.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Head<C, S> {
    pub(super) format: u32,
    #[serde(with = "time::serde::rfc3339")]
    pub(super) synced_at: OffsetDateTime,
    pub(super) capabilities: C,
    pub(super) sync: S,
    pub(super) users: usize,
    pub(super) groups: usize,
}

/// A [`Snapshot`]'s users in JSON (its `Serialize`/`Deserialize`, which the file no
/// longer uses) are written and read with the crate's strict (derived) form: the lenient
/// reading that providers' answers need normalises every user through a
/// `serde_json::Value`, which is several times slower.
mod strict_users {
    use muster_scim::user::User;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    use super::PackedUser;

    struct Out(User);

    impl Serialize for Out {
        fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            User::serialize(&self.0, serializer)
        }
    }

    struct In(User);

    impl<'de> Deserialize<'de> for In {
        fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
            User::deserialize(deserializer).map(In)
        }
    }

    pub(super) fn serialize<S: Serializer>(
        users: &[PackedUser],
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(users.iter().map(|user| Out(user.user())))
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Vec<PackedUser>, D::Error> {
        let users = Vec::<In>::deserialize(deserializer)?;
        Ok(users.iter().map(|user| PackedUser::pack(&user.0)).collect())
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

#[cfg(test)]
mod tests;
