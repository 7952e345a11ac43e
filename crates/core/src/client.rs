//! [`Client`]: a connection with credentials. Every SCIM call goes through
//! [`Client::send`], which adds the bearer token and, for a session with a refresh token,
//! refreshes once when the server answers 401 and tries again. Refreshes are serialised:
//! Muster's refresh tokens rotate, and two refreshes at once would look like token theft.

use std::sync::Arc;

use reqwest::Method;
use serde_json::Value;
use tokio::sync::Mutex;

use crate::auth::{self, Account, Credentials, SignInStep, Tokens};
use crate::connection::Connection;
use crate::error::Error;
use crate::secret::Secret;
use crate::transport::{Answer, RetryPolicy, Transport, TransportConfig};

/// A signed-in client, cheap to clone (clones share the session).
#[derive(Debug, Clone)]
pub struct Client {
    transport: Transport,
    connection: Connection,
    base: String,
    session: Arc<Mutex<Tokens>>,
    account: Option<Account>,
    must_change_password: bool,
    mfa_enrollment_required: bool,
}

/// What [`Client::sign_in`] gave.
#[derive(Debug)]
pub enum SignIn {
    /// Signed in.
    Done(Client),
    /// Two-factor is on: finish with [`MfaPending::complete`].
    MfaRequired(MfaPending),
}

/// A sign-in waiting for its TOTP code.
#[derive(Debug)]
pub struct MfaPending {
    transport: Transport,
    connection: Connection,
    challenge: Secret,
}

impl MfaPending {
    /// Sends the code from the authenticator app. A wrong code leaves the challenge open
    /// (until it expires), so the person can type the code again without the password.
    pub async fn complete(&self, code: &str) -> Result<Client, Error> {
        let step =
            auth::complete_mfa(&self.transport, &self.connection, &self.challenge, code).await?;
        match Client::from_step(self.transport.clone(), self.connection.clone(), step)? {
            SignIn::Done(client) => Ok(client),
            SignIn::MfaRequired(_) => Err(Error::protocol("two-factor was asked for twice", b"")),
        }
    }
}

/// Checks the connection and builds its transport; the connection's own CA certificate,
/// when it has one, wins over the config's.
fn transport_for(connection: &Connection, config: &TransportConfig) -> Result<Transport, Error> {
    connection.validate()?;
    let extra_ca_pem = connection
        .extra_ca_pem
        .clone()
        .or_else(|| config.extra_ca_pem.clone());
    Transport::new(&TransportConfig {
        extra_ca_pem,
        ..config.clone()
    })
}

/// What one request sends apart from its credentials, kept together so that a request
/// refused for an expired token is sent again as it was after the refresh.
struct RequestSpec<'a> {
    method: Method,
    path: &'a str,
    query: &'a [(&'a str, String)],
    body: Payload<'a>,
    if_match: Option<&'a str>,
    idempotent: bool,
}

/// A request's body: SCIM JSON, or bytes of a given type (a photo).
#[derive(Clone, Copy)]
enum Payload<'a> {
    None,
    Json(&'a Value),
    Bytes(&'a [u8], &'a str),
}

impl Client {
    /// Connects with credentials: a password sign-in at a Muster server (which may ask for
    /// a TOTP code), or a bearer token for any provider.
    pub async fn sign_in(
        connection: Connection,
        credentials: Credentials,
        config: &TransportConfig,
    ) -> Result<SignIn, Error> {
        let transport = transport_for(&connection, config)?;
        match credentials {
            Credentials::Token(token) => Ok(SignIn::Done(Self::with_tokens(
                transport,
                connection,
                Tokens {
                    access: token,
                    refresh: None,
                },
            ))),
            Credentials::Password { email, password } => {
                let step = auth::sign_in(&transport, &connection, &email, &password).await?;
                Self::from_step(transport, connection, step)
            }
        }
    }

    /// A client over tokens already held (a bearer token, or a stored session).
    pub fn from_tokens(
        connection: Connection,
        tokens: Tokens,
        config: &TransportConfig,
    ) -> Result<Self, Error> {
        let transport = transport_for(&connection, config)?;
        Ok(Self::with_tokens(transport, connection, tokens))
    }

    fn with_tokens(transport: Transport, connection: Connection, tokens: Tokens) -> Self {
        let base = connection.scim_base();
        Self {
            transport,
            connection,
            base,
            session: Arc::new(Mutex::new(tokens)),
            account: None,
            must_change_password: false,
            mfa_enrollment_required: false,
        }
    }

    fn from_step(
        transport: Transport,
        connection: Connection,
        step: SignInStep,
    ) -> Result<SignIn, Error> {
        match step {
            SignInStep::Done {
                tokens,
                account,
                must_change_password,
                mfa_enrollment_required,
            } => {
                let mut client = Self::with_tokens(transport, connection, tokens);
                client.account = Some(account);
                client.must_change_password = must_change_password;
                client.mfa_enrollment_required = mfa_enrollment_required;
                Ok(SignIn::Done(client))
            }
            SignInStep::MfaRequired { challenge } => Ok(SignIn::MfaRequired(MfaPending {
                transport,
                connection,
                challenge,
            })),
        }
    }

    /// The retry policy of this client's transport.
    pub fn retry_policy(&self) -> RetryPolicy {
        self.transport.retry_policy()
    }

    /// A client sharing this one's session and connections whose transport retries per
    /// `retry`. The bulk runner uses one that hands a 429 straight back (a
    /// `max_retry_after` of zero), so it can pause all its workers together rather than
    /// each waiting alone.
    pub fn with_retry(&self, retry: RetryPolicy) -> Client {
        Client {
            transport: self.transport.with_retry(retry),
            ..self.clone()
        }
    }

    /// Where this client is connected.
    pub fn connection(&self) -> &Connection {
        &self.connection
    }

    /// The SCIM base URL.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// Who signed in, for password sign-ins.
    pub fn account(&self) -> Option<&Account> {
        self.account.as_ref()
    }

    /// Whether the server asked for a new password before anything else.
    pub fn must_change_password(&self) -> bool {
        self.must_change_password
    }

    /// Whether the server asked for two-factor to be set up before anything else.
    pub fn mfa_enrollment_required(&self) -> bool {
        self.mfa_enrollment_required
    }

    /// Whether a 401 can still be answered with a refresh: false for a bearer token, and
    /// once the server has refused the refresh token (the session is over).
    pub async fn can_refresh(&self) -> bool {
        self.session.lock().await.refresh.is_some()
    }

    /// Whether `other` is this client or a clone of it (one session, shared).
    pub fn same_session(&self, other: &Client) -> bool {
        Arc::ptr_eq(&self.session, &other.session)
    }

    /// The current tokens (for keeping a session in the OS keychain).
    pub async fn tokens(&self) -> Tokens {
        self.session.lock().await.clone()
    }

    /// Ends the session at a Muster server; a bearer-token client has nothing to end.
    /// Once the server has ended it (or says it already had), this client forgets its
    /// refresh token, so later calls fail as Unauthorized instead of trying to refresh.
    pub async fn sign_out(&self) -> Result<(), Error> {
        let mut session = self.session.lock().await;
        if session.refresh.is_none() {
            return Ok(());
        }
        match auth::sign_out(&self.transport, &self.connection, &session.access).await {
            Ok(()) | Err(Error::Unauthorized { .. }) => {
                session.refresh = None;
                Ok(())
            }
            Err(other) => Err(other),
        }
    }

    /// Sends a request to `path` under the SCIM base (`/Users`, `/Users/{id}`…; a path
    /// starting with `http` is used as it is). `idempotent` allows retries (GET, PUT,
    /// DELETE, PATCH with If-Match). On a 401 a session with a refresh token refreshes once
    /// and tries again.
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<&Value>,
        if_match: Option<&str>,
        idempotent: bool,
    ) -> Result<Answer, Error> {
        let spec = RequestSpec {
            method,
            path,
            query,
            body: body.map_or(Payload::None, Payload::Json),
            if_match,
            idempotent,
        };
        self.send_spec(&spec).await
    }

    /// Sends `bytes` of type `content_type` to `path` (a photo upload): as
    /// [`Client::send`], retried only when the method is idempotent.
    pub async fn send_bytes(
        &self,
        method: Method,
        path: &str,
        bytes: &[u8],
        content_type: &str,
        if_match: Option<&str>,
    ) -> Result<Answer, Error> {
        let idempotent = method.is_idempotent();
        let spec = RequestSpec {
            method,
            path,
            query: &[],
            body: Payload::Bytes(bytes, content_type),
            if_match,
            idempotent,
        };
        self.send_spec(&spec).await
    }

    async fn send_spec(&self, spec: &RequestSpec<'_>) -> Result<Answer, Error> {
        let used = self.session.lock().await.access.clone();
        match self.send_with(&used, spec).await {
            Err(Error::Unauthorized { message }) => {
                if !self.refresh_after(&used).await? {
                    return Err(Error::Unauthorized { message });
                }
                let fresh = self.session.lock().await.access.clone();
                self.send_with(&fresh, spec).await
            }
            other => other,
        }
    }

    /// A URL under the Muster server root (for `/o/{org}/…` endpoints that are not SCIM).
    pub fn root(&self) -> String {
        self.connection.root()
    }

    async fn send_with(&self, token: &Secret, spec: &RequestSpec<'_>) -> Result<Answer, Error> {
        let path = spec.path;
        let url = if path.starts_with("http://") || path.starts_with("https://") {
            same_origin(&self.base, path)?
        } else {
            format!("{}{path}", self.base)
        };
        let mut request = self
            .transport
            .http()
            .request(spec.method.clone(), url)
            .bearer_auth(token.expose())
            .header(
                reqwest::header::ACCEPT,
                "application/scim+json, application/json",
            );
        if !spec.query.is_empty() {
            request = request.query(spec.query);
        }
        match spec.body {
            Payload::None => {}
            Payload::Json(body) => {
                let bytes = serde_json::to_vec(body)
                    .map_err(|e| Error::protocol(format!("cannot encode the request: {e}"), b""))?;
                request = request
                    .header(reqwest::header::CONTENT_TYPE, "application/scim+json")
                    .body(bytes);
            }
            Payload::Bytes(bytes, content_type) => {
                request = request
                    .header(reqwest::header::CONTENT_TYPE, content_type)
                    .body(bytes.to_vec());
            }
        }
        if let Some(tag) = spec.if_match {
            request = request.header(reqwest::header::IF_MATCH, tag);
        }
        let request = request
            .build()
            .map_err(|e| Error::protocol(format!("cannot build a request: {e}"), b""))?;
        self.transport.send(request, spec.idempotent).await
    }

    /// Refreshes the session unless another caller already did since `used` failed.
    /// Returns whether there is a new access token to try.
    ///
    /// The session lock is held across the refresh, so concurrent callers wait for the
    /// one refresh and then use its token. The refresh itself runs in its own task, to the
    /// end even if this caller is dropped: the server rotates the refresh token as it
    /// answers, and an answer lost to a cancelled future would leave a spent token here
    /// whose next use signs the whole session out as a suspected theft.
    async fn refresh_after(&self, used: &Secret) -> Result<bool, Error> {
        let mut session = self.session.clone().lock_owned().await;
        if session.access != *used {
            return Ok(true);
        }
        let Some(refresh) = session.refresh.clone() else {
            return Ok(false);
        };
        let (transport, connection) = (self.transport.clone(), self.connection.clone());
        let task = tokio::spawn(async move {
            match auth::refresh(&transport, &connection, &refresh).await {
                Ok(tokens) => {
                    *session = tokens;
                    Ok(())
                }
                Err(Error::Unauthorized { message }) => {
                    // The session is over; do not offer the dead token again.
                    session.refresh = None;
                    Err(Error::Unauthorized {
                        message: format!("The session has ended: {message}"),
                    })
                }
                Err(other) => Err(other),
            }
        });
        match task.await {
            Ok(result) => result.map(|()| true),
            Err(join) if join.is_panic() => std::panic::resume_unwind(join.into_panic()),
            Err(_) => Err(Error::Offline {
                host: reqwest::Url::parse(&self.connection.root())
                    .ok()
                    .and_then(|url| url.host_str().map(str::to_owned))
                    .unwrap_or_else(|| "the server".to_owned()),
                reason: "the refresh was cancelled as the app shut down".to_owned(),
            }),
        }
    }
}

/// `url` when it has the scheme, host and port of `base`: an address the server gives
/// (a `Location`, a `meta.location`) is followed with the session's token only within the
/// connection's own origin, never to another host or down from HTTPS.
fn same_origin(base: &str, url: &str) -> Result<String, Error> {
    let origin = |text: &str| {
        url::Url::parse(text)
            .ok()
            .map(|parsed| parsed.origin())
            .filter(url::Origin::is_tuple)
    };
    match (origin(base), origin(url)) {
        (Some(ours), Some(theirs)) if ours == theirs => Ok(url.to_owned()),
        _ => Err(Error::protocol(
            format!(
                "the server pointed at another address ({}), where Muster does not send \
                 the session's credentials",
                crate::error::excerpt(url.as_bytes())
            ),
            b"",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_followed_only_within_the_origin() {
        let base = "https://muster.example/o/acme/scim/v2";
        let ok = "https://muster.example:443/o/acme/scim/v2/Users/1";
        assert_eq!(same_origin(base, ok).ok().as_deref(), Some(ok));
        for elsewhere in [
            "https://other.example/o/acme/scim/v2/Users/1",
            "http://muster.example/o/acme/scim/v2/Users/1",
            "https://muster.example:8443/o/acme/scim/v2/Users/1",
            "not a url",
        ] {
            assert!(
                matches!(same_origin(base, elsewhere), Err(Error::Protocol { .. })),
                "{elsewhere} is refused"
            );
        }
    }
}
