//! `muster users ...`: list, show, create, update and delete users; export and import are
//! in [`crate::transfer`], the lifecycle actions (invite, suspend, deactivate, …) in
//! [`crate::user_actions`].

use clap::{Args, Subcommand};
use std::collections::HashSet;

use muster_core::Error;
use muster_core::cache::PackedUser;
use muster_core::client::Client;
use muster_core::query::{ListQuery, attr};
use muster_core::search::{SearchQuery, SortKey};
use muster_core::user_name;
use muster_core::users::{Versioned, clean_list};
use muster_scim::filter::{Filter, parse_filter};
use muster_scim::message::PatchOperation;
use muster_scim::urn;
use muster_scim::user::{Licence, MultiValue, Name, Role, ShopUser, User, licence_role_conflict};
use serde_json::{Value, json};

use crate::Target;
use crate::columns::{self, Column};
use crate::failure::Failure;
use crate::listing;
use crate::offline::{self, Written};
use crate::output::{Output, Table, say, thousands};
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
    /// Only users in these states: invited, active, suspended, deactivated (comma
    /// separated or repeated). Looks over every user, as --all does.
    #[arg(
        long,
        value_name = "STATUS",
        value_delimiter = ',',
        value_parser = ["invited", "active", "suspended", "deactivated", "deleted"]
    )]
    status: Vec<String>,
    /// Only users whose invitation is still pending and lapses within this long: 24h, 3d
    /// or a number of hours. Looks over every user, as --all does.
    #[arg(long, value_name = "DURATION", value_parser = hours_arg)]
    expiring_within: Option<u32>,
}

impl ListArgs {
    /// The engine's search for the narrowing options, if any is given.
    fn narrowing(&self) -> Option<SearchQuery> {
        let text = self.search.clone().unwrap_or_default();
        let narrows =
            !text.trim().is_empty() || !self.status.is_empty() || self.expiring_within.is_some();
        narrows.then(|| SearchQuery {
            text,
            statuses: self.status.clone(),
            invitation_expires_within_hours: self.expiring_within,
            sort: SortKey::Name,
            limit: u32::MAX,
            ..SearchQuery::default()
        })
    }
}

/// Parses `--expiring-within`: `24h`, `3d`, or a number of hours.
pub fn hours_arg(text: &str) -> Result<u32, String> {
    let text = text.trim();
    let (number, per) = match text.char_indices().last() {
        Some((at, 'h' | 'H')) => (&text[..at], 1),
        Some((at, 'd' | 'D')) => (&text[..at], 24),
        _ => (text, 1),
    };
    number
        .trim()
        .parse::<u32>()
        .ok()
        .and_then(|n| n.checked_mul(per))
        .ok_or_else(|| format!("'{text}' is not a duration: use hours or days, like 24h or 3d."))
}

/// The shop fields `users create` and `users update` set (a Muster server's shop
/// extension; another provider is sent only what it takes).
#[derive(Debug, Default, Args)]
pub struct ShopArgs {
    /// Phone number.
    #[arg(long)]
    phone: Option<String>,
    /// Job role, e.g. "Service Technician".
    #[arg(long, value_name = "TEXT")]
    job_role: Option<String>,
    /// Licence: field, desk, contractor, customer, api, timesheet (field is for
    /// technicians).
    #[arg(long)]
    licence: Option<String>,
    /// Role: admin, technician, viewer.
    #[arg(long)]
    role: Option<String>,
    /// Security group, e.g. "Field Standard".
    #[arg(long, value_name = "NAME")]
    security_group: Option<String>,
    /// Service groups (comma separated), e.g. Sprinkler,Electrical.
    #[arg(long, value_name = "A,B", value_delimiter = ',')]
    service_groups: Option<Vec<String>>,
    /// Service zones (comma separated).
    #[arg(long, value_name = "A,B", value_delimiter = ',')]
    zones: Option<Vec<String>>,
    /// Home branch.
    #[arg(long, value_name = "NAME")]
    home_branch: Option<String>,
    /// Branches the user works for (comma separated).
    #[arg(long, value_name = "A,B", value_delimiter = ',')]
    branches: Option<Vec<String>>,
    /// Permissions beyond the role (comma separated; `muster discover` lists them), e.g.
    /// viewPricing,mobileAppAccess; an empty value clears them.
    #[arg(long, value_name = "A,B", value_delimiter = ',')]
    permissions: Option<Vec<String>>,
}

impl ShopArgs {
    fn is_empty(&self) -> bool {
        self.single().iter().all(|(_, v)| v.is_none())
            && self.lists().iter().all(|(_, v)| v.is_none())
    }

    /// The one-value fields by their attribute names.
    fn single(&self) -> [(&'static str, Option<&String>); 6] {
        [
            ("phone", self.phone.as_ref()),
            ("jobRole", self.job_role.as_ref()),
            ("licence", self.licence.as_ref()),
            ("role", self.role.as_ref()),
            ("securityGroup", self.security_group.as_ref()),
            ("homeBranch", self.home_branch.as_ref()),
        ]
    }

    /// The list fields by their attribute names, each trimmed without blanks or repeats.
    fn lists(&self) -> [(&'static str, Option<Vec<String>>); 4] {
        let clean = |list: &Option<Vec<String>>| list.as_deref().map(clean_list);
        [
            ("serviceGroups", clean(&self.service_groups)),
            ("zones", clean(&self.zones)),
            ("branches", clean(&self.branches)),
            ("permissions", clean(&self.permissions)),
        ]
    }

    /// A new user's role, when none is given, is the one their licence is for (as an
    /// import fills it in): `--licence field` alone makes a technician.
    fn fill_role(&mut self) {
        if self.role.is_none() {
            let licence = self.licence.as_deref().map(Licence::parse);
            self.role = licence
                .and_then(|l| l.required_role())
                .map(|r| r.as_str().to_owned());
        }
    }

    /// The licence and role the user ends up with (given here, else `before`), checked
    /// with the engine's rule before anything is sent, when this changes one of them (a
    /// user stored before the rule keeps the pair they hold, as the server does).
    fn check(&self, before: Option<&ShopUser>) -> Result<(), Error> {
        if before.is_some() && self.licence.is_none() && self.role.is_none() {
            return Ok(());
        }
        let licence = self
            .licence
            .as_deref()
            .map(Licence::parse)
            .or_else(|| before.and_then(|b| b.licence.clone()));
        let role = self
            .role
            .as_deref()
            .map(Role::parse)
            .or_else(|| before.and_then(|b| b.role.clone()));
        match licence_role_conflict(licence.as_ref(), role.as_ref()) {
            Some(problem) => Err(Error::invalid("role", problem)),
            None => Ok(()),
        }
    }

    /// The shop extension of a new user.
    fn shop(&self) -> ShopUser {
        let [service_groups, zones, branches, permissions] =
            self.lists().map(|(_, v)| v.unwrap_or_default());
        ShopUser {
            licence: self.licence.as_deref().map(Licence::parse),
            role: self.role.as_deref().map(Role::parse),
            security_group: self.security_group.clone(),
            service_groups,
            zones,
            home_branch: self.home_branch.clone(),
            branches,
            permissions,
            job_role: self.job_role.clone(),
            phone: self.phone.clone(),
            ..ShopUser::default()
        }
    }

    /// PATCH operations setting each field given (an empty value removes it).
    fn operations(&self) -> Vec<PatchOperation> {
        let mut operations = Vec::new();
        for (name, value) in self.single() {
            let Some(value) = value.map(|v| v.trim()) else {
                continue;
            };
            let value = match name {
                "licence" => Licence::parse(value).as_str().to_owned(),
                "role" => Role::parse(value).as_str().to_owned(),
                _ => value.to_owned(),
            };
            let path = format!("{}:{name}", urn::SHOP_USER);
            operations.push(if value.is_empty() {
                PatchOperation::remove(path)
            } else {
                PatchOperation::replace(path, json!(value))
            });
        }
        for (name, values) in self.lists() {
            if let Some(values) = values {
                operations.push(PatchOperation::replace(
                    format!("{}:{name}", urn::SHOP_USER),
                    json!(values),
                ));
            }
        }
        operations
    }
}

/// `users create`.
#[derive(Debug, Args)]
pub struct CreateArgs {
    /// Sign-in name; without it, made from --given and --family as the app makes it
    /// (jsmith, jsmith2 when taken), else the email address.
    #[arg(long)]
    user_name: Option<String>,
    /// Email address (their own: each account needs its own).
    #[arg(long)]
    email: String,
    /// Given name.
    #[arg(long)]
    given: Option<String>,
    /// Family name.
    #[arg(long)]
    family: Option<String>,
    #[command(flatten)]
    shop: ShopArgs,
    /// Send the welcome email after creating.
    #[arg(long)]
    invite: bool,
    #[command(flatten)]
    invite_options: crate::user_actions::InviteArgs,
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
    #[command(flatten)]
    shop: ShopArgs,
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
    let narrowing = args.narrowing();
    // A status or an expiry is looked up over everyone, not over one page.
    let all = args.all || !args.status.is_empty() || args.expiring_within.is_some();
    let query = ListQuery {
        filter: args.filter,
        sort_by: args.sort_by,
        descending: args.descending,
        // A status or an expiry walks everyone in full pages: --count then limits the
        // matches (below), not the page size.
        count: if all && !args.all {
            None
        } else {
            args.count.or((!all).then_some(LIST_PAGE))
        },
        include_deleted: args.deleted,
        ..ListQuery::default()
    };
    // Every user as JSON is written page by page as it is read, never all held.
    let streamed = args.all && narrowing.is_none() && out.json;
    let (fetched, printing, reader_gone) = if streamed {
        let (streamed, started) = listing::stream(&query, target).await;
        let gone = matches!(streamed, Ok(listing::Streamed::ReaderGone));
        (streamed.map(|_| (Vec::new(), None)), started, gone)
    } else {
        (listing::fetch(&query, all, target).await, false, false)
    };
    // Every user walked (and, streamed, written): the moment to refresh the copy too.
    let walked_all = all && fetched.is_ok() && !reader_gone;
    // Written already, as it came (else the offline copy stands in, printed below).
    let delivered = streamed && fetched.is_ok();
    let (mut users, mut total) = match fetched {
        Ok(fetched) => fetched,
        Err(Failure::Core(explained))
            if offline_ok && !printing && matches!(explained.error, Error::Offline { .. }) =>
        {
            let Ok(cached) = offline::read(&target.vault, &target.profile.name) else {
                return Err(Failure::Core(explained));
            };
            eprintln!(
                "Offline: showing the snapshot from {}.",
                offline::age_words(cached.age)
            );
            let mut users: Vec<User> = cached.snapshot.users.iter().map(PackedUser::user).collect();
            if all || narrowing.is_some() {
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
    if let Some(narrowing) = &narrowing {
        users = listing::narrow(users, narrowing);
        total = None;
        // Looked up over everyone: --count keeps the first so many of the matches.
        if let Some(count) = args.count.filter(|_| all && !args.all) {
            users.truncate(usize::try_from(count).unwrap_or(usize::MAX));
        }
    }
    let printed = if delivered {
        Ok(())
    } else if out.json {
        out.json(&users)
    } else {
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
    };
    // Having walked every user, bring the offline copy up to date too; once they are
    // printed and let go, so the list and the copy are not in memory at once.
    drop(users);
    if walked_all {
        let client = target.client().await?;
        offline::refresh_quietly(client, &target.vault, &target.profile.name).await;
    }
    printed
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

async fn create(mut args: CreateArgs, target: &Target, out: &Output) -> Result<(), Failure> {
    if args.invite_options.is_set() && !args.invite {
        return Err(Failure::Usage(
            "--mobile and --sms-code say how to invite: add --invite.".into(),
        ));
    }
    if args.invite_options.sms_code()
        && args
            .shop
            .phone
            .as_deref()
            .is_none_or(|p| p.trim().is_empty())
    {
        return Err(Error::invalid(
            "phone",
            "An SMS code needs a phone number: add --phone, or invite without --sms-code.",
        )
        .into());
    }
    args.shop.fill_role();
    args.shop.check(None)?;
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
    let client = target.client().await?;
    let user_name = match &args.user_name {
        Some(user_name) => user_name.clone(),
        None => made_user_name(&args, client).await?,
    };
    let user = User {
        name,
        display_name: (!display_name.is_empty()).then_some(display_name),
        emails: vec![MultiValue {
            primary: Some(true),
            ..MultiValue::typed(&args.email, "work")
        }],
        shop: (!args.shop.is_empty()).then(|| args.shop.shop()),
        ..User::new(&user_name)
    };
    let created = client.users().create(&user).await?.value;
    target.record(Written::User(&created));
    let id = created.id.clone().unwrap_or_default();
    if !args.invite {
        return out.value(&created, || format!("Created {}.", who(&created)));
    }
    // The user exists now; if the invitation fails, say so but keep the exit code honest.
    let action = muster_core::actions::Action::SendWelcome(args.invite_options.invite());
    let invited = client
        .actions()
        .run(&id, action.clone())
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
            "Created {}. {}",
            who(&invited),
            action.done_message(&invited, &Default::default())
        )
    })
}

async fn update(args: UpdateArgs, target: &Target, out: &Output) -> Result<(), Failure> {
    if args.email.is_none()
        && args.given.is_none()
        && args.family.is_none()
        && args.shop.is_empty()
        && args.active.is_none()
    {
        return Err(Failure::Usage(
            "Nothing to change: pass --email, --given, --family, a shop field (--licence, \
             --role, --phone, --zones…) or --active."
                .into(),
        ));
    }
    let client = target.client().await?;
    // A fresh read gives the version to send as If-Match: if someone else changes the user
    // between this read and the write, the server refuses with a conflict (exit 5).
    let Versioned { value: user, etag } = client.users().get(&args.id).await?;
    args.shop.check(user.shop.as_ref())?;
    let operations = changes(&user, &args);
    if let Some(why) = muster_core::rules::unread_refusal(&user, &operations) {
        return Err(muster_core::Error::Unsupported { message: why }.into());
    }
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
    operations.extend(args.shop.operations());
    if let Some(active) = args.active {
        operations.push(PatchOperation::replace("active", json!(active)));
    }
    operations
}

/// The sign-in name the engine makes from the given and family names, numbered past the
/// ones the server has taken; the email address when the names make none.
async fn made_user_name(args: &CreateArgs, client: &Client) -> Result<String, Failure> {
    let given = args.given.as_deref().unwrap_or_default();
    let family = args.family.as_deref().unwrap_or_default();
    let Some(base) = user_name::base(given, family) else {
        return Ok(args.email.clone());
    };
    let query = ListQuery {
        count: Some(1_000),
        ..ListQuery::filtered(attr("userName").sw(base.as_str()))
    };
    let taken: HashSet<String> = client
        .users()
        .list_all(&query, |_| {})
        .await?
        .into_iter()
        .map(|u| u.user_name.to_lowercase())
        .collect();
    Ok(user_name::suggest(given, family, |name| taken.contains(name)).unwrap_or(base))
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
    // Sent by the server, not readable here: named, so the blanks above are not taken
    // for the server's word.
    for unread in &user.unread {
        lines.push((
            "not read",
            format!("{}: {}", unread.attribute, unread.reason),
        ));
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

    #[test]
    fn a_user_read_in_part_names_what_was_not_read() {
        let text = r#"{"id": "u1", "userName": "ann@example.test", "active": "maybe"}"#;
        let user = User::from_listed_text(text).unwrap();
        let shown = describe(&user);
        assert!(shown.contains("ann@example.test"), "{shown}");
        assert!(
            shown.contains("not read") && shown.contains("active: attribute \"active\""),
            "{shown}"
        );
        let whole = User::from_listed_text(r#"{"id": "u1", "userName": "ann"}"#).unwrap();
        assert!(!describe(&whole).contains("not read"));
    }

    fn update(id: &str) -> UpdateArgs {
        UpdateArgs {
            id: id.into(),
            email: None,
            given: None,
            family: None,
            shop: ShopArgs::default(),
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
                shop: ShopArgs {
                    role: Some("Viewer".into()),
                    zones: Some(vec![" North ".into(), String::new(), "East".into()]),
                    phone: Some(String::new()),
                    ..ShopArgs::default()
                },
                ..update("1")
            },
        );
        let ops = serde_json::to_value(&ops).unwrap();
        assert_eq!(ops[0]["path"], "emails");
        assert_eq!(ops[0]["value"][0]["value"], "home@x.test");
        assert_eq!(ops[0]["value"][1]["value"], "new@x.test");
        assert_eq!(ops[1]["op"], "remove", "an empty value removes the field");
        assert_eq!(ops[1]["path"], format!("{}:phone", urn::SHOP_USER));
        assert_eq!(ops[2]["path"], format!("{}:role", urn::SHOP_USER));
        assert_eq!(ops[2]["value"], "viewer", "roles are sent canonically");
        assert_eq!(
            ops[3]["value"],
            json!(["North", "East"]),
            "lists are cleaned"
        );
    }

    #[test]
    fn durations_are_hours_or_days() {
        assert_eq!(hours_arg("24h"), Ok(24));
        assert_eq!(hours_arg("3d"), Ok(72));
        assert_eq!(hours_arg(" 5 "), Ok(5));
        assert!(hours_arg("soon").is_err());
        assert!(
            hours_arg("999999999d").is_err(),
            "an overflow is refused, not wrapped"
        );
    }

    #[test]
    fn bad_filters_are_refused_before_sending() {
        assert!(filter_arg(r#"userName eq "ann""#).is_ok());
        assert!(filter_arg("userName eq").is_err());
    }
}
