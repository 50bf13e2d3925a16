//! Canonical request → Anthropic Messages request.

use serde_json::{Map, json};

use super::content::{cache_to_wire, part_to_block};
use super::defaults::JSON_TOOL_NAME;
use super::plan::plan;
use crate::anthropic::{
    AnthropicMessage, AnthropicTool, AnthropicToolChoice, ContentBlock, MessageContent,
    MessagesRequest, Metadata, SystemPrompt, TextBlock,
};
use crate::convert::AnthropicRequestOptions;
use crate::ir::{Request, Role, ToolChoice};

/// Encodes a canonical request as a Messages request.
///
/// - System parts become `system` (a string when there is one plain part).
/// - Consecutive same-role turns are merged; in user turns tool results
///   come first. Parts Anthropic cannot carry are dropped (audio, unsigned
///   thinking, empty text) and turns left empty are skipped.
/// - Tool-call ids are sanitised to `[A-Za-z0-9_-]`; arguments become the
///   `input` object (invalid JSON is kept under `_raw_arguments`).
/// - `tool_choice`: auto/none/required→`any`/named→`tool`;
///   `parallel_tool_calls: false` → `disable_parallel_tool_use: true`.
/// - Thinking, `max_tokens` and JSON output follow [`super::plan`]; with
///   thinking on, `temperature` and `top_k` are dropped and `top_p` is kept
///   only if ≥ 0.95 (Anthropic's rules).
/// - Whitespace-only stop sequences are dropped (Anthropic rejects them);
///   the user id goes to `metadata.user_id`.
pub fn request_from_ir(req: &Request, opts: &AnthropicRequestOptions) -> MessagesRequest {
    let plan = plan(req, opts);
    let mut messages: Vec<AnthropicMessage> = Vec::new();
    for msg in &req.messages {
        let role = match msg.role {
            Role::User => "user",
            Role::Assistant => "assistant",
        };
        let blocks: Vec<ContentBlock> = msg.content.iter().filter_map(part_to_block).collect();
        if blocks.is_empty() {
            continue;
        }
        match messages.last_mut() {
            Some(last) if last.role == role => {
                if let MessageContent::Blocks(existing) = &mut last.content {
                    existing.extend(blocks);
                }
            }
            _ => messages.push(AnthropicMessage {
                role: role.to_owned(),
                content: MessageContent::Blocks(blocks),
                extra: Map::new(),
            }),
        }
    }
    for msg in messages.iter_mut().filter(|m| m.role == "user") {
        if let MessageContent::Blocks(blocks) = &mut msg.content {
            // Stable: tool results first, everything else after, in order.
            blocks.sort_by_key(|b| !matches!(b, ContentBlock::ToolResult(_)));
        }
    }

    let mut system: Vec<TextBlock> = req
        .system
        .iter()
        .map(|p| TextBlock {
            text: p.text.clone(),
            cache_control: cache_to_wire(&p.cache_control),
            extra: Map::new(),
        })
        .collect();
    if let Some(instruction) = &plan.json_instruction {
        system.push(TextBlock {
            text: instruction.clone(),
            ..TextBlock::default()
        });
    }
    let system = match system.len() {
        0 => None,
        1 if system.first().is_some_and(|b| b.cache_control.is_none()) => {
            system.pop().map(|b| SystemPrompt::Text(b.text))
        }
        _ => Some(SystemPrompt::Blocks(
            system.into_iter().map(ContentBlock::Text).collect(),
        )),
    };

    let mut tools: Vec<AnthropicTool> = req
        .tools
        .iter()
        .map(|t| AnthropicTool {
            kind: None,
            name: t.name.clone(),
            description: t.description.clone(),
            input_schema: Some(
                t.parameters
                    .clone()
                    .filter(|p| p.is_object())
                    .unwrap_or_else(|| json!({"type": "object", "properties": {}})),
            ),
            cache_control: cache_to_wire(&t.cache_control),
            extra: Map::new(),
        })
        .collect();
    let forced_json = plan.json_tool.is_some();
    tools.extend(plan.json_tool);
    let tool_choice = if tools.is_empty() {
        None
    } else if forced_json {
        Some(choice("tool", Some(JSON_TOOL_NAME.to_owned()), None))
    } else {
        tool_choice_to_wire(req.tool_choice.as_ref(), req.parallel_tool_calls)
    };

    let s = &req.sampling;
    let stop: Vec<String> = s
        .stop
        .iter()
        .filter(|s| !s.trim().is_empty())
        .cloned()
        .collect();
    MessagesRequest {
        model: req.model.clone(),
        messages,
        system,
        max_tokens: Some(plan.max_tokens),
        metadata: req.user.clone().map(|user_id| Metadata {
            user_id: Some(user_id),
            extra: Map::new(),
        }),
        stop_sequences: (!stop.is_empty()).then_some(stop),
        stream: req.stream.then_some(true),
        temperature: s.temperature.filter(|_| !plan.thinking_on),
        top_p: s.top_p.filter(|p| !plan.thinking_on || *p >= 0.95),
        top_k: s.top_k.filter(|_| !plan.thinking_on),
        tools: (!tools.is_empty()).then_some(tools),
        tool_choice,
        thinking: plan.thinking,
        output_config: plan.output_config,
        extra: Map::new(),
    }
}

fn choice(kind: &str, name: Option<String>, disable_parallel: Option<bool>) -> AnthropicToolChoice {
    AnthropicToolChoice {
        kind: kind.to_owned(),
        name,
        disable_parallel_tool_use: disable_parallel,
        extra: Map::new(),
    }
}

fn tool_choice_to_wire(
    choice_in: Option<&ToolChoice>,
    parallel: Option<bool>,
) -> Option<AnthropicToolChoice> {
    let disable = (parallel == Some(false)).then_some(true);
    Some(match choice_in {
        None if disable.is_some() => choice("auto", None, disable),
        None => return None,
        Some(ToolChoice::Auto) => choice("auto", None, disable),
        Some(ToolChoice::None) => choice("none", None, None),
        Some(ToolChoice::Required) => choice("any", None, disable),
        Some(ToolChoice::Named(name)) => choice("tool", Some(name.clone()), disable),
    })
}
