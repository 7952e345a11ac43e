//! Bulk invite: 1,000 new people created and sent their welcome by the bulk runner
//! against muster-server, three ways: one at a time, six at a time, and through `/Bulk`.
//! Printed for each: wall time, requests a second (as the client sent them), failures
//! (target: none) and the speed-up over one at a time.
//!
//! Each run gets a fresh server (muster-server in this process, on its own runtime and
//! threads, over a fresh data directory), so one run's email counts do not limit the
//! next. Three settings:
//! - loopback, the API rate limit off: what the runner and the server can do;
//! - loopback, the server's default limits (100 requests a second, bursts of 600):
//!   the runner must wait out 429s, and still finish with no failures;
//! - a 20 ms round trip through a delay line (10 ms each way), the limit off: closer to a
//!   shop's admin on the internet.
//!
//! ```sh
//! cargo bench -p muster-core --bench bulk
//! ```
//!
//! `BENCH_PEOPLE` (default 1,000), `BENCH_RTT_MS` (default 20; 0 skips that setting).
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use muster_core::Client;
use muster_core::auth::Tokens;
use muster_core::bulk::{Context, Job, Operation, Options, Targets};
use muster_core::connection::Connection;
use muster_core::secret::Secret;
use muster_core::transport::TransportConfig;
use muster_scim::user::User;
use muster_server::ratelimit::{ApiRate, LimitSettings};
use muster_test_support::Muster;
use muster_test_support::bench::env_number;
use muster_test_support::server::{ClockStart, Options as ServerOptions, OwnRuntime};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const ORG: &str = "bench";

/// How the runner is asked to work.
#[derive(Clone, Copy)]
struct Way {
    name: &'static str,
    concurrency: usize,
    use_bulk: bool,
}

const WAYS: [Way; 3] = [
    Way {
        name: "one at a time",
        concurrency: 1,
        use_bulk: false,
    },
    Way {
        name: "6 at a time",
        concurrency: 6,
        use_bulk: false,
    },
    Way {
        name: "/Bulk (100 a request)",
        concurrency: 6,
        use_bulk: true,
    },
];

/// One measured run.
struct Run {
    wall: Duration,
    requests: usize,
    refused: usize,
    failed: usize,
    invited: usize,
}

fn main() {
    let people: usize = env_number("BENCH_PEOPLE", 1000);
    let rtt: u64 = env_number("BENCH_RTT_MS", 20);
    let joiners = joiners(people);
    let mut settings = vec![
        ("loopback", "off", ApiRate::new(0, 1), 0),
        ("loopback", "default", LimitSettings::default().api, 0),
    ];
    if rtt > 0 {
        settings.push(("+20 ms RTT", "off", ApiRate::new(0, 1), rtt));
    }
    println!("bulk invite of {people} people (create + send welcome), muster-server in-process\n");
    println!("| network | API limit | runner | wall | requests/s | 429s | failures | speed-up |");
    println!("|---|---|---|---:|---:|---:|---:|---:|");
    for (network, limit, api, delay) in settings {
        let mut baseline = None;
        for way in WAYS {
            let run = measure(&joiners, api, delay, way);
            let base = *baseline.get_or_insert(run.wall);
            assert_eq!(
                run.invited, people,
                "every person is on the server, invited"
            );
            println!(
                "| {network} | {limit} | {} | {:.2} s | {:.0} | {} | {} | {:.1}× |",
                way.name,
                run.wall.as_secs_f64(),
                run.requests as f64 / run.wall.as_secs_f64(),
                run.refused,
                run.failed,
                base.as_secs_f64() / run.wall.as_secs_f64(),
            );
        }
    }
}

/// Runs one bulk invite on a fresh server and checks the server's side of it.
fn measure(joiners: &[User], api: ApiRate, delay_ms: u64, way: Way) -> Run {
    let server = start_server(api);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let counter = Arc::new(Counter::default());
        let root = delay_line(
            server.server.addr,
            Duration::from_millis(delay_ms / 2),
            counter.clone(),
        )
        .await;
        let client = Client::from_tokens(
            Connection::muster(&root, ORG),
            Tokens {
                access: Secret::new(server.token.clone()),
                refresh: None,
            },
            &TransportConfig::default(),
        )
        .unwrap();
        let capabilities = client.discover().await.unwrap();
        let job = Job {
            operation: Operation::Invite { send_welcome: true },
            targets: Targets::New(joiners.to_vec()),
            options: Options {
                concurrency: way.concurrency,
                use_bulk: way.use_bulk,
                ..Options::default()
            },
        };
        counter.reset();
        let started = Instant::now();
        let summary = job
            .run(
                &client,
                Context {
                    capabilities: Some(&capabilities),
                    ..Context::default()
                },
                |_| {},
            )
            .await
            .unwrap();
        let wall = started.elapsed();
        let requests = counter.requests.load(Ordering::Relaxed);
        let refused = counter.refused.load(Ordering::Relaxed);
        let users = client
            .users()
            .list_all(&Default::default(), |_| {})
            .await
            .unwrap();
        let invited = users
            .iter()
            .filter(|u| u.user_name.ends_with("@joiners.test"))
            .filter(|u| {
                u.shop
                    .as_ref()
                    .and_then(|s| s.invitation.as_ref())
                    .is_some_and(|i| i.sent_at.is_some())
            })
            .count();
        Run {
            wall,
            requests,
            refused,
            failed: summary.failed + summary.not_run,
            invited,
        }
    })
}

/// People to invite: generated shop staff (no API accounts: those are never invited).
fn joiners(count: usize) -> Vec<User> {
    let mut rng = muster_server::demo::people_rng("joiners");
    let mut people = Vec::with_capacity(count);
    let mut index = 0;
    while people.len() < count {
        let doc = muster_server::demo::user_doc(&mut rng, "joiners.test", index);
        index += 1;
        let user = User::from_json(doc).unwrap();
        let api = user
            .shop
            .as_ref()
            .and_then(|s| s.licence.as_ref())
            .is_some_and(|l| l.as_str() == "api");
        if !api {
            people.push(user);
        }
    }
    people
}

/// muster-server on a runtime of its own (two threads, apart from the client's) over a
/// fresh data directory, with ten people and the given API rate limit.
fn start_server(api: ApiRate) -> OwnRuntime<Muster> {
    OwnRuntime::start(Muster::start_with(
        ORG,
        10,
        ServerOptions {
            limits: LimitSettings {
                api,
                ..LimitSettings::default()
            },
            clock: ClockStart::Real,
            ..ServerOptions::default()
        },
    ))
}

/// Requests the client sent (request lines seen by the delay line) and 429s it got.
#[derive(Default)]
struct Counter {
    requests: AtomicUsize,
    refused: AtomicUsize,
}

impl Counter {
    fn reset(&self) {
        self.requests.store(0, Ordering::Relaxed);
        self.refused.store(0, Ordering::Relaxed);
    }
}

/// A TCP relay in front of `upstream` that holds every chunk `one_way` before passing it
/// on (a constant latency, not a bandwidth limit), and counts HTTP request and 429
/// status lines. Returns its `http://` root.
async fn delay_line(upstream: SocketAddr, one_way: Duration, counter: Arc<Counter>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let root = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            let counter = counter.clone();
            tokio::spawn(async move {
                let Ok(server) = TcpStream::connect(upstream).await else {
                    return;
                };
                let _ = client.set_nodelay(true);
                let _ = server.set_nodelay(true);
                let (client_read, client_write) = client.into_split();
                let (server_read, server_write) = server.into_split();
                let up = pipe(client_read, server_write, one_way, counter.clone(), true);
                let down = pipe(server_read, client_write, one_way, counter, false);
                let _ = tokio::join!(up, down);
            });
        }
    });
    root
}

async fn pipe(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    delay: Duration,
    counter: Arc<Counter>,
    requests: bool,
) {
    let (sender, mut receiver) = tokio::sync::mpsc::unbounded_channel::<(Instant, Vec<u8>)>();
    let writer = tokio::spawn(async move {
        while let Some((due, chunk)) = receiver.recv().await {
            tokio::time::sleep_until(due.into()).await;
            if to.write_all(&chunk).await.is_err() {
                return;
            }
        }
        let _ = to.shutdown().await;
    });
    let mut buffer = vec![0u8; 64 * 1024];
    loop {
        let n = match from.read(&mut buffer).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        let chunk = &buffer[..n];
        if requests {
            for method in [&b"GET /"[..], b"POST /", b"PATCH /", b"PUT /", b"DELETE /"] {
                counter
                    .requests
                    .fetch_add(count(chunk, method), Ordering::Relaxed);
            }
        } else {
            counter
                .refused
                .fetch_add(count(chunk, b"HTTP/1.1 429"), Ordering::Relaxed);
        }
        if sender
            .send((Instant::now() + delay, chunk.to_vec()))
            .is_err()
        {
            break;
        }
    }
    drop(sender);
    let _ = writer.await;
}

/// How many times `needle` occurs at the start of a line in `haystack` (a request or
/// status line; bodies rarely hold one at a line start, and a split across reads is
/// missed: the counts are for the table, not for correctness).
fn count(haystack: &[u8], needle: &[u8]) -> usize {
    haystack
        .windows(needle.len())
        .enumerate()
        .filter(|(at, window)| *window == needle && (*at == 0 || haystack[at - 1] == b'\n'))
        .count()
}
