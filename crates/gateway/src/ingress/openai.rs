//! OpenAI-compatible endpoints: chat completions, completions, embeddings,
//! the model list, and clear errors for the parts of the OpenAI API a
//! gateway does not serve.

use std::net::SocketAddr;

use axum::Json;
use axum::Router;
use axum::body::Body;
use axum::extract::{ConnectInfo, Path, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post};
use http::{HeaderMap, StatusCode, Uri};
use switchyard_protocol::openai::{ModelEntry, ModelList};

use super::incoming::{Incoming, authenticated, relay_endpoint};
use crate::error::ApiError;
use crate::providers::ClientHints;
use crate::relay::head::PathParams;
use crate::relay::mode::Mode;
use crate::relay::protocol::Protocol;
use crate::state::AppState;

/// The `/v1` routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/chat/completions", post(chat_completions))
        .route("/v1/completions", post(completions))
        .route("/v1/embeddings", post(embeddings))
        .route("/v1/engines/{model}/embeddings", post(engine_embeddings))
        .route("/v1/models", get(list_models))
        .route(
            "/v1/models/{model}",
            get(get_model)
                .post(super::gemini::model_action_handler)
                .delete(not_implemented),
        )
        .route(
            "/v1beta/models/{model}",
            post(super::gemini::model_action_handler),
        )
        .route("/v1/files", any(not_implemented))
        .route("/v1/files/{*rest}", any(not_implemented))
        .route("/v1/fine_tuning/{*rest}", any(not_implemented))
        .route("/v1/assistants", any(not_implemented))
        .route("/v1/assistants/{*rest}", any(not_implemented))
        .route("/v1/threads", any(not_implemented))
        .route("/v1/threads/{*rest}", any(not_implemented))
        .route("/v1/images/variations", any(not_implemented))
        .route("/v1/{*rest}", any(unknown_endpoint))
}

/// Relay a request whose endpoint speaks `protocol` (its relay mode follows).
pub(super) async fn relay_protocol(
    app: AppState,
    protocol: Protocol,
    peer: SocketAddr,
    uri: &Uri,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let incoming = Incoming {
        mode: protocol.upstream_mode(),
        protocol,
        path: PathParams::default(),
        peer,
        uri,
        headers,
        model_from_path: None,
        hints: ClientHints::default(),
    };
    relay_endpoint(app, incoming, body).await
}

async fn chat_completions(
    State(app): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> Response {
    relay_protocol(app, Protocol::Chat, peer, &uri, headers, body).await
}

async fn completions(
    State(app): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> Response {
    relay_protocol(app, Protocol::Completions, peer, &uri, headers, body).await
}

async fn embeddings(
    State(app): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> Response {
    relay_protocol(app, Protocol::Embeddings, peer, &uri, headers, body).await
}

/// Legacy `/v1/engines/{model}/embeddings`: the model comes from the path.
async fn engine_embeddings(
    State(app): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(model): Path<String>,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let incoming = Incoming {
        mode: Mode::Embeddings,
        protocol: Protocol::Embeddings,
        path: PathParams::default(),
        peer,
        uri: &uri,
        headers,
        model_from_path: Some(model),
        hints: ClientHints::default(),
    };
    relay_endpoint(app, incoming, body).await
}

fn owner_of(app: &AppState, model: &str) -> String {
    let snapshot = app.snapshot.get();
    let owner = snapshot
        .model_configs
        .get(model)
        .map(|c| c.owner.clone())
        .unwrap_or_default();
    if owner.is_empty() {
        "switchyard".to_owned()
    } else {
        owner
    }
}

async fn list_models(
    State(app): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
) -> Response {
    let (principal, _) = match authenticated(&app, peer, &headers) {
        Ok(p) => p,
        Err(e) => return e.into_response(),
    };
    let snapshot = app.snapshot.get();
    let models = snapshot.visible_models(principal.sets(), principal.allowed_models());
    let data = models
        .iter()
        .map(|m| ModelEntry::new(m.clone(), owner_of(&app, m)))
        .collect();
    Json(ModelList::new(data)).into_response()
}

async fn get_model(
    State(app): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(model): Path<String>,
    headers: HeaderMap,
) -> Response {
    let (principal, _) = match authenticated(&app, peer, &headers) {
        Ok(p) => p,
        Err(e) => return e.into_response(),
    };
    let snapshot = app.snapshot.get();
    let visible = snapshot.visible_models(principal.sets(), principal.allowed_models());
    match visible.iter().find(|m| m.eq_ignore_ascii_case(&model)) {
        Some(m) => Json(ModelEntry::new(m.clone(), owner_of(&app, m))).into_response(),
        None => ApiError::model_not_found(&model).into_response(),
    }
}

async fn not_implemented(uri: Uri) -> Response {
    ApiError::new(
        StatusCode::NOT_IMPLEMENTED,
        "invalid_request_error",
        format!("{} is not implemented by this gateway", uri.path()),
    )
    .with_code("api_not_implemented")
    .into_response()
}

async fn unknown_endpoint(uri: Uri) -> Response {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "invalid_request_error",
        format!("unknown endpoint {}", uri.path()),
    )
    .with_code("unknown_url")
    .into_response()
}
