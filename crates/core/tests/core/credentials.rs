//! The signed-in account's own credentials through the console: a change to
//! someone's password long after signing in asks for the password again, and a password
//! set by an admin must be replaced before anything else.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use muster_core::console::view::Phase;
use muster_core::{Code, Error, Secret};
use muster_test_support::Muster;
use muster_test_support::console::{TestConsole, fail_fast};

const CHOSEN: &str = "Juniper-Canoe-71-lattice";

#[tokio::test]
async fn a_password_set_long_after_sign_in_asks_for_the_password_again() {
    let server = Muster::start("reauth", 20).await;
    let console = server
        .admin_console("credentials-reauth", fail_fast(), &server.url)
        .await;
    console.sync(|_| {}).await.unwrap();
    let target = server.users_without_work(1).remove(0);
    server.server.advance(time::Duration::minutes(11));

    let refused = console
        .set_password(&target, Secret::new(CHOSEN), true)
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::Reauthenticate, "{refused:?}");
    assert!(refused.fix().is_some(), "it says what to do");

    let wrong = console
        .reauthenticate(Secret::new("Not-the-password-1"), None)
        .await;
    assert!(matches!(wrong, Err(Error::Validation { .. })), "{wrong:?}");
    console
        .reauthenticate(Secret::new(muster_test_support::PASSWORD), None)
        .await
        .expect("the right password");
    let set = console
        .set_password(&target, Secret::new(CHOSEN), true)
        .await
        .expect("the change goes through now");
    assert_eq!(set.id, target);
}

#[tokio::test]
async fn a_password_an_admin_set_is_replaced_before_anything_else() {
    let server = Muster::start("must-change", 20).await;
    let admin = server
        .admin_console("credentials-admin", fail_fast(), &server.url)
        .await;
    admin.sync(|_| {}).await.unwrap();
    let target = server.users_without_work(1).remove(0);
    let detail = admin
        .set_password(&target, Secret::new(CHOSEN), true)
        .await
        .unwrap();
    let email = detail.email.expect("the person has an email");

    let person = TestConsole::signed_in(
        "credentials-person",
        fail_fast(),
        &server.url,
        &server.org,
        &email,
        CHOSEN,
    )
    .await;
    assert!(person.status().await.must_change_password);
    let refused = person.sync(|_| {}).await.unwrap_err();
    assert_eq!(refused.code(), Code::MustChangePassword, "{refused:?}");
    assert!(person.status().await.must_change_password, "still to do");

    let same = person
        .change_password(Secret::new(CHOSEN), Secret::new(CHOSEN), None)
        .await;
    assert!(matches!(same, Err(Error::Validation { .. })), "{same:?}");
    let own = "Harbour-Tulip-58-meadow";
    let status = person
        .change_password(Secret::new(CHOSEN), Secret::new(own), None)
        .await
        .expect("the new password is set");
    assert!(!status.must_change_password);
    assert_eq!(status.phase, Phase::Ready, "still signed in");
    person.sync(|_| {}).await.expect("everything is open again");
}

#[tokio::test]
async fn my_account_sets_up_two_factor_with_a_qr_code_and_turns_it_off() {
    let server = Muster::start("my-account", 5).await;
    let console = server
        .admin_console("credentials-account", fail_fast(), &server.url)
        .await;
    let account = console.my_account().await.unwrap();
    assert!(!account.mfa_enabled);
    assert_eq!(account.role, "admin");

    let wrong = console.start_mfa(Secret::new("Not-the-password-1")).await;
    assert!(matches!(wrong, Err(Error::Validation { .. })), "{wrong:?}");
    let enrolment = console
        .start_mfa(Secret::new(muster_test_support::PASSWORD))
        .await
        .unwrap();
    assert_eq!(
        enrolment.qr.modules.len(),
        (enrolment.qr.size * enrolment.qr.size) as usize,
        "a whole QR code"
    );
    let key: String = enrolment.secret.split_whitespace().collect();
    let totp = {
        let bytes = totp_rs::Secret::Encoded(key).to_bytes().unwrap();
        totp_rs::TOTP::new(totp_rs::Algorithm::SHA1, 6, 1, 30, bytes).unwrap()
    };
    let at = |server: &Muster| u64::try_from(server.server.now().unix_timestamp()).unwrap();
    let on = console
        .confirm_mfa(&totp.generate(at(&server)))
        .await
        .unwrap();
    assert!(on.mfa_enabled, "{on:?}");

    server.server.advance(time::Duration::seconds(30));
    let off = console
        .disable_mfa(
            Secret::new(muster_test_support::PASSWORD),
            totp.generate(at(&server)),
        )
        .await
        .unwrap();
    assert!(!off.mfa_enabled, "{off:?}");
}

#[tokio::test]
async fn an_admin_of_an_org_that_requires_two_factor_sets_it_up_first() {
    let server = Muster::start("admin-mfa", 5).await;
    server.server.write(|tx| {
        tx.execute(
            "UPDATE orgs SET settings = json_set(settings, '$.requireAdminMfa', json('true'))",
            [],
        )
        .unwrap()
    });
    let console = server
        .admin_console("credentials-admin-mfa", fail_fast(), &server.url)
        .await;
    assert!(console.status().await.mfa_enrollment_required);
    let refused = console.sync(|_| {}).await.unwrap_err();
    assert_eq!(refused.code(), Code::MfaEnrollmentRequired, "{refused:?}");

    let enrolment = console
        .start_mfa(Secret::new(muster_test_support::PASSWORD))
        .await
        .expect("setting it up is what is allowed");
    let key: String = enrolment.secret.split_whitespace().collect();
    let bytes = totp_rs::Secret::Encoded(key).to_bytes().unwrap();
    let totp = totp_rs::TOTP::new(totp_rs::Algorithm::SHA1, 6, 1, 30, bytes).unwrap();
    let now = u64::try_from(server.server.now().unix_timestamp()).unwrap();
    console.confirm_mfa(&totp.generate(now)).await.unwrap();
    assert!(!console.status().await.mfa_enrollment_required);
    console.sync(|_| {}).await.expect("everything is open now");
}

#[tokio::test]
async fn a_system_admin_sets_up_two_factor_and_signs_in_with_a_code() {
    let server = Muster::start("root-mfa", 5).await;
    let root = muster_test_support::server::SYSTEM_ADMIN;
    server.server.seed_system_admin(root);
    let first = server.console_as("credentials-root", root).await;
    let enrolment = first
        .start_mfa(Secret::new(muster_test_support::PASSWORD))
        .await
        .expect("system admins enrol too");
    let key: String = enrolment.secret.split_whitespace().collect();
    let bytes = totp_rs::Secret::Encoded(key).to_bytes().unwrap();
    let totp = totp_rs::TOTP::new(totp_rs::Algorithm::SHA1, 6, 1, 30, bytes).unwrap();
    let at = |server: &Muster| u64::try_from(server.server.now().unix_timestamp()).unwrap();
    let on = first
        .confirm_mfa(&totp.generate(at(&server)))
        .await
        .unwrap();
    assert!(on.mfa_enabled && on.system_admin, "{on:?}");

    server.server.advance(time::Duration::seconds(30));
    let home = muster_test_support::console::Home::new("credentials-root-again");
    let second = home.console(fail_fast());
    second
        .save_profile(
            muster_test_support::console::muster_profile(&server.url, &server.org),
            false,
        )
        .await
        .unwrap();
    second
        .open_profile(muster_test_support::console::PROFILE)
        .await
        .unwrap();
    let asked = second
        .sign_in(root, Secret::new(muster_test_support::PASSWORD))
        .await
        .unwrap();
    assert_eq!(
        asked.phase,
        Phase::MfaRequired,
        "the password is not enough"
    );
    let done = second
        .complete_mfa(&totp.generate(at(&server)))
        .await
        .unwrap();
    assert_eq!(done.phase, Phase::Ready);
}
