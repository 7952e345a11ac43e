//! The authorization matrix: every route the server registers × every kind of
//! caller (anonymous, viewer, technician, admin, read-only and provisioning API tokens,
//! system admin, and an admin and an API token of another organisation), each answer
//! checked against what the route's row says. The rows come from one table; the routes
//! are read from the server's source (`.route(...)` calls), so a route without a row fails
//! the test, as does a row for a route that no longer exists.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;

use reqwest::Method;
use serde_json::{Value, json};

use crate::support::{NewUser, PASSWORD, TestServer, seed_org, seed_system_admin, seed_user};

/// Who may use a route.
#[derive(Debug, Clone, Copy)]
enum Who {
    /// No credentials needed: anonymous callers get this status (with the row's body).
    Open(u16),
    /// Any member of the organisation, technicians too; no other organisation.
    Member,
    /// Readers of the organisation's users: viewers, admins, API tokens, system admins.
    Read,
    /// Writers: admins, provisioning API tokens, system admins.
    Write,
    /// System admins only.
    SystemAdmin,
    /// One's own account, signed in with a password (org users and system admins); never
    /// API tokens.
    Own,
}

/// The callers every row is tried with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Caller {
    Anonymous,
    Viewer,
    Technician,
    Admin,
    ApiRead,
    ApiProvision,
    SystemAdmin,
    OtherAdmin,
    OtherApi,
}

const CALLERS: [Caller; 9] = [
    Caller::Anonymous,
    Caller::Viewer,
    Caller::Technician,
    Caller::Admin,
    Caller::ApiRead,
    Caller::ApiProvision,
    Caller::SystemAdmin,
    Caller::OtherAdmin,
    Caller::OtherApi,
];

/// What a caller should get: allowed (any answer but 401, 403, 405 and a 5xx), or
/// exactly this status (a refusal, or an open route's answer to a made-up request).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    Allowed,
    Status(u16),
}

fn expect(who: Who, caller: Caller) -> Option<Expect> {
    use Caller::*;
    use Expect::*;
    Some(match (who, caller) {
        (Who::Open(_), _) => return None,
        (_, Anonymous) => Status(401),
        (Who::Own, ApiRead | ApiProvision | OtherApi) => Status(403),
        (Who::Own, _) => Allowed,
        (_, OtherAdmin | OtherApi) => Status(403),
        (Who::SystemAdmin, SystemAdmin) => Allowed,
        (Who::SystemAdmin, _) => Status(403),
        (Who::Member, _) => Allowed,
        (Who::Read | Who::Write, Technician) => Status(403),
        (Who::Read, _) => Allowed,
        (Who::Write, Viewer | ApiRead) => Status(403),
        (Who::Write, _) => Allowed,
    })
}

/// One route with a method, as the source names it, and the request that tries it.
struct Row {
    method: Method,
    /// The route's pattern, with the SCIM nest prefix (`/o/{org}/scim/v2`) where it has one.
    route: &'static str,
    /// The path to request (in organisation `acme`).
    path: String,
    body: Option<Value>,
    /// A form body (`application/x-www-form-urlencoded`) instead of JSON.
    form: Option<&'static str>,
    who: Who,
}

fn row(method: Method, route: &'static str, path: String, body: Option<Value>, who: Who) -> Row {
    Row {
        method,
        route,
        path,
        body,
        form: None,
        who,
    }
}

const SCIM: &str = "/o/acme/scim/v2";

/// The people and things the requests name.
struct Fixture {
    user: String,
    group: String,
    robot: String,
    token_id: String,
}

fn rows(f: &Fixture) -> Vec<Row> {
    use Method as M;
    let user = &f.user;
    let group = &f.group;
    let new_user = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "new.person"});
    let new_group = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
                           "displayName": "Night shift"});
    let patch = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                       "Operations": [{"op": "replace", "path": "displayName", "value": "Renamed"}]});
    let search = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
                        "count": 1});
    let bulk = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],
                      "Operations": []});
    let mut rows = vec![
        row(M::GET, "/healthz", "/healthz".into(), None, Who::Open(200)),
        row(
            M::POST,
            "/auth/token",
            "/auth/token".into(),
            Some(json!({})),
            Who::Open(400),
        ),
        row(
            M::POST,
            "/auth/refresh",
            "/auth/refresh".into(),
            Some(json!({"refreshToken": "mst_rt_forged"})),
            Who::Open(401),
        ),
        row(
            M::POST,
            "/auth/logout",
            "/auth/logout".into(),
            Some(json!({"refreshToken": "mst_rt_forged"})),
            Who::Open(401),
        ),
        row(
            M::POST,
            "/auth/password",
            "/auth/password".into(),
            Some(
                json!({"currentPassword": "Not-the-password-1", "newPassword": "Juniper-Canoe-71-lattice"}),
            ),
            Who::Own,
        ),
        row(
            M::POST,
            "/auth/reauthenticate",
            "/auth/reauthenticate".into(),
            Some(json!({"password": PASSWORD})),
            Who::Own,
        ),
        row(
            M::POST,
            "/auth/mfa/enroll",
            "/auth/mfa/enroll".into(),
            Some(json!({"password": PASSWORD})),
            Who::Own,
        ),
        row(
            M::POST,
            "/auth/mfa/confirm",
            "/auth/mfa/confirm".into(),
            Some(json!({"code": "000000"})),
            Who::Own,
        ),
        row(
            M::POST,
            "/auth/mfa/disable",
            "/auth/mfa/disable".into(),
            Some(json!({"password": PASSWORD, "code": "000000"})),
            Who::Own,
        ),
        row(M::GET, "/auth/me", "/auth/me".into(), None, Who::Own),
        row(
            M::POST,
            "/auth/sessions/end-others",
            "/auth/sessions/end-others".into(),
            None,
            Who::Own,
        ),
        row(
            M::GET,
            "/o/{org}/api-tokens",
            "/o/acme/api-tokens".into(),
            None,
            Who::Read,
        ),
        row(
            M::POST,
            "/o/{org}/api-tokens",
            "/o/acme/api-tokens".into(),
            Some(json!({"userId": f.robot, "name": "IdP"})),
            Who::Write,
        ),
        row(
            M::DELETE,
            "/o/{org}/api-tokens/{id}",
            format!("/o/acme/api-tokens/{}", f.token_id),
            None,
            Who::Write,
        ),
        row(
            M::GET,
            "/o/{org}/audit",
            "/o/acme/audit".into(),
            None,
            Who::Read,
        ),
        row(
            M::GET,
            "/o/{org}/policy",
            "/o/acme/policy".into(),
            None,
            Who::Member,
        ),
        row(
            M::GET,
            "/o/{org}/settings",
            "/o/acme/settings".into(),
            None,
            Who::Read,
        ),
        row(
            M::PATCH,
            "/o/{org}/settings",
            "/o/acme/settings".into(),
            Some(json!({"magicLinkMinutes": 20})),
            Who::Write,
        ),
        row(
            M::GET,
            "/o/{org}/assignees",
            "/o/acme/assignees".into(),
            None,
            Who::Read,
        ),
        row(
            M::GET,
            "/o/{org}/scim/v2/Users/{id}/responsibilities",
            format!("{SCIM}/Users/{user}/responsibilities"),
            None,
            Who::Read,
        ),
        row(
            M::GET,
            "/admin/orgs",
            "/admin/orgs".into(),
            None,
            Who::SystemAdmin,
        ),
        row(
            M::POST,
            "/admin/orgs",
            "/admin/orgs".into(),
            Some(json!({"id": "gamma", "name": "Gamma"})),
            Who::SystemAdmin,
        ),
        row(
            M::DELETE,
            "/admin/orgs/{org}",
            "/admin/orgs/beta".into(),
            Some(json!({"confirm": "beta"})),
            Who::SystemAdmin,
        ),
        row(
            M::POST,
            "/admin/orgs/{org}/suspend",
            "/admin/orgs/beta/suspend".into(),
            None,
            Who::SystemAdmin,
        ),
        row(
            M::POST,
            "/admin/orgs/{org}/reactivate",
            "/admin/orgs/beta/reactivate".into(),
            None,
            Who::SystemAdmin,
        ),
        row(
            M::PUT,
            "/admin/orgs/{org}/plan",
            "/admin/orgs/beta/plan".into(),
            Some(json!({"plan": "standard"})),
            Who::SystemAdmin,
        ),
        row(
            M::GET,
            "/admin/plans",
            "/admin/plans".into(),
            None,
            Who::SystemAdmin,
        ),
        row(
            M::GET,
            "/admin/audit",
            "/admin/audit".into(),
            None,
            Who::SystemAdmin,
        ),
        row(
            M::GET,
            "/admin/outbox",
            "/admin/outbox".into(),
            None,
            Who::SystemAdmin,
        ),
        row(
            M::GET,
            "/o/{org}/scim/v2/ServiceProviderConfig",
            format!("{SCIM}/ServiceProviderConfig"),
            None,
            Who::Read,
        ),
        row(
            M::GET,
            "/o/{org}/scim/v2/ResourceTypes",
            format!("{SCIM}/ResourceTypes"),
            None,
            Who::Read,
        ),
        row(
            M::GET,
            "/o/{org}/scim/v2/ResourceTypes/{id}",
            format!("{SCIM}/ResourceTypes/User"),
            None,
            Who::Read,
        ),
        row(
            M::GET,
            "/o/{org}/scim/v2/Schemas",
            format!("{SCIM}/Schemas"),
            None,
            Who::Read,
        ),
        row(
            M::GET,
            "/o/{org}/scim/v2/Schemas/{id}",
            format!("{SCIM}/Schemas/urn:ietf:params:scim:schemas:core:2.0:User"),
            None,
            Who::Read,
        ),
        row(
            M::POST,
            "/o/{org}/scim/v2/.search",
            format!("{SCIM}/.search"),
            Some(search.clone()),
            Who::Read,
        ),
        row(
            M::POST,
            "/o/{org}/scim/v2/Bulk",
            format!("{SCIM}/Bulk"),
            Some(bulk),
            Who::Write,
        ),
        row(
            M::GET,
            "/o/{org}/scim/v2/actions",
            format!("{SCIM}/actions"),
            None,
            Who::Read,
        ),
    ];
    for resource in ["Users", "Groups"] {
        let (id, body) = if resource == "Users" {
            (user, new_user.clone())
        } else {
            (group, new_group.clone())
        };
        rows.extend([
            row(
                M::GET,
                "/o/{org}/scim/v2/{resource}",
                format!("{SCIM}/{resource}"),
                None,
                Who::Read,
            ),
            row(
                M::POST,
                "/o/{org}/scim/v2/{resource}",
                format!("{SCIM}/{resource}"),
                Some(body),
                Who::Write,
            ),
            row(
                M::POST,
                "/o/{org}/scim/v2/{resource}/.search",
                format!("{SCIM}/{resource}/.search"),
                Some(search.clone()),
                Who::Read,
            ),
            row(
                M::GET,
                "/o/{org}/scim/v2/{resource}/{id}",
                format!("{SCIM}/{resource}/{id}"),
                None,
                Who::Read,
            ),
            row(
                M::PATCH,
                "/o/{org}/scim/v2/{resource}/{id}",
                format!("{SCIM}/{resource}/{id}"),
                Some(patch.clone()),
                Who::Write,
            ),
            row(
                M::PUT,
                "/o/{org}/scim/v2/{resource}/{id}",
                format!("{SCIM}/{resource}/{id}"),
                Some(json!({})),
                Who::Write,
            ),
            row(
                M::DELETE,
                "/o/{org}/scim/v2/{resource}/{id}",
                format!("{SCIM}/{resource}/{id}"),
                None,
                Who::Write,
            ),
        ]);
    }
    // Deleted users: only system admins list or read them.
    rows.extend([
        row(
            M::GET,
            "/o/{org}/scim/v2/{resource}",
            format!("{SCIM}/Users?includeDeleted=true"),
            None,
            Who::SystemAdmin,
        ),
        row(
            M::GET,
            "/o/{org}/scim/v2/{resource}/{id}",
            format!("{SCIM}/Users/{user}?includeDeleted=true"),
            None,
            Who::SystemAdmin,
        ),
    ]);
    rows.extend([
        row(
            M::GET,
            "/o/{org}/scim/v2/Users/{id}/photo",
            format!("{SCIM}/Users/{user}/photo"),
            None,
            Who::Read,
        ),
        row(
            M::PUT,
            "/o/{org}/scim/v2/Users/{id}/photo",
            format!("{SCIM}/Users/{user}/photo"),
            None,
            Who::Write,
        ),
        row(
            M::DELETE,
            "/o/{org}/scim/v2/Users/{id}/photo",
            format!("{SCIM}/Users/{user}/photo"),
            None,
            Who::Write,
        ),
    ]);
    let actions = [
        ("send-welcome", Who::Write, None),
        ("send-password-reset", Who::Write, None),
        ("send-magic-link", Who::Write, None),
        (
            "set-password",
            Who::Write,
            Some(json!({"password": "Juniper-Canoe-71-lattice"})),
        ),
        ("suspend", Who::Write, None),
        ("unsuspend", Who::Write, None),
        ("revoke-sessions", Who::Write, None),
        ("reset-mfa", Who::Write, None),
        ("deactivate", Who::Write, None),
        ("reactivate", Who::Write, None),
        ("delete", Who::Write, None),
        ("restore", Who::SystemAdmin, None),
    ];
    for (name, who, body) in actions {
        rows.push(row(
            M::POST,
            "/o/{org}/scim/v2/Users/{id}/actions/{name}",
            format!("{SCIM}/Users/{user}/actions/{name}"),
            body,
            who,
        ));
    }
    // A forged token is unknown on every link page, and a page of no kind is not there.
    for kind in ["welcome", "reset", "magic", "other"] {
        let (route, path) = (
            "/links/{kind}",
            format!("/links/{kind}?token=mst_lnk_forged"),
        );
        rows.push(row(M::GET, route, path.clone(), None, Who::Open(404)));
        rows.push(Row {
            form: Some("token=mst_lnk_forged&password=Juniper-Canoe-71-lattice"),
            ..row(M::POST, route, path, None, Who::Open(404))
        });
    }
    rows
}

/// Every `(METHOD, route)` the server's source registers: each `.route("path", …)` call
/// and the method routers (`get(`, `.post(`…) up to the next route; routes of
/// `scim/mod.rs` are nested under `/o/{org}/scim/v2`.
fn registered_routes() -> BTreeSet<(String, String)> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = vec![root.clone()];
    let mut found = BTreeSet::new();
    while let Some(path) = files.pop() {
        if path.is_dir() {
            files.extend(std::fs::read_dir(&path).unwrap().map(|e| e.unwrap().path()));
            continue;
        }
        if path.extension().is_none_or(|e| e != "rs") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let prefix = if path.ends_with("scim/mod.rs") {
            "/o/{org}/scim/v2"
        } else {
            ""
        };
        let pieces: Vec<&str> = text.split(".route(").skip(1).collect();
        for piece in pieces {
            let piece = piece.trim_start();
            let Some(rest) = piece.strip_prefix('"') else {
                continue;
            };
            let (pattern, rest) = rest.split_once('"').unwrap();
            let rest = rest.split("\n}").next().unwrap();
            for method in ["get", "post", "put", "patch", "delete"] {
                let called = rest.match_indices(&format!("{method}(")).any(|(at, _)| {
                    at == 0
                        || !rest.as_bytes()[at - 1].is_ascii_alphanumeric()
                            && rest.as_bytes()[at - 1] != b'_'
                });
                if called {
                    found.insert((method.to_uppercase(), format!("{prefix}{pattern}")));
                }
            }
        }
    }
    found
}

#[test]
fn every_route_has_a_row_and_every_row_a_route() {
    let fixture = Fixture {
        user: "u".into(),
        group: "g".into(),
        robot: "r".into(),
        token_id: "t".into(),
    };
    let table: BTreeSet<(String, String)> = rows(&fixture)
        .iter()
        .map(|row| (row.method.to_string(), row.route.to_owned()))
        .collect();
    let registered = registered_routes();
    assert!(registered.len() > 40, "the source was read: {registered:?}");
    let missing: Vec<_> = registered.difference(&table).collect();
    let stale: Vec<_> = table.difference(&registered).collect();
    assert!(missing.is_empty(), "routes without a row: {missing:?}");
    assert!(stale.is_empty(), "rows without a route: {stale:?}");
}

/// A server with acme (every role, an API-licence account with a read and a provision
/// token, a user and a group to act on, an API token to revoke) and beta (an admin and an
/// API token), and a system admin; the tokens of each caller.
async fn set_up() -> (TestServer, Fixture, Vec<(Caller, Option<String>)>) {
    let server = TestServer::start().await;
    let acme = seed_org(&server, "acme");
    let beta = seed_org(&server, "beta");
    let root = seed_system_admin(&server);
    let api_user = |org: &str, name: &str| {
        seed_user(
            &server,
            org,
            NewUser {
                user_name: name,
                role: "admin",
                licence: "api",
                active: true,
            },
        )
    };
    let integration = api_user("acme", "integration");
    let robot = api_user("acme", "robot");
    let beta_robot = api_user("beta", "robot");
    let user = seed_user(
        &server,
        "acme",
        NewUser {
            user_name: "tara",
            role: "technician",
            licence: "field",
            active: true,
        },
    );
    let now = server.now();
    let (api_provision, beta_api, token_id) = server.write(|tx| {
        let issue = |org: &str, id: &str, name: &str| {
            muster_server::auth::issue_api_token_blocking(tx, org, id, name, now).unwrap()
        };
        let provision = issue("acme", &integration.id, "provision");
        let beta_api = issue("beta", &beta_robot.id, "beta");
        issue("acme", &robot.id, "revocable");
        let token_id: String = tx
            .query_row("SELECT id FROM tokens WHERE name = 'revocable'", [], |r| {
                r.get(0)
            })
            .unwrap();
        (provision, beta_api, token_id)
    });
    // A read-only token as an admin issues one, through the API.
    let admin = server.sign_in(Some("acme"), &acme.admin.email).await;
    let read: Value = server
        .post(
            "/o/acme/api-tokens",
            &admin.access,
            &json!({"userId": integration.id, "name": "read", "scope": "read"}),
        )
        .await
        .json()
        .await
        .unwrap();
    let api_read = read["token"].as_str().unwrap().to_owned();
    let group: Value = server
        .post(
            "/o/acme/scim/v2/Groups",
            &admin.access,
            &json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
                    "displayName": "Day shift"}),
        )
        .await
        .json()
        .await
        .unwrap();
    let sign_in = |org: Option<&'static str>, email: String| {
        let server = &server;
        async move { Some(server.sign_in(org, &email).await.access) }
    };
    let callers = vec![
        (Caller::Anonymous, None),
        (
            Caller::Viewer,
            sign_in(Some("acme"), acme.viewer.email.clone()).await,
        ),
        (
            Caller::Technician,
            sign_in(Some("acme"), acme.technician.email.clone()).await,
        ),
        (Caller::Admin, Some(admin.access.clone())),
        (Caller::ApiRead, Some(api_read)),
        (Caller::ApiProvision, Some(api_provision)),
        (Caller::SystemAdmin, sign_in(None, root).await),
        (
            Caller::OtherAdmin,
            sign_in(Some("beta"), beta.admin.email.clone()).await,
        ),
        (Caller::OtherApi, Some(beta_api)),
    ];
    assert_eq!(
        callers
            .iter()
            .map(|(caller, _)| *caller)
            .collect::<Vec<_>>(),
        CALLERS,
        "every kind of caller is tried"
    );
    let fixture = Fixture {
        user: user.id,
        group: group["id"].as_str().unwrap().to_owned(),
        robot: robot.id,
        token_id,
    };
    (server, fixture, callers)
}

#[tokio::test]
async fn every_route_answers_each_caller_as_its_row_says() {
    let mut wrong = Vec::new();
    let count = {
        let (_, fixture, _) = set_up().await;
        rows(&fixture).len()
    };
    for index in 0..count {
        // A fresh server per row: what one row changes (a deletion, a suspension, a
        // sign-out) does not decide another's answer.
        let (server, fixture, callers) = set_up().await;
        let row = rows(&fixture).remove(index);
        // The callers refused first, so that an allowed change cannot hide a refusal.
        let mut ordered: Vec<&(Caller, Option<String>)> = callers.iter().collect();
        ordered.sort_by_key(|(caller, _)| expect(row.who, *caller) == Some(Expect::Allowed));
        for (caller, token) in ordered {
            // Open routes answer whoever asks; what matters is the anonymous answer.
            if matches!(row.who, Who::Open(_)) && *caller != Caller::Anonymous {
                continue;
            }
            let mut request = server
                .client
                .request(row.method.clone(), server.url(&row.path));
            if let Some(token) = token {
                request = request.bearer_auth(token);
            }
            if let Some(body) = &row.body {
                request = request.json(body);
            }
            if let Some(form) = row.form {
                request = request
                    .header("content-type", "application/x-www-form-urlencoded")
                    .body(form);
            }
            let status = request.send().await.unwrap().status().as_u16();
            let expected = match (row.who, *caller) {
                (Who::Open(status), Caller::Anonymous) => Expect::Status(status),
                _ => expect(row.who, *caller).unwrap(),
            };
            let ok = match expected {
                Expect::Allowed => !matches!(status, 401 | 403 | 405) && status < 500,
                Expect::Status(want) => status == want,
            };
            if !ok {
                wrong.push(format!(
                    "{} {} as {caller:?}: {status}, expected {expected:?}",
                    row.method, row.path
                ));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "{} mismatches:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}
