//! Tool (function) declarations and the tool-choice policy.

use serde_json::Value;

use super::CacheControl;

/// A function the model may call.
#[derive(Debug, Clone, PartialEq)]
pub struct Tool {
    /// Function name.
    pub name: String,
    /// What the function does.
    pub description: Option<String>,
    /// JSON Schema of the arguments, verbatim (`None` when the client gave
    /// none; encoders that require one use `{"type":"object","properties":{}}`).
    /// Schema clean-up for picky providers (Gemini) is the encoder's job.
    pub parameters: Option<Value>,
    /// Strict schema adherence (OpenAI `strict`).
    pub strict: Option<bool>,
    /// Cache breakpoint after this tool (Anthropic).
    pub cache_control: Option<CacheControl>,
}

/// Whether and which tool the model must call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ToolChoice {
    /// The model decides (OpenAI `auto`, Anthropic `auto`, Gemini `AUTO`).
    Auto,
    /// No tool calls (OpenAI `none`, Anthropic `none`, Gemini `NONE`).
    None,
    /// At least one tool call (OpenAI `required`, Anthropic `any`, Gemini `ANY`).
    Required,
    /// This tool must be called (OpenAI function choice, Anthropic `tool`,
    /// Gemini `ANY` with `allowedFunctionNames`).
    Named(String),
}
