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
//!
//! This file holds the grammar; [`lexer`] moves through the input and reads words and
//! keywords, [`literal`] reads the comparison values (strings and numbers).

mod lexer;
mod literal;

use self::lexer::{ends_word, is_name_char, is_path_char, shorten};
use super::ast::{AttrPath, CompareOp, Filter};

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

/// Whether `name` matches `ATTRNAME = ALPHA *(nameChar)`, with an optional leading `$`.
fn is_attr_name(name: &str) -> bool {
    let name = name.strip_prefix('$').unwrap_or(name);
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic()) && chars.all(is_name_char)
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
        self.parse_comparison(path, start)
    }

    /// `pr` or an operator and a value, after the `path` of a term that starts at `start`.
    fn parse_comparison(&mut self, path: AttrPath, start: usize) -> Result<Filter, FilterError> {
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
}

#[cfg(test)]
mod tests;
