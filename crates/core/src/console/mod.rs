//! [`Console`]: the state behind the desktop app's admin console, so the app's commands
//! stay one call deep and everything here is tested without a window.
//!
//! It owns the profiles, the open profile's session (kept in the OS keychain), its
//! encrypted offline copy with the search index over it, and whether the server is
//! reachable. Reads come from the offline copy (instant, and available offline); writes go
//! to the server and then update the copy from the server's answer. When the server cannot
//! be reached the console says so, keeps serving reads, and refuses writes with the
//! reason; the next request that gets through brings it back online.
//!
//! Locking: the state sits behind one async mutex that is never held across a network
//! request. The cached data is an immutable `Arc` that searches clone; a sync or a write
//! builds the next one and swaps it in, so a running sync never blocks the table.
//!
//! One `impl Console` per concern: `profiles` (adding and opening them, with their
//! offline copy), `session` (sign-in, two-factor, refresh, sign-out, and
//! `note_and_save_session`, which every request's result passes through), `orgs` (a
//! system admin's organisations), `reads` (sync, search, facets, one user, the audit
//! log), `writes` (users and account actions), [`account`] (the signed-in person's own
//! password, two-factor and sessions), [`groups`], [`bulk`], `transfer` (CSV import and
//! export), `review`, [`tokens`] (the organisation's API tokens) and [`settings`] (its settings),
//! both for admins only. `status` says what the console shows about itself, `input`
//! checks and maps the user form, `store` names and opens the copy's files, and [`view`]
//! holds the types that cross to the app.

pub mod account;
pub mod bulk;
pub mod groups;
mod input;
pub mod orgs;
pub mod photos;
mod profiles;
mod reads;
mod review;
mod session;
pub mod settings;
mod status;
mod store;
pub mod tokens;
mod transfer;
pub mod view;
mod writes;

use std::path::PathBuf;
use std::sync::Arc;

use time::OffsetDateTime;
use tokio::sync::Mutex;

use crate::auth::Account;
use crate::cache::Snapshot;
use crate::cache::Store;
use crate::client::{Client, MfaPending};
use crate::clock::Clock;
use crate::connection::ServerKind;
use crate::discovery::Capabilities;
use crate::error::{Error, Notice};
use crate::profiles::{Profile, Profiles};
use crate::search::Index;
use crate::secret::Secret;
use crate::transport::TransportConfig;
use crate::vault::Vault;

pub use review::{DEFAULT_DORMANT_DAYS, MAX_DORMANT_DAYS, ReviewCount, ReviewOptions, ReviewView};
use status::{capabilities_of, role_read_only, status_of};
pub use store::{CopyOf, cache_path, copy_path, open_store};
use view::StatusView;

/// The most rows one window returns.
pub const MAX_WINDOW: u32 = 500;

/// Where the console keeps its files.
#[derive(Debug, Clone)]
pub struct Dirs {
    /// Profiles and settings.
    pub config: PathBuf,
    /// Offline copies.
    pub cache: PathBuf,
}

impl Dirs {
    /// The OS's config and cache dirs for Muster.
    ///
    /// # Errors
    ///
    /// [`Error::Storage`] when the OS has no home directory to put them in.
    pub fn from_os() -> Result<Self, Error> {
        let dirs = directories::ProjectDirs::from("app", "Muster", "Muster").ok_or_else(|| {
            Error::Storage {
                message: "Cannot find the config and cache directories (no home directory?)."
                    .to_owned(),
            }
        })?;
        Ok(Self {
            config: dirs.config_dir().to_path_buf(),
            cache: dirs.cache_dir().to_path_buf(),
        })
    }
}

/// The cached data and its index, swapped whole when it changes.
#[derive(Debug)]
struct Data {
    snapshot: Snapshot,
    index: Index,
}

impl Data {
    fn new(snapshot: Snapshot) -> Arc<Self> {
        let index = Index::of_packed(&snapshot.users);
        Arc::new(Self { snapshot, index })
    }

    /// The data of `snapshot`, a working copy of `before`'s snapshot, with its index:
    /// `before`'s brought up to date when only a few users changed (a write, a quiet
    /// sync), else built afresh; once, for the console and the file.
    fn indexed(before: &Data, snapshot: Snapshot) -> Arc<Self> {
        let index = before
            .index
            .updated(&before.snapshot.users, &snapshot.users)
            .unwrap_or_else(|| Index::of_packed(&snapshot.users));
        Arc::new(Self { snapshot, index })
    }

    /// [`indexed`](Self::indexed), and the result of saving it to `store` with the same
    /// index.
    fn saved(
        before: &Data,
        snapshot: Snapshot,
        store: Option<&Store>,
    ) -> (Arc<Self>, Option<Result<(), Error>>) {
        let data = Self::indexed(before, snapshot);
        let saved = store.map(|store| store.save_indexed(&data.snapshot, &data.index));
        (data, saved)
    }

    fn empty() -> Arc<Self> {
        Self::new(Snapshot::empty(OffsetDateTime::UNIX_EPOCH))
    }

    fn has_data(&self) -> bool {
        self.snapshot.sync.last_full_sync.is_some() || !self.snapshot.users.is_empty()
    }
}

/// The open profile.
#[derive(Debug)]
struct Active {
    profile: Profile,
    /// The organisation shown; a system admin may switch away from the profile's.
    org: Option<String>,
    /// The offline copy's file, when one is kept.
    store: Option<Arc<Store>>,
    /// The offline copy in memory with its index.
    data: Arc<Data>,
    session: Session,
    link: Link,
    notices: Notices,
}

/// Who is signed in, and how far the sign-in has got.
#[derive(Debug, Default)]
struct Session {
    client: Option<Client>,
    account: Option<Account>,
    /// A password sign-in waiting for its two-factor code.
    pending_mfa: Option<Arc<MfaPending>>,
    /// The server asks for a new password before anything else.
    must_change_password: bool,
    /// The server asks this admin to set up two-factor before anything else.
    mfa_enrollment_required: bool,
    /// The access token the keychain is known to hold, to tell when the client's
    /// session has moved on (a refresh rotates both tokens) and must be saved again.
    kept: Option<Secret>,
    /// The access token last offered to the keychain, so a keychain that refused it is
    /// not asked again on every request, only when the session changes or on
    /// [`Console::refresh`].
    offered: Option<Secret>,
    /// Photos read this session.
    photos: photos::PhotoMemory,
}

/// Whether the server could be reached at the last request, and if not, why.
#[derive(Debug)]
struct Link {
    online: bool,
    offline_reason: Option<Notice>,
}

impl Default for Link {
    /// Online until a request says otherwise.
    fn default() -> Self {
        Self {
            online: true,
            offline_reason: None,
        }
    }
}

/// What the console has to tell about itself beside the data.
#[derive(Debug, Default)]
struct Notices {
    /// About the offline copy: not kept, discarded, or not saved.
    cache: Option<Notice>,
    /// About the session: kept for this session only, or ended.
    session: Option<Notice>,
    /// What the last sync could not read of what the server sent.
    sync: Option<Notice>,
}

impl Active {
    /// What the provider supported when the copy last asked.
    fn capabilities(&self) -> Option<&Capabilities> {
        self.data.snapshot.capabilities.as_ref()
    }
}

#[derive(Debug)]
struct State {
    profiles: Profiles,
    active: Option<Active>,
}

/// The desktop console's engine. Cheap to share (`Arc<Console>`); every method takes
/// `&self`.
#[derive(Debug)]
pub struct Console {
    dirs: Dirs,
    vault: Vault,
    transport: TransportConfig,
    state: Mutex<State>,
    /// Syncs run one at a time.
    sync_gate: Mutex<()>,
    /// Held while a sync's copy is put on show and written to its file, so that quitting
    /// can wait for the write ([`Console::saving`], [`Console::settled`]).
    save_gate: Mutex<()>,
    /// What "now" is when deciding what depends on time.
    clock: Clock,
}

/// What a password sign-in led to.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct SignInOutcome {
    /// The console's state: `ready`, or `mfaRequired` for the code.
    pub status: StatusView,
}

impl Console {
    /// A console over the profiles in `dirs.config`, keeping secrets in `vault`.
    ///
    /// # Errors
    ///
    /// When the profiles file exists but cannot be read.
    pub fn new(dirs: Dirs, vault: Vault, transport: TransportConfig) -> Result<Self, Error> {
        let profiles = Profiles::load(&dirs.config)?;
        Ok(Self {
            dirs,
            vault,
            transport,
            state: Mutex::new(State {
                profiles,
                active: None,
            }),
            sync_gate: Mutex::new(()),
            save_gate: Mutex::new(()),
            clock: Clock::system(),
        })
    }

    /// The same console reading time from `clock` (tests move time with it).
    #[must_use]
    pub fn with_clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// The console's current time.
    pub fn now(&self) -> OffsetDateTime {
        self.clock.now()
    }

    /// The console's state.
    pub async fn status(&self) -> StatusView {
        status_of(&*self.state.lock().await)
    }

    async fn data(&self) -> Arc<Data> {
        let state = self.state.lock().await;
        state
            .active
            .as_ref()
            .map_or_else(Data::empty, |a| a.data.clone())
    }

    /// The keychain for `profile`'s secrets, bound to the origin its connection names:
    /// a secret stored for another server under the same profile name is never sent.
    fn vault_for(&self, profile: &Profile) -> Vault {
        let origin = profile
            .to_connection()
            .and_then(|connection| connection.origin())
            // A profile is checked when saved; one that no longer parses still binds to
            // what it says, so nothing stored for a real origin matches it.
            .unwrap_or_else(|_| format!("unchecked {}", profile.url));
        self.vault.bound_to(origin)
    }

    /// Whether the signed-in account is a system admin whom the server lets list deleted
    /// users.
    async fn lists_deleted(&self) -> bool {
        let state = self.state.lock().await;
        state.active.as_ref().is_some_and(|active| {
            active
                .session
                .account
                .as_ref()
                .is_some_and(|a| a.system_admin)
                && capabilities_of(active).list_deleted
        })
    }

    async fn my_id(&self) -> Option<String> {
        let state = self.state.lock().await;
        state
            .active
            .as_ref()
            .and_then(|a| a.session.account.as_ref())
            .map(|a| a.id.clone())
    }

    async fn client(&self) -> Result<Option<Client>, Error> {
        let state = self.state.lock().await;
        Ok(active(&state)?.session.client.clone())
    }

    async fn require_client(&self) -> Result<Client, Error> {
        self.client().await?.ok_or_else(not_signed_in)
    }

    /// The client, if changes are allowed: signed in, online (or trying to be), and not
    /// a read-only role.
    async fn writer(&self) -> Result<Client, Error> {
        let state = self.state.lock().await;
        let active = active(&state)?;
        let client = active.session.client.clone().ok_or_else(not_signed_in)?;
        if let Some(reason) = role_read_only(active) {
            return Err(Error::Forbidden { message: reason });
        }
        Ok(client)
    }

    fn connection(&self, active: &Active) -> Result<crate::connection::Connection, Error> {
        let mut connection = active.profile.to_connection()?;
        if let (Some(org), ServerKind::Muster { .. }) = (&active.org, &connection.kind) {
            connection.kind = ServerKind::Muster { org: org.clone() };
        }
        Ok(connection)
    }
}

fn org_of(client: &Client) -> Result<String, Error> {
    match &client.connection().kind {
        ServerKind::Muster { org } => Ok(org.clone()),
        ServerKind::Scim => Err(Error::Unsupported {
            message: "This is a Muster server feature; the provider is another SCIM service."
                .to_owned(),
        }),
    }
}

fn active(state: &State) -> Result<&Active, Error> {
    state.active.as_ref().ok_or_else(|| Error::NotFound {
        message: "Open a connection first.".to_owned(),
    })
}

fn active_mut(state: &mut State) -> Result<&mut Active, Error> {
    state.active.as_mut().ok_or_else(|| Error::NotFound {
        message: "Open a connection first.".to_owned(),
    })
}

fn not_signed_in() -> Error {
    Error::Unauthorized {
        message: "Sign in to do this.".to_owned(),
    }
}
