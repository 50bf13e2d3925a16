//! Golden tests for the OpenAI Responses converters.
//!
//! Inputs live under `tests/fixtures/responses/<kind>/`; the file name's
//! prefix says which dialect the input is in: `responses_…` (converted to
//! Chat as `<name>.openai.*` and to Anthropic as `<name>.anthropic.*`),
//! `chat_…` and `messages_…` (converted to Responses as
//! `<name>.responses.*`). Error fixtures (`<status>_<name>`) are converted
//! both to Anthropic and to Responses. JSON is compared as values; SSE as
//! the sequence of (event name, data as JSON) pairs.
//!
//! To (re)generate expected files after an intended change, run with
//! `SWITCHYARD_BLESS=1` and review the diff before committing.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::fs;
use std::path::{Path, PathBuf};

use serde_json::{Value, json};
use support::{decode_sse, run_stream};
use switchyard_protocol::anthropic::MessagesRequest;
use switchyard_protocol::convert::{
    self, AnthropicRequestOptions, AnthropicToResponsesStream, ChatRequestOptions, EncodeOptions,
    OpenAiToResponsesStream, ResponsesRequestOptions, ResponsesToAnthropicStream,
    ResponsesToOpenAiStream,
};
use switchyard_protocol::openai::ChatRequest;
use switchyard_protocol::responses::{ResponseObject, ResponsesRequest};

fn fixtures(kind: &str, prefix: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/responses")
        .join(kind);
    let mut inputs: Vec<PathBuf> = fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            let name = p.file_name().unwrap().to_str().unwrap();
            // Inputs have a single extension; expected outputs two.
            name.matches('.').count() == 1 && name.starts_with(prefix)
        })
        .collect();
    inputs.sort();
    assert!(
        !inputs.is_empty(),
        "no {prefix}* fixtures in {}",
        dir.display()
    );
    inputs
}

fn expected_path(input: &Path, target: &str, ext: &str) -> PathBuf {
    let stem = input.file_stem().unwrap().to_str().unwrap();
    input.with_file_name(format!("{stem}.{target}.{ext}"))
}

fn bless() -> bool {
    std::env::var_os("SWITCHYARD_BLESS").is_some()
}

fn check_json(input: &Path, target: &str, actual: &Value) {
    let path = expected_path(input, target, "json");
    if bless() {
        fs::write(&path, serde_json::to_string_pretty(actual).unwrap() + "\n").unwrap();
        return;
    }
    let text = fs::read_to_string(&path)
        .unwrap_or_else(|_| panic!("missing {} (run with SWITCHYARD_BLESS=1)", path.display()));
    let expected: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(
        actual,
        &expected,
        "{} differs from {}:\n{}",
        input.display(),
        path.display(),
        serde_json::to_string_pretty(actual).unwrap()
    );
}

fn check_sse(input: &Path, target: &str, actual: &[u8]) {
    let path = expected_path(input, target, "sse");
    if bless() {
        fs::write(&path, actual).unwrap();
        return;
    }
    let expected = fs::read(&path)
        .unwrap_or_else(|_| panic!("missing {} (run with SWITCHYARD_BLESS=1)", path.display()));
    assert_eq!(
        decode_sse(actual),
        decode_sse(&expected),
        "{} differs from {}:\n{}",
        input.display(),
        path.display(),
        String::from_utf8_lossy(actual)
    );
}

fn encode_options() -> EncodeOptions {
    EncodeOptions {
        model: None,
        created: 1_700_000_000,
        include_usage: true,
        estimated_input_tokens: None,
    }
}

fn model_of(body: &[u8]) -> String {
    let value: Value = serde_json::from_slice(body).unwrap();
    value["model"].as_str().unwrap().to_owned()
}

#[test]
fn responses_requests_to_chat_and_messages() {
    for input in fixtures("requests", "responses_") {
        let body = fs::read(&input).unwrap();
        let model = model_of(&body);
        let chat =
            convert::responses_request_to_chat(&body, &model, &ChatRequestOptions::default())
                .unwrap();
        check_json(&input, "openai", &serde_json::from_slice(&chat).unwrap());
        let messages = convert::responses_request_to_messages(
            &body,
            &model,
            &AnthropicRequestOptions::default(),
        )
        .unwrap();
        check_json(
            &input,
            "anthropic",
            &serde_json::from_slice(&messages).unwrap(),
        );
    }
}

#[test]
fn chat_and_messages_requests_to_responses() {
    let opts = ResponsesRequestOptions::default();
    for input in fixtures("requests", "chat_") {
        let body = fs::read(&input).unwrap();
        let out = convert::chat_request_to_responses(&body, &model_of(&body), &opts).unwrap();
        check_json(&input, "responses", &serde_json::from_slice(&out).unwrap());
    }
    for input in fixtures("requests", "messages_") {
        let body = fs::read(&input).unwrap();
        let out = convert::messages_request_to_responses(&body, &model_of(&body), &opts).unwrap();
        check_json(&input, "responses", &serde_json::from_slice(&out).unwrap());
    }
}

#[test]
fn request_fixtures_survive_a_same_protocol_round_trip() {
    for input in fixtures("requests", "responses_") {
        let mut value: Value = serde_json::from_slice(&fs::read(&input).unwrap()).unwrap();
        let req: ResponsesRequest = serde_json::from_value(value.clone()).unwrap();
        // Easy input messages may omit `type`; it is always written back.
        if let Some(items) = value["input"].as_array_mut() {
            for item in items {
                if item.get("type").is_none() {
                    item["type"] = json!("message");
                }
            }
        }
        assert_eq!(
            serde_json::to_value(&req).unwrap(),
            value,
            "{}",
            input.display()
        );
    }
    for input in fixtures("responses", "responses_") {
        let value: Value = serde_json::from_slice(&fs::read(&input).unwrap()).unwrap();
        let resp: ResponseObject = serde_json::from_value(value.clone()).unwrap();
        assert_eq!(
            serde_json::to_value(&resp).unwrap(),
            value,
            "{}",
            input.display()
        );
    }
}

#[test]
fn responses_to_chat_and_messages() {
    for input in fixtures("responses", "responses_") {
        let body = fs::read(&input).unwrap();
        let object: ResponseObject = serde_json::from_slice(&body).unwrap();
        let error = convert::responses::response_error(&object)
            .map(|e| json!({"status": e.status, "message": e.message, "code": e.code}));
        let (out, usage) = convert::responses_response_to_chat(&body, &encode_options()).unwrap();
        let mut value: Value = serde_json::from_slice(&out).unwrap();
        value["x_normalised_usage"] = serde_json::to_value(usage).unwrap();
        value["x_error"] = serde_json::to_value(&error).unwrap();
        check_json(&input, "openai", &value);
        let (out, usage) =
            convert::responses_response_to_messages(&body, &encode_options()).unwrap();
        let mut value: Value = serde_json::from_slice(&out).unwrap();
        value["x_normalised_usage"] = serde_json::to_value(usage).unwrap();
        check_json(&input, "anthropic", &value);
    }
}

#[test]
fn chat_and_messages_responses_to_responses() {
    for (prefix, convert) in [
        (
            "chat_",
            convert::chat_response_to_responses
                as fn(&[u8], &EncodeOptions) -> Result<_, convert::ConvertError>,
        ),
        ("messages_", convert::messages_response_to_responses),
    ] {
        for input in fixtures("responses", prefix) {
            let (out, usage) = convert(&fs::read(&input).unwrap(), &encode_options()).unwrap();
            let mut value: Value = serde_json::from_slice(&out).unwrap();
            value["x_normalised_usage"] = serde_json::to_value(usage).unwrap();
            check_json(&input, "responses", &value);
        }
    }
}

#[test]
fn responses_streams_to_chat_and_messages() {
    for input in fixtures("streams", "responses_") {
        let transcript = fs::read(&input).unwrap();
        let mut conv = ResponsesToOpenAiStream::responses_to_openai(encode_options());
        check_sse(&input, "openai", &run_stream(&mut conv, &[&transcript]));
        let mut conv = ResponsesToAnthropicStream::responses_to_anthropic(encode_options());
        check_sse(&input, "anthropic", &run_stream(&mut conv, &[&transcript]));
    }
}

#[test]
fn chat_and_messages_streams_to_responses() {
    for input in fixtures("streams", "chat_") {
        let mut conv = OpenAiToResponsesStream::openai_to_responses(encode_options());
        let out = run_stream(&mut conv, &[&fs::read(&input).unwrap()]);
        check_sse(&input, "responses", &out);
    }
    for input in fixtures("streams", "messages_") {
        let mut conv = AnthropicToResponsesStream::anthropic_to_responses(encode_options());
        let out = run_stream(&mut conv, &[&fs::read(&input).unwrap()]);
        check_sse(&input, "responses", &out);
    }
}

fn status_of(input: &Path) -> u16 {
    let name = input.file_name().unwrap().to_str().unwrap();
    name.split('_').next().unwrap().parse().unwrap()
}

#[test]
fn errors_both_ways() {
    for input in fixtures("errors", "") {
        let body = fs::read(&input).unwrap();
        let status = status_of(&input);
        let out = convert::responses_error_to_anthropic(status, &body);
        check_json(&input, "anthropic", &serde_json::from_slice(&out).unwrap());
        let out = convert::error_to_responses(status, &body);
        check_json(&input, "responses", &serde_json::from_slice(&out).unwrap());
    }
}

fn fixture(kind: &str, name: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/responses")
        .join(kind)
        .join(name);
    fs::read(path).unwrap()
}

/// The final response of a Responses client stream.
fn completed_response(sse: &[u8]) -> Value {
    let events = decode_sse(sse);
    let (name, data) = events.last().unwrap();
    assert_eq!(name.as_deref(), Some("response.completed"));
    data["response"].clone()
}

/// Anthropic upstream → Responses client → (next turn) → Anthropic
/// upstream: signed thinking, redacted thinking and the tool call come back
/// exactly as Anthropic produced them.
#[test]
fn anthropic_thinking_survives_a_responses_client_turn() {
    let mut conv = AnthropicToResponsesStream::anthropic_to_responses(encode_options());
    let out = run_stream(
        &mut conv,
        &[&fixture("streams", "messages_thinking_tools.sse")],
    );
    let response = completed_response(&out);
    let mut input = vec![json!({"role": "user", "content": "Weather in Paris?"})];
    input.extend(response["output"].as_array().unwrap().iter().cloned());
    input.push(json!({"type": "function_call_output", "call_id": "toolu_01A", "output": "sunny"}));
    let next =
        json!({"model": "claude-sonnet-4-5", "input": input, "reasoning": {"effort": "medium"}});
    let body = serde_json::to_vec(&next).unwrap();
    let messages = convert::responses_request_to_messages(
        &body,
        "claude-sonnet-4-5",
        &AnthropicRequestOptions::default(),
    )
    .unwrap();
    let req: Value = serde_json::from_slice(&messages).unwrap();
    let assistant = &req["messages"][1]["content"];
    assert_eq!(
        assistant[0],
        json!({"type": "thinking", "thinking": "Need the weather tool.", "signature": "EqQBCkgIARABGAIiQL2"})
    );
    assert_eq!(
        assistant[1],
        json!({"type": "redacted_thinking", "data": "EmwKAhgBEgy3va3pzix"})
    );
    assert_eq!(assistant[2]["text"], "Let me check.");
    assert_eq!(assistant[3]["id"], "toolu_01A");
    assert_eq!(assistant[3]["input"], json!({"city": "Paris"}));
    assert_eq!(req["messages"][2]["content"][0]["tool_use_id"], "toolu_01A");
    assert!(req["thinking"].is_object(), "thinking stays on: {req}");
}

/// Responses upstream → Chat client → (next turn) → Responses upstream:
/// the encrypted reasoning travels as a thinking signature and comes back
/// as `encrypted_content`, without the stored item id.
#[test]
fn encrypted_reasoning_survives_a_chat_client_turn() {
    let body = fixture("responses", "responses_reasoning_tools.json");
    let (chat, _) = convert::responses_response_to_chat(&body, &encode_options()).unwrap();
    let chat: Value = serde_json::from_slice(&chat).unwrap();
    let assistant = chat["choices"][0]["message"].clone();
    let next = json!({"model": "o3", "messages": [
        {"role": "user", "content": "Look up rust"},
        assistant,
        {"role": "tool", "tool_call_id": "call_lookup", "content": "found"}
    ]});
    let body = serde_json::to_vec(&next).unwrap();
    let out = convert::chat_request_to_responses(&body, "o3", &ResponsesRequestOptions::default())
        .unwrap();
    let req: Value = serde_json::from_slice(&out).unwrap();
    let input = req["input"].as_array().unwrap();
    let reasoning = input.iter().find(|i| i["type"] == "reasoning").unwrap();
    assert_eq!(
        reasoning["encrypted_content"],
        "gAAAAABoNonStreamReasoning=="
    );
    assert!(reasoning.get("id").is_none());
    let call = input.iter().find(|i| i["type"] == "function_call").unwrap();
    assert_eq!(call["call_id"], "call_lookup");
    let output = input
        .iter()
        .find(|i| i["type"] == "function_call_output")
        .unwrap();
    assert_eq!(output["output"], "found");
    assert_eq!(req["include"], json!(["reasoning.encrypted_content"]));
    assert_eq!(req["store"], json!(false));
}

/// Responses upstream → Anthropic client → (next turn) → Responses upstream.
#[test]
fn encrypted_reasoning_survives_an_anthropic_client_turn() {
    let body = fixture("responses", "responses_reasoning_tools.json");
    let (msg, _) = convert::responses_response_to_messages(&body, &encode_options()).unwrap();
    let msg: Value = serde_json::from_slice(&msg).unwrap();
    let next = json!({"model": "o3", "max_tokens": 1000, "messages": [
        {"role": "user", "content": "Look up rust"},
        {"role": "assistant", "content": msg["content"]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "call_lookup", "content": "found"}]}
    ]});
    let body = serde_json::to_vec(&next).unwrap();
    let req: MessagesRequest = serde_json::from_slice(&body).unwrap();
    assert_eq!(req.messages.len(), 3);
    let out =
        convert::messages_request_to_responses(&body, "o3", &ResponsesRequestOptions::default())
            .unwrap();
    let req: Value = serde_json::from_slice(&out).unwrap();
    let input = req["input"].as_array().unwrap();
    assert_eq!(input[1]["type"], "reasoning");
    assert_eq!(
        input[1]["encrypted_content"],
        "gAAAAABoNonStreamReasoning=="
    );
    assert_eq!(input[3]["type"], "function_call");
    assert_eq!(input[3]["call_id"], "call_lookup");
    assert_eq!(
        input[4],
        json!({"type": "function_call_output", "call_id": "call_lookup", "output": "found"})
    );
}

/// Chat upstream with a Gemini-style tool-call signature → Responses
/// client → (next turn) → Chat upstream that takes signatures back.
#[test]
fn tool_call_signatures_survive_a_responses_client_turn() {
    let body = fixture("responses", "chat_tool_calls.json");
    let (resp, _) = convert::chat_response_to_responses(&body, &encode_options()).unwrap();
    let resp: Value = serde_json::from_slice(&resp).unwrap();
    let mut input = vec![json!({"role": "user", "content": "search a"})];
    input.extend(resp["output"].as_array().unwrap().iter().cloned());
    let next = json!({"model": "gemini-3-pro", "input": input});
    let chat = convert::responses_request_to_chat(
        &serde_json::to_vec(&next).unwrap(),
        "gemini-3-pro",
        &ChatRequestOptions {
            signatures_in_history: true,
            ..ChatRequestOptions::default()
        },
    )
    .unwrap();
    let chat: ChatRequest = serde_json::from_slice(&chat).unwrap();
    let calls = chat.messages[1].tool_calls.as_ref().unwrap();
    assert_eq!(calls.len(), 2);
    assert_eq!(
        calls[1].extra["extra_content"],
        json!({"google": {"thought_signature": "CiQBsig"}})
    );
    assert!(!calls[0].extra.contains_key("extra_content"));
}
