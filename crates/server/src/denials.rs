//! Refused writes without credentials (a scanner, a script with a missing token) are not
//! written one audit row each: they are counted per client address and organisation per
//! minute, and each minute becomes one row (`denied.anonymous`, with the count, the
//! routes tried and the statuses) once it is over. A flood from one address is then one
//! row a minute, not a buried log.
//!
//! The counts are in memory until written: when a later denial arrives, when
//! [`spawn_flush`]'s timer runs (every 30 seconds), or on [`flush`]. A crash loses at most
//! the current minute's counts. Refusals of a caller with a token (whoever it names) are
//! still written one by one by [`crate::audit::denied_layer`].

use std::collections::{BTreeSet, HashMap};
use std::net::IpAddr;
use std::sync::{Mutex, PoisonError};

use serde_json::json;
use time::OffsetDateTime;

use crate::AppState;
use crate::audit::{self, Actor, Entry, Outcome};

/// Keys tracked before every count is written early.
const MAX_KEYS: usize = 10_000;
/// Routes kept per minute and key (the count covers all of them).
const MAX_ROUTES: usize = 10;

/// The counts of the current minute, per client address and organisation.
#[derive(Debug, Default)]
pub struct Denials {
    buckets: Mutex<HashMap<(Option<IpAddr>, String), Bucket>>,
}

#[derive(Debug)]
struct Bucket {
    minute: OffsetDateTime,
    count: u32,
    routes: BTreeSet<String>,
    statuses: BTreeSet<u16>,
}

/// One minute of one client's refused anonymous writes in one organisation.
#[derive(Debug, Clone)]
pub struct Minute {
    client: Option<IpAddr>,
    org: String,
    minute: OffsetDateTime,
    count: u32,
    routes: Vec<String>,
    statuses: Vec<u16>,
}

fn minute_of(at: OffsetDateTime) -> OffsetDateTime {
    at.replace_second(0)
        .and_then(|at| at.replace_nanosecond(0))
        .unwrap_or(at)
}

impl Denials {
    /// Counts a refused anonymous write of `route` in `org` from `client`; returns the
    /// minutes that are over, to be written.
    pub fn count(
        &self,
        client: Option<IpAddr>,
        org: &str,
        route: String,
        status: u16,
        now: OffsetDateTime,
    ) -> Vec<Minute> {
        let minute = minute_of(now);
        let mut buckets = self.buckets.lock().unwrap_or_else(PoisonError::into_inner);
        let mut over = take(&mut buckets, |bucket| bucket.minute < minute);
        if buckets.len() >= MAX_KEYS {
            over.extend(take(&mut buckets, |_| true));
        }
        let bucket = buckets
            .entry((client, org.to_owned()))
            .or_insert_with(|| Bucket {
                minute,
                count: 0,
                routes: BTreeSet::new(),
                statuses: BTreeSet::new(),
            });
        bucket.count = bucket.count.saturating_add(1);
        if bucket.routes.len() < MAX_ROUTES {
            bucket.routes.insert(route);
        }
        bucket.statuses.insert(status);
        over
    }

    /// Takes the minutes that are over at `now` (every one, with `all`).
    pub fn take_over(&self, now: OffsetDateTime, all: bool) -> Vec<Minute> {
        let minute = minute_of(now);
        let mut buckets = self.buckets.lock().unwrap_or_else(PoisonError::into_inner);
        take(&mut buckets, |bucket| all || bucket.minute < minute)
    }
}

fn take(
    buckets: &mut HashMap<(Option<IpAddr>, String), Bucket>,
    over: impl Fn(&Bucket) -> bool,
) -> Vec<Minute> {
    let keys: Vec<_> = buckets
        .iter()
        .filter(|(_, bucket)| over(bucket))
        .map(|(key, _)| key.clone())
        .collect();
    keys.into_iter()
        .filter_map(|key| {
            let bucket = buckets.remove(&key)?;
            Some(Minute {
                client: key.0,
                org: key.1,
                minute: bucket.minute,
                count: bucket.count,
                routes: bucket.routes.into_iter().collect(),
                statuses: bucket.statuses.into_iter().collect(),
            })
        })
        .collect()
}

/// Writes `minutes` to the audit log, one row each (in the organisation's log when it
/// exists). Best effort: a failure is logged.
pub async fn write(state: &AppState, minutes: Vec<Minute>) {
    if minutes.is_empty() {
        return;
    }
    let now = state.clock.now();
    let result = state
        .db
        .write(move |tx| {
            for minute in &minutes {
                let known = crate::orgs::org_exists(tx, &minute.org)?;
                let entry = Entry {
                    org: known.then_some(minute.org.as_str()),
                    actor: Actor::anonymous(),
                    action: "denied.anonymous",
                    target_id: None,
                    target_name: None,
                    client: minute.client,
                    outcome: Outcome::Denied,
                    detail: json!({
                        "minute": crate::auth::stamp(minute.minute),
                        "count": minute.count,
                        "routes": minute.routes,
                        "statuses": minute.statuses,
                    }),
                };
                audit::record(tx, &entry, now)?;
            }
            Ok(())
        })
        .await;
    if let Err(error) = result {
        tracing::warn!(%error, "could not record refused anonymous writes in the audit log");
    }
}

/// Writes the minutes that are over (every count, with `all`: at shutdown, in tests).
pub async fn flush(state: &AppState, all: bool) {
    let minutes = state.denials.take_over(state.clock.now(), all);
    write(state, minutes).await;
}

/// Writes the minutes that are over every 30 seconds, for as long as the runtime runs.
pub fn spawn_flush(state: AppState) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(30));
        loop {
            tick.tick().await;
            flush(&state, false).await;
        }
    });
}

#[cfg(test)]
mod tests {
    use time::Duration;
    use time::macros::datetime;

    use super::*;

    const T0: OffsetDateTime = datetime!(2030-01-01 09:00:10 UTC);

    #[test]
    fn one_minute_of_one_client_is_one_count() {
        let denials = Denials::default();
        let client = Some(IpAddr::from([192, 0, 2, 7]));
        for n in 0..50 {
            let over = denials.count(
                client,
                "acme",
                format!("POST /o/{{org}}/r{}", n % 20),
                401,
                T0 + Duration::seconds(n % 40),
            );
            assert!(over.is_empty(), "the minute is not over");
        }
        let other = denials.count(None, "acme", "POST /x".into(), 401, T0);
        assert!(other.is_empty());
        let over = denials.count(
            client,
            "acme",
            "POST /y".into(),
            401,
            T0 + Duration::minutes(1),
        );
        assert_eq!(over.len(), 2, "both keys' first minute is over");
        let mine = over.iter().find(|m| m.client == client).unwrap();
        assert_eq!(mine.count, 50);
        assert_eq!(
            mine.routes.len(),
            MAX_ROUTES,
            "routes are capped, the count is not"
        );
        assert_eq!(mine.minute, datetime!(2030-01-01 09:00 UTC));
        let rest = denials.take_over(T0 + Duration::minutes(1), true);
        assert_eq!(rest.len(), 1);
        assert_eq!(rest[0].count, 1);
    }
}
