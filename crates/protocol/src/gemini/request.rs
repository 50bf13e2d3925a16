//! The `generateContent` / `streamGenerateContent` request body, typed for
//! the members the converters read, lossless for the rest (`extra` maps).
//! The model and whether to stream are not in the body: they come from the
//! URL (`/v1beta/models/{model}:streamGenerateContent?alt=sse`).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::content::Content;

/// A `generateContent` request.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GenerateContentRequest {
    /// `models/{model}`: only present when the request is embedded in
    /// another (`countTokens`' `generateContentRequest`, batch requests).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// The conversation.
    #[serde(default)]
    pub contents: Vec<Content>,
    /// System instruction (text parts; the role is ignored).
    #[serde(
        default,
        alias = "system_instruction",
        skip_serializing_if = "Option::is_none"
    )]
    pub system_instruction: Option<Content>,
    /// Tools: function declarations and built-in tools.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tools: Option<Vec<Tool>>,
    /// Tool configuration.
    #[serde(
        default,
        alias = "tool_config",
        skip_serializing_if = "Option::is_none"
    )]
    pub tool_config: Option<ToolConfig>,
    /// Safety thresholds.
    #[serde(
        default,
        alias = "safety_settings",
        skip_serializing_if = "Option::is_none"
    )]
    pub safety_settings: Option<Vec<SafetySetting>>,
    /// Generation parameters.
    #[serde(
        default,
        alias = "generation_config",
        skip_serializing_if = "Option::is_none"
    )]
    pub generation_config: Option<GenerationConfig>,
    /// Name of a cached content (`cachedContents/…`).
    #[serde(
        default,
        alias = "cached_content",
        skip_serializing_if = "Option::is_none"
    )]
    pub cached_content: Option<String>,
    /// Members this type does not model (`labels`, …).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// One entry of `tools`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Tool {
    /// Functions the model may call.
    #[serde(
        default,
        alias = "function_declarations",
        skip_serializing_if = "Option::is_none"
    )]
    pub function_declarations: Option<Vec<FunctionDeclaration>>,
    /// Built-in Google Search (`{}`).
    #[serde(
        default,
        alias = "google_search",
        skip_serializing_if = "Option::is_none"
    )]
    pub google_search: Option<Value>,
    /// Built-in code execution (`{}`).
    #[serde(
        default,
        alias = "code_execution",
        skip_serializing_if = "Option::is_none"
    )]
    pub code_execution: Option<Value>,
    /// Members this type does not model (`urlContext`,
    /// `googleSearchRetrieval`, …).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A function declaration.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FunctionDeclaration {
    /// Function name.
    #[serde(default)]
    pub name: String,
    /// What it does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Arguments as Gemini's OpenAPI-subset schema.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parameters: Option<Value>,
    /// Arguments as full JSON Schema (newer API; exclusive with
    /// `parameters`).
    #[serde(
        default,
        alias = "parameters_json_schema",
        skip_serializing_if = "Option::is_none"
    )]
    pub parameters_json_schema: Option<Value>,
    /// Members this type does not model (`response`, `behavior`, …).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `toolConfig`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ToolConfig {
    /// Function-calling policy.
    #[serde(
        default,
        alias = "function_calling_config",
        skip_serializing_if = "Option::is_none"
    )]
    pub function_calling_config: Option<FunctionCallingConfig>,
    /// Members this type does not model (`retrievalConfig`, …).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `functionCallingConfig`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FunctionCallingConfig {
    /// `AUTO`, `ANY`, `NONE` or `VALIDATED`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<String>,
    /// With `ANY`: the functions the model may call.
    #[serde(
        default,
        alias = "allowed_function_names",
        skip_serializing_if = "Option::is_none"
    )]
    pub allowed_function_names: Option<Vec<String>>,
    /// Members this type does not model.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// One `safetySettings` entry.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SafetySetting {
    /// `HARM_CATEGORY_…`.
    #[serde(default)]
    pub category: String,
    /// `BLOCK_NONE`, `BLOCK_ONLY_HIGH`, `OFF`, ….
    #[serde(default)]
    pub threshold: String,
    /// Members this type does not model.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `generationConfig`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GenerationConfig {
    /// Stop sequences (Gemini accepts at most 5).
    #[serde(
        default,
        alias = "stop_sequences",
        skip_serializing_if = "Option::is_none"
    )]
    pub stop_sequences: Option<Vec<String>>,
    /// `text/plain`, `application/json`, `text/x.enum`.
    #[serde(
        default,
        alias = "response_mime_type",
        skip_serializing_if = "Option::is_none"
    )]
    pub response_mime_type: Option<String>,
    /// Output schema in Gemini's OpenAPI subset.
    #[serde(
        default,
        alias = "response_schema",
        skip_serializing_if = "Option::is_none"
    )]
    pub response_schema: Option<Value>,
    /// Output schema as full JSON Schema (newer API).
    #[serde(
        default,
        alias = "response_json_schema",
        alias = "_responseJsonSchema",
        skip_serializing_if = "Option::is_none"
    )]
    pub response_json_schema: Option<Value>,
    /// Number of candidates (the converters support only 1).
    #[serde(
        default,
        alias = "candidate_count",
        skip_serializing_if = "Option::is_none"
    )]
    pub candidate_count: Option<u32>,
    /// Output-token limit (on thinking models, thinking tokens count
    /// against it).
    #[serde(
        default,
        alias = "max_output_tokens",
        skip_serializing_if = "Option::is_none"
    )]
    pub max_output_tokens: Option<u32>,
    /// Temperature.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f64>,
    /// Nucleus sampling.
    #[serde(default, alias = "top_p", skip_serializing_if = "Option::is_none")]
    pub top_p: Option<f64>,
    /// Top-k sampling.
    #[serde(default, alias = "top_k", skip_serializing_if = "Option::is_none")]
    pub top_k: Option<u32>,
    /// Sampling seed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<i64>,
    /// Presence penalty.
    #[serde(
        default,
        alias = "presence_penalty",
        skip_serializing_if = "Option::is_none"
    )]
    pub presence_penalty: Option<f64>,
    /// Frequency penalty.
    #[serde(
        default,
        alias = "frequency_penalty",
        skip_serializing_if = "Option::is_none"
    )]
    pub frequency_penalty: Option<f64>,
    /// Output modalities (`TEXT`, `IMAGE`, `AUDIO`).
    #[serde(
        default,
        alias = "response_modalities",
        skip_serializing_if = "Option::is_none"
    )]
    pub response_modalities: Option<Vec<String>>,
    /// Reasoning controls.
    #[serde(
        default,
        alias = "thinking_config",
        skip_serializing_if = "Option::is_none"
    )]
    pub thinking_config: Option<ThinkingConfig>,
    /// Members this type does not model (`speechConfig`,
    /// `mediaResolution`, `responseLogprobs`, …).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `thinkingConfig`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ThinkingConfig {
    /// Return thought summaries as `thought: true` parts.
    #[serde(
        default,
        alias = "include_thoughts",
        skip_serializing_if = "Option::is_none"
    )]
    pub include_thoughts: Option<bool>,
    /// Token budget (Gemini 2.5): 0 disables, -1 lets the model decide.
    #[serde(
        default,
        alias = "thinking_budget",
        skip_serializing_if = "Option::is_none"
    )]
    pub thinking_budget: Option<i64>,
    /// Level (Gemini 3 and later): `minimal`, `low`, `medium`, `high`.
    #[serde(
        default,
        alias = "thinking_level",
        skip_serializing_if = "Option::is_none"
    )]
    pub thinking_level: Option<String>,
    /// Members this type does not model.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_round_trips() {
        let text = r#"{"contents":[{"role":"user","parts":[{"text":"hi"}]}],
            "systemInstruction":{"parts":[{"text":"be brief"}]},
            "tools":[{"functionDeclarations":[{"name":"f","parameters":{"type":"OBJECT"}}]},{"googleSearch":{}}],
            "toolConfig":{"functionCallingConfig":{"mode":"ANY","allowedFunctionNames":["f"]}},
            "safetySettings":[{"category":"HARM_CATEGORY_HARASSMENT","threshold":"BLOCK_NONE"}],
            "generationConfig":{"temperature":0.5,"topK":40,"maxOutputTokens":100,
              "thinkingConfig":{"thinkingBudget":-1,"includeThoughts":true},"speechConfig":{}},
            "labels":{"a":"b"}}"#;
        let req: GenerateContentRequest = serde_json::from_str(text).unwrap();
        let config = req.generation_config.as_ref().unwrap();
        assert_eq!(
            config.thinking_config.as_ref().unwrap().thinking_budget,
            Some(-1)
        );
        assert!(config.extra.contains_key("speechConfig"));
        let orig: Value = serde_json::from_str(text).unwrap();
        assert_eq!(serde_json::to_value(&req).unwrap(), orig);
    }

    #[test]
    fn snake_case_members_are_accepted() {
        let req: GenerateContentRequest = serde_json::from_str(
            r#"{"contents":[],"system_instruction":{"parts":[{"text":"s"}]},
               "generation_config":{"max_output_tokens":5,"thinking_config":{"thinking_level":"low"}}}"#,
        )
        .unwrap();
        assert!(req.system_instruction.is_some());
        let config = req.generation_config.unwrap();
        assert_eq!(config.max_output_tokens, Some(5));
        assert_eq!(
            config.thinking_config.unwrap().thinking_level.as_deref(),
            Some("low")
        );
    }
}
