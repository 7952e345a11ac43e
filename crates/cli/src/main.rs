//! `muster`: the command line for Muster, on the same engine as the desktop app
//! (muster-core). Manage the users and groups of a Muster server, or of any SCIM 2.0
//! provider, from scripts, support desks and CI.
//!
//! One module per command group ([`profiles`], [`users`], [`user_actions`], [`transfer`]
//! (CSV export and import), [`bulk`], [`groups`], [`tokens`] (API tokens), [`settings`]
//! (organisation settings), [`account`] (one's own account), [`audit`] (the audit
//! log), [`review`] (the account review), [`orgs`] (the server's organisations),
//! [`session`]), plus where secrets come from
//! ([`credentials`]), the encrypted offline copy ([`offline`]), how things are printed
//! ([`output`], [`columns`]) and how failures become exit codes ([`failure`]).

mod account;
mod audit;
mod bulk;
mod columns;
mod credentials;
mod failure;
mod groups;
mod listing;
mod offline;
mod orgs;
mod output;
mod profiles;
mod review;
mod session;
mod settings;
mod tokens;
mod transfer;
mod user_actions;
mod users;

use std::process::ExitCode;

use std::sync::atomic::{AtomicBool, Ordering};

use clap::{Parser, Subcommand};
use muster_core::Client;
use muster_core::profiles::Profile;
use muster_core::vault::Vault;

use crate::credentials::Source;

use crate::failure::Failure;
use crate::offline::Written;
use crate::output::Output;

const LONG_ABOUT: &str = "\
Manage the users and groups of a Muster server (or any SCIM 2.0 provider) from the command line.

Start with a profile:  muster profiles add acme --server https://muster.acme.test --org acme

Credentials (never taken from the command line):
  MUSTER_TOKEN      a bearer token (a Muster API token, or any SCIM provider's token)
  --email / MUSTER_EMAIL with MUSTER_PASSWORD (or a prompt that does not echo) to sign in
                    with a password; MUSTER_TOTP (or a prompt) when two-factor is on
  Without them, the session `muster login` stored in the OS keychain (Secret Service,
  Keychain, Credential Manager); `muster logout` ends it. Nothing secret is ever written
  to a file: without a keychain, login fails (exit 1) and explains what to do.

Offline: `users list --all` and `muster sync` keep an encrypted copy of the users in the
OS cache dir (its key in the keychain), and each change made with muster updates it;
when the server cannot be reached, `users list`, `users export` and `users import
--dry-run` use that copy and say how old it is (on stderr). `muster logout` and `muster profiles remove` delete it.

Output is for people by default; --json prints the resources as JSON for scripts, and
errors as {\"error\": {\"code\", \"message\", \"fields\"?}} on stdout.

Exit codes:
  0  success
  1  anything else (server failure, unreadable answer, local file problem)
  2  usage: bad arguments, or no such profile
  3  authentication: not signed in, bad credentials, or not allowed
  4  not found: no such user or group
  5  conflict: changed since read, already exists, or not possible in the current state
  6  network: the server cannot be reached, or asked to slow down
  7  validation: the input was refused as invalid";

/// The `muster` command line.
#[derive(Debug, Parser)]
#[command(name = "muster", version, about = "Manage Muster and SCIM 2.0 user accounts", long_about = LONG_ABOUT)]
struct Cli {
    /// The profile to use (default: the default profile, or the only one).
    #[arg(
        long,
        global = true,
        env = "MUSTER_PROFILE",
        value_name = "NAME",
        display_order = 900
    )]
    profile: Option<String>,
    /// Sign in with a password as this user (unless MUSTER_TOKEN is set).
    #[arg(long, env = "MUSTER_EMAIL", value_name = "EMAIL")]
    email: Option<String>,
    /// Print JSON for scripts.
    #[arg(long, global = true, display_order = 901)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Manage connection profiles (no secrets are stored).
    Profiles {
        #[command(subcommand)]
        command: profiles::ProfilesCommand,
    },
    /// Sign in, and show who you are and what the server supports.
    Login {
        /// Sign in with a password as this user (same as the top-level --email).
        #[arg(long, value_name = "EMAIL")]
        email: Option<String>,
    },
    /// End the stored session: sign out at the server, and delete the profile's keychain
    /// entries and its offline copy.
    Logout,
    /// Bring the profile's encrypted offline copy up to date with the server.
    Sync,
    /// Show what the server supports, and why a feature is unavailable.
    Discover,
    /// Manage users.
    Users {
        #[command(subcommand)]
        command: users::UsersCommand,
    },
    /// Manage groups.
    Groups {
        #[command(subcommand)]
        command: groups::GroupsCommand,
    },
    /// Manage the organisation's API tokens (admins, at a Muster server).
    Tokens {
        #[command(subcommand)]
        command: tokens::TokensCommand,
    },
    /// Show or change the organisation's settings (admins change them, at a Muster
    /// server).
    Settings {
        #[command(subcommand)]
        command: settings::SettingsCommand,
    },
    /// Your own account at a Muster server: show it, change your password, two-factor
    /// sign-in, end your other sessions.
    Account {
        #[command(subcommand)]
        command: account::AccountCommand,
    },
    /// Manage the server's organisations (system admins, at a Muster server).
    Orgs {
        #[command(subcommand)]
        command: orgs::OrgsCommand,
    },
    /// Read the organisation's audit log (a Muster server's), filtered as in the app;
    /// a table, --json, or --csv FILE.
    Audit(audit::AuditArgs),
    /// The account review: dormant accounts, never signed in, invitations pending and
    /// expired, two-factor off, and users per status, licence, role and sign-in method.
    Review(review::ReviewArgs),
    /// Run one action over many users (--ids, --filter, --search or --all), with
    /// progress and a summary; safe to re-run.
    Bulk(bulk::BulkArgs),
}

/// The server a command talks to, and the session once signed in.
#[derive(Debug)]
pub struct Target {
    /// The profile chosen.
    pub profile: Profile,
    /// The email for a password sign-in.
    pub email: Option<String>,
    /// The OS keychain, bound to the profile's origin.
    pub vault: Vault,
    client: tokio::sync::OnceCell<(Client, Source)>,
    /// Set by `muster login`: keep this session in the keychain rather than end it.
    keep: AtomicBool,
}

impl Target {
    /// The signed-in client: signs in (or takes the stored session) on first use (see
    /// [`credentials`]).
    pub async fn client(&self) -> Result<&Client, Failure> {
        let (client, _) = self
            .client
            .get_or_try_init(|| {
                credentials::connect(&self.profile, self.email.as_deref(), &self.vault)
            })
            .await?;
        Ok(client)
    }

    /// After a write the server accepted: puts its answer into the profile's offline copy,
    /// when there is one (see [`offline::record`]; never fails the command).
    pub fn record(&self, written: Written<'_>) {
        offline::record(&self.vault, &self.profile.name, written);
    }

    /// Keeps the session in the keychain when the command ends (`muster login`).
    pub fn keep_session(&self) {
        self.keep.store(true, Ordering::Relaxed);
    }

    /// After the command: a stored (or newly kept) session is written back to the
    /// keychain, with the tokens as the client last rotated them; a password session
    /// signed in afresh is ended, since nothing keeps it (a token has nothing to end).
    async fn finish(&self) -> Result<(), Failure> {
        let Some((client, source)) = self.client.get() else {
            return Ok(());
        };
        if *source == Source::Stored || self.keep.load(Ordering::Relaxed) {
            self.vault
                .store_tokens(&self.profile.name, &client.tokens().await)?;
        } else if let Err(error) = client.sign_out().await {
            // The command's own outcome is what the exit code reports; the session that
            // could not be ended is said on stderr, since it stays valid until it expires.
            eprintln!(
                "muster: the sign-in session could not be ended on the server ({error}); \
                 it stays valid there until it expires."
            );
        }
        Ok(())
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let out = Output { json: cli.json };
    match run(cli, out) {
        Ok(()) => ExitCode::from(failure::exit::OK),
        Err(failure) => failure.report(out.json),
    }
}

fn run(cli: Cli, out: Output) -> Result<(), Failure> {
    if let Command::Profiles { command } = cli.command {
        return profiles::run(command, &out);
    }
    let profiles = profiles::load()?;
    let profile = profiles::select(&profiles, cli.profile.as_deref())?.clone();
    let email = match &cli.command {
        Command::Login { email: Some(email) } => Some(email.clone()),
        _ => cli.email.clone(),
    };
    // The keychain for this profile's origin: a secret stored for another server under
    // the same profile name is never sent (it is deleted when found).
    let vault = Vault::new().bound_to(profiles::connection(&profile)?.origin()?);
    let target = Target {
        profile,
        email,
        vault,
        client: tokio::sync::OnceCell::new(),
        keep: AtomicBool::new(false),
    };
    let runtime = tokio::runtime::Runtime::new()
        .map_err(|error| Failure::Local(format!("Cannot start: {error}.")))?;
    runtime.block_on(async move {
        let outcome = match cli.command {
            Command::Profiles { .. } => Ok(()),
            Command::Login { .. } => session::login(&target, &out).await,
            Command::Logout => return session::logout(&target, &out).await,
            Command::Sync => session::sync(&target, &out).await,
            Command::Discover => session::discover(&target, &out).await,
            Command::Users { command } => users::run(command, &target, &out).await,
            Command::Groups { command } => groups::run(command, &target, &out).await,
            Command::Tokens { command } => tokens::run(command, &target, &out).await,
            Command::Settings { command } => settings::run(command, &target, &out).await,
            Command::Orgs { command } => orgs::run(command, &target, &out).await,
            Command::Bulk(args) => bulk::run(args, &target, &out).await,
            Command::Account { command } => account::run(command, &target, &out).await,
            Command::Audit(args) => audit::run(args, &target, &out).await,
            Command::Review(args) => review::run(args, &target, &out).await,
        };
        let finished = target.finish().await;
        outcome.and(finished)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_well_formed() {
        Cli::command().debug_assert();
    }
}
