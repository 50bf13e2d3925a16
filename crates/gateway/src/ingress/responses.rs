//! OpenAI Responses endpoints: `POST /v1/responses` (relayed, converted when
//! the channel speaks another protocol; `previous_response_id` resolved by
//! [`crate::relay::stored`]) and the stored-response endpoints
//! `GET|DELETE /v1/responses/{id}`, `POST /v1/responses/{id}/cancel`,
//! `GET /v1/responses/{id}/input_items`. A response stored by a native
//! Responses channel is asked of that channel; one the gateway converted is
//! answered from its own store. Unknown ids are 404.

use std::net::SocketAddr;
use std::time::Duration;

use axum::Json;
use axum::Router;
use axum::body::Body;
use axum::extract::{ConnectInfo, Path, RawQuery, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use serde_json::{Value, json};

use super::incoming::authenticated;
use super::openai::relay_protocol;
use crate::error::ApiError;
use crate::providers::{self, ClientHints, TargetRequest};
use crate::relay::protocol::Protocol;
use crate::relay::stored::lookup;
use crate::relay::upstream::send_bodyless;
use crate::state::AppState;
use crate::store::responses::StoredResponse;

/// Bound on a stored-response call to an upstream.
const UPSTREAM_TIMEOUT: Duration = Duration::from_secs(30);

/// Largest stored-response answer read from an upstream.
const MAX_ANSWER: usize = 32 * 1024 * 1024;

/// The Responses routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/responses", post(create))
        .route("/v1/responses/{id}", get(retrieve).delete(delete))
        .route("/v1/responses/{id}/cancel", post(cancel))
        .route("/v1/responses/{id}/input_items", get(input_items))
}

async fn create(
    State(app): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> Response {
    relay_protocol(app, Protocol::Responses, peer, &uri, headers, body).await
}

/// What a stored-response endpoint does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Retrieve,
    Delete,
    Cancel,
    InputItems,
}

impl Op {
    fn method(self) -> Method {
        match self {
            Self::Retrieve | Self::InputItems => Method::GET,
            Self::Delete => Method::DELETE,
            Self::Cancel => Method::POST,
        }
    }

    fn suffix(self) -> &'static str {
        match self {
            Self::Retrieve | Self::Delete => "",
            Self::Cancel => "/cancel",
            Self::InputItems => "/input_items",
        }
    }
}

struct Call {
    app: AppState,
    peer: SocketAddr,
    headers: HeaderMap,
    id: String,
    query: Option<String>,
}

async fn retrieve(
    State(app): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    stored_call(
        Call {
            app,
            peer,
            headers,
            id,
            query,
        },
        Op::Retrieve,
    )
    .await
}

async fn delete(
    State(app): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    stored_call(
        Call {
            app,
            peer,
            headers,
            id,
            query: None,
        },
        Op::Delete,
    )
    .await
}

async fn cancel(
    State(app): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    stored_call(
        Call {
            app,
            peer,
            headers,
            id,
            query: None,
        },
        Op::Cancel,
    )
    .await
}

async fn input_items(
    State(app): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    stored_call(
        Call {
            app,
            peer,
            headers,
            id,
            query,
        },
        Op::InputItems,
    )
    .await
}

async fn stored_call(call: Call, op: Op) -> Response {
    match run(&call, op).await {
        Ok(response) => response,
        Err(e) => e.into_response(),
    }
}

async fn run(call: &Call, op: Op) -> Result<Response, ApiError> {
    let (principal, _) = authenticated(&call.app, call.peer, &call.headers)?;
    let group = (!principal.is_internal()).then(|| principal.group_id());
    let row = lookup(&call.app, &call.id, group).await.map_err(|e| {
        if e.status == StatusCode::NOT_FOUND {
            not_found(&call.id)
        } else {
            e
        }
    })?;
    if row.native {
        return forward(call, &row, op).await;
    }
    local(call, &row, op).await
}

fn not_found(id: &str) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "invalid_request_error",
        format!("Response with id '{id}' not found."),
    )
    .with_code("not_found")
}

/// A converted response, answered from the gateway's store.
async fn local(call: &Call, row: &StoredResponse, op: Op) -> Result<Response, ApiError> {
    let corrupt = |_| ApiError::unavailable("the stored response cannot be read");
    match op {
        Op::Retrieve => {
            let object: Value = serde_json::from_str(&row.response).map_err(corrupt)?;
            Ok(Json(object).into_response())
        }
        Op::Delete => {
            call.app
                .store
                .delete_stored_response(&row.id)
                .await
                .map_err(|_| ApiError::unavailable("stored responses are unavailable"))?;
            Ok(Json(json!({"id": row.id, "object": "response", "deleted": true})).into_response())
        }
        Op::Cancel => Err(ApiError::bad_request(
            "Only responses created with background=true can be cancelled.",
        )),
        Op::InputItems => {
            let items: Value = serde_json::from_str(&row.input).map_err(corrupt)?;
            Ok(Json(item_list(&row.id, items, call.query.as_deref())).into_response())
        }
    }
}

/// The input items as OpenAI lists them: newest first unless `order=asc`,
/// each with an id.
fn item_list(response_id: &str, items: Value, query: Option<&str>) -> Value {
    let mut items = match items {
        Value::Array(items) => items,
        _ => Vec::new(),
    };
    for (n, item) in items.iter_mut().enumerate() {
        if let Some(object) = item.as_object_mut() {
            object
                .entry("id")
                .or_insert_with(|| Value::String(format!("in_{response_id}_{n}")));
        }
    }
    let ascending = query.is_some_and(|q| q.split('&').any(|p| p == "order=asc"));
    if !ascending {
        items.reverse();
    }
    let first = items
        .first()
        .and_then(|i| i.get("id"))
        .cloned()
        .unwrap_or(Value::Null);
    let last = items
        .last()
        .and_then(|i| i.get("id"))
        .cloned()
        .unwrap_or(Value::Null);
    json!({"object": "list", "data": items, "first_id": first, "last_id": last, "has_more": false})
}

/// A native response: the call goes to the channel that created it.
async fn forward(call: &Call, row: &StoredResponse, op: Op) -> Result<Response, ApiError> {
    let snapshot = call.app.snapshot.get();
    let channel = snapshot.channels.get(&row.channel_id).ok_or_else(|| {
        ApiError::unavailable(format!(
            "channel {}, which holds this response, no longer exists",
            row.channel_id
        ))
    })?;
    let target = providers::target(
        &channel.channel,
        &TargetRequest {
            protocol: Protocol::Responses,
            upstream_model: &row.model,
            stream: false,
            hints: &ClientHints::default(),
        },
    )
    .map_err(|e| ApiError::unavailable(e.to_string()))?;
    let mut url = format!(
        "{}/{}{}",
        target.url,
        urlencoding::encode(&row.id),
        op.suffix()
    );
    if let Some(query) = call.query.as_deref().filter(|q| !q.is_empty()) {
        url.push('?');
        url.push_str(query);
    }
    let client = call
        .app
        .http
        .upstream(&channel.channel.proxy_url, channel.channel.skip_tls_verify)
        .map_err(|e| ApiError::unavailable(e.to_string()))?;
    let response = send_bodyless(&client, op.method(), &url, &target, UPSTREAM_TIMEOUT)
        .await
        .map_err(|e| ApiError::bad_gateway(e.to_string()))?;
    let status = response.status;
    let body = response
        .read_all(MAX_ANSWER, UPSTREAM_TIMEOUT)
        .await
        .map_err(|e| ApiError::bad_gateway(e.to_string()))?;
    if op == Op::Delete && (status.is_success() || status == StatusCode::NOT_FOUND) {
        let _ = call.app.store.delete_stored_response(&row.id).await;
    }
    let mut answer = Response::new(Body::from(body));
    *answer.status_mut() = status;
    answer.headers_mut().insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    Ok(answer)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn input_items_are_listed_newest_first_with_ids() {
        let items = json!([{"role":"user","content":"a"},{"id":"fc_1","type":"function_call"}]);
        let list = item_list("resp_9", items.clone(), None);
        assert_eq!(list["data"][0]["id"], "fc_1");
        assert_eq!(list["data"][1]["id"], "in_resp_9_0");
        assert_eq!(list["first_id"], "fc_1");
        let list = item_list("resp_9", items, Some("limit=20&order=asc"));
        assert_eq!(list["data"][0]["id"], "in_resp_9_0");
        assert_eq!(list["has_more"], false);
    }
}
