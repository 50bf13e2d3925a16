//! Request logs: the row of each request, stored bodies and their caps,
//! every search filter, group scoping, deletion, retention switches and the
//! logs of failed attempts.

use serde_json::{Value, json};

use crate::support::Gateway;
use crate::support::admin::{
    admin, assert_error, chat, error_channel, fake_channel, log_total, request_ids, search_until,
    set_option,
};
use crate::support::gateway::Answer;

/// A gateway with `ok-model` on a fake channel and `bad-model` on a
/// fake-error channel answering 400, plus a token in `team`.
async fn setup() -> (Gateway, i64, i64, String) {
    let gw = Gateway::start(&[]).await;
    gw.model("ok-model").await;
    gw.model("bad-model").await;
    let ok = fake_channel(
        &gw,
        "ok",
        &["ok-model"],
        json!({"static_text": "fine answer", "usage": {"input_tokens": 7, "output_tokens": 5}}),
    )
    .await;
    let bad = error_channel(&gw, "bad", &["bad-model"], 400, "Kaboom from the fake").await;
    let key = gw.token("team", json!({"name": "ci"})).await;
    (gw, ok, bad, key)
}

async fn send(gw: &Gateway, key: &str, body: &Value) -> Answer {
    gw.post("/v1/chat/completions", key, body).await
}

#[tokio::test]
async fn failed_request_keeps_its_bodies() {
    let (gw, _, bad, key) = setup().await;
    let body =
        json!({"model": "bad-model", "messages": [{"role": "user", "content": "please fail"}]});
    let a = send(&gw, &key, &body).await;
    assert_eq!(a.status, 400, "{}", a.text);
    let row = gw.log_row(&a.request_id()).await;
    assert_eq!(row["code"], 400);
    assert_eq!(row["channel"], bad);
    assert!(
        row["content"]
            .as_str()
            .unwrap()
            .contains("Kaboom from the fake"),
        "{row}"
    );
    let detail = gw
        .admin_ok("GET", &format!("/api/logs/detail/{}", row["id"]), None)
        .await;
    assert_eq!(detail["log_id"], row["id"]);
    assert_eq!(
        detail["request_body"],
        body.to_string(),
        "the exact bytes sent"
    );
    assert!(
        detail["response_body"]
            .as_str()
            .unwrap()
            .contains("Kaboom from the fake"),
        "{detail}"
    );
    assert_eq!(detail["request_body_truncated"], false);
    assert_eq!(detail["response_body_truncated"], false);
    // The group-scoped route shows it to its own group.
    let scoped = gw
        .admin_ok("GET", &format!("/api/log/team/detail/{}", row["id"]), None)
        .await;
    assert_eq!(scoped["request_body"], detail["request_body"]);
    gw.stop().await;
}

#[tokio::test]
async fn success_keeps_bodies_only_with_save_all_log_detail() {
    let (gw, _, _, key) = setup().await;
    let a = send(&gw, &key, &chat("ok-model")).await;
    assert_eq!(a.status, 200);
    let row = gw.log_row(&a.request_id()).await;
    let d = admin(&gw, "GET", &format!("/api/logs/detail/{}", row["id"]), None).await;
    assert_error(&d, 404, "record not found");

    set_option(&gw, "SaveAllLogDetail", "true").await;
    let a = send(&gw, &key, &chat("ok-model")).await;
    assert_eq!(a.status, 200);
    let row = gw.log_row(&a.request_id()).await;
    let detail = gw
        .admin_ok("GET", &format!("/api/logs/detail/{}", row["id"]), None)
        .await;
    assert_eq!(detail["request_body"], chat("ok-model").to_string());
    assert!(
        detail["response_body"]
            .as_str()
            .unwrap()
            .contains("fine answer"),
        "{detail}"
    );
    gw.stop().await;
}

#[tokio::test]
async fn stored_bodies_are_capped() {
    let (gw, _, _, key) = setup().await;
    set_option(&gw, "LogDetailRequestBodyMaxSize", "10").await;
    set_option(&gw, "LogDetailResponseBodyMaxSize", "12").await;
    let body = json!({"model": "bad-model", "messages": [{"role": "user", "content": "a long enough prompt"}]});
    let a = send(&gw, &key, &body).await;
    assert_eq!(a.status, 400);
    let row = gw.log_row(&a.request_id()).await;
    let detail = gw
        .admin_ok("GET", &format!("/api/logs/detail/{}", row["id"]), None)
        .await;
    let sent = body.to_string();
    assert_eq!(detail["request_body"], format!("{}...", &sent[..10]));
    assert_eq!(detail["request_body_truncated"], true);
    let response = detail["response_body"].as_str().unwrap();
    assert!(response.ends_with("..."), "{response}");
    assert_eq!(response.len(), 15);
    assert_eq!(detail["response_body_truncated"], true);
    gw.stop().await;
}

#[tokio::test]
async fn refused_requests_keep_the_answer_but_not_the_request_body() {
    let (gw, _, _, _) = setup().await;
    let narrow = gw
        .token("team", json!({"name": "narrow", "models": ["ok-model"]}))
        .await;
    let a = send(&gw, &narrow, &chat("bad-model")).await;
    assert_eq!(a.status, 404, "{}", a.text);
    let row = gw.log_row(&a.request_id()).await;
    assert_eq!(row["code"], 404);
    assert_eq!(row["token_name"], "narrow");
    let detail = gw
        .admin_ok("GET", &format!("/api/logs/detail/{}", row["id"]), None)
        .await;
    assert_eq!(detail["request_body"], "", "dropped for a 404");
    assert!(
        detail["response_body"]
            .as_str()
            .unwrap()
            .contains("does not exist"),
        "{detail}"
    );
    gw.stop().await;
}

#[tokio::test]
async fn search_filters() {
    let (gw, ok, bad, key) = setup().await;
    let other = gw.token("other", json!({"name": "outsider"})).await;
    let r1 = send(&gw, &key, &chat("ok-model")).await.request_id();
    let r2 = send(&gw, &key, &chat("bad-model")).await.request_id();
    let r3 = send(
        &gw,
        &other,
        &json!({"model": "ok-model", "user": "alice", "messages": [{"role": "user", "content": "x"}]}),
    )
    .await
    .request_id();
    let all = search_until(&gw, "", |d| d["total"] == 3).await;
    assert_eq!(
        request_ids(&all),
        [r3.as_str(), r2.as_str(), r1.as_str()],
        "newest first"
    );
    let rows = all["logs"].as_array().unwrap();
    let earliest = rows
        .iter()
        .map(|r| r["created_at"].as_i64().unwrap())
        .min()
        .unwrap();
    let latest = rows
        .iter()
        .map(|r| r["created_at"].as_i64().unwrap())
        .max()
        .unwrap();

    let ids_of = |query: &'static str| {
        let gw = &gw;
        async move {
            let data = gw
                .admin_ok("GET", &format!("/api/logs/search?{query}"), None)
                .await;
            let ids = request_ids(&data);
            assert_eq!(
                data["total"].as_u64().unwrap() as usize,
                ids.len(),
                "{query}: total matches the rows"
            );
            ids
        }
    };
    assert_eq!(
        ids_of("model_name=ok-model").await,
        [r3.as_str(), r1.as_str()]
    );
    assert_eq!(ids_of("model_name=").await.len(), 3, "empty means all");
    let by_channel = gw
        .admin_ok("GET", &format!("/api/logs/search?channel={ok}"), None)
        .await;
    assert_eq!(request_ids(&by_channel), [r3.as_str(), r1.as_str()]);
    let by_channel = gw
        .admin_ok("GET", &format!("/api/logs/search?channel={bad}"), None)
        .await;
    assert_eq!(request_ids(&by_channel), [r2.as_str()]);
    assert_eq!(ids_of("channel=").await.len(), 3);
    assert_eq!(ids_of("channel=0").await.len(), 3);
    assert_eq!(
        ids_of("code_type=success").await,
        [r3.as_str(), r1.as_str()]
    );
    assert_eq!(ids_of("code_type=error").await, [r2.as_str()]);
    assert_eq!(ids_of("code_type=all").await.len(), 3);
    let a = admin(&gw, "GET", "/api/logs/search?code_type=weird", None).await;
    assert_error(&a, 400, "code_type");
    let a = admin(&gw, "GET", "/api/logs/search?channel=abc", None).await;
    assert_error(&a, 400, "channel");
    assert_eq!(ids_of("code=400").await, [r2.as_str()]);
    assert_eq!(ids_of("code=200").await.len(), 2);
    let by_request = gw
        .admin_ok("GET", &format!("/api/logs/search?request_id={r2}"), None)
        .await;
    assert_eq!(request_ids(&by_request), [r2.as_str()]);
    assert_eq!(ids_of("token_name=outsider").await, [r3.as_str()]);
    assert_eq!(ids_of("group=other").await, [r3.as_str()]);
    assert_eq!(ids_of("group=team").await, [r2.as_str(), r1.as_str()]);
    assert_eq!(ids_of("user=alice").await, [r3.as_str()]);
    assert_eq!(ids_of("keyword=kaboom").await, [r2.as_str()]);
    assert_eq!(ids_of("keyword=outsider").await, [r3.as_str()]);
    assert_eq!(ids_of("ip=127.0.0.1").await.len(), 3);

    // Milliseconds and seconds select the same rows; no silent 7-day window.
    let start_s = earliest / 1000;
    let end_s = latest / 1000 + 1;
    let in_ms = gw
        .admin_ok(
            "GET",
            &format!(
                "/api/logs/search?start_timestamp={}&end_timestamp={}",
                start_s * 1000,
                end_s * 1000
            ),
            None,
        )
        .await;
    let in_s = gw
        .admin_ok(
            "GET",
            &format!("/api/logs/search?start_timestamp={start_s}&end_timestamp={end_s}"),
            None,
        )
        .await;
    let in_us = gw
        .admin_ok(
            "GET",
            &format!(
                "/api/logs/search?start_timestamp={}&end_timestamp={}",
                start_s * 1_000_000,
                end_s * 1_000_000
            ),
            None,
        )
        .await;
    assert_eq!(in_ms["total"], 3);
    assert_eq!(request_ids(&in_ms), request_ids(&in_s));
    assert_eq!(request_ids(&in_ms), request_ids(&in_us));
    let future = gw
        .admin_ok(
            "GET",
            &format!(
                "/api/logs/search?start_timestamp={}",
                (latest / 1000 + 3600) * 1000
            ),
            None,
        )
        .await;
    assert_eq!(future["total"], 0);
    assert_eq!(future["logs"], json!([]));
    let past = gw
        .admin_ok(
            "GET",
            &format!(
                "/api/logs/search?start_timestamp=1&end_timestamp={}",
                latest + 1
            ),
            None,
        )
        .await;
    assert_eq!(past["total"], 3, "a range reaching far into the past");
    let a = admin(
        &gw,
        "GET",
        "/api/logs/search?start_timestamp=2000000000&end_timestamp=1000000000",
        None,
    )
    .await;
    assert_error(&a, 400, "start_timestamp");

    // Paging: p or page, per_page; total counts every match.
    let p1 = gw
        .admin_ok("GET", "/api/logs/search?p=1&per_page=2", None)
        .await;
    assert_eq!(p1["total"], 3);
    assert_eq!(request_ids(&p1), [r3.as_str(), r2.as_str()]);
    let p2 = gw
        .admin_ok("GET", "/api/logs/search?page=2&per_page=2", None)
        .await;
    assert_eq!(p2["total"], 3);
    assert_eq!(request_ids(&p2), [r1.as_str()]);
    let oldest_first = gw
        .admin_ok("GET", "/api/logs/search?order=created_at-asc", None)
        .await;
    assert_eq!(
        request_ids(&oldest_first),
        [r1.as_str(), r2.as_str(), r3.as_str()]
    );
    let listed = gw.admin_ok("GET", "/api/logs/?per_page=1", None).await;
    assert_eq!(listed["total"], 3);
    assert_eq!(request_ids(&listed), [r3.as_str()]);
    gw.stop().await;
}

#[tokio::test]
async fn group_scoped_search_and_detail() {
    let (gw, _, _, key) = setup().await;
    let other = gw.token("other", json!({"name": "o"})).await;
    let mine = send(&gw, &key, &chat("bad-model")).await.request_id();
    let theirs = send(&gw, &other, &chat("bad-model")).await.request_id();
    let my_row = gw.log_row(&mine).await;
    let their_row = gw.log_row(&theirs).await;

    let scoped = gw.admin_ok("GET", "/api/log/other/search", None).await;
    assert_eq!(scoped["total"], 1);
    assert_eq!(request_ids(&scoped), [theirs.as_str()]);
    let scoped = gw
        .admin_ok("GET", "/api/log/team/search?group=other", None)
        .await;
    assert_eq!(
        request_ids(&scoped),
        [mine.as_str()],
        "the path's group wins over the query"
    );
    let scoped = gw.admin_ok("GET", "/api/log/team/", None).await;
    assert_eq!(scoped["total"], 1);

    let a = admin(
        &gw,
        "GET",
        &format!("/api/log/other/detail/{}", my_row["id"]),
        None,
    )
    .await;
    assert_error(&a, 404, "record not found");
    gw.admin_ok(
        "GET",
        &format!("/api/log/other/detail/{}", their_row["id"]),
        None,
    )
    .await;
    let a = admin(&gw, "GET", "/api/logs/detail/99999999", None).await;
    assert_error(&a, 404, "record not found");
    let a = admin(&gw, "GET", "/api/logs/detail/abc", None).await;
    assert_error(&a, 400, "id");
    gw.stop().await;
}

#[tokio::test]
async fn delete_logs_before_a_timestamp() {
    let (gw, _, _, key) = setup().await;
    let ok = send(&gw, &key, &chat("ok-model")).await.request_id();
    let failed = send(&gw, &key, &chat("bad-model")).await.request_id();
    gw.log_row(&ok).await;
    let failed_row = gw.log_row(&failed).await;
    let a = admin(&gw, "DELETE", "/api/logs", None).await;
    assert_error(&a, 400, "timestamp");
    let past = gw
        .admin_ok("DELETE", "/api/logs?timestamp=1000000000000", None)
        .await;
    assert_eq!(past["deleted"], 0, "nothing that old");
    assert_eq!(log_total(&gw, "").await, 2);

    let future = now_ms() + 3_600_000;
    let d = gw
        .admin_ok("DELETE", &format!("/api/logs/?timestamp={future}"), None)
        .await;
    assert!(d["deleted"].as_i64().unwrap() >= 2, "{d}");
    assert_eq!(log_total(&gw, "").await, 0);
    let a = admin(
        &gw,
        "GET",
        &format!("/api/logs/detail/{}", failed_row["id"]),
        None,
    )
    .await;
    assert_eq!(a.status, 404, "the details went with the rows");
    gw.stop().await;
}

fn now_ms() -> i64 {
    i64::try_from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis(),
    )
    .unwrap()
}

#[tokio::test]
async fn negative_log_storage_hours_turns_logging_off() {
    let (gw, _, _, key) = setup().await;
    set_option(&gw, "LogStorageHours", "-1").await;
    let unlogged = send(&gw, &key, &chat("ok-model")).await;
    assert_eq!(unlogged.status, 200, "requests are still answered");
    let unlogged_error = send(&gw, &key, &chat("bad-model")).await;
    assert_eq!(unlogged_error.status, 400);
    set_option(&gw, "LogStorageHours", "0").await;
    let logged = send(&gw, &key, &chat("ok-model")).await;
    gw.log_row(&logged.request_id()).await;
    assert_eq!(
        log_total(&gw, "").await,
        1,
        "only the request made while logging"
    );
    assert_eq!(
        log_total(&gw, &format!("request_id={}", unlogged.request_id())).await,
        0
    );
    gw.stop().await;
}

#[tokio::test]
async fn failed_attempts_are_listed_as_retry_logs() {
    let gw = Gateway::start(&["--retry-times", "1"]).await;
    gw.model("m").await;
    let failing = gw
        .channel(
            json!({"type": 55, "name": "down", "models": ["m"], "priority": 1_000_000,
            "configs": {"error_status_code": 500, "error_message": "upstream melted"}}),
        )
        .await;
    let working = gw
        .channel(json!({"type": 53, "name": "up", "models": ["m"], "priority": 1}))
        .await;
    let key = gw.token("team", json!({"name": "ci"})).await;
    let a = send(&gw, &key, &chat("m")).await;
    assert_eq!(a.status, 200, "{}", a.text);
    let row = gw.log_row(&a.request_id()).await;
    assert_eq!(row["retry_times"], 1);
    assert_eq!(row["channel"], working);
    let retries = gw
        .admin_ok(
            "GET",
            &format!("/api/logs/retry_logs?request_id={}", a.request_id()),
            None,
        )
        .await;
    let retries = retries.as_array().unwrap();
    assert_eq!(retries.len(), 1, "{retries:?}");
    assert_eq!(retries[0]["request_id"], a.request_id());
    assert_eq!(retries[0]["channel"], failing);
    assert_eq!(retries[0]["code"], 500);
    assert_eq!(retries[0]["model"], "m");
    assert!(
        retries[0]["content"]
            .as_str()
            .unwrap()
            .contains("upstream melted")
    );
    let none = gw
        .admin_ok("GET", "/api/logs/retry_logs?request_id=nothing", None)
        .await;
    assert_eq!(none, json!([]));
    let a = admin(&gw, "GET", "/api/logs/retry_logs", None).await;
    assert_error(&a, 400, "request_id");
    gw.stop().await;
}

#[tokio::test]
async fn authentication_failures_write_no_log_row() {
    let (gw, _, _, key) = setup().await;
    let a = send(&gw, "sk-not-a-real-key", &chat("ok-model")).await;
    assert_eq!(a.status, 401);
    let a = gw
        .http
        .post(format!("{}/v1/chat/completions", gw.url))
        .body(chat("ok-model").to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(a.status(), 401);
    let logged = send(&gw, &key, &chat("ok-model")).await;
    gw.log_row(&logged.request_id()).await;
    assert_eq!(log_total(&gw, "").await, 1);
    gw.stop().await;
}

#[tokio::test]
async fn a_chat_row_has_every_documented_field() {
    let (gw, ok, _, _) = setup().await;
    let token = gw
        .admin_ok(
            "POST",
            "/api/token/team",
            Some(json!({"name": "documented"})),
        )
        .await;
    let key = token["key"].as_str().unwrap();
    let body = json!({
        "model": "ok-model", "user": "end-user-42", "metadata": {"trace": "abc", "n": "1"},
        "messages": [{"role": "user", "content": "hello"}]
    });
    let a = send(&gw, key, &body).await;
    assert_eq!(a.status, 200, "{}", a.text);
    let b = send(&gw, key, &body).await;
    assert_ne!(a.request_id(), b.request_id(), "request ids are unique");
    let row = gw.log_row(&a.request_id()).await;

    let request_id = row["request_id"].as_str().unwrap();
    assert_eq!(request_id, a.request_id());
    assert_eq!(request_id.len(), 32);
    assert!(
        request_id.chars().all(|c| c.is_ascii_hexdigit()),
        "{request_id}"
    );
    assert!(row["id"].as_i64().unwrap() > 0);
    let request_at = row["request_at"].as_i64().unwrap();
    let created_at = row["created_at"].as_i64().unwrap();
    assert!(request_at > 1_000_000_000_000, "ms: {request_at}");
    assert!(request_at <= created_at, "{request_at} <= {created_at}");
    assert!(created_at - request_at < 60_000);
    let ttfb = row["ttfb_milliseconds"].as_i64().unwrap();
    assert!((0..=created_at - request_at).contains(&ttfb), "{ttfb}");
    assert_eq!(row["group"], "team");
    assert_eq!(row["token_id"], token["id"]);
    assert_eq!(row["token_name"], "documented");
    assert_eq!(row["model"], "ok-model");
    assert_eq!(row["channel"], ok);
    assert_eq!(row["mode"], 1);
    assert_eq!(row["endpoint"], "/v1/chat/completions");
    assert_eq!(row["code"], 200);
    assert_eq!(row["content"], "");
    assert_eq!(row["ip"], "127.0.0.1");
    assert_eq!(row["retry_times"], 0);
    assert_eq!(row["user"], "end-user-42");
    assert_eq!(row["metadata"], json!({"trace": "abc", "n": "1"}));
    assert_eq!(row["stream"], false);
    assert_eq!(row["usage"]["input_tokens"], 7);
    assert_eq!(row["usage"]["output_tokens"], 5);
    assert_eq!(row["usage"]["total_tokens"], 12);
    assert_eq!(row["usage_estimated"], false);
    assert!(row["used_amount"].is_number());
    let b_row = gw.log_row(&b.request_id()).await;
    assert_ne!(b_row["id"], row["id"]);
    gw.stop().await;
}
