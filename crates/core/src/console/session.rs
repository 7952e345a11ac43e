//! The session: signing in (password, two-factor, API token), refreshing, signing out, and
//! what each request's result says about the connection and the session, which is saved to
//! the keychain when it moves on.

use std::sync::Arc;

use crate::auth::Credentials;
use crate::client::{Client, SignIn};
use crate::error::{Error, Notice};
use crate::secret::Secret;
use crate::vault::SecretKind;

use super::profiles::placeholder;
use super::status::status_of;
use super::view::StatusView;
use super::{Console, Data, Session, active, active_mut, store};

impl Console {
    /// Signs in to the open (Muster) profile with email and password. With two-factor on,
    /// the status says `mfaRequired` and [`Console::complete_mfa`] finishes.
    ///
    /// # Errors
    ///
    /// [`Error::Unauthorized`] for wrong credentials, [`Error::Offline`]…
    pub async fn sign_in(&self, email: &str, password: Secret) -> Result<StatusView, Error> {
        let connection = {
            let state = self.state.lock().await;
            self.connection(active(&state)?)?
        };
        let signed = Client::sign_in(
            connection,
            Credentials::Password {
                email: email.trim().to_owned(),
                password,
            },
            &self.transport,
        )
        .await?;
        match signed {
            SignIn::Done(client) => self.signed_in(client).await,
            SignIn::MfaRequired(pending) => {
                let mut state = self.state.lock().await;
                active_mut(&mut state)?.session.pending_mfa = Some(Arc::new(pending));
                Ok(status_of(&state))
            }
        }
    }

    /// Finishes a sign-in with the authenticator's code. A wrong code can be typed again.
    ///
    /// # Errors
    ///
    /// [`Error::Unauthorized`] for a wrong or expired code.
    pub async fn complete_mfa(&self, code: &str) -> Result<StatusView, Error> {
        let pending = {
            let state = self.state.lock().await;
            active(&state)?
                .session
                .pending_mfa
                .clone()
                .ok_or_else(|| Error::Unauthorized {
                    message: "Sign in with your password first.".to_owned(),
                })?
        };
        let client = pending.complete(code.trim()).await?;
        self.signed_in(client).await
    }

    /// Connects the open profile with an API token (any SCIM provider, or a Muster API
    /// token).
    ///
    /// # Errors
    ///
    /// [`Error::Unauthorized`] when the server refuses the token.
    pub async fn sign_in_with_token(&self, token: Secret) -> Result<StatusView, Error> {
        let connection = {
            let state = self.state.lock().await;
            self.connection(active(&state)?)?
        };
        let signed =
            Client::sign_in(connection, Credentials::Token(token), &self.transport).await?;
        let SignIn::Done(client) = signed else {
            return Err(Error::protocol("a token sign-in asked for two-factor", b""));
        };
        // Prove the token works before keeping it.
        client.discover().await?;
        self.signed_in(client).await
    }

    pub(super) async fn signed_in(&self, client: Client) -> Result<StatusView, Error> {
        let tokens = client.tokens().await;
        let mut state = self.state.lock().await;
        let active = active_mut(&mut state)?;
        let stored = self
            .vault_for(&active.profile)
            .store_tokens(&active.profile.name, &tokens);
        let keep_copy = stored.is_ok();
        active.session.account = client.account().cloned();
        self.remember_account(&active.profile.name, active.session.account.as_ref());
        active.session.must_change_password = client.must_change_password();
        active.session.mfa_enrollment_required = client.mfa_enrollment_required();
        active.session.client = Some(client);
        active.session.pending_mfa = None;
        active.link.online = true;
        active.link.offline_reason = None;
        active.session.offered = Some(tokens.access.clone());
        if let Err(error) = stored {
            active.session.kept = None;
            active.notices.session = Some(session_only(&error));
        } else {
            active.session.kept = Some(tokens.access);
            active.notices.session = None;
        }
        if keep_copy && active.store.is_none() {
            let mut loaded = std::mem::replace(active, placeholder(&active.profile));
            drop(state);
            self.load_cache(&mut loaded, true).await;
            let mut state = self.state.lock().await;
            state.active = Some(loaded);
            return Ok(status_of(&state));
        }
        Ok(status_of(&state))
    }

    /// Checks the stored session with the server and loads who is signed in; goes
    /// online or offline accordingly. Call it when the app starts and to retry.
    ///
    /// # Errors
    ///
    /// [`Error::Unauthorized`] when the session has ended (it is then forgotten).
    pub async fn refresh(&self) -> Result<StatusView, Error> {
        let Some(client) = self.client().await? else {
            return Ok(self.status().await);
        };
        match self.note_and_save_session(client.discover().await).await {
            Ok(fresh) => {
                self.renew_capabilities(&client, fresh).await;
                // The moment to offer a session the keychain refused earlier again.
                self.keep_session(true).await;
                Ok(self.status().await)
            }
            // Offline is a state, shown in the status, not a failure of this call.
            Err(Error::Offline { .. }) => Ok(self.status().await),
            Err(error) => Err(error),
        }
    }

    /// Signs out: ends the session at the server (when reachable), and wipes the
    /// profile's keychain entries and its offline copy.
    ///
    /// # Errors
    ///
    /// [`Error::KeychainUnavailable`] when the keychain entries cannot be removed.
    pub async fn sign_out(&self) -> Result<StatusView, Error> {
        let taken = {
            let mut state = self.state.lock().await;
            let active = active_mut(&mut state)?;
            let client = active.session.client.take();
            active.session.account = None;
            active.session.pending_mfa = None;
            active.data = Data::empty();
            (client, active.store.take(), active.profile.name.clone())
        };
        let (client, store, name) = taken;
        // The server ends the session; if it cannot be told, say so: the session stays
        // valid there until it expires.
        let unended = match client {
            Some(client) => client.sign_out().await.err(),
            None => None,
        };
        // A system admin's copies of the other organisations they opened go too; first,
        // while the open one's file still names its organisation (and so its key).
        store::remove_org_copies(&self.vault, &self.dirs.cache, &name)?;
        if let Some(store) = store {
            store.remove()?;
        }
        store::remove_cache(&self.dirs.cache, &name)?;
        self.vault.delete_profile(&name)?;
        self.remember_account(&name, None);
        if let Some(error) = unended {
            tracing::warn!(%error, detail = ?error.detail(), "the server could not be told of the sign-out");
            let mut state = self.state.lock().await;
            if let Some(active) = state.active.as_mut() {
                active.notices.session = Some(error.notice(
                    "Signed out on this computer, but the server could not be told: the \
                     session stays valid there until it expires.",
                ));
            }
        }
        Ok(self.status().await)
    }

    /// Notes what a request's result says about the connection and the session, and
    /// passes the result on: offline or back online; a session the server has ended is
    /// forgotten (the offline copy stays viewable); otherwise the session, which the
    /// client may have refreshed on the way, is saved to the keychain if it changed.
    pub(super) async fn note_and_save_session<T>(
        &self,
        result: Result<T, Error>,
    ) -> Result<T, Error> {
        let client = {
            let mut state = self.state.lock().await;
            let Some(active) = state.active.as_mut() else {
                return result;
            };
            if let Err(Error::MustChangePassword { .. }) = &result {
                // The "choose a new password" screen, until it is chosen.
                active.session.must_change_password = true;
            }
            if let Err(Error::MfaEnrollmentRequired { .. }) = &result {
                // The "set up two-factor" screen, until it is on.
                active.session.mfa_enrollment_required = true;
            }
            if let Err(error @ Error::Offline { .. }) = &result {
                active.link.online = false;
                active.link.offline_reason = Some(error.notice(error.to_string()));
            } else {
                active.link.online = true;
                active.link.offline_reason = None;
            }
            active.session.client.clone()
        };
        match (&result, client) {
            // Ended only once the client has given up on its session (its refresh was
            // refused too, or it never had one).
            (Err(Error::Unauthorized { .. }), Some(client)) if !client.can_refresh().await => {
                self.session_ended(&client).await;
            }
            _ => self.keep_session(false).await,
        }
        result
    }

    /// Forgets a session the server has ended, if `client` is still the console's (a
    /// 401 meant for a client replaced by a new sign-in since says nothing about the new
    /// one). The offline copy stays viewable.
    pub(super) async fn session_ended(&self, client: &Client) {
        let profile = {
            let mut state = self.state.lock().await;
            let Some(active) = state.active.as_mut() else {
                return;
            };
            if !active
                .session
                .client
                .as_ref()
                .is_some_and(|c| c.same_session(client))
            {
                return;
            }
            active.session = Session {
                pending_mfa: active.session.pending_mfa.take(),
                ..Session::default()
            };
            active.notices.session = Some(Notice::new(
                "Your session has ended: sign in again to make changes (the offline copy \
                 stays viewable).",
            ));
            active.profile.name.clone()
        };
        for kind in [SecretKind::AccessToken, SecretKind::RefreshToken] {
            // Cannot matter to the user: the server has ended this session, so a token
            // left in the keychain is one it refuses; the next sign-in replaces it.
            if let Err(error) = self.vault.delete(&profile, kind) {
                tracing::warn!(%error, detail = ?error.detail(), "an ended session's token stays in the keychain");
            }
        }
    }

    /// Saves the session to the keychain when the client's tokens are not the ones it
    /// holds. Muster's refresh tokens rotate and the client refreshes by itself when the
    /// access token expires mid-session; without this the keychain would keep a spent
    /// refresh token, and the next start would present it and lose the session (the
    /// server ends a session whose old refresh token comes back, as a suspected theft).
    /// When the keychain cannot be reached the session goes on in memory with a notice
    /// saying so, and it is offered again when it changes or, with `retry`, on
    /// [`Console::refresh`] (the app's start and its "Try again").
    pub(super) async fn keep_session(&self, retry: bool) {
        let (client, profile, vault, kept, offered) = {
            let state = self.state.lock().await;
            let Some(active) = state.active.as_ref() else {
                return;
            };
            let Some(client) = active.session.client.clone() else {
                return;
            };
            (
                client,
                active.profile.name.clone(),
                self.vault_for(&active.profile),
                active.session.kept.clone(),
                active.session.offered.clone(),
            )
        };
        let tokens = client.tokens().await;
        if kept.as_ref() == Some(&tokens.access)
            || (!retry && offered.as_ref() == Some(&tokens.access))
        {
            return;
        }
        let stored = vault.store_tokens(&profile, &tokens);
        let mut state = self.state.lock().await;
        let Some(active) = state.active.as_mut() else {
            return;
        };
        if active.profile.name != profile {
            return;
        }
        active.session.offered = Some(tokens.access.clone());
        match stored {
            Ok(()) => {
                active.session.kept = Some(tokens.access);
                active.notices.session = None;
            }
            Err(error) => active.notices.session = Some(session_only(&error)),
        }
    }
}

/// The notice for a session the keychain could not take: "Your sign-in is not saved: no
/// keychain is running.", with the keychain's fix and what happens meanwhile.
pub(super) fn session_only(error: &Error) -> Notice {
    let mut notice = error.notice(format!("Your sign-in is not saved: {}.", error.clause()));
    let meanwhile = "You are signed in for this session only; the sign-in is saved as soon \
                     as the keychain can be reached.";
    notice.fix = Some(match notice.fix {
        Some(fix) => format!("{fix} {meanwhile}"),
        None => meanwhile.to_owned(),
    });
    notice
}
