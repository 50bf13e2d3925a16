//! Anthropic Messages endpoints: `POST /v1/messages` (relayed to any channel
//! that can serve the model, converted when the channel speaks another
//! protocol) and `POST /v1/messages/count_tokens` (asked of an Anthropic
//! channel when one serves the model, estimated locally otherwise). Auth by
//! `x-api-key` or Bearer; every error in Anthropic's shape.

use std::net::SocketAddr;
use std::time::Duration;

use axum::Json;
use axum::Router;
use axum::body::Body;
use axum::extract::{ConnectInfo, RawQuery, State};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Uri};
use serde_json::json;
use switchyard_protocol::convert::{ChatRequestOptions, messages_request_to_chat};
use switchyard_protocol::tokens;

use super::incoming::{Incoming, authenticated, relay_endpoint};
use super::read_body;
use crate::error::{ApiError, Dialect};
use crate::providers::{self, ClientHints};
use crate::relay::head::{PathParams, parse_head};
use crate::relay::mode::Mode;
use crate::relay::protocol::Protocol;
use crate::relay::upstream::post_json;
use crate::snapshot::ChannelEntry;
use crate::state::AppState;

/// Longest wait for an upstream `count_tokens` answer before estimating.
const COUNT_TOKENS_TIMEOUT: Duration = Duration::from_secs(10);

/// Largest `count_tokens` answer read from an upstream.
const MAX_COUNT_ANSWER: usize = 64 * 1024;

/// The Anthropic routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/messages", post(messages))
        .route("/v1/messages/count_tokens", post(count_tokens))
}

/// The Anthropic headers and query flag a channel may need passed on.
pub fn hints(headers: &HeaderMap, query: Option<&str>) -> ClientHints {
    let header = |name: &str| headers.get(name).filter(|v| !v.is_empty()).cloned();
    ClientHints {
        anthropic_version: header("anthropic-version"),
        anthropic_beta: header("anthropic-beta"),
        beta_query: query.is_some_and(|q| {
            q.split('&')
                .any(|pair| pair.eq_ignore_ascii_case("beta=true"))
        }),
    }
}

async fn messages(
    State(app): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> Response {
    relay_messages(app, peer, &uri, headers, body).await
}

/// Relay an Anthropic Messages request (the route's handler and the hot lane).
pub(super) async fn relay_messages(
    app: AppState,
    peer: SocketAddr,
    uri: &Uri,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let hints = hints(&headers, uri.query());
    let incoming = Incoming {
        mode: Mode::Anthropic,
        protocol: Protocol::Anthropic,
        path: PathParams::default(),
        peer,
        uri,
        headers,
        model_from_path: None,
        hints,
    };
    relay_endpoint(app, incoming, body).await
}

async fn count_tokens(
    State(app): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Body,
) -> Response {
    match count(&app, peer, query.as_deref(), &headers, body).await {
        Ok(response) => response,
        Err(e) => e.in_dialect(Dialect::Anthropic).into_response(),
    }
}

async fn count(
    app: &AppState,
    peer: SocketAddr,
    query: Option<&str>,
    headers: &HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let (principal, _) = authenticated(app, peer, headers)?;
    let body = read_body(headers, body, &app.config).await?;
    let head = parse_head(Protocol::Anthropic, &body, &PathParams::default())?;
    let allow = principal.allowed_models();
    if !allow.is_empty() && !allow.iter().any(|m| m.eq_ignore_ascii_case(&head.model)) {
        return Err(ApiError::model_not_found(&head.model));
    }
    let snapshot = app.snapshot.get();
    let model = snapshot
        .canonical_model(&head.model)
        .ok_or_else(|| ApiError::model_not_found(&head.model))?
        .to_owned();
    let anthropic_channel = snapshot
        .candidates(&model, principal.sets())
        .into_iter()
        .find(|c| {
            providers::anthropic_count_tokens_target(&c.channel, &ClientHints::default()).is_some()
        });
    if let Some(channel) = anthropic_channel
        && let Some(answer) =
            ask_upstream(app, &channel, &model, &body, &hints(headers, query)).await
    {
        let mut response = Response::new(Body::from(answer));
        response.headers_mut().insert(
            http::header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        return Ok(response);
    }
    let input_tokens = estimate(&body, &model)?;
    Ok(Json(json!({ "input_tokens": input_tokens })).into_response())
}

/// The exact count from an Anthropic channel; `None` (estimate instead)
/// when it cannot be asked or does not answer 200.
async fn ask_upstream(
    app: &AppState,
    channel: &ChannelEntry,
    model: &str,
    body: &Bytes,
    hints: &ClientHints,
) -> Option<Bytes> {
    let target = providers::anthropic_count_tokens_target(&channel.channel, hints)?.ok()?;
    let upstream_model = channel.upstream_model(model);
    let mut value: serde_json::Value = serde_json::from_slice(body).ok()?;
    let object = value.as_object_mut()?;
    object.insert("model".into(), upstream_model.into());
    object.remove("stream");
    object.remove("max_tokens");
    let body = Bytes::from(serde_json::to_vec(&value).ok()?);
    let client = app
        .http
        .upstream(&channel.channel.proxy_url, channel.channel.skip_tls_verify)
        .ok()?;
    let response = post_json(&client, &target, body, false, COUNT_TOKENS_TIMEOUT)
        .await
        .ok()?;
    if !response.status.is_success() {
        tracing::debug!(channel = channel.channel.id, status = %response.status, "count_tokens upstream refused; estimating");
        return None;
    }
    response
        .read_all(MAX_COUNT_ANSWER, COUNT_TOKENS_TIMEOUT)
        .await
        .ok()
}

/// The gateway's own estimate: the request as an OpenAI chat prompt,
/// counted with the o200k tokenizer, plus the tool definitions.
fn estimate(body: &[u8], model: &str) -> Result<i64, ApiError> {
    let chat = messages_request_to_chat(body, model, &ChatRequestOptions::default())
        .map_err(|e| ApiError::bad_request(format!("invalid Messages request: {e}")))?;
    let prompt = tokens::count_chat_prompt(&chat).unwrap_or(0);
    let tools = serde_json::from_slice::<serde_json::Value>(&chat)
        .ok()
        .and_then(|v| v.get("tools").map(|t| tokens::count_text(&t.to_string())))
        .unwrap_or(0);
    Ok(prompt + tools)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hints_from_headers_and_query() {
        let mut headers = HeaderMap::new();
        headers.insert("anthropic-version", HeaderValue::from_static("2023-06-01"));
        headers.insert("anthropic-beta", HeaderValue::from_static("a,b"));
        let h = hints(&headers, Some("x=1&beta=true"));
        assert!(h.beta_query);
        assert_eq!(h.anthropic_beta.unwrap(), "a,b");
        assert!(!hints(&HeaderMap::new(), Some("beta=false")).beta_query);
    }

    #[test]
    fn estimate_counts_system_messages_and_tools() {
        let plain = estimate(
            br#"{"model":"m","max_tokens":5,"messages":[{"role":"user","content":"hello there"}]}"#,
            "m",
        )
        .unwrap();
        let more = estimate(
            br#"{"model":"m","max_tokens":5,"system":"You are a careful assistant.","messages":[{"role":"user","content":"hello there"}],"tools":[{"name":"get_weather","description":"Weather for a city","input_schema":{"type":"object","properties":{"city":{"type":"string"}}}}]}"#,
            "m",
        )
        .unwrap();
        assert!(plain > 0);
        assert!(more > plain + 10, "{more} vs {plain}");
    }
}
