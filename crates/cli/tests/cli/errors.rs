//! Exit codes: each class of failure has its own, and `--json` reports errors on stdout.

use crate::support::{ADMIN_EMAIL, Muster, Server, user_id};

#[test]
fn a_bad_token_exits_3() {
    let server = Server::start();
    let muster = server
        .muster()
        .env("MUSTER_TOKEN", "mst_api_not-a-real-token");
    let run = muster.run(&["users", "list"]).code(3);
    assert!(run.stdout.is_empty());
    assert!(run.stderr.starts_with("muster: "), "{}", run.stderr);
    let json = muster.run(&["users", "list", "--json"]).code(3).json();
    assert_eq!(json["error"]["code"], "unauthorized");
    assert!(json["error"]["message"].is_string());
    assert!(
        !run.stderr.contains("not-a-real-token") && !json.to_string().contains("not-a-real-token"),
        "a token never reaches an error message"
    );

    let none = server
        .muster()
        .without("MUSTER_TOKEN")
        .run(&["users", "list"])
        .code(3);
    assert!(
        none.stderr.contains("MUSTER_TOKEN"),
        "says how to sign in: {}",
        none.stderr
    );
}

#[test]
fn an_unknown_id_exits_4() {
    let server = Server::start();
    let muster = server.muster();
    let json = muster
        .run(&[
            "users",
            "show",
            "00000000-0000-0000-0000-000000000000",
            "--json",
        ])
        .code(4)
        .json();
    assert_eq!(json["error"]["code"], "notFound");
    muster
        .run(&["users", "suspend", "00000000-0000-0000-0000-000000000000"])
        .code(4);
    muster.run(&["groups", "show", "nope"]).code(4);
}

#[test]
fn a_duplicate_user_name_exits_5() {
    let server = Server::start();
    let muster = server.muster();
    let run = muster
        .run(&[
            "users",
            "create",
            "--user-name",
            ADMIN_EMAIL,
            "--email",
            "other@acme.test",
        ])
        .code(5);
    assert!(run.stderr.contains("muster: "), "{}", run.stderr);
    let json = muster
        .run(&[
            "users",
            "create",
            "--user-name",
            ADMIN_EMAIL,
            "--email",
            "other@acme.test",
            "--json",
        ])
        .code(5)
        .json();
    assert_eq!(json["error"]["code"], "conflict");
}

#[test]
fn an_unreachable_server_exits_6() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let muster = Muster::new().env("MUSTER_TOKEN", "mst_api_whatever");
    let server = format!("http://127.0.0.1:{port}");
    muster
        .run(&[
            "profiles", "add", "down", "--server", &server, "--org", "acme",
        ])
        .success();
    let run = muster.run(&["users", "list"]).code(6);
    assert!(run.stderr.contains("Cannot reach"), "{}", run.stderr);
    let json = muster.run(&["users", "list", "--json"]).code(6).json();
    assert_eq!(json["error"]["code"], "offline");
}

#[test]
fn too_many_emails_exit_6_as_rate_limited() {
    let server = Server::start();
    let muster = server.muster();
    let id = user_id(&muster, ADMIN_EMAIL);
    for _ in 0..5 {
        muster.run(&["users", "send-magic-link", &id]).success();
    }
    let json = muster
        .run(&["users", "send-magic-link", &id, "--json"])
        .code(6)
        .json();
    assert_eq!(json["error"]["code"], "rateLimited");
    assert!(json["error"]["retryAfterSeconds"].as_u64().unwrap() > 0);
}

#[test]
fn invalid_input_exits_7_and_bad_usage_2() {
    let server = Server::start();
    let muster = server.muster();
    let json = muster
        .run(&[
            "users",
            "create",
            "--user-name",
            "bob",
            "--email",
            "bob@acme.test",
            "--role",
            "overlord",
            "--json",
        ])
        .code(7)
        .json();
    assert_eq!(json["error"]["code"], "validation");

    muster.run(&["users", "list", "--count", "many"]).code(2);
    muster
        .run(&["users", "list", "--filter", "userName eq"])
        .code(2);
    muster
        .run(&["users", "list", "--columns", "id,shoeSize"])
        .code(2);
    muster.run(&["users", "frobnicate"]).code(2);
    muster.run(&["users", "list", "--profile", "nope"]).code(2);
    Muster::new().run(&["users", "list"]).code(2);
}

#[test]
fn help_documents_the_exit_codes() {
    let help = Muster::new().run(&["--help"]).success();
    for line in [
        "3  authentication",
        "4  not found",
        "5  conflict",
        "6  network",
        "7  validation",
    ] {
        assert!(
            help.stdout.contains(line),
            "--help lists exit code '{line}'"
        );
    }
}
