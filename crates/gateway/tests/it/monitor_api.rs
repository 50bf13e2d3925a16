//! The monitor API: error rates per channel and model, bans, live
//! RPM/TPM per channel, model, group and token, and the DELETEs that clear
//! error statistics — all after real failing and succeeding requests.

use serde_json::{Value, json};

use crate::support::Gateway;
use crate::support::admin::{admin, assert_error, chat, fake_channel, search_until};

/// `ok-model` on a fake channel (7 + 5 tokens), `bad-model` on a channel
/// failing with 500 that bans itself at a 50 % error rate.
async fn setup(gw: &Gateway) -> (i64, i64, String) {
    gw.model("ok-model").await;
    gw.model("bad-model").await;
    let ok = fake_channel(
        gw,
        "ok",
        &["ok-model"],
        json!({"usage": {"input_tokens": 7, "output_tokens": 5}}),
    )
    .await;
    let bad = gw
        .channel(
            json!({"type": 55, "name": "bad", "models": ["bad-model"], "max_error_rate": 0.5,
            "configs": {"error_status_code": 500, "error_message": "down"}}),
        )
        .await;
    let key = gw.token("team", json!({"name": "ci"})).await;
    (ok, bad, key)
}

async fn traffic(gw: &Gateway, key: &str) {
    for _ in 0..3 {
        let a = gw
            .post("/v1/chat/completions", key, &chat("ok-model"))
            .await;
        assert_eq!(a.status, 200, "{}", a.text);
    }
    for _ in 0..10 {
        let a = gw
            .post("/v1/chat/completions", key, &chat("bad-model"))
            .await;
        assert!(a.status.is_server_error(), "{} {}", a.status, a.text);
    }
    search_until(gw, "per_page=1", |d| d["total"] == 13).await;
}

#[tokio::test]
async fn error_rates_bans_and_clearing() {
    let gw = Gateway::start(&[]).await;
    let (ok, bad, key) = setup(&gw).await;
    traffic(&gw, &key).await;

    let all = gw.admin_ok("GET", "/api/monitor/", None).await;
    assert_eq!(all[bad.to_string()]["bad-model"], 1.0, "{all}");
    assert_eq!(
        all[ok.to_string()]["ok-model"],
        0.0,
        "below the minimum sample: {all}"
    );
    let one = gw
        .admin_ok("GET", &format!("/api/monitor/{bad}"), None)
        .await;
    assert_eq!(one, json!({"bad-model": 1.0}));
    let models = gw.admin_ok("GET", "/api/monitor/models", None).await;
    assert_eq!(models["bad-model"], 1.0);
    let banned = gw
        .admin_ok("GET", "/api/monitor/banned_channels", None)
        .await;
    assert_eq!(banned, json!({"bad-model": [bad]}));

    // Clearing one pair forgets its rate and its ban.
    gw.admin_ok("DELETE", &format!("/api/monitor/{bad}/bad-model"), None)
        .await;
    assert_eq!(
        gw.admin_ok("GET", "/api/monitor/banned_channels", None)
            .await,
        json!({})
    );
    assert!(
        gw.admin_ok("GET", &format!("/api/monitor/{bad}"), None)
            .await
            .as_object()
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        gw.admin_ok("GET", "/api/monitor/", None).await[ok.to_string()]["ok-model"],
        0.0
    );
    gw.admin_ok("DELETE", &format!("/api/monitor/{ok}"), None)
        .await;
    assert_eq!(gw.admin_ok("GET", "/api/monitor/", None).await, json!({}));

    // A fresh failure, then clear everything.
    let a = gw
        .post("/v1/chat/completions", &key, &chat("bad-model"))
        .await;
    assert!(a.status.is_server_error());
    assert!(
        gw.admin_ok("GET", "/api/monitor", None)
            .await
            .get(bad.to_string())
            .is_some()
    );
    gw.admin_ok("DELETE", "/api/monitor", None).await;
    assert_eq!(gw.admin_ok("GET", "/api/monitor", None).await, json!({}));

    let a = admin(&gw, "GET", "/api/monitor/abc", None).await;
    assert_error(&a, 400, "id");
    gw.stop().await;
}

#[tokio::test]
async fn runtime_metrics_report_live_rates_and_errors() {
    let gw = Gateway::start(&[]).await;
    let (ok, bad, key) = setup(&gw).await;
    traffic(&gw, &key).await;
    let m = gw
        .admin_ok("GET", "/api/monitor/runtime_metrics", None)
        .await;
    let pair = &m["channel_models"][ok.to_string()]["ok-model"];
    assert_eq!(pair["rpm"], 3, "{m}");
    assert_eq!(pair["tpm"], 36);
    assert!(pair["rps"].as_i64().unwrap() <= 3);
    assert_eq!(pair["requests"], 3);
    assert_eq!(pair["errors"], 0);
    let failing = &m["channel_models"][bad.to_string()]["bad-model"];
    assert_eq!(failing["requests"], 10);
    assert_eq!(failing["errors"], 10);
    assert_eq!(failing["error_rate"], 1.0);
    assert_eq!(failing["banned"], true);
    assert_eq!(failing["rpm"], 10, "failed requests count too");
    assert_eq!(m["models"]["bad-model"]["banned_channels"], 1);
    assert_eq!(m["models"]["ok-model"]["rpm"], 3);
    assert_eq!(
        m["models"]["ok-model"]["channels"][ok.to_string()]["tpm"],
        36
    );
    assert_eq!(m["channels"][bad.to_string()]["banned_models"], 1);
    assert_eq!(m["channels"][bad.to_string()]["error_rate"], 1.0);

    let tokens = gw
        .admin_ok("GET", "/api/monitor/group_token_metrics/team", None)
        .await;
    assert_eq!(tokens["tokens"]["ci"]["rpm"], 13);
    assert_eq!(tokens["tokens"]["ci"]["tpm"], 36);
    let models = gw
        .admin_ok("GET", "/api/monitor/group_model_metrics/team", None)
        .await;
    assert_eq!(models["models"]["ok-model"]["rpm"], 3);
    assert_eq!(models["models"]["bad-model"]["rpm"], 10);
    let items = gw
        .admin_ok(
            "GET",
            "/api/monitor/group_tokenname_model_metrics/team",
            None,
        )
        .await;
    let items = items["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert!(
        items
            .iter()
            .all(|i| i["group"] == "team" && i["token_name"] == "ci")
    );
    let summary = gw
        .admin_ok(
            "GET",
            "/api/monitor/group_summary_metrics?groups=team,idle",
            None,
        )
        .await;
    assert_eq!(summary["groups"]["team"]["rpm"], 13);
    assert_eq!(summary["groups"]["idle"]["rpm"], 0);
    let batch = gw
        .admin_ok(
            "POST",
            "/api/monitor/batch_group_token_metrics",
            Some(json!({"items": [{"group": "team", "token_name": "ci"}, {"group": "team", "token_name": "none"}]})),
        )
        .await;
    let batch: &Vec<Value> = batch["items"].as_array().unwrap();
    assert_eq!(batch[0]["rpm"], 13);
    assert_eq!(batch[1]["rpm"], 0);
    gw.stop().await;
}
