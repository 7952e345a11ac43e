//! What a user is responsible for in the shop's software (stub; being written).

/// Tables.
pub const SCHEMA: &str = "";
