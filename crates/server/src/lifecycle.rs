//! Account lifecycle: each user's status (invited, active, suspended, deactivated,
//! deleted), invitation state and last sign-in, the actions that move a user between
//! states, and the rules that guard them.

/// Lifecycle columns on `users`.
pub const SCHEMA: &str = r#"
ALTER TABLE users ADD COLUMN status TEXT NOT NULL DEFAULT 'active';
ALTER TABLE users ADD COLUMN status_before_delete TEXT;
ALTER TABLE users ADD COLUMN deleted_at TEXT;
ALTER TABLE users ADD COLUMN invitation_sent TEXT;
ALTER TABLE users ADD COLUMN invitation_expires TEXT;
ALTER TABLE users ADD COLUMN invitation_accepted TEXT;
ALTER TABLE users ADD COLUMN last_sign_in_at TEXT;
ALTER TABLE users ADD COLUMN last_sign_in_method TEXT;
ALTER TABLE users ADD COLUMN must_change_password INTEGER NOT NULL DEFAULT 0;
CREATE INDEX users_status ON users (org, status);
"#;
