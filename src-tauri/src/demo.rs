//! Demo mode: the reference server in this process on 127.0.0.1, seeded once with the demo
//! organisations, and the console signed in to the 20,000-person one as its admin. Its
//! profiles, cache and keychain entries are kept apart from the real ones.

use std::path::PathBuf;
use std::sync::Arc;

use muster_core::Secret;
use muster_core::console::Console;
use muster_core::console::view::{ProfileInput, ServerKindView};
use muster_server::demo::{DEMO_ORGS, DEMO_PASSWORD};
use tauri::{AppHandle, Manager};

/// The keychain service of demo secrets (apart from real profiles').
pub const VAULT_SERVICE: &str = "app.muster.Muster.demo";

/// The organisation the demo opens: the large one.
const ORG: usize = 1;

/// The demo server, kept alive as long as the app.
struct Running(#[allow(dead_code)] muster_server::demo::InProcess);

/// Starts the server and signs in, in the background; the console shows "starting" until
/// the profile is open.
pub fn start(app: AppHandle, console: Arc<Console>, base: PathBuf) {
    tauri::async_runtime::spawn(async move {
        if let Err(error) = run(&app, &console, base).await {
            tracing::error!(%error, "the demo could not start");
        }
    });
}

async fn run(
    app: &AppHandle,
    console: &Console,
    base: PathBuf,
) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let server = muster_server::demo::serve_in_process(&base.join("server"), 0).await?;
    let url = server.url();
    tracing::info!(%url, "demo server listening");
    app.manage(Running(server));
    let spec = DEMO_ORGS[ORG];
    let name = "Demo";
    let exists = console.profiles().await.iter().any(|p| p.name == name);
    console
        .save_profile(
            ProfileInput {
                name: name.to_owned(),
                kind: ServerKindView::Muster,
                url,
                org: Some(spec.id.to_owned()),
                make_default: true,
            },
            exists,
        )
        .await?;
    console.open_profile(name).await?;
    console
        .sign_in(
            &format!("admin@{}", spec.domain),
            Secret::new(DEMO_PASSWORD),
        )
        .await?;
    Ok(())
}
