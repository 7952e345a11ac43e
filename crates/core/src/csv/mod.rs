//! CSV in and out: exporting users (a search view of the offline copy, or any list of
//! users) and importing people to invite.
//!
//! - [`Writer`]: RFC 4180 records (comma separated, CRLF line ends, a field quoted when it
//!   holds a comma, quote, CR or LF, quotes doubled), UTF-8, optionally after a byte-order
//!   mark for Excel. Cells that a spreadsheet would run as a formula (starting with `=`,
//!   `+`, `-`, `@`, a tab or a carriage return) get a leading `'` (OWASP "CSV injection").
//! - [`parse`] / [`read_file`]: a strict reader for files people bring: RFC 4180 quoting,
//!   CRLF, LF or CR line ends, a byte-order mark tolerated, `;` or tab found as the
//!   separator, size, row and field limits ([`Limits`]), and errors that name the line.
//!   Rows with the wrong number of fields are kept for the caller to report
//!   ([`Record::fields`]).
//! - [`columns`]: the user columns an export offers and how each reads a user.
//! - [`export`]: every row of a search view (or a list of users), streamed to a `Write`.
//! - [`import`]: header mapping, a validation preview of every row before anything is
//!   sent, the run (create, then send the welcome email) and its results report.
//!
//! Nothing here needs the network except [`import::run`]; an export works offline.
//!
//! The `csv` crate reads and writes the records. What stays ours is policy it does not
//! have: the formula guard, the separator found in the header, refusing stray quotes
//! (`csv` reads them leniently and has no strict mode), the limits, blank lines kept as
//! rows, and messages that name the line. The tests beside each file pin all of it.

pub mod columns;
pub mod export;
pub mod import;
mod read;
mod write;

pub use read::{Limits, Record, Table, parse, read_file};
pub use write::{BOM, Writer};
