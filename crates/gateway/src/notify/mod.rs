//! Alerts: the notifier other modules raise events through, and its sinks.
//!
//! Sits beside the request path, never on it: [`Notifier::notify`] only puts
//! the alert on a bounded queue (dropping it, with a log line, if the queue
//! is full). A background task throttles each alert by `(level, key)` —
//! through Redis `SET NX PX` when `REDIS` is set, so several instances send
//! one alert between them, in memory otherwise — appends the `NotifyNote`
//! option, writes it to the process log, and posts it to the Feishu/Lark
//! bot ([`feishu`], `NOTIFY_FEISHU_WEBHOOK`) and the generic JSON webhook
//! ([`webhook`], `NOTIFY_WEBHOOK`). [`channel_alerts`] turns monitor, relay
//! and balance events into alerts.

pub mod channel_alerts;
pub mod feishu;
mod throttle;
pub mod webhook;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::Serialize;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use self::throttle::Throttle;
use crate::snapshot::SnapshotHandle;

/// Default throttle window of [`Notifier::notify`] (AI Proxy's 15 minutes).
pub const DEFAULT_THROTTLE: Duration = Duration::from_secs(15 * 60);
/// Alerts waiting to be sent; beyond this new alerts are dropped.
const QUEUE: usize = 1024;
/// Bound on one delivery to one sink.
const SEND_TIMEOUT: Duration = Duration::from_secs(10);

/// How bad an alert is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// Good news (a banned pair recovered).
    Info,
    /// Needs a look (error rate above the warning threshold).
    Warn,
    /// Needs action (bans, rejected credentials, low balance).
    Error,
}

impl Level {
    /// Lower-case name, as in throttle keys and webhook bodies.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Info => "info",
            Self::Warn => "warn",
            Self::Error => "error",
        }
    }
}

/// One alert as the sinks receive it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Alert {
    /// Severity.
    pub level: Level,
    /// Throttle key: identical keys within the window are sent once.
    pub key: String,
    /// Short title.
    pub title: String,
    /// Body text (Markdown for Feishu).
    pub message: String,
    /// The `NotifyNote` option, when set.
    pub note: String,
    /// When it was raised (ms).
    pub timestamp: i64,
    /// Throttle window (zero: never throttled).
    #[serde(skip)]
    pub window: Duration,
}

/// Where alerts go besides the process log.
#[derive(Debug, Clone, Default)]
pub struct NotifySettings {
    /// Feishu/Lark custom bot webhook URL.
    pub feishu_webhook: Option<String>,
    /// Generic JSON webhook URL.
    pub webhook: Option<String>,
    /// Redis URL for the shared throttle.
    pub redis: Option<String>,
    /// Prefix of throttle keys in Redis (one per installation).
    pub namespace: String,
}

/// Raises alerts. Cheap to clone; never blocks.
#[derive(Debug, Clone)]
pub struct Notifier {
    tx: mpsc::Sender<Alert>,
    /// Alerts queued recently, by `level:key`: repeats inside their window
    /// are dropped here, so an outage cannot flood the queue.
    recent: Arc<Mutex<HashMap<String, Instant>>>,
}

impl Notifier {
    /// Start the delivery task; it runs until `stop` is cancelled.
    pub fn start(
        settings: NotifySettings,
        http: reqwest::Client,
        snapshot: Arc<SnapshotHandle>,
        stop: CancellationToken,
    ) -> (Self, JoinHandle<()>) {
        let (tx, rx) = mpsc::channel(QUEUE);
        let throttle = Throttle::new(settings.redis.as_deref(), settings.namespace.clone());
        let task = tokio::spawn(deliver(rx, settings, http, snapshot, throttle, stop));
        let recent = Arc::new(Mutex::new(HashMap::new()));
        (Self { tx, recent }, task)
    }

    /// Raise an alert, sent at most once per [`DEFAULT_THROTTLE`] for the same `(level, key)`.
    pub fn notify(&self, level: Level, key: &str, title: &str, message: &str) {
        self.notify_every(level, key, DEFAULT_THROTTLE, title, message);
    }

    /// Raise an alert throttled over `window` (zero: always sent).
    pub fn notify_every(
        &self,
        level: Level,
        key: &str,
        window: Duration,
        title: &str,
        message: &str,
    ) {
        if !window.is_zero() && self.queued_recently(level, key, window) {
            return;
        }
        let alert = Alert {
            level,
            key: key.to_owned(),
            title: title.to_owned(),
            message: message.to_owned(),
            note: String::new(),
            timestamp: crate::store::now_ms(),
            window,
        };
        if let Err(e) = self.tx.try_send(alert) {
            tracing::warn!(key, error = %e, "alert queue full or closed; alert dropped");
        }
    }
}

impl Notifier {
    /// True when the same alert was queued within `window` (else remembers it now).
    fn queued_recently(&self, level: Level, key: &str, window: Duration) -> bool {
        let Ok(mut recent) = self.recent.lock() else {
            return false;
        };
        let now = Instant::now();
        if recent.len() >= 4096 {
            recent.retain(|_, until| *until > now);
        }
        let id = format!("{}:{key}", level.as_str());
        match recent.get(&id) {
            Some(until) if *until > now => true,
            _ => {
                recent.insert(id, now + window);
                false
            }
        }
    }
}

async fn deliver(
    mut rx: mpsc::Receiver<Alert>,
    settings: NotifySettings,
    http: reqwest::Client,
    snapshot: Arc<SnapshotHandle>,
    mut throttle: Throttle,
    stop: CancellationToken,
) {
    loop {
        let mut alert = tokio::select! {
            () = stop.cancelled() => return,
            next = rx.recv() => match next {
                Some(alert) => alert,
                None => return,
            },
        };
        if !throttle.admit(alert.level, &alert.key, alert.window).await {
            tracing::debug!(key = alert.key, "alert throttled");
            continue;
        }
        alert.note = snapshot.get().options.notify_note.clone();
        log(&alert);
        if let Some(url) = &settings.feishu_webhook {
            post(&http, url, &feishu::card(&alert), "feishu").await;
        }
        if let Some(url) = &settings.webhook {
            post(&http, url, &webhook::body(&alert), "webhook").await;
        }
    }
}

fn log(alert: &Alert) {
    match alert.level {
        Level::Info => tracing::info!(key = alert.key, title = alert.title, "{}", alert.message),
        Level::Warn => tracing::warn!(key = alert.key, title = alert.title, "{}", alert.message),
        Level::Error => tracing::error!(key = alert.key, title = alert.title, "{}", alert.message),
    }
}

async fn post(http: &reqwest::Client, url: &str, body: &serde_json::Value, sink: &str) {
    let sent = http
        .post(url)
        .timeout(SEND_TIMEOUT)
        .header(http::header::CONTENT_TYPE, "application/json")
        .body(body.to_string())
        .send()
        .await
        .and_then(reqwest::Response::error_for_status);
    match sent {
        Ok(response) => {
            if sink == "feishu" {
                feishu::check_answer(response).await;
            }
        }
        Err(e) => tracing::warn!(sink, error = %e, "alert delivery failed"),
    }
}
