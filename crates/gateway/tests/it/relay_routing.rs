//! Channel choice, retries, exclusions, pinning, error-rate weighting, bans,
//! and requests and streams that fail or are abandoned.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use serde_json::{Value, json};

use crate::support::gateway::ADMIN_KEY;
use crate::support::upstream::{chat_json, chat_sse};
use crate::support::{FakeUpstream, Gateway, Reply};

fn chat(stream: bool) -> Value {
    json!({"model": "gpt-4o", "stream": stream, "messages": [{"role": "user", "content": "hi"}]})
}

fn ok() -> Reply {
    Reply::Json(200, chat_json("gpt-4o", "ok", Some((1, 1))))
}

/// Two channels: `first` with a huge priority (tried first), `second` normal.
async fn two_channels(
    gw: &Gateway,
    first: &FakeUpstream,
    second: &FakeUpstream,
    extra_first: Value,
) -> (i64, i64) {
    gw.model("gpt-4o").await;
    let mut a = json!({"type": 1, "name": "first", "base_url": first.base_url(), "models": ["gpt-4o"], "priority": 1_000_000});
    if let (Some(a), Some(e)) = (a.as_object_mut(), extra_first.as_object()) {
        a.extend(e.clone());
    }
    let a = gw.channel(a).await;
    let b = gw.channel(json!({"type": 1, "name": "second", "base_url": second.base_url(), "models": ["gpt-4o"], "priority": 1})).await;
    (a, b)
}

#[tokio::test]
async fn retries_on_another_channel_after_a_500() {
    let bad =
        FakeUpstream::start(|_, _| Reply::Json(500, json!({"error": {"message": "boom"}}))).await;
    let good = FakeUpstream::start(|_, _| ok()).await;
    let gw = Gateway::start(&["--retry-times", "1"]).await;
    let (a, b) = two_channels(&gw, &bad, &good, json!({})).await;
    let key = gw.token("team", json!({"name": "ci"})).await;
    let answer = gw.post("/v1/chat/completions", &key, &chat(false)).await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert_eq!((bad.hits(), good.hits()), (1, 1));
    let row = gw.log_row(&answer.request_id()).await;
    assert_eq!(row["retry_times"], 1);
    assert_eq!(row["channel"], b);
    assert!(row["retry_at"].as_i64().unwrap() >= row["request_at"].as_i64().unwrap());
    let retries = gw
        .admin_ok(
            "GET",
            &format!("/api/logs/retry_logs?request_id={}", answer.request_id()),
            None,
        )
        .await;
    let retries = retries.as_array().unwrap();
    assert_eq!(retries.len(), 1, "the failed attempt is logged");
    assert_eq!(retries[0]["channel"], a);
    assert_eq!(retries[0]["code"], 500);
    assert!(
        retries[0]["response_body"]
            .as_str()
            .unwrap()
            .contains("boom")
    );
    gw.stop().await;
}

#[tokio::test]
async fn no_retry_budget_means_the_error_is_returned() {
    let bad =
        FakeUpstream::start(|_, _| Reply::Json(500, json!({"error": {"message": "boom"}}))).await;
    let good = FakeUpstream::start(|_, _| ok()).await;
    let gw = Gateway::start(&[]).await;
    two_channels(&gw, &bad, &good, json!({})).await;
    let key = gw.token("team", json!({"name": "ci"})).await;
    let a = gw.post("/v1/chat/completions", &key, &chat(false)).await;
    assert_eq!(a.status, 502, "RETRY_TIMES defaults to 0: {}", a.text);
    assert_eq!(good.hits(), 0);
    gw.stop().await;
}

#[tokio::test]
async fn client_errors_are_never_retried() {
    let bad = FakeUpstream::start(|_, _| {
        Reply::Json(400, json!({"error": {"message": "bad request from you"}}))
    })
    .await;
    let good = FakeUpstream::start(|_, _| ok()).await;
    let gw = Gateway::start(&["--retry-times", "3"]).await;
    two_channels(&gw, &bad, &good, json!({})).await;
    let key = gw.token("team", json!({"name": "ci"})).await;
    let a = gw.post("/v1/chat/completions", &key, &chat(false)).await;
    assert_eq!(a.status, 400);
    assert_eq!((bad.hits(), good.hits()), (1, 0));
    let row = gw.log_row(&a.request_id()).await;
    assert_eq!(row["code"], 400);
    assert_eq!(row["retry_times"], 0);
    gw.stop().await;
}

#[tokio::test]
async fn upstream_401_excludes_the_channel_without_using_a_retry() {
    let bad =
        FakeUpstream::start(|_, _| Reply::Json(401, json!({"error": {"message": "bad key"}})))
            .await;
    let good = FakeUpstream::start(|_, _| ok()).await;
    let gw = Gateway::start(&[]).await;
    two_channels(&gw, &bad, &good, json!({})).await;
    let key = gw.token("team", json!({"name": "ci"})).await;
    let a = gw.post("/v1/chat/completions", &key, &chat(false)).await;
    assert_eq!(
        a.status, 200,
        "even with RETRY_TIMES=0 the refusing channel is skipped: {}",
        a.text
    );
    assert_eq!((bad.hits(), good.hits()), (1, 1));
    gw.stop().await;
}

#[tokio::test]
async fn internal_key_pins_a_channel_even_when_disabled() {
    let first = FakeUpstream::start(|_, _| ok()).await;
    let second = FakeUpstream::start(|_, _| ok()).await;
    let gw = Gateway::start(&[]).await;
    let (_, b) = two_channels(&gw, &first, &second, json!({})).await;
    gw.admin_ok(
        "POST",
        &format!("/api/channel/{b}/status"),
        Some(json!({"status": 2})),
    )
    .await;
    for _ in 0..3 {
        let r = gw
            .http
            .post(format!("{}/v1/chat/completions", gw.url))
            .bearer_auth(ADMIN_KEY)
            .header("Aiproxy-Channel", b.to_string())
            .body(chat(false).to_string())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
    }
    assert_eq!((first.hits(), second.hits()), (0, 3));
    let a = gw
        .post("/v1/chat/completions", ADMIN_KEY, &chat(false))
        .await;
    assert_eq!(
        a.status, 200,
        "without a pin the disabled channel is not used"
    );
    assert_eq!(second.hits(), 3);
    gw.stop().await;
}

#[tokio::test]
async fn traffic_shifts_away_from_a_failing_channel() {
    let bad =
        FakeUpstream::start(|_, _| Reply::Json(500, json!({"error": {"message": "down"}}))).await;
    let good = FakeUpstream::start(|_, _| ok()).await;
    let gw = Gateway::start(&["--retry-times", "1"]).await;
    gw.model("gpt-4o").await;
    for (name, up) in [("a", &bad), ("b", &good)] {
        gw.channel(
            json!({"type": 1, "name": name, "base_url": up.base_url(), "models": ["gpt-4o"]}),
        )
        .await;
    }
    let key = gw.token("team", json!({"name": "ci"})).await;
    for _ in 0..40 {
        assert_eq!(
            gw.post("/v1/chat/completions", &key, &chat(false))
                .await
                .status,
            200
        );
    }
    let bad_before = bad.hits();
    assert!(bad_before >= 10, "equal weights at first: {bad_before}");
    for _ in 0..20 {
        assert_eq!(
            gw.post("/v1/chat/completions", &key, &chat(false))
                .await
                .status,
            200
        );
    }
    assert_eq!(
        bad.hits(),
        bad_before,
        "a channel over 85 % errors is skipped while a healthy one exists"
    );
    gw.stop().await;
}

#[tokio::test]
async fn no_permission_ban_expires() {
    let refused = Arc::new(AtomicBool::new(false));
    let flag = refused.clone();
    let first = FakeUpstream::start(move |_, _| {
        if flag.swap(true, Ordering::SeqCst) {
            ok()
        } else {
            Reply::Json(403, json!({"error": {"message": "nope"}}))
        }
    })
    .await;
    let second = FakeUpstream::start(|_, _| ok()).await;
    let gw = Gateway::start(&["--channel-ban-seconds", "1"]).await;
    two_channels(
        &gw,
        &first,
        &second,
        json!({"enabled_no_permission_ban": true}),
    )
    .await;
    let key = gw.token("team", json!({"name": "ci"})).await;
    for _ in 0..5 {
        assert_eq!(
            gw.post("/v1/chat/completions", &key, &chat(false))
                .await
                .status,
            200
        );
    }
    assert_eq!(first.hits(), 1, "banned after the 403");
    tokio::time::sleep(Duration::from_millis(1300)).await;
    for _ in 0..3 {
        assert_eq!(
            gw.post("/v1/chat/completions", &key, &chat(false))
                .await
                .status,
            200
        );
    }
    assert!(
        first.hits() >= 3,
        "the ban expired and the preferred channel is used again: {}",
        first.hits()
    );
    gw.stop().await;
}

#[tokio::test]
async fn single_channel_429_is_retried_after_back_off() {
    let up = FakeUpstream::start(|_, n| {
        if n == 0 {
            Reply::Json(429, json!({"error": {"message": "busy"}}))
        } else {
            ok()
        }
    })
    .await;
    let gw = Gateway::start(&["--retry-times", "2"]).await;
    gw.model("gpt-4o").await;
    gw.channel(json!({"type": 1, "name": "only", "base_url": up.base_url(), "models": ["gpt-4o"]}))
        .await;
    let key = gw.token("team", json!({"name": "ci"})).await;
    let started = std::time::Instant::now();
    let a = gw.post("/v1/chat/completions", &key, &chat(false)).await;
    assert_eq!(a.status, 200);
    assert_eq!(up.hits(), 2);
    assert!(
        started.elapsed() >= Duration::from_millis(900),
        "waited before reusing the channel: {:?}",
        started.elapsed()
    );
    gw.stop().await;
}

#[tokio::test]
async fn stream_failing_before_output_is_retried_elsewhere() {
    let bad = FakeUpstream::start(|_, _| {
        Reply::Sse(vec![(
            Duration::ZERO,
            "data: {\"error\":{\"message\":\"overloaded\"}}\n\n".into(),
        )])
    })
    .await;
    let good = FakeUpstream::start(|_, _| {
        Reply::Sse(chat_sse("gpt-4o", &["fine"], Some((1, 1)), Duration::ZERO))
    })
    .await;
    let gw = Gateway::start(&["--retry-times", "1"]).await;
    two_channels(&gw, &bad, &good, json!({})).await;
    let key = gw.token("team", json!({"name": "ci"})).await;
    let a = gw.post("/v1/chat/completions", &key, &chat(true)).await;
    assert_eq!(a.status, 200);
    assert!(
        a.text.contains("fine") && !a.text.contains("overloaded"),
        "{}",
        a.text
    );
    assert_eq!((bad.hits(), good.hits()), (1, 1));
    gw.stop().await;
}

#[tokio::test]
async fn client_disconnect_mid_stream_still_logs_usage() {
    let pieces: Vec<String> = (0..30).map(|i| format!("word{i} ")).collect();
    let up = FakeUpstream::start(move |_, _| {
        let refs: Vec<&str> = pieces.iter().map(String::as_str).collect();
        Reply::Sse(chat_sse(
            "gpt-4o",
            &refs,
            Some((5, 30)),
            Duration::from_millis(50),
        ))
    })
    .await;
    let (gw, key) = Gateway::with_one_channel(&up, json!({})).await;
    let mut response = gw
        .http
        .post(format!("{}/v1/chat/completions", gw.url))
        .bearer_auth(&key)
        .body(chat(true).to_string())
        .send()
        .await
        .unwrap();
    let request_id = response.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_owned();
    let mut received = 0;
    while received < 4 {
        response.chunk().await.unwrap().unwrap();
        received += 1;
    }
    drop(response);
    let row = gw.log_row(&request_id).await;
    assert_eq!(row["code"], 499);
    assert_eq!(row["usage_estimated"], true);
    let out = row["usage"]["output_tokens"].as_i64().unwrap();
    assert!(
        (2..30).contains(&out),
        "output counted up to the disconnect: {out}"
    );
    assert!(row["usage"]["input_tokens"].as_i64().unwrap() > 0);
    gw.stop().await;
}

#[tokio::test]
async fn client_leaving_before_the_answer_still_logs_the_upstream_call() {
    let up = FakeUpstream::start(|_, _| {
        Reply::Delay(
            Duration::from_millis(400),
            Box::new(Reply::Json(200, chat_json("gpt-4o", "late", Some((7, 3))))),
        )
    })
    .await;
    let (gw, key) = Gateway::with_one_channel(&up, json!({})).await;
    let gone = gw
        .http
        .post(format!("{}/v1/chat/completions", gw.url))
        .bearer_auth(&key)
        .header("x-request-id", "left-before-the-answer")
        .timeout(Duration::from_millis(100))
        .body(chat(false).to_string())
        .send()
        .await;
    assert!(gone.is_err(), "the client gave up first: {gone:?}");
    // The relay goes on without the client: the upstream's answer and its
    // usage are recorded once it arrives.
    let row = gw.log_row("left-before-the-answer").await;
    assert_eq!(row["code"], 200);
    assert_eq!(row["usage"]["input_tokens"], 7);
    assert_eq!(row["usage"]["output_tokens"], 3);
    assert_eq!(up.hits(), 1);
    gw.stop().await;
}

#[tokio::test]
async fn upstream_dying_mid_stream_ends_with_an_error_event() {
    let up = FakeUpstream::start(|_, _| {
        let mut frames = chat_sse("gpt-4o", &["partial"], None, Duration::ZERO);
        frames.truncate(2);
        frames.push((
            Duration::ZERO,
            "data: {\"error\":{\"message\":\"model crashed\"}}\n\n".into(),
        ));
        Reply::Sse(frames)
    })
    .await;
    let gw = Gateway::start(&[]).await;
    gw.model("gpt-4o").await;
    gw.channel(
        json!({"type": 1, "name": "crash", "base_url": up.base_url(), "models": ["gpt-4o"]}),
    )
    .await;
    let key = gw.token("team", json!({"name": "ci"})).await;
    let a = gw.post("/v1/chat/completions", &key, &chat(true)).await;
    assert_eq!(a.status, 200, "headers were already sent");
    assert!(a.text.contains("partial") && a.text.contains("model crashed"));
    let row = gw.log_row(&a.request_id()).await;
    assert_eq!(row["code"], 502);
    assert!(row["content"].as_str().unwrap().contains("model crashed"));
    gw.stop().await;
}

#[tokio::test]
async fn idle_upstream_stream_times_out() {
    let up = FakeUpstream::start(|_, _| {
        let mut frames = chat_sse("gpt-4o", &["a", "b"], Some((1, 2)), Duration::ZERO);
        frames[2].0 = Duration::from_secs(5);
        Reply::Sse(frames)
    })
    .await;
    let gw = Gateway::start(&["--stream-idle-timeout", "1"]).await;
    gw.model("gpt-4o").await;
    gw.channel(json!({"type": 1, "name": "idle", "base_url": up.base_url(), "models": ["gpt-4o"]}))
        .await;
    let key = gw.token("team", json!({"name": "ci"})).await;
    let started = std::time::Instant::now();
    let a = gw.post("/v1/chat/completions", &key, &chat(true)).await;
    assert!(started.elapsed() < Duration::from_secs(4));
    assert!(a.text.contains("idle"), "{}", a.text);
    let row = gw.log_row(&a.request_id()).await;
    assert_eq!(row["code"], 504);
    gw.stop().await;
}

/// The idle timer is re-armed lazily (it fires at its first deadline and
/// moves on): a stream that keeps sending, for longer than the idle timeout
/// in total, must never be cut.
#[tokio::test]
async fn steady_stream_outlives_the_idle_timeout() {
    let up = FakeUpstream::start(|_, _| {
        Reply::Sse(chat_sse(
            "gpt-4o",
            &["a", "b", "c", "d", "e"],
            Some((1, 5)),
            Duration::from_millis(400),
        ))
    })
    .await;
    let gw = Gateway::start(&["--stream-idle-timeout", "1"]).await;
    gw.model("gpt-4o").await;
    gw.channel(
        json!({"type": 1, "name": "steady", "base_url": up.base_url(), "models": ["gpt-4o"]}),
    )
    .await;
    let key = gw.token("team", json!({"name": "ci"})).await;
    let started = std::time::Instant::now();
    let a = gw.post("/v1/chat/completions", &key, &chat(true)).await;
    assert!(
        started.elapsed() >= Duration::from_secs(2),
        "paced upstream"
    );
    assert!(!a.text.contains("idle"), "{}", a.text);
    for piece in ["\"a\"", "\"e\"", "[DONE]"] {
        assert!(a.text.contains(piece), "{piece} missing: {}", a.text);
    }
    let row = gw.log_row(&a.request_id()).await;
    assert_eq!(row["code"], 200);
    gw.stop().await;
}

#[tokio::test]
async fn pinning_reaches_a_disabled_channel_that_alone_serves_the_model() {
    let up = FakeUpstream::start(|_, _| ok()).await;
    let gw = Gateway::start(&[]).await;
    gw.model("gpt-4o").await;
    let id = gw
        .channel(json!({"type": 1, "name": "off", "base_url": up.base_url(), "models": ["gpt-4o"], "status": 2}))
        .await;
    let a = gw
        .post("/v1/chat/completions", ADMIN_KEY, &chat(false))
        .await;
    assert_eq!(a.status, 404, "not routable without the pin: {}", a.text);
    let r = gw
        .http
        .post(format!("{}/v1/chat/completions", gw.url))
        .bearer_auth(ADMIN_KEY)
        .header("Aiproxy-Channel", id.to_string())
        .body(json!({"model": "GPT-4O", "messages": []}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        200,
        "the pin finds the model on the disabled channel, case-insensitively"
    );
    assert_eq!(up.received()[0].body["model"], "gpt-4o");
    gw.stop().await;
}

/// Frames of a stream that starts (role chunk) and then fails before any content.
fn role_then(failure: &str) -> Vec<(Duration, String)> {
    let mut frames = chat_sse("gpt-4o", &[], None, Duration::ZERO);
    frames.truncate(1);
    frames.push((Duration::from_millis(20), failure.to_owned()));
    frames
}

#[tokio::test]
async fn stream_failing_after_its_role_chunk_continues_on_another_channel() {
    let bad = FakeUpstream::start(|_, _| {
        Reply::Sse(role_then(
            "data: {\"error\":{\"message\":\"overloaded\"}}\n\n",
        ))
    })
    .await;
    let good = FakeUpstream::start(|_, _| {
        Reply::Sse(chat_sse("gpt-4o", &["fine"], Some((3, 1)), Duration::ZERO))
    })
    .await;
    let gw = Gateway::start(&["--retry-times", "1"]).await;
    let (a, b) = two_channels(&gw, &bad, &good, json!({})).await;
    let key = gw.token("team", json!({"name": "ci"})).await;
    let answer = gw.post("/v1/chat/completions", &key, &chat(true)).await;
    assert_eq!(answer.status, 200);
    let text = &answer.text;
    assert_eq!(
        text.matches("\"role\":\"assistant\"").count(),
        1,
        "one role chunk: {text}"
    );
    assert!(
        text.contains("\"content\":\"fine\"") && !text.contains("overloaded"),
        "{text}"
    );
    assert!(text.trim_end().ends_with("data: [DONE]"));
    assert_eq!((bad.hits(), good.hits()), (1, 1));
    let row = gw.log_row(&answer.request_id()).await;
    assert_eq!(row["code"], 200);
    assert_eq!(row["channel"], b);
    assert_eq!(row["retry_times"], 1);
    assert_eq!(row["usage"]["total_tokens"], 4);
    let retries = gw
        .admin_ok(
            "GET",
            &format!("/api/logs/retry_logs?request_id={}", answer.request_id()),
            None,
        )
        .await;
    assert_eq!(retries[0]["channel"], a);
    gw.stop().await;
}

#[tokio::test]
async fn stream_failing_before_content_without_budget_ends_with_an_error_event() {
    let bad = FakeUpstream::start(|_, _| {
        Reply::Sse(role_then(
            "data: {\"error\":{\"message\":\"overloaded\"}}\n\n",
        ))
    })
    .await;
    let good = FakeUpstream::start(|_, _| ok()).await;
    let gw = Gateway::start(&[]).await;
    two_channels(&gw, &bad, &good, json!({})).await;
    let key = gw.token("team", json!({"name": "ci"})).await;
    let answer = gw.post("/v1/chat/completions", &key, &chat(true)).await;
    assert_eq!(answer.status, 200);
    assert!(
        answer.text.contains("\"role\":\"assistant\"") && answer.text.contains("overloaded"),
        "{}",
        answer.text
    );
    assert_eq!(good.hits(), 0);
    let row = gw.log_row(&answer.request_id()).await;
    assert_eq!(row["code"], 502);
    gw.stop().await;
}

#[tokio::test]
async fn stream_cut_before_content_continues_on_another_channel() {
    let bad = FakeUpstream::start(|_, _| {
        let mut frames = chat_sse("gpt-4o", &[], None, Duration::ZERO);
        frames.truncate(1);
        Reply::Sse(frames)
    })
    .await;
    let good = FakeUpstream::start(|_, _| {
        Reply::Sse(chat_sse(
            "gpt-4o",
            &["rescued"],
            Some((1, 1)),
            Duration::ZERO,
        ))
    })
    .await;
    let gw = Gateway::start(&["--retry-times", "2"]).await;
    two_channels(&gw, &bad, &good, json!({})).await;
    let key = gw.token("team", json!({"name": "ci"})).await;
    let answer = gw.post("/v1/chat/completions", &key, &chat(true)).await;
    assert!(answer.text.contains("rescued"), "{}", answer.text);
    assert_eq!(answer.text.matches("\"role\"").count(), 1);
    let row = gw.log_row(&answer.request_id()).await;
    assert_eq!(row["code"], 200);
    gw.stop().await;
}
