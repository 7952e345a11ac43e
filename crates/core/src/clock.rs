//! The time the engine reads: the system clock, or one a test sets (`muster-api`'s, which
//! the server reads too). Whatever depends on time (an invitation pending or expired, how
//! long since a sign-in) is decided with it when shown, never stored as a fact.

pub use muster_api::Clock;
