//! The API rate limit: a token bucket per authenticated account for every request under
//! the SCIM API, kept by `governor`'s keyed generic-cell-rate limiter (one timestamp per
//! account, the "theoretical arrival time"; one hash and one short lock per request).
//! What is ours: the key (the SHA-256 digest of the account's [`account_key`]), the
//! clock, the bound on memory, and the 429 with `Retry-After`.
//!
//! [`account_key`]: super::account_key

use std::num::NonZeroU32;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{PoisonError, RwLock, RwLockReadGuard};

use axum::extract::{FromRequestParts, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use governor::clock::Clock as _;
use governor::middleware::NoOpMiddleware;
use governor::state::keyed::HashMapStateStore;
use governor::{Quota, RateLimiter};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use super::{ApiRate, Limits, SWEEP_EVERY, wait_text};
use crate::auth::Caller;
use crate::error::{AppError, AppResult};
use crate::{AppState, Clock};

/// The server's clock as `governor` reads it: the time since the Unix epoch. A limiter
/// reads its own clock; this one follows the injected one, so a test that moves the
/// server's time refills the buckets too.
#[derive(Debug, Clone)]
struct ServerTime(Clock);

impl governor::clock::Clock for ServerTime {
    type Instant = std::time::Duration;

    fn now(&self) -> std::time::Duration {
        // A clock before 1970 reads as 1970: no bucket refills until it is past it.
        std::time::Duration::try_from(self.0.now() - OffsetDateTime::UNIX_EPOCH).unwrap_or_default()
    }
}

type Limiter = RateLimiter<
    [u8; 32],
    HashMapStateStore<[u8; 32]>,
    ServerTime,
    NoOpMiddleware<std::time::Duration>,
>;

/// Every account's bucket.
#[derive(Debug)]
pub(super) struct Buckets {
    quota: Quota,
    clock: ServerTime,
    /// Written only to start afresh when the table is full (see [`Buckets::sweep`]).
    limiter: RwLock<Limiter>,
    requests: AtomicUsize,
}

impl Buckets {
    fn new(quota: Quota, clock: &Clock) -> Self {
        let clock = ServerTime(clock.clone());
        Self {
            quota,
            limiter: RwLock::new(RateLimiter::hashmap_with_clock(quota, clock.clone())),
            clock,
            requests: AtomicUsize::new(0),
        }
    }

    /// Takes one request from the bucket of `key`, or says how long until it holds one
    /// (a refused request takes nothing).
    fn take(&self, key: &[u8; 32], max_keys: usize) -> Result<(), std::time::Duration> {
        let (taken, tracked) = {
            let limiter = self.read();
            let taken = limiter
                .check_key(key)
                .map_err(|refused| refused.wait_time_from(self.clock.now()));
            (taken, limiter.len())
        };
        let requests = self
            .requests
            .fetch_add(1, Ordering::Relaxed)
            .wrapping_add(1);
        if tracked > max_keys || requests.is_multiple_of(SWEEP_EVERY) {
            self.sweep(max_keys);
        }
        taken
    }

    /// Drops the buckets that have refilled (they are the same as no bucket); if more
    /// than `max_keys` accounts are still mid-burst, starts every bucket afresh.
    /// `governor` drops only keys that have refilled, never chosen ones (such as the
    /// stalest); a table that full means `max_keys` accounts each sent a request within
    /// the last few seconds, which is itself worth the warning.
    fn sweep(&self, max_keys: usize) {
        {
            let limiter = self.read();
            limiter.retain_recent();
            if limiter.len() <= max_keys {
                return;
            }
        }
        let mut limiter = self.limiter.write().unwrap_or_else(PoisonError::into_inner);
        let dropped = limiter.len();
        if dropped > max_keys {
            *limiter = RateLimiter::hashmap_with_clock(self.quota, self.clock.clone());
            tracing::warn!(
                dropped,
                "API rate-limit table full of accounts mid-burst; every bucket starts afresh"
            );
        }
    }

    fn read(&self) -> RwLockReadGuard<'_, Limiter> {
        // The limiter stays usable if a thread panicked while holding the lock.
        self.limiter.read().unwrap_or_else(PoisonError::into_inner)
    }
}

impl ApiRate {
    /// The quota `governor` keeps: one request every `1 / per_second` seconds, bursts of
    /// `burst`; `None` when there is no limit.
    fn quota(self) -> Option<Quota> {
        let per_second = NonZeroU32::new(self.per_second)?;
        let burst = NonZeroU32::new(self.burst).unwrap_or(NonZeroU32::MIN);
        Some(Quota::per_second(per_second).allow_burst(burst))
    }
}

impl Limits {
    /// Takes one request from the API bucket of `key` (an [`account_key`]), or refuses
    /// with 429 and `Retry-After`: the whole seconds (at least 1) until the bucket holds a
    /// request again. A refused request takes nothing.
    ///
    /// The buckets read the time from `clock` (the server's, `AppState::clock`); they are
    /// made at the first call, and keep the clock of that call. Buckets that have refilled
    /// are dropped every thousand requests or so, and when more than
    /// [`LimitSettings::max_keys`] are tracked; if that many accounts are all mid-burst,
    /// every bucket starts afresh.
    ///
    /// [`LimitSettings::max_keys`]: super::LimitSettings::max_keys
    /// [`account_key`]: super::account_key
    pub fn take_api(&self, key: &str, clock: &Clock) -> AppResult<()> {
        let rate = self.settings.api;
        let Some(quota) = rate.quota() else {
            return Ok(());
        };
        let buckets = self.api.get_or_init(|| Buckets::new(quota, clock));
        let key: [u8; 32] = Sha256::digest(key.as_bytes()).into();
        buckets.take(&key, self.settings.max_keys).map_err(|wait| {
            let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
            api_refusal(rate, seconds.max(1))
        })
    }

    /// How many API buckets are tracked, for tests of the memory bound.
    pub fn tracked_buckets(&self) -> usize {
        self.api.get().map_or(0, |buckets| buckets.read().len())
    }
}

fn api_refusal(rate: ApiRate, retry_after: u64) -> AppError {
    AppError::too_many_requests(
        retry_after,
        format!(
            "Too many requests from this account: the API allows {} a second, in bursts of up \
             to {}. Try again in {}.",
            rate.per_second,
            rate.burst.max(1),
            wait_text(retry_after)
        ),
    )
}

/// Middleware on the SCIM routes: resolves the caller and takes one request from its
/// account's API bucket, answering 429 when it is empty. The resolved caller is left in
/// the request's extensions, so the handler does not look the token up again. Requests
/// without valid credentials pass through uncounted, to be refused with 401 by the
/// handler.
pub async fn api_layer(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let (mut parts, body) = request.into_parts();
    if let Ok(caller) = Caller::from_request_parts(&mut parts, &state).await {
        if let Err(refusal) = state.limits.take_api(&caller.account_key(), &state.clock) {
            return refusal.into_response();
        }
        parts.extensions.insert(caller);
    }
    next.run(Request::from_parts(parts, body)).await
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use std::sync::{Arc, Mutex};

    use time::Duration;
    use time::macros::datetime;

    use super::*;
    use crate::ratelimit::LimitSettings;

    /// A server clock standing at 2030-01-01 09:00 UTC until moved.
    struct TestTime(Arc<Mutex<OffsetDateTime>>);

    impl TestTime {
        fn new() -> Self {
            Self(Arc::new(Mutex::new(datetime!(2030-01-01 09:00 UTC))))
        }

        fn clock(&self) -> Clock {
            let now = self.0.clone();
            Clock::from_fn(move || *now.lock().unwrap())
        }

        fn advance(&self, by: Duration) {
            *self.0.lock().unwrap() += by;
        }
    }

    fn limits(api: ApiRate, max_keys: usize) -> Limits {
        Limits::with_settings(LimitSettings {
            api,
            max_keys,
            ..LimitSettings::default()
        })
    }

    #[test]
    fn the_api_bucket_allows_a_burst_then_the_sustained_rate() {
        let limits = limits(ApiRate::new(10, 20), 100);
        let time = TestTime::new();
        let clock = time.clock();
        for n in 0..20 {
            assert!(
                limits.take_api("a", &clock).is_ok(),
                "request {n} of the burst of 20 is allowed"
            );
        }
        let refused = limits.take_api("a", &clock).unwrap_err();
        assert_eq!(refused.status, 429, "the 21st at once is refused");
        assert_eq!(
            refused.retry_after,
            Some(1),
            "a tenth of a second is rounded up to a whole second"
        );
        assert!(
            limits.take_api("b", &clock).is_ok(),
            "another account has its own bucket"
        );
        time.advance(Duration::seconds(1));
        for n in 0..10 {
            assert!(
                limits.take_api("a", &clock).is_ok(),
                "a second later, 10 more (the sustained rate) are allowed: {n}"
            );
        }
        assert!(
            limits.take_api("a", &clock).is_err(),
            "and not an 11th: refused requests took nothing from the bucket"
        );
        time.advance(Duration::minutes(1));
        assert!(
            limits.take_api("a", &clock).is_ok(),
            "after a quiet spell the bucket is full again"
        );
    }

    #[test]
    fn the_api_retry_after_covers_a_slow_rate() {
        let limits = limits(ApiRate::new(1, 1), 100);
        let time = TestTime::new();
        let clock = time.clock();
        limits.take_api("a", &clock).unwrap();
        let refused = limits.take_api("a", &clock).unwrap_err();
        assert_eq!(
            refused.retry_after,
            Some(1),
            "one a second: wait one second"
        );
        time.advance(Duration::milliseconds(400));
        let refused = limits.take_api("a", &clock).unwrap_err();
        assert_eq!(refused.retry_after, Some(1), "0.6 s is rounded up");
        time.advance(Duration::milliseconds(600));
        assert!(
            limits.take_api("a", &clock).is_ok(),
            "and then it is allowed"
        );
        let slow = self::limits(ApiRate::new(1, 3), 100);
        for _ in 0..3 {
            slow.take_api("a", &clock).unwrap();
        }
        assert_eq!(
            slow.take_api("a", &clock).unwrap_err().retry_after,
            Some(1),
            "after a burst, one more after one interval"
        );
        let off = self::limits(ApiRate::new(0, 0), 100);
        for _ in 0..1000 {
            assert!(
                off.take_api("a", &clock).is_ok(),
                "a rate of 0 means no limit"
            );
        }
        assert_eq!(off.tracked_buckets(), 0, "and no buckets");
    }

    #[test]
    fn api_buckets_are_bounded() {
        let limits = limits(ApiRate::new(100, 600), 10);
        let time = TestTime::new();
        let clock = time.clock();
        for n in 0..100 {
            limits.take_api(&format!("account {n}"), &clock).unwrap();
            assert!(
                limits.tracked_buckets() <= 10,
                "no more buckets than the limit: {}",
                limits.tracked_buckets()
            );
            time.advance(Duration::milliseconds(1));
        }
        let full = self::limits(ApiRate::new(100, 600), 10);
        for n in 0..10 {
            full.take_api(&format!("account {n}"), &clock).unwrap();
        }
        assert_eq!(full.tracked_buckets(), 10);
        time.advance(Duration::hours(1));
        full.take_api("late", &clock)
            .expect("a new account is served");
        assert_eq!(
            full.tracked_buckets(),
            1,
            "buckets that have refilled are swept to make room"
        );
    }

    #[test]
    fn refilled_buckets_are_swept_regularly() {
        let limits = limits(ApiRate::new(100, 600), 100_000);
        let time = TestTime::new();
        let clock = time.clock();
        for n in 0..SWEEP_EVERY - 1 {
            limits.take_api(&n.to_string(), &clock).unwrap();
        }
        assert_eq!(limits.tracked_buckets(), SWEEP_EVERY - 1);
        time.advance(Duration::seconds(10));
        limits.take_api("late", &clock).unwrap();
        assert_eq!(
            limits.tracked_buckets(),
            1,
            "every {SWEEP_EVERY} requests, buckets that have refilled are dropped"
        );
    }
}
