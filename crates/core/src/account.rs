//! The signed-in account's own credentials at a Muster server (`/auth/…`): giving the
//! password again when a change needs a recent sign-in, choosing a new password, setting
//! up and turning off two-factor sign-in (the authenticator's QR code is drawn here, from
//! the key, so no image is fetched from anywhere), and ending one's other sessions. The
//! app's "My account" and `muster account` use it. Passwords and codes are sent once and
//! kept nowhere.
//!
//! Only a session signed in with a password at a Muster server (or kept from one) has an
//! account here; a bearer token or another provider gives [`Error::Unsupported`].

use reqwest::Method;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
#[cfg(feature = "specta")]
use specta::Type;

use crate::client::Client;
use crate::connection::ServerKind;
use crate::error::Error;
use crate::secret::Secret;

/// The signed-in account's own credentials, through its client.
#[derive(Debug)]
pub struct OwnAccount<'a> {
    client: &'a Client,
}

impl Client {
    /// The signed-in account's own credentials (a password sign-in to a Muster server).
    pub fn own_account(&self) -> OwnAccount<'_> {
        OwnAccount { client: self }
    }
}

impl OwnAccount<'_> {
    /// Gives the password (and a current code when two-factor is on) again, so changes
    /// to credentials are allowed for the next minutes.
    ///
    /// # Errors
    ///
    /// [`Error::Validation`] for a wrong password or code (the server counts it toward
    /// its sign-in limit).
    pub async fn reauthenticate(&self, password: &Secret, code: Option<&str>) -> Result<(), Error> {
        let mut body = json!({"password": password.expose()});
        add_code(&mut body, code);
        self.send(Method::POST, "reauthenticate", Some(&body))
            .await
            .map(|_| ())
    }

    /// Chooses a new password, with the current one (and a current code when two-factor
    /// is on). The server ends the account's other sessions; this one goes on.
    ///
    /// # Errors
    ///
    /// [`Error::Validation`] for an empty or unchanged new password (before sending), a
    /// wrong current password or code, or a new password the organisation's rules refuse
    /// (the message says which rule).
    pub async fn change_password(
        &self,
        current: &Secret,
        new: &Secret,
        code: Option<&str>,
    ) -> Result<(), Error> {
        if new.expose().is_empty() {
            return Err(Error::invalid("newPassword", "Enter a new password."));
        }
        if new.expose() == current.expose() {
            return Err(Error::invalid(
                "newPassword",
                "Choose a new password different from the current one.",
            ));
        }
        let mut body = json!({"currentPassword": current.expose(), "newPassword": new.expose()});
        add_code(&mut body, code);
        self.send(Method::POST, "password", Some(&body))
            .await
            .map(|_| ())
    }

    /// The account as the server has it now.
    ///
    /// # Errors
    ///
    /// As any request; [`Error::Protocol`] for an answer that is not an account.
    pub async fn me(&self) -> Result<MyAccountView, Error> {
        let answer = self.send(Method::GET, "me", None).await?;
        serde_json::from_value(answer)
            .map_err(|error| Error::protocol(format!("GET /auth/me: {error}"), b""))
    }

    /// Starts setting up two-factor sign-in with the password: the key to add to an
    /// authenticator app, and its QR code. It is on once [`OwnAccount::confirm_mfa`]
    /// proves the app shows the right codes.
    ///
    /// # Errors
    ///
    /// [`Error::Validation`] for a wrong password; [`Error::Conflict`] when two-factor is
    /// already on.
    pub async fn start_mfa(&self, password: &Secret) -> Result<MfaEnrolmentView, Error> {
        let body = json!({"password": password.expose()});
        let answer = self.send(Method::POST, "mfa/enroll", Some(&body)).await?;
        let (Some(secret), Some(url)) = (
            answer.get("secret").and_then(Value::as_str),
            answer.get("otpauthUrl").and_then(Value::as_str),
        ) else {
            return Err(Error::protocol("the two-factor enrolment has no key", b""));
        };
        Ok(MfaEnrolmentView {
            secret: grouped(secret),
            qr: QrView::of(url)?,
        })
    }

    /// Turns two-factor sign-in on with a code the authenticator app shows now.
    ///
    /// # Errors
    ///
    /// [`Error::Validation`] for a wrong code.
    pub async fn confirm_mfa(&self, code: &str) -> Result<(), Error> {
        let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
        self.send(Method::POST, "mfa/confirm", Some(&json!({"code": code})))
            .await
            .map(|_| ())
    }

    /// Turns two-factor sign-in off, with the password and a current code (one not used
    /// already: the server takes each code once).
    ///
    /// # Errors
    ///
    /// [`Error::Validation`] for a wrong password or code.
    pub async fn disable_mfa(&self, password: &Secret, code: &str) -> Result<(), Error> {
        let mut body = json!({"password": password.expose()});
        add_code(&mut body, Some(code));
        self.send(Method::POST, "mfa/disable", Some(&body))
            .await
            .map(|_| ())
    }

    /// Signs the account out everywhere but here; how many sessions ended.
    ///
    /// # Errors
    ///
    /// As any request.
    pub async fn end_other_sessions(&self) -> Result<u32, Error> {
        let answer = self
            .send(Method::POST, "sessions/end-others", Some(&json!({})))
            .await?;
        Ok(answer
            .get("sessionsEnded")
            .and_then(Value::as_u64)
            .map_or(0, |n| u32::try_from(n).unwrap_or(u32::MAX)))
    }

    /// `{method} {root}/auth/{endpoint}`; the answer's JSON (`null` for an empty one).
    async fn send(
        &self,
        method: Method,
        endpoint: &str,
        body: Option<&Value>,
    ) -> Result<Value, Error> {
        // A password sign-in knows its account; a session kept from one (`muster login`)
        // has a refresh token; a bearer token has neither, and no account to manage.
        let session = self.client.account().is_some() || self.client.can_refresh().await;
        let muster = matches!(self.client.connection().kind, ServerKind::Muster { .. });
        if !session || !muster {
            return Err(Error::Unsupported {
                message:
                    "Only a password sign-in to a Muster server has an account to manage here."
                        .to_owned(),
            });
        }
        let url = format!("{}/auth/{endpoint}", self.client.root());
        let idempotent = method == Method::GET;
        let answer = self
            .client
            .send(method, &url, &[], body, None, idempotent)
            .await?;
        if answer.body.is_empty() {
            Ok(Value::Null)
        } else {
            answer.json::<Value>()
        }
    }
}

/// The signed-in account, for "My account".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(Type))]
#[serde(rename_all = "camelCase")]
pub struct MyAccountView {
    /// The account's id.
    pub id: Option<String>,
    /// Its userName, or a system admin's email.
    pub name: Option<String>,
    /// admin, technician or viewer (system admins: admin).
    pub role: String,
    /// Whether it is a system admin.
    pub system_admin: bool,
    /// Whether two-factor sign-in is on.
    pub mfa_enabled: bool,
    /// How many sessions are open, this one included.
    pub active_sessions: u32,
    /// Whether a new password must be chosen first.
    pub must_change_password: bool,
}

/// Two-factor sign-in being set up: the key for the authenticator app, in groups of
/// four, and the same as a QR code. Shown once, on the screen only; never stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(Type))]
#[serde(rename_all = "camelCase")]
pub struct MfaEnrolmentView {
    /// The key (base32), to type in when the code cannot be scanned.
    pub secret: String,
    /// The `otpauth://` address of the key as a QR code.
    pub qr: QrView,
}

/// A QR code as its modules: `size` × `size`, row by row, `true` for dark.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(Type))]
#[serde(rename_all = "camelCase")]
pub struct QrView {
    /// Modules per side.
    pub size: u32,
    /// Every module, row by row; dark is `true`.
    pub modules: Vec<bool>,
}

impl QrView {
    /// `text` as a QR code (error correction level M).
    ///
    /// # Errors
    ///
    /// [`Error::Protocol`] when the text is too long for a QR code.
    pub fn of(text: &str) -> Result<Self, Error> {
        let code = qrcodegen::QrCode::encode_text(text, qrcodegen::QrCodeEcc::Medium)
            .map_err(|_| Error::protocol("the enrolment key is too long for a QR code", b""))?;
        let size = code.size();
        let modules = (0..size)
            .flat_map(|y| (0..size).map(move |x| (x, y)))
            .map(|(x, y)| code.get_module(x, y))
            .collect();
        Ok(Self {
            size: u32::try_from(size).unwrap_or(0),
            modules,
        })
    }
}

/// A key in groups of four characters, as authenticator apps show keys.
fn grouped(key: &str) -> String {
    key.chars()
        .collect::<Vec<_>>()
        .chunks(4)
        .map(|chunk| chunk.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Adds a non-empty two-factor code (spaces removed) to `body`.
fn add_code(body: &mut Value, code: Option<&str>) {
    let code: Option<String> =
        code.map(|code| code.chars().filter(|c| !c.is_whitespace()).collect());
    if let (Some(code), Some(object)) = (code.filter(|c| !c.is_empty()), body.as_object_mut()) {
        object.insert("code".into(), Value::String(code));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_grouped_and_qr_codes_drawn_here() {
        assert_eq!(grouped("JBSWY3DPEHPK3PXP"), "JBSW Y3DP EHPK 3PXP");
        let qr = QrView::of(
            "otpauth://totp/Muster:ada@acme.example?secret=JBSWY3DPEHPK3PXP&issuer=Muster",
        )
        .unwrap_or_else(|error| panic!("{error}"));
        assert!(qr.size >= 21, "version 1 or more: {}", qr.size);
        assert_eq!(qr.modules.len(), (qr.size * qr.size) as usize);
        // The finder pattern's corner is dark, the module beside the pattern light.
        assert!(qr.modules[0]);
        assert!(!qr.modules[7]);
    }
}
