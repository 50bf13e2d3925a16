//! Tenants: groups (CRUD, status, ratios, listing, cascading delete),
//! tokens (keys, creation rules, listing, partial updates, immediate effect
//! on the relay) and per-group model-config overrides.

use std::collections::HashSet;

use serde_json::{Value, json};

use crate::support::Gateway;
use crate::support::admin::{admin, assert_error, chat, fake_channel, set_option};

/// A gateway with a `fake` channel serving `gpt-4o` (and `gpt-4o-mini`).
async fn gateway_with_fake_channel() -> Gateway {
    let gw = Gateway::start(&[]).await;
    gw.model("gpt-4o").await;
    gw.model("gpt-4o-mini").await;
    fake_channel(&gw, "fake", &["gpt-4o", "gpt-4o-mini"], json!({})).await;
    gw
}

async fn relay_status(gw: &Gateway, key: &str, model: &str) -> u16 {
    gw.post("/v1/chat/completions", key, &chat(model))
        .await
        .status
        .as_u16()
}

#[tokio::test]
async fn group_crud_round_trip() {
    let gw = Gateway::start(&[]).await;
    let g = gw
        .admin_ok(
            "POST",
            "/api/group/team-a",
            Some(json!({"rpm_ratio": 2.0, "available_sets": ["vip"]})),
        )
        .await;
    assert_eq!(g["id"], "team-a");
    assert_eq!(g["status"], 1);
    assert_eq!(g["rpm_ratio"], 2.0);
    assert_eq!(g["tpm_ratio"], 1.0);
    assert_eq!(g["available_sets"], json!(["vip"]));
    assert!(g["created_at"].as_i64().unwrap() > 1_000_000_000_000);
    let again = admin(&gw, "POST", "/api/group/team-a", None).await;
    assert_error(&again, 409, "already exists");
    gw.admin_ok("POST", "/api/group/team-b", None).await;
    gw.admin_ok("POST", "/api/group/other", None).await;

    let got = gw.admin_ok("GET", "/api/group/team-a", None).await;
    assert_eq!(got["rpm_ratio"], 2.0);
    let a = admin(&gw, "GET", "/api/group/nobody", None).await;
    assert_error(&a, 404, "record not found");

    let put = gw
        .admin_ok("PUT", "/api/group/team-a", Some(json!({"tpm_ratio": 3.0})))
        .await;
    assert_eq!(put["tpm_ratio"], 3.0);
    let got = gw.admin_ok("GET", "/api/group/team-a", None).await;
    assert_eq!(got["tpm_ratio"], 3.0);
    assert_eq!(got["rpm_ratio"], 2.0, "unsent fields are kept");
    assert_eq!(got["available_sets"], json!(["vip"]));

    gw.admin_ok(
        "POST",
        "/api/group/team-a/status",
        Some(json!({"status": 2})),
    )
    .await;
    gw.admin_ok(
        "POST",
        "/api/group/team-a/rpm_ratio",
        Some(json!({"rpm_ratio": 5.5})),
    )
    .await;
    gw.admin_ok(
        "POST",
        "/api/group/team-a/tpm_ratio",
        Some(json!({"tpm_ratio": 0.5})),
    )
    .await;
    let got = gw.admin_ok("GET", "/api/group/team-a", None).await;
    assert_eq!(
        (&got["status"], &got["rpm_ratio"], &got["tpm_ratio"]),
        (&json!(2), &json!(5.5), &json!(0.5))
    );
    let a = admin(
        &gw,
        "POST",
        "/api/group/team-a/rpm_ratio",
        Some(json!({"rpm_ratio": -1})),
    )
    .await;
    assert_error(&a, 400, "rpm_ratio");
    let a = admin(
        &gw,
        "POST",
        "/api/group/team-a/status",
        Some(json!({"status": 7})),
    )
    .await;
    assert_error(&a, 400, "status");
    let a = admin(
        &gw,
        "PUT",
        "/api/group/nobody",
        Some(json!({"rpm_ratio": 1.0})),
    )
    .await;
    assert_error(&a, 404, "record not found");

    let list = gw.admin_ok("GET", "/api/groups/", None).await;
    assert_eq!(list["total"], 3);
    let page = gw
        .admin_ok("GET", "/api/groups/?page=1&per_page=2", None)
        .await;
    assert_eq!(page["total"], 3);
    assert_eq!(page["groups"].as_array().unwrap().len(), 2);
    let found = gw
        .admin_ok("GET", "/api/groups/search?keyword=team", None)
        .await;
    assert_eq!(found["total"], 2);
    let mut ids: Vec<&str> = found["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["id"].as_str().unwrap())
        .collect();
    ids.sort_unstable();
    assert_eq!(ids, ["team-a", "team-b"]);

    let d = gw
        .admin_ok(
            "POST",
            "/api/groups/batch_delete",
            Some(json!(["team-a", "team-b", "ghost"])),
        )
        .await;
    assert_eq!(d["deleted"], 2);
    gw.admin_ok("DELETE", "/api/group/other", None).await;
    let a = admin(&gw, "DELETE", "/api/group/other", None).await;
    assert_error(&a, 404, "record not found");
    assert_eq!(gw.admin_ok("GET", "/api/groups", None).await["total"], 0);
    gw.stop().await;
}

#[tokio::test]
async fn deleting_a_group_revokes_its_tokens() {
    let gw = gateway_with_fake_channel().await;
    let token = gw
        .admin_ok(
            "POST",
            "/api/token/doomed?auto_create_group=true",
            Some(json!({"name": "t"})),
        )
        .await;
    let key = token["key"].as_str().unwrap();
    let survivor = gw.token("kept", json!({"name": "t"})).await;
    assert_eq!(relay_status(&gw, key, "gpt-4o").await, 200);
    gw.admin_ok("DELETE", "/api/group/doomed", None).await;
    let a = gw.post("/v1/chat/completions", key, &chat("gpt-4o")).await;
    assert_eq!(a.status, 401, "{}", a.text);
    assert!(a.json["error"]["message"].is_string());
    let a = admin(
        &gw,
        "GET",
        &format!("/api/token/doomed/{}", token["id"]),
        None,
    )
    .await;
    assert_error(&a, 404, "record not found");
    assert_eq!(
        relay_status(&gw, &survivor, "gpt-4o").await,
        200,
        "other groups are untouched"
    );
    gw.stop().await;
}

#[tokio::test]
async fn token_keys_are_48_random_alphanumerics() {
    let gw = Gateway::start(&[]).await;
    let mut keys = HashSet::new();
    for i in 0..6 {
        let token = gw
            .admin_ok(
                "POST",
                "/api/token/keys?auto_create_group=true",
                Some(json!({"name": format!("t{i}")})),
            )
            .await;
        let key = token["key"].as_str().unwrap().to_owned();
        assert_eq!(key.len(), 48, "{key}");
        assert!(key.chars().all(|c| c.is_ascii_alphanumeric()), "{key}");
        assert_eq!(token["group"], "keys");
        assert_eq!(token["status"], 1);
        assert!(token["id"].as_i64().unwrap() > 0);
        keys.insert(key);
    }
    assert_eq!(keys.len(), 6, "keys are unique");
    gw.stop().await;
}

#[tokio::test]
async fn token_creation_rules() {
    let gw = Gateway::start(&[]).await;
    let a = admin(
        &gw,
        "POST",
        "/api/token/missing",
        Some(json!({"name": "t"})),
    )
    .await;
    assert_error(&a, 404, "record not found");
    let a = admin(&gw, "GET", "/api/group/missing", None).await;
    assert_eq!(a.status, 404, "a failed token create makes no group");

    let first = gw
        .admin_ok(
            "POST",
            "/api/token/fresh?auto_create_group=true",
            Some(json!({"name": "dup", "models": ["gpt-4o"]})),
        )
        .await;
    let group = gw.admin_ok("GET", "/api/group/fresh", None).await;
    assert_eq!(group["status"], 1, "auto-created and enabled");

    let a = admin(
        &gw,
        "POST",
        "/api/token/fresh",
        Some(json!({"name": "dup"})),
    )
    .await;
    assert_error(&a, 409, "dup");
    let same = gw
        .admin_ok(
            "POST",
            "/api/token/fresh?ignore_exist=true",
            Some(json!({"name": "dup"})),
        )
        .await;
    assert_eq!(same["id"], first["id"]);
    assert_eq!(same["key"], first["key"]);
    assert_eq!(same["models"], json!(["gpt-4o"]));
    gw.admin_ok(
        "POST",
        "/api/token/elsewhere?auto_create_group=true",
        Some(json!({"name": "dup"})),
    )
    .await;

    for (body, field) in [
        (json!({}), "name"),
        (json!({"name": ""}), "name"),
        (json!({"name": "x", "subnets": ["not-a-net"]}), "subnets"),
        (json!({"name": "x", "quota": -1}), "quota"),
        (json!({"name": "x", "status": 5}), "status"),
        (json!({"name": "x", "models": "gpt-4o"}), "models"),
    ] {
        let a = admin(&gw, "POST", "/api/token/fresh", Some(body)).await;
        assert_error(&a, 400, field);
    }

    set_option(&gw, "GroupMaxTokenNum", "1").await;
    gw.admin_ok(
        "POST",
        "/api/token/capped?auto_create_group=true",
        Some(json!({"name": "one"})),
    )
    .await;
    let a = admin(
        &gw,
        "POST",
        "/api/token/capped",
        Some(json!({"name": "two"})),
    )
    .await;
    assert!(a.status.is_client_error(), "{} {}", a.status, a.text);
    assert_eq!(a.json["success"], false);
    assert!(
        a.json["message"]
            .as_str()
            .unwrap()
            .contains("GroupMaxTokenNum"),
        "{}",
        a.text
    );
    let listed = gw.admin_ok("GET", "/api/token/capped", None).await;
    assert_eq!(listed["total"], 1);
    set_option(&gw, "GroupMaxTokenNum", "0").await;
    gw.admin_ok("POST", "/api/token/capped", Some(json!({"name": "two"})))
        .await;
    gw.stop().await;
}

#[tokio::test]
async fn token_listing_partial_update_status_and_delete() {
    let gw = Gateway::start(&[]).await;
    let mut ids = Vec::new();
    for name in ["alpha", "beta", "alphabet"] {
        let t = gw
            .admin_ok(
                "POST",
                "/api/token/g1?auto_create_group=true",
                Some(json!({"name": name, "models": ["gpt-4o"], "subnets": ["10.0.0.0/8"]})),
            )
            .await;
        ids.push(t["id"].as_i64().unwrap());
    }
    gw.admin_ok(
        "POST",
        "/api/token/g2?auto_create_group=true",
        Some(json!({"name": "alpha"})),
    )
    .await;

    let g1 = gw.admin_ok("GET", "/api/token/g1", None).await;
    assert_eq!(g1["total"], 3);
    assert!(
        g1["tokens"]
            .as_array()
            .unwrap()
            .iter()
            .all(|t| t["group"] == "g1")
    );
    let page = gw
        .admin_ok("GET", "/api/token/g1/?page=2&per_page=2", None)
        .await;
    assert_eq!(page["total"], 3);
    assert_eq!(page["tokens"].as_array().unwrap().len(), 1);
    let found = gw
        .admin_ok("GET", "/api/token/g1/search?keyword=alpha", None)
        .await;
    assert_eq!(found["total"], 2);
    let all = gw.admin_ok("GET", "/api/tokens/", None).await;
    assert_eq!(all["total"], 4);
    let all_alpha = gw
        .admin_ok("GET", "/api/tokens/search?keyword=alpha", None)
        .await;
    assert_eq!(all_alpha["total"], 3);
    let only_g2 = gw.admin_ok("GET", "/api/tokens/?group=g2", None).await;
    assert_eq!(only_g2["total"], 1);

    let id = ids[0];
    let before = gw
        .admin_ok("GET", &format!("/api/token/g1/{id}"), None)
        .await;
    let put = gw
        .admin_ok(
            "PUT",
            &format!("/api/token/g1/{id}"),
            Some(json!({"quota": 5.0})),
        )
        .await;
    assert_eq!(put["quota"], 5.0);
    let after = gw
        .admin_ok("GET", &format!("/api/token/g1/{id}"), None)
        .await;
    assert_eq!(after["quota"], 5.0);
    for field in [
        "name",
        "key",
        "models",
        "subnets",
        "status",
        "group",
        "created_at",
    ] {
        assert_eq!(after[field], before[field], "`{field}` was not sent");
    }
    let a = admin(
        &gw,
        "PUT",
        &format!("/api/token/g1/{id}"),
        Some(json!({"name": "beta"})),
    )
    .await;
    assert_error(&a, 409, "beta");
    let a = admin(&gw, "GET", &format!("/api/token/g2/{id}"), None).await;
    assert_error(&a, 404, "record not found");

    gw.admin_ok(
        "POST",
        &format!("/api/token/g1/{id}/status"),
        Some(json!({"status": 2})),
    )
    .await;
    assert_eq!(
        gw.admin_ok("GET", &format!("/api/tokens/{id}"), None).await["status"],
        2
    );
    gw.admin_ok("DELETE", &format!("/api/token/g1/{id}"), None)
        .await;
    let a = admin(&gw, "GET", &format!("/api/token/g1/{id}"), None).await;
    assert_error(&a, 404, "record not found");
    let a = admin(&gw, "DELETE", &format!("/api/token/g1/{id}"), None).await;
    assert_error(&a, 404, "record not found");
    let a = admin(&gw, "GET", "/api/token/g1/not-a-number", None).await;
    assert_error(&a, 400, "id");
    let d = gw
        .admin_ok(
            "POST",
            "/api/token/g1/batch_delete",
            Some(json!([ids[1], ids[2]])),
        )
        .await;
    assert_eq!(d["deleted"], 2);
    assert_eq!(gw.admin_ok("GET", "/api/token/g1", None).await["total"], 0);
    gw.stop().await;
}

#[tokio::test]
async fn token_changes_apply_to_the_relay_immediately() {
    let gw = gateway_with_fake_channel().await;
    let token = gw
        .admin_ok(
            "POST",
            "/api/token/live?auto_create_group=true",
            Some(json!({"name": "t"})),
        )
        .await;
    let key = token["key"].as_str().unwrap();
    let id = token["id"].as_i64().unwrap();
    assert_eq!(relay_status(&gw, key, "gpt-4o").await, 200);

    gw.admin_ok(
        "POST",
        &format!("/api/token/live/{id}/status"),
        Some(json!({"status": 2})),
    )
    .await;
    assert_eq!(relay_status(&gw, key, "gpt-4o").await, 401);
    gw.admin_ok(
        "POST",
        &format!("/api/token/live/{id}/status"),
        Some(json!({"status": 1})),
    )
    .await;
    assert_eq!(relay_status(&gw, key, "gpt-4o").await, 200);

    gw.admin_ok(
        "PUT",
        &format!("/api/token/live/{id}"),
        Some(json!({"models": ["gpt-4o-mini"]})),
    )
    .await;
    let a = gw.post("/v1/chat/completions", key, &chat("gpt-4o")).await;
    assert_eq!(a.status, 404, "{}", a.text);
    assert!(a.json["error"]["message"].is_string());
    assert_eq!(relay_status(&gw, key, "gpt-4o-mini").await, 200);
    gw.admin_ok(
        "PUT",
        &format!("/api/token/live/{id}"),
        Some(json!({"models": []})),
    )
    .await;
    assert_eq!(
        relay_status(&gw, key, "gpt-4o").await,
        200,
        "an empty allow-list allows every model"
    );

    gw.admin_ok("POST", "/api/group/live/status", Some(json!({"status": 2})))
        .await;
    assert_eq!(relay_status(&gw, key, "gpt-4o").await, 403);
    gw.admin_ok("POST", "/api/group/live/status", Some(json!({"status": 1})))
        .await;
    assert_eq!(relay_status(&gw, key, "gpt-4o").await, 200);

    gw.admin_ok("DELETE", &format!("/api/tokens/{id}"), None)
        .await;
    assert_eq!(relay_status(&gw, key, "gpt-4o").await, 401);
    gw.stop().await;
}

#[tokio::test]
async fn group_model_config_overrides_round_trip() {
    let gw = gateway_with_fake_channel().await;
    gw.admin_ok("POST", "/api/group/acme", None).await;
    let path = "/api/group/acme/model_config/gpt-4o";
    let saved = gw
        .admin_ok(
            "POST",
            path,
            Some(json!({"override_limit": true, "rpm": 5, "tpm": 100})),
        )
        .await;
    assert_eq!(saved["group_id"], "acme");
    assert_eq!(saved["model"], "gpt-4o");
    assert_eq!(saved["rpm"], 5);
    gw.admin_ok(
        "PUT",
        path,
        Some(json!({"override_price": true, "price": {"input_price": 1.5}})),
    )
    .await;
    let got = gw.admin_ok("GET", path, None).await;
    assert_eq!(got["override_limit"], true, "merged, not replaced");
    assert_eq!(got["rpm"], 5);
    assert_eq!(got["tpm"], 100);
    assert_eq!(got["override_price"], true);
    assert_eq!(got["price"]["input_price"], 1.5);

    let a = admin(
        &gw,
        "POST",
        path,
        Some(json!({"model": "another-model", "rpm": 1})),
    )
    .await;
    assert_error(&a, 400, "model");
    let a = admin(
        &gw,
        "POST",
        "/api/group/ghost/model_config/gpt-4o",
        Some(json!({"rpm": 1})),
    )
    .await;
    assert_error(&a, 404, "record not found");

    let bulk = gw
        .admin_ok(
            "POST",
            "/api/group/acme/model_configs",
            Some(json!([
                {"model": "Qwen/Qwen2-7B", "override_retry_times": true, "retry_times": 2},
                {"model": "gpt-4o", "tpm": 200}
            ])),
        )
        .await;
    assert_eq!(bulk.as_array().unwrap().len(), 2);
    let list = gw
        .admin_ok("GET", "/api/group/acme/model_configs", None)
        .await;
    let mut models: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["model"].as_str().unwrap())
        .collect();
    models.sort_unstable();
    assert_eq!(models, ["Qwen/Qwen2-7B", "gpt-4o"]);
    let got = gw.admin_ok("GET", path, None).await;
    assert_eq!((&got["rpm"], &got["tpm"]), (&json!(5), &json!(200)));
    let qwen = gw
        .admin_ok("GET", "/api/group/acme/model_config/Qwen/Qwen2-7B", None)
        .await;
    assert_eq!(qwen["retry_times"], 2);
    let a = admin(
        &gw,
        "POST",
        "/api/group/acme/model_configs",
        Some(json!([{"rpm": 1}])),
    )
    .await;
    assert_error(&a, 400, "[0]");

    gw.admin_ok("DELETE", path, None).await;
    let a = admin(&gw, "GET", path, None).await;
    assert_error(&a, 404, "record not found");
    let a = admin(&gw, "DELETE", path, None).await;
    assert_error(&a, 404, "record not found");
    let d = gw
        .admin_ok(
            "DELETE",
            "/api/group/acme/model_configs",
            Some(json!(["Qwen/Qwen2-7B"])),
        )
        .await;
    assert_eq!(d["deleted"], 1);
    assert_eq!(
        gw.admin_ok("GET", "/api/group/acme/model_configs", None)
            .await,
        json!([])
    );
    gw.stop().await;
}

#[tokio::test]
async fn group_override_changes_what_the_relay_stores() {
    let gw = gateway_with_fake_channel().await;
    let plain = gw.token("plain", json!({"name": "t"})).await;
    let keen = gw.token("keen", json!({"name": "t"})).await;
    gw.admin_ok(
        "POST",
        "/api/group/keen/model_config/gpt-4o",
        Some(json!({"override_force_save_detail": true, "force_save_detail": true})),
    )
    .await;
    let mut rows: Vec<Value> = Vec::new();
    for key in [&plain, &keen] {
        let a = gw.post("/v1/chat/completions", key, &chat("gpt-4o")).await;
        assert_eq!(a.status, 200);
        rows.push(gw.log_row(&a.request_id()).await);
    }
    let a = admin(
        &gw,
        "GET",
        &format!("/api/logs/detail/{}", rows[0]["id"]),
        None,
    )
    .await;
    assert_eq!(
        a.status, 404,
        "successful requests keep no bodies by default"
    );
    let d = gw
        .admin_ok("GET", &format!("/api/logs/detail/{}", rows[1]["id"]), None)
        .await;
    assert!(
        d["request_body"].as_str().unwrap().contains("gpt-4o"),
        "{d}"
    );
    gw.stop().await;
}

#[tokio::test]
async fn fastgpt_style_group_ids_work_url_encoded() {
    let gw = gateway_with_fake_channel().await;
    let token = gw
        .admin_ok(
            "POST",
            "/api/token/fastgpt%3Atmb%3A65f0c1?auto_create_group=true",
            Some(json!({"name": "member"})),
        )
        .await;
    assert_eq!(token["group"], "fastgpt:tmb:65f0c1");
    let group = gw
        .admin_ok("GET", "/api/group/fastgpt%3Atmb%3A65f0c1", None)
        .await;
    assert_eq!(group["id"], "fastgpt:tmb:65f0c1");
    let a = gw
        .post(
            "/v1/chat/completions",
            token["key"].as_str().unwrap(),
            &chat("gpt-4o"),
        )
        .await;
    assert_eq!(a.status, 200, "{}", a.text);
    let row = gw.log_row(&a.request_id()).await;
    assert_eq!(row["group"], "fastgpt:tmb:65f0c1");
    let scoped = gw
        .admin_ok("GET", "/api/log/fastgpt%3Atmb%3A65f0c1/search", None)
        .await;
    assert_eq!(scoped["total"], 1);
    let tokens = gw
        .admin_ok("GET", "/api/token/fastgpt%3Atmb%3A65f0c1", None)
        .await;
    assert_eq!(tokens["total"], 1);
    gw.stop().await;
}

#[tokio::test]
async fn concurrent_creates_with_ignore_exist_yield_one_token() {
    let gw = Gateway::start(&[]).await;
    gw.admin_ok("POST", "/api/group/race", None).await;
    let answers = futures_util::future::join_all((0..8).map(|_| {
        admin(
            &gw,
            "POST",
            "/api/token/race?ignore_exist=true",
            Some(json!({"name": "shared"})),
        )
    }))
    .await;
    let ids: HashSet<String> = answers
        .iter()
        .map(|a| {
            assert_eq!(a.status, 200, "{}", a.text);
            a.json["data"]["id"].to_string()
        })
        .collect();
    assert_eq!(ids.len(), 1, "ignore_exist always yields the one token");
    assert_eq!(
        gw.admin_ok("GET", "/api/token/race", None).await["total"],
        1
    );
    gw.stop().await;
}

#[tokio::test]
async fn group_max_token_num_holds_under_concurrent_creates() {
    let gw = Gateway::start(&[]).await;
    set_option(&gw, "GroupMaxTokenNum", "2").await;
    gw.admin_ok("POST", "/api/group/capped", None).await;
    let answers = futures_util::future::join_all((0..8).map(|i| {
        admin(
            &gw,
            "POST",
            "/api/token/capped",
            Some(json!({"name": format!("t{i}")})),
        )
    }))
    .await;
    assert!(
        answers
            .iter()
            .all(|a| a.status == 200 || a.status.is_client_error()),
        "no 5xx under contention"
    );
    let created = answers.iter().filter(|a| a.status == 200).count();
    let stored = gw.admin_ok("GET", "/api/token/capped", None).await["total"]
        .as_i64()
        .unwrap();
    assert_eq!((created, stored), (2, 2), "at most GroupMaxTokenNum tokens");
    gw.stop().await;
}
