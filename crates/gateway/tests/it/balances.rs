//! Channel balances read from fake provider endpoints (OpenAI, DeepSeek,
//! Moonshot, SiliconFlow, OpenRouter), stored on the channel, refreshed
//! periodically for channels that ask, and the low-balance alert.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::support::{FakeUpstream, Gateway, Reply};

/// One fake server answering every provider's balance endpoint.
async fn providers() -> FakeUpstream {
    FakeUpstream::start(|r, _| {
        let path = r.path.split('?').next().unwrap_or("");
        if r.headers.get("authorization").and_then(|v| v.to_str().ok()) == Some("Bearer revoked") {
            return Reply::Json(401, json!({"error": {"message": "invalid key"}}));
        }
        match path {
            "/v1/dashboard/billing/subscription" => Reply::Json(200, json!({"hard_limit_usd": 100})),
            "/v1/dashboard/billing/usage" => Reply::Json(200, json!({"total_usage": 1250})),
            "/user/balance" => Reply::Json(200, json!({"is_available": true, "balance_infos": [
                {"currency": "CNY", "total_balance": "110.00", "granted_balance": "10.00", "topped_up_balance": "100.00"}]})),
            "/v1/users/me/balance" => Reply::Json(200, json!({"code": 0, "data": {
                "available_balance": 49.58894, "voucher_balance": 46.58893, "cash_balance": 3.00001},
                "scode": "0x0", "status": true})),
            "/v1/user/info" => Reply::Json(200, json!({"code": 20000, "status": true, "data": {
                "balance": "0.88", "chargeBalance": "88.00", "totalBalance": "88.88"}})),
            "/v1/credits" => Reply::Json(200, json!({"data": {"total_credits": 100.5, "total_usage": 25.75}})),
            _ => Reply::Json(404, json!({"error": "unknown path"})),
        }
    })
    .await
}

async fn channel(gw: &Gateway, up: &FakeUpstream, channel_type: i64, extra: Value) -> i64 {
    let mut body = json!({"type": channel_type, "name": format!("c{channel_type}"), "key": "sk-bal",
        "base_url": up.base_url(), "models": ["m"]});
    body.as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    gw.channel(body).await
}

#[tokio::test]
async fn balances_are_read_from_each_provider_and_stored() {
    let up = providers().await;
    let gw = Gateway::start(&["--disable-model-config", "true"]).await;
    let cases = [
        (1, 87.5),
        (36, 110.0),
        (25, 49.58894),
        (43, 88.88),
        (20, 74.75),
    ];
    for (channel_type, expected) in cases {
        let id = channel(&gw, &up, channel_type, json!({})).await;
        let balance = gw
            .admin_ok("GET", &format!("/api/channel/{id}/update_balance"), None)
            .await
            .as_f64()
            .unwrap();
        assert!(
            (balance - expected).abs() < 1e-9,
            "type {channel_type}: {balance}"
        );
        let stored = gw
            .admin_ok("GET", &format!("/api/channel/{id}"), None)
            .await;
        assert!((stored["balance"].as_f64().unwrap() - expected).abs() < 1e-9);
        assert!(stored["balance_updated_at"].as_i64().unwrap() > 0);
    }
    assert!(
        up.received()
            .iter()
            .all(|r| r.headers["authorization"] == "Bearer sk-bal")
    );
    let usage = up
        .received()
        .into_iter()
        .find(|r| r.path.starts_with("/v1/dashboard/billing/usage"))
        .unwrap();
    assert!(
        usage.path.contains("start_date=") && usage.path.contains("end_date="),
        "{}",
        usage.path
    );

    // Every channel at once.
    let all = gw
        .admin_ok("GET", "/api/channels/update_balance", None)
        .await;
    assert_eq!(all.as_array().unwrap().len(), 5, "{all}");
    assert!(
        all.as_array()
            .unwrap()
            .iter()
            .all(|r| r["balance"].is_number())
    );
    gw.stop().await;
}

#[tokio::test]
async fn balance_errors_are_explicit() {
    let up = providers().await;
    let gw = Gateway::start(&["--disable-model-config", "true"]).await;
    let anthropic = channel(&gw, &up, 14, json!({})).await;
    let a = gw
        .admin(
            "GET",
            &format!("/api/channel/{anthropic}/update_balance"),
            None,
        )
        .await;
    assert_eq!(a.status, 400, "{}", a.text);
    assert!(
        a.json["message"]
            .as_str()
            .unwrap()
            .contains("no balance API")
    );

    let revoked = channel(&gw, &up, 36, json!({"key": "revoked"})).await;
    let a = gw
        .admin(
            "GET",
            &format!("/api/channel/{revoked}/update_balance"),
            None,
        )
        .await;
    assert_eq!(a.status, 502, "{}", a.text);
    assert_eq!(a.json["success"], false);
    assert!(
        a.json["message"].as_str().unwrap().contains("401"),
        "{}",
        a.text
    );
    assert_eq!(
        gw.admin("GET", "/api/channel/424242/update_balance", None)
            .await
            .status,
        404
    );
    gw.stop().await;
}

#[tokio::test]
async fn periodic_check_stores_balances_and_alerts_below_threshold() {
    let up = providers().await;
    let receiver = FakeUpstream::start(|_, _| Reply::Json(200, json!({"code": 0}))).await;
    let hook = format!("http://{}/hook", receiver.addr);
    let gw = Gateway::start(&[
        "--disable-model-config",
        "true",
        "--channel-balance-interval",
        "1",
        "--notify-webhook",
        &hook,
    ])
    .await;
    let low = channel(
        &gw,
        &up,
        25,
        json!({"enabled_auto_balance_check": true, "balance_threshold": 100}),
    )
    .await;
    let manual = channel(&gw, &up, 43, json!({"balance_threshold": 100})).await;

    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let c = gw
            .admin_ok("GET", &format!("/api/channel/{low}"), None)
            .await;
        if c["balance_updated_at"].as_i64().unwrap() > 0 {
            assert!((c["balance"].as_f64().unwrap() - 49.58894).abs() < 1e-9);
            break;
        }
        assert!(Instant::now() < deadline, "the periodic check never ran");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    let alert = loop {
        if let Some(r) = receiver
            .received()
            .into_iter()
            .find(|r| r.body["title"] == "Channel Balance Low")
        {
            break r.body;
        }
        assert!(Instant::now() < deadline, "no low-balance alert");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(alert["level"], "error");
    assert_eq!(alert["key"], format!("channel_balance_low:{low}"));
    assert!(
        alert["message"].as_str().unwrap().contains("49.5889"),
        "{alert}"
    );
    // Channels without enabled_auto_balance_check are not polled.
    let c = gw
        .admin_ok("GET", &format!("/api/channel/{manual}"), None)
        .await;
    assert_eq!(c["balance_updated_at"], 0);
    gw.stop().await;
}
