//! Reading what can be read of a user the lenient reading refuses.
//!
//! One bad attribute (a `"active": "maybe"`, a lone UTF-16 surrogate in a name, a photo
//! of several megabytes) must not cost the whole user, or the whole page it came in. So
//! a user is read attribute by attribute: each top-level attribute (and each attribute
//! of an extension) that reads on its own is kept; the others are set aside as
//! [`Unread`], with the reason and the JSON as sent, and never written back.

use std::collections::BTreeMap;

use serde_json::value::RawValue;
use serde_json::{Map, Value};

use super::User;
use crate::urn;

/// The most JSON text of one user kept: beyond it, its largest attributes are set aside
/// (without their text) until the rest fits. A user of a real provider takes about 1.5 KB;
/// one in thousands of groups, a few hundred.
pub const MAX_USER_BYTES: usize = 1 << 20;

/// The status a user is shown with when the attribute that holds it could not be read.
pub(super) const UNKNOWN_STATUS: &str = "unknown";

/// An attribute of a user that could not be read, kept as the provider sent it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Unread {
    /// Its name as sent: `active`, or the extension's URN, a colon and the name for an
    /// attribute of an extension (`urn:…:User:status`).
    pub attribute: String,
    /// Why it could not be read, in words for people.
    pub reason: String,
    /// Its JSON as sent; empty when it was set aside for its size.
    pub raw: String,
}

impl User {
    /// Reads a user listed by a provider: as [`from_json_text`](Self::from_json_text)
    /// does, else (or when the text is over [`MAX_USER_BYTES`]) by
    /// [`salvage`](Self::salvage). `None` when no id can be read: a listed user without
    /// one can be neither kept apart from the others nor acted on.
    pub fn from_listed_text(text: &str) -> Option<Self> {
        if text.len() <= MAX_USER_BYTES
            && let Ok(user) = Self::from_json_text(text)
        {
            return user.id.is_some().then_some(user);
        }
        Self::salvage(text)
    }

    /// Reads what can be read of a user's JSON object, attribute by attribute (see the
    /// [module docs](self)); the others are listed in [`User::unread`].
    ///
    /// `None` when the text is not a JSON object, or its `id` cannot be read: without one
    /// the user cannot be told apart from the others, kept or written.
    pub fn salvage(text: &str) -> Option<Self> {
        let fields: BTreeMap<String, &RawValue> = serde_json::from_str(text).ok()?;
        let mut unread = Vec::new();
        let too_large = set_aside_for_size(&fields, text.len(), &mut unread);
        let mut kept = Map::new();
        for (key, raw) in &fields {
            if too_large.contains(&key.as_str()) {
                continue;
            }
            match read_attribute(key, raw) {
                Ok(value) => {
                    kept.insert(key.clone(), value);
                }
                Err(reason) if is_urn(key) => {
                    if let Some(extension) = read_extension(key, raw, &mut unread) {
                        kept.insert(key.clone(), Value::Object(extension));
                    } else {
                        unread.push(Unread::new(key, reason, raw));
                    }
                }
                Err(reason) => unread.push(Unread::new(key, reason, raw)),
            }
        }
        let mut user = User::from_json(Value::Object(kept)).ok()?;
        user.id.as_ref()?;
        user.unread = unread;
        Some(user)
    }

    /// Whether what says where the account stands could not be read: `active`, the shop
    /// extension, or its `status`.
    pub(super) fn status_unread(&self) -> bool {
        let shop_status = format!("{}:status", urn::SHOP_USER);
        self.unread.iter().any(|unread| {
            let name = unread.attribute.as_str();
            name.eq_ignore_ascii_case("active")
                || name.eq_ignore_ascii_case(urn::SHOP_USER)
                || name.eq_ignore_ascii_case(&shop_status)
        })
    }
}

impl Unread {
    fn new(attribute: &str, reason: String, raw: &RawValue) -> Self {
        Self {
            attribute: attribute.to_owned(),
            reason,
            raw: raw.get().to_owned(),
        }
    }
}

/// Sets aside the largest attributes, without their text, until the user fits in
/// [`MAX_USER_BYTES`]; returns their names.
fn set_aside_for_size<'a>(
    fields: &'a BTreeMap<String, &RawValue>,
    mut size: usize,
    unread: &mut Vec<Unread>,
) -> Vec<&'a str> {
    let mut by_size: Vec<(&str, usize)> = fields
        .iter()
        .map(|(key, raw)| (key.as_str(), raw.get().len()))
        .collect();
    by_size.sort_by_key(|&(_, len)| std::cmp::Reverse(len));
    let mut names = Vec::new();
    for (key, len) in by_size {
        if size <= MAX_USER_BYTES {
            break;
        }
        // The id is what keeps the user.
        if key.eq_ignore_ascii_case("id") {
            continue;
        }
        size -= len;
        names.push(key);
        unread.push(Unread {
            attribute: key.to_owned(),
            reason: format!(
                "{} KB of JSON, more than Muster keeps of one user ({} KB)",
                len.div_ceil(1024),
                MAX_USER_BYTES / 1024
            ),
            raw: String::new(),
        });
    }
    names
}

/// An attribute's value when it reads on its own, else why not.
fn read_attribute(key: &str, raw: &RawValue) -> Result<Value, String> {
    let value = decode(raw)?;
    probe(key, value.clone())?;
    Ok(value)
}

/// The JSON value of `raw`, else why not (a lone surrogate in a string, a number too
/// large).
fn decode(raw: &RawValue) -> Result<Value, String> {
    serde_json::from_str(raw.get()).map_err(|error| format!("its text cannot be read: {error}"))
}

/// Whether a user holding only `key: value` reads, else why not.
fn probe(key: &str, value: Value) -> Result<(), String> {
    let mut alone = Map::new();
    alone.insert(key.to_owned(), value);
    User::from_json(Value::Object(alone))
        .map(drop)
        .map_err(|error| error.to_string())
}

/// The attributes of an extension that read on their own (each tried inside the
/// extension), the others set aside as `urn:…:name`. `None` when it is not an object.
fn read_extension(
    key: &str,
    raw: &RawValue,
    unread: &mut Vec<Unread>,
) -> Option<Map<String, Value>> {
    let fields: BTreeMap<String, &RawValue> = serde_json::from_str(raw.get()).ok()?;
    let mut kept = Map::new();
    for (name, raw) in fields {
        let read = decode(raw).and_then(|value| {
            let mut inner = Map::new();
            inner.insert(name.clone(), value.clone());
            probe(key, Value::Object(inner)).map(|()| value)
        });
        match read {
            Ok(value) => {
                kept.insert(name, value);
            }
            Err(reason) => unread.push(Unread::new(&format!("{key}:{name}"), reason, raw)),
        }
    }
    Some(kept)
}

fn is_urn(key: &str) -> bool {
    key.get(..4)
        .is_some_and(|head| head.eq_ignore_ascii_case("urn:"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shop(inner: &str) -> String {
        format!(r#""{}": {{{inner}}}"#, urn::SHOP_USER)
    }

    #[test]
    fn a_user_read_whole_has_nothing_unread() {
        let text = r#"{"id": "u1", "userName": "ann", "active": false}"#;
        let user = User::from_listed_text(text).expect("a plain user reads");
        assert_eq!(user, User::from_json_text(text).expect("it reads"));
        assert!(user.unread.is_empty());
        assert_eq!(user.status_name(), "deactivated");
    }

    #[test]
    fn a_bad_attribute_is_set_aside_with_its_reason_and_text() {
        let text = r#"{"id": "u1", "userName": "ann", "active": "maybe", "title": "Fitter"}"#;
        assert!(
            User::from_json_text(text).is_err(),
            "the usual reading refuses it"
        );
        let user = User::from_listed_text(text).expect("the rest is read");
        assert_eq!(user.id.as_deref(), Some("u1"));
        assert_eq!(user.user_name, "ann");
        assert_eq!(user.title.as_deref(), Some("Fitter"));
        assert_eq!(user.active, None);
        assert_eq!(user.unread.len(), 1, "{:?}", user.unread);
        let unread = &user.unread[0];
        assert_eq!(unread.attribute, "active");
        assert_eq!(unread.raw, r#""maybe""#);
        assert!(
            unread.reason.contains("boolean") && unread.reason.contains("maybe"),
            "{}",
            unread.reason
        );
        assert_eq!(
            user.status_name(),
            "unknown",
            "an unreadable `active` is not shown as active"
        );
    }

    #[test]
    fn an_extension_keeps_what_reads_and_names_what_does_not() {
        let text = format!(
            r#"{{"id": "u1", "userName": "ann", {}}}"#,
            shop(r#""licence": "timesheet", "status": {"now": 5}, "homeBranch": "North""#)
        );
        let user = User::from_listed_text(&text).expect("the rest is read");
        let shop = user.shop.as_ref().expect("the extension is kept");
        assert_eq!(shop.licence.as_ref().map(|l| l.as_str()), Some("timesheet"));
        assert_eq!(shop.home_branch.as_deref(), Some("North"));
        assert_eq!(shop.status, None);
        let names: Vec<&str> = user.unread.iter().map(|u| u.attribute.as_str()).collect();
        assert_eq!(names, [format!("{}:status", urn::SHOP_USER)]);
        assert_eq!(user.unread[0].raw, r#"{"now": 5}"#);
        assert_eq!(user.status_name(), "unknown");
    }

    #[test]
    fn text_that_is_not_valid_unicode_is_set_aside() {
        // A lone surrogate: valid JSON syntax that no Rust string can hold.
        let text = r#"{"id": "u1", "userName": "ann", "displayName": "Ann \ud800"}"#;
        assert!(serde_json::from_str::<Value>(text).is_err());
        let user = User::from_listed_text(text).expect("the rest is read");
        assert_eq!(user.user_name, "ann");
        assert_eq!(user.display_name, None);
        assert_eq!(user.unread.len(), 1);
        assert_eq!(user.unread[0].attribute, "displayName");
        assert_eq!(user.unread[0].raw, r#""Ann \ud800""#);
        assert!(user.unread[0].reason.contains("cannot be read"));
        assert_eq!(user.status_name(), "active", "the status was read");
    }

    #[test]
    fn a_user_too_large_sets_aside_its_largest_attribute_without_its_text() {
        let photo = "A".repeat(MAX_USER_BYTES + 10);
        let text = format!(
            r#"{{"id": "u1", "userName": "ann", "photos": [{{"value": "data:image/png;base64,{photo}"}}]}}"#
        );
        assert!(User::from_json_text(&text).is_ok(), "it would read");
        let user = User::from_listed_text(&text).expect("the rest is read");
        assert_eq!(user.user_name, "ann");
        assert!(user.photos.is_empty());
        assert_eq!(user.unread.len(), 1);
        assert_eq!(user.unread[0].attribute, "photos");
        assert!(user.unread[0].raw.is_empty(), "its text is not kept");
        assert!(
            user.unread[0].reason.contains("KB"),
            "{}",
            user.unread[0].reason
        );
    }

    #[test]
    fn without_an_id_or_an_object_nothing_can_be_kept() {
        assert_eq!(User::from_listed_text(r#"{"userName": "ann"}"#), None);
        let no_id = r#"{"userName": "ann", "active": "maybe"}"#;
        assert_eq!(User::from_listed_text(no_id), None);
        let bad_id = r#"{"id": [5], "userName": "ann", "active": "maybe"}"#;
        assert_eq!(User::from_listed_text(bad_id), None);
        assert_eq!(User::from_listed_text(r#""ann""#), None);
        assert_eq!(User::from_listed_text("[1, 2]"), None);
    }
}
