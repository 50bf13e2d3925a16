//! The decisions a request conversion to Anthropic makes before writing
//! the body: thinking on or off (and with what budget), `max_tokens`, and
//! how to get JSON output.
//!
//! - **Thinking** is on when the canonical reasoning is enabled, except
//!   when the tool choice forces a tool (Anthropic rejects forced tool use
//!   with thinking) or when the conversation is inside a tool loop whose
//!   last assistant turn does not start with a *signed* thinking block
//!   (Anthropic rejects that too; it happens when the history came from a
//!   non-Anthropic model or a client that dropped the signature). In both
//!   cases the request is sent without thinking rather than failing.
//! - **Budget mode** (`thinking.type=enabled`): budget from
//!   [`Reasoning::effective_budget`](crate::ir::Reasoning::effective_budget),
//!   clamped per [`clamp_thinking`]. **Adaptive mode** (per
//!   [`AnthropicRequestOptions::adaptive_thinking`]): `output_config.effort`
//!   = `max` for xhigh, `high`, `medium`, else `low`.
//! - **JSON output**: Anthropic has no `response_format`. With no client
//!   tools, no thinking and an object-rooted schema, the schema becomes the
//!   input schema of a forced tool named [`JSON_TOOL_NAME`], whose input the
//!   response converters turn back into the text answer (reliable: the
//!   model must produce schema-shaped input). Otherwise a system
//!   instruction asks for JSON only and quotes the schema (best effort).

use serde_json::{Value, json};

use super::defaults::{JSON_TOOL_NAME, OutputLimits, clamp_thinking, output_limits};
use crate::anthropic::{AnthropicTool, OutputConfig, ThinkingConfig};
use crate::convert::AnthropicRequestOptions;
use crate::ir::{Effort, Message, Part, Request, ResponseFormat, Role, ToolChoice};

/// The planned thinking, length and JSON settings.
#[derive(Debug, Default)]
pub(super) struct Plan {
    pub thinking: Option<ThinkingConfig>,
    pub output_config: Option<OutputConfig>,
    pub max_tokens: u32,
    pub json_tool: Option<AnthropicTool>,
    pub json_instruction: Option<String>,
    pub thinking_on: bool,
}

pub(super) fn plan(req: &Request, opts: &AnthropicRequestOptions) -> Plan {
    let mut limits = output_limits(&req.model);
    if let Some(default) = opts.default_max_tokens {
        limits = OutputLimits {
            default_max_tokens: default,
            ..limits
        };
    }
    let wants_thinking = req.reasoning.as_ref().is_some_and(|r| r.enabled());
    let forced_tool = matches!(
        req.tool_choice,
        Some(ToolChoice::Required | ToolChoice::Named(_))
    );
    let thinking_on = wants_thinking && !forced_tool && history_allows_thinking(&req.messages);
    let mut plan = Plan {
        max_tokens: req.sampling.max_tokens.unwrap_or(limits.default_max_tokens),
        thinking_on,
        ..Plan::default()
    };
    if let Some(reasoning) = req.reasoning.as_ref().filter(|_| thinking_on) {
        if opts.adaptive_thinking {
            let effort = match reasoning.effective_effort() {
                Effort::XHigh => "max",
                Effort::High => "high",
                Effort::Medium => "medium",
                Effort::Low | Effort::Minimal | Effort::None => "low",
            };
            plan.thinking = Some(thinking_config("adaptive", None));
            plan.output_config = Some(OutputConfig {
                effort: Some(effort.to_owned()),
                extra: serde_json::Map::new(),
            });
        } else {
            let (budget, max_tokens) = clamp_thinking(
                reasoning.effective_budget(),
                req.sampling.max_tokens,
                limits,
            );
            plan.thinking = Some(thinking_config("enabled", Some(budget)));
            plan.max_tokens = max_tokens;
        }
    }
    plan_json(req, wants_thinking, &mut plan);
    plan
}

fn thinking_config(kind: &str, budget_tokens: Option<u32>) -> ThinkingConfig {
    ThinkingConfig {
        kind: kind.to_owned(),
        budget_tokens,
        extra: serde_json::Map::new(),
    }
}

fn plan_json(req: &Request, wants_thinking: bool, plan: &mut Plan) {
    let (schema, name, description) = match &req.response_format {
        None | Some(ResponseFormat::Text) => return,
        Some(ResponseFormat::JsonObject) => (json!({"type": "object"}), "", None),
        Some(ResponseFormat::JsonSchema {
            name,
            description,
            schema,
            ..
        }) => (schema.clone(), name.as_str(), description.as_deref()),
    };
    let object_rooted = schema.get("type").and_then(Value::as_str) == Some("object")
        || schema.get("properties").is_some();
    if req.tools.is_empty() && !wants_thinking && object_rooted {
        let mut text =
            "Return your final answer by calling this tool; its input is the answer.".to_owned();
        if let Some(description) = description {
            text.push(' ');
            text.push_str(description);
        }
        plan.json_tool = Some(AnthropicTool {
            name: JSON_TOOL_NAME.to_owned(),
            description: Some(text),
            input_schema: Some(schema),
            ..AnthropicTool::default()
        });
        return;
    }
    plan.json_instruction = Some(match &req.response_format {
        Some(ResponseFormat::JsonSchema { .. }) => format!(
            "Respond with a single JSON value that conforms to the JSON Schema{} below, and \
             nothing else: no prose, no Markdown code fences.\n{schema}",
            if name.is_empty() {
                String::new()
            } else {
                format!(" `{name}`")
            }
        ),
        _ => "Respond with a single valid JSON object and nothing else: no prose, no Markdown \
              code fences."
            .to_owned(),
    });
}

/// Whether thinking can be enabled: false inside a tool loop (tool results
/// after the last assistant turn, which made tool calls) when that turn
/// does not start with signed or redacted thinking.
fn history_allows_thinking(messages: &[Message]) -> bool {
    let Some(last) = messages.iter().rposition(|m| m.role == Role::Assistant) else {
        return true;
    };
    let Some(turn) = messages.get(last) else {
        return true;
    };
    let calls_tools = turn.content.iter().any(|p| matches!(p, Part::ToolCall(_)));
    let answered = messages
        .get(last + 1..)
        .unwrap_or_default()
        .iter()
        .flat_map(|m| &m.content)
        .any(|p| matches!(p, Part::ToolResult(_)));
    if !(calls_tools && answered) {
        return true;
    }
    let first = turn.content.iter().find(|p| match p {
        Part::Text { text, .. } => !text.is_empty(),
        Part::Thinking { signature, .. } => signature.as_ref().is_some_and(|s| !s.is_empty()),
        Part::RedactedThinking { .. } | Part::ToolCall(_) => true,
        _ => false,
    });
    matches!(
        first,
        Some(Part::Thinking { .. } | Part::RedactedThinking { .. })
    )
}
