//! AWS Bedrock channels (type 33) over sockets: a fake Bedrock runtime checks
//! the SigV4 signature (recomputed from what it received), the InvokeModel
//! paths and the body; it answers JSON or an `application/vnd.amazon.eventstream`
//! built with the gateway's own frame encoders. Anthropic and OpenAI clients
//! get their own protocol back, streamed as the frames arrive; exception
//! frames and Bedrock HTTP errors reach them as errors in their shape.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};
use switchyard::providers::bedrock::{
    SigV4Credentials, SignRequest, encode_chunk_frame, encode_exception_frame, sign_sigv4,
};

use crate::support::anthropic::{messages_json, messages_sse, post_anthropic, sse_events};
use crate::support::upstream::Received;
use crate::support::{FakeUpstream, Gateway, Reply};

const MODEL: &str = "claude-sonnet-4-5";
/// What `claude-sonnet-4-5` becomes in us-east-1 (a US inference profile), percent-encoded.
const MODEL_PATH: &str = "/model/us.anthropic.claude-sonnet-4-5-20250929-v1%3A0";
const ACCESS_KEY: &str = "AKIDEXAMPLE";
const SECRET_KEY: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
const EVENT_STREAM: &str = "application/vnd.amazon.eventstream";

async fn setup(up: &FakeUpstream, key: &str) -> (Gateway, String) {
    let gw = Gateway::start(&[]).await;
    gw.model(MODEL).await;
    gw.channel(json!({"type": 33, "name": "bedrock", "key": key,
        "base_url": format!("http://{}", up.addr), "models": [MODEL]}))
        .await;
    let token = gw.token("team", json!({"name": "ci"})).await;
    (gw, token)
}

fn sigv4_key() -> String {
    format!("us-east-1|{ACCESS_KEY}|{SECRET_KEY}")
}

/// `20250102T030405Z` as a time.
fn amz_time(stamp: &str) -> SystemTime {
    let n = |r: std::ops::Range<usize>| stamp[r].parse::<i64>().unwrap();
    let (y, m, d) = (n(0..4), n(4..6), n(6..8));
    // Days from the civil date (proleptic Gregorian), as in H. Hinnant's algorithm.
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * ((m + 9) % 12) + 2) / 5 + d - 1;
    let days = era * 146_097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719_468;
    let secs = days * 86_400 + n(9..11) * 3600 + n(11..13) * 60 + n(13..15);
    UNIX_EPOCH + Duration::from_secs(u64::try_from(secs).unwrap())
}

/// Check the request's SigV4 `Authorization` against one recomputed from
/// what the fake received, and the request's shape.
fn assert_signed(up: &FakeUpstream, r: &Received, action: &str) {
    assert_eq!(r.path, format!("{MODEL_PATH}/{action}"));
    let auth = r.headers["authorization"].to_str().unwrap();
    let date = r.headers["x-amz-date"].to_str().unwrap();
    assert_eq!(date.len(), 16, "{date}");
    let prefix = format!(
        "AWS4-HMAC-SHA256 Credential={ACCESS_KEY}/{}/us-east-1/bedrock/aws4_request, SignedHeaders=",
        &date[..8]
    );
    assert!(auth.starts_with(&prefix), "{auth}");
    let signed = auth[prefix.len()..].split(',').next().unwrap();
    let names: Vec<&str> = signed.split(';').collect();
    for needed in ["content-type", "host", "x-amz-date"] {
        assert!(names.contains(&needed), "{signed}");
    }
    let headers: Vec<(&str, &str)> = names
        .iter()
        .filter(|n| !matches!(**n, "host" | "x-amz-date"))
        .map(|n| (*n, r.headers[*n].to_str().unwrap()))
        .collect();
    let url = format!("http://{}{}", up.addr, r.path);
    let request = SignRequest {
        method: "POST",
        url: &url,
        headers: &headers,
        body: &r.raw,
    };
    let credentials = SigV4Credentials {
        access_key_id: ACCESS_KEY.into(),
        secret_access_key: SECRET_KEY.into(),
        session_token: None,
    };
    let expected = sign_sigv4(
        &request,
        &credentials,
        "us-east-1",
        "bedrock",
        amz_time(date),
    )
    .unwrap();
    let expected = expected
        .iter()
        .find(|(n, _)| n == "authorization")
        .map(|(_, v)| v.to_str().unwrap().to_owned())
        .unwrap();
    assert_eq!(auth, expected, "the signature covers what was sent");
    assert_eq!(r.body["anthropic_version"], "bedrock-2023-05-31");
    assert!(
        r.body.get("model").is_none() && r.body.get("stream").is_none(),
        "{}",
        r.body
    );
}

/// The SSE frames of a Messages stream as Bedrock `chunk` frames.
fn chunk_frames(frames: &[(Duration, String)]) -> Vec<u8> {
    frames
        .iter()
        .flat_map(|(_, frame)| {
            let data = frame
                .lines()
                .find_map(|l| l.strip_prefix("data: "))
                .unwrap();
            encode_chunk_frame(data.as_bytes())
        })
        .collect()
}

/// The SSE frames of a Messages stream as Bedrock `chunk` frames, all
/// concatenated and cut into pieces that straddle frame boundaries.
fn event_stream(frames: &[(Duration, String)], cut: usize) -> Vec<(Duration, Vec<u8>)> {
    chunk_frames(frames)
        .chunks(cut)
        .map(|c| (Duration::from_millis(1), c.to_vec()))
        .collect()
}

fn tool_use_json() -> Value {
    json!({"id": "msg_bed1", "type": "message", "role": "assistant", "model": "claude-sonnet-4-5-20250929",
        "content": [{"type": "text", "text": "Let me look."},
                    {"type": "tool_use", "id": "toolu_9", "name": "lookup", "input": {"q": "x"}}],
        "stop_reason": "tool_use", "stop_sequence": null,
        "usage": {"input_tokens": 21, "output_tokens": 8}})
}

fn chat_tools() -> Value {
    json!([{"type": "function", "function": {"name": "lookup", "parameters": {"type": "object"}}}])
}

#[tokio::test]
async fn anthropic_client_gets_signed_invoke_answer() {
    let up = FakeUpstream::start(|_, _| {
        Reply::Json(
            200,
            messages_json("claude-sonnet-4-5-20250929", "Hi there", (11, 4, 0, 0)),
        )
    })
    .await;
    let (gw, key) = setup(&up, &sigv4_key()).await;
    let body = json!({"model": MODEL, "max_tokens": 64, "system": "Be brief.",
        "messages": [{"role": "user", "content": "Hello"}]});
    let beta = [(
        "anthropic-beta",
        "interleaved-thinking-2025-05-14,mcp-client-2025-04-04",
    )];
    let a = post_anthropic(&gw, "/v1/messages", &key, &body, &beta).await;
    assert_eq!(a.status, 200, "{}", a.text);
    assert_eq!(a.json["type"], "message");
    assert_eq!(a.json["model"], MODEL);
    assert_eq!(a.json["content"][0]["text"], "Hi there");

    let r = &up.received()[0];
    assert_signed(&up, r, "invoke");
    assert_eq!(r.headers["accept"], "application/json");
    assert_eq!(r.body["system"], "Be brief.");
    assert_eq!(r.body["max_tokens"], 64);
    assert_eq!(
        r.body["anthropic_beta"],
        json!(["interleaved-thinking-2025-05-14"]),
        "only betas Bedrock accepts are kept"
    );
    assert!(!r.headers.contains_key("anthropic-version") && !r.headers.contains_key("x-api-key"));

    let row = gw.log_row(&a.request_id()).await;
    assert_eq!(row["code"], 200);
    assert_eq!(row["usage"]["input_tokens"], 11);
    assert_eq!(row["usage"]["output_tokens"], 4);
}

#[tokio::test]
async fn openai_client_gets_a_tool_call() {
    let up = FakeUpstream::start(|_, _| Reply::Json(200, tool_use_json())).await;
    let (gw, key) = setup(&up, &sigv4_key()).await;
    let body = json!({"model": MODEL, "messages": [{"role": "user", "content": "Find x"}],
        "tools": chat_tools()});
    let a = gw.post("/v1/chat/completions", &key, &body).await;
    assert_eq!(a.status, 200, "{}", a.text);
    assert_eq!(a.json["object"], "chat.completion");
    assert_eq!(a.json["model"], MODEL);
    let message = &a.json["choices"][0]["message"];
    assert_eq!(message["content"], "Let me look.");
    assert_eq!(message["tool_calls"][0]["id"], "toolu_9");
    assert_eq!(message["tool_calls"][0]["function"]["name"], "lookup");
    assert_eq!(
        message["tool_calls"][0]["function"]["arguments"],
        r#"{"q":"x"}"#
    );
    assert_eq!(a.json["choices"][0]["finish_reason"], "tool_calls");

    let r = &up.received()[0];
    assert_signed(&up, r, "invoke");
    assert_eq!(
        r.body["tools"][0]["name"], "lookup",
        "converted to Anthropic tools"
    );
    assert!(r.body["max_tokens"].as_i64().unwrap() > 0);

    let row = gw.log_row(&a.request_id()).await;
    assert_eq!(row["usage"]["input_tokens"], 21);
    assert_eq!(row["usage"]["output_tokens"], 8);
}

#[tokio::test]
async fn anthropic_client_streams_the_event_stream() {
    let frames = messages_sse(
        "claude-sonnet-4-5-20250929",
        &["Hel", "lo"],
        Some(("toolu_1", "lookup", &["{\"q\":", "\"x\"}"])),
        (9, 6, 0, 0),
    );
    let chunks = event_stream(&frames, 37);
    let up =
        FakeUpstream::start(move |_, _| Reply::Chunks(200, EVENT_STREAM, chunks.clone())).await;
    let (gw, key) = setup(&up, &sigv4_key()).await;
    let body = json!({"model": MODEL, "max_tokens": 64, "stream": true,
        "messages": [{"role": "user", "content": "Hello"}]});
    let a = post_anthropic(&gw, "/v1/messages", &key, &body, &[]).await;
    assert_eq!(a.status, 200, "{}", a.text);
    assert!(
        a.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream")
    );
    let events = sse_events(&a.text);
    let names: Vec<&str> = events.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names.first(), Some(&"message_start"), "{}", a.text);
    assert_eq!(names.last(), Some(&"message_stop"), "{}", a.text);
    assert_eq!(events[0].1["message"]["model"], MODEL, "model rewritten");
    let text: String = events
        .iter()
        .filter_map(|(_, e)| e["delta"]["text"].as_str())
        .collect();
    assert_eq!(text, "Hello");
    let args: String = events
        .iter()
        .filter_map(|(_, e)| e["delta"]["partial_json"].as_str())
        .collect();
    assert_eq!(args, r#"{"q":"x"}"#);

    let r = &up.received()[0];
    assert_signed(&up, r, "invoke-with-response-stream");
    assert_eq!(r.headers["accept"], EVENT_STREAM);
    let row = gw.log_row(&a.request_id()).await;
    assert_eq!(row["usage"]["input_tokens"], 9);
    assert_eq!(row["usage"]["output_tokens"], 6);
}

#[tokio::test]
async fn openai_client_streams_text_and_tool_call() {
    let frames = messages_sse(
        "claude-sonnet-4-5-20250929",
        &["Hel", "lo"],
        Some(("toolu_1", "lookup", &["{\"q\":", "\"x\"}"])),
        (9, 6, 0, 0),
    );
    let chunks = event_stream(&frames, 101);
    let up =
        FakeUpstream::start(move |_, _| Reply::Chunks(200, EVENT_STREAM, chunks.clone())).await;
    let (gw, key) = setup(&up, &sigv4_key()).await;
    let body = json!({"model": MODEL, "stream": true, "stream_options": {"include_usage": true},
        "messages": [{"role": "user", "content": "Hello"}], "tools": chat_tools()});
    let a = gw.post("/v1/chat/completions", &key, &body).await;
    assert_eq!(a.status, 200, "{}", a.text);
    let events = sse_events(&a.text);
    assert_eq!(events.last().unwrap().1, json!("[DONE]"), "{}", a.text);
    let chunks: Vec<&Value> = events
        .iter()
        .map(|(_, v)| v)
        .filter(|v| v.is_object())
        .collect();
    assert!(chunks.iter().all(|c| c["model"] == MODEL));
    let text: String = chunks
        .iter()
        .filter_map(|c| c["choices"][0]["delta"]["content"].as_str())
        .collect();
    assert_eq!(text, "Hello");
    let calls: Vec<&Value> = chunks
        .iter()
        .filter_map(|c| c["choices"][0]["delta"]["tool_calls"].get(0))
        .collect();
    assert_eq!(calls[0]["function"]["name"], "lookup");
    let args: String = calls
        .iter()
        .filter_map(|c| c["function"]["arguments"].as_str())
        .collect();
    assert_eq!(args, r#"{"q":"x"}"#);
    let usage = &chunks.last().unwrap()["usage"];
    assert_eq!(
        (
            usage["prompt_tokens"].as_i64(),
            usage["completion_tokens"].as_i64()
        ),
        (Some(9), Some(6))
    );

    assert_signed(&up, &up.received()[0], "invoke-with-response-stream");
    let row = gw.log_row(&a.request_id()).await;
    assert_eq!(row["usage"]["output_tokens"], 6);
}

/// Events reach the client as Bedrock sends them: the first text arrives
/// long before the upstream finishes.
#[tokio::test]
async fn stream_is_relayed_as_it_arrives() {
    let frames = messages_sse("m", &["first", "second"], None, (3, 2, 0, 0));
    let mut chunks = event_stream(&frames[..4], 1 << 20);
    let mut rest = event_stream(&frames[4..], 1 << 20);
    rest[0].0 = Duration::from_millis(800);
    chunks.extend(rest);
    let up =
        FakeUpstream::start(move |_, _| Reply::Chunks(200, EVENT_STREAM, chunks.clone())).await;
    let (gw, key) = setup(&up, &sigv4_key()).await;
    let body = json!({"model": MODEL, "max_tokens": 64, "stream": true,
        "messages": [{"role": "user", "content": "Hello"}]});
    let mut response = gw
        .http
        .post(format!("{}/v1/messages", gw.url))
        .header("x-api-key", &key)
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let mut text = String::new();
    let mut first_seen = None;
    while let Some(chunk) = response.chunk().await.unwrap() {
        text.push_str(std::str::from_utf8(&chunk).unwrap());
        if first_seen.is_none() && text.contains("\"first\"") {
            first_seen = Some(Instant::now());
        }
    }
    let first_seen = first_seen.expect("first text delta");
    assert!(
        text.contains("\"second\"") && text.contains("message_stop"),
        "{text}"
    );
    assert!(
        first_seen.elapsed() >= Duration::from_millis(500),
        "the first delta was held back until the upstream finished"
    );
}

#[tokio::test]
async fn exception_frame_mid_stream_becomes_an_error_event() {
    let frames = messages_sse("m", &["partial"], None, (3, 2, 0, 0));
    let mut bytes = chunk_frames(&frames[..4]);
    bytes.extend(encode_exception_frame(
        "modelStreamErrorException",
        "the model broke off",
    ));
    let up = FakeUpstream::start(move |_, _| {
        Reply::Chunks(200, EVENT_STREAM, vec![(Duration::ZERO, bytes.clone())])
    })
    .await;
    let (gw, key) = setup(&up, &sigv4_key()).await;

    let body = json!({"model": MODEL, "max_tokens": 64, "stream": true,
        "messages": [{"role": "user", "content": "Hello"}]});
    let a = post_anthropic(&gw, "/v1/messages", &key, &body, &[]).await;
    assert_eq!(a.status, 200, "{}", a.text);
    let events = sse_events(&a.text);
    let partial = events
        .iter()
        .position(|(_, e)| e["delta"]["text"] == "partial");
    let error = events.iter().position(|(n, _)| n == "error");
    assert!(partial.is_some() && error > partial, "{}", a.text);
    let (_, error) = &events[error.unwrap()];
    assert_eq!(error["type"], "error");
    assert!(
        error["error"]["message"]
            .as_str()
            .unwrap()
            .contains("the model broke off"),
        "{}",
        a.text
    );
    assert!(!a.text.contains("message_stop"), "{}", a.text);
    let row = gw.log_row(&a.request_id()).await;
    assert_ne!(row["code"], 200, "{row}");

    let body =
        json!({"model": MODEL, "stream": true, "messages": [{"role": "user", "content": "Hello"}]});
    let a = gw.post("/v1/chat/completions", &key, &body).await;
    assert_eq!(a.status, 200, "{}", a.text);
    assert!(a.text.contains("partial"), "{}", a.text);
    let error = sse_events(&a.text)
        .into_iter()
        .find(|(_, v)| v.get("error").is_some())
        .expect("an OpenAI error chunk");
    assert!(
        error.1["error"]["message"]
            .as_str()
            .unwrap()
            .contains("the model broke off"),
        "{}",
        a.text
    );
}

#[tokio::test]
async fn bedrock_http_errors_become_client_errors() {
    let up = FakeUpstream::start(|r, _| {
        let said = |word: &str| r.body["messages"].to_string().contains(word);
        match () {
            _ if said("bad") => {
                Reply::Json(400, json!({"message": "max_tokens: must be at most 64000"}))
            }
            _ if said("slow") => {
                Reply::Json(429, json!({"message": "Too many requests, please wait"}))
            }
            _ => Reply::Json(
                403,
                json!({"Message": "The security token included in the request is invalid."}),
            ),
        }
    })
    .await;
    let (gw, key) = setup(&up, &sigv4_key()).await;
    let ask = |content: &str| json!({"model": MODEL, "max_tokens": 64, "messages": [{"role": "user", "content": content}]});

    let a = post_anthropic(&gw, "/v1/messages", &key, &ask("bad"), &[]).await;
    assert_eq!(a.status, 400, "{}", a.text);
    assert_eq!(a.json["type"], "error");
    assert_eq!(a.json["error"]["type"], "invalid_request_error");
    assert_eq!(
        a.json["error"]["message"],
        "max_tokens: must be at most 64000"
    );

    let a = gw.post("/v1/chat/completions", &key, &ask("bad")).await;
    assert_eq!(a.status, 400, "{}", a.text);
    assert_eq!(
        a.json["error"]["message"],
        "max_tokens: must be at most 64000"
    );

    let a = post_anthropic(&gw, "/v1/messages", &key, &ask("slow"), &[]).await;
    assert_eq!(a.status, 429, "{}", a.text);
    assert_eq!(a.json["error"]["type"], "rate_limit_error");

    // A refused credential is the gateway's problem, not the client's: 502.
    let a = gw.post("/v1/chat/completions", &key, &ask("denied")).await;
    assert_eq!(a.status, 502, "{}", a.text);
    assert!(!a.text.contains("security token"), "{}", a.text);
}

#[tokio::test]
async fn api_key_form_sends_a_bearer_token() {
    let up =
        FakeUpstream::start(|_, _| Reply::Json(200, messages_json("m", "ok", (1, 1, 0, 0)))).await;
    let (gw, key) = setup(&up, "us-west-2|ABSKbedrockkey").await;
    let body = json!({"model": MODEL, "messages": [{"role": "user", "content": "Hello"}]});
    let a = gw.post("/v1/chat/completions", &key, &body).await;
    assert_eq!(a.status, 200, "{}", a.text);
    let r = &up.received()[0];
    assert_eq!(r.headers["authorization"], "Bearer ABSKbedrockkey");
    assert!(!r.headers.contains_key("x-amz-date"));
    assert_eq!(
        r.path,
        "/model/us.anthropic.claude-sonnet-4-5-20250929-v1%3A0/invoke"
    );
}

#[tokio::test]
async fn unusable_key_is_a_misconfigured_channel() {
    let up = FakeUpstream::start(|_, _| Reply::Json(200, json!({}))).await;
    let (gw, key) = setup(&up, &sigv4_key()).await;
    // Refused when saved, on create and on update, without echoing the key.
    let a = gw
        .admin(
            "POST",
            "/api/channel/",
            Some(
                json!({"type": 33, "name": "bad", "key": "not-a-region-secret", "models": [MODEL]}),
            ),
        )
        .await;
    assert_eq!(a.status, 400, "{}", a.text);
    assert!(
        a.text.contains("Bedrock key") && !a.text.contains("not-a-region-secret"),
        "{}",
        a.text
    );
    let id = gw.admin_ok("GET", "/api/channels/all", None).await[0]["id"]
        .as_i64()
        .unwrap();
    let a = gw
        .admin(
            "PUT",
            &format!("/api/channel/{id}"),
            Some(json!({"key": "still|bad"})),
        )
        .await;
    assert_eq!(a.status, 400, "{}", a.text);
    // A bad key already in the database (written by another version) is a
    // misconfigured channel at request time.
    let mut args = vec!["switchyard".to_owned()];
    args.extend(gw.db.args());
    let config = switchyard::Config::from_cli(
        &<switchyard::Cli as clap::Parser>::try_parse_from(args).unwrap(),
    )
    .unwrap();
    let store = switchyard::store::Store::connect(&config.database)
        .await
        .unwrap();
    sqlx::query("UPDATE channels SET key = 'not-a-region' WHERE id = $1")
        .bind(id)
        .execute(store.main())
        .await
        .unwrap();
    store.close().await;
    gw.admin_ok(
        "PUT",
        "/api/option",
        Some(json!({"key": "RetryTimes", "value": "0"})),
    )
    .await;
    let body =
        json!({"model": MODEL, "max_tokens": 8, "messages": [{"role": "user", "content": "Hi"}]});
    let a = post_anthropic(&gw, "/v1/messages", &key, &body, &[]).await;
    assert_eq!(a.status, 502, "{}", a.text);
    assert_eq!(a.json["type"], "error", "{}", a.text);
    assert!(a.text.contains("Bedrock key"), "{}", a.text);
    assert_eq!(up.hits(), 0);

    let metas = gw.admin_ok("GET", "/api/channels/type_metas", None).await;
    assert_eq!(metas["33"]["name"], "aws");
    assert!(metas["33"]["keyHelp"].as_str().unwrap().contains("region|"));
    assert_eq!(metas["42"]["name"], "vertexai");
}
