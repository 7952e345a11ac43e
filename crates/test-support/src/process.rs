//! muster-server as its own process, started from a built binary: for tests that stop the
//! server and start it again (the app goes offline and back), for the end-to-end tests,
//! and for benchmarks, which measure the release build.

use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::workspace;

/// The built binary `name` of `profile` (`debug`, `release`): the path in environment
/// variable `var` when set, else `<target dir>/<profile>/<name>`. It must exist.
pub fn built_binary(var: &str, profile: &str, name: &str) -> PathBuf {
    let path = std::env::var_os(var).map(PathBuf::from).unwrap_or_else(|| {
        std::env::var_os("CARGO_TARGET_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| workspace().join("target"))
            .join(profile)
            .join(name)
    });
    assert!(
        path.exists(),
        "{} is missing: build it first (scripts/e2e builds the tests' binaries; a benchmark \
         says which release build it needs), or set {var}",
        path.display(),
    );
    path
}

/// The data directory of a muster-server process, and the commands that administer it.
#[derive(Debug, Clone)]
pub struct DataDir {
    /// The server binary.
    pub bin: PathBuf,
    /// The directory.
    pub path: PathBuf,
}

impl DataDir {
    /// `path` as served by `bin`.
    pub fn new(bin: impl Into<PathBuf>, path: impl Into<PathBuf>) -> Self {
        Self {
            bin: bin.into(),
            path: path.into(),
        }
    }

    /// Whether it holds a database already (a benchmark seeds once and reuses it).
    pub fn is_seeded(&self) -> bool {
        self.path.join("muster.db").exists()
    }

    /// `seed-org ORG --users N`: the demo's generated people, with [`crate::PASSWORD`].
    pub fn seed_org(&self, org: &str, users: usize) {
        let status = self
            .command()
            .args(["seed-org", org, "--users", &users.to_string()])
            .stdout(Stdio::null())
            .status()
            .expect("muster-server runs");
        assert!(status.success(), "seeding {org} with {users} users failed");
    }

    /// `create-api-token --org ORG --user USER`: the token it prints once.
    pub fn create_api_token(&self, org: &str, user: &str) -> String {
        let out = self
            .command()
            .args(["create-api-token", "--org", org, "--user", user])
            .output()
            .expect("muster-server runs");
        assert!(
            out.status.success(),
            "create-api-token failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout)
            .expect("a token is text")
            .trim()
            .to_owned()
    }

    /// `create-system-admin EMAIL` with `password` on its stdin.
    pub fn create_system_admin(&self, email: &str, password: &str) {
        let mut child = self
            .command()
            .args(["create-system-admin", email])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .expect("muster-server runs");
        if let Some(mut stdin) = child.stdin.take() {
            stdin
                .write_all(password.as_bytes())
                .expect("the password goes to its stdin");
        }
        let status = child.wait().expect("muster-server exits");
        assert!(status.success(), "create-system-admin {email} failed");
    }

    fn command(&self) -> Command {
        let mut command = Command::new(&self.bin);
        command
            .arg("--data")
            .arg(&self.path)
            .env("RUST_LOG", "warn");
        command
    }
}

/// A muster-server process serving a [`DataDir`] on a loopback port. Killed on drop.
#[derive(Debug)]
pub struct ServerProcess {
    /// `http://127.0.0.1:<port>`.
    pub url: String,
    /// What it serves.
    pub data: DataDir,
    port: u16,
    extra: Vec<String>,
    child: Option<Child>,
}

impl ServerProcess {
    /// Serves `data` on a port the system picks, with `extra` arguments (`--api-rate 0`…);
    /// returns once it says where it listens.
    pub fn serve(data: DataDir, extra: &[&str]) -> Self {
        let mut server = Self {
            url: String::new(),
            data,
            port: 0,
            extra: extra.iter().map(|&arg| arg.to_owned()).collect(),
            child: None,
        };
        server.resume();
        server
    }

    /// Starts serving again, on the same port once it has one.
    pub fn resume(&mut self) {
        assert!(self.child.is_none(), "the server is running already");
        let mut child = crate::bench::pinned(&self.data.bin, "BENCH_SERVER_CPUS")
            .arg("--data")
            .arg(&self.data.path)
            .args(["--listen", &format!("127.0.0.1:{}", self.port)])
            .args(&self.extra)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("muster-server starts");
        let stdout = child.stdout.take().expect("its stdout is piped");
        let mut line = String::new();
        let started = Instant::now();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("muster-server writes to its stdout");
        let url = line
            .trim()
            .strip_prefix("Muster server listening on ")
            .unwrap_or_else(|| {
                let _ = child.kill();
                panic!("muster-server did not start: it said {line:?}")
            })
            .to_owned();
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "muster-server took over a minute to start"
        );
        self.port = url
            .rsplit(':')
            .next()
            .and_then(|port| port.parse().ok())
            .expect("the URL ends with a port");
        self.url = url;
        self.child = Some(child);
    }

    /// Stops the process: its port refuses connections until [`ServerProcess::resume`].
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// The SCIM base URL of `org`.
    pub fn scim_base(&self, org: &str) -> String {
        format!("{}/o/{org}/scim/v2", self.url)
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The release build of muster-server (or `MUSTER_SERVER_BIN`), which benchmarks measure.
pub fn release_server() -> PathBuf {
    built_binary("MUSTER_SERVER_BIN", "release", "muster-server")
}

/// A benchmark's server process and an API token of its organisation.
#[derive(Debug)]
pub struct BenchServer {
    /// The running server.
    pub process: ServerProcess,
    /// A fresh API token of the benchmark's organisation.
    pub token: String,
}

impl BenchServer {
    /// `bin` serving `<temp dir>/<name>`, which is seeded with `users` people of `org` the
    /// first time and reused after (seeding 100,000 takes a while), with a fresh API token
    /// of that org.
    pub fn start(bin: PathBuf, name: &str, org: &str, users: usize) -> Self {
        let data = DataDir::new(bin, std::env::temp_dir().join(name));
        if !data.is_seeded() {
            let started = Instant::now();
            data.seed_org(org, users);
            println!(
                "seeded {users} users in {:.1} s",
                started.elapsed().as_secs_f64()
            );
        }
        let token = data.create_api_token(org, "bench-client");
        Self {
            process: ServerProcess::serve(data, &[]),
            token,
        }
    }

    /// The server's root URL.
    pub fn root(&self) -> &str {
        &self.process.url
    }
}
