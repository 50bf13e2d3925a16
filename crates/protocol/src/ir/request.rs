//! The canonical request.

use serde_json::{Map, Value};

use super::{CacheControl, Message, Reasoning, ResponseFormat, Sampling, Tool, ToolChoice};

/// One piece of the system prompt.
#[derive(Debug, Clone, PartialEq)]
pub struct SystemPart {
    /// Instruction text.
    pub text: String,
    /// Cache breakpoint after this part (Anthropic).
    pub cache_control: Option<CacheControl>,
}

impl SystemPart {
    /// A system part without cache control.
    pub fn new(text: impl Into<String>) -> Self {
        Self {
            text: text.into(),
            cache_control: None,
        }
    }
}

/// A generation request in canonical form. See the [module docs](super) for
/// the invariants decoders establish.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Request {
    /// Model name. Decoders copy the client's; the gateway replaces it with
    /// the upstream (mapped) name before encoding, because encoders look it
    /// up for model-specific defaults.
    pub model: String,
    /// System instructions, in order.
    pub system: Vec<SystemPart>,
    /// The conversation, user and assistant turns only.
    pub messages: Vec<Message>,
    /// Declared functions.
    pub tools: Vec<Tool>,
    /// Tool-choice policy; `None` = dialect default (auto when tools exist).
    pub tool_choice: Option<ToolChoice>,
    /// `Some(false)` forbids several tool calls in one turn (OpenAI
    /// `parallel_tool_calls`, Anthropic `disable_parallel_tool_use`).
    pub parallel_tool_calls: Option<bool>,
    /// Sampling and length controls.
    pub sampling: Sampling,
    /// Requested output format; `None` = text.
    pub response_format: Option<ResponseFormat>,
    /// Reasoning configuration; `None` = dialect default.
    pub reasoning: Option<Reasoning>,
    /// End-user id (OpenAI `user`, Anthropic `metadata.user_id`).
    pub user: Option<String>,
    /// Free-form metadata (OpenAI `metadata`); dropped where unsupported.
    pub metadata: Map<String, Value>,
    /// Whether the client asked for a streamed answer.
    pub stream: bool,
    /// Whether a streaming OpenAI client asked for the final usage chunk
    /// (`stream_options.include_usage`). Anthropic and Gemini clients always
    /// get usage, so their decoders set it to `true`.
    pub include_usage: bool,
}
