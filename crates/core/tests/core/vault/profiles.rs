use muster_core::Code;
use muster_core::Secret;
use muster_core::connection::ServerKind;
use muster_core::profiles::{FILE_NAME, Profile, ProfileKind, Profiles};
use muster_core::vault::SecretKind;

use super::support::{TempDir, files_containing, vault};

#[test]
fn add_edit_list_default_and_reload() {
    let dir = TempDir::new("profiles");
    let mut profiles = Profiles::load(dir.path()).expect("a missing file is no profiles");
    assert!(profiles.list().is_empty());
    profiles
        .add(Profile::muster("acme", "https://muster.acme.test", "acme"))
        .unwrap();
    assert_eq!(
        profiles.default().map(|p| p.name.as_str()),
        Some("acme"),
        "the first profile becomes the default"
    );
    let mut idp = Profile::scim("idp", "http://127.0.0.1:9000/v2");
    idp.display_name = Some("Okta (staging)".into());
    profiles.add(idp.clone()).unwrap();
    assert_eq!(
        profiles
            .add(Profile::scim("idp", "https://other.test/v2"))
            .unwrap_err()
            .code(),
        Code::Validation,
        "names are unique"
    );
    assert_eq!(
        profiles
            .add(Profile::scim("plain", "http://idp.example/v2"))
            .unwrap_err()
            .code(),
        Code::Validation,
        "URLs follow the Connection rules: https except on this machine"
    );
    assert!(
        profiles
            .add(Profile::muster("bad", "https://x.test", "Not An Org"))
            .is_err(),
        "and the organisation id rules"
    );
    profiles.set_default("idp").unwrap();
    let mut edited = Profile::muster("acme", "https://muster2.acme.test", "acme-west");
    edited.display_name = Some("Acme West".into());
    profiles.edit(edited.clone()).unwrap();
    assert_eq!(
        profiles
            .edit(Profile::scim("nobody", "https://x.test"))
            .unwrap_err()
            .code(),
        Code::NotFound
    );

    let reloaded = Profiles::load(dir.path()).unwrap();
    assert_eq!(reloaded, profiles, "every change is on disk");
    assert_eq!(reloaded.get("acme"), Some(&edited));
    assert_eq!(reloaded.default().map(|p| p.name.as_str()), Some("idp"));
    assert_eq!(
        reloaded
            .list()
            .iter()
            .map(|p| p.name.as_str())
            .collect::<Vec<_>>(),
        ["acme", "idp"]
    );
    let connection = reloaded.get("acme").unwrap().to_connection().unwrap();
    assert_eq!(
        connection.kind,
        ServerKind::Muster {
            org: "acme-west".into()
        }
    );
    assert_eq!(
        connection.scim_base(),
        "https://muster2.acme.test/o/acme-west/scim/v2"
    );
    assert_eq!(reloaded.get("idp").unwrap().kind, ProfileKind::Scim);
}

#[test]
fn the_command_lines_file_loads() {
    let dir = TempDir::new("cli-file");
    std::fs::write(
        dir.path().join(FILE_NAME),
        r#"{"version": 1, "profiles": [{"name": "acme", "server": "https://m.test",
            "org": "acme", "kind": "muster"}], "default": "acme"}"#,
    )
    .unwrap();
    let profiles = Profiles::load(dir.path()).unwrap();
    assert_eq!(
        profiles.default(),
        Some(&Profile::muster("acme", "https://m.test", "acme")),
        "files the CLI wrote load unchanged"
    );
}

#[test]
fn remove_takes_the_keychain_entries_with_it() {
    let dir = TempDir::new("remove");
    let vault = vault();
    let mut profiles = Profiles::load(dir.path()).unwrap();
    profiles
        .add(Profile::muster("acme", "https://muster.acme.test", "acme"))
        .unwrap();
    profiles
        .add(Profile::muster(
            "globex",
            "https://muster.acme.test",
            "globex",
        ))
        .unwrap();
    for kind in SecretKind::ALL {
        vault
            .store("acme", kind, &Secret::new("acme-secret"))
            .unwrap();
    }
    vault
        .store(
            "globex",
            SecretKind::ApiToken,
            &Secret::new("globex-secret"),
        )
        .unwrap();
    profiles.remove("acme", &vault).unwrap();
    assert!(profiles.get("acme").is_none());
    assert!(
        profiles.default().is_none(),
        "removing the default leaves no default"
    );
    for kind in SecretKind::ALL {
        assert!(
            vault.load("acme", kind).unwrap().is_none(),
            "{kind:?} goes with its profile"
        );
    }
    assert!(
        vault
            .load("globex", SecretKind::ApiToken)
            .unwrap()
            .is_some(),
        "other profiles keep theirs"
    );
    assert_eq!(
        Profiles::load(dir.path()).unwrap().list().len(),
        1,
        "the removal is saved"
    );
    assert_eq!(
        profiles.remove("acme", &vault).unwrap_err().code(),
        Code::NotFound
    );
    vault.delete_profile("globex").unwrap();
}

#[test]
fn a_corrupt_or_newer_file_is_a_clear_error_and_left_alone() {
    let dir = TempDir::new("corrupt");
    let path = dir.path().join(FILE_NAME);
    for (content, says) in [
        (
            "{\"version\": 1, \"profiles\": [",
            "not a valid profiles file",
        ),
        ("\u{0}\u{1}garbage", "not a valid profiles file"),
        ("[]", "not a valid profiles file"),
        (
            r#"{"version": 1, "profiles": [{"name": "a", "server": "https://x.test", "kind": "muster"}]}"#,
            "not a valid profiles file",
        ),
        (
            r#"{"version": 1, "profiles": [
                {"name": "a", "server": "https://x.test", "kind": "scim"},
                {"name": "a", "server": "https://y.test", "kind": "scim"}]}"#,
            "twice",
        ),
        (
            r#"{"version": 2, "profiles": [], "future": true}"#,
            "newer Muster",
        ),
    ] {
        std::fs::write(&path, content).unwrap();
        let error = Profiles::load(dir.path()).expect_err("a bad file is refused");
        let message = error.to_string();
        assert!(
            message.contains(says) && message.contains(&path.display().to_string()),
            "the error says what is wrong ({says}) and names the file: {message}"
        );
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            content,
            "a file Muster cannot read is never overwritten"
        );
    }
}

#[test]
fn a_crash_before_the_rename_leaves_the_old_file() {
    let dir = TempDir::new("atomic");
    let mut profiles = Profiles::load(dir.path()).unwrap();
    profiles
        .add(Profile::muster("acme", "https://muster.acme.test", "acme"))
        .unwrap();
    let before = std::fs::read(dir.path().join(FILE_NAME)).unwrap();
    // What a writer killed between writing its temp file and renaming it leaves behind.
    std::fs::write(
        dir.path()
            .join(format!(".{FILE_NAME}.99999.00000000deadbeef.tmp")),
        "{\"version\": 1, \"profiles\": [{\"name\": \"half",
    )
    .unwrap();
    assert_eq!(
        Profiles::load(dir.path()).unwrap(),
        profiles,
        "the old file is intact and the stray temp file is ignored"
    );
    profiles.set_default("acme").unwrap();
    profiles
        .add(Profile::scim("idp", "https://idp.test/v2"))
        .unwrap();
    assert_ne!(std::fs::read(dir.path().join(FILE_NAME)).unwrap(), before);
    assert_eq!(Profiles::load(dir.path()).unwrap(), profiles);
    let temps = std::fs::read_dir(dir.path())
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
        .count();
    assert_eq!(temps, 1, "a save leaves no temp file of its own");
}

#[test]
fn a_failed_save_changes_nothing() {
    let dir = TempDir::new("failed-save");
    let mut profiles = Profiles::load(dir.path()).unwrap();
    profiles
        .add(Profile::muster("acme", "https://muster.acme.test", "acme"))
        .unwrap();
    // The target is a directory now, so the rename fails (root ignores permissions,
    // but not this).
    let path = dir.path().join(FILE_NAME);
    std::fs::remove_file(&path).unwrap();
    std::fs::create_dir(&path).unwrap();
    std::fs::write(path.join("keep"), "x").unwrap();
    let before = profiles.clone();
    assert!(
        profiles
            .add(Profile::scim("idp", "https://idp.test/v2"))
            .is_err(),
        "the save fails"
    );
    assert_eq!(profiles, before, "and the profiles are as they were");
    let temps = std::fs::read_dir(dir.path())
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
        .count();
    assert_eq!(temps, 0, "the failed save's temp file is cleaned up");
}

#[test]
fn no_vault_secret_ever_reaches_the_profiles_dir() {
    let dir = TempDir::new("scan");
    let vault = vault();
    let mut profiles = Profiles::load(dir.path()).unwrap();
    let mut profile = Profile::muster("acme", "https://muster.acme.test", "acme");
    profile.display_name = Some("Acme".into());
    profiles.add(profile.clone()).unwrap();
    let token = "mst_at_scan-me-0123456789abcdef";
    vault
        .store("acme", SecretKind::AccessToken, &Secret::new(token))
        .unwrap();
    vault
        .store(
            "acme",
            SecretKind::RefreshToken,
            &Secret::new("mst_rt_scan-me-too"),
        )
        .unwrap();
    profiles.edit(profile).unwrap();
    profiles.set_default("acme").unwrap();
    for needle in [token, "mst_rt_scan-me-too", "scan-me"] {
        assert!(
            files_containing(dir.path(), needle).is_empty(),
            "the profiles dir never holds a secret ({needle})"
        );
    }
    profiles.remove("acme", &vault).unwrap();
}
