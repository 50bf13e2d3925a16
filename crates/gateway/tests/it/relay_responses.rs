//! The OpenAI Responses API over sockets: Responses clients served by Chat
//! channels (converted, with the gateway keeping the conversation for
//! `previous_response_id`), by native Responses channels (forwarded and
//! pinned to the channel that created the response), Chat clients on
//! Responses-only models, the stored-response endpoints, and 404s.

use std::time::Duration;

use serde_json::{Value, json};

use crate::support::anthropic::sse_events;
use crate::support::upstream::{chat_json, chat_sse, frames_text};
use crate::support::{FakeUpstream, Gateway, Reply};

const MODEL: &str = "gpt-4.1";

/// A gateway with one OpenAI-compatible channel of `channel_type` (1
/// serves the Responses API natively, 36 only Chat) serving `model`.
async fn setup(upstream: &FakeUpstream, model: &str, channel_type: i64) -> (Gateway, String) {
    let gw = Gateway::start(&[]).await;
    gw.model(model).await;
    gw.channel(json!({"type": channel_type, "name": "up", "key": "sk-up", "base_url": upstream.base_url(), "models": [model]}))
        .await;
    let key = gw.token("team", json!({"name": "ci"})).await;
    (gw, key)
}

async fn get(gw: &Gateway, path: &str, key: &str) -> crate::support::gateway::Answer {
    let req = gw.http.get(format!("{}{path}", gw.url)).bearer_auth(key);
    Gateway::answer(req.send().await.unwrap()).await
}

async fn delete(gw: &Gateway, path: &str, key: &str) -> crate::support::gateway::Answer {
    let req = gw.http.delete(format!("{}{path}", gw.url)).bearer_auth(key);
    Gateway::answer(req.send().await.unwrap()).await
}

/// Wait until the stored response `id` can be read.
async fn stored(gw: &Gateway, id: &str, key: &str) -> Value {
    for _ in 0..100 {
        let a = get(gw, &format!("/v1/responses/{id}"), key).await;
        if a.status == 200 {
            return a.json;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("response {id} was never stored");
}

fn responses_json(id: &str, text: &str) -> Value {
    json!({"id": id, "object": "response", "created_at": 1, "status": "completed", "model": "gpt-5-mini",
        "output": [{"type": "message", "id": "msg_1", "role": "assistant", "status": "completed",
            "content": [{"type": "output_text", "text": text, "annotations": []}]}],
        "usage": {"input_tokens": 5, "output_tokens": 2, "total_tokens": 7}})
}

#[tokio::test]
async fn responses_client_on_chat_channel_keeps_the_conversation() {
    let up = FakeUpstream::start(|_, n| {
        let text = if n == 0 {
            "Paris."
        } else {
            "About 2.1 million."
        };
        Reply::Json(200, chat_json(MODEL, text, Some((10, 3))))
    })
    .await;
    let (gw, key) = setup(&up, MODEL, 36).await;
    let first = gw
        .post(
            "/v1/responses",
            &key,
            &json!({"model": MODEL, "instructions": "Be brief.", "input": "Capital of France?"}),
        )
        .await;
    assert_eq!(first.status, 200, "{}", first.text);
    assert_eq!(first.json["object"], "response");
    assert_eq!(first.json["status"], "completed");
    assert_eq!(first.json["model"], MODEL);
    assert_eq!(first.json["output"][0]["content"][0]["text"], "Paris.");
    assert_eq!(first.json["usage"]["input_tokens"], 10);
    let id = first.json["id"].as_str().unwrap().to_owned();
    let sent = &up.received()[0];
    assert_eq!(sent.path, "/v1/chat/completions");
    assert_eq!(
        sent.body["messages"][0],
        json!({"role": "system", "content": "Be brief."})
    );

    assert_eq!(
        stored(&gw, &id, &key).await["output"][0]["content"][0]["text"],
        "Paris."
    );
    let items = get(
        &gw,
        &format!("/v1/responses/{id}/input_items?order=asc"),
        &key,
    )
    .await;
    assert_eq!(items.status, 200, "{}", items.text);
    assert_eq!(items.json["data"][0]["content"], "Capital of France?");

    let second = gw
        .post(
            "/v1/responses",
            &key,
            &json!({"model": MODEL, "previous_response_id": id, "input": "Its population?"}),
        )
        .await;
    assert_eq!(second.status, 200, "{}", second.text);
    assert_eq!(
        second.json["output"][0]["content"][0]["text"],
        "About 2.1 million."
    );
    let history: Vec<(String, String)> = up.received()[1].body["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            let content = match &m["content"] {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            (m["role"].as_str().unwrap().to_owned(), content)
        })
        .collect();
    assert_eq!(
        history[0],
        ("user".to_owned(), "Capital of France?".to_owned())
    );
    assert_eq!(history[1].0, "assistant");
    assert!(history[1].1.contains("Paris."), "{history:?}");
    assert_eq!(
        history[2],
        ("user".to_owned(), "Its population?".to_owned())
    );

    // Another group cannot see it; deleting makes it unknown.
    let other = gw.token("other", json!({"name": "x"})).await;
    assert_eq!(
        get(&gw, &format!("/v1/responses/{id}"), &other)
            .await
            .status,
        404
    );
    let d = delete(&gw, &format!("/v1/responses/{id}"), &key).await;
    assert_eq!(d.status, 200, "{}", d.text);
    assert_eq!(d.json["deleted"], true);
    let gone = get(&gw, &format!("/v1/responses/{id}"), &key).await;
    assert_eq!(gone.status, 404);
    assert_eq!(gone.json["error"]["type"], "invalid_request_error");
}

#[tokio::test]
async fn streamed_responses_on_chat_channel_are_stored() {
    let up = FakeUpstream::start(|_, _| {
        Reply::Sse(chat_sse(
            MODEL,
            &["Hel", "lo"],
            Some((8, 2)),
            Duration::from_millis(5),
        ))
    })
    .await;
    let (gw, key) = setup(&up, MODEL, 36).await;
    let a = gw
        .post(
            "/v1/responses",
            &key,
            &json!({"model": MODEL, "stream": true, "input": "hi"}),
        )
        .await;
    assert_eq!(a.status, 200, "{}", a.text);
    let events = sse_events(&a.text);
    let names: Vec<&str> = events.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names.first(), Some(&"response.created"));
    assert_eq!(names.last(), Some(&"response.completed"));
    let text: String = events
        .iter()
        .filter(|(n, _)| n == "response.output_text.delta")
        .map(|(_, v)| v["delta"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(text, "Hello");
    let completed = &events.last().unwrap().1["response"];
    assert_eq!(completed["usage"]["output_tokens"], 2);
    let id = completed["id"].as_str().unwrap();
    assert_eq!(stored(&gw, id, &key).await["status"], "completed");
    let row = gw.log_row(&a.request_id()).await;
    assert_eq!(row["usage"]["input_tokens"], 8);
    assert_eq!(row["endpoint"], "/v1/responses");
}

#[tokio::test]
async fn native_responses_are_pinned_to_their_channel() {
    let a_up = FakeUpstream::start(|r, n| match r.path.as_str() {
        "/v1/responses" => Reply::Json(200, responses_json(&format!("resp_a{n}"), "from A")),
        p if p.ends_with("/input_items") => Reply::Json(
            200,
            json!({"object": "list", "data": [], "has_more": false}),
        ),
        _ => Reply::Json(200, responses_json("resp_a0", "from A")),
    })
    .await;
    let b_up = FakeUpstream::start(|_, n| {
        Reply::Json(200, responses_json(&format!("resp_b{n}"), "from B"))
    })
    .await;
    let gw = Gateway::start(&[]).await;
    let model = "gpt-5-mini";
    gw.model(model).await;
    let a_id = gw
        .channel(json!({"type": 1, "name": "a", "key": "sk-a", "base_url": a_up.base_url(), "models": [model], "priority": 10}))
        .await;
    gw.channel(json!({"type": 1, "name": "b", "key": "sk-b", "base_url": b_up.base_url(), "models": [model], "priority": 10}))
        .await;
    let key = gw.token("team", json!({"name": "ci"})).await;

    // Find a first answer from channel A.
    let mut first = None;
    for _ in 0..40 {
        let r = gw
            .post(
                "/v1/responses",
                &key,
                &json!({"model": model, "input": "hi"}),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        if r.json["output"][0]["content"][0]["text"] == "from A" {
            first = Some(r);
            break;
        }
    }
    let first = first.expect("channel A never chosen");
    let id = first.json["id"].as_str().unwrap().to_owned();
    assert!(id.starts_with("resp_a"));
    assert_eq!(first.json["model"], model);
    let row = gw.log_row(&first.request_id()).await;
    assert_eq!(row["channel"], a_id);

    let a_before = a_up.hits();
    for _ in 0..6 {
        let r = gw
            .post(
                "/v1/responses",
                &key,
                &json!({"model": model, "input": "more", "previous_response_id": id}),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(r.json["output"][0]["content"][0]["text"], "from A");
    }
    assert_eq!(a_up.hits(), a_before + 6);
    let last = a_up.received().last().unwrap().clone();
    assert_eq!(last.body["previous_response_id"], id);

    let got = get(&gw, &format!("/v1/responses/{id}"), &key).await;
    assert_eq!(got.status, 200, "{}", got.text);
    assert_eq!(
        a_up.received().last().unwrap().path,
        format!("/v1/responses/{id}")
    );
    assert_eq!(
        a_up.received().last().unwrap().headers["authorization"],
        "Bearer sk-a"
    );
    let items = get(
        &gw,
        &format!("/v1/responses/{id}/input_items?limit=5"),
        &key,
    )
    .await;
    assert_eq!(items.status, 200);
    assert_eq!(
        a_up.received().last().unwrap().path,
        format!("/v1/responses/{id}/input_items?limit=5")
    );
}

#[tokio::test]
async fn chat_client_on_responses_only_model() {
    let up = FakeUpstream::start(|_, _| Reply::Json(200, responses_json("resp_up", "Hi!"))).await;
    let (gw, key) = setup(&up, "gpt-5-mini", 1).await;
    let a = gw
        .post(
            "/v1/chat/completions",
            &key,
            &json!({"model": "gpt-5-mini", "messages": [{"role": "user", "content": "hi"}]}),
        )
        .await;
    assert_eq!(a.status, 200, "{}", a.text);
    assert_eq!(a.json["object"], "chat.completion");
    assert_eq!(a.json["choices"][0]["message"]["content"], "Hi!");
    assert_eq!(a.json["usage"]["prompt_tokens"], 5);
    let sent = &up.received()[0];
    assert_eq!(sent.path, "/v1/responses");
    assert_eq!(sent.body["model"], "gpt-5-mini");
    assert_eq!(sent.body["input"][0]["role"], "user");
}

#[tokio::test]
async fn unknown_response_ids_are_404() {
    let up = FakeUpstream::start(|_, _| Reply::Json(200, chat_json(MODEL, "x", None))).await;
    let (gw, key) = setup(&up, MODEL, 36).await;
    let a = gw
        .post(
            "/v1/responses",
            &key,
            &json!({"model": MODEL, "input": "hi", "previous_response_id": "resp_nope"}),
        )
        .await;
    assert_eq!(a.status, 404, "{}", a.text);
    assert_eq!(a.json["error"]["code"], "previous_response_not_found");
    assert_eq!(up.hits(), 0);
    for path in [
        "/v1/responses/resp_nope",
        "/v1/responses/resp_nope/input_items",
    ] {
        let a = get(&gw, path, &key).await;
        assert_eq!(a.status, 404, "{path}: {}", a.text);
    }
    assert_eq!(
        delete(&gw, "/v1/responses/resp_nope", &key).await.status,
        404
    );
    let a = get(&gw, "/v1/responses/resp_nope", "sk-wrong").await;
    assert_eq!(a.status, 401);
}

/// A native Responses stream as OpenAI writes it (`type` first in every
/// event), its text deltas `gap` apart, ending with usage 7 / 3.
fn paced_responses_sse(pieces: &[&str], gap: Duration) -> Vec<(Duration, String)> {
    let frame = |gap: Duration, data: String| {
        let name = data
            .split('"')
            .nth(3)
            .expect("the type comes first")
            .to_owned();
        (gap, format!("event: {name}\ndata: {data}\n\n"))
    };
    let response = |status: &str, rest: &str| {
        format!(
            r#"{{"id":"resp_up1","object":"response","status":"{status}","model":"{MODEL}"{rest}}}"#
        )
    };
    let mut frames = vec![
        frame(Duration::ZERO, format!(
            r#"{{"type":"response.created","sequence_number":0,"response":{}}}"#,
            response("in_progress", r#","output":[]"#)
        )),
        frame(Duration::ZERO, r#"{"type":"response.output_item.added","sequence_number":1,"output_index":0,"item":{"id":"msg_1","type":"message","role":"assistant","status":"in_progress","content":[]}}"#.to_owned()),
    ];
    for (n, piece) in pieces.iter().enumerate() {
        frames.push(frame(gap, format!(
            r#"{{"type":"response.output_text.delta","sequence_number":{},"item_id":"msg_1","output_index":0,"content_index":0,"delta":"{piece}"}}"#,
            n + 2
        )));
    }
    let text: String = pieces.concat();
    frames.push(frame(gap, format!(
        r#"{{"type":"response.completed","sequence_number":{},"response":{}}}"#,
        pieces.len() + 2,
        response("completed", &format!(
            r#","output":[{{"id":"msg_1","type":"message","role":"assistant","status":"completed","content":[{{"type":"output_text","text":"{text}","annotations":[]}}]}}],"usage":{{"input_tokens":7,"output_tokens":3,"total_tokens":10}}"#
        ))
    )));
    frames
}

#[tokio::test]
async fn native_response_streams_reach_the_client_byte_for_byte_and_are_metered() {
    // Paced deltas arrive one a read: after the first output each goes on as
    // it came.
    let pieces = ["one ", "two ", "three"];
    let gap = Duration::from_millis(15);
    let up = FakeUpstream::start(move |_, _| Reply::Sse(paced_responses_sse(&pieces, gap))).await;
    let (gw, key) = setup(&up, MODEL, 1).await;
    let a = gw
        .post(
            "/v1/responses",
            &key,
            &json!({"model": MODEL, "input": "count", "stream": true}),
        )
        .await;
    assert_eq!(a.status, 200, "{}", a.text);
    let expected = frames_text(paced_responses_sse(&pieces, gap));
    assert_eq!(a.text, expected, "the upstream's stream as it came");
    let row = gw.log_row(&a.request_id()).await;
    assert_eq!(row["code"], 200);
    assert_eq!(row["usage_estimated"], false);
    assert_eq!(row["usage"]["input_tokens"], 7);
    assert_eq!(row["usage"]["output_tokens"], 3);
    gw.stop().await;
}
