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
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn cmp(path: AttrPath, op: CompareOp, value: CompValue) -> Filter {
        Filter::Compare { path, op, value }
    }

    fn s(text: &str) -> CompValue {
        CompValue::String(text.to_owned())
    }

    fn and(a: Filter, b: Filter) -> Filter {
        Filter::And(Box::new(a), Box::new(b))
    }

    fn or(a: Filter, b: Filter) -> Filter {
        Filter::Or(Box::new(a), Box::new(b))
    }

    fn pr(name: &str) -> Filter {
        Filter::Present(AttrPath::new(name))
    }

    fn err(input: &str) -> FilterError {
        parse_filter(input).unwrap_err()
    }

    #[test]
    fn every_operator_parses_in_any_case() {
        for op in CompareOp::ALL {
            for keyword in [op.as_str().to_owned(), op.as_str().to_uppercase()] {
                let filter = parse_filter(&format!("userName {keyword} \"x\"")).unwrap();
                assert_eq!(
                    filter,
                    cmp(AttrPath::new("userName"), op, s("x")),
                    "{keyword}"
                );
            }
        }
        assert_eq!(parse_filter("title Pr").unwrap(), pr("title"));
    }

    #[test]
    fn literals() {
        let value = |text: &str| match parse_filter(&format!("a eq {text}")).unwrap() {
            Filter::Compare { value, .. } => value,
            other => panic!("not a comparison: {other:?}"),
        };
        assert_eq!(value("true"), CompValue::Bool(true));
        assert_eq!(value("FALSE"), CompValue::Bool(false));
        assert_eq!(value("Null"), CompValue::Null);
        assert_eq!(value("42"), CompValue::Number(42.into()));
        assert_eq!(value("-7"), CompValue::Number((-7).into()));
        assert_eq!(
            value("18446744073709551615"),
            CompValue::Number(u64::MAX.into())
        );
        assert_eq!(
            value("1.5"),
            CompValue::Number(Number::from_f64(1.5).unwrap())
        );
        assert_eq!(
            value("-2.5E+2"),
            CompValue::Number(Number::from_f64(-250.0).unwrap())
        );
        assert_eq!(
            value("1e3"),
            CompValue::Number(Number::from_f64(1000.0).unwrap())
        );
        assert_eq!(value(r#""""#), s(""));
    }

    #[test]
    fn string_escapes() {
        let filter = parse_filter(r#"a eq "q\"b\\s\/\b\f\n\r\t\u00e9\uD83D\uDE00""#).unwrap();
        assert_eq!(
            filter,
            cmp(
                AttrPath::new("a"),
                CompareOp::Eq,
                s("q\"b\\s/\u{8}\u{c}\n\r\t\u{e9}\u{1F600}")
            )
        );
        assert_eq!(
            parse_filter("a eq \"ünï ☃\"").unwrap(),
            cmp(AttrPath::new("a"), CompareOp::Eq, s("ünï ☃")),
            "raw non-ASCII text is taken as is"
        );
    }

    #[test]
    fn bad_escapes_point_at_the_backslash() {
        let e = err(r#"a eq "x\q""#);
        assert_eq!(
            (e.position, e.message.as_str()),
            (7, "invalid escape '\\q'")
        );
        let e = err(r#"a eq "\u12G4""#);
        assert_eq!(e.position, 6);
        assert!(e.message.contains("four hex digits"), "{e}");
        let e = err(r#"a eq "\uD83D""#);
        assert_eq!(
            (e.position, e.message.as_str()),
            (6, "unpaired surrogate in '\\u' escape")
        );
        let e = err(r#"a eq "\uDE00""#);
        assert_eq!(e.position, 6);
        let e = err(r#"a eq "\uD83D\u0041""#);
        assert_eq!(e.position, 12, "the second escape is not a low surrogate");
    }

    #[test]
    fn precedence_and_associativity() {
        let (a, b, c) = (pr("a"), pr("b"), pr("c"));
        assert_eq!(
            parse_filter("a pr and b pr and c pr").unwrap(),
            and(and(a.clone(), b.clone()), c.clone())
        );
        assert_eq!(
            parse_filter("a pr or b pr or c pr").unwrap(),
            or(or(a.clone(), b.clone()), c.clone())
        );
        assert_eq!(
            parse_filter("a pr or b pr and c pr").unwrap(),
            or(a.clone(), and(b.clone(), c.clone())),
            "and binds tighter than or"
        );
        assert_eq!(
            parse_filter("a pr AND b pr Or c pr").unwrap(),
            or(and(a.clone(), b.clone()), c.clone())
        );
        assert_eq!(
            parse_filter("a pr and (b pr or c pr)").unwrap(),
            and(a.clone(), or(b.clone(), c.clone()))
        );
        assert_eq!(
            parse_filter("not (a pr) and b pr").unwrap(),
            and(Filter::Not(Box::new(a.clone())), b.clone()),
            "not binds tighter than and"
        );
        assert_eq!(
            parse_filter("NOT(a pr or b pr)").unwrap(),
            Filter::Not(Box::new(or(a.clone(), b.clone())))
        );
        assert_eq!(parse_filter("((a pr))").unwrap(), a);
    }

    #[test]
    fn whitespace_is_lenient() {
        assert_eq!(
            parse_filter("\t ( a  eq\"x\" )and(b pr)  ").unwrap(),
            and(cmp(AttrPath::new("a"), CompareOp::Eq, s("x")), pr("b"))
        );
        assert_eq!(
            parse_filter("emails [type eq \"work\"]").unwrap(),
            parse_filter("emails[type eq \"work\"]").unwrap()
        );
    }

    #[test]
    fn paths() {
        let path = |text: &str| parse_attr_path(text).unwrap();
        assert_eq!(path("name.familyName"), AttrPath::sub("name", "familyName"));
        assert_eq!(path(" $ref "), AttrPath::new("$ref"));
        assert_eq!(
            path("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber"),
            AttrPath {
                urn: Some("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User".into()),
                name: "employeeNumber".into(),
                sub_attr: None,
            }
        );
        assert_eq!(
            path("urn:ietf:params:scim:schemas:core:2.0:User:name.familyName"),
            AttrPath {
                urn: Some("urn:ietf:params:scim:schemas:core:2.0:User".into()),
                name: "name".into(),
                sub_attr: Some("familyName".into()),
            }
        );
        let bare = path("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User");
        assert_eq!(
            bare.urn.as_deref(),
            Some("urn:ietf:params:scim:schemas:extension:enterprise:2.0")
        );
        assert_eq!(bare.name, "User");
        assert_eq!(
            bare.full_urn().as_deref(),
            Some("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User")
        );
    }

    #[test]
    fn bad_paths() {
        let e = parse_attr_path("a.b.c").unwrap_err();
        assert_eq!(e.position, 3);
        let e = parse_attr_path("1abc").unwrap_err();
        assert_eq!(e.position, 0);
        assert!(
            e.message.starts_with("invalid attribute name '1abc'"),
            "{e}"
        );
        let e = parse_attr_path("urn:x:").unwrap_err();
        assert_eq!(
            (e.position, e.message.as_str()),
            (6, "expected an attribute name")
        );
        let e = parse_attr_path(":a").unwrap_err();
        assert_eq!(e.position, 0);
        let e = parse_attr_path("  ").unwrap_err();
        assert_eq!(
            (e.position, e.message.as_str()),
            (2, "the attribute path is empty")
        );
        let e = parse_attr_path("a b").unwrap_err();
        assert_eq!(e.position, 2);
        assert_eq!(
            e.to_string(),
            "expected the end of the attribute path, found 'b' at position 2"
        );
    }

    #[test]
    fn urn_paths_in_filters() {
        let filter = parse_filter(
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq \"26\"",
        )
        .unwrap();
        let Filter::Compare { path, .. } = filter else {
            panic!("not a comparison")
        };
        assert_eq!(
            path.urn.as_deref(),
            Some("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User")
        );
        assert_eq!(
            (path.name.as_str(), path.sub_attr.as_deref()),
            ("manager", Some("value"))
        );
    }

    #[test]
    fn value_filters() {
        let filter =
            parse_filter(r#"emails[type eq "work" and value co "@acme"] or userName sw "j""#)
                .unwrap();
        let expected = or(
            Filter::ValuePath {
                path: AttrPath::new("emails"),
                filter: Box::new(and(
                    cmp(AttrPath::new("type"), CompareOp::Eq, s("work")),
                    cmp(AttrPath::new("value"), CompareOp::Co, s("@acme")),
                )),
            },
            cmp(AttrPath::new("userName"), CompareOp::Sw, s("j")),
        );
        assert_eq!(filter, expected);
        assert!(matches!(
            parse_filter("not (emails[not (primary eq true)])").unwrap(),
            Filter::Not(_)
        ));
    }

    #[test]
    fn value_filter_errors() {
        let e = err(r#"emails[type eq "work""#);
        assert_eq!(e.position, 21);
        assert!(
            e.message.contains("']' to close the '[' at position 6"),
            "{e}"
        );
        let e = err(r#"a[b[c pr]]"#);
        assert_eq!(
            (e.position, e.message.as_str()),
            (3, "a value filter cannot contain another one")
        );
        let e = err(r#"name.givenName[c pr]"#);
        assert_eq!(e.position, 14);
        let e = err("emails[]");
        assert_eq!(e.position, 7);
        assert_eq!(e.message, "expected an attribute path, found ']'");
    }

    #[test]
    fn error_positions_and_messages() {
        let e = err(r#"name.familyName xx "a""#);
        assert_eq!(e.position, 16);
        assert_eq!(
            e.message,
            "unknown operator 'xx', expected one of eq, ne, co, sw, ew, gt, ge, lt, le, pr"
        );

        let e = err(r#"userName eq "bjensen"#);
        assert_eq!(
            (e.position, e.message.as_str()),
            (12, "unterminated string")
        );
        assert_eq!(e.to_string(), "unterminated string at position 12");

        let e = err("(a pr or b pr");
        assert_eq!(e.position, 13);
        assert_eq!(
            e.message,
            "expected 'and', 'or' or ')' to close the '(' at position 0, found the end of the input"
        );

        let e = err("a pr )");
        assert_eq!(e.position, 5);
        assert_eq!(
            e.message,
            "expected 'and', 'or' or the end of the filter, found ')'"
        );

        let e = err(r#"a eq "x" garbage"#);
        assert_eq!(e.position, 9);
        assert_eq!(
            e.message,
            "expected 'and', 'or' or the end of the filter, found 'garbage'"
        );

        assert_eq!(
            err(""),
            FilterError {
                position: 0,
                message: "the filter is empty".into()
            }
        );
        assert_eq!(err(" \t").position, 2);

        let e = err("userName");
        assert_eq!(e.position, 8);
        assert_eq!(
            e.message,
            "expected a comparison operator, found the end of the input"
        );
        assert_eq!(
            e.to_string(),
            "expected a comparison operator, found the end of the input at position 8"
        );

        let e = err(r#""bjensen" eq userName"#);
        assert_eq!(
            (e.position, e.message.as_str()),
            (0, "expected an attribute path, found a string")
        );

        let e = err("userName eq bjensen");
        assert_eq!(e.position, 12);
        assert!(
            e.message
                .contains("found 'bjensen'; strings need double quotes"),
            "{e}"
        );

        let e = err("userName eq");
        assert_eq!(e.position, 11);
        assert!(e.message.ends_with("found the end of the input"), "{e}");

        let e = err("a pr and");
        assert_eq!(e.position, 8);
        assert_eq!(
            e.message,
            "expected an attribute path, found the end of the input"
        );

        let e = err("not a pr");
        assert_eq!(
            (e.position, e.message.as_str()),
            (4, "expected '(' after 'not', found 'a'")
        );

        let e = err("a eq 1.");
        assert_eq!(
            (e.position, e.message.as_str()),
            (7, "expected a digit after '.'")
        );
        let e = err("a eq 1e999");
        assert_eq!((e.position, e.message.as_str()), (5, "number out of range"));
        let e = err("a eq -x");
        assert_eq!(e.position, 6);
    }

    #[test]
    fn positions_are_byte_offsets() {
        let e = err("é eq 1");
        assert_eq!(e.position, 0);
        let e = err("a eq \"é\" é");
        assert_eq!(e.position, 10, "the é inside the string takes two bytes");
        let e = err("a ≠ 1");
        assert_eq!(
            (e.position, e.message.starts_with("unknown operator '≠'")),
            (2, true)
        );
    }

    #[test]
    fn keywords_are_attribute_names_where_they_fit() {
        assert_eq!(parse_filter("not pr").unwrap(), pr("not"));
        assert_eq!(
            parse_filter("and pr and or pr").unwrap(),
            and(pr("and"), pr("or"))
        );
        assert_eq!(
            parse_filter("not eq true").unwrap(),
            cmp(AttrPath::new("not"), CompareOp::Eq, CompValue::Bool(true))
        );
        assert!(parse_filter("a pr andb pr").is_err(), "'andb' is not 'and'");
    }

    #[test]
    fn nesting_is_bounded() {
        let deep = |n: usize, open: &str, close: &str| {
            format!("{}a pr{}", open.repeat(n), close.repeat(n))
        };
        assert!(parse_filter(&deep(50, "(", ")")).is_ok());
        let e = err(&deep(51, "(", ")"));
        assert_eq!(e.position, 50);
        assert_eq!(e.message, "the filter nests more than 50 groups deep");
        assert!(parse_filter(&deep(50, "not (", ")")).is_ok());
        assert!(err(&deep(51, "not (", ")")).message.contains("nests"));
        assert!(err(&deep(100_000, "(", ")")).message.contains("nests"));
        assert!(err(&"not (".repeat(100_000)).message.contains("nests"));
        assert!(
            err(&"a[".repeat(100_000))
                .message
                .contains("cannot contain")
        );
    }

    #[test]
    fn terms_are_bounded() {
        let chain = |n: usize| vec!["a pr"; n].join(" and ");
        let filter = parse_filter(&chain(1000)).unwrap();
        // The tree is 1000 levels deep; printing, comparing and dropping it must not
        // overflow a test thread's stack.
        assert_eq!(parse_filter(&filter.to_string()).unwrap(), filter);
        let e = err(&chain(1001));
        assert_eq!(e.message, "the filter has more than 1000 comparisons");
        assert_eq!(e.position, 1000 * 9);
    }
}
