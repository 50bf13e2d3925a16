//! Keeping several instances' snapshots in step.
//!
//! Every instance reloads its snapshot every `SYNC_FREQUENCY` seconds. With
//! `REDIS` set, an instance that changes configuration also publishes on
//! [`CHANNEL`]; the others reload at once, so a change made on one instance
//! takes effect on all within milliseconds (and within `SYNC_FREQUENCY` if
//! Redis is unreachable).

use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use redis::AsyncCommands;
use redis::aio::ConnectionManager;
use tokio_util::sync::CancellationToken;

use crate::snapshot::SnapshotHandle;

/// The Redis pub/sub channel carrying configuration-change notices.
pub const CHANNEL: &str = "switchyard:config-changed";

/// Publishes configuration-change notices (no-op without Redis).
#[derive(Clone)]
pub struct ConfigBroadcast {
    instance: String,
    redis: Option<(redis::Client, ConnectionManager)>,
}

impl std::fmt::Debug for ConfigBroadcast {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConfigBroadcast")
            .field("instance", &self.instance)
            .field("redis", &self.redis.is_some())
            .finish()
    }
}

impl ConfigBroadcast {
    /// Connect to Redis when a URL is given.
    pub async fn connect(url: Option<&str>) -> Result<Self, redis::RedisError> {
        let instance = uuid::Uuid::now_v7().simple().to_string();
        let redis = match url {
            None => None,
            Some(url) => {
                let client = redis::Client::open(url)?;
                let manager = client.get_connection_manager().await?;
                Some((client, manager))
            }
        };
        Ok(Self { instance, redis })
    }

    /// A broadcaster that only reloads locally.
    pub fn disabled() -> Self {
        Self {
            instance: String::new(),
            redis: None,
        }
    }

    /// Tell the other instances to reload.
    pub async fn publish(&self) {
        let Some((_, manager)) = &self.redis else {
            return;
        };
        let mut conn = manager.clone();
        let result: redis::RedisResult<i64> = conn.publish(CHANNEL, &self.instance).await;
        if let Err(e) = result {
            tracing::warn!(error = %e, "could not publish a configuration change; other instances reload on their next sync");
        }
    }

    /// Reload periodically, and at once on notices from other instances.
    pub async fn run(
        self,
        snapshot: Arc<SnapshotHandle>,
        every: Duration,
        stop: CancellationToken,
    ) {
        let listener = self.redis.as_ref().map(|(client, _)| {
            let client = client.clone();
            let snapshot = snapshot.clone();
            let stop = stop.clone();
            let me = self.instance.clone();
            tokio::spawn(async move { listen(client, me, snapshot, stop).await })
        });
        loop {
            tokio::select! {
                () = tokio::time::sleep(every) => {}
                () = stop.cancelled() => break,
            }
            if let Err(e) = snapshot.reload().await {
                tracing::warn!(error = %e, "periodic configuration reload failed");
            }
        }
        if let Some(listener) = listener {
            listener.abort();
        }
    }
}

async fn listen(
    client: redis::Client,
    me: String,
    snapshot: Arc<SnapshotHandle>,
    stop: CancellationToken,
) {
    while !stop.is_cancelled() {
        match client.get_async_pubsub().await {
            Ok(mut pubsub) => {
                if let Err(e) = pubsub.subscribe(CHANNEL).await {
                    tracing::warn!(error = %e, "subscribing to configuration changes failed");
                } else {
                    let mut messages = pubsub.on_message();
                    while let Some(message) = messages.next().await {
                        let sender: String = message.get_payload().unwrap_or_default();
                        if sender != me
                            && let Err(e) = snapshot.reload().await
                        {
                            tracing::warn!(error = %e, "configuration reload after a notice failed");
                        }
                    }
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "connecting to Redis for configuration changes failed")
            }
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}
