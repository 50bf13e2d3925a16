//! Whole (non-stream) answers: inspected in place when both sides speak the
//! same protocol, converted through the canonical response otherwise.

use bytes::Bytes;
use switchyard_protocol::Usage;
use switchyard_protocol::anthropic::MessagesResponse;
use switchyard_protocol::convert::{self, ConvertError, EncodeOptions};
use switchyard_protocol::gemini::GenerateContentResponse;
use switchyard_protocol::inspect::ResponseFacts;
use switchyard_protocol::ir;
use switchyard_protocol::json::{ObjectScan, ValueKind, scan_object};
use switchyard_protocol::openai::{ChatCompletion, OpenAiUsage};
use switchyard_protocol::responses::ResponseObject;

use super::TranslateError;
use super::request::{set_model, set_model_in};
use crate::relay::events::error_message;
use crate::relay::protocol::Protocol;

/// A whole answer, ready for the client.
#[derive(Debug)]
pub struct Answer {
    /// Body for the client.
    pub body: Bytes,
    /// Usage the upstream reported.
    pub usage: Option<Usage>,
    /// Upstream response id.
    pub upstream_id: String,
}

/// What the relay tells a response conversion.
#[derive(Debug, Clone, Copy)]
pub struct AnswerContext<'a> {
    /// The model name the client asked for.
    pub requested_model: &'a str,
    /// Unix seconds, for dialects that carry a creation time.
    pub created: i64,
    /// An OpenAI embeddings client asked for `encoding_format: base64`.
    pub embedding_base64: bool,
}

/// What an upstream answered with status 200: an answer, or an error
/// object in its place (some providers do that).
pub type Inspected = Result<Answer, String>;

/// An upstream's whole answer for the client. `Ok(Err(message))` is an
/// error object sent with status 200.
pub fn convert_answer(
    client: Protocol,
    upstream: Protocol,
    body: Bytes,
    ctx: &AnswerContext<'_>,
) -> Result<Inspected, TranslateError> {
    if client == upstream && openai_shaped(upstream) {
        return openai_same_protocol(body, ctx.requested_model);
    }
    if let Some(message) = error_in_answer(upstream, &body) {
        return Ok(Err(message));
    }
    if client == upstream {
        return same_protocol(client, body, ctx.requested_model).map(Ok);
    }
    if client.is_embedding() || upstream.is_embedding() {
        return super::embed::convert_answer(client, upstream, &body, ctx).map(Ok);
    }
    let response = decode_response(upstream, &body).map_err(TranslateError::Response)?;
    let opts = EncodeOptions {
        model: Some(ctx.requested_model.to_owned()),
        created: ctx.created,
        include_usage: false,
        estimated_input_tokens: None,
    };
    let encoded = encode_response(client, &response, &opts).map_err(TranslateError::Response)?;
    Ok(Ok(Answer {
        body: Bytes::from(encoded),
        usage: response.usage,
        upstream_id: response.id,
    }))
}

/// The message of an error object an upstream answered with status 200.
fn error_in_answer(upstream: Protocol, body: &[u8]) -> Option<String> {
    match upstream {
        Protocol::Anthropic => convert::anthropic::inspect::inspect_response(body).error,
        Protocol::Gemini => convert::gemini::inspect::inspect_response(body).error,
        Protocol::Responses => convert::responses::inspect::inspect_response(body).error,
        _ => openai_error_with_200(body),
    }
}

/// Answers in OpenAI's shapes (chat, completions, embeddings).
fn openai_shaped(protocol: Protocol) -> bool {
    matches!(
        protocol,
        Protocol::Chat | Protocol::Completions | Protocol::Embeddings
    )
}

/// A same-protocol OpenAI answer, inspected with one scan of its top level:
/// an error object in its place, else usage, id and `model` rewritten to
/// the requested name (every other byte kept).
fn openai_same_protocol(body: Bytes, requested_model: &str) -> Result<Inspected, TranslateError> {
    let Ok(scan) = scan_object(&body) else {
        return Ok(Ok(Answer {
            body,
            usage: None,
            upstream_id: String::new(),
        }));
    };
    if let Some(message) = error_object(&body, &scan) {
        return Ok(Err(message));
    }
    let facts = openai_facts(&body, &scan);
    let names_model = scan
        .get(&body, "model")
        .is_some_and(|m| m.kind == ValueKind::String);
    let body = if names_model {
        set_model_in(&body, &scan, requested_model)?
    } else {
        body
    };
    Ok(Ok(Answer {
        body,
        usage: facts.usage,
        upstream_id: facts.upstream_id.unwrap_or_default(),
    }))
}

/// The message of an OpenAI-shaped error object answered with status 200.
pub fn openai_error_with_200(body: &[u8]) -> Option<String> {
    let scan = scan_object(body).ok()?;
    error_object(body, &scan)
}

/// The message of the top-level `error` object of an answer that has no
/// `choices` or `data`.
fn error_object(body: &[u8], scan: &ObjectScan) -> Option<String> {
    let error = scan
        .get(body, "error")
        .filter(|e| e.kind == ValueKind::Object)?;
    if scan.get(body, "choices").is_some() || scan.get(body, "data").is_some() {
        return None;
    }
    let value: serde_json::Value = error
        .raw(body)
        .ok()
        .and_then(|r| serde_json::from_slice(r).ok())
        .unwrap_or_default();
    Some(error_message(&value))
}

/// A same-protocol answer in a dialect other than OpenAI's (those are
/// [`openai_same_protocol`]'s): usage and id read, `model` rewritten to
/// the requested name where the body carries it, every other byte kept.
fn same_protocol(
    protocol: Protocol,
    body: Bytes,
    requested_model: &str,
) -> Result<Answer, TranslateError> {
    let facts = match protocol {
        Protocol::Anthropic => convert::anthropic::inspect::inspect_response(&body),
        Protocol::Responses => convert::responses::inspect::inspect_response(&body),
        Protocol::Gemini => convert::gemini::inspect::inspect_response(&body),
        _ => ResponseFacts::default(),
    };
    let rewrites_model = !matches!(
        protocol,
        Protocol::Gemini | Protocol::GeminiEmbed | Protocol::GeminiBatchEmbed
    );
    let body = if rewrites_model && names_model(&body) {
        set_model(&body, requested_model)?
    } else {
        body
    };
    Ok(Answer {
        body,
        usage: facts.usage,
        upstream_id: facts.upstream_id.unwrap_or_default(),
    })
}

/// Whether the body has a string `model` at the top level.
fn names_model(body: &[u8]) -> bool {
    scan_object(body)
        .ok()
        .and_then(|scan| scan.get(body, "model"))
        .is_some_and(|m| m.kind == ValueKind::String)
}

/// Usage and id of an OpenAI answer (chat, completion, embeddings).
fn openai_facts(body: &[u8], scan: &ObjectScan) -> ResponseFacts {
    let usage = scan
        .get(body, "usage")
        .filter(|u| u.kind == ValueKind::Object)
        .and_then(|u| u.raw(body).ok())
        .and_then(|raw| serde_json::from_slice::<OpenAiUsage>(raw).ok())
        .map(|u| u.to_usage());
    let upstream_id = scan
        .get(body, "id")
        .and_then(|v| v.read_str(body).ok())
        .map(|s| s.into_owned());
    ResponseFacts {
        usage,
        upstream_id,
        error: None,
    }
}

fn decode_response(upstream: Protocol, body: &[u8]) -> Result<ir::Response, ConvertError> {
    Ok(match upstream {
        Protocol::Chat => {
            convert::openai::response_to_ir(serde_json::from_slice::<ChatCompletion>(body)?)
        }
        Protocol::Anthropic => {
            convert::anthropic::response_to_ir(serde_json::from_slice::<MessagesResponse>(body)?)
        }
        Protocol::Gemini => convert::gemini::response_to_ir(serde_json::from_slice::<
            GenerateContentResponse,
        >(body)?),
        Protocol::Responses => {
            convert::responses::response_to_ir(serde_json::from_slice::<ResponseObject>(body)?)
        }
        other => return Err(ConvertError::Unsupported(format!("{other:?} answers"))),
    })
}

fn encode_response(
    client: Protocol,
    response: &ir::Response,
    opts: &EncodeOptions,
) -> Result<Vec<u8>, ConvertError> {
    Ok(match client {
        Protocol::Chat => serde_json::to_vec(&convert::openai::response_from_ir(response, opts))?,
        Protocol::Anthropic => {
            serde_json::to_vec(&convert::anthropic::response_from_ir(response, opts))?
        }
        Protocol::Gemini => serde_json::to_vec(&convert::gemini::response_from_ir(response, opts))?,
        Protocol::Responses => {
            serde_json::to_vec(&convert::responses::response_from_ir(response, opts))?
        }
        other => return Err(ConvertError::Unsupported(format!("{other:?} answers"))),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const CTX: AnswerContext<'static> = AnswerContext {
        requested_model: "asked",
        created: 9,
        embedding_base64: false,
    };

    fn answer(client: Protocol, upstream: Protocol, body: &'static [u8]) -> Answer {
        convert_answer(client, upstream, Bytes::from_static(body), &CTX)
            .unwrap()
            .unwrap()
    }

    #[test]
    fn chat_answer_for_anthropic_gemini_and_responses_clients() {
        let body = br#"{"id":"c1","object":"chat.completion","created":1,"model":"up","choices":[{"index":0,"message":{"role":"assistant","content":"yo"},"finish_reason":"stop"}],"usage":{"prompt_tokens":5,"completion_tokens":2,"total_tokens":7}}"#;
        let a = answer(Protocol::Anthropic, Protocol::Chat, body);
        let v: serde_json::Value = serde_json::from_slice(&a.body).unwrap();
        assert_eq!(
            (v["type"].as_str(), v["model"].as_str()),
            (Some("message"), Some("asked"))
        );
        assert_eq!(v["content"][0]["text"], "yo");
        assert_eq!(
            (a.usage.unwrap().total_tokens, a.upstream_id.as_str()),
            (7, "c1")
        );
        let g: serde_json::Value =
            serde_json::from_slice(&answer(Protocol::Gemini, Protocol::Chat, body).body).unwrap();
        assert_eq!(g["candidates"][0]["content"]["parts"][0]["text"], "yo");
        assert_eq!(g["usageMetadata"]["totalTokenCount"], 7);
        let r: serde_json::Value =
            serde_json::from_slice(&answer(Protocol::Responses, Protocol::Chat, body).body)
                .unwrap();
        assert_eq!(r["object"], "response");
        assert_eq!(r["output"][0]["content"][0]["text"], "yo");
    }

    #[test]
    fn same_protocol_keeps_bytes_and_rewrites_model() {
        let a = answer(
            Protocol::Chat,
            Protocol::Chat,
            br#"{"id":"x1","model":"up","choices":[],"usage":{"prompt_tokens":3,"completion_tokens":4,"total_tokens":7}}"#,
        );
        let v: serde_json::Value = serde_json::from_slice(&a.body).unwrap();
        assert_eq!(v["model"], "asked");
        assert_eq!(a.usage.unwrap().total_tokens, 7);
        let body = br#"{"candidates":[],"usageMetadata":{"promptTokenCount":3,"candidatesTokenCount":2,"totalTokenCount":5},"modelVersion":"gemini-x"}"#;
        let a = answer(Protocol::Gemini, Protocol::Gemini, body);
        assert_eq!(
            &a.body[..],
            &body[..],
            "Gemini answers are forwarded untouched"
        );
        assert_eq!(a.usage.unwrap().input_tokens, 3);
    }

    #[test]
    fn errors_with_200_are_reported() {
        for (upstream, body) in [
            (
                Protocol::Anthropic,
                &br#"{"type":"error","error":{"type":"overloaded_error","message":"busy"}}"#[..],
            ),
            (Protocol::Chat, br#"{"error":{"message":"busy"}}"#),
            (
                Protocol::Gemini,
                br#"{"error":{"code":503,"message":"busy","status":"UNAVAILABLE"}}"#,
            ),
        ] {
            let r =
                convert_answer(Protocol::Chat, upstream, Bytes::from_static(body), &CTX).unwrap();
            assert_eq!(r.unwrap_err(), "busy", "{upstream:?}");
        }
        assert!(openai_error_with_200(br#"{"error":{},"choices":[]}"#).is_none());
    }
}
