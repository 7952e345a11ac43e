//! Password policy and organisation settings (stub; being written).

/// Tables.
pub const SCHEMA: &str = "";
