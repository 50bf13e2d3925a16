//! FastGPT's call sequence (fastgpt-contract.md §2, §4, §6), with the exact
//! request shapes it sends and the fields it reads back, against a gateway
//! started like FastGPT's compose file (`DISABLE_MODEL_CONFIG=true`, the admin
//! key doubling as the relay key).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{Map, Value, json};

use crate::support::admin::{admin, assert_ok, call, search_until};
use crate::support::gateway::{ADMIN_KEY, Answer};
use crate::support::upstream::chat_sse;
use crate::support::{FakeUpstream, Gateway, Reply};

/// FastGPT's compose: model configs are not required.
async fn fastgpt_gateway() -> Gateway {
    Gateway::start(&["--disable-model-config", "true"]).await
}

fn now_ms() -> i64 {
    i64::try_from(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_millis(),
    )
    .unwrap()
}

/// FastGPT G2's zod `AIProxyChannelListResponseSchema`, plus its refusal to
/// touch channels whose `balance_threshold` is non-zero.
fn assert_fastgpt_channel_list(a: &Answer) -> Vec<Value> {
    assert_eq!(a.status, 200, "{}", a.text);
    assert_eq!(a.json["success"], json!(true), "success is literally true");
    let data = a.json["data"].as_array().expect("data is an array").clone();
    for c in &data {
        let id = c["id"].as_u64().unwrap_or_else(|| panic!("id int: {c}"));
        assert!(id > 0, "positive id: {c}");
        let models = c["models"]
            .as_array()
            .unwrap_or_else(|| panic!("models array: {c}"));
        assert!(models.iter().all(Value::is_string), "{c}");
        assert!(c["type"].is_i64(), "{c}");
        assert!(c["name"].is_string(), "{c}");
        for field in ["base_url", "key", "proxy_url"] {
            assert!(c[field].is_string(), "{field}: {c}");
        }
        for field in ["model_mapping", "configs"] {
            assert!(c[field].is_object() || c[field].is_null(), "{field}: {c}");
        }
        assert!(c["sets"].is_array() || c["sets"].is_null(), "{c}");
        assert!(c["status"].is_i64() && c["priority"].is_i64(), "{c}");
        for field in [
            "enabled_auto_balance_check",
            "skip_tls_verify",
            "enabled_no_permission_ban",
        ] {
            assert!(c[field].is_boolean(), "{field}: {c}");
        }
        for field in ["warn_error_rate", "max_error_rate"] {
            assert!(c[field].is_number(), "{field}: {c}");
        }
        assert!(
            c["created_at"].as_f64().unwrap() > 1e12,
            "created_at in ms: {c}"
        );
        assert!(
            c.get("balance_threshold")
                .is_none_or(|b| b.as_f64() == Some(0.0)),
            "balance_threshold 0: {c}"
        );
    }
    data
}

/// G2's update body: the channel as listed minus `id`/`created_at`, with the
/// fields `getChannelUpdateData` round-trips.
fn g2_update_body(c: &Value) -> Value {
    let mut body = Map::new();
    for field in [
        "type",
        "name",
        "base_url",
        "proxy_url",
        "model_mapping",
        "configs",
        "key",
        "status",
        "priority",
        "sets",
        "enabled_auto_balance_check",
        "skip_tls_verify",
        "enabled_no_permission_ban",
        "warn_error_rate",
        "max_error_rate",
        "models",
    ] {
        body.insert(field.to_owned(), c[field].clone());
    }
    Value::Object(body)
}

fn find(list: &[Value], id: i64) -> Value {
    list.iter()
        .find(|c| c["id"] == id)
        .unwrap_or_else(|| panic!("channel {id} listed"))
        .clone()
}

#[tokio::test]
async fn channel_management_sequence() {
    let gw = fastgpt_gateway().await;
    // Compose healthcheck.
    let a = call(&gw, "GET", "/api/status", None, None).await;
    assert_eq!(a.status, 200);
    assert_eq!(a.json["success"], true);

    // A2: provider dropdown.
    let metas = gw.admin_ok("GET", "/api/channels/type_metas", None).await;
    let metas = metas.as_object().unwrap();
    assert!(metas.contains_key("1"));
    for (id, meta) in metas {
        assert!(id.parse::<i64>().is_ok(), "numeric type ids: {id}");
        for field in ["name", "defaultBaseUrl", "keyHelp"] {
            assert!(meta[field].is_string(), "type {id} `{field}`: {meta}");
        }
    }

    // A4 (via FastGPT's createChannel route): no status, base_url may be ''.
    let a = admin(
        &gw,
        "POST",
        "/api/channel/",
        Some(json!({"type": 1, "name": "OpenAI main", "base_url": "",
            "models": ["gpt-4o", "gpt-4o-mini"], "model_mapping": {}, "key": "sk-fastgpt-1", "priority": 1})),
    )
    .await;
    let id = assert_ok(&a)["id"].as_i64().unwrap();
    assert!(id > 0);
    // A3 (first release, slash-less).
    let a = admin(
        &gw,
        "POST",
        "/api/channel",
        Some(json!({"type": 36, "name": "DeepSeek", "base_url": "https://api.deepseek.com",
            "models": ["deepseek-chat"], "model_mapping": {"deepseek-chat": "deepseek-v3"}, "key": "sk-ds"})),
    )
    .await;
    assert!(a.status.is_success(), "{}", a.text);
    assert_eq!(a.json["success"], true);
    let legacy = a.json["data"]["id"].as_i64().unwrap();

    // A1 + the create wrapper's id resolution by name and type.
    let list = assert_fastgpt_channel_list(&admin(&gw, "GET", "/api/channels/all", None).await);
    assert_eq!(list.len(), 2);
    let named: Vec<&Value> = list.iter().filter(|c| c["name"] == "OpenAI main").collect();
    assert_eq!(named.len(), 1);
    assert_eq!(
        (&named[0]["id"], &named[0]["type"]),
        (&json!(id), &json!(1))
    );
    let created = find(&list, id);
    assert_eq!(created["status"], 1, "enabled without sending status");
    assert_eq!(created["key"], "sk-fastgpt-1");
    assert_eq!(created["base_url"], "");
    assert_eq!(created["priority"], 1);
    let g1_list = admin(&gw, "GET", "/api/channels/all?page=1&perPage=10", None).await;
    assert_eq!(
        assert_fastgpt_channel_list(&g1_list).len(),
        2,
        "G1's ignored paging"
    );

    // A5 (G2 model binding): full round trip, only `models` changed.
    let mut body = g2_update_body(&created);
    body["models"] = json!(["gpt-4o", "gpt-4o-mini", "o3-mini"]);
    let a = admin(&gw, "PUT", &format!("/api/channel/{id}"), Some(body)).await;
    assert_eq!(a.status, 200, "{}", a.text);
    assert_eq!(a.json["success"], json!(true));
    let list = assert_fastgpt_channel_list(&admin(&gw, "GET", "/api/channels/all", None).await);
    let updated = find(&list, id);
    assert_eq!(
        updated["models"],
        json!(["gpt-4o", "gpt-4o-mini", "o3-mini"])
    );
    for (field, value) in created.as_object().unwrap() {
        if field != "models" && field != "updated_at" {
            assert_eq!(&updated[field], value, "`{field}` preserved");
        }
    }

    // A5 (G2 configs merge): configs = {...old, ...patch}, then verify.
    let mut body = g2_update_body(&updated);
    body["configs"] = json!({"map_reasoning_to_reasoning_content": true});
    gw.admin_ok("PUT", &format!("/api/channel/{id}"), Some(body))
        .await;
    // A5 (G1 edit form / inline priority): a subset of fields.
    gw.admin_ok(
        "PUT",
        &format!("/api/channel/{id}"),
        Some(
            json!({"type": 1, "name": "OpenAI main", "base_url": "", "models": ["gpt-4o"],
            "model_mapping": {}, "key": "sk-fastgpt-1", "status": 1, "priority": 5}),
        ),
    )
    .await;
    let list = assert_fastgpt_channel_list(&admin(&gw, "GET", "/api/channels/all", None).await);
    let edited = find(&list, id);
    assert_eq!(edited["priority"], 5);
    assert_eq!(edited["models"], json!(["gpt-4o"]));
    assert_eq!(
        edited["configs"],
        json!({"map_reasoning_to_reasoning_content": true}),
        "a G1 edit does not wipe configs"
    );

    // A6: disable, then enable.
    for status in [2, 1] {
        let a = admin(
            &gw,
            "POST",
            &format!("/api/channel/{id}/status"),
            Some(json!({"status": status})),
        )
        .await;
        assert_eq!(a.json["success"], json!(true), "{}", a.text);
        let list = assert_fastgpt_channel_list(&admin(&gw, "GET", "/api/channels/all", None).await);
        assert_eq!(find(&list, id)["status"], status);
    }

    // A12 / A13 (G3): paged list, search, get.
    let page = gw
        .admin_ok("GET", "/api/channels/?page=1&per_page=100", None)
        .await;
    assert_eq!(page["total"], 2);
    assert_eq!(page["channels"].as_array().unwrap().len(), 2);
    let found = gw
        .admin_ok(
            "GET",
            "/api/channels/search?keyword=DeepSeek&page=1&per_page=100",
            None,
        )
        .await;
    assert_eq!(found["total"], 1);
    assert_eq!(
        gw.admin_ok("GET", &format!("/api/channel/{legacy}"), None)
            .await["model_mapping"],
        json!({"deepseek-chat": "deepseek-v3"})
    );

    // A7 and A14.
    let a = admin(&gw, "DELETE", &format!("/api/channel/{id}"), None).await;
    assert_eq!(a.json["success"], json!(true), "{}", a.text);
    let a = admin(&gw, "GET", &format!("/api/channel/{id}"), None).await;
    assert_eq!(a.status, 404);
    assert!(
        a.json["message"]
            .as_str()
            .unwrap()
            .contains("record not found"),
        "G3 matches /record not found/: {}",
        a.text
    );
    let a = admin(
        &gw,
        "POST",
        "/api/channels/batch_delete",
        Some(json!([legacy])),
    )
    .await;
    assert_eq!(a.json["success"], json!(true), "{}", a.text);
    let list = assert_fastgpt_channel_list(&admin(&gw, "GET", "/api/channels/all", None).await);
    assert!(list.is_empty());
    gw.stop().await;
}

/// POST to the relay the way FastGPT's OpenAI SDK does, with the admin key.
async fn sdk_post(gw: &Gateway, path: &str, body: &Value, channel: Option<i64>) -> Answer {
    let mut req = gw
        .http
        .post(format!("{}{path}", gw.url))
        .bearer_auth(ADMIN_KEY)
        .header("content-type", "application/json")
        .header("accept", "application/json, text/plain, */*")
        .header("user-agent", "OpenAI/JS 4.87.3")
        .header("x-stainless-lang", "js")
        .header("x-stainless-retry-count", "0");
    if let Some(id) = channel {
        req = req.header("Aiproxy-Channel", id.to_string());
    }
    let response = req.body(body.to_string()).send().await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let text = response.text().await.unwrap();
    let json = serde_json::from_str(&text).unwrap_or(Value::Null);
    Answer {
        status,
        headers,
        json,
        text,
    }
}

/// Concatenated `choices[0].delta.content` of an SSE body.
fn streamed_text(text: &str) -> String {
    text.lines()
        .filter_map(|l| l.strip_prefix("data: "))
        .filter(|d| *d != "[DONE]")
        .filter_map(|d| serde_json::from_str::<Value>(d).ok())
        .filter_map(|v| {
            v["choices"][0]["delta"]["content"]
                .as_str()
                .map(str::to_owned)
        })
        .collect()
}

#[tokio::test]
async fn model_test_streams_through_a_pinned_disabled_channel() {
    let up = FakeUpstream::start(|_, _| {
        Reply::Sse(chat_sse(
            "gpt-4o",
            &["Hi", " there"],
            Some((3, 2)),
            Duration::ZERO,
        ))
    })
    .await;
    let gw = fastgpt_gateway().await;
    let id = gw
        .channel(
            json!({"type": 1, "name": "tested", "base_url": up.base_url(),
            "models": ["gpt-4o"], "model_mapping": {}, "key": "sk-up", "priority": 1}),
        )
        .await;
    gw.admin_ok(
        "POST",
        &format!("/api/channel/{id}/status"),
        Some(json!({"status": 2})),
    )
    .await;
    let test =
        json!({"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}], "stream": true});
    let a = sdk_post(&gw, "/v1/chat/completions", &test, Some(id)).await;
    assert_eq!(a.status, 200, "{}", a.text);
    assert!(
        a.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream")
    );
    assert_eq!(streamed_text(&a.text), "Hi there", "non-empty answer text");
    assert!(a.text.trim_end().ends_with("data: [DONE]"));
    assert_eq!(up.hits(), 1);
    assert_eq!(up.received()[0].headers["authorization"], "Bearer sk-up");

    // The pinned request is logged against that channel.
    let row = gw.log_row(&a.request_id()).await;
    assert_eq!(row["channel"], id);
    assert_eq!(row["code"], 200);

    // A pin to a channel that does not list the model is refused, never a 500.
    let a = sdk_post(
        &gw,
        "/v1/chat/completions",
        &json!({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}], "stream": true}),
        Some(id),
    )
    .await;
    assert!(
        a.status.is_client_error() || a.status == 503,
        "{}",
        a.status
    );
    assert!(a.json["error"]["message"].is_string(), "{}", a.text);

    // Enabled again, the same model routes without a pin.
    gw.admin_ok(
        "POST",
        &format!("/api/channel/{id}/status"),
        Some(json!({"status": 1})),
    )
    .await;
    let a = sdk_post(&gw, "/v1/chat/completions", &test, None).await;
    assert_eq!(a.status, 200, "{}", a.text);
    assert_eq!(streamed_text(&a.text), "Hi there");
    gw.stop().await;
}

#[tokio::test]
async fn embeddings_with_and_without_encoding_format() {
    let up = FakeUpstream::start(|r, _| {
        let embedding = if r.body["encoding_format"] == "base64" {
            json!("AACAPwAAAEA=")
        } else {
            json!([1.0, 2.0])
        };
        Reply::Json(
            200,
            json!({"object": "list", "model": "text-embedding-3-small",
                "data": [{"object": "embedding", "index": 0, "embedding": embedding}],
                "usage": {"prompt_tokens": 1, "total_tokens": 1}}),
        )
    })
    .await;
    let gw = fastgpt_gateway().await;
    gw.channel(json!({"type": 1, "name": "emb", "base_url": up.base_url(),
        "models": ["text-embedding-3-small"], "model_mapping": {}, "key": "sk-up", "priority": 1}))
        .await;
    // Older FastGPT: no encoding_format.
    let a = sdk_post(
        &gw,
        "/v1/embeddings",
        &json!({"model": "text-embedding-3-small", "input": ["Hi"]}),
        None,
    )
    .await;
    assert_eq!(a.status, 200, "{}", a.text);
    assert_eq!(a.json["data"][0]["embedding"], json!([1.0, 2.0]));
    assert_eq!(a.json["usage"]["total_tokens"], 1);
    assert!(
        up.received()[0].body.get("encoding_format").is_none(),
        "nothing added upstream"
    );
    // The OpenAI SDK's own default.
    let a = sdk_post(
        &gw,
        "/v1/embeddings",
        &json!({"model": "text-embedding-3-small", "input": ["Hi"], "encoding_format": "base64"}),
        None,
    )
    .await;
    assert_eq!(a.status, 200, "{}", a.text);
    assert_eq!(a.json["data"][0]["embedding"], json!("AACAPwAAAEA="));
    // Newest FastGPT.
    let a = sdk_post(
        &gw,
        "/v1/embeddings",
        &json!({"model": "text-embedding-3-small", "input": ["Hi", "there"], "encoding_format": "float"}),
        None,
    )
    .await;
    assert_eq!(a.status, 200, "{}", a.text);
    assert_eq!(a.json["data"][0]["embedding"], json!([1.0, 2.0]));
    assert_eq!(up.hits(), 3);
    gw.stop().await;
}

#[tokio::test]
async fn log_page_and_error_detail() {
    let gw = fastgpt_gateway().await;
    let ok = gw
        .channel(
            json!({"type": 53, "name": "fake", "base_url": "", "models": ["gpt-4o"],
            "model_mapping": {}, "key": "", "priority": 1,
            "configs": {"usage": {"input_tokens": 11, "output_tokens": 4}}}),
        )
        .await;
    let bad = gw
        .channel(
            json!({"type": 55, "name": "broken", "base_url": "", "models": ["broken-model"],
            "model_mapping": {}, "key": "", "priority": 1,
            "configs": {"error_status_code": 400, "error_message": "bad things"}}),
        )
        .await;
    let good = sdk_post(
        &gw,
        "/v1/chat/completions",
        &json!({"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}], "stream": false}),
        None,
    )
    .await;
    assert_eq!(good.status, 200, "{}", good.text);
    let failed = sdk_post(
        &gw,
        "/v1/chat/completions",
        &json!({"model": "broken-model", "messages": [{"role": "user", "content": "hi"}]}),
        None,
    )
    .await;
    assert_eq!(failed.status, 400, "{}", failed.text);

    // A8, exactly as the Call-log page sends it (the "All" filters are empty strings).
    let now = now_ms();
    let start = now - 86_400_000;
    let end = now + 86_400_000;
    let query = format!(
        "result_only=true&request_id=&channel=&model_name=&code_type=all\
         &start_timestamp={start}&end_timestamp={end}&p=1&per_page=20"
    );
    let data = search_until(&gw, &query, |d| d["total"] == 2).await;
    let logs = data["logs"].as_array().unwrap();
    assert_eq!(logs.len(), 2);
    for row in logs {
        assert!(row["id"].as_u64().unwrap() > 0, "{row}");
        assert!(row["request_id"].is_string());
        assert!(row["channel"].as_u64().unwrap() > 0, "{row}");
        assert!(row["model"].is_string());
        assert!(row["usage"]["input_tokens"].is_number(), "{row}");
        assert!(row["usage"]["output_tokens"].is_number(), "{row}");
        assert!(row["created_at"].as_i64().unwrap() > 1_000_000_000_000);
        assert!(row["request_at"].as_i64().unwrap() > 1_000_000_000_000);
        assert!(row["created_at"].as_i64() >= row["request_at"].as_i64());
        assert!(row["code"].is_i64());
        assert!(row["content"].is_string());
        assert!(row["ttfb_milliseconds"].is_number());
        assert_eq!(row["ip"], "127.0.0.1");
        assert_eq!(row["endpoint"], "/v1/chat/completions");
        assert!(row["retry_times"].is_number());
    }
    assert_eq!(logs[0]["request_id"], failed.request_id(), "newest first");
    assert_eq!(logs[0]["code"], 400);
    assert_eq!(logs[0]["channel"], bad);
    assert!(logs[0]["content"].as_str().unwrap().contains("bad things"));
    assert_eq!(logs[1]["code"], 200);
    assert_eq!(logs[1]["channel"], ok);
    assert_eq!(logs[1]["usage"]["input_tokens"], 11);
    assert_eq!(logs[1]["usage"]["output_tokens"], 4);

    // Filtered the way the page's dropdowns and search box do.
    for (filter, expected) in [
        (format!("channel={ok}&model_name=&code_type=all"), 1),
        ("channel=&model_name=gpt-4o&code_type=all".to_owned(), 1),
        ("channel=&model_name=&code_type=error".to_owned(), 1),
        ("channel=&model_name=&code_type=success".to_owned(), 1),
        (
            format!(
                "request_id={}&channel=&model_name=&code_type=all",
                good.request_id()
            ),
            1,
        ),
    ] {
        let data = gw
            .admin_ok(
                "GET",
                &format!(
                    "/api/logs/search?result_only=true&{filter}&start_timestamp={start}&end_timestamp={end}&p=1&per_page=20"
                ),
                None,
            )
            .await;
        assert_eq!(data["total"], expected, "{filter}");
    }
    let second_page = gw
        .admin_ok(
            "GET",
            &format!(
                "/api/logs/search?result_only=true&request_id=&channel=&model_name=&code_type=all&start_timestamp={start}&end_timestamp={end}&p=2&per_page=20"
            ),
            None,
        )
        .await;
    assert_eq!(second_page["logs"], json!([]));
    assert_eq!(second_page["total"], 2);

    // A9: only for rows whose code is not 200.
    let detail = gw
        .admin_ok("GET", &format!("/api/logs/detail/{}", logs[0]["id"]), None)
        .await;
    assert!(
        detail["request_body"]
            .as_str()
            .unwrap()
            .contains("broken-model"),
        "{detail}"
    );
    assert!(
        detail["response_body"]
            .as_str()
            .unwrap()
            .contains("bad things"),
        "{detail}"
    );

    // The browser passthrough forwards browser headers; they are ignored.
    let response = gw
        .http
        .get(format!("{}/api/logs/search?{query}", gw.url))
        .bearer_auth(ADMIN_KEY)
        .header("accept", "application/json, text/plain, */*")
        .header("accept-encoding", "gzip, deflate, br")
        .header("referer", "http://fastgpt.local/account/model")
        .header("user-agent", "Mozilla/5.0")
        .header("content-type", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let v: Value = serde_json::from_str(&response.text().await.unwrap()).unwrap();
    assert_eq!(v["data"]["total"], 2);
    gw.stop().await;
}

#[tokio::test]
async fn relay_errors_fastgpt_relies_on() {
    let gw = fastgpt_gateway().await;
    gw.channel(
        json!({"type": 53, "name": "fake", "base_url": "", "models": ["gpt-4o"],
        "model_mapping": {}, "key": "", "priority": 1}),
    )
    .await;
    let a = sdk_post(
        &gw,
        "/v1/chat/completions",
        &json!({"model": "no-such-model", "messages": [{"role": "user", "content": "hi"}], "stream": true}),
        None,
    )
    .await;
    assert_eq!(a.status, 404, "{}", a.text);
    let error = &a.json["error"];
    assert!(
        error["message"].as_str().unwrap().contains("no-such-model"),
        "{}",
        a.text
    );
    assert!(error["type"].is_string());
    assert!(error.get("code").is_some());

    for body in [
        r#"{"model":"gpt-4o","messages":"#,
        r#"{"model":"gpt-4o","messages":[],"stream":"yes"}"#,
        r#"{"messages":[{"role":"user","content":"hi"}]}"#,
        "",
    ] {
        let a = gw.post_raw("/v1/chat/completions", ADMIN_KEY, body).await;
        assert_eq!(a.status, 400, "{body}: {}", a.text);
        assert!(a.json["error"]["message"].is_string());
    }
    let a = gw
        .post_raw("/v1/embeddings", ADMIN_KEY, r#"{"model":"gpt-4o"}"#)
        .await;
    assert!(
        !a.status.is_server_error(),
        "embeddings without input: {} {}",
        a.status,
        a.text
    );
    let a = sdk_post(
        &gw,
        "/v1/chat/completions",
        &json!({"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]}),
        Some(987_654),
    )
    .await;
    assert!(
        !a.status.is_server_error() || a.status == 503,
        "an unknown pinned channel is 503 at worst: {}",
        a.status
    );
    let a = gw
        .post(
            "/v1/chat/completions",
            "wrong-key",
            &json!({"model": "gpt-4o", "messages": []}),
        )
        .await;
    assert_eq!(a.status, 401);
    assert!(a.json["error"]["message"].is_string());
    gw.stop().await;
}
