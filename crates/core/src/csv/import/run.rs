//! Step 3 of an import: the ready rows sent, one at a time, and the report of every row.

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};

use muster_scim::user::User;
use serde::{Deserialize, Serialize};

use super::check::{Plan, RowPreview, Severity};
use super::{ImportOptions, count};
use crate::actions::Action;
use crate::client::Client;
use crate::csv::export::ExportOptions;
use crate::error::{Code, Error};

/// How one row ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub enum Outcome {
    /// Created and sent the welcome email.
    Invited,
    /// Created; no welcome email was asked for.
    Created,
    /// Created, but the welcome email could not be sent.
    WelcomeFailed,
    /// Not created: the server refused or failed.
    Failed,
    /// Not sent: the row has problems.
    Skipped,
    /// Not reached: the import was cancelled or stopped.
    NotRun,
}

impl Outcome {
    /// The outcome's name, as the report writes it: `invited`, `welcomeFailed`…
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Invited => "invited",
            Outcome::Created => "created",
            Outcome::WelcomeFailed => "welcomeFailed",
            Outcome::Failed => "failed",
            Outcome::Skipped => "skipped",
            Outcome::NotRun => "notRun",
        }
    }
}

/// How one row of the file ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct RowResult {
    /// The row's line in the file.
    pub row: u32,
    /// Its email address.
    pub email: String,
    /// What happened.
    pub outcome: Outcome,
    /// Why, in words (the error, or the row's problems).
    pub message: String,
    /// The created user's id.
    pub user_id: Option<String>,
    /// The kind of error that failed the row, for exit codes.
    #[serde(skip)]
    #[cfg_attr(feature = "specta", specta(skip))]
    code: Option<Code>,
}

impl RowResult {
    /// The kind of the error that failed the row (or its welcome), if one did.
    pub fn code(&self) -> Option<Code> {
        self.code
    }
}

/// How far a run has got, after each row sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct ImportProgress {
    /// Ready rows finished.
    pub done: u32,
    /// Ready rows in all.
    pub total: u32,
    /// The row just finished.
    pub row: u32,
    /// How it ended.
    pub outcome: Outcome,
}

/// What an import did, row by row.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct ImportReport {
    /// One result per row of the preview, in file order.
    pub rows: Vec<RowResult>,
    /// Users created (whether or not the welcome email went).
    pub created: u32,
    /// Welcome emails sent.
    pub invited: u32,
    /// Created users whose welcome email could not be sent.
    pub welcome_failed: u32,
    /// Rows the server refused or failed.
    pub failed: u32,
    /// Rows with problems, not sent.
    pub skipped: u32,
    /// Rows not reached.
    pub not_run: u32,
    /// Why the run stopped early, if it did (cancelled, offline, signed out, slowed down).
    pub stopped: Option<String>,
}

impl ImportReport {
    /// Whether every row was created (and welcomed, when asked).
    pub fn all_done(&self) -> bool {
        self.rows
            .iter()
            .all(|r| matches!(r.outcome, Outcome::Invited | Outcome::Created))
    }

    /// Writes the report as CSV: `row,email,outcome,message,userId`, one line per row.
    ///
    /// # Errors
    ///
    /// [`Error::Storage`] when `out` refuses a write.
    pub fn write_csv<W: Write>(&self, out: W, options: &ExportOptions) -> Result<(), Error> {
        let failed = |error: std::io::Error| Error::Storage {
            message: format!("The report could not be written: {error}."),
        };
        let mut csv = if options.bom {
            crate::csv::Writer::with_bom(out).map_err(failed)?
        } else {
            crate::csv::Writer::new(out)
        };
        csv.record(["row", "email", "outcome", "message", "userId"])
            .map_err(failed)?;
        for row in &self.rows {
            csv.record([
                row.row.to_string().as_str(),
                &row.email,
                row.outcome.as_str(),
                &row.message,
                row.user_id.as_deref().unwrap_or_default(),
            ])
            .map_err(failed)?;
        }
        csv.finish().map_err(failed)?;
        Ok(())
    }
}

/// Creates each ready row's user and (with `options.send_welcome`) sends the welcome
/// email, one row at a time, calling `progress` after each; rows with problems are
/// reported as skipped and never sent. Returns the report and the users as the server
/// answered (for the offline copy).
///
/// Stops early, leaving the rest "not run", when `cancel` is set, when the server cannot
/// be reached, refuses the session (signed out, not allowed) or asks to slow down for
/// longer than the client waits. A user whose create succeeded but whose welcome failed is
/// "welcomeFailed": send it again from the user's page or `muster users invite`.
pub async fn run(
    client: &Client,
    plan: &Plan,
    options: &ImportOptions,
    cancel: &AtomicBool,
    mut progress: impl FnMut(&ImportProgress),
) -> (ImportReport, Vec<User>) {
    let total = count(plan.ready().count());
    let mut report = ImportReport::default();
    let mut created_users = Vec::new();
    let mut done = 0u32;
    for (preview, planned) in plan.preview.rows.iter().zip(&plan.users) {
        let mut result = RowResult {
            row: preview.row,
            email: preview.email.clone(),
            outcome: Outcome::Skipped,
            message: String::new(),
            user_id: None,
            code: None,
        };
        let Some(user) = planned else {
            result.message = errors_of(preview);
            report.push(result);
            continue;
        };
        if report.stopped.is_none() && cancel.load(Ordering::Relaxed) {
            report.stopped = Some("The import was cancelled.".to_owned());
        }
        if let Some(reason) = &report.stopped {
            result.outcome = Outcome::NotRun;
            result.message = format!("Not sent: {reason}");
            report.push(result);
            continue;
        }
        match client.users().create(user).await {
            Err(error) => {
                result.outcome = Outcome::Failed;
                result.message = error.to_string();
                result.code = Some(error.code());
                report.stopped = stops(&error);
            }
            Ok(created) => {
                let mut answer = created.value;
                let id = answer.id.clone().unwrap_or_default();
                result.user_id = Some(id.clone());
                if !options.send_welcome {
                    result.outcome = Outcome::Created;
                    result.message = "Created; no welcome email was sent.".to_owned();
                } else {
                    match client.actions().run(&id, Action::welcome()).await {
                        Ok(sent) => {
                            answer = sent.value;
                            result.outcome = Outcome::Invited;
                            result.message = "Created and sent the welcome email.".to_owned();
                        }
                        Err(error) => {
                            result.outcome = Outcome::WelcomeFailed;
                            result.message =
                                format!("Created, but the welcome email was not sent: {error}");
                            result.code = Some(error.code());
                            report.stopped = stops(&error);
                        }
                    }
                }
                created_users.push(answer);
            }
        }
        done = done.saturating_add(1);
        progress(&ImportProgress {
            done,
            total,
            row: result.row,
            outcome: result.outcome,
        });
        report.push(result);
    }
    (report, created_users)
}

/// A row's errors, in one line.
fn errors_of(row: &RowPreview) -> String {
    row.problems
        .iter()
        .filter(|p| p.severity == Severity::Error)
        .map(|p| p.message.as_str())
        .collect::<Vec<_>>()
        .join(" ")
}

impl ImportReport {
    /// The report of a plan that is not run (a dry run, or an import not confirmed): rows
    /// with problems are skipped, and ready rows "not run" because of `reason`.
    pub fn unsent(plan: &Plan, reason: &str) -> Self {
        let mut report = ImportReport::default();
        for (row, user) in plan.preview.rows.iter().zip(&plan.users) {
            let (outcome, message) = match user {
                Some(_) => (Outcome::NotRun, reason.to_owned()),
                None => (Outcome::Skipped, errors_of(row)),
            };
            report.push(RowResult {
                row: row.row,
                email: row.email.clone(),
                outcome,
                message,
                user_id: None,
                code: None,
            });
        }
        report
    }

    fn push(&mut self, result: RowResult) {
        let counter = match result.outcome {
            Outcome::Invited => {
                self.created += 1;
                &mut self.invited
            }
            Outcome::Created => &mut self.created,
            Outcome::WelcomeFailed => {
                self.created += 1;
                &mut self.welcome_failed
            }
            Outcome::Failed => &mut self.failed,
            Outcome::Skipped => &mut self.skipped,
            Outcome::NotRun => &mut self.not_run,
        };
        *counter += 1;
        self.rows.push(result);
    }
}

/// Why an error stops the whole run (every later row would fail the same way), if it does.
fn stops(error: &Error) -> Option<String> {
    match error {
        Error::Offline { .. } => Some("the server cannot be reached.".to_owned()),
        Error::Unauthorized { .. }
        | Error::Forbidden { .. }
        | Error::Reauthenticate { .. }
        | Error::MustChangePassword { .. }
        | Error::MfaEnrollmentRequired { .. } => {
            Some(format!("the server refused the session ({error})."))
        }
        Error::RateLimited { retry_after, .. } => Some(match retry_after {
            Some(wait) => format!(
                "the server asked to slow down for {} minutes; run the file again then.",
                wait.as_secs().div_ceil(60)
            ),
            None => "the server asked to slow down; run the file again later.".to_owned(),
        }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn the_report_is_csv_with_one_line_per_row() {
        let mut report = ImportReport::default();
        report.push(RowResult {
            row: 2,
            email: "a@x.test".into(),
            outcome: Outcome::Invited,
            message: "Created and sent the welcome email.".into(),
            user_id: Some("u1".into()),
            code: None,
        });
        report.push(RowResult {
            row: 3,
            email: "=bad".into(),
            outcome: Outcome::Skipped,
            message: "'=bad' is not an email address.".into(),
            user_id: None,
            code: None,
        });
        assert_eq!((report.created, report.invited, report.skipped), (1, 1, 1));
        assert!(!report.all_done());
        let mut out = Vec::new();
        report
            .write_csv(&mut out, &ExportOptions::default())
            .unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "row,email,outcome,message,userId\r\n\
             2,a@x.test,invited,Created and sent the welcome email.,u1\r\n\
             3,'=bad,skipped,'=bad' is not an email address.,\r\n"
        );
    }
}
