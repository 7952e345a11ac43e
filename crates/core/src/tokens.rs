//! A Muster server's API tokens (`/o/{org}/api-tokens`): the tokens integration accounts
//! (API licence) use instead of a password. Listed without their secrets; issued for an
//! account other than one's own, with a scope and an expiry (the secret is in that answer
//! only, and is kept here as a [`Secret`]); revoked by id.
//!
//! Only a Muster server has them; any other provider gives [`Error::Unsupported`].

use reqwest::Method;
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::client::Client;
use crate::connection::ServerKind;
use crate::error::Error;
use crate::secret::Secret;

pub use muster_api::tokens::{ApiToken, DEFAULT_DAYS, MAX_DAYS, MAX_NAME, TokenScope};

/// Reads a scope's name, as [`TokenScope::parse`] does.
///
/// # Errors
///
/// [`Error::Validation`] naming `scope` for anything but `read` or `provision`.
pub fn parse_scope(text: &str) -> Result<TokenScope, Error> {
    TokenScope::parse(text)
        .ok_or_else(|| Error::invalid("scope", "Choose the scope read or provision."))
}

/// A token to issue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewApiToken {
    /// The API-licence account it acts as (not one's own).
    pub user_id: String,
    /// What it is for (1 to [`MAX_NAME`] characters).
    pub name: String,
    /// What it may do.
    pub scope: TokenScope,
    /// How many days it works (1 to [`MAX_DAYS`]); `None`: the server's default,
    /// [`DEFAULT_DAYS`].
    pub days: Option<u32>,
}

impl NewApiToken {
    /// Checks the request as the server would, so a mistake is named by its field
    /// before anything is sent.
    ///
    /// # Errors
    ///
    /// [`Error::Validation`] naming `userId`, `name` or `days`.
    pub fn check(&self) -> Result<(), Error> {
        if self.user_id.trim().is_empty() {
            return Err(Error::invalid(
                "userId",
                "Choose the API-licence account the token is for.",
            ));
        }
        if !muster_api::tokens::is_token_name(&self.name) {
            return Err(Error::invalid(
                "name",
                format!(
                    "Give the token a name of 1 to {MAX_NAME} characters, such as the \
                     integration it is for."
                ),
            ));
        }
        if let Some(days) = self.days
            && !(1..=MAX_DAYS).contains(&days)
        {
            return Err(Error::invalid(
                "days",
                format!("A token works for 1 to {MAX_DAYS} days."),
            ));
        }
        Ok(())
    }
}

/// A token just issued: its secret (shown once, never again) and how it is listed.
#[derive(Debug)]
pub struct IssuedApiToken {
    /// The bearer token itself.
    pub secret: Secret,
    /// How it is listed from now on.
    pub token: ApiToken,
}

/// The API tokens of the client's organisation.
#[derive(Debug, Clone, Copy)]
pub struct ApiTokens<'a> {
    client: &'a Client,
}

impl Client {
    /// The organisation's API tokens (a Muster server only).
    pub fn api_tokens(&self) -> ApiTokens<'_> {
        ApiTokens { client: self }
    }
}

impl ApiTokens<'_> {
    /// Every API token of the organisation, oldest first, without secrets.
    ///
    /// # Errors
    ///
    /// [`Error::Forbidden`] for technicians; [`Error::Unsupported`] on other providers.
    pub async fn list(&self) -> Result<Vec<ApiToken>, Error> {
        let url = self.url(None)?;
        let answer = self
            .client
            .send(Method::GET, &url, &[], None, None, true)
            .await?;
        let value: Value = answer.json()?;
        let tokens = value.get("tokens").cloned().unwrap_or(Value::Null);
        serde_json::from_value(tokens)
            .map_err(|error| Error::protocol(format!("the API token list: {error}"), b""))
    }

    /// Issues a token, `expires` days from `now` (the caller's clock) when it says.
    /// Sent once (never retried: a retry would issue a second token).
    ///
    /// # Errors
    ///
    /// [`Error::Validation`] for a bad request or an account that may not hold tokens;
    /// [`Error::Reauthenticate`] when the sign-in is not recent; [`Error::Forbidden`]
    /// for anyone but admins, and for one's own account.
    pub async fn create(
        &self,
        new: &NewApiToken,
        now: OffsetDateTime,
    ) -> Result<IssuedApiToken, Error> {
        new.check()?;
        let mut body = json!({
            "userId": new.user_id.trim(),
            "name": new.name.trim(),
            "scope": new.scope.name(),
        });
        if let Some(days) = new.days {
            let at = (now + time::Duration::days(i64::from(days)))
                .format(&Rfc3339)
                .map_err(|error| Error::protocol(format!("the expiry: {error}"), b""))?;
            body["expiresAt"] = Value::String(at);
        }
        let url = self.url(None)?;
        let answer = self
            .client
            .send(Method::POST, &url, &[], Some(&body), None, false)
            .await?;
        let mut value: Value = answer.json()?;
        let secret = match value.as_object_mut().and_then(|o| o.remove("token")) {
            Some(Value::String(secret)) => Secret::new(secret),
            _ => return Err(Error::protocol("the issued API token has no secret", b"")),
        };
        let token = serde_json::from_value(value)
            .map_err(|error| Error::protocol(format!("the issued API token: {error}"), b""))?;
        Ok(IssuedApiToken { secret, token })
    }

    /// Revokes token `id`: it stops working at once.
    ///
    /// # Errors
    ///
    /// [`Error::NotFound`] for an unknown id; [`Error::Forbidden`] for anyone but admins.
    pub async fn revoke(&self, id: &str) -> Result<(), Error> {
        let id = id.trim();
        if id.is_empty() {
            return Err(Error::invalid("id", "Give the id of the token to revoke."));
        }
        let url = self.url(Some(id))?;
        self.client
            .send(Method::DELETE, &url, &[], None, None, true)
            .await?;
        Ok(())
    }

    /// `{root}/o/{org}/api-tokens[/{id}]`.
    fn url(&self, id: Option<&str>) -> Result<String, Error> {
        let ServerKind::Muster { org } = &self.client.connection().kind else {
            return Err(Error::Unsupported {
                message: "API tokens are a Muster server's; this provider is another SCIM \
                          service."
                    .to_owned(),
            });
        };
        let base = format!("{}/o/{org}/api-tokens", self.client.root());
        Ok(match id {
            Some(id) => format!("{base}/{}", crate::resources::segment(id)),
            None => base,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn new(name: &str, days: Option<u32>) -> NewApiToken {
        NewApiToken {
            user_id: "u1".into(),
            name: name.into(),
            scope: TokenScope::Read,
            days,
        }
    }

    fn field_of(error: Error) -> String {
        match error {
            Error::Validation { fields, .. } => fields[0].field.clone(),
            other => panic!("a validation error, not {other:?}"),
        }
    }

    #[test]
    fn a_request_is_checked_field_by_field() {
        assert!(new("SCIM from Entra", Some(30)).check().is_ok());
        assert!(new("x", None).check().is_ok());
        assert_eq!(field_of(new("  ", None).check().unwrap_err()), "name");
        assert_eq!(
            field_of(new(&"n".repeat(MAX_NAME + 1), None).check().unwrap_err()),
            "name"
        );
        assert_eq!(field_of(new("a", Some(0)).check().unwrap_err()), "days");
        assert_eq!(
            field_of(new("a", Some(MAX_DAYS + 1)).check().unwrap_err()),
            "days"
        );
        let mut nobody = new("a", None);
        nobody.user_id = " ".into();
        assert_eq!(field_of(nobody.check().unwrap_err()), "userId");
    }

    #[test]
    fn scopes_read_as_the_server_names_them() {
        assert_eq!(parse_scope("Provision").ok(), Some(TokenScope::Provision));
        assert_eq!(parse_scope(" read ").ok(), Some(TokenScope::Read));
        assert_eq!(field_of(parse_scope("write").unwrap_err()), "scope");
        assert_eq!(
            serde_json::to_value(TokenScope::Provision).ok(),
            Some(json!("provision"))
        );
    }

    #[test]
    fn expiry_is_read_from_the_listing() {
        let now = OffsetDateTime::parse("2030-01-01T00:00:00Z", &Rfc3339).unwrap();
        let token = |expires: Option<&str>| ApiToken {
            id: "t".into(),
            name: "n".into(),
            user_id: "u".into(),
            scope: TokenScope::Read,
            created_at: "2029-01-01T00:00:00Z".into(),
            created_by: None,
            expires_at: expires.map(str::to_owned),
            last_used_at: None,
        };
        assert!(token(Some("2029-12-31T23:59:59Z")).expired(now));
        assert!(!token(Some("2030-01-02T00:00:00Z")).expired(now));
        assert!(!token(None).expired(now));
    }
}
