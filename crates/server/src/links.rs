//! Single-use links (stub; being written).

/// Tables.
pub const SCHEMA: &str = "";
