//! CSV export and import against a real muster-server: through the desktop console (an
//! export of a search view, offline too; an import's preview, run, cancel and re-run) and
//! the engine's import run when the server cannot be reached.
//!
//! Like the console tests these run without a keychain: the offline copy lives in the
//! console's memory only, which is all an export needs.

#![allow(clippy::unwrap_used)]

use std::io::Write;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use muster_core::csv::export::ExportOptions;
use muster_core::csv::import::{self, ImportOptions, Known, MappingOverride, Outcome, ProblemKind};
use muster_core::csv::{Limits, parse};
use muster_core::query::ListQuery;
use muster_core::search::{SearchQuery, SortKey};
use muster_core::{Code, Error};
use tokio::net::{TcpListener, TcpStream};

use muster_test_support::console::{TestConsole, fail_fast};
use muster_test_support::server::token_client;
use muster_test_support::{Muster, TempDir};

/// A console signed in as the org's admin at `url`, giving up fast, with the whole org
/// synced.
async fn synced(server: &Muster, url: &str) -> TestConsole {
    let console = server.admin_console("transfer", fail_fast(), url).await;
    console.sync(|_| {}).await.unwrap();
    console
}

/// A writer whose bytes the test can read after handing it away.
#[derive(Clone, Default)]
struct Shared(Arc<Mutex<Vec<u8>>>);

impl Write for Shared {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Shared {
    fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
    }
}

/// A loopback port forwarding to the server until closed: closing drops the live
/// connections and refuses new ones, so the server is really gone for the client.
struct Gate {
    address: SocketAddr,
    open: Arc<AtomicBool>,
    live: Arc<Mutex<Vec<tokio::task::AbortHandle>>>,
}

impl Gate {
    async fn start(upstream: &str) -> Self {
        let upstream: SocketAddr = upstream.trim_start_matches("http://").parse().unwrap();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let open = Arc::new(AtomicBool::new(true));
        let live = Arc::new(Mutex::new(Vec::new()));
        let (flag, tasks) = (open.clone(), live.clone());
        tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                if !flag.load(Ordering::SeqCst) {
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

    fn url(&self) -> String {
        format!("http://{}", self.address)
    }
}

/// How many emails the server's outbox holds for `address`.
async fn mail_to(server: &Muster, address: &str) -> i64 {
    let address = address.to_lowercase();
    server
        .state
        .db
        .read(move |conn| {
            Ok(conn.query_row(
                "SELECT count(*) FROM outbox WHERE recipient_folded = ?1",
                [address],
                |row| row.get::<_, i64>(0),
            )?)
        })
        .await
        .unwrap()
}

#[tokio::test]
async fn a_view_exports_every_matching_row_in_order_and_works_offline() {
    let server = Muster::start("transfer-export", 60).await;
    let gate = Gate::start(&server.url).await;
    let console = synced(&server, &gate.url()).await;
    let query = SearchQuery {
        roles: vec!["technician".into()],
        sort: SortKey::Email,
        descending: true,
        limit: 5,
        ..SearchQuery::default()
    };
    let everyone = console
        .search(&SearchQuery {
            limit: 500,
            ..query.clone()
        })
        .await;
    assert!(
        everyone.total > 5,
        "more than the window: {}",
        everyone.total
    );

    let out = Shared::default();
    let columns = vec!["email".to_owned(), "role".to_owned()];
    let summary = console
        .export_users(&query, &columns, &ExportOptions::default(), out.clone())
        .await
        .unwrap();
    let online = out.text();
    let table = parse(online.as_bytes(), &Limits::default()).unwrap();
    assert_eq!(table.headers, ["email", "role"]);
    let emails: Vec<String> = table.rows.iter().map(|r| r.fields[0].clone()).collect();
    let expected: Vec<String> = everyone
        .rows
        .iter()
        .map(|r| r.email.clone().unwrap_or_default())
        .collect();
    assert_eq!(
        emails, expected,
        "every technician, sorted as the view is, not just the window of 5"
    );
    assert_eq!(summary.rows, everyone.total);
    assert!(table.rows.iter().all(|r| r.fields[1] == "technician"));

    gate.close();
    let status = console.refresh().await.unwrap();
    assert!(!status.online, "the server is gone: {status:?}");
    let dir = TempDir::new("transfer-export");
    let path = dir.join("technicians.csv");
    let written = console
        .export_users_to_file(&query, &columns, &ExportOptions::default(), &path)
        .await
        .unwrap();
    assert_eq!(written.rows, summary.rows);
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        online,
        "offline, the export is the same: it reads the offline copy"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(
            mode & 0o077,
            0,
            "an export of personal data is the owner's only"
        );
    }

    let refused = console
        .export_users_to_file(
            &query,
            &["email".to_owned(), "shoeSize".to_owned()],
            &ExportOptions::default(),
            &dir.join("bad.csv"),
        )
        .await;
    assert!(
        matches!(refused, Err(Error::Validation { .. })),
        "{refused:?}"
    );
    assert!(
        !dir.join("bad.csv").exists(),
        "a failed export leaves no file"
    );
    assert!(
        console
            .export_columns()
            .iter()
            .any(|c| c.name == "invitationExpires"),
        "the dialog lists every column"
    );
}

#[tokio::test]
async fn an_import_lists_every_problem_then_creates_and_welcomes_only_good_rows() {
    let server = Muster::start("transfer-import", 30).await;
    let console = synced(&server, &server.url).await;
    let domain = &server.domain;
    let dir = TempDir::new("transfer-import");
    let path = dir.join("people.csv");
    std::fs::write(
        &path,
        format!(
            "Email address,Full name,License,Branch\r\n\
             pat.one@{domain},Pat One,Field,Denver\r\n\
             sam.two@{domain},\"Two, Sam\",desk,boulder\r\n\
             nobody-at-all,No Body,field,Denver\r\n\
             twin@{domain},Twin A,field,Denver\r\n\
             twin@{domain},Twin B,field,Denver\r\n\
             admin@{domain},Avery Admin,contractor,Denver\r\n\
             far@{domain},Far Away,field,Atlantis\r\n"
        ),
    )
    .unwrap();
    let options = ImportOptions::default();

    let preview = console.import_preview(&path, &[], &options).await.unwrap();
    assert_eq!(
        (preview.ready, preview.with_problems),
        (2, 5),
        "{preview:#?}"
    );
    let kinds: Vec<Vec<ProblemKind>> = preview
        .rows
        .iter()
        .map(|r| r.problems.iter().map(|p| p.kind).collect())
        .collect();
    assert_eq!(
        kinds,
        [
            vec![],
            vec![],
            vec![ProblemKind::BadEmail],
            vec![ProblemKind::Duplicate],
            vec![ProblemKind::Duplicate],
            vec![ProblemKind::Exists],
            vec![ProblemKind::Unknown],
        ]
    );
    assert_eq!(
        preview.rows[5].problems[0].suggestion.as_deref(),
        Some(format!("admin+contractor@{domain}").as_str()),
        "the admin who is also a contractor needs a second address"
    );
    assert_eq!(
        preview.rows[1].name, "Sam Two",
        "'Two, Sam' is last name first"
    );

    let cancelled = AtomicBool::new(true);
    let report = console
        .import_users(&path, &[], &options, &cancelled, |_| {})
        .await
        .unwrap();
    assert_eq!((report.created, report.not_run), (0, 2), "{report:#?}");
    let client = server.client();
    let find = |user_name: String| {
        let client = client.clone();
        async move {
            client
                .users()
                .page(&ListQuery::filtered(
                    muster_core::query::attr("userName").eq(user_name.as_str()),
                ))
                .await
                .unwrap()
                .resources
        }
    };
    assert!(
        find(format!("pat.one@{domain}")).await.is_empty(),
        "cancelled before the first row: nobody is created"
    );

    let go = AtomicBool::new(false);
    let mut progress = Vec::new();
    let report = console
        .import_users(&path, &[], &options, &go, |p| {
            progress.push((p.done, p.total))
        })
        .await
        .unwrap();
    assert_eq!(progress, [(1, 2), (2, 2)], "progress after each sent row");
    assert_eq!(
        (
            report.created,
            report.invited,
            report.skipped,
            report.failed
        ),
        (2, 2, 5, 0),
        "{report:#?}"
    );
    assert_eq!(
        report.rows.iter().map(|r| r.outcome).collect::<Vec<_>>(),
        [
            Outcome::Invited,
            Outcome::Invited,
            Outcome::Skipped,
            Outcome::Skipped,
            Outcome::Skipped,
            Outcome::Skipped,
            Outcome::Skipped,
        ]
    );
    for good in [format!("pat.one@{domain}"), format!("sam.two@{domain}")] {
        let found = find(good.clone()).await;
        assert_eq!(found.len(), 1, "{good} is created");
        let shop = found[0].shop.as_ref().unwrap();
        assert_eq!(shop.status.as_ref().unwrap().as_str(), "invited");
        assert_eq!(
            shop.invitation
                .as_ref()
                .and_then(|i| i.state.as_ref())
                .unwrap()
                .as_str(),
            "pending",
            "and welcomed"
        );
        assert_eq!(
            mail_to(&server, &good).await,
            1,
            "one welcome email to {good}"
        );
        assert_eq!(
            console
                .search(&SearchQuery {
                    text: good.clone(),
                    limit: 5,
                    ..SearchQuery::default()
                })
                .await
                .total,
            1,
            "the offline copy has {good} at once"
        );
    }
    for bad in [
        "nobody-at-all".to_owned(),
        format!("twin@{domain}"),
        format!("far@{domain}"),
    ] {
        assert!(find(bad.clone()).await.is_empty(), "{bad} is not created");
        assert_eq!(mail_to(&server, &bad).await, 0);
    }

    let again = console.import_preview(&path, &[], &options).await.unwrap();
    assert_eq!(
        again.ready, 0,
        "re-running the file is safe: the two exist now"
    );
    assert_eq!(again.rows[0].problems[0].kind, ProblemKind::Exists);

    let report_path = dir.join("report.csv");
    console
        .save_import_report(&report, &ExportOptions::default(), &report_path)
        .unwrap();
    let text = std::fs::read_to_string(&report_path).unwrap();
    assert!(
        text.starts_with("row,email,outcome,message,userId\r\n2,pat.one@"),
        "{text}"
    );
    assert_eq!(text.matches("\r\n").count(), 1 + 7);

    let remapped = console
        .import_preview(
            &path,
            &[MappingOverride {
                header: "branch".into(),
                field: None,
            }],
            &options,
        )
        .await
        .unwrap();
    assert!(
        remapped.rows[6]
            .problems
            .iter()
            .all(|p| p.kind != ProblemKind::Unknown),
        "a column left out is not checked"
    );
}

#[tokio::test]
async fn a_run_stops_at_the_first_row_when_the_server_cannot_be_reached() {
    // A port that was just free: nothing listens there.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let client = token_client(
        muster_core::connection::Connection::muster(&url, "acme"),
        "t",
    );
    let table = parse(
        b"email,name\na@acme.test,A One\nb@acme.test,B Two\nbad,C Three\n",
        &Limits::default(),
    )
    .unwrap();
    let plan = import::plan(&table, &[], &Known::default(), &ImportOptions::default()).unwrap();
    let (report, created) = import::run(
        &client,
        &plan,
        &ImportOptions::default(),
        &AtomicBool::new(false),
        |_| {},
    )
    .await;
    assert!(created.is_empty());
    assert_eq!(
        report.rows.iter().map(|r| r.outcome).collect::<Vec<_>>(),
        [Outcome::Failed, Outcome::NotRun, Outcome::Skipped],
        "the first failure stops the run; the rest is not sent"
    );
    assert_eq!(report.rows[0].code(), Some(Code::Offline));
    assert!(
        report
            .stopped
            .as_deref()
            .unwrap()
            .contains("cannot be reached"),
        "{report:?}"
    );
}
