//! `POST /o/{org}/scim/v2/Users/{id}/actions/NAME`: what SCIM cannot say (invitations,
//! links, passwords, suspension, sessions, MFA, deactivation with reassignment, restore),
//! and `GET /o/{org}/scim/v2/actions`, the capability document that lists them.
//!
//! Every action runs in one transaction, answers with the user as it now is (so clients
//! update their cache from the server's word), and leaves an audit entry whatever the
//! outcome.

use std::net::IpAddr;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use rusqlite::{OptionalExtension, Transaction, params};
use serde::Deserialize;
use serde_json::{Value, json};
use time::OffsetDateTime;

use super::invite;
use super::{Status, set_status};
use crate::AppState;
use crate::audit::{self, Actor, Entry, Outcome};
use crate::auth::Caller;
use crate::error::{AppError, AppResult, scim_json};
use crate::links::{self, LinkKind};
use crate::outbox;
use crate::ratelimit::{ClientAddr, Scope};
use crate::responsibilities::{self, Reassign};
use crate::scim::discovery::Readable;
use crate::scim::kind::Kind;
use crate::scim::render::{self, Selection};
use crate::scim::store::{self, Row, format_time};
use crate::scim::{base_url, root_url};

/// One action: its name, what it does, its body, who may use it, from which statuses,
/// whether on oneself, and what the user must have. The `/actions` document publishes all
/// of it, so clients offer exactly what `perform` accepts.
struct ActionSpec {
    name: &'static str,
    description: &'static str,
    body: Option<Value>,
    system_admin_only: bool,
    from: &'static [Status],
    /// Why nobody may do this to their own account, when that is refused.
    not_on_self: Option<&'static str>,
    /// What the user must have: [`NEEDS_EMAIL`], [`NEEDS_MFA`].
    needs: &'static [&'static str],
    /// It changes a credential or factor: the caller must have signed in within the last
    /// [`RECENT`](crate::auth::session::RECENT) (403 `reauthenticate` otherwise).
    recent_sign_in: bool,
}

/// The user has an email address to send to.
const NEEDS_EMAIL: &str = "email";
/// The user has two-factor set up.
const NEEDS_MFA: &str = "mfaEnabled";

const ANY_LIVE: &[Status] = &[
    Status::Invited,
    Status::Active,
    Status::Suspended,
    Status::Deactivated,
];

fn specs() -> Vec<ActionSpec> {
    use Status::*;
    vec![
        ActionSpec {
            name: "send-welcome",
            description: "Send (or resend) the invitation email; a resend voids the previous link.",
            body: Some(json!({
                "channel": "web (default) or mobile: the app the email says to sign in to",
                "smsCode": "true: the welcome page also asks for a code sent by SMS to the user's phone",
            })),
            system_admin_only: false,
            from: &[Invited],
            not_on_self: None,
            needs: &[NEEDS_EMAIL],
            recent_sign_in: false,
        },
        ActionSpec {
            name: "send-password-reset",
            description: "Email a single-use password reset link.",
            body: None,
            system_admin_only: false,
            from: &[Active],
            not_on_self: None,
            needs: &[NEEDS_EMAIL],
            recent_sign_in: false,
        },
        ActionSpec {
            name: "send-magic-link",
            description: "Email a single-use sign-in link.",
            body: None,
            system_admin_only: false,
            from: &[Active],
            not_on_self: None,
            needs: &[NEEDS_EMAIL],
            recent_sign_in: false,
        },
        ActionSpec {
            name: "set-password",
            description: "Set the user's password without the old one; signs the user out everywhere.",
            body: Some(json!({"password": "string", "mustChange": "boolean, default true"})),
            system_admin_only: false,
            from: &[Invited, Active],
            not_on_self: Some(
                "You cannot set your own password here: change it under My account, with your current password.",
            ),
            needs: &[],
            recent_sign_in: true,
        },
        ActionSpec {
            name: "suspend",
            description: "Bar the user at once and sign them out everywhere.",
            body: None,
            system_admin_only: false,
            from: &[Invited, Active],
            not_on_self: Some("You cannot suspend your own account."),
            needs: &[],
            recent_sign_in: false,
        },
        ActionSpec {
            name: "unsuspend",
            description: "Lift a suspension.",
            body: None,
            system_admin_only: false,
            from: &[Suspended],
            not_on_self: None,
            needs: &[],
            recent_sign_in: false,
        },
        ActionSpec {
            name: "revoke-sessions",
            description: "Sign the user out everywhere.",
            body: None,
            system_admin_only: false,
            from: ANY_LIVE,
            not_on_self: Some(
                "You cannot sign yourself out everywhere here: end your sessions under My account.",
            ),
            needs: &[],
            recent_sign_in: false,
        },
        ActionSpec {
            name: "reset-mfa",
            description: "Clear the user's two-factor enrolment, sign them out everywhere and tell them by email.",
            body: None,
            system_admin_only: false,
            from: ANY_LIVE,
            not_on_self: Some(
                "You cannot reset your own two-factor here: turn it off under My account, with a current code.",
            ),
            needs: &[NEEDS_MFA],
            recent_sign_in: true,
        },
        ActionSpec {
            name: "deactivate",
            description: "Deactivate, reassigning the user's responsibilities to active users.",
            body: Some(
                json!({"reassign": {"defaultTechnician": "user id", "primaryTechnician": "user id", "officeAssignee": "user id", "warehouseManager": "user id"}}),
            ),
            system_admin_only: false,
            from: &[Invited, Active, Suspended],
            not_on_self: Some("You cannot deactivate your own account."),
            needs: &[],
            recent_sign_in: false,
        },
        ActionSpec {
            name: "reactivate",
            description: "Undo a deactivation.",
            body: None,
            system_admin_only: false,
            from: &[Deactivated],
            not_on_self: None,
            needs: &[],
            recent_sign_in: false,
        },
        ActionSpec {
            name: "delete",
            description: "Delete (a soft delete a system admin can undo), reassigning the user's responsibilities to active users.",
            body: Some(
                json!({"reassign": {"defaultTechnician": "user id", "primaryTechnician": "user id", "officeAssignee": "user id", "warehouseManager": "user id"}}),
            ),
            system_admin_only: false,
            from: ANY_LIVE,
            not_on_self: Some("You cannot delete your own account."),
            needs: &[],
            recent_sign_in: false,
        },
        ActionSpec {
            name: "restore",
            description: "Undo a soft delete (system admins only).",
            body: None,
            system_admin_only: true,
            from: &[Deleted],
            not_on_self: None,
            needs: &[],
            recent_sign_in: false,
        },
    ]
}

/// `GET /actions`: the capability document.
pub async fn capabilities(Readable(base): Readable) -> AppResult<Response> {
    let actions: Vec<Value> = specs()
        .into_iter()
        .map(|spec| {
            json!({
                "name": spec.name,
                "method": "POST",
                "endpoint": format!("{base}/Users/{{id}}/actions/{}", spec.name),
                "description": spec.description,
                "body": spec.body,
                "requires": if spec.system_admin_only { "systemAdmin" } else { "admin" },
                "allowedFrom": spec.from.iter().map(|s| s.as_str()).collect::<Vec<_>>(),
                "onSelf": spec.not_on_self.is_none(),
                "selfRefusal": spec.not_on_self,
                "needs": spec.needs,
                "recentSignIn": spec.recent_sign_in,
            })
        })
        .collect();
    Ok(scim_json(&json!({
        "schemas": [ACTIONS_URN],
        "actions": actions,
        // System admins may list (and read) deleted users, to restore them.
        "listDeleted": {
            "parameter": crate::scim::query::INCLUDE_DELETED,
            "requires": "systemAdmin",
        },
        // The per-user permissions of the shop's software, for clients to draw toggles.
        "permissions": crate::permissions::document(),
        // Profile photos: upload (PNG or JPEG), read, remove.
        "photo": crate::scim::photo::capability(&base),
        "meta": {"resourceType": "Actions", "location": format!("{base}/actions")},
    })))
}

/// The URN of the capability document.
pub const ACTIONS_URN: &str = "urn:muster:params:scim:api:messages:2.0:Actions";

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ActionBody {
    password: Option<String>,
    must_change: Option<bool>,
    #[serde(default)]
    reassign: Reassign,
    /// `send-welcome`: the app the invitation is for.
    channel: Option<invite::Channel>,
    /// `send-welcome`: ask for a code sent by SMS on the welcome page.
    sms_code: Option<bool>,
}

/// `POST /Users/{id}/actions/{name}`.
pub async fn run(
    State(state): State<AppState>,
    caller: Caller,
    ClientAddr(client): ClientAddr,
    Path((org, id, name)): Path<(String, String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> AppResult<Response> {
    let Some(spec) = specs().into_iter().find(|spec| spec.name == name) else {
        return Err(AppError::not_found(format!(
            "There is no action '{name}'. GET {}/actions lists them.",
            base_url(&state, &headers, &org)
        )));
    };
    if spec.system_admin_only {
        caller.require_system_admin()?;
    } else {
        caller.require_write(&org)?;
    }
    crate::orgs::require_org(&state, &org).await?;
    if spec.recent_sign_in {
        caller.require_recent_sign_in(state.clock.now())?;
    }
    let body = parse_body(&name, &body)?;
    let context = Context {
        base: base_url(&state, &headers, &org),
        root: root_url(&state, &headers),
        org,
        id,
        caller,
        client,
        now: state.clock.now(),
        demo: state.config.demo,
    };
    let sends_link = spec.name.starts_with("send-");
    let link_limits = link_limits(&context);
    if sends_link {
        for (scope, key) in &link_limits {
            state.limits.check(*scope, key, context.now)?;
        }
    }
    let password_hash = match (&spec.name, &body.password) {
        (&"set-password", Some(password)) => {
            Some(check_and_hash(&state, &context.org, &context.id, password).await?)
        }
        (&"set-password", None) => {
            return Err(AppError::invalid_value("set-password needs a 'password'."));
        }
        _ => None,
    };
    let action = spec.name;
    let outcome = {
        let context = context.clone();
        state
            .db
            .write(move |tx| perform(tx, &spec, &context, body, password_hash))
            .await
    };
    match outcome {
        Ok((row, body, detail)) => {
            let result = result_header(&detail);
            record(&state, &context, action, Outcome::Success, detail).await?;
            if sends_link {
                for (scope, key) in &link_limits {
                    state.limits.hit(*scope, key, context.now);
                }
            }
            Ok(answer(&row, &body, result))
        }
        Err(error) => {
            let outcome = if error.status == axum::http::StatusCode::FORBIDDEN {
                Outcome::Denied
            } else {
                Outcome::Failed
            };
            let detail = json!({"status": error.status.as_u16(), "reason": error.detail});
            record(&state, &context, action, outcome, detail).await?;
            Err(error)
        }
    }
}

/// An action's body: empty (or only whitespace) for none.
fn parse_body(name: &str, body: &[u8]) -> AppResult<ActionBody> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(ActionBody::default());
    }
    serde_json::from_slice(body).map_err(|error| {
        AppError::bad_request(
            muster_scim::message::ScimType::InvalidSyntax,
            format!("The body of '{name}' is not valid: {error}."),
        )
    })
}

/// The limits an email with a link counts against: a few per recipient, many per sending
/// account (a bulk invitation), whatever address the sender works from.
fn link_limits(ctx: &Context) -> [(Scope, String); 2] {
    [
        (Scope::LinkUser, format!("{}/{}", ctx.org, ctx.id)),
        (Scope::LinkSender, ctx.caller.account_key()),
    ]
}

/// Records an action in the audit log, whatever its outcome.
async fn record(
    state: &AppState,
    ctx: &Context,
    action: &str,
    outcome: Outcome,
    detail: Value,
) -> AppResult<()> {
    let action = format!("user.{}", action.replace('-', "_"));
    let entry = Entry {
        org: Some(&ctx.org),
        actor: Actor::from_caller(&ctx.caller),
        action: &action,
        target_id: Some(&ctx.id),
        target_name: None,
        client: ctx.client,
        outcome,
        detail,
    };
    audit::record_alone(state, &entry).await
}

/// A successful action's answer: the user as they now are, with their ETag and the
/// [`RESULT_HEADER`] when the action has something to tell.
fn answer(row: &Row, body: &Value, result: Option<axum::http::HeaderValue>) -> Response {
    let mut response = scim_json(body);
    if let Ok(value) = axum::http::HeaderValue::from_str(&row.etag()) {
        response
            .headers_mut()
            .insert(axum::http::header::ETAG, value);
    }
    if let Some(value) = result {
        response.headers_mut().insert(RESULT_HEADER, value);
    }
    response
}

/// The header that tells the client what an action did beyond the user it answers with:
/// sessions ended, whether a set password must be changed, whether two-factor was on. A
/// JSON object of numbers and booleans (nothing personal: it may be logged by proxies).
pub const RESULT_HEADER: &str = "muster-action-result";

/// The [`RESULT_HEADER`] value for an action's audit detail.
fn result_header(detail: &Value) -> Option<axum::http::HeaderValue> {
    let result: serde_json::Map<String, Value> = ["sessionsRevoked", "mustChange", "wasEnabled"]
        .into_iter()
        .filter_map(|key| {
            let value = detail.get(key)?;
            (value.is_number() || value.is_boolean()).then(|| (key.to_owned(), value.clone()))
        })
        .collect();
    if result.is_empty() {
        return None;
    }
    axum::http::HeaderValue::from_str(&Value::Object(result).to_string()).ok()
}

/// What an action needs to know besides its body.
#[derive(Debug, Clone)]
struct Context {
    org: String,
    id: String,
    caller: Caller,
    /// The caller's address, for the audit log.
    client: Option<IpAddr>,
    now: OffsetDateTime,
    base: String,
    root: String,
    demo: bool,
}

/// Checks a new password for an existing user against the org's policy and hashes it,
/// before any transaction (404 for an unknown user).
async fn check_and_hash(
    state: &AppState,
    org: &str,
    id: &str,
    password: &str,
) -> AppResult<String> {
    let (read_org, read_id) = (org.to_owned(), id.to_owned());
    let doc = state
        .db
        .read(move |conn| Ok(store::get_or_404(conn, Kind::User, &read_org, &read_id)?.doc))
        .await?;
    crate::policy::checked_hash(
        state,
        org,
        crate::policy::personal_words(&doc),
        password.to_owned(),
    )
    .await
}

/// Does the action inside the write transaction: checks the status it starts from, then
/// changes state. Returns the row, the rendered user and audit detail.
fn perform(
    tx: &Transaction<'_>,
    spec: &ActionSpec,
    ctx: &Context,
    body: ActionBody,
    password_hash: Option<String>,
) -> AppResult<(Row, Value, Value)> {
    let (org, id, now) = (ctx.org.as_str(), ctx.id.as_str(), ctx.now);
    let status = check_applies(tx, spec, ctx)?;
    if spec.name != "send-welcome" && (body.channel.is_some() || body.sms_code.is_some()) {
        return Err(AppError::invalid_value(
            "Only 'send-welcome' takes 'channel' and 'smsCode'.",
        ));
    }
    let mut detail = json!({"from": status.as_str()});
    match spec.name {
        "send-welcome" => {
            // A resend that says nothing keeps the last invitation's options.
            let last = invite::last_of(tx, org, id)?;
            let options = invite::Invite {
                channel: body.channel.unwrap_or(last.channel),
                sms_code: body.sms_code.unwrap_or(last.sms_code),
            };
            detail["to"] = json!(send_link(tx, ctx, LinkKind::Welcome, options)?);
            detail["channel"] = json!(options.channel.as_str());
            detail["smsCode"] = json!(options.sms_code);
        }
        "send-password-reset" => {
            detail["to"] = json!(send_link(tx, ctx, LinkKind::Reset, Default::default())?);
        }
        "send-magic-link" => {
            detail["to"] = json!(send_link(tx, ctx, LinkKind::Magic, Default::default())?);
        }
        "set-password" => {
            let hash = password_hash
                .ok_or_else(|| AppError::invalid_value("set-password needs a 'password'."))?;
            let must_change = body.must_change.unwrap_or(true);
            let revoked = set_password(tx, ctx, status, &hash, must_change)?;
            detail["mustChange"] = json!(must_change);
            detail["sessionsRevoked"] = json!(revoked);
        }
        "suspend" => {
            set_status(tx, org, id, Status::Suspended, now)?;
            detail["sessionsRevoked"] = json!(cut_access(tx, org, id, now)?);
        }
        "unsuspend" | "reactivate" => {
            set_status(tx, org, id, resumed_status(tx, org, id)?, now)?;
        }
        "revoke-sessions" => {
            detail["sessionsRevoked"] = json!(crate::auth::sign_out_user_blocking(tx, org, id)?);
        }
        "reset-mfa" => {
            let (was_enabled, revoked) = reset_mfa(tx, ctx)?;
            detail["sessionsRevoked"] = json!(revoked);
            detail["wasEnabled"] = json!(was_enabled);
        }
        "delete" => {
            let (moved, sessions) = super::delete_handing_over(tx, org, id, &body.reassign, now)?;
            detail["reassigned"] = serde_json::to_value(moved).unwrap_or(Value::Null);
            detail["sessionsRevoked"] = json!(sessions);
        }
        "deactivate" => {
            let moved = responsibilities::reassign(tx, org, id, &body.reassign)?;
            set_status(tx, org, id, Status::Deactivated, now)?;
            detail["sessionsRevoked"] = json!(cut_access(tx, org, id, now)?);
            detail["reassigned"] = serde_json::to_value(moved).unwrap_or(Value::Null);
        }
        "restore" => detail["to"] = json!(restore(tx, org, id, now)?.as_str()),
        other => {
            return Err(AppError::internal(format!(
                "action {other} has no implementation"
            )));
        }
    }
    // The user as they now are: a deleted one too (the delete action answers with them).
    let row = store::get_including_deleted(tx, Kind::User, org, id)?
        .ok_or_else(|| AppError::not_found(format!("There is no User with id '{id}'.")))?;
    let body = render::one(
        tx,
        Kind::User,
        org,
        &ctx.base,
        &row,
        &Selection::default(),
        now,
    )?;
    Ok((row, body, detail))
}

/// The user's status, once the action is known to apply: 409 from a status it does not
/// start from, 403 on oneself when that is refused, 409 when the user lacks what it needs.
fn check_applies(tx: &Transaction<'_>, spec: &ActionSpec, ctx: &Context) -> AppResult<Status> {
    let (org, id) = (ctx.org.as_str(), ctx.id.as_str());
    let status = current_status(tx, org, id)?;
    if !spec.from.contains(&status) {
        return Err(AppError::new(
            axum::http::StatusCode::CONFLICT,
            format!(
                "'{}' does not apply to a user who is {}; it applies to {} users.",
                spec.name,
                status.as_str(),
                spec.from
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join(" or ")
            ),
        ));
    }
    if let Some(refusal) = spec.not_on_self
        && ctx.caller.is_user(org, id)
    {
        return Err(AppError::forbidden(refusal));
    }
    if spec.needs.contains(&NEEDS_MFA) && !crate::mfa::is_enabled(tx, org, id)? {
        return Err(AppError::new(
            axum::http::StatusCode::CONFLICT,
            "This user has not set up two-factor: there is nothing to reset.",
        ));
    }
    Ok(status)
}

/// `send-welcome`, `send-password-reset` and `send-magic-link`: a new link of `kind` (an
/// invitation voids the last, dates the new one on the user and takes its options) and
/// the email that carries it. Returns where it went.
fn send_link(
    tx: &Transaction<'_>,
    ctx: &Context,
    kind: LinkKind,
    options: invite::Invite,
) -> AppResult<String> {
    let (org, id, now) = (ctx.org.as_str(), ctx.id.as_str(), ctx.now);
    let ttl = crate::policy::settings(tx, org)?.link_ttl(kind);
    let expires = now + ttl;
    let token = links::issue(tx, org, id, kind, ttl, now)?;
    let link = links::url(&ctx.root, kind, &token);
    if kind == LinkKind::Welcome {
        tx.execute(
            "UPDATE users SET invitation_sent = ?3, invitation_expires = ?4, \
             invitation_accepted = NULL WHERE org = ?1 AND id = ?2",
            params![org, id, format_time(now), format_time(expires)],
        )?;
    }
    let (to, org_name) = recipient(tx, org, id)?;
    let message = if kind == LinkKind::Welcome {
        let doc = store::get_or_404(tx, Kind::User, org, id)?.doc;
        let code = invite::new_code(options, invite::phone_of(&doc).as_deref())?;
        invite::record(
            tx,
            &token,
            options,
            code.as_ref().map(|(code, _)| code.as_str()),
        )?;
        if let Some((code, phone)) = &code {
            let text = outbox::sms_code_text(&org_name, code);
            outbox::queue_sms(tx, Some(org), phone, &text, ctx.demo, now)?;
        }
        outbox::welcome_with(&to, &org_name, &link, expires, options)
    } else {
        outbox::link_email(kind, &to, &org_name, &link, expires)
    };
    outbox::queue(tx, Some(org), &message, ctx.demo, now)?;
    Ok(to)
}

/// `set-password`: stores the hash (an invited user thereby accepts the invitation), signs
/// the user out everywhere and tells them by email. Returns how many sessions ended.
fn set_password(
    tx: &Transaction<'_>,
    ctx: &Context,
    status: Status,
    hash: &str,
    must_change: bool,
) -> AppResult<usize> {
    let (org, id, now) = (ctx.org.as_str(), ctx.id.as_str(), ctx.now);
    tx.execute(
        "UPDATE users SET password_hash = ?3, must_change_password = ?4 WHERE org = ?1 AND id = ?2",
        params![org, id, hash, must_change],
    )?;
    if status == Status::Invited {
        super::accept_invitation(tx, org, id, now)?;
        tx.execute(
            "UPDATE users SET must_change_password = ?3 WHERE org = ?1 AND id = ?2",
            params![org, id, must_change],
        )?;
    }
    let revoked = crate::auth::sign_out_user_blocking(tx, org, id)?;
    let (to, org_name) = recipient(tx, org, id)?;
    let message = outbox::password_changed_notice(&to, &org_name);
    outbox::queue(tx, Some(org), &message, ctx.demo, now)?;
    Ok(revoked)
}

/// `reset-mfa`: clears two-factor, signs the user out everywhere and, when it was on,
/// tells them by email. Returns whether it was on and how many sessions ended.
fn reset_mfa(tx: &Transaction<'_>, ctx: &Context) -> AppResult<(bool, usize)> {
    let (org, id, now) = (ctx.org.as_str(), ctx.id.as_str(), ctx.now);
    let was_enabled = crate::mfa::reset(tx, org, id)?;
    let revoked = crate::auth::sign_out_user_blocking(tx, org, id)?;
    if was_enabled {
        let (to, org_name) = recipient(tx, org, id)?;
        let message = outbox::mfa_reset_notice(&to, &org_name);
        outbox::queue(tx, Some(org), &message, ctx.demo, now)?;
    }
    Ok((was_enabled, revoked))
}

/// `restore`: undoes a soft delete, back to the status before it (deactivated when that
/// is unknown). Returns that status.
fn restore(tx: &Transaction<'_>, org: &str, id: &str, now: OffsetDateTime) -> AppResult<Status> {
    let before: Option<String> = tx
        .query_row(
            "SELECT status_before_delete FROM users WHERE org = ?1 AND id = ?2",
            params![org, id],
            |r| r.get(0),
        )
        .optional()?
        .flatten();
    let back = before.as_deref().map_or(Status::Deactivated, Status::parse);
    set_status(tx, org, id, back, now)?;
    tx.execute("UPDATE users SET deleted_at = NULL, status_before_delete = NULL WHERE org = ?1 AND id = ?2", params![org, id])?;
    Ok(back)
}

/// The status of a user, deleted ones included; 404 if there is none.
fn current_status(tx: &Transaction<'_>, org: &str, id: &str) -> AppResult<Status> {
    super::status_of(tx, org, id)?
        .ok_or_else(|| AppError::not_found(format!("There is no User with id '{id}'.")))
}

/// Where a suspension or deactivation returns to: active if the user ever had a
/// password or accepted an invitation (or is an API user), invited otherwise.
pub fn resumed_status(tx: &Transaction<'_>, org: &str, id: &str) -> AppResult<Status> {
    let (has_password, accepted, doc): (bool, bool, String) = tx.query_row(
        "SELECT password_hash IS NOT NULL, invitation_accepted IS NOT NULL, doc FROM users WHERE org = ?1 AND id = ?2",
        params![org, id],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    )?;
    let api = serde_json::from_str::<Value>(&doc).ok().and_then(|doc| {
        doc.pointer(&format!(
            "/{}/licence",
            muster_scim::urn::SHOP_USER.replace('/', "~1")
        ))
        .and_then(Value::as_str)
        .map(|l| l == "api")
    });
    Ok(if has_password || accepted || api == Some(true) {
        Status::Active
    } else {
        Status::Invited
    })
}

/// Ends every session and voids every outstanding link of a user who is losing access.
pub fn cut_access(
    tx: &Transaction<'_>,
    org: &str,
    id: &str,
    now: OffsetDateTime,
) -> AppResult<usize> {
    links::void_all(tx, org, id, now)?;
    crate::auth::sign_out_user_blocking(tx, org, id)
}

/// [`recipient`], or `None` when the user has no address to send to (a notice is then
/// not sent; nothing else depends on it).
pub(crate) fn email_of(
    tx: &Transaction<'_>,
    org: &str,
    id: &str,
) -> AppResult<Option<(String, String)>> {
    match recipient(tx, org, id) {
        Ok(found) => Ok(Some(found)),
        Err(error) if error.status == axum::http::StatusCode::CONFLICT => Ok(None),
        Err(error) => Err(error),
    }
}

/// The address an email to the user goes to (primary email, else first, else a userName
/// that is an address) and the organisation's name.
fn recipient(tx: &Transaction<'_>, org: &str, id: &str) -> AppResult<(String, String)> {
    let row = store::get_or_404(tx, Kind::User, org, id)?;
    let emails = row
        .doc
        .get("emails")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let primary = emails
        .iter()
        .find(|e| e.get("primary").and_then(Value::as_bool) == Some(true))
        .or_else(|| emails.first())
        .and_then(|e| e.get("value").and_then(Value::as_str))
        .map(str::to_owned)
        .or_else(|| {
            row.doc
                .get("userName")
                .and_then(Value::as_str)
                .filter(|u| crate::scim::validate::looks_like_email(u))
                .map(str::to_owned)
        })
        .ok_or_else(|| {
            AppError::new(
                axum::http::StatusCode::CONFLICT,
                "This user has no email address to send to; add one first.",
            )
        })?;
    let org_name: String =
        tx.query_row("SELECT name FROM orgs WHERE id = ?1", [org], |r| r.get(0))?;
    Ok((primary, org_name))
}
