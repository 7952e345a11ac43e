//! Profiles: named connections (server URL, organisation or SCIM provider, optional extra
//! CA file, display name) kept in a small versioned JSON file in the OS config dir:
//!
//! ```json
//! {"version": 1, "default": "acme",
//!  "profiles": [{"name": "acme", "server": "https://muster.acme.test", "org": "acme",
//!                "kind": "muster", "caFile": "/etc/ssl/acme-ca.pem",
//!                "displayName": "Acme Sprinklers"}]}
//! ```
//!
//! This is the format the `muster` command line has written since its first release, so
//! its files load unchanged (`displayName` is new and optional). The file never holds a
//! secret: credentials live in the [`Vault`]. Every change is written atomically: a
//! temporary file in the same directory, fsync, rename over the old file, fsync of the
//! directory; a crash at any point leaves the old file or the new one, never a mix.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::connection::Connection;
use crate::error::Error;
use crate::vault::Vault;

/// The file format version this build reads and writes.
pub const VERSION: u32 = 1;

/// The file's name inside the config dir.
pub const FILE_NAME: &str = "profiles.json";

/// The longest profile name, in characters.
pub const MAX_NAME_CHARS: usize = 64;

/// What kind of server a profile talks to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProfileKind {
    /// A Muster server's organisation.
    Muster {
        /// The organisation id.
        org: String,
    },
    /// Any SCIM 2.0 provider; the profile's URL is its SCIM base URL.
    Scim,
}

/// One named connection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(into = "ProfileRecord", try_from = "ProfileRecord")]
pub struct Profile {
    /// Its name: unique, and the key of its keychain entries, so it never changes.
    pub name: String,
    /// The Muster server's URL, or the provider's SCIM base URL.
    pub url: String,
    /// Muster (with an organisation) or any SCIM provider.
    pub kind: ProfileKind,
    /// An extra CA certificate (PEM file) to trust, read at each use.
    pub extra_ca_path: Option<PathBuf>,
    /// A friendlier name to show, e.g. the organisation's name.
    pub display_name: Option<String>,
}

impl Profile {
    /// A profile for a Muster server's organisation.
    pub fn muster(name: impl Into<String>, url: impl Into<String>, org: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            url: url.into(),
            kind: ProfileKind::Muster { org: org.into() },
            extra_ca_path: None,
            display_name: None,
        }
    }

    /// A profile for any SCIM 2.0 provider.
    pub fn scim(name: impl Into<String>, base_url: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            url: base_url.into(),
            kind: ProfileKind::Scim,
            extra_ca_path: None,
            display_name: None,
        }
    }

    /// The engine's connection for this profile, with the extra CA file read (it must be a
    /// PEM certificate). The URL is not checked here; [`Connection::validate`] does that.
    pub fn to_connection(&self) -> Result<Connection, Error> {
        let mut connection = match &self.kind {
            ProfileKind::Muster { org } => Connection::muster(&self.url, org.clone()),
            ProfileKind::Scim => Connection::scim(&self.url),
        };
        if let Some(path) = &self.extra_ca_path {
            connection.extra_ca_pem = Some(read_pem(path)?);
        }
        Ok(connection)
    }

    /// Checks the name, the URL and organisation (the [`Connection`] rules) and the CA file.
    fn validate(&self) -> Result<(), Error> {
        let name = &self.name;
        if name.trim().is_empty()
            || name.trim() != name
            || name.chars().any(char::is_control)
            || name.chars().count() > MAX_NAME_CHARS
        {
            return Err(Error::invalid(
                "name",
                format!(
                    "'{}' is not a profile name: use 1 to {MAX_NAME_CHARS} characters, with no \
                     leading or trailing spaces.",
                    name.escape_debug()
                ),
            ));
        }
        if self
            .display_name
            .as_deref()
            .is_some_and(|shown| shown.chars().any(char::is_control))
        {
            return Err(Error::invalid(
                "displayName",
                "A display name cannot hold control characters.",
            ));
        }
        self.to_connection()?.validate()?;
        Ok(())
    }
}

/// A profile as the file spells it (the command line's format).
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ProfileRecord {
    name: String,
    server: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    org: Option<String>,
    kind: KindRecord,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    ca_file: Option<PathBuf>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    display_name: Option<String>,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
enum KindRecord {
    Muster,
    Scim,
}

impl From<Profile> for ProfileRecord {
    fn from(profile: Profile) -> Self {
        let (kind, org) = match profile.kind {
            ProfileKind::Muster { org } => (KindRecord::Muster, Some(org)),
            ProfileKind::Scim => (KindRecord::Scim, None),
        };
        Self {
            name: profile.name,
            server: profile.url,
            org,
            kind,
            ca_file: profile.extra_ca_path,
            display_name: profile.display_name,
        }
    }
}

impl TryFrom<ProfileRecord> for Profile {
    type Error = String;

    fn try_from(record: ProfileRecord) -> Result<Self, String> {
        let kind = match (record.kind, record.org) {
            (KindRecord::Muster, Some(org)) => ProfileKind::Muster { org },
            (KindRecord::Muster, None) => {
                return Err(format!(
                    "profile '{}' is a Muster server without an org",
                    record.name
                ));
            }
            (KindRecord::Scim, _) => ProfileKind::Scim,
        };
        Ok(Self {
            name: record.name,
            url: record.server,
            kind,
            extra_ca_path: record.ca_file,
            display_name: record.display_name,
        })
    }
}

/// The file's shape.
#[derive(Serialize, Deserialize)]
struct FileRecord {
    version: u32,
    #[serde(default)]
    default: Option<String>,
    #[serde(default)]
    profiles: Vec<Profile>,
}

/// Only the version, read first so a newer file is refused with a clear reason rather than
/// a parse error.
#[derive(Deserialize)]
struct VersionOnly {
    version: u32,
}

/// The profiles in one config dir. Every change is saved at once, atomically; a failed
/// save leaves both the file and this value as they were.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Profiles {
    dir: PathBuf,
    default: Option<String>,
    profiles: Vec<Profile>,
}

impl Profiles {
    /// The OS config dir for Muster (`~/.config/muster` on Linux, `~/Library/Application
    /// Support/app.Muster.Muster` on macOS, `%APPDATA%\Muster\Muster\config` on Windows).
    pub fn dir() -> Result<PathBuf, Error> {
        directories::ProjectDirs::from("app", "Muster", "Muster")
            .map(|dirs| dirs.config_dir().to_path_buf())
            .ok_or_else(|| {
                Error::refused("Cannot find a config directory for Muster (no home directory?).")
            })
    }

    /// The profiles in the OS config dir ([`Profiles::dir`]).
    pub fn open() -> Result<Self, Error> {
        Self::load(&Self::dir()?)
    }

    /// The profiles in `dir`. A missing file is no profiles; an unreadable or corrupt file,
    /// or one written by a newer Muster, is an error naming the file (it is left untouched).
    pub fn load(dir: &Path) -> Result<Self, Error> {
        let path = dir.join(FILE_NAME);
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                return Ok(Self {
                    dir: dir.to_path_buf(),
                    default: None,
                    profiles: Vec::new(),
                });
            }
            Err(error) => {
                return Err(local(format!("Cannot read {}: {error}.", path.display())));
            }
        };
        let corrupt = |error: serde_json::Error| {
            local(format!(
                "{} is not a valid profiles file ({error}). Fix or move it away; Muster will \
                 not overwrite it.",
                path.display()
            ))
        };
        let version: VersionOnly = serde_json::from_str(&text).map_err(corrupt)?;
        if version.version > VERSION {
            return Err(local(format!(
                "{} was written by a newer Muster (format version {}); this one reads version \
                 {VERSION}. Update Muster to use these profiles.",
                path.display(),
                version.version
            )));
        }
        if version.version < VERSION {
            return Err(local(format!(
                "{} has an unknown format version {}.",
                path.display(),
                version.version
            )));
        }
        let file: FileRecord = serde_json::from_str(&text).map_err(corrupt)?;
        let mut names = std::collections::HashSet::new();
        if let Some(clash) = file
            .profiles
            .iter()
            .find(|p| !names.insert(p.name.as_str()))
        {
            return Err(local(format!(
                "{} names the profile '{}' twice. Fix or move it away.",
                path.display(),
                clash.name
            )));
        }
        let default = file
            .default
            .filter(|name| file.profiles.iter().any(|p| &p.name == name));
        Ok(Self {
            dir: dir.to_path_buf(),
            default,
            profiles: file.profiles,
        })
    }

    /// The directory the file lives in.
    pub fn location(&self) -> &Path {
        &self.dir
    }

    /// Every profile, in the order added.
    pub fn list(&self) -> &[Profile] {
        &self.profiles
    }

    /// The profile named `name`.
    pub fn get(&self, name: &str) -> Option<&Profile> {
        self.profiles.iter().find(|p| p.name == name)
    }

    /// The default profile, if one is set.
    pub fn default(&self) -> Option<&Profile> {
        self.default.as_deref().and_then(|name| self.get(name))
    }

    /// Adds a profile (checked: name unique, URL and organisation by the [`Connection`]
    /// rules, CA file readable). The first profile becomes the default.
    pub fn add(&mut self, profile: Profile) -> Result<(), Error> {
        profile.validate()?;
        if self.get(&profile.name).is_some() {
            return Err(Error::invalid(
                "name",
                format!("A profile named '{}' exists already.", profile.name),
            ));
        }
        let mut next = self.clone();
        if next.profiles.is_empty() {
            next.default = Some(profile.name.clone());
        }
        next.profiles.push(profile);
        self.commit(next)
    }

    /// Replaces the profile named `profile.name` (checked as in [`Profiles::add`]). A
    /// profile cannot be renamed: its keychain entries are stored under its name.
    pub fn edit(&mut self, profile: Profile) -> Result<(), Error> {
        profile.validate()?;
        let mut next = self.clone();
        let Some(slot) = next.profiles.iter_mut().find(|p| p.name == profile.name) else {
            return Err(missing(&profile.name));
        };
        *slot = profile;
        self.commit(next)
    }

    /// Removes a profile and every keychain entry it has. The keychain entries go first: if
    /// the keychain cannot be used the profile stays, so no secret is orphaned.
    ///
    /// The offline copy's key goes with the keychain entries, so a copy left on disk can no
    /// longer be read; the caller deletes the file itself (see `Console::remove_profile`).
    pub fn remove(&mut self, name: &str, vault: &Vault) -> Result<(), Error> {
        if self.get(name).is_none() {
            return Err(missing(name));
        }
        vault.delete_profile(name)?;
        self.forget(name)
    }

    /// Removes a profile from the file only, leaving any keychain entries it has where they
    /// are. For when the keychain cannot be reached and the person chose to remove the
    /// profile anyway (the command line's `profiles remove --force`); prefer
    /// [`Profiles::remove`].
    pub fn forget(&mut self, name: &str) -> Result<(), Error> {
        if self.get(name).is_none() {
            return Err(missing(name));
        }
        let mut next = self.clone();
        next.profiles.retain(|p| p.name != name);
        if next.default.as_deref() == Some(name) {
            next.default = None;
        }
        self.commit(next)
    }

    /// Makes the profile named `name` the default.
    pub fn set_default(&mut self, name: &str) -> Result<(), Error> {
        if self.get(name).is_none() {
            return Err(missing(name));
        }
        let mut next = self.clone();
        next.default = Some(name.to_owned());
        self.commit(next)
    }

    /// Saves `next` and, once it is on disk, makes it the current state.
    fn commit(&mut self, next: Profiles) -> Result<(), Error> {
        next.save()?;
        *self = next;
        Ok(())
    }

    /// Writes the file atomically: a new temporary file in the same directory, fsync,
    /// rename over the old file, fsync the directory.
    fn save(&self) -> Result<(), Error> {
        let file = FileRecord {
            version: VERSION,
            default: self.default.clone(),
            profiles: self.profiles.clone(),
        };
        let mut text = serde_json::to_string_pretty(&file)
            .map_err(|error| local(format!("Cannot encode the profiles: {error}.")))?;
        text.push('\n');
        write_atomically(&self.dir, FILE_NAME, text.as_bytes()).map_err(|error| {
            local(format!(
                "Cannot save {}: {error}.",
                self.dir.join(FILE_NAME).display()
            ))
        })
    }
}

/// Writes `dir/name` so that a crash leaves the old content or the new, never a mix.
fn write_atomically(dir: &Path, name: &str, bytes: &[u8]) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let suffix: u64 = rand::random();
    let temp = dir.join(format!(".{name}.{}.{suffix:016x}.tmp", std::process::id()));
    let written = (|| {
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&temp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        drop(file);
        std::fs::rename(&temp, dir.join(name))
    })();
    if let Err(error) = written {
        // Best effort: the temp file is garbage either way, and the old file is intact.
        let _ = std::fs::remove_file(&temp);
        return Err(error);
    }
    sync_dir(dir)
}

#[cfg(unix)]
fn sync_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::File::open(dir)?.sync_all()
}

#[cfg(not(unix))]
fn sync_dir(_dir: &Path) -> std::io::Result<()> {
    // Windows cannot open a directory as a file; its rename is durable once it returns
    // (MoveFileEx with write-through is what std uses for replacing renames).
    Ok(())
}

/// Reads a PEM certificate file, checking it looks like one.
fn read_pem(path: &Path) -> Result<String, Error> {
    let text = std::fs::read_to_string(path).map_err(|error| {
        Error::invalid(
            "extraCaPath",
            format!("Cannot read {}: {error}.", path.display()),
        )
    })?;
    if !text.contains("-----BEGIN CERTIFICATE-----") {
        return Err(Error::invalid(
            "extraCaPath",
            format!(
                "{} is not a PEM certificate (no BEGIN CERTIFICATE line).",
                path.display()
            ),
        ));
    }
    Ok(text)
}

fn missing(name: &str) -> Error {
    Error::NotFound {
        message: format!("There is no profile '{name}'."),
    }
}

/// A local (file) problem. The error type has no variant for local I/O, so it is reported
/// as a validation failure with a message naming the file.
fn local(message: String) -> Error {
    Error::refused(message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_file_format_is_the_command_lines() {
        let mut profile = Profile::muster("acme", "https://muster.example", "acme");
        profile.extra_ca_path = Some("/etc/ca.pem".into());
        let file = FileRecord {
            version: VERSION,
            default: Some("acme".into()),
            profiles: vec![profile.clone(), Profile::scim("idp", "https://idp.test/v2")],
        };
        let value = serde_json::to_value(&file).unwrap();
        assert_eq!(
            value,
            serde_json::json!({
                "version": 1,
                "default": "acme",
                "profiles": [
                    {"name": "acme", "server": "https://muster.example", "org": "acme",
                     "kind": "muster", "caFile": "/etc/ca.pem"},
                    {"name": "idp", "server": "https://idp.test/v2", "kind": "scim"},
                ],
            }),
            "files the CLI wrote must keep loading: keep the format stable"
        );
        let back: FileRecord = serde_json::from_value(value).unwrap();
        assert_eq!(back.profiles[0], profile);
    }

    #[test]
    fn a_muster_profile_without_an_org_is_corrupt() {
        let result: Result<Profile, _> =
            serde_json::from_str(r#"{"name": "a", "server": "https://x.test", "kind": "muster"}"#);
        assert!(result.is_err(), "a Muster profile needs its organisation");
    }
}
