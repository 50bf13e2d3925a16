//! Scanning one JSON object: its members, in order, with the byte ranges of
//! their keys and values — the first thing the ingress does with a body.
//!
//! Only the scanned object's own level is parsed strictly (`"key": value`
//! pairs separated by commas); nested values are skipped by
//! [`lex`](super::lex) with structural checks only.

use std::borrow::Cow;
use std::ops::Range;

use super::escape::unescape;
use super::lex::{skip_ws, value_span};
use super::strings::string_end;
use super::{JsonScanError, ValueKind, ValueSpan};

/// One `"key": value` member of a scanned object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    key: Range<usize>,
    key_has_escapes: bool,
    value: ValueSpan,
}

impl Member {
    /// Byte range of the key's raw contents, between (not including) its quotes.
    pub fn key_range(&self) -> Range<usize> {
        self.key.clone()
    }

    /// Whether the raw key holds backslash escapes (so it differs from its
    /// decoded form).
    pub fn key_has_escapes(&self) -> bool {
        self.key_has_escapes
    }

    /// The member's value.
    pub fn value(&self) -> &ValueSpan {
        &self.value
    }

    /// Byte range of the whole member, from the key's opening quote to the end
    /// of the value (surrounding whitespace and commas excluded).
    pub fn range(&self) -> Range<usize> {
        self.key.start - 1..self.value.range.end
    }

    /// The decoded key. Borrows from `body` unless the key holds escapes.
    pub fn key<'a>(&self, body: &'a [u8]) -> Result<Cow<'a, str>, JsonScanError> {
        let raw = body
            .get(self.key.clone())
            .ok_or(JsonScanError::SpanOutOfBounds {
                start: self.key.start,
                end: self.key.end,
                len: body.len(),
            })?;
        unescape(raw, self.key.start - 1)
    }

    /// Whether the decoded key equals `key`.
    pub fn key_eq(&self, body: &[u8], key: &str) -> bool {
        let Some(raw) = body.get(self.key.clone()) else {
            return false;
        };
        if self.key_has_escapes {
            self.key(body).is_ok_and(|decoded| decoded == key)
        } else {
            raw == key.as_bytes()
        }
    }
}

/// The members of one JSON object, in the order they appear.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectScan {
    members: Vec<Member>,
    open: usize,
    close: usize,
}

impl ObjectScan {
    /// The value of the first member whose decoded key equals `key`.
    ///
    /// With duplicate keys the first one wins; note that other JSON decoders
    /// may let the last one win, which is why [`set_member`](super::set_member)
    /// and [`remove_member`](super::remove_member) act on every duplicate.
    pub fn get(&self, body: &[u8], key: &str) -> Option<ValueSpan> {
        self.member(body, key).map(|member| member.value.clone())
    }

    /// The first member whose decoded key equals `key`.
    pub fn member(&self, body: &[u8], key: &str) -> Option<&Member> {
        self.members.iter().find(|member| member.key_eq(body, key))
    }

    /// How many members have the decoded key `key` (more than one means the
    /// body repeats a key).
    pub fn count(&self, body: &[u8], key: &str) -> usize {
        self.members
            .iter()
            .filter(|member| member.key_eq(body, key))
            .count()
    }

    /// Offset of the opening `{`.
    pub fn open(&self) -> usize {
        self.open
    }

    /// Offset of the closing `}`.
    pub fn close(&self) -> usize {
        self.close
    }

    /// Whether the object has no members.
    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }

    /// How many members the object has, duplicates included.
    pub fn len(&self) -> usize {
        self.members.len()
    }

    /// All members in order.
    pub fn members(&self) -> &[Member] {
        &self.members
    }
}

/// Scans a whole body that must be exactly one JSON object, with optional
/// JSON whitespace around it.
pub fn scan_object(body: &[u8]) -> Result<ObjectScan, JsonScanError> {
    let open = skip_ws(body, 0);
    match body.get(open) {
        Some(b'{') => {}
        Some(_) => return Err(JsonScanError::ExpectedObject { at: open }),
        None => {
            return Err(JsonScanError::UnexpectedEnd {
                at: open,
                expected: "a JSON object",
            });
        }
    }
    let scan = object_at(body, open)?;
    let rest = skip_ws(body, scan.close + 1);
    if rest < body.len() {
        return Err(JsonScanError::TrailingCharacters { at: rest });
    }
    Ok(scan)
}

/// Scans the object at `span` inside `body`, e.g. the value of
/// `stream_options`. Offsets in the result stay relative to `body`, so they
/// can go straight into the same [`Patch`](super::Patch).
pub fn scan_object_at(body: &[u8], span: &ValueSpan) -> Result<ObjectScan, JsonScanError> {
    let start = span.range.start;
    if span.kind != ValueKind::Object {
        return Err(JsonScanError::ExpectedObject { at: start });
    }
    let Some(within) = body.get(..span.range.end) else {
        return Err(JsonScanError::SpanOutOfBounds {
            start,
            end: span.range.end,
            len: body.len(),
        });
    };
    if within.get(start) != Some(&b'{') {
        return Err(JsonScanError::ExpectedObject { at: start });
    }
    let scan = object_at(within, start)?;
    if scan.close + 1 != span.range.end {
        return Err(JsonScanError::TrailingCharacters { at: scan.close + 1 });
    }
    Ok(scan)
}

/// Parses the object whose `{` is at `open`, strictly at its own level.
fn object_at(buf: &[u8], open: usize) -> Result<ObjectScan, JsonScanError> {
    // Room for a typical request or chunk without growing.
    let mut members = Vec::with_capacity(8);
    let mut pos = skip_ws(buf, open + 1);
    let mut expected = "a string key or '}'";
    if buf.get(pos) == Some(&b'}') {
        return Ok(ObjectScan {
            members,
            open,
            close: pos,
        });
    }
    loop {
        if buf.get(pos) != Some(&b'"') {
            return Err(unexpected(buf, pos, expected));
        }
        let key_start = pos;
        let (key_end, key_has_escapes) = string_end(buf, key_start)?;
        pos = skip_ws(buf, key_end);
        if buf.get(pos) != Some(&b':') {
            return Err(unexpected(buf, pos, "':' after the key"));
        }
        let value = value_span(buf, skip_ws(buf, pos + 1))?;
        pos = skip_ws(buf, value.range.end);
        members.push(Member {
            key: key_start + 1..key_end - 1,
            key_has_escapes,
            value,
        });
        match buf.get(pos) {
            Some(b',') => pos = skip_ws(buf, pos + 1),
            Some(b'}') => {
                return Ok(ObjectScan {
                    members,
                    open,
                    close: pos,
                });
            }
            _ => return Err(unexpected(buf, pos, "',' or '}'")),
        }
        expected = "a string key";
    }
}

/// The error for finding something other than `expected` at `pos`.
fn unexpected(buf: &[u8], pos: usize, expected: &'static str) -> JsonScanError {
    match buf.get(pos) {
        Some(&found) => JsonScanError::UnexpectedByte {
            at: pos,
            found,
            expected,
        },
        None => JsonScanError::UnexpectedEnd { at: pos, expected },
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn text<'a>(body: &'a [u8], span: &ValueSpan) -> &'a str {
        std::str::from_utf8(span.raw(body).unwrap()).unwrap()
    }

    #[test]
    fn finds_top_level_members() {
        let body = br#"{"model":"gpt-4o","stream":true,"messages":[{"role":"user","content":"hi"}],"max_tokens":5}"#;
        let scan = scan_object(body).unwrap();
        assert_eq!(scan.len(), 4);
        assert_eq!(scan.open(), 0);
        assert_eq!(scan.close(), body.len() - 1);
        assert_eq!(
            scan.get(body, "model").unwrap().read_str(body).unwrap(),
            "gpt-4o"
        );
        assert_eq!(scan.get(body, "stream").unwrap().read_bool(body), Ok(true));
        assert_eq!(scan.get(body, "max_tokens").unwrap().read_u64(body), Ok(5));
        let messages = scan.get(body, "messages").unwrap();
        assert_eq!(messages.kind, ValueKind::Array);
        assert_eq!(text(body, &messages), r#"[{"role":"user","content":"hi"}]"#);
        // Nested keys are not top-level members.
        assert_eq!(scan.get(body, "role"), None);
        let member = scan.member(body, "stream").unwrap();
        assert_eq!(&body[member.range()], br#""stream":true"#);
        assert_eq!(&body[member.key_range()], b"stream");
    }

    #[test]
    fn whitespace_everywhere() {
        let body = b" \r\n\t{ \n\"a\" \t:\r 1 ,\n \"b\"  :  [ 1 , 2 ] \n} \n\t";
        let scan = scan_object(body).unwrap();
        assert_eq!(text(body, &scan.get(body, "a").unwrap()), "1");
        assert_eq!(text(body, &scan.get(body, "b").unwrap()), "[ 1 , 2 ]");
        assert_eq!(scan.open(), 4);
        assert_eq!(body[scan.close()], b'}');
    }

    #[test]
    fn empty_object() {
        for body in [&b"{}"[..], b"  { \n }  "] {
            let scan = scan_object(body).unwrap();
            assert!(scan.is_empty());
            assert_eq!(scan.get(body, "model"), None);
        }
    }

    #[test]
    fn escaped_keys_compare_decoded() {
        let body = br#"{"mo\u0064el":"x","a\"b":1,"\u00e9":2,"plain\\":3}"#;
        let scan = scan_object(body).unwrap();
        assert!(scan.members()[0].key_has_escapes());
        assert_eq!(
            scan.get(body, "model").unwrap().read_str(body).unwrap(),
            "x"
        );
        assert_eq!(scan.get(body, "a\"b").unwrap().read_i64(body), Ok(1));
        assert_eq!(scan.get(body, "é").unwrap().read_i64(body), Ok(2));
        assert_eq!(scan.get(body, "plain\\").unwrap().read_i64(body), Ok(3));
        assert_eq!(scan.get(body, "mo\\u0064el"), None);
        assert_eq!(scan.members()[0].key(body).unwrap(), "model");
    }

    #[test]
    fn duplicate_keys_first_wins() {
        let body = br#"{"model":"a","model":"b"}"#;
        let scan = scan_object(body).unwrap();
        assert_eq!(
            scan.get(body, "model").unwrap().read_str(body).unwrap(),
            "a"
        );
        assert_eq!(scan.count(body, "model"), 2);
    }

    #[test]
    fn nested_stream_options() {
        let body = br#"{"stream":true, "stream_options": { "include_usage" : false } }"#;
        let scan = scan_object(body).unwrap();
        let options = scan.get(body, "stream_options").unwrap();
        let nested = scan_object_at(body, &options).unwrap();
        assert_eq!(nested.open(), options.range.start);
        assert_eq!(nested.close(), options.range.end - 1);
        let usage = nested.get(body, "include_usage").unwrap();
        assert_eq!(usage.read_bool(body), Ok(false));
        assert_eq!(text(body, &usage), "false");
        let stream = scan.get(body, "stream").unwrap();
        assert_eq!(
            scan_object_at(body, &stream),
            Err(JsonScanError::ExpectedObject { at: 10 })
        );
    }

    #[test]
    fn malformed_bodies_say_what_and_where() {
        let cases: &[(&[u8], &str)] = &[
            (
                b"",
                "unexpected end of input at byte 0: expected a JSON object",
            ),
            (
                b"  ",
                "unexpected end of input at byte 2: expected a JSON object",
            ),
            (b"[1]", "expected a JSON object at byte 0"),
            (
                b"{",
                "unexpected end of input at byte 1: expected a string key or '}'",
            ),
            (
                b"{\"a\"",
                "unexpected end of input at byte 4: expected ':' after the key",
            ),
            (
                b"{\"a\":",
                "unexpected end of input at byte 5: expected a JSON value",
            ),
            (
                b"{\"a\":1",
                "unexpected end of input at byte 6: expected ',' or '}'",
            ),
            (
                b"{\"a\":1,",
                "unexpected end of input at byte 7: expected a string key",
            ),
            (
                b"{\"a\":1,}",
                "unexpected character '}' at byte 7: expected a string key",
            ),
            (
                b"{\"a\":1 \"b\":2}",
                "unexpected character '\"' at byte 7: expected ',' or '}'",
            ),
            (
                b"{a:1}",
                "unexpected character 'a' at byte 1: expected a string key or '}'",
            ),
            (b"{\"a\":\"xyz", "unterminated string at byte 5"),
            (
                b"{\"a\":[1,2}",
                "unbalanced brackets: found '}' at byte 9 where ']' was expected",
            ),
            (
                b"{\"a\":[[1]}",
                "unbalanced brackets: found '}' at byte 9 where ']' was expected",
            ),
            (
                b"{\"a\":[1",
                "unbalanced brackets: the value at byte 5 still has 1 open bracket(s) when the input ends at byte 7",
            ),
            (
                b"{\"a\":1} x",
                "trailing characters after the JSON value at byte 8",
            ),
            (
                b"{\"a\":1}}",
                "trailing characters after the JSON value at byte 7",
            ),
            (
                b"{\"a\":tru}",
                "invalid literal at byte 5: expected true, false or null",
            ),
            (b"{\"a\":01}", "invalid number at byte 5"),
            (b"{\"a\":-}", "invalid number at byte 5"),
            (
                b"{\"a\":[1 @]}",
                "unexpected character '@' at byte 8: expected a JSON value, separator or bracket",
            ),
            (b"\xef\xbb\xbf{}", "expected a JSON object at byte 0"),
        ];
        for (body, message) in cases {
            let err = scan_object(body).unwrap_err();
            assert_eq!(
                err.to_string(),
                *message,
                "{}",
                String::from_utf8_lossy(body)
            );
        }
    }

    #[test]
    fn every_truncation_is_rejected() {
        let body = br#" {"model":"gpt-4o","n":-1.5e3,"x":[{"y":null},true,"\"]"],"z":{}} "#;
        assert!(scan_object(body).is_ok());
        for len in 0..body.len() - 1 {
            assert!(scan_object(&body[..len]).is_err(), "accepted {len} bytes");
        }
    }

    #[test]
    fn deep_nesting_does_not_overflow() {
        let depth = 100_000;
        let mut body = b"{\"a\":".to_vec();
        body.extend(std::iter::repeat_n(b'[', depth));
        body.extend(std::iter::repeat_n(b']', depth));
        body.extend_from_slice(b",\"model\":\"m\"}");
        let scan = scan_object(&body).unwrap();
        assert_eq!(
            scan.get(&body, "model").unwrap().read_str(&body).unwrap(),
            "m"
        );
        let mut open_only = b"{\"a\":".to_vec();
        open_only.extend(std::iter::repeat_n(b'{', depth));
        assert!(matches!(
            scan_object(&open_only),
            Err(JsonScanError::UnexpectedByte { .. } | JsonScanError::Unclosed { .. })
        ));
    }

    #[test]
    fn scan_object_at_checks_its_span() {
        let body = br#"{"o":{"k":1}}"#;
        let scan = scan_object(body).unwrap();
        let mut span = scan.get(body, "o").unwrap();
        span.range.end += 5;
        assert!(matches!(
            scan_object_at(body, &span),
            Err(JsonScanError::SpanOutOfBounds { .. })
        ));
        span.range.end -= 4;
        assert_eq!(
            scan_object_at(body, &span),
            Err(JsonScanError::TrailingCharacters { at: 12 })
        );
    }
}
