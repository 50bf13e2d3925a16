//! Helpers for the admin-API, log and FastGPT suites: calls with any (or no)
//! key that never follow redirects, envelope assertions, hermetic channels,
//! options, and polling the batched log writer.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::gateway::{ADMIN_KEY, Answer, Gateway};

/// Call `path` with an explicit `Authorization` value (or none), never
/// following a redirect, so a 3xx is visible.
pub async fn call(
    gw: &Gateway,
    method: &str,
    path: &str,
    authorization: Option<&str>,
    body: Option<Value>,
) -> Answer {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
    let mut req = client.request(method, format!("{}{path}", gw.url));
    if let Some(auth) = authorization {
        req = req.header("authorization", auth);
    }
    if let Some(body) = body {
        req = req
            .header("content-type", "application/json")
            .body(body.to_string());
    }
    let response = req.send().await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let text = response.text().await.unwrap_or_default();
    let json = serde_json::from_str(&text).unwrap_or(Value::Null);
    Answer {
        status,
        headers,
        json,
        text,
    }
}

/// An admin call with the admin key that never follows redirects.
pub async fn admin(gw: &Gateway, method: &str, path: &str, body: Option<Value>) -> Answer {
    call(gw, method, path, Some(&format!("Bearer {ADMIN_KEY}")), body).await
}

/// Assert an error envelope: the status, `success:false` and a message containing `needle`.
pub fn assert_error(a: &Answer, status: u16, needle: &str) {
    assert_eq!(a.status.as_u16(), status, "{}", a.text);
    assert_eq!(a.json["success"], false, "error envelope: {}", a.text);
    let message = a.json["message"]
        .as_str()
        .unwrap_or_else(|| panic!("envelope message: {}", a.text));
    assert!(
        message.contains(needle),
        "`{message}` should mention `{needle}`"
    );
}

/// Assert a success envelope and return `data`.
pub fn assert_ok(a: &Answer) -> Value {
    assert!(
        a.status.is_success() && a.json["success"] == true,
        "{} {}",
        a.status,
        a.text
    );
    a.json["data"].clone()
}

/// A `fake` (type 53) channel serving `models` with extra `configs`.
pub async fn fake_channel(gw: &Gateway, name: &str, models: &[&str], configs: Value) -> i64 {
    gw.channel(json!({"type": 53, "name": name, "models": models, "configs": configs}))
        .await
}

/// A `fake-error` (type 55) channel answering `status` with `message`.
pub async fn error_channel(
    gw: &Gateway,
    name: &str,
    models: &[&str],
    status: u16,
    message: &str,
) -> i64 {
    gw.channel(json!({"type": 55, "name": name, "models": models,
        "configs": {"error_status_code": status, "error_message": message}}))
        .await
}

/// A minimal chat request for `model`.
pub fn chat(model: &str) -> Value {
    json!({"model": model, "messages": [{"role": "user", "content": "hi"}]})
}

/// Set one runtime option.
pub async fn set_option(gw: &Gateway, key: &str, value: &str) {
    gw.admin_ok(
        "PUT",
        "/api/option/",
        Some(json!({"key": key, "value": value})),
    )
    .await;
}

/// Poll `GET /api/logs/search?{query}` until `done(data)` holds; returns `data`.
pub async fn search_until(gw: &Gateway, query: &str, done: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let data = gw
            .admin_ok("GET", &format!("/api/logs/search?{query}"), None)
            .await;
        if done(&data) {
            return data;
        }
        assert!(
            Instant::now() < deadline,
            "log search `{query}` never satisfied the condition: {data}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// `data.total` of `GET /api/logs/search?{query}` (no waiting).
pub async fn log_total(gw: &Gateway, query: &str) -> i64 {
    gw.admin_ok("GET", &format!("/api/logs/search?{query}"), None)
        .await["total"]
        .as_i64()
        .unwrap()
}

/// Request ids of the rows in a search answer, in order.
pub fn request_ids(data: &Value) -> Vec<String> {
    data["logs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["request_id"].as_str().unwrap().to_owned())
        .collect()
}
