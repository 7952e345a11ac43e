//! A Muster server's organisation settings (`GET|PATCH /o/{org}/settings`): the password
//! policy, the lifetimes of invitations, reset and sign-in links and sessions, and
//! whether admins must use two-factor sign-in. Each lifetime's unit and bounds are the
//! server's ([`Lifetime`]); the password rules each policy style asks for are worded here
//! ([`PolicyStyle::rules`]) as the server words them, so a form can preview a style before
//! it is saved.

use reqwest::Method;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::client::Client;
use crate::connection::ServerKind;
use crate::error::Error;

/// The longest password any policy allows, in characters.
pub const MAX_PASSWORD_LENGTH: u32 = 128;

/// Which family of password rules an organisation follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PolicyStyle {
    /// The shop products' rules: 12+ characters with upper, lower, digit and special.
    Shop,
    /// NIST SP 800-63B: 8+ characters, no composition rules.
    Nist,
}

impl PolicyStyle {
    /// Both styles, the default first.
    pub const ALL: [Self; 2] = [Self::Shop, Self::Nist];

    /// Its name on the wire.
    pub fn name(self) -> &'static str {
        match self {
            Self::Shop => "shop",
            Self::Nist => "nist",
        }
    }

    /// Its name for people.
    pub fn label(self) -> &'static str {
        match self {
            Self::Shop => "Shop rule (12 characters, mixed)",
            Self::Nist => "NIST SP 800-63B (8 characters, no composition rules)",
        }
    }

    /// What a password must be under this style, as sentences for people, in the
    /// server's words and order (`GET /o/{org}/policy` gives the same for the style in
    /// force; a test holds the two together).
    pub fn rules(self) -> Vec<String> {
        let (min, composition) = match self {
            Self::Shop => (12, true),
            Self::Nist => (8, false),
        };
        let mut rules = vec![format!(
            "Use at least {min} and at most {MAX_PASSWORD_LENGTH} characters; spaces and any \
             symbols are allowed."
        )];
        if composition {
            rules.extend(
                [
                    "Include an upper-case letter.",
                    "Include a lower-case letter.",
                    "Include a digit.",
                    "Include a special character, such as ! or #.",
                ]
                .map(str::to_owned),
            );
        }
        rules.push("Don't use a common password.".to_owned());
        rules.push("Don't use your name or email address.".to_owned());
        rules
    }
}

impl std::str::FromStr for PolicyStyle {
    type Err = Error;

    fn from_str(text: &str) -> Result<Self, Error> {
        Self::ALL
            .into_iter()
            .find(|style| text.trim().eq_ignore_ascii_case(style.name()))
            .ok_or_else(|| Error::invalid("passwordPolicy", "Choose the shop rule or NIST."))
    }
}

/// A lifetime setting: its key on the wire, its unit, and the server's bounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lifetime {
    /// The key in the settings (`invitationHours`…).
    pub key: &'static str,
    /// Its unit: `hours`, `minutes` or `days`.
    pub unit: &'static str,
    /// The least the server takes.
    pub min: u32,
    /// The most the server takes.
    pub max: u32,
    /// The server's default.
    pub default: u32,
}

impl Lifetime {
    /// How long an invitation (welcome link) works: 1 hour to 30 days, 48 hours unless set.
    pub const INVITATION: Self = Self {
        key: "invitationHours",
        unit: "hours",
        min: 1,
        max: 720,
        default: 48,
    };
    /// How long a password-reset link works: 5 minutes to 7 days, 24 hours unless set.
    pub const RESET_LINK: Self = Self {
        key: "resetLinkMinutes",
        unit: "minutes",
        min: 5,
        max: 10_080,
        default: 1_440,
    };
    /// How long a sign-in ("magic") link works: 5 minutes to 24 hours, 30 minutes unless set.
    pub const MAGIC_LINK: Self = Self {
        key: "magicLinkMinutes",
        unit: "minutes",
        min: 5,
        max: 1_440,
        default: 30,
    };
    /// How long a session lives from sign-in: 1 to 90 days, 30 unless set.
    pub const SESSION: Self = Self {
        key: "sessionDays",
        unit: "days",
        min: 1,
        max: 90,
        default: 30,
    };
    /// How long a session may go unused: 1 to 30 days, 7 unless set.
    pub const SESSION_IDLE: Self = Self {
        key: "sessionIdleDays",
        unit: "days",
        min: 1,
        max: 30,
        default: 7,
    };
    /// Every lifetime, in the order a form shows them.
    pub const ALL: [Self; 5] = [
        Self::INVITATION,
        Self::RESET_LINK,
        Self::MAGIC_LINK,
        Self::SESSION,
        Self::SESSION_IDLE,
    ];

    /// `value` if the server takes it, else a validation error on this key naming the
    /// range.
    ///
    /// # Errors
    ///
    /// [`Error::Validation`] naming [`Lifetime::key`].
    pub fn check(&self, value: u32) -> Result<u32, Error> {
        if (self.min..=self.max).contains(&value) {
            Ok(value)
        } else {
            Err(Error::invalid(
                self.key,
                format!(
                    "Choose between {} and {} {} ({} to {}).",
                    self.min,
                    self.max,
                    self.unit,
                    words(self.min, self.unit),
                    words(self.max, self.unit)
                ),
            ))
        }
    }
}

/// `count` `unit`s in words, minutes and hours in the largest whole unit from hours up to
/// 48 and days from 3 (as the shop documents say "48 hours" and "3 days"): `1440
/// minutes` → "24 hours", `72 hours` → "3 days", `90 minutes` → "90 minutes"; days stay
/// days.
pub fn words(count: u32, unit: &str) -> String {
    let plural = |n: u64, one: &str| {
        if n == 1 {
            format!("1 {one}")
        } else {
            format!("{n} {one}s")
        }
    };
    let minutes = match unit {
        "minutes" => u64::from(count),
        "hours" => u64::from(count) * 60,
        _ => return plural(u64::from(count), "day"),
    };
    const DAY: u64 = 24 * 60;
    if minutes >= 3 * DAY && minutes.is_multiple_of(DAY) {
        plural(minutes / DAY, "day")
    } else if minutes >= 60 && minutes.is_multiple_of(60) {
        plural(minutes / 60, "hour")
    } else {
        plural(minutes, "minute")
    }
}

/// An organisation's settings as the server has them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrgSettings {
    /// Which password rules apply.
    pub password_policy: PolicyStyle,
    /// [`Lifetime::INVITATION`].
    pub invitation_hours: u32,
    /// [`Lifetime::RESET_LINK`].
    pub reset_link_minutes: u32,
    /// [`Lifetime::MAGIC_LINK`].
    pub magic_link_minutes: u32,
    /// [`Lifetime::SESSION`].
    pub session_days: u32,
    /// [`Lifetime::SESSION_IDLE`].
    pub session_idle_days: u32,
    /// Whether admins must use two-factor sign-in.
    pub require_admin_mfa: bool,
}

impl OrgSettings {
    /// The value of lifetime `lifetime`.
    pub fn lifetime(&self, lifetime: Lifetime) -> u32 {
        match lifetime.key {
            "invitationHours" => self.invitation_hours,
            "resetLinkMinutes" => self.reset_link_minutes,
            "magicLinkMinutes" => self.magic_link_minutes,
            "sessionDays" => self.session_days,
            _ => self.session_idle_days,
        }
    }
}

/// A change to some settings; what is `None` stays as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SettingsChange {
    /// The password rules.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_policy: Option<PolicyStyle>,
    /// Lifetimes by key ([`Lifetime::key`]), in their units.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub lifetimes: Vec<(String, u32)>,
    /// Whether admins must use two-factor sign-in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub require_admin_mfa: Option<bool>,
}

impl SettingsChange {
    /// Whether it changes nothing.
    pub fn is_empty(&self) -> bool {
        self.password_policy.is_none()
            && self.lifetimes.is_empty()
            && self.require_admin_mfa.is_none()
    }

    /// The `PATCH` body, each lifetime checked against the server's bounds first.
    ///
    /// # Errors
    ///
    /// [`Error::Validation`] naming the first lifetime out of bounds, or one the server
    /// does not have.
    pub fn body(&self) -> Result<Value, Error> {
        let mut body = Map::new();
        if let Some(style) = self.password_policy {
            body.insert("passwordPolicy".into(), style.name().into());
        }
        for (key, value) in &self.lifetimes {
            let lifetime = Lifetime::ALL
                .into_iter()
                .find(|l| l.key == key)
                .ok_or_else(|| Error::invalid(key, format!("There is no setting '{key}'.")))?;
            body.insert(key.clone(), lifetime.check(*value)?.into());
        }
        if let Some(required) = self.require_admin_mfa {
            body.insert("requireAdminMfa".into(), required.into());
        }
        Ok(Value::Object(body))
    }
}

/// The organisation settings of the client's organisation.
#[derive(Debug, Clone, Copy)]
pub struct Settings<'a> {
    client: &'a Client,
}

impl Client {
    /// The organisation's settings (a Muster server only).
    pub fn org_settings(&self) -> Settings<'_> {
        Settings { client: self }
    }
}

impl Settings<'_> {
    /// The settings as they are.
    ///
    /// # Errors
    ///
    /// [`Error::Forbidden`] for technicians; [`Error::Unsupported`] on other providers.
    pub async fn get(&self) -> Result<OrgSettings, Error> {
        let url = self.url()?;
        let answer = self
            .client
            .send(Method::GET, &url, &[], None, None, true)
            .await?;
        read(&answer.json()?)
    }

    /// Applies `change` and returns the settings as the server saved them.
    ///
    /// # Errors
    ///
    /// [`Error::Validation`] for a value out of bounds; [`Error::Forbidden`] for anyone
    /// but admins.
    pub async fn change(&self, change: &SettingsChange) -> Result<OrgSettings, Error> {
        let body = change.body()?;
        let url = self.url()?;
        // A PATCH of absolute values: sending it twice leaves the same settings.
        let answer = self
            .client
            .send(Method::PATCH, &url, &[], Some(&body), None, true)
            .await?;
        read(&answer.json()?)
    }

    fn url(&self) -> Result<String, Error> {
        let ServerKind::Muster { org } = &self.client.connection().kind else {
            return Err(Error::Unsupported {
                message: "Organisation settings are a Muster server's; this provider is \
                          another SCIM service."
                    .to_owned(),
            });
        };
        Ok(format!("{}/o/{org}/settings", self.client.root()))
    }
}

fn read(value: &Value) -> Result<OrgSettings, Error> {
    serde_json::from_value(value.clone())
        .map_err(|error| Error::protocol(format!("the organisation settings: {error}"), b""))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn lifetimes_are_worded_in_their_largest_whole_unit() {
        assert_eq!(words(48, "hours"), "48 hours");
        assert_eq!(words(72, "hours"), "3 days");
        assert_eq!(words(168, "hours"), "7 days");
        assert_eq!(words(30, "minutes"), "30 minutes");
        assert_eq!(words(1_440, "minutes"), "24 hours");
        assert_eq!(words(10_080, "minutes"), "7 days");
        assert_eq!(words(1, "hours"), "1 hour");
        assert_eq!(words(90, "days"), "90 days");
        assert_eq!(words(1, "days"), "1 day");
    }

    #[test]
    fn a_change_is_checked_against_the_servers_bounds() {
        let change = SettingsChange {
            password_policy: Some(PolicyStyle::Nist),
            lifetimes: vec![
                ("invitationHours".into(), 72),
                ("magicLinkMinutes".into(), 30),
            ],
            require_admin_mfa: Some(true),
        };
        assert_eq!(
            change.body().ok(),
            Some(
                json!({"passwordPolicy": "nist", "invitationHours": 72, "magicLinkMinutes": 30, "requireAdminMfa": true})
            )
        );
        for (key, value) in [
            ("invitationHours", 0),
            ("invitationHours", 721),
            ("resetLinkMinutes", 4),
            ("magicLinkMinutes", 1_441),
            ("sessionIdleDays", 31),
            ("nonsense", 5),
        ] {
            let change = SettingsChange {
                lifetimes: vec![(key.into(), value)],
                ..SettingsChange::default()
            };
            match change.body() {
                Err(Error::Validation { fields, .. }) => assert_eq!(fields[0].field, key),
                other => panic!("{key} = {value}: {other:?}"),
            }
        }
        assert!(SettingsChange::default().is_empty());
    }

    #[test]
    fn each_style_words_its_rules() {
        let shop = PolicyStyle::Shop.rules();
        assert!(shop[0].contains("at least 12"));
        assert!(shop.iter().any(|r| r.contains("upper-case")));
        let nist = PolicyStyle::Nist.rules();
        assert!(nist[0].contains("at least 8"));
        assert!(!nist.iter().any(|r| r.contains("upper-case")));
        assert_eq!("NIST".parse::<PolicyStyle>().ok(), Some(PolicyStyle::Nist));
    }
}
