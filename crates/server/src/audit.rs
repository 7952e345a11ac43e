//! Append-only audit log (stub; being written).

/// Tables.
pub const SCHEMA: &str = "";
