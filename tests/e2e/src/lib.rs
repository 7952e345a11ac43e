//! The end-to-end harness: a real muster-server process, the built Muster app under
//! `tauri-driver` + WebKitWebDriver (run the tests under Xvfb and a D-Bus session with
//! gnome-keyring, as `scripts/e2e` does), and small helpers to drive the console the
//! way a person does: by what is on screen (`data-testid`s), with waits, never sleeps
//! for fixed times.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use muster_test_support::process::{DataDir, ServerProcess, built_binary};
use serde_json::{Value, json};
use tokio::process::{Child, Command};

pub use muster_test_support::{PASSWORD, free_port};

/// The repository root.
pub fn root() -> PathBuf {
    muster_test_support::workspace()
}

/// The build profile whose binaries the tests drive: `MUSTER_E2E_PROFILE`, else `debug`
/// (what the tests check is behaviour; the release build's figures belong to the
/// benchmarks, which set `release`).
pub fn profile() -> String {
    std::env::var("MUSTER_E2E_PROFILE").unwrap_or_else(|_| "debug".to_owned())
}

/// The built binary `name` of [`profile`], or the path in `var`; it must exist.
pub fn binary(var: &str, name: &str) -> PathBuf {
    built_binary(var, &profile(), name)
}

/// A fresh directory under `target/e2e-runs`.
pub fn fresh_dir(tag: &str) -> PathBuf {
    let dir = root()
        .join("target/e2e-runs")
        .join(format!("{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("a run directory");
    dir
}

/// muster-server as its own process, so a test can stop it (the app goes offline) and
/// start it again on the same port; with the requests the tests make as an org's admin.
#[derive(Debug)]
pub struct Server {
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    process: ServerProcess,
}

impl Server {
    /// Seeds organisation `org` with `users` generated people (and a system admin) into
    /// a fresh data dir, and starts serving it.
    pub async fn start(org: &str, users: usize) -> Self {
        let data = DataDir::new(
            binary("MUSTER_SERVER_BIN", "muster-server"),
            fresh_dir("server").join("data"),
        );
        // Seeding and starting block for a moment: off the runtime's async threads.
        let process = tokio::task::block_in_place(|| {
            data.seed_org(org, users);
            data.create_system_admin("ops@e2e.test", PASSWORD);
            ServerProcess::serve(data, &[])
        });
        Self {
            url: process.url.clone(),
            process,
        }
    }

    /// Starts serving (again) on the same port.
    pub async fn resume(&mut self) {
        tokio::task::block_in_place(|| self.process.resume());
    }

    /// Stops the server process (its port then refuses connections).
    pub async fn stop(&mut self) {
        tokio::task::block_in_place(|| self.process.stop());
    }

    /// Makes `user_name` an active API-licence account of `org` holding an API token
    /// (`muster-server create-api-token`, on the data this server serves); returns the
    /// token.
    pub async fn integration(&self, org: &str, user_name: &str) -> String {
        tokio::task::block_in_place(|| self.process.data.create_api_token(org, user_name))
    }

    /// A bearer token for `org`'s seeded admin.
    pub async fn admin_token(&self, org: &str) -> String {
        self.token(org, &format!("admin@{org}.test"), PASSWORD)
            .await
    }

    /// A bearer token for `email` in `org` (a person signing in elsewhere).
    pub async fn token(&self, org: &str, email: &str, password: &str) -> String {
        let answer: Value = reqwest::Client::new()
            .post(format!("{}/auth/token", self.url))
            .json(&json!({"org": org, "email": email, "password": password}))
            .send()
            .await
            .expect("sign-in request")
            .json()
            .await
            .expect("sign-in answer");
        answer["accessToken"]
            .as_str()
            .unwrap_or_else(|| panic!("no token for {email}: {answer}"))
            .to_owned()
    }

    /// The status of a sign-in of `email` in `org` with `password` (200, 401…).
    pub async fn token_status(&self, org: &str, email: &str, password: &str) -> u16 {
        reqwest::Client::new()
            .post(format!("{}/auth/token", self.url))
            .json(&json!({"org": org, "email": email, "password": password}))
            .send()
            .await
            .expect("sign-in request")
            .status()
            .as_u16()
    }

    /// `GET /o/{org}/scim/v2/Users` with `query` (filter, count…), as `org`'s admin: the
    /// list response.
    pub async fn list_users(&self, org: &str, query: &[(&str, &str)]) -> Value {
        let admin = self.admin_token(org).await;
        reqwest::Client::new()
            .get(format!("{}/o/{org}/scim/v2/Users", self.url))
            .query(query)
            .bearer_auth(admin)
            .send()
            .await
            .expect("a SCIM query")
            .json()
            .await
            .expect("a SCIM answer")
    }

    /// The `nth` active technician of `org` who holds work (properties, open tasks or a
    /// warehouse), as (email, id), via the SCIM API as its admin. The seed hands work out
    /// at random, so not every technician holds some; the tests that deactivate need one
    /// who does.
    pub async fn active_technician(&self, org: &str, nth: usize) -> (String, String) {
        let admin = self.admin_token(org).await;
        let http = reqwest::Client::new();
        let filter = "urn:muster:params:scim:schemas:extension:shop:2.0:User:role eq \
                      \"technician\" and urn:muster:params:scim:schemas:extension:shop:2.0:User:status eq \"active\"";
        let found = self
            .list_users(
                org,
                &[("filter", filter), ("count", "100"), ("sortBy", "userName")],
            )
            .await;
        let mut holders = Vec::new();
        for user in found["Resources"].as_array().into_iter().flatten() {
            let id = user["id"].as_str().unwrap_or_default();
            let held: Value = http
                .get(format!(
                    "{}/o/{org}/scim/v2/Users/{id}/responsibilities",
                    self.url
                ))
                .bearer_auth(&admin)
                .send()
                .await
                .expect("a responsibilities query")
                .json()
                .await
                .expect("a responsibilities answer");
            if held["total"].as_u64().unwrap_or(0) > 0 {
                let email = user["emails"][0]["value"].as_str().unwrap_or_default();
                holders.push((email.to_owned(), id.to_owned()));
                if holders.len() > nth {
                    return holders.swap_remove(nth);
                }
            }
        }
        panic!("no active technician #{nth} holding work among {found}")
    }

    /// Creates an active viewer (support staff) in `org` who signs in with [`PASSWORD`]:
    /// invited through SCIM as the admin, then given a password by the admin.
    pub async fn create_viewer(&self, org: &str, email: &str) -> String {
        self.create_viewer_with(org, email, false).await
    }

    /// [`Server::create_viewer`]; with `must_change`, the password is one the person must
    /// replace at their first sign-in (as an admin's usually is).
    pub async fn create_viewer_with(&self, org: &str, email: &str, must_change: bool) -> String {
        let admin = self.admin_token(org).await;
        let http = reqwest::Client::new();
        let created: Value = http
            .post(format!("{}/o/{org}/scim/v2/Users", self.url))
            .bearer_auth(&admin)
            .json(&json!({
                "schemas": [
                    "urn:ietf:params:scim:schemas:core:2.0:User",
                    "urn:muster:params:scim:schemas:extension:shop:2.0:User"
                ],
                "userName": email,
                "name": {"givenName": "Sam", "familyName": "Support"},
                "emails": [{"value": email, "primary": true}],
                "urn:muster:params:scim:schemas:extension:shop:2.0:User": {
                    "role": "viewer", "licence": "desk"
                }
            }))
            .send()
            .await
            .expect("a SCIM create")
            .json()
            .await
            .expect("a SCIM user");
        let id = created["id"]
            .as_str()
            .unwrap_or_else(|| panic!("viewer not created: {created}"))
            .to_owned();
        let set = http
            .post(format!(
                "{}/o/{org}/scim/v2/Users/{id}/actions/set-password",
                self.url
            ))
            .bearer_auth(&admin)
            .json(&json!({"password": PASSWORD, "mustChange": must_change}))
            .send()
            .await
            .expect("a set-password request");
        assert!(set.status().is_success(), "set-password: {}", set.status());
        id
    }

    /// Sets a user's phone number through SCIM as the admin (a handle to find people by).
    pub async fn set_phone(&self, org: &str, id: &str, phone: &str) {
        let admin = self.admin_token(org).await;
        let answer = reqwest::Client::new()
            .patch(format!("{}/o/{org}/scim/v2/Users/{id}", self.url))
            .bearer_auth(admin)
            .json(&json!({
                "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                "Operations": [{"op": "replace", "path": "phoneNumbers",
                                "value": [{"value": phone, "type": "work"}]}]
            }))
            .send()
            .await
            .expect("a SCIM patch");
        assert!(
            answer.status().is_success(),
            "setting the phone: {}",
            answer.status()
        );
    }

    /// How many users of `org` match a SCIM filter, and their emails (sorted).
    pub async fn emails_matching(&self, org: &str, filter: &str) -> Vec<String> {
        let found = self
            .list_users(org, &[("filter", filter), ("count", "1000")])
            .await;
        let mut emails: Vec<String> = found["Resources"]
            .as_array()
            .unwrap_or_else(|| panic!("not a list: {found}"))
            .iter()
            .filter_map(|u| u["emails"][0]["value"].as_str().map(str::to_owned))
            .collect();
        emails.sort();
        emails
    }

    /// A user's id by email.
    pub async fn id_of(&self, org: &str, email: &str) -> String {
        // By address: the sign-in name the app makes for a new user is not the email.
        let filter = format!("emails.value eq \"{email}\"");
        let found = self.list_users(org, &[("filter", &filter)]).await;
        found["Resources"][0]["id"]
            .as_str()
            .unwrap_or_else(|| panic!("no user {email}: {found}"))
            .to_owned()
    }

    /// A user's status as the server holds it.
    pub async fn status_of(&self, org: &str, id: &str) -> String {
        let admin = self.admin_token(org).await;
        let user: Value = reqwest::Client::new()
            .get(format!("{}/o/{org}/scim/v2/Users/{id}", self.url))
            .bearer_auth(admin)
            .send()
            .await
            .expect("a SCIM read")
            .json()
            .await
            .expect("a SCIM user");
        user["urn:muster:params:scim:schemas:extension:shop:2.0:User"]["status"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    /// The HTTP status a request with `token` gets (401 once the session is cut).
    pub async fn probe(&self, org: &str, id: &str, token: &str) -> u16 {
        reqwest::Client::new()
            .get(format!("{}/o/{org}/scim/v2/Users/{id}", self.url))
            .bearer_auth(token)
            .send()
            .await
            .expect("a request")
            .status()
            .as_u16()
    }

    /// What the outbox holds for `to` (an address or a phone number), as a system admin
    /// reads it: newest first.
    async fn outbox_to(&self, to: &str) -> Value {
        let token = self.token("", "ops@e2e.test", PASSWORD).await;
        reqwest::Client::new()
            .get(format!("{}/admin/outbox", self.url))
            .query(&[("to", to)])
            .bearer_auth(token)
            .send()
            .await
            .expect("outbox request")
            .json()
            .await
            .expect("outbox answer")
    }

    /// The code in the latest text message to `phone` (from the outbox, as a system
    /// admin): its first six digits.
    pub async fn sms_code_sent_to(&self, phone: &str) -> String {
        let mail = self.outbox_to(phone).await;
        let text = mail["Resources"]
            .as_array()
            .and_then(|all| all.iter().find(|m| m["channel"] == "sms"))
            .and_then(|m| m["body"].as_str())
            .unwrap_or_else(|| panic!("no SMS was sent to {phone}: {mail}"));
        text.chars().filter(char::is_ascii_digit).take(6).collect()
    }

    /// The latest email's link sent to `to` (from the outbox, as a system admin).
    pub async fn link_sent_to(&self, to: &str) -> String {
        let mail = self.outbox_to(to).await;
        mail["Resources"]
            .as_array()
            // Newest first: the latest link (a resend voids the ones before).
            .and_then(|all| all.iter().find_map(|m| m["link"].as_str()))
            .unwrap_or_else(|| panic!("no link was sent to {to}: {mail}"))
            .to_owned()
    }
}

/// Answers the native file dialog (GTK's "Save File" or "Open File", opened by the app's
/// Rust side, out of WebDriver's reach) the way a person does: waits for it, focuses
/// it, types the path into its location field and presses Enter. Needs `xdotool` and the
/// test's X display.
pub async fn answer_file_dialog(path: &Path) {
    let deadline = Instant::now() + Duration::from_secs(20);
    let window = loop {
        let found = Command::new("xdotool")
            .args(["search", "--onlyvisible", "--name", "(Save|Open) File"])
            .output()
            .await
            .expect("xdotool runs (apt-get install xdotool)");
        let ids = String::from_utf8_lossy(&found.stdout);
        if let Some(id) = ids.split_whitespace().next() {
            break id.to_owned();
        }
        assert!(Instant::now() < deadline, "no file dialog opened");
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    // GTK takes keys only once the dialog has mapped and settled.
    tokio::time::sleep(Duration::from_millis(800)).await;
    let text = path.to_str().expect("a UTF-8 path");
    for args in [
        vec!["windowfocus", "--sync", window.as_str()],
        vec!["key", "--window", window.as_str(), "ctrl+l"],
        vec!["key", "ctrl+a"],
        vec!["type", "--delay", "30", text],
        vec!["key", "Return"],
    ] {
        let done = Command::new("xdotool")
            .args(&args)
            .status()
            .await
            .expect("xdotool runs");
        assert!(done.success(), "xdotool {args:?} failed");
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

/// Waits up to 20 s for a file to appear with something in it and stop growing (the app
/// writes it in a background task); returns its text.
pub async fn wait_for_file(path: &Path) -> String {
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut last: Option<String> = None;
    loop {
        if let Ok(text) = std::fs::read_to_string(path)
            && !text.is_empty()
        {
            if last.as_deref() == Some(text.as_str()) {
                return text;
            }
            last = Some(text);
        }
        assert!(
            Instant::now() < deadline,
            "{} was never written in full",
            path.display()
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

/// The app under tauri-driver, with its own config, cache and data dirs.
#[derive(Debug)]
pub struct App {
    /// The WebDriver session.
    pub client: Client,
    driver: Child,
    shots: PathBuf,
}

impl App {
    /// Starts tauri-driver and the app with fresh config, cache and data dirs.
    pub async fn launch() -> Self {
        Self::launch_in(&fresh_dir("app")).await
    }

    /// Starts tauri-driver and the app with its config, cache and data dirs under `home`
    /// (the same `home` again is the same user starting the app again).
    pub async fn launch_in(home: &Path) -> Self {
        let app = binary("MUSTER_DESKTOP_BIN", "muster-desktop");
        Self::launch_binary(&app, home).await
    }

    /// Starts tauri-driver and the app at `app` (an installed copy, say) with its config,
    /// cache and data dirs under `home`; it logs at `info`, or as `MUSTER_E2E_LOG` says
    /// (`debug` times every command, for a look at where a start goes).
    pub async fn launch_binary(app: &Path, home: &Path) -> Self {
        let log = std::env::var("MUSTER_E2E_LOG").unwrap_or_else(|_| "info".to_owned());
        Self::launch_logging(app, home, &log).await
    }

    /// As [`App::launch_binary`], with the app's log filter (`MUSTER_LOG`) set to `log`.
    pub async fn launch_logging(app: &Path, home: &Path, log: &str) -> Self {
        let port = free_port();
        let native_port = free_port();
        let driver =
            Command::new(std::env::var_os("TAURI_DRIVER").unwrap_or_else(|| "tauri-driver".into()))
                .args(["--port", &port.to_string()])
                .args(["--native-port", &native_port.to_string()])
                .env("XDG_CONFIG_HOME", home.join("config"))
                .env("XDG_CACHE_HOME", home.join("cache"))
                .env("XDG_DATA_HOME", home.join("data"))
                .env("MUSTER_LOG", log)
                // Its own process group: WebKitWebDriver and the app with it, so `close`
                // can end all three whatever state they are in.
                .process_group(0)
                .stdout(Stdio::null())
                .stderr(Stdio::inherit())
                .spawn()
                .expect("tauri-driver starts (cargo install tauri-driver)");
        let capabilities = json!({
            "tauri:options": {"application": app.canonicalize().expect("the app binary")},
            "browserName": "wry",
        });
        let capabilities = match capabilities {
            Value::Object(map) => map,
            _ => unreachable!(),
        };
        let url = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(30);
        let client = loop {
            let attempt = tokio::time::timeout(
                Duration::from_secs(20),
                ClientBuilder::new(hyper_connector())
                    .capabilities(capabilities.clone())
                    .connect(&url),
            )
            .await;
            match attempt {
                Ok(Ok(client)) => break client,
                _ if Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(300)).await;
                }
                other => panic!("no WebDriver session: {:?}", other.map(|r| r.err())),
            }
        };
        let shots = root().join("target/e2e-screenshots");
        std::fs::create_dir_all(&shots).expect("the screenshot dir");
        Self {
            client,
            driver,
            shots,
        }
    }

    fn testid(id: &str) -> String {
        format!("[data-testid=\"{id}\"]")
    }

    /// Waits up to 15 s for an element with this `data-testid`.
    pub async fn find(&self, id: &str) -> Element {
        self.find_css(&Self::testid(id)).await
    }

    /// Waits up to 15 s for an element matching `css`.
    pub async fn find_css(&self, css: &str) -> Element {
        match self
            .client
            .wait()
            .at_most(Duration::from_secs(15))
            .for_element(Locator::Css(css))
            .await
        {
            Ok(element) => element,
            Err(error) => {
                // Leave a picture of what was on screen instead.
                self.screenshot("failure").await;
                let body = match self.client.find(Locator::Css("body")).await {
                    Ok(body) => body.text().await.unwrap_or_default(),
                    Err(_) => String::new(),
                };
                panic!("'{css}' never appeared: {error}\non screen: {body}");
            }
        }
    }

    /// Whether an element with this `data-testid` is on screen now.
    pub async fn present(&self, id: &str) -> bool {
        self.client
            .find(Locator::Css(&Self::testid(id)))
            .await
            .is_ok()
    }

    /// Clicks the element with this `data-testid`.
    pub async fn click(&self, id: &str) {
        self.find(id)
            .await
            .click()
            .await
            .unwrap_or_else(|e| panic!("cannot click {id}: {e}"));
    }

    /// Picks `path` in a file input (as the file chooser would).
    pub async fn choose_file(&self, id: &str, path: &Path) {
        let input = self.find(id).await;
        input
            .send_keys(&path.display().to_string())
            .await
            .unwrap_or_else(|e| panic!("cannot choose a file in {id}: {e}"));
    }

    /// Replaces the text of an input.
    pub async fn fill(&self, id: &str, text: &str) {
        let input = self.find(id).await;
        input.clear().await.expect("clear");
        if !text.is_empty() {
            input.send_keys(text).await.expect("type");
        }
    }

    /// The text of an element.
    pub async fn text(&self, id: &str) -> String {
        self.find(id).await.text().await.unwrap_or_default()
    }

    /// Waits up to 20 s until the element's text satisfies `ok`; returns the text.
    pub async fn wait_text(&self, id: &str, ok: impl Fn(&str) -> bool) -> String {
        self.wait_text_for(id, Duration::from_secs(20), ok).await
    }

    /// Waits up to `limit` until the element's text satisfies `ok`; returns the text.
    pub async fn wait_text_for(
        &self,
        id: &str,
        limit: Duration,
        ok: impl Fn(&str) -> bool,
    ) -> String {
        let deadline = Instant::now() + limit;
        loop {
            let text = match self.client.find(Locator::Css(&Self::testid(id))).await {
                Ok(element) => element.text().await.unwrap_or_default(),
                Err(_) => String::new(),
            };
            if ok(&text) {
                return text;
            }
            if Instant::now() >= deadline {
                self.screenshot("failure").await;
                panic!("{id} never showed what was expected; last text: {text:?}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits up to 20 s until an input's value satisfies `ok` (the engine's answers come
    /// after typing stops); returns the value.
    pub async fn wait_value(&self, id: &str, ok: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let value = match self.client.find(Locator::Css(&Self::testid(id))).await {
                Ok(element) => element
                    .prop("value")
                    .await
                    .ok()
                    .flatten()
                    .unwrap_or_default(),
                Err(_) => String::new(),
            };
            if ok(&value) {
                return value;
            }
            if Instant::now() >= deadline {
                self.screenshot("failure").await;
                panic!("{id} never held what was expected; last value: {value:?}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits until an element with this `data-testid` is gone.
    pub async fn wait_gone(&self, id: &str) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while self.present(id).await {
            assert!(Instant::now() < deadline, "{id} never went away");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Adds a connection called `name` to `url` and `org`, opens it and signs in with
    /// `email` and `password`; returns once the users table has rows.
    pub async fn connect_and_sign_in(
        &self,
        name: &str,
        url: &str,
        org: &str,
        email: &str,
        password: &str,
    ) {
        self.fill("profile-name", name).await;
        self.fill("profile-url", url).await;
        self.fill("profile-org", org).await;
        self.click("profile-save").await;
        self.click(&format!("profile-open-{name}")).await;
        self.fill("signin-email", email).await;
        self.fill("signin-password", password).await;
        self.click("signin-submit").await;
        self.find("user-row").await;
    }

    /// How many toasts are on screen, and the text of each visible element matching `css`
    /// that one of them covers.
    pub async fn toasts_covering(&self, css: &str) -> (u64, Vec<String>) {
        let script = r#"
            const [css] = arguments;
            const toasts = [...document.querySelectorAll(".toast")].map((t) => t.getBoundingClientRect());
            const covered = [...document.querySelectorAll(css)].filter((el) => {
                const r = el.getBoundingClientRect();
                return r.width > 0 && r.height > 0 && toasts.some((t) =>
                    r.left < t.right && t.left < r.right && r.top < t.bottom && t.top < r.bottom);
            });
            return [toasts.length, covered.map((el) => el.textContent.trim())];
        "#;
        let value = self
            .client
            .execute(script, vec![serde_json::json!(css)])
            .await
            .expect("the overlap script runs");
        let toasts = value
            .get(0)
            .and_then(serde_json::Value::as_u64)
            .unwrap_or(0);
        let covered = value
            .get(1)
            .and_then(serde_json::Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect();
        (toasts, covered)
    }

    /// Saves a screenshot as `target/e2e-screenshots/NAME.png`.
    pub async fn screenshot(&self, name: &str) {
        // Let the last DOM update paint.
        tokio::time::sleep(Duration::from_millis(250)).await;
        // WebKitGTK without compositing takes a screenshot at its next repaint, and a page
        // with nothing moving does not repaint: the shot then waits out a 60-second
        // timeout. A focused text field's blinking caret repaints, so when no text field
        // has focus one is focused for the shot (1 px, off-screen), and focus goes back
        // where it was after.
        self.client
            .execute(
                r#"const active = document.activeElement;
                   const typing = active && (active.isContentEditable || active.tagName === "TEXTAREA"
                     || (active.tagName === "INPUT" && !["button", "checkbox", "radio", "submit", "reset", "file", "range", "color"].includes(active.type)));
                   if (!typing) {
                     window.__e2eFocus = active;
                     const caret = document.createElement("input");
                     caret.id = "e2e-caret";
                     caret.setAttribute("aria-hidden", "true");
                     caret.tabIndex = -1;
                     caret.style.cssText = "position:fixed;left:-10px;top:0;width:1px;height:1px;opacity:0";
                     document.body.appendChild(caret);
                     caret.focus();
                   }"#,
                Vec::new(),
            )
            .await
            .expect("the page answers");
        let png = self.client.screenshot().await.expect("a screenshot");
        self.client
            .execute(
                r#"const caret = document.getElementById("e2e-caret");
                   if (caret) {
                     caret.remove();
                     const before = window.__e2eFocus;
                     if (before && before !== document.body && before.isConnected) before.focus();
                   }"#,
                Vec::new(),
            )
            .await
            .expect("the page answers");
        std::fs::write(self.shots.join(format!("{name}.png")), png).expect("saving it");
    }

    /// Ends the session and stops tauri-driver, WebKitWebDriver and the app with SIGTERM to
    /// their process group (SIGKILL would orphan WebKitWebDriver and hang CI; see docs/platform.md).
    pub async fn close(mut self) {
        // The WebDriver session's end closes the window; if that does not come back, the
        // process group goes anyway.
        let closing = tokio::time::timeout(Duration::from_secs(10), self.client.clone().close());
        if closing.await.is_err() {
            eprintln!("the WebDriver session did not close within 10 s; ending the app");
        }
        if let Some(pid) = self.driver.id() {
            let _ = Command::new("kill")
                .args(["-TERM", "--", &format!("-{pid}")])
                .status()
                .await;
        }
        let _ = tokio::time::timeout(Duration::from_secs(10), self.driver.wait()).await;
    }
}

impl Drop for App {
    /// A test that panics drops its app without [`App::close`]: its process group is ended
    /// too (SIGTERM, as `close` does), so no tauri-driver is left behind holding its ports
    /// and the display for the next run. After `close` the driver is reaped and has no id.
    fn drop(&mut self) {
        if let Some(pid) = self.driver.id() {
            let _ = std::process::Command::new("kill")
                .args(["-TERM", "--", &format!("-{pid}")])
                .status();
        }
    }
}

fn hyper_connector() -> hyper_util::client::legacy::connect::HttpConnector {
    hyper_util::client::legacy::connect::HttpConnector::new()
}
