//! The signed-in account's own credentials, at a Muster server: giving the password
//! again when a change needs a recent sign-in ([`Error::Reauthenticate`]), and choosing a
//! new password (the way out of [`Error::MustChangePassword`]). Both send the password
//! (and a two-factor code when the account has two-factor on) to the server's
//! `/auth/reauthenticate` and `/auth/password`; nothing is kept.

use reqwest::Method;
use serde_json::{Value, json};

use super::Console;
use super::view::StatusView;
use crate::error::Error;
use crate::secret::Secret;

impl Console {
    /// Gives the password (and a current code when two-factor is on) again, so changes
    /// to credentials are allowed for the next minutes; repeat the refused change after.
    ///
    /// # Errors
    ///
    /// [`Error::Validation`] for a wrong password or code (the server counts it toward
    /// its sign-in limit); [`Error::Unsupported`] at a provider that is not Muster.
    pub async fn reauthenticate(
        &self,
        password: Secret,
        code: Option<String>,
    ) -> Result<(), Error> {
        let mut body = json!({"password": password.expose()});
        add_code(&mut body, code);
        self.send_own(&body, "reauthenticate").await
    }

    /// Chooses a new password, with the current one (and a current code when two-factor
    /// is on). The server ends the account's other sessions; this one goes on, and the
    /// "choose a new password" state is over.
    ///
    /// # Errors
    ///
    /// [`Error::Validation`] for a wrong current password or code, or a new password the
    /// organisation's rules refuse (the message says which rule); [`Error::Unsupported`]
    /// at a provider that is not Muster.
    pub async fn change_password(
        &self,
        current: Secret,
        new: Secret,
        code: Option<String>,
    ) -> Result<StatusView, Error> {
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
        self.send_own(&body, "password").await?;
        {
            let mut state = self.state.lock().await;
            if let Some(active) = state.active.as_mut() {
                active.must_change_password = false;
            }
        }
        Ok(self.status().await)
    }

    /// `POST {root}/auth/{endpoint}` with `body` on the current session.
    async fn send_own(&self, body: &Value, endpoint: &str) -> Result<(), Error> {
        let client = self.require_client().await?;
        if client.account().is_none() {
            return Err(Error::Unsupported {
                message: "Only a password sign-in to a Muster server has a password to give."
                    .to_owned(),
            });
        }
        let url = format!("{}/auth/{endpoint}", client.root());
        let sent = client
            .send(Method::POST, &url, &[], Some(body), None, false)
            .await
            .map(|_| ());
        self.online(sent).await
    }
}

/// Adds a non-empty two-factor code (spaces removed) to `body`.
fn add_code(body: &mut Value, code: Option<String>) {
    let code: Option<String> =
        code.map(|code| code.chars().filter(|c| !c.is_whitespace()).collect());
    if let (Some(code), Some(object)) = (code.filter(|c| !c.is_empty()), body.as_object_mut()) {
        object.insert("code".into(), Value::String(code));
    }
}
