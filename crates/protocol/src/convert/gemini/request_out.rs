//! Canonical request → Gemini `generateContent` request.

use serde_json::Map;

use super::GeminiRequestOptions;
use super::content_out::PartEncoder;
use super::schema::{clean_schema, tool_parameters};
use super::thinking::{ThinkingFamily, thinking_config_from_ir, thinking_family};
use crate::gemini::{
    Content, FunctionCallingConfig, FunctionDeclaration, GenerateContentRequest, GenerationConfig,
    Part, SafetySetting, Tool, ToolConfig,
};
use crate::ir::{Request, ResponseFormat, Role, ToolChoice};

/// The signature Google documents for function calls the model did not
/// produce itself (history from another model, or a client that dropped
/// the signature): Gemini 3 rejects a step whose first call is unsigned.
pub const DUMMY_THOUGHT_SIGNATURE: &str = "skip_thought_signature_validator";

/// The harm categories `safetySettings` covers.
const HARM_CATEGORIES: [&str; 4] = [
    "HARM_CATEGORY_HARASSMENT",
    "HARM_CATEGORY_HATE_SPEECH",
    "HARM_CATEGORY_SEXUALLY_EXPLICIT",
    "HARM_CATEGORY_DANGEROUS_CONTENT",
];

/// Encodes a canonical request as a `generateContent` request for the
/// model [`Request::model`] (which selects the thinking rules). Neither the
/// model nor the stream flag is written: the gateway puts them in the URL.
///
/// - System parts become `systemInstruction` (one text part each).
/// - Turns become `user`/`model` contents, parts per
///   [`content_out`](super::content_out) (no call ids); consecutive turns
///   of one role are merged, with function responses first in user turns;
///   empty turns are skipped.
/// - In each model turn with function calls none of which is signed, the
///   first call gets [`DUMMY_THOUGHT_SIGNATURE`], so a tool loop whose
///   history lost Gemini's signature (an Anthropic client cannot carry it)
///   or came from another model still passes Gemini 3's validation.
///   Google checks the first call of each step (parallel calls after it
///   carry none), so only that one is signed; AI Proxy signs every
///   unsigned call.
/// - Tools become one `functionDeclarations` entry, schemas cleaned per
///   [`schema`](super::schema); `tool_choice` auto → `AUTO` (omitted for
///   Gemini 3 and later, as AI Proxy does), none → `NONE`, required →
///   `ANY`, named → `ANY` + `allowedFunctionNames`; `parallel_tool_calls`
///   has no Gemini equivalent and is dropped.
/// - JSON object output → `responseMimeType: application/json`; a JSON
///   schema adds the cleaned `responseSchema`.
/// - Reasoning → `thinkingConfig` per [`thinking`](super::thinking).
/// - `user` and `metadata` are dropped; `safetySettings` follow
///   [`GeminiRequestOptions::safety_threshold`].
pub fn request_from_ir(req: &Request, opts: &GeminiRequestOptions) -> GenerateContentRequest {
    let mut encoder = PartEncoder::new(opts, false);
    let mut contents: Vec<Content> = Vec::new();
    for msg in &req.messages {
        let role = match msg.role {
            Role::User => "user",
            Role::Assistant => "model",
        };
        let parts = encoder.encode(&msg.content);
        if parts.is_empty() {
            continue;
        }
        match contents.last_mut() {
            Some(last) if last.role.as_deref() == Some(role) => last.parts.extend(parts),
            _ => contents.push(Content {
                role: Some(role.to_owned()),
                parts,
                extra: Map::new(),
            }),
        }
    }
    for content in &mut contents {
        if content.role.as_deref() == Some("user") {
            content.parts.sort_by_key(|p| p.function_response.is_none());
        } else {
            sign_first_call(&mut content.parts);
        }
    }
    let system: Vec<Part> = req
        .system
        .iter()
        .filter(|p| !p.text.is_empty())
        .map(|p| Part::text(p.text.clone()))
        .collect();
    let declarations: Vec<FunctionDeclaration> = req
        .tools
        .iter()
        .map(|t| FunctionDeclaration {
            name: t.name.clone(),
            description: t.description.clone(),
            parameters: tool_parameters(t.parameters.as_ref()),
            parameters_json_schema: None,
            extra: Map::new(),
        })
        .collect();
    let has_tools = !declarations.is_empty();
    let level_model = matches!(thinking_family(&req.model), ThinkingFamily::Level { .. });
    let tool_config = req
        .tool_choice
        .as_ref()
        .filter(|_| has_tools)
        .filter(|c| !(level_model && **c == ToolChoice::Auto))
        .map(tool_config_to_wire);
    GenerateContentRequest {
        model: None,
        contents,
        system_instruction: (!system.is_empty()).then(|| Content {
            role: None,
            parts: system,
            extra: Map::new(),
        }),
        tools: has_tools.then(|| {
            vec![Tool {
                function_declarations: Some(declarations),
                ..Tool::default()
            }]
        }),
        tool_config,
        safety_settings: opts.safety_threshold.as_ref().map(|threshold| {
            HARM_CATEGORIES
                .iter()
                .map(|category| SafetySetting {
                    category: (*category).to_owned(),
                    threshold: threshold.clone(),
                    extra: Map::new(),
                })
                .collect()
        }),
        generation_config: generation_config(req, opts),
        cached_content: None,
        extra: Map::new(),
    }
}

/// Gives the first function call the dummy signature when no call of the
/// turn is signed.
fn sign_first_call(parts: &mut [Part]) {
    let mut calls = parts.iter_mut().filter(|p| p.function_call.is_some());
    let Some(first) = calls.next() else {
        return;
    };
    if first.thought_signature.is_some() || calls.any(|p| p.thought_signature.is_some()) {
        return;
    }
    first.thought_signature = Some(DUMMY_THOUGHT_SIGNATURE.to_owned());
}

fn tool_config_to_wire(choice: &ToolChoice) -> ToolConfig {
    let (mode, allowed) = match choice {
        ToolChoice::Auto => ("AUTO", None),
        ToolChoice::None => ("NONE", None),
        ToolChoice::Required => ("ANY", None),
        ToolChoice::Named(name) => ("ANY", Some(vec![name.clone()])),
    };
    ToolConfig {
        function_calling_config: Some(FunctionCallingConfig {
            mode: Some(mode.to_owned()),
            allowed_function_names: allowed,
            extra: Map::new(),
        }),
        extra: Map::new(),
    }
}

fn generation_config(req: &Request, opts: &GeminiRequestOptions) -> Option<GenerationConfig> {
    let s = &req.sampling;
    let (mime, schema) = match &req.response_format {
        None | Some(ResponseFormat::Text) => (None, None),
        Some(ResponseFormat::JsonObject) => (Some("application/json"), None),
        Some(ResponseFormat::JsonSchema { schema, .. }) => {
            (Some("application/json"), Some(clean_schema(schema)))
        }
    };
    let config = GenerationConfig {
        stop_sequences: (!s.stop.is_empty()).then(|| s.stop.clone()),
        response_mime_type: mime.map(str::to_owned),
        response_schema: schema,
        response_json_schema: None,
        candidate_count: None,
        max_output_tokens: s.max_tokens,
        temperature: s.temperature,
        top_p: s.top_p,
        top_k: s.top_k,
        seed: s.seed,
        presence_penalty: s.presence_penalty,
        frequency_penalty: s.frequency_penalty,
        response_modalities: None,
        thinking_config: thinking_config_from_ir(
            &req.model,
            req.reasoning.as_ref(),
            opts.auto_include_thoughts,
        ),
        extra: Map::new(),
    };
    (config != GenerationConfig::default()).then_some(config)
}
