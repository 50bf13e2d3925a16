//! Anthropic Messages shapes.
//!
//! Stream events (each with an `event:` line): `message_start`, `content_block_start`,
//! `chunks` × `content_block_delta` (`text_delta`), `content_block_stop`,
//! `message_delta` (stop reason and output tokens), `message_stop` — `chunks + 5` events.

use bytes::Bytes;

use crate::ctx::{Ctx, JsonOut};
use crate::sse::{Framing, StreamBuilder, StreamPlan};

/// A non-streamed Messages response.
pub fn message_json(ctx: &Ctx<'_>) -> Bytes {
    let mut o = Vec::with_capacity(ctx.text.len() + 256);
    o.put("{\"id\":\"msg_mock_")
        .num(ctx.id)
        .put("\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"")
        .put(ctx.model)
        .put("\",\"content\":[{\"type\":\"text\",\"text\":\"")
        .put_bytes(&ctx.text)
        .put(
            "\"}],\"stop_reason\":\"end_turn\",\"stop_sequence\":null,\"usage\":{\"input_tokens\":",
        )
        .num(ctx.prompt_tokens)
        .put(",\"output_tokens\":")
        .num(ctx.completion_tokens())
        .put("}}");
    Bytes::from(o)
}

/// A streamed Messages response.
pub fn message_stream(ctx: &Ctx<'_>) -> StreamPlan {
    let per_event = 96 + ctx.text.len() / ctx.chunks.max(1);
    let mut b = StreamBuilder::new(Framing::Sse, ctx.chunks + 5, per_event);
    b.event(Some("message_start"), false, |o| {
        o.put("{\"type\":\"message_start\",\"message\":{\"id\":\"msg_mock_")
            .num(ctx.id)
            .put("\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"")
            .put(ctx.model)
            .put("\",\"content\":[],\"stop_reason\":null,\"stop_sequence\":null,\"usage\":{\"input_tokens\":")
            .num(ctx.prompt_tokens)
            .put(",\"output_tokens\":1}}}");
    });
    b.event(Some("content_block_start"), false, |o| {
        o.put("{\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}");
    });
    for i in 0..ctx.chunks {
        b.event(Some("content_block_delta"), true, |o| {
            o.put("{\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"")
                .put_bytes(ctx.chunk(i))
                .put("\"}}");
        });
    }
    b.event(Some("content_block_stop"), false, |o| {
        o.put("{\"type\":\"content_block_stop\",\"index\":0}");
    });
    b.event(Some("message_delta"), false, |o| {
        o.put("{\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\",\"stop_sequence\":null},\"usage\":{\"output_tokens\":")
            .num(ctx.completion_tokens())
            .put("}}");
    });
    b.event(Some("message_stop"), false, |o| {
        o.put("{\"type\":\"message_stop\"}");
    });
    b.finish()
}

/// An Anthropic-shaped error body.
pub fn error_json(status: u16) -> Bytes {
    let kind = match status {
        400 => "invalid_request_error",
        401 => "authentication_error",
        403 => "permission_error",
        404 => "not_found_error",
        413 => "request_too_large",
        429 => "rate_limit_error",
        529 => "overloaded_error",
        _ => "api_error",
    };
    let mut o = Vec::with_capacity(128);
    o.put("{\"type\":\"error\",\"error\":{\"type\":\"")
        .put(kind)
        .put("\",\"message\":\"mock injected error (status ")
        .num(u64::from(status))
        .put(")\"}}");
    Bytes::from(o)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text;
    use serde_json::Value;

    fn ctx() -> Ctx<'static> {
        Ctx {
            model: "claude-x",
            id: 1,
            created: 1,
            prompt_tokens: 3,
            text: text::generate(40),
            chunks: 4,
            include_usage: false,
        }
    }

    #[test]
    fn stream_has_named_events_in_order() {
        let plan = message_stream(&ctx());
        let text = String::from_utf8_lossy(plan.bytes()).into_owned();
        let blocks: Vec<&str> = text.split("\n\n").filter(|s| !s.is_empty()).collect();
        assert_eq!(blocks.len(), 4 + 5);
        let names: Vec<&str> = blocks
            .iter()
            .filter_map(|b| b.lines().next()?.strip_prefix("event: "))
            .collect();
        assert_eq!(names.first(), Some(&"message_start"));
        assert_eq!(names.last(), Some(&"message_stop"));
        assert_eq!(
            names
                .iter()
                .filter(|n| **n == "content_block_delta")
                .count(),
            4
        );
        for (block, name) in blocks.iter().zip(&names) {
            let data = block
                .lines()
                .nth(1)
                .and_then(|l| l.strip_prefix("data: "))
                .unwrap_or("");
            let v: Value = serde_json::from_str(data).unwrap_or_default();
            assert_eq!(v["type"], *name);
        }
        let delta: Value = serde_json::from_str(
            blocks[7]
                .lines()
                .nth(1)
                .unwrap_or("")
                .trim_start_matches("data: "),
        )
        .unwrap_or_default();
        assert_eq!(delta["usage"]["output_tokens"], 10);
        assert_eq!(delta["delta"]["stop_reason"], "end_turn");
    }

    #[test]
    fn json_and_error_are_valid() {
        let v: Value = serde_json::from_slice(&message_json(&ctx())).unwrap_or_default();
        assert_eq!(v["usage"]["input_tokens"], 3);
        assert_eq!(v["content"][0]["text"].as_str().map(str::len), Some(40));
        let e: Value = serde_json::from_slice(&error_json(529)).unwrap_or_default();
        assert_eq!(e["error"]["type"], "overloaded_error");
    }
}
