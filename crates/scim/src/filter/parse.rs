//! A hand-written recursive-descent parser for the filter grammar of RFC 7644 §3.4.2.2.
//!
//! ```text
//! FILTER    = attrExp / logExp / valuePath / *1"not" "(" valFilter ")"
//! valuePath = attrPath "[" valFilter "]"
//! attrExp   = (attrPath SP "pr") / (attrPath SP compareOp SP compValue)
//! logExp    = FILTER SP ("and" / "or") SP FILTER
//! attrPath  = [URI ":"] ATTRNAME *1subAttr
//! ```
//!
//! Precedence is `not` > `and` > `or`; `and` and `or` associate to the left. Keywords and
//! operators are case-insensitive; attribute names keep their case. The parser is lenient
//! where that is harmless: any amount of whitespace (including none next to brackets and
//! quotes), a space before `[`, and attribute names that start with `$` (`$ref`).
//!
//! Adversarial input is bounded: groups nest at most [`MAX_NESTING`] deep and a filter holds
//! at most [`MAX_TERMS`] comparisons, which bounds the depth of the tree for the recursive
//! printer and evaluator.

use serde_json::Number;

use super::ast::{AttrPath, CompValue, CompareOp, Filter};

/// How deeply `( )`, `not ( )` and `[ ]` may nest.
const MAX_NESTING: usize = 50;

/// How many comparisons (`pr` included) one filter may hold. A chain of `and`/`or` is a
/// left-leaning tree as deep as it is long, so this bounds the tree's depth.
const MAX_TERMS: usize = 1000;

/// The comparison operators, for error messages.
const OPERATOR_LIST: &str = "eq, ne, co, sw, ew, gt, ge, lt, le, pr";

/// A filter, attribute path or PATCH path that does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message} at position {position}")]
pub struct FilterError {
    /// Byte offset in the input where the problem is.
    pub position: usize,
    /// What is wrong, e.g. `expected a comparison operator, found end of input`.
    pub message: String,
}

/// Parses a filter such as `userName eq "bjensen" and emails[type eq "work"]`.
///
/// # Errors
/// A [`FilterError`] pointing at the first byte that does not fit the grammar.
pub fn parse_filter(input: &str) -> Result<Filter, FilterError> {
    let mut parser = Parser::new(input);
    parser.skip_ws();
    if parser.at_end() {
        return Err(parser.error(parser.pos, "the filter is empty"));
    }
    let filter = parser.parse_or(false)?;
    parser.expect_end("'and', 'or' or the end of the filter")?;
    Ok(filter)
}

/// Parses one attribute path such as `name.familyName` or
/// `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber`, as used by
/// `sortBy` and the entries of `attributes` / `excludedAttributes`.
///
/// # Errors
/// A [`FilterError`] when the input is empty, is not an attribute path, or has anything but
/// whitespace after the path.
pub fn parse_attr_path(input: &str) -> Result<AttrPath, FilterError> {
    let mut parser = Parser::new(input);
    parser.skip_ws();
    if parser.at_end() {
        return Err(parser.error(parser.pos, "the attribute path is empty"));
    }
    let path = parser.parse_path()?;
    parser.expect_end("the end of the attribute path")?;
    Ok(path)
}

/// Whether `c` may appear in the token that holds an attribute path (URN included).
fn is_path_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '$' | '.' | ':')
}

/// Whether `c` may appear in an attribute name (after its first character).
fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '_')
}

/// Whether `name` matches `ATTRNAME = ALPHA *(nameChar)`, with an optional leading `$`.
fn is_attr_name(name: &str) -> bool {
    let name = name.strip_prefix('$').unwrap_or(name);
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic()) && chars.all(is_name_char)
}

/// Whether `c` ends a bare word (an operator or keyword) in the input.
fn ends_word(c: char) -> bool {
    c.is_whitespace() || matches!(c, '(' | ')' | '[' | ']' | '"')
}

/// The state of one parse: the input and how far it has been read.
///
/// `pos` is a byte offset that always sits on a char boundary: it only ever advances by
/// whole chars or past ASCII bytes that were just matched.
pub(super) struct Parser<'a> {
    input: &'a str,
    pos: usize,
    nesting: usize,
    terms: usize,
}

impl<'a> Parser<'a> {
    /// A parser at the start of `input`.
    pub(super) fn new(input: &'a str) -> Self {
        Self {
            input,
            pos: 0,
            nesting: 0,
            terms: 0,
        }
    }

    /// The unread input.
    fn rest(&self) -> &'a str {
        self.input.get(self.pos..).unwrap_or_default()
    }

    pub(super) fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    pub(super) fn at_end(&self) -> bool {
        self.pos >= self.input.len()
    }

    /// Consumes `c` if it is next.
    fn eat(&mut self, c: char) -> bool {
        if self.peek() == Some(c) {
            self.pos += c.len_utf8();
            true
        } else {
            false
        }
    }

    pub(super) fn skip_ws(&mut self) {
        let rest = self.rest();
        let trimmed = rest.trim_start();
        self.pos += rest.len() - trimmed.len();
    }

    pub(super) fn error(&self, position: usize, message: impl Into<String>) -> FilterError {
        FilterError {
            position,
            message: message.into(),
        }
    }

    /// Consumes the longest run of chars matching `pred` and returns it.
    fn take_while(&mut self, pred: impl Fn(char) -> bool) -> &'a str {
        let rest = self.rest();
        let len = rest.find(|c| !pred(c)).unwrap_or(rest.len());
        self.pos += len;
        &rest[..len]
    }

    /// Describes what comes next, for "expected X, found Y" messages.
    fn found(&self) -> String {
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
    pub(super) fn expect_end(&mut self, expected: &str) -> Result<(), FilterError> {
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
    fn eat_keyword(&mut self, keyword: &str) -> bool {
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

    /// Enters a `(`, `not (` or `[` opened at `start`.
    fn enter(&mut self, start: usize) -> Result<(), FilterError> {
        self.nesting += 1;
        if self.nesting > MAX_NESTING {
            return Err(self.error(
                start,
                format!("the filter nests more than {MAX_NESTING} groups deep"),
            ));
        }
        Ok(())
    }

    /// Consumes `close` (after optional whitespace), which ends a group opened at `start`.
    fn leave(&mut self, close: char, start: usize) -> Result<(), FilterError> {
        self.skip_ws();
        if !self.eat(close) {
            let open = if close == ')' { '(' } else { '[' };
            return Err(self.error(
                self.pos,
                format!(
                    "expected 'and', 'or' or '{close}' to close the '{open}' at position {start}, \
                     found {}",
                    self.found()
                ),
            ));
        }
        self.nesting -= 1;
        Ok(())
    }

    /// `or`-level expression: `and`-level operands joined by `or`, left-associative.
    /// `in_value` is set inside `[ ]`, where another value filter may not appear.
    pub(super) fn parse_or(&mut self, in_value: bool) -> Result<Filter, FilterError> {
        let mut left = self.parse_and(in_value)?;
        loop {
            self.skip_ws();
            if !self.eat_keyword("or") {
                return Ok(left);
            }
            let right = self.parse_and(in_value)?;
            left = Filter::Or(Box::new(left), Box::new(right));
        }
    }

    /// `and`-level expression: terms joined by `and`, left-associative.
    fn parse_and(&mut self, in_value: bool) -> Result<Filter, FilterError> {
        let mut left = self.parse_term(in_value)?;
        loop {
            self.skip_ws();
            if !self.eat_keyword("and") {
                return Ok(left);
            }
            let right = self.parse_term(in_value)?;
            left = Filter::And(Box::new(left), Box::new(right));
        }
    }

    /// A group `( … )`, a negation `not ( … )`, a value path `a[ … ]` or a comparison.
    fn parse_term(&mut self, in_value: bool) -> Result<Filter, FilterError> {
        self.skip_ws();
        let start = self.pos;
        if self.eat('(') {
            self.enter(start)?;
            let inner = self.parse_or(in_value)?;
            self.leave(')', start)?;
            return Ok(inner);
        }
        if self.eat_keyword("not") {
            self.skip_ws();
            let open = self.pos;
            if self.eat('(') {
                self.enter(open)?;
                let inner = self.parse_or(in_value)?;
                self.leave(')', open)?;
                return Ok(Filter::Not(Box::new(inner)));
            }
            // Not a negation: an attribute that happens to be called `not`.
            self.pos = start;
        }

        let path = self.parse_path()?;
        self.skip_ws();
        if self.peek() == Some('[') {
            if in_value {
                return Err(self.error(self.pos, "a value filter cannot contain another one"));
            }
            let filter = self.parse_value_filter(&path)?;
            return Ok(Filter::ValuePath {
                path,
                filter: Box::new(filter),
            });
        }

        self.terms += 1;
        if self.terms > MAX_TERMS {
            return Err(self.error(
                start,
                format!("the filter has more than {MAX_TERMS} comparisons"),
            ));
        }

        // A term that starts with `not` but is no negation is most likely a `not` missing
        // its parentheses rather than an attribute called `not`: say so if no operator follows.
        let is_not =
            path.urn.is_none() && path.sub_attr.is_none() && path.name.eq_ignore_ascii_case("not");
        let op_start = self.pos;
        let word = self.take_while(|c| !ends_word(c));
        if word.eq_ignore_ascii_case("pr") {
            return Ok(Filter::Present(path));
        }
        let Some(op) = CompareOp::from_keyword(word) else {
            self.pos = op_start;
            let message = if is_not {
                format!("expected '(' after 'not', found {}", self.found())
            } else if word.is_empty() {
                format!("expected a comparison operator, found {}", self.found())
            } else {
                format!(
                    "unknown operator '{}', expected one of {OPERATOR_LIST}",
                    shorten(word)
                )
            };
            return Err(self.error(op_start, message));
        };
        self.skip_ws();
        let value = self.parse_value()?;
        Ok(Filter::Compare { path, op, value })
    }

    /// `[ valFilter ]` after `path`; the input is at the `[`.
    pub(super) fn parse_value_filter(&mut self, path: &AttrPath) -> Result<Filter, FilterError> {
        let open = self.pos;
        if path.sub_attr.is_some() {
            return Err(self.error(
                open,
                "a value filter must follow an attribute, not a sub-attribute",
            ));
        }
        if !self.eat('[') {
            return Err(self.error(open, format!("expected '[', found {}", self.found())));
        }
        self.enter(open)?;
        let filter = self.parse_or(true)?;
        self.leave(']', open)?;
        Ok(filter)
    }

    /// `attrPath = [URI ":"] ATTRNAME *1subAttr`. The URN is everything up to the last `:`.
    pub(super) fn parse_path(&mut self) -> Result<AttrPath, FilterError> {
        let start = self.pos;
        let token = self.take_while(is_path_char);
        if token.is_empty() {
            return Err(self.error(
                start,
                format!("expected an attribute path, found {}", self.found()),
            ));
        }
        let (urn, local, local_start) = match token.rfind(':') {
            Some(0) => return Err(self.error(start, "expected a schema URN before ':'")),
            Some(colon) => (
                Some(&token[..colon]),
                &token[colon + 1..],
                start + colon + 1,
            ),
            None => (None, token, start),
        };
        let (name, sub_attr) = match local.split_once('.') {
            Some((name, sub)) => (name, Some(sub)),
            None => (local, None),
        };
        self.check_name(name, local_start)?;
        if let Some(sub) = sub_attr {
            let sub_start = local_start + name.len() + 1;
            if let Some(dot) = sub.find('.') {
                return Err(self.error(
                    sub_start + dot,
                    "an attribute path has at most one sub-attribute",
                ));
            }
            self.check_name(sub, sub_start)?;
        }
        Ok(AttrPath {
            urn: urn.map(str::to_owned),
            name: name.to_owned(),
            sub_attr: sub_attr.map(str::to_owned),
        })
    }

    /// Parses `"." subAttr` if it is next (used after a PATCH value path).
    pub(super) fn parse_sub_attr(&mut self) -> Result<Option<String>, FilterError> {
        if !self.eat('.') {
            return Ok(None);
        }
        let start = self.pos;
        let name = self.take_while(|c| is_name_char(c) || c == '$');
        self.check_name(name, start)?;
        Ok(Some(name.to_owned()))
    }

    fn check_name(&self, name: &str, position: usize) -> Result<(), FilterError> {
        if name.is_empty() {
            Err(self.error(position, "expected an attribute name"))
        } else if is_attr_name(name) {
            Ok(())
        } else {
            Err(self.error(
                position,
                format!(
                    "invalid attribute name '{}': a name starts with a letter and holds \
                     letters, digits, '-' and '_'",
                    shorten(name)
                ),
            ))
        }
    }

    /// `compValue = false / null / true / number / string`.
    fn parse_value(&mut self) -> Result<CompValue, FilterError> {
        let start = self.pos;
        match self.peek() {
            Some('"') => self.parse_string().map(CompValue::String),
            Some(c) if c == '-' || c.is_ascii_digit() => self.parse_number().map(CompValue::Number),
            Some(c) if c.is_alphabetic() => {
                let word = self.take_while(char::is_alphanumeric);
                if word.eq_ignore_ascii_case("true") {
                    Ok(CompValue::Bool(true))
                } else if word.eq_ignore_ascii_case("false") {
                    Ok(CompValue::Bool(false))
                } else if word.eq_ignore_ascii_case("null") {
                    Ok(CompValue::Null)
                } else {
                    Err(self.error(
                        start,
                        format!(
                            "expected a value (a string, number, true, false or null), \
                             found '{}'; strings need double quotes",
                            shorten(word)
                        ),
                    ))
                }
            }
            _ => Err(self.error(
                start,
                format!(
                    "expected a value (a string, number, true, false or null), found {}",
                    self.found()
                ),
            )),
        }
    }

    /// A JSON string with every JSON escape; the input is at the opening quote.
    fn parse_string(&mut self) -> Result<String, FilterError> {
        let start = self.pos;
        self.pos += 1;
        let mut out = String::new();
        loop {
            // Copy the run up to the next quote or backslash in one go.
            let rest = self.rest();
            let Some(stop) = rest.find(['"', '\\']) else {
                return Err(self.error(start, "unterminated string"));
            };
            out.push_str(&rest[..stop]);
            self.pos += stop + 1;
            if rest.as_bytes()[stop] == b'"' {
                return Ok(out);
            }
            let escape = self.pos - 1;
            let Some(c) = self.peek() else {
                return Err(self.error(start, "unterminated string"));
            };
            self.pos += c.len_utf8();
            let decoded = match c {
                '"' => '"',
                '\\' => '\\',
                '/' => '/',
                'b' => '\u{8}',
                'f' => '\u{c}',
                'n' => '\n',
                'r' => '\r',
                't' => '\t',
                'u' => self.parse_unicode_escape(escape)?,
                other => {
                    return Err(self.error(escape, format!("invalid escape '\\{other}'")));
                }
            };
            out.push(decoded);
        }
    }

    /// The char of a `\uXXXX` escape (the input is after the `u`), joining a surrogate pair.
    fn parse_unicode_escape(&mut self, escape: usize) -> Result<char, FilterError> {
        let high = self.hex4(escape)?;
        let code = match high {
            0xD800..=0xDBFF => {
                let low_escape = self.pos;
                if !self.rest().starts_with("\\u") {
                    return Err(self.error(escape, "unpaired surrogate in '\\u' escape"));
                }
                self.pos += 2;
                let low = self.hex4(low_escape)?;
                if !(0xDC00..=0xDFFF).contains(&low) {
                    return Err(
                        self.error(low_escape, "expected a low surrogate '\\uDC00'-'\\uDFFF'")
                    );
                }
                0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00)
            }
            0xDC00..=0xDFFF => {
                return Err(self.error(escape, "unpaired surrogate in '\\u' escape"));
            }
            code => code,
        };
        char::from_u32(code).ok_or_else(|| self.error(escape, "invalid '\\u' escape"))
    }

    /// Four hex digits.
    fn hex4(&mut self, escape: usize) -> Result<u32, FilterError> {
        let digits = self.rest().as_bytes().get(..4).unwrap_or_default();
        if digits.len() < 4 || !digits.iter().all(u8::is_ascii_hexdigit) {
            return Err(self.error(escape, "expected four hex digits after '\\u'"));
        }
        self.pos += 4;
        Ok(digits.iter().fold(0, |acc, &d| {
            acc * 16 + char::from(d).to_digit(16).unwrap_or_default()
        }))
    }

    /// A JSON number: `-? digits (. digits)? ([eE] [+-]? digits)?`. Leading zeros are
    /// tolerated. Integers stay integers (`u64` / `i64`); everything else is an `f64`.
    fn parse_number(&mut self) -> Result<Number, FilterError> {
        let start = self.pos;
        let negative = self.eat('-');
        if self.take_while(|c| c.is_ascii_digit()).is_empty() {
            return Err(self.error(self.pos, "expected a digit"));
        }
        let mut is_float = false;
        if self.eat('.') {
            is_float = true;
            if self.take_while(|c| c.is_ascii_digit()).is_empty() {
                return Err(self.error(self.pos, "expected a digit after '.'"));
            }
        }
        if self.eat('e') || self.eat('E') {
            is_float = true;
            let _ = self.eat('+') || self.eat('-');
            if self.take_while(|c| c.is_ascii_digit()).is_empty() {
                return Err(self.error(self.pos, "expected a digit in the exponent"));
            }
        }
        let text = &self.input[start..self.pos];
        if !is_float {
            let integer = if negative {
                text.parse::<i64>().ok().map(Number::from)
            } else {
                text.parse::<u64>().ok().map(Number::from)
            };
            if let Some(number) = integer {
                return Ok(number);
            }
        }
        text.parse::<f64>()
            .ok()
            .and_then(Number::from_f64)
            .ok_or_else(|| self.error(start, "number out of range"))
    }
}

/// At most 20 chars of `text`, for quoting input back in messages.
fn shorten(text: &str) -> String {
    match text.char_indices().nth(20) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests;
