//! The `/Bulk` path (RFC 7644 §3.7): users whose write is known from their record go to
//! the provider in batches within its `maxOperations` and `maxPayloadSize`, each
//! operation tagged with a `bulkId` so its result finds its user. New people are created
//! in one batch and sent their welcome in a second.
//!
//! A batch settles what it can; the rest goes back on the queue for the one-user path:
//! a stale version or a state conflict (409/412: read again, decide again), a 429 for one
//! operation (after a pause), an operation without a result (it may have happened: read
//! first). A whole request that is refused (400, 404, 413…) turns `/Bulk` off for the
//! rest of the job; one whose answer was lost leaves every user in it to be checked.

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::time::Duration;

use muster_scim::message::PatchOp;
use muster_scim::user::User;
use reqwest::Method;
use reqwest::header::HeaderMap;
use serde_json::{Value, json};

use super::plan::{Plan, Write};
use super::work::{Interrupt, Item, Shared, Subject, Work, wait_words};
use super::{Operation, Outcome, single};
use crate::error::Error;
use crate::resources::path_of;
use crate::transport::{error_of, retry_after};

/// Room left in a request for its envelope, as a share of `maxPayloadSize`.
const PAYLOAD_SHARE: u64 = 9;

/// Groups the job's items into `/Bulk` batches where the provider supports it and the
/// write is known; everything else is one-user work.
pub(super) fn arrange(shared: &Shared, items: Vec<Item>) -> Vec<Work> {
    let Some(limits) = shared.bulk.filter(|l| l.max_operations > 1) else {
        return items
            .into_iter()
            .map(|item| Work::One(Box::new(item)))
            .collect();
    };
    let most = shared
        .options
        .batch_size
        .min(usize::try_from(limits.max_operations).unwrap_or(usize::MAX))
        .max(1);
    let budget =
        usize::try_from(limits.max_payload_size / 10 * PAYLOAD_SHARE).unwrap_or(usize::MAX);
    let mut work = Vec::new();
    let mut batch: Vec<Item> = Vec::new();
    let mut size = 0;
    let flush = |batch: &mut Vec<Item>, work: &mut Vec<Work>| match batch.len() {
        0 => {}
        1 => work.extend(batch.drain(..).map(|item| Work::One(Box::new(item)))),
        _ => work.push(Work::Batch(std::mem::take(batch))),
    };
    for item in items {
        let Some(op) = operation(shared, &item, false) else {
            work.push(Work::One(Box::new(item)));
            continue;
        };
        let length = op.to_string().len() + 1;
        if length > budget {
            work.push(Work::One(Box::new(item)));
            continue;
        }
        if batch.len() >= most || size + length > budget {
            flush(&mut batch, &mut work);
            size = 0;
        }
        size += length;
        batch.push(item);
    }
    flush(&mut batch, &mut work);
    work
}

/// The bulk operation for an item, or `None` when it needs the one-user path (no record
/// to decide on, or a skip to confirm). `welcome`: the second step of an invite.
fn operation(shared: &Shared, item: &Item, welcome: bool) -> Option<Value> {
    let bulk_id = format!("b{}", item.index);
    match (&item.subject, &item.record) {
        (Subject::New(person), None) if !welcome => {
            let data = person.to_json().ok()?;
            Some(json!({"method": "POST", "path": "/Users", "bulkId": bulk_id, "data": data}))
        }
        (Subject::New(_), Some(created)) if welcome => {
            let path = path_of::<User>(created.id.as_deref()?).ok()?;
            Some(json!({
                "method": "POST",
                "path": format!("{path}/actions/send-welcome"),
                "bulkId": bulk_id,
            }))
        }
        (Subject::Existing(id), Some(record)) if !welcome => {
            let Plan::Act(write) = shared.plan(record) else {
                return None;
            };
            let path = path_of::<User>(id).ok()?;
            Some(match write {
                Write::Action(action) => {
                    let mut op = json!({
                        "method": "POST",
                        "path": format!("{path}/actions/{}", action.name()),
                        "bulkId": bulk_id,
                    });
                    if let Operation::Deactivate { reassign } = &shared.operation {
                        op["data"] = json!({"reassign": reassign});
                    }
                    op
                }
                Write::Patch(operations) => {
                    let mut op = json!({
                        "method": "PATCH",
                        "path": path,
                        "bulkId": bulk_id,
                        "data": serde_json::to_value(PatchOp::new(operations)).ok()?,
                    });
                    if let Some(version) = record.meta.as_ref().and_then(|m| m.version.clone()) {
                        op["version"] = json!(version);
                    }
                    op
                }
            })
        }
        _ => None,
    }
}

/// Sends a batch (and, for invites, its welcome batch) and settles what it can.
pub(super) async fn send(shared: &Shared, items: Vec<Item>) {
    let mut items = items;
    let mut welcome = false;
    while !items.is_empty() {
        let mut members = Vec::with_capacity(items.len());
        let mut operations = Vec::with_capacity(items.len());
        for item in items {
            if shared.bulk_off.load(Ordering::Relaxed) {
                shared.queue.push(Work::One(Box::new(item)));
                continue;
            }
            match operation(shared, &item, welcome) {
                Some(op) => {
                    operations.push(op);
                    members.push(item);
                }
                None => shared.queue.push(Work::One(Box::new(item))),
            }
        }
        if members.is_empty() {
            return;
        }
        let body = json!({
            "schemas": [muster_scim::urn::BULK_REQUEST],
            "Operations": operations,
        });
        let request = || {
            shared
                .client
                .send(Method::POST, "/Bulk", &[], Some(&body), None, false)
        };
        // A welcome batch finishes the unit its creates started: a cancel does not stop it.
        let answer = if welcome {
            shared.finish(request).await
        } else {
            shared.call(request).await
        };
        shared.used_bulk.store(true, Ordering::Relaxed);
        let (results, pause) = match answer {
            Ok(answer) => match answer.json::<Value>() {
                // A refused operation's wait rides on the whole answer (the longest).
                Ok(value) => (results_of(&value), retry_after(&answer.headers)),
                Err(_) => {
                    // Something happened, but what is unknown: check each user.
                    requeue(shared, members, true);
                    return;
                }
            },
            Err(Interrupt::Stopped) => {
                requeue(shared, members, false);
                return;
            }
            Err(Interrupt::Failed(error)) => {
                // A server failure or a lost answer may have done part of the work.
                let uncertain = matches!(error, Error::Offline { .. } | Error::Server { .. });
                if !uncertain {
                    tracing::info!(%error, "the provider refused a /Bulk request; going one by one");
                    shared.bulk_off.store(true, Ordering::Relaxed);
                }
                requeue(shared, members, uncertain);
                return;
            }
        };
        items = settle(shared, members, &results, pause, welcome).await;
        welcome = true;
    }
}

/// One operation's result.
#[derive(Debug)]
struct OpResult {
    status: u16,
    location: Option<String>,
    response: Option<Value>,
}

/// The results of a bulk response, by `bulkId`.
fn results_of(value: &Value) -> HashMap<String, OpResult> {
    let operations = value
        .as_object()
        .and_then(|map| {
            map.iter()
                .find(|(key, _)| key.eq_ignore_ascii_case("Operations"))
                .map(|(_, v)| v)
        })
        .and_then(Value::as_array);
    operations
        .into_iter()
        .flatten()
        .filter_map(|op| {
            let bulk_id = op.get("bulkId")?.as_str()?.to_owned();
            let status = status_of(op.get("status")?)?;
            Some((
                bulk_id,
                OpResult {
                    status,
                    location: op
                        .get("location")
                        .and_then(Value::as_str)
                        .map(str::to_owned),
                    response: op.get("response").cloned(),
                },
            ))
        })
        .collect()
}

/// A status as RFC 7644 writes it (`"201"`), as a number, or as `{"code": …}` (drafts).
fn status_of(value: &Value) -> Option<u16> {
    match value {
        Value::String(text) => text.trim().get(..3)?.parse().ok(),
        Value::Number(number) => number.as_u64().and_then(|n| u16::try_from(n).ok()),
        Value::Object(map) => map.get("code").and_then(status_of),
        _ => None,
    }
}

/// Settles each member from its result; returns the people created who now need their
/// welcome (after a create batch of an invite that sends one). Operations refused with
/// 429 are batched again after the pause (`pause`: the answer's `Retry-After`).
async fn settle(
    shared: &Shared,
    members: Vec<Item>,
    results: &HashMap<String, OpResult>,
    pause: Option<Duration>,
    welcome: bool,
) -> Vec<Item> {
    let send_welcome = matches!(shared.operation, Operation::Invite { send_welcome: true });
    let mut next = Vec::new();
    let mut refused = Vec::new();
    for mut item in members {
        let Some(result) = results.get(&format!("b{}", item.index)) else {
            // No result: it may or may not have been done.
            item.uncertain = true;
            shared.queue.push(Work::One(Box::new(item)));
            continue;
        };
        match result.status {
            200..=299 => {
                let creating = matches!(item.subject, Subject::New(_)) && !welcome;
                let Some(user) = answered_user(shared, &item, result).await else {
                    item.uncertain = true;
                    shared.queue.push(Work::One(Box::new(item)));
                    continue;
                };
                if creating && send_welcome {
                    item.record = Some(user);
                    next.push(item);
                } else {
                    let report = item.report(
                        Some(&user),
                        Outcome::Done {
                            user: Box::new(user.clone()),
                        },
                    );
                    shared.report(item.index, report);
                }
            }
            409 | 412 => {
                // Decided on an out-of-date record, or the person exists: the one-user
                // path reads again and decides again.
                if !welcome {
                    item.record = None;
                    item.fresh = false;
                }
                shared.queue.push(Work::One(Box::new(item)));
            }
            429 => refused.push(item),
            status => {
                let body = result
                    .response
                    .as_ref()
                    .map(Value::to_string)
                    .unwrap_or_default();
                let status = reqwest::StatusCode::from_u16(status)
                    .unwrap_or(reqwest::StatusCode::INTERNAL_SERVER_ERROR);
                let error = error_of(status, &HeaderMap::new(), body.as_bytes());
                let outcome = if welcome {
                    Outcome::Failed {
                        code: error.code(),
                        message: format!("Created, but the invitation was not sent: {error}"),
                    }
                } else {
                    single::failed(&error)
                };
                shared.report(item.index, item.report(None, outcome));
            }
        }
    }
    if !refused.is_empty() {
        let wait = pause.unwrap_or(Duration::from_secs(1));
        if wait > shared.options.max_pause {
            shared.halt(super::Stop {
                code: crate::error::Code::RateLimited,
                message: format!(
                    "The server asked to wait {}, longer than this job waits; retry the rest \
                     later.",
                    wait_words(wait)
                ),
            });
        } else {
            shared.gate.pause(wait);
        }
        // Refused operations did nothing: the same batch again, after the pause.
        let work = if refused.len() == 1 {
            refused
                .into_iter()
                .map(|item| Work::One(Box::new(item)))
                .collect()
        } else {
            vec![Work::Batch(refused)]
        };
        for work in work {
            shared.queue.push(work);
        }
    }
    next
}

/// The user a successful operation produced: from its `response` when the provider
/// sends the resource, else read from its location (or the id we know).
async fn answered_user(shared: &Shared, item: &Item, result: &OpResult) -> Option<User> {
    if let Some(user) = result
        .response
        .as_ref()
        .filter(|r| r.get("id").is_some())
        .and_then(|r| User::from_json(r.clone()).ok())
    {
        return Some(user);
    }
    let id = match (&item.subject, &item.record) {
        (Subject::Existing(id), _) => id.clone(),
        (Subject::New(_), Some(created)) => created.id.clone()?,
        (Subject::New(_), None) => result
            .location
            .as_deref()?
            .trim_end_matches('/')
            .rsplit('/')
            .next()?
            .to_owned(),
    };
    shared
        .finish(|| async { shared.client.users().get(&id).await })
        .await
        .ok()
        .map(|got| got.value)
}

/// Puts members back for the one-user path; `uncertain` when their writes may have been
/// made.
fn requeue(shared: &Shared, members: Vec<Item>, uncertain: bool) {
    for mut item in members {
        item.uncertain |= uncertain;
        shared.queue.push(Work::One(Box::new(item)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_are_read_in_every_shape() {
        assert_eq!(status_of(&json!("201")), Some(201));
        assert_eq!(status_of(&json!("409 Conflict")), Some(409));
        assert_eq!(status_of(&json!(200)), Some(200));
        assert_eq!(status_of(&json!({"code": "412"})), Some(412));
        assert_eq!(status_of(&json!(null)), None);
    }

    #[test]
    fn results_find_their_operations_by_bulk_id() {
        let response = json!({
            "schemas": [muster_scim::urn::BULK_RESPONSE],
            "Operations": [
                {"method": "POST", "bulkId": "b3", "status": "201", "location": "https://x/Users/u3"},
                {"method": "PATCH", "bulkId": "b1", "status": "412",
                 "response": {"status": "412", "detail": "changed"}},
                {"method": "POST", "status": "200"},
            ],
        });
        let results = results_of(&response);
        assert_eq!(
            results.len(),
            2,
            "an operation without a bulkId cannot be matched"
        );
        assert_eq!(results["b3"].status, 201);
        assert_eq!(
            results["b3"].location.as_deref(),
            Some("https://x/Users/u3")
        );
        assert_eq!(results["b1"].status, 412);
    }
}
