//! Rate limits, read against the injectable clock so tests can move time.
//!
//! - Sliding windows of recent events, keyed by a [`Scope`] and a key (an account, a
//!   client address, a user). Callers decide what an event is. Sign-in counts *failures*
//!   only: [`Limits::check`] before trying, [`Limits::hit`] when the attempt fails,
//!   [`Limits::clear`] the account's window when a sign-in succeeds. Link sending counts
//!   *every* send: check, then hit.
//! - A token bucket per authenticated account for every request under the SCIM API
//!   ([`api_layer`], [`Limits::take_api`]): [`ApiRate::per_second`] sustained, with bursts
//!   of up to [`ApiRate::burst`] requests, kept by `governor` (the `api` module).
//!
//! The windows are our own, not `governor`'s: a generic-cell-rate limiter is a token
//! bucket that refills continuously and can only test and take at once. The windows
//! need what it cannot give: [`Limits::check`] asks without counting (an attempt counts
//! only once it has failed, or an email once it is sent); a refusal lasts until the
//! oldest counted event leaves the window (the sixth wrong password in 15 minutes waits
//! for the first to be 15 minutes old, where a bucket of 5 per 15 minutes would hand
//! one back every 3); [`Limits::hit`] tells how many events the window holds, so that
//! the sign-in that reaches [`LimitSettings::sign_in_account`] locks the account and is
//! audited once; and [`Limits::clear`] forgets one key when a sign-in succeeds.
//!
//! Memory is bounded: keys are stored as SHA-256 digests (fixed size, whatever the client
//! sent), each window keeps at most `max` timestamps, windows and buckets that have emptied
//! are swept regularly, and past [`LimitSettings::max_keys`] the stalest windows are
//! dropped, and the buckets as [`Limits::take_api`] says.
//!
//! The counters live in one process and reset when it restarts; a server run behind a load
//! balancer as several processes would need a shared store instead.

mod api;

pub use api::api_layer;

use std::collections::{HashMap, VecDeque};
use std::convert::Infallible;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Mutex, MutexGuard, OnceLock, PoisonError};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use sha2::{Digest, Sha256};
use time::{Duration, OffsetDateTime};

use crate::error::{AppError, AppResult};

/// What is being limited. Each scope has its own [`Rule`] and its own key space.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scope {
    /// Failed sign-ins of one account from everywhere together (key: organisation and
    /// account, see [`account_key`]): a high ceiling, reached only by an attack from many
    /// addresses; reaching it locks the account for the window (and is audited). Cleared
    /// by a successful sign-in.
    SignInAccount,
    /// Failed sign-ins of one account from one client address (key:
    /// [`account_client_key`]): the limit a guesser meets, while the account's owner,
    /// elsewhere, still signs in. Cleared by a successful sign-in from that address.
    SignInAccountClient,
    /// Failed sign-ins (passwords and two-factor codes) from one client address.
    SignInClient,
    /// Emails with links (welcome, reset, magic link) sent to one user (key: user id).
    LinkUser,
    /// Emails with links requested from one client address without signing in. No
    /// endpoint lets end users ask for a link yet (admins send them, counted by
    /// [`Scope::LinkSender`]); a forgot-password page would count its requests here.
    LinkClient,
    /// Emails with links sent by one signed-in account (an admin, an API token's user or a
    /// system admin; key: [`account_key`]), so one admin can invite a whole shop but a
    /// stolen token cannot flood inboxes.
    LinkSender,
    /// Wrong two-factor codes for one account, across challenges.
    MfaCode,
    /// Wrong two-factor codes for one account in a day: the overall cap.
    MfaCodeDaily,
}

impl Scope {
    fn refusal(self, retry_after: u64) -> AppError {
        let wait = wait_text(retry_after);
        let detail = match self {
            Self::SignInAccount => format!(
                "Too many failed sign-ins for this account from many places; it is locked for \
                 now. Try again in {wait}, or ask an admin to send a password-reset link."
            ),
            Self::SignInAccountClient => format!(
                "Too many failed sign-ins for this account from this address; try again in \
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
            Self::LinkSender => format!(
                "This account has sent too many emails with links recently; try again in {wait}."
            ),
            Self::MfaCode | Self::MfaCodeDaily => {
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

/// A token bucket: `per_second` requests a second sustained, and up to `burst` at once
/// after a quiet spell (a bucket of `burst` tokens refilled at `per_second`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ApiRate {
    /// Requests a second, sustained; 0 turns the limit off.
    pub per_second: u32,
    /// Requests allowed at once after a quiet spell (at least 1 is).
    pub burst: u32,
}

impl ApiRate {
    /// `per_second` sustained with bursts of `burst`.
    pub const fn new(per_second: u32, burst: u32) -> Self {
        Self { per_second, burst }
    }
}

/// The rule of every scope, and how many keys may be tracked at once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LimitSettings {
    /// Failed sign-ins per account from everywhere: 50 per 15 minutes, then locked.
    pub sign_in_account: Rule,
    /// Failed sign-ins per account from one client address: 5 per 15 minutes.
    pub sign_in_account_client: Rule,
    /// Failed sign-ins per client address: 20 per 15 minutes.
    pub sign_in_client: Rule,
    /// Link emails per user: 5 per hour.
    pub link_user: Rule,
    /// Link emails requested without signing in, per client address: 30 per hour.
    pub link_client: Rule,
    /// Link emails sent per signed-in account: 2,000 per hour (a bulk invitation of a
    /// thousand people, and its resend, fit).
    pub link_sender: Rule,
    /// Wrong two-factor codes per account: 5 per 15 minutes.
    pub mfa_code: Rule,
    /// Wrong two-factor codes per account: 20 per 24 hours.
    pub mfa_code_daily: Rule,
    /// Requests under the SCIM API per authenticated account: 100 a second, bursts of 600.
    pub api: ApiRate,
    /// Keys tracked across all scopes before the stalest are dropped: 100,000 (and as many
    /// API buckets).
    pub max_keys: usize,
}

impl Default for LimitSettings {
    fn default() -> Self {
        Self {
            sign_in_account: Rule::new(50, Duration::minutes(15)),
            sign_in_account_client: Rule::new(5, Duration::minutes(15)),
            sign_in_client: Rule::new(20, Duration::minutes(15)),
            link_user: Rule::new(5, Duration::hours(1)),
            link_client: Rule::new(30, Duration::hours(1)),
            link_sender: Rule::new(2000, Duration::hours(1)),
            mfa_code: Rule::new(5, Duration::minutes(15)),
            mfa_code_daily: Rule::new(20, Duration::hours(24)),
            api: ApiRate::new(100, 600),
            max_keys: 100_000,
        }
    }
}

impl LimitSettings {
    /// The rule for `scope`.
    pub fn rule(&self, scope: Scope) -> Rule {
        match scope {
            Scope::SignInAccount => self.sign_in_account,
            Scope::SignInAccountClient => self.sign_in_account_client,
            Scope::SignInClient => self.sign_in_client,
            Scope::LinkUser => self.link_user,
            Scope::LinkClient => self.link_client,
            Scope::LinkSender => self.link_sender,
            Scope::MfaCode => self.mfa_code,
            Scope::MfaCodeDaily => self.mfa_code_daily,
        }
    }
}

type Key = (Scope, [u8; 32]);

/// Recent events of every scope and key, and the API bucket of every account; shared by
/// all requests (`AppState::limits`).
#[derive(Debug)]
pub struct Limits {
    settings: LimitSettings,
    windows: Mutex<Windows>,
    /// Made at the first API request, reading the clock it was given (see
    /// [`Limits::take_api`]).
    api: OnceLock<api::Buckets>,
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
            api: OnceLock::new(),
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

    /// Records one event of `scope` for `key` at `now`; how many are in the window now
    /// (so a caller can tell when a limit has just been reached).
    pub fn hit(&self, scope: Scope, key: &str, now: OffsetDateTime) -> usize {
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
        events.len()
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

/// The [`Scope::SignInAccountClient`] key: an account (or login) key and the client's
/// [`ClientAddr::limit_key`] (`-` when the address is unknown).
pub fn account_client_key(account: &str, client: Option<&str>) -> String {
    format!("{account}\u{0}from\u{0}{}", client.unwrap_or("-"))
}

/// The address the request came from, from axum's `ConnectInfo<SocketAddr>` (present when
/// the server is served with `into_make_service_with_connect_info::<SocketAddr>()`);
/// `None` otherwise. Never fails. `X-Forwarded-For` is not trusted: a proxy in front of
/// the server would need its own limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddr(pub Option<IpAddr>);

impl ClientAddr {
    /// The address as text, for audit entries.
    pub fn key(&self) -> Option<String> {
        self.0.map(|ip| ip.to_canonical().to_string())
    }

    /// The key rate limits count under: the address, except that an IPv6 client is its
    /// /64 (one subscriber's network: a host there can use any of its 2^64 addresses).
    pub fn limit_key(&self) -> Option<String> {
        self.0.map(|ip| match ip.to_canonical() {
            IpAddr::V6(v6) => {
                let network = u128::from(v6) & !((1u128 << 64) - 1);
                format!("{}/64", std::net::Ipv6Addr::from(network))
            }
            v4 => v4.to_string(),
        })
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
    fn an_ipv6_client_is_limited_as_its_64() {
        let key = |text: &str| ClientAddr(Some(text.parse().unwrap())).limit_key().unwrap();
        assert_eq!(
            key("2001:db8:1:2::1"),
            key("2001:db8:1:2:ffff:ffff:ffff:ffff")
        );
        assert_eq!(key("2001:db8:1:2::1"), "2001:db8:1:2::/64");
        assert_ne!(
            key("2001:db8:1:2::1"),
            key("2001:db8:1:3::1"),
            "the next /64 is another"
        );
        assert_eq!(key("::ffff:192.0.2.7"), "192.0.2.7", "IPv4 as itself");
        assert_eq!(
            ClientAddr(Some("2001:db8:1:2::1".parse().unwrap()))
                .key()
                .as_deref(),
            Some("2001:db8:1:2::1"),
            "the audit log keeps the whole address"
        );
    }

    #[test]
    fn the_max_plus_first_event_is_refused_until_the_window_clears() {
        let limits = Limits::default();
        for n in 0..5 {
            limits
                .check(Scope::SignInAccountClient, "a", T0 + Duration::minutes(n))
                .expect("the first five are allowed");
            limits.hit(Scope::SignInAccountClient, "a", T0 + Duration::minutes(n));
        }
        let error = limits
            .check(Scope::SignInAccountClient, "a", T0 + Duration::minutes(5))
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
                .check(Scope::SignInAccountClient, "a", T0 + Duration::minutes(15))
                .is_ok(),
            "sliding: once the oldest event is 15 minutes old one more is allowed"
        );
        limits.clear(Scope::SignInAccountClient, "a");
        assert!(
            limits
                .check(Scope::SignInAccountClient, "a", T0 + Duration::minutes(5))
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
