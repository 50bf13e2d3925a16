//! Canonical request → Responses request.

use serde_json::{Map, json};

use super::content::{output_from_parts, part_to_input, part_to_output};
use super::options::ResponsesRequestOptions;
use super::reasoning::item_for_upstream;
use crate::ir::{Message, Part, Request, ResponseFormat, Role, ToolChoice};
use crate::responses::{
    ContentPart, FunctionCallItem, FunctionCallOutputItem, FunctionTool, Input, Item,
    MessageContent, MessageItem, NamedToolChoice, ReasoningConfig, ResponsesRequest, ResponsesTool,
    ResponsesToolChoice, TextConfig, TextFormat,
};

/// The smallest `max_output_tokens` the Responses API accepts.
pub const MIN_MAX_OUTPUT_TOKENS: u32 = 16;

/// Encodes a canonical request as a Responses request.
///
/// - System parts become `instructions` (joined with a blank line).
/// - User turns: tool results become `function_call_output` items (a
///   string when the result is text, else input parts), then the turn's
///   other parts form one `user` message.
/// - Assistant turns keep their order: thinking becomes reasoning items
///   (only OpenAI encrypted reasoning, see [`super::reasoning`]), text and
///   refusals an `assistant` message of `output_text`/`refusal` parts,
///   tool calls `function_call` items (empty arguments become `{}`). No
///   item ids are sent, so nothing refers to upstream-stored state.
/// - Function tools are written with `strict: false` unless the client
///   asked for strict (the Responses API defaults to strict, which rejects
///   most Chat-style schemas), and an empty object schema when none.
/// - `max_output_tokens` is raised to [`MIN_MAX_OUTPUT_TOKENS`] if lower;
///   reasoning is sent as `reasoning.effort` only when enabled, with a
///   summary per [`ResponsesRequestOptions::reasoning_summaries`], and
///   then without `temperature`/`top_p` (reasoning models reject them);
///   `store` and `include` follow [`ResponsesRequestOptions`].
/// - Dropped (no Responses equivalent): stop sequences, `top_k`, seed,
///   frequency and presence penalties, cache-control hints, tool-call
///   signatures, tool-result error flags.
pub fn request_from_ir(req: &Request, opts: &ResponsesRequestOptions) -> ResponsesRequest {
    let mut input = Vec::new();
    for msg in &req.messages {
        match msg.role {
            Role::User => encode_user(msg, &mut input),
            Role::Assistant => encode_assistant(msg, &mut input),
        }
    }
    let instructions = (!req.system.is_empty()).then(|| {
        req.system
            .iter()
            .map(|p| p.text.as_str())
            .collect::<Vec<_>>()
            .join("\n\n")
    });
    let has_tools = !req.tools.is_empty();
    let tools = has_tools.then(|| {
        req.tools
            .iter()
            .map(|t| {
                ResponsesTool::Function(FunctionTool {
                    name: t.name.clone(),
                    description: t.description.clone(),
                    parameters: Some(
                        t.parameters
                            .clone()
                            .filter(|p| p.is_object())
                            .unwrap_or_else(|| json!({"type": "object", "properties": {}})),
                    ),
                    strict: Some(t.strict.unwrap_or(false)),
                    extra: Map::new(),
                })
            })
            .collect()
    });
    let s = &req.sampling;
    // OpenAI reasoning models reject sampling parameters while reasoning.
    let reasoning = reasoning_from_ir(req, opts);
    let sampling = |v: Option<f64>| v.filter(|_| reasoning.is_none());
    ResponsesRequest {
        model: req.model.clone(),
        input: Some(Input::Items(input)),
        instructions,
        tools,
        tool_choice: req
            .tool_choice
            .as_ref()
            .filter(|_| has_tools)
            .map(tool_choice_from_ir),
        parallel_tool_calls: req.parallel_tool_calls.filter(|_| has_tools),
        max_output_tokens: s.max_tokens.map(|m| m.max(MIN_MAX_OUTPUT_TOKENS)),
        temperature: sampling(s.temperature),
        top_p: sampling(s.top_p),
        text: req.response_format.as_ref().map(|f| TextConfig {
            format: Some(format_from_ir(f)),
            extra: Map::new(),
        }),
        reasoning,
        store: opts.store,
        previous_response_id: None,
        stream: req.stream.then_some(true),
        metadata: (!req.metadata.is_empty()).then(|| req.metadata.clone()),
        user: req.user.clone(),
        include: opts
            .include_encrypted_reasoning
            .then(|| vec!["reasoning.encrypted_content".to_owned()]),
        extra: Map::new(),
    }
}

fn message(role: &str, parts: Vec<ContentPart>) -> Item {
    Item::Message(MessageItem {
        role: role.to_owned(),
        content: MessageContent::Parts(parts),
        ..MessageItem::default()
    })
}

fn encode_user(msg: &Message, out: &mut Vec<Item>) {
    let mut rest = Vec::new();
    for part in &msg.content {
        match part {
            Part::ToolResult(result) => {
                out.push(Item::FunctionCallOutput(FunctionCallOutputItem {
                    call_id: result.call_id.clone(),
                    output: output_from_parts(&result.content),
                    ..FunctionCallOutputItem::default()
                }));
            }
            other => rest.extend(part_to_input(other)),
        }
    }
    if !rest.is_empty() {
        out.push(message("user", rest));
    }
}

fn encode_assistant(msg: &Message, out: &mut Vec<Item>) {
    let mut text: Vec<ContentPart> = Vec::new();
    for part in &msg.content {
        match part {
            Part::Text { text: t, .. } if t.is_empty() => {}
            Part::Text { .. } | Part::Refusal(_) => text.extend(part_to_output(part)),
            Part::ToolCall(call) => {
                flush(&mut text, out);
                let arguments = if call.arguments.trim().is_empty() {
                    "{}".to_owned()
                } else {
                    call.arguments.clone()
                };
                out.push(Item::FunctionCall(FunctionCallItem {
                    call_id: call.id.clone(),
                    name: call.name.clone(),
                    arguments,
                    ..FunctionCallItem::default()
                }));
            }
            Part::Thinking { .. } => {
                if let Some(item) = item_for_upstream(part) {
                    flush(&mut text, out);
                    out.push(Item::Reasoning(item));
                }
            }
            _ => {}
        }
    }
    flush(&mut text, out);
}

fn flush(text: &mut Vec<ContentPart>, out: &mut Vec<Item>) {
    if !text.is_empty() {
        out.push(message("assistant", std::mem::take(text)));
    }
}

fn tool_choice_from_ir(choice: &ToolChoice) -> ResponsesToolChoice {
    match choice {
        ToolChoice::Auto => ResponsesToolChoice::Mode("auto".to_owned()),
        ToolChoice::None => ResponsesToolChoice::Mode("none".to_owned()),
        ToolChoice::Required => ResponsesToolChoice::Mode("required".to_owned()),
        ToolChoice::Named(name) => ResponsesToolChoice::Object(NamedToolChoice {
            kind: "function".to_owned(),
            name: Some(name.clone()),
            extra: Map::new(),
        }),
    }
}

fn format_from_ir(format: &ResponseFormat) -> TextFormat {
    match format {
        ResponseFormat::Text => TextFormat {
            kind: "text".to_owned(),
            ..TextFormat::default()
        },
        ResponseFormat::JsonObject => TextFormat {
            kind: "json_object".to_owned(),
            ..TextFormat::default()
        },
        ResponseFormat::JsonSchema {
            name,
            description,
            schema,
            strict,
        } => TextFormat {
            kind: "json_schema".to_owned(),
            name: Some(if name.is_empty() {
                "response".to_owned()
            } else {
                name.clone()
            }),
            description: description.clone(),
            schema: Some(schema.clone()),
            strict: *strict,
            extra: Map::new(),
        },
    }
}

fn reasoning_from_ir(req: &Request, opts: &ResponsesRequestOptions) -> Option<ReasoningConfig> {
    let reasoning = req.reasoning.as_ref().filter(|r| r.enabled())?;
    let summary = reasoning.summary.clone().or_else(|| {
        (opts.reasoning_summaries && reasoning.include_thoughts == Some(true))
            .then(|| "auto".to_owned())
    });
    Some(ReasoningConfig {
        effort: Some(reasoning.effective_effort().as_str().to_owned()),
        summary,
        extra: Map::new(),
    })
}
