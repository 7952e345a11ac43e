//! The lexical layer of the filter parser: moving through the input, whitespace, bare
//! words and keywords, and describing what comes next for "expected X, found Y" messages.

use super::{FilterError, Parser};

/// Whether `c` may appear in the token that holds an attribute path (URN included).
pub(super) fn is_path_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '$' | '.' | ':')
}

/// Whether `c` may appear in an attribute name (after its first character).
pub(super) fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '_')
}

/// Whether `c` ends a bare word (an operator or keyword) in the input.
pub(super) fn ends_word(c: char) -> bool {
    c.is_whitespace() || matches!(c, '(' | ')' | '[' | ']' | '"')
}

impl<'a> Parser<'a> {
    /// The unread input.
    pub(super) fn rest(&self) -> &'a str {
        self.input.get(self.pos..).unwrap_or_default()
    }

    pub(in crate::filter) fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    pub(in crate::filter) fn at_end(&self) -> bool {
        self.pos >= self.input.len()
    }

    /// Consumes `c` if it is next.
    pub(super) fn eat(&mut self, c: char) -> bool {
        if self.peek() == Some(c) {
            self.pos += c.len_utf8();
            true
        } else {
            false
        }
    }

    pub(in crate::filter) fn skip_ws(&mut self) {
        let rest = self.rest();
        let trimmed = rest.trim_start();
        self.pos += rest.len() - trimmed.len();
    }

    pub(in crate::filter) fn error(
        &self,
        position: usize,
        message: impl Into<String>,
    ) -> FilterError {
        FilterError {
            position,
            message: message.into(),
        }
    }

    /// Consumes the longest run of chars matching `pred` and returns it.
    pub(super) fn take_while(&mut self, pred: impl Fn(char) -> bool) -> &'a str {
        let rest = self.rest();
        let len = rest.find(|c| !pred(c)).unwrap_or(rest.len());
        self.pos += len;
        &rest[..len]
    }

    /// Describes what comes next, for "expected X, found Y" messages.
    pub(super) fn found(&self) -> String {
        let rest = self.rest();
        match rest.chars().next() {
            None => "the end of the input".to_owned(),
            Some('"') => "a string".to_owned(),
            Some(c) if ends_word(c) => format!("'{c}'"),
            Some(_) => {
                let end = rest.find(ends_word).unwrap_or(rest.len());
                format!("'{}'", shorten(&rest[..end]))
            }
        }
    }

    /// Skips whitespace and fails unless the input ends there.
    pub(in crate::filter) fn expect_end(&mut self, expected: &str) -> Result<(), FilterError> {
        self.skip_ws();
        if self.at_end() {
            Ok(())
        } else {
            Err(self.error(
                self.pos,
                format!("expected {expected}, found {}", self.found()),
            ))
        }
    }

    /// Consumes the case-insensitive keyword `keyword` if it is next as a whole word.
    pub(super) fn eat_keyword(&mut self, keyword: &str) -> bool {
        let rest = self.rest();
        let Some(head) = rest.as_bytes().get(..keyword.len()) else {
            return false;
        };
        if !head.eq_ignore_ascii_case(keyword.as_bytes()) {
            return false;
        }
        // The matched bytes are ASCII, so `keyword.len()` is a char boundary.
        let boundary = rest[keyword.len()..]
            .chars()
            .next()
            .is_none_or(|c| !(c.is_alphanumeric() || is_path_char(c)));
        if boundary {
            self.pos += keyword.len();
        }
        boundary
    }
}

/// At most 20 chars of `text`, for quoting input back in messages.
pub(super) fn shorten(text: &str) -> String {
    match text.char_indices().nth(20) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_owned(),
    }
}
