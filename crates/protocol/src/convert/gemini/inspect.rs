//! Observing a Gemini answer the gateway forwards byte for byte (Gemini
//! client, Gemini upstream): usage, id, output, errors, end. Only the
//! members needed are read; texts are only checked for emptiness, never
//! copied.

use std::fmt;

use serde::de::{IgnoredAny, Visitor};
use serde::{Deserialize, Deserializer};

use crate::gemini::UsageMetadata;
use crate::inspect::{EventFacts, ResponseFacts, UsageReport};

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct ChunkView {
    candidates: Vec<CandidateView>,
    usage_metadata: Option<UsageMetadata>,
    response_id: Option<String>,
    prompt_feedback: Option<FeedbackView>,
    error: Option<ErrorView>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct CandidateView {
    content: Option<ContentView>,
    finish_reason: Option<IgnoredAny>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ContentView {
    parts: Vec<PartView>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct PartView {
    text: Option<NonEmpty>,
    function_call: Option<IgnoredAny>,
    inline_data: Option<IgnoredAny>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct FeedbackView {
    block_reason: Option<IgnoredAny>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ErrorView {
    message: String,
    status: String,
}

impl ErrorView {
    fn describe(self) -> String {
        match (self.message.is_empty(), self.status.is_empty()) {
            (false, _) => self.message,
            (true, false) => self.status,
            (true, true) => "upstream error".to_owned(),
        }
    }
}

/// Whether a string is non-empty, read without allocating.
#[derive(Default)]
struct NonEmpty(bool);

impl<'de> Deserialize<'de> for NonEmpty {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = NonEmpty;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<NonEmpty, E> {
                Ok(NonEmpty(!s.is_empty()))
            }
        }
        deserializer.deserialize_str(V)
    }
}

impl ChunkView {
    fn has_output(&self) -> bool {
        self.candidates.iter().any(|c| {
            c.finish_reason.is_some()
                || c.content.as_ref().is_some_and(|content| {
                    content.parts.iter().any(|p| {
                        p.function_call.is_some()
                            || p.inline_data.is_some()
                            || p.text.as_ref().is_some_and(|t| t.0)
                    })
                })
        })
    }

    fn is_end(&self) -> bool {
        self.candidates.iter().any(|c| c.finish_reason.is_some())
            || (self.candidates.is_empty()
                && self
                    .prompt_feedback
                    .as_ref()
                    .is_some_and(|f| f.block_reason.is_some()))
    }
}

/// What one streamed chunk (the SSE `data`) says: the cumulative usage as
/// a [`UsageReport::Total`], the response id, whether a part carries text
/// (thoughts included), a function call or inline data, or the candidate
/// has a finish reason (output), whether it is an error object, and
/// whether it ends the stream (a finish reason, or a blocked prompt).
pub fn inspect_event(data: &[u8]) -> EventFacts {
    let Ok(view) = serde_json::from_slice::<ChunkView>(data) else {
        return EventFacts::default();
    };
    let is_end = view.is_end();
    let has_output = view.has_output() || is_end;
    EventFacts {
        usage: view
            .usage_metadata
            .as_ref()
            .map(|u| UsageReport::Total(u.to_usage())),
        upstream_id: view.response_id,
        has_output,
        error: view.error.map(ErrorView::describe),
        is_end,
        usage_only: false,
    }
}

/// What a whole `generateContent` body says. A JSON array (the
/// `streamGenerateContent` answer without `alt=sse`, or Google's array
/// error form) is read as its chunks: usage and id from the last that has
/// them, the first error.
pub fn inspect_response(body: &[u8]) -> ResponseFacts {
    let views: Vec<ChunkView> = match body.trim_ascii_start().first() {
        Some(b'[') => serde_json::from_slice(body).unwrap_or_default(),
        _ => serde_json::from_slice(body)
            .map(|v| vec![v])
            .unwrap_or_default(),
    };
    let mut facts = ResponseFacts::default();
    for view in views {
        if let Some(usage) = &view.usage_metadata {
            facts.usage = Some(usage.to_usage());
        }
        if view.response_id.is_some() {
            facts.upstream_id = view.response_id;
        }
        if facts.error.is_none() {
            facts.error = view.error.map(ErrorView::describe);
        }
    }
    facts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stream_chunks() {
        let first = inspect_event(
            br#"{"candidates":[{"content":{"parts":[{"text":"Hi \"x\""}],"role":"model"},"index":0}],"usageMetadata":{"promptTokenCount":5,"candidatesTokenCount":1,"totalTokenCount":6},"responseId":"r1"}"#,
        );
        assert!(first.has_output && !first.is_end);
        assert_eq!(first.upstream_id.as_deref(), Some("r1"));
        assert!(matches!(first.usage, Some(UsageReport::Total(u)) if u.total_tokens == 6));
        let last = inspect_event(
            br#"{"candidates":[{"content":{"parts":[{"text":""}]},"finishReason":"STOP"}],"usageMetadata":{"promptTokenCount":5,"candidatesTokenCount":9,"thoughtsTokenCount":4}}"#,
        );
        assert!(last.has_output && last.is_end);
        assert!(
            matches!(last.usage, Some(UsageReport::Total(u)) if u.output_tokens == 13 && u.reasoning_tokens == 4)
        );
        let empty = inspect_event(br#"{"candidates":[{"content":{"parts":[{"text":""}]}}]}"#);
        assert!(!empty.has_output);
        let call = inspect_event(
            br#"{"candidates":[{"content":{"parts":[{"functionCall":{"name":"f","args":{}}}]}}]}"#,
        );
        assert!(call.has_output);
        let error =
            inspect_event(br#"{"error":{"code":500,"message":"boom","status":"INTERNAL"}}"#);
        assert_eq!(error.error.as_deref(), Some("boom"));
        let blocked = inspect_event(br#"{"promptFeedback":{"blockReason":"SAFETY"}}"#);
        assert!(blocked.is_end);
    }

    #[test]
    fn whole_responses() {
        let f = inspect_response(
            br#"{"candidates":[],"usageMetadata":{"promptTokenCount":3,"candidatesTokenCount":4,"cachedContentTokenCount":2},"responseId":"r2"}"#,
        );
        assert_eq!(
            f.usage
                .map(|u| (u.input_tokens, u.output_tokens, u.cached_tokens)),
            Some((3, 4, 2))
        );
        assert_eq!(f.upstream_id.as_deref(), Some("r2"));
        let e = inspect_response(
            br#"[{"error":{"code":400,"message":"bad","status":"INVALID_ARGUMENT"}}]"#,
        );
        assert_eq!(e.error.as_deref(), Some("bad"));
        let chunks = inspect_response(br#"[{"responseId":"a","usageMetadata":{"promptTokenCount":1}},{"responseId":"a","usageMetadata":{"promptTokenCount":1,"candidatesTokenCount":2}}]"#);
        assert_eq!(chunks.usage.unwrap().output_tokens, 2);
    }
}
