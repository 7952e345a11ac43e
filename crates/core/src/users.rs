//! Users: list (every page, with progress), one page, search, get, create, replace, patch
//! and delete, over any SCIM 2.0 provider (the [`Collection`] of users), and a deleted
//! user read back by a system admin.

use muster_scim::user::User;
use reqwest::Method;

use crate::client::Client;
use crate::error::Error;
use crate::resources::{Collection, path_of, scim_resource, versioned};

pub use crate::resources::Versioned;

/// A list field's values as they are sent: each trimmed, blanks dropped, and a value
/// repeated (in any case) kept once, as first given.
pub fn clean_list(values: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for value in values.iter().map(|v| v.trim()).filter(|v| !v.is_empty()) {
        if !out.iter().any(|o| o.eq_ignore_ascii_case(value)) {
            out.push(value.to_owned());
        }
    }
    out
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_list_is_sent_trimmed_without_blanks_or_repeats() {
        let given = [" North ", "", "south", "NORTH", "  ", "South", "east"].map(String::from);
        assert_eq!(clean_list(&given), ["North", "south", "east"]);
        assert!(clean_list(&[]).is_empty());
    }
}
