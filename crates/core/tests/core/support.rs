//! What the tests run against: muster-server in-process on a loopback port over a fresh
//! data directory, and scim2-server (PyPI, from the `.venv` that `scripts/python-peers`
//! creates) as a child process with a bearer token.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use muster_core::Client;
use muster_core::auth::{Credentials, Tokens};
use muster_core::client::SignIn;
use muster_core::connection::Connection;
use muster_core::secret::Secret;
use muster_core::transport::TransportConfig;
use muster_server::AppState;
use muster_server::db::Db;
use muster_server::demo::{DEMO_PASSWORD, OrgSpec};
use serde_json::{Value, json};

/// The password of the seeded admin and of the system admin.
pub const PASSWORD: &str = DEMO_PASSWORD;

/// The system admin [`Muster::system_admin`] creates.
pub const SYSTEM_ADMIN: &str = "root@muster.example";

/// A muster-server running in this process.
pub struct Muster {
    /// `http://127.0.0.1:<port>`.
    pub url: String,
    /// The seeded organisation.
    pub org: String,
    /// Its email domain: the admin is `admin@<domain>`.
    pub domain: String,
    /// An API token of the org's integration user (role admin).
    pub token: String,
    /// The server's state, for direct database access.
    pub state: AppState,
    dir: PathBuf,
}

impl Muster {
    /// Starts a server with organisation `org` holding `users` generated users (the admin
    /// among them; with lifecycle history, responsibilities and three groups) and an
    /// integration user with an API token.
    pub async fn start(org: &str, users: usize) -> Self {
        let dir = unique_dir();
        let db = Db::open(&dir).expect("a fresh data directory opens");
        let state = AppState::new(db);
        let domain = format!("{org}.test");
        let now = time::OffsetDateTime::now_utc();
        let spec = OrgSpec {
            id: org,
            name: org,
            domain: &domain,
            users,
        };
        let token = state
            .db
            .write_blocking(|tx| {
                muster_server::demo::seed_org(tx, &spec, password_hash(), now)?;
                muster_server::admin::integration_token(tx, org, "core-tests", now)
            })
            .expect("the organisation is seeded");
        let url = serve(muster_server::app(state.clone())).await;
        Self {
            url,
            org: org.to_owned(),
            domain,
            token,
            state,
            dir,
        }
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
        let credentials = Credentials::Password {
            email: email.to_owned(),
            password: Secret::new(password),
        };
        match Client::sign_in(self.connection(), credentials, &TransportConfig::default())
            .await
            .expect("the account signs in")
        {
            SignIn::Done(client) => client,
            SignIn::MfaRequired(_) => panic!("seeded accounts have no two-factor"),
        }
    }

    /// The seeded admin, signed in with a password.
    pub async fn admin(&self) -> Client {
        self.sign_in(&format!("admin@{}", self.domain), PASSWORD)
            .await
    }

    /// A client of a system admin (created on first use), for this organisation.
    pub async fn system_admin(&self) -> Client {
        let now = time::OffsetDateTime::now_utc();
        self.state
            .db
            .write_blocking(|tx| {
                muster_server::admin::ensure_system_admin(
                    tx,
                    SYSTEM_ADMIN,
                    "Root",
                    password_hash(),
                    now,
                )
            })
            .expect("the system admin is created");
        // A system admin signs in without an organisation.
        let answer: Value = reqwest::Client::new()
            .post(format!("{}/auth/token", self.url))
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
        Client::from_tokens(self.connection(), tokens, &TransportConfig::default())
            .expect("a loopback connection is valid")
    }
}

impl Drop for Muster {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A client with a bearer token.
pub fn token_client(connection: Connection, token: &str) -> Client {
    let tokens = Tokens {
        access: Secret::new(token),
        refresh: None,
    };
    Client::from_tokens(connection, tokens, &TransportConfig::default())
        .expect("a loopback connection is valid")
}

/// Serves `router` on a fresh loopback port, with the peer address available to
/// handlers (as `main.rs` serves it); returns `http://127.0.0.1:<port>`.
pub async fn serve(router: axum::Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a loopback port");
    let url = format!("http://{}", listener.local_addr().expect("a bound address"));
    let service = router.into_make_service_with_connect_info::<SocketAddr>();
    tokio::spawn(async move { axum::serve(listener, service).await });
    url
}

/// The argon2 hash of [`PASSWORD`], computed once: it is slow on purpose.
pub fn password_hash() -> &'static str {
    static HASH: OnceLock<String> = OnceLock::new();
    HASH.get_or_init(|| muster_server::auth::hash_password(PASSWORD).expect("the password hashes"))
}

fn unique_dir() -> PathBuf {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let name = format!(
        "{}-{}-{nanos}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    );
    std::env::temp_dir().join("muster-core-tests").join(name)
}

/// scim2-server (python-scim, PyPI) as a child process: in memory, with a bearer token.
pub struct Scim2 {
    /// Its SCIM base URL, `http://127.0.0.1:<port>/v2`.
    pub base: String,
    /// The bearer token it accepts.
    pub token: String,
    child: Child,
}

impl Scim2 {
    /// Starts scim2-server from `.venv`, and waits until it answers.
    pub async fn start() -> Self {
        let bin =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.venv/bin/scim2-server");
        assert!(
            bin.exists(),
            "scim2-server is missing ({}): run scripts/python-peers to create the .venv with \
             the independent SCIM peers",
            bin.display()
        );
        let port = free_port();
        let token = format!("scim2-test-token-{port}");
        let child = Command::new(&bin)
            .args(["--hostname", "127.0.0.1", "--port", &port.to_string()])
            .args(["--bearer-token", &token])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("scim2-server starts");
        let mut server = Self {
            base: format!("http://127.0.0.1:{port}/v2"),
            token,
            child,
        };
        server.wait_until_up(port).await;
        server
    }

    async fn wait_until_up(&mut self, port: u16) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .is_ok()
            {
                return;
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("scim2-server exited at start ({status}); run scripts/python-peers");
            }
            assert!(
                Instant::now() < deadline,
                "scim2-server did not listen on port {port} within 30 s"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// A client with the server's bearer token.
    pub fn client(&self) -> Client {
        token_client(Connection::scim(&self.base), &self.token)
    }

    /// Creates `count` users through `/Bulk`, 1,000 operations a request: generated shop
    /// people with their core and enterprise attributes (scim2-server refuses attributes
    /// of schemas it does not serve). Returns their userNames.
    pub async fn seed_users(&self, count: usize) -> Vec<String> {
        let http = reqwest::Client::new();
        let mut rng = muster_server::demo::people_rng("scim2-tests");
        let mut names = Vec::with_capacity(count);
        let mut index = 0;
        while index < count {
            let batch = (count - index).min(1000);
            let operations: Vec<Value> = (index..index + batch)
                .map(|i| {
                    let mut doc = muster_server::demo::user_doc(&mut rng, "scim2.test", i);
                    if let Some(map) = doc.as_object_mut() {
                        map.remove(muster_scim::urn::SHOP_USER);
                    }
                    doc["schemas"] =
                        json!([muster_scim::urn::USER, muster_scim::urn::ENTERPRISE_USER]);
                    names.push(doc["userName"].as_str().unwrap_or_default().to_owned());
                    json!({"method": "POST", "path": "/Users", "bulkId": format!("u{i}"), "data": doc})
                })
                .collect();
            let body =
                json!({"schemas": [muster_scim::urn::BULK_REQUEST], "Operations": operations});
            let response = http
                .post(format!("{}/Bulk", self.base))
                .bearer_auth(&self.token)
                .header("content-type", "application/scim+json")
                .json(&body)
                .send()
                .await
                .expect("scim2-server answers /Bulk");
            let status = response.status();
            let answer: Value = response.json().await.expect("a bulk response");
            assert!(status.is_success(), "bulk seeding failed: {answer}");
            let failed = answer["Operations"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|op| !op["status"].as_str().unwrap_or("").starts_with('2'))
                .count();
            assert_eq!(failed, 0, "every bulk operation creates a user: {answer}");
            index += batch;
        }
        names
    }
}

impl Drop for Scim2 {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .expect("a free loopback port")
}
