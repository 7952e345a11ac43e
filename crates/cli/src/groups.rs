//! `muster groups ...`: list, show, create and delete groups, and add or remove members.

use clap::Subcommand;
use muster_core::query::ListQuery;
use muster_core::users::Versioned;
use muster_scim::filter::Filter;
use muster_scim::group::{Group, Member};
use serde_json::json;

use crate::Target;
use crate::failure::Failure;
use crate::offline::Written;
use crate::output::{Output, Progress, Table, say, thousands};

/// `muster groups ...`.
#[derive(Debug, Subcommand)]
pub enum GroupsCommand {
    /// List every group.
    List {
        /// A SCIM filter, e.g. 'displayName sw "Dis"'.
        #[arg(long, value_parser = crate::users::filter_arg)]
        filter: Option<Filter>,
    },
    /// Show a group and its members.
    Show {
        /// The group's id.
        id: String,
    },
    /// Create a group.
    Create {
        /// Its display name.
        name: String,
        /// A user id to add as a member (repeat for more).
        #[arg(long = "member", value_name = "USER_ID")]
        members: Vec<String>,
    },
    /// Delete a group (its members stay).
    Delete {
        /// The group's id.
        id: String,
    },
    /// Add users to a group.
    AddMember {
        /// The group's id.
        group: String,
        /// User ids.
        #[arg(required = true)]
        users: Vec<String>,
    },
    /// Remove users from a group.
    RemoveMember {
        /// The group's id.
        group: String,
        /// User ids.
        #[arg(required = true)]
        users: Vec<String>,
    },
}

/// Runs `muster groups ...`.
pub async fn run(command: GroupsCommand, target: &Target, out: &Output) -> Result<(), Failure> {
    let client = target.client().await?;
    let groups = client.groups();
    match command {
        GroupsCommand::List { filter } => {
            let query = ListQuery {
                filter,
                ..ListQuery::default()
            };
            let mut progress = Progress::on_terminal();
            let list = groups
                .list_all(&query, |p| progress.update(p.fetched, p.total))
                .await?;
            progress.finish();
            if out.json {
                return out.json(&list);
            }
            if list.is_empty() {
                say!("No groups.");
                return Ok(());
            }
            let mut table = Table::new(["ID", "NAME", "MEMBERS"]);
            for group in &list {
                table.row([
                    group.id.clone().unwrap_or_default(),
                    group.display_name.clone(),
                    thousands(u64::try_from(group.members.len()).unwrap_or(u64::MAX)),
                ]);
            }
            table.print();
            Ok(())
        }
        GroupsCommand::Show { id } => {
            let group = groups.get(&id).await?.value;
            if out.json {
                return out.json(&group);
            }
            say!("id       {}", group.id.as_deref().unwrap_or(""));
            say!("name     {}", crate::output::one_line(&group.display_name));
            say!("members  {}", group.members.len());
            if !group.members.is_empty() {
                say!();
                let mut table = Table::new(["ID", "NAME"]);
                for member in &group.members {
                    table.row([
                        member.value.clone().unwrap_or_default(),
                        member.display.clone().unwrap_or_default(),
                    ]);
                }
                table.print();
            }
            Ok(())
        }
        GroupsCommand::Create { name, members } => {
            let group = Group {
                members: members.iter().map(Member::user).collect(),
                ..Group::new(name)
            };
            let created = groups.create(&group).await?.value;
            target.record(Written::Group(&created));
            out.value(&created, || format!("Created group {}.", named(&created)))
        }
        GroupsCommand::Delete { id } => {
            let Versioned { value: group, etag } = groups.get(&id).await?;
            groups.delete(&id, etag.as_deref()).await?;
            target.record(Written::GroupDeleted(&id));
            out.value(&json!({"deleted": id}), || {
                format!("Deleted group {}.", named(&group))
            })
        }
        // Membership changes are single PATCH add/remove operations: they cannot undo
        // someone else's change, so they are sent without a version to check.
        GroupsCommand::AddMember { group, users } => {
            let changed = groups.add_members(&group, &users, None).await?.value;
            target.record(Written::Group(&changed));
            out.value(&changed, || {
                format!(
                    "Added {} to {}; it has {} members.",
                    plural_users(users.len()),
                    named(&changed),
                    changed.members.len()
                )
            })
        }
        GroupsCommand::RemoveMember { group, users } => {
            let changed = groups.remove_members(&group, &users, None).await?.value;
            target.record(Written::Group(&changed));
            out.value(&changed, || {
                format!(
                    "Removed {} from {}; it has {} members.",
                    plural_users(users.len()),
                    named(&changed),
                    changed.members.len()
                )
            })
        }
    }
}

fn named(group: &Group) -> String {
    format!(
        "{} ({})",
        crate::output::one_line(&group.display_name),
        group.id.as_deref().unwrap_or("?")
    )
}

fn plural_users(n: usize) -> String {
    if n == 1 {
        "1 user".into()
    } else {
        format!("{n} users")
    }
}
