//! How a command fails: the [`Failure`] every command returns, the exit code of each kind
//! of failure, and how a failure is reported (on stderr the short sentence, then how to
//! fix it and the technical details on their own lines; or `{"error": {code, message,
//! fix, detail, fields, retryAfterSeconds}}` on stdout with `--json`: every key present,
//! as in the app).

use std::process::ExitCode;

use muster_core::{Code, Error};
use serde_json::{Map, Value, json};

/// Exit codes, as `muster --help` and the README document them.
pub mod exit {
    /// Success.
    pub const OK: u8 = 0;
    /// Anything not listed below (a server failure, an unreadable answer, a local file).
    pub const OTHER: u8 = 1;
    /// Bad usage: clap's own code for bad arguments, also used for a missing profile.
    pub const USAGE: u8 = 2;
    /// Not signed in, bad credentials, or not allowed (Unauthorized, Forbidden).
    pub const AUTH: u8 = 3;
    /// No such user, group or profile on the server.
    pub const NOT_FOUND: u8 = 4;
    /// A conflict: changed since read, already exists, or refused in the current state.
    pub const CONFLICT: u8 = 5;
    /// The server cannot be reached, or asked us to slow down (Offline, RateLimited).
    pub const NETWORK: u8 = 6;
    /// The server (or muster before sending) refused the input as invalid.
    pub const VALIDATION: u8 = 7;
}

/// Why a command failed.
#[derive(Debug)]
pub enum Failure {
    /// The engine or the server refused or failed.
    Core(Box<Explained>),
    /// The command line was used wrongly in a way clap cannot see (no profile chosen, an
    /// unknown column name).
    Usage(String),
    /// Something on this computer failed: the profiles file, a CA file, the terminal.
    Local(String),
    /// A command over many items that did not do all of them (an import with rows left
    /// out or refused): what it did is printed already; this carries the exit code and,
    /// for `--json`, the details.
    Incomplete {
        /// The exit code (see [`exit`]).
        exit: u8,
        /// What was not done, in words.
        message: String,
        /// Extra members of `{"error": {...}}` (the preview, the report).
        extra: Map<String, Value>,
    },
}

/// An engine error, with what the command adds to it: `extra` members of the JSON error
/// object and `notes` lines for people (deactivation adds the user's responsibilities).
#[derive(Debug)]
pub struct Explained {
    /// The error.
    pub error: Error,
    /// Extra members of `{"error": {...}}`.
    pub extra: Map<String, Value>,
    /// Extra lines for people, printed after the message.
    pub notes: Vec<String>,
}

impl From<Error> for Failure {
    fn from(error: Error) -> Self {
        Failure::explained(error, Map::new(), Vec::new())
    }
}

impl Failure {
    /// An engine error with extra JSON members and notes for people.
    pub fn explained(error: Error, extra: Map<String, Value>, notes: Vec<String>) -> Self {
        Failure::Core(Box::new(Explained {
            error,
            extra,
            notes,
        }))
    }

    /// The exit code for this failure.
    pub fn exit_code(&self) -> u8 {
        match self {
            Failure::Core(core) => code_exit(core.error.code()),
            Failure::Usage(_) => exit::USAGE,
            Failure::Local(_) => exit::OTHER,
            Failure::Incomplete { exit, .. } => *exit,
        }
    }

    /// The message for people.
    pub fn message(&self) -> String {
        match self {
            Failure::Core(core) => core.error.to_string(),
            Failure::Usage(message)
            | Failure::Local(message)
            | Failure::Incomplete { message, .. } => message.clone(),
        }
    }

    /// The message as a clause to go after a colon ("no keychain is running").
    pub fn clause(&self) -> String {
        muster_core::error::clause(&self.message())
    }

    /// `{"error": {code, message, fix, detail, fields, retryAfterSeconds, ...}}`: the
    /// engine's [`ErrorBody`](muster_core::ErrorBody) shape for every failure.
    pub fn to_json(&self) -> Value {
        let mut object = match self {
            Failure::Core(core) => {
                let mut object = match serde_json::to_value(&core.error) {
                    Ok(Value::Object(object)) => object,
                    _ => Map::new(),
                };
                object.extend(core.extra.clone());
                object
            }
            Failure::Usage(message) => json_map("usage", message),
            Failure::Local(message) => json_map("local", message),
            Failure::Incomplete { message, extra, .. } => {
                let mut object = json_map("incomplete", message);
                object.extend(extra.clone());
                object
            }
        };
        if !object.contains_key("message") {
            object.insert("message".into(), Value::String(self.message()));
        }
        json!({ "error": object })
    }

    /// Reports the failure (stdout JSON with `json`, a stderr line otherwise) and returns
    /// the process exit code.
    pub fn report(&self, json: bool) -> ExitCode {
        if json {
            println!("{}", self.to_json());
        } else {
            eprintln!("muster: {}", self.message());
            if let Failure::Core(core) = self {
                if let Error::Validation { fields, .. } = &core.error {
                    for field in fields {
                        if field.message != core.error.to_string() {
                            eprintln!("  {}: {}", field.field, field.message);
                        }
                    }
                }
                for note in &core.notes {
                    eprintln!("  {note}");
                }
                if let Some(fix) = core.error.fix() {
                    eprintln!("  How to fix: {fix}");
                }
                if let Some(detail) = core.error.detail() {
                    eprintln!("  Details: {detail}");
                }
            }
        }
        ExitCode::from(self.exit_code())
    }
}

/// A failure of the command line's own (`usage`, `local`, `incomplete`) in the engine's
/// error shape.
fn json_map(code: &str, message: &str) -> Map<String, Value> {
    let mut object = Map::new();
    object.insert("code".into(), Value::String(code.into()));
    object.insert("message".into(), Value::String(message.into()));
    object.insert("fix".into(), Value::Null);
    object.insert("detail".into(), Value::Null);
    object.insert("fields".into(), Value::Array(Vec::new()));
    object.insert("retryAfterSeconds".into(), Value::Null);
    object
}

/// The exit code of an engine error kind.
pub fn code_exit(code: Code) -> u8 {
    match code {
        Code::Unauthorized
        | Code::Forbidden
        | Code::Reauthenticate
        | Code::MustChangePassword
        | Code::MfaEnrollmentRequired => exit::AUTH,
        Code::NotFound => exit::NOT_FOUND,
        Code::Conflict | Code::Stale => exit::CONFLICT,
        Code::Offline | Code::RateLimited => exit::NETWORK,
        Code::Validation => exit::VALIDATION,
        _ => exit::OTHER,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_kind_of_failure_has_its_exit_code() {
        let cases = [
            (Code::Unauthorized, exit::AUTH),
            (Code::Forbidden, exit::AUTH),
            (Code::NotFound, exit::NOT_FOUND),
            (Code::Conflict, exit::CONFLICT),
            (Code::Stale, exit::CONFLICT),
            (Code::Offline, exit::NETWORK),
            (Code::RateLimited, exit::NETWORK),
            (Code::Validation, exit::VALIDATION),
            (Code::Server, exit::OTHER),
            (Code::Protocol, exit::OTHER),
        ];
        for (code, expected) in cases {
            assert_eq!(code_exit(code), expected, "{code:?} exits with {expected}");
        }
        assert_eq!(Failure::Usage("x".into()).exit_code(), exit::USAGE);
    }

    #[test]
    fn json_errors_carry_code_message_and_extras() {
        let mut extra = Map::new();
        extra.insert("responsibilities".into(), json!({"total": 3}));
        let failure = Failure::explained(
            Error::NotFound {
                message: "There is no User with id 'x'.".into(),
            },
            extra,
            Vec::new(),
        );
        let value = failure.to_json();
        assert_eq!(value["error"]["code"], "notFound");
        assert_eq!(value["error"]["message"], "There is no User with id 'x'.");
        assert_eq!(value["error"]["responsibilities"]["total"], 3);
        assert_eq!(
            value["error"]["fields"],
            json!([]),
            "every key of the engine's shape"
        );
        let usage = Failure::Usage("no profile".into()).to_json();
        assert_eq!(usage["error"]["code"], "usage");
        for key in ["fix", "detail", "fields", "retryAfterSeconds"] {
            assert!(
                usage["error"].get(key).is_some(),
                "the command line's own failures have the same keys: {key}"
            );
        }
    }
}
