//! Gemini endpoints: `POST /v1beta/models/{model}:{action}` and the same
//! under `/v1/models/…`, for `generateContent`, `streamGenerateContent`
//! (`alt=sse`), `countTokens`, `embedContent` and `batchEmbedContents`.
//! The model and streaming come from the path; the body is relayed (and
//! converted when the channel speaks another protocol). Auth by
//! `x-goog-api-key`, `?key=` or Bearer; every error in Gemini's shape.

use std::net::SocketAddr;

use axum::Json;
use axum::body::Body;
use axum::extract::{ConnectInfo, Path, RawQuery, State};
use axum::response::{IntoResponse, Response};
use http::{HeaderMap, HeaderValue, Uri};
use serde_json::json;
use switchyard_protocol::convert::{self, ChatRequestOptions};
use switchyard_protocol::gemini::GenerateContentRequest;
use switchyard_protocol::tokens;

use super::incoming::{Incoming, authenticated, relay_endpoint};
use super::read_body;
use crate::error::{ApiError, Dialect};
use crate::providers::ClientHints;
use crate::relay::head::PathParams;
use crate::relay::protocol::Protocol;
use crate::state::AppState;

/// The actions of a Gemini model path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Action {
    Generate { stream: bool },
    CountTokens,
    Embed,
    BatchEmbed,
}

impl Action {
    fn parse(action: &str) -> Option<Self> {
        match action {
            "generateContent" => Some(Self::Generate { stream: false }),
            "streamGenerateContent" => Some(Self::Generate { stream: true }),
            "countTokens" => Some(Self::CountTokens),
            "embedContent" => Some(Self::Embed),
            "batchEmbedContents" => Some(Self::BatchEmbed),
            _ => None,
        }
    }
}

/// Split `gemini-2.5-flash:generateContent` into model and action.
fn model_action(segment: &str) -> Result<(String, Action), ApiError> {
    let (model, action) = segment.rsplit_once(':').ok_or_else(|| {
        ApiError::new(
            http::StatusCode::NOT_FOUND,
            "invalid_request_error",
            format!("`{segment}` names no action; use models/{{model}}:generateContent"),
        )
    })?;
    let action = Action::parse(action).ok_or_else(|| {
        ApiError::new(
            http::StatusCode::NOT_FOUND,
            "invalid_request_error",
            format!("the Gemini action `{action}` is not served"),
        )
    })?;
    let model = model.strip_prefix("models/").unwrap_or(model);
    if model.is_empty() {
        return Err(ApiError::bad_request("the path names no model"));
    }
    Ok((model.to_owned(), action))
}

/// The `key` query parameter, percent-decoded.
fn query_key(query: Option<&str>) -> Option<String> {
    query?
        .split('&')
        .find_map(|pair| pair.strip_prefix("key="))
        .and_then(|k| urlencoding::decode(k).ok())
        .map(|k| k.into_owned())
        .filter(|k| !k.is_empty())
}

/// Headers with `?key=` moved into `x-goog-api-key` when no header names a key.
fn with_query_key(mut headers: HeaderMap, query: Option<&str>) -> HeaderMap {
    let has_key = ["authorization", "x-api-key", "x-goog-api-key"]
        .iter()
        .any(|h| headers.contains_key(*h));
    if !has_key
        && let Some(key) = query_key(query)
        && let Ok(mut value) = HeaderValue::from_str(&key)
    {
        value.set_sensitive(true);
        headers.insert("x-goog-api-key", value);
    }
    headers
}

/// `POST /v1beta/models/{model}:{action}` and `/v1/models/{model}:{action}`.
pub async fn model_action_handler(
    State(app): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(segment): Path<String>,
    RawQuery(query): RawQuery,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let headers = with_query_key(headers, query.as_deref());
    let (model, action) = match model_action(&segment) {
        Ok(parsed) => parsed,
        Err(e) => return e.in_dialect(Dialect::Gemini).into_response(),
    };
    let protocol = match action {
        Action::CountTokens => {
            return match count_tokens(&app, peer, &headers, body).await {
                Ok(response) => response,
                Err(e) => e.in_dialect(Dialect::Gemini).into_response(),
            };
        }
        Action::Generate { .. } => Protocol::Gemini,
        Action::Embed => Protocol::GeminiEmbed,
        Action::BatchEmbed => Protocol::GeminiBatchEmbed,
    };
    let incoming = Incoming {
        mode: protocol.upstream_mode(),
        protocol,
        path: PathParams {
            model: Some(model),
            stream: action == (Action::Generate { stream: true }),
        },
        peer,
        uri: &uri,
        headers,
        model_from_path: None,
        hints: ClientHints::default(),
    };
    relay_endpoint(app, incoming, body).await
}

/// `countTokens`: the gateway's own count of the request's prompt.
async fn count_tokens(
    app: &AppState,
    peer: SocketAddr,
    headers: &HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    authenticated(app, peer, headers)?;
    let body = read_body(headers, body, &app.config).await?;
    let total = estimate(&body)?;
    Ok(Json(json!({ "totalTokens": total })).into_response())
}

/// The prompt of a `countTokens` body (`contents`, or a whole
/// `generateContentRequest`) counted as an OpenAI chat prompt with o200k.
fn estimate(body: &[u8]) -> Result<i64, ApiError> {
    let invalid = |e: &dyn std::fmt::Display| {
        ApiError::bad_request(format!("invalid countTokens request: {e}"))
    };
    let value: serde_json::Value = serde_json::from_slice(body).map_err(|e| invalid(&e))?;
    let request = value
        .get("generateContentRequest")
        .cloned()
        .unwrap_or(value);
    let request: GenerateContentRequest =
        serde_json::from_value(request).map_err(|e| invalid(&e))?;
    let ir = convert::gemini::request_to_ir(request).map_err(|e| invalid(&e))?;
    let chat = convert::openai::request_from_ir(&ir, &ChatRequestOptions::default());
    let chat = serde_json::to_vec(&chat).map_err(|e| invalid(&e))?;
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
    fn model_and_action_are_split() {
        let (m, a) = model_action("gemini-2.5-flash:streamGenerateContent").unwrap();
        assert_eq!(m, "gemini-2.5-flash");
        assert_eq!(a, Action::Generate { stream: true });
        let (m, a) = model_action("models/text-embedding-004:batchEmbedContents").unwrap();
        assert_eq!((m.as_str(), a), ("text-embedding-004", Action::BatchEmbed));
        assert!(model_action("gemini-2.5-flash").is_err());
        assert!(model_action("gemini:predictLongRunning").is_err());
        assert!(model_action(":generateContent").is_err());
    }

    #[test]
    fn query_key_becomes_a_header_only_when_none_is_sent() {
        let h = with_query_key(HeaderMap::new(), Some("alt=sse&key=sk-abc%2B1"));
        assert_eq!(h.get("x-goog-api-key").unwrap(), "sk-abc+1");
        let mut bearer = HeaderMap::new();
        bearer.insert("authorization", HeaderValue::from_static("Bearer sk-x"));
        let h = with_query_key(bearer, Some("key=sk-other"));
        assert!(h.get("x-goog-api-key").is_none());
    }

    #[test]
    fn count_tokens_reads_both_body_forms() {
        let plain = estimate(br#"{"contents":[{"role":"user","parts":[{"text":"hello there"}]}]}"#)
            .unwrap();
        let wrapped = estimate(
            br#"{"generateContentRequest":{"model":"models/x","contents":[{"role":"user","parts":[{"text":"hello there"}]}],"systemInstruction":{"parts":[{"text":"You are a careful assistant."}]}}}"#,
        )
        .unwrap();
        assert!(plain > 0);
        assert!(wrapped > plain, "{wrapped} vs {plain}");
        assert!(estimate(b"{").is_err());
    }
}
