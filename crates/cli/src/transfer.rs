//! `muster users export` and `muster users import`: CSV out of and into the organisation,
//! on muster-core's [`csv`](muster_core::csv).
//!
//! Both start from every user of the organisation: fetched through the offline copy
//! (brought up to date, and kept, when the keychain can hold its key), or straight from
//! the server without a keychain, or, when the server cannot be reached (or with
//! `--offline`), the offline copy as last synced. So an export, and an import's dry run,
//! work offline.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;

use clap::Args;
use muster_core::Error;
use muster_core::cache::PackedUser;
use muster_core::csv::export::{self, ExportOptions};
use muster_core::csv::import::{
    self, Field, ImportOptions, ImportReport, Known, MappingOverride, Outcome, Plan, Severity,
};
use muster_core::csv::{Limits, read_file};
use muster_core::query::ListQuery;
use muster_core::search::{Index, SearchQuery, SortKey};
use muster_core::sync;
use muster_scim::filter::{Filter, matches};
use muster_scim::schema::ResourceSchema;
use serde_json::{Map, Value, json};
use time::OffsetDateTime;

use crate::Target;
use crate::columns;
use crate::credentials::prompt_line;
use crate::failure::{Failure, code_exit, exit};
use crate::offline;
use crate::output::{Output, Progress, Table, one_line, say, thousands};
use crate::users::filter_arg;

/// `users export`.
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// A SCIM filter, e.g. 'name.familyName sw "Sm"' (applied here, so it works offline).
    #[arg(long, value_parser = filter_arg)]
    filter: Option<Filter>,
    /// Only users whose name, email, username or phone contains this text.
    #[arg(long, value_name = "TEXT")]
    search: Option<String>,
    /// Only these roles (repeat the option, or separate with commas).
    #[arg(long, value_name = "ROLE", value_delimiter = ',')]
    role: Vec<String>,
    /// Only these licences.
    #[arg(long, value_name = "LICENCE", value_delimiter = ',')]
    licence: Vec<String>,
    /// Only these statuses (invited, active, suspended, deactivated).
    #[arg(long, value_name = "STATUS", value_delimiter = ',')]
    status: Vec<String>,
    /// Only people of these branches (home branch or one they work for).
    #[arg(long, value_name = "BRANCH", value_delimiter = ',')]
    branch: Vec<String>,
    /// Only people of these zones.
    #[arg(long, value_name = "ZONE", value_delimiter = ',')]
    zone: Vec<String>,
    /// Only these security groups.
    #[arg(long, value_name = "GROUP", value_delimiter = ',')]
    security_group: Vec<String>,
    /// Only people who last signed in this way (password, magic_link, google, microsoft).
    #[arg(long, value_name = "METHOD", value_delimiter = ',')]
    sign_in_method: Vec<String>,
    /// Only people whose invitation is in this state (pending, accepted, expired).
    #[arg(long, value_name = "STATE", value_delimiter = ',')]
    invitation: Vec<String>,
    /// Only people who have not signed in for this many days (or never).
    #[arg(long, value_name = "DAYS")]
    no_sign_in_for_days: Option<u32>,
    /// Sort by name (the default), email, userName, role, licence, status, branch,
    /// securityGroup, lastSignIn, created or lastModified.
    #[arg(long, value_name = "KEY", value_parser = sort_arg)]
    sort_by: Option<SortKey>,
    /// Largest first.
    #[arg(long)]
    descending: bool,
    /// Columns, e.g. id,userName,email; default every column (`users export --columns x`
    /// lists them).
    #[arg(long, value_name = "A,B,C")]
    columns: Option<String>,
    /// Write to this file (created readable by you only) instead of stdout (`-`).
    #[arg(long, short, value_name = "FILE")]
    output: Option<PathBuf>,
    /// Start with a UTF-8 byte-order mark, so that Excel shows accents right.
    #[arg(long)]
    bom: bool,
    /// Use the offline copy as last synced, without contacting the server.
    #[arg(long)]
    offline: bool,
}

const IMPORT_HELP: &str = "\
Fields: email (required), userName (default: the email), givenName, familyName, name (a
full name, split into first and last), displayName, phone, jobRole, licence, role,
securityGroup, serviceGroups, zones, homeBranch, branches. Zones, branches and service
groups take several values separated by ; , or |.

Columns are matched by header: a field name, or a common spelling (\"E-mail\", \"Email
address\", \"First name\", \"Surname\", \"License\", \"Branch\"…). --map settles the rest. A
file `users export` wrote imports as it is (its id, status and times are left out).

Every row is checked before anything is sent, and every problem is listed: a missing or
malformed email, a missing name, the same email twice in the file, someone who already
exists (with a name+licence@ address when they need a second account), an unknown
licence or role, and a branch, zone or group no user has (with the closest spelling).
Rows with problems are never sent; running the same file again is safe.

Exit codes:
  0  every row was created and sent its welcome email (--dry-run: every row is ready)
  7  some rows have problems: with --dry-run nothing was sent; otherwise those rows were
     left out and the others imported. Also: a file that cannot be used.
  5  the server refused some rows (an address in use, say)
  6  the server could not be reached, or asked to slow down, part-way: the rows not
     reached are \"notRun\" in the report
  3  not signed in, or not allowed to create users
  2  usage: a bad --map, or the import was not confirmed (--yes skips the question)
  1  anything else, such as a welcome email the server could not send";

/// `users import`.
#[derive(Debug, Args)]
#[command(after_long_help = IMPORT_HELP)]
pub struct ImportArgs {
    /// The CSV file: UTF-8, with a header row naming the columns.
    file: PathBuf,
    /// Choose a column's field, e.g. --map "Work mail=email"; HEADER= leaves it out.
    /// Repeat for more columns.
    #[arg(long = "map", value_name = "HEADER=FIELD", value_parser = map_arg)]
    map: Vec<MappingOverride>,
    /// Check every row and print the problems; send nothing.
    #[arg(long)]
    dry_run: bool,
    /// Write the results (row, email, outcome, message, userId) as CSV to this file.
    #[arg(long, value_name = "FILE")]
    report: Option<PathBuf>,
    /// Import without asking for confirmation.
    #[arg(long, short)]
    yes: bool,
    /// Create the users without sending them the welcome email.
    #[arg(long)]
    no_welcome: bool,
    /// Accept branches, zones and groups no user has yet (a warning, not a problem).
    #[arg(long)]
    allow_new_values: bool,
}

/// Parses `--sort-by`: a sort key, or the SCIM attribute it stands for.
fn sort_arg(text: &str) -> Result<SortKey, String> {
    const KEYS: &[(&str, &str)] = &[
        ("name", "name"),
        ("displayName", "name"),
        ("email", "email"),
        ("emails", "email"),
        ("emails.value", "email"),
        ("userName", "userName"),
        ("role", "role"),
        ("licence", "licence"),
        ("license", "licence"),
        ("status", "status"),
        ("branch", "branch"),
        ("homeBranch", "branch"),
        ("securityGroup", "securityGroup"),
        ("lastSignIn", "lastSignIn"),
        ("created", "created"),
        ("meta.created", "created"),
        ("lastModified", "lastModified"),
        ("meta.lastModified", "lastModified"),
    ];
    let key = KEYS
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(text.trim()))
        .map(|(_, key)| *key)
        .ok_or_else(|| {
            "sort by name, email, userName, role, licence, status, branch, securityGroup, \
             lastSignIn, created or lastModified"
                .to_owned()
        })?;
    serde_json::from_value(Value::String(key.to_owned())).map_err(|error| error.to_string())
}

/// Parses `--map HEADER=FIELD` (`HEADER=` to leave the column out).
fn map_arg(text: &str) -> Result<MappingOverride, String> {
    let (header, field) = text
        .rsplit_once('=')
        .ok_or_else(|| "write HEADER=FIELD, e.g. \"E-mail address=email\"".to_owned())?;
    if header.trim().is_empty() {
        return Err("the header before '=' is empty".to_owned());
    }
    let field = match field.trim() {
        "" | "-" => None,
        name => Some(Field::parse(name).ok_or_else(|| {
            format!(
                "there is no field '{name}'; fields: {}",
                Field::ALL.map(Field::name).join(", ")
            )
        })?),
    };
    Ok(MappingOverride {
        header: header.trim().to_owned(),
        field,
    })
}

/// Runs `muster users export`.
pub async fn export(args: ExportArgs, target: &Target, out: &Output) -> Result<(), Failure> {
    let columns = columns::select(args.columns.as_deref(), &columns::all_names())?;
    let mut users = org_users(target, args.offline, true).await?;
    if let Some(filter) = &args.filter {
        users = filtered(users, filter);
    }
    let index = Index::of_packed(&users);
    let query = SearchQuery {
        text: args.search.unwrap_or_default(),
        roles: args.role,
        licences: args.licence,
        statuses: args.status,
        branches: args.branch,
        zones: args.zone,
        security_groups: args.security_group,
        sign_in_methods: args.sign_in_method,
        invitation_states: args.invitation,
        no_sign_in_for_days: args.no_sign_in_for_days,
        sort: args.sort_by.unwrap_or_default(),
        descending: args.descending,
        ..SearchQuery::default()
    };
    let options = ExportOptions { bom: args.bom };
    let now = OffsetDateTime::now_utc();
    let row_of = |row: usize| users.get(row).map(PackedUser::user);
    match args
        .output
        .as_deref()
        .filter(|path| *path != Path::new("-"))
    {
        Some(path) => {
            let file = export::create_private(path)?;
            let summary =
                export::export_view(file, row_of, &index, &query, &columns, &options, now)
                    .inspect_err(|_| {
                        let _ = std::fs::remove_file(path);
                    })?;
            out.value(
                &json!({"exported": summary.rows, "file": path.display().to_string()}),
                || {
                    format!(
                        "Exported {} users to {}.",
                        thousands(u64::from(summary.rows)),
                        path.display()
                    )
                },
            )
        }
        None => {
            let stdout = UntilClosed::new(std::io::stdout().lock());
            export::export_view(stdout, row_of, &index, &query, &columns, &options, now)?;
            Ok(())
        }
    }
}

/// The users `filter` matches, by the SCIM reference semantics (as a server decides).
fn filtered(users: Vec<PackedUser>, filter: &Filter) -> Vec<PackedUser> {
    let schema = ResourceSchema::user();
    users
        .into_iter()
        .filter(|user| {
            user.user()
                .to_json()
                .is_ok_and(|document| matches(filter, &document, &schema))
        })
        .collect()
}

/// Runs `muster users import`.
pub async fn import(args: ImportArgs, target: &Target, out: &Output) -> Result<(), Failure> {
    // The file first: a bad one costs no request.
    let table = read_file(&args.file, &Limits::default())?;
    let options = ImportOptions {
        allow_new_values: args.allow_new_values,
        send_welcome: !args.no_welcome,
    };
    let users = org_users(target, false, args.dry_run).await?;
    let known = Known::from_users(users.iter().map(PackedUser::user));
    drop(users);
    let plan = import::plan(&table, &args.map, &known, &options)?;
    let preview = plan.preview();
    if !out.json {
        print_preview(&plan);
    }
    let ready = plan.ready().count();
    if args.dry_run {
        if let Some(path) = &args.report {
            write_report(
                &ImportReport::unsent(&plan, "Ready; not sent (dry run)."),
                path,
            )?;
        }
        if plan.has_problems() {
            return Err(Failure::Incomplete {
                exit: exit::VALIDATION,
                message: format!(
                    "{} of {} rows have problems; nothing was sent.",
                    preview.with_problems,
                    preview.rows.len()
                ),
                extra: members([("preview", json!(preview))]),
            });
        }
        return out.value(&json!({"preview": preview}), || {
            "Every row is ready; nothing was sent (dry run).".to_owned()
        });
    }
    if ready == 0 {
        return Err(Failure::Incomplete {
            exit: exit::VALIDATION,
            message: "No row is ready to import; nothing was sent.".to_owned(),
            extra: members([("preview", json!(preview))]),
        });
    }
    if !args.yes && !confirmed(&plan, &options)? {
        if let Some(path) = &args.report {
            write_report(&ImportReport::unsent(&plan, "Not confirmed."), path)?;
        }
        return Err(Failure::Usage(
            "Not confirmed: nothing was sent (--yes imports without asking).".to_owned(),
        ));
    }
    let client = target.client().await?;
    let mut progress = Progress::on_terminal();
    let total = thousands(ready as u64);
    let cancel = AtomicBool::new(false);
    let (report, created) = import::run(client, &plan, &options, &cancel, |p| {
        progress.show(&format!(
            "Imported {} of {total}",
            thousands(u64::from(p.done))
        ));
    })
    .await;
    progress.finish();
    if !created.is_empty() {
        offline::refresh_quietly(client, &target.vault, &target.profile.name).await;
    }
    if let Some(path) = &args.report {
        write_report(&report, path)?;
    }
    if !out.json {
        print_summary(&report, &options, args.report.as_deref());
    }
    let details = || {
        members([
            ("preview", json!(plan.preview())),
            ("report", json!(report)),
        ])
    };
    if report.all_done() {
        return if out.json {
            out.json(&Value::Object(details()))
        } else {
            Ok(())
        };
    }
    Err(Failure::Incomplete {
        exit: exit_code(&report),
        message: format!(
            "{} of {} rows were not imported.",
            report.rows.len() as u64 - u64::from(report.created),
            report.rows.len()
        ),
        extra: details(),
    })
}

/// The exit code of an import that did not do everything: the first refusal's kind, else
/// 7 for rows left out with problems.
fn exit_code(report: &ImportReport) -> u8 {
    report
        .rows
        .iter()
        .filter(|r| matches!(r.outcome, Outcome::Failed | Outcome::WelcomeFailed))
        .find_map(|r| r.code())
        .map(code_exit)
        .unwrap_or(if report.skipped > 0 {
            exit::VALIDATION
        } else {
            exit::OTHER
        })
}

/// Asks to go ahead (on stderr; the answer from stdin, a terminal or a pipe).
fn confirmed(plan: &Plan, options: &ImportOptions) -> Result<bool, Failure> {
    let ready = plan.ready().count();
    let mut question = if options.send_welcome {
        format!(
            "Create {} users and send each the welcome email?",
            thousands(ready as u64)
        )
    } else {
        format!("Create {} users?", thousands(ready as u64))
    };
    if plan.has_problems() {
        question.push_str(&format!(
            " The {} rows with problems are left out.",
            plan.preview().with_problems
        ));
    }
    if !std::io::stdin().is_terminal() {
        eprintln!("{question} Reading the answer from stdin.");
    }
    let answer = prompt_line(&format!("{question} [y/N] "))?;
    Ok(matches!(answer.to_lowercase().as_str(), "y" | "yes"))
}

/// The column mapping, then each row's problems, for people.
fn print_preview(plan: &Plan) {
    let preview = plan.preview();
    let mut columns = Table::new(["COLUMN", "FIELD"]);
    for column in &preview.columns {
        let field = match (column.field, &column.note) {
            (Some(field), _) => field.name().to_owned(),
            (None, Some(note)) => note.clone(),
            (None, None) => "left out".to_owned(),
        };
        columns.row([column.header.clone(), field]);
    }
    columns.print();
    say!();
    say!(
        "{} rows: {} ready, {} with problems.",
        thousands(preview.rows.len() as u64),
        thousands(u64::from(preview.ready)),
        thousands(u64::from(preview.with_problems))
    );
    let troubled: Vec<_> = preview
        .rows
        .iter()
        .filter(|r| !r.problems.is_empty())
        .collect();
    if !troubled.is_empty() {
        let mut table = Table::new(["ROW", "EMAIL", "PROBLEM"]);
        for row in troubled {
            for (i, problem) in row.problems.iter().enumerate() {
                let mut text = String::new();
                if problem.severity == Severity::Warning {
                    text.push_str("warning: ");
                }
                if let Some(field) = problem.field {
                    text.push_str(field.name());
                    text.push_str(": ");
                }
                text.push_str(&problem.message);
                if let Some(suggestion) = &problem.suggestion {
                    text.push_str(&format!(" Try: {suggestion}"));
                }
                let (number, email) = if i == 0 {
                    (row.row.to_string(), row.email.clone())
                } else {
                    (String::new(), String::new())
                };
                table.row([number, email, text]);
            }
        }
        table.print();
    }
    for note in &preview.notes {
        say!("Note: {}", one_line(note));
    }
}

/// What a run did, for people: counts, then each row that did not go through.
fn print_summary(report: &ImportReport, options: &ImportOptions, report_file: Option<&Path>) {
    say!();
    if options.send_welcome {
        say!(
            "Created {} users and sent {} welcome emails.",
            thousands(u64::from(report.created)),
            thousands(u64::from(report.invited))
        );
    } else {
        say!("Created {} users.", thousands(u64::from(report.created)));
    }
    let mut table = Table::new(["ROW", "EMAIL", "OUTCOME", "MESSAGE"]);
    let mut any = false;
    for row in report.rows.iter().filter(|r| {
        matches!(
            r.outcome,
            Outcome::Failed | Outcome::WelcomeFailed | Outcome::NotRun
        )
    }) {
        any = true;
        table.row([
            row.row.to_string(),
            row.email.clone(),
            row.outcome.as_str().to_owned(),
            row.message.clone(),
        ]);
    }
    if any {
        table.print();
    }
    if report.skipped > 0 {
        say!(
            "{} rows with problems were left out.",
            thousands(u64::from(report.skipped))
        );
    }
    if let Some(reason) = &report.stopped {
        say!("Stopped: {}", one_line(reason));
    }
    if let Some(path) = report_file {
        say!("Report: {}", path.display());
    }
}

fn write_report(report: &ImportReport, path: &Path) -> Result<(), Failure> {
    let file = export::create_private(path)?;
    Ok(report.write_csv(file, &ExportOptions::default())?)
}

fn members<const N: usize>(pairs: [(&str, Value); N]) -> Map<String, Value> {
    pairs
        .into_iter()
        .map(|(key, value)| (key.to_owned(), value))
        .collect()
}

/// Every user of the organisation (see the [module](self) documentation). With
/// `offline_only`, the offline copy without trying the server; with `copy_if_offline`,
/// the copy when the server cannot be reached (an export, a dry run), else that failure.
pub(crate) async fn org_users(
    target: &Target,
    offline_only: bool,
    copy_if_offline: bool,
) -> Result<Vec<PackedUser>, Failure> {
    if !offline_only {
        match fetch_users(target).await {
            Err(Failure::Core(explained))
                if copy_if_offline && matches!(explained.error, Error::Offline { .. }) =>
            {
                let Ok(cached) = offline::read(&target.vault, &target.profile.name) else {
                    return Err(Failure::Core(explained));
                };
                eprintln!(
                    "Offline: using the snapshot from {}.",
                    offline::age_words(cached.age)
                );
                return Ok(cached.snapshot.users);
            }
            fetched => return fetched,
        }
    }
    let cached =
        offline::read(&target.vault, &target.profile.name).map_err(|failure| match failure {
            Failure::Core(explained)
                if matches!(explained.error, Error::KeychainUnavailable { .. }) =>
            {
                Failure::Local(format!(
                    "There is no offline copy to read: the keychain that holds its key \
                     cannot be used ({}).{}",
                    explained.error.clause(),
                    explained
                        .error
                        .fix()
                        .map(|fix| format!(" How to fix: {fix}"))
                        .unwrap_or_default()
                ))
            }
            other => other,
        })?;
    eprintln!(
        "Using the offline copy from {}.",
        offline::age_words(cached.age)
    );
    Ok(cached.snapshot.users)
}

/// Every user, from the server: through the offline copy (synced, then saved) when the
/// keychain holds or takes its key, else by listing them all.
async fn fetch_users(target: &Target) -> Result<Vec<PackedUser>, Failure> {
    let client = target.client().await?;
    let mut progress = Progress::on_terminal();
    let store = offline::store(&target.vault, &target.profile.name, true)
        .ok()
        .flatten();
    let users = match store {
        Some(store) => {
            let now = OffsetDateTime::now_utc();
            let (_, snapshot, saved) =
                sync::sync_store(client, &store, now, |p| progress.update(p.fetched, p.total))
                    .await?;
            if let Err(error) = saved {
                eprintln!(
                    "Warning: the offline copy was not updated: {}.",
                    error.clause()
                );
            }
            snapshot.users
        }
        None => client
            .users()
            .list_all(&ListQuery::default(), |p| {
                progress.update(p.fetched, p.total)
            })
            .await?
            .into_iter()
            .map(PackedUser::from)
            .collect(),
    };
    progress.finish();
    Ok(users)
}

/// A writer that treats a reader that stopped reading (`muster users export | head`) as
/// the end of the output, not a failure.
struct UntilClosed<W> {
    inner: W,
    closed: bool,
}

impl<W> UntilClosed<W> {
    fn new(inner: W) -> Self {
        Self {
            inner,
            closed: false,
        }
    }
}

impl<W: Write> Write for UntilClosed<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.closed {
            return Ok(buf.len());
        }
        match self.inner.write(buf) {
            Err(error) if error.kind() == std::io::ErrorKind::BrokenPipe => {
                self.closed = true;
                Ok(buf.len())
            }
            other => other,
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match self.inner.flush() {
            Err(error) if error.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
            other => other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sort_keys_and_mappings_parse() {
        assert_eq!(sort_arg("USERNAME"), Ok(SortKey::UserName));
        assert_eq!(sort_arg("meta.created"), Ok(SortKey::Created));
        assert!(sort_arg("shoeSize").is_err());
        let chosen = map_arg("Work e-mail=email").unwrap();
        assert_eq!(chosen.header, "Work e-mail");
        assert_eq!(chosen.field, Some(Field::Email));
        assert_eq!(map_arg("a=b=GivenName").unwrap().header, "a=b");
        assert_eq!(map_arg("Notes=").unwrap().field, None);
        assert!(
            map_arg("Notes=shoeSize")
                .unwrap_err()
                .contains("familyName")
        );
        assert!(map_arg("no separator").is_err());
        assert!(map_arg("=email").is_err());
    }

    #[test]
    fn a_closed_reader_ends_the_output_quietly() {
        struct Closed;
        impl Write for Closed {
            fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
                Err(std::io::ErrorKind::BrokenPipe.into())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Err(std::io::ErrorKind::BrokenPipe.into())
            }
        }
        let mut out = UntilClosed::new(Closed);
        assert!(out.write_all(b"id\r\n").is_ok());
        assert!(out.flush().is_ok());
        assert!(out.closed);
    }
}
