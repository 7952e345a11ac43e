//! Building an index: the searchable text, the facets' bit sets and the pre-sorted
//! orders, from the users, one user at a time ([`Builder`]): so the users need not all be
//! held at once (the copy's packed users are read one by one for it), and the work splits
//! over the cores by rows.

use std::borrow::Cow;
use std::collections::HashMap;
use std::ops::Deref;

use muster_scim::user::{InvitationState, User};
use time::OffsetDateTime;

use super::{Bits, FACETS, Facet, Index, Order, SortKey, fold};

/// An index being built: what it needs of each user pushed so far, row by row.
#[derive(Debug)]
pub struct Builder {
    text: Vec<u8>,
    /// Where each row's text starts.
    starts: Vec<usize>,
    /// Per facet: each value as users hold it → the rows holding it (folded at the end,
    /// so that values differing only in case are one).
    facets: Vec<HashMap<String, Vec<u32>>>,
    last_sign_in: Vec<Option<i64>>,
    invitation_expires: Vec<Option<i64>>,
    /// Per sort key (in [`SortKey::ALL`] order), each row's value.
    keys: Vec<Keyed>,
}

/// The values of one sort key, by row.
#[derive(Debug)]
enum Keyed {
    Time(Vec<Option<i128>>),
    Text(Vec<Option<Box<str>>>),
}

impl Builder {
    /// An empty builder.
    pub fn new() -> Self {
        Self {
            text: Vec::new(),
            starts: Vec::new(),
            last_sign_in: Vec::new(),
            invitation_expires: Vec::new(),
            facets: FACETS.iter().map(|_| HashMap::new()).collect(),
            keys: SortKey::ALL
                .iter()
                .map(|key| {
                    if is_time(*key) {
                        Keyed::Time(Vec::new())
                    } else {
                        Keyed::Text(Vec::new())
                    }
                })
                .collect(),
        }
    }

    /// Indexes `user` as the next row.
    pub fn push(&mut self, user: &User) {
        let row = self.starts.len() as u32;
        self.starts.push(self.text.len());
        push_user_text(user, &mut self.text);
        for (facet, values) in FACETS.iter().zip(&mut self.facets) {
            let many = facet_values_of(user, *facet).iter().map(String::as_str);
            for value in facet_value(user, *facet).into_iter().chain(many) {
                match values.get_mut(value) {
                    Some(rows) => rows.push(row),
                    None => {
                        values.insert(value.to_owned(), vec![row]);
                    }
                }
            }
        }
        self.last_sign_in.push(last_sign_in(user));
        self.invitation_expires.push(open_invitation_expires(user));
        for (key, values) in SortKey::ALL.iter().zip(&mut self.keys) {
            match values {
                Keyed::Time(values) => values.push(sort_time(user, *key)),
                Keyed::Text(values) => values.push(sort_text(user, *key).map(Box::from)),
            }
        }
    }

    /// Adds the rows of `later` after this builder's.
    pub fn append(&mut self, later: Builder) {
        let (offset, base) = (self.starts.len() as u32, self.text.len());
        self.starts
            .extend(later.starts.iter().map(|start| start + base));
        self.text.extend_from_slice(&later.text);
        for (values, more) in self.facets.iter_mut().zip(later.facets) {
            for (value, rows) in more {
                values
                    .entry(value)
                    .or_default()
                    .extend(rows.iter().map(|row| row + offset));
            }
        }
        self.last_sign_in.extend(later.last_sign_in);
        self.invitation_expires.extend(later.invitation_expires);
        for (values, more) in self.keys.iter_mut().zip(later.keys) {
            match (values, more) {
                (Keyed::Time(values), Keyed::Time(more)) => values.extend(more),
                (Keyed::Text(values), Keyed::Text(more)) => values.extend(more),
                // Both builders were made by `new`, so a key holds one kind in both.
                _ => {}
            }
        }
    }

    /// The index: the facets folded, each sort order sorted (on two threads).
    pub fn finish(self) -> Index {
        let Builder {
            text,
            mut starts,
            facets,
            last_sign_in,
            invitation_expires,
            mut keys,
        } = self;
        let len = starts.len();
        starts.push(text.len());
        let later = keys.split_off(keys.len() / 2);
        let (first, later, facets) = std::thread::scope(|scope| {
            let sorter = scope.spawn(move || keys.into_iter().map(sorted).collect::<Vec<_>>());
            let later: Vec<Order> = later.into_iter().map(sorted).collect();
            let facets = facets
                .into_iter()
                .map(|values| folded(values, len))
                .collect();
            let first = sorter
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
            (first, later, facets)
        });
        Index {
            len,
            text,
            starts,
            facets,
            last_sign_in,
            invitation_expires,
            orders: first.into_iter().chain(later).collect(),
        }
    }
}

impl Default for Builder {
    fn default() -> Self {
        Self::new()
    }
}

/// Whether `key` sorts by a time (else by text).
fn is_time(key: SortKey) -> bool {
    matches!(
        key,
        SortKey::LastSignIn | SortKey::Created | SortKey::LastModified | SortKey::Invitation
    )
}

fn sorted(values: Keyed) -> Order {
    match values {
        Keyed::Time(values) => order_by(values),
        Keyed::Text(values) => order_by_text(values),
    }
}

/// One facet's values folded, each with the bit set of its rows.
fn folded(values: HashMap<String, Vec<u32>>, len: usize) -> HashMap<String, Bits> {
    let mut folded: HashMap<String, Bits> = HashMap::with_capacity(values.len());
    for (value, rows) in values {
        let bits = folded
            .entry(fold(&value))
            .or_insert_with(|| Bits::none(len));
        rows.iter().for_each(|row| bits.set(*row as usize));
    }
    folded
}

/// The single value `user` holds for `facet` (for branches: the home branch).
pub(super) fn facet_value(user: &User, facet: Facet) -> Option<&str> {
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
pub(super) fn open_invitation_expires(user: &User) -> Option<i64> {
    let invitation = user.shop.as_ref()?.invitation.as_ref()?;
    if invitation.state.as_ref() == Some(&InvitationState::Accepted) {
        return None;
    }
    invitation.expires_at.map(OffsetDateTime::unix_timestamp)
}

/// The further values `user` holds for a multi-valued `facet` (branches, zones).
pub(super) fn facet_values_of(user: &User, facet: Facet) -> &[String] {
    match (facet, user.shop.as_ref()) {
        (Facet::Branch, Some(shop)) => &shop.branches,
        (Facet::Zone, Some(shop)) => &shop.zones,
        _ => &[],
    }
}

pub(super) fn last_sign_in(user: &User) -> Option<i64> {
    user.shop
        .as_ref()
        .and_then(|s| s.last_sign_in.as_ref())
        .and_then(|l| l.at)
        .map(OffsetDateTime::unix_timestamp)
}

pub(super) fn push_user_text(user: &User, text: &mut Vec<u8>) {
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
pub(super) fn sort_text(user: &User, key: SortKey) -> Option<Cow<'_, str>> {
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

pub(super) fn sort_time(user: &User, key: SortKey) -> Option<i128> {
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

/// Orders by text: first by an 8-byte prefix (cheap to sort), then runs sharing a prefix
/// by the whole text.
pub(super) fn order_by_text<S: Deref<Target = str>>(values: Vec<Option<S>>) -> Order {
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
pub(super) fn order_by(values: Vec<Option<i128>>) -> Order {
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
pub(super) fn finish(
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
pub(super) fn prefix(text: &str) -> u64 {
    let mut bytes = [0u8; 8];
    let head = &text.as_bytes()[..text.len().min(8)];
    bytes[..head.len()].copy_from_slice(head);
    u64::from_be_bytes(bytes)
}
