//! Tauri's build step, with an app manifest naming every command: the capability file
//! then grants the main window exactly these and nothing else.

include!("src/command_names.rs");

fn main() {
    let manifest = tauri_build::AppManifest::new().commands(NAMES);
    if let Err(error) =
        tauri_build::try_build(tauri_build::Attributes::new().app_manifest(manifest))
    {
        // A build script reports by failing.
        panic!("the Tauri build step failed: {error:#}");
    }
}
