//! Golden tests for the protocol converters.
//!
//! Every input fixture under `tests/fixtures/<protocol>/<kind>/` is
//! converted to the other protocol and compared with the expected output
//! checked in next to it (`<name>.<target>.json` or `<name>.<target>.sse`).
//! JSON is compared as values; SSE as the sequence of (event name, data as
//! JSON) pairs.
//!
//! To (re)generate expected files after an intended change, run with
//! `SWITCHYARD_BLESS=1` and review the diff before committing.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::fs;
use std::path::{Path, PathBuf};

use serde_json::Value;
use support::{anthropic_to_openai, decode_sse, openai_to_anthropic, run_stream};
use switchyard_protocol::anthropic::MessagesRequest;
use switchyard_protocol::convert::{
    self, AnthropicRequestOptions, ChatRequestOptions, EncodeOptions,
};
use switchyard_protocol::openai::ChatRequest;

fn fixtures(protocol: &str, kind: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(protocol)
        .join(kind);
    let mut inputs: Vec<PathBuf> = fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            let name = p.file_name().unwrap().to_str().unwrap();
            // Inputs have a single extension; expected outputs two.
            name.matches('.').count() == 1
        })
        .collect();
    inputs.sort();
    assert!(!inputs.is_empty(), "no fixtures in {}", dir.display());
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

fn read_json(path: &Path) -> Value {
    serde_json::from_slice(&fs::read(path).unwrap()).unwrap()
}

fn encode_options(name: &str) -> EncodeOptions {
    EncodeOptions {
        model: None,
        created: 1_700_000_000,
        include_usage: !name.contains("no_include_usage"),
        estimated_input_tokens: None,
    }
}

#[test]
fn openai_requests_to_anthropic() {
    for input in fixtures("openai", "requests") {
        let body = fs::read(&input).unwrap();
        let req: ChatRequest = serde_json::from_slice(&body).unwrap();
        let name = input.to_str().unwrap();
        let opts = AnthropicRequestOptions {
            adaptive_thinking: name.contains("adaptive"),
            default_max_tokens: None,
        };
        let out = convert::chat_request_to_messages(&body, &req.model, &opts).unwrap();
        check_json(&input, "anthropic", &serde_json::from_slice(&out).unwrap());
    }
}

#[test]
fn anthropic_requests_to_openai() {
    for input in fixtures("anthropic", "requests") {
        let body = fs::read(&input).unwrap();
        let req: MessagesRequest = serde_json::from_slice(&body).unwrap();
        let opts = ChatRequestOptions::default();
        let out = convert::messages_request_to_chat(&body, &req.model, &opts).unwrap();
        check_json(&input, "openai", &serde_json::from_slice(&out).unwrap());
    }
}

#[test]
fn request_fixtures_survive_a_same_protocol_round_trip() {
    for input in fixtures("openai", "requests") {
        let mut value = read_json(&input);
        let req: ChatRequest = serde_json::from_value(value.clone()).unwrap();
        let mut back = serde_json::to_value(&req).unwrap();
        // `content` is always written (as null when absent); drop null
        // contents on both sides to compare.
        for v in [&mut back, &mut value] {
            for msg in v["messages"].as_array_mut().unwrap() {
                if msg["content"].is_null() {
                    msg.as_object_mut().unwrap().remove("content");
                }
            }
        }
        assert_eq!(back, value, "{}", input.display());
    }
    for input in fixtures("anthropic", "requests") {
        let value = read_json(&input);
        let req: MessagesRequest = serde_json::from_value(value.clone()).unwrap();
        assert_eq!(
            serde_json::to_value(&req).unwrap(),
            value,
            "{}",
            input.display()
        );
    }
}

#[test]
fn anthropic_responses_to_openai() {
    for input in fixtures("anthropic", "responses") {
        let name = input.to_str().unwrap().to_owned();
        let (out, usage) =
            convert::messages_response_to_chat(&fs::read(&input).unwrap(), &encode_options(&name))
                .unwrap();
        let mut value: Value = serde_json::from_slice(&out).unwrap();
        value["x_normalised_usage"] = serde_json::to_value(usage).unwrap();
        check_json(&input, "openai", &value);
    }
}

#[test]
fn openai_responses_to_anthropic() {
    for input in fixtures("openai", "responses") {
        let name = input.to_str().unwrap().to_owned();
        let (out, usage) =
            convert::chat_response_to_messages(&fs::read(&input).unwrap(), &encode_options(&name))
                .unwrap();
        let mut value: Value = serde_json::from_slice(&out).unwrap();
        value["x_normalised_usage"] = serde_json::to_value(usage).unwrap();
        check_json(&input, "anthropic", &value);
    }
}

#[test]
fn anthropic_streams_to_openai() {
    for input in fixtures("anthropic", "streams") {
        let name = input.to_str().unwrap().to_owned();
        let mut conv = anthropic_to_openai(encode_options(&name));
        let out = run_stream(&mut conv, &[&fs::read(&input).unwrap()]);
        check_sse(&input, "openai", &out);
    }
}

#[test]
fn openai_streams_to_anthropic() {
    for input in fixtures("openai", "streams") {
        let name = input.to_str().unwrap().to_owned();
        let mut conv = openai_to_anthropic(encode_options(&name));
        let out = run_stream(&mut conv, &[&fs::read(&input).unwrap()]);
        check_sse(&input, "anthropic", &out);
    }
}

fn status_of(input: &Path) -> u16 {
    let name = input.file_name().unwrap().to_str().unwrap();
    name.split('_').next().unwrap().parse().unwrap()
}

#[test]
fn anthropic_errors_to_openai() {
    for input in fixtures("anthropic", "errors") {
        let out = convert::anthropic_error_to_openai(status_of(&input), &fs::read(&input).unwrap());
        check_json(&input, "openai", &serde_json::from_slice(&out).unwrap());
    }
}

#[test]
fn openai_errors_to_anthropic() {
    for input in fixtures("openai", "errors") {
        let out = convert::openai_error_to_anthropic(status_of(&input), &fs::read(&input).unwrap());
        check_json(&input, "anthropic", &serde_json::from_slice(&out).unwrap());
    }
}
