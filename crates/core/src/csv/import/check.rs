//! Step 2 of an import: every row read and checked, and the users to create planned.

use std::borrow::Borrow;
use std::collections::{BTreeSet, HashMap, HashSet};

use muster_scim::schema::Schema;
use muster_scim::user::{Licence, MultiValue, Name, Role, ShopUser, User};
use serde::{Deserialize, Serialize};

use super::mapping::{ColumnMapping, Field, MappingOverride, map_columns};
use super::row::{error, read_row};
use super::{count, fold, mapping_error};
use crate::csv::Table;
use crate::error::Error;

/// What rows are checked against: the organisation's existing users and the values its
/// licences, roles, branches, zones and groups take.
#[derive(Debug, Clone, Default)]
pub struct Known {
    /// Existing users by folded email address and user name.
    users: HashMap<String, Existing>,
    /// Per checked field: folded value → its usual spelling.
    values: HashMap<Field, HashMap<String, String>>,
    user_count: usize,
}

#[derive(Debug, Clone)]
struct Existing {
    name: String,
    status: String,
    licence: Option<String>,
}

impl Known {
    /// Known values from the server's schema (licences and roles) and from `users`, the
    /// organisation's users (the offline copy, or a fresh list): their addresses, user
    /// names, and the branches, zones, security and service groups they hold.
    pub fn from_users<U: Borrow<User>>(users: impl IntoIterator<Item = U>) -> Self {
        let mut known = Known::default();
        let shop = Schema::shop_user();
        for (field, attribute) in [(Field::Licence, "licence"), (Field::Role, "role")] {
            for value in shop
                .attribute(attribute)
                .map(|a| a.canonical_values.clone())
                .unwrap_or_default()
            {
                known.add(field, &value);
            }
        }
        for user in users {
            known.user_count += 1;
            let user = user.borrow();
            let existing = Existing {
                name: user.display_name().into_owned(),
                status: user.status_name().to_owned(),
                licence: user
                    .shop
                    .as_ref()
                    .and_then(|s| s.licence.as_ref())
                    .map(|l| l.as_str().to_owned()),
            };
            for address in std::iter::once(user.user_name.as_str())
                .chain(user.emails.iter().filter_map(|e| e.value.as_deref()))
            {
                if !address.trim().is_empty() {
                    known.users.insert(fold(address), existing.clone());
                }
            }
            let Some(shop) = user.shop.as_ref() else {
                continue;
            };
            if let Some(licence) = &shop.licence {
                known.add(Field::Licence, licence.as_str());
            }
            if let Some(role) = &shop.role {
                known.add(Field::Role, role.as_str());
            }
            if let Some(group) = &shop.security_group {
                known.add(Field::SecurityGroup, group);
            }
            for group in &shop.service_groups {
                known.add(Field::ServiceGroups, group);
            }
            for zone in &shop.zones {
                known.add(Field::Zones, zone);
            }
            for branch in shop.home_branch.iter().chain(&shop.branches) {
                known.add(Field::Branches, branch);
            }
        }
        known
    }

    /// How many existing users the rows are checked against.
    pub fn user_count(&self) -> usize {
        self.user_count
    }

    fn add(&mut self, field: Field, value: &str) {
        let value = value.trim();
        if !value.is_empty() {
            self.values
                .entry(field)
                .or_default()
                .entry(fold(value))
                .or_insert_with(|| value.to_owned());
        }
    }

    /// The values known for `field` (home branches count as branches).
    pub(super) fn values_of(&self, field: Field) -> Option<&HashMap<String, String>> {
        let field = if field == Field::HomeBranch {
            Field::Branches
        } else {
            field
        };
        self.values.get(&field).filter(|v| !v.is_empty())
    }

    fn taken(&self, address: &str) -> bool {
        self.users.contains_key(&fold(address))
    }
}

/// How an import checks and runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(default, rename_all = "camelCase")]
pub struct ImportOptions {
    /// A branch, zone or group no existing user has is a warning (it will be new), not a
    /// problem that keeps the row back.
    pub allow_new_values: bool,
    /// Send each created user the welcome email (on by default).
    pub send_welcome: bool,
}

impl Default for ImportOptions {
    fn default() -> Self {
        Self {
            allow_new_values: false,
            send_welcome: true,
        }
    }
}

/// What kind of problem a row has.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub enum ProblemKind {
    /// The row has more or fewer fields than the header.
    Ragged,
    /// A required value is missing.
    Missing,
    /// The email address is malformed.
    BadEmail,
    /// The same email address or user name is on another row.
    Duplicate,
    /// A user with this email address or user name exists already.
    Exists,
    /// A licence, role, branch, zone or group the organisation does not have.
    Unknown,
    /// A value holds a line break or another control character.
    BadText,
    /// A licence with a role it is not for (the field licence is for technicians).
    Mismatch,
}

/// Whether a problem keeps the row from being sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub enum Severity {
    /// The row is not sent.
    Error,
    /// Worth a look; the row is sent.
    Warning,
}

/// One problem of one row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct Problem {
    /// What kind.
    pub kind: ProblemKind,
    /// Whether it keeps the row back.
    pub severity: Severity,
    /// The field concerned, if one.
    pub field: Option<Field>,
    /// What is wrong, in words.
    pub message: String,
    /// A value that would do: the closest known spelling, or a free `name+licence@`
    /// address for a second account.
    pub suggestion: Option<String>,
}

/// One row as the preview shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct RowPreview {
    /// The row's line in the file (the header is row 1).
    pub row: u32,
    /// Email address, as given.
    pub email: String,
    /// User name (the email address when not given).
    pub user_name: String,
    /// Name to show.
    pub name: String,
    /// Licence, spelled as the server does.
    pub licence: Option<String>,
    /// Role, spelled as the server does.
    pub role: Option<String>,
    /// Whether the row will be sent: it has no error, only warnings if anything.
    pub ready: bool,
    /// Every problem found.
    pub problems: Vec<Problem>,
}

/// Everything found before anything is sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct ImportPreview {
    /// How the file's columns map to fields.
    pub columns: Vec<ColumnMapping>,
    /// Every row that is not blank, in file order.
    pub rows: Vec<RowPreview>,
    /// Rows that will be sent.
    pub ready: u32,
    /// Rows kept back by a problem.
    pub with_problems: u32,
    /// Blank rows, skipped.
    pub blank_rows: u32,
    /// What could not be checked, and other remarks.
    pub notes: Vec<String>,
}

/// A checked import: the preview, and the user each ready row creates.
#[derive(Debug, Clone)]
pub struct Plan {
    pub(super) preview: ImportPreview,
    /// One per preview row: the user to create, for the ready ones.
    pub(super) users: Vec<Option<User>>,
}

impl Plan {
    /// What was found.
    pub fn preview(&self) -> &ImportPreview {
        &self.preview
    }

    /// The preview, taken out.
    pub fn into_preview(self) -> ImportPreview {
        self.preview
    }

    /// Whether any row has a problem that keeps it back.
    pub fn has_problems(&self) -> bool {
        self.preview.with_problems > 0
    }

    /// The ready rows: each row number with the user it creates.
    pub fn ready(&self) -> impl Iterator<Item = (u32, &User)> {
        self.preview
            .rows
            .iter()
            .zip(&self.users)
            .filter_map(|(row, user)| Some((row.row, user.as_ref()?)))
    }
}

/// A row's values, read and checked on their own.
#[derive(Debug, Default)]
pub(super) struct Draft {
    pub(super) row: u32,
    pub(super) email: String,
    pub(super) user_name: String,
    pub(super) given: String,
    pub(super) family: String,
    pub(super) display: String,
    pub(super) phone: Option<String>,
    pub(super) job_role: Option<String>,
    pub(super) licence: Option<String>,
    pub(super) role: Option<String>,
    pub(super) security_group: Option<String>,
    pub(super) service_groups: Vec<String>,
    pub(super) zones: Vec<String>,
    pub(super) home_branch: Option<String>,
    pub(super) branches: Vec<String>,
    pub(super) problems: Vec<Problem>,
}

/// Checks every row of `table` (see the [module](super) documentation) and plans the users
/// to create.
///
/// # Errors
///
/// [`Error::Validation`] for a mapping problem ([`map_columns`]) or a file without rows.
pub fn plan(
    table: &Table,
    overrides: &[MappingOverride],
    known: &Known,
    options: &ImportOptions,
) -> Result<Plan, Error> {
    let columns = map_columns(&table.headers, overrides)?;
    let mut unchecked = BTreeSet::new();
    let mut blank_rows = 0u32;
    let mut drafts = Vec::new();
    for record in &table.rows {
        if record.is_blank() {
            blank_rows = blank_rows.saturating_add(1);
            continue;
        }
        let cells: Vec<(Field, &str)> = columns
            .iter()
            .filter_map(|c| {
                let field = c.field?;
                let value = record.fields.get(c.column as usize)?;
                Some((field, value.as_str()))
            })
            .collect();
        let mut draft = read_row(record.row, &cells, known, options, &mut unchecked);
        if record.fields.len() != table.headers.len() {
            // Values may sit in the wrong columns: this is the one problem worth saying.
            draft.problems = vec![Problem {
                kind: ProblemKind::Ragged,
                severity: Severity::Error,
                field: None,
                message: format!(
                    "This row has {} fields but the header has {}; a value holding the \
                     separator needs quotes around it.",
                    record.fields.len(),
                    table.headers.len()
                ),
                suggestion: None,
            }];
        }
        drafts.push(draft);
    }
    if drafts.is_empty() {
        return Err(mapping_error(
            "The file has no rows to import, only a header.".to_owned(),
        ));
    }
    check_across_rows(&mut drafts, known);
    let mut notes = Vec::new();
    if known.user_count() == 0 {
        notes.push(
            "No existing users were known to check against (sync first): the server will \
             refuse addresses in use."
                .to_owned(),
        );
    }
    for field in unchecked {
        notes.push(format!(
            "No existing user has a {}, so those values were not checked.",
            field.label()
        ));
    }
    if blank_rows > 0 {
        notes.push(format!("{blank_rows} blank rows were skipped."));
    }
    let mut rows = Vec::with_capacity(drafts.len());
    let mut users = Vec::with_capacity(drafts.len());
    for draft in drafts {
        let ready = !draft.problems.iter().any(|p| p.severity == Severity::Error);
        users.push(ready.then(|| user_of(&draft)));
        rows.push(RowPreview {
            row: draft.row,
            email: draft.email,
            user_name: draft.user_name,
            name: draft.display,
            licence: draft.licence,
            role: draft.role,
            ready,
            problems: draft.problems,
        });
    }
    let ready = rows.iter().filter(|r| r.ready).count();
    Ok(Plan {
        preview: ImportPreview {
            columns,
            ready: count(ready),
            with_problems: count(rows.len() - ready),
            rows,
            blank_rows,
            notes,
        },
        users,
    })
}

/// The checks that need every row: the same address or user name twice in the file, and
/// people who exist already.
fn check_across_rows(drafts: &mut [Draft], known: &Known) {
    let mut by_email: HashMap<String, Vec<usize>> = HashMap::new();
    let mut by_user_name: HashMap<String, Vec<usize>> = HashMap::new();
    for (i, draft) in drafts.iter().enumerate() {
        if !draft.email.is_empty() {
            by_email.entry(fold(&draft.email)).or_default().push(i);
        }
        if !draft.user_name.is_empty() {
            by_user_name
                .entry(fold(&draft.user_name))
                .or_default()
                .push(i);
        }
    }
    let in_file: HashSet<String> = by_email
        .keys()
        .chain(by_user_name.keys())
        .cloned()
        .collect();
    for (groups, field) in [(&by_email, Field::Email), (&by_user_name, Field::UserName)] {
        for rows in groups.values().filter(|rows| rows.len() > 1) {
            for &i in rows {
                if drafts[i]
                    .problems
                    .iter()
                    .any(|p| p.kind == ProblemKind::Duplicate)
                {
                    continue;
                }
                let others: Vec<String> = rows
                    .iter()
                    .filter(|&&j| j != i)
                    .map(|&j| drafts[j].row.to_string())
                    .collect();
                drafts[i].problems.push(error(
                    ProblemKind::Duplicate,
                    field,
                    format!(
                        "The same {} is on row {} too.",
                        field.label(),
                        others.join(", ")
                    ),
                ));
            }
        }
    }
    for draft in drafts.iter_mut() {
        let found = [
            (Field::Email, &draft.email),
            (Field::UserName, &draft.user_name),
        ]
        .into_iter()
        .filter(|(_, address)| !address.is_empty())
        .find_map(|(field, address)| Some((field, known.users.get(&fold(address))?)));
        let Some((field, existing)) = found else {
            continue;
        };
        // A person who needs a second account (a customer who is also a contractor)
        // gets a `name+licence@` address of their own.
        let suggestion = match (&draft.licence, &existing.licence) {
            (Some(wanted), had) if had.as_deref() != Some(wanted.as_str()) => {
                plus_address(&draft.email, wanted, |candidate| {
                    known.taken(candidate) || in_file.contains(&fold(candidate))
                })
            }
            _ => None,
        };
        let mut message = format!(
            "{} already has this {} ({}).",
            existing.name,
            field.label(),
            existing.status
        );
        if suggestion.is_some() {
            message.push_str(" Someone who needs a second account needs a second address.");
        }
        draft.problems.push(Problem {
            suggestion,
            ..error(ProblemKind::Exists, field, message)
        });
    }
}

/// The user a ready row creates: invited (no password), with its primary work address.
fn user_of(draft: &Draft) -> User {
    let mut user = User::new(draft.user_name.clone());
    user.name = Some(Name::new(draft.given.clone(), draft.family.clone()));
    user.display_name = Some(draft.display.clone());
    user.emails = vec![MultiValue {
        primary: Some(true),
        ..MultiValue::typed(draft.email.clone(), "work")
    }];
    let shop = ShopUser {
        licence: draft.licence.as_deref().map(Licence::parse),
        role: draft.role.as_deref().map(Role::parse),
        security_group: draft.security_group.clone(),
        service_groups: draft.service_groups.clone(),
        zones: draft.zones.clone(),
        home_branch: draft.home_branch.clone(),
        branches: draft.branches.clone(),
        job_role: draft.job_role.clone(),
        phone: draft.phone.clone(),
        ..ShopUser::default()
    };
    user.shop = (shop != ShopUser::default()).then_some(shop);
    user
}

/// `ann+contractor@x.test` for `ann@x.test` and `contractor`, unless taken.
fn plus_address(email: &str, tag: &str, taken: impl Fn(&str) -> bool) -> Option<String> {
    let (local, domain) = email.rsplit_once('@')?;
    let base = local.split('+').next().unwrap_or(local);
    let candidate = format!("{base}+{}@{domain}", tag.to_lowercase());
    (!taken(&candidate)).then_some(candidate)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::csv::import::row::{closest, edit_distance, split_name};
    use crate::csv::{Limits, parse};

    fn existing() -> Vec<User> {
        let mut ann = User::new("ann@acme.test");
        ann.name = Some(Name::new("Ann", "Lee"));
        ann.display_name = Some("Ann Lee".into());
        ann.emails = vec![MultiValue::new("ann@acme.test")];
        ann.shop = Some(ShopUser {
            licence: Some(Licence::Customer),
            home_branch: Some("Denver".into()),
            branches: vec!["Denver".into(), "Boulder".into()],
            zones: vec!["North".into()],
            security_group: Some("Field Standard".into()),
            service_groups: vec!["Sprinkler".into()],
            status: Some(muster_scim::user::UserStatus::Active),
            ..ShopUser::default()
        });
        vec![ann]
    }

    fn plan_of(text: &str, options: &ImportOptions) -> Plan {
        let table = parse(text.as_bytes(), &Limits::default()).unwrap();
        plan(&table, &[], &Known::from_users(existing()), options).unwrap()
    }

    fn problems(plan: &Plan, row: u32) -> Vec<(ProblemKind, Option<&'static str>)> {
        plan.preview()
            .rows
            .iter()
            .find(|r| r.row == row)
            .unwrap()
            .problems
            .iter()
            .map(|p| (p.kind, p.field.map(Field::name)))
            .collect()
    }

    #[test]
    fn every_problem_of_every_row_is_listed() {
        let plan = plan_of(
            "Email,Name,Licence,Role,Branch,Zones\n\
             new.person@acme.test,New Person,Field,Technician,denver,north\n\
             bad@@,Bo Bad,desk,,,\n\
             ,No Mail,desk,,,\n\
             ann@acme.test,Ann Lee,contractor,,,\n\
             twin@acme.test,Twin One,,,,\n\
             TWIN@acme.test,Twin Two,,,,\n\
             odd@acme.test,Cher,feild,owner,Dever,North;Nort\n\
             short@acme.test,Short Row\n\
             \n",
            &ImportOptions::default(),
        );
        let preview = plan.preview();
        assert_eq!(preview.ready, 1, "{preview:#?}");
        assert_eq!(preview.with_problems, 7);
        assert_eq!(preview.blank_rows, 1);

        let good = &preview.rows[0];
        assert!(good.ready && good.problems.is_empty(), "{good:?}");
        assert_eq!(
            good.licence.as_deref(),
            Some("field"),
            "spelled as the server does"
        );
        let (_, user) = plan.ready().next().unwrap();
        let shop = user.shop.as_ref().unwrap();
        assert_eq!(
            shop.home_branch.as_deref(),
            Some("Denver"),
            "known spelling"
        );
        assert_eq!(shop.zones, ["North"]);
        assert_eq!(
            user.user_name, "new.person@acme.test",
            "the email by default"
        );
        assert_eq!(
            user.name.as_ref().unwrap().family_name.as_deref(),
            Some("Person")
        );

        assert_eq!(problems(&plan, 3), [(ProblemKind::BadEmail, Some("email"))]);
        assert_eq!(problems(&plan, 4), [(ProblemKind::Missing, Some("email"))]);
        assert_eq!(problems(&plan, 5), [(ProblemKind::Exists, Some("email"))]);
        let exists = &preview.rows[3].problems[0];
        assert!(exists.message.contains("Ann Lee"), "{exists:?}");
        assert_eq!(
            exists.suggestion.as_deref(),
            Some("ann+contractor@acme.test"),
            "a customer who is also a contractor gets a second address"
        );
        assert_eq!(
            problems(&plan, 6),
            [(ProblemKind::Duplicate, Some("email"))]
        );
        assert_eq!(
            problems(&plan, 7),
            [(ProblemKind::Duplicate, Some("email"))]
        );
        assert!(preview.rows[4].problems[0].message.contains("row 7"));
        assert_eq!(
            problems(&plan, 8),
            [
                (ProblemKind::Missing, Some("familyName")),
                (ProblemKind::Unknown, Some("licence")),
                (ProblemKind::Unknown, Some("role")),
                (ProblemKind::Unknown, Some("homeBranch")),
                (ProblemKind::Unknown, Some("zones")),
            ]
        );
        let odd = &preview.rows[6].problems;
        assert_eq!(odd[1].suggestion.as_deref(), Some("field"));
        assert!(odd[1].message.contains("use one of"), "{:?}", odd[1]);
        assert_eq!(odd[3].suggestion.as_deref(), Some("Denver"));
        assert_eq!(odd[4].suggestion.as_deref(), Some("North"));
        assert_eq!(problems(&plan, 9), [(ProblemKind::Ragged, None)]);
        assert_eq!(plan.ready().count(), 1, "only good rows are planned");
    }

    #[test]
    fn a_field_licence_needs_the_technician_role() {
        let plan = plan_of(
            "email,name,licence,role\n\
             tech@acme.test,Tia Tech,field,technician\n\
             boss@acme.test,Bo Boss,field,admin\n\
             none@acme.test,No Role,Field,\n\
             desk@acme.test,Di Desk,desk,viewer\n\
             typo@acme.test,Ty Po,field,technican\n",
            &ImportOptions::default(),
        );
        assert!(problems(&plan, 2).is_empty());
        assert_eq!(problems(&plan, 3), [(ProblemKind::Mismatch, Some("role"))]);
        assert!(problems(&plan, 4).is_empty(), "{:?}", problems(&plan, 4));
        assert_eq!(
            plan.preview().rows[2].role.as_deref(),
            Some("technician"),
            "a field licence with no role given is a technician's"
        );
        assert!(
            problems(&plan, 5).is_empty(),
            "other licences take any role"
        );
        assert_eq!(
            problems(&plan, 6),
            [(ProblemKind::Unknown, Some("role"))],
            "an unknown role is one problem, not two"
        );
        let mismatch = &plan.preview().rows[1].problems[0];
        assert_eq!(mismatch.severity, Severity::Error);
        assert!(mismatch.message.contains("technician"), "{mismatch:?}");
    }

    #[test]
    fn new_values_may_be_allowed_but_licences_never() {
        let text = "email,givenName,familyName,zones,licence\n\
                    a@acme.test,A,B,Far East,desk\n\
                    c@acme.test,C,D,,gold\n";
        let strict = plan_of(text, &ImportOptions::default());
        assert_eq!(strict.preview().ready, 0);
        let allowed = plan_of(
            text,
            &ImportOptions {
                allow_new_values: true,
                ..ImportOptions::default()
            },
        );
        let rows = &allowed.preview().rows;
        assert!(rows[0].ready, "a new zone is a warning: {:?}", rows[0]);
        assert_eq!(rows[0].problems[0].severity, Severity::Warning);
        assert!(!rows[1].ready, "an unknown licence is still an error");
    }

    #[test]
    fn unchecked_fields_and_empty_files_are_said() {
        let table = parse(
            b"email,name,zones\na@x.test,A B,Anywhere\n",
            &Limits::default(),
        )
        .unwrap();
        let checked = plan(&table, &[], &Known::default(), &ImportOptions::default()).unwrap();
        assert!(checked.preview().rows[0].ready);
        let notes = checked.preview().notes.join(" ");
        assert!(
            notes.contains("sync first") && notes.contains("zone"),
            "{notes}"
        );

        let header_only = parse(b"email,name\n\n", &Limits::default()).unwrap();
        let error = plan(
            &header_only,
            &[],
            &Known::default(),
            &ImportOptions::default(),
        )
        .unwrap_err();
        assert!(error.to_string().contains("no rows"), "{error}");
    }

    #[test]
    fn cells_read_back_what_an_export_wrote() {
        let plan = plan_of(
            "email,givenName,familyName,phone,branches\n\
             p@acme.test,'=Eve,\"O'Neil, Jr\",'+1 303 555 0100,Denver; BOULDER\n\
             q@acme.test,\"Two\nLines\",X,,\n",
            &ImportOptions::default(),
        );
        let (_, user) = plan.ready().next().unwrap();
        let name = user.name.as_ref().unwrap();
        assert_eq!(
            name.given_name.as_deref(),
            Some("=Eve"),
            "the guard is removed"
        );
        assert_eq!(name.family_name.as_deref(), Some("O'Neil, Jr"));
        let shop = user.shop.as_ref().unwrap();
        assert_eq!(shop.phone.as_deref(), Some("+1 303 555 0100"));
        assert_eq!(shop.branches, ["Denver", "Boulder"]);
        assert_eq!(
            problems(&plan, 3),
            [(ProblemKind::BadText, Some("givenName"))]
        );
    }

    #[test]
    fn names_split_and_suggestions_stay_close() {
        assert_eq!(split_name("Ann Lee"), ("Ann".into(), "Lee".into()));
        assert_eq!(split_name("Lee, Ann"), ("Ann".into(), "Lee".into()));
        assert_eq!(
            split_name("Ann van der Berg"),
            ("Ann".into(), "van der Berg".into())
        );
        assert_eq!(split_name("Cher"), ("Cher".into(), String::new()));
        let known = ["Denver".to_owned(), "Colorado Springs".to_owned()];
        assert_eq!(
            closest("colorado", known.iter()).as_deref(),
            Some("Colorado Springs")
        );
        assert_eq!(closest("Dnever", known.iter()).as_deref(), Some("Denver"));
        assert_eq!(closest("Miami", known.iter()), None);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("feild", "field"), 1, "a swap is one typo");
        assert_eq!(
            plus_address("ann+x@acme.test", "Contractor", |_| false).as_deref(),
            Some("ann+contractor@acme.test")
        );
        assert_eq!(plus_address("ann@acme.test", "desk", |_| true), None);
    }
}
