//! The canonical non-streamed response and stop reasons.

use crate::Usage;

use super::Part;

/// Why the model stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StopReason {
    /// Natural end of turn or a stop sequence (see
    /// [`Response::stop_sequence`]). OpenAI `stop`, Anthropic
    /// `end_turn`/`stop_sequence`, Gemini `STOP`.
    Stop,
    /// Output-token limit or context window reached. OpenAI `length`,
    /// Anthropic `max_tokens`/`model_context_window_exceeded`, Gemini
    /// `MAX_TOKENS`.
    Length,
    /// The model wants tool results. OpenAI `tool_calls`, Anthropic `tool_use`.
    ToolCalls,
    /// Output was blocked by a safety filter. OpenAI `content_filter`,
    /// Gemini `SAFETY`/`RECITATION`/…
    ContentFilter,
    /// The model declined to answer (Anthropic `refusal`).
    Refusal,
    /// A long-running turn was paused and can be continued (Anthropic
    /// `pause_turn`).
    Pause,
    /// Generation failed upstream (Gemini `OTHER`/`MALFORMED_FUNCTION_CALL`,
    /// Responses `failed`).
    Error,
    /// Anything else, verbatim.
    Other(String),
}

/// A complete answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Response {
    /// Upstream response id (`chatcmpl-…`, `msg_…`); encoders keep it.
    pub id: String,
    /// Model name; the gateway sets the *requested* name before encoding.
    pub model: String,
    /// Creation time in Unix seconds, when the upstream gave one.
    pub created: Option<i64>,
    /// Output parts in order: thinking, redacted thinking, text, tool calls,
    /// refusals, images.
    pub content: Vec<Part>,
    /// Why generation stopped, if known.
    pub stop_reason: Option<StopReason>,
    /// The stop sequence that ended generation, if one did.
    pub stop_sequence: Option<String>,
    /// Token usage, normalised.
    pub usage: Option<Usage>,
}

impl Response {
    /// Whether any part is a tool call.
    pub fn has_tool_calls(&self) -> bool {
        self.content.iter().any(|p| matches!(p, Part::ToolCall(_)))
    }
}
