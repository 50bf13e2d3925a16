//! The accounting watch: an IP used by too many groups gets its groups
//! disabled and itself blocked (alerted, listed and lifted through the
//! admin API); a group whose remaining budget falls under its alert
//! threshold raises an alert.

use std::time::{Duration, Instant};

use serde_json::json;

use crate::support::upstream::{Received, chat_json};
use crate::support::{FakeUpstream, Gateway, Reply};

/// A gateway that runs its watch every second and sends alerts to a local
/// webhook receiver, with model `m` (1 per 1000 output tokens) on one
/// channel whose answers use 10 + 300 tokens, i.e. cost 0.3.
struct Watched {
    gw: Gateway,
    receiver: FakeUpstream,
    _upstream: FakeUpstream,
}

async fn watched(extra: &[&str]) -> Watched {
    let upstream =
        FakeUpstream::start(|_, _| Reply::Json(200, chat_json("m", "ok", Some((10, 300))))).await;
    let receiver = FakeUpstream::start(|_, _| Reply::Json(200, json!({}))).await;
    let hook = format!("http://{}/hook", receiver.addr);
    let mut args = vec!["--abuse-check-interval", "1", "--notify-webhook", &hook];
    args.extend_from_slice(extra);
    let gw = Gateway::start(&args).await;
    gw.admin_ok(
        "POST",
        "/api/model_config/m",
        Some(json!({"owner": "t", "type": 0, "price": {"output_price": 1}})),
    )
    .await;
    gw.channel(json!({"type": 1, "name": "up", "key": "k", "base_url": upstream.base_url(), "models": ["m"]}))
        .await;
    Watched {
        gw,
        receiver,
        _upstream: upstream,
    }
}

/// The alerts titled `title` the webhook receiver got so far.
fn alerts(receiver: &FakeUpstream, title: &str) -> Vec<Received> {
    receiver
        .received()
        .into_iter()
        .filter(|r| r.body["title"] == title)
        .collect()
}

/// Wait (up to 10 s) for the first alert titled `title`.
async fn first_alert(receiver: &FakeUpstream, title: &str) -> Received {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(alert) = alerts(receiver, title).into_iter().next() {
            return alert;
        }
        assert!(Instant::now() < deadline, "no `{title}` alert");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn an_ip_shared_by_too_many_groups_is_blocked_and_can_be_lifted() {
    let Watched {
        gw,
        receiver,
        _upstream,
    } = watched(&["--ip-groups-ban-threshold", "2"]).await;
    let body = json!({"model": "m", "messages": [{"role": "user", "content": "hi"}]});
    let alpha = gw.token("alpha", json!({"name": "a"})).await;
    assert_eq!(
        gw.post("/v1/chat/completions", &alpha, &body).await.status,
        200
    );
    // One group per IP is normal: nothing happens.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(
        gw.post("/v1/chat/completions", &alpha, &body).await.status,
        200
    );

    let beta = gw.token("beta", json!({"name": "b"})).await;
    assert_eq!(
        gw.post("/v1/chat/completions", &beta, &body).await.status,
        200
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let a = gw.post("/v1/chat/completions", &alpha, &body).await;
        if a.status == 403 {
            assert_eq!(a.json["error"]["message"], "please try again later");
            break;
        }
        assert!(Instant::now() < deadline, "never blocked: {}", a.text);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let blocks = gw.admin_ok("GET", "/api/ip_blocks", None).await;
    assert_eq!(blocks[0]["ip"], "127.0.0.1", "{blocks}");
    assert_eq!(blocks[0]["group_ids"], json!(["alpha", "beta"]));
    let until = blocks[0]["until_ms"].as_i64().unwrap() - blocks[0]["created_at"].as_i64().unwrap();
    assert_eq!(until, 48 * 3600 * 1000);
    let blocked = alerts(&receiver, "IP blocked: used by too many groups");
    assert_eq!(blocked.len(), 1, "one alert for the block");
    assert_eq!(blocked[0].body["level"], "error");
    assert!(
        blocked[0].body["message"]
            .as_str()
            .unwrap()
            .contains("alpha, beta")
    );
    for group in ["alpha", "beta"] {
        let g = gw
            .admin_ok("GET", &format!("/api/group/{group}"), None)
            .await;
        assert_eq!(g["status"], 2, "{g}");
    }

    gw.admin_ok("DELETE", "/api/ip_blocks/127.0.0.1", None)
        .await;
    let a = gw.post("/v1/chat/completions", &alpha, &body).await;
    assert_eq!(a.status, 403);
    assert_eq!(
        a.json["error"]["message"], "group is disabled",
        "the groups stay disabled"
    );
    let a = gw.admin("DELETE", "/api/ip_blocks/127.0.0.1", None).await;
    assert_eq!(a.status, 404);
    gw.stop().await;
}

#[tokio::test]
async fn a_group_under_its_budget_alert_threshold_is_alerted_once() {
    let Watched {
        gw,
        receiver,
        _upstream,
    } = watched(&["--sync-frequency", "1"]).await;
    let key = gw.token("team", json!({"name": "ci"})).await;
    gw.admin_ok(
        "PUT",
        "/api/group/team",
        Some(json!({"budget": 1.0, "balance_alert_enabled": true, "balance_alert_threshold": 0.8})),
    )
    .await;
    let body = json!({"model": "m", "messages": [{"role": "user", "content": "hi"}]});
    assert_eq!(
        gw.post("/v1/chat/completions", &key, &body).await.status,
        200
    );
    let title = "Group budget running low";
    let alert = first_alert(&receiver, title).await;
    assert_eq!(alert.body["level"], "warn");
    assert!(
        alert.body["message"].as_str().unwrap().contains("0.7000"),
        "{}",
        alert.body
    );
    // Throttled: further passes (one a second) send nothing new.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(alerts(&receiver, title).len(), 1);
    gw.stop().await;
}

#[tokio::test]
async fn a_usage_spike_is_alerted_once_and_whitelisted_groups_never() {
    let Watched {
        gw,
        receiver,
        _upstream,
    } = watched(&[
        "--usage-alert-threshold",
        "0.5",
        "--usage-alert-whitelist",
        "trusted, other",
    ])
    .await;
    let body = json!({"model": "m", "messages": [{"role": "user", "content": "hi"}]});
    for group in ["spender", "trusted"] {
        let key = gw.token(group, json!({"name": "ci"})).await;
        // 0.3 is under the threshold; 0.6 crosses it (with no history: any spend is a spike).
        for _ in 0..2 {
            assert_eq!(
                gw.post("/v1/chat/completions", &key, &body).await.status,
                200
            );
        }
    }
    let alert = first_alert(&receiver, "Usage spike").await;
    assert!(
        alert.body["message"]
            .as_str()
            .unwrap()
            .contains("Group spender spent 0.6000"),
        "{}",
        alert.body
    );
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(
        alerts(&receiver, "Usage spike").len(),
        1,
        "once per group per day; the whitelisted group never"
    );
    gw.stop().await;
}

#[tokio::test]
async fn an_ip_over_the_warning_threshold_is_alerted_but_not_blocked() {
    let Watched {
        gw,
        receiver,
        _upstream,
    } = watched(&[
        "--ip-groups-threshold",
        "2",
        "--ip-groups-ban-threshold",
        "3",
    ])
    .await;
    let body = json!({"model": "m", "messages": [{"role": "user", "content": "hi"}]});
    let mut keys = Vec::new();
    for group in ["one", "two"] {
        let key = gw.token(group, json!({"name": "t"})).await;
        assert_eq!(
            gw.post("/v1/chat/completions", &key, &body).await.status,
            200
        );
        keys.push(key);
    }
    let title = "IP used by many groups";
    first_alert(&receiver, title).await;
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(alerts(&receiver, title).len(), 1, "throttled for 3 hours");
    for key in &keys {
        assert_eq!(
            gw.post("/v1/chat/completions", key, &body).await.status,
            200,
            "not blocked"
        );
    }
    assert_eq!(gw.admin_ok("GET", "/api/ip_blocks", None).await, json!([]));
    gw.stop().await;
}
