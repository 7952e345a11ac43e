//! TOTP two-factor authentication (stub; being written).

/// Tables.
pub const SCHEMA: &str = r#"
CREATE TABLE mfa (
    org TEXT NOT NULL,
    user_id TEXT NOT NULL,
    secret TEXT NOT NULL,
    confirmed_at TEXT,
    PRIMARY KEY (org, user_id)
);
"#;
