//! Signing in to a Muster server: password (then the TOTP step when the account has
//! two-factor), refresh, sign-out. Other SCIM providers take a static bearer token.

use serde::Deserialize;
use serde_json::json;

use crate::connection::Connection;
use crate::error::Error;
use crate::secret::Secret;
use crate::transport::Transport;

/// How to authenticate.
#[derive(Debug, Clone)]
pub enum Credentials {
    /// Email (or userName) and password at a Muster server.
    Password {
        /// Sign-in name.
        email: String,
        /// Password.
        password: Secret,
    },
    /// A bearer token: a Muster API token, or any provider's token.
    Token(Secret),
}

/// A signed-in session's tokens.
#[derive(Debug, Clone)]
pub struct Tokens {
    /// Bearer token for requests.
    pub access: Secret,
    /// Refresh token, for sessions that have one.
    pub refresh: Option<Secret>,
}

/// Who signed in, as the server says.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Account {
    /// SCIM id (or system admin id).
    pub id: String,
    /// Display name.
    pub display_name: String,
    /// Role: admin, technician, viewer.
    pub role: String,
    /// A system admin (reaches every organisation).
    pub system_admin: bool,
}

/// What a password sign-in gave.
#[derive(Debug)]
pub enum SignInStep {
    /// Signed in.
    Done {
        /// The session.
        tokens: Tokens,
        /// Who.
        account: Account,
        /// The password must be changed before anything else.
        must_change_password: bool,
        /// Two-factor must be set up before anything else (an admin of an organisation
        /// that requires it).
        mfa_enrollment_required: bool,
    },
    /// The account has two-factor: send a TOTP code with this challenge.
    MfaRequired {
        /// Single-use, short-lived.
        challenge: Secret,
    },
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct TokenAnswer {
    #[serde(default)]
    access_token: Option<String>,
    #[serde(default)]
    refresh_token: Option<String>,
    #[serde(default)]
    mfa_required: bool,
    #[serde(default)]
    challenge: Option<String>,
    #[serde(default)]
    user: Account,
    #[serde(default)]
    must_change_password: bool,
    #[serde(default)]
    mfa_enrollment_required: bool,
}

fn muster_only(connection: &Connection) -> Result<String, Error> {
    match connection.kind {
        crate::connection::ServerKind::Muster { .. } => Ok(connection.root()),
        crate::connection::ServerKind::Scim => Err(Error::Unsupported {
            message:
                "Password sign-in is for Muster servers; other SCIM providers take an API token."
                    .to_owned(),
        }),
    }
}

async fn post(
    transport: &Transport,
    url: String,
    body: serde_json::Value,
    bearer: Option<&Secret>,
) -> Result<TokenAnswer, Error> {
    let mut request = transport.http().post(url).json(&body);
    if let Some(token) = bearer {
        request = request.bearer_auth(token.expose());
    }
    let request = request
        .build()
        .map_err(|e| Error::protocol(format!("cannot build a request: {e}"), b""))?;
    // Sign-in is a POST: sent exactly once.
    transport.send(request, false).await?.json()
}

fn step(answer: TokenAnswer) -> Result<SignInStep, Error> {
    if answer.mfa_required {
        let challenge = answer
            .challenge
            .ok_or_else(|| Error::protocol("an MFA answer without a challenge", b""))?;
        return Ok(SignInStep::MfaRequired {
            challenge: Secret::new(challenge),
        });
    }
    let access = answer
        .access_token
        .ok_or_else(|| Error::protocol("a sign-in answer without an access token", b""))?;
    Ok(SignInStep::Done {
        tokens: Tokens {
            access: Secret::new(access),
            refresh: answer.refresh_token.map(Secret::new),
        },
        account: answer.user,
        must_change_password: answer.must_change_password,
        mfa_enrollment_required: answer.mfa_enrollment_required,
    })
}

/// Signs in with email and password.
pub async fn sign_in(
    transport: &Transport,
    connection: &Connection,
    email: &str,
    password: &Secret,
) -> Result<SignInStep, Error> {
    let root = muster_only(connection)?;
    let org = match &connection.kind {
        crate::connection::ServerKind::Muster { org } => org.clone(),
        crate::connection::ServerKind::Scim => String::new(),
    };
    let body = json!({"email": email, "password": password.expose(), "org": org});
    step(post(transport, format!("{root}/auth/token"), body, None).await?)
}

/// Completes a sign-in with the TOTP code.
pub async fn complete_mfa(
    transport: &Transport,
    connection: &Connection,
    challenge: &Secret,
    code: &str,
) -> Result<SignInStep, Error> {
    let root = muster_only(connection)?;
    let body = json!({"challenge": challenge.expose(), "code": code.trim()});
    step(post(transport, format!("{root}/auth/token"), body, None).await?)
}

/// Trades a refresh token for a new pair (the old refresh token stops working).
pub async fn refresh(
    transport: &Transport,
    connection: &Connection,
    refresh: &Secret,
) -> Result<Tokens, Error> {
    let root = muster_only(connection)?;
    let body = json!({"refreshToken": refresh.expose()});
    match step(post(transport, format!("{root}/auth/refresh"), body, None).await?)? {
        SignInStep::Done { tokens, .. } => Ok(tokens),
        SignInStep::MfaRequired { .. } => {
            Err(Error::protocol("a refresh asked for two-factor", b""))
        }
    }
}

/// Ends the session on the server.
pub async fn sign_out(
    transport: &Transport,
    connection: &Connection,
    access: &Secret,
) -> Result<(), Error> {
    let root = muster_only(connection)?;
    let request = transport
        .http()
        .post(format!("{root}/auth/logout"))
        .bearer_auth(access.expose())
        .json(&json!({}))
        .build()
        .map_err(|e| Error::protocol(format!("cannot build a request: {e}"), b""))?;
    transport.send(request, false).await.map(|_| ())
}
