//! The model catalogue (`/api/model_config*`, `/api/model_configs*`,
//! `/api/models/*`) and runtime options (`/api/option*`), including their
//! effect on the relay without a restart.

use serde_json::{Value, json};

use crate::support::admin::{admin, assert_error, chat, fake_channel, set_option};
use crate::support::upstream::chat_json;
use crate::support::{FakeUpstream, Gateway, Reply};

fn names(list: &Value) -> Vec<String> {
    let mut out: Vec<String> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["model"].as_str().unwrap().to_owned())
        .collect();
    out.sort();
    out
}

#[tokio::test]
async fn model_config_save_merge_and_delete_stops_routing() {
    let gw = Gateway::start(&[]).await;
    fake_channel(&gw, "fake", &["m1"], json!({})).await;
    let key = gw.token("team", json!({"name": "t"})).await;
    let a = gw.post("/v1/chat/completions", &key, &chat("m1")).await;
    assert_eq!(a.status, 404, "no model config yet: {}", a.text);

    let saved = gw
        .admin_ok(
            "POST",
            "/api/model_config/m1",
            Some(json!({"owner": "acme", "type": 1})),
        )
        .await;
    assert_eq!(saved["model"], "m1");
    assert_eq!(saved["owner"], "acme");
    gw.admin_ok(
        "POST",
        "/api/model_config/m1",
        Some(json!({"rpm": 10, "price": {"input_price": 0.5}})),
    )
    .await;
    let got = gw.admin_ok("GET", "/api/model_config/m1", None).await;
    assert_eq!(got["owner"], "acme", "first write kept");
    assert_eq!(got["type"], 1);
    assert_eq!(got["rpm"], 10, "second write applied");
    assert_eq!(got["price"]["input_price"], 0.5);
    assert!(got["created_at"].as_i64().unwrap() > 1_000_000_000_000);
    let a = gw.post("/v1/chat/completions", &key, &chat("m1")).await;
    assert_eq!(a.status, 200, "{}", a.text);

    gw.admin_ok("DELETE", "/api/model_config/m1", None).await;
    let a = admin(&gw, "GET", "/api/model_config/m1", None).await;
    assert_error(&a, 404, "record not found");
    let a = admin(&gw, "DELETE", "/api/model_config/m1", None).await;
    assert_error(&a, 404, "record not found");
    let a = gw.post("/v1/chat/completions", &key, &chat("m1")).await;
    assert_eq!(a.status, 404, "deleted config is not routable: {}", a.text);
    assert_eq!(a.json["error"]["code"], "model_not_found");

    for (body, field) in [
        (json!({"rpm": -1}), "rpm"),
        (json!({"type": 12345}), "type"),
        (json!({"model": "other"}), "model"),
        (json!({"price": {"input_price": -2}}), "price.input_price"),
        (json!({"retry_times": "many"}), "retry_times"),
    ] {
        let a = admin(&gw, "POST", "/api/model_config/m1", Some(body)).await;
        assert_error(&a, 400, field);
    }
    let a = admin(&gw, "GET", "/api/model_config/m1", None).await;
    assert_eq!(a.status, 404, "invalid writes store nothing");
    gw.stop().await;
}

#[tokio::test]
async fn bulk_save_is_all_or_nothing_and_listing() {
    let gw = Gateway::start(&[]).await;
    let a = admin(
        &gw,
        "POST",
        "/api/model_configs/",
        Some(json!([{"model": "bulk-a"}, {"model": "bulk-b", "rpm": -1}])),
    )
    .await;
    assert_error(&a, 400, "[1]");
    assert!(a.json["message"].as_str().unwrap().contains("rpm"));
    let a = admin(&gw, "GET", "/api/model_config/bulk-a", None).await;
    assert_eq!(a.status, 404, "nothing saved from an invalid batch");
    let a = admin(
        &gw,
        "POST",
        "/api/model_configs/",
        Some(json!([{"owner": "no-name"}])),
    )
    .await;
    assert_error(&a, 400, "[0]");

    let saved = gw
        .admin_ok(
            "POST",
            "/api/model_configs/",
            Some(json!([
                {"model": "bulk-a", "owner": "one", "type": 1},
                {"model": "bulk-b", "owner": "two", "type": 3},
                {"model": "other-c", "owner": "one"}
            ])),
        )
        .await;
    assert_eq!(saved.as_array().unwrap().len(), 3);
    gw.admin_ok(
        "POST",
        "/api/model_configs",
        Some(json!([{"model": "bulk-a", "rpm": 3}])),
    )
    .await;
    let a = gw.admin_ok("GET", "/api/model_config/bulk-a", None).await;
    assert_eq!(
        (&a["owner"], &a["rpm"]),
        (&json!("one"), &json!(3)),
        "bulk save merges too"
    );

    let all = gw.admin_ok("GET", "/api/model_configs/all", None).await;
    assert_eq!(names(&all), ["bulk-a", "bulk-b", "other-c"]);
    let page = gw
        .admin_ok("GET", "/api/model_configs/?page=1&per_page=2", None)
        .await;
    assert_eq!(page["total"], 3);
    assert_eq!(page["configs"].as_array().unwrap().len(), 2);
    let found = gw
        .admin_ok("GET", "/api/model_configs/search?keyword=bulk", None)
        .await;
    assert_eq!(found["total"], 2);
    assert_eq!(names(&found["configs"]), ["bulk-a", "bulk-b"]);
    let by_owner = gw
        .admin_ok("GET", "/api/model_configs/search?owner=one", None)
        .await;
    assert_eq!(names(&by_owner["configs"]), ["bulk-a", "other-c"]);
    let contains = gw
        .admin_ok(
            "POST",
            "/api/model_configs/contains",
            Some(json!({"models": ["bulk-b", "not-there"]})),
        )
        .await;
    assert_eq!(names(&contains), ["bulk-b"]);

    let d = gw
        .admin_ok(
            "POST",
            "/api/model_configs/batch_delete",
            Some(json!(["bulk-a", "bulk-b", "never-was"])),
        )
        .await;
    assert_eq!(d["deleted"], 2);
    let all = gw.admin_ok("GET", "/api/model_configs/all", None).await;
    assert_eq!(names(&all), ["other-c"]);
    gw.stop().await;
}

#[tokio::test]
async fn model_names_with_slashes() {
    let gw = Gateway::start(&[]).await;
    let saved = gw
        .admin_ok(
            "POST",
            "/api/model_config/Qwen/Qwen2-7B",
            Some(json!({"owner": "qwen"})),
        )
        .await;
    assert_eq!(saved["model"], "Qwen/Qwen2-7B");
    gw.admin_ok(
        "PUT",
        "/api/model_config/Qwen/Qwen2-7B",
        Some(json!({"model": "Qwen/Qwen2-7B", "rpm": 4})),
    )
    .await;
    let got = gw
        .admin_ok("GET", "/api/model_config/Qwen/Qwen2-7B", None)
        .await;
    assert_eq!((&got["owner"], &got["rpm"]), (&json!("qwen"), &json!(4)));
    fake_channel(&gw, "qwen", &["Qwen/Qwen2-7B"], json!({})).await;
    let key = gw.token("team", json!({"name": "t"})).await;
    let a = gw
        .post("/v1/chat/completions", &key, &chat("Qwen/Qwen2-7B"))
        .await;
    assert_eq!(a.status, 200, "{}", a.text);
    assert_eq!(a.json["model"], "Qwen/Qwen2-7B");
    gw.admin_ok("DELETE", "/api/model_config/Qwen/Qwen2-7B", None)
        .await;
    let a = admin(&gw, "GET", "/api/model_config/Qwen/Qwen2-7B", None).await;
    assert_error(&a, 404, "record not found");
    gw.stop().await;
}

#[tokio::test]
async fn builtin_enabled_sets_and_default_models() {
    let gw = Gateway::start(&[]).await;
    let builtin = gw.admin_ok("GET", "/api/models/builtin", None).await;
    let builtin = builtin.as_array().unwrap();
    assert!(!builtin.is_empty());
    let gpt4o = builtin
        .iter()
        .find(|c| c["model"] == "gpt-4o")
        .expect("gpt-4o is built in");
    assert_eq!(gpt4o["owner"], "openai");
    let by_channel = gw
        .admin_ok("GET", "/api/models/builtin/channel/1", None)
        .await;
    assert!(
        by_channel
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["model"] == "gpt-4o")
    );

    for m in ["m-vip", "m-default", "m-off"] {
        gw.model(m).await;
    }
    gw.channel(json!({"type": 53, "name": "vip", "models": ["m-vip"], "sets": ["vip"]}))
        .await;
    gw.channel(json!({"type": 53, "name": "plain", "models": ["m-default", "not-configured"]}))
        .await;
    let off = gw
        .channel(json!({"type": 53, "name": "off", "models": ["m-off"]}))
        .await;
    gw.admin_ok(
        "POST",
        &format!("/api/channel/{off}/status"),
        Some(json!({"status": 2})),
    )
    .await;

    let enabled = gw.admin_ok("GET", "/api/models/enabled", None).await;
    assert_eq!(names(&enabled["vip"]), ["m-vip"], "{enabled}");
    assert_eq!(
        names(&enabled["default"]),
        ["m-default"],
        "only configured models of enabled channels: {enabled}"
    );
    let vip = gw.admin_ok("GET", "/api/models/enabled/vip", None).await;
    assert_eq!(names(&vip), ["m-vip"]);
    let nothing = gw
        .admin_ok("GET", "/api/models/enabled/no-such-set", None)
        .await;
    assert_eq!(nothing, json!([]));
    let mut sets: Vec<String> =
        serde_json::from_value(gw.admin_ok("GET", "/api/models/sets", None).await).unwrap();
    sets.sort();
    assert_eq!(sets, ["default", "vip"]);

    gw.admin_ok(
        "POST",
        &format!("/api/channel/{off}/status"),
        Some(json!({"status": 1})),
    )
    .await;
    let enabled = gw.admin_ok("GET", "/api/models/enabled", None).await;
    assert_eq!(names(&enabled["default"]), ["m-default", "m-off"]);

    set_option(
        &gw,
        "DefaultChannelModels",
        r#"{"1":["gpt-4o","gpt-4o-mini"]}"#,
    )
    .await;
    let defaults = gw.admin_ok("GET", "/api/models/default", None).await;
    assert_eq!(defaults["models"]["1"], json!(["gpt-4o", "gpt-4o-mini"]));
    let of_type = gw.admin_ok("GET", "/api/models/default/1", None).await;
    assert_eq!(of_type["models"], json!(["gpt-4o", "gpt-4o-mini"]));
    gw.stop().await;
}

#[tokio::test]
async fn options_get_put_batch_and_validation() {
    let gw = Gateway::start(&[]).await;
    let options = gw.admin_ok("GET", "/api/option/", None).await;
    for key in [
        "RetryTimes",
        "DisableServe",
        "LogStorageHours",
        "LogDetailStorageHours",
        "SaveAllLogDetail",
        "LogDetailRequestBodyMaxSize",
        "LogDetailResponseBodyMaxSize",
        "CleanLogBatchSize",
        "DefaultChannelModels",
        "DefaultChannelModelMapping",
        "GroupMaxTokenNum",
    ] {
        assert!(
            options[key].is_string(),
            "option {key} listed as a string: {options}"
        );
    }
    assert_eq!(options["RetryTimes"], "0");
    assert_eq!(options["SaveAllLogDetail"], "false");

    let set = gw
        .admin_ok(
            "PUT",
            "/api/option/",
            Some(json!({"key": "RetryTimes", "value": "3"})),
        )
        .await;
    assert_eq!(set, json!({"key": "RetryTimes", "value": "3"}));
    assert_eq!(
        gw.admin_ok("GET", "/api/option/", None).await["RetryTimes"],
        "3"
    );
    assert_eq!(
        gw.admin_ok("GET", "/api/option/RetryTimes", None).await,
        json!({"key": "RetryTimes", "value": "3"})
    );
    // Non-string JSON values are accepted as their text.
    gw.admin_ok(
        "PUT",
        "/api/option",
        Some(json!({"key": "SaveAllLogDetail", "value": true})),
    )
    .await;

    gw.admin_ok(
        "PUT",
        "/api/option/batch",
        Some(json!({"LogStorageHours": "48", "GroupMaxTokenNum": "7"})),
    )
    .await;
    let options = gw.admin_ok("GET", "/api/option", None).await;
    assert_eq!(options["LogStorageHours"], "48");
    assert_eq!(options["GroupMaxTokenNum"], "7");
    assert_eq!(options["SaveAllLogDetail"], "true");
    assert_eq!(options["RetryTimes"], "3");

    let a = admin(
        &gw,
        "PUT",
        "/api/option/",
        Some(json!({"key": "NoSuchOption", "value": "1"})),
    )
    .await;
    assert_error(&a, 400, "NoSuchOption");
    let a = admin(
        &gw,
        "PUT",
        "/api/option/",
        Some(json!({"key": "RetryTimes", "value": "x"})),
    )
    .await;
    assert_error(&a, 400, "RetryTimes");
    let a = admin(
        &gw,
        "PUT",
        "/api/option/",
        Some(json!({"key": "SaveAllLogDetail", "value": "maybe"})),
    )
    .await;
    assert_error(&a, 400, "SaveAllLogDetail");
    let a = admin(
        &gw,
        "PUT",
        "/api/option/",
        Some(json!({"key": "DefaultChannelModels", "value": "[1,2]"})),
    )
    .await;
    assert_error(&a, 400, "DefaultChannelModels");
    let a = admin(
        &gw,
        "PUT",
        "/api/option/batch",
        Some(json!({"GroupMaxTokenNum": "1", "RetryTimes": "-1"})),
    )
    .await;
    assert_error(&a, 400, "RetryTimes");
    let options = gw.admin_ok("GET", "/api/option/", None).await;
    assert_eq!(options["RetryTimes"], "3", "failed writes change nothing");
    assert_eq!(
        options["GroupMaxTokenNum"], "7",
        "a batch with one bad value is refused whole"
    );
    gw.stop().await;
}

#[tokio::test]
async fn options_fixed_by_the_environment_are_read_only() {
    let gw = Gateway::start(&["--retry-times", "2"]).await;
    let a = admin(
        &gw,
        "PUT",
        "/api/option/",
        Some(json!({"key": "RetryTimes", "value": "5"})),
    )
    .await;
    assert_error(&a, 400, "RETRY_TIMES");
    let a = admin(
        &gw,
        "PUT",
        "/api/option/batch",
        Some(json!({"RetryTimes": "5"})),
    )
    .await;
    assert_error(&a, 400, "RETRY_TIMES");
    assert_eq!(
        gw.admin_ok("GET", "/api/option/", None).await["RetryTimes"],
        "2"
    );
    // Options not fixed by the environment stay writable.
    set_option(&gw, "SaveAllLogDetail", "true").await;
    gw.stop().await;
}

#[tokio::test]
async fn retry_times_option_applies_without_restart() {
    let bad =
        FakeUpstream::start(|_, _| Reply::Json(500, json!({"error": {"message": "boom"}}))).await;
    let good =
        FakeUpstream::start(|_, _| Reply::Json(200, chat_json("m", "ok", Some((1, 1))))).await;
    let gw = Gateway::start(&[]).await;
    // Two models, so the second phase starts without the first phase's error history.
    for m in ["before", "after"] {
        gw.model(m).await;
    }
    gw.channel(
        json!({"type": 1, "name": "first", "base_url": bad.base_url(),
        "models": ["before", "after"], "priority": 1_000_000}),
    )
    .await;
    gw.channel(
        json!({"type": 1, "name": "second", "base_url": good.base_url(),
        "models": ["before", "after"], "priority": 1}),
    )
    .await;
    let key = gw.token("team", json!({"name": "t"})).await;

    set_option(&gw, "RetryTimes", "0").await;
    let a = gw.post("/v1/chat/completions", &key, &chat("before")).await;
    assert_eq!(a.status, 502, "no retry budget: {}", a.text);
    assert_eq!((bad.hits(), good.hits()), (1, 0));

    set_option(&gw, "RetryTimes", "1").await;
    let a = gw.post("/v1/chat/completions", &key, &chat("after")).await;
    assert_eq!(a.status, 200, "retried on the second channel: {}", a.text);
    assert_eq!((bad.hits(), good.hits()), (2, 1));
    gw.stop().await;
}
