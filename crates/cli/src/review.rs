//! `muster review`: the account review the app's review board shows — dormant accounts,
//! never signed in, pending and expired invitations, two-factor off, and users per status,
//! licence, role and last sign-in method — counted by the engine over every user (from
//! the server, or the offline copy when it cannot be reached or with `--offline`).

use clap::Args;
use muster_core::cache::PackedUser;
use muster_core::console::{DEFAULT_DORMANT_DAYS, ReviewCount, ReviewOptions, ReviewView};
use time::OffsetDateTime;

use crate::Target;
use crate::failure::Failure;
use crate::output::{Output, Table, say, thousands};
use crate::transfer::org_users;

/// `muster review`.
#[derive(Debug, Args)]
pub struct ReviewArgs {
    /// Count an active user as dormant after this many days without a sign-in.
    #[arg(long, value_name = "DAYS", default_value_t = DEFAULT_DORMANT_DAYS)]
    dormant_days: u32,
    /// Use the offline copy as last synced, without contacting the server.
    #[arg(long)]
    offline: bool,
}

/// Runs `muster review`.
pub async fn run(args: ReviewArgs, target: &Target, out: &Output) -> Result<(), Failure> {
    let options = ReviewOptions {
        dormant_days: args.dormant_days,
    };
    options.check()?;
    let users = org_users(target, args.offline, true).await?;
    let now = OffsetDateTime::now_utc();
    let review = ReviewView::of(
        users.iter().map(PackedUser::user),
        Some(now),
        options.dormant_days,
        now,
    );
    if out.json {
        return out.json(&review);
    }
    say!(
        "{} users, {} active; dormant: active but no sign-in for {} days.",
        thousands(review.total.into()),
        thousands(review.active.into()),
        thousands(review.dormant_days.into())
    );
    print_counts(
        "NEEDS A LOOK",
        &[
            &review.dormant,
            &review.never_signed_in,
            &review.pending_invitations,
            &review.expired_invitations,
            &review.without_mfa,
        ],
    );
    for (title, counts) in [
        ("STATUS", &review.statuses),
        ("LICENCE (ACTIVE USERS)", &review.licences),
        ("ROLE (ACTIVE USERS)", &review.roles),
        (
            "LAST SIGN-IN METHOD (ACTIVE USERS)",
            &review.sign_in_methods,
        ),
    ] {
        print_counts(title, &counts.iter().collect::<Vec<_>>());
    }
    Ok(())
}

/// One block: a heading over each count's words and number.
fn print_counts(title: &str, counts: &[&ReviewCount]) {
    say!("");
    let mut table = Table::new([title, "USERS"]);
    for count in counts {
        table.row([count.label.clone(), thousands(count.count.into())]);
    }
    table.print();
}
