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

use memchr::memmem::Finder;

static USAGE_KEY: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new(b"\"usage\""));
static ERROR_KEY: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new(b"\"error\""));
static MODEL_KEY: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new(b"\"model\""));
static UNICODE_ESCAPE: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new(b"\\u"));

/// Whether the JSON chunk `data` holds no `usage` object, no `error` and no
/// `model` other than `model` (the requested name), at any depth.
///
/// Inside a JSON string a quote is always escaped, so the byte sequence
/// `"usage"` only occurs where a string spells exactly `usage`; a key can
/// spell it differently only with a `\u` escape, which sends the chunk to
/// the scan. A `model` whose JSON form needs escaping is never compared
/// here (the answer is then `false`).
pub fn is_plain_chunk(data: &[u8], model: &str) -> bool {
    if UNICODE_ESCAPE.find(data).is_some() || ERROR_KEY.find(data).is_some() {
        return false;
    }
    let usage_object = USAGE_KEY.find_iter(data).any(|at| {
        value_after(data, at + USAGE_KEY.needle().len()).is_none_or(|v| v.first() == Some(&b'{'))
    });
    if usage_object {
        return false;
    }
    let model = model.as_bytes();
    if model
        .iter()
        .any(|&b| b == b'"' || b == b'\\' || !(0x20..0x80).contains(&b))
    {
        return MODEL_KEY.find(data).is_none();
    }
    MODEL_KEY
        .find_iter(data)
        .all(|at| value_after(data, at + MODEL_KEY.needle().len()).is_some_and(|v| names(v, model)))
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

    const CHUNK: &str = r#"{"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":"hi"},"finish_reason":null}],"usage":null}"#;

    #[test]
    fn a_content_chunk_of_the_requested_model_is_plain() {
        assert!(is_plain_chunk(CHUNK.as_bytes(), "m"));
        let spaced = CHUNK.replace("\"usage\":null", "\"usage\" : null");
        assert!(is_plain_chunk(spaced.as_bytes(), "m"));
        let no_model = CHUNK.replace("\"model\":\"m\",", "");
        assert!(is_plain_chunk(no_model.as_bytes(), "m"));
        // Text that merely mentions the keys is escaped, so it never matches.
        let quoted = CHUNK.replace("hi", r#"say \"usage\": {\"model\": \"x\"} and \"error\""#);
        assert!(is_plain_chunk(quoted.as_bytes(), "m"));
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
            assert!(!is_plain_chunk(case.as_bytes(), "m"), "{case}");
        }
    }

    #[test]
    fn a_model_name_that_needs_escaping_is_never_compared() {
        let chunk = CHUNK.replace("\"model\":\"m\"", r#""model":"a\"b""#);
        assert!(!is_plain_chunk(chunk.as_bytes(), "a\"b"));
        let without = CHUNK.replace("\"model\":\"m\",", "");
        assert!(is_plain_chunk(without.as_bytes(), "a\"b"));
    }
}
