//! What Muster's tests and benchmarks run against, in one place: the reference server in
//! this process ([`server`]) or as its own process ([`process`]), the fault-injecting proxy
//! ([`proxy`]), scim2-server as the independent provider ([`scim2`]), a signed-in desktop
//! [`console`], temporary directories ([`dirs`]) and the small helpers every benchmark
//! needs ([`bench`]). Not published; only tests, benchmarks and the e2e harness use it.
//!
//! Everything here panics with a message on failure: a fixture that cannot be set up is a
//! failed test, said plainly.

#![deny(missing_docs)]
#![allow(clippy::unwrap_used, clippy::expect_used)]

pub mod bench;
pub mod console;
pub mod dirs;
pub mod process;
pub mod proxy;
pub mod scim2;
pub mod server;

pub use dirs::TempDir;
pub use server::{Muster, TestServer};

/// The demo password: every account the demo seed creates signs in with it. Public, and it
/// guards only generated data.
pub const PASSWORD: &str = muster_server::demo::DEMO_PASSWORD;

/// The repository's root directory.
pub fn workspace() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A free loopback port (bound, then released for the caller to bind).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .expect("a free loopback port")
}
