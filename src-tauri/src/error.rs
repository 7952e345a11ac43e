//! The one error a command returns to the console: `{code, message, fix, detail, fields,
//! retryAfterSeconds}`, muster-core's [`ErrorBody`]: one short sentence, the steps that
//! solve it, and the technical cause (also logged), which the console keeps behind a
//! toggle. Never holds a secret (core's messages are already free of them).

use muster_core::ErrorBody;
use serde::Serialize;
use specta::Type;

/// A failed command: the engine's [`ErrorBody`], the same shape the command line's
/// `--json` prints.
#[derive(Debug, Clone, Serialize, Type, thiserror::Error)]
#[serde(transparent)]
#[error("{}", .0.message)]
pub struct CommandError(pub ErrorBody);

impl From<muster_core::Error> for CommandError {
    fn from(error: muster_core::Error) -> Self {
        let body = ErrorBody::from(&error);
        // The log keeps the cause of a network or keychain failure (a host, a socket path,
        // a D-Bus error): nothing personal. Other messages and a server's or provider's
        // words may quote a user's name or email, so only their code is logged.
        if matches!(
            error,
            muster_core::Error::Offline { .. } | muster_core::Error::KeychainUnavailable { .. }
        ) {
            tracing::info!(
                code = %body.code.name(),
                message = %body.message,
                detail = body.detail.as_deref().unwrap_or("-"),
                "a command failed"
            );
        } else {
            tracing::debug!(code = %body.code.name(), "a command failed");
        }
        Self(body)
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
        let wire = [
            "offline",
            "unauthorized",
            "forbidden",
            "reauthenticate",
            "mustChangePassword",
            "mfaEnrollmentRequired",
            "notFound",
            "validation",
            "unsupported",
            "storage",
            "server",
        ];
        for (error, expected) in errors.into_iter().zip(wire) {
            let sent = serde_json::to_value(CommandError::from(error)).unwrap();
            assert_eq!(sent["code"], expected, "the UI and scripts branch on these");
        }
    }

    #[test]
    fn a_stale_conflict_has_its_own_code_and_fields_survive() {
        let stale = CommandError::from(muster_core::Error::Conflict {
            message: "changed".into(),
            scim_type: None,
            stale: true,
            fields: Vec::new(),
        });
        assert_eq!(serde_json::to_value(&stale).unwrap()["code"], "stale");
        let CommandError(invalid) =
            CommandError::from(muster_core::Error::invalid("email", "Bad address."));
        assert_eq!(serde_json::to_value(invalid.code).unwrap(), "validation");
        assert_eq!(invalid.fields[0].field, "email");
        assert_eq!((invalid.fix, invalid.detail), (None, None));
        let CommandError(offline) = CommandError::from(muster_core::Error::Offline {
            host: "muster.example".into(),
            reason: "connection refused".into(),
        });
        assert_eq!(offline.message, "Cannot reach muster.example.");
        assert!(offline.fix.is_some_and(|fix| fix.contains("network")));
        assert_eq!(offline.detail.as_deref(), Some("connection refused"));
    }
}
