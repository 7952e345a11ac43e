//! Secrets at rest: the whole flow in the real app (sign in, a full sync, open
//! and search users, set a password, sync again, sign out), then every file the app
//! wrote (config, cache, logs and WebKit's data) is searched for the passwords, any
//! access or refresh token (Muster's tokens carry a prefix, so any of them is found
//! without knowing it) and the organisation's people's email addresses and phone
//! numbers. The app logs at trace level (its own code, reqwest and hyper) so that the
//! log shows whatever the code would ever write. None may be there in plaintext: the
//! offline copy is encrypted, tokens live in the keychain, logs name no one and carry no
//! Authorization header.

use std::path::{Path, PathBuf};

use muster_e2e::{App, PASSWORD, Server, binary, fresh_dir};

const ORG: &str = "e2e-secrets";
const DOMAIN: &str = "e2e-secrets.test";
const NEW_PASSWORD: &str = "Amber-Trellis-6158!w";

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else {
                found.push(path);
            }
        }
    }
    found
}

/// Each (file, needle) where a needle occurs in a file's bytes, as UTF-8 or UTF-16LE (as
/// WebKit keeps some strings).
fn occurrences(home: &Path, needles: &[String]) -> Vec<String> {
    let mut hits = Vec::new();
    for file in files_under(home) {
        let Ok(bytes) = std::fs::read(&file) else {
            continue;
        };
        for needle in needles.iter().filter(|n| !n.is_empty()) {
            let utf16: Vec<u8> = needle.encode_utf16().flat_map(u16::to_le_bytes).collect();
            let contains = |wanted: &[u8]| bytes.windows(wanted.len()).any(|w| w == wanted);
            if contains(needle.as_bytes()) || contains(&utf16) {
                hits.push(format!("{needle:?} in {}", file.display()));
            }
        }
    }
    hits
}

/// Everyone's email address and phone number, from the server.
async fn people(server: &Server) -> Vec<String> {
    let page = server.list_users(ORG, &[("count", "1000")]).await;
    let mut found = Vec::new();
    for user in page["Resources"].as_array().expect("users") {
        for list in ["emails", "phoneNumbers"] {
            for item in user[list].as_array().into_iter().flatten() {
                if let Some(value) = item["value"].as_str() {
                    found.push(value.to_owned());
                }
            }
        }
    }
    found
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_password_token_or_personal_data_on_disk_after_the_whole_flow() {
    let mut server = Server::start(ORG, 80).await;
    let home = fresh_dir("secrets");
    // Everything Muster's code and its HTTP stack log, at the finest level.
    let app = App::launch_logging(
        &binary("MUSTER_DESKTOP_BIN", "muster-desktop"),
        &home,
        "info,muster_core=trace,muster_desktop=trace,reqwest=trace,hyper=trace,hyper_util=trace",
    )
    .await;
    let admin = format!("admin@{DOMAIN}");

    app.connect_and_sign_in("Secrets", &server.url, ORG, &admin, PASSWORD)
        .await;
    app.wait_text("user-count", |t| t.contains("80")).await;

    // Someone else's password set through the app.
    let (tech_email, _) = server.active_technician(ORG, 0).await;
    app.fill("user-search", &tech_email).await;
    app.wait_text("user-count", |t| t.starts_with("1 of")).await;
    app.click("user-row").await;
    app.find("user-detail").await;
    app.click("action-set-password").await;
    app.fill("password-input", NEW_PASSWORD).await;
    app.click("password-save").await;
    app.wait_gone("password-save").await;
    server.token(ORG, &tech_email, NEW_PASSWORD).await;

    app.click("nav-users").await;
    app.click("sync").await;
    app.wait_text("sync", |t| t == "Sync").await;

    let mut needles = vec![
        PASSWORD.to_owned(),
        NEW_PASSWORD.to_owned(),
        "mst_at_".to_owned(),
        "mst_rt_".to_owned(),
    ];
    let everyone = people(&server).await;
    assert!(everyone.len() >= 80, "{} people", everyone.len());
    needles.extend(everyone);

    // While signed in, with the offline copy written.
    let files = files_under(&home);
    assert!(
        files
            .iter()
            .any(|f| f.extension().is_some_and(|e| e == "cache")),
        "the offline copy is there to search: {files:?}"
    );
    assert_eq!(occurrences(&home, &needles), Vec::<String>::new());

    // After signing out and closing the app.
    app.click("sign-out").await;
    app.find("signin-password").await;
    app.close().await;
    let files = files_under(&home);
    assert!(
        files.iter().any(|f| f.to_string_lossy().contains("log")),
        "the app's log is among what is searched: {files:?}"
    );
    let log_size: u64 = files
        .iter()
        .filter(|f| f.to_string_lossy().contains("/logs/"))
        .filter_map(|f| f.metadata().ok())
        .map(|m| m.len())
        .sum();
    assert!(
        log_size > 10_000,
        "a trace-level log has something in it: {log_size} bytes"
    );
    assert_eq!(occurrences(&home, &needles), Vec::<String>::new());
    server.stop().await;
}
