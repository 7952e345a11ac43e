//! `muster tokens ...`: list, issue and revoke the organisation's API tokens (admins, at
//! a Muster server). A token's secret is printed once, when it is issued: alone on
//! stdout (so a script can capture it), with the warning on stderr.

use clap::Subcommand;
use muster_core::tokens::{ApiToken, NewApiToken, TokenScope};
use serde_json::json;

use crate::Target;
use crate::failure::Failure;
use crate::output::{Output, Table, one_line, say};

/// `muster tokens ...`.
#[derive(Debug, Subcommand)]
pub enum TokensCommand {
    /// List the organisation's API tokens (never their secrets).
    List,
    /// Issue an API token for an API-licence account (not your own); needs a sign-in
    /// within the last 10 minutes. The token is printed once.
    Create {
        /// The id of the API-licence account the token acts as.
        #[arg(long = "user", value_name = "USER_ID")]
        user: String,
        /// What it is for, e.g. "Entra ID provisioning".
        #[arg(long)]
        name: String,
        /// read (the default: reads as a viewer) or provision (reads and writes).
        #[arg(long, default_value = "read", value_parser = scope_arg)]
        scope: TokenScope,
        /// How many days it works, 1 to 365 (default: the server's, 90).
        #[arg(long, value_name = "DAYS")]
        days: Option<u32>,
    },
    /// Revoke an API token: it stops working at once.
    Revoke {
        /// The token's id (from `muster tokens list`).
        id: String,
    },
}

fn scope_arg(text: &str) -> Result<TokenScope, String> {
    TokenScope::parse(text).ok_or_else(|| "expected read or provision".to_owned())
}

/// Runs `muster tokens ...`.
pub async fn run(command: TokensCommand, target: &Target, out: &Output) -> Result<(), Failure> {
    let client = target.client().await?;
    let tokens = client.api_tokens();
    match command {
        TokensCommand::List => {
            let list = tokens.list().await?;
            if out.json {
                return out.json(&list);
            }
            if list.is_empty() {
                say!("No API tokens.");
                return Ok(());
            }
            let now = time::OffsetDateTime::now_utc();
            let mut table = Table::new([
                "ID",
                "NAME",
                "USER",
                "SCOPE",
                "CREATED",
                "EXPIRES",
                "LAST USED",
            ]);
            for token in &list {
                table.row(row(token, now));
            }
            table.print();
            Ok(())
        }
        TokensCommand::Create {
            user,
            name,
            scope,
            days,
        } => {
            let new = NewApiToken {
                user_id: user,
                name,
                scope,
                days,
            };
            let issued = tokens.create(&new, time::OffsetDateTime::now_utc()).await?;
            let listed = &issued.token;
            if out.json {
                let mut value = serde_json::to_value(listed).map_err(|error| {
                    Failure::Local(format!("Cannot encode the answer: {error}."))
                })?;
                value["secret"] = json!(issued.secret.expose());
                return out.json(&value);
            }
            eprintln!(
                "Issued the API token {} ({}) for {}, scope {}, expiring {}. Copy it now: \
                 it is not shown again.",
                one_line(&listed.name),
                listed.id,
                listed.user_id,
                listed.scope,
                listed.expires_at.as_deref().unwrap_or("never"),
            );
            say!("{}", issued.secret.expose());
            Ok(())
        }
        TokensCommand::Revoke { id } => {
            tokens.revoke(&id).await?;
            out.value(&json!({"revoked": id}), || {
                format!("Revoked the API token {id}.")
            })
        }
    }
}

fn row(token: &ApiToken, now: time::OffsetDateTime) -> [String; 7] {
    let expires = match token.expires_at.as_deref() {
        None => "never".to_owned(),
        Some(at) if token.expired(now) => format!("{at} (expired)"),
        Some(at) => at.to_owned(),
    };
    [
        token.id.clone(),
        one_line(&token.name),
        token.user_id.clone(),
        token.scope.to_string(),
        token.created_at.clone(),
        expires,
        token.last_used_at.clone().unwrap_or_else(|| "never".into()),
    ]
}
