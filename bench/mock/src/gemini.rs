//! Gemini `generateContent` / `streamGenerateContent` shapes.
//!
//! A stream is `max(chunks, 1)` `GenerateContentResponse` records, the last one with
//! `finishReason` and `usageMetadata`. With `alt=sse` each record is an SSE `data:`
//! event ended by `\r\n\r\n` (as Gemini does); otherwise the records form a JSON array.

use bytes::Bytes;

use crate::ctx::{Ctx, JsonOut};
use crate::sse::{Framing, StreamBuilder, StreamPlan};

/// Parses `/v1beta/models/{model}:{action}` (also `/v1/…`, `/v1alpha/…`) into the model
/// and whether the action streams. Unknown actions yield `None`.
pub fn parse_path(path: &str) -> Option<(&str, bool)> {
    let rest = ["/v1beta/models/", "/v1/models/", "/v1alpha/models/"]
        .iter()
        .find_map(|p| path.strip_prefix(p))?;
    let (model, action) = rest.rsplit_once(':')?;
    let stream = match action {
        "generateContent" => false,
        "streamGenerateContent" => true,
        _ => return None,
    };
    let safe = !model.is_empty()
        && model
            .bytes()
            .all(|b| b.is_ascii_graphic() && b != b'"' && b != b'\\');
    Some((if safe { model } else { "mock-model" }, stream))
}

fn candidate(o: &mut Vec<u8>, text: &[u8], last: bool) {
    o.put("{\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"")
        .put_bytes(text)
        .put("\"}],\"role\":\"model\"},");
    if last {
        o.put("\"finishReason\":\"STOP\",");
    }
    o.put("\"index\":0}]");
}

fn usage_and_tail(o: &mut Vec<u8>, ctx: &Ctx<'_>, usage: bool) {
    if usage {
        let c = ctx.completion_tokens();
        o.put(",\"usageMetadata\":{\"promptTokenCount\":")
            .num(ctx.prompt_tokens)
            .put(",\"candidatesTokenCount\":")
            .num(c)
            .put(",\"totalTokenCount\":")
            .num(ctx.prompt_tokens + c)
            .put("}");
    }
    o.put(",\"modelVersion\":\"")
        .put(ctx.model)
        .put("\",\"responseId\":\"mock-")
        .num(ctx.id)
        .put("\"}");
}

/// A non-streamed `GenerateContentResponse`.
pub fn generate_json(ctx: &Ctx<'_>) -> Bytes {
    let mut o = Vec::with_capacity(ctx.text.len() + 256);
    candidate(&mut o, &ctx.text, true);
    usage_and_tail(&mut o, ctx, true);
    Bytes::from(o)
}

/// A streamed response, SSE (`alt=sse`) or JSON-array framed.
pub fn generate_stream(ctx: &Ctx<'_>, sse: bool) -> StreamPlan {
    let framing = if sse {
        Framing::SseCrlf
    } else {
        Framing::JsonArray
    };
    let n = ctx.chunks.max(1);
    let mut b = StreamBuilder::new(framing, n, 160 + ctx.text.len() / n);
    for i in 0..n {
        let last = i + 1 == n;
        b.event(None, ctx.chunks > 0, |o| {
            candidate(o, ctx.chunk(i), last);
            usage_and_tail(o, ctx, last);
        });
    }
    b.finish()
}

/// A Gemini-shaped error body.
pub fn error_json(status: u16) -> Bytes {
    let kind = match status {
        400 => "INVALID_ARGUMENT",
        401 => "UNAUTHENTICATED",
        403 => "PERMISSION_DENIED",
        404 => "NOT_FOUND",
        429 => "RESOURCE_EXHAUSTED",
        503 => "UNAVAILABLE",
        504 => "DEADLINE_EXCEEDED",
        _ => "INTERNAL",
    };
    let mut o = Vec::with_capacity(128);
    o.put("{\"error\":{\"code\":")
        .num(u64::from(status))
        .put(",\"message\":\"mock injected error\",\"status\":\"")
        .put(kind)
        .put("\"}}");
    Bytes::from(o)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text;
    use serde_json::Value;

    fn ctx(chunks: usize) -> Ctx<'static> {
        Ctx {
            model: "gemini-x",
            id: 2,
            created: 1,
            prompt_tokens: 4,
            text: text::generate(30),
            chunks,
            include_usage: false,
        }
    }

    #[test]
    fn paths() {
        assert_eq!(
            parse_path("/v1beta/models/gemini-2.0-flash:generateContent"),
            Some(("gemini-2.0-flash", false))
        );
        assert_eq!(
            parse_path("/v1/models/g:streamGenerateContent"),
            Some(("g", true))
        );
        assert_eq!(parse_path("/v1beta/models/g:countTokens"), None);
        assert_eq!(parse_path("/v1/chat/completions"), None);
    }

    #[test]
    fn sse_stream_has_usage_on_last_record_only() {
        let plan = generate_stream(&ctx(3), true);
        let text = String::from_utf8_lossy(plan.bytes()).into_owned();
        assert!(text.ends_with("}\r\n\r\n"));
        let records: Vec<Value> = text
            .split("\r\n\r\n")
            .filter(|s| !s.is_empty())
            .map(|s| serde_json::from_str(s.trim_start_matches("data: ")).unwrap_or_default())
            .collect();
        assert_eq!(records.len(), 3);
        assert!(
            records[..2]
                .iter()
                .all(|r| r.get("usageMetadata").is_none())
        );
        assert_eq!(records[2]["usageMetadata"]["totalTokenCount"], 4 + 8);
        assert_eq!(records[2]["candidates"][0]["finishReason"], "STOP");
    }

    #[test]
    fn array_stream_and_json_are_valid() {
        let v: Value =
            serde_json::from_slice(generate_stream(&ctx(3), false).bytes()).unwrap_or_default();
        assert_eq!(v.as_array().map(Vec::len), Some(3));
        let v: Value =
            serde_json::from_slice(generate_stream(&ctx(0), false).bytes()).unwrap_or_default();
        assert_eq!(v.as_array().map(Vec::len), Some(1));
        let v: Value = serde_json::from_slice(&generate_json(&ctx(1))).unwrap_or_default();
        assert_eq!(v["usageMetadata"]["candidatesTokenCount"], 8);
        let e: Value = serde_json::from_slice(&error_json(429)).unwrap_or_default();
        assert_eq!(e["error"]["status"], "RESOURCE_EXHAUSTED");
    }
}
