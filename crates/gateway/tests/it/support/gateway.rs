//! The gateway under test, on 127.0.0.1:0, with an HTTP client and helpers
//! for the admin API and the relay.

use std::time::{Duration, Instant};

use clap::Parser;
use reqwest::StatusCode;
use serde_json::{Value, json};
use switchyard::{App, Cli, Config};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use super::db::TestDb;

pub const ADMIN_KEY: &str = "test-admin-key";

/// A running gateway.
pub struct Gateway {
    pub url: String,
    pub http: reqwest::Client,
    pub db: TestDb,
    stop: Option<oneshot::Sender<()>>,
    server: Option<JoinHandle<()>>,
}

/// A response: status, headers, parsed JSON (or Null) and raw text.
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub json: Value,
    pub text: String,
}

impl Gateway {
    /// Start with default settings plus `extra` flags.
    pub async fn start(extra: &[&str]) -> Self {
        Self::start_on(TestDb::create().await, extra).await
    }

    /// Start another gateway on the same database as `self` (for multi-instance tests).
    pub async fn start_sibling(&self, extra: &[&str]) -> Self {
        Self::start_on(self.db.share(), extra).await
    }

    async fn start_on(db: TestDb, extra: &[&str]) -> Self {
        let mut args: Vec<String> = vec![
            "switchyard".into(),
            "--listen".into(),
            "127.0.0.1:0".into(),
            "--admin-key".into(),
            ADMIN_KEY.into(),
        ];
        if !extra.contains(&"--sync-frequency") {
            args.extend(["--sync-frequency".into(), "3600".into()]);
        }
        args.extend(db.args());
        args.extend(extra.iter().map(|s| s.to_string()));
        let cli = Cli::try_parse_from(args).unwrap();
        let config = Config::from_cli(&cli).unwrap();
        let app = App::build(config).await.unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let (stop, stopped) = oneshot::channel::<()>();
        let server = tokio::spawn(async move {
            app.serve(listener, async move {
                let _ = stopped.await;
            })
            .await
            .unwrap();
        });
        Self {
            url,
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                .build()
                .unwrap(),
            db,
            stop: Some(stop),
            server: Some(server),
        }
    }

    /// Graceful shutdown (drains logs) and database cleanup.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(server) = self.server.take() {
            let _ = tokio::time::timeout(Duration::from_secs(30), server).await;
        }
        self.db.cleanup().await;
    }

    pub async fn answer(response: reqwest::Response) -> Answer {
        let status = response.status();
        let headers = response.headers().clone();
        let text = response.text().await.unwrap_or_default();
        let json = serde_json::from_str(&text).unwrap_or(Value::Null);
        Answer {
            status,
            headers,
            json,
            text,
        }
    }

    /// Call the admin API with the admin key.
    pub async fn admin(&self, method: &str, path: &str, body: Option<Value>) -> Answer {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.url))
            .bearer_auth(ADMIN_KEY);
        if let Some(body) = body {
            req = req
                .header("content-type", "application/json")
                .body(body.to_string());
        }
        Self::answer(req.send().await.unwrap()).await
    }

    /// Admin call that must succeed; returns `data`.
    pub async fn admin_ok(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let a = self.admin(method, path, body).await;
        assert!(
            a.status.is_success() && a.json["success"] == true,
            "{method} {path}: {} {}",
            a.status,
            a.text
        );
        a.json["data"].clone()
    }

    /// POST JSON to the relay with `key`.
    pub async fn post(&self, path: &str, key: &str, body: &Value) -> Answer {
        let req = self
            .http
            .post(format!("{}{path}", self.url))
            .bearer_auth(key)
            .header("content-type", "application/json");
        Self::answer(req.body(body.to_string()).send().await.unwrap()).await
    }

    /// POST raw bytes to the relay.
    pub async fn post_raw(&self, path: &str, key: &str, body: impl Into<reqwest::Body>) -> Answer {
        let req = self
            .http
            .post(format!("{}{path}", self.url))
            .bearer_auth(key)
            .header("content-type", "application/json");
        Self::answer(req.body(body).send().await.unwrap()).await
    }

    /// A gateway with `gpt-4o` served by one OpenAI channel (key
    /// `sk-upstream`, plus the fields of `extra_channel`) to `upstream`, and
    /// the key of a token in group `team`.
    pub async fn with_one_channel(
        upstream: &super::FakeUpstream,
        extra_channel: Value,
    ) -> (Self, String) {
        let gw = Self::start(&[]).await;
        gw.model("gpt-4o").await;
        let mut channel = json!({"type": 1, "name": "up", "key": "sk-upstream", "base_url": upstream.base_url(), "models": ["gpt-4o"]});
        if let (Some(c), Some(extra)) = (channel.as_object_mut(), extra_channel.as_object()) {
            c.extend(extra.clone());
        }
        gw.channel(channel).await;
        let key = gw.token("team", json!({"name": "ci"})).await;
        (gw, key)
    }

    /// Create a channel; returns its id.
    pub async fn channel(&self, body: Value) -> i64 {
        self.admin_ok("POST", "/api/channel/", Some(body)).await["id"]
            .as_i64()
            .unwrap()
    }

    /// Create a model config.
    pub async fn model(&self, model: &str) {
        self.admin_ok(
            "POST",
            &format!("/api/model_config/{model}"),
            Some(json!({"owner": "test", "type": 0})),
        )
        .await;
    }

    /// Create a token in `group` (auto-creating the group); returns its key.
    pub async fn token(&self, group: &str, body: Value) -> String {
        let data = self
            .admin_ok(
                "POST",
                &format!("/api/token/{group}?auto_create_group=true"),
                Some(body),
            )
            .await;
        data["key"].as_str().unwrap().to_owned()
    }

    /// Wait until the log row of `request_id` is stored and return it.
    pub async fn log_row(&self, request_id: &str) -> Value {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let data = self
                .admin_ok(
                    "GET",
                    &format!("/api/logs/search?request_id={request_id}"),
                    None,
                )
                .await;
            if let Some(row) = data["logs"].as_array().and_then(|l| l.first()) {
                return row.clone();
            }
            assert!(Instant::now() < deadline, "no log row for {request_id}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Answer {
    /// The request id the gateway assigned.
    pub fn request_id(&self) -> String {
        self.headers
            .get("x-request-id")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    }
}
