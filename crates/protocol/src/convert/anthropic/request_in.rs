//! Anthropic Messages request → canonical request.

use std::collections::HashMap;

use serde_json::Map;

use super::content::{block_to_part, cache_from_wire};
use crate::anthropic::{
    AnthropicToolChoice, ContentBlock, MessageContent, MessagesRequest, SystemPrompt,
    ThinkingConfig,
};
use crate::convert::ConvertError;
use crate::ir::{
    Effort, Message, Part, Reasoning, Request, Role, Sampling, SystemPart, Tool, ToolChoice,
};

/// Decodes a Messages request.
///
/// Server and client tools with a versioned `type` (web search, bash,
/// text editor, …) and blocks only Anthropic understands (server tool
/// results, search results, container uploads) are dropped: no other
/// dialect can run them. `thinking` becomes [`Reasoning`]: `enabled` keeps
/// its budget, `adaptive` uses `output_config.effort` (`max` → xhigh,
/// default medium), `disabled` is effort none. `metadata.user_id` becomes
/// the user. Anthropic clients always get usage, so `include_usage` is set.
///
/// # Errors
/// [`ConvertError::Invalid`] for a role other than `user`/`assistant`.
pub fn request_to_ir(req: MessagesRequest) -> Result<Request, ConvertError> {
    let system = match req.system {
        None => Vec::new(),
        Some(SystemPrompt::Text(text)) if text.is_empty() => Vec::new(),
        Some(SystemPrompt::Text(text)) => vec![SystemPart::new(text)],
        Some(SystemPrompt::Blocks(blocks)) => blocks
            .into_iter()
            .filter_map(|b| match b {
                ContentBlock::Text(b) => Some(SystemPart {
                    text: b.text,
                    cache_control: cache_from_wire(b.cache_control),
                }),
                _ => None,
            })
            .collect(),
    };
    let mut names = HashMap::new();
    let mut messages = Vec::with_capacity(req.messages.len());
    for msg in req.messages {
        let role = match msg.role.as_str() {
            "user" => Role::User,
            "assistant" => Role::Assistant,
            other => {
                return Err(ConvertError::Invalid(format!(
                    "unknown message role `{other}`"
                )));
            }
        };
        let content = match msg.content {
            MessageContent::Text(text) if text.is_empty() => Vec::new(),
            MessageContent::Text(text) => vec![Part::text(text)],
            MessageContent::Blocks(blocks) => blocks
                .into_iter()
                .filter_map(|b| block_to_part(b, &mut names))
                .collect(),
        };
        messages.push(Message::new(role, content));
    }
    let tools = req
        .tools
        .unwrap_or_default()
        .into_iter()
        .filter(|t| t.is_custom())
        .map(|t| Tool {
            strict: t.extra.get("strict").and_then(serde_json::Value::as_bool),
            name: t.name,
            description: t.description,
            parameters: t.input_schema,
            cache_control: cache_from_wire(t.cache_control),
        })
        .collect();
    let (tool_choice, parallel_tool_calls) = match req.tool_choice {
        Some(choice) => tool_choice_from_wire(choice),
        None => (None, None),
    };
    let effort = req
        .output_config
        .as_ref()
        .and_then(|o| o.effort.as_deref())
        .and_then(Effort::parse);
    Ok(Request {
        model: req.model,
        system,
        messages,
        tools,
        tool_choice,
        parallel_tool_calls,
        sampling: Sampling {
            max_tokens: req.max_tokens,
            temperature: req.temperature,
            top_p: req.top_p,
            top_k: req.top_k,
            stop: req.stop_sequences.unwrap_or_default(),
            ..Sampling::default()
        },
        response_format: None,
        reasoning: reasoning_from_wire(req.thinking, effort),
        user: req.metadata.and_then(|m| m.user_id),
        metadata: Map::new(),
        stream: req.stream.unwrap_or(false),
        include_usage: true,
    })
}

fn tool_choice_from_wire(choice: AnthropicToolChoice) -> (Option<ToolChoice>, Option<bool>) {
    let parallel = choice.disable_parallel_tool_use.map(|d| !d);
    let choice = match choice.kind.as_str() {
        "any" => ToolChoice::Required,
        "none" => ToolChoice::None,
        "tool" => match choice.name {
            Some(name) => ToolChoice::Named(name),
            None => ToolChoice::Required,
        },
        _ => ToolChoice::Auto,
    };
    (Some(choice), parallel)
}

fn reasoning_from_wire(
    thinking: Option<ThinkingConfig>,
    effort: Option<Effort>,
) -> Option<Reasoning> {
    let Some(thinking) = thinking else {
        return effort.map(|effort| Reasoning {
            effort: Some(effort),
            ..Reasoning::default()
        });
    };
    Some(match thinking.kind.as_str() {
        "disabled" => Reasoning {
            effort: Some(Effort::None),
            ..Reasoning::default()
        },
        "adaptive" => Reasoning {
            effort: Some(effort.unwrap_or(Effort::Medium)),
            include_thoughts: Some(true),
            ..Reasoning::default()
        },
        _ => Reasoning {
            effort,
            budget_tokens: thinking.budget_tokens,
            include_thoughts: Some(true),
            summary: None,
        },
    })
}
