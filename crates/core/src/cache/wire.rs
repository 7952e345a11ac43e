//! The wire form shared by every binary segment.
//!
//! The binary form of users, groups and index parts.
//!
//! A segment starts with its strings: their count, each one's length, then all of them
//! as one UTF-8 run (checked once when read); each distinct string is stored once. The
//! rest refers to strings by number, and holds varint (LEB128) counts and numbers,
//! options as a leading tag (strings: number + 1, 0 for none), times as Unix seconds,
//! nanoseconds and offset. Attributes this crate does not model (`extra`) are kept as
//! JSON text.
//!
//! A user on its own ([`PackedUser`](super::PackedUser)) is written the same way but
//! with every string where it stands (its length, then its bytes; options: length + 1,
//! 0 for none), so that it can be read with no segment around it.
//!
//! Encoders destructure every struct without `..`, so a field added to `muster-scim`
//! fails to compile here rather than being silently dropped from the cache.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use muster_scim::Extra;
use serde_json::{Map, Value};
use time::{OffsetDateTime, UtcOffset};

use super::{CacheError, Unusable};

/// FNV-1a: a quick hash for the strings of one segment (no adversary here: the
/// strings are the ones being written).
pub(super) struct Fnv(u64);

impl Default for Fnv {
    fn default() -> Self {
        Self(0xcbf2_9ce4_8422_2325)
    }
}

impl Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for byte in bytes {
            self.0 = (self.0 ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3);
        }
    }
}

/// A growing segment.
#[derive(Default)]
pub(super) struct Out<'a> {
    pub(super) bytes: Vec<u8>,
    /// Distinct strings, in order of first use.
    pub(super) strings: Vec<&'a str>,
    pub(super) numbers: HashMap<&'a str, u64, BuildHasherDefault<Fnv>>,
    /// Strings written where they stand rather than numbered (a user on its own).
    pub(super) inline: bool,
}

impl<'a> Out<'a> {
    pub(super) fn with_capacity(capacity: usize) -> Self {
        Self {
            bytes: Vec::with_capacity(capacity),
            ..Self::default()
        }
    }

    /// An item on its own: no string table, every string where it stands.
    pub(super) fn inline(capacity: usize) -> Self {
        Self {
            inline: true,
            ..Self::with_capacity(capacity)
        }
    }

    /// The segment: strings, then the rest.
    pub(super) fn finish(self) -> Vec<u8> {
        let text: usize = self.strings.iter().map(|s| s.len()).sum();
        let mut out = Out::with_capacity(text + self.strings.len() * 2 + self.bytes.len() + 8);
        out.len(self.strings.len());
        for text in &self.strings {
            out.len(text.len());
        }
        for text in &self.strings {
            out.bytes.extend_from_slice(text.as_bytes());
        }
        out.bytes.extend_from_slice(&self.bytes);
        out.bytes
    }

    pub(super) fn byte(&mut self, byte: u8) {
        self.bytes.push(byte);
    }

    pub(super) fn varint(&mut self, mut value: u64) {
        while value >= 0x80 {
            self.bytes.push((value as u8) | 0x80);
            value >>= 7;
        }
        self.bytes.push(value as u8);
    }

    pub(super) fn len(&mut self, len: usize) {
        self.varint(len as u64);
    }

    pub(super) fn signed(&mut self, value: i64) {
        self.varint(((value << 1) ^ (value >> 63)) as u64);
    }

    pub(super) fn number(&mut self, text: &'a str) -> u64 {
        let next = self.strings.len() as u64;
        let number = *self.numbers.entry(text).or_insert(next);
        if number == next {
            self.strings.push(text);
        }
        number
    }

    pub(super) fn str(&mut self, text: &'a str) {
        if self.inline {
            self.inline_str(text);
            return;
        }
        let number = self.number(text);
        self.varint(number);
    }

    pub(super) fn opt_str(&mut self, text: Option<&'a str>) {
        match text {
            None => self.byte(0),
            Some(text) if self.inline => {
                self.len(text.len() + 1);
                self.bytes.extend_from_slice(text.as_bytes());
            }
            Some(text) => {
                let number = self.number(text);
                self.varint(number + 1);
            }
        }
    }

    /// A string written where it stands (for index parts, whose strings are few).
    pub(super) fn inline_str(&mut self, text: &str) {
        self.len(text.len());
        self.bytes.extend_from_slice(text.as_bytes());
    }

    pub(super) fn opt_bool(&mut self, value: Option<bool>) {
        self.byte(match value {
            None => 0,
            Some(false) => 1,
            Some(true) => 2,
        });
    }

    pub(super) fn opt_time(&mut self, at: Option<OffsetDateTime>) {
        let Some(at) = at else {
            self.byte(0);
            return;
        };
        self.byte(1);
        self.signed(at.unix_timestamp());
        self.varint(u64::from(at.nanosecond()));
        self.signed(i64::from(at.offset().whole_seconds()));
    }

    pub(super) fn strings(&mut self, values: &'a [String]) {
        self.len(values.len());
        for value in values {
            self.str(value);
        }
    }

    pub(super) fn opt<T>(
        &mut self,
        value: Option<&'a T>,
        f: impl FnOnce(&mut Self, &'a T) -> Result<(), CacheError>,
    ) -> Result<(), CacheError> {
        match value {
            None => {
                self.byte(0);
                Ok(())
            }
            Some(value) => {
                self.byte(1);
                f(self, value)
            }
        }
    }

    pub(super) fn list<T>(
        &mut self,
        values: &'a [T],
        mut f: impl FnMut(&mut Self, &'a T) -> Result<(), CacheError>,
    ) -> Result<(), CacheError> {
        self.len(values.len());
        values.iter().try_for_each(|value| f(self, value))
    }

    /// Unmodelled attributes: nothing when empty, else their JSON.
    pub(super) fn extra(&mut self, extra: &Map<String, Value>) -> Result<(), CacheError> {
        if extra.is_empty() {
            self.byte(0);
            return Ok(());
        }
        let json = serde_json::to_vec(extra).map_err(|e| CacheError::Encode(e.to_string()))?;
        self.len(json.len() + 1);
        self.bytes.extend_from_slice(&json);
        Ok(())
    }

    pub(super) fn u32s(&mut self, values: &[u32]) {
        self.len(values.len());
        self.bytes.reserve(values.len() * 4);
        for value in values {
            self.bytes.extend_from_slice(&value.to_le_bytes());
        }
    }

    pub(super) fn u64s(&mut self, values: impl ExactSizeIterator<Item = u64>) {
        self.len(values.len());
        self.bytes.reserve(values.len() * 8);
        for value in values {
            self.bytes.extend_from_slice(&value.to_le_bytes());
        }
    }
}

/// A segment being read; every read is bounds-checked.
pub(super) struct In<'a> {
    pub(super) bytes: &'a [u8],
    pub(super) strings: Vec<&'a str>,
    /// Strings stand where they are used (see [`Out::inline`]).
    pub(super) inline: bool,
}

pub(super) type Read<T> = Result<T, Unusable>;

pub(super) fn bad(what: &str) -> Unusable {
    Unusable::Malformed(format!("bad {what}"))
}

impl<'a> In<'a> {
    /// Reads the segment's strings; the rest is read by the other methods.
    pub(super) fn new(bytes: &'a [u8]) -> Read<Self> {
        let mut input = In {
            bytes,
            strings: Vec::new(),
            inline: false,
        };
        let count = input.len()?;
        let mut lens = Vec::with_capacity(count);
        let mut total = 0usize;
        for _ in 0..count {
            let len = input.len()?;
            total = total.checked_add(len).ok_or_else(|| bad("length"))?;
            lens.push(len);
        }
        let text = std::str::from_utf8(input.take(total)?).map_err(|_| bad("text"))?;
        input.strings.reserve(count);
        let mut at = 0;
        for len in lens {
            let end = at + len;
            input
                .strings
                .push(text.get(at..end).ok_or_else(|| bad("text"))?);
            at = end;
        }
        Ok(input)
    }

    /// An item written by [`Out::inline`].
    pub(super) fn inline(bytes: &'a [u8]) -> Self {
        In {
            bytes,
            strings: Vec::new(),
            inline: true,
        }
    }

    pub(super) fn take(&mut self, len: usize) -> Read<&'a [u8]> {
        if len > self.bytes.len() {
            return Err(bad("length"));
        }
        let (taken, rest) = self.bytes.split_at(len);
        self.bytes = rest;
        Ok(taken)
    }

    pub(super) fn byte(&mut self) -> Read<u8> {
        let (first, rest) = self.bytes.split_first().ok_or_else(|| bad("length"))?;
        self.bytes = rest;
        Ok(*first)
    }

    pub(super) fn varint(&mut self) -> Read<u64> {
        let mut value = 0u64;
        for shift in (0..64).step_by(7) {
            let byte = self.byte()?;
            value |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err(bad("number"))
    }

    /// A length or count, which can never exceed the bytes left (every item takes at
    /// least one), so a bad one cannot ask for a huge allocation.
    pub(super) fn len(&mut self) -> Read<usize> {
        usize::try_from(self.varint()?)
            .ok()
            .filter(|len| *len <= self.bytes.len())
            .ok_or_else(|| bad("length"))
    }

    pub(super) fn signed(&mut self) -> Read<i64> {
        let raw = self.varint()?;
        Ok(((raw >> 1) as i64) ^ -((raw & 1) as i64))
    }

    pub(super) fn numbered(&self, number: u64) -> Read<&'a str> {
        usize::try_from(number)
            .ok()
            .and_then(|number| self.strings.get(number))
            .copied()
            .ok_or_else(|| bad("string number"))
    }

    pub(super) fn str(&mut self) -> Read<&'a str> {
        if self.inline {
            let len = self.len()?;
            return self.text(len);
        }
        let number = self.varint()?;
        self.numbered(number)
    }

    /// The next `len` bytes, as text.
    fn text(&mut self, len: usize) -> Read<&'a str> {
        std::str::from_utf8(self.take(len)?).map_err(|_| bad("text"))
    }

    pub(super) fn string(&mut self) -> Read<String> {
        self.str().map(str::to_owned)
    }

    pub(super) fn opt_str(&mut self) -> Read<Option<&'a str>> {
        match self.varint()? {
            0 => Ok(None),
            len if self.inline => {
                let len = usize::try_from(len - 1).map_err(|_| bad("length"))?;
                self.text(len).map(Some)
            }
            number => self.numbered(number - 1).map(Some),
        }
    }

    pub(super) fn opt_string(&mut self) -> Read<Option<String>> {
        Ok(self.opt_str()?.map(str::to_owned))
    }

    pub(super) fn inline_string(&mut self) -> Read<String> {
        let len = self.len()?;
        self.text(len).map(str::to_owned)
    }

    pub(super) fn opt_bool(&mut self) -> Read<Option<bool>> {
        match self.byte()? {
            0 => Ok(None),
            1 => Ok(Some(false)),
            2 => Ok(Some(true)),
            _ => Err(bad("flag")),
        }
    }

    pub(super) fn opt_time(&mut self) -> Read<Option<OffsetDateTime>> {
        if self.flag()? {
            let seconds = self.signed()?;
            let nanos = u32::try_from(self.varint()?).map_err(|_| bad("time"))?;
            let offset = i32::try_from(self.signed()?).map_err(|_| bad("time"))?;
            let offset = UtcOffset::from_whole_seconds(offset).map_err(|_| bad("time"))?;
            OffsetDateTime::from_unix_timestamp(seconds)
                .ok()
                .and_then(|at| at.replace_nanosecond(nanos).ok())
                .and_then(|at| at.checked_to_offset(offset))
                .map(Some)
                .ok_or_else(|| bad("time"))
        } else {
            Ok(None)
        }
    }

    pub(super) fn flag(&mut self) -> Read<bool> {
        match self.byte()? {
            0 => Ok(false),
            1 => Ok(true),
            _ => Err(bad("flag")),
        }
    }

    pub(super) fn strings(&mut self) -> Read<Vec<String>> {
        self.list(Self::string)
    }

    pub(super) fn opt<T>(&mut self, f: impl FnOnce(&mut Self) -> Read<T>) -> Read<Option<T>> {
        if self.flag()? {
            f(self).map(Some)
        } else {
            Ok(None)
        }
    }

    pub(super) fn list<T>(&mut self, mut f: impl FnMut(&mut Self) -> Read<T>) -> Read<Vec<T>> {
        let count = self.len()?;
        let mut items = Vec::with_capacity(count);
        for _ in 0..count {
            items.push(f(self)?);
        }
        Ok(items)
    }

    pub(super) fn extra(&mut self) -> Read<Extra> {
        match self.extra_json()? {
            None => Ok(Extra::default()),
            Some(json) => serde_json::from_slice::<Map<String, Value>>(json)
                .map(Extra::from)
                .map_err(|_| bad("attributes")),
        }
    }

    /// The JSON text of unmodelled attributes (written as its length + 1, 0 for none:
    /// the text can end the bytes, so the length is not held to [`len`](Self::len)'s
    /// bound).
    fn extra_json(&mut self) -> Read<Option<&'a [u8]>> {
        match self.varint()? {
            0 => Ok(None),
            len => {
                let len = usize::try_from(len - 1).map_err(|_| bad("length"))?;
                self.take(len).map(Some)
            }
        }
    }

    /// Passes over unmodelled attributes without reading their JSON.
    pub(super) fn skip_extra(&mut self) -> Read<()> {
        self.extra_json().map(drop)
    }

    pub(super) fn u32s(&mut self) -> Read<Vec<u32>> {
        let count = self.varint()?;
        let bytes = usize::try_from(count)
            .ok()
            .and_then(|count| count.checked_mul(4))
            .ok_or_else(|| bad("length"))?;
        let bytes = self.take(bytes)?;
        Ok(bytes
            .chunks_exact(4)
            .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect())
    }

    pub(super) fn u64s(&mut self) -> Read<Vec<u64>> {
        let count = self.varint()?;
        let bytes = usize::try_from(count)
            .ok()
            .and_then(|count| count.checked_mul(8))
            .ok_or_else(|| bad("length"))?;
        let bytes = self.take(bytes)?;
        Ok(bytes
            .chunks_exact(8)
            .map(|b| u64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]))
            .collect())
    }

    pub(super) fn end(&self) -> Read<()> {
        if self.bytes.is_empty() {
            Ok(())
        } else {
            Err(bad("segment end"))
        }
    }
}

#[cfg(test)]
pub(super) fn test_varint(out: &mut Out<'_>, value: u64) {
    out.varint(value);
}

#[cfg(test)]
pub(super) fn test_finish(out: Out<'_>) -> Vec<u8> {
    out.finish()
}

#[cfg(test)]
pub(super) fn test_read_varint(bytes: &[u8]) -> Option<u64> {
    In::new(bytes).and_then(|mut input| input.varint()).ok()
}

/// A segment of `items`: their count, then each.
pub(super) fn segment<'a, T>(
    items: &'a [T],
    item: impl FnMut(&mut Out<'a>, &'a T) -> Result<(), CacheError>,
) -> Result<Vec<u8>, CacheError> {
    let mut out = Out::with_capacity(items.len() * 256);
    out.list(items, item)?;
    Ok(out.finish())
}

/// The items of a segment written by [`segment`].
pub(super) fn read_segment<T>(bytes: &[u8], item: fn(&mut In<'_>) -> Read<T>) -> Read<Vec<T>> {
    let mut input = In::new(bytes)?;
    let items = input.list(item)?;
    input.end()?;
    Ok(items)
}
