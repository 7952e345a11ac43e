//! Outbox of emails (stub; being written).

/// Tables.
pub const SCHEMA: &str = "";
