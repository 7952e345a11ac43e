//! A real server on 127.0.0.1:0 over a fresh temporary database, with a clock the test
//! moves, and helpers to seed organisations and users straight into the tables.

use std::sync::OnceLock;

use muster_server::auth::password::hash_password;
use muster_server::ratelimit::LimitSettings;
use muster_server::{AppState, Config};
use muster_test_support::TestServer as Shared;
use muster_test_support::server::Options;
use rusqlite::{Transaction, params};
use serde_json::{Value, json};
use time::OffsetDateTime;

/// The password every seeded account has.
pub const PASSWORD: &str = "Correct-Horse-9-battery";

/// The shop extension schema URN.
pub const SHOP: &str = "urn:muster:params:scim:schemas:extension:shop:2.0:User";

/// A running server: muster-test-support's in-process server with a plain HTTP client and
/// the requests these tests make.
pub struct TestServer {
    /// `http://127.0.0.1:<port>`.
    pub base: String,
    /// A plain client (no default headers).
    pub client: reqwest::Client,
    /// The state the server runs on, for direct database access.
    pub state: AppState,
    server: Shared,
}

impl TestServer {
    /// Starts a server with default settings, its clock at 2030-01-01 09:00 UTC.
    pub async fn start() -> Self {
        Self::start_with_limits(LimitSettings::default()).await
    }

    /// Starts a server with the given rate limits, its clock at 2030-01-01 09:00 UTC.
    pub async fn start_with_limits(limits: LimitSettings) -> Self {
        Self::start_with(Config::default(), limits).await
    }

    /// Starts a server with the given settings and rate limits, its clock at
    /// 2030-01-01 09:00 UTC.
    pub async fn start_with(config: Config, limits: LimitSettings) -> Self {
        let server = Shared::start_with(Options {
            config,
            limits,
            ..Options::default()
        })
        .await;
        Self {
            base: server.base.clone(),
            client: reqwest::Client::new(),
            state: server.state.clone(),
            server,
        }
    }

    /// The full URL of `path`.
    pub fn url(&self, path: &str) -> String {
        self.server.url(path)
    }

    /// The server's current time.
    pub fn now(&self) -> OffsetDateTime {
        self.server.now()
    }

    /// Moves the server's clock forward.
    pub fn advance(&self, by: time::Duration) {
        self.server.advance(by);
    }

    /// Runs `f` in a write transaction on the server's database.
    pub fn write<T>(&self, f: impl FnOnce(&Transaction<'_>) -> T) -> T {
        self.server.write(f)
    }
}

/// Serves `router` on a fresh loopback port, with the peer address available to handlers
/// (`ConnectInfo`, as `main.rs` serves it); returns `http://127.0.0.1:<port>`. The server
/// runs until the test's runtime ends.
pub async fn serve(router: axum::Router) -> String {
    let (addr, _task) = muster_test_support::server::serve(router).await;
    format!("http://{addr}")
}

/// The hash of [`PASSWORD`], computed once: argon2 is slow on purpose.
fn password_hash() -> &'static str {
    static HASH: OnceLock<String> = OnceLock::new();
    HASH.get_or_init(|| hash_password(PASSWORD).unwrap())
}

/// A seeded org user.
#[derive(Debug, Clone)]
pub struct User {
    /// SCIM id.
    pub id: String,
    /// userName.
    pub user_name: String,
    /// Primary email (sign-in login).
    pub email: String,
}

/// An organisation with one user of each role.
#[derive(Debug, Clone)]
pub struct Org {
    /// Organisation id.
    pub id: String,
    /// Role admin, licence desk.
    pub admin: User,
    /// Role technician, licence field.
    pub technician: User,
    /// Role viewer, licence desk.
    pub viewer: User,
}

/// What to seed a user with.
#[derive(Debug, Clone, Copy)]
pub struct NewUser<'a> {
    /// userName; the email is `<user_name>@<org>.example`.
    pub user_name: &'a str,
    /// Shop role, stored folded in `users.role`.
    pub role: &'a str,
    /// Shop licence.
    pub licence: &'a str,
    /// `active` in the doc; the `status` column becomes `active` or `deactivated`.
    pub active: bool,
}

/// Creates organisation `org` with an admin, a technician and a viewer, all with [`PASSWORD`].
pub fn seed_org(server: &TestServer, org: &str) -> Org {
    let now = server.now();
    server.write(|tx| muster_server::orgs::create_org_blocking(tx, org, org, now).unwrap());
    let user = |user_name, role, licence| {
        seed_user(
            server,
            org,
            NewUser {
                user_name,
                role,
                licence,
                active: true,
            },
        )
    };
    Org {
        id: org.to_owned(),
        admin: user("ada", "admin", "desk"),
        technician: user("tom", "technician", "field"),
        viewer: user("vera", "viewer", "desk"),
    }
}

/// Inserts a user straight into `users` and `user_emails`.
pub fn seed_user(server: &TestServer, org: &str, new: NewUser<'_>) -> User {
    let id = uuid::Uuid::new_v4().to_string();
    let email = format!("{}@{org}.example", new.user_name);
    let doc = json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", SHOP],
        "userName": new.user_name,
        "displayName": format!("{} of {org}", new.user_name),
        "active": new.active,
        "emails": [{"value": email, "primary": true}],
        SHOP: {"role": new.role, "licence": new.licence},
    });
    let now = muster_server::auth::stamp(server.now());
    server.write(|tx| {
        tx.execute(
            "INSERT INTO users (org, id, doc, version, created, modified, user_name, display_name,
                                role, password_hash, status, extensions)
             VALUES (?1, ?2, ?3, 1, ?4, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            params![
                org,
                id,
                doc.to_string(),
                now,
                new.user_name.to_lowercase(),
                format!("{} of {org}", new.user_name).to_lowercase(),
                new.role.to_lowercase(),
                password_hash(),
                if new.active { "active" } else { "deactivated" },
                muster_server::scim::store::extensions_of(
                    muster_server::scim::kind::Kind::User,
                    &doc
                ),
            ],
        )
        .unwrap();
        tx.execute(
            "INSERT INTO user_emails (org, user_seq, email) VALUES (?1, last_insert_rowid(), ?2)",
            params![org, email.to_lowercase()],
        )
        .unwrap();
    });
    User {
        id,
        user_name: new.user_name.to_owned(),
        email,
    }
}

/// Inserts an active API-licence account `user_name` of `org` with the admin role (an
/// integration), as [`seed_user`] does.
pub fn seed_api_user(server: &TestServer, org: &str, user_name: &str) -> User {
    let integration = NewUser {
        user_name,
        role: "admin",
        licence: "api",
        active: true,
    };
    seed_user(server, org, integration)
}

/// Sets a user's lifecycle status (`users.status`: invited, active, suspended,
/// deactivated, deleted) straight in the table.
pub fn set_status(server: &TestServer, org: &str, user_id: &str, status: &str) {
    let changed = server.write(|tx| {
        tx.execute(
            "UPDATE users SET status = ?3 WHERE org = ?1 AND id = ?2",
            params![org, user_id, status],
        )
        .unwrap()
    });
    assert_eq!(changed, 1, "the user exists");
}

/// Creates the system admin `root@muster.example` with [`PASSWORD`]; returns the email.
pub fn seed_system_admin(server: &TestServer) -> String {
    let now = server.now();
    let email = "root@muster.example";
    server.write(|tx| {
        muster_server::auth::create_system_admin(tx, email, "Root", password_hash(), now).unwrap()
    });
    email.to_owned()
}

/// An access and a refresh token.
#[derive(Debug, Clone)]
pub struct Tokens {
    /// Bearer token.
    pub access: String,
    /// For `/auth/refresh`.
    pub refresh: String,
}

impl Tokens {
    /// Reads the pair out of a successful `/auth/token` or `/auth/refresh` answer.
    pub fn from_answer(answer: &Value) -> Self {
        Self {
            access: answer["accessToken"]
                .as_str()
                .expect("an accessToken")
                .to_owned(),
            refresh: answer["refreshToken"]
                .as_str()
                .expect("a refreshToken")
                .to_owned(),
        }
    }
}

impl TestServer {
    /// `POST /auth/token`; the raw answer.
    pub async fn sign_in_raw(
        &self,
        org: Option<&str>,
        email: &str,
        password: &str,
    ) -> reqwest::Response {
        let body = json!({"email": email, "password": password, "org": org});
        self.client
            .post(self.url("/auth/token"))
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    /// Signs in and returns the tokens, failing the test if sign-in fails.
    pub async fn sign_in(&self, org: Option<&str>, email: &str) -> Tokens {
        let response = self.sign_in_raw(org, email, PASSWORD).await;
        assert_eq!(
            response.status(),
            200,
            "seeded accounts sign in with the seeded password"
        );
        Tokens::from_answer(&response.json().await.unwrap())
    }

    /// `GET path` with a bearer token.
    pub async fn get(&self, path: &str, token: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
    }

    /// `POST path` with a bearer token and a JSON body.
    pub async fn post(&self, path: &str, token: &str, body: &Value) -> reqwest::Response {
        self.client
            .post(self.url(path))
            .bearer_auth(token)
            .json(body)
            .send()
            .await
            .unwrap()
    }

    /// `PATCH path` with a bearer token and a JSON body.
    pub async fn patch(&self, path: &str, token: &str, body: &Value) -> reqwest::Response {
        self.client
            .patch(self.url(path))
            .bearer_auth(token)
            .json(body)
            .send()
            .await
            .unwrap()
    }

    /// `PUT path` with a bearer token and a JSON body.
    pub async fn put(&self, path: &str, token: &str, body: &Value) -> reqwest::Response {
        self.client
            .put(self.url(path))
            .bearer_auth(token)
            .json(body)
            .send()
            .await
            .unwrap()
    }

    /// `POST /auth/refresh`.
    pub async fn refresh(&self, refresh_token: &str) -> reqwest::Response {
        let body = json!({"refreshToken": refresh_token});
        self.client
            .post(self.url("/auth/refresh"))
            .json(&body)
            .send()
            .await
            .unwrap()
    }
}

/// Asserts an answer is a SCIM error with `status` and nothing but RFC 7644's members, and
/// returns its body, with the attribute the `Muster-Attribute` header names as `attribute`.
pub async fn scim_error(response: reqwest::Response, status: u16) -> Value {
    assert_eq!(response.status(), status, "expected a {status} answer");
    let content_type = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        content_type.starts_with("application/scim+json"),
        "errors are SCIM error bodies, got {content_type}"
    );
    let attribute = response
        .headers()
        .get(muster_server::error::ATTRIBUTE_HEADER)
        .map(|value| value.to_str().unwrap().to_owned());
    let mut body: Value = response.json().await.unwrap();
    assert!(
        body["detail"].is_string(),
        "a SCIM error says what went wrong: {body}"
    );
    let members: Vec<&str> = body
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert!(
        members
            .iter()
            .all(|m| ["schemas", "status", "scimType", "detail"].contains(m)),
        "a SCIM error body has no other members (strict clients refuse them): {body}"
    );
    // The attribute at fault rides in a header; put beside the body for the tests.
    if let Some(attribute) = attribute {
        body["attribute"] = Value::String(attribute);
    }
    body
}
