//! Targeted converter edge cases not covered by the golden fixtures.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use bytes::BytesMut;
use serde_json::{Value, json};
use support::decode_sse;
use switchyard_protocol::anthropic::MessageStreamEvent;
use switchyard_protocol::convert::{
    self, AnthropicRequestOptions, ChatRequestOptions, ConvertError, EncodeOptions,
    OpenAiToAnthropicStream, anthropic, openai,
};
use switchyard_protocol::ir::{self, ErrorKind, Part, Role, StreamEvent};
use switchyard_protocol::openai::ChatRequest;

fn chat(body: Value) -> ChatRequest {
    serde_json::from_value(body).unwrap()
}

#[test]
fn several_choices_and_unknown_roles_are_rejected() {
    let err = openai::request_to_ir(chat(json!({"model": "m", "n": 2, "messages": []})));
    assert!(matches!(err, Err(ConvertError::Unsupported(_))));
    let err = openai::request_to_ir(chat(
        json!({"model": "m", "messages": [{"role": "robot", "content": "x"}]}),
    ));
    let err = err.unwrap_err();
    assert!(matches!(err, ConvertError::Invalid(_)));
    assert_eq!(err.to_ir_error().status, 400);
    let err =
        convert::chat_request_to_messages(b"{not json", "m", &AnthropicRequestOptions::default());
    assert!(matches!(err, Err(ConvertError::Json(_))));
}

#[test]
fn bare_image_url_strings_are_accepted() {
    let req = openai::request_to_ir(chat(json!({"model": "m", "messages": [
        {"role": "user", "content": [{"type": "image_url", "image_url": "https://x/y.png"}]}
    ]})))
    .unwrap();
    let Part::Image(image) = &req.messages[0].content[0] else {
        panic!("not an image");
    };
    assert_eq!(
        image.source,
        ir::MediaSource::Url("https://x/y.png".to_owned())
    );
}

#[test]
fn tool_results_are_named_after_their_calls() {
    let req = openai::request_to_ir(chat(json!({"model": "m", "messages": [
        {"role": "assistant", "tool_calls": [{"id": "c1", "type": "function",
            "function": {"name": "lookup", "arguments": "{}"}}]},
        {"role": "tool", "tool_call_id": "c1", "content": "ok"}
    ]})))
    .unwrap();
    assert_eq!(req.messages[1].role, Role::User);
    let Part::ToolResult(result) = &req.messages[1].content[0] else {
        panic!("not a tool result");
    };
    assert_eq!(result.name.as_deref(), Some("lookup"));
}

#[test]
fn anthropic_to_openai_to_anthropic_keeps_signed_thinking_with_signatures_on() {
    let body = json!({"model": "claude-sonnet-4-5", "max_tokens": 100,
    "thinking": {"type": "enabled", "budget_tokens": 2048},
    "messages": [
        {"role": "user", "content": "q"},
        {"role": "assistant", "content": [
            {"type": "thinking", "thinking": "t", "signature": "s1"},
            {"type": "redacted_thinking", "data": "r1"},
            {"type": "tool_use", "id": "toolu_1", "name": "f", "input": {"a": 1}}]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_1", "content": "ok"}]}
    ]});
    let opts = ChatRequestOptions {
        signatures_in_history: true,
        ..ChatRequestOptions::default()
    };
    let chat_body =
        convert::messages_request_to_chat(body.to_string().as_bytes(), "gw-claude", &opts).unwrap();
    let back = convert::chat_request_to_messages(
        &chat_body,
        "claude-sonnet-4-5",
        &AnthropicRequestOptions::default(),
    )
    .unwrap();
    let back: Value = serde_json::from_slice(&back).unwrap();
    assert_eq!(
        back["messages"][1]["content"],
        body["messages"][1]["content"]
    );
    assert_eq!(
        back["thinking"],
        json!({"type": "enabled", "budget_tokens": 2048})
    );
    assert_eq!(back["max_tokens"], 2049);
}

#[test]
fn tool_calls_without_index_are_matched_by_id_and_usage_in_choice_is_read() {
    let mut conv = OpenAiToAnthropicStream::openai_to_anthropic(EncodeOptions::default());
    let mut out = BytesMut::new();
    let chunks = [
        json!({"id": "x", "choices": [{"index": 0, "delta": {"tool_calls": [
            {"id": "a", "function": {"name": "f", "arguments": "{\"k\":"}}]}}]}),
        json!({"id": "x", "choices": [{"index": 0, "delta": {"tool_calls": [
            {"id": "a", "function": {"arguments": "1}"}}]}}]}),
        json!({"id": "x", "choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls",
            "usage": {"prompt_tokens": 3, "completion_tokens": 4, "total_tokens": 7}}]}),
    ];
    for chunk in chunks {
        conv.push(None, chunk.to_string().as_bytes(), &mut out)
            .unwrap();
    }
    conv.push(None, b"[DONE]", &mut out).unwrap();
    assert!(conv.is_ended() && !conv.is_failed());
    assert_eq!(conv.usage().unwrap().output_tokens, 4);
    let events = decode_sse(&out);
    let starts = events
        .iter()
        .filter(|(n, _)| n.as_deref() == Some("content_block_start"));
    assert_eq!(starts.count(), 1);
    let args: String = events
        .iter()
        .filter_map(|(_, d)| d.pointer("/delta/partial_json").and_then(Value::as_str))
        .collect();
    assert_eq!(args, "{\"k\":1}");
}

#[test]
fn typed_items_and_abort() {
    let mut conv = OpenAiToAnthropicStream::openai_to_anthropic(EncodeOptions::default());
    let mut items = Vec::new();
    let chunk =
        json!({"id": "x", "model": "m", "choices": [{"index": 0, "delta": {"content": "hi"}}]});
    conv.push_items(None, chunk.to_string().as_bytes(), &mut items)
        .unwrap();
    assert!(matches!(items[0], MessageStreamEvent::MessageStart { .. }));
    assert!(matches!(
        items[1],
        MessageStreamEvent::ContentBlockStart { .. }
    ));
    assert!(matches!(
        items[2],
        MessageStreamEvent::ContentBlockDelta { .. }
    ));
    // Malformed upstream data: an error, nothing written; then abort.
    let mut out = BytesMut::new();
    assert!(conv.push(None, b"{oops", &mut out).is_err());
    assert!(out.is_empty());
    conv.abort(ir::Error::new(ErrorKind::Timeout, "idle"), &mut out);
    let events = decode_sse(&out);
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].0.as_deref(), Some("error"));
    assert_eq!(events[0].1["error"]["type"], "timeout_error");
    // Nothing after the end.
    conv.finish(&mut out);
    assert_eq!(decode_sse(&out).len(), 1);
}

#[test]
fn anthropic_encoder_serialises_overlapping_blocks() {
    use switchyard_protocol::convert::StreamEncoder;
    let mut enc = anthropic::AnthropicStreamEncoder::new(EncodeOptions::default());
    let tool = |id: &str| ir::BlockKind::ToolCall {
        id: id.to_owned(),
        name: "f".to_owned(),
    };
    let args = |index, s: &str| StreamEvent::ToolArgsDelta {
        index,
        fragment: s.to_owned(),
    };
    let events = [
        StreamEvent::BlockStart {
            index: 0,
            kind: tool("a"),
        },
        StreamEvent::BlockStart {
            index: 1,
            kind: tool("b"),
        },
        args(1, "{\"b\":"),
        args(0, "{}"),
        StreamEvent::BlockStop { index: 1 },
        args(0, " "),
        StreamEvent::BlockStop { index: 0 },
        StreamEvent::Done,
    ];
    let mut items = Vec::new();
    for e in &events {
        enc.encode_event(e, &mut items);
    }
    let names: Vec<&str> = items.iter().map(MessageStreamEvent::name).collect();
    assert_eq!(
        names,
        [
            "message_start",
            "content_block_start",
            "content_block_delta",
            "content_block_delta",
            "content_block_stop",
            "content_block_start",
            "content_block_delta",
            "content_block_stop",
            "message_delta",
            "message_stop"
        ]
    );
}

#[test]
fn usage_is_never_summed_across_message_start_and_delta() {
    let mut conv = convert::AnthropicToOpenAiStream::anthropic_to_openai(EncodeOptions {
        include_usage: true,
        ..EncodeOptions::default()
    });
    let mut out = BytesMut::new();
    let events = [
        json!({"type": "message_start", "message": {"id": "m", "model": "c", "content": [],
            "usage": {"input_tokens": 10, "output_tokens": 1, "cache_read_input_tokens": 5}}}),
        json!({"type": "message_delta", "delta": {"stop_reason": "end_turn"},
            "usage": {"output_tokens": 30}}),
        json!({"type": "message_delta", "delta": {"stop_reason": null},
            "usage": {"output_tokens": 31, "input_tokens": 10, "cache_read_input_tokens": 5}}),
        json!({"type": "message_stop"}),
    ];
    for e in events {
        conv.push(None, e.to_string().as_bytes(), &mut out).unwrap();
    }
    let usage = conv.usage().unwrap();
    assert_eq!(
        (usage.input_tokens, usage.output_tokens, usage.cached_tokens),
        (15, 31, 5)
    );
    let last = decode_sse(&out).pop().unwrap().1;
    assert_eq!(last["usage"]["prompt_tokens"], 15);
    assert_eq!(last["usage"]["completion_tokens"], 31);
}

#[test]
fn error_bodies_of_either_shape_are_read() {
    let e = convert::error_body_to_ir(
        429,
        br#"{"error":{"message":"slow down","type":"requests"}}"#,
    );
    assert_eq!(
        (e.kind, e.status, e.message.as_str()),
        (ErrorKind::RateLimit, 429, "slow down")
    );
    let e = convert::error_body_to_ir(
        529,
        br#"{"type":"error","error":{"type":"overloaded_error","message":"busy"}}"#,
    );
    assert_eq!(e.kind, ErrorKind::Overloaded);
    assert_eq!(e.code.as_deref(), Some("overloaded_error"));
    let e = convert::error_body_to_ir(503, b"");
    assert_eq!(e.message, "upstream returned status 503");
}
