//! `muster login` (sign in, keep the session in the OS keychain, say who you are and what
//! the server supports), `muster logout`, `muster sync` (the offline copy) and
//! `muster discover` (each feature, and why one is unavailable).

use muster_core::actions::Action;
use muster_core::connection::ServerKind;
use muster_core::discovery::{Capabilities, Feature, Support};
use muster_core::query::ListQuery;
use serde::Serialize;
use serde_json::json;

use muster_core::transport::TransportConfig;
use muster_core::{Client, Error};

use crate::Target;
use crate::failure::Failure;
use crate::offline;
use crate::output::{Output, Table, say, thousands};
use crate::profiles;

/// One feature and whether it can be used.
#[derive(Debug, Serialize)]
struct FeatureSupport {
    feature: String,
    #[serde(flatten)]
    support: Support,
}

/// Every feature the command line offers, with the provider's answer.
fn features(caps: &Capabilities) -> Vec<FeatureSupport> {
    let general = [
        ("patch", Feature::Patch),
        ("filter", Feature::Filter),
        ("sort", Feature::Sort),
        ("etag", Feature::Etag),
        ("bulk", Feature::Bulk),
        ("changePassword", Feature::ChangePassword),
        ("groups", Feature::Groups),
    ];
    general
        .into_iter()
        .map(|(name, feature)| FeatureSupport {
            feature: name.to_owned(),
            support: caps.supports(feature),
        })
        .chain(Action::NAMES.iter().map(|name| FeatureSupport {
            feature: format!("action {name}"),
            support: caps.supports(Feature::Action((*name).to_owned())),
        }))
        .collect()
}

/// `muster discover`.
pub async fn discover(target: &Target, out: &Output) -> Result<(), Failure> {
    let client = target.client().await?;
    let caps = client.discover().await?;
    let features = features(&caps);
    if out.json {
        return out.json(&json!({"capabilities": caps, "features": features}));
    }
    say!("{}", server_line(target, client.base()));
    if let Some(max) = caps.max_results {
        say!("At most {} results per page.", thousands(max));
    }
    say!();
    print_features(&features);
    if !caps.permissions.is_empty() {
        say!();
        let mut table = Table::new(["PERMISSION (users create|update --permissions)", "ALLOWS"]);
        for permission in &caps.permissions {
            table.row([
                permission.name.clone(),
                crate::output::one_line(&permission.description),
            ]);
        }
        table.print();
    }
    Ok(())
}

fn print_features(features: &[FeatureSupport]) {
    let mut table = Table::new(["FEATURE", "SUPPORTED", "WHY NOT"]);
    for f in features {
        let (yes, why) = match &f.support {
            Support::Yes => ("yes", String::new()),
            Support::No { reason } => ("no", reason.clone()),
        };
        table.row([f.feature.clone(), yes.to_owned(), why]);
    }
    table.print();
}

fn server_line(target: &Target, base: &str) -> String {
    match profiles::org(&target.profile) {
        Some(org) => format!(
            "Profile {}: Muster server {}, organisation {org} (SCIM at {base}).",
            target.profile.name, target.profile.url
        ),
        None => format!("Profile {}: SCIM provider at {base}.", target.profile.name),
    }
}

/// `muster logout`: ends the stored session at the server (best effort: a server that
/// cannot be reached is reported, and the session is forgotten here anyway), and deletes
/// the profile's keychain entries and its offline copy.
pub async fn logout(target: &Target, out: &Output) -> Result<(), Failure> {
    let name = &target.profile.name;
    let stored = target.vault.load_tokens(name)?;
    let had_session = stored.is_some();
    let mut warning = None;
    if let Some(tokens) = stored {
        let client = Client::from_tokens(
            profiles::connection(&target.profile)?,
            tokens,
            &TransportConfig::default(),
        )?;
        if let Err(error) = client.sign_out().await {
            warning = Some(format!(
                "The server was not told ({error}); the session is forgotten here anyway."
            ));
        }
    }
    target.vault.delete_profile(name)?;
    muster_core::cache::remove(&offline::path(name)?).map_err(Error::from)?;
    if let Some(warning) = &warning {
        eprintln!("Warning: {warning}");
    }
    out.value(
        &json!({"profile": name, "signedOut": had_session, "serverNotified": had_session && warning.is_none()}),
        || {
            if had_session {
                format!("Signed out of profile {name}; its stored session and offline copy are deleted.")
            } else {
                format!("Profile {name} had no stored session; its keychain entries and offline copy are deleted.")
            }
        },
    )
}

/// `muster sync`: brings the profile's encrypted offline copy up to date.
pub async fn sync(target: &Target, out: &Output) -> Result<(), Failure> {
    let client = target.client().await?;
    let report = offline::refresh(client, &target.vault, &target.profile.name).await?;
    out.value(
        &json!({"full": report.full, "fetched": report.fetched, "removed": report.removed,
                "idPass": report.id_pass, "partlyRead": report.partly_read,
                "unreadable": report.unreadable}),
        || {
            let kind = if report.full {
                "Full sync"
            } else {
                "Synced changes"
            };
            let mut text = format!(
                "{kind}: {} fetched, {} removed. The offline copy is up to date.",
                report.fetched, report.removed
            );
            if let Some(notice) = report.unread_notice() {
                text.push('\n');
                text.push_str(&notice.text);
            }
            text
        },
    )
}

/// `muster login`: signs in, checks the credentials with one request, keeps the session
/// in the OS keychain, and says who signed in and what the server supports.
pub async fn login(target: &Target, out: &Output) -> Result<(), Failure> {
    let client = target.client().await?;
    let caps = client.discover().await?;
    // Counting users proves the credentials work even where discovery is public.
    let count = client
        .users()
        .page(&ListQuery {
            count: Some(0),
            ..ListQuery::default()
        })
        .await?
        .total;
    let account = client.account().cloned();
    target
        .vault
        .store_tokens(&target.profile.name, &client.tokens().await)?;
    target.keep_session();
    let stored = format!(
        "The session is stored in the OS keychain: later commands with profile {} use it \
         until `muster logout`.",
        target.profile.name
    );
    if out.json {
        let account = account.as_ref().map(|a| {
            json!({"id": a.id, "displayName": a.display_name, "role": a.role,
                   "systemAdmin": a.system_admin})
        });
        return out.json(&json!({
            "profile": target.profile.name,
            "scimBase": client.base(),
            "account": account,
            "mustChangePassword": client.must_change_password(),
            "users": count,
            "capabilities": caps,
            "sessionStored": true,
        }));
    }
    match &account {
        Some(a) => {
            let role = if a.system_admin {
                "system admin".to_owned()
            } else {
                a.role.clone()
            };
            say!(
                "Signed in as {} ({role}).",
                crate::output::one_line(&a.display_name)
            );
        }
        None => say!("Signed in with the token in MUSTER_TOKEN."),
    }
    if client.must_change_password() {
        say!("The server asks for a new password before anything else.");
    }
    say!("{}", server_line(target, client.base()));
    if let Some(count) = count {
        say!("{} users.", thousands(count));
    }
    let mut offered: Vec<&str> = Vec::new();
    for (name, yes) in [
        ("patch", caps.patch),
        ("filter", caps.filter),
        ("sort", caps.sort),
        ("etag", caps.etag),
        ("bulk", caps.bulk.is_some()),
        ("changePassword", caps.change_password),
    ] {
        if yes {
            offered.push(name);
        }
    }
    say!("Supports: {}.", offered.join(", "));
    if caps.actions.is_empty() {
        let why = match client.connection().kind {
            ServerKind::Scim => "account actions need a Muster server",
            ServerKind::Muster { .. } => "the server offers none",
        };
        say!("Account actions: none ({why}).");
    } else {
        let names: Vec<&str> = caps.actions.iter().map(|a| a.name.as_str()).collect();
        say!("Account actions: {}.", names.join(", "));
    }
    say!("{stored}");
    Ok(())
}
