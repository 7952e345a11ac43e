//! Users: list (every page, with progress), one page, search, get, create, replace, patch
//! and delete, over any SCIM 2.0 provider (the [`Collection`] of users), and a deleted
//! user read back by a system admin.

use muster_scim::user::User;
use reqwest::Method;

use crate::client::Client;
use crate::error::Error;
use crate::resources::{Collection, path_of, scim_resource, versioned};

pub use crate::resources::Versioned;

/// Users of the connected provider: `client.users()`.
pub type Users<'a> = Collection<'a, User>;

impl Client {
    /// The provider's users.
    pub fn users(&self) -> Users<'_> {
        Collection::new(self)
    }
}

impl Users<'_> {
    /// The user with this id, a deleted one too (a Muster server's `includeDeleted`, for
    /// system admins).
    pub async fn get_including_deleted(&self, id: &str) -> Result<Versioned<User>, Error> {
        let query = [("includeDeleted", "true".to_owned())];
        let answer = self
            .client
            .send(Method::GET, &path_of::<User>(id)?, &query, None, None, true)
            .await?;
        versioned(&answer)
    }
}

scim_resource!(User, "/Users", "user");
