//! The offline cache: one encrypted [`Snapshot`] per profile.
//!
//! File layout (all integers little-endian):
//!
//! | bytes  | content                                             |
//! |--------|-----------------------------------------------------|
//! | 0..4   | magic `MSTC`                                        |
//! | 4..8   | format version ([`FORMAT`])                         |
//! | 8..32  | random 24-byte XChaCha20-Poly1305 nonce             |
//! | 32..   | ciphertext of the JSON snapshot, then the 16-byte tag |
//!
//! The 32-byte header is the AEAD's associated data, so no byte of the file can change
//! without decryption failing. The 256-bit key lives in the OS keychain; this module only
//! receives it.
//!
//! [`write`] is atomic (temp file in the same directory, fsync, rename, fsync of the
//! directory), so a crash leaves the old snapshot or the new one, never a mix. [`open`]
//! turns any unreadable file into [`Opened::Discarded`] with a logged warning: the caller
//! rebuilds from the server.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use muster_scim::group::Group;
use muster_scim::user::User;
use rand::TryRngCore;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// The current file and snapshot format version.
pub const FORMAT: u32 = 1;

const MAGIC: &[u8; 4] = b"MSTC";
const NONCE_LEN: usize = 24;
const HEADER_LEN: usize = 4 + 4 + NONCE_LEN;
const TAG_LEN: usize = 16;
/// Temp files left by a crash are removed by a later write once they are this old.
const STALE_TEMP: Duration = Duration::from_secs(60);

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
    /// The highest `meta.lastModified` seen, as the server wrote it, for the next
    /// `meta.lastModified gt` filter.
    pub last_modified_high_water: Option<String>,
    /// When the last full sync finished.
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_full_sync: Option<OffsetDateTime>,
    /// When the last id-only pass (deletion reconciliation) finished.
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_id_pass: Option<OffsetDateTime>,
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
    /// Shorter than a header and a tag.
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

/// Encrypts `snapshot` under `key` and atomically replaces the file at `path`.
///
/// # Errors
///
/// When the snapshot cannot be encoded, randomness is unavailable, or the file system
/// refuses (the previous file is then left as it was).
pub fn write(path: &Path, snapshot: &Snapshot, key: &[u8; 32]) -> Result<(), CacheError> {
    let plain = encode(snapshot)?;
    let bytes = seal(&plain, key)?;
    let dir = parent_dir(path);
    fs::create_dir_all(&dir)?;
    let temp = temp_path(path)?;
    let result = write_temp(&temp, &bytes).and_then(|()| fs::rename(&temp, path));
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
    let bytes = match fs::read(path) {
        Ok(bytes) => bytes,
        Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(error) => return Err(error.into()),
    };
    let plain = unseal(&bytes, key).map_err(CacheError::Unusable)?;
    drop(bytes);
    let snapshot = decode(&plain).map_err(CacheError::Unusable)?;
    if snapshot.format != FORMAT {
        return Err(CacheError::Unusable(Unusable::UnknownVersion(
            snapshot.format,
        )));
    }
    Ok(Some(snapshot))
}

/// Reads the snapshot at `path`, turning every failure into [`Opened::Discarded`] with a
/// logged warning (which names neither the user data nor the key).
pub fn open(path: &Path, key: &[u8; 32]) -> Opened {
    match read(path, key) {
        Ok(Some(snapshot)) => Opened::Fresh(snapshot),
        Ok(None) => Opened::Missing,
        Err(error) => {
            let reason = error.to_string();
            tracing::warn!(%reason, "discarding the offline cache; it will be rebuilt");
            Opened::Discarded { reason }
        }
    }
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

/// Users per segment of the plaintext; segments are encoded and decoded in parallel.
const SEGMENT_USERS: usize = 8192;

/// Everything in a snapshot but its users: the first segment of the plaintext.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Head<G, S> {
    format: u32,
    #[serde(with = "time::serde::rfc3339")]
    synced_at: OffsetDateTime,
    groups: G,
    capabilities: serde_json::Value,
    sync: S,
    user_segments: usize,
}

/// The plaintext: segments, each a little-endian u64 length and JSON. The first is the
/// [`Head`]; the others are arrays of users.
fn encode(snapshot: &Snapshot) -> Result<Vec<u8>, CacheError> {
    let chunks: Vec<&[User]> = snapshot.users.chunks(SEGMENT_USERS).collect();
    let head = Head {
        format: snapshot.format,
        synced_at: snapshot.synced_at,
        groups: &snapshot.groups,
        capabilities: snapshot.capabilities.clone(),
        sync: &snapshot.sync,
        user_segments: chunks.len(),
    };
    let head = serde_json::to_vec(&head).map_err(|e| CacheError::Encode(e.to_string()))?;
    let segments = parallel_map(&chunks, |chunk| {
        let mut out = Vec::new();
        let mut serializer = serde_json::Serializer::new(&mut out);
        strict_users::serialize(chunk, &mut serializer).map(|_| out)
    });
    let mut plain = Vec::new();
    for segment in std::iter::once(Ok(head)).chain(segments) {
        let segment = segment.map_err(|e| CacheError::Encode(e.to_string()))?;
        plain.extend_from_slice(&(segment.len() as u64).to_le_bytes());
        plain.extend_from_slice(&segment);
    }
    Ok(plain)
}

/// The snapshot in a plaintext written by [`encode`].
fn decode(plain: &[u8]) -> Result<Snapshot, Unusable> {
    let mut segments = split_segments(plain)?.into_iter();
    let head = segments
        .next()
        .ok_or(Unusable::Malformed("no segments".to_owned()))?;
    let head: Head<Vec<Group>, SyncState> = serde_json::from_slice(head).map_err(malformed)?;
    let segments: Vec<&[u8]> = segments.collect();
    if segments.len() != head.user_segments {
        return Err(Unusable::Malformed("segment count mismatch".to_owned()));
    }
    let chunks = parallel_map(&segments, |segment| {
        strict_users::deserialize(&mut serde_json::Deserializer::from_slice(segment))
    });
    let mut users = Vec::new();
    for chunk in chunks {
        users.extend(chunk.map_err(malformed)?);
    }
    Ok(Snapshot {
        format: head.format,
        synced_at: head.synced_at,
        users,
        groups: head.groups,
        capabilities: head.capabilities,
        sync: head.sync,
    })
}

fn split_segments(mut plain: &[u8]) -> Result<Vec<&[u8]>, Unusable> {
    let mut segments = Vec::new();
    while !plain.is_empty() {
        let (len, rest) = plain
            .split_first_chunk::<8>()
            .ok_or(Unusable::Malformed("cut segment length".to_owned()))?;
        let len = usize::try_from(u64::from_le_bytes(*len)).unwrap_or(usize::MAX);
        if len > rest.len() {
            return Err(Unusable::Malformed("segment overruns the file".to_owned()));
        }
        let (segment, rest) = rest.split_at(len);
        segments.push(segment);
        plain = rest;
    }
    Ok(segments)
}

fn malformed(error: serde_json::Error) -> Unusable {
    Unusable::Malformed(error.classify_text())
}

/// `f` over `items`, spread over the available cores, results in order.
fn parallel_map<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let per_thread = items.len().div_ceil(threads).max(1);
    std::thread::scope(|scope| {
        let workers: Vec<_> = items
            .chunks(per_thread)
            .map(|part| scope.spawn(|| part.iter().map(&f).collect::<Vec<R>>()))
            .collect();
        workers
            .into_iter()
            .flat_map(|worker| {
                worker
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            })
            .collect()
    })
}

/// Header plus ciphertext of `plain`.
fn seal(plain: &[u8], key: &[u8; 32]) -> Result<Vec<u8>, CacheError> {
    let mut nonce = [0u8; NONCE_LEN];
    rand::rngs::OsRng
        .try_fill_bytes(&mut nonce)
        .map_err(|e| CacheError::Random(e.to_string()))?;
    let mut header = Vec::with_capacity(HEADER_LEN + plain.len() + TAG_LEN);
    header.extend_from_slice(MAGIC);
    header.extend_from_slice(&FORMAT.to_le_bytes());
    header.extend_from_slice(&nonce);
    let cipher = XChaCha20Poly1305::new(key.into());
    let payload = Payload {
        msg: plain,
        aad: &header,
    };
    let sealed = cipher
        .encrypt(XNonce::from_slice(&nonce), payload)
        .map_err(|_| CacheError::Encode("encryption failed".to_owned()))?;
    header.extend_from_slice(&sealed);
    Ok(header)
}

/// The plaintext of a sealed file, after checking its header.
fn unseal(bytes: &[u8], key: &[u8; 32]) -> Result<Vec<u8>, Unusable> {
    if bytes.len() < HEADER_LEN + TAG_LEN {
        return Err(if bytes.len() >= 4 && &bytes[..4] != MAGIC {
            Unusable::BadMagic
        } else {
            Unusable::Truncated(bytes.len())
        });
    }
    let (header, sealed) = bytes.split_at(HEADER_LEN);
    if &header[..4] != MAGIC {
        return Err(Unusable::BadMagic);
    }
    let mut version = [0u8; 4];
    version.copy_from_slice(&header[4..8]);
    let version = u32::from_le_bytes(version);
    if version != FORMAT {
        return Err(Unusable::UnknownVersion(version));
    }
    let cipher = XChaCha20Poly1305::new(key.into());
    let payload = Payload {
        msg: sealed,
        aad: header,
    };
    cipher
        .decrypt(XNonce::from_slice(&header[8..HEADER_LEN]), payload)
        .map_err(|_| Unusable::Undecryptable)
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

/// Writes `bytes` to a new owner-only file and flushes it to disk.
fn write_temp(temp: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(temp)?;
    file.write_all(bytes)?;
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

/// Users in the cache are written and read with the crate's strict (derived) form: the
/// lenient reading that providers' answers need normalises every user through a
/// `serde_json::Value`, which is several times slower, and the cache only ever holds what
/// this module wrote.
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn header_is_authenticated() {
        let key = [7u8; 32];
        let mut sealed = seal(b"hello", &key).unwrap();
        assert_eq!(unseal(&sealed, &key).unwrap(), b"hello");
        sealed[10] ^= 1;
        assert_eq!(
            unseal(&sealed, &key),
            Err(Unusable::Undecryptable),
            "a changed nonce must fail authentication"
        );
    }
}
