//! Anthropic-shaped fixtures: Messages answers and event streams a fake
//! upstream sends, a client call with `x-api-key`, and an SSE reader that
//! keeps event names.

use std::time::Duration;

use serde_json::{Value, json};

use super::gateway::{Answer, Gateway};

/// Usage as Anthropic reports it: (input, output, cache read, cache creation).
pub type AnthropicUsage = (i64, i64, i64, i64);

fn usage_json(u: AnthropicUsage) -> Value {
    json!({"input_tokens": u.0, "output_tokens": u.1, "cache_read_input_tokens": u.2, "cache_creation_input_tokens": u.3})
}

/// A Messages answer with one text block.
pub fn messages_json(model: &str, text: &str, usage: AnthropicUsage) -> Value {
    json!({
        "id": "msg_up1", "type": "message", "role": "assistant", "model": model,
        "content": [{"type": "text", "text": text}],
        "stop_reason": "end_turn", "stop_sequence": null, "usage": usage_json(usage),
    })
}

fn frame(name: &str, data: &Value) -> (Duration, String) {
    (Duration::ZERO, format!("event: {name}\ndata: {data}\n\n"))
}

/// A Messages stream: one text block in `pieces`, then (optionally) one
/// tool call whose JSON arguments arrive in `tool_args` pieces.
pub fn messages_sse(
    model: &str,
    pieces: &[&str],
    tool: Option<(&str, &str, &[&str])>,
    usage: AnthropicUsage,
) -> Vec<(Duration, String)> {
    let mut start_usage = usage_json(usage);
    start_usage["output_tokens"] = json!(1);
    let mut frames = vec![
        frame(
            "message_start",
            &json!({"type": "message_start", "message": {"id": "msg_up1", "type": "message", "role": "assistant", "model": model,
                "content": [], "stop_reason": null, "stop_sequence": null, "usage": start_usage}}),
        ),
        frame("ping", &json!({"type": "ping"})),
        frame(
            "content_block_start",
            &json!({"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}),
        ),
    ];
    for p in pieces {
        frames.push(frame(
            "content_block_delta",
            &json!({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": p}}),
        ));
    }
    frames.push(frame(
        "content_block_stop",
        &json!({"type": "content_block_stop", "index": 0}),
    ));
    let mut stop_reason = "end_turn";
    if let Some((id, name, args)) = tool {
        stop_reason = "tool_use";
        frames.push(frame(
            "content_block_start",
            &json!({"type": "content_block_start", "index": 1, "content_block": {"type": "tool_use", "id": id, "name": name, "input": {}}}),
        ));
        for a in args {
            frames.push(frame(
                "content_block_delta",
                &json!({"type": "content_block_delta", "index": 1, "delta": {"type": "input_json_delta", "partial_json": a}}),
            ));
        }
        frames.push(frame(
            "content_block_stop",
            &json!({"type": "content_block_stop", "index": 1}),
        ));
    }
    frames.push(frame(
        "message_delta",
        &json!({"type": "message_delta", "delta": {"stop_reason": stop_reason, "stop_sequence": null}, "usage": {"output_tokens": usage.1}}),
    ));
    frames.push(frame("message_stop", &json!({"type": "message_stop"})));
    frames
}

/// A POST to the gateway as an Anthropic SDK sends it: `x-api-key`,
/// `anthropic-version`, a JSON content type.
pub fn anthropic_request(gw: &Gateway, path: &str, key: &str) -> reqwest::RequestBuilder {
    gw.http
        .post(format!("{}{path}", gw.url))
        .header("x-api-key", key)
        .header("anthropic-version", "2023-06-01")
        .header("content-type", "application/json")
}

/// POST to the gateway as an Anthropic SDK does, plus `extra` headers.
pub async fn post_anthropic(
    gw: &Gateway,
    path: &str,
    key: &str,
    body: &Value,
    extra: &[(&str, &str)],
) -> Answer {
    let mut req = anthropic_request(gw, path, key);
    for (name, value) in extra {
        req = req.header(*name, *value);
    }
    Gateway::answer(req.body(body.to_string()).send().await.unwrap()).await
}

/// SSE events of a body as (event name, data JSON); `[DONE]` becomes
/// (`""`, `"[DONE]"`).
pub fn sse_events(text: &str) -> Vec<(String, Value)> {
    text.split("\n\n")
        .filter(|f| !f.trim().is_empty())
        .filter_map(|f| {
            let name = f
                .lines()
                .find_map(|l| l.strip_prefix("event: "))
                .unwrap_or_default()
                .to_owned();
            let data = f.lines().find_map(|l| l.strip_prefix("data: "))?;
            let value =
                serde_json::from_str(data).unwrap_or_else(|_| Value::String(data.to_owned()));
            Some((name, value))
        })
        .collect()
}
