//! Holding the current snapshot and replacing it.

use std::collections::HashMap;
use std::sync::Arc;

use arc_swap::ArcSwap;
use tokio::sync::Mutex;

use super::Snapshot;
use super::build::{SnapshotData, build};
use crate::config::options::Options;
use crate::store::{Store, StoreError};

/// The current snapshot plus what is needed to rebuild it.
#[derive(Debug)]
pub struct SnapshotHandle {
    current: ArcSwap<Snapshot>,
    store: Store,
    option_overrides: HashMap<&'static str, String>,
    disable_model_config: bool,
    reloading: Mutex<()>,
}

impl SnapshotHandle {
    /// Load the first snapshot.
    pub async fn load(
        store: Store,
        option_overrides: HashMap<&'static str, String>,
        disable_model_config: bool,
    ) -> Result<Self, StoreError> {
        let handle = Self {
            current: ArcSwap::from_pointee(Snapshot::default()),
            store,
            option_overrides,
            disable_model_config,
            reloading: Mutex::new(()),
        };
        handle.reload().await?;
        Ok(handle)
    }

    /// The current snapshot (one atomic load).
    pub fn get(&self) -> Arc<Snapshot> {
        self.current.load_full()
    }

    /// Rebuild from the database and swap. Concurrent calls are serialised so
    /// a slow, older read never replaces a newer one.
    pub async fn reload(&self) -> Result<(), StoreError> {
        let _guard = self.reloading.lock().await;
        let data = SnapshotData {
            channels: self.store.all_channels().await?,
            groups: self.store.all_groups().await?,
            tokens: self.store.all_tokens().await?,
            model_configs: self.store.all_model_configs().await?,
            group_model_configs: self.store.all_group_model_configs().await?,
            ip_blocks: self.store.active_ip_blocks(crate::store::now_ms()).await?,
        };
        let stored_options = self.store.all_options().await?;
        let (options, warnings) = Options::resolve(&stored_options, &self.option_overrides);
        for warning in warnings {
            tracing::warn!("{warning}");
        }
        let snapshot = build(data, options, self.disable_model_config);
        self.current.store(Arc::new(snapshot));
        Ok(())
    }

    /// Options fixed by the environment.
    pub fn option_overrides(&self) -> &HashMap<&'static str, String> {
        &self.option_overrides
    }
}
