//! Reading the few fields the gateway needs from a request body (any client
//! protocol), and patching a same-protocol body for the upstream, without
//! parsing the rest.

use bytes::Bytes;
use serde_json::Value;
use switchyard_protocol::json::{
    ObjectScan, Patch, ValueKind, ValueSpan, quote_str, scan_object, scan_object_at, set_member,
};

use super::protocol::Protocol;
use crate::error::ApiError;

/// The fields of a request body the relay reads.
#[derive(Debug, Clone)]
pub struct RequestHead {
    /// Requested model.
    pub model: String,
    /// Streamed response requested.
    pub stream: bool,
    /// The client itself asked for the usage chunk.
    pub client_include_usage: bool,
    /// End-user id (`user`, Anthropic `metadata.user_id`).
    pub user: String,
    /// `metadata` object, if any.
    pub metadata: Value,
    /// Responses: the stored response this request continues.
    pub previous_response_id: Option<String>,
    /// Responses: the answer is to be stored (the API's default).
    pub store: bool,
    /// The client's cap on output tokens, whatever its protocol calls it.
    pub max_output_tokens: Option<i64>,
    /// Requested service tier (`service_tier`), for pricing.
    pub service_tier: String,
    scan: ObjectScan,
}

/// What the URL says about the request (Gemini names the model and
/// streaming in the path, not the body).
#[derive(Debug, Clone, Default)]
pub struct PathParams {
    /// Model named by the path.
    pub model: Option<String>,
    /// The path asks for a stream (`:streamGenerateContent`).
    pub stream: bool,
}

fn field_error(field: &str, problem: &str) -> ApiError {
    ApiError::bad_request(format!("`{field}` {problem}")).with_code("invalid_value")
}

fn read_bool(body: &[u8], span: Option<ValueSpan>, field: &str) -> Result<bool, ApiError> {
    match span {
        None => Ok(false),
        Some(s) if s.kind == ValueKind::Null => Ok(false),
        Some(s) => s
            .read_bool(body)
            .map_err(|_| field_error(field, "must be a boolean")),
    }
}

fn read_string(body: &[u8], span: Option<ValueSpan>) -> Option<String> {
    span.filter(|s| s.kind == ValueKind::String)
        .and_then(|s| s.read_str(body).ok())
        .map(|s| s.into_owned())
}

/// The field each protocol requires, its accepted JSON kinds, and the
/// complaint when it has another kind.
fn required_field(
    protocol: Protocol,
) -> Option<(&'static str, &'static [ValueKind], &'static str)> {
    const ARRAY: &[ValueKind] = &[ValueKind::Array];
    const TEXT_OR_ARRAY: &[ValueKind] = &[ValueKind::String, ValueKind::Array];
    match protocol {
        Protocol::Chat | Protocol::Anthropic => {
            Some(("messages", ARRAY, "must be an array of messages"))
        }
        Protocol::Completions => Some(("prompt", TEXT_OR_ARRAY, "must be a string or an array")),
        Protocol::Embeddings => Some(("input", TEXT_OR_ARRAY, "must be a string or an array")),
        Protocol::Gemini => Some(("contents", ARRAY, "must be an array of contents")),
        Protocol::GeminiEmbed => {
            Some(("content", &[ValueKind::Object], "must be a content object"))
        }
        Protocol::GeminiBatchEmbed => Some(("requests", ARRAY, "must be an array of requests")),
        Protocol::Responses => None,
    }
}

fn scan_body(body: &[u8]) -> Result<ObjectScan, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(
            ApiError::bad_request("request body is empty; expected a JSON object")
                .with_code("invalid_json"),
        );
    }
    scan_object(body).map_err(|e| {
        ApiError::bad_request(format!("request body is not valid JSON: {e}"))
            .with_code("invalid_json")
    })
}

fn body_model(body: &[u8], scan: &ObjectScan) -> Result<String, ApiError> {
    let model = match scan.get(body, "model") {
        None => return Err(ApiError::bad_request("no model provided").with_code("missing_model")),
        Some(s) if s.kind != ValueKind::String => {
            return Err(field_error("model", "must be a string"));
        }
        Some(s) => s
            .read_str(body)
            .map_err(|_| field_error("model", "must be a string"))?
            .trim()
            .to_owned(),
    };
    if model.is_empty() {
        return Err(ApiError::bad_request("no model provided").with_code("missing_model"));
    }
    Ok(model)
}

fn include_usage(body: &[u8], scan: &ObjectScan) -> Result<bool, ApiError> {
    match scan.get(body, "stream_options") {
        None => Ok(false),
        Some(s) if s.kind == ValueKind::Null => Ok(false),
        Some(s) if s.kind == ValueKind::Object => {
            let options = scan_object_at(body, &s)
                .map_err(|_| field_error("stream_options", "must be an object"))?;
            read_bool(
                body,
                options.get(body, "include_usage"),
                "stream_options.include_usage",
            )
        }
        Some(_) => Err(field_error("stream_options", "must be an object")),
    }
}

/// The output cap under any protocol's name for it (OpenAI `max_tokens` /
/// `max_completion_tokens`, Responses `max_output_tokens`, Anthropic
/// `max_tokens`, Gemini `generationConfig.maxOutputTokens`). Only used for
/// reservations, so a malformed value is ignored rather than refused.
fn max_output_tokens(body: &[u8], scan: &ObjectScan) -> Option<i64> {
    let top = ["max_completion_tokens", "max_tokens", "max_output_tokens"]
        .into_iter()
        .find_map(|field| scan.get(body, field).and_then(|s| s.read_i64(body).ok()));
    let value = top.or_else(|| {
        let config = scan.get(body, "generationConfig")?;
        let config = scan_object_at(body, &config).ok()?;
        config.get(body, "maxOutputTokens")?.read_i64(body).ok()
    })?;
    (value > 0).then_some(value)
}

/// Parse and check the head of a request body for a `protocol` client.
pub fn parse_head(
    protocol: Protocol,
    body: &[u8],
    path: &PathParams,
) -> Result<RequestHead, ApiError> {
    let scan = scan_body(body)?;
    let model = match &path.model {
        Some(model) if !model.trim().is_empty() => model.trim().to_owned(),
        _ => body_model(body, &scan)?,
    };
    if let Some((field, kinds, problem)) = required_field(protocol) {
        match scan.get(body, field) {
            Some(s) if kinds.contains(&s.kind) => {}
            Some(_) => return Err(field_error(field, problem)),
            None => return Err(field_error(field, "is required")),
        }
    }
    let stream = path.stream || read_bool(body, scan.get(body, "stream"), "stream")?;
    let client_include_usage = include_usage(body, &scan)?;
    let metadata = match scan.get(body, "metadata") {
        Some(s) if s.kind == ValueKind::Object => s
            .raw(body)
            .ok()
            .and_then(|raw| serde_json::from_slice(raw).ok())
            .unwrap_or(Value::Null),
        _ => Value::Null,
    };
    let mut user = read_string(body, scan.get(body, "user")).unwrap_or_default();
    if user.is_empty() && protocol == Protocol::Anthropic {
        user = metadata
            .get("user_id")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
    }
    let (previous_response_id, store) = if protocol == Protocol::Responses {
        let store = match scan.get(body, "store") {
            Some(s) if s.kind != ValueKind::Null => read_bool(body, Some(s), "store")?,
            _ => true,
        };
        (
            read_string(body, scan.get(body, "previous_response_id")),
            store,
        )
    } else {
        (None, false)
    };
    let max_output_tokens = max_output_tokens(body, &scan);
    let service_tier = read_string(body, scan.get(body, "service_tier")).unwrap_or_default();
    Ok(RequestHead {
        model,
        stream,
        client_include_usage,
        user,
        metadata,
        previous_response_id,
        store,
        max_output_tokens,
        service_tier,
        scan,
    })
}

impl RequestHead {
    /// The body to send to an upstream speaking the client's own protocol:
    /// `model` replaced by the upstream name (where the body names it) and,
    /// for OpenAI streams, `stream_options.include_usage` forced on. The
    /// original bytes are reused when nothing changes; otherwise one copy
    /// is made.
    pub fn upstream_body(
        &self,
        protocol: Protocol,
        body: &Bytes,
        upstream_model: &str,
    ) -> Result<Bytes, ApiError> {
        let mut patch = Patch::new();
        let names_model = !matches!(
            protocol,
            Protocol::Gemini | Protocol::GeminiEmbed | Protocol::GeminiBatchEmbed
        );
        let usage_option = matches!(protocol, Protocol::Chat | Protocol::Completions);
        let body_model = read_string(body, self.scan.get(body, "model"));
        if names_model && body_model.as_deref() != Some(upstream_model) {
            set_member(
                &mut patch,
                body,
                &self.scan,
                "model",
                &quote_str(upstream_model),
            );
        }
        if usage_option && self.stream && !self.client_include_usage {
            match self.scan.get(body, "stream_options") {
                Some(s) if s.kind == ValueKind::Object => {
                    let options = scan_object_at(body, &s)
                        .map_err(|_| field_error("stream_options", "must be an object"))?;
                    set_member(&mut patch, body, &options, "include_usage", b"true");
                }
                _ => set_member(
                    &mut patch,
                    body,
                    &self.scan,
                    "stream_options",
                    br#"{"include_usage":true}"#,
                ),
            }
        }
        if patch.is_empty() {
            return Ok(body.clone());
        }
        patch
            .apply(body)
            .map_err(|e| ApiError::bad_request(format!("request body cannot be rewritten: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json(b: &Bytes) -> Value {
        serde_json::from_slice(b).unwrap()
    }

    #[test]
    fn reads_fields() {
        let h = parse_head(
            Protocol::Chat,
            br#"{"model":"m","stream":true,"stream_options":{"include_usage":true},"user":"u","messages":[]}"#,
            &PathParams::default(),
        )
        .unwrap();
        assert_eq!(
            (
                h.model.as_str(),
                h.stream,
                h.client_include_usage,
                h.user.as_str()
            ),
            ("m", true, true, "u")
        );
    }

    #[test]
    fn client_mistakes_are_400_naming_the_field() {
        for (body, needle) in [
            (&br#"{"model":"m","messages":[]"#[..], "not valid JSON"),
            (br#"[1]"#, "not valid JSON"),
            (br#"{"messages":[]}"#, "no model"),
            (br#"{"model":1,"messages":[]}"#, "`model`"),
            (br#"{"model":"m","messages":[],"stream":"yes"}"#, "`stream`"),
            (br#"{"model":"m"}"#, "`messages`"),
            (br#"{"model":"m","messages":{}}"#, "`messages`"),
            (b"   ", "empty"),
        ] {
            let e = parse_head(Protocol::Chat, body, &PathParams::default()).unwrap_err();
            assert_eq!(e.status, 400);
            assert!(e.message.contains(needle), "{} vs {needle}", e.message);
        }
    }

    #[test]
    fn anthropic_head() {
        let h = parse_head(
            Protocol::Anthropic,
            br#"{"model":"claude","max_tokens":5,"messages":[],"stream":true,"metadata":{"user_id":"u7"}}"#,
            &PathParams::default(),
        )
        .unwrap();
        assert_eq!(
            (h.model.as_str(), h.stream, h.user.as_str()),
            ("claude", true, "u7")
        );
        let e = parse_head(
            Protocol::Anthropic,
            br#"{"model":"claude","max_tokens":5}"#,
            &PathParams::default(),
        )
        .unwrap_err();
        assert!(e.message.contains("`messages`"));
    }

    #[test]
    fn gemini_and_responses_heads() {
        let path = PathParams {
            model: Some("gemini-2.5-pro".into()),
            stream: true,
        };
        let h = parse_head(Protocol::Gemini, br#"{"contents":[]}"#, &path).unwrap();
        assert_eq!((h.model.as_str(), h.stream), ("gemini-2.5-pro", true));
        let e = parse_head(Protocol::Gemini, br#"{"contents":{}}"#, &path).unwrap_err();
        assert!(e.message.contains("`contents`"));
        let body = Bytes::from_static(br#"{"contents":[]}"#);
        let h = parse_head(Protocol::Gemini, &body, &path).unwrap();
        let same = h.upstream_body(Protocol::Gemini, &body, "other").unwrap();
        assert_eq!(
            same.as_ptr(),
            body.as_ptr(),
            "Gemini bodies do not name the model"
        );

        let none = PathParams::default();
        let h = parse_head(
            Protocol::Responses,
            br#"{"model":"gpt-5","input":"hi","previous_response_id":"resp_1"}"#,
            &none,
        )
        .unwrap();
        assert_eq!(h.previous_response_id.as_deref(), Some("resp_1"));
        assert!(h.store, "store defaults to true");
        let h = parse_head(
            Protocol::Responses,
            br#"{"model":"gpt-5","input":"hi","store":false,"stream":true}"#,
            &none,
        )
        .unwrap();
        assert!(!h.store && h.stream);
        let body = Bytes::from_static(br#"{"model":"a","input":"x","stream":true}"#);
        let h = parse_head(Protocol::Responses, &body, &none).unwrap();
        let v = json(&h.upstream_body(Protocol::Responses, &body, "b").unwrap());
        assert_eq!(v["model"], "b");
        assert!(
            v.get("stream_options").is_none(),
            "Responses has no stream_options"
        );
    }

    #[test]
    fn patches_model_and_usage_only_when_needed() {
        let body = Bytes::from_static(br#"{"model":"a","messages":[],"stream":false}"#);
        let h = parse_head(Protocol::Chat, &body, &PathParams::default()).unwrap();
        let same = h.upstream_body(Protocol::Chat, &body, "a").unwrap();
        assert_eq!(same.as_ptr(), body.as_ptr(), "no copy when unchanged");
        assert_eq!(
            json(&h.upstream_body(Protocol::Chat, &body, "b").unwrap())["model"],
            "b"
        );

        let body = Bytes::from_static(br#"{"model":"a","messages":[],"stream":true}"#);
        let h = parse_head(Protocol::Chat, &body, &PathParams::default()).unwrap();
        let v = json(&h.upstream_body(Protocol::Chat, &body, "a").unwrap());
        assert_eq!(v["stream_options"]["include_usage"], true);

        let body = Bytes::from_static(
            br#"{"model":"a","messages":[],"stream":true,"stream_options":{"x":1}}"#,
        );
        let h = parse_head(Protocol::Chat, &body, &PathParams::default()).unwrap();
        let v = json(&h.upstream_body(Protocol::Chat, &body, "b").unwrap());
        assert_eq!(
            v["stream_options"],
            serde_json::json!({"x":1,"include_usage":true})
        );
        assert_eq!(v["model"], "b");
    }
}
