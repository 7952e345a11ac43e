//! Bringing an index up to date after a few users changed, instead of building it again.
//!
//! The snapshot shares its users ([`PackedUser`]), so a working copy that replaced a user
//! holds a new one in that row and the very same one in every other: the rows that
//! changed are the ones whose pointers differ. When only a few did (a write the server
//! answered, a quiet incremental sync), each part of the index is mended for those rows;
//! the result is exactly what [`Index::build`] would give (a test holds the two equal
//! over random edits). A removed user moves every row after it, so anything but
//! replaced and appended rows is built again.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::ops::Range;

use muster_scim::user::User;

use super::build::{
    facet_value, facet_values_of, last_sign_in, open_invitation_expires, push_user_text, sort_text,
    sort_time,
};
use super::{Bits, FACETS, Index, Order, SortKey, fold};
use crate::cache::PackedUser;

/// More changed rows than this, and building afresh is as quick.
const MOST_MENDED: usize = 256;

impl Index {
    /// The index of `new`, from this index of `old` (the caller's word: only the length is
    /// checked), mended for the rows whose users changed (by pointer) or were appended;
    /// `None` when a fresh build is the way: users removed (every row after them moves),
    /// more than a few rows changed, `old` not as long as this index, or this index not a
    /// built one (the empty `Index::default()` of a copy that was missing).
    pub fn updated(&self, old: &[PackedUser], new: &[PackedUser]) -> Option<Self> {
        let built = self.orders.len() == SortKey::ALL.len()
            && self.facets.len() == FACETS.len()
            && self.starts.len() == self.len + 1;
        if !built || self.len != old.len() || new.len() < old.len() {
            return None;
        }
        let mut changed: Vec<usize> = Vec::new();
        for (row, (before, after)) in old.iter().zip(new).enumerate() {
            if !before.same(after) {
                if changed.len() == MOST_MENDED {
                    return None;
                }
                changed.push(row);
            }
        }
        let appended = old.len()..new.len();
        if changed.len() + appended.len() > MOST_MENDED {
            return None;
        }
        let rows: Vec<usize> = changed.iter().copied().chain(appended).collect();
        let decoded: HashMap<usize, User> =
            rows.iter().map(|&row| (row, new[row].user())).collect();
        let users = |row: usize| &decoded[&row];
        let (text, starts) = self.mended_text(&rows, new.len(), users);
        let mut last_sign_in = self.last_sign_in.clone();
        let mut invitation_expires = self.invitation_expires.clone();
        last_sign_in.resize(new.len(), None);
        invitation_expires.resize(new.len(), None);
        for &row in &rows {
            last_sign_in[row] = self::last_sign_in(users(row));
            invitation_expires[row] = open_invitation_expires(users(row));
        }
        let orders = SortKey::ALL
            .iter()
            .zip(&self.orders)
            .map(|(key, order)| {
                // Rows not mended are read for their value as the search compares them.
                let value = |row: u32| {
                    let row = row as usize;
                    match decoded.get(&row) {
                        Some(user) => owned(value_of(user, *key)),
                        None => owned(value_of(&new[row].user(), *key)),
                    }
                };
                mended_order(order, &rows, new.len(), value)
            })
            .collect();
        Some(Self {
            len: new.len(),
            text,
            starts,
            facets: self.mended_facets(&changed, &rows, new.len(), users),
            last_sign_in,
            invitation_expires,
            orders,
        })
    }

    /// The text with each row in `rows` written afresh, the other rows' copied.
    fn mended_text<'u>(
        &self,
        rows: &[usize],
        len: usize,
        users: impl Fn(usize) -> &'u User,
    ) -> (Vec<u8>, Vec<usize>) {
        let mut text = Vec::with_capacity(self.text.len() + rows.len() * 128);
        let mut starts = Vec::with_capacity(len + 1);
        let mut sorted = rows.to_vec();
        sorted.sort_unstable();
        let mut next = 0;
        for row in sorted {
            self.copy_rows(next..row.min(self.len), &mut text, &mut starts);
            starts.push(text.len());
            push_user_text(users(row), &mut text);
            next = row + 1;
        }
        self.copy_rows(next..self.len, &mut text, &mut starts);
        starts.push(text.len());
        (text, starts)
    }

    /// The old `rows`' text appended to `text`, and where each starts to `starts`.
    fn copy_rows(&self, rows: Range<usize>, text: &mut Vec<u8>, starts: &mut Vec<usize>) {
        if rows.is_empty() {
            return;
        }
        let (first, base) = (self.starts[rows.start], text.len());
        starts.extend(
            self.starts[rows.clone()]
                .iter()
                .map(|start| start - first + base),
        );
        text.extend_from_slice(&self.text[first..self.starts[rows.end]]);
    }

    /// Each facet's bit sets, grown to `len`, with the `changed` rows taken out of the
    /// values they held and every row in `rows` put under the values it holds now. A
    /// value nobody holds any more goes, as a fresh build would not have it.
    fn mended_facets<'u>(
        &self,
        changed: &[usize],
        rows: &[usize],
        len: usize,
        users: impl Fn(usize) -> &'u User,
    ) -> Vec<HashMap<String, Bits>> {
        let words = len.div_ceil(64);
        FACETS
            .iter()
            .zip(&self.facets)
            .map(|(facet, values)| {
                let mut values = values.clone();
                values.retain(|_, bits| {
                    bits.words.resize(words, 0);
                    let held = changed.iter().any(|&row| bits.get(row));
                    changed.iter().for_each(|&row| bits.clear(row));
                    !held || bits.words.iter().any(|word| *word != 0)
                });
                for &row in rows {
                    let user = users(row);
                    let many = facet_values_of(user, *facet).iter().map(String::as_str);
                    for value in facet_value(user, *facet).into_iter().chain(many) {
                        match values.entry(fold(value)) {
                            Entry::Occupied(mut entry) => entry.get_mut().set(row),
                            Entry::Vacant(entry) => entry.insert(Bits::none(len)).set(row),
                        }
                    }
                }
                values
            })
            .collect()
    }
}

/// A sort key's value for one user, compared as [`Index::build`] orders them.
#[derive(PartialEq, PartialOrd)]
enum Value<'u> {
    Text(std::borrow::Cow<'u, str>),
    Time(i128),
}

/// A value that outlives the user it was read from.
fn owned(value: Option<Value<'_>>) -> Option<Value<'static>> {
    value.map(|value| match value {
        Value::Text(text) => Value::Text(std::borrow::Cow::Owned(text.into_owned())),
        Value::Time(time) => Value::Time(time),
    })
}

fn value_of(user: &User, key: SortKey) -> Option<Value<'_>> {
    match key {
        SortKey::LastSignIn | SortKey::Created | SortKey::LastModified | SortKey::Invitation => {
            sort_time(user, key).map(Value::Time)
        }
        _ => sort_text(user, key).map(Value::Text),
    }
}

/// `order` with each row in `rows` taken out and put back where its value now sorts:
/// ascending by value, then row; descending by value, then row; users without a value
/// last in row order, both ways.
fn mended_order(
    order: &Order,
    rows: &[usize],
    len: usize,
    value: impl Fn(u32) -> Option<Value<'static>>,
) -> Order {
    let moved = {
        let mut moved = Bits::none(len);
        rows.iter().for_each(|&row| moved.set(row));
        moved
    };
    let mut mended = [&order.ascending, &order.descending].map(|permutation| {
        let mut kept = Vec::with_capacity(len);
        kept.extend(permutation.iter().filter(|&&row| !moved.get(row as usize)));
        kept
    });
    for &row in rows {
        let row = row as u32;
        let mine = value(row);
        for (direction, permutation) in mended.iter_mut().enumerate() {
            let valued = permutation.partition_point(|&other| value(other).is_some());
            let at = match &mine {
                None => valued + permutation[valued..].partition_point(|&other| other < row),
                Some(mine) => permutation[..valued].partition_point(|&other| {
                    let Some(theirs) = value(other) else {
                        return false;
                    };
                    let before = if direction == 0 {
                        theirs < *mine
                    } else {
                        theirs > *mine
                    };
                    before || (theirs == *mine && other < row)
                }),
            };
            permutation.insert(at, row);
        }
    }
    let [ascending, descending] = mended;
    Order {
        ascending,
        descending,
    }
}
