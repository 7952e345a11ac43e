//! The organisation's settings in the console (admins, at a Muster server): each lifetime
//! with its unit, the server's bounds and the presets the shop documents use; both
//! password policy styles with the rules each asks for (so the form previews a style
//! before saving it); two-factor for admins. A change is sent as one `PATCH` and answered
//! with what the server saved, worded.
//!
//! Who may use this is [`ProviderFeature::Settings`] as the status reports it, asked here
//! again before anything is sent.

use serde::{Deserialize, Serialize};
#[cfg(feature = "specta")]
use specta::Type;

use super::status::{capabilities_of, feature_view};
use super::view::{Choice, ProviderFeature};
use super::{Console, active, not_signed_in};
use crate::client::Client;
use crate::error::Error;
use crate::settings::{Lifetime, OrgSettings, PolicyStyle, SettingsChange, words};

/// The settings as the form shows them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(Type))]
#[serde(rename_all = "camelCase")]
pub struct OrgSettingsView {
    /// The password policy style in force: `shop` or `nist`.
    pub policy_style: String,
    /// Both styles, each with what it asks of a password.
    pub policies: Vec<PolicyChoiceView>,
    /// Every lifetime, in the form's order.
    pub lifetimes: Vec<LifetimeView>,
    /// Whether admins must use two-factor sign-in.
    pub require_admin_mfa: bool,
    /// After a change: what the server saved, in words.
    pub message: Option<String>,
}

/// A password policy style and the rules it asks for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(Type))]
#[serde(rename_all = "camelCase")]
pub struct PolicyChoiceView {
    /// `shop` or `nist`.
    pub value: String,
    /// Its name for people.
    pub label: String,
    /// What a password must be under it, as sentences.
    pub rules: Vec<String>,
}

/// One lifetime setting.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(Type))]
#[serde(rename_all = "camelCase")]
pub struct LifetimeView {
    /// Its key (`invitationHours`…), also the field errors name.
    pub key: String,
    /// Its name for people.
    pub label: String,
    /// What it governs.
    pub help: String,
    /// `hours`, `minutes` or `days`.
    pub unit: String,
    /// The value in force, in the unit.
    pub value: u32,
    /// The value in words ("48 hours", "3 days").
    pub words: String,
    /// The least the server takes, in the unit.
    pub min: u32,
    /// The most the server takes, in the unit.
    pub max: u32,
    /// The choices offered (value in the unit, words), the server's default among them.
    pub presets: Vec<Choice>,
}

/// A change as the form sends it; what is absent stays as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(Type))]
#[serde(rename_all = "camelCase")]
pub struct SettingsInput {
    /// `shop` or `nist`.
    pub policy_style: Option<String>,
    /// Lifetimes to change.
    pub lifetimes: Vec<LifetimeInput>,
    /// Whether admins must use two-factor sign-in.
    pub require_admin_mfa: Option<bool>,
}

/// One lifetime's new value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(Type))]
#[serde(rename_all = "camelCase")]
pub struct LifetimeInput {
    /// Its key (`invitationHours`…).
    pub key: String,
    /// The value, in the lifetime's unit.
    pub value: u32,
}

/// Each lifetime's words for people and its presets, in its unit.
fn about(lifetime: Lifetime) -> (&'static str, &'static str, &'static [u32]) {
    match lifetime.key {
        "invitationHours" => (
            "Invitations",
            "How long a welcome link works before the invitation must be sent again.",
            &[24, 48, 72, 168],
        ),
        "resetLinkMinutes" => (
            "Password-reset links",
            "How long an emailed password-reset link works.",
            &[30, 60, 1_440, 4_320],
        ),
        "magicLinkMinutes" => (
            "Sign-in links",
            "How long an emailed one-time sign-in (\"magic\") link works.",
            &[15, 30, 60, 1_440],
        ),
        "sessionDays" => (
            "Sessions",
            "How long a sign-in lasts, however often it is used.",
            &[7, 30, 90],
        ),
        _ => (
            "Idle sessions",
            "How long a session may go unused before it is signed out.",
            &[1, 7, 30],
        ),
    }
}

fn view_of(settings: &OrgSettings, message: Option<String>) -> OrgSettingsView {
    let lifetimes = Lifetime::ALL
        .into_iter()
        .map(|lifetime| {
            let (label, help, presets) = about(lifetime);
            let value = settings.lifetime(lifetime);
            LifetimeView {
                key: lifetime.key.to_owned(),
                label: label.to_owned(),
                help: help.to_owned(),
                unit: lifetime.unit.to_owned(),
                value,
                words: words(value, lifetime.unit),
                min: lifetime.min,
                max: lifetime.max,
                presets: presets
                    .iter()
                    .map(|&preset| Choice {
                        value: preset.to_string(),
                        label: words(preset, lifetime.unit),
                    })
                    .collect(),
            }
        })
        .collect();
    OrgSettingsView {
        policy_style: settings.password_policy.name().to_owned(),
        policies: PolicyStyle::ALL
            .into_iter()
            .map(|style| PolicyChoiceView {
                value: style.name().to_owned(),
                label: style.label().to_owned(),
                rules: style.rules(),
            })
            .collect(),
        lifetimes,
        require_admin_mfa: settings.require_admin_mfa,
        message,
    }
}

/// What the server saved of `change`, in words.
fn saved_message(change: &SettingsChange, saved: &OrgSettings) -> String {
    let mut parts = Vec::new();
    if change.password_policy.is_some() {
        parts.push(format!(
            "passwords follow the {}",
            saved.password_policy.label()
        ));
    }
    for lifetime in Lifetime::ALL {
        if change.lifetimes.iter().any(|(key, _)| key == lifetime.key) {
            let (label, _, _) = about(lifetime);
            parts.push(format!(
                "{} last {}",
                label.to_lowercase(),
                words(saved.lifetime(lifetime), lifetime.unit)
            ));
        }
    }
    if change.require_admin_mfa.is_some() {
        parts.push(if saved.require_admin_mfa {
            "admins must use two-factor sign-in".to_owned()
        } else {
            "two-factor sign-in is up to each admin".to_owned()
        });
    }
    if parts.is_empty() {
        "Nothing was changed.".to_owned()
    } else {
        format!("Saved: {}.", parts.join("; "))
    }
}

impl Console {
    /// The organisation's settings.
    ///
    /// # Errors
    ///
    /// [`Error::Forbidden`] for anyone but admins; [`Error::Unsupported`] at a provider
    /// that is not Muster.
    pub async fn org_settings(&self) -> Result<OrgSettingsView, Error> {
        let client = self.settings_admin().await?;
        let settings = self
            .note_and_save_session(client.org_settings().get().await)
            .await?;
        Ok(view_of(&settings, None))
    }

    /// Changes the settings `input` names, and answers them as the server saved them.
    ///
    /// # Errors
    ///
    /// [`Error::Validation`] naming the setting out of bounds; [`Error::Forbidden`] for
    /// anyone but admins.
    pub async fn save_org_settings(&self, input: SettingsInput) -> Result<OrgSettingsView, Error> {
        let change = SettingsChange {
            password_policy: input.policy_style.as_deref().map(str::parse).transpose()?,
            lifetimes: input
                .lifetimes
                .into_iter()
                .map(|lifetime| (lifetime.key, lifetime.value))
                .collect(),
            require_admin_mfa: input.require_admin_mfa,
        };
        change.body()?;
        let client = self.settings_admin().await?;
        let saved = if change.is_empty() {
            client.org_settings().get().await
        } else {
            client.org_settings().change(&change).await
        };
        let saved = self.note_and_save_session(saved).await?;
        Ok(view_of(&saved, Some(saved_message(&change, &saved))))
    }

    /// The client, when the signed-in account may change the settings here.
    async fn settings_admin(&self) -> Result<Client, Error> {
        let state = self.state.lock().await;
        let active = active(&state)?;
        let client = active.session.client.clone().ok_or_else(not_signed_in)?;
        let capabilities = capabilities_of(active);
        if !capabilities.is_muster {
            return Err(Error::Unsupported {
                message: "Organisation settings are a Muster server's; this provider is \
                          another SCIM service."
                    .to_owned(),
            });
        }
        match feature_view(&capabilities, active, ProviderFeature::Settings.into()).reason {
            Some(message) => Err(Error::Forbidden { message }),
            None => Ok(client),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_preset_is_within_the_servers_bounds_and_the_default_is_offered() {
        for lifetime in Lifetime::ALL {
            let (_, _, presets) = about(lifetime);
            for preset in presets {
                assert!(lifetime.check(*preset).is_ok(), "{} {preset}", lifetime.key);
            }
            assert!(presets.contains(&lifetime.default), "{}", lifetime.key);
        }
    }

    #[test]
    fn the_shop_documents_lifetimes_are_offered_in_their_words() {
        let settings = OrgSettings {
            password_policy: PolicyStyle::Shop,
            invitation_hours: 48,
            reset_link_minutes: 1_440,
            magic_link_minutes: 30,
            session_days: 30,
            session_idle_days: 7,
            require_admin_mfa: false,
        };
        let view = view_of(&settings, None);
        let labels: Vec<&str> = view
            .lifetimes
            .iter()
            .flat_map(|l| l.presets.iter().map(|p| p.label.as_str()))
            .collect();
        for wanted in ["48 hours", "3 days", "7 days", "30 minutes", "24 hours"] {
            assert!(labels.contains(&wanted), "{wanted} in {labels:?}");
        }
        assert_eq!(view.lifetimes[0].words, "48 hours");
        assert_eq!(view.policies.len(), 2);
        let change = SettingsChange {
            lifetimes: vec![("invitationHours".into(), 72)],
            ..SettingsChange::default()
        };
        let saved = OrgSettings {
            invitation_hours: 72,
            ..settings
        };
        assert_eq!(
            saved_message(&change, &saved),
            "Saved: invitations last 3 days."
        );
    }
}
