//! The handlers for `/Users` and `/Groups`: list, search, create, read, replace, patch,
//! delete. Each checks the caller, then does its reads and writes in one transaction.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use muster_scim::message::{PatchOp, ScimType, SearchRequest};
use muster_scim::urn;
use serde_json::{Value, json};

use super::base_url;
use super::kind::Kind;
use super::query::{self, ListParams};
use super::render::{self, Selection};
use super::store::{self, PasswordChange, Row};
use super::validate::{self, Incoming};
use crate::AppState;
use crate::audit::{self, Actor, Entry, Outcome};
use crate::auth::Caller;
use crate::body::JsonBody;
use crate::error::{AppError, AppResult, scim_json};
use crate::lifecycle;
use crate::ratelimit::ClientAddr;

fn invalid_syntax(error: serde_json::Error) -> AppError {
    AppError::bad_request(
        ScimType::InvalidSyntax,
        format!("The request body is not valid: {error}."),
    )
}

fn kind_of(resource: &str) -> AppResult<Kind> {
    if resource.eq_ignore_ascii_case("Users") {
        Ok(Kind::User)
    } else if resource.eq_ignore_ascii_case("Groups") {
        Ok(Kind::Group)
    } else {
        Err(AppError::not_found("There is no such endpoint."))
    }
}

/// `GET /{resource}`.
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Path((org, resource)): Path<(String, String)>,
    headers: HeaderMap,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> AppResult<Response> {
    let kind = kind_of(&resource)?;
    crate::orgs::require_readable(&state, &caller, &org).await?;
    let Query(pairs) = query.map_err(|error| {
        AppError::invalid_value(format!("The query string could not be read: {error}."))
    })?;
    let params = ListParams::from_query(&pairs, state.config.max_results)?;
    if params.include_deleted {
        caller.require_system_admin()?;
    }
    let base = base_url(&state, &headers, &org);
    run_list(&state, kind, org, base, params).await
}

/// `POST /{resource}/.search`.
pub async fn search(
    State(state): State<AppState>,
    caller: Caller,
    Path((org, resource)): Path<(String, String)>,
    headers: HeaderMap,
    JsonBody(body): JsonBody<Value>,
) -> AppResult<Response> {
    let kind = kind_of(&resource)?;
    crate::orgs::require_readable(&state, &caller, &org).await?;
    let request: SearchRequest = serde_json::from_value(body).map_err(invalid_syntax)?;
    let params = ListParams::from_search(request, state.config.max_results)?;
    run_list(
        &state,
        kind,
        org.clone(),
        base_url(&state, &headers, &org),
        params,
    )
    .await
}

async fn run_list(
    state: &AppState,
    kind: Kind,
    org: String,
    base: String,
    params: ListParams,
) -> AppResult<Response> {
    let start = params.start_index;
    let now = state.clock.now();
    let page = state
        .db
        .read_walking(move |conn, walks| query::run(conn, walks, kind, &org, &base, now, &params))
        .await?;
    Ok(scim_json(&list_body(page.total, start, page.resources)))
}

fn list_body(total: usize, start: usize, resources: Vec<Value>) -> Value {
    json!({
        "schemas": [urn::LIST_RESPONSE],
        "totalResults": total,
        "itemsPerPage": resources.len(),
        "startIndex": start,
        "Resources": resources,
    })
}

/// `POST /.search`: users and groups together, users first.
pub async fn search_all(
    State(state): State<AppState>,
    caller: Caller,
    Path(org): Path<String>,
    headers: HeaderMap,
    JsonBody(body): JsonBody<Value>,
) -> AppResult<Response> {
    crate::orgs::require_readable(&state, &caller, &org).await?;
    let request: SearchRequest = serde_json::from_value(body).map_err(invalid_syntax)?;
    let params = ListParams::from_search(request, state.config.max_results)?;
    let base = base_url(&state, &headers, &org);
    let start = params.start_index;
    let now = state.clock.now();
    let (total, resources) = state
        .db
        .read_walking(move |conn, walks| {
            let users = query::run(conn, walks, Kind::User, &org, &base, now, &params)?;
            let remaining = params.count - users.resources.len();
            let groups_params = ListParams {
                start_index: params.start_index.saturating_sub(users.total).max(1),
                count: remaining,
                ..params.clone()
            };
            let groups = query::run(conn, walks, Kind::Group, &org, &base, now, &groups_params)?;
            let mut resources = users.resources;
            resources.extend(groups.resources);
            Ok((users.total + groups.total, resources))
        })
        .await?;
    Ok(scim_json(&list_body(total, start, resources)))
}

/// `GET /{resource}/{id}`, answering 304 when `If-None-Match` names the current version.
pub async fn get_one(
    State(state): State<AppState>,
    caller: Caller,
    Path((org, resource, id)): Path<(String, String, String)>,
    headers: HeaderMap,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> AppResult<Response> {
    let kind = kind_of(&resource)?;
    crate::orgs::require_readable(&state, &caller, &org).await?;
    let Query(pairs) = query.map_err(|error| {
        AppError::invalid_value(format!("The query string could not be read: {error}."))
    })?;
    let get = |name: &str| {
        pairs
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    };
    let selection = Selection::parse(get("attributes"), get("excludedAttributes"))?;
    let include_deleted = query::parse_include_deleted(get(query::INCLUDE_DELETED))?;
    if include_deleted {
        caller.require_system_admin()?;
    }
    let base = base_url(&state, &headers, &org);
    let now = state.clock.now();
    let (row, body) = state
        .db
        .read(move |conn| {
            let row = if include_deleted {
                store::get_including_deleted(conn, kind, &org, &id)?.ok_or_else(|| {
                    AppError::not_found(format!("There is no {} with id '{id}'.", kind.name()))
                })?
            } else {
                store::get_or_404(conn, kind, &org, &id)?
            };
            let body = render::one(conn, kind, &org, &base, &row, &selection, now)?;
            Ok((row, body))
        })
        .await?;
    if let Some(tags) = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|h| h.to_str().ok())
        && etag_matches(tags, &row)
    {
        let mut response = StatusCode::NOT_MODIFIED.into_response();
        set_etag(&mut response, &row);
        return Ok(response);
    }
    // A projection without `meta` is a partial representation: it gets no ETag (the
    // version is in `meta.version` whenever the body has one).
    if body.get("meta").is_none() {
        return Ok(scim_json(&body));
    }
    Ok(with_etag(scim_json(&body), &row))
}

/// `POST /{resource}`.
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    ClientAddr(client): ClientAddr,
    Path((org, resource)): Path<(String, String)>,
    headers: HeaderMap,
    JsonBody(body): JsonBody<Value>,
) -> AppResult<Response> {
    let kind = kind_of(&resource)?;
    crate::orgs::require_writable(&state, &caller, &org).await?;
    let Incoming { mut doc, password } = validate::normalize(kind, body, None)?;
    if password.is_some() {
        // Setting anyone's password needs a recent sign-in (see `lifecycle::check_update`).
        caller.require_recent_sign_in(state.clock.now())?;
    }
    let requested_active = take_active(kind, &mut doc);
    let password = hash(&state, kind, &org, &doc, password).await?;
    let base = base_url(&state, &headers, &org);
    let now = state.clock.now();
    let write = {
        let org = org.clone();
        state.db.write(move |tx| {
            if kind == Kind::Group {
                store::resolve_members(tx, &org, &mut doc)?;
            }
            let has_password = matches!(password, PasswordChange::Set(_));
            let row = store::insert(tx, kind, &org, &doc, password, now)?;
            if kind == Kind::User {
                lifecycle::on_create(tx, &org, &row.id, requested_active, has_password, &doc)?;
            }
            finish(tx, kind, &org, &base, &row.id, now)
        })
    };
    let ctx = WriteCtx {
        state: &state,
        caller: &caller,
        client,
        kind,
        org: &org,
    };
    let (row, body) = audited(&ctx, None, "create", write.await).await?;
    let mut response = with_etag(scim_json(&body), &row);
    *response.status_mut() = StatusCode::CREATED;
    if let Some(location) = body.pointer("/meta/location").and_then(Value::as_str)
        && let Ok(value) = HeaderValue::from_str(location)
    {
        response.headers_mut().insert(header::LOCATION, value);
    }
    Ok(response)
}

/// `PUT /{resource}/{id}`: the body replaces every writable attribute.
pub async fn replace(
    State(state): State<AppState>,
    caller: Caller,
    ClientAddr(client): ClientAddr,
    Path((org, resource, id)): Path<(String, String, String)>,
    headers: HeaderMap,
    JsonBody(body): JsonBody<Value>,
) -> AppResult<Response> {
    let kind = kind_of(&resource)?;
    let ctx = WriteCtx {
        state: &state,
        caller: &caller,
        client,
        kind,
        org: &org,
    };
    update(&ctx, &id, &headers, "replace", move |current| {
        validate::normalize(kind, body, Some(&current.doc))
    })
    .await
}

/// `PATCH /{resource}/{id}`.
pub async fn modify(
    State(state): State<AppState>,
    caller: Caller,
    ClientAddr(client): ClientAddr,
    Path((org, resource, id)): Path<(String, String, String)>,
    headers: HeaderMap,
    JsonBody(body): JsonBody<Value>,
) -> AppResult<Response> {
    let kind = kind_of(&resource)?;
    let patch: PatchOp = serde_json::from_value(body).map_err(invalid_syntax)?;
    let ctx = WriteCtx {
        state: &state,
        caller: &caller,
        client,
        kind,
        org: &org,
    };
    update(&ctx, &id, &headers, "patch", move |current| {
        let mut doc = current.doc.clone();
        if let (Some(state), Kind::User) = (&current.state, kind) {
            // PATCH sees `active` as clients do: derived from the status.
            let status = lifecycle::Status::parse(state.status.as_deref().unwrap_or("active"));
            if let Value::Object(object) = &mut doc {
                object.insert("active".into(), Value::Bool(status.is_active()));
            }
        }
        super::patch::apply(kind, &mut doc, &patch.operations)?;
        let mut incoming = validate::normalize(kind, doc, Some(&current.doc))?;
        if kind == Kind::User
            && let Some(state) = &current.state
        {
            // An unchanged `active` is no request to change the status.
            let was =
                lifecycle::Status::parse(state.status.as_deref().unwrap_or("active")).is_active();
            if incoming.doc.get("active").and_then(Value::as_bool) == Some(was)
                && let Value::Object(object) = &mut incoming.doc
            {
                object.remove("active");
            }
        }
        Ok(incoming)
    })
    .await
}

/// Who writes to which resources: the server, the caller and their address, the kind of
/// resource and the organisation. Every write is checked and audited against it.
pub(super) struct WriteCtx<'a> {
    pub(super) state: &'a AppState,
    pub(super) caller: &'a Caller,
    pub(super) client: Option<std::net::IpAddr>,
    pub(super) kind: Kind,
    pub(super) org: &'a str,
}

/// A replace or patch: read, compute the new document, check the rules, write it with
/// its lifecycle effects in one transaction that re-checks the version, audit.
async fn update(
    ctx: &WriteCtx<'_>,
    id: &str,
    headers: &HeaderMap,
    verb: &'static str,
    compute: impl FnOnce(&Row) -> AppResult<Incoming>,
) -> AppResult<Response> {
    let WriteCtx {
        state,
        caller,
        kind,
        org,
        ..
    } = *ctx;
    caller.require_write(org)?;
    crate::orgs::require_org(state, org).await?;
    let if_match = if_match(headers);
    let base = base_url(state, headers, org);
    let now = state.clock.now();
    let current = {
        let (org, id) = (org.to_owned(), id.to_owned());
        state
            .db
            .read(move |conn| store::get_or_404(conn, kind, &org, &id))
            .await?
    };
    check_if_match(if_match.as_deref(), &current)?;
    let result = async {
        let Incoming { mut doc, password } = compute(&current)?;
        let requested_active = take_active(kind, &mut doc);
        if kind == Kind::User {
            let update = lifecycle::Update {
                old: &current.doc,
                new: &doc,
                requested_active,
                sets_password: password.is_some(),
                now,
            };
            lifecycle::check_update(caller, org, id, &update)?;
        }
        let password = hash(state, kind, org, &doc, password).await?;
        let (org, id) = (org.to_owned(), id.to_owned());
        state
            .db
            .write(move |tx| {
                let old = store::get_or_404(tx, kind, &org, &id)?;
                if old.version != current.version {
                    return Err(AppError::precondition_failed(
                        "The resource changed while this change was prepared; read it and try again.",
                    ));
                }
                if kind == Kind::Group {
                    store::resolve_members(tx, &org, &mut doc)?;
                }
                let password_changed = matches!(password, PasswordChange::Set(_));
                let written = write_if_changed(tx, kind, &org, &old, &doc, password, now)?;
                if kind == Kind::User {
                    let bumped = written.version != old.version;
                    let update = lifecycle::Update {
                        old: &old.doc,
                        new: &doc,
                        requested_active,
                        sets_password: password_changed,
                        now,
                    };
                    lifecycle::on_update(tx, &org, &id, &update, bumped)?;
                }
                finish(tx, kind, &org, &base, &id, now)
            })
            .await
    }
    .await;
    let (row, body) = audited(ctx, Some(&current.id), verb, result).await?;
    Ok(with_etag(scim_json(&body), &row))
}

/// `DELETE /{resource}/{id}`: users are soft-deleted (a system admin can restore them);
/// groups are deleted.
pub async fn remove(
    State(state): State<AppState>,
    caller: Caller,
    ClientAddr(client): ClientAddr,
    Path((org, resource, id)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> AppResult<Response> {
    let kind = kind_of(&resource)?;
    crate::orgs::require_writable(&state, &caller, &org).await?;
    let if_match = if_match(&headers);
    let now = state.clock.now();
    let result = {
        let (org, id, caller) = (org.clone(), id.clone(), caller.clone());
        state
            .db
            .write(move |tx| {
                let old = store::get_or_404(tx, kind, &org, &id)?;
                check_if_match(if_match.as_deref(), &old)?;
                match kind {
                    Kind::User => lifecycle::soft_delete(tx, &caller, &org, &id, now)?,
                    Kind::Group => {
                        store::delete(tx, kind, &org, &id, now)?;
                    }
                }
                Ok((old, Value::Null))
            })
            .await
    };
    let ctx = WriteCtx {
        state: &state,
        caller: &caller,
        client,
        kind,
        org: &org,
    };
    audited(&ctx, Some(&id), "delete", result).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// After a write: the row as stored now (lifecycle effects included) and its full
/// representation.
pub(super) fn finish(
    tx: &rusqlite::Transaction<'_>,
    kind: Kind,
    org: &str,
    base: &str,
    id: &str,
    now: time::OffsetDateTime,
) -> AppResult<(Row, Value)> {
    let row = store::get_or_404(tx, kind, org, id)?;
    let body = render::one(tx, kind, org, base, &row, &Selection::default(), now)?;
    Ok((row, body))
}

/// Records a SCIM write in the audit log, whatever its outcome, and passes it on.
pub(super) async fn audited<T>(
    ctx: &WriteCtx<'_>,
    target: Option<&str>,
    verb: &str,
    result: AppResult<(Row, T)>,
) -> AppResult<(Row, T)> {
    let WriteCtx {
        state,
        caller,
        client,
        kind,
        org,
    } = *ctx;
    let action = format!("{}.{verb}", kind.name().to_lowercase());
    let (outcome, target_id, detail) = match &result {
        Ok((row, _)) => (
            Outcome::Success,
            Some(row.id.clone()),
            json!({"version": row.version}),
        ),
        Err(error) if error.status == StatusCode::FORBIDDEN => (
            Outcome::Denied,
            target.map(str::to_owned),
            json!({"status": 403, "reason": error.detail}),
        ),
        Err(error) => (
            Outcome::Failed,
            target.map(str::to_owned),
            json!({"status": error.status.as_u16(), "reason": error.detail}),
        ),
    };
    let entry = Entry {
        org: Some(org),
        actor: Actor::from_caller(caller),
        action: &action,
        target_id: target_id.as_deref(),
        target_name: None,
        client,
        outcome,
        detail,
    };
    audit::record_alone(state, &entry).await?;
    result
}

/// Takes SCIM `active` out of a user document: it is rendered from the status, and a
/// value sent by a client is a request to change the status.
fn take_active(kind: Kind, doc: &mut Value) -> Option<bool> {
    match (kind, doc) {
        (Kind::User, Value::Object(object)) => object.remove("active").and_then(|v| v.as_bool()),
        _ => None,
    }
}

/// Stores `doc` unless it and the password are unchanged, so a no-op write keeps its version.
fn write_if_changed(
    tx: &rusqlite::Transaction<'_>,
    kind: Kind,
    org: &str,
    old: &Row,
    doc: &Value,
    password: PasswordChange,
    now: time::OffsetDateTime,
) -> AppResult<Row> {
    if &old.doc == doc && matches!(password, PasswordChange::Keep) {
        return Ok(old.clone());
    }
    store::update(tx, kind, org, old, doc, password, now)
}

/// Checks a password sent in a user document against the org's policy and hashes it.
async fn hash(
    state: &AppState,
    kind: Kind,
    org: &str,
    doc: &Value,
    password: Option<String>,
) -> AppResult<PasswordChange> {
    let Some(password) = password else {
        return Ok(PasswordChange::Keep);
    };
    if kind == Kind::Group {
        return Err(AppError::invalid_value("Groups have no password."));
    }
    let personal = crate::policy::personal_words(doc);
    let hash = crate::policy::checked_hash(state, org, personal, password).await?;
    Ok(PasswordChange::Set(hash))
}

pub(super) fn if_match(headers: &HeaderMap) -> Option<String> {
    headers
        .get(header::IF_MATCH)
        .and_then(|h| h.to_str().ok())
        .map(str::to_owned)
}

/// Whether a list of entity tags (`*`, `W/"3"`, `"3", "4"`) names this row's version.
/// Comparison is weak: `W/` prefixes are ignored.
fn etag_matches(tags: &str, row: &Row) -> bool {
    let current = row.version.to_string();
    tags.split(',')
        .map(str::trim)
        .any(|tag| tag == "*" || tag.trim_start_matches("W/").trim_matches('"') == current)
}

pub(super) fn check_if_match(tags: Option<&str>, row: &Row) -> AppResult<()> {
    match tags {
        Some(tags) if !etag_matches(tags, row) => Err(AppError::precondition_failed(format!(
            "The resource has changed: its version is now {}. Read it again before changing it.",
            row.etag()
        ))),
        _ => Ok(()),
    }
}

fn set_etag(response: &mut Response, row: &Row) {
    if let Ok(value) = HeaderValue::from_str(&row.etag()) {
        response.headers_mut().insert(header::ETAG, value);
    }
}

pub(super) fn with_etag(mut response: Response, row: &Row) -> Response {
    set_etag(&mut response, row);
    response
}
