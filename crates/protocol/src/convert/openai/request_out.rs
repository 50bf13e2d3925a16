//! Canonical request → OpenAI Chat request.

use serde_json::Map;

use super::content::{part_to_chat, thinking_to_message, tool_call_to_chat};
use crate::convert::ChatRequestOptions;
use crate::ir::{Message, Part, Request, ResponseFormat, Role, ToolChoice, ToolResult};
use crate::openai::{
    ChatContent, ChatContentPart, ChatMessage, ChatRequest, ChatResponseFormat, ChatTool,
    ChatToolChoice, FunctionDef, FunctionName, JsonSchemaFormat, NamedToolChoice, StopField,
    StreamOptions,
};

/// Encodes a canonical request as a Chat Completions request.
///
/// - The system parts become one leading `system` message (joined with a
///   blank line).
/// - Tool results of a user turn become `tool` messages (text joined);
///   images or documents inside a tool result, which `tool` messages
///   cannot carry, follow in a `user` message together with the turn's
///   other parts.
/// - Assistant thinking becomes `reasoning_content` (and signatures, per
///   [`ChatRequestOptions`]).
/// - `top_k` is dropped (OpenAI rejects it); reasoning is sent as
///   `reasoning_effort` only when enabled; `metadata` is dropped (OpenAI
///   accepts it only with `store`); streams always ask for usage.
pub fn request_from_ir(req: &Request, opts: &ChatRequestOptions) -> ChatRequest {
    let mut messages = Vec::new();
    if !req.system.is_empty() {
        let text = req
            .system
            .iter()
            .map(|p| p.text.as_str())
            .collect::<Vec<_>>()
            .join("\n\n");
        messages.push(ChatMessage {
            role: "system".to_owned(),
            content: Some(ChatContent::Text(text)),
            ..ChatMessage::default()
        });
    }
    for msg in &req.messages {
        match msg.role {
            Role::User => encode_user(msg, &mut messages),
            Role::Assistant => encode_assistant(msg, opts, &mut messages),
        }
    }
    let has_tools = !req.tools.is_empty();
    let tools = has_tools.then(|| {
        req.tools
            .iter()
            .map(|t| ChatTool {
                kind: "function".to_owned(),
                function: Some(FunctionDef {
                    name: t.name.clone(),
                    description: t.description.clone(),
                    parameters: t.parameters.clone(),
                    strict: t.strict,
                    extra: Map::new(),
                }),
                extra: Map::new(),
            })
            .collect()
    });
    let s = &req.sampling;
    let (max_tokens, max_completion_tokens) = if opts.use_max_completion_tokens {
        (None, s.max_tokens)
    } else {
        (s.max_tokens, None)
    };
    ChatRequest {
        model: req.model.clone(),
        messages,
        max_tokens,
        max_completion_tokens,
        temperature: s.temperature,
        top_p: s.top_p,
        top_k: None,
        n: None,
        stop: (!s.stop.is_empty()).then(|| StopField::Many(s.stop.clone())),
        stream: req.stream.then_some(true),
        stream_options: req.stream.then(|| StreamOptions {
            include_usage: Some(true),
            extra: Map::new(),
        }),
        tools,
        tool_choice: req
            .tool_choice
            .as_ref()
            .filter(|_| has_tools)
            .map(tool_choice_to_chat),
        parallel_tool_calls: req.parallel_tool_calls.filter(|_| has_tools),
        response_format: req.response_format.as_ref().map(response_format_to_chat),
        reasoning_effort: req
            .reasoning
            .as_ref()
            .filter(|r| r.enabled())
            .map(|r| r.effective_effort().as_str().to_owned()),
        seed: s.seed,
        frequency_penalty: s.frequency_penalty,
        presence_penalty: s.presence_penalty,
        user: req.user.clone(),
        metadata: None,
        extra: Map::new(),
    }
}

fn encode_user(msg: &Message, out: &mut Vec<ChatMessage>) {
    let mut rest: Vec<ChatContentPart> = Vec::new();
    for part in &msg.content {
        match part {
            Part::ToolResult(result) => out.push(tool_message(result, &mut rest)),
            other => rest.extend(part_to_chat(other)),
        }
    }
    if rest.is_empty() {
        return;
    }
    out.push(ChatMessage {
        role: "user".to_owned(),
        content: Some(content_from_parts(rest)),
        name: msg.name.clone(),
        ..ChatMessage::default()
    });
}

/// A `tool` message; non-text result parts are moved to `spill`.
fn tool_message(result: &ToolResult, spill: &mut Vec<ChatContentPart>) -> ChatMessage {
    let mut text = String::new();
    for part in &result.content {
        match part {
            Part::Text { text: t, .. } => {
                if !text.is_empty() {
                    text.push('\n');
                }
                text.push_str(t);
            }
            other => spill.extend(part_to_chat(other)),
        }
    }
    ChatMessage {
        role: "tool".to_owned(),
        content: Some(ChatContent::Text(text)),
        tool_call_id: Some(result.call_id.clone()),
        ..ChatMessage::default()
    }
}

fn encode_assistant(msg: &Message, opts: &ChatRequestOptions, out: &mut Vec<ChatMessage>) {
    let mut chat = ChatMessage {
        role: "assistant".to_owned(),
        name: msg.name.clone(),
        ..ChatMessage::default()
    };
    let mut text = String::new();
    let mut calls = Vec::new();
    for part in &msg.content {
        match part {
            Part::Text { text: t, .. } => text.push_str(t),
            Part::Refusal(r) => chat.refusal = Some(r.clone()),
            Part::ToolCall(call) => calls.push(tool_call_to_chat(call, opts.signatures_in_history)),
            _ => {}
        }
    }
    if opts.reasoning_history {
        thinking_to_message(&msg.content, opts.signatures_in_history, &mut chat);
    }
    if text.is_empty() && calls.is_empty() && chat.refusal.is_none() {
        if chat.reasoning_content.is_none() {
            return;
        }
        chat.content = Some(ChatContent::Text(String::new()));
    } else if !text.is_empty() {
        chat.content = Some(ChatContent::Text(text));
    }
    if !calls.is_empty() {
        chat.tool_calls = Some(calls);
    }
    out.push(chat);
}

/// Plain string content for a single text part, else the part list.
fn content_from_parts(mut parts: Vec<ChatContentPart>) -> ChatContent {
    if parts.len() == 1
        && parts
            .first()
            .is_some_and(|p| p.kind == "text" && p.extra.is_empty())
        && let Some(text) = parts.pop().and_then(|p| p.text)
    {
        return ChatContent::Text(text);
    }
    ChatContent::Parts(parts)
}

fn tool_choice_to_chat(choice: &ToolChoice) -> ChatToolChoice {
    match choice {
        ToolChoice::Auto => ChatToolChoice::Mode("auto".to_owned()),
        ToolChoice::None => ChatToolChoice::Mode("none".to_owned()),
        ToolChoice::Required => ChatToolChoice::Mode("required".to_owned()),
        ToolChoice::Named(name) => ChatToolChoice::Named(NamedToolChoice {
            kind: "function".to_owned(),
            function: Some(FunctionName { name: name.clone() }),
            extra: Map::new(),
        }),
    }
}

fn response_format_to_chat(format: &ResponseFormat) -> ChatResponseFormat {
    let (kind, json_schema) = match format {
        ResponseFormat::Text => ("text", None),
        ResponseFormat::JsonObject => ("json_object", None),
        ResponseFormat::JsonSchema {
            name,
            description,
            schema,
            strict,
        } => (
            "json_schema",
            Some(JsonSchemaFormat {
                name: if name.is_empty() {
                    "response".to_owned()
                } else {
                    name.clone()
                },
                description: description.clone(),
                schema: Some(schema.clone()),
                strict: *strict,
                extra: Map::new(),
            }),
        ),
    };
    ChatResponseFormat {
        kind: kind.to_owned(),
        json_schema,
        extra: Map::new(),
    }
}
