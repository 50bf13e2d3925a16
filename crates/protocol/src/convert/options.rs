//! What the gateway tells the converters that the bodies themselves do not
//! say: the model name to report, the clock, client stream options, and
//! per-upstream switches.

/// Context for encoding a response or stream for the client.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EncodeOptions {
    /// Model name to report to the client (the *requested* name); `None`
    /// keeps the upstream's.
    pub model: Option<String>,
    /// Unix seconds for dialects that need a timestamp the upstream did not
    /// give (OpenAI `created`). This crate has no clock.
    pub created: i64,
    /// OpenAI clients: whether to send the final usage-only chunk
    /// (`stream_options.include_usage`). Ignored by dialects that always
    /// report usage.
    pub include_usage: bool,
    /// Anthropic clients: input tokens to put in `message_start` before the
    /// upstream has reported any (the gateway's estimate). The final counts
    /// are always sent in `message_delta`.
    pub estimated_input_tokens: Option<i64>,
}

/// Switches for encoding a request to an OpenAI Chat upstream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatRequestOptions {
    /// Send assistant thinking back as `reasoning_content` (DeepSeek, Kimi
    /// and Qwen want it within a tool loop). Default `true`.
    pub reasoning_history: bool,
    /// Also send signatures back (`thinking_blocks`, `reasoning_signature`,
    /// tool-call `extra_content.google.thought_signature`), for upstreams
    /// that are themselves gateways or Gemini's OpenAI endpoint. Default
    /// `false`: strict upstreams reject unknown message fields.
    pub signatures_in_history: bool,
    /// Write the output limit as `max_completion_tokens` (OpenAI reasoning
    /// models) instead of `max_tokens` (every compatible provider).
    /// Default `false`.
    pub use_max_completion_tokens: bool,
}

impl Default for ChatRequestOptions {
    fn default() -> Self {
        Self {
            reasoning_history: true,
            signatures_in_history: false,
            use_max_completion_tokens: false,
        }
    }
}

/// Switches for encoding a request to an Anthropic Messages upstream.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AnthropicRequestOptions {
    /// The model supports adaptive thinking: write `thinking.type=adaptive`
    /// plus `output_config.effort` instead of a token budget.
    pub adaptive_thinking: bool,
    /// Overrides the per-family default `max_tokens`
    /// ([`default_max_tokens`](super::anthropic::default_max_tokens)) when
    /// the client gave none.
    pub default_max_tokens: Option<u32>,
}
