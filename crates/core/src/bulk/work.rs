//! A running job's shared state: the items to work through, each one's report, the
//! stop that halts the rest, and calls to the server with back-off when it asks to wait.

use std::collections::HashSet;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use muster_scim::user::User;
use time::OffsetDateTime;
use tokio::sync::mpsc;

use super::control::{Cancel, Gate, Queue};
use super::plan::{Plan, Rules};
use super::{batch, plan, single};
use crate::actions::Reassign;
use crate::client::Client;
use crate::discovery::{BulkLimits, Capabilities};
use crate::error::{Code, Error};

use super::{Operation, Options, Outcome, Report, Stop};

/// The users a reassignment names.
pub(super) fn successors(reassign: &Reassign) -> HashSet<String> {
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
pub(super) fn lost(index: usize) -> Report {
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
pub(super) enum Subject {
    /// An existing user, by id.
    Existing(String),
    /// A person to create.
    New(Box<User>),
}

/// One target as the workers carry it.
#[derive(Debug, Clone)]
pub(super) struct Item {
    /// Its position among the job's targets.
    pub(super) index: usize,
    pub(super) subject: Subject,
    /// The best record at hand: for an existing user, the caller's (when it has one);
    /// for a new person, the user once created. `None`: read (or create) it first.
    pub(super) record: Option<User>,
    /// Whether `record` came from the server during this job.
    pub(super) fresh: bool,
    /// A write for this target was sent and its answer lost: whether it took effect is
    /// unknown until the user is read again.
    pub(super) uncertain: bool,
}

impl Item {
    /// The target as given.
    pub(super) fn target(&self) -> String {
        match &self.subject {
            Subject::Existing(id) => id.clone(),
            Subject::New(person) => person.user_name.clone(),
        }
    }

    /// A report about this item.
    pub(super) fn report(&self, user: Option<&User>, outcome: Outcome) -> Report {
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
    pub(super) fn unfinished(&self, stop: Option<Code>) -> Report {
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
pub(super) fn lost_answer() -> Outcome {
    Outcome::Failed {
        code: Code::Offline,
        message: "The answer to the change was lost and the user could not be checked \
                  again; it may or may not have been made. Look at this user, or retry."
            .to_owned(),
    }
}

/// Work for one worker at a time.
#[derive(Debug)]
pub(super) enum Work {
    /// One target through the one-user path.
    One(Box<Item>),
    /// Targets sent together in one `/Bulk` request.
    Batch(Vec<Item>),
}

impl Work {
    pub(super) fn into_items(self) -> Vec<Item> {
        match self {
            Work::One(item) => vec![*item],
            Work::Batch(items) => items,
        }
    }
}

/// Why a request was not answered.
#[derive(Debug)]
pub(super) enum Interrupt {
    /// Not sent: the job was cancelled or stopped.
    Stopped,
    /// Sent (or refused) with this error.
    Failed(Error),
}

/// What the workers of one job share.
#[derive(Debug)]
pub(super) struct Shared {
    pub(super) client: Client,
    pub(super) operation: Operation,
    pub(super) options: Options,
    pub(super) me: Option<String>,
    /// The signed-in account and the provider's capabilities, for the engine's rules.
    pub(super) account: Option<crate::rules::Account>,
    pub(super) capabilities: Capabilities,
    pub(super) successors: HashSet<String>,
    pub(super) gate: Gate,
    pub(super) cancel: Cancel,
    pub(super) queue: Queue<Work>,
    pub(super) stop: Mutex<Option<Stop>>,
    /// `/Bulk` limits, when the job may use it.
    pub(super) bulk: Option<BulkLimits>,
    /// Set when a `/Bulk` request was refused as a whole: the rest go one by one.
    pub(super) bulk_off: AtomicBool,
    pub(super) used_bulk: AtomicBool,
    pub(super) reports: mpsc::UnboundedSender<(usize, Report)>,
}

impl Shared {
    /// A worker: takes work until there is none (or the job is cancelled or stopped).
    pub(super) async fn work(self: Arc<Self>) {
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

    pub(super) fn report(&self, index: usize, report: Report) {
        // The receiver only goes away once every target is reported.
        let _ = self.reports.send((index, report));
    }

    /// The rules of [`plan::plan`] for this job.
    pub(super) fn rules(&self) -> Rules<'_> {
        Rules {
            me: self.me.as_deref(),
            now: OffsetDateTime::now_utc(),
            resend_cooldown: self.options.resend_cooldown,
            successors: &self.successors,
            account: self.account.as_ref(),
            capabilities: &self.capabilities,
        }
    }

    pub(super) fn plan(&self, user: &User) -> Plan {
        plan::plan(&self.operation, user, &self.rules())
    }

    /// Stops the job early: no new work is handed out.
    pub(super) fn halt(&self, stop: Stop) {
        {
            let mut current = lock(&self.stop);
            if current.is_none() {
                tracing::warn!(reason = %stop.message, "a bulk job stopped early");
                *current = Some(stop);
            }
        }
        self.queue.close();
    }

    pub(super) fn halted(&self) -> bool {
        lock(&self.stop).is_some()
    }

    /// The kind of failure that stopped the job, if it stopped.
    pub(super) fn stopped_by(&self) -> Option<Code> {
        lock(&self.stop).as_ref().map(|stop| stop.code)
    }

    /// Sends one request through the gate, waiting out 429s together with every
    /// worker (the refused request is sent again: a refusal did nothing). Not sent once
    /// the job is cancelled or stopped.
    pub(super) async fn call<T, F, Fut>(&self, send: F) -> Result<T, Interrupt>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, Error>>,
    {
        self.call_unless(&self.cancel, send).await
    }

    /// [`Shared::call`] for the rest of a unit already started (a new person's welcome):
    /// a cancel does not interrupt it, a stop does.
    pub(super) async fn finish<T, F, Fut>(&self, send: F) -> Result<T, Interrupt>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, Error>>,
    {
        self.call_unless(&Cancel::new(), send).await
    }

    pub(super) async fn call_unless<T, F, Fut>(
        &self,
        cancel: &Cancel,
        mut send: F,
    ) -> Result<T, Interrupt>
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
    pub(super) async fn back_off(&self, attempt: u32) -> bool {
        tokio::select! {
            () = tokio::time::sleep(backoff(attempt)) => !self.halted(),
            () = self.cancel.cancelled() => false,
        }
    }
}

/// Exponential backoff with full jitter: up to 250 ms × 2^(attempt-1), at most 8 s.
pub(super) fn backoff(attempt: u32) -> Duration {
    use rand::Rng;
    let ceiling = Duration::from_millis(250)
        .saturating_mul(2u32.saturating_pow(attempt.saturating_sub(1)))
        .min(Duration::from_secs(8));
    let millis = u64::try_from(ceiling.as_millis()).unwrap_or(u64::MAX);
    Duration::from_millis(rand::rng().random_range(0..=millis))
}

pub(super) fn wait_words(wait: Duration) -> String {
    match wait.as_secs() {
        0..=1 => "a second".to_owned(),
        seconds @ 2..=90 => format!("{seconds} seconds"),
        seconds => format!("{} minutes", seconds.div_ceil(60)),
    }
}

pub(super) fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}
