//! Writing CSV: RFC 4180, UTF-8, and safe to open in a spreadsheet.

use std::borrow::Cow;
use std::io::{self, Write};

/// The UTF-8 byte-order mark. Excel reads a CSV file as UTF-8 only when it starts with
/// one; other tools neither need nor want it, so it is opt-in.
pub const BOM: &[u8] = b"\xEF\xBB\xBF";

/// Writes CSV records to `out`. Wrap a file or socket in a `BufWriter`: each field is
/// one small write.
#[derive(Debug)]
pub struct Writer<W: Write> {
    out: W,
}

impl<W: Write> Writer<W> {
    /// A writer into `out`.
    pub fn new(out: W) -> Self {
        Self { out }
    }

    /// A writer into `out` that first writes the UTF-8 byte-order mark (for Excel).
    ///
    /// # Errors
    ///
    /// When `out` refuses the write.
    pub fn with_bom(mut out: W) -> io::Result<Self> {
        out.write_all(BOM)?;
        Ok(Self { out })
    }

    /// Writes one record: its fields escaped with [`cell`], separated by commas, ended
    /// by CRLF.
    ///
    /// # Errors
    ///
    /// When `out` refuses the write.
    pub fn record<S: AsRef<str>>(&mut self, fields: impl IntoIterator<Item = S>) -> io::Result<()> {
        for (i, field) in fields.into_iter().enumerate() {
            if i > 0 {
                self.out.write_all(b",")?;
            }
            self.out.write_all(cell(field.as_ref()).as_bytes())?;
        }
        self.out.write_all(b"\r\n")
    }

    /// Flushes and returns the inner writer.
    ///
    /// # Errors
    ///
    /// When the flush fails.
    pub fn finish(mut self) -> io::Result<W> {
        self.out.flush()?;
        Ok(self.out)
    }
}

/// One field, made safe for spreadsheets and then quoted as RFC 4180 requires: a value
/// starting with `=`, `+`, `-`, `@`, a tab or a carriage return gets a leading `'` so it
/// is shown as text, never run as a formula; a value holding a comma, quote, CR or LF is
/// put in quotes with its quotes doubled. Other values are returned as they are.
pub fn cell(value: &str) -> Cow<'_, str> {
    let guarded: Cow<'_, str> = if value.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        Cow::Owned(format!("'{value}"))
    } else {
        Cow::Borrowed(value)
    };
    if guarded.contains([',', '"', '\r', '\n']) {
        Cow::Owned(format!("\"{}\"", guarded.replace('"', "\"\"")))
    } else {
        guarded
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn fields_are_quoted_as_rfc_4180_says() {
        assert_eq!(cell("plain"), "plain");
        assert_eq!(cell("Smith, Ann"), "\"Smith, Ann\"");
        assert_eq!(cell("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(cell("two\nlines"), "\"two\nlines\"");
        assert_eq!(cell("two\r\nlines"), "\"two\r\nlines\"");
        assert_eq!(cell(""), "");
        assert_eq!(cell("Zoë Müller"), "Zoë Müller", "UTF-8 passes through");
        assert!(
            matches!(cell("plain"), Cow::Borrowed(_)),
            "plain cells are not copied"
        );
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
        assert_eq!(cell("'=x"), "'=x", "already text to a spreadsheet");
    }

    #[test]
    fn records_end_with_crlf_and_the_bom_is_opt_in() {
        let mut writer = Writer::new(Vec::new());
        writer.record(["id", "name"]).unwrap();
        writer.record(["1", "Lee, Ann"]).unwrap();
        writer.record(Vec::<String>::new()).unwrap();
        let bytes = writer.finish().unwrap();
        assert_eq!(
            String::from_utf8(bytes).unwrap(),
            "id,name\r\n1,\"Lee, Ann\"\r\n\r\n"
        );

        let mut writer = Writer::with_bom(Vec::new()).unwrap();
        writer.record(["a"]).unwrap();
        let bytes = writer.finish().unwrap();
        assert_eq!(bytes, b"\xEF\xBB\xBFa\r\n");
    }
}
