//! The hot lane (exact `POST`s to the main relay endpoints skip the router)
//! answers exactly as the routed path does: same bodies, CORS headers,
//! relay headers, error shapes and log rows.

use serde_json::{Value, json};

use crate::support::anthropic::post_anthropic;
use crate::support::gateway::Answer;
use crate::support::upstream::chat_json;
use crate::support::{FakeUpstream, Gateway, Reply};

const CORS_HEADERS: [&str; 2] = [
    "access-control-allow-origin",
    "access-control-expose-headers",
];

fn chat() -> Value {
    json!({"model": "gpt-4o", "messages": [{"role": "user", "content": "Say hello"}]})
}

fn header<'a>(a: &'a Answer, name: &str) -> Vec<&'a str> {
    a.headers
        .get_all(name)
        .iter()
        .map(|v| v.to_str().unwrap())
        .collect()
}

/// What `CorsLayer::permissive()` puts on an answer: no `Vary` (nothing
/// varies when everything is allowed).
fn assert_cors(a: &Answer) {
    assert!(header(a, "vary").is_empty(), "{:?}", a.headers);
    assert_eq!(header(a, "access-control-allow-origin"), ["*"]);
    assert_eq!(header(a, "access-control-expose-headers"), ["*"]);
}

async fn setup() -> (FakeUpstream, Gateway, String) {
    let up =
        FakeUpstream::start(|_, _| Reply::Json(200, chat_json("gpt-4o", "Hello!", Some((9, 3)))))
            .await;
    let gw = Gateway::start(&[]).await;
    gw.model("gpt-4o").await;
    gw.channel(json!({"type": 1, "name": "up", "key": "sk-up", "base_url": up.base_url(), "models": ["gpt-4o"]}))
        .await;
    let key = gw.token("team", json!({"name": "ci"})).await;
    (up, gw, key)
}

#[tokio::test]
async fn hot_and_routed_paths_answer_alike() {
    let (up, gw, key) = setup().await;
    let hot = gw.post("/v1/chat/completions", &key, &chat()).await;
    let routed = gw.post("/v1/chat/completions/", &key, &chat()).await;
    for a in [&hot, &routed] {
        assert_eq!(a.status, 200, "{}", a.text);
        assert_eq!(a.json["choices"][0]["message"]["content"], "Hello!");
        assert_cors(a);
        assert!(
            header(a, "server-timing")[0].starts_with("gateway;dur="),
            "{:?}",
            a.headers
        );
        let row = gw.log_row(&a.request_id()).await;
        assert_eq!(row["endpoint"], "/v1/chat/completions");
        assert_eq!(row["code"], 200);
        assert_eq!(row["usage"]["total_tokens"], 12);
    }
    assert_ne!(hot.request_id(), routed.request_id());
    assert_eq!(hot.json, {
        let mut same = routed.json.clone();
        same["id"] = hot.json["id"].clone();
        same
    });
    let sent = up.received();
    assert_eq!(sent.len(), 2);
    assert_eq!(sent[0].body, sent[1].body);
    assert_eq!(sent[0].path, sent[1].path);
    // The upstream request names its host, as hyper would have.
    assert_eq!(
        sent[0].headers["host"],
        up.base_url()
            .trim_start_matches("http://")
            .trim_end_matches("/v1")
    );
    gw.stop().await;
}

#[tokio::test]
async fn hot_lane_errors_keep_the_protocol_shape_and_cors() {
    let (_up, gw, _key) = setup().await;
    let openai = gw.post("/v1/chat/completions", "sk-wrong", &chat()).await;
    assert_eq!(openai.status, 401, "{}", openai.text);
    assert!(
        openai.json["error"]["message"].is_string(),
        "{}",
        openai.text
    );
    assert_cors(&openai);
    assert!(!openai.request_id().is_empty());

    let body = json!({"model": "gpt-4o", "max_tokens": 8, "messages": [{"role": "user", "content": "hi"}]});
    let anthropic = post_anthropic(&gw, "/v1/messages", "sk-wrong", &body, &[]).await;
    assert_eq!(anthropic.status, 401, "{}", anthropic.text);
    assert_eq!(anthropic.json["type"], "error");
    assert_eq!(anthropic.json["error"]["type"], "authentication_error");
    assert_cors(&anthropic);

    let malformed = gw.post_raw("/v1/embeddings", "sk-wrong", "{not json").await;
    assert_eq!(malformed.status, 401, "authentication comes first");
    assert_cors(&malformed);
    gw.stop().await;
}

#[tokio::test]
async fn other_methods_on_relay_paths_take_the_router() {
    let (_up, gw, _key) = setup().await;
    let preflight = gw
        .http
        .request(
            reqwest::Method::OPTIONS,
            format!("{}/v1/chat/completions", gw.url),
        )
        .header("origin", "https://app.example")
        .header("access-control-request-method", "POST")
        .send()
        .await
        .unwrap();
    assert!(preflight.status().is_success(), "{}", preflight.status());
    let headers = preflight.headers();
    assert_eq!(headers["access-control-allow-origin"], "*");
    assert!(headers.contains_key("access-control-allow-methods"));

    let get = Gateway::answer(
        gw.http
            .get(format!("{}/v1/responses", gw.url))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(get.status, 405, "{}", get.text);
    assert_eq!(get.json["error"]["type"], "invalid_request_error");
    for name in CORS_HEADERS {
        assert!(get.headers.contains_key(name), "{name}");
    }
    gw.stop().await;
}
