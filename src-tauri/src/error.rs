//! The one error a command returns to the console: `{code, message, fields,
//! retryAfterSeconds}`, made from muster-core's error. Never holds a secret (core's
//! messages are already free of them).

use serde::Serialize;
use specta::Type;

/// A problem with one form field.
#[derive(Debug, Clone, Serialize, Type)]
#[serde(rename_all = "camelCase")]
pub struct FieldProblem {
    /// The field (`email`, `givenName`…).
    pub field: String,
    /// What is wrong.
    pub message: String,
}

/// A failed command.
#[derive(Debug, Clone, Serialize, Type, thiserror::Error)]
#[serde(rename_all = "camelCase")]
#[error("{message}")]
pub struct CommandError {
    /// offline, unauthorized, forbidden, notFound, conflict, validation, rateLimited,
    /// keychainUnavailable, unsupported, server, protocol, storage, stale.
    pub code: String,
    /// What happened, for people.
    pub message: String,
    /// Per-field problems, for forms.
    pub fields: Vec<FieldProblem>,
    /// How long to wait before trying again, when the server said.
    pub retry_after_seconds: Option<u32>,
}

impl From<muster_core::Error> for CommandError {
    fn from(error: muster_core::Error) -> Self {
        use muster_core::Error as E;
        let code = match &error {
            // A 412: the UI offers to reload rather than showing a plain conflict.
            E::Conflict { stale: true, .. } => "stale".to_owned(),
            other => serde_json::to_value(other.code())
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_else(|| "server".to_owned()),
        };
        let fields = match &error {
            E::Validation { fields, .. } => fields
                .iter()
                .map(|f| FieldProblem {
                    field: f.field.clone(),
                    message: f.message.clone(),
                })
                .collect(),
            _ => Vec::new(),
        };
        let retry_after_seconds = match &error {
            E::RateLimited {
                retry_after: Some(after),
                ..
            } => Some(u32::try_from(after.as_secs()).unwrap_or(u32::MAX)),
            _ => None,
        };
        Self {
            code,
            message: error.to_string(),
            fields,
            retry_after_seconds,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stale_conflict_has_its_own_code_and_fields_survive() {
        let stale = CommandError::from(muster_core::Error::Conflict {
            message: "changed".into(),
            scim_type: None,
            stale: true,
        });
        assert_eq!(stale.code, "stale");
        let invalid = CommandError::from(muster_core::Error::invalid("email", "Bad address."));
        assert_eq!(invalid.code, "validation");
        assert_eq!(invalid.fields[0].field, "email");
    }
}
