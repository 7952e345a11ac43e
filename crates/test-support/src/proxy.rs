//! A small fault-injecting HTTP/1.1 proxy ([`Proxy`]) in front of a real server.
//!
//! The proxy hands each request to the real server and its answer back, byte for byte,
//! unless the test scripted a [`Fault`] for that request's number. The faults are the ones
//! a real server cannot be made to produce on demand: a stall, an answer cut off mid-body,
//! a 503 or 429 (with or without `Retry-After`), a 200 whose body is not JSON, and the
//! server dying mid-answer. Those answers are canned here, so they are a mock by
//! necessity; every other answer, and the first half of a cut one, is the real server's.
//!
//! It speaks just enough HTTP/1.1 for reqwest: one request per connection (a
//! `Content-Length` body; the engine never sends chunked requests), and every answer says
//! `connection: close`, so no pooled connection is ever reused across a fault.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::AbortHandle;

/// What the proxy does with one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// Hand it to the server and the answer back.
    Pass,
    /// Read the request, then never answer; the connection stays open until the client
    /// gives up (its timeout) or a minute passes.
    Stall,
    /// Hand it to the server, then send the answer's head and half its body, and close.
    /// The server did the work; the client cannot know it.
    CutMidBody,
    /// Answer this status without asking the server, with a SCIM error body and, when
    /// given, this `Retry-After` value.
    Status {
        /// HTTP status.
        status: u16,
        /// `Retry-After` header value.
        retry_after: Option<String>,
    },
    /// Answer 200 with this body (claimed to be `application/scim+json`) without asking
    /// the server.
    Body(String),
    /// Hold the request this long, then hand it to the server and the answer back: a
    /// server that stalls and then carries on.
    Delay(Duration),
    /// As the server's process dying while it answers: send the answer's head and half
    /// its body, then drop every open connection and close the port, so that retries and
    /// later requests are refused until [`Proxy::revive`].
    Kill,
}

impl Fault {
    /// 503 with no `Retry-After`.
    pub fn unavailable() -> Self {
        Self::Status {
            status: 503,
            retry_after: None,
        }
    }

    /// An answer of `status` with `Retry-After: seconds`.
    pub fn retry_after(status: u16, seconds: u64) -> Self {
        Self::Status {
            status,
            retry_after: Some(seconds.to_string()),
        }
    }
}

/// One request the proxy saw.
#[derive(Debug, Clone)]
pub struct Seen {
    /// `GET`, `POST`…
    pub method: String,
    /// Path and query.
    pub target: String,
    /// Whether it carried `If-Match`.
    pub if_match: bool,
    /// What the proxy did with it.
    pub fault: Fault,
}

#[derive(Debug, Default)]
struct Log {
    /// Faults for the coming requests, in order; when empty, requests pass.
    script: VecDeque<Fault>,
    seen: Vec<Seen>,
    /// What [`Proxy::rewrite`] spoils in the answers that pass.
    rewrites: Vec<Rewrite>,
}

/// See [`Proxy::rewrite`].
#[derive(Debug, Clone)]
struct Rewrite {
    path: String,
    from: String,
    to: String,
}

/// What the proxy's tasks share.
#[derive(Debug)]
struct Shared {
    upstream: SocketAddr,
    log: Mutex<Log>,
    /// The accepting task and every connection's, for [`Fault::Kill`].
    tasks: Mutex<Vec<AbortHandle>>,
}

impl Shared {
    fn lock(&self) -> std::sync::MutexGuard<'_, Log> {
        self.log.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Drops every connection and the listener: the port refuses from now on.
    fn kill(&self) {
        for task in self
            .tasks
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .drain(..)
        {
            task.abort();
        }
    }

    fn accept(self: &Arc<Self>, listener: TcpListener) {
        let shared = self.clone();
        let accept = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let inner = shared.clone();
                let task = tokio::spawn(async move {
                    // A client that hangs up early is part of the game, not a failure.
                    let _ = serve(client, inner).await;
                });
                let mut tasks = shared.tasks.lock().unwrap_or_else(PoisonError::into_inner);
                tasks.retain(|t| !t.is_finished());
                tasks.push(task.abort_handle());
            }
        });
        self.tasks
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(accept.abort_handle());
    }
}

/// A fault-injecting proxy on a loopback port.
#[derive(Debug)]
pub struct Proxy {
    /// `http://127.0.0.1:<port>`.
    pub base: String,
    addr: SocketAddr,
    shared: Arc<Shared>,
}

impl Proxy {
    /// Starts a proxy in front of `upstream`, passing everything until [`Proxy::script`].
    pub async fn start(upstream: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a loopback port for the proxy");
        let addr = listener.local_addr().expect("the proxy's address");
        let shared = Arc::new(Shared {
            upstream,
            log: Mutex::new(Log::default()),
            tasks: Mutex::new(Vec::new()),
        });
        shared.accept(listener);
        Self {
            base: format!("http://{addr}"),
            addr,
            shared,
        }
    }

    /// Opens the port again after a [`Fault::Kill`]: the server is
    /// back, at the same address.
    pub async fn revive(&self) {
        let listener = TcpListener::bind(self.addr)
            .await
            .expect("the proxy's port can be bound again");
        self.shared.accept(listener);
    }

    /// Sets what the next requests meet, in order (then they pass), and forgets the
    /// requests seen so far, so counts start again from zero.
    pub fn script(&self, faults: impl IntoIterator<Item = Fault>) {
        let mut log = self.lock();
        log.script = faults.into_iter().collect();
        log.seen.clear();
    }

    /// From now on, in each answer that passes to a request whose path and query hold
    /// `path`, replaces the first `from` in the body with `to`: the server's real answers,
    /// with one value spoilt as a faulty provider's would be. Answers without `from` pass
    /// unchanged. Adds to the rewrites asked for before.
    pub fn rewrite(&self, path: &str, from: &str, to: &str) {
        self.lock().rewrites.push(Rewrite {
            path: path.to_owned(),
            from: from.to_owned(),
            to: to.to_owned(),
        });
    }

    /// Lets answers pass unchanged again after [`Proxy::rewrite`].
    pub fn stop_rewriting(&self) {
        self.lock().rewrites.clear();
    }

    /// How many requests with this method arrived since the last [`Proxy::script`].
    pub fn count(&self, method: &str) -> usize {
        self.lock()
            .seen
            .iter()
            .filter(|seen| seen.method.eq_ignore_ascii_case(method))
            .count()
    }

    /// Every request seen since the last [`Proxy::script`], in arrival order.
    pub fn seen(&self) -> Vec<Seen> {
        self.lock().seen.clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Log> {
        self.shared.lock()
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.shared.kill();
    }
}

/// A request as read off the wire.
struct Request {
    method: String,
    target: String,
    /// Header lines as received, without the request line.
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Request {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }

    /// The request as bytes for the server, asking it to close after answering.
    fn to_upstream(&self) -> Vec<u8> {
        let mut out = format!("{} {} HTTP/1.1\r\n", self.method, self.target);
        for (name, value) in &self.headers {
            if !name.eq_ignore_ascii_case("connection") && !name.eq_ignore_ascii_case("keep-alive")
            {
                out.push_str(&format!("{name}: {value}\r\n"));
            }
        }
        out.push_str("connection: close\r\n\r\n");
        let mut bytes = out.into_bytes();
        bytes.extend_from_slice(&self.body);
        bytes
    }
}

async fn serve(mut client: TcpStream, shared: Arc<Shared>) -> std::io::Result<()> {
    let upstream = shared.upstream;
    let Some(request) = read_request(&mut client).await? else {
        return Ok(());
    };
    let fault = {
        let mut log = shared.lock();
        let fault = log.script.pop_front().unwrap_or(Fault::Pass);
        log.seen.push(Seen {
            method: request.method.clone(),
            target: request.target.clone(),
            if_match: request.header("if-match").is_some(),
            fault: fault.clone(),
        });
        fault
    };
    match fault {
        Fault::Pass => {
            let mut answer = forward(upstream, &request).await?;
            let rules = shared.lock().rewrites.clone();
            for rule in rules
                .iter()
                .filter(|rule| request.target.contains(&rule.path))
            {
                answer = rewritten(&answer, &rule.from, &rule.to);
            }
            client.write_all(&answer).await?;
        }
        Fault::Stall => {
            // Wait for the client to hang up (read gives 0 or fails), bounded by a minute.
            let mut sink = [0u8; 1024];
            let _ = tokio::time::timeout(Duration::from_secs(60), async {
                while let Ok(read) = client.read(&mut sink).await {
                    if read == 0 {
                        break;
                    }
                }
            })
            .await;
            return Ok(());
        }
        Fault::CutMidBody => {
            let answer = forward(upstream, &request).await?;
            client.write_all(cut_mid_body(&answer)).await?;
        }
        Fault::Status {
            status,
            retry_after,
        } => {
            let reason = match status {
                429 => "Too Many Requests",
                502 => "Bad Gateway",
                503 => "Service Unavailable",
                504 => "Gateway Timeout",
                _ => "Injected",
            };
            let body = json!({
                "schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"],
                "status": status.to_string(),
                "detail": format!("{reason} (injected by the test proxy)."),
            })
            .to_string();
            let mut extra = Vec::new();
            if let Some(after) = retry_after {
                extra.push(("retry-after", after));
            }
            client
                .write_all(&canned(status, reason, &extra, body.as_bytes()))
                .await?;
        }
        Fault::Body(body) => {
            client
                .write_all(&canned(200, "OK", &[], body.as_bytes()))
                .await?;
        }
        Fault::Delay(delay) => {
            tokio::time::sleep(delay).await;
            let answer = forward(upstream, &request).await?;
            client.write_all(&answer).await?;
        }
        Fault::Kill => {
            let answer = forward(upstream, &request).await?;
            client.write_all(cut_mid_body(&answer)).await?;
            client.flush().await?;
            shared.kill();
            // Dropped here, unfinished, with every other connection.
            return Ok(());
        }
    }
    client.flush().await?;
    client.shutdown().await
}

/// Reads one request: head up to the blank line, then `Content-Length` bytes of body.
/// `None` when the client hung up before sending one.
async fn read_request(client: &mut TcpStream) -> std::io::Result<Option<Request>> {
    let mut buffer = Vec::with_capacity(4096);
    let mut chunk = [0u8; 4096];
    let head = loop {
        if let Some(end) = head_end(&buffer) {
            break end;
        }
        if buffer.len() > 64 * 1024 {
            return Err(std::io::Error::other("request head too large"));
        }
        let read = client.read(&mut chunk).await?;
        if read == 0 {
            return Ok(None);
        }
        buffer.extend_from_slice(&chunk[..read]);
    };
    let text = String::from_utf8_lossy(&buffer[..head]).into_owned();
    let mut lines = text.split("\r\n").filter(|line| !line.is_empty());
    let mut request_line = lines.next().unwrap_or_default().split(' ');
    let method = request_line.next().unwrap_or_default().to_owned();
    let target = request_line.next().unwrap_or_default().to_owned();
    let headers: Vec<(String, String)> = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.trim().to_owned(), value.trim().to_owned()))
        .collect();
    let length = headers
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, value)| value.parse::<usize>().ok())
        .unwrap_or(0);
    let mut body = buffer[head..].to_vec();
    while body.len() < length {
        let read = client.read(&mut chunk).await?;
        if read == 0 {
            return Ok(None);
        }
        body.extend_from_slice(&chunk[..read]);
    }
    body.truncate(length);
    Ok(Some(Request {
        method,
        target,
        headers,
        body,
    }))
}

/// The server's whole answer, with its head rewritten to say `connection: close`.
async fn forward(upstream: SocketAddr, request: &Request) -> std::io::Result<Vec<u8>> {
    let mut server = TcpStream::connect(upstream).await?;
    server.write_all(&request.to_upstream()).await?;
    let mut answer = Vec::new();
    server.read_to_end(&mut answer).await?;
    let head = head_end(&answer).ok_or_else(|| std::io::Error::other("no answer head"))?;
    let mut rewritten = String::new();
    for (name, line) in head_lines(&answer[..head]) {
        if !name.eq_ignore_ascii_case("connection") && !name.eq_ignore_ascii_case("keep-alive") {
            rewritten.push_str(&line);
            rewritten.push_str("\r\n");
        }
    }
    rewritten.push_str("connection: close\r\n\r\n");
    let mut out = rewritten.into_bytes();
    out.extend_from_slice(&answer[head..]);
    Ok(out)
}

/// An answer's head and the first half of its body.
fn cut_mid_body(answer: &[u8]) -> &[u8] {
    let head = head_end(answer).unwrap_or(answer.len());
    &answer[..head + (answer.len() - head) / 2]
}

/// `answer` with the first `from` in its body replaced by `to`, and its length told again.
///
/// # Panics
///
/// When the body is sent in chunks: the test is wrong.
fn rewritten(answer: &[u8], from: &str, to: &str) -> Vec<u8> {
    let head = head_end(answer).expect("an answer head");
    let body = String::from_utf8_lossy(&answer[head..]);
    if !body.contains(from) {
        return answer.to_vec();
    }
    let body = body.replacen(from, to, 1);
    let mut out = String::new();
    for (name, line) in head_lines(&answer[..head]) {
        assert!(
            !name.eq_ignore_ascii_case("transfer-encoding"),
            "a chunked answer cannot be rewritten"
        );
        if name.eq_ignore_ascii_case("content-length") {
            out.push_str(&format!("content-length: {}\r\n", body.len()));
        } else {
            out.push_str(&line);
            out.push_str("\r\n");
        }
    }
    out.push_str("\r\n");
    out.push_str(&body);
    out.into_bytes()
}

/// The lines of an answer's head (the status line too), each with its header's name.
fn head_lines(head: &[u8]) -> Vec<(String, String)> {
    String::from_utf8_lossy(head)
        .split("\r\n")
        .filter(|line| !line.is_empty())
        .map(|line| {
            let name = line.split(':').next().unwrap_or_default().trim();
            (name.to_owned(), line.to_owned())
        })
        .collect()
}

/// Where the head ends (just after the blank line), if it has.
fn head_end(bytes: &[u8]) -> Option<usize> {
    bytes
        .windows(4)
        .position(|window| window == b"\r\n\r\n")
        .map(|at| at + 4)
}

fn canned(status: u16, reason: &str, headers: &[(&str, String)], body: &[u8]) -> Vec<u8> {
    let mut head = format!(
        "HTTP/1.1 {status} {reason}\r\ncontent-type: application/scim+json\r\n\
         content-length: {}\r\nconnection: close\r\n",
        body.len()
    );
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    let mut out = head.into_bytes();
    out.extend_from_slice(body);
    out
}
