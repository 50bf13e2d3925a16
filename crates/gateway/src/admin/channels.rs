//! `/api/channels/*` and `/api/channel/*`.

use std::collections::BTreeMap;

use axum::Router;
use axum::extract::{Path, State};
use axum::routing::{get, post};
use serde_json::{Value, json};

use super::extract::{AdminJson, AdminQuery, IdList, StatusBody, parse_id};
use super::{AdminError, AdminResult, ok};
use crate::model::channel::{Channel, ChannelWrite};
use crate::model::check_status;
use crate::providers::CHANNEL_TYPES;
use crate::state::AppState;
use crate::store::channels::ChannelFilter;
use crate::store::now_ms;

/// Channel routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/channels", get(list).post(create_many))
        .route("/channels/all", get(all))
        .route("/channels/search", get(search))
        .route("/channels/type_metas", get(type_metas))
        .route("/channels/batch_delete", post(batch_delete))
        .route("/channels/batch_status", post(batch_status))
        .route("/channel", post(create))
        .route("/channel/{id}", get(get_one).put(update).delete(delete))
        .route("/channel/{id}/status", post(set_status))
}

fn filter(q: &AdminQuery, keyword: Option<String>) -> Result<ChannelFilter, AdminError> {
    Ok(ChannelFilter {
        keyword,
        id: q.id_filter("id")?,
        name: q.text("name"),
        key: q.text("key"),
        channel_type: q.id_filter("channel_type")?,
        base_url: q.text("base_url"),
        order: q.text("order"),
    })
}

async fn list(State(app): State<AppState>, q: AdminQuery) -> AdminResult<Value> {
    let (channels, total) = app
        .store
        .page_channels(&filter(&q, None)?, q.page()?)
        .await?;
    Ok(ok(json!({ "channels": channels, "total": total })))
}

async fn search(State(app): State<AppState>, q: AdminQuery) -> AdminResult<Value> {
    let (channels, total) = app
        .store
        .page_channels(&filter(&q, q.text("keyword"))?, q.page()?)
        .await?;
    Ok(ok(json!({ "channels": channels, "total": total })))
}

async fn all(State(app): State<AppState>) -> AdminResult<Vec<Channel>> {
    Ok(ok(app.store.all_channels().await?))
}

async fn type_metas() -> AdminResult<BTreeMap<String, Value>> {
    let metas = CHANNEL_TYPES
        .iter()
        .map(|t| {
            (
                t.id.to_string(),
                serde_json::to_value(t).unwrap_or(Value::Null),
            )
        })
        .collect();
    Ok(ok(metas))
}

/// Validate a create request and expand it into one channel per key line.
fn expand(write: &ChannelWrite, now: i64) -> Result<Vec<Channel>, AdminError> {
    write.validate(true)?;
    let keys = write.split_keys();
    if let Some(channel_type) = write.channel_type {
        for key in &keys {
            crate::providers::check_key(channel_type, key)
                .map_err(|e| AdminError::BadRequest(format!("`key`: {e}")))?;
        }
    }
    Ok(keys
        .into_iter()
        .map(|key| Channel::from_create(write, key, now))
        .collect())
}

async fn create(
    State(app): State<AppState>,
    AdminJson(write): AdminJson<ChannelWrite>,
) -> AdminResult<Value> {
    let channels = expand(&write, now_ms())?;
    let ids = app.store.insert_channels(&channels).await?;
    app.config_changed().await?;
    Ok(ok(
        json!({ "id": ids.first().copied().unwrap_or_default(), "ids": ids }),
    ))
}

async fn create_many(
    State(app): State<AppState>,
    AdminJson(writes): AdminJson<Vec<ChannelWrite>>,
) -> AdminResult<Value> {
    let now = now_ms();
    let mut channels = Vec::new();
    for (i, write) in writes.iter().enumerate() {
        channels.extend(
            expand(write, now)
                .map_err(|e| AdminError::BadRequest(format!("channel [{i}]: {e}")))?,
        );
    }
    let ids = app.store.insert_channels(&channels).await?;
    app.config_changed().await?;
    Ok(ok(json!({ "ids": ids })))
}

async fn get_one(State(app): State<AppState>, Path(id): Path<String>) -> AdminResult<Channel> {
    let id = parse_id(&id)?;
    Ok(ok(app.store.get_channel(id).await?))
}

async fn update(
    State(app): State<AppState>,
    Path(id): Path<String>,
    AdminJson(write): AdminJson<ChannelWrite>,
) -> AdminResult<Channel> {
    let id = parse_id(&id)?;
    write.validate(false)?;
    if write
        .key
        .as_deref()
        .is_some_and(|k| k.trim().contains('\n'))
    {
        return Err(AdminError::BadRequest(
            "`key` must be a single line when updating a channel".into(),
        ));
    }
    let mut channel = app.store.get_channel(id).await?;
    write.apply_to(&mut channel);
    crate::providers::check_key(channel.channel_type, &channel.key)
        .map_err(|e| AdminError::BadRequest(format!("`key`: {e}")))?;
    channel.updated_at = now_ms();
    app.store.update_channel(&channel).await?;
    app.monitor.clear_channel(id);
    app.config_changed().await?;
    Ok(ok(channel))
}

async fn delete(State(app): State<AppState>, Path(id): Path<String>) -> AdminResult<Value> {
    let id = parse_id(&id)?;
    if app.store.delete_channels(&[id]).await? == 0 {
        return Err(AdminError::NotFound(format!(
            "channel {id}: record not found"
        )));
    }
    app.monitor.clear_channel(id);
    app.config_changed().await?;
    Ok(ok(Value::Null))
}

async fn batch_delete(
    State(app): State<AppState>,
    AdminJson(ids): AdminJson<IdList<i64>>,
) -> AdminResult<Value> {
    let ids = ids.into_vec();
    let deleted = app.store.delete_channels(&ids).await?;
    for id in &ids {
        app.monitor.clear_channel(*id);
    }
    app.config_changed().await?;
    Ok(ok(json!({ "deleted": deleted })))
}

async fn set_status(
    State(app): State<AppState>,
    Path(id): Path<String>,
    AdminJson(body): AdminJson<StatusBody>,
) -> AdminResult<Value> {
    let id = parse_id(&id)?;
    check_status("status", body.status)?;
    app.store
        .set_channel_status(id, body.status, now_ms())
        .await?;
    app.monitor.clear_channel(id);
    app.config_changed().await?;
    Ok(ok(Value::Null))
}

#[derive(serde::Deserialize)]
struct BatchStatus {
    ids: Vec<i64>,
    status: i64,
}

async fn batch_status(
    State(app): State<AppState>,
    AdminJson(body): AdminJson<BatchStatus>,
) -> AdminResult<Value> {
    check_status("status", body.status)?;
    for id in &body.ids {
        app.store.get_channel(*id).await?;
    }
    let now = now_ms();
    for id in &body.ids {
        app.store.set_channel_status(*id, body.status, now).await?;
        app.monitor.clear_channel(*id);
    }
    app.config_changed().await?;
    Ok(ok(Value::Null))
}
