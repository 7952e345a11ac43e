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

#[tokio::test]
async fn concurrency_never_exceeds_the_bound() {
    let server = Server::start("bulk-bound", 80, LimitSettings::default()).await;
    let people = server.active_people(30).await;
    server.log.reset();
    server.log.hold_ms.store(15, Ordering::SeqCst);
    let mut landed = Vec::new();
    let summary = job(Operation::Suspend, Targets::Ids(ids(&people)), 4, false)
        .run(&server.client(), Context::default(), |p| {
            landed.push((p.finished, p.report.target.clone()))
        })
        .await
        .unwrap();
    assert_consistent(&summary, 30);
    assert_eq!(summary.done, 30, "{}", counts(&summary));
    let most = server.log.most.load(Ordering::SeqCst);
    assert!(
        most <= 4,
        "never more than 4 requests in flight at the server, saw {most}"
    );
    assert!(
        most >= 3,
        "with 30 users the workers do overlap (saw at most {most} at once)"
    );
    assert_eq!(
        landed.iter().map(|(n, _)| *n).collect::<Vec<_>>(),
        (1..=30).collect::<Vec<_>>(),
        "each result is reported once, as it lands"
    );
    for user in server.users().await {
        if people.iter().any(|p| p.id == user.id) {
            assert_eq!(status(&user), UserStatus::Suspended, "the server agrees");
        }
    }
}

#[tokio::test]
async fn a_429_pauses_every_worker_and_the_job_finishes_without_failures() {
    // 20 requests a second with bursts of 10: six workers run into the limit at once.
    let server = Server::start("bulk-429", 60, limits_with_api(ApiRate::new(20, 10))).await;
    let people = server
        .people_where(30, |u| licence(u) != Some(Licence::Timesheet))
        .await;
    let records = people.clone();
    server.log.reset();
    let summary = job(
        Operation::SetLicence(Licence::Timesheet),
        Targets::Ids(ids(&people)),
        6,
        false,
    )
    .run(
        &server.client(),
        Context {
            users: &records,
            ..Context::default()
        },
        |_| {},
    )
    .await
    .unwrap();
    assert_consistent(&summary, 30);
    assert_eq!(
        (summary.done, summary.failed),
        (30, 0),
        "rate limits are waited out, not failures: {}",
        counts(&summary)
    );
    let seen = server.log.seen();
    let refusals: Vec<&Seen> = seen.iter().filter(|s| s.status == 429).collect();
    assert!(
        !refusals.is_empty(),
        "the tight limit did refuse requests (else this test shows nothing)"
    );
    // After a refusal reaches the client, no request starts until its Retry-After is
    // over: the whole runner pauses, not just the worker that was refused.
    for refusal in &refusals {
        let wait = Duration::from_secs(refusal.retry_after.expect("a 429 says how long"));
        let from = refusal.ended + Duration::from_millis(100);
        let until = refusal.ended + wait - Duration::from_millis(100);
        let early: Vec<&Seen> = seen
            .iter()
            .filter(|s| s.started > from && s.started < until)
            .collect();
        assert!(
            early.is_empty(),
            "{} request(s) started during a {wait:?} pause: {early:?}",
            early.len()
        );
    }
    for user in server.users().await {
        if people.iter().any(|p| p.id == user.id) {
            assert_eq!(licence(&user), Some(Licence::Timesheet));
        }
    }
}

#[tokio::test]
async fn cancel_lets_requests_in_flight_finish_and_starts_no_more() {
    let server = Server::start("bulk-cancel", 80, LimitSettings::default()).await;
    let people = server.active_people(40).await;
    server.log.reset();
    server.log.hold_ms.store(20, Ordering::SeqCst);
    let cancel = Cancel::new();
    let mut cancelled_at = None;
    let summary = job(Operation::Suspend, Targets::Ids(ids(&people)), 3, false)
        .run(
            &server.client(),
            Context {
                cancel: cancel.clone(),
                ..Context::default()
            },
            |p| {
                if p.finished == 6 {
                    cancel.cancel();
                    cancelled_at = Some(Instant::now());
                }
            },
        )
        .await
        .unwrap();
    assert_consistent(&summary, 40);
    assert!(summary.cancelled);
    assert!(
        summary.not_run > 0 && summary.done >= 6,
        "cancelled part-way: {} done, {} not run",
        summary.done,
        summary.not_run
    );
    let cancelled_at = cancelled_at.unwrap();
    let late = server
        .log
        .seen()
        .iter()
        .filter(|s| s.started > cancelled_at + Duration::from_millis(50))
        .count();
    assert_eq!(late, 0, "no request starts after the cancel");
    // The server agrees with every report.
    let now: Vec<User> = server.users().await;
    for report in &summary.reports {
        let user = now
            .iter()
            .find(|u| u.id.as_ref() == Some(&report.target))
            .unwrap();
        match &report.outcome {
            Outcome::Done { user: answered } => {
                assert_eq!(status(user), UserStatus::Suspended);
                assert_eq!(answered.id, user.id);
            }
            Outcome::NotRun => assert_eq!(
                status(user),
                UserStatus::Active,
                "a user not run was left as it was"
            ),
            other => panic!("only done or not run expected here, got {other:?}"),
        }
    }
}

#[tokio::test]
async fn failures_are_reported_and_retry_failed_finishes_the_job() {
    let server = Server::start("bulk-retry", 80, LimitSettings::default()).await;
    let admin = {
        let connection = muster_core::connection::Connection::muster(&server.url, &server.org);
        let credentials = muster_core::auth::Credentials::Password {
            email: format!("admin@{}", server.domain),
            password: Secret::new(PASSWORD),
        };
        match Client::sign_in(connection, credentials, &TransportConfig::default())
            .await
            .unwrap()
        {
            muster_core::client::SignIn::Done(client) => client,
            muster_core::client::SignIn::MfaRequired(_) => panic!("no two-factor"),
        }
    };
    let me = admin.account().unwrap().id.clone();
    let people = server.active_people(40).await;
    // Sort the people by whether they hold responsibilities.
    let (mut holders, mut free) = (Vec::new(), Vec::new());
    for person in &people {
        let held = admin
            .actions()
            .responsibilities(person.id.as_ref().unwrap())
            .await
            .unwrap();
        if held.total > 0 {
            holders.push(person.clone());
        } else {
            free.push(person.clone());
        }
    }
    assert!(
        holders.len() >= 3 && free.len() >= 3,
        "the seed gives some people work and some none ({} / {})",
        holders.len(),
        free.len()
    );
    let successor = holders.pop().unwrap().id.unwrap();
    let mut targets = ids(&holders[..2]);
    targets.extend(ids(&free[..3]));
    targets.push(me.clone());
    let first = Job::new(
        Operation::Deactivate {
            reassign: Reassign::default(),
        },
        Targets::Ids(targets.clone()),
    );
    let summary = first.run(&admin, Context::default(), |_| {}).await.unwrap();
    assert_consistent(&summary, 6);
    assert_eq!(
        (summary.done, summary.failed, summary.skipped),
        (3, 2, 1),
        "{}",
        counts(&summary)
    );
    for failure in summary.failures() {
        let Outcome::Failed { code, message } = &failure.outcome else {
            unreachable!()
        };
        assert_eq!(*code, Code::Conflict);
        assert!(
            message.contains("Reassign these first"),
            "the server's reason reaches the report: {message}"
        );
    }
    let mine = summary.reports.iter().find(|r| r.target == me).unwrap();
    assert!(
        matches!(&mine.outcome, Outcome::Skipped { already_done: false, reason } if reason.contains("your own account")),
        "the signed-in admin is skipped with the reason: {mine:?}"
    );
    // Fix the cause, then retry only the failed.
    let mut retry = summary.retry(&first, false).unwrap();
    assert_eq!(retry.targets, Targets::Ids(ids(&holders[..2])));
    retry.operation = Operation::Deactivate {
        reassign: Reassign::all_to(&successor),
    };
    let again = retry.run(&admin, Context::default(), |_| {}).await.unwrap();
    assert_eq!((again.done, again.failed), (2, 0), "{}", counts(&again));
    assert!(again.retry(&retry, true).is_none(), "nothing left to retry");
}

#[tokio::test]
async fn a_second_run_finds_everything_done_and_changes_nothing() {
    let server = Server::start("bulk-rerun", 60, LimitSettings::default()).await;
    let people = server
        .people_where(12, |u| {
            u.shop.as_ref().and_then(|s| s.role.clone()) != Some(Role::Viewer)
        })
        .await;
    let stale = people.clone();
    let job = job(
        Operation::SetRole(Role::Viewer),
        Targets::Ids(ids(&people)),
        6,
        false,
    );
    let first = job
        .run(
            &server.client(),
            Context {
                users: &stale,
                ..Context::default()
            },
            |_| {},
        )
        .await
        .unwrap();
    assert_eq!(first.done, 12, "{}", counts(&first));
    let versions = |users: &[User]| {
        users
            .iter()
            .filter(|u| people.iter().any(|p| p.id == u.id))
            .map(|u| {
                (
                    u.id.clone(),
                    u.meta.as_ref().and_then(|m| m.version.clone()),
                )
            })
            .collect::<Vec<_>>()
    };
    let before = versions(&server.users().await);
    // Again, with the same (now stale) offline copy: every write is refused as stale,
    // each user is read again and found done.
    server.log.reset();
    let second = job
        .run(
            &server.client(),
            Context {
                users: &stale,
                ..Context::default()
            },
            |_| {},
        )
        .await
        .unwrap();
    assert_consistent(&second, 12);
    assert_eq!(second.skipped, 12, "{}", counts(&second));
    assert!(
        second.reports.iter().all(|r| matches!(
            r.outcome,
            Outcome::Skipped {
                already_done: true,
                ..
            }
        )),
        "each is reported already done"
    );
    assert_eq!(
        versions(&server.users().await),
        before,
        "a re-run changes nothing on the server"
    );
    // And with fresh records there is not even an attempt to write.
    server.log.reset();
    let fresh = server.users().await;
    server.log.reset();
    let third = job
        .run(
            &server.client(),
            Context {
                users: &fresh,
                fresh: true,
                ..Context::default()
            },
            |_| {},
        )
        .await
        .unwrap();
    assert_eq!(third.skipped, 12);
    assert_eq!(
        server
            .log
            .seen()
            .iter()
            .filter(|s| s.method != "GET")
            .count(),
        0,
        "nothing is sent for users already done"
    );
}

#[tokio::test]
async fn bulk_endpoint_and_one_by_one_give_the_same_result() {
    let server = Server::start("bulk-endpoint", 80, LimitSettings::default()).await;
    let people = server.active_people(40).await;
    let (batched, single) = people.split_at(20);
    let records = people.clone();
    // One cached record goes stale: someone else edits the user meanwhile.
    let changed = batched[0].id.clone().unwrap();
    server
        .client()
        .users()
        .patch(
            &changed,
            vec![muster_scim::message::PatchOperation::replace(
                "title",
                serde_json::json!("Lead"),
            )],
            None,
        )
        .await
        .unwrap();

    server.log.reset();
    let via_bulk = job(
        Operation::SetZones(vec!["North".into(), "Harbour".into()]),
        Targets::Ids(ids(batched)),
        4,
        true,
    )
    .run(
        &server.client(),
        Context {
            users: &records,
            ..Context::default()
        },
        |_| {},
    )
    .await
    .unwrap();
    assert!(
        via_bulk.used_bulk,
        "the server advertises /Bulk, so it is used"
    );
    assert_eq!(
        (via_bulk.done, via_bulk.failed),
        (20, 0),
        "{}",
        counts(&via_bulk)
    );
    assert!(server.log.count("POST", "/Bulk") >= 1);
    assert_eq!(
        server.log.count("PATCH", ""),
        1,
        "only the stale record's user goes one by one (its batch entry answered 412)"
    );

    server.log.reset();
    let one_by_one = job(
        Operation::SetZones(vec!["North".into(), "Harbour".into()]),
        Targets::Ids(ids(single)),
        4,
        false,
    )
    .run(
        &server.client(),
        Context {
            users: &records,
            ..Context::default()
        },
        |_| {},
    )
    .await
    .unwrap();
    assert!(!one_by_one.used_bulk);
    assert_eq!(one_by_one.done, 20);
    assert_eq!(server.log.count("POST", "/Bulk"), 0);
    assert_eq!(server.log.count("PATCH", ""), 20);

    for user in server.users().await {
        if people.iter().any(|p| p.id == user.id) {
            let mut zones = user.shop.unwrap().zones;
            zones.sort();
            assert_eq!(
                zones,
                ["Harbour", "North"],
                "both paths made the same change"
            );
        }
    }
}

fn person(i: usize, domain: &str) -> User {
    let mut user = User::new(format!("new{i}@{domain}"));
    user.name = Some(Name::new(format!("New{i}"), "Starter"));
    user.display_name = Some(format!("New{i} Starter"));
    user.emails = vec![MultiValue {
        primary: Some(true),
        ..MultiValue::typed(format!("new{i}@{domain}"), "work")
    }];
    user
}

#[tokio::test]
async fn invites_create_and_welcome_through_bulk_or_one_by_one_and_rerun_safely() {
    let server = Server::start("bulk-invite", 10, LimitSettings::default()).await;
    for use_bulk in [true, false] {
        let offset = if use_bulk { 0 } else { 100 };
        let people: Vec<User> = (0..15)
            .map(|i| person(offset + i, &server.domain))
            .collect();
        let invite = job(
            Operation::Invite { send_welcome: true },
            Targets::New(people.clone()),
            4,
            use_bulk,
        );
        server.log.reset();
        let summary = invite
            .run(&server.client(), Context::default(), |_| {})
            .await
            .unwrap();
        assert_consistent(&summary, 15);
        assert_eq!(
            (summary.done, summary.failed),
            (15, 0),
            "{}",
            counts(&summary)
        );
        assert_eq!(summary.used_bulk, use_bulk);
        for report in &summary.reports {
            let Outcome::Done { user } = &report.outcome else {
                unreachable!()
            };
            assert_eq!(report.user_id, user.id, "the new id is reported");
            let invitation = user.shop.as_ref().and_then(|s| s.invitation.as_ref());
            assert!(
                invitation.is_some_and(|i| i.sent_at.is_some()),
                "created and invited: {user:?}"
            );
        }
        if use_bulk {
            assert_eq!(
                server.log.count("POST", "/Users"),
                0,
                "every create went through /Bulk"
            );
        }
        let again = invite
            .run(&server.client(), Context::default(), |_| {})
            .await
            .unwrap();
        assert_eq!(
            again.skipped,
            15,
            "a re-run creates nobody twice: {}",
            counts(&again)
        );
    }
}

#[tokio::test]
async fn the_console_runs_a_bulk_action_over_its_view_and_updates_its_copy() {
    let server = Server::start("bulk-console", 60, LimitSettings::default()).await;
    let console = TestConsole::signed_in(
        "bulk",
        TransportConfig::default(),
        &server.url,
        &server.org,
        &format!("admin@{}", server.domain),
        PASSWORD,
    )
    .await;
    console.sync(|_| {}).await.unwrap();
    let view = SearchQuery {
        licences: vec!["desk".into()],
        statuses: vec!["active".into()],
        limit: 50,
        ..SearchQuery::default()
    };
    let shown = console.search(&view).await;
    assert!(shown.total >= 2, "the view shows some desk users");
    let mut events = Vec::new();
    let summary = console
        .run_bulk(
            BulkRequest {
                action: BulkAction::SetLicence {
                    licence: "field".into(),
                },
                selection: BulkSelection::View {
                    query: Box::new(view.clone()),
                },
                concurrency: Some(4),
            },
            |event| events.push(event),
        )
        .await
        .unwrap();
    assert_eq!(events[0].result, None, "the first event announces the job");
    assert_eq!(events[0].total, shown.total);
    assert!(!console.cancel_bulk(&events[0].job_id), "the job has ended");
    assert_eq!(summary.total, shown.total);
    // The admin is a desk user too: skipped, not changed.
    assert_eq!(
        summary.done + summary.skipped,
        summary.total,
        "{:?}",
        summary.results
    );
    assert!(
        summary
            .results
            .iter()
            .any(|r| r.outcome == BulkOutcome::Skipped
                && r.reason
                    .as_deref()
                    .is_some_and(|t| t.contains("your own account"))),
        "the signed-in admin is in the view and is skipped"
    );
    assert!(summary.retry.is_none(), "nothing failed");
    let after = console.search(&view).await;
    assert_eq!(
        after.total, 1,
        "the offline copy shows the change at once (only the admin is still desk)"
    );
}

#[tokio::test]
async fn a_lost_answer_is_checked_before_anything_is_sent_again() {
    let server = Server::start("bulk-lost", 40, LimitSettings::default()).await;
    let people = server.active_people(5).await;
    let upstream = server
        .url
        .trim_start_matches("http://")
        .parse()
        .expect("a loopback address");
    let proxy = Proxy::start(upstream).await;
    let client = token_client(
        muster_core::connection::Connection::muster(&proxy.base, &server.org),
        &server.token,
    );
    let capabilities = client.discover().await.unwrap();
    // The first suspend is made by the server, but its answer is cut off mid-body.
    proxy.script([Fault::CutMidBody]);
    let summary = job(Operation::Suspend, Targets::Ids(ids(&people)), 1, false)
        .run(
            &client,
            Context {
                users: &people,
                capabilities: Some(&capabilities),
                ..Context::default()
            },
            |_| {},
        )
        .await
        .unwrap();
    assert_eq!(summary.done, 5, "{}", counts(&summary));
    assert_eq!(
        proxy.count("POST"),
        5,
        "the cut-off suspend was not sent twice: the user was read and found suspended"
    );
    assert_eq!(
        proxy.count("GET"),
        1,
        "one read, for the user whose answer was lost"
    );
}

#[tokio::test]
async fn welcomes_go_again_to_invited_users_once() {
    let server = Server::start("bulk-welcome", 120, LimitSettings::default()).await;
    let all = server.users().await;
    let invited: Vec<User> = all
        .iter()
        .filter(|u| status(u) == UserStatus::Invited)
        .cloned()
        .collect();
    assert!(!invited.is_empty(), "the seed has invited people");
    let active = server.active_people(2).await;
    let mut targets = ids(&invited);
    targets.extend(ids(&active));
    let resend = job(Operation::ResendWelcome, Targets::Ids(targets), 4, true);
    let first = resend
        .run(
            &server.client(),
            Context {
                users: &all,
                ..Context::default()
            },
            |_| {},
        )
        .await
        .unwrap();
    assert_eq!(
        (first.done, first.skipped, first.failed),
        (invited.len(), 2, 0),
        "{}",
        counts(&first)
    );
    for report in &first.reports {
        match &report.outcome {
            Outcome::Done { user } => {
                let invitation = user.shop.as_ref().unwrap().invitation.clone().unwrap();
                assert_eq!(
                    invitation.state,
                    Some(muster_scim::user::InvitationState::Pending),
                    "a fresh invitation, expired or not before"
                );
            }
            Outcome::Skipped {
                reason,
                already_done,
            } => {
                assert!(!already_done && reason.contains("accepted"), "{reason}");
            }
            other => panic!("{other:?}"),
        }
    }
    // At once again: nobody gets a second email.
    server.log.reset();
    let again = resend
        .run(&server.client(), Context::default(), |_| {})
        .await
        .unwrap();
    assert_eq!(again.skipped, invited.len() + 2, "{}", counts(&again));
    assert_eq!(
        server.log.count("POST", "/send-welcome") + server.log.count("POST", "/Bulk"),
        0,
        "no invitation is sent twice within the cool-down"
    );
}
