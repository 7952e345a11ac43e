//! What a job leaves behind: re-runs that change nothing, /Bulk and one-by-one agreeing,
//! invitations, the console's copy, and answers lost on the way.

use super::*;

#[tokio::test]
async fn a_second_run_finds_everything_done_and_changes_nothing() {
    // Office staff (no field licence, which is for technicians only) made technicians.
    let server = Server::start("bulk-rerun", 150, LimitSettings::default()).await;
    let people = server
        .people_where(12, |u| {
            let shop = u.shop.as_ref();
            shop.and_then(|s| s.role.clone()) != Some(Role::Technician)
                && shop.and_then(|s| s.licence.clone()) != Some(Licence::Field)
        })
        .await;
    let stale = people.clone();
    let job = job(
        Operation::SetRole(Role::Technician),
        Targets::Ids(ids(&people)),
        6,
        false,
    );
    let first = job
        .run(
            &server.client(),
            Context {
                users: &shared(&stale),
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
                users: &shared(&stale),
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
                users: &shared(&fresh),
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
            users: &shared(&records),
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
            users: &shared(&records),
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
                    licence: "contractor".into(),
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
                users: &shared(&people),
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
                users: &shared(&all),
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
