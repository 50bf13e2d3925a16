//! Vertex AI channels (type 42) over sockets: a fake OAuth token endpoint
//! verifies the service account's RS256 assertion with the fixture public
//! key, a fake Vertex server checks the bearer token and the publisher paths.
//! Claude models go to the Anthropic publisher, Gemini models to Google's;
//! OpenAI, Anthropic and Gemini clients are served, streamed or not; the
//! token is fetched once, shared by concurrent requests, refetched after it
//! expires, and a token endpoint failure is a clear 502 in the client's shape.

use std::time::Duration;

use base64::Engine;
use futures_util::future::join_all;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{Value, json};

use crate::support::anthropic::{messages_json, messages_sse, post_anthropic, sse_events};
use crate::support::gateway::Answer;
use crate::support::upstream::Received;
use crate::support::{FakeUpstream, Gateway, Reply};

const PRIVATE_PEM: &str = include_str!("../fixtures/vertex/test-sa-private.pem");
const PUBLIC_PEM: &str = include_str!("../fixtures/vertex/test-sa-public.pem");
const CLIENT_EMAIL: &str = "gateway@proj-test.iam.gserviceaccount.com";
const CLAUDE: &str = "claude-sonnet-4";
const CLAUDE_UPSTREAM: &str = "claude-sonnet-4@20250514";
const GEMINI: &str = "gemini-2.5-flash";
const PROJECT_PATH: &str = "/v1/projects/proj-test/locations/us-east5/publishers";

/// A token endpoint answering `tok-{n}` valid for `expires_in` seconds, or
/// `failure` (status, body) when given.
async fn token_server(expires_in: u64, failure: Option<(u16, Value)>) -> FakeUpstream {
    FakeUpstream::start(move |_, n| {
        let answer = Reply::Json(
            200,
            json!({"access_token": format!("tok-{n}"), "expires_in": expires_in, "token_type": "Bearer"}),
        );
        match &failure {
            Some((status, body)) => Reply::Json(*status, body.clone()),
            None => Reply::Delay(Duration::from_millis(150), Box::new(answer)),
        }
    })
    .await
}

fn gemini_json(text: &str) -> Value {
    json!({"candidates": [{"content": {"role": "model", "parts": [{"text": text}]},
        "finishReason": "STOP", "index": 0}],
        "usageMetadata": {"promptTokenCount": 12, "candidatesTokenCount": 5, "totalTokenCount": 17},
        "modelVersion": GEMINI, "responseId": "vtx-1"})
}

fn gemini_sse(texts: &[&str]) -> Vec<(Duration, String)> {
    let last = texts.len() - 1;
    texts
        .iter()
        .enumerate()
        .map(|(n, text)| {
            let mut chunk = json!({"candidates": [{"content": {"role": "model", "parts": [{"text": text}]},
                "index": 0}], "modelVersion": GEMINI, "responseId": "vtx-2"});
            if n == last {
                chunk["candidates"][0]["finishReason"] = json!("STOP");
                chunk["usageMetadata"] =
                    json!({"promptTokenCount": 12, "candidatesTokenCount": 5, "totalTokenCount": 17});
            }
            (Duration::from_millis(2), format!("data: {chunk}\r\n\r\n"))
        })
        .collect()
}

/// A fake Vertex: each publisher's endpoints answer in their own protocol.
async fn vertex_server() -> FakeUpstream {
    FakeUpstream::start(|r, _| {
        let path = r.path.as_str();
        if path.ends_with(":rawPredict") {
            Reply::Json(
                200,
                messages_json(CLAUDE_UPSTREAM, "Hi from Claude", (7, 3, 0, 0)),
            )
        } else if path.ends_with(":streamRawPredict") {
            Reply::Sse(messages_sse(
                CLAUDE_UPSTREAM,
                &["Hi ", "Claude"],
                None,
                (7, 3, 0, 0),
            ))
        } else if path.ends_with(":generateContent") {
            Reply::Json(200, gemini_json("Hi from Gemini"))
        } else if path.ends_with(":streamGenerateContent?alt=sse") {
            Reply::Sse(gemini_sse(&["Hi ", "Gemini"]))
        } else {
            Reply::Json(
                404,
                json!({"error": {"code": 404, "message": path, "status": "NOT_FOUND"}}),
            )
        }
    })
    .await
}

fn service_account(token_uri: &str) -> String {
    json!({"type": "service_account", "project_id": "proj-test", "private_key_id": "kid-test",
        "private_key": PRIVATE_PEM, "client_email": CLIENT_EMAIL, "token_uri": token_uri,
        "auth_uri": "https://accounts.google.com/o/oauth2/auth"})
    .to_string()
}

/// A gateway with one Vertex channel keyed `key` at `vertex`, serving both models.
async fn setup(vertex: &FakeUpstream, key: &str) -> (Gateway, String) {
    let gw = Gateway::start(&[]).await;
    gw.model(CLAUDE).await;
    gw.model(GEMINI).await;
    gw.channel(json!({"type": 42, "name": "vertex", "key": key,
        "base_url": format!("http://{}", vertex.addr), "models": [CLAUDE, GEMINI],
        "model_mapping": {CLAUDE: CLAUDE_UPSTREAM}}))
        .await;
    let token = gw.token("team", json!({"name": "ci"})).await;
    (gw, token)
}

async fn setup_sa(vertex: &FakeUpstream, token: &FakeUpstream) -> (Gateway, String, String) {
    let token_uri = format!("http://{}/token", token.addr);
    let (gw, key) = setup(vertex, &format!("us-east5|{}", service_account(&token_uri))).await;
    (gw, key, token_uri)
}

/// Verify a token request: the JWT-bearer grant with an assertion signed by
/// the fixture key, naming the service account, the scope and the audience.
fn assert_token_request(r: &Received, token_uri: &str) {
    assert_eq!(r.path, "/token");
    assert_eq!(
        r.headers["content-type"],
        "application/x-www-form-urlencoded"
    );
    let form: Vec<(String, String)> = std::str::from_utf8(&r.raw)
        .unwrap()
        .split('&')
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap();
            (k.to_owned(), urlencoding::decode(v).unwrap().into_owned())
        })
        .collect();
    assert_eq!(
        form[0],
        (
            "grant_type".into(),
            "urn:ietf:params:oauth:grant-type:jwt-bearer".into()
        )
    );
    assert_eq!(form[1].0, "assertion");
    let body: String = PUBLIC_PEM
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect();
    let public = base64::engine::general_purpose::STANDARD
        .decode(body)
        .unwrap();
    let mut validation = Validation::new(Algorithm::RS256);
    validation.set_audience(&[token_uri]);
    validation.set_issuer(&[CLIENT_EMAIL]);
    let data =
        jsonwebtoken::decode::<Value>(&form[1].1, &DecodingKey::from_rsa_der(&public), &validation)
            .expect("the assertion verifies with the service account's public key");
    assert_eq!(data.header.kid.as_deref(), Some("kid-test"));
    let claims = data.claims;
    assert_eq!(
        claims["scope"],
        "https://www.googleapis.com/auth/cloud-platform"
    );
    assert_eq!(
        claims["exp"].as_u64().unwrap() - claims["iat"].as_u64().unwrap(),
        3600
    );
}

fn bearer(r: &Received) -> &str {
    r.headers["authorization"].to_str().unwrap()
}

fn streamed_chat_text(a: &Answer) -> String {
    sse_events(&a.text)
        .iter()
        .filter_map(|(_, v)| {
            v["choices"][0]["delta"]["content"]
                .as_str()
                .map(str::to_owned)
        })
        .collect()
}

async fn post_gemini(gw: &Gateway, path: &str, key: &str, body: &Value) -> Answer {
    let req = gw
        .http
        .post(format!("{}{path}", gw.url))
        .header("x-goog-api-key", key)
        .header("content-type", "application/json");
    Gateway::answer(req.body(body.to_string()).send().await.unwrap()).await
}

#[tokio::test]
async fn claude_models_use_the_anthropic_publisher() {
    let vertex = vertex_server().await;
    let token = token_server(3600, None).await;
    let (gw, key, token_uri) = setup_sa(&vertex, &token).await;

    let chat = json!({"model": CLAUDE, "messages": [{"role": "user", "content": "Hello"}]});
    let a = gw.post("/v1/chat/completions", &key, &chat).await;
    assert_eq!(a.status, 200, "{}", a.text);
    assert_eq!(a.json["model"], CLAUDE);
    assert_eq!(a.json["choices"][0]["message"]["content"], "Hi from Claude");
    let row = gw.log_row(&a.request_id()).await;
    assert_eq!(
        (
            row["usage"]["input_tokens"].as_i64(),
            row["usage"]["output_tokens"].as_i64()
        ),
        (Some(7), Some(3))
    );

    let messages = json!({"model": CLAUDE, "max_tokens": 32, "stream": true,
        "messages": [{"role": "user", "content": "Hello"}]});
    let beta = [("anthropic-beta", "context-1m-2025-08-07")];
    let a = post_anthropic(&gw, "/v1/messages", &key, &messages, &beta).await;
    assert_eq!(a.status, 200, "{}", a.text);
    let events = sse_events(&a.text);
    assert_eq!(events[0].1["message"]["model"], CLAUDE);
    let text: String = events
        .iter()
        .filter_map(|(_, e)| e["delta"]["text"].as_str())
        .collect();
    assert_eq!(text, "Hi Claude");

    let mut streamed = chat.clone();
    streamed["stream"] = json!(true);
    let a = gw.post("/v1/chat/completions", &key, &streamed).await;
    assert_eq!(a.status, 200, "{}", a.text);
    assert_eq!(streamed_chat_text(&a), "Hi Claude");

    let seen = vertex.received();
    let base = format!("{PROJECT_PATH}/anthropic/models/{CLAUDE_UPSTREAM}");
    assert_eq!(seen[0].path, format!("{base}:rawPredict"));
    assert_eq!(seen[1].path, format!("{base}:streamRawPredict"));
    assert_eq!(seen[2].path, format!("{base}:streamRawPredict"));
    for r in &seen {
        assert_eq!(bearer(r), "Bearer tok-0");
        assert_eq!(r.body["anthropic_version"], "vertex-2023-10-16");
        assert!(r.body.get("model").is_none(), "{}", r.body);
        assert!(r.body["max_tokens"].as_i64().unwrap() > 0);
    }
    assert_eq!(seen[1].body["stream"], true);
    assert_eq!(seen[1].headers["anthropic-beta"], "context-1m-2025-08-07");
    assert_eq!(token.hits(), 1, "one token for all requests");
    assert_token_request(&token.received()[0], &token_uri);
}

#[tokio::test]
async fn gemini_models_use_the_google_publisher() {
    let vertex = vertex_server().await;
    let token = token_server(3600, None).await;
    let (gw, key, _) = setup_sa(&vertex, &token).await;

    let request = json!({"contents": [{"role": "user", "parts": [{"text": "Hello"}]}],
        "generationConfig": {"maxOutputTokens": 32}});
    let a = post_gemini(
        &gw,
        &format!("/v1beta/models/{GEMINI}:generateContent"),
        &key,
        &request,
    )
    .await;
    assert_eq!(a.status, 200, "{}", a.text);
    assert_eq!(
        a.json["candidates"][0]["content"]["parts"][0]["text"],
        "Hi from Gemini"
    );
    let row = gw.log_row(&a.request_id()).await;
    assert_eq!(row["usage"]["input_tokens"], 12);

    let path = format!("/v1beta/models/{GEMINI}:streamGenerateContent?alt=sse");
    let a = post_gemini(&gw, &path, &key, &request).await;
    assert_eq!(a.status, 200, "{}", a.text);
    let text: String = sse_events(&a.text)
        .iter()
        .filter_map(|(_, v)| {
            v["candidates"][0]["content"]["parts"][0]["text"]
                .as_str()
                .map(str::to_owned)
        })
        .collect();
    assert_eq!(text, "Hi Gemini");

    let chat = json!({"model": GEMINI, "stream": true, "messages": [{"role": "user", "content": "Hello"}]});
    let a = gw.post("/v1/chat/completions", &key, &chat).await;
    assert_eq!(a.status, 200, "{}", a.text);
    assert_eq!(streamed_chat_text(&a), "Hi Gemini");
    let chat = json!({"model": GEMINI, "messages": [{"role": "user", "content": "Hello"}]});
    let a = gw.post("/v1/chat/completions", &key, &chat).await;
    assert_eq!(a.status, 200, "{}", a.text);
    assert_eq!(a.json["choices"][0]["message"]["content"], "Hi from Gemini");
    assert_eq!(a.json["usage"]["prompt_tokens"], 12);

    let seen = vertex.received();
    let base = format!("{PROJECT_PATH}/google/models/{GEMINI}");
    let paths: Vec<&str> = seen.iter().map(|r| r.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            format!("{base}:generateContent"),
            format!("{base}:streamGenerateContent?alt=sse"),
            format!("{base}:streamGenerateContent?alt=sse"),
            format!("{base}:generateContent"),
        ]
    );
    assert!(seen.iter().all(|r| bearer(r) == "Bearer tok-0"));
    assert_eq!(
        seen[3].body["contents"][0]["parts"][0]["text"], "Hello",
        "converted to Gemini"
    );
    assert!(
        !seen[0].headers.contains_key("x-goog-api-key"),
        "the client's key is not forwarded"
    );
    assert_eq!(token.hits(), 1);
}

#[tokio::test]
async fn concurrent_requests_share_one_token_fetch() {
    let vertex = vertex_server().await;
    let token = token_server(3600, None).await;
    let (gw, key, _) = setup_sa(&vertex, &token).await;
    let chat = json!({"model": GEMINI, "messages": [{"role": "user", "content": "Hello"}]});
    let answers = join_all((0..8).map(|_| gw.post("/v1/chat/completions", &key, &chat))).await;
    for a in &answers {
        assert_eq!(a.status, 200, "{}", a.text);
    }
    assert_eq!(
        token.hits(),
        1,
        "a single flight for eight concurrent requests"
    );
    assert_eq!(vertex.hits(), 8);
    assert!(
        vertex
            .received()
            .iter()
            .all(|r| bearer(r) == "Bearer tok-0")
    );
}

#[tokio::test]
async fn expired_token_is_fetched_again() {
    let vertex = vertex_server().await;
    let token = token_server(2, None).await;
    let (gw, key, token_uri) = setup_sa(&vertex, &token).await;
    let chat = json!({"model": GEMINI, "messages": [{"role": "user", "content": "Hello"}]});
    for _ in 0..2 {
        assert_eq!(
            gw.post("/v1/chat/completions", &key, &chat).await.status,
            200
        );
    }
    assert_eq!(token.hits(), 1);
    tokio::time::sleep(Duration::from_millis(2100)).await;
    assert_eq!(
        gw.post("/v1/chat/completions", &key, &chat).await.status,
        200
    );
    assert_eq!(token.hits(), 2, "the expired token was replaced");
    let bearers: Vec<String> = vertex
        .received()
        .iter()
        .map(|r| bearer(r).to_owned())
        .collect();
    assert_eq!(bearers, ["Bearer tok-0", "Bearer tok-0", "Bearer tok-1"]);
    for r in token.received() {
        assert_token_request(&r, &token_uri);
    }
}

#[tokio::test]
async fn token_endpoint_failures_are_clear_502s() {
    let vertex = vertex_server().await;
    let down = token_server(3600, Some((503, json!({"error": "unavailable"})))).await;
    let (gw, key, _) = setup_sa(&vertex, &down).await;
    let chat = json!({"model": GEMINI, "messages": [{"role": "user", "content": "Hello"}]});
    let a = gw.post("/v1/chat/completions", &key, &chat).await;
    assert_eq!(a.status, 502, "{}", a.text);
    let message = a.json["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("token endpoint unavailable") && message.contains("503"),
        "{message}"
    );

    let messages =
        json!({"model": CLAUDE, "max_tokens": 8, "messages": [{"role": "user", "content": "Hi"}]});
    let a = post_anthropic(&gw, "/v1/messages", &key, &messages, &[]).await;
    assert_eq!(a.status, 502, "{}", a.text);
    assert_eq!(a.json["type"], "error", "{}", a.text);
    assert!(
        a.json["error"]["message"]
            .as_str()
            .unwrap()
            .contains("token endpoint"),
        "{}",
        a.text
    );
    assert_eq!(vertex.hits(), 0);

    // The service account is refused: the channel is misconfigured.
    let vertex2 = vertex_server().await;
    let refused = token_server(
        3600,
        Some((
            400,
            json!({"error": "invalid_grant", "error_description": "Invalid JWT Signature."}),
        )),
    )
    .await;
    let (gw2, key2, _) = setup_sa(&vertex2, &refused).await;
    let request = json!({"contents": [{"role": "user", "parts": [{"text": "Hello"}]}]});
    let a = post_gemini(
        &gw2,
        &format!("/v1beta/models/{GEMINI}:generateContent"),
        &key2,
        &request,
    )
    .await;
    assert_eq!(a.status, 502, "{}", a.text);
    assert!(
        a.json["error"]["message"]
            .as_str()
            .unwrap()
            .contains("Invalid JWT Signature"),
        "{}",
        a.text
    );
    assert!(
        a.json["error"]["status"].is_string(),
        "Gemini error shape: {}",
        a.text
    );
    assert_eq!(vertex2.hits(), 0);
}

#[tokio::test]
async fn api_key_channels_need_no_token() {
    let vertex = vertex_server().await;
    let (gw, key) = setup(&vertex, "global|AQ.express-key").await;
    let chat = json!({"model": GEMINI, "messages": [{"role": "user", "content": "Hello"}]});
    let a = gw.post("/v1/chat/completions", &key, &chat).await;
    assert_eq!(a.status, 200, "{}", a.text);
    let r = &vertex.received()[0];
    assert_eq!(
        r.path,
        format!("/v1/publishers/google/models/{GEMINI}:generateContent")
    );
    assert_eq!(r.headers["x-goog-api-key"], "AQ.express-key");
    assert!(!r.headers.contains_key("authorization"));

    let vertex = vertex_server().await;
    let (gw, key) = setup(&vertex, "us-east5|proj-test|AIza-project-key").await;
    let messages =
        json!({"model": CLAUDE, "max_tokens": 8, "messages": [{"role": "user", "content": "Hi"}]});
    let a = post_anthropic(&gw, "/v1/messages", &key, &messages, &[]).await;
    assert_eq!(a.status, 200, "{}", a.text);
    assert_eq!(a.json["content"][0]["text"], "Hi from Claude");
    let r = &vertex.received()[0];
    assert_eq!(
        r.path,
        format!("{PROJECT_PATH}/anthropic/models/{CLAUDE_UPSTREAM}:rawPredict")
    );
    assert_eq!(r.headers["x-goog-api-key"], "AIza-project-key");
}
