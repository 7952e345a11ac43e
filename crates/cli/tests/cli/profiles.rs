//! `muster profiles`: the file holds connection settings and never a secret.

use crate::support::{Muster, Server};

#[test]
fn profiles_are_added_listed_shown_and_removed() {
    let muster = Muster::new();
    muster
        .run(&[
            "profiles",
            "add",
            "acme",
            "--server",
            "https://muster.acme.test",
            "--org",
            "acme",
        ])
        .success();
    muster
        .run(&[
            "profiles",
            "add",
            "idp",
            "--server",
            "https://idp.test/scim/v2",
            "--scim",
        ])
        .success();

    let list = muster.run(&["profiles", "list"]).success();
    assert!(
        list.stdout.contains("acme") && list.stdout.contains("idp"),
        "{}",
        list.stdout
    );
    let default_line = list.stdout.lines().find(|l| l.starts_with('*')).unwrap();
    assert!(
        default_line.contains("acme"),
        "the first profile added is the default"
    );

    let shown = muster
        .run(&["profiles", "show", "idp", "--json"])
        .success()
        .json();
    assert_eq!(shown["kind"], "scim");
    assert_eq!(shown["server"], "https://idp.test/scim/v2");
    assert!(
        shown.get("org").is_none(),
        "a SCIM provider has no organisation"
    );

    let file = std::fs::read_to_string(muster.config_dir().join("profiles.json")).unwrap();
    let file: serde_json::Value = serde_json::from_str(&file).unwrap();
    assert_eq!(
        file["version"], 1,
        "the file is versioned, so a later format can migrate it"
    );
    assert_eq!(file["default"], "acme");

    muster.run(&["profiles", "use", "idp"]).success();
    // This runner has no keychain: the profile's entries (if any) cannot be deleted, so it
    // is kept rather than leave them behind...
    let refused = muster.run(&["profiles", "remove", "idp"]).code(1);
    assert!(
        refused.stderr.contains("Profile idp is kept")
            && refused.stderr.contains("no keychain is running")
            && refused.stderr.contains("How to fix:")
            && refused.stderr.contains("--force"),
        "the refusal says why and what to do: {}",
        refused.stderr
    );
    let list = muster.run(&["profiles", "list", "--json"]).success().json();
    assert_eq!(list.as_array().unwrap().len(), 2, "nothing was removed");
    // ...unless asked to remove it anyway, which warns about what may be left.
    let forced = muster
        .run(&["profiles", "remove", "idp", "--force", "--json"])
        .success();
    assert_eq!(forced.json()["keychainCleared"], false);
    assert!(
        forced.stderr.contains("profile:idp:"),
        "the warning names the entries that may be left: {}",
        forced.stderr
    );
    let list = muster.run(&["profiles", "list", "--json"]).success().json();
    assert_eq!(list.as_array().unwrap().len(), 1);
    muster.run(&["profiles", "show", "idp"]).code(2);
    muster
        .run(&["profiles", "remove", "idp", "--force"])
        .code(2);
    let file = std::fs::read_to_string(muster.config_dir().join("profiles.json")).unwrap();
    let file: serde_json::Value = serde_json::from_str(&file).unwrap();
    assert!(
        file["default"].is_null(),
        "the removed default is no longer the default: {file}"
    );
}

/// A `profiles.json` exactly as the command line wrote it before muster-core owned the
/// format.
const EARLIER_FILE: &str = r#"{
  "version": 1,
  "profiles": [
    {
      "name": "acme",
      "server": "https://muster.acme.test",
      "org": "acme",
      "kind": "muster",
      "caFile": "/etc/ssl/acme-ca.pem"
    },
    {
      "name": "idp",
      "server": "https://idp.test/scim/v2",
      "kind": "scim"
    }
  ],
  "default": "idp"
}
"#;

#[test]
fn a_profiles_file_from_an_earlier_muster_keeps_loading() {
    let muster = Muster::new();
    let path = muster.config_dir().join("profiles.json");
    std::fs::write(&path, EARLIER_FILE).unwrap();

    let list = muster.run(&["profiles", "list", "--json"]).success().json();
    let earlier: serde_json::Value = serde_json::from_str(EARLIER_FILE).unwrap();
    assert_eq!(
        list, earlier["profiles"],
        "every profile loads, and prints as it was written"
    );
    let table = muster.run(&["profiles", "list"]).success();
    let default_line = table.stdout.lines().find(|l| l.starts_with('*')).unwrap();
    assert!(default_line.contains("idp"), "{}", table.stdout);
    let shown = muster.run(&["profiles", "show", "acme"]).success();
    assert!(
        shown.stdout.contains("ca file  /etc/ssl/acme-ca.pem"),
        "{}",
        shown.stdout
    );

    // A change rewrites the file in the same format: another muster reads it back.
    muster.run(&["profiles", "use", "acme"]).success();
    let rewritten: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert_eq!(rewritten["version"], 1);
    assert_eq!(rewritten["default"], "acme");
    assert_eq!(rewritten["profiles"], earlier["profiles"]);
}

#[test]
fn a_profiles_file_from_a_newer_muster_is_refused_and_left_alone() {
    let muster = Muster::new();
    let path = muster.config_dir().join("profiles.json");
    let newer = r#"{"version": 2, "profiles": [], "future": true}"#;
    std::fs::write(&path, newer).unwrap();
    for args in [
        &["profiles", "list"][..],
        &[
            "profiles",
            "add",
            "x",
            "--server",
            "https://x.test",
            "--org",
            "x",
        ],
        &["users", "list"],
    ] {
        let run = muster.run(args).code(1);
        assert!(
            run.stderr.contains("newer Muster"),
            "{args:?}: {}",
            run.stderr
        );
    }
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        newer,
        "never overwritten"
    );
}

#[test]
fn plain_http_is_refused_except_on_this_computer() {
    let muster = Muster::new();
    let run = muster
        .run(&[
            "profiles",
            "add",
            "x",
            "--server",
            "http://muster.acme.test",
            "--org",
            "acme",
        ])
        .code(7);
    assert!(run.stderr.contains("https"), "{}", run.stderr);
    muster
        .run(&[
            "profiles",
            "add",
            "x",
            "--server",
            "https://muster.acme.test",
        ])
        .code(2);
}

#[test]
fn no_secret_reaches_the_config_dir() {
    let server = Server::start();
    let password = "Sup3r-Secret-Passw0rd!";
    let muster = server.muster().env("MUSTER_PASSWORD", password);
    muster.run(&["users", "list"]).success();
    // Without a keychain, login refuses to keep the session rather than write it anywhere
    // (the keychain binary checks a stored session leaves nothing in plaintext).
    muster.run(&["login"]).code(1);
    muster.run(&["users", "list", "--all"]).success();
    let files = muster.config_files();
    assert!(!files.is_empty(), "the profiles file exists");
    for (path, text) in files {
        assert!(
            !text.contains(&server.token) && !text.contains(password) && !text.contains("mst_"),
            "{} must hold no token or password: {text}",
            path.display()
        );
    }
}

#[test]
fn a_ca_file_must_be_a_readable_pem_certificate() {
    let muster = Muster::new();
    let add = |ca: &str| {
        muster.run(&[
            "profiles",
            "add",
            "onprem",
            "--server",
            "https://muster.local",
            "--org",
            "acme",
            "--ca-file",
            ca,
        ])
    };
    let missing = add("/nonexistent/ca.pem").code(1);
    assert!(
        missing.stderr.contains("/nonexistent/ca.pem"),
        "{}",
        missing.stderr
    );
    let dir = muster_test_support::TempDir::new("cli-ca");
    let not_pem = dir.join("ca.txt");
    std::fs::write(&not_pem, "hello").unwrap();
    let refused = add(not_pem.to_str().unwrap()).code(1);
    assert!(
        refused.stderr.contains("not a PEM certificate"),
        "{}",
        refused.stderr
    );
    muster.run(&["profiles", "show", "onprem"]).code(2);
}
