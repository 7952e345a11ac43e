//! Remembers the main window's size and position across runs (`window.json` in the config
//! dir). A missing or unreadable file just means the default size, centred.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};
use tauri::{AppHandle, Manager, PhysicalPosition, PhysicalSize, Window, WindowEvent};

const FILE: &str = "window.json";

static PATH: OnceLock<PathBuf> = OnceLock::new();

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
struct Geometry {
    x: i32,
    y: i32,
    width: u32,
    height: u32,
    maximized: bool,
}

/// Applies the saved geometry to the main window and shows it.
pub fn restore(app: &AppHandle, config_dir: &Path) {
    let path = config_dir.join(FILE);
    let _ = PATH.set(path.clone());
    let Some(window) = app.get_webview_window("main") else {
        return;
    };
    let saved = std::fs::read(&path)
        .ok()
        .and_then(|bytes| serde_json::from_slice::<Geometry>(&bytes).ok())
        .filter(|g| g.width >= 400 && g.height >= 300);
    match saved {
        Some(geometry) => {
            let _ = window.set_size(PhysicalSize::new(geometry.width, geometry.height));
            let _ = window.set_position(PhysicalPosition::new(geometry.x, geometry.y));
            if geometry.maximized {
                let _ = window.maximize();
            }
        }
        None => {
            let _ = window.center();
        }
    }
    let _ = window.show();
}

/// Saves the geometry when the window is closed.
pub fn on_event(window: &Window, event: &WindowEvent) {
    if !matches!(event, WindowEvent::CloseRequested { .. }) || window.label() != "main" {
        return;
    }
    let (Ok(position), Ok(size), Some(path)) =
        (window.outer_position(), window.inner_size(), PATH.get())
    else {
        return;
    };
    let geometry = Geometry {
        x: position.x,
        y: position.y,
        width: size.width,
        height: size.height,
        maximized: window.is_maximized().unwrap_or(false),
    };
    if let Some(dir) = path.parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    if let Ok(bytes) = serde_json::to_vec(&geometry)
        && let Err(error) = std::fs::write(path, bytes)
    {
        tracing::warn!(%error, "could not remember the window's size and position");
    }
}
