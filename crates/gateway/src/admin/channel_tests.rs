//! Channel tests and balances under `/api/channel(s)/…`: test one model,
//! every model of a channel, every enabled channel (optionally streamed as
//! SSE, one event per result), an unsaved channel ("test-preview"), the
//! stored results, and provider balance refreshes.
//!
//! Unlike AI Proxy, a failed test is reported as failed: the envelope's
//! `success` is false (HTTP 200, `data` still holds the result) so a client
//! that reads only `success` — FastGPT's model test — sees the failure.

use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use futures_util::{Stream, StreamExt};
use serde_json::{Value, json};

use super::extract::{AdminJson, AdminQuery, parse_id};
use super::{AdminError, AdminResult, ok};
use crate::channel_test::{self, CONCURRENCY, TestKind};
use crate::model::channel::{Channel, ChannelWrite};
use crate::model::channel_test::ChannelTestResult;
use crate::providers::balance::BalanceError;
use crate::snapshot::build::channel_entry;
use crate::snapshot::{ChannelEntry, Snapshot};
use crate::state::AppState;
use crate::store::now_ms;

/// Channel test and balance routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/channel/{id}/test", get(test_channel))
        .route("/channel/{id}/test/{*model}", get(test_one))
        .route("/channel/{id}/tests", get(stored))
        .route("/channels/test", get(test_all_channels))
        .route("/channel/test-preview", post(test_preview))
        .route("/channel/test-preview-all", post(test_preview_all))
        .route("/channel/{id}/update_balance", get(update_balance))
        .route("/channels/update_balance", get(update_all_balances))
}

/// One pending test: channel, model, request kind.
type Pair = (Arc<ChannelEntry>, String, TestKind);

/// An unsaved channel and the models to test on it.
type Preview = (Arc<ChannelEntry>, Vec<(String, TestKind)>);

/// `return_success`, `success_body`, `stream`.
struct ListOptions {
    return_success: bool,
    success_body: bool,
    stream: bool,
}

impl ListOptions {
    fn from(q: &AdminQuery) -> Result<Self, AdminError> {
        Ok(Self {
            return_success: q.flag("return_success")?,
            success_body: q.flag("success_body")?,
            stream: q.flag("stream")?,
        })
    }

    /// The result as listed, or `None` when it is left out.
    fn shown(&self, mut result: ChannelTestResult) -> Option<ChannelTestResult> {
        if result.success {
            if !self.return_success {
                return None;
            }
            if !self.success_body {
                result.response.clear();
            }
        }
        Some(result)
    }
}

/// The entry of a saved channel (any status), built from the database row.
async fn saved_entry(
    app: &AppState,
    id: i64,
) -> Result<(Arc<Snapshot>, Arc<ChannelEntry>), AdminError> {
    let channel = app.store.get_channel(id).await?;
    let snapshot = app.snapshot.get();
    let entry = entry_of(&snapshot, channel)?;
    Ok((snapshot, entry))
}

fn entry_of(snapshot: &Snapshot, channel: Channel) -> Result<Arc<ChannelEntry>, AdminError> {
    let channel_type = channel.channel_type;
    channel_entry(
        channel,
        &snapshot.options,
        &snapshot.model_configs,
        snapshot.disable_model_config,
    )
    .map(Arc::new)
    .ok_or_else(|| AdminError::BadRequest(format!("channel type {channel_type} is not supported")))
}

fn single_answer(result: ChannelTestResult) -> Response {
    let body = if result.success {
        json!({"success": true, "message": "", "data": result})
    } else {
        let message = format!(
            "test of `{}` on channel {} failed: {}",
            result.model,
            result.channel_id,
            result.error.as_deref().unwrap_or("failed")
        );
        json!({"success": false, "message": message, "data": result})
    };
    Json(body).into_response()
}

/// Run `pairs`, [`CONCURRENCY`] at a time.
fn run_pairs(
    app: AppState,
    pairs: Vec<Pair>,
    store: bool,
) -> impl Stream<Item = ChannelTestResult> + Send + 'static {
    futures_util::stream::iter(pairs)
        .map(move |(entry, model, kind)| {
            let app = app.clone();
            async move {
                if store {
                    channel_test::test_and_store(&app, &entry, &model, kind).await
                } else {
                    channel_test::run_test(&app, &entry, &model, kind).await
                }
            }
        })
        .buffer_unordered(CONCURRENCY)
}

/// Answer a list of tests: an SSE stream of results, or one envelope whose
/// `success` says whether every test passed.
async fn list_answer(
    app: AppState,
    pairs: Vec<Pair>,
    store: bool,
    options: ListOptions,
) -> Response {
    let results = run_pairs(app, pairs, store);
    if options.stream {
        let events = results
            .filter_map(move |r| std::future::ready(options.shown(r)))
            .map(|r| Ok::<_, std::convert::Infallible>(format!("data: {}\n\n", json!(r))))
            .chain(futures_util::stream::once(async {
                Ok("data: [DONE]\n\n".to_owned())
            }));
        let mut response = Response::new(Body::from_stream(events));
        let headers = response.headers_mut();
        headers.insert(
            http::header::CONTENT_TYPE,
            http::HeaderValue::from_static("text/event-stream"),
        );
        headers.insert(
            http::header::CACHE_CONTROL,
            http::HeaderValue::from_static("no-cache"),
        );
        return response;
    }
    let all: Vec<ChannelTestResult> = results.collect().await;
    let failed = all.iter().filter(|r| !r.success).count();
    let total = all.len();
    let shown: Vec<ChannelTestResult> = all.into_iter().filter_map(|r| options.shown(r)).collect();
    if failed == 0 {
        let mut response =
            Json(json!({"success": true, "message": "", "data": shown})).into_response();
        response.extensions_mut().insert(AllPassed);
        response
    } else {
        let message = format!("{failed} of {total} tests failed");
        Json(json!({"success": false, "message": message, "data": shown})).into_response()
    }
}

fn pairs_of(snapshot: &Snapshot, entry: &Arc<ChannelEntry>) -> Vec<Pair> {
    channel_test::testable_models(snapshot, entry)
        .into_iter()
        .map(|(model, kind)| (entry.clone(), model, kind))
        .collect()
}

async fn test_channel(
    State(app): State<AppState>,
    Path(id): Path<String>,
    q: AdminQuery,
) -> Result<Response, AdminError> {
    let id = parse_id(&id)?;
    let options = ListOptions::from(&q)?;
    let (snapshot, entry) = saved_entry(&app, id).await?;
    let pairs = pairs_of(&snapshot, &entry);
    if pairs.is_empty() {
        return Err(AdminError::BadRequest(format!(
            "channel {id} has no testable models"
        )));
    }
    let clean = !options.stream;
    let response = list_answer(app.clone(), pairs, true, options).await;
    if clean && response_succeeded(&response) {
        app.store.set_last_test_error(id, 0).await?;
    }
    Ok(response)
}

/// Whether a non-stream list answer reported every test passed.
fn response_succeeded(response: &Response) -> bool {
    response.status().is_success() && response.extensions().get::<AllPassed>().is_some()
}

/// Marker: every test of a list answer passed.
#[derive(Clone, Copy)]
struct AllPassed;

async fn test_one(
    State(app): State<AppState>,
    Path((id, model)): Path<(String, String)>,
) -> Result<Response, AdminError> {
    let id = parse_id(&id)?;
    let (snapshot, entry) = saved_entry(&app, id).await?;
    let model = model.trim_start_matches('/');
    let listed = entry
        .channel
        .models
        .iter()
        .chain(entry.models.iter())
        .find(|m| m.eq_ignore_ascii_case(model))
        .cloned()
        .ok_or_else(|| {
            AdminError::BadRequest(format!("channel {id} does not list model `{model}`"))
        })?;
    let kind = channel_test::test_kind(&snapshot, &listed).ok_or_else(|| {
        AdminError::BadRequest(format!("model `{listed}` has a type that cannot be tested"))
    })?;
    let result = channel_test::test_and_store(&app, &entry, &listed, kind).await;
    Ok(single_answer(result))
}

async fn stored(
    State(app): State<AppState>,
    Path(id): Path<String>,
) -> AdminResult<Vec<ChannelTestResult>> {
    let id = parse_id(&id)?;
    app.store.get_channel(id).await?;
    Ok(ok(app.store.channel_tests(id).await?))
}

async fn test_all_channels(
    State(app): State<AppState>,
    q: AdminQuery,
) -> Result<Response, AdminError> {
    let options = ListOptions::from(&q)?;
    let snapshot = app.snapshot.get();
    let mut channels: Vec<&Arc<ChannelEntry>> = snapshot
        .channels
        .values()
        .filter(|c| c.channel.is_enabled())
        .collect();
    channels.sort_by_key(|c| c.channel.id);
    let pairs: Vec<Pair> = channels
        .into_iter()
        .flat_map(|c| pairs_of(&snapshot, c))
        .collect();
    Ok(list_answer(app.clone(), pairs, true, options).await)
}

/// An unsaved channel and the model(s) to test on it.
fn preview(
    snapshot: &Snapshot,
    body: Value,
    q: &AdminQuery,
    all: bool,
) -> Result<Preview, AdminError> {
    let model = q
        .text("model")
        .or_else(|| body.get("model").and_then(Value::as_str).map(str::to_owned))
        .filter(|m| !m.trim().is_empty());
    let mut write: ChannelWrite = serde_json::from_value(body)
        .map_err(|e| AdminError::BadRequest(format!("invalid request body: {e}")))?;
    if write.name.as_deref().is_none_or(|n| n.trim().is_empty()) {
        write.name = Some("preview".to_owned());
    }
    write.validate(true)?;
    let key = write.split_keys().into_iter().next().unwrap_or_default();
    let entry = entry_of(snapshot, Channel::from_create(&write, key, now_ms()))?;
    let models = match model {
        Some(model) if !all => {
            let kind = channel_test::test_kind(snapshot, &model).ok_or_else(|| {
                AdminError::BadRequest(format!("model `{model}` has a type that cannot be tested"))
            })?;
            vec![(model, kind)]
        }
        _ => channel_test::testable_models(snapshot, &entry),
    };
    if models.is_empty() {
        return Err(AdminError::BadRequest(
            "name a `model` or list `models` to test".into(),
        ));
    }
    Ok((entry, models))
}

async fn test_preview(
    State(app): State<AppState>,
    q: AdminQuery,
    AdminJson(body): AdminJson<Value>,
) -> Result<Response, AdminError> {
    preview_answer(app, q, body, false).await
}

async fn test_preview_all(
    State(app): State<AppState>,
    q: AdminQuery,
    AdminJson(body): AdminJson<Value>,
) -> Result<Response, AdminError> {
    preview_answer(app, q, body, true).await
}

async fn preview_answer(
    app: AppState,
    q: AdminQuery,
    body: Value,
    all: bool,
) -> Result<Response, AdminError> {
    let single = !all
        && (q.text("model").is_some()
            || body
                .get("model")
                .and_then(Value::as_str)
                .is_some_and(|m| !m.trim().is_empty()));
    let snapshot = app.snapshot.get();
    let (entry, models) = preview(&snapshot, body, &q, all)?;
    if single && let Some((model, kind)) = models.first() {
        let result = channel_test::run_test(&app, &entry, model, *kind).await;
        return Ok(single_answer(result));
    }
    let mut options = ListOptions::from(&q)?;
    if !q.0.contains_key("return_success") {
        options.return_success = true;
    }
    let pairs = models
        .into_iter()
        .map(|(m, k)| (entry.clone(), m, k))
        .collect();
    Ok(list_answer(app, pairs, false, options).await)
}

fn balance_error(e: BalanceError) -> AdminError {
    match e {
        BalanceError::Unsupported(_) => AdminError::BadRequest(e.to_string()),
        other => AdminError::BadGateway(other.to_string()),
    }
}

async fn update_balance(State(app): State<AppState>, Path(id): Path<String>) -> AdminResult<f64> {
    let id = parse_id(&id)?;
    let channel = app.store.get_channel(id).await?;
    let balance = crate::channel_balance::update(&app, &channel)
        .await
        .map_err(balance_error)?;
    Ok(ok(balance))
}

async fn update_all_balances(State(app): State<AppState>) -> AdminResult<Vec<Value>> {
    let channels = app
        .store
        .all_channels()
        .await?
        .into_iter()
        .filter(Channel::is_enabled)
        .collect();
    let mut results: Vec<Value> = crate::channel_balance::update_all(&app, channels)
        .await
        .into_iter()
        .map(|(c, r)| match r {
            Ok(balance) => {
                json!({"id": c.id, "name": c.name, "type": c.channel_type, "balance": balance})
            }
            Err(e) => {
                json!({"id": c.id, "name": c.name, "type": c.channel_type, "error": e.to_string()})
            }
        })
        .collect();
    results.sort_by_key(|v| v["id"].as_i64());
    Ok(ok(results))
}
