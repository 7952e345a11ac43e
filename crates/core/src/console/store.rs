//! Where the console keeps things on disk: each profile's encrypted offline copy (its key
//! in the OS keychain, never a plaintext fallback) and a small settings file with nothing
//! secret in it (favourite organisations, who signed in to each profile).
//!
//! The cache file and key are those the `muster` command line uses for the same profile
//! (`{profile}.cache`, a 64-hex-digit `CacheKey`), so both share one offline copy.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::auth::Account;
use crate::cache::Store;
use crate::error::Error;
use crate::secret::Secret;
use crate::vault::{SecretKind, Vault};

/// Whose offline copy: a profile's own, or another organisation's that a system admin
/// opened through the profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CopyOf<'a> {
    /// The profile's organisation (or provider).
    Profile(&'a str),
    /// Organisation `org`, switched to through `profile`.
    Org {
        /// The profile.
        profile: &'a str,
        /// The organisation id (lower-case letters, digits and `-`).
        org: &'a str,
    },
}

/// A profile name as a file-name stem: every byte other than ASCII letters, digits, `-`,
/// `_` and `.` written as `%XX`, so that whatever the name holds (`/`, `..`, characters a
/// file system refuses) the file stays in its folder and no two names share one.
fn stem(profile: &str) -> String {
    use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
    const STEM: &percent_encoding::AsciiSet =
        &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.');
    utf8_percent_encode(profile, STEM).to_string()
}

/// The cache file of `profile` in `dir`: `{profile}.cache` (the name as `stem` writes
/// it).
pub fn cache_path(dir: &Path, profile: &str) -> PathBuf {
    dir.join(format!("{}.cache", stem(profile)))
}

/// The cache file of a copy: a profile's own is [`cache_path`]; an organisation's is
/// `{profile}~{org}.cache`, which no profile's file can be (`~` in a name is written
/// `%7E`), so a profile called `ops~beta` or `ops@beta` never meets `ops`'s copy of beta.
pub fn copy_path(dir: &Path, copy: CopyOf<'_>) -> PathBuf {
    match copy {
        CopyOf::Profile(profile) => cache_path(dir, profile),
        CopyOf::Org { profile, org } => dir.join(format!("{}~{org}.cache", stem(profile))),
    }
}

/// The organisations whose copies `profile` has in `dir` (from their files).
pub fn org_copies(dir: &Path, profile: &str) -> Vec<String> {
    let prefix = format!("{}~", stem(profile));
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    entries
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let name = entry.file_name().into_string().ok()?;
            let org = name.strip_prefix(&prefix)?.strip_suffix(".cache")?;
            let valid = !org.is_empty()
                && org
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
            valid.then(|| org.to_owned())
        })
        .collect()
}

/// The store of a copy. With `create`, a key is generated (and kept in the keychain)
/// when the copy has none yet; without, `Ok(None)` when there is no key.
///
/// # Errors
///
/// [`Error::KeychainUnavailable`] when the keychain cannot be used.
pub fn open_store(
    vault: &Vault,
    dir: &Path,
    copy: CopyOf<'_>,
    create: bool,
) -> Result<Option<Store>, Error> {
    let path = copy_path(dir, copy);
    let stored = match copy {
        CopyOf::Profile(profile) => vault.load(profile, SecretKind::CacheKey)?,
        CopyOf::Org { profile, org } => vault.load_org_copy_key(profile, org)?,
    };
    if let Some(secret) = stored
        && let Some(key) = decode_key(secret.expose())
    {
        return Ok(Some(Store::new(path, *key)));
    }
    if !create {
        return Ok(None);
    }
    let key = Zeroizing::new(rand::random::<[u8; 32]>());
    let encoded = Secret::new(Zeroizing::new(encode_key(&key)).as_str());
    match copy {
        CopyOf::Profile(profile) => vault.store(profile, SecretKind::CacheKey, &encoded)?,
        CopyOf::Org { profile, org } => vault.store_org_copy_key(profile, org, &encoded)?,
    }
    // An old file, if any, was under another key.
    crate::cache::remove(&path)?;
    Ok(Some(Store::new(path, *key)))
}

/// Deletes the copies of other organisations a system admin opened through `profile`:
/// their keys, then their files.
///
/// # Errors
///
/// [`Error::KeychainUnavailable`] when a key cannot be deleted (its file is then kept,
/// so nothing is left that names it); [`Error::Storage`] for a file.
pub(super) fn remove_org_copies(vault: &Vault, dir: &Path, profile: &str) -> Result<(), Error> {
    for org in org_copies(dir, profile) {
        vault.delete_org_copy_key(profile, &org)?;
        crate::cache::remove(&copy_path(dir, CopyOf::Org { profile, org: &org }))?;
    }
    Ok(())
}

/// Deletes the profile's cache file, if there is one.
pub(super) fn remove_cache(dir: &Path, profile: &str) -> Result<(), Error> {
    Ok(crate::cache::remove(&cache_path(dir, profile))?)
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
    for (slot, pair) in key.iter_mut().zip(bytes.chunks(2)) {
        *slot = u8::from_str_radix(std::str::from_utf8(pair).ok()?, 16).ok()?;
    }
    Some(key)
}

const SETTINGS_FILE: &str = "desktop.json";

/// The console's own settings.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub(super) struct Settings {
    /// Favourite organisations per profile (system admins).
    pub favourites: BTreeMap<String, Vec<String>>,
    /// Who signed in to each profile, to know the role of a stored session.
    pub accounts: BTreeMap<String, Account>,
}

impl Settings {
    /// The settings in `dir`; defaults when missing or unreadable (they are
    /// conveniences, never worth refusing to start over).
    pub fn load(dir: &Path) -> Self {
        std::fs::read(dir.join(SETTINGS_FILE))
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .unwrap_or_default()
    }

    /// Writes the settings atomically.
    pub fn save(&self, dir: &Path) -> Result<(), Error> {
        let storage = |e: std::io::Error| Error::Storage {
            message: format!("The settings could not be saved: {e}."),
        };
        std::fs::create_dir_all(dir).map_err(storage)?;
        let bytes = serde_json::to_vec_pretty(self).map_err(|e| Error::Storage {
            message: format!("The settings could not be encoded: {e}."),
        })?;
        let temp = dir.join(format!("{SETTINGS_FILE}.tmp"));
        std::fs::write(&temp, bytes).map_err(storage)?;
        std::fs::rename(&temp, dir.join(SETTINGS_FILE)).map_err(storage)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cache_names_stay_in_the_dir() {
        let dir = Path::new("/c");
        assert_eq!(cache_path(dir, "work-1.a"), dir.join("work-1.a.cache"));
        assert_eq!(cache_path(dir, "../x"), dir.join("..%2Fx.cache"));
        assert_eq!(cache_path(dir, "a b"), dir.join("a%20b.cache"));
    }

    #[test]
    fn another_organisations_copy_never_meets_a_profiles() {
        let dir = std::env::temp_dir().join(format!("muster-copies-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let switched = copy_path(
            &dir,
            CopyOf::Org {
                profile: "ops",
                org: "beta",
            },
        );
        for other in ["ops@beta", "ops~beta", "ops"] {
            assert_ne!(switched, cache_path(&dir, other), "{other}");
        }
        for path in [
            &switched,
            &cache_path(&dir, "ops~beta"),
            &cache_path(&dir, "ops"),
        ] {
            std::fs::write(path, b"x").unwrap();
        }
        assert_eq!(
            org_copies(&dir, "ops"),
            ["beta"],
            "only ops's switched copy"
        );
        assert!(org_copies(&dir, "ops~beta").is_empty());
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn keys_round_trip_and_junk_is_refused() {
        let key = [7u8; 32];
        assert_eq!(*decode_key(&encode_key(&key)).unwrap(), key);
        let key = [
            7u8, 200, 0, 255, 16, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18,
            19, 20, 21, 22, 23, 24, 25, 26, 27,
        ];
        assert_eq!(*decode_key(&encode_key(&key)).unwrap(), key);
        assert!(decode_key("zz").is_none());
        assert!(decode_key("abc").is_none());
        assert!(decode_key(&"g".repeat(64)).is_none());
        assert!(decode_key(&"zz".repeat(32)).is_none());
    }

    #[test]
    fn settings_survive_a_round_trip_and_a_corrupt_file_gives_defaults() {
        let dir = std::env::temp_dir().join(format!("muster-settings-{}", std::process::id()));
        let mut settings = Settings::default();
        settings
            .favourites
            .insert("work".into(), vec!["summit-hvac".into()]);
        settings.save(&dir).unwrap();
        assert_eq!(Settings::load(&dir).favourites["work"], vec!["summit-hvac"]);
        std::fs::write(dir.join(SETTINGS_FILE), b"{not json").unwrap();
        assert!(Settings::load(&dir).favourites.is_empty());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
