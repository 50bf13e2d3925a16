//! Chat, completions and embeddings through an OpenAI-compatible channel:
//! bodies, model rewriting, streaming event by event, usage (reported or
//! estimated) and the log rows they leave.

use std::time::Duration;

use serde_json::{Value, json};

use crate::support::admin::set_option;
use crate::support::upstream::{chat_json, chat_sse, frames_text};
use crate::support::{FakeUpstream, Gateway, Reply};

/// A gateway with one OpenAI channel on `upstream` serving `gpt-4o`, and a token.
fn chat(stream: bool) -> Value {
    json!({"model": "gpt-4o", "stream": stream, "messages": [{"role": "user", "content": "Say hello"}]})
}

/// SSE `data:` payloads of a response body.
fn sse_data(text: &str) -> Vec<String> {
    text.split("\n\n")
        .filter_map(|frame| {
            frame
                .lines()
                .find_map(|l| l.strip_prefix("data: "))
                .map(str::to_owned)
        })
        .collect()
}

#[tokio::test]
async fn non_stream_chat_with_upstream_usage() {
    let up = FakeUpstream::start(|_, _| {
        Reply::Json(200, chat_json("gpt-4o-2024-08-06", "Hello!", Some((9, 3))))
    })
    .await;
    let (gw, key) = Gateway::with_one_channel(&up, json!({})).await;
    let a = gw.post("/v1/chat/completions", &key, &chat(false)).await;
    assert_eq!(a.status, 200, "{}", a.text);
    assert_eq!(a.json["choices"][0]["message"]["content"], "Hello!");
    assert_eq!(
        a.json["model"], "gpt-4o",
        "model is rewritten to the requested name"
    );
    let sent = &up.received()[0];
    assert_eq!(sent.path, "/v1/chat/completions");
    assert_eq!(sent.headers["authorization"], "Bearer sk-upstream");
    assert_eq!(
        sent.body,
        chat(false),
        "same-protocol body is forwarded unchanged"
    );
    let row = gw.log_row(&a.request_id()).await;
    assert_eq!(row["code"], 200);
    assert_eq!(row["usage"]["input_tokens"], 9);
    assert_eq!(row["usage"]["output_tokens"], 3);
    assert_eq!(row["usage"]["total_tokens"], 12);
    assert_eq!(row["usage_estimated"], false);
    assert_eq!(row["group"], "team");
    assert_eq!(row["token_name"], "ci");
    assert_eq!(row["model"], "gpt-4o");
    assert_eq!(row["upstream_id"], "chatcmpl-up1");
    assert_eq!(row["endpoint"], "/v1/chat/completions");
    assert_eq!(row["mode"], 1);
    assert_eq!(row["request_id"], a.request_id());
    gw.stop().await;
}

#[tokio::test]
async fn non_stream_chat_without_usage_is_estimated() {
    let up = FakeUpstream::start(|_, _| {
        Reply::Json(200, chat_json("gpt-4o", "Hello there, general.", None))
    })
    .await;
    let (gw, key) = Gateway::with_one_channel(&up, json!({})).await;
    let a = gw.post("/v1/chat/completions", &key, &chat(false)).await;
    assert_eq!(a.status, 200);
    assert!(
        a.json.get("usage").is_none(),
        "the gateway does not invent usage in the client's body"
    );
    let row = gw.log_row(&a.request_id()).await;
    assert_eq!(row["usage_estimated"], true);
    assert!(row["usage"]["input_tokens"].as_i64().unwrap() > 3);
    assert!(row["usage"]["output_tokens"].as_i64().unwrap() >= 4);
    gw.stop().await;
}

#[tokio::test]
async fn stream_forwards_events_hides_unrequested_usage_and_meters_it() {
    let up = FakeUpstream::start(|_, _| {
        Reply::Sse(chat_sse(
            "gpt-4o-2024-08-06",
            &["Hel", "lo", "!"],
            Some((11, 3)),
            Duration::from_millis(5),
        ))
    })
    .await;
    let (gw, key) = Gateway::with_one_channel(&up, json!({})).await;
    let a = gw.post("/v1/chat/completions", &key, &chat(true)).await;
    assert_eq!(a.status, 200);
    assert_eq!(a.headers["content-type"], "text/event-stream");
    let data = sse_data(&a.text);
    assert_eq!(data.last().unwrap(), "[DONE]");
    let chunks: Vec<Value> = data[..data.len() - 1]
        .iter()
        .map(|d| serde_json::from_str(d).unwrap())
        .collect();
    assert_eq!(
        chunks.len(),
        5,
        "role + 3 content + finish; usage chunk hidden: {}",
        a.text
    );
    assert!(chunks.iter().all(|c| c["model"] == "gpt-4o"));
    assert!(chunks.iter().all(|c| c.get("usage").is_none()));
    let text: String = chunks
        .iter()
        .filter_map(|c| c["choices"][0]["delta"]["content"].as_str())
        .collect();
    assert_eq!(text, "Hello!");
    let sent = &up.received()[0].body;
    assert_eq!(
        sent["stream_options"]["include_usage"], true,
        "the gateway asks the upstream for usage"
    );
    let row = gw.log_row(&a.request_id()).await;
    assert_eq!(
        (
            row["usage"]["input_tokens"].as_i64(),
            row["usage"]["output_tokens"].as_i64()
        ),
        (Some(11), Some(3))
    );
    assert_eq!(row["usage_estimated"], false);
    assert_eq!(row["stream"], true);
    assert!(row["ttfb_milliseconds"].as_i64().unwrap() >= 1);
    gw.stop().await;
}

#[tokio::test]
async fn stream_shows_usage_chunk_when_client_asked() {
    let up = FakeUpstream::start(|_, _| {
        Reply::Sse(chat_sse("gpt-4o", &["a"], Some((2, 1)), Duration::ZERO))
    })
    .await;
    let (gw, key) = Gateway::with_one_channel(&up, json!({})).await;
    let mut body = chat(true);
    body["stream_options"] = json!({"include_usage": true});
    let a = gw.post("/v1/chat/completions", &key, &body).await;
    let data = sse_data(&a.text);
    let usage: Value = serde_json::from_str(&data[data.len() - 2]).unwrap();
    assert_eq!(usage["usage"]["total_tokens"], 3);
    assert_eq!(
        up.received()[0].body,
        body,
        "nothing to patch when the client asked for usage itself"
    );
    gw.stop().await;
}

#[tokio::test]
async fn stream_without_upstream_usage_is_estimated() {
    let up = FakeUpstream::start(|_, _| {
        Reply::Sse(chat_sse(
            "gpt-4o",
            &["one ", "two ", "three"],
            None,
            Duration::ZERO,
        ))
    })
    .await;
    let (gw, key) = Gateway::with_one_channel(&up, json!({})).await;
    let a = gw.post("/v1/chat/completions", &key, &chat(true)).await;
    assert_eq!(a.status, 200);
    let row = gw.log_row(&a.request_id()).await;
    assert_eq!(row["usage_estimated"], true);
    assert_eq!(row["usage"]["output_tokens"], 3);
    gw.stop().await;
}

#[tokio::test]
async fn failed_stream_keeps_what_the_client_got_in_the_log_detail() {
    let up = FakeUpstream::start(|_, _| {
        let mut frames = chat_sse("gpt-4o-up", &["Hel", "lo"], None, Duration::ZERO);
        frames.truncate(3);
        let broke = json!({"error": {"message": "upstream broke"}});
        frames.push((Duration::ZERO, format!("data: {broke}\n\n")));
        Reply::Sse(frames)
    })
    .await;
    let (gw, key) = Gateway::with_one_channel(&up, json!({})).await;
    let a = gw.post("/v1/chat/completions", &key, &chat(true)).await;
    assert_eq!(a.status, 200, "committed at the first event");
    assert!(
        a.text.contains("upstream stream error: upstream broke"),
        "{}",
        a.text
    );
    let row = gw.log_row(&a.request_id()).await;
    assert_eq!(row["code"], 502);
    assert_eq!(row["usage_estimated"], true);
    assert_eq!(
        row["usage"]["output_tokens"], 1,
        "\"Hello\", read back from the stream sent"
    );
    let detail = gw
        .admin_ok("GET", &format!("/api/logs/detail/{}", row["id"]), None)
        .await;
    let kept = detail["response_body"].as_str().unwrap();
    assert_eq!(
        kept, a.text,
        "the whole stream, the gateway's closing error event included"
    );
    assert!(!kept.contains("gpt-4o-up"), "as sent: the model rewritten");

    set_option(&gw, "LogDetailResponseBodyMaxSize", "100").await;
    let a = gw.post("/v1/chat/completions", &key, &chat(true)).await;
    let row = gw.log_row(&a.request_id()).await;
    let detail = gw
        .admin_ok("GET", &format!("/api/logs/detail/{}", row["id"]), None)
        .await;
    assert_eq!(detail["response_body"], format!("{}...", &a.text[..100]));
    assert_eq!(detail["response_body_truncated"], true);
    gw.stop().await;
}

#[tokio::test]
async fn plain_events_reach_the_client_byte_for_byte_and_are_still_counted() {
    // The upstream names the requested model and paces its events, so each
    // read after the first output is sent on as it came, without the decoder.
    let pieces = ["one ", "two ", "three"];
    let gap = Duration::from_millis(15);
    let up = FakeUpstream::start(move |r, _| {
        let usage = (r.body["messages"][0]["content"] != "no usage").then_some((5, 3));
        Reply::Sse(chat_sse("gpt-4o", &pieces, usage, gap))
    })
    .await;
    let (gw, key) = Gateway::with_one_channel(&up, json!({})).await;
    set_option(&gw, "SaveAllLogDetail", "true").await;
    let mut body = chat(true);
    body["stream_options"] = json!({"include_usage": true});
    let a = gw.post("/v1/chat/completions", &key, &body).await;
    assert_eq!(a.status, 200);
    let expected = frames_text(chat_sse("gpt-4o", &pieces, Some((5, 3)), gap));
    assert_eq!(a.text, expected, "the upstream's stream, unchanged");
    let row = gw.log_row(&a.request_id()).await;
    assert_eq!(row["code"], 200);
    assert_eq!(row["usage_estimated"], false);
    assert_eq!(row["usage"]["input_tokens"], 5);
    assert_eq!(row["usage"]["output_tokens"], 3);
    let detail = gw
        .admin_ok("GET", &format!("/api/logs/detail/{}", row["id"]), None)
        .await;
    assert_eq!(
        detail["response_body"], a.text,
        "the detail has every event"
    );

    // Without a usage report the output is estimated from the events sent.
    body["messages"][0]["content"] = json!("no usage");
    let a = gw.post("/v1/chat/completions", &key, &body).await;
    assert!(a.text.contains("\"content\":\"three\""), "{}", a.text);
    let row = gw.log_row(&a.request_id()).await;
    assert_eq!(row["usage_estimated"], true);
    assert_eq!(row["usage"]["output_tokens"], 3, "one two three");
    gw.stop().await;
}

#[tokio::test]
async fn stream_events_arrive_as_they_are_produced() {
    let up = FakeUpstream::start(|_, _| {
        Reply::Sse(chat_sse(
            "gpt-4o",
            &["a", "b", "c", "d"],
            Some((1, 4)),
            Duration::from_millis(150),
        ))
    })
    .await;
    let (gw, key) = Gateway::with_one_channel(&up, json!({})).await;
    let started = std::time::Instant::now();
    let mut response = gw
        .http
        .post(format!("{}/v1/chat/completions", gw.url))
        .bearer_auth(&key)
        .body(chat(true).to_string())
        .send()
        .await
        .unwrap();
    let first = response.chunk().await.unwrap().unwrap();
    let first_at = started.elapsed();
    assert!(
        String::from_utf8_lossy(&first).contains("\"role\":\"assistant\""),
        "the role chunk is forwarded as soon as it arrives"
    );
    assert!(
        first_at < Duration::from_millis(120),
        "first byte after {first_at:?}: not held back"
    );
    let second = response.chunk().await.unwrap().unwrap();
    assert!(String::from_utf8_lossy(&second).contains("\"content\":\"a\""));
    assert!(
        started.elapsed() >= Duration::from_millis(140),
        "content arrives when the upstream produces it"
    );
    while response.chunk().await.unwrap().is_some() {}
    assert!(started.elapsed() >= Duration::from_millis(600));
    gw.stop().await;
}

#[tokio::test]
async fn model_mapping_sends_upstream_name_and_answers_requested_name() {
    let up = FakeUpstream::start(|r, _| {
        Reply::Json(
            200,
            chat_json(r.body["model"].as_str().unwrap(), "ok", Some((1, 1))),
        )
    })
    .await;
    let (gw, key) = Gateway::with_one_channel(
        &up,
        json!({"model_mapping": {"gpt-4o": "gpt-4o-2024-11-20"}}),
    )
    .await;
    let a = gw.post("/v1/chat/completions", &key, &chat(false)).await;
    assert_eq!(a.status, 200);
    assert_eq!(up.received()[0].body["model"], "gpt-4o-2024-11-20");
    assert_eq!(a.json["model"], "gpt-4o");
    let row = gw.log_row(&a.request_id()).await;
    assert_eq!(row["actual_model"], "gpt-4o-2024-11-20");
    gw.stop().await;
}

#[tokio::test]
async fn embeddings_float_and_base64_pass_through() {
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
            "usage": {"prompt_tokens": 5, "total_tokens": 5}}),
        )
    })
    .await;
    let gw = Gateway::start(&[]).await;
    gw.model("text-embedding-3-small").await;
    gw.channel(json!({"type": 1, "name": "e", "base_url": up.base_url(), "models": ["text-embedding-3-small"]})).await;
    let key = gw.token("team", json!({"name": "ci"})).await;
    for (format, expected) in [
        ("float", json!([1.0, 2.0])),
        ("base64", json!("AACAPwAAAEA=")),
    ] {
        let body = json!({"model": "text-embedding-3-small", "input": ["hello"], "encoding_format": format});
        let a = gw.post("/v1/embeddings", &key, &body).await;
        assert_eq!(a.status, 200, "{}", a.text);
        assert_eq!(a.json["data"][0]["embedding"], expected);
        assert_eq!(up.received().last().unwrap().path, "/v1/embeddings");
        let row = gw.log_row(&a.request_id()).await;
        assert_eq!(row["usage"]["input_tokens"], 5);
        assert_eq!(row["mode"], 3);
    }
    gw.stop().await;
}

#[tokio::test]
async fn legacy_completions_stream_and_non_stream() {
    let up = FakeUpstream::start(|r, _| {
        if r.body["stream"] == true {
            Reply::Sse(vec![
                (Duration::ZERO, "data: {\"id\":\"c\",\"model\":\"m\",\"choices\":[{\"text\":\"hi\",\"index\":0}]}\n\n".into()),
                (Duration::ZERO, "data: {\"id\":\"c\",\"model\":\"m\",\"choices\":[],\"usage\":{\"prompt_tokens\":2,\"completion_tokens\":1,\"total_tokens\":3}}\n\n".into()),
                (Duration::ZERO, "data: [DONE]\n\n".into()),
            ])
        } else {
            Reply::Json(200, json!({"id": "c", "object": "text_completion", "model": "m",
                "choices": [{"text": "hi", "index": 0, "finish_reason": "stop"}],
                "usage": {"prompt_tokens": 2, "completion_tokens": 1, "total_tokens": 3}}))
        }
    })
    .await;
    let (gw, key) = Gateway::with_one_channel(&up, json!({})).await;
    for stream in [false, true] {
        let a = gw
            .post(
                "/v1/completions",
                &key,
                &json!({"model": "gpt-4o", "prompt": "x", "stream": stream}),
            )
            .await;
        assert_eq!(a.status, 200, "{}", a.text);
        assert!(a.text.contains("\"text\":\"hi\""));
        let row = gw.log_row(&a.request_id()).await;
        assert_eq!(row["usage"]["total_tokens"], 3);
        assert_eq!(row["mode"], 2);
    }
    gw.stop().await;
}

#[tokio::test]
async fn fake_channel_answers_without_network() {
    let gw = Gateway::start(&["--disable-model-config", "true"]).await;
    gw.channel(json!({"type": 53, "name": "fake", "models": ["m"], "configs": {"static_text": "synthetic", "stream_chunks": 3, "usage": {"input_tokens": 7, "output_tokens": 5}}})).await;
    let key = gw.token("g", json!({"name": "t"})).await;
    let a = gw
        .post(
            "/v1/chat/completions",
            &key,
            &json!({"model": "m", "messages": [{"role": "user", "content": "x"}]}),
        )
        .await;
    assert_eq!(a.json["choices"][0]["message"]["content"], "synthetic");
    let a = gw
        .post(
            "/v1/chat/completions",
            &key,
            &json!({"model": "m", "stream": true, "messages": []}),
        )
        .await;
    let data = sse_data(&a.text);
    assert_eq!(
        data.len(),
        1 + 3 + 1 + 1,
        "role, 3 chunks, finish, [DONE]: {}",
        a.text
    );
    let row = gw.log_row(&a.request_id()).await;
    assert_eq!(
        (
            row["usage"]["input_tokens"].as_i64(),
            row["usage"]["output_tokens"].as_i64()
        ),
        (Some(7), Some(5))
    );
    gw.stop().await;
}

#[tokio::test]
async fn models_endpoint_lists_what_the_token_can_use() {
    let up = FakeUpstream::start(|_, _| Reply::Json(200, chat_json("x", "y", None))).await;
    let gw = Gateway::start(&[]).await;
    for m in ["gpt-4o", "gpt-4o-mini", "secret"] {
        gw.model(m).await;
    }
    gw.channel(json!({"type": 1, "name": "a", "base_url": up.base_url(), "models": ["gpt-4o", "gpt-4o-mini", "not-configured"]})).await;
    gw.channel(json!({"type": 1, "name": "b", "base_url": up.base_url(), "models": ["secret"], "sets": ["vip"]})).await;
    let all = gw.token("team", json!({"name": "all"})).await;
    let narrow = gw
        .token("team", json!({"name": "narrow", "models": ["GPT-4O-MINI"]}))
        .await;
    let ids = |v: &Value| {
        v["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["id"].as_str().unwrap().to_owned())
            .collect::<Vec<_>>()
    };
    let a = gw
        .http
        .get(format!("{}/v1/models", gw.url))
        .bearer_auth(&all)
        .send()
        .await
        .unwrap();
    let v: Value = a.json_value().await;
    assert_eq!(ids(&v), vec!["gpt-4o", "gpt-4o-mini"]);
    assert_eq!(v["data"][0]["owned_by"], "test");
    let v: Value = gw
        .http
        .get(format!("{}/v1/models", gw.url))
        .bearer_auth(&narrow)
        .send()
        .await
        .unwrap()
        .json_value()
        .await;
    assert_eq!(ids(&v), vec!["gpt-4o-mini"]);
    let r = gw
        .http
        .get(format!("{}/v1/models/gpt-4o", gw.url))
        .bearer_auth(&narrow)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let r = gw
        .http
        .get(format!("{}/v1/models/gpt-4o", gw.url))
        .bearer_auth(&all)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    gw.stop().await;
}

trait JsonValue {
    async fn json_value(self) -> Value;
}

impl JsonValue for reqwest::Response {
    async fn json_value(self) -> Value {
        serde_json::from_str(&self.text().await.unwrap()).unwrap()
    }
}

#[tokio::test]
async fn server_timing_and_metrics_report_the_gateway_overhead() {
    let up = FakeUpstream::start(|_, _| {
        Reply::Delay(
            Duration::from_millis(200),
            Box::new(Reply::Json(200, chat_json("gpt-4o", "ok", Some((1, 1))))),
        )
    })
    .await;
    let (gw, key) = Gateway::with_one_channel(&up, json!({})).await;
    let a = gw.post("/v1/chat/completions", &key, &chat(false)).await;
    assert_eq!(a.status, 200);
    let timing = a.headers["server-timing"].to_str().unwrap().to_owned();
    let dur = |name: &str| -> f64 {
        let part = timing.split(", ").find(|p| p.starts_with(name)).unwrap();
        part.split("dur=").nth(1).unwrap().parse().unwrap()
    };
    assert!(dur("upstream") >= 200.0, "{timing}");
    assert!(dur("gateway") < dur("upstream"), "{timing}");
    let metrics = gw
        .http
        .get(format!("{}/metrics", gw.url))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("switchyard_gateway_overhead_seconds_bucket"),
        "{metrics}"
    );
    assert!(
        metrics.contains(r#"switchyard_requests_total{mode="chat",code="2xx"}"#),
        "{metrics}"
    );
    assert!(metrics.contains("switchyard_build_info"));
    gw.stop().await;
}

#[tokio::test]
async fn think_split_plugin_moves_think_blocks_to_reasoning() {
    let up = FakeUpstream::start(|r, _| {
        if r.body["stream"] == true {
            Reply::Sse(chat_sse(
                "r1",
                &[
                    "<thi",
                    "nk>\nweighing",
                    " options</th",
                    "ink>\n\nThe answer",
                    " is 4.",
                ],
                Some((5, 9)),
                Duration::from_millis(2),
            ))
        } else {
            Reply::Json(
                200,
                chat_json("r1", "<think>short</think>\nFour.", Some((5, 4))),
            )
        }
    })
    .await;
    let gw = Gateway::start(&[]).await;
    gw.admin_ok(
        "POST",
        "/api/model_config/r1",
        Some(json!({"owner": "test", "type": 0, "plugin": {"think-split": {"enable": true}}})),
    )
    .await;
    gw.model("plain").await;
    gw.channel(json!({"type": 1, "name": "up", "key": "k", "base_url": up.base_url(), "models": ["r1", "plain"]}))
        .await;
    let key = gw.token("team", json!({"name": "ci"})).await;

    let a = gw
        .post(
            "/v1/chat/completions",
            &key,
            &json!({"model": "r1", "messages": [{"role": "user", "content": "2+2?"}]}),
        )
        .await;
    assert_eq!(a.status, 200, "{}", a.text);
    assert_eq!(a.json["choices"][0]["message"]["content"], "Four.");
    assert_eq!(
        a.json["choices"][0]["message"]["reasoning_content"],
        "short"
    );

    let body =
        json!({"model": "r1", "stream": true, "messages": [{"role": "user", "content": "2+2?"}]});
    let a = gw.post("/v1/chat/completions", &key, &body).await;
    assert_eq!(a.status, 200, "{}", a.text);
    let (mut content, mut reasoning) = (String::new(), String::new());
    for line in a.text.lines().filter_map(|l| l.strip_prefix("data: ")) {
        let Ok(v) = serde_json::from_str::<Value>(line) else {
            continue;
        };
        let delta = &v["choices"][0]["delta"];
        content.push_str(delta["content"].as_str().unwrap_or_default());
        reasoning.push_str(delta["reasoning_content"].as_str().unwrap_or_default());
    }
    assert_eq!(content, "The answer is 4.");
    assert_eq!(reasoning, "weighing options");
    assert!(a.text.trim_end().ends_with("data: [DONE]"));

    // A model without the plugin is passed through untouched.
    let a = gw
        .post(
            "/v1/chat/completions",
            &key,
            &json!({"model": "plain", "messages": [{"role": "user", "content": "?"}]}),
        )
        .await;
    assert_eq!(
        a.json["choices"][0]["message"]["content"],
        "<think>short</think>\nFour."
    );
}
