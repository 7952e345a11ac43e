//! `muster audit`: the organisation's audit log (a Muster server's), filtered as in the
//! app — by actor, target, action, outcome and time — newest first, as a table, JSON or
//! CSV (formula-safe cells, for a spreadsheet).

use std::io::Write;
use std::path::{Path, PathBuf};

use clap::Args;
use muster_core::audit::{AuditEntryView, AuditQuery, MAX_PAGE};
use muster_core::csv::Writer;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::Target;
use crate::failure::Failure;
use crate::output::{Output, Progress, Table, one_line, say, thousands};
use crate::users::hours_arg;

/// `muster audit`.
#[derive(Debug, Args)]
pub struct AuditArgs {
    /// Only what this user (id) did.
    #[arg(long, value_name = "USER_ID")]
    actor: Option<String>,
    /// Only what was done to this user (id).
    #[arg(long, value_name = "USER_ID")]
    target: Option<String>,
    /// Only this action, e.g. user.suspend or auth.sign_in.
    #[arg(long)]
    action: Option<String>,
    /// Only this outcome: success, denied or failed.
    #[arg(long, value_parser = ["success", "denied", "failed"])]
    outcome: Option<String>,
    /// From: an RFC 3339 time, a date (2026-12-01), or a while ago (24h, 7d).
    #[arg(long, value_name = "WHEN", value_parser = when_arg)]
    since: Option<String>,
    /// Until: as --since (a date means the end of that day).
    #[arg(long, value_name = "WHEN", value_parser = until_arg)]
    until: Option<String>,
    /// How many entries, newest first (default 50).
    #[arg(long, value_name = "N", default_value_t = 50, conflicts_with = "all")]
    count: u32,
    /// Every matching entry, page after page.
    #[arg(long)]
    all: bool,
    /// Write the entries as CSV to this file ("-" for stdout) instead of a table.
    #[arg(long, value_name = "FILE")]
    csv: Option<PathBuf>,
}

/// `--until` as RFC 3339: as [`when_arg`], but a bare date means the end of that day
/// (its last second), so `--until 2026-12-01` takes in the 1st.
pub fn until_arg(text: &str) -> Result<String, String> {
    let date_format = time::macros::format_description!("[year]-[month]-[day]");
    match time::Date::parse(text.trim(), &date_format) {
        Ok(date) => date
            .with_hms(23, 59, 59)
            .map_err(|error| error.to_string())?
            .assume_utc()
            .format(&Rfc3339)
            .map_err(|error| error.to_string()),
        Err(_) => when_arg(text),
    }
}

/// `--since`/`--until` as RFC 3339: a time as given, a date at midnight UTC, or a
/// while back from now with its unit (`24h`, `7d`; a bare number is not taken, as `2026`
/// could be a year).
pub fn when_arg(text: &str) -> Result<String, String> {
    let text = text.trim();
    if OffsetDateTime::parse(text, &Rfc3339).is_ok() {
        return Ok(text.to_owned());
    }
    let date_format = time::macros::format_description!("[year]-[month]-[day]");
    if let Ok(date) = time::Date::parse(text, &date_format) {
        return date
            .midnight()
            .assume_utc()
            .format(&Rfc3339)
            .map_err(|error| error.to_string());
    }
    let unit = text.ends_with(['h', 'H', 'd', 'D']);
    let hours = hours_arg(text).ok().filter(|_| unit).ok_or_else(|| {
        format!("'{text}' is not a time: use 2026-12-01T09:00:00Z, 2026-12-01, or 24h or 7d ago.")
    })?;
    (OffsetDateTime::now_utc() - time::Duration::hours(i64::from(hours)))
        .format(&Rfc3339)
        .map_err(|error| error.to_string())
}

/// Runs `muster audit`.
pub async fn run(args: AuditArgs, target: &Target, out: &Output) -> Result<(), Failure> {
    let client = target.client().await?;
    let log = client.audit();
    let wanted = if args.all {
        u32::MAX
    } else {
        args.count.max(1)
    };
    let mut query = AuditQuery {
        actor: args.actor,
        target: args.target,
        action: args.action,
        outcome: args.outcome,
        since: args.since,
        until: args.until,
        offset: 0,
        limit: wanted.min(MAX_PAGE),
    };
    let mut entries: Vec<AuditEntryView> = Vec::new();
    let mut total;
    let mut progress = Progress::on_terminal();
    loop {
        let page = log.page(&query).await?;
        total = page.total;
        let got = u32::try_from(page.entries.len()).unwrap_or(u32::MAX);
        entries.extend(page.entries);
        progress.update(entries.len() as u64, Some(total.into()));
        let have = u32::try_from(entries.len()).unwrap_or(u32::MAX);
        if got == 0 || have >= wanted || have >= total {
            break;
        }
        query.offset = have;
        query.limit = (wanted - have).min(MAX_PAGE);
    }
    progress.finish();
    if let Some(path) = &args.csv {
        return write_csv(path, &entries);
    }
    if out.json {
        return out.json(&entries);
    }
    if entries.is_empty() {
        say!("No audit entries match.");
        return Ok(());
    }
    let mut table = Table::new(["AT", "ACTOR", "ACTION", "TARGET", "OUTCOME", "DETAIL"]);
    for entry in &entries {
        table.row([
            entry.at.clone(),
            one_line(&entry.actor),
            entry.action.clone(),
            one_line(entry.target.as_deref().unwrap_or("")),
            entry.outcome.clone(),
            one_line(&entry.detail),
        ]);
    }
    table.print();
    let shown = u64::try_from(entries.len()).unwrap_or(u64::MAX);
    if u64::from(total) > shown {
        say!(
            "{} of {} entries; --count N or --all for more.",
            thousands(shown),
            thousands(total.into())
        );
    }
    Ok(())
}

/// The entries as CSV with a header row, into `path` (`-`: stdout).
fn write_csv(path: &Path, entries: &[AuditEntryView]) -> Result<(), Failure> {
    let file: Box<dyn Write> = if path.as_os_str() == "-" {
        Box::new(std::io::stdout().lock())
    } else {
        Box::new(muster_core::csv::export::create_private(path)?)
    };
    let failed = |error: std::io::Error| {
        Failure::Local(format!("Cannot write {}: {error}.", path.display()))
    };
    let mut csv = Writer::new(file);
    csv.record(["at", "actor", "action", "target", "outcome", "detail"])
        .map_err(failed)?;
    for entry in entries {
        csv.record([
            entry.at.as_str(),
            entry.actor.as_str(),
            entry.action.as_str(),
            entry.target.as_deref().unwrap_or(""),
            entry.outcome.as_str(),
            entry.detail.as_str(),
        ])
        .map_err(failed)?;
    }
    csv.finish().map_err(failed)?;
    if path.as_os_str() != "-" {
        eprintln!("Wrote {} entries to {}.", entries.len(), path.display());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_rfc_3339_dates_or_a_while_ago_with_a_unit() {
        assert_eq!(
            when_arg("2026-12-01T09:00:00Z").as_deref(),
            Ok("2026-12-01T09:00:00Z")
        );
        assert_eq!(
            when_arg("2026-12-01").as_deref(),
            Ok("2026-12-01T00:00:00Z")
        );
        assert_eq!(
            until_arg("2026-12-01").as_deref(),
            Ok("2026-12-01T23:59:59Z"),
            "the whole day"
        );
        assert!(when_arg("7d").is_ok_and(|at| at.ends_with('Z')));
        assert!(when_arg("2026").is_err(), "a bare number could be a year");
        assert!(when_arg("soon").is_err());
    }
}
