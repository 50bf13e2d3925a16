//! Dashboards over the summary tables, fed by real requests through fake
//! channels: exact counts and token sums, FastGPT's dashboardv2 shape,
//! gap filling, time-zone bucketing, retries in channel summaries, two
//! instances adding to the same rows, the group ranking and retention.

use std::time::Duration;

use serde_json::{Value, json};

use crate::support::admin::{admin, assert_error, chat, error_channel, fake_channel, search_until};
use crate::support::upstream::chat_json;
use crate::support::{FakeUpstream, Gateway, Reply};

/// The database the gateway under test uses, for direct store access.
fn target(gw: &Gateway) -> switchyard::config::DbTarget {
    let args = gw.db.args();
    match args[0].as_str() {
        "--sqlite-path" => switchyard::config::DbTarget::Sqlite(args[1].clone().into()),
        _ => switchyard::config::DbTarget::Postgres(args[1].clone()),
    }
}

fn now_s() -> i64 {
    switchyard::store::now_ms() / 1000
}

/// `ok-model` (7 in / 5 out tokens, 2 of them cached) on one fake channel,
/// `bad-model` on a channel failing with 400, and a token `ci` in `team`.
async fn setup(gw: &Gateway) -> (i64, i64, String) {
    gw.model("ok-model").await;
    gw.model("bad-model").await;
    let ok = fake_channel(
        gw,
        "ok",
        &["ok-model"],
        json!({"static_text": "fine", "usage": {"input_tokens": 7, "output_tokens": 5, "cached_tokens": 2}}),
    )
    .await;
    let bad = error_channel(gw, "bad", &["bad-model"], 400, "nope").await;
    let key = gw.token("team", json!({"name": "ci"})).await;
    (ok, bad, key)
}

/// Send `ok` good and `bad` failing requests, then wait until all are logged.
async fn traffic(gw: &Gateway, key: &str, ok: usize, bad: usize) {
    for _ in 0..ok {
        let a = gw
            .post("/v1/chat/completions", key, &chat("ok-model"))
            .await;
        assert_eq!(a.status, 200, "{}", a.text);
    }
    for _ in 0..bad {
        let a = gw
            .post("/v1/chat/completions", key, &chat("bad-model"))
            .await;
        assert_eq!(a.status, 400, "{}", a.text);
    }
    let want = (ok + bad) as i64;
    search_until(gw, "per_page=1", |d| d["total"].as_i64() >= Some(want)).await;
}

fn range(hours_back: i64) -> String {
    let now = now_s();
    format!(
        "start_timestamp={}&end_timestamp={}",
        (now - hours_back * 3600) * 1000,
        (now + 5) * 1000
    )
}

/// Sum `field` over every summary item of `model` in a dashboardv2 answer.
fn v2_sum(data: &Value, model: &str, field: &str) -> i64 {
    data.as_array()
        .unwrap()
        .iter()
        .flat_map(|p| p["summary"].as_array().unwrap())
        .filter(|i| i["model"] == model)
        .map(|i| i[field].as_i64().unwrap())
        .sum()
}

#[tokio::test]
async fn dashboard_v2_has_fastgpts_shape_and_exact_numbers() {
    let gw = Gateway::start(&[]).await;
    let (ok, bad, key) = setup(&gw).await;
    traffic(&gw, &key, 3, 2).await;
    // FastGPT's exact query: ms timestamps, IANA zone, empty "All" filters, trailing slash.
    let q = format!(
        "{}&timezone=Asia/Shanghai&timespan=hour&channel=&model=",
        range(2)
    );
    let data = gw
        .admin_ok("GET", &format!("/api/dashboardv2/?{q}"), None)
        .await;
    let points = data.as_array().expect("data is a bare array");
    assert!(!points.is_empty());
    for p in points {
        let ts = p["timestamp"].as_i64().unwrap();
        assert_eq!(ts % 3600, 0, "seconds, on the hour: {p}");
        assert!(ts <= now_s() && ts > now_s() - 3 * 3600);
        for item in p["summary"].as_array().unwrap() {
            for field in [
                "channel_id",
                "request_count",
                "exception_count",
                "input_tokens",
                "output_tokens",
                "total_tokens",
                "used_amount",
                "total_time_milliseconds",
                "total_ttfb_milliseconds",
                "max_rpm",
                "max_tpm",
                "cache_hit_count",
            ] {
                assert!(item[field].is_number(), "`{field}` is a number: {item}");
            }
            assert!(item["model"].is_string());
        }
    }
    assert_eq!(v2_sum(&data, "ok-model", "request_count"), 3);
    assert_eq!(v2_sum(&data, "ok-model", "exception_count"), 0);
    assert_eq!(v2_sum(&data, "ok-model", "input_tokens"), 21);
    assert_eq!(v2_sum(&data, "ok-model", "output_tokens"), 15);
    assert_eq!(v2_sum(&data, "ok-model", "total_tokens"), 36);
    assert_eq!(v2_sum(&data, "ok-model", "cache_hit_count"), 3);
    assert_eq!(v2_sum(&data, "ok-model", "cached_tokens"), 6);
    assert_eq!(v2_sum(&data, "bad-model", "request_count"), 2);
    assert_eq!(v2_sum(&data, "bad-model", "exception_count"), 2);
    assert_eq!(v2_sum(&data, "bad-model", "status_4xx_count"), 2);
    assert_eq!(v2_sum(&data, "bad-model", "status_400_count"), 2);
    let item = points
        .iter()
        .flat_map(|p| p["summary"].as_array().unwrap())
        .find(|i| i["model"] == "ok-model")
        .unwrap();
    assert_eq!(item["channel_id"], ok);
    assert!(item["total_time_milliseconds"].as_i64().unwrap() >= 0);

    // max_rpm of the hour = the busiest minute of the per-minute series.
    let minutes = gw
        .admin_ok(
            "GET",
            &format!("/api/dashboardv2/?{}&timespan=minute", range(2)),
            None,
        )
        .await;
    let busiest = minutes
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|p| p["summary"].as_array().unwrap())
        .filter(|i| i["model"] == "ok-model")
        .map(|i| i["request_count"].as_i64().unwrap())
        .max()
        .unwrap();
    let hour_max = data
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|p| p["summary"].as_array().unwrap())
        .filter(|i| i["model"] == "ok-model")
        .map(|i| i["max_rpm"].as_i64().unwrap())
        .max()
        .unwrap();
    assert_eq!(hour_max, busiest);
    assert_eq!(v2_sum(&minutes, "ok-model", "request_count"), 3);

    // Filters: one channel, one model.
    let only_bad = gw
        .admin_ok(
            "GET",
            &format!("/api/dashboardv2?{}&channel={bad}", range(2)),
            None,
        )
        .await;
    assert_eq!(v2_sum(&only_bad, "ok-model", "request_count"), 0);
    assert_eq!(v2_sum(&only_bad, "bad-model", "request_count"), 2);
    let only_ok = gw
        .admin_ok(
            "GET",
            &format!("/api/dashboardv2?{}&model=ok-model", range(2)),
            None,
        )
        .await;
    assert_eq!(v2_sum(&only_ok, "bad-model", "request_count"), 0);
    assert_eq!(v2_sum(&only_ok, "ok-model", "request_count"), 3);

    // The group series counts by token name.
    let group = gw
        .admin_ok("GET", &format!("/api/dashboardv2/team?{}", range(2)), None)
        .await;
    let items: Vec<&Value> = group
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|p| p["summary"].as_array().unwrap())
        .collect();
    assert!(
        items
            .iter()
            .all(|i| i["token_name"] == "ci" && i["group_id"] == "team")
    );
    assert_eq!(v2_sum(&group, "ok-model", "request_count"), 3);
    gw.stop().await;
}

#[tokio::test]
async fn dashboard_v1_fills_gaps_and_reports_totals_and_live_rates() {
    let gw = Gateway::start(&[]).await;
    let (ok, bad, key) = setup(&gw).await;
    traffic(&gw, &key, 4, 1).await;
    let now = now_s();
    let start = now - 3 * 3600;
    let data = gw
        .admin_ok(
            "GET",
            &format!(
                "/api/dashboard/?start_timestamp={start}&end_timestamp={}&timespan=hour&timezone=UTC",
                now + 5
            ),
            None,
        )
        .await;
    let chart = data["chart_data"].as_array().unwrap();
    let first = start - start % 3600;
    let last = (now + 5) - (now + 5) % 3600;
    let expected: Vec<i64> = (0..)
        .map(|i| first + i * 3600)
        .take_while(|t| *t <= last)
        .collect();
    let got: Vec<i64> = chart
        .iter()
        .map(|p| p["timestamp"].as_i64().unwrap())
        .collect();
    assert_eq!(got, expected, "every hour of the range, gaps included");
    assert_eq!(
        chart[0]["request_count"], 0,
        "the gap is a zero point: {}",
        chart[0]
    );
    assert_eq!(chart[0]["used_amount"], 0.0);
    let sum: i64 = chart
        .iter()
        .map(|p| p["request_count"].as_i64().unwrap())
        .sum();
    assert_eq!(sum, 5);
    assert_eq!(data["request_count"], 5);
    assert_eq!(data["total_count"], 5);
    assert_eq!(data["exception_count"], 1);
    assert_eq!(data["input_tokens"], 28);
    assert_eq!(data["output_tokens"], 20);
    assert!(data["used_amount"].is_number(), "{data}");
    assert_eq!(
        data["rpm"], 5,
        "live: five requests finished within the minute"
    );
    assert_eq!(data["tpm"], 48);
    let max_rpm = data["max_rpm"].as_i64().unwrap();
    assert!((1..=5).contains(&max_rpm), "{data}");
    let mut channels: Vec<i64> = data["channels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_i64().unwrap())
        .collect();
    channels.sort();
    assert_eq!(channels, {
        let mut v = vec![ok, bad];
        v.sort();
        v
    });
    assert_eq!(data["models"][0], "ok-model", "busiest first");

    let filtered = gw
        .admin_ok(
            "GET",
            &format!("/api/dashboard?{}&channel={ok}", range(1)),
            None,
        )
        .await;
    assert_eq!(filtered["request_count"], 4);
    assert_eq!(filtered["rpm"], 4);

    let group = gw
        .admin_ok(
            "GET",
            &format!(
                "/api/dashboard/team?{}&token_name=ci&timespan=minute",
                range(1)
            ),
            None,
        )
        .await;
    assert_eq!(group["request_count"], 5);
    assert_eq!(group["token_names"], json!(["ci"]));
    assert_eq!(group["rpm"], 5);
    let minutes = group["chart_data"].as_array().unwrap();
    assert!(
        minutes.len() >= 60,
        "a minute point for every minute of the hour"
    );
    assert!(
        minutes
            .windows(2)
            .all(
                |w| w[1]["timestamp"].as_i64().unwrap() - w[0]["timestamp"].as_i64().unwrap() == 60
            )
    );
    let other = gw
        .admin_ok("GET", &format!("/api/dashboard/nobody?{}", range(1)), None)
        .await;
    assert_eq!(other["request_count"], 0);
    assert_eq!(other["rpm"], 0);
    gw.stop().await;
}

#[tokio::test]
async fn day_buckets_start_at_local_midnight() {
    let gw = Gateway::start(&[]).await;
    let (_, _, key) = setup(&gw).await;
    traffic(&gw, &key, 2, 0).await;
    let now = now_s();
    for (zone, offset) in [
        ("UTC", 0),
        ("Asia/Kolkata", 19_800),
        ("Asia/Shanghai", 28_800),
    ] {
        let local_midnight = |t: i64| (t + offset) - (t + offset) % 86_400 - offset;
        // Days are sums of hourly rows (aligned on Unix time), each in the
        // local day its hour starts in: in Kolkata (+05:30) the requests of
        // the half hour after local midnight count in the day before.
        let requests_day = local_midnight(now - now % 3600);
        let q = format!("{}&timespan=day&timezone={zone}", range(1));
        let v2 = gw
            .admin_ok("GET", &format!("/api/dashboardv2/?{q}"), None)
            .await;
        let points = v2.as_array().unwrap();
        // The requests were all sent moments ago: one local day unless midnight just passed.
        let stamps: Vec<i64> = points
            .iter()
            .map(|p| p["timestamp"].as_i64().unwrap())
            .collect();
        assert!(
            stamps.contains(&requests_day),
            "{zone}: {stamps:?} vs {requests_day}"
        );
        assert_eq!(v2_sum(&v2, "ok-model", "request_count"), 2);
        let v1 = gw
            .admin_ok("GET", &format!("/api/dashboard/?{q}"), None)
            .await;
        let chart: Vec<i64> = v1["chart_data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["timestamp"].as_i64().unwrap())
            .collect();
        // Filled up to the day of the range's end.
        assert_eq!(
            *chart.last().unwrap(),
            local_midnight(now),
            "{zone}: {chart:?}"
        );
    }
    let a = admin(&gw, "GET", "/api/dashboardv2/?timezone=Mars/Olympus", None).await;
    assert_error(&a, 400, "timezone");
    let a = admin(&gw, "GET", "/api/dashboard/?timespan=week", None).await;
    assert_error(&a, 400, "timespan");
    let a = admin(
        &gw,
        "GET",
        "/api/dashboard/?start_timestamp=20&end_timestamp=10",
        None,
    )
    .await;
    assert_error(&a, 400, "start_timestamp");
    gw.stop().await;
}

#[tokio::test]
async fn channel_summaries_count_every_attempt_group_summaries_the_result() {
    let failing =
        FakeUpstream::start(|_, _| Reply::Json(500, json!({"error": {"message": "boom"}}))).await;
    let good =
        FakeUpstream::start(|_, _| Reply::Json(200, chat_json("m", "hi", Some((3, 2))))).await;
    let gw = Gateway::start(&["--retry-times", "1"]).await;
    gw.model("m").await;
    let a = gw
        .channel(json!({"type": 1, "name": "a", "base_url": failing.base_url(), "models": ["m"], "priority": 1_000_000}))
        .await;
    let b = gw
        .channel(json!({"type": 1, "name": "b", "base_url": good.base_url(), "models": ["m"], "priority": 1}))
        .await;
    let key = gw.token("team", json!({"name": "ci"})).await;
    let answer = gw.post("/v1/chat/completions", &key, &chat("m")).await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    gw.log_row(&answer.request_id()).await;
    let data = gw
        .admin_ok("GET", &format!("/api/dashboardv2/?{}", range(1)), None)
        .await;
    let items: Vec<&Value> = data
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|p| p["summary"].as_array().unwrap())
        .collect();
    let of = |id: i64| *items.iter().find(|i| i["channel_id"] == id).unwrap();
    assert_eq!(of(a)["request_count"], 1);
    assert_eq!(of(a)["exception_count"], 1);
    assert_eq!(of(a)["status_5xx_count"], 1);
    assert_eq!(of(a)["status_500_count"], 1);
    assert_eq!(of(a)["retry_count"], 0, "the first attempt is not a retry");
    assert_eq!(of(b)["request_count"], 1);
    assert_eq!(of(b)["retry_count"], 1);
    assert_eq!(of(b)["total_tokens"], 5);
    let group = gw
        .admin_ok("GET", &format!("/api/dashboard/team?{}", range(1)), None)
        .await;
    assert_eq!(group["request_count"], 1, "the client made one request");
    assert_eq!(group["exception_count"], 0);
    assert_eq!(group["retry_count"], 1);
    gw.stop().await;
}

#[tokio::test]
async fn two_instances_add_to_the_same_summary_rows() {
    let gw = Gateway::start(&[]).await;
    let (_, _, key) = setup(&gw).await;
    let sibling = gw.start_sibling(&[]).await;
    traffic(&gw, &key, 2, 0).await;
    for _ in 0..3 {
        let a = sibling
            .post("/v1/chat/completions", &key, &chat("ok-model"))
            .await;
        assert_eq!(a.status, 200, "{}", a.text);
    }
    search_until(&gw, "per_page=1", |d| d["total"] == 5).await;
    let data = gw
        .admin_ok(
            "GET",
            &format!("/api/dashboard/?{}&timespan=minute", range(1)),
            None,
        )
        .await;
    assert_eq!(data["request_count"], 5);
    assert_eq!(data["total_tokens"], 60);
    sibling.stop().await;
    gw.stop().await;
}

#[tokio::test]
async fn groups_are_ranked_by_consumption() {
    let gw = Gateway::start(&[]).await;
    let (_, _, key) = setup(&gw).await;
    let other = gw.token("other", json!({"name": "x"})).await;
    traffic(&gw, &key, 1, 0).await;
    for _ in 0..3 {
        let a = gw
            .post("/v1/chat/completions", &other, &chat("ok-model"))
            .await;
        assert_eq!(a.status, 200);
    }
    search_until(&gw, "per_page=1", |d| d["total"] == 4).await;
    let data = gw
        .admin_ok("GET", &format!("/api/groups/ranking?{}", range(1)), None)
        .await;
    assert_eq!(data["total"], 2);
    let ranking = data["ranking"].as_array().unwrap();
    assert_eq!(ranking[0]["group_id"], "other");
    assert_eq!(ranking[0]["request_count"], 3);
    assert_eq!(ranking[0]["total_tokens"], 36);
    assert!(ranking[0]["used_amount"].is_number());
    assert_eq!(ranking[1]["group_id"], "team");
    let page = gw
        .admin_ok(
            "GET",
            &format!("/api/groups/ranking?{}&per_page=1&p=2", range(1)),
            None,
        )
        .await;
    assert_eq!(page["ranking"][0]["group_id"], "team");
    gw.stop().await;
}

#[tokio::test]
async fn group_models_lists_what_the_group_may_call() {
    let gw = Gateway::start(&[]).await;
    let (_, _, _) = setup(&gw).await;
    gw.admin_ok(
        "POST",
        "/api/model_config/ok-model",
        Some(json!({"owner": "test", "type": 0, "rpm": 60, "price": {"input_price": 0.5}})),
    )
    .await;
    let models = gw.admin_ok("GET", "/api/dashboard/team/models", None).await;
    let names: Vec<&str> = models
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["model"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["bad-model", "ok-model"]);
    let ok = &models[1];
    assert_eq!(ok["rpm"], 60);
    assert_eq!(ok["owner"], "test");
    assert_eq!(ok["price"]["input_price"], 0.5);
    gw.stop().await;
}

#[tokio::test]
async fn summary_retention_deletes_old_buckets_only() {
    let gw = Gateway::start(&[]).await;
    let (_, _, key) = setup(&gw).await;
    traffic(&gw, &key, 1, 0).await;
    // Write an entry three hours old through the same batch path the sink uses.
    let store = switchyard::store::Store::connect(&switchyard::config::DatabaseConfig {
        main: target(&gw),
        logs: None,
        max_connections: 2,
        sqlite_busy_timeout: Duration::from_secs(3),
    })
    .await
    .unwrap();
    let old = switchyard::store::now_ms() - 3 * 3_600_000;
    store
        .insert_log_batch(
            &[switchyard::logs::record::LogEntry::CountOnly(Box::new(
                switchyard::logs::record::LogRecord {
                    request_id: "old".into(),
                    request_at: old,
                    created_at: old,
                    group_id: "team".into(),
                    token_name: "ci".into(),
                    model: "ok-model".into(),
                    code: 200,
                    ..Default::default()
                },
            ))],
            &Default::default(),
        )
        .await
        .unwrap();
    let q = format!("/api/dashboard/team?{}", range(5));
    assert_eq!(gw.admin_ok("GET", &q, None).await["request_count"], 2);
    store
        .save_options(&[("SummaryStorageHours".into(), "2".into())])
        .await
        .unwrap();
    let snapshot =
        switchyard::snapshot::SnapshotHandle::load(store.clone(), Default::default(), false)
            .await
            .unwrap();
    let deleted = switchyard::logs::retention::clean_once(&store, &snapshot).await;
    assert_eq!(deleted, 2, "the old group hour and minute rows");
    assert_eq!(gw.admin_ok("GET", &q, None).await["request_count"], 1);
    store.close().await;
    gw.stop().await;
}
