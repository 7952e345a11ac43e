//! API tokens (`/o/{org}/api-tokens`): what integration accounts (API licence) use instead
//! of a password. Listed without their secrets; what they may do; how long they may work.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// The longest name of a token, in characters.
pub const MAX_NAME: usize = 100;

/// The lifetime a token gets when its issuer does not choose one, in days.
pub const DEFAULT_DAYS: u32 = 90;

/// The longest lifetime a token is given, in days: a year. (The server takes an expiry up
/// to 366 days ahead, so that a year from any day fits.)
pub const MAX_DAYS: u32 = 365;

/// Whether `name` (trimmed) is a token's name: 1 to [`MAX_NAME`] characters.
pub fn is_token_name(name: &str) -> bool {
    crate::is_name(name, MAX_NAME)
}

/// What an API token may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TokenScope {
    /// Reads users and groups, as a viewer would.
    Read,
    /// Reads and writes, as its account's role allows (an identity provider provisioning
    /// users).
    Provision,
}

impl TokenScope {
    /// Both scopes, the default first.
    pub const ALL: [Self; 2] = [Self::Read, Self::Provision];

    /// Its name on the wire (and in the server's storage).
    pub fn name(self) -> &'static str {
        match self {
            Self::Read => "read",
            Self::Provision => "provision",
        }
    }

    /// The scope a name means, any case, spaces around ignored.
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|scope| text.trim().eq_ignore_ascii_case(scope.name()))
    }

    /// What it allows, in words for people.
    pub fn description(self) -> &'static str {
        match self {
            Self::Read => "Read only: lists and reads users and groups, as a viewer would.",
            Self::Provision => {
                "Provision: reads, and creates, changes and deactivates users as its account's \
                 role allows (for an identity provider)."
            }
        }
    }
}

impl std::fmt::Display for TokenScope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// An API token as the server lists it: never its secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApiToken {
    /// Its id, for revoking it.
    pub id: String,
    /// What it is for.
    pub name: String,
    /// The API-licence account it acts as.
    pub user_id: String,
    /// What it may do.
    pub scope: TokenScope,
    /// When it was issued (RFC 3339).
    pub created_at: String,
    /// Who issued it (a userName or a system admin's email); absent for tokens issued on
    /// the server's command line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_by: Option<String>,
    /// When it stops working (RFC 3339); absent only for tokens from before expiries.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<String>,
    /// When it was last used, to the hour (RFC 3339); absent if never.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_used_at: Option<String>,
}

impl ApiToken {
    /// Whether it has stopped working by `now` (a listing keeps expired tokens until
    /// they are revoked).
    pub fn expired(&self, now: OffsetDateTime) -> bool {
        self.expires_at
            .as_deref()
            .and_then(|at| OffsetDateTime::parse(at, &Rfc3339).ok())
            .is_some_and(|at| at <= now)
    }
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    #[test]
    fn scopes_read_by_name_in_any_case() {
        assert_eq!(
            TokenScope::parse(" Provision "),
            Some(TokenScope::Provision)
        );
        assert_eq!(TokenScope::parse("READ"), Some(TokenScope::Read));
        assert_eq!(TokenScope::parse("write"), None);
        assert_eq!(TokenScope::Read.to_string(), "read");
    }

    #[test]
    fn a_token_is_expired_from_its_expiry_on() {
        let mut token: ApiToken = serde_json::from_str(
            r#"{"id":"t","name":"n","userId":"u","scope":"read","createdAt":"2026-01-01T00:00:00Z"}"#,
        )
        .unwrap();
        assert!(!token.expired(datetime!(2030-01-01 0:00 UTC)), "no expiry");
        token.expires_at = Some("2026-02-01T00:00:00Z".into());
        assert!(!token.expired(datetime!(2026-01-31 23:59 UTC)));
        assert!(token.expired(datetime!(2026-02-01 0:00 UTC)));
    }

    #[test]
    fn a_listed_token_is_written_with_what_it_has_only() {
        let token = ApiToken {
            id: "t1".into(),
            name: "Payroll".into(),
            user_id: "u1".into(),
            scope: TokenScope::Provision,
            created_at: "2026-01-01T00:00:00Z".into(),
            created_by: None,
            expires_at: Some("2026-04-01T00:00:00Z".into()),
            last_used_at: None,
        };
        assert_eq!(
            serde_json::to_value(&token).unwrap(),
            serde_json::json!({
                "id": "t1", "name": "Payroll", "userId": "u1", "scope": "provision",
                "createdAt": "2026-01-01T00:00:00Z", "expiresAt": "2026-04-01T00:00:00Z"
            })
        );
    }

    #[test]
    fn names_are_one_to_a_hundred_characters() {
        assert!(is_token_name("Payroll sync"));
        assert!(!is_token_name(" "));
        assert!(!is_token_name(&"x".repeat(MAX_NAME + 1)));
    }
}
