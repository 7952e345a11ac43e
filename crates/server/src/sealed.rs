//! Secrets the server must read back (TOTP shared secrets) are kept sealed with a server
//! key that does not live in the database: a copy of `muster.db` alone (a backup, a stolen
//! disk image of the database) gives no second factor away.
//!
//! The key is 32 random bytes: `MUSTER_SERVER_KEY` (base64url) when set, otherwise the file
//! `server.key` in the data directory, created on first start with mode 0600. A sealed
//! value is `v1:` and base64url of a random 24-byte nonce followed by the
//! XChaCha20-Poly1305 ciphertext and tag; the associated data names what it belongs to
//! (`mfa:{org}:{user}`), so a sealed secret moved to another row does not open.

use std::path::Path;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use rand::RngCore;
use zeroize::Zeroizing;

/// The environment variable that holds the key (base64url of 32 bytes), for deployments
/// that keep it in a secret store rather than a file.
pub const KEY_ENV: &str = "MUSTER_SERVER_KEY";

/// The key file's name in the data directory.
pub const KEY_FILE: &str = "server.key";

const PREFIX: &str = "v1:";
const NONCE_BYTES: usize = 24;

/// The server key. Its `Debug` shows nothing of it.
pub struct ServerKey(Zeroizing<[u8; 32]>);

impl std::fmt::Debug for ServerKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ServerKey(<redacted>)")
    }
}

/// Why the key could not be had.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// `MUSTER_SERVER_KEY` is set but is not base64url of 32 bytes.
    #[error(
        "{KEY_ENV} must be 32 bytes in base64url (43 characters), such as the output of `head -c32 /dev/urandom | basenc --base64url`"
    )]
    BadEnv,
    /// The key file is there but is not 32 bytes.
    #[error(
        "{path} is not a server key (32 bytes); restore it from a backup, or move it away to make a new one (two-factor enrolments then have to be made again)"
    )]
    BadFile {
        /// The file.
        path: String,
    },
    /// The key file could not be read or written.
    #[error("cannot use the server key file {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The OS error.
        source: std::io::Error,
    },
}

impl ServerKey {
    /// A random key, for tests and for a first start.
    pub fn random() -> Self {
        let mut bytes = Zeroizing::new([0u8; 32]);
        rand::rng().fill_bytes(bytes.as_mut());
        Self(bytes)
    }

    /// The key from `MUSTER_SERVER_KEY`, else from `dir/server.key` (made, 0600, when
    /// there is none).
    ///
    /// # Errors
    ///
    /// [`KeyError`] when the variable or the file holds something else than a key, or the
    /// file cannot be read or written.
    pub fn load_or_create(dir: &Path) -> Result<Self, KeyError> {
        if let Ok(text) = std::env::var(KEY_ENV) {
            return Self::from_text(&text).ok_or(KeyError::BadEnv);
        }
        let path = dir.join(KEY_FILE);
        let io = |source| KeyError::Io {
            path: path.display().to_string(),
            source,
        };
        match std::fs::read(&path) {
            Ok(bytes) => {
                let bytes = Zeroizing::new(bytes);
                let key: [u8; 32] = bytes.as_slice().try_into().map_err(|_| KeyError::BadFile {
                    path: path.display().to_string(),
                })?;
                Ok(Self(Zeroizing::new(key)))
            }
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                let key = Self::random();
                write_private(&path, key.0.as_slice()).map_err(io)?;
                tracing::info!(path = %path.display(), "made a new server key");
                Ok(key)
            }
            Err(error) => Err(io(error)),
        }
    }

    /// A key from its base64url text; `None` unless it is 32 bytes.
    pub fn from_text(text: &str) -> Option<Self> {
        let bytes = Zeroizing::new(
            URL_SAFE_NO_PAD
                .decode(text.trim().trim_end_matches('='))
                .ok()?,
        );
        let key: [u8; 32] = bytes.as_slice().try_into().ok()?;
        Some(Self(Zeroizing::new(key)))
    }

    /// `plain` sealed for `context`.
    pub fn seal(&self, context: &str, plain: &[u8]) -> String {
        let mut nonce = [0u8; NONCE_BYTES];
        rand::rng().fill_bytes(&mut nonce);
        let cipher = XChaCha20Poly1305::new(self.0.as_ref().into());
        let payload = Payload {
            msg: plain,
            aad: context.as_bytes(),
        };
        // Encryption fails only for messages of gigabytes; a TOTP secret is 32 characters.
        let sealed = cipher
            .encrypt(XNonce::from_slice(&nonce), payload)
            .unwrap_or_default();
        let mut bytes = nonce.to_vec();
        bytes.extend_from_slice(&sealed);
        format!("{PREFIX}{}", URL_SAFE_NO_PAD.encode(bytes))
    }

    /// What `sealed` holds, if it was sealed for `context` with this key.
    pub fn open(&self, context: &str, sealed: &str) -> Option<Zeroizing<Vec<u8>>> {
        let bytes = URL_SAFE_NO_PAD.decode(sealed.strip_prefix(PREFIX)?).ok()?;
        if bytes.len() <= NONCE_BYTES {
            return None;
        }
        let (nonce, body) = bytes.split_at(NONCE_BYTES);
        let cipher = XChaCha20Poly1305::new(self.0.as_ref().into());
        let payload = Payload {
            msg: body,
            aad: context.as_bytes(),
        };
        cipher
            .decrypt(XNonce::from_slice(nonce), payload)
            .ok()
            .map(Zeroizing::new)
    }
}

/// Whether `stored` is a sealed value (not a plain one from before sealing).
pub fn is_sealed(stored: &str) -> bool {
    stored.starts_with(PREFIX)
}

#[cfg(unix)]
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

#[cfg(not(unix))]
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    #[test]
    fn a_sealed_secret_opens_only_with_its_key_and_context() {
        let key = ServerKey::random();
        let sealed = key.seal("mfa:acme:u1", b"JBSWY3DPEHPK3PXP");
        assert!(is_sealed(&sealed));
        assert!(!sealed.contains("JBSWY3DPEHPK3PXP"));
        assert_eq!(
            key.open("mfa:acme:u1", &sealed).unwrap().as_slice(),
            b"JBSWY3DPEHPK3PXP"
        );
        assert!(key.open("mfa:acme:u2", &sealed).is_none(), "another row");
        assert!(
            ServerKey::random().open("mfa:acme:u1", &sealed).is_none(),
            "another key"
        );
        assert_ne!(
            sealed,
            key.seal("mfa:acme:u1", b"JBSWY3DPEHPK3PXP"),
            "random nonces"
        );
        assert!(key.open("mfa:acme:u1", "v1:AAAA").is_none(), "too short");
    }

    #[test]
    fn the_key_file_is_made_private_once_and_read_back() {
        let dir = std::env::temp_dir().join(format!("muster-key-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let first = ServerKey::load_or_create(&dir).unwrap();
        let sealed = first.seal("c", b"secret");
        let again = ServerKey::load_or_create(&dir).unwrap();
        assert_eq!(again.open("c", &sealed).unwrap().as_slice(), b"secret");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.join(KEY_FILE))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        std::fs::write(dir.join(KEY_FILE), b"short").unwrap();
        assert!(matches!(
            ServerKey::load_or_create(&dir),
            Err(KeyError::BadFile { .. })
        ));
        std::fs::remove_dir_all(&dir).unwrap();
        assert!(ServerKey::from_text(&URL_SAFE_NO_PAD.encode([7u8; 32])).is_some());
        assert!(ServerKey::from_text("not a key").is_none());
        assert_eq!(format!("{first:?}"), "ServerKey(<redacted>)");
    }
}
