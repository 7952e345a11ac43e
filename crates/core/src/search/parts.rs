//! The index taken apart to be stored with its snapshot, and put together again after
//! checking that every part fits.

use std::collections::HashMap;

use super::{Bits, FACETS, Index, Order, SortKey};

/// An [`Index`] as stored, borrowed from it ([`Index::parts`]).
#[derive(Debug)]
pub(crate) struct PartsRef<'a> {
    pub len: usize,
    pub text: &'a [u8],
    pub starts: &'a [usize],
    /// Per facet: each folded value and its bit set's words, values in order.
    pub facets: Vec<Vec<(&'a str, &'a [u64])>>,
    pub last_sign_in: &'a [Option<i64>],
    pub invitation_expires: &'a [Option<i64>],
    pub orders: Vec<(&'a [u32], &'a [u32])>,
}

/// An [`Index`] taken apart, as read back from the cache file.
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

impl Index {
    /// The index's contents as they are, for the cache file to store (see
    /// [`crate::cache`]): borrowed, so that storing an index kept in use copies nothing
    /// but what the file's encoding writes.
    pub(crate) fn parts(&self) -> PartsRef<'_> {
        PartsRef {
            len: self.len,
            text: &self.text,
            starts: &self.starts,
            facets: self
                .facets
                .iter()
                .map(|facet| {
                    let mut values: Vec<(&str, &[u64])> = facet
                        .iter()
                        .map(|(value, bits)| (value.as_str(), bits.words.as_slice()))
                        .collect();
                    // Deterministic output: the same users give the same bytes.
                    values.sort_unstable_by(|a, b| a.0.cmp(b.0));
                    values
                })
                .collect(),
            last_sign_in: &self.last_sign_in,
            invitation_expires: &self.invitation_expires,
            orders: self
                .orders
                .iter()
                .map(|order| (order.ascending.as_slice(), order.descending.as_slice()))
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
}
