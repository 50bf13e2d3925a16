//! `/api/option/*`: runtime options (string values, as AI Proxy stores them).

use std::collections::BTreeMap;

use axum::Router;
use axum::extract::{Path, State};
use axum::routing::get;
use serde_json::{Value, json};

use super::extract::AdminJson;
use super::{AdminError, AdminResult, ok};
use crate::config::options::{self, OptionError};
use crate::state::AppState;

/// Option routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/option", get(all).put(set_one).post(set_one))
        .route(
            "/option/batch",
            get(get_batch_key).put(set_batch).post(set_batch),
        )
        .route("/option/{key}", get(get_key).put(set_key).post(set_key))
}

/// An option value as stored: strings as they are, any other JSON as its text.
fn value_text(key: &str, value: Value) -> Result<String, AdminError> {
    match value {
        Value::String(s) => Ok(s),
        Value::Null => Err(AdminError::BadRequest(format!(
            "option `{key}`: `value` is required"
        ))),
        other => Ok(other.to_string()),
    }
}

/// Check a write against the option's type and its environment override;
/// returns the normalised value to store.
fn checked(app: &AppState, key: &str, value: Value) -> Result<String, AdminError> {
    let text = value_text(key, value)?;
    let normalised =
        options::validate(key, &text).map_err(|e| AdminError::BadRequest(e.to_string()))?;
    if app.snapshot.option_overrides().contains_key(key) {
        let env = options::spec(key).map(|s| s.env).unwrap_or_default();
        let e = OptionError::FixedByEnv {
            key: key.to_owned(),
            env: env.to_owned(),
        };
        return Err(AdminError::BadRequest(e.to_string()));
    }
    Ok(normalised)
}

async fn save(app: &AppState, values: Vec<(String, String)>) -> Result<(), AdminError> {
    app.store.save_options(&values).await?;
    app.config_changed().await?;
    Ok(())
}

async fn all(State(app): State<AppState>) -> AdminResult<BTreeMap<String, String>> {
    Ok(ok(app.snapshot.get().options.raw.clone()))
}

fn lookup(app: &AppState, key: &str) -> AdminResult<Value> {
    match app.snapshot.get().options.raw.get(key) {
        Some(value) => Ok(ok(json!({ "key": key, "value": value }))),
        None => Err(AdminError::NotFound(format!(
            "option {key}: record not found"
        ))),
    }
}

async fn get_key(State(app): State<AppState>, Path(key): Path<String>) -> AdminResult<Value> {
    lookup(&app, &key)
}

async fn get_batch_key(State(app): State<AppState>) -> AdminResult<Value> {
    lookup(&app, "batch")
}

#[derive(serde::Deserialize)]
struct KeyValue {
    key: String,
    #[serde(default)]
    value: Value,
}

async fn set_one(
    State(app): State<AppState>,
    AdminJson(body): AdminJson<KeyValue>,
) -> AdminResult<Value> {
    let key = body.key.trim().to_owned();
    let value = checked(&app, &key, body.value)?;
    save(&app, vec![(key.clone(), value.clone())]).await?;
    Ok(ok(json!({ "key": key, "value": value })))
}

/// The value of `PUT /option/{key}`: `{"value": …}` (optionally with a
/// matching `key`) or the bare value itself.
fn body_value(key: &str, body: Value) -> Result<Value, AdminError> {
    match body {
        Value::Object(mut map) if map.contains_key("value") => {
            if let Some(k) = map.get("key").and_then(Value::as_str)
                && k.trim() != key
            {
                return Err(AdminError::BadRequest(format!(
                    "`key` in the body ({k}) does not match the option in the path ({key})"
                )));
            }
            Ok(map.remove("value").unwrap_or_default())
        }
        other => Ok(other),
    }
}

async fn set_key(
    State(app): State<AppState>,
    Path(key): Path<String>,
    AdminJson(body): AdminJson<Value>,
) -> AdminResult<Value> {
    let value = checked(&app, &key, body_value(&key, body)?)?;
    save(&app, vec![(key.clone(), value.clone())]).await?;
    Ok(ok(json!({ "key": key, "value": value })))
}

async fn set_batch(
    State(app): State<AppState>,
    AdminJson(body): AdminJson<BTreeMap<String, Value>>,
) -> AdminResult<BTreeMap<String, String>> {
    let mut values = BTreeMap::new();
    for (key, value) in body {
        let key = key.trim().to_owned();
        let value = checked(&app, &key, value)?;
        values.insert(key, value);
    }
    if !values.is_empty() {
        save(&app, values.clone().into_iter().collect()).await?;
    }
    Ok(ok(values))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_become_text() {
        assert_eq!(value_text("k", json!("3")).unwrap(), "3");
        assert_eq!(value_text("k", json!(3)).unwrap(), "3");
        assert_eq!(value_text("k", json!(true)).unwrap(), "true");
        assert_eq!(
            value_text("k", json!({"1": ["a"]})).unwrap(),
            r#"{"1":["a"]}"#
        );
        assert_eq!(value_text("k", json!(["a"])).unwrap(), r#"["a"]"#);
        assert!(value_text("k", Value::Null).is_err());
    }

    #[test]
    fn body_value_forms() {
        assert_eq!(
            body_value("RetryTimes", json!({"value": "3"})).unwrap(),
            json!("3")
        );
        assert_eq!(
            body_value("RetryTimes", json!({"key": "RetryTimes", "value": 3})).unwrap(),
            json!(3)
        );
        assert!(body_value("RetryTimes", json!({"key": "Other", "value": 3})).is_err());
        assert_eq!(body_value("RetryTimes", json!("3")).unwrap(), json!("3"));
        let models = json!({"1": ["gpt-4o"]});
        assert_eq!(
            body_value("DefaultChannelModels", models.clone()).unwrap(),
            models
        );
    }
}
