//! Channel tests: `/api/channel/{id}/test[/{model}]`, `/api/channels/test`
//! (JSON and SSE), test-preview, stored results, and the background re-test
//! that unbans a banned pair once it passes.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::support::admin::{error_channel, fake_channel};
use crate::support::upstream::chat_json;
use crate::support::{FakeUpstream, Gateway, Reply};

/// An OpenAI-style upstream whose answer depends on the model asked for.
async fn scripted_upstream() -> FakeUpstream {
    FakeUpstream::start(|r, _| match r.body["model"].as_str().unwrap_or("") {
        "ok-model" => Reply::Json(
            200,
            chat_json("ok-model", "hello from upstream", Some((3, 4))),
        ),
        "bad-model" => Reply::Json(
            401,
            json!({"error": {"message": "invalid api key", "type": "invalid_request_error"}}),
        ),
        "down-model" => Reply::Json(500, json!({"error": {"message": "upstream exploded"}})),
        "slow-model" => Reply::Delay(
            Duration::from_secs(5),
            Box::new(Reply::Json(200, chat_json("slow-model", "late", None))),
        ),
        other => Reply::Json(
            404,
            json!({"error": {"message": format!("no model {other}")}}),
        ),
    })
    .await
}

async fn start() -> Gateway {
    Gateway::start(&[
        "--disable-model-config",
        "true",
        "--channel-test-timeout",
        "1",
    ])
    .await
}

fn models_of(data: &Value) -> Vec<String> {
    let mut m: Vec<String> = data
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["model"].as_str().unwrap().to_owned())
        .collect();
    m.sort();
    m
}

#[tokio::test]
async fn single_model_tests_report_success_and_failure_and_are_stored() {
    let up = scripted_upstream().await;
    let gw = start().await;
    let id = gw
        .channel(
            json!({"type": 1, "name": "oai", "key": "sk-up", "base_url": up.base_url(),
            "models": ["ok-model", "bad-model", "down-model", "slow-model"]}),
        )
        .await;

    let ok = gw
        .admin("GET", &format!("/api/channel/{id}/test/ok-model"), None)
        .await;
    assert_eq!(ok.status, 200, "{}", ok.text);
    assert_eq!(ok.json["success"], true, "{}", ok.text);
    let data = &ok.json["data"];
    assert_eq!(data["success"], true);
    assert_eq!(data["model"], "ok-model");
    assert_eq!(data["channel_id"], id);
    assert_eq!(data["code"], 200);
    assert!(
        data["response"]
            .as_str()
            .unwrap()
            .contains("hello from upstream")
    );
    assert!(data["took"].as_f64().unwrap() >= 0.0);
    assert!(data.get("error").is_none());
    assert_eq!(up.received()[0].headers["authorization"], "Bearer sk-up");

    // A failed test is a failure in the envelope too (AI Proxy says success).
    let bad = gw
        .admin("GET", &format!("/api/channel/{id}/test/bad-model"), None)
        .await;
    assert_eq!(bad.status, 200);
    assert_eq!(bad.json["success"], false, "{}", bad.text);
    assert!(
        bad.json["message"].as_str().unwrap().contains("401"),
        "{}",
        bad.text
    );
    assert_eq!(bad.json["data"]["success"], false);
    assert_eq!(bad.json["data"]["code"], 401);
    assert!(
        bad.json["data"]["error"]
            .as_str()
            .unwrap()
            .contains("invalid api key")
    );

    let down = gw
        .admin("GET", &format!("/api/channel/{id}/test/down-model"), None)
        .await;
    assert_eq!(down.json["success"], false);
    assert_eq!(down.json["data"]["code"], 500);

    let started = Instant::now();
    let slow = gw
        .admin("GET", &format!("/api/channel/{id}/test/slow-model"), None)
        .await;
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "the test timeout was not applied"
    );
    assert_eq!(slow.json["success"], false);
    assert_eq!(slow.json["data"]["code"], 0);
    assert!(
        slow.json["data"]["error"].as_str().unwrap().contains("1s"),
        "{}",
        slow.text
    );

    // Not a model of the channel.
    let unknown = gw
        .admin("GET", &format!("/api/channel/{id}/test/nope"), None)
        .await;
    assert_eq!(unknown.status, 400, "{}", unknown.text);
    assert_eq!(
        gw.admin("GET", "/api/channel/999/test/ok-model", None)
            .await
            .status,
        404
    );

    // Last result per (channel, model) is stored.
    let stored = gw
        .admin_ok("GET", &format!("/api/channel/{id}/tests"), None)
        .await;
    assert_eq!(
        models_of(&stored),
        ["bad-model", "down-model", "ok-model", "slow-model"]
    );
    for row in stored.as_array().unwrap() {
        let expect = row["model"] == "ok-model";
        assert_eq!(row["success"], expect, "{row}");
    }
    let channel = gw
        .admin_ok("GET", &format!("/api/channel/{id}"), None)
        .await;
    assert!(channel["last_test_error_at"].as_i64().unwrap() > 0);
    gw.stop().await;
}

#[tokio::test]
async fn channel_test_lists_failures_and_streams_one_event_per_result() {
    let up = scripted_upstream().await;
    let gw = start().await;
    let id = gw
        .channel(
            json!({"type": 1, "name": "oai", "key": "k", "base_url": up.base_url(),
            "models": ["ok-model", "bad-model", "down-model"]}),
        )
        .await;

    // By default only failures are listed, and success is false.
    let a = gw
        .admin("GET", &format!("/api/channel/{id}/test"), None)
        .await;
    assert_eq!(a.json["success"], false, "{}", a.text);
    assert_eq!(a.json["message"], "2 of 3 tests failed");
    assert_eq!(models_of(&a.json["data"]), ["bad-model", "down-model"]);

    let a = gw
        .admin(
            "GET",
            &format!("/api/channel/{id}/test?return_success=true&success_body=true"),
            None,
        )
        .await;
    assert_eq!(
        models_of(&a.json["data"]),
        ["bad-model", "down-model", "ok-model"]
    );
    let ok = a.json["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["model"] == "ok-model")
        .unwrap();
    assert!(ok["response"].as_str().unwrap().contains("hello"));

    // SSE: one `data:` event per result, then [DONE].
    let response = gw
        .http
        .get(format!(
            "{}/api/channel/{id}/test?stream=true&return_success=true",
            gw.url
        ))
        .bearer_auth(crate::support::gateway::ADMIN_KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["content-type"], "text/event-stream");
    let text = response.text().await.unwrap();
    let events: Vec<&str> = text
        .split("\n\n")
        .filter_map(|e| e.strip_prefix("data: "))
        .collect();
    assert_eq!(events.last(), Some(&"[DONE]"), "{text}");
    let results: Vec<Value> = events[..events.len() - 1]
        .iter()
        .map(|e| serde_json::from_str(e).unwrap())
        .collect();
    assert_eq!(results.len(), 3, "{text}");
    assert_eq!(results.iter().filter(|r| r["success"] == true).count(), 1);

    // An all-passing channel test clears last_test_error_at.
    let good = gw
        .channel(json!({"type": 1, "name": "good", "key": "k", "base_url": up.base_url(), "models": ["ok-model"]}))
        .await;
    let a = gw
        .admin("GET", &format!("/api/channel/{good}/test"), None)
        .await;
    assert_eq!(a.json["success"], true, "{}", a.text);
    assert_eq!(a.json["data"], json!([]));
    gw.stop().await;
}

#[tokio::test]
async fn all_channels_test_covers_enabled_channels() {
    let gw = start().await;
    fake_channel(&gw, "fake", &["m-a", "m-b"], json!({"static_text": "hi"})).await;
    error_channel(&gw, "broken", &["m-c"], 503, "overloaded").await;
    let off = fake_channel(&gw, "off", &["m-d"], json!({})).await;
    gw.admin_ok(
        "POST",
        &format!("/api/channel/{off}/status"),
        Some(json!({"status": 2})),
    )
    .await;

    let a = gw
        .admin("GET", "/api/channels/test?return_success=true", None)
        .await;
    assert_eq!(a.json["success"], false, "{}", a.text);
    assert_eq!(a.json["message"], "1 of 3 tests failed");
    assert_eq!(models_of(&a.json["data"]), ["m-a", "m-b", "m-c"]);
    let failed = a.json["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["model"] == "m-c")
        .unwrap();
    assert_eq!(failed["code"], 503);
    assert!(failed["error"].as_str().unwrap().contains("overloaded"));

    let text = gw
        .http
        .get(format!("{}/api/channels/test?stream=true", gw.url))
        .bearer_auth(crate::support::gateway::ADMIN_KEY)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let events: Vec<&str> = text
        .split("\n\n")
        .filter_map(|e| e.strip_prefix("data: "))
        .collect();
    assert_eq!(events.len(), 2, "only the failure, then [DONE]: {text}");
    assert!(events[0].contains("m-c"));
    gw.stop().await;
}

#[tokio::test]
async fn test_preview_runs_an_unsaved_channel_without_storing() {
    let up = scripted_upstream().await;
    let gw = start().await;
    let a = gw
        .admin(
            "POST",
            "/api/channel/test-preview",
            Some(json!({"type": 1, "key": "sk-p",
            "base_url": up.base_url(), "models": ["ok-model", "down-model"], "model": "ok-model"})),
        )
        .await;
    assert_eq!(a.json["success"], true, "{}", a.text);
    assert_eq!(a.json["data"]["channel_id"], 0);
    assert_eq!(a.json["data"]["model"], "ok-model");

    let a = gw
        .admin(
            "POST",
            "/api/channel/test-preview-all",
            Some(json!({"type": 1, "key": "sk-p",
            "base_url": up.base_url(), "models": ["ok-model", "down-model"]})),
        )
        .await;
    assert_eq!(a.json["success"], false, "{}", a.text);
    assert_eq!(models_of(&a.json["data"]), ["down-model", "ok-model"]);

    let bad = gw
        .admin(
            "POST",
            "/api/channel/test-preview",
            Some(json!({"type": 999, "models": ["x"]})),
        )
        .await;
    assert_eq!(bad.status, 400, "{}", bad.text);
    let none = gw
        .admin(
            "POST",
            "/api/channel/test-preview",
            Some(json!({"type": 1})),
        )
        .await;
    assert_eq!(none.status, 400, "{}", none.text);
    assert_eq!(
        gw.admin_ok("GET", "/api/channels/all", None).await,
        json!([])
    );
    gw.stop().await;
}

/// Relay requests (not tests) that reached the flaky upstream.
fn relay_hits(up: &FakeUpstream) -> usize {
    up.received()
        .iter()
        .filter(|r| r.body["messages"][0]["content"] == "relay")
        .count()
}

#[tokio::test]
async fn banned_pair_is_unbanned_by_the_background_retest() {
    let hook = FakeUpstream::start(|_, _| Reply::Json(200, json!({"code": 0}))).await;
    let fixed = Arc::new(AtomicBool::new(false));
    let flag = fixed.clone();
    let up = FakeUpstream::start(move |_, _| {
        if flag.load(Ordering::SeqCst) {
            Reply::Json(200, chat_json("m", "back", Some((1, 1))))
        } else {
            Reply::Json(401, json!({"error": {"message": "key revoked"}}))
        }
    })
    .await;
    let hook_url = format!("http://{}/hook", hook.addr);
    let gw = Gateway::start(&[
        "--disable-model-config",
        "true",
        "--channel-retest-interval",
        "1",
        "--channel-ban-seconds",
        "600",
        "--notify-webhook",
        &hook_url,
    ])
    .await;
    let flaky = gw
        .channel(
            json!({"type": 1, "name": "flaky", "key": "k", "base_url": up.base_url(),
            "models": ["m"], "enabled_no_permission_ban": true}),
        )
        .await;
    fake_channel(&gw, "steady", &["m"], json!({"static_text": "ok"})).await;
    let key = gw.token("g", json!({"name": "t"})).await;
    let relay = json!({"model": "m", "messages": [{"role": "user", "content": "relay"}]});

    // Until the flaky channel has refused once (and got banned), every answer still succeeds.
    for _ in 0..50 {
        let a = gw.post("/v1/chat/completions", &key, &relay).await;
        assert_eq!(a.status, 200, "{}", a.text);
        if relay_hits(&up) > 0 {
            break;
        }
    }
    assert_eq!(relay_hits(&up), 1);
    for _ in 0..10 {
        gw.post("/v1/chat/completions", &key, &relay).await;
    }
    assert_eq!(relay_hits(&up), 1, "a banned pair must not be selected");

    // The upstream recovers; the background re-test passes and lifts the ban.
    fixed.store(true, Ordering::SeqCst);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let stored = gw
            .admin_ok("GET", &format!("/api/channel/{flaky}/tests"), None)
            .await;
        if stored
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["success"] == true)
        {
            break;
        }
        assert!(Instant::now() < deadline, "no passing re-test: {stored}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let mut reached = false;
    for _ in 0..60 {
        gw.post("/v1/chat/completions", &key, &relay).await;
        if relay_hits(&up) > 1 {
            reached = true;
            break;
        }
    }
    assert!(reached, "the unbanned pair never served again");

    // The recovery raised an info alert.
    let deadline = Instant::now() + Duration::from_secs(5);
    while !hook
        .received()
        .iter()
        .any(|r| r.body["title"] == "Banned Model Recovered" && r.body["level"] == "info")
    {
        assert!(
            Instant::now() < deadline,
            "no recovery alert: {:?}",
            hook.received()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    gw.stop().await;
}
