//! `/api/channels/*` and `/api/channel/*`: creation (single and multi-line
//! keys, bulk), listing, search, type metadata, partial updates, status,
//! deletion, validation, trailing slashes and admin authentication.

use serde_json::{Value, json};

use crate::support::Gateway;
use crate::support::admin::{admin, assert_error, assert_ok, call};
use crate::support::gateway::ADMIN_KEY;

/// The channel with `id` from `GET /api/channels/all`.
async fn listed(gw: &Gateway, id: i64) -> Value {
    let all = gw.admin_ok("GET", "/api/channels/all", None).await;
    all.as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == id)
        .unwrap_or_else(|| panic!("channel {id} not in {all}"))
        .clone()
}

#[tokio::test]
async fn create_returns_ids_defaults_and_the_real_key() {
    let gw = Gateway::start(&[]).await;
    let data = gw
        .admin_ok(
            "POST",
            "/api/channel/",
            Some(json!({"type": 1, "name": "single", "key": "sk-real-secret-1"})),
        )
        .await;
    let id = data["id"].as_i64().unwrap();
    assert!(id > 0);
    assert_eq!(data["ids"], json!([id]));
    let one = gw
        .admin_ok("GET", &format!("/api/channel/{id}"), None)
        .await;
    assert_eq!(one["id"], id);
    assert_eq!(one["status"], 1, "enabled by default");
    assert_eq!(one["key"], "sk-real-secret-1", "the key is not masked");
    assert_eq!(one["models"], json!([]), "models is an array, never null");
    assert_eq!(one["model_mapping"], json!({}));
    assert_eq!(one["sets"], json!([]));
    assert_eq!(one["configs"], json!({}));
    assert_eq!(one["balance_threshold"], 0.0);
    assert!(
        one["created_at"].as_i64().unwrap() > 1_000_000_000_000,
        "ms"
    );

    let data = gw
        .admin_ok(
            "POST",
            "/api/channel/",
            Some(json!({"type": 1, "name": "multi", "key": "k-one\nk-two\n\n  k-three  \n", "models": ["gpt-4o"]})),
        )
        .await;
    let ids: Vec<i64> = data["ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_i64().unwrap())
        .collect();
    assert_eq!(ids.len(), 3, "one channel per non-empty key line: {data}");
    assert_eq!(data["id"], ids[0]);
    let mut keys = Vec::new();
    for id in &ids {
        let c = listed(&gw, *id).await;
        assert_eq!(c["name"], "multi");
        assert_eq!(c["models"], json!(["gpt-4o"]));
        assert_eq!(c["status"], 1);
        keys.push(c["key"].as_str().unwrap().to_owned());
    }
    keys.sort();
    assert_eq!(keys, ["k-one", "k-three", "k-two"]);

    let all = gw.admin_ok("GET", "/api/channels/all", None).await;
    let all = all.as_array().unwrap();
    assert_eq!(all.len(), 4);
    assert!(
        all.iter().all(|c| c["models"].is_array()),
        "models never null: {all:?}"
    );
    gw.stop().await;
}

#[tokio::test]
async fn paging_search_and_type_metas() {
    let gw = Gateway::start(&[]).await;
    for name in ["alpha-one", "beta-two", "alpha-three"] {
        gw.channel(json!({"type": 1, "name": name, "key": format!("key-{name}")}))
            .await;
    }
    let page = gw
        .admin_ok("GET", "/api/channels/?page=1&per_page=2", None)
        .await;
    assert_eq!(page["total"], 3);
    assert_eq!(page["channels"].as_array().unwrap().len(), 2);
    let page2 = gw
        .admin_ok("GET", "/api/channels/?page=2&per_page=2", None)
        .await;
    assert_eq!(page2["total"], 3);
    assert_eq!(page2["channels"].as_array().unwrap().len(), 1);
    let mut seen: Vec<i64> = page["channels"]
        .as_array()
        .unwrap()
        .iter()
        .chain(page2["channels"].as_array().unwrap())
        .map(|c| c["id"].as_i64().unwrap())
        .collect();
    seen.sort_unstable();
    seen.dedup();
    assert_eq!(seen.len(), 3, "pages do not overlap");

    let found = gw
        .admin_ok("GET", "/api/channels/search?keyword=alpha", None)
        .await;
    assert_eq!(found["total"], 2);
    let mut names: Vec<&str> = found["channels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    names.sort_unstable();
    assert_eq!(names, ["alpha-one", "alpha-three"]);
    gw.channel(json!({"type": 1, "name": "100%_real"})).await;
    let literal = gw
        .admin_ok("GET", "/api/channels/search?keyword=%25_", None)
        .await;
    assert_eq!(literal["total"], 1, "% and _ match literally: {literal}");
    assert_eq!(literal["channels"][0]["name"], "100%_real");
    let none = gw
        .admin_ok("GET", "/api/channels/search?keyword=nothing-like-it", None)
        .await;
    assert_eq!(none["total"], 0);
    assert_eq!(none["channels"], json!([]));

    let metas = gw.admin_ok("GET", "/api/channels/type_metas", None).await;
    let openai = &metas["1"];
    assert!(openai["name"].is_string(), "{openai}");
    assert!(
        openai["defaultBaseUrl"]
            .as_str()
            .unwrap()
            .contains("api.openai.com")
    );
    assert!(openai["keyHelp"].is_string());
    for t in ["53", "55"] {
        assert!(metas[t]["name"].is_string(), "type {t} listed: {metas}");
    }
    gw.stop().await;
}

#[tokio::test]
async fn partial_update_keeps_unsent_fields_and_applies_sent_ones() {
    let gw = Gateway::start(&[]).await;
    let id = gw
        .channel(json!({
            "type": 1, "name": "full", "key": "sk-keep", "base_url": "https://up.example.com/v1",
            "proxy_url": "http://proxy.example.com:8080", "models": ["gpt-4o", "gpt-4o-mini"],
            "model_mapping": {"gpt-4o": "gpt-4o-2024-08-06"}, "priority": 42, "sets": ["vip"],
            "configs": {"flag": true}, "max_error_rate": 0.5, "warn_error_rate": 0.25,
            "enabled_no_permission_ban": true
        }))
        .await;
    let before = gw
        .admin_ok("GET", &format!("/api/channel/{id}"), None)
        .await;

    let updated = gw
        .admin_ok(
            "PUT",
            &format!("/api/channel/{id}"),
            Some(json!({"name": "renamed", "status": 2})),
        )
        .await;
    assert_eq!(updated["name"], "renamed");
    let after = gw
        .admin_ok("GET", &format!("/api/channel/{id}"), None)
        .await;
    assert_eq!(after["name"], "renamed");
    assert_eq!(after["status"], 2, "a sent status is applied");
    for field in [
        "type",
        "key",
        "base_url",
        "proxy_url",
        "models",
        "model_mapping",
        "priority",
        "sets",
        "configs",
        "max_error_rate",
        "warn_error_rate",
        "enabled_no_permission_ban",
        "created_at",
    ] {
        assert_eq!(after[field], before[field], "`{field}` was not sent");
    }

    gw.admin_ok(
        "PUT",
        &format!("/api/channel/{id}"),
        Some(json!({"models": ["o1"], "priority": 7, "sets": [], "configs": {"other": 1}})),
    )
    .await;
    let after = listed(&gw, id).await;
    assert_eq!(after["models"], json!(["o1"]));
    assert_eq!(after["priority"], 7);
    assert_eq!(after["sets"], json!([]));
    assert_eq!(after["configs"], json!({"other": 1}));
    assert_eq!(after["proxy_url"], "http://proxy.example.com:8080");
    assert_eq!(after["key"], "sk-keep");

    let a = admin(
        &gw,
        "PUT",
        &format!("/api/channel/{id}"),
        Some(json!({"key": "one\ntwo"})),
    )
    .await;
    assert_error(&a, 400, "key");
    assert_eq!(listed(&gw, id).await["key"], "sk-keep");
    gw.stop().await;
}

#[tokio::test]
async fn status_delete_and_unknown_ids() {
    let gw = Gateway::start(&[]).await;
    let id = gw.channel(json!({"type": 1, "name": "s"})).await;
    gw.admin_ok(
        "POST",
        &format!("/api/channel/{id}/status"),
        Some(json!({"status": 2})),
    )
    .await;
    assert_eq!(listed(&gw, id).await["status"], 2);
    gw.admin_ok(
        "POST",
        &format!("/api/channel/{id}/status"),
        Some(json!({"status": 1})),
    )
    .await;
    assert_eq!(listed(&gw, id).await["status"], 1);

    gw.admin_ok("DELETE", &format!("/api/channel/{id}"), None)
        .await;
    let a = admin(&gw, "GET", &format!("/api/channel/{id}"), None).await;
    assert_error(&a, 404, "record not found");
    let a = admin(&gw, "DELETE", &format!("/api/channel/{id}"), None).await;
    assert_error(&a, 404, "record not found");
    assert_eq!(
        gw.admin_ok("GET", "/api/channels/all", None).await,
        json!([])
    );

    let missing = 987_654;
    for (method, path, body) in [
        ("GET", format!("/api/channel/{missing}"), None),
        (
            "PUT",
            format!("/api/channel/{missing}"),
            Some(json!({"name": "x"})),
        ),
        ("DELETE", format!("/api/channel/{missing}"), None),
        (
            "POST",
            format!("/api/channel/{missing}/status"),
            Some(json!({"status": 1})),
        ),
    ] {
        let a = admin(&gw, method, &path, body).await;
        assert_error(&a, 404, "record not found");
    }
    gw.stop().await;
}

#[tokio::test]
async fn invalid_input_is_400_naming_the_field() {
    let gw = Gateway::start(&[]).await;
    for (body, field) in [
        (json!({"type": 999, "name": "x"}), "type"),
        (json!({"type": 1, "name": ""}), "name"),
        (json!({"type": 1}), "name"),
        (json!({"name": "x"}), "type"),
        (
            json!({"type": 1, "name": "x", "base_url": "ftp://x"}),
            "base_url",
        ),
        (
            json!({"type": 1, "name": "x", "max_error_rate": 2}),
            "max_error_rate",
        ),
        (json!({"type": 1, "name": "x", "models": [1]}), "models"),
        (
            json!({"type": 1, "name": "x", "priority": "high"}),
            "priority",
        ),
        (json!({"type": "openai", "name": "x"}), "type"),
    ] {
        let a = admin(&gw, "POST", "/api/channel/", Some(body.clone())).await;
        assert_error(&a, 400, field);
    }
    let a = call(
        &gw,
        "POST",
        "/api/channel/",
        Some(&format!("Bearer {ADMIN_KEY}")),
        None,
    )
    .await;
    assert_eq!(a.status, 400, "empty body: {}", a.text);
    assert_eq!(a.json["success"], false);

    let id = gw.channel(json!({"type": 1, "name": "ok"})).await;
    for (body, field) in [
        (json!({"base_url": "ftp://x"}), "base_url"),
        (json!({"status": 9}), "status"),
        (json!({"models": [1]}), "models"),
        (json!({"type": 999}), "type"),
    ] {
        let a = admin(&gw, "PUT", &format!("/api/channel/{id}"), Some(body)).await;
        assert_error(&a, 400, field);
    }
    let a = admin(
        &gw,
        "POST",
        &format!("/api/channel/{id}/status"),
        Some(json!({"status": "on"})),
    )
    .await;
    assert_error(&a, 400, "status");
    assert!(
        gw.admin_ok("GET", "/api/channels/all", None)
            .await
            .as_array()
            .unwrap()
            .len()
            == 1,
        "nothing invalid was stored"
    );
    gw.stop().await;
}

#[tokio::test]
async fn non_numeric_channel_id_is_a_400_envelope() {
    let gw = Gateway::start(&[]).await;
    for (method, path, body) in [
        ("GET", "/api/channel/abc", None),
        ("PUT", "/api/channel/abc", Some(json!({"name": "x"}))),
        ("DELETE", "/api/channel/abc", None),
        (
            "POST",
            "/api/channel/abc/status",
            Some(json!({"status": 1})),
        ),
    ] {
        let a = admin(&gw, method, path, body).await;
        assert_error(&a, 400, "id");
    }
    gw.stop().await;
}

#[tokio::test]
async fn bulk_create_and_batch_delete() {
    let gw = Gateway::start(&[]).await;
    let data = gw
        .admin_ok(
            "POST",
            "/api/channels/",
            Some(json!([
                {"type": 1, "name": "b1", "key": "a\nb"},
                {"type": 53, "name": "b2", "models": ["m"]},
                {"type": 1, "name": "b3"}
            ])),
        )
        .await;
    let ids: Vec<i64> = data["ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_i64().unwrap())
        .collect();
    assert_eq!(ids.len(), 4, "{data}");
    assert_eq!(
        gw.admin_ok("GET", "/api/channels/all", None)
            .await
            .as_array()
            .unwrap()
            .len(),
        4
    );

    let a = admin(
        &gw,
        "POST",
        "/api/channels/",
        Some(json!([{"type": 1, "name": "fine"}, {"type": 999, "name": "bad"}])),
    )
    .await;
    assert_error(&a, 400, "[1]");
    assert_eq!(
        gw.admin_ok("GET", "/api/channels/all", None)
            .await
            .as_array()
            .unwrap()
            .len(),
        4,
        "an invalid entry saves nothing"
    );

    let d = gw
        .admin_ok("POST", "/api/channels/batch_delete", Some(json!([ids[0]])))
        .await;
    assert_eq!(d["deleted"], 1);
    let d = gw
        .admin_ok(
            "POST",
            "/api/channels/batch_delete",
            Some(json!({"ids": [ids[1], ids[2], 999_999]})),
        )
        .await;
    assert_eq!(d["deleted"], 2);
    let all = gw.admin_ok("GET", "/api/channels/all", None).await;
    assert_eq!(all.as_array().unwrap().len(), 1);
    assert_eq!(all[0]["id"], ids[3]);
    gw.stop().await;
}

#[tokio::test]
async fn every_route_with_and_without_trailing_slash_never_redirects() {
    let gw = Gateway::start(&[]).await;
    let a = admin(
        &gw,
        "POST",
        "/api/channel",
        Some(json!({"type": 1, "name": "no-slash"})),
    )
    .await;
    let id = assert_ok(&a)["id"].as_i64().unwrap();
    let a = admin(
        &gw,
        "POST",
        "/api/channel/",
        Some(json!({"type": 1, "name": "slash"})),
    )
    .await;
    let id2 = assert_ok(&a)["id"].as_i64().unwrap();
    for base in [
        "/api/channels",
        "/api/channels/all",
        "/api/channels/search?keyword=slash",
        "/api/channels/type_metas",
        &format!("/api/channel/{id}"),
    ] {
        let (path, query) = base.split_once('?').unwrap_or((base, ""));
        let query = if query.is_empty() {
            String::new()
        } else {
            format!("?{query}")
        };
        for p in [format!("{path}{query}"), format!("{path}/{query}")] {
            let a = admin(&gw, "GET", &p, None).await;
            assert_eq!(a.status, 200, "GET {p}: {}", a.text);
            assert_eq!(a.json["success"], true, "GET {p}");
        }
    }
    for path in [format!("/api/channel/{id}"), format!("/api/channel/{id}/")] {
        let a = admin(&gw, "PUT", &path, Some(json!({"priority": 3}))).await;
        assert_eq!(a.status, 200, "PUT {path}: {}", a.text);
    }
    for path in [
        format!("/api/channel/{id}/status"),
        format!("/api/channel/{id}/status/"),
    ] {
        let a = admin(&gw, "POST", &path, Some(json!({"status": 2}))).await;
        assert_eq!(a.status, 200, "POST {path}: {}", a.text);
    }
    let a = admin(
        &gw,
        "POST",
        "/api/channels",
        Some(json!([{"type": 1, "name": "bulk"}])),
    )
    .await;
    let bulk = assert_ok(&a)["ids"][0].as_i64().unwrap();
    let a = admin(
        &gw,
        "POST",
        "/api/channels/batch_delete/",
        Some(json!([bulk])),
    )
    .await;
    assert_eq!(assert_ok(&a)["deleted"], 1);
    let a = admin(&gw, "DELETE", &format!("/api/channel/{id}/"), None).await;
    assert_eq!(a.status, 200, "{}", a.text);
    let a = admin(&gw, "DELETE", &format!("/api/channel/{id2}"), None).await;
    assert_eq!(a.status, 200, "{}", a.text);
    gw.stop().await;
}

#[tokio::test]
async fn admin_authentication() {
    let gw = Gateway::start(&[]).await;
    let a = call(&gw, "GET", "/api/channels/all", None, None).await;
    assert_error(&a, 401, "no access token");
    let a = call(
        &gw,
        "GET",
        "/api/channels/all",
        Some("Bearer wrong-key"),
        None,
    )
    .await;
    assert_error(&a, 401, "unauthorized");
    let a = call(&gw, "GET", "/api/channels/all?key=wrong-key", None, None).await;
    assert_eq!(a.status, 401);
    for auth in [
        format!("Bearer {ADMIN_KEY}"),
        format!("Bearer sk-{ADMIN_KEY}"),
        ADMIN_KEY.to_owned(),
        format!("sk-{ADMIN_KEY}"),
    ] {
        let a = call(&gw, "GET", "/api/channels/all", Some(&auth), None).await;
        assert_eq!(a.status, 200, "Authorization: {auth}: {}", a.text);
        assert_eq!(a.json["success"], true);
    }
    let a = call(
        &gw,
        "GET",
        &format!("/api/channels/all?key={ADMIN_KEY}"),
        None,
        None,
    )
    .await;
    assert_eq!(a.status, 200, "{}", a.text);
    assert_eq!(a.json["success"], true);
    // A write with ?key= works too.
    let a = call(
        &gw,
        "POST",
        &format!("/api/channel/?key={ADMIN_KEY}"),
        None,
        Some(json!({"type": 1, "name": "via-query"})),
    )
    .await;
    assert!(assert_ok(&a)["id"].as_i64().unwrap() > 0);

    for path in ["/api/status", "/api/status/"] {
        let a = call(&gw, "GET", path, None, None).await;
        assert_eq!(a.status, 200, "{path}: {}", a.text);
        assert_eq!(a.json["success"], true);
    }

    let a = admin(&gw, "GET", "/api/no/such/route", None).await;
    assert_eq!(a.status, 404, "{}", a.text);
    assert_eq!(a.json["success"], false);
    assert!(a.json["message"].is_string());
    let a = call(&gw, "GET", "/api/no/such/route", None, None).await;
    assert!(
        a.status == 401 || a.status == 404,
        "unknown route without a key: {}",
        a.status
    );
    assert_eq!(a.json["success"], false);
    gw.stop().await;
}

#[tokio::test]
async fn other_admin_list_routes_accept_both_slash_forms() {
    let gw = Gateway::start(&[]).await;
    gw.token("team", json!({"name": "t"})).await;
    for path in [
        "/api/groups",
        "/api/groups/search",
        "/api/group/team",
        "/api/token/team",
        "/api/tokens",
        "/api/model_configs",
        "/api/model_configs/all",
        "/api/models/builtin",
        "/api/models/enabled",
        "/api/option",
        "/api/logs",
        "/api/logs/search",
        "/api/log/team/search",
    ] {
        for p in [path.to_owned(), format!("{path}/")] {
            let a = admin(&gw, "GET", &p, None).await;
            assert_eq!(a.status, 200, "GET {p}: {}", a.text);
            assert_eq!(a.json["success"], true, "GET {p}");
        }
    }
    gw.stop().await;
}
