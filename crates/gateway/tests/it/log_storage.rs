//! Where logs go and how long they stay: a separate log database, time-based
//! retention, and a log database outage (writes retried, requests held back
//! by the bounded queue, nothing lost).

use std::time::Duration;

use serde_json::json;
use sqlx::Connection;
use switchyard::config::{DatabaseConfig, DbTarget};
use switchyard::logs::record::{LogEntry, LogRecord};
use switchyard::store::Store;

use crate::support::Gateway;

async fn fake_setup(gw: &Gateway) -> String {
    gw.model("m").await;
    gw.channel(json!({"type": 53, "name": "f", "models": ["m"]}))
        .await;
    gw.token("team", json!({"name": "t"})).await
}

async fn chat(gw: &Gateway, key: &str) -> String {
    let a = gw
        .post(
            "/v1/chat/completions",
            key,
            &json!({"model": "m", "messages": []}),
        )
        .await;
    assert_eq!(a.status, 200, "{}", a.text);
    a.request_id()
}

#[tokio::test]
async fn logs_go_to_the_separate_log_database() {
    let dir = tempfile::tempdir().unwrap();
    let log_db = dir.path().join("logs.db");
    let gw = Gateway::start(&["--log-sql-dsn", log_db.to_str().unwrap()]).await;
    let key = fake_setup(&gw).await;
    let request_id = chat(&gw, &key).await;
    gw.log_row(&request_id).await;
    let url = format!("sqlite://{}", log_db.display());
    let mut conn = sqlx::SqliteConnection::connect(&url).await.unwrap();
    let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM logs WHERE request_id = $1")
        .bind(&request_id)
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(n, 1, "the row is in the log database");
    gw.stop().await;
}

fn old_record(request_id: &str, created_at: i64) -> LogEntry {
    LogEntry::Request {
        record: Box::new(LogRecord {
            request_id: request_id.into(),
            request_at: created_at,
            created_at,
            code: 200,
            ..LogRecord::default()
        }),
        detail: None,
    }
}

/// A store on the test database: a fresh PostgreSQL database when
/// `TEST_DATABASE_URL` names one, else SQLite in `dir`.
async fn test_store(dir: &tempfile::TempDir) -> Store {
    let target = match std::env::var("TEST_DATABASE_URL") {
        Ok(url) if url.starts_with("postgres") => {
            let name = format!("sy_test_{}", uuid::Uuid::now_v7().simple());
            let mut conn = sqlx::PgConnection::connect(&url).await.unwrap();
            sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                .execute(&mut conn)
                .await
                .unwrap();
            DbTarget::Postgres(format!("{}/{name}", url.rsplit_once('/').unwrap().0))
        }
        _ => DbTarget::Sqlite(dir.path().join("r.db")),
    };
    let store = Store::connect(&DatabaseConfig {
        main: target,
        logs: None,
        max_connections: 4,
        sqlite_busy_timeout: Duration::from_secs(3),
    })
    .await
    .unwrap();
    store.migrate().await.unwrap();
    store
}

#[tokio::test]
async fn a_large_batch_stores_every_row_once_with_its_fields() {
    let dir = tempfile::tempdir().unwrap();
    let store = test_store(&dir).await;
    let now = switchyard::store::now_ms();
    // 460 distinct ids (statements of 128, 128, 128, 64, 8 and 4 rows)
    // and one id sent twice (those rows go one by one).
    let mut batch: Vec<LogEntry> = (0..460)
        .map(|i| {
            let mut entry = old_record(&format!("req-{i:03}"), now - i);
            if let LogEntry::Request { record, .. } = &mut entry {
                record.code = 200 + i % 3;
                record.model = format!("model-{}", i % 7);
            }
            entry
        })
        .collect();
    batch.push(old_record("twice", now));
    batch.push(old_record("twice", now));
    let saved = store
        .insert_log_batch(&batch, &Default::default())
        .await
        .unwrap();
    assert!(saved, "the logs are in the main database");
    let mut rows = Vec::new();
    for page in 1..=5 {
        let (mut page, total) = store
            .search_logs(
                &Default::default(),
                switchyard::store::sql::Page::new(Some(page), Some(100)),
            )
            .await
            .unwrap();
        assert_eq!(total, 462);
        rows.append(&mut page);
    }
    let mut seen = std::collections::HashMap::new();
    for row in &rows {
        *seen.entry(row.request_id.clone()).or_insert(0) += 1;
        if let Some(i) = row.request_id.strip_prefix("req-") {
            let i: i64 = i.parse().unwrap();
            assert_eq!(row.code, 200 + i % 3, "{}", row.request_id);
            assert_eq!(row.model, format!("model-{}", i % 7));
            assert_eq!(row.created_at, now - i);
        }
    }
    assert_eq!(seen.len(), 461);
    assert_eq!(seen["twice"], 2);
    assert!(seen.iter().all(|(id, n)| id == "twice" || *n == 1));
    store.close().await;
}

#[tokio::test]
async fn retention_deletes_only_rows_older_than_the_window() {
    let dir = tempfile::tempdir().unwrap();
    let store = test_store(&dir).await;
    let now = switchyard::store::now_ms();
    let hour = 3_600_000;
    store
        .insert_log_batch(
            &[
                old_record("old", now - 3 * hour),
                old_record("recent", now - hour / 2),
            ],
            &Default::default(),
        )
        .await
        .unwrap();
    store
        .save_options(&[("LogStorageHours".into(), "2".into())])
        .await
        .unwrap();
    let snapshot =
        switchyard::snapshot::SnapshotHandle::load(store.clone(), Default::default(), false)
            .await
            .unwrap();
    let deleted = switchyard::logs::retention::clean_once(&store, &snapshot).await;
    assert_eq!(deleted, 1);
    let (rows, total) = store
        .search_logs(
            &Default::default(),
            switchyard::store::sql::Page::new(None, None),
        )
        .await
        .unwrap();
    assert_eq!(total, 1);
    assert_eq!(rows[0].request_id, "recent");
    store.close().await;
}

/// The gateway's own database, reached directly.
async fn gateway_database(gw: &Gateway) -> sqlx::AnyConnection {
    sqlx::any::install_default_drivers();
    let args = gw.db.args();
    let url = match args[0].as_str() {
        "--sqlite-path" => format!("sqlite://{}", args[1]),
        _ => args[1].clone(),
    };
    sqlx::AnyConnection::connect(&url).await.unwrap()
}

#[tokio::test]
async fn a_request_is_logged_together_with_its_usage_counters() {
    let gw = Gateway::start(&[]).await;
    let key = fake_setup(&gw).await;
    let mut db = gateway_database(&gw).await;
    let postgres = !gw.db.args()[0].contains("sqlite");
    // Hold every update of the tokens, as a failing write would.
    let hold: &[&str] = if postgres {
        &[
            "CREATE FUNCTION hold_tokens() RETURNS trigger LANGUAGE plpgsql AS \
             $$ BEGIN RAISE EXCEPTION 'tokens held'; END $$",
            "CREATE TRIGGER hold BEFORE UPDATE ON tokens FOR EACH ROW EXECUTE FUNCTION hold_tokens()",
        ]
    } else {
        &[
            "CREATE TRIGGER hold BEFORE UPDATE ON tokens BEGIN SELECT RAISE(ABORT, 'tokens held'); END",
        ]
    };
    for statement in hold {
        sqlx::query(sqlx::AssertSqlSafe(*statement))
            .execute(&mut db)
            .await
            .unwrap();
    }
    let request_id = chat(&gw, &key).await;

    // The writer retries the batch (after 0.1, 0.2, 0.4 and 0.8 s): while
    // the counters cannot be saved, neither is the row.
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let data = gw
        .admin_ok(
            "GET",
            &format!("/api/logs/search?request_id={request_id}"),
            None,
        )
        .await;
    assert_eq!(data["total"], 0, "a row without its usage: {data}");
    let counted = "SELECT CAST(request_count AS BIGINT) FROM tokens";
    let count: i64 = sqlx::query_scalar(counted)
        .fetch_one(&mut db)
        .await
        .unwrap();
    assert_eq!(count, 0);

    let release = if postgres {
        "DROP TRIGGER hold ON tokens"
    } else {
        "DROP TRIGGER hold"
    };
    sqlx::query(release).execute(&mut db).await.unwrap();
    gw.log_row(&request_id).await;
    let count: i64 = sqlx::query_scalar(counted)
        .fetch_one(&mut db)
        .await
        .unwrap();
    assert_eq!(count, 1, "the request counted once, with its row");
    gw.stop().await;
}

#[tokio::test]
async fn log_database_outage_holds_requests_back_and_loses_nothing() {
    let Ok(admin_url) = std::env::var("TEST_DATABASE_URL") else {
        return; // Needs a PostgreSQL log database that can be taken away; runs in CI's PostgreSQL pass.
    };
    let name = format!("sy_test_{}", uuid::Uuid::now_v7().simple());
    let mut admin = sqlx::PgConnection::connect(&admin_url).await.unwrap();
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut admin)
        .await
        .unwrap();
    let log_url = format!("{}/{name}", admin_url.rsplit_once('/').unwrap().0);
    let gw = Gateway::start(&["--log-sql-dsn", &log_url, "--log-queue-capacity", "16"]).await;
    let key = fake_setup(&gw).await;
    chat(&gw, &key).await;

    sqlx::query(sqlx::AssertSqlSafe(format!(
        "ALTER DATABASE {name} ALLOW_CONNECTIONS false"
    )))
    .execute(&mut admin)
    .await
    .unwrap();
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'"
    )))
    .execute(&mut admin)
    .await
    .unwrap();

    let mut requests = tokio::task::JoinSet::new();
    for _ in 0..40 {
        let http = gw.http.clone();
        let url = format!("{}/v1/chat/completions", gw.url);
        let key = key.clone();
        requests.spawn(async move {
            http.post(url)
                .bearer_auth(key)
                .body(json!({"model": "m", "messages": []}).to_string())
                .send()
                .await
                .unwrap()
                .status()
        });
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(
        !requests.is_empty(),
        "with the log database down and the queue full, requests wait"
    );
    let done_during_outage = 40 - requests.len();
    assert!(done_during_outage < 40, "back-pressure holds some requests");

    sqlx::query(sqlx::AssertSqlSafe(format!(
        "ALTER DATABASE {name} ALLOW_CONNECTIONS true"
    )))
    .execute(&mut admin)
    .await
    .unwrap();
    while let Some(status) = requests.join_next().await {
        assert_eq!(status.unwrap(), 200);
    }
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let data = gw
            .admin_ok("GET", "/api/logs/search?per_page=1", None)
            .await;
        if data["total"] == 41 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "all 41 rows written after the outage: {}",
            data["total"]
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    gw.stop().await;
    let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
        "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
    )))
    .execute(&mut admin)
    .await;
}

/// Scheduling policies (`/proc/<tid>/stat` field 41: 0 normal, 5 idle) of
/// this process's log writer threads and the SQLite threads they started.
fn writer_thread_policies() -> Vec<(String, u32)> {
    let mut found = Vec::new();
    for task in std::fs::read_dir("/proc/self/task").unwrap().flatten() {
        let comm = std::fs::read_to_string(task.path().join("comm")).unwrap_or_default();
        let comm = comm.trim().to_owned();
        if !comm.starts_with("switchyard-log") && !comm.starts_with("sqlx-sqlite") {
            continue;
        }
        if let Some(observed) = switchyard_sched::observe(&task.path()) {
            found.push((comm, observed.policy));
        }
    }
    found
}

#[tokio::test]
async fn log_writer_runs_on_its_own_thread_at_the_configured_priority() {
    const NORMAL: u32 = 0;
    const IDLE: u32 = 5;
    for (args, expected) in [
        (&["--log-writer-priority", "idle"][..], IDLE),
        (&[][..], NORMAL),
    ] {
        let gw = Gateway::start(args).await;
        let key = fake_setup(&gw).await;
        let id = chat(&gw, &key).await;
        assert_eq!(gw.log_row(&id).await["code"], 200);
        let policies = writer_thread_policies();
        assert!(
            policies
                .iter()
                .any(|(name, p)| name.starts_with("switchyard-log") && *p == expected),
            "{args:?}: {policies:?}"
        );
        if std::env::var("TEST_DATABASE_URL").is_err() && expected != NORMAL {
            // On SQLite the writer steps its statements on its own thread:
            // every sqlx SQLite thread is the main pool's, at the normal
            // priority, none the writer's.
            assert!(
                policies
                    .iter()
                    .filter(|(name, _)| name.starts_with("sqlx-sqlite"))
                    .all(|(_, p)| *p == NORMAL),
                "{args:?}: {policies:?}"
            );
        }
        gw.stop().await;
    }
}
