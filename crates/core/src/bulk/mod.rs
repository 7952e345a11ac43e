//! Bulk work: one operation over many users, with a bounded number of requests in
//! flight, the server's rate limits respected, a result per user as it lands, cancel,
//! and a summary to retry from.
//!
//! A [`Job`] is an [`Operation`] (suspend, change licence, invite…), its [`Targets`]
//! (user ids, every cached user matching a search, or new people to invite) and
//! [`Options`]. [`Job::run`] works through the targets with at most
//! [`Options::concurrency`] requests in flight, calls back with each user's [`Report`] as
//! it lands, and returns a [`Summary`] of them all, in target order.
//!
//! The rules:
//! - Every target ends in exactly one [`Outcome`]: done, skipped (with the reason),
//!   failed (with the error's message and code), or not run (the job was cancelled or
//!   stopped before it was reached).
//! - Safe to re-run: a user already as the job would leave them is skipped as "already
//!   done", and the signed-in person's own account is never touched.
//! - Decisions use the freshest record at hand. A cached record decides when it says
//!   there is work to do (if it was stale, the server answers 409/412 and the user is read
//!   again and decided again); a skip decided on a cached record is confirmed by a fresh
//!   read first.
//! - A 429 (or a 503 with `Retry-After`) pauses *every* worker until the wait is over,
//!   then the refused request is sent again (a refused request did nothing). A wait
//!   longer than [`Options::max_pause`] stops the job, as does a server that cannot be
//!   reached; the users not reached are "not run".
//! - A write whose answer was lost (no answer, or a 502–504 that may have come after the
//!   change) is not blindly repeated: the user is read again, and the write sent again
//!   only if it has not taken effect (at most [`Options::max_attempts`] sends).
//! - [`Cancel::cancel`]: requests in flight finish, no new ones start.
//! - A provider that advertises `/Bulk` (RFC 7644 §3.7) gets the users in batches within
//!   its `maxOperations` and `maxPayloadSize`; whatever a batch does not settle (a stale
//!   version, a refused operation) goes through the one-user path.
//!
//! Every successful write's [`Outcome::Done`] carries the user as the server answered,
//! for the caller to put into its offline copy.

mod batch;
mod control;
mod plan;
mod single;
mod work;

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use muster_scim::user::{Licence, Role, User};
use time::OffsetDateTime;
use tokio::sync::mpsc;
use tokio::task::JoinSet;

pub use control::Cancel;

use crate::actions::Reassign;
use crate::cache::PackedUser;
use crate::client::Client;
use crate::discovery::{Capabilities, Feature};
use crate::error::{Code, Error};
use crate::search::{Index, SearchQuery};
use control::{Gate, Queue};
use work::{Item, Shared, Subject, lock, lost, successors};

/// The most requests a job may have in flight.
pub const MAX_CONCURRENCY: usize = 32;

/// What a job does to each user.
#[derive(Debug, Clone, PartialEq)]
pub enum Operation {
    /// Create each of [`Targets::New`] and, with `send_welcome`, email the invitation.
    /// Someone who exists already (the same userName) is skipped, unless they were never
    /// sent an invitation and `send_welcome` asks for one.
    Invite {
        /// Send the welcome email after creating.
        send_welcome: bool,
    },
    /// Send the invitation again to invited users (pending or expired); others are
    /// skipped with the reason, and so is an invitation sent within
    /// [`Options::resend_cooldown`].
    ResendWelcome,
    /// Deactivate, handing each kind of responsibility to the user named for it. A user
    /// named there is not deactivated.
    Deactivate {
        /// Who takes over what.
        reassign: Reassign,
    },
    /// Suspend (signs the user out everywhere).
    Suspend,
    /// Lift a suspension.
    Unsuspend,
    /// Change the licence.
    SetLicence(Licence),
    /// Change the role.
    SetRole(Role),
    /// Change the home branch and/or the branches worked for (`None` leaves it).
    SetBranches {
        /// The new home branch.
        home_branch: Option<String>,
        /// The new list of branches (replacing the old one).
        branches: Option<Vec<String>>,
    },
    /// Replace the zones.
    SetZones(Vec<String>),
    /// Sign the user out everywhere.
    RevokeSessions,
    /// Clear the two-factor enrolment.
    ResetMfa,
}

impl Operation {
    /// A short name: `suspend`, `set-licence`…
    pub fn name(&self) -> &'static str {
        match self {
            Operation::Invite { .. } => "invite",
            Operation::ResendWelcome => "resend-welcome",
            Operation::Deactivate { .. } => "deactivate",
            Operation::Suspend => "suspend",
            Operation::Unsuspend => "unsuspend",
            Operation::SetLicence(_) => "set-licence",
            Operation::SetRole(_) => "set-role",
            Operation::SetBranches { .. } => "set-branches",
            Operation::SetZones(_) => "set-zones",
            Operation::RevokeSessions => "revoke-sessions",
            Operation::ResetMfa => "reset-mfa",
        }
    }

    /// The account action the operation needs the server to offer, if any.
    fn action_name(&self) -> Option<&'static str> {
        match self {
            Operation::Invite { send_welcome: true } | Operation::ResendWelcome => {
                Some("send-welcome")
            }
            Operation::Deactivate { .. } => Some("deactivate"),
            Operation::Suspend => Some("suspend"),
            Operation::Unsuspend => Some("unsuspend"),
            Operation::RevokeSessions => Some("revoke-sessions"),
            Operation::ResetMfa => Some("reset-mfa"),
            _ => None,
        }
    }
}

/// Which users a job works on.
#[derive(Debug, Clone, PartialEq)]
pub enum Targets {
    /// These users, by id (repeats are dropped).
    Ids(Vec<String>),
    /// Every user of the offline copy matching this search (its window is ignored).
    Matching(Box<SearchQuery>),
    /// People to create, for [`Operation::Invite`].
    New(Vec<User>),
}

/// How a job runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// Most requests in flight at once (1 to [`MAX_CONCURRENCY`]); 6 by default.
    pub concurrency: usize,
    /// Use `/Bulk` when the provider supports it.
    pub use_bulk: bool,
    /// Most operations in one `/Bulk` request (the provider's limit applies too).
    pub batch_size: usize,
    /// Most sends of one write whose answers were lost, before the user is failed.
    pub max_attempts: u32,
    /// Most times one request may be refused with 429 before the user is failed.
    pub max_refusals: u32,
    /// The longest wait a 429 may ask for; a longer one stops the job.
    pub max_pause: Duration,
    /// A pending invitation sent less than this long ago is not sent again.
    pub resend_cooldown: Duration,
    /// The signed-in person's user id (never acted on); by default the client's account.
    pub me: Option<String>,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            concurrency: 6,
            use_bulk: true,
            batch_size: 100,
            max_attempts: 3,
            max_refusals: 10,
            max_pause: Duration::from_secs(120),
            resend_cooldown: Duration::from_secs(10 * 60),
            me: None,
        }
    }
}

/// A bulk job: an operation, its targets, and how to run it.
#[derive(Debug, Clone, PartialEq)]
pub struct Job {
    /// What to do to each user.
    pub operation: Operation,
    /// To whom.
    pub targets: Targets,
    /// How.
    pub options: Options,
}

/// What the caller already has: the offline copy (for [`Targets::Matching`], and as a
/// first guess at each user's state), the provider's capabilities, and the cancel handle.
#[derive(Debug, Clone, Default)]
pub struct Context<'a> {
    /// Known users (the offline copy, or a list just fetched).
    pub users: &'a [PackedUser],
    /// A search index over `users`, if one is built (else one is built when needed).
    pub index: Option<&'a Index>,
    /// Whether `users` was read from the server just now (then a skip needs no fresh read).
    pub fresh: bool,
    /// The provider's capabilities (else discovered first).
    pub capabilities: Option<&'a Capabilities>,
    /// Cancels the job.
    pub cancel: Cancel,
}

/// How one user came out.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// The change was made; the user as the server now holds it.
    Done {
        /// The server's answer, for the offline copy.
        user: Box<User>,
    },
    /// Left alone.
    Skipped {
        /// Why, for people.
        reason: String,
        /// The user is already as the job would leave them.
        already_done: bool,
    },
    /// The server refused, or could not be asked.
    Failed {
        /// The kind of failure.
        code: Code,
        /// The error's message for people.
        message: String,
    },
    /// Not reached: the job was cancelled or stopped first. Nothing was changed.
    NotRun,
}

/// The result for one target.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    /// The target as given: a user id, or a new person's userName.
    pub target: String,
    /// The user's id, when known (a new person's once created).
    pub user_id: Option<String>,
    /// The name to show.
    pub name: String,
    /// How it came out.
    pub outcome: Outcome,
}

/// One result as it lands.
#[derive(Debug, Clone, Copy)]
pub struct Progress<'a> {
    /// Targets settled so far, this one included.
    pub finished: usize,
    /// Targets in all.
    pub total: usize,
    /// This target's result.
    pub report: &'a Report,
}

/// Why a job stopped before the end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stop {
    /// The kind of failure that stopped it (offline, rate limited).
    pub code: Code,
    /// In words, with what to do.
    pub message: String,
}

/// A finished job.
#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    /// One report per target, in target order.
    pub reports: Vec<Report>,
    /// Changed.
    pub done: usize,
    /// Left alone.
    pub skipped: usize,
    /// Failed.
    pub failed: usize,
    /// Not reached.
    pub not_run: usize,
    /// Whether the job was cancelled.
    pub cancelled: bool,
    /// Why the job stopped early, if it did (not for a cancel).
    pub stopped: Option<Stop>,
    /// Whether any of it went through `/Bulk`.
    pub used_bulk: bool,
    /// How long it took.
    pub elapsed: Duration,
}

impl Summary {
    /// The users the job changed, as the server answered them: what an offline copy takes
    /// in.
    pub fn changed_users(&self) -> Vec<User> {
        self.reports
            .iter()
            .filter_map(|r| match &r.outcome {
                Outcome::Done { user } => Some((**user).clone()),
                _ => None,
            })
            .collect()
    }

    /// The reports of the users that failed.
    pub fn failures(&self) -> impl Iterator<Item = &Report> {
        self.reports
            .iter()
            .filter(|r| matches!(r.outcome, Outcome::Failed { .. }))
    }

    /// "Retry failed": `job` again over the users that failed (and, with `not_run`, those
    /// never reached), or `None` when there are none. Users done or skipped are left out;
    /// a retry of a retry works the same way.
    pub fn retry(&self, job: &Job, not_run: bool) -> Option<Job> {
        let again: HashSet<&str> = self
            .reports
            .iter()
            .filter(|r| match r.outcome {
                Outcome::Failed { .. } => true,
                Outcome::NotRun => not_run,
                _ => false,
            })
            .map(|r| r.target.as_str())
            .collect();
        if again.is_empty() {
            return None;
        }
        let targets = match &job.targets {
            Targets::New(people) => Targets::New(
                people
                    .iter()
                    .filter(|p| again.contains(p.user_name.as_str()))
                    .cloned()
                    .collect(),
            ),
            Targets::Ids(_) | Targets::Matching(_) => Targets::Ids(
                self.reports
                    .iter()
                    .filter(|r| again.contains(r.target.as_str()))
                    .map(|r| r.target.clone())
                    .collect(),
            ),
        };
        Some(Job {
            targets,
            ..job.clone()
        })
    }
}

impl Job {
    /// A job with the default [`Options`].
    pub fn new(operation: Operation, targets: Targets) -> Self {
        Self {
            operation,
            targets,
            options: Options::default(),
        }
    }

    /// Runs the job to the end (or until cancelled or stopped), calling `progress` with
    /// each user's result as it lands.
    ///
    /// # Errors
    ///
    /// Only for a job that cannot start: [`Error::Validation`] for a bad job (new people
    /// for an operation on existing users, an unknown licence or role…),
    /// [`Error::Unsupported`] when the provider lacks what the operation needs, and what
    /// discovering the provider's capabilities answers. Once started, failures are per
    /// user, in the summary.
    pub async fn run(
        &self,
        client: &Client,
        context: Context<'_>,
        mut progress: impl FnMut(Progress<'_>) + Send,
    ) -> Result<Summary, Error> {
        let started = std::time::Instant::now();
        self.validate()?;
        let capabilities = match context.capabilities {
            Some(capabilities) => capabilities.clone(),
            None => client.discover().await?,
        };
        self.require(&capabilities)?;
        let items = self.items(&context)?;
        let total = items.len();
        let limits = capabilities
            .bulk
            .filter(|_| self.options.use_bulk && total > 1);
        let me = self
            .options
            .me
            .clone()
            .or_else(|| client.account().map(|a| a.id.clone()));
        // The runner sees every 429 itself (a zero `max_retry_after` hands them back), to
        // pause all workers at once; network failures of reads are still retried below.
        let retry = crate::transport::RetryPolicy {
            max_retry_after: Duration::ZERO,
            ..client.retry_policy()
        };
        let (sender, mut receiver) = mpsc::unbounded_channel();
        let successors = match &self.operation {
            Operation::Deactivate { reassign } => successors(reassign),
            _ => HashSet::new(),
        };
        let shared = Arc::new(Shared {
            client: client.with_retry(retry),
            operation: self.operation.clone(),
            options: Options {
                concurrency: self.options.concurrency.clamp(1, MAX_CONCURRENCY),
                ..self.options.clone()
            },
            me,
            account: client.account().map(crate::rules::Account::from),
            capabilities,
            successors,
            gate: Gate::default(),
            cancel: context.cancel.clone(),
            queue: Queue::new(Vec::new()),
            stop: Mutex::new(None),
            bulk: limits,
            bulk_off: AtomicBool::new(false),
            used_bulk: AtomicBool::new(false),
            reports: sender,
        });
        for work in batch::arrange(&shared, items) {
            shared.queue.push(work);
        }
        let mut workers = JoinSet::new();
        for _ in 0..shared.options.concurrency.min(total) {
            let shared = shared.clone();
            workers.spawn(async move { shared.work().await });
        }
        let mut reports: Vec<Option<Report>> = vec![None; total];
        let mut finished = 0;
        let mut land = |index: usize, report: Report| {
            finished += 1;
            progress(Progress {
                finished,
                total,
                report: &report,
            });
            if let Some(slot) = reports.get_mut(index) {
                *slot = Some(report);
            }
        };
        loop {
            tokio::select! {
                biased;
                Some((index, report)) = receiver.recv() => land(index, report),
                next = workers.join_next() => if next.is_none() { break },
            }
        }
        while let Ok((index, report)) = receiver.try_recv() {
            land(index, report);
        }
        // What no worker took: the job was cancelled or stopped first.
        let stop = shared.stopped_by();
        for work in shared.queue.drain() {
            for item in work.into_items() {
                land(item.index, item.unfinished(stop));
            }
        }
        Ok(summarize(&shared, reports, started.elapsed()))
    }

    /// Checks the job makes sense before anything is sent.
    fn validate(&self) -> Result<(), Error> {
        let invite = matches!(self.operation, Operation::Invite { .. });
        let new = matches!(self.targets, Targets::New(_));
        if invite != new {
            return Err(Error::invalid(
                "targets",
                if invite {
                    "Inviting needs the people to create."
                } else {
                    "New people can only be invited."
                },
            ));
        }
        match &self.operation {
            Operation::SetLicence(Licence::Other(other)) => Err(Error::invalid(
                "licence",
                format!(
                    "'{other}' is not a licence: field, desk, contractor, customer, api or \
                     timesheet."
                ),
            )),
            Operation::SetRole(Role::Other(other)) => Err(Error::invalid(
                "role",
                format!("'{other}' is not a role: admin, technician or viewer."),
            )),
            Operation::SetBranches {
                home_branch,
                branches,
            } => {
                if home_branch.is_none() && branches.is_none() {
                    Err(Error::invalid(
                        "branches",
                        "Name a home branch, the branches, or both.",
                    ))
                } else if home_branch.as_deref().is_some_and(|h| h.trim().is_empty()) {
                    Err(Error::invalid("homeBranch", "A home branch needs a name."))
                } else {
                    Ok(())
                }
            }
            _ => Ok(()),
        }
    }

    /// Checks the provider offers what the operation needs.
    fn require(&self, capabilities: &Capabilities) -> Result<(), Error> {
        if let Some(name) = self.operation.action_name() {
            capabilities.require(Feature::Action(name.to_owned()))?;
        }
        if matches!(
            self.operation,
            Operation::SetLicence(_)
                | Operation::SetRole(_)
                | Operation::SetBranches { .. }
                | Operation::SetZones(_)
        ) {
            capabilities.require(Feature::Patch)?;
        }
        Ok(())
    }

    /// The targets as work items, each with the record the caller has for it.
    fn items(&self, context: &Context<'_>) -> Result<Vec<Item>, Error> {
        let by_id: HashMap<&str, &PackedUser> = context
            .users
            .iter()
            .filter_map(|u| u.id().map(|id| (id, u)))
            .collect();
        let existing = |ids: Vec<String>| {
            let mut seen = HashSet::new();
            ids.into_iter()
                .map(|id| id.trim().to_owned())
                .filter(|id| !id.is_empty() && seen.insert(id.clone()))
                .enumerate()
                .map(|(index, id)| Item {
                    index,
                    record: by_id.get(id.as_str()).map(|u| u.user()),
                    fresh: context.fresh,
                    subject: Subject::Existing(id),
                    uncertain: false,
                })
                .collect::<Vec<_>>()
        };
        Ok(match &self.targets {
            Targets::Ids(ids) => existing(ids.clone()),
            Targets::Matching(query) => {
                let built;
                let index = match context.index {
                    Some(index) => index,
                    None => {
                        built = Index::of_packed(context.users);
                        &built
                    }
                };
                let all = query.every_match();
                let rows = index.search(&all, OffsetDateTime::now_utc()).rows;
                existing(
                    rows.into_iter()
                        .filter_map(|row| Some(context.users.get(row)?.id()?.to_owned()))
                        .collect(),
                )
            }
            Targets::New(people) => {
                let mut seen = HashSet::new();
                for person in people {
                    if person.user_name.trim().is_empty() {
                        return Err(Error::invalid("userName", "Every person needs a userName."));
                    }
                    if !seen.insert(person.user_name.to_lowercase()) {
                        return Err(Error::invalid(
                            "userName",
                            format!("'{}' is listed twice.", person.user_name),
                        ));
                    }
                }
                people
                    .iter()
                    .enumerate()
                    .map(|(index, person)| Item {
                        index,
                        subject: Subject::New(Box::new(person.clone())),
                        record: None,
                        fresh: true,
                        uncertain: false,
                    })
                    .collect()
            }
        })
    }
}

/// The job's summary from each item's report (one lost to a bug is reported as such).
fn summarize(shared: &Shared, reports: Vec<Option<Report>>, elapsed: Duration) -> Summary {
    let reports: Vec<Report> = reports
        .into_iter()
        .enumerate()
        .map(|(index, report)| report.unwrap_or_else(|| lost(index)))
        .collect();
    let count = |test: fn(&Outcome) -> bool| reports.iter().filter(|r| test(&r.outcome)).count();
    Summary {
        done: count(|o| matches!(o, Outcome::Done { .. })),
        skipped: count(|o| matches!(o, Outcome::Skipped { .. })),
        failed: count(|o| matches!(o, Outcome::Failed { .. })),
        not_run: count(|o| matches!(o, Outcome::NotRun)),
        cancelled: shared.cancel.is_cancelled(),
        stopped: lock(&shared.stop).clone(),
        used_bulk: shared.used_bulk.load(Ordering::Relaxed),
        elapsed,
        reports,
    }
}

#[cfg(test)]
mod tests;
