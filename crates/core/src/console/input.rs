//! The user form's input: checked before anything is sent, and turned into a SCIM user or
//! PATCH operations.

use muster_scim::message::{PatchOpKind, PatchOperation};
use muster_scim::user::{self as scim_user, Licence, MultiValue, Name, Role, ShopUser, User};
use serde_json::{Value, json};

use crate::actions::{Invite, Reassign, ResponsibilityKind};
use crate::error::{Error, FieldError};

use super::view::{Handover, UserDetail, UserInput};
use muster_scim::urn::SHOP_USER as SHOP;

/// The licence and role a user holds already (the user being edited), as text.
pub(super) type Held<'a> = Option<(Option<&'a str>, Option<&'a str>)>;

/// Every problem of the form that shows without asking the server, by field: the same
/// list the form shows as the admin types and the check before sending. `held` is the
/// licence and role of the user being edited: a pair they hold already is not refused
/// again (the server keeps a pair stored before its rule until one of the two changes).
pub(super) fn problems_of(input: &UserInput, held: Held<'_>) -> Vec<FieldError> {
    let mut fields = Vec::new();
    let mut bad = |field: &str, message: &str| fields.push(FieldError::new(field, message));
    if input.given_name.trim().is_empty() {
        bad("givenName", "Enter a first name.");
    }
    if input.family_name.trim().is_empty() {
        bad("familyName", "Enter a last name.");
    }
    let email = input.email.trim();
    if email.is_empty() {
        bad("email", "Enter an email address.");
    } else if !scim_user::looks_like_email(email) {
        bad("email", "Enter an address like name@example.com.");
    }
    let user_name = input.user_name.trim();
    if user_name.is_empty() {
        bad("userName", "Enter a sign-in name.");
    } else if user_name.chars().any(char::is_whitespace) {
        bad("userName", "A sign-in name cannot contain spaces.");
    }
    if let Some(problem) = pair_problem(input, held) {
        bad("role", &problem);
    }
    fields
}

/// Why an invitation sent as `welcome` asks cannot go to the form's person: an SMS code
/// needs a phone number.
pub(super) fn invite_problem(input: &UserInput, welcome: Option<Invite>) -> Option<FieldError> {
    (welcome.is_some_and(|w| w.sms_code) && blank_to_none(&input.phone).is_none()).then(|| {
        FieldError::new(
            "phone",
            "An SMS code needs a phone number: enter one, or send the invitation without a code.",
        )
    })
}

/// Why the form's licence and role do not go together, unless the user holds them already.
pub(super) fn pair_problem(input: &UserInput, held: Held<'_>) -> Option<String> {
    let (licence, role) = (blank_to_none(&input.licence), blank_to_none(&input.role));
    let same = |a: Option<&str>, b: &Option<String>| {
        a.map(str::to_lowercase) == b.as_deref().map(str::to_lowercase)
    };
    if held.is_some_and(|(l, r)| same(l, &licence) && same(r, &role)) {
        return None;
    }
    scim_user::licence_role_conflict(
        licence.as_deref().map(Licence::from).as_ref(),
        role.as_deref().map(Role::from).as_ref(),
    )
}

/// Checks the form before anything is sent, naming each bad field.
pub(super) fn validate_input(input: &UserInput, held: Held<'_>) -> Result<(), Error> {
    let fields = problems_of(input, held);
    if fields.is_empty() {
        Ok(())
    } else {
        Err(Error::Validation {
            message: "Some fields need attention.".to_owned(),
            scim_type: None,
            fields,
        })
    }
}

pub(super) fn blank_to_none(value: &Option<String>) -> Option<String> {
    value
        .as_deref()
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
}

pub(super) use crate::users::clean_list as clean;

/// The handover a deactivation or delete sends, from the wizard's choices (single or
/// bulk): a kind this engine does not know is refused, never dropped.
pub(super) fn reassign_of(handovers: &[Handover]) -> Result<Reassign, Error> {
    let mut reassign = Reassign::default();
    for handover in handovers {
        let kind = ResponsibilityKind::ALL
            .into_iter()
            .find(|kind| kind.name() == handover.kind)
            .ok_or_else(|| {
                Error::invalid(
                    "kind",
                    format!("Unknown responsibility '{}'.", handover.kind),
                )
            })?;
        reassign.set(kind, handover.user_id.trim());
    }
    Ok(reassign)
}

pub(super) fn user_from(input: &UserInput) -> User {
    let mut user = User::new(input.user_name.trim());
    user.name = Some(Name::new(input.given_name.trim(), input.family_name.trim()));
    user.display_name = Some(format!(
        "{} {}",
        input.given_name.trim(),
        input.family_name.trim()
    ));
    let mut email = MultiValue::typed(input.email.trim(), "work");
    email.primary = Some(true);
    user.emails = vec![email];
    user.shop = Some(ShopUser {
        licence: blank_to_none(&input.licence).map(|l| Licence::from(l.as_str())),
        role: blank_to_none(&input.role).map(|r| Role::from(r.as_str())),
        security_group: blank_to_none(&input.security_group),
        service_groups: clean(&input.service_groups),
        zones: clean(&input.zones),
        home_branch: blank_to_none(&input.home_branch),
        branches: clean(&input.branches),
        permissions: clean(&input.permissions),
        job_role: blank_to_none(&input.job_role),
        phone: blank_to_none(&input.phone),
        ..ShopUser::default()
    });
    user
}

/// PATCH operations taking `before` to the form's values; `shop` says whether the
/// provider takes Muster's shop extension (without it, the phone and job role go to SCIM's
/// own `phoneNumbers` and `title`, and the shop fields, which the form hides, are left).
pub(super) fn changes(before: &UserDetail, input: &UserInput, shop: bool) -> Vec<PatchOperation> {
    let mut ops = Vec::new();
    let text_changed = |old: &Option<String>, new: &str| old.as_deref().unwrap_or("") != new.trim();
    if before.user_name != input.user_name.trim() {
        ops.push(set("userName".into(), json!(input.user_name.trim())));
    }
    let given = text_changed(&before.given_name, &input.given_name);
    let family = text_changed(&before.family_name, &input.family_name);
    if given {
        ops.push(set("name.givenName".into(), json!(input.given_name.trim())));
    }
    if family {
        ops.push(set(
            "name.familyName".into(),
            json!(input.family_name.trim()),
        ));
    }
    if given || family {
        let display = format!("{} {}", input.given_name.trim(), input.family_name.trim());
        ops.push(set("displayName".into(), json!(display)));
    }
    if text_changed(&before.email, &input.email) {
        ops.push(set(
            "emails".into(),
            json!([{"value": input.email.trim(), "type": "work", "primary": true}]),
        ));
    }
    if shop {
        ops.extend(shop_changes(before, input));
    } else {
        ops.extend(scim_contact_changes(before, input));
    }
    ops
}

/// Replace `path` with `value`, or remove it for `null`.
fn set(path: String, value: Value) -> PatchOperation {
    if value.is_null() {
        PatchOperation {
            op: PatchOpKind::Remove,
            path: Some(path),
            value: None,
        }
    } else {
        PatchOperation {
            op: PatchOpKind::Replace,
            path: Some(path),
            value: Some(value),
        }
    }
}

/// The phone and job role as SCIM's own `phoneNumbers` and `title` (no shop extension).
fn scim_contact_changes(before: &UserDetail, input: &UserInput) -> Vec<PatchOperation> {
    let mut ops = Vec::new();
    if before.phone.as_deref() != blank_to_none(&input.phone).as_deref() {
        ops.push(set(
            "phoneNumbers".into(),
            blank_to_none(&input.phone).map_or(
                Value::Null,
                |phone| json!([{"value": phone, "type": "work"}]),
            ),
        ));
    }
    if before.job_role.as_deref() != blank_to_none(&input.job_role).as_deref() {
        ops.push(set(
            "title".into(),
            blank_to_none(&input.job_role).map_or(Value::Null, Value::String),
        ));
    }
    ops
}

/// The shop extension's fields that changed.
fn shop_changes(before: &UserDetail, input: &UserInput) -> Vec<PatchOperation> {
    let mut ops = Vec::new();
    let optional = [
        ("phone", &before.phone, &input.phone),
        ("jobRole", &before.job_role, &input.job_role),
        ("licence", &before.licence, &input.licence),
        ("role", &before.role, &input.role),
        (
            "securityGroup",
            &before.security_group,
            &input.security_group,
        ),
        ("homeBranch", &before.home_branch, &input.home_branch),
    ];
    for (name, old, new) in optional {
        let new = blank_to_none(new);
        if *old != new {
            ops.push(set(
                format!("{SHOP}:{name}"),
                new.map_or(Value::Null, Value::String),
            ));
        }
    }
    let lists = [
        (
            "serviceGroups",
            &before.service_groups,
            &input.service_groups,
        ),
        ("zones", &before.zones, &input.zones),
        ("branches", &before.branches, &input.branches),
        ("permissions", &before.permissions, &input.permissions),
    ];
    for (name, old, new) in lists {
        let new = clean(new);
        if *old != new {
            ops.push(set(format!("{SHOP}:{name}"), json!(new)));
        }
    }
    ops
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form() -> UserInput {
        UserInput {
            user_name: "jsmith".into(),
            given_name: "Jo".into(),
            family_name: "Smith".into(),
            email: "jo@acme.test".into(),
            phone: None,
            job_role: None,
            licence: Some("field".into()),
            role: Some("technician".into()),
            security_group: None,
            service_groups: Vec::new(),
            zones: Vec::new(),
            home_branch: None,
            branches: Vec::new(),
            permissions: Vec::new(),
        }
    }

    fn fields_of(input: &UserInput) -> Vec<String> {
        problems_of(input, None)
            .into_iter()
            .map(|f| f.field)
            .collect()
    }

    #[test]
    fn each_bad_field_is_named_once() {
        assert!(
            problems_of(&form(), None).is_empty(),
            "{:?}",
            problems_of(&form(), None)
        );
        assert!(validate_input(&form(), None).is_ok());
        let blank = UserInput {
            user_name: " ".into(),
            given_name: String::new(),
            family_name: String::new(),
            email: String::new(),
            ..form()
        };
        assert_eq!(
            fields_of(&blank),
            ["givenName", "familyName", "email", "userName"]
        );
        let odd = UserInput {
            user_name: "jo smith".into(),
            email: "jo@".into(),
            role: Some("Admin".into()),
            ..form()
        };
        assert_eq!(fields_of(&odd), ["email", "userName", "role"]);
        let role = &problems_of(&odd, None)[2].message;
        assert!(role.contains("technician"), "{role}");
        let desk = UserInput {
            licence: Some("Desk".into()),
            role: None,
            ..form()
        };
        assert!(
            fields_of(&desk).is_empty(),
            "a desk licence takes any role or none"
        );
        assert!(matches!(
            validate_input(&odd, None),
            Err(Error::Validation { ref fields, .. }) if fields.len() == 3
        ));
    }

    #[test]
    fn a_pair_the_user_holds_already_is_not_refused_again() {
        let legacy = UserInput {
            role: Some("admin".into()),
            ..form()
        };
        let held = Some((Some("field"), Some("Admin")));
        assert!(
            problems_of(&legacy, held).is_empty(),
            "unchanged: another edit goes through"
        );
        assert_eq!(
            problems_of(&legacy, None).len(),
            1,
            "a new user is held to the rule"
        );
        let changed = UserInput {
            role: Some("viewer".into()),
            ..form()
        };
        assert_eq!(
            problems_of(&changed, held).len(),
            1,
            "a changed pair is checked"
        );
    }

    #[test]
    fn a_handover_of_an_unknown_kind_is_refused_not_dropped() {
        let handover = |kind: &str| Handover {
            kind: kind.to_owned(),
            user_id: " u2 ".to_owned(),
        };
        let known = reassign_of(&[handover("defaultTechnician")]);
        assert_eq!(
            known.ok().and_then(|r| r.default_technician),
            Some("u2".to_owned()),
            "a known kind names its taker, trimmed"
        );
        let unknown = reassign_of(&[handover("fleetManager")]);
        assert!(
            matches!(unknown, Err(Error::Validation { .. })),
            "{unknown:?}"
        );
        let other = reassign_of(&[handover("other")]);
        assert!(matches!(other, Err(Error::Validation { .. })), "{other:?}");
    }
}
