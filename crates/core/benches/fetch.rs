//! Full-fetch benchmark: every user of a 100,000-user organisation, 1,000 per page, from a
//! muster-server on loopback, by
//!
//! - **muster-core**: `client.users().list_all(count 1000)`, each user parsed into a typed
//!   `User`, in a fresh process (this binary re-run as a child) so its peak RSS is the
//!   client's alone; and the same walk as a full sync makes it
//!   (`for_each_page`, each page's users packed as they come and let go typed);
//! - **curl**, the floor: the same pages, in one curl process over one connection, into
//!   /dev/null (no parsing at all);
//! - **scim2-client** (python-scim, PyPI) over httpx2: the same pages, parsed into
//!   scim2-models objects (`scim2_client_fetch.py`).
//!
//! The server runs as its own process (the release binary), so it shares no memory or
//! runtime with the clients. Prints a table; BENCHMARKS.md records it.
//!
//! ```sh
//! cargo build --release -p muster-server   # the server the benchmark starts
//! scripts/python-peers                     # .venv with scim2-client
//! cargo bench -p muster-core --bench fetch
//! ```
//!
//! `BENCH_USERS` (default 100,000), `BENCH_RUNS` (timed runs of the client and of curl,
//! default 5; the median is reported), `BENCH_SKIP_PEER=1` (no scim2-client),
//! `MUSTER_SERVER_BIN` (the server binary, default `target/release/muster-server`),
//! `BENCH_SERVER_CPUS` / `BENCH_CLIENT_CPUS` (`taskset -c` lists: the server on one core,
//! the client and curl on the other, as with a remote server).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use muster_core::Client;
use muster_core::auth::Tokens;
use muster_core::cache::PackedUser;
use muster_core::connection::Connection;
use muster_core::query::ListQuery;
use muster_core::secret::Secret;
use muster_core::transport::TransportConfig;
use muster_test_support::bench::{env_number, group, median, pinned, proc_status_kib};
use muster_test_support::process::{BenchServer, release_server};
use serde_json::Value;

const ORG: &str = "bench";
const PAGE: u64 = 1000;
/// Page requests muster-core keeps in flight once it knows the total.
const IN_FLIGHT: usize = 3;

/// The release muster-server over a data directory seeded once with `users` people.
fn start_server(users: usize) -> BenchServer {
    let name = format!("muster-fetch-bench-{users}");
    BenchServer::start(release_server(), &name, ORG, users)
}

fn main() {
    if let Ok(root) = std::env::var("BENCH_CLIENT_ROOT") {
        client_child(&root);
        return;
    }
    let users: usize = env_number("BENCH_USERS", 100_000);
    let runs: usize = env_number("BENCH_RUNS", 5).max(1);
    let server = start_server(users);
    let scim = format!("{}/o/{ORG}/scim/v2", server.root());

    // Warm the server (SQLite page cache, connection set-up) once; not counted.
    let warm = run_client(&server, Mode::Typed);
    let total = warm.users;
    println!(
        "users: {} in {} pages of {PAGE}",
        group(total),
        total.div_ceil(PAGE)
    );

    // Client and curl runs alternate, so a noisy moment on the machine hits both alike.
    let config = curl_config(&server, &scim, total);
    let mut client = Vec::new();
    let mut packed = Vec::new();
    let mut packed_peak = 0;
    let mut curl = Vec::new();
    let mut curl_parallel = Vec::new();
    let mut peak = 0;
    let mut baseline = 0;
    let mut bytes = 0;
    for _ in 0..runs {
        let run = run_client(&server, Mode::Packed);
        assert_eq!(run.users, total, "every run fetches every user");
        packed.push(run.seconds);
        packed_peak = packed_peak.max(run.peak_kib);
        let run = run_client(&server, Mode::Typed);
        assert_eq!(run.users, total, "every run fetches every user");
        client.push(run.seconds);
        peak = peak.max(run.peak_kib);
        baseline = run.baseline_kib;
        let (seconds, downloaded) = run_curl(&config, 1);
        curl.push(seconds);
        bytes = downloaded;
        curl_parallel.push(run_curl(&config, IN_FLIGHT).0);
    }
    let _ = std::fs::remove_file(&config);

    let client_s = median(&mut client);
    let packed_s = median(&mut packed);
    let curl_s = median(&mut curl);
    let curl_parallel_s = median(&mut curl_parallel);
    println!("JSON fetched per walk: {:.1} MB", bytes as f64 / 1e6);
    println!();
    println!(
        "muster-core list_all  {client_s:>8.3} s  (median of {runs}; best {:.3} s)",
        client[0]
    );
    println!(
        "curl floor            {curl_s:>8.3} s  (median of {runs}; best {:.3} s)",
        curl[0]
    );
    println!(
        "  client / curl       {:>8.2}x   (target <= 1.3x)",
        client_s / curl_s
    );
    println!(
        "curl, {IN_FLIGHT} in flight     {curl_parallel_s:>8.3} s  (median of {runs}; as many requests at once as the client)"
    );
    println!("  client / that       {:>8.2}x", client_s / curl_parallel_s);
    println!(
        "client peak RSS       {:>8.1} MiB (process; {:.1} MiB before the fetch)",
        peak as f64 / 1024.0,
        baseline as f64 / 1024.0
    );
    println!(
        "muster-core packed    {packed_s:>8.3} s  (median of {runs}; best {:.3} s; as a full sync walks)",
        packed[0]
    );
    println!("  packed / curl-3     {:>8.2}x", packed_s / curl_parallel_s);
    println!(
        "packed peak RSS       {:>8.1} MiB (process)",
        packed_peak as f64 / 1024.0
    );

    if std::env::var("BENCH_SKIP_PEER").is_ok() {
        return;
    }
    match run_scim2_client(&scim, &server.token, total) {
        Some(peer) => {
            println!(
                "scim2-client          {:>8.3} s  (one run; discovery {:.3} s more; peak RSS {:.1} MiB)",
                peer.fetch_seconds,
                peer.discover_seconds,
                peer.peak_kib as f64 / 1024.0
            );
            println!(
                "  scim2-client / client {:>6.1}x   (target >= 10x)",
                peer.fetch_seconds / client_s
            );
            // The bound on that ratio for any client no faster than the floor.
            println!(
                "  scim2-client / curl   {:>6.1}x   (the most a client at the floor could show)",
                peer.fetch_seconds / curl_s
            );
        }
        None => println!("scim2-client          skipped: run scripts/python-peers first"),
    }
}

struct ClientRun {
    seconds: f64,
    users: u64,
    peak_kib: u64,
    baseline_kib: u64,
}

/// How the client child keeps what it fetched.
#[derive(Clone, Copy)]
enum Mode {
    /// `list_all`: every user typed, all kept.
    Typed,
    /// `for_each_page`: each page's users packed, the typed ones let go.
    Packed,
}

/// Runs this binary as the client child and reads its figures.
fn run_client(server: &BenchServer, mode: Mode) -> ClientRun {
    let output = pinned(std::env::current_exe().unwrap(), "BENCH_CLIENT_CPUS")
        .env("BENCH_CLIENT_ROOT", server.root())
        .env(
            "BENCH_CLIENT_MODE",
            match mode {
                Mode::Typed => "typed",
                Mode::Packed => "packed",
            },
        )
        .env("BENCH_TOKEN", &server.token)
        .stderr(Stdio::inherit())
        .output()
        .unwrap();
    assert!(output.status.success(), "the client child failed");
    let line = String::from_utf8(output.stdout).unwrap();
    let value: Value = serde_json::from_str(line.trim()).unwrap();
    ClientRun {
        seconds: value["seconds"].as_f64().unwrap(),
        users: value["users"].as_u64().unwrap(),
        peak_kib: value["peakKib"].as_u64().unwrap(),
        baseline_kib: value["baselineKib"].as_u64().unwrap(),
    }
}

/// The child: one full fetch, timed, with the process's peak RSS. Prints one JSON line.
fn client_child(root: &str) {
    let token = std::env::var("BENCH_TOKEN").unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let client = Client::from_tokens(
        Connection::muster(root, ORG),
        Tokens {
            access: Secret::new(token),
            refresh: None,
        },
        &TransportConfig::default(),
    )
    .unwrap();
    let baseline = proc_status_kib("VmRSS");
    let query = ListQuery {
        count: Some(PAGE),
        ..ListQuery::default()
    };
    let packed = std::env::var("BENCH_CLIENT_MODE").is_ok_and(|mode| mode == "packed");
    let started = Instant::now();
    let count = if packed {
        let mut users = Vec::new();
        runtime
            .block_on(client.users().for_each_page(
                &query,
                |_| {},
                |page| {
                    users.extend(page.iter().map(PackedUser::pack));
                    Ok(())
                },
            ))
            .unwrap();
        assert!(
            users.iter().all(|u| u.id().is_some()),
            "packed users with ids"
        );
        users.len()
    } else {
        let users = runtime
            .block_on(client.users().list_all(&query, |_| {}))
            .unwrap();
        assert!(users.iter().all(|u| u.id.is_some()), "typed users with ids");
        users.len()
    };
    let seconds = started.elapsed().as_secs_f64();
    let peak = proc_status_kib("VmHWM");
    println!(
        "{}",
        serde_json::json!({
            "seconds": seconds,
            "users": count,
            "peakKib": peak,
            "baselineKib": baseline,
        })
    );
}

/// A curl config asking for the client's pages: `startIndex=1, 1001, …` up to `total`,
/// each into /dev/null, printing the bytes of each. Private to its owner: it holds the
/// benchmark's token.
fn curl_config(server: &BenchServer, scim: &str, total: u64) -> PathBuf {
    let path = std::env::temp_dir().join(format!("muster-fetch-bench-{}.curl", std::process::id()));
    let mut text = format!(
        "silent\nfail\nheader = \"Authorization: Bearer {}\"\n\
         header = \"Accept: application/scim+json, application/json\"\n\
         write-out = \"%{{size_download}}\\n\"\n",
        server.token
    );
    let mut start = 1;
    while start <= total {
        text.push_str(&format!(
            "url = \"{scim}/Users?startIndex={start}&count={PAGE}\"\noutput = \"/dev/null\"\n"
        ));
        start += PAGE;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    use std::io::Write;
    options
        .open(&path)
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    path
}

/// One curl process fetching every page; its wall time and the bytes it received.
/// One curl process fetching every page: one at a time, or `parallel` at once.
fn run_curl(config: &Path, parallel: usize) -> (f64, u64) {
    let started = Instant::now();
    let mut command = pinned("curl", "BENCH_CLIENT_CPUS");
    if parallel > 1 {
        command.args(["--parallel", "--parallel-max", &parallel.to_string()]);
    }
    let output = command
        .arg("-K")
        .arg(config)
        .output()
        .expect("curl is installed");
    let seconds = started.elapsed().as_secs_f64();
    assert!(
        output.status.success(),
        "curl failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let bytes = String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|l| l.trim().parse::<u64>().ok())
        .sum();
    (seconds, bytes)
}

struct PeerRun {
    discover_seconds: f64,
    fetch_seconds: f64,
    peak_kib: u64,
}

/// scim2-client over the same pages, when the venv has it.
fn run_scim2_client(scim: &str, token: &str, total: u64) -> Option<PeerRun> {
    let python = muster_test_support::workspace().join(".venv/bin/python");
    if !python.exists() {
        return None;
    }
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/scim2_client_fetch.py");
    let output = Command::new(python)
        .arg(script)
        .args([scim, &PAGE.to_string(), &total.to_string()])
        .env("BENCH_TOKEN", token)
        .stderr(Stdio::inherit())
        .output()
        .ok()?;
    if !output.status.success() {
        return None;
    }
    let value: Value = serde_json::from_slice(&output.stdout).ok()?;
    assert_eq!(
        value["users"].as_u64(),
        Some(total),
        "scim2-client fetched every user"
    );
    Some(PeerRun {
        discover_seconds: value["discover_seconds"].as_f64()?,
        fetch_seconds: value["fetch_seconds"].as_f64()?,
        peak_kib: value["peak_kib"].as_u64().unwrap_or(0),
    })
}
