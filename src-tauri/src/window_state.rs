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
    let screen = window
        .current_monitor()
        .ok()
        .flatten()
        .or_else(|| window.primary_monitor().ok().flatten())
        .map(|monitor| Screen::of(&monitor));
    match saved {
        Some(geometry) => {
            let _ = window.set_size(PhysicalSize::new(geometry.width, geometry.height));
            // A saved place on a screen that has since gone is a window nobody can see.
            let on_screen = window.available_monitors().is_ok_and(|monitors| {
                monitors
                    .iter()
                    .any(|monitor| Screen::of(monitor).holds_title_bar_at(geometry.x, geometry.y))
            });
            if on_screen {
                let _ = window.set_position(PhysicalPosition::new(geometry.x, geometry.y));
            } else if let Some(screen) = screen {
                let (x, y) = screen.centre(geometry.width, geometry.height);
                let _ = window.set_position(PhysicalPosition::new(x, y));
            }
            if geometry.maximized {
                let _ = window.maximize();
            }
        }
        None => {
            // Not `window.center()`: a window not yet shown has no size on some platforms
            // (GTK), so that puts its corner, not its middle, at the screen's centre.
            let configured = app
                .config()
                .app
                .windows
                .first()
                .map_or((1280.0, 800.0), |w| (w.width, w.height));
            if let Some(screen) = screen {
                let (width, height) = (
                    (configured.0 * screen.scale).round() as u32,
                    (configured.1 * screen.scale).round() as u32,
                );
                let (x, y) = screen.centre(width, height);
                let _ = window.set_position(PhysicalPosition::new(x, y));
            }
        }
    }
    let _ = window.show();
}

/// A monitor's place and size, in physical pixels.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Screen {
    x: i32,
    y: i32,
    width: u32,
    height: u32,
    scale: f64,
}

impl Screen {
    fn of(monitor: &tauri::Monitor) -> Self {
        Self {
            x: monitor.position().x,
            y: monitor.position().y,
            width: monitor.size().width,
            height: monitor.size().height,
            scale: monitor.scale_factor(),
        }
    }

    /// Whether a window whose top-left corner is at (`x`, `y`) has the start of its title
    /// bar (40 pixels in, the top row) on this screen, where it can be grabbed.
    fn holds_title_bar_at(&self, x: i32, y: i32) -> bool {
        let (x, y) = (i64::from(x) + 40, i64::from(y));
        let (left, top) = (i64::from(self.x), i64::from(self.y));
        (left..left + i64::from(self.width)).contains(&x)
            && (top..top + i64::from(self.height)).contains(&y)
    }

    /// Where a `width` × `height` window's top-left corner goes to sit in the middle of
    /// the screen; a window larger than the screen keeps its top-left corner on it.
    fn centre(&self, width: u32, height: u32) -> (i32, i32) {
        let offset = |screen: u32, window: u32| {
            i32::try_from(screen.saturating_sub(window) / 2).unwrap_or(0)
        };
        (
            self.x.saturating_add(offset(self.width, width)),
            self.y.saturating_add(offset(self.height, height)),
        )
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    const SCREEN: Screen = Screen {
        x: 1920,
        y: 0,
        width: 1280,
        height: 800,
        scale: 1.0,
    };

    #[test]
    fn a_window_goes_in_the_middle_of_its_screen() {
        assert_eq!(SCREEN.centre(960, 600), (1920 + 160, 100));
    }

    #[test]
    fn a_remembered_place_counts_only_if_the_title_bar_is_on_the_screen() {
        assert!(SCREEN.holds_title_bar_at(1920, 0));
        assert!(SCREEN.holds_title_bar_at(1900, 700));
        assert!(
            !SCREEN.holds_title_bar_at(0, 0),
            "on a screen that has gone"
        );
        assert!(
            !SCREEN.holds_title_bar_at(1920, -5),
            "title bar above the top"
        );
        assert!(!SCREEN.holds_title_bar_at(1920 + 1280, 10));
        assert!(
            !SCREEN.holds_title_bar_at(i32::MAX, i32::MAX),
            "a corrupt file"
        );
        assert!(!SCREEN.holds_title_bar_at(i32::MIN, i32::MIN));
    }

    #[test]
    fn a_window_as_large_as_the_screen_or_larger_keeps_its_corner_on_it() {
        assert_eq!(SCREEN.centre(1280, 800), (1920, 0));
        assert_eq!(SCREEN.centre(4000, 3000), (1920, 0));
    }
}
