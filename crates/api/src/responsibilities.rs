//! Responsibilities handed over on deactivation: who can take them over
//! (`GET /o/{org}/assignees`).

use serde::{Deserialize, Serialize};

/// A user who can take over work.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Assignee {
    /// The user's SCIM id: the value a reassignment names.
    pub id: String,
    /// Display name (or formatted name, or userName when there is none).
    pub display_name: String,
    /// userName.
    pub user_name: String,
}
