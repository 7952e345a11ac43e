//! Comparison values (`compValue = false / null / true / number / string`): JSON strings
//! with every JSON escape, and JSON numbers.

use serde_json::Number;

use super::lexer::shorten;
use super::{FilterError, Parser};
use crate::filter::ast::CompValue;

impl Parser<'_> {
    /// `compValue = false / null / true / number / string`.
    pub(super) fn parse_value(&mut self) -> Result<CompValue, FilterError> {
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
