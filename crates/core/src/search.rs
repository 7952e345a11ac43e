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

use std::borrow::Cow;
use std::collections::HashMap;

use memchr::memmem;
use muster_scim::user::{InvitationState, User};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

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

/// A search index over a slice of users. Rebuild it when the users change.
#[derive(Debug, Default)]
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

/// An [`Index`] taken apart, for storing it with the snapshot it was built from.
#[derive(Debug, Default)]
pub(crate) struct Parts {
    /// How many users.
    pub len: usize,
    /// The searchable text of all users.
    pub text: Vec<u8>,
    /// Where each user's text starts, plus the end.
    pub starts: Vec<usize>,
    /// Per facet (in a fixed order): each folded value and its bit set's words.
    pub facets: Vec<Vec<(String, Vec<u64>)>>,
    /// Last sign-in as a Unix timestamp, per user.
    pub last_sign_in: Vec<Option<i64>>,
    /// When each user's open invitation expires, as a Unix timestamp.
    pub invitation_expires: Vec<Option<i64>>,
    /// Per sort key (in [`SortKey::ALL`] order): ascending and descending permutations.
    pub orders: Vec<(Vec<u32>, Vec<u32>)>,
}

/// A sort key's permutations: each lists every user, those without a value last.
#[derive(Debug, Default)]
struct Order {
    ascending: Vec<u32>,
    descending: Vec<u32>,
}

impl Index {
    /// Indexes `users`.
    pub fn build(users: &[User]) -> Self {
        // Two threads of about equal work: facets and four sort orders, the rest.
        let ((facets, first), (later, (text, starts), (last_sign_in, invitation_expires))) =
            std::thread::scope(|scope| {
                let sorter =
                    scope.spawn(|| (build_facets(users), build_orders(users, &SortKey::ALL[..4])));
                let rest = (
                    build_orders(users, &SortKey::ALL[4..]),
                    build_text(users),
                    (
                        users.iter().map(last_sign_in).collect::<Vec<_>>(),
                        users
                            .iter()
                            .map(open_invitation_expires)
                            .collect::<Vec<_>>(),
                    ),
                );
                let facets = sorter
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
                (facets, rest)
            });
        let orders = first.into_iter().chain(later).collect();
        Self {
            len: users.len(),
            text,
            starts,
            facets,
            last_sign_in,
            invitation_expires,
            orders,
        }
    }

    /// The index's contents, for the cache file to store (see [`crate::cache`]).
    pub(crate) fn into_parts(self) -> Parts {
        Parts {
            len: self.len,
            text: self.text,
            starts: self.starts,
            facets: self
                .facets
                .into_iter()
                .map(|facet| {
                    let mut values: Vec<(String, Vec<u64>)> = facet
                        .into_iter()
                        .map(|(value, bits)| (value, bits.words))
                        .collect();
                    // Deterministic output: the same users give the same bytes.
                    values.sort_unstable_by(|a, b| a.0.cmp(&b.0));
                    values
                })
                .collect(),
            last_sign_in: self.last_sign_in,
            invitation_expires: self.invitation_expires,
            orders: self
                .orders
                .into_iter()
                .map(|order| (order.ascending, order.descending))
                .collect(),
        }
    }

    /// An index from stored parts, after checking that every part fits `len` users, so
    /// that no query can index out of bounds.
    ///
    /// # Errors
    ///
    /// A description (free of user data) of the first part that does not fit.
    pub(crate) fn from_parts(parts: Parts) -> Result<Self, String> {
        let Parts {
            len,
            text,
            starts,
            facets,
            last_sign_in,
            invitation_expires,
            orders,
        } = parts;
        if u32::try_from(len).is_err() {
            return Err(format!("{len} users are more than an index holds"));
        }
        if starts.len() != len + 1
            || starts.first() != Some(&0)
            || starts.last() != Some(&text.len())
            || starts.windows(2).any(|pair| pair[0] > pair[1])
        {
            return Err("index text offsets do not fit".to_owned());
        }
        if last_sign_in.len() != len {
            return Err("index sign-in times do not fit".to_owned());
        }
        if invitation_expires.len() != len {
            return Err("index invitation expiries do not fit".to_owned());
        }
        if facets.len() != FACETS.len() {
            return Err("index facet count differs".to_owned());
        }
        let words = len.div_ceil(64);
        let facets = facets
            .into_iter()
            .map(|values| {
                let mut map = HashMap::with_capacity(values.len());
                for (value, mut bits) in values {
                    if bits.len() != words {
                        return Err("index facet bit set does not fit".to_owned());
                    }
                    if let Some(last) = bits.last_mut()
                        && !len.is_multiple_of(64)
                    {
                        *last &= (1u64 << (len % 64)) - 1;
                    }
                    map.insert(value, Bits { words: bits });
                }
                Ok(map)
            })
            .collect::<Result<Vec<_>, String>>()?;
        if orders.len() != SortKey::ALL.len() {
            return Err("index sort order count differs".to_owned());
        }
        let fits = |rows: &[u32]| rows.len() == len && rows.iter().all(|row| (*row as usize) < len);
        let orders = orders
            .into_iter()
            .map(|(ascending, descending)| {
                if fits(&ascending) && fits(&descending) {
                    Ok(Order {
                        ascending,
                        descending,
                    })
                } else {
                    Err("index sort order does not fit".to_owned())
                }
            })
            .collect::<Result<Vec<_>, String>>()?;
        Ok(Self {
            len,
            text,
            starts,
            facets,
            last_sign_in,
            invitation_expires,
            orders,
        })
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
    /// [`SearchQuery::no_sign_in_for_days`] and which invitations are pending or expired.
    pub fn search(&self, query: &SearchQuery, now: OffsetDateTime) -> SearchResult {
        let mut matches = Bits::all(self.len);
        self.filter_facets(query, now, &mut matches);
        if let Some(days) = query.no_sign_in_for_days {
            self.filter_idle(days, now, &mut matches);
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

/// The single value `user` holds for `facet` (for branches: the home branch).
fn facet_value(user: &User, facet: Facet) -> Option<&str> {
    let shop = user.shop.as_ref();
    match facet {
        Facet::Role => shop.and_then(|s| s.role.as_ref()).map(|v| v.as_str()),
        Facet::Licence => shop.and_then(|s| s.licence.as_ref()).map(|v| v.as_str()),
        Facet::Status => Some(user.status_name()),
        Facet::Branch => shop.and_then(|s| s.home_branch.as_deref()),
        Facet::Zone => None,
        Facet::SecurityGroup => shop.and_then(|s| s.security_group.as_deref()),
        Facet::SignInMethod => shop
            .and_then(|s| s.last_sign_in.as_ref())
            .and_then(|l| l.method.as_ref())
            .map(|v| v.as_str()),
        // Only what time cannot change: accepted, or the provider's word for an
        // invitation without an expiry. Open invitations with one are decided at each
        // search (`invitation_expires`).
        Facet::InvitationState => shop
            .and_then(|s| s.invitation.as_ref())
            .filter(|i| {
                i.state.as_ref() == Some(&InvitationState::Accepted) || i.expires_at.is_none()
            })
            .and_then(|i| i.state.as_ref())
            .map(|v| v.as_str()),
    }
}

/// When `user`'s invitation expires, if one was sent and not accepted.
fn open_invitation_expires(user: &User) -> Option<i64> {
    let invitation = user.shop.as_ref()?.invitation.as_ref()?;
    if invitation.state.as_ref() == Some(&InvitationState::Accepted) {
        return None;
    }
    invitation.expires_at.map(OffsetDateTime::unix_timestamp)
}

/// The further values `user` holds for a multi-valued `facet` (branches, zones).
fn facet_values_of(user: &User, facet: Facet) -> &[String] {
    match (facet, user.shop.as_ref()) {
        (Facet::Branch, Some(shop)) => &shop.branches,
        (Facet::Zone, Some(shop)) => &shop.zones,
        _ => &[],
    }
}

fn last_sign_in(user: &User) -> Option<i64> {
    user.shop
        .as_ref()
        .and_then(|s| s.last_sign_in.as_ref())
        .and_then(|l| l.at)
        .map(OffsetDateTime::unix_timestamp)
}

fn build_facets(users: &[User]) -> Vec<HashMap<String, Bits>> {
    FACETS
        .iter()
        .map(|facet| {
            // Keyed by the value as given (no allocation per user), folded at the end.
            let mut exact: HashMap<&str, Bits> = HashMap::new();
            for (row, user) in users.iter().enumerate() {
                let many = facet_values_of(user, *facet).iter().map(String::as_str);
                for value in facet_value(user, *facet).into_iter().chain(many) {
                    exact
                        .entry(value)
                        .or_insert_with(|| Bits::none(users.len()))
                        .set(row);
                }
            }
            let mut folded: HashMap<String, Bits> = HashMap::new();
            for (value, bits) in exact {
                match folded.entry(fold(value)) {
                    std::collections::hash_map::Entry::Occupied(mut entry) => {
                        entry.get_mut().or(&bits)
                    }
                    std::collections::hash_map::Entry::Vacant(entry) => {
                        entry.insert(bits);
                    }
                }
            }
            folded
        })
        .collect()
}

/// The searchable text of all users, and where each starts.
fn build_text(users: &[User]) -> (Vec<u8>, Vec<usize>) {
    let mut text = Vec::with_capacity(users.len() * 128);
    let mut starts = Vec::with_capacity(users.len() + 1);
    for user in users {
        starts.push(text.len());
        push_user_text(user, &mut text);
    }
    starts.push(text.len());
    (text, starts)
}

fn push_user_text(user: &User, text: &mut Vec<u8>) {
    let mut push = |field: &str| {
        if field.is_ascii() {
            let start = text.len();
            text.extend_from_slice(field.as_bytes());
            text[start..].make_ascii_lowercase();
        } else {
            text.extend_from_slice(fold(field).as_bytes());
        }
        if !field.is_empty() {
            text.push(b'\n');
        }
    };
    // The name shown (it is the userName when the user has no name of their own).
    let name = user.display_name();
    if name != user.user_name {
        push(&name);
    }
    push(&user.user_name);
    for email in &user.emails {
        push(email.value.as_deref().unwrap_or_default());
    }
    let phones = user
        .phone_numbers
        .iter()
        .filter_map(|p| p.value.as_deref())
        .chain(user.shop.as_ref().and_then(|s| s.phone.as_deref()));
    for phone in phones {
        push(phone);
        let digits: String = phone.chars().filter(char::is_ascii_digit).collect();
        push(&digits);
    }
    if text.last() != Some(&b'\n') {
        text.push(b'\n');
    }
}

/// A sortable value of one user for one key, folded; borrowed when already folded.
fn sort_text(user: &User, key: SortKey) -> Option<Cow<'_, str>> {
    let shop = user.shop.as_ref();
    let text: Option<Cow<'_, str>> = match key {
        SortKey::Name => Some(user.display_name()),
        SortKey::Email => user.primary_email().map(Cow::Borrowed),
        SortKey::UserName => Some(Cow::Borrowed(user.user_name.as_str())),
        SortKey::Role => shop
            .and_then(|s| s.role.as_ref())
            .map(|v| Cow::Borrowed(v.as_str())),
        SortKey::Licence => shop
            .and_then(|s| s.licence.as_ref())
            .map(|v| Cow::Borrowed(v.as_str())),
        SortKey::Status => Some(Cow::Borrowed(user.status_name())),
        SortKey::Branch => shop
            .and_then(|s| s.home_branch.as_deref())
            .map(Cow::Borrowed),
        SortKey::SecurityGroup => shop
            .and_then(|s| s.security_group.as_deref())
            .map(Cow::Borrowed),
        SortKey::LastSignIn | SortKey::Created | SortKey::LastModified | SortKey::Invitation => {
            None
        }
    };
    text.filter(|t| !t.is_empty()).map(|t| {
        if t.bytes().any(|b| b.is_ascii_uppercase() || !b.is_ascii()) {
            Cow::Owned(fold(&t))
        } else {
            t
        }
    })
}

fn sort_time(user: &User, key: SortKey) -> Option<i128> {
    let meta = user.meta.as_ref();
    let at = match key {
        SortKey::LastSignIn => user
            .shop
            .as_ref()
            .and_then(|s| s.last_sign_in.as_ref())
            .and_then(|l| l.at),
        SortKey::Created => meta.and_then(|m| m.created),
        SortKey::LastModified => meta.and_then(|m| m.last_modified),
        SortKey::Invitation => {
            return open_invitation_expires(user).map(|at| i128::from(at) * 1_000_000_000);
        }
        _ => None,
    };
    at.map(OffsetDateTime::unix_timestamp_nanos)
}

fn build_orders(users: &[User], keys: &[SortKey]) -> Vec<Order> {
    keys.iter()
        .map(|key| match key {
            SortKey::LastSignIn
            | SortKey::Created
            | SortKey::LastModified
            | SortKey::Invitation => order_by(users.iter().map(|u| sort_time(u, *key)).collect()),
            _ => order_by_text(users.iter().map(|u| sort_text(u, *key)).collect()),
        })
        .collect()
}

/// Orders by text: first by an 8-byte prefix (cheap to sort), then runs sharing a prefix
/// by the whole text.
fn order_by_text(values: Vec<Option<Cow<'_, str>>>) -> Order {
    let mut present: Vec<(u64, u32)> = values
        .iter()
        .enumerate()
        .filter_map(|(row, value)| value.as_deref().map(|v| (prefix(v), row as u32)))
        .collect();
    present.sort_unstable();
    let mut ascending: Vec<u32> = present.iter().map(|(_, row)| *row).collect();
    let text = |row: u32| values[row as usize].as_deref().unwrap_or_default();
    let mut start = 0;
    while start < present.len() {
        let end = start + present[start..].partition_point(|(p, _)| *p == present[start].0);
        if end - start > 1 {
            ascending[start..end].sort_by(|a, b| text(*a).cmp(text(*b)).then(a.cmp(b)));
        }
        start = end;
    }
    finish(
        ascending,
        values.len(),
        |a, b| text(a) == text(b),
        |row| values[row].is_none(),
    )
}

/// Orders by a number (a timestamp).
fn order_by(values: Vec<Option<i128>>) -> Order {
    let mut present: Vec<(i128, u32)> = values
        .iter()
        .enumerate()
        .filter_map(|(row, value)| value.map(|v| (v, row as u32)))
        .collect();
    present.sort_unstable();
    let ascending = present.iter().map(|(_, row)| *row).collect();
    let value = |row: u32| values[row as usize];
    finish(
        ascending,
        values.len(),
        |a, b| value(a) == value(b),
        |row| values[row].is_none(),
    )
}

/// Both permutations from the ascending order of the users with a value: descending
/// reverses the runs of equal values but keeps each run in user order; users without a
/// value follow in user order.
fn finish(
    mut ascending: Vec<u32>,
    len: usize,
    same: impl Fn(u32, u32) -> bool,
    missing: impl Fn(usize) -> bool,
) -> Order {
    let mut descending = Vec::with_capacity(len);
    let mut end = ascending.len();
    while end > 0 {
        let mut start = end - 1;
        while start > 0 && same(ascending[start - 1], ascending[start]) {
            start -= 1;
        }
        descending.extend_from_slice(&ascending[start..end]);
        end = start;
    }
    let absent = (0..len).filter(|row| missing(*row)).map(|row| row as u32);
    let absent: Vec<u32> = absent.collect();
    ascending.extend_from_slice(&absent);
    descending.extend_from_slice(&absent);
    Order {
        ascending,
        descending,
    }
}

/// The first 8 bytes of `text`, big-endian, so that integer order is byte order.
fn prefix(text: &str) -> u64 {
    let mut bytes = [0u8; 8];
    let head = &text.as_bytes()[..text.len().min(8)];
    bytes[..head.len()].copy_from_slice(head);
    u64::from_be_bytes(bytes)
}

/// A fixed-size bit set over users.
#[derive(Debug, Clone)]
struct Bits {
    words: Vec<u64>,
}

impl Bits {
    fn none(len: usize) -> Self {
        Self {
            words: vec![0; len.div_ceil(64)],
        }
    }

    fn all(len: usize) -> Self {
        let mut words = vec![u64::MAX; len.div_ceil(64)];
        if let Some(last) = words.last_mut()
            && !len.is_multiple_of(64)
        {
            *last = (1u64 << (len % 64)) - 1;
        }
        Self { words }
    }

    fn set(&mut self, row: usize) {
        self.words[row / 64] |= 1 << (row % 64);
    }

    fn clear(&mut self, row: usize) {
        self.words[row / 64] &= !(1 << (row % 64));
    }

    fn get(&self, row: usize) -> bool {
        self.words[row / 64] & (1 << (row % 64)) != 0
    }

    fn and(&mut self, other: &Bits) {
        for (word, other) in self.words.iter_mut().zip(&other.words) {
            *word &= other;
        }
    }

    fn or(&mut self, other: &Bits) {
        for (word, other) in self.words.iter_mut().zip(&other.words) {
            *word |= other;
        }
    }

    fn and_not(&mut self, other: &Bits) {
        for (word, other) in self.words.iter_mut().zip(&other.words) {
            *word &= !other;
        }
    }

    fn count(&self) -> usize {
        self.words.iter().map(|w| w.count_ones() as usize).sum()
    }

    fn iter(&self) -> impl Iterator<Item = usize> + '_ {
        self.words.iter().enumerate().flat_map(|(index, word)| {
            let mut word = *word;
            std::iter::from_fn(move || {
                (word != 0).then(|| {
                    let bit = word.trailing_zeros() as usize;
                    word &= word - 1;
                    index * 64 + bit
                })
            })
        })
    }
}
