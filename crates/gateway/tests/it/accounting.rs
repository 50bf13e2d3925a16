//! Tenancy accounting over sockets: prices applied to log rows and spend,
//! RPM/TPM/concurrency limits refused in each dialect with their headers,
//! quotas and budgets that parallel requests cannot overspend, OpenAI's
//! legacy billing endpoints, and two instances sharing PostgreSQL and Redis.

use std::time::{Duration, Instant};

use futures_util::future::join_all;
use serde_json::{Value, json};

use crate::support::anthropic::{messages_json, post_anthropic};
use crate::support::upstream::chat_json;
use crate::support::{FakeUpstream, Gateway, Reply};

const MODEL: &str = "gpt-priced";

/// A gateway (with `args`) whose [`MODEL`] has `config` (price, limits) and
/// one OpenAI channel on `upstream`.
async fn setup(upstream: &FakeUpstream, args: &[&str], config: Value) -> Gateway {
    let gw = Gateway::start(args).await;
    configure(&gw, upstream, config).await;
    gw
}

async fn configure(gw: &Gateway, upstream: &FakeUpstream, mut config: Value) {
    config["owner"] = json!("test");
    config["type"] = json!(0);
    gw.admin_ok("POST", &format!("/api/model_config/{MODEL}"), Some(config))
        .await;
    gw.channel(
        json!({"type": 1, "name": "up", "key": "sk-up", "base_url": upstream.base_url(),
        "models": [MODEL]}),
    )
    .await;
}

/// Create a token in `group`; returns (key, id).
async fn token(gw: &Gateway, group: &str, body: Value) -> (String, i64) {
    let data = gw
        .admin_ok(
            "POST",
            &format!("/api/token/{group}?auto_create_group=true"),
            Some(body),
        )
        .await;
    (
        data["key"].as_str().unwrap().to_owned(),
        data["id"].as_i64().unwrap(),
    )
}

fn chat(max_tokens: Option<i64>) -> Value {
    let mut body = json!({"model": MODEL, "messages": [{"role": "user", "content": "hi"}]});
    if let Some(n) = max_tokens {
        body["max_tokens"] = json!(n);
    }
    body
}

fn num(v: &Value) -> f64 {
    v.as_f64()
        .unwrap_or_else(|| panic!("expected a number, got {v}"))
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-9
}

/// Poll `path` (admin) until `pick(data)` is `want`.
async fn wait_for_admin(gw: &Gateway, path: &str, pick: impl Fn(&Value) -> f64, want: f64) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let data = gw.admin_ok("GET", path, None).await;
        if close(pick(&data), want) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{path}: wanted {want}, have {data}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn usage_reply(prompt: i64, completion: i64) -> Reply {
    Reply::Json(200, chat_json("up", "ok", Some((prompt, completion))))
}

#[tokio::test]
async fn log_rows_carry_price_and_amount_and_spend_reaches_token_and_group() {
    let up = FakeUpstream::start(|_, _| usage_reply(1000, 2000)).await;
    let gw = setup(
        &up,
        &[],
        json!({"price": {"input_price": 0.001, "output_price": "0.002"}}),
    )
    .await;
    let (key, id) = token(&gw, "team", json!({"name": "ci"})).await;
    let a = gw.post("/v1/chat/completions", &key, &chat(None)).await;
    assert_eq!(a.status, 200, "{}", a.text);
    let row = gw.log_row(&a.request_id()).await;
    assert!(close(num(&row["used_amount"]), 0.005), "{row}");
    assert_eq!(row["price"]["input_price"], json!(0.001));
    assert_eq!(row["price"]["output_price"], json!(0.002));
    assert!(close(num(&row["amount"]["input_amount"]), 0.001), "{row}");
    assert!(close(num(&row["amount"]["output_amount"]), 0.004), "{row}");
    assert!(close(num(&row["amount"]["used_amount"]), 0.005), "{row}");
    wait_for_admin(
        &gw,
        &format!("/api/token/team/{id}"),
        |t| num(&t["used_amount"]),
        0.005,
    )
    .await;
    wait_for_admin(&gw, "/api/group/team", |g| num(&g["used_amount"]), 0.005).await;
    // A free model leaves no price on the row.
    gw.admin_ok(
        "POST",
        &format!("/api/model_config/{MODEL}"),
        Some(json!({"owner": "test", "type": 0, "price": {}})),
    )
    .await;
    let a = gw.post("/v1/chat/completions", &key, &chat(None)).await;
    let row = gw.log_row(&a.request_id()).await;
    assert_eq!(row["used_amount"], json!(0.0));
    assert!(row.get("price").is_none(), "{row}");
    gw.stop().await;
}

#[tokio::test]
async fn anthropic_cache_tokens_are_billed_once_per_component() {
    // 1000 fresh input + 2000 cache reads + 1000 cache writes: AI Proxy's
    // vector 0.01 + 0.002 + 0.1 = 0.112 (reference §6.4).
    let up = FakeUpstream::start(|_, _| {
        Reply::Json(200, messages_json("up", "ok", (1000, 0, 2000, 1000)))
    })
    .await;
    let gw = Gateway::start(&[]).await;
    gw.admin_ok(
        "POST",
        &format!("/api/model_config/{MODEL}"),
        Some(json!({"owner": "test", "type": 0, "price": {
            "input_price": 0.01, "cached_price": 0.001, "cache_creation_price": 0.1}})),
    )
    .await;
    gw.channel(
        json!({"type": 14, "name": "claude", "key": "sk-ant", "base_url": up.base_url(),
        "models": [MODEL]}),
    )
    .await;
    let (key, _) = token(&gw, "team", json!({"name": "ci"})).await;
    for client in ["openai", "anthropic"] {
        let a = if client == "openai" {
            gw.post("/v1/chat/completions", &key, &chat(Some(16))).await
        } else {
            let body = json!({"model": MODEL, "max_tokens": 16,
                "messages": [{"role": "user", "content": "hi"}]});
            post_anthropic(&gw, "/v1/messages", &key, &body, &[]).await
        };
        assert_eq!(a.status, 200, "{client}: {}", a.text);
        let row = gw.log_row(&a.request_id()).await;
        assert_eq!(row["usage"]["input_tokens"], 4000, "{client}: {row}");
        assert_eq!(row["usage"]["cached_tokens"], 2000);
        assert_eq!(row["usage"]["cache_creation_tokens"], 1000);
        assert!(close(num(&row["used_amount"]), 0.112), "{client}: {row}");
        assert!(close(num(&row["amount"]["cache_creation_amount"]), 0.1));
        assert!(close(num(&row["amount"]["cached_amount"]), 0.002));
    }
    gw.stop().await;
}

#[tokio::test]
async fn invalid_prices_are_refused_when_saved() {
    let gw = Gateway::start(&[]).await;
    for price in [
        json!({"input_price": -1}),
        json!({"input_price": "cheap"}),
        json!({"conditional_prices": [{"condition": {"service_tier": "gold"}, "price": {}}]}),
        json!({"conditional_prices": [{"condition": {"input_token_min": 10, "input_token_max": 5}, "price": {}}]}),
    ] {
        let a = gw
            .admin(
                "POST",
                &format!("/api/model_config/{MODEL}"),
                Some(json!({"owner": "t", "type": 0, "price": price})),
            )
            .await;
        assert_eq!(a.status, 400, "{price}: {}", a.text);
        assert_eq!(a.json["success"], false);
        assert!(
            a.json["message"].as_str().unwrap().contains("price"),
            "{}",
            a.text
        );
    }
    // Group overrides are checked the same way.
    gw.admin_ok("POST", "/api/group/team", Some(json!({})))
        .await;
    let a = gw
        .admin(
            "POST",
            &format!("/api/group/team/model_config/{MODEL}"),
            Some(json!({"override_price": true, "price": {"output_price": -2}})),
        )
        .await;
    assert_eq!(a.status, 400, "{}", a.text);
    gw.stop().await;
}

#[tokio::test]
async fn rpm_limit_refuses_in_each_dialect_with_headers_and_no_log_row() {
    let up = FakeUpstream::start(|_, _| usage_reply(5, 5)).await;
    let gw = setup(&up, &[], json!({"rpm": 2})).await;
    let (key, _) = token(&gw, "team", json!({"name": "ci"})).await;
    for remaining in ["1", "0"] {
        let a = gw.post("/v1/chat/completions", &key, &chat(None)).await;
        assert_eq!(a.status, 200, "{}", a.text);
        assert_eq!(a.headers["x-ratelimit-limit-requests"], "2");
        assert_eq!(a.headers["x-ratelimit-remaining-requests"], remaining);
        let reset = a.headers["x-ratelimit-reset-requests"].to_str().unwrap();
        let (minutes, seconds) = reset.split_once('m').unwrap_or(("0", reset));
        let seconds: u64 = seconds.strip_suffix('s').unwrap().parse().unwrap();
        let seconds = minutes.parse::<u64>().unwrap() * 60 + seconds;
        assert!((1..=61).contains(&seconds), "a Go duration: {reset}");
    }
    let a = gw.post("/v1/chat/completions", &key, &chat(None)).await;
    assert_eq!(a.status, 429, "{}", a.text);
    assert_eq!(
        a.json["error"]["message"],
        "request rate limit exceeded, please try again later"
    );
    let wait: u64 = a.headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!(
        (1..=61).contains(&wait),
        "a window plus at most one bucket: {wait}"
    );
    assert_eq!(a.headers["x-ratelimit-remaining-requests"], "0");

    let body =
        json!({"model": MODEL, "max_tokens": 8, "messages": [{"role": "user", "content": "hi"}]});
    let a = post_anthropic(&gw, "/v1/messages", &key, &body, &[]).await;
    assert_eq!(a.status, 429);
    assert_eq!(a.json["type"], "error");
    assert_eq!(a.json["error"]["type"], "rate_limit_error");
    assert!(a.headers.contains_key("retry-after"));

    let gemini = json!({"contents": [{"role": "user", "parts": [{"text": "hi"}]}]});
    let a = gw
        .post(
            &format!("/v1beta/models/{MODEL}:generateContent"),
            &key,
            &gemini,
        )
        .await;
    assert_eq!(a.status, 429);
    assert_eq!(a.json["error"]["status"], "RESOURCE_EXHAUSTED");
    assert_eq!(a.json["error"]["code"], 429);

    assert_eq!(up.hits(), 2, "refused requests never reach the upstream");
    tokio::time::sleep(Duration::from_millis(300)).await;
    let logs = gw.admin_ok("GET", "/api/logs/", None).await;
    assert_eq!(logs["total"], 2, "refusals leave no log row: {logs}");
    // Internal keys are not limited.
    let a = gw
        .post(
            "/v1/chat/completions",
            crate::support::gateway::ADMIN_KEY,
            &chat(None),
        )
        .await;
    assert_eq!(a.status, 200, "{}", a.text);
    gw.stop().await;
}

#[tokio::test]
async fn group_ratios_overrides_and_consume_levels_scale_limits() {
    let up = FakeUpstream::start(|_, _| usage_reply(5, 5)).await;
    let gw = setup(&up, &[], json!({"rpm": 1, "price": {"output_price": 1}})).await;
    let admitted = async |gw: &Gateway, key: &str, n: usize| {
        let mut ok = 0;
        for _ in 0..n {
            if gw
                .post("/v1/chat/completions", key, &chat(None))
                .await
                .status
                == 200
            {
                ok += 1;
            }
        }
        ok
    };
    // rpm_ratio 3: 1 × 3.
    let (key, _) = token(&gw, "ratio", json!({"name": "ci"})).await;
    gw.admin_ok(
        "POST",
        "/api/group/ratio/rpm_ratio",
        Some(json!({"rpm_ratio": 3})),
    )
    .await;
    assert_eq!(admitted(&gw, &key, 5).await, 3);
    // A group override replaces the model's limit (× the ratio of 1).
    let (key, _) = token(&gw, "override", json!({"name": "ci"})).await;
    gw.admin_ok(
        "POST",
        &format!("/api/group/override/model_config/{MODEL}"),
        Some(json!({"override_limit": true, "rpm": 2})),
    )
    .await;
    assert_eq!(admitted(&gw, &key, 4).await, 2);
    // A group that spent ≥ 0.005 gets × 4 (each request above costs 0.005).
    let (key, _) = token(&gw, "spender", json!({"name": "ci"})).await;
    assert_eq!(admitted(&gw, &key, 2).await, 1);
    wait_for_admin(&gw, "/api/group/spender", |g| num(&g["used_amount"]), 0.005).await;
    gw.admin_ok(
        "PUT",
        "/api/option",
        Some(json!({"key": "GroupConsumeLevelRatio", "value": "{\"0.005\": 4, \"100\": 10}"})),
    )
    .await;
    // One request of this minute is already counted: 4 - 1 = 3 more.
    assert_eq!(admitted(&gw, &key, 5).await, 3);
    gw.stop().await;
}

#[tokio::test]
async fn tpm_reserves_the_output_cap_and_reconciles_with_usage() {
    let up = FakeUpstream::start(|_, _| usage_reply(10, 20)).await;
    let gw = setup(&up, &[], json!({"tpm": 1000})).await;
    let (key, _) = token(&gw, "team", json!({"name": "ci"})).await;
    let a = gw
        .post("/v1/chat/completions", &key, &chat(Some(5000)))
        .await;
    assert_eq!(a.status, 429, "{}", a.text);
    assert!(
        a.json["error"]["message"]
            .as_str()
            .unwrap()
            .contains("lower max_tokens"),
        "{}",
        a.text
    );
    assert!(
        !a.headers.contains_key("retry-after"),
        "waiting cannot help a request larger than the limit"
    );
    // Each reserves ~620 tokens; only reconciliation to the 30 actually used
    // lets the next ones in.
    for i in 0..4 {
        let a = gw
            .post("/v1/chat/completions", &key, &chat(Some(600)))
            .await;
        assert_eq!(a.status, 200, "request {i}: {}", a.text);
        assert_eq!(a.headers["x-ratelimit-limit-tokens"], "1000");
    }
    gw.stop().await;
}

#[tokio::test]
async fn token_rpm_and_group_concurrency_caps() {
    let up = FakeUpstream::start(|_, _| {
        Reply::Delay(Duration::from_millis(600), Box::new(usage_reply(5, 5)))
    })
    .await;
    let gw = setup(&up, &[], json!({})).await;
    let (key, _) = token(&gw, "team", json!({"name": "limited", "rpm": 1})).await;
    assert_eq!(
        gw.post("/v1/chat/completions", &key, &chat(None))
            .await
            .status,
        200
    );
    let a = gw.post("/v1/chat/completions", &key, &chat(None)).await;
    assert_eq!(a.status, 429);
    assert_eq!(
        a.json["error"]["message"],
        "token rate limit exceeded, please try again later"
    );

    let (key, _) = token(&gw, "narrow", json!({"name": "ci"})).await;
    gw.admin_ok(
        "PUT",
        "/api/group/narrow",
        Some(json!({"max_concurrency": 1})),
    )
    .await;
    let body = chat(None);
    let both = join_all([
        gw.post("/v1/chat/completions", &key, &body),
        gw.post("/v1/chat/completions", &key, &body),
    ])
    .await;
    let mut statuses: Vec<u16> = both.iter().map(|a| a.status.as_u16()).collect();
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 429], "{both:?}");
    let refused = both.iter().find(|a| a.status == 429).unwrap();
    assert!(
        refused.json["error"]["message"]
            .as_str()
            .unwrap()
            .contains("concurrent"),
        "{}",
        refused.text
    );
    // The slot is free again once the first finished.
    assert_eq!(
        gw.post("/v1/chat/completions", &key, &body).await.status,
        200
    );
    gw.stop().await;
}

/// 1 per 1000 output tokens: a request capped at 300 output tokens may cost 0.3.
fn output_priced() -> Value {
    json!({"price": {"output_price": 1}})
}

/// Fire `n` requests at once (max_tokens 300, upstream uses all 300 after a
/// pause); returns how many were admitted and the total they were charged.
async fn parallel_spend(gws: &[&Gateway], key: &str, n: usize) -> (usize, f64) {
    let body = chat(Some(300));
    let answers =
        join_all((0..n).map(|i| gws[i % gws.len()].post("/v1/chat/completions", key, &body))).await;
    let mut admitted = 0;
    let mut spent = 0.0;
    for a in &answers {
        match a.status.as_u16() {
            200 => {
                admitted += 1;
                // Instances share the log database: any can find the row.
                spent += num(&gws[0].log_row(&a.request_id()).await["used_amount"]);
            }
            429 => assert_eq!(a.json["error"]["code"], "insufficient_quota", "{}", a.text),
            other => panic!("unexpected {other}: {}", a.text),
        }
    }
    (admitted, spent)
}

#[tokio::test]
async fn parallel_requests_cannot_overspend_a_token_quota() {
    let up = FakeUpstream::start(|_, _| {
        Reply::Delay(Duration::from_millis(400), Box::new(usage_reply(10, 300)))
    })
    .await;
    let gw = setup(&up, &[], output_priced()).await;
    let (key, id) = token(&gw, "team", json!({"name": "capped", "quota": 1.0})).await;
    let (admitted, spent) = parallel_spend(&[&gw], &key, 8).await;
    assert_eq!(admitted, 3, "0.3 each: a fourth would overspend 1.0");
    assert!(close(spent, 0.9), "{spent}");
    // 0.9 spent: 0.3 more does not fit, 0.1 does, and then it is exhausted.
    let a = gw
        .post("/v1/chat/completions", &key, &chat(Some(300)))
        .await;
    assert_eq!(a.status, 429, "{}", a.text);
    assert!(
        !a.headers.contains_key("retry-after"),
        "nothing in flight to wait for"
    );
    let a = gw
        .post("/v1/chat/completions", &key, &chat(Some(100)))
        .await;
    assert_eq!(a.status, 200, "{}", a.text);
    wait_for_admin(
        &gw,
        &format!("/api/token/team/{id}"),
        |t| num(&t["used_amount"]),
        1.2,
    )
    .await;
    let a = gw.post("/v1/chat/completions", &key, &chat(Some(1))).await;
    assert_eq!(a.status, 401, "{}", a.text);
    assert!(
        a.json["error"]["message"]
            .as_str()
            .unwrap()
            .contains("total quota is exhausted"),
        "{}",
        a.text
    );
    gw.stop().await;
}

#[tokio::test]
async fn period_quota_and_group_budget_stop_spending() {
    let up = FakeUpstream::start(|_, _| usage_reply(10, 300)).await;
    let gw = setup(&up, &[], output_priced()).await;
    let (key, _) = token(
        &gw,
        "team",
        json!({"name": "daily", "period_quota": 0.5, "period_type": "daily"}),
    )
    .await;
    assert_eq!(
        gw.post("/v1/chat/completions", &key, &chat(Some(300)))
            .await
            .status,
        200
    );
    let a = gw
        .post("/v1/chat/completions", &key, &chat(Some(300)))
        .await;
    assert_eq!(a.status, 429, "0.3 spent + 0.3 > 0.5: {}", a.text);
    assert!(
        a.json["error"]["message"]
            .as_str()
            .unwrap()
            .contains("period quota")
    );

    let (key, _) = token(&gw, "budgeted", json!({"name": "ci"})).await;
    gw.admin_ok("PUT", "/api/group/budgeted", Some(json!({"budget": 0.3})))
        .await;
    assert_eq!(
        gw.post("/v1/chat/completions", &key, &chat(Some(300)))
            .await
            .status,
        200
    );
    let a = gw.post("/v1/chat/completions", &key, &chat(Some(1))).await;
    assert_eq!(a.status, 403, "{}", a.text);
    assert_eq!(a.json["error"]["code"], "group_balance_not_enough");
    let a = gw
        .admin("PUT", "/api/group/budgeted", Some(json!({"budget": -1})))
        .await;
    assert_eq!(a.status, 400, "{}", a.text);
    gw.stop().await;
}

#[tokio::test]
async fn legacy_billing_endpoints_report_the_calling_token() {
    let up = FakeUpstream::start(|_, _| usage_reply(10, 300)).await;
    let gw = setup(&up, &[], output_priced()).await;
    let (key, id) = token(&gw, "team", json!({"name": "ci", "quota": 2.0})).await;
    assert_eq!(
        gw.post("/v1/chat/completions", &key, &chat(None))
            .await
            .status,
        200
    );
    wait_for_admin(
        &gw,
        &format!("/api/token/team/{id}"),
        |t| num(&t["used_amount"]),
        0.3,
    )
    .await;
    let get = async |path: &str| {
        let r = gw
            .http
            .get(format!("{}{path}", gw.url))
            .bearer_auth(&key)
            .send()
            .await
            .unwrap();
        Gateway::answer(r).await
    };
    let s = get("/v1/dashboard/billing/subscription").await;
    assert_eq!(s.status, 200, "{}", s.text);
    assert_eq!(s.json["object"], "billing_subscription");
    assert_eq!(s.json["hard_limit_usd"], json!(2.0));
    let u = get("/v1/dashboard/billing/usage").await;
    assert!(close(num(&u.json["total_usage"]), 30.0), "{}", u.text);
    let q = get("/dashboard/billing/quota").await;
    assert_eq!(q.json["total"], json!(2.0));
    assert!(close(num(&q.json["remain"]), 1.7), "{}", q.text);
    let r = gw
        .http
        .get(format!("{}/v1/dashboard/billing/usage", gw.url))
        .bearer_auth("sk-wrong")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    gw.stop().await;
}

/// Two gateways sharing PostgreSQL and Redis: an RPM limit of N admits N
/// across both, and a quota is not overspent across both.
#[tokio::test]
async fn two_instances_share_limits_and_quotas() {
    let Ok(redis) = std::env::var("TEST_REDIS_URL") else {
        return; // Runs in CI's PostgreSQL + Redis pass.
    };
    let prefix = format!("sy-test-{}:", uuid::Uuid::now_v7().simple());
    let args = ["--redis", &redis, "--redis-key-prefix", &prefix];
    let up = FakeUpstream::start(|_, _| {
        Reply::Delay(Duration::from_millis(300), Box::new(usage_reply(10, 300)))
    })
    .await;
    let a = setup(&up, &args, json!({"rpm": 10, "price": {"output_price": 1}})).await;
    let b = a.start_sibling(&args).await;
    let (limited, _) = token(&a, "team", json!({"name": "limited"})).await;
    let (capped, _) = token(&a, "payers", json!({"name": "capped", "quota": 1.0})).await;
    let deadline = Instant::now() + Duration::from_secs(10);
    // The broadcast brings the configuration to b.
    while b
        .post("/v1/chat/completions", &capped, &chat(Some(1)))
        .await
        .status
        != 200
    {
        assert!(Instant::now() < deadline, "configuration never reached b");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // That request spent 0.3 of the quota (in another group than the RPM test).
    let body = chat(None);
    let answers = join_all((0..30).map(|i| {
        let gw = if i % 2 == 0 { &a } else { &b };
        gw.post("/v1/chat/completions", &limited, &body)
    }))
    .await;
    let ok = answers.iter().filter(|r| r.status == 200).count();
    assert_eq!(ok, 10, "rpm 10 across both instances");
    assert!(answers.iter().all(|r| r.status == 200 || r.status == 429));

    let (admitted, spent) = parallel_spend(&[&a, &b], &capped, 8).await;
    assert_eq!(
        admitted, 2,
        "0.3 spent + 2 × 0.3 fits 1.0, a third would not"
    );
    assert!(close(spent, 0.6), "{spent}");
    b.stop().await;
    a.stop().await;
}

#[tokio::test]
async fn a_retried_request_is_charged_once() {
    // The first channel fails (its attempt may even report usage), the
    // second answers: one charge, on the answer's usage.
    let bad = FakeUpstream::start(|_, _| {
        Reply::Json(500, json!({"error": {"message": "boom"}, "usage": {"prompt_tokens": 7, "completion_tokens": 900}}))
    })
    .await;
    let good = FakeUpstream::start(|_, _| usage_reply(10, 300)).await;
    let gw = Gateway::start(&["--retry-times", "1"]).await;
    gw.admin_ok(
        "POST",
        &format!("/api/model_config/{MODEL}"),
        Some(json!({"owner": "test", "type": 0, "price": {"output_price": 1}})),
    )
    .await;
    for (name, up, priority) in [("bad", &bad, 1_000_000), ("good", &good, 1)] {
        gw.channel(
            json!({"type": 1, "name": name, "key": "k", "base_url": up.base_url(),
            "models": [MODEL], "priority": priority}),
        )
        .await;
    }
    let (key, id) = token(&gw, "team", json!({"name": "ci", "quota": 5.0})).await;
    let mut charged = 0.0;
    for _ in 0..3 {
        let a = gw.post("/v1/chat/completions", &key, &chat(None)).await;
        assert_eq!(a.status, 200, "{}", a.text);
        let row = gw.log_row(&a.request_id()).await;
        assert!(close(num(&row["used_amount"]), 0.3), "{row}");
        charged += 0.3;
    }
    assert!(bad.hits() >= 1, "the failing channel was tried");
    wait_for_admin(
        &gw,
        &format!("/api/token/team/{id}"),
        |t| num(&t["used_amount"]),
        charged,
    )
    .await;
    gw.stop().await;
}

#[tokio::test]
async fn gemini_reasoning_uses_the_thinking_price_and_group_overrides_reprice() {
    // 1000 answer + 1000 thought tokens at a thinking price of 0.03 / 1000:
    // AI Proxy's vector 0.06 (reference §6.4), through a Gemini channel.
    let up = FakeUpstream::start(|_, _| {
        Reply::Json(
            200,
            json!({"candidates": [{"content": {"role": "model", "parts": [{"text": "ok"}]}, "finishReason": "STOP"}],
                "usageMetadata": {"promptTokenCount": 0, "candidatesTokenCount": 1000,
                    "thoughtsTokenCount": 1000, "totalTokenCount": 2000}}),
        )
    })
    .await;
    let gw = Gateway::start(&[]).await;
    gw.admin_ok(
        "POST",
        &format!("/api/model_config/{MODEL}"),
        Some(json!({"owner": "test", "type": 0, "price": {
            "output_price": 0.002, "thinking_mode_output_price": 0.03}})),
    )
    .await;
    gw.channel(
        json!({"type": 24, "name": "gemini", "key": "g-key", "base_url": up.base_url(),
        "models": [MODEL]}),
    )
    .await;
    let (key, _) = token(&gw, "team", json!({"name": "ci"})).await;
    let gemini = json!({"contents": [{"role": "user", "parts": [{"text": "hi"}]}]});
    for (path, body) in [
        ("/v1/chat/completions".to_owned(), chat(None)),
        (format!("/v1beta/models/{MODEL}:generateContent"), gemini),
    ] {
        let a = gw.post(&path, &key, &body).await;
        assert_eq!(a.status, 200, "{path}: {}", a.text);
        let row = gw.log_row(&a.request_id()).await;
        assert_eq!(row["usage"]["output_tokens"], 2000, "{path}: {row}");
        assert_eq!(row["usage"]["reasoning_tokens"], 1000);
        assert!(close(num(&row["used_amount"]), 0.06), "{path}: {row}");
    }
    // The group's own price replaces the model's.
    gw.admin_ok(
        "POST",
        &format!("/api/group/team/model_config/{MODEL}"),
        Some(json!({"override_price": true, "price": {"output_price": 0.001}})),
    )
    .await;
    let a = gw.post("/v1/chat/completions", &key, &chat(None)).await;
    let row = gw.log_row(&a.request_id()).await;
    assert!(close(num(&row["used_amount"]), 0.002), "{row}");
    assert_eq!(row["price"]["output_price"], json!(0.001));
    gw.stop().await;
}

#[tokio::test]
async fn a_request_refused_by_a_quota_takes_nothing_from_the_rate_limit() {
    let up = FakeUpstream::start(|_, _| usage_reply(10, 300)).await;
    let gw = setup(&up, &[], json!({"rpm": 2, "price": {"output_price": 1}})).await;
    let (capped, _) = token(&gw, "team", json!({"name": "capped", "quota": 0.3})).await;
    let (free, _) = token(&gw, "team", json!({"name": "free"})).await;
    let ok = gw
        .post("/v1/chat/completions", &capped, &chat(Some(300)))
        .await;
    assert_eq!(ok.status, 200, "{}", ok.text);
    for _ in 0..3 {
        let refused = gw
            .post("/v1/chat/completions", &capped, &chat(Some(300)))
            .await;
        assert!(
            matches!(refused.status.as_u16(), 401 | 429),
            "{}",
            refused.text
        );
        assert_ne!(
            refused.json["error"]["code"], "rate_limit_exceeded",
            "{}",
            refused.text
        );
    }
    // The group's second request of the minute is still there.
    let a = gw.post("/v1/chat/completions", &free, &chat(None)).await;
    assert_eq!(a.status, 200, "{}", a.text);
    assert_eq!(a.headers["x-ratelimit-remaining-requests"], "0");
    gw.stop().await;
}
