//! The pages single-use links open: plain server-rendered HTML forms, no JavaScript.
//!
//! - `GET|POST /links/welcome`: accept an invitation by choosing a first password.
//! - `GET|POST /links/reset`: choose a new password (signs the user out everywhere).
//! - `GET|POST /links/magic`: sign in without a password. The GET only shows a button, so
//!   mail scanners that fetch links do not use them up; the POST uses the link.
//!
//! A welcome link sent with an SMS code asks for it too; a wrong code re-renders the form
//! and counts, and the fifth cancels the link.
//! A refused password re-renders the form with every reason and leaves the link unused.
//! Unknown links answer 404, expired, used or cancelled ones 410, links of suspended,
//! deactivated or deleted users 403, each with a page saying what happened and what to do.
//! Pages never say whether an email address has an account, and tokens never reach the
//! log. Every response carries a strict Content-Security-Policy and no-store caching.

use std::net::IpAddr;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::header::{
    CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, REFERRER_POLICY, X_CONTENT_TYPE_OPTIONS,
    X_FRAME_OPTIONS,
};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Router, middleware};
use rusqlite::{Connection, OptionalExtension, Transaction, params};
use serde_json::Value;
use time::OffsetDateTime;

use crate::AppState;
use crate::audit::{self, Actor, ActorKind, Entry, Outcome};
use crate::error::{AppError, AppResult};
use crate::lifecycle::invite::{self, Channel, CodeCheck, Invite};
use crate::lifecycle::{self, SignInMethod};
use crate::links::{self, LinkError, LinkKind, LinkUse};
use crate::outbox;
use crate::policy::{self, PasswordPolicy};
use crate::ratelimit::ClientAddr;

mod form;

use form::{Form, token_of_query};

/// The `/links/*` pages, with security headers on every response.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/links/{kind}", get(link_form).post(link_submit))
        .layer(middleware::map_response(security_headers))
}

const CSP: &str =
    "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'";

async fn security_headers(mut response: Response) -> Response {
    let headers = response.headers_mut();
    let set = [
        (CONTENT_SECURITY_POLICY, CSP),
        (X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (REFERRER_POLICY, "no-referrer"),
        (CACHE_CONTROL, "no-store"),
        (X_FRAME_OPTIONS, "DENY"),
    ];
    for (name, value) in set {
        headers.insert(name, HeaderValue::from_static(value));
    }
    response
}

/// The link kind a page's path names (`/links/welcome`…); any other path is 404.
fn kind_of_path(kind: &str) -> Option<LinkKind> {
    LinkKind::ALL
        .into_iter()
        .find(|known| known.as_str() == kind)
}

/// `GET /links/{kind}?token=…`: the link's page (for a sign-in link only a button, so
/// that a mail scanner fetching it does not use it up), or why it cannot be used.
async fn link_form(
    State(state): State<AppState>,
    Path(kind): Path<String>,
    RawQuery(query): RawQuery,
) -> Response {
    let Some(kind) = kind_of_path(&kind) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let token = token_of_query(query.as_deref());
    let now = state.clock.now();
    let found = state
        .db
        .read(move |conn| load(conn, &token, kind, now).map(|h| h.map(|h| (h, token))))
        .await;
    match found {
        Ok(Ok((holder, token))) if kind == LinkKind::Magic => magic_page(&holder, &token),
        Ok(Ok((holder, token))) => password_page(kind, &holder, &token, &[], StatusCode::OK),
        Ok(Err(refusal)) => refusal_page(kind, &refusal),
        Err(error) => failure_page(&error),
    }
}

/// `POST /links/{kind}`: the link's form sent.
async fn link_submit(
    State(state): State<AppState>,
    Path(kind): Path<String>,
    ClientAddr(client): ClientAddr,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(kind) = kind_of_path(&kind) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let form = match Form::read(&headers, &body) {
        Ok(form) => form,
        Err(problem) => return problem.page(),
    };
    match kind {
        LinkKind::Magic => magic_submit(&state, client, &form).await,
        kind => password_submit(&state, kind, client, &form).await,
    }
}

async fn magic_submit(state: &AppState, client: Option<IpAddr>, form: &Form) -> Response {
    let token = form.get("token").to_owned();
    let now = state.clock.now();
    let used = state
        .db
        .write(move |tx| {
            let holder = match use_link(tx, &token, LinkKind::Magic, now)? {
                Ok(holder) => holder,
                Err(refusal) => return Ok(Err(refusal)),
            };
            let (org, user_id) = (&holder.link.org, &holder.link.user_id);
            lifecycle::record_sign_in(tx, org, user_id, SignInMethod::MagicLink, now)?;
            audit_link(tx, &holder, "session.sign_in", client, now)?;
            Ok(Ok(holder))
        })
        .await;
    match used {
        Ok(Ok(holder)) => done_page(
            "You are signed in",
            &format!(
                "You are signed in to {} as {}; you can close this page.",
                holder.org_name, holder.user_name
            ),
        ),
        Ok(Err(refusal)) => refusal_page(LinkKind::Magic, &refusal),
        Err(error) => failure_page(&error),
    }
}

/// Whose link it is, with what the pages show and check.
#[derive(Debug)]
struct Holder {
    link: LinkUse,
    /// A welcome link's options (the app it is for, whether it asks for an SMS code).
    invite: Invite,
    org_name: String,
    user_name: String,
    email: Option<String>,
    policy: PasswordPolicy,
    personal: Vec<String>,
}

/// Why a link cannot be used.
#[derive(Debug)]
enum Refusal {
    /// The link itself is unknown, expired, used or cancelled.
    Link(LinkError),
    /// The user is suspended, deactivated or deleted.
    Inactive,
}

/// The holder of a usable `kind` link `token`, or why it cannot be used.
fn load(
    conn: &Connection,
    token: &str,
    kind: LinkKind,
    now: OffsetDateTime,
) -> AppResult<Result<Holder, Refusal>> {
    match links::peek(conn, token, kind, now) {
        Ok(link) => {
            let mut found = holder(conn, link)?;
            if let (Ok(holder), LinkKind::Welcome) = (&mut found, kind) {
                holder.invite = invite::of_link(conn, token)?;
            }
            Ok(found)
        }
        Err(LinkError::Storage) => Err(AppError::internal("link lookup failed")),
        Err(error) => Ok(Err(Refusal::Link(error))),
    }
}

/// Uses up the `kind` link `token` if it and its user are usable.
fn use_link(
    tx: &Transaction<'_>,
    token: &str,
    kind: LinkKind,
    now: OffsetDateTime,
) -> AppResult<Result<Holder, Refusal>> {
    let holder = match load(tx, token, kind, now)? {
        Ok(holder) => holder,
        Err(refusal) => return Ok(Err(refusal)),
    };
    match links::consume(tx, token, kind, now) {
        Ok(_) => Ok(Ok(holder)),
        Err(LinkError::Storage) => Err(AppError::internal("link update failed")),
        Err(error) => Ok(Err(Refusal::Link(error))),
    }
}

/// What the pages need to know about the user a link belongs to. A user who no longer
/// exists makes the link unknown; one who is not invited or active is refused.
fn holder(conn: &Connection, link: LinkUse) -> AppResult<Result<Holder, Refusal>> {
    let status = lifecycle::status_of(conn, &link.org, &link.user_id)?;
    match status {
        None => return Ok(Err(Refusal::Link(LinkError::Unknown))),
        Some(status) if !status.is_active() => return Ok(Err(Refusal::Inactive)),
        Some(_) => {}
    }
    let (user_name, doc): (String, String) = conn.query_row(
        "SELECT user_name, doc FROM users WHERE org = ?1 AND id = ?2",
        params![link.org, link.user_id],
        |row| Ok((row.get(0)?, row.get(1)?)),
    )?;
    let doc: Value = serde_json::from_str(&doc).unwrap_or_default();
    let org_name: Option<String> = conn
        .query_row("SELECT name FROM orgs WHERE id = ?1", [&link.org], |row| {
            row.get(0)
        })
        .optional()?;
    Ok(Ok(Holder {
        invite: Invite::default(),
        org_name: org_name.unwrap_or_else(|| link.org.clone()),
        user_name: doc["userName"].as_str().unwrap_or(&user_name).to_owned(),
        email: primary_email(&doc),
        policy: policy::policy(conn, &link.org)?,
        personal: policy::personal_info(conn, &link.org, &link.user_id)?,
        link,
    }))
}

/// The primary email of a user doc, else its first.
fn primary_email(doc: &Value) -> Option<String> {
    let emails = doc["emails"].as_array()?;
    emails
        .iter()
        .find(|email| email["primary"] == Value::Bool(true))
        .or_else(|| emails.first())
        .and_then(|email| email["value"].as_str())
        .map(str::to_owned)
}

async fn password_submit(
    state: &AppState,
    kind: LinkKind,
    client: Option<IpAddr>,
    form: &Form,
) -> Response {
    let (token, password) = (
        form.get("token").to_owned(),
        form.get("password").to_owned(),
    );
    let now = state.clock.now();
    let peeked = {
        let token = token.clone();
        state
            .db
            .read(move |conn| load(conn, &token, kind, now))
            .await
    };
    let holder = match peeked {
        Ok(Ok(holder)) => holder,
        Ok(Err(refusal)) => return refusal_page(kind, &refusal),
        Err(error) => return failure_page(&error),
    };
    let reasons = password_problems(&holder, &password, form.get("confirm"));
    if !reasons.is_empty() {
        return password_page(kind, &holder, &token, &reasons, StatusCode::BAD_REQUEST);
    }
    if holder.invite.sms_code {
        let (link, code) = (token.clone(), form.get("code").to_owned());
        let checked = state
            .db
            .write(move |tx| invite::check_code(tx, &link, &code, now))
            .await;
        match checked {
            Ok(CodeCheck::Right) => {}
            Ok(CodeCheck::Wrong { left }) => {
                let reason = format!(
                    "That is not the code we sent by SMS: {left} {} left.",
                    if left == 1 { "try" } else { "tries" }
                );
                return password_page(kind, &holder, &token, &[reason], StatusCode::BAD_REQUEST);
            }
            Ok(CodeCheck::Cancelled) => {
                return message_page(
                    StatusCode::GONE,
                    "This invitation was cancelled",
                    "The SMS code was wrong too many times, so this invitation no longer \
                     works. Ask your administrator to send a new one.",
                );
            }
            Err(error) => return failure_page(&error),
        }
    }
    match set_password(state, kind, token, password, client).await {
        Ok(Ok(holder)) => password_done_page(kind, &holder),
        Ok(Err(refusal)) => refusal_page(kind, &refusal),
        Err(error) => failure_page(&error),
    }
}

/// Every reason the holder cannot have `password`; empty when it is fine.
fn password_problems(holder: &Holder, password: &str, confirm: &str) -> Vec<String> {
    let personal: Vec<&str> = holder.personal.iter().map(String::as_str).collect();
    let mut reasons = match holder.policy.check(password, &personal) {
        Ok(()) => Vec::new(),
        Err(violation) => violation.reasons,
    };
    if password != confirm {
        reasons.push("The two passwords don't match.".to_owned());
    }
    reasons
}

/// Hashes `password` (off the runtime, before taking the writer), then in one
/// transaction uses the link up and stores the password.
async fn set_password(
    state: &AppState,
    kind: LinkKind,
    token: String,
    password: String,
    client: Option<IpAddr>,
) -> AppResult<Result<Holder, Refusal>> {
    let hash = tokio::task::spawn_blocking(move || crate::auth::hash_password(&password))
        .await
        .map_err(AppError::internal)??;
    let (now, demo) = (state.clock.now(), state.config.demo);
    state
        .db
        .write(move |tx| {
            let holder = match use_link(tx, &token, kind, now)? {
                Ok(holder) => holder,
                Err(refusal) => return Ok(Err(refusal)),
            };
            store_password(tx, kind, &holder, &hash, now, demo)?;
            let action = match kind {
                LinkKind::Welcome => "user.accept_invitation",
                LinkKind::Reset | LinkKind::Magic => "user.reset_password",
            };
            audit_link(tx, &holder, action, client, now)?;
            Ok(Ok(holder))
        })
        .await
}

/// Stores the new password hash and what follows from it: every session of the user is
/// signed out; a welcome accepts the invitation and counts as a sign-in; a reset clears
/// must-change-password and tells the user by email.
fn store_password(
    tx: &Transaction<'_>,
    kind: LinkKind,
    holder: &Holder,
    hash: &str,
    now: OffsetDateTime,
    demo: bool,
) -> AppResult<()> {
    let (org, user_id) = (holder.link.org.as_str(), holder.link.user_id.as_str());
    tx.execute(
        "UPDATE users SET password_hash = ?3, must_change_password = 0
         WHERE org = ?1 AND id = ?2",
        params![org, user_id, hash],
    )?;
    crate::auth::sign_out_user_blocking(tx, org, user_id)?;
    match kind {
        LinkKind::Welcome => {
            lifecycle::accept_invitation(tx, org, user_id, now)?;
            lifecycle::record_sign_in(tx, org, user_id, SignInMethod::Password, now)?;
        }
        LinkKind::Reset | LinkKind::Magic => {
            if let Some(email) = &holder.email {
                let notice = outbox::password_changed_notice(email, &holder.org_name);
                outbox::queue(tx, Some(org), &notice, demo, now)?;
            }
        }
    }
    tracing::info!(
        org,
        user_id,
        kind = kind.as_str(),
        "password set from a link"
    );
    Ok(())
}

/// Audits what a link holder did: they act as themselves, through the link.
fn audit_link(
    tx: &Transaction<'_>,
    holder: &Holder,
    action: &str,
    client: Option<IpAddr>,
    now: OffsetDateTime,
) -> AppResult<()> {
    let (org, user_id) = (holder.link.org.as_str(), holder.link.user_id.as_str());
    let actor = Actor {
        kind: ActorKind::User,
        id: Some(user_id.to_owned()),
        name: Some(holder.user_name.clone()),
    };
    audit::record(
        tx,
        &Entry {
            org: Some(org),
            actor,
            action,
            target_id: Some(user_id),
            target_name: Some(&holder.user_name),
            client,
            outcome: Outcome::Success,
            detail: serde_json::json!({"via": "emailed link"}),
        },
        now,
    )
}

/// Escapes text for HTML element content and quoted attribute values.
fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            c => escaped.push(c),
        }
    }
    escaped
}

const STYLE: &str = "body{font:16px/1.5 system-ui,sans-serif;margin:0;background:#f4f5f7;color:#1b1f24}\
main{max-width:30rem;margin:3rem auto;padding:2rem;background:#fff;border-radius:8px;\
box-shadow:0 1px 3px rgba(0,0,0,.15)}h1{font-size:1.5rem;margin-top:0}\
label{display:block;font-weight:600;margin-top:1rem}\
input{width:100%;box-sizing:border-box;padding:.6rem;font-size:1rem;border:1px solid #6b7280;\
border-radius:4px}input:focus,button:focus{outline:3px solid #2563eb;outline-offset:2px}\
button{margin-top:1.5rem;padding:.7rem 1.4rem;font-size:1rem;border:0;border-radius:4px;\
background:#1d4ed8;color:#fff;cursor:pointer}\
.errors{border-left:4px solid #b91c1c;background:#fef2f2;padding:.5rem 1rem;margin:1rem 0}\
.rules{color:#374151}";

/// A whole page: `title` (text) and `main` (HTML already escaped).
fn page(status: StatusCode, title: &str, main: &str) -> Response {
    let title = escape(title);
    let html = format!(
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta name=\"referrer\" content=\"no-referrer\">\n<title>{title}</title>\n\
         <style>{STYLE}</style>\n</head>\n<body>\n<main>\n<h1>{title}</h1>\n{main}\n</main>\n\
         </body>\n</html>\n"
    );
    (
        status,
        [(
            CONTENT_TYPE,
            HeaderValue::from_static("text/html; charset=utf-8"),
        )],
        html,
    )
        .into_response()
}

fn message_page(status: StatusCode, title: &str, text: &str) -> Response {
    page(status, title, &format!("<p>{}</p>", escape(text)))
}

fn done_page(title: &str, text: &str) -> Response {
    message_page(StatusCode::OK, title, text)
}

fn list(items: &[String]) -> String {
    let items: String = items
        .iter()
        .map(|item| format!("<li>{}</li>", escape(item)))
        .collect();
    format!("<ul>{items}</ul>")
}

/// The set-password form, with the policy's rules and, after a refused attempt, why.
fn password_page(
    kind: LinkKind,
    holder: &Holder,
    token: &str,
    reasons: &[String],
    status: StatusCode,
) -> Response {
    let (title, intro, button) = match kind {
        LinkKind::Welcome => (
            "Set your password",
            "Choose a password to finish setting up your account at",
            "Set password",
        ),
        LinkKind::Reset | LinkKind::Magic => (
            "Choose a new password",
            "Choose a new password for your account at",
            "Change password",
        ),
    };
    let errors = if reasons.is_empty() {
        String::new()
    } else {
        format!(
            "<div class=\"errors\" role=\"alert\"><p>That password can't be used:</p>{}</div>",
            list(reasons)
        )
    };
    let main = format!(
        "<p>{intro} <strong>{org}</strong>.</p>\n{errors}\n\
         <form method=\"post\" action=\"{action}\" accept-charset=\"utf-8\">\n\
         <input type=\"hidden\" name=\"token\" value=\"{token}\">\n\
         <label for=\"username\">Account</label>\n\
         <input id=\"username\" name=\"username\" type=\"text\" value=\"{user}\" \
         autocomplete=\"username\" readonly>\n\
         <label for=\"password\">New password</label>\n\
         <input id=\"password\" name=\"password\" type=\"password\" autocomplete=\"new-password\" \
         required aria-describedby=\"rules\">\n\
         <label for=\"confirm\">Type it again</label>\n\
         <input id=\"confirm\" name=\"confirm\" type=\"password\" autocomplete=\"new-password\" \
         required>\n{code}\
         <button type=\"submit\">{button}</button>\n</form>\n\
         <section id=\"rules\" class=\"rules\"><h2>Password rules</h2>{rules}</section>",
        org = escape(&holder.org_name),
        action = kind.as_str(),
        token = escape(token),
        user = escape(&holder.user_name),
        rules = list(&holder.policy.describe()),
        code = if holder.invite.sms_code {
            "<label for=\"code\">Code from the SMS we sent you</label>\n\
             <input id=\"code\" name=\"code\" type=\"text\" inputmode=\"numeric\" \
             autocomplete=\"one-time-code\" pattern=\"[0-9 ]{6,7}\" required>\n"
        } else {
            ""
        },
    );
    page(status, title, &main)
}

fn password_done_page(kind: LinkKind, holder: &Holder) -> Response {
    let org = &holder.org_name;
    match kind {
        LinkKind::Welcome => done_page(
            "You're all set",
            &format!(
                "Your password is set. You can now sign in to {org}{app} with your email \
                 address and your new password.",
                app = if holder.invite.channel == Channel::Mobile {
                    "'s mobile app"
                } else {
                    ""
                },
            ),
        ),
        LinkKind::Reset | LinkKind::Magic => done_page(
            "Your password has been changed",
            &format!(
                "You have been signed out on every device. Sign in to {org} again with your \
                 new password."
            ),
        ),
    }
}

/// The confirmation page of a magic link: a button, so that fetching the link is not
/// enough to use it.
fn magic_page(holder: &Holder, token: &str) -> Response {
    let main = format!(
        "<p>Press the button to sign in to <strong>{org}</strong> as <strong>{user}</strong>. \
         The link works once.</p>\n\
         <form method=\"post\" action=\"magic\" accept-charset=\"utf-8\">\n\
         <input type=\"hidden\" name=\"token\" value=\"{token}\">\n\
         <button type=\"submit\">Sign in</button>\n</form>",
        org = escape(&holder.org_name),
        user = escape(&holder.user_name),
        token = escape(token),
    );
    page(StatusCode::OK, "Sign in", &main)
}

/// What a link of `kind` is called, and who to ask for a new one.
fn next_step(kind: LinkKind) -> &'static str {
    match kind {
        LinkKind::Welcome => "Ask your administrator to send a new invitation.",
        LinkKind::Reset => "Ask your administrator to send a new password-reset link.",
        LinkKind::Magic => "Ask for a new sign-in link.",
    }
}

fn refusal_page(kind: LinkKind, refusal: &Refusal) -> Response {
    let (status, title, advice) = match refusal {
        Refusal::Inactive => (
            StatusCode::FORBIDDEN,
            "This account can't be used",
            "The account this link belongs to is not active (it may be suspended or \
             deactivated), so its links don't work. If you think this is a mistake, ask your \
             administrator."
                .to_owned(),
        ),
        Refusal::Link(error) => {
            let (title, advice) = link_advice(kind, error);
            (error.status(), title, advice)
        }
    };
    let what = match refusal {
        Refusal::Link(error) => format!("<p>{}</p>\n", escape(&error.to_string())),
        Refusal::Inactive => String::new(),
    };
    page(status, title, &format!("{what}<p>{}</p>", escape(&advice)))
}

fn link_advice(kind: LinkKind, error: &LinkError) -> (&'static str, String) {
    let next = next_step(kind);
    match (error, kind) {
        (LinkError::Unknown, _) => ("This link isn't valid", next.to_owned()),
        (LinkError::Expired, _) => ("This link has expired", next.to_owned()),
        (LinkError::Used, LinkKind::Welcome) => (
            "This link has already been used",
            "Your password is already set: sign in with your email address and password. If \
             you have forgotten it, ask your administrator for a password-reset link."
                .to_owned(),
        ),
        (LinkError::Used, _) => ("This link has already been used", next.to_owned()),
        (LinkError::Voided, _) => (
            "This link is no longer valid",
            format!("If a newer email was sent to you, use the link in it. Otherwise: {next}"),
        ),
        (LinkError::Storage, _) => ("Something went wrong", "Try again in a moment.".to_owned()),
    }
}

fn failure_page(error: &AppError) -> Response {
    if error.status.is_server_error() {
        message_page(
            error.status,
            "Something went wrong",
            "The server could not finish this. Try again in a moment; your link has not been \
             used.",
        )
    } else {
        message_page(error.status, "This didn't work", &error.detail)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup() {
        assert_eq!(
            escape(r#"<a href="x">'&'</a>"#),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;",
            "every character that could end text or an attribute is escaped"
        );
    }

    #[test]
    fn a_page_is_found_only_by_its_kind_exactly() {
        for kind in LinkKind::ALL {
            assert_eq!(kind_of_path(kind.as_str()), Some(kind));
        }
        for other in ["", "Welcome", "magic ", "../reset", "links"] {
            assert_eq!(kind_of_path(other), None, "{other:?}");
        }
    }
}
