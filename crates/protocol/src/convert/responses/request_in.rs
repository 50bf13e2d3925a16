//! Responses request → canonical request.

use std::collections::HashMap;

use serde_json::json;

use super::content::{parts_from_content, parts_from_output};
use super::reasoning::{self, Decoded};
use crate::convert::ConvertError;
use crate::ir::{
    Effort, Message, Part, Reasoning, Request, ResponseFormat, Role, Sampling, SystemPart, Tool,
    ToolCall, ToolChoice, ToolResult,
};
use crate::responses::{
    Input, Item, ReasoningConfig, ResponsesRequest, ResponsesTool, ResponsesToolChoice, TextFormat,
};

/// Decodes a Responses request.
///
/// - `instructions` and `system`/`developer` message items become
///   [`Request::system`], in order.
/// - The items of one assistant turn (reasoning, assistant messages,
///   function calls, up to the next user-side item) form one assistant
///   message, so parallel calls stay together; consecutive
///   `function_call_output` items form one user message of tool results,
///   named after the matching call.
/// - Reasoning items decode per [`super::reasoning`] (thinking with
///   `encrypted_content` as its signature; Switchyard's prefixed redacted
///   thinking and tool-call signatures are restored). OpenAI's own
///   encrypted reasoning is dropped (its text kept): this request goes to
///   a non-Responses upstream, which cannot decrypt it and would reject it
///   as a foreign signature.
/// - Built-in tools and their items (`web_search_call`, …) are dropped: no
///   other dialect can run them. `strict` stays as given (`None` when the
///   client relied on the Responses default).
/// - `reasoning.summary` implies the client wants reasoning text
///   ([`Reasoning::include_thoughts`]). Responses clients always get usage.
///
/// # Errors
/// [`ConvertError::Unsupported`] for state kept upstream that another
/// dialect cannot see (`previous_response_id`, `conversation`,
/// `item_reference`); [`ConvertError::Invalid`] for an unknown role.
pub fn request_to_ir(req: ResponsesRequest) -> Result<Request, ConvertError> {
    if req.previous_response_id.is_some() || req.extra.contains_key("conversation") {
        return Err(ConvertError::Unsupported(
            "previous_response_id and conversation need a Responses upstream".to_owned(),
        ));
    }
    let mut system: Vec<SystemPart> = req
        .instructions
        .filter(|i| !i.is_empty())
        .map(SystemPart::new)
        .into_iter()
        .collect();
    let mut turns = Turns::default();
    match req.input {
        None => {}
        Some(Input::Text(text)) => turns.push_user(vec![Part::text(text)]),
        Some(Input::Items(items)) => {
            for item in items {
                turns.item(item, &mut system)?;
            }
        }
    }
    let messages = turns.finish();
    let tools = req
        .tools
        .unwrap_or_default()
        .into_iter()
        .filter_map(|t| match t {
            ResponsesTool::Function(f) => Some(Tool {
                name: f.name,
                description: f.description,
                parameters: f.parameters,
                strict: f.strict,
                cache_control: None,
            }),
            ResponsesTool::Other(_) => None,
        })
        .collect();
    Ok(Request {
        model: req.model,
        system,
        messages,
        tools,
        tool_choice: req.tool_choice.map(tool_choice_to_ir),
        parallel_tool_calls: req.parallel_tool_calls,
        sampling: Sampling {
            max_tokens: req.max_output_tokens,
            temperature: req.temperature,
            top_p: req.top_p,
            ..Sampling::default()
        },
        response_format: req.text.and_then(|t| t.format).and_then(format_to_ir),
        reasoning: req.reasoning.and_then(reasoning_to_ir),
        user: req.user,
        metadata: req.metadata.unwrap_or_default(),
        stream: req.stream.unwrap_or(false),
        include_usage: true,
    })
}

/// Which trailing message the next item may join.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
enum Open {
    #[default]
    None,
    Assistant,
    ToolResults,
}

#[derive(Debug, Default)]
struct Turns {
    messages: Vec<Message>,
    open: Open,
    names: HashMap<String, String>,
    tool_signatures: HashMap<String, String>,
    synthetic_ids: usize,
}

impl Turns {
    fn push_user(&mut self, content: Vec<Part>) {
        self.messages.push(Message::new(Role::User, content));
        self.open = Open::None;
    }

    /// Appends to the open message of `kind`, or starts one with `role`.
    fn append(&mut self, kind: Open, role: Role, part: Part) {
        if self.open == kind
            && let Some(last) = self.messages.last_mut()
        {
            last.content.push(part);
            return;
        }
        self.messages.push(Message::new(role, vec![part]));
        self.open = kind;
    }

    fn item(&mut self, item: Item, system: &mut Vec<SystemPart>) -> Result<(), ConvertError> {
        match item {
            Item::Message(msg) => match msg.role.as_str() {
                "system" | "developer" => {
                    for part in parts_from_content(msg.content) {
                        if let Part::Text { text, .. } = part {
                            system.push(SystemPart::new(text));
                        }
                    }
                    self.open = Open::None;
                }
                "user" => self.push_user(parts_from_content(msg.content)),
                "assistant" => {
                    let parts = parts_from_content(msg.content);
                    if self.open != Open::Assistant {
                        self.messages
                            .push(Message::new(Role::Assistant, Vec::new()));
                        self.open = Open::Assistant;
                    }
                    if let Some(last) = self.messages.last_mut() {
                        last.content.extend(parts);
                    }
                }
                other => {
                    return Err(ConvertError::Invalid(format!(
                        "unknown message role `{other}`"
                    )));
                }
            },
            Item::FunctionCall(call) => {
                let id = if !call.call_id.is_empty() {
                    call.call_id
                } else if let Some(id) = call.id.filter(|i| !i.is_empty()) {
                    id
                } else {
                    self.synthetic_ids += 1;
                    format!("call_{}", self.synthetic_ids)
                };
                self.names.insert(id.clone(), call.name.clone());
                let part = Part::ToolCall(ToolCall {
                    id,
                    name: call.name,
                    arguments: call.arguments,
                    signature: None,
                    cache_control: None,
                });
                self.append(Open::Assistant, Role::Assistant, part);
            }
            Item::FunctionCallOutput(output) => {
                let part = Part::ToolResult(ToolResult {
                    name: self.names.get(&output.call_id).cloned(),
                    call_id: output.call_id,
                    content: parts_from_output(output.output),
                    is_error: false,
                    cache_control: None,
                });
                self.append(Open::ToolResults, Role::User, part);
            }
            Item::Reasoning(item) => match reasoning::decode(&item) {
                // OpenAI's own encrypted reasoning is of no use to the
                // (non-Responses) upstream this request goes to, and would
                // be rejected as a foreign signature: keep the text only.
                Decoded::Part(Part::Thinking {
                    text,
                    signature: Some(signature),
                }) if reasoning::is_openai_encrypted(&signature) => {
                    if !text.is_empty() {
                        let part = Part::Thinking {
                            text,
                            signature: None,
                        };
                        self.append(Open::Assistant, Role::Assistant, part);
                    }
                }
                Decoded::Part(part) => self.append(Open::Assistant, Role::Assistant, part),
                Decoded::ToolSignature { call_id, signature } => {
                    self.tool_signatures.insert(call_id, signature);
                }
                Decoded::Nothing => {}
            },
            Item::ItemReference(reference) => {
                return Err(ConvertError::Unsupported(format!(
                    "item_reference `{}` needs a Responses upstream",
                    reference.id
                )));
            }
            Item::Other(_) => {}
        }
        Ok(())
    }

    /// The messages, with carried tool-call signatures restored.
    fn finish(mut self) -> Vec<Message> {
        if !self.tool_signatures.is_empty() {
            for msg in &mut self.messages {
                for part in &mut msg.content {
                    if let Part::ToolCall(call) = part
                        && let Some(sig) = self.tool_signatures.remove(&call.id)
                    {
                        call.signature = Some(sig);
                    }
                }
            }
        }
        self.messages
    }
}

fn tool_choice_to_ir(choice: ResponsesToolChoice) -> ToolChoice {
    let mode = |m: &str| match m {
        "none" => ToolChoice::None,
        "required" => ToolChoice::Required,
        _ => ToolChoice::Auto,
    };
    match choice {
        ResponsesToolChoice::Mode(m) => mode(&m),
        ResponsesToolChoice::Object(o) => match (o.kind.as_str(), o.name) {
            ("function", Some(name)) => ToolChoice::Named(name),
            ("allowed_tools", _) => {
                mode(o.extra.get("mode").and_then(|m| m.as_str()).unwrap_or(""))
            }
            _ => ToolChoice::Auto,
        },
    }
}

fn format_to_ir(format: TextFormat) -> Option<ResponseFormat> {
    match format.kind.as_str() {
        "text" => Some(ResponseFormat::Text),
        "json_object" => Some(ResponseFormat::JsonObject),
        "json_schema" => Some(ResponseFormat::JsonSchema {
            name: format.name.unwrap_or_default(),
            description: format.description,
            schema: format.schema.unwrap_or_else(|| json!({"type": "object"})),
            strict: format.strict,
        }),
        _ => None,
    }
}

fn reasoning_to_ir(config: ReasoningConfig) -> Option<Reasoning> {
    let effort = config.effort.as_deref().and_then(Effort::parse);
    if effort.is_none() && config.summary.is_none() {
        return None;
    }
    Some(Reasoning {
        effort,
        budget_tokens: None,
        include_thoughts: config.summary.as_ref().map(|_| true),
        summary: config.summary,
    })
}
