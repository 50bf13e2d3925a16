//! The Anthropic Messages API over sockets: Anthropic clients served by
//! OpenAI channels (converted), OpenAI clients served by Anthropic channels
//! (converted), Anthropic to Anthropic (forwarded), errors in Anthropic's
//! shape, `count_tokens`, and the log rows all of these leave.

use std::time::Duration;

use serde_json::{Value, json};

use crate::support::admin::set_option;
use crate::support::anthropic::{
    anthropic_request, messages_json, messages_sse, post_anthropic, sse_events,
};
use crate::support::upstream::{chat_json, chat_sse, frames_text};
use crate::support::{FakeUpstream, Gateway, Reply};

const MODEL: &str = "claude-sonnet-4";

/// A gateway with one channel of `channel_type` on `upstream` serving
/// [`MODEL`] (sent upstream as `upstream-model`), and a token.
async fn setup(upstream: &FakeUpstream, channel_type: i64) -> (Gateway, String) {
    let gw = Gateway::start(&[]).await;
    gw.model(MODEL).await;
    gw.channel(
        json!({"type": channel_type, "name": "up", "key": "sk-up", "base_url": upstream.base_url(),
        "models": [MODEL], "model_mapping": {MODEL: "upstream-model"}}),
    )
    .await;
    let key = gw.token("team", json!({"name": "ci"})).await;
    (gw, key)
}

fn messages_request(stream: bool) -> Value {
    json!({"model": MODEL, "max_tokens": 256, "stream": stream, "system": "Be brief.",
        "messages": [{"role": "user", "content": "Say hello"}]})
}

fn names(events: &[(String, Value)]) -> Vec<&str> {
    events.iter().map(|(n, _)| n.as_str()).collect()
}

#[tokio::test]
async fn anthropic_client_on_openai_channel() {
    let up = FakeUpstream::start(|_, _| {
        Reply::Json(200, chat_json("upstream-model", "Hello!", Some((12, 3))))
    })
    .await;
    let (gw, key) = setup(&up, 1).await;
    let a = post_anthropic(&gw, "/v1/messages", &key, &messages_request(false), &[]).await;
    assert_eq!(a.status, 200, "{}", a.text);
    assert_eq!(a.json["type"], "message");
    assert_eq!(a.json["model"], MODEL);
    assert_eq!(
        a.json["content"][0],
        json!({"type": "text", "text": "Hello!"})
    );
    assert_eq!(a.json["stop_reason"], "end_turn");
    assert_eq!(a.json["usage"]["input_tokens"], 12);
    assert_eq!(a.json["usage"]["output_tokens"], 3);

    let sent = &up.received()[0];
    assert_eq!(sent.path, "/v1/chat/completions");
    assert_eq!(sent.headers["authorization"], "Bearer sk-up");
    assert_eq!(sent.body["model"], "upstream-model");
    assert_eq!(
        sent.body["messages"][0],
        json!({"role": "system", "content": "Be brief."})
    );
    assert_eq!(sent.body["messages"][1]["role"], "user");
    assert_eq!(sent.body["max_tokens"], 256);

    let row = gw.log_row(&a.request_id()).await;
    assert_eq!(row["mode"], 12);
    assert_eq!(row["model"], MODEL);
    assert_eq!(row["usage"]["input_tokens"], 12);
    assert_eq!(row["usage"]["output_tokens"], 3);
    assert_eq!(row["endpoint"], "/v1/messages");
}

/// OpenAI chunks streaming text, then one tool call whose arguments arrive
/// in three pieces, then usage.
fn openai_tool_stream() -> Vec<(Duration, String)> {
    let chunk = |delta: Value, finish: Value| {
        let v = json!({"id": "chatcmpl-t", "object": "chat.completion.chunk", "created": 1, "model": "upstream-model",
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]});
        (Duration::from_millis(5), format!("data: {v}\n\n"))
    };
    vec![
        chunk(json!({"role": "assistant", "content": ""}), Value::Null),
        chunk(json!({"content": "Let me check."}), Value::Null),
        chunk(
            json!({"tool_calls": [{"index": 0, "id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": ""}}]}),
            Value::Null,
        ),
        chunk(
            json!({"tool_calls": [{"index": 0, "function": {"arguments": "{\"ci"}}]}),
            Value::Null,
        ),
        chunk(
            json!({"tool_calls": [{"index": 0, "function": {"arguments": "ty\": \"Par"}}]}),
            Value::Null,
        ),
        chunk(
            json!({"tool_calls": [{"index": 0, "function": {"arguments": "is\"}"}}]}),
            Value::Null,
        ),
        chunk(json!({}), json!("tool_calls")),
        (
            Duration::ZERO,
            format!(
                "data: {}\n\n",
                json!({"id": "chatcmpl-t", "object": "chat.completion.chunk", "created": 1, "model": "upstream-model", "choices": [],
                    "usage": {"prompt_tokens": 40, "completion_tokens": 17, "total_tokens": 57, "prompt_tokens_details": {"cached_tokens": 30}}})
            ),
        ),
        (Duration::ZERO, "data: [DONE]\n\n".to_owned()),
    ]
}

#[tokio::test]
async fn anthropic_client_streams_tools_from_openai_channel() {
    let up = FakeUpstream::start(|_, _| Reply::Sse(openai_tool_stream())).await;
    let (gw, key) = setup(&up, 1).await;
    let mut body = messages_request(true);
    body["tools"] = json!([{"name": "get_weather", "description": "Weather", "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}}}]);
    let a = post_anthropic(&gw, "/v1/messages", &key, &body, &[]).await;
    assert_eq!(a.status, 200, "{}", a.text);
    assert!(
        a.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream")
    );
    let events = sse_events(&a.text);
    assert_eq!(
        names(&events),
        [
            "message_start",
            "content_block_start",
            "content_block_delta",
            "content_block_stop",
            "content_block_start",
            "content_block_delta",
            "content_block_delta",
            "content_block_delta",
            "content_block_stop",
            "message_delta",
            "message_stop"
        ],
        "{}",
        a.text
    );
    assert_eq!(events[0].1["message"]["model"], MODEL);
    assert_eq!(
        events[2].1["delta"],
        json!({"type": "text_delta", "text": "Let me check."})
    );
    assert_eq!(events[4].1["content_block"]["type"], "tool_use");
    assert_eq!(events[4].1["content_block"]["id"], "call_1");
    assert_eq!(events[4].1["content_block"]["name"], "get_weather");
    assert_eq!(events[4].1["index"], 1);
    let args: String = events[5..8]
        .iter()
        .map(|(_, e)| e["delta"]["partial_json"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(args, r#"{"city": "Paris"}"#, "arguments reassemble exactly");
    let delta = &events[9].1;
    assert_eq!(delta["delta"]["stop_reason"], "tool_use");
    // Anthropic counts input without cached tokens.
    assert_eq!(delta["usage"]["input_tokens"], 10);
    assert_eq!(delta["usage"]["cache_read_input_tokens"], 30);
    assert_eq!(delta["usage"]["output_tokens"], 17);

    let sent = &up.received()[0];
    assert_eq!(sent.body["stream"], true);
    assert_eq!(sent.body["stream_options"]["include_usage"], true);
    assert_eq!(sent.body["tools"][0]["function"]["name"], "get_weather");

    let row = gw.log_row(&a.request_id()).await;
    assert_eq!(row["code"], 200);
    assert_eq!(row["usage"]["input_tokens"], 40);
    assert_eq!(row["usage"]["cached_tokens"], 30);
    assert_eq!(row["usage"]["output_tokens"], 17);
}

#[tokio::test]
async fn openai_client_on_anthropic_channel() {
    let up = FakeUpstream::start(|_, _| {
        Reply::Json(
            200,
            messages_json("upstream-model", "Hi there", (7, 4, 5, 2)),
        )
    })
    .await;
    let (gw, key) = setup(&up, 14).await;
    let body = json!({"model": MODEL, "messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hello"}]});
    let a = gw.post("/v1/chat/completions", &key, &body).await;
    assert_eq!(a.status, 200, "{}", a.text);
    assert_eq!(a.json["object"], "chat.completion");
    assert_eq!(a.json["model"], MODEL);
    assert_eq!(a.json["choices"][0]["message"]["content"], "Hi there");
    assert_eq!(a.json["choices"][0]["finish_reason"], "stop");
    // OpenAI prompt tokens include cache reads and writes.
    assert_eq!(a.json["usage"]["prompt_tokens"], 14);
    assert_eq!(a.json["usage"]["completion_tokens"], 4);
    assert_eq!(a.json["usage"]["prompt_tokens_details"]["cached_tokens"], 5);

    let sent = &up.received()[0];
    assert_eq!(sent.path, "/v1/messages");
    assert_eq!(sent.headers["x-api-key"], "sk-up");
    assert_eq!(sent.headers["anthropic-version"], "2023-06-01");
    assert!(!sent.headers.contains_key("authorization"));
    assert_eq!(sent.body["model"], "upstream-model");
    assert_eq!(sent.body["system"], "Be brief.");
    assert!(
        sent.body["max_tokens"].as_i64().unwrap() > 0,
        "max_tokens is defaulted"
    );

    let row = gw.log_row(&a.request_id()).await;
    assert_eq!(row["usage"]["input_tokens"], 14);
    assert_eq!(row["usage"]["cached_tokens"], 5);
    assert_eq!(row["usage"]["cache_creation_tokens"], 2);
}

#[tokio::test]
async fn openai_client_streams_from_anthropic_channel() {
    let frames = messages_sse(
        "upstream-model",
        &["Hel", "lo"],
        Some(("toolu_1", "lookup", &["{\"q\":", "\"x\"}"])),
        (9, 6, 0, 0),
    );
    let up = FakeUpstream::start(move |_, _| Reply::Sse(frames.clone())).await;
    let (gw, key) = setup(&up, 14).await;
    let body = json!({"model": MODEL, "stream": true, "stream_options": {"include_usage": true},
        "messages": [{"role": "user", "content": "Hello"}],
        "tools": [{"type": "function", "function": {"name": "lookup", "parameters": {"type": "object"}}}]});
    let a = gw.post("/v1/chat/completions", &key, &body).await;
    assert_eq!(a.status, 200, "{}", a.text);
    let events = sse_events(&a.text);
    assert_eq!(events.last().unwrap().1, json!("[DONE]"), "{}", a.text);
    let chunks: Vec<&Value> = events
        .iter()
        .map(|(_, v)| v)
        .filter(|v| v.is_object())
        .collect();
    assert!(
        chunks
            .iter()
            .all(|c| c["model"] == MODEL && c["object"] == "chat.completion.chunk")
    );
    let text: String = chunks
        .iter()
        .filter_map(|c| c["choices"][0]["delta"]["content"].as_str())
        .collect();
    assert_eq!(text, "Hello");
    let calls: Vec<&Value> = chunks
        .iter()
        .filter_map(|c| c["choices"][0]["delta"]["tool_calls"].get(0))
        .collect();
    assert_eq!(calls[0]["id"], "toolu_1");
    assert_eq!(calls[0]["function"]["name"], "lookup");
    let args: String = calls
        .iter()
        .filter_map(|c| c["function"]["arguments"].as_str())
        .collect();
    assert_eq!(args, r#"{"q":"x"}"#);
    assert!(
        chunks
            .iter()
            .any(|c| c["choices"][0]["finish_reason"] == "tool_calls")
    );
    let usage = &chunks.last().unwrap()["usage"];
    assert_eq!(usage["prompt_tokens"], 9);
    assert_eq!(usage["completion_tokens"], 6);

    assert_eq!(up.received()[0].body["stream"], true);
    let row = gw.log_row(&a.request_id()).await;
    assert_eq!(row["usage"]["output_tokens"], 6);
}

#[tokio::test]
async fn anthropic_passthrough_forwards_headers_and_rewrites_model() {
    let frames = messages_sse("upstream-model", &["Hi"], None, (20, 2, 100, 10));
    let up = FakeUpstream::start(move |r, _| {
        if r.body["stream"] == true {
            Reply::Sse(frames.clone())
        } else {
            Reply::Json(200, messages_json("upstream-model", "Hi", (20, 2, 100, 10)))
        }
    })
    .await;
    let (gw, key) = setup(&up, 14).await;
    let beta = [("anthropic-beta", "interleaved-thinking-2025-05-14")];
    let mut body = messages_request(false);
    body["metadata"] = json!({"user_id": "u-42"});
    let a = post_anthropic(&gw, "/v1/messages?beta=true", &key, &body, &beta).await;
    assert_eq!(a.status, 200, "{}", a.text);
    assert_eq!(a.json["model"], MODEL);
    assert_eq!(a.json["content"][0]["text"], "Hi");
    assert_eq!(
        a.json["usage"]["cache_read_input_tokens"], 100,
        "the upstream body is kept"
    );
    let sent = &up.received()[0];
    assert_eq!(sent.path, "/v1/messages?beta=true");
    assert_eq!(
        sent.headers["anthropic-beta"],
        "interleaved-thinking-2025-05-14"
    );
    assert_eq!(sent.headers["x-api-key"], "sk-up");
    assert_eq!(sent.body["model"], "upstream-model");
    assert_eq!(sent.body["system"], "Be brief.");
    let row = gw.log_row(&a.request_id()).await;
    assert_eq!(row["user"], "u-42");
    assert_eq!(row["usage"]["input_tokens"], 130);
    assert_eq!(row["usage"]["cached_tokens"], 100);
    assert_eq!(row["usage"]["cache_creation_tokens"], 10);

    let a = post_anthropic(&gw, "/v1/messages", &key, &messages_request(true), &[]).await;
    assert_eq!(a.status, 200, "{}", a.text);
    let events = sse_events(&a.text);
    assert_eq!(
        names(&events)[..3],
        ["message_start", "ping", "content_block_start"]
    );
    assert_eq!(
        events[0].1["message"]["model"], MODEL,
        "model rewritten inside message_start"
    );
    assert_eq!(names(&events).last(), Some(&"message_stop"));
    let row = gw.log_row(&a.request_id()).await;
    assert_eq!(row["usage"]["input_tokens"], 130);
    assert_eq!(row["usage"]["output_tokens"], 2);
}

/// A Messages stream as Anthropic writes it (`type` first in every event),
/// its text deltas `gap` apart; `usage` is (input, output) or none at all.
fn paced_messages_sse(
    model: &str,
    pieces: &[&str],
    usage: Option<(i64, i64)>,
    gap: Duration,
) -> Vec<(Duration, String)> {
    let frame =
        |gap: Duration, name: &str, data: String| (gap, format!("event: {name}\ndata: {data}\n\n"));
    let start_usage = usage.map_or(String::new(), |(input, _)| {
        format!(r#","usage":{{"input_tokens":{input},"output_tokens":0}}"#)
    });
    let mut frames = vec![
        frame(
            Duration::ZERO,
            "message_start",
            format!(
                r#"{{"type":"message_start","message":{{"id":"msg_up1","type":"message","role":"assistant","model":"{model}","content":[]{start_usage}}}}}"#
            ),
        ),
        frame(Duration::ZERO, "ping", r#"{"type":"ping"}"#.to_owned()),
        frame(
            Duration::ZERO,
            "content_block_start",
            r#"{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}"#
                .to_owned(),
        ),
    ];
    for piece in pieces {
        frames.push(frame(gap, "content_block_delta", format!(
            r#"{{"type":"content_block_delta","index":0,"delta":{{"type":"text_delta","text":"{piece}"}}}}"#
        )));
    }
    let end_usage = usage.map_or(String::new(), |(_, output)| {
        format!(r#","usage":{{"output_tokens":{output}}}"#)
    });
    frames.extend([
        frame(
            gap,
            "content_block_stop",
            r#"{"type":"content_block_stop","index":0}"#.to_owned(),
        ),
        frame(
            Duration::ZERO,
            "message_delta",
            format!(
                r#"{{"type":"message_delta","delta":{{"stop_reason":"end_turn"}}{end_usage}}}"#
            ),
        ),
        frame(
            Duration::ZERO,
            "message_stop",
            r#"{"type":"message_stop"}"#.to_owned(),
        ),
    ]);
    frames
}

#[tokio::test]
async fn passthrough_deltas_reach_the_client_byte_for_byte_and_are_still_counted() {
    // Paced deltas arrive one a read; after the first output each goes on as
    // it came, without the decoder.
    let pieces = ["one ", "two ", "three"];
    let gap = Duration::from_millis(15);
    // Without usage: 2,400 words, far more than the log detail's capture.
    let long_piece = "word ".repeat(40);
    let up = FakeUpstream::start(move |r, _| {
        if r.body["messages"][0]["content"] == "cut" {
            // Cut after the deltas: no message_delta, so only message_start's
            // counts, whose output is Anthropic's placeholder.
            let mut frames = paced_messages_sse("upstream-model", &pieces, Some((7, 3)), gap);
            frames.truncate(frames.len() - 3);
            frames[0].1 = frames[0]
                .1
                .replace(r#""output_tokens":0"#, r#""output_tokens":1"#);
            return Reply::Sse(frames);
        }
        if r.body["messages"][0]["content"] == "no usage" {
            let long = vec![long_piece.as_str(); 60];
            let frames =
                paced_messages_sse("upstream-model", &long, None, Duration::from_millis(1));
            return Reply::Sse(frames);
        }
        Reply::Sse(paced_messages_sse(
            "upstream-model",
            &pieces,
            Some((7, 3)),
            gap,
        ))
    })
    .await;
    let (gw, key) = setup(&up, 14).await;
    set_option(&gw, "SaveAllLogDetail", "true").await;
    let mut body = messages_request(true);
    let a = post_anthropic(&gw, "/v1/messages", &key, &body, &[]).await;
    assert_eq!(a.status, 200, "{}", a.text);
    let expected = frames_text(paced_messages_sse(
        "upstream-model",
        &pieces,
        Some((7, 3)),
        gap,
    ))
    .replace(
        "\"model\":\"upstream-model\"",
        &format!("\"model\":\"{MODEL}\""),
    );
    assert_eq!(
        a.text, expected,
        "the upstream's stream, with only the model rewritten"
    );
    let row = gw.log_row(&a.request_id()).await;
    assert_eq!(row["code"], 200);
    assert_eq!(row["usage_estimated"], false);
    assert_eq!(row["usage"]["input_tokens"], 7);
    assert_eq!(row["usage"]["output_tokens"], 3);
    let detail = gw
        .admin_ok("GET", &format!("/api/logs/detail/{}", row["id"]), None)
        .await;
    assert_eq!(
        detail["response_body"], a.text,
        "the detail has every event"
    );

    // Without a usage report the output is estimated from all the events
    // sent, not only those the detail keeps.
    body["messages"][0]["content"] = json!("no usage");
    let a = post_anthropic(&gw, "/v1/messages", &key, &body, &[]).await;
    assert_eq!(a.status, 200, "{}", a.text);
    assert!(a.text.len() > 16 * 1024, "{}", a.text.len());
    let row = gw.log_row(&a.request_id()).await;
    assert_eq!(row["usage_estimated"], true);
    assert_eq!(
        row["usage"]["output_tokens"], 2401,
        "a token a word, and the last space"
    );

    // Cut before message_delta: the input counts stay as reported and the
    // output is estimated from the text sent, not message_start's 1.
    body["messages"][0]["content"] = json!("cut");
    let a = post_anthropic(&gw, "/v1/messages", &key, &body, &[]).await;
    assert!(a.text.contains(r#""text":"three""#), "{}", a.text);
    let row = gw.log_row(&a.request_id()).await;
    assert_eq!(row["usage_estimated"], true);
    assert_eq!(row["usage"]["input_tokens"], 7, "as message_start reported");
    assert_eq!(row["usage"]["output_tokens"], 3, "one, two, three");
    assert_eq!(row["usage"]["total_tokens"], 10);
    gw.stop().await;
}

#[tokio::test]
async fn openai_client_on_a_cut_anthropic_stream_is_billed_the_reported_input() {
    // Cut after the deltas, before message_delta: message_start's input
    // count is kept through the conversion; the output is estimated from
    // the text sent, not message_start's placeholder 1.
    let up = FakeUpstream::start(|_, _| {
        let mut frames = paced_messages_sse(
            "upstream-model",
            &["one ", "two ", "three"],
            Some((7, 3)),
            Duration::from_millis(5),
        );
        frames.truncate(frames.len() - 3);
        frames[0].1 = frames[0]
            .1
            .replace(r#""output_tokens":0"#, r#""output_tokens":1"#);
        Reply::Sse(frames)
    })
    .await;
    let (gw, key) = setup(&up, 14).await;
    // A prompt whose estimate is far from the 7 the upstream reports.
    let body = json!({"model": MODEL, "stream": true,
        "messages": [{"role": "user", "content": "many words ".repeat(40)}]});
    let a = gw.post("/v1/chat/completions", &key, &body).await;
    assert_eq!(a.status, 200, "{}", a.text);
    let text: String = sse_events(&a.text)
        .iter()
        .filter_map(|(_, c)| c["choices"][0]["delta"]["content"].as_str())
        .collect();
    assert_eq!(text, "one two three", "{}", a.text);
    let row = gw.log_row(&a.request_id()).await;
    assert_eq!(row["usage_estimated"], true);
    assert_eq!(row["usage"]["input_tokens"], 7, "as message_start reported");
    assert_eq!(row["usage"]["output_tokens"], 3, "one, two, three");
    assert_eq!(row["usage"]["total_tokens"], 10);
    gw.stop().await;
}

#[tokio::test]
async fn errors_are_in_anthropic_shape() {
    let up = FakeUpstream::start(|r, _| {
        if r.body["messages"][1]["content"] == "bad" {
            Reply::Json(400, json!({"error": {"message": "temperature out of range", "type": "invalid_request_error"}}))
        } else {
            Reply::Json(429, json!({"error": {"message": "slow down", "type": "rate_limit_error"}}))
        }
    })
    .await;
    let (gw, key) = setup(&up, 1).await;
    let anthropic_error = |a: &crate::support::gateway::Answer, status: u16, kind: &str| {
        assert_eq!(a.status, status, "{}", a.text);
        assert_eq!(a.json["type"], "error", "{}", a.text);
        assert_eq!(a.json["error"]["type"], kind, "{}", a.text);
        assert!(
            a.json["error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty())
        );
    };
    let a = post_anthropic(
        &gw,
        "/v1/messages",
        "sk-wrong",
        &messages_request(false),
        &[],
    )
    .await;
    anthropic_error(&a, 401, "authentication_error");
    let mut unknown = messages_request(false);
    unknown["model"] = json!("no-such-model");
    let a = post_anthropic(&gw, "/v1/messages", &key, &unknown, &[]).await;
    anthropic_error(&a, 404, "not_found_error");
    let a = post_anthropic(
        &gw,
        "/v1/messages",
        &key,
        &json!({"model": MODEL, "max_tokens": 5}),
        &[],
    )
    .await;
    anthropic_error(&a, 400, "invalid_request_error");
    assert!(
        a.json["error"]["message"]
            .as_str()
            .unwrap()
            .contains("messages")
    );
    let a = gw.post_raw("/v1/messages", &key, "{not json").await;
    anthropic_error(&a, 400, "invalid_request_error");
    let mut bad = messages_request(false);
    bad["messages"][0]["content"] = json!("bad");
    let a = post_anthropic(&gw, "/v1/messages", &key, &bad, &[]).await;
    anthropic_error(&a, 400, "invalid_request_error");
    assert!(
        a.json["error"]["message"]
            .as_str()
            .unwrap()
            .contains("temperature out of range")
    );
    let a = post_anthropic(&gw, "/v1/messages", &key, &messages_request(false), &[]).await;
    anthropic_error(&a, 429, "rate_limit_error");
}

#[tokio::test]
async fn count_tokens_estimates_or_asks_an_anthropic_channel() {
    let up = FakeUpstream::start(|_, _| Reply::Json(200, json!({"input_tokens": 4321}))).await;
    let (gw, key) = setup(&up, 1).await;
    let body = json!({"model": MODEL, "system": "You are terse.", "messages": [{"role": "user", "content": "How many tokens is this?"}]});
    let a = post_anthropic(&gw, "/v1/messages/count_tokens", &key, &body, &[]).await;
    assert_eq!(a.status, 200, "{}", a.text);
    let estimate = a.json["input_tokens"].as_i64().unwrap();
    assert!((10..40).contains(&estimate), "{estimate}");
    assert_eq!(up.hits(), 0, "OpenAI channels are not asked");

    gw.channel(json!({"type": 14, "name": "anthropic", "key": "sk-ant", "base_url": up.base_url(), "models": [MODEL], "priority": 1}))
        .await;
    let a = post_anthropic(&gw, "/v1/messages/count_tokens", &key, &body, &[]).await;
    assert_eq!(a.status, 200, "{}", a.text);
    assert_eq!(a.json["input_tokens"], 4321);
    let sent = &up.received()[0];
    assert_eq!(sent.path, "/v1/messages/count_tokens");
    assert_eq!(sent.headers["x-api-key"], "sk-ant");
    assert_eq!(sent.body["model"], MODEL);

    let a = post_anthropic(&gw, "/v1/messages/count_tokens", "sk-wrong", &body, &[]).await;
    assert_eq!(
        (a.status.as_u16(), &a.json["error"]["type"]),
        (401, &json!("authentication_error"))
    );
}

#[tokio::test]
async fn fake_channel_serves_anthropic_clients() {
    let gw = Gateway::start(&[]).await;
    gw.model("fake-model").await;
    gw.channel(json!({"type": 53, "name": "fake", "key": "x", "models": ["fake-model"], "configs": {"static_text": "fake answer"}}))
        .await;
    let key = gw.token("team", json!({"name": "ci"})).await;
    let mut body = messages_request(true);
    body["model"] = json!("fake-model");
    let a = post_anthropic(&gw, "/v1/messages", &key, &body, &[]).await;
    assert_eq!(a.status, 200, "{}", a.text);
    let events = sse_events(&a.text);
    assert_eq!(names(&events).first(), Some(&"message_start"));
    assert_eq!(names(&events).last(), Some(&"message_stop"));
    let text: String = events
        .iter()
        .filter_map(|(_, e)| e["delta"]["text"].as_str())
        .collect();
    assert!(text.contains("fake answer"), "{text}");
}

#[tokio::test]
async fn anthropic_stream_continues_on_another_channel_before_output() {
    let broken = vec![
        messages_sse("upstream-model", &[], None, (5, 0, 0, 0))[0].clone(),
        (
            Duration::ZERO,
            format!(
                "event: error\ndata: {}\n\n",
                json!({"type": "error", "error": {"type": "overloaded_error", "message": "busy"}})
            ),
        ),
    ];
    let bad = FakeUpstream::start(move |_, _| Reply::Sse(broken.clone())).await;
    let frames = messages_sse("upstream-model", &["from ", "second"], None, (5, 2, 0, 0));
    let good = FakeUpstream::start(move |_, _| Reply::Sse(frames.clone())).await;
    let gw = Gateway::start(&["--retry-times", "1"]).await;
    gw.model(MODEL).await;
    gw.channel(json!({"type": 14, "name": "bad", "key": "a", "base_url": bad.base_url(), "models": [MODEL], "priority": 1_000_000})).await;
    let good_id = gw
        .channel(json!({"type": 14, "name": "good", "key": "b", "base_url": good.base_url(), "models": [MODEL], "priority": 1}))
        .await;
    let key = gw.token("team", json!({"name": "ci"})).await;
    let a = post_anthropic(&gw, "/v1/messages", &key, &messages_request(true), &[]).await;
    assert_eq!(a.status, 200, "{}", a.text);
    let events = sse_events(&a.text);
    let n = names(&events);
    assert_eq!(
        n.iter().filter(|e| **e == "message_start").count(),
        1,
        "{}",
        a.text
    );
    assert!(!n.contains(&"error"), "{}", a.text);
    let text: String = events
        .iter()
        .filter_map(|(_, e)| e["delta"]["text"].as_str())
        .collect();
    assert_eq!(text, "from second");
    assert_eq!(bad.hits(), 1);
    let row = gw.log_row(&a.request_id()).await;
    assert_eq!(row["channel"], good_id);
    assert_eq!(row["retry_times"], 1);
}

/// A Claude Code-shaped session against an OpenAI-compatible channel: system
/// blocks with `cache_control`, tools, thinking; the first turn answers with
/// reasoning and a tool call, the second carries the thinking block and the
/// tool result back.
#[tokio::test]
async fn claude_code_session_on_openai_channel() {
    let up = FakeUpstream::start(|r, n| {
        if n == 0 {
            let frames = vec![
                (Duration::ZERO, format!("data: {}\n\n", json!({"id": "c1", "object": "chat.completion.chunk", "created": 1, "model": "m", "choices": [{"index": 0, "delta": {"role": "assistant", "reasoning_content": "The user wants files."}, "finish_reason": null}]}))),
                (Duration::ZERO, format!("data: {}\n\n", json!({"id": "c1", "object": "chat.completion.chunk", "created": 1, "model": "m", "choices": [{"index": 0, "delta": {"tool_calls": [{"index": 0, "id": "call_ls", "type": "function", "function": {"name": "Bash", "arguments": "{\"command\":\"ls\"}"}}]}, "finish_reason": "tool_calls"}]}))),
                (Duration::ZERO, format!("data: {}\n\n", json!({"id": "c1", "object": "chat.completion.chunk", "created": 1, "model": "m", "choices": [], "usage": {"prompt_tokens": 50, "completion_tokens": 20, "total_tokens": 70}}))),
                (Duration::ZERO, "data: [DONE]\n\n".to_owned()),
            ];
            return Reply::Sse(frames);
        }
        let _ = r;
        Reply::Sse(chat_sse("m", &["Two files."], Some((80, 4)), Duration::ZERO))
    })
    .await;
    let (gw, key) = setup(&up, 1).await;
    let tools = json!([{"name": "Bash", "description": "Run a command", "input_schema": {"type": "object", "properties": {"command": {"type": "string"}}, "required": ["command"]}}]);
    let system = json!([
        {"type": "text", "text": "You are Claude Code."},
        {"type": "text", "text": "Project context.", "cache_control": {"type": "ephemeral"}}
    ]);
    let first_user = json!({"role": "user", "content": [{"type": "text", "text": "list files", "cache_control": {"type": "ephemeral"}}]});
    let turn1 = json!({"model": MODEL, "max_tokens": 32000, "stream": true, "system": system, "tools": tools,
        "thinking": {"type": "enabled", "budget_tokens": 10000}, "messages": [first_user]});
    let count = post_anthropic(
        &gw,
        "/v1/messages/count_tokens",
        &key,
        &json!({"model": MODEL, "system": system, "tools": tools, "messages": [first_user]}),
        &[],
    )
    .await;
    assert_eq!(count.status, 200, "{}", count.text);
    assert!(count.json["input_tokens"].as_i64().unwrap() > 0);

    let a = post_anthropic(
        &gw,
        "/v1/messages",
        &key,
        &turn1,
        &[(
            "anthropic-beta",
            "claude-code-20250219,interleaved-thinking-2025-05-14",
        )],
    )
    .await;
    assert_eq!(a.status, 200, "{}", a.text);
    let events = sse_events(&a.text);
    let thinking: String = events
        .iter()
        .filter_map(|(_, e)| e["delta"]["thinking"].as_str())
        .collect();
    assert_eq!(thinking, "The user wants files.");
    let tool_start = events
        .iter()
        .find(|(n, e)| n == "content_block_start" && e["content_block"]["type"] == "tool_use")
        .expect("tool_use block");
    assert_eq!(tool_start.1["content_block"]["id"], "call_ls");
    let stop = events.iter().find(|(n, _)| n == "message_delta").unwrap();
    assert_eq!(stop.1["delta"]["stop_reason"], "tool_use");
    let sent = &up.received()[0].body;
    assert_eq!(sent["messages"][0]["role"], "system");
    assert!(sent["messages"][0].to_string().contains("Project context."));
    assert!(
        sent["reasoning_effort"].is_string() || sent.get("thinking").is_some(),
        "{sent}"
    );

    let signature = events
        .iter()
        .find_map(|(_, e)| e["delta"]["signature"].as_str())
        .unwrap_or_default()
        .to_owned();
    let turn2 = json!({"model": MODEL, "max_tokens": 32000, "stream": true, "system": system, "tools": tools,
    "thinking": {"type": "enabled", "budget_tokens": 10000},
    "messages": [
        first_user,
        {"role": "assistant", "content": [
            {"type": "thinking", "thinking": "The user wants files.", "signature": signature},
            {"type": "tool_use", "id": "call_ls", "name": "Bash", "input": {"command": "ls"}}
        ]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "call_ls", "content": "a.rs\nb.rs"}]}
    ]});
    let a = post_anthropic(&gw, "/v1/messages", &key, &turn2, &[]).await;
    assert_eq!(a.status, 200, "{}", a.text);
    let text: String = sse_events(&a.text)
        .iter()
        .filter_map(|(_, e)| e["delta"]["text"].as_str())
        .collect();
    assert_eq!(text, "Two files.");
    let sent = &up.received()[1].body;
    let messages = sent["messages"].as_array().unwrap();
    let assistant = messages.iter().find(|m| m["role"] == "assistant").unwrap();
    assert_eq!(assistant["tool_calls"][0]["id"], "call_ls");
    assert_eq!(assistant["tool_calls"][0]["function"]["name"], "Bash");
    assert_eq!(assistant["reasoning_content"], "The user wants files.");
    let tool = messages.iter().find(|m| m["role"] == "tool").unwrap();
    assert_eq!(tool["tool_call_id"], "call_ls");
    assert!(tool["content"].to_string().contains("a.rs"));
}

#[tokio::test]
async fn a_client_leaving_before_message_delta_keeps_the_reported_input() {
    let pieces: Vec<String> = (0..30).map(|i| format!("word{i} ")).collect();
    let up = FakeUpstream::start(move |_, _| {
        let refs: Vec<&str> = pieces.iter().map(String::as_str).collect();
        Reply::Sse(paced_messages_sse(
            "upstream-model",
            &refs,
            Some((7, 30)),
            Duration::from_millis(50),
        ))
    })
    .await;
    let (gw, key) = setup(&up, 14).await;
    let mut response = anthropic_request(&gw, "/v1/messages", &key)
        .body(messages_request(true).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let request_id = response.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_owned();
    let mut seen = String::new();
    while !seen.contains("word2 ") {
        let chunk = response.chunk().await.unwrap().unwrap();
        seen.push_str(&String::from_utf8_lossy(&chunk));
    }
    drop(response);
    let row = gw.log_row(&request_id).await;
    assert_eq!(row["code"], 499);
    assert_eq!(row["usage_estimated"], true);
    assert_eq!(
        row["usage"]["input_tokens"], 7,
        "message_start's input count, not an estimate of the prompt"
    );
    let out = row["usage"]["output_tokens"].as_i64().unwrap();
    assert!((3..30).contains(&out), "output up to the disconnect: {out}");
    gw.stop().await;
}
