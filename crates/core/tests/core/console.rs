//! The desktop console's engine against a real muster-server: sign-in, sync and search,
//! forms with live checks, writes updating the offline copy, actions and their refusals,
//! and going offline and back when the server's port closes and reopens.
//!
//! These run without a keychain (the main test run has no Secret Service), so they also
//! show the console degrading plainly: signed in for the session only, no offline copy
//! on disk.

#![allow(clippy::unwrap_used)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use muster_core::actions::Invite;
use muster_core::console::view::{
    FeatureName, Handover, Phase, ProfileInput, ServerKindView, SimpleAction, UserInput,
};
use muster_core::rules::UserAction;
use muster_core::search::{SearchQuery, SortKey};
use muster_core::{Error, Secret};
use tokio::net::{TcpListener, TcpStream};

use muster_test_support::Muster;
use muster_test_support::console::{Home, TestConsole, fail_fast, person};

/// A console signed in as the seeded admin through `url`, giving up fast. These tests
/// run without a Secret Service, so they also show the console degrading plainly: signed
/// in for the session only, no offline copy on disk.
pub(crate) async fn signed_in(server: &Muster, url: &str) -> TestConsole {
    let console = server.admin_console("console", fail_fast(), url).await;
    assert_eq!(
        console.status().await.account.as_ref().unwrap().role,
        "admin"
    );
    console
}

#[tokio::test]
async fn sign_in_sync_and_search_the_whole_org() {
    let server = Muster::start("console-sync", 60).await;
    let console = signed_in(&server, &server.url).await;
    let mut progress = Vec::new();
    let status = console.sync(|p| progress.push(p)).await.unwrap();
    assert!(status.user_count >= 60, "{status:?}");
    assert!(status.synced_at.is_some());
    assert!(status.online && !status.read_only);
    assert!(
        progress.iter().any(|p| p.phase == "users"),
        "progress is reported"
    );
    assert!(
        status
            .features
            .iter()
            .any(|f| f.name == FeatureName::Action(UserAction::Suspend) && f.available),
        "a Muster server offers its actions"
    );
    assert_eq!(
        status.choices.roles,
        ["admin", "technician", "viewer"],
        "the forms offer the roles the engine knows"
    );
    assert!(status.choices.licences.iter().any(|l| l == "field"));
    assert_eq!(
        status
            .choices
            .responsibility_kinds
            .iter()
            .map(|k| k.value.as_str())
            .collect::<Vec<_>>(),
        [
            "defaultTechnician",
            "primaryTechnician",
            "officeAssignee",
            "warehouseManager"
        ],
        "the handover asks about every kind the server moves, by its wire name"
    );

    let all = console
        .search(&SearchQuery {
            limit: 20,
            ..SearchQuery::default()
        })
        .await;
    assert_eq!(all.total, status.user_count);
    assert_eq!(all.rows.len(), 20);

    let admin = console
        .search(&SearchQuery {
            text: format!("admin@{}", server.domain),
            limit: 10,
            ..SearchQuery::default()
        })
        .await;
    assert_eq!(admin.total, 1);
    assert_eq!(admin.rows[0].role.as_deref(), Some("admin"));

    let facets = console.facets().await;
    assert!(facets.roles.iter().any(|r| r.value == "technician"));
    let technicians = facets
        .roles
        .iter()
        .find(|r| r.value == "technician")
        .unwrap()
        .count;
    let filtered = console
        .search(&SearchQuery {
            roles: vec!["technician".into()],
            limit: 500,
            ..SearchQuery::default()
        })
        .await;
    assert_eq!(filtered.total, technicians, "chip counts match the filter");

    // Sorted descending by email, the window is in order.
    let sorted = console
        .search(&SearchQuery {
            sort: SortKey::Email,
            descending: true,
            limit: 30,
            ..SearchQuery::default()
        })
        .await;
    let emails: Vec<_> = sorted.rows.iter().filter_map(|r| r.email.clone()).collect();
    let mut expected = emails.clone();
    expected.sort_by_key(|e| std::cmp::Reverse(e.to_lowercase()));
    assert_eq!(emails, expected);
}

#[tokio::test]
async fn forms_check_live_and_writes_update_the_offline_copy() {
    let server = Muster::start("console-forms", 20).await;
    let console = signed_in(&server, &server.url).await;
    console.sync(|_| {}).await.unwrap();

    let junk = console.check_email("not an email", None).await;
    assert!(!junk.valid && junk.message.is_some());
    let admin = format!("admin@{}", server.domain);
    let taken = console.check_email(&admin, None).await;
    assert!(!taken.valid);
    assert!(taken.taken_by.is_some());
    assert_eq!(
        taken.suggestion.as_deref(),
        Some(format!("admin+contractor@{}", server.domain).as_str())
    );

    let Err(Error::Validation { fields, .. }) = console
        .create_user(
            &UserInput {
                email: "nope".into(),
                ..person("x")
            },
            None,
        )
        .await
    else {
        panic!("a bad form is refused before sending");
    };
    assert!(fields.iter().any(|f| f.field == "email"));

    // The form as typed: each field's problem, and a free sign-in name from the name.
    let rosa = console
        .check_user_input(&person("rosa@x.test"), None, None)
        .await;
    assert!(rosa.fields.is_empty(), "{rosa:?}");
    assert_eq!(rosa.user_name.as_deref(), Some("rdiaz"));
    let tomas = |email: &str| UserInput {
        given_name: "Tomás".into(),
        family_name: "Reyes".into(),
        ..person(email)
    };
    let first = console
        .create_user(
            &UserInput {
                user_name: "treyes".into(),
                ..tomas(&format!("tomas.reyes@{}", server.domain))
            },
            None,
        )
        .await
        .unwrap();
    let second = console
        .check_user_input(&tomas("t2@x.test"), None, None)
        .await;
    assert_eq!(
        second.user_name.as_deref(),
        Some("treyes2"),
        "numbered past the name the copy has"
    );
    let own = console
        .check_user_input(&tomas("t2@x.test"), Some(&first.id), None)
        .await;
    assert_eq!(
        own.user_name.as_deref(),
        Some("treyes"),
        "one's own name is not taken from oneself"
    );
    let field_admin = UserInput {
        role: Some("admin".into()),
        user_name: "a b".into(),
        ..person("a@x.test")
    };
    let refused = console.check_user_input(&field_admin, None, None).await;
    let named: Vec<&str> = refused.fields.iter().map(|f| f.field.as_str()).collect();
    assert_eq!(named, ["userName", "role"], "{refused:?}");
    // The server holds the same rule: a field licence with the admin role is refused at
    // the role.
    let Err(Error::Validation { fields, .. }) = console
        .create_user(
            &UserInput {
                role: Some("admin".into()),
                ..person(&format!("field.admin@{}", server.domain))
            },
            None,
        )
        .await
    else {
        panic!("a field licence with the admin role is refused");
    };
    assert_eq!(fields[0].field, "role");

    let email = format!("rosa.diaz@{}", server.domain);
    let created = console
        .create_user(&person(&email), Some(Invite::default()))
        .await
        .unwrap();
    assert_eq!(created.status, "invited");
    assert!(
        created
            .invitation
            .as_ref()
            .and_then(|i| i.expires_at.as_ref())
            .is_some(),
        "the welcome email was sent: {created:?}"
    );
    let found = console
        .search(&SearchQuery {
            text: "rosa diaz".into(),
            limit: 5,
            ..SearchQuery::default()
        })
        .await;
    assert_eq!(found.total, 1, "the new user is searchable without a sync");

    // An edit goes out as a PATCH at the version the form was loaded at.
    let mut edit = person(&email);
    edit.family_name = "Diaz-Holt".into();
    let edited = console
        .update_user(&created.id, &edit, created.version.clone())
        .await
        .unwrap();
    assert_eq!(edited.family_name.as_deref(), Some("Diaz-Holt"));
    // The old version is stale now.
    let stale = console
        .update_user(&created.id, &person(&email), created.version.clone())
        .await;
    assert!(
        matches!(stale, Err(Error::Conflict { stale: true, .. })),
        "{stale:?}"
    );
    let renamed = console
        .search(&SearchQuery {
            text: "diaz-holt".into(),
            limit: 5,
            ..SearchQuery::default()
        })
        .await;
    assert_eq!(renamed.total, 1, "the offline copy follows the edit");
}

#[tokio::test]
async fn actions_run_and_the_signed_in_admin_is_protected_from_themselves() {
    let server = Muster::start("console-actions", 30).await;
    let console = signed_in(&server, &server.url).await;
    console.sync(|_| {}).await.unwrap();
    let me = console.status().await.account.unwrap().id;

    let technician = console
        .search(&SearchQuery {
            roles: vec!["technician".into()],
            statuses: vec!["active".into()],
            limit: 2,
            ..SearchQuery::default()
        })
        .await;
    let target = technician.rows[0].id.clone();
    let suspended = console
        .run_action(&target, SimpleAction::Suspend)
        .await
        .unwrap();
    assert_eq!(suspended.status, "suspended");
    assert_eq!(suspended.active_sessions.unwrap_or(0), 0);
    let back = console
        .run_action(&target, SimpleAction::Unsuspend)
        .await
        .unwrap();
    assert_eq!(back.status, "active");

    let refused = console.run_action(&me, SimpleAction::Suspend).await;
    assert!(
        matches!(refused, Err(Error::Forbidden { .. })),
        "{refused:?}"
    );
    let mine = console.user(&me).await.unwrap();
    assert!(mine.is_self);
    let mut own = person(mine.email.as_deref().unwrap());
    own.role = Some("viewer".into());
    own.user_name = mine.user_name.clone();
    let role = console.update_user(&me, &own, mine.version.clone()).await;
    assert!(matches!(role, Err(Error::Validation { .. })), "{role:?}");

    // A weak password is refused with the rule it breaks.
    let weak = console
        .set_password(&target, Secret::new("password"), true)
        .await;
    let Err(Error::Validation { fields, .. }) = &weak else {
        panic!("a weak password is a validation error: {weak:?}");
    };
    assert_eq!(fields.len(), 1, "{fields:?}");
    assert_eq!(
        fields[0].field, "password",
        "the form marks the password field"
    );
    assert!(
        fields[0].rules.iter().any(|rule| rule == "common"),
        "the server names the rule by id, so the app marks it without reading the sentence: \
         {fields:?}"
    );
    let policy = console.password_policy().await.unwrap();
    assert!(policy.min_length >= 8 && !policy.rules.is_empty());

    // Deactivation hands responsibilities over.
    let held = console.responsibilities(&target).await.unwrap();
    let takers = console.assignees("").await.unwrap();
    let taker = takers.iter().find(|a| a.id != target).unwrap();
    let handovers: Vec<Handover> = held
        .iter()
        .map(|r| Handover {
            kind: r.kind.clone(),
            user_id: taker.id.clone(),
        })
        .collect();
    let gone = console.deactivate(&target, &handovers).await.unwrap();
    assert_eq!(gone.status, "deactivated");

    let audit = console
        .audit(&muster_core::console::view::AuditQuery {
            target: Some(target.clone()),
            limit: 50,
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(
        audit.entries.iter().any(|e| e.action.contains("suspend")),
        "{audit:?}"
    );
}

/// A loopback port that forwards to the server while open; closing it drops every live
/// connection and refuses new ones: the server "going away" and coming back, for real, at
/// the TCP level.
struct Gate {
    address: SocketAddr,
    open: Arc<AtomicBool>,
    live: Arc<std::sync::Mutex<Vec<tokio::task::AbortHandle>>>,
}

impl Gate {
    async fn start(upstream: &str) -> Self {
        let upstream: SocketAddr = upstream.trim_start_matches("http://").parse().unwrap();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let open = Arc::new(AtomicBool::new(true));
        let live = Arc::new(std::sync::Mutex::new(Vec::new()));
        let (flag, tasks) = (open.clone(), live.clone());
        tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                if !flag.load(Ordering::SeqCst) {
                    drop(inbound);
                    continue;
                }
                let task = tokio::spawn(async move {
                    if let Ok(mut outbound) = TcpStream::connect(upstream).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
                tasks.lock().unwrap().push(task.abort_handle());
            }
        });
        Self {
            address,
            open,
            live,
        }
    }

    fn close(&self) {
        self.open.store(false, Ordering::SeqCst);
        for task in self.live.lock().unwrap().drain(..) {
            task.abort();
        }
    }

    fn reopen(&self) {
        self.open.store(true, Ordering::SeqCst);
    }

    fn url(&self) -> String {
        format!("http://{}", self.address)
    }
}

#[tokio::test]
async fn offline_reads_work_writes_are_refused_and_it_comes_back() {
    let server = Muster::start("console-offline", 25).await;
    let gate = Gate::start(&server.url).await;
    let console = signed_in(&server, &gate.url()).await;
    let synced = console.sync(|_| {}).await.unwrap();
    let someone = console
        .search(&SearchQuery {
            statuses: vec!["active".into()],
            roles: vec!["technician".into()],
            limit: 1,
            ..SearchQuery::default()
        })
        .await
        .rows[0]
        .id
        .clone();

    gate.close();
    let refused = console
        .run_action(&someone, SimpleAction::RevokeSessions)
        .await;
    assert!(matches!(refused, Err(Error::Offline { .. })), "{refused:?}");
    let status = console.status().await;
    assert!(!status.online && status.read_only);
    assert!(status.offline_reason.is_some());
    assert!(
        status.read_only_reason.unwrap().contains("offline"),
        "the reason is given"
    );
    // Reads still work, from the copy.
    let window = console
        .search(&SearchQuery {
            limit: 10,
            ..SearchQuery::default()
        })
        .await;
    assert_eq!(window.total, synced.user_count);
    let detail = console.user(&someone).await.unwrap();
    assert!(detail.from_cache);
    let sync = console.sync(|_| {}).await;
    assert!(matches!(sync, Err(Error::Offline { .. })));
    assert_eq!(
        console.status().await.user_count,
        synced.user_count,
        "the copy is intact"
    );

    gate.reopen();
    let back = console.refresh().await.unwrap();
    assert!(back.online && !back.read_only, "{back:?}");
    let done = console
        .run_action(&someone, SimpleAction::RevokeSessions)
        .await
        .unwrap();
    assert!(!done.from_cache);
}

#[tokio::test]
async fn profiles_are_validated_and_removed_with_their_data() {
    let home = Home::new("profiles");
    let console = home.console(fail_fast());
    let bad = console
        .save_profile(
            ProfileInput {
                name: "x".into(),
                kind: ServerKindView::Muster,
                url: "ftp://example.com".into(),
                org: Some("shop".into()),
                make_default: false,
            },
            false,
        )
        .await;
    assert!(matches!(bad, Err(Error::Validation { .. })), "{bad:?}");
    let saved = console
        .save_profile(
            ProfileInput {
                name: "acme".into(),
                kind: ServerKindView::Scim,
                url: "https://scim.example.com/v2".into(),
                org: None,
                make_default: true,
            },
            false,
        )
        .await
        .unwrap();
    assert_eq!(saved.len(), 1);
    assert!(saved[0].is_default);
    assert_eq!(console.status().await.phase, Phase::NoProfile);
    console.open_profile("acme").await.unwrap();
    // Removal needs the keychain to clear the profile's secrets; without one it is
    // refused and the profile kept, so nothing is left behind unnamed.
    let removed = console.remove_profile("acme").await;
    match removed {
        Ok(left) => assert!(left.is_empty()),
        Err(error) => {
            assert!(
                matches!(error, Error::KeychainUnavailable { .. }),
                "{error:?}"
            );
            assert_eq!(console.profiles().await.len(), 1);
        }
    }
}

/// The console's clock, moved by the test.
fn moving_clock() -> (
    muster_core::clock::Clock,
    Arc<std::sync::Mutex<time::OffsetDateTime>>,
) {
    let now = Arc::new(std::sync::Mutex::new(time::OffsetDateTime::now_utc()));
    let read = now.clone();
    let clock = muster_core::clock::Clock::from_fn(move || *read.lock().unwrap());
    (clock, now)
}

#[tokio::test]
async fn an_invitation_lapses_everywhere_with_the_clock_and_no_sync() {
    let server = Muster::start("console-clock", 20).await;
    let (clock, now) = moving_clock();
    let home = Home::new("clock");
    let console = home.console(fail_fast()).with_clock(clock);
    muster_test_support::console::sign_in(
        &console,
        &server.url,
        &server.org,
        &server.admin_email(),
        muster_test_support::PASSWORD,
    )
    .await;
    let invited = console
        .create_user(&person("lapse@console-clock.test"), Some(Invite::default()))
        .await
        .unwrap();
    assert!(invited.outcome.as_ref().unwrap().complete, "{invited:?}");
    console.sync(|_| {}).await.unwrap();
    let find = |states: &[&str]| SearchQuery {
        text: "lapse@".into(),
        invitation_states: states.iter().map(|s| (*s).to_owned()).collect(),
        limit: 10,
        ..SearchQuery::default()
    };

    // As sent: pending, in every place.
    assert_eq!(console.search(&find(&["pending"])).await.total, 1);
    let row = console.search(&find(&[])).await.rows.remove(0);
    assert_eq!(row.invitation_state.as_deref(), Some("pending"));
    assert!(
        row.invitation_label
            .as_deref()
            .unwrap()
            .starts_with("expires in")
    );

    // Two days and an hour later on the console's clock, with no sync: the server's word
    // is still "pending", and every place shows what time has made of it.
    // (A minute more than the hour, so the two clocks' milliseconds apart do not matter.)
    let later = time::Duration::hours(49) + time::Duration::minutes(1);
    *now.lock().unwrap() += later;
    assert_eq!(
        console.search(&find(&["pending"])).await.total,
        0,
        "the filter"
    );
    assert_eq!(console.search(&find(&["expired"])).await.total, 1);
    let row = console.search(&find(&[])).await.rows.remove(0);
    assert_eq!(
        row.invitation_state.as_deref(),
        Some("expired"),
        "the badge"
    );
    assert_eq!(
        row.invitation_label.as_deref(),
        Some("expired 1 h ago"),
        "the time gone"
    );
    let facets = console.facets().await;
    assert!(
        facets
            .invitation_states
            .iter()
            .any(|f| f.value == "expired" && f.count >= 1),
        "the chip's count: {facets:?}"
    );
    let review = console
        .review(&muster_core::console::ReviewOptions::default())
        .await
        .unwrap();
    assert!(review.expired_invitations.count >= 1, "the review board");
    let detail = console.user(&invited.id).await.unwrap();
    assert_eq!(
        detail.invitation.as_ref().unwrap().state.as_deref(),
        Some("expired"),
        "the detail"
    );
    let out = SharedBuf::default();
    console
        .export_users(
            &find(&[]),
            &["userName".to_owned(), "invitation".to_owned()],
            &muster_core::csv::export::ExportOptions::default(),
            out.clone(),
        )
        .await
        .unwrap();
    let csv = out.text();
    assert!(
        csv.contains("lapse@console-clock.test,expired"),
        "the export: {csv}"
    );
}

/// A writer whose bytes the test reads after handing it away.
#[derive(Clone, Default)]
struct SharedBuf(Arc<std::sync::Mutex<Vec<u8>>>);

impl SharedBuf {
    fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
    }
}

impl std::io::Write for SharedBuf {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn deleting_hands_work_over_and_a_system_admin_finds_and_restores_the_user() {
    let server = Muster::start("console-delete", 40).await;
    let console = signed_in(&server, &server.url).await;
    console.sync(|_| {}).await.unwrap();
    let technicians = console
        .search(&SearchQuery {
            roles: vec!["technician".into()],
            statuses: vec!["active".into()],
            limit: 40,
            ..SearchQuery::default()
        })
        .await;
    // A technician who holds work (the demo seeds some as primary contacts).
    let mut holder = None;
    for row in &technicians.rows {
        let held = console.responsibilities(&row.id).await.unwrap();
        if !held.is_empty() {
            holder = Some((row.id.clone(), held));
            break;
        }
    }
    let (target, held) = holder.expect("the demo seeds technicians who hold work");

    // Without a handover the server refuses, naming what to hand over; nothing changes.
    let refused = console.delete_user(&target, &[]).await;
    assert!(
        matches!(&refused, Err(Error::Conflict { message, .. } | Error::Validation { message, .. })
            if message.to_lowercase().contains("reassign")),
        "{refused:?}"
    );
    assert_eq!(console.user(&target).await.unwrap().status, "active");

    // With one, the user is deleted, and left out of the admin's copy.
    let taker = console
        .assignees("")
        .await
        .unwrap()
        .into_iter()
        .find(|a| a.id != target)
        .unwrap();
    let handovers: Vec<Handover> = held
        .iter()
        .map(|r| Handover {
            kind: r.kind.clone(),
            user_id: taker.id.clone(),
        })
        .collect();
    let before: u64 = console
        .responsibilities(&taker.id)
        .await
        .unwrap()
        .iter()
        .map(|r| u64::from(r.count))
        .sum();
    let done = console.delete_user(&target, &handovers).await.unwrap();
    assert!(done.complete, "{done:?}");
    assert!(done.message.contains("deleted"), "{done:?}");
    let handed: u64 = held.iter().map(|r| u64::from(r.count)).sum();
    let after: u64 = console
        .responsibilities(&taker.id)
        .await
        .unwrap()
        .iter()
        .map(|r| u64::from(r.count))
        .sum();
    assert_eq!(
        after,
        before + handed,
        "everything the user held went to the taker"
    );
    let everyone = SearchQuery {
        limit: 500,
        ..SearchQuery::default()
    };
    assert!(
        console
            .search(&everyone)
            .await
            .rows
            .iter()
            .all(|r| r.id != target),
        "an org admin's copy drops the deleted user"
    );

    // A system admin's copy keeps them (hidden by default, like the deactivated), and
    // the detail offers Restore, which works.
    server
        .server
        .seed_system_admin(muster_test_support::server::SYSTEM_ADMIN);
    let root = server
        .console_as(
            "console-delete-root",
            muster_test_support::server::SYSTEM_ADMIN,
        )
        .await;
    root.sync(|_| {}).await.unwrap();
    let deleted = root
        .search(&SearchQuery {
            statuses: vec!["deleted".into()],
            limit: 10,
            ..SearchQuery::default()
        })
        .await;
    assert_eq!(
        deleted
            .rows
            .iter()
            .map(|r| r.id.as_str())
            .collect::<Vec<_>>(),
        [target.as_str()]
    );
    let hidden = root
        .search(&SearchQuery {
            hide_deactivated: true,
            limit: 500,
            ..SearchQuery::default()
        })
        .await;
    assert!(hidden.rows.iter().all(|r| r.id != target) && hidden.hidden >= 1);
    let detail = root.user(&target).await.unwrap();
    assert_eq!(detail.status, "deleted");
    assert!(
        detail
            .actions
            .iter()
            .any(|a| a.action == muster_core::rules::UserAction::Restore && a.available),
        "{:?}",
        detail.actions
    );
    let restored = root
        .run_action(&target, SimpleAction::Restore)
        .await
        .unwrap();
    assert_ne!(restored.status, "deleted");
}
