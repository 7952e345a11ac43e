//! `POST /o/{org}/scim/v2/Bulk` (RFC 7644 §3.7): many writes in one request.
//!
//! Operations are POST, PUT, PATCH and DELETE on `/Users` and `/Groups`, and POST to the
//! account actions (`/Users/{id}/actions/{name}`). Each one is sent through the server's
//! own router as a request of its own, carrying the bulk request's credentials, client
//! address and host, so every rule, audit entry and rate limit applies to it exactly as to
//! a single request; an operation refused by the API rate limit answers 429 in its entry
//! (and the bulk answer carries the longest `Retry-After`).
//!
//! Operations run one at a time, in the order sent. `bulkId:X` in a later operation's
//! path or data stands for the id that the operation with `bulkId` X created. An
//! operation that refers to one not created yet waits until it is (so forward references
//! work); one that refers to a failed operation fails with 409, as do references that can
//! never be resolved (a cycle). After `failOnErrors` failures the rest are not run and are
//! left out of the answer. The answer lists the operations that ran, in request order:
//! `method`, `bulkId` (echoed when sent), `location` and `version` (on success), `status`
//! (a string) and `response` (the error body on failure; the resource as it now is on a
//! success that returns one).

use std::collections::HashMap;
use std::net::SocketAddr;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, FromRequest, OriginalUri, Path, Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::Response;
use muster_scim::message::{ScimError, ScimType};
use muster_scim::urn;
use serde_json::{Map, Value, json};
use tower::ServiceExt;

use crate::AppState;
use crate::audit::{self, Actor, Entry, Outcome};
use crate::auth::Caller;
use crate::body::{check_content_type, parse_json};
use crate::error::{AppError, AppResult, scim_json};

/// Most operations in one bulk request (advertised as `bulk.maxOperations`).
pub const MAX_OPERATIONS: usize = 1000;

/// Largest bulk request body, in bytes (advertised as `bulk.maxPayloadSize`): the limit
/// on every request body.
pub const MAX_PAYLOAD_BYTES: usize = crate::MAX_BODY_BYTES;

/// Largest answer of one operation that is read back into the bulk answer (a group with
/// tens of thousands of members is a few megabytes).
const MAX_OPERATION_ANSWER_BYTES: usize = 32 * 1024 * 1024;

/// The prefix of a bulk-id reference: `bulkId:X`.
const REFERENCE: &str = "bulkId:";

/// Whether `path` is an organisation's SCIM `/Bulk` endpoint (it gets a longer timeout).
pub fn is_bulk_path(path: &str) -> bool {
    path.starts_with("/o/") && path.ends_with("/scim/v2/Bulk")
}

/// One operation as sent, its structure checked.
#[derive(Debug)]
struct Operation {
    method: Method,
    bulk_id: Option<String>,
    version: Option<String>,
    path: String,
    data: Option<Value>,
}

/// A bulk request, its structure checked.
#[derive(Debug)]
struct BulkRequest {
    fail_on_errors: Option<usize>,
    operations: Vec<Operation>,
}

/// What became of a `bulkId` so far.
#[derive(Debug, Clone)]
enum Reference {
    /// Its operation has not run yet.
    Pending,
    /// Its operation created (or answered with) this id.
    Resolved(String),
    /// Its operation failed or answered without an id.
    Failed,
}

/// What the bulk request's operations inherit from it.
#[derive(Debug, Clone)]
struct Inherited {
    /// `/o/{org}/scim/v2` as the client wrote it.
    prefix: String,
    /// The server's URL as the client reached it, for locations.
    root: String,
    authorization: Option<HeaderValue>,
    host: Option<HeaderValue>,
    connect_info: Option<ConnectInfo<SocketAddr>>,
}

/// The answer of one operation, as a BulkResponse entry.
#[derive(Debug)]
struct Answer {
    entry: Value,
    failed: bool,
    retry_after: Option<u64>,
}

/// `POST /Bulk`.
pub async fn run(
    State(state): State<AppState>,
    caller: Caller,
    Path(org): Path<String>,
    request: Request,
) -> AppResult<Response> {
    crate::orgs::require_writable(&state, &caller, &org).await?;
    let (parts, body) = request.into_parts();
    check_content_type(&parts.headers)?;
    let full_path = parts
        .extensions
        .get::<OriginalUri>()
        .map_or_else(|| parts.uri.path(), |original| original.0.path())
        .to_owned();
    let inherited = Inherited {
        prefix: full_path
            .strip_suffix("/Bulk")
            .unwrap_or(&full_path)
            .to_owned(),
        root: super::root_url(&state, &parts.headers),
        authorization: parts.headers.get(header::AUTHORIZATION).cloned(),
        host: parts.headers.get(header::HOST).cloned(),
        connect_info: parts.extensions.get::<ConnectInfo<SocketAddr>>().cloned(),
    };
    let bytes = Bytes::from_request(Request::from_parts(parts, body), &state)
        .await
        .map_err(|rejection| {
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                too_large(format!(
                    "The bulk request is larger than {MAX_PAYLOAD_BYTES} bytes \
                     (maxPayloadSize); send its operations in smaller requests."
                ))
            } else {
                AppError::new(rejection.status(), "The request body could not be read.")
            }
        })?;
    let request = BulkRequest::parse(&parse_json::<Value>(&bytes)?)?;
    let total = request.operations.len();

    let router = crate::app(state.clone());
    let answers = run_operations(&router, &inherited, request).await;
    let processed = answers.iter().flatten().count();
    let errors = answers.iter().flatten().filter(|a| a.failed).count();
    let retry_after = answers.iter().flatten().filter_map(|a| a.retry_after).max();
    let detail = json!({"operations": total, "processed": processed, "errors": errors});
    if let Err(error) = record(&state, &caller, &org, &inherited, detail).await {
        // The operations ran and are audited one by one; their results still go back.
        tracing::warn!(%error, "could not record a bulk request in the audit log");
    }
    let entries: Vec<Value> = answers.into_iter().flatten().map(|a| a.entry).collect();
    let mut response = scim_json(&json!({
        "schemas": [urn::BULK_RESPONSE],
        "Operations": entries,
    }));
    if let Some(seconds) = retry_after {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
    }
    Ok(response)
}

/// How far a bulk request has got.
struct Progress {
    /// Each operation's answer at its index; `None` while (or if never) run.
    answers: Vec<Option<Answer>>,
    /// What became of each `bulkId`.
    references: HashMap<String, Reference>,
    errors: usize,
    fail_on_errors: Option<usize>,
}

impl Progress {
    /// Keeps an operation's answer and the id it yields for its `bulkId`; whether
    /// `failOnErrors` has now been reached.
    fn record(&mut self, index: usize, op: &Operation, answer: Answer, id: Option<String>) -> bool {
        if let Some(bulk_id) = &op.bulk_id {
            let reference = match id {
                Some(id) if !answer.failed => Reference::Resolved(id),
                _ => Reference::Failed,
            };
            self.references.insert(bulk_id.clone(), reference);
        }
        if answer.failed {
            self.errors += 1;
        }
        self.answers[index] = Some(answer);
        self.fail_on_errors
            .is_some_and(|limit| self.errors >= limit)
    }
}

/// Runs the operations in order, holding back those that wait for a `bulkId`, until all
/// have run, `failOnErrors` is reached, or the rest wait on each other. Returns each
/// operation's answer at its index; `None` for those not run.
async fn run_operations(
    router: &Router,
    inherited: &Inherited,
    request: BulkRequest,
) -> Vec<Option<Answer>> {
    let operations = request.operations;
    let mut progress = Progress {
        answers: operations.iter().map(|_| None).collect(),
        references: operations
            .iter()
            .filter_map(|op| op.bulk_id.clone())
            .map(|id| (id, Reference::Pending))
            .collect(),
        errors: 0,
        fail_on_errors: request.fail_on_errors,
    };
    let mut pending: Vec<usize> = (0..operations.len()).collect();
    loop {
        let mut waiting = Vec::new();
        for &index in &pending {
            let op = &operations[index];
            let (answer, id) = match resolve(op, &progress.references) {
                Resolution::Wait => {
                    waiting.push(index);
                    continue;
                }
                Resolution::Refused(error) => (refused(op, &error), None),
                Resolution::Ready { path, data } => {
                    send(router, inherited, op, &path, data.as_ref()).await
                }
            };
            if progress.record(index, op, answer, id) {
                return progress.answers;
            }
        }
        if waiting.is_empty() {
            return progress.answers;
        }
        if waiting.len() == pending.len() {
            // Nothing ran in a whole pass: the rest wait on each other.
            for index in waiting {
                let error = AppError::new(
                    StatusCode::CONFLICT,
                    "This operation refers to a bulkId that can never be resolved: the \
                     operations refer to each other in a cycle.",
                );
                let op = &operations[index];
                if progress.record(index, op, refused(op, &error), None) {
                    break;
                }
            }
            return progress.answers;
        }
        pending = waiting;
    }
}

/// Whether an operation can run now, with its `bulkId:` references replaced.
enum Resolution {
    Ready { path: String, data: Option<Value> },
    Wait,
    Refused(AppError),
}

fn resolve(op: &Operation, references: &HashMap<String, Reference>) -> Resolution {
    let mut named = Vec::new();
    for segment in op.path.split('/') {
        if let Some(id) = segment.strip_prefix(REFERENCE) {
            named.push(id.to_owned());
        }
    }
    if let Some(data) = &op.data {
        collect_references(data, &mut named);
    }
    let mut ids = HashMap::new();
    for name in named {
        match references.get(&name) {
            None => {
                return Resolution::Refused(AppError::invalid_value(format!(
                    "This operation refers to bulkId '{name}', which no operation in this \
                     request has."
                )));
            }
            Some(Reference::Failed) => {
                return Resolution::Refused(AppError::new(
                    StatusCode::CONFLICT,
                    format!(
                        "This operation refers to bulkId '{name}', whose operation failed or \
                         returned no id."
                    ),
                ));
            }
            Some(Reference::Pending) => return Resolution::Wait,
            Some(Reference::Resolved(id)) => {
                ids.insert(name, id.clone());
            }
        }
    }
    let path = op
        .path
        .split('/')
        .map(|segment| match segment.strip_prefix(REFERENCE) {
            Some(name) => ids.get(name).map_or(segment, String::as_str),
            None => segment,
        })
        .collect::<Vec<_>>()
        .join("/");
    let data = op.data.clone().map(|mut data| {
        replace_references(&mut data, &ids);
        data
    });
    Resolution::Ready { path, data }
}

/// Every `bulkId:X` string value in `value`, as X.
fn collect_references(value: &Value, into: &mut Vec<String>) {
    match value {
        Value::String(text) => {
            if let Some(name) = text.strip_prefix(REFERENCE) {
                into.push(name.to_owned());
            }
        }
        Value::Array(items) => items.iter().for_each(|item| collect_references(item, into)),
        Value::Object(object) => object
            .values()
            .for_each(|item| collect_references(item, into)),
        Value::Null | Value::Bool(_) | Value::Number(_) => {}
    }
}

fn replace_references(value: &mut Value, ids: &HashMap<String, String>) {
    match value {
        Value::String(text) => {
            if let Some(id) = text.strip_prefix(REFERENCE).and_then(|name| ids.get(name)) {
                *text = id.clone();
            }
        }
        Value::Array(items) => items
            .iter_mut()
            .for_each(|item| replace_references(item, ids)),
        Value::Object(object) => object
            .values_mut()
            .for_each(|item| replace_references(item, ids)),
        Value::Null | Value::Bool(_) | Value::Number(_) => {}
    }
}

/// Sends one operation through the router and reads its answer; also returns the id it
/// answered with, for its `bulkId`.
async fn send(
    router: &Router,
    inherited: &Inherited,
    op: &Operation,
    path: &str,
    data: Option<&Value>,
) -> (Answer, Option<String>) {
    let target = match target(&op.method, path) {
        Ok(target) => target,
        Err(error) => return (refused(op, &error), None),
    };
    let request = match build_request(inherited, op, &target, data) {
        Ok(request) => request,
        Err(error) => return (refused(op, &error), None),
    };
    let response = match router.clone().oneshot(request).await {
        Ok(response) => response,
        Err(never) => match never {},
    };
    let (parts, body) = response.into_parts();
    let status = parts.status;
    let header = |name: header::HeaderName| {
        parts
            .headers
            .get(name)
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned)
    };
    let (location, version) = (header(header::LOCATION), header(header::ETAG));
    let retry_after = header(header::RETRY_AFTER).and_then(|value| value.parse().ok());
    let body = match axum::body::to_bytes(body, MAX_OPERATION_ANSWER_BYTES).await {
        Ok(bytes) if bytes.is_empty() => None,
        Ok(bytes) => serde_json::from_slice::<Value>(&bytes).ok(),
        Err(error) => {
            let error = AppError::internal(format_args!("bulk: reading an answer: {error}"));
            return (refused(op, &error), None);
        }
    };
    let failed = !status.is_success();
    let mut entry = entry_head(op, status);
    if !failed {
        let location = location
            .or_else(|| {
                body.as_ref()
                    .and_then(|b| b.pointer("/meta/location"))
                    .and_then(Value::as_str)
                    .map(str::to_owned)
            })
            .unwrap_or_else(|| format!("{}{}{target}", inherited.root, inherited.prefix));
        entry["location"] = json!(location);
        if let Some(version) = version {
            entry["version"] = json!(version);
        }
    }
    let created = body
        .as_ref()
        .and_then(|b| b.get("id"))
        .and_then(Value::as_str)
        .map(str::to_owned);
    if let Some(body) = body {
        entry["response"] = body;
    }
    let answer = Answer {
        entry,
        failed,
        retry_after: (status == StatusCode::TOO_MANY_REQUESTS)
            .then_some(retry_after)
            .flatten(),
    };
    (answer, created)
}

/// The request an operation makes, as the client would have sent it on its own.
fn build_request(
    inherited: &Inherited,
    op: &Operation,
    target: &str,
    data: Option<&Value>,
) -> AppResult<Request> {
    let mut builder = Request::builder()
        .method(op.method.clone())
        .uri(format!("{}{target}", inherited.prefix))
        .header(header::CONTENT_TYPE, crate::error::SCIM_MEDIA_TYPE);
    if let Some(value) = &inherited.authorization {
        builder = builder.header(header::AUTHORIZATION, value.clone());
    }
    if let Some(value) = &inherited.host {
        builder = builder.header(header::HOST, value.clone());
    }
    if let Some(version) = &op.version {
        let value = HeaderValue::from_str(version).map_err(|_| {
            AppError::invalid_value(format!("The version '{version}' is not a valid ETag."))
        })?;
        builder = builder.header(header::IF_MATCH, value);
    }
    if let Some(connect_info) = inherited.connect_info {
        builder = builder.extension(connect_info);
    }
    let body = match (data, &op.method) {
        (_, &Method::DELETE) | (None, _) => Body::empty(),
        (Some(data), _) => Body::from(
            serde_json::to_vec(data)
                .map_err(|error| AppError::internal(format_args!("bulk: {error}")))?,
        ),
    };
    builder.body(body).map_err(|_| {
        AppError::invalid_value(format!("The path '{target}' is not a valid request path."))
    })
}

/// The router path (below `/o/{org}/scim/v2`) an operation may target, or why not.
fn target(method: &Method, path: &str) -> AppResult<String> {
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    for segment in &segments {
        if !is_segment(segment) {
            return Err(AppError::bad_request(
                ScimType::InvalidPath,
                format!("The path '{path}' has an empty or invalid segment '{segment}'."),
            ));
        }
    }
    let resource = |name: &str| {
        if name.eq_ignore_ascii_case("Users") {
            Some("Users")
        } else if name.eq_ignore_ascii_case("Groups") {
            Some("Groups")
        } else {
            None
        }
    };
    let target = match (method, segments.as_slice()) {
        (&Method::POST, [name]) => resource(name).map(|r| format!("/{r}")),
        (&Method::PUT | &Method::PATCH | &Method::DELETE, [name, id]) => {
            resource(name).map(|r| format!("/{r}/{id}"))
        }
        (&Method::POST, [name, id, actions, action])
            if resource(name) == Some("Users") && *actions == "actions" =>
        {
            Some(format!("/Users/{id}/actions/{action}"))
        }
        _ => None,
    };
    target.ok_or_else(|| {
        AppError::bad_request(
            ScimType::InvalidPath,
            format!(
                "A bulk operation cannot {method} '{path}': it can POST /Users or /Groups, \
                 PUT, PATCH or DELETE /Users/{{id}} or /Groups/{{id}}, and POST \
                 /Users/{{id}}/actions/{{name}}."
            ),
        )
    })
}

/// A non-empty path segment of URI path characters (RFC 3986 `pchar`), not `.` or `..`.
fn is_segment(segment: &str) -> bool {
    !segment.is_empty()
        && segment != "."
        && segment != ".."
        && segment
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=:@%".contains(&b))
}

/// The entry of an operation refused before (or instead of) running.
fn refused(op: &Operation, error: &AppError) -> Answer {
    let mut entry = entry_head(op, error.status);
    entry["response"] = error_body(error);
    Answer {
        entry,
        failed: true,
        retry_after: error.retry_after,
    }
}

fn entry_head(op: &Operation, status: StatusCode) -> Value {
    let mut entry = Map::new();
    entry.insert("method".into(), json!(op.method.as_str()));
    if let Some(bulk_id) = &op.bulk_id {
        entry.insert("bulkId".into(), json!(bulk_id));
    }
    entry.insert("status".into(), json!(status.as_u16().to_string()));
    Value::Object(entry)
}

/// An error as the RFC 7644 §3.12 body a single request would have answered with.
fn error_body(error: &AppError) -> Value {
    serde_json::to_value(ScimError {
        status: error.status.as_u16(),
        scim_type: error.scim_type.clone(),
        detail: Some(error.detail.clone()),
    })
    .unwrap_or(Value::Null)
}

/// 413 for a bulk request over a limit.
fn too_large(detail: String) -> AppError {
    AppError {
        scim_type: Some(ScimType::TooMany),
        ..AppError::new(StatusCode::PAYLOAD_TOO_LARGE, detail)
    }
}

impl BulkRequest {
    /// Checks a BulkRequest message's structure: its schema, `failOnErrors`, and each
    /// operation's `method`, `path`, `bulkId` (unique), `version` and `data`. Attribute
    /// names are matched case-insensitively, as SCIM's are.
    fn parse(doc: &Value) -> AppResult<Self> {
        let syntax = |detail: String| AppError::bad_request(ScimType::InvalidSyntax, detail);
        let object = doc
            .as_object()
            .ok_or_else(|| syntax("A bulk request is a JSON object.".into()))?;
        let lists_schema = field(object, "schemas")
            .and_then(Value::as_array)
            .is_some_and(|schemas| {
                schemas.iter().any(|schema| {
                    schema
                        .as_str()
                        .is_some_and(|s| s.eq_ignore_ascii_case(urn::BULK_REQUEST))
                })
            });
        if !lists_schema {
            return Err(syntax(format!(
                "A bulk request lists '{}' in 'schemas'.",
                urn::BULK_REQUEST
            )));
        }
        let fail_on_errors = match field(object, "failOnErrors") {
            None | Some(Value::Null) => None,
            Some(value) => Some(
                value
                    .as_u64()
                    .filter(|n| *n >= 1)
                    .and_then(|n| usize::try_from(n).ok())
                    .ok_or_else(|| {
                        AppError::invalid_value("'failOnErrors' must be a whole number, 1 or more.")
                    })?,
            ),
        };
        let items = field(object, "Operations")
            .and_then(Value::as_array)
            .ok_or_else(|| syntax("A bulk request needs an 'Operations' list.".into()))?;
        if items.len() > MAX_OPERATIONS {
            return Err(too_large(format!(
                "The bulk request has {} operations; at most {MAX_OPERATIONS} are allowed \
                 (maxOperations). Send them in several requests.",
                items.len()
            )));
        }
        let mut operations = Vec::with_capacity(items.len());
        let mut bulk_ids = HashMap::new();
        for (index, item) in items.iter().enumerate() {
            let number = index + 1;
            let op = Operation::parse(item).map_err(|detail| {
                AppError::bad_request(
                    ScimType::InvalidSyntax,
                    format!("Operation {number}: {detail}"),
                )
            })?;
            if let Some(bulk_id) = &op.bulk_id
                && let Some(first) = bulk_ids.insert(bulk_id.clone(), number)
            {
                return Err(AppError::invalid_value(format!(
                    "Operations {first} and {number} both have bulkId '{bulk_id}'; each \
                     bulkId names one operation."
                )));
            }
            operations.push(op);
        }
        Ok(Self {
            fail_on_errors,
            operations,
        })
    }
}

impl Operation {
    fn parse(item: &Value) -> Result<Self, String> {
        let object = item.as_object().ok_or("an operation is a JSON object.")?;
        let text = |name: &str| -> Result<Option<String>, String> {
            match field(object, name) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(value)) => Ok(Some(value.clone())),
                Some(_) => Err(format!("'{name}' must be a string.")),
            }
        };
        let method = text("method")?.ok_or("'method' is missing.")?;
        let method = match method.to_ascii_uppercase().as_str() {
            "POST" => Method::POST,
            "PUT" => Method::PUT,
            "PATCH" => Method::PATCH,
            "DELETE" => Method::DELETE,
            _ => {
                return Err(format!(
                    "the method '{method}' is not one of POST, PUT, PATCH and DELETE."
                ));
            }
        };
        let bulk_id = text("bulkId")?;
        if bulk_id.as_deref().is_some_and(str::is_empty) {
            return Err("'bulkId' is empty.".into());
        }
        Ok(Self {
            method,
            bulk_id,
            version: text("version")?,
            path: text("path")?.ok_or("'path' is missing.")?,
            data: field(object, "data").cloned(),
        })
    }
}

/// The value of attribute `name` of `object`, matched case-insensitively.
fn field<'a>(object: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    object.get(name).or_else(|| {
        object
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value)
    })
}

/// Records the bulk request itself in the audit log (each operation records its own).
async fn record(
    state: &AppState,
    caller: &Caller,
    org: &str,
    inherited: &Inherited,
    detail: Value,
) -> AppResult<()> {
    let client = inherited
        .connect_info
        .map(|ConnectInfo(address)| address.ip().to_canonical());
    let entry = Entry {
        org: Some(org),
        actor: Actor::from_caller(caller),
        action: "bulk.run",
        target_id: None,
        target_name: None,
        client,
        outcome: Outcome::Success,
        detail,
    };
    audit::record_alone(state, &entry).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_are_users_groups_and_actions_only() {
        assert_eq!(
            target(&Method::POST, "/users").ok().as_deref(),
            Some("/Users"),
            "resource names are case-insensitive and written canonically"
        );
        assert_eq!(
            target(&Method::POST, "/Users/abc/actions/suspend")
                .ok()
                .as_deref(),
            Some("/Users/abc/actions/suspend"),
            "account actions"
        );
        assert_eq!(
            target(&Method::PATCH, "/Groups/g1").ok().as_deref(),
            Some("/Groups/g1"),
            "a group by id"
        );
        for (method, path) in [
            (Method::POST, "/Users/abc"),
            (Method::DELETE, "/Users"),
            (Method::POST, "/Bulk"),
            (Method::POST, "/Groups/g/actions/suspend"),
            (Method::PUT, "/Users/../admin"),
            (Method::PUT, "/Users/a?b"),
            (Method::PUT, "/Users//x"),
            (Method::POST, "/Users/a b/actions/x"),
        ] {
            assert!(
                target(&method, path).is_err(),
                "{method} {path} is not a bulk target"
            );
        }
    }

    #[test]
    fn references_are_found_and_replaced_anywhere_in_data() {
        let mut data = json!({"members": [{"value": "bulkId:a"}, {"value": "x"}], "n": "bulkId:b"});
        let mut found = Vec::new();
        collect_references(&data, &mut found);
        assert_eq!(found, ["a", "b"], "in arrays and objects");
        let ids = HashMap::from([("a".to_owned(), "id-a".to_owned())]);
        replace_references(&mut data, &ids);
        assert_eq!(
            data["members"][0]["value"], "id-a",
            "a known reference becomes the id"
        );
        assert_eq!(data["n"], "bulkId:b", "an unknown one is left alone");
    }

    #[test]
    fn bulk_paths() {
        assert!(
            is_bulk_path("/o/acme/scim/v2/Bulk"),
            "an org's bulk endpoint"
        );
        assert!(
            !is_bulk_path("/o/acme/scim/v2/Users"),
            "not other endpoints"
        );
        assert!(!is_bulk_path("/Bulk"), "not outside an org");
    }
}
