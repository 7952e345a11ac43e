//! SQLite storage: one database file in the data directory, in WAL mode, opened once as a
//! writer and a few readers. Blocking SQLite calls run on tokio's blocking pool. The
//! server key (see [`crate::sealed`]) is loaded beside it.

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use rusqlite::{Connection, OpenFlags, Transaction};

use crate::error::{AppError, AppResult};
use crate::sealed::ServerKey;

pub(crate) mod walks;

pub use walks::Walks;

/// The schema, applied in order; `PRAGMA user_version` records how many have run. Each
/// migration is a list of SQL batches, so modules can own the tables they define.
fn migrations() -> [&'static [&'static str]; 8] {
    [
        &[BASE],
        &[
            crate::lifecycle::SCHEMA,
            crate::responsibilities::SCHEMA,
            crate::policy::SCHEMA,
            crate::links::SCHEMA,
            crate::outbox::SCHEMA,
            crate::mfa::SCHEMA,
            crate::audit::SCHEMA,
        ],
        &[crate::auth::session::SCHEMA, crate::mfa::ATTEMPTS_SCHEMA],
        &[crate::mfa::SYSTEM_ADMINS_SCHEMA],
        &[crate::orgs::SCHEMA, crate::audit::PURGE_SCHEMA],
        &[
            crate::lifecycle::invite::SCHEMA,
            crate::outbox::CHANNEL_SCHEMA,
        ],
        &[crate::scim::photo::SCHEMA],
        &[crate::scim::store::EXTENSIONS_SCHEMA],
    ]
}

const BASE: &str = r#"
CREATE TABLE orgs (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    settings TEXT NOT NULL DEFAULT '{}',
    created TEXT NOT NULL
);

-- One row per user. `doc` is the canonical SCIM JSON without id, meta, groups and password;
-- the other columns are copies of what queries filter, sort or keep unique on, folded to
-- lower case where SCIM compares case-insensitively.
CREATE TABLE users (
    seq INTEGER PRIMARY KEY,
    org TEXT NOT NULL REFERENCES orgs(id),
    id TEXT NOT NULL,
    doc TEXT NOT NULL,
    version INTEGER NOT NULL,
    created TEXT NOT NULL,
    modified TEXT NOT NULL,
    user_name TEXT NOT NULL,
    external_id TEXT,
    family_name TEXT,
    given_name TEXT,
    display_name TEXT,
    role TEXT,
    password_hash TEXT,
    UNIQUE (org, id),
    UNIQUE (org, user_name)
);
CREATE INDEX users_family_name ON users (org, family_name);
CREATE INDEX users_given_name ON users (org, given_name);
CREATE INDEX users_display_name ON users (org, display_name);
CREATE INDEX users_external_id ON users (org, external_id);
CREATE INDEX users_modified ON users (org, modified);

-- Every email value of every user, folded: emails are unique within an organisation.
CREATE TABLE user_emails (
    org TEXT NOT NULL,
    user_seq INTEGER NOT NULL REFERENCES users(seq) ON DELETE CASCADE,
    email TEXT NOT NULL,
    UNIQUE (org, email)
);
CREATE INDEX user_emails_user ON user_emails (user_seq);

CREATE TABLE groups (
    seq INTEGER PRIMARY KEY,
    org TEXT NOT NULL REFERENCES orgs(id),
    id TEXT NOT NULL,
    doc TEXT NOT NULL,
    version INTEGER NOT NULL,
    created TEXT NOT NULL,
    modified TEXT NOT NULL,
    display_name TEXT NOT NULL,
    external_id TEXT,
    UNIQUE (org, id)
);
CREATE INDEX groups_display_name ON groups (org, display_name);
CREATE INDEX groups_modified ON groups (org, modified);

-- Direct members of groups, kept beside the group's doc so a user's `groups` can be read.
CREATE TABLE group_members (
    org TEXT NOT NULL,
    group_seq INTEGER NOT NULL REFERENCES groups(seq) ON DELETE CASCADE,
    member_id TEXT NOT NULL,
    member_type TEXT NOT NULL,
    PRIMARY KEY (group_seq, member_id)
);
CREATE INDEX group_members_member ON group_members (org, member_id);

-- People who operate the server itself and reach every organisation.
CREATE TABLE system_admins (
    id TEXT PRIMARY KEY,
    email TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    created TEXT NOT NULL
);

-- A sign-in: access and refresh tokens hang off a session; revoking it cuts them all.
CREATE TABLE sessions (
    id TEXT PRIMARY KEY,
    org TEXT,
    user_id TEXT,
    system_admin_id TEXT,
    created TEXT NOT NULL,
    revoked INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX sessions_user ON sessions (org, user_id);

-- Bearer tokens, stored as SHA-256 hashes only. kind: access, refresh or api.
-- `id` names API tokens (NULL for session tokens); `rotated` is set when a refresh token
-- has been exchanged: the row stays until it expires so that its reuse can be detected.
-- Times are fixed-width RFC 3339 UTC seconds (`2024-05-01T12:00:00Z`), so they sort as text.
CREATE TABLE tokens (
    hash TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    id TEXT UNIQUE,
    session_id TEXT REFERENCES sessions(id) ON DELETE CASCADE,
    org TEXT,
    user_id TEXT,
    system_admin_id TEXT,
    name TEXT,
    created TEXT NOT NULL,
    expires TEXT,
    rotated TEXT
);
CREATE INDEX tokens_session ON tokens (session_id);
CREATE INDEX tokens_user ON tokens (org, user_id);
CREATE INDEX tokens_expires ON tokens (expires);
"#;

/// The database: one writer connection and a small set of reader connections.
#[derive(Debug, Clone)]
pub struct Db {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    writer: Mutex<Connection>,
    readers: Vec<Mutex<Reader>>,
    next_reader: AtomicUsize,
    key: Arc<ServerKey>,
}

/// A read-only connection and what it remembers of the lists it serves.
#[derive(Debug)]
struct Reader {
    conn: Connection,
    walks: Walks,
}

/// Why the database could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// SQLite refused.
    #[error("cannot open the database {path}: {source}")]
    Sqlite {
        /// The file.
        path: String,
        /// SQLite's error.
        source: rusqlite::Error,
    },
    /// The server key could not be read or made.
    #[error(transparent)]
    Key(#[from] crate::sealed::KeyError),
    /// The data directory could not be made.
    #[error("cannot create the data directory {path}: {source}")]
    Dir {
        /// The directory.
        path: String,
        /// The OS error.
        source: std::io::Error,
    },
}

const READERS: usize = 4;

impl Db {
    /// Opens (creating if needed) `muster.db` in `dir` and brings its schema up to date.
    pub fn open(dir: &Path) -> Result<Self, OpenError> {
        let path = dir.join("muster.db");
        private_files(dir, &path).map_err(|source| OpenError::Dir {
            path: dir.display().to_string(),
            source,
        })?;
        let sqlite = |source| OpenError::Sqlite {
            path: path.display().to_string(),
            source,
        };
        let key = Arc::new(ServerKey::load_or_create(dir)?);
        let mut writer = Connection::open(&path).map_err(sqlite)?;
        configure(&writer).map_err(sqlite)?;
        migrate(&mut writer).map_err(sqlite)?;
        crate::mfa::seal_plain_secrets(&mut writer, &key).map_err(sqlite)?;
        let mut readers = Vec::with_capacity(READERS);
        for _ in 0..READERS {
            let reader = Connection::open_with_flags(
                &path,
                OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
            )
            .map_err(sqlite)?;
            configure(&reader).map_err(sqlite)?;
            readers.push(Mutex::new(Reader {
                conn: reader,
                walks: Walks::default(),
            }));
        }
        Ok(Self {
            inner: Arc::new(Inner {
                writer: Mutex::new(writer),
                readers,
                next_reader: AtomicUsize::new(0),
                key,
            }),
        })
    }

    /// The key secrets are sealed with (see [`crate::sealed`]).
    pub fn key(&self) -> Arc<ServerKey> {
        self.inner.key.clone()
    }

    /// Runs `f` on a reader connection, off the async runtime.
    pub async fn read<T, F>(&self, f: F) -> AppResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> AppResult<T> + Send + 'static,
    {
        let inner = self.inner.clone();
        run_blocking(move || {
            let index = inner.next_reader.fetch_add(1, Ordering::Relaxed) % inner.readers.len();
            let reader = lock(&inner.readers[index])?;
            f(&reader.conn)
        })
        .await
    }

    /// Runs `f` on a reader connection with that reader's [`Walks`], off the async
    /// runtime: for lists, whose `totalResults` stays counted and whose page ends stay
    /// known while nothing changes.
    pub async fn read_walking<T, F>(&self, f: F) -> AppResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection, &mut Walks) -> AppResult<T> + Send + 'static,
    {
        let inner = self.inner.clone();
        run_blocking(move || {
            let index = inner.next_reader.fetch_add(1, Ordering::Relaxed) % inner.readers.len();
            let mut reader = lock(&inner.readers[index])?;
            let Reader { conn, walks } = &mut *reader;
            f(conn, walks)
        })
        .await
    }

    /// Runs `f` in one write transaction, committed when `f` returns `Ok`.
    pub async fn write<T, F>(&self, f: F) -> AppResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Transaction<'_>) -> AppResult<T> + Send + 'static,
    {
        let inner = self.inner.clone();
        run_blocking(move || {
            let mut conn = lock(&inner.writer)?;
            let tx = conn.transaction()?;
            let value = f(&tx)?;
            tx.commit()?;
            Ok(value)
        })
        .await
    }

    /// Runs `f` in a write transaction synchronously: for start-up work such as seeding.
    pub fn write_blocking<T>(
        &self,
        f: impl FnOnce(&Transaction<'_>) -> AppResult<T>,
    ) -> AppResult<T> {
        let mut conn = lock(&self.inner.writer)?;
        let tx = conn.transaction()?;
        let value = f(&tx)?;
        tx.commit()?;
        Ok(value)
    }
}

fn lock<T>(mutex: &Mutex<T>) -> AppResult<std::sync::MutexGuard<'_, T>> {
    mutex
        .lock()
        .map_err(|_| AppError::internal("a database connection was poisoned"))
}

async fn run_blocking<T: Send + 'static>(
    f: impl FnOnce() -> AppResult<T> + Send + 'static,
) -> AppResult<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(AppError::internal)?
}

fn configure(conn: &Connection) -> rusqlite::Result<()> {
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    conn.pragma_update(None, "foreign_keys", true)?;
    // Reads go through memory-mapped pages rather than a system call per page.
    conn.pragma_update(None, "mmap_size", 512i64 * 1024 * 1024)?;
    if !conn.is_readonly(rusqlite::MAIN_DB)? {
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
    }
    Ok(())
}

fn migrate(conn: &mut Connection) -> rusqlite::Result<()> {
    let done: i64 = conn.pragma_query_value(None, "user_version", |row| row.get(0))?;
    let done = usize::try_from(done).unwrap_or(0);
    for (index, batches) in migrations().iter().enumerate().skip(done) {
        let tx = conn.transaction()?;
        for sql in *batches {
            tx.execute_batch(sql)?;
        }
        tx.pragma_update(
            None,
            "user_version",
            i64::try_from(index + 1).unwrap_or(i64::MAX),
        )?;
        tx.commit()?;
    }
    Ok(())
}

/// The data directory, when it is created, for this user only (0700), and the database
/// in it likewise (0600, tightened if it exists: it holds password hashes, token hashes
/// and the audit log); SQLite's `-wal` and `-shm` files take the database's mode. A
/// directory that exists is left as it is (it may be shared, like /srv), with a warning
/// when others can read it.
#[cfg(unix)]
fn private_files(dir: &Path, db: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
    if dir.is_dir() {
        let mode = std::fs::metadata(dir)?.permissions().mode();
        if mode & 0o077 != 0 {
            tracing::warn!(
                dir = %dir.display(),
                mode = format!("{:o}", mode & 0o777),
                "the data directory is open to other users; only muster.db is made private"
            );
        }
    } else {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)?;
    }
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o600)
        .open(db)?;
    std::fs::set_permissions(db, std::fs::Permissions::from_mode(0o600))
}

/// Elsewhere the directory is created; the OS's per-user profile folders are private.
#[cfg(not(unix))]
fn private_files(dir: &Path, _db: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)
}
