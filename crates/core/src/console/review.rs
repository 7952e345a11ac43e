//! The account review for support staff (and admins): who has gone quiet, who never
//! started, which invitations wait or have lapsed, who has no two-factor, and how
//! statuses, licences, roles and sign-in methods are spread. It reads the offline copy
//! only, so it works offline, and counts everything in one pass over the cached users.
//!
//! Each count carries the [`SearchQuery`] that lists exactly those users in the users table,
//! so the screen can open the table filtered to them. That is why the counting here
//! follows the search index's rules (see [`crate::search`]) rather than the display's:
//! values compare lower-cased and are never trimmed, a user without a shop status is
//! `active` or `deactivated` as SCIM's `active` says (and has no status without either),
//! and "no sign-in for N days" keeps users who never signed in or whose last sign-in, in
//! whole Unix seconds, is at or before `now - N days`. A unit test checks every count
//! against the index.
//!
//! What the users table cannot filter on yet (two-factor, "never signed in") is counted
//! all the same, with no query: the screen shows it without a link.

use std::borrow::{Borrow, Cow};
use std::collections::{BTreeSet, HashMap, HashSet};

use muster_scim::user::{Licence, Role, SignInMethod, User, UserStatus};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

#[cfg(feature = "specta")]
use specta::Type;

use super::Console;
use super::view;
use crate::cache::PackedUser;
use crate::error::Error;
use crate::search::SearchQuery;

/// Dormancy threshold when none is chosen.
pub const DEFAULT_DORMANT_DAYS: u32 = 90;

/// The longest dormancy threshold (a century): longer ones are refused, not clamped.
pub const MAX_DORMANT_DAYS: u32 = 36_500;

/// The statuses always listed (`deleted` only when someone has it).
const STATUSES: [&str; 4] = ["active", "invited", "suspended", "deactivated"];

/// What to review.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(Type))]
#[serde(default, rename_all = "camelCase")]
pub struct ReviewOptions {
    /// An active account that has signed in before is dormant after this many days
    /// without a sign-in (1 to [`MAX_DORMANT_DAYS`]).
    pub dormant_days: u32,
}

impl Default for ReviewOptions {
    fn default() -> Self {
        Self {
            dormant_days: DEFAULT_DORMANT_DAYS,
        }
    }
}

impl ReviewOptions {
    /// Checks the options before anything is counted.
    ///
    /// # Errors
    ///
    /// [`Error::Validation`] on `days` for a threshold outside 1 to [`MAX_DORMANT_DAYS`].
    pub fn check(&self) -> Result<(), Error> {
        if (1..=MAX_DORMANT_DAYS).contains(&self.dormant_days) {
            Ok(())
        } else {
            Err(Error::invalid(
                "days",
                format!("Choose between 1 and {MAX_DORMANT_DAYS} days."),
            ))
        }
    }
}

/// One number on the review screen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(Type))]
#[serde(rename_all = "camelCase")]
pub struct ReviewCount {
    /// Stable and unique within a review: `dormant`, `licence-field`,
    /// `method-magic_link`… (the screen's `data-testid` is `review-<key>`).
    pub key: String,
    /// What is counted, in words.
    pub label: String,
    /// How many users.
    pub count: u32,
    /// The users table's filters that list exactly these users; `None` when the table
    /// cannot filter this way.
    pub query: Option<SearchQuery>,
}

/// The account review, from the offline copy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(Type))]
#[serde(rename_all = "camelCase")]
pub struct ReviewView {
    /// When the offline copy was last synced (RFC 3339); `None` when nothing is cached.
    pub synced_at: Option<String>,
    /// How old the copy was when the review was made, in seconds.
    pub age_seconds: Option<u32>,
    /// Users in the copy.
    pub total: u32,
    /// Active users (the base of the licence, role, sign-in and two-factor counts).
    pub active: u32,
    /// The dormancy threshold used, in days.
    pub dormant_days: u32,
    /// Active users with a sign-in on record (its method known) but none for
    /// `dormant_days` days.
    pub dormant: ReviewCount,
    /// Active users with no sign-in on record.
    pub never_signed_in: ReviewCount,
    /// Users whose invitation is pending.
    pub pending_invitations: ReviewCount,
    /// Users whose invitation has expired.
    pub expired_invitations: ReviewCount,
    /// Active users whose provider reports two-factor as off.
    pub without_mfa: ReviewCount,
    /// Users per status: the usual four first, then any other.
    pub statuses: Vec<ReviewCount>,
    /// Active users per licence, most first (`licence-none` for those without one).
    pub licences: Vec<ReviewCount>,
    /// Active users per role, most first (`role-none` for those without one).
    pub roles: Vec<ReviewCount>,
    /// Active users per method of their last sign-in, most first, then `method-never`.
    pub sign_in_methods: Vec<ReviewCount>,
}

impl Console {
    /// The account review of the open profile's offline copy (empty without one). Reads
    /// nothing from the server, so it works offline and for read-only roles.
    ///
    /// # Errors
    ///
    /// [`Error::Validation`] for a dormancy threshold out of range.
    pub async fn review(&self, options: &ReviewOptions) -> Result<ReviewView, Error> {
        options.check()?;
        let data = self.data().await;
        let synced_at = data.has_data().then_some(data.snapshot.synced_at);
        Ok(ReviewView::of(
            data.snapshot.users.iter().map(PackedUser::user),
            synced_at,
            options.dormant_days,
            self.clock.now(),
        ))
    }
}

impl ReviewView {
    /// The review of `users` at `now`, with `dormant_days` as the threshold (check it
    /// with [`ReviewOptions::check`] first: a query with an out-of-range threshold is
    /// no use to the users table). One pass over `users`.
    pub fn of<U: Borrow<User>>(
        users: impl IntoIterator<Item = U>,
        synced_at: Option<OffsetDateTime>,
        dormant_days: u32,
        now: OffsetDateTime,
    ) -> Self {
        // The index's cutoff (`search::Index::filter_idle`), without its overflow.
        let cutoff = now
            .checked_sub(time::Duration::days(i64::from(dormant_days)))
            .map_or(i64::MIN, OffsetDateTime::unix_timestamp);
        let mut tally = Tally::new();
        let mut count = 0;
        for user in users {
            tally.add(user.borrow(), cutoff, now);
            count += 1;
        }
        tally.into_view(count, synced_at, dormant_days, now)
    }
}

/// Users per value, keyed by the folded value as the index's bit sets are. The known
/// values (canonical, lower case) have their own slots, so most users cost a few short
/// comparisons and no hashing.
#[derive(Debug)]
struct Counts {
    known: &'static [&'static str],
    known_counts: Vec<usize>,
    others: HashMap<String, usize>,
    /// Users with no value (or a blank one).
    none: usize,
}

impl Counts {
    /// Counts over `known` values (listed even when nobody holds them) and any others.
    fn new(known: &'static [&'static str]) -> Self {
        Self {
            known,
            known_counts: vec![0; known.len()],
            others: HashMap::new(),
            none: 0,
        }
    }

    fn add(&mut self, value: Option<&str>) {
        let Some(value) = value.filter(|v| !v.trim().is_empty()) else {
            self.none += 1;
            return;
        };
        if let Some(slot) = self.known.iter().position(|k| *k == value) {
            self.known_counts[slot] += 1;
            return;
        }
        let folded = fold(value);
        if let Some(slot) = self.known.iter().position(|k| *k == folded) {
            self.known_counts[slot] += 1;
        } else if let Some(count) = self.others.get_mut(folded.as_ref()) {
            *count += 1;
        } else {
            self.others.insert(folded.into_owned(), 1);
        }
    }

    /// Every value with its count: the known ones first (at zero when nobody holds them),
    /// then the others by name.
    fn values(&self) -> Vec<(String, usize)> {
        let mut values: Vec<(String, usize)> = self
            .known
            .iter()
            .zip(&self.known_counts)
            .map(|(value, count)| ((*value).to_owned(), *count))
            .collect();
        let mut others: Vec<(String, usize)> =
            self.others.iter().map(|(v, n)| (v.clone(), *n)).collect();
        others.sort();
        values.extend(others);
        values
    }

    /// The values somebody holds.
    fn held(&self) -> impl Iterator<Item = &str> {
        let known = self.known.iter().zip(&self.known_counts);
        known
            .filter(|(_, count)| **count > 0)
            .map(|(value, _)| *value)
            .chain(self.others.keys().map(String::as_str))
    }
}

#[derive(Debug)]
struct Tally {
    active: usize,
    dormant: usize,
    never: usize,
    pending: usize,
    expired: usize,
    without_mfa: usize,
    statuses: Counts,
    /// Of active users.
    licences: Counts,
    /// Of active users.
    roles: Counts,
    /// Of active users.
    methods: Counts,
}

impl Tally {
    fn new() -> Self {
        Self {
            active: 0,
            dormant: 0,
            never: 0,
            pending: 0,
            expired: 0,
            without_mfa: 0,
            statuses: Counts::new(&STATUSES),
            // The values a Muster server knows are listed even when nobody holds them.
            licences: Counts::new(Licence::KNOWN),
            roles: Counts::new(Role::KNOWN),
            methods: Counts::new(SignInMethod::KNOWN),
        }
    }

    fn add(&mut self, user: &User, cutoff: i64, now: OffsetDateTime) {
        let shop = user.shop.as_ref();
        let status = user.status();
        self.statuses.add(Some(status.as_str()));
        // Pending or expired as of now, not as of the sync (compared folded, as the
        // index's bit sets are).
        let state = user.invitation_state(now);
        match state.as_ref().map(|s| fold(s.as_str())).as_deref() {
            Some("pending") => self.pending += 1,
            Some("expired") => self.expired += 1,
            _ => {}
        }
        if status != UserStatus::Active {
            return;
        }
        self.active += 1;
        self.licences
            .add(shop.and_then(|s| s.licence.as_ref()).map(|l| l.as_str()));
        self.roles
            .add(shop.and_then(|s| s.role.as_ref()).map(|r| r.as_str()));
        let last = shop.and_then(|s| s.last_sign_in.as_ref());
        let method = last
            .and_then(|l| l.method.as_ref())
            .map(|m| m.as_str())
            .filter(|m| !m.trim().is_empty());
        self.methods.add(method);
        let at = last.and_then(|l| l.at).map(OffsetDateTime::unix_timestamp);
        if at.is_none() {
            self.never += 1;
        }
        // The dormant query: a sign-in method on record, and idle (which to the index
        // includes no time on record).
        if method.is_some() && at.is_none_or(|at| at <= cutoff) {
            self.dormant += 1;
        }
        if shop.and_then(|s| s.mfa_enabled) == Some(false) {
            self.without_mfa += 1;
        }
    }

    /// Users per status, each listing exactly them.
    fn status_counts(&self, keys: &mut Keys) -> Vec<ReviewCount> {
        self.statuses
            .values()
            .into_iter()
            .map(|(value, count)| ReviewCount {
                key: keys.unique(&format!("status-{value}")),
                label: words(&value),
                count: view::clamp(count),
                query: Some(SearchQuery {
                    statuses: vec![value],
                    ..SearchQuery::default()
                }),
            })
            .collect()
    }

    /// Active users per method of their last sign-in, most first, then those who never
    /// signed in.
    fn method_counts(&self, keys: &mut Keys) -> Vec<ReviewCount> {
        let mut counts: Vec<ReviewCount> = self
            .methods
            .values()
            .into_iter()
            .map(|(value, count)| ReviewCount {
                key: keys.unique(&format!("method-{value}")),
                label: words(&value),
                count: view::clamp(count),
                query: Some(SearchQuery {
                    statuses: vec!["active".to_owned()],
                    sign_in_methods: vec![value],
                    ..SearchQuery::default()
                }),
            })
            .collect();
        counts.sort_by_key(|m| std::cmp::Reverse(m.count));
        counts.push(ReviewCount {
            key: keys.unique("method-never"),
            label: "Never".to_owned(),
            count: view::clamp(self.never),
            query: None,
        });
        counts
    }

    fn into_view(
        self,
        total: usize,
        synced_at: Option<OffsetDateTime>,
        dormant_days: u32,
        now: OffsetDateTime,
    ) -> ReviewView {
        let active = || vec!["active".to_owned()];
        let mut keys = Keys::default();
        // Every method an active user holds, and the known ones: "signed in by some
        // method", in the filters the table has.
        let mut methods: BTreeSet<&str> = self.methods.held().collect();
        methods.extend(SignInMethod::KNOWN);
        let dormant = ReviewCount {
            key: keys.unique("dormant"),
            label: "Dormant".to_owned(),
            count: view::clamp(self.dormant),
            query: Some(SearchQuery {
                statuses: active(),
                sign_in_methods: methods.into_iter().map(str::to_owned).collect(),
                no_sign_in_for_days: Some(dormant_days),
                ..SearchQuery::default()
            }),
        };
        let invitations = |keys: &mut Keys, state: &str, count: usize, label: &str| ReviewCount {
            key: keys.unique(&format!("{state}-invitations")),
            label: label.to_owned(),
            count: view::clamp(count),
            query: Some(SearchQuery {
                invitation_states: vec![state.to_owned()],
                ..SearchQuery::default()
            }),
        };
        let pending_invitations =
            invitations(&mut keys, "pending", self.pending, "Pending invitations");
        let expired_invitations =
            invitations(&mut keys, "expired", self.expired, "Expired invitations");
        let never_signed_in = ReviewCount {
            key: keys.unique("never-signed-in"),
            label: "Never signed in".to_owned(),
            count: view::clamp(self.never),
            query: None,
        };
        let without_mfa = ReviewCount {
            key: keys.unique("without-mfa"),
            label: "Without two-factor".to_owned(),
            count: view::clamp(self.without_mfa),
            query: None,
        };

        let statuses = self.status_counts(&mut keys);
        let licences = per_value(&mut keys, &self.licences, "licence", |q, v| {
            q.licences = vec![v];
        });
        let roles = per_value(&mut keys, &self.roles, "role", |q, v| q.roles = vec![v]);
        let sign_in_methods = self.method_counts(&mut keys);

        ReviewView {
            synced_at: synced_at.map(view::stamp),
            age_seconds: synced_at.map(|at| view::clamp((now - at).whole_seconds().max(0))),
            total: view::clamp(total),
            active: view::clamp(self.active),
            dormant_days,
            dormant,
            never_signed_in,
            pending_invitations,
            expired_invitations,
            without_mfa,
            statuses,
            licences,
            roles,
            sign_in_methods,
        }
    }
}

/// Active users per value of one field (`kind`), most first (ties: the known values in
/// their order, then the others by name); then, without a link, those with no value.
fn per_value(
    keys: &mut Keys,
    counts: &Counts,
    kind: &str,
    set: fn(&mut SearchQuery, String),
) -> Vec<ReviewCount> {
    let mut items: Vec<ReviewCount> = counts
        .values()
        .into_iter()
        .map(|(value, count)| {
            let key = keys.unique(&format!("{kind}-{value}"));
            let label = words(&value);
            let mut query = SearchQuery {
                statuses: vec!["active".to_owned()],
                ..SearchQuery::default()
            };
            set(&mut query, value);
            ReviewCount {
                key,
                label,
                count: view::clamp(count),
                query: Some(query),
            }
        })
        .collect();
    // Most first; the sort is stable, so ties keep the known order, then the name.
    items.sort_by_key(|item| std::cmp::Reverse(item.count));
    if counts.none > 0 {
        items.push(ReviewCount {
            key: keys.unique(&format!("{kind}-none")),
            label: format!("No {kind}"),
            count: view::clamp(counts.none),
            query: None,
        });
    }
    items
}

/// Hands out keys, unique within one review (two odd values may clean up alike).
#[derive(Debug, Default)]
struct Keys(HashSet<String>);

impl Keys {
    fn unique(&mut self, raw: &str) -> String {
        let clean: String = raw
            .chars()
            .map(|c| match c {
                'a'..='z' | '0'..='9' | '_' | '-' => c,
                'A'..='Z' => c.to_ascii_lowercase(),
                _ => '-',
            })
            .collect();
        let mut key = clean.clone();
        let mut n = 2;
        while !self.0.insert(key.clone()) {
            key = format!("{clean}-{n}");
            n += 1;
        }
        key
    }
}

/// The index's case folding (`search::fold`): lower case, borrowed when already so.
fn fold(text: &str) -> Cow<'_, str> {
    if text.is_ascii() {
        if text.bytes().any(|b| b.is_ascii_uppercase()) {
            Cow::Owned(text.to_ascii_lowercase())
        } else {
            Cow::Borrowed(text)
        }
    } else {
        Cow::Owned(text.to_lowercase())
    }
}

/// A folded wire value for people: `magic_link` → "Magic link", `api` → "API".
fn words(value: &str) -> String {
    if value == "api" {
        return "API".to_owned();
    }
    let text = value.replace(['_', '-'], " ");
    let mut chars = text.trim().chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests;
