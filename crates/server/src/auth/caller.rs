//! [`Caller`]: who is making a request, read from `Authorization: Bearer <token>`, and the
//! permission checks handlers call with it.

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use rusqlite::Connection;
use serde::Serialize;
use time::OffsetDateTime;

use super::accounts::{org_user, system_admin};
use super::session;
use super::tokens::{
    Owner, TokenKind, TokenRow, TokenScope, lookup, mark_api_token_used, token_hash,
};
use crate::AppState;
use crate::audit::{Actor, ActorKind};
use crate::error::{AppError, AppResult};
use crate::ratelimit::account_key;

/// A shop role. Read from `users.role` (folded to lower case) on every request; a missing
/// or unknown role counts as [`Role::Viewer`], the least privilege.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Everything, including managing users.
    Admin,
    /// Day-to-day work, no user management.
    Technician,
    /// Read only.
    Viewer,
}

impl Role {
    /// The role stored in a `users.role` column; missing or unknown → `Viewer`.
    pub fn from_column(role: Option<&str>) -> Self {
        match role.map(str::trim) {
            Some(r) if r.eq_ignore_ascii_case("admin") => Self::Admin,
            Some(r) if r.eq_ignore_ascii_case("technician") => Self::Technician,
            _ => Self::Viewer,
        }
    }

    /// The lower-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Admin => "admin",
            Self::Technician => "technician",
            Self::Viewer => "viewer",
        }
    }
}

/// Who the caller is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Identity {
    /// Someone who operates the server and reaches every organisation.
    SystemAdmin {
        /// System admin id.
        id: String,
        /// Their sign-in email.
        email: String,
    },
    /// A user of one organisation.
    OrgUser {
        /// The organisation.
        org: String,
        /// The user's SCIM id.
        user_id: String,
        /// Their role as of this request.
        role: Role,
    },
}

/// The authenticated caller of a request. Extracting it answers 401 when the bearer token
/// is missing, unknown, expired or revoked, or when its user is gone or not active
/// (`users.status` is read afresh on every request, as is the role), or when an API
/// token's user has lost the API licence.
///
/// A request's token is looked up once: under the SCIM API the rate limiter
/// ([`crate::ratelimit::api_layer`]) resolves the caller first and leaves it in the
/// request's extensions, where the extractor finds it.
#[derive(Debug, Clone)]
pub struct Caller {
    identity: Identity,
    session_id: Option<String>,
    name: Option<String>,
    /// The session's times (when the password was last given); default for API tokens.
    session: session::Times,
    /// What an API token may do; sessions write as their role allows.
    scope: TokenScope,
    /// The account must choose a new password before anything else.
    must_change_password: bool,
    /// The account is an admin who must set up two-factor before anything else.
    must_enrol_mfa: bool,
}

const NO_TOKEN: &str = "Sign in first: this endpoint needs a bearer token.";
const BAD_SCHEME: &str = "The Authorization header must be 'Bearer <token>'.";
const UNKNOWN_TOKEN: &str = "The access token is not valid; sign in again.";
const REFRESH_AS_BEARER: &str =
    "A refresh token cannot be used as a bearer token; exchange it at /auth/refresh.";
const ACCESS_EXPIRED: &str = "The access token has expired; refresh it or sign in again.";
const API_EXPIRED: &str = "The API token has expired; ask an admin for a new one.";
const SIGNED_OUT: &str = "This session has been signed out; sign in again.";
const ACCOUNT_GONE: &str = "This account no longer exists.";
const NOT_API: &str = "The API token's user no longer has the API licence.";

impl Caller {
    /// A caller with the given identity; `session_id` is `None` for API tokens.
    pub fn new(identity: Identity, session_id: Option<String>) -> Self {
        Self {
            identity,
            session_id,
            name: None,
            session: session::Times::default(),
            scope: TokenScope::Provision,
            must_change_password: false,
            must_enrol_mfa: false,
        }
    }

    /// 403 [`AppError::reauthenticate`] unless the caller gave their password within
    /// [`session::RECENT`] of `now`: for changes to anyone's credentials or factors. API
    /// tokens have no password to give; what they may do is their scope's matter.
    pub fn require_recent_sign_in(&self, now: OffsetDateTime) -> AppResult<()> {
        if self.is_api_token() {
            return Ok(());
        }
        session::require_recent(&self.session, now)
    }

    /// Whether the account must choose a new password before anything else (only the
    /// [`AccountCaller`] extractor lets such a caller through).
    pub fn must_change_password(&self) -> bool {
        self.must_change_password
    }

    /// Whether the account is an admin who must set up two-factor first.
    pub fn must_enrol_mfa(&self) -> bool {
        self.must_enrol_mfa
    }

    /// The same caller, known by `name` (a userName or a system admin's email) in the
    /// audit log.
    pub fn with_name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// The name the audit log knows the caller by: an org user's userName, a system
    /// admin's email.
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// Whether the caller authenticated with an API token (an org user without a session).
    pub fn is_api_token(&self) -> bool {
        self.session_id.is_none() && matches!(self.identity, Identity::OrgUser { .. })
    }

    /// Who is calling.
    pub fn identity(&self) -> &Identity {
        &self.identity
    }

    /// The session the token belongs to; `None` for API tokens.
    pub fn session_id(&self) -> Option<&str> {
        self.session_id.as_deref()
    }

    /// Whether the caller is a system admin.
    pub fn is_system_admin(&self) -> bool {
        matches!(self.identity, Identity::SystemAdmin { .. })
    }

    /// The system admin's id, when the caller is one.
    pub fn system_admin_id(&self) -> Option<&str> {
        match &self.identity {
            Identity::SystemAdmin { id, .. } => Some(id),
            Identity::OrgUser { .. } => None,
        }
    }

    /// The org user's SCIM id, when the caller is an org user (so an admin can be kept
    /// from changing their own role or deactivating themselves).
    pub fn user_id(&self) -> Option<&str> {
        match &self.identity {
            Identity::OrgUser { user_id, .. } => Some(user_id),
            Identity::SystemAdmin { .. } => None,
        }
    }

    /// The organisation an org user belongs to; `None` for system admins.
    pub fn org(&self) -> Option<&str> {
        match &self.identity {
            Identity::OrgUser { org, .. } => Some(org),
            Identity::SystemAdmin { .. } => None,
        }
    }

    /// The org user's role; `None` for system admins.
    pub fn role(&self) -> Option<Role> {
        match &self.identity {
            Identity::OrgUser { role, .. } => Some(*role),
            Identity::SystemAdmin { .. } => None,
        }
    }

    /// Whose sessions and tokens the caller's are.
    pub(crate) fn owner(&self) -> Owner {
        match &self.identity {
            Identity::SystemAdmin { id, .. } => Owner::SystemAdmin(id.clone()),
            Identity::OrgUser { org, user_id, .. } => Owner::OrgUser {
                org: org.clone(),
                user_id: user_id.clone(),
            },
        }
    }

    /// The caller's account as a rate-limit key ([`account_key`]): every token of one
    /// account (its sessions, its API tokens) shares the account's limits.
    pub fn account_key(&self) -> String {
        match &self.identity {
            Identity::SystemAdmin { id, .. } => account_key(None, id),
            Identity::OrgUser { org, user_id, .. } => account_key(Some(org), user_id),
        }
    }

    /// Whether the caller is `user_id` of `org`.
    pub fn is_user(&self, org: &str, user_id: &str) -> bool {
        self.org() == Some(org) && self.user_id() == Some(user_id)
    }

    /// System admins reach every organisation, org users only their own. The 403 names
    /// the caller's own organisation and says nothing about whether `org` exists.
    pub fn check_org(&self, org: &str) -> AppResult<()> {
        match &self.identity {
            Identity::SystemAdmin { .. } => Ok(()),
            Identity::OrgUser { org: own, .. } if own == org => Ok(()),
            Identity::OrgUser { org: own, .. } => Err(AppError::forbidden(format!(
                "This token belongs to organisation {own}."
            ))),
        }
    }

    /// Reading users of `org`: system admins, admins and viewers; not technicians.
    pub fn require_read(&self, org: &str) -> AppResult<()> {
        self.check_org(org)?;
        match self.role() {
            Some(Role::Technician) => Err(AppError::forbidden(
                "Technicians do not see or manage accounts in Muster: an admin manages them, and support staff (viewers) review them.",
            )),
            _ => Ok(()),
        }
    }

    /// Changing users of `org`: system admins and admins only, and not with a read-only
    /// API token.
    pub fn require_write(&self, org: &str) -> AppResult<()> {
        self.require_read(org)?;
        if self.scope == TokenScope::Read {
            return Err(AppError::forbidden(
                "This API token is read-only; ask an admin for one with the provision scope.",
            ));
        }
        match self.role() {
            Some(Role::Viewer) => Err(AppError::forbidden("Viewers have read-only access.")),
            _ => Ok(()),
        }
    }

    /// Only system admins.
    pub fn require_system_admin(&self) -> AppResult<()> {
        if self.is_system_admin() {
            Ok(())
        } else {
            Err(AppError::forbidden("Only system admins can do this."))
        }
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = AppError;

    /// The caller; 403 [`AppError::must_change_password`] while the account must choose a
    /// new password.
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> AppResult<Self> {
        let AccountCaller(caller) = AccountCaller::from_request_parts(parts, state).await?;
        if caller.must_change_password {
            return Err(AppError::must_change_password());
        }
        if caller.must_enrol_mfa {
            return Err(AppError::mfa_enrollment_required());
        }
        Ok(caller)
    }
}

/// The caller of the few endpoints an account with something to do first may use (a new
/// password to choose, two-factor to set up): `POST /auth/password`, `GET /auth/me`, the
/// two-factor set-up. A [`Caller`] without those checks.
#[derive(Debug, Clone)]
pub struct AccountCaller(pub Caller);

impl FromRequestParts<AppState> for AccountCaller {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> AppResult<Self> {
        if let Some(caller) = parts.extensions.get::<Caller>() {
            return Ok(Self(caller.clone()));
        }
        let token = bearer_token(parts)?;
        if TokenKind::of_token(token) == Some(TokenKind::Refresh) {
            return Err(AppError::unauthorized(REFRESH_AS_BEARER));
        }
        // Comparing by looking up the hash is the constant-time comparison: the secret
        // itself is never compared byte by byte, only its SHA-256 is used as a key.
        let hash = token_hash(token);
        let now = state.clock.now();
        let (caller, api_used) = state.db.read(move |conn| resolve(conn, &hash, now)).await?;
        if let Some(hash) = api_used {
            // When an API token was last used, to the hour, for its listing.
            state
                .db
                .write(move |tx| mark_api_token_used(tx, &hash, now))
                .await?;
        }
        Ok(Self(caller))
    }
}

/// The token in `Authorization: Bearer <token>` (scheme case-insensitive).
pub(crate) fn bearer_token(parts: &Parts) -> AppResult<&str> {
    let header = parts
        .headers
        .get(AUTHORIZATION)
        .ok_or_else(|| AppError::unauthorized(NO_TOKEN))?;
    let value = header
        .to_str()
        .map_err(|_| AppError::unauthorized(BAD_SCHEME))?;
    match value.trim().split_once(' ') {
        Some((scheme, token))
            if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() =>
        {
            Ok(token.trim())
        }
        _ => Err(AppError::unauthorized(BAD_SCHEME)),
    }
}

/// Turns a bearer token's hash into a caller, checking everything that can have changed
/// since the token was issued; with the hash again when it is an API token whose last use
/// should be recorded.
fn resolve(
    conn: &Connection,
    hash: &str,
    now: OffsetDateTime,
) -> AppResult<(Caller, Option<String>)> {
    let row = lookup(conn, hash)?.ok_or_else(|| AppError::unauthorized(UNKNOWN_TOKEN))?;
    // Before the session's own state: a suspended organisation's sessions are revoked,
    // and its users are told why rather than only that they were signed out.
    if let (Owner::OrgUser { org, .. }, TokenKind::Access | TokenKind::Api) = (&row.owner, row.kind)
    {
        crate::orgs::require_not_suspended(conn, org)?;
    }
    match row.kind {
        TokenKind::Refresh => return Err(AppError::unauthorized(REFRESH_AS_BEARER)),
        TokenKind::Access if row.session_revoked => return Err(AppError::unauthorized(SIGNED_OUT)),
        TokenKind::Access if row.is_expired(now) => {
            return Err(AppError::unauthorized(ACCESS_EXPIRED));
        }
        TokenKind::Api if row.is_expired(now) => return Err(AppError::unauthorized(API_EXPIRED)),
        TokenKind::Access | TokenKind::Api => {}
    }
    let (identity, name, must_change_password) = current_identity(conn, &row)?;
    let must_enrol_mfa = match &identity {
        Identity::OrgUser { org, user_id, role } if row.kind == TokenKind::Access => {
            must_enrol_mfa(conn, org, user_id, *role)?
        }
        _ => false,
    };
    let stale_use = row.kind == TokenKind::Api
        && row
            .last_used
            .is_none_or(|used| now - used >= time::Duration::HOUR);
    let caller = Caller {
        session: row.session,
        scope: if row.kind == TokenKind::Api {
            row.scope
        } else {
            TokenScope::Provision
        },
        must_change_password,
        must_enrol_mfa,
        ..Caller::new(identity, row.session_id).with_name(name)
    };
    Ok((caller, stale_use.then(|| hash.to_owned())))
}

/// Whether `user_id`, an admin of `org` with `role`, must set up two-factor before
/// anything else: the organisation requires it and it is not on.
pub(crate) fn must_enrol_mfa(
    conn: &Connection,
    org: &str,
    user_id: &str,
    role: Role,
) -> AppResult<bool> {
    if role != Role::Admin || !crate::policy::settings(conn, org)?.require_admin_mfa {
        return Ok(false);
    }
    Ok(!crate::mfa::is_enabled(conn, org, user_id)?)
}

/// Who the token's owner is now, their name, and whether they must change their password
/// (sessions only: an API token's account has no password to change).
fn current_identity(conn: &Connection, row: &TokenRow) -> AppResult<(Identity, String, bool)> {
    match &row.owner {
        Owner::SystemAdmin(id) => {
            let admin =
                system_admin(conn, id)?.ok_or_else(|| AppError::unauthorized(ACCOUNT_GONE))?;
            let name = admin.email.clone();
            Ok((
                Identity::SystemAdmin {
                    id: admin.id,
                    email: admin.email,
                },
                name,
                false,
            ))
        }
        Owner::OrgUser { org, user_id } => {
            let user = org_user(conn, org, user_id)?
                .ok_or_else(|| AppError::unauthorized(ACCOUNT_GONE))?;
            if !user.may_sign_in() {
                return Err(AppError::unauthorized(user.refusal()));
            }
            if row.kind == TokenKind::Api && !user.api_licence {
                return Err(AppError::unauthorized(NOT_API));
            }
            let must_change = row.kind == TokenKind::Access && user.must_change_password;
            Ok((
                Identity::OrgUser {
                    org: org.clone(),
                    user_id: user.id,
                    role: user.role,
                },
                user.user_name,
                must_change,
            ))
        }
    }
}

/// The actor a bearer token names, whatever state the token or its account is in
/// (expired, revoked, suspended): for auditing refused requests. Unknown tokens and
/// tokens of accounts that no longer exist are anonymous.
///
/// `log_org` is the organisation whose log the entry goes to: a user or token of another
/// organisation is recorded as [`ActorKind::OtherOrganisation`], unnamed (one
/// organisation's log does not identify another's people).
pub fn actor_of_token(conn: &Connection, token: &str, log_org: Option<&str>) -> AppResult<Actor> {
    let Some(row) = lookup(conn, &token_hash(token))? else {
        return Ok(Actor::anonymous());
    };
    Ok(match &row.owner {
        Owner::OrgUser { org, .. } if log_org.is_some_and(|log_org| log_org != org) => Actor {
            kind: ActorKind::OtherOrganisation,
            id: None,
            name: None,
        },
        Owner::SystemAdmin(id) => Actor {
            kind: ActorKind::SystemAdmin,
            id: Some(id.clone()),
            name: system_admin(conn, id)?.map(|admin| admin.email),
        },
        Owner::OrgUser { org, user_id } => Actor {
            kind: if row.kind == TokenKind::Api {
                ActorKind::ApiToken
            } else {
                ActorKind::User
            },
            id: Some(user_id.clone()),
            name: org_user(conn, org, user_id)?.map(|user| user.user_name),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn org_user(role: Role) -> Caller {
        Caller::new(
            Identity::OrgUser {
                org: "acme".into(),
                user_id: "u1".into(),
                role,
            },
            Some("s".into()),
        )
    }

    #[test]
    fn roles_gate_reads_and_writes() {
        assert!(
            org_user(Role::Admin).require_write("acme").is_ok(),
            "admins manage users"
        );
        assert!(
            org_user(Role::Viewer).require_read("acme").is_ok(),
            "viewers read"
        );
        assert!(
            org_user(Role::Viewer).require_write("acme").is_err(),
            "viewers do not write"
        );
        assert!(
            org_user(Role::Technician).require_read("acme").is_err(),
            "no user management"
        );
        assert!(
            org_user(Role::Admin).require_read("other").is_err(),
            "own org only"
        );
        let admin = Caller::new(
            Identity::SystemAdmin {
                id: "a".into(),
                email: "e".into(),
            },
            None,
        );
        assert!(
            admin.require_write("any").is_ok(),
            "system admins reach every org"
        );
    }

    #[test]
    fn unknown_role_is_least_privilege() {
        assert_eq!(
            Role::from_column(None),
            Role::Viewer,
            "missing role is a viewer"
        );
        assert_eq!(
            Role::from_column(Some("owner")),
            Role::Viewer,
            "unknown role is a viewer"
        );
        assert_eq!(
            Role::from_column(Some("Admin")),
            Role::Admin,
            "case-insensitive"
        );
    }
}
