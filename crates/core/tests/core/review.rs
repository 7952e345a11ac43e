//! The account review against a real muster-server: after a sync, every count that links
//! to the users table finds exactly its users there, the counts without a link agree with
//! the table's rows, and the review asks the server nothing (so it works offline).

#![allow(clippy::unwrap_used)]

use std::net::SocketAddr;

use muster_core::Error;
use muster_core::console::view::UserRow;
use muster_core::console::{Console, ReviewCount, ReviewOptions, ReviewView};
use muster_core::search::SearchQuery;
use muster_core::transport::TransportConfig;

use muster_test_support::Muster;
use muster_test_support::console::TestConsole;
use muster_test_support::proxy::Proxy;

/// A console signed in as the seeded admin through `url`. No Secret Service runs in the
/// test, so the copy lives in memory only, as on a machine without a keychain.
async fn signed_in(server: &Muster, url: &str) -> TestConsole {
    server
        .admin_console("review", TransportConfig::default(), url)
        .await
}

fn every_count(review: &ReviewView) -> Vec<&ReviewCount> {
    let mut all = vec![
        &review.dormant,
        &review.never_signed_in,
        &review.pending_invitations,
        &review.expired_invitations,
        &review.without_mfa,
    ];
    all.extend(&review.statuses);
    all.extend(&review.licences);
    all.extend(&review.roles);
    all.extend(&review.sign_in_methods);
    all
}

/// Every row the table lists for `query`, a window at a time.
async fn rows(console: &Console, query: &SearchQuery) -> Vec<UserRow> {
    let mut rows = Vec::new();
    loop {
        let window = console
            .search(&SearchQuery {
                offset: rows.len() as u32,
                limit: 500,
                ..query.clone()
            })
            .await;
        let done =
            window.rows.is_empty() || rows.len() + window.rows.len() >= window.total as usize;
        rows.extend(window.rows);
        if done {
            return rows;
        }
    }
}

#[tokio::test]
async fn every_review_count_is_what_the_users_table_shows() {
    let server = Muster::start("review", 150).await;
    // Two-factor for three active people (not the admin, who signs in with a password
    // below), so "without two-factor" is not simply "active".
    let enrolled = server
        .state
        .db
        .write_blocking(|tx| {
            Ok(tx.execute(
                "INSERT INTO mfa (org, user_id, secret, created, confirmed_at) \
                 SELECT org, id, 'JBSWY3DPEHPK3PXP', '2026-01-01T00:00:00Z', \
                 '2026-01-01T00:00:00Z' FROM users \
                 WHERE org = ?1 AND status = 'active' AND user_name NOT LIKE 'admin@%' \
                 ORDER BY id LIMIT 3",
                [&server.org],
            )?)
        })
        .unwrap();
    assert_eq!(enrolled, 3);
    let upstream: SocketAddr = server.url.trim_start_matches("http://").parse().unwrap();
    let proxy = Proxy::start(upstream).await;
    let console = signed_in(&server, &proxy.base).await;
    let status = console.sync(|_| {}).await.unwrap();
    let asked = proxy.seen().len();

    for days in [1, 30, 90, 365] {
        let review = console
            .review(&ReviewOptions { dormant_days: days })
            .await
            .unwrap();
        assert_eq!(review.total, status.user_count);
        assert_eq!(review.dormant_days, days);
        assert!(review.synced_at.is_some() && review.age_seconds.is_some());
        for item in every_count(&review) {
            let Some(query) = &item.query else { continue };
            let shown = console.search(query).await.total;
            assert_eq!(
                shown, item.count,
                "{} at {days} days: the users table must list exactly the users counted",
                item.key
            );
        }
    }
    assert_eq!(
        proxy.seen().len(),
        asked,
        "the review reads the offline copy only: it works offline"
    );

    let review = console.review(&ReviewOptions::default()).await.unwrap();
    assert_eq!(review.dormant_days, 90, "the default threshold");
    let active = rows(
        &console,
        &SearchQuery {
            statuses: vec!["active".into()],
            ..SearchQuery::default()
        },
    )
    .await;
    assert_eq!(review.active as usize, active.len());
    let never = active
        .iter()
        .filter(|r| r.last_sign_in_at.is_none())
        .count();
    assert_eq!(review.never_signed_in.count as usize, never);
    assert!(never > 0, "the seed has people who never signed in");
    let without = active
        .iter()
        .filter(|r| r.mfa_enabled == Some(false))
        .count();
    assert_eq!(review.without_mfa.count as usize, without);
    assert_eq!(without, active.len() - 3, "all but the three enrolled");
    assert!(
        review.dormant.count > 0 && review.dormant.count < review.active,
        "the seed's sign-ins spread over four months: {}",
        review.dormant.count
    );
    let licences: u32 = review.licences.iter().map(|l| l.count).sum();
    assert_eq!(
        licences, review.active,
        "every active user has one licence bar"
    );
    let invited = review
        .statuses
        .iter()
        .find(|s| s.key == "status-invited")
        .unwrap()
        .count;
    assert_eq!(
        review.pending_invitations.count + review.expired_invitations.count,
        invited,
        "the seed's invitations are open only for invited people"
    );
}

#[tokio::test]
async fn a_threshold_out_of_range_is_refused_by_name() {
    let server = Muster::start("review-days", 5).await;
    let console = signed_in(&server, &server.url).await;
    for days in [0, 36_501] {
        let refused = console.review(&ReviewOptions { dormant_days: days }).await;
        match refused {
            Err(Error::Validation { fields, .. }) => assert_eq!(fields[0].field, "days"),
            other => panic!("{days} days should be refused: {other:?}"),
        }
    }
    // Before the first sync the review is empty, not an error.
    let empty = console.review(&ReviewOptions::default()).await.unwrap();
    assert_eq!((empty.total, empty.synced_at), (0, None));
}
