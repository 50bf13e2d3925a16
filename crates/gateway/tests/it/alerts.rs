//! Alerts reach a local receiver: the Feishu card (colour by level,
//! NOTIFY_NOTE appended), the generic JSON webhook, and the per-key
//! throttle (a second identical alert within the window is not sent).
//! With TEST_REDIS_URL set the throttle goes through Redis.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::support::upstream::Received;
use crate::support::{FakeUpstream, Gateway, Reply};

struct Setup {
    gw: Gateway,
    receiver: FakeUpstream,
    key: String,
}

async fn setup(extra: &[&str]) -> Setup {
    let receiver =
        FakeUpstream::start(|_, _| Reply::Json(200, json!({"code": 0, "msg": "success"}))).await;
    let feishu = format!("http://{}/feishu", receiver.addr);
    let hook = format!("http://{}/hook", receiver.addr);
    let mut args = vec![
        "--disable-model-config",
        "true",
        "--notify-feishu-webhook",
        &feishu,
        "--notify-webhook",
        &hook,
        "--notify-note",
        "on-call: ops team",
    ];
    let redis = std::env::var("TEST_REDIS_URL").ok();
    if let Some(url) = &redis {
        args.extend(["--redis", url.as_str()]);
    }
    args.extend_from_slice(extra);
    let gw = Gateway::start(&args).await;
    let key = gw.token("g", json!({"name": "t"})).await;
    Setup { gw, receiver, key }
}

fn cards(receiver: &FakeUpstream, title: &str) -> Vec<Received> {
    receiver
        .received()
        .into_iter()
        .filter(|r| r.path == "/feishu" && r.body["card"]["header"]["title"]["content"] == title)
        .collect()
}

fn hooks(receiver: &FakeUpstream, title: &str) -> Vec<Received> {
    receiver
        .received()
        .into_iter()
        .filter(|r| r.path == "/hook" && r.body["title"] == title)
        .collect()
}

async fn wait_for_card(receiver: &FakeUpstream, title: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(card) = cards(receiver, title).first() {
            return card.body.clone();
        }
        assert!(
            Instant::now() < deadline,
            "no `{title}` card; got {:?}",
            receiver.received()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn no_permission_and_auto_ban_alerts_are_red_cards_sent_once() {
    let up = FakeUpstream::start(|_, _| {
        Reply::Json(
            401,
            json!({"error": {"message": "Incorrect API key provided"}}),
        )
    })
    .await;
    let s = setup(&[]).await;
    let id =
        s.gw.channel(
            json!({"type": 1, "name": "revoked", "key": "k", "base_url": up.base_url(),
            "models": ["m"], "enabled_no_permission_ban": true}),
        )
        .await;
    let body = json!({"model": "m", "messages": [{"role": "user", "content": "hi"}]});
    let a = s.gw.post("/v1/chat/completions", &s.key, &body).await;
    assert_eq!(a.status, 502, "{}", a.text);

    let card = wait_for_card(&s.receiver, "Channel No Permission").await;
    assert_eq!(card["msg_type"], "interactive");
    assert_eq!(card["card"]["header"]["template"], "red");
    let content = card["card"]["elements"][0]["content"].as_str().unwrap();
    assert!(content.contains(&format!("#{id}")), "{content}");
    assert!(content.contains("401"), "{content}");
    assert!(
        content.ends_with("on-call: ops team"),
        "NOTIFY_NOTE appended: {content}"
    );

    let banned = wait_for_card(&s.receiver, "Channel Auto Banned").await;
    assert_eq!(banned["card"]["header"]["template"], "red");

    // The generic webhook got the same alert as flat JSON.
    let deadline = Instant::now() + Duration::from_secs(10);
    while hooks(&s.receiver, "Channel No Permission").is_empty() {
        assert!(Instant::now() < deadline, "no webhook alert");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let hook = hooks(&s.receiver, "Channel No Permission");
    assert_eq!(hook.len(), 1);
    let h = &hook[0].body;
    assert_eq!(h["level"], "error");
    assert_eq!(h["key"], format!("channel_no_permission:{id}:m:401"));
    assert_eq!(h["note"], "on-call: ops team");
    assert!(h["timestamp"].as_i64().unwrap() > 0);

    // The same failure again within the window: no second alert.
    let a = s.gw.post("/v1/chat/completions", &s.key, &body).await;
    assert_eq!(a.status, 502);
    assert_eq!(up.hits(), 2, "the banned pair is still the only candidate");
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        cards(&s.receiver, "Channel No Permission").len(),
        1,
        "throttled"
    );
    assert_eq!(
        hooks(&s.receiver, "Channel No Permission").len(),
        1,
        "throttled"
    );
    s.gw.stop().await;
}

#[tokio::test]
async fn error_rate_over_the_warning_threshold_is_an_orange_card() {
    let up =
        FakeUpstream::start(|_, _| Reply::Json(500, json!({"error": {"message": "boom"}}))).await;
    let s = setup(&[]).await;
    s.gw.channel(
        json!({"type": 1, "name": "flaky", "key": "k", "base_url": up.base_url(),
            "models": ["m"], "warn_error_rate": 0.3}),
    )
    .await;
    let body = json!({"model": "m", "messages": [{"role": "user", "content": "hi"}]});
    for _ in 0..9 {
        s.gw.post("/v1/chat/completions", &s.key, &body).await;
    }
    // Below the monitor's minimum sample nothing is raised.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(cards(&s.receiver, "Error Rate Beyond Threshold").is_empty());
    for _ in 0..3 {
        s.gw.post("/v1/chat/completions", &s.key, &body).await;
    }
    let card = wait_for_card(&s.receiver, "Error Rate Beyond Threshold").await;
    assert_eq!(card["card"]["header"]["template"], "orange");
    let content = card["card"]["elements"][0]["content"].as_str().unwrap();
    assert!(content.contains("100%"), "{content}");
    assert!(content.contains("30%"), "{content}");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        cards(&s.receiver, "Error Rate Beyond Threshold").len(),
        1,
        "throttled"
    );
    // max_error_rate is 0: the pair is never banned, so no ban alert.
    assert!(cards(&s.receiver, "Channel Auto Banned").is_empty());
    s.gw.stop().await;
}

#[tokio::test]
async fn notify_note_option_can_change_at_run_time() {
    let up =
        FakeUpstream::start(|_, _| Reply::Json(403, json!({"error": {"message": "forbidden"}})))
            .await;
    let receiver = FakeUpstream::start(|_, _| Reply::Json(200, json!({"code": 0}))).await;
    let hook = format!("http://{}/hook", receiver.addr);
    let gw = Gateway::start(&["--disable-model-config", "true", "--notify-webhook", &hook]).await;
    crate::support::admin::set_option(&gw, "NotifyNote", "ask @ops").await;
    let bad = gw
        .admin(
            "PUT",
            "/api/option/",
            Some(json!({"key": "DefaultWarnNotifyErrorRate", "value": "2"})),
        )
        .await;
    assert_eq!(bad.status, 400, "{}", bad.text);
    gw.channel(
        json!({"type": 1, "name": "c", "key": "k", "base_url": up.base_url(), "models": ["m"]}),
    )
    .await;
    let key = gw.token("g", json!({"name": "t"})).await;
    gw.post(
        "/v1/chat/completions",
        &key,
        &json!({"model": "m", "messages": [{"role": "user", "content": "x"}]}),
    )
    .await;
    let deadline = Instant::now() + Duration::from_secs(10);
    while hooks(&receiver, "Channel No Permission").is_empty() {
        assert!(Instant::now() < deadline, "no alert");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let alert = &hooks(&receiver, "Channel No Permission")[0].body;
    assert_eq!(alert["note"], "ask @ops");
    assert!(alert["message"].as_str().unwrap().contains("403"));
    gw.stop().await;
}
