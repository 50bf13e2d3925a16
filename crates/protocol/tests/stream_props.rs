//! Property tests for the stream converters: any re-chunking of an upstream
//! transcript yields the same client events, and tool-call arguments split
//! into arbitrary fragments reassemble exactly on the other side.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

use proptest::prelude::*;
use proptest::sample::Index;
use serde_json::{Value, json};
use support::{anthropic_to_openai, decode_sse, openai_to_anthropic, run_stream};
use switchyard_protocol::convert::EncodeOptions;

fn opts() -> EncodeOptions {
    EncodeOptions {
        model: Some("client-model".to_owned()),
        created: 1,
        include_usage: true,
        estimated_input_tokens: None,
    }
}

/// All upstream transcripts of one protocol.
fn transcripts(protocol: &str) -> Vec<Vec<u8>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(protocol)
        .join("streams");
    let mut paths: Vec<_> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
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

fn convert(protocol: &str, chunks: &[&[u8]]) -> Vec<u8> {
    match protocol {
        "anthropic" => run_stream(&mut anthropic_to_openai(opts()), chunks),
        _ => run_stream(&mut openai_to_anthropic(opts()), chunks),
    }
}

#[test]
fn one_byte_chunks_give_the_same_events() {
    for protocol in ["anthropic", "openai"] {
        for transcript in transcripts(protocol) {
            let whole = convert(protocol, &[&transcript]);
            let bytes: Vec<&[u8]> = transcript.chunks(1).collect();
            assert_eq!(convert(protocol, &bytes), whole);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn any_rechunking_gives_the_same_events(
        cuts in prop::collection::vec(any::<Index>(), 0..40),
        which in any::<Index>(),
    ) {
        for protocol in ["anthropic", "openai"] {
            let all = transcripts(protocol);
            let transcript = &all[which.index(all.len())];
            let whole = convert(protocol, &[transcript]);
            let pieces = split(transcript, &cuts);
            prop_assert_eq!(convert(protocol, &pieces), whole);
        }
    }
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

fn sse_data(out: &mut String, value: &Value) {
    out.push_str("data: ");
    out.push_str(&value.to_string());
    out.push_str("\n\n");
}

fn openai_chunk(delta: Value, finish: Option<&str>) -> Value {
    json!({"id": "c", "object": "chat.completion.chunk", "created": 1, "model": "m",
           "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]})
}

/// An OpenAI upstream stream streaming `calls` (name, argument fragments),
/// one call after another or round-robin interleaved.
fn openai_tool_stream(calls: &[(String, Vec<String>)], interleave: bool) -> String {
    let mut out = String::new();
    sse_data(&mut out, &openai_chunk(json!({"role": "assistant"}), None));
    let mut order = Vec::new();
    if interleave {
        let longest = calls.iter().map(|c| c.1.len()).max().unwrap_or(0);
        for step in 0..longest {
            for (i, call) in calls.iter().enumerate() {
                if step < call.1.len() {
                    order.push((i, step));
                }
            }
        }
    } else {
        for (i, call) in calls.iter().enumerate() {
            order.extend((0..call.1.len()).map(|step| (i, step)));
        }
    }
    for (i, step) in order {
        let (name, frags) = &calls[i];
        let mut call = json!({"index": i, "function": {"arguments": frags[step]}});
        if step == 0 {
            call["id"] = json!(format!("call_{i}"));
            call["type"] = json!("function");
            call["function"]["name"] = json!(name);
        }
        sse_data(&mut out, &openai_chunk(json!({"tool_calls": [call]}), None));
    }
    sse_data(&mut out, &openai_chunk(json!({}), Some("tool_calls")));
    out.push_str("data: [DONE]\n\n");
    out
}

/// Anthropic client output: tool-use id → concatenated `partial_json`.
fn anthropic_tool_args(bytes: &[u8]) -> BTreeMap<String, String> {
    let mut ids = BTreeMap::new();
    let mut args: BTreeMap<String, String> = BTreeMap::new();
    let mut open: Option<u64> = None;
    for (name, data) in decode_sse(bytes) {
        match name.as_deref() {
            Some("content_block_start") => {
                assert!(open.is_none(), "a block started while another is open");
                let index = data["index"].as_u64().unwrap();
                open = Some(index);
                if data["content_block"]["type"] == "tool_use" {
                    let id = data["content_block"]["id"].as_str().unwrap().to_owned();
                    args.insert(id.clone(), String::new());
                    ids.insert(index, id);
                }
            }
            Some("content_block_delta") => {
                let index = data["index"].as_u64().unwrap();
                assert_eq!(open, Some(index), "delta for a block that is not open");
                if let Some(fragment) = data["delta"]["partial_json"].as_str() {
                    args.get_mut(&ids[&index]).unwrap().push_str(fragment);
                }
            }
            Some("content_block_stop") => open = None,
            _ => {}
        }
    }
    args
}

/// OpenAI client output: tool index → (id, concatenated arguments).
fn openai_tool_args(bytes: &[u8]) -> BTreeMap<u64, (String, String)> {
    let mut calls: BTreeMap<u64, (String, String)> = BTreeMap::new();
    for (_, data) in decode_sse(bytes) {
        let Some(tool_calls) = data.pointer("/choices/0/delta/tool_calls") else {
            continue;
        };
        for call in tool_calls.as_array().unwrap() {
            let entry = calls.entry(call["index"].as_u64().unwrap()).or_default();
            if let Some(id) = call["id"].as_str() {
                entry.0 = id.to_owned();
            }
            if let Some(fragment) = call.pointer("/function/arguments").and_then(Value::as_str) {
                entry.1.push_str(fragment);
            }
        }
    }
    calls
}

/// A JSON object with string values, as arguments text.
fn json_object() -> impl Strategy<Value = String> {
    prop::collection::btree_map("[a-z]{1,6}", "\\PC{0,12}", 0..4)
        .prop_map(|m| serde_json::to_string(&m).unwrap())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// Sequential calls with arbitrary (even invalid) argument text.
    #[test]
    fn openai_tool_arguments_reassemble_for_anthropic(
        args in prop::collection::vec("\\PC{1,40}", 1..4),
        cuts in prop::collection::vec(prop::collection::vec(any::<Index>(), 0..12), 4),
        chunk_cuts in prop::collection::vec(any::<Index>(), 0..20),
    ) {
        let calls: Vec<(String, Vec<String>)> = args
            .iter()
            .zip(&cuts)
            .enumerate()
            .map(|(i, (a, c))| (format!("f{i}"), fragments(a, c)))
            .collect();
        let stream = openai_tool_stream(&calls, false);
        let pieces = split(stream.as_bytes(), &chunk_cuts);
        let out = run_stream(&mut openai_to_anthropic(opts()), &pieces);
        let got = anthropic_tool_args(&out);
        for (i, a) in args.iter().enumerate() {
            prop_assert_eq!(&got[&format!("call_{i}")], a);
        }
    }

    /// Interleaved calls (valid JSON, as real providers send).
    #[test]
    fn interleaved_openai_tool_arguments_reassemble_for_anthropic(
        args in prop::collection::vec(json_object(), 2..4),
        cuts in prop::collection::vec(prop::collection::vec(any::<Index>(), 0..12), 4),
    ) {
        let calls: Vec<(String, Vec<String>)> = args
            .iter()
            .zip(&cuts)
            .enumerate()
            .map(|(i, (a, c))| (format!("f{i}"), fragments(a, c)))
            .collect();
        let stream = openai_tool_stream(&calls, true);
        let out = run_stream(&mut openai_to_anthropic(opts()), &[stream.as_bytes()]);
        let got = anthropic_tool_args(&out);
        for (i, a) in args.iter().enumerate() {
            prop_assert_eq!(&got[&format!("call_{i}")], a);
        }
    }

    #[test]
    fn anthropic_tool_arguments_reassemble_for_openai(
        args in prop::collection::vec("\\PC{1,40}", 1..4),
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
            for fragment in fragments(a, c) {
                event("content_block_delta", json!({"type": "content_block_delta", "index": i,
                    "delta": {"type": "input_json_delta", "partial_json": fragment}}));
            }
            event("content_block_stop", json!({"type": "content_block_stop", "index": i}));
        }
        event("message_delta", json!({"type": "message_delta",
            "delta": {"stop_reason": "tool_use", "stop_sequence": null}, "usage": {"output_tokens": 5}}));
        event("message_stop", json!({"type": "message_stop"}));
        let pieces = split(stream.as_bytes(), &chunk_cuts);
        let out = run_stream(&mut anthropic_to_openai(opts()), &pieces);
        let got = openai_tool_args(&out);
        prop_assert_eq!(got.len(), args.len());
        for (i, a) in args.iter().enumerate() {
            let (id, text) = &got[&(i as u64)];
            prop_assert_eq!(id, &format!("toolu_{i}"));
            prop_assert_eq!(text, a);
        }
    }
}
