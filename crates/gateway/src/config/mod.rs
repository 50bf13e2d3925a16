//! Process configuration: flags and environment variables turned into a
//! validated [`Config`] once at start. Runtime options that may change while
//! running live in [`options`] and travel with the in-memory snapshot.

pub mod cli;
pub mod options;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use crate::logs::sink::WriterPriority;
use ipnet::IpNet;
use thiserror::Error;

pub use cli::Cli;

/// A configuration value that cannot be used.
#[derive(Debug, Error)]
pub enum ConfigError {
    /// A flag or variable has an unusable value.
    #[error("{name}: {reason}")]
    Invalid {
        /// Variable name.
        name: &'static str,
        /// What is wrong.
        reason: String,
    },
}

/// Where a database lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DbTarget {
    /// An SQLite file.
    Sqlite(PathBuf),
    /// A PostgreSQL URL.
    Postgres(String),
}

impl DbTarget {
    /// Interpret a DSN as AI Proxy does: `postgres…` is PostgreSQL, anything else SQLite.
    pub fn parse(name: &'static str, dsn: &str) -> Result<Self, ConfigError> {
        let dsn = dsn.trim();
        if dsn.starts_with("postgres://") || dsn.starts_with("postgresql://") {
            return Ok(Self::Postgres(dsn.to_owned()));
        }
        if dsn.starts_with("mysql://") || dsn.contains("@tcp(") {
            return Err(ConfigError::Invalid {
                name,
                reason: "MySQL is not supported; use PostgreSQL or SQLite".into(),
            });
        }
        let path = dsn
            .strip_prefix("sqlite://")
            .or_else(|| dsn.strip_prefix("sqlite:"))
            .unwrap_or(dsn);
        let path = path.split('?').next().unwrap_or(path);
        if path.is_empty() {
            return Err(ConfigError::Invalid {
                name,
                reason: "empty database path".into(),
            });
        }
        Ok(Self::Sqlite(PathBuf::from(path)))
    }
}

/// Database settings.
#[derive(Debug, Clone)]
pub struct DatabaseConfig {
    /// Main database.
    pub main: DbTarget,
    /// Separate log database, if any.
    pub logs: Option<DbTarget>,
    /// Pool size.
    pub max_connections: u32,
    /// SQLite busy timeout.
    pub sqlite_busy_timeout: Duration,
}

/// Validated process configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// Listen address.
    pub listen: SocketAddr,
    /// Admin key from the environment, if given.
    pub admin_key: Option<String>,
    /// Internal relay key, if given.
    pub internal_token: Option<String>,
    /// Databases.
    pub database: DatabaseConfig,
    /// Redis URL.
    pub redis: Option<String>,
    /// Period of the abuse check.
    pub abuse_check_interval: Duration,
    /// Key that seals keys at rest.
    pub encryption_key: Option<String>,
    /// Prefix of Redis keys.
    pub redis_key_prefix: String,
    /// Limits and quotas while Redis fails.
    pub redis_failure_mode: crate::limits::RedisFailureMode,
    /// Debug logging.
    pub debug: bool,
    /// `json` process logs.
    pub json_logs: bool,
    /// Any model name is valid without a model config.
    pub disable_model_config: bool,
    /// Request body cap.
    pub max_request_body_size: usize,
    /// Non-stream upstream response cap.
    pub max_response_body_size: usize,
    /// Reload period for configuration.
    pub sync_frequency: Duration,
    /// Stream idle timeout.
    pub stream_idle_timeout: Duration,
    /// How long a client connection may stay silent while a request's
    /// head or body is awaited (on HTTP/2: before it is pinged, and then
    /// for the ping's answer); `None`: no limit.
    pub client_idle_timeout: Option<Duration>,
    /// Graceful shutdown bound.
    pub shutdown_timeout: Duration,
    /// Ban duration for (channel, model) pairs.
    pub channel_ban: Duration,
    /// Log queue capacity.
    pub log_queue_capacity: usize,
    /// CPU priority of the log writer thread.
    pub log_writer_priority: WriterPriority,
    /// Proxies whose forwarded-for headers are trusted.
    pub trusted_proxies: Vec<IpNet>,
    /// Largest media file fetched for inlining, bytes.
    pub media_fetch_max_bytes: usize,
    /// Bound on one media fetch.
    pub media_fetch_timeout: Duration,
    /// Media fetches may reach non-public addresses.
    pub media_fetch_allow_private: bool,
    /// How long stored Responses-API responses are kept.
    pub responses_store_ttl: Duration,
    /// Runtime options fixed by environment variables.
    pub option_overrides: HashMap<&'static str, String>,
    /// Alert sinks.
    pub notify: crate::notify::NotifySettings,
    /// Bound on one channel × model test.
    pub channel_test_timeout: Duration,
    /// Period of the banned-pair re-test.
    pub channel_retest_interval: Duration,
    /// Period of the automatic balance check.
    pub channel_balance_interval: Duration,
}

impl Config {
    /// Validate the parsed command line.
    pub fn from_cli(cli: &Cli) -> Result<Self, ConfigError> {
        let main = match &cli.sql_dsn {
            Some(dsn) if !dsn.trim().is_empty() => DbTarget::parse("SQL_DSN", dsn)?,
            _ => DbTarget::Sqlite(cli.sqlite_path.clone()),
        };
        let logs = match &cli.log_sql_dsn {
            Some(dsn) if !dsn.trim().is_empty() => Some(DbTarget::parse("LOG_SQL_DSN", dsn)?),
            _ => None,
        };
        let redis = cli
            .redis
            .clone()
            .or_else(|| std::env::var("REDIS_CONN_STRING").ok())
            .filter(|s| !s.trim().is_empty());
        let redis_failure_mode = match cli.redis_failure_mode.trim() {
            "open" => crate::limits::RedisFailureMode::Open,
            "closed" => crate::limits::RedisFailureMode::Closed,
            other => {
                return Err(ConfigError::Invalid {
                    name: "REDIS_FAILURE_MODE",
                    reason: format!("expected open or closed, got `{other}`"),
                });
            }
        };
        let json_logs = match cli.log_format.as_str() {
            "text" => false,
            "json" => true,
            other => {
                return Err(ConfigError::Invalid {
                    name: "LOG_FORMAT",
                    reason: format!("expected text or json, got `{other}`"),
                });
            }
        };
        let mut option_overrides = HashMap::new();
        for (key, value) in cli.option_overrides() {
            let normalised = options::validate(key, &value).map_err(|e| ConfigError::Invalid {
                name: options::spec(key).map_or("option", |s| s.env),
                reason: e.to_string(),
            })?;
            option_overrides.insert(key, normalised);
        }
        Ok(Self {
            listen: parse_listen(&cli.listen)?,
            admin_key: cli.admin_key.clone().filter(|k| !k.trim().is_empty()),
            internal_token: cli.internal_token.clone().filter(|k| !k.trim().is_empty()),
            database: DatabaseConfig {
                main,
                logs,
                max_connections: cli.sql_max_open_conns.max(1),
                sqlite_busy_timeout: Duration::from_millis(cli.sqlite_busy_timeout),
            },
            redis: redis.clone(),
            redis_key_prefix: cli.redis_key_prefix.clone(),
            abuse_check_interval: Duration::from_secs(cli.abuse_check_interval.max(1)),
            encryption_key: cli.encryption_key.clone().filter(|k| !k.is_empty()),
            redis_failure_mode,
            debug: cli.debug,
            json_logs,
            disable_model_config: cli.disable_model_config,
            max_request_body_size: cli.max_request_body_size,
            max_response_body_size: cli.max_response_body_size,
            sync_frequency: Duration::from_secs(cli.sync_frequency.max(1)),
            stream_idle_timeout: Duration::from_secs(cli.stream_idle_timeout.max(1)),
            client_idle_timeout: (cli.client_idle_timeout > 0)
                .then(|| Duration::from_secs(cli.client_idle_timeout)),
            shutdown_timeout: Duration::from_secs(cli.shutdown_timeout),
            channel_ban: Duration::from_secs(cli.channel_ban_seconds.max(1)),
            log_queue_capacity: cli.log_queue_capacity.max(16),
            log_writer_priority: cli.log_writer_priority,
            trusted_proxies: parse_cidrs(&cli.trusted_proxies)?,
            media_fetch_max_bytes: cli.media_fetch_max_bytes,
            media_fetch_timeout: Duration::from_secs(cli.media_fetch_timeout.max(1)),
            media_fetch_allow_private: cli.media_fetch_allow_private,
            responses_store_ttl: Duration::from_secs(cli.responses_store_hours.max(1) * 3600),
            option_overrides,
            notify: crate::notify::NotifySettings {
                feishu_webhook: non_empty(cli.notify_feishu_webhook.as_deref()),
                webhook: non_empty(cli.notify_webhook.as_deref()),
                redis: redis.clone(),
                namespace: String::new(),
            },
            channel_test_timeout: Duration::from_secs(cli.channel_test_timeout.max(1)),
            channel_retest_interval: Duration::from_secs(cli.channel_retest_interval.max(1)),
            channel_balance_interval: Duration::from_secs(cli.channel_balance_interval.max(1)),
        })
    }
}

fn non_empty(value: Option<&str>) -> Option<String> {
    value
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
}

/// Accept `host:port`, `:port` (AI Proxy style) and a bare port.
fn parse_listen(value: &str) -> Result<SocketAddr, ConfigError> {
    let value = value.trim();
    let candidate = if let Some(port) = value.strip_prefix(':') {
        format!("0.0.0.0:{port}")
    } else if value.chars().all(|c| c.is_ascii_digit()) {
        format!("0.0.0.0:{value}")
    } else {
        value.to_owned()
    };
    candidate.parse().map_err(|_| ConfigError::Invalid {
        name: "LISTEN",
        reason: format!("`{value}` is not an address like 0.0.0.0:3000 or :3000"),
    })
}

fn parse_cidrs(value: &str) -> Result<Vec<IpNet>, ConfigError> {
    value
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse::<IpNet>()
                .or_else(|_| s.parse::<std::net::IpAddr>().map(IpNet::from))
                .map_err(|_| ConfigError::Invalid {
                    name: "TRUSTED_PROXIES",
                    reason: format!("`{s}` is not an IP address or CIDR"),
                })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[test]
    fn listen_forms() {
        assert_eq!(parse_listen(":3000").unwrap().to_string(), "0.0.0.0:3000");
        assert_eq!(parse_listen("8080").unwrap().to_string(), "0.0.0.0:8080");
        assert_eq!(
            parse_listen("127.0.0.1:1").unwrap().to_string(),
            "127.0.0.1:1"
        );
        assert!(parse_listen("nope").is_err());
    }

    #[test]
    fn dsn_kinds() {
        assert_eq!(
            DbTarget::parse("SQL_DSN", "postgres://u@h/db").unwrap(),
            DbTarget::Postgres("postgres://u@h/db".into())
        );
        assert_eq!(
            DbTarget::parse("SQL_DSN", "sqlite://a.db?mode=rwc").unwrap(),
            DbTarget::Sqlite("a.db".into())
        );
        assert!(DbTarget::parse("SQL_DSN", "mysql://x").is_err());
    }

    #[test]
    fn defaults_need_nothing() {
        let cli = Cli::try_parse_from(["switchyard"]).unwrap();
        let config = Config::from_cli(&cli).unwrap();
        assert_eq!(config.listen.to_string(), "0.0.0.0:3000");
        assert_eq!(
            config.database.main,
            DbTarget::Sqlite("switchyard.db".into())
        );
    }

    #[test]
    fn bad_option_env_is_rejected() {
        let cli = Cli::try_parse_from(["switchyard", "--retry-times", "x"]).unwrap();
        let err = Config::from_cli(&cli).unwrap_err().to_string();
        assert!(err.contains("RETRY_TIMES"), "{err}");
    }
}
