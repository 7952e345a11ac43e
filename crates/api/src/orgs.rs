//! Organisations (`/admin/orgs`) and plans (`/admin/plans`): what the server lists and
//! answers, and the rules for a new organisation's id and name that both sides check.

use serde::{Deserialize, Serialize};

/// The longest organisation id.
pub const MAX_ID: usize = 63;

/// The longest organisation name, in characters.
pub const MAX_NAME: usize = 200;

/// What an organisation id may be, in words for people.
pub const ID_RULE: &str = "1 to 63 lower-case letters, digits and '-'";

/// Whether `id` is an organisation id: [`ID_RULE`].
pub fn is_org_id(id: &str) -> bool {
    let allowed = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-';
    (1..=MAX_ID).contains(&id.len()) && id.chars().all(allowed)
}

/// Whether `name` (trimmed) is an organisation name: 1 to [`MAX_NAME`] characters.
pub fn is_org_name(name: &str) -> bool {
    crate::is_name(name, MAX_NAME)
}

/// Whether an organisation may be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OrgStatus {
    /// Its users sign in and its API answers.
    Active,
    /// Nobody signs in to it and nothing under `/o/{org}/` answers (403 `orgSuspended`)
    /// until it is reactivated.
    Suspended,
}

impl OrgStatus {
    /// Its name on the wire (and in the server's storage).
    pub fn name(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Suspended => "suspended",
        }
    }
}

/// An organisation as the server lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Organisation {
    /// Its id, as in `/o/{id}/...`.
    pub id: String,
    /// Its name.
    pub name: String,
    /// When it was created (RFC 3339).
    pub created: String,
    /// How many users it has.
    #[serde(default)]
    pub user_count: u64,
    /// Its plan's id (see [`Plan`]).
    pub plan: String,
    /// Active or suspended.
    pub status: OrgStatus,
}

/// A billing plan the server offers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Plan {
    /// Its id (`free`, `standard`, `enterprise`).
    pub id: String,
    /// Its name for people.
    pub name: String,
    /// What it includes, in one sentence.
    #[serde(default)]
    pub description: String,
}

/// What deleting an organisation removed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeletedOrganisation {
    /// Its id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// How many users it had (all gone).
    #[serde(default)]
    pub users_deleted: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_short_lower_case_words() {
        assert!(is_org_id("acme-fire-2"));
        assert!(is_org_id(&"a".repeat(MAX_ID)));
        for bad in [
            "",
            "Acme",
            "acme fire",
            "acme_fire",
            "acmé",
            &"a".repeat(MAX_ID + 1),
        ] {
            assert!(!is_org_id(bad), "{bad:?}");
        }
    }

    #[test]
    fn names_are_one_to_two_hundred_characters() {
        assert!(is_org_name(" Acme Fire "));
        assert!(is_org_name(&"é".repeat(MAX_NAME)));
        assert!(!is_org_name("   "));
        assert!(!is_org_name(&"é".repeat(MAX_NAME + 1)));
    }

    #[test]
    fn an_organisation_reads_back_what_the_server_wrote() {
        let org = Organisation {
            id: "acme".into(),
            name: "Acme".into(),
            created: "2026-01-01T00:00:00Z".into(),
            user_count: 3,
            plan: "standard".into(),
            status: OrgStatus::Suspended,
        };
        let text = serde_json::to_string(&org).unwrap();
        assert!(text.contains(r#""userCount":3"#) && text.contains(r#""status":"suspended""#));
        assert_eq!(serde_json::from_str::<Organisation>(&text).unwrap(), org);
    }
}
