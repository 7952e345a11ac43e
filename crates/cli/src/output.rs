//! What commands print: JSON for scripts (`--json`), short aligned tables and lines for
//! people, and a single updating progress line on stderr when it is a terminal.

use std::io::{IsTerminal, Write};

use serde::Serialize;

use crate::failure::Failure;

/// `println!` for command output, except that a closed stdout (`muster users list | head`)
/// ends the output quietly instead of panicking.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout().lock(), $($arg)*);
    }};
}
pub(crate) use say;

/// Where and how to print.
#[derive(Debug, Clone, Copy)]
pub struct Output {
    /// Print JSON for scripts instead of text for people.
    pub json: bool,
}

impl Output {
    /// Prints `value` as JSON.
    pub fn json<T: Serialize + ?Sized>(&self, value: &T) -> Result<(), Failure> {
        // Written as it is encoded: a list of every user is never a second copy in memory.
        let mut stdout = std::io::BufWriter::new(std::io::stdout().lock());
        match serde_json::to_writer_pretty(&mut stdout, value) {
            Ok(()) => {}
            Err(error) => match error.io_error_kind() {
                Some(kind) => return closed_pipe_is_fine(std::io::Error::from(kind)),
                None => {
                    return Err(Failure::Local(format!(
                        "Cannot encode the answer: {error}."
                    )));
                }
            },
        }
        writeln!(stdout)
            .and_then(|()| stdout.flush())
            .or_else(closed_pipe_is_fine)
    }

    /// Prints `value` as JSON with `--json`, else the text `human` makes.
    pub fn value<T: Serialize + ?Sized>(
        &self,
        value: &T,
        human: impl FnOnce() -> String,
    ) -> Result<(), Failure> {
        if self.json {
            self.json(value)
        } else {
            let mut stdout = std::io::stdout().lock();
            writeln!(stdout, "{}", human()).or_else(closed_pipe_is_fine)
        }
    }
}

/// A reader that stopped reading (`| head`) is not a failure; anything else is.
pub fn closed_pipe_is_fine(error: std::io::Error) -> Result<(), Failure> {
    if error.kind() == std::io::ErrorKind::BrokenPipe {
        Ok(())
    } else {
        Err(Failure::Local(format!("Cannot write the output: {error}.")))
    }
}

/// A table for people: a header row and left-aligned columns two spaces apart.
#[derive(Debug)]
pub struct Table {
    rows: Vec<Vec<String>>,
}

impl Table {
    /// A table with these column headers.
    pub fn new<const N: usize>(headers: [&str; N]) -> Self {
        Self::with_headers(headers.iter().map(|h| (*h).to_owned()).collect())
    }

    /// A table with headers known at run time.
    pub fn with_headers(headers: Vec<String>) -> Self {
        Self {
            rows: vec![headers],
        }
    }

    /// Adds a row; cells are put on one line.
    pub fn row(&mut self, cells: impl IntoIterator<Item = String>) {
        self.rows
            .push(cells.into_iter().map(|c| one_line(&c)).collect());
    }

    /// The rendered lines, without trailing spaces.
    pub fn lines(&self) -> Vec<String> {
        let columns = self.rows.iter().map(Vec::len).max().unwrap_or(0);
        let widths: Vec<usize> = (0..columns)
            .map(|i| {
                self.rows
                    .iter()
                    .filter_map(|row| row.get(i))
                    .map(|cell| cell.chars().count())
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        self.rows
            .iter()
            .map(|row| {
                let mut line = String::new();
                for (i, cell) in row.iter().enumerate() {
                    if i > 0 {
                        line.push_str("  ");
                    }
                    line.push_str(cell);
                    let pad = widths[i].saturating_sub(cell.chars().count());
                    line.extend(std::iter::repeat_n(' ', pad));
                }
                line.trim_end().to_owned()
            })
            .collect()
    }

    /// Prints the table on stdout.
    pub fn print(&self) {
        let mut stdout = std::io::stdout().lock();
        for line in self.lines() {
            // A closed pipe (`muster users list | head`) is not an error worth reporting.
            if writeln!(stdout, "{line}").is_err() {
                return;
            }
        }
    }
}

/// Control characters (newlines, tabs, escapes) become spaces, so a value sent by a server
/// cannot break a table or move the cursor of the terminal.
pub fn one_line(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// `20001` → `20,001`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A progress line on stderr ("Fetched 12,000 of 20,001"), rewritten in place; silent when
/// stderr is not a terminal, so scripts and logs see nothing.
#[derive(Debug)]
pub struct Progress {
    enabled: bool,
    width: usize,
}

impl Progress {
    /// A progress line, shown only if stderr is a terminal.
    pub fn on_terminal() -> Self {
        Self {
            enabled: std::io::stderr().is_terminal(),
            width: 0,
        }
    }

    /// A progress line only if stderr is a terminal and stdout is not: for output written
    /// while the fetch goes on, which the line would otherwise be drawn over.
    pub fn beside_output() -> Self {
        Self {
            enabled: std::io::stderr().is_terminal() && !std::io::stdout().is_terminal(),
            width: 0,
        }
    }

    /// Shows how far a fetch is.
    pub fn update(&mut self, fetched: u64, total: Option<u64>) {
        if !self.enabled {
            return;
        }
        let text = match total {
            Some(total) => format!("Fetched {} of {}", thousands(fetched), thousands(total)),
            None => format!("Fetched {}", thousands(fetched)),
        };
        self.show(&text);
    }

    /// Shows `text` (one line, e.g. "Imported 12 of 40") in place of the last.
    pub fn show(&mut self, text: &str) {
        if !self.enabled {
            return;
        }
        let pad = self.width.saturating_sub(text.len());
        self.width = text.len();
        let mut stderr = std::io::stderr().lock();
        let _ = write!(stderr, "\r{text}{}", " ".repeat(pad));
        let _ = stderr.flush();
    }

    /// Clears the line.
    pub fn finish(&mut self) {
        if self.enabled && self.width > 0 {
            let mut stderr = std::io::stderr().lock();
            let _ = write!(stderr, "\r{}\r", " ".repeat(self.width));
            let _ = stderr.flush();
            self.width = 0;
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.finish();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_are_grouped() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(12_000), "12,000");
        assert_eq!(thousands(20_001), "20,001");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }

    #[test]
    fn tables_align_columns_and_flatten_cells() {
        let mut table = Table::new(["ID", "NAME"]);
        table.row(["1".to_owned(), "Ann\nLee".to_owned()]);
        table.row(["100".to_owned(), "Bo".to_owned()]);
        assert_eq!(
            table.lines(),
            vec!["ID   NAME", "1    Ann Lee", "100  Bo"],
            "columns line up and a newline in a value cannot break a row"
        );
    }
}
