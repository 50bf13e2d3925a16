//! `/api/model_configs/*` and `/api/model_config/*model`: the model catalogue.

use std::collections::HashMap;

use axum::Router;
use axum::extract::{Path, State};
use axum::routing::{get, post};
use serde_json::{Value, json};

use super::extract::{AdminJson, AdminQuery, IdList};
use super::{AdminError, AdminResult, ok};
use crate::model::model_config::{ModelConfig, ModelConfigWrite};
use crate::state::AppState;
use crate::store::{StoreError, now_ms};

/// Model config routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/model_configs", get(list).post(save_many))
        .route("/model_configs/search", get(search))
        .route("/model_configs/all", get(all))
        .route("/model_configs/batch_delete", post(batch_delete))
        .route("/model_configs/contains", post(contains))
        .route(
            "/model_config/{*model}",
            get(get_one).post(upsert).put(upsert).delete(delete),
        )
}

/// Check that a body's `model`, when present, names the same model as the path.
pub(super) fn check_body_model(body: Option<&str>, path: &str) -> Result<(), AdminError> {
    match body.map(str::trim) {
        Some(m) if !m.is_empty() && m != path => Err(AdminError::BadRequest(format!(
            "`model` in the body ({m}) does not match the model in the path ({path})"
        ))),
        _ => Ok(()),
    }
}

async fn list(State(app): State<AppState>, q: AdminQuery) -> AdminResult<Value> {
    let model = q.text("model");
    let owner = q.text("owner");
    let (configs, total) = app
        .store
        .page_model_configs(model.as_deref(), owner.as_deref(), q.page()?)
        .await?;
    Ok(ok(json!({ "configs": configs, "total": total })))
}

async fn search(State(app): State<AppState>, q: AdminQuery) -> AdminResult<Value> {
    let keyword = q.text("keyword");
    let owner = q.text("owner");
    let (configs, total) = app
        .store
        .page_model_configs(keyword.as_deref(), owner.as_deref(), q.page()?)
        .await?;
    Ok(ok(json!({ "configs": configs, "total": total })))
}

async fn all(State(app): State<AppState>) -> AdminResult<Vec<ModelConfig>> {
    Ok(ok(app.store.all_model_configs().await?))
}

/// Validate a bulk save, naming the index of the first bad entry.
fn validate_bulk(writes: &[ModelConfigWrite]) -> Result<(), AdminError> {
    for (i, write) in writes.iter().enumerate() {
        if write.model.as_deref().is_none_or(|m| m.trim().is_empty()) {
            return Err(AdminError::BadRequest(format!(
                "model config [{i}]: `model` is required"
            )));
        }
        write
            .validate()
            .map_err(|e| AdminError::BadRequest(format!("model config [{i}]: {e}")))?;
    }
    Ok(())
}

async fn save_many(
    State(app): State<AppState>,
    AdminJson(writes): AdminJson<Vec<ModelConfigWrite>>,
) -> AdminResult<Vec<ModelConfig>> {
    validate_bulk(&writes)?;
    let mut existing: HashMap<String, ModelConfig> = app
        .store
        .all_model_configs()
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
            .or_insert_with(|| ModelConfig::empty(&model, now));
        write.apply_to(config);
        config.updated_at = now;
        if !order.contains(&model) {
            order.push(model);
        }
    }
    let saved: Vec<ModelConfig> = order.iter().filter_map(|m| existing.remove(m)).collect();
    app.store.save_model_configs(&saved).await?;
    app.config_changed().await?;
    Ok(ok(saved))
}

async fn batch_delete(
    State(app): State<AppState>,
    AdminJson(models): AdminJson<IdList<String>>,
) -> AdminResult<Value> {
    let deleted = app.store.delete_model_configs(&models.into_vec()).await?;
    app.config_changed().await?;
    Ok(ok(json!({ "deleted": deleted })))
}

#[derive(serde::Deserialize)]
struct ContainsBody {
    models: Vec<String>,
}

async fn contains(
    State(app): State<AppState>,
    AdminJson(body): AdminJson<ContainsBody>,
) -> AdminResult<Vec<ModelConfig>> {
    let configs = app.store.all_model_configs().await?;
    Ok(ok(configs
        .into_iter()
        .filter(|c| body.models.contains(&c.model))
        .collect()))
}

async fn get_one(
    State(app): State<AppState>,
    Path(model): Path<String>,
) -> AdminResult<ModelConfig> {
    Ok(ok(app.store.get_model_config(&model).await?))
}

async fn upsert(
    State(app): State<AppState>,
    Path(model): Path<String>,
    AdminJson(write): AdminJson<ModelConfigWrite>,
) -> AdminResult<ModelConfig> {
    if model.trim().is_empty() || model != model.trim() {
        return Err(AdminError::BadRequest(
            "`model` must not be empty or have surrounding spaces".into(),
        ));
    }
    check_body_model(write.model.as_deref(), &model)?;
    write.validate()?;
    let now = now_ms();
    let mut config = match app.store.get_model_config(&model).await {
        Ok(c) => c,
        Err(StoreError::NotFound(_)) => ModelConfig::empty(&model, now),
        Err(e) => return Err(e.into()),
    };
    write.apply_to(&mut config);
    config.updated_at = now;
    app.store
        .save_model_configs(std::slice::from_ref(&config))
        .await?;
    app.config_changed().await?;
    Ok(ok(config))
}

async fn delete(State(app): State<AppState>, Path(model): Path<String>) -> AdminResult<Value> {
    if app
        .store
        .delete_model_configs(std::slice::from_ref(&model))
        .await?
        == 0
    {
        return Err(AdminError::NotFound(format!(
            "model config {model}: record not found"
        )));
    }
    app.config_changed().await?;
    Ok(ok(Value::Null))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_model_must_match_path() {
        assert!(check_body_model(None, "a/b").is_ok());
        assert!(check_body_model(Some(""), "a/b").is_ok());
        assert!(check_body_model(Some("a/b"), "a/b").is_ok());
        assert!(check_body_model(Some("c"), "a/b").is_err());
    }

    #[test]
    fn bulk_validation_names_the_index() {
        let writes: Vec<ModelConfigWrite> =
            serde_json::from_str(r#"[{"model":"a"},{"model":"b","rpm":-1}]"#).unwrap();
        let e = validate_bulk(&writes).unwrap_err().to_string();
        assert!(e.contains("[1]") && e.contains("rpm"), "{e}");
        let writes: Vec<ModelConfigWrite> = serde_json::from_str(r#"[{"owner":"x"}]"#).unwrap();
        assert!(validate_bulk(&writes).is_err());
    }
}
