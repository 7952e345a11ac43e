//! The user columns that `users list --columns` and `users export` offer: a name and how to
//! read it from a [`User`] as text.

use muster_scim::user::User;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::failure::Failure;

/// One column: its name (as given to `--columns`) and how to read it.
#[derive(Debug, Clone, Copy)]
pub struct Column {
    /// The name, camelCase like the SCIM attribute it reads.
    pub name: &'static str,
    read: fn(&User) -> String,
}

/// A column (short, so that the table of columns reads as one).
const fn col(name: &'static str, read: fn(&User) -> String) -> Column {
    Column { name, read }
}

impl Column {
    /// The column's text for `user` (empty when the user has no value).
    pub fn of(&self, user: &User) -> String {
        (self.read)(user)
    }
}

/// What `users list` shows without `--columns`.
pub const LIST_DEFAULT: &[&str] = &[
    "id", "userName", "name", "email", "role", "licence", "status",
];

/// Every column, in the order `users export` writes them.
pub const ALL: &[Column] = &[
    col("id", |u| u.id.clone().unwrap_or_default()),
    col("userName", |u| u.user_name.clone()),
    col("name", full_name),
    col("givenName", |u| name_part(u, |n| &n.given_name)),
    col("familyName", |u| name_part(u, |n| &n.family_name)),
    col("displayName", |u| {
        u.display_name.clone().unwrap_or_default()
    }),
    col("email", |u| {
        u.primary_email().unwrap_or_default().to_owned()
    }),
    col("phone", phone),
    col("title", |u| u.title.clone().unwrap_or_default()),
    col("licence", |u| {
        shop(u, |s| s.licence.as_ref().map(ToString::to_string))
    }),
    col("role", |u| {
        shop(u, |s| s.role.as_ref().map(ToString::to_string))
    }),
    col("status", status),
    col("active", |u| {
        u.active.map(|a| a.to_string()).unwrap_or_default()
    }),
    col("securityGroup", |u| shop(u, |s| s.security_group.clone())),
    col("jobRole", |u| shop(u, |s| s.job_role.clone())),
    col("homeBranch", |u| shop(u, |s| s.home_branch.clone())),
    col("branches", |u| shop(u, |s| Some(s.branches.join("; ")))),
    col("serviceGroups", |u| {
        shop(u, |s| Some(s.service_groups.join("; ")))
    }),
    col("zones", |u| shop(u, |s| Some(s.zones.join("; ")))),
    col("invitation", |u| {
        shop(u, |s| {
            s.invitation
                .as_ref()?
                .state
                .as_ref()
                .map(ToString::to_string)
        })
    }),
    col("lastSignIn", |u| {
        shop(u, |s| s.last_sign_in.as_ref()?.at.map(rfc3339))
    }),
    col("lastSignInMethod", |u| {
        shop(u, |s| {
            s.last_sign_in
                .as_ref()?
                .method
                .as_ref()
                .map(ToString::to_string)
        })
    }),
    col("mfaEnabled", |u| {
        shop(u, |s| s.mfa_enabled.map(|b| b.to_string()))
    }),
    col("activeSessions", |u| {
        shop(u, |s| s.active_sessions.map(|n| n.to_string()))
    }),
    col("groups", groups),
    col("created", |u| meta_time(u, |m| m.created)),
    col("lastModified", |u| meta_time(u, |m| m.last_modified)),
];

/// The columns named in `spec` (`id,userName,email`), or `default` when there is none.
pub fn select(spec: Option<&str>, default: &[&str]) -> Result<Vec<Column>, Failure> {
    let names: Vec<&str> = match spec {
        Some(spec) => spec
            .split(',')
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .collect(),
        None => default.to_vec(),
    };
    if names.is_empty() {
        return Err(Failure::Usage("--columns names no column.".into()));
    }
    names
        .into_iter()
        .map(|name| {
            ALL.iter()
                .find(|c| c.name.eq_ignore_ascii_case(name))
                .copied()
                .ok_or_else(|| {
                    Failure::Usage(format!(
                        "There is no column '{name}'. Columns: {}.",
                        ALL.iter().map(|c| c.name).collect::<Vec<_>>().join(", ")
                    ))
                })
        })
        .collect()
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

fn name_part(user: &User, part: fn(&muster_scim::user::Name) -> &Option<String>) -> String {
    user.name
        .as_ref()
        .and_then(|n| part(n).clone())
        .unwrap_or_default()
}

fn shop(user: &User, read: impl Fn(&muster_scim::user::ShopUser) -> Option<String>) -> String {
    user.shop.as_ref().and_then(read).unwrap_or_default()
}

fn phone(user: &User) -> String {
    user.shop
        .as_ref()
        .and_then(|s| s.phone.clone())
        .or_else(|| user.phone_numbers.first().and_then(|p| p.value.clone()))
        .unwrap_or_default()
}

/// The shop status, or `active`/`inactive` from SCIM `active` for other providers.
fn status(user: &User) -> String {
    match user.shop.as_ref().and_then(|s| s.status.as_ref()) {
        Some(status) => status.to_string(),
        None => match user.active {
            Some(true) => "active".into(),
            Some(false) => "inactive".into(),
            None => String::new(),
        },
    }
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

/// A time as RFC 3339.
pub fn rfc3339(at: OffsetDateTime) -> String {
    at.format(&Rfc3339).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use muster_scim::user::{MultiValue, Name};

    #[test]
    fn columns_read_users_and_unknown_names_are_refused() {
        let user = User {
            id: Some("42".into()),
            name: Some(Name::new("Ann", "Lee")),
            emails: vec![MultiValue::new("ann@x.test")],
            active: Some(false),
            ..User::new("ann")
        };
        let columns = select(Some("id, userName,name,EMAIL,status"), LIST_DEFAULT).unwrap();
        let cells: Vec<String> = columns.iter().map(|c| c.of(&user)).collect();
        assert_eq!(cells, ["42", "ann", "Ann Lee", "ann@x.test", "inactive"]);
        assert!(select(Some("id,nope"), LIST_DEFAULT).is_err());
        assert_eq!(
            select(None, LIST_DEFAULT).unwrap().len(),
            LIST_DEFAULT.len()
        );
    }
}
