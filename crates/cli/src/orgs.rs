//! `muster orgs ...`: the server's organisations, for system admins at a Muster server:
//! list them with their plan and status, create one, suspend or reactivate it, move it to
//! another plan, or delete it for good (`--confirm` repeats its id). Each change prints
//! what the server saved.

use clap::Subcommand;
use muster_core::orgs::{NewOrganisation, Organisation};

use crate::Target;
use crate::failure::Failure;
use crate::output::{Output, Table, one_line, say};

/// `muster orgs ...`.
#[derive(Debug, Subcommand)]
pub enum OrgsCommand {
    /// List the server's organisations: id, name, users, plan, status, created.
    List,
    /// List the plans an organisation can be on.
    Plans,
    /// Create an organisation.
    Create {
        /// Its id: 1 to 63 lower-case letters, digits and '-'; it cannot be changed later.
        id: String,
        /// Its name.
        #[arg(long)]
        name: String,
        /// Its plan (see `muster orgs plans`; default: the server's, free).
        #[arg(long)]
        plan: Option<String>,
    },
    /// Suspend an organisation: its users are signed out and cannot sign in, and its API
    /// refuses everything until it is reactivated.
    Suspend {
        /// The organisation's id.
        id: String,
    },
    /// Reactivate a suspended organisation.
    Reactivate {
        /// The organisation's id.
        id: String,
    },
    /// Move an organisation to another plan.
    SetPlan {
        /// The organisation's id.
        id: String,
        /// The plan's id (see `muster orgs plans`).
        plan: String,
    },
    /// Delete an organisation and everything of it, for good.
    Delete {
        /// The organisation's id.
        id: String,
        /// The organisation's id again, to confirm.
        #[arg(long, value_name = "ID")]
        confirm: String,
    },
}

/// Runs `muster orgs ...`.
pub async fn run(command: OrgsCommand, target: &Target, out: &Output) -> Result<(), Failure> {
    let client = target.client().await?;
    let orgs = client.organisations();
    match command {
        OrgsCommand::List => {
            let list = orgs.list().await?;
            if out.json {
                return out.json(&list);
            }
            if list.is_empty() {
                say!("No organisations.");
                return Ok(());
            }
            let mut table = Table::new(["ID", "NAME", "USERS", "PLAN", "STATUS", "CREATED"]);
            for org in &list {
                table.row([
                    org.id.clone(),
                    one_line(&org.name),
                    org.user_count.to_string(),
                    org.plan.clone(),
                    org.status.name().to_owned(),
                    org.created.clone(),
                ]);
            }
            table.print();
            Ok(())
        }
        OrgsCommand::Plans => {
            let plans = orgs.plans().await?;
            if out.json {
                return out.json(&plans);
            }
            let mut table = Table::new(["ID", "NAME", "INCLUDES"]);
            for plan in &plans {
                table.row([
                    plan.id.clone(),
                    one_line(&plan.name),
                    one_line(&plan.description),
                ]);
            }
            table.print();
            Ok(())
        }
        OrgsCommand::Create { id, name, plan } => {
            let new = NewOrganisation { id, name, plan };
            let created = orgs.create(&new).await?;
            saved(out, &created, "Created")
        }
        OrgsCommand::Suspend { id } => {
            let saved_org = orgs.suspend(&id).await?;
            saved(out, &saved_org, "Suspended")
        }
        OrgsCommand::Reactivate { id } => {
            let saved_org = orgs.reactivate(&id).await?;
            saved(out, &saved_org, "Reactivated")
        }
        OrgsCommand::SetPlan { id, plan } => {
            let saved_org = orgs.set_plan(&id, &plan).await?;
            saved(out, &saved_org, "Re-planned")
        }
        OrgsCommand::Delete { id, confirm } => {
            let deleted = orgs.delete(&id, &confirm).await?;
            out.value(&deleted, || {
                format!(
                    "Deleted {} ({}) and its {} users: nothing of it is left on the server.",
                    one_line(&deleted.name),
                    deleted.id,
                    deleted.users_deleted
                )
            })
        }
    }
}

/// Prints an organisation as the server saved it.
fn saved(out: &Output, org: &Organisation, done: &str) -> Result<(), Failure> {
    out.value(org, || {
        format!(
            "{done} {} ({}): {}, plan {}, {} users.",
            one_line(&org.name),
            org.id,
            org.status.name(),
            org.plan,
            org.user_count
        )
    })
}
