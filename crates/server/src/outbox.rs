//! The outbox: every email the server would send, kept in the `outbox` table.
//!
//! Handlers [`queue`] an [`Email`] in the same transaction as the change it reports, so a
//! rolled-back action sends nothing. System admins read the outbox at `GET /admin/outbox`
//! (how tests and the demo follow links without a mail server). When `smtp_url` is set,
//! [`spawn_delivery`] sends queued mail through that relay in the background.
//!
//! Links in emails are credentials: the log shows them in demo mode only; otherwise it
//! names the recipient and subject, never the body or the link.
//!
//! SMTP is plain (`smtp://host:port[?from=address]`), without TLS or authentication: it
//! is meant for an on-premises relay (Postfix, Exchange connector, a sidecar) that takes
//! the mail on from there. Building TLS in would add a second TLS stack to the server.

use std::time::Duration as StdDuration;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::routing::get;
use axum::{Json, Router};
use lettre::message::Mailbox;
use lettre::message::header::ContentType;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use muster_scim::message::ScimType;
use rusqlite::{Connection, Transaction, params};
use serde::Serialize;
use serde_json::{Value, json};
use time::macros::format_description;
use time::{Duration, OffsetDateTime};

use crate::AppState;
use crate::auth::{Caller, stamp};
use crate::error::{AppError, AppResult};

/// The `outbox` table. Times are [`crate::auth::stamp`] text.
pub const SCHEMA: &str = r#"
-- Every email the server would send. recipient_folded is the lower-cased address, for
-- finding a person's mail. next_attempt holds back a retry after a failed delivery.
CREATE TABLE outbox (
    seq INTEGER PRIMARY KEY,
    org TEXT,
    recipient TEXT NOT NULL,
    recipient_folded TEXT NOT NULL,
    subject TEXT NOT NULL,
    body TEXT NOT NULL,
    link TEXT,
    created TEXT NOT NULL,
    delivered_at TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    next_attempt TEXT
);
CREATE INDEX outbox_recipient ON outbox (recipient_folded, seq);
CREATE INDEX outbox_pending ON outbox (delivered_at, seq);
"#;

/// An email to send: plain text.
#[derive(Clone, PartialEq, Eq)]
pub struct Email {
    /// The recipient's address.
    pub to: String,
    /// The subject line.
    pub subject: String,
    /// The plain-text body.
    pub body: String,
    /// The link the email carries, if any (a credential: never logged outside demo mode).
    pub link: Option<String>,
}

/// Shows the recipient and subject only: the body and link may hold credentials.
impl std::fmt::Debug for Email {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Email")
            .field("to", &self.to)
            .field("subject", &self.subject)
            .field("body", &"<redacted>")
            .field("link", &self.link.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

/// Stores `email` for `org` (`None` for server-level mail) in the caller's transaction.
/// In demo mode the log shows it with its link, so a newcomer can follow it; otherwise
/// the log names only its recipient and subject.
pub fn queue(
    tx: &Transaction<'_>,
    org: Option<&str>,
    email: &Email,
    demo: bool,
    now: OffsetDateTime,
) -> AppResult<()> {
    let to = email.to.trim();
    if to.is_empty() {
        return Err(AppError::invalid_value(
            "This user has no email address to send to.",
        ));
    }
    let subject = one_line(&email.subject);
    tx.execute(
        "INSERT INTO outbox (org, recipient, recipient_folded, subject, body, link, created)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![
            org,
            to,
            to.to_lowercase(),
            subject,
            email.body,
            email.link,
            stamp(now)
        ],
    )?;
    if demo {
        tracing::info!(
            to,
            subject,
            link = email.link.as_deref().unwrap_or("-"),
            "email (demo)"
        );
    } else {
        tracing::info!(to, subject, "email queued");
    }
    Ok(())
}

/// The column that tells text messages from email: SMS is kept in the outbox (Muster has
/// no SMS gateway; a deployment's relay reads them there), never sent by SMTP.
pub const CHANNEL_SCHEMA: &str = r#"
ALTER TABLE outbox ADD COLUMN channel TEXT NOT NULL DEFAULT 'email';
"#;

/// Stores a text message to `phone` for `org` in the caller's transaction. The log names
/// the number only (in demo mode, the text too, so a newcomer can follow it).
pub fn queue_sms(
    tx: &Transaction<'_>,
    org: Option<&str>,
    phone: &str,
    text: &str,
    demo: bool,
    now: OffsetDateTime,
) -> AppResult<()> {
    let to = one_line(phone);
    tx.execute(
        "INSERT INTO outbox (org, recipient, recipient_folded, subject, body, created, channel)
         VALUES (?1, ?2, ?3, 'SMS', ?4, ?5, 'sms')",
        params![org, to, to.to_lowercase(), text, stamp(now)],
    )?;
    if demo {
        tracing::info!(to, text, "sms (demo)");
    } else {
        tracing::info!(to, "sms queued");
    }
    Ok(())
}

/// The text that carries an invitation's verification code.
pub fn sms_code_text(org_name: &str, code: &str) -> String {
    format!(
        "{code} is your {} verification code. Enter it with your new password. Never share it.",
        one_line(org_name)
    )
}

/// `text` with line breaks and other control characters turned into spaces, so an org
/// name cannot smuggle headers into a subject line.
fn one_line(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect::<String>()
        .trim()
        .to_owned()
}

/// A time as emails show it: `2030-01-03 09:00 UTC`.
fn when(at: OffsetDateTime) -> String {
    let format = format_description!("[year]-[month]-[day] [hour]:[minute] UTC");
    at.to_offset(time::UtcOffset::UTC)
        .format(&format)
        .unwrap_or_else(|_| stamp(at))
}

fn signed(org_name: &str, text: String) -> String {
    format!("Hello,\n\n{text}\n\n— {}, via Muster\n", one_line(org_name))
}

/// The email that carries a link of `kind`, valid until `expires_at`.
pub fn link_email(
    kind: crate::links::LinkKind,
    to: &str,
    org_name: &str,
    link: &str,
    expires_at: OffsetDateTime,
) -> Email {
    use crate::links::LinkKind;
    let write = match kind {
        LinkKind::Welcome => welcome,
        LinkKind::Reset => password_reset,
        LinkKind::Magic => magic_link,
    };
    write(to, org_name, link, expires_at)
}

/// The invitation: a link to set a first password, valid until `expires_at`.
pub fn welcome(to: &str, org_name: &str, link: &str, expires_at: OffsetDateTime) -> Email {
    invitation(to, org_name, link, expires_at, &[])
}

/// The invitation with its options: for the mobile app it says where to sign in after;
/// with an SMS code, that the page will ask for it.
pub fn welcome_with(
    to: &str,
    org_name: &str,
    link: &str,
    expires_at: OffsetDateTime,
    invite: crate::lifecycle::invite::Invite,
) -> Email {
    let mut notes = Vec::new();
    if invite.channel == crate::lifecycle::invite::Channel::Mobile {
        notes.push(format!(
            "Then sign in to the {} mobile app with your email address and that password.",
            one_line(org_name)
        ));
    }
    if invite.sms_code {
        notes.push(
            "The page also asks for the 6-digit code we are sending to your phone by SMS."
                .to_owned(),
        );
    }
    invitation(to, org_name, link, expires_at, &notes)
}

/// The invitation's email, with `notes` (one paragraph) after the link when there are any.
fn invitation(
    to: &str,
    org_name: &str,
    link: &str,
    expires_at: OffsetDateTime,
    notes: &[String],
) -> Email {
    let org = one_line(org_name);
    let notes = if notes.is_empty() {
        String::new()
    } else {
        format!("{}\n\n", notes.join(" "))
    };
    let body = format!(
        "{org} has set up an account for you. To start using it, choose your password here:\n\n\
         {link}\n\n\
         {notes}\
         The link works once and expires on {when}. If it has expired, ask your \
         administrator to send a new invitation.\n\n\
         If you weren't expecting this email, you can ignore it: nothing happens until the \
         link is used.",
        when = when(expires_at),
    );
    Email {
        to: to.to_owned(),
        subject: format!("You're invited to {org}: set your password"),
        body: signed(&org, body),
        link: Some(link.to_owned()),
    }
}

/// A password-reset link, valid until `expires_at`.
pub fn password_reset(to: &str, org_name: &str, link: &str, expires_at: OffsetDateTime) -> Email {
    let org = one_line(org_name);
    let body = format!(
        "Someone (you or an administrator) asked to reset the password of your {org} \
         account. To choose a new password, open this link:\n\n\
         {link}\n\n\
         The link works once and expires on {when}. Setting a new password signs you out on \
         every device.\n\n\
         If this wasn't you, ignore this email: your password stays as it is. If these \
         emails keep coming, tell your administrator.",
        when = when(expires_at),
    );
    Email {
        to: to.to_owned(),
        subject: format!("Reset your {org} password"),
        body: signed(&org, body),
        link: Some(link.to_owned()),
    }
}

/// A magic sign-in link, valid until `expires_at`.
pub fn magic_link(to: &str, org_name: &str, link: &str, expires_at: OffsetDateTime) -> Email {
    let org = one_line(org_name);
    let body = format!(
        "Here is your link to sign in to {org} without a password:\n\n\
         {link}\n\n\
         It works once and expires on {when}. Don't forward this email: anyone with the \
         link can sign in as you.\n\n\
         If this wasn't you, ignore this email: nobody can sign in without the link.",
        when = when(expires_at),
    );
    Email {
        to: to.to_owned(),
        subject: format!("Your sign-in link for {org}"),
        body: signed(&org, body),
        link: Some(link.to_owned()),
    }
}

/// Tells a user an administrator reset their two-factor authentication.
pub fn mfa_reset_notice(to: &str, org_name: &str) -> Email {
    let org = one_line(org_name);
    let body = format!(
        "An administrator of {org} has reset two-factor authentication on your account. \
         The next time you sign in you will be asked to set it up again.\n\n\
         If this wasn't you or you didn't ask for it, contact your administrator straight \
         away."
    );
    Email {
        to: to.to_owned(),
        subject: format!("Two-factor authentication was reset on your {org} account"),
        body: signed(&org, body),
        link: None,
    }
}

/// Tells a user two-factor authentication was turned off on their account (by them).
pub fn mfa_off_notice(to: &str, org_name: &str) -> Email {
    let org = one_line(org_name);
    let body = format!(
        "Two-factor authentication has just been turned off on your {org} account, and \
         your other sessions were signed out.\n\n\
         If this wasn't you, contact your administrator straight away."
    );
    Email {
        to: to.to_owned(),
        subject: format!("Two-factor authentication was turned off on your {org} account"),
        body: signed(&org, body),
        link: None,
    }
}

/// Tells a user their password was changed and they were signed out everywhere.
pub fn password_changed_notice(to: &str, org_name: &str) -> Email {
    let org = one_line(org_name);
    let body = format!(
        "The password of your {org} account has just been changed, and you have been \
         signed out on every device.\n\n\
         If you made this change, there is nothing more to do. If this wasn't you, contact \
         your administrator straight away and ask for a password reset."
    );
    Email {
        to: to.to_owned(),
        subject: format!("Your {org} password was changed"),
        body: signed(&org, body),
        link: None,
    }
}

/// `GET /admin/outbox`, for system admins.
pub fn routes() -> Router<AppState> {
    Router::new().route("/admin/outbox", get(list))
}

/// A queued or sent email as listed.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Listed {
    id: String,
    org: Option<String>,
    to: String,
    subject: String,
    body: String,
    link: Option<String>,
    /// `email` or `sms`.
    channel: String,
    created_at: String,
    delivered_at: Option<String>,
    attempts: i64,
    last_error: Option<String>,
}

/// Which mail to list: `to` (any case), 1-based `start_index`, at most `count`.
struct ListQuery {
    to: Option<String>,
    start_index: usize,
    count: usize,
}

impl ListQuery {
    fn parse(pairs: &[(String, String)], max_results: usize) -> AppResult<Self> {
        let mut query = Self {
            to: None,
            start_index: 1,
            count: max_results.min(100),
        };
        for (key, value) in pairs {
            match key.as_str() {
                "to" => query.to = Some(value.trim().to_lowercase()),
                "startIndex" => query.start_index = number(key, value)?.max(1),
                "count" => query.count = number(key, value)?.min(max_results),
                _ => {}
            }
        }
        Ok(query)
    }
}

fn number(key: &str, value: &str) -> AppResult<usize> {
    value
        .trim()
        .parse()
        .map_err(|_| AppError::invalid_value(format!("{key} must be a whole number.")))
}

/// The total matching and the page of it, newest first.
fn list_mail(conn: &Connection, query: &ListQuery) -> AppResult<(i64, Vec<Listed>)> {
    let to = query.to.as_deref();
    let total: i64 = conn.query_row(
        "SELECT COUNT(*) FROM outbox WHERE ?1 IS NULL OR recipient_folded = ?1",
        [to],
        |row| row.get(0),
    )?;
    let mut statement = conn.prepare(
        "SELECT seq, org, recipient, subject, body, link, created, delivered_at, attempts,
                last_error, channel
         FROM outbox WHERE ?1 IS NULL OR recipient_folded = ?1
         ORDER BY seq DESC LIMIT ?2 OFFSET ?3",
    )?;
    let limit = i64::try_from(query.count).unwrap_or(i64::MAX);
    let offset = i64::try_from(query.start_index - 1).unwrap_or(i64::MAX);
    let mail = statement
        .query_map(params![to, limit, offset], |row| {
            Ok(Listed {
                id: row.get::<_, i64>(0)?.to_string(),
                org: row.get(1)?,
                to: row.get(2)?,
                subject: row.get(3)?,
                body: row.get(4)?,
                link: row.get(5)?,
                created_at: row.get(6)?,
                delivered_at: row.get(7)?,
                attempts: row.get(8)?,
                last_error: row.get(9)?,
                channel: row.get(10)?,
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok((total, mail))
}

/// `GET /admin/outbox?to=&startIndex=&count=`: system admins only, newest first.
async fn list(
    caller: Caller,
    State(state): State<AppState>,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> AppResult<Json<Value>> {
    caller.require_system_admin()?;
    let Query(pairs) = query.map_err(|_| {
        AppError::bad_request(ScimType::InvalidSyntax, "The query string is malformed.")
    })?;
    let query = ListQuery::parse(&pairs, state.config.max_results)?;
    let start_index = query.start_index;
    let (total, mail) = state.db.read(move |conn| list_mail(conn, &query)).await?;
    Ok(Json(json!({
        "totalResults": total,
        "startIndex": start_index,
        "itemsPerPage": mail.len(),
        "Resources": mail,
    })))
}

/// How often the delivery task looks for mail to send.
const POLL: StdDuration = StdDuration::from_secs(5);
/// How many emails one pass sends at most.
const BATCH: i64 = 50;
/// After this many failed attempts an email is left undelivered (with its last error).
pub const MAX_ATTEMPTS: i64 = 8;
/// How long one SMTP conversation may take.
const SEND_TIMEOUT: StdDuration = StdDuration::from_secs(30);

/// Where and as whom to send: parsed from `smtp://host[:port][?from=address]`.
#[derive(Debug, Clone)]
pub struct Relay {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl Relay {
    /// Reads an `smtp://host[:port][?from=address]` URL (port 25 by default; sender
    /// `muster@localhost` by default). Credentials and `smtps://` are refused: this relay
    /// speaks plain SMTP to an on-premises mail server.
    pub fn parse(url: &str) -> Result<Self, String> {
        let rest = url.trim().strip_prefix("smtp://").ok_or_else(|| {
            "smtp_url must look like smtp://host:port (plain SMTP to an on-premises relay; \
             TLS is not built in)"
                .to_owned()
        })?;
        let (authority, query) = rest.split_once('?').unwrap_or((rest, ""));
        let authority = authority.trim_end_matches('/');
        if authority.contains('@') {
            return Err(
                "smtp_url cannot carry credentials: plain SMTP would send them \
                        unencrypted; let the relay accept this host instead"
                    .to_owned(),
            );
        }
        let (host, port) = split_host_port(authority)?;
        let from = query
            .split('&')
            .find_map(|pair| pair.strip_prefix("from="))
            .unwrap_or("muster@localhost");
        let from: Mailbox = from
            .parse()
            .map_err(|error| format!("smtp_url from={from:?} is not an email address: {error}"))?;
        let transport = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host)
            .port(port)
            .timeout(Some(SEND_TIMEOUT))
            .build();
        Ok(Self { transport, from })
    }

    async fn send(&self, mail: &Pending) -> Result<(), SendError> {
        let to: Mailbox = mail
            .to
            .parse()
            .map_err(|error| SendError::permanent(format!("bad recipient address: {error}")))?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(mail.subject.clone())
            .header(ContentType::TEXT_PLAIN)
            .body(mail.body.clone())
            .map_err(|error| SendError::permanent(format!("cannot build the message: {error}")))?;
        self.transport
            .send(message)
            .await
            .map(|_| ())
            .map_err(|error| SendError {
                permanent: error.is_permanent(),
                message: error.to_string(),
            })
    }
}

fn split_host_port(authority: &str) -> Result<(&str, u16), String> {
    let (host, port) = match authority.rsplit_once(':') {
        Some((host, port)) if !host.is_empty() => {
            let port = port
                .parse()
                .map_err(|_| format!("smtp_url port {port:?} is not a port number"))?;
            (host, port)
        }
        _ => (authority, 25),
    };
    if host.is_empty() {
        return Err("smtp_url needs a host, as in smtp://127.0.0.1:25".to_owned());
    }
    Ok((host.trim_start_matches('[').trim_end_matches(']'), port))
}

/// A failed delivery: permanent ones (a 5xx answer, a bad address) are not retried.
struct SendError {
    permanent: bool,
    message: String,
}

impl SendError {
    fn permanent(message: String) -> Self {
        Self {
            permanent: true,
            message,
        }
    }
}

/// An undelivered email due for an attempt.
#[derive(Debug)]
struct Pending {
    seq: i64,
    to: String,
    subject: String,
    body: String,
    attempts: i64,
}

/// Starts the background delivery of queued mail through `state.config.smtp_url`, if it
/// is set: every few seconds it sends what is due, retrying failures with growing waits
/// up to [`MAX_ATTEMPTS`] times and recording each error on the row. Requests never wait
/// for it. A `smtp_url` that cannot be used is logged and delivery stays off.
pub fn spawn_delivery(state: AppState) {
    let Some(url) = state.config.smtp_url.clone() else {
        tracing::info!("no smtp_url: emails stay in the outbox");
        return;
    };
    let relay = match Relay::parse(&url) {
        Ok(relay) => relay,
        Err(problem) => {
            tracing::error!(%problem, "email delivery is off");
            return;
        }
    };
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(POLL);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            if let Err(error) = deliver_pending(&state, &relay).await {
                tracing::warn!(%error, "email delivery pass failed");
            }
        }
    });
}

/// Sends every email that is due now (one batch); how many were delivered.
pub async fn deliver_pending(state: &AppState, relay: &Relay) -> AppResult<usize> {
    let now = state.clock.now();
    let due = state.db.read(move |conn| due_mail(conn, now)).await?;
    let mut delivered = 0;
    for mail in due {
        let outcome = relay.send(&mail).await;
        delivered += usize::from(outcome.is_ok());
        let now = state.clock.now();
        // Outside the demo (whose README promises the links stay readable), a delivered
        // email's single-use link is the recipient's alone: the outbox keeps no usable
        // copy of it.
        let keep_link = state.config.demo;
        state
            .db
            .write(move |tx| record_attempt(tx, &mail, outcome, keep_link, now))
            .await?;
    }
    Ok(delivered)
}

fn due_mail(conn: &Connection, now: OffsetDateTime) -> AppResult<Vec<Pending>> {
    let mut statement = conn.prepare(
        "SELECT seq, recipient, subject, body, attempts FROM outbox
         WHERE delivered_at IS NULL AND attempts < ?1 AND channel = 'email'
           AND (next_attempt IS NULL OR next_attempt <= ?2)
         ORDER BY seq LIMIT ?3",
    )?;
    let due = statement
        .query_map(params![MAX_ATTEMPTS, stamp(now), BATCH], |row| {
            Ok(Pending {
                seq: row.get(0)?,
                to: row.get(1)?,
                subject: row.get(2)?,
                body: row.get(3)?,
                attempts: row.get(4)?,
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(due)
}

/// Marks `mail` delivered, or records the failure and when to try again.
fn record_attempt(
    tx: &Transaction<'_>,
    mail: &Pending,
    outcome: Result<(), SendError>,
    keep_link: bool,
    now: OffsetDateTime,
) -> AppResult<()> {
    match outcome {
        Ok(()) => {
            tx.execute(
                "UPDATE outbox SET delivered_at = ?2, attempts = attempts + 1, last_error = NULL
                 WHERE seq = ?1",
                params![mail.seq, stamp(now)],
            )?;
            if !keep_link {
                forget_link(tx, mail.seq)?;
            }
            tracing::info!(seq = mail.seq, to = %mail.to, "email delivered");
        }
        Err(error) => {
            let attempts = if error.permanent {
                MAX_ATTEMPTS
            } else {
                mail.attempts + 1
            };
            let message: String = error.message.chars().take(500).collect();
            tx.execute(
                "UPDATE outbox SET attempts = ?2, last_error = ?3, next_attempt = ?4
                 WHERE seq = ?1",
                params![mail.seq, attempts, message, stamp(now + backoff(attempts))],
            )?;
            tracing::warn!(seq = mail.seq, to = %mail.to, attempts, error = %message,
                           "email delivery failed");
        }
    }
    Ok(())
}

/// Removes a delivered email's link: the `link` column, and the link in the body (the
/// line that holds it says it was removed).
fn forget_link(tx: &Transaction<'_>, seq: i64) -> AppResult<()> {
    let (body, link): (String, Option<String>) = tx.query_row(
        "SELECT body, link FROM outbox WHERE seq = ?1",
        params![seq],
        |row| Ok((row.get(0)?, row.get(1)?)),
    )?;
    let Some(link) = link.filter(|link| !link.is_empty()) else {
        return Ok(());
    };
    let body = body.replace(&link, "[link removed after delivery]");
    tx.execute(
        "UPDATE outbox SET link = NULL, body = ?2 WHERE seq = ?1",
        params![seq, body],
    )?;
    Ok(())
}

/// The wait after the `attempts`-th failure: 30 s, doubling, at most an hour.
fn backoff(attempts: i64) -> Duration {
    let doublings = u32::try_from(attempts.saturating_sub(1).clamp(0, 7)).unwrap_or(7);
    Duration::seconds(30 * 2_i64.pow(doublings)).min(Duration::HOUR)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn debug_hides_the_body_and_link() {
        let email = welcome(
            "a@b.example",
            "Acme",
            "https://x/links/welcome?token=mst_lw_secret",
            datetime!(2030-01-03 09:00 UTC),
        );
        let debug = format!("{email:?}");
        assert!(
            !debug.contains("mst_lw_secret"),
            "a link is a credential and must not reach logs via Debug: {debug}"
        );
        assert!(
            email.body.contains("2030-01-03 09:00 UTC"),
            "the email says when the link expires"
        );
    }

    #[test]
    fn subjects_stay_on_one_line() {
        let email = mfa_reset_notice("a@b.example", "Acme\r\nBcc: evil@example.com");
        assert!(
            !email.subject.contains('\n') && !email.subject.contains('\r'),
            "an org name must not add header lines: {:?}",
            email.subject
        );
    }

    #[test]
    fn relay_urls() {
        assert!(
            Relay::parse("smtp://127.0.0.1:2525").is_ok(),
            "host and port"
        );
        assert!(
            Relay::parse("smtp://relay.local?from=muster@shop.example").is_ok(),
            "default port, explicit sender"
        );
        assert!(
            Relay::parse("smtps://relay.local").is_err(),
            "TLS is not built in"
        );
        assert!(
            Relay::parse("smtp://user:pw@relay.local").is_err(),
            "credentials over plain SMTP are refused"
        );
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        assert_eq!(backoff(1), Duration::seconds(30), "first retry after 30 s");
        assert_eq!(backoff(2), Duration::seconds(60), "then doubling");
        assert_eq!(backoff(20), Duration::HOUR, "never more than an hour");
    }
}
