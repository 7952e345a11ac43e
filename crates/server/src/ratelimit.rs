//! Rate limits: in-memory sliding windows of recent events, keyed by a [`Scope`] and a key
//! (an account, a client address, a user), read against the injectable clock so tests can
//! move time.
//!
//! Callers decide what an event is. Sign-in counts *failures* only: [`Limits::check`]
//! before trying, [`Limits::hit`] when the attempt fails, [`Limits::clear`] the account's
//! window when a sign-in succeeds. Link sending counts *every* send: check, then hit.
//!
//! Memory is bounded: keys are stored as SHA-256 digests (fixed size, whatever the client
//! sent), each window keeps at most `max` timestamps, windows that have emptied are swept
//! regularly, and past [`LimitSettings::max_keys`] the stalest windows are dropped.
//!
//! The counters live in one process and reset when it restarts; a server run behind a load
//! balancer as several processes would need a shared store instead.

use std::collections::{HashMap, VecDeque};
use std::convert::Infallible;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Mutex, MutexGuard, PoisonError};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use sha2::{Digest, Sha256};
use time::{Duration, OffsetDateTime};

use crate::error::{AppError, AppResult};

/// What is being limited. Each scope has its own [`Rule`] and its own key space.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scope {
    /// Failed sign-ins of one account (key: organisation and account, see
    /// [`account_key`]); cleared by a successful sign-in.
    SignInAccount,
    /// Failed sign-ins (passwords and two-factor codes) from one client address.
    SignInClient,
    /// Emails with links (welcome, reset, magic link) sent to one user (key: user id).
    LinkUser,
    /// Emails with links requested from one client address.
    LinkClient,
    /// Wrong two-factor codes for one account, across challenges.
    MfaCode,
}

impl Scope {
    fn refusal(self, retry_after: u64) -> AppError {
        let wait = wait_text(retry_after);
        let detail = match self {
            Self::SignInAccount => format!(
                "Too many failed sign-ins for this account; it is locked for now. Try again in \
                 {wait}, or ask an admin to send a password-reset link."
            ),
            Self::SignInClient => {
                format!("Too many failed sign-ins from this address; try again in {wait}.")
            }
            Self::LinkUser => format!(
                "Too many emails have been sent to this user recently; try again in {wait}."
            ),
            Self::LinkClient => {
                format!(
                    "Too many emails have been requested from this address; try again in {wait}."
                )
            }
            Self::MfaCode => {
                format!("Too many wrong two-factor codes for this account; try again in {wait}.")
            }
        };
        AppError::too_many_requests(retry_after, detail)
    }
}

fn wait_text(seconds: u64) -> String {
    match seconds {
        0..=1 => "1 second".to_owned(),
        2..=90 => format!("{seconds} seconds"),
        _ => format!("{} minutes", seconds.div_ceil(60)),
    }
}

/// At most `max` events per sliding `window`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    /// Events allowed within any one window; the next one is refused.
    pub max: u32,
    /// How far back events count.
    pub window: Duration,
}

impl Rule {
    /// `max` events per `window`.
    pub const fn new(max: u32, window: Duration) -> Self {
        Self { max, window }
    }
}

/// The rule of every scope, and how many keys may be tracked at once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LimitSettings {
    /// Failed sign-ins per account: 5 per 15 minutes.
    pub sign_in_account: Rule,
    /// Failed sign-ins per client address: 20 per 15 minutes.
    pub sign_in_client: Rule,
    /// Link emails per user: 5 per hour.
    pub link_user: Rule,
    /// Link emails per client address: 30 per hour.
    pub link_client: Rule,
    /// Wrong two-factor codes per account: 5 per 15 minutes.
    pub mfa_code: Rule,
    /// Keys tracked across all scopes before the stalest are dropped: 100,000.
    pub max_keys: usize,
}

impl Default for LimitSettings {
    fn default() -> Self {
        Self {
            sign_in_account: Rule::new(5, Duration::minutes(15)),
            sign_in_client: Rule::new(20, Duration::minutes(15)),
            link_user: Rule::new(5, Duration::hours(1)),
            link_client: Rule::new(30, Duration::hours(1)),
            mfa_code: Rule::new(5, Duration::minutes(15)),
            max_keys: 100_000,
        }
    }
}

impl LimitSettings {
    /// The rule for `scope`.
    pub fn rule(&self, scope: Scope) -> Rule {
        match scope {
            Scope::SignInAccount => self.sign_in_account,
            Scope::SignInClient => self.sign_in_client,
            Scope::LinkUser => self.link_user,
            Scope::LinkClient => self.link_client,
            Scope::MfaCode => self.mfa_code,
        }
    }
}

type Key = (Scope, [u8; 32]);

/// Recent events of every scope and key; shared by all requests (`AppState::limits`).
#[derive(Debug)]
pub struct Limits {
    settings: LimitSettings,
    windows: Mutex<Windows>,
}

#[derive(Debug, Default)]
struct Windows {
    events: HashMap<Key, VecDeque<OffsetDateTime>>,
    hits_since_sweep: usize,
}

/// Sweep emptied windows after this many hits.
const SWEEP_EVERY: usize = 1024;

impl Default for Limits {
    fn default() -> Self {
        Self::with_settings(LimitSettings::default())
    }
}

impl Limits {
    /// Limits with the given rules.
    pub fn with_settings(settings: LimitSettings) -> Self {
        Self {
            settings,
            windows: Mutex::new(Windows::default()),
        }
    }

    /// The rules in force.
    pub fn settings(&self) -> &LimitSettings {
        &self.settings
    }

    /// `Ok` if another event of `scope` for `key` is allowed at `now`; otherwise 429 with
    /// `Retry-After` set to the seconds until the oldest counted event leaves the window.
    /// Checking records nothing.
    pub fn check(&self, scope: Scope, key: &str, now: OffsetDateTime) -> AppResult<()> {
        let rule = self.settings.rule(scope);
        let mut windows = self.lock();
        let Some(events) = windows.events.get_mut(&digest(scope, key)) else {
            return Ok(());
        };
        prune(events, rule, now);
        if events.len() < usize::try_from(rule.max).unwrap_or(usize::MAX) {
            return Ok(());
        }
        let oldest = events.front().copied().unwrap_or(now);
        let wait = (oldest + rule.window - now).whole_seconds().max(1);
        Err(scope.refusal(u64::try_from(wait).unwrap_or(1)))
    }

    /// Records one event of `scope` for `key` at `now`.
    pub fn hit(&self, scope: Scope, key: &str, now: OffsetDateTime) {
        let rule = self.settings.rule(scope);
        let max = usize::try_from(rule.max).unwrap_or(usize::MAX).max(1);
        let key = digest(scope, key);
        let mut windows = self.lock();
        windows.hits_since_sweep += 1;
        if windows.hits_since_sweep >= SWEEP_EVERY
            || (windows.events.len() >= self.settings.max_keys
                && !windows.events.contains_key(&key))
        {
            windows.hits_since_sweep = 0;
            self.sweep(&mut windows, now);
        }
        let events = windows.events.entry(key).or_default();
        prune(events, rule, now);
        events.push_back(now);
        while events.len() > max {
            events.pop_front();
        }
    }

    /// Forgets the events of `scope` for `key` (a successful sign-in clears its account).
    pub fn clear(&self, scope: Scope, key: &str) {
        self.lock().events.remove(&digest(scope, key));
    }

    /// How many keys are tracked, for tests of the memory bound.
    pub fn tracked_keys(&self) -> usize {
        self.lock().events.len()
    }

    /// Drops emptied windows, then, if the table is still full, the tenth of windows whose
    /// latest event is oldest.
    fn sweep(&self, windows: &mut Windows, now: OffsetDateTime) {
        windows.events.retain(|(scope, _), events| {
            prune(events, self.settings.rule(*scope), now);
            !events.is_empty()
        });
        if windows.events.len() < self.settings.max_keys {
            return;
        }
        // Make room for a tenth more, so a flood of new keys does not sweep on every hit.
        let limit = self.settings.max_keys - self.settings.max_keys.div_ceil(10);
        let mut latest: Vec<(OffsetDateTime, Key)> = windows
            .events
            .iter()
            .map(|(key, events)| (events.back().copied().unwrap_or(now), *key))
            .collect();
        latest.sort_unstable_by_key(|(at, _)| *at);
        let excess = windows.events.len() - limit;
        for (_, key) in latest.into_iter().take(excess) {
            windows.events.remove(&key);
        }
        tracing::warn!(
            dropped = excess,
            "rate-limit table full; dropped the stalest windows"
        );
    }

    fn lock(&self) -> MutexGuard<'_, Windows> {
        // The counters stay usable if a thread panicked while holding them: at worst a
        // window is missing an event.
        self.windows.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Drops events that have left the window.
fn prune(events: &mut VecDeque<OffsetDateTime>, rule: Rule, now: OffsetDateTime) {
    while events.front().is_some_and(|at| *at + rule.window <= now) {
        events.pop_front();
    }
}

fn digest(scope: Scope, key: &str) -> Key {
    (scope, Sha256::digest(key.as_bytes()).into())
}

/// The [`Scope::SignInAccount`] (and [`Scope::MfaCode`]) key of an existing account: its
/// organisation (`None` for system admins) and id, so that signing in by email or by
/// userName counts against the same window.
pub fn account_key(org: Option<&str>, account_id: &str) -> String {
    format!("{}\u{0}id\u{0}{account_id}", org.unwrap_or(""))
}

/// The [`Scope::SignInAccount`] key of a login that matches no account: the organisation
/// and the login, folded. Kept apart from [`account_key`], so typing someone's id as a
/// login does not count against their account.
pub fn login_key(org: Option<&str>, login: &str) -> String {
    format!(
        "{}\u{0}login\u{0}{}",
        org.unwrap_or(""),
        login.trim().to_lowercase()
    )
}

/// The address the request came from, from axum's `ConnectInfo<SocketAddr>` (present when
/// the server is served with `into_make_service_with_connect_info::<SocketAddr>()`);
/// `None` otherwise. Never fails. `X-Forwarded-For` is not trusted: a proxy in front of
/// the server would need its own limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddr(pub Option<IpAddr>);

impl ClientAddr {
    /// The address as text, for audit entries and rate-limit keys.
    pub fn key(&self) -> Option<String> {
        self.0.map(|ip| ip.to_canonical().to_string())
    }

    /// The address of a request's parts.
    pub fn of(parts: &Parts) -> Self {
        Self(
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|ConnectInfo(addr)| addr.ip().to_canonical()),
        )
    }
}

impl<S: Send + Sync> FromRequestParts<S> for ClientAddr {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Infallible> {
        Ok(Self::of(parts))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use time::macros::datetime;

    use super::*;

    const T0: OffsetDateTime = datetime!(2030-01-01 09:00 UTC);

    #[test]
    fn the_max_plus_first_event_is_refused_until_the_window_clears() {
        let limits = Limits::default();
        for n in 0..5 {
            limits
                .check(Scope::SignInAccount, "a", T0 + Duration::minutes(n))
                .expect("the first five are allowed");
            limits.hit(Scope::SignInAccount, "a", T0 + Duration::minutes(n));
        }
        let error = limits
            .check(Scope::SignInAccount, "a", T0 + Duration::minutes(5))
            .unwrap_err();
        assert_eq!(error.status, 429, "the sixth is refused");
        assert_eq!(
            error.retry_after,
            Some(10 * 60),
            "until the first event, at T0, leaves the 15-minute window"
        );
        assert!(
            limits
                .check(Scope::SignInClient, "a", T0 + Duration::minutes(5))
                .is_ok(),
            "scopes do not share windows"
        );
        assert!(
            limits
                .check(Scope::SignInAccount, "a", T0 + Duration::minutes(15))
                .is_ok(),
            "sliding: once the oldest event is 15 minutes old one more is allowed"
        );
        limits.clear(Scope::SignInAccount, "a");
        assert!(
            limits
                .check(Scope::SignInAccount, "a", T0 + Duration::minutes(5))
                .is_ok(),
            "clearing forgets the window"
        );
    }

    #[test]
    fn memory_is_bounded() {
        let limits = Limits::with_settings(LimitSettings {
            max_keys: 10,
            ..LimitSettings::default()
        });
        for n in 0..100 {
            limits.hit(
                Scope::LinkClient,
                &format!("client {n}"),
                T0 + Duration::seconds(n),
            );
        }
        assert!(
            limits.tracked_keys() <= 10,
            "no more keys than the limit: {}",
            limits.tracked_keys()
        );
        assert!(
            limits
                .check(Scope::LinkClient, "client 99", T0 + Duration::seconds(99))
                .is_ok(),
            "the newest keys are kept"
        );
        let long = "x".repeat(100_000);
        limits.hit(Scope::LinkUser, &long, T0);
        for _ in 0..10 {
            limits.hit(Scope::LinkUser, "u", T0);
        }
        assert!(
            limits.check(Scope::LinkUser, "u", T0).is_err(),
            "a window keeps counting while it holds at most `max` events"
        );
    }

    #[test]
    fn expired_windows_are_swept() {
        let limits = Limits::default();
        for n in 0..SWEEP_EVERY - 1 {
            limits.hit(Scope::SignInClient, &n.to_string(), T0);
        }
        limits.hit(Scope::SignInClient, "late", T0 + Duration::hours(1));
        assert!(
            limits.tracked_keys() < 10,
            "windows whose events have all expired are dropped: {}",
            limits.tracked_keys()
        );
    }

    #[test]
    fn waits_read_well() {
        assert_eq!(wait_text(1), "1 second", "singular");
        assert_eq!(wait_text(45), "45 seconds", "short waits in seconds");
        assert_eq!(wait_text(600), "10 minutes", "whole minutes, rounded up");
        assert_eq!(wait_text(601), "11 minutes", "rounded up");
    }
}
