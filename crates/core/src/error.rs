//! The client engine's one error type. Each variant is something the UI or the command
//! line acts on differently; [`Error::code`] names it. What a person reads comes in three
//! layers: the `Display` text is one short sentence, [`Error::fix`] the steps that solve
//! it (for this platform), and [`Error::detail`] the technical cause (a socket path, the
//! server's words), kept out of the way. Serialisation gives [`ErrorBody`] `{code, message,
//! fix, detail, fields, retryAfterSeconds}` (every key present) for the IPC boundary; [`Notice`] is the same
//! three layers for a standing notice. No variant ever holds a secret.

use std::time::Duration;

/// What kind of failure, for code that branches on it (the app's TypeScript gets these as
/// a union of strings).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub enum Code {
    /// The server cannot be reached.
    Offline,
    /// Not signed in, or the credentials stopped working.
    Unauthorized,
    /// Signed in, but not allowed.
    Forbidden,
    /// The change needs a recent sign-in: give the password again, then repeat it.
    Reauthenticate,
    /// The account must choose a new password before anything else.
    MustChangePassword,
    /// The account must set up two-factor sign-in before anything else.
    MfaEnrollmentRequired,
    /// No such resource.
    NotFound,
    /// A uniqueness clash (409) or another conflict with the server's state.
    Conflict,
    /// The record changed on the server since it was read (412): reload, then repeat.
    Stale,
    /// The request was refused as invalid (field errors may say where).
    Validation,
    /// Too many requests; try again later.
    RateLimited,
    /// The OS keychain cannot be used.
    KeychainUnavailable,
    /// The provider lacks this feature.
    Unsupported,
    /// The server failed.
    Server,
    /// The server's answer could not be understood.
    Protocol,
    /// A local file (the offline cache) could not be read or written.
    Storage,
}

impl Code {
    /// Its name as the app and scripts see it: `offline`, `rateLimited`… (for logs).
    pub fn name(self) -> String {
        serde_json::to_value(self)
            .ok()
            .and_then(|value| value.as_str().map(str::to_owned))
            .unwrap_or_default()
    }
}

/// A problem with one input field.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct FieldError {
    /// The field (an attribute path, or a form field name).
    pub field: String,
    /// What is wrong with it.
    pub message: String,
    /// Which of the server's rules the value breaks, by id (`common`, `personal`,
    /// `length`…), when the server names them: a password the policy refused.
    pub rules: Vec<String>,
}

impl FieldError {
    /// A problem with `field`, in words.
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
            rules: Vec::new(),
        }
    }
}

/// An error as it crosses to the app or leaves the command line's `--json`: `{code,
/// message, fix, detail, fields, retryAfterSeconds}`. One shape for both, so a script and
/// the app branch on the same codes.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct ErrorBody {
    /// What kind of failure.
    pub code: Code,
    /// What happened, for people: one short sentence.
    pub message: String,
    /// The steps that solve it, when a person can.
    pub fix: Option<String>,
    /// The technical cause (a socket path, the server's words).
    pub detail: Option<String>,
    /// Per-field problems, for forms.
    pub fields: Vec<FieldError>,
    /// How long to wait before trying again, when the server said.
    pub retry_after_seconds: Option<u32>,
}

impl From<&Error> for ErrorBody {
    fn from(error: &Error) -> Self {
        let fields = match error {
            Error::Validation { fields, .. } | Error::Conflict { fields, .. } => fields.clone(),
            _ => Vec::new(),
        };
        let retry_after_seconds = match error {
            Error::RateLimited {
                retry_after: Some(after),
                ..
            } => Some(u32::try_from(after.as_secs()).unwrap_or(u32::MAX)),
            _ => None,
        };
        Self {
            code: error.code(),
            message: error.to_string(),
            fix: error.fix(),
            detail: error.detail(),
            fields,
            retry_after_seconds,
        }
    }
}

/// A failed operation.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The server cannot be reached: DNS, refused connection, timeout, reset.
    #[error("Cannot reach {host}.")]
    Offline {
        /// The host tried.
        host: String,
        /// What failed, in words.
        reason: String,
    },
    /// 401, or no usable credentials.
    #[error("{message}")]
    Unauthorized {
        /// The server's detail, or ours.
        message: String,
    },
    /// 403.
    #[error("{message}")]
    Forbidden {
        /// The server's detail.
        message: String,
    },
    /// 403 `reauthenticate`: changing credentials needs a sign-in within the last
    /// minutes; [`crate::console::Console::reauthenticate`], then repeat the change.
    #[error("{message}")]
    Reauthenticate {
        /// The server's detail.
        message: String,
    },
    /// 403 `mustChangePassword`: the password was set by an admin; the account must
    /// choose its own ([`crate::console::Console::change_password`]) first.
    #[error("{message}")]
    MustChangePassword {
        /// The server's detail.
        message: String,
    },
    /// 403 `mfaEnrollmentRequired`: the organisation requires two-factor for admins;
    /// [`crate::console::Console::start_mfa`] first.
    #[error("{message}")]
    MfaEnrollmentRequired {
        /// The server's detail.
        message: String,
    },
    /// 404.
    #[error("{message}")]
    NotFound {
        /// The server's detail.
        message: String,
    },
    /// 409 or 412.
    #[error("{message}")]
    Conflict {
        /// The server's detail.
        message: String,
        /// SCIM `scimType` (`uniqueness`…), when given.
        scim_type: Option<String>,
        /// True for 412: the resource changed since it was read; reload and retry.
        stale: bool,
        /// The field whose value is taken, when the server names it (a Muster server's
        /// `attribute` beside a 409 `uniqueness`).
        fields: Vec<FieldError>,
    },
    /// 400 and other refusals of the input; also the engine's own checks before sending.
    #[error("{message}")]
    Validation {
        /// The detail.
        message: String,
        /// SCIM `scimType`, when given.
        scim_type: Option<String>,
        /// Per-field problems, when known.
        fields: Vec<FieldError>,
    },
    /// 429 (or 503 with Retry-After) after the retries allowed.
    #[error("{message}")]
    RateLimited {
        /// The detail.
        message: String,
        /// How long the server asked to wait.
        retry_after: Option<Duration>,
    },
    /// The OS keychain cannot be used.
    #[error("{message}")]
    KeychainUnavailable {
        /// What is wrong, in one sentence ("No keychain is running.").
        message: String,
        /// The steps that solve it on this platform.
        fix: String,
        /// The keychain library's own words (redacted), when it gave any.
        detail: Option<String>,
    },
    /// The provider lacks a feature.
    #[error("{message}")]
    Unsupported {
        /// Which, and why it matters.
        message: String,
    },
    /// 5xx.
    #[error("The server failed (HTTP {status}).")]
    Server {
        /// HTTP status.
        status: u16,
        /// The detail.
        message: String,
    },
    /// An answer that is not what SCIM promises.
    #[error("The server's answer could not be understood: {message}.")]
    Protocol {
        /// What was wrong.
        message: String,
        /// The first characters of the answer, secrets masked.
        excerpt: String,
    },
    /// A local file (the offline cache) could not be read or written.
    #[error("{message}")]
    Storage {
        /// What failed, in words free of user data and secrets.
        message: String,
    },
}

impl Error {
    /// The kind of failure.
    pub fn code(&self) -> Code {
        match self {
            Error::Offline { .. } => Code::Offline,
            Error::Unauthorized { .. } => Code::Unauthorized,
            Error::Forbidden { .. } => Code::Forbidden,
            Error::Reauthenticate { .. } => Code::Reauthenticate,
            Error::MustChangePassword { .. } => Code::MustChangePassword,
            Error::MfaEnrollmentRequired { .. } => Code::MfaEnrollmentRequired,
            Error::NotFound { .. } => Code::NotFound,
            Error::Conflict { stale: true, .. } => Code::Stale,
            Error::Conflict { .. } => Code::Conflict,
            Error::Validation { .. } => Code::Validation,
            Error::RateLimited { .. } => Code::RateLimited,
            Error::KeychainUnavailable { .. } => Code::KeychainUnavailable,
            Error::Unsupported { .. } => Code::Unsupported,
            Error::Server { .. } => Code::Server,
            Error::Protocol { .. } => Code::Protocol,
            Error::Storage { .. } => Code::Storage,
        }
    }

    /// The steps that solve the problem, when there are any a person can take.
    pub fn fix(&self) -> Option<String> {
        match self {
            Error::Offline { .. } => Some(
                "Check the network connection and the connection's server address, then try \
                 again."
                    .to_owned(),
            ),
            Error::KeychainUnavailable { fix, .. } => Some(fix.clone()),
            Error::Reauthenticate { .. } => Some(
                "Enter your password again when asked (and a current two-factor code if \
                 two-factor is on), then repeat the change."
                    .to_owned(),
            ),
            Error::MfaEnrollmentRequired { .. } => Some(
                "Set up two-factor sign-in with an authenticator app: the organisation requires \
                 it for admins, and everything else opens after that."
                    .to_owned(),
            ),
            Error::MustChangePassword { .. } => Some(
                "Choose a new password of your own: everything else opens again after that."
                    .to_owned(),
            ),
            Error::RateLimited { retry_after, .. } => Some(match retry_after {
                Some(after) => format!("Wait {} seconds, then try again.", after.as_secs()),
                None => "Wait a minute, then try again.".to_owned(),
            }),
            Error::Server { .. } => Some(
                "Try again in a moment. If it keeps failing, the server's administrator can \
                 see why in the server's log."
                    .to_owned(),
            ),
            // An answer that came (an excerpt): the address may be wrong. An internal
            // failure with no answer has nothing a person can fix.
            Error::Protocol { excerpt, .. } if !excerpt.is_empty() => Some(
                "Check that the connection's server address points at the SCIM service \
                 itself (for many providers it ends in /scim/v2). If it does, the provider \
                 answered in a way SCIM does not allow; its administrator can see why."
                    .to_owned(),
            ),
            _ => None,
        }
    }

    /// The technical cause, for the log and a "Details" toggle; never a secret.
    pub fn detail(&self) -> Option<String> {
        match self {
            Error::Offline { reason, .. } => Some(reason.clone()),
            Error::KeychainUnavailable { detail, .. } => detail.clone(),
            Error::Server { message, .. } if !message.trim().is_empty() => {
                Some(format!("The server said: {message}"))
            }
            Error::Protocol { excerpt, .. } if !excerpt.is_empty() => {
                Some(format!("The answer began: {excerpt}"))
            }
            _ => None,
        }
    }

    /// This error as a standing notice: `text` (what it meant here, one sentence) with
    /// the error's own fix and, as the detail, its sentence and technical cause.
    /// (When `text` already says the error's sentence, the detail is only the cause.)
    pub fn notice(&self, text: impl Into<String>) -> Notice {
        let text = text.into();
        let sentence = self.to_string();
        // The text says the sentence already (whole, or as a clause): the detail is only
        // the cause.
        let said = text == sentence || text.contains(&clause(&sentence));
        let detail = match self.detail() {
            Some(detail) if said => Some(detail),
            Some(detail) => Some(format!("{sentence} {detail}")),
            None if said => None,
            None => Some(sentence),
        };
        Notice {
            text,
            fix: self.fix(),
            detail,
        }
    }

    /// The sentence as a clause to go after a colon: "No keychain is running." becomes
    /// "no keychain is running" (see [`clause`]).
    pub fn clause(&self) -> String {
        clause(&self.to_string())
    }

    /// A client-side refusal that names no field (a file, a setting of this machine).
    pub fn refused(message: impl Into<String>) -> Self {
        Error::Validation {
            message: message.into(),
            scim_type: None,
            fields: Vec::new(),
        }
    }

    /// A client-side validation failure of one field.
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        let message = message.into();
        Error::Validation {
            message: message.clone(),
            scim_type: None,
            fields: vec![FieldError::new(field, message)],
        }
    }

    /// A malformed answer; `body` is cut to a short excerpt with token-like words masked.
    pub fn protocol(message: impl Into<String>, body: &[u8]) -> Self {
        Error::Protocol {
            message: message.into(),
            excerpt: excerpt(body),
        }
    }
}

impl From<crate::cache::CacheError> for Error {
    fn from(error: crate::cache::CacheError) -> Self {
        use std::io::ErrorKind;
        let message = match &error {
            crate::cache::CacheError::Io(io)
                if matches!(
                    io.kind(),
                    ErrorKind::StorageFull | ErrorKind::QuotaExceeded | ErrorKind::FileTooLarge
                ) =>
            {
                "The disk is full.".to_owned()
            }
            _ => format!("The offline cache could not be used ({error})."),
        };
        Error::Storage { message }
    }
}

/// A sentence as a clause to go after a colon: the full stop goes, and a plain first
/// word ("No", "The") is lower-cased; an acronym ("SCIM") stays.
pub fn clause(sentence: &str) -> String {
    let sentence = sentence.trim().trim_end_matches('.');
    let mut chars = sentence.chars();
    match chars.next() {
        Some(first) if chars.next().is_some_and(char::is_lowercase) => first
            .to_lowercase()
            .chain(sentence.chars().skip(1))
            .collect(),
        _ => sentence.to_owned(),
    }
}

/// A standing notice for a person (the session is kept for this session only, the
/// offline copy could not be saved): one short sentence, the steps that solve it, and the
/// technical detail behind a toggle.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct Notice {
    /// What is wrong, in one short sentence.
    pub text: String,
    /// How to fix it, when a person can.
    pub fix: Option<String>,
    /// The technical cause.
    pub detail: Option<String>,
}

impl Notice {
    /// A notice that is only its sentence.
    pub fn new(text: impl Into<String>) -> Self {
        Notice {
            text: text.into(),
            fix: None,
            detail: None,
        }
    }
}

/// A size in words, for people: `3.4 MB`, `10 MB`, `820 KB` (a file's, or a limit's).
pub(crate) fn size_words(bytes: u64) -> String {
    const MB: u64 = 1024 * 1024;
    if bytes >= MB {
        format!("{:.1} MB", bytes as f64 / MB as f64).replace(".0 MB", " MB")
    } else {
        format!("{} KB", bytes.div_ceil(1024))
    }
}

/// The first 120 characters of a body, on one line, with anything that looks like a secret
/// masked (see [`redact`]).
pub fn excerpt(body: &[u8]) -> String {
    let text = redact(&String::from_utf8_lossy(body));
    let one_line: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    match one_line.char_indices().nth(120) {
        Some((cut, _)) => format!("{}…", &one_line[..cut]),
        None => one_line,
    }
}

/// `text` with anything that looks like a secret replaced by `<redacted>`: a word holding
/// `mst_` (Muster's token prefixes), a long random-looking word (20+ characters mixing
/// letters and digits: other providers' tokens, TOTP secrets), the value after a key
/// named like a secret (`"password": …`, `token=…`) and the word after `Bearer`.
///
/// A "word" is a run of letters, digits and `-_+/~`, so a token is masked wherever it
/// sits: inside JSON, a query string, or text that is not JSON at all.
pub fn redact(text: &str) -> String {
    const MASK: &str = "<redacted>";
    let is_word_char = |c: char| c.is_ascii_alphanumeric() || "-_+/~".contains(c);
    let mut out = String::with_capacity(text.len());
    // Set by a secret-named key: mask the next word if what separates them is `:` or `=`
    // (or, after `Bearer`/`Basic`, only spaces).
    let mut after_key: Option<bool> = None;
    let mut rest = text;
    while !rest.is_empty() {
        let gap = rest.find(is_word_char).unwrap_or(rest.len());
        let (separator, tail) = rest.split_at(gap);
        out.push_str(separator);
        let end = tail.find(|c| !is_word_char(c)).unwrap_or(tail.len());
        let (word, tail) = tail.split_at(end);
        rest = tail;
        if word.is_empty() {
            continue;
        }
        let follows_key = match after_key.take() {
            Some(true) => !separator.is_empty() && separator.trim().is_empty(),
            Some(false) => separator.contains([':', '=']),
            None => false,
        };
        out.push_str(if follows_key || looks_secret(word) {
            MASK
        } else {
            word
        });
        let key: String = word
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .map(|c| c.to_ascii_lowercase())
            .collect();
        if key == "bearer" || key == "basic" {
            after_key = Some(true);
        } else if [
            "password",
            "passwd",
            "secret",
            "token",
            "challenge",
            "authorization",
            "apikey",
            "credential",
        ]
        .iter()
        .any(|name| key.contains(name))
            || key == "code"
        {
            after_key = Some(false);
        }
    }
    out
}

fn looks_secret(word: &str) -> bool {
    word.contains("mst_")
        || word.chars().count() >= 20
            && word.chars().any(|c| c.is_ascii_digit())
            && word.chars().any(|c| c.is_ascii_alphabetic())
}

impl serde::Serialize for Error {
    /// As its [`ErrorBody`].
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        ErrorBody::from(self).serialize(serializer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_code_is_logged_by_the_name_the_app_sees() {
        assert_eq!(Code::RateLimited.name(), "rateLimited");
        assert_eq!(Code::Stale.name(), "stale");
    }

    #[test]
    fn excerpts_are_short_and_mask_tokens() {
        let body = br#"{"accessToken":"mst_at_abcdefghijklmnopqrstuvwxyz0123456789", "x": 1}"#;
        let text = excerpt(body);
        assert!(
            !text.contains("abcdefghij"),
            "a token never reaches an error: {text}"
        );
        assert!(text.contains("<redacted>"));
        assert!(
            excerpt("y".repeat(500).as_bytes()).chars().count() <= 121,
            "excerpts are short"
        );
    }

    #[test]
    fn secrets_are_masked_wherever_they_sit() {
        for (text, secret) in [
            ("{accessToken:mst_at_short}", "mst_at_short"),
            ("token=mst_rt_q1w2e3", "mst_rt_q1w2e3"),
            (r#"{"password": "hunter2"}"#, "hunter2"),
            ("password=hunter2&x=1", "hunter2"),
            ("Authorization: Bearer abc.def", "abc"),
            (r#"{"code":"123456"}"#, "123456"),
            (
                "secret JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP",
                "JBSWY3DPEHPK3PXP",
            ),
        ] {
            let masked = redact(text);
            assert!(
                !masked.contains(secret),
                "'{secret}' must not survive redaction of {text:?}: {masked}"
            );
        }
        assert_eq!(
            redact(r#"{"detail":"The user was not found.","status":"404"}"#),
            r#"{"detail":"The user was not found.","status":"404"}"#,
            "ordinary text is left readable"
        );
    }

    #[test]
    fn a_message_is_one_sentence_with_the_cause_and_the_fix_apart() {
        let offline = Error::Offline {
            host: "muster.example".into(),
            reason: "connection refused (os error 111) at /run/x.sock".into(),
        };
        assert_eq!(offline.to_string(), "Cannot reach muster.example.");
        assert!(offline.fix().unwrap().contains("network"));
        assert!(offline.detail().unwrap().contains("os error 111"));
        let json = serde_json::to_value(&offline).unwrap();
        assert_eq!(json["message"], "Cannot reach muster.example.");
        assert!(json["detail"].as_str().unwrap().contains("/run/x.sock"));

        let server = Error::Server {
            status: 500,
            message: "database is locked".into(),
        };
        assert_eq!(server.to_string(), "The server failed (HTTP 500).");
        assert_eq!(
            server.detail().as_deref(),
            Some("The server said: database is locked")
        );
        let not_found = Error::NotFound {
            message: "No such user.".into(),
        };
        assert_eq!((not_found.fix(), not_found.detail()), (None, None));
    }

    #[test]
    fn a_clause_follows_a_colon() {
        let keychain = Error::KeychainUnavailable {
            message: "No keychain is running.".into(),
            fix: "Start one.".into(),
            detail: Some("org.freedesktop.DBus.Error.ServiceUnknown".into()),
        };
        assert_eq!(keychain.clause(), "no keychain is running");
        let notice = keychain.notice(format!("Your sign-in is not saved: {}.", keychain.clause()));
        assert_eq!(
            notice.text,
            "Your sign-in is not saved: no keychain is running."
        );
        assert_eq!(notice.fix.as_deref(), Some("Start one."));
        assert_eq!(
            notice.detail.as_deref(),
            Some("org.freedesktop.DBus.Error.ServiceUnknown"),
            "the text says the sentence, so the detail is only the cause"
        );
        let http = Error::Server {
            status: 502,
            message: String::new(),
        };
        assert_eq!(http.clause(), "the server failed (HTTP 502)");
        let acronym = Error::Unsupported {
            message: "SCIM Bulk is not offered.".into(),
        };
        assert_eq!(
            acronym.clause(),
            "SCIM Bulk is not offered",
            "acronyms keep their case"
        );
    }

    #[test]
    fn errors_serialise_with_a_code_and_message() {
        let error = Error::invalid("emails", "That is not an email address.");
        let json = serde_json::to_value(&error).unwrap();
        assert_eq!(json["code"], "validation");
        assert_eq!(json["fields"][0]["field"], "emails");
        let limited = Error::RateLimited {
            message: "Slow down.".into(),
            retry_after: Some(Duration::from_secs(30)),
        };
        assert_eq!(
            serde_json::to_value(&limited).unwrap()["retryAfterSeconds"],
            30
        );
    }
}
