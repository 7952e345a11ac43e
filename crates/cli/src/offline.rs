//! The profile's encrypted offline cache (muster-core's [`Store`]): where it lives, its
//! key in the OS keychain, keeping it up to date after `users list --all` and
//! `muster sync`, and putting each write's answer into it ([`record`]).
//!
//! The cache file is `{profile}.cache` in the OS cache dir (`MUSTER_CACHE_DIR` overrides
//! it; tests use it), encrypted under a random 256-bit key kept in the keychain as the
//! profile's `CacheKey`. Without a reachable keychain nothing is cached: there is never a
//! plaintext fallback.

use std::path::PathBuf;

use muster_core::cache::{self, Store};
use muster_core::sync;
use muster_core::vault::Vault;
use muster_core::{Client, Error};
use muster_scim::group::Group;
use muster_scim::user::User;
use time::OffsetDateTime;

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

/// The cache file of `profile` (core's naming, shared with the desktop app: unusual
/// characters are `%XX`-encoded so the file stays in the cache dir).
pub fn path(profile: &str) -> Result<PathBuf, Failure> {
    Ok(muster_core::console::cache_path(&dir()?, profile))
}

/// The profile's store (core's, shared with the desktop app). With `create`, a key is
/// generated (and kept in the keychain) when the profile has none yet; without, `Ok(None)`
/// when there is no key.
pub fn store(vault: &Vault, profile: &str, create: bool) -> Result<Option<Store>, Failure> {
    Ok(muster_core::console::open_store(
        vault,
        &dir()?,
        muster_core::console::CopyOf::Profile(profile),
        create,
    )?)
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
    let (report, _, saved) =
        sync::sync_store(client, &store, OffsetDateTime::now_utc(), |_| {}).await?;
    saved?;
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
            "Warning: the offline copy was not updated: {}.",
            failure.clause()
        ),
    }
}

/// A write the server accepted, as the server answered it.
#[derive(Debug, Clone, Copy)]
pub enum Written<'a> {
    /// A user created or changed (a create, a patch, an account action).
    User(&'a User),
    /// The users one bulk job changed.
    Users(&'a [User]),
    /// The user with this id was deleted.
    UserDeleted(&'a str),
    /// A group created or changed.
    Group(&'a Group),
    /// The group with this id was deleted.
    GroupDeleted(&'a str),
}

/// After a write the server accepted: puts the server's answer into the profile's offline
/// copy, so offline reads show it at once. Only an existing, readable copy is updated: a
/// write never starts one (only a sync makes a whole copy). The write has happened, so
/// nothing here fails the command: a copy that cannot be updated is a warning on stderr,
/// and the next sync puts it right.
pub fn record(vault: &Vault, profile: &str, written: Written<'_>) {
    if let Err(failure) = mirror(vault, profile, written) {
        let what = match written {
            Written::Users(_) => "the changes are made",
            _ => "the change is made",
        };
        eprintln!(
            "Warning: {what}, but the offline copy was not updated: {}. `muster sync` brings \
             it up to date.",
            failure.clause()
        );
    }
}

fn mirror(vault: &Vault, profile: &str, written: Written<'_>) -> Result<(), Failure> {
    if !path(profile)?.exists() {
        // No copy: nothing to update, and no reason to ask the keychain for a key.
        return Ok(());
    }
    let Some(store) = store(vault, profile, false)? else {
        // No key: the file cannot be read (the next sync replaces it).
        return Ok(());
    };
    store.update(OffsetDateTime::now_utc(), |snapshot| match written {
        Written::User(user) => {
            sync::apply_user(snapshot, user.clone());
            true
        }
        Written::Users(users) => {
            for user in users {
                sync::apply_user(snapshot, user.clone());
            }
            true
        }
        Written::UserDeleted(id) => sync::remove_user(snapshot, id),
        Written::Group(group) => {
            sync::apply_group(snapshot, group.clone());
            true
        }
        Written::GroupDeleted(id) => sync::remove_group(snapshot, id),
    })?;
    Ok(())
}

/// The cached snapshot for reading while offline, with its age.
pub fn read(vault: &Vault, profile: &str) -> Result<cache::Offline, Failure> {
    let Some(store) = store(vault, profile, false)? else {
        return Err(Error::Storage {
            message: "There is no offline copy of this profile's data yet; run `muster \
                      users list --all` or `muster sync` while the server can be reached."
                .to_owned(),
        }
        .into());
    };
    Ok(cache::offline_read(&store, OffsetDateTime::now_utc())?)
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
    fn cache_files_stay_in_the_cache_dir_whatever_the_profile_is_called() {
        let dir = dir().unwrap();
        let file = |name: &str| path(name).unwrap().file_name().unwrap().to_owned();
        assert_eq!(
            file("acme-2.eu_west"),
            "acme-2.eu_west.cache",
            "plain names as-is"
        );
        assert_eq!(file("../../x"), "..%2F..%2Fx.cache");
        assert_eq!(
            file("a b%"),
            "a%20b%25.cache",
            "`%` is encoded too: no clashes"
        );
        assert_eq!(file("zoë"), "zo%C3%AB.cache");
        for name in ["../../x", "..", ".", "/etc/passwd", "a\\b", "C:x"] {
            assert_eq!(
                path(name).unwrap().parent(),
                Some(dir.as_path()),
                "{name:?} stays in the cache dir"
            );
        }
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
