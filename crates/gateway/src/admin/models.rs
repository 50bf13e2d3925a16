//! `/api/models/*`: the built-in catalogue, the models currently routable
//! per set, and the per-channel-type defaults.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, LazyLock};

use axum::Router;
use axum::extract::{Path, State};
use axum::routing::get;
use serde_json::{Value, json};

use super::{AdminError, AdminResult, ok};
use crate::model::model_config::{ModelConfig, ModelConfigWrite};
use crate::providers;
use crate::snapshot::Snapshot;
use crate::state::AppState;

/// The curated catalogue, keyed by channel type id.
const BUILTIN_JSON: &str = include_str!("../../data/builtin_models.json");

/// Built-in model configs by channel type id, parsed once.
static BUILTIN: LazyLock<Result<BTreeMap<i64, Vec<ModelConfig>>, String>> =
    LazyLock::new(|| parse_builtin(BUILTIN_JSON));

/// Model routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/models/builtin", get(builtin))
        .route("/models/builtin/channel", get(builtin_by_channel))
        .route("/models/builtin/channel/{type}", get(builtin_of_channel))
        .route("/models/enabled", get(enabled))
        .route("/models/enabled/{set}", get(enabled_in_set))
        .route("/models/sets", get(sets))
        .route("/models/default", get(defaults))
        .route("/models/default/{type}", get(defaults_of_type))
}

fn parse_builtin(text: &str) -> Result<BTreeMap<i64, Vec<ModelConfig>>, String> {
    let raw: BTreeMap<String, Vec<ModelConfigWrite>> = serde_json::from_str(text)
        .map_err(|e| format!("built-in model catalogue is invalid: {e}"))?;
    raw.into_iter()
        .map(|(channel_type, writes)| {
            let id = channel_type.parse::<i64>().map_err(|_| {
                format!("built-in model catalogue: `{channel_type}` is not a channel type id")
            })?;
            let configs = writes
                .into_iter()
                .map(|write| {
                    write
                        .validate()
                        .map_err(|e| format!("built-in model catalogue: {e}"))?;
                    let model = write.model.clone().unwrap_or_default();
                    let mut config = ModelConfig::empty(&model, 0);
                    write.apply_to(&mut config);
                    Ok(config)
                })
                .collect::<Result<Vec<_>, String>>()?;
            Ok((id, configs))
        })
        .collect()
}

fn catalogue() -> Result<&'static BTreeMap<i64, Vec<ModelConfig>>, AdminError> {
    BUILTIN
        .as_ref()
        .map_err(|e| AdminError::Internal(e.clone()))
}

/// A channel type id from the path.
fn parse_type(raw: &str) -> Result<i64, AdminError> {
    raw.trim().parse().map_err(|_| {
        AdminError::BadRequest(format!("`type` must be a channel type id, got `{raw}`"))
    })
}

async fn builtin() -> AdminResult<Vec<ModelConfig>> {
    Ok(ok(catalogue()?.values().flatten().cloned().collect()))
}

async fn builtin_by_channel() -> AdminResult<BTreeMap<String, Vec<ModelConfig>>> {
    Ok(ok(catalogue()?
        .iter()
        .map(|(t, configs)| (t.to_string(), configs.clone()))
        .collect()))
}

async fn builtin_of_channel(Path(raw): Path<String>) -> AdminResult<Vec<ModelConfig>> {
    let channel_type = parse_type(&raw)?;
    if providers::channel_type(channel_type).is_none() {
        return Err(AdminError::NotFound(format!(
            "channel type {channel_type}: record not found"
        )));
    }
    Ok(ok(catalogue()?
        .get(&channel_type)
        .cloned()
        .unwrap_or_default()))
}

/// Set → routable models (served by an enabled channel of that set), by name.
fn models_by_set(snapshot: &Snapshot) -> BTreeMap<String, BTreeSet<String>> {
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (model, channels) in &snapshot.model_channels {
        for set in channels.iter().flat_map(|c| c.sets.iter()) {
            out.entry(set.clone()).or_default().insert(model.clone());
        }
    }
    out
}

fn configs_of(snapshot: &Snapshot, models: &BTreeSet<String>) -> Vec<Arc<ModelConfig>> {
    models
        .iter()
        .filter_map(|m| snapshot.model_config(m))
        .collect()
}

async fn enabled(
    State(app): State<AppState>,
) -> AdminResult<BTreeMap<String, Vec<Arc<ModelConfig>>>> {
    let snapshot = app.snapshot.get();
    let by_set = models_by_set(&snapshot);
    Ok(ok(by_set
        .iter()
        .map(|(set, models)| (set.clone(), configs_of(&snapshot, models)))
        .collect()))
}

async fn enabled_in_set(
    State(app): State<AppState>,
    Path(set): Path<String>,
) -> AdminResult<Vec<Arc<ModelConfig>>> {
    let snapshot = app.snapshot.get();
    let by_set = models_by_set(&snapshot);
    Ok(ok(by_set
        .get(&set)
        .map(|models| configs_of(&snapshot, models))
        .unwrap_or_default()))
}

async fn sets(State(app): State<AppState>) -> AdminResult<Vec<String>> {
    Ok(ok(models_by_set(&app.snapshot.get()).into_keys().collect()))
}

async fn defaults(State(app): State<AppState>) -> AdminResult<Value> {
    let snapshot = app.snapshot.get();
    let options = &snapshot.options;
    let models: BTreeMap<String, &Vec<String>> = options
        .default_channel_models
        .iter()
        .map(|(t, m)| (t.to_string(), m))
        .collect();
    let mapping: BTreeMap<String, &BTreeMap<String, String>> = options
        .default_channel_model_mapping
        .iter()
        .map(|(t, m)| (t.to_string(), m))
        .collect();
    Ok(ok(json!({ "models": models, "mapping": mapping })))
}

async fn defaults_of_type(
    State(app): State<AppState>,
    Path(raw): Path<String>,
) -> AdminResult<Value> {
    let channel_type = parse_type(&raw)?;
    let snapshot = app.snapshot.get();
    let options = &snapshot.options;
    let models = options
        .default_channel_models
        .get(&channel_type)
        .cloned()
        .unwrap_or_default();
    let mapping = options
        .default_channel_model_mapping
        .get(&channel_type)
        .cloned()
        .unwrap_or_default();
    Ok(ok(json!({ "models": models, "mapping": mapping })))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalogue_parses() {
        let catalogue = parse_builtin(BUILTIN_JSON).unwrap();
        let openai = &catalogue[&1];
        let gpt4o = openai.iter().find(|c| c.model == "gpt-4o").unwrap();
        assert_eq!(gpt4o.owner, "openai");
        assert_eq!(gpt4o.model_type, 1);
        assert_eq!(gpt4o.price["input_price"], json!(0.0025));
        let embedding = openai
            .iter()
            .find(|c| c.model == "text-embedding-3-small")
            .unwrap();
        assert_eq!(embedding.model_type, 3);
        assert!(
            catalogue[&36]
                .iter()
                .all(|c| c.owner == "deepseek" && c.price.is_empty())
        );
        for channel_type in catalogue.keys() {
            assert!(
                providers::channel_type(*channel_type).is_some(),
                "unknown type {channel_type}"
            );
        }
    }

    #[test]
    fn bad_catalogue_is_an_error() {
        assert!(parse_builtin(r#"{"openai": []}"#).is_err());
        assert!(parse_builtin(r#"{"1": [{"model": "m", "rpm": -1}]}"#).is_err());
    }
}
