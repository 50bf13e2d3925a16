//! Command-line flags and their environment variables.
//!
//! Every process-level setting is declared here once, with the AI Proxy
//! environment variable name where one exists, so `switchyard --help`
//! documents the whole configuration surface. Values are validated into
//! [`super::Config`] by [`super::Config::from_cli`].

use std::path::PathBuf;

use crate::logs::sink::WriterPriority;
use clap::{ArgAction, Parser};

/// Switchyard: an AI gateway that puts one endpoint in front of every LLM provider.
///
/// With no arguments it serves on 0.0.0.0:3000 with an embedded SQLite
/// database (switchyard.db in the working directory). A `.env` file in the
/// working directory is read at start; real environment variables win over it.
/// Runtime options (retries, log retention, …) can also be changed through
/// `PUT /api/option/`; an option set by its environment variable is fixed.
#[derive(Debug, Clone, Parser)]
#[command(name = "switchyard", version, about, long_about)]
pub struct Cli {
    /// Address to listen on (AI Proxy's `:3000` form is accepted).
    #[arg(long, env = "LISTEN", default_value = "0.0.0.0:3000")]
    pub listen: String,

    /// Admin API key; also a relay key with internal privileges. Generated and
    /// stored (hashed) in the database when unset; printed once.
    #[arg(long, env = "ADMIN_KEY", hide_env_values = true)]
    pub admin_key: Option<String>,

    /// An extra relay key with internal privileges (may pin channels).
    #[arg(long, env = "INTERNAL_TOKEN", hide_env_values = true)]
    pub internal_token: Option<String>,

    /// Main database: `postgres://…` for PostgreSQL; unset for embedded SQLite.
    #[arg(long, env = "SQL_DSN", hide_env_values = true)]
    pub sql_dsn: Option<String>,

    /// Separate database for logs (`postgres://…` or a SQLite path/URL); unset: the main database.
    #[arg(long, env = "LOG_SQL_DSN", hide_env_values = true)]
    pub log_sql_dsn: Option<String>,

    /// SQLite database file used when SQL_DSN is unset.
    #[arg(long, env = "SQLITE_PATH", default_value = "switchyard.db")]
    pub sqlite_path: PathBuf,

    /// SQLite busy timeout in milliseconds.
    #[arg(long, env = "SQLITE_BUSY_TIMEOUT", default_value_t = 3000)]
    pub sqlite_busy_timeout: u64,

    /// Maximum open connections per database pool.
    #[arg(long, env = "SQL_MAX_OPEN_CONNS", default_value_t = 50)]
    pub sql_max_open_conns: u32,

    /// Redis URL (`redis://…`); alias REDIS_CONN_STRING. Used to broadcast
    /// configuration changes to other instances.
    #[arg(long, env = "REDIS", hide_env_values = true)]
    pub redis: Option<String>,

    /// Key that seals token and channel keys in the database (any string;
    /// the same on every instance). Without it keys are stored in plaintext.
    #[arg(long, env = "ENCRYPTION_KEY", hide_env_values = true)]
    pub encryption_key: Option<String>,

    /// Seconds between runs of the IP ↔ groups abuse check.
    #[arg(long, env = "ABUSE_CHECK_INTERVAL", default_value_t = 60)]
    pub abuse_check_interval: u64,

    /// Prefix of every Redis key (rate limits, spend ledger), so that
    /// several deployments can share one Redis.
    #[arg(long, env = "REDIS_KEY_PREFIX", default_value = "switchyard:")]
    pub redis_key_prefix: String,

    /// What rate limits and quotas do while Redis is unreachable: `open`
    /// (admit without counting, log and count the failures) or `closed`
    /// (refuse with 503).
    #[arg(long, env = "REDIS_FAILURE_MODE", default_value = "open")]
    pub redis_failure_mode: String,

    /// Verbose logging (debug level) including upstream error bodies.
    #[arg(long, env = "DEBUG", action = ArgAction::Set, default_value_t = false, value_parser = clap::builder::BoolishValueParser::new())]
    pub debug: bool,

    /// Process log format: `text` or `json`.
    #[arg(long, env = "LOG_FORMAT", default_value = "text")]
    pub log_format: String,

    /// Accept any model name without a model config (free, unlimited).
    #[arg(long, env = "DISABLE_MODEL_CONFIG", action = ArgAction::Set, default_value_t = false, value_parser = clap::builder::BoolishValueParser::new())]
    pub disable_model_config: bool,

    /// Largest accepted request body, in bytes (default 50 MiB); larger bodies get 413.
    #[arg(long, env = "MAX_REQUEST_BODY_SIZE", default_value_t = 50 * 1024 * 1024)]
    pub max_request_body_size: usize,

    /// Largest upstream non-streamed response body read, in bytes (default 200 MiB).
    #[arg(long, env = "MAX_RESPONSE_BODY_SIZE", default_value_t = 200 * 1024 * 1024)]
    pub max_response_body_size: usize,

    /// Seconds between reloads of configuration from the database (other instances' writes).
    #[arg(long, env = "SYNC_FREQUENCY", default_value_t = 5)]
    pub sync_frequency: u64,

    /// Seconds a stream may stay silent before the gateway gives up on the upstream.
    #[arg(long, env = "STREAM_IDLE_TIMEOUT", default_value_t = 300)]
    pub stream_idle_timeout: u64,

    /// Seconds a client connection may stay silent while the gateway waits
    /// for it: for a request's head (an idle keep-alive connection included;
    /// it is then closed) or for the next part of a request body (answered
    /// with 408). An HTTP/2 connection silent that long is pinged, and
    /// closed if the ping goes unanswered as long. 0: no limit.
    #[arg(long, env = "CLIENT_IDLE_TIMEOUT", default_value_t = 75)]
    pub client_idle_timeout: u64,

    /// Seconds to let in-flight requests finish after SIGINT/SIGTERM.
    #[arg(long, env = "SHUTDOWN_TIMEOUT", default_value_t = 30)]
    pub shutdown_timeout: u64,

    /// Seconds a (channel, model) pair stays banned after crossing its error rate (±10 % jitter).
    #[arg(long, env = "CHANNEL_BAN_SECONDS", default_value_t = 300)]
    pub channel_ban_seconds: u64,

    /// Capacity of the log queue; when full, requests wait (logs are never dropped).
    #[arg(long, env = "LOG_QUEUE_CAPACITY", default_value_t = 10_000)]
    pub log_queue_capacity: usize,

    /// CPU priority of the log writer: `low` (nice 19: requests preempt it, it is never starved),
    /// `normal` (shares the CPU fairly) or `idle` (runs only on CPU time requests leave free:
    /// lowest tail latency, less peak throughput).
    #[arg(long, env = "LOG_WRITER_PRIORITY", value_enum, default_value_t = WriterPriority::Low)]
    pub log_writer_priority: WriterPriority,

    /// Comma-separated CIDRs of reverse proxies whose X-Forwarded-For / X-Real-IP is trusted.
    #[arg(long, env = "TRUSTED_PROXIES", default_value = "")]
    pub trusted_proxies: String,

    /// Largest media file fetched for upstreams that cannot read URLs (Gemini, Bedrock, Vertex), in bytes (default 20 MiB).
    #[arg(long, env = "MEDIA_FETCH_MAX_BYTES", default_value_t = 20 * 1024 * 1024)]
    pub media_fetch_max_bytes: usize,

    /// Seconds one media fetch (connect, redirects, body) may take.
    #[arg(long, env = "MEDIA_FETCH_TIMEOUT", default_value_t = 30)]
    pub media_fetch_timeout: u64,

    /// Let media fetches reach private, loopback and link-local addresses (trusted networks only).
    #[arg(long, env = "MEDIA_FETCH_ALLOW_PRIVATE", action = ArgAction::Set, default_value_t = false, value_parser = clap::builder::BoolishValueParser::new())]
    pub media_fetch_allow_private: bool,

    /// Hours a stored Responses-API response (and the channel pin of `previous_response_id`) is kept.
    #[arg(long, env = "RESPONSES_STORE_HOURS", default_value_t = 720)]
    pub responses_store_hours: u64,

    /// Runtime option RetryTimes: retries on another channel after a failed attempt.
    #[arg(long, env = "RETRY_TIMES")]
    pub retry_times: Option<String>,

    /// Runtime option DisableServe: answer every relay request with 503 (maintenance).
    #[arg(long, env = "DISABLE_SERVE")]
    pub disable_serve: Option<String>,

    /// Runtime option LogStorageHours: keep request logs this long (0 = forever, <0 = do not log).
    #[arg(long, env = "LOG_STORAGE_HOURS")]
    pub log_storage_hours: Option<String>,

    /// Runtime option LogDetailStorageHours: keep request/response bodies this long (0 = as logs).
    #[arg(long, env = "LOG_DETAIL_STORAGE_HOURS")]
    pub log_detail_storage_hours: Option<String>,

    /// Runtime option RetryLogStorageHours: keep logs of failed attempts this long (0 = as logs).
    #[arg(long, env = "RETRY_LOG_STORAGE_HOURS")]
    pub retry_log_storage_hours: Option<String>,

    /// Runtime option SaveAllLogDetail: store bodies for successful requests too.
    #[arg(long, env = "SAVE_ALL_LOG_DETAIL")]
    pub save_all_log_detail: Option<String>,

    /// Runtime option LogDetailRequestBodyMaxSize: bytes of request body kept (0 = unlimited, <0 = none).
    #[arg(long, env = "LOG_DETAIL_REQUEST_BODY_MAX_SIZE")]
    pub log_detail_request_body_max_size: Option<String>,

    /// Runtime option LogDetailResponseBodyMaxSize: bytes of response body kept (0 = unlimited, <0 = none).
    #[arg(long, env = "LOG_DETAIL_RESPONSE_BODY_MAX_SIZE")]
    pub log_detail_response_body_max_size: Option<String>,

    /// Runtime option CleanLogBatchSize: rows deleted per table per retention pass.
    #[arg(long, env = "CLEAN_LOG_BATCH_SIZE")]
    pub clean_log_batch_size: Option<String>,

    /// Runtime option DefaultChannelModels: JSON `{"<type>": ["model", …]}` used when a channel lists no models.
    #[arg(long, env = "DEFAULT_CHANNEL_MODELS")]
    pub default_channel_models: Option<String>,

    /// Runtime option DefaultChannelModelMapping: JSON `{"<type>": {"from": "to"}}` used when a channel has no mapping.
    #[arg(long, env = "DEFAULT_CHANNEL_MODEL_MAPPING")]
    pub default_channel_model_mapping: Option<String>,

    /// Runtime option GroupMaxTokenNum: most tokens per group (0 = unlimited).
    #[arg(long, env = "GROUP_MAX_TOKEN_NUM")]
    pub group_max_token_num: Option<String>,

    /// Runtime option IPGroupsThreshold: warn when one IP served this many groups in an hour (0 = off).
    #[arg(long, env = "IP_GROUPS_THRESHOLD")]
    pub ip_groups_threshold: Option<String>,

    /// Runtime option IPGroupsBanThreshold: disable the groups and block the IP for 48 h at this many (0 = off).
    #[arg(long, env = "IP_GROUPS_BAN_THRESHOLD")]
    pub ip_groups_ban_threshold: Option<String>,

    /// Runtime option GroupConsumeLevelRatio: JSON `{"<used amount>": ratio}`; groups that spent at least the amount get RPM/TPM × ratio.
    #[arg(long, env = "GROUP_CONSUME_LEVEL_RATIO")]
    pub group_consume_level_ratio: Option<String>,
    /// Runtime option SummaryStorageHours: keep dashboard summaries this long (0 = forever).
    #[arg(long, env = "SUMMARY_STORAGE_HOURS")]
    pub summary_storage_hours: Option<String>,

    /// Feishu/Lark custom-bot webhook URL that receives alerts as cards.
    #[arg(long, env = "NOTIFY_FEISHU_WEBHOOK", hide_env_values = true)]
    pub notify_feishu_webhook: Option<String>,

    /// Generic webhook URL that receives alerts as JSON `{level,key,title,message,note,timestamp}`.
    #[arg(long, env = "NOTIFY_WEBHOOK", hide_env_values = true)]
    pub notify_webhook: Option<String>,

    /// Runtime option UsageAlertThreshold: alert when a group spent at least this today and far more than its 3-day average (0 = off).
    #[arg(long, env = "USAGE_ALERT_THRESHOLD")]
    pub usage_alert_threshold: Option<String>,

    /// Runtime option UsageAlertMinAvgThreshold: usage-spike alerts only above this 3-day daily average.
    #[arg(long, env = "USAGE_ALERT_MIN_AVG_THRESHOLD")]
    pub usage_alert_min_avg_threshold: Option<String>,

    /// Runtime option UsageAlertWhitelist: comma-separated groups never alerted for usage spikes.
    #[arg(long, env = "USAGE_ALERT_WHITELIST")]
    pub usage_alert_whitelist: Option<String>,

    /// Runtime option NotifyNote: text appended to every alert.
    #[arg(long, env = "NOTIFY_NOTE")]
    pub notify_note: Option<String>,

    /// Runtime option DefaultWarnNotifyErrorRate: error rate (0–1) that raises a warning alert.
    #[arg(long, env = "DEFAULT_WARN_NOTIFY_ERROR_RATE")]
    pub default_warn_notify_error_rate: Option<String>,

    /// Seconds one channel test (one model) may take before it counts as failed.
    #[arg(long, env = "CHANNEL_TEST_TIMEOUT", default_value_t = 60)]
    pub channel_test_timeout: u64,

    /// Seconds between background re-tests of banned (channel, model) pairs.
    #[arg(long, env = "CHANNEL_RETEST_INTERVAL", default_value_t = 30)]
    pub channel_retest_interval: u64,

    /// Seconds between balance checks of channels with enabled_auto_balance_check.
    #[arg(long, env = "CHANNEL_BALANCE_INTERVAL", default_value_t = 600)]
    pub channel_balance_interval: u64,
}

impl Cli {
    /// The runtime options fixed by the environment, as `(option key, value)`.
    pub fn option_overrides(&self) -> Vec<(&'static str, String)> {
        let pairs: [(&'static str, &Option<String>); 21] = [
            ("RetryTimes", &self.retry_times),
            ("DisableServe", &self.disable_serve),
            ("LogStorageHours", &self.log_storage_hours),
            ("LogDetailStorageHours", &self.log_detail_storage_hours),
            ("RetryLogStorageHours", &self.retry_log_storage_hours),
            ("SaveAllLogDetail", &self.save_all_log_detail),
            (
                "LogDetailRequestBodyMaxSize",
                &self.log_detail_request_body_max_size,
            ),
            (
                "LogDetailResponseBodyMaxSize",
                &self.log_detail_response_body_max_size,
            ),
            ("CleanLogBatchSize", &self.clean_log_batch_size),
            ("DefaultChannelModels", &self.default_channel_models),
            (
                "DefaultChannelModelMapping",
                &self.default_channel_model_mapping,
            ),
            ("GroupMaxTokenNum", &self.group_max_token_num),
            ("GroupConsumeLevelRatio", &self.group_consume_level_ratio),
            ("IPGroupsThreshold", &self.ip_groups_threshold),
            ("IPGroupsBanThreshold", &self.ip_groups_ban_threshold),
            ("SummaryStorageHours", &self.summary_storage_hours),
            ("NotifyNote", &self.notify_note),
            ("UsageAlertThreshold", &self.usage_alert_threshold),
            (
                "UsageAlertMinAvgThreshold",
                &self.usage_alert_min_avg_threshold,
            ),
            ("UsageAlertWhitelist", &self.usage_alert_whitelist),
            (
                "DefaultWarnNotifyErrorRate",
                &self.default_warn_notify_error_rate,
            ),
        ];
        pairs
            .into_iter()
            .filter_map(|(key, value)| value.clone().map(|v| (key, v)))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::Cli;

    #[test]
    fn help_documents_every_flag_and_its_variable() {
        let mut command = Cli::command();
        command.build();
        command.clone().debug_assert();
        let help = command.render_long_help().to_string();
        for arg in command.get_arguments() {
            if matches!(arg.get_id().as_str(), "help" | "version") {
                continue;
            }
            assert!(
                arg.get_help().is_some(),
                "--{} has no help text",
                arg.get_id()
            );
            if let Some(env) = arg.get_env() {
                let env = env.to_string_lossy();
                assert!(help.contains(env.as_ref()), "{env} is not named in --help");
            }
        }
        for aiproxy in [
            "LISTEN",
            "ADMIN_KEY",
            "SQL_DSN",
            "LOG_SQL_DSN",
            "REDIS",
            "RETRY_TIMES",
            "RESPONSES_STORE_HOURS",
        ] {
            assert!(help.contains(aiproxy), "{aiproxy} missing from --help");
        }
    }
}
