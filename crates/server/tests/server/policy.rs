//! Password policy: the rules of each style, and the policy and settings endpoints.

use muster_server::error::AppError;
use muster_server::policy::{self, PolicyStyle};
use serde_json::{Value, json};

use crate::support::{TestServer, scim_error, seed_org, seed_system_admin};

const SHOP_GOOD: &str = "Sprinkler-Valve-42";

fn reasons(style: PolicyStyle, password: &str, personal: &[&str]) -> Vec<String> {
    match style.policy().check(password, personal) {
        Ok(()) => Vec::new(),
        Err(violation) => violation.reasons,
    }
}

#[test]
fn shop_needs_twelve_characters_of_four_classes() {
    assert!(
        reasons(PolicyStyle::Shop, SHOP_GOOD, &[]).is_empty(),
        "a 12+ character password with upper, lower, digit and special passes the shop rules"
    );
    let weak = reasons(PolicyStyle::Shop, "short", &[]);
    for expected in [
        "Use at least 12 characters.",
        "Add an upper-case letter.",
        "Add a digit.",
        "Add a special character, such as ! or #.",
    ] {
        assert!(
            weak.iter().any(|r| r == expected),
            "every failed rule is listed, including {expected:?}: {weak:?}"
        );
    }
    assert!(
        !weak.iter().any(|r| r.contains("lower-case")),
        "rules that pass are not listed: {weak:?}"
    );
}

#[test]
fn nist_has_no_composition_rules() {
    assert!(
        reasons(PolicyStyle::Nist, "fire sprinkler", &[]).is_empty(),
        "NIST style accepts a lower-case passphrase of 8+ characters"
    );
    assert_eq!(
        reasons(PolicyStyle::Nist, "Ab1!x", &[]),
        vec!["Use at least 8 characters.".to_owned()],
        "NIST style only counts length"
    );
}

#[test]
fn length_is_counted_in_code_points_up_to_128() {
    assert!(
        reasons(PolicyStyle::Nist, "éüñøåßçð", &[]).is_empty(),
        "8 accented letters are 8 characters, although they are 16 bytes"
    );
    assert_eq!(
        reasons(PolicyStyle::Nist, "🔥🔥🔥🔥🔥🔥🔥", &[]),
        vec!["Use at least 8 characters.".to_owned()],
        "7 emoji are 7 characters, not 28 bytes"
    );
    let longest = "x".repeat(127) + "y";
    assert!(
        reasons(PolicyStyle::Nist, &longest, &[]).is_empty(),
        "128 characters is allowed"
    );
    assert_eq!(
        reasons(PolicyStyle::Nist, &(longest + "z"), &[]),
        vec!["Use at most 128 characters.".to_owned()],
        "129 characters is refused, never silently truncated"
    );
}

#[test]
fn common_passwords_are_refused_in_any_case() {
    assert!(
        policy::common_password_count() >= 10_000,
        "the shipped deny list holds at least 10,000 passwords"
    );
    assert_eq!(
        reasons(PolicyStyle::Nist, "PassWord123", &[]),
        vec!["This password is too common.".to_owned()],
        "the deny list is matched ignoring case"
    );
    assert_eq!(
        reasons(PolicyStyle::Shop, "PE#5gz29ptzmse", &[]),
        vec!["This password is too common.".to_owned()],
        "a listed password is refused even when it meets every composition rule"
    );
}

#[test]
fn personal_information_is_refused() {
    let personal = ["ada.lovelace", "ada", "Ada", "Lovelace"];
    assert_eq!(
        reasons(PolicyStyle::Shop, "LOVELACE-rules-9", &personal),
        vec!["Don't use your name or email address.".to_owned()],
        "the family name inside the password, in another case, is refused"
    );
    assert!(
        reasons(PolicyStyle::Shop, "Adamant-Valve-42", &personal).is_empty(),
        "names shorter than 4 characters are too common to refuse"
    );
}

#[test]
fn violations_become_invalid_value_errors() {
    let violation = PolicyStyle::Shop
        .policy()
        .check("abc", &[])
        .expect_err("abc breaks the shop rules");
    let error = AppError::from(violation);
    assert_eq!(error.status, 400, "a refused password is a bad request");
    assert_eq!(
        error.unmet_rules,
        ["length", "upper", "digit", "special", "common"],
        "each broken rule is named by id, in the order of the reasons"
    );
    assert!(
        error.detail.contains("Use at least 12 characters.")
            && error.detail.contains("Add a digit."),
        "the detail lists every reason: {}",
        error.detail
    );
}

#[test]
fn describe_lists_the_rules_as_sentences() {
    let shop = PolicyStyle::Shop.policy().describe();
    assert!(
        shop.iter().any(|r| r.contains("at least 12")) && shop.len() >= 6,
        "the shop rules mention length, the four classes, the deny list: {shop:?}"
    );
    let nist = PolicyStyle::Nist.policy().describe();
    assert!(
        !nist.iter().any(|r| r.contains("upper-case")),
        "NIST rules have no composition rules: {nist:?}"
    );
}

#[tokio::test]
async fn any_member_reads_the_policy() {
    let server = TestServer::start().await;
    let org = seed_org(&server, "acme");
    seed_org(&server, "other");
    let tech = server.sign_in(Some("acme"), &org.technician.email).await;
    let response = server.get("/o/acme/policy", &tech.access).await;
    assert_eq!(
        response.status(),
        200,
        "technicians may read the password policy"
    );
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["style"], "shop", "the default style is the shop one");
    assert_eq!(body["minLength"], 12, "shop minimum");
    assert_eq!(body["maxLength"], 128, "the cap");
    assert_eq!(body["requireSpecial"], true, "shop composition");
    assert_eq!(body["denyCommonPasswords"], true, "deny list advertised");
    assert!(
        body["rules"].as_array().is_some_and(|r| !r.is_empty()),
        "the rules come as sentences: {body}"
    );
    let wrong_org = server.get("/o/other/policy", &tech.access).await;
    scim_error(wrong_org, 403).await;
    let anonymous = server
        .client
        .get(server.url("/o/acme/policy"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        anonymous.status(),
        401,
        "the policy needs a signed-in caller"
    );
    let root = server.sign_in(None, &seed_system_admin(&server)).await;
    let response = server.get("/o/acme/policy", &root.access).await;
    assert_eq!(
        response.status(),
        200,
        "system admins read every org's policy"
    );
    let missing = server.get("/o/nowhere/policy", &root.access).await;
    scim_error(missing, 404).await;
}

async fn patch(server: &TestServer, token: &str, body: &Value) -> reqwest::Response {
    server
        .client
        .patch(server.url("/o/acme/settings"))
        .bearer_auth(token)
        .json(body)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn admins_change_settings_and_others_cannot() {
    let server = TestServer::start().await;
    let org = seed_org(&server, "acme");
    let admin = server.sign_in(Some("acme"), &org.admin.email).await;
    let viewer = server.sign_in(Some("acme"), &org.viewer.email).await;
    let tech = server.sign_in(Some("acme"), &org.technician.email).await;

    let read = server.get("/o/acme/settings", &viewer.access).await;
    assert_eq!(read.status(), 200, "viewers read the settings");
    assert_eq!(
        read.json::<Value>().await.unwrap(),
        json!({"passwordPolicy": "shop", "invitationHours": 48,
               "resetLinkMinutes": 1440, "magicLinkMinutes": 30,
               "sessionDays": 30, "sessionIdleDays": 7, "requireAdminMfa": false}),
        "a new org has the default settings"
    );
    scim_error(server.get("/o/acme/settings", &tech.access).await, 403).await;
    let change = json!({"passwordPolicy": "nist", "magicLinkMinutes": 15});
    scim_error(patch(&server, &viewer.access, &change).await, 403).await;

    let changed = patch(&server, &admin.access, &change).await;
    assert_eq!(changed.status(), 200, "admins change the settings");
    assert_eq!(
        changed.json::<Value>().await.unwrap(),
        json!({"passwordPolicy": "nist", "invitationHours": 48,
               "resetLinkMinutes": 1440, "magicLinkMinutes": 15,
               "sessionDays": 30, "sessionIdleDays": 7, "requireAdminMfa": false}),
        "the answer is the new settings; untouched ones keep their values"
    );
    let policy: Value = server
        .get("/o/acme/policy", &tech.access)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(policy["style"], "nist", "the policy follows the setting");
    assert_eq!(policy["minLength"], 8, "NIST minimum");
    assert_eq!(policy["requireUpper"], false, "no composition rules");

    let stored = server.write(|tx| policy::settings(tx, "acme").unwrap());
    assert_eq!(
        stored.magic_link_ttl,
        time::Duration::minutes(15),
        "settings() reads what was stored"
    );
}

#[tokio::test]
async fn settings_are_validated() {
    let server = TestServer::start().await;
    seed_org(&server, "acme");
    let root = server.sign_in(None, &seed_system_admin(&server)).await;
    for (body, why) in [
        (
            json!({"invitationHours": 0}),
            "invitations live at least an hour",
        ),
        (
            json!({"invitationHours": 721}),
            "invitations live at most 30 days",
        ),
        (
            json!({"resetLinkMinutes": 4}),
            "reset links live at least 5 minutes",
        ),
        (
            json!({"resetLinkMinutes": 10_081}),
            "reset links live at most 7 days",
        ),
        (
            json!({"magicLinkMinutes": 1441}),
            "magic links live at most a day",
        ),
        (json!({"passwordPolicy": "lax"}), "only shop and nist exist"),
        (json!({"colour": "red"}), "unknown settings are refused"),
    ] {
        let response = patch(&server, &root.access, &body).await;
        assert_eq!(response.status(), 400, "{why}: {body}");
    }
    let ok = patch(&server, &root.access, &json!({"invitationHours": 720})).await;
    assert_eq!(
        ok.status(),
        200,
        "system admins change any org; 30 days is allowed"
    );
}

#[tokio::test]
async fn set_password_policy_from_the_command_line() {
    let server = TestServer::start().await;
    seed_org(&server, "acme");
    server.write(|tx| policy::set_password_policy(tx, "acme", PolicyStyle::Nist).unwrap());
    let style = server.write(|tx| policy::settings(tx, "acme").unwrap().password_policy);
    assert_eq!(style, PolicyStyle::Nist, "the CLI switch is stored");
    let missing = server.write(|tx| policy::set_password_policy(tx, "nope", PolicyStyle::Nist));
    assert_eq!(
        missing.unwrap_err().status,
        404,
        "an unknown org is reported, not created"
    );
}

#[tokio::test]
async fn a_settings_change_is_audited_with_before_and_after() {
    let server = TestServer::start().await;
    let org = seed_org(&server, "acme");
    let admin = server.sign_in(Some("acme"), &org.admin.email).await;
    let change = json!({"passwordPolicy": "nist", "magicLinkMinutes": 15, "invitationHours": 48});
    assert_eq!(patch(&server, &admin.access, &change).await.status(), 200);
    // The same values again change nothing, and write nothing.
    assert_eq!(patch(&server, &admin.access, &change).await.status(), 200);
    let page: Value = server
        .get("/o/acme/audit?action=org.settings_change", &admin.access)
        .await
        .json()
        .await
        .unwrap();
    let entries = page["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 1, "one change, one entry: {page}");
    let entry = &entries[0];
    assert_eq!(entry["actorId"], org.admin.id.as_str());
    let mut changes = entry["detail"]["changes"].as_array().unwrap().clone();
    changes.sort_by_key(|c| c["setting"].as_str().unwrap_or_default().to_owned());
    assert_eq!(
        Value::Array(changes),
        json!([
            {"setting": "magicLinkMinutes", "before": 30, "after": 15},
            {"setting": "passwordPolicy", "before": "shop", "after": "nist"},
        ]),
        "each changed setting, before and after; the unchanged one is not listed"
    );
}
