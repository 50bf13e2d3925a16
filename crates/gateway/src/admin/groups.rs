//! `/api/groups/*` and `/api/group/*`: tenants and their model-config overrides.

use std::collections::HashMap;

use axum::Router;
use axum::extract::{FromRequest, Path, Request, State};
use axum::routing::{get, post};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use super::extract::{AdminJson, AdminQuery, IdList, StatusBody, parse_json};
use super::model_configs::check_body_model;
use super::{AdminError, AdminResult, ok};
use crate::model::group::{Group, GroupWrite, check_group_id};
use crate::model::model_config::{GroupModelConfig, GroupModelConfigWrite};
use crate::state::AppState;
use crate::store::{StoreError, now_ms};

/// Group routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/groups", get(list))
        .route("/groups/search", get(list))
        .route("/groups/batch_delete", post(batch_delete))
        .route("/groups/batch_status", post(batch_status))
        .route(
            "/group/{group}",
            get(get_one).post(create).put(update).delete(delete),
        )
        .route("/group/{group}/status", post(set_status))
        .route("/group/{group}/rpm_ratio", post(set_rpm_ratio))
        .route("/group/{group}/tpm_ratio", post(set_tpm_ratio))
        .route(
            "/group/{group}/model_configs",
            get(list_overrides)
                .post(save_overrides)
                .put(save_overrides)
                .delete(delete_overrides),
        )
        .route(
            "/group/{group}/model_config/{*model}",
            get(get_override)
                .post(upsert_override)
                .put(upsert_override)
                .delete(delete_override),
        )
}

/// A JSON body that may be absent (an empty body is the type's default).
#[derive(Debug)]
struct OptionalJson<T>(T);

impl<S: Send + Sync, T: DeserializeOwned + Default> FromRequest<S> for OptionalJson<T> {
    type Rejection = AdminError;

    async fn from_request(request: Request, _state: &S) -> Result<Self, AdminError> {
        let bytes = axum::body::to_bytes(request.into_body(), 1024 * 1024)
            .await
            .map_err(|e| AdminError::BadRequest(format!("cannot read request body: {e}")))?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(Self(T::default()));
        }
        parse_json(&bytes).map(OptionalJson)
    }
}

async fn list(State(app): State<AppState>, q: AdminQuery) -> AdminResult<Value> {
    let keyword = q.text("keyword");
    let order = q.text("order");
    let (groups, total) = app
        .store
        .page_groups(
            keyword.as_deref(),
            q.id_filter("status")?,
            order.as_deref(),
            q.page()?,
        )
        .await?;
    Ok(ok(json!({ "groups": groups, "total": total })))
}

async fn get_one(State(app): State<AppState>, Path(id): Path<String>) -> AdminResult<Group> {
    Ok(ok(app.store.get_group(&id).await?))
}

async fn create(
    State(app): State<AppState>,
    Path(id): Path<String>,
    OptionalJson(write): OptionalJson<GroupWrite>,
) -> AdminResult<Group> {
    check_group_id(&id)?;
    write.validate()?;
    let mut group = Group::new(&id, now_ms());
    write.apply_to(&mut group);
    app.store.insert_group(&group).await?;
    app.config_changed().await?;
    Ok(ok(group))
}

/// Merge a write into a stored group and save it.
async fn patch(app: &AppState, id: &str, write: GroupWrite) -> Result<Group, AdminError> {
    write.validate()?;
    let mut group = app.store.get_group(id).await?;
    write.apply_to(&mut group);
    group.updated_at = now_ms();
    app.store.update_group(&group).await?;
    app.config_changed().await?;
    Ok(group)
}

async fn update(
    State(app): State<AppState>,
    Path(id): Path<String>,
    AdminJson(write): AdminJson<GroupWrite>,
) -> AdminResult<Group> {
    Ok(ok(patch(&app, &id, write).await?))
}

async fn delete(State(app): State<AppState>, Path(id): Path<String>) -> AdminResult<Value> {
    app.store.delete_group(&id).await?;
    app.config_changed().await?;
    Ok(ok(Value::Null))
}

async fn set_status(
    State(app): State<AppState>,
    Path(id): Path<String>,
    AdminJson(body): AdminJson<StatusBody>,
) -> AdminResult<Value> {
    patch(
        &app,
        &id,
        GroupWrite {
            status: Some(body.status),
            ..GroupWrite::default()
        },
    )
    .await?;
    Ok(ok(Value::Null))
}

#[derive(serde::Deserialize)]
struct RpmRatio {
    rpm_ratio: f64,
}

#[derive(serde::Deserialize)]
struct TpmRatio {
    tpm_ratio: f64,
}

async fn set_rpm_ratio(
    State(app): State<AppState>,
    Path(id): Path<String>,
    AdminJson(body): AdminJson<RpmRatio>,
) -> AdminResult<Value> {
    patch(
        &app,
        &id,
        GroupWrite {
            rpm_ratio: Some(body.rpm_ratio),
            ..GroupWrite::default()
        },
    )
    .await?;
    Ok(ok(Value::Null))
}

async fn set_tpm_ratio(
    State(app): State<AppState>,
    Path(id): Path<String>,
    AdminJson(body): AdminJson<TpmRatio>,
) -> AdminResult<Value> {
    patch(
        &app,
        &id,
        GroupWrite {
            tpm_ratio: Some(body.tpm_ratio),
            ..GroupWrite::default()
        },
    )
    .await?;
    Ok(ok(Value::Null))
}

async fn batch_delete(
    State(app): State<AppState>,
    AdminJson(ids): AdminJson<IdList<String>>,
) -> AdminResult<Value> {
    let mut deleted = 0;
    for id in ids.into_vec() {
        match app.store.delete_group(&id).await {
            Ok(()) => deleted += 1,
            Err(StoreError::NotFound(_)) => {}
            Err(e) => return Err(e.into()),
        }
    }
    app.config_changed().await?;
    Ok(ok(json!({ "deleted": deleted })))
}

#[derive(serde::Deserialize)]
struct BatchStatus {
    #[serde(alias = "groups")]
    ids: Vec<String>,
    status: i64,
}

async fn batch_status(
    State(app): State<AppState>,
    AdminJson(body): AdminJson<BatchStatus>,
) -> AdminResult<Value> {
    let write = GroupWrite {
        status: Some(body.status),
        ..GroupWrite::default()
    };
    write.validate()?;
    // Every group must exist before anything is written.
    let mut groups = Vec::with_capacity(body.ids.len());
    for id in &body.ids {
        groups.push(app.store.get_group(id).await?);
    }
    let now = now_ms();
    for mut group in groups {
        write.clone().apply_to(&mut group);
        group.updated_at = now;
        app.store.update_group(&group).await?;
    }
    app.config_changed().await?;
    Ok(ok(Value::Null))
}

// ---- model-config overrides ----

async fn list_overrides(
    State(app): State<AppState>,
    Path(group): Path<String>,
) -> AdminResult<Vec<GroupModelConfig>> {
    app.store.get_group(&group).await?;
    Ok(ok(app.store.group_model_configs(&group).await?))
}

async fn save_overrides(
    State(app): State<AppState>,
    Path(group): Path<String>,
    AdminJson(writes): AdminJson<Vec<GroupModelConfigWrite>>,
) -> AdminResult<Vec<GroupModelConfig>> {
    app.store.get_group(&group).await?;
    for (i, write) in writes.iter().enumerate() {
        let named = write.model.as_deref().is_some_and(|m| !m.trim().is_empty());
        if !named {
            return Err(AdminError::BadRequest(format!(
                "model config [{i}]: `model` is required"
            )));
        }
        write
            .validate()
            .map_err(|e| AdminError::BadRequest(format!("model config [{i}]: {e}")))?;
    }
    let mut existing: HashMap<String, GroupModelConfig> = app
        .store
        .group_model_configs(&group)
        .await?
        .into_iter()
        .map(|c| (c.model.clone(), c))
        .collect();
    let now = now_ms();
    let mut order: Vec<String> = Vec::new();
    for write in writes {
        let model = write.model.as_deref().unwrap_or_default().trim().to_owned();
        let config = existing
            .entry(model.clone())
            .or_insert_with(|| GroupModelConfig::empty(&group, &model, now));
        write.apply_to(config);
        config.updated_at = now;
        if !order.contains(&model) {
            order.push(model);
        }
    }
    let saved: Vec<GroupModelConfig> = order.iter().filter_map(|m| existing.remove(m)).collect();
    app.store.save_group_model_configs(&saved).await?;
    app.config_changed().await?;
    Ok(ok(saved))
}

async fn delete_overrides(
    State(app): State<AppState>,
    Path(group): Path<String>,
    AdminJson(models): AdminJson<IdList<String>>,
) -> AdminResult<Value> {
    app.store.get_group(&group).await?;
    let deleted = app
        .store
        .delete_group_model_configs(&group, &models.into_vec())
        .await?;
    app.config_changed().await?;
    Ok(ok(json!({ "deleted": deleted })))
}

async fn get_override(
    State(app): State<AppState>,
    Path((group, model)): Path<(String, String)>,
) -> AdminResult<GroupModelConfig> {
    Ok(ok(app.store.get_group_model_config(&group, &model).await?))
}

async fn upsert_override(
    State(app): State<AppState>,
    Path((group, model)): Path<(String, String)>,
    AdminJson(write): AdminJson<GroupModelConfigWrite>,
) -> AdminResult<GroupModelConfig> {
    check_body_model(write.model.as_deref(), &model)?;
    write.validate()?;
    app.store.get_group(&group).await?;
    let now = now_ms();
    let mut config = match app.store.get_group_model_config(&group, &model).await {
        Ok(c) => c,
        Err(StoreError::NotFound(_)) => GroupModelConfig::empty(&group, &model, now),
        Err(e) => return Err(e.into()),
    };
    write.apply_to(&mut config);
    config.updated_at = now;
    app.store
        .save_group_model_configs(std::slice::from_ref(&config))
        .await?;
    app.config_changed().await?;
    Ok(ok(config))
}

async fn delete_override(
    State(app): State<AppState>,
    Path((group, model)): Path<(String, String)>,
) -> AdminResult<Value> {
    if app
        .store
        .delete_group_model_configs(&group, std::slice::from_ref(&model))
        .await?
        == 0
    {
        return Err(AdminError::NotFound(format!(
            "model config {model} of group {group}: record not found"
        )));
    }
    app.config_changed().await?;
    Ok(ok(Value::Null))
}
