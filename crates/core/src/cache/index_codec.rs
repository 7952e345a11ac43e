//! The search index in the binary form of [`wire`](super::wire): text, facets, then
//! one segment per sort order.

use super::Kind;
use crate::search;

use super::file::Plain;
use super::wire::{In, Out, Read, bad};

/// The segments of an index: text, facets, then one per sort order.
pub(super) fn index(parts: search::PartsRef<'_>) -> Vec<Plain> {
    let search::PartsRef {
        len,
        text,
        starts,
        facets,
        last_sign_in,
        invitation_expires,
        orders,
    } = parts;
    let mut segments = Vec::with_capacity(2 + orders.len());
    // The text as it is, so that it is read straight into its place.
    segments.push((Kind::IndexText, 0, text.to_vec()));
    let mut out = Out::with_capacity(starts.len() * 8 + last_sign_in.len() * 16 + 4096);
    out.len(len);
    out.u64s(starts.iter().map(|start| *start as u64));
    out.len(facets.len());
    for values in &facets {
        out.len(values.len());
        for (value, words) in values {
            out.inline_str(value);
            out.u64s(words.iter().copied());
        }
    }
    // No sign-in is `i64::MIN`, which no real time is.
    out.u64s(last_sign_in.iter().map(|at| at.unwrap_or(i64::MIN) as u64));
    out.u64s(
        invitation_expires
            .iter()
            .map(|at| at.unwrap_or(i64::MIN) as u64),
    );
    segments.push((Kind::IndexFacets, 0, out.finish()));
    for (key, (ascending, descending)) in orders.iter().enumerate() {
        let mut out = Out::with_capacity(ascending.len() * 8 + 16);
        out.len(key);
        out.u32s(ascending);
        out.u32s(descending);
        segments.push((Kind::IndexOrder, 0, out.finish()));
    }
    segments
}

/// The index's row count, text offsets, facets, sign-in times and invitation expiries.
pub(super) fn read_index_facets(bytes: &[u8]) -> Read<search::Parts> {
    let mut input = In::new(bytes)?;
    let len = usize::try_from(input.varint()?).map_err(|_| bad("length"))?;
    let starts = input
        .u64s()?
        .into_iter()
        .map(usize::try_from)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|_| bad("offset"))?;
    let facets = input.list(|input| {
        input.list(|input| {
            let value = input.inline_string()?;
            let words = input.u64s()?;
            Ok((value, words))
        })
    })?;
    let mut times = || -> Read<Vec<Option<i64>>> {
        Ok(input
            .u64s()?
            .into_iter()
            .map(|at| Some(at as i64).filter(|at| *at != i64::MIN))
            .collect())
    };
    let last_sign_in = times()?;
    let invitation_expires = times()?;
    input.end()?;
    Ok(search::Parts {
        len,
        starts,
        facets,
        last_sign_in,
        invitation_expires,
        ..search::Parts::default()
    })
}

pub(super) fn read_index_order(bytes: &[u8]) -> Read<(usize, Vec<u32>, Vec<u32>)> {
    let mut input = In::new(bytes)?;
    let key = usize::try_from(input.varint()?).map_err(|_| bad("sort key"))?;
    let ascending = input.u32s()?;
    let descending = input.u32s()?;
    input.end()?;
    Ok((key, ascending, descending))
}
