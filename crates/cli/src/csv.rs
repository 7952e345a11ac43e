//! CSV for `users export`: RFC 4180 (comma separated, CRLF line ends, a field quoted when it
//! holds a comma, quote, CR or LF, quotes doubled) and safe to open in a spreadsheet: a
//! cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage return is prefixed with
//! `'` so that it is shown as text, never run as a formula (OWASP "CSV injection").
//!
//! Twenty lines do not justify a dependency; the tests below pin the rules.

use std::io::{self, Write};

/// Writes CSV records.
#[derive(Debug)]
pub struct CsvWriter<W: Write> {
    out: W,
}

impl<W: Write> CsvWriter<W> {
    /// A writer into `out`.
    pub fn new(out: W) -> Self {
        Self { out }
    }

    /// Writes one record.
    pub fn record<S: AsRef<str>>(&mut self, fields: &[S]) -> io::Result<()> {
        for (i, field) in fields.iter().enumerate() {
            if i > 0 {
                self.out.write_all(b",")?;
            }
            self.out.write_all(cell(field.as_ref()).as_bytes())?;
        }
        self.out.write_all(b"\r\n")
    }

    /// Flushes and returns the inner writer.
    pub fn finish(mut self) -> io::Result<W> {
        self.out.flush()?;
        Ok(self.out)
    }
}

/// One field, escaped for spreadsheets and quoted as RFC 4180 requires.
pub fn cell(value: &str) -> String {
    let guarded = if value.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{value}")
    } else {
        value.to_owned()
    };
    if guarded.contains([',', '"', '\r', '\n']) {
        format!("\"{}\"", guarded.replace('"', "\"\""))
    } else {
        guarded
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_quoted_as_rfc_4180_says() {
        assert_eq!(cell("plain"), "plain");
        assert_eq!(cell("Smith, Ann"), "\"Smith, Ann\"");
        assert_eq!(cell("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(cell("two\nlines"), "\"two\nlines\"");
        assert_eq!(cell(""), "");
    }

    #[test]
    fn formulas_are_defused() {
        assert_eq!(cell("=SUM(A1:A2)"), "'=SUM(A1:A2)");
        assert_eq!(
            cell("=HYPERLINK(\"http://x\",\"y\")"),
            "\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\"",
            "escaped and then quoted"
        );
        for start in ["+1 555", "-2", "@cmd", "\tx", "\rx"] {
            assert!(
                cell(start).trim_start_matches('"').starts_with('\''),
                "{start:?} must not reach a spreadsheet as a formula"
            );
        }
        assert_eq!(cell("a=b"), "a=b", "only a leading sign is dangerous");
    }

    #[test]
    fn records_end_with_crlf() {
        let mut writer = CsvWriter::new(Vec::new());
        writer.record(&["id", "name"]).unwrap();
        writer.record(&["1", "Lee, Ann"]).unwrap();
        let bytes = writer.finish().unwrap();
        assert_eq!(
            String::from_utf8(bytes).unwrap(),
            "id,name\r\n1,\"Lee, Ann\"\r\n"
        );
    }
}
