//! CSV export and import behind native file dialogs. The dialogs open here, on the Rust
//! side, so the webview holds no dialog or file-system permission: it asks for an export
//! or an import and never sees more of the disk than the file names it is told. The file
//! an import reads is remembered in [`ImportState`] (managed state), never handed to the
//! webview to send back.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use muster_core::csv::import::{ImportPreview, ImportProgress, ImportReport};
use serde::Serialize;
use specta::Type;
use tauri::{AppHandle, Manager, Runtime};
use tauri_plugin_dialog::DialogExt;
use time::OffsetDateTime;

use crate::error::CommandError;

/// The import in progress: the file chosen, the cancel flag of a running import, and the
/// last run's report (for "Save report…").
#[derive(Debug, Default)]
pub struct ImportState {
    path: Mutex<Option<PathBuf>>,
    cancel: Arc<AtomicBool>,
    report: Mutex<Option<ImportReport>>,
}

impl ImportState {
    /// Remembers the file an import reads (and forgets the previous run's report).
    pub fn choose(&self, path: PathBuf) {
        *lock(&self.path) = Some(path);
        *lock(&self.report) = None;
    }

    /// The remembered file, or a validation error asking to pick one.
    pub fn path(&self) -> Result<PathBuf, CommandError> {
        lock(&self.path).clone().ok_or_else(|| {
            CommandError::from(muster_core::Error::invalid(
                "file",
                "Choose a CSV file to import first.",
            ))
        })
    }

    /// A fresh cancel flag for a run about to start.
    pub fn start(&self) -> Arc<AtomicBool> {
        self.cancel.store(false, Ordering::SeqCst);
        self.cancel.clone()
    }

    /// Asks the running import to stop after the row in flight.
    pub fn cancel(&self) {
        self.cancel.store(true, Ordering::SeqCst);
    }

    /// Keeps a finished run's report.
    pub fn finish(&self, report: ImportReport) {
        *lock(&self.report) = Some(report);
    }

    /// The last run's report, if any.
    pub fn report(&self) -> Option<ImportReport> {
        lock(&self.report).clone()
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// How an export went.
#[derive(Debug, Clone, Serialize, Type)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum ExportOutcome {
    /// The save dialog was cancelled; nothing was written.
    Cancelled,
    /// Written.
    #[serde(rename_all = "camelCase")]
    Saved {
        /// The file's name (without its folder).
        file_name: String,
        /// Data rows written.
        rows: u32,
        /// The columns, in order.
        columns: Vec<String>,
    },
}

/// The outcome of picking a file to import.
#[derive(Debug, Clone, Serialize, Type)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum ImportPick {
    /// The file picker was cancelled; the previous choice (if any) stands.
    Cancelled,
    /// Chosen and checked.
    #[serde(rename_all = "camelCase")]
    Picked {
        /// The file's name (without its folder).
        file_name: String,
        /// Every row's problems, with the columns' mapping.
        preview: ImportPreview,
    },
}

/// How saving a file went.
#[derive(Debug, Clone, Serialize, Type)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum SaveOutcome {
    /// The save dialog was cancelled; nothing was written.
    Cancelled,
    /// Written.
    #[serde(rename_all = "camelCase")]
    Saved {
        /// The file's name (without its folder).
        file_name: String,
    },
}

/// `stem-YYYY-MM-DD.csv`, today's date (UTC).
pub fn dated_name(stem: &str) -> String {
    let today = OffsetDateTime::now_utc().date();
    format!(
        "{stem}-{:04}-{:02}-{:02}.csv",
        today.year(),
        u8::from(today.month()),
        today.day()
    )
}

/// The last part of `path`, for messages.
pub fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string())
}

/// A file dialog over the main window (modal to it), or free-standing without one.
fn picker<R: Runtime>(app: &AppHandle<R>) -> tauri_plugin_dialog::FileDialogBuilder<R> {
    let builder = app.dialog().file();
    match app.get_webview_window("main") {
        Some(window) => builder.set_parent(&window),
        None => builder,
    }
}

/// Opens the native save dialog for a CSV file (without blocking the main thread);
/// `None` when cancelled.
pub async fn ask_save_path<R: Runtime>(
    app: &AppHandle<R>,
    default_name: String,
) -> Option<PathBuf> {
    let (sender, receiver) = tokio::sync::oneshot::channel();
    picker(app)
        .add_filter("CSV", &["csv"])
        .set_file_name(default_name)
        .save_file(move |chosen| {
            let _ = sender.send(chosen);
        });
    let path = receiver.await.ok().flatten()?.into_path().ok()?;
    // The filter is a hint some desktops ignore: make sure the file says what it is.
    Some(match path.extension() {
        Some(_) => path,
        None => path.with_extension("csv"),
    })
}

/// Opens the native file picker for a CSV file (without blocking the main thread);
/// `None` when cancelled.
pub async fn ask_open_path<R: Runtime>(app: &AppHandle<R>) -> Option<PathBuf> {
    let (sender, receiver) = tokio::sync::oneshot::channel();
    picker(app)
        .add_filter("CSV", &["csv", "txt"])
        .pick_file(move |chosen| {
            let _ = sender.send(chosen);
        });
    receiver.await.ok().flatten()?.into_path().ok()
}

/// Progress for the webview: each event is sent as a copy; a closed channel (the window
/// went away) only stops the progress bar.
pub fn forward(channel: &tauri::ipc::Channel<ImportProgress>) -> impl FnMut(&ImportProgress) {
    move |progress| {
        let _ = channel.send(progress.clone());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_names_carry_the_date_and_the_extension() {
        let name = dated_name("users");
        assert!(
            name.starts_with("users-20"),
            "{name} should start with the year"
        );
        assert!(name.ends_with(".csv"), "{name} should be a .csv file");
        assert_eq!(name.len(), "users-YYYY-MM-DD.csv".len());
    }

    #[test]
    fn the_remembered_file_is_required_and_cancel_resets_per_run() {
        let state = ImportState::default();
        assert!(state.path().is_err(), "no file chosen yet");
        state.choose(PathBuf::from("/tmp/people.csv"));
        assert_eq!(state.path().ok(), Some(PathBuf::from("/tmp/people.csv")));
        let flag = state.start();
        state.cancel();
        assert!(
            flag.load(Ordering::SeqCst),
            "cancel reaches the running import"
        );
        let flag = state.start();
        assert!(!flag.load(Ordering::SeqCst), "a new run starts uncancelled");
        assert_eq!(file_name(Path::new("/a/b/people.csv")), "people.csv");
    }
}
