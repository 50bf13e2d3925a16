//! Gemini `generateContent` request → canonical request.

use serde_json::Map;

use super::content_in::{CallTracker, parts_to_ir};
use super::schema::schema_from_gemini;
use super::thinking::reasoning_from_wire;
use crate::convert::ConvertError;
use crate::gemini::{FunctionCallingConfig, GenerateContentRequest, GenerationConfig};
use crate::ir::{
    Message, Part, Request, ResponseFormat, Role, Sampling, SystemPart, Tool, ToolChoice,
};

/// Decodes a `generateContent` request.
///
/// The body names neither the model nor whether to stream (both are in
/// the URL): [`Request::model`] is the body's `model` without its
/// `models/` prefix, or empty, and [`Request::stream`] is false; the
/// caller sets both. Gemini clients always get usage, so `include_usage`
/// is set.
///
/// - `systemInstruction` text parts become [`Request::system`]; roles
///   `user` (or none, or the legacy `function`) and `model` become user
///   and assistant turns (parts per [`content_in`](super::content_in)).
/// - Only function declarations are kept (`parameters`, else
///   `parametersJsonSchema`, with Gemini's upper-case type names
///   lowered); built-in tools (`googleSearch`, `codeExecution`,
///   `urlContext`, …) are dropped: no other dialect runs them.
/// - `functionCallingConfig`: `AUTO`/`VALIDATED` → auto, `NONE` → none,
///   `ANY` with exactly one allowed name → that tool, other `ANY` →
///   required (a longer allow-list cannot be expressed and is dropped).
/// - `responseMimeType: application/json` with `responseSchema` or
///   `responseJsonSchema` → JSON schema output (unnamed), without → JSON
///   object output.
/// - `thinkingConfig` per [`reasoning_from_wire`]; `safetySettings` and
///   `cachedContent` are dropped.
///
/// # Errors
/// [`ConvertError::Unsupported`] for `candidateCount > 1`;
/// [`ConvertError::Invalid`] for a role other than `user`/`model`.
pub fn request_to_ir(req: GenerateContentRequest) -> Result<Request, ConvertError> {
    let config = req.generation_config.unwrap_or_default();
    if config.candidate_count.is_some_and(|n| n > 1) {
        return Err(ConvertError::Unsupported(
            "candidateCount > 1 (several candidates) cannot be converted".to_owned(),
        ));
    }
    let system = req
        .system_instruction
        .into_iter()
        .flat_map(|c| c.parts)
        .filter_map(|p| p.text.filter(|t| !t.is_empty() && p.thought != Some(true)))
        .map(SystemPart::new)
        .collect();
    let mut calls = CallTracker::new("call_".to_owned());
    let mut messages = Vec::with_capacity(req.contents.len());
    for content in req.contents {
        let role = match content.role.as_deref().unwrap_or("user") {
            "user" | "" | "function" | "tool" => Role::User,
            "model" | "assistant" => Role::Assistant,
            other => {
                return Err(ConvertError::Invalid(format!(
                    "unknown content role `{other}`"
                )));
            }
        };
        let mut parts = parts_to_ir(content.parts, &mut calls);
        if role == Role::Assistant {
            // Gemini never puts function responses in model turns.
            parts.retain(|p| !matches!(p, Part::ToolResult(_)));
        }
        messages.push(Message::new(role, parts));
    }
    let tools: Vec<Tool> = req
        .tools
        .unwrap_or_default()
        .into_iter()
        .flat_map(|t| t.function_declarations.unwrap_or_default())
        .map(|f| Tool {
            name: f.name,
            description: f.description,
            parameters: f
                .parameters
                .or(f.parameters_json_schema)
                .map(schema_from_gemini),
            strict: None,
            cache_control: None,
        })
        .collect();
    let tool_choice = req
        .tool_config
        .and_then(|c| c.function_calling_config)
        .and_then(tool_choice_from_wire);
    Ok(Request {
        model: req
            .model
            .map(|m| m.strip_prefix("models/").unwrap_or(&m).to_owned())
            .unwrap_or_default(),
        system,
        messages,
        tools,
        tool_choice,
        parallel_tool_calls: None,
        response_format: response_format_from_wire(&config),
        reasoning: reasoning_from_wire(config.thinking_config.as_ref()),
        sampling: Sampling {
            max_tokens: config.max_output_tokens,
            temperature: config.temperature,
            top_p: config.top_p,
            top_k: config.top_k,
            stop: config.stop_sequences.unwrap_or_default(),
            seed: config.seed,
            frequency_penalty: config.frequency_penalty,
            presence_penalty: config.presence_penalty,
        },
        user: None,
        metadata: Map::new(),
        stream: false,
        include_usage: true,
    })
}

fn tool_choice_from_wire(config: FunctionCallingConfig) -> Option<ToolChoice> {
    let mode = config.mode?.to_ascii_uppercase();
    Some(match mode.as_str() {
        "NONE" => ToolChoice::None,
        "ANY" => match config.allowed_function_names.as_deref() {
            Some([only]) => ToolChoice::Named(only.clone()),
            _ => ToolChoice::Required,
        },
        _ => ToolChoice::Auto,
    })
}

fn response_format_from_wire(config: &GenerationConfig) -> Option<ResponseFormat> {
    let mime = config.response_mime_type.as_deref()?;
    if !mime.eq_ignore_ascii_case("application/json") {
        return None;
    }
    let schema = config
        .response_schema
        .clone()
        .or_else(|| config.response_json_schema.clone());
    Some(match schema {
        Some(schema) => ResponseFormat::JsonSchema {
            name: String::new(),
            description: None,
            schema: schema_from_gemini(schema),
            strict: None,
        },
        None => ResponseFormat::JsonObject,
    })
}
