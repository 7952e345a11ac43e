//! The console's commands: each parses its input, calls one `Console` method and maps the
//! error. No logic lives here (it is in muster-core, tested without a window), and no
//! reply carries a secret: passwords and tokens only ever travel in.
//!
//! Every command opens a debug-level span named after it, so what core logs while it
//! runs says which command it served. The span records no argument (`skip_all`: they hold
//! passwords, codes and people's names) and no error text (a server's words may quote an
//! email address); the error mapper logs each failure's code inside it.

use std::sync::Arc;

use muster_core::Secret;
use muster_core::actions::Invite;
use muster_core::console::account::{MfaEnrolmentView, MyAccountView};
use muster_core::console::bulk::{BulkProgressView, BulkRequest, BulkSummaryView};
use muster_core::console::groups::{GroupDetail, GroupRow};
use muster_core::console::orgs::{OrgChoices, OrgInput, OrgOutcome, OrgRow};
use muster_core::console::photos::{PhotoPreview, PhotoView};
use muster_core::console::settings::{OrgSettingsView, SettingsInput};
use muster_core::console::tokens::{
    ApiTokenChoices, ApiTokenInput, ApiTokenRow, IssuedApiTokenView,
};
use muster_core::console::view::{
    AssigneeView, AuditPage, AuditQuery, EmailCheck, Facets, Handover, InputCheck, OrgView,
    OutcomeView, PasswordPolicyView, ProfileInput, ProfileView, ResponsibilityView, SimpleAction,
    StatusView, SyncProgressView, UserDetail, UserInput, UserWindow,
};
use muster_core::console::{Console, ReviewOptions, ReviewView};
use muster_core::csv::columns::ColumnView;
use muster_core::csv::export::ExportOptions;
use muster_core::csv::import::{ImportOptions, ImportProgress, ImportReport, MappingOverride};
use muster_core::search::SearchQuery;
use serde::Serialize;
use specta::Type;
use tauri::ipc::Channel;
use tauri::{AppHandle, State};

use crate::error::CommandError;
use crate::transfer::{self, ExportOutcome, ImportPick, ImportState, SaveOutcome};

type Console_<'a> = State<'a, Arc<Console>>;
type Reply<T> = Result<T, CommandError>;

/// About this app run.
#[derive(Debug, Clone, Serialize, Type)]
#[serde(rename_all = "camelCase")]
pub struct AppInfo {
    /// The app's version.
    pub version: String,
    /// Running on the built-in demo server.
    pub demo: bool,
    /// Where the log files are.
    pub log_dir: Option<String>,
}

/// Facts about this run, set at start-up.
#[derive(Debug, Clone)]
pub struct RunInfo(pub AppInfo);

#[tauri::command]
#[specta::specta]
#[tracing::instrument(level = "debug", skip_all)]
pub fn app_info(run: State<'_, RunInfo>) -> AppInfo {
    run.0.clone()
}

/// Set once start-up has opened the default profile (or found none to open): until then
/// `status` waits, so the console never shows the connections screen for a moment and
/// then misses the profile opening behind it (the keychain's first answer can take a
/// while).
pub struct Startup(pub tokio::sync::watch::Receiver<bool>);

#[tauri::command]
#[specta::specta]
#[tracing::instrument(level = "debug", skip_all)]
pub async fn status(console: Console_<'_>, startup: State<'_, Startup>) -> Reply<StatusView> {
    let mut opened = startup.0.clone();
    // An error means the start-up task is gone: nothing more will open by itself.
    let _ = opened.wait_for(|done| *done).await;
    Ok(console.status().await)
}

#[tauri::command]
#[specta::specta]
#[tracing::instrument(level = "debug", skip_all)]
pub async fn list_profiles(console: Console_<'_>) -> Reply<Vec<ProfileView>> {
    Ok(console.profiles().await)
}

#[tauri::command]
#[specta::specta]
#[tracing::instrument(level = "debug", skip_all)]
pub async fn save_profile(
    console: Console_<'_>,
    input: ProfileInput,
    editing: bool,
) -> Reply<Vec<ProfileView>> {
    Ok(console.save_profile(input, editing).await?)
}

#[tauri::command]
#[specta::specta]
#[tracing::instrument(level = "debug", skip_all)]
pub async fn remove_profile(console: Console_<'_>, name: String) -> Reply<Vec<ProfileView>> {
    Ok(console.remove_profile(&name).await?)
}

#[tauri::command]
#[specta::specta]
#[tracing::instrument(level = "debug", skip_all)]
pub async fn open_profile(console: Console_<'_>, name: String) -> Reply<StatusView> {
    Ok(console.open_profile(&name).await?)
}

#[tauri::command]
#[specta::specta]
#[tracing::instrument(level = "debug", skip_all)]
pub async fn sign_in(console: Console_<'_>, email: String, password: String) -> Reply<StatusView> {
    Ok(console.sign_in(&email, Secret::new(password)).await?)
}

#[tauri::command]
#[specta::specta]
#[tracing::instrument(level = "debug", skip_all)]
pub async fn complete_mfa(console: Console_<'_>, code: String) -> Reply<StatusView> {
    Ok(console.complete_mfa(&code).await?)
}

#[tauri::command]
#[specta::specta]
#[tracing::instrument(level = "debug", skip_all)]
pub async fn reauthenticate(
    console: Console_<'_>,
    password: String,
    code: Option<String>,
) -> Reply<()> {
    Ok(console.reauthenticate(Secret::new(password), code).await?)
}

#[tauri::command]
#[specta::specta]
#[tracing::instrument(level = "debug", skip_all)]
pub async fn change_password(
    console: Console_<'_>,
    current: String,
    chosen: String,
    code: Option<String>,
) -> Reply<StatusView> {
    Ok(console
        .change_password(Secret::new(current), Secret::new(chosen), code)
        .await?)
}

#[tauri::command]
#[specta::specta]
#[tracing::instrument(level = "debug", skip_all)]
pub async fn my_account(console: Console_<'_>) -> Reply<MyAccountView> {
    Ok(console.my_account().await?)
}

#[tauri::command]
#[specta::specta]
#[tracing::instrument(level = "debug", skip_all)]
pub async fn start_mfa(console: Console_<'_>, password: String) -> Reply<MfaEnrolmentView> {
    Ok(console.start_mfa(Secret::new(password)).await?)
}

#[tauri::command]
#[specta::specta]
#[tracing::instrument(level = "debug", skip_all)]
pub async fn confirm_mfa(console: Console_<'_>, code: String) -> Reply<MyAccountView> {
    Ok(console.confirm_mfa(&code).await?)
}

#[tauri::command]
#[specta::specta]
#[tracing::instrument(level = "debug", skip_all)]
pub async fn disable_mfa(
    console: Console_<'_>,
    password: String,
    code: String,
) -> Reply<MyAccountView> {
    Ok(console.disable_mfa(Secret::new(password), code).await?)
}

#[tauri::command]
#[specta::specta]
#[tracing::instrument(level = "debug", skip_all)]
pub async fn end_other_sessions(console: Console_<'_>) -> Reply<u32> {
    Ok(console.end_other_sessions().await?)
}

#[tauri::command]
#[specta::specta]
#[tracing::instrument(level = "debug", skip_all)]
pub async fn sign_in_with_token(console: Console_<'_>, token: String) -> Reply<StatusView> {
    Ok(console.sign_in_with_token(Secret::new(token)).await?)
}

#[tauri::command]
#[specta::specta]
#[tracing::instrument(level = "debug", skip_all)]
pub async fn refresh(console: Console_<'_>) -> Reply<StatusView> {
    Ok(console.refresh().await?)
}

#[tauri::command]
#[specta::specta]
#[tracing::instrument(level = "debug", skip_all)]
pub async fn sign_out(console: Console_<'_>) -> Reply<StatusView> {
    Ok(console.sign_out().await?)
}

#[tauri::command]
#[specta::specta]
#[tracing::instrument(level = "debug", skip_all)]
pub async fn organisations(console: Console_<'_>, query: String) -> Reply<Vec<OrgView>> {
    Ok(console.organisations(&query).await?)
}

#[tauri::command]
#[specta::specta]
#[tracing::instrument(level = "debug", skip_all)]
pub async fn set_favourite(console: Console_<'_>, org: String, favourite: bool) -> Reply<()> {
    Ok(console.set_favourite(&org, favourite).await?)
}

#[tauri::command]
#[specta::specta]
#[tracing::instrument(level = "debug", skip_all)]
pub async fn switch_org(console: Console_<'_>, org: String) -> Reply<StatusView> {
    Ok(console.switch_org(&org).await?)
}

#[tauri::command]
#[specta::specta]
#[tracing::instrument(level = "debug", skip_all)]
pub async fn sync(
    console: Console_<'_>,
    on_progress: Channel<SyncProgressView>,
) -> Reply<StatusView> {
    Ok(console
        .sync(|progress| {
            // A closed channel (the window went away) only stops the progress bar.
            let _ = on_progress.send(progress);
        })
        .await?)
}

#[tauri::command]
#[specta::specta]
#[tracing::instrument(level = "debug", skip_all)]
pub async fn search_users(console: Console_<'_>, query: SearchQuery) -> Reply<UserWindow> {
    Ok(console.search(&query).await)
}

#[tauri::command]
#[specta::specta]
#[tracing::instrument(level = "debug", skip_all)]
pub async fn facets(console: Console_<'_>) -> Reply<Facets> {
    Ok(console.facets().await)
}

#[tauri::command]
#[specta::specta]
#[tracing::instrument(level = "debug", skip_all)]
pub async fn get_user(console: Console_<'_>, id: String) -> Reply<UserDetail> {
    Ok(console.user(&id).await?)
}

#[tauri::command]
#[specta::specta]
#[tracing::instrument(level = "debug", skip_all)]
pub async fn check_email(
    console: Console_<'_>,
    email: String,
    except: Option<String>,
) -> Reply<EmailCheck> {
    Ok(console.check_email(&email, except.as_deref()).await)
}

#[tauri::command]
#[specta::specta]
#[tracing::instrument(level = "debug", skip_all)]
pub async fn check_user_input(
    console: Console_<'_>,
    input: UserInput,
    except: Option<String>,
    welcome: Option<Invite>,
) -> Reply<InputCheck> {
    Ok(console
        .check_user_input(&input, except.as_deref(), welcome)
        .await)
}

#[tauri::command]
#[specta::specta]
#[tracing::instrument(level = "debug", skip_all)]
pub async fn create_user(
    console: Console_<'_>,
    input: UserInput,
    welcome: Option<Invite>,
) -> Reply<UserDetail> {
    Ok(console.create_user(&input, welcome).await?)
}

#[tauri::command]
#[specta::specta]
#[tracing::instrument(level = "debug", skip_all)]
pub async fn update_user(
    console: Console_<'_>,
    id: String,
    input: UserInput,
    version: Option<String>,
) -> Reply<UserDetail> {
    Ok(console.update_user(&id, &input, version).await?)
}

/// Checks a chosen file's size before the form reads it (`bytes`: the file's size, a
/// JavaScript number).
#[tauri::command]
#[specta::specta]
#[tracing::instrument(level = "debug", skip_all)]
pub async fn check_photo_size(console: Console_<'_>, bytes: f64) -> Reply<()> {
    // Whole and non-negative as a File's size is; anything else counts as too large.
    let bytes = if bytes.is_finite() && bytes >= 0.0 && bytes < 2f64.powi(53) {
        bytes as u64
    } else {
        u64::MAX
    };
    Ok(console.check_photo_size(bytes).await?)
}

/// Checks a file the form read as a photo (`file`: a `data:` URL).
#[tauri::command]
#[specta::specta]
#[tracing::instrument(level = "debug", skip_all)]
pub async fn check_photo(console: Console_<'_>, file: String) -> Reply<PhotoPreview> {
    Ok(console.check_photo(&file).await?)
}

/// Sets a user's photo from a file the form read (`file`: a `data:` URL).
#[tauri::command]
#[specta::specta]
#[tracing::instrument(level = "debug", skip_all)]
pub async fn set_photo(
    console: Console_<'_>,
    id: String,
    file: String,
    version: Option<String>,
) -> Reply<UserDetail> {
    Ok(console.set_photo(&id, &file, version).await?)
}

#[tauri::command]
#[specta::specta]
#[tracing::instrument(level = "debug", skip_all)]
pub async fn remove_photo(
    console: Console_<'_>,
    id: String,
    version: Option<String>,
) -> Reply<UserDetail> {
    Ok(console.remove_photo(&id, version).await?)
}

/// The photos of the users on screen that can be shown.
#[tauri::command]
#[specta::specta]
#[tracing::instrument(level = "debug", skip_all)]
pub async fn user_photos(console: Console_<'_>, ids: Vec<String>) -> Reply<Vec<PhotoView>> {
    Ok(console.photos(&ids).await)
}

#[tauri::command]
#[specta::specta]
#[tracing::instrument(level = "debug", skip_all)]
pub async fn run_action(
    console: Console_<'_>,
    id: String,
    action: SimpleAction,
) -> Reply<UserDetail> {
    Ok(console.run_action(&id, action).await?)
}

#[tauri::command]
#[specta::specta]
#[tracing::instrument(level = "debug", skip_all)]
pub async fn set_password(
    console: Console_<'_>,
    id: String,
    password: String,
    must_change: bool,
) -> Reply<UserDetail> {
    Ok(console
        .set_password(&id, Secret::new(password), must_change)
        .await?)
}

#[tauri::command]
#[specta::specta]
#[tracing::instrument(level = "debug", skip_all)]
pub async fn password_policy(console: Console_<'_>) -> Reply<PasswordPolicyView> {
    Ok(console.password_policy().await?)
}

#[tauri::command]
#[specta::specta]
#[tracing::instrument(level = "debug", skip_all)]
pub async fn responsibilities(console: Console_<'_>, id: String) -> Reply<Vec<ResponsibilityView>> {
    Ok(console.responsibilities(&id).await?)
}

#[tauri::command]
#[specta::specta]
#[tracing::instrument(level = "debug", skip_all)]
pub async fn assignees(console: Console_<'_>, query: String) -> Reply<Vec<AssigneeView>> {
    Ok(console.assignees(&query).await?)
}

#[tauri::command]
#[specta::specta]
#[tracing::instrument(level = "debug", skip_all)]
pub async fn deactivate(
    console: Console_<'_>,
    id: String,
    handovers: Vec<Handover>,
) -> Reply<UserDetail> {
    Ok(console.deactivate(&id, &handovers).await?)
}

#[tauri::command]
#[specta::specta]
#[tracing::instrument(level = "debug", skip_all)]
pub async fn delete_user(
    console: Console_<'_>,
    id: String,
    handovers: Vec<Handover>,
) -> Reply<OutcomeView> {
    Ok(console.delete_user(&id, &handovers).await?)
}

#[tauri::command]
#[specta::specta]
#[tracing::instrument(level = "debug", skip_all)]
pub async fn list_groups(console: Console_<'_>) -> Reply<Vec<GroupRow>> {
    Ok(console.groups().await)
}

#[tauri::command]
#[specta::specta]
#[tracing::instrument(level = "debug", skip_all)]
pub async fn get_group(console: Console_<'_>, id: String) -> Reply<GroupDetail> {
    Ok(console.group(&id).await?)
}

#[tauri::command]
#[specta::specta]
#[tracing::instrument(level = "debug", skip_all)]
pub async fn create_group(
    console: Console_<'_>,
    name: String,
    members: Vec<String>,
) -> Reply<GroupDetail> {
    Ok(console.create_group(&name, &members).await?)
}

#[tauri::command]
#[specta::specta]
#[tracing::instrument(level = "debug", skip_all)]
pub async fn rename_group(
    console: Console_<'_>,
    id: String,
    name: String,
    version: Option<String>,
) -> Reply<GroupDetail> {
    Ok(console.rename_group(&id, &name, version).await?)
}

#[tauri::command]
#[specta::specta]
#[tracing::instrument(level = "debug", skip_all)]
pub async fn delete_group(console: Console_<'_>, id: String) -> Reply<()> {
    Ok(console.delete_group(&id).await?)
}

#[tauri::command]
#[specta::specta]
#[tracing::instrument(level = "debug", skip_all)]
pub async fn add_group_members(
    console: Console_<'_>,
    id: String,
    users: Vec<String>,
) -> Reply<GroupDetail> {
    Ok(console.add_group_members(&id, &users).await?)
}

#[tauri::command]
#[specta::specta]
#[tracing::instrument(level = "debug", skip_all)]
pub async fn remove_group_members(
    console: Console_<'_>,
    id: String,
    users: Vec<String>,
) -> Reply<GroupDetail> {
    Ok(console.remove_group_members(&id, &users).await?)
}

#[tauri::command]
#[specta::specta]
#[tracing::instrument(level = "debug", skip_all)]
pub async fn audit(console: Console_<'_>, query: AuditQuery) -> Reply<AuditPage> {
    Ok(console.audit(&query).await?)
}

#[tauri::command]
#[specta::specta]
#[tracing::instrument(level = "debug", skip_all)]
pub async fn review(console: Console_<'_>, days: u32) -> Reply<ReviewView> {
    Ok(console
        .review(&ReviewOptions { dormant_days: days })
        .await?)
}

#[tauri::command]
#[specta::specta]
#[tracing::instrument(level = "debug", skip_all)]
pub async fn api_tokens(console: Console_<'_>) -> Reply<Vec<ApiTokenRow>> {
    Ok(console.api_tokens().await?)
}

#[tauri::command]
#[specta::specta]
#[tracing::instrument(level = "debug", skip_all)]
pub async fn api_token_choices(console: Console_<'_>) -> Reply<ApiTokenChoices> {
    Ok(console.api_token_choices().await)
}

/// The one reply that carries a credential besides a two-factor key: the new token's
/// secret, for the screen to show once (see `security.rs`).
#[tauri::command]
#[specta::specta]
#[tracing::instrument(level = "debug", skip_all)]
pub async fn create_api_token(
    console: Console_<'_>,
    input: ApiTokenInput,
) -> Reply<IssuedApiTokenView> {
    Ok(console.create_api_token(input).await?)
}

#[tauri::command]
#[specta::specta]
#[tracing::instrument(level = "debug", skip_all)]
pub async fn revoke_api_token(console: Console_<'_>, id: String) -> Reply<Vec<ApiTokenRow>> {
    Ok(console.revoke_api_token(&id).await?)
}

#[tauri::command]
#[specta::specta]
#[tracing::instrument(level = "debug", skip_all)]
pub async fn org_settings(console: Console_<'_>) -> Reply<OrgSettingsView> {
    Ok(console.org_settings().await?)
}

#[tauri::command]
#[specta::specta]
#[tracing::instrument(level = "debug", skip_all)]
pub async fn save_org_settings(
    console: Console_<'_>,
    input: SettingsInput,
) -> Reply<OrgSettingsView> {
    Ok(console.save_org_settings(input).await?)
}

#[tauri::command]
#[specta::specta]
#[tracing::instrument(level = "debug", skip_all)]
pub async fn org_rows(console: Console_<'_>) -> Reply<Vec<OrgRow>> {
    Ok(console.org_rows().await?)
}

#[tauri::command]
#[specta::specta]
#[tracing::instrument(level = "debug", skip_all)]
pub async fn org_choices(console: Console_<'_>) -> Reply<OrgChoices> {
    Ok(console.org_choices().await?)
}

#[tauri::command]
#[specta::specta]
#[tracing::instrument(level = "debug", skip_all)]
pub async fn create_org(console: Console_<'_>, input: OrgInput) -> Reply<OrgOutcome> {
    Ok(console.create_org(input).await?)
}

#[tauri::command]
#[specta::specta]
#[tracing::instrument(level = "debug", skip_all)]
pub async fn suspend_org(console: Console_<'_>, id: String) -> Reply<OrgOutcome> {
    Ok(console.suspend_org(&id).await?)
}

#[tauri::command]
#[specta::specta]
#[tracing::instrument(level = "debug", skip_all)]
pub async fn reactivate_org(console: Console_<'_>, id: String) -> Reply<OrgOutcome> {
    Ok(console.reactivate_org(&id).await?)
}

#[tauri::command]
#[specta::specta]
#[tracing::instrument(level = "debug", skip_all)]
pub async fn set_org_plan(console: Console_<'_>, id: String, plan: String) -> Reply<OrgOutcome> {
    Ok(console.set_org_plan(&id, &plan).await?)
}

#[tauri::command]
#[specta::specta]
#[tracing::instrument(level = "debug", skip_all)]
pub async fn delete_org(console: Console_<'_>, id: String, confirm: String) -> Reply<OrgOutcome> {
    Ok(console.delete_org(&id, &confirm).await?)
}

#[tauri::command]
#[specta::specta]
#[tracing::instrument(level = "debug", skip_all)]
pub async fn system_audit(console: Console_<'_>, query: AuditQuery) -> Reply<AuditPage> {
    Ok(console.system_audit(&query).await?)
}

#[tauri::command]
#[specta::specta]
#[tracing::instrument(level = "debug", skip_all)]
pub async fn run_bulk(
    console: Console_<'_>,
    request: BulkRequest,
    on_progress: Channel<BulkProgressView>,
) -> Reply<BulkSummaryView> {
    Ok(console
        .run_bulk(request, |progress| {
            // A closed channel (the window went away) only stops the progress bar.
            let _ = on_progress.send(progress);
        })
        .await?)
}

#[tauri::command]
#[specta::specta]
#[tracing::instrument(level = "debug", skip_all)]
pub fn cancel_bulk(console: Console_<'_>, job_id: String) -> bool {
    console.cancel_bulk(&job_id)
}

#[tauri::command]
#[specta::specta]
#[tracing::instrument(level = "debug", skip_all)]
pub fn export_columns(console: Console_<'_>) -> Vec<ColumnView> {
    console.export_columns()
}

/// Asks where to save (the native dialog), then writes the view's every row there.
#[tauri::command]
#[specta::specta]
#[tracing::instrument(level = "debug", skip_all)]
pub async fn export_users(
    app: AppHandle,
    console: Console_<'_>,
    query: SearchQuery,
    columns: Vec<String>,
) -> Reply<ExportOutcome> {
    let Some(path) = transfer::ask_save_path(&app, transfer::dated_name("users")).await else {
        return Ok(ExportOutcome::Cancelled);
    };
    let summary = console
        .export_users_to_file(&query, &columns, &ExportOptions::default(), &path)
        .await?;
    Ok(ExportOutcome::Saved {
        file_name: transfer::file_name(&path),
        rows: summary.rows,
        columns: summary.columns,
    })
}

/// Opens the file picker, remembers the file, and returns its preview.
#[tauri::command]
#[specta::specta]
#[tracing::instrument(level = "debug", skip_all)]
pub async fn import_pick(
    app: AppHandle,
    console: Console_<'_>,
    import: State<'_, ImportState>,
    options: ImportOptions,
) -> Reply<ImportPick> {
    let Some(path) = transfer::ask_open_path(&app).await else {
        return Ok(ImportPick::Cancelled);
    };
    import.choose(path.clone());
    let preview = console.import_preview(&path, &[], &options).await?;
    Ok(ImportPick::Picked {
        file_name: transfer::file_name(&path),
        preview,
    })
}

#[tauri::command]
#[specta::specta]
#[tracing::instrument(level = "debug", skip_all)]
pub async fn import_preview(
    console: Console_<'_>,
    import: State<'_, ImportState>,
    mapping: Vec<MappingOverride>,
    options: ImportOptions,
) -> Reply<muster_core::csv::import::ImportPreview> {
    Ok(console
        .import_preview(&import.path()?, &mapping, &options)
        .await?)
}

#[tauri::command]
#[specta::specta]
#[tracing::instrument(level = "debug", skip_all)]
pub async fn import_users(
    console: Console_<'_>,
    import: State<'_, ImportState>,
    mapping: Vec<MappingOverride>,
    options: ImportOptions,
    on_progress: Channel<ImportProgress>,
) -> Reply<ImportReport> {
    let path = import.path()?;
    let cancel = import.start();
    let report = console
        .import_users(
            &path,
            &mapping,
            &options,
            &cancel,
            transfer::forward(&on_progress),
        )
        .await?;
    import.finish(report.clone());
    Ok(report)
}

#[tauri::command]
#[specta::specta]
#[tracing::instrument(level = "debug", skip_all)]
pub fn cancel_import(import: State<'_, ImportState>) {
    import.cancel();
}

/// Asks where to save (the native dialog), then writes the last import's report there.
#[tauri::command]
#[specta::specta]
#[tracing::instrument(level = "debug", skip_all)]
pub async fn save_import_report(
    app: AppHandle,
    console: Console_<'_>,
    import: State<'_, ImportState>,
) -> Reply<SaveOutcome> {
    let report = import.report().ok_or_else(|| {
        CommandError::from(muster_core::Error::invalid(
            "report",
            "Run an import first.",
        ))
    })?;
    let Some(path) = transfer::ask_save_path(&app, transfer::dated_name("import-report")).await
    else {
        return Ok(SaveOutcome::Cancelled);
    };
    console.save_import_report(&report, &ExportOptions::default(), &path)?;
    Ok(SaveOutcome::Saved {
        file_name: transfer::file_name(&path),
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_command_opens_a_span_that_records_no_argument() {
        let source = include_str!("commands.rs");
        let commands = source.matches("#[tauri::command]\n").count();
        let spans = source
            .matches("#[tauri::command]\n#[specta::specta]\n#[tracing::instrument(level = \"debug\", skip_all)]\n")
            .count();
        assert!(commands > 50, "the commands are found: {commands}");
        assert_eq!(
            spans, commands,
            "each command is instrumented, skipping its arguments"
        );
    }
}
