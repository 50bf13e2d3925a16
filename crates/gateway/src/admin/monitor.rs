//! `/api/monitor/*`: the error-rate monitor (per channel × model rates and
//! bans, from `routing::monitor`) and live RPM/TPM/RPS/TPS (from the log
//! writer's `stats::rates`), plus the `DELETE`s that clear error statistics
//! and bans. Both sources are this instance's memory.

use std::collections::{BTreeMap, BTreeSet};

use axum::Router;
use axum::extract::{Path, State};
use axum::routing::{delete, get, post};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::extract::{AdminJson, AdminQuery, parse_id};
use super::{AdminError, AdminResult, ok};
use crate::routing::monitor::MIN_REQUESTS;
use crate::state::AppState;
use crate::stats::rates::{Rate, RateKey};
use crate::store::now_ms;

/// Monitor routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/monitor", get(all_rates).delete(clear_all))
        .route("/monitor/models", get(model_rates))
        .route("/monitor/banned_channels", get(banned))
        .route("/monitor/runtime_metrics", get(runtime_metrics))
        .route("/monitor/group_summary_metrics", get(group_summary))
        .route("/monitor/group_token_metrics/{group}", get(group_tokens))
        .route("/monitor/group_model_metrics/{group}", get(group_models))
        .route(
            "/monitor/group_tokenname_model_metrics/{group}",
            get(group_token_models),
        )
        .route(
            "/monitor/batch_group_token_metrics",
            post(batch_group_tokens),
        )
        .route("/monitor/{id}", get(channel_rates).delete(clear_channel))
        .route("/monitor/{id}/{*model}", delete(clear_pair))
}

async fn all_rates(
    State(app): State<AppState>,
) -> AdminResult<BTreeMap<i64, BTreeMap<String, f64>>> {
    let mut out: BTreeMap<i64, BTreeMap<String, f64>> = BTreeMap::new();
    for p in app.monitor.stats() {
        out.entry(p.channel)
            .or_default()
            .insert(p.model, p.error_rate);
    }
    Ok(ok(out))
}

async fn channel_rates(
    State(app): State<AppState>,
    Path(id): Path<String>,
) -> AdminResult<BTreeMap<String, f64>> {
    let id = parse_id(&id)?;
    Ok(ok(app
        .monitor
        .stats()
        .into_iter()
        .filter(|p| p.channel == id)
        .map(|p| (p.model, p.error_rate))
        .collect()))
}

fn ratio(errors: u64, requests: u64) -> f64 {
    if requests < u64::from(MIN_REQUESTS) {
        0.0
    } else {
        errors as f64 / requests as f64
    }
}

async fn model_rates(State(app): State<AppState>) -> AdminResult<BTreeMap<String, f64>> {
    let mut totals: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    for p in app.monitor.stats() {
        let t = totals.entry(p.model).or_default();
        t.0 += u64::from(p.errors);
        t.1 += u64::from(p.requests);
    }
    Ok(ok(totals
        .into_iter()
        .map(|(m, (e, r))| (m, ratio(e, r)))
        .collect()))
}

async fn banned(State(app): State<AppState>) -> AdminResult<BTreeMap<String, BTreeSet<i64>>> {
    let mut out: BTreeMap<String, BTreeSet<i64>> = BTreeMap::new();
    for p in app.monitor.stats().into_iter().filter(|p| p.banned) {
        out.entry(p.model).or_default().insert(p.channel);
    }
    Ok(ok(out))
}

async fn clear_all(State(app): State<AppState>) -> AdminResult<Value> {
    app.monitor.clear();
    Ok(ok(Value::Null))
}

async fn clear_channel(State(app): State<AppState>, Path(id): Path<String>) -> AdminResult<Value> {
    app.monitor.clear_channel(parse_id(&id)?);
    Ok(ok(Value::Null))
}

async fn clear_pair(
    State(app): State<AppState>,
    Path((id, model)): Path<(String, String)>,
) -> AdminResult<Value> {
    let model = model.trim_start_matches('/');
    if model.is_empty() {
        return Err(AdminError::BadRequest("a model name is required".into()));
    }
    app.monitor.clear_pair(parse_id(&id)?, model);
    Ok(ok(Value::Null))
}

/// Rates and error statistics of one channel × model pair.
#[derive(Debug, Default, Clone, Serialize)]
struct PairMetric {
    #[serde(flatten)]
    rate: Rate,
    requests: u64,
    errors: u64,
    error_rate: f64,
    banned: bool,
}

/// A model's or channel's totals with its breakdown.
#[derive(Debug, Default, Clone)]
struct RollUp<K: Ord> {
    rate: Rate,
    requests: u64,
    errors: u64,
    banned: u64,
    parts: BTreeMap<K, PairMetric>,
}

impl<K: Ord + Serialize> RollUp<K> {
    fn add(&mut self, key: K, m: &PairMetric) {
        self.rate.add(m.rate);
        self.requests += m.requests;
        self.errors += m.errors;
        self.banned += u64::from(m.banned);
        self.parts.insert(key, m.clone());
    }

    fn to_json(&self, banned_key: &str, parts_key: &str) -> Value {
        let mut v = serde_json::to_value(self.rate).unwrap_or_default();
        v["requests"] = json!(self.requests);
        v["errors"] = json!(self.errors);
        v["error_rate"] = json!(if self.requests > 0 {
            self.errors as f64 / self.requests as f64
        } else {
            0.0
        });
        v[banned_key] = json!(self.banned);
        v[parts_key] = serde_json::to_value(&self.parts).unwrap_or_default();
        v
    }
}

async fn runtime_metrics(State(app): State<AppState>) -> AdminResult<Value> {
    let mut pairs: BTreeMap<(i64, String), PairMetric> = BTreeMap::new();
    for (key, rate) in app.sink.rates().snapshot(now_ms()) {
        if let RateKey::Channel(channel, model) = key {
            pairs.entry((channel, model)).or_default().rate = rate;
        }
    }
    for p in app.monitor.stats() {
        let m = pairs.entry((p.channel, p.model)).or_default();
        m.requests = u64::from(p.requests);
        m.errors = u64::from(p.errors);
        m.error_rate = if p.requests > 0 {
            f64::from(p.errors) / f64::from(p.requests)
        } else {
            0.0
        };
        m.banned = p.banned;
    }
    let mut models: BTreeMap<String, RollUp<i64>> = BTreeMap::new();
    let mut channels: BTreeMap<i64, RollUp<String>> = BTreeMap::new();
    let mut channel_models: BTreeMap<i64, BTreeMap<String, PairMetric>> = BTreeMap::new();
    for ((channel, model), m) in &pairs {
        models.entry(model.clone()).or_default().add(*channel, m);
        channels.entry(*channel).or_default().add(model.clone(), m);
        channel_models
            .entry(*channel)
            .or_default()
            .insert(model.clone(), m.clone());
    }
    let models: BTreeMap<_, _> = models
        .iter()
        .map(|(k, v)| (k.clone(), v.to_json("banned_channels", "channels")))
        .collect();
    let channels: BTreeMap<_, _> = channels
        .iter()
        .map(|(k, v)| (*k, v.to_json("banned_models", "models")))
        .collect();
    Ok(ok(json!({
        "models": models,
        "channels": channels,
        "channel_models": channel_models,
    })))
}

/// Group rates keyed by what `key` extracts from a group key (`None`: skipped).
fn group_rates<K: Ord>(
    app: &AppState,
    key: impl Fn(&str, &str, &str) -> Option<K>,
) -> BTreeMap<K, Rate> {
    let mut out: BTreeMap<K, Rate> = BTreeMap::new();
    for (k, rate) in app.sink.rates().snapshot(now_ms()) {
        if let RateKey::Group(group, token, model) = &k
            && let Some(key) = key(group, token, model)
        {
            out.entry(key).or_default().add(rate);
        }
    }
    out
}

async fn group_summary(State(app): State<AppState>, q: AdminQuery) -> AdminResult<Value> {
    let wanted: BTreeSet<String> = q
        .text("groups")
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|g| !g.is_empty())
        .map(str::to_owned)
        .collect();
    let found = group_rates(&app, |g, _, _| wanted.contains(g).then(|| g.to_owned()));
    let groups: BTreeMap<String, Rate> = wanted
        .into_iter()
        .map(|g| {
            let rate = found.get(&g).copied().unwrap_or_default();
            (g, rate)
        })
        .collect();
    Ok(ok(json!({ "groups": groups })))
}

async fn group_tokens(
    State(app): State<AppState>,
    Path(group): Path<String>,
) -> AdminResult<Value> {
    let tokens = group_rates(&app, |g, t, _| (g == group).then(|| t.to_owned()));
    Ok(ok(json!({ "tokens": tokens })))
}

async fn group_models(
    State(app): State<AppState>,
    Path(group): Path<String>,
) -> AdminResult<Value> {
    let models = group_rates(&app, |g, _, m| (g == group).then(|| m.to_owned()));
    Ok(ok(json!({ "models": models })))
}

async fn group_token_models(
    State(app): State<AppState>,
    Path(group): Path<String>,
) -> AdminResult<Value> {
    let rates = group_rates(&app, |g, t, m| {
        (g == group).then(|| (t.to_owned(), m.to_owned()))
    });
    let items: Vec<Value> = rates
        .into_iter()
        .map(|((token, model), rate)| {
            let mut v = serde_json::to_value(rate).unwrap_or_default();
            v["group"] = json!(group);
            v["token_name"] = json!(token);
            v["model"] = json!(model);
            v
        })
        .collect();
    Ok(ok(json!({ "items": items })))
}

/// `POST /api/monitor/batch_group_token_metrics` body.
#[derive(Debug, Deserialize)]
struct BatchBody {
    #[serde(default)]
    items: Vec<BatchItem>,
}

#[derive(Debug, Deserialize)]
struct BatchItem {
    #[serde(default)]
    group: String,
    #[serde(default)]
    token_name: String,
}

async fn batch_group_tokens(
    State(app): State<AppState>,
    AdminJson(body): AdminJson<BatchBody>,
) -> AdminResult<Value> {
    let rates = group_rates(&app, |g, t, _| Some((g.to_owned(), t.to_owned())));
    let items: Vec<Value> = body
        .items
        .into_iter()
        .filter(|i| !i.group.is_empty() && !i.token_name.is_empty())
        .map(|i| {
            let rate = rates
                .get(&(i.group.clone(), i.token_name.clone()))
                .copied()
                .unwrap_or_default();
            let mut v = serde_json::to_value(rate).unwrap_or_default();
            v["group"] = json!(i.group);
            v["token_name"] = json!(i.token_name);
            v
        })
        .collect();
    Ok(ok(json!({ "items": items })))
}
