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

use std::time::{Duration, Instant};

use muster_test_support::bench::env_number;
use muster_test_support::process::BenchServer;
use muster_test_support::scim2::Scim2;
use serde_json::Value;

const FILTER: &str = r#"name.familyName sw "Sm""#;

/// A SCIM base URL to measure and its bearer token.
struct Server {
    base: String,
    token: String,
}

fn main() {
    let users: usize = env_number("BENCH_USERS", 100_000);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(600))
        .build()
        .unwrap();
    println!("users: {users}");

    // The bench profile's build of this crate's server, as its own process.
    let BenchServer {
        process: muster,
        token,
    } = BenchServer::start(
        env!("CARGO_BIN_EXE_muster-server").into(),
        &format!("muster-bench-{users}"),
        "bench",
        users,
    );
    let ours = runtime.block_on(measure(
        &http,
        &Server {
            base: muster.scim_base("bench"),
            token,
        },
        "muster-server",
    ));

    if std::env::var("BENCH_SKIP_PEER").is_ok() {
        return;
    }
    // The same generated people (the same seed and domain), without the shop extension.
    let peer = runtime.block_on(Scim2::start());
    let started = Instant::now();
    runtime.block_on(peer.seed_people("bench", "bench.test", users));
    println!(
        "seeded scim2-server in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let theirs = runtime.block_on(measure(
        &http,
        &Server {
            base: peer.base.clone(),
            token: peer.token.clone(),
        },
        "scim2-server",
    ));
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

async fn get(http: &reqwest::Client, server: &Server, query: &[(&str, String)]) -> Value {
    let response = http
        .get(format!("{}/Users", server.base))
        .query(query)
        .bearer_auth(&server.token)
        .send()
        .await
        .unwrap();
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
