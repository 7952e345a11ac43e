//! Account actions a Muster server adds to SCIM (`POST /Users/{id}/actions/NAME`):
//! invitations and links, passwords, suspension, sessions, two-factor, deactivation with
//! reassignment, restore; and the two Muster endpoints the deactivate wizard needs, a
//! user's [`Responsibilities`] and the [`Assignee`]s who can take them over.
//!
//! Every action is a POST, sent exactly once, and answers the user as it now is. A server
//! that lacks an action (any other SCIM provider, or an older Muster) gives
//! [`Error::Unsupported`] with a reason, not a bare 404.

use muster_scim::user::User;
use reqwest::Method;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use zeroize::Zeroize;

use crate::client::Client;
use crate::connection::ServerKind;
use crate::error::Error;
use crate::resources::{Versioned, path_of, segment, versioned};
use crate::secret::Secret;

/// How an invitation goes out: the app it is for, and whether the welcome page also asks
/// for a code sent to the user's phone by SMS (a Muster server's `send-welcome` options).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(default, rename_all = "camelCase")]
pub struct Invite {
    /// The app the email says to sign in to.
    pub channel: InviteChannel,
    /// Ask for a code sent by SMS (the user needs a phone number).
    pub sms_code: bool,
}

/// The app an invitation is for.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "lowercase")]
pub enum InviteChannel {
    /// The web app.
    #[default]
    Web,
    /// The mobile app.
    Mobile,
}

impl Action {
    /// The plain invitation: for the web app, no SMS code.
    pub fn welcome() -> Self {
        Self::SendWelcome(Invite::default())
    }
}

/// An account action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Send (or resend) the invitation, with its options; a resend voids the previous
    /// link. Invited users.
    SendWelcome(Invite),
    /// Email a single-use password-reset link. Active users.
    SendPasswordReset,
    /// Email a single-use sign-in link. Active users.
    SendMagicLink,
    /// Set the password without the old one; signs the user out everywhere.
    SetPassword {
        /// The new password; it travels only in the request body.
        password: Secret,
        /// Whether the user must change it at the next sign-in.
        must_change: bool,
    },
    /// Bar the user at once and sign them out everywhere.
    Suspend,
    /// Lift a suspension.
    Unsuspend,
    /// Sign the user out everywhere.
    RevokeSessions,
    /// Clear the user's two-factor enrolment.
    ResetMfa,
    /// Deactivate, handing the user's responsibilities to active users.
    Deactivate {
        /// Who takes over what.
        reassign: Reassign,
    },
    /// Undo a deactivation.
    Reactivate,
    /// Undo a soft delete (system admins only).
    Restore,
    /// Delete (a soft delete a system admin can undo), handing the user's
    /// responsibilities to active users.
    Delete {
        /// Who takes over what.
        reassign: Reassign,
    },
}

impl Action {
    /// Every action's name, in the order the server lists them.
    pub const NAMES: [&'static str; 12] = [
        "send-welcome",
        "send-password-reset",
        "send-magic-link",
        "set-password",
        "suspend",
        "unsuspend",
        "revoke-sessions",
        "reset-mfa",
        "deactivate",
        "reactivate",
        "delete",
        "restore",
    ];

    /// The action's name on the wire: `send-welcome`, `set-password`…
    pub fn name(&self) -> &'static str {
        match self {
            Action::SendWelcome(_) => "send-welcome",
            Action::SendPasswordReset => "send-password-reset",
            Action::SendMagicLink => "send-magic-link",
            Action::SetPassword { .. } => "set-password",
            Action::Suspend => "suspend",
            Action::Unsuspend => "unsuspend",
            Action::RevokeSessions => "revoke-sessions",
            Action::ResetMfa => "reset-mfa",
            Action::Deactivate { .. } => "deactivate",
            Action::Reactivate => "reactivate",
            Action::Restore => "restore",
            Action::Delete { .. } => "delete",
        }
    }

    /// The request body, for the actions that take one.
    fn body(&self) -> Option<Value> {
        match self {
            // The plain invitation sends no body, as any Muster server takes it.
            Action::SendWelcome(invite) if *invite != Invite::default() => Some(json!(invite)),
            Action::SetPassword {
                password,
                must_change,
            } => Some(json!({"password": password.expose(), "mustChange": must_change})),
            Action::Deactivate { reassign } | Action::Delete { reassign } => {
                Some(json!({"reassign": reassign}))
            }
            _ => None,
        }
    }
}

/// The phone a Muster server texts a user's code to: the shop field `phone`, else the
/// primary (or first) SCIM phone number, as the server picks it.
fn sms_phone(user: &User) -> Option<&str> {
    let shop = user.shop.as_ref().and_then(|s| s.phone.as_deref());
    let numbers = &user.phone_numbers;
    let scim = numbers
        .iter()
        .find(|p| p.primary == Some(true))
        .or_else(|| numbers.first())
        .and_then(|p| p.value.as_deref());
    [shop, scim]
        .into_iter()
        .flatten()
        .map(str::trim)
        .find(|p| !p.is_empty())
}

/// Who takes over each kind of responsibility of a user being deactivated: user ids.
/// A kind the user holds must be named, or the server refuses the deactivation.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Reassign {
    /// New default technician of the user's properties.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_technician: Option<String>,
    /// New primary technician of the user's open tasks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub primary_technician: Option<String>,
    /// New office assignee of the user's open tasks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub office_assignee: Option<String>,
    /// New manager of the user's warehouses.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warehouse_manager: Option<String>,
}

impl Reassign {
    /// Everything to one user.
    pub fn all_to(user_id: &str) -> Self {
        Self {
            default_technician: Some(user_id.to_owned()),
            primary_technician: Some(user_id.to_owned()),
            office_assignee: Some(user_id.to_owned()),
            warehouse_manager: Some(user_id.to_owned()),
        }
    }

    /// Names `user_id` for one kind (an unknown kind is ignored).
    pub fn set(&mut self, kind: ResponsibilityKind, user_id: impl Into<String>) {
        let slot = match kind {
            ResponsibilityKind::DefaultTechnician => &mut self.default_technician,
            ResponsibilityKind::PrimaryTechnician => &mut self.primary_technician,
            ResponsibilityKind::OfficeAssignee => &mut self.office_assignee,
            ResponsibilityKind::WarehouseManager => &mut self.warehouse_manager,
            ResponsibilityKind::Other => return,
        };
        *slot = Some(user_id.into());
    }
}

/// A kind of responsibility.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ResponsibilityKind {
    /// Default technician on properties.
    DefaultTechnician,
    /// Primary technician on open tasks.
    PrimaryTechnician,
    /// Office assignee on open tasks.
    OfficeAssignee,
    /// Manager of warehouses.
    WarehouseManager,
    /// A kind this version does not know (a newer server).
    #[serde(other)]
    Other,
}

impl ResponsibilityKind {
    /// The kinds a deactivation hands over, in the order the app asks about them.
    pub const ALL: [Self; 4] = [
        Self::DefaultTechnician,
        Self::PrimaryTechnician,
        Self::OfficeAssignee,
        Self::WarehouseManager,
    ];

    /// The wire name (`defaultTechnician`…); `other` for a kind this version does not know.
    pub fn name(self) -> &'static str {
        match self {
            Self::DefaultTechnician => "defaultTechnician",
            Self::PrimaryTechnician => "primaryTechnician",
            Self::OfficeAssignee => "officeAssignee",
            Self::WarehouseManager => "warehouseManager",
            Self::Other => "other",
        }
    }

    /// In words for people.
    pub fn label(self) -> &'static str {
        match self {
            Self::DefaultTechnician => "Default technician on properties",
            Self::PrimaryTechnician => "Primary technician on open tasks",
            Self::OfficeAssignee => "Office assignee on open tasks",
            Self::WarehouseManager => "Warehouse manager",
            Self::Other => "Other responsibilities",
        }
    }
}

/// What a user is responsible for now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Responsibilities {
    /// The user's id.
    pub user_id: String,
    /// All kinds together.
    #[serde(default)]
    pub total: u64,
    /// The kinds held, each with its count and a label for people.
    #[serde(default)]
    pub kinds: Vec<Responsibility>,
}

/// One kind a user holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Responsibility {
    /// Which kind.
    pub kind: ResponsibilityKind,
    /// How many.
    pub count: u64,
    /// In words: `default technician on 12 properties`.
    #[serde(default)]
    pub label: String,
}

pub use muster_api::responsibilities::Assignee;

/// What an action did beyond the user it answers with, as the server says (Muster's
/// `muster-action-result` header); empty when it says nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct ActionResult {
    /// Sessions the action ended.
    pub sessions_revoked: Option<u64>,
    /// Whether a password set by an admin must be changed at the next sign-in.
    pub must_change: Option<bool>,
    /// Whether two-factor was on before a reset.
    pub was_enabled: Option<bool>,
}

impl ActionResult {
    /// The server's header, read leniently: anything unreadable says nothing.
    fn of(answer: &crate::transport::Answer) -> Self {
        answer
            .headers
            .get("muster-action-result")
            .and_then(|value| value.to_str().ok())
            .and_then(|text| serde_json::from_str(text).ok())
            .unwrap_or_default()
    }
}

impl Action {
    /// What the server did, in words, from the user as it answered and what it said
    /// besides: "Jane Doe is suspended and signed out of 2 sessions."
    pub fn done_message(&self, user: &User, result: &ActionResult) -> String {
        let name = user.display_name();
        let email = user.primary_email().unwrap_or(&user.user_name);
        let signed_out = |text: &str| match result.sessions_revoked {
            Some(0) | None => format!("{text}."),
            Some(n) => format!("{text} and signed out of {}.", sessions(n)),
        };
        match self {
            Action::SendWelcome(invite) if invite.sms_code => format!(
                "Invitation sent to {email}, with a code by SMS to {}.",
                sms_phone(user).unwrap_or("their phone")
            ),
            Action::SendWelcome(_) => format!("Invitation sent to {email}."),
            Action::SendPasswordReset => format!("Password reset link sent to {email}."),
            Action::SendMagicLink => format!("Sign-in link sent to {email}."),
            Action::SetPassword { .. } => {
                let mut text = format!("Password set for {name}");
                if result.must_change == Some(true) {
                    text.push_str("; they choose a new one at their next sign-in");
                }
                match result.sessions_revoked {
                    Some(n) if n > 0 => format!("{text}; signed out of {}.", sessions(n)),
                    _ => format!("{text}."),
                }
            }
            Action::Suspend => signed_out(&format!("{name} is suspended")),
            Action::Unsuspend => format!("{name} can sign in again."),
            Action::RevokeSessions => match result.sessions_revoked {
                Some(0) => format!("{name} had no open sessions."),
                Some(n) => format!("{name} is signed out of {}.", sessions(n)),
                None => format!("{name} is signed out everywhere."),
            },
            Action::ResetMfa => match result.was_enabled {
                Some(false) => format!("{name} had no two-factor to reset."),
                _ => format!(
                    "Two-factor reset for {name}; they set it up again at their next sign-in."
                ),
            },
            Action::Deactivate { .. } => signed_out(&format!("{name} is deactivated")),
            Action::Reactivate => format!("{name} is {} again.", user.status()),
            Action::Restore => format!("{name} is restored ({}).", user.status()),
            Action::Delete { .. } => format!(
                "{name} is deleted; a system admin can restore them{}.",
                match result.sessions_revoked {
                    Some(n) if n > 0 => format!(", and they are signed out of {}", sessions(n)),
                    _ => String::new(),
                }
            ),
        }
    }
}

/// `1 session`, `3 sessions`.
fn sessions(n: u64) -> String {
    if n == 1 {
        "1 session".to_owned()
    } else {
        format!("{n} sessions")
    }
}

/// Account actions of the connected server: `client.actions()`.
#[derive(Debug, Clone, Copy)]
pub struct Actions<'a> {
    client: &'a Client,
}

impl Client {
    /// The server's account actions.
    pub fn actions(&self) -> Actions<'_> {
        Actions { client: self }
    }
}

impl Actions<'_> {
    /// Runs `action` on a user, sending it exactly once, and returns the user as it now is.
    /// A server without the action gives [`Error::Unsupported`].
    pub async fn run(&self, user_id: &str, action: Action) -> Result<Versioned<User>, Error> {
        Ok(self.run_with_result(user_id, action).await?.0)
    }

    /// [`Actions::run`], with what the server says the action did besides.
    pub async fn run_with_result(
        &self,
        user_id: &str,
        action: Action,
    ) -> Result<(Versioned<User>, ActionResult), Error> {
        let path = format!("{}/actions/{}", path_of::<User>(user_id)?, action.name());
        let mut body = action.body();
        let sent = self
            .client
            .send(Method::POST, &path, &[], body.as_ref(), None, false)
            .await;
        if let Some(body) = body.as_mut() {
            wipe(body);
        }
        match sent {
            Ok(answer) => Ok((versioned(&answer)?, ActionResult::of(&answer))),
            Err(error @ Error::NotFound { .. }) => Err(self.explain(action.name(), error).await),
            Err(error) => Err(error),
        }
    }

    /// A 404 from an action: the user is missing, or the server lacks the action. The
    /// server's `/actions` document tells which.
    async fn explain(&self, name: &str, not_found: Error) -> Error {
        match self.client.offered_actions().await {
            Ok(Some(names)) if names.iter().any(|offered| offered == name) => not_found,
            Ok(Some(_)) => Error::Unsupported {
                message: format!("This server does not offer '{name}'."),
            },
            Ok(None) => Error::Unsupported {
                message: format!(
                    "This server does not offer '{name}'. Account actions need a Muster server."
                ),
            },
            Err(_) => not_found,
        }
    }

    /// What a user is responsible for (Muster servers only).
    pub async fn responsibilities(&self, user_id: &str) -> Result<Responsibilities, Error> {
        let org = self.muster_org("Responsibilities")?;
        let url = format!(
            "{}/o/{}/scim/v2{}/responsibilities",
            self.client.root(),
            org,
            path_of::<User>(user_id)?
        );
        self.client
            .send(Method::GET, &url, &[], None, None, true)
            .await?
            .json()
    }

    /// Up to `count` active users whose name or userName contains `q` (empty for all), to
    /// take over a deactivated user's work (Muster servers only; the server returns at
    /// most 200).
    pub async fn assignees(&self, q: &str, count: u32) -> Result<Vec<Assignee>, Error> {
        let org = self.muster_org("Assignee lists")?;
        let url = format!("{}/o/{}/assignees", self.client.root(), org);
        let query = [("q", q.trim().to_owned()), ("count", count.to_string())];
        self.client
            .send(Method::GET, &url, &query, None, None, true)
            .await?
            .json()
    }

    fn muster_org(&self, what: &str) -> Result<String, Error> {
        match &self.client.connection().kind {
            ServerKind::Muster { org } => Ok(segment(org)),
            ServerKind::Scim => Err(Error::Unsupported {
                message: format!(
                    "{what} are a Muster server feature; this is another SCIM provider."
                ),
            }),
        }
    }
}

/// Overwrites the secrets of a request body once it has been sent.
fn wipe(body: &mut Value) {
    if let Some(Value::String(password)) = body.get_mut("password") {
        password.zeroize();
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use serde_json::json;

    use super::*;

    #[test]
    fn the_message_says_what_the_server_did() {
        let jane = User::from_json(json!({"id": "1", "userName": "jane",
            "displayName": "Jane Doe", "emails": [{"value": "jane@shop.test"}]}))
        .unwrap();
        let ended = |n| ActionResult {
            sessions_revoked: Some(n),
            ..ActionResult::default()
        };
        assert_eq!(
            Action::RevokeSessions.done_message(&jane, &ended(3)),
            "Jane Doe is signed out of 3 sessions."
        );
        assert_eq!(
            Action::RevokeSessions.done_message(&jane, &ended(0)),
            "Jane Doe had no open sessions."
        );
        assert_eq!(
            Action::Suspend.done_message(&jane, &ended(1)),
            "Jane Doe is suspended and signed out of 1 session."
        );
        assert_eq!(
            Action::welcome().done_message(&jane, &ActionResult::default()),
            "Invitation sent to jane@shop.test."
        );
        let set = Action::SetPassword {
            password: Secret::new("x"),
            must_change: true,
        };
        let result = ActionResult {
            sessions_revoked: Some(2),
            must_change: Some(true),
            was_enabled: None,
        };
        assert_eq!(
            set.done_message(&jane, &result),
            "Password set for Jane Doe; they choose a new one at their next sign-in; signed out \
             of 2 sessions."
        );
    }
}
