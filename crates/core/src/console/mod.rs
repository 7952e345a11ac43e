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

pub mod account;
pub mod bulk;
pub mod groups;
mod review;
mod store;
mod transfer;
pub mod view;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use muster_scim::message::{PatchOpKind, PatchOperation};
use muster_scim::user::{self as scim_user, Licence, MultiValue, Name, Role, ShopUser, User};
use reqwest::Method;
use serde_json::{Value, json};
use time::OffsetDateTime;
use tokio::sync::Mutex;

use crate::actions::{Action, ActionResult, Reassign, ResponsibilityKind};
use crate::auth::{Account, Credentials};
use crate::cache::Snapshot;
use crate::client::{Client, MfaPending, SignIn};
use crate::clock::Clock;
use crate::connection::ServerKind;
use crate::discovery::{Capabilities, Feature, Support};
use crate::error::{Error, Notice};
use crate::profiles::{Profile, ProfileKind, Profiles};
use crate::rules::{self, Offer, UserAction};
use crate::search::{Index, SearchQuery, SortKey};
use crate::secret::Secret;
use crate::sync::{self, OpenOutcome, Phase as SyncPhase, Store};
use crate::transport::TransportConfig;
use crate::vault::{SecretKind, Vault};

pub use review::{DEFAULT_DORMANT_DAYS, MAX_DORMANT_DAYS, ReviewCount, ReviewOptions, ReviewView};
pub use store::{CopyOf, cache_path, copy_path, open_store};
use view::{
    AccountView, AssigneeView, AuditEntryView, AuditPage, AuditQuery, EmailCheck, FacetValue,
    Facets, FeatureView, Handover, OrgView, OutcomeView, PasswordPolicyView, Phase, ProfileInput,
    ProfileView, ResponsibilityView, ServerKindView, SimpleAction, StatusView, SyncProgressView,
    UserDetail, UserInput, UserQuery, UserRow, UserWindow,
};

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
        let index = Index::build(&snapshot.users);
        Arc::new(Self { snapshot, index })
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
    client: Option<Client>,
    account: Option<Account>,
    must_change_password: bool,
    mfa_enrollment_required: bool,
    pending_mfa: Option<Arc<MfaPending>>,
    store: Option<Arc<Store>>,
    data: Arc<Data>,
    online: bool,
    offline_reason: Option<Notice>,
    cache_notice: Option<Notice>,
    /// The access token the keychain is known to hold, to tell when the client's
    /// session has moved on (a refresh rotates both tokens) and must be saved again.
    kept: Option<Secret>,
    /// The access token last offered to the keychain, so a keychain that refused it is
    /// not asked again on every request, only when the session changes or on
    /// [`Console::refresh`].
    offered: Option<Secret>,
    /// A notice about the session: kept for this session only, or ended.
    session_notice: Option<Notice>,
}

impl Active {
    fn capabilities(&self) -> Option<Capabilities> {
        serde_json::from_value(self.data.snapshot.capabilities.clone()).ok()
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

    // ---- profiles ------------------------------------------------------------------

    /// Every profile.
    pub async fn profiles(&self) -> Vec<ProfileView> {
        let state = self.state.lock().await;
        profile_views(&state.profiles)
    }

    /// Adds a profile, or changes the one named `input.name` when `editing`. A change of
    /// server, kind or organisation (another origin) ends the profile's saved sign-in and
    /// deletes its offline copies: credentials and data belong to the origin they came
    /// from (the app asks first).
    ///
    /// # Errors
    ///
    /// [`Error::Validation`] for a bad name, URL or organisation, or a name in use;
    /// [`Error::KeychainUnavailable`] when a moved profile's secrets cannot be deleted
    /// (nothing is changed then).
    pub async fn save_profile(
        &self,
        input: ProfileInput,
        editing: bool,
    ) -> Result<Vec<ProfileView>, Error> {
        let profile = match input.kind {
            ServerKindView::Muster => Profile::muster(
                input.name.trim(),
                input.url.trim(),
                input.org.unwrap_or_default().trim(),
            ),
            ServerKindView::Scim => Profile::scim(input.name.trim(), input.url.trim()),
        };
        let name = profile.name.clone();
        let mut state = self.state.lock().await;
        if editing {
            let origin = |p: &Profile| p.to_connection().and_then(|c| c.origin()).ok();
            let moved = state
                .profiles
                .get(&name)
                .is_some_and(|old| origin(old) != origin(&profile));
            if moved {
                profile.to_connection()?.validate()?;
                if state
                    .active
                    .as_ref()
                    .is_some_and(|active| active.profile.name == name)
                {
                    state.active = None;
                }
                store::remove_org_copies(&self.vault, &self.dirs.cache, &name)?;
                self.vault.delete_profile(&name)?;
                store::remove_cache(&self.dirs.cache, &name)?;
                self.remember_account(&name, None);
            }
            state.profiles.edit(profile)?;
        } else {
            state.profiles.add(profile)?;
        }
        if input.make_default {
            state.profiles.set_default(&name)?;
        }
        Ok(profile_views(&state.profiles))
    }

    /// Removes a profile with its keychain entries and offline copy (closing it first).
    ///
    /// # Errors
    ///
    /// [`Error::KeychainUnavailable`] when its secrets cannot be removed (the profile is
    /// then kept, so no secret is left behind unnamed); [`Error::NotFound`].
    pub async fn remove_profile(&self, name: &str) -> Result<Vec<ProfileView>, Error> {
        let mut state = self.state.lock().await;
        if state
            .active
            .as_ref()
            .is_some_and(|a| a.profile.name == name)
        {
            state.active = None;
        }
        store::remove_org_copies(&self.vault, &self.dirs.cache, name)?;
        state.profiles.remove(name, &self.vault)?;
        store::remove_cache(&self.dirs.cache, name)?;
        Ok(profile_views(&state.profiles))
    }

    /// Opens a profile: its offline copy at once, and its stored session if the keychain
    /// holds one (checked with the server in the background by [`Console::refresh`]).
    ///
    /// # Errors
    ///
    /// [`Error::NotFound`] for an unknown profile.
    pub async fn open_profile(&self, name: &str) -> Result<StatusView, Error> {
        let profile = {
            let state = self.state.lock().await;
            state
                .profiles
                .get(name)
                .cloned()
                .ok_or_else(|| Error::NotFound {
                    message: format!("There is no profile named '{name}'."),
                })?
        };
        let org = muster_org(&profile);
        let mut active = Active {
            org,
            profile,
            client: None,
            account: None,
            must_change_password: false,
            mfa_enrollment_required: false,
            pending_mfa: None,
            store: None,
            data: Data::empty(),
            online: true,
            offline_reason: None,
            cache_notice: None,
            kept: None,
            offered: None,
            session_notice: None,
        };
        self.load_cache(&mut active, false).await;
        match self
            .vault_for(&active.profile)
            .load_tokens(&active.profile.name)
        {
            Ok(Some(tokens)) => {
                let connection = self.connection(&active)?;
                active.kept = Some(tokens.access.clone());
                active.offered = active.kept.clone();
                active.client = Some(Client::from_tokens(connection, tokens, &self.transport)?);
                active.account = store::Settings::load(&self.dirs.config)
                    .accounts
                    .remove(&active.profile.name);
            }
            Ok(None) => {}
            Err(error) => {
                active.session_notice =
                    Some(error.notice("Your saved sign-in could not be read: sign in again."));
            }
        }
        let mut state = self.state.lock().await;
        state.active = Some(active);
        Ok(status_of(&state))
    }

    /// Reads the profile's offline copy (off the async threads: it is large).
    async fn load_cache(&self, active: &mut Active, create_key: bool) {
        let (profile, org) = copy_names(active);
        let cache_dir = self.dirs.cache.clone();
        let vault = self.vault_for(&active.profile);
        let now = self.clock.now();
        let loaded = tokio::task::spawn_blocking(move || {
            let copy = match &org {
                Some(org) => CopyOf::Org {
                    profile: &profile,
                    org,
                },
                None => CopyOf::Profile(&profile),
            };
            let store = open_store(&vault, &cache_dir, copy, create_key)?;
            Ok::<_, Error>(store.map(|store| {
                // The stored index: no rebuild on open.
                let (snapshot, index, outcome) = store.open_indexed(now);
                (store, Arc::new(Data { snapshot, index }), outcome)
            }))
        })
        .await;
        match loaded {
            Ok(Ok(Some((store, data, outcome)))) => {
                active.cache_notice = match outcome {
                    OpenOutcome::Discarded { reason } => Some(Notice {
                        text: "The offline copy could not be used; the next sync rebuilds it."
                            .to_owned(),
                        fix: None,
                        detail: Some(reason),
                    }),
                    OpenOutcome::Fresh | OpenOutcome::Missing => None,
                };
                active.store = Some(Arc::new(store));
                active.data = data;
            }
            Ok(Ok(None)) => {}
            Ok(Err(error)) => {
                active.cache_notice =
                    Some(error.notice(format!("No offline copy is kept: {}.", error.clause())));
            }
            Err(_) => {
                active.cache_notice = Some(Notice::new("The offline copy could not be read."));
            }
        }
    }

    // ---- session -------------------------------------------------------------------

    /// The console's state.
    pub async fn status(&self) -> StatusView {
        status_of(&*self.state.lock().await)
    }

    /// Signs in to the open (Muster) profile with email and password. With two-factor on,
    /// the status says `mfaRequired` and [`Console::complete_mfa`] finishes.
    ///
    /// # Errors
    ///
    /// [`Error::Unauthorized`] for wrong credentials, [`Error::Offline`]…
    pub async fn sign_in(&self, email: &str, password: Secret) -> Result<StatusView, Error> {
        let connection = {
            let state = self.state.lock().await;
            self.connection(active(&state)?)?
        };
        let signed = Client::sign_in(
            connection,
            Credentials::Password {
                email: email.trim().to_owned(),
                password,
            },
            &self.transport,
        )
        .await?;
        match signed {
            SignIn::Done(client) => self.signed_in(client).await,
            SignIn::MfaRequired(pending) => {
                let mut state = self.state.lock().await;
                active_mut(&mut state)?.pending_mfa = Some(Arc::new(pending));
                Ok(status_of(&state))
            }
        }
    }

    /// Finishes a sign-in with the authenticator's code. A wrong code can be typed again.
    ///
    /// # Errors
    ///
    /// [`Error::Unauthorized`] for a wrong or expired code.
    pub async fn complete_mfa(&self, code: &str) -> Result<StatusView, Error> {
        let pending = {
            let state = self.state.lock().await;
            active(&state)?
                .pending_mfa
                .clone()
                .ok_or_else(|| Error::Unauthorized {
                    message: "Sign in with your password first.".to_owned(),
                })?
        };
        let client = pending.complete(code.trim()).await?;
        self.signed_in(client).await
    }

    /// Connects the open profile with an API token (any SCIM provider, or a Muster API
    /// token).
    ///
    /// # Errors
    ///
    /// [`Error::Unauthorized`] when the server refuses the token.
    pub async fn sign_in_with_token(&self, token: Secret) -> Result<StatusView, Error> {
        let connection = {
            let state = self.state.lock().await;
            self.connection(active(&state)?)?
        };
        let signed =
            Client::sign_in(connection, Credentials::Token(token), &self.transport).await?;
        let SignIn::Done(client) = signed else {
            return Err(Error::protocol("a token sign-in asked for two-factor", b""));
        };
        // Prove the token works before keeping it.
        client.discover().await?;
        self.signed_in(client).await
    }

    async fn signed_in(&self, client: Client) -> Result<StatusView, Error> {
        let tokens = client.tokens().await;
        let mut state = self.state.lock().await;
        let active = active_mut(&mut state)?;
        let stored = self
            .vault_for(&active.profile)
            .store_tokens(&active.profile.name, &tokens);
        let keep_copy = stored.is_ok();
        active.account = client.account().cloned();
        self.remember_account(&active.profile.name, active.account.as_ref());
        active.must_change_password = client.must_change_password();
        active.mfa_enrollment_required = client.mfa_enrollment_required();
        active.client = Some(client);
        active.pending_mfa = None;
        active.online = true;
        active.offline_reason = None;
        active.offered = Some(tokens.access.clone());
        if let Err(error) = stored {
            active.kept = None;
            active.session_notice = Some(session_only(&error));
        } else {
            active.kept = Some(tokens.access);
            active.session_notice = None;
        }
        if keep_copy && active.store.is_none() {
            let mut loaded = std::mem::replace(active, placeholder(&active.profile));
            drop(state);
            self.load_cache(&mut loaded, true).await;
            let mut state = self.state.lock().await;
            state.active = Some(loaded);
            return Ok(status_of(&state));
        }
        Ok(status_of(&state))
    }

    /// Checks the stored session with the server and loads who is signed in; goes
    /// online or offline accordingly. Call it when the app starts and to retry.
    ///
    /// # Errors
    ///
    /// [`Error::Unauthorized`] when the session has ended (it is then forgotten).
    pub async fn refresh(&self) -> Result<StatusView, Error> {
        let Some(client) = self.client().await? else {
            return Ok(self.status().await);
        };
        match self.online(client.discover().await).await {
            Ok(fresh) => {
                self.renew_capabilities(&client, fresh).await;
                // The moment to offer a session the keychain refused earlier again.
                self.keep_session(true).await;
                Ok(self.status().await)
            }
            // Offline is a state, shown in the status, not a failure of this call.
            Err(Error::Offline { .. }) => Ok(self.status().await),
            Err(error) => Err(error),
        }
    }

    /// Signs out: ends the session at the server (when reachable), and wipes the
    /// profile's keychain entries and its offline copy.
    ///
    /// # Errors
    ///
    /// [`Error::KeychainUnavailable`] when the keychain entries cannot be removed.
    pub async fn sign_out(&self) -> Result<StatusView, Error> {
        let taken = {
            let mut state = self.state.lock().await;
            let active = active_mut(&mut state)?;
            let client = active.client.take();
            active.account = None;
            active.pending_mfa = None;
            active.data = Data::empty();
            (client, active.store.take(), active.profile.name.clone())
        };
        let (client, store, name) = taken;
        // The server ends the session; if it cannot be told, say so: the session stays
        // valid there until it expires.
        let unended = match client {
            Some(client) => client.sign_out().await.err(),
            None => None,
        };
        // A system admin's copies of the other organisations they opened go too; first,
        // while the open one's file still names its organisation (and so its key).
        store::remove_org_copies(&self.vault, &self.dirs.cache, &name)?;
        if let Some(store) = store {
            store.remove()?;
        }
        store::remove_cache(&self.dirs.cache, &name)?;
        self.vault.delete_profile(&name)?;
        self.remember_account(&name, None);
        if let Some(error) = unended {
            tracing::warn!(%error, detail = ?error.detail(), "the server could not be told of the sign-out");
            let mut state = self.state.lock().await;
            if let Some(active) = state.active.as_mut() {
                active.session_notice = Some(error.notice(
                    "Signed out on this computer, but the server could not be told: the \
                     session stays valid there until it expires.",
                ));
            }
        }
        Ok(self.status().await)
    }

    /// Organisations a system admin can open, favourites first.
    ///
    /// # Errors
    ///
    /// [`Error::Forbidden`] for anyone but a system admin.
    pub async fn organisations(&self, query: &str) -> Result<Vec<OrgView>, Error> {
        let client = self.require_client().await?;
        let url = format!("{}/admin/orgs", client.root());
        let answer = self
            .online(client.send(Method::GET, &url, &[], None, None, true).await)
            .await?;
        let value: Value = answer.json()?;
        let favourites = self.favourites().await;
        let needle = query.trim().to_lowercase();
        let mut orgs: Vec<OrgView> = value
            .get("orgs")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|org| {
                let id = text(org, "id")?;
                let name = text(org, "name").unwrap_or_else(|| id.clone());
                Some(OrgView {
                    favourite: favourites.contains(&id),
                    user_count: org
                        .get("userCount")
                        .and_then(Value::as_u64)
                        .map_or(0, view::clamp),
                    id,
                    name,
                })
            })
            .filter(|org| {
                needle.is_empty()
                    || org.id.to_lowercase().contains(&needle)
                    || org.name.to_lowercase().contains(&needle)
            })
            .collect();
        orgs.sort_by(|a, b| b.favourite.cmp(&a.favourite).then(a.name.cmp(&b.name)));
        Ok(orgs)
    }

    /// Stars or unstars an organisation for the open profile.
    ///
    /// # Errors
    ///
    /// [`Error::Storage`] when the settings cannot be saved.
    pub async fn set_favourite(&self, org: &str, favourite: bool) -> Result<(), Error> {
        let name = {
            let state = self.state.lock().await;
            active(&state)?.profile.name.clone()
        };
        let mut settings = store::Settings::load(&self.dirs.config);
        let list = settings.favourites.entry(name).or_default();
        list.retain(|o| o != org);
        if favourite {
            list.push(org.to_owned());
        }
        settings.save(&self.dirs.config)
    }

    /// Keeps who signed in to a profile (not a secret) so a stored session knows its
    /// role when the app restarts. Best effort: without it the role shows as unknown.
    fn remember_account(&self, profile: &str, account: Option<&Account>) {
        let mut settings = store::Settings::load(&self.dirs.config);
        match account {
            Some(account) => settings
                .accounts
                .insert(profile.to_owned(), account.clone()),
            None => settings.accounts.remove(profile),
        };
        if let Err(error) = settings.save(&self.dirs.config) {
            tracing::warn!(%error, "could not save the desktop settings");
        }
    }

    async fn favourites(&self) -> Vec<String> {
        let state = self.state.lock().await;
        let Some(active) = state.active.as_ref() else {
            return Vec::new();
        };
        store::Settings::load(&self.dirs.config)
            .favourites
            .remove(&active.profile.name)
            .unwrap_or_default()
    }

    /// Switches a system admin to another organisation of the same server: its own
    /// offline copy, the same session.
    ///
    /// # Errors
    ///
    /// [`Error::Forbidden`] unless signed in as a system admin.
    pub async fn switch_org(&self, org: &str) -> Result<StatusView, Error> {
        let mut active = {
            let mut state = self.state.lock().await;
            let current = active_mut(&mut state)?;
            if !current.account.as_ref().is_some_and(|a| a.system_admin) {
                return Err(Error::Forbidden {
                    message: "Only a system admin can switch organisations.".to_owned(),
                });
            }
            let Some(client) = current.client.clone() else {
                return Err(not_signed_in());
            };
            let mut next = placeholder(&current.profile);
            next.org = Some(org.trim().to_owned());
            next.account = current.account.clone();
            let connection = self.connection(&next)?;
            next.client = Some(Client::from_tokens(
                connection,
                client.tokens().await,
                &self.transport,
            )?);
            next
        };
        self.load_cache(&mut active, true).await;
        let mut state = self.state.lock().await;
        state.active = Some(active);
        Ok(status_of(&state))
    }

    // ---- sync and reads ------------------------------------------------------------

    /// Brings the offline copy up to date (the first time, everything, with progress).
    ///
    /// # Errors
    ///
    /// [`Error::Offline`] (the console goes offline, the copy is unchanged) and whatever
    /// else the server answers.
    pub async fn sync(
        &self,
        mut progress: impl FnMut(SyncProgressView),
    ) -> Result<StatusView, Error> {
        let _gate = self.sync_gate.lock().await;
        let (client, data, store, known) = {
            let state = self.state.lock().await;
            let active = active(&state)?;
            let client = active.client.clone().ok_or_else(not_signed_in)?;
            let known = active.capabilities();
            (client, active.data.clone(), active.store.clone(), known)
        };
        let mut snapshot = data.snapshot.clone();
        drop(data);
        // A system admin's copy keeps deleted users, to find and restore them, where the
        // server lists them: what the server offers is read afresh for each of their
        // syncs, and the first sync that includes deleted users pages through everything
        // (users deleted earlier changed nothing since). Other copies take the
        // capabilities of their first sync, renewed by `refresh`.
        let mut options = sync::SyncOptions::default();
        if client.account().is_some_and(|a| a.system_admin) {
            let fresh = self.online(client.discover().await).await?;
            options.include_deleted = fresh.list_deleted;
            options.force_full = fresh.list_deleted && !known.is_some_and(|k| k.list_deleted);
            options.discovered = true;
            snapshot.capabilities = encode_capabilities(&fresh)?;
        }
        let now = self.clock.now();
        let result = sync::sync_with(&client, &mut snapshot, now, &options, |p| {
            progress(SyncProgressView {
                phase: match p.phase {
                    SyncPhase::Users => "users",
                    SyncPhase::Groups => "groups",
                    SyncPhase::Changes => "changes",
                    SyncPhase::Ids => "ids",
                }
                .to_owned(),
                fetched: view::clamp(p.fetched),
                total: p.total.map(view::clamp),
            });
        })
        .await;
        self.online(result).await?;
        let (data, saved) = tokio::task::spawn_blocking(move || {
            let saved = store.as_ref().map(|store| store.save(&snapshot));
            (Data::new(snapshot), saved)
        })
        .await
        .map_err(|_| Error::Storage {
            message: "The synced data could not be indexed.".to_owned(),
        })?;
        let mut state = self.state.lock().await;
        let active = active_mut(&mut state)?;
        active.data = data;
        note_save(active, saved);
        Ok(status_of(&state))
    }

    /// A window of the users table from the offline copy.
    pub async fn search(&self, query: &UserQuery) -> UserWindow {
        let data = self.data().await;
        let search = to_search(query);
        let now = self.clock.now();
        let result = data.index.search(&search, now);
        UserWindow {
            total: view::clamp(result.total),
            hidden: view::clamp(result.hidden),
            offset: view::clamp(search.offset),
            rows: result
                .rows
                .iter()
                .filter_map(|&i| data.snapshot.users.get(i))
                .map(|user| UserRow::of(user, now))
                .collect(),
        }
    }

    /// The values the filter chips offer, with counts.
    pub async fn facets(&self) -> Facets {
        let data = self.data().await;
        facets_of(&data.snapshot.users, self.clock.now())
    }

    /// One user: fresh from the server when it answers, else from the offline copy.
    ///
    /// # Errors
    ///
    /// [`Error::NotFound`]; [`Error::Offline`] when offline and the user is not cached.
    pub async fn user(&self, id: &str) -> Result<UserDetail, Error> {
        if let Some(client) = self.client().await? {
            let fetched = match client.users().get(id).await {
                // A deleted user, for a system admin who can restore them.
                Err(Error::NotFound { .. }) if self.lists_deleted().await => {
                    client.users().get_including_deleted(id).await
                }
                other => other,
            };
            match self.online(fetched).await {
                Ok(got) => {
                    self.apply(&got.value).await;
                    return Ok(self.detail(&got.value, got.etag, false).await);
                }
                Err(Error::Offline { .. }) => {}
                Err(error) => return Err(error),
            }
        }
        let data = self.data().await;
        let cached = data
            .snapshot
            .users
            .iter()
            .find(|u| u.id.as_deref() == Some(id))
            .ok_or_else(|| Error::NotFound {
                message: "That user is not in the offline copy.".to_owned(),
            })?;
        Ok(self.detail(cached, None, true).await)
    }

    /// What the create form should say about an email address: its shape, whether a
    /// cached user has it (`except` is the user being edited), and for a clash a free
    /// `+contractor` address for the same person's second account.
    pub async fn check_email(&self, email: &str, except: Option<&str>) -> EmailCheck {
        let email = email.trim();
        if !scim_user::looks_like_email(email) {
            return EmailCheck {
                valid: false,
                message: Some("Enter an address like name@example.com.".to_owned()),
                taken_by: None,
                suggestion: None,
            };
        }
        let data = self.data().await;
        let taken = |address: &str| {
            data.snapshot.users.iter().find(|u| {
                u.id.as_deref() != except
                    && (u.user_name.eq_ignore_ascii_case(address)
                        || u.emails.iter().any(|e| {
                            e.value
                                .as_deref()
                                .is_some_and(|v| v.eq_ignore_ascii_case(address))
                        }))
            })
        };
        match taken(email) {
            None => EmailCheck {
                valid: true,
                message: None,
                taken_by: None,
                suggestion: None,
            },
            Some(user) => {
                let suggestion = email.rsplit_once('@').and_then(|(local, domain)| {
                    let base = local.split('+').next().unwrap_or(local);
                    ["contractor", "desk", "field"]
                        .iter()
                        .map(|tag| format!("{base}+{tag}@{domain}"))
                        .find(|candidate| taken(candidate).is_none())
                });
                EmailCheck {
                    valid: false,
                    message: Some(
                        "This address is in use. Someone with two roles needs a second address."
                            .to_owned(),
                    ),
                    taken_by: Some(user.display_name().into_owned()),
                    suggestion,
                }
            }
        }
    }

    // ---- writes --------------------------------------------------------------------

    /// Creates (invites) a user and, with `send_welcome`, emails the invitation.
    ///
    /// # Errors
    ///
    /// [`Error::Validation`] with field errors for a bad form; [`Error::Conflict`] for an
    /// address in use; [`Error::Offline`].
    pub async fn create_user(
        &self,
        input: &UserInput,
        send_welcome: bool,
    ) -> Result<UserDetail, Error> {
        validate_input(input)?;
        let client = self.writer().await?;
        // Only the extensions the provider takes (another provider refuses Muster's).
        let mut user = user_from(input);
        capabilities_of(active(&*self.state.lock().await)?).fit(&mut user);
        let created = self.online(client.users().create(&user).await).await?;
        let mut user = created.value;
        let mut etag = created.etag;
        let name = user.display_name().into_owned();
        let mut outcome = OutcomeView {
            message: format!("{name} is added."),
            complete: true,
            retry: None,
        };
        if send_welcome {
            let id = user.id.clone().unwrap_or_default();
            match self
                .online(client.actions().run(&id, Action::SendWelcome).await)
                .await
            {
                Ok(sent) => {
                    user = sent.value;
                    etag = sent.etag;
                    outcome.message = format!(
                        "{name} is added. {}",
                        Action::SendWelcome.done_message(&user, &ActionResult::default())
                    );
                }
                // The user exists now whatever the invitation did: say both, and offer
                // to send it again.
                Err(error) => {
                    outcome = OutcomeView {
                        message: format!(
                            "{name} is added, but the invitation was not sent: {error}"
                        ),
                        complete: false,
                        retry: Some(UserAction::SendWelcome),
                    };
                }
            }
        }
        self.apply(&user).await;
        let mut detail = self.detail(&user, etag, false).await;
        detail.outcome = Some(outcome);
        Ok(detail)
    }

    /// Saves the edit form: only the fields that changed, as a PATCH sent with the
    /// version the form was loaded at (a 412 conflict means someone else changed the user
    /// meanwhile: reload).
    ///
    /// # Errors
    ///
    /// [`Error::Conflict`] with `stale`; [`Error::Validation`]; [`Error::Offline`].
    pub async fn update_user(
        &self,
        id: &str,
        input: &UserInput,
        version: Option<String>,
    ) -> Result<UserDetail, Error> {
        validate_input(input)?;
        let client = self.writer().await?;
        let current = self.online(client.users().get(id).await).await?;
        if version.is_some() && current.etag.is_some() && version != current.etag {
            return Err(Error::Conflict {
                message: "Someone else changed this user since you opened it. Reload to see \
                          their changes, then edit again."
                    .to_owned(),
                scim_type: None,
                stale: true,
            });
        }
        let before = self.detail(&current.value, None, false).await;
        for lock in &before.locked_fields {
            if lock.field == "role" && input.role != before.role {
                return Err(Error::invalid("role", lock.reason.clone()));
            }
        }
        let shop = capabilities_of(active(&*self.state.lock().await)?)
            .serves_schema(muster_scim::urn::SHOP_USER);
        let operations = changes(&before, input, shop);
        if operations.is_empty() {
            return Ok(self.detail(&current.value, current.etag, false).await);
        }
        let etag = version.or(current.etag);
        let saved = self
            .online(client.users().patch(id, operations, etag.as_deref()).await)
            .await?;
        self.apply(&saved.value).await;
        Ok(self.detail(&saved.value, saved.etag, false).await)
    }

    /// Runs an account action without inputs on a user (never on oneself, for the ones
    /// that lock people out).
    ///
    /// # Errors
    ///
    /// [`Error::Unsupported`] when the server lacks it; [`Error::Forbidden`]…
    pub async fn run_action(&self, id: &str, action: SimpleAction) -> Result<UserDetail, Error> {
        let action = match action {
            SimpleAction::SendWelcome => Action::SendWelcome,
            SimpleAction::SendPasswordReset => Action::SendPasswordReset,
            SimpleAction::SendMagicLink => Action::SendMagicLink,
            SimpleAction::Suspend => Action::Suspend,
            SimpleAction::Unsuspend => Action::Unsuspend,
            SimpleAction::RevokeSessions => Action::RevokeSessions,
            SimpleAction::ResetMfa => Action::ResetMfa,
            SimpleAction::Reactivate => Action::Reactivate,
            SimpleAction::Restore => Action::Restore,
        };
        self.act(id, action).await
    }

    /// Sets a user's password (the admin's own is changed elsewhere). It signs the user
    /// out everywhere.
    ///
    /// # Errors
    ///
    /// [`Error::Validation`] when the password breaks the policy (the message says which
    /// rule).
    pub async fn set_password(
        &self,
        id: &str,
        password: Secret,
        must_change: bool,
    ) -> Result<UserDetail, Error> {
        self.act(
            id,
            Action::SetPassword {
                password,
                must_change,
            },
        )
        .await
    }

    /// Deactivates a user, handing each kind of responsibility to the user named.
    ///
    /// # Errors
    ///
    /// [`Error::Validation`] when a kind the user holds has no one named.
    pub async fn deactivate(&self, id: &str, handovers: &[Handover]) -> Result<UserDetail, Error> {
        let reassign = reassign_of(handovers)?;
        self.act(id, Action::Deactivate { reassign }).await
    }

    /// Deletes a user: on a Muster server the `delete` action, handing each kind of
    /// responsibility to the user named (the server keeps the user for a system admin to
    /// restore, and a system admin's copy keeps them as deleted); elsewhere SCIM's DELETE.
    /// What the server did, in words.
    ///
    /// # Errors
    ///
    /// [`Error::Forbidden`] for oneself; [`Error::Conflict`] naming what must be handed
    /// over first; what the server answers.
    pub async fn delete_user(
        &self,
        id: &str,
        handovers: &[Handover],
    ) -> Result<OutcomeView, Error> {
        let (capabilities, system_admin) = {
            let state = self.state.lock().await;
            let active = active(&state)?;
            let admin = active.account.as_ref().is_some_and(|a| a.system_admin);
            (capabilities_of(active), admin)
        };
        let outcome = if capabilities.offers("delete") {
            let reassign = reassign_of(handovers)?;
            let done = self.act(id, Action::Delete { reassign }).await?;
            done.outcome.unwrap_or_else(|| OutcomeView {
                message: format!("{} is deleted.", done.display_name),
                complete: true,
                retry: None,
            })
        } else if !handovers.is_empty() {
            // Nothing here can take the handover: refused rather than dropped unseen.
            return Err(Error::Unsupported {
                message: "This server cannot hand responsibilities over while deleting; \
                          deactivate the user first, or delete without a handover."
                    .to_owned(),
            });
        } else {
            let client = self.may(UserAction::Delete, id).await?;
            let name = self
                .data()
                .await
                .snapshot
                .users
                .iter()
                .find(|u| u.id.as_deref() == Some(id))
                .map(|u| u.display_name().into_owned());
            self.online(client.users().delete(id, None).await).await?;
            OutcomeView {
                message: match name {
                    Some(name) => format!("{name} is deleted."),
                    None => "The user is deleted.".to_owned(),
                },
                complete: true,
                retry: None,
            }
        };
        // Only a system admin's copy keeps deleted users (they can restore them).
        if !(system_admin && capabilities.list_deleted) {
            let id = id.to_owned();
            self.change(move |snapshot| {
                sync::remove_user(snapshot, &id);
            })
            .await;
        }
        Ok(outcome)
    }

    async fn act(&self, id: &str, action: Action) -> Result<UserDetail, Error> {
        let kind = UserAction::from_name(action.name()).ok_or_else(|| Error::Unsupported {
            message: format!("'{}' is not an action on users.", action.name()),
        })?;
        let client = self.may(kind, id).await?;
        let message = |user: &User, result: &ActionResult| action.done_message(user, result);
        let capabilities = capabilities_of(active(&*self.state.lock().await)?);
        let sent = if capabilities.is_muster {
            client.actions().run_with_result(id, action.clone()).await
        } else {
            scim_act(&client, id, &action, &capabilities)
                .await
                .map(|done| (done, ActionResult::default()))
        };
        let (done, result) = self.online(sent).await?;
        self.apply(&done.value).await;
        let mut detail = self.detail(&done.value, done.etag, false).await;
        detail.outcome = Some(OutcomeView {
            message: message(&done.value, &result),
            complete: true,
            retry: None,
        });
        Ok(detail)
    }

    /// The client to do `action` to user `id` with, once the engine's rules say the
    /// signed-in account may (the role, system admins only, oneself). Whether it applies
    /// to the user as they are now is the server's to say: the copy may be old.
    async fn may(&self, action: UserAction, id: &str) -> Result<Client, Error> {
        let client = self.writer().await?;
        let state = self.state.lock().await;
        let active = active(&state)?;
        let capabilities = capabilities_of(active);
        let account = rules_account(active);
        match rules::refusal(action, Some(id), account.as_ref(), &capabilities) {
            Some(message) => Err(Error::Forbidden { message }),
            None => Ok(client),
        }
    }

    /// A user's detail as the signed-in account sees it now, with what can be done to
    /// them by the engine's rules; while signed out or offline every action is held back
    /// with that reason.
    async fn detail(&self, user: &User, version: Option<String>, from_cache: bool) -> UserDetail {
        let now = self.clock.now();
        let state = self.state.lock().await;
        let active = state.active.as_ref();
        let account = active.and_then(rules_account);
        let me = active
            .and_then(|a| a.account.as_ref())
            .map(|a| a.id.as_str());
        let mut detail = UserDetail::of(user, version, me, from_cache, now);
        let Some(active) = active else {
            return detail;
        };
        let capabilities = capabilities_of(active);
        let held = session_held(active);
        detail.actions = rules::offers(user, account.as_ref(), &capabilities)
            .into_iter()
            .map(|offer| match &held {
                Some(reason) if offer.available => Offer {
                    available: false,
                    reason: Some(reason.clone()),
                    ..offer
                },
                _ => offer,
            })
            .collect();
        detail.actions_note = rules::missing_actions_note(&capabilities).map(str::to_owned);
        detail.locked_fields =
            rules::locked_fields(user.id.as_deref(), account.as_ref(), &capabilities);
        detail
    }

    /// What a user is responsible for, for the deactivate wizard.
    ///
    /// # Errors
    ///
    /// [`Error::Unsupported`] on other providers.
    pub async fn responsibilities(&self, id: &str) -> Result<Vec<ResponsibilityView>, Error> {
        let client = self.require_client().await?;
        let held = self
            .online(client.actions().responsibilities(id).await)
            .await?;
        Ok(held
            .kinds
            .into_iter()
            .map(|r| ResponsibilityView {
                kind: serde_json::to_value(r.kind)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default(),
                count: view::clamp(r.count),
                label: r.label,
            })
            .collect())
    }

    /// Active users matching `query`, to take over responsibilities.
    ///
    /// # Errors
    ///
    /// [`Error::Unsupported`] on other providers.
    pub async fn assignees(&self, query: &str) -> Result<Vec<AssigneeView>, Error> {
        let client = self.require_client().await?;
        let found = self
            .online(client.actions().assignees(query, 50).await)
            .await?;
        Ok(found
            .into_iter()
            .map(|a| AssigneeView {
                id: a.id,
                display_name: a.display_name,
                user_name: a.user_name,
            })
            .collect())
    }

    /// The organisation's password rules.
    ///
    /// # Errors
    ///
    /// [`Error::Unsupported`] on other providers.
    pub async fn password_policy(&self) -> Result<PasswordPolicyView, Error> {
        let client = self.require_client().await?;
        let org = org_of(&client)?;
        let url = format!("{}/o/{org}/policy", client.root());
        let value: Value = self
            .online(client.send(Method::GET, &url, &[], None, None, true).await)
            .await?
            .json()?;
        let number = |key: &str| {
            value
                .get(key)
                .and_then(Value::as_u64)
                .map_or(0, view::clamp)
        };
        let flag = |key: &str| value.get(key).and_then(Value::as_bool).unwrap_or(false);
        Ok(PasswordPolicyView {
            style: text(&value, "style").unwrap_or_default(),
            min_length: number("minLength"),
            max_length: number("maxLength"),
            require_upper: flag("requireUpper"),
            require_lower: flag("requireLower"),
            require_digit: flag("requireDigit"),
            require_special: flag("requireSpecial"),
            deny_common_passwords: flag("denyCommonPasswords"),
            rules: value
                .get("rules")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|r| r.as_str().map(str::to_owned))
                .collect(),
        })
    }

    /// A page of the organisation's audit log (admins, viewers and support staff).
    ///
    /// # Errors
    ///
    /// [`Error::Unsupported`] on other providers; [`Error::Forbidden`].
    pub async fn audit(&self, query: &AuditQuery) -> Result<AuditPage, Error> {
        let client = self.require_client().await?;
        let org = org_of(&client)?;
        let url = format!("{}/o/{org}/audit", client.root());
        let mut params: Vec<(&str, String)> = Vec::new();
        for (key, value) in [
            ("actor", &query.actor),
            ("target", &query.target),
            ("action", &query.action),
            ("outcome", &query.outcome),
            ("since", &query.since),
            ("until", &query.until),
        ] {
            if let Some(value) = value.as_ref().filter(|v| !v.trim().is_empty()) {
                params.push((key, value.trim().to_owned()));
            }
        }
        params.push(("startIndex", (query.offset + 1).to_string()));
        params.push(("count", query.limit.clamp(1, 200).to_string()));
        let value: Value = self
            .online(
                client
                    .send(Method::GET, &url, &params, None, None, true)
                    .await,
            )
            .await?
            .json()?;
        let entries = value
            .get("entries")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(|e| AuditEntryView {
                at: text(e, "at").unwrap_or_default(),
                actor: text(e, "actorName")
                    .or_else(|| text(e, "actorKind").map(|kind| unnamed_actor(&kind)))
                    .unwrap_or_default(),
                action: text(e, "action").unwrap_or_default(),
                target: text(e, "targetName").or_else(|| text(e, "targetId")),
                outcome: text(e, "outcome").unwrap_or_default(),
                detail: match e.get("detail") {
                    None | Some(Value::Null) => String::new(),
                    Some(Value::String(s)) => s.clone(),
                    Some(other) => other.to_string(),
                },
            })
            .collect();
        Ok(AuditPage {
            total: value
                .get("totalResults")
                .and_then(Value::as_u64)
                .map_or(0, view::clamp),
            entries,
        })
    }

    // ---- helpers -------------------------------------------------------------------

    async fn data(&self) -> Arc<Data> {
        let state = self.state.lock().await;
        state
            .active
            .as_ref()
            .map_or_else(Data::empty, |a| a.data.clone())
    }

    /// Keeps what the provider offers now in the copy, when the copy knew it already and
    /// it changed (a server upgraded, an action added), so features and offers follow the
    /// server without a full sync. A system admin's copy is left to their next sync,
    /// which decides from the change whether to fetch deleted users.
    async fn renew_capabilities(&self, client: &Client, fresh: Capabilities) {
        if client.account().is_some_and(|a| a.system_admin) {
            return;
        }
        let known = {
            let state = self.state.lock().await;
            state.active.as_ref().and_then(Active::capabilities)
        };
        if known.is_none_or(|known| known == fresh) {
            return;
        }
        match encode_capabilities(&fresh) {
            Ok(value) => {
                self.change(move |snapshot| snapshot.capabilities = value)
                    .await;
            }
            // Cannot happen for a plain struct; the copy keeps what it knew.
            Err(error) => tracing::warn!(%error, "the capabilities could not be kept"),
        }
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
            active.account.as_ref().is_some_and(|a| a.system_admin)
                && capabilities_of(active).list_deleted
        })
    }

    async fn my_id(&self) -> Option<String> {
        let state = self.state.lock().await;
        state
            .active
            .as_ref()
            .and_then(|a| a.account.as_ref())
            .map(|a| a.id.clone())
    }

    async fn client(&self) -> Result<Option<Client>, Error> {
        let state = self.state.lock().await;
        Ok(active(&state)?.client.clone())
    }

    async fn require_client(&self) -> Result<Client, Error> {
        self.client().await?.ok_or_else(not_signed_in)
    }

    /// The client, if changes are allowed: signed in, online (or trying to be), and not
    /// a read-only role.
    async fn writer(&self) -> Result<Client, Error> {
        let state = self.state.lock().await;
        let active = active(&state)?;
        let client = active.client.clone().ok_or_else(not_signed_in)?;
        if let Some(reason) = role_read_only(active) {
            return Err(Error::Forbidden { message: reason });
        }
        Ok(client)
    }

    /// Notes what a request's result says about the connection and the session, and
    /// passes the result on: offline or back online; a session the server has ended is
    /// forgotten (the offline copy stays viewable); otherwise the session, which the
    /// client may have refreshed on the way, is saved to the keychain if it changed.
    async fn online<T>(&self, result: Result<T, Error>) -> Result<T, Error> {
        let client = {
            let mut state = self.state.lock().await;
            let Some(active) = state.active.as_mut() else {
                return result;
            };
            if let Err(Error::MustChangePassword { .. }) = &result {
                // The "choose a new password" screen, until it is chosen.
                active.must_change_password = true;
            }
            if let Err(Error::MfaEnrollmentRequired { .. }) = &result {
                // The "set up two-factor" screen, until it is on.
                active.mfa_enrollment_required = true;
            }
            if let Err(error @ Error::Offline { .. }) = &result {
                active.online = false;
                active.offline_reason = Some(error.notice(error.to_string()));
            } else {
                active.online = true;
                active.offline_reason = None;
            }
            active.client.clone()
        };
        match (&result, client) {
            // Ended only once the client has given up on its session (its refresh was
            // refused too, or it never had one).
            (Err(Error::Unauthorized { .. }), Some(client)) if !client.can_refresh().await => {
                self.session_ended(&client).await;
            }
            _ => self.keep_session(false).await,
        }
        result
    }

    /// Forgets a session the server has ended, if `client` is still the console's (a
    /// 401 meant for a client replaced by a new sign-in since says nothing about the new
    /// one). The offline copy stays viewable.
    async fn session_ended(&self, client: &Client) {
        let profile = {
            let mut state = self.state.lock().await;
            let Some(active) = state.active.as_mut() else {
                return;
            };
            if !active
                .client
                .as_ref()
                .is_some_and(|c| c.same_session(client))
            {
                return;
            }
            active.client = None;
            active.account = None;
            active.kept = None;
            active.offered = None;
            active.must_change_password = false;
            active.mfa_enrollment_required = false;
            active.session_notice = Some(Notice::new(
                "Your session has ended: sign in again to make changes (the offline copy \
                 stays viewable).",
            ));
            active.profile.name.clone()
        };
        for kind in [SecretKind::AccessToken, SecretKind::RefreshToken] {
            // Cannot matter to the user: the server has ended this session, so a token
            // left in the keychain is one it refuses; the next sign-in replaces it.
            if let Err(error) = self.vault.delete(&profile, kind) {
                tracing::warn!(%error, detail = ?error.detail(), "an ended session's token stays in the keychain");
            }
        }
    }

    /// Saves the session to the keychain when the client's tokens are not the ones it
    /// holds. Muster's refresh tokens rotate and the client refreshes by itself when the
    /// access token expires mid-session; without this the keychain would keep a spent
    /// refresh token, and the next start would present it and lose the session (the
    /// server ends a session whose old refresh token comes back, as a suspected theft).
    /// When the keychain cannot be reached the session goes on in memory with a notice
    /// saying so, and it is offered again when it changes or, with `retry`, on
    /// [`Console::refresh`] (the app's start and its "Try again").
    async fn keep_session(&self, retry: bool) {
        let (client, profile, vault, kept, offered) = {
            let state = self.state.lock().await;
            let Some(active) = state.active.as_ref() else {
                return;
            };
            let Some(client) = active.client.clone() else {
                return;
            };
            (
                client,
                active.profile.name.clone(),
                self.vault_for(&active.profile),
                active.kept.clone(),
                active.offered.clone(),
            )
        };
        let tokens = client.tokens().await;
        if kept.as_ref() == Some(&tokens.access)
            || (!retry && offered.as_ref() == Some(&tokens.access))
        {
            return;
        }
        let stored = vault.store_tokens(&profile, &tokens);
        let mut state = self.state.lock().await;
        let Some(active) = state.active.as_mut() else {
            return;
        };
        if active.profile.name != profile {
            return;
        }
        active.offered = Some(tokens.access.clone());
        match stored {
            Ok(()) => {
                active.kept = Some(tokens.access);
                active.session_notice = None;
            }
            Err(error) => active.session_notice = Some(session_only(&error)),
        }
    }

    /// Puts a user the server returned into the offline copy.
    async fn apply(&self, user: &User) {
        let user = user.clone();
        self.change(move |snapshot| sync::apply_user(snapshot, user))
            .await;
    }

    /// Changes the offline copy, re-indexes it and saves it in the background.
    async fn change(&self, edit: impl FnOnce(&mut Snapshot) + Send + 'static) {
        let _gate = self.sync_gate.lock().await;
        let (data, store) = {
            let state = self.state.lock().await;
            let Some(active) = state.active.as_ref() else {
                return;
            };
            (active.data.clone(), active.store.clone())
        };
        let built = tokio::task::spawn_blocking(move || {
            let mut snapshot = data.snapshot.clone();
            drop(data);
            edit(&mut snapshot);
            let saved = store.as_ref().map(|store| store.save(&snapshot));
            (Data::new(snapshot), saved)
        })
        .await;
        let mut state = self.state.lock().await;
        let Some(active) = state.active.as_mut() else {
            return;
        };
        match built {
            Ok((data, saved)) => {
                active.data = data;
                note_save(active, saved);
            }
            // The edit itself failed (a bug): the copy stays as it was, and says so.
            Err(error) => {
                tracing::error!(%error, "the offline copy could not be updated");
                active.cache_notice = Some(Notice {
                    text: "The offline copy could not be updated with this change: sync to \
                           bring it up to date."
                        .to_owned(),
                    fix: None,
                    detail: Some(error.to_string()),
                });
            }
        }
    }

    fn connection(&self, active: &Active) -> Result<crate::connection::Connection, Error> {
        let mut connection = active.profile.to_connection()?;
        if let (Some(org), ServerKind::Muster { .. }) = (&active.org, &connection.kind) {
            connection.kind = ServerKind::Muster { org: org.clone() };
        }
        Ok(connection)
    }
}

fn placeholder(profile: &Profile) -> Active {
    Active {
        org: muster_org(profile),
        profile: profile.clone(),
        client: None,
        account: None,
        must_change_password: false,
        mfa_enrollment_required: false,
        pending_mfa: None,
        store: None,
        data: Data::empty(),
        online: true,
        offline_reason: None,
        cache_notice: None,
        kept: None,
        offered: None,
        session_notice: None,
    }
}

/// Words for an audit entry's actor the server does not name, by kind.
fn unnamed_actor(kind: &str) -> String {
    match kind {
        "anonymous" => "Anonymous".to_owned(),
        "other_organisation" => "Someone of another organisation".to_owned(),
        "system_admin" => "A system admin".to_owned(),
        "api_token" => "An API token".to_owned(),
        "user" => "A user".to_owned(),
        other => other.replace('_', " "),
    }
}

/// Capabilities as the copy keeps them.
fn encode_capabilities(capabilities: &Capabilities) -> Result<Value, Error> {
    serde_json::to_value(capabilities)
        .map_err(|e| Error::protocol(format!("cannot encode the capabilities: {e}"), b""))
}

/// The notice for a session the keychain could not take: "Your sign-in is not saved: no
/// keychain is running.", with the keychain's fix and what happens meanwhile.
fn session_only(error: &Error) -> Notice {
    let mut notice = error.notice(format!("Your sign-in is not saved: {}.", error.clause()));
    let meanwhile = "You are signed in for this session only; the sign-in is saved as soon \
                     as the keychain can be reached.";
    notice.fix = Some(match notice.fix {
        Some(fix) => format!("{fix} {meanwhile}"),
        None => meanwhile.to_owned(),
    });
    notice
}

/// Records how saving the offline copy went: a failure is shown (the copy on disk is
/// the previous one, intact, and memory holds the new one); a success clears any
/// earlier notice about the copy, which it has just replaced.
fn note_save(active: &mut Active, saved: Option<Result<(), Error>>) {
    match saved {
        Some(Err(error)) => {
            tracing::warn!(%error, detail = ?error.detail(), "the offline copy could not be saved");
            let mut notice = error.notice(format!(
                "The offline copy could not be saved: {}.",
                error.clause()
            ));
            notice.fix = Some(
                "Nothing is lost: the copy on disk is the one saved before, and this one is \
                 saved at the next change or sync. If the disk is full, free some space."
                    .to_owned(),
            );
            active.cache_notice = Some(notice);
        }
        Some(Ok(())) => active.cache_notice = None,
        None => {}
    }
}

fn muster_org(profile: &Profile) -> Option<String> {
    match &profile.kind {
        ProfileKind::Muster { org } => Some(org.clone()),
        ProfileKind::Scim => None,
    }
}

/// The keychain/cache name of the open profile and organisation: the profile's name for
/// its own organisation, `name@org` for one a system admin switched to.
/// Whose offline copy the active profile shows: the profile's, or (a system admin's
/// switch) another organisation's through it.
fn copy_names(active: &Active) -> (String, Option<String>) {
    let org = match (&active.org, muster_org(&active.profile)) {
        (Some(org), Some(own)) if *org != own => Some(org.clone()),
        _ => None,
    };
    (active.profile.name.clone(), org)
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

fn text(value: &Value, key: &str) -> Option<String> {
    value.get(key).and_then(Value::as_str).map(str::to_owned)
}

fn profile_views(profiles: &Profiles) -> Vec<ProfileView> {
    let default = profiles.default().map(|p| p.name.clone());
    profiles
        .list()
        .iter()
        .map(|p| profile_view(p, default.as_deref()))
        .collect()
}

fn profile_view(profile: &Profile, default: Option<&str>) -> ProfileView {
    ProfileView {
        name: profile.name.clone(),
        kind: match profile.kind {
            ProfileKind::Muster { .. } => ServerKindView::Muster,
            ProfileKind::Scim => ServerKindView::Scim,
        },
        url: profile.url.clone(),
        org: muster_org(profile),
        is_default: default == Some(profile.name.as_str()),
    }
}

/// Why the signed-in person may only look, if so (the engine's rule for their role).
fn role_read_only(active: &Active) -> Option<String> {
    rules_account(active)?.read_only_reason()
}

/// The signed-in account as the engine's rules see it.
fn rules_account(active: &Active) -> Option<rules::Account> {
    active.account.as_ref().map(rules::Account::from)
}

/// What the provider supports, as last read; before the first read, a Muster profile
/// counts as a Muster server offering no actions yet, any other as plain SCIM.
fn capabilities_of(active: &Active) -> Capabilities {
    active.capabilities().unwrap_or_else(|| Capabilities {
        is_muster: matches!(active.profile.kind, ProfileKind::Muster { .. }),
        ..Capabilities::default()
    })
}

/// Why nothing can be changed now whoever is signed in: signed out, or offline.
fn session_held(active: &Active) -> Option<String> {
    if active.client.is_none() {
        Some("Sign in to make changes.".to_owned())
    } else if !active.online {
        Some("You are offline: changes are off until the server can be reached.".to_owned())
    } else {
        None
    }
}

fn status_of(state: &State) -> StatusView {
    let default = state.profiles.default().map(|p| p.name.clone());
    let Some(active) = state.active.as_ref() else {
        return StatusView {
            phase: Phase::NoProfile,
            profile: None,
            org: None,
            account: None,
            online: true,
            offline_reason: None,
            synced_at: None,
            user_count: 0,
            group_count: 0,
            read_only: true,
            read_only_reason: Some("Open a connection first.".to_owned()),
            features: Vec::new(),
            cache_notice: None,
            session_notice: None,
            must_change_password: false,
            mfa_enrollment_required: false,
        };
    };
    let phase = if active.client.is_some() {
        Phase::Ready
    } else if active.pending_mfa.is_some() {
        Phase::MfaRequired
    } else {
        Phase::SignedOut
    };
    let read_only_reason = session_held(active).or_else(|| role_read_only(active));
    let data = &active.data;
    StatusView {
        phase,
        profile: Some(profile_view(&active.profile, default.as_deref())),
        org: active.org.clone(),
        account: active.account.as_ref().map(|a| AccountView {
            id: a.id.clone(),
            display_name: a.display_name.clone(),
            role: a.role.clone(),
            system_admin: a.system_admin,
        }),
        online: active.online,
        offline_reason: active.offline_reason.clone(),
        synced_at: data
            .has_data()
            .then(|| view::stamp(data.snapshot.synced_at)),
        user_count: view::clamp(data.snapshot.users.len()),
        group_count: view::clamp(data.snapshot.groups.len()),
        read_only: read_only_reason.is_some(),
        read_only_reason,
        features: features_of(active.capabilities().as_ref()),
        cache_notice: active.cache_notice.clone(),
        session_notice: active.session_notice.clone(),
        must_change_password: active.must_change_password,
        mfa_enrollment_required: active.mfa_enrollment_required,
    }
}

fn features_of(capabilities: Option<&Capabilities>) -> Vec<FeatureView> {
    let Some(capabilities) = capabilities else {
        return Vec::new();
    };
    let mut features = vec![
        ("patch", Feature::Patch),
        ("etag", Feature::Etag),
        ("groups", Feature::Groups),
        ("bulk", Feature::Bulk),
        ("shop", Feature::ShopFields),
        ("audit", Feature::AuditLog),
    ];
    features.extend(
        Action::NAMES
            .iter()
            .map(|n| (*n, Feature::Action((*n).to_owned()))),
    );
    features
        .into_iter()
        .map(|(name, feature)| {
            let support = capabilities.supports(feature);
            FeatureView {
                name: name.to_owned(),
                available: support.is_yes(),
                reason: match support {
                    Support::Yes => None,
                    other => other.reason().map(str::to_owned),
                },
            }
        })
        .collect()
}

fn to_search(query: &UserQuery) -> SearchQuery {
    let sort = serde_json::from_value::<SortKey>(Value::String(query.sort.clone()))
        .unwrap_or(SortKey::Name);
    SearchQuery {
        text: query.text.clone(),
        roles: query.roles.clone(),
        licences: query.licences.clone(),
        statuses: query.statuses.clone(),
        branches: query.branches.clone(),
        zones: query.zones.clone(),
        security_groups: query.security_groups.clone(),
        sign_in_methods: query.sign_in_methods.clone(),
        invitation_states: query.invitation_states.clone(),
        no_sign_in_for_days: query.no_sign_in_for_days,
        hidden_statuses: if query.hide_deactivated {
            vec!["deactivated".to_owned(), "deleted".to_owned()]
        } else {
            Vec::new()
        },
        sort,
        descending: query.descending,
        offset: query.offset as usize,
        limit: query.limit.clamp(1, MAX_WINDOW) as usize,
    }
}

fn facets_of(users: &[User], now: OffsetDateTime) -> Facets {
    let mut counts: [BTreeMap<String, u32>; 9] = Default::default();
    let mut add = |slot: usize, value: &str| {
        let value = value.trim();
        if !value.is_empty() {
            *counts[slot].entry(value.to_owned()).or_default() += 1;
        }
    };
    for user in users {
        add(2, user.status_name());
        let Some(shop) = user.shop.as_ref() else {
            continue;
        };
        if let Some(role) = &shop.role {
            add(0, role.as_str());
        }
        if let Some(licence) = &shop.licence {
            add(1, licence.as_str());
        }
        let mut branches: Vec<&str> = shop.branches.iter().map(String::as_str).collect();
        branches.extend(shop.home_branch.as_deref());
        branches.sort_unstable();
        branches.dedup();
        for branch in branches {
            add(3, branch);
        }
        for zone in &shop.zones {
            add(4, zone);
        }
        if let Some(group) = &shop.security_group {
            add(5, group);
        }
        for group in &shop.service_groups {
            add(6, group);
        }
        if let Some(method) = shop.last_sign_in.as_ref().and_then(|l| l.method.as_ref()) {
            add(7, method.as_str());
        }
        if let Some(state) = user.invitation_state(now) {
            add(8, state.as_str());
        }
    }
    let [
        roles,
        licences,
        statuses,
        branches,
        zones,
        security,
        service,
        methods,
        invitations,
    ] = counts.map(|map| {
        map.into_iter()
            .map(|(value, count)| FacetValue { value, count })
            .collect::<Vec<_>>()
    });
    Facets {
        roles,
        licences,
        statuses,
        branches,
        zones,
        security_groups: security,
        service_groups: service,
        sign_in_methods: methods,
        invitation_states: invitations,
    }
}

/// Checks the form before anything is sent, naming each bad field.
fn validate_input(input: &UserInput) -> Result<(), Error> {
    let mut fields = Vec::new();
    let mut bad = |field: &str, message: &str| {
        fields.push(crate::error::FieldError {
            field: field.to_owned(),
            message: message.to_owned(),
        });
    };
    if input.given_name.trim().is_empty() {
        bad("givenName", "Enter a first name.");
    }
    if input.family_name.trim().is_empty() {
        bad("familyName", "Enter a last name.");
    }
    if !scim_user::looks_like_email(input.email.trim()) {
        bad("email", "Enter an address like name@example.com.");
    }
    if input.user_name.trim().is_empty() {
        bad(
            "userName",
            "Enter a sign-in name (usually the email address).",
        );
    }
    if fields.is_empty() {
        Ok(())
    } else {
        Err(Error::Validation {
            message: "Some fields need attention.".to_owned(),
            scim_type: None,
            fields,
        })
    }
}

fn blank_to_none(value: &Option<String>) -> Option<String> {
    value
        .as_deref()
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
}

fn clean(list: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for item in list.iter().map(|s| s.trim()).filter(|s| !s.is_empty()) {
        if !out.iter().any(|o| o.eq_ignore_ascii_case(item)) {
            out.push(item.to_owned());
        }
    }
    out
}

/// The handover a deactivation or delete sends, from the wizard's choices.
fn reassign_of(handovers: &[Handover]) -> Result<Reassign, Error> {
    let mut reassign = Reassign::default();
    for handover in handovers {
        let kind: ResponsibilityKind = serde_json::from_value(Value::String(handover.kind.clone()))
            .map_err(|_| {
                Error::invalid(
                    "kind",
                    format!("Unknown responsibility '{}'.", handover.kind),
                )
            })?;
        reassign.set(kind, handover.user_id.clone());
    }
    Ok(reassign)
}

/// An action as SCIM itself does it, for a provider without Muster's actions: `active`
/// for deactivating and reactivating, `password` for setting one (by PATCH, else by
/// replacing the user at the version just read).
async fn scim_act(
    client: &Client,
    id: &str,
    action: &Action,
    capabilities: &Capabilities,
) -> Result<crate::users::Versioned<User>, Error> {
    let (path, value) = match action {
        Action::Deactivate { .. } => ("active", json!(false)),
        Action::Reactivate => ("active", json!(true)),
        Action::SetPassword { password, .. } => ("password", json!(password.expose())),
        other => {
            return Err(Error::Unsupported {
                message: format!(
                    "'{}' needs a Muster server; this provider offers what SCIM itself can do.",
                    other.name()
                ),
            });
        }
    };
    if capabilities.patch {
        let change = vec![PatchOperation::replace(path, value)];
        return client.users().patch(id, change, None).await;
    }
    let current = client.users().get(id).await?;
    let mut user = current.value;
    match action {
        Action::SetPassword { password, .. } => {
            user.password = Some(muster_scim::user::Password::from(password.expose()));
        }
        _ => user.active = value.as_bool(),
    }
    client
        .users()
        .replace(id, &user, current.etag.as_deref())
        .await
}

fn user_from(input: &UserInput) -> User {
    let mut user = User::new(input.user_name.trim());
    user.name = Some(Name::new(input.given_name.trim(), input.family_name.trim()));
    user.display_name = Some(format!(
        "{} {}",
        input.given_name.trim(),
        input.family_name.trim()
    ));
    let mut email = MultiValue::typed(input.email.trim(), "work");
    email.primary = Some(true);
    user.emails = vec![email];
    user.shop = Some(ShopUser {
        licence: blank_to_none(&input.licence).map(|l| Licence::from(l.as_str())),
        role: blank_to_none(&input.role).map(|r| Role::from(r.as_str())),
        security_group: blank_to_none(&input.security_group),
        service_groups: clean(&input.service_groups),
        zones: clean(&input.zones),
        home_branch: blank_to_none(&input.home_branch),
        branches: clean(&input.branches),
        job_role: blank_to_none(&input.job_role),
        phone: blank_to_none(&input.phone),
        ..ShopUser::default()
    });
    user
}

const SHOP: &str = "urn:muster:params:scim:schemas:extension:shop:2.0:User";

/// PATCH operations taking `before` to the form's values; `shop` says whether the
/// provider takes Muster's shop extension (without it, the phone and job role go to SCIM's
/// own `phoneNumbers` and `title`, and the shop fields, which the form hides, are left).
fn changes(before: &UserDetail, input: &UserInput, shop: bool) -> Vec<PatchOperation> {
    let mut ops = Vec::new();
    let mut set = |path: String, value: Value| {
        ops.push(if value.is_null() {
            PatchOperation {
                op: PatchOpKind::Remove,
                path: Some(path),
                value: None,
            }
        } else {
            PatchOperation {
                op: PatchOpKind::Replace,
                path: Some(path),
                value: Some(value),
            }
        });
    };
    let text_changed = |old: &Option<String>, new: &str| old.as_deref().unwrap_or("") != new.trim();
    if before.user_name != input.user_name.trim() {
        set("userName".into(), json!(input.user_name.trim()));
    }
    if text_changed(&before.given_name, &input.given_name) {
        set("name.givenName".into(), json!(input.given_name.trim()));
    }
    if text_changed(&before.family_name, &input.family_name) {
        set("name.familyName".into(), json!(input.family_name.trim()));
    }
    if text_changed(&before.given_name, &input.given_name)
        || text_changed(&before.family_name, &input.family_name)
    {
        set(
            "displayName".into(),
            json!(format!(
                "{} {}",
                input.given_name.trim(),
                input.family_name.trim()
            )),
        );
    }
    if text_changed(&before.email, &input.email) {
        set(
            "emails".into(),
            json!([{"value": input.email.trim(), "type": "work", "primary": true}]),
        );
    }
    if !shop {
        if before.phone.as_deref() != blank_to_none(&input.phone).as_deref() {
            set(
                "phoneNumbers".into(),
                blank_to_none(&input.phone).map_or(
                    Value::Null,
                    |phone| json!([{"value": phone, "type": "work"}]),
                ),
            );
        }
        if before.job_role.as_deref() != blank_to_none(&input.job_role).as_deref() {
            set(
                "title".into(),
                blank_to_none(&input.job_role).map_or(Value::Null, Value::String),
            );
        }
        return ops;
    }
    let optional = [
        ("phone", &before.phone, &input.phone),
        ("jobRole", &before.job_role, &input.job_role),
        ("licence", &before.licence, &input.licence),
        ("role", &before.role, &input.role),
        (
            "securityGroup",
            &before.security_group,
            &input.security_group,
        ),
        ("homeBranch", &before.home_branch, &input.home_branch),
    ];
    for (name, old, new) in optional {
        let new = blank_to_none(new);
        if *old != new {
            set(
                format!("{SHOP}:{name}"),
                new.map_or(Value::Null, Value::String),
            );
        }
    }
    let lists = [
        (
            "serviceGroups",
            &before.service_groups,
            &input.service_groups,
        ),
        ("zones", &before.zones, &input.zones),
        ("branches", &before.branches, &input.branches),
    ];
    for (name, old, new) in lists {
        let new = clean(new);
        if *old != new {
            set(format!("{SHOP}:{name}"), json!(new));
        }
    }
    ops
}

#[cfg(test)]
mod tests;
