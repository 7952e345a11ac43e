//! `muster settings show|set`: the organisation's settings (admins change them, at a
//! Muster server): the password policy with the rules it asks for, the link and session
//! lifetimes in words, and two-factor for admins. `set` prints what the server saved.

use clap::{Args, Subcommand};
use muster_core::settings::{Lifetime, OrgSettings, PolicyStyle, SettingsChange, words};

use crate::Target;
use crate::failure::Failure;
use crate::output::{Output, say};

/// `muster settings ...`.
#[derive(Debug, Subcommand)]
pub enum SettingsCommand {
    /// Show the settings.
    Show,
    /// Change some settings; the others stay as they are.
    Set(SetArgs),
}

/// What `muster settings set` changes.
#[derive(Debug, Args)]
pub struct SetArgs {
    /// shop (12 characters, mixed) or nist (8 characters, no composition rules).
    #[arg(long, value_parser = policy_arg)]
    password_policy: Option<PolicyStyle>,
    /// How long an invitation works, in hours (1 to 720).
    #[arg(long, value_name = "HOURS")]
    invitation_hours: Option<u32>,
    /// How long a password-reset link works, in minutes (5 to 10080).
    #[arg(long, value_name = "MINUTES")]
    reset_link_minutes: Option<u32>,
    /// How long a sign-in link works, in minutes (5 to 1440).
    #[arg(long, value_name = "MINUTES")]
    magic_link_minutes: Option<u32>,
    /// How long a session lasts, in days (1 to 90).
    #[arg(long, value_name = "DAYS")]
    session_days: Option<u32>,
    /// How long a session may go unused, in days (1 to 30).
    #[arg(long, value_name = "DAYS")]
    session_idle_days: Option<u32>,
    /// Whether admins must use two-factor sign-in.
    #[arg(long, value_name = "true|false")]
    require_admin_mfa: Option<bool>,
}

fn policy_arg(text: &str) -> Result<PolicyStyle, String> {
    text.parse().map_err(|_| "expected shop or nist".to_owned())
}

impl SetArgs {
    fn change(&self) -> SettingsChange {
        let lifetimes = [
            (Lifetime::INVITATION, self.invitation_hours),
            (Lifetime::RESET_LINK, self.reset_link_minutes),
            (Lifetime::MAGIC_LINK, self.magic_link_minutes),
            (Lifetime::SESSION, self.session_days),
            (Lifetime::SESSION_IDLE, self.session_idle_days),
        ]
        .into_iter()
        .filter_map(|(lifetime, value)| value.map(|v| (lifetime.key.to_owned(), v)))
        .collect();
        SettingsChange {
            password_policy: self.password_policy,
            lifetimes,
            require_admin_mfa: self.require_admin_mfa,
        }
    }
}

/// Runs `muster settings ...`.
pub async fn run(command: SettingsCommand, target: &Target, out: &Output) -> Result<(), Failure> {
    let client = target.client().await?;
    let settings = match command {
        SettingsCommand::Show => client.org_settings().get().await?,
        SettingsCommand::Set(args) => {
            let change = args.change();
            if change.is_empty() {
                return Err(Failure::Usage(
                    "Say what to change, e.g. --invitation-hours 72 (see --help).".to_owned(),
                ));
            }
            client.org_settings().change(&change).await?
        }
    };
    if out.json {
        return out.json(&settings);
    }
    print(&settings);
    Ok(())
}

fn print(settings: &OrgSettings) {
    say!(
        "password policy     {} ({})",
        settings.password_policy.name(),
        settings.password_policy.label()
    );
    for rule in settings.password_policy.rules() {
        say!("                    - {rule}");
    }
    let names = [
        "invitations",
        "reset links",
        "sign-in links",
        "sessions",
        "idle sessions",
    ];
    for (lifetime, name) in Lifetime::ALL.into_iter().zip(names) {
        let value = settings.lifetime(lifetime);
        say!(
            "{name:<20}{} ({value} {})",
            words(value, lifetime.unit),
            lifetime.unit
        );
    }
    say!(
        "admins' two-factor  {}",
        if settings.require_admin_mfa {
            "required"
        } else {
            "up to each admin"
        }
    );
}
