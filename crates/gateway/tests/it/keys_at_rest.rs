//! Keys at rest: with ENCRYPTION_KEY the database holds no working token or
//! channel key, relaying and the admin API still work, plaintext rows from
//! before the key are sealed at start, and a wrong or missing key refuses
//! to start instead of failing requests later.

use clap::Parser;
use serde_json::json;
use switchyard::store::Store;
use switchyard::{App, Cli, Config};

use crate::support::upstream::chat_json;
use crate::support::{FakeUpstream, Gateway, Reply};

fn config(gw: &Gateway, extra: &[&str]) -> Config {
    let mut args = vec!["switchyard".to_owned(), "--admin-key".into(), "k".into()];
    args.extend(gw.db.args());
    args.extend(extra.iter().map(|s| s.to_string()));
    Config::from_cli(&Cli::try_parse_from(args).unwrap()).unwrap()
}

/// Every stored key of `table`.
async fn stored_keys(gw: &Gateway, table: &str) -> Vec<String> {
    let store = Store::connect(&config(gw, &[]).database).await.unwrap();
    let rows: Vec<(String,)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT key FROM {table} ORDER BY id"
    )))
    .fetch_all(store.main())
    .await
    .unwrap();
    store.close().await;
    rows.into_iter().map(|(k,)| k).collect()
}

#[tokio::test]
async fn keys_are_sealed_at_rest_and_the_wrong_key_refuses_to_start() {
    let up = FakeUpstream::start(|_, _| Reply::Json(200, chat_json("m", "ok", Some((1, 1))))).await;
    // Written before a key was set: plaintext.
    let plain = Gateway::start(&[]).await;
    plain.model("m").await;
    plain
        .channel(json!({"type": 1, "name": "up", "key": "sk-channel-secret",
            "base_url": up.base_url(), "models": ["m"]}))
        .await;
    let old_key = plain.token("team", json!({"name": "old"})).await;
    assert_eq!(
        stored_keys(&plain, "tokens").await,
        std::slice::from_ref(&old_key)
    );

    // Started with a key: existing rows are sealed, new ones too.
    let sealed = plain
        .start_sibling(&["--encryption-key", "correct horse battery"])
        .await;
    let new_key = sealed.token("team", json!({"name": "new"})).await;
    for table in ["tokens", "channels"] {
        for stored in stored_keys(&sealed, table).await {
            assert!(stored.starts_with("enc:v1:"), "{table}: {stored}");
            for secret in [&old_key, &new_key, &"sk-channel-secret".to_owned()] {
                assert!(!stored.contains(secret.as_str()), "{table} leaks a key");
            }
        }
    }
    // Everything still works through the sealed instance.
    for key in [&old_key, &new_key] {
        let a = sealed
            .post(
                "/v1/chat/completions",
                key,
                &json!({"model": "m", "messages": [{"role": "user", "content": "hi"}]}),
            )
            .await;
        assert_eq!(a.status, 200, "{}", a.text);
    }
    assert_eq!(
        up.received().last().unwrap().headers["authorization"],
        "Bearer sk-channel-secret"
    );
    let tokens = sealed.admin_ok("GET", "/api/token/team", None).await;
    let shown: Vec<&str> = tokens["tokens"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["key"].as_str().unwrap())
        .collect();
    assert!(shown.contains(&old_key.as_str()) && shown.contains(&new_key.as_str()));

    // A different key, or none, refuses to start on this database.
    for extra in [&["--encryption-key", "wrong"][..], &[][..]] {
        let refused = App::build(config(&sealed, extra)).await;
        let message = refused.err().map(|e| e.to_string()).unwrap_or_default();
        assert!(message.contains("ENCRYPTION_KEY"), "{extra:?}: {message}");
    }
    sealed.stop().await;
    plain.stop().await;
}

#[tokio::test]
async fn a_channel_key_echoed_by_the_upstream_is_masked_everywhere() {
    let up = FakeUpstream::start(|_, _| {
        Reply::Json(
            400,
            json!({"error": {"message": "Incorrect API key provided: sk-live-0123456789abcdef"}}),
        )
    })
    .await;
    let gw = Gateway::start(&[]).await;
    gw.model("m").await;
    gw.channel(
        json!({"type": 1, "name": "up", "key": "sk-live-0123456789abcdef",
        "base_url": up.base_url(), "models": ["m"]}),
    )
    .await;
    let key = gw.token("team", json!({"name": "ci"})).await;
    let a = gw
        .post(
            "/v1/chat/completions",
            &key,
            &json!({"model": "m", "messages": [{"role": "user", "content": "hi"}]}),
        )
        .await;
    assert_eq!(a.status, 400);
    assert!(!a.text.contains("0123456789abcdef"), "{}", a.text);
    assert!(a.text.contains("sk-l…cdef"), "{}", a.text);
    let row = gw.log_row(&a.request_id()).await;
    assert!(!row.to_string().contains("0123456789abcdef"), "{row}");
    let detail = gw
        .admin_ok("GET", &format!("/api/logs/detail/{}", row["id"]), None)
        .await;
    assert!(!detail.to_string().contains("0123456789abcdef"), "{detail}");
    gw.stop().await;
}
