//! Importing people to invite from a CSV file, in three steps:
//!
//! 1. **Mapping** ([`map_columns`]): each header is matched to a user [`Field`] by name
//!    (`email`, `givenName`… as an export writes them) or by a common spelling
//!    (`E-mail`, `Email address`, `First name`, `Surname`, `License`…); a
//!    [`MappingOverride`] settles any column explicitly. Columns an export holds but the
//!    server keeps (id, status, sign-in times…) are left out, saying why.
//! 2. **Preview** ([`plan`]): every row is checked before anything is sent, and every
//!    problem of every row is listed: a missing or malformed email, a missing name, the
//!    same email (or user name) twice in the file, someone who already exists (with a
//!    `name+licence@` address for a person who needs a second account), a licence or
//!    role the server does not know, and a branch, zone or group no existing user has
//!    (with the closest known spelling). Known values come from [`Known`]: the server's
//!    schema and the organisation's users (the offline copy).
//! 3. **Run** ([`run`]): each ready row (no [`Severity::Error`] problem) is created and sent
//!    the welcome email, one at a time, with progress; rows with problems are never sent.
//!    The [`ImportReport`] has one outcome per row, and is written as CSV with
//!    [`ImportReport::write_csv`].
//!
//! Re-running a file is safe: the people created the first time are then "already
//! exists" problems, and only the others are sent.

mod check;
mod mapping;
mod row;
mod run;

pub use check::{
    ImportOptions, ImportPreview, Known, Plan, Problem, ProblemKind, RowPreview, Severity, plan,
};
pub use mapping::{ColumnMapping, Field, MappingOverride, map_columns};
pub use run::{ImportProgress, ImportReport, Outcome, RowResult, run};

use crate::error::Error;

/// A refusal of the file or its mapping, as one field error on `columns`.
fn mapping_error(message: String) -> Error {
    Error::Validation {
        message: message.clone(),
        scim_type: None,
        fields: vec![crate::error::FieldError::new("columns", message)],
    }
}

/// Text compared without case: trimmed, lower-cased.
fn fold(text: &str) -> String {
    text.trim().to_lowercase()
}

/// A count for the IPC shapes (which use `u32`).
fn count(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}
