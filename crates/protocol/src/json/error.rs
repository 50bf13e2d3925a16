//! Errors raised while scanning a JSON body or reading one of its values.
//!
//! Every variant names the problem and the byte offset where it was found, so
//! the ingress can answer a malformed request with a 400 whose message points
//! at the mistake instead of a generic "invalid JSON".

use super::ValueKind;

/// What went wrong while scanning a JSON body or reading a value out of it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum JsonScanError {
    /// The body (or the span handed to `scan_object_at`) is not a JSON object.
    #[error("expected a JSON object at byte {at}")]
    ExpectedObject {
        /// Offset of the first byte that is not `{`.
        at: usize,
    },
    /// The input ended where more JSON was required.
    #[error("unexpected end of input at byte {at}: expected {expected}")]
    UnexpectedEnd {
        /// Offset where the input ended.
        at: usize,
        /// What the scanner was looking for.
        expected: &'static str,
    },
    /// A byte that cannot appear at this point of a JSON document.
    #[error("unexpected {} at byte {at}: expected {expected}", ShowByte(*found))]
    UnexpectedByte {
        /// Offset of the offending byte.
        at: usize,
        /// The offending byte.
        found: u8,
        /// What the scanner was looking for.
        expected: &'static str,
    },
    /// A string whose closing quote never comes.
    #[error("unterminated string at byte {at}")]
    UnterminatedString {
        /// Offset of the opening quote.
        at: usize,
    },
    /// A nested array or object whose closing bracket never comes.
    #[error(
        "unbalanced brackets: the value at byte {start} still has {depth} open bracket(s) \
         when the input ends at byte {at}"
    )]
    Unclosed {
        /// Offset of the outermost `[` or `{` of the value.
        start: usize,
        /// How many brackets were still open.
        depth: usize,
        /// Offset where the input ended.
        at: usize,
    },
    /// A closing bracket that does not match the innermost open one.
    #[error("unbalanced brackets: found '{found}' at byte {at} where '{expected}' was expected")]
    MismatchedBracket {
        /// Offset of the closing bracket.
        at: usize,
        /// The closing bracket found.
        found: char,
        /// The closing bracket that would have matched.
        expected: char,
    },
    /// Something that starts like `true`, `false` or `null` but is not.
    #[error("invalid literal at byte {at}: expected true, false or null")]
    InvalidLiteral {
        /// Offset of the literal's first byte.
        at: usize,
    },
    /// A number that does not follow the JSON number grammar.
    #[error("invalid number at byte {at}")]
    InvalidNumber {
        /// Offset of the number's first byte.
        at: usize,
    },
    /// Non-whitespace bytes after the top-level value.
    #[error("trailing characters after the JSON value at byte {at}")]
    TrailingCharacters {
        /// Offset of the first trailing byte.
        at: usize,
    },
    /// A value span that reaches past the end of the body it is read from.
    #[error("value span {start}..{end} lies outside the {len}-byte body")]
    SpanOutOfBounds {
        /// Start of the span.
        start: usize,
        /// End of the span.
        end: usize,
        /// Length of the body.
        len: usize,
    },
    /// A typed reader was used on a value of another kind.
    #[error("expected {expected} at byte {at}, found {found}")]
    WrongType {
        /// Offset of the value.
        at: usize,
        /// The kind the reader wanted, e.g. "a string".
        expected: &'static str,
        /// The kind the value has.
        found: ValueKind,
    },
    /// A backslash escape that JSON does not define, or a lone UTF-16 surrogate.
    #[error("invalid escape sequence at byte {at}")]
    InvalidEscape {
        /// Offset of the backslash.
        at: usize,
    },
    /// A string whose bytes are not valid UTF-8.
    #[error("invalid UTF-8 in the string at byte {at}")]
    InvalidUtf8 {
        /// Offset of the string's opening quote.
        at: usize,
    },
    /// A number with a fraction or exponent where an integer is required.
    #[error("expected an integer at byte {at}, found a number with a fraction or exponent")]
    NotAnInteger {
        /// Offset of the number.
        at: usize,
    },
    /// A number that does not fit the requested type.
    #[error("number at byte {at} is out of range for {ty}")]
    NumberOutOfRange {
        /// Offset of the number.
        at: usize,
        /// The requested Rust type, e.g. "u64".
        ty: &'static str,
    },
}

/// Shows a byte in an error message: printable ASCII quoted, anything else in hex.
struct ShowByte(u8);

impl std::fmt::Display for ShowByte {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.0.is_ascii_graphic() {
            write!(f, "character '{}'", char::from(self.0))
        } else {
            write!(f, "byte 0x{:02x}", self.0)
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_the_problem_and_offset() {
        let err = JsonScanError::UnexpectedByte {
            at: 7,
            found: b'x',
            expected: "',' or '}'",
        };
        assert_eq!(
            err.to_string(),
            "unexpected character 'x' at byte 7: expected ',' or '}'"
        );
        let err = JsonScanError::UnexpectedByte {
            at: 0,
            found: 0xff,
            expected: "a JSON value",
        };
        assert_eq!(
            err.to_string(),
            "unexpected byte 0xff at byte 0: expected a JSON value"
        );
        let err = JsonScanError::UnterminatedString { at: 1234 };
        assert_eq!(err.to_string(), "unterminated string at byte 1234");
    }
}
