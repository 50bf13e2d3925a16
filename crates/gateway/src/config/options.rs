//! Runtime options: the AI Proxy `options` table, typed.
//!
//! Values live in the database as strings (`/api/option`), may be fixed by an
//! environment variable (which always wins), and fall back to a default.
//! [`Options::resolve`] turns the three layers into one typed value that the
//! in-memory snapshot carries, so the request path never reads strings.

use std::collections::{BTreeMap, HashMap};

use thiserror::Error;

/// How an option's string value is interpreted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OptionKind {
    /// `true`/`false` (also `1`/`0`).
    Bool,
    /// A signed integer.
    Int,
    /// A non-negative integer.
    Count,
    /// A JSON object mapping channel type ids to model lists.
    ChannelModels,
    /// A JSON object mapping channel type ids to model mappings.
    ChannelModelMapping,
    /// A JSON object mapping amounts (as strings) to positive ratios.
    RatioMap,
    /// Free text.
    Text,
    /// A number between 0 and 1.
    Rate,
    /// A finite number ≥ 0 (an amount).
    Amount,
}

/// Declaration of one runtime option.
#[derive(Debug, Clone, Copy)]
pub struct OptionSpec {
    /// Key in the `options` table and in `/api/option`.
    pub key: &'static str,
    /// Environment variable that fixes it.
    pub env: &'static str,
    /// Default value.
    pub default: &'static str,
    /// Value type.
    pub kind: OptionKind,
    /// One-line description.
    pub description: &'static str,
}

/// Every runtime option Switchyard understands.
pub const OPTION_SPECS: &[OptionSpec] = &[
    OptionSpec {
        key: "RetryTimes",
        env: "RETRY_TIMES",
        default: "0",
        kind: OptionKind::Count,
        description: "Retries on another channel after a failed attempt (a model config's retry_times wins when > 0).",
    },
    OptionSpec {
        key: "DisableServe",
        env: "DISABLE_SERVE",
        default: "false",
        kind: OptionKind::Bool,
        description: "Answer every relay request with 503 (maintenance).",
    },
    OptionSpec {
        key: "LogStorageHours",
        env: "LOG_STORAGE_HOURS",
        default: "0",
        kind: OptionKind::Int,
        description: "Request log retention in hours; 0 keeps forever, < 0 disables request logging.",
    },
    OptionSpec {
        key: "LogDetailStorageHours",
        env: "LOG_DETAIL_STORAGE_HOURS",
        default: "72",
        kind: OptionKind::Int,
        description: "Request/response body retention in hours; 0 means the same as LogStorageHours.",
    },
    OptionSpec {
        key: "RetryLogStorageHours",
        env: "RETRY_LOG_STORAGE_HOURS",
        default: "0",
        kind: OptionKind::Int,
        description: "Retention of failed-attempt logs in hours; 0 means the same as LogStorageHours.",
    },
    OptionSpec {
        key: "SaveAllLogDetail",
        env: "SAVE_ALL_LOG_DETAIL",
        default: "false",
        kind: OptionKind::Bool,
        description: "Store bodies for successful requests too (failed requests always keep them).",
    },
    OptionSpec {
        key: "LogDetailRequestBodyMaxSize",
        env: "LOG_DETAIL_REQUEST_BODY_MAX_SIZE",
        default: "8192",
        kind: OptionKind::Int,
        description: "Bytes of request body kept in details; 0 unlimited, < 0 none.",
    },
    OptionSpec {
        key: "LogDetailResponseBodyMaxSize",
        env: "LOG_DETAIL_RESPONSE_BODY_MAX_SIZE",
        default: "8192",
        kind: OptionKind::Int,
        description: "Bytes of response body kept in details; 0 unlimited, < 0 none.",
    },
    OptionSpec {
        key: "CleanLogBatchSize",
        env: "CLEAN_LOG_BATCH_SIZE",
        default: "10000",
        kind: OptionKind::Count,
        description: "Rows deleted per table per retention pass.",
    },
    OptionSpec {
        key: "DefaultChannelModels",
        env: "DEFAULT_CHANNEL_MODELS",
        default: "{}",
        kind: OptionKind::ChannelModels,
        description: "{\"<channel type>\": [models]} used when a channel lists no models.",
    },
    OptionSpec {
        key: "DefaultChannelModelMapping",
        env: "DEFAULT_CHANNEL_MODEL_MAPPING",
        default: "{}",
        kind: OptionKind::ChannelModelMapping,
        description: "{\"<channel type>\": {\"from\": \"to\"}} used when a channel has no model mapping.",
    },
    OptionSpec {
        key: "SummaryStorageHours",
        env: "SUMMARY_STORAGE_HOURS",
        default: "0",
        kind: OptionKind::Int,
        description: "Retention of the dashboard summaries (hourly and per-minute) in hours; 0 keeps forever.",
    },
    OptionSpec {
        key: "GroupMaxTokenNum",
        env: "GROUP_MAX_TOKEN_NUM",
        default: "0",
        kind: OptionKind::Count,
        description: "Most tokens a group may hold; 0 = unlimited.",
    },
    OptionSpec {
        key: "IPGroupsThreshold",
        env: "IP_GROUPS_THRESHOLD",
        default: "0",
        kind: OptionKind::Count,
        description: "Warn when one IP was used by at least this many groups in the last hour; 0 = off.",
    },
    OptionSpec {
        key: "IPGroupsBanThreshold",
        env: "IP_GROUPS_BAN_THRESHOLD",
        default: "0",
        kind: OptionKind::Count,
        description: "Disable those groups and block the IP for 48 h at this many groups; 0 = off.",
    },
    OptionSpec {
        key: "GroupConsumeLevelRatio",
        env: "GROUP_CONSUME_LEVEL_RATIO",
        default: "{}",
        kind: OptionKind::RatioMap,
        description: "{\"<used amount>\": ratio}: groups that spent at least the amount get RPM/TPM limits × ratio (highest threshold reached wins).",
    },
    OptionSpec {
        key: "UsageAlertThreshold",
        env: "USAGE_ALERT_THRESHOLD",
        default: "0",
        kind: OptionKind::Amount,
        description: "Alert when a group spent at least this much today and far more than its 3-day daily average; 0 = off.",
    },
    OptionSpec {
        key: "UsageAlertMinAvgThreshold",
        env: "USAGE_ALERT_MIN_AVG_THRESHOLD",
        default: "0",
        kind: OptionKind::Amount,
        description: "Usage-spike alerts only for groups whose 3-day daily average is at least this.",
    },
    OptionSpec {
        key: "UsageAlertWhitelist",
        env: "USAGE_ALERT_WHITELIST",
        default: "",
        kind: OptionKind::Text,
        description: "Comma-separated groups never alerted for usage spikes.",
    },
    OptionSpec {
        key: "NotifyNote",
        env: "NOTIFY_NOTE",
        default: "",
        kind: OptionKind::Text,
        description: "Text appended to every alert (e.g. who is on call).",
    },
    OptionSpec {
        key: "DefaultWarnNotifyErrorRate",
        env: "DEFAULT_WARN_NOTIFY_ERROR_RATE",
        default: "0.5",
        kind: OptionKind::Rate,
        description: "Error rate (0–1) of a channel × model that raises a warning alert, for channels without warn_error_rate.",
    },
];

/// A rejected option write or value.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum OptionError {
    /// The key is not a known option.
    #[error("unknown option `{0}`")]
    Unknown(String),
    /// The value does not fit the option's type.
    #[error("option `{key}`: {reason}")]
    Invalid {
        /// Option key.
        key: String,
        /// What is wrong.
        reason: String,
    },
    /// The option is fixed by an environment variable.
    #[error("option `{key}` is fixed by the environment variable {env}")]
    FixedByEnv {
        /// Option key.
        key: String,
        /// Environment variable.
        env: String,
    },
}

/// Channel type id → models.
pub type ChannelModels = HashMap<i64, Vec<String>>;
/// Channel type id → (requested model → upstream model).
pub type ChannelModelMapping = HashMap<i64, BTreeMap<String, String>>;

/// The effective, typed runtime options.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Global retry budget.
    pub retry_times: u32,
    /// Maintenance switch.
    pub disable_serve: bool,
    /// Request log retention (hours; 0 forever; < 0 off).
    pub log_storage_hours: i64,
    /// Body detail retention (hours; 0 = as logs).
    pub log_detail_storage_hours: i64,
    /// Retry log retention (hours; 0 = as logs).
    pub retry_log_storage_hours: i64,
    /// Keep bodies of successful requests.
    pub save_all_log_detail: bool,
    /// Request body cap in details.
    pub log_detail_request_body_max_size: i64,
    /// Response body cap in details.
    pub log_detail_response_body_max_size: i64,
    /// Rows per retention delete.
    pub clean_log_batch_size: i64,
    /// Default models per channel type.
    pub default_channel_models: ChannelModels,
    /// Default mapping per channel type.
    pub default_channel_model_mapping: ChannelModelMapping,
    /// Token cap per group.
    pub group_max_token_num: i64,
    /// Warn threshold of the IP ↔ groups abuse check (0: off).
    pub ip_groups_threshold: i64,
    /// Ban threshold of the IP ↔ groups abuse check (0: off).
    pub ip_groups_ban_threshold: i64,
    /// (spent threshold, limit ratio), ascending by threshold.
    pub group_consume_level_ratio: Vec<(f64, f64)>,
    /// Summary retention (hours; 0 forever).
    pub summary_storage_hours: i64,
    /// Usage-spike alert: today's spend threshold (0: off).
    pub usage_alert_threshold: f64,
    /// Usage-spike alert: least 3-day daily average.
    pub usage_alert_min_avg_threshold: f64,
    /// Usage-spike alert: groups never alerted.
    pub usage_alert_whitelist: Vec<String>,
    /// Text appended to every alert.
    pub notify_note: String,
    /// Error rate that raises a warning alert (channels without their own).
    pub default_warn_notify_error_rate: f64,
    /// The effective string value of every option (what `GET /api/option/` shows).
    pub raw: BTreeMap<String, String>,
}

/// Find an option's declaration.
pub fn spec(key: &str) -> Option<&'static OptionSpec> {
    OPTION_SPECS.iter().find(|s| s.key == key)
}

/// Check that `value` is valid for option `key`, returning it normalised.
pub fn validate(key: &str, value: &str) -> Result<String, OptionError> {
    let spec = spec(key).ok_or_else(|| OptionError::Unknown(key.to_owned()))?;
    let invalid = |reason: String| OptionError::Invalid {
        key: key.to_owned(),
        reason,
    };
    let value = value.trim();
    match spec.kind {
        OptionKind::Bool => parse_bool(value)
            .map(|b| b.to_string())
            .ok_or_else(|| invalid(format!("expected true or false, got `{value}`"))),
        OptionKind::Int => value
            .parse::<i64>()
            .map(|n| n.to_string())
            .map_err(|_| invalid(format!("expected an integer, got `{value}`"))),
        OptionKind::Count => value
            .parse::<u32>()
            .map(|n| n.to_string())
            .map_err(|_| invalid(format!("expected a non-negative integer, got `{value}`"))),
        OptionKind::ChannelModels => parse_channel_models(value)
            .map(|_| value.to_owned())
            .map_err(invalid),
        OptionKind::ChannelModelMapping => parse_channel_mapping(value)
            .map(|_| value.to_owned())
            .map_err(invalid),
        OptionKind::RatioMap => parse_ratio_map(value)
            .map(|_| value.to_owned())
            .map_err(invalid),
        OptionKind::Text => Ok(value.to_owned()),
        OptionKind::Amount => value
            .parse::<f64>()
            .ok()
            .filter(|a| a.is_finite() && *a >= 0.0)
            .map(|a| a.to_string())
            .ok_or_else(|| invalid(format!("expected a number ≥ 0, got `{value}`"))),
        OptionKind::Rate => value
            .parse::<f64>()
            .ok()
            .filter(|r| (0.0..=1.0).contains(r))
            .map(|r| r.to_string())
            .ok_or_else(|| invalid(format!("expected a number between 0 and 1, got `{value}`"))),
    }
}

/// Parse AI Proxy's boolean spellings.
pub fn parse_bool(value: &str) -> Option<bool> {
    match value.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Some(true),
        "false" | "0" | "no" | "off" | "" => Some(false),
        _ => None,
    }
}

fn parse_type_keyed<T: serde::de::DeserializeOwned>(
    value: &str,
) -> Result<HashMap<i64, T>, String> {
    let map: HashMap<String, T> = serde_json::from_str(if value.is_empty() { "{}" } else { value })
        .map_err(|e| format!("expected a JSON object keyed by channel type: {e}"))?;
    map.into_iter()
        .map(|(k, v)| {
            k.trim()
                .parse::<i64>()
                .map(|id| (id, v))
                .map_err(|_| format!("`{k}` is not a channel type id"))
        })
        .collect()
}

/// An amount option's value (0 when unset or invalid).
fn amount(value: &str) -> f64 {
    value
        .trim()
        .parse::<f64>()
        .ok()
        .filter(|a| a.is_finite() && *a >= 0.0)
        .unwrap_or(0.0)
}

fn parse_ratio_map(value: &str) -> Result<Vec<(f64, f64)>, String> {
    let map: HashMap<String, f64> =
        serde_json::from_str(if value.is_empty() { "{}" } else { value })
            .map_err(|e| format!("expected a JSON object of amount → ratio: {e}"))?;
    let mut levels = map
        .into_iter()
        .map(|(k, ratio)| {
            let threshold = k
                .trim()
                .parse::<f64>()
                .ok()
                .filter(|t| t.is_finite() && *t >= 0.0)
                .ok_or_else(|| format!("`{k}` is not a non-negative amount"))?;
            if !ratio.is_finite() || ratio <= 0.0 {
                return Err(format!("ratio for `{k}` must be a positive number"));
            }
            Ok((threshold, ratio))
        })
        .collect::<Result<Vec<_>, String>>()?;
    levels.sort_by(|a, b| a.0.total_cmp(&b.0));
    Ok(levels)
}

impl Options {
    /// The limit multiplier of a group that spent `used_amount`: the ratio
    /// of the highest threshold reached, 1 when none is.
    pub fn consume_level_ratio(&self, used_amount: f64) -> f64 {
        self.group_consume_level_ratio
            .iter()
            .rev()
            .find(|(threshold, _)| used_amount >= *threshold)
            .map_or(1.0, |(_, ratio)| *ratio)
    }
}

fn parse_channel_models(value: &str) -> Result<ChannelModels, String> {
    parse_type_keyed(value)
}

fn parse_channel_mapping(value: &str) -> Result<ChannelModelMapping, String> {
    parse_type_keyed(value)
}

impl Options {
    /// Resolve defaults ← database ← environment. Invalid database values are
    /// skipped (returned as warnings) so one bad row cannot stop the gateway.
    pub fn resolve(
        db: &HashMap<String, String>,
        env: &HashMap<&'static str, String>,
    ) -> (Self, Vec<String>) {
        let mut warnings = Vec::new();
        let mut raw = BTreeMap::new();
        for spec in OPTION_SPECS {
            let value = if let Some(v) = env.get(spec.key) {
                v.clone()
            } else if let Some(v) = db.get(spec.key) {
                match validate(spec.key, v) {
                    Ok(v) => v,
                    Err(e) => {
                        warnings.push(format!("ignoring stored value: {e}"));
                        spec.default.to_owned()
                    }
                }
            } else {
                spec.default.to_owned()
            };
            raw.insert(spec.key.to_owned(), value);
        }
        (Self::from_raw(raw), warnings)
    }

    fn from_raw(raw: BTreeMap<String, String>) -> Self {
        let get = |k: &str| raw.get(k).map(String::as_str).unwrap_or("");
        let int = |k: &str| get(k).trim().parse::<i64>().unwrap_or(0);
        Self {
            retry_times: get("RetryTimes").trim().parse().unwrap_or(0),
            disable_serve: parse_bool(get("DisableServe")).unwrap_or(false),
            log_storage_hours: int("LogStorageHours"),
            log_detail_storage_hours: int("LogDetailStorageHours"),
            retry_log_storage_hours: int("RetryLogStorageHours"),
            save_all_log_detail: parse_bool(get("SaveAllLogDetail")).unwrap_or(false),
            log_detail_request_body_max_size: int("LogDetailRequestBodyMaxSize"),
            log_detail_response_body_max_size: int("LogDetailResponseBodyMaxSize"),
            clean_log_batch_size: int("CleanLogBatchSize").max(1),
            default_channel_models: parse_channel_models(get("DefaultChannelModels"))
                .unwrap_or_default(),
            default_channel_model_mapping: parse_channel_mapping(get("DefaultChannelModelMapping"))
                .unwrap_or_default(),
            group_max_token_num: int("GroupMaxTokenNum"),
            ip_groups_threshold: int("IPGroupsThreshold"),
            ip_groups_ban_threshold: int("IPGroupsBanThreshold"),
            group_consume_level_ratio: parse_ratio_map(get("GroupConsumeLevelRatio"))
                .unwrap_or_default(),
            summary_storage_hours: int("SummaryStorageHours"),
            usage_alert_threshold: amount(get("UsageAlertThreshold")),
            usage_alert_min_avg_threshold: amount(get("UsageAlertMinAvgThreshold")),
            usage_alert_whitelist: get("UsageAlertWhitelist")
                .split(',')
                .map(str::trim)
                .filter(|g| !g.is_empty())
                .map(str::to_owned)
                .collect(),
            notify_note: get("NotifyNote").trim().to_owned(),
            default_warn_notify_error_rate: get("DefaultWarnNotifyErrorRate")
                .trim()
                .parse()
                .unwrap_or(0.5),
            raw,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_wins_over_db_and_default() {
        let db = HashMap::from([("RetryTimes".to_owned(), "2".to_owned())]);
        let env = HashMap::from([("RetryTimes", "5".to_owned())]);
        let (o, w) = Options::resolve(&db, &env);
        assert!(w.is_empty());
        assert_eq!(o.retry_times, 5);
        let (o, _) = Options::resolve(&db, &HashMap::new());
        assert_eq!(o.retry_times, 2);
        let (o, _) = Options::resolve(&HashMap::new(), &HashMap::new());
        assert_eq!(o.retry_times, 0);
        assert_eq!(o.log_detail_storage_hours, 72);
    }

    #[test]
    fn invalid_db_value_falls_back_with_warning() {
        let db = HashMap::from([("RetryTimes".to_owned(), "many".to_owned())]);
        let (o, w) = Options::resolve(&db, &HashMap::new());
        assert_eq!(o.retry_times, 0);
        assert_eq!(w.len(), 1);
    }

    #[test]
    fn validation_names_the_problem() {
        assert_eq!(validate("SaveAllLogDetail", "TRUE").unwrap(), "true");
        assert!(matches!(
            validate("Nope", "1"),
            Err(OptionError::Unknown(_))
        ));
        let err = validate("RetryTimes", "-1").unwrap_err().to_string();
        assert!(err.contains("RetryTimes"), "{err}");
        assert!(validate("DefaultChannelModels", r#"{"1":["gpt-4o"]}"#).is_ok());
        assert!(validate("DefaultChannelModels", r#"{"openai":["gpt-4o"]}"#).is_err());
    }

    #[test]
    fn channel_defaults_parse() {
        let db = HashMap::from([
            (
                "DefaultChannelModels".to_owned(),
                r#"{"1":["a","b"]}"#.to_owned(),
            ),
            (
                "DefaultChannelModelMapping".to_owned(),
                r#"{"1":{"a":"a-2024"}}"#.to_owned(),
            ),
        ]);
        let (o, _) = Options::resolve(&db, &HashMap::new());
        assert_eq!(o.default_channel_models[&1], vec!["a", "b"]);
        assert_eq!(o.default_channel_model_mapping[&1]["a"], "a-2024");
    }
}
