//! How the webview paints on Linux machines without a GPU.
//!
//! WebKitGTK composites with OpenGL. Without a GPU (virtual machines, remote desktops, Xvfb)
//! that OpenGL is Mesa's software rasteriser, and each changed frame of the users table took
//! 100–250 ms to reach the screen; WebKit's non-composited painting shows the same frame
//! within 10 ms (BENCHMARKS.md, "keystroke to rows"). So when the machine has no GPU render
//! node, the app starts itself again with WebKit's `WEBKIT_DISABLE_COMPOSITING_MODE=1`.
//!
//! WebKit reads that variable once, when its first web process starts, and the policy
//! cannot be switched on a live page (the web process crashes), so it has to be in the
//! environment from the start; `exec` (same process id, same arguments) puts it there
//! without `unsafe` environment writes. Someone who has set the variable either way keeps
//! their choice, which also stops the restart from repeating.

/// The variable WebKitGTK reads.
const VARIABLE: &str = "WEBKIT_DISABLE_COMPOSITING_MODE";

/// Whether WebKit was told to paint without compositing (by us or by the person).
pub fn compositing_disabled() -> bool {
    std::env::var_os(VARIABLE).is_some()
}

/// On a Linux machine without a GPU, replaces this process with itself run without
/// compositing; returns only when nothing needs changing (or the restart failed, which is
/// logged to stderr: the app then runs as it is, only slower to paint).
pub fn ensure_suitable() {
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::process::CommandExt;

        if compositing_disabled() || has_gpu() {
            return;
        }
        let Ok(exe) = std::env::current_exe() else {
            return;
        };
        let error = std::process::Command::new(exe)
            .args(std::env::args_os().skip(1))
            .env(VARIABLE, "1")
            .exec();
        eprintln!("muster-desktop: could not restart without GPU compositing: {error}");
    }
}

/// Whether a GPU render node (`/dev/dri/renderD*`) is present.
#[cfg(target_os = "linux")]
fn has_gpu() -> bool {
    std::fs::read_dir("/dev/dri").is_ok_and(|entries| {
        entries
            .flatten()
            .any(|e| e.file_name().to_string_lossy().starts_with("renderD"))
    })
}
