//! One row of an import file read and checked on its own: cells trimmed and defused
//! exports undone, names filled in from a whole name, the address checked, licences,
//! roles, branches, zones and groups checked against the known values, and the role the
//! licence is for (filled in when the row gives none).

use std::collections::BTreeSet;

use muster_scim::user as scim_user;

use super::check::{Draft, ImportOptions, Known, Problem, ProblemKind, Severity};
use super::fold;
use super::mapping::Field;

/// Reads one row's cells and checks what can be checked on the row alone.
pub(super) fn read_row(
    row: u32,
    cells: &[(Field, &str)],
    known: &Known,
    options: &ImportOptions,
    unchecked: &mut BTreeSet<Field>,
) -> Draft {
    let mut problems = Vec::new();
    let mut value = |field: Field| cell_text(cells, field, &mut problems);
    let email = value(Field::Email);
    let user_name = value(Field::UserName);
    let given = value(Field::GivenName);
    let family = value(Field::FamilyName);
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
    let (given, family) = fill_names(given, family, whole);
    check_identity(&email, &given, &family, whole, &mut problems);
    let mut checker = Checker {
        known,
        options,
        unchecked,
        problems: &mut problems,
    };
    let licence = checker.one(Field::Licence, &licence);
    let role = checker.one(Field::Role, &role);
    let role = licence_role(licence.as_deref(), role, checker.problems);
    let security_group = checker.one(Field::SecurityGroup, &security_group);
    let home_branch = checker.one(Field::HomeBranch, &home_branch);
    let service_groups = checker.list(Field::ServiceGroups, &service_groups);
    let zones = checker.list(Field::Zones, &zones);
    let branches = checker.list(Field::Branches, &branches);
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

/// The role a row ends up with: the one it gives, else the one its licence is for (a
/// field licence with no role is a technician's); a known role the licence is not for is
/// a problem (an unknown one has its problem already).
fn licence_role(
    licence: Option<&str>,
    role: Option<String>,
    problems: &mut Vec<Problem>,
) -> Option<String> {
    let licence = licence.map(scim_user::Licence::from);
    let Some(role) = role else {
        let required = licence.as_ref().and_then(scim_user::Licence::required_role);
        return required.map(|r| r.as_str().to_owned());
    };
    let known = scim_user::Role::from(role.as_str());
    if !matches!(known, scim_user::Role::Other(_))
        && let Some(problem) = scim_user::licence_role_conflict(licence.as_ref(), Some(&known))
    {
        problems.push(error(ProblemKind::Mismatch, Field::Role, problem));
    }
    Some(role)
}

/// The trimmed text of `field`'s cell (empty when the file has no such column), with a
/// problem when it holds a line break or another control character.
pub(super) fn cell_text(
    cells: &[(Field, &str)],
    field: Field,
    problems: &mut Vec<Problem>,
) -> String {
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
}

/// First and last name, taken from the whole name where a column left them out.
pub(super) fn fill_names(given: String, family: String, whole: &str) -> (String, String) {
    if (given.is_empty() || family.is_empty()) && !whole.is_empty() {
        let (first, last) = split_name(whole);
        (
            if given.is_empty() { first } else { given },
            if family.is_empty() { last } else { family },
        )
    } else {
        (given, family)
    }
}

/// An email address that is one, and both names.
pub(super) fn check_identity(
    email: &str,
    given: &str,
    family: &str,
    whole: &str,
    problems: &mut Vec<Problem>,
) {
    if email.is_empty() {
        problems.push(error(
            ProblemKind::Missing,
            Field::Email,
            "No email address.".to_owned(),
        ));
    } else if !scim_user::looks_like_email(email) {
        problems.push(error(
            ProblemKind::BadEmail,
            Field::Email,
            format!("'{email}' is not an email address."),
        ));
    }
    for (part, field) in [(given, Field::GivenName), (family, Field::FamilyName)] {
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
}

/// Checks values against the organisation's known ones: the spelling in use for a known
/// value, a problem (with the closest known value) for an unknown one.
pub(super) struct Checker<'a> {
    known: &'a Known,
    options: &'a ImportOptions,
    /// Fields with nothing known to check against.
    unchecked: &'a mut BTreeSet<Field>,
    problems: &'a mut Vec<Problem>,
}

impl Checker<'_> {
    /// One value: licences and roles must be known; other fields may bring new values
    /// when the options allow (with a warning).
    fn one(&mut self, field: Field, raw: &str) -> Option<String> {
        if raw.is_empty() {
            return None;
        }
        let Some(values) = self.known.values_of(field) else {
            self.unchecked.insert(field);
            return Some(raw.to_owned());
        };
        if let Some(spelled) = values.get(&fold(raw)) {
            return Some(spelled.clone());
        }
        let closest = closest(raw, values.values());
        let strict = matches!(field, Field::Licence | Field::Role);
        if strict || !self.options.allow_new_values {
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
            self.problems.push(Problem {
                suggestion: closest,
                ..error(ProblemKind::Unknown, field, message)
            });
        } else {
            self.problems.push(Problem {
                kind: ProblemKind::Unknown,
                severity: Severity::Warning,
                field: Some(field),
                message: format!("'{raw}' is a new {}: no user has it yet.", field.label()),
                suggestion: closest,
            });
        }
        Some(raw.to_owned())
    }

    /// A list in one cell (`;`, `,` or `|` between values), each value checked, without
    /// repeats.
    fn list(&mut self, field: Field, raw: &str) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for item in raw.split([';', ',', '|']).map(str::trim) {
            if let Some(item) = self.one(field, item)
                && !out.iter().any(|o| o.eq_ignore_ascii_case(&item))
            {
                out.push(item);
            }
        }
        out
    }
}

pub(super) fn error(kind: ProblemKind, field: Field, message: String) -> Problem {
    Problem {
        kind,
        severity: Severity::Error,
        field: Some(field),
        message,
        suggestion: None,
    }
}

/// A cell as it was before an export defused it: `'=x` → `=x`.
pub(super) fn unguard(text: &str) -> String {
    match text.strip_prefix('\'') {
        Some(rest) if rest.starts_with(['=', '+', '-', '@']) => rest.to_owned(),
        _ => text.to_owned(),
    }
}

pub(super) fn some(text: String) -> Option<String> {
    (!text.is_empty()).then_some(text)
}

/// First and last name from a full name: `Lee, Ann` (last name first), else the first
/// word and the rest (`Ann van der Berg` → `Ann`, `van der Berg`).
pub(super) fn split_name(full: &str) -> (String, String) {
    if let Some((last, first)) = full.split_once(',') {
        return (first.trim().to_owned(), last.trim().to_owned());
    }
    match full.trim().split_once(char::is_whitespace) {
        Some((first, rest)) => (first.to_owned(), rest.trim().to_owned()),
        None => (full.trim().to_owned(), String::new()),
    }
}

/// The known value closest to `wanted`: one it starts, or within a few typos.
pub(super) fn closest<'a>(wanted: &str, known: impl Iterator<Item = &'a String>) -> Option<String> {
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
pub(super) fn edit_distance(a: &str, b: &str) -> usize {
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
