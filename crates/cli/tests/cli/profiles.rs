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
        "the file is versioned for issue 5 to migrate"
    );
    assert_eq!(file["default"], "acme");

    muster.run(&["profiles", "use", "idp"]).success();
    muster.run(&["profiles", "remove", "idp"]).success();
    let list = muster.run(&["profiles", "list", "--json"]).success().json();
    assert_eq!(list.as_array().unwrap().len(), 1);
    muster.run(&["profiles", "show", "idp"]).code(2);
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
    let dir = crate::support::temp_dir("ca");
    let not_pem = dir.join("ca.txt");
    std::fs::write(&not_pem, "hello").unwrap();
    let refused = add(not_pem.to_str().unwrap()).code(1);
    assert!(
        refused.stderr.contains("not a PEM certificate"),
        "{}",
        refused.stderr
    );
    muster.run(&["profiles", "show", "onprem"]).code(2);
    let _ = std::fs::remove_dir_all(dir);
}
