//! The credential vault against a real Secret Service, and profiles.
//!
//! These tests need an unlocked Secret Service on the session bus: `scripts/test` runs them
//! (`vault::`) under `dbus-run-session` with `gnome-keyring-daemon --unlock`, apart from
//! the main run. The failure cases (no bus, a bus with no provider, a locked keychain) run
//! a child process of this test binary in an environment built for each.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support {
    use std::path::{Path, PathBuf};
    use std::sync::atomic::{AtomicU32, Ordering};

    use muster_core::vault::Vault;

    pub use muster_test_support::TempDir;

    /// A vault under a service name of its own, so tests never meet each other's entries.
    pub fn vault() -> Vault {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        Vault::with_service(format!(
            "app.muster.Muster.test.{}.{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ))
    }

    /// Every file under `dir` whose bytes contain `needle`.
    pub fn files_containing(dir: &Path, needle: &str) -> Vec<PathBuf> {
        let mut found = Vec::new();
        let mut stack = vec![dir.to_path_buf()];
        while let Some(dir) = stack.pop() {
            let Ok(entries) = std::fs::read_dir(&dir) else {
                continue;
            };
            for entry in entries.flatten() {
                let path = entry.path();
                if path.is_dir() {
                    stack.push(path);
                } else if std::fs::read(&path).is_ok_and(|bytes| {
                    bytes
                        .windows(needle.len())
                        .any(|window| window == needle.as_bytes())
                }) {
                    found.push(path);
                }
            }
        }
        found
    }
}

mod keychain {
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
}

/// No usable keychain: each case runs `probe` (below) in a child process whose session
/// bus is broken in one way, and checks the answer.
mod unavailable {
    use std::io::{BufRead, BufReader};
    use std::path::Path;
    use std::process::{Child, Command, Stdio};
    use std::time::{Duration, Instant};

    use muster_core::vault::{SecretKind, Vault};
    use muster_core::{Code, Secret};

    use super::support::{TempDir, files_containing};

    const PROBE_SECRET: &str = "mst_at_probe-secret-do-not-write";

    /// Run only as the child of the tests below (`MUSTER_VAULT_PROBE` set): tries to store
    /// and load a secret and prints one line per answer.
    #[test]
    #[ignore = "run by the keychain-unavailable tests in a child process"]
    fn probe() {
        let Some(service) = std::env::var_os("MUSTER_VAULT_PROBE") else {
            return;
        };
        let vault = Vault::with_service(service.to_string_lossy());
        let stored = vault.store("acme", SecretKind::AccessToken, &Secret::new(PROBE_SECRET));
        let loaded = vault.load("acme", SecretKind::AccessToken);
        for (what, result) in [("store", stored.map(|_| ())), ("load", loaded.map(|_| ()))] {
            match result {
                Ok(()) => println!("PROBE {what} ok"),
                Err(error) => println!(
                    "PROBE {what} {} {}",
                    serde_json::to_value(error.code()).unwrap(),
                    serde_json::to_string(&error).unwrap()
                ),
            }
        }
    }

    /// Runs the probe with `env` in a fresh home, checks both answers are
    /// KeychainUnavailable with the one sentence `message` and the fix and detail apart,
    /// and that nothing under the home holds the secret.
    fn expect_unavailable(env: &[(&str, &str)], home: &TempDir, message: &str) {
        let mut command = Command::new(std::env::current_exe().unwrap());
        command
            .args([
                "--exact",
                "vault::unavailable::probe",
                "--ignored",
                "--nocapture",
            ])
            .current_dir(home.path())
            .env_remove("DBUS_SESSION_BUS_ADDRESS")
            .env("HOME", home.path())
            .env("XDG_DATA_HOME", home.path().join("data"))
            .env("XDG_CONFIG_HOME", home.path().join("config"))
            .env("XDG_CACHE_HOME", home.path().join("cache"))
            .env("XDG_RUNTIME_DIR", home.path())
            .env("MUSTER_VAULT_PROBE", "app.muster.Muster.probe")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (key, value) in env {
            command.env(key, value);
        }
        let child = command.spawn().unwrap();
        let output = wait_with_deadline(child, Duration::from_secs(60));
        let stdout = String::from_utf8_lossy(&output.stdout);
        let answers: Vec<&str> = stdout
            .lines()
            .filter_map(|line| line.strip_prefix("PROBE "))
            .collect();
        assert_eq!(
            answers.len(),
            2,
            "the probe answers for store and load; it printed:\n{stdout}\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let code = serde_json::to_value(Code::KeychainUnavailable).unwrap();
        for answer in answers {
            let json: serde_json::Value = answer
                .split_once(&format!(" {code} "))
                .and_then(|(_, json)| serde_json::from_str(json).ok())
                .unwrap_or_else(|| panic!("a keychain that cannot be used is {code}: {answer}"));
            assert_eq!(
                json["message"], message,
                "the message is one short sentence: {answer}"
            );
            assert!(
                json["fix"].as_str().is_some_and(
                    |fix| fix.contains("never stores credentials outside the keychain")
                ),
                "the fix says how, and that there is no plaintext fallback: {answer}"
            );
            assert!(
                !answer.contains("probe-secret"),
                "the secret never reaches a message: {answer}"
            );
        }
        let leaked = files_containing(home.path(), PROBE_SECRET);
        assert!(
            leaked.is_empty(),
            "nothing may be written to disk in plain text instead: {leaked:?}"
        );
    }

    fn wait_with_deadline(mut child: Child, limit: Duration) -> std::process::Output {
        let start = Instant::now();
        loop {
            if child.try_wait().unwrap().is_some() {
                return child.wait_with_output().unwrap();
            }
            if start.elapsed() > limit {
                let _ = child.kill();
                let output = child.wait_with_output().unwrap();
                panic!(
                    "the probe hung for {limit:?} (a keychain prompt nobody can answer?): {}",
                    String::from_utf8_lossy(&output.stdout)
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    #[test]
    fn no_session_bus_at_a_dead_address() {
        let home = TempDir::new("no-bus");
        let address = format!("unix:path={}/no-such-bus", home.path().display());
        expect_unavailable(
            &[("DBUS_SESSION_BUS_ADDRESS", &address)],
            &home,
            "No keychain is running.",
        );
    }

    #[test]
    fn no_session_bus_at_all() {
        // No DBUS_SESSION_BUS_ADDRESS, and XDG_RUNTIME_DIR (where the bus would be) empty.
        let home = TempDir::new("unset-bus");
        expect_unavailable(&[], &home, "No keychain is running.");
    }

    /// A private session bus with no service activation, so nothing provides
    /// `org.freedesktop.secrets` unless a test starts it. Killed when dropped.
    struct Bus {
        daemon: Child,
        address: String,
        others: Vec<Child>,
    }

    impl Bus {
        fn start(dir: &Path) -> Self {
            let config = dir.join("bus.conf");
            std::fs::write(
                &config,
                format!(
                    r#"<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path={}/bus</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"#,
                    dir.display()
                ),
            )
            .unwrap();
            let mut daemon = Command::new("dbus-daemon")
                .arg(format!("--config-file={}", config.display()))
                .args(["--nofork", "--print-address"])
                .stdout(Stdio::piped())
                .spawn()
                .expect("dbus-daemon is installed (scripts/test checks for it)");
            let mut address = String::new();
            BufReader::new(daemon.stdout.take().unwrap())
                .read_line(&mut address)
                .unwrap();
            Self {
                daemon,
                address: address.trim().to_owned(),
                others: Vec::new(),
            }
        }

        /// Starts gnome-keyring's secrets component on this bus, unlocked with `password`
        /// or (None) locked, and waits until it owns `org.freedesktop.secrets`.
        fn start_keyring(&mut self, home: &Path, password: Option<&str>) {
            let mut command = Command::new("gnome-keyring-daemon");
            command
                .args(["--foreground", "--components=secrets"])
                .env("DBUS_SESSION_BUS_ADDRESS", &self.address)
                .env("HOME", home)
                .env("XDG_DATA_HOME", home.join("data"))
                .env("XDG_RUNTIME_DIR", home)
                .stdout(Stdio::null())
                .stderr(Stdio::null());
            if password.is_some() {
                command.arg("--unlock").stdin(Stdio::piped());
            } else {
                command.stdin(Stdio::null());
            }
            let mut keyring = command.spawn().expect("gnome-keyring-daemon is installed");
            if let Some(password) = password {
                use std::io::Write;
                let mut stdin = keyring.stdin.take().unwrap();
                stdin.write_all(password.as_bytes()).unwrap();
            }
            self.others.push(keyring);
            let start = Instant::now();
            while start.elapsed() < Duration::from_secs(10) {
                let owned = Command::new("dbus-send")
                    .args([
                        &format!("--bus={}", self.address),
                        "--print-reply",
                        "--dest=org.freedesktop.DBus",
                        "/org/freedesktop/DBus",
                        "org.freedesktop.DBus.NameHasOwner",
                        "string:org.freedesktop.secrets",
                    ])
                    .output()
                    .is_ok_and(|out| String::from_utf8_lossy(&out.stdout).contains("true"));
                if owned {
                    return;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            panic!("gnome-keyring-daemon did not come up on the private bus");
        }

        fn stop_keyrings(&mut self) {
            for mut child in self.others.drain(..) {
                let _ = child.kill();
                let _ = child.wait();
            }
        }
    }

    impl Drop for Bus {
        fn drop(&mut self) {
            self.stop_keyrings();
            let _ = self.daemon.kill();
            let _ = self.daemon.wait();
        }
    }

    #[test]
    fn a_bus_with_no_secret_service() {
        let home = TempDir::new("no-provider");
        let bus = Bus::start(home.path());
        expect_unavailable(
            &[("DBUS_SESSION_BUS_ADDRESS", &bus.address)],
            &home,
            "No keychain is running.",
        );
    }

    #[test]
    fn a_locked_keychain() {
        let home = TempDir::new("locked");
        let mut bus = Bus::start(home.path());
        // First an unlocked daemon creates the login keyring (with a password) and an item
        // in it; then a daemon started without --unlock finds it locked.
        bus.start_keyring(home.path(), Some("pw"));
        let setup = Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "vault::unavailable::probe",
                "--ignored",
                "--nocapture",
            ])
            .env("DBUS_SESSION_BUS_ADDRESS", &bus.address)
            .env("MUSTER_VAULT_PROBE", "app.muster.Muster.probe")
            .output()
            .unwrap();
        assert!(
            String::from_utf8_lossy(&setup.stdout).contains("PROBE store ok"),
            "the unlocked keyring takes a secret: {}",
            String::from_utf8_lossy(&setup.stdout)
        );
        bus.stop_keyrings();
        bus.start_keyring(home.path(), None);
        let keyrings = home.path().join("data/keyrings");
        // The keyring file is encrypted: the probe's secret is not in it in plain text, so
        // the scan in expect_unavailable still means "nothing written in the clear".
        assert!(keyrings.exists(), "the login keyring exists on disk");
        expect_unavailable(
            &[("DBUS_SESSION_BUS_ADDRESS", &bus.address)],
            &home,
            "The keychain is locked.",
        );
    }
}

mod profiles {
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
}

/// Credentials belong to the origin they were issued by (scheme, host, port,
/// organisation): a profile name reused for another server never sends the first
/// server's token there, and pointing a connection elsewhere ends its session and copy.
mod origins {
    use std::sync::{Arc, Mutex};

    use axum::Router;
    use axum::http::{HeaderMap, StatusCode, header};
    use axum::routing::any;
    use muster_core::Secret;
    use muster_core::console::Console;
    use muster_core::console::view::Phase;
    use muster_core::vault::SecretKind;
    use muster_test_support::Muster;
    use muster_test_support::console::{Home, PROFILE, fail_fast, muster_profile, sign_in};
    use muster_test_support::server::serve;

    #[test]
    fn a_secret_is_given_back_only_to_its_origin() {
        let vault = super::support::vault();
        let first = vault.bound_to("https://one.example:443 org=acme");
        first
            .store("shop", SecretKind::AccessToken, &Secret::new("mst_at_one"))
            .unwrap();
        assert_eq!(
            first.load("shop", SecretKind::AccessToken).unwrap(),
            Some(Secret::new("mst_at_one"))
        );
        let second = vault.bound_to("https://two.example:443 org=acme");
        assert_eq!(second.load("shop", SecretKind::AccessToken).unwrap(), None);
        assert_eq!(
            first.load("shop", SecretKind::AccessToken).unwrap(),
            None,
            "another origin's look removed it: it is not left to be found again"
        );
        // One stored before origins were kept is not trusted either.
        vault
            .store("shop", SecretKind::AccessToken, &Secret::new("mst_at_old"))
            .unwrap();
        assert_eq!(first.load("shop", SecretKind::AccessToken).unwrap(), None);
        vault.delete_profile("shop").unwrap();
    }

    /// A server that records every Authorization header it is sent and refuses them all.
    async fn recorder() -> (String, Arc<Mutex<Vec<String>>>) {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = seen.clone();
        let router = Router::new().fallback(any(move |headers: HeaderMap| {
            let log = log.clone();
            async move {
                if let Some(value) = headers.get(header::AUTHORIZATION) {
                    log.lock()
                        .unwrap()
                        .push(value.to_str().unwrap_or_default().to_owned());
                }
                (StatusCode::UNAUTHORIZED, "{}")
            }
        }));
        let (address, _task) = serve(router).await;
        (format!("http://{address}"), seen)
    }

    /// A console of `home` signed in as the admin of `server`, failing fast.
    async fn admin_console(server: &Muster, home: &Home) -> Console {
        let console = home.console(fail_fast());
        sign_in(
            &console,
            &server.url,
            &server.org,
            &server.admin_email(),
            muster_test_support::PASSWORD,
        )
        .await;
        console
    }

    #[tokio::test]
    async fn a_reused_profile_name_never_sends_the_first_servers_token() {
        let server = Muster::start("origin-one", 5).await;
        let home = Home::new("origin");
        let console = admin_console(&server, &home).await;
        let token = home
            .vault()
            .load_tokens(PROFILE)
            .unwrap()
            .expect("the session is in the keychain")
            .access;
        drop(console);

        // The settings are gone (another install, a reset), the keychain entries stay; a
        // new connection of the same name points at another server.
        std::fs::remove_dir_all(home.dirs().config).unwrap();
        let (other, seen) = recorder().await;
        let console = home.console(fail_fast());
        console
            .save_profile(muster_profile(&other, "acme"), false)
            .await
            .unwrap();
        let opened = console.open_profile(PROFILE).await.unwrap();
        assert_eq!(
            opened.phase,
            Phase::SignedOut,
            "no session was taken over: {opened:?}"
        );
        let _ = console.refresh().await;
        let _ = console.sync(|_| {}).await;
        assert!(
            seen.lock()
                .unwrap()
                .iter()
                .all(|value| !value.contains(token.expose())),
            "the other server never saw the first server's token"
        );
        assert!(
            home.vault().load_tokens(PROFILE).unwrap().is_none(),
            "the left-over entry was removed, not kept"
        );
    }

    #[tokio::test]
    async fn pointing_a_connection_elsewhere_ends_its_session_and_copy() {
        let server = Muster::start("origin-move", 5).await;
        let home = Home::new("origin-move");
        let console = admin_console(&server, &home).await;
        console.sync(|_| {}).await.unwrap();
        let copy = muster_core::console::cache_path(&home.dirs().cache, PROFILE);
        assert!(copy.exists(), "the offline copy is on disk");

        // The same server and organisation: nothing changes.
        console
            .save_profile(muster_profile(&server.url, &server.org), true)
            .await
            .unwrap();
        assert!(home.vault().load_tokens(PROFILE).unwrap().is_some());

        // Another organisation: the session and the copy go.
        console
            .save_profile(muster_profile(&server.url, "elsewhere"), true)
            .await
            .unwrap();
        assert!(home.vault().load_tokens(PROFILE).unwrap().is_none());
        assert!(
            home.vault()
                .load(PROFILE, SecretKind::CacheKey)
                .unwrap()
                .is_none(),
            "the copy's key"
        );
        assert!(!copy.exists(), "and its file");
        assert_eq!(
            console.status().await.phase,
            Phase::NoProfile,
            "it is closed"
        );
    }

    #[tokio::test]
    async fn nothing_of_a_switched_organisation_survives_sign_out() {
        let server = Muster::start("origin-root", 5).await;
        server.server.seed_demo("beta", 5);
        server
            .server
            .seed_system_admin(muster_test_support::server::SYSTEM_ADMIN);
        let home = Home::new("origin-root");
        let console = home.console(fail_fast());
        sign_in(
            &console,
            &server.url,
            &server.org,
            muster_test_support::server::SYSTEM_ADMIN,
            muster_test_support::PASSWORD,
        )
        .await;
        console.sync(|_| {}).await.unwrap();
        console.switch_org("beta").await.unwrap();
        console.sync(|_| {}).await.unwrap();
        let files = || {
            std::fs::read_dir(home.dirs().cache)
                .map(|entries| {
                    entries
                        .filter_map(Result::ok)
                        .map(|e| e.file_name())
                        .collect()
                })
                .unwrap_or_else(|_| Vec::new())
        };
        assert_eq!(
            files().len(),
            2,
            "a copy of each organisation: {:?}",
            files()
        );
        assert!(
            home.vault()
                .load_org_copy_key(PROFILE, "beta")
                .unwrap()
                .is_some()
        );

        console.sign_out().await.unwrap();
        assert!(files().is_empty(), "no copy is left: {:?}", files());
        assert!(
            home.vault()
                .load_org_copy_key(PROFILE, "beta")
                .unwrap()
                .is_none(),
            "nor the key of the switched organisation's copy"
        );
    }
}
