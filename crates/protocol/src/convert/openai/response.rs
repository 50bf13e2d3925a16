//! Non-streamed responses, finish reasons and usage: OpenAI ⇄ canonical.

use serde_json::Map;

use super::content::{
    parts_from_content, thinking_from_message, thinking_to_message, tool_call_from_chat,
    tool_call_to_chat,
};
use crate::Usage;
use crate::convert::EncodeOptions;
use crate::ir::{Part, Response, StopReason};
use crate::openai::{
    ChatChoice, ChatCompletion, ChatContent, ChatMessage, CompletionDetails, OpenAiUsage,
    PromptDetails,
};

/// Decodes a `chat.completion` (first choice only).
pub fn response_to_ir(resp: ChatCompletion) -> Response {
    let mut content = Vec::new();
    let mut finish = None;
    if let Some(choice) = resp.choices.into_iter().next() {
        let mut msg = choice.message;
        content = thinking_from_message(&mut msg);
        content.extend(parts_from_content(msg.content.take()));
        if let Some(refusal) = msg.refusal.take().filter(|r| !r.is_empty()) {
            content.push(Part::Refusal(refusal));
        }
        for (n, call) in msg
            .tool_calls
            .take()
            .unwrap_or_default()
            .into_iter()
            .enumerate()
        {
            let mut call = tool_call_from_chat(call);
            if call.id.is_empty() {
                call.id = format!("call_{}_{n}", resp.id);
            }
            content.push(Part::ToolCall(call));
        }
        finish = choice.finish_reason;
    }
    Response {
        id: resp.id,
        model: resp.model,
        created: (resp.created != 0).then_some(resp.created),
        content,
        stop_reason: finish.as_deref().map(finish_reason_to_ir),
        stop_sequence: None,
        usage: resp.usage.map(|u| u.to_usage()),
    }
}

/// Encodes a canonical response as a `chat.completion`: text parts joined
/// into `content` (`null` when there is none and tool calls exist),
/// thinking as `reasoning_content` plus signatures (`thinking_blocks`,
/// `reasoning_signature`), refusals as `refusal`.
pub fn response_from_ir(resp: &Response, opts: &EncodeOptions) -> ChatCompletion {
    let mut msg = ChatMessage {
        role: "assistant".to_owned(),
        ..ChatMessage::default()
    };
    let mut text = String::new();
    let mut calls = Vec::new();
    for part in &resp.content {
        match part {
            Part::Text { text: t, .. } => text.push_str(t),
            Part::Refusal(r) => msg.refusal = Some(r.clone()),
            Part::ToolCall(call) => calls.push(tool_call_to_chat(call, true)),
            _ => {}
        }
    }
    thinking_to_message(&resp.content, true, &mut msg);
    if !text.is_empty() || calls.is_empty() {
        msg.content = Some(ChatContent::Text(text));
    }
    if !calls.is_empty() {
        msg.tool_calls = Some(calls);
    }
    ChatCompletion {
        id: resp.id.clone(),
        object: "chat.completion".to_owned(),
        created: resp.created.unwrap_or(opts.created),
        model: opts.model.clone().unwrap_or_else(|| resp.model.clone()),
        choices: vec![ChatChoice {
            index: 0,
            message: msg,
            finish_reason: Some(
                finish_reason_from_ir(resp.stop_reason.as_ref().unwrap_or(&StopReason::Stop))
                    .to_owned(),
            ),
            extra: Map::new(),
        }],
        usage: resp.usage.as_ref().map(usage_from_ir),
        extra: Map::new(),
    }
}

/// OpenAI `finish_reason` → canonical.
pub fn finish_reason_to_ir(reason: &str) -> StopReason {
    match reason {
        "stop" | "end_turn" => StopReason::Stop,
        "length" | "max_tokens" => StopReason::Length,
        "tool_calls" | "function_call" => StopReason::ToolCalls,
        "content_filter" => StopReason::ContentFilter,
        other => StopReason::Other(other.to_owned()),
    }
}

/// Canonical → OpenAI `finish_reason`: refusals are `content_filter`;
/// pause, error and unknown reasons are `stop` (OpenAI clients know no
/// other values).
pub fn finish_reason_from_ir(reason: &StopReason) -> &'static str {
    match reason {
        StopReason::Length => "length",
        StopReason::ToolCalls => "tool_calls",
        StopReason::ContentFilter | StopReason::Refusal => "content_filter",
        StopReason::Stop | StopReason::Pause | StopReason::Error | StopReason::Other(_) => "stop",
    }
}

/// Renders a normalised usage as OpenAI `usage`: prompt tokens include
/// cached and cache-creation tokens; `prompt_tokens_details.cached_tokens`
/// and `completion_tokens_details.reasoning_tokens` are always present;
/// `cache_creation_tokens` (AI Proxy's extension) and `web_search_count`
/// only when non-zero.
pub fn usage_from_ir(usage: &Usage) -> OpenAiUsage {
    OpenAiUsage {
        prompt_tokens: Some(usage.input_tokens),
        completion_tokens: Some(usage.output_tokens),
        total_tokens: Some(if usage.total_tokens > 0 {
            usage.total_tokens
        } else {
            usage.input_tokens + usage.output_tokens
        }),
        prompt_tokens_details: Some(PromptDetails {
            cached_tokens: Some(usage.cached_tokens),
            audio_tokens: (usage.audio_input_tokens > 0).then_some(usage.audio_input_tokens),
            image_tokens: (usage.image_input_tokens > 0).then_some(usage.image_input_tokens),
            cache_creation_tokens: (usage.cache_creation_tokens > 0)
                .then_some(usage.cache_creation_tokens),
        }),
        completion_tokens_details: Some(CompletionDetails {
            reasoning_tokens: Some(usage.reasoning_tokens),
            audio_tokens: (usage.audio_output_tokens > 0).then_some(usage.audio_output_tokens),
            image_tokens: (usage.image_output_tokens > 0).then_some(usage.image_output_tokens),
        }),
        prompt_cache_hit_tokens: None,
        cached_tokens: None,
        web_search_count: (usage.web_search_count > 0).then_some(usage.web_search_count),
    }
}
