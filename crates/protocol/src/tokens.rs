//! Token counting with the embedded o200k BPE tables (no download, ever).
//!
//! Used only when an upstream does not report usage (the result is flagged as
//! estimated by the caller) and for cheap request-size estimates. The BPE
//! tables are built once per process on first use; call [`warm_up`] at start
//! so the first request does not pay for it.

use serde::Deserialize;

/// Texts longer than this many bytes are estimated as `len / 4` instead of
/// being tokenised (AI Proxy's `FuzzyTokenThreshold` default).
pub const DEFAULT_FUZZY_THRESHOLD: usize = 2_048_000;

/// Tokens added per chat message for role and separators.
const TOKENS_PER_MESSAGE: i64 = 3;
/// Tokens that prime the assistant's reply.
const REPLY_PRIMING_TOKENS: i64 = 3;

/// Build the tokenizer tables now.
pub fn warm_up() {
    let _ = tiktoken_rs::o200k_base_singleton();
}

/// Count the tokens of `text` (o200k), estimating very long texts as bytes/4.
pub fn count_text(text: &str) -> i64 {
    if text.is_empty() {
        return 0;
    }
    if text.len() > DEFAULT_FUZZY_THRESHOLD {
        return i64::try_from(text.len() / 4).unwrap_or(i64::MAX);
    }
    let tokens = tiktoken_rs::o200k_base_singleton()
        .encode_ordinary(text)
        .len();
    i64::try_from(tokens).unwrap_or(i64::MAX)
}

/// A cheap size estimate from a byte length (≈ 4 bytes per token), used for
/// timeout tiers and limit reservations where an exact count is not needed.
pub fn estimate_from_bytes(len: usize) -> i64 {
    i64::try_from(len.div_ceil(4)).unwrap_or(i64::MAX)
}

#[derive(Deserialize)]
struct ChatPrompt {
    #[serde(default)]
    messages: Vec<ChatMessage>,
}

#[derive(Deserialize)]
struct ChatMessage {
    #[serde(default)]
    content: Option<serde_json::Value>,
    #[serde(default)]
    name: Option<String>,
}

/// Count the prompt tokens of an OpenAI chat request body the way OpenAI's
/// cookbook does: message texts + 3 per message + 3 for reply priming.
/// Image parts are not counted. Returns `None` when the body has no
/// `messages` array.
pub fn count_chat_prompt(body: &[u8]) -> Option<i64> {
    let prompt: ChatPrompt = serde_json::from_slice(body).ok()?;
    let mut total = REPLY_PRIMING_TOKENS;
    for message in &prompt.messages {
        total += TOKENS_PER_MESSAGE;
        if let Some(name) = &message.name {
            total += count_text(name);
        }
        match &message.content {
            Some(serde_json::Value::String(text)) => total += count_text(text),
            Some(serde_json::Value::Array(parts)) => {
                for part in parts {
                    if let Some(text) = part.get("text").and_then(|t| t.as_str()) {
                        total += count_text(text);
                    }
                }
            }
            _ => {}
        }
    }
    Some(total)
}

/// Count the tokens of an OpenAI `prompt`/`input` value: a string or an
/// array of strings (token arrays are counted by length).
pub fn count_input_value(value: &serde_json::Value) -> i64 {
    match value {
        serde_json::Value::String(text) => count_text(text),
        serde_json::Value::Array(items) => items
            .iter()
            .map(|item| match item {
                serde_json::Value::Number(_) => 1,
                other => count_input_value(other),
            })
            .sum(),
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_plain_text() {
        assert_eq!(count_text(""), 0);
        assert!(count_text("hello world") >= 2);
    }

    #[test]
    fn chat_prompt_adds_overheads() {
        let body = br#"{"model":"m","messages":[{"role":"user","content":"hi"}]}"#;
        let n = count_chat_prompt(body).unwrap();
        assert_eq!(n, count_text("hi") + 3 + 3);
    }

    #[test]
    fn chat_prompt_counts_text_parts() {
        let body = br#"{"messages":[{"role":"user","content":[{"type":"text","text":"hi"},{"type":"image_url","image_url":{"url":"x"}}]}]}"#;
        assert_eq!(count_chat_prompt(body).unwrap(), count_text("hi") + 6);
    }

    #[test]
    fn input_arrays() {
        let v = serde_json::json!(["a b", "c"]);
        assert_eq!(count_input_value(&v), count_text("a b") + count_text("c"));
        assert_eq!(count_input_value(&serde_json::json!([1, 2, 3])), 3);
    }
}
