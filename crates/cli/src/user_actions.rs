//! `muster users <action> ID`: the account actions a Muster server adds to SCIM, one
//! subcommand each, and `users responsibilities ID`, what deactivation must hand over.

use clap::{Args, Subcommand};
use muster_core::Error;
use muster_core::actions::{Action, Reassign, Responsibilities};
use muster_core::rules;
use muster_scim::user::User;
use serde_json::Map;

use crate::Target;
use crate::credentials;
use crate::failure::Failure;
use crate::offline::Written;
use crate::output::{Output, Table};
use crate::users::who;

/// Who takes over a user's responsibilities (deactivating or deleting them).
#[derive(Debug, Default, Args)]
pub struct Handover {
    /// Who becomes default technician of the user's properties.
    #[arg(long, value_name = "USER_ID")]
    reassign_default_technician: Option<String>,
    /// Who becomes primary technician of the user's open tasks.
    #[arg(long, value_name = "USER_ID")]
    reassign_primary_technician: Option<String>,
    /// Who becomes office assignee of the user's open tasks.
    #[arg(long, value_name = "USER_ID")]
    reassign_office_assignee: Option<String>,
    /// Who becomes manager of the user's warehouses.
    #[arg(long, value_name = "USER_ID")]
    reassign_warehouse_manager: Option<String>,
    /// Hand every kind of responsibility to this user (the options above win).
    #[arg(long, value_name = "USER_ID", visible_alias = "reassign-to")]
    reassign_all: Option<String>,
}

impl Handover {
    /// Whether any handover was named.
    pub fn is_empty(&self) -> bool {
        self.reassign() == Reassign::default()
    }

    /// The reassignment the server is sent.
    pub fn reassign(&self) -> Reassign {
        let all = self
            .reassign_all
            .as_deref()
            .map(Reassign::all_to)
            .unwrap_or_default();
        Reassign {
            default_technician: self
                .reassign_default_technician
                .clone()
                .or(all.default_technician),
            primary_technician: self
                .reassign_primary_technician
                .clone()
                .or(all.primary_technician),
            office_assignee: self
                .reassign_office_assignee
                .clone()
                .or(all.office_assignee),
            warehouse_manager: self
                .reassign_warehouse_manager
                .clone()
                .or(all.warehouse_manager),
        }
    }
}

/// The action subcommands of `muster users`.
/// How an invitation goes out (`users invite`, `users create --invite`).
#[derive(Debug, Default, Clone, Copy, clap::Args)]
pub struct InviteArgs {
    /// The invitation is for the mobile app (the email says to sign in there).
    #[arg(long)]
    mobile: bool,
    /// The welcome page also asks for a code sent to the user's phone by SMS.
    #[arg(long)]
    sms_code: bool,
}

impl InviteArgs {
    /// Whether any option is given.
    pub fn is_set(self) -> bool {
        self.mobile || self.sms_code
    }

    /// Whether the welcome page is to ask for an SMS code.
    pub fn sms_code(self) -> bool {
        self.sms_code
    }

    /// The engine's invitation options.
    pub fn invite(self) -> muster_core::actions::Invite {
        muster_core::actions::Invite {
            channel: if self.mobile {
                muster_core::actions::InviteChannel::Mobile
            } else {
                muster_core::actions::InviteChannel::Web
            },
            sms_code: self.sms_code,
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum ActionCommand {
    /// Send (or resend) the invitation email; a resend voids the previous link.
    Invite {
        /// The user's id.
        id: String,
        #[command(flatten)]
        options: InviteArgs,
    },
    /// Email a single-use password-reset link.
    SendReset {
        /// The user's id.
        id: String,
    },
    /// Email a single-use sign-in link.
    SendMagicLink {
        /// The user's id.
        id: String,
    },
    /// Set the user's password, from a prompt or stdin (never the command line).
    ///
    /// On a terminal the password is asked for twice without echo; when stdin is piped it
    /// is read from there (one trailing line end removed). Signs the user out everywhere.
    SetPassword {
        /// The user's id.
        id: String,
        /// Do not make the user choose a new password at the next sign-in.
        #[arg(long)]
        no_must_change: bool,
    },
    /// Bar the user at once and sign them out everywhere.
    Suspend {
        /// The user's id.
        id: String,
    },
    /// Lift a suspension.
    Unsuspend {
        /// The user's id.
        id: String,
    },
    /// Sign the user out everywhere.
    RevokeSessions {
        /// The user's id.
        id: String,
    },
    /// Clear the user's two-factor enrolment.
    ResetMfa {
        /// The user's id.
        id: String,
    },
    /// Deactivate (data is kept), handing the user's responsibilities to active users.
    Deactivate {
        /// The user's id.
        id: String,
        #[command(flatten)]
        handover: Handover,
    },
    /// Undo a deactivation.
    Reactivate {
        /// The user's id.
        id: String,
    },
    /// Undo a delete (system admins only).
    Restore {
        /// The user's id.
        id: String,
    },
    /// Set the user's profile photo from a PNG or JPEG file (a Muster server shrinks it to
    /// 256 pixels and stores it as a new JPEG).
    SetPhoto {
        /// The user's id.
        id: String,
        /// The image file.
        file: std::path::PathBuf,
    },
    /// Remove the user's profile photo.
    RemovePhoto {
        /// The user's id.
        id: String,
    },
    /// Show what the user is responsible for (deactivation hands it over).
    Responsibilities {
        /// The user's id.
        id: String,
    },
    /// Show what can be done to the user now, and why not where it cannot (the same
    /// rules the desktop app shows).
    Actions {
        /// The user's id.
        id: String,
    },
}

/// Runs one action subcommand.
pub async fn run(command: ActionCommand, target: &Target, out: &Output) -> Result<(), Failure> {
    let (id, action, done) = match command {
        ActionCommand::Responsibilities { id } => {
            let client = target.client().await?;
            let held = client.actions().responsibilities(&id).await?;
            return out.value(&held, || describe(&held));
        }
        ActionCommand::Actions { id } => return actions(&id, target, out).await,
        ActionCommand::SetPhoto { id, file } => {
            return photo(&id, Some(&file), target, out).await;
        }
        ActionCommand::RemovePhoto { id } => return photo(&id, None, target, out).await,
        ActionCommand::Invite { id, options } => (
            id,
            Action::SendWelcome(options.invite()),
            "Sent the invitation to",
        ),
        ActionCommand::SendReset { id } => (
            id,
            Action::SendPasswordReset,
            "Sent a password-reset link to",
        ),
        ActionCommand::SendMagicLink { id } => {
            (id, Action::SendMagicLink, "Sent a sign-in link to")
        }
        ActionCommand::SetPassword { id, no_must_change } => {
            // Read before signing in, so a mistyped confirmation costs no request.
            let password = credentials::new_password()?;
            let action = Action::SetPassword {
                password,
                must_change: !no_must_change,
            };
            (id, action, "Set the password of")
        }
        ActionCommand::Suspend { id } => (id, Action::Suspend, "Suspended"),
        ActionCommand::Unsuspend { id } => (id, Action::Unsuspend, "Lifted the suspension of"),
        ActionCommand::RevokeSessions { id } => (id, Action::RevokeSessions, "Signed out"),
        ActionCommand::ResetMfa { id } => (id, Action::ResetMfa, "Reset two-factor of"),
        ActionCommand::Deactivate { id, handover } => {
            let reassign = handover.reassign();
            (id, Action::Deactivate { reassign }, "Deactivated")
        }
        ActionCommand::Reactivate { id } => (id, Action::Reactivate, "Reactivated"),
        ActionCommand::Restore { id } => (id, Action::Restore, "Restored"),
    };
    let client = target.client().await?;
    let deactivating = matches!(action, Action::Deactivate { .. });
    let user = match client.actions().run(&id, action).await {
        Ok(done) => done.value,
        Err(error @ Error::Conflict { .. }) if deactivating => {
            return Err(refused_deactivation(client, &id, error).await);
        }
        Err(error) => return Err(error.into()),
    };
    target.record(Written::User(&user));
    out.value(&user, || {
        format!("{done} {}{}.", who(&user), status_note(&user))
    })
}

/// `users set-photo ID FILE` (with a file) and `users remove-photo ID`.
async fn photo(
    id: &str,
    file: Option<&std::path::Path>,
    target: &Target,
    out: &Output,
) -> Result<(), Failure> {
    let client = target.client().await?;
    let max = client
        .discover()
        .await?
        .photo_max_bytes
        .ok_or_else(|| Error::Unsupported {
            message: "This server does not take profile photos.".to_owned(),
        })?;
    let user = match file {
        Some(path) => {
            let unreadable = |error: std::io::Error| {
                Error::invalid(
                    "photo",
                    format!("{} could not be read: {error}.", path.display()),
                )
            };
            // A file too large is refused before it is read.
            muster_core::photos::check_size(
                std::fs::metadata(path).map_err(unreadable)?.len(),
                max,
            )?;
            let bytes = std::fs::read(path).map_err(unreadable)?;
            client.set_photo(id, &bytes, max, None).await?.value
        }
        None => client.remove_photo(id, None).await?.value,
    };
    target.record(Written::User(&user));
    let done = if file.is_some() {
        "Set the photo of"
    } else {
        "Removed the photo of"
    };
    out.value(&user, || {
        let left = muster_core::photos::photo_url(&user).filter(|_| file.is_none());
        match left {
            // A photo another system set through SCIM is not the server's to remove.
            Some(url) => format!(
                "{done} {}; the photo another system set stays: {url}",
                who(&user)
            ),
            None => format!("{done} {}.", who(&user)),
        }
    })
}

/// `users actions ID`: the engine's offers for the user, as the signed-in account.
async fn actions(id: &str, target: &Target, out: &Output) -> Result<(), Failure> {
    let client = target.client().await?;
    let users = client.users();
    let (user, capabilities) = tokio::join!(users.get(id), client.discover());
    let (user, capabilities) = (user?.value, capabilities?);
    let account = client.account().map(rules::Account::from);
    let offers = rules::offers(&user, account.as_ref(), &capabilities);
    let note = rules::missing_actions_note(&capabilities);
    out.value(&offers, || {
        let mut table = Table::new(["ACTION", "AVAILABLE", "WHY NOT"]);
        for offer in &offers {
            table.row([
                offer.action.name().to_owned(),
                if offer.available { "yes" } else { "no" }.to_owned(),
                offer.reason.clone().unwrap_or_default(),
            ]);
        }
        let mut lines = table.lines();
        if offers.is_empty() {
            lines.push(format!("Nothing can be done to {} now.", who(&user)));
        }
        if let Some(note) = note {
            lines.push(note.to_owned());
        }
        lines.join("\n")
    })
}

/// A refused deactivation, with what the user is still responsible for (the server's
/// message names it too; the counts make it usable by scripts).
async fn refused_deactivation(client: &muster_core::Client, id: &str, error: Error) -> Failure {
    let Ok(held) = client.actions().responsibilities(id).await else {
        return error.into();
    };
    let mut extra = Map::new();
    if let Ok(value) = serde_json::to_value(&held) {
        extra.insert("responsibilities".into(), value);
    }
    let mut notes: Vec<String> = held
        .kinds
        .iter()
        .map(|kind| format!("{}: {}", kind_flag(&kind.kind), kind.label))
        .collect();
    if !notes.is_empty() {
        notes.push(
            "Name who takes each over with the options above, or --reassign-all USER_ID.".into(),
        );
    }
    Failure::explained(error, extra, notes)
}

/// The option that reassigns `kind`.
fn kind_flag(kind: &muster_core::actions::ResponsibilityKind) -> &'static str {
    use muster_core::actions::ResponsibilityKind as K;
    match kind {
        K::DefaultTechnician => "--reassign-default-technician",
        K::PrimaryTechnician => "--reassign-primary-technician",
        K::OfficeAssignee => "--reassign-office-assignee",
        K::WarehouseManager => "--reassign-warehouse-manager",
        K::Other => "(unknown kind; --reassign-all)",
    }
}

fn describe(held: &Responsibilities) -> String {
    if held.kinds.is_empty() {
        return "No responsibilities: nothing to hand over.".into();
    }
    let mut table = Table::new(["KIND", "COUNT", "WHAT"]);
    for kind in &held.kinds {
        let name = kind.kind.name().to_owned();
        table.row([name, kind.count.to_string(), kind.label.clone()]);
    }
    table.lines().join("\n")
}

/// `; now suspended` from the user's status, when the server reports one.
fn status_note(user: &User) -> String {
    user.shop
        .as_ref()
        .and_then(|s| s.status.as_ref())
        .map(|status| format!("; now {status}"))
        .unwrap_or_default()
}
