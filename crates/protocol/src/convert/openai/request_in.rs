//! OpenAI Chat request → canonical request.

use std::collections::HashMap;

use super::content::{parts_from_content, thinking_from_message, tool_call_from_chat};
use crate::convert::ConvertError;
use crate::ir::{
    Effort, Message, Part, Reasoning, Request, ResponseFormat, Role, Sampling, SystemPart, Tool,
    ToolChoice, ToolResult,
};
use crate::openai::{ChatMessage, ChatRequest, ChatResponseFormat, ChatToolChoice};

/// Decodes a Chat Completions request.
///
/// System and developer messages are hoisted into [`Request::system`];
/// `tool` (and legacy `function`) messages become [`Part::ToolResult`]s in
/// user messages, named after the matching earlier call; assistant
/// reasoning is read from `thinking_blocks`, else `reasoning_content` (or
/// `reasoning`) plus `reasoning_signature`.
///
/// # Errors
/// [`ConvertError::Unsupported`] for `n > 1`; [`ConvertError::Invalid`] for
/// an unknown role.
pub fn request_to_ir(req: ChatRequest) -> Result<Request, ConvertError> {
    if req.n.is_some_and(|n| n > 1) {
        return Err(ConvertError::Unsupported(
            "n > 1 (several choices) cannot be converted".to_owned(),
        ));
    }
    let mut system = Vec::new();
    let mut messages = Vec::new();
    let mut call_names: HashMap<String, String> = HashMap::new();
    let mut synthetic_ids = 0_usize;
    for msg in req.messages {
        decode_message(
            msg,
            &mut system,
            &mut messages,
            &mut call_names,
            &mut synthetic_ids,
        )?;
    }
    let tools = req
        .tools
        .unwrap_or_default()
        .into_iter()
        .filter(|t| t.kind == "function")
        .filter_map(|t| t.function)
        .map(|f| Tool {
            name: f.name,
            description: f.description,
            parameters: f.parameters,
            strict: f.strict,
            cache_control: None,
        })
        .collect();
    let stream = req.stream.unwrap_or(false);
    Ok(Request {
        model: req.model,
        system,
        messages,
        tools,
        tool_choice: req.tool_choice.map(tool_choice_from_chat),
        parallel_tool_calls: req.parallel_tool_calls,
        sampling: Sampling {
            max_tokens: req.max_completion_tokens.or(req.max_tokens),
            temperature: req.temperature,
            top_p: req.top_p,
            top_k: req.top_k,
            stop: req.stop.map(|s| s.into_vec()).unwrap_or_default(),
            seed: req.seed,
            frequency_penalty: req.frequency_penalty,
            presence_penalty: req.presence_penalty,
        },
        response_format: req.response_format.and_then(response_format_from_chat),
        reasoning: req
            .reasoning_effort
            .as_deref()
            .and_then(Effort::parse)
            .map(|effort| Reasoning {
                effort: Some(effort),
                ..Reasoning::default()
            }),
        user: req.user,
        metadata: req.metadata.unwrap_or_default(),
        stream,
        include_usage: stream
            && req
                .stream_options
                .and_then(|o| o.include_usage)
                .unwrap_or(false),
    })
}

fn decode_message(
    mut msg: ChatMessage,
    system: &mut Vec<SystemPart>,
    messages: &mut Vec<Message>,
    call_names: &mut HashMap<String, String>,
    synthetic_ids: &mut usize,
) -> Result<(), ConvertError> {
    match msg.role.as_str() {
        "system" | "developer" => {
            for part in parts_from_content(msg.content) {
                if let Part::Text {
                    text,
                    cache_control,
                } = part
                {
                    system.push(SystemPart {
                        text,
                        cache_control,
                    });
                }
            }
        }
        "user" => messages.push(Message {
            role: Role::User,
            content: parts_from_content(msg.content),
            name: msg.name,
        }),
        "assistant" => {
            let mut content = thinking_from_message(&mut msg);
            content.extend(parts_from_content(msg.content.take()));
            if let Some(refusal) = msg.refusal.take().filter(|r| !r.is_empty()) {
                content.push(Part::Refusal(refusal));
            }
            for call in msg.tool_calls.take().unwrap_or_default() {
                let mut call = tool_call_from_chat(call);
                if call.id.is_empty() {
                    *synthetic_ids += 1;
                    call.id = format!("call_{synthetic_ids}");
                }
                call_names.insert(call.id.clone(), call.name.clone());
                content.push(Part::ToolCall(call));
            }
            messages.push(Message {
                role: Role::Assistant,
                content,
                name: msg.name,
            });
        }
        "tool" | "function" => {
            let call_id = msg
                .tool_call_id
                .or_else(|| msg.name.clone())
                .unwrap_or_default();
            let name = call_names.get(&call_id).cloned().or(msg.name);
            let result = ToolResult {
                call_id,
                name,
                content: parts_from_content(msg.content),
                is_error: false,
                cache_control: None,
            };
            messages.push(Message::new(Role::User, vec![Part::ToolResult(result)]));
        }
        other => {
            return Err(ConvertError::Invalid(format!(
                "unknown message role `{other}`"
            )));
        }
    }
    Ok(())
}

fn tool_choice_from_chat(choice: ChatToolChoice) -> ToolChoice {
    match choice {
        ChatToolChoice::Mode(mode) => match mode.as_str() {
            "none" => ToolChoice::None,
            "required" | "any" => ToolChoice::Required,
            _ => ToolChoice::Auto,
        },
        ChatToolChoice::Named(named) => match named.function {
            Some(f) => ToolChoice::Named(f.name),
            None => ToolChoice::Auto,
        },
    }
}

fn response_format_from_chat(format: ChatResponseFormat) -> Option<ResponseFormat> {
    match format.kind.as_str() {
        "json_object" => Some(ResponseFormat::JsonObject),
        "json_schema" => {
            let spec = format.json_schema.unwrap_or_default();
            Some(ResponseFormat::JsonSchema {
                name: spec.name,
                description: spec.description,
                schema: spec
                    .schema
                    .unwrap_or_else(|| serde_json::json!({"type": "object"})),
                strict: spec.strict,
            })
        }
        "text" => Some(ResponseFormat::Text),
        _ => None,
    }
}
