//! Organisations a system admin can switch to, favourites, and switching.

use reqwest::Method;
use serde_json::Value;

use crate::auth::Account;
use crate::client::Client;
use crate::error::Error;

use super::profiles::placeholder;
use super::reads::text;
use super::status::status_of;
use super::view::{OrgView, StatusView};
use super::{Console, active, active_mut, not_signed_in, store, view};

impl Console {
    /// Organisations a system admin can open, favourites first.
    ///
    /// # Errors
    ///
    /// [`Error::Forbidden`] for anyone but a system admin.
    pub async fn organisations(&self, query: &str) -> Result<Vec<OrgView>, Error> {
        let client = self.require_client().await?;
        let url = format!("{}/admin/orgs", client.root());
        let answer = self
            .note_and_save_session(client.send(Method::GET, &url, &[], None, None, true).await)
            .await?;
        let value: Value = answer.json()?;
        let favourites = self.favourites().await;
        let needle = query.trim().to_lowercase();
        let mut orgs: Vec<OrgView> = value
            .get("orgs")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|org| {
                let id = text(org, "id")?;
                let name = text(org, "name").unwrap_or_else(|| id.clone());
                Some(OrgView {
                    favourite: favourites.contains(&id),
                    user_count: org
                        .get("userCount")
                        .and_then(Value::as_u64)
                        .map_or(0, view::clamp),
                    id,
                    name,
                })
            })
            .filter(|org| {
                needle.is_empty()
                    || org.id.to_lowercase().contains(&needle)
                    || org.name.to_lowercase().contains(&needle)
            })
            .collect();
        orgs.sort_by(|a, b| b.favourite.cmp(&a.favourite).then(a.name.cmp(&b.name)));
        Ok(orgs)
    }

    /// Stars or unstars an organisation for the open profile.
    ///
    /// # Errors
    ///
    /// [`Error::Storage`] when the settings cannot be saved.
    pub async fn set_favourite(&self, org: &str, favourite: bool) -> Result<(), Error> {
        let name = {
            let state = self.state.lock().await;
            active(&state)?.profile.name.clone()
        };
        let mut settings = store::Settings::load(&self.dirs.config);
        let list = settings.favourites.entry(name).or_default();
        list.retain(|o| o != org);
        if favourite {
            list.push(org.to_owned());
        }
        settings.save(&self.dirs.config)
    }

    /// Keeps who signed in to a profile (not a secret) so a stored session knows its
    /// role when the app restarts. Best effort: without it the role shows as unknown.
    pub(super) fn remember_account(&self, profile: &str, account: Option<&Account>) {
        let mut settings = store::Settings::load(&self.dirs.config);
        match account {
            Some(account) => settings
                .accounts
                .insert(profile.to_owned(), account.clone()),
            None => settings.accounts.remove(profile),
        };
        if let Err(error) = settings.save(&self.dirs.config) {
            tracing::warn!(%error, "could not save the desktop settings");
        }
    }

    pub(super) async fn favourites(&self) -> Vec<String> {
        let state = self.state.lock().await;
        let Some(active) = state.active.as_ref() else {
            return Vec::new();
        };
        store::Settings::load(&self.dirs.config)
            .favourites
            .remove(&active.profile.name)
            .unwrap_or_default()
    }

    /// Switches a system admin to another organisation of the same server: its own
    /// offline copy, the same session.
    ///
    /// # Errors
    ///
    /// [`Error::Forbidden`] unless signed in as a system admin.
    pub async fn switch_org(&self, org: &str) -> Result<StatusView, Error> {
        let mut active = {
            let mut state = self.state.lock().await;
            let current = active_mut(&mut state)?;
            if !current
                .session
                .account
                .as_ref()
                .is_some_and(|a| a.system_admin)
            {
                return Err(Error::Forbidden {
                    message: "Only a system admin can switch organisations.".to_owned(),
                });
            }
            let Some(client) = current.session.client.clone() else {
                return Err(not_signed_in());
            };
            let mut next = placeholder(&current.profile);
            next.org = Some(org.trim().to_owned());
            next.session.account = current.session.account.clone();
            let connection = self.connection(&next)?;
            next.session.client = Some(Client::from_tokens(
                connection,
                client.tokens().await,
                &self.transport,
            )?);
            next
        };
        self.load_cache(&mut active, true).await;
        let mut state = self.state.lock().await;
        state.active = Some(active);
        Ok(status_of(&state))
    }
}
