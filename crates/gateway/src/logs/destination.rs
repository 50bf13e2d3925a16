//! Where the log writer's batches go: straight into SQLite on the writer's
//! own thread when both databases are SQLite files
//! ([`crate::store::sqlite_batch`]), otherwise through sqlx pools of its own
//! (PostgreSQL, or one database of each kind).

use crate::config::{DatabaseConfig, DbTarget};
use crate::logs::record::LogEntry;
use crate::store::logs::UsageCounters;
use crate::store::sqlite_batch::SqliteBatchWriter;
use crate::store::{Store, StoreError};

/// The writer's connections.
#[derive(Debug)]
pub enum Destination {
    /// Synchronous SQLite connections, stepped on the writer thread (boxed:
    /// a connection with its hooks is some hundreds of bytes).
    Sqlite(Box<SqliteBatchWriter>),
    /// sqlx pools.
    Pools(Store),
}

impl Destination {
    /// Open the connections `database` calls for.
    pub async fn open(database: &DatabaseConfig) -> Result<Self, StoreError> {
        let logs = database.logs.as_ref().unwrap_or(&database.main);
        match (&database.main, logs) {
            (DbTarget::Sqlite(main), DbTarget::Sqlite(logs)) => Ok(Self::Sqlite(Box::new(
                SqliteBatchWriter::open(logs, main, database.sqlite_busy_timeout)?,
            ))),
            _ => Ok(Self::Pools(Store::connect(database).await?)),
        }
    }

    /// Write a batch and its summaries in one transaction, and `counters`
    /// with them when the counters live in the same database: `true` then,
    /// `false` when they are left to [`Self::apply_usage_counters`].
    pub async fn insert_log_batch(
        &mut self,
        entries: &[LogEntry],
        counters: &UsageCounters,
    ) -> Result<bool, StoreError> {
        match self {
            Self::Sqlite(writer) => writer.insert_log_batch(entries, counters),
            Self::Pools(store) => store.insert_log_batch(entries, counters).await,
        }
    }

    /// Add the usage counters to tokens, groups and channels.
    pub async fn apply_usage_counters(
        &mut self,
        counters: &UsageCounters,
    ) -> Result<(), StoreError> {
        match self {
            Self::Sqlite(writer) => writer.apply_usage_counters(counters),
            Self::Pools(store) => store.apply_usage_counters(counters).await,
        }
    }

    /// Close the connections.
    pub async fn close(self) {
        match self {
            Self::Sqlite(writer) => drop(writer),
            Self::Pools(store) => store.close().await,
        }
    }
}
