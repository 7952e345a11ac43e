//! Writing CSV: RFC 4180 (the `csv` crate's writer), UTF-8, and safe to open in a
//! spreadsheet (ours: cells that would run as formulas are defused first).

use std::borrow::Cow;
use std::io::{self, Write};

/// The UTF-8 byte-order mark. Excel reads a CSV file as UTF-8 only when it starts with
/// one; other tools neither need nor want it, so it is opt-in.
pub const BOM: &[u8] = b"\xEF\xBB\xBF";

/// Writes CSV records to `out`: comma separated, CRLF line ends, a field quoted when it
/// holds a comma, quote, CR or LF (quotes doubled), and every cell defused first (see
/// [`Writer::record`]). It buffers; [`Writer::finish`] flushes.
#[derive(Debug)]
pub struct Writer<W: Write> {
    csv: csv::Writer<W>,
}

impl<W: Write> Writer<W> {
    /// A writer into `out`.
    pub fn new(out: W) -> Self {
        let csv = csv::WriterBuilder::new()
            .terminator(csv::Terminator::CRLF)
            .quote_style(csv::QuoteStyle::Necessary)
            // Records may differ in length; the caller decides what a row holds.
            .flexible(true)
            .from_writer(out);
        Self { csv }
    }

    /// A writer into `out` that first writes the UTF-8 byte-order mark (for Excel).
    ///
    /// # Errors
    ///
    /// When `out` refuses the write.
    pub fn with_bom(mut out: W) -> io::Result<Self> {
        out.write_all(BOM)?;
        Ok(Self::new(out))
    }

    /// Writes one record, ended by CRLF. A cell that a spreadsheet would run as a formula
    /// (starting with `=`, `+`, `-`, `@`, a tab or a carriage return) gets a leading `'`,
    /// so it is shown as text (OWASP "CSV injection"). A record with no fields, or one
    /// empty field, is written as `""`, so that readers which skip blank lines keep it.
    ///
    /// # Errors
    ///
    /// When `out` refuses the write.
    pub fn record<S: AsRef<str>>(&mut self, fields: impl IntoIterator<Item = S>) -> io::Result<()> {
        for field in fields {
            self.csv.write_field(defuse(field.as_ref()).as_bytes())?;
        }
        self.csv.write_record(None::<&[u8]>)?;
        Ok(())
    }

    /// Flushes and returns the inner writer.
    ///
    /// # Errors
    ///
    /// When the flush fails.
    pub fn finish(self) -> io::Result<W> {
        self.csv
            .into_inner()
            .map_err(csv::IntoInnerError::into_error)
    }
}

/// A cell made safe for spreadsheets: a value starting with `=`, `+`, `-`, `@`, a tab or
/// a carriage return gets a leading `'` so it is shown as text, never run as a formula.
/// Other values are returned as they are.
fn defuse(value: &str) -> Cow<'_, str> {
    if value.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        Cow::Owned(format!("'{value}"))
    } else {
        Cow::Borrowed(value)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn written<const N: usize>(fields: [&str; N]) -> String {
        let mut writer = Writer::new(Vec::new());
        writer.record(fields).unwrap();
        String::from_utf8(writer.finish().unwrap()).unwrap()
    }

    #[test]
    fn fields_are_quoted_as_rfc_4180_says() {
        assert_eq!(written(["plain"]), "plain\r\n");
        assert_eq!(written(["Smith, Ann"]), "\"Smith, Ann\"\r\n");
        assert_eq!(written(["say \"hi\""]), "\"say \"\"hi\"\"\"\r\n");
        assert_eq!(
            written(["two\nlines", "two\r\nlines"]),
            "\"two\nlines\",\"two\r\nlines\"\r\n"
        );
        assert_eq!(written(["", "x", ""]), ",x,\r\n");
        assert_eq!(
            written(["Zoë Müller"]),
            "Zoë Müller\r\n",
            "UTF-8 passes through"
        );
        assert!(
            matches!(defuse("plain"), Cow::Borrowed(_)),
            "plain cells are not copied"
        );
    }

    #[test]
    fn formulas_are_defused() {
        assert_eq!(written(["=SUM(A1:A2)"]), "'=SUM(A1:A2)\r\n");
        assert_eq!(
            written(["=HYPERLINK(\"http://x\",\"y\")"]),
            "\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\"\r\n",
            "defused and then quoted"
        );
        for start in ["+1 555", "-2", "@cmd", "\tx", "\rx"] {
            assert!(
                written([start]).trim_start_matches('"').starts_with('\''),
                "{start:?} must not reach a spreadsheet as a formula"
            );
        }
        assert_eq!(
            written(["a=b"]),
            "a=b\r\n",
            "only a leading sign is dangerous"
        );
        assert_eq!(written(["'=x"]), "'=x\r\n", "already text to a spreadsheet");
    }

    #[test]
    fn only_what_needs_quotes_is_quoted() {
        assert_eq!(
            written(["a;b", " padded ", "tab\there", "Zoë", "#1", "x\"", "a\rb"]),
            "a;b, padded ,tab\there,Zoë,#1,\"x\"\"\",\"a\rb\"\r\n"
        );
        assert_eq!(
            written(["-1,5", "@x\"y\"", "\r\n"]),
            "\"'-1,5\",\"'@x\"\"y\"\"\",\"'\r\n\"\r\n",
            "a defused cell is quoted as any other"
        );
    }

    #[test]
    fn what_is_written_reads_back() {
        let rows = [
            ["email", "note", "name"],
            ["ann@x.test", "two\r\nlines, \"quoted\"", "Zoë"],
            ["bo@x.test", "", "Lee; Bo"],
        ];
        let mut writer = Writer::with_bom(Vec::new()).unwrap();
        for row in rows {
            writer.record(row).unwrap();
        }
        let bytes = writer.finish().unwrap();
        let table = crate::csv::parse(&bytes, &crate::csv::Limits::default()).unwrap();
        assert_eq!(table.headers, rows[0]);
        assert_eq!(table.delimiter, ',');
        let read: Vec<Vec<&str>> = table
            .rows
            .iter()
            .map(|r| r.fields.iter().map(String::as_str).collect())
            .collect();
        assert_eq!(read, [rows[1], rows[2]]);
        assert_eq!(table.rows[1].row, 4, "the quoted line break is a line");
    }

    #[test]
    fn records_end_with_crlf_and_the_bom_is_opt_in() {
        let mut writer = Writer::new(Vec::new());
        writer.record(["id", "name"]).unwrap();
        writer.record(["1", "Lee, Ann"]).unwrap();
        writer.record(Vec::<String>::new()).unwrap();
        writer.record([""]).unwrap();
        let bytes = writer.finish().unwrap();
        assert_eq!(
            String::from_utf8(bytes).unwrap(),
            "id,name\r\n1,\"Lee, Ann\"\r\n\"\"\r\n\"\"\r\n",
            "a record with no fields, or one empty field, is written as \"\" (not as a blank \
             line, which readers skip)"
        );

        let mut writer = Writer::with_bom(Vec::new()).unwrap();
        writer.record(["a"]).unwrap();
        let bytes = writer.finish().unwrap();
        assert_eq!(bytes, b"\xEF\xBB\xBFa\r\n");
    }
}
