//! A borrowed view of one streamed chat/completions chunk: just what the relay
//! needs to decide whether the chunk carries content, to meter usage, and to
//! estimate output tokens when the upstream never reports usage.

use std::borrow::Cow;

use serde::Deserialize;

use super::OpenAiUsage;
use crate::sse::replay_events;

/// The parts of a `chat.completion.chunk` (or legacy `text_completion` chunk)
/// the relay reads. Unknown fields are ignored, not rejected.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ChunkView<'a> {
    /// Upstream completion id.
    #[serde(borrow)]
    pub id: Option<Cow<'a, str>>,
    /// Choices in this chunk (empty for the final usage-only chunk).
    #[serde(borrow)]
    pub choices: Vec<ChoiceView<'a>>,
    /// Usage, present on the final chunk when requested.
    pub usage: Option<OpenAiUsage>,
    /// An in-stream error some providers send.
    pub error: Option<serde_json::Value>,
}

/// One choice of a chunk.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ChoiceView<'a> {
    /// Chat delta.
    #[serde(borrow)]
    pub delta: Option<DeltaView<'a>>,
    /// Legacy completions text.
    #[serde(borrow)]
    pub text: Option<Cow<'a, str>>,
    /// Set on the last chunk of a choice.
    #[serde(borrow)]
    pub finish_reason: Option<Cow<'a, str>>,
}

/// A chat delta.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct DeltaView<'a> {
    /// Text content.
    #[serde(borrow)]
    pub content: Option<Cow<'a, str>>,
    /// Reasoning text (DeepSeek and others).
    #[serde(borrow)]
    pub reasoning_content: Option<Cow<'a, str>>,
    /// Tool call fragments, kept opaque.
    pub tool_calls: Option<serde_json::Value>,
}

impl ChunkView<'_> {
    /// True when the chunk carries something a client would see as output:
    /// text, reasoning, a tool call, a finish reason or an error.
    pub fn has_output(&self) -> bool {
        self.error.is_some()
            || self.choices.iter().any(|c| {
                c.finish_reason.is_some()
                    || c.text.as_deref().is_some_and(|t| !t.is_empty())
                    || c.delta.as_ref().is_some_and(|d| {
                        d.content.as_deref().is_some_and(|t| !t.is_empty())
                            || d.reasoning_content
                                .as_deref()
                                .is_some_and(|t| !t.is_empty())
                            || d.tool_calls.is_some()
                    })
            })
    }

    /// True for the usage-only chunk a client did not ask for
    /// (`choices` empty and `usage` set).
    pub fn is_usage_only(&self) -> bool {
        self.choices.is_empty() && self.usage.is_some() && self.error.is_none()
    }
}

/// Append the visible text of a chunk (content, reasoning, tool-call
/// arguments, legacy text) to `out`, for token estimation.
pub fn chunk_content_text(chunk: &ChunkView<'_>, out: &mut String) {
    for choice in &chunk.choices {
        if let Some(text) = &choice.text {
            out.push_str(text);
        }
        let Some(delta) = &choice.delta else { continue };
        if let Some(text) = &delta.content {
            out.push_str(text);
        }
        if let Some(text) = &delta.reasoning_content {
            out.push_str(text);
        }
        if let Some(calls) = delta.tool_calls.as_ref().and_then(|v| v.as_array()) {
            for call in calls {
                if let Some(args) = call.pointer("/function/arguments").and_then(|v| v.as_str()) {
                    out.push_str(args);
                }
                if let Some(name) = call.pointer("/function/name").and_then(|v| v.as_str()) {
                    out.push_str(name);
                }
            }
        }
    }
}

/// The visible text of a whole chat/completions SSE stream, read back from
/// its bytes (in order, split anywhere): what [`chunk_content_text`] finds
/// in each event, for estimating output tokens when the upstream reported
/// no usage. Comments, `[DONE]` and events that are not chunks add nothing;
/// an event larger than `max_event_bytes` ends the reading there.
pub fn stream_content_text<'a>(
    pieces: impl IntoIterator<Item = &'a [u8]>,
    max_event_bytes: usize,
) -> String {
    let mut text = String::new();
    replay_events(pieces, max_event_bytes, |event| {
        if !event.is_done()
            && let Ok(chunk) = serde_json::from_slice::<ChunkView<'_>>(&event.data)
        {
            chunk_content_text(&chunk, &mut text);
        }
    });
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_chunk_has_no_output() {
        let c: ChunkView<'_> = serde_json::from_str(
            r#"{"id":"x","choices":[{"index":0,"delta":{"role":"assistant","content":""}}]}"#,
        )
        .unwrap();
        assert!(!c.has_output());
    }

    #[test]
    fn content_chunk_has_output_and_text() {
        let c: ChunkView<'_> =
            serde_json::from_str(r#"{"choices":[{"delta":{"content":"he\"llo"}}]}"#).unwrap();
        assert!(c.has_output());
        let mut s = String::new();
        chunk_content_text(&c, &mut s);
        assert_eq!(s, "he\"llo");
    }

    #[test]
    fn usage_only_chunk() {
        let c: ChunkView<'_> = serde_json::from_str(
            r#"{"choices":[],"usage":{"prompt_tokens":1,"completion_tokens":2,"total_tokens":3}}"#,
        )
        .unwrap();
        assert!(c.is_usage_only());
        assert_eq!(c.usage.unwrap().to_usage().output_tokens, 2);
    }

    #[test]
    fn tool_call_arguments_are_counted() {
        let c: ChunkView<'_> = serde_json::from_str(
            r#"{"choices":[{"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"a\":1}"}}]}}]}"#,
        )
        .unwrap();
        assert!(c.has_output());
        let mut s = String::new();
        chunk_content_text(&c, &mut s);
        assert_eq!(s, "{\"a\":1}");
    }

    #[test]
    fn stream_text_is_read_back_across_any_split() {
        let stream = concat!(
            "data: {\"choices\":[{\"delta\":{\"role\":\"assistant\",\"content\":\"\"}}]}\n\n",
            ": keep-alive\n\n",
            "data: {\"choices\":[{\"delta\":{\"content\":\"Hel\"}}]}\r\n\r\n",
            "data: {\"choices\":[{\"delta\":{\"reasoning_content\":\"lo\"}}]}\n\n",
            "data: {\"error\":{\"message\":\"late\"}}\n\n",
            "data: [DONE]\n\n",
            "data: {\"choices\":[{\"text\":\"!\"}]}",
        )
        .as_bytes();
        for at in 0..=stream.len() {
            let (a, b) = stream.split_at(at);
            assert_eq!(
                stream_content_text([a, b], 1 << 20),
                "Hello!",
                "split at {at}"
            );
        }
    }

    #[test]
    fn stream_text_stops_at_an_oversized_event() {
        let stream = b"data: {\"choices\":[{\"text\":\"kept\"}]}\n\ndata: {\"choices\":[{\"text\":\"far too long\"}]}\n\n";
        assert_eq!(stream_content_text([&stream[..]], 40), "kept");
    }
}
