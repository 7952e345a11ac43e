//! What may be done to a user, decided in one place. The desktop app's detail screen and
//! command palette, the bulk planner and the command line all ask [`offers`]; none of them
//! keeps a rule of its own.
//!
//! For a Muster server the answer follows the server's `/actions` document: the statuses
//! each action applies to, who may use it, whether on oneself, and what the user must have
//! ([`ActionRule`]); editing and deleting follow the rules the server enforces on SCIM
//! writes (admins only; nobody deletes themselves). For any other SCIM provider it is what
//! SCIM itself allows: edit, deactivate and reactivate through `active`, set a password
//! through `password` when the provider says it may be changed, and delete.
//!
//! An action that does not apply to the user as they are (unsuspending someone who is not
//! suspended) is not listed. One that applies but that the signed-in account may not use
//! is listed with `available: false` and the reason, in words for people.

use muster_scim::message::PatchOperation;
use muster_scim::user::{Role, User, UserStatus};
use serde::{Deserialize, Serialize};
#[cfg(feature = "specta")]
use specta::Type;

use crate::discovery::{ActionRule, Capabilities, Requires};

/// Something that can be done to one user.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(Type))]
#[serde(rename_all = "kebab-case")]
pub enum UserAction {
    /// Change the user's details.
    Edit,
    /// Send (or resend) the invitation.
    SendWelcome,
    /// Email a password-reset link.
    SendPasswordReset,
    /// Email a sign-in link.
    SendMagicLink,
    /// Set the password without the old one.
    SetPassword,
    /// Bar the user at once, signing them out.
    Suspend,
    /// Lift a suspension.
    Unsuspend,
    /// Sign the user out everywhere.
    RevokeSessions,
    /// Clear the two-factor enrolment.
    ResetMfa,
    /// Deactivate (with reassignment of responsibilities on a Muster server).
    Deactivate,
    /// Undo a deactivation.
    Reactivate,
    /// Undo a soft delete.
    Restore,
    /// Delete the user.
    Delete,
}

impl UserAction {
    /// Every action, in the order they are shown.
    pub const ALL: [UserAction; 13] = [
        UserAction::Edit,
        UserAction::SendWelcome,
        UserAction::SendPasswordReset,
        UserAction::SendMagicLink,
        UserAction::SetPassword,
        UserAction::Suspend,
        UserAction::Unsuspend,
        UserAction::RevokeSessions,
        UserAction::ResetMfa,
        UserAction::Deactivate,
        UserAction::Reactivate,
        UserAction::Restore,
        UserAction::Delete,
    ];

    /// The name: `edit`, `send-welcome`… (a Muster server's action name where it has one).
    pub fn name(self) -> &'static str {
        match self {
            UserAction::Edit => "edit",
            UserAction::SendWelcome => "send-welcome",
            UserAction::SendPasswordReset => "send-password-reset",
            UserAction::SendMagicLink => "send-magic-link",
            UserAction::SetPassword => "set-password",
            UserAction::Suspend => "suspend",
            UserAction::Unsuspend => "unsuspend",
            UserAction::RevokeSessions => "revoke-sessions",
            UserAction::ResetMfa => "reset-mfa",
            UserAction::Deactivate => "deactivate",
            UserAction::Reactivate => "reactivate",
            UserAction::Restore => "restore",
            UserAction::Delete => "delete",
        }
    }

    /// The action called `name`, if there is one.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|action| action.name() == name)
    }

    /// What it is called for people, as a verb phrase: "suspend", "send a sign-in link".
    fn words(self) -> &'static str {
        match self {
            UserAction::Edit => "change users",
            UserAction::SendWelcome => "send invitations",
            UserAction::SendPasswordReset => "send password reset links",
            UserAction::SendMagicLink => "send sign-in links",
            UserAction::SetPassword => "set passwords",
            UserAction::Suspend => "suspend users",
            UserAction::Unsuspend => "lift suspensions",
            UserAction::RevokeSessions => "sign users out",
            UserAction::ResetMfa => "reset two-factor",
            UserAction::Deactivate => "deactivate users",
            UserAction::Reactivate => "reactivate users",
            UserAction::Restore => "restore deleted users",
            UserAction::Delete => "delete users",
        }
    }
}

/// What a technician is told: the server's own words for refusing them.
const TECHNICIANS: &str = "Technicians do not see or manage accounts in Muster: an admin \
                           manages them, and support staff (viewers) review them.";

/// The signed-in account, as far as the rules care.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Account {
    /// Its user id in the organisation shown (`None` for a system admin, or when the
    /// provider does not say).
    pub user_id: Option<String>,
    /// Its role (`None` when the provider does not say: the provider then decides).
    pub role: Option<Role>,
    /// Whether it is a system admin.
    pub system_admin: bool,
}

impl Account {
    /// Why this account may not change users at all, if so (it may still look).
    pub fn read_only_reason(&self) -> Option<String> {
        if self.system_admin {
            return None;
        }
        match &self.role {
            None | Some(Role::Admin) => None,
            Some(Role::Technician) => Some(TECHNICIANS.to_owned()),
            Some(role) => Some(format!(
                "You are signed in as a {role}: you can review accounts, but only admins change \
                 them."
            )),
        }
    }

    /// Why this account may not see users at all, if so: a technician has nothing in
    /// Muster (a Muster server refuses them user reads), so there is nothing to sync.
    pub fn no_access_reason(&self) -> Option<String> {
        (!self.system_admin && self.role == Some(Role::Technician)).then(|| TECHNICIANS.to_owned())
    }

    /// Why this account may not administer the organisation itself (its API tokens, its
    /// settings), if so: admins and system admins may.
    pub fn admin_only_reason(&self) -> Option<String> {
        if self.system_admin {
            return None;
        }
        match &self.role {
            None | Some(Role::Admin) => None,
            Some(role) => Some(format!(
                "You are signed in as a {role}: only admins manage the organisation's API \
                 tokens and settings."
            )),
        }
    }

    /// Why this account may not administer the server itself (its organisations), if so:
    /// only system admins may.
    pub fn system_admin_only_reason(&self) -> Option<String> {
        (!self.system_admin).then(|| {
            "Only system admins manage the server's organisations; an organisation's own \
             admins cannot."
                .to_owned()
        })
    }
}

/// One action as it stands for one user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(Type))]
#[serde(rename_all = "camelCase")]
pub struct Offer {
    /// The action.
    pub action: UserAction,
    /// Whether the signed-in account can do it now.
    pub available: bool,
    /// Why not, when not.
    pub reason: Option<String>,
}

impl Offer {
    fn yes(action: UserAction) -> Self {
        Self {
            action,
            available: true,
            reason: None,
        }
    }

    fn no(action: UserAction, reason: impl Into<String>) -> Self {
        Self {
            action,
            available: false,
            reason: Some(reason.into()),
        }
    }
}

/// Every action that applies to `user`, in display order, each available or not with the
/// reason. `account` is the signed-in account (`None` when unknown); `capabilities` are the
/// provider's.
pub fn offers(user: &User, account: Option<&Account>, capabilities: &Capabilities) -> Vec<Offer> {
    UserAction::ALL
        .into_iter()
        .filter_map(|action| offer(action, user, account, capabilities))
        .collect()
}

/// `action` for `user`: `None` when it does not apply to the user as they are (or the
/// provider has no such thing); otherwise available or not, with the reason.
pub fn offer(
    action: UserAction,
    user: &User,
    account: Option<&Account>,
    capabilities: &Capabilities,
) -> Option<Offer> {
    if capabilities.is_muster {
        muster_offer(action, user, account, capabilities)
    } else {
        scim_offer(action, user, capabilities)
    }
}

/// A Muster server: its `/actions` document, and its rules for SCIM writes.
fn muster_offer(
    action: UserAction,
    user: &User,
    account: Option<&Account>,
    capabilities: &Capabilities,
) -> Option<Offer> {
    let deleted = user.status() == UserStatus::Deleted;
    let refused = |reason: Option<String>| match reason {
        Some(reason) => Offer::no(action, reason),
        None => Offer::yes(action),
    };
    // Deleting is the server's `delete` action where it has one (it hands responsibilities
    // over); else SCIM's DELETE, as editing is a SCIM write: the server hides deleted users
    // from both.
    let scim_write = action == UserAction::Edit
        || (action == UserAction::Delete && capabilities.action("delete").is_none());
    match action {
        _ if scim_write => {
            (!deleted).then(|| refused(refusal(action, user.id.as_deref(), account, capabilities)))
        }
        _ => {
            let rule = capabilities.action(action.name())?;
            if !applies(rule, user) {
                return None;
            }
            Some(refused(
                refusal(action, user.id.as_deref(), account, capabilities)
                    .or_else(|| lacks(rule, user)),
            ))
        }
    }
}

/// Why `account` may not do `action` to the user with id `user_id`, whatever state the
/// user is in (the role, system admins only, oneself), if it may not. The console asks
/// this before sending an action: the user's state is the server's to check (a copy may
/// be old), but who may act is known here.
pub fn refusal(
    action: UserAction,
    user_id: Option<&str>,
    account: Option<&Account>,
    capabilities: &Capabilities,
) -> Option<String> {
    if !capabilities.is_muster {
        // Another provider decides with its own rules; nothing is known of them here.
        return None;
    }
    let unknown = Account::default();
    let account = account.unwrap_or(&unknown);
    let oneself = account.user_id.is_some() && account.user_id.as_deref() == user_id;
    let (requires, not_on_self) = match (action, capabilities.action(action.name())) {
        (UserAction::Edit, _) => (Requires::Admin, None),
        (_, Some(rule)) => (rule.requires, rule.not_on_self.clone()),
        (UserAction::Delete, None) => (
            Requires::Admin,
            Some("You cannot delete your own account.".to_owned()),
        ),
        (_, None) => {
            return Some(format!("This server does not offer '{}'.", action.name()));
        }
    };
    if requires == Requires::SystemAdmin && !account.system_admin {
        return Some(format!("Only system admins can {}.", action.words()));
    }
    if let Some(reason) = account.read_only_reason() {
        return Some(reason);
    }
    if oneself {
        return not_on_self;
    }
    None
}

/// Whether the action applies to the user as they are: their status is one it starts
/// from, and they have what it works on (two-factor to reset).
fn applies(rule: &ActionRule, user: &User) -> bool {
    let status = user.status();
    if let Some(from) = &rule.allowed_from
        && !from.contains(&status)
    {
        return false;
    }
    let shop = user.shop.as_ref();
    !rule
        .needs
        .iter()
        .any(|need| need == "mfaEnabled" && shop.and_then(|s| s.mfa_enabled) != Some(true))
}

/// What the user lacks for an action that applies (an email address to send to), or a
/// need this version does not know.
fn lacks(rule: &ActionRule, user: &User) -> Option<String> {
    rule.needs.iter().find_map(|need| match need.as_str() {
        // As the server finds one: the primary email, else the first, else a userName
        // that is an address.
        "email"
            if user.primary_email().is_none()
                && !muster_scim::user::looks_like_email(&user.user_name) =>
        {
            Some("This user has no email address to send to; add one first.".to_owned())
        }
        "email" | "mfaEnabled" => None,
        other => Some(format!(
            "This server asks for something this version of Muster does not know ({other}), \
             so it is not offered here."
        )),
    })
}

/// Any other SCIM provider: what SCIM itself can say.
fn scim_offer(action: UserAction, user: &User, capabilities: &Capabilities) -> Option<Offer> {
    let in_use = user.active != Some(false);
    match action {
        UserAction::Edit | UserAction::Delete => Some(Offer::yes(action)),
        UserAction::Deactivate if in_use => Some(Offer::yes(action)),
        UserAction::Reactivate if !in_use => Some(Offer::yes(action)),
        UserAction::SetPassword if capabilities.change_password => Some(Offer::yes(action)),
        _ => None,
    }
}

/// Why `action` does not apply to `user` as they are (for a bulk job's skipped users):
/// the statuses it applies to, or what the user lacks.
pub fn not_applicable(action: UserAction, user: &User, capabilities: &Capabilities) -> String {
    let status = user.status();
    if status == UserStatus::Deleted {
        return "The user is deleted.".to_owned();
    }
    let Some(rule) = capabilities.action(action.name()) else {
        return format!("This provider does not offer '{}'.", action.name());
    };
    if let Some(from) = rule
        .allowed_from
        .as_ref()
        .filter(|from| !from.contains(&status))
    {
        let names: Vec<&str> = from.iter().map(UserStatus::as_str).collect();
        return format!(
            "The user is {status}; '{}' applies to {} users.",
            action.name(),
            names.join(" or ")
        );
    }
    if rule.needs.iter().any(|need| need == "mfaEnabled") {
        return "Two-factor is not set up.".to_owned();
    }
    format!("'{}' does not apply to this user.", action.name())
}

impl From<&crate::auth::Account> for Account {
    /// The account a client signed in as: a system admin, or an org user with a role.
    fn from(account: &crate::auth::Account) -> Self {
        let role = account.role.trim();
        Self {
            user_id: (!account.system_admin).then(|| account.id.clone()),
            role: (!role.is_empty()).then(|| Role::parse(role)),
            system_admin: account.system_admin,
        }
    }
}

/// Why `operations` may not be sent for `user`, if one writes over (or inside) an
/// attribute the server sent that could not be read (`User::unread`): the change would
/// replace what the server holds with what nobody here has seen.
pub fn unread_refusal(user: &User, operations: &[PatchOperation]) -> Option<String> {
    let unread = operations
        .iter()
        .filter_map(|operation| operation.path.as_deref())
        .find_map(|path| user.unread_under(path))?;
    Some(format!(
        "The server sent this user's '{}' in a form Muster could not read, so it is not \
         changed here: that would replace what the server holds.",
        unread.attribute
    ))
}

/// A field of the user form that the signed-in account may not change for this user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(Type))]
#[serde(rename_all = "camelCase")]
pub struct FieldLock {
    /// The form's field: `role`.
    pub field: String,
    /// Why, for people.
    pub reason: String,
}

/// The form fields `account` may not change for the user with id `user_id`: on a Muster
/// server nobody changes their own role (the server refuses it).
pub fn locked_fields(
    user_id: Option<&str>,
    account: Option<&Account>,
    capabilities: &Capabilities,
) -> Vec<FieldLock> {
    let oneself = account
        .and_then(|a| a.user_id.as_deref())
        .is_some_and(|me| Some(me) == user_id);
    if !capabilities.is_muster || !oneself {
        return Vec::new();
    }
    vec![FieldLock {
        field: "role".to_owned(),
        reason: "You cannot change your own role; ask another admin.".to_owned(),
    }]
}

/// The one sentence that says what a provider without account actions lacks, for a screen
/// to show once (instead of a reason on every missing button); `None` for a Muster server.
pub fn missing_actions_note(capabilities: &Capabilities) -> Option<&'static str> {
    (!capabilities.is_muster).then_some(
        "Invitations, sign-in links, suspension, sign-out and two-factor resets need a Muster \
         server; this provider offers what SCIM itself can do.",
    )
}

#[cfg(test)]
pub(crate) mod tests;
