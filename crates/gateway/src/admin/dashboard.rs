//! Dashboards over the summary tables: `GET /api/dashboard/[{group}]`
//! (chart with gaps filled, totals, live and peak RPM/TPM, the channels,
//! models and token names seen), `GET /api/dashboardv2/[{group}]` (the
//! per-channel-and-model time series FastGPT's model dashboard reads, as a
//! bare array), `GET /api/dashboard/{group}/models` (what a group may call)
//! and `GET /api/groups/ranking` (group consumption ranking).
//!
//! Query: `start_timestamp`/`end_timestamp` (s or ms; default the last 7
//! days), `timespan` minute/hour/day/month, `timezone` (IANA name; day and
//! month buckets start at local midnight), `channel`, `model`, `token_name`.

use std::collections::BTreeMap;

use axum::Router;
use axum::extract::{Path, State};
use axum::routing::get;
use jiff::tz::TimeZone;
use serde::Serialize;
use serde_json::{Value, json};

use super::extract::AdminQuery;
use super::{AdminError, AdminResult, ok};
use crate::model::model_config::EffectiveModelSettings;
use crate::state::AppState;
use crate::stats::rates::{Rate, RateKey};
use crate::stats::summary::SummaryData;
use crate::stats::timespan::{self, TimeSpan, bucket, buckets_between};
use crate::store::now_ms;
use crate::store::summaries::{SummaryColumn, SummaryQuery, SummaryRow, SummaryScope};

/// Default dashboard range.
const DEFAULT_RANGE_S: i64 = 7 * 24 * 3600;

/// Dashboard routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/dashboard", get(global))
        .route("/dashboard/{group}", get(group))
        .route("/dashboard/{group}/models", get(group_models))
        .route("/dashboardv2", get(global_v2))
        .route("/dashboardv2/{group}", get(group_v2))
        .route("/groups/ranking", get(ranking))
        .route("/groups/consumption_ranking", get(ranking))
}

/// Range, span and zone of a dashboard request.
struct Window {
    start: i64,
    end: i64,
    span: TimeSpan,
    tz: TimeZone,
}

fn window(q: &AdminQuery) -> Result<Window, AdminError> {
    let end = q
        .timestamp_ms("end_timestamp")?
        .map_or_else(|| now_ms() / 1000, |ms| ms.div_euclid(1000));
    let start = q
        .timestamp_ms("start_timestamp")?
        .map_or(end - DEFAULT_RANGE_S, |ms| ms.div_euclid(1000));
    if start > end {
        return Err(AdminError::BadRequest(
            "`start_timestamp` must not be after `end_timestamp`".into(),
        ));
    }
    let bad = |e: timespan::TimeSpanError| AdminError::BadRequest(e.to_string());
    Ok(Window {
        start,
        end,
        span: TimeSpan::parse(q.text("timespan").as_deref(), TimeSpan::Hour).map_err(bad)?,
        tz: timespan::zone(q.text("timezone").as_deref()).map_err(bad)?,
    })
}

fn query(w: &Window, scope: SummaryScope, model: Option<String>) -> SummaryQuery {
    let minutes = w.span == TimeSpan::Minute;
    let width = if minutes { 60 } else { 3600 };
    SummaryQuery {
        scope,
        model,
        start: w.start - w.start.rem_euclid(width),
        end: w.end,
        minutes,
    }
}

fn channel_scope(q: &AdminQuery) -> Result<SummaryScope, AdminError> {
    Ok(SummaryScope::Channels {
        channel: q.id_filter("channel")?,
    })
}

fn group_scope(group: String, q: &AdminQuery) -> SummaryScope {
    SummaryScope::Group {
        group,
        token_name: q.text("token_name"),
    }
}

/// The live rate of the keys a dashboard covers.
fn live_rate(app: &AppState, q: &SummaryQuery) -> Rate {
    let model_ok = |m: &str| q.model.as_deref().is_none_or(|f| f == m);
    app.sink.rates().sum(now_ms(), |k| match (k, &q.scope) {
        (RateKey::Channel(c, m), SummaryScope::Channels { channel }) => {
            channel.is_none_or(|f| f == *c) && model_ok(m)
        }
        (RateKey::Group(g, t, m), SummaryScope::Group { group, token_name }) => {
            g == group && token_name.as_deref().is_none_or(|f| f == t) && model_ok(m)
        }
        _ => false,
    })
}

/// One chart point: a bucket start and its counters.
#[derive(Debug, Serialize)]
struct ChartPoint {
    timestamp: i64,
    #[serde(flatten)]
    data: SummaryData,
}

async fn dashboard(app: &AppState, w: &Window, q: SummaryQuery) -> AdminResult<Value> {
    let rows = app.store.summary_rows(&q, false).await?;
    let mut buckets: BTreeMap<i64, SummaryData> = BTreeMap::new();
    for r in &rows {
        buckets
            .entry(bucket(r.timestamp, w.span, &w.tz))
            .or_default()
            .add(&r.data);
    }
    let mut totals = SummaryData::default();
    for d in buckets.values() {
        totals.add(d);
    }
    if let Some(all) = buckets_between(w.start, w.end, w.span, &w.tz) {
        for ts in all {
            buckets.entry(ts).or_default();
        }
    }
    let chart: Vec<ChartPoint> = buckets
        .into_iter()
        .map(|(timestamp, data)| ChartPoint { timestamp, data })
        .collect();
    let (max_rpm, max_tpm) = app.store.summary_peak(&q).await?;
    let live = live_rate(app, &q);
    let models = app.store.summary_values(&q, SummaryColumn::Model).await?;
    let mut out = json!({
        "chart_data": chart,
        "rpm": live.rpm,
        "tpm": live.tpm,
        "max_rpm": max_rpm,
        "max_tpm": max_tpm,
        "total_count": totals.request_count(),
        "models": models,
    });
    for (k, v) in serde_json::to_value(totals)
        .unwrap_or_default()
        .as_object()
        .into_iter()
        .flatten()
    {
        out[k] = v.clone();
    }
    match &q.scope {
        SummaryScope::Channels { .. } => {
            let channels = app.store.summary_values(&q, SummaryColumn::Channel).await?;
            out["channels"] = json!(
                channels
                    .iter()
                    .filter_map(|c| c.parse::<i64>().ok())
                    .collect::<Vec<_>>()
            );
        }
        SummaryScope::Group { .. } => {
            out["token_names"] = json!(
                app.store
                    .summary_values(&q, SummaryColumn::TokenName)
                    .await?
            );
        }
    }
    Ok(ok(out))
}

async fn global(State(app): State<AppState>, q: AdminQuery) -> AdminResult<Value> {
    let w = window(&q)?;
    let sq = query(&w, channel_scope(&q)?, q.text("model"));
    dashboard(&app, &w, sq).await
}

async fn group(
    State(app): State<AppState>,
    Path(group): Path<String>,
    q: AdminQuery,
) -> AdminResult<Value> {
    let w = window(&q)?;
    let sq = query(&w, group_scope(group, &q), q.text("model"));
    dashboard(&app, &w, sq).await
}

/// One series entry of dashboard v2.
#[derive(Debug, Clone, Serialize)]
struct SeriesItem {
    #[serde(skip_serializing_if = "Option::is_none")]
    channel_id: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    group_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    token_name: Option<String>,
    model: String,
    #[serde(flatten)]
    data: SummaryData,
    max_rpm: i64,
    max_tpm: i64,
}

/// One point of dashboard v2.
#[derive(Debug, Serialize)]
struct SeriesPoint {
    timestamp: i64,
    summary: Vec<SeriesItem>,
}

/// Peak per-minute (requests, tokens) by (hour, channel, token name, model).
type Peaks = BTreeMap<(i64, i64, String, String), (i64, i64)>;

async fn peaks(app: &AppState, q: &SummaryQuery) -> Result<Peaks, AdminError> {
    if q.minutes {
        return Ok(Peaks::new());
    }
    Ok(app
        .store
        .summary_hour_peaks(q)
        .await?
        .into_iter()
        .map(|p| {
            (
                (p.hour, p.channel_id, p.token_name, p.model),
                (p.max_rpm, p.max_tpm),
            )
        })
        .collect())
}

fn item(row: &SummaryRow, scope: &SummaryScope) -> SeriesItem {
    let (channel_id, group_id, token_name) = match scope {
        SummaryScope::Channels { .. } => (Some(row.channel_id), None, None),
        SummaryScope::Group { group, .. } => {
            (None, Some(group.clone()), Some(row.token_name.clone()))
        }
    };
    SeriesItem {
        channel_id,
        group_id,
        token_name,
        model: row.model.clone(),
        data: SummaryData::default(),
        max_rpm: 0,
        max_tpm: 0,
    }
}

async fn series(
    app: &AppState,
    w: &Window,
    q: SummaryQuery,
) -> Result<Vec<SeriesPoint>, AdminError> {
    let rows = app.store.summary_rows(&q, true).await?;
    let peaks = peaks(app, &q).await?;
    let mut merged: BTreeMap<(i64, i64, String, String), SeriesItem> = BTreeMap::new();
    for r in &rows {
        let (max_rpm, max_tpm) = if q.minutes {
            (r.data.request_count(), r.data.total_tokens())
        } else {
            peaks
                .get(&(
                    r.timestamp,
                    r.channel_id,
                    r.token_name.clone(),
                    r.model.clone(),
                ))
                .copied()
                .unwrap_or_default()
        };
        let ts = bucket(r.timestamp, w.span, &w.tz);
        let entry = merged
            .entry((ts, r.channel_id, r.token_name.clone(), r.model.clone()))
            .or_insert_with(|| item(r, &q.scope));
        entry.data.add(&r.data);
        entry.max_rpm = entry.max_rpm.max(max_rpm);
        entry.max_tpm = entry.max_tpm.max(max_tpm);
    }
    let mut points: BTreeMap<i64, Vec<SeriesItem>> = BTreeMap::new();
    for ((ts, ..), item) in merged {
        points.entry(ts).or_default().push(item);
    }
    Ok(points
        .into_iter()
        .map(|(timestamp, mut summary)| {
            summary.sort_by(|a, b| {
                b.data
                    .used_amount
                    .total_cmp(&a.data.used_amount)
                    .then(b.data.total_tokens().cmp(&a.data.total_tokens()))
                    .then(b.data.request_count().cmp(&a.data.request_count()))
                    .then(a.model.cmp(&b.model))
            });
            SeriesPoint { timestamp, summary }
        })
        .collect())
}

async fn global_v2(State(app): State<AppState>, q: AdminQuery) -> AdminResult<Vec<SeriesPoint>> {
    let w = window(&q)?;
    let sq = query(&w, channel_scope(&q)?, q.text("model"));
    Ok(ok(series(&app, &w, sq).await?))
}

async fn group_v2(
    State(app): State<AppState>,
    Path(group): Path<String>,
    q: AdminQuery,
) -> AdminResult<Vec<SeriesPoint>> {
    let w = window(&q)?;
    let sq = query(&w, group_scope(group, &q), q.text("model"));
    Ok(ok(series(&app, &w, sq).await?))
}

/// Models `group` may call, with the limits and price that apply to it.
async fn group_models(
    State(app): State<AppState>,
    Path(group): Path<String>,
) -> AdminResult<Value> {
    let snapshot = app.snapshot.get();
    let default_sets = vec!["default".to_owned()];
    let sets = snapshot
        .groups
        .get(&group)
        .map_or(&default_sets, |g| &g.sets);
    let mut out = Vec::new();
    for model in snapshot.visible_models(Some(sets), &[]) {
        let Some(config) = snapshot.model_config(&model) else {
            continue;
        };
        let over = snapshot
            .group_model_config(&group, &model)
            .map(AsRef::as_ref);
        let effective = EffectiveModelSettings::resolve(&config, over);
        let (rpm, tpm) = match over {
            Some(o) if o.override_limit => (o.rpm, o.tpm),
            _ => (config.rpm, config.tpm),
        };
        let price = match over {
            Some(o) if o.override_price => o.price.clone(),
            _ => config.price.clone(),
        };
        let plugins: Vec<&String> = config
            .plugin
            .iter()
            .filter(|(_, v)| v.get("enable").and_then(Value::as_bool) == Some(true))
            .map(|(k, _)| k)
            .collect();
        out.push(json!({
            "model": model,
            "owner": config.owner,
            "type": config.model_type,
            "rpm": rpm,
            "tpm": tpm,
            "price": price,
            "config": config.config,
            "retry_times": effective.retry_times,
            "enabled_plugins": plugins,
            "created_at": config.created_at,
            "updated_at": config.updated_at,
        }));
    }
    Ok(ok(Value::Array(out)))
}

async fn ranking(State(app): State<AppState>, q: AdminQuery) -> AdminResult<Value> {
    let w = window(&q)?;
    let start = w.start - w.start.rem_euclid(3600);
    let (ranking, total) = app.store.group_ranking(start, w.end, q.page()?).await?;
    Ok(ok(json!({ "ranking": ranking, "total": total })))
}
