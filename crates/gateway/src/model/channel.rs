//! Channels: upstream accounts/endpoints that serve models.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::{FieldError, STATUS_ENABLED, check_status, clean_names, is_zero};
use crate::providers::{self, ChannelTypeInfo};

/// A channel as stored and as the admin API shows it.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Channel {
    /// Id.
    pub id: i64,
    /// AI Proxy channel type id.
    #[serde(rename = "type")]
    pub channel_type: i64,
    /// Display name.
    pub name: String,
    /// Upstream credential (format depends on the type).
    pub key: String,
    /// Upstream base URL; empty means the type's default.
    pub base_url: String,
    /// HTTP/SOCKS proxy for upstream calls.
    pub proxy_url: String,
    /// Models served. Never null.
    pub models: Vec<String>,
    /// Requested model → upstream model.
    pub model_mapping: BTreeMap<String, String>,
    /// Selection weight base (0 is treated as 10).
    pub priority: i64,
    /// 1 enabled, 2 disabled.
    pub status: i64,
    /// Routing pools; empty means `default`.
    pub sets: Vec<String>,
    /// Type-specific options.
    pub configs: Map<String, Value>,
    /// Last known provider balance.
    pub balance: f64,
    /// When the balance was read (ms).
    pub balance_updated_at: i64,
    /// Alert below this balance.
    pub balance_threshold: f64,
    /// Poll the provider balance periodically.
    pub enabled_auto_balance_check: bool,
    /// Do not verify upstream TLS certificates.
    pub skip_tls_verify: bool,
    /// Ban the (channel, model) pair at once on 401/402/403/404.
    pub enabled_no_permission_ban: bool,
    /// Error rate that triggers a warning (0 = global default).
    pub warn_error_rate: f64,
    /// Error rate that bans the pair temporarily (0 = never).
    pub max_error_rate: f64,
    /// Money spent through this channel.
    pub used_amount: f64,
    /// Requests served.
    pub request_count: i64,
    /// Attempts that were retries.
    pub retry_count: i64,
    /// Last failed channel test (ms).
    pub last_test_error_at: i64,
    /// Last use (ms), omitted when never used.
    #[serde(skip_serializing_if = "is_zero")]
    pub accessed_at: i64,
    /// Creation time (ms).
    pub created_at: i64,
    /// Last change (ms).
    pub updated_at: i64,
}

/// A channel write (create or partial update). Unknown fields are ignored;
/// `null` counts as not sent.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct ChannelWrite {
    /// Type id.
    #[serde(rename = "type")]
    pub channel_type: Option<i64>,
    /// Name.
    pub name: Option<String>,
    /// Key; on create, several lines create several channels.
    pub key: Option<String>,
    /// Base URL.
    pub base_url: Option<String>,
    /// Proxy URL.
    pub proxy_url: Option<String>,
    /// Models.
    pub models: Option<Vec<String>>,
    /// Model mapping.
    pub model_mapping: Option<BTreeMap<String, String>>,
    /// Priority.
    pub priority: Option<i64>,
    /// Status.
    pub status: Option<i64>,
    /// Sets.
    pub sets: Option<Vec<String>>,
    /// Configs.
    pub configs: Option<Map<String, Value>>,
    /// Balance alert threshold.
    pub balance_threshold: Option<f64>,
    /// Balance polling.
    pub enabled_auto_balance_check: Option<bool>,
    /// TLS verification off.
    pub skip_tls_verify: Option<bool>,
    /// Immediate ban on no-permission statuses.
    pub enabled_no_permission_ban: Option<bool>,
    /// Warning error rate.
    pub warn_error_rate: Option<f64>,
    /// Ban error rate.
    pub max_error_rate: Option<f64>,
}

impl Channel {
    /// True when the channel may be routed to.
    pub fn is_enabled(&self) -> bool {
        self.status == STATUS_ENABLED
    }

    /// The type's static description.
    pub fn type_info(&self) -> Option<&'static ChannelTypeInfo> {
        providers::channel_type(self.channel_type)
    }

    /// A new channel from a create request (already validated) with one key.
    pub fn from_create(write: &ChannelWrite, key: String, now: i64) -> Self {
        let mut channel = Self {
            id: 0,
            channel_type: write.channel_type.unwrap_or(0),
            name: String::new(),
            key,
            base_url: String::new(),
            proxy_url: String::new(),
            models: Vec::new(),
            model_mapping: BTreeMap::new(),
            priority: 0,
            status: STATUS_ENABLED,
            sets: Vec::new(),
            configs: Map::new(),
            balance: 0.0,
            balance_updated_at: 0,
            balance_threshold: 0.0,
            enabled_auto_balance_check: false,
            skip_tls_verify: false,
            enabled_no_permission_ban: false,
            warn_error_rate: 0.0,
            max_error_rate: 0.0,
            used_amount: 0.0,
            request_count: 0,
            retry_count: 0,
            last_test_error_at: 0,
            accessed_at: 0,
            created_at: now,
            updated_at: now,
        };
        let mut rest = write.clone();
        rest.key = None;
        rest.apply_to(&mut channel);
        channel
    }
}

impl ChannelWrite {
    /// Check every present field; `creating` also requires type and name.
    pub fn validate(&self, creating: bool) -> Result<(), FieldError> {
        if creating {
            if self.channel_type.is_none() {
                return Err(FieldError::new("type", "is required"));
            }
            if self.name.as_deref().is_none_or(|n| n.trim().is_empty()) {
                return Err(FieldError::new("name", "is required"));
            }
        }
        if let Some(t) = self.channel_type
            && providers::channel_type(t).is_none()
        {
            return Err(FieldError::new(
                "type",
                format!("{t} is not a supported channel type (see GET /api/channels/type_metas)"),
            ));
        }
        if let Some(name) = &self.name {
            let name = name.trim();
            if name.is_empty() || name.chars().count() > 64 {
                return Err(FieldError::new("name", "must be 1 to 64 characters"));
            }
        }
        if let Some(url) = &self.base_url {
            check_url("base_url", url, &["http", "https"])?;
        }
        if let Some(url) = &self.proxy_url {
            check_url("proxy_url", url, &["http", "https", "socks5", "socks5h"])?;
        }
        if let Some(p) = self.priority
            && !(0..=1_000_000).contains(&p)
        {
            return Err(FieldError::new("priority", "must be between 0 and 1000000"));
        }
        if let Some(status) = self.status {
            check_status("status", status)?;
        }
        for (field, value) in [
            ("warn_error_rate", self.warn_error_rate),
            ("max_error_rate", self.max_error_rate),
        ] {
            if let Some(v) = value
                && !(0.0..=1.0).contains(&v)
            {
                return Err(FieldError::new(field, "must be between 0 and 1"));
            }
        }
        if let Some(models) = &self.models
            && models.iter().any(|m| m.trim().is_empty())
        {
            return Err(FieldError::new("models", "must not contain empty names"));
        }
        if let Some(mapping) = &self.model_mapping
            && mapping
                .iter()
                .any(|(k, v)| k.trim().is_empty() || v.trim().is_empty())
        {
            return Err(FieldError::new(
                "model_mapping",
                "must not contain empty names",
            ));
        }
        if let Some(t) = self.balance_threshold
            && !t.is_finite()
        {
            return Err(FieldError::new("balance_threshold", "must be a number"));
        }
        Ok(())
    }

    /// The keys of a create request: one per non-empty line (at least one, possibly empty).
    pub fn split_keys(&self) -> Vec<String> {
        let keys: Vec<String> = self
            .key
            .as_deref()
            .unwrap_or("")
            .lines()
            .map(|l| l.trim().to_owned())
            .filter(|l| !l.is_empty())
            .collect();
        if keys.is_empty() {
            vec![String::new()]
        } else {
            keys
        }
    }

    /// Merge the present fields into `channel`.
    pub fn apply_to(self, channel: &mut Channel) {
        if let Some(v) = self.channel_type {
            channel.channel_type = v;
        }
        if let Some(v) = self.name {
            channel.name = v.trim().to_owned();
        }
        // An empty key keeps the stored one: FastGPT's channel form sends `""`
        // when the key was not edited, and wiping a credential by accident is
        // worse than needing a placeholder to clear one.
        if let Some(v) = self.key.filter(|k| !k.trim().is_empty()) {
            channel.key = v.trim().to_owned();
        }
        if let Some(v) = self.base_url {
            channel.base_url = v.trim().trim_end_matches('/').to_owned();
        }
        if let Some(v) = self.proxy_url {
            channel.proxy_url = v.trim().to_owned();
        }
        if let Some(v) = self.models {
            channel.models = clean_names(v);
        }
        if let Some(v) = self.model_mapping {
            channel.model_mapping = v
                .into_iter()
                .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
                .collect();
        }
        if let Some(v) = self.priority {
            channel.priority = v;
        }
        if let Some(v) = self.status {
            channel.status = v;
        }
        if let Some(v) = self.sets {
            channel.sets = clean_names(v);
        }
        if let Some(v) = self.configs {
            channel.configs = v;
        }
        if let Some(v) = self.balance_threshold {
            channel.balance_threshold = v;
        }
        if let Some(v) = self.enabled_auto_balance_check {
            channel.enabled_auto_balance_check = v;
        }
        if let Some(v) = self.skip_tls_verify {
            channel.skip_tls_verify = v;
        }
        if let Some(v) = self.enabled_no_permission_ban {
            channel.enabled_no_permission_ban = v;
        }
        if let Some(v) = self.warn_error_rate {
            channel.warn_error_rate = v;
        }
        if let Some(v) = self.max_error_rate {
            channel.max_error_rate = v;
        }
    }
}

fn check_url(field: &str, url: &str, schemes: &[&str]) -> Result<(), FieldError> {
    let url = url.trim();
    if url.is_empty() {
        return Ok(());
    }
    let parsed = reqwest::Url::parse(url)
        .map_err(|e| FieldError::new(field, format!("is not a valid URL: {e}")))?;
    if !schemes.contains(&parsed.scheme()) {
        return Err(FieldError::new(
            field,
            format!("must use one of the schemes {}", schemes.join(", ")),
        ));
    }
    if parsed.host_str().is_none() {
        return Err(FieldError::new(field, "must name a host"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(json: &str) -> ChannelWrite {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn create_requires_type_and_name() {
        assert!(
            write(r#"{"name":"a"}"#)
                .validate(true)
                .unwrap_err()
                .0
                .contains("type")
        );
        assert!(
            write(r#"{"type":1}"#)
                .validate(true)
                .unwrap_err()
                .0
                .contains("name")
        );
        assert!(write(r#"{"type":1,"name":"a"}"#).validate(true).is_ok());
        assert!(write(r#"{"type":999,"name":"a"}"#).validate(true).is_err());
    }

    #[test]
    fn update_keeps_unsent_fields() {
        let w =
            write(r#"{"type":1,"name":"a","proxy_url":"http://p:1","sets":["x"],"models":["m"]}"#);
        let mut ch = Channel::from_create(&w, "k".into(), 1);
        write(r#"{"priority":7,"models":null,"key":""}"#).apply_to(&mut ch);
        assert_eq!(ch.priority, 7);
        assert_eq!(ch.proxy_url, "http://p:1");
        assert_eq!(ch.sets, vec!["x"]);
        assert_eq!(ch.models, vec!["m"]);
        assert_eq!(ch.key, "k");
    }

    #[test]
    fn multi_line_key_splits() {
        assert_eq!(
            write(r#"{"key":"a\n\n b \n"}"#).split_keys(),
            vec!["a", "b"]
        );
        assert_eq!(write(r#"{}"#).split_keys(), vec![""]);
    }

    #[test]
    fn bad_urls_and_rates_name_the_field() {
        assert!(
            write(r#"{"base_url":"ftp://x"}"#)
                .validate(false)
                .unwrap_err()
                .0
                .contains("base_url")
        );
        assert!(
            write(r#"{"proxy_url":"socks5://127.0.0.1:1080"}"#)
                .validate(false)
                .is_ok()
        );
        assert!(
            write(r#"{"max_error_rate":2}"#)
                .validate(false)
                .unwrap_err()
                .0
                .contains("max_error_rate")
        );
        assert!(
            write(r#"{"status":3}"#)
                .validate(false)
                .unwrap_err()
                .0
                .contains("status")
        );
    }
}
