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

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use muster_scim::user::{Licence, Role, User};
use time::OffsetDateTime;
use tokio::sync::mpsc;
use tokio::task::JoinSet;

pub use control::Cancel;

use crate::actions::Reassign;
use crate::client::Client;
use crate::discovery::{BulkLimits, Capabilities, Feature};
use crate::error::{Code, Error};
use crate::search::{Index, SearchQuery};
use control::{Gate, Queue};
use plan::{Plan, Rules};

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
    pub users: &'a [User],
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
        let reports: Vec<Report> = reports
            .into_iter()
            .enumerate()
            .map(|(index, report)| report.unwrap_or_else(|| lost(index)))
            .collect();
        let count =
            |test: fn(&Outcome) -> bool| reports.iter().filter(|r| test(&r.outcome)).count();
        Ok(Summary {
            done: count(|o| matches!(o, Outcome::Done { .. })),
            skipped: count(|o| matches!(o, Outcome::Skipped { .. })),
            failed: count(|o| matches!(o, Outcome::Failed { .. })),
            not_run: count(|o| matches!(o, Outcome::NotRun)),
            cancelled: shared.cancel.is_cancelled(),
            stopped: lock(&shared.stop).clone(),
            used_bulk: shared.used_bulk.load(Ordering::Relaxed),
            elapsed: started.elapsed(),
            reports,
        })
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
        let by_id: HashMap<&str, &User> = context
            .users
            .iter()
            .filter_map(|u| u.id.as_deref().map(|id| (id, u)))
            .collect();
        let existing = |ids: Vec<String>| {
            let mut seen = HashSet::new();
            ids.into_iter()
                .map(|id| id.trim().to_owned())
                .filter(|id| !id.is_empty() && seen.insert(id.clone()))
                .enumerate()
                .map(|(index, id)| Item {
                    index,
                    record: by_id.get(id.as_str()).map(|u| (*u).clone()),
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
                        built = Index::build(context.users);
                        &built
                    }
                };
                let all = query.every_match();
                let rows = index.search(&all, OffsetDateTime::now_utc()).rows;
                existing(
                    rows.into_iter()
                        .filter_map(|row| context.users.get(row)?.id.clone())
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

/// The users a reassignment names.
fn successors(reassign: &Reassign) -> HashSet<String> {
    [
        &reassign.default_technician,
        &reassign.primary_technician,
        &reassign.office_assignee,
        &reassign.warehouse_manager,
    ]
    .into_iter()
    .flatten()
    .cloned()
    .collect()
}

/// A target whose report went missing (a worker panicked): its fate is unknown.
fn lost(index: usize) -> Report {
    Report {
        target: format!("#{index}"),
        user_id: None,
        name: String::new(),
        outcome: Outcome::Failed {
            code: Code::Protocol,
            message: "This user's result was lost; check the user.".to_owned(),
        },
    }
}

/// Who a work item is about.
#[derive(Debug, Clone)]
enum Subject {
    /// An existing user, by id.
    Existing(String),
    /// A person to create.
    New(Box<User>),
}

/// One target as the workers carry it.
#[derive(Debug, Clone)]
struct Item {
    /// Its position among the job's targets.
    index: usize,
    subject: Subject,
    /// The best record at hand: for an existing user, the caller's (when it has one);
    /// for a new person, the user once created. `None`: read (or create) it first.
    record: Option<User>,
    /// Whether `record` came from the server during this job.
    fresh: bool,
    /// A write for this target was sent and its answer lost: whether it took effect is
    /// unknown until the user is read again.
    uncertain: bool,
}

impl Item {
    /// The target as given.
    fn target(&self) -> String {
        match &self.subject {
            Subject::Existing(id) => id.clone(),
            Subject::New(person) => person.user_name.clone(),
        }
    }

    /// A report about this item.
    fn report(&self, user: Option<&User>, outcome: Outcome) -> Report {
        let shown = user.or(self.record.as_ref()).or(match &self.subject {
            Subject::New(person) => Some(person),
            Subject::Existing(_) => None,
        });
        Report {
            target: self.target(),
            user_id: match &self.subject {
                Subject::Existing(id) => Some(id.clone()),
                Subject::New(_) => user.or(self.record.as_ref()).and_then(|u| u.id.clone()),
            },
            name: shown
                .map(|user| user.display_name().into_owned())
                .unwrap_or_default(),
            outcome,
        }
    }

    /// The report of an item the job never finished (`stop`: what stopped the job, if
    /// not a cancel): not run, unless a write's answer was lost (then it may have
    /// happened, and the report says so) or a new person was created but not yet invited.
    fn unfinished(&self, stop: Option<Code>) -> Report {
        if self.uncertain {
            self.report(None, lost_answer())
        } else if let (Subject::New(_), Some(_)) = (&self.subject, &self.record) {
            self.report(
                None,
                Outcome::Failed {
                    code: stop.unwrap_or(Code::Offline),
                    message: "Created, but the job stopped before the invitation was sent; \
                              retry to send it."
                        .to_owned(),
                },
            )
        } else {
            self.report(None, Outcome::NotRun)
        }
    }
}

/// The outcome of a write whose answer never came, when the job ends before it could be
/// checked.
fn lost_answer() -> Outcome {
    Outcome::Failed {
        code: Code::Offline,
        message: "The answer to the change was lost and the user could not be checked \
                  again; it may or may not have been made. Look at this user, or retry."
            .to_owned(),
    }
}

/// Work for one worker at a time.
#[derive(Debug)]
enum Work {
    /// One target through the one-user path.
    One(Box<Item>),
    /// Targets sent together in one `/Bulk` request.
    Batch(Vec<Item>),
}

impl Work {
    fn into_items(self) -> Vec<Item> {
        match self {
            Work::One(item) => vec![*item],
            Work::Batch(items) => items,
        }
    }
}

/// Why a request was not answered.
#[derive(Debug)]
enum Interrupt {
    /// Not sent: the job was cancelled or stopped.
    Stopped,
    /// Sent (or refused) with this error.
    Failed(Error),
}

/// What the workers of one job share.
#[derive(Debug)]
struct Shared {
    client: Client,
    operation: Operation,
    options: Options,
    me: Option<String>,
    /// The signed-in account and the provider's capabilities, for the engine's rules.
    account: Option<crate::rules::Account>,
    capabilities: Capabilities,
    successors: HashSet<String>,
    gate: Gate,
    cancel: Cancel,
    queue: Queue<Work>,
    stop: Mutex<Option<Stop>>,
    /// `/Bulk` limits, when the job may use it.
    bulk: Option<BulkLimits>,
    /// Set when a `/Bulk` request was refused as a whole: the rest go one by one.
    bulk_off: AtomicBool,
    used_bulk: AtomicBool,
    reports: mpsc::UnboundedSender<(usize, Report)>,
}

impl Shared {
    /// A worker: takes work until there is none (or the job is cancelled or stopped).
    async fn work(self: Arc<Self>) {
        while let Some(work) = self.queue.next(&self.cancel).await {
            match work {
                Work::One(item) => {
                    let report = single::settle(&self, &item).await;
                    self.report(item.index, report);
                }
                Work::Batch(items) => batch::send(&self, items).await,
            }
            self.queue.finished();
        }
    }

    fn report(&self, index: usize, report: Report) {
        // The receiver only goes away once every target is reported.
        let _ = self.reports.send((index, report));
    }

    /// The rules of [`plan::plan`] for this job.
    fn rules(&self) -> Rules<'_> {
        Rules {
            me: self.me.as_deref(),
            now: OffsetDateTime::now_utc(),
            resend_cooldown: self.options.resend_cooldown,
            successors: &self.successors,
            account: self.account.as_ref(),
            capabilities: &self.capabilities,
        }
    }

    fn plan(&self, user: &User) -> Plan {
        plan::plan(&self.operation, user, &self.rules())
    }

    /// Stops the job early: no new work is handed out.
    fn halt(&self, stop: Stop) {
        {
            let mut current = lock(&self.stop);
            if current.is_none() {
                tracing::warn!(reason = %stop.message, "a bulk job stopped early");
                *current = Some(stop);
            }
        }
        self.queue.close();
    }

    fn halted(&self) -> bool {
        lock(&self.stop).is_some()
    }

    /// The kind of failure that stopped the job, if it stopped.
    fn stopped_by(&self) -> Option<Code> {
        lock(&self.stop).as_ref().map(|stop| stop.code)
    }

    /// Sends one request through the gate, waiting out 429s together with every
    /// worker (the refused request is sent again: a refusal did nothing). Not sent once
    /// the job is cancelled or stopped.
    async fn call<T, F, Fut>(&self, send: F) -> Result<T, Interrupt>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, Error>>,
    {
        self.call_unless(&self.cancel, send).await
    }

    /// [`Shared::call`] for the rest of a unit already started (a new person's welcome):
    /// a cancel does not interrupt it, a stop does.
    async fn finish<T, F, Fut>(&self, send: F) -> Result<T, Interrupt>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, Error>>,
    {
        self.call_unless(&Cancel::new(), send).await
    }

    async fn call_unless<T, F, Fut>(&self, cancel: &Cancel, mut send: F) -> Result<T, Interrupt>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, Error>>,
    {
        let mut refusals = 0;
        loop {
            // Checked again after the wait: another worker may have stopped the job.
            if self.halted() || !self.gate.pass(cancel).await || self.halted() {
                return Err(Interrupt::Stopped);
            }
            match send().await {
                Err(Error::RateLimited {
                    message,
                    retry_after,
                }) => {
                    refusals += 1;
                    let wait = retry_after.unwrap_or_else(|| backoff(refusals));
                    if wait > self.options.max_pause {
                        self.halt(Stop {
                            code: Code::RateLimited,
                            message: format!(
                                "The server asked to wait {}, longer than this job waits; \
                                 retry the rest later.",
                                wait_words(wait)
                            ),
                        });
                        return Err(Interrupt::Failed(Error::RateLimited {
                            message,
                            retry_after,
                        }));
                    }
                    if refusals > self.options.max_refusals {
                        return Err(Interrupt::Failed(Error::RateLimited {
                            message,
                            retry_after,
                        }));
                    }
                    tracing::debug!(
                        wait_ms = u64::try_from(wait.as_millis()).unwrap_or(u64::MAX),
                        "rate limited: every bulk worker pauses"
                    );
                    self.gate.pause(wait);
                }
                other => return other.map_err(Interrupt::Failed),
            }
        }
    }

    /// Waits before sending again after a lost answer; `false` if cancelled meanwhile.
    async fn back_off(&self, attempt: u32) -> bool {
        tokio::select! {
            () = tokio::time::sleep(backoff(attempt)) => !self.halted(),
            () = self.cancel.cancelled() => false,
        }
    }
}

/// Exponential backoff with full jitter: up to 250 ms × 2^(attempt-1), at most 8 s.
fn backoff(attempt: u32) -> Duration {
    use rand::Rng;
    let ceiling = Duration::from_millis(250)
        .saturating_mul(2u32.saturating_pow(attempt.saturating_sub(1)))
        .min(Duration::from_secs(8));
    let millis = u64::try_from(ceiling.as_millis()).unwrap_or(u64::MAX);
    Duration::from_millis(rand::rng().random_range(0..=millis))
}

fn wait_words(wait: Duration) -> String {
    match wait.as_secs() {
        0..=1 => "a second".to_owned(),
        seconds @ 2..=90 => format!("{seconds} seconds"),
        seconds => format!("{} minutes", seconds.div_ceil(60)),
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn report(target: &str, outcome: Outcome) -> Report {
        Report {
            target: target.to_owned(),
            user_id: Some(target.to_owned()),
            name: target.to_owned(),
            outcome,
        }
    }

    #[test]
    fn retry_takes_the_failed_and_optionally_the_unreached() {
        let job = Job::new(Operation::Suspend, Targets::Ids(vec!["a".into()]));
        let failed = Outcome::Failed {
            code: Code::Conflict,
            message: "no".into(),
        };
        let summary = Summary {
            reports: vec![
                report(
                    "a",
                    Outcome::Skipped {
                        reason: "x".into(),
                        already_done: true,
                    },
                ),
                report("b", failed.clone()),
                report("c", Outcome::NotRun),
            ],
            done: 0,
            skipped: 1,
            failed: 1,
            not_run: 1,
            cancelled: true,
            stopped: None,
            used_bulk: false,
            elapsed: Duration::ZERO,
        };
        assert_eq!(
            summary.retry(&job, false).unwrap().targets,
            Targets::Ids(vec!["b".into()])
        );
        assert_eq!(
            summary.retry(&job, true).unwrap().targets,
            Targets::Ids(vec!["b".into(), "c".into()])
        );
        let clean = Summary {
            reports: vec![report("a", Outcome::NotRun)],
            ..summary
        };
        assert!(clean.retry(&job, false).is_none(), "nothing failed");
    }

    #[test]
    fn jobs_that_make_no_sense_are_refused_before_sending() {
        let job = Job::new(Operation::Suspend, Targets::New(vec![User::new("a")]));
        assert!(matches!(job.validate(), Err(Error::Validation { .. })));
        let job = Job::new(
            Operation::SetLicence(Licence::parse("gold")),
            Targets::Ids(vec!["a".into()]),
        );
        assert!(matches!(job.validate(), Err(Error::Validation { .. })));
        let job = Job::new(
            Operation::Invite { send_welcome: true },
            Targets::New(vec![User::new("a@x.test"), User::new("A@x.test")]),
        );
        assert!(
            job.items(&Context::default()).is_err(),
            "the same userName twice is refused"
        );
    }

    #[test]
    fn ids_are_deduplicated_and_matched_to_records() {
        let mut known = User::new("k@x.test");
        known.id = Some("k".into());
        let users = [known];
        let job = Job::new(
            Operation::Suspend,
            Targets::Ids(vec!["k".into(), " k ".into(), "n".into(), String::new()]),
        );
        let items = job
            .items(&Context {
                users: &users,
                ..Context::default()
            })
            .unwrap();
        assert_eq!(items.len(), 2);
        assert!(items[0].record.is_some() && items[1].record.is_none());
        assert_eq!(items[1].index, 1, "indices follow the deduplicated order");
    }
}
