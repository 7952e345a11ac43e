//! Single-use links, the pages they open, and the outbox (with SMTP delivery to a sink).

use std::io::{BufRead, BufReader, Write};
use std::sync::{Arc, Mutex};

use muster_server::links::{self, LinkError, LinkKind};
use muster_server::outbox::{self, Email};
use muster_server::{AppState, Config};
use rusqlite::params;
use serde_json::Value;
use time::Duration;

use crate::support::{
    NewUser, TestServer, User, scim_error, seed_org, seed_system_admin, seed_user,
};

const NEW_PASSWORD: &str = "Hydrant-Check-2030!";

fn issue(server: &TestServer, user: &User, kind: LinkKind, ttl: Duration) -> String {
    let now = server.now();
    server.write(|tx| links::issue(tx, "acme", &user.id, kind, ttl, now).unwrap())
}

fn consume(server: &TestServer, token: &str, kind: LinkKind) -> Result<String, LinkError> {
    let now = server.now();
    server.write(|tx| links::consume(tx, token, kind, now).map(|link| link.user_id))
}

fn peek(server: &TestServer, token: &str, kind: LinkKind) -> Result<String, LinkError> {
    let now = server.now();
    server.write(|tx| links::peek(tx, token, kind, now).map(|link| link.user_id))
}

/// A user who has been invited and has no password yet.
fn invited(server: &TestServer, user_name: &str) -> User {
    let user = seed_user(
        server,
        "acme",
        NewUser {
            user_name,
            role: "technician",
            licence: "field",
            active: true,
        },
    );
    server.write(|tx| {
        tx.execute(
            "UPDATE users SET status = 'invited', password_hash = NULL WHERE id = ?1",
            [&user.id],
        )
        .unwrap()
    });
    user
}

fn user_column(server: &TestServer, user: &User, column: &str) -> Option<String> {
    let sql = format!("SELECT CAST({column} AS TEXT) FROM users WHERE id = ?1");
    server.write(|tx| tx.query_row(&sql, [&user.id], |row| row.get(0)).unwrap())
}

#[tokio::test]
async fn links_are_single_use_and_stored_hashed() {
    let server = TestServer::start().await;
    let org = seed_org(&server, "acme");
    let token = issue(
        &server,
        &org.technician,
        LinkKind::Reset,
        Duration::hours(1),
    );
    assert!(
        token.starts_with("mst_lr_"),
        "reset tokens say what they are: {token}"
    );
    let stored: Vec<String> = server.write(|tx| {
        let mut rows = tx.prepare("SELECT hash FROM link_tokens").unwrap();
        rows.query_map([], |row| row.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    });
    assert!(
        stored.len() == 1 && stored[0] != token && stored[0].len() == 64,
        "only the SHA-256 of the token is stored: {stored:?}"
    );
    assert_eq!(
        peek(&server, &token, LinkKind::Reset),
        Ok(org.technician.id.clone()),
        "peeking checks a link without using it"
    );
    assert_eq!(
        consume(&server, &token, LinkKind::Reset),
        Ok(org.technician.id.clone()),
        "a fresh link works once"
    );
    assert_eq!(
        consume(&server, &token, LinkKind::Reset),
        Err(LinkError::Used),
        "a used link never works again"
    );
    assert_eq!(
        consume(&server, "mst_lr_nonsense", LinkKind::Reset),
        Err(LinkError::Unknown),
        "unknown tokens are unknown"
    );
    let magic = issue(
        &server,
        &org.technician,
        LinkKind::Magic,
        Duration::hours(1),
    );
    assert_eq!(
        consume(&server, &magic, LinkKind::Reset),
        Err(LinkError::Unknown),
        "a magic link cannot be used as a reset link"
    );
}

#[tokio::test]
async fn links_expire_and_resends_void_the_old_one() {
    let server = TestServer::start().await;
    let org = seed_org(&server, "acme");
    let first = issue(&server, &org.viewer, LinkKind::Welcome, Duration::hours(48));
    let second = issue(&server, &org.viewer, LinkKind::Welcome, Duration::hours(48));
    let reset = issue(&server, &org.viewer, LinkKind::Reset, Duration::hours(1));
    assert_eq!(
        consume(&server, &first, LinkKind::Welcome),
        Err(LinkError::Voided),
        "a resend voids the earlier invitation"
    );
    assert!(
        peek(&server, &reset, LinkKind::Reset).is_ok(),
        "a resend voids only links of its own kind"
    );
    server.advance(Duration::hours(48));
    assert_eq!(
        consume(&server, &second, LinkKind::Welcome),
        Err(LinkError::Expired),
        "a link stops working when its lifetime is over"
    );
    let now = server.now();
    let magic = issue(&server, &org.viewer, LinkKind::Magic, Duration::minutes(30));
    server.write(|tx| links::void_all(tx, "acme", &org.viewer.id, now).unwrap());
    assert_eq!(
        peek(&server, &magic, LinkKind::Magic),
        Err(LinkError::Voided),
        "void_all (suspension, deactivation, deletion) voids every kind"
    );
}

struct Page {
    status: u16,
    headers: reqwest::header::HeaderMap,
    html: String,
}

async fn get_page(server: &TestServer, url: &str) -> Page {
    let response = server.client.get(url).send().await.unwrap();
    page(response).await
}

async fn post_page(server: &TestServer, kind: LinkKind, form: &[(&str, &str)]) -> Page {
    let url = server.url(&format!("/links/{}", kind.as_str()));
    let response = server.client.post(url).form(form).send().await.unwrap();
    page(response).await
}

async fn page(response: reqwest::Response) -> Page {
    Page {
        status: response.status().as_u16(),
        headers: response.headers().clone(),
        html: response.text().await.unwrap(),
    }
}

fn set_password_form<'a>(token: &'a str, password: &'a str) -> [(&'a str, &'a str); 3] {
    [
        ("token", token),
        ("password", password),
        ("confirm", password),
    ]
}

fn assert_secure(page: &Page, what: &str) {
    let header = |name: &str| {
        page.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    let csp = header("content-security-policy");
    assert!(
        csp.contains("default-src 'none'") && csp.contains("frame-ancestors 'none'"),
        "{what}: pages forbid scripts, remote content and framing: {csp:?}"
    );
    assert_eq!(
        header("x-content-type-options"),
        "nosniff",
        "{what}: no sniffing"
    );
    assert_eq!(
        header("referrer-policy"),
        "no-referrer",
        "{what}: the token URL must not leak"
    );
    assert_eq!(
        header("cache-control"),
        "no-store",
        "{what}: pages with tokens are not cached"
    );
    assert_eq!(
        header("x-frame-options"),
        "DENY",
        "{what}: no framing in old browsers"
    );
    assert!(
        header("content-type").starts_with("text/html"),
        "{what}: pages are HTML"
    );
}

#[tokio::test]
async fn welcome_page_sets_the_first_password() {
    let server = TestServer::start().await;
    seed_org(&server, "acme");
    let ivy = invited(&server, "ivy");
    let token = issue(&server, &ivy, LinkKind::Welcome, Duration::hours(48));
    let url = links::url(&server.base, LinkKind::Welcome, &token);

    let form = get_page(&server, &url).await;
    assert_eq!(form.status, 200, "a fresh invitation shows the form");
    assert_secure(&form, "the welcome form");
    assert!(
        form.html.contains("Set your password") && form.html.contains("at least 12"),
        "the form shows the org's password rules: {}",
        form.html
    );

    let weak = post_page(
        &server,
        LinkKind::Welcome,
        &set_password_form(&token, "password1"),
    )
    .await;
    assert_eq!(weak.status, 400, "a weak password is refused");
    assert_secure(&weak, "the re-rendered form");
    assert!(
        weak.html.contains("Use at least 12 characters.")
            && weak.html.contains("This password is too common."),
        "the form says every reason: {}",
        weak.html
    );
    assert!(
        peek(&server, &token, LinkKind::Welcome).is_ok(),
        "a refused password does not use the link up"
    );
    let mismatch = post_page(
        &server,
        LinkKind::Welcome,
        &[
            ("token", &token),
            ("password", NEW_PASSWORD),
            ("confirm", "other"),
        ],
    )
    .await;
    assert!(
        mismatch.status == 400 && mismatch.html.contains("don&#39;t match"),
        "the two fields must agree: {}",
        mismatch.html
    );

    let done = post_page(
        &server,
        LinkKind::Welcome,
        &set_password_form(&token, NEW_PASSWORD),
    )
    .await;
    assert_eq!(done.status, 200, "a good password is set: {}", done.html);
    assert!(
        done.html.contains("all set"),
        "the page confirms it: {}",
        done.html
    );
    let signed_in = server
        .sign_in_raw(Some("acme"), &ivy.email, NEW_PASSWORD)
        .await;
    assert_eq!(
        signed_in.status(),
        200,
        "the user signs in with the password they chose"
    );
    assert_eq!(
        user_column(&server, &ivy, "status").as_deref(),
        Some("active"),
        "accepting the invitation activates the user"
    );
    assert_eq!(
        user_column(&server, &ivy, "last_sign_in_method").as_deref(),
        Some("password"),
        "setting the first password counts as a password sign-in"
    );

    let again = get_page(&server, &url).await;
    assert_eq!(again.status, 410, "a used invitation is gone");
    assert_secure(&again, "the used-link page");
    assert!(
        again.html.contains("already been used"),
        "the page says why: {}",
        again.html
    );
    let replay = post_page(
        &server,
        LinkKind::Welcome,
        &set_password_form(&token, NEW_PASSWORD),
    )
    .await;
    assert_eq!(
        replay.status, 410,
        "a used link cannot set the password again"
    );
}

#[tokio::test]
async fn expired_unknown_and_blocked_links_explain_themselves() {
    let server = TestServer::start().await;
    seed_org(&server, "acme");
    let ivy = invited(&server, "ivy");
    let token = issue(&server, &ivy, LinkKind::Welcome, Duration::hours(48));
    server.advance(Duration::hours(49));
    let expired = get_page(
        &server,
        &links::url(&server.base, LinkKind::Welcome, &token),
    )
    .await;
    assert_eq!(expired.status, 410, "an expired invitation is gone");
    assert!(
        expired.html.contains("expired") && expired.html.contains("send a new invitation"),
        "the page says what to do: {}",
        expired.html
    );

    let unknown = get_page(&server, &server.url("/links/welcome?token=mst_lw_nope")).await;
    assert_eq!(unknown.status, 404, "an unknown link is not found");
    assert_secure(&unknown, "the unknown-link page");
    let missing = get_page(&server, &server.url("/links/reset")).await;
    assert_eq!(missing.status, 404, "a link without a token is not found");

    let sam = invited(&server, "sam");
    let token = issue(&server, &sam, LinkKind::Welcome, Duration::hours(48));
    server.write(|tx| {
        tx.execute(
            "UPDATE users SET status = 'suspended' WHERE id = ?1",
            [&sam.id],
        )
        .unwrap()
    });
    let blocked = get_page(
        &server,
        &links::url(&server.base, LinkKind::Welcome, &token),
    )
    .await;
    assert_eq!(blocked.status, 403, "suspended users cannot use links");
    assert!(
        blocked.html.contains("not active"),
        "the page explains: {}",
        blocked.html
    );
    let posted = post_page(
        &server,
        LinkKind::Welcome,
        &set_password_form(&token, NEW_PASSWORD),
    )
    .await;
    assert_eq!(posted.status, 403, "nor set a password through one");
    assert!(
        peek(&server, &token, LinkKind::Welcome).is_ok(),
        "a refused attempt leaves the link as it was"
    );
}

#[tokio::test]
async fn reset_page_signs_the_user_out_and_tells_them() {
    let server = TestServer::start().await;
    let org = seed_org(&server, "acme");
    let tom = &org.technician;
    let before = server.sign_in(Some("acme"), &tom.email).await;
    server.write(|tx| {
        tx.execute(
            "UPDATE users SET must_change_password = 1 WHERE id = ?1",
            [&tom.id],
        )
        .unwrap()
    });
    let token = issue(&server, tom, LinkKind::Reset, Duration::hours(24));
    let form = get_page(&server, &links::url(&server.base, LinkKind::Reset, &token)).await;
    assert_eq!(form.status, 200, "a reset link shows the form");
    assert!(
        form.html.contains("new password"),
        "it asks for a new password: {}",
        form.html
    );

    let done = post_page(
        &server,
        LinkKind::Reset,
        &set_password_form(&token, NEW_PASSWORD),
    )
    .await;
    assert_eq!(done.status, 200, "the new password is set: {}", done.html);
    assert_eq!(
        server.refresh(&before.refresh).await.status(),
        401,
        "a password change signs the user out everywhere"
    );
    assert_eq!(
        user_column(&server, tom, "must_change_password").as_deref(),
        Some("0"),
        "choosing a password clears must-change"
    );
    let signed_in = server
        .sign_in_raw(Some("acme"), &tom.email, NEW_PASSWORD)
        .await;
    assert_eq!(signed_in.status(), 200, "the new password works");
    let notices: i64 = server.write(|tx| {
        tx.query_row(
            "SELECT COUNT(*) FROM outbox WHERE recipient = ?1 AND link IS NULL",
            [&tom.email],
            |row| row.get(0),
        )
        .unwrap()
    });
    assert_eq!(notices, 1, "the user is told their password changed");
}

#[tokio::test]
async fn magic_links_need_a_press_of_the_button() {
    let server = TestServer::start().await;
    let org = seed_org(&server, "acme");
    let vera = &org.viewer;
    let token = issue(&server, vera, LinkKind::Magic, Duration::minutes(30));
    let url = links::url(&server.base, LinkKind::Magic, &token);
    for _ in 0..2 {
        let confirm = get_page(&server, &url).await;
        assert_eq!(confirm.status, 200, "the link shows a confirmation page");
        assert!(
            confirm.html.contains("<button"),
            "with a button: {}",
            confirm.html
        );
    }
    assert!(
        peek(&server, &token, LinkKind::Magic).is_ok(),
        "fetching the page (as mail scanners do) does not use the link"
    );
    let done = post_page(&server, LinkKind::Magic, &[("token", &token)]).await;
    assert_eq!(
        done.status, 200,
        "pressing the button signs in: {}",
        done.html
    );
    assert_secure(&done, "the signed-in page");
    assert!(
        done.html.contains("You are signed in"),
        "it says so: {}",
        done.html
    );
    assert_eq!(
        user_column(&server, vera, "last_sign_in_method").as_deref(),
        Some("magic_link"),
        "the sign-in is recorded as a magic link"
    );
    let again = post_page(&server, LinkKind::Magic, &[("token", &token)]).await;
    assert_eq!(again.status, 410, "a magic link works once");
}

#[tokio::test]
async fn pages_escape_what_they_show_and_refuse_cross_site_posts() {
    let server = TestServer::start().await;
    seed_org(&server, "acme");
    server.write(|tx| {
        tx.execute(
            "UPDATE orgs SET name = '<b>Fire & Co</b>' WHERE id = 'acme'",
            [],
        )
        .unwrap()
    });
    let ivy = invited(&server, "ivy");
    let token = issue(&server, &ivy, LinkKind::Welcome, Duration::hours(48));
    let form = get_page(
        &server,
        &links::url(&server.base, LinkKind::Welcome, &token),
    )
    .await;
    assert!(
        form.html.contains("&lt;b&gt;Fire &amp; Co&lt;/b&gt;") && !form.html.contains("<b>Fire"),
        "the org name is escaped: {}",
        form.html
    );
    let response = server
        .client
        .post(server.url("/links/welcome"))
        .header("sec-fetch-site", "cross-site")
        .form(&set_password_form(&token, NEW_PASSWORD))
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.status(),
        403,
        "another site cannot submit the form"
    );
    assert!(
        peek(&server, &token, LinkKind::Welcome).is_ok(),
        "and the link is left unused"
    );
}

fn queue(server: &TestServer, org: Option<&str>, email: &Email) {
    let now = server.now();
    server.write(|tx| outbox::queue(tx, org, email, false, now).unwrap());
}

fn notice(to: &str) -> Email {
    outbox::password_changed_notice(to, "Acme Fire")
}

#[tokio::test]
async fn system_admins_read_the_outbox() {
    let server = TestServer::start().await;
    let org = seed_org(&server, "acme");
    let now = server.now();
    let link = links::url(&server.base, LinkKind::Welcome, "mst_lw_x");
    queue(
        &server,
        Some("acme"),
        &outbox::welcome("Ivy@Acme.example", "Acme Fire", &link, now),
    );
    queue(&server, Some("acme"), &notice("tom@acme.example"));
    queue(&server, Some("acme"), &notice("ivy@acme.example"));
    let root = server.sign_in(None, &seed_system_admin(&server)).await;

    let all: Value = server
        .get("/admin/outbox", &root.access)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        all["totalResults"], 3,
        "every queued email is listed: {all}"
    );
    assert_eq!(
        all["Resources"][0]["to"], "ivy@acme.example",
        "newest first: {all}"
    );
    let ivy: Value = server
        .get("/admin/outbox?to=IVY@acme.EXAMPLE", &root.access)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        ivy["totalResults"], 2,
        "the recipient filter ignores case: {ivy}"
    );
    let welcome = &ivy["Resources"][1];
    assert_eq!(
        welcome["link"],
        link.as_str(),
        "the link is listed for following it"
    );
    assert!(
        welcome["body"].as_str().unwrap().contains(&link),
        "the body carries the link: {welcome}"
    );
    assert!(
        welcome["createdAt"].is_string(),
        "when it was queued: {welcome}"
    );
    assert!(
        welcome["deliveredAt"].is_null(),
        "not delivered without SMTP: {welcome}"
    );
    let page: Value = server
        .get("/admin/outbox?startIndex=2&count=1", &root.access)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        page["Resources"].as_array().map(Vec::len),
        Some(1),
        "count limits the page: {page}"
    );
    assert_eq!(
        page["Resources"][0]["to"], "tom@acme.example",
        "startIndex is 1-based"
    );

    let admin = server.sign_in(Some("acme"), &org.admin.email).await;
    scim_error(server.get("/admin/outbox", &admin.access).await, 403).await;
}

/// A tiny SMTP server on a thread that accepts everything and keeps what it was sent.
fn smtp_sink() -> (u16, Arc<Mutex<Vec<String>>>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let received = Arc::new(Mutex::new(Vec::new()));
    let log = received.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { return };
            let log = log.clone();
            std::thread::spawn(move || smtp_session(stream, &log));
        }
    });
    (port, received)
}

/// 220; EHLO, MAIL, RCPT → 250; DATA → 354, the message up to "." → 250; QUIT → 221.
fn smtp_session(stream: std::net::TcpStream, log: &Mutex<Vec<String>>) -> std::io::Result<()> {
    let mut writer = stream.try_clone()?;
    writer.write_all(b"220 sink ESMTP\r\n")?;
    let mut in_data = false;
    for line in BufReader::new(stream).lines() {
        let line = line?;
        log.lock().unwrap().push(line.clone());
        let reply: &[u8] = if in_data {
            if line != "." {
                continue;
            }
            in_data = false;
            b"250 queued\r\n"
        } else {
            match line
                .get(..4)
                .unwrap_or_default()
                .to_ascii_uppercase()
                .as_str()
            {
                "DATA" => {
                    in_data = true;
                    b"354 go ahead\r\n"
                }
                "QUIT" => return writer.write_all(b"221 bye\r\n"),
                _ => b"250 ok\r\n",
            }
        };
        writer.write_all(reply)?;
    }
    Ok(())
}

#[tokio::test]
async fn queued_mail_is_delivered_over_smtp() {
    let server = TestServer::start().await;
    seed_org(&server, "acme");
    queue(&server, Some("acme"), &notice("tom@acme.example"));
    let (port, received) = smtp_sink();
    let state = AppState {
        config: Arc::new(Config {
            smtp_url: Some(format!("smtp://127.0.0.1:{port}?from=muster@acme.example")),
            ..Config::default()
        }),
        ..server.state.clone()
    };
    outbox::spawn_delivery(state);
    let mut delivered: Option<String> = None;
    for _ in 0..100 {
        delivered = server.write(|tx| {
            tx.query_row("SELECT delivered_at FROM outbox", [], |row| row.get(0))
                .unwrap()
        });
        if delivered.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(
        delivered.is_some(),
        "the delivery task marks the row delivered"
    );
    let transcript = received.lock().unwrap().join("\n");
    assert!(
        transcript.contains("RCPT TO:<tom@acme.example>")
            && transcript.contains("MAIL FROM:<muster@acme.example>"),
        "the relay was asked to deliver to the recipient from the configured sender: {transcript}"
    );
    assert!(
        transcript.contains("Your Acme Fire password was changed"),
        "the message went through DATA: {transcript}"
    );
}

#[tokio::test]
async fn failed_deliveries_are_recorded_for_a_retry() {
    let server = TestServer::start().await;
    seed_org(&server, "acme");
    queue(&server, Some("acme"), &notice("tom@acme.example"));
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let relay = outbox::Relay::parse(&format!("smtp://127.0.0.1:{port}")).unwrap();
    let sent = outbox::deliver_pending(&server.state, &relay)
        .await
        .unwrap();
    assert_eq!(sent, 0, "nothing is delivered when the relay is down");
    let (attempts, error): (i64, Option<String>) = server.write(|tx| {
        tx.query_row("SELECT attempts, last_error FROM outbox", [], |row| {
            Ok((row.get(0)?, row.get(1)?))
        })
        .unwrap()
    });
    assert_eq!(attempts, 1, "the failed attempt is counted");
    assert!(error.is_some(), "and its error kept for the admin");
    let again = outbox::deliver_pending(&server.state, &relay)
        .await
        .unwrap();
    assert_eq!(
        again, 0,
        "a failed email waits for its backoff before the next attempt"
    );
    let still: i64 = server.write(|tx| {
        tx.query_row(
            "SELECT attempts FROM outbox WHERE seq = ?1",
            params![1],
            |row| row.get(0),
        )
        .unwrap()
    });
    assert_eq!(still, 1, "no attempt was made during the backoff");
}

/// A delivered email's single-use link lives in the recipient's mailbox only; the demo
/// keeps it in the outbox, where its README tells newcomers to look.
#[tokio::test]
async fn a_delivered_link_is_not_kept_in_the_outbox_outside_the_demo() {
    for demo in [false, true] {
        let server = TestServer::start().await;
        seed_org(&server, "acme");
        let now = server.now();
        let link = links::url(&server.base, LinkKind::Welcome, "mst_lw_delivered-token");
        queue(
            &server,
            Some("acme"),
            &outbox::welcome("ivy@acme.example", "Acme Fire", &link, now),
        );
        let (port, received) = smtp_sink();
        let relay = outbox::Relay::parse(&format!("smtp://127.0.0.1:{port}")).unwrap();
        let state = AppState {
            config: Arc::new(Config {
                demo,
                ..Config::default()
            }),
            ..server.state.clone()
        };
        let sent = outbox::deliver_pending(&state, &relay).await.unwrap();
        assert_eq!(sent, 1);
        assert!(
            received
                .lock()
                .unwrap()
                .join("\n")
                .contains("mst_lw_delivered-token"),
            "the recipient gets the link"
        );
        let (kept_link, body): (Option<String>, String) = server.write(|tx| {
            tx.query_row("SELECT link, body FROM outbox", [], |row| {
                Ok((row.get(0)?, row.get(1)?))
            })
            .unwrap()
        });
        if demo {
            assert_eq!(
                kept_link.as_deref(),
                Some(link.as_str()),
                "the demo keeps it"
            );
        } else {
            assert_eq!(kept_link, None, "no usable link is kept");
            assert!(
                !body.contains("mst_lw_delivered-token") && body.contains("removed after delivery"),
                "{body}"
            );
        }
    }
}
