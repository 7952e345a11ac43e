//! What a reader connection remembers of the paged walks it serves, while the database is
//! as it was: each list's `totalResults`, and where its pages ended. A client walking
//! 100 pages then pays for the count once, and a page deep in the walk starts from the
//! row where an earlier page ended instead of skipping every row before it (`OFFSET`
//! walks the index row by row: about 7 ms to reach the 99,000th user, against 0.3 ms to
//! start after a known row).
//!
//! SQLite's `data_version` changes on a connection whenever another one commits, and
//! readers never write: when it moves, everything remembered is forgotten. A page read
//! from a remembered row is kept only if the version is still the same after it was read
//! ([`Walks::unchanged`]), so a commit in between can never make it skip or repeat a row.
//!
//! A list is remembered by the SHA-256 of its SQL and arguments, which can be as long as a
//! filter a caller sends: what a reader holds is bounded by the number of entries alone.

use std::collections::{BTreeMap, HashMap};

use rusqlite::Connection;
use rusqlite::types::Value;
use sha2::{Digest, Sha256};

/// The most counts a reader remembers; past it, it starts over.
const MAX_COUNTS: usize = 256;

/// The most lists whose page ends a reader remembers; past it, it starts over.
const MAX_LISTS: usize = 256;

/// The most page ends a reader remembers, of all lists together: enough for a few walks
/// of a million users at 1,000 a page. With [`MAX_LISTS`], a reader holds at most about
/// 350 KB of them, whatever lists a caller asks for. Past it, it starts over.
const MAX_MARKS: usize = 16_384;

/// What a list or a count is remembered by.
pub type Key = [u8; 32];

/// The key of `text`.
pub fn key_of(text: &str) -> Key {
    Sha256::digest(text.as_bytes()).into()
}

/// A reader connection's memory of the walks it serves.
#[derive(Debug, Default)]
pub struct Walks {
    /// The `data_version` everything below was made at.
    version: Option<i64>,
    /// `count(*)` by its SQL and arguments.
    counts: HashMap<Key, usize>,
    /// By list: the offset of a row and its `seq`, for the rows that ended a page.
    marks: HashMap<Key, BTreeMap<usize, i64>>,
    /// How many page ends `marks` holds in all.
    marked: usize,
}

impl Walks {
    /// Forgets everything if another connection has committed since the last look.
    fn refresh(&mut self, conn: &Connection) -> rusqlite::Result<()> {
        let version = data_version(conn)?;
        if self.version != Some(version) {
            self.counts.clear();
            self.forget_marks();
            self.version = Some(version);
        }
        Ok(())
    }

    /// The `count(*)` that `sql` with `args` answers on `conn`, reused while nothing was
    /// committed since it was made.
    pub fn count(
        &mut self,
        conn: &Connection,
        sql: &str,
        args: &[Value],
    ) -> rusqlite::Result<usize> {
        self.refresh(conn)?;
        let key = key_of(&format!("{sql}\u{1f}{args:?}"));
        if let Some(count) = self.counts.get(&key) {
            return Ok(*count);
        }
        let count: i64 = conn.query_row(sql, rusqlite::params_from_iter(args), |row| row.get(0))?;
        let count = usize::try_from(count).unwrap_or(0);
        if self.counts.len() >= MAX_COUNTS {
            self.counts.clear();
        }
        self.counts.insert(key, count);
        Ok(count)
    }

    /// The nearest row before `offset` in `list` whose `seq` is known: its offset and
    /// `seq`. Valid as of the last [`count`](Self::count) or
    /// [`unchanged`](Self::unchanged) on this connection.
    pub fn mark_before(&self, list: &Key, offset: usize) -> Option<(usize, i64)> {
        let (at, seq) = self.marks.get(list)?.range(..offset).next_back()?;
        Some((*at, *seq))
    }

    /// Whether nothing was committed since the last look; if something was, everything
    /// remembered is forgotten.
    pub fn unchanged(&mut self, conn: &Connection) -> rusqlite::Result<bool> {
        let before = self.version;
        self.refresh(conn)?;
        Ok(before == self.version)
    }

    /// Remembers that the row at `offset` of `list` has `seq`. Call it only after
    /// [`unchanged`](Self::unchanged) said the page it ended was read at the version
    /// remembered.
    pub fn mark(&mut self, list: &Key, offset: usize, seq: i64) {
        if let Some(known) = self.marks.get_mut(list).and_then(|m| m.get_mut(&offset)) {
            *known = seq;
            return;
        }
        let new_list = !self.marks.contains_key(list);
        if self.marked >= MAX_MARKS || new_list && self.marks.len() >= MAX_LISTS {
            self.forget_marks();
        }
        self.marks.entry(*list).or_default().insert(offset, seq);
        self.marked += 1;
    }

    fn forget_marks(&mut self) {
        self.marks.clear();
        self.marked = 0;
    }
}

fn data_version(conn: &Connection) -> rusqlite::Result<i64> {
    conn.query_row("PRAGMA data_version", [], |row| row.get(0))
}

#[cfg(test)]
mod tests {
    use muster_test_support::dirs::TempDir;

    use super::*;

    fn two_connections() -> (TempDir, Connection, Connection) {
        let dir = TempDir::new("walks");
        let path = dir.path().join("walks.db");
        let writer = Connection::open(&path).unwrap();
        writer
            .execute_batch("PRAGMA journal_mode = WAL; CREATE TABLE t (seq INTEGER PRIMARY KEY); INSERT INTO t VALUES (1), (2), (3);")
            .unwrap();
        let reader = Connection::open(&path).unwrap();
        (dir, writer, reader)
    }

    #[test]
    fn marks_and_counts_last_until_another_connection_commits() {
        let (_dir, writer, reader) = two_connections();
        let mut walks = Walks::default();
        let sql = "SELECT count(*) FROM t";
        assert_eq!(walks.count(&reader, sql, &[]).unwrap(), 3);
        walks.mark(&key_of("t"), 0, 1);
        walks.mark(&key_of("t"), 1, 2);
        assert!(walks.unchanged(&reader).unwrap());
        assert_eq!(walks.mark_before(&key_of("t"), 2), Some((1, 2)));
        assert_eq!(
            walks.mark_before(&key_of("t"), 1),
            Some((0, 1)),
            "only rows before the offset"
        );
        assert_eq!(walks.mark_before(&key_of("t"), 0), None);
        assert_eq!(walks.mark_before(&key_of("other"), 5), None);

        writer.execute("INSERT INTO t VALUES (4)", []).unwrap();
        assert!(!walks.unchanged(&reader).unwrap(), "the commit is seen");
        assert_eq!(walks.mark_before(&key_of("t"), 2), None, "and forgotten");
        assert_eq!(walks.count(&reader, sql, &[]).unwrap(), 4, "counted again");
        assert!(walks.unchanged(&reader).unwrap());
    }

    #[test]
    fn memory_is_bounded() {
        let (_dir, _writer, reader) = two_connections();
        let mut walks = Walks::default();
        walks.unchanged(&reader).unwrap();
        for offset in 0..MAX_MARKS {
            walks.mark(&key_of("t"), offset, offset as i64);
        }
        walks.mark(&key_of("t"), 0, 0);
        assert_eq!(
            walks.marked, MAX_MARKS,
            "marking a known row again adds nothing"
        );
        walks.mark(&key_of("u"), 0, 0);
        assert_eq!(
            (walks.marked, walks.marks.len()),
            (1, 1),
            "a full reader starts over"
        );
        // Many lists of one page each: no more lists than MAX_LISTS.
        for list in 0..MAX_LISTS * 3 {
            walks.mark(&key_of(&list.to_string()), 0, 0);
        }
        assert!(walks.marked <= MAX_MARKS && walks.marks.len() <= MAX_LISTS);
        for count in 0..MAX_COUNTS + 10 {
            walks
                .count(&reader, &format!("SELECT count(*) + {count} FROM t"), &[])
                .unwrap();
        }
        assert!(walks.counts.len() <= MAX_COUNTS);
    }
}
