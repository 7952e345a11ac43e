//! The credential vault: tokens, API keys and the cache key live in the OS keychain —
//! the Secret Service (GNOME Keyring, KWallet) on Linux, the Keychain on macOS, Credential
//! Manager on Windows — through `keyring` 4, whose default `v1` store picks the native
//! store of each OS.
//!
//! Every entry is namespaced by the app id (the keychain "service", `app.muster.Muster`)
//! and by profile (the "user", `profile:{profile}:{kind}`), so two profiles never see each
//! other's secrets. When no keychain can be used the vault answers
//! [`Error::KeychainUnavailable`] with what to do about it; it never falls back to storing
//! a secret anywhere else.
//!
//! The calls block (the keychain is a D-Bus or OS service): from async code, call them on a
//! blocking thread (`tokio::task::spawn_blocking`).
//!
//! keyring connects once per process, and on Linux that connection holds a session with
//! the Secret Service daemon. When the daemon goes away and comes back (it crashed, was
//! restarted, or was not running yet when Muster first asked), the old connection is dead
//! for good. So a call that fails on the platform connects afresh and tries once more,
//! and the vault recovers as soon as the keychain does.

use crate::auth::Tokens;
use crate::error::{Error, redact};
use crate::secret::Secret;

/// The keychain service name (the app id) entries are stored under.
pub const SERVICE: &str = "app.muster.Muster";

/// The largest secret the vault stores, in bytes. Windows Credential Manager caps a secret
/// at 2,560 bytes; staying well under keeps every OS's store happy.
pub const MAX_SECRET_BYTES: usize = 1024;

/// Which secret of a profile an entry holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SecretKind {
    /// The session's bearer token.
    AccessToken,
    /// The session's refresh token.
    RefreshToken,
    /// A long-lived API token (or another provider's bearer token).
    ApiToken,
    /// The key that encrypts the profile's offline cache.
    CacheKey,
}

impl SecretKind {
    /// Every kind, for removing all of a profile's entries.
    pub const ALL: [SecretKind; 4] = [
        SecretKind::AccessToken,
        SecretKind::RefreshToken,
        SecretKind::ApiToken,
        SecretKind::CacheKey,
    ];

    /// The name used in the entry's key.
    pub fn as_str(self) -> &'static str {
        match self {
            SecretKind::AccessToken => "AccessToken",
            SecretKind::RefreshToken => "RefreshToken",
            SecretKind::ApiToken => "ApiToken",
            SecretKind::CacheKey => "CacheKey",
        }
    }
}

/// The OS keychain, under one service name; bound to an origin ([`Vault::bound_to`]),
/// it keeps each secret with the origin it belongs to and never gives one back to
/// another.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Vault {
    service: String,
    origin: Option<String>,
}

/// How a stored value names its origin: `muster-origin {origin}` on the first line, the
/// secret after it.
const ORIGIN_TAG: &str = "muster-origin ";

impl Default for Vault {
    fn default() -> Self {
        Self::new()
    }
}

impl Vault {
    /// The app's vault (service [`SERVICE`]).
    pub fn new() -> Self {
        Self::with_service(SERVICE)
    }

    /// A vault under another service name, so tests never touch the app's entries.
    pub fn with_service(name: impl Into<String>) -> Self {
        Self {
            service: name.into(),
            origin: None,
        }
    }

    /// This vault for the secrets of one connection's origin
    /// ([`crate::connection::Connection::origin`]): what it stores is kept with the origin,
    /// and what it loads is given back only when stored for the same one. An entry of
    /// another origin (a profile name reused for another server, an earlier install) or
    /// one stored before origins were kept is deleted on sight, not used.
    pub fn bound_to(&self, origin: impl Into<String>) -> Self {
        Self {
            service: self.service.clone(),
            origin: Some(origin.into()),
        }
    }

    /// The keychain service name.
    pub fn service(&self) -> &str {
        &self.service
    }

    /// The key (keychain "user") of a profile's entry: `profile:{profile}:{kind}`.
    pub fn key(profile: &str, kind: SecretKind) -> String {
        format!("profile:{profile}:{}", kind.as_str())
    }

    /// Stores a secret, replacing any previous one. Secrets are limited to
    /// [`MAX_SECRET_BYTES`]; an empty secret is refused.
    pub fn store(&self, profile: &str, kind: SecretKind, secret: &Secret) -> Result<(), Error> {
        if secret.is_empty() {
            return Err(Error::invalid(
                "secret",
                format!("An empty {} cannot be stored.", describe(kind)),
            ));
        }
        let size = secret.expose().len();
        if size > MAX_SECRET_BYTES {
            return Err(Error::invalid(
                "secret",
                format!(
                    "The {} is {size} bytes; the keychain holds at most {MAX_SECRET_BYTES} \
                     bytes per secret.",
                    describe(kind)
                ),
            ));
        }
        Self::check_profile(profile)?;
        self.store_at(&Self::key(profile, kind), kind, secret)
    }

    /// Stores `secret` under `key`, with this vault's origin when it has one.
    fn store_at(&self, key: &str, kind: SecretKind, secret: &Secret) -> Result<(), Error> {
        let value = match &self.origin {
            Some(origin) => Secret::new(format!("{ORIGIN_TAG}{origin}\n{}", secret.expose())),
            None => secret.clone(),
        };
        self.with_entry(key, |entry| entry.set_password(value.expose()))
            .map_err(|error| keychain_error(error, "store", kind))
    }

    /// The secret, or `None` when there is none (or, bound to an origin, none of it).
    pub fn load(&self, profile: &str, kind: SecretKind) -> Result<Option<Secret>, Error> {
        Self::check_profile(profile)?;
        self.load_at(&Self::key(profile, kind), kind)
    }

    /// The secret under `key` (see [`Vault::load`]).
    fn load_at(&self, key: &str, kind: SecretKind) -> Result<Option<Secret>, Error> {
        let value = match self.with_entry(key, keyring_core::Entry::get_password) {
            Ok(value) => Secret::new(value),
            Err(keyring::Error::NoEntry) => return Ok(None),
            Err(error) => return Err(keychain_error(error, "read", kind)),
        };
        let (stored_origin, secret) = match value.expose().strip_prefix(ORIGIN_TAG) {
            Some(tagged) => match tagged.split_once('\n') {
                Some((origin, secret)) => (Some(origin.to_owned()), Secret::new(secret)),
                None => (None, Secret::new("")),
            },
            None => (None, value.clone()),
        };
        match &self.origin {
            None => Ok((!secret.is_empty()).then_some(secret)),
            Some(origin) if stored_origin.as_deref() == Some(origin.as_str()) => Ok(Some(secret)),
            Some(_) => {
                // Another server's (or an unlabelled, older) secret under this profile's
                // name: never presented here, and not left to be found again.
                tracing::info!(
                    kind = kind.as_str(),
                    "a stored secret of another origin was removed, not used"
                );
                self.delete_at(key, kind)?;
                Ok(None)
            }
        }
    }

    /// Deletes a secret; deleting one that is not there is fine.
    pub fn delete(&self, profile: &str, kind: SecretKind) -> Result<(), Error> {
        Self::check_profile(profile)?;
        self.delete_at(&Self::key(profile, kind), kind)
    }

    /// Deletes the secret under `key`; one that is not there is fine.
    fn delete_at(&self, key: &str, kind: SecretKind) -> Result<(), Error> {
        match self.with_entry(key, keyring_core::Entry::delete_credential) {
            Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
            // Several items match (written by another tool): delete them all.
            Err(keyring::Error::Ambiguous(entries)) => {
                for entry in entries {
                    match entry.delete_credential() {
                        Ok(()) | Err(keyring::Error::NoEntry) => {}
                        Err(error) => return Err(keychain_error(error, "delete", kind)),
                    }
                }
                Ok(())
            }
            Err(error) => Err(keychain_error(error, "delete", kind)),
        }
    }

    /// Deletes every secret of a profile (all [`SecretKind`]s).
    pub fn delete_profile(&self, profile: &str) -> Result<(), Error> {
        for kind in SecretKind::ALL {
            self.delete(profile, kind)?;
        }
        Ok(())
    }

    /// The key of the offline copy of organisation `org` a system admin opened through
    /// `profile`: `org-copy:{org}:{profile}`. Organisation ids hold no `:`, and no
    /// profile's key starts so, so it cannot be any profile's (a profile may be called
    /// `ops@beta`).
    pub fn org_copy_key(profile: &str, org: &str) -> String {
        format!("org-copy:{org}:{profile}")
    }

    /// The key of organisation `org`'s offline copy opened through `profile`.
    pub fn load_org_copy_key(&self, profile: &str, org: &str) -> Result<Option<Secret>, Error> {
        Self::check_profile(profile)?;
        self.load_at(&Self::org_copy_key(profile, org), SecretKind::CacheKey)
    }

    /// Stores the key of organisation `org`'s offline copy opened through `profile`.
    pub fn store_org_copy_key(&self, profile: &str, org: &str, key: &Secret) -> Result<(), Error> {
        Self::check_profile(profile)?;
        self.store_at(&Self::org_copy_key(profile, org), SecretKind::CacheKey, key)
    }

    /// Deletes the key of organisation `org`'s offline copy opened through `profile`.
    pub fn delete_org_copy_key(&self, profile: &str, org: &str) -> Result<(), Error> {
        Self::check_profile(profile)?;
        self.delete_at(&Self::org_copy_key(profile, org), SecretKind::CacheKey)
    }

    /// Stores a session's tokens. A session without a refresh token deletes any stored one,
    /// so a stale refresh token never outlives its session.
    pub fn store_tokens(&self, profile: &str, tokens: &Tokens) -> Result<(), Error> {
        self.store(profile, SecretKind::AccessToken, &tokens.access)?;
        match &tokens.refresh {
            Some(refresh) => self.store(profile, SecretKind::RefreshToken, refresh),
            None => self.delete(profile, SecretKind::RefreshToken),
        }
    }

    /// The stored session, or `None` when there is no access token.
    pub fn load_tokens(&self, profile: &str) -> Result<Option<Tokens>, Error> {
        let Some(access) = self.load(profile, SecretKind::AccessToken)? else {
            return Ok(None);
        };
        let refresh = self.load(profile, SecretKind::RefreshToken)?;
        Ok(Some(Tokens { access, refresh }))
    }

    /// Refuses what cannot be a profile name (nothing would find its entries again).
    fn check_profile(profile: &str) -> Result<(), Error> {
        if profile.trim().is_empty() || profile.chars().any(char::is_control) {
            return Err(Error::invalid(
                "profile",
                format!("'{}' is not a profile name.", profile.escape_debug()),
            ));
        }
        Ok(())
    }

    /// Runs `call` on the entry; when the keychain connection has failed, once more on a
    /// fresh connection.
    fn with_entry<T>(
        &self,
        key: &str,
        call: impl Fn(&keyring_core::Entry) -> keyring::Result<T>,
    ) -> keyring::Result<T> {
        let first = default_store()
            .and_then(|()| keyring_core::Entry::new(&self.service, key))
            .and_then(|entry| call(&entry));
        // `NoDefaultStore` is not retried: `default_store` has just tried to connect.
        match first {
            Err(keyring::Error::PlatformFailure(_)) if reconnect() => {
                call(&keyring_core::Entry::new(&self.service, key)?)
            }
            other => other,
        }
    }
}

/// Makes sure a default store is set: keyring's native one, made on first use.
fn default_store() -> keyring::Result<()> {
    if keyring_core::get_default_store().is_some() {
        return Ok(());
    }
    match keyring::Entry::store_status() {
        Ok(()) => Ok(()),
        // The first try failed (no keychain then); keyring never tries again by itself.
        Err(_) if reconnect() => Ok(()),
        Err(_) => Err(keyring::Error::NoDefaultStore),
    }
}

/// Connects to the Secret Service afresh and makes that the default store. Whether it
/// could (no daemon, no D-Bus: no).
#[cfg(all(
    unix,
    not(any(target_os = "macos", target_os = "ios", target_os = "android"))
))]
fn reconnect() -> bool {
    match zbus_secret_service_keyring_store::Store::new() {
        Ok(store) => {
            tracing::info!("connected to the Secret Service again");
            keyring_core::set_default_store(store);
            true
        }
        Err(error) => {
            tracing::debug!(%error, "the Secret Service cannot be reached");
            false
        }
    }
}

/// The macOS Keychain and Windows Credential Manager are not connections that go stale.
#[cfg(not(all(
    unix,
    not(any(target_os = "macos", target_os = "ios", target_os = "android"))
)))]
fn reconnect() -> bool {
    false
}

fn describe(kind: SecretKind) -> &'static str {
    match kind {
        SecretKind::AccessToken => "access token",
        SecretKind::RefreshToken => "refresh token",
        SecretKind::ApiToken => "API token",
        SecretKind::CacheKey => "cache key",
    }
}

/// The steps that make a keychain reachable, for this OS.
fn unreachable_fix() -> &'static str {
    if cfg!(target_os = "macos") {
        "Open Keychain Access, make sure your login keychain exists and is unlocked, and \
         allow Muster to use it."
    } else if cfg!(target_os = "windows") {
        "Muster keeps credentials in Credential Manager: sign in with a regular (not \
         temporary) user profile and make sure the Credential Manager service is running."
    } else {
        "Install a Secret Service provider such as GNOME Keyring or KWallet and sign in to a \
         desktop session, which starts and unlocks it. Over SSH or in a container, run Muster \
         under `dbus-run-session` with `gnome-keyring-daemon --unlock` started."
    }
}

/// The steps that unlock a keychain that refused access, for this OS.
fn locked_fix() -> &'static str {
    if cfg!(target_os = "macos") {
        "Unlock your login keychain in Keychain Access and allow Muster to use it."
    } else if cfg!(target_os = "windows") {
        "Sign in with your own user profile and try again."
    } else {
        "Unlock the login keyring (sign in to the desktop session, or unlock it in Seahorse \
         or KWallet Manager) and try again."
    }
}

const NO_PLAINTEXT: &str = "Muster never stores credentials outside the keychain.";

/// Maps a keyring failure to the engine's error. The keyring's own text is used only for
/// failures that carry no secret (platform and access errors), and even then redacted.
fn keychain_error(error: keyring::Error, action: &str, kind: SecretKind) -> Error {
    let what = describe(kind);
    let unavailable = |message: &str, fix: &str, detail: Option<String>| {
        let detail = detail.map(|text| format!("Cannot {action} the {what}: {}", redact(&text)));
        tracing::warn!(
            action,
            kind = kind.as_str(),
            detail = detail.as_deref().unwrap_or("none"),
            "keychain unavailable"
        );
        Error::KeychainUnavailable {
            message: message.to_owned(),
            fix: format!("{fix} {NO_PLAINTEXT}"),
            detail,
        }
    };
    const NONE: &str = "No keychain is running.";
    let locked = if cfg!(target_os = "windows") {
        "Credential Manager refused access."
    } else {
        "The keychain is locked."
    };
    match error {
        keyring::Error::NoDefaultStore => {
            let detail = match keyring::Entry::store_status() {
                Err(cause) => cause.to_string(),
                Ok(()) => "no credential store is set up".to_owned(),
            };
            unavailable(NONE, unreachable_fix(), Some(detail))
        }
        keyring::Error::PlatformFailure(cause) => {
            unavailable(NONE, unreachable_fix(), Some(cause.to_string()))
        }
        keyring::Error::NoStorageAccess(cause) => {
            unavailable(locked, locked_fix(), Some(cause.to_string()))
        }
        keyring::Error::NotSupportedByStore(reason) => {
            unavailable(NONE, unreachable_fix(), Some(reason))
        }
        keyring::Error::Invalid(parameter, _) if parameter == "platform" => {
            unavailable(NONE, unreachable_fix(), None)
        }
        // The rest are about one entry. Their payloads can hold secret bytes: never shown.
        keyring::Error::NoEntry => Error::NotFound {
            message: format!("There is no stored {what}."),
        },
        keyring::Error::BadEncoding(_) | keyring::Error::BadDataFormat(..) => Error::Validation {
            message: format!(
                "The stored {what} is unreadable; remove the profile's credentials and sign in \
                 again."
            ),
            scim_type: None,
            fields: Vec::new(),
        },
        keyring::Error::Ambiguous(_) => Error::Validation {
            message: format!(
                "Several keychain entries claim to be the {what}; remove the profile's \
                 credentials and sign in again."
            ),
            scim_type: None,
            fields: Vec::new(),
        },
        keyring::Error::TooLong(attribute, limit) => Error::invalid(
            "secret",
            format!("The keychain refused the {what}: its {attribute} is over {limit} bytes."),
        ),
        other => Error::Validation {
            message: format!(
                "The keychain refused to {action} the {what}: {}",
                redact(&other.to_string())
            ),
            scim_type: None,
            fields: Vec::new(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_are_namespaced_by_profile_and_kind() {
        assert_eq!(
            Vault::key("acme", SecretKind::AccessToken),
            "profile:acme:AccessToken"
        );
        assert_eq!(Vault::new().service(), "app.muster.Muster");
    }

    #[test]
    fn unusable_keychain_errors_explain_and_never_leak_secret_bytes() {
        let error = keychain_error(
            keyring::Error::NoStorageAccess("locked".into()),
            "store",
            SecretKind::ApiToken,
        );
        assert!(
            matches!(error, Error::KeychainUnavailable { .. }),
            "a locked keychain is unavailable: {error}"
        );
        let bad = keychain_error(
            keyring::Error::BadEncoding(b"mst_at_secret-bytes".to_vec()),
            "read",
            SecretKind::AccessToken,
        );
        assert!(
            !bad.to_string().contains("secret-bytes"),
            "a malformed entry's bytes never reach a message: {bad}"
        );
    }
}
