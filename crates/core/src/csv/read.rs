//! Reading CSV that people bring. The `csv` crate splits records and fields; what is ours
//! is the policy around it: strict about quoting (so a stray quote is found at its line,
//! not after it has swallowed the rest of the file), lenient about what spreadsheets vary
//! in (CRLF or LF or CR line ends, a byte-order mark, `;` or tab instead of `,`), limits,
//! and errors that name the line.

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
            crate::error::size_words(u64::try_from(limits.max_bytes).unwrap_or(u64::MAX))
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
    let mut rows = read_records(input, delimiter as u8, limits)?.into_iter();
    let header = rows
        .next()
        .ok_or_else(|| invalid("The file is empty.".to_owned()))?;
    let headers = header
        .fields
        .into_iter()
        .map(|h| h.trim().to_owned())
        .collect();
    Ok(Table {
        headers,
        rows: rows.collect(),
        delimiter,
    })
}

/// Every record of the file, the header first, each with the line it starts on, refused
/// at the first mistake in file order. `csv` skips blank lines; they are put back here as
/// records of one empty field, where they were, as the importer counts them (and a
/// spreadsheet shows them as rows).
fn read_records(input: &[u8], delimiter: u8, limits: &Limits) -> Result<Vec<Record>, Error> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .from_reader(input);
    let mut record = csv::StringRecord::new();
    let mut records: Vec<Record> = Vec::new();
    let mut push = |record: Record| {
        if records.is_empty() && record.is_blank() {
            return Err(invalid(
                "The first line is empty; it should name the columns (a header row).".to_owned(),
            ));
        }
        // The header and `max_rows` rows.
        if records.len() > limits.max_rows {
            return Err(invalid(format!(
                "The file has more than {} rows; split it into smaller files.",
                limits.max_rows
            )));
        }
        records.push(record);
        Ok(())
    };
    // Where the last record starts, its line, and the line after it.
    let (mut start, mut line, mut next_line) = (0, 1u32, 1u32);
    loop {
        let found = reader
            .read_record(&mut record)
            .map_err(|error| invalid(format!("The file cannot be read as CSV: {error}.")))?;
        let at = match record.position() {
            Some(at) if found => text_start(input, at.byte()),
            _ => input.len(),
        };
        let row = line.saturating_add(count_line_ends(&input[start..at]));
        for blank in next_line..row {
            push(Record {
                row: blank,
                fields: vec![String::new()],
            })?;
        }
        if !found {
            break;
        }
        let end = usize::try_from(reader.position().byte()).unwrap_or(input.len());
        let text = &input[at..end.clamp(at, input.len())];
        check_quotes(text, delimiter, row, limits.max_fields)?;
        if record.len() > limits.max_fields {
            return Err(invalid(format!(
                "Line {row} has more than {} fields.",
                limits.max_fields
            )));
        }
        let fields: Vec<String> = record.iter().map(str::to_owned).collect();
        let spanned: u32 = fields.iter().map(|f| count_line_ends(f.as_bytes())).sum();
        (start, line, next_line) = (at, row, row.saturating_add(spanned).saturating_add(1));
        push(Record { row, fields })?;
    }
    Ok(records)
}

/// Where a record's text starts: `csv` gives the position just after the record before,
/// ahead of the blank lines it skipped.
fn text_start(input: &[u8], position: u64) -> usize {
    let at = usize::try_from(position).map_or(input.len(), |at| at.min(input.len()));
    let blank = input[at..]
        .iter()
        .take_while(|b| matches!(b, b'\r' | b'\n'))
        .count();
    at + blank
}

/// Finds, in the text of one record starting on line `row`, the quoting mistakes that
/// `csv` reads leniently and has no strict mode for: a quote inside an unquoted field
/// (kept as text), text after a closing quote (joined to the field) and a quote never
/// closed (the field runs on to the end of the file). Each is refused, naming its line.
/// Fields past `max_fields` are not looked at: the row is refused for its length.
fn check_quotes(bytes: &[u8], delimiter: u8, row: u32, max_fields: usize) -> Result<(), Error> {
    let (mut line, mut field) = (row, 1usize);
    let mut field_start = true;
    let mut i = 0;
    while let Some(&byte) = bytes.get(i) {
        i += 1;
        if byte == b'"' && field_start {
            let opened_on = line;
            loop {
                let Some(offset) = memchr::memchr(b'"', &bytes[i..]) else {
                    return Err(invalid(format!(
                        "Line {opened_on}: field {field} opens a quote that is never closed."
                    )));
                };
                line = line.saturating_add(count_line_ends(&bytes[i..i + offset]));
                i += offset + 1;
                if bytes.get(i) != Some(&b'"') {
                    break;
                }
                i += 1;
            }
            match bytes.get(i) {
                None | Some(b'\r' | b'\n') => {}
                Some(b) if *b == delimiter => {}
                Some(_) => {
                    return Err(invalid(format!(
                        "Line {line}: field {field} of the row starting on line {row} has text \
                         after its closing quote; a quote inside a quoted field is written \
                         twice (\"\")."
                    )));
                }
            }
            field_start = false;
        } else if byte == b'"' {
            return Err(invalid(format!(
                "Line {line}: field {field} holds a quote but is not in quotes; put the whole \
                 field in quotes and write the quote twice (\"\")."
            )));
        } else if byte == delimiter && field > max_fields {
            break;
        } else if byte == delimiter {
            (field, field_start) = (field + 1, true);
        } else if byte == b'\r' || byte == b'\n' {
            // The end of the record.
            break;
        } else {
            field_start = false;
        }
    }
    Ok(())
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

fn invalid(message: String) -> Error {
    Error::refused(message)
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
    fn rows_keep_their_line_numbers_past_blank_lines_and_line_breaks_in_fields() {
        for text in [
            "a,b\n\n1,\"x\ny\"\n\n\n2,z\n",
            "a,b\r\n\r\n1,\"x\r\ny\"\r\n\r\n\r\n2,z\r\n",
            "a,b\r\r1,\"x\ry\"\r\r\r2,z\r",
        ] {
            let t = table(text);
            assert_eq!(
                t.rows.iter().map(|r| r.row).collect::<Vec<_>>(),
                [2, 3, 5, 6, 7],
                "{text:?}"
            );
            assert_eq!(
                t.rows.iter().map(Record::is_blank).collect::<Vec<_>>(),
                [true, false, true, true, false],
                "{text:?}"
            );
            assert_eq!(t.rows[0].fields, [""], "a blank line is one empty field");
        }
    }

    #[test]
    fn blank_lines_at_the_end_are_rows_but_the_last_line_end_is_not() {
        assert_eq!(table("a\n1\n").rows.len(), 1);
        assert_eq!(table("a\n1").rows.len(), 1);
        let t = table("a\n1\n\n\r\n");
        assert_eq!(
            t.rows
                .iter()
                .map(|r| (r.row, r.is_blank()))
                .collect::<Vec<_>>(),
            [(2, false), (3, true), (4, true)]
        );
        let limits = Limits {
            max_rows: 2,
            ..Limits::default()
        };
        let error = parse(b"a\n1\n\n\n", &limits).unwrap_err().to_string();
        assert!(
            error.contains("more than 2 rows"),
            "blank lines count: {error}"
        );
    }

    #[test]
    fn fields_keep_their_spaces_and_headers_are_trimmed() {
        let t = table(" Email ,\"Name \"\n ann@x.test , Ann \n");
        assert_eq!(t.headers, ["Email", "Name"]);
        assert_eq!(fields(&t), [vec![" ann@x.test ", " Ann "]]);
        assert!(
            refusal(b" , \nann@x.test,Ann\n").contains("first line is empty"),
            "a header of blank cells names no column"
        );
    }

    #[test]
    fn quote_errors_name_the_line_after_fields_that_span_lines() {
        let after = refusal(b"a;b\n\"one\ntwo\"x;2\n");
        assert!(
            after.contains("Line 3: field 1 of the row starting on line 2"),
            "{after}"
        );
        let inside = refusal(b"a\tb\n\"x\ny\"\t1\nok\t2 \"inch\"\n");
        assert!(inside.contains("Line 4: field 2 holds a quote"), "{inside}");
        let open = refusal(b"a,b\r\n\"x\r\ny\",1\r\n2,\"open\r\n3,4\r\n");
        assert!(
            open.contains("Line 4: field 2 opens a quote that is never closed"),
            "{open}"
        );
        assert!(
            refusal(b"na\"me,b\n1,2\n").contains("Line 1"),
            "in the header too"
        );
        assert_eq!(
            fields(&table("a;b\n\"x;\"\"y\"\"\";\"\"\n")),
            [vec!["x;\"y\"", ""]],
            "doubled quotes, and a quote right before a separator, are fine"
        );
    }

    #[test]
    fn the_separator_is_a_comma_unless_another_is_more_common() {
        assert_eq!(table("email\nann@x.test\n").delimiter, ',', "none found");
        assert_eq!(table("a,b;c\n1,2;3\n").delimiter, ',', "a tie: the comma");
        assert_eq!(table("a;b\tc\n").delimiter, ';', "a tie: the semicolon");
        assert_eq!(
            fields(&table("a;b\n1,5;2\n")),
            [vec!["1,5", "2"]],
            "a comma is text in a file separated by semicolons"
        );
    }

    #[test]
    fn the_field_limit_names_the_line_after_fields_that_span_lines() {
        let limits = Limits {
            max_fields: 3,
            ..Limits::default()
        };
        let error = parse(b"a\n\"x\ny\"\n1,2,3,4\n", &limits)
            .unwrap_err()
            .to_string();
        assert!(error.contains("Line 4 has more than 3 fields"), "{error}");
        assert!(
            parse(b"a\n1,2,3\n", &limits).is_ok(),
            "exactly at the limit"
        );
        let error = refusal(b"a\rb\r\xFF\r");
        assert!(error.contains("Line 3"), "CR line ends count too: {error}");
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
