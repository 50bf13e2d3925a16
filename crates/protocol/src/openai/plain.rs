//! A fast test for the common streamed chunk: one that carries output and
//! nothing the relay must act on.
//!
//! On the same-protocol stream path every event after the first output is
//! forwarded as it is unless it reports usage, reports an error, or names a
//! model other than the one the client asked for. Scanning each chunk's
//! members to find out costs about as much as the rest of the relay's own
//! per-event work; [`is_plain_chunk`] answers with a few substring searches.
//! It is a sound negative test: `true` guarantees that a member scan would
//! find none of those; `false` only means "scan it".

use std::sync::LazyLock;

use aho_corasick::packed::{Config, MatchKind, Searcher};
use memchr::memmem::Finder;

/// The byte sequences the test looks for, in the searcher's pattern order.
const KEYS: [Key; 4] = [Key::UnicodeEscape, Key::Error, Key::Usage, Key::Model];

/// One of the sequences [`is_plain_chunk`] looks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Key {
    /// `\u`: a key may be spelled with an escape, so the chunk is scanned.
    UnicodeEscape,
    /// `"error"`
    Error,
    /// `"usage"`
    Usage,
    /// `"model"`
    Model,
}

impl Key {
    fn bytes(self) -> &'static [u8] {
        match self {
            Self::UnicodeEscape => b"\\u",
            Self::Error => b"\"error\"",
            Self::Usage => b"\"usage\"",
            Self::Model => b"\"model\"",
        }
    }
}

/// All four sequences in one SIMD pass (Teddy), where the CPU has it.
static ONE_PASS: LazyLock<Option<Searcher>> = LazyLock::new(|| {
    Config::new()
        .match_kind(MatchKind::LeftmostFirst)
        .builder()
        .extend(KEYS.map(Key::bytes))
        .build()
});

/// One substring search per sequence: the fallback where Teddy is missing.
static FINDERS: LazyLock<[Finder<'static>; 4]> =
    LazyLock::new(|| KEYS.map(|k| Finder::new(k.bytes())));

/// Whether the JSON chunk `data` holds no `usage` object, no `error` and no
/// `model` other than `model` (the requested name), at any depth.
///
/// Inside a JSON string a quote is always escaped, so the byte sequence
/// `"usage"` only occurs where a string spells exactly `usage`; a key can
/// spell it differently only with a `\u` escape, which sends the chunk to
/// the scan. A `model` whose JSON form needs escaping is never compared
/// here (the answer is then `false`).
pub fn is_plain_chunk(data: &[u8], model: &str) -> bool {
    match &*ONE_PASS {
        Some(searcher) => plain_in_one_pass(searcher, data, model),
        None => plain_by_substring_searches(data, model),
    }
}

/// [`is_plain_chunk`] with one search for all the sequences.
///
/// The searcher reports leftmost matches that do not overlap. That skips
/// nothing this test needs: every sequence starts with `"` or `\`, neither
/// occurs inside an accepted `"usage"` or `"model"` but at its ends, and an
/// accepted one is followed by `:`, which starts no sequence. Any other
/// match already makes the answer `false`.
fn plain_in_one_pass(searcher: &Searcher, data: &[u8], model: &str) -> bool {
    let comparable = is_comparable(model);
    searcher
        .find_iter(data)
        .all(|hit| match KEYS[hit.pattern().as_usize()] {
            Key::UnicodeEscape | Key::Error => false,
            Key::Usage => !starts_usage_object(data, hit.end()),
            Key::Model => comparable && names_model_at(data, hit.end(), model),
        })
}

/// [`is_plain_chunk`] with one substring search per sequence.
fn plain_by_substring_searches(data: &[u8], model: &str) -> bool {
    let [escape, error, usage, model_key] = &*FINDERS;
    if escape.find(data).is_some() || error.find(data).is_some() {
        return false;
    }
    let usage_len = usage.needle().len();
    if usage
        .find_iter(data)
        .any(|at| starts_usage_object(data, at + usage_len))
    {
        return false;
    }
    let model_len = model_key.needle().len();
    if !is_comparable(model) {
        return model_key.find(data).is_none();
    }
    model_key
        .find_iter(data)
        .all(|at| names_model_at(data, at + model_len, model))
}

/// Whether `model` can be compared with the raw bytes of a JSON string:
/// printable ASCII with nothing JSON escapes.
fn is_comparable(model: &str) -> bool {
    model
        .bytes()
        .all(|b| b != b'"' && b != b'\\' && (0x20..0x80).contains(&b))
}

/// Whether the `"usage"` ending at `end` may be a key holding an object:
/// true unless a `:` and a value other than an object follow.
fn starts_usage_object(data: &[u8], end: usize) -> bool {
    value_after(data, end).is_none_or(|v| v.first() == Some(&b'{'))
}

/// Whether the `"model"` ending at `end` is a key whose value is the string
/// `model`.
fn names_model_at(data: &[u8], end: usize, model: &str) -> bool {
    value_after(data, end).is_some_and(|v| names(v, model.as_bytes()))
}

/// The bytes from the value that follows a key ending at `end`
/// (`ws : ws value`), or `None` when no `:` follows (the string was a value).
fn value_after(data: &[u8], end: usize) -> Option<&[u8]> {
    let rest = data.get(end..)?;
    let rest = rest.trim_ascii_start().strip_prefix(b":")?;
    Some(rest.trim_ascii_start())
}

/// Whether `value` starts with the JSON string `"model"` (unescaped form).
fn names(value: &[u8], model: &[u8]) -> bool {
    value
        .strip_prefix(b"\"")
        .and_then(|v| v.strip_prefix(model))
        .is_some_and(|v| v.first() == Some(&b'"'))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// [`is_plain_chunk`], after checking that both searches agree.
    fn plain(data: &[u8], model: &str) -> bool {
        let searcher = ONE_PASS
            .as_ref()
            .expect("Teddy builds on x86_64 and aarch64");
        let one_pass = plain_in_one_pass(searcher, data, model);
        assert_eq!(one_pass, plain_by_substring_searches(data, model));
        assert_eq!(one_pass, is_plain_chunk(data, model));
        one_pass
    }

    const CHUNK: &str = r#"{"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":"hi"},"finish_reason":null}],"usage":null}"#;

    #[test]
    fn a_content_chunk_of_the_requested_model_is_plain() {
        assert!(plain(CHUNK.as_bytes(), "m"));
        let spaced = CHUNK.replace("\"usage\":null", "\"usage\" : null");
        assert!(plain(spaced.as_bytes(), "m"));
        let no_model = CHUNK.replace("\"model\":\"m\",", "");
        assert!(plain(no_model.as_bytes(), "m"));
        // Text that merely mentions the keys is escaped, so it never matches.
        let quoted = CHUNK.replace("hi", r#"say \"usage\": {\"model\": \"x\"} and \"error\""#);
        assert!(plain(quoted.as_bytes(), "m"));
    }

    #[test]
    fn anything_the_relay_acts_on_is_not_plain() {
        let cases = [
            CHUNK.replace("\"usage\":null", r#""usage":{"total_tokens":3}"#),
            CHUNK.replace("\"usage\":null", "\"usage\":\n{\"total_tokens\":3}"),
            CHUNK.replace("\"usage\":null", r#""error":{"message":"x"}"#),
            CHUNK.replace("\"model\":\"m\"", "\"model\":\"upstream-m\""),
            CHUNK.replace("\"model\":\"m\"", "\"model\":\"m2\""),
            CHUNK.replace("\"model\":\"m\"", "\"model\":null"),
            CHUNK.replace("\"usage\":null", r#""\u0075sage":{"total_tokens":3}"#),
            CHUNK.replace("\"usage\":null", "\"usage\""),
        ];
        for case in &cases {
            assert!(!plain(case.as_bytes(), "m"), "{case}");
        }
    }

    #[test]
    fn a_model_name_that_needs_escaping_is_never_compared() {
        let chunk = CHUNK.replace("\"model\":\"m\"", r#""model":"a\"b""#);
        assert!(!plain(chunk.as_bytes(), "a\"b"));
        let without = CHUNK.replace("\"model\":\"m\",", "");
        assert!(plain(without.as_bytes(), "a\"b"));
    }

    #[test]
    fn keys_that_touch_are_all_seen() {
        for case in [
            r#"{"usage"model":1}"#,
            r#"{"x":"usage""model":"other"}"#,
            r#"{"model":"m""usage":{}}"#,
            r#"{"model":"m""error":1}"#,
            r#"{"usage":"model""error"}"#,
        ] {
            assert!(!plain(case.as_bytes(), "m"), "{case}");
        }
        assert!(plain(br#"{"model":"m","usage":null}"#, "m"));
    }

    /// JSON-ish text made of the pieces the test looks for and the bytes
    /// around them, in any order.
    fn key_soup() -> impl proptest::strategy::Strategy<Value = String> {
        use proptest::prelude::{Just, prop_oneof};
        use proptest::strategy::Strategy;
        let piece = prop_oneof![
            Just("\"usage\"".to_owned()),
            Just("\"model\"".to_owned()),
            Just("\"error\"".to_owned()),
            Just("\"m\"".to_owned()),
            Just("\\u".to_owned()),
            Just("\\\"".to_owned()),
            Just("\"".to_owned()),
            Just(":".to_owned()),
            Just(" ".to_owned()),
            Just("{".to_owned()),
            Just("null".to_owned()),
            "[a-z]{1,3}",
        ];
        proptest::collection::vec(piece, 0..16).prop_map(|v| v.concat())
    }

    proptest::proptest! {
        #[test]
        fn one_pass_agrees_with_one_search_per_key(text in key_soup()) {
            // `plain` asserts the agreement.
            plain(text.as_bytes(), "m");
            plain(text.as_bytes(), "a\"b");
        }
    }
}
