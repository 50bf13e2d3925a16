//! The Gemini API over sockets: Gemini clients served by OpenAI channels
//! (converted), OpenAI clients served by Gemini channels (converted),
//! Gemini to Gemini (forwarded), streams, embeddings, `countTokens`, auth by
//! `x-goog-api-key` / `?key=` / Bearer, and errors in Gemini's shape.

use std::time::Duration;

use serde_json::{Value, json};

use crate::support::anthropic::sse_events;
use crate::support::gateway::Answer;
use crate::support::upstream::{chat_json, chat_sse};
use crate::support::{FakeUpstream, Gateway, Reply};

const MODEL: &str = "gemini-2.5-flash";

/// A gateway with one channel of `channel_type` at `base_url` serving
/// [`MODEL`] (sent upstream as `upstream-model`), and a token.
async fn setup(base_url: String, channel_type: i64) -> (Gateway, String) {
    let gw = Gateway::start(&[]).await;
    gw.model(MODEL).await;
    gw.channel(
        json!({"type": channel_type, "name": "up", "key": "up-key", "base_url": base_url,
        "models": [MODEL], "model_mapping": {MODEL: "upstream-model"}}),
    )
    .await;
    let key = gw.token("team", json!({"name": "ci"})).await;
    (gw, key)
}

/// The fake upstream's root (Gemini channels add `/v1beta` themselves).
fn root(up: &FakeUpstream) -> String {
    format!("http://{}", up.addr)
}

async fn post_gemini(gw: &Gateway, path: &str, key: Option<&str>, body: &Value) -> Answer {
    let mut req = gw
        .http
        .post(format!("{}{path}", gw.url))
        .header("content-type", "application/json");
    if let Some(key) = key {
        req = req.header("x-goog-api-key", key);
    }
    Gateway::answer(req.body(body.to_string()).send().await.unwrap()).await
}

fn generate_request() -> Value {
    json!({"systemInstruction": {"parts": [{"text": "Be brief."}]},
        "contents": [{"role": "user", "parts": [{"text": "Say hello"}]}],
        "generationConfig": {"maxOutputTokens": 64, "temperature": 0.2}})
}

fn gemini_json(text: &str, prompt: i64, output: i64) -> Value {
    json!({"candidates": [{"content": {"role": "model", "parts": [{"text": text}]},
        "finishReason": "STOP", "index": 0}],
        "usageMetadata": {"promptTokenCount": prompt, "candidatesTokenCount": output,
            "totalTokenCount": prompt + output},
        "modelVersion": "upstream-model", "responseId": "gem-1"})
}

fn gemini_sse(texts: &[&str], prompt: i64, output: i64) -> Vec<(Duration, String)> {
    let last = texts.len() - 1;
    texts
        .iter()
        .enumerate()
        .map(|(n, text)| {
            let mut chunk = json!({"candidates": [{"content": {"role": "model", "parts": [{"text": text}]},
                "index": 0}], "modelVersion": "upstream-model", "responseId": "gem-2"});
            if n == last {
                chunk["candidates"][0]["finishReason"] = json!("STOP");
                chunk["usageMetadata"] = json!({"promptTokenCount": prompt,
                    "candidatesTokenCount": output, "totalTokenCount": prompt + output});
            }
            (Duration::from_millis(5), format!("data: {chunk}\r\n\r\n"))
        })
        .collect()
}

/// The text of every candidate part in a Gemini SSE body.
fn streamed_text(text: &str) -> String {
    sse_events(text)
        .iter()
        .filter_map(|(_, v)| v["candidates"][0]["content"]["parts"].as_array().cloned())
        .flatten()
        .filter_map(|p| p["text"].as_str().map(str::to_owned))
        .collect()
}

#[tokio::test]
async fn gemini_client_on_openai_channel() {
    let up = FakeUpstream::start(|_, _| {
        Reply::Json(200, chat_json("upstream-model", "Hello!", Some((12, 3))))
    })
    .await;
    let (gw, key) = setup(up.base_url(), 1).await;
    let path = format!("/v1beta/models/{MODEL}:generateContent");
    let a = post_gemini(&gw, &path, Some(&key), &generate_request()).await;
    assert_eq!(a.status, 200, "{}", a.text);
    assert_eq!(
        a.json["candidates"][0]["content"]["parts"][0]["text"],
        "Hello!"
    );
    assert_eq!(a.json["candidates"][0]["content"]["role"], "model");
    assert_eq!(a.json["candidates"][0]["finishReason"], "STOP");
    assert_eq!(a.json["usageMetadata"]["promptTokenCount"], 12);
    assert_eq!(a.json["usageMetadata"]["candidatesTokenCount"], 3);

    let sent = &up.received()[0];
    assert_eq!(sent.path, "/v1/chat/completions");
    assert_eq!(sent.body["model"], "upstream-model");
    assert_eq!(
        sent.body["messages"][0],
        json!({"role": "system", "content": "Be brief."})
    );
    assert_eq!(sent.body["max_tokens"], 64);

    let row = gw.log_row(&a.request_id()).await;
    assert_eq!(row["model"], MODEL);
    assert_eq!(row["endpoint"], path);
    assert_eq!(row["usage"]["input_tokens"], 12);
    assert_eq!(row["usage"]["output_tokens"], 3);
}

#[tokio::test]
async fn gemini_stream_on_openai_channel_with_query_key() {
    let up = FakeUpstream::start(|_, _| {
        Reply::Sse(chat_sse(
            "upstream-model",
            &["Hel", "lo", "!"],
            Some((9, 3)),
            Duration::from_millis(5),
        ))
    })
    .await;
    let (gw, key) = setup(up.base_url(), 1).await;
    let path = format!("/v1/models/{MODEL}:streamGenerateContent?alt=sse&key={key}");
    let a = post_gemini(&gw, &path, None, &generate_request()).await;
    assert_eq!(a.status, 200, "{}", a.text);
    assert!(
        a.headers["content-type"]
            .to_str()
            .unwrap()
            .contains("text/event-stream")
    );
    assert_eq!(streamed_text(&a.text), "Hello!");
    let events = sse_events(&a.text);
    let last = &events.last().unwrap().1;
    assert_eq!(last["usageMetadata"]["promptTokenCount"], 9);
    assert_eq!(last["usageMetadata"]["candidatesTokenCount"], 3);
    assert_eq!(up.received()[0].body["stream"], true);
    let row = gw.log_row(&a.request_id()).await;
    assert_eq!(row["usage"]["output_tokens"], 3);
}

#[tokio::test]
async fn openai_client_on_gemini_channel() {
    let up = FakeUpstream::start(|_, _| Reply::Json(200, gemini_json("Bonjour", 7, 2))).await;
    let (gw, key) = setup(root(&up), 24).await;
    let body = json!({"model": MODEL, "messages": [{"role": "system", "content": "s"}, {"role": "user", "content": "hi"}]});
    let a = gw.post("/v1/chat/completions", &key, &body).await;
    assert_eq!(a.status, 200, "{}", a.text);
    assert_eq!(a.json["object"], "chat.completion");
    assert_eq!(a.json["model"], MODEL);
    assert_eq!(a.json["choices"][0]["message"]["content"], "Bonjour");
    assert_eq!(a.json["choices"][0]["finish_reason"], "stop");
    assert_eq!(a.json["usage"]["prompt_tokens"], 7);
    assert_eq!(a.json["usage"]["completion_tokens"], 2);

    let sent = &up.received()[0];
    assert_eq!(sent.path, "/v1beta/models/upstream-model:generateContent");
    assert_eq!(sent.headers["x-goog-api-key"], "up-key");
    assert_eq!(sent.body["systemInstruction"]["parts"][0]["text"], "s");
    assert_eq!(sent.body["contents"][0]["parts"][0]["text"], "hi");
    assert!(sent.body.get("model").is_none());
}

#[tokio::test]
async fn openai_stream_on_gemini_channel() {
    let up = FakeUpstream::start(|_, _| Reply::Sse(gemini_sse(&["Bon", "jour"], 7, 2))).await;
    let (gw, key) = setup(root(&up), 24).await;
    let body = json!({"model": MODEL, "stream": true, "stream_options": {"include_usage": true},
        "messages": [{"role": "user", "content": "hi"}]});
    let a = gw.post("/v1/chat/completions", &key, &body).await;
    assert_eq!(a.status, 200, "{}", a.text);
    assert_eq!(
        up.received()[0].path,
        "/v1beta/models/upstream-model:streamGenerateContent?alt=sse"
    );
    let events = sse_events(&a.text);
    let text: String = events
        .iter()
        .filter_map(|(_, v)| {
            v["choices"][0]["delta"]["content"]
                .as_str()
                .map(str::to_owned)
        })
        .collect();
    assert_eq!(text, "Bonjour");
    assert_eq!(events.last().unwrap().1, json!("[DONE]"));
    let usage = events
        .iter()
        .rev()
        .find_map(|(_, v)| v.get("usage").filter(|u| !u.is_null()))
        .unwrap();
    assert_eq!(usage["prompt_tokens"], 7);
    assert_eq!(usage["completion_tokens"], 2);
    let row = gw.log_row(&a.request_id()).await;
    assert_eq!(row["usage"]["input_tokens"], 7);
}

#[tokio::test]
async fn gemini_to_gemini_is_forwarded() {
    let up = FakeUpstream::start(|_, n| {
        if n == 0 {
            Reply::Json(200, gemini_json("Hi there", 5, 2))
        } else {
            Reply::Sse(gemini_sse(&["a", "b"], 5, 2))
        }
    })
    .await;
    let (gw, key) = setup(root(&up), 24).await;
    let request = generate_request();
    let a = post_gemini(
        &gw,
        &format!("/v1beta/models/{MODEL}:generateContent"),
        Some(&key),
        &request,
    )
    .await;
    assert_eq!(a.status, 200, "{}", a.text);
    assert_eq!(a.json, gemini_json("Hi there", 5, 2));
    let sent = &up.received()[0];
    assert_eq!(sent.path, "/v1beta/models/upstream-model:generateContent");
    assert_eq!(sent.body, request);

    let a = post_gemini(
        &gw,
        &format!("/v1beta/models/{MODEL}:streamGenerateContent?alt=sse"),
        Some(&key),
        &request,
    )
    .await;
    assert_eq!(a.status, 200, "{}", a.text);
    assert_eq!(streamed_text(&a.text), "ab");
    let row = gw.log_row(&a.request_id()).await;
    assert_eq!(row["usage"]["output_tokens"], 2);
}

#[tokio::test]
async fn errors_are_in_gemini_shape() {
    let up = FakeUpstream::start(|_, _| {
        Reply::Json(429, json!({"error": {"message": "Rate limit reached", "type": "requests", "code": "rate_limit_exceeded"}}))
    })
    .await;
    let (gw, key) = setup(up.base_url(), 1).await;
    let path = format!("/v1beta/models/{MODEL}:generateContent");
    let a = post_gemini(&gw, &path, Some("sk-wrong"), &generate_request()).await;
    assert_eq!(a.status, 401, "{}", a.text);
    assert_eq!(a.json["error"]["code"], 401);
    assert_eq!(a.json["error"]["status"], "UNAUTHENTICATED");

    let a = post_gemini(
        &gw,
        "/v1beta/models/no-such-model:generateContent",
        Some(&key),
        &generate_request(),
    )
    .await;
    assert_eq!(a.status, 404, "{}", a.text);
    assert_eq!(a.json["error"]["status"], "NOT_FOUND");

    let a = post_gemini(
        &gw,
        &format!("/v1beta/models/{MODEL}:predict"),
        Some(&key),
        &generate_request(),
    )
    .await;
    assert_eq!(a.status, 404, "{}", a.text);
    assert!(
        a.json["error"]["message"]
            .as_str()
            .unwrap()
            .contains("predict")
    );

    let a = gw.post_raw(&path, &key, "{not json").await;
    assert_eq!(a.status, 400, "{}", a.text);
    assert_eq!(a.json["error"]["status"], "INVALID_ARGUMENT");

    let a = post_gemini(&gw, &path, Some(&key), &generate_request()).await;
    assert_eq!(a.status, 429, "{}", a.text);
    assert_eq!(a.json["error"]["status"], "RESOURCE_EXHAUSTED");
    assert!(
        a.json["error"]["message"]
            .as_str()
            .unwrap()
            .contains("Rate limit")
    );
}

#[tokio::test]
async fn count_tokens_is_estimated_locally() {
    let up = FakeUpstream::start(|_, _| Reply::Json(500, json!({}))).await;
    let (gw, key) = setup(up.base_url(), 1).await;
    let path = format!("/v1beta/models/{MODEL}:countTokens");
    let short = post_gemini(
        &gw,
        &path,
        Some(&key),
        &json!({"contents": [{"parts": [{"text": "hi"}]}]}),
    )
    .await;
    assert_eq!(short.status, 200, "{}", short.text);
    let long = post_gemini(&gw, &path, Some(&key), &generate_request()).await;
    let (short, long) = (
        short.json["totalTokens"].as_i64().unwrap(),
        long.json["totalTokens"].as_i64().unwrap(),
    );
    assert!(short > 0 && long > short, "{short} {long}");
    assert_eq!(up.hits(), 0);
    let a = post_gemini(&gw, &path, None, &generate_request()).await;
    assert_eq!(a.status, 401);
}

#[tokio::test]
async fn embeddings_cross_between_openai_and_gemini() {
    let gem = FakeUpstream::start(|_, _| {
        Reply::Json(
            200,
            json!({"embeddings": [{"values": [0.5, -0.25]}, {"values": [1.0, 0.0]}]}),
        )
    })
    .await;
    let (gw, key) = setup(root(&gem), 24).await;
    let a = gw
        .post(
            "/v1/embeddings",
            &key,
            &json!({"model": MODEL, "input": ["one", "two"]}),
        )
        .await;
    assert_eq!(a.status, 200, "{}", a.text);
    assert_eq!(a.json["object"], "list");
    assert_eq!(a.json["data"][0]["embedding"], json!([0.5, -0.25]));
    assert_eq!(a.json["data"][1]["index"], 1);
    let sent = &gem.received()[0];
    assert_eq!(
        sent.path,
        "/v1beta/models/upstream-model:batchEmbedContents"
    );
    assert_eq!(
        sent.body["requests"][1]["content"]["parts"][0]["text"],
        "two"
    );
    assert_eq!(sent.body["requests"][0]["model"], "models/upstream-model");

    let oai = FakeUpstream::start(|_, _| {
        Reply::Json(
            200,
            json!({"object": "list", "model": "upstream-model",
            "data": [{"object": "embedding", "index": 0, "embedding": [0.1, 0.2, 0.3]}],
            "usage": {"prompt_tokens": 2, "total_tokens": 2}}),
        )
    })
    .await;
    let (gw, key) = setup(oai.base_url(), 1).await;
    let a = post_gemini(
        &gw,
        &format!("/v1beta/models/{MODEL}:embedContent"),
        Some(&key),
        &json!({"content": {"parts": [{"text": "hello"}]}}),
    )
    .await;
    assert_eq!(a.status, 200, "{}", a.text);
    assert_eq!(a.json["embedding"]["values"], json!([0.1, 0.2, 0.3]));
    let sent = &oai.received()[0];
    assert_eq!(sent.path, "/v1/embeddings");
    assert_eq!(sent.body["input"], json!(["hello"]));
    assert_eq!(sent.body["model"], "upstream-model");
}
