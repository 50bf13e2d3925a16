//! Model configs: the catalogue entries that make a model routable, with its
//! owner, endpoint type, price, limits and per-model behaviour; and their
//! per-group overrides.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::FieldError;
use crate::merge_fields;
use crate::relay::mode::Mode;

/// Upstream timeouts in seconds (0: the mode's default).
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(default)]
pub struct TimeoutConfig {
    /// Time to first upstream byte, non-stream requests.
    pub request_timeout: i64,
    /// Time to first upstream byte, streams.
    pub stream_request_timeout: i64,
}

/// A model config as stored and shown.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ModelConfig {
    /// Model name.
    pub model: String,
    /// Owner shown in `/v1/models` (e.g. `openai`).
    pub owner: String,
    /// Endpoint type (a mode id; 0 = any endpoint).
    #[serde(rename = "type")]
    pub model_type: i64,
    /// Price object (units per 1000 tokens by default).
    pub price: Map<String, Value>,
    /// Requests per minute per group (0: unlimited).
    pub rpm: i64,
    /// Tokens per minute per group (0: unlimited).
    pub tpm: i64,
    /// Retry budget override (> 0 wins over RetryTimes).
    pub retry_times: i64,
    /// Upstream timeouts.
    pub timeout_config: TimeoutConfig,
    /// Capability hints (max tokens, vision, …).
    pub config: Map<String, Value>,
    /// Plugin configuration by plugin name.
    pub plugin: Map<String, Value>,
    /// Skip this model in channel tests.
    pub exclude_from_tests: bool,
    /// Always store request/response bodies.
    pub force_save_detail: bool,
    /// Request body cap for details (0: global; < 0: none).
    pub request_body_storage_max_size: i64,
    /// Response body cap for details (0: global; < 0: none).
    pub response_body_storage_max_size: i64,
    /// Fields this version does not interpret, kept as sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
    /// Creation time (ms).
    pub created_at: i64,
    /// Last change (ms).
    pub updated_at: i64,
}

/// A model config write; absent fields are kept. Unknown fields are stored in `extra`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct ModelConfigWrite {
    /// Model name (required in bulk saves; the path names it otherwise).
    pub model: Option<String>,
    /// Owner.
    pub owner: Option<String>,
    /// Type.
    #[serde(rename = "type")]
    pub model_type: Option<i64>,
    /// Price.
    pub price: Option<Map<String, Value>>,
    /// RPM.
    pub rpm: Option<i64>,
    /// TPM.
    pub tpm: Option<i64>,
    /// Retries.
    pub retry_times: Option<i64>,
    /// Timeouts.
    pub timeout_config: Option<TimeoutConfig>,
    /// Capabilities.
    pub config: Option<Map<String, Value>>,
    /// Plugins.
    pub plugin: Option<Map<String, Value>>,
    /// Exclude from tests.
    pub exclude_from_tests: Option<bool>,
    /// Force body storage.
    pub force_save_detail: Option<bool>,
    /// Request body cap.
    pub request_body_storage_max_size: Option<i64>,
    /// Response body cap.
    pub response_body_storage_max_size: Option<i64>,
    /// Timestamps sent back by clients are ignored.
    #[serde(skip_serializing)]
    pub created_at: Option<Value>,
    /// Ignored.
    #[serde(skip_serializing)]
    pub updated_at: Option<Value>,
    /// Everything else.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl ModelConfig {
    /// An empty config for `model` (what DISABLE_MODEL_CONFIG implies).
    pub fn empty(model: &str, now: i64) -> Self {
        Self {
            model: model.to_owned(),
            owner: String::new(),
            model_type: 0,
            price: Map::new(),
            rpm: 0,
            tpm: 0,
            retry_times: 0,
            timeout_config: TimeoutConfig::default(),
            config: Map::new(),
            plugin: Map::new(),
            exclude_from_tests: false,
            force_save_detail: false,
            request_body_storage_max_size: 0,
            response_body_storage_max_size: 0,
            extra: Map::new(),
            created_at: now,
            updated_at: now,
        }
    }

    /// Whether a request in `mode` may use this model (AI Proxy's `CheckRelayMode`).
    pub fn allows_mode(&self, mode: Mode) -> bool {
        let Some(model_mode) = Mode::from_id(self.model_type) else {
            return true;
        };
        model_mode == Mode::Unknown || model_mode.accepts(mode)
    }
}

impl ModelConfigWrite {
    /// Check present fields.
    pub fn validate(&self) -> Result<(), FieldError> {
        if let Some(model) = &self.model
            && model.trim().is_empty()
        {
            return Err(FieldError::new("model", "must not be empty"));
        }
        if let Some(t) = self.model_type
            && Mode::from_id(t).is_none()
        {
            return Err(FieldError::new(
                "type",
                format!("{t} is not a known model type"),
            ));
        }
        for (field, value) in [
            ("rpm", self.rpm),
            ("tpm", self.tpm),
            ("retry_times", self.retry_times),
        ] {
            if value.is_some_and(|v| v < 0) {
                return Err(FieldError::new(field, "must not be negative"));
            }
        }
        if let Some(t) = &self.timeout_config
            && (t.request_timeout < 0 || t.stream_request_timeout < 0)
        {
            return Err(FieldError::new(
                "timeout_config",
                "timeouts must not be negative",
            ));
        }
        if let Some(price) = &self.price {
            crate::billing::parse_price(price)?;
        }
        Ok(())
    }

    /// Merge present fields into `config`.
    pub fn apply_to(mut self, config: &mut ModelConfig) {
        if let Some(owner) = self.owner.take() {
            config.owner = owner.trim().to_owned();
        }
        for (k, v) in std::mem::take(&mut self.extra) {
            config.extra.insert(k, v);
        }
        merge_fields!(
            self,
            config,
            [
                model_type,
                price,
                rpm,
                tpm,
                retry_times,
                timeout_config,
                config,
                plugin,
                exclude_from_tests,
                force_save_detail,
                request_body_storage_max_size,
                response_body_storage_max_size,
            ]
        );
    }
}

/// A group's override of a model config.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct GroupModelConfig {
    /// Group id.
    pub group_id: String,
    /// Model name.
    pub model: String,
    /// Use `rpm`/`tpm` below instead of the model's.
    pub override_limit: bool,
    /// RPM override.
    pub rpm: i64,
    /// TPM override.
    pub tpm: i64,
    /// Use `price` below.
    pub override_price: bool,
    /// Price override.
    pub price: Map<String, Value>,
    /// Use `retry_times` below.
    pub override_retry_times: bool,
    /// Retry override.
    pub retry_times: i64,
    /// Use `force_save_detail` below.
    pub override_force_save_detail: bool,
    /// Body storage override.
    pub force_save_detail: bool,
    /// Use `timeout_config` below.
    pub override_timeout_config: bool,
    /// Timeout override.
    pub timeout_config: TimeoutConfig,
    /// Other fields, kept as sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
    /// Creation time (ms).
    pub created_at: i64,
    /// Last change (ms).
    pub updated_at: i64,
}

/// A group override write; absent fields are kept.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct GroupModelConfigWrite {
    /// Model (bulk writes).
    pub model: Option<String>,
    /// Override limits.
    pub override_limit: Option<bool>,
    /// RPM.
    pub rpm: Option<i64>,
    /// TPM.
    pub tpm: Option<i64>,
    /// Override price.
    pub override_price: Option<bool>,
    /// Price.
    pub price: Option<Map<String, Value>>,
    /// Override retries.
    pub override_retry_times: Option<bool>,
    /// Retries.
    pub retry_times: Option<i64>,
    /// Override body storage.
    pub override_force_save_detail: Option<bool>,
    /// Body storage.
    pub force_save_detail: Option<bool>,
    /// Override timeouts.
    pub override_timeout_config: Option<bool>,
    /// Timeouts.
    pub timeout_config: Option<TimeoutConfig>,
    /// Ignored.
    pub group_id: Option<Value>,
    /// Ignored.
    pub created_at: Option<Value>,
    /// Ignored.
    pub updated_at: Option<Value>,
    /// Everything else.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl GroupModelConfig {
    /// An override with nothing overridden.
    pub fn empty(group: &str, model: &str, now: i64) -> Self {
        Self {
            group_id: group.to_owned(),
            model: model.to_owned(),
            override_limit: false,
            rpm: 0,
            tpm: 0,
            override_price: false,
            price: Map::new(),
            override_retry_times: false,
            retry_times: 0,
            override_force_save_detail: false,
            force_save_detail: false,
            override_timeout_config: false,
            timeout_config: TimeoutConfig::default(),
            extra: Map::new(),
            created_at: now,
            updated_at: now,
        }
    }
}

impl GroupModelConfigWrite {
    /// Check present fields.
    pub fn validate(&self) -> Result<(), FieldError> {
        for (field, value) in [
            ("rpm", self.rpm),
            ("tpm", self.tpm),
            ("retry_times", self.retry_times),
        ] {
            if value.is_some_and(|v| v < 0) {
                return Err(FieldError::new(field, "must not be negative"));
            }
        }
        if let Some(price) = &self.price {
            crate::billing::parse_price(price)?;
        }
        Ok(())
    }

    /// Merge present fields.
    pub fn apply_to(mut self, config: &mut GroupModelConfig) {
        for (k, v) in std::mem::take(&mut self.extra) {
            config.extra.insert(k, v);
        }
        merge_fields!(
            self,
            config,
            [
                override_limit,
                rpm,
                tpm,
                override_price,
                price,
                override_retry_times,
                retry_times,
                override_force_save_detail,
                force_save_detail,
                override_timeout_config,
                timeout_config,
            ]
        );
    }
}

/// The effective per-request view of a model's config after a group override.
#[derive(Debug, Clone, Copy, Default)]
pub struct EffectiveModelSettings {
    /// Retry budget override (0: global).
    pub retry_times: u32,
    /// Timeouts (0: mode defaults).
    pub timeout: TimeoutConfig,
    /// Force storing bodies.
    pub force_save_detail: bool,
    /// Request body cap override.
    pub request_body_storage_max_size: i64,
    /// Response body cap override.
    pub response_body_storage_max_size: i64,
    /// The think-split plugin is on (`plugin.think-split.enable`).
    pub think_split: bool,
    /// Requests per minute per group (0: none), before the group's ratios.
    pub rpm: i64,
    /// Tokens per minute per group (0: none), before the group's ratios.
    pub tpm: i64,
}

impl EffectiveModelSettings {
    /// Combine a model config with an optional group override.
    pub fn resolve(config: &ModelConfig, group: Option<&GroupModelConfig>) -> Self {
        let mut out = Self {
            retry_times: u32::try_from(config.retry_times).unwrap_or(0),
            timeout: config.timeout_config,
            force_save_detail: config.force_save_detail,
            request_body_storage_max_size: config.request_body_storage_max_size,
            response_body_storage_max_size: config.response_body_storage_max_size,
            think_split: crate::relay::think_split::enabled(&config.plugin),
            rpm: config.rpm,
            tpm: config.tpm,
        };
        if let Some(g) = group {
            if g.override_limit {
                out.rpm = g.rpm;
                out.tpm = g.tpm;
            }
            if g.override_retry_times {
                out.retry_times = u32::try_from(g.retry_times).unwrap_or(0);
            }
            if g.override_timeout_config {
                out.timeout = g.timeout_config;
            }
            if g.override_force_save_detail {
                out.force_save_detail = g.force_save_detail;
            }
        }
        out
    }
}
