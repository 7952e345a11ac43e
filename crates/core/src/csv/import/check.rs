//! Step 2 of an import: every row read and checked, and the users to create planned.

use std::collections::{BTreeSet, HashMap, HashSet};

use muster_scim::schema::Schema;
use muster_scim::user::{self as scim_user, Licence, MultiValue, Name, Role, ShopUser, User};
use serde::{Deserialize, Serialize};

use super::mapping::{ColumnMapping, Field, MappingOverride, map_columns};
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
    pub fn from_users(users: &[User]) -> Self {
        let mut known = Known {
            user_count: users.len(),
            ..Known::default()
        };
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
    fn values_of(&self, field: Field) -> Option<&HashMap<String, String>> {
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
struct Draft {
    row: u32,
    email: String,
    user_name: String,
    given: String,
    family: String,
    display: String,
    phone: Option<String>,
    job_role: Option<String>,
    licence: Option<String>,
    role: Option<String>,
    security_group: Option<String>,
    service_groups: Vec<String>,
    zones: Vec<String>,
    home_branch: Option<String>,
    branches: Vec<String>,
    problems: Vec<Problem>,
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

/// Reads one row's cells and checks what can be checked on the row alone.
fn read_row(
    row: u32,
    cells: &[(Field, &str)],
    known: &Known,
    options: &ImportOptions,
    unchecked: &mut BTreeSet<Field>,
) -> Draft {
    let mut problems = Vec::new();
    let mut value = |field: Field| -> String {
        let text = cells
            .iter()
            .find(|(f, _)| *f == field)
            .map(|(_, v)| unguard(v.trim()))
            .unwrap_or_default();
        if text.chars().any(char::is_control) {
            problems.push(error(
                ProblemKind::BadText,
                field,
                format!(
                    "The {} holds a line break or another control character.",
                    field.label()
                ),
            ));
        }
        text
    };
    let email = value(Field::Email);
    let user_name = value(Field::UserName);
    let mut given = value(Field::GivenName);
    let mut family = value(Field::FamilyName);
    let full = value(Field::Name);
    let display = value(Field::DisplayName);
    let phone = value(Field::Phone);
    let job_role = value(Field::JobRole);
    let licence = value(Field::Licence);
    let role = value(Field::Role);
    let security_group = value(Field::SecurityGroup);
    let service_groups = value(Field::ServiceGroups);
    let zones = value(Field::Zones);
    let home_branch = value(Field::HomeBranch);
    let branches = value(Field::Branches);

    let whole = if full.is_empty() { &display } else { &full };
    if (given.is_empty() || family.is_empty()) && !whole.is_empty() {
        let (first, last) = split_name(whole);
        if given.is_empty() {
            given = first;
        }
        if family.is_empty() {
            family = last;
        }
    }
    if email.is_empty() {
        problems.push(error(
            ProblemKind::Missing,
            Field::Email,
            "No email address.".to_owned(),
        ));
    } else if !scim_user::looks_like_email(&email) {
        problems.push(error(
            ProblemKind::BadEmail,
            Field::Email,
            format!("'{email}' is not an email address."),
        ));
    }
    for (part, field) in [(&given, Field::GivenName), (&family, Field::FamilyName)] {
        if part.is_empty() {
            let message = if whole.is_empty() {
                format!("No {}.", field.label())
            } else {
                format!(
                    "'{whole}' has no {}; give first and last names.",
                    field.label()
                )
            };
            problems.push(error(ProblemKind::Missing, field, message));
        }
    }
    let mut check = |field: Field, raw: &str| -> Option<String> {
        if raw.is_empty() {
            return None;
        }
        let Some(values) = known.values_of(field) else {
            unchecked.insert(field);
            return Some(raw.to_owned());
        };
        if let Some(spelled) = values.get(&fold(raw)) {
            return Some(spelled.clone());
        }
        let closest = closest(raw, values.values());
        let strict = matches!(field, Field::Licence | Field::Role);
        if strict || !options.allow_new_values {
            let message = if strict {
                let mut all: Vec<&str> = values.values().map(String::as_str).collect();
                all.sort_unstable();
                format!(
                    "'{raw}' is not a {}; use one of: {}.",
                    field.label(),
                    all.join(", ")
                )
            } else {
                format!("No user has the {} '{raw}'.", field.label())
            };
            problems.push(Problem {
                suggestion: closest,
                ..error(ProblemKind::Unknown, field, message)
            });
        } else {
            problems.push(Problem {
                kind: ProblemKind::Unknown,
                severity: Severity::Warning,
                field: Some(field),
                message: format!("'{raw}' is a new {}: no user has it yet.", field.label()),
                suggestion: closest,
            });
        }
        Some(raw.to_owned())
    };
    let licence = check(Field::Licence, &licence);
    let role = check(Field::Role, &role);
    let security_group = check(Field::SecurityGroup, &security_group);
    let home_branch = check(Field::HomeBranch, &home_branch);
    let mut list = |field: Field, raw: &str| -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for item in raw.split([';', ',', '|']).map(str::trim) {
            if let Some(item) = check(field, item)
                && !out.iter().any(|o| o.eq_ignore_ascii_case(&item))
            {
                out.push(item);
            }
        }
        out
    };
    let service_groups = list(Field::ServiceGroups, &service_groups);
    let zones = list(Field::Zones, &zones);
    let branches = list(Field::Branches, &branches);
    let display = if display.is_empty() {
        format!("{given} {family}").trim().to_owned()
    } else {
        display
    };
    Draft {
        row,
        user_name: if user_name.is_empty() {
            email.clone()
        } else {
            user_name
        },
        email,
        given,
        family,
        display,
        phone: some(phone),
        job_role: some(job_role),
        licence,
        role,
        security_group,
        service_groups,
        zones,
        home_branch,
        branches,
        problems,
    }
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

fn error(kind: ProblemKind, field: Field, message: String) -> Problem {
    Problem {
        kind,
        severity: Severity::Error,
        field: Some(field),
        message,
        suggestion: None,
    }
}

/// A cell as it was before an export defused it: `'=x` → `=x` (see [`super::cell`]).
fn unguard(text: &str) -> String {
    match text.strip_prefix('\'') {
        Some(rest) if rest.starts_with(['=', '+', '-', '@']) => rest.to_owned(),
        _ => text.to_owned(),
    }
}

fn some(text: String) -> Option<String> {
    (!text.is_empty()).then_some(text)
}

/// First and last name from a full name: `Lee, Ann` (last name first), else the first
/// word and the rest (`Ann van der Berg` → `Ann`, `van der Berg`).
fn split_name(full: &str) -> (String, String) {
    if let Some((last, first)) = full.split_once(',') {
        return (first.trim().to_owned(), last.trim().to_owned());
    }
    match full.trim().split_once(char::is_whitespace) {
        Some((first, rest)) => (first.to_owned(), rest.trim().to_owned()),
        None => (full.trim().to_owned(), String::new()),
    }
}

/// `ann+contractor@x.test` for `ann@x.test` and `contractor`, unless taken.
fn plus_address(email: &str, tag: &str, taken: impl Fn(&str) -> bool) -> Option<String> {
    let (local, domain) = email.rsplit_once('@')?;
    let base = local.split('+').next().unwrap_or(local);
    let candidate = format!("{base}+{}@{domain}", tag.to_lowercase());
    (!taken(&candidate)).then_some(candidate)
}

/// The known value closest to `wanted`: one it starts, or within a few typos.
fn closest<'a>(wanted: &str, known: impl Iterator<Item = &'a String>) -> Option<String> {
    let wanted = fold(wanted);
    let mut best: Option<(usize, &String)> = None;
    for value in known {
        let folded = fold(value);
        let distance = if wanted.chars().count() >= 3 && folded.starts_with(&wanted) {
            1
        } else {
            edit_distance(&wanted, &folded)
        };
        let limit = (folded.chars().count() / 3).max(1);
        if distance <= limit && best.is_none_or(|(d, v)| (distance, value) < (d, v)) {
            best = Some((distance, value));
        }
    }
    best.map(|(_, value)| value.clone())
}

/// Edit distance by characters, a swap of two neighbours counting as one edit
/// (optimal string alignment): `feild` is one typo from `field`.
fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = best;
        }
    }
    d[a.len()][b.len()]
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
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
            status: Some(scim_user::UserStatus::Active),
            ..ShopUser::default()
        });
        vec![ann]
    }

    fn plan_of(text: &str, options: &ImportOptions) -> Plan {
        let table = parse(text.as_bytes(), &Limits::default()).unwrap();
        plan(&table, &[], &Known::from_users(&existing()), options).unwrap()
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
