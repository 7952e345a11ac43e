//! A real muster-server on 127.0.0.1:0 (in this process, on a runtime of its own) with a
//! seeded organisation, and a runner for the real `muster` binary with its config dir in a
//! temporary directory and only the environment each test gives it.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::Arc;

pub use muster_test_support::server::SYSTEM_ADMIN;
use muster_test_support::server::{Muster as SeededServer, OwnRuntime};
use muster_test_support::{PASSWORD, TempDir};
use serde_json::Value;

/// The organisation every test server holds.
pub const ORG: &str = "acme";

/// Its admin, who signs in with [`ADMIN_PASSWORD`].
pub const ADMIN_EMAIL: &str = "admin@acme.test";

/// The password of the seeded admin.
pub const ADMIN_PASSWORD: &str = PASSWORD;

/// How many users the organisation is seeded with (the admin included).
pub const SEEDED_USERS: usize = 40;

/// A running server with a seeded organisation, on a runtime of its own (these tests are
/// synchronous: they run the `muster` binary and wait for it).
pub struct Server {
    /// `http://127.0.0.1:<port>`.
    pub base: String,
    /// An API token of the organisation's integration user (admin role).
    pub token: String,
    server: OwnRuntime<SeededServer>,
}

impl Server {
    /// Seeds [`ORG`] with [`SEEDED_USERS`] generated users and an API token, and serves it.
    pub fn start() -> Self {
        let server = OwnRuntime::start(SeededServer::start(ORG, SEEDED_USERS));
        Self {
            base: server.url.clone(),
            token: server.token.clone(),
            server,
        }
    }

    /// A `muster` runner with a profile `test` (the default) for this server, signing in
    /// with the API token.
    pub fn muster(&self) -> Muster {
        self.muster_at(&self.base)
    }

    /// As [`Server::muster`], reaching the server at `base` (a proxy in front of it).
    pub fn muster_at(&self, base: &str) -> Muster {
        let muster = Muster::new().env("MUSTER_TOKEN", &self.token);
        muster
            .run(&["profiles", "add", "test", "--server", base, "--org", ORG])
            .success();
        muster
    }

    /// Up to `n` active users, not admins, who hold no responsibilities (deletable with
    /// no handover).
    pub fn users_without_work(&self, n: usize) -> Vec<String> {
        self.server.users_without_work(n)
    }

    /// Adds an active person of [`ORG`] with `role` who signs in with `email` and
    /// [`ADMIN_PASSWORD`]; returns their id.
    pub fn seed_person(&self, user_name: &str, email: &str, role: &str) -> String {
        self.server
            .server
            .seed_person(ORG, user_name, email, role, ADMIN_PASSWORD)
    }

    /// Creates another organisation, `org`, and returns an API token of its integration
    /// account (role admin).
    pub fn other_org(&self, org: &str) -> String {
        self.server.server.seed_org(org)
    }

    /// Adds the system admin [`SYSTEM_ADMIN`], who signs in with [`ADMIN_PASSWORD`].
    pub fn seed_system_admin(&self) {
        self.server.server.seed_system_admin(SYSTEM_ADMIN);
    }

    /// Runs one SQL query returning one text column, on the server's database.
    pub fn query_one(&self, sql: &str) -> Option<String> {
        self.server
            .state
            .db
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

/// Runs the `muster` binary with a private config dir and a controlled environment.
/// Clones share the config dir (and so the profiles) but not later environment changes.
#[derive(Clone)]
pub struct Muster {
    config: Arc<ConfigDir>,
    env: Vec<(String, String)>,
    real_keychain: bool,
}

/// A config dir and a cache dir, removed when the last runner using them is dropped.
struct ConfigDir(TempDir, TempDir);

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
            config: Arc::new(ConfigDir(
                TempDir::new("cli-config"),
                TempDir::new("cli-cache"),
            )),
            env: Vec::new(),
            real_keychain: false,
        }
    }

    /// The same runner using the session's real keychain (the `keychain::` tests, run
    /// under `dbus-run-session` with gnome-keyring by `scripts/test`).
    pub fn with_real_keychain(mut self) -> Self {
        self.real_keychain = true;
        self
    }

    /// The cache dir (`MUSTER_CACHE_DIR`).
    pub fn cache_dir(&self) -> &Path {
        self.config.1.path()
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
        self.config.0.path()
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
        command.env("MUSTER_CONFIG_DIR", self.config.0.path());
        command.env("MUSTER_CACHE_DIR", self.config.1.path());
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
        walk(self.config.0.path(), &mut files);
        files
    }
}

/// `muster` signing in with a password as `email` (a person [`Server::seed_person`]
/// added), instead of the admin's token.
pub fn as_person(muster: &Muster, email: &str) -> Muster {
    muster
        .clone()
        .without("MUSTER_TOKEN")
        .env("MUSTER_EMAIL", email)
        .env("MUSTER_PASSWORD", ADMIN_PASSWORD)
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
