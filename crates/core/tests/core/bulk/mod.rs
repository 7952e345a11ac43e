//! The bulk runner against a real muster-server: the concurrency bound and the shared
//! pause on 429 (seen from the server's side), cancel, failures and "retry failed",
//! re-runs, and the `/Bulk` path next to the one-user path.
//!
//! The server runs in-process with its real rate limiter (set tight where a test needs
//! 429s), behind a thin axum layer that records every SCIM request it receives: when it
//! started and ended, its status and `Retry-After`, and how many were in flight at once.
//! The layer can hold each request a few milliseconds before the server sees it, so that
//! concurrent requests overlap measurably; the answers are always the server's own.

#![allow(clippy::unwrap_used)]

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use muster_core::Client;
use muster_core::actions::Reassign;
use muster_core::bulk::{Cancel, Context, Job, Operation, Options, Outcome, Summary, Targets};
use muster_core::cache::PackedUser;
use muster_core::console::bulk::{BulkAction, BulkOutcome, BulkRequest, BulkSelection};
use muster_core::search::SearchQuery;
use muster_core::transport::TransportConfig;
use muster_core::{Code, Secret};
use muster_scim::user::{Licence, MultiValue, Name, Role, User, UserStatus};
use muster_server::AppState;
use muster_server::db::Db;
use muster_server::demo::OrgSpec;
use muster_server::ratelimit::{ApiRate, LimitSettings, Limits};
use tokio::task::JoinHandle;

use muster_test_support::console::TestConsole;
use muster_test_support::proxy::{Fault, Proxy};
use muster_test_support::server::{password_hash, serve, token_client};
use muster_test_support::{PASSWORD, TempDir};

/// One SCIM request the server received.
#[derive(Debug, Clone)]
struct Seen {
    method: String,
    path: String,
    started: Instant,
    ended: Instant,
    status: u16,
    retry_after: Option<u64>,
}

/// What the recording layer saw.
#[derive(Debug, Default)]
struct Log {
    in_flight: AtomicUsize,
    most: AtomicUsize,
    hold_ms: AtomicU64,
    seen: Mutex<Vec<Seen>>,
}

impl Log {
    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    fn reset(&self) {
        self.most.store(0, Ordering::SeqCst);
        self.seen.lock().unwrap().clear();
    }

    fn count(&self, method: &str, path_ends: &str) -> usize {
        self.seen()
            .iter()
            .filter(|s| s.method == method && s.path.ends_with(path_ends))
            .count()
    }
}

async fn record(State(log): State<Arc<Log>>, request: Request, next: Next) -> Response {
    let path = request.uri().path().to_owned();
    if !path.contains("/scim/v2/") {
        return next.run(request).await;
    }
    let method = request.method().to_string();
    let started = Instant::now();
    let now = log.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
    log.most.fetch_max(now, Ordering::SeqCst);
    let hold = log.hold_ms.load(Ordering::SeqCst);
    if hold > 0 {
        tokio::time::sleep(Duration::from_millis(hold)).await;
    }
    let response = next.run(request).await;
    log.in_flight.fetch_sub(1, Ordering::SeqCst);
    let retry_after = response
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok());
    log.seen.lock().unwrap().push(Seen {
        method,
        path,
        started,
        ended: Instant::now(),
        status: response.status().as_u16(),
        retry_after,
    });
    response
}

/// A muster-server with a seeded organisation behind the recording layer.
struct Server {
    url: String,
    org: String,
    domain: String,
    token: String,
    log: Arc<Log>,
    _task: JoinHandle<()>,
    _dir: TempDir,
}

impl Server {
    async fn start(org: &str, users: usize, limits: LimitSettings) -> Self {
        let dir = TempDir::new("bulk");
        let db = Db::open(dir.path()).unwrap();
        let state = AppState {
            limits: Arc::new(Limits::with_settings(limits)),
            ..AppState::new(db)
        };
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
                muster_server::admin::integration_token(tx, org, "bulk-tests", now)
            })
            .unwrap();
        let log = Arc::new(Log::default());
        let router = muster_server::app(state.clone())
            .layer(axum::middleware::from_fn_with_state(log.clone(), record));
        let (addr, task) = serve(router).await;
        Self {
            url: format!("http://{addr}"),
            org: org.to_owned(),
            domain,
            token,
            log,
            _task: task,
            _dir: dir,
        }
    }

    fn client(&self) -> Client {
        token_client(
            muster_core::connection::Connection::muster(&self.url, &self.org),
            &self.token,
        )
    }

    /// Every user, fresh from the server.
    async fn users(&self) -> Vec<User> {
        self.client()
            .users()
            .list_all(&Default::default(), |_| {})
            .await
            .unwrap()
    }

    /// Active users other than the admin and the integration user, in a stable order.
    async fn active_people(&self, count: usize) -> Vec<User> {
        self.people_where(count, |_| true).await
    }

    /// [`Server::active_people`] that also pass `test`.
    async fn people_where(&self, count: usize, test: impl Fn(&User) -> bool) -> Vec<User> {
        let admin = format!("admin@{}", self.domain);
        let mut people: Vec<User> = self
            .users()
            .await
            .into_iter()
            .filter(|u| {
                status(u) == UserStatus::Active
                    && u.user_name != admin
                    && licence(u) != Some(Licence::Api)
                    && test(u)
            })
            .collect();
        people.sort_by(|a, b| a.user_name.cmp(&b.user_name));
        assert!(
            people.len() >= count,
            "the seeded org has {} active people, the test needs {count}",
            people.len()
        );
        people.truncate(count);
        people
    }
}

fn status(user: &User) -> UserStatus {
    user.shop
        .as_ref()
        .and_then(|s| s.status.clone())
        .unwrap_or(UserStatus::Active)
}

fn licence(user: &User) -> Option<Licence> {
    user.shop.as_ref().and_then(|s| s.licence.clone())
}

/// Users as the offline copy holds them (what `Context::users` takes).
fn shared(users: &[User]) -> Vec<PackedUser> {
    users.iter().map(PackedUser::pack).collect()
}

fn ids(users: &[User]) -> Vec<String> {
    users.iter().map(|u| u.id.clone().unwrap()).collect()
}

fn limits_with_api(rate: ApiRate) -> LimitSettings {
    LimitSettings {
        api: rate,
        ..LimitSettings::default()
    }
}

fn job(operation: Operation, targets: Targets, concurrency: usize, use_bulk: bool) -> Job {
    Job {
        operation,
        targets,
        options: Options {
            concurrency,
            use_bulk,
            ..Options::default()
        },
    }
}

/// Every target is in exactly one state, and the counts add up.
/// The counts of a summary, for assertion messages.
fn counts(summary: &Summary) -> String {
    format!(
        "{} done, {} skipped, {} failed, {} not run; failures: {:?}",
        summary.done,
        summary.skipped,
        summary.failed,
        summary.not_run,
        summary.failures().map(|r| &r.outcome).collect::<Vec<_>>()
    )
}

fn assert_consistent(summary: &Summary, total: usize) {
    assert_eq!(summary.reports.len(), total, "one report per target");
    assert_eq!(
        summary.done + summary.skipped + summary.failed + summary.not_run,
        total,
        "every target is exactly one of done, skipped, failed or not run: {}",
        counts(summary)
    );
}

mod outcomes;
mod pacing;
