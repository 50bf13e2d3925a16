//! The in-memory configuration the request path reads: channels by model,
//! tokens by key hash, groups, model configs and options.
//!
//! A [`Snapshot`] is immutable and built in one go from the database
//! ([`build::build`]); [`SnapshotHandle`] swaps a new one in atomically after
//! every admin write and every `SYNC_FREQUENCY` seconds, so the hot path does
//! one lock-free pointer load and never queries the database.

pub mod build;
mod handle;

use std::collections::BTreeMap;
use std::sync::Arc;

use foldhash::HashMap;
use ipnet::IpNet;

pub use handle::SnapshotHandle;

use crate::billing::Price;
use crate::config::options::Options;
use crate::model::channel::Channel;
use crate::model::group::Group;
use crate::model::model_config::{GroupModelConfig, ModelConfig};
use crate::model::token::Token;
use crate::providers::ChannelTypeInfo;

/// A channel with its effective routing data resolved.
#[derive(Debug)]
pub struct ChannelEntry {
    /// The stored channel.
    pub channel: Channel,
    /// Its type.
    pub info: &'static ChannelTypeInfo,
    /// Models served (after the type default and the model-config filter).
    pub models: Vec<String>,
    /// Model mapping (after the type default).
    pub mapping: BTreeMap<String, String>,
    /// Sets (never empty).
    pub sets: Vec<String>,
    /// Selection weight base: the priority, 0 counting as 10.
    pub priority: f64,
}

impl ChannelEntry {
    /// The upstream name of a requested model.
    pub fn upstream_model<'a>(&'a self, model: &'a str) -> &'a str {
        self.mapping.get(model).map_or(model, String::as_str)
    }

    /// Whether the channel belongs to one of `sets` (`None`: every set).
    pub fn in_sets(&self, sets: Option<&[String]>) -> bool {
        sets.is_none_or(|sets| self.sets.iter().any(|s| sets.contains(s)))
    }

    /// Whether the channel lists `model`.
    pub fn serves(&self, model: &str) -> bool {
        self.models.iter().any(|m| m == model)
    }
}

/// A token with parsed allow-lists.
#[derive(Debug)]
pub struct TokenEntry {
    /// The stored token.
    pub token: Token,
    /// Parsed subnets.
    pub subnets: Vec<IpNet>,
}

/// A group with effective sets.
#[derive(Debug)]
pub struct GroupEntry {
    /// The stored group.
    pub group: Group,
    /// Sets (never empty).
    pub sets: Vec<String>,
}

/// One consistent view of the configuration.
#[derive(Debug, Default)]
pub struct Snapshot {
    /// Effective runtime options.
    pub options: Options,
    /// Accept any model name without a model config.
    pub disable_model_config: bool,
    /// Every channel (any status) by id.
    pub channels: HashMap<i64, Arc<ChannelEntry>>,
    /// Enabled channels serving each model.
    pub model_channels: HashMap<String, Vec<Arc<ChannelEntry>>>,
    /// Lower-cased model name → canonical spelling.
    pub model_index: HashMap<String, String>,
    /// Model configs by model.
    pub model_configs: HashMap<String, Arc<ModelConfig>>,
    /// Group overrides by group, then model.
    pub group_model_configs: HashMap<String, HashMap<String, Arc<GroupModelConfig>>>,
    /// Tokens by SHA-256 of the key.
    pub tokens: HashMap<[u8; 32], Arc<TokenEntry>>,
    /// Groups by id.
    pub groups: HashMap<String, Arc<GroupEntry>>,
    /// Parsed non-free prices by model.
    pub prices: HashMap<String, Arc<Price>>,
    /// Group price overrides (`override_price`) by group, then model
    /// (`None`: the override makes the model free).
    pub group_prices: HashMap<String, HashMap<String, Option<Arc<Price>>>>,
    /// Blocked client IPs → blocked until (ms).
    pub blocked_ips: HashMap<std::net::IpAddr, i64>,
}

impl Snapshot {
    /// The canonical spelling of a model name: exact match first, then a
    /// case-insensitive one.
    pub fn canonical_model<'a>(&'a self, requested: &'a str) -> Option<&'a str> {
        if self.model_channels.contains_key(requested) {
            return Some(requested);
        }
        self.model_index
            .get(&requested.to_lowercase())
            .map(String::as_str)
    }

    /// Enabled channels serving `model` within `sets` (`None`: all sets).
    pub fn candidates(&self, model: &str, sets: Option<&[String]>) -> Vec<Arc<ChannelEntry>> {
        self.model_channels
            .get(model)
            .map(|list| list.iter().filter(|c| c.in_sets(sets)).cloned().collect())
            .unwrap_or_default()
    }

    /// Models a principal can see: served by an enabled channel in `sets`,
    /// narrowed by a token allow-list (case-insensitive), sorted.
    pub fn visible_models(&self, sets: Option<&[String]>, allow: &[String]) -> Vec<String> {
        let mut models: Vec<String> = self
            .model_channels
            .iter()
            .filter(|(_, channels)| channels.iter().any(|c| c.in_sets(sets)))
            .map(|(m, _)| m.clone())
            .filter(|m| allow.is_empty() || allow.iter().any(|a| a.eq_ignore_ascii_case(m)))
            .collect();
        models.sort();
        models
    }

    /// The model config of `model`, or an empty one when model configs are disabled.
    pub fn model_config(&self, model: &str) -> Option<Arc<ModelConfig>> {
        match self.model_configs.get(model) {
            Some(c) => Some(c.clone()),
            None if self.disable_model_config => Some(Arc::new(ModelConfig::empty(model, 0))),
            None => None,
        }
    }

    /// The price `group` pays for `model`: the group's override when it has
    /// one, otherwise the model's; `None` when free.
    pub fn price(&self, group: &str, model: &str) -> Option<Arc<Price>> {
        match self.group_prices.get(group).and_then(|m| m.get(model)) {
            Some(price) => price.clone(),
            None => self.prices.get(model).cloned(),
        }
    }

    /// A group's override of `model`, if any.
    pub fn group_model_config(&self, group: &str, model: &str) -> Option<&Arc<GroupModelConfig>> {
        self.group_model_configs.get(group)?.get(model)
    }
}
