//! The time both sides read: the system clock, or one a test sets. Whatever depends on
//! time (an invitation pending or expired, a token's expiry, how long since a sign-in) is
//! decided with it when it is needed, never stored as a fact.

use std::sync::Arc;

use time::OffsetDateTime;

/// A source of the current time.
#[derive(Clone)]
pub struct Clock(Arc<dyn Fn() -> OffsetDateTime + Send + Sync>);

impl Clock {
    /// The system clock.
    pub fn system() -> Self {
        Self(Arc::new(OffsetDateTime::now_utc))
    }

    /// A clock that reads whatever `now` returns (tests move time with it).
    pub fn from_fn(now: impl Fn() -> OffsetDateTime + Send + Sync + 'static) -> Self {
        Self(Arc::new(now))
    }

    /// The current time, UTC.
    pub fn now(&self) -> OffsetDateTime {
        (self.0)()
    }
}

impl Default for Clock {
    fn default() -> Self {
        Self::system()
    }
}

impl std::fmt::Debug for Clock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Clock")
    }
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    #[test]
    fn a_set_clock_reads_what_it_is_given() {
        let clock = Clock::from_fn(|| datetime!(2026-03-01 12:00 UTC));
        assert_eq!(clock.now(), datetime!(2026-03-01 12:00 UTC));
        assert!(Clock::system().now() > datetime!(2026-01-01 0:00 UTC));
    }
}
