//! Request bodies: same-protocol patches and conversions through the
//! canonical request.

use bytes::Bytes;
use switchyard_protocol::anthropic::MessagesRequest;
use switchyard_protocol::convert::{
    self, AnthropicRequestOptions, ChatRequestOptions, ConvertError, GeminiRequestOptions,
    ResponsesRequestOptions,
};
use switchyard_protocol::gemini::GenerateContentRequest;
use switchyard_protocol::ir;
use switchyard_protocol::json::{ObjectScan, Patch, quote_str, scan_object, set_member};
use switchyard_protocol::openai::ChatRequest;
use switchyard_protocol::responses::ResponsesRequest;

use super::TranslateError;
use crate::relay::head::RequestHead;
use crate::relay::protocol::Protocol;

/// Per-channel switches for encoding a request in each upstream protocol.
#[derive(Debug, Clone, Default)]
pub struct UpstreamOptions {
    /// OpenAI Chat upstreams.
    pub chat: ChatRequestOptions,
    /// Anthropic upstreams.
    pub anthropic: AnthropicRequestOptions,
    /// Gemini upstreams.
    pub gemini: GeminiRequestOptions,
    /// Responses upstreams.
    pub responses: ResponsesRequestOptions,
}

/// The client's body as a canonical request, with the model and stream flag
/// the relay resolved (Gemini bodies name neither).
pub fn decode_request(
    client: Protocol,
    body: &[u8],
    head: &RequestHead,
    upstream_model: &str,
) -> Result<ir::Request, TranslateError> {
    let decoded = match client {
        Protocol::Chat => serde_json::from_slice::<ChatRequest>(body)
            .map_err(ConvertError::from)
            .and_then(convert::openai::request_to_ir),
        Protocol::Anthropic => serde_json::from_slice::<MessagesRequest>(body)
            .map_err(ConvertError::from)
            .and_then(convert::anthropic::request_to_ir),
        Protocol::Gemini => serde_json::from_slice::<GenerateContentRequest>(body)
            .map_err(ConvertError::from)
            .and_then(convert::gemini::request_to_ir),
        Protocol::Responses => serde_json::from_slice::<ResponsesRequest>(body)
            .map_err(ConvertError::from)
            .and_then(convert::responses::request_to_ir),
        other => {
            return Err(TranslateError::Unsupported {
                client: other,
                upstream: other,
            });
        }
    };
    let mut request = decoded.map_err(TranslateError::Request)?;
    upstream_model.clone_into(&mut request.model);
    request.stream = head.stream;
    if request.stream {
        request.include_usage = true;
    }
    Ok(request)
}

/// A canonical request as a body in the upstream's protocol.
pub fn encode_request(
    upstream: Protocol,
    request: &ir::Request,
    opts: &UpstreamOptions,
) -> Result<Bytes, TranslateError> {
    let encoded = match upstream {
        Protocol::Chat => {
            serde_json::to_vec(&convert::openai::request_from_ir(request, &opts.chat))
        }
        Protocol::Anthropic => serde_json::to_vec(&convert::anthropic::request_from_ir(
            request,
            &opts.anthropic,
        )),
        Protocol::Gemini => {
            serde_json::to_vec(&convert::gemini::request_from_ir(request, &opts.gemini))
        }
        Protocol::Responses => serde_json::to_vec(&convert::responses::request_from_ir(
            request,
            &opts.responses,
        )),
        other => {
            return Err(TranslateError::Unsupported {
                client: other,
                upstream: other,
            });
        }
    };
    encoded
        .map(Bytes::from)
        .map_err(|e| TranslateError::Request(ConvertError::from(e)))
}

/// The body for an upstream speaking the client's own protocol: the
/// original bytes, patched only where they must change.
pub fn same_protocol_body(
    protocol: Protocol,
    head: &RequestHead,
    body: &Bytes,
    upstream_model: &str,
) -> Result<Bytes, TranslateError> {
    if protocol == Protocol::GeminiBatchEmbed {
        return super::embed::batch_with_model(body, upstream_model);
    }
    head.upstream_body(protocol, body, upstream_model)
        .map_err(|e| TranslateError::Patch(e.message))
}

/// Replace the top-level `model` if it differs.
pub fn set_model(body: &Bytes, model: &str) -> Result<Bytes, TranslateError> {
    let scan = scan_object(body).map_err(|e| TranslateError::Patch(e.to_string()))?;
    set_model_in(body, &scan, model)
}

/// Replace the top-level `model` of `body`, whose top level `scan` holds,
/// if it differs.
pub fn set_model_in(body: &Bytes, scan: &ObjectScan, model: &str) -> Result<Bytes, TranslateError> {
    let same = scan
        .get(body, "model")
        .and_then(|m| m.read_str(body).ok())
        .is_some_and(|m| m == model);
    if same {
        return Ok(body.clone());
    }
    let mut patch = Patch::new();
    set_member(&mut patch, body, scan, "model", &quote_str(model));
    patch
        .apply(body)
        .map_err(|e| TranslateError::Patch(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::relay::head::{PathParams, parse_head};

    fn convert(
        client: Protocol,
        upstream: Protocol,
        body: &[u8],
        path: &PathParams,
    ) -> serde_json::Value {
        let head = parse_head(client, body, path).unwrap();
        let request = decode_request(client, body, &head, "up-model").unwrap();
        let out = encode_request(upstream, &request, &UpstreamOptions::default()).unwrap();
        serde_json::from_slice(&out).unwrap()
    }

    #[test]
    fn anthropic_to_chat() {
        let v = convert(
            Protocol::Anthropic,
            Protocol::Chat,
            br#"{"model":"claude-x","max_tokens":100,"system":"be brief","messages":[{"role":"user","content":"hi"}],"stream":true}"#,
            &PathParams::default(),
        );
        assert_eq!(v["model"], "up-model");
        assert_eq!(v["messages"][0]["role"], "system");
        assert_eq!(v["stream_options"]["include_usage"], true);
    }

    #[test]
    fn gemini_takes_model_and_stream_from_the_path() {
        let path = PathParams {
            model: Some("gemini-2.5-flash".into()),
            stream: true,
        };
        let v = convert(
            Protocol::Gemini,
            Protocol::Chat,
            br#"{"contents":[{"role":"user","parts":[{"text":"hi"}]}],"generationConfig":{"maxOutputTokens":50}}"#,
            &path,
        );
        assert_eq!(v["model"], "up-model");
        assert_eq!(v["stream"], true);
        assert_eq!(v["max_tokens"], 50);
        assert_eq!(v["messages"][0]["content"], "hi");
    }

    #[test]
    fn chat_to_gemini_and_responses() {
        let body = br#"{"model":"m","messages":[{"role":"system","content":"s"},{"role":"user","content":"hi"}]}"#;
        let v = convert(
            Protocol::Chat,
            Protocol::Gemini,
            body,
            &PathParams::default(),
        );
        assert_eq!(v["systemInstruction"]["parts"][0]["text"], "s");
        assert_eq!(v["contents"][0]["parts"][0]["text"], "hi");
        assert!(v.get("model").is_none());
        let v = convert(
            Protocol::Chat,
            Protocol::Responses,
            body,
            &PathParams::default(),
        );
        assert_eq!(v["model"], "up-model");
        assert_eq!(v["instructions"], "s");
    }

    #[test]
    fn passthrough_patches_model_only() {
        let body = Bytes::from_static(br#"{"model":"a","max_tokens":1,"messages":[]}"#);
        let same = set_model(&body, "a").unwrap();
        assert_eq!(same.as_ptr(), body.as_ptr());
        let other = set_model(&body, "b").unwrap();
        assert_eq!(&other[..], br#"{"model":"b","max_tokens":1,"messages":[]}"#);
    }
}
