//! The organisation's API tokens in the console (admins, at a Muster server): the list
//! with each token's owner named from the offline copy, the choices the form offers (the
//! copy's active API-licence accounts, the scopes, the expiry presets), issuing a token
//! (its secret returned once, for the screen to show and forget) and revoking one.
//!
//! Who may use this is [`ProviderFeature::ApiTokens`] as the status reports it, asked here
//! again before anything is sent.

use serde::{Deserialize, Serialize};
#[cfg(feature = "specta")]
use specta::Type;

use super::status::{capabilities_of, feature_view};
use super::view::{Choice, ProviderFeature};
use super::{Console, active, not_signed_in};
use crate::cache::PackedUser;
use crate::client::Client;
use crate::error::Error;
use crate::search::SearchQuery;
use crate::tokens::{self, ApiToken, NewApiToken, TokenScope};

/// One row of the API token list: never the secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(Type))]
#[serde(rename_all = "camelCase")]
pub struct ApiTokenRow {
    /// Its id, for revoking it.
    pub id: String,
    /// What it is for.
    pub name: String,
    /// The account it acts as, by id.
    pub owner_id: String,
    /// That account's name from the offline copy (its id when the copy lacks it).
    pub owner: String,
    /// `read` or `provision`.
    pub scope: String,
    /// When it was issued (RFC 3339).
    pub created_at: String,
    /// Who issued it, when the server knows.
    pub created_by: Option<String>,
    /// When it stops working (RFC 3339), if ever.
    pub expires_at: Option<String>,
    /// When it was last used, to the hour (RFC 3339); `None` if never.
    pub last_used_at: Option<String>,
    /// Whether it has stopped working by now.
    pub expired: bool,
}

/// What the form to issue a token offers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(Type))]
#[serde(rename_all = "camelCase")]
pub struct ApiTokenChoices {
    /// The accounts a token may be issued to: active, API licence, not one's own (from
    /// the offline copy), by name.
    pub owners: Vec<Choice>,
    /// The scopes, the default first, each with what it allows.
    pub scopes: Vec<Choice>,
    /// Lifetimes to pick from, in days, with their words.
    pub expiries: Vec<Choice>,
    /// The lifetime chosen unless another is, in days.
    pub default_days: u32,
    /// The longest lifetime, in days (a custom value is 1 to this).
    pub max_days: u32,
}

/// A token to issue, as the form sends it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(Type))]
#[serde(rename_all = "camelCase")]
pub struct ApiTokenInput {
    /// The API-licence account it acts as.
    pub user_id: String,
    /// What it is for.
    pub name: String,
    /// `read` or `provision`.
    pub scope: String,
    /// How many days it works; `None`: the server's default.
    pub days: Option<u32>,
}

/// A token just issued. `secret` is shown once, with a way to copy it, and never again:
/// the server keeps only its hash, and the engine keeps nothing.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(Type))]
#[serde(rename_all = "camelCase")]
pub struct IssuedApiTokenView {
    /// The bearer token itself.
    pub secret: String,
    /// How it is listed from now on.
    pub listed: ApiTokenRow,
    /// What to tell the person, in words.
    pub message: String,
}

/// Leaves the secret out, should a reply ever be logged.
impl std::fmt::Debug for IssuedApiTokenView {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IssuedApiTokenView")
            .field("secret", &"<redacted>")
            .field("listed", &self.listed)
            .field("message", &self.message)
            .finish()
    }
}

/// The lifetimes the form offers, in days.
const EXPIRY_PRESETS: [(u32, &str); 4] = [
    (30, "30 days"),
    (90, "90 days"),
    (180, "180 days"),
    (365, "1 year"),
];

impl Console {
    /// The organisation's API tokens, oldest first.
    ///
    /// # Errors
    ///
    /// [`Error::Forbidden`] for anyone but admins; [`Error::Unsupported`] at a provider
    /// that is not Muster.
    pub async fn api_tokens(&self) -> Result<Vec<ApiTokenRow>, Error> {
        let client = self.token_admin().await?;
        let listed = self
            .note_and_save_session(client.api_tokens().list().await)
            .await?;
        Ok(self.rows(listed).await)
    }

    /// What the form to issue a token offers.
    pub async fn api_token_choices(&self) -> ApiTokenChoices {
        let me = self.my_id().await;
        let data = self.data().await;
        // The index's licence facet holds every API account, so only the users under it
        // are read from the copy (not all of them); the rule below still decides.
        let api = SearchQuery {
            licences: vec![muster_scim::user::Licence::Api.as_str().to_owned()],
            ..SearchQuery::default()
        };
        let rows = data.index.search(&api.every_match(), self.now()).rows;
        let mut owners: Vec<Choice> = rows
            .into_iter()
            .filter_map(|row| data.snapshot.users.get(row))
            .map(PackedUser::user)
            .filter(|user| {
                user.status() == muster_scim::user::UserStatus::Active
                    && user.id.is_some()
                    && user.id != me
                    && user
                        .shop
                        .as_ref()
                        .and_then(|shop| shop.licence.as_ref())
                        .is_some_and(|licence| *licence == muster_scim::user::Licence::Api)
            })
            .map(|user| {
                let name = user.display_name();
                Choice {
                    value: user.id.clone().unwrap_or_default(),
                    // The userName too, unless the name shown already holds it.
                    label: if name.contains(user.user_name.as_str()) {
                        name.into_owned()
                    } else {
                        format!("{name} ({})", user.user_name)
                    },
                }
            })
            .collect();
        owners.sort_by_key(|owner| owner.label.to_lowercase());
        ApiTokenChoices {
            owners,
            scopes: TokenScope::ALL
                .into_iter()
                .map(|scope| Choice {
                    value: scope.name().to_owned(),
                    label: scope.description().to_owned(),
                })
                .collect(),
            expiries: EXPIRY_PRESETS
                .into_iter()
                .map(|(days, label)| Choice {
                    value: days.to_string(),
                    label: label.to_owned(),
                })
                .collect(),
            default_days: tokens::DEFAULT_DAYS,
            max_days: tokens::MAX_DAYS,
        }
    }

    /// Issues a token; its secret is in the answer only.
    ///
    /// # Errors
    ///
    /// [`Error::Validation`] naming the field; [`Error::Reauthenticate`] when the
    /// sign-in is not recent (give the password, then send it again);
    /// [`Error::Forbidden`] for anyone but admins and for one's own account.
    pub async fn create_api_token(
        &self,
        input: ApiTokenInput,
    ) -> Result<IssuedApiTokenView, Error> {
        let new = NewApiToken {
            user_id: input.user_id,
            name: input.name,
            scope: tokens::parse_scope(&input.scope)?,
            days: input.days,
        };
        new.check()?;
        let client = self.token_admin().await?;
        let issued = self
            .note_and_save_session(client.api_tokens().create(&new, self.now()).await)
            .await?;
        let mut rows = self.rows(vec![issued.token]).await;
        let listed = rows
            .pop()
            .ok_or_else(|| Error::protocol("the issued API token is missing", b""))?;
        let message = format!(
            "Issued the API token {} for {}. Copy it now: it is not shown again.",
            listed.name, listed.owner
        );
        Ok(IssuedApiTokenView {
            secret: issued.secret.expose().to_owned(),
            listed,
            message,
        })
    }

    /// Revokes token `id` (it stops working at once); the list as it is after.
    ///
    /// # Errors
    ///
    /// [`Error::NotFound`] for a token already gone; [`Error::Forbidden`] for anyone but
    /// admins.
    pub async fn revoke_api_token(&self, id: &str) -> Result<Vec<ApiTokenRow>, Error> {
        let client = self.token_admin().await?;
        self.note_and_save_session(client.api_tokens().revoke(id).await)
            .await?;
        self.api_tokens().await
    }

    /// The client, when the signed-in account may manage API tokens here (the same
    /// answer the status gives for [`ProviderFeature::ApiTokens`]).
    async fn token_admin(&self) -> Result<Client, Error> {
        let state = self.state.lock().await;
        let active = active(&state)?;
        let client = active.session.client.clone().ok_or_else(not_signed_in)?;
        let capabilities = capabilities_of(active);
        if !capabilities.is_muster {
            return Err(Error::Unsupported {
                message: "API tokens are a Muster server's; this provider is another SCIM \
                          service."
                    .to_owned(),
            });
        }
        let feature = feature_view(&capabilities, active, ProviderFeature::ApiTokens.into());
        match feature.reason {
            Some(message) => Err(Error::Forbidden { message }),
            None => Ok(client),
        }
    }

    /// Rows for `listed`, owners named from the offline copy.
    async fn rows(&self, listed: Vec<ApiToken>) -> Vec<ApiTokenRow> {
        let data = self.data().await;
        let now = self.now();
        listed
            .into_iter()
            .map(|token| {
                let owner = data
                    .snapshot
                    .users
                    .iter()
                    .find(|user| user.id() == Some(token.user_id.as_str()))
                    .map_or_else(
                        || token.user_id.clone(),
                        |u| u.user().display_name().into_owned(),
                    );
                ApiTokenRow {
                    expired: token.expired(now),
                    id: token.id,
                    name: token.name,
                    owner_id: token.user_id,
                    owner,
                    scope: token.scope.name().to_owned(),
                    created_at: token.created_at,
                    created_by: token.created_by,
                    expires_at: token.expires_at,
                    last_used_at: token.last_used_at,
                }
            })
            .collect()
    }
}
