//! The OpenAPI document of the admin API and the Swagger UI that shows it.
//!
//! The document is built from [`super::openapi_routes::ADMIN_ROUTES`] (the
//! one list of admin routes) plus shared components (the envelope, channel
//! and channel-test schemas, the admin-key security schemes) and checked
//! into utoipa's typed [`utoipa::openapi::OpenApi`] once at start. It is
//! served at `/swagger/doc.json` (and `/openapi.json`); Swagger UI's files
//! are compiled into the binary (utoipa-swagger-ui's `vendored` assets) and
//! served under `/swagger/` with the online validator switched off, so
//! nothing is fetched from the internet. These routes need no admin key,
//! like AI Proxy's.

use std::sync::{Arc, OnceLock};

use axum::Router;
use axum::extract::Path;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use http::{HeaderValue, StatusCode, header};
use serde_json::{Map, Value, json};

use super::openapi_routes::{ADMIN_ROUTES, RouteDoc};
use crate::state::AppState;

/// Where the JSON document is served.
pub const DOC_PATH: &str = "/swagger/doc.json";

/// The Swagger UI and document routes (no auth).
pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/swagger",
            get(|| async { Redirect::permanent("/swagger/index.html") }),
        )
        .route("/swagger/{*file}", get(swagger_file))
        .route("/openapi.json", get(document))
}

/// The document as JSON text (built once).
pub fn document_json() -> &'static str {
    static DOC: OnceLock<String> = OnceLock::new();
    DOC.get_or_init(|| {
        let value = build();
        match serde_json::from_value::<utoipa::openapi::OpenApi>(value.clone()) {
            Ok(typed) => typed.to_pretty_json().unwrap_or_else(|_| value.to_string()),
            Err(e) => {
                tracing::error!(error = %e, "the OpenAPI document does not fit the OpenAPI model");
                value.to_string()
            }
        }
    })
}

async fn document() -> Response {
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        document_json(),
    )
        .into_response()
}

async fn swagger_file(Path(file): Path<String>) -> Response {
    if file == "doc.json" {
        return document().await;
    }
    static CONFIG: OnceLock<Arc<utoipa_swagger_ui::Config<'static>>> = OnceLock::new();
    let config = CONFIG
        .get_or_init(|| Arc::new(utoipa_swagger_ui::Config::from(DOC_PATH).validator_url("none")))
        .clone();
    match utoipa_swagger_ui::serve(&file, config) {
        Ok(Some(found)) => {
            let mut response = found.bytes.into_owned().into_response();
            if let Ok(v) = HeaderValue::from_str(&found.content_type) {
                response.headers_mut().insert(header::CONTENT_TYPE, v);
            }
            if found.gzpipped {
                response
                    .headers_mut()
                    .insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
            }
            response
        }
        Ok(None) => (StatusCode::NOT_FOUND, "not found").into_response(),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    }
}

/// OpenAPI path syntax of an axum path (`{*model}` → `{model}`).
pub fn openapi_path(path: &str) -> String {
    path.replace("{*", "{")
}

fn path_params(path: &str) -> Vec<Value> {
    path.split('/')
        .filter_map(|seg| seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
        .map(|name| {
            let name = name.trim_start_matches('*');
            let integer = name == "id" || name == "type";
            json!({
                "name": name, "in": "path", "required": true,
                "schema": {"type": if integer { "integer" } else { "string" }},
            })
        })
        .collect()
}

/// A schema allowing any JSON value (utoipa's model has no empty schema).
fn any_json() -> Value {
    json!({
        "type": ["object", "array", "string", "number", "boolean", "null"],
        "description": "any JSON value",
    })
}

fn operation(route: &RouteDoc) -> Value {
    let data = route.data.map_or_else(
        any_json,
        |name| json!({"$ref": format!("#/components/schemas/{name}")}),
    );
    let ok = json!({
        "description": "Success envelope",
        "content": {"application/json": {"schema": {"allOf": [
            {"$ref": "#/components/schemas/Envelope"},
            {"type": "object", "properties": {"data": data}},
        ]}}},
    });
    let error = json!({
        "description": "Error envelope",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorEnvelope"}}},
    });
    let mut op = json!({
        "tags": [route.tag],
        "summary": route.summary,
        "operationId": format!("{} {}", route.method.to_lowercase(), route.path),
        "parameters": path_params(route.path),
        "responses": {"200": ok, "400": error.clone(), "401": error.clone(), "404": error},
    });
    if route.path == "/api/status" {
        op["security"] = json!([]);
    }
    if matches!(route.method, "POST" | "PUT") {
        op["requestBody"] = json!({
            "required": false,
            "content": {"application/json": {"schema": any_json()}},
        });
    }
    op
}

fn build() -> Value {
    let mut paths = Map::new();
    for route in ADMIN_ROUTES {
        let item = paths
            .entry(openapi_path(route.path))
            .or_insert_with(|| json!({}));
        item[route.method.to_lowercase()] = operation(route);
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Switchyard admin API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "AI Proxy-compatible admin API. Every answer is the envelope {success, message, data}; timestamps are Unix milliseconds.",
        },
        "paths": paths,
        "components": components(),
        "security": [{"AdminKey": []}, {"AdminKeyQuery": []}],
    })
}

fn components() -> Value {
    json!({
        "securitySchemes": {
            "AdminKey": {"type": "http", "scheme": "bearer", "description": "ADMIN_KEY (a leading `sk-` is accepted)"},
            "AdminKeyQuery": {"type": "apiKey", "in": "query", "name": "key"},
        },
        "schemas": {
            "Envelope": {"type": "object", "required": ["success"], "properties": {
                "success": {"type": "boolean"}, "message": {"type": "string"}, "data": any_json(),
            }},
            "ErrorEnvelope": {"type": "object", "required": ["success", "message"], "properties": {
                "success": {"type": "boolean", "const": false}, "message": {"type": "string"},
            }},
            "Channel": {"type": "object", "properties": {
                "id": {"type": "integer"}, "type": {"type": "integer"}, "name": {"type": "string"},
                "key": {"type": "string"}, "base_url": {"type": "string"}, "proxy_url": {"type": "string"},
                "models": {"type": "array", "items": {"type": "string"}},
                "model_mapping": {"type": "object", "additionalProperties": {"type": "string"}},
                "priority": {"type": "integer"}, "status": {"type": "integer"},
                "sets": {"type": "array", "items": {"type": "string"}}, "configs": {"type": "object"},
                "balance": {"type": "number"}, "balance_updated_at": {"type": "integer"},
                "balance_threshold": {"type": "number"}, "enabled_auto_balance_check": {"type": "boolean"},
                "skip_tls_verify": {"type": "boolean"}, "enabled_no_permission_ban": {"type": "boolean"},
                "warn_error_rate": {"type": "number"}, "max_error_rate": {"type": "number"},
                "used_amount": {"type": "number"}, "request_count": {"type": "integer"},
                "retry_count": {"type": "integer"}, "last_test_error_at": {"type": "integer"},
                "accessed_at": {"type": "integer"}, "created_at": {"type": "integer"}, "updated_at": {"type": "integer"},
            }},
            "ChannelList": {"type": "array", "items": {"$ref": "#/components/schemas/Channel"}},
            "ChannelPage": {"type": "object", "properties": {
                "channels": {"$ref": "#/components/schemas/ChannelList"}, "total": {"type": "integer"},
            }},
            "ChannelTestResult": {"type": "object", "properties": {
                "channel_id": {"type": "integer"}, "channel_name": {"type": "string"},
                "channel_type": {"type": "integer"}, "model": {"type": "string"},
                "actual_model": {"type": "string"}, "mode": {"type": "integer"},
                "test_at": {"type": "integer"}, "took": {"type": "number", "description": "seconds"},
                "duration_ms": {"type": "integer"}, "success": {"type": "boolean"},
                "code": {"type": "integer"}, "response": {"type": "string"}, "error": {"type": "string"},
            }},
            "ChannelTestList": {"type": "array", "items": {"$ref": "#/components/schemas/ChannelTestResult"}},
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn document_is_typed_openapi() {
        let value = build();
        let typed: utoipa::openapi::OpenApi = serde_json::from_value(value.clone()).unwrap();
        let back: Value = serde_json::from_str(&typed.to_json().unwrap()).unwrap();
        assert_eq!(
            back["paths"].as_object().unwrap().len(),
            value["paths"].as_object().unwrap().len()
        );
        assert!(
            typed
                .paths
                .paths
                .contains_key("/api/channel/{id}/test/{model}")
        );
        assert_eq!(
            openapi_path("/api/model_config/{*model}"),
            "/api/model_config/{model}"
        );
    }

    #[test]
    fn each_route_documented_once() {
        let mut seen = std::collections::HashSet::new();
        for r in ADMIN_ROUTES {
            assert!(
                seen.insert((r.method, r.path)),
                "{} {} twice",
                r.method,
                r.path
            );
        }
    }
}
