//! Property tests for the Responses stream converters: any re-chunking of a
//! recorded transcript yields the same client bytes; function-call
//! arguments split into arbitrary fragments reassemble exactly on the other
//! side; a Responses client stream always has consecutive sequence numbers
//! and stable item ids.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

use proptest::prelude::*;
use proptest::sample::Index;
use serde_json::{Value, json};
use support::{decode_sse, run_stream};
use switchyard_protocol::convert::{
    AnthropicToResponsesStream, EncodeOptions, OpenAiToResponsesStream, ResponsesToAnthropicStream,
    ResponsesToOpenAiStream,
};

fn opts() -> EncodeOptions {
    EncodeOptions {
        model: Some("client-model".to_owned()),
        created: 1,
        include_usage: true,
        estimated_input_tokens: None,
    }
}

/// Transcripts under `tests/fixtures/responses/streams` whose name starts
/// with `prefix`.
fn transcripts(prefix: &str) -> Vec<Vec<u8>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/responses/streams");
    let mut paths: Vec<_> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            let name = p.file_name().unwrap().to_str().unwrap();
            name.matches('.').count() == 1 && name.starts_with(prefix)
        })
        .collect();
    paths.sort();
    assert!(!paths.is_empty());
    paths.into_iter().map(|p| fs::read(p).unwrap()).collect()
}

/// The conversions exercised: (transcript prefix, converter).
const DIRECTIONS: [&str; 4] = [
    "responses>openai",
    "responses>anthropic",
    "chat>responses",
    "messages>responses",
];

fn convert(direction: &str, chunks: &[&[u8]]) -> Vec<u8> {
    match direction {
        "responses>openai" => run_stream(
            &mut ResponsesToOpenAiStream::responses_to_openai(opts()),
            chunks,
        ),
        "responses>anthropic" => run_stream(
            &mut ResponsesToAnthropicStream::responses_to_anthropic(opts()),
            chunks,
        ),
        "chat>responses" => run_stream(
            &mut OpenAiToResponsesStream::openai_to_responses(opts()),
            chunks,
        ),
        _ => run_stream(
            &mut AnthropicToResponsesStream::anthropic_to_responses(opts()),
            chunks,
        ),
    }
}

fn prefix(direction: &str) -> &str {
    direction.split('>').next().unwrap()
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

#[test]
fn one_byte_chunks_give_the_same_bytes() {
    for direction in DIRECTIONS {
        for transcript in transcripts(prefix(direction)) {
            let whole = convert(direction, &[&transcript]);
            let bytes: Vec<&[u8]> = transcript.chunks(1).collect();
            assert_eq!(convert(direction, &bytes), whole, "{direction}");
        }
    }
}

/// Checks the invariants of a Responses client stream: sequence numbers
/// 0, 1, 2, …; every event's `item_id` is the id its `output_index` was
/// added with; it ends with exactly one terminal event.
fn check_responses_stream(bytes: &[u8]) {
    let events = decode_sse(bytes);
    let mut ids: BTreeMap<u64, String> = BTreeMap::new();
    for (n, (name, data)) in events.iter().enumerate() {
        assert_eq!(name.as_deref(), data["type"].as_str(), "event name = type");
        assert_eq!(data["sequence_number"], json!(n), "sequence numbers");
        if name.as_deref() == Some("response.output_item.added") {
            let id = data["item"]["id"].as_str().unwrap().to_owned();
            assert!(
                ids.insert(data["output_index"].as_u64().unwrap(), id)
                    .is_none()
            );
        } else if let Some(item_id) = data["item_id"].as_str() {
            assert_eq!(ids[&data["output_index"].as_u64().unwrap()], item_id);
        } else if name.as_deref() == Some("response.output_item.done") {
            assert_eq!(
                ids[&data["output_index"].as_u64().unwrap()],
                data["item"]["id"].as_str().unwrap()
            );
        }
    }
    let terminal = |n: &Option<String>| {
        matches!(
            n.as_deref(),
            Some("response.completed" | "response.incomplete" | "response.failed")
        )
    };
    assert_eq!(events.iter().filter(|(n, _)| terminal(n)).count(), 1);
    assert!(terminal(&events.last().unwrap().0));
}

#[test]
fn responses_client_streams_are_well_formed() {
    for direction in ["chat>responses", "messages>responses"] {
        for transcript in transcripts(prefix(direction)) {
            check_responses_stream(&convert(direction, &[&transcript]));
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn any_rechunking_gives_the_same_bytes(
        cuts in prop::collection::vec(any::<Index>(), 0..40),
        which in any::<Index>(),
    ) {
        for direction in DIRECTIONS {
            let all = transcripts(prefix(direction));
            let transcript = &all[which.index(all.len())];
            let whole = convert(direction, &[transcript]);
            prop_assert_eq!(convert(direction, &split(transcript, &cuts)), whole);
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

fn event(out: &mut String, data: Value) {
    out.push_str(&format!(
        "event: {}\ndata: {data}\n\n",
        data["type"].as_str().unwrap()
    ));
}

/// A Responses upstream stream of function calls (name, argument fragments).
fn responses_tool_stream(calls: &[(String, Vec<String>)]) -> String {
    let mut out = String::new();
    let response = |status: &str, output: Value| {
        json!({"id": "resp_p", "object": "response", "created_at": 1, "status": status,
               "model": "gpt-5", "output": output, "usage": null})
    };
    event(
        &mut out,
        json!({"type": "response.created", "response": response("in_progress", json!([]))}),
    );
    let mut items = Vec::new();
    for (i, (name, frags)) in calls.iter().enumerate() {
        let id = format!("fc_{i}");
        let mut item = json!({"type": "function_call", "id": id, "call_id": format!("call_{i}"),
                              "name": name, "arguments": "", "status": "in_progress"});
        event(
            &mut out,
            json!({"type": "response.output_item.added", "output_index": i, "item": item}),
        );
        for f in frags {
            event(
                &mut out,
                json!({"type": "response.function_call_arguments.delta",
                                   "item_id": id, "output_index": i, "delta": f}),
            );
        }
        let args: String = frags.concat();
        event(
            &mut out,
            json!({"type": "response.function_call_arguments.done",
                               "item_id": id, "output_index": i, "arguments": args}),
        );
        item["arguments"] = json!(args);
        item["status"] = json!("completed");
        event(
            &mut out,
            json!({"type": "response.output_item.done", "output_index": i, "item": item}),
        );
        items.push(item);
    }
    event(
        &mut out,
        json!({"type": "response.completed", "response": response("completed", json!(items))}),
    );
    out
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

/// Anthropic client output: tool-use id → concatenated `partial_json`.
fn anthropic_tool_args(bytes: &[u8]) -> BTreeMap<String, String> {
    let mut ids = BTreeMap::new();
    let mut args: BTreeMap<String, String> = BTreeMap::new();
    for (name, data) in decode_sse(bytes) {
        match name.as_deref() {
            Some("content_block_start") if data["content_block"]["type"] == "tool_use" => {
                let id = data["content_block"]["id"].as_str().unwrap().to_owned();
                args.insert(id.clone(), String::new());
                ids.insert(data["index"].as_u64().unwrap(), id);
            }
            Some("content_block_delta") => {
                if let Some(fragment) = data["delta"]["partial_json"].as_str() {
                    let id = &ids[&data["index"].as_u64().unwrap()];
                    args.get_mut(id).unwrap().push_str(fragment);
                }
            }
            _ => {}
        }
    }
    args
}

/// Responses client output: call id → (streamed deltas, `.done`
/// arguments, arguments in the final response).
fn responses_tool_args(bytes: &[u8]) -> BTreeMap<String, (String, String, String)> {
    let mut by_item: BTreeMap<String, String> = BTreeMap::new();
    let mut out: BTreeMap<String, (String, String, String)> = BTreeMap::new();
    for (name, data) in decode_sse(bytes) {
        match name.as_deref() {
            Some("response.output_item.added") if data["item"]["type"] == "function_call" => {
                let call_id = data["item"]["call_id"].as_str().unwrap().to_owned();
                by_item.insert(
                    data["item"]["id"].as_str().unwrap().to_owned(),
                    call_id.clone(),
                );
                out.insert(call_id, Default::default());
            }
            Some("response.function_call_arguments.delta") => {
                let call = &by_item[data["item_id"].as_str().unwrap()];
                out.get_mut(call)
                    .unwrap()
                    .0
                    .push_str(data["delta"].as_str().unwrap());
            }
            Some("response.function_call_arguments.done") => {
                let call = &by_item[data["item_id"].as_str().unwrap()];
                out.get_mut(call).unwrap().1 = data["arguments"].as_str().unwrap().to_owned();
            }
            Some("response.completed") => {
                for item in data["response"]["output"].as_array().unwrap() {
                    if item["type"] == "function_call" {
                        let call = item["call_id"].as_str().unwrap();
                        out.get_mut(call).unwrap().2 =
                            item["arguments"].as_str().unwrap().to_owned();
                    }
                }
            }
            _ => {}
        }
    }
    out
}

fn openai_chunk(delta: Value, finish: Option<&str>) -> Value {
    json!({"id": "c", "object": "chat.completion.chunk", "created": 1, "model": "m",
           "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]})
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// Responses upstream → OpenAI and Anthropic clients, arbitrary (even
    /// invalid) argument text.
    #[test]
    fn responses_tool_arguments_reassemble(
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
        let stream = responses_tool_stream(&calls);
        let pieces = split(stream.as_bytes(), &chunk_cuts);
        let openai = openai_tool_args(&convert("responses>openai", &pieces));
        let anthropic = anthropic_tool_args(&convert("responses>anthropic", &pieces));
        prop_assert_eq!(openai.len(), args.len());
        for (i, a) in args.iter().enumerate() {
            let (id, text) = &openai[&(i as u64)];
            prop_assert_eq!(id, &format!("call_{i}"));
            prop_assert_eq!(text, a);
            prop_assert_eq!(&anthropic[&format!("call_{i}")], a);
        }
    }

    /// OpenAI upstream (sequential calls) → Responses client.
    #[test]
    fn openai_tool_arguments_reassemble_for_responses(
        args in prop::collection::vec("\\PC{1,40}", 1..4),
        cuts in prop::collection::vec(prop::collection::vec(any::<Index>(), 0..12), 4),
        chunk_cuts in prop::collection::vec(any::<Index>(), 0..20),
    ) {
        let mut stream = String::new();
        let mut data = |v: Value| stream.push_str(&format!("data: {v}\n\n"));
        data(openai_chunk(json!({"role": "assistant"}), None));
        for (i, (a, c)) in args.iter().zip(&cuts).enumerate() {
            for (step, fragment) in fragments(a, c).into_iter().enumerate() {
                let mut call = json!({"index": i, "function": {"arguments": fragment}});
                if step == 0 {
                    call["id"] = json!(format!("call_{i}"));
                    call["function"]["name"] = json!("f");
                }
                data(openai_chunk(json!({"tool_calls": [call]}), None));
            }
        }
        data(openai_chunk(json!({}), Some("tool_calls")));
        stream.push_str("data: [DONE]\n\n");
        let out = convert("chat>responses", &split(stream.as_bytes(), &chunk_cuts));
        check_responses_stream(&out);
        let got = responses_tool_args(&out);
        prop_assert_eq!(got.len(), args.len());
        for (i, a) in args.iter().enumerate() {
            let (deltas, done, last) = &got[&format!("call_{i}")];
            prop_assert_eq!(deltas, a);
            prop_assert_eq!(done, a);
            prop_assert_eq!(last, a);
        }
    }

    /// Anthropic upstream → Responses client.
    #[test]
    fn anthropic_tool_arguments_reassemble_for_responses(
        args in prop::collection::vec("\\PC{1,40}", 1..4),
        cuts in prop::collection::vec(prop::collection::vec(any::<Index>(), 0..12), 4),
        chunk_cuts in prop::collection::vec(any::<Index>(), 0..20),
    ) {
        let mut stream = String::new();
        let mut ev = |data: Value| event(&mut stream, data);
        ev(json!({"type": "message_start", "message": {"id": "msg", "type": "message",
            "role": "assistant", "model": "claude", "content": [], "stop_reason": null,
            "stop_sequence": null, "usage": {"input_tokens": 1, "output_tokens": 1}}}));
        for (i, (a, c)) in args.iter().zip(&cuts).enumerate() {
            ev(json!({"type": "content_block_start", "index": i, "content_block":
                {"type": "tool_use", "id": format!("toolu_{i}"), "name": "f", "input": {}}}));
            for fragment in fragments(a, c) {
                ev(json!({"type": "content_block_delta", "index": i,
                    "delta": {"type": "input_json_delta", "partial_json": fragment}}));
            }
            ev(json!({"type": "content_block_stop", "index": i}));
        }
        ev(json!({"type": "message_delta", "delta": {"stop_reason": "tool_use", "stop_sequence": null},
            "usage": {"output_tokens": 5}}));
        ev(json!({"type": "message_stop"}));
        let out = convert("messages>responses", &split(stream.as_bytes(), &chunk_cuts));
        check_responses_stream(&out);
        let got = responses_tool_args(&out);
        for (i, a) in args.iter().enumerate() {
            let (deltas, done, last) = &got[&format!("toolu_{i}")];
            prop_assert_eq!(deltas, a);
            prop_assert_eq!(done, a);
            prop_assert_eq!(last, a);
        }
    }
}
