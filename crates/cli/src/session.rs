//! `muster login` (sign in, say who you are and what the server supports) and
//! `muster discover` (each feature, and why one is unavailable).

use muster_core::actions::Action;
use muster_core::connection::ServerKind;
use muster_core::discovery::{Capabilities, Feature, Support};
use muster_core::query::ListQuery;
use serde::Serialize;
use serde_json::json;

use crate::Target;
use crate::failure::Failure;
use crate::output::{Output, Table, say, thousands};

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
    match target.profile.org.as_deref() {
        Some(org) => format!(
            "Profile {}: Muster server {}, organisation {org} (SCIM at {base}).",
            target.profile.name, target.profile.server
        ),
        None => format!("Profile {}: SCIM provider at {base}.", target.profile.name),
    }
}

/// `muster login`: signs in, checks the credentials with one request, and says who signed
/// in and what the server supports. Sessions are not kept yet, and it says so.
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
    let stored = "Sessions are not stored yet: each muster command signs in afresh (use \
                  MUSTER_TOKEN, or MUSTER_EMAIL with MUSTER_PASSWORD, in scripts).";
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
            "sessionStored": false,
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
        say!("Account actions: {}.", caps.actions.join(", "));
    }
    say!("{stored}");
    Ok(())
}
