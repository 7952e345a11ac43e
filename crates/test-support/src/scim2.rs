//! scim2-server (python-scim, PyPI): the independent SCIM 2.0 provider the tests check
//! the engine and the app against. It comes from the `.venv` that `scripts/python-peers`
//! creates, and runs as a child process, in memory, with a bearer token.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use muster_core::Client;
use muster_core::connection::Connection;
use serde_json::{Value, json};

use crate::server::token_client;
use crate::{free_port, workspace};

/// scim2-server (python-scim, PyPI) as a child process: in memory, with a bearer token.
#[derive(Debug)]
pub struct Scim2 {
    /// Its SCIM base URL, `http://127.0.0.1:<port>/v2`.
    pub base: String,
    /// The bearer token it accepts.
    pub token: String,
    child: Child,
}

impl Scim2 {
    /// Starts scim2-server from `.venv`, and waits until it answers.
    pub async fn start() -> Self {
        let bin = workspace().join(".venv/bin/scim2-server");
        assert!(
            bin.exists(),
            "scim2-server is missing ({}): run scripts/python-peers to create the .venv with \
             the independent SCIM peers",
            bin.display()
        );
        let port = free_port();
        let token = format!("scim2-test-token-{port}");
        let child = Command::new(&bin)
            .args(["--hostname", "127.0.0.1", "--port", &port.to_string()])
            .args(["--bearer-token", &token])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("scim2-server starts");
        let mut server = Self {
            base: format!("http://127.0.0.1:{port}/v2"),
            token,
            child,
        };
        server.wait_until_up(port).await;
        server
    }

    async fn wait_until_up(&mut self, port: u16) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .is_ok()
            {
                return;
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("scim2-server exited at start ({status}); run scripts/python-peers");
            }
            assert!(
                Instant::now() < deadline,
                "scim2-server did not listen on port {port} within 30 s"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// A client with the server's bearer token.
    pub fn client(&self) -> Client {
        token_client(Connection::scim(&self.base), &self.token)
    }

    /// Creates `count` users through `/Bulk`, 1,000 operations a request: generated shop
    /// people with their core and enterprise attributes (scim2-server refuses attributes
    /// of schemas it does not serve). Returns their userNames.
    pub async fn seed_users(&self, count: usize) -> Vec<String> {
        self.seed_people("scim2-tests", "scim2.test", count).await
    }

    /// As [`Scim2::seed_users`], the people generated from seed `seed` with emails at
    /// `domain` (the same seed and domain as a muster-server org gives the same people).
    pub async fn seed_people(&self, seed: &str, domain: &str, count: usize) -> Vec<String> {
        let http = reqwest::Client::new();
        let mut rng = muster_server::demo::people_rng(seed);
        let mut names = Vec::with_capacity(count);
        let mut index = 0;
        while index < count {
            let batch = (count - index).min(1000);
            let operations: Vec<Value> = (index..index + batch)
                .map(|i| {
                    let mut doc = muster_server::demo::user_doc(&mut rng, domain, i);
                    if let Some(map) = doc.as_object_mut() {
                        map.remove(muster_scim::urn::SHOP_USER);
                    }
                    doc["schemas"] =
                        json!([muster_scim::urn::USER, muster_scim::urn::ENTERPRISE_USER]);
                    names.push(doc["userName"].as_str().unwrap_or_default().to_owned());
                    json!({"method": "POST", "path": "/Users", "bulkId": format!("u{i}"), "data": doc})
                })
                .collect();
            let body =
                json!({"schemas": [muster_scim::urn::BULK_REQUEST], "Operations": operations});
            let response = http
                .post(format!("{}/Bulk", self.base))
                .bearer_auth(&self.token)
                .header("content-type", "application/scim+json")
                .json(&body)
                .send()
                .await
                .expect("scim2-server answers /Bulk");
            let status = response.status();
            let answer: Value = response.json().await.expect("a bulk response");
            assert!(status.is_success(), "bulk seeding failed: {answer}");
            let failed = answer["Operations"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|op| !op["status"].as_str().unwrap_or("").starts_with('2'))
                .count();
            assert_eq!(failed, 0, "every bulk operation creates a user: {answer}");
            index += batch;
        }
        names
    }
}

impl Drop for Scim2 {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
