//! Gemini `generateContent` ⇄ canonical form.
//!
//! Where it sits: a Gemini client's request is decoded here and encoded
//! for the channel's dialect; a request bound for a Gemini channel (type
//! 24, Vertex Gemini) is encoded here; the answer comes back through the
//! response or stream converters, errors through the error converters.
//! Gemini → Gemini traffic is forwarded unchanged and only observed
//! ([`inspect`]).
//!
//! - [`request_to_ir`] / [`request_from_ir`]: request bodies, with the
//!   thinking rules in [`thinking`], the schema clean-up in [`schema`] and
//!   the per-channel switches in [`GeminiRequestOptions`].
//! - [`response_to_ir`] / [`response_from_ir`] and
//!   [`finish_reason_to_ir`] / [`finish_reason_from_ir`]; usage with
//!   [`UsageMetadata::to_usage`](crate::gemini::UsageMetadata::to_usage) /
//!   [`UsageMetadata::from_usage`](crate::gemini::UsageMetadata::from_usage).
//! - [`GeminiStreamDecoder`] / [`GeminiStreamEncoder`]: streams
//!   (`streamGenerateContent?alt=sse`).
//! - [`error_to_ir`] / [`error_from_ir`] / [`error_body_to_ir`]: errors.
//! - The byte-level helpers and stream converter types in `compose`,
//!   re-exported from [`crate::convert`].
//!
//! Thought signatures: a `thoughtSignature` on a `functionCall` part rides
//! on [`ToolCall::signature`](crate::ir::ToolCall::signature), one on any
//! other part on a signature-only thinking part just before it; encoders
//! put each back on the same kind of part, and a model turn whose calls
//! are all unsigned gets [`DUMMY_THOUGHT_SIGNATURE`] on its first call so
//! tool loops pass Gemini 3's validation. See [`content_in`] and [`content_out`].

mod compose;
pub mod content_in;
pub mod content_out;
mod error;
pub mod inspect;
mod media;
mod options;
mod request_in;
mod request_out;
mod response;
pub mod schema;
mod stream_decode;
mod stream_encode;
pub mod thinking;

pub use compose::{
    AnthropicToGeminiStream, GeminiToAnthropicStream, GeminiToOpenAiStream, OpenAiToGeminiStream,
    anthropic_error_to_gemini, chat_request_to_gemini, chat_response_to_gemini, error_to_gemini,
    gemini_error_to_anthropic, gemini_error_to_openai, gemini_request_to_chat,
    gemini_request_to_messages, gemini_response_to_chat, gemini_response_to_messages,
    messages_request_to_gemini, messages_response_to_gemini, openai_error_to_gemini,
};
pub use error::{error_body_to_ir, error_from_ir, error_to_ir, kind_from_status_name, status_name};
pub use options::GeminiRequestOptions;
pub use request_in::request_to_ir;
pub use request_out::{DUMMY_THOUGHT_SIGNATURE, request_from_ir};
pub use response::{finish_reason_from_ir, finish_reason_to_ir, response_from_ir, response_to_ir};
pub use stream_decode::GeminiStreamDecoder;
pub use stream_encode::{GeminiStreamEncoder, GeminiStreamItem};
pub use thinking::{ThinkingFamily, reasoning_from_wire, thinking_config_from_ir, thinking_family};
