//! `tracing` to a daily rolling file in the OS log dir (and stderr). Nothing logged
//! carries a secret: core never logs tokens or passwords, its error texts mask them, and
//! as a second line every log line passes through [`muster_core::error::redact`] on its
//! way out, so an `Authorization` header, a bearer token, a Muster token or the value
//! of a password-like field that a library logs at trace level is masked too.

use std::io::{self, Write};
use std::path::Path;

use muster_core::error::redact;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

/// Starts logging to `dir` (rolled daily, a week kept) when given, else stderr only.
pub fn init(dir: Option<&Path>) {
    let filter = EnvFilter::try_from_env("MUSTER_LOG")
        .unwrap_or_else(|_| EnvFilter::new("info,tao=warn,wry=warn"));
    let stderr = tracing_subscriber::fmt::layer().with_writer(Redacting(io::stderr));
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
            .with_writer(Redacting(writer))
    });
    // A second init (tests) is harmless.
    let _ = tracing_subscriber::registry()
        .with(filter)
        .with(stderr)
        .with(file_layer)
        .try_init();
}

/// A log destination that masks secrets in what is written to it. The formatter writes
/// each event whole, in one call, so a secret is never split across two writes.
struct Redacting<M>(M);

impl<'a, M: MakeWriter<'a>> MakeWriter<'a> for Redacting<M> {
    type Writer = RedactingWriter<M::Writer>;

    fn make_writer(&'a self) -> Self::Writer {
        RedactingWriter(self.0.make_writer())
    }
}

struct RedactingWriter<W>(W);

impl<W: Write> Write for RedactingWriter<W> {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        let text = String::from_utf8_lossy(bytes);
        self.0.write_all(redact(&text).as_bytes())?;
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.0.flush()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;

    /// Everything logged, in memory.
    #[derive(Clone, Default)]
    struct Buffer(Arc<Mutex<Vec<u8>>>);

    impl Write for Buffer {
        fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }

        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn log_lines_mask_authorization_headers_tokens_and_passwords() {
        let buffer = Buffer::default();
        let sink = buffer.clone();
        let subscriber = tracing_subscriber::registry().with(
            tracing_subscriber::fmt::layer()
                .with_ansi(false)
                .with_writer(Redacting(move || sink.clone())),
        );
        tracing::subscriber::with_default(subscriber, || {
            // As an HTTP library logs a request's headers, and as a careless line would.
            tracing::trace!(
                headers = ?[("authorization", "Bearer opaque-provider-token")],
                "sending request to /scim/v2/Users"
            );
            tracing::debug!(
                "refresh answered {{\"accessToken\":\"mst_at_AAAA1111\",\"refreshToken\":\"mst_rt_BBBB2222\"}}"
            );
            tracing::info!(password = "Correct-Horse-7", "set password for 42 users");
            tracing::warn!("sign-in body: email=avery@example.com&password=Battery-Staple-9");
        });
        let logged = String::from_utf8(buffer.0.lock().unwrap().clone()).unwrap();
        for secret in [
            "opaque-provider-token",
            "mst_at_AAAA1111",
            "mst_rt_BBBB2222",
            "Correct-Horse-7",
            "Battery-Staple-9",
        ] {
            assert!(!logged.contains(secret), "{secret} in the log:\n{logged}");
        }
        // The rest of each line is still there to read.
        for kept in [
            "sending request to /scim/v2/Users",
            "refresh answered",
            "set password for 42 users",
            "avery@example.com",
        ] {
            assert!(
                logged.contains(kept),
                "{kept} missing from the log:\n{logged}"
            );
        }
        assert_eq!(logged.matches("<redacted>").count(), 5, "{logged}");
    }
}
