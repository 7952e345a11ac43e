//! Muster's desktop app: the admin console (`ui/`) in a Tauri window, over muster-core's
//! [`Console`]. `muster-desktop --demo` also runs the reference server in this process on
//! 127.0.0.1 with seeded organisations and signs in to the 20,000-person one.

// No extra console window on Windows in release builds.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

mod commands;
mod demo;
mod error;
mod logging;
mod rendering;
#[cfg(test)]
mod security;
mod transfer;
mod window_state;

use std::path::PathBuf;
use std::sync::Arc;

use muster_core::console::{Console, Dirs};
use muster_core::transport::TransportConfig;
use muster_core::vault::Vault;
use tauri::Manager;

include!("command_names.rs");

/// How this run was started.
#[derive(Debug, Default)]
struct Args {
    demo: bool,
    demo_data: Option<PathBuf>,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args::default();
    let mut given = std::env::args().skip(1);
    while let Some(arg) = given.next() {
        match arg.as_str() {
            "--demo" => args.demo = true,
            "--demo-data" => {
                args.demo = true;
                args.demo_data = Some(given.next().ok_or("--demo-data needs a directory")?.into());
            }
            "--help" | "-h" => {
                return Err(
                    "usage: muster-desktop [--demo] [--demo-data DIR]\n\n  --demo       \
                     run the built-in demo server (seeded organisations) and sign in to it\n  \
                     --demo-data  where the demo keeps its data (default: the app's data dir)"
                        .to_owned(),
                );
            }
            other => return Err(format!("unknown argument '{other}' (try --help)")),
        }
    }
    Ok(args)
}

/// The commands, registered with Tauri and exported as TypeScript.
fn specta_builder() -> tauri_specta::Builder<tauri::Wry> {
    use commands::*;
    tauri_specta::Builder::<tauri::Wry>::new().commands(tauri_specta::collect_commands![
        app_info,
        status,
        list_profiles,
        save_profile,
        remove_profile,
        open_profile,
        sign_in,
        complete_mfa,
        reauthenticate,
        change_password,
        my_account,
        start_mfa,
        confirm_mfa,
        disable_mfa,
        end_other_sessions,
        sign_in_with_token,
        refresh,
        sign_out,
        organisations,
        set_favourite,
        switch_org,
        sync,
        search_users,
        facets,
        get_user,
        check_email,
        check_user_input,
        create_user,
        update_user,
        check_photo_size,
        check_photo,
        set_photo,
        remove_photo,
        user_photos,
        run_action,
        set_password,
        password_policy,
        responsibilities,
        assignees,
        deactivate,
        delete_user,
        list_groups,
        get_group,
        create_group,
        rename_group,
        delete_group,
        add_group_members,
        remove_group_members,
        audit,
        review,
        api_tokens,
        api_token_choices,
        create_api_token,
        revoke_api_token,
        org_settings,
        save_org_settings,
        org_rows,
        org_choices,
        create_org,
        suspend_org,
        reactivate_org,
        set_org_plan,
        delete_org,
        system_audit,
        run_bulk,
        cancel_bulk,
        export_columns,
        export_users,
        import_pick,
        import_preview,
        import_users,
        cancel_import,
        save_import_report,
    ])
}

fn main() -> std::process::ExitCode {
    let began = std::time::Instant::now();
    rendering::ensure_suitable();
    let args = match parse_args() {
        Ok(args) => args,
        Err(message) => {
            eprintln!("{message}");
            return std::process::ExitCode::from(2);
        }
    };
    match run(args, began) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("muster-desktop: {error}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn run(args: Args, began: std::time::Instant) -> Result<(), Box<dyn std::error::Error>> {
    let builder = specta_builder();
    // Outside the demo, the default profile starts opening before the window is made: the
    // first keychain call (the copy's key) mostly waits on D-Bus, about 130 ms that the
    // making of the window now overlaps. Its outcome is logged once logging is set up.
    let early = if args.demo {
        None
    } else {
        let dirs = Dirs::from_os()?;
        let console = Arc::new(Console::new(
            dirs.clone(),
            Vault::new(),
            TransportConfig::default(),
        )?);
        let (opened, startup) = tokio::sync::watch::channel(false);
        let opening = {
            let console = console.clone();
            tauri::async_runtime::spawn(async move { open_default(&console, opened, began).await })
        };
        Some((dirs, console, startup, opening))
    };
    tauri::Builder::default()
        // Dialogs open from Rust only: the capability grants the webview none of its commands.
        .plugin(tauri_plugin_dialog::init())
        .manage(transfer::ImportState::default())
        .invoke_handler(builder.invoke_handler())
        .setup(move |app| {
            let log_dir = app.path().app_log_dir().ok();
            logging::init(log_dir.as_deref());
            if rendering::compositing_disabled() {
                tracing::info!("WebKit paints without GPU compositing (see rendering.rs)");
            }
            let (dirs, console, startup) = match early {
                Some((dirs, console, startup, opening)) => {
                    tauri::async_runtime::spawn(async move {
                        match opening.await {
                            Ok(Ok(Some(opened_ms))) => {
                                tracing::info!(opened_ms, "the default profile is open");
                            }
                            Ok(Err(error)) => {
                                tracing::warn!(%error, "could not open the default profile");
                            }
                            _ => {}
                        }
                    });
                    (dirs, console, startup)
                }
                None => {
                    let base = match args.demo_data.clone() {
                        Some(dir) => dir,
                        None => app.path().app_local_data_dir()?.join("demo"),
                    };
                    let dirs = Dirs {
                        config: base.join("config"),
                        cache: base.join("cache"),
                    };
                    let vault = Vault::with_service(demo::VAULT_SERVICE);
                    let console = Arc::new(Console::new(
                        dirs.clone(),
                        vault,
                        TransportConfig::default(),
                    )?);
                    let (opened, startup) = tokio::sync::watch::channel(false);
                    // The demo's console polls its status until the demo signs in.
                    let _ = opened.send(true);
                    demo::start(app.handle().clone(), console.clone(), base);
                    (dirs, console, startup)
                }
            };
            app.manage(console.clone());
            app.manage(commands::RunInfo(commands::AppInfo {
                version: app.package_info().version.to_string(),
                demo: args.demo,
                log_dir: log_dir.map(|d| d.display().to_string()),
            }));
            window_state::restore(app.handle(), &dirs.config);
            app.manage(commands::Startup(startup));
            // How long the window and the webview took to make (the default profile has
            // been opening meanwhile).
            let setup_ms = began.elapsed().as_millis();
            tracing::info!(demo = args.demo, setup_ms, "Muster started");
            Ok(())
        })
        .on_window_event(window_state::on_event)
        .build(tauri::generate_context!())?
        .run(finish_saving_before_exit);
    Ok(())
}

/// The longest quitting waits for a sync's copy to be written.
const SAVE_WAIT: std::time::Duration = std::time::Duration::from_secs(60);

/// Quitting while a sync's copy is being written (the rows show before the file is
/// saved: about half a second at 100,000 users) waits for the write, then quits: the
/// copy the admin just synced is not lost. The file is replaced atomically, so a quit
/// that cannot wait leaves the previous copy.
fn finish_saving_before_exit(handle: &tauri::AppHandle, event: tauri::RunEvent) {
    use std::sync::atomic::{AtomicU8, Ordering};
    // Whether quitting is waiting for a write (another request meanwhile is held too), or
    // has waited (the exit it then asks for goes through).
    const IDLE: u8 = 0;
    const WAITING: u8 = 1;
    const WAITED: u8 = 2;
    static QUITTING: AtomicU8 = AtomicU8::new(IDLE);
    let tauri::RunEvent::ExitRequested { api, code, .. } = event else {
        return;
    };
    match QUITTING.load(Ordering::SeqCst) {
        WAITED => return,
        WAITING => return api.prevent_exit(),
        _ => {}
    }
    let Some(console) = handle.try_state::<Arc<Console>>() else {
        return;
    };
    if !console.saving() {
        return;
    }
    api.prevent_exit();
    QUITTING.store(WAITING, Ordering::SeqCst);
    let console = console.inner().clone();
    let handle = handle.clone();
    tauri::async_runtime::spawn(async move {
        tracing::info!("waiting for the offline copy to be written before quitting");
        if tokio::time::timeout(SAVE_WAIT, console.settled())
            .await
            .is_err()
        {
            tracing::warn!("the offline copy was still being written; quitting anyway");
        }
        QUITTING.store(WAITED, Ordering::SeqCst);
        handle.exit(code.unwrap_or(0));
    });
}

/// Opens the default profile (or the only one), says so through `opened` (the console's
/// first `status` waits for it), then checks its stored session with the server. The
/// milliseconds from `began` to the profile being open, when there was one to open.
async fn open_default(
    console: &Console,
    opened: tokio::sync::watch::Sender<bool>,
    began: std::time::Instant,
) -> Result<Option<u128>, muster_core::Error> {
    let profiles = console.profiles().await;
    let chosen = profiles
        .iter()
        .find(|p| p.is_default)
        .or_else(|| (profiles.len() == 1).then(|| &profiles[0]));
    let Some(profile) = chosen else {
        let _ = opened.send(true);
        return Ok(None);
    };
    let open = console.open_profile(&profile.name).await;
    let opened_ms = began.elapsed().as_millis();
    let _ = opened.send(true);
    open?;
    console.refresh().await?;
    Ok(Some(opened_ms))
}

#[cfg(test)]
mod tests {
    use super::*;

    const BINDINGS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../ui/src/lib/bindings.ts");

    /// The console's TypeScript bindings are generated from the commands and types here.
    /// This test fails when the committed file is stale; `UPDATE_BINDINGS=1` rewrites it.
    #[test]
    fn typescript_bindings_are_current() {
        let out = std::env::temp_dir().join(format!("muster-bindings-{}.ts", std::process::id()));
        specta_builder()
            .export(
                specta_typescript::Typescript::default()
                    .header("// Generated from src-tauri by `UPDATE_BINDINGS=1 cargo test -p muster-desktop`; do not edit.\n"),
                &out,
            )
            .expect("the bindings export");
        let fresh = std::fs::read_to_string(&out).expect("the exported bindings");
        std::fs::remove_file(&out).ok();
        if std::env::var_os("UPDATE_BINDINGS").is_some() {
            std::fs::write(BINDINGS, &fresh).expect("writing the bindings");
            return;
        }
        let committed = std::fs::read_to_string(BINDINGS).unwrap_or_default();
        assert!(
            committed == fresh,
            "ui/src/lib/bindings.ts is stale: run `UPDATE_BINDINGS=1 cargo test -p muster-desktop` and commit it"
        );
    }

    #[test]
    fn the_app_manifest_names_every_registered_command() {
        let text = std::fs::read_to_string(BINDINGS).unwrap_or_default();
        for name in NAMES {
            assert!(
                text.contains(&format!("(\"{name}\"")),
                "{name} is in command_names.rs but not registered"
            );
        }
        let registered =
            text.matches("__TAURI_INVOKE(\"").count() + text.matches("__TAURI_INVOKE<").count();
        assert_eq!(
            registered,
            NAMES.len(),
            "every registered command is in command_names.rs"
        );
    }
}
