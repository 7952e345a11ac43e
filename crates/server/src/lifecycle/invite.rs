//! What an invitation may ask besides the email (`send-welcome`'s body): the app it is
//! for (`web`, the default, or `mobile`: the email says to sign in on the mobile app), and
//! an SMS verification code (`smsCode: true`) the welcome page asks for before a password
//! can be set, so a forwarded or intercepted email is not enough to take the account.
//!
//! The code is six digits, sent through the outbox as an SMS to the user's phone (the
//! shop field `phone`, else SCIM `phoneNumbers`; none is a 400 naming `phone`). The link
//! keeps only a hash of it with the link's token; five wrong codes cancel the link. A
//! resend without options keeps the last invitation's.

use rand::Rng;
use rusqlite::{Connection, OptionalExtension, Transaction, params};
use serde::Deserialize;
use serde_json::Value;
use time::OffsetDateTime;

use crate::auth::tokens::token_hash;
use crate::error::{AppError, AppResult};

/// Columns the links table gains for invitations' options.
pub const SCHEMA: &str = r#"
-- channel: the app a welcome link is for (web or mobile). sms_code_hash: the SHA-256 of
-- the code sent by SMS that the welcome page asks for; sms_failures counts wrong codes.
ALTER TABLE link_tokens ADD COLUMN channel TEXT NOT NULL DEFAULT 'web';
ALTER TABLE link_tokens ADD COLUMN sms_code_hash TEXT;
ALTER TABLE link_tokens ADD COLUMN sms_failures INTEGER NOT NULL DEFAULT 0;
"#;

/// Wrong SMS codes a welcome link takes before it is cancelled.
pub const MAX_SMS_FAILURES: i64 = 5;

/// The app an invitation is for.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Channel {
    /// The web app (the default).
    #[default]
    Web,
    /// The mobile app.
    Mobile,
}

impl Channel {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Web => "web",
            Self::Mobile => "mobile",
        }
    }

    fn of(text: &str) -> Self {
        if text == "mobile" {
            Self::Mobile
        } else {
            Self::Web
        }
    }
}

/// An invitation's options.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Invite {
    /// The app it is for.
    pub channel: Channel,
    /// Whether the welcome page asks for a code sent by SMS.
    pub sms_code: bool,
}

/// The phone an SMS goes to: the shop field `phone`, else the primary (or first) SCIM
/// phone number.
pub fn phone_of(doc: &Value) -> Option<String> {
    let shop = doc
        .get(muster_scim::urn::SHOP_USER)
        .and_then(|s| s.get("phone"))
        .and_then(Value::as_str);
    let numbers = doc.get("phoneNumbers").and_then(Value::as_array);
    let scim = numbers.and_then(|numbers| {
        numbers
            .iter()
            .find(|n| n.get("primary").and_then(Value::as_bool) == Some(true))
            .or_else(|| numbers.first())
            .and_then(|n| n.get("value").and_then(Value::as_str))
    });
    [shop, scim]
        .into_iter()
        .flatten()
        .map(str::trim)
        .find(|p| !p.is_empty())
        .map(str::to_owned)
}

/// A new code for `invite`, when it asks for one, with the phone it goes to.
///
/// # Errors
///
/// 400 naming `phone` when the invitation asks for a code and there is no phone.
pub fn new_code(invite: Invite, phone: Option<&str>) -> AppResult<Option<(String, String)>> {
    if !invite.sms_code {
        return Ok(None);
    }
    let phone = phone.ok_or_else(|| {
        AppError::invalid_attribute(
            "phone",
            "An SMS code needs the user's phone number: add one, then send the invitation.",
        )
    })?;
    let code = format!("{:06}", rand::rng().random_range(0..1_000_000));
    Ok(Some((code, phone.to_owned())))
}

/// The options of the user's latest invitation (the default when there was none): a
/// resend that says nothing keeps them, so resending never drops the SMS code.
pub fn last_of(conn: &Connection, org: &str, user_id: &str) -> AppResult<Invite> {
    options(
        conn,
        "org = ?1 AND user_id = ?2 AND kind = 'welcome' ORDER BY created DESC, rowid DESC",
        params![org, user_id],
    )
}

/// The stored form of a link's SMS code: a hash of the code with the link's token, which
/// only the link's holder has (the table keeps the token's hash alone), so the six digits
/// cannot be tried against it without the link.
fn code_hash(token: &str, code: &str) -> String {
    token_hash(&format!("{token}:{code}"))
}

/// Records `invite` (and the hash of its `code`) on the welcome link `token`.
pub fn record(
    tx: &Transaction<'_>,
    token: &str,
    invite: Invite,
    code: Option<&str>,
) -> AppResult<()> {
    tx.execute(
        "UPDATE link_tokens SET channel = ?2, sms_code_hash = ?3 WHERE hash = ?1",
        params![
            token_hash(token),
            invite.channel.as_str(),
            code.map(|code| code_hash(token, code))
        ],
    )?;
    Ok(())
}

/// A welcome link's options, as [`record`] kept them (the default for another link).
pub fn of_link(conn: &Connection, token: &str) -> AppResult<Invite> {
    options(conn, "hash = ?1", params![token_hash(token)])
}

/// The options of the first link `rest` (a `WHERE` clause, ordered) finds; the default
/// when it finds none.
fn options(conn: &Connection, rest: &str, args: impl rusqlite::Params) -> AppResult<Invite> {
    let row: Option<(String, bool)> = conn
        .query_row(
            &format!(
                "SELECT channel, sms_code_hash IS NOT NULL FROM link_tokens WHERE {rest} LIMIT 1"
            ),
            args,
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .optional()?;
    Ok(
        row.map_or_else(Invite::default, |(channel, sms_code)| Invite {
            channel: Channel::of(&channel),
            sms_code,
        }),
    )
}

/// What a typed SMS code did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeCheck {
    /// It is the code sent (or none was asked for).
    Right,
    /// It is not; this many tries are left.
    Wrong {
        /// Tries left before the link is cancelled.
        left: i64,
    },
    /// Too many wrong codes: the link is cancelled now.
    Cancelled,
}

/// Checks `code` against the welcome link `token`'s, counting a wrong one and cancelling
/// the link at [`MAX_SMS_FAILURES`] (in its own transaction, so a wrong try counts
/// however the rest goes).
pub fn check_code(
    tx: &Transaction<'_>,
    token: &str,
    code: &str,
    now: OffsetDateTime,
) -> AppResult<CodeCheck> {
    let hash = token_hash(token);
    let row: Option<(Option<String>, i64)> = tx
        .query_row(
            "SELECT sms_code_hash, sms_failures FROM link_tokens WHERE hash = ?1",
            [&hash],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .optional()?;
    let Some((Some(expected), failures)) = row else {
        return Ok(CodeCheck::Right);
    };
    let typed: String = code.chars().filter(char::is_ascii_digit).collect();
    if !typed.is_empty() && constant_time_eq(&code_hash(token, &typed), &expected) {
        return Ok(CodeCheck::Right);
    }
    let failures = failures + 1;
    tx.execute(
        "UPDATE link_tokens SET sms_failures = ?2 WHERE hash = ?1",
        params![hash, failures],
    )?;
    if failures < MAX_SMS_FAILURES {
        return Ok(CodeCheck::Wrong {
            left: MAX_SMS_FAILURES - failures,
        });
    }
    tx.execute(
        "UPDATE link_tokens SET voided_at = ?2 WHERE hash = ?1 AND voided_at IS NULL",
        params![hash, crate::auth::stamp(now)],
    )?;
    tracing::warn!("welcome link cancelled after wrong SMS codes");
    Ok(CodeCheck::Cancelled)
}

/// Compares two hex digests without stopping at the first difference.
fn constant_time_eq(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_phone_is_the_shop_field_else_the_primary_number() {
        let shop = json!({muster_scim::urn::SHOP_USER: {"phone": " +1 303 555 0100 "},
                          "phoneNumbers": [{"value": "+1 999"}]});
        assert_eq!(phone_of(&shop).as_deref(), Some("+1 303 555 0100"));
        let scim =
            json!({"phoneNumbers": [{"value": "+1 111"}, {"value": "+1 222", "primary": true}]});
        assert_eq!(phone_of(&scim).as_deref(), Some("+1 222"));
        assert_eq!(phone_of(&json!({"phoneNumbers": [{"value": "  "}]})), None);
        let blank_shop = json!({muster_scim::urn::SHOP_USER: {"phone": " "},
                                "phoneNumbers": [{"value": "+1 333"}]});
        assert_eq!(
            phone_of(&blank_shop).as_deref(),
            Some("+1 333"),
            "a blank field is none"
        );
        assert!(constant_time_eq("ab", "ab") && !constant_time_eq("ab", "ac"));
        assert!(!constant_time_eq("ab", "abc"));
    }
}
