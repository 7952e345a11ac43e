//! Bulk actions for the desktop console: [`Console::run_bulk`] runs one action over a
//! multi-selection or over everything the current view's filters match (from the offline
//! copy), reports each user's result through a callback as it lands, and returns the
//! summary with a ready-made "retry failed" request; [`Console::cancel_bulk`] stops a job
//! by the id its first progress event announced.
//!
//! The work is [`crate::bulk`]'s; this module only translates the UI's shapes, refuses
//! read-only sessions, and puts every changed user into the offline copy once the job
//! ends (one re-index, however many users changed).

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock, PoisonError};

use muster_scim::user::{Licence, Role};
use rand::Rng;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

#[cfg(feature = "specta")]
use specta::Type;

use super::view::{self, Handover};
use super::{Console, Data};
use crate::bulk::{Cancel, Context, Job, Operation, Options, Outcome, Report, Summary, Targets};
use crate::error::{Code, Error};
use crate::search::SearchQuery;

/// A bulk action, as the UI names it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(Type))]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum BulkAction {
    /// Send the invitation again to invited users (pending or expired).
    ResendWelcome,
    /// Deactivate, handing each kind of responsibility to one user.
    Deactivate {
        /// Who takes over each kind.
        handovers: Vec<Handover>,
    },
    /// Suspend.
    Suspend,
    /// Lift a suspension.
    Unsuspend,
    /// Change the licence.
    SetLicence {
        /// field, desk, contractor, customer, api or timesheet.
        licence: String,
    },
    /// Change the role.
    SetRole {
        /// admin, technician or viewer.
        role: String,
    },
    /// Change the home branch and/or the branches worked for.
    SetBranches {
        /// The new home branch (unchanged when absent).
        #[serde(rename = "homeBranch")]
        home_branch: Option<String>,
        /// The new branches (unchanged when absent).
        branches: Option<Vec<String>>,
    },
    /// Replace the zones.
    SetZones {
        /// The new zones.
        zones: Vec<String>,
    },
    /// Sign the users out everywhere.
    RevokeSessions,
    /// Clear the users' two-factor enrolment.
    ResetMfa,
}

/// Which users a bulk action is for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(Type))]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum BulkSelection {
    /// These users (a multi-selection).
    Ids {
        /// User ids.
        ids: Vec<String>,
    },
    /// Every user the view's filters match in the offline copy (its window is ignored).
    View {
        /// The view's query.
        query: Box<SearchQuery>,
    },
}

/// Start a bulk action.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(Type))]
#[serde(rename_all = "camelCase")]
pub struct BulkRequest {
    /// What to do.
    pub action: BulkAction,
    /// To whom.
    pub selection: BulkSelection,
    /// Most requests in flight (default 6, at most 32).
    pub concurrency: Option<u32>,
}

/// How one user came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(Type))]
#[serde(rename_all = "camelCase")]
pub enum BulkOutcome {
    /// Changed.
    Done,
    /// Left alone (see the reason).
    Skipped,
    /// Failed (see the reason and code).
    Failed,
    /// Not reached: cancelled or stopped first; nothing was changed.
    NotRun,
}

/// One user's result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(Type))]
#[serde(rename_all = "camelCase")]
pub struct BulkResultView {
    /// User id.
    pub id: String,
    /// Name to show.
    pub name: String,
    /// How it came out.
    pub outcome: BulkOutcome,
    /// Skipped because the user already was as asked ("already done").
    pub already_done: bool,
    /// Why it was skipped, or the error's message.
    pub reason: Option<String>,
    /// The error's code (`conflict`, `rateLimited`…), for a failure.
    pub code: Option<String>,
}

/// A bulk job's progress: the first event (no result) announces the job's id and size.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(Type))]
#[serde(rename_all = "camelCase")]
pub struct BulkProgressView {
    /// The job, for [`Console::cancel_bulk`].
    pub job_id: String,
    /// Users settled so far.
    pub finished: u32,
    /// Users in all.
    pub total: u32,
    /// The result that just landed.
    pub result: Option<BulkResultView>,
}

/// A finished bulk job.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(Type))]
#[serde(rename_all = "camelCase")]
pub struct BulkSummaryView {
    /// The job.
    pub job_id: String,
    /// The action's name (`suspend`, `set-licence`…).
    pub action: String,
    /// Users in all.
    pub total: u32,
    /// Changed.
    pub done: u32,
    /// Left alone.
    pub skipped: u32,
    /// Failed.
    pub failed: u32,
    /// Not reached.
    pub not_run: u32,
    /// The job was cancelled.
    pub cancelled: bool,
    /// Why it stopped early (the server unreachable, or asking for a long pause).
    pub stopped_reason: Option<String>,
    /// Whether it went through the provider's `/Bulk`.
    pub used_bulk: bool,
    /// How long it took, in milliseconds.
    pub elapsed_ms: u32,
    /// Every user's result, in selection order.
    pub results: Vec<BulkResultView>,
    /// "Retry failed": the same action over the users that failed or were not reached;
    /// absent when there are none.
    pub retry: Option<BulkRequest>,
}

impl Console {
    /// Runs a bulk action to the end (or until [`Console::cancel_bulk`]), calling
    /// `progress` first with the job's id and size, then with each user's result. Users
    /// changed are put into the offline copy when the job ends.
    ///
    /// # Errors
    ///
    /// Only when the job cannot start: not signed in, a read-only role
    /// ([`Error::Forbidden`]), a bad action ([`Error::Validation`]), or a provider that
    /// lacks it ([`Error::Unsupported`]). Failures of single users are in the summary.
    pub async fn run_bulk(
        &self,
        request: BulkRequest,
        mut progress: impl FnMut(BulkProgressView) + Send,
    ) -> Result<BulkSummaryView, Error> {
        let client = self.writer().await?;
        let operation = operation_of(&request.action)?;
        let me = self.my_id().await;
        let capabilities = {
            let state = self.state.lock().await;
            super::active(&state)?.capabilities().cloned()
        };
        let data = self.data().await;
        let ids = selected_ids(&data, &request.selection, self.clock.now());
        let job = Job {
            operation,
            targets: Targets::Ids(ids),
            options: Options {
                concurrency: request.concurrency.map_or(6, |c| c as usize),
                me,
                ..Options::default()
            },
        };
        let registered = Registered::new();
        let job_id = registered.id.clone();
        let total = {
            let mut seen = std::collections::HashSet::new();
            match &job.targets {
                Targets::Ids(ids) => ids
                    .iter()
                    .map(|id| id.trim())
                    .filter(|id| !id.is_empty() && seen.insert(*id))
                    .count(),
                _ => 0,
            }
        };
        progress(BulkProgressView {
            job_id: job_id.clone(),
            finished: 0,
            total: view::clamp(total),
            result: None,
        });
        let context = Context {
            users: &data.snapshot.users,
            index: Some(&data.index),
            fresh: false,
            capabilities: capabilities.as_ref(),
            cancel: registered.cancel.clone(),
        };
        let summary = job
            .run(&client, context, |p| {
                progress(BulkProgressView {
                    job_id: job_id.clone(),
                    finished: view::clamp(p.finished),
                    total: view::clamp(p.total),
                    result: Some(result_view(p.report)),
                });
            })
            .await?;
        drop(data);
        let changed = summary.changed_users();
        if !changed.is_empty() {
            self.change(move |snapshot| {
                for user in changed {
                    crate::sync::apply_user(snapshot, user);
                }
            })
            .await;
        }
        // The console goes offline if the job found the server unreachable.
        let reached = match &summary.stopped {
            Some(stop) if stop.code == Code::Offline => Err(Error::Offline {
                host: host_of(&client),
                reason: "a bulk action stopped".to_owned(),
            }),
            _ => Ok(()),
        };
        // Only to record the connection's state; the summary says what happened to whom.
        let _ = self.note_and_save_session(reached).await;
        Ok(summary_view(
            job_id,
            &request,
            job.operation.name(),
            &summary,
        ))
    }

    /// Cancels the running bulk job `job_id`: requests in flight finish, no new ones
    /// start. `false` when no such job is running (it may have just ended).
    pub fn cancel_bulk(&self, job_id: &str) -> bool {
        match running()
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(job_id)
        {
            Some(cancel) => {
                cancel.cancel();
                true
            }
            None => false,
        }
    }
}

/// The running jobs' cancel handles, by job id (ids are random, so consoles can share
/// the map).
fn running() -> &'static Mutex<HashMap<String, Cancel>> {
    static RUNNING: OnceLock<Mutex<HashMap<String, Cancel>>> = OnceLock::new();
    RUNNING.get_or_init(Mutex::default)
}

/// A job's entry in [`running`], removed when the job ends (or its future is dropped).
struct Registered {
    id: String,
    cancel: Cancel,
}

impl Registered {
    fn new() -> Self {
        let id = format!("bulk-{:016x}", rand::rng().random::<u64>());
        let cancel = Cancel::new();
        running()
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(id.clone(), cancel.clone());
        Self { id, cancel }
    }
}

impl Drop for Registered {
    fn drop(&mut self) {
        running()
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&self.id);
    }
}

/// The engine's operation for a UI action; bad values are field errors.
fn operation_of(action: &BulkAction) -> Result<Operation, Error> {
    Ok(match action {
        BulkAction::ResendWelcome => Operation::ResendWelcome,
        BulkAction::Deactivate { handovers } => {
            let reassign = super::input::reassign_of(handovers)?;
            Operation::Deactivate { reassign }
        }
        BulkAction::Suspend => Operation::Suspend,
        BulkAction::Unsuspend => Operation::Unsuspend,
        BulkAction::SetLicence { licence } => Operation::SetLicence(Licence::parse(licence.trim())),
        BulkAction::SetRole { role } => Operation::SetRole(Role::parse(role.trim())),
        BulkAction::SetBranches {
            home_branch,
            branches,
        } => Operation::SetBranches {
            home_branch: home_branch.as_deref().map(str::trim).map(str::to_owned),
            branches: branches.as_ref().map(|b| super::input::clean(b)),
        },
        BulkAction::SetZones { zones } => Operation::SetZones(super::input::clean(zones)),
        BulkAction::RevokeSessions => Operation::RevokeSessions,
        BulkAction::ResetMfa => Operation::ResetMfa,
    })
}

fn result_view(report: &Report) -> BulkResultView {
    let (outcome, already_done, reason, code) = match &report.outcome {
        Outcome::Done { .. } => (BulkOutcome::Done, false, None, None),
        Outcome::Skipped {
            reason,
            already_done,
        } => (
            BulkOutcome::Skipped,
            *already_done,
            Some(reason.clone()),
            None,
        ),
        Outcome::Failed { code, message } => (
            BulkOutcome::Failed,
            false,
            Some(message.clone()),
            code_name(*code),
        ),
        Outcome::NotRun => (BulkOutcome::NotRun, false, None, None),
    };
    BulkResultView {
        id: report.target.clone(),
        name: report.name.clone(),
        outcome,
        already_done,
        reason,
        code,
    }
}

/// `rateLimited`, `conflict`…: the error code as the IPC boundary spells it.
fn code_name(code: Code) -> Option<String> {
    serde_json::to_value(code)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
}

fn host_of(client: &crate::Client) -> String {
    reqwest::Url::parse(&client.root())
        .ok()
        .and_then(|url| url.host_str().map(str::to_owned))
        .unwrap_or_else(|| "the server".to_owned())
}

/// The ids a bulk request is for: the ones it names, or every user the table's query
/// matches in the offline copy.
fn selected_ids(data: &Data, selection: &BulkSelection, now: OffsetDateTime) -> Vec<String> {
    match selection {
        BulkSelection::Ids { ids } => ids.clone(),
        BulkSelection::View { query } => {
            let rows = data.index.search(&query.every_match(), now).rows;
            rows.into_iter()
                .filter_map(|row| Some(data.snapshot.users.get(row)?.id()?.to_owned()))
                .collect()
        }
    }
}

/// What the app shows of a finished job, with the request that retries its failed and
/// unreached users, when there are any.
fn summary_view(
    job_id: String,
    request: &BulkRequest,
    action: &str,
    summary: &Summary,
) -> BulkSummaryView {
    let retry_ids: Vec<String> = summary
        .reports
        .iter()
        .filter(|r| matches!(r.outcome, Outcome::Failed { .. } | Outcome::NotRun))
        .map(|r| r.target.clone())
        .collect();
    BulkSummaryView {
        job_id,
        action: action.to_owned(),
        total: view::clamp(summary.reports.len()),
        done: view::clamp(summary.done),
        skipped: view::clamp(summary.skipped),
        failed: view::clamp(summary.failed),
        not_run: view::clamp(summary.not_run),
        cancelled: summary.cancelled,
        stopped_reason: summary.stopped.as_ref().map(|s| s.message.clone()),
        used_bulk: summary.used_bulk,
        elapsed_ms: view::clamp(summary.elapsed.as_millis()),
        results: summary.reports.iter().map(result_view).collect(),
        retry: (!retry_ids.is_empty()).then(|| BulkRequest {
            action: request.action.clone(),
            selection: BulkSelection::Ids { ids: retry_ids },
            concurrency: request.concurrency,
        }),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use serde_json::json;

    use super::*;

    #[test]
    fn requests_read_as_the_ui_writes_them() {
        let request: BulkRequest = serde_json::from_value(json!({
            "action": {"kind": "setBranches", "homeBranch": "Denver", "branches": null},
            "selection": {"kind": "view", "query": {"roles": ["technician"]}},
            "concurrency": 4,
        }))
        .unwrap();
        assert_eq!(
            operation_of(&request.action).unwrap(),
            Operation::SetBranches {
                home_branch: Some("Denver".into()),
                branches: None
            }
        );
        let BulkSelection::View { query } = request.selection else {
            panic!("a view selection");
        };
        assert_eq!(query.roles, ["technician"]);
    }

    #[test]
    fn unknown_responsibilities_are_field_errors() {
        let action = BulkAction::Deactivate {
            handovers: vec![Handover {
                kind: "janitor".into(),
                user_id: "u1".into(),
            }],
        };
        assert!(matches!(
            operation_of(&action),
            Err(Error::Validation { .. })
        ));
    }
}
