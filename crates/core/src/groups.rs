//! Groups: the same operations as [users](crate::users), plus adding and removing members
//! by PATCH, so that a membership change never rewrites (or races) the whole member list.

use muster_scim::group::Group;
use muster_scim::message::PatchOperation;
use serde_json::{Value, json};

use crate::client::Client;
use crate::error::Error;
use crate::query;
use crate::resources::{Collection, Versioned, scim_resource};

/// Groups of the connected provider: `client.groups()`.
pub type Groups<'a> = Collection<'a, Group>;

impl Client {
    /// The provider's groups.
    pub fn groups(&self) -> Groups<'_> {
        Collection::new(self)
    }
}

scim_resource!(Group, "/Groups", "group");

impl Groups<'_> {
    /// Adds users (by id) to a group: one PATCH `add` of `members`.
    pub async fn add_members<S: AsRef<str>>(
        &self,
        id: &str,
        user_ids: impl IntoIterator<Item = S>,
        etag: Option<&str>,
    ) -> Result<Versioned<Group>, Error> {
        let members: Vec<Value> = user_ids
            .into_iter()
            .map(|user| json!({"value": user.as_ref(), "type": "User"}))
            .collect();
        if members.is_empty() {
            return Err(no_members());
        }
        let add = PatchOperation::add("members", Value::Array(members));
        self.patch(id, vec![add], etag).await
    }

    /// Removes users (by id) from a group: one PATCH `remove` of
    /// `members[value eq "…"]` per user, in one request.
    pub async fn remove_members<S: AsRef<str>>(
        &self,
        id: &str,
        user_ids: impl IntoIterator<Item = S>,
        etag: Option<&str>,
    ) -> Result<Versioned<Group>, Error> {
        let operations: Vec<PatchOperation> = user_ids
            .into_iter()
            .map(|user| {
                let filter = query::attr("value").eq(user.as_ref());
                PatchOperation::remove(format!("members[{filter}]"))
            })
            .collect();
        if operations.is_empty() {
            return Err(no_members());
        }
        self.patch(id, operations, etag).await
    }
}

fn no_members() -> Error {
    Error::invalid("members", "Name at least one user.")
}
