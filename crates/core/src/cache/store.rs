//! A profile's cache file with its key: opened (the snapshot, or an empty one and why),
//! saved, removed, and read while the server cannot be reached.

use std::path::{Path, PathBuf};

use time::OffsetDateTime;
use zeroize::Zeroizing;

use super::{Opened, Snapshot};
use crate::error::Error;
use crate::search::Index;

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
        match super::open(&self.path, &self.key) {
            Opened::Fresh(snapshot) => (*snapshot, OpenOutcome::Fresh),
            Opened::Missing => (Snapshot::empty(now), OpenOutcome::Missing),
            Opened::Discarded { reason } => {
                (Snapshot::empty(now), OpenOutcome::Discarded { reason })
            }
        }
    }

    /// The cached snapshot with the search index stored beside it, ready for
    /// [`Index::search`] without rebuilding: the fast way to the first window of the
    /// user table. When there is no usable cache: an empty snapshot (as [`Store::open`])
    /// and an empty index.
    pub fn open_indexed(&self, now: OffsetDateTime) -> (Snapshot, Index, OpenOutcome) {
        match super::read_indexed(&self.path, &self.key) {
            Ok(Some((snapshot, index))) => (snapshot, index, OpenOutcome::Fresh),
            Ok(None) => (Snapshot::empty(now), Index::default(), OpenOutcome::Missing),
            Err(error) => (
                Snapshot::empty(now),
                Index::default(),
                OpenOutcome::Discarded {
                    reason: super::discarded(&error),
                },
            ),
        }
    }

    /// Builds the search index of `snapshot`, encrypts both and atomically replaces the
    /// cache file with them.
    ///
    /// # Errors
    ///
    /// [`Error::Storage`] when it cannot be written; the previous file is then intact.
    pub fn save(&self, snapshot: &Snapshot) -> Result<(), Error> {
        Ok(super::write(&self.path, snapshot, &self.key)?)
    }

    /// [`Store::save`] with the index already built for `snapshot` (the console's), which
    /// is then stored as it is rather than built again.
    ///
    /// # Errors
    ///
    /// As [`Store::save`].
    pub fn save_indexed(
        &self,
        snapshot: &Snapshot,
        index: &crate::search::Index,
    ) -> Result<(), Error> {
        Ok(super::write_indexed(
            &self.path, snapshot, index, &self.key,
        )?)
    }

    /// Changes the copy on disk with `edit` after a write the server answered, and saves
    /// it when `edit` says it changed something. Only an existing, readable copy is
    /// changed: a write never starts one (only a sync makes a whole copy), so a missing
    /// copy is left missing.
    ///
    /// # Errors
    ///
    /// [`Error::Storage`] when the copy could not be read (saving would leave a "copy"
    /// holding only this change; the next sync rebuilds it) or written.
    pub fn update(
        &self,
        now: OffsetDateTime,
        edit: impl FnOnce(&mut Snapshot) -> bool,
    ) -> Result<(), Error> {
        let (mut snapshot, outcome) = self.open(now);
        match outcome {
            OpenOutcome::Fresh => {}
            OpenOutcome::Missing => return Ok(()),
            OpenOutcome::Discarded { reason } => {
                return Err(Error::Storage {
                    message: format!("It could not be read ({reason}); the next sync rebuilds it."),
                });
            }
        }
        if edit(&mut snapshot) {
            self.save(&snapshot)?;
        }
        Ok(())
    }

    /// Deletes the cache file (sign-out, profile removal).
    ///
    /// # Errors
    ///
    /// [`Error::Storage`] when the file exists and cannot be deleted.
    pub fn remove(&self) -> Result<(), Error> {
        Ok(super::remove(&self.path)?)
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
