//! CSV export and import for the desktop console, over [`crate::csv`]: exports read the
//! offline copy (so they work offline), imports check rows against it and then send
//! through the console's session.
//!
//! The import is stateless between its two steps: [`Console::import_preview`] reads and
//! checks the file; [`Console::import_users`] reads and checks it again (the file, the
//! copy or the mapping may have changed since) and sends only the rows that are ready.

use std::io::Write;
use std::path::Path;
use std::sync::atomic::AtomicBool;

use super::Console;
use crate::cache::PackedUser;
use crate::csv::columns::{self, ColumnView};
use crate::csv::export::{self, ExportOptions, ExportSummary};
use crate::csv::import::{
    self, ImportOptions, ImportPreview, ImportProgress, ImportReport, Known, MappingOverride, Plan,
};
use crate::csv::{Limits, read_file};
use crate::error::{Code, Error, Notice};
use crate::search::SearchQuery;
use crate::sync;

impl Console {
    /// The columns an export offers, in their default order.
    pub fn export_columns(&self) -> Vec<ColumnView> {
        columns::views()
    }

    /// Writes the users of the offline copy that `query` matches to `out` as CSV: every
    /// matching row (the query's window is ignored), sorted as the query asks, with
    /// `columns` (every column when empty). Needs no network.
    ///
    /// # Errors
    ///
    /// [`Error::Validation`] for an unknown column; [`Error::Storage`] when `out` refuses
    /// a write.
    pub async fn export_users<W: Write + Send + 'static>(
        &self,
        query: &SearchQuery,
        columns: &[String],
        options: &ExportOptions,
        out: W,
    ) -> Result<ExportSummary, Error> {
        let columns = columns::select(columns)?;
        let data = self.data().await;
        let search = query.every_match();
        let options = options.clone();
        let now = self.clock.now();
        tokio::task::spawn_blocking(move || {
            export::export_view(
                out,
                |row| data.snapshot.users.get(row).map(PackedUser::user),
                &data.index,
                &search,
                &columns,
                &options,
                now,
            )
        })
        .await
        .map_err(|_| Error::Storage {
            message: "The export stopped unexpectedly.".to_owned(),
        })?
    }

    /// [`Console::export_users`] into a new file at `path` that only its owner can read
    /// (the export holds personal data). A failed export removes the file.
    ///
    /// # Errors
    ///
    /// As [`Console::export_users`]; [`Error::Storage`] when the file cannot be created.
    pub async fn export_users_to_file(
        &self,
        query: &SearchQuery,
        columns: &[String],
        options: &ExportOptions,
        path: &Path,
    ) -> Result<ExportSummary, Error> {
        let file = export::create_private(path)?;
        let written = self.export_users(query, columns, options, file).await;
        if written.is_err() {
            // The export's own error is the one to show; the half-written file goes if
            // it can (it is private to its owner either way).
            let _ = std::fs::remove_file(path);
        }
        written
    }

    /// Reads the CSV file at `path` and checks every row before anything is sent: against
    /// each other, the offline copy's users (who exists already; which branches, zones
    /// and groups are in use) and the licences and roles the server knows. Sync first
    /// for the freshest check.
    ///
    /// # Errors
    ///
    /// [`Error::Validation`] for a file that cannot be used (not CSV, too large, no email
    /// column, a bad mapping); [`Error::Storage`] when it cannot be read.
    pub async fn import_preview(
        &self,
        path: &Path,
        overrides: &[MappingOverride],
        options: &ImportOptions,
    ) -> Result<ImportPreview, Error> {
        Ok(self
            .import_plan(path, overrides, options)
            .await?
            .into_preview())
    }

    /// Checks the file again (as [`Console::import_preview`]) and creates the user of each
    /// ready row, then sends the welcome email (unless `options.send_welcome` is off), one
    /// row at a time, calling `progress` after each. Rows with problems are never sent.
    /// Setting `cancel` stops after the row in flight. The created users go into the
    /// offline copy; the report has one outcome per row (see
    /// [`ImportReport::write_csv`] and [`Console::save_import_report`]).
    ///
    /// # Errors
    ///
    /// As [`Console::import_preview`]; [`Error::Unauthorized`] when not signed in,
    /// [`Error::Forbidden`] for a role that cannot make changes,
    /// [`Error::Unsupported`] when welcome emails are asked for and the server has none.
    /// Failures of single rows are in the report, not errors.
    pub async fn import_users(
        &self,
        path: &Path,
        overrides: &[MappingOverride],
        options: &ImportOptions,
        cancel: &AtomicBool,
        progress: impl FnMut(&ImportProgress),
    ) -> Result<ImportReport, Error> {
        let client = self.writer().await?;
        if options.send_welcome {
            let capabilities = {
                let state = self.state.lock().await;
                super::active(&state)?.capabilities().cloned()
            };
            if let Some(capabilities) = capabilities {
                capabilities
                    .require(crate::discovery::Feature::Action("send-welcome".to_owned()))?;
            }
        }
        let plan = self.import_plan(path, overrides, options).await?;
        let (report, created) = import::run(&client, &plan, options, cancel, progress).await;
        self.note_reachability(&report).await;
        if !created.is_empty() {
            self.change(move |snapshot| {
                for user in created {
                    sync::apply_user(snapshot, user);
                }
            })
            .await;
        }
        Ok(report)
    }

    /// Writes an import's report as CSV to a new file at `path` that only its owner can
    /// read.
    ///
    /// # Errors
    ///
    /// [`Error::Storage`] when it cannot be written.
    pub fn save_import_report(
        &self,
        report: &ImportReport,
        options: &ExportOptions,
        path: &Path,
    ) -> Result<(), Error> {
        let file = export::create_private(path)?;
        report.write_csv(file, options)
    }

    async fn import_plan(
        &self,
        path: &Path,
        overrides: &[MappingOverride],
        options: &ImportOptions,
    ) -> Result<Plan, Error> {
        let data = self.data().await;
        let (path, overrides, options) = (path.to_owned(), overrides.to_vec(), options.clone());
        tokio::task::spawn_blocking(move || {
            let table = read_file(&path, &Limits::default())?;
            let known = Known::from_users(data.snapshot.users.iter().map(PackedUser::user));
            import::plan(&table, &overrides, &known, &options)
        })
        .await
        .map_err(|_| Error::Storage {
            message: "The file could not be checked.".to_owned(),
        })?
    }

    /// After a run: offline if the server stopped answering, online if it answered.
    async fn note_reachability(&self, report: &ImportReport) {
        // The rows may have refreshed the session on the way.
        self.keep_session(false).await;
        let mut state = self.state.lock().await;
        let Some(active) = state.active.as_mut() else {
            return;
        };
        let offline = report.rows.iter().find(|r| r.code() == Some(Code::Offline));
        let answered = report.rows.iter().any(|r| {
            r.user_id.is_some() || (r.code().is_some() && r.code() != Some(Code::Offline))
        });
        if let Some(row) = offline {
            active.link.online = false;
            active.link.offline_reason = Some(Notice::new(row.message.clone()));
        } else if answered {
            active.link.online = true;
            active.link.offline_reason = None;
        }
    }
}
