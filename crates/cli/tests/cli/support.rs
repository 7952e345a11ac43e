//! A real muster-server on 127.0.0.1:0 (in this process, on its own runtime thread) with a
//! seeded organisation, and a runner for the real `muster` binary with its config dir in a
//! temporary directory and only the environment each test gives it.

use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use muster_server::db::Db;
use muster_server::demo::{DEMO_PASSWORD, OrgSpec};
use muster_server::{AppState, app};
use serde_json::Value;

/// The organisation every test server holds.
pub const ORG: &str = "acme";

/// Its admin, who signs in with [`DEMO_PASSWORD`].
pub const ADMIN_EMAIL: &str = "admin@acme.test";

/// The password of the seeded admin.
pub const ADMIN_PASSWORD: &str = DEMO_PASSWORD;

/// How many users the organisation is seeded with (the admin included).
pub const SEEDED_USERS: usize = 40;

/// A running server with a seeded organisation.
pub struct Server {
    /// `http://127.0.0.1:<port>`.
    pub base: String,
    /// An API token of the organisation's integration user (admin role).
    pub token: String,
    /// The server's database, for looking things up directly.
    pub db: Db,
    dir: PathBuf,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Server {
    /// Seeds [`ORG`] with [`SEEDED_USERS`] generated users and an API token, and serves it.
    pub fn start() -> Self {
        let dir = temp_dir("server");
        let db = Db::open(&dir).expect("the test database opens");
        let now = time::OffsetDateTime::now_utc();
        let hash = muster_server::auth::hash_password(ADMIN_PASSWORD).unwrap();
        let spec = OrgSpec {
            id: ORG,
            name: "Acme Sprinklers",
            domain: "acme.test",
            users: SEEDED_USERS,
        };
        let token = db
            .write_blocking(|tx| {
                muster_server::demo::seed_org(tx, &spec, &hash, now)?;
                muster_server::admin::integration_token(tx, ORG, "integration", now)
            })
            .unwrap();
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let state = AppState::new(db.clone());
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).unwrap();
                let service = app(state).into_make_service_with_connect_info::<SocketAddr>();
                axum::serve(listener, service)
                    .with_graceful_shutdown(async {
                        let _ = stopped.await;
                    })
                    .await
                    .unwrap();
            });
        });
        Self {
            base,
            token,
            db,
            dir,
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    /// A `muster` runner with a profile `test` (the default) for this server, signing in
    /// with the API token.
    pub fn muster(&self) -> Muster {
        let muster = Muster::new().env("MUSTER_TOKEN", &self.token);
        muster
            .run(&[
                "profiles", "add", "test", "--server", &self.base, "--org", ORG,
            ])
            .success();
        muster
    }

    /// Runs one SQL query returning one text column, on the server's database.
    pub fn query_one(&self, sql: &str) -> Option<String> {
        self.db
            .write_blocking(|tx| {
                let mut statement = tx.prepare(sql)?;
                let mut rows = statement.query([])?;
                Ok(match rows.next()? {
                    Some(row) => Some(row.get::<_, String>(0)?),
                    None => None,
                })
            })
            .unwrap()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A fresh directory under the system temp dir.
pub fn temp_dir(what: &str) -> PathBuf {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let dir = std::env::temp_dir().join("muster-cli-tests").join(format!(
        "{what}-{}-{}-{nanos}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Runs the `muster` binary with a private config dir and a controlled environment.
/// Clones share the config dir (and so the profiles) but not later environment changes.
#[derive(Clone)]
pub struct Muster {
    config: Arc<ConfigDir>,
    env: Vec<(String, String)>,
    real_keychain: bool,
}

/// A config dir and a cache dir, removed when the last runner using them is dropped.
struct ConfigDir(PathBuf, PathBuf);

impl Drop for ConfigDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
        let _ = std::fs::remove_dir_all(&self.1);
    }
}

/// What a run gave.
pub struct Run {
    /// Exit code.
    pub code: i32,
    /// stdout.
    pub stdout: String,
    /// stderr.
    pub stderr: String,
}

impl Run {
    fn from(output: Output) -> Self {
        Self {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    /// Asserts success and returns self.
    #[track_caller]
    pub fn success(self) -> Self {
        assert_eq!(
            self.code, 0,
            "the command should succeed; stdout: {}\nstderr: {}",
            self.stdout, self.stderr
        );
        self
    }

    /// Asserts the exit code and returns self.
    #[track_caller]
    pub fn code(self, expected: i32) -> Self {
        assert_eq!(
            self.code, expected,
            "exit code; stdout: {}\nstderr: {}",
            self.stdout, self.stderr
        );
        self
    }

    /// stdout as JSON.
    #[track_caller]
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is JSON ({e}): {}", self.stdout))
    }
}

impl Muster {
    /// A runner with an empty config dir, an empty cache dir, no credentials, and no
    /// keychain (the session bus points nowhere, so the keychain is reliably unavailable;
    /// see [`Muster::with_real_keychain`]).
    pub fn new() -> Self {
        Self {
            config: Arc::new(ConfigDir(temp_dir("config"), temp_dir("cache"))),
            env: Vec::new(),
            real_keychain: false,
        }
    }

    /// The same runner using the session's real keychain (the `keychain` test binary,
    /// run under `dbus-run-session` with gnome-keyring by `scripts/test`).
    #[allow(dead_code, reason = "used by the keychain binary only")]
    pub fn with_real_keychain(mut self) -> Self {
        self.real_keychain = true;
        self
    }

    /// The cache dir (`MUSTER_CACHE_DIR`).
    pub fn cache_dir(&self) -> &Path {
        &self.config.1
    }

    /// The same runner with one more environment variable.
    pub fn env(mut self, name: &str, value: &str) -> Self {
        self.env.retain(|(n, _)| n != name);
        self.env.push((name.to_owned(), value.to_owned()));
        self
    }

    /// The same runner without an environment variable it was given.
    pub fn without(mut self, name: &str) -> Self {
        self.env.retain(|(n, _)| n != name);
        self
    }

    /// The config dir (`MUSTER_CONFIG_DIR`).
    pub fn config_dir(&self) -> &Path {
        &self.config.0
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_muster"));
        command.args(args);
        for name in [
            "MUSTER_TOKEN",
            "MUSTER_EMAIL",
            "MUSTER_PASSWORD",
            "MUSTER_TOTP",
            "MUSTER_PROFILE",
        ] {
            command.env_remove(name);
        }
        command.env("MUSTER_CONFIG_DIR", &self.config.0);
        command.env("MUSTER_CACHE_DIR", &self.config.1);
        if !self.real_keychain {
            command.env(
                "DBUS_SESSION_BUS_ADDRESS",
                "unix:path=/nonexistent/muster-test-bus",
            );
        }
        for (name, value) in &self.env {
            command.env(name, value);
        }
        command
    }

    /// Runs `muster ARGS` with stdin empty (not a terminal).
    pub fn run(&self, args: &[&str]) -> Run {
        let output = self
            .command(args)
            .stdin(Stdio::null())
            .output()
            .expect("muster runs");
        Run::from(output)
    }

    /// Runs `muster ARGS` with `input` piped to stdin.
    pub fn run_with_stdin(&self, args: &[&str], input: &str) -> Run {
        let mut child = self
            .command(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("muster runs");
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
        Run::from(child.wait_with_output().unwrap())
    }

    /// Every file under the config dir, with its contents.
    pub fn config_files(&self) -> Vec<(PathBuf, String)> {
        fn walk(dir: &Path, out: &mut Vec<(PathBuf, String)>) {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    walk(&path, out);
                } else {
                    let text = String::from_utf8_lossy(&std::fs::read(&path).unwrap()).into_owned();
                    out.push((path, text));
                }
            }
        }
        let mut files = Vec::new();
        walk(&self.config.0, &mut files);
        files
    }
}

/// The id of the user with this userName, looked up through `muster users list`.
pub fn user_id(muster: &Muster, user_name: &str) -> String {
    let filter = format!("userName eq \"{user_name}\"");
    let run = muster
        .run(&["users", "list", "--filter", &filter, "--json"])
        .success();
    let users = run.json();
    users[0]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("a user {user_name}: {users}"))
        .to_owned()
}
