//! Responses-API state kept by the gateway, around the relay.
//!
//! Before routing ([`resume`]): a request naming `previous_response_id` is
//! either pinned to the channel that created that response (a native
//! Responses channel keeps the conversation itself) or, when the gateway
//! converted that response from another protocol, expanded in place: the
//! stored input and output items are prepended to the new input and the
//! reference is removed, so any channel can serve it. An unknown id is 404.
//!
//! After a successful answer ([`record`]): the response id is stored with
//! its channel, and for converted answers with the whole conversation, for
//! `RESPONSES_STORE_HOURS`. Streams are read by a [`ResponseTap`] that keeps
//! the final `response.completed` object as it passes to the client.

use std::time::Duration;

use bytes::Bytes;
use serde_json::{Value, json};
use switchyard_protocol::json::{Patch, remove_member, scan_object, set_member};
use switchyard_protocol::sse::{SseDecoder, SseItem};

use super::protocol::Protocol;
use crate::error::ApiError;
use crate::providers;
use crate::snapshot::ChannelEntry;
use crate::state::AppState;
use crate::store::now_ms;
use crate::store::responses::StoredResponse;

/// Largest single event the tap keeps (a whole response object).
const MAX_TAPPED_EVENT: usize = 16 * 1024 * 1024;

/// How long a lookup that misses waits before asking once more (a stream's
/// row is written as its last event goes out, so a client that answers at
/// once can race it).
const MISS_RETRY: Duration = Duration::from_millis(250);

/// A Responses request the gateway will store once answered.
#[derive(Debug, Clone)]
pub struct StoreIntent {
    /// Owning group.
    pub group_id: String,
    /// Every input item of the conversation up to this request.
    pub input: Value,
}

/// What [`resume`] decided for a Responses request.
#[derive(Debug, Default)]
pub struct Resumed {
    /// The body, expanded when it continued a converted response.
    pub body: Bytes,
    /// The channel that must serve it (a native previous response).
    pub sticky_channel: Option<i64>,
    /// Store the answer.
    pub store: Option<StoreIntent>,
}

fn not_found(id: &str) -> ApiError {
    ApiError::new(
        http::StatusCode::NOT_FOUND,
        "invalid_request_error",
        format!("Previous response with id '{id}' not found."),
    )
    .with_code("previous_response_not_found")
}

/// The `input` of a Responses body as a list of items (a string input is
/// one user message).
fn input_items(body: &[u8]) -> Result<Vec<Value>, ApiError> {
    let scan = scan_object(body)
        .map_err(|e| ApiError::bad_request(format!("request body is not valid JSON: {e}")))?;
    let Some(span) = scan.get(body, "input") else {
        return Ok(Vec::new());
    };
    let raw = span
        .raw(body)
        .map_err(|e| ApiError::bad_request(format!("`input` is not valid JSON: {e}")))?;
    match serde_json::from_slice::<Value>(raw) {
        Ok(Value::String(text)) => Ok(vec![
            json!({"type": "message", "role": "user", "content": text}),
        ]),
        Ok(Value::Array(items)) => Ok(items),
        Ok(Value::Null) => Ok(Vec::new()),
        _ => Err(ApiError::bad_request(
            "`input` must be a string or an array of items",
        )),
    }
}

/// A stored row, owned by `group_id` (internal keys see every row).
pub async fn lookup(
    app: &AppState,
    id: &str,
    group_id: Option<&str>,
) -> Result<StoredResponse, ApiError> {
    let mut found = app
        .store
        .stored_response(id, now_ms())
        .await
        .map_err(store_error)?;
    if found.is_none() {
        tokio::time::sleep(MISS_RETRY).await;
        found = app
            .store
            .stored_response(id, now_ms())
            .await
            .map_err(store_error)?;
    }
    match found {
        Some(row) if group_id.is_none_or(|g| g == row.group_id) => Ok(row),
        _ => Err(not_found(id)),
    }
}

fn store_error(e: crate::store::StoreError) -> ApiError {
    tracing::error!(error = %e, "stored responses unavailable");
    ApiError::unavailable("stored responses are unavailable")
}

/// Resolve `previous_response_id` and decide what to store. `group_id` is
/// `None` for internal keys.
pub async fn resume(
    app: &AppState,
    body: Bytes,
    group_id: Option<&str>,
) -> Result<Resumed, ApiError> {
    let scan = scan_object(&body)
        .map_err(|e| ApiError::bad_request(format!("request body is not valid JSON: {e}")))?;
    let previous = scan
        .get(&body, "previous_response_id")
        .and_then(|s| s.read_str(&body).ok())
        .map(|s| s.into_owned())
        .filter(|s| !s.is_empty());
    let store = scan
        .get(&body, "store")
        .and_then(|s| s.read_bool(&body).ok())
        .unwrap_or(true);
    let mut resumed = Resumed {
        body,
        ..Resumed::default()
    };
    if let Some(id) = previous {
        let row = lookup(app, &id, group_id).await?;
        if row.native {
            resumed.sticky_channel = Some(row.channel_id);
        } else {
            resumed.body = expand(&resumed.body, &conversation(&row))?;
        }
    }
    if store {
        // An expanded body already holds the whole conversation.
        resumed.store = Some(StoreIntent {
            group_id: group_id.unwrap_or_default().to_owned(),
            input: Value::Array(input_items(&resumed.body)?),
        });
    }
    Ok(resumed)
}

/// The items of a converted response's conversation: its input, then its output.
fn conversation(row: &StoredResponse) -> Vec<Value> {
    let mut items = match serde_json::from_str::<Value>(&row.input) {
        Ok(Value::Array(items)) => items,
        _ => Vec::new(),
    };
    if let Ok(response) = serde_json::from_str::<Value>(&row.response)
        && let Some(Value::Array(output)) = response.get("output")
    {
        items.extend(output.iter().cloned());
    }
    items
}

/// `body` with `history` prepended to its input and no `previous_response_id`.
fn expand(body: &Bytes, history: &[Value]) -> Result<Bytes, ApiError> {
    let mut input = history.to_vec();
    input.extend(input_items(body)?);
    let scan = scan_object(body).map_err(|e| ApiError::bad_request(e.to_string()))?;
    let mut patch = Patch::new();
    let input = serde_json::to_vec(&input).map_err(|e| ApiError::bad_request(e.to_string()))?;
    set_member(&mut patch, body, &scan, "input", &input);
    remove_member(&mut patch, body, &scan, "previous_response_id");
    patch
        .apply(body)
        .map_err(|e| ApiError::bad_request(format!("request body cannot be rewritten: {e}")))
}

/// Store an answered response. `response` is the object the client got.
pub fn record(
    app: &AppState,
    channel: &ChannelEntry,
    upstream_model: &str,
    intent: StoreIntent,
    response: Value,
) {
    let Some(id) = response
        .get("id")
        .and_then(Value::as_str)
        .map(str::to_owned)
    else {
        return;
    };
    let native = providers::upstream_protocol(
        channel.info,
        Protocol::Responses,
        providers::is_responses_only_model(upstream_model),
    ) == Some(Protocol::Responses);
    let now = now_ms();
    let ttl = i64::try_from(app.config.responses_store_ttl.as_millis()).unwrap_or(i64::MAX);
    let row = StoredResponse {
        id,
        group_id: intent.group_id,
        channel_id: channel.channel.id,
        native,
        model: response
            .get("model")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned(),
        input: if native {
            String::new()
        } else {
            intent.input.to_string()
        },
        response: if native {
            String::new()
        } else {
            response.to_string()
        },
        created_at: now,
        expires_at: now.saturating_add(ttl),
    };
    let store = app.store.clone();
    app.sink.spawn(async move {
        if let Err(e) = store.save_response(&row).await {
            tracing::warn!(error = %e, id = row.id, "could not store a response");
        }
    });
}

/// Watches the events a Responses client receives and keeps the final
/// response object.
pub struct ResponseTap {
    decoder: SseDecoder,
    last: Option<Value>,
}

impl Default for ResponseTap {
    fn default() -> Self {
        Self {
            decoder: SseDecoder::new(MAX_TAPPED_EVENT),
            last: None,
        }
    }
}

impl ResponseTap {
    /// Read bytes sent to the client.
    pub fn feed(&mut self, bytes: &[u8]) {
        if self.decoder.push(bytes).is_err() {
            return;
        }
        while let Some(item) = self.decoder.next_item() {
            let SseItem::Event(event) = item else {
                continue;
            };
            // Named events are filtered by name so that only the final one is parsed.
            if event
                .event_name()
                .is_some_and(|n| !matches!(n, "response.completed" | "response.incomplete"))
            {
                continue;
            }
            let Ok(value) = serde_json::from_slice::<Value>(&event.data) else {
                continue;
            };
            let kind = value
                .get("type")
                .and_then(Value::as_str)
                .unwrap_or_default();
            if matches!(kind, "response.completed" | "response.incomplete")
                && let Some(response) = value.get("response")
            {
                self.last = Some(response.clone());
            }
        }
    }

    /// The final response object, if the stream delivered one.
    pub fn into_response(self) -> Option<Value> {
        self.last
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn string_and_array_inputs_become_items() {
        let items = input_items(br#"{"model":"m","input":"hi"}"#).unwrap();
        assert_eq!(
            items,
            vec![json!({"type":"message","role":"user","content":"hi"})]
        );
        let items = input_items(br#"{"input":[{"role":"user","content":"a"}]}"#).unwrap();
        assert_eq!(items.len(), 1);
        assert!(input_items(br#"{"input":5}"#).is_err());
    }

    #[test]
    fn expansion_prepends_history_and_drops_the_reference() {
        let body = Bytes::from_static(
            br#"{"model":"m","previous_response_id":"resp_1","input":"and then?"}"#,
        );
        let history = vec![
            json!({"role":"user","content":"first"}),
            json!({"type":"message","role":"assistant","content":[{"type":"output_text","text":"ok"}]}),
        ];
        let out: Value = serde_json::from_slice(&expand(&body, &history).unwrap()).unwrap();
        assert!(out.get("previous_response_id").is_none());
        assert_eq!(out["input"].as_array().unwrap().len(), 3);
        assert_eq!(out["input"][2]["content"], "and then?");
        assert_eq!(out["model"], "m");
    }

    #[test]
    fn conversation_is_input_then_output() {
        let row = StoredResponse {
            id: "resp_1".into(),
            group_id: "g".into(),
            channel_id: 1,
            native: false,
            model: "m".into(),
            input: r#"[{"role":"user","content":"q"}]"#.into(),
            response:
                r#"{"id":"resp_1","output":[{"type":"message","role":"assistant","content":[]}]}"#
                    .into(),
            created_at: 0,
            expires_at: 1,
        };
        let items = conversation(&row);
        assert_eq!(items.len(), 2);
        assert_eq!(items[1]["role"], "assistant");
    }

    #[test]
    fn tap_keeps_the_completed_response_across_chunks() {
        let mut tap = ResponseTap::default();
        tap.feed(b"event: response.created\ndata: {\"type\":\"response.created\",\"response\":{\"id\":\"r\",\"status\":\"in_progress\"}}\n\n");
        tap.feed(b"event: response.completed\ndata: {\"type\":\"response.comp");
        tap.feed(b"leted\",\"response\":{\"id\":\"r\",\"status\":\"completed\"}}\n\n");
        let response = tap.into_response().unwrap();
        assert_eq!(response["status"], "completed");
    }
}
