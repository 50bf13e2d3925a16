//! Non-streamed responses and finish reasons: Gemini ⇄ canonical. Usage
//! converts with [`UsageMetadata::to_usage`] and
//! [`UsageMetadata::from_usage`].

use serde_json::Map;

use super::GeminiRequestOptions;
use super::content_in::{CallTracker, parts_to_ir};
use super::content_out::PartEncoder;
use crate::convert::EncodeOptions;
use crate::gemini::{Candidate, Content, GenerateContentResponse, Part, UsageMetadata};
use crate::ir::{Part as IrPart, Response, StopReason};

/// The id prefix for calls of a response without call ids.
pub(super) fn call_prefix(response_id: Option<&str>) -> String {
    match response_id.filter(|id| !id.is_empty()) {
        Some(id) => format!("call_{id}_"),
        None => "call_".to_owned(),
    }
}

/// Decodes a response (the first candidate only). `STOP` with function
/// calls is [`StopReason::ToolCalls`]; a blocked prompt (no candidates,
/// `promptFeedback.blockReason`) is [`StopReason::ContentFilter`]. Calls
/// without ids are named `call_<responseId>_<n>`.
pub fn response_to_ir(resp: GenerateContentResponse) -> Response {
    let mut calls = CallTracker::new(call_prefix(resp.response_id.as_deref()));
    let candidate = resp.candidates.into_iter().next();
    let (content, finish) = match candidate {
        Some(c) => (
            c.content
                .map(|content| parts_to_ir(content.parts, &mut calls))
                .unwrap_or_default(),
            c.finish_reason,
        ),
        None => (Vec::new(), None),
    };
    let has_calls = content.iter().any(|p| matches!(p, IrPart::ToolCall(_)));
    let stop_reason = match finish.as_deref() {
        Some(reason) => Some(finish_reason_to_ir(reason, has_calls)),
        None if resp
            .prompt_feedback
            .as_ref()
            .is_some_and(|f| f.block_reason.is_some()) =>
        {
            Some(StopReason::ContentFilter)
        }
        None => None,
    };
    Response {
        id: resp.response_id.unwrap_or_default(),
        model: resp.model_version.unwrap_or_default(),
        created: None,
        content,
        stop_reason,
        stop_sequence: None,
        usage: resp.usage_metadata.as_ref().map(UsageMetadata::to_usage),
    }
}

/// Encodes a canonical response for a Gemini client: one candidate with
/// the parts per [`content_out`](super::content_out) (call ids included,
/// so the client can answer them), the finish reason, `usageMetadata`,
/// `modelVersion` (the requested model) and `responseId`.
pub fn response_from_ir(resp: &Response, opts: &EncodeOptions) -> GenerateContentResponse {
    let request_opts = GeminiRequestOptions {
        http_urls_as_file_data: true,
        ..GeminiRequestOptions::default()
    };
    let parts = PartEncoder::new(&request_opts, true).encode(&resp.content);
    let reason = resp.stop_reason.clone().unwrap_or(StopReason::Stop);
    GenerateContentResponse {
        candidates: vec![candidate(parts, Some(finish_reason_from_ir(&reason)))],
        prompt_feedback: None,
        usage_metadata: Some(UsageMetadata::from_usage(&resp.usage.unwrap_or_default())),
        model_version: Some(opts.model.clone().unwrap_or_else(|| resp.model.clone())),
        response_id: (!resp.id.is_empty()).then(|| resp.id.clone()),
        error: None,
        extra: Map::new(),
    }
}

/// Candidate 0 with `parts` (an empty text part when there are none, as
/// Gemini itself sends) and an optional finish reason.
pub(super) fn candidate(mut parts: Vec<Part>, finish: Option<&str>) -> Candidate {
    if parts.is_empty() {
        parts.push(Part::text(""));
    }
    Candidate {
        content: Some(Content {
            role: Some("model".to_owned()),
            parts,
            extra: Map::new(),
        }),
        finish_reason: finish.map(str::to_owned),
        index: Some(0),
        finish_message: None,
        extra: Map::new(),
    }
}

/// Gemini `finishReason` → canonical; `has_calls` turns `STOP` into
/// [`StopReason::ToolCalls`] (Gemini says `STOP` after function calls).
///
/// | Gemini | canonical |
/// |---|---|
/// | `STOP` | stop (tool calls with calls) |
/// | `MAX_TOKENS` | length |
/// | `SAFETY`, `RECITATION`, `BLOCKLIST`, `PROHIBITED_CONTENT`, `SPII`, `IMAGE_SAFETY`, `IMAGE_PROHIBITED_CONTENT`, `IMAGE_RECITATION` | content filter |
/// | `MALFORMED_FUNCTION_CALL`, `UNEXPECTED_TOOL_CALL`, `TOO_MANY_TOOL_CALLS`, `OTHER`, `IMAGE_OTHER`, `NO_IMAGE` | error |
/// | anything else (`LANGUAGE`, `FINISH_REASON_UNSPECIFIED`, …) | other, verbatim |
pub fn finish_reason_to_ir(reason: &str, has_calls: bool) -> StopReason {
    match reason {
        "STOP" if has_calls => StopReason::ToolCalls,
        "STOP" => StopReason::Stop,
        "MAX_TOKENS" => StopReason::Length,
        "SAFETY"
        | "RECITATION"
        | "BLOCKLIST"
        | "PROHIBITED_CONTENT"
        | "SPII"
        | "IMAGE_SAFETY"
        | "IMAGE_PROHIBITED_CONTENT"
        | "IMAGE_RECITATION" => StopReason::ContentFilter,
        "MALFORMED_FUNCTION_CALL"
        | "UNEXPECTED_TOOL_CALL"
        | "TOO_MANY_TOOL_CALLS"
        | "OTHER"
        | "IMAGE_OTHER"
        | "NO_IMAGE" => StopReason::Error,
        other => StopReason::Other(other.to_owned()),
    }
}

/// Canonical → Gemini `finishReason`: stop, tool calls and pause are
/// `STOP`; length `MAX_TOKENS`; content filter and refusal `SAFETY`;
/// error `OTHER`; an other reason that is already a Gemini name
/// (upper-case) verbatim, else `OTHER`.
pub fn finish_reason_from_ir(reason: &StopReason) -> &str {
    match reason {
        StopReason::Stop | StopReason::ToolCalls | StopReason::Pause => "STOP",
        StopReason::Length => "MAX_TOKENS",
        StopReason::ContentFilter | StopReason::Refusal => "SAFETY",
        StopReason::Error => "OTHER",
        StopReason::Other(name)
            if !name.is_empty() && name.bytes().all(|b| b.is_ascii_uppercase() || b == b'_') =>
        {
            name
        }
        StopReason::Other(_) => "OTHER",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finish_reasons_round_trip() {
        for (gemini, has_calls) in [
            ("STOP", false),
            ("MAX_TOKENS", false),
            ("SAFETY", false),
            ("OTHER", false),
            ("LANGUAGE", false),
        ] {
            assert_eq!(
                finish_reason_from_ir(&finish_reason_to_ir(gemini, has_calls)),
                gemini
            );
        }
        assert_eq!(finish_reason_to_ir("STOP", true), StopReason::ToolCalls);
        assert_eq!(
            finish_reason_to_ir("RECITATION", false),
            StopReason::ContentFilter
        );
        assert_eq!(
            finish_reason_to_ir("MALFORMED_FUNCTION_CALL", false),
            StopReason::Error
        );
        assert_eq!(
            finish_reason_from_ir(&StopReason::Other("end_turn".into())),
            "OTHER"
        );
    }

    #[test]
    fn blocked_prompt() {
        let resp: GenerateContentResponse = serde_json::from_str(
            r#"{"promptFeedback":{"blockReason":"SAFETY"},"usageMetadata":{"promptTokenCount":7,"totalTokenCount":7}}"#,
        )
        .unwrap();
        let ir = response_to_ir(resp);
        assert_eq!(ir.stop_reason, Some(StopReason::ContentFilter));
        assert_eq!(ir.usage.unwrap().input_tokens, 7);
    }
}
