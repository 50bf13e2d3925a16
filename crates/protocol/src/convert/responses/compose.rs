//! The Responses pairs composed on raw bytes for the gateway: requests,
//! responses and streams between Responses and OpenAI Chat / Anthropic
//! Messages, and errors. Re-exported from [`crate::convert`].

use super::options::ResponsesRequestOptions;
use super::{ResponsesStreamDecoder, ResponsesStreamEncoder};
use crate::Usage;
use crate::anthropic::{MessagesRequest, MessagesResponse};
use crate::convert::{
    AnthropicRequestOptions, ChatRequestOptions, ConvertError, EncodeOptions, StreamConverter,
    anthropic, openai,
};
use crate::openai::{ChatCompletion, ChatRequest};
use crate::responses::{ResponseObject, ResponsesRequest};

/// A Responses upstream stream converted for an OpenAI Chat client.
pub type ResponsesToOpenAiStream =
    StreamConverter<ResponsesStreamDecoder, openai::OpenAiStreamEncoder>;

/// An OpenAI Chat upstream stream converted for a Responses client.
pub type OpenAiToResponsesStream =
    StreamConverter<openai::OpenAiStreamDecoder, ResponsesStreamEncoder>;

/// A Responses upstream stream converted for an Anthropic client.
pub type ResponsesToAnthropicStream =
    StreamConverter<ResponsesStreamDecoder, anthropic::AnthropicStreamEncoder>;

/// An Anthropic upstream stream converted for a Responses client.
pub type AnthropicToResponsesStream =
    StreamConverter<anthropic::AnthropicStreamDecoder, ResponsesStreamEncoder>;

impl ResponsesToOpenAiStream {
    /// A converter reporting to the client per `opts`.
    pub fn responses_to_openai(opts: EncodeOptions) -> Self {
        Self::new(
            ResponsesStreamDecoder::new(),
            openai::OpenAiStreamEncoder::new(opts),
        )
    }
}

impl OpenAiToResponsesStream {
    /// A converter reporting to the client per `opts`.
    pub fn openai_to_responses(opts: EncodeOptions) -> Self {
        Self::new(
            openai::OpenAiStreamDecoder::new(),
            ResponsesStreamEncoder::new(opts),
        )
    }
}

impl ResponsesToAnthropicStream {
    /// A converter reporting to the client per `opts`.
    pub fn responses_to_anthropic(opts: EncodeOptions) -> Self {
        Self::new(
            ResponsesStreamDecoder::new(),
            anthropic::AnthropicStreamEncoder::new(opts),
        )
    }
}

impl AnthropicToResponsesStream {
    /// A converter reporting to the client per `opts`.
    pub fn anthropic_to_responses(opts: EncodeOptions) -> Self {
        Self::new(
            anthropic::AnthropicStreamDecoder::new(),
            ResponsesStreamEncoder::new(opts),
        )
    }
}

/// An OpenAI Chat request body → a Responses request body, for the
/// upstream model `model`.
///
/// # Errors
/// Invalid JSON, `n > 1`, or an unknown role.
pub fn chat_request_to_responses(
    body: &[u8],
    model: &str,
    opts: &ResponsesRequestOptions,
) -> Result<Vec<u8>, ConvertError> {
    let mut req = openai::request_to_ir(serde_json::from_slice::<ChatRequest>(body)?)?;
    model.clone_into(&mut req.model);
    Ok(serde_json::to_vec(&super::request_from_ir(&req, opts))?)
}

/// A Responses request body → an OpenAI Chat request body, for the
/// upstream model `model`.
///
/// # Errors
/// Invalid JSON, an unknown role, or upstream-stored state
/// (`previous_response_id`, `item_reference`).
pub fn responses_request_to_chat(
    body: &[u8],
    model: &str,
    opts: &ChatRequestOptions,
) -> Result<Vec<u8>, ConvertError> {
    let mut req = super::request_to_ir(serde_json::from_slice::<ResponsesRequest>(body)?)?;
    model.clone_into(&mut req.model);
    Ok(serde_json::to_vec(&openai::request_from_ir(&req, opts))?)
}

/// An Anthropic Messages request body → a Responses request body, for the
/// upstream model `model`.
///
/// # Errors
/// Invalid JSON or an unknown role.
pub fn messages_request_to_responses(
    body: &[u8],
    model: &str,
    opts: &ResponsesRequestOptions,
) -> Result<Vec<u8>, ConvertError> {
    let mut req = anthropic::request_to_ir(serde_json::from_slice::<MessagesRequest>(body)?)?;
    model.clone_into(&mut req.model);
    Ok(serde_json::to_vec(&super::request_from_ir(&req, opts))?)
}

/// A Responses request body → an Anthropic Messages request body, for the
/// upstream model `model`.
///
/// # Errors
/// As [`responses_request_to_chat`].
pub fn responses_request_to_messages(
    body: &[u8],
    model: &str,
    opts: &AnthropicRequestOptions,
) -> Result<Vec<u8>, ConvertError> {
    let mut req = super::request_to_ir(serde_json::from_slice::<ResponsesRequest>(body)?)?;
    model.clone_into(&mut req.model);
    Ok(serde_json::to_vec(&anthropic::request_from_ir(&req, opts))?)
}

/// A Responses `response` body → an OpenAI `chat.completion` body, and
/// the normalised usage. A `failed` response should be answered as an
/// error instead (see [`response_error`](super::response_error) and
/// [`inspect_response`](super::inspect::inspect_response)).
///
/// # Errors
/// Invalid JSON.
pub fn responses_response_to_chat(
    body: &[u8],
    opts: &EncodeOptions,
) -> Result<(Vec<u8>, Option<Usage>), ConvertError> {
    let resp = super::response_to_ir(serde_json::from_slice::<ResponseObject>(body)?);
    let out = serde_json::to_vec(&openai::response_from_ir(&resp, opts))?;
    Ok((out, resp.usage))
}

/// An OpenAI `chat.completion` body → a Responses `response` body, and the
/// normalised usage.
///
/// # Errors
/// Invalid JSON.
pub fn chat_response_to_responses(
    body: &[u8],
    opts: &EncodeOptions,
) -> Result<(Vec<u8>, Option<Usage>), ConvertError> {
    let resp = openai::response_to_ir(serde_json::from_slice::<ChatCompletion>(body)?);
    let out = serde_json::to_vec(&super::response_from_ir(&resp, opts))?;
    Ok((out, resp.usage))
}

/// A Responses `response` body → an Anthropic Messages response body, and
/// the normalised usage (see [`responses_response_to_chat`] on failures).
///
/// # Errors
/// Invalid JSON.
pub fn responses_response_to_messages(
    body: &[u8],
    opts: &EncodeOptions,
) -> Result<(Vec<u8>, Option<Usage>), ConvertError> {
    let resp = super::response_to_ir(serde_json::from_slice::<ResponseObject>(body)?);
    let out = serde_json::to_vec(&anthropic::response_from_ir(&resp, opts))?;
    Ok((out, resp.usage))
}

/// An Anthropic Messages response body → a Responses `response` body, and
/// the normalised usage.
///
/// # Errors
/// Invalid JSON.
pub fn messages_response_to_responses(
    body: &[u8],
    opts: &EncodeOptions,
) -> Result<(Vec<u8>, Option<Usage>), ConvertError> {
    let resp = anthropic::response_to_ir(serde_json::from_slice::<MessagesResponse>(body)?);
    let out = serde_json::to_vec(&super::response_from_ir(&resp, opts))?;
    Ok((out, resp.usage))
}

/// Any upstream error body (OpenAI or Anthropic shape, or text) → the
/// Responses (OpenAI-shaped) error JSON. Chat and Responses share one
/// error shape, so this also serves Chat upstreams.
pub fn error_to_responses(status: u16, body: &[u8]) -> Vec<u8> {
    let error = super::upstream_error_to_ir(status, body);
    serde_json::to_vec(&super::error_from_ir(&error)).unwrap_or_default()
}

/// A Responses (or any) upstream error body → Anthropic error JSON.
pub fn responses_error_to_anthropic(status: u16, body: &[u8]) -> Vec<u8> {
    let error = super::upstream_error_to_ir(status, body);
    serde_json::to_vec(&anthropic::error_from_ir(&error)).unwrap_or_default()
}
