//! Groups: the same operations as [users](crate::users), plus adding and removing members
//! by PATCH, so that a membership change never rewrites (or races) the whole member list.

use muster_scim::group::Group;
use muster_scim::message::PatchOperation;
use serde_json::{Value, json};

use crate::client::Client;
use crate::error::Error;
use crate::query::{self, ListQuery, Page, Progress};
use crate::users::{Resource, Versioned, create_one, delete_one, get_one, patch_one, replace_one};

/// Groups of the connected provider: `client.groups()`.
#[derive(Debug, Clone, Copy)]
pub struct Groups<'a> {
    client: &'a Client,
}

impl Client {
    /// The provider's groups.
    pub fn groups(&self) -> Groups<'_> {
        Groups { client: self }
    }
}

impl Resource for Group {
    const ENDPOINT: &'static str = "/Groups";
    const NAME: &'static str = "group";

    fn id(&self) -> Option<&str> {
        self.id.as_deref()
    }

    fn version(&self) -> Option<&str> {
        self.meta.as_ref().and_then(|meta| meta.version.as_deref())
    }

    fn body(&self) -> Result<Value, serde_json::Error> {
        self.to_json()
    }
}

impl Groups<'_> {
    /// Every group matching `query`, page after page, calling `progress` after each page;
    /// each group once.
    pub async fn list_all(
        &self,
        query: &ListQuery,
        mut progress: impl FnMut(Progress),
    ) -> Result<Vec<Group>, Error> {
        query::fetch_all(self.client, Group::ENDPOINT, query, &mut progress).await
    }

    /// One page of groups, as `query` asks.
    pub async fn page(&self, query: &ListQuery) -> Result<Page<Group>, Error> {
        query::fetch_page(self.client, Group::ENDPOINT, query).await
    }

    /// One page of groups matching `query.filter`, by `GET`.
    pub async fn search(&self, query: &ListQuery) -> Result<Page<Group>, Error> {
        self.page(query).await
    }

    /// One page of groups by `POST /Groups/.search` (sent once).
    pub async fn search_post(&self, query: &ListQuery) -> Result<Page<Group>, Error> {
        query::search_page(self.client, Group::ENDPOINT, query).await
    }

    /// The group with this id.
    pub async fn get(&self, id: &str) -> Result<Versioned<Group>, Error> {
        get_one(self.client, id).await
    }

    /// Creates a group (`POST`, sent exactly once).
    pub async fn create(&self, group: &Group) -> Result<Versioned<Group>, Error> {
        create_one(self.client, group).await
    }

    /// Replaces a group (`PUT`), only if it is still at version `etag` when one is given.
    pub async fn replace(
        &self,
        id: &str,
        group: &Group,
        etag: Option<&str>,
    ) -> Result<Versioned<Group>, Error> {
        replace_one(self.client, id, group, etag).await
    }

    /// Changes parts of a group (`PATCH`), only if it is still at version `etag` when one
    /// is given.
    pub async fn patch(
        &self,
        id: &str,
        operations: Vec<PatchOperation>,
        etag: Option<&str>,
    ) -> Result<Versioned<Group>, Error> {
        patch_one::<Group>(self.client, id, operations, etag).await
    }

    /// Deletes a group, only if it is still at version `etag` when one is given.
    pub async fn delete(&self, id: &str, etag: Option<&str>) -> Result<(), Error> {
        delete_one::<Group>(self.client, id, etag).await
    }

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
