//! The one error a command returns to the console: `{code, message, fix, detail, fields,
//! retryAfterSeconds}`, made from muster-core's error: one short sentence, the steps that
//! solve it, and the technical cause (also logged), which the console keeps behind a
//! toggle. Never holds a secret (core's messages are already free of them).

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
    /// offline, unauthorized, forbidden, reauthenticate, mustChangePassword,
    /// mfaEnrollmentRequired, notFound,
    /// conflict, validation, rateLimited, keychainUnavailable, unsupported, server,
    /// protocol, storage, stale.
    pub code: &'static str,
    /// What happened, for people: one short sentence.
    pub message: String,
    /// The steps that solve it, when a person can.
    pub fix: Option<String>,
    /// The technical cause (a socket path, the server's words).
    pub detail: Option<String>,
    /// Per-field problems, for forms.
    pub fields: Vec<FieldProblem>,
    /// How long to wait before trying again, when the server said.
    pub retry_after_seconds: Option<u32>,
}

impl From<muster_core::Error> for CommandError {
    fn from(error: muster_core::Error) -> Self {
        use muster_core::Code as C;
        use muster_core::Error as E;
        let code = match (&error, error.code()) {
            // A 412: the UI offers to reload rather than showing a plain conflict.
            (E::Conflict { stale: true, .. }, _) => "stale",
            (_, C::Offline) => "offline",
            (_, C::Unauthorized) => "unauthorized",
            (_, C::Forbidden) => "forbidden",
            (_, C::Reauthenticate) => "reauthenticate",
            (_, C::MustChangePassword) => "mustChangePassword",
            (_, C::MfaEnrollmentRequired) => "mfaEnrollmentRequired",
            (_, C::NotFound) => "notFound",
            (_, C::Conflict) => "conflict",
            (_, C::Validation) => "validation",
            (_, C::RateLimited) => "rateLimited",
            (_, C::KeychainUnavailable) => "keychainUnavailable",
            (_, C::Unsupported) => "unsupported",
            (_, C::Server) => "server",
            (_, C::Protocol) => "protocol",
            (_, C::Storage) => "storage",
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
        let detail = error.detail();
        // The log keeps the cause of a network or keychain failure (a host, a socket path,
        // a D-Bus error): nothing personal. Other messages and a server's or provider's
        // words may quote a user's name or email, so only their code is logged.
        if matches!(error, E::Offline { .. } | E::KeychainUnavailable { .. }) {
            tracing::info!(
                code,
                message = %error,
                detail = detail.as_deref().unwrap_or("-"),
                "a command failed"
            );
        } else {
            tracing::debug!(code, "a command failed");
        }
        Self {
            code,
            message: error.to_string(),
            fix: error.fix(),
            detail,
            fields,
            retry_after_seconds,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_the_engine_codes_wire_names() {
        let errors = [
            muster_core::Error::Offline {
                host: "h".into(),
                reason: "r".into(),
            },
            muster_core::Error::Unauthorized {
                message: "m".into(),
            },
            muster_core::Error::Forbidden {
                message: "m".into(),
            },
            muster_core::Error::Reauthenticate {
                message: "m".into(),
            },
            muster_core::Error::MustChangePassword {
                message: "m".into(),
            },
            muster_core::Error::MfaEnrollmentRequired {
                message: "m".into(),
            },
            muster_core::Error::NotFound {
                message: "m".into(),
            },
            muster_core::Error::invalid("f", "m"),
            muster_core::Error::Unsupported {
                message: "m".into(),
            },
            muster_core::Error::Storage {
                message: "m".into(),
            },
            muster_core::Error::Server {
                status: 500,
                message: "m".into(),
            },
        ];
        for error in errors {
            let wire = serde_json::to_value(error.code()).unwrap();
            assert_eq!(
                CommandError::from(error).code,
                wire,
                "the UI branches on these"
            );
        }
    }

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
        assert_eq!((invalid.fix, invalid.detail), (None, None));
        let offline = CommandError::from(muster_core::Error::Offline {
            host: "muster.example".into(),
            reason: "connection refused".into(),
        });
        assert_eq!(offline.message, "Cannot reach muster.example.");
        assert!(offline.fix.is_some_and(|fix| fix.contains("network")));
        assert_eq!(offline.detail.as_deref(), Some("connection refused"));
    }
}
