//! Where secrets come from: never argv.
//!
//! - `MUSTER_TOKEN`: a bearer token (a Muster API token, or any SCIM provider's token).
//!   When set, it is used.
//! - Otherwise, with `--email` or `MUSTER_EMAIL`, a password sign-in at a Muster server:
//!   the password from `MUSTER_PASSWORD` or a prompt that does not echo (when stdin is a
//!   terminal), and when the account has two-factor, the code from `MUSTER_TOTP` or a
//!   prompt.
//! - Otherwise the session `muster login` stored in the OS keychain for the profile
//!   (the client refreshes it itself; the command writes the rotated tokens back).

use std::io::{BufRead, IsTerminal, Read, Write};

use muster_core::auth::Credentials;
use muster_core::client::SignIn;
use muster_core::profiles::Profile;
use muster_core::transport::TransportConfig;
use muster_core::vault::Vault;
use muster_core::{Client, Error, Secret};
use zeroize::Zeroize;

use crate::failure::Failure;
use crate::profiles;

/// Where a client's session came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// Signed in afresh with the environment's (or the terminal's) credentials.
    Fresh,
    /// The session stored in the OS keychain by `muster login`.
    Stored,
}

/// A client for the profile's server: with the credentials the environment (or the person
/// at the terminal) provides, else with the session stored in the keychain.
pub async fn connect(
    profile: &Profile,
    email: Option<&str>,
    vault: &Vault,
) -> Result<(Client, Source), Failure> {
    let has_email = email.is_some_and(|e| !e.trim().is_empty());
    if env_secret("MUSTER_TOKEN").is_none() && !has_email {
        let stored = match vault.load_tokens(&profile.name) {
            Ok(tokens) => tokens,
            Err(error @ Error::KeychainUnavailable { .. }) => {
                return Err(Error::Unauthorized {
                    message: format!(
                        "No credentials: set MUSTER_TOKEN to an API token, or pass --email (or \
                         set MUSTER_EMAIL) to sign in with a password. No stored session could \
                         be read: {}.",
                        error.clause()
                    ),
                }
                .into());
            }
            Err(error) => return Err(error.into()),
        };
        if let Some(tokens) = stored {
            let client = Client::from_tokens(
                profiles::connection(profile)?,
                tokens,
                &TransportConfig::default(),
            )?;
            return Ok((client, Source::Stored));
        }
    }
    Ok((sign_in(profile, email).await?, Source::Fresh))
}

/// Signs in to the profile's server with the credentials the environment (or the person at
/// the terminal) provides.
pub async fn sign_in(profile: &Profile, email: Option<&str>) -> Result<Client, Failure> {
    let connection = profiles::connection(profile)?;
    let credentials = credentials(email)?;
    match Client::sign_in(connection, credentials, &TransportConfig::default()).await? {
        SignIn::Done(client) => Ok(client),
        SignIn::MfaRequired(pending) => {
            let code = match env_secret("MUSTER_TOTP") {
                Some(code) => code,
                None if std::io::stdin().is_terminal() => {
                    Secret::new(prompt_line("Two-factor code: ")?)
                }
                None => {
                    return Err(Error::Unauthorized {
                        message: "This account has two-factor sign-in: set MUSTER_TOTP to the \
                                  code from the authenticator app, or run muster in a terminal."
                            .into(),
                    }
                    .into());
                }
            };
            Ok(pending.complete(code.expose()).await?)
        }
    }
}

/// The credentials to sign in with (see the module docs).
fn credentials(email: Option<&str>) -> Result<Credentials, Failure> {
    if let Some(token) = env_secret("MUSTER_TOKEN") {
        return Ok(Credentials::Token(token));
    }
    let Some(email) = email.map(str::trim).filter(|e| !e.is_empty()) else {
        return Err(Error::Unauthorized {
            message: "No credentials: set MUSTER_TOKEN to an API token, or pass --email (or set \
                      MUSTER_EMAIL) to sign in with a password, or run `muster login` to keep \
                      a session in the OS keychain."
                .into(),
        }
        .into());
    };
    let password = match env_secret("MUSTER_PASSWORD") {
        Some(password) => password,
        None if std::io::stdin().is_terminal() => {
            prompt_secret(&format!("Password for {email}: "))?
        }
        None => {
            return Err(Error::Unauthorized {
                message: format!(
                    "No password for {email}: set MUSTER_PASSWORD, or run muster in a terminal \
                     to be asked."
                ),
            }
            .into());
        }
    };
    Ok(Credentials::Password {
        email: email.to_owned(),
        password,
    })
}

/// A new password for `users set-password`: asked twice without echo on a terminal, or
/// read from stdin when it is piped (one trailing line end removed).
pub fn new_password() -> Result<Secret, Failure> {
    let password = if std::io::stdin().is_terminal() {
        let first = prompt_secret("New password: ")?;
        let second = prompt_secret("Again: ")?;
        if first != second {
            return Err(Error::invalid("password", "The two passwords differ.").into());
        }
        first
    } else {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .map_err(|error| Failure::Local(format!("Cannot read stdin: {error}.")))?;
        let secret = Secret::new(strip_line_end(&text));
        text.zeroize();
        secret
    };
    if password.is_empty() {
        return Err(Error::invalid("password", "The password is empty.").into());
    }
    Ok(password)
}

/// The account's current password, for a change to its own credentials:
/// `MUSTER_PASSWORD`, or asked without echo on a terminal.
pub fn current_password() -> Result<Secret, Failure> {
    match env_secret("MUSTER_PASSWORD") {
        Some(password) => Ok(password),
        None if std::io::stdin().is_terminal() => prompt_secret("Current password: "),
        None => Err(Error::invalid(
            "password",
            "Your current password is needed: set MUSTER_PASSWORD, or run muster in a \
             terminal to be asked.",
        )
        .into()),
    }
}

/// A code from the authenticator app: `MUSTER_TOTP`, or asked on a terminal.
pub fn one_time_code(prompt: &str) -> Result<String, Failure> {
    match env_secret("MUSTER_TOTP") {
        Some(code) => Ok(code.expose().to_owned()),
        None if std::io::stdin().is_terminal() => prompt_line(prompt),
        None => Err(Error::invalid(
            "code",
            "A code from the authenticator app is needed: set MUSTER_TOTP, or run muster \
             in a terminal to be asked.",
        )
        .into()),
    }
}

/// `text` without one trailing `\n` or `\r\n`.
fn strip_line_end(text: &str) -> &str {
    text.strip_suffix('\n')
        .map(|t| t.strip_suffix('\r').unwrap_or(t))
        .unwrap_or(text)
}

/// A non-empty environment variable, as a secret.
fn env_secret(name: &str) -> Option<Secret> {
    std::env::var(name)
        .ok()
        .filter(|value| !value.is_empty())
        .map(Secret::new)
}

/// Asks on the terminal without echo.
fn prompt_secret(prompt: &str) -> Result<Secret, Failure> {
    rpassword::prompt_password(prompt)
        .map(Secret::new)
        .map_err(|error| Failure::Local(format!("Cannot read from the terminal: {error}.")))
}

/// Asks `prompt` on stderr and reads one line from stdin, trimmed, with echo (one-time
/// codes, confirmations).
pub fn prompt_line(prompt: &str) -> Result<String, Failure> {
    let mut stderr = std::io::stderr();
    let _ = write!(stderr, "{prompt}");
    let _ = stderr.flush();
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|error| Failure::Local(format!("Cannot read from the terminal: {error}.")))?;
    Ok(line.trim().to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_end_is_removed_from_piped_passwords() {
        assert_eq!(strip_line_end("pw\n"), "pw");
        assert_eq!(strip_line_end("pw\r\n"), "pw");
        assert_eq!(strip_line_end("pw"), "pw");
        assert_eq!(
            strip_line_end("pw \n\n"),
            "pw \n",
            "only one: the rest is part of it"
        );
    }
}
