//! `muster bulk ACTION`: one action over many users, on muster-core's bulk runner
//! ([`muster_core::bulk`]): a few requests at a time within the server's rate limits,
//! `/Bulk` where the provider offers it, a progress line on a terminal, and a summary.
//! Safe to re-run: users already done are skipped, so the same command retries the rest.

use std::collections::BTreeMap;
use std::io::IsTerminal;

use clap::{ArgGroup, Args, ValueEnum};
use muster_core::bulk::{
    Cancel, Context, Job, Operation, Options, Outcome, Report, Summary, Targets,
};
use muster_core::cache::PackedUser;
use muster_core::query::ListQuery;
use muster_core::search::{Index, SearchQuery};
use muster_core::users::clean_list;
use muster_scim::filter::Filter;
use muster_scim::user::{Licence, Role};
use serde::Serialize;
use serde_json::{Map, Value, json};
use time::OffsetDateTime;

use crate::Target;
use crate::credentials::prompt_line;
use crate::failure::{Failure, code_exit, exit};
use crate::offline::{self, Written};
use crate::output::{Output, Progress, say, thousands};

/// What `muster bulk --help` says after the options.
const AFTER_HELP: &str = "\
Which users: --ids, or --filter (a SCIM filter, on the server) and/or --search (text in
name, email, username or phone), or --all. The signed-in account is never changed.

Safe to re-run: users already as asked are skipped (\"already done\"), so running the same
command again retries only what failed or was not reached. Ctrl-C stops starting new
requests; those in flight finish and the summary says who was not reached.

Exit codes: 0 when every user was done or skipped; otherwise that of the first failure
(3 not allowed, 4 not found, 5 conflict, 6 network or rate limit, 7 validation, 1 other),
6 when the job stopped early because the server could not be reached or asked for too
long a pause, and 1 when cancelled. With --json the summary is printed on success, and
under \"error\" (as \"summary\") otherwise.";

/// `muster bulk`.
#[derive(Debug, Args)]
#[command(
    after_long_help = AFTER_HELP,
    group(ArgGroup::new("targets").required(true).multiple(true).args(["ids", "filter", "search", "all"]))
)]
pub struct BulkArgs {
    /// What to do to each user.
    action: BulkAction,
    /// These users, by id (comma-separated).
    #[arg(long, value_name = "ID,ID", value_delimiter = ',', conflicts_with_all = ["filter", "search", "all"])]
    ids: Vec<String>,
    /// Users matching this SCIM filter, e.g. 'name.familyName sw "Sm"'.
    #[arg(long, value_parser = crate::users::filter_arg)]
    filter: Option<Filter>,
    /// Users whose name, email, username or phone contains this text.
    #[arg(long, value_name = "TEXT")]
    search: Option<String>,
    /// Every user.
    #[arg(long, conflicts_with_all = ["filter", "search"])]
    all: bool,
    /// The licence for set-licence: field, desk, contractor, customer, api, timesheet.
    #[arg(long)]
    licence: Option<String>,
    /// The role for set-role: admin, technician, viewer.
    #[arg(long)]
    role: Option<String>,
    /// The home branch for set-branch.
    #[arg(long, value_name = "BRANCH")]
    branch: Option<String>,
    /// The branches worked for, for set-branch (replacing the list).
    #[arg(long, value_name = "A,B", value_delimiter = ',')]
    branches: Option<Vec<String>>,
    /// The zones for set-zones (replacing the list; '' clears it).
    #[arg(long, value_name = "A,B", value_delimiter = ',')]
    zones: Option<Vec<String>>,
    /// For deactivate: who takes over the users' responsibilities.
    #[command(flatten)]
    handover: crate::user_actions::Handover,
    /// Most requests in flight at once (1 to 32).
    #[arg(long, value_name = "N", default_value_t = 6, value_parser = clap::value_parser!(u16).range(1..=32))]
    concurrency: u16,
    /// Send one request per user even when the server offers SCIM /Bulk.
    #[arg(long)]
    no_bulk: bool,
    /// Do not ask for confirmation.
    #[arg(long, short)]
    yes: bool,
}

/// The actions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum BulkAction {
    /// Send the invitation again to invited users (pending or expired).
    ResendWelcome,
    /// Deactivate, handing responsibilities over (--reassign-to…).
    Deactivate,
    /// Suspend: bar at once and sign out everywhere.
    Suspend,
    /// Lift a suspension.
    Unsuspend,
    /// Change the licence (--licence).
    SetLicence,
    /// Change the role (--role).
    SetRole,
    /// Change the home branch (--branch) and/or the branches (--branches).
    SetBranch,
    /// Replace the zones (--zones).
    SetZones,
    /// Sign out everywhere.
    RevokeSessions,
    /// Clear the two-factor enrolment.
    ResetMfa,
}

impl BulkAction {
    /// "Suspend 40 users?" and the progress line's verb.
    fn verb(self) -> &'static str {
        match self {
            BulkAction::ResendWelcome => "Resend the invitation to",
            BulkAction::Deactivate => "Deactivate",
            BulkAction::Suspend => "Suspend",
            BulkAction::Unsuspend => "Lift the suspension of",
            BulkAction::SetLicence => "Change the licence of",
            BulkAction::SetRole => "Change the role of",
            BulkAction::SetBranch => "Change the branches of",
            BulkAction::SetZones => "Change the zones of",
            BulkAction::RevokeSessions => "Sign out",
            BulkAction::ResetMfa => "Reset two-factor of",
        }
    }
}

/// Runs `muster bulk`.
pub async fn run(args: BulkArgs, target: &Target, out: &Output) -> Result<(), Failure> {
    let operation = operation_of(&args)?;
    let client = target.client().await?;
    let (targets, known) = if args.ids.is_empty() {
        let users = fetch(&args, client).await?;
        let ids = matching(&users, args.search.as_deref());
        (ids, users)
    } else {
        (args.ids.clone(), Vec::new())
    };
    let mut seen = std::collections::HashSet::new();
    let total = targets
        .iter()
        .filter(|id| !id.trim().is_empty() && seen.insert(id.trim()))
        .count();
    if total == 0 {
        return out.value(&json!({"total": 0}), || "No users match.".to_owned());
    }
    if !args.yes && !confirmed(args.action, total)? {
        return Err(Failure::Usage("Nothing was changed.".to_owned()));
    }
    let job = Job {
        operation,
        targets: Targets::Ids(targets),
        options: Options {
            concurrency: usize::from(args.concurrency),
            use_bulk: !args.no_bulk,
            ..Options::default()
        },
    };
    let cancel = Cancel::new();
    let interrupt = {
        let cancel = cancel.clone();
        tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                eprintln!("\nCancelling: requests in flight finish, no new ones start.");
                cancel.cancel();
            }
        })
    };
    let mut line = Progress::on_terminal();
    let mut tally = [0usize; 3];
    let verb = args.action.verb();
    let summary = job
        .run(
            client,
            Context {
                users: &known,
                fresh: !known.is_empty(),
                cancel,
                ..Context::default()
            },
            |p| {
                match p.report.outcome {
                    Outcome::Done { .. } => tally[0] += 1,
                    Outcome::Skipped { .. } => tally[1] += 1,
                    Outcome::Failed { .. } => tally[2] += 1,
                    Outcome::NotRun => {}
                }
                line.show(&format!(
                    "{verb} {} of {} users: {} done, {} skipped, {} failed",
                    thousands(p.finished as u64),
                    thousands(p.total as u64),
                    tally[0],
                    tally[1],
                    tally[2]
                ));
            },
        )
        .await;
    interrupt.abort();
    line.finish();
    let summary = summary?;
    remember(target, &summary);
    let view = SummaryView::of(&job, &summary);
    match incomplete(&summary) {
        None => out.value(&view, || describe(args.action, &summary)),
        Some((code, message)) => {
            if !out.json {
                say!("{}", describe(args.action, &summary));
            }
            let mut extra = Map::new();
            // Cannot fail: the summary is plain data (strings, numbers, lists).
            if let Ok(value) = serde_json::to_value(&view) {
                extra.insert("summary".into(), value);
            }
            Err(Failure::Incomplete {
                exit: code,
                message,
                extra,
            })
        }
    }
}

/// The engine's operation for the command line's action and values.
fn operation_of(args: &BulkArgs) -> Result<Operation, Failure> {
    let needs = |value: &Option<String>, flag: &str| {
        value
            .as_deref()
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
            .ok_or_else(|| {
                Failure::Usage(format!(
                    "{} needs --{flag}.",
                    args.action
                        .to_possible_value()
                        .map_or_else(String::new, |v| v.get_name().to_owned())
                ))
            })
    };
    Ok(match args.action {
        BulkAction::ResendWelcome => Operation::ResendWelcome,
        BulkAction::Suspend => Operation::Suspend,
        BulkAction::Unsuspend => Operation::Unsuspend,
        BulkAction::RevokeSessions => Operation::RevokeSessions,
        BulkAction::ResetMfa => Operation::ResetMfa,
        BulkAction::SetLicence => {
            let licence = Licence::parse(&needs(&args.licence, "licence")?);
            if let Licence::Other(other) = &licence {
                return Err(Failure::Usage(format!(
                    "'{other}' is not a licence: field, desk, contractor, customer, api or \
                     timesheet."
                )));
            }
            Operation::SetLicence(licence)
        }
        BulkAction::SetRole => {
            let role = Role::parse(&needs(&args.role, "role")?);
            if let Role::Other(other) = &role {
                return Err(Failure::Usage(format!(
                    "'{other}' is not a role: admin, technician or viewer."
                )));
            }
            Operation::SetRole(role)
        }
        BulkAction::SetBranch => {
            if args.branch.is_none() && args.branches.is_none() {
                return Err(Failure::Usage(
                    "set-branch needs --branch, --branches, or both.".to_owned(),
                ));
            }
            Operation::SetBranches {
                home_branch: args.branch.as_deref().map(|b| b.trim().to_owned()),
                branches: args.branches.as_deref().map(clean_list),
            }
        }
        BulkAction::SetZones => Operation::SetZones(clean_list(
            args.zones
                .as_deref()
                .ok_or_else(|| Failure::Usage("set-zones needs --zones.".to_owned()))?,
        )),
        BulkAction::Deactivate => Operation::Deactivate {
            reassign: args.handover.reassign(),
        },
    })
}

/// Every user the filter (or --all) names, fresh from the server.
async fn fetch(args: &BulkArgs, client: &muster_core::Client) -> Result<Vec<PackedUser>, Failure> {
    let query = ListQuery {
        filter: args.filter.clone(),
        ..ListQuery::default()
    };
    let mut progress = Progress::on_terminal();
    let users = client
        .users()
        .list_all(&query, |p| progress.update(p.fetched, p.total))
        .await?;
    progress.finish();
    Ok(users.into_iter().map(PackedUser::from).collect())
}

/// The ids of `users` whose text holds `search` (all of them without one).
fn matching(users: &[PackedUser], search: Option<&str>) -> Vec<String> {
    let id = |user: &PackedUser| user.id().map(str::to_owned);
    let Some(text) = search.filter(|t| !t.trim().is_empty()) else {
        return users.iter().filter_map(id).collect();
    };
    let index = Index::of_packed(users);
    let found = index.search(
        &SearchQuery {
            text: text.to_owned(),
            limit: u32::MAX,
            ..SearchQuery::default()
        },
        OffsetDateTime::now_utc(),
    );
    found
        .rows
        .into_iter()
        .filter_map(|row| id(users.get(row)?))
        .collect()
}

/// Asks to go ahead (on stderr; the answer from stdin, a terminal or a pipe).
fn confirmed(action: BulkAction, total: usize) -> Result<bool, Failure> {
    let question = format!(
        "{} {} user{}?",
        action.verb(),
        thousands(total as u64),
        if total == 1 { "" } else { "s" }
    );
    if !std::io::stdin().is_terminal() {
        eprintln!("{question} Reading the answer from stdin (--yes skips this).");
    }
    let answer = prompt_line(&format!("{question} [y/N] "))?;
    Ok(matches!(answer.to_lowercase().as_str(), "y" | "yes"))
}

/// Puts every user the job changed into the profile's offline copy, in one write
/// ([`offline::record`]).
fn remember(target: &Target, summary: &Summary) {
    let changed = summary.changed_users();
    if !changed.is_empty() {
        offline::record(
            &target.vault,
            &target.profile.name,
            Written::Users(&changed),
        );
    }
}

/// The exit code and message when not every user was done or skipped.
fn incomplete(summary: &Summary) -> Option<(u8, String)> {
    let total = summary.reports.len();
    if let Some(code) = summary.failures().find_map(|r| match &r.outcome {
        Outcome::Failed { code, .. } => Some(*code),
        _ => None,
    }) {
        return Some((
            code_exit(code),
            format!(
                "{} of {} users failed{}; run the same command again to retry them.",
                thousands(summary.failed as u64),
                thousands(total as u64),
                not_run_words(summary)
            ),
        ));
    }
    if let Some(stop) = &summary.stopped {
        return Some((code_exit(stop.code), stop.message.clone()));
    }
    (summary.not_run > 0).then(|| {
        (
            exit::OTHER,
            format!(
                "Cancelled: {} of {} users were not reached.",
                thousands(summary.not_run as u64),
                thousands(total as u64)
            ),
        )
    })
}

fn not_run_words(summary: &Summary) -> String {
    if summary.not_run == 0 {
        String::new()
    } else {
        format!(
            " and {} were not reached",
            thousands(summary.not_run as u64)
        )
    }
}

/// The summary for people: the counts, the skips by reason, and each failure.
fn describe(action: BulkAction, summary: &Summary) -> String {
    let name = action
        .to_possible_value()
        .map_or_else(String::new, |v| v.get_name().to_owned());
    let mut lines = vec![format!(
        "{name}: {} done, {} skipped, {} failed, {} not run, of {} users ({:.1} s{}).",
        thousands(summary.done as u64),
        thousands(summary.skipped as u64),
        thousands(summary.failed as u64),
        thousands(summary.not_run as u64),
        thousands(summary.reports.len() as u64),
        summary.elapsed.as_secs_f64(),
        if summary.used_bulk {
            ", through /Bulk"
        } else {
            ""
        }
    )];
    let mut reasons: BTreeMap<&str, usize> = BTreeMap::new();
    for report in &summary.reports {
        if let Outcome::Skipped { reason, .. } = &report.outcome {
            *reasons.entry(reason).or_default() += 1;
        }
    }
    if !reasons.is_empty() {
        lines.push("Skipped:".to_owned());
        for (reason, count) in reasons {
            lines.push(format!("  {count:>5}  {reason}"));
        }
    }
    let failed: Vec<&Report> = summary.failures().collect();
    if !failed.is_empty() {
        lines.push("Failed:".to_owned());
        for report in failed {
            if let Outcome::Failed { message, .. } = &report.outcome {
                lines.push(format!(
                    "  {}  {}: {}",
                    report.target,
                    crate::output::one_line(&report.name),
                    crate::output::one_line(message)
                ));
            }
        }
    }
    if let Some(stop) = &summary.stopped {
        lines.push(format!("Stopped: {}", stop.message));
    }
    lines.join("\n")
}

/// The summary as `--json` prints it.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct SummaryView {
    action: &'static str,
    total: usize,
    done: usize,
    skipped: usize,
    failed: usize,
    not_run: usize,
    cancelled: bool,
    stopped: Option<String>,
    used_bulk: bool,
    elapsed_ms: u128,
    results: Vec<ResultView>,
}

/// One user's result in `--json`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct ResultView {
    id: String,
    name: String,
    outcome: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<String>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    already_done: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    code: Option<Value>,
}

impl SummaryView {
    fn of(job: &Job, summary: &Summary) -> Self {
        Self {
            action: job.operation.name(),
            total: summary.reports.len(),
            done: summary.done,
            skipped: summary.skipped,
            failed: summary.failed,
            not_run: summary.not_run,
            cancelled: summary.cancelled,
            stopped: summary.stopped.as_ref().map(|s| s.message.clone()),
            used_bulk: summary.used_bulk,
            elapsed_ms: summary.elapsed.as_millis(),
            results: summary
                .reports
                .iter()
                .map(|r| {
                    let (outcome, reason, already_done, code) = match &r.outcome {
                        Outcome::Done { .. } => ("done", None, false, None),
                        Outcome::Skipped {
                            reason,
                            already_done,
                        } => ("skipped", Some(reason.clone()), *already_done, None),
                        Outcome::Failed { code, message } => (
                            "failed",
                            Some(message.clone()),
                            false,
                            serde_json::to_value(code).ok(),
                        ),
                        Outcome::NotRun => ("notRun", None, false, None),
                    };
                    ResultView {
                        id: r.target.clone(),
                        name: r.name.clone(),
                        outcome,
                        reason,
                        already_done,
                        code,
                    }
                })
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Debug, Parser)]
    struct Cli {
        #[command(flatten)]
        args: BulkArgs,
    }

    fn parse(line: &[&str]) -> Result<BulkArgs, clap::Error> {
        Cli::try_parse_from(std::iter::once("bulk").chain(line.iter().copied())).map(|c| c.args)
    }

    #[test]
    fn a_selection_is_required_and_ids_exclude_filters() {
        assert!(parse(&["suspend"]).is_err(), "which users must be said");
        assert!(parse(&["suspend", "--ids", "a", "--all"]).is_err());
        let args = parse(&["suspend", "--ids", "a,b", "--yes"]).unwrap();
        assert_eq!(args.ids, ["a", "b"]);
        assert!(parse(&["suspend", "--all", "--concurrency", "64"]).is_err());
    }

    #[test]
    fn actions_check_their_values_before_anything_is_sent() {
        let args = parse(&["set-licence", "--all"]).unwrap();
        assert!(matches!(operation_of(&args), Err(Failure::Usage(_))));
        let args = parse(&["set-licence", "--all", "--licence", "gold"]).unwrap();
        assert!(matches!(operation_of(&args), Err(Failure::Usage(_))));
        let args = parse(&["set-role", "--all", "--role", "Viewer"]).unwrap();
        assert_eq!(
            operation_of(&args).unwrap(),
            Operation::SetRole(Role::Viewer)
        );
        let args = parse(&[
            "deactivate",
            "--all",
            "--reassign-to",
            "u1",
            "--reassign-office-assignee",
            "u2",
        ])
        .unwrap();
        let Operation::Deactivate { reassign } = operation_of(&args).unwrap() else {
            panic!("a deactivation");
        };
        assert_eq!(reassign.default_technician.as_deref(), Some("u1"));
        assert_eq!(
            reassign.office_assignee.as_deref(),
            Some("u2"),
            "the specific option wins"
        );
        let args = parse(&["set-zones", "--all", "--zones", "North, east,North"]).unwrap();
        assert_eq!(
            operation_of(&args).unwrap(),
            Operation::SetZones(vec!["North".into(), "east".into()])
        );
    }
}
