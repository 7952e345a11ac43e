//! How a job paces itself: its concurrency bound, a 429 pausing every worker, cancelling,
//! and failures reported and retried.

use super::*;

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
            users: &shared(&records),
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
