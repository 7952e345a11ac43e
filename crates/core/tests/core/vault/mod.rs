//! The credential vault against a real Secret Service, and profiles.
//!
//! These tests need an unlocked Secret Service on the session bus: `scripts/test` runs them
//! (`vault::`) under `dbus-run-session` with `gnome-keyring-daemon --unlock`, apart from
//! the main run. The failure cases (no bus, a bus with no provider, a locked keychain) run
//! a child process of this test binary in an environment built for each.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support {
    use std::path::{Path, PathBuf};
    use std::sync::atomic::{AtomicU32, Ordering};

    use muster_core::vault::Vault;

    pub use muster_test_support::TempDir;

    /// A vault under a service name of its own, so tests never meet each other's entries.
    pub fn vault() -> Vault {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        Vault::with_service(format!(
            "app.muster.Muster.test.{}.{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ))
    }

    /// Every file under `dir` whose bytes contain `needle`.
    pub fn files_containing(dir: &Path, needle: &str) -> Vec<PathBuf> {
        let mut found = Vec::new();
        let mut stack = vec![dir.to_path_buf()];
        while let Some(dir) = stack.pop() {
            let Ok(entries) = std::fs::read_dir(&dir) else {
                continue;
            };
            for entry in entries.flatten() {
                let path = entry.path();
                if path.is_dir() {
                    stack.push(path);
                } else if std::fs::read(&path).is_ok_and(|bytes| {
                    bytes
                        .windows(needle.len())
                        .any(|window| window == needle.as_bytes())
                }) {
                    found.push(path);
                }
            }
        }
        found
    }
}

mod keychain;

/// No usable keychain: each case runs `probe` (below) in a child process whose session
/// bus is broken in one way, and checks the answer.
mod unavailable;

mod profiles;

/// Credentials belong to the origin they were issued by (scheme, host, port,
/// organisation): a profile name reused for another server never sends the first
/// server's token there, and pointing a connection elsewhere ends its session and copy.
mod origins;
