//! Value spans: where a value sits in a scanned body, what kind it is, and
//! typed readers that decode just that value.
//!
//! The ingress scans a body once, keeps the spans of the few members it cares
//! about (`model`, `stream`, `max_tokens`, …) and reads them with these
//! methods; the rest of the body is never decoded.

use std::borrow::Cow;
use std::fmt;
use std::ops::Range;

use super::JsonScanError;
use super::escape::unescape;
use super::lex::number_end;

/// The kind of a JSON value, known from its first byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ValueKind {
    /// `{ … }`
    Object,
    /// `[ … ]`
    Array,
    /// `"…"`
    String,
    /// `-12.5e3` and friends.
    Number,
    /// `true` or `false`.
    Bool,
    /// `null`.
    Null,
}

impl fmt::Display for ValueKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Object => "an object",
            Self::Array => "an array",
            Self::String => "a string",
            Self::Number => "a number",
            Self::Bool => "a boolean",
            Self::Null => "null",
        })
    }
}

/// The bytes of one value inside a scanned body.
///
/// `range` is relative to the buffer that was scanned and covers the whole
/// value: quotes included for strings, brackets included for containers.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ValueSpan {
    /// Byte range of the value inside the scanned buffer.
    pub range: Range<usize>,
    /// What kind of value it is.
    pub kind: ValueKind,
}

impl ValueSpan {
    /// The raw JSON text of the value.
    pub fn raw<'a>(&self, body: &'a [u8]) -> Result<&'a [u8], JsonScanError> {
        body.get(self.range.clone())
            .ok_or(JsonScanError::SpanOutOfBounds {
                start: self.range.start,
                end: self.range.end,
                len: body.len(),
            })
    }

    /// Whether the value is `null`.
    pub fn is_null(&self) -> bool {
        self.kind == ValueKind::Null
    }

    /// Reads a string value, unescaped. Borrows from `body` when the string
    /// holds no escapes.
    pub fn read_str<'a>(&self, body: &'a [u8]) -> Result<Cow<'a, str>, JsonScanError> {
        let raw = self.typed_raw(body, ValueKind::String)?;
        let at = self.range.start;
        let inner = raw
            .get(1..raw.len().saturating_sub(1))
            .ok_or(JsonScanError::UnterminatedString { at })?;
        unescape(inner, at)
    }

    /// Reads `true` or `false`.
    pub fn read_bool(&self, body: &[u8]) -> Result<bool, JsonScanError> {
        match self.typed_raw(body, ValueKind::Bool)? {
            b"true" => Ok(true),
            b"false" => Ok(false),
            _ => Err(JsonScanError::InvalidLiteral {
                at: self.range.start,
            }),
        }
    }

    /// Reads an integer that fits `i64`. Fractions and exponents are refused,
    /// as a strict JSON decoder into an integer field would.
    pub fn read_i64(&self, body: &[u8]) -> Result<i64, JsonScanError> {
        let text = self.integer_text(body)?;
        text.parse().map_err(|_| self.out_of_range("i64"))
    }

    /// Reads a non-negative integer that fits `u64` (`-0` reads as 0).
    pub fn read_u64(&self, body: &[u8]) -> Result<u64, JsonScanError> {
        let text = self.integer_text(body)?;
        let unsigned = match text.strip_prefix('-') {
            Some("0") => "0",
            Some(_) => return Err(self.out_of_range("u64")),
            None => text,
        };
        unsigned.parse().map_err(|_| self.out_of_range("u64"))
    }

    /// Reads any number as the nearest `f64`; numbers too large for `f64`
    /// are an error rather than infinity.
    pub fn read_f64(&self, body: &[u8]) -> Result<f64, JsonScanError> {
        let text = self.number_text(body)?;
        match text.parse::<f64>() {
            Ok(value) if value.is_finite() => Ok(value),
            _ => Err(self.out_of_range("f64")),
        }
    }

    fn typed_raw<'a>(&self, body: &'a [u8], kind: ValueKind) -> Result<&'a [u8], JsonScanError> {
        if self.kind != kind {
            return Err(JsonScanError::WrongType {
                at: self.range.start,
                expected: match kind {
                    ValueKind::Bool => "a boolean",
                    ValueKind::String => "a string",
                    _ => "a number",
                },
                found: self.kind,
            });
        }
        self.raw(body)
    }

    /// The number's text, checked against the JSON number grammar.
    fn number_text<'a>(&self, body: &'a [u8]) -> Result<&'a str, JsonScanError> {
        let raw = self.typed_raw(body, ValueKind::Number)?;
        let invalid = JsonScanError::InvalidNumber {
            at: self.range.start,
        };
        if number_end(raw, 0).ok() != Some(raw.len()) {
            return Err(invalid);
        }
        // The grammar admits ASCII only, so this cannot fail; stay total anyway.
        std::str::from_utf8(raw).map_err(|_| invalid)
    }

    fn integer_text<'a>(&self, body: &'a [u8]) -> Result<&'a str, JsonScanError> {
        let text = self.number_text(body)?;
        if text.contains(['.', 'e', 'E']) {
            return Err(JsonScanError::NotAnInteger {
                at: self.range.start,
            });
        }
        Ok(text)
    }

    fn out_of_range(&self, ty: &'static str) -> JsonScanError {
        JsonScanError::NumberOutOfRange {
            at: self.range.start,
            ty,
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::json::lex::value_span;

    fn at(input: &str) -> (ValueSpan, &[u8]) {
        let body = input.as_bytes();
        (value_span(body, 0).unwrap(), body)
    }

    #[test]
    fn strings_borrow_unless_escaped() {
        let (span, body) = at(r#""gpt-4o""#);
        assert!(matches!(span.read_str(body), Ok(Cow::Borrowed("gpt-4o"))));
        let (span, body) = at(r#""a\"b\\c\/\n\u00e9\ud83d\ude00""#);
        assert_eq!(span.read_str(body).unwrap(), "a\"b\\c/\né😀");
    }

    #[test]
    fn bad_strings_are_named() {
        let (span, body) = at(r#""\x""#);
        assert_eq!(
            span.read_str(body),
            Err(JsonScanError::InvalidEscape { at: 1 })
        );
        let (span, body) = at(r#""\ud83d""#);
        assert_eq!(
            span.read_str(body),
            Err(JsonScanError::InvalidEscape { at: 1 })
        );
        let body = b"\"\xff\"";
        let span = value_span(body, 0).unwrap();
        assert_eq!(
            span.read_str(body),
            Err(JsonScanError::InvalidUtf8 { at: 0 })
        );
    }

    #[test]
    fn numbers_and_bools() {
        let (span, body) = at("-42");
        assert_eq!(span.read_i64(body), Ok(-42));
        assert_eq!(
            span.read_u64(body),
            Err(JsonScanError::NumberOutOfRange { at: 0, ty: "u64" })
        );
        assert_eq!(span.read_f64(body), Ok(-42.0));
        let (span, body) = at("-0");
        assert_eq!(span.read_u64(body), Ok(0));
        let (span, body) = at("18446744073709551615");
        assert_eq!(span.read_u64(body), Ok(u64::MAX));
        assert_eq!(
            span.read_i64(body),
            Err(JsonScanError::NumberOutOfRange { at: 0, ty: "i64" })
        );
        let (span, body) = at("1.5e2");
        assert_eq!(
            span.read_u64(body),
            Err(JsonScanError::NotAnInteger { at: 0 })
        );
        assert_eq!(span.read_f64(body), Ok(150.0));
        let (span, body) = at("1e400");
        assert_eq!(
            span.read_f64(body),
            Err(JsonScanError::NumberOutOfRange { at: 0, ty: "f64" })
        );
        let (span, body) = at("true");
        assert_eq!(span.read_bool(body), Ok(true));
        assert_eq!(
            span.read_i64(body),
            Err(JsonScanError::WrongType {
                at: 0,
                expected: "a number",
                found: ValueKind::Bool
            })
        );
        assert_eq!(
            span.read_str(body).unwrap_err().to_string(),
            "expected a string at byte 0, found a boolean"
        );
    }

    #[test]
    fn spans_outside_the_body_are_errors() {
        let span = ValueSpan {
            range: 3..10,
            kind: ValueKind::String,
        };
        assert_eq!(
            span.read_str(b"{}"),
            Err(JsonScanError::SpanOutOfBounds {
                start: 3,
                end: 10,
                len: 2
            })
        );
    }
}
