//! A Muster server's audit log (`/o/{org}/audit`): pages of entries, newest first, filtered
//! by actor, target, action, outcome and time, each worded for people (an actor the server
//! does not name is told by kind). The app's audit screen and `muster audit` read it here.
//!
//! Only a Muster server has one; any other provider gives [`Error::Unsupported`].

use reqwest::Method;
use serde::{Deserialize, Serialize};
use serde_json::Value;
#[cfg(feature = "specta")]
use specta::Type;

use crate::client::Client;
use crate::connection::ServerKind;
use crate::error::Error;

/// The most entries the server sends in one page.
pub const MAX_PAGE: u32 = 200;

/// Which audit entries to show.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(Type))]
#[serde(default, rename_all = "camelCase")]
pub struct AuditQuery {
    /// Actor id.
    pub actor: Option<String>,
    /// Target id.
    pub target: Option<String>,
    /// Action name.
    pub action: Option<String>,
    /// success, denied or failed.
    pub outcome: Option<String>,
    /// From (RFC 3339).
    pub since: Option<String>,
    /// Until (RFC 3339).
    pub until: Option<String>,
    /// First entry.
    pub offset: u32,
    /// Entries wanted (1 to [`MAX_PAGE`]).
    pub limit: u32,
}

/// One audit entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(Type))]
#[serde(rename_all = "camelCase")]
pub struct AuditEntryView {
    /// When (RFC 3339).
    pub at: String,
    /// Who (name, or kind).
    pub actor: String,
    /// What.
    pub action: String,
    /// To whom (name or id).
    pub target: Option<String>,
    /// success, denied or failed.
    pub outcome: String,
    /// Details, as text.
    pub detail: String,
}

/// A page of the audit log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(Type))]
#[serde(rename_all = "camelCase")]
pub struct AuditPage {
    /// Matching entries in all.
    pub total: u32,
    /// This page, newest first.
    pub entries: Vec<AuditEntryView>,
}

/// The organisation's audit log, through a signed-in client.
#[derive(Debug)]
pub struct AuditLog<'a> {
    client: &'a Client,
}

impl Client {
    /// The organisation's audit log (a Muster server only).
    pub fn audit(&self) -> AuditLog<'_> {
        AuditLog { client: self }
    }
}

impl AuditLog<'_> {
    /// One page of the entries `query` asks for.
    ///
    /// # Errors
    ///
    /// [`Error::Unsupported`] on other providers; [`Error::Forbidden`] for technicians;
    /// [`Error::Validation`] for a filter the server refuses (a malformed time).
    pub async fn page(&self, query: &AuditQuery) -> Result<AuditPage, Error> {
        let ServerKind::Muster { org } = &self.client.connection().kind else {
            return Err(Error::Unsupported {
                message: "The audit log is a Muster server's; this provider is another SCIM \
                          service."
                    .to_owned(),
            });
        };
        let url = format!("{}/o/{org}/audit", self.client.root());
        read_page(self.client, &url, query).await
    }
}

/// The page `query` asks for of the log at `url` (an organisation's, or the server's own
/// at `/admin/audit`, which answers alike).
pub(crate) async fn read_page(
    client: &Client,
    url: &str,
    query: &AuditQuery,
) -> Result<AuditPage, Error> {
    let mut params: Vec<(&str, String)> = Vec::new();
    for (key, value) in [
        ("actor", &query.actor),
        ("target", &query.target),
        ("action", &query.action),
        ("outcome", &query.outcome),
        ("since", &query.since),
        ("until", &query.until),
    ] {
        if let Some(value) = value.as_ref().filter(|v| !v.trim().is_empty()) {
            params.push((key, value.trim().to_owned()));
        }
    }
    params.push(("startIndex", (query.offset.saturating_add(1)).to_string()));
    params.push(("count", query.limit.clamp(1, MAX_PAGE).to_string()));
    let value: Value = client
        .send(Method::GET, url, &params, None, None, true)
        .await?
        .json()?;
    Ok(page_of(&value))
}

/// A page read leniently: what is missing is empty, not an error.
fn page_of(value: &Value) -> AuditPage {
    let entries = value
        .get("entries")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|e| AuditEntryView {
            at: text(e, "at").unwrap_or_default(),
            actor: text(e, "actorName")
                .or_else(|| text(e, "actorKind").map(|kind| unnamed_actor(&kind)))
                .unwrap_or_default(),
            action: text(e, "action").unwrap_or_default(),
            target: text(e, "targetName").or_else(|| text(e, "targetId")),
            outcome: text(e, "outcome").unwrap_or_default(),
            detail: match e.get("detail") {
                None | Some(Value::Null) => String::new(),
                Some(Value::String(s)) => s.clone(),
                Some(other) => other.to_string(),
            },
        })
        .collect();
    AuditPage {
        total: value
            .get("totalResults")
            .and_then(Value::as_u64)
            .map_or(0, |n| u32::try_from(n).unwrap_or(u32::MAX)),
        entries,
    }
}

/// Words for an audit entry's actor the server does not name, by kind.
fn unnamed_actor(kind: &str) -> String {
    match kind {
        "anonymous" => "Anonymous".to_owned(),
        "other_organisation" => "Someone of another organisation".to_owned(),
        "system_admin" => "A system admin".to_owned(),
        "api_token" => "An API token".to_owned(),
        "user" => "A user".to_owned(),
        other => other.replace('_', " "),
    }
}

fn text(value: &Value, key: &str) -> Option<String> {
    value.get(key).and_then(Value::as_str).map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn entries_are_worded_and_what_is_missing_is_empty() {
        let page = page_of(&json!({
            "totalResults": 3,
            "entries": [
                {"at": "2026-01-01T00:00:00Z", "actorName": "Ann", "action": "user.suspend",
                 "targetId": "u1", "outcome": "success", "detail": {"sessions": 2}},
                {"actorKind": "other_organisation", "outcome": "denied"},
                "not an entry",
            ],
        }));
        assert_eq!(page.total, 3);
        assert_eq!(page.entries[0].actor, "Ann");
        assert_eq!(page.entries[0].target.as_deref(), Some("u1"));
        assert_eq!(page.entries[0].detail, r#"{"sessions":2}"#);
        assert_eq!(page.entries[1].actor, "Someone of another organisation");
        assert_eq!(page.entries[1].action, "");
        assert_eq!(
            page.entries[2].outcome, "",
            "a malformed entry is empty, not a failure"
        );
        assert_eq!(
            page_of(&json!("junk")),
            AuditPage {
                total: 0,
                entries: vec![]
            }
        );
    }
}
