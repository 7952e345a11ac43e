//! `muster users ...`: list, show, create, update and delete users; export and import are
//! in [`crate::transfer`], the lifecycle actions (invite, suspend, deactivate, …) in
//! [`crate::user_actions`].

use clap::{Args, Subcommand};
use muster_core::Error;
use muster_core::query::ListQuery;
use muster_core::search::{Index, SearchQuery, SortKey};
use muster_core::users::Versioned;
use muster_scim::filter::{Filter, parse_filter};
use muster_scim::message::PatchOperation;
use muster_scim::urn;
use muster_scim::user::{Licence, MultiValue, Name, Role, ShopUser, User};
use serde_json::{Value, json};
use time::OffsetDateTime;

use crate::Target;
use crate::columns::{self, Column};
use crate::failure::Failure;
use crate::offline::{self, Written};
use crate::output::{Output, Progress, Table, say, thousands};
use crate::transfer::{self, ExportArgs, ImportArgs};
use crate::user_actions::{self, ActionCommand};

/// `muster users ...`.
#[derive(Debug, Subcommand)]
pub enum UsersCommand {
    /// List users (one page; --all for every user).
    List(ListArgs),
    /// Show one user.
    Show {
        /// The user's id.
        id: String,
    },
    /// Create a user (invited: no password until they accept or one is set).
    Create(CreateArgs),
    /// Change a user's email, name, licence, role or active state.
    Update(UpdateArgs),
    /// Delete a user (a Muster server keeps them for a system admin to restore). One who
    /// still holds responsibilities is refused with the list, unless they are handed over
    /// with the options below (as for `users deactivate`).
    Delete {
        /// The user's id.
        id: String,
        #[command(flatten)]
        handover: crate::user_actions::Handover,
    },
    /// Export users as CSV (RFC 4180; cells that look like formulas are defused); works
    /// offline from the offline copy.
    Export(ExportArgs),
    /// Invite the people in a CSV file: check every row, then create each good one and
    /// send the welcome email.
    Import(ImportArgs),
    #[command(flatten)]
    Action(ActionCommand),
}

/// How many users `users list` shows without --count or --all: a screenful or two.
const LIST_PAGE: u64 = 50;

/// `users list`.
#[derive(Debug, Args)]
pub struct ListArgs {
    /// A SCIM filter, e.g. 'name.familyName sw "Sm"'.
    #[arg(long, value_parser = filter_arg)]
    filter: Option<Filter>,
    /// Sort by this attribute, e.g. name.familyName.
    #[arg(long, value_name = "ATTRIBUTE")]
    sort_by: Option<String>,
    /// Largest first.
    #[arg(long, requires = "sort_by")]
    descending: bool,
    /// Users per page: default 50, or 1,000 per request with --all (servers may cap it).
    #[arg(long, value_name = "N")]
    count: Option<u64>,
    /// Every user, page after page.
    #[arg(long)]
    all: bool,
    /// Columns to show, e.g. id,userName,email (see `users export` for every name).
    #[arg(long, value_name = "A,B,C")]
    columns: Option<String>,
    /// Only users whose name, email, username or phone contains this text (searched here,
    /// over what the server returned, or the offline copy).
    #[arg(long, value_name = "TEXT")]
    search: Option<String>,
    /// Deleted users too (system admins, on a Muster server), to find one to restore.
    #[arg(long)]
    deleted: bool,
}

/// `users create`.
#[derive(Debug, Args)]
pub struct CreateArgs {
    /// Sign-in name.
    #[arg(long)]
    user_name: String,
    /// Email address (their own: each account needs its own).
    #[arg(long)]
    email: String,
    /// Given name.
    #[arg(long)]
    given: Option<String>,
    /// Family name.
    #[arg(long)]
    family: Option<String>,
    /// Licence: field, desk, contractor, customer, api, timesheet.
    #[arg(long)]
    licence: Option<String>,
    /// Role: admin, technician, viewer.
    #[arg(long)]
    role: Option<String>,
    /// Send the welcome email after creating.
    #[arg(long)]
    invite: bool,
}

/// `users update`.
#[derive(Debug, Args)]
pub struct UpdateArgs {
    /// The user's id.
    id: String,
    /// New email address (signs the user out).
    #[arg(long)]
    email: Option<String>,
    /// New given name.
    #[arg(long)]
    given: Option<String>,
    /// New family name.
    #[arg(long)]
    family: Option<String>,
    /// New licence.
    #[arg(long)]
    licence: Option<String>,
    /// New role.
    #[arg(long)]
    role: Option<String>,
    /// Active or not (SCIM `active`).
    #[arg(long, value_name = "true|false")]
    active: Option<bool>,
}

/// Parses `--filter` so a bad filter is a usage error, with the position of the problem.
pub fn filter_arg(text: &str) -> Result<Filter, String> {
    parse_filter(text).map_err(|error| error.to_string())
}

/// Runs `muster users ...`.
pub async fn run(command: UsersCommand, target: &Target, out: &Output) -> Result<(), Failure> {
    match command {
        UsersCommand::List(args) => list(args, target, out).await,
        UsersCommand::Show { id } => {
            let client = target.client().await?;
            let user = client.users().get(&id).await?.value;
            out.value(&user, || describe(&user))
        }
        UsersCommand::Create(args) => create(args, target, out).await,
        UsersCommand::Update(args) => update(args, target, out).await,
        UsersCommand::Delete { id, handover } if !handover.is_empty() => {
            // Handing responsibilities over first: a Muster server's `delete` action.
            let client = target.client().await?;
            let action = muster_core::actions::Action::Delete {
                reassign: handover.reassign(),
            };
            let (done, result) = client
                .actions()
                .run_with_result(&id, action.clone())
                .await?;
            target.record(Written::UserDeleted(&id));
            out.value(&json!({"deleted": id}), || {
                action.done_message(&done.value, &result)
            })
        }
        UsersCommand::Delete { id, .. } => {
            let client = target.client().await?;
            let Versioned { value: user, etag } = client.users().get(&id).await?;
            client.users().delete(&id, etag.as_deref()).await?;
            target.record(Written::UserDeleted(&id));
            out.value(&json!({"deleted": id}), || {
                format!("Deleted {}.", who(&user))
            })
        }
        UsersCommand::Export(args) => transfer::export(args, target, out).await,
        UsersCommand::Import(args) => transfer::import(args, target, out).await,
        UsersCommand::Action(action) => user_actions::run(action, target, out).await,
    }
}

async fn list(args: ListArgs, target: &Target, out: &Output) -> Result<(), Failure> {
    let columns = columns::select(args.columns.as_deref(), columns::LIST_DEFAULT)?;
    let offline_ok = args.filter.is_none();
    let query = ListQuery {
        filter: args.filter,
        sort_by: args.sort_by,
        descending: args.descending,
        count: args.count.or((!args.all).then_some(LIST_PAGE)),
        include_deleted: args.deleted,
        ..ListQuery::default()
    };
    let fetched = fetch(&query, args.all, target).await;
    let (mut users, mut total) = match fetched {
        Ok(fetched) => fetched,
        Err(Failure::Core(explained))
            if offline_ok && matches!(explained.error, Error::Offline { .. }) =>
        {
            let Ok(cached) = offline::read(&target.vault, &target.profile.name) else {
                return Err(Failure::Core(explained));
            };
            eprintln!(
                "Offline: showing the snapshot from {}.",
                offline::age_words(cached.age)
            );
            let mut users = cached.snapshot.users;
            if args.all || args.search.is_some() {
                (users, None)
            } else {
                let total = u64::try_from(users.len()).ok();
                let shown = query.count.unwrap_or(LIST_PAGE);
                users.truncate(usize::try_from(shown).unwrap_or(usize::MAX));
                (users, total)
            }
        }
        Err(failure) => return Err(failure),
    };
    if let Some(text) = args.search.as_deref() {
        users = search(users, text);
        total = None;
    }
    if out.json {
        return out.json(&users);
    }
    print_users(&users, &columns);
    let shown = u64::try_from(users.len()).unwrap_or(u64::MAX);
    match total {
        Some(total) if total > shown => say!(
            "{} of {} users; --all lists every one.",
            thousands(shown),
            thousands(total)
        ),
        _ if users.is_empty() => say!("No users."),
        _ => {}
    }
    Ok(())
}

/// The users `query` asks for, from the server; with `all`, every one, and then the
/// offline copy is brought up to date.
async fn fetch(
    query: &ListQuery,
    all: bool,
    target: &Target,
) -> Result<(Vec<User>, Option<u64>), Failure> {
    let client = target.client().await?;
    if all {
        let mut progress = Progress::on_terminal();
        let users = client
            .users()
            .list_all(query, |p| progress.update(p.fetched, p.total))
            .await?;
        progress.finish();
        offline::refresh_quietly(client, &target.vault, &target.profile.name).await;
        Ok((users, None))
    } else {
        let page = client.users().page(query).await?;
        Ok((page.resources, page.total))
    }
}

/// The users matching free `text` (name, email, username, phone), in their order; all of
/// them for empty text.
fn search(users: Vec<User>, text: &str) -> Vec<User> {
    if text.trim().is_empty() {
        return users;
    }
    let index = Index::build(&users);
    let result = index.search(
        &SearchQuery {
            text: text.to_owned(),
            sort: SortKey::Name,
            limit: u32::MAX,
            ..SearchQuery::default()
        },
        OffsetDateTime::now_utc(),
    );
    let mut keep = vec![false; users.len()];
    for row in result.rows {
        if let Some(k) = keep.get_mut(row) {
            *k = true;
        }
    }
    users
        .into_iter()
        .zip(keep)
        .filter_map(|(user, k)| k.then_some(user))
        .collect()
}

fn print_users(users: &[User], columns: &[Column]) {
    if users.is_empty() {
        return;
    }
    let mut table = Table::with_headers(columns.iter().map(|c| header(c.name)).collect());
    let now = time::OffsetDateTime::now_utc();
    for user in users {
        table.row(columns.iter().map(|c| c.of(user, now)));
    }
    table.print();
}

/// `userName` → `USERNAME`: headers in capitals, as `kubectl` and `gh` print them.
fn header(name: &str) -> String {
    name.to_uppercase()
}

async fn create(args: CreateArgs, target: &Target, out: &Output) -> Result<(), Failure> {
    let shop = (args.licence.is_some() || args.role.is_some()).then(|| ShopUser {
        licence: args.licence.as_deref().map(Licence::parse),
        role: args.role.as_deref().map(Role::parse),
        ..ShopUser::default()
    });
    let name = (args.given.is_some() || args.family.is_some()).then(|| Name {
        given_name: args.given.clone(),
        family_name: args.family.clone(),
        ..Name::default()
    });
    let display_name = [args.given.as_deref(), args.family.as_deref()]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ");
    let user = User {
        name,
        display_name: (!display_name.is_empty()).then_some(display_name),
        emails: vec![MultiValue {
            primary: Some(true),
            ..MultiValue::typed(&args.email, "work")
        }],
        shop,
        ..User::new(&args.user_name)
    };
    let client = target.client().await?;
    let created = client.users().create(&user).await?.value;
    target.record(Written::User(&created));
    let id = created.id.clone().unwrap_or_default();
    if !args.invite {
        return out.value(&created, || format!("Created {}.", who(&created)));
    }
    // The user exists now; if the invitation fails, say so but keep the exit code honest.
    let invited = client
        .actions()
        .run(&id, muster_core::actions::Action::SendWelcome)
        .await
        .map_err(|error| {
            Failure::explained(
                error,
                [("createdId".to_owned(), Value::String(id.clone()))]
                    .into_iter()
                    .collect(),
                vec![format!("The user was created ({id}) but not invited.")],
            )
        })?
        .value;
    target.record(Written::User(&invited));
    out.value(&invited, || {
        format!(
            "Created {} and sent the invitation to {}.",
            who(&invited),
            invited.primary_email().unwrap_or("their email")
        )
    })
}

async fn update(args: UpdateArgs, target: &Target, out: &Output) -> Result<(), Failure> {
    if args.email.is_none()
        && args.given.is_none()
        && args.family.is_none()
        && args.licence.is_none()
        && args.role.is_none()
        && args.active.is_none()
    {
        return Err(Failure::Usage(
            "Nothing to change: pass --email, --given, --family, --licence, --role or --active."
                .into(),
        ));
    }
    let client = target.client().await?;
    // A fresh read gives the version to send as If-Match: if someone else changes the user
    // between this read and the write, the server refuses with a conflict (exit 5).
    let Versioned { value: user, etag } = client.users().get(&args.id).await?;
    let operations = changes(&user, &args);
    let updated = client
        .users()
        .patch(&args.id, operations, etag.as_deref())
        .await?
        .value;
    target.record(Written::User(&updated));
    out.value(&updated, || format!("Updated {}.", who(&updated)))
}

/// The PATCH operations that make `user` what `args` asks.
fn changes(user: &User, args: &UpdateArgs) -> Vec<PatchOperation> {
    let mut operations = Vec::new();
    if let Some(email) = &args.email {
        // Replace the primary (or first) address and keep the others.
        let mut emails = user.emails.clone();
        let index = emails
            .iter()
            .position(|e| e.primary == Some(true))
            .unwrap_or(0);
        match emails.get_mut(index) {
            Some(slot) => slot.value = Some(email.clone()),
            None => emails.push(MultiValue {
                primary: Some(true),
                ..MultiValue::typed(email, "work")
            }),
        }
        operations.push(PatchOperation::replace(
            "emails",
            serde_json::to_value(&emails).unwrap_or(Value::Null),
        ));
    }
    if let Some(given) = &args.given {
        operations.push(PatchOperation::replace("name.givenName", json!(given)));
    }
    if let Some(family) = &args.family {
        operations.push(PatchOperation::replace("name.familyName", json!(family)));
    }
    if let Some(licence) = &args.licence {
        let licence = Licence::parse(licence);
        operations.push(PatchOperation::replace(
            format!("{}:licence", urn::SHOP_USER),
            json!(licence.as_str()),
        ));
    }
    if let Some(role) = &args.role {
        let role = Role::parse(role);
        operations.push(PatchOperation::replace(
            format!("{}:role", urn::SHOP_USER),
            json!(role.as_str()),
        ));
    }
    if let Some(active) = args.active {
        operations.push(PatchOperation::replace("active", json!(active)));
    }
    operations
}

/// `ann (2819c223-…)`: how messages name a user.
pub fn who(user: &User) -> String {
    let id = user.id.as_deref().unwrap_or("?");
    if user.user_name.is_empty() {
        id.to_owned()
    } else {
        format!("{} ({id})", user.user_name)
    }
}

/// A user for people: one `label  value` line per attribute that has a value.
pub fn describe(user: &User) -> String {
    let mut lines: Vec<(&str, String)> = Vec::new();
    let now = time::OffsetDateTime::now_utc();
    for column in columns::ALL {
        let value = column.of(user, now);
        if !value.is_empty() {
            lines.push((column.name, value));
        }
    }
    if let Some(version) = user.meta.as_ref().and_then(|m| m.version.clone()) {
        lines.push(("version", version));
    }
    let width = lines.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
    lines
        .into_iter()
        .map(|(k, v)| format!("{k:<width$}  {}", crate::output::one_line(&v)))
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn update(id: &str) -> UpdateArgs {
        UpdateArgs {
            id: id.into(),
            email: None,
            given: None,
            family: None,
            licence: None,
            role: None,
            active: None,
        }
    }

    #[test]
    fn an_email_change_replaces_the_primary_address_and_keeps_others() {
        let user = User {
            emails: vec![
                MultiValue::typed("home@x.test", "home"),
                MultiValue {
                    primary: Some(true),
                    ..MultiValue::typed("old@x.test", "work")
                },
            ],
            ..User::new("ann")
        };
        let ops = changes(
            &user,
            &UpdateArgs {
                email: Some("new@x.test".into()),
                role: Some("Viewer".into()),
                ..update("1")
            },
        );
        let ops = serde_json::to_value(&ops).unwrap();
        assert_eq!(ops[0]["path"], "emails");
        assert_eq!(ops[0]["value"][0]["value"], "home@x.test");
        assert_eq!(ops[0]["value"][1]["value"], "new@x.test");
        assert_eq!(ops[1]["path"], format!("{}:role", urn::SHOP_USER));
        assert_eq!(ops[1]["value"], "viewer", "roles are sent canonically");
    }

    #[test]
    fn bad_filters_are_refused_before_sending() {
        assert!(filter_arg(r#"userName eq "ann""#).is_ok());
        assert!(filter_arg("userName eq").is_err());
    }
}
