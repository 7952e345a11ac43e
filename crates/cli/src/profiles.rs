//! `muster profiles ...` over muster-core's [`Profiles`]: named connections in a small
//! versioned `profiles.json` in the OS config dir, with no secret in it (the format is
//! documented in [`muster_core::profiles`]; files written by earlier versions of `muster`
//! load unchanged).
//!
//! What is here is the command line's part: `MUSTER_CONFIG_DIR`, which overrides the
//! directory (tests use it); which profile a command uses ([`select`]); how profiles are
//! printed; which exit code each refusal gets ([`refusal`]); and what removing a profile
//! removes besides its keychain entries (its offline copy).

use std::path::PathBuf;

use clap::{Args, Subcommand};
use muster_core::Error;
use muster_core::connection::Connection;
use muster_core::profiles::{Profile, ProfileKind, Profiles};
use muster_core::vault::Vault;
use serde_json::json;

use crate::failure::Failure;
use crate::offline;
use crate::output::{Output, Table, say};

/// `muster profiles ...`.
#[derive(Debug, Subcommand)]
pub enum ProfilesCommand {
    /// Add a profile (the first one added becomes the default).
    Add(AddArgs),
    /// List profiles.
    List,
    /// Show one profile.
    Show {
        /// Its name.
        name: String,
    },
    /// Remove a profile, with its keychain entries (stored session, cache key) and its
    /// offline copy.
    Remove {
        /// Its name.
        name: String,
        /// Remove it even when the keychain cannot be reached; any keychain entries it has
        /// then stay behind (for a computer without a keychain, where it has none).
        #[arg(long)]
        force: bool,
    },
    /// Make a profile the default.
    Use {
        /// Its name.
        name: String,
    },
}

/// `profiles add`.
#[derive(Debug, Args)]
pub struct AddArgs {
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
}

/// The directory the profiles file lives in: `MUSTER_CONFIG_DIR`, or the OS config dir.
pub fn dir() -> Result<PathBuf, Failure> {
    if let Some(dir) = std::env::var_os("MUSTER_CONFIG_DIR").filter(|d| !d.is_empty()) {
        return Ok(PathBuf::from(dir));
    }
    Profiles::dir().map_err(|error| Failure::Local(format!("{error} Set MUSTER_CONFIG_DIR.")))
}

/// The profiles (a missing file is none yet).
pub fn load() -> Result<Profiles, Failure> {
    // Everything `load` refuses is about the file on this computer (unreadable, corrupt,
    // or from a newer Muster), which it names.
    Profiles::load(&dir()?).map_err(|error| Failure::Local(error.to_string()))
}

/// The profile to use: the one named (by `--profile` or `MUSTER_PROFILE`), else the
/// default, else the only one.
pub fn select<'a>(profiles: &'a Profiles, name: Option<&str>) -> Result<&'a Profile, Failure> {
    if let Some(name) = name {
        return profiles.get(name).ok_or_else(|| {
            Failure::Usage(format!(
                "There is no profile '{name}'. `muster profiles list` shows them."
            ))
        });
    }
    if let Some(profile) = profiles.default() {
        return Ok(profile);
    }
    match profiles.list() {
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

/// The engine's connection for `profile`, with its CA file read.
pub fn connection(profile: &Profile) -> Result<Connection, Failure> {
    profile.to_connection().map_err(refusal)
}

/// The organisation of a Muster profile.
pub fn org(profile: &Profile) -> Option<&str> {
    match &profile.kind {
        ProfileKind::Muster { org } => Some(org),
        ProfileKind::Scim => None,
    }
}

/// The failure (and so the exit code) for something core's profiles refused, as the
/// command line has always reported it: a bad profile name or a missing profile is a
/// usage error (2); an unreadable CA file, or a profiles file that cannot be written, is a
/// local problem (1); a bad URL or organisation stays a validation error (7).
fn refusal(error: Error) -> Failure {
    match &error {
        Error::Validation { fields, .. } => match fields.first().map(|f| f.field.as_str()) {
            Some("name") => Failure::Usage(error.to_string()),
            // Core reports its own file problems as field-less validation errors.
            Some("extraCaPath") | None => Failure::Local(error.to_string()),
            Some(_) => error.into(),
        },
        Error::NotFound { message } => {
            Failure::Usage(format!("{message} `muster profiles list` shows them."))
        }
        _ => error.into(),
    }
}

/// Runs `muster profiles ...`.
pub fn run(command: ProfilesCommand, out: &Output) -> Result<(), Failure> {
    let mut profiles = load()?;
    match command {
        ProfilesCommand::Add(args) => add(args, &mut profiles, out),
        ProfilesCommand::List => list(&profiles, out),
        ProfilesCommand::Show { name } => show(&profiles, &name, out),
        ProfilesCommand::Remove { name, force } => remove(&mut profiles, &name, force, out),
        ProfilesCommand::Use { name } => {
            select(&profiles, Some(&name))?;
            profiles.set_default(&name).map_err(refusal)?;
            out.value(&json!({"default": name}), || {
                format!("{name} is now the default profile.")
            })
        }
    }
}

fn add(args: AddArgs, profiles: &mut Profiles, out: &Output) -> Result<(), Failure> {
    let AddArgs {
        name,
        server,
        org,
        scim,
        ca_file,
        default,
    } = args;
    if profiles.get(&name).is_some() {
        return Err(Failure::Usage(format!(
            "A profile '{name}' exists; remove it first."
        )));
    }
    let server = server.trim();
    let mut profile = match (scim, org) {
        (true, _) => Profile::scim(&name, server),
        (false, Some(org)) => Profile::muster(&name, server, org),
        (false, None) => {
            return Err(Failure::Usage(
                "A Muster server needs --org ORG (or pass --scim for another SCIM provider)."
                    .into(),
            ));
        }
    };
    profile.extra_ca_path = match ca_file {
        Some(path) => Some(std::path::absolute(&path).map_err(|error| {
            Failure::Local(format!("Cannot resolve {}: {error}.", path.display()))
        })?),
        None => None,
    };
    profiles.add(profile.clone()).map_err(refusal)?;
    if default {
        profiles.set_default(&name).map_err(refusal)?;
    }
    let is_default = is_default(profiles, &profile);
    out.value(&profile, || {
        format!(
            "Added profile {name}{}.",
            if is_default { " (default)" } else { "" }
        )
    })
}

fn list(profiles: &Profiles, out: &Output) -> Result<(), Failure> {
    if out.json {
        return out.json(profiles.list());
    }
    if profiles.list().is_empty() {
        say!("No profiles. Add one with `muster profiles add NAME --server URL --org ORG`.");
        return Ok(());
    }
    let mut table = Table::new(["", "NAME", "KIND", "SERVER", "ORG"]);
    for profile in profiles.list() {
        table.row([
            if is_default(profiles, profile) {
                "*"
            } else {
                ""
            }
            .to_owned(),
            profile.name.clone(),
            kind_name(profile).to_owned(),
            profile.url.clone(),
            org(profile).unwrap_or_default().to_owned(),
        ]);
    }
    table.print();
    Ok(())
}

fn show(profiles: &Profiles, name: &str, out: &Output) -> Result<(), Failure> {
    let profile = select(profiles, Some(name))?;
    out.value(profile, || {
        let mut lines = vec![
            format!("name     {}", profile.name),
            format!("kind     {}", kind_name(profile)),
            format!("server   {}", profile.url),
        ];
        if let Some(org) = org(profile) {
            lines.push(format!("org      {org}"));
        }
        if let Some(ca) = &profile.extra_ca_path {
            lines.push(format!("ca file  {}", ca.display()));
        }
        if let Some(shown) = &profile.display_name {
            lines.push(format!("shown as {}", crate::output::one_line(shown)));
        }
        let default = if is_default(profiles, profile) {
            "yes"
        } else {
            "no"
        };
        lines.push(format!("default  {default}"));
        lines.join("\n")
    })
}

/// `profiles remove NAME`: the profile's keychain entries and the profile (core's
/// [`Profiles::remove`]), then its offline copy.
///
/// When the keychain cannot be reached, the profile is kept and nothing is removed: the
/// keychain may hold its stored session and its cache key, and with the profile gone no
/// `muster` command could reach them again (`logout` needs the profile), so they would
/// stay behind unseen. A locked keychain is usually a moment from unlocked, so refusing
/// with what to do costs little. `--force` is the way out for a computer that has no
/// keychain at all (CI signing in with MUSTER_TOKEN), where there is nothing to orphan:
/// the profile is removed and a warning names the entries that may be left.
fn remove(profiles: &mut Profiles, name: &str, force: bool, out: &Output) -> Result<(), Failure> {
    select(profiles, Some(name))?;
    let cache = offline::path(name)?;
    let vault = Vault::new();
    let keychain_cleared = match profiles.remove(name, &vault) {
        Ok(()) => true,
        Err(error @ Error::KeychainUnavailable { .. }) if force => {
            profiles.forget(name).map_err(refusal)?;
            eprintln!(
                "Warning: {error} Any keychain entries of profile {name} stay in it (service \
                 {}, accounts profile:{name}:…).",
                vault.service()
            );
            false
        }
        Err(Error::KeychainUnavailable {
            message,
            fix,
            detail,
        }) => {
            return Err(Error::KeychainUnavailable {
                message: format!(
                    "Profile {name} is kept: its keychain entries cannot be deleted ({}).",
                    muster_core::error::clause(&message)
                ),
                fix: format!(
                    "{fix} Then run this again; or pass --force to remove the profile anyway, \
                     leaving any entries it has (a stored session, the offline copy's key) in \
                     the keychain."
                ),
                detail,
            }
            .into());
        }
        Err(error) => return Err(refusal(error)),
    };
    // Its key went with the keychain entries, so a copy left behind could not be read any
    // more; it is removed all the same, being personal data.
    muster_core::cache::remove(&cache).map_err(|error| {
        Failure::Local(format!(
            "Removed profile {name}, but not its offline copy {}: {error}. Delete that file.",
            cache.display()
        ))
    })?;
    out.value(
        &json!({"removed": name, "keychainCleared": keychain_cleared}),
        || {
            if keychain_cleared {
                format!("Removed profile {name}, its keychain entries and its offline copy.")
            } else {
                format!("Removed profile {name} and its offline copy.")
            }
        },
    )
}

fn is_default(profiles: &Profiles, profile: &Profile) -> bool {
    profiles.default().is_some_and(|d| d.name == profile.name)
}

fn kind_name(profile: &Profile) -> &'static str {
    match profile.kind {
        ProfileKind::Muster { .. } => "muster",
        ProfileKind::Scim => "scim",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::failure::exit;

    fn temp_dir() -> PathBuf {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        std::env::temp_dir().join(format!(
            "muster-cli-profiles-{}-{nanos}",
            std::process::id()
        ))
    }

    #[test]
    fn selection_prefers_the_named_then_the_default_then_the_only_one() {
        let dir = temp_dir();
        let mut profiles = Profiles::load(&dir).unwrap();
        assert!(matches!(select(&profiles, None), Err(Failure::Usage(_))));
        profiles
            .add(Profile::muster("a", "https://muster.example", "acme"))
            .unwrap();
        assert_eq!(select(&profiles, None).unwrap().name, "a", "the only one");
        profiles
            .add(Profile::muster("b", "https://muster.example", "acme"))
            .unwrap();
        assert_eq!(
            select(&profiles, None).unwrap().name,
            "a",
            "the first one added is the default"
        );
        profiles.forget("a").unwrap();
        profiles
            .add(Profile::scim("c", "https://idp.example/scim/v2"))
            .unwrap();
        assert!(
            matches!(select(&profiles, None), Err(Failure::Usage(_))),
            "two profiles and no default is ambiguous"
        );
        profiles.set_default("c").unwrap();
        assert_eq!(select(&profiles, None).unwrap().name, "c");
        assert_eq!(select(&profiles, Some("b")).unwrap().name, "b");
        assert!(matches!(
            select(&profiles, Some("zzz")),
            Err(Failure::Usage(_))
        ));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn core_refusals_keep_the_command_lines_exit_codes() {
        let cases = [
            (Error::invalid("name", "bad name"), exit::USAGE),
            (Error::invalid("extraCaPath", "unreadable"), exit::OTHER),
            (Error::invalid("url", "use https"), exit::VALIDATION),
            (Error::invalid("org", "bad org"), exit::VALIDATION),
            (
                Error::Validation {
                    message: "Cannot save profiles.json".into(),
                    scim_type: None,
                    fields: Vec::new(),
                },
                exit::OTHER,
            ),
            (
                Error::NotFound {
                    message: "There is no profile 'x'.".into(),
                },
                exit::USAGE,
            ),
        ];
        for (error, code) in cases {
            let shown = error.to_string();
            assert_eq!(refusal(error).exit_code(), code, "{shown}");
        }
    }
}
