//! The real `switchyard` binary: `.env`, the generated admin key kept across
//! restarts, SIGTERM finishing in-flight streams and flushing logs; and
//! several instances on one database converging.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::support::Gateway;

struct Binary {
    child: Child,
    url: String,
    stderr: mpsc::Receiver<String>,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Start the binary in `dir` (where a `.env` may live) with a clean environment.
async fn spawn(dir: &Path, port: u16) -> Binary {
    let mut command = Command::new(env!("CARGO_BIN_EXE_switchyard"));
    command
        .current_dir(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .env_clear();
    if let Ok(path) = std::env::var("PATH") {
        command.env("PATH", path);
    }
    let mut child = command.spawn().unwrap();
    let (tx, stderr) = mpsc::channel();
    let pipe = child.stderr.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(pipe).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let url = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Ok(r) = client.get(format!("{url}/api/status")).send().await
            && r.status() == 200
        {
            break;
        }
        assert!(Instant::now() < deadline, "binary did not come up on {url}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Binary { child, url, stderr }
}

impl Binary {
    fn stderr_text(&self) -> String {
        self.stderr.try_iter().collect::<Vec<_>>().join("\n")
    }

    fn terminate(&mut self) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        assert!(
            Command::new("kill")
                .args(["-TERM", &pid])
                .status()
                .unwrap()
                .success()
        );
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "binary did not exit after SIGTERM"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Binary {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn get_status(url: &str, key: &str) -> u16 {
    reqwest::Client::new()
        .get(format!("{url}/api/channels/all"))
        .bearer_auth(key)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test]
async fn binary_reads_dotenv_and_keeps_its_generated_admin_key() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    std::fs::write(
        dir.path().join(".env"),
        format!("LISTEN=127.0.0.1:{port}\nSQLITE_PATH=data/gw.db\n"),
    )
    .unwrap();
    let mut first = spawn(dir.path(), port).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let text = first.stderr_text();
    let key = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("ADMIN_KEY="))
        .unwrap_or_else(|| panic!("generated key printed once: {text}"))
        .to_owned();
    assert_eq!(key.len(), 48);
    assert!(
        dir.path().join("data/gw.db").exists(),
        "SQLITE_PATH from .env was used"
    );
    assert_eq!(get_status(&first.url, &key).await, 200);
    assert_eq!(get_status(&first.url, "wrong").await, 401);
    assert!(first.terminate().success());

    let second = spawn(dir.path(), port).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(
        !second.stderr_text().contains("ADMIN_KEY="),
        "the key is printed only when generated"
    );
    assert_eq!(
        get_status(&second.url, &key).await,
        200,
        "restarts keep the generated key"
    );
}

#[tokio::test]
async fn sigterm_finishes_in_flight_streams_and_flushes_logs() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    std::fs::write(
        dir.path().join(".env"),
        format!("LISTEN=127.0.0.1:{port}\nADMIN_KEY=adm\nDISABLE_MODEL_CONFIG=true\n"),
    )
    .unwrap();
    let mut gw = spawn(dir.path(), port).await;
    let http = reqwest::Client::new();
    let created = http
        .post(format!("{}/api/channel/", gw.url))
        .bearer_auth("adm")
        .body(json!({"type": 53, "name": "slow", "models": ["m"], "configs": {"stream_chunks": 10, "chunk_delay_ms": 100}}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 200);
    let mut stream = http
        .post(format!("{}/v1/chat/completions", gw.url))
        .bearer_auth("adm")
        .body(
            json!({"model": "m", "stream": true, "messages": [{"role": "user", "content": "hi"}]})
                .to_string(),
        )
        .send()
        .await
        .unwrap();
    let request_id = stream.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_owned();
    stream.chunk().await.unwrap().unwrap();
    let pid = gw.child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    let mut body = Vec::new();
    while let Some(chunk) = stream.chunk().await.unwrap() {
        body.extend_from_slice(&chunk);
    }
    assert!(
        String::from_utf8_lossy(&body).contains("[DONE]"),
        "the in-flight stream was finished"
    );
    assert!(gw.terminate().success());

    let again = spawn(dir.path(), port).await;
    let logs: Value = serde_json::from_str(
        &http
            .get(format!(
                "{}/api/logs/search?request_id={request_id}",
                again.url
            ))
            .bearer_auth("adm")
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
    )
    .unwrap();
    assert_eq!(
        logs["data"]["total"], 1,
        "the log of the drained request was written before exit"
    );
    assert_eq!(logs["data"]["logs"][0]["code"], 200);
}

async fn wait_for(what: &str, mut check: impl AsyncFnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while !check().await {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn chat_status(gw: &Gateway, key: &str) -> u16 {
    gw.post(
        "/v1/chat/completions",
        key,
        &json!({"model": "m", "messages": []}),
    )
    .await
    .status
    .as_u16()
}

async fn configure(gw: &Gateway) -> (String, i64) {
    gw.model("m").await;
    gw.channel(json!({"type": 53, "name": "f", "models": ["m"]}))
        .await;
    let token = gw
        .admin_ok(
            "POST",
            "/api/token/team?auto_create_group=true",
            Some(json!({"name": "t"})),
        )
        .await;
    (
        token["key"].as_str().unwrap().to_owned(),
        token["id"].as_i64().unwrap(),
    )
}

#[tokio::test]
async fn instances_on_one_database_converge_on_their_sync_period() {
    let a = Gateway::start(&["--sync-frequency", "1"]).await;
    let b = a.start_sibling(&["--sync-frequency", "1"]).await;
    let (key, id) = configure(&a).await;
    wait_for("the other instance to see the new token", async || {
        chat_status(&b, &key).await == 200
    })
    .await;
    a.admin_ok(
        "POST",
        &format!("/api/token/team/{id}/status"),
        Some(json!({"status": 2})),
    )
    .await;
    assert_eq!(
        chat_status(&a, &key).await,
        401,
        "the writing instance applies the change at once"
    );
    wait_for("the other instance to see the disabled token", async || {
        chat_status(&b, &key).await == 401
    })
    .await;
    b.stop().await;
    a.stop().await;
}

#[tokio::test]
async fn redis_broadcast_applies_changes_on_other_instances_at_once() {
    let Ok(redis) = std::env::var("TEST_REDIS_URL") else {
        return; // Runs in CI's PostgreSQL + Redis pass.
    };
    let a = Gateway::start(&["--redis", &redis]).await;
    let b = a.start_sibling(&["--redis", &redis]).await;
    let (key, id) = configure(&a).await;
    wait_for("the broadcast to reach the other instance", async || {
        chat_status(&b, &key).await == 200
    })
    .await;
    // Timed from the write alone, so a slow (shared, loaded) machine
    // cannot blame the set-up on the broadcast.
    let started = Instant::now();
    a.admin_ok(
        "POST",
        &format!("/api/token/team/{id}/status"),
        Some(json!({"status": 2})),
    )
    .await;
    wait_for("the disabled token on the other instance", async || {
        chat_status(&b, &key).await == 401
    })
    .await;
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "sync period is an hour here; only the broadcast can explain it"
    );
    b.stop().await;
    a.stop().await;
}
