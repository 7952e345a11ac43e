//! "My account" in the app: the signed-in account's own credentials (the engine's
//! [`crate::account`] on the console's session), and the session's own state after a
//! change: a password chosen ends the "choose a new password" state, two-factor set up
//! ends the "set up two-factor" one.

pub use crate::account::{MfaEnrolmentView, MyAccountView, QrView};

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
        let client = self.require_client().await?;
        let sent = client
            .own_account()
            .reauthenticate(&password, code.as_deref())
            .await;
        self.note_and_save_session(sent).await
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
        let client = self.require_client().await?;
        let sent = client
            .own_account()
            .change_password(&current, &new, code.as_deref())
            .await;
        self.note_and_save_session(sent).await?;
        {
            let mut state = self.state.lock().await;
            if let Some(active) = state.active.as_mut() {
                active.session.must_change_password = false;
            }
        }
        Ok(self.status().await)
    }

    /// The signed-in account as the server has it now.
    ///
    /// # Errors
    ///
    /// [`Error::Unsupported`] at a provider that is not Muster, or for a token sign-in.
    pub async fn my_account(&self) -> Result<MyAccountView, Error> {
        let client = self.require_client().await?;
        let me = client.own_account().me().await;
        self.note_and_save_session(me).await
    }

    /// Starts setting up two-factor sign-in with the password: the key to add to an
    /// authenticator app, and its QR code. It is on once [`Console::confirm_mfa`] proves
    /// the app shows the right codes.
    ///
    /// # Errors
    ///
    /// [`Error::Validation`] for a wrong password; [`Error::Conflict`] when two-factor is
    /// already on.
    pub async fn start_mfa(&self, password: Secret) -> Result<MfaEnrolmentView, Error> {
        let client = self.require_client().await?;
        let started = client.own_account().start_mfa(&password).await;
        self.note_and_save_session(started).await
    }

    /// Turns two-factor sign-in on with a code the authenticator app shows now.
    ///
    /// # Errors
    ///
    /// [`Error::Validation`] for a wrong code.
    pub async fn confirm_mfa(&self, code: &str) -> Result<MyAccountView, Error> {
        let client = self.require_client().await?;
        let confirmed = client.own_account().confirm_mfa(code).await;
        self.note_and_save_session(confirmed).await?;
        {
            let mut state = self.state.lock().await;
            if let Some(active) = state.active.as_mut() {
                active.session.mfa_enrollment_required = false;
            }
        }
        self.my_account().await
    }

    /// Turns two-factor sign-in off, with the password and a current code.
    ///
    /// # Errors
    ///
    /// [`Error::Validation`] for a wrong password or code.
    pub async fn disable_mfa(
        &self,
        password: Secret,
        code: String,
    ) -> Result<MyAccountView, Error> {
        let client = self.require_client().await?;
        let disabled = client.own_account().disable_mfa(&password, &code).await;
        self.note_and_save_session(disabled).await?;
        self.my_account().await
    }

    /// Signs this account out everywhere but here; how many sessions ended.
    ///
    /// # Errors
    ///
    /// As any request.
    pub async fn end_other_sessions(&self) -> Result<u32, Error> {
        let client = self.require_client().await?;
        let ended = client.own_account().end_other_sessions().await;
        self.note_and_save_session(ended).await
    }
}
