//! The user columns an export offers (and `muster users list --columns` shows): a name,
//! a label for people, and how to read the column from a [`User`] as text.
//!
//! Names are camelCase like the SCIM attributes they read, and they are what an export's
//! header row holds, so an exported file maps back onto the import's fields by itself.
//! Multi-valued columns (branches, zones, groups) join their values with `"; "`.

use muster_scim::user::{Name, ShopUser, User};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::error::Error;

/// One column: its name, its label and how to read it.
#[derive(Debug, Clone, Copy)]
pub struct Column {
    /// The name (`userName`), as given to `--columns` and written in an export's header.
    pub name: &'static str,
    /// The label for people (`User name`).
    pub label: &'static str,
    read: Read,
}

/// How a column reads a user: from the user alone, or with the time (a state that
/// changes with the clock, such as an invitation lapsing).
#[derive(Debug, Clone, Copy)]
enum Read {
    User(fn(&User) -> String),
    UserAt(fn(&User, OffsetDateTime) -> String),
}

/// A column as the desktop app lists it in the export dialog.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct ColumnView {
    /// The name to ask for.
    pub name: String,
    /// The label to show.
    pub label: String,
}

/// A column (short, so that the table of columns reads as one).
const fn col(name: &'static str, label: &'static str, read: fn(&User) -> String) -> Column {
    Column {
        name,
        label,
        read: Read::User(read),
    }
}

/// A column whose text depends on the time.
const fn col_at(
    name: &'static str,
    label: &'static str,
    read: fn(&User, OffsetDateTime) -> String,
) -> Column {
    Column {
        name,
        label,
        read: Read::UserAt(read),
    }
}

impl Column {
    /// The column's text for `user` at `now` (empty when the user has no value).
    pub fn of(&self, user: &User, now: OffsetDateTime) -> String {
        match self.read {
            Read::User(read) => read(user),
            Read::UserAt(read) => read(user, now),
        }
    }
}

/// Every column, in the order an export writes them by default.
pub const ALL: &[Column] = &[
    col("id", "Id", |u| u.id.clone().unwrap_or_default()),
    col("userName", "User name", |u| u.user_name.clone()),
    col("name", "Name", full_name),
    col("givenName", "First name", |u| {
        name_part(u, |n| &n.given_name)
    }),
    col("familyName", "Last name", |u| {
        name_part(u, |n| &n.family_name)
    }),
    col("displayName", "Display name", |u| {
        u.display_name.clone().unwrap_or_default()
    }),
    col("email", "Email", |u| {
        u.primary_email().unwrap_or_default().to_owned()
    }),
    col("phone", "Phone", phone),
    col("title", "Title", |u| u.title.clone().unwrap_or_default()),
    col("licence", "Licence", |u| {
        shop(u, |s| s.licence.as_ref().map(ToString::to_string))
    }),
    col("role", "Role", |u| {
        shop(u, |s| s.role.as_ref().map(ToString::to_string))
    }),
    col("status", "Status", |u| u.status_name().to_owned()),
    col("active", "Active", |u| {
        u.active.map(|a| a.to_string()).unwrap_or_default()
    }),
    col("securityGroup", "Security group", |u| {
        shop(u, |s| s.security_group.clone())
    }),
    col("jobRole", "Job role", |u| shop(u, |s| s.job_role.clone())),
    col("homeBranch", "Home branch", |u| {
        shop(u, |s| s.home_branch.clone())
    }),
    col("branches", "Branches", |u| {
        shop(u, |s| Some(s.branches.join("; ")))
    }),
    col("serviceGroups", "Service groups", |u| {
        shop(u, |s| Some(s.service_groups.join("; ")))
    }),
    col("zones", "Zones", |u| shop(u, |s| Some(s.zones.join("; ")))),
    col_at("invitation", "Invitation", |u, now| {
        u.invitation_state(now)
            .map(|state| state.to_string())
            .unwrap_or_default()
    }),
    col("invitationSent", "Invitation sent", |u| {
        shop(u, |s| s.invitation.as_ref()?.sent_at.map(rfc3339))
    }),
    col("invitationExpires", "Invitation expires", |u| {
        shop(u, |s| s.invitation.as_ref()?.expires_at.map(rfc3339))
    }),
    col("lastSignIn", "Last sign-in", |u| {
        shop(u, |s| s.last_sign_in.as_ref()?.at.map(rfc3339))
    }),
    col("lastSignInMethod", "Last sign-in method", |u| {
        shop(u, |s| {
            s.last_sign_in
                .as_ref()?
                .method
                .as_ref()
                .map(ToString::to_string)
        })
    }),
    col("mfaEnabled", "Two-factor", |u| {
        shop(u, |s| s.mfa_enabled.map(|b| b.to_string()))
    }),
    col("activeSessions", "Sessions", |u| {
        shop(u, |s| s.active_sessions.map(|n| n.to_string()))
    }),
    col("groups", "Groups", groups),
    col("created", "Created", |u| meta_time(u, |m| m.created)),
    col("lastModified", "Last changed", |u| {
        meta_time(u, |m| m.last_modified)
    }),
];

/// The column called `name` (case-insensitively).
pub fn find(name: &str) -> Option<Column> {
    let name = name.trim();
    ALL.iter()
        .find(|c| c.name.eq_ignore_ascii_case(name))
        .copied()
}

/// The columns named, in the order given; every column when `names` is empty.
///
/// # Errors
///
/// [`Error::Validation`] naming the first unknown column and listing the known ones.
pub fn select<S: AsRef<str>>(names: &[S]) -> Result<Vec<Column>, Error> {
    let names: Vec<&str> = names
        .iter()
        .map(|n| n.as_ref().trim())
        .filter(|n| !n.is_empty())
        .collect();
    if names.is_empty() {
        return Ok(ALL.to_vec());
    }
    names
        .into_iter()
        .map(|name| {
            find(name).ok_or_else(|| {
                Error::invalid(
                    "columns",
                    format!(
                        "There is no column '{name}'. Columns: {}.",
                        ALL.iter().map(|c| c.name).collect::<Vec<_>>().join(", ")
                    ),
                )
            })
        })
        .collect()
}

/// Every column, for the export dialog.
pub fn views() -> Vec<ColumnView> {
    ALL.iter()
        .map(|c| ColumnView {
            name: c.name.to_owned(),
            label: c.label.to_owned(),
        })
        .collect()
}

/// A time as RFC 3339 (empty if it cannot be formatted).
pub fn rfc3339(at: OffsetDateTime) -> String {
    at.format(&Rfc3339).unwrap_or_default()
}

fn full_name(user: &User) -> String {
    let parts = user.name.as_ref().map(|n| {
        [&n.given_name, &n.family_name]
            .into_iter()
            .flatten()
            .map(String::as_str)
            .collect::<Vec<_>>()
            .join(" ")
    });
    match parts.filter(|p| !p.is_empty()) {
        Some(name) => name,
        None => user
            .name
            .as_ref()
            .and_then(|n| n.formatted.clone())
            .or_else(|| user.display_name.clone())
            .unwrap_or_default(),
    }
}

fn name_part(user: &User, part: fn(&Name) -> &Option<String>) -> String {
    user.name
        .as_ref()
        .and_then(|n| part(n).clone())
        .unwrap_or_default()
}

fn shop(user: &User, read: impl Fn(&ShopUser) -> Option<String>) -> String {
    user.shop.as_ref().and_then(read).unwrap_or_default()
}

fn phone(user: &User) -> String {
    user.shop
        .as_ref()
        .and_then(|s| s.phone.clone())
        .or_else(|| user.phone_numbers.first().and_then(|p| p.value.clone()))
        .unwrap_or_default()
}

fn groups(user: &User) -> String {
    user.groups
        .iter()
        .filter_map(|g| g.display.clone().or_else(|| g.value.clone()))
        .collect::<Vec<_>>()
        .join("; ")
}

fn meta_time(user: &User, at: fn(&muster_scim::meta::Meta) -> Option<OffsetDateTime>) -> String {
    user.meta
        .as_ref()
        .and_then(at)
        .map(rfc3339)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use muster_scim::user::{Invitation, InvitationState, MultiValue, Name};

    #[test]
    fn columns_read_users_and_unknown_names_are_refused() {
        let user = User {
            id: Some("42".into()),
            name: Some(Name::new("Ann", "Lee")),
            emails: vec![MultiValue::new("ann@x.test")],
            active: Some(false),
            shop: Some(ShopUser {
                zones: vec!["North".into(), "East".into()],
                invitation: Some(Invitation {
                    state: Some(InvitationState::Expired),
                    expires_at: Some(time::macros::datetime!(2030-01-02 03:04:05 UTC)),
                    sent_at: None,
                }),
                ..ShopUser::default()
            }),
            ..User::new("ann")
        };
        let columns = select(&[
            "id",
            " userName",
            "name",
            "EMAIL",
            "status",
            "zones",
            "invitation",
            "invitationExpires",
        ])
        .unwrap();
        // A day after the invitation lapsed (its stored state says expired, and so does
        // the clock).
        let later = time::macros::datetime!(2030-01-03 03:04:05 UTC);
        let cells: Vec<String> = columns.iter().map(|c| c.of(&user, later)).collect();
        assert_eq!(
            cells,
            [
                "42",
                "ann",
                "Ann Lee",
                "ann@x.test",
                "deactivated",
                "North; East",
                "expired",
                "2030-01-02T03:04:05Z"
            ]
        );
        let before = time::macros::datetime!(2030-01-01 00:00 UTC);
        assert_eq!(
            columns[6].of(&user, before),
            "pending",
            "before its expiry the invitation is pending, whatever state was stored"
        );
        let error = select(&["id", "nope"]).unwrap_err().to_string();
        assert!(
            error.contains("'nope'") && error.contains("userName"),
            "{error}"
        );
        assert_eq!(select::<&str>(&[]).unwrap().len(), ALL.len(), "none: all");
    }

    #[test]
    fn names_are_unique_and_labelled() {
        let mut names: Vec<String> = ALL.iter().map(|c| c.name.to_lowercase()).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), ALL.len(), "a column name means one column");
        assert!(views().iter().all(|v| !v.label.is_empty()));
    }
}
