//! `tracing` to a daily rolling file in the OS log dir (and stderr). Nothing logged
//! carries a secret: core never logs tokens or passwords, and its error texts mask them.

use std::path::Path;

use tracing_subscriber::EnvFilter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

/// Starts logging to `dir` (rolled daily, a week kept) when given, else stderr only.
pub fn init(dir: Option<&Path>) {
    let filter = EnvFilter::try_from_env("MUSTER_LOG")
        .unwrap_or_else(|_| EnvFilter::new("info,tao=warn,wry=warn"));
    let stderr = tracing_subscriber::fmt::layer().with_writer(std::io::stderr);
    let file = dir.and_then(|dir| {
        std::fs::create_dir_all(dir).ok()?;
        tracing_appender::rolling::Builder::new()
            .rotation(tracing_appender::rolling::Rotation::DAILY)
            .filename_prefix("muster")
            .filename_suffix("log")
            .max_log_files(7)
            .build(dir)
            .ok()
    });
    let file_layer = file.map(|writer| {
        tracing_subscriber::fmt::layer()
            .with_ansi(false)
            .with_writer(writer)
    });
    // A second init (tests) is harmless.
    let _ = tracing_subscriber::registry()
        .with(filter)
        .with(stderr)
        .with(file_layer)
        .try_init();
}
