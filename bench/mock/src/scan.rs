//! Light scanning of JSON request bodies.
//!
//! The mock never parses a chat body: a 1 MB prompt must cost it almost nothing. It
//! looks for a few keys (`"model"`, `"stream"`, `"include_usage"`, …) with a SIMD
//! substring search, first in the head and tail of the body (where these keys live in
//! practice, around the large `messages` array) and only then in the whole body.
//! A key inside a JSON string is escaped (`\"model\"`) and so is not matched.

use memchr::memmem;

/// Bytes searched at each end of the body before falling back to a full scan.
const WINDOW: usize = 8 * 1024;

/// What the mock needs to know about a request body.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Probe<'a> {
    /// The raw (still JSON-escaped) `model` string, if present.
    pub model: Option<&'a str>,
    /// `"stream": true`.
    pub stream: bool,
    /// `"include_usage": true` (OpenAI `stream_options`).
    pub include_usage: bool,
    /// `"encoding_format": "base64"` (embeddings).
    pub base64: bool,
    /// `"dimensions": N` (embeddings).
    pub dimensions: Option<usize>,
}

impl<'a> Probe<'a> {
    /// Scans a chat/messages/completions body.
    pub fn chat(body: &'a [u8]) -> Self {
        let stream = value_of(body, b"\"stream\"").is_some_and(is_true);
        Self {
            model: value_of(body, b"\"model\"").and_then(string_value),
            stream,
            include_usage: stream && value_of(body, b"\"include_usage\"").is_some_and(is_true),
            base64: false,
            dimensions: None,
        }
    }

    /// Scans an embeddings body.
    pub fn embeddings(body: &'a [u8]) -> Self {
        Self {
            model: value_of(body, b"\"model\"").and_then(string_value),
            base64: value_of(body, b"\"encoding_format\"")
                .and_then(string_value)
                .is_some_and(|v| v == "base64"),
            dimensions: value_of(body, b"\"dimensions\"").and_then(number_value),
            ..Self::default()
        }
    }
}

/// Returns the bytes starting at the value of the first `key` (quoted) found in `body`.
pub fn value_of<'a>(body: &'a [u8], key: &[u8]) -> Option<&'a [u8]> {
    let finder = memmem::Finder::new(key);
    if body.len() <= 2 * WINDOW {
        return search(body, 0, body.len(), &finder);
    }
    let tail = body.len() - WINDOW;
    search(body, 0, WINDOW, &finder)
        .or_else(|| search(body, tail, body.len(), &finder))
        .or_else(|| search(body, 0, body.len(), &finder))
}

fn search<'a>(
    body: &'a [u8],
    from: usize,
    to: usize,
    finder: &memmem::Finder<'_>,
) -> Option<&'a [u8]> {
    let region = body.get(from..to)?;
    for hit in finder.find_iter(region) {
        let start = from + hit;
        if start > 0 && body.get(start - 1) == Some(&b'\\') {
            continue;
        }
        let mut rest = skip_ws(body.get(start + finder.needle().len()..)?);
        if rest.first() != Some(&b':') {
            continue;
        }
        rest = skip_ws(rest.get(1..)?);
        return Some(rest);
    }
    None
}

fn skip_ws(s: &[u8]) -> &[u8] {
    let n = s.iter().take_while(|b| b.is_ascii_whitespace()).count();
    s.get(n..).unwrap_or_default()
}

fn is_true(value: &[u8]) -> bool {
    value.starts_with(b"true")
}

/// Reads a JSON string value, returning its raw (still escaped) content.
fn string_value(value: &[u8]) -> Option<&str> {
    let inner = value.strip_prefix(b"\"")?;
    let mut i = 0;
    while let Some(&b) = inner.get(i) {
        match b {
            b'\\' => i += 2,
            b'"' => return std::str::from_utf8(inner.get(..i)?).ok(),
            _ => i += 1,
        }
    }
    None
}

fn number_value(value: &[u8]) -> Option<usize> {
    let digits = value.iter().take_while(|b| b.is_ascii_digit()).count();
    std::str::from_utf8(value.get(..digits)?).ok()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_keys_in_small_body() {
        let body = br#"{"model" : "gpt-4o\"x", "messages":[{"role":"user","content":"say \"stream\": true"}],
            "stream": true, "stream_options": {"include_usage":true}}"#;
        let p = Probe::chat(body);
        assert_eq!(p.model, Some(r#"gpt-4o\"x"#));
        assert!(p.stream);
        assert!(p.include_usage);
    }

    #[test]
    fn escaped_key_inside_content_is_ignored() {
        let body = br#"{"model":"m","messages":[{"content":"\"stream\": true"}]}"#;
        let p = Probe::chat(body);
        assert!(!p.stream);
        assert!(!p.include_usage);
    }

    #[test]
    fn finds_keys_after_a_large_prompt() {
        let mut body = br#"{"model":"big","messages":[{"role":"user","content":""#.to_vec();
        body.extend(std::iter::repeat_n(b'a', 1 << 20));
        body.extend_from_slice(br#""}],"stream":false,"stream_options":{"include_usage":true}}"#);
        let p = Probe::chat(&body);
        assert_eq!(p.model, Some("big"));
        assert!(!p.stream);
        assert!(!p.include_usage, "include_usage only counts for streams");
    }

    #[test]
    fn key_in_the_middle_of_a_large_body_is_found() {
        let mut body = br#"{"messages":[{"content":""#.to_vec();
        body.extend(std::iter::repeat_n(b'a', 20_000));
        body.extend_from_slice(br#""}],"stream":true,"x":""#);
        body.extend(std::iter::repeat_n(b'b', 20_000));
        body.extend_from_slice(br#""}"#);
        assert!(Probe::chat(&body).stream);
        assert_eq!(Probe::chat(&body).model, None);
    }

    #[test]
    fn embeddings_probe() {
        let p = Probe::embeddings(
            br#"{"input":["a","b"],"model":"e","encoding_format":"base64","dimensions":8}"#,
        );
        assert_eq!(p.model, Some("e"));
        assert!(p.base64);
        assert_eq!(p.dimensions, Some(8));
    }
}
