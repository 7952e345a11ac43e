//! What the console's forms offer and send beyond their fields, against a real
//! muster-server: the server's per-user permissions as toggles, an invitation's options
//! (the mobile app, a code by SMS), and what a technician, who sees no accounts, is told.

#![allow(clippy::unwrap_used)]

use muster_core::Error;
use muster_core::actions::{Invite, InviteChannel};
use muster_core::console::view::UserInput;
use muster_core::search::SearchQuery;
use muster_test_support::console::person;
use muster_test_support::{Muster, PASSWORD};

use crate::console::signed_in;

#[tokio::test]
async fn a_technician_is_told_what_the_server_holds() {
    let server = Muster::start("console-technician", 10).await;
    let email = format!("tia@{}", server.domain);
    server
        .server
        .seed_person(&server.org, "tia", &email, "technician", PASSWORD);
    // The server's own words for refusing a technician the users.
    let direct = server
        .sign_in(&email, PASSWORD)
        .await
        .users()
        .page(&muster_core::query::ListQuery::default())
        .await
        .unwrap_err();
    let Error::Forbidden { message: refused } = direct else {
        panic!("a technician is refused user reads: {direct:?}");
    };
    let console = server.console_as("tia", &email).await;
    let status = console.status().await;
    assert_eq!(
        status.read_only_reason.as_deref(),
        Some(refused.as_str()),
        "the banner says what the server holds"
    );
    assert_eq!(status.no_access_reason.as_deref(), Some(refused.as_str()));
    // A sync asks the server (the role may have changed since sign-in): it refuses.
    let sync = console.sync(|_| {}).await.unwrap_err();
    assert!(
        matches!(&sync, Error::Forbidden { message } if *message == refused),
        "{sync:?}"
    );
    let after = console.status().await;
    assert!(after.online, "a refusal is not a lost connection");
    assert_eq!(after.user_count, 0);
}

#[tokio::test]
async fn permissions_are_the_servers_toggles_and_edits_send_only_the_change() {
    let server = Muster::start("console-permissions", 10).await;
    let console = signed_in(&server, &server.url).await;
    console.sync(|_| {}).await.unwrap();
    let offered = console.status().await.choices.permissions;
    let names: Vec<&str> = offered.iter().map(|p| p.value.as_str()).collect();
    assert!(names.contains(&"viewPricing"), "{offered:?}");
    assert!(
        offered
            .iter()
            .all(|p| !p.label.is_empty() && !p.description.is_empty())
    );

    let email = format!("pia.perm@{}", server.domain);
    let created = console
        .create_user(
            &UserInput {
                permissions: vec!["viewPricing".into(), " viewpricing ".into()],
                ..person(&email)
            },
            None,
        )
        .await
        .unwrap();
    assert_eq!(
        created.permissions,
        ["viewPricing"],
        "cleaned, then canonical"
    );
    let mut edit = person(&email);
    edit.user_name = created.user_name.clone();
    edit.permissions = vec!["viewPricing".into(), "mobileAppAccess".into()];
    let edited = console
        .update_user(&created.id, &edit, created.version.clone())
        .await
        .unwrap();
    assert_eq!(edited.permissions, ["viewPricing", "mobileAppAccess"]);
    let cached = console.user(&created.id).await.unwrap();
    assert_eq!(cached.permissions, edited.permissions, "the copy follows");
}

#[tokio::test]
async fn an_invitation_with_an_sms_code_needs_a_phone_and_says_where_the_code_went() {
    let server = Muster::start("console-sms", 10).await;
    let console = signed_in(&server, &server.url).await;
    console.sync(|_| {}).await.unwrap();
    let sms = Invite {
        channel: InviteChannel::Mobile,
        sms_code: true,
    };
    let email = format!("sia.sms@{}", server.domain);
    let checked = console
        .check_user_input(&person(&email), None, Some(sms))
        .await;
    let named: Vec<&str> = checked.fields.iter().map(|f| f.field.as_str()).collect();
    assert_eq!(named, ["phone"], "the form says so as it is typed");
    let refused = console
        .create_user(&person(&email), Some(sms))
        .await
        .unwrap_err();
    assert!(
        matches!(&refused, Error::Validation { fields, .. } if fields[0].field == "phone"),
        "{refused:?}"
    );
    let found = console
        .search(&SearchQuery {
            text: email.clone(),
            ..SearchQuery::default()
        })
        .await;
    assert_eq!(found.total, 0, "nothing was created");
    let created = console
        .create_user(
            &UserInput {
                phone: Some("+1 303 555 0177".into()),
                ..person(&email)
            },
            Some(sms),
        )
        .await
        .unwrap();
    let outcome = created.outcome.unwrap();
    assert!(outcome.complete, "{outcome:?}");
    assert!(
        outcome.message.contains("SMS to +1 303 555 0177"),
        "{}",
        outcome.message
    );
    assert_eq!(created.status, "invited");
}
