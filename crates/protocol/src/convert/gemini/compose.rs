//! Gemini ⇄ OpenAI Chat and Gemini ⇄ Anthropic Messages on raw bytes: the
//! composed helpers the gateway calls (decode with one dialect's
//! `*_to_ir`, encode with the other's `*_from_ir`), and the stream
//! converter types. Re-exported from [`crate::convert`].
//!
//! | direction | request | response | stream | error |
//! |---|---|---|---|---|
//! | OpenAI client → Gemini upstream | [`chat_request_to_gemini`] | [`gemini_response_to_chat`] | [`GeminiToOpenAiStream`] | [`gemini_error_to_openai`] |
//! | Gemini client → OpenAI upstream | [`gemini_request_to_chat`] | [`chat_response_to_gemini`] | [`OpenAiToGeminiStream`] | [`openai_error_to_gemini`] |
//! | Anthropic client → Gemini upstream | [`messages_request_to_gemini`] | [`gemini_response_to_messages`] | [`GeminiToAnthropicStream`] | [`gemini_error_to_anthropic`] |
//! | Gemini client → Anthropic upstream | [`gemini_request_to_messages`] | [`messages_response_to_gemini`] | [`AnthropicToGeminiStream`] | [`anthropic_error_to_gemini`] |
//!
//! A Gemini request body names neither the model nor whether to stream
//! (both are in the URL), so the helpers reading one take `model` and
//! `stream`; the helpers writing one leave both to the URL the gateway
//! builds (`…/models/{model}:streamGenerateContent?alt=sse`).

use super::{GeminiRequestOptions, GeminiStreamDecoder, GeminiStreamEncoder};
use crate::anthropic::{MessagesRequest, MessagesResponse};
use crate::convert::anthropic::{AnthropicStreamDecoder, AnthropicStreamEncoder};
use crate::convert::openai::{OpenAiStreamDecoder, OpenAiStreamEncoder};
use crate::convert::{
    AnthropicRequestOptions, ChatRequestOptions, ConvertError, EncodeOptions, StreamConverter,
    anthropic, openai,
};
use crate::gemini::{GenerateContentRequest, GenerateContentResponse};
use crate::openai::{ChatCompletion, ChatRequest};
use crate::{Usage, convert::gemini, ir};

/// A Gemini upstream stream converted for an OpenAI client.
pub type GeminiToOpenAiStream = StreamConverter<GeminiStreamDecoder, OpenAiStreamEncoder>;

/// An OpenAI upstream stream converted for a Gemini client.
pub type OpenAiToGeminiStream = StreamConverter<OpenAiStreamDecoder, GeminiStreamEncoder>;

/// A Gemini upstream stream converted for an Anthropic client.
pub type GeminiToAnthropicStream = StreamConverter<GeminiStreamDecoder, AnthropicStreamEncoder>;

/// An Anthropic upstream stream converted for a Gemini client.
pub type AnthropicToGeminiStream = StreamConverter<AnthropicStreamDecoder, GeminiStreamEncoder>;

impl GeminiToOpenAiStream {
    /// A converter reporting to the client per `opts`.
    pub fn gemini_to_openai(opts: EncodeOptions) -> Self {
        Self::new(GeminiStreamDecoder::new(), OpenAiStreamEncoder::new(opts))
    }
}

impl OpenAiToGeminiStream {
    /// A converter reporting to the client per `opts`.
    pub fn openai_to_gemini(opts: EncodeOptions) -> Self {
        Self::new(OpenAiStreamDecoder::new(), GeminiStreamEncoder::new(opts))
    }
}

impl GeminiToAnthropicStream {
    /// A converter reporting to the client per `opts`.
    pub fn gemini_to_anthropic(opts: EncodeOptions) -> Self {
        Self::new(
            GeminiStreamDecoder::new(),
            AnthropicStreamEncoder::new(opts),
        )
    }
}

impl AnthropicToGeminiStream {
    /// A converter reporting to the client per `opts`.
    pub fn anthropic_to_gemini(opts: EncodeOptions) -> Self {
        Self::new(
            AnthropicStreamDecoder::new(),
            GeminiStreamEncoder::new(opts),
        )
    }
}

fn gemini_request(body: &[u8], model: &str, stream: bool) -> Result<ir::Request, ConvertError> {
    let mut req = gemini::request_to_ir(serde_json::from_slice::<GenerateContentRequest>(body)?)?;
    model.clone_into(&mut req.model);
    req.stream = stream;
    Ok(req)
}

/// An OpenAI Chat request body → a Gemini request body, for the upstream
/// model `model` (the mapped name; it selects the thinking rules).
///
/// # Errors
/// Invalid JSON, `n > 1`, or an unknown role.
pub fn chat_request_to_gemini(
    body: &[u8],
    model: &str,
    opts: &GeminiRequestOptions,
) -> Result<Vec<u8>, ConvertError> {
    let mut req = openai::request_to_ir(serde_json::from_slice::<ChatRequest>(body)?)?;
    model.clone_into(&mut req.model);
    Ok(serde_json::to_vec(&gemini::request_from_ir(&req, opts))?)
}

/// An Anthropic Messages request body → a Gemini request body, for the
/// upstream model `model`.
///
/// # Errors
/// Invalid JSON or an unknown role.
pub fn messages_request_to_gemini(
    body: &[u8],
    model: &str,
    opts: &GeminiRequestOptions,
) -> Result<Vec<u8>, ConvertError> {
    let mut req = anthropic::request_to_ir(serde_json::from_slice::<MessagesRequest>(body)?)?;
    model.clone_into(&mut req.model);
    Ok(serde_json::to_vec(&gemini::request_from_ir(&req, opts))?)
}

/// A Gemini request body (from a client calling `model`, streaming or
/// not, per the URL) → an OpenAI Chat request body.
///
/// # Errors
/// Invalid JSON, `candidateCount > 1`, or an unknown role.
pub fn gemini_request_to_chat(
    body: &[u8],
    model: &str,
    stream: bool,
    opts: &ChatRequestOptions,
) -> Result<Vec<u8>, ConvertError> {
    let req = gemini_request(body, model, stream)?;
    Ok(serde_json::to_vec(&openai::request_from_ir(&req, opts))?)
}

/// A Gemini request body → an Anthropic Messages request body.
///
/// # Errors
/// Invalid JSON, `candidateCount > 1`, or an unknown role.
pub fn gemini_request_to_messages(
    body: &[u8],
    model: &str,
    stream: bool,
    opts: &AnthropicRequestOptions,
) -> Result<Vec<u8>, ConvertError> {
    let req = gemini_request(body, model, stream)?;
    Ok(serde_json::to_vec(&anthropic::request_from_ir(&req, opts))?)
}

/// A Gemini response body → an OpenAI `chat.completion` body, and the
/// normalised usage for metering.
///
/// # Errors
/// Invalid JSON.
pub fn gemini_response_to_chat(
    body: &[u8],
    opts: &EncodeOptions,
) -> Result<(Vec<u8>, Option<Usage>), ConvertError> {
    let resp = gemini::response_to_ir(serde_json::from_slice::<GenerateContentResponse>(body)?);
    let out = serde_json::to_vec(&openai::response_from_ir(&resp, opts))?;
    Ok((out, resp.usage))
}

/// An OpenAI `chat.completion` body → a Gemini response body, and the
/// normalised usage.
///
/// # Errors
/// Invalid JSON.
pub fn chat_response_to_gemini(
    body: &[u8],
    opts: &EncodeOptions,
) -> Result<(Vec<u8>, Option<Usage>), ConvertError> {
    let resp = openai::response_to_ir(serde_json::from_slice::<ChatCompletion>(body)?);
    let out = serde_json::to_vec(&gemini::response_from_ir(&resp, opts))?;
    Ok((out, resp.usage))
}

/// A Gemini response body → an Anthropic Messages response body, and the
/// normalised usage.
///
/// # Errors
/// Invalid JSON.
pub fn gemini_response_to_messages(
    body: &[u8],
    opts: &EncodeOptions,
) -> Result<(Vec<u8>, Option<Usage>), ConvertError> {
    let resp = gemini::response_to_ir(serde_json::from_slice::<GenerateContentResponse>(body)?);
    let out = serde_json::to_vec(&anthropic::response_from_ir(&resp, opts))?;
    Ok((out, resp.usage))
}

/// An Anthropic Messages response body → a Gemini response body, and the
/// normalised usage.
///
/// # Errors
/// Invalid JSON.
pub fn messages_response_to_gemini(
    body: &[u8],
    opts: &EncodeOptions,
) -> Result<(Vec<u8>, Option<Usage>), ConvertError> {
    let resp = anthropic::response_to_ir(serde_json::from_slice::<MessagesResponse>(body)?);
    let out = serde_json::to_vec(&gemini::response_from_ir(&resp, opts))?;
    Ok((out, resp.usage))
}

/// Any upstream error (Google, OpenAI or Anthropic shape, or raw text) →
/// Gemini error JSON for a Gemini client.
pub fn error_to_gemini(status: u16, body: &[u8]) -> Vec<u8> {
    let error = gemini::error_body_to_ir(status, body);
    serde_json::to_vec(&gemini::error_from_ir(&error)).unwrap_or_default()
}

/// An OpenAI-shaped (or any) upstream error → Gemini error JSON.
pub fn openai_error_to_gemini(status: u16, body: &[u8]) -> Vec<u8> {
    error_to_gemini(status, body)
}

/// An Anthropic-shaped (or any) upstream error → Gemini error JSON.
pub fn anthropic_error_to_gemini(status: u16, body: &[u8]) -> Vec<u8> {
    error_to_gemini(status, body)
}

/// A Google-shaped (or any) upstream error → OpenAI error JSON.
pub fn gemini_error_to_openai(status: u16, body: &[u8]) -> Vec<u8> {
    let error = gemini::error_body_to_ir(status, body);
    serde_json::to_vec(&openai::error_from_ir(&error)).unwrap_or_default()
}

/// A Google-shaped (or any) upstream error → Anthropic error JSON.
pub fn gemini_error_to_anthropic(status: u16, body: &[u8]) -> Vec<u8> {
    let error = gemini::error_body_to_ir(status, body);
    serde_json::to_vec(&anthropic::error_from_ir(&error)).unwrap_or_default()
}
