//! Instant search over the cached users, for a virtualised table.
//!
//! [`Index::build`] does the work once per snapshot: the searchable text of every user,
//! lower-cased, in one buffer; for each filter field a bit set of the users holding each
//! value; and for each [`SortKey`] the users pre-sorted both ways. A query is then a
//! substring scan of the buffer, a few bit-set ANDs and ORs, and a walk along a
//! pre-sorted permutation until the window is full: no sorting at query time.
//!
//! Text is compared lower-cased, byte-wise (no locale collation).
//!
//! The cache file stores the built index with its snapshot
//! ([`Store::open_indexed`](crate::cache::Store::open_indexed)), so opening the cache needs
//! no build; a change to what `build` produces must bump [`crate::cache::FORMAT`].

use std::borrow::Borrow;
use std::collections::HashMap;

use memchr::memmem;
use muster_scim::user::User;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

mod bits;
mod build;
mod parts;
mod update;

use crate::cache::PackedUser;
use bits::Bits;
use build::Builder;
pub(crate) use parts::{Parts, PartsRef};

/// A column the results can be sorted by. Users without a value sort last either way;
/// ties keep the order of the users given to [`Index::build`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub enum SortKey {
    /// Display name (else the formatted name, else given and family name).
    #[default]
    Name,
    /// Primary email.
    Email,
    /// Sign-in name.
    UserName,
    /// Shop role.
    Role,
    /// Licence.
    Licence,
    /// Account status.
    Status,
    /// Home branch.
    Branch,
    /// Security group.
    SecurityGroup,
    /// Time of the last sign-in.
    LastSignIn,
    /// Creation time.
    Created,
    /// Time of the last change.
    LastModified,
    /// When the invitation's link expires (accepted invitations and users never invited
    /// last).
    Invitation,
}

impl SortKey {
    /// Every key, in declaration order.
    pub const ALL: [SortKey; 12] = [
        SortKey::Name,
        SortKey::Email,
        SortKey::UserName,
        SortKey::Role,
        SortKey::Licence,
        SortKey::Status,
        SortKey::Branch,
        SortKey::SecurityGroup,
        SortKey::LastSignIn,
        SortKey::Created,
        SortKey::LastModified,
        SortKey::Invitation,
    ];
}

/// What the table asks for. Empty filter lists do not filter; values within one list are
/// alternatives (OR), and lists combine with AND. Values compare case-insensitively with
/// the wire form (`technician`, `magic_link`, a branch name…).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(default, rename_all = "camelCase")]
pub struct SearchQuery {
    /// Free text: every whitespace-separated term must occur (case-insensitively) in the
    /// name, an email, the user name or a phone number.
    pub text: String,
    /// Shop roles.
    pub roles: Vec<String>,
    /// Licences.
    pub licences: Vec<String>,
    /// Statuses (the shop status; without one, `active` or `deactivated` from `active`).
    pub statuses: Vec<String>,
    /// Branches: the home branch or any branch the user works for.
    pub branches: Vec<String>,
    /// Service zones.
    pub zones: Vec<String>,
    /// Security groups.
    pub security_groups: Vec<String>,
    /// Methods of the last sign-in.
    pub sign_in_methods: Vec<String>,
    /// Invitation states (pending and expired as of the search's `now`).
    pub invitation_states: Vec<String>,
    /// Only users who have not signed in for at least this many days, or never.
    pub no_sign_in_for_days: Option<u32>,
    /// Only users whose open invitation is still pending and expires within this many
    /// hours of the search's `now` (the invitations to resend before they lapse).
    pub invitation_expires_within_hours: Option<u32>,
    /// Leave deactivated (and deleted) users out of the results, counted in
    /// [`SearchResult::hidden`], unless `statuses` asks for them by name: the table leaves
    /// them out until asked.
    pub hide_deactivated: bool,
    /// The column to sort by.
    pub sort: SortKey,
    /// Sort descending (users without a value still come last).
    pub descending: bool,
    /// The first row of the window.
    pub offset: u32,
    /// The most rows to return.
    pub limit: u32,
}

impl SearchQuery {
    /// The same filters and sort, every match at once (an export, a bulk change).
    pub fn every_match(&self) -> Self {
        Self {
            offset: 0,
            limit: u32::MAX,
            ..self.clone()
        }
    }
}

impl Default for SearchQuery {
    fn default() -> Self {
        Self {
            text: String::new(),
            roles: Vec::new(),
            licences: Vec::new(),
            statuses: Vec::new(),
            branches: Vec::new(),
            zones: Vec::new(),
            security_groups: Vec::new(),
            sign_in_methods: Vec::new(),
            invitation_states: Vec::new(),
            no_sign_in_for_days: None,
            invitation_expires_within_hours: None,
            hide_deactivated: false,
            sort: SortKey::Name,
            descending: false,
            offset: 0,
            limit: 100,
        }
    }
}

/// One window of matching users.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SearchResult {
    /// How many users match in all.
    pub total: usize,
    /// How many more would match but for [`SearchQuery::hide_deactivated`].
    pub hidden: usize,
    /// The window's users, as indices into the slice given to [`Index::build`].
    pub rows: Vec<usize>,
}

/// The filter fields, in the order of [`Index::facets`].
#[derive(Debug, Clone, Copy)]
enum Facet {
    Role,
    Licence,
    Status,
    Branch,
    Zone,
    SecurityGroup,
    SignInMethod,
    InvitationState,
}

const FACETS: [Facet; 8] = [
    Facet::Role,
    Facet::Licence,
    Facet::Status,
    Facet::Branch,
    Facet::Zone,
    Facet::SecurityGroup,
    Facet::SignInMethod,
    Facet::InvitationState,
];

/// The index of `items`, each pushed by `push`: the rows split over the cores, each
/// share built on its own, then joined in order.
fn built<T: Sync>(items: &[T], push: impl Fn(&mut Builder, &T) + Sync) -> Index {
    let threads = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    let share = items.len().div_ceil(threads).max(4096);
    let build = |chunk: &[T]| {
        let mut builder = Builder::new();
        chunk.iter().for_each(|item| push(&mut builder, item));
        builder
    };
    if items.len() <= share {
        return build(items).finish();
    }
    let mut shares = std::thread::scope(|scope| {
        let helpers: Vec<_> = items
            .chunks(share)
            .map(|chunk| scope.spawn(move || build(chunk)))
            .collect();
        helpers
            .into_iter()
            .map(|helper| {
                helper
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            })
            .collect::<Vec<_>>()
            .into_iter()
    });
    let mut all = shares.next().unwrap_or_else(Builder::new);
    shares.for_each(|share| all.append(share));
    all.finish()
}

/// A search index over a slice of users. Rebuild it when the users change, or bring it
/// up to date with [`Index::updated`] when a few did.
#[derive(Debug, Default, PartialEq)]
pub struct Index {
    len: usize,
    /// Every user's searchable text, lower-cased, fields separated and rows ended by `\n`.
    text: Vec<u8>,
    /// Where each user's text starts in `text`, plus the end.
    starts: Vec<usize>,
    /// Per facet: lower-cased value → users holding it.
    facets: Vec<HashMap<String, Bits>>,
    /// Last sign-in as a Unix timestamp, per user.
    last_sign_in: Vec<Option<i64>>,
    /// When each user's open invitation expires, as a Unix timestamp: pending or expired
    /// is decided at each search, so a copy never holds a state that time has changed.
    invitation_expires: Vec<Option<i64>>,
    /// Per sort key (in [`SortKey::ALL`] order).
    orders: Vec<Order>,
}

/// A sort key's permutations: each lists every user, those without a value last.
#[derive(Debug, Default, PartialEq)]
struct Order {
    ascending: Vec<u32>,
    descending: Vec<u32>,
}

impl Index {
    /// Indexes the snapshot's users, each read from its compact form in turn (never all
    /// of them at once), on all cores.
    pub fn of_packed(users: &[PackedUser]) -> Self {
        built(users, |builder, user| builder.push(&user.user()))
    }

    /// Indexes `users`, on all cores.
    pub fn build<U: Borrow<User> + Sync>(users: &[U]) -> Self {
        built(users, |builder, user| builder.push(user.borrow()))
    }

    /// How many users are indexed.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether no users are indexed.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The users matching `query`, sorted and windowed; `now` anchors
    /// [`SearchQuery::no_sign_in_for_days`], which invitations are pending or expired, and
    /// which expire soon.
    pub fn search(&self, query: &SearchQuery, now: OffsetDateTime) -> SearchResult {
        let mut matches = Bits::all(self.len);
        self.filter_facets(query, now, &mut matches);
        if let Some(days) = query.no_sign_in_for_days {
            self.filter_idle(days, now, &mut matches);
        }
        if let Some(hours) = query.invitation_expires_within_hours {
            self.filter_expiring(hours, now, &mut matches);
        }
        self.filter_text(&query.text, &mut matches);
        let hidden = self.filter_hidden(query, &mut matches);
        let total = matches.count();
        SearchResult {
            total,
            hidden,
            rows: self.window(query, &matches, total),
        }
    }

    fn filter_facets(&self, query: &SearchQuery, now: OffsetDateTime, matches: &mut Bits) {
        for (slot, facet) in FACETS.iter().enumerate() {
            let wanted = facet_values(query, *facet);
            if wanted.is_empty() {
                continue;
            }
            let mut any = Bits::none(self.len);
            for value in wanted {
                let value = fold(value);
                if let Some(bits) = self.facets.get(slot).and_then(|f| f.get(&value)) {
                    any.or(bits);
                }
                if matches!(facet, Facet::InvitationState) {
                    self.add_open_invitations(&value, now, &mut any);
                }
            }
            matches.and(&any);
        }
    }

    /// Adds the users whose open invitation is `state` (`pending` or `expired`) at `now`.
    fn add_open_invitations(&self, state: &str, now: OffsetDateTime, found: &mut Bits) {
        let now = now.unix_timestamp();
        let expired = match state {
            "pending" => false,
            "expired" => true,
            _ => return,
        };
        for (row, expires) in self.invitation_expires.iter().enumerate() {
            if let Some(expires) = expires
                && (*expires <= now) == expired
            {
                found.set(row);
            }
        }
    }

    /// Leaves out the users of the hidden statuses the query does not ask for by name;
    /// returns how many it left out.
    fn filter_hidden(&self, query: &SearchQuery, matches: &mut Bits) -> usize {
        let slot = FACETS
            .iter()
            .position(|facet| matches!(facet, Facet::Status))
            .unwrap_or(0);
        let asked: Vec<String> = query.statuses.iter().map(|s| fold(s)).collect();
        let mut hidden = Bits::none(self.len);
        let hidden_statuses: &[&str] = if query.hide_deactivated {
            &["deactivated", "deleted"]
        } else {
            &[]
        };
        for status in hidden_statuses {
            let status = fold(status);
            if asked.contains(&status) {
                continue;
            }
            if let Some(bits) = self.facets.get(slot).and_then(|f| f.get(&status)) {
                hidden.or(bits);
            }
        }
        hidden.and(matches);
        matches.and_not(&hidden);
        hidden.count()
    }

    fn filter_idle(&self, days: u32, now: OffsetDateTime, matches: &mut Bits) {
        // Saturating: any u32 day count is valid input, however far back it reaches.
        let cutoff = now
            .unix_timestamp()
            .saturating_sub(i64::from(days) * 86_400);
        for (row, at) in self.last_sign_in.iter().enumerate() {
            if matches!(at, Some(at) if *at > cutoff) {
                matches.clear(row);
            }
        }
    }

    /// Keeps the users whose open invitation is pending at `now` and expires within
    /// `hours` of it.
    fn filter_expiring(&self, hours: u32, now: OffsetDateTime, matches: &mut Bits) {
        let now = now.unix_timestamp();
        let until = now.saturating_add(i64::from(hours) * 3_600);
        for (row, expires) in self.invitation_expires.iter().enumerate() {
            if !matches!(expires, Some(at) if *at > now && *at <= until) {
                matches.clear(row);
            }
        }
    }

    /// Keeps the users whose text holds every term. The longest term scans the whole
    /// buffer; the others only check the users still in.
    fn filter_text(&self, text: &str, matches: &mut Bits) {
        let folded = fold(text);
        let mut terms: Vec<&str> = folded.split_whitespace().collect();
        if terms.is_empty() {
            return;
        }
        terms.sort_by_key(|term| std::cmp::Reverse(term.len()));
        matches.and(&self.scan(terms[0]));
        for term in &terms[1..] {
            let finder = memmem::Finder::new(term.as_bytes());
            let rows: Vec<usize> = matches.iter().collect();
            for row in rows {
                if finder.find(self.row_text(row)).is_none() {
                    matches.clear(row);
                }
            }
        }
    }

    /// The users whose text holds `term`, by one pass over the whole buffer.
    fn scan(&self, term: &str) -> Bits {
        let mut found = Bits::none(self.len);
        let finder = memmem::Finder::new(term.as_bytes());
        let mut from = 0;
        let mut row = 0;
        while let Some(at) = finder.find(&self.text[from..]).map(|at| from + at) {
            row += self.starts[row + 1..].partition_point(|start| *start <= at);
            found.set(row);
            from = self.starts[row + 1];
        }
        found
    }

    fn row_text(&self, row: usize) -> &[u8] {
        &self.text[self.starts[row]..self.starts[row + 1]]
    }

    fn window(&self, query: &SearchQuery, matches: &Bits, total: usize) -> Vec<usize> {
        let offset = query.offset as usize;
        let end = offset.saturating_add(query.limit as usize).min(total);
        if offset >= end {
            return Vec::new();
        }
        let slot = SortKey::ALL
            .iter()
            .position(|key| *key == query.sort)
            .unwrap_or(0);
        let Some(order) = self.orders.get(slot) else {
            return Vec::new();
        };
        let permutation = if query.descending {
            &order.descending
        } else {
            &order.ascending
        };
        permutation
            .iter()
            .map(|row| *row as usize)
            .filter(|row| matches.get(*row))
            .skip(offset)
            .take(end - offset)
            .collect()
    }
}

/// Case folding for search: lower case (quickly, for ASCII).
fn fold(text: &str) -> String {
    if text.is_ascii() {
        text.to_ascii_lowercase()
    } else {
        text.to_lowercase()
    }
}

fn facet_values(query: &SearchQuery, facet: Facet) -> &[String] {
    match facet {
        Facet::Role => &query.roles,
        Facet::Licence => &query.licences,
        Facet::Status => &query.statuses,
        Facet::Branch => &query.branches,
        Facet::Zone => &query.zones,
        Facet::SecurityGroup => &query.security_groups,
        Facet::SignInMethod => &query.sign_in_methods,
        Facet::InvitationState => &query.invitation_states,
    }
}
