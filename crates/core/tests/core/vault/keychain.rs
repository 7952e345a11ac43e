use muster_core::auth::Tokens;
use muster_core::vault::{MAX_SECRET_BYTES, SecretKind, Vault};
use muster_core::{Code, Secret};

use super::support::vault;

/// Fails with a clear reason when the test runs without the keychain `scripts/test`
/// provides, instead of reporting a confusing assertion.
fn require_keychain(vault: &Vault) {
    if let Err(error) = vault.load("probe", SecretKind::AccessToken) {
        panic!(
            "these tests need an unlocked Secret Service (run them through scripts/test, \
             which starts gnome-keyring under dbus-run-session): {error}"
        );
    }
}

#[test]
fn store_load_delete_round_trip() {
    let vault = vault();
    require_keychain(&vault);
    let secret = Secret::new("mst_api_round-trip-0123456789");
    assert!(
        vault.load("acme", SecretKind::ApiToken).unwrap().is_none(),
        "nothing is stored yet"
    );
    vault.store("acme", SecretKind::ApiToken, &secret).unwrap();
    assert_eq!(
        vault.load("acme", SecretKind::ApiToken).unwrap(),
        Some(secret.clone()),
        "what was stored comes back"
    );
    let replacement = Secret::new("mst_api_replaced");
    vault
        .store("acme", SecretKind::ApiToken, &replacement)
        .unwrap();
    assert_eq!(
        vault.load("acme", SecretKind::ApiToken).unwrap(),
        Some(replacement),
        "storing again replaces"
    );
    vault.delete("acme", SecretKind::ApiToken).unwrap();
    assert!(vault.load("acme", SecretKind::ApiToken).unwrap().is_none());
    vault
        .delete("acme", SecretKind::ApiToken)
        .expect("deleting what is not there is fine");
}

#[test]
fn tokens_round_trip_and_a_session_without_refresh_drops_the_old_one() {
    let vault = vault();
    require_keychain(&vault);
    assert!(vault.load_tokens("acme").unwrap().is_none());
    let tokens = Tokens {
        access: Secret::new("mst_at_access"),
        refresh: Some(Secret::new("mst_rt_refresh")),
    };
    vault.store_tokens("acme", &tokens).unwrap();
    let loaded = vault.load_tokens("acme").unwrap().expect("tokens stored");
    assert_eq!(loaded.access, tokens.access);
    assert_eq!(loaded.refresh, tokens.refresh);
    vault
        .store_tokens(
            "acme",
            &Tokens {
                access: Secret::new("mst_at_second"),
                refresh: None,
            },
        )
        .unwrap();
    let loaded = vault.load_tokens("acme").unwrap().expect("tokens stored");
    assert_eq!(loaded.access.expose(), "mst_at_second");
    assert!(
        loaded.refresh.is_none(),
        "a stale refresh token must not outlive its session"
    );
    vault.delete_profile("acme").unwrap();
}

#[test]
fn delete_profile_removes_every_kind() {
    let vault = vault();
    require_keychain(&vault);
    for kind in SecretKind::ALL {
        vault
            .store(
                "acme",
                kind,
                &Secret::new(format!("value-{}", kind.as_str())),
            )
            .unwrap();
    }
    vault.delete_profile("acme").unwrap();
    for kind in SecretKind::ALL {
        assert!(
            vault.load("acme", kind).unwrap().is_none(),
            "{kind:?} must go with its profile"
        );
    }
}

#[test]
fn profiles_and_services_do_not_see_each_other() {
    let vault = vault();
    require_keychain(&vault);
    vault
        .store("acme", SecretKind::AccessToken, &Secret::new("acme-token"))
        .unwrap();
    vault
        .store(
            "globex",
            SecretKind::AccessToken,
            &Secret::new("globex-token"),
        )
        .unwrap();
    assert_eq!(
        vault
            .load("acme", SecretKind::AccessToken)
            .unwrap()
            .unwrap()
            .expose(),
        "acme-token"
    );
    assert!(
        vault
            .load("acme", SecretKind::RefreshToken)
            .unwrap()
            .is_none(),
        "kinds are separate entries"
    );
    assert!(
        super::support::vault()
            .load("acme", SecretKind::AccessToken)
            .unwrap()
            .is_none(),
        "another service name (app id) sees none of these"
    );
    vault.delete_profile("acme").unwrap();
    assert_eq!(
        vault
            .load("globex", SecretKind::AccessToken)
            .unwrap()
            .unwrap()
            .expose(),
        "globex-token",
        "removing one profile leaves the other's secrets"
    );
    vault.delete_profile("globex").unwrap();
}

#[test]
fn oversize_and_empty_secrets_are_refused() {
    let vault = vault();
    require_keychain(&vault);
    let big = Secret::new("x".repeat(MAX_SECRET_BYTES + 1));
    let error = vault
        .store("acme", SecretKind::ApiToken, &big)
        .expect_err("over 1 KB is refused");
    assert_eq!(error.code(), Code::Validation);
    assert!(
        !error.to_string().contains("xxxx"),
        "the secret is not in the message: {error}"
    );
    assert!(
        vault.load("acme", SecretKind::ApiToken).unwrap().is_none(),
        "nothing was stored"
    );
    vault
        .store(
            "acme",
            SecretKind::ApiToken,
            &Secret::new("x".repeat(MAX_SECRET_BYTES)),
        )
        .expect("exactly the limit fits");
    assert_eq!(
        vault
            .store("acme", SecretKind::ApiToken, &Secret::new(""))
            .unwrap_err()
            .code(),
        Code::Validation
    );
    vault.delete_profile("acme").unwrap();
}
