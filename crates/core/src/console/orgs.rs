//! The server's organisations for a system admin: the ones they can switch to,
//! favourites and switching; and administering them (the table's rows with what each
//! offers, the plans the form offers, create, suspend, reactivate, change plan, delete with
//! the id typed again, the system-level audit log), each change answered with what the
//! server saved.
//!
//! Who may administer them is [`ProviderFeature::Organisations`] as the status reports it
//! (system admins only), asked here again before anything is sent.

use serde::{Deserialize, Serialize};
#[cfg(feature = "specta")]
use specta::Type;

use crate::auth::Account;
use crate::client::Client;
use crate::error::Error;
use crate::orgs::{self, NewOrganisation, OrgStatus, Organisation, Plan};

use super::profiles::placeholder;
use super::status::{capabilities_of, feature_view, status_of};
use super::view::{AuditPage, AuditQuery, Choice, OrgView, ProviderFeature, StatusView};
use super::{Console, active, active_mut, not_signed_in, store, view};

/// What may be done to an organisation as it is now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(Type))]
#[serde(rename_all = "kebab-case")]
pub enum OrgAction {
    /// Suspend it (it is active).
    Suspend,
    /// Reactivate it (it is suspended).
    Reactivate,
    /// Move it to another plan.
    SetPlan,
    /// Delete it for good.
    Delete,
}

/// One row of the organisations table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(Type))]
#[serde(rename_all = "camelCase")]
pub struct OrgRow {
    /// Its id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// How many users it has.
    pub users: u32,
    /// Its plan's id.
    pub plan: String,
    /// Its plan's name (the id when the server does not list it).
    pub plan_name: String,
    /// `active` or `suspended`.
    pub status: String,
    /// The status in words.
    pub status_label: String,
    /// When it was created (RFC 3339).
    pub created: String,
    /// What may be done to it now, in the order to offer them.
    pub offers: Vec<OrgAction>,
}

/// What the form to create an organisation offers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(Type))]
#[serde(rename_all = "camelCase")]
pub struct OrgChoices {
    /// The server's plans, in its order, each with what it includes.
    pub plans: Vec<Choice>,
    /// The plan chosen unless another is.
    pub default_plan: String,
    /// What an id may be, in words.
    pub id_rule: String,
}

/// An organisation to create, as the form sends it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(Type))]
#[serde(rename_all = "camelCase")]
pub struct OrgInput {
    /// Its id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// Its plan; `None`: the server's default.
    pub plan: Option<String>,
}

/// A change to an organisation, as the server saved it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(Type))]
#[serde(rename_all = "camelCase")]
pub struct OrgOutcome {
    /// The organisation as it now is; `None` after a deletion.
    pub row: Option<OrgRow>,
    /// What happened, in words.
    pub message: String,
}

impl Console {
    /// Every organisation of the server, by id, with what may be done to each.
    ///
    /// # Errors
    ///
    /// [`Error::Forbidden`] for anyone but a system admin; [`Error::Unsupported`] at a
    /// provider that is not Muster.
    pub async fn org_rows(&self) -> Result<Vec<OrgRow>, Error> {
        let client = self.org_admin().await?;
        let organisations = client.organisations();
        let both =
            async { Ok::<_, Error>((organisations.list().await?, organisations.plans().await?)) }
                .await;
        let (listed, plans) = self.note_and_save_session(both).await?;
        Ok(listed.into_iter().map(|org| row(org, &plans)).collect())
    }

    /// What the form to create an organisation offers: the server's plans.
    ///
    /// # Errors
    ///
    /// As [`Console::org_rows`].
    pub async fn org_choices(&self) -> Result<OrgChoices, Error> {
        let client = self.org_admin().await?;
        let plans = self
            .note_and_save_session(client.organisations().plans().await)
            .await?;
        Ok(OrgChoices {
            default_plan: plans
                .first()
                .map(|plan| plan.id.clone())
                .unwrap_or_default(),
            plans: plans
                .into_iter()
                .map(|plan| Choice {
                    label: if plan.description.is_empty() {
                        plan.name
                    } else {
                        format!("{}: {}", plan.name, plan.description)
                    },
                    value: plan.id,
                })
                .collect(),
            id_rule: format!("Its id is {}; it cannot be changed later.", orgs::ID_RULE),
        })
    }

    /// Creates an organisation; answered as saved. Sent once.
    ///
    /// # Errors
    ///
    /// [`Error::Validation`] naming `id`, `name` or `plan`; [`Error::Conflict`] for an id
    /// that is taken; as [`Console::org_rows`].
    pub async fn create_org(&self, input: OrgInput) -> Result<OrgOutcome, Error> {
        let new = NewOrganisation {
            id: input.id,
            name: input.name,
            plan: input.plan,
        };
        new.check()?;
        let client = self.org_admin().await?;
        let created = self
            .note_and_save_session(client.organisations().create(&new).await)
            .await?;
        let row = self.saved_row(&client, created).await;
        let message = format!(
            "Created {} ({}) on the {} plan.",
            row.name, row.id, row.plan_name
        );
        Ok(OrgOutcome {
            row: Some(row),
            message,
        })
    }

    /// Suspends organisation `id`: its users are signed out and cannot sign in, and its
    /// API refuses everything until it is reactivated.
    ///
    /// # Errors
    ///
    /// [`Error::Conflict`] when it is suspended already; as [`Console::org_rows`].
    pub async fn suspend_org(&self, id: &str) -> Result<OrgOutcome, Error> {
        self.change_org(id, Change::Suspend).await
    }

    /// Reactivates suspended organisation `id`.
    ///
    /// # Errors
    ///
    /// [`Error::Conflict`] when it is active; as [`Console::org_rows`].
    pub async fn reactivate_org(&self, id: &str) -> Result<OrgOutcome, Error> {
        self.change_org(id, Change::Reactivate).await
    }

    /// Moves organisation `id` to `plan`.
    ///
    /// # Errors
    ///
    /// [`Error::Validation`] for a plan the server does not offer; as
    /// [`Console::org_rows`].
    pub async fn set_org_plan(&self, id: &str, plan: &str) -> Result<OrgOutcome, Error> {
        self.change_org(id, Change::Plan(plan)).await
    }

    /// Sends one change of organisation `id`; its row as the server saved it, worded.
    async fn change_org(&self, id: &str, change: Change<'_>) -> Result<OrgOutcome, Error> {
        orgs::check_id("id", id.trim())?;
        let client = self.org_admin().await?;
        let organisations = client.organisations();
        let sent = match change {
            Change::Suspend => organisations.suspend(id).await,
            Change::Reactivate => organisations.reactivate(id).await,
            Change::Plan(plan) => organisations.set_plan(id, plan).await,
        };
        let saved = self.note_and_save_session(sent).await?;
        let row = self.saved_row(&client, saved).await;
        let message = match change {
            Change::Suspend => format!(
                "Suspended {}: its users are signed out and cannot sign in until it is \
                 reactivated.",
                row.name
            ),
            Change::Reactivate => format!("Reactivated {}: its users can sign in again.", row.name),
            Change::Plan(_) => format!("{} is now on the {} plan.", row.name, row.plan_name),
        };
        Ok(OrgOutcome {
            row: Some(row),
            message,
        })
    }

    /// Deletes organisation `id` and everything of it, for good; `confirm` must repeat
    /// the id.
    ///
    /// # Errors
    ///
    /// [`Error::Validation`] naming `confirm` when it does not; as [`Console::org_rows`].
    pub async fn delete_org(&self, id: &str, confirm: &str) -> Result<OrgOutcome, Error> {
        orgs::check_id("id", id.trim())?;
        orgs::check_confirmation(id, confirm)?;
        let client = self.org_admin().await?;
        let deleted = self
            .note_and_save_session(client.organisations().delete(id, confirm).await)
            .await?;
        let users = match deleted.users_deleted {
            1 => "its one user".to_owned(),
            n => format!("its {n} users"),
        };
        Ok(OrgOutcome {
            row: None,
            message: format!(
                "Deleted {} ({}) with {users}: nothing of it is left on the server.",
                deleted.name, deleted.id
            ),
        })
    }

    /// A page of the server's own audit log: organisations created, suspended,
    /// reactivated, re-planned and deleted, and system admins' sign-ins.
    ///
    /// # Errors
    ///
    /// As [`Console::org_rows`].
    pub async fn system_audit(&self, query: &AuditQuery) -> Result<AuditPage, Error> {
        let client = self.org_admin().await?;
        self.note_and_save_session(client.organisations().audit(query).await)
            .await
    }

    /// The row of an organisation the server just answered, its plan named from the
    /// server's list (the id when that cannot be read).
    async fn saved_row(&self, client: &Client, saved: Organisation) -> OrgRow {
        let plans = self
            .note_and_save_session(client.organisations().plans().await)
            .await
            .unwrap_or_default();
        row(saved, &plans)
    }

    /// The client, when the signed-in account may administer the server's organisations
    /// (the same answer the status gives for [`ProviderFeature::Organisations`]).
    async fn org_admin(&self) -> Result<Client, Error> {
        let state = self.state.lock().await;
        let active = active(&state)?;
        let client = active.session.client.clone().ok_or_else(not_signed_in)?;
        let capabilities = capabilities_of(active);
        let feature = feature_view(&capabilities, active, ProviderFeature::Organisations.into());
        match feature.reason {
            None => Ok(client),
            Some(message) if !capabilities.is_muster => Err(Error::Unsupported { message }),
            Some(message) => Err(Error::Forbidden { message }),
        }
    }

    /// Organisations a system admin can open, favourites first.
    ///
    /// # Errors
    ///
    /// [`Error::Forbidden`] for anyone but a system admin.
    pub async fn organisations(&self, query: &str) -> Result<Vec<OrgView>, Error> {
        let client = self.require_client().await?;
        let listed = self
            .note_and_save_session(client.organisations().list().await)
            .await?;
        let favourites = self.favourites().await;
        let needle = query.trim().to_lowercase();
        let mut orgs: Vec<OrgView> = listed
            .into_iter()
            .map(|org| OrgView {
                favourite: favourites.contains(&org.id),
                user_count: view::clamp(org.user_count),
                id: org.id,
                name: org.name,
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

/// A change to an organisation that leaves it in place.
#[derive(Debug, Clone, Copy)]
enum Change<'a> {
    Suspend,
    Reactivate,
    Plan(&'a str),
}

/// The row of `org`, its plan named from `plans`.
fn row(org: Organisation, plans: &[Plan]) -> OrgRow {
    let plan_name = plans
        .iter()
        .find(|plan| plan.id == org.plan)
        .map_or_else(|| org.plan.clone(), |plan| plan.name.clone());
    let (status_label, turn) = match org.status {
        OrgStatus::Active => ("Active", OrgAction::Suspend),
        OrgStatus::Suspended => ("Suspended", OrgAction::Reactivate),
    };
    OrgRow {
        users: view::clamp(org.user_count),
        status: org.status.name().to_owned(),
        status_label: status_label.to_owned(),
        offers: vec![OrgAction::SetPlan, turn, OrgAction::Delete],
        plan_name,
        id: org.id,
        name: org.name,
        plan: org.plan,
        created: org.created,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn org(status: OrgStatus, plan: &str) -> Organisation {
        Organisation {
            id: "acme".into(),
            name: "Acme".into(),
            created: "2030-01-01T09:00:00Z".into(),
            user_count: 3,
            plan: plan.into(),
            status,
        }
    }

    #[test]
    fn a_row_offers_what_its_status_allows() {
        let plans = [Plan {
            id: "standard".into(),
            name: "Standard".into(),
            description: String::new(),
        }];
        let active = row(org(OrgStatus::Active, "standard"), &plans);
        assert_eq!(
            active.offers,
            [OrgAction::SetPlan, OrgAction::Suspend, OrgAction::Delete]
        );
        assert_eq!(
            active.plan_name, "Standard",
            "named from the server's plans"
        );
        let suspended = row(org(OrgStatus::Suspended, "legacy"), &plans);
        assert_eq!(
            suspended.offers,
            [OrgAction::SetPlan, OrgAction::Reactivate, OrgAction::Delete]
        );
        assert_eq!(suspended.plan_name, "legacy", "an unlisted plan by its id");
        assert_eq!(suspended.status_label, "Suspended");
    }
}
