//! Property tests for the Gemini stream converters: any re-chunking of a
//! recorded Gemini SSE transcript (real ones end each record with
//! `\r\n\r\n`) yields the same canonical events and the same client bytes,
//! and function-call arguments reassemble exactly in both directions
//! (Gemini sends them whole; other dialects stream fragments).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

use proptest::prelude::*;
use proptest::sample::Index;
use serde_json::{Value, json};
use support::{decode_sse, run_stream};
use switchyard_protocol::convert::gemini::GeminiStreamDecoder;
use switchyard_protocol::convert::{
    AnthropicToGeminiStream, EncodeOptions, GeminiToAnthropicStream, GeminiToOpenAiStream,
    OpenAiToGeminiStream, StreamDecoder,
};
use switchyard_protocol::ir::StreamEvent;
use switchyard_protocol::sse::{SseDecoder, SseItem};

fn opts() -> EncodeOptions {
    EncodeOptions {
        model: Some("client-model".to_owned()),
        created: 1,
        include_usage: true,
        estimated_input_tokens: None,
    }
}

/// The recorded Gemini transcripts.
fn transcripts() -> Vec<Vec<u8>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/gemini/streams");
    let mut paths: Vec<_> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .filter(|p| {
            p.file_name()
                .unwrap()
                .to_str()
                .unwrap()
                .matches('.')
                .count()
                == 1
        })
        .collect();
    paths.sort();
    assert!(!paths.is_empty());
    paths.into_iter().map(|p| fs::read(p).unwrap()).collect()
}

/// `bytes` cut at the given points.
fn split<'a>(bytes: &'a [u8], cuts: &[Index]) -> Vec<&'a [u8]> {
    let mut points: Vec<usize> = cuts.iter().map(|i| i.index(bytes.len() + 1)).collect();
    points.sort_unstable();
    points.dedup();
    let mut pieces = Vec::new();
    let mut start = 0;
    for p in points {
        pieces.push(&bytes[start..p]);
        start = p;
    }
    pieces.push(&bytes[start..]);
    pieces
}

/// The canonical events a Gemini transcript decodes into, fed in `chunks`.
fn ir_events(chunks: &[&[u8]]) -> Vec<StreamEvent> {
    let mut sse = SseDecoder::new(1 << 20);
    let mut decoder = GeminiStreamDecoder::new();
    let mut events = Vec::new();
    let mut feed = |item: SseItem, events: &mut Vec<StreamEvent>| {
        if let SseItem::Event(e) = item {
            decoder.decode(e.event_name(), &e.data, events).unwrap();
        }
    };
    for chunk in chunks {
        sse.push(chunk).unwrap();
        while let Some(item) = sse.next_item() {
            feed(item, &mut events);
        }
    }
    while let Some(item) = sse.finish() {
        feed(item, &mut events);
    }
    decoder.finish(&mut events);
    events
}

fn to_openai(chunks: &[&[u8]]) -> Vec<u8> {
    run_stream(&mut GeminiToOpenAiStream::gemini_to_openai(opts()), chunks)
}

fn to_anthropic(chunks: &[&[u8]]) -> Vec<u8> {
    run_stream(
        &mut GeminiToAnthropicStream::gemini_to_anthropic(opts()),
        chunks,
    )
}

#[test]
fn transcripts_use_crlf_records() {
    for transcript in transcripts() {
        assert!(transcript.ends_with(b"\r\n\r\n"));
    }
}

#[test]
fn one_byte_chunks_give_the_same_events() {
    for transcript in transcripts() {
        let bytes: Vec<&[u8]> = transcript.chunks(1).collect();
        assert_eq!(ir_events(&bytes), ir_events(&[&transcript]));
        assert_eq!(to_openai(&bytes), to_openai(&[&transcript]));
        assert_eq!(to_anthropic(&bytes), to_anthropic(&[&transcript]));
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn any_rechunking_gives_the_same_events_and_bytes(
        cuts in prop::collection::vec(any::<Index>(), 0..40),
        which in any::<Index>(),
    ) {
        let all = transcripts();
        let transcript = &all[which.index(all.len())];
        let pieces = split(transcript, &cuts);
        prop_assert_eq!(ir_events(&pieces), ir_events(&[transcript]));
        prop_assert_eq!(to_openai(&pieces), to_openai(&[transcript]));
        prop_assert_eq!(to_anthropic(&pieces), to_anthropic(&[transcript]));
    }
}

// ---- function-call arguments ----------------------------------------------

/// Arbitrary JSON argument objects (nested, with awkward strings).
fn args_object() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        "\\PC{0,12}".prop_map(Value::String),
        any::<i32>().prop_map(|n| json!(n)),
        any::<bool>().prop_map(Value::Bool),
        Just(Value::Null),
    ];
    let value = leaf.prop_recursive(2, 12, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..3).prop_map(Value::Array),
            prop::collection::btree_map("[a-z]{1,5}", inner, 0..3)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    });
    prop::collection::btree_map("[a-z_]{1,6}", value, 0..4)
        .prop_map(|m| Value::Object(m.into_iter().collect()))
}

/// A Gemini transcript: some text, then `calls` in one chunk, then the
/// finish chunk; records end with `\r\n\r\n`.
fn gemini_tool_stream(calls: &[Value]) -> String {
    let mut out = String::new();
    let mut record = |v: Value| {
        out.push_str("data: ");
        out.push_str(&v.to_string());
        out.push_str("\r\n\r\n");
    };
    let chunk = |parts: Value, finish: Option<&str>| {
        let mut candidate = json!({"content": {"role": "model", "parts": parts}, "index": 0});
        if let Some(f) = finish {
            candidate["finishReason"] = json!(f);
        }
        json!({"candidates": [candidate], "responseId": "r", "modelVersion": "gemini-2.5-flash",
               "usageMetadata": {"promptTokenCount": 3, "totalTokenCount": 3}})
    };
    record(chunk(json!([{"text": "Calling."}]), None));
    let parts: Vec<Value> = calls
        .iter()
        .enumerate()
        .map(|(i, args)| json!({"functionCall": {"name": format!("f{i}"), "args": args}}))
        .collect();
    record(chunk(Value::Array(parts), None));
    record(chunk(json!([{"text": ""}]), Some("STOP")));
    out
}

/// OpenAI client output: tool index → concatenated arguments.
fn openai_tool_args(bytes: &[u8]) -> BTreeMap<u64, String> {
    let mut calls: BTreeMap<u64, String> = BTreeMap::new();
    for (_, data) in decode_sse(bytes) {
        let Some(tool_calls) = data.pointer("/choices/0/delta/tool_calls") else {
            continue;
        };
        for call in tool_calls.as_array().unwrap() {
            let entry = calls.entry(call["index"].as_u64().unwrap()).or_default();
            if let Some(fragment) = call.pointer("/function/arguments").and_then(Value::as_str) {
                entry.push_str(fragment);
            }
        }
    }
    calls
}

/// Anthropic client output: tool-use block index → concatenated input JSON.
fn anthropic_tool_args(bytes: &[u8]) -> Vec<String> {
    let mut args: BTreeMap<u64, String> = BTreeMap::new();
    for (name, data) in decode_sse(bytes) {
        match name.as_deref() {
            Some("content_block_start") if data["content_block"]["type"] == "tool_use" => {
                args.insert(data["index"].as_u64().unwrap(), String::new());
            }
            Some("content_block_delta") => {
                let index = data["index"].as_u64().unwrap();
                if let (Some(entry), Some(fragment)) =
                    (args.get_mut(&index), data["delta"]["partial_json"].as_str())
                {
                    entry.push_str(fragment);
                }
            }
            _ => {}
        }
    }
    args.into_values().collect()
}

/// Gemini client output: the `functionCall` parts, in order.
fn gemini_calls(bytes: &[u8]) -> Vec<Value> {
    decode_sse(bytes)
        .into_iter()
        .flat_map(|(_, data)| {
            data.pointer("/candidates/0/content/parts")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default()
        })
        .filter_map(|p| p.get("functionCall").cloned())
        .collect()
}

/// `text` cut at char boundaries into non-empty fragments.
fn fragments(text: &str, cuts: &[Index]) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    let mut points: Vec<usize> = cuts.iter().map(|i| i.index(chars.len() + 1)).collect();
    points.sort_unstable();
    points.dedup();
    let mut out = Vec::new();
    let mut start = 0;
    for p in points.into_iter().chain([chars.len()]) {
        if p > start {
            out.push(chars[start..p].iter().collect());
            start = p;
        }
    }
    out
}

/// What a Gemini `functionCall.args` must be for arguments text: the
/// object it parses to, `{}` for nothing, else the text kept raw.
fn expected_args(text: &str) -> Value {
    match serde_json::from_str::<Value>(text.trim()) {
        _ if text.trim().is_empty() => json!({}),
        Ok(Value::Object(map)) => Value::Object(map),
        Ok(Value::Null) => json!({}),
        _ => json!({"_raw_arguments": text}),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    /// Gemini → OpenAI and Anthropic clients: each call's arguments text is
    /// exactly the JSON of Gemini's `args`, however the bytes arrive.
    #[test]
    fn gemini_call_arguments_reassemble(
        calls in prop::collection::vec(args_object(), 1..4),
        cuts in prop::collection::vec(any::<Index>(), 0..30),
    ) {
        let stream = gemini_tool_stream(&calls);
        let pieces = split(stream.as_bytes(), &cuts);
        let openai = openai_tool_args(&to_openai(&pieces));
        let anthropic = anthropic_tool_args(&to_anthropic(&pieces));
        prop_assert_eq!(openai.len(), calls.len());
        prop_assert_eq!(anthropic.len(), calls.len());
        for (i, args) in calls.iter().enumerate() {
            prop_assert_eq!(&openai[&(i as u64)], &args.to_string());
            prop_assert_eq!(&anthropic[i], &args.to_string());
        }
    }

    /// OpenAI → Gemini client: argument fragments (arbitrary text, even
    /// invalid JSON), sequential or interleaved, arrive as one whole
    /// `functionCall` each, and decoding that stream again gives back the
    /// exact text whenever Gemini had to keep it raw.
    #[test]
    fn openai_fragments_become_whole_gemini_calls(
        args in prop::collection::vec(prop_oneof!["\\PC{0,40}", args_object().prop_map(|v| v.to_string())], 1..4),
        cuts in prop::collection::vec(prop::collection::vec(any::<Index>(), 0..12), 4),
        interleave in any::<bool>(),
        chunk_cuts in prop::collection::vec(any::<Index>(), 0..20),
    ) {
        let calls: Vec<Vec<String>> = args.iter().zip(&cuts).map(|(a, c)| fragments(a, c)).collect();
        let mut stream = String::new();
        let mut chunk = |delta: Value, finish: Option<&str>| {
            let v = json!({"id": "c", "object": "chat.completion.chunk", "created": 1, "model": "m",
                           "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]});
            stream.push_str(&format!("data: {v}\n\n"));
        };
        chunk(json!({"role": "assistant"}), None);
        let mut order = Vec::new();
        let longest = calls.iter().map(Vec::len).max().unwrap_or(0);
        if interleave && args.iter().all(|a| serde_json::from_str::<Value>(a).is_ok_and(|v| v.is_object())) {
            for step in 0..longest.max(1) {
                for (i, call) in calls.iter().enumerate() {
                    if step < call.len().max(1) {
                        order.push((i, step));
                    }
                }
            }
        } else {
            for (i, call) in calls.iter().enumerate() {
                order.extend((0..call.len().max(1)).map(|step| (i, step)));
            }
        }
        for (i, step) in order {
            let fragment = calls[i].get(step).cloned().unwrap_or_default();
            let mut call = json!({"index": i, "function": {"arguments": fragment}});
            if step == 0 {
                call["id"] = json!(format!("call_{i}"));
                call["type"] = json!("function");
                call["function"]["name"] = json!(format!("f{i}"));
            }
            chunk(json!({"tool_calls": [call]}), None);
        }
        chunk(json!({}), Some("tool_calls"));
        stream.push_str("data: [DONE]\n\n");
        let pieces = split(stream.as_bytes(), &chunk_cuts);
        let out = run_stream(&mut OpenAiToGeminiStream::openai_to_gemini(opts()), &pieces);
        let got = gemini_calls(&out);
        prop_assert_eq!(got.len(), args.len());
        for (i, a) in args.iter().enumerate() {
            let call = got.iter().find(|c| c["id"] == format!("call_{i}")).unwrap();
            prop_assert_eq!(&call["args"], &expected_args(a));
        }
        // Back through the Gemini decoder: raw text is restored exactly.
        let events = ir_events(&[&out]);
        let texts: Vec<&str> = events
            .iter()
            .filter_map(|e| match e {
                StreamEvent::ToolArgsDelta { fragment, .. } => Some(fragment.as_str()),
                _ => None,
            })
            .collect();
        for (text, call) in texts.iter().zip(&got) {
            let id = call["id"].as_str().unwrap();
            let original = &args[id.trim_start_matches("call_").parse::<usize>().unwrap()];
            if expected_args(original).get("_raw_arguments").is_some() {
                prop_assert_eq!(*text, original.as_str());
            }
        }
    }

    /// Anthropic → Gemini client: `input_json_delta` fragments arrive as
    /// one whole `functionCall` per tool use.
    #[test]
    fn anthropic_fragments_become_whole_gemini_calls(
        args in prop::collection::vec(args_object(), 1..4),
        cuts in prop::collection::vec(prop::collection::vec(any::<Index>(), 0..12), 4),
        chunk_cuts in prop::collection::vec(any::<Index>(), 0..20),
    ) {
        let mut stream = String::new();
        let mut event = |name: &str, data: Value| {
            stream.push_str(&format!("event: {name}\ndata: {data}\n\n"));
        };
        event("message_start", json!({"type": "message_start", "message": {
            "id": "msg", "type": "message", "role": "assistant", "model": "claude",
            "content": [], "stop_reason": null, "stop_sequence": null,
            "usage": {"input_tokens": 1, "output_tokens": 1}}}));
        for (i, (a, c)) in args.iter().zip(&cuts).enumerate() {
            event("content_block_start", json!({"type": "content_block_start", "index": i,
                "content_block": {"type": "tool_use", "id": format!("toolu_{i}"), "name": "f", "input": {}}}));
            for fragment in fragments(&a.to_string(), c) {
                event("content_block_delta", json!({"type": "content_block_delta", "index": i,
                    "delta": {"type": "input_json_delta", "partial_json": fragment}}));
            }
            event("content_block_stop", json!({"type": "content_block_stop", "index": i}));
        }
        event("message_delta", json!({"type": "message_delta",
            "delta": {"stop_reason": "tool_use", "stop_sequence": null}, "usage": {"output_tokens": 5}}));
        event("message_stop", json!({"type": "message_stop"}));
        let pieces = split(stream.as_bytes(), &chunk_cuts);
        let out = run_stream(&mut AnthropicToGeminiStream::anthropic_to_gemini(opts()), &pieces);
        let got = gemini_calls(&out);
        prop_assert_eq!(got.len(), args.len());
        for (i, a) in args.iter().enumerate() {
            prop_assert_eq!(&got[i]["id"], &json!(format!("toolu_{i}")));
            prop_assert_eq!(&got[i]["args"], a);
        }
    }
}
