//! Step 1 of an import: which field each column of the file fills.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::mapping_error;
use crate::error::Error;

/// A user attribute an import can set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub enum Field {
    /// Email address (required).
    Email,
    /// Sign-in name; the email address when not given.
    UserName,
    /// First name.
    GivenName,
    /// Last name.
    FamilyName,
    /// Full name, split into first and last name when those are not given
    /// (`Ann Lee`, or `Lee, Ann`).
    Name,
    /// Name to show; first and last name when not given.
    DisplayName,
    /// Work phone.
    Phone,
    /// Job role (free text).
    JobRole,
    /// Licence: field, desk, contractor, customer, api, timesheet.
    Licence,
    /// Role: admin, technician, viewer.
    Role,
    /// Security group.
    SecurityGroup,
    /// Service groups (several, separated by `;`, `,` or `|`).
    ServiceGroups,
    /// Zones (several).
    Zones,
    /// Home branch.
    HomeBranch,
    /// Branches worked for (several).
    Branches,
}

impl Field {
    /// Every field, in the order a preview lists them.
    pub const ALL: [Field; 15] = [
        Field::Email,
        Field::UserName,
        Field::GivenName,
        Field::FamilyName,
        Field::Name,
        Field::DisplayName,
        Field::Phone,
        Field::JobRole,
        Field::Licence,
        Field::Role,
        Field::SecurityGroup,
        Field::ServiceGroups,
        Field::Zones,
        Field::HomeBranch,
        Field::Branches,
    ];

    /// The field's name: `email`, `givenName`… (an export's column names).
    pub fn name(self) -> &'static str {
        match self {
            Field::Email => "email",
            Field::UserName => "userName",
            Field::GivenName => "givenName",
            Field::FamilyName => "familyName",
            Field::Name => "name",
            Field::DisplayName => "displayName",
            Field::Phone => "phone",
            Field::JobRole => "jobRole",
            Field::Licence => "licence",
            Field::Role => "role",
            Field::SecurityGroup => "securityGroup",
            Field::ServiceGroups => "serviceGroups",
            Field::Zones => "zones",
            Field::HomeBranch => "homeBranch",
            Field::Branches => "branches",
        }
    }

    /// The field in words, for messages.
    pub fn label(self) -> &'static str {
        match self {
            Field::Email => "email address",
            Field::UserName => "user name",
            Field::GivenName => "first name",
            Field::FamilyName => "last name",
            Field::Name => "name",
            Field::DisplayName => "display name",
            Field::Phone => "phone",
            Field::JobRole => "job role",
            Field::Licence => "licence",
            Field::Role => "role",
            Field::SecurityGroup => "security group",
            Field::ServiceGroups => "service group",
            Field::Zones => "zone",
            Field::HomeBranch => "home branch",
            Field::Branches => "branch",
        }
    }

    /// The field called `name` (its [`Field::name`], any case, spaces and dashes ignored).
    pub fn parse(name: &str) -> Option<Field> {
        let wanted = normalize(name);
        Field::ALL
            .into_iter()
            .find(|field| normalize(field.name()) == wanted)
    }
}

/// Common header spellings and the field each means (compared after [`normalize`]).
const ALIASES: &[(&str, Field)] = &[
    ("emailaddress", Field::Email),
    ("mail", Field::Email),
    ("emails", Field::Email),
    ("workemail", Field::Email),
    ("primaryemail", Field::Email),
    ("emailwork", Field::Email),
    ("login", Field::UserName),
    ("loginname", Field::UserName),
    ("signinname", Field::UserName),
    ("userprincipalname", Field::UserName),
    ("firstname", Field::GivenName),
    ("first", Field::GivenName),
    ("forename", Field::GivenName),
    ("lastname", Field::FamilyName),
    ("last", Field::FamilyName),
    ("surname", Field::FamilyName),
    ("fullname", Field::Name),
    ("employeename", Field::Name),
    ("phonenumber", Field::Phone),
    ("mobile", Field::Phone),
    ("mobilephone", Field::Phone),
    ("mobilenumber", Field::Phone),
    ("cell", Field::Phone),
    ("cellphone", Field::Phone),
    ("telephone", Field::Phone),
    ("workphone", Field::Phone),
    ("jobtitle", Field::JobRole),
    ("title", Field::JobRole),
    ("position", Field::JobRole),
    ("license", Field::Licence),
    ("licencetype", Field::Licence),
    ("licensetype", Field::Licence),
    ("userrole", Field::Role),
    ("servicegroup", Field::ServiceGroups),
    ("services", Field::ServiceGroups),
    ("zone", Field::Zones),
    ("servicezones", Field::Zones),
    ("servicezone", Field::Zones),
    ("branch", Field::HomeBranch),
    ("primarybranch", Field::HomeBranch),
    ("otherbranches", Field::Branches),
    ("workbranches", Field::Branches),
];

/// Columns of an export that the server keeps: left out of an import, saying why.
const SERVER_KEPT: &[&str] = &[
    "id",
    "status",
    "active",
    "invitation",
    "invitationstate",
    "invitationsent",
    "invitationexpires",
    "lastsignin",
    "lastsigninmethod",
    "mfaenabled",
    "mfa",
    "activesessions",
    "groups",
    "created",
    "lastmodified",
];

/// Where one column of the file goes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct ColumnMapping {
    /// The column's position, from 0.
    pub column: u32,
    /// Its header.
    pub header: String,
    /// The field it fills; `None` when it is not imported.
    pub field: Option<Field>,
    /// Why it is not imported, in words.
    pub note: Option<String>,
}

/// An explicit choice for one column: the field it fills, or `None` to leave it out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct MappingOverride {
    /// The column's header, as in the file (any case).
    pub header: String,
    /// The field, or `None` for "do not import".
    pub field: Option<Field>,
}

/// Matches the file's columns to fields: `overrides` first, then header names that are
/// field names, then common spellings (`E-mail`, `Surname`…). When two columns could fill
/// one field the first wins and the other is left out with a note.
///
/// # Errors
///
/// [`Error::Validation`] when an override names a header the file lacks, two overrides
/// choose the same field, or no column holds email addresses or names.
pub fn map_columns(
    headers: &[String],
    overrides: &[MappingOverride],
) -> Result<Vec<ColumnMapping>, Error> {
    let mut mapping: Vec<ColumnMapping> = headers
        .iter()
        .enumerate()
        .map(|(i, header)| ColumnMapping {
            column: u32::try_from(i).unwrap_or(u32::MAX),
            header: header.clone(),
            field: None,
            note: None,
        })
        .collect();
    let mut settled = vec![false; headers.len()];
    let mut taken: HashMap<Field, String> = HashMap::new();
    for choice in overrides {
        let wanted = choice.header.trim();
        let index = headers
            .iter()
            .position(|h| h.trim().eq_ignore_ascii_case(wanted))
            .or_else(|| {
                headers
                    .iter()
                    .position(|h| normalize(h) == normalize(wanted))
            })
            .ok_or_else(|| {
                mapping_error(format!(
                    "The file has no column '{wanted}'. Its columns: {}.",
                    header_list(headers)
                ))
            })?;
        if let Some(field) = choice.field {
            if let Some(other) = taken.get(&field)
                && *other != headers[index]
            {
                return Err(mapping_error(format!(
                    "Both '{other}' and '{}' are chosen for {}; choose one.",
                    headers[index],
                    field.name()
                )));
            }
            taken.insert(field, headers[index].clone());
        }
        mapping[index].field = choice.field;
        mapping[index].note = choice
            .field
            .is_none()
            .then(|| "Left out, as chosen.".to_owned());
        settled[index] = true;
    }
    let by_name = |header: &str| Field::parse(header);
    let by_alias = |header: &str| {
        let key = normalize(header);
        ALIASES
            .iter()
            .find(|(alias, _)| *alias == key)
            .map(|(_, field)| *field)
    };
    for matcher in [&by_name as &dyn Fn(&str) -> Option<Field>, &by_alias] {
        for (i, header) in headers.iter().enumerate() {
            if settled[i] {
                continue;
            }
            let Some(field) = matcher(header) else {
                continue;
            };
            settled[i] = true;
            match taken.get(&field) {
                Some(first) => {
                    mapping[i].note = Some(format!(
                        "Left out: '{first}' already gives the {}.",
                        field.label()
                    ));
                }
                None => {
                    taken.insert(field, header.clone());
                    mapping[i].field = Some(field);
                }
            }
        }
    }
    for (i, header) in headers.iter().enumerate() {
        if !settled[i] {
            mapping[i].note = Some(left_out_because(header));
        }
    }
    require_identity(&taken, headers)?;
    Ok(mapping)
}

/// A column of email addresses and at least one of names: without them no row can be an
/// invitation.
fn require_identity(taken: &HashMap<Field, String>, headers: &[String]) -> Result<(), Error> {
    if !taken.contains_key(&Field::Email) {
        return Err(mapping_error(format!(
            "No column holds email addresses; choose the one that does. The file's columns: {}.",
            header_list(headers)
        )));
    }
    let named = [
        Field::GivenName,
        Field::FamilyName,
        Field::Name,
        Field::DisplayName,
    ];
    if !named.iter().any(|f| taken.contains_key(f)) {
        return Err(mapping_error(format!(
            "No column holds names (first and last name, or a full name); choose the ones \
             that do. The file's columns: {}.",
            header_list(headers)
        )));
    }
    Ok(())
}

/// Why a column no field matched is left out.
fn left_out_because(header: &str) -> String {
    if SERVER_KEPT.contains(&normalize(header).as_str()) {
        "Left out: the server keeps this.".to_owned()
    } else if header.trim().is_empty() {
        "Left out: the column has no header.".to_owned()
    } else {
        "Left out: no field matches this header; choose one to import it.".to_owned()
    }
}

fn header_list(headers: &[String]) -> String {
    headers
        .iter()
        .map(|h| format!("'{h}'"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A header or field name for matching: lower case, letters and digits only
/// (`E-mail Address` → `emailaddress`).
pub(super) fn normalize(text: &str) -> String {
    text.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn headers(names: &[&str]) -> Vec<String> {
        names.iter().map(|n| (*n).to_owned()).collect()
    }

    fn fields_of(mapping: &[ColumnMapping]) -> Vec<Option<&'static str>> {
        mapping.iter().map(|m| m.field.map(Field::name)).collect()
    }

    #[test]
    fn common_headers_are_matched_and_export_headers_map_back() {
        let mapping = map_columns(
            &headers(&[
                "E-mail",
                "First name",
                "Surname",
                "Mobile",
                "License",
                "Branch",
                "Notes",
            ]),
            &[],
        )
        .unwrap();
        assert_eq!(
            fields_of(&mapping),
            [
                Some("email"),
                Some("givenName"),
                Some("familyName"),
                Some("phone"),
                Some("licence"),
                Some("homeBranch"),
                None
            ]
        );
        assert!(
            mapping[6]
                .note
                .as_deref()
                .unwrap()
                .contains("no field matches")
        );

        let exported: Vec<String> = crate::csv::columns::ALL
            .iter()
            .map(|c| c.name.to_owned())
            .collect();
        let mapping = map_columns(&exported, &[]).unwrap();
        let field_of = |name: &str| {
            mapping
                .iter()
                .find(|m| m.header == name)
                .and_then(|m| m.field)
        };
        assert_eq!(field_of("email"), Some(Field::Email));
        assert_eq!(field_of("zones"), Some(Field::Zones));
        assert_eq!(
            field_of("jobRole"),
            Some(Field::JobRole),
            "an exact name beats the 'title' alias"
        );
        assert_eq!(field_of("title"), None);
        assert_eq!(field_of("status"), None);
        let status = mapping.iter().find(|m| m.header == "status").unwrap();
        assert!(status.note.as_deref().unwrap().contains("server keeps"));
    }

    #[test]
    fn overrides_settle_columns_and_bad_mappings_are_refused() {
        let file = headers(&["Contact", "Who", "Mail"]);
        let error = map_columns(&file, &[]).unwrap_err().to_string();
        assert!(
            error.contains("names"),
            "'Mail' gives the email, but nothing gives names: {error}"
        );
        let mapping = map_columns(
            &file,
            &[
                MappingOverride {
                    header: "who".into(),
                    field: Some(Field::Name),
                },
                MappingOverride {
                    header: "Mail".into(),
                    field: None,
                },
                MappingOverride {
                    header: "CONTACT".into(),
                    field: Some(Field::Email),
                },
            ],
        )
        .unwrap();
        assert_eq!(fields_of(&mapping), [Some("email"), Some("name"), None]);

        let unknown = map_columns(
            &file,
            &[MappingOverride {
                header: "Nope".into(),
                field: Some(Field::Email),
            }],
        )
        .unwrap_err()
        .to_string();
        assert!(
            unknown.contains("'Nope'") && unknown.contains("'Contact'"),
            "{unknown}"
        );
        let twice = map_columns(
            &file,
            &[
                MappingOverride {
                    header: "Contact".into(),
                    field: Some(Field::Email),
                },
                MappingOverride {
                    header: "Mail".into(),
                    field: Some(Field::Email),
                },
            ],
        )
        .unwrap_err()
        .to_string();
        assert!(twice.contains("choose one"), "{twice}");
        let no_email = map_columns(&headers(&["Name"]), &[]).unwrap_err();
        assert!(no_email.to_string().contains("email addresses"));
        assert!(matches!(no_email, Error::Validation { .. }));
    }
}
