//! Protocol conversion through the canonical form ([`crate::ir`]).
//!
//! Each dialect has a submodule with the same shape:
//! `request_to_ir` / `request_from_ir`, `response_to_ir` /
//! `response_from_ir`, a stream decoder and encoder, `error_to_ir` /
//! `error_from_ir`. Converting dialect A to dialect B is A's `*_to_ir`
//! followed by B's `*_from_ir`; the functions below compose the common
//! pairs on raw bytes for the gateway.
//!
//! | direction | request | response | stream | error |
//! |---|---|---|---|---|
//! | OpenAI client → Anthropic upstream | [`chat_request_to_messages`] | [`messages_response_to_chat`] | [`AnthropicToOpenAiStream`] | [`anthropic_error_to_openai`] |
//! | Anthropic client → OpenAI upstream | [`messages_request_to_chat`] | [`chat_response_to_messages`] | [`OpenAiToAnthropicStream`] | [`openai_error_to_anthropic`] |
//!
//! Everything here is pure: the gateway supplies the clock, the requested
//! model name and per-upstream switches through [`EncodeOptions`],
//! [`ChatRequestOptions`] and [`AnthropicRequestOptions`]; fetching image
//! URLs for upstreams that need inline data is the gateway's job.

pub mod anthropic;
mod error;
pub mod gemini;
pub mod openai;
mod options;
pub mod responses;
mod stream;
pub mod util;

pub use error::ConvertError;
pub use gemini::{
    AnthropicToGeminiStream, GeminiRequestOptions, GeminiToAnthropicStream, GeminiToOpenAiStream,
    OpenAiToGeminiStream, anthropic_error_to_gemini, chat_request_to_gemini,
    chat_response_to_gemini, gemini_error_to_anthropic, gemini_error_to_openai,
    gemini_request_to_chat, gemini_request_to_messages, gemini_response_to_chat,
    gemini_response_to_messages, messages_request_to_gemini, messages_response_to_gemini,
    openai_error_to_gemini,
};
pub use options::{AnthropicRequestOptions, ChatRequestOptions, EncodeOptions};
pub use responses::{
    AnthropicToResponsesStream, OpenAiToResponsesStream, ResponsesRequestOptions,
    ResponsesToAnthropicStream, ResponsesToOpenAiStream, chat_request_to_responses,
    chat_response_to_responses, error_to_responses, messages_request_to_responses,
    messages_response_to_responses, responses_error_to_anthropic, responses_request_to_chat,
    responses_request_to_messages, responses_response_to_chat, responses_response_to_messages,
};
pub use stream::{StreamConverter, StreamDecoder, StreamEncoder, write_sse};

use crate::anthropic::{AnthropicErrorBody, MessagesRequest, MessagesResponse};
use crate::ir;
use crate::openai::{ChatCompletion, ChatRequest, ErrorBody};

/// An Anthropic upstream stream converted for an OpenAI client.
pub type AnthropicToOpenAiStream =
    StreamConverter<anthropic::AnthropicStreamDecoder, openai::OpenAiStreamEncoder>;

/// An OpenAI upstream stream converted for an Anthropic client.
pub type OpenAiToAnthropicStream =
    StreamConverter<openai::OpenAiStreamDecoder, anthropic::AnthropicStreamEncoder>;

impl AnthropicToOpenAiStream {
    /// A converter reporting to the client per `opts`.
    pub fn anthropic_to_openai(opts: EncodeOptions) -> Self {
        Self::new(
            anthropic::AnthropicStreamDecoder::new(),
            openai::OpenAiStreamEncoder::new(opts),
        )
    }
}

impl OpenAiToAnthropicStream {
    /// A converter reporting to the client per `opts`.
    pub fn openai_to_anthropic(opts: EncodeOptions) -> Self {
        Self::new(
            openai::OpenAiStreamDecoder::new(),
            anthropic::AnthropicStreamEncoder::new(opts),
        )
    }
}

/// An OpenAI Chat request body → an Anthropic Messages request body, for
/// the upstream model `model` (the mapped name; it selects the defaults).
///
/// # Errors
/// Invalid JSON or a request Anthropic cannot express.
pub fn chat_request_to_messages(
    body: &[u8],
    model: &str,
    opts: &AnthropicRequestOptions,
) -> Result<Vec<u8>, ConvertError> {
    let mut req = openai::request_to_ir(serde_json::from_slice::<ChatRequest>(body)?)?;
    model.clone_into(&mut req.model);
    Ok(serde_json::to_vec(&anthropic::request_from_ir(&req, opts))?)
}

/// An Anthropic Messages request body → an OpenAI Chat request body, for
/// the upstream model `model`.
///
/// # Errors
/// Invalid JSON or an invalid role.
pub fn messages_request_to_chat(
    body: &[u8],
    model: &str,
    opts: &ChatRequestOptions,
) -> Result<Vec<u8>, ConvertError> {
    let mut req = anthropic::request_to_ir(serde_json::from_slice::<MessagesRequest>(body)?)?;
    model.clone_into(&mut req.model);
    Ok(serde_json::to_vec(&openai::request_from_ir(&req, opts))?)
}

/// An Anthropic response body → an OpenAI `chat.completion` body, and the
/// normalised usage for metering.
///
/// # Errors
/// Invalid JSON.
pub fn messages_response_to_chat(
    body: &[u8],
    opts: &EncodeOptions,
) -> Result<(Vec<u8>, Option<crate::Usage>), ConvertError> {
    let resp = anthropic::response_to_ir(serde_json::from_slice::<MessagesResponse>(body)?);
    let out = serde_json::to_vec(&openai::response_from_ir(&resp, opts))?;
    Ok((out, resp.usage))
}

/// An OpenAI `chat.completion` body → an Anthropic response body, and the
/// normalised usage for metering.
///
/// # Errors
/// Invalid JSON.
pub fn chat_response_to_messages(
    body: &[u8],
    opts: &EncodeOptions,
) -> Result<(Vec<u8>, Option<crate::Usage>), ConvertError> {
    let resp = openai::response_to_ir(serde_json::from_slice::<ChatCompletion>(body)?);
    let out = serde_json::to_vec(&anthropic::response_from_ir(&resp, opts))?;
    Ok((out, resp.usage))
}

/// Reads any upstream error body: the OpenAI shape, the Anthropic shape,
/// or (failing both) the raw text as the message. The kind follows
/// `status`.
pub fn error_body_to_ir(status: u16, body: &[u8]) -> ir::Error {
    if let Some(body) = AnthropicErrorBody::parse(body) {
        return anthropic::error_to_ir(Some(status), &body.error);
    }
    if let Some(body) = ErrorBody::parse(body).filter(|b| !b.error.message.is_empty()) {
        return openai::error_to_ir(Some(status), &body);
    }
    let text = String::from_utf8_lossy(body);
    let message = if text.trim().is_empty() {
        format!("upstream returned status {status}")
    } else {
        text.trim().to_owned()
    };
    ir::Error::from_status(status, message)
}

/// An OpenAI-shaped (or any) upstream error → Anthropic error JSON.
pub fn openai_error_to_anthropic(status: u16, body: &[u8]) -> Vec<u8> {
    let error = error_body_to_ir(status, body);
    serde_json::to_vec(&anthropic::error_from_ir(&error)).unwrap_or_default()
}

/// An Anthropic-shaped (or any) upstream error → OpenAI error JSON.
pub fn anthropic_error_to_openai(status: u16, body: &[u8]) -> Vec<u8> {
    let error = error_body_to_ir(status, body);
    serde_json::to_vec(&openai::error_from_ir(&error)).unwrap_or_default()
}
