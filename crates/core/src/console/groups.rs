//! Groups in the console: the list from the offline copy, one group with its members, and
//! the changes an admin makes (create, rename, delete, add and remove members), each sent
//! to the provider first and put into the copy from its answer. Groups are standard SCIM,
//! so this works with any provider that serves `/Groups`.

use std::collections::HashMap;

use muster_scim::group::{Group, Member};
use muster_scim::message::PatchOperation;
use serde::{Deserialize, Serialize};
use serde_json::json;
#[cfg(feature = "specta")]
use specta::Type;

use super::Console;
use crate::cache::PackedUser;
use crate::discovery::Feature;
use crate::error::Error;
use crate::sync;
use crate::users::Versioned;

/// The longest group name the console sends.
const MAX_NAME: usize = 256;

/// One row of the groups list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(Type))]
#[serde(rename_all = "camelCase")]
pub struct GroupRow {
    /// Group id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// How many members it has.
    pub member_count: u32,
}

/// One member of a group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(Type))]
#[serde(rename_all = "camelCase")]
pub struct GroupMemberView {
    /// The member's user id.
    pub id: String,
    /// Their name, from the offline copy (else what the provider said).
    pub name: String,
    /// Their email, when the copy knows them.
    pub email: Option<String>,
}

/// A group with its members.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(Type))]
#[serde(rename_all = "camelCase")]
pub struct GroupDetail {
    /// Group id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// The version to send back with a change (ETag).
    pub version: Option<String>,
    /// Its members, by name.
    pub members: Vec<GroupMemberView>,
    /// Read from the offline copy (the provider could not be reached).
    pub from_cache: bool,
}

impl Console {
    /// Every group in the offline copy, by name.
    pub async fn groups(&self) -> Vec<GroupRow> {
        let data = self.data().await;
        let mut rows: Vec<GroupRow> = data
            .snapshot
            .groups
            .iter()
            .map(|group| GroupRow {
                id: group.id.clone().unwrap_or_default(),
                name: group.display_name.clone(),
                member_count: super::view::clamp(group.members.len()),
            })
            .collect();
        rows.sort_by_key(|row| row.name.to_lowercase());
        rows
    }

    /// One group with its members: fresh from the provider, else from the offline copy.
    ///
    /// # Errors
    ///
    /// [`Error::NotFound`]; [`Error::Offline`] when offline and the group is not cached.
    pub async fn group(&self, id: &str) -> Result<GroupDetail, Error> {
        if let Some(client) = self.client().await? {
            match self
                .note_and_save_session(client.groups().get(id).await)
                .await
            {
                Ok(got) => return Ok(self.keep_group(got).await),
                Err(Error::Offline { .. }) => {}
                Err(error) => return Err(error),
            }
        }
        let data = self.data().await;
        let group = data
            .snapshot
            .groups
            .iter()
            .find(|g| g.id.as_deref() == Some(id))
            .ok_or_else(|| Error::NotFound {
                message: "That group is not in the offline copy.".to_owned(),
            })?;
        Ok(self.group_detail(group, None, true).await)
    }

    /// Creates a group named `name` with `members` (user ids).
    ///
    /// # Errors
    ///
    /// [`Error::Validation`] for a bad name; [`Error::Unsupported`] where the provider has
    /// no groups; what the provider answers.
    pub async fn create_group(&self, name: &str, members: &[String]) -> Result<GroupDetail, Error> {
        let name = group_name(name)?;
        let client = self.group_writer().await?;
        let group = Group {
            display_name: name,
            members: members.iter().map(Member::user).collect(),
            ..Group::default()
        };
        let created = self
            .note_and_save_session(client.groups().create(&group).await)
            .await?;
        Ok(self.keep_group(created).await)
    }

    /// Renames a group, if it is still at `version` when one is given.
    ///
    /// # Errors
    ///
    /// [`Error::Validation`] for a bad name; [`Error::Conflict`] (stale) when someone else
    /// changed it meanwhile; what the provider answers.
    pub async fn rename_group(
        &self,
        id: &str,
        name: &str,
        version: Option<String>,
    ) -> Result<GroupDetail, Error> {
        let name = group_name(name)?;
        let client = self.group_writer().await?;
        let rename = vec![PatchOperation::replace("displayName", json!(name))];
        let renamed = self
            .note_and_save_session(client.groups().patch(id, rename, version.as_deref()).await)
            .await?;
        Ok(self.keep_group(renamed).await)
    }

    /// Deletes a group (its members stay users).
    ///
    /// # Errors
    ///
    /// What the provider answers.
    pub async fn delete_group(&self, id: &str) -> Result<(), Error> {
        let client = self.group_writer().await?;
        self.note_and_save_session(client.groups().delete(id, None).await)
            .await?;
        let id = id.to_owned();
        self.change(move |snapshot| {
            sync::remove_group(snapshot, &id);
        })
        .await;
        Ok(())
    }

    /// Adds users (ids) to a group.
    ///
    /// # Errors
    ///
    /// [`Error::Validation`] for no users; what the provider answers.
    pub async fn add_group_members(
        &self,
        id: &str,
        users: &[String],
    ) -> Result<GroupDetail, Error> {
        self.change_members(id, users, true).await
    }

    /// Removes users (ids) from a group.
    ///
    /// # Errors
    ///
    /// [`Error::Validation`] for no users; what the provider answers.
    pub async fn remove_group_members(
        &self,
        id: &str,
        users: &[String],
    ) -> Result<GroupDetail, Error> {
        self.change_members(id, users, false).await
    }

    async fn change_members(
        &self,
        id: &str,
        users: &[String],
        add: bool,
    ) -> Result<GroupDetail, Error> {
        let client = self.group_writer().await?;
        let groups = client.groups();
        let sent = if add {
            groups.add_members(id, users, None).await
        } else {
            groups.remove_members(id, users, None).await
        };
        let changed = self.note_and_save_session(sent).await?;
        Ok(self.keep_group(changed).await)
    }

    /// The client to change groups with: changes allowed, and the provider serves groups.
    async fn group_writer(&self) -> Result<crate::Client, Error> {
        let client = self.writer().await?;
        let state = self.state.lock().await;
        super::capabilities_of(super::active(&state)?).require(Feature::Groups)?;
        Ok(client)
    }

    /// Puts the provider's answer into the offline copy and shows it.
    async fn keep_group(&self, got: Versioned<Group>) -> GroupDetail {
        let group = got.value;
        let kept = group.clone();
        self.change(move |snapshot| sync::apply_group(snapshot, kept))
            .await;
        self.group_detail(&group, got.etag, false).await
    }

    /// A group's detail, its members named from the offline copy.
    async fn group_detail(
        &self,
        group: &Group,
        version: Option<String>,
        from_cache: bool,
    ) -> GroupDetail {
        let data = self.data().await;
        // Each cached user by id, once: a group can hold most of the organisation.
        let by_id: HashMap<&str, &PackedUser> = data
            .snapshot
            .users
            .iter()
            .filter_map(|user| Some((user.id()?, user)))
            .collect();
        let members = group
            .members
            .iter()
            .filter_map(|member| {
                let id = member.value.clone()?;
                let known = by_id.get(id.as_str()).map(|user| user.user());
                Some(GroupMemberView {
                    name: known
                        .as_ref()
                        .map(|user| user.display_name().into_owned())
                        .or_else(|| member.display.clone())
                        .unwrap_or_else(|| id.clone()),
                    email: known.and_then(|user| user.primary_email().map(str::to_owned)),
                    id,
                })
            })
            .collect();
        GroupDetail {
            id: group.id.clone().unwrap_or_default(),
            name: group.display_name.clone(),
            version: version.or_else(|| group.meta.as_ref().and_then(|m| m.version.clone())),
            members,
            from_cache,
        }
    }
}

/// A group name as sent: trimmed, not empty, not too long.
fn group_name(name: &str) -> Result<String, Error> {
    let name = name.trim();
    if name.is_empty() {
        return Err(Error::invalid("name", "Give the group a name."));
    }
    if name.chars().count() > MAX_NAME {
        return Err(Error::invalid(
            "name",
            format!("A group name is at most {MAX_NAME} characters."),
        ));
    }
    Ok(name.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn group_names_are_trimmed_and_checked() {
        assert_eq!(group_name("  Fitters ").unwrap(), "Fitters");
        assert!(group_name("   ").is_err());
        assert!(group_name(&"x".repeat(MAX_NAME + 1)).is_err());
        assert_eq!(
            group_name(&"é".repeat(MAX_NAME)).unwrap().chars().count(),
            MAX_NAME
        );
    }
}
