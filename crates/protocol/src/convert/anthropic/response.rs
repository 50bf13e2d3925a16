//! Non-streamed responses and stop reasons: Anthropic ⇄ canonical.

use std::collections::HashMap;

use serde_json::Map;

use super::content::{block_to_part, empty_object};
use super::defaults::JSON_TOOL_NAME;
use crate::anthropic::{
    AnthropicUsage, ContentBlock, MessagesResponse, RedactedThinkingBlock, TextBlock,
    ThinkingBlock, ToolUseBlock,
};
use crate::convert::EncodeOptions;
use crate::convert::util::arguments_to_object;
use crate::ir::{Part, Response, StopReason};

/// Decodes a Messages response. Usage is normalised (input = uncached +
/// cache reads + cache writes). A call of the JSON-output tool becomes the
/// text answer and its `tool_use` stop reason a plain stop.
pub fn response_to_ir(resp: MessagesResponse) -> Response {
    let json_only = json_tool_only(&resp.content);
    let mut names = HashMap::new();
    let content: Vec<Part> = resp
        .content
        .into_iter()
        .filter_map(|b| block_to_part(b, &mut names))
        .collect();
    let stop_reason = resp.stop_reason.as_deref().map(|r| match r {
        "tool_use" if json_only => StopReason::Stop,
        other => stop_reason_to_ir(other),
    });
    Response {
        id: resp.id,
        model: resp.model,
        created: None,
        content,
        stop_reason,
        stop_sequence: resp.stop_sequence,
        usage: Some(resp.usage.to_usage()),
    }
}

/// Whether the only tool calls are of the JSON-output tool (and there is one).
fn json_tool_only(blocks: &[ContentBlock]) -> bool {
    let mut calls = blocks.iter().filter_map(|b| match b {
        ContentBlock::ToolUse(t) => Some(t.name.as_str()),
        _ => None,
    });
    let mut any = false;
    let only = calls.all(|name| {
        any = true;
        name == JSON_TOOL_NAME
    });
    any && only
}

/// Encodes a canonical response as a Messages response. Thinking without a
/// signature (from a non-Anthropic upstream) gets an empty `signature`;
/// usage is rendered in Anthropic's counting (input excludes cache).
pub fn response_from_ir(resp: &Response, opts: &EncodeOptions) -> MessagesResponse {
    let content = resp
        .content
        .iter()
        .filter_map(|part| {
            Some(match part {
                Part::Text { text, .. } | Part::Refusal(text) => ContentBlock::Text(TextBlock {
                    text: text.clone(),
                    ..TextBlock::default()
                }),
                Part::Thinking { text, signature } => ContentBlock::Thinking(ThinkingBlock {
                    thinking: text.clone(),
                    signature: Some(signature.clone().unwrap_or_default()),
                    extra: Map::new(),
                }),
                Part::RedactedThinking { data } => {
                    ContentBlock::RedactedThinking(RedactedThinkingBlock {
                        data: data.clone(),
                        extra: Map::new(),
                    })
                }
                Part::ToolCall(call) => ContentBlock::ToolUse(ToolUseBlock {
                    id: call.id.clone(),
                    name: call.name.clone(),
                    input: if call.arguments.trim().is_empty() {
                        empty_object()
                    } else {
                        arguments_to_object(&call.arguments)
                    },
                    cache_control: None,
                    extra: Map::new(),
                }),
                Part::Image(_) | Part::Audio(_) | Part::Document(_) | Part::ToolResult(_) => {
                    return None;
                }
            })
        })
        .collect();
    let reason = resp
        .stop_reason
        .clone()
        .unwrap_or(if resp.has_tool_calls() {
            StopReason::ToolCalls
        } else {
            StopReason::Stop
        });
    MessagesResponse {
        id: resp.id.clone(),
        kind: "message".to_owned(),
        role: "assistant".to_owned(),
        model: opts.model.clone().unwrap_or_else(|| resp.model.clone()),
        content,
        stop_reason: Some(stop_reason_from_ir(&reason, resp.stop_sequence.is_some()).to_owned()),
        stop_sequence: resp.stop_sequence.clone(),
        usage: AnthropicUsage::from_usage(&resp.usage.unwrap_or_default()),
        extra: Map::new(),
    }
}

/// Anthropic `stop_reason` → canonical.
pub fn stop_reason_to_ir(reason: &str) -> StopReason {
    match reason {
        "end_turn" | "stop_sequence" => StopReason::Stop,
        "max_tokens" | "model_context_window_exceeded" => StopReason::Length,
        "tool_use" => StopReason::ToolCalls,
        "refusal" => StopReason::Refusal,
        "pause_turn" => StopReason::Pause,
        other => StopReason::Other(other.to_owned()),
    }
}

/// Canonical → Anthropic `stop_reason`: a stop with a stop sequence is
/// `stop_sequence`; content filtering is `refusal`; errors and unknown
/// reasons are `end_turn`.
pub fn stop_reason_from_ir(reason: &StopReason, stop_sequence: bool) -> &'static str {
    match reason {
        StopReason::Stop if stop_sequence => "stop_sequence",
        StopReason::Length => "max_tokens",
        StopReason::ToolCalls => "tool_use",
        StopReason::ContentFilter | StopReason::Refusal => "refusal",
        StopReason::Pause => "pause_turn",
        StopReason::Stop | StopReason::Error | StopReason::Other(_) => "end_turn",
    }
}
