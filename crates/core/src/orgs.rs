//! A Muster server's organisations (`/admin/orgs`), for system admins: listed with their
//! user count, plan and status; created; suspended (their users cannot sign in and their
//! API refuses everything) and reactivated; moved to another plan; deleted for good, with
//! the id repeated to confirm. The plans are the server's (`/admin/plans`), and so is the
//! system-level audit log of these changes (`/admin/audit`).
//!
//! Only a Muster server has them; any other provider gives [`Error::Unsupported`].

use reqwest::Method;
use serde_json::{Value, json};

use crate::audit::{AuditPage, AuditQuery};
use crate::client::Client;
use crate::connection::ServerKind;
use crate::error::Error;

pub use muster_api::orgs::{
    DeletedOrganisation, ID_RULE, MAX_ID, MAX_NAME, OrgStatus, Organisation, Plan,
};

/// Checks an organisation id as the server would.
///
/// # Errors
///
/// [`Error::Validation`] naming `field`.
pub fn check_id(field: &str, id: &str) -> Result<(), Error> {
    if muster_api::orgs::is_org_id(id) {
        Ok(())
    } else if id.is_empty() {
        Err(Error::invalid(
            field,
            format!("Give the organisation an id: {ID_RULE}."),
        ))
    } else {
        Err(Error::invalid(
            field,
            format!("'{id}' is not an organisation id: use {ID_RULE}."),
        ))
    }
}

/// An organisation to create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewOrganisation {
    /// Its id ([`ID_RULE`]); it cannot be changed later.
    pub id: String,
    /// Its name (1 to [`MAX_NAME`] characters).
    pub name: String,
    /// Its plan's id; `None`: the server's default.
    pub plan: Option<String>,
}

impl NewOrganisation {
    /// Checks the request as the server would, so a mistake is named by its field before
    /// anything is sent (the plan is the server's to know).
    ///
    /// # Errors
    ///
    /// [`Error::Validation`] naming `id` or `name`.
    pub fn check(&self) -> Result<(), Error> {
        check_id("id", self.id.trim())?;
        if !muster_api::orgs::is_org_name(&self.name) {
            return Err(Error::invalid(
                "name",
                format!("Give the organisation a name of 1 to {MAX_NAME} characters."),
            ));
        }
        Ok(())
    }
}

/// Checks that `confirm` repeats organisation `id`, as a deletion needs.
///
/// # Errors
///
/// [`Error::Validation`] naming `confirm`.
pub fn check_confirmation(id: &str, confirm: &str) -> Result<(), Error> {
    if confirm.trim() == id.trim() && !id.trim().is_empty() {
        Ok(())
    } else {
        Err(Error::invalid(
            "confirm",
            format!(
                "Type the organisation's id, {}, to delete it: this cannot be undone.",
                id.trim()
            ),
        ))
    }
}

/// The server's organisations, as its system admins see them.
#[derive(Debug, Clone, Copy)]
pub struct Organisations<'a> {
    client: &'a Client,
}

impl Client {
    /// The server's organisations (a Muster server, system admins only).
    pub fn organisations(&self) -> Organisations<'_> {
        Organisations { client: self }
    }
}

impl Organisations<'_> {
    /// Every organisation, by id.
    ///
    /// # Errors
    ///
    /// [`Error::Forbidden`] for anyone but a system admin.
    pub async fn list(&self) -> Result<Vec<Organisation>, Error> {
        let value = self.get("/admin/orgs").await?;
        parse(value.get("orgs").cloned(), "the organisation list")
    }

    /// The plans the server offers, in their order.
    ///
    /// # Errors
    ///
    /// [`Error::Forbidden`] for anyone but a system admin.
    pub async fn plans(&self) -> Result<Vec<Plan>, Error> {
        let value = self.get("/admin/plans").await?;
        parse(value.get("plans").cloned(), "the plan list")
    }

    /// Creates an organisation; answers it as saved. Sent once.
    ///
    /// # Errors
    ///
    /// [`Error::Validation`] naming the field (an unknown plan is the server's to say);
    /// [`Error::Conflict`] for an id that is taken.
    pub async fn create(&self, new: &NewOrganisation) -> Result<Organisation, Error> {
        new.check()?;
        let mut body = json!({"id": new.id.trim(), "name": new.name.trim()});
        if let Some(plan) = new.plan.as_deref().map(str::trim).filter(|p| !p.is_empty()) {
            body["plan"] = json!(plan);
        }
        let value = self
            .send(Method::POST, "/admin/orgs", Some(&body), false)
            .await?;
        parse(Some(value), "the new organisation")
    }

    /// Suspends organisation `id`: its sessions end and nothing of it answers until it is
    /// reactivated. Answers it as saved.
    ///
    /// # Errors
    ///
    /// [`Error::Conflict`] when it is suspended already; [`Error::NotFound`].
    pub async fn suspend(&self, id: &str) -> Result<Organisation, Error> {
        self.act(id, "suspend").await
    }

    /// Reactivates suspended organisation `id`. Answers it as saved.
    ///
    /// # Errors
    ///
    /// [`Error::Conflict`] when it is active; [`Error::NotFound`].
    pub async fn reactivate(&self, id: &str) -> Result<Organisation, Error> {
        self.act(id, "reactivate").await
    }

    /// Moves organisation `id` to `plan`. Answers it as saved.
    ///
    /// # Errors
    ///
    /// [`Error::Validation`] for a plan the server does not offer; [`Error::NotFound`].
    pub async fn set_plan(&self, id: &str, plan: &str) -> Result<Organisation, Error> {
        check_id("id", id.trim())?;
        if plan.trim().is_empty() {
            return Err(Error::invalid("plan", "Choose a plan."));
        }
        let path = format!("/admin/orgs/{}/plan", id.trim());
        let body = json!({"plan": plan.trim()});
        let value = self.send(Method::PUT, &path, Some(&body), true).await?;
        parse(Some(value), "the organisation")
    }

    /// Deletes organisation `id` and everything of it, for good; `confirm` must repeat the
    /// id. Sent once.
    ///
    /// # Errors
    ///
    /// [`Error::Validation`] naming `confirm` when it does not repeat the id;
    /// [`Error::NotFound`].
    pub async fn delete(&self, id: &str, confirm: &str) -> Result<DeletedOrganisation, Error> {
        check_id("id", id.trim())?;
        check_confirmation(id, confirm)?;
        let path = format!("/admin/orgs/{}", id.trim());
        let body = json!({"confirm": confirm.trim()});
        let value = self.send(Method::DELETE, &path, Some(&body), false).await?;
        parse(Some(value), "the deleted organisation")
    }

    /// A page of the system-level audit log (organisations created, suspended,
    /// reactivated, re-planned and deleted; system admins' sign-ins), filtered as an
    /// organisation's log is.
    ///
    /// # Errors
    ///
    /// [`Error::Forbidden`] for anyone but a system admin.
    pub async fn audit(&self, query: &AuditQuery) -> Result<AuditPage, Error> {
        let url = self.url("/admin/audit")?;
        crate::audit::read_page(self.client, &url, query).await
    }

    async fn act(&self, id: &str, action: &str) -> Result<Organisation, Error> {
        check_id("id", id.trim())?;
        let path = format!("/admin/orgs/{}/{action}", id.trim());
        let value = self.send(Method::POST, &path, None, false).await?;
        parse(Some(value), "the organisation")
    }

    async fn get(&self, path: &str) -> Result<Value, Error> {
        let url = self.url(path)?;
        self.client
            .send(Method::GET, &url, &[], None, None, true)
            .await?
            .json()
    }

    async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
        idempotent: bool,
    ) -> Result<Value, Error> {
        let url = self.url(path)?;
        self.client
            .send(method, &url, &[], body, None, idempotent)
            .await?
            .json()
    }

    /// `{root}{path}`, at a Muster server.
    fn url(&self, path: &str) -> Result<String, Error> {
        match self.client.connection().kind {
            ServerKind::Muster { .. } => Ok(format!("{}{path}", self.client.root())),
            ServerKind::Scim => Err(Error::Unsupported {
                message: "Organisations are a Muster server's; this provider is another SCIM \
                          service."
                    .to_owned(),
            }),
        }
    }
}

fn parse<T: serde::de::DeserializeOwned>(value: Option<Value>, what: &str) -> Result<T, Error> {
    serde_json::from_value(value.unwrap_or(Value::Null))
        .map_err(|error| Error::protocol(format!("{what}: {error}"), b""))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field_of(error: Error) -> String {
        match error {
            Error::Validation { fields, .. } => fields[0].field.clone(),
            other => panic!("a validation error, not {other:?}"),
        }
    }

    fn new(id: &str, name: &str) -> NewOrganisation {
        NewOrganisation {
            id: id.into(),
            name: name.into(),
            plan: None,
        }
    }

    #[test]
    fn ids_and_names_are_checked_field_by_field() {
        assert!(new("acme-2", "Acme").check().is_ok());
        assert!(new(&"a".repeat(MAX_ID), "Acme").check().is_ok());
        for id in [
            "",
            "Acme",
            "acme corp",
            "acme_corp",
            "ü",
            &"a".repeat(MAX_ID + 1),
        ] {
            assert_eq!(
                field_of(new(id, "Acme").check().unwrap_err()),
                "id",
                "{id:?} is refused as the server would"
            );
        }
        assert_eq!(field_of(new("acme", " ").check().unwrap_err()), "name");
        assert_eq!(
            field_of(new("acme", &"n".repeat(MAX_NAME + 1)).check().unwrap_err()),
            "name"
        );
    }

    #[test]
    fn a_deletion_is_confirmed_by_the_id_itself() {
        assert!(check_confirmation("acme", "acme").is_ok());
        assert!(check_confirmation("acme", " acme ").is_ok());
        for typed in ["", "ACME", "acm", "acme2"] {
            assert_eq!(
                field_of(check_confirmation("acme", typed).unwrap_err()),
                "confirm",
                "{typed:?} does not confirm acme"
            );
        }
        assert!(
            check_confirmation("", "").is_err(),
            "nothing confirms nothing"
        );
    }

    #[test]
    fn organisations_read_as_the_server_lists_them() {
        let listed: Organisation = serde_json::from_value(json!({
            "id": "acme", "name": "Acme", "created": "2030-01-01T09:00:00Z",
            "userCount": 3, "plan": "standard", "status": "suspended"
        }))
        .unwrap();
        assert_eq!(listed.status, OrgStatus::Suspended);
        assert_eq!(listed.user_count, 3);
        assert_eq!(OrgStatus::Active.name(), "active");
    }
}
