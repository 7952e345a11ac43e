//! muster-server in this process on a loopback port, over a fresh data directory, with a
//! clock the test can move ([`TestServer`]); and the same server with a demo-seeded
//! organisation and clients of its accounts ([`Muster`]).

use std::future::Future;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use muster_core::Client;
use muster_core::auth::{Credentials, Tokens};
use muster_core::client::SignIn;
use muster_core::connection::Connection;
use muster_core::secret::Secret;
use muster_core::transport::TransportConfig;
use muster_scim::urn::SHOP_USER;
use muster_server::ratelimit::{LimitSettings, Limits};
use muster_server::scim::kind::Kind;
use muster_server::scim::store::{self, PasswordChange};
use muster_server::{AppState, Config};
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::macros::datetime;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use crate::{PASSWORD, TempDir};

/// Where the server's clock starts. Either way [`TestServer::advance`] moves it on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClockStart {
    /// At this instant, standing still until moved: a test's time is then exact.
    Fixed(OffsetDateTime),
    /// At the real time, running with it: for tests whose client reads the real clock.
    Real,
}

/// How to start a [`TestServer`].
#[derive(Debug, Clone)]
pub struct Options {
    /// Its settings.
    pub config: Config,
    /// Its rate limits.
    pub limits: LimitSettings,
    /// Its clock.
    pub clock: ClockStart,
}

impl Default for Options {
    /// Default settings and limits, the clock standing at 2030-01-01 09:00 UTC.
    fn default() -> Self {
        Self {
            config: Config::default(),
            limits: LimitSettings::default(),
            clock: ClockStart::Fixed(datetime!(2030-01-01 09:00 UTC)),
        }
    }
}

/// The server's time: a fixed instant or the real time, plus what the test added.
#[derive(Debug)]
struct TestClock {
    fixed: Option<OffsetDateTime>,
    added: time::Duration,
}

impl TestClock {
    fn now(&self) -> OffsetDateTime {
        self.fixed.unwrap_or_else(OffsetDateTime::now_utc) + self.added
    }
}

/// A muster-server serving on `127.0.0.1:<port>` from this process. Stops and removes its
/// data directory on drop.
#[derive(Debug)]
pub struct TestServer {
    /// `http://127.0.0.1:<port>`.
    pub base: String,
    /// Its address (for a [`Proxy`](crate::proxy::Proxy) in front of it).
    pub addr: SocketAddr,
    /// The state it serves, for seeding and direct database access.
    pub state: AppState,
    clock: Arc<Mutex<TestClock>>,
    task: JoinHandle<()>,
    // Last: removed after the server has stopped.
    _dir: TempDir,
}

impl TestServer {
    /// A server with default settings, its clock standing at 2030-01-01 09:00 UTC.
    pub async fn start() -> Self {
        Self::start_with(Options::default()).await
    }

    /// A server with these settings and the default clock and limits.
    pub async fn start_with_config(config: Config) -> Self {
        Self::start_with(Options {
            config,
            ..Options::default()
        })
        .await
    }

    /// A server as `options` say.
    pub async fn start_with(options: Options) -> Self {
        let dir = TempDir::new("server");
        let db = muster_server::db::Db::open(dir.path()).expect("a fresh test database opens");
        let clock = Arc::new(Mutex::new(TestClock {
            fixed: match options.clock {
                ClockStart::Fixed(at) => Some(at),
                ClockStart::Real => None,
            },
            added: time::Duration::ZERO,
        }));
        let read = clock.clone();
        let state = AppState {
            db,
            clock: muster_server::Clock::from_fn(move || {
                read.lock().unwrap_or_else(PoisonError::into_inner).now()
            }),
            config: Arc::new(options.config),
            limits: Arc::new(Limits::with_settings(options.limits)),
            denials: Arc::default(),
        };
        let (addr, task) = serve(muster_server::app(state.clone())).await;
        Self {
            base: format!("http://{addr}"),
            addr,
            state,
            clock,
            task,
            _dir: dir,
        }
    }

    /// The full URL of `path` (which starts with `/`).
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// The server's time.
    pub fn now(&self) -> OffsetDateTime {
        self.clock
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .now()
    }

    /// Moves the server's clock on (or back, with a negative duration).
    pub fn advance(&self, by: time::Duration) {
        self.clock
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .added += by;
    }

    /// Runs `f` in a write transaction on the server's database.
    pub fn write<T>(&self, f: impl FnOnce(&rusqlite::Transaction<'_>) -> T) -> T {
        self.state
            .db
            .write_blocking(|tx| Ok(f(tx)))
            .expect("the test's write transaction commits")
    }

    /// Creates organisation `org` (empty) and returns an API token of its integration
    /// user.
    pub fn seed_org(&self, org: &str) -> String {
        let now = self.now();
        self.state
            .db
            .write_blocking(|tx| {
                muster_server::orgs::create_org_blocking(tx, org, org, now)?;
                muster_server::admin::integration_token(tx, org, "robot", now)
            })
            .expect("the organisation and its API token are created")
    }

    /// Seeds organisation `org` as the demo does, with `users` people (the admin among
    /// them; lifecycle history, responsibilities, three groups). The admin signs in as
    /// `admin@<org>.test` with [`PASSWORD`]. Returns the email domain, `<org>.test`.
    pub fn seed_demo(&self, org: &str, users: usize) -> String {
        let domain = format!("{org}.test");
        let spec = muster_server::demo::OrgSpec {
            id: org,
            name: org,
            domain: &domain,
            users,
        };
        let now = self.now();
        self.state
            .db
            .write_blocking(|tx| muster_server::demo::seed_org(tx, &spec, password_hash(), now))
            .expect("the organisation is seeded");
        domain
    }

    /// An API token of a new integration user of `org` called `user_name`.
    pub fn api_token(&self, org: &str, user_name: &str) -> String {
        let now = self.now();
        self.state
            .db
            .write_blocking(|tx| muster_server::admin::integration_token(tx, org, user_name, now))
            .expect("the integration user and its token are created")
    }

    /// Adds an active admin of `org` who signs in with `email` and `password`; returns
    /// their SCIM id.
    pub fn seed_admin(&self, org: &str, user_name: &str, email: &str, password: &str) -> String {
        self.seed_person(org, user_name, email, "admin", password)
    }

    /// Adds an active user of `org` with `role` (admin, technician, viewer) who signs in
    /// with `email` and `password`; returns their SCIM id.
    pub fn seed_person(
        &self,
        org: &str,
        user_name: &str,
        email: &str,
        role: &str,
        password: &str,
    ) -> String {
        let hash = if password == PASSWORD {
            password_hash().to_owned()
        } else {
            muster_server::auth::hash_password(password).expect("argon2 hashes")
        };
        let now = self.now();
        let doc = json!({
            "schemas": [muster_scim::urn::USER, SHOP_USER],
            "userName": user_name,
            "displayName": format!("{user_name} of {org}"),
            "active": true,
            "emails": [{"value": email, "primary": true}],
            SHOP_USER: {"role": role, "licence": "desk"},
        });
        self.state
            .db
            .write_blocking(|tx| {
                store::insert(tx, Kind::User, org, &doc, PasswordChange::Set(hash), now)
            })
            .expect("the person is stored")
            .id
    }

    /// A client of organisation `org` signed in as `email` with `password`.
    pub async fn sign_in(&self, org: &str, email: &str, password: &str) -> Client {
        let credentials = Credentials::Password {
            email: email.to_owned(),
            password: Secret::new(password),
        };
        let connection = Connection::muster(&self.base, org);
        match Client::sign_in(connection, credentials, &TransportConfig::default())
            .await
            .expect("the account signs in")
        {
            SignIn::Done(client) => client,
            SignIn::MfaRequired(_) => panic!("{email} has two-factor on; sign in by hand"),
        }
    }

    /// A client of organisation `org` signed in as the system admin [`SYSTEM_ADMIN`]
    /// (created on first use, with [`PASSWORD`]). A system admin signs in without an
    /// organisation and reaches every one.
    pub async fn system_admin(&self, org: &str) -> Client {
        self.seed_system_admin(SYSTEM_ADMIN);
        let answer: Value = reqwest::Client::new()
            .post(format!("{}/auth/token", self.base))
            .json(&json!({"email": SYSTEM_ADMIN, "password": PASSWORD}))
            .send()
            .await
            .expect("the server answers")
            .json()
            .await
            .expect("a token answer");
        let tokens = Tokens {
            access: Secret::new(answer["accessToken"].as_str().expect("an access token")),
            refresh: answer["refreshToken"].as_str().map(Secret::new),
        };
        Client::from_tokens(
            Connection::muster(&self.base, org),
            tokens,
            &TransportConfig::default(),
        )
        .expect("a loopback connection is valid")
    }

    /// Makes `email` a system admin (once) who signs in with [`PASSWORD`].
    pub fn seed_system_admin(&self, email: &str) {
        let now = self.now();
        self.state
            .db
            .write_blocking(|tx| {
                muster_server::admin::ensure_system_admin(tx, email, "Root", password_hash(), now)
            })
            .expect("the system admin is created");
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Serves `router` on a fresh loopback port with the peer address available to handlers
/// (as `main.rs` serves it); returns the address and the serving task.
pub async fn serve(router: axum::Router) -> (SocketAddr, JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a loopback port for the server");
    let addr = listener.local_addr().expect("the server's address");
    let service = router.into_make_service_with_connect_info::<SocketAddr>();
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, service).await;
    });
    (addr, task)
}

/// The argon2 hash of [`PASSWORD`], computed once: it is slow on purpose.
pub fn password_hash() -> &'static str {
    static HASH: OnceLock<String> = OnceLock::new();
    HASH.get_or_init(|| muster_server::auth::hash_password(PASSWORD).expect("the password hashes"))
}

/// The system admin [`Muster::system_admin`] signs in as.
pub const SYSTEM_ADMIN: &str = "root@muster.example";

/// A [`TestServer`] on the real clock with one demo-seeded organisation, an integration
/// user's API token, and clients of its accounts.
#[derive(Debug)]
pub struct Muster {
    /// `http://127.0.0.1:<port>`.
    pub url: String,
    /// The seeded organisation.
    pub org: String,
    /// Its email domain: the admin is `admin@<domain>`.
    pub domain: String,
    /// An API token of the org's integration user, `integration` (role admin).
    pub token: String,
    /// The server's state, for direct database access.
    pub state: AppState,
    /// The server itself (clock, seeding).
    pub server: TestServer,
}

impl Muster {
    /// Starts a server on the real clock with organisation `org` holding `users`
    /// generated people and an integration user with an API token.
    pub async fn start(org: &str, users: usize) -> Self {
        Self::start_with(
            org,
            users,
            Options {
                clock: ClockStart::Real,
                ..Options::default()
            },
        )
        .await
    }

    /// As [`Muster::start`], with the server's settings, limits and clock from `options`.
    pub async fn start_with(org: &str, users: usize, options: Options) -> Self {
        let server = TestServer::start_with(options).await;
        let domain = server.seed_demo(org, users);
        let token = server.api_token(org, "integration");
        Self {
            url: server.base.clone(),
            org: org.to_owned(),
            domain,
            token,
            state: server.state.clone(),
            server,
        }
    }

    /// Up to `n` active users, not admins, who hold no responsibilities (no property,
    /// open task or warehouse), in the order they were created: users SCIM's DELETE and
    /// `active: false` take with no handover (the demo gives most technicians and office
    /// staff some, and the server refuses to drop them).
    pub fn users_without_work(&self, n: usize) -> Vec<String> {
        let org = self.org.clone();
        self.server.write(|tx| {
            let mut query = tx
                .prepare(
                    "SELECT id FROM users WHERE org = ?1 AND status = 'active' \
                     AND coalesce(role, '') <> 'admin' ORDER BY seq",
                )
                .expect("the users table reads");
            let active: Vec<String> = query
                .query_map([&org], |row| row.get(0))
                .expect("the users table reads")
                .filter_map(Result::ok)
                .collect();
            active
                .into_iter()
                .filter(|id| {
                    muster_server::responsibilities::counts(tx, &org, id)
                        .expect("responsibilities read")
                        .kinds()
                        .is_empty()
                })
                .take(n)
                .collect()
        })
    }

    /// The seeded admin's email.
    pub fn admin_email(&self) -> String {
        format!("admin@{}", self.domain)
    }

    /// The connection to the seeded organisation.
    pub fn connection(&self) -> Connection {
        Connection::muster(&self.url, &self.org)
    }

    /// A client with the integration user's API token.
    pub fn client(&self) -> Client {
        self.client_with_token(&self.token)
    }

    /// A client with any bearer token.
    pub fn client_with_token(&self, token: &str) -> Client {
        token_client(self.connection(), token)
    }

    /// A client signed in with a password.
    pub async fn sign_in(&self, email: &str, password: &str) -> Client {
        self.server.sign_in(&self.org, email, password).await
    }

    /// The seeded admin, signed in with a password.
    pub async fn admin(&self) -> Client {
        self.sign_in(&self.admin_email(), PASSWORD).await
    }

    /// A client of a system admin (created on first use), for this organisation.
    pub async fn system_admin(&self) -> Client {
        self.server.system_admin(&self.org).await
    }
}

/// A client of `connection` with a bearer token.
pub fn token_client(connection: Connection, token: &str) -> Client {
    let tokens = Tokens {
        access: Secret::new(token),
        refresh: None,
    };
    Client::from_tokens(connection, tokens, &TransportConfig::default())
        .expect("a loopback connection is valid")
}

/// Something async (a server, say) kept running on a runtime of its own, for synchronous
/// tests and benchmarks: the runtime's worker threads serve it while the test blocks.
#[derive(Debug)]
pub struct OwnRuntime<T> {
    value: Option<T>,
    runtime: Option<tokio::runtime::Runtime>,
}

impl<T> OwnRuntime<T> {
    /// Starts a two-thread runtime and builds the value on it.
    pub fn start(build: impl Future<Output = T>) -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("a tokio runtime");
        let value = runtime.block_on(build);
        Self {
            value: Some(value),
            runtime: Some(runtime),
        }
    }

    /// Runs a future on the value's runtime.
    pub fn block_on<R>(&self, future: impl Future<Output = R>) -> R {
        self.runtime
            .as_ref()
            .expect("the runtime lives as long as its value")
            .block_on(future)
    }
}

impl<T> std::ops::Deref for OwnRuntime<T> {
    type Target = T;

    fn deref(&self) -> &T {
        self.value.as_ref().expect("the value lives until drop")
    }
}

impl<T> Drop for OwnRuntime<T> {
    fn drop(&mut self) {
        // The value first, inside its runtime (it may abort tasks), then the runtime.
        if let Some(runtime) = self.runtime.take() {
            let _guard = runtime.enter();
            drop(self.value.take());
            drop(_guard);
            runtime.shutdown_background();
        }
    }
}
