//! The profile's encrypted offline cache (muster-core's [`Store`]): where it lives, its
//! key in the OS keychain, and keeping it up to date after `users list --all` and
//! `muster sync`.
//!
//! The cache file is `{profile}.cache` in the OS cache dir (`MUSTER_CACHE_DIR` overrides
//! it; tests use it), encrypted under a random 256-bit key kept in the keychain as the
//! profile's `CacheKey`. Without a reachable keychain nothing is cached: there is never a
//! plaintext fallback.

use std::path::PathBuf;

use muster_core::sync::{self, Store};
use muster_core::vault::{SecretKind, Vault};
use muster_core::{Client, Error, Secret};
use time::OffsetDateTime;
use zeroize::Zeroizing;

use crate::failure::Failure;

/// The directory cache files live in: `MUSTER_CACHE_DIR`, or the OS cache dir.
pub fn dir() -> Result<PathBuf, Failure> {
    if let Some(dir) = std::env::var_os("MUSTER_CACHE_DIR").filter(|d| !d.is_empty()) {
        return Ok(PathBuf::from(dir));
    }
    directories::ProjectDirs::from("app", "Muster", "Muster")
        .map(|dirs| dirs.cache_dir().to_path_buf())
        .ok_or_else(|| {
            Failure::Local(
                "Cannot find a cache directory (no home directory?); set MUSTER_CACHE_DIR."
                    .to_owned(),
            )
        })
}

/// The cache file of `profile`.
pub fn path(profile: &str) -> Result<PathBuf, Failure> {
    Ok(dir()?.join(format!("{profile}.cache")))
}

/// The profile's store. With `create`, a key is generated (and kept in the keychain) when
/// the profile has none yet; without, `Ok(None)` when there is no key.
pub fn store(vault: &Vault, profile: &str, create: bool) -> Result<Option<Store>, Failure> {
    let path = path(profile)?;
    if let Some(secret) = vault.load(profile, SecretKind::CacheKey)? {
        if let Some(key) = decode_key(secret.expose()) {
            return Ok(Some(Store::new(path, *key)));
        }
        // An unusable key: the cache it encrypted cannot be read either.
        if !create {
            return Ok(None);
        }
    } else if !create {
        return Ok(None);
    }
    let key = Zeroizing::new(rand::random::<[u8; 32]>());
    let encoded = Zeroizing::new(encode_key(&key));
    vault.store(
        profile,
        SecretKind::CacheKey,
        &Secret::new(encoded.as_str()),
    )?;
    // The old file (if any) was under another key.
    let _ = muster_core::cache::remove(&path);
    Ok(Some(Store::new(path, *key)))
}

fn encode_key(key: &[u8; 32]) -> String {
    key.iter().map(|b| format!("{b:02x}")).collect()
}

fn decode_key(text: &str) -> Option<Zeroizing<[u8; 32]>> {
    let bytes = text.as_bytes();
    if bytes.len() != 64 {
        return None;
    }
    let mut key = Zeroizing::new([0u8; 32]);
    for (i, pair) in bytes.chunks(2).enumerate() {
        let pair = std::str::from_utf8(pair).ok()?;
        key[i] = u8::from_str_radix(pair, 16).ok()?;
    }
    Some(key)
}

/// Syncs the profile's snapshot with the server and saves it.
pub async fn refresh(
    client: &Client,
    vault: &Vault,
    profile: &str,
) -> Result<sync::SyncReport, Failure> {
    let Some(store) = store(vault, profile, true)? else {
        return Err(Failure::Local("No cache key.".to_owned()));
    };
    let now = OffsetDateTime::now_utc();
    let (mut snapshot, _) = store.open(now);
    let report = sync::sync(client, &mut snapshot, now, |_| {}).await?;
    store.save(&snapshot)?;
    Ok(report)
}

/// Like [`refresh`] after a command that read everything: a cache that cannot be updated
/// does not fail the command. Without a keychain nothing is cached, silently (no
/// plaintext fallback); other failures are a warning on stderr.
pub async fn refresh_quietly(client: &Client, vault: &Vault, profile: &str) {
    match refresh(client, vault, profile).await {
        Ok(_) => {}
        Err(Failure::Core(explained))
            if matches!(explained.error, Error::KeychainUnavailable { .. }) => {}
        Err(failure) => eprintln!(
            "Warning: the offline copy was not updated: {}",
            failure.message()
        ),
    }
}

/// The cached snapshot for reading while offline, with its age.
pub fn read(vault: &Vault, profile: &str) -> Result<sync::Offline, Failure> {
    let Some(store) = store(vault, profile, false)? else {
        return Err(Error::Storage {
            message: "There is no offline copy of this profile's data yet; run `muster \
                      users list --all` or `muster sync` while the server can be reached."
                .to_owned(),
        }
        .into());
    };
    Ok(sync::offline_read(&store, OffsetDateTime::now_utc())?)
}

/// "N minutes ago" (or hours, or days) for a snapshot's age.
pub fn age_words(age: time::Duration) -> String {
    let minutes = age.whole_minutes().max(0);
    match minutes {
        0 => "less than a minute ago".to_owned(),
        1 => "1 minute ago".to_owned(),
        m if m < 120 => format!("{m} minutes ago"),
        m if m < 48 * 60 => format!("{} hours ago", m / 60),
        m => format!("{} days ago", m / (24 * 60)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_round_trip_through_hex() {
        let key = [
            7u8, 200, 0, 255, 16, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18,
            19, 20, 21, 22, 23, 24, 25, 26, 27,
        ];
        assert_eq!(*decode_key(&encode_key(&key)).unwrap(), key);
        assert!(decode_key("abc").is_none());
        assert!(decode_key(&"zz".repeat(32)).is_none());
    }

    #[test]
    fn ages_read_naturally() {
        assert_eq!(
            age_words(time::Duration::seconds(30)),
            "less than a minute ago"
        );
        assert_eq!(age_words(time::Duration::minutes(1)), "1 minute ago");
        assert_eq!(age_words(time::Duration::minutes(5)), "5 minutes ago");
        assert_eq!(age_words(time::Duration::hours(3)), "3 hours ago");
        assert_eq!(age_words(time::Duration::days(3)), "3 days ago");
    }
}
