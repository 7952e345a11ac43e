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
use crate::auth::Caller;
use crate::body::JsonBody;
use crate::error::{AppError, AppResult, scim_json};

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
    caller.require_read(&org)?;
    crate::orgs::require_org(&state, &org).await?;
    let Query(pairs) = query.map_err(|error| {
        AppError::invalid_value(format!("The query string could not be read: {error}."))
    })?;
    let params = ListParams::from_query(&pairs, state.config.max_results)?;
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
    caller.require_read(&org)?;
    crate::orgs::require_org(&state, &org).await?;
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
    let page = state
        .db
        .read(move |conn| query::run(conn, kind, &org, &base, &params))
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
    caller.require_read(&org)?;
    crate::orgs::require_org(&state, &org).await?;
    let request: SearchRequest = serde_json::from_value(body).map_err(invalid_syntax)?;
    let params = ListParams::from_search(request, state.config.max_results)?;
    let base = base_url(&state, &headers, &org);
    let start = params.start_index;
    let (total, resources) = state
        .db
        .read(move |conn| {
            let users = query::run(conn, Kind::User, &org, &base, &params)?;
            let remaining = params.count - users.resources.len();
            let groups_params = ListParams {
                start_index: params.start_index.saturating_sub(users.total).max(1),
                count: remaining,
                ..params.clone()
            };
            let groups = query::run(conn, Kind::Group, &org, &base, &groups_params)?;
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
    caller.require_read(&org)?;
    crate::orgs::require_org(&state, &org).await?;
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
    let base = base_url(&state, &headers, &org);
    let (row, body) = state
        .db
        .read(move |conn| {
            let row = store::get_or_404(conn, kind, &org, &id)?;
            let body = render::one(conn, kind, &org, &base, &row, &selection)?;
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
    Path((org, resource)): Path<(String, String)>,
    headers: HeaderMap,
    JsonBody(body): JsonBody<Value>,
) -> AppResult<Response> {
    let kind = kind_of(&resource)?;
    caller.require_write(&org)?;
    crate::orgs::require_org(&state, &org).await?;
    let Incoming { mut doc, password } = validate::normalize(kind, body, None)?;
    let password = hash(kind, password).await?;
    let base = base_url(&state, &headers, &org);
    let now = state.clock.now();
    let (row, body) = state
        .db
        .write(move |tx| {
            if kind == Kind::Group {
                store::resolve_members(tx, &org, &mut doc)?;
            }
            let row = store::insert(tx, kind, &org, &doc, password, now)?;
            let body = render::one(tx, kind, &org, &base, &row, &Selection::default())?;
            Ok((row, body))
        })
        .await?;
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
    Path((org, resource, id)): Path<(String, String, String)>,
    headers: HeaderMap,
    JsonBody(body): JsonBody<Value>,
) -> AppResult<Response> {
    let kind = kind_of(&resource)?;
    caller.require_write(&org)?;
    crate::orgs::require_org(&state, &org).await?;
    let if_match = if_match(&headers);
    let base = base_url(&state, &headers, &org);
    let now = state.clock.now();
    // Validate against the stored version first so the password is hashed only for a
    // write that can succeed; the write re-checks the version under its lock.
    let current = {
        let (org, id) = (org.clone(), id.clone());
        state
            .db
            .read(move |conn| store::get_or_404(conn, kind, &org, &id))
            .await?
    };
    check_if_match(if_match.as_deref(), &current)?;
    let incoming = validate::normalize(kind, body, Some(&current.doc))?;
    let password = hash(kind, incoming.password).await?;
    let mut doc = incoming.doc;
    let (row, body) = state
        .db
        .write(move |tx| {
            let old = store::get_or_404(tx, kind, &org, &id)?;
            check_if_match(if_match.as_deref(), &old)?;
            if kind == Kind::Group {
                store::resolve_members(tx, &org, &mut doc)?;
            }
            let row = write_if_changed(tx, kind, &org, &old, &doc, password, now)?;
            let body = render::one(tx, kind, &org, &base, &row, &Selection::default())?;
            Ok((row, body))
        })
        .await?;
    Ok(with_etag(scim_json(&body), &row))
}

/// `PATCH /{resource}/{id}`.
pub async fn modify(
    State(state): State<AppState>,
    caller: Caller,
    Path((org, resource, id)): Path<(String, String, String)>,
    headers: HeaderMap,
    JsonBody(body): JsonBody<Value>,
) -> AppResult<Response> {
    let kind = kind_of(&resource)?;
    caller.require_write(&org)?;
    crate::orgs::require_org(&state, &org).await?;
    let patch: PatchOp = serde_json::from_value(body).map_err(invalid_syntax)?;
    let if_match = if_match(&headers);
    let base = base_url(&state, &headers, &org);
    let now = state.clock.now();
    let current = {
        let (org, id) = (org.clone(), id.clone());
        state
            .db
            .read(move |conn| store::get_or_404(conn, kind, &org, &id))
            .await?
    };
    check_if_match(if_match.as_deref(), &current)?;
    let mut doc = current.doc.clone();
    super::patch::apply(kind, &mut doc, &patch.operations)?;
    let incoming = validate::normalize(kind, doc, Some(&current.doc))?;
    let password = hash(kind, incoming.password).await?;
    let mut doc = incoming.doc;
    let (row, body) = state
        .db
        .write(move |tx| {
            let old = store::get_or_404(tx, kind, &org, &id)?;
            if old.version != current.version {
                // Changed since we read it: the patch was computed on a stale document.
                return Err(AppError::precondition_failed(
                    "The resource changed while the patch was applied; read it and try again.",
                ));
            }
            if kind == Kind::Group {
                store::resolve_members(tx, &org, &mut doc)?;
            }
            let row = write_if_changed(tx, kind, &org, &old, &doc, password, now)?;
            let body = render::one(tx, kind, &org, &base, &row, &Selection::default())?;
            Ok((row, body))
        })
        .await?;
    Ok(with_etag(scim_json(&body), &row))
}

/// `DELETE /{resource}/{id}`.
pub async fn remove(
    State(state): State<AppState>,
    caller: Caller,
    Path((org, resource, id)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> AppResult<Response> {
    let kind = kind_of(&resource)?;
    caller.require_write(&org)?;
    crate::orgs::require_org(&state, &org).await?;
    let if_match = if_match(&headers);
    let now = state.clock.now();
    state
        .db
        .write(move |tx| {
            let old = store::get_or_404(tx, kind, &org, &id)?;
            check_if_match(if_match.as_deref(), &old)?;
            store::delete(tx, kind, &org, &id, now)?;
            Ok(())
        })
        .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
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

async fn hash(kind: Kind, password: Option<String>) -> AppResult<PasswordChange> {
    match (kind, password) {
        (Kind::User, Some(password)) => {
            if password.chars().count() > 128 {
                return Err(AppError::invalid_value(
                    "A password can be at most 128 characters long.",
                ));
            }
            let hash = tokio::task::spawn_blocking(move || crate::auth::hash_password(&password))
                .await
                .map_err(AppError::internal)??;
            Ok(PasswordChange::Set(hash))
        }
        (Kind::Group, Some(_)) => Err(AppError::bad_request(
            ScimType::InvalidValue,
            "Groups have no password.",
        )),
        (_, None) => Ok(PasswordChange::Keep),
    }
}

fn if_match(headers: &HeaderMap) -> Option<String> {
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

fn check_if_match(tags: Option<&str>, row: &Row) -> AppResult<()> {
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

fn with_etag(mut response: Response, row: &Row) -> Response {
    set_etag(&mut response, row);
    response
}
