//! `muster login`, `logout`, `sync` and the offline copy against a real Secret Service.
//!
//! These tests need an unlocked Secret Service on the session bus: `scripts/test` runs this
//! binary under `dbus-run-session` with `gnome-keyring-daemon --unlock` (PLATFORM.md).
//! Each test uses its own profile name, so tests sharing the keyring never meet.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[allow(dead_code)]
#[path = "../cli/support.rs"]
mod support;

use std::path::{Path, PathBuf};

use muster_core::vault::{SecretKind, Vault};
use serde_json::Value;

use support::{ADMIN_EMAIL, ADMIN_PASSWORD, Muster, ORG, SEEDED_USERS, Server};

/// A runner on the real keychain with a profile of its own for `server`.
fn muster_for(server: &Server, label: &str) -> (Muster, String) {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let profile = format!("kc-{label}-{}-{nanos}", std::process::id());
    let muster = Muster::new().with_real_keychain();
    muster
        .run(&[
            "profiles",
            "add",
            &profile,
            "--server",
            &server.base,
            "--org",
            ORG,
        ])
        .success();
    let muster = muster.env("MUSTER_PROFILE", &profile);
    (muster, profile)
}

/// Every file under `dir`, with its bytes.
fn files(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for entry in entries {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(files(&path));
        } else {
            let bytes = std::fs::read(&path).unwrap();
            out.push((path, bytes));
        }
    }
    out
}

/// Names, emails and user names of `users` (a `users list --json` array).
fn personal_strings(users: &Value) -> Vec<String> {
    let mut found = Vec::new();
    for user in users.as_array().unwrap() {
        for key in ["displayName", "userName"] {
            if let Some(text) = user[key].as_str() {
                found.push(text.to_owned());
            }
        }
        if let Some(name) = user["name"].as_object() {
            for key in ["formatted", "givenName", "familyName"] {
                if let Some(text) = name.get(key).and_then(Value::as_str) {
                    found.push(text.to_owned());
                }
            }
        }
        for email in user["emails"].as_array().into_iter().flatten() {
            if let Some(text) = email["value"].as_str() {
                found.push(text.to_owned());
            }
        }
    }
    // Very short strings could turn up in random ciphertext by chance.
    found.retain(|s| s.len() >= 5);
    found
}

fn assert_no_plaintext(muster: &Muster, secrets: &[String]) {
    let mut all = files(muster.config_dir());
    all.extend(files(muster.cache_dir()));
    assert!(!all.is_empty());
    for (path, bytes) in &all {
        for secret in secrets {
            assert!(
                !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
                "{} holds {secret:?} in plaintext",
                path.display()
            );
        }
    }
}

#[test]
fn login_keeps_the_session_in_the_keychain_and_logout_forgets_it() {
    let server = Server::start();
    let (muster, profile) = muster_for(&server, "login");
    let vault = Vault::new();

    let login = muster
        .clone()
        .env("MUSTER_EMAIL", ADMIN_EMAIL)
        .env("MUSTER_PASSWORD", ADMIN_PASSWORD)
        .run(&["login"])
        .success();
    assert!(
        login.stdout.contains("Signed in as Avery Admin (admin)."),
        "{}",
        login.stdout
    );
    assert!(
        login.stdout.contains("stored in the OS keychain"),
        "{}",
        login.stdout
    );
    let tokens = vault
        .load_tokens(&profile)
        .unwrap()
        .expect("a stored session");
    assert!(
        tokens.refresh.is_some(),
        "a password session can be refreshed"
    );

    // Later commands need no credentials; --all keeps the offline copy.
    let users = muster
        .run(&["users", "list", "--all", "--json"])
        .success()
        .json();
    assert_eq!(users.as_array().unwrap().len(), SEEDED_USERS + 1);
    let cache = muster.cache_dir().join(format!("{profile}.cache"));
    assert!(cache.exists(), "the offline copy is written");
    assert!(
        vault
            .load(&profile, SecretKind::CacheKey)
            .unwrap()
            .is_some()
    );
    let synced = muster.run(&["sync"]).success();
    assert!(synced.stdout.contains("up to date"), "{}", synced.stdout);

    // No secret and no personal data in plaintext under the config or cache dirs.
    let tokens = vault.load_tokens(&profile).unwrap().unwrap();
    let mut secrets = vec![
        ADMIN_PASSWORD.to_owned(),
        server.token.clone(),
        tokens.access.expose().to_owned(),
    ];
    if let Some(refresh) = &tokens.refresh {
        secrets.push(refresh.expose().to_owned());
    }
    let key = vault.load(&profile, SecretKind::CacheKey).unwrap().unwrap();
    secrets.push(key.expose().to_owned());
    secrets.extend(personal_strings(&users));
    assert!(secrets.iter().any(|s| s == ADMIN_EMAIL));
    assert_no_plaintext(&muster, &secrets);

    let logout = muster.run(&["logout"]).success();
    assert!(logout.stdout.contains("Signed out"), "{}", logout.stdout);
    for kind in SecretKind::ALL {
        assert!(
            vault.load(&profile, kind).unwrap().is_none(),
            "{kind:?} is deleted"
        );
    }
    assert!(!cache.exists(), "the offline copy is deleted");
    let after = muster.run(&["users", "list"]).code(3);
    assert!(after.stderr.contains("muster login"), "{}", after.stderr);
}

#[test]
fn a_token_login_then_the_list_works_offline_and_says_so() {
    let server = Server::start();
    let (muster, profile) = muster_for(&server, "offline");
    let login = muster
        .clone()
        .env("MUSTER_TOKEN", &server.token)
        .run(&["login", "--json"])
        .success()
        .json();
    assert_eq!(login["sessionStored"], true);

    let online = muster
        .run(&["users", "list", "--all", "--json"])
        .success()
        .json();
    assert_eq!(online.as_array().unwrap().len(), SEEDED_USERS + 1);
    let mut secrets = vec![server.token.clone()];
    secrets.extend(personal_strings(&online));
    assert_no_plaintext(&muster, &secrets);

    drop(server);

    let human = muster.run(&["users", "list"]).success();
    assert!(
        human.stderr.contains("Offline: showing the snapshot from"),
        "{}",
        human.stderr
    );
    assert!(human.stdout.contains("admin@acme.test"), "{}", human.stdout);

    let json = muster.run(&["users", "list", "--all", "--json"]).success();
    assert!(json.stderr.contains("Offline:"), "{}", json.stderr);
    let offline: Value = json.json();
    assert_eq!(offline.as_array().unwrap().len(), SEEDED_USERS + 1);

    let found = muster
        .run(&["users", "list", "--search", "avery", "--json"])
        .success()
        .json();
    let found = found.as_array().unwrap();
    assert!(!found.is_empty());
    assert!(
        found.iter().any(|u| u["displayName"] == "Avery Admin"),
        "{found:?}"
    );

    // Writes fail plainly while offline.
    muster.run(&["users", "delete", "nobody"]).code(6);

    // Logout without the server still forgets the session here.
    muster.run(&["logout"]).success();
    assert!(Vault::new().load_tokens(&profile).unwrap().is_none());
    assert!(!muster.cache_dir().join(format!("{profile}.cache")).exists());
}
