//! Reading CSV that people bring: strict about quoting (so a stray quote is found at its
//! line, not after it has swallowed the rest of the file), lenient about what spreadsheets
//! vary in (CRLF or LF or CR line ends, a byte-order mark, `;` or tab instead of `,`).

use std::io::Read;
use std::path::Path;

use crate::error::Error;

/// How much a file may hold. An import sends one request or two per row, so these keep a
/// mistaken file (a whole database dump) from turning into hours of requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The largest file, in bytes: 10 MB by default.
    pub max_bytes: usize,
    /// The most rows after the header: 10,000 by default.
    pub max_rows: usize,
    /// The most fields in one row: 500 by default.
    pub max_fields: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_bytes: 10 * 1024 * 1024,
            max_rows: 10_000,
            max_fields: 500,
        }
    }
}

/// A parsed file: the header row and the rows after it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    /// The header row's fields, trimmed.
    pub headers: Vec<String>,
    /// The rows after the header, blank lines included (as one empty field).
    pub rows: Vec<Record>,
    /// The separator found in the header row: `,`, `;` or a tab.
    pub delimiter: char,
}

/// One row of a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// The line the row starts on (the header is line 1): its row number in a
    /// spreadsheet, unless a field above it spans lines.
    pub row: u32,
    /// The fields, unquoted and not trimmed. A row may hold more or fewer fields than
    /// the header ("ragged"); the caller decides what that means.
    pub fields: Vec<String>,
}

impl Record {
    /// Whether every field is empty or blank (a blank line, or a row of empty cells).
    pub fn is_blank(&self) -> bool {
        self.fields.iter().all(|f| f.trim().is_empty())
    }
}

/// Reads a CSV file (see [`parse`]), refusing one larger than `limits.max_bytes` before
/// reading it all.
///
/// # Errors
///
/// [`Error::Storage`] when the file cannot be read; [`Error::Validation`] as [`parse`].
pub fn read_file(path: &Path, limits: &Limits) -> Result<Table, Error> {
    let unreadable = |error: std::io::Error| Error::Storage {
        message: format!("Cannot read {}: {error}.", path.display()),
    };
    let file = std::fs::File::open(path).map_err(unreadable)?;
    let mut bytes = Vec::new();
    // One byte more than allowed is enough to know it is too large.
    let cap = u64::try_from(limits.max_bytes)
        .unwrap_or(u64::MAX)
        .saturating_add(1);
    file.take(cap).read_to_end(&mut bytes).map_err(unreadable)?;
    parse(&bytes, limits)
}

/// Parses CSV text: RFC 4180 fields (quoted fields may hold separators, quotes doubled,
/// and line breaks), records ended by CRLF, LF or CR, a UTF-8 byte-order mark ignored.
/// The separator is the one of `,` `;` and tab that the header row holds most of
/// (`,` when it holds none), as spreadsheets set to some languages save with `;`.
///
/// # Errors
///
/// [`Error::Validation`] naming the line for: an empty file or header, text that is not
/// UTF-8, a quote inside an unquoted field, text after a closing quote, a quoted field
/// never closed, and a file over `limits`.
pub fn parse(input: &[u8], limits: &Limits) -> Result<Table, Error> {
    if input.len() > limits.max_bytes {
        return Err(invalid(format!(
            "The file is larger than {}; split it into smaller files.",
            size_words(limits.max_bytes)
        )));
    }
    if input.starts_with(b"\xFF\xFE") || input.starts_with(b"\xFE\xFF") {
        return Err(invalid(
            "The file is UTF-16 text; save it as \"CSV UTF-8\" and try again.".to_owned(),
        ));
    }
    let input = input.strip_prefix(super::BOM).unwrap_or(input);
    let text = std::str::from_utf8(input).map_err(|error| {
        let line = 1 + count_line_ends(&input[..error.valid_up_to()]);
        invalid(format!(
            "Line {line} is not UTF-8 text; save the file as \"CSV UTF-8\" and try again."
        ))
    })?;
    if text.trim().is_empty() {
        return Err(invalid("The file is empty.".to_owned()));
    }
    let delimiter = detect_delimiter(text);
    let mut parser = Parser {
        text,
        bytes: text.as_bytes(),
        pos: 0,
        line: 1,
        delimiter: delimiter as u8,
        limits,
    };
    let header = parser
        .record()?
        .ok_or_else(|| invalid("The file is empty.".to_owned()))?;
    if header.is_blank() {
        return Err(invalid(
            "The first line is empty; it should name the columns (a header row).".to_owned(),
        ));
    }
    let headers = header
        .fields
        .into_iter()
        .map(|h| h.trim().to_owned())
        .collect();
    let mut rows = Vec::new();
    while let Some(record) = parser.record()? {
        if rows.len() == limits.max_rows {
            return Err(invalid(format!(
                "The file has more than {} rows; split it into smaller files.",
                limits.max_rows
            )));
        }
        rows.push(record);
    }
    Ok(Table {
        headers,
        rows,
        delimiter,
    })
}

struct Parser<'a> {
    text: &'a str,
    bytes: &'a [u8],
    pos: usize,
    line: u32,
    delimiter: u8,
    limits: &'a Limits,
}

impl Parser<'_> {
    /// The next record, or `None` at the end of the input.
    fn record(&mut self) -> Result<Option<Record>, Error> {
        if self.pos >= self.bytes.len() {
            return Ok(None);
        }
        let row = self.line;
        let mut fields = Vec::new();
        loop {
            let field = if self.bytes.get(self.pos) == Some(&b'"') {
                self.quoted(row, fields.len() + 1)?
            } else {
                self.unquoted(fields.len() + 1)?
            };
            fields.push(field);
            if fields.len() > self.limits.max_fields {
                return Err(invalid(format!(
                    "Line {row} has more than {} fields.",
                    self.limits.max_fields
                )));
            }
            match self.bytes.get(self.pos) {
                Some(b) if *b == self.delimiter => self.pos += 1,
                Some(b'\r') => {
                    self.pos += 1;
                    if self.bytes.get(self.pos) == Some(&b'\n') {
                        self.pos += 1;
                    }
                    self.line += 1;
                    break;
                }
                Some(b'\n') => {
                    self.pos += 1;
                    self.line += 1;
                    break;
                }
                _ => break,
            }
        }
        Ok(Some(Record { row, fields }))
    }

    /// A field in quotes, starting at the opening quote; leaves `pos` after the closing
    /// one.
    fn quoted(&mut self, row: u32, number: usize) -> Result<String, Error> {
        let opened_on = self.line;
        self.pos += 1;
        let mut value = String::new();
        loop {
            let Some(offset) = memchr::memchr(b'"', &self.bytes[self.pos..]) else {
                return Err(invalid(format!(
                    "Line {opened_on}: field {number} opens a quote that is never closed."
                )));
            };
            let end = self.pos + offset;
            let segment = &self.text[self.pos..end];
            self.line += count_line_ends(segment.as_bytes());
            value.push_str(segment);
            self.pos = end + 1;
            if self.bytes.get(self.pos) == Some(&b'"') {
                value.push('"');
                self.pos += 1;
            } else {
                break;
            }
        }
        match self.bytes.get(self.pos) {
            None | Some(b'\r') | Some(b'\n') => Ok(value),
            Some(b) if *b == self.delimiter => Ok(value),
            Some(_) => Err(invalid(format!(
                "Line {}: field {number} of the row starting on line {row} has text after its \
                 closing quote; a quote inside a quoted field is written twice (\"\").",
                self.line
            ))),
        }
    }

    /// A field without quotes; leaves `pos` at the separator or line end after it.
    fn unquoted(&mut self, number: usize) -> Result<String, Error> {
        let rest = &self.bytes[self.pos..];
        let length = rest
            .iter()
            .position(|b| *b == self.delimiter || *b == b'\r' || *b == b'\n')
            .unwrap_or(rest.len());
        let field = &self.text[self.pos..self.pos + length];
        if field.contains('"') {
            return Err(invalid(format!(
                "Line {}: field {number} holds a quote but is not in quotes; put the whole \
                 field in quotes and write the quote twice (\"\").",
                self.line
            )));
        }
        self.pos += length;
        Ok(field.to_owned())
    }
}

/// The separator the first line (outside quotes) holds most of.
fn detect_delimiter(text: &str) -> char {
    let mut counts = [0usize; 3];
    let mut quoted = false;
    for c in text.chars() {
        match c {
            '"' => quoted = !quoted,
            '\r' | '\n' if !quoted => break,
            ',' if !quoted => counts[0] += 1,
            ';' if !quoted => counts[1] += 1,
            '\t' if !quoted => counts[2] += 1,
            _ => {}
        }
    }
    let candidates = [',', ';', '\t'];
    let mut best = 0;
    for i in 1..3 {
        if counts[i] > counts[best] {
            best = i;
        }
    }
    candidates[best]
}

/// Line ends in `bytes`: LF, CRLF (once) and a lone CR.
fn count_line_ends(bytes: &[u8]) -> u32 {
    let mut count = 0u32;
    for (i, b) in bytes.iter().enumerate() {
        match b {
            b'\n' => count = count.saturating_add(1),
            b'\r' if bytes.get(i + 1) != Some(&b'\n') => count = count.saturating_add(1),
            _ => {}
        }
    }
    count
}

fn size_words(bytes: usize) -> String {
    if bytes >= 1024 * 1024 {
        format!("{} MB", bytes / (1024 * 1024))
    } else {
        format!("{} KB", bytes.div_ceil(1024))
    }
}

fn invalid(message: String) -> Error {
    Error::Validation {
        message,
        scim_type: None,
        fields: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn table(text: &str) -> Table {
        parse(text.as_bytes(), &Limits::default()).unwrap()
    }

    fn refusal(text: &[u8]) -> String {
        parse(text, &Limits::default()).unwrap_err().to_string()
    }

    fn fields(table: &Table) -> Vec<Vec<&str>> {
        table
            .rows
            .iter()
            .map(|r| r.fields.iter().map(String::as_str).collect())
            .collect()
    }

    #[test]
    fn quoted_fields_hold_separators_quotes_and_line_breaks() {
        let t = table(
            "name,note\r\n\"Lee, Ann\",\"said \"\"hi\"\"\"\r\n\"two\r\nlines\",x\r\nlast,\"\"\r\n",
        );
        assert_eq!(t.headers, ["name", "note"]);
        assert_eq!(
            fields(&t),
            [
                vec!["Lee, Ann", "said \"hi\""],
                vec!["two\r\nlines", "x"],
                vec!["last", ""],
            ]
        );
        assert_eq!(
            t.rows.iter().map(|r| r.row).collect::<Vec<_>>(),
            [2, 3, 5],
            "rows are numbered by the line they start on"
        );
    }

    #[test]
    fn lf_cr_and_a_missing_last_line_end_are_fine() {
        for text in ["a,b\n1,2\n3,4", "a,b\r1,2\r3,4\r", "a,b\r\n1,2\n3,4\r\n"] {
            let t = table(text);
            assert_eq!(fields(&t), [vec!["1", "2"], vec!["3", "4"]], "{text:?}");
        }
        assert_eq!(
            fields(&table("a,b\n1,\n")),
            [vec!["1", ""]],
            "a trailing separator is an empty last field"
        );
    }

    #[test]
    fn a_byte_order_mark_is_ignored_and_utf16_or_latin1_refused() {
        let t = table("\u{FEFF}Email,Name\nzoë@x.test,Zoë\n");
        assert_eq!(t.headers[0], "Email", "not \\u{{FEFF}}Email");
        assert_eq!(t.rows[0].fields[1], "Zoë");
        assert!(refusal(b"\xFF\xFEE\0").contains("UTF-16"));
        let latin1 = refusal(b"name\nok\nZo\xEB\n");
        assert!(
            latin1.contains("Line 3") && latin1.contains("UTF-8"),
            "{latin1}"
        );
    }

    #[test]
    fn stray_quotes_are_refused_at_their_line() {
        let inside = refusal(b"a,b\n1,2\n5\" pipe,x\n");
        assert!(inside.contains("Line 3"), "{inside}");
        let after = refusal(b"a,b\n\"x\"y,2\n");
        assert!(
            after.contains("Line 2") && after.contains("after"),
            "{after}"
        );
        let open = refusal(b"a,b\n1,2\n\"never closed,3\n4,5\n");
        assert!(
            open.contains("Line 3") && open.contains("never closed"),
            "{open}"
        );
    }

    #[test]
    fn empty_files_and_header_only_files() {
        for text in ["", "   \r\n", "\u{FEFF}"] {
            assert!(refusal(text.as_bytes()).contains("empty"), "{text:?}");
        }
        assert!(refusal(b"\n\nemail\n").contains("first line is empty"));
        let header_only = table("email,name\r\n");
        assert_eq!(header_only.headers, ["email", "name"]);
        assert!(header_only.rows.is_empty());
    }

    #[test]
    fn ragged_and_blank_rows_are_kept_for_the_caller() {
        let t = table("a,b,c\n1,2\n\n1,2,3,4\n,,\n");
        assert_eq!(
            t.rows.iter().map(|r| r.fields.len()).collect::<Vec<_>>(),
            [2, 1, 4, 3]
        );
        assert!(t.rows[1].is_blank() && t.rows[3].is_blank());
        assert!(!t.rows[0].is_blank());
    }

    #[test]
    fn the_separator_is_found_in_the_header() {
        let semi = table("Email;Name\nann@x.test;\"Lee; Ann\"\n");
        assert_eq!(semi.delimiter, ';');
        assert_eq!(fields(&semi), [vec!["ann@x.test", "Lee; Ann"]]);
        let tab = table("Email\tName\nann@x.test\tAnn, Lee\n");
        assert_eq!(tab.delimiter, '\t');
        assert_eq!(fields(&tab), [vec!["ann@x.test", "Ann, Lee"]]);
        assert_eq!(
            table("\"a;b\",c\n1,2\n").delimiter,
            ',',
            "quoted separators do not count"
        );
    }

    #[test]
    fn limits_are_enforced_with_a_clear_message() {
        let limits = Limits {
            max_bytes: 64,
            max_rows: 2,
            max_fields: 3,
        };
        let big = format!("a\n{}", "x\n".repeat(40));
        let error = parse(big.as_bytes(), &limits).unwrap_err().to_string();
        assert!(error.contains("larger than 1 KB"), "{error}");
        let error = parse(b"a\n1\n2\n3\n", &limits).unwrap_err().to_string();
        assert!(error.contains("more than 2 rows"), "{error}");
        assert!(parse(b"a\n1\n2\n", &limits).is_ok(), "exactly at the limit");
        let error = parse(b"a\n1,2,3,4\n", &limits).unwrap_err().to_string();
        assert!(
            error.contains("Line 2") && error.contains("3 fields"),
            "{error}"
        );
        assert!(matches!(
            parse(b"a\n1,2,3,4\n", &limits),
            Err(Error::Validation { .. })
        ));
    }

    #[test]
    fn files_are_read_up_to_the_limit() {
        let dir = std::env::temp_dir().join(format!("muster-csv-read-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("people.csv");
        std::fs::write(&path, "email\nann@x.test\n").unwrap();
        assert_eq!(read_file(&path, &Limits::default()).unwrap().rows.len(), 1);
        let small = Limits {
            max_bytes: 8,
            ..Limits::default()
        };
        assert!(matches!(
            read_file(&path, &small),
            Err(Error::Validation { .. })
        ));
        assert!(matches!(
            read_file(&dir.join("missing.csv"), &Limits::default()),
            Err(Error::Storage { .. })
        ));
        let _ = std::fs::remove_dir_all(dir);
    }
}
