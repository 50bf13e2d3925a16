//! Persistence: one `Store` over sqlx's `Any` driver, SQLite or PostgreSQL.
//!
//! The same SQL text (with `$N` placeholders) runs on both backends; only the
//! migrations differ (`migrations/<backend>/{main,logs}`). The main pool holds
//! configuration (channels, groups, tokens, model configs, options); the log
//! pool holds request logs and may be a separate database (`LOG_SQL_DSN`).
//! Nothing here is called on the request path: the relay reads the in-memory
//! snapshot and writes logs through the batched sink.

pub mod admin_extra;
pub mod channel_tests;
pub mod channels;
pub mod groups;
pub mod ip_blocks;
pub mod log_batch;
pub mod logs;
pub mod model_configs;
pub mod options;
pub mod responses;
pub mod row;
mod sealing;
pub mod sql;
pub mod sqlite_batch;
pub mod summaries;
pub mod tokens;
pub mod values;

use std::time::Duration;

use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::migrate::Migrator;
use sqlx::{AnyPool, Executor};
use thiserror::Error;

use crate::config::{DatabaseConfig, DbTarget};

/// A storage failure.
#[derive(Debug, Error)]
pub enum StoreError {
    /// The database reported an error.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// The log writer's own SQLite connection reported an error.
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// A migration failed.
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// The record does not exist.
    #[error("{0} not found")]
    NotFound(String),
    /// The write conflicts with an existing record.
    #[error("{0}")]
    Conflict(String),
    /// The write would exceed a configured limit.
    #[error("{0}")]
    LimitReached(String),
    /// A sealed key could not be sealed or opened.
    #[error("{0}")]
    Secret(#[from] crate::secrets::SecretError),
    /// A stored value could not be decoded.
    #[error("stored value of `{column}` is corrupt: {reason}")]
    Corrupt {
        /// Column name.
        column: &'static str,
        /// Decoder message.
        reason: String,
    },
}

impl StoreError {
    /// True when the database rejected a write because of a unique constraint.
    pub fn is_unique_violation(&self) -> bool {
        match self {
            Self::Database(sqlx::Error::Database(e)) => {
                e.is_unique_violation()
                    || e.message().contains("UNIQUE constraint failed")
                    || e.code().as_deref() == Some("23505")
            }
            _ => false,
        }
    }
}

/// Which engine a pool talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DbKind {
    /// SQLite.
    Sqlite,
    /// PostgreSQL.
    Postgres,
}

/// Handle to the main and log databases. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Store {
    main: AnyPool,
    logs: AnyPool,
    main_kind: DbKind,
    logs_kind: DbKind,
    separate_logs: bool,
    secrets: std::sync::Arc<crate::secrets::Secrets>,
}

impl Store {
    /// Open the pools described by `config` (migrations are run separately).
    pub async fn connect(config: &DatabaseConfig) -> Result<Self, StoreError> {
        install_default_drivers();
        let (main, main_kind) = open_pool(&config.main, config).await?;
        let (logs, logs_kind, separate_logs) = match &config.logs {
            Some(target) if *target != config.main => {
                let (pool, kind) = open_pool(target, config).await?;
                (pool, kind, true)
            }
            _ => (main.clone(), main_kind, false),
        };
        Ok(Self {
            main,
            logs,
            main_kind,
            logs_kind,
            separate_logs,
            secrets: std::sync::Arc::new(crate::secrets::Secrets::new(None)),
        })
    }

    /// Seal token and channel keys with `secrets` from now on.
    pub fn with_secrets(mut self, secrets: crate::secrets::Secrets) -> Self {
        self.secrets = std::sync::Arc::new(secrets);
        self
    }

    /// The sealer of keys at rest.
    pub fn secrets(&self) -> &crate::secrets::Secrets {
        &self.secrets
    }

    /// Apply pending migrations to both databases.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        run_migrator(main_migrator(self.main_kind), &self.main).await?;
        run_migrator(log_migrator(self.logs_kind), &self.logs).await?;
        Ok(())
    }

    /// The configuration pool.
    pub fn main(&self) -> &AnyPool {
        &self.main
    }

    /// The log pool.
    pub fn logs(&self) -> &AnyPool {
        &self.logs
    }

    /// Engine of the main database.
    pub fn main_kind(&self) -> DbKind {
        self.main_kind
    }

    /// Engine of the log database.
    pub fn logs_kind(&self) -> DbKind {
        self.logs_kind
    }

    /// True when logs live in their own database.
    pub fn has_separate_logs(&self) -> bool {
        self.separate_logs
    }

    /// Close both pools, waiting for connections to be returned.
    pub async fn close(&self) {
        self.logs.close().await;
        self.main.close().await;
    }

    /// Cheap liveness check of the main database.
    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.main).await?;
        Ok(())
    }

    /// Read an internal state value.
    pub async fn system_value(&self, key: &str) -> Result<Option<String>, StoreError> {
        let value: Option<(String,)> =
            sqlx::query_as("SELECT value FROM system_state WHERE key = $1")
                .bind(key)
                .fetch_optional(&self.main)
                .await?;
        Ok(value.map(|(v,)| v))
    }

    /// Store an internal state value only if the key is not set yet; returns
    /// the value that is stored afterwards (so concurrent starters agree).
    pub async fn system_value_init(&self, key: &str, value: &str) -> Result<String, StoreError> {
        sqlx::query(
            "INSERT INTO system_state (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING",
        )
        .bind(key)
        .bind(value)
        .execute(&self.main)
        .await?;
        self.system_value(key)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("system value {key}")))
    }
}

fn main_migrator(kind: DbKind) -> Migrator {
    match kind {
        DbKind::Sqlite => sqlx::migrate!("./migrations/sqlite/main"),
        DbKind::Postgres => sqlx::migrate!("./migrations/postgres/main"),
    }
}

fn log_migrator(kind: DbKind) -> Migrator {
    match kind {
        DbKind::Sqlite => sqlx::migrate!("./migrations/sqlite/logs"),
        DbKind::Postgres => sqlx::migrate!("./migrations/postgres/logs"),
    }
}

async fn run_migrator(mut migrator: Migrator, pool: &AnyPool) -> Result<(), StoreError> {
    // The main and log migrators may share one database; each ignores the
    // other's applied versions (they use disjoint version ranges).
    migrator.set_ignore_missing(true);
    migrator.run(pool).await?;
    Ok(())
}

async fn open_pool(
    target: &DbTarget,
    config: &DatabaseConfig,
) -> Result<(AnyPool, DbKind), StoreError> {
    match target {
        DbTarget::Postgres(url) => {
            let pool = AnyPoolOptions::new()
                .max_connections(config.max_connections)
                .acquire_timeout(Duration::from_secs(10))
                .connect(url)
                .await?;
            Ok((pool, DbKind::Postgres))
        }
        DbTarget::Sqlite(path) => {
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir).map_err(|e| {
                    StoreError::Database(sqlx::Error::Configuration(
                        format!("cannot create {}: {e}", dir.display()).into(),
                    ))
                })?;
            }
            let url = format!("sqlite://{}?mode=rwc", path.display());
            let busy_ms = config.sqlite_busy_timeout.as_millis();
            let pool = AnyPoolOptions::new()
                .max_connections(config.max_connections.min(16))
                .acquire_timeout(Duration::from_secs(10))
                .after_connect(move |conn, _meta| {
                    Box::pin(async move {
                        let pragmas = format!(
                            "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
                             PRAGMA foreign_keys = ON; PRAGMA busy_timeout = {busy_ms};"
                        );
                        conn.execute(sqlx::AssertSqlSafe(pragmas)).await?;
                        Ok(())
                    })
                })
                .connect(&url)
                .await?;
            Ok((pool, DbKind::Sqlite))
        }
    }
}

/// Seconds since the Unix epoch (0 if the clock is before 1970).
pub fn now_secs() -> i64 {
    now_ms() / 1000
}

/// Milliseconds since the Unix epoch, the timestamp unit of every table.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}
