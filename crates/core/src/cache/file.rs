//! The file: its header entries, each segment sealed under its own nonce and opened
//! against the header, and atomic writes with crash left-overs cleaned up.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use chacha20poly1305::aead::{AeadInPlace, KeyInit};
use chacha20poly1305::{Tag, XChaCha20Poly1305, XNonce};
use rand::TryRngCore;

use super::codec;
use super::index_codec;
use super::load::parallel;
use super::wire;
use super::{
    CacheError, ENTRY_LEN, FIXED_HEADER_LEN, FORMAT, Head, Kind, MAGIC, NONCE_LEN, PackedUser,
    SEGMENT_ITEMS, Snapshot, TAG_LEN, Unusable,
};
use crate::search::Index;

/// Where a segment is and what it holds, from the file's header.
#[derive(Debug, Clone, Copy)]
pub(super) struct Entry {
    /// Its position among the segments (part of its nonce).
    pub(super) number: usize,
    pub(super) kind: Kind,
    /// Users or groups in it.
    pub(super) items: usize,
    /// Where its ciphertext starts in the file.
    pub(super) offset: u64,
    /// Its plaintext length (the tag follows).
    pub(super) len: usize,
}

/// An open cache file and its header, which every segment is checked against.
pub(super) struct Sealed<'a> {
    pub(super) file: &'a File,
    pub(super) header: Vec<u8>,
    pub(super) nonce: [u8; NONCE_LEN],
    pub(super) cipher: XChaCha20Poly1305,
}

impl Sealed<'_> {
    /// Reads segment `entry` into `buffer` and decrypts it there; its plaintext.
    pub(super) fn open<'b>(
        &self,
        entry: &Entry,
        buffer: &'b mut Vec<u8>,
    ) -> Result<&'b [u8], CacheError> {
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

/// The header of the file (the associated data of every segment) and its entries, after
/// checking magic, version and that the segments exactly fill the file.
pub(super) fn read_header(file: &File, size: u64) -> Result<(Vec<u8>, Vec<Entry>), CacheError> {
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
pub(super) fn version_or_truncated(fixed: &[u8; FIXED_HEADER_LEN], total: usize) -> Unusable {
    let version = u32::from_le_bytes([fixed[4], fixed[5], fixed[6], fixed[7]]);
    if version == FORMAT {
        Unusable::Truncated(total)
    } else {
        Unusable::UnknownVersion(version)
    }
}

/// Fills `buffer` from `file` at `offset`, without moving a shared file position (so
/// that every core can read its own segments).
pub(super) fn read_at(file: &File, buffer: &mut [u8], offset: u64) -> io::Result<()> {
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

pub(super) fn malformed(what: &str) -> CacheError {
    CacheError::Unusable(Unusable::Malformed(what.to_owned()))
}

/// The nonce of segment `number`: the file's nonce with the number XORed into its end.
pub(super) fn segment_nonce(nonce: &[u8; NONCE_LEN], number: usize) -> XNonce {
    let mut nonce = *nonce;
    let number = u32::try_from(number).unwrap_or(u32::MAX).to_le_bytes();
    for (byte, mask) in nonce[NONCE_LEN - 4..].iter_mut().zip(number) {
        *byte ^= mask;
    }
    XNonce::from(nonce)
}

/// A plaintext segment: what it holds, how many users or groups, its bytes.
pub(super) type Plain = (Kind, usize, Vec<u8>);

/// A sealed segment: its ciphertext and its tag.
pub(super) type SealedSegment = (Vec<u8>, Tag);

/// A file being sealed: its header, which every segment's tag covers, and the cipher.
pub(super) struct Sealer {
    header: Vec<u8>,
    nonce: [u8; NONCE_LEN],
    cipher: XChaCha20Poly1305,
}

impl Sealer {
    /// The header of a file of `entries` (kind, items, plaintext length, in file order)
    /// under a fresh random nonce.
    pub(super) fn new(
        entries: &[(Kind, usize, usize)],
        key: &[u8; 32],
    ) -> Result<Self, CacheError> {
        let mut nonce = [0u8; NONCE_LEN];
        rand::rngs::OsRng
            .try_fill_bytes(&mut nonce)
            .map_err(|e| CacheError::Random(e.to_string()))?;
        let count = u32::try_from(entries.len())
            .map_err(|_| CacheError::Encode("too many segments".to_owned()))?;
        let mut header = Vec::with_capacity(FIXED_HEADER_LEN + ENTRY_LEN * entries.len());
        header.extend_from_slice(MAGIC);
        header.extend_from_slice(&FORMAT.to_le_bytes());
        header.extend_from_slice(&nonce);
        header.extend_from_slice(&count.to_le_bytes());
        for (kind, items, len) in entries {
            let items = u32::try_from(*items)
                .map_err(|_| CacheError::Encode("too many items in a segment".to_owned()))?;
            header.push(*kind as u8);
            header.extend_from_slice(&items.to_le_bytes());
            header.extend_from_slice(&(*len as u64).to_le_bytes());
        }
        Ok(Self {
            header,
            nonce,
            cipher: XChaCha20Poly1305::new(key.into()),
        })
    }

    pub(super) fn header(&self) -> &[u8] {
        &self.header
    }

    /// Segment `number`, encrypted in place, and its tag (written after it; kept apart so
    /// that a full buffer is not grown, and so copied, for 16 more bytes).
    pub(super) fn seal(
        &self,
        number: usize,
        mut plain: Vec<u8>,
    ) -> Result<SealedSegment, CacheError> {
        let tag = self
            .cipher
            .encrypt_in_place_detached(
                &segment_nonce(&self.nonce, number),
                &self.header,
                &mut plain,
            )
            .map_err(|_| CacheError::Encode("encryption failed".to_owned()))?;
        Ok((plain, tag))
    }

    /// Each of `segments` sealed on all cores, numbered from `first`.
    pub(super) fn seal_all(
        &self,
        first: usize,
        segments: Vec<Vec<u8>>,
    ) -> Result<Vec<SealedSegment>, CacheError> {
        let tasks: Vec<_> = segments
            .into_iter()
            .enumerate()
            .map(|(i, plain)| (first + i, plain))
            .collect();
        parallel(tasks, || (), |(), (number, plain)| self.seal(number, plain))
            .into_iter()
            .collect()
    }
}

pub(super) fn parent_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_owned(),
        _ => PathBuf::from("."),
    }
}

/// `.<name>.<random>.tmp` beside `path`.
pub(super) fn temp_path(path: &Path) -> Result<PathBuf, CacheError> {
    let name = file_name(path)?;
    let mut random = [0u8; 8];
    rand::rngs::OsRng
        .try_fill_bytes(&mut random)
        .map_err(|e| CacheError::Random(e.to_string()))?;
    let suffix = u64::from_le_bytes(random);
    Ok(parent_dir(path).join(format!(".{name}.{suffix:016x}.tmp")))
}

pub(super) fn file_name(path: &Path) -> Result<String, CacheError> {
    path.file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .ok_or_else(|| {
            CacheError::Io(io::Error::new(
                io::ErrorKind::InvalidInput,
                "the cache path has no file name",
            ))
        })
}

/// Creates `temp` (private to its owner), lets `write` fill it, and flushes it to disk.
pub(super) fn write_temp(
    temp: &Path,
    write: impl FnOnce(&mut File) -> Result<(), CacheError>,
) -> Result<(), CacheError> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(temp)?;
    write(&mut file)?;
    Ok(file.sync_all()?)
}

/// Writes the whole file to `file`: the header, the `sealed` segments, then the users
/// (numbered after them), encoded and sealed a core's worth of segments at a time and
/// let go once written, so that the file's largest part is never all in memory.
pub(super) fn write_segments(
    file: &mut File,
    sealer: &Sealer,
    sealed: Vec<SealedSegment>,
    users: &[&[PackedUser]],
) -> Result<(), CacheError> {
    file.write_all(sealer.header())?;
    let first = sealed.len();
    for (ciphertext, tag) in sealed {
        file.write_all(&ciphertext)?;
        file.write_all(&tag)?;
    }
    let threads = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    for (batch, chunks) in users.chunks(threads).enumerate() {
        let tasks: Vec<_> = chunks
            .iter()
            .enumerate()
            .map(|(i, chunk)| (first + batch * threads + i, *chunk))
            .collect();
        let done = parallel(
            tasks,
            || (),
            |(), (number, chunk)| sealer.seal(number, codec::users_segment(chunk)),
        );
        for segment in done {
            let (ciphertext, tag) = segment?;
            file.write_all(&ciphertext)?;
            file.write_all(&tag)?;
        }
    }
    Ok(())
}

/// Makes a rename in `dir` durable (a no-op where directories cannot be opened).
pub(super) fn sync_dir(dir: &Path) -> io::Result<()> {
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
pub(super) fn remove_stale_temps(path: &Path, older_than: Duration) {
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

/// The plaintext segments of `snapshot` but its users, and of its index, in file order;
/// `built` is the snapshot's index when the caller has it already (else it is built
/// here, while the groups are encoded). The users follow them in the file, encoded as
/// they are written ([`write_segments`]).
pub(super) fn encode(snapshot: &Snapshot, built: Option<&Index>) -> Result<Vec<Plain>, CacheError> {
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
    for chunk in snapshot.groups.chunks(SEGMENT_ITEMS) {
        tasks.push(Box::new(move || {
            wire::segment(chunk, codec::group).map(|bytes| (Kind::Groups, chunk.len(), bytes))
        }));
    }
    // The index is built (on its own threads) while the groups are encoded, unless given.
    let (mut built_here, encoded) = std::thread::scope(|scope| {
        let index = scope.spawn(|| built.is_none().then(|| Index::of_packed(&snapshot.users)));
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
    let index = match built {
        Some(index) => index,
        // Built above when not given.
        None => built_here.get_or_insert_with(|| Index::of_packed(&snapshot.users)),
    };
    segments.extend(index_codec::index(index.parts()));
    Ok(segments)
}
