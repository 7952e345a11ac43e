//! A system admin's organisations through the console, against a real muster-server: the
//! rows with what each offers, the server's plans, create, re-plan, suspend (and what that
//! does to the organisation's own people), reactivate, delete with the id typed again, and
//! the server's own audit log; an organisation's admin is offered none of it and nothing
//! is sent for them.

#![allow(clippy::unwrap_used)]

use muster_core::Error;
use muster_core::Secret;
use muster_core::console::orgs::{OrgAction, OrgInput};
use muster_core::console::view::{AuditQuery, FeatureView, ProviderFeature};
use muster_core::error::Code;
use muster_test_support::console::{Home, PROFILE, TestConsole, fail_fast, muster_profile};
use muster_test_support::server::SYSTEM_ADMIN;
use muster_test_support::{Muster, PASSWORD};

fn field_of(error: &Error) -> String {
    muster_core::ErrorBody::from(error)
        .fields
        .first()
        .map(|f| f.field.clone())
        .unwrap_or_default()
}

/// The organisations feature as the console's status tells it.
async fn organisations_feature(console: &TestConsole) -> FeatureView {
    let status = console.status().await;
    status
        .features
        .into_iter()
        .find(|f| f.name == ProviderFeature::Organisations.into())
        .unwrap()
}

#[tokio::test]
async fn a_system_admin_manages_organisations_in_the_console() {
    let server = Muster::start("orgs-console", 5).await;
    server.server.seed_system_admin(SYSTEM_ADMIN);
    let console = server.console_as("orgs-root", SYSTEM_ADMIN).await;
    let feature = organisations_feature(&console).await;
    assert!(
        feature.available,
        "a system admin manages organisations: {feature:?}"
    );

    let rows = console.org_rows().await.unwrap();
    let own = rows.iter().find(|r| r.id == server.org).unwrap();
    assert_eq!(own.status, "active");
    assert_eq!(own.plan_name, "Free", "named from the server's plans");
    assert_eq!(
        own.offers,
        [OrgAction::SetPlan, OrgAction::Suspend, OrgAction::Delete],
        "an active organisation is offered suspension, not reactivation"
    );
    let choices = console.org_choices().await.unwrap();
    let plans: Vec<&str> = choices.plans.iter().map(|c| c.value.as_str()).collect();
    assert_eq!(
        plans,
        ["free", "standard", "enterprise"],
        "the server's plans"
    );
    assert_eq!(choices.default_plan, "free");

    let input = |id: &str| OrgInput {
        id: id.to_owned(),
        name: "Branch Office".to_owned(),
        plan: Some("standard".to_owned()),
    };
    let bad = console
        .create_org(input("Branch Office"))
        .await
        .unwrap_err();
    assert_eq!(field_of(&bad), "id", "the engine names the field: {bad:?}");
    let created = console.create_org(input("branch")).await.unwrap();
    let row = created.row.unwrap();
    assert_eq!(
        (row.id.as_str(), row.plan_name.as_str(), row.users),
        ("branch", "Standard", 0),
        "answered as saved"
    );
    assert!(created.message.contains("Standard"), "{}", created.message);
    let taken = console.create_org(input("branch")).await.unwrap_err();
    assert_eq!(taken.code(), Code::Conflict, "{taken:?}");

    let replanned = console.set_org_plan("branch", "enterprise").await.unwrap();
    assert_eq!(replanned.row.unwrap().plan_name, "Enterprise");
    let unknown = console.set_org_plan("branch", "gold").await.unwrap_err();
    assert_eq!(
        unknown.code(),
        Code::Validation,
        "the server's refusal: {unknown:?}"
    );

    let suspended = console.suspend_org(&server.org).await.unwrap();
    let row = suspended.row.unwrap();
    assert_eq!(row.status, "suspended");
    assert_eq!(
        row.offers,
        [OrgAction::SetPlan, OrgAction::Reactivate, OrgAction::Delete]
    );
    assert!(
        suspended.message.contains("signed out"),
        "{}",
        suspended.message
    );
    let again = console.suspend_org(&server.org).await.unwrap_err();
    assert_eq!(again.code(), Code::Conflict, "{again:?}");
    let refused = server
        .client()
        .users()
        .page(&muster_core::query::ListQuery::default())
        .await
        .unwrap_err();
    assert_eq!(
        refused.code(),
        Code::Forbidden,
        "its API token is refused while it is suspended: {refused:?}"
    );
    assert!(
        refused.to_string().contains("suspended"),
        "and says why: {refused}"
    );
    let home = Home::new("orgs-suspended");
    let admin = home.console(fail_fast());
    admin
        .save_profile(muster_profile(&server.url, &server.org), false)
        .await
        .unwrap();
    admin.open_profile(PROFILE).await.unwrap();
    let signing_in = admin
        .sign_in(&server.admin_email(), Secret::new(PASSWORD))
        .await
        .unwrap_err();
    assert_eq!(signing_in.code(), Code::Forbidden, "{signing_in:?}");
    assert!(
        signing_in.to_string().contains("is suspended"),
        "the sign-in screen says why, in the server's words: {signing_in}"
    );
    let reactivated = console.reactivate_org(&server.org).await.unwrap();
    assert_eq!(reactivated.row.unwrap().status, "active");
    server
        .client()
        .users()
        .page(&muster_core::query::ListQuery::default())
        .await
        .unwrap();

    let unconfirmed = console.delete_org("branch", "brunch").await.unwrap_err();
    assert_eq!(field_of(&unconfirmed), "confirm", "{unconfirmed:?}");
    let deleted = console.delete_org("branch", "branch").await.unwrap();
    assert!(deleted.row.is_none(), "nothing of it is left to show");
    assert!(
        deleted.message.starts_with("Deleted Branch Office"),
        "{}",
        deleted.message
    );
    let rows = console.org_rows().await.unwrap();
    assert!(rows.iter().all(|r| r.id != "branch"), "no longer listed");

    let log = console
        .system_audit(&AuditQuery {
            action: Some("org.*".into()),
            limit: 50,
            ..Default::default()
        })
        .await
        .unwrap();
    let actions: Vec<&str> = log.entries.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(
        actions,
        [
            "org.delete",
            "org.reactivate",
            "org.suspend",
            "org.set_plan",
            "org.create"
        ],
        "the server's own log, newest first"
    );
    assert_eq!(log.entries[0].actor, SYSTEM_ADMIN, "naming who");
}

#[tokio::test]
async fn an_organisations_admin_is_offered_none_of_it() {
    let server = Muster::start("orgs-admin", 5).await;
    let console = server
        .admin_console("orgs-admin", fail_fast(), &server.url)
        .await;
    let feature = organisations_feature(&console).await;
    assert!(!feature.available, "only system admins: {feature:?}");
    assert!(
        feature
            .reason
            .as_deref()
            .unwrap_or("")
            .contains("system admins"),
        "with the reason: {feature:?}"
    );
    for refused in [
        console.org_rows().await.map(|_| ()),
        console.suspend_org(&server.org).await.map(|_| ()),
        console
            .delete_org(&server.org, &server.org)
            .await
            .map(|_| ()),
    ] {
        assert_eq!(refused.unwrap_err().code(), Code::Forbidden);
    }
    let rows = server
        .admin()
        .await
        .users()
        .page(&muster_core::query::ListQuery::default())
        .await;
    assert!(rows.is_ok(), "the organisation is untouched");
}
