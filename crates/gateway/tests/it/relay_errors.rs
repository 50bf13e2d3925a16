//! Every error a relay client can meet: status, OpenAI error shape with the
//! request id, and no 500 for a client mistake.

use std::time::Duration;

use serde_json::{Value, json};

use crate::support::gateway::ADMIN_KEY;
use crate::support::upstream::chat_json;
use crate::support::{FakeUpstream, Gateway, Reply};

async fn setup(upstream: &FakeUpstream, extra: &[&str]) -> (Gateway, String) {
    let gw = Gateway::start(extra).await;
    gw.model("gpt-4o").await;
    gw.channel(
        json!({"type": 1, "name": "up", "base_url": upstream.base_url(), "models": ["gpt-4o"]}),
    )
    .await;
    let key = gw.token("team", json!({"name": "ci"})).await;
    (gw, key)
}

fn chat() -> Value {
    json!({"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]})
}

fn assert_openai_error(a: &crate::support::gateway::Answer, status: u16, needle: &str) {
    assert_eq!(a.status.as_u16(), status, "{}", a.text);
    let message = a.json["error"]["message"]
        .as_str()
        .unwrap_or_else(|| panic!("OpenAI error shape: {}", a.text));
    assert!(
        message.contains(needle),
        "`{message}` should mention `{needle}`"
    );
    assert!(a.json["error"]["type"].is_string());
    assert_eq!(
        a.json["aiproxy"],
        a.request_id(),
        "body carries the request id"
    );
}

async fn ok_upstream() -> FakeUpstream {
    FakeUpstream::start(|_, _| Reply::Json(200, chat_json("gpt-4o", "ok", Some((1, 1))))).await
}

#[tokio::test]
async fn malformed_and_mistyped_bodies_are_400_naming_the_problem() {
    let up = ok_upstream().await;
    let (gw, key) = setup(&up, &[]).await;
    for (body, needle) in [
        (
            r#"{"model":"gpt-4o","messages":["#.to_owned(),
            "not valid JSON",
        ),
        ("not json".to_owned(), "not valid JSON"),
        (String::new(), "empty"),
        (r#"{"model":42,"messages":[]}"#.to_owned(), "`model`"),
        (
            r#"{"model":"gpt-4o","messages":"hi"}"#.to_owned(),
            "`messages`",
        ),
        (
            r#"{"model":"gpt-4o","messages":[],"stream":"yes"}"#.to_owned(),
            "`stream`",
        ),
        (r#"{"messages":[]}"#.to_owned(), "no model"),
    ] {
        let a = gw
            .post_raw("/v1/chat/completions", &key, body.clone())
            .await;
        assert_openai_error(&a, 400, needle);
    }
    assert_eq!(up.hits(), 0, "nothing malformed reaches the upstream");
    gw.stop().await;
}

#[tokio::test]
async fn authentication_failures() {
    let up = ok_upstream().await;
    let (gw, key) = setup(&up, &[]).await;
    let a = gw
        .http
        .post(format!("{}/v1/chat/completions", gw.url))
        .body(chat().to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(a.status(), 401);
    let v: Value = serde_json::from_str(&a.text().await.unwrap()).unwrap();
    assert_eq!(v["error"]["message"], "no token provided");
    let a = gw.post("/v1/chat/completions", "sk-wrong", &chat()).await;
    assert_eq!(a.status, 401);
    assert_eq!(a.json["error"]["message"], "invalid token");
    // x-api-key works too, with or without sk-.
    let a = gw
        .http
        .post(format!("{}/v1/chat/completions", gw.url))
        .header("x-api-key", format!("sk-{key}"))
        .body(chat().to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(a.status(), 200);
    gw.stop().await;
}

#[tokio::test]
async fn token_and_group_checks() {
    let up = ok_upstream().await;
    let (gw, _) = setup(&up, &[]).await;
    let token = gw
        .admin_ok("POST", "/api/token/team", Some(json!({"name": "off"})))
        .await;
    let id = token["id"].as_i64().unwrap();
    gw.admin_ok(
        "POST",
        &format!("/api/token/team/{id}/status"),
        Some(json!({"status": 2})),
    )
    .await;
    let a = gw
        .post(
            "/v1/chat/completions",
            token["key"].as_str().unwrap(),
            &chat(),
        )
        .await;
    assert_openai_error(&a, 401, "is disabled");

    let key = gw
        .token("team", json!({"name": "net", "subnets": ["10.99.0.0/16"]}))
        .await;
    let a = gw.post("/v1/chat/completions", &key, &chat()).await;
    assert_openai_error(&a, 403, "subnets");
    let key = gw
        .token(
            "team",
            json!({"name": "local", "subnets": ["127.0.0.1/32"]}),
        )
        .await;
    assert_eq!(
        gw.post("/v1/chat/completions", &key, &chat()).await.status,
        200
    );

    let key = gw
        .token("team", json!({"name": "narrow", "models": ["other"]}))
        .await;
    let a = gw.post("/v1/chat/completions", &key, &chat()).await;
    assert_openai_error(&a, 404, "does not exist");

    let key = gw
        .token("team", json!({"name": "spent", "quota": 0.000001}))
        .await;
    assert_eq!(
        gw.post("/v1/chat/completions", &key, &chat()).await.status,
        200,
        "zero spend is under any quota"
    );

    let key = gw.token("closed", json!({"name": "t"})).await;
    gw.admin_ok(
        "POST",
        "/api/group/closed/status",
        Some(json!({"status": 2})),
    )
    .await;
    let a = gw.post("/v1/chat/completions", &key, &chat()).await;
    assert_openai_error(&a, 403, "group is disabled");
    gw.stop().await;
}

#[tokio::test]
async fn unknown_model_and_endpoints() {
    let up = ok_upstream().await;
    let (gw, key) = setup(&up, &[]).await;
    let a = gw
        .post(
            "/v1/chat/completions",
            &key,
            &json!({"model": "gpt-9", "messages": []}),
        )
        .await;
    assert_openai_error(&a, 404, "`gpt-9` does not exist");
    assert_eq!(a.json["error"]["code"], "model_not_found");
    let a = gw.post("/v1/files", &key, &json!({})).await;
    assert_eq!(a.status, 501);
    assert_eq!(a.json["error"]["code"], "api_not_implemented");
    let a = gw.post("/v1/nothing/here", &key, &json!({})).await;
    assert_eq!(a.status, 404);
    assert!(a.json["error"]["message"].is_string());
    gw.stop().await;
}

#[tokio::test]
async fn body_over_the_limit_is_413() {
    let up = ok_upstream().await;
    let (gw, key) = setup(&up, &["--max-request-body-size", "2048"]).await;
    let big =
        json!({"model": "gpt-4o", "messages": [{"role": "user", "content": "x".repeat(4096)}]});
    let a = gw.post("/v1/chat/completions", &key, &big).await;
    assert_openai_error(&a, 413, "larger than the limit");
    // Chunked body without a Content-Length is cut off too.
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> =
        (0..8).map(|_| Ok(vec![b' '; 1024])).collect();
    let stream = futures_util::stream::iter(chunks);
    let a = gw
        .post_raw(
            "/v1/chat/completions",
            &key,
            reqwest::Body::wrap_stream(stream),
        )
        .await;
    assert_eq!(a.status, 413);
    assert_eq!(up.hits(), 0);
    gw.stop().await;
}

#[tokio::test]
async fn dead_upstream_is_502() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead = listener.local_addr().unwrap();
    drop(listener);
    let gw = Gateway::start(&[]).await;
    gw.model("gpt-4o").await;
    gw.channel(json!({"type": 1, "name": "dead", "base_url": format!("http://{dead}/v1"), "models": ["gpt-4o"]})).await;
    let key = gw.token("team", json!({"name": "ci"})).await;
    let a = gw.post("/v1/chat/completions", &key, &chat()).await;
    assert_openai_error(&a, 502, "connection");
    let row = gw.log_row(&a.request_id()).await;
    assert_eq!(row["code"], 502);
    gw.stop().await;
}

#[tokio::test]
async fn maintenance_switch_is_503() {
    let up = ok_upstream().await;
    let (gw, key) = setup(&up, &[]).await;
    gw.admin_ok(
        "PUT",
        "/api/option/",
        Some(json!({"key": "DisableServe", "value": "true"})),
    )
    .await;
    let a = gw.post("/v1/chat/completions", &key, &chat()).await;
    assert_openai_error(&a, 503, "maintenance");
    gw.admin_ok(
        "PUT",
        "/api/option/",
        Some(json!({"key": "DisableServe", "value": "false"})),
    )
    .await;
    assert_eq!(
        gw.post("/v1/chat/completions", &key, &chat()).await.status,
        200
    );
    gw.stop().await;
}

#[tokio::test]
async fn slow_upstream_hits_the_first_byte_timeout_504() {
    let up = FakeUpstream::start(|_, _| {
        Reply::Delay(
            Duration::from_secs(3),
            Box::new(Reply::Json(200, chat_json("gpt-4o", "late", None))),
        )
    })
    .await;
    let (gw, key) = setup(&up, &[]).await;
    gw.admin_ok(
        "POST",
        "/api/model_config/gpt-4o",
        Some(json!({"timeout_config": {"request_timeout": 1}})),
    )
    .await;
    let started = std::time::Instant::now();
    let a = gw.post("/v1/chat/completions", &key, &chat()).await;
    assert_openai_error(&a, 504, "did not answer within");
    assert!(started.elapsed() < Duration::from_millis(2500));
    gw.stop().await;
}

#[tokio::test]
async fn upstream_credential_errors_are_not_the_clients_401() {
    let up = FakeUpstream::start(|_, _| Reply::Json(401, json!({"error": {"message": "Incorrect API key provided: sk-up***", "type": "invalid_request_error"}}))).await;
    let (gw, key) = setup(&up, &[]).await;
    let a = gw.post("/v1/chat/completions", &key, &chat()).await;
    assert_openai_error(&a, 502, "rejected the gateway's channel credentials");
    assert_eq!(a.json["error"]["type"], "upstream_error");
    assert!(
        !a.text.contains("sk-up"),
        "upstream details about its keys are not shown"
    );
    gw.stop().await;
}

#[tokio::test]
async fn upstream_client_errors_pass_through() {
    let up = FakeUpstream::start(|_, _| Reply::Json(400, json!({"error": {"message": "temperature must be <= 2", "type": "invalid_request_error", "code": "bad_temperature"}}))).await;
    let (gw, key) = setup(&up, &[]).await;
    let a = gw.post("/v1/chat/completions", &key, &chat()).await;
    assert_openai_error(&a, 400, "temperature must be <= 2");
    assert_eq!(a.json["error"]["code"], "bad_temperature");
    let up = FakeUpstream::start(|_, _| Reply::Raw(429, "text/plain", "slow down".into())).await;
    let (gw2, key2) = setup(&up, &[]).await;
    let a = gw2.post("/v1/chat/completions", &key2, &chat()).await;
    assert_openai_error(&a, 429, "slow down");
    gw.stop().await;
    gw2.stop().await;
}

#[tokio::test]
async fn channel_pin_needs_an_internal_key() {
    let up = ok_upstream().await;
    let (gw, key) = setup(&up, &[]).await;
    let a = gw
        .http
        .post(format!("{}/v1/chat/completions", gw.url))
        .bearer_auth(&key)
        .header("Aiproxy-Channel", "1")
        .body(chat().to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(a.status(), 403);
    let a = gw
        .http
        .post(format!("{}/v1/chat/completions", gw.url))
        .bearer_auth(ADMIN_KEY)
        .header("Aiproxy-Channel", "999")
        .body(chat().to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(a.status(), 503);
    let a = gw
        .http
        .post(format!("{}/v1/chat/completions", gw.url))
        .bearer_auth(ADMIN_KEY)
        .header("Aiproxy-Channel", "x")
        .body(chat().to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(a.status(), 400);
    gw.stop().await;
}

#[tokio::test]
async fn wrong_methods_are_405_in_the_routes_own_shape() {
    let up = ok_upstream().await;
    let (gw, key) = setup(&up, &[]).await;
    let r = gw
        .http
        .get(format!("{}/v1/chat/completions", gw.url))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 405);
    let v: Value = serde_json::from_str(&r.text().await.unwrap()).unwrap();
    assert!(v["error"]["message"].as_str().unwrap().contains("GET"));
    let a = gw.admin("DELETE", "/api/channels/all", None).await;
    assert_eq!(a.status, 405);
    assert_eq!(a.json["success"], false);
    gw.stop().await;
}

#[tokio::test]
async fn legacy_engines_path_authenticates_before_reading_the_body() {
    let up = FakeUpstream::start(|r, _| {
        Reply::Json(200, json!({"object": "list", "model": r.body["model"], "data": [], "usage": {"prompt_tokens": 1, "total_tokens": 1}}))
    })
    .await;
    let (gw, key) = setup(&up, &[]).await;
    let a = gw
        .post_raw("/v1/engines/gpt-4o/embeddings", "sk-wrong", "not json")
        .await;
    assert_eq!(a.status, 401, "{}", a.text);
    let a = gw
        .post(
            "/v1/engines/gpt-4o/embeddings",
            &key,
            &json!({"input": "hi", "model": "ignored"}),
        )
        .await;
    assert_eq!(a.status, 200, "{}", a.text);
    assert_eq!(
        up.received()[0].body["model"],
        "gpt-4o",
        "the path names the model"
    );
    gw.stop().await;
}

/// An upstream like uvicorn (vLLM, SGLang) whose five-second keep-alive
/// timer fires just as a request arrives: a request that reaches a
/// connection idle for 4.5 s or more finds it closed, unanswered. Any
/// earlier request is answered. Returns the port and the connection count.
async fn closes_idle_connections_upstream() -> (u16, std::sync::Arc<std::sync::atomic::AtomicUsize>)
{
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Instant;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let accepted = Arc::new(AtomicUsize::new(0));
    let counter = accepted.clone();
    let body = chat_json("gpt-4o", "ok", Some((1, 1))).to_string();
    let answer = format!(
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    );
    tokio::spawn(async move {
        loop {
            let (mut socket, _) = listener.accept().await.unwrap();
            counter.fetch_add(1, Ordering::SeqCst);
            let answer = answer.clone();
            tokio::spawn(async move {
                let mut idle_since: Option<Instant> = None;
                let mut buf = vec![0u8; 64 * 1024];
                while let Ok(n) = socket.read(&mut buf).await
                    && n > 0
                {
                    // The gateway's requests are small: one read holds one.
                    if idle_since.is_some_and(|t| t.elapsed() >= Duration::from_millis(4500)) {
                        return;
                    }
                    if socket.write_all(answer.as_bytes()).await.is_err() {
                        return;
                    }
                    idle_since = Some(Instant::now());
                }
            });
        }
    });
    (port, accepted)
}

#[tokio::test]
async fn a_connection_idle_for_most_of_five_seconds_is_not_reused() {
    use std::sync::atomic::Ordering;

    let (port, accepted) = closes_idle_connections_upstream().await;
    let gw = Gateway::start(&[]).await;
    gw.model("gpt-4o").await;
    gw.channel(json!({"type": 1, "name": "uvicorn", "base_url": format!("http://127.0.0.1:{port}/v1"), "models": ["gpt-4o"]})).await;
    let key = gw.token("team", json!({"name": "ci"})).await;

    let first = gw.post("/v1/chat/completions", &key, &chat()).await;
    assert_eq!(first.status, 200, "{}", first.text);
    // Soon after, the same connection carries the next request.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let soon = gw.post("/v1/chat/completions", &key, &chat()).await;
    assert_eq!(soon.status, 200, "{}", soon.text);
    assert_eq!(accepted.load(Ordering::SeqCst), 1, "reused while fresh");
    // Past four idle seconds the pool no longer trusts it: a new connection.
    tokio::time::sleep(Duration::from_millis(4600)).await;
    let late = gw.post("/v1/chat/completions", &key, &chat()).await;
    assert_eq!(late.status, 200, "{}", late.text);
    assert_eq!(accepted.load(Ordering::SeqCst), 2);
    let row = gw.log_row(&late.request_id()).await;
    assert_eq!(row["code"], 200);
    assert_eq!(row["retry_times"], 0, "{row}");
    gw.stop().await;
}
