//! List-query benchmark: muster-server against scim2-server (python-scim, PyPI) on the same
//! generated organisation, both as separate processes on loopback.
//!
//! Measures the p50 of a filtered page (`name.familyName sw "Sm"`, count 100) and the wall
//! time of a full paged walk with count 1,000. Prints a table; BENCHMARKS.md records it.
//!
//! ```sh
//! scripts/python-peers   # .venv with scim2-server
//! BENCH_USERS=100000 cargo bench -p muster-server --bench list
//! ```
//! `BENCH_USERS` defaults to 100,000; `BENCH_SKIP_PEER=1` measures muster-server alone.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

const FILTER: &str = r#"name.familyName sw "Sm""#;

struct Server {
    child: Child,
    base: String,
    token: Option<String>,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn main() {
    let users: usize = std::env::var("BENCH_USERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(600))
        .build()
        .unwrap();
    println!("users: {users}");

    let muster = start_muster(users);
    let ours = runtime.block_on(measure(&http, &muster, "muster-server"));

    if std::env::var("BENCH_SKIP_PEER").is_ok() {
        return;
    }
    let peer = start_peer();
    runtime.block_on(seed_peer(&http, &peer, users));
    let theirs = runtime.block_on(measure(&http, &peer, "scim2-server"));
    println!();
    println!(
        "filtered page p50: muster-server {:.2} ms, scim2-server {:.2} ms ({:.1}x)",
        ours.0,
        theirs.0,
        theirs.0 / ours.0
    );
    println!(
        "full walk:         muster-server {:.2} s, scim2-server {:.2} s ({:.1}x)",
        ours.1,
        theirs.1,
        theirs.1 / ours.1
    );
}

fn start_muster(users: usize) -> Server {
    let bin = env!("CARGO_BIN_EXE_muster-server");
    let data = std::env::temp_dir().join(format!("muster-bench-{users}"));
    if !data.join("muster.db").exists() {
        let started = Instant::now();
        let status = Command::new(bin)
            .args([
                "--data",
                data.to_str().unwrap(),
                "seed-org",
                "bench",
                "--users",
                &users.to_string(),
            ])
            .status()
            .unwrap();
        assert!(status.success(), "seeding muster-server failed");
        println!(
            "seeded muster-server in {:.1} s",
            started.elapsed().as_secs_f64()
        );
    }
    let token = Command::new(bin)
        .args([
            "--data",
            data.to_str().unwrap(),
            "create-api-token",
            "--org",
            "bench",
            "--user",
            "bench-client",
        ])
        .output()
        .unwrap();
    assert!(
        token.status.success(),
        "create-api-token failed: {}",
        String::from_utf8_lossy(&token.stderr)
    );
    let token = String::from_utf8(token.stdout).unwrap().trim().to_owned();
    let mut child = Command::new(bin)
        .args(["--data", data.to_str().unwrap(), "--listen", "127.0.0.1:0"])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).unwrap();
    let url = line.trim().rsplit(' ').next().unwrap().to_owned();
    Server {
        child,
        base: format!("{url}/o/bench/scim/v2"),
        token: Some(token),
    }
}

fn start_peer() -> Server {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let bin = root.join(".venv/bin/scim2-server");
    assert!(
        bin.exists(),
        "run scripts/python-peers first: {} is missing",
        bin.display()
    );
    let port = free_port();
    let child = Command::new(bin)
        .args(["--hostname", "127.0.0.1", "--port", &port.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}/v2");
    for _ in 0..200 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Server {
        child,
        base,
        token: None,
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Seeds scim2-server with the same generated people through its Bulk endpoint, 1,000
/// operations a request (its maximum). It has no shop extension, so that part is left out.
async fn seed_peer(http: &reqwest::Client, peer: &Server, users: usize) {
    let started = Instant::now();
    let mut rng = muster_server::demo::people_rng("bench");
    let mut index = 0;
    while index < users {
        let batch = (users - index).min(1000);
        let operations: Vec<Value> = (0..batch)
            .map(|offset| {
                let mut doc = muster_server::demo::user_doc(&mut rng, "bench.test", index + offset);
                doc.as_object_mut().unwrap().remove(muster_scim::urn::SHOP_USER);
                doc["schemas"] = json!([muster_scim::urn::USER, muster_scim::urn::ENTERPRISE_USER]);
                json!({"method": "POST", "path": "/Users", "bulkId": format!("u{}", index + offset), "data": doc})
            })
            .collect();
        let body = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"], "Operations": operations});
        let response = http
            .post(format!("{}/Bulk", peer.base))
            .header("content-type", "application/scim+json")
            .json(&body)
            .send()
            .await
            .unwrap();
        assert!(
            response.status().is_success(),
            "bulk seeding failed: {}",
            response.text().await.unwrap()
        );
        index += batch;
    }
    println!(
        "seeded scim2-server in {:.1} s",
        started.elapsed().as_secs_f64()
    );
}

async fn get(http: &reqwest::Client, server: &Server, query: &[(&str, String)]) -> Value {
    let mut request = http.get(format!("{}/Users", server.base)).query(query);
    if let Some(token) = &server.token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.unwrap();
    assert!(
        response.status().is_success(),
        "list failed: {}",
        response.status()
    );
    response.json().await.unwrap()
}

/// Returns (filtered page p50 in ms, full walk in s).
async fn measure(http: &reqwest::Client, server: &Server, name: &str) -> (f64, f64) {
    let filtered = [("filter", FILTER.to_owned()), ("count", "100".to_owned())];
    let first = get(http, server, &filtered).await;
    let matches = first["totalResults"].as_u64().unwrap_or(0);
    let mut samples = Vec::new();
    for _ in 0..5 {
        get(http, server, &filtered).await;
    }
    let rounds = 100;
    for _ in 0..rounds {
        let started = Instant::now();
        let page = get(http, server, &filtered).await;
        samples.push(started.elapsed().as_secs_f64() * 1000.0);
        assert_eq!(page["totalResults"].as_u64(), Some(matches));
    }
    samples.sort_by(f64::total_cmp);
    let p50 = samples[samples.len() / 2];
    let p95 = samples[samples.len() * 95 / 100];

    let started = Instant::now();
    let mut start = 1;
    let mut fetched = 0;
    loop {
        let page = get(
            http,
            server,
            &[
                ("startIndex", start.to_string()),
                ("count", "1000".to_owned()),
            ],
        )
        .await;
        let n = page["Resources"].as_array().map_or(0, Vec::len);
        fetched += n;
        let total = page["totalResults"].as_u64().unwrap_or(0) as usize;
        if n == 0 || fetched >= total {
            break;
        }
        start += n;
    }
    let walk = started.elapsed().as_secs_f64();
    println!(
        "{name:<14} filtered page ({matches} matches): p50 {p50:.2} ms, p95 {p95:.2} ms over {rounds}; \
         full walk of {fetched} users, count 1000: {walk:.2} s"
    );
    (p50, walk)
}
