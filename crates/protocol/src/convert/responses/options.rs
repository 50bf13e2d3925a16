//! Switches for encoding a request to a Responses upstream.

/// Switches for [`request_from_ir`](super::request_from_ir).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResponsesRequestOptions {
    /// `store` to send. Default `Some(false)`: a converted client cannot
    /// use stored responses (it never sees `previous_response_id`), and a
    /// stateless request must carry its reasoning as encrypted content.
    pub store: Option<bool>,
    /// Ask for `reasoning.encrypted_content` (in `include`) so reasoning
    /// survives a stateless multi-turn conversation: it reaches the client
    /// as a thinking signature and comes back on the next turn. Default
    /// `true`; switch off for upstream models without reasoning, which
    /// reject it.
    pub include_encrypted_reasoning: bool,
    /// Ask for reasoning summaries (`reasoning.summary: auto`) when the
    /// client wants reasoning text back (Anthropic `thinking`, Gemini
    /// `includeThoughts`) and did not choose a summary mode. Default
    /// `true`; switch off for organisations OpenAI has not verified for
    /// summaries (the upstream rejects the request then).
    pub reasoning_summaries: bool,
}

impl Default for ResponsesRequestOptions {
    fn default() -> Self {
        Self {
            store: Some(false),
            include_encrypted_reasoning: true,
            reasoning_summaries: true,
        }
    }
}
