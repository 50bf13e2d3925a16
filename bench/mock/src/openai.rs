//! OpenAI shapes: chat completions, legacy completions, embeddings and errors.
//!
//! Chat stream events: role chunk, `chunks` content chunks, finish chunk, a usage chunk
//! (`"choices":[]`) only when `stream_options.include_usage` is true, then `[DONE]`.
//! Legacy completions stream: content chunks, finish chunk, optional usage, `[DONE]`.

use bytes::Bytes;

use crate::ctx::{Ctx, JsonOut};
use crate::sse::{Framing, StreamBuilder, StreamPlan};

fn usage(out: &mut Vec<u8>, ctx: &Ctx<'_>) {
    let c = ctx.completion_tokens();
    out.put("{\"prompt_tokens\":")
        .num(ctx.prompt_tokens)
        .put(",\"completion_tokens\":")
        .num(c)
        .put(",\"total_tokens\":")
        .num(ctx.prompt_tokens + c)
        .put("}");
}

fn head(ctx: &Ctx<'_>, id_prefix: &str, object: &str) -> Vec<u8> {
    let mut h = Vec::with_capacity(128);
    h.put("{\"id\":\"")
        .put(id_prefix)
        .num(ctx.id)
        .put("\",\"object\":\"")
        .put(object)
        .put("\",\"created\":")
        .num(ctx.created)
        .put(",\"model\":\"")
        .put(ctx.model)
        .put("\",");
    h
}

/// A non-streamed chat completion.
pub fn chat_json(ctx: &Ctx<'_>) -> Bytes {
    let mut o = head(ctx, "chatcmpl-mock-", "chat.completion");
    o.reserve(ctx.text.len() + 256);
    o.put("\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\"")
        .put_bytes(&ctx.text)
        .put("\",\"refusal\":null},\"logprobs\":null,\"finish_reason\":\"stop\"}],\"usage\":");
    usage(&mut o, ctx);
    o.put(",\"system_fingerprint\":null}");
    Bytes::from(o)
}

/// A streamed chat completion.
pub fn chat_stream(ctx: &Ctx<'_>) -> StreamPlan {
    let head = head(ctx, "chatcmpl-mock-", "chat.completion.chunk");
    let tail: &str = if ctx.include_usage {
        ",\"usage\":null}"
    } else {
        "}"
    };
    let per_event = head.len() + 96 + ctx.text.len() / ctx.chunks.max(1);
    let mut b = StreamBuilder::new(Framing::Sse, ctx.chunks + 4, per_event);
    b.event(None, false, |o| {
        o.put_bytes(&head)
            .put("\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\",\"refusal\":null},\"logprobs\":null,\"finish_reason\":null}]")
            .put(tail);
    });
    for i in 0..ctx.chunks {
        b.event(None, true, |o| {
            o.put_bytes(&head)
                .put("\"choices\":[{\"index\":0,\"delta\":{\"content\":\"")
                .put_bytes(ctx.chunk(i))
                .put("\"},\"logprobs\":null,\"finish_reason\":null}]")
                .put(tail);
        });
    }
    b.event(None, false, |o| {
        o.put_bytes(&head)
            .put("\"choices\":[{\"index\":0,\"delta\":{},\"logprobs\":null,\"finish_reason\":\"stop\"}]")
            .put(tail);
    });
    if ctx.include_usage {
        b.event(None, false, |o| {
            o.put_bytes(&head).put("\"choices\":[],\"usage\":");
            usage(o, ctx);
            o.put("}");
        });
    }
    b.event(None, false, |o| {
        o.put("[DONE]");
    });
    b.finish()
}

/// A non-streamed legacy completion.
pub fn completion_json(ctx: &Ctx<'_>) -> Bytes {
    let mut o = head(ctx, "cmpl-mock-", "text_completion");
    o.reserve(ctx.text.len() + 192);
    o.put("\"choices\":[{\"text\":\"")
        .put_bytes(&ctx.text)
        .put("\",\"index\":0,\"logprobs\":null,\"finish_reason\":\"stop\"}],\"usage\":");
    usage(&mut o, ctx);
    o.put("}");
    Bytes::from(o)
}

/// A streamed legacy completion.
pub fn completion_stream(ctx: &Ctx<'_>) -> StreamPlan {
    let head = head(ctx, "cmpl-mock-", "text_completion");
    let tail: &str = if ctx.include_usage {
        ",\"usage\":null}"
    } else {
        "}"
    };
    let per_event = head.len() + 80 + ctx.text.len() / ctx.chunks.max(1);
    let mut b = StreamBuilder::new(Framing::Sse, ctx.chunks + 3, per_event);
    for i in 0..ctx.chunks {
        b.event(None, true, |o| {
            o.put_bytes(&head)
                .put("\"choices\":[{\"text\":\"")
                .put_bytes(ctx.chunk(i))
                .put("\",\"index\":0,\"logprobs\":null,\"finish_reason\":null}]")
                .put(tail);
        });
    }
    b.event(None, false, |o| {
        o.put_bytes(&head)
            .put("\"choices\":[{\"text\":\"\",\"index\":0,\"logprobs\":null,\"finish_reason\":\"stop\"}]")
            .put(tail);
    });
    if ctx.include_usage {
        b.event(None, false, |o| {
            o.put_bytes(&head).put("\"choices\":[],\"usage\":");
            usage(o, ctx);
            o.put("}");
        });
    }
    b.event(None, false, |o| {
        o.put("[DONE]");
    });
    b.finish()
}

/// An embeddings response with `inputs` identical vectors. `vector` is either a JSON
/// array or (when `base64`) base64 text that is written inside quotes.
pub fn embeddings_json(ctx: &Ctx<'_>, inputs: usize, vector: &[u8], base64: bool) -> Bytes {
    let mut o = Vec::with_capacity(inputs * (vector.len() + 48) + 160);
    o.put("{\"object\":\"list\",\"data\":[");
    for i in 0..inputs {
        if i > 0 {
            o.put(",");
        }
        o.put("{\"object\":\"embedding\",\"index\":")
            .num(i as u64)
            .put(",\"embedding\":");
        if base64 {
            o.put("\"").put_bytes(vector).put("\"");
        } else {
            o.put_bytes(vector);
        }
        o.put("}");
    }
    o.put("],\"model\":\"")
        .put(ctx.model)
        .put("\",\"usage\":{\"prompt_tokens\":")
        .num(ctx.prompt_tokens)
        .put(",\"total_tokens\":")
        .num(ctx.prompt_tokens)
        .put("}}");
    Bytes::from(o)
}

/// An OpenAI-shaped error body.
pub fn error_json(status: u16) -> Bytes {
    let kind = match status {
        429 => "rate_limit_exceeded",
        401 => "authentication_error",
        400..=499 => "invalid_request_error",
        _ => "server_error",
    };
    let mut o = Vec::with_capacity(128);
    o.put("{\"error\":{\"message\":\"mock injected error (status ")
        .num(u64::from(status))
        .put(")\",\"type\":\"")
        .put(kind)
        .put("\",\"param\":null,\"code\":\"mock_error\"}}");
    Bytes::from(o)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text;
    use serde_json::Value;

    fn ctx(include_usage: bool) -> Ctx<'static> {
        Ctx {
            model: "gpt-x",
            id: 7,
            created: 1,
            prompt_tokens: 10,
            text: text::generate(100),
            chunks: 5,
            include_usage,
        }
    }

    fn events(plan: &StreamPlan) -> Vec<String> {
        String::from_utf8_lossy(plan.bytes())
            .split("\n\n")
            .filter(|s| !s.is_empty())
            .map(|s| s.trim_start_matches("data: ").to_string())
            .collect()
    }

    #[test]
    fn chat_json_is_valid() {
        let v: Value = serde_json::from_slice(&chat_json(&ctx(false))).unwrap_or_default();
        assert_eq!(v["model"], "gpt-x");
        assert_eq!(v["usage"]["total_tokens"], 35);
        assert_eq!(
            v["choices"][0]["message"]["content"].as_str().map(str::len),
            Some(100)
        );
    }

    #[test]
    fn chat_stream_without_usage() {
        let ev = events(&chat_stream(&ctx(false)));
        assert_eq!(ev.len(), 5 + 3);
        assert_eq!(ev.last().map(String::as_str), Some("[DONE]"));
        let parsed: Vec<Value> = ev[..ev.len() - 1]
            .iter()
            .map(|e| serde_json::from_str(e).unwrap_or_default())
            .collect();
        assert!(parsed.iter().all(|v| v.get("usage").is_none()));
        assert_eq!(parsed[0]["choices"][0]["delta"]["role"], "assistant");
        assert_eq!(parsed[6]["choices"][0]["finish_reason"], "stop");
        let content: String = parsed
            .iter()
            .filter_map(|v| v["choices"][0]["delta"]["content"].as_str())
            .collect();
        assert_eq!(content.len(), 100);
    }

    #[test]
    fn chat_stream_with_usage() {
        let ev = events(&chat_stream(&ctx(true)));
        assert_eq!(ev.len(), 5 + 4);
        let usage: Value = serde_json::from_str(&ev[ev.len() - 2]).unwrap_or_default();
        assert_eq!(usage["choices"].as_array().map(Vec::len), Some(0));
        assert_eq!(usage["usage"]["completion_tokens"], 25);
        let first: Value = serde_json::from_str(&ev[0]).unwrap_or_default();
        assert!(first["usage"].is_null() && first.get("usage").is_some());
    }

    #[test]
    fn completion_stream_shape() {
        let ev = events(&completion_stream(&ctx(true)));
        assert_eq!(ev.len(), 5 + 3);
        assert_eq!(ev.last().map(String::as_str), Some("[DONE]"));
        let v: Value = serde_json::from_slice(&completion_json(&ctx(false))).unwrap_or_default();
        assert_eq!(v["object"], "text_completion");
    }

    #[test]
    fn embeddings_and_errors_are_valid_json() {
        let vec = text::embedding_json(4);
        let v: Value = serde_json::from_slice(&embeddings_json(&ctx(false), 2, &vec, false))
            .unwrap_or_default();
        assert_eq!(v["data"][1]["embedding"].as_array().map(Vec::len), Some(4));
        let b64 = text::embedding_base64(4);
        let v: Value = serde_json::from_slice(&embeddings_json(&ctx(false), 1, &b64, true))
            .unwrap_or_default();
        assert!(v["data"][0]["embedding"].is_string());
        let e: Value = serde_json::from_slice(&error_json(429)).unwrap_or_default();
        assert_eq!(e["error"]["type"], "rate_limit_exceeded");
    }
}
