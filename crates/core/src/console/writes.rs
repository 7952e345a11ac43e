//! Writes: creating and changing users and running account actions, each checked against
//! the rules first, sent to the server, and put into the offline copy from the server's
//! answer.

use muster_scim::message::PatchOperation;
use muster_scim::user::User;
use serde_json::json;

use crate::actions::{Action, ActionResult, Invite};
use crate::cache::Snapshot;
use crate::client::Client;
use crate::discovery::Capabilities;
use crate::error::{Error, Notice};
use crate::rules::{self, UserAction};
use crate::secret::Secret;
use crate::sync::{self};

use super::input::{changes, invite_problem, pair_problem, reassign_of, user_from, validate_input};
use super::status::{capabilities_of, rules_account};
use super::view::{Handover, OutcomeView, SimpleAction, UserDetail, UserInput};
use super::{Active, Console, Data, active};

impl Console {
    /// Creates (invites) a user and, with `welcome`, sends the invitation as it says (the
    /// app it is for, an SMS code).
    ///
    /// # Errors
    ///
    /// [`Error::Validation`] with field errors for a bad form (an SMS code without a
    /// phone number among them); [`Error::Conflict`] for an address in use;
    /// [`Error::Offline`].
    pub async fn create_user(
        &self,
        input: &UserInput,
        welcome: Option<Invite>,
    ) -> Result<UserDetail, Error> {
        validate_input(input, None)?;
        if let Some(problem) = invite_problem(input, welcome) {
            return Err(Error::invalid(&problem.field, problem.message));
        }
        let client = self.writer().await?;
        // Only the extensions the provider takes (another provider refuses Muster's).
        let mut user = user_from(input);
        capabilities_of(active(&*self.state.lock().await)?).fit(&mut user);
        let created = self
            .note_and_save_session(client.users().create(&user).await)
            .await?;
        let mut user = created.value;
        let mut etag = created.etag;
        let name = user.display_name().into_owned();
        let mut outcome = OutcomeView {
            message: format!("{name} is added."),
            complete: true,
            retry: None,
        };
        if let Some(invite) = welcome {
            let id = user.id.clone().unwrap_or_default();
            let action = Action::SendWelcome(invite);
            match self
                .note_and_save_session(client.actions().run(&id, action.clone()).await)
                .await
            {
                Ok(sent) => {
                    user = sent.value;
                    etag = sent.etag;
                    outcome.message = format!(
                        "{name} is added. {}",
                        action.done_message(&user, &ActionResult::default())
                    );
                }
                // The user exists now whatever the invitation did: say both, and offer
                // to send it again.
                Err(error) => {
                    outcome = OutcomeView {
                        message: format!(
                            "{name} is added, but the invitation was not sent: {error}"
                        ),
                        complete: false,
                        retry: Some(UserAction::SendWelcome),
                    };
                }
            }
        }
        self.apply(&user).await;
        let mut detail = self.detail(&user, etag, false).await;
        detail.outcome = Some(outcome);
        Ok(detail)
    }

    /// Saves the edit form: only the fields that changed, as a PATCH sent with the
    /// version the form was loaded at (a 412 conflict means someone else changed the user
    /// meanwhile: reload).
    ///
    /// # Errors
    ///
    /// [`Error::Conflict`] with `stale`; [`Error::Validation`]; [`Error::Offline`].
    pub async fn update_user(
        &self,
        id: &str,
        input: &UserInput,
        version: Option<String>,
    ) -> Result<UserDetail, Error> {
        // The licence and role are checked against what the user holds, once read.
        let own_pair = Some((input.licence.as_deref(), input.role.as_deref()));
        validate_input(input, own_pair)?;
        let client = self.writer().await?;
        let current = self
            .note_and_save_session(client.users().get(id).await)
            .await?;
        if version.is_some() && current.etag.is_some() && version != current.etag {
            return Err(Error::Conflict {
                message: "Someone else changed this user since you opened it. Reload to see \
                          their changes, then edit again."
                    .to_owned(),
                scim_type: None,
                stale: true,
                fields: Vec::new(),
            });
        }
        let before = self.detail(&current.value, None, false).await;
        if let Some(problem) = pair_problem(
            input,
            Some((before.licence.as_deref(), before.role.as_deref())),
        ) {
            return Err(Error::invalid("role", problem));
        }
        for lock in &before.locked_fields {
            if lock.field == "role" && input.role != before.role {
                return Err(Error::invalid("role", lock.reason.clone()));
            }
        }
        let shop = capabilities_of(active(&*self.state.lock().await)?)
            .serves_schema(muster_scim::urn::SHOP_USER);
        let operations = changes(&before, input, shop);
        if operations.is_empty() {
            return Ok(self.detail(&current.value, current.etag, false).await);
        }
        if let Some(why) = crate::rules::unread_refusal(&current.value, &operations) {
            return Err(Error::Unsupported { message: why });
        }
        let etag = version.or(current.etag);
        let saved = self
            .note_and_save_session(client.users().patch(id, operations, etag.as_deref()).await)
            .await?;
        self.apply(&saved.value).await;
        Ok(self.detail(&saved.value, saved.etag, false).await)
    }

    /// Runs an account action without inputs on a user (never on oneself, for the ones
    /// that lock people out).
    ///
    /// # Errors
    ///
    /// [`Error::Unsupported`] when the server lacks it; [`Error::Forbidden`]…
    pub async fn run_action(&self, id: &str, action: SimpleAction) -> Result<UserDetail, Error> {
        let action = match action {
            SimpleAction::SendWelcome => Action::welcome(),
            SimpleAction::SendPasswordReset => Action::SendPasswordReset,
            SimpleAction::SendMagicLink => Action::SendMagicLink,
            SimpleAction::Suspend => Action::Suspend,
            SimpleAction::Unsuspend => Action::Unsuspend,
            SimpleAction::RevokeSessions => Action::RevokeSessions,
            SimpleAction::ResetMfa => Action::ResetMfa,
            SimpleAction::Reactivate => Action::Reactivate,
            SimpleAction::Restore => Action::Restore,
        };
        self.act(id, action).await
    }

    /// Sets a user's password (the admin's own is changed elsewhere). It signs the user
    /// out everywhere.
    ///
    /// # Errors
    ///
    /// [`Error::Validation`] when the password breaks the policy (the message says which
    /// rule).
    pub async fn set_password(
        &self,
        id: &str,
        password: Secret,
        must_change: bool,
    ) -> Result<UserDetail, Error> {
        self.act(
            id,
            Action::SetPassword {
                password,
                must_change,
            },
        )
        .await
    }

    /// Deactivates a user, handing each kind of responsibility to the user named.
    ///
    /// # Errors
    ///
    /// [`Error::Validation`] when a kind the user holds has no one named.
    pub async fn deactivate(&self, id: &str, handovers: &[Handover]) -> Result<UserDetail, Error> {
        let reassign = reassign_of(handovers)?;
        self.act(id, Action::Deactivate { reassign }).await
    }

    /// Deletes a user: on a Muster server the `delete` action, handing each kind of
    /// responsibility to the user named (the server keeps the user for a system admin to
    /// restore, and a system admin's copy keeps them as deleted); elsewhere SCIM's DELETE.
    /// What the server did, in words.
    ///
    /// # Errors
    ///
    /// [`Error::Forbidden`] for oneself; [`Error::Conflict`] naming what must be handed
    /// over first; what the server answers.
    pub async fn delete_user(
        &self,
        id: &str,
        handovers: &[Handover],
    ) -> Result<OutcomeView, Error> {
        let (capabilities, system_admin) = {
            let state = self.state.lock().await;
            let active = active(&state)?;
            let admin = active
                .session
                .account
                .as_ref()
                .is_some_and(|a| a.system_admin);
            (capabilities_of(active), admin)
        };
        let outcome = if capabilities.offers("delete") {
            let reassign = reassign_of(handovers)?;
            let done = self.act(id, Action::Delete { reassign }).await?;
            done.outcome.unwrap_or_else(|| OutcomeView {
                message: format!("{} is deleted.", done.display_name),
                complete: true,
                retry: None,
            })
        } else if !handovers.is_empty() {
            // Nothing here can take the handover: refused rather than dropped unseen.
            return Err(Error::Unsupported {
                message: "This server cannot hand responsibilities over while deleting; \
                          deactivate the user first, or delete without a handover."
                    .to_owned(),
            });
        } else {
            let client = self.may(UserAction::Delete, id).await?;
            let name = self
                .data()
                .await
                .snapshot
                .users
                .iter()
                .find(|u| u.id() == Some(id))
                .map(|u| u.user().display_name().into_owned());
            self.note_and_save_session(client.users().delete(id, None).await)
                .await?;
            OutcomeView {
                message: match name {
                    Some(name) => format!("{name} is deleted."),
                    None => "The user is deleted.".to_owned(),
                },
                complete: true,
                retry: None,
            }
        };
        // Only a system admin's copy keeps deleted users (they can restore them).
        if !(system_admin && capabilities.list_deleted) {
            let id = id.to_owned();
            self.change(move |snapshot| {
                sync::remove_user(snapshot, &id);
            })
            .await;
        }
        Ok(outcome)
    }

    pub(super) async fn act(&self, id: &str, action: Action) -> Result<UserDetail, Error> {
        let kind = UserAction::from_name(action.name()).ok_or_else(|| Error::Unsupported {
            message: format!("'{}' is not an action on users.", action.name()),
        })?;
        let client = self.may(kind, id).await?;
        let message = |user: &User, result: &ActionResult| action.done_message(user, result);
        let capabilities = capabilities_of(active(&*self.state.lock().await)?);
        let sent = if capabilities.is_muster {
            client.actions().run_with_result(id, action.clone()).await
        } else {
            scim_act(&client, id, &action, &capabilities)
                .await
                .map(|done| (done, ActionResult::default()))
        };
        let (done, result) = self.note_and_save_session(sent).await?;
        self.apply(&done.value).await;
        let mut detail = self.detail(&done.value, done.etag, false).await;
        detail.outcome = Some(OutcomeView {
            message: message(&done.value, &result),
            complete: true,
            retry: None,
        });
        Ok(detail)
    }

    /// The client to do `action` to user `id` with, once the engine's rules say the
    /// signed-in account may (the role, system admins only, oneself). Whether it applies
    /// to the user as they are now is the server's to say: the copy may be old.
    pub(super) async fn may(&self, action: UserAction, id: &str) -> Result<Client, Error> {
        let client = self.writer().await?;
        let state = self.state.lock().await;
        let active = active(&state)?;
        let capabilities = capabilities_of(active);
        let account = rules_account(active);
        match rules::refusal(action, Some(id), account.as_ref(), &capabilities) {
            Some(message) => Err(Error::Forbidden { message }),
            None => Ok(client),
        }
    }

    /// Puts a user the server returned into the offline copy.
    pub(super) async fn apply(&self, user: &User) {
        let user = user.clone();
        self.change(move |snapshot| sync::apply_user(snapshot, user))
            .await;
    }

    /// Changes the offline copy, re-indexes it and saves it in the background.
    pub(super) async fn change(&self, edit: impl FnOnce(&mut Snapshot) + Send + 'static) {
        let _gate = self.sync_gate.lock().await;
        let (data, store) = {
            let state = self.state.lock().await;
            let Some(active) = state.active.as_ref() else {
                return;
            };
            (active.data.clone(), active.store.clone())
        };
        let built = tokio::task::spawn_blocking(move || {
            let mut snapshot = data.snapshot.clone();
            edit(&mut snapshot);
            Data::saved(&data, snapshot, store.as_deref())
        })
        .await;
        let mut state = self.state.lock().await;
        let Some(active) = state.active.as_mut() else {
            return;
        };
        match built {
            Ok((data, saved)) => {
                active.data = data;
                note_save(active, saved);
            }
            // The edit itself failed (a bug): the copy stays as it was, and says so.
            Err(error) => {
                tracing::error!(%error, "the offline copy could not be updated");
                active.notices.cache = Some(Notice {
                    text: "The offline copy could not be updated with this change: sync to \
                           bring it up to date."
                        .to_owned(),
                    fix: None,
                    detail: Some(error.to_string()),
                });
            }
        }
    }
}

/// Records how saving the offline copy went: a failure is shown (the copy on disk is
/// the previous one, intact, and memory holds the new one); a success clears any
/// earlier notice about the copy, which it has just replaced.
pub(super) fn note_save(active: &mut Active, saved: Option<Result<(), Error>>) {
    match saved {
        Some(Err(error)) => {
            tracing::warn!(%error, detail = ?error.detail(), "the offline copy could not be saved");
            let mut notice = error.notice(format!(
                "The offline copy could not be saved: {}.",
                error.clause()
            ));
            notice.fix = Some(
                "Nothing is lost: the copy on disk is the one saved before, and this one is \
                 saved at the next change or sync. If the disk is full, free some space."
                    .to_owned(),
            );
            active.notices.cache = Some(notice);
        }
        Some(Ok(())) => active.notices.cache = None,
        None => {}
    }
}

/// An action as SCIM itself does it, for a provider without Muster's actions: `active`
/// for deactivating and reactivating, `password` for setting one (by PATCH, else by
/// replacing the user at the version just read).
pub(super) async fn scim_act(
    client: &Client,
    id: &str,
    action: &Action,
    capabilities: &Capabilities,
) -> Result<crate::users::Versioned<User>, Error> {
    let (path, value) = match action {
        Action::Deactivate { .. } => ("active", json!(false)),
        Action::Reactivate => ("active", json!(true)),
        Action::SetPassword { password, .. } => ("password", json!(password.expose())),
        other => {
            return Err(Error::Unsupported {
                message: format!(
                    "'{}' needs a Muster server; this provider offers what SCIM itself can do.",
                    other.name()
                ),
            });
        }
    };
    if capabilities.patch {
        let change = vec![PatchOperation::replace(path, value)];
        return client.users().patch(id, change, None).await;
    }
    let current = client.users().get(id).await?;
    let mut user = current.value;
    if !user.unread.is_empty() {
        // Replacing the whole user would drop at the server what could not be read here.
        return Err(Error::Unsupported {
            message: "The server sent details of this user Muster could not read, and it \
                      can only change a user by replacing all of them: that would lose those \
                      details, so nothing was changed."
                .to_owned(),
        });
    }
    match action {
        Action::SetPassword { password, .. } => {
            user.password = Some(muster_scim::user::Password::from(password.expose()));
        }
        _ => user.active = value.as_bool(),
    }
    client
        .users()
        .replace(id, &user, current.etag.as_deref())
        .await
}
