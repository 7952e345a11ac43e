//! The User resource: core schema (RFC 7643 §4.1), the enterprise extension (§4.3) and
//! Muster's shop extension, typed for clients.
//!
//! Reading goes through [`ResourceSchema::user`](crate::schema::ResourceSchema::user):
//! keys are matched case-insensitively and values coerced leniently (`"active": "False"`,
//! `"Manager": "123456"`) before the typed fields are filled, so any `Deserialize` of a
//! [`User`] (alone, or inside a [`ListResponse`](crate::message::ListResponse)) accepts
//! what real providers send. Unknown attributes and unknown extensions land in
//! [`User::extra`] and are written back unchanged.
//!
//! Writing is strict: `schemas` is computed from what the user holds (see
//! [`User::schemas`]), absent members are omitted rather than sent as `null`, and dates are
//! RFC 3339.

mod enterprise;
mod salvage;
mod shop;

pub use self::enterprise::{EnterpriseUser, Manager};
pub use self::salvage::{MAX_USER_BYTES, Unread};
pub use self::shop::{
    Invitation, InvitationState, LastSignIn, Licence, Role, ShopUser, SignInMethod, UserStatus,
    licence_role_conflict,
};

use std::borrow::Cow;
use std::fmt;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::Extra;
use crate::lenient;
use crate::meta::Meta;
use crate::resource::{extension_keys, lenient_resource, serialize_extra};
use crate::{schema, urn};

/// A SCIM User.
///
/// `user_name` is empty when a server left it out of a partial response
/// (`attributes=id`), and is then not written back.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self", rename_all = "camelCase")]
pub struct User {
    /// Server-assigned identifier.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The provisioning client's identifier for the user.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    /// Unique sign-in name.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub user_name: String,
    /// The components of the user's real name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<Name>,
    /// Name for display.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// Casual name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nick_name: Option<String>,
    /// URL of the user's online profile.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile_url: Option<String>,
    /// Job title.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Relationship to the organisation, e.g. `Employee`, `Contractor`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_type: Option<String>,
    /// Preferred language, as in `Accept-Language`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preferred_language: Option<String>,
    /// Locale for formatting, e.g. `en-US`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locale: Option<String>,
    /// Olson time zone, e.g. `America/Chicago`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timezone: Option<String>,
    /// Administrative status; `"True"` / `"False"` strings are accepted.
    #[serde(
        default,
        deserialize_with = "lenient::option_bool",
        skip_serializing_if = "Option::is_none"
    )]
    pub active: Option<bool>,
    /// Password to set; sent on create, never returned by servers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<Password>,
    /// Email addresses.
    #[serde(
        default,
        deserialize_with = "lenient::vec_or_null",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub emails: Vec<MultiValue>,
    /// Phone numbers.
    #[serde(
        default,
        deserialize_with = "lenient::vec_or_null",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub phone_numbers: Vec<MultiValue>,
    /// Instant messaging addresses.
    #[serde(
        default,
        deserialize_with = "lenient::vec_or_null",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub ims: Vec<MultiValue>,
    /// Photo URLs.
    #[serde(
        default,
        deserialize_with = "lenient::vec_or_null",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub photos: Vec<MultiValue>,
    /// Postal addresses.
    #[serde(
        default,
        deserialize_with = "lenient::vec_or_null",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub addresses: Vec<Address>,
    /// Groups the user belongs to (read-only: change membership on the group).
    #[serde(
        default,
        deserialize_with = "lenient::vec_or_null",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub groups: Vec<MultiValue>,
    /// Entitlements.
    #[serde(
        default,
        deserialize_with = "lenient::vec_or_null",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub entitlements: Vec<MultiValue>,
    /// Roles (SCIM core roles; the shop role is [`ShopUser::role`]).
    #[serde(
        default,
        deserialize_with = "lenient::vec_or_null",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub roles: Vec<MultiValue>,
    /// X.509 certificates, base64 DER in `value`.
    #[serde(
        default,
        deserialize_with = "lenient::vec_or_null",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub x509_certificates: Vec<MultiValue>,
    /// The enterprise extension, keyed by [`urn::ENTERPRISE_USER`].
    #[serde(
        rename = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub enterprise: Option<EnterpriseUser>,
    /// The shop extension, keyed by [`urn::SHOP_USER`].
    #[serde(
        rename = "urn:muster:params:scim:schemas:extension:shop:2.0:User",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub shop: Option<ShopUser>,
    /// Resource metadata.
    #[serde(
        default,
        deserialize_with = "lenient::option_object",
        skip_serializing_if = "Option::is_none"
    )]
    pub meta: Option<Meta>,
    /// Attributes this crate does not model, including unknown extensions; kept so that
    /// a read-modify-write round trip loses nothing.
    #[serde(flatten, serialize_with = "serialize_extra")]
    pub extra: Extra,
    /// Attributes the provider sent that could not be read (a value of the wrong type,
    /// text that is not valid Unicode, or too large to keep), kept as sent and never
    /// written back; see [`User::salvage`]. Empty for a user read whole.
    #[serde(skip)]
    pub unread: Vec<Unread>,
}

lenient_resource!(User, schema::user_schema(), |this| this.schemas());

impl User {
    /// Whether it holds attributes this crate does not model, at any depth (in an
    /// `extra` of the user, its name, a multi-valued entry, an address or an extension).
    pub fn holds_unmodelled(&self) -> bool {
        let lists = [
            &self.emails,
            &self.phone_numbers,
            &self.ims,
            &self.photos,
            &self.groups,
            &self.entitlements,
            &self.roles,
            &self.x509_certificates,
        ];
        !self.extra.is_empty()
            || self
                .name
                .as_ref()
                .is_some_and(|name| !name.extra.is_empty())
            || lists
                .iter()
                .flat_map(|list| list.iter())
                .any(|v| !v.extra.is_empty())
            || self
                .addresses
                .iter()
                .any(|address| !address.extra.is_empty())
            || self
                .enterprise
                .as_ref()
                .is_some_and(|e| !e.extra.is_empty())
            || self
                .shop
                .as_ref()
                .is_some_and(|shop| !shop.extra.is_empty())
    }

    /// Gives back the room its lists hold beyond their length.
    pub fn shrink_to_fit(&mut self) {
        for list in [
            &mut self.emails,
            &mut self.phone_numbers,
            &mut self.ims,
            &mut self.photos,
            &mut self.groups,
            &mut self.entitlements,
            &mut self.roles,
            &mut self.x509_certificates,
        ] {
            list.shrink_to_fit();
        }
        self.addresses.shrink_to_fit();
        if let Some(shop) = &mut self.shop {
            for list in [
                &mut shop.service_groups,
                &mut shop.zones,
                &mut shop.branches,
                &mut shop.permissions,
            ] {
                list.shrink_to_fit();
            }
        }
    }

    /// A user with just a `userName`.
    pub fn new(user_name: impl Into<String>) -> Self {
        Self {
            user_name: user_name.into(),
            ..Self::default()
        }
    }

    /// The `schemas` this user is written with: the core URN, then the URN of each
    /// extension present (enterprise, shop, then unknown extensions kept in `extra`).
    /// What was received is ignored.
    pub fn schemas(&self) -> Vec<&str> {
        let mut schemas: Vec<&str> = vec![urn::USER];
        if self.enterprise.is_some() {
            schemas.push(urn::ENTERPRISE_USER);
        }
        if self.shop.is_some() {
            schemas.push(urn::SHOP_USER);
        }
        schemas.extend(extension_keys(&self.extra));
        schemas
    }

    /// The primary email address, or else the first one.
    pub fn primary_email(&self) -> Option<&str> {
        self.emails
            .iter()
            .find(|email| email.primary == Some(true))
            .or_else(|| self.emails.first())
            .and_then(|email| email.value.as_deref())
    }

    /// The name to show for the user: `displayName`, else `name.formatted`, else the given
    /// and family names, else the `userName`. Blank values do not count.
    pub fn display_name(&self) -> Cow<'_, str> {
        let present = |text: &Option<String>| {
            text.as_deref()
                .map(str::trim)
                .filter(|text| !text.is_empty())
                .is_some()
        };
        if present(&self.display_name) {
            return Cow::Borrowed(self.display_name.as_deref().unwrap_or_default());
        }
        if let Some(name) = &self.name {
            if present(&name.formatted) {
                return Cow::Borrowed(name.formatted.as_deref().unwrap_or_default());
            }
            let parts: Vec<&str> = [name.given_name.as_deref(), name.family_name.as_deref()]
                .into_iter()
                .flatten()
                .map(str::trim)
                .filter(|part| !part.is_empty())
                .collect();
            if !parts.is_empty() {
                return Cow::Owned(parts.join(" "));
            }
        }
        Cow::Borrowed(&self.user_name)
    }

    /// Where the account stands: the shop extension's status when the provider gives one
    /// (a Muster server), else what SCIM `active` says (`false` is deactivated; true or
    /// absent is active).
    pub fn status(&self) -> UserStatus {
        UserStatus::parse(self.status_name())
    }

    /// [`User::status`] by its wire name (`active`, `suspended`…), borrowed.
    pub fn status_name(&self) -> &str {
        match self.shop.as_ref().and_then(|shop| shop.status.as_ref()) {
            Some(status) => status.as_str(),
            // What would say it could not be read: nothing can be claimed.
            None if self.status_unread() => salvage::UNKNOWN_STATUS,
            None if self.active == Some(false) => "deactivated",
            None => "active",
        }
    }

    /// The state of the user's invitation at `now`, if one was sent: accepted is a fact
    /// the server recorded; pending or expired is decided here from the link's expiry, so
    /// an invitation that lapsed since the user was read shows as expired. `None` when no
    /// invitation was sent.
    pub fn invitation_state(&self, now: OffsetDateTime) -> Option<InvitationState> {
        let invitation = self.shop.as_ref()?.invitation.as_ref()?;
        if invitation.state == Some(InvitationState::Accepted) {
            return Some(InvitationState::Accepted);
        }
        match invitation.expires_at {
            Some(expires) if expires <= now => Some(InvitationState::Expired),
            Some(_) => Some(InvitationState::Pending),
            // No expiry given: the provider's word, as it was when read.
            None => invitation.state.clone(),
        }
    }

    /// When the user last signed in, as far as the provider says.
    pub fn last_sign_in_at(&self) -> Option<OffsetDateTime> {
        self.shop.as_ref()?.last_sign_in.as_ref()?.at
    }
}

/// A password on its way to a server. Serialises as a plain string (it is meant for the
/// wire), but `Debug` prints `<redacted>` so that it never reaches a log.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Password(String);

impl Password {
    /// Wraps a password.
    pub fn new(password: impl Into<String>) -> Self {
        Self(password.into())
    }

    /// The password itself.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(<redacted>)")
    }
}

impl From<&str> for Password {
    fn from(password: &str) -> Self {
        Self::new(password)
    }
}

impl From<String> for Password {
    fn from(password: String) -> Self {
        Self(password)
    }
}

/// The components of a user's name.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Name {
    /// The full name, formatted for display.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub formatted: Option<String>,
    /// Family (last) name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub family_name: Option<String>,
    /// Given (first) name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub given_name: Option<String>,
    /// Middle name(s).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub middle_name: Option<String>,
    /// Honorific prefix, e.g. `Ms.`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub honorific_prefix: Option<String>,
    /// Honorific suffix, e.g. `III`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub honorific_suffix: Option<String>,
    /// Sub-attributes this crate does not model.
    #[serde(flatten)]
    pub extra: Extra,
}

impl Name {
    /// A name from its given and family parts.
    pub fn new(given_name: impl Into<String>, family_name: impl Into<String>) -> Self {
        Self {
            given_name: Some(given_name.into()),
            family_name: Some(family_name.into()),
            ..Self::default()
        }
    }
}

/// One value of a multi-valued attribute (RFC 7643 §2.4): an email, phone number, group
/// membership, role…
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MultiValue {
    /// The value itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// Human-readable name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display: Option<String>,
    /// Label, e.g. `work`, `home`, `mobile`.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Whether this is the preferred value; `"True"` / `"False"` strings are accepted.
    #[serde(
        default,
        deserialize_with = "lenient::option_bool",
        skip_serializing_if = "Option::is_none"
    )]
    pub primary: Option<bool>,
    /// URI of the resource the value refers to (`$ref`).
    #[serde(rename = "$ref", default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    /// Sub-attributes this crate does not model.
    #[serde(flatten)]
    pub extra: Extra,
}

impl MultiValue {
    /// A value with no label.
    pub fn new(value: impl Into<String>) -> Self {
        Self {
            value: Some(value.into()),
            ..Self::default()
        }
    }

    /// A labelled value, e.g. `MultiValue::typed("ann@example.com", "work")`.
    pub fn typed(value: impl Into<String>, kind: impl Into<String>) -> Self {
        Self {
            kind: Some(kind.into()),
            ..Self::new(value)
        }
    }
}

/// A postal address.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Address {
    /// The full address, formatted for display or a mailing label.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub formatted: Option<String>,
    /// Street address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub street_address: Option<String>,
    /// City or locality.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locality: Option<String>,
    /// State or region.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// Postal code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub postal_code: Option<String>,
    /// Country, ISO 3166-1 alpha-2.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    /// Label: `work`, `home`, `other`.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Whether this is the preferred address.
    #[serde(
        default,
        deserialize_with = "lenient::option_bool",
        skip_serializing_if = "Option::is_none"
    )]
    pub primary: Option<bool>,
    /// Sub-attributes this crate does not model.
    #[serde(flatten)]
    pub extra: Extra,
}

/// A pragmatic address check: one `@`, something before it, a dotted domain after it,
/// no spaces. Deliverability is the mail server's business. The server and the client's
/// forms apply the same rule.
pub fn looks_like_email(address: &str) -> bool {
    let Some((local, domain)) = address.rsplit_once('@') else {
        return false;
    };
    !local.is_empty()
        && !local.contains('@')
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !address.chars().any(char::is_whitespace)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use serde_json::{Value, json};

    fn person(doc: Value) -> User {
        User::from_json(doc).unwrap()
    }

    #[test]
    fn the_display_name_falls_back_through_the_names_to_the_user_name() {
        let cases = [
            (
                json!({"userName": "u", "displayName": "Ann Lee", "name": {"formatted": "F"}}),
                "Ann Lee",
            ),
            (
                json!({"userName": "u", "displayName": "  ", "name": {"formatted": "Dr Ann Lee"}}),
                "Dr Ann Lee",
            ),
            (
                json!({"userName": "u", "name": {"givenName": "Ann", "familyName": " Lee "}}),
                "Ann Lee",
            ),
            (
                json!({"userName": "u", "name": {"familyName": "Lee"}}),
                "Lee",
            ),
            (
                json!({"userName": "ann@shop.test", "name": {"givenName": " "}}),
                "ann@shop.test",
            ),
        ];
        for (doc, shown) in cases {
            assert_eq!(person(doc.clone()).display_name(), shown, "{doc}");
        }
    }

    #[test]
    fn the_status_is_the_shop_status_else_what_active_says() {
        let shop = person(json!({"userName": "u", "active": true,
            (urn::SHOP_USER): {"status": "suspended"}}));
        assert_eq!(
            shop.status(),
            UserStatus::Suspended,
            "the server's word first"
        );
        assert_eq!(
            person(json!({"userName": "u", "active": false})).status(),
            UserStatus::Deactivated
        );
        assert_eq!(
            person(json!({"userName": "u", "active": true})).status(),
            UserStatus::Active
        );
        assert_eq!(
            person(json!({"userName": "u"})).status(),
            UserStatus::Active,
            "a provider that says nothing has an account in use"
        );
    }

    #[test]
    fn an_invitation_lapses_with_the_clock_not_with_the_copy() {
        let invited = person(
            json!({"userName": "u", (urn::SHOP_USER): {"status": "invited",
            "invitation": {"sentAt": "2030-01-01T09:00:00Z", "expiresAt": "2030-01-03T09:00:00Z",
                           "state": "pending"}}}),
        );
        let before = time::macros::datetime!(2030-01-03 08:59 UTC);
        let after = time::macros::datetime!(2030-01-03 09:00 UTC);
        assert_eq!(
            invited.invitation_state(before),
            Some(InvitationState::Pending)
        );
        assert_eq!(
            invited.invitation_state(after),
            Some(InvitationState::Expired),
            "stored as pending, but its link has expired"
        );
        let accepted = person(json!({"userName": "u", (urn::SHOP_USER): {
            "invitation": {"expiresAt": "2030-01-03T09:00:00Z", "state": "accepted"}}}));
        assert_eq!(
            accepted.invitation_state(after),
            Some(InvitationState::Accepted)
        );
        let no_expiry = person(json!({"userName": "u", (urn::SHOP_USER): {
            "invitation": {"state": "expired"}}}));
        assert_eq!(
            no_expiry.invitation_state(before),
            Some(InvitationState::Expired)
        );
        assert_eq!(
            person(json!({"userName": "u"})).invitation_state(after),
            None
        );
    }

    #[test]
    fn password_debug_is_redacted() {
        let user = User {
            password: Some("hunter2hunter2".into()),
            ..User::new("ann")
        };
        let debug = format!("{user:?}");
        assert!(
            !debug.contains("hunter2"),
            "passwords must not reach logs: {debug}"
        );
    }
}
