//! Profiles: named connections (server URL, organisation, kind, optional CA file) kept in
//! a small versioned JSON file in the OS config dir:
//!
//! ```json
//! {"version": 1, "default": "acme",
//!  "profiles": [{"name": "acme", "server": "https://muster.acme.test", "org": "acme",
//!                "kind": "muster", "caFile": "/etc/ssl/acme-ca.pem"}]}
//! ```
//!
//! The file never holds a secret: credentials come from the environment or a prompt (see
//! [`crate::credentials`]). `MUSTER_CONFIG_DIR` overrides the directory (tests use it).

use std::path::{Path, PathBuf};

use clap::Subcommand;
use muster_core::connection::Connection;
use serde::{Deserialize, Serialize};

use crate::failure::Failure;
use crate::output::{Output, Table, say};

/// The file format version this build reads and writes.
pub const VERSION: u32 = 1;

/// The file's name inside the config dir.
pub const FILE_NAME: &str = "profiles.json";

/// `muster profiles ...`.
#[derive(Debug, Subcommand)]
pub enum ProfilesCommand {
    /// Add a profile (the first one added becomes the default).
    Add {
        /// A short name for it, e.g. `acme`.
        name: String,
        /// The Muster server's URL, or (with --scim) the provider's SCIM base URL.
        #[arg(long)]
        server: String,
        /// The organisation id on a Muster server.
        #[arg(long)]
        org: Option<String>,
        /// Any SCIM 2.0 provider (sign in with MUSTER_TOKEN), not a Muster server.
        #[arg(long)]
        scim: bool,
        /// An extra CA certificate (PEM file) to trust, for servers with a private CA.
        #[arg(long, value_name = "PEM")]
        ca_file: Option<PathBuf>,
        /// Make it the default profile.
        #[arg(long)]
        default: bool,
    },
    /// List profiles.
    List,
    /// Show one profile.
    Show {
        /// Its name.
        name: String,
    },
    /// Remove a profile.
    Remove {
        /// Its name.
        name: String,
    },
    /// Make a profile the default.
    Use {
        /// Its name.
        name: String,
    },
}

/// What kind of server a profile talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Kind {
    /// A Muster server (password sign-in or API token; SCIM under `/o/{org}/scim/v2`).
    Muster,
    /// Any SCIM 2.0 provider (bearer token).
    Scim,
}

/// One profile.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Profile {
    /// Its name.
    pub name: String,
    /// Server URL (Muster) or SCIM base URL (other providers).
    pub server: String,
    /// Organisation id (Muster only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub org: Option<String>,
    /// Muster or any SCIM provider.
    pub kind: Kind,
    /// An extra CA certificate to trust (a path; the file is read at each use).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_file: Option<PathBuf>,
}

impl Profile {
    /// The engine's connection for this profile, with the CA file read.
    pub fn connection(&self) -> Result<Connection, Failure> {
        let mut connection = match self.kind {
            Kind::Muster => Connection::muster(&self.server, self.org.clone().unwrap_or_default()),
            Kind::Scim => Connection::scim(&self.server),
        };
        if let Some(path) = &self.ca_file {
            connection.extra_ca_pem = Some(read_pem(path)?);
        }
        Ok(connection)
    }
}

/// The profiles file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Profiles {
    /// Format version ([`VERSION`]).
    pub version: u32,
    /// Every profile.
    #[serde(default)]
    pub profiles: Vec<Profile>,
    /// The name of the default profile.
    #[serde(default)]
    pub default: Option<String>,
}

impl Profiles {
    /// The directory the file lives in: `MUSTER_CONFIG_DIR`, or the OS config dir.
    pub fn dir() -> Result<PathBuf, Failure> {
        if let Some(dir) = std::env::var_os("MUSTER_CONFIG_DIR").filter(|d| !d.is_empty()) {
            return Ok(PathBuf::from(dir));
        }
        directories::ProjectDirs::from("app", "Muster", "Muster")
            .map(|dirs| dirs.config_dir().to_path_buf())
            .ok_or_else(|| {
                Failure::Local(
                    "Cannot find a config directory (no home directory?); set MUSTER_CONFIG_DIR."
                        .into(),
                )
            })
    }

    /// Reads the file in `dir`; a missing file is no profiles.
    pub fn load(dir: &Path) -> Result<Self, Failure> {
        let path = dir.join(FILE_NAME);
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                return Ok(Self {
                    version: VERSION,
                    ..Self::default()
                });
            }
            Err(error) => {
                return Err(Failure::Local(format!(
                    "Cannot read {}: {error}.",
                    path.display()
                )));
            }
        };
        let profiles: Self = serde_json::from_str(&text).map_err(|error| {
            Failure::Local(format!(
                "{} is not a profiles file: {error}.",
                path.display()
            ))
        })?;
        if profiles.version != VERSION {
            return Err(Failure::Local(format!(
                "{} has format version {}; this muster reads version {VERSION}.",
                path.display(),
                profiles.version
            )));
        }
        Ok(profiles)
    }

    /// Writes the file atomically (a temporary file in the same directory, then rename).
    pub fn save(&self, dir: &Path) -> Result<(), Failure> {
        let local = |error: std::io::Error| {
            Failure::Local(format!(
                "Cannot write profiles in {}: {error}.",
                dir.display()
            ))
        };
        std::fs::create_dir_all(dir).map_err(local)?;
        let text = serde_json::to_string_pretty(self)
            .map_err(|error| Failure::Local(format!("Cannot encode profiles: {error}.")))?;
        let temp = dir.join(format!("{FILE_NAME}.tmp"));
        std::fs::write(&temp, text + "\n").map_err(local)?;
        std::fs::rename(&temp, dir.join(FILE_NAME)).map_err(local)
    }

    /// The profile named `name`.
    pub fn get(&self, name: &str) -> Option<&Profile> {
        self.profiles.iter().find(|p| p.name == name)
    }

    /// The profile to use: the one named (by `--profile` or `MUSTER_PROFILE`), else the
    /// default, else the only one.
    pub fn select(&self, name: Option<&str>) -> Result<&Profile, Failure> {
        if let Some(name) = name {
            return self.get(name).ok_or_else(|| {
                Failure::Usage(format!(
                    "There is no profile '{name}'. `muster profiles list` shows them."
                ))
            });
        }
        if let Some(profile) = self.default.as_deref().and_then(|name| self.get(name)) {
            return Ok(profile);
        }
        match self.profiles.as_slice() {
            [only] => Ok(only),
            [] => Err(Failure::Usage(
                "No profile yet: add one with `muster profiles add NAME --server URL --org ORG`."
                    .into(),
            )),
            _ => Err(Failure::Usage(
                "Several profiles and no default: pass --profile NAME (or set MUSTER_PROFILE), \
                 or run `muster profiles use NAME`."
                    .into(),
            )),
        }
    }
}

/// Reads a PEM certificate file, checking it looks like one.
fn read_pem(path: &Path) -> Result<String, Failure> {
    let text = std::fs::read_to_string(path)
        .map_err(|error| Failure::Local(format!("Cannot read {}: {error}.", path.display())))?;
    if !text.contains("-----BEGIN CERTIFICATE-----") {
        return Err(Failure::Local(format!(
            "{} is not a PEM certificate (no BEGIN CERTIFICATE line).",
            path.display()
        )));
    }
    Ok(text)
}

/// Runs `muster profiles ...`.
pub fn run(command: ProfilesCommand, out: &Output) -> Result<(), Failure> {
    let dir = Profiles::dir()?;
    let mut profiles = Profiles::load(&dir)?;
    match command {
        ProfilesCommand::Add {
            name,
            server,
            org,
            scim,
            ca_file,
            default,
        } => {
            if name.trim().is_empty() || name.chars().any(char::is_control) {
                return Err(Failure::Usage(format!("'{name}' is not a profile name.")));
            }
            if profiles.get(&name).is_some() {
                return Err(Failure::Usage(format!(
                    "A profile '{name}' exists; remove it first."
                )));
            }
            let kind = if scim { Kind::Scim } else { Kind::Muster };
            if kind == Kind::Muster && org.is_none() {
                return Err(Failure::Usage(
                    "A Muster server needs --org ORG (or pass --scim for another SCIM provider)."
                        .into(),
                ));
            }
            let ca_file = match ca_file {
                Some(path) => Some(std::path::absolute(&path).map_err(|error| {
                    Failure::Local(format!("Cannot resolve {}: {error}.", path.display()))
                })?),
                None => None,
            };
            let profile = Profile {
                name: name.clone(),
                server: server.trim().to_owned(),
                org: if scim { None } else { org },
                kind,
                ca_file,
            };
            profile.connection()?.validate()?;
            if default || profiles.profiles.is_empty() {
                profiles.default = Some(name.clone());
            }
            profiles.profiles.push(profile.clone());
            profiles.save(&dir)?;
            out.value(&profile, || {
                format!(
                    "Added profile {name}{}.",
                    if profiles.default.as_deref() == Some(&name) {
                        " (default)"
                    } else {
                        ""
                    }
                )
            })
        }
        ProfilesCommand::List => {
            let default = profiles.default.clone();
            if out.json {
                return out.json(&profiles.profiles);
            }
            if profiles.profiles.is_empty() {
                say!(
                    "No profiles. Add one with `muster profiles add NAME --server URL --org ORG`."
                );
                return Ok(());
            }
            let mut table = Table::new(["", "NAME", "KIND", "SERVER", "ORG"]);
            for p in &profiles.profiles {
                let mark = if default.as_deref() == Some(&p.name) {
                    "*"
                } else {
                    ""
                };
                table.row([
                    mark.to_owned(),
                    p.name.clone(),
                    kind_name(p.kind).to_owned(),
                    p.server.clone(),
                    p.org.clone().unwrap_or_default(),
                ]);
            }
            table.print();
            Ok(())
        }
        ProfilesCommand::Show { name } => {
            let profile = profiles.select(Some(&name))?;
            out.value(profile, || {
                let mut lines = vec![
                    format!("name     {}", profile.name),
                    format!("kind     {}", kind_name(profile.kind)),
                    format!("server   {}", profile.server),
                ];
                if let Some(org) = &profile.org {
                    lines.push(format!("org      {org}"));
                }
                if let Some(ca) = &profile.ca_file {
                    lines.push(format!("ca file  {}", ca.display()));
                }
                lines.push(format!(
                    "default  {}",
                    if profiles.default.as_deref() == Some(&name) {
                        "yes"
                    } else {
                        "no"
                    }
                ));
                lines.join("\n")
            })
        }
        ProfilesCommand::Remove { name } => {
            profiles.select(Some(&name))?;
            profiles.profiles.retain(|p| p.name != name);
            if profiles.default.as_deref() == Some(&name) {
                profiles.default = None;
            }
            profiles.save(&dir)?;
            out.value(&serde_json::json!({"removed": name}), || {
                format!("Removed profile {name}.")
            })
        }
        ProfilesCommand::Use { name } => {
            profiles.select(Some(&name))?;
            profiles.default = Some(name.clone());
            profiles.save(&dir)?;
            out.value(&serde_json::json!({"default": name}), || {
                format!("{name} is now the default profile.")
            })
        }
    }
}

fn kind_name(kind: Kind) -> &'static str {
    match kind {
        Kind::Muster => "muster",
        Kind::Scim => "scim",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn profile(name: &str) -> Profile {
        Profile {
            name: name.into(),
            server: "https://muster.example".into(),
            org: Some("acme".into()),
            kind: Kind::Muster,
            ca_file: None,
        }
    }

    #[test]
    fn the_file_format_is_versioned_camel_case_json() {
        let profiles = Profiles {
            version: VERSION,
            profiles: vec![Profile {
                ca_file: Some("/etc/ca.pem".into()),
                ..profile("acme")
            }],
            default: Some("acme".into()),
        };
        let value = serde_json::to_value(&profiles).unwrap();
        assert_eq!(
            value,
            serde_json::json!({
                "version": 1,
                "profiles": [{"name": "acme", "server": "https://muster.example", "org": "acme",
                              "kind": "muster", "caFile": "/etc/ca.pem"}],
                "default": "acme",
            }),
            "issue 5 reads this format: keep it stable"
        );
    }

    #[test]
    fn selection_prefers_the_named_then_the_default_then_the_only_one() {
        let mut profiles = Profiles {
            version: VERSION,
            profiles: vec![profile("a")],
            default: None,
        };
        assert_eq!(profiles.select(None).unwrap().name, "a", "the only profile");
        profiles.profiles.push(profile("b"));
        assert!(
            matches!(profiles.select(None), Err(Failure::Usage(_))),
            "two profiles and no default is ambiguous"
        );
        profiles.default = Some("b".into());
        assert_eq!(profiles.select(None).unwrap().name, "b");
        assert_eq!(profiles.select(Some("a")).unwrap().name, "a");
        assert!(profiles.select(Some("zzz")).is_err());
    }

    #[test]
    fn a_newer_format_is_refused_not_overwritten() {
        let dir = std::env::temp_dir().join(format!("muster-profiles-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(FILE_NAME), r#"{"version": 2, "profiles": []}"#).unwrap();
        assert!(Profiles::load(&dir).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
