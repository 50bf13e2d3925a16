//! Golden tests for the Gemini converters, in both directions.
//!
//! Layout under `tests/fixtures/gemini/<kind>/` (kind = requests,
//! responses, streams, errors):
//!
//! - `<name>.json` / `<name>.sse`: a Gemini input, converted to OpenAI
//!   (`<name>.openai.*`) and Anthropic (`<name>.anthropic.*`);
//! - `from_openai/<name>.gemini.*` and `from_anthropic/<name>.gemini.*`:
//!   the Gemini output for an OpenAI or Anthropic input, which is either
//!   `from_openai/<name>.*` itself or one of the shared fixtures in
//!   `tests/fixtures/openai/<kind>/` (`…/anthropic/<kind>/`), so every
//!   existing OpenAI and Anthropic case is also checked towards Gemini.
//!
//! JSON is compared as values; SSE as (event name, data as JSON) pairs.
//! Regenerate with `SWITCHYARD_BLESS=1` and review the diff.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::fs;
use std::path::{Path, PathBuf};

use serde_json::{Value, json};
use support::{decode_sse, run_stream};
use switchyard_protocol::convert::{
    self, AnthropicRequestOptions, AnthropicToGeminiStream, ChatRequestOptions, ConvertError,
    EncodeOptions, GeminiRequestOptions, GeminiToAnthropicStream, GeminiToOpenAiStream,
    OpenAiToGeminiStream,
};
use switchyard_protocol::gemini::GenerateContentRequest;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// Input files (a single extension) of a fixture directory, sorted.
fn inputs(dir: &Path) -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = fs::read_dir(dir)
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
    found.sort();
    found
}

/// Inputs in `gemini/<kind>/from_<dialect>/` plus `<dialect>/<kind>/`.
fn foreign_inputs(dialect: &str, kind: &str) -> Vec<PathBuf> {
    let mut all = inputs(&root().join(dialect).join(kind));
    all.extend(inputs(&gemini_dir(kind).join(format!("from_{dialect}"))));
    assert!(!all.is_empty());
    all
}

fn gemini_dir(kind: &str) -> PathBuf {
    root().join("gemini").join(kind)
}

fn gemini_inputs(kind: &str) -> Vec<PathBuf> {
    let found = inputs(&gemini_dir(kind));
    assert!(!found.is_empty(), "no Gemini {kind} fixtures");
    found
}

fn stem(input: &Path) -> &str {
    input.file_stem().unwrap().to_str().unwrap()
}

/// `<dir>/<stem>.<target>.<ext>`.
fn expected(dir: &Path, input: &Path, target: &str, ext: &str) -> PathBuf {
    dir.join(format!("{}.{target}.{ext}", stem(input)))
}

fn bless() -> bool {
    std::env::var_os("SWITCHYARD_BLESS").is_some()
}

fn check_json(input: &Path, path: &Path, actual: &Value) {
    if bless() {
        fs::write(path, serde_json::to_string_pretty(actual).unwrap() + "\n").unwrap();
        return;
    }
    let text = fs::read_to_string(path)
        .unwrap_or_else(|_| panic!("missing {} (run with SWITCHYARD_BLESS=1)", path.display()));
    let want: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(
        actual,
        &want,
        "{} differs from {}:\n{}",
        input.display(),
        path.display(),
        serde_json::to_string_pretty(actual).unwrap()
    );
}

fn check_sse(input: &Path, path: &Path, actual: &[u8]) {
    if bless() {
        fs::write(path, actual).unwrap();
        return;
    }
    let want = fs::read(path)
        .unwrap_or_else(|_| panic!("missing {} (run with SWITCHYARD_BLESS=1)", path.display()));
    assert_eq!(
        decode_sse(actual),
        decode_sse(&want),
        "{} differs from {}:\n{}",
        input.display(),
        path.display(),
        String::from_utf8_lossy(actual)
    );
}

fn encode_options(name: &str) -> EncodeOptions {
    EncodeOptions {
        model: name.contains("renamed").then(|| "client-model".to_owned()),
        created: 1_700_000_000,
        include_usage: !name.contains("no_include_usage"),
        estimated_input_tokens: None,
    }
}

fn gemini_options(name: &str) -> GeminiRequestOptions {
    GeminiRequestOptions {
        safety_threshold: name.contains("gemini3").then(|| "OFF".to_owned()),
        ..GeminiRequestOptions::default()
    }
}

fn json_of(bytes: &[u8]) -> Value {
    serde_json::from_slice(bytes).unwrap()
}

fn with_usage(out: &[u8], usage: Option<switchyard_protocol::Usage>) -> Value {
    let mut value = json_of(out);
    value["x_normalised_usage"] = serde_json::to_value(usage).unwrap();
    value
}

// ---- requests -------------------------------------------------------------

#[test]
fn gemini_requests_to_openai_and_anthropic() {
    for input in gemini_inputs("requests") {
        let body = fs::read(&input).unwrap();
        let stream = stem(&input).contains("tool_loop");
        let chat = convert::gemini_request_to_chat(
            &body,
            "gpt-4.1",
            stream,
            &ChatRequestOptions::default(),
        )
        .unwrap();
        check_json(
            &input,
            &expected(&gemini_dir("requests"), &input, "openai", "json"),
            &json_of(&chat),
        );
        let messages = convert::gemini_request_to_messages(
            &body,
            "claude-sonnet-4-5",
            stream,
            &AnthropicRequestOptions::default(),
        )
        .unwrap();
        check_json(
            &input,
            &expected(&gemini_dir("requests"), &input, "anthropic", "json"),
            &json_of(&messages),
        );
    }
}

#[test]
fn gemini_request_fixtures_survive_a_same_protocol_round_trip() {
    for input in gemini_inputs("requests") {
        let value: Value = json_of(&fs::read(&input).unwrap());
        let req: GenerateContentRequest = serde_json::from_value(value.clone()).unwrap();
        let back = serde_json::to_value(&req).unwrap();
        let again: GenerateContentRequest = serde_json::from_value(back.clone()).unwrap();
        assert_eq!(again, req, "{}", input.display());
        if !stem(&input).contains("snake_case") {
            assert_eq!(back, value, "{}", input.display());
        }
    }
}

fn upstream_model(req: &Value) -> String {
    match req["model"].as_str() {
        Some(m) if m.starts_with("gemini") => m.to_owned(),
        _ => "gemini-2.5-flash".to_owned(),
    }
}

#[test]
fn openai_requests_to_gemini() {
    let out_dir = gemini_dir("requests").join("from_openai");
    for input in foreign_inputs("openai", "requests") {
        let body = fs::read(&input).unwrap();
        let model = upstream_model(&json_of(&body));
        let out =
            convert::chat_request_to_gemini(&body, &model, &gemini_options(stem(&input))).unwrap();
        check_json(
            &input,
            &expected(&out_dir, &input, "gemini", "json"),
            &json_of(&out),
        );
    }
}

#[test]
fn anthropic_requests_to_gemini() {
    let out_dir = gemini_dir("requests").join("from_anthropic");
    for input in foreign_inputs("anthropic", "requests") {
        let body = fs::read(&input).unwrap();
        let model = upstream_model(&json_of(&body));
        let out = convert::messages_request_to_gemini(&body, &model, &gemini_options(stem(&input)))
            .unwrap();
        check_json(
            &input,
            &expected(&out_dir, &input, "gemini", "json"),
            &json_of(&out),
        );
    }
}

#[test]
fn several_candidates_are_unsupported() {
    let body =
        br#"{"contents":[{"parts":[{"text":"hi"}]}],"generationConfig":{"candidateCount":2}}"#;
    let err = convert::gemini_request_to_chat(body, "m", false, &ChatRequestOptions::default());
    assert!(matches!(err, Err(ConvertError::Unsupported(_))));
    let err = convert::gemini_request_to_chat(
        br#"{"contents":[{"role":"system","parts":[]}]}"#,
        "m",
        false,
        &ChatRequestOptions::default(),
    );
    assert!(matches!(err, Err(ConvertError::Invalid(_))));
}

// ---- responses ------------------------------------------------------------

#[test]
fn gemini_responses_to_openai_and_anthropic() {
    for input in gemini_inputs("responses") {
        let body = fs::read(&input).unwrap();
        let opts = encode_options(stem(&input));
        let (out, usage) = convert::gemini_response_to_chat(&body, &opts).unwrap();
        check_json(
            &input,
            &expected(&gemini_dir("responses"), &input, "openai", "json"),
            &with_usage(&out, usage),
        );
        let (out, usage) = convert::gemini_response_to_messages(&body, &opts).unwrap();
        check_json(
            &input,
            &expected(&gemini_dir("responses"), &input, "anthropic", "json"),
            &with_usage(&out, usage),
        );
    }
}

#[test]
fn openai_responses_to_gemini() {
    let out_dir = gemini_dir("responses").join("from_openai");
    for input in foreign_inputs("openai", "responses") {
        let (out, usage) = convert::chat_response_to_gemini(
            &fs::read(&input).unwrap(),
            &encode_options(stem(&input)),
        )
        .unwrap();
        check_json(
            &input,
            &expected(&out_dir, &input, "gemini", "json"),
            &with_usage(&out, usage),
        );
    }
}

#[test]
fn anthropic_responses_to_gemini() {
    let out_dir = gemini_dir("responses").join("from_anthropic");
    for input in foreign_inputs("anthropic", "responses") {
        let (out, usage) = convert::messages_response_to_gemini(
            &fs::read(&input).unwrap(),
            &encode_options(stem(&input)),
        )
        .unwrap();
        check_json(
            &input,
            &expected(&out_dir, &input, "gemini", "json"),
            &with_usage(&out, usage),
        );
    }
}

// ---- streams --------------------------------------------------------------

#[test]
fn gemini_streams_to_openai_and_anthropic() {
    for input in gemini_inputs("streams") {
        let body = fs::read(&input).unwrap();
        let opts = encode_options(stem(&input));
        let out = run_stream(
            &mut GeminiToOpenAiStream::gemini_to_openai(opts.clone()),
            &[&body],
        );
        check_sse(
            &input,
            &expected(&gemini_dir("streams"), &input, "openai", "sse"),
            &out,
        );
        let out = run_stream(
            &mut GeminiToAnthropicStream::gemini_to_anthropic(opts),
            &[&body],
        );
        check_sse(
            &input,
            &expected(&gemini_dir("streams"), &input, "anthropic", "sse"),
            &out,
        );
    }
}

#[test]
fn openai_streams_to_gemini() {
    let out_dir = gemini_dir("streams").join("from_openai");
    for input in foreign_inputs("openai", "streams") {
        let mut conv = OpenAiToGeminiStream::openai_to_gemini(encode_options(stem(&input)));
        let out = run_stream(&mut conv, &[&fs::read(&input).unwrap()]);
        check_sse(&input, &expected(&out_dir, &input, "gemini", "sse"), &out);
    }
}

#[test]
fn anthropic_streams_to_gemini() {
    let out_dir = gemini_dir("streams").join("from_anthropic");
    for input in foreign_inputs("anthropic", "streams") {
        let mut conv = AnthropicToGeminiStream::anthropic_to_gemini(encode_options(stem(&input)));
        let out = run_stream(&mut conv, &[&fs::read(&input).unwrap()]);
        check_sse(&input, &expected(&out_dir, &input, "gemini", "sse"), &out);
    }
}

// ---- errors ---------------------------------------------------------------

fn status_of(input: &Path) -> u16 {
    stem(input).split('_').next().unwrap().parse().unwrap()
}

#[test]
fn gemini_errors_to_openai_and_anthropic() {
    for input in gemini_inputs("errors") {
        let body = fs::read(&input).unwrap();
        let out = convert::gemini_error_to_openai(status_of(&input), &body);
        check_json(
            &input,
            &expected(&gemini_dir("errors"), &input, "openai", "json"),
            &json_of(&out),
        );
        let out = convert::gemini_error_to_anthropic(status_of(&input), &body);
        check_json(
            &input,
            &expected(&gemini_dir("errors"), &input, "anthropic", "json"),
            &json_of(&out),
        );
    }
}

#[test]
fn foreign_errors_to_gemini() {
    for dialect in ["openai", "anthropic"] {
        let out_dir = gemini_dir("errors").join(format!("from_{dialect}"));
        for input in foreign_inputs(dialect, "errors") {
            let body = fs::read(&input).unwrap();
            let out = match dialect {
                "openai" => convert::openai_error_to_gemini(status_of(&input), &body),
                _ => convert::anthropic_error_to_gemini(status_of(&input), &body),
            };
            check_json(
                &input,
                &expected(&out_dir, &input, "gemini", "json"),
                &json_of(&out),
            );
        }
    }
}

// ---- thought signatures across a tool loop --------------------------------

/// Gemini answers with a signed call; an OpenAI client gets the signature
/// in `extra_content`, sends the turn back, and the next Gemini request
/// carries the signature on the same call.
#[test]
fn signatures_survive_a_tool_loop_through_an_openai_client() {
    let upstream = fs::read(gemini_dir("responses").join("thinking_tool_calls.json")).unwrap();
    let (chat, _) = convert::gemini_response_to_chat(&upstream, &encode_options("")).unwrap();
    let message = json_of(&chat)["choices"][0]["message"].clone();
    assert_eq!(
        message["tool_calls"][0]["extra_content"]["google"]["thought_signature"],
        "CiQB0e2Kb3sigA"
    );
    let ids: Vec<String> = message["tool_calls"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_owned())
        .collect();
    let next = json!({
        "model": "gemini-3-pro-preview",
        "messages": [
            {"role": "user", "content": "Weather and time?"},
            message,
            {"role": "tool", "tool_call_id": ids[0], "content": "18C"},
            {"role": "tool", "tool_call_id": ids[1], "content": "14:05"}
        ]
    });
    let body = serde_json::to_vec(&next).unwrap();
    let out = json_of(
        &convert::chat_request_to_gemini(
            &body,
            "gemini-3-pro-preview",
            &GeminiRequestOptions::default(),
        )
        .unwrap(),
    );
    let model_turn = &out["contents"][1];
    assert_eq!(model_turn["role"], "model");
    let parts = model_turn["parts"].as_array().unwrap();
    let calls: Vec<&Value> = parts
        .iter()
        .filter(|p| p.get("functionCall").is_some())
        .collect();
    assert_eq!(calls[0]["thoughtSignature"], "CiQB0e2Kb3sigA");
    assert!(calls[1].get("thoughtSignature").is_none());
    let responses = out["contents"][2]["parts"].as_array().unwrap();
    assert_eq!(responses[0]["functionResponse"]["name"], "get_weather");
    assert_eq!(responses[1]["functionResponse"]["name"], "get_time");
}

/// A Gemini client's tool loop decoded and re-encoded for Gemini keeps
/// every signature on the part that carried it.
#[test]
fn signatures_survive_a_gemini_round_trip() {
    let body = fs::read(gemini_dir("requests").join("tool_loop_signatures.json")).unwrap();
    let mut req = switchyard_protocol::convert::gemini::request_to_ir(
        serde_json::from_slice::<GenerateContentRequest>(&body).unwrap(),
    )
    .unwrap();
    req.model = "gemini-2.5-flash".to_owned();
    let out = serde_json::to_value(switchyard_protocol::convert::gemini::request_from_ir(
        &req,
        &GeminiRequestOptions::default(),
    ))
    .unwrap();
    let original = json_of(&body);
    for turn in [1, 3] {
        let signatures = |v: &Value| -> Vec<Value> {
            v["contents"][turn]["parts"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| p.get("thoughtSignature").cloned().unwrap_or(Value::Null))
                .collect()
        };
        assert_eq!(signatures(&out), signatures(&original), "turn {turn}");
    }
}

/// An Anthropic client cannot carry Gemini's call signatures (`tool_use`
/// has no field for them), so the next request gets the documented dummy
/// signature on the first call instead of failing Gemini 3's validation.
#[test]
fn unsigned_calls_get_the_dummy_signature() {
    let upstream = fs::read(gemini_dir("responses").join("thinking_tool_calls.json")).unwrap();
    let (messages, _) =
        convert::gemini_response_to_messages(&upstream, &encode_options("")).unwrap();
    let content = json_of(&messages)["content"].clone();
    let tool_ids: Vec<Value> = content
        .as_array()
        .unwrap()
        .iter()
        .filter(|b| b["type"] == "tool_use")
        .map(|b| b["id"].clone())
        .collect();
    let next = json!({
        "model": "gemini-3-pro-preview",
        "max_tokens": 100,
        "messages": [
            {"role": "user", "content": "Weather and time?"},
            {"role": "assistant", "content": content},
            {"role": "user", "content": [
                {"type": "tool_result", "tool_use_id": tool_ids[0], "content": "18C"},
                {"type": "tool_result", "tool_use_id": tool_ids[1], "content": "14:05"}
            ]}
        ]
    });
    let out = json_of(
        &convert::messages_request_to_gemini(
            &serde_json::to_vec(&next).unwrap(),
            "gemini-3-pro-preview",
            &GeminiRequestOptions::default(),
        )
        .unwrap(),
    );
    let parts = out["contents"][1]["parts"].as_array().unwrap();
    let first_call = parts
        .iter()
        .find(|p| p.get("functionCall").is_some())
        .unwrap();
    assert_eq!(
        first_call["thoughtSignature"],
        convert::gemini::DUMMY_THOUGHT_SIGNATURE
    );
}
