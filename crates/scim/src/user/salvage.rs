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

/// The most of an unread attribute's text kept as sent; a longer one is named without it.
const MAX_RAW_BYTES: usize = 64 * 1024;

/// The most of an attribute's name kept (in characters): a name is the provider's text too.
const MAX_NAME_CHARS: usize = 200;

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
    /// Its JSON as sent; empty when it was set aside for its size, or is itself over
    /// 64 KiB (the reason then says how large).
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
        let too_large = set_aside_for_size(&fields, &mut unread)?;
        let mut kept: Vec<(String, Value)> = Vec::new();
        for (key, raw) in &fields {
            if too_large.contains(&key.as_str()) {
                continue;
            }
            match read_attribute(key, raw) {
                Ok(value) => kept.push((key.clone(), value)),
                Err(reason) if is_extension(key) => {
                    if let Some(extension) = read_extension(key, raw, &mut unread) {
                        kept.push((key.clone(), Value::Object(extension)));
                    } else {
                        unread.push(Unread::new(key, reason, raw));
                    }
                }
                Err(reason) => unread.push(Unread::new(key, reason, raw)),
            }
        }
        let mut user = read_together(kept, &mut unread)?;
        user.id.as_ref()?;
        user.unread = unread;
        Some(user)
    }

    /// Whether what says where the account stands could not be read: `active`, the shop
    /// extension, or its `status`.
    pub(super) fn status_unread(&self) -> bool {
        self.unread.iter().any(|unread| {
            let name = unread.attribute.as_str();
            let shop_status = name
                .get(..urn::SHOP_USER.len())
                .filter(|head| head.eq_ignore_ascii_case(urn::SHOP_USER))
                .map(|_| &name[urn::SHOP_USER.len()..]);
            name.eq_ignore_ascii_case("active")
                || shop_status.is_some_and(|rest| rest.is_empty() || rest == ":status")
        })
    }

    /// The attribute set aside as unread that `path` (a PATCH path: `emails`,
    /// `name.givenName`, `urn:…:User:zones`) would write over, or write inside of, if any:
    /// a change there would replace what the server holds with what was not read.
    pub fn unread_under(&self, path: &str) -> Option<&Unread> {
        let path = path.to_ascii_lowercase();
        self.unread.iter().find(|unread| {
            let name = unread.attribute.to_ascii_lowercase();
            let within = |outer: &str, inner: &str| {
                inner
                    .strip_prefix(outer)
                    .is_some_and(|rest| rest.is_empty() || rest.starts_with(['.', ':', '[']))
            };
            within(&name, &path) || within(&path, &name)
        })
    }
}

impl Unread {
    fn new(attribute: &str, reason: String, raw: &RawValue) -> Self {
        let raw = raw.get();
        let (reason, raw) = if raw.len() > MAX_RAW_BYTES {
            let size = format!("{} KB, not kept", raw.len().div_ceil(1024));
            (format!("{reason} ({size})"), String::new())
        } else {
            (reason, raw.to_owned())
        };
        Self {
            attribute: attribute.chars().take(MAX_NAME_CHARS).collect(),
            reason,
            raw,
        }
    }
}

/// The user of `kept` attributes, each of which reads on its own. Together they almost
/// always read too; when not (attributes that clash, such as an extension and one of its
/// attributes sent apart), they are taken one at a time and each that breaks the whole
/// is set aside.
fn read_together(kept: Vec<(String, Value)>, unread: &mut Vec<Unread>) -> Option<User> {
    let object: Map<String, Value> = kept.iter().cloned().collect();
    if let Ok(user) = User::from_json(Value::Object(object)) {
        return Some(user);
    }
    let mut together = Map::new();
    for (key, value) in kept {
        together.insert(key.clone(), value);
        if let Err(error) = User::from_json(Value::Object(together.clone())) {
            let value = together.remove(&key).unwrap_or_default();
            unread.push(Unread {
                attribute: key.chars().take(MAX_NAME_CHARS).collect(),
                reason: error.to_string(),
                raw: Some(value.to_string())
                    .filter(|raw| raw.len() <= MAX_RAW_BYTES)
                    .unwrap_or_default(),
            });
        }
    }
    User::from_json(Value::Object(together)).ok()
}

/// Sets aside the largest attributes (name and value), without their text, until the user
/// fits in [`MAX_USER_BYTES`]; returns their names. `None` when the id alone does not fit:
/// such a user cannot be kept.
fn set_aside_for_size<'a>(
    fields: &'a BTreeMap<String, &RawValue>,
    unread: &mut Vec<Unread>,
) -> Option<Vec<&'a str>> {
    let mut by_size: Vec<(&str, usize)> = fields
        .iter()
        .map(|(key, raw)| (key.as_str(), key.len() + raw.get().len()))
        .collect();
    let mut size: usize = by_size.iter().map(|&(_, len)| len).sum();
    by_size.sort_by_key(|&(_, len)| std::cmp::Reverse(len));
    let mut names = Vec::new();
    for (key, len) in by_size {
        if size <= MAX_USER_BYTES {
            break;
        }
        // The id is what keeps the user.
        if key.eq_ignore_ascii_case("id") {
            if len > MAX_USER_BYTES {
                return None;
            }
            continue;
        }
        size -= len;
        names.push(key);
        unread.push(Unread {
            attribute: key.chars().take(MAX_NAME_CHARS).collect(),
            reason: format!(
                "{} KB of JSON, more than Muster keeps of one user ({} KB)",
                len.div_ceil(1024),
                MAX_USER_BYTES / 1024
            ),
            raw: String::new(),
        });
    }
    Some(names)
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

/// Whether `key` names an extension the user schema knows, whose attributes can be read
/// one by one (an unknown one is kept whole in `extra`, or not at all).
fn is_extension(key: &str) -> bool {
    [urn::ENTERPRISE_USER, urn::SHOP_USER]
        .iter()
        .any(|known| key.eq_ignore_ascii_case(known))
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
    fn the_size_cap_counts_names_and_values_not_spaces() {
        let padding = " ".repeat(MAX_USER_BYTES + 10);
        let padded = format!(r#"{{"id": "u1",{padding}"userName": "ann", "active": true}}"#);
        let user = User::from_listed_text(&padded).expect("it reads");
        assert!(user.unread.is_empty(), "{:?}", user.unread);
        assert_eq!(user.user_name, "ann");

        let long_key = "k".repeat(MAX_USER_BYTES + 10);
        let text = format!(r#"{{"id": "u1", "userName": "ann", "{long_key}": 1}}"#);
        let user = User::from_listed_text(&text).expect("the rest is read");
        assert_eq!(user.user_name, "ann");
        assert_eq!(user.unread.len(), 1);
        assert_eq!(
            user.unread[0].attribute.chars().count(),
            MAX_NAME_CHARS,
            "a name is kept only in part"
        );

        let long_id = "i".repeat(MAX_USER_BYTES + 10);
        let text = format!(r#"{{"id": "{long_id}", "userName": "ann"}}"#);
        assert_eq!(
            User::from_listed_text(&text),
            None,
            "an id too large to keep"
        );
    }

    #[test]
    fn an_attribute_of_an_extension_sent_apart_is_set_aside_alone() {
        let text = format!(
            r#"{{"id": "u1", "userName": "ann", "{}:status": {{"x": 1}}, {}}}"#,
            urn::SHOP_USER,
            shop(r#""licence": "timesheet""#)
        );
        let user = User::from_listed_text(&text).expect("the rest is read");
        assert_eq!(user.user_name, "ann");
        assert_eq!(
            user.shop
                .as_ref()
                .and_then(|s| s.licence.as_ref())
                .map(|l| l.as_str()),
            Some("timesheet")
        );
        let names: Vec<&str> = user.unread.iter().map(|u| u.attribute.as_str()).collect();
        assert_eq!(names, [format!("{}:status", urn::SHOP_USER)]);
        assert_eq!(user.status_name(), "unknown");
    }

    #[test]
    fn a_long_unread_value_is_named_without_its_text() {
        let long = "x".repeat(MAX_RAW_BYTES + 10);
        let text = format!(r#"{{"id": "u1", "userName": "ann", "active": "{long}"}}"#);
        let user = User::from_listed_text(&text).expect("the rest is read");
        assert_eq!(user.unread.len(), 1);
        assert!(user.unread[0].raw.is_empty());
        assert!(
            user.unread[0].reason.contains("not kept"),
            "{}",
            user.unread[0].reason
        );
    }

    #[test]
    fn a_change_under_an_unread_attribute_is_found() {
        let text = format!(
            r#"{{"id": "u1", "userName": "ann", "emails": 5, {}}}"#,
            shop(r#""zones": {"a": 1}, "licence": "timesheet""#)
        );
        let user = User::from_listed_text(&text).unwrap();
        assert!(user.unread_under("emails").is_some());
        assert!(
            user.unread_under("EMAILS[type eq \"work\"].value")
                .is_some()
        );
        assert!(
            user.unread_under(&format!("{}:zones", urn::SHOP_USER))
                .is_some()
        );
        assert!(
            user.unread_under(urn::SHOP_USER).is_some(),
            "the whole extension"
        );
        assert!(
            user.unread_under(&format!("{}:licence", urn::SHOP_USER))
                .is_none()
        );
        assert!(user.unread_under("name.givenName").is_none());
        assert!(user.unread_under("emailsx").is_none());
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
