//! Lexical building blocks of the JSON scanner: whitespace, strings, numbers,
//! literals, and whole nested values skipped without recursion.
//!
//! These run on every request body the ingress peeks into, so they are written
//! for speed: strings are skipped by [`strings`](super::strings), nested arrays and
//! objects are walked with a byte-class table and a bit stack instead of
//! recursion (hostile nesting cannot overflow the stack), and nothing is
//! allocated unless a value nests deeper than 64 levels.

use super::strings::string_end;
use super::{JsonScanError, ValueKind, ValueSpan};

/// Returns the offset of the first non-whitespace byte at or after `pos`.
pub(super) fn skip_ws(buf: &[u8], mut pos: usize) -> usize {
    while let Some(b' ' | b'\t' | b'\n' | b'\r') = buf.get(pos) {
        pos += 1;
    }
    pos
}

/// Skips one complete value starting exactly at `start` and says what it is.
pub(super) fn value_span(buf: &[u8], start: usize) -> Result<ValueSpan, JsonScanError> {
    let Some(&first) = buf.get(start) else {
        return Err(JsonScanError::UnexpectedEnd {
            at: start,
            expected: "a JSON value",
        });
    };
    let (end, kind) = match first {
        b'"' => (string_end(buf, start)?.0, ValueKind::String),
        b'{' => (container_end(buf, start)?, ValueKind::Object),
        b'[' => (container_end(buf, start)?, ValueKind::Array),
        b't' => (literal_end(buf, start, b"true")?, ValueKind::Bool),
        b'f' => (literal_end(buf, start, b"false")?, ValueKind::Bool),
        b'n' => (literal_end(buf, start, b"null")?, ValueKind::Null),
        b'-' | b'0'..=b'9' => (number_end(buf, start)?, ValueKind::Number),
        found => {
            return Err(JsonScanError::UnexpectedByte {
                at: start,
                found,
                expected: "a JSON value",
            });
        }
    };
    Ok(ValueSpan {
        range: start..end,
        kind,
    })
}

/// Checks the literal `word` at `start` and returns the offset just past it.
fn literal_end(buf: &[u8], start: usize, word: &[u8]) -> Result<usize, JsonScanError> {
    let available = buf.get(start..).unwrap_or_default();
    let len = available.len().min(word.len());
    if available.get(..len) != word.get(..len) {
        return Err(JsonScanError::InvalidLiteral { at: start });
    }
    if len < word.len() {
        return Err(JsonScanError::UnexpectedEnd {
            at: buf.len(),
            expected: "the rest of a true, false or null literal",
        });
    }
    Ok(start + word.len())
}

/// Checks a number against the JSON grammar
/// (`-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`)
/// and returns the offset just past it.
pub(super) fn number_end(buf: &[u8], start: usize) -> Result<usize, JsonScanError> {
    let mut pos = start;
    if buf.get(pos) == Some(&b'-') {
        pos += 1;
    }
    match buf.get(pos) {
        Some(b'0') => pos += 1,
        Some(b'1'..=b'9') => pos = digits_end(buf, pos),
        _ => return Err(missing_digit(buf, pos, start)),
    }
    if buf.get(pos) == Some(&b'.') {
        pos = required_digits_end(buf, pos + 1, start)?;
    }
    if let Some(b'e' | b'E') = buf.get(pos) {
        pos += 1;
        if let Some(b'+' | b'-') = buf.get(pos) {
            pos += 1;
        }
        pos = required_digits_end(buf, pos, start)?;
    }
    // `01`, `1.2.3`, `1e5e5`, `1-2`: the grammar stopped early but the number goes on.
    if let Some(b'0'..=b'9' | b'.' | b'e' | b'E' | b'+' | b'-') = buf.get(pos) {
        return Err(JsonScanError::InvalidNumber { at: start });
    }
    Ok(pos)
}

fn digits_end(buf: &[u8], mut pos: usize) -> usize {
    while let Some(b'0'..=b'9') = buf.get(pos) {
        pos += 1;
    }
    pos
}

fn required_digits_end(buf: &[u8], pos: usize, start: usize) -> Result<usize, JsonScanError> {
    let end = digits_end(buf, pos);
    if end == pos {
        return Err(missing_digit(buf, pos, start));
    }
    Ok(end)
}

fn missing_digit(buf: &[u8], pos: usize, start: usize) -> JsonScanError {
    if pos >= buf.len() {
        JsonScanError::UnexpectedEnd {
            at: pos,
            expected: "a digit",
        }
    } else {
        JsonScanError::InvalidNumber { at: start }
    }
}

/// Byte classes used while skipping nested arrays and objects.
const INVALID: u8 = 0;
/// Whitespace, separators and the characters of numbers and literals.
const PLAIN: u8 = 1;
const QUOTE: u8 = 2;
const OPEN: u8 = 3;
const CLOSE: u8 = 4;

static CLASSES: [u8; 256] = classes();

const fn classes() -> [u8; 256] {
    let mut table = [INVALID; 256];
    let plain = b" \t\r\n,:0123456789+-.eEtrufalsn";
    let mut i = 0;
    while i < plain.len() {
        table[plain[i] as usize] = PLAIN;
        i += 1;
    }
    table[b'"' as usize] = QUOTE;
    table[b'{' as usize] = OPEN;
    table[b'[' as usize] = OPEN;
    table[b'}' as usize] = CLOSE;
    table[b']' as usize] = CLOSE;
    table
}

/// Skips the array or object whose opening bracket is at `start` and returns
/// the offset just past its matching closing bracket.
///
/// Checks that strings terminate, that brackets balance and match, and that
/// everything else is plausible JSON (whitespace, separators, number and
/// literal characters). It does not check the order of separators inside:
/// that is the upstream's job, and it keeps this loop tight.
fn container_end(buf: &[u8], start: usize) -> Result<usize, JsonScanError> {
    let mut open = BracketStack::default();
    let mut pos = start;
    while let Some(&byte) = buf.get(pos) {
        match CLASSES[usize::from(byte)] {
            PLAIN => pos += 1,
            QUOTE => pos = string_end(buf, pos)?.0,
            OPEN => {
                open.push(byte == b'{');
                pos += 1;
            }
            CLOSE => {
                let expected = match open.pop() {
                    Some(true) => '}',
                    Some(false) => ']',
                    None => {
                        return Err(JsonScanError::UnexpectedByte {
                            at: pos,
                            found: byte,
                            expected: "a JSON value",
                        });
                    }
                };
                let found = char::from(byte);
                if found != expected {
                    return Err(JsonScanError::MismatchedBracket {
                        at: pos,
                        found,
                        expected,
                    });
                }
                pos += 1;
                if open.depth() == 0 {
                    return Ok(pos);
                }
            }
            _ => {
                return Err(JsonScanError::UnexpectedByte {
                    at: pos,
                    found: byte,
                    expected: "a JSON value, separator or bracket",
                });
            }
        }
    }
    Err(JsonScanError::Unclosed {
        start,
        depth: open.depth(),
        at: buf.len(),
    })
}

/// A stack of open brackets, one bit each (1 = object, 0 = array).
///
/// The top 64 levels live in `top`; deeper levels spill into `below`, so
/// ordinary bodies never allocate and 100 000 levels cost 12.5 KB.
#[derive(Debug, Default)]
struct BracketStack {
    top: u64,
    below: Vec<u64>,
    depth: usize,
}

impl BracketStack {
    fn push(&mut self, is_object: bool) {
        if self.depth > 0 && self.depth.is_multiple_of(64) {
            self.below.push(self.top);
            self.top = 0;
        }
        self.top = (self.top << 1) | u64::from(is_object);
        self.depth += 1;
    }

    fn pop(&mut self) -> Option<bool> {
        if self.depth == 0 {
            return None;
        }
        let is_object = self.top & 1 == 1;
        self.top >>= 1;
        self.depth -= 1;
        if self.depth > 0 && self.depth.is_multiple_of(64) {
            self.top = self.below.pop().unwrap_or_default();
        }
        Some(is_object)
    }

    fn depth(&self) -> usize {
        self.depth
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn span(input: &str) -> Result<ValueSpan, JsonScanError> {
        value_span(input.as_bytes(), 0)
    }

    #[test]
    fn strings_respect_escapes() {
        assert_eq!(string_end(br#""abc" x"#, 0), Ok((5, false)));
        assert_eq!(string_end(br#""a\"b" x"#, 0), Ok((6, true)));
        assert_eq!(string_end(br#""a\\" x"#, 0), Ok((5, true)));
        assert_eq!(
            string_end(br#""a\""#, 0),
            Err(JsonScanError::UnterminatedString { at: 0 })
        );
        assert_eq!(
            string_end(br#""a\"#, 0),
            Err(JsonScanError::UnterminatedString { at: 0 })
        );
    }

    #[test]
    fn values_have_kinds_and_exact_ends() {
        let cases = [
            ("{}", ValueKind::Object, 2),
            ("[1, {\"a\": [true]}] ,", ValueKind::Array, 18),
            ("\"x\"", ValueKind::String, 3),
            ("-0.5e+3,", ValueKind::Number, 7),
            ("true}", ValueKind::Bool, 4),
            ("false", ValueKind::Bool, 5),
            ("null ", ValueKind::Null, 4),
        ];
        for (input, kind, end) in cases {
            assert_eq!(
                span(input),
                Ok(ValueSpan {
                    range: 0..end,
                    kind
                }),
                "{input}"
            );
        }
    }

    #[test]
    fn numbers_follow_the_grammar() {
        for good in ["0", "-0", "12", "1.5", "1e9", "1E-9", "-12.25e+3"] {
            assert_eq!(number_end(good.as_bytes(), 0), Ok(good.len()), "{good}");
        }
        for bad in ["01", "-", "1.", ".5", "1e", "1.2.3", "+1", "--1", "1e5e5"] {
            assert!(span(bad).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn literals_are_checked() {
        assert_eq!(
            span("nul"),
            Err(JsonScanError::UnexpectedEnd {
                at: 3,
                expected: "the rest of a true, false or null literal"
            })
        );
        assert_eq!(span("nulx"), Err(JsonScanError::InvalidLiteral { at: 0 }));
        assert_eq!(span("trUe"), Err(JsonScanError::InvalidLiteral { at: 0 }));
    }

    #[test]
    fn brackets_must_balance_and_match() {
        assert_eq!(
            span("[1, {\"a\": 2]}"),
            Err(JsonScanError::MismatchedBracket {
                at: 11,
                found: ']',
                expected: '}'
            })
        );
        assert_eq!(
            span("[[1]"),
            Err(JsonScanError::Unclosed {
                start: 0,
                depth: 1,
                at: 4
            })
        );
        assert!(matches!(
            span("[1, x]"),
            Err(JsonScanError::UnexpectedByte {
                at: 4,
                found: b'x',
                ..
            })
        ));
        assert_eq!(
            span("[\"]\"]"),
            Ok(ValueSpan {
                range: 0..5,
                kind: ValueKind::Array
            })
        );
    }

    #[test]
    fn deep_nesting_uses_no_recursion() {
        let depth = 100_000;
        let mut deep = "[{\"a\":".repeat(depth / 2).into_bytes();
        for _ in 0..depth / 2 {
            deep.extend_from_slice(b"}]");
        }
        assert_eq!(value_span(&deep, 0).map(|s| s.range), Ok(0..deep.len()));
        let truncated = deep.get(..deep.len() - 1).unwrap_or_default();
        assert_eq!(
            value_span(truncated, 0),
            Err(JsonScanError::Unclosed {
                start: 0,
                depth: 1,
                at: truncated.len()
            })
        );
        let mut wrong = deep.clone();
        let middle = deep.len() - depth / 2;
        wrong.swap(middle, middle + 1);
        assert!(matches!(
            value_span(&wrong, 0),
            Err(JsonScanError::MismatchedBracket { .. })
        ));
    }

    #[test]
    fn bracket_stack_spills_and_restores() {
        let mut stack = BracketStack::default();
        let pattern: Vec<bool> = (0..300).map(|i| i % 3 == 0).collect();
        for &bit in &pattern {
            stack.push(bit);
        }
        for &bit in pattern.iter().rev() {
            assert_eq!(stack.pop(), Some(bit));
        }
        assert_eq!(stack.pop(), None);
    }
}
