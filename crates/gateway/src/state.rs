//! The services every handler shares, behind one cheap-to-clone handle.

use std::ops::Deref;
use std::sync::Arc;

use crate::auth::InternalKeys;
use crate::config::Config;
use crate::logs::sink::LogSink;
use crate::notify::Notifier;
use crate::providers::vertex_auth::VertexAuthCache;
use crate::relay::media::MediaFetcher;
use crate::relay::upstream::HttpClients;
use crate::routing::Monitor;
use crate::snapshot::SnapshotHandle;
use crate::store::Store;
use crate::sync::ConfigBroadcast;

/// Shared services.
#[derive(Debug)]
pub struct Services {
    /// Process configuration.
    pub config: Config,
    /// Databases.
    pub store: Store,
    /// In-memory configuration.
    pub snapshot: Arc<SnapshotHandle>,
    /// Error rates and bans.
    pub monitor: Monitor,
    /// Upstream HTTP clients.
    pub http: HttpClients,
    /// Fetches remote media for upstreams that cannot (guarded, size-capped).
    pub media: MediaFetcher,
    /// Log queue.
    pub sink: LogSink,
    /// Admin and internal key hashes.
    pub keys: InternalKeys,
    /// Tells other instances about configuration changes.
    pub broadcast: ConfigBroadcast,
    /// RPM/TPM and concurrency limits.
    pub limiter: crate::limits::Limiter,
    /// Token quotas and group budgets.
    pub ledger: crate::quota::SpendLedger,
    /// Prometheus metrics.
    pub metrics: metrics_exporter_prometheus::PrometheusHandle,
    /// Process start (ms).
    pub started_at: i64,
    /// Parsed Vertex AI channel keys and their cached OAuth tokens.
    pub vertex: VertexAuthCache,
    /// Raises alerts (Feishu, webhook, process log).
    pub notifier: Notifier,
}

/// The handle handlers receive.
#[derive(Clone, Debug)]
pub struct AppState(pub Arc<Services>);

impl Deref for AppState {
    type Target = Services;

    fn deref(&self) -> &Services {
        &self.0
    }
}

impl AppState {
    /// Reload the snapshot after a configuration write and tell other instances.
    pub async fn config_changed(&self) -> Result<(), crate::store::StoreError> {
        self.snapshot.reload().await?;
        self.broadcast.publish().await;
        Ok(())
    }
}
