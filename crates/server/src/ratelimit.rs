//! Rate limits (stub; being written).

/// Counters of recent attempts.
#[derive(Debug, Default)]
pub struct Limits {}
