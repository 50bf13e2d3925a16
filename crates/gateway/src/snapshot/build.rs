//! Building a [`Snapshot`] from database rows: pure, so it is unit-tested
//! without a database.

use std::collections::BTreeMap;
use std::sync::Arc;

use foldhash::{HashMap, HashMapExt};

use super::{ChannelEntry, GroupEntry, Snapshot, TokenEntry};
use crate::billing::{Price, parse_price};
use crate::config::options::Options;
use crate::model::channel::Channel;
use crate::model::group::{DEFAULT_SET, Group};
use crate::model::model_config::{GroupModelConfig, ModelConfig};
use crate::model::token::{Token, key_hash};
use crate::providers;

/// Everything a snapshot is made of, as loaded from the database.
#[derive(Debug, Default, Clone)]
pub struct SnapshotData {
    /// Channels.
    pub channels: Vec<Channel>,
    /// Groups.
    pub groups: Vec<Group>,
    /// Tokens.
    pub tokens: Vec<Token>,
    /// Model configs.
    pub model_configs: Vec<ModelConfig>,
    /// Group overrides.
    pub group_model_configs: Vec<GroupModelConfig>,
    /// Blocked client IPs.
    pub ip_blocks: Vec<crate::store::ip_blocks::IpBlock>,
}

/// Build a snapshot. Channels of unknown types are skipped (they cannot be
/// created through the API, but a shared database may hold them).
pub fn build(data: SnapshotData, options: Options, disable_model_config: bool) -> Snapshot {
    let model_configs: HashMap<String, Arc<ModelConfig>> = data
        .model_configs
        .into_iter()
        .map(|c| (c.model.clone(), Arc::new(c)))
        .collect();
    let mut channels = HashMap::new();
    let mut model_channels: HashMap<String, Vec<Arc<ChannelEntry>>> = HashMap::new();
    for channel in data.channels {
        let Some(entry) = channel_entry(channel, &options, &model_configs, disable_model_config)
        else {
            continue;
        };
        let entry = Arc::new(entry);
        if entry.channel.is_enabled() {
            for model in &entry.models {
                model_channels
                    .entry(model.clone())
                    .or_default()
                    .push(entry.clone());
            }
        }
        channels.insert(entry.channel.id, entry);
    }
    let mut model_index = HashMap::new();
    let mut names: Vec<&String> = model_channels.keys().collect();
    names.sort();
    for name in names {
        model_index
            .entry(name.to_lowercase())
            .or_insert_with(|| name.clone());
    }
    let tokens = data
        .tokens
        .into_iter()
        .map(|token| {
            let subnets = token.parsed_subnets();
            (
                key_hash(&token.key),
                Arc::new(TokenEntry { token, subnets }),
            )
        })
        .collect();
    let groups = data
        .groups
        .into_iter()
        .map(|group| {
            let sets = group.effective_sets();
            (group.id.clone(), Arc::new(GroupEntry { group, sets }))
        })
        .collect();
    let prices = model_configs
        .iter()
        .filter_map(|(model, c)| priced(model, &c.price).map(|p| (model.clone(), p)))
        .collect();
    let mut group_prices: HashMap<String, HashMap<String, Option<Arc<Price>>>> = HashMap::new();
    let mut group_model_configs: HashMap<String, HashMap<String, Arc<GroupModelConfig>>> =
        HashMap::new();
    for c in data.group_model_configs {
        if c.override_price {
            let price = priced(&c.model, &c.price);
            group_prices
                .entry(c.group_id.clone())
                .or_default()
                .insert(c.model.clone(), price);
        }
        group_model_configs
            .entry(c.group_id.clone())
            .or_default()
            .insert(c.model.clone(), Arc::new(c));
    }
    Snapshot {
        options,
        disable_model_config,
        channels,
        model_channels,
        model_index,
        model_configs,
        group_model_configs,
        tokens,
        groups,
        prices,
        group_prices,
        blocked_ips: data
            .ip_blocks
            .into_iter()
            .filter_map(|b| b.ip.parse().ok().map(|ip| (ip, b.until_ms)))
            .collect(),
    }
}

/// A model's parsed price; `None` when it is free. A stored price that no
/// longer parses (written by another version) is treated as free, loudly.
fn priced(model: &str, object: &serde_json::Map<String, serde_json::Value>) -> Option<Arc<Price>> {
    if object.is_empty() {
        return None;
    }
    match parse_price(object) {
        Ok(price) if price.is_free() => None,
        Ok(price) => Some(Arc::new(price)),
        Err(e) => {
            tracing::error!(model, error = %e.0, "stored price is invalid; the model is billed as free");
            None
        }
    }
}

pub(crate) fn channel_entry(
    channel: Channel,
    options: &Options,
    model_configs: &HashMap<String, Arc<ModelConfig>>,
    disable_model_config: bool,
) -> Option<ChannelEntry> {
    let info = providers::channel_type(channel.channel_type)?;
    let mut models = if channel.models.is_empty() {
        options
            .default_channel_models
            .get(&channel.channel_type)
            .cloned()
            .unwrap_or_default()
    } else {
        channel.models.clone()
    };
    if !disable_model_config {
        models.retain(|m| model_configs.contains_key(m));
    }
    let mapping: BTreeMap<String, String> = if channel.model_mapping.is_empty() {
        options
            .default_channel_model_mapping
            .get(&channel.channel_type)
            .cloned()
            .unwrap_or_default()
    } else {
        channel.model_mapping.clone()
    };
    let sets = if channel.sets.is_empty() {
        vec![DEFAULT_SET.to_owned()]
    } else {
        channel.sets.clone()
    };
    let priority = if channel.priority <= 0 {
        10.0
    } else {
        channel.priority.min(1_000_000) as f64
    };
    Some(ChannelEntry {
        channel,
        info,
        models,
        mapping,
        sets,
        priority,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::channel::ChannelWrite;

    fn channel(id: i64, json: &str) -> Channel {
        let w: ChannelWrite = serde_json::from_str(json).unwrap();
        let mut c = Channel::from_create(&w, String::new(), 0);
        c.id = id;
        c
    }

    fn data() -> SnapshotData {
        SnapshotData {
            channels: vec![
                channel(
                    1,
                    r#"{"type":1,"name":"a","models":["GPT-4o","unconfigured"]}"#,
                ),
                channel(2, r#"{"type":1,"name":"b","models":["GPT-4o"],"status":2}"#),
                channel(3, r#"{"type":1,"name":"c","models":[],"sets":["vip"]}"#),
            ],
            model_configs: vec![ModelConfig::empty("GPT-4o", 0), ModelConfig::empty("d1", 0)],
            ..SnapshotData::default()
        }
    }

    #[test]
    fn only_configured_models_of_enabled_channels_route() {
        let s = build(data(), Options::default(), false);
        assert_eq!(s.model_channels["GPT-4o"].len(), 1);
        assert!(!s.model_channels.contains_key("unconfigured"));
        assert_eq!(s.canonical_model("gpt-4O"), Some("GPT-4o"));
        assert_eq!(s.channels.len(), 3);
    }

    #[test]
    fn disable_model_config_routes_everything() {
        let s = build(data(), Options::default(), true);
        assert!(s.model_channels.contains_key("unconfigured"));
        assert!(s.model_config("anything").is_some());
    }

    #[test]
    fn default_models_and_sets() {
        let mut options = Options::default();
        options.default_channel_models.insert(1, vec!["d1".into()]);
        let s = build(data(), options, false);
        let c = &s.model_channels["d1"][0];
        assert_eq!(c.channel.id, 3);
        let default = vec!["default".to_owned()];
        let vip = vec!["vip".to_owned()];
        assert!(s.candidates("d1", Some(&default)).is_empty());
        assert_eq!(s.candidates("d1", Some(&vip)).len(), 1);
        assert_eq!(s.visible_models(Some(&default), &[]), vec!["GPT-4o"]);
        assert_eq!(s.visible_models(None, &["gpt-4o".into()]), vec!["GPT-4o"]);
    }
}
