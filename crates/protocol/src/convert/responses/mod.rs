//! OpenAI Responses ⇄ canonical form.
//!
//! Used when a Responses client reaches a Chat, Anthropic or Gemini
//! upstream, and when a Chat, Anthropic or Gemini client reaches a model
//! only served through `/v1/responses` (gpt-5 family, o3, codex…).
//! Responses → Responses traffic is forwarded unchanged and only observed
//! ([`inspect`]).
//!
//! - [`request_to_ir`] / [`request_from_ir`] (with
//!   [`ResponsesRequestOptions`]): request bodies.
//! - [`response_to_ir`] / [`response_from_ir`]: `response` objects;
//!   [`status_to_ir`] / [`status_from_ir`] map statuses to stop reasons
//!   (`incomplete` + `max_output_tokens` ↔ length, `content_filter` ↔
//!   content filter, `failed` ↔ error); usage is
//!   [`ResponsesUsage::to_usage`](crate::responses::ResponsesUsage::to_usage)
//!   and [`usage_from_ir`] (`input_tokens_details.cached_tokens`,
//!   `output_tokens_details.reasoning_tokens`).
//! - [`ResponsesStreamDecoder`] / [`ResponsesStreamEncoder`]: streams.
//! - [`error_to_ir`] / [`error_from_ir`] / [`response_error`] /
//!   [`upstream_error_to_ir`]: errors.
//! - [`reasoning`]: how reasoning items, encrypted content and signatures
//!   map, so a multi-turn conversation with reasoning and tools keeps
//!   working across the conversion.
//! - The composed byte-level helpers and stream aliases, re-exported from
//!   [`crate::convert`].

mod compose;
mod content;
mod error;
pub mod inspect;
mod options;
pub mod reasoning;
mod request_in;
mod request_out;
mod response;
mod stream_decode;
mod stream_encode;

pub use compose::{
    AnthropicToResponsesStream, OpenAiToResponsesStream, ResponsesToAnthropicStream,
    ResponsesToOpenAiStream, chat_request_to_responses, chat_response_to_responses,
    error_to_responses, messages_request_to_responses, messages_response_to_responses,
    responses_error_to_anthropic, responses_request_to_chat, responses_request_to_messages,
    responses_response_to_chat, responses_response_to_messages,
};
pub use error::{error_from_ir, error_to_ir, response_error, upstream_error_to_ir};
pub use options::ResponsesRequestOptions;
pub use request_in::request_to_ir;
pub use request_out::{MIN_MAX_OUTPUT_TOKENS, request_from_ir};
pub use response::{response_from_ir, response_to_ir, status_from_ir, status_to_ir, usage_from_ir};
pub use stream_decode::ResponsesStreamDecoder;
pub use stream_encode::ResponsesStreamEncoder;
