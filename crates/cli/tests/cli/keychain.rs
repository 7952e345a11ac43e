//! `muster login`, `logout`, `sync` and the offline copy against a real Secret Service.
//!
//! These tests need an unlocked Secret Service on the session bus: `scripts/test` runs them
//! (`keychain::`) apart from the main run, under `dbus-run-session` with
//! `gnome-keyring-daemon --unlock`.
//! Each test uses its own profile name, so tests sharing the keyring never meet.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

use muster_core::vault::{SecretKind, Vault};
use serde_json::Value;

use crate::support::{ADMIN_EMAIL, ADMIN_PASSWORD, Muster, ORG, SEEDED_USERS, Server};

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

    // The kept session has an account to manage (`muster account` on it).
    let me = muster.run(&["account", "show", "--json"]).success().json();
    assert_eq!(me["role"], "admin", "{me}");

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

const SHOP: &str = "urn:muster:params:scim:schemas:extension:shop:2.0:User";

/// A runner signed in (session in the keychain) with an offline copy of every user.
fn cached_muster_for(server: &Server, label: &str) -> (Muster, String, Value) {
    let (muster, profile) = muster_for(server, label);
    muster
        .clone()
        .env("MUSTER_TOKEN", &server.token)
        .run(&["login"])
        .success();
    let users = muster
        .run(&["users", "list", "--all", "--json"])
        .success()
        .json();
    assert_eq!(users.as_array().unwrap().len(), SEEDED_USERS + 1);
    assert!(
        muster.cache_dir().join(format!("{profile}.cache")).exists(),
        "the offline copy is written"
    );
    (muster, profile, users)
}

/// The ids of `n` active technicians not on the timesheet licence (ids are
/// random, so which technicians come first differs from run to run, and the
/// bulk test sets that licence).
fn technicians(server: &Server, n: usize) -> Vec<String> {
    (0..n)
        .map(|i| {
            server
                .query_one(&format!(
                    "SELECT id FROM users WHERE org = '{ORG}' AND status = 'active' \
                     AND role = 'technician' \
                     AND json_extract(doc, '$.\"{SHOP}\".licence') IS NOT 'timesheet' \
                     ORDER BY id LIMIT 1 OFFSET {i}"
                ))
                .expect("enough active technicians")
        })
        .collect()
}

/// The user with `id` in a `users list --json` array.
fn find<'a>(users: &'a Value, id: &str) -> Option<&'a Value> {
    users.as_array().unwrap().iter().find(|u| u["id"] == id)
}

#[test]
fn removing_a_profile_deletes_its_keychain_entries_and_offline_copy() {
    let server = Server::start();
    let (muster, profile, _) = cached_muster_for(&server, "remove");
    let (other, other_profile, _) = cached_muster_for(&server, "keep");
    let vault = Vault::new();
    assert!(vault.load_tokens(&profile).unwrap().is_some());
    assert!(
        vault
            .load(&profile, SecretKind::CacheKey)
            .unwrap()
            .is_some()
    );
    let cache = muster.cache_dir().join(format!("{profile}.cache"));

    let removed = muster
        .run(&["profiles", "remove", &profile, "--json"])
        .success()
        .json();
    assert_eq!(removed["removed"], profile.as_str());
    assert_eq!(removed["keychainCleared"], true);
    for kind in SecretKind::ALL {
        assert!(
            vault.load(&profile, kind).unwrap().is_none(),
            "{kind:?} of the removed profile is deleted"
        );
    }
    assert!(!cache.exists(), "the offline copy is deleted");
    assert!(
        files(muster.cache_dir()).is_empty(),
        "nothing of the copy is left: {:?}",
        files(muster.cache_dir())
    );
    let list = muster
        .without("MUSTER_PROFILE")
        .run(&["profiles", "list", "--json"])
        .success()
        .json();
    assert_eq!(list, serde_json::json!([]), "the profile is gone");

    // Another profile's entries and copy are not touched.
    assert!(vault.load_tokens(&other_profile).unwrap().is_some());
    assert!(
        vault
            .load(&other_profile, SecretKind::CacheKey)
            .unwrap()
            .is_some()
    );
    assert!(
        other
            .cache_dir()
            .join(format!("{other_profile}.cache"))
            .exists()
    );
    other.run(&["profiles", "remove", &other_profile]).success();
    assert!(vault.load_tokens(&other_profile).unwrap().is_none());
}

#[test]
fn writes_show_in_the_offline_list_without_a_sync() {
    let server = Server::start();
    let (muster, _, before) = cached_muster_for(&server, "writes");
    let ids = technicians(&server, 2);
    let (suspend, rename) = (&ids[0], &ids[1]);
    // Someone who holds no work: deleting a holder needs a handover (--reassign-…).
    let idle = server.users_without_work(1);
    let delete = idle.first().expect("the demo has people without work");
    assert!(find(&before, delete).is_some(), "cached before the delete");

    let suspended = muster.run(&["users", "suspend", suspend]).success();
    assert!(suspended.stderr.is_empty(), "{}", suspended.stderr);
    muster
        .run(&["users", "update", rename, "--given", "Offlineton"])
        .success();
    muster.run(&["users", "delete", delete]).success();
    let created = muster
        .run(&[
            "users",
            "create",
            "--user-name",
            "newcomer",
            "--email",
            "newcomer@acme.test",
            "--json",
        ])
        .success()
        .json();
    let created_id = created["id"].as_str().unwrap();

    drop(server);
    let offline = muster.run(&["users", "list", "--all", "--json"]).success();
    assert!(
        offline.stderr.contains("Offline: showing the snapshot"),
        "{}",
        offline.stderr
    );
    let users = offline.json();
    assert_eq!(
        users.as_array().unwrap().len(),
        SEEDED_USERS + 1,
        "one created, one deleted"
    );
    assert_eq!(find(&users, suspend).unwrap()[SHOP]["status"], "suspended");
    assert_eq!(
        find(&users, rename).unwrap()["name"]["givenName"],
        "Offlineton"
    );
    assert!(find(&users, delete).is_none(), "the deleted user is gone");
    assert_eq!(find(&users, created_id).unwrap()["userName"], "newcomer");
    let unchanged = find(&before, suspend).unwrap()["userName"].clone();
    assert_eq!(find(&users, suspend).unwrap()["userName"], unchanged);
    muster.run(&["logout"]).success();
}

#[test]
fn a_bulk_job_shows_in_the_offline_list_without_a_sync() {
    let server = Server::start();
    let (muster, _, before) = cached_muster_for(&server, "bulk");
    let ids = technicians(&server, 3);
    for id in &ids {
        assert_ne!(find(&before, id).unwrap()[SHOP]["licence"], "timesheet");
    }
    let summary = muster
        .run(&[
            "bulk",
            "set-licence",
            "--ids",
            &ids.join(","),
            "--licence",
            "timesheet",
            "--yes",
            "--json",
        ])
        .success()
        .json();
    assert_eq!(summary["done"], ids.len(), "{summary}");

    drop(server);
    let offline = muster.run(&["users", "list", "--all", "--json"]).success();
    assert!(offline.stderr.contains("Offline: showing the snapshot"));
    let users = offline.json();
    for id in &ids {
        assert_eq!(
            find(&users, id).unwrap()[SHOP]["licence"],
            "timesheet",
            "{id}"
        );
    }
    assert_eq!(
        users.as_array().unwrap().len(),
        before.as_array().unwrap().len(),
        "nobody added or lost"
    );
}

#[test]
fn a_write_does_not_hide_earlier_changes_from_the_next_sync() {
    let server = Server::start();
    let (muster, _, _) = cached_muster_for(&server, "mark");
    let ids = technicians(&server, 2);
    // Someone else changes a user after the copy was made...
    server
        .muster()
        .run(&["users", "update", &ids[0], "--family", "Elsewhere"])
        .success();
    // ...then this profile writes another user, and its copy takes the answer.
    muster.run(&["users", "suspend", &ids[1]]).success();
    let synced = muster.run(&["sync", "--json"]).success().json();
    assert_eq!(synced["full"], false, "an incremental sync: {synced}");

    drop(server);
    let users = muster
        .run(&["users", "list", "--all", "--json"])
        .success()
        .json();
    assert_eq!(
        find(&users, &ids[0]).unwrap()["name"]["familyName"],
        "Elsewhere",
        "the earlier change is fetched: the write must not move the sync's mark past it"
    );
    assert_eq!(find(&users, &ids[1]).unwrap()[SHOP]["status"], "suspended");
    muster.run(&["logout"]).success();
}

#[test]
fn a_write_without_an_offline_copy_does_not_start_one() {
    let server = Server::start();
    let (muster, profile) = muster_for(&server, "nocopy");
    muster
        .clone()
        .env("MUSTER_TOKEN", &server.token)
        .run(&["login"])
        .success();
    let id = &technicians(&server, 1)[0];
    let suspended = muster.run(&["users", "suspend", id]).success();
    assert!(suspended.stderr.is_empty(), "{}", suspended.stderr);
    assert!(files(muster.cache_dir()).is_empty(), "no copy is started");
    assert!(
        Vault::new()
            .load(&profile, SecretKind::CacheKey)
            .unwrap()
            .is_none(),
        "and no cache key is made"
    );
    muster.run(&["logout"]).success();
}
