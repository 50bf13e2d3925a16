//! The AI Proxy-compatible admin API under `/api`.
//!
//! Every answer is the envelope `{"success","message","data"}`; every route
//! works with and without a trailing slash (the app strips it before
//! routing, so nothing redirects); timestamps are Unix milliseconds. Auth is
//! `Authorization: Bearer <ADMIN_KEY>` or `?key=`, with `Bearer `/`sk-`
//! stripped. Client mistakes are 4xx with a message naming the field.
//! Writes go to the database and then reload the in-memory snapshot.

pub mod channel_tests;
pub mod channels;
pub mod dashboard;
mod envelope;
pub mod extract;
pub mod groups;
pub mod ip_blocks;
pub mod log_export;
pub mod logs;
pub mod model_configs;
pub mod models;
pub mod monitor;
pub mod openapi;
pub mod openapi_routes;
pub mod options;
pub mod tokens;

use axum::Router;
use axum::extract::{Request, State};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

pub use envelope::{AdminError, AdminResult, Envelope, ok};

use crate::state::AppState;

/// The `/api` routes.
pub fn router(app: AppState) -> Router<AppState> {
    let protected = Router::new()
        .merge(channels::router())
        .merge(groups::router())
        .merge(tokens::router())
        .merge(model_configs::router())
        .merge(models::router())
        .merge(options::router())
        .merge(logs::router())
        .merge(ip_blocks::router())
        .merge(dashboard::router())
        .merge(monitor::router())
        .merge(channel_tests::router())
        .fallback(unknown_route)
        .layer(middleware::from_fn_with_state(app, require_admin));
    Router::new()
        .route("/api/status", get(status))
        .merge(openapi::router())
        .nest("/api", protected)
}

async fn status(State(app): State<AppState>) -> Envelope<serde_json::Value> {
    ok(serde_json::json!({
        "startTime": app.started_at,
        "version": env!("CARGO_PKG_VERSION"),
    }))
}

async fn unknown_route(request: Request) -> AdminError {
    AdminError::NotFound(format!(
        "unknown admin route {} {}",
        request.method(),
        request.uri().path()
    ))
}

/// The admin key from `Authorization` or the `key` query parameter.
fn presented_key(request: &Request) -> Option<String> {
    if let Some(value) = request
        .headers()
        .get(http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        && !value.trim().is_empty()
    {
        return Some(value.to_owned());
    }
    request.uri().query().and_then(|q| {
        q.split('&')
            .filter_map(|pair| pair.split_once('='))
            .find(|(k, _)| *k == "key")
            .and_then(|(_, v)| urlencoding::decode(v).ok())
            .map(|v| v.into_owned())
    })
}

async fn require_admin(State(app): State<AppState>, request: Request, next: Next) -> Response {
    match presented_key(&request) {
        None => AdminError::Unauthorized("unauthorized, no access token provided".into())
            .into_response(),
        Some(key) if app.keys.is_admin(&key) => next.run(request).await,
        Some(_) => {
            AdminError::Unauthorized("unauthorized, invalid access token".into()).into_response()
        }
    }
}
