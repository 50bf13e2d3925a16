//! The hermetic channel types: `fake` (53) synthesises OpenAI answers from
//! the channel's `configs`, `fake-error` (55) always fails. They produce an
//! [`UpstreamResponse`] like a real upstream, so the whole relay pipeline
//! (usage, streaming, logs, retries) runs without any network.

use std::time::Duration;

use base64::Engine;
use bytes::{Bytes, BytesMut};
use futures_util::stream;
use http::{HeaderMap, HeaderValue, StatusCode};
use serde::Deserialize;
use serde_json::{Value, json};
use switchyard_protocol::sse::encode_event;
use switchyard_protocol::tokens;

use crate::relay::mode::Mode;
use crate::relay::upstream::{BodyStream, UpstreamError, UpstreamResponse};

/// `configs` of a fake channel.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct FakeConfig {
    /// Answer text (default: a fixed greeting).
    pub static_text: String,
    /// Prepended to the answer.
    pub response_prefix: String,
    /// Appended to the answer.
    pub response_suffix: String,
    /// Streamed as `reasoning_content` before the answer.
    pub reasoning_text: String,
    /// Delay before the response headers (ms).
    pub delay_ms: u64,
    /// Delay between stream chunks (ms).
    pub chunk_delay_ms: u64,
    /// Number of content chunks (0: use `stream_chunk_size`).
    pub stream_chunks: usize,
    /// Characters per content chunk (default 4).
    pub stream_chunk_size: usize,
    /// Reported usage; zero fields are counted from the request and answer.
    pub usage: FakeUsage,
    /// Embedding settings.
    pub embedding: FakeEmbedding,
    /// Omit `usage` from responses (to exercise the gateway's estimation).
    pub omit_usage: bool,
    /// fake-error: status (default 400).
    pub error_status_code: u16,
    /// fake-error: message.
    pub error_message: String,
    /// fake-error: code.
    pub error_code: String,
}

/// Usage numbers a fake channel reports.
#[derive(Debug, Clone, Copy, Default, Deserialize)]
#[serde(default)]
pub struct FakeUsage {
    /// Prompt tokens.
    pub input_tokens: i64,
    /// Completion tokens.
    pub output_tokens: i64,
    /// Cached prompt tokens.
    pub cached_tokens: i64,
    /// Reasoning tokens.
    pub reasoning_tokens: i64,
}

/// Embedding settings.
#[derive(Debug, Clone, Copy, Default, Deserialize)]
#[serde(default)]
pub struct FakeEmbedding {
    /// Vector length (default 8).
    pub dimensions: usize,
}

const DEFAULT_TEXT: &str = "Hello! This is a fake response from Switchyard.";

impl FakeConfig {
    /// Parse a channel's configs leniently: each field that is missing or of
    /// the wrong type falls back to its default on its own.
    pub fn from_configs(configs: &serde_json::Map<String, Value>) -> Self {
        let mut usable = serde_json::Map::new();
        for (key, value) in configs {
            let single = Value::Object(std::iter::once((key.clone(), value.clone())).collect());
            if serde_json::from_value::<Self>(single).is_ok() {
                usable.insert(key.clone(), value.clone());
            }
        }
        serde_json::from_value(Value::Object(usable)).unwrap_or_default()
    }

    fn answer(&self) -> String {
        let text = if self.static_text.is_empty() {
            DEFAULT_TEXT
        } else {
            &self.static_text
        };
        format!("{}{}{}", self.response_prefix, text, self.response_suffix)
    }
}

fn json_response(status: StatusCode, body: Value) -> UpstreamResponse {
    let mut headers = HeaderMap::new();
    headers.insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    let bytes = Bytes::from(body.to_string());
    UpstreamResponse {
        status,
        headers,
        body: Box::pin(stream::iter([Ok::<_, UpstreamError>(bytes)])),
    }
}

/// The fake-error channel's answer.
pub fn error_response(config: &FakeConfig) -> UpstreamResponse {
    let status = StatusCode::from_u16(config.error_status_code).unwrap_or(StatusCode::BAD_REQUEST);
    let status = if status.is_success() {
        StatusCode::BAD_REQUEST
    } else {
        status
    };
    let message = if config.error_message.is_empty() {
        "fake error"
    } else {
        &config.error_message
    };
    let code = if config.error_code.is_empty() {
        "fake_error"
    } else {
        &config.error_code
    };
    json_response(
        status,
        json!({"error": {"message": message, "type": "fake_error", "code": code}}),
    )
}

fn usage_json(config: &FakeConfig, prompt: i64, completion: i64) -> Value {
    let input = if config.usage.input_tokens > 0 {
        config.usage.input_tokens
    } else {
        prompt
    };
    let output = if config.usage.output_tokens > 0 {
        config.usage.output_tokens
    } else {
        completion
    };
    json!({
        "prompt_tokens": input,
        "completion_tokens": output,
        "total_tokens": input + output,
        "prompt_tokens_details": {"cached_tokens": config.usage.cached_tokens},
        "completion_tokens_details": {"reasoning_tokens": config.usage.reasoning_tokens},
    })
}

fn prompt_tokens(mode: Mode, body: &[u8]) -> i64 {
    match mode {
        Mode::ChatCompletions => tokens::count_chat_prompt(body).unwrap_or(0),
        _ => serde_json::from_slice::<Value>(body)
            .ok()
            .map(|v| {
                tokens::count_input_value(
                    v.get(if mode == Mode::Embeddings {
                        "input"
                    } else {
                        "prompt"
                    })
                    .unwrap_or(&Value::Null),
                )
            })
            .unwrap_or(0),
    }
}

/// The fake channel's answer to an OpenAI request `body` (already patched for upstream).
pub async fn respond(
    config: &FakeConfig,
    mode: Mode,
    model: &str,
    stream: bool,
    body: &[u8],
) -> UpstreamResponse {
    if config.delay_ms > 0 {
        tokio::time::sleep(Duration::from_millis(config.delay_ms)).await;
    }
    let prompt = prompt_tokens(mode, body);
    if mode == Mode::Embeddings {
        return embeddings(config, model, body, prompt);
    }
    let answer = config.answer();
    let completion = tokens::count_text(&answer) + tokens::count_text(&config.reasoning_text);
    let usage = (!config.omit_usage).then(|| usage_json(config, prompt, completion));
    let id = format!("fake-{}", uuid::Uuid::now_v7().simple());
    if stream {
        return stream_response(config, mode, model, &id, &answer, usage);
    }
    let mut body = match mode {
        Mode::Completions => json!({
            "id": id, "object": "text_completion", "created": 0, "model": model,
            "choices": [{"index": 0, "text": answer, "finish_reason": "stop"}],
        }),
        _ => {
            let mut message = json!({"role": "assistant", "content": answer});
            if !config.reasoning_text.is_empty() {
                message["reasoning_content"] = Value::String(config.reasoning_text.clone());
            }
            json!({
                "id": id, "object": "chat.completion", "created": 0, "model": model,
                "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
            })
        }
    };
    if let Some(usage) = usage {
        body["usage"] = usage;
    }
    json_response(StatusCode::OK, body)
}

fn embeddings(config: &FakeConfig, model: &str, body: &[u8], prompt: i64) -> UpstreamResponse {
    let request: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let inputs = match request.get("input") {
        Some(Value::Array(items)) => items.len(),
        _ => 1,
    };
    let base64 = request.get("encoding_format").and_then(Value::as_str) == Some("base64");
    let dims = if config.embedding.dimensions == 0 {
        8
    } else {
        config.embedding.dimensions
    };
    let data: Vec<Value> = (0..inputs)
        .map(|i| {
            let vector: Vec<f32> = (0..dims)
                .map(|d| ((i + 1) * (d + 1)) as f32 / dims as f32)
                .collect();
            let embedding = if base64 {
                let bytes: Vec<u8> = vector.iter().flat_map(|f| f.to_le_bytes()).collect();
                Value::String(base64::engine::general_purpose::STANDARD.encode(bytes))
            } else {
                json!(vector)
            };
            json!({"object": "embedding", "index": i, "embedding": embedding})
        })
        .collect();
    let input = if config.usage.input_tokens > 0 {
        config.usage.input_tokens
    } else {
        prompt
    };
    let mut out = json!({"object": "list", "data": data, "model": model});
    if !config.omit_usage {
        out["usage"] = json!({"prompt_tokens": input, "total_tokens": input});
    }
    json_response(StatusCode::OK, out)
}

fn split_text(text: &str, config: &FakeConfig) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    if chars.is_empty() {
        return Vec::new();
    }
    let size = if config.stream_chunks > 0 {
        chars.len().div_ceil(config.stream_chunks)
    } else if config.stream_chunk_size > 0 {
        config.stream_chunk_size
    } else {
        4
    };
    chars
        .chunks(size.max(1))
        .map(|c| c.iter().collect())
        .collect()
}

fn stream_response(
    config: &FakeConfig,
    mode: Mode,
    model: &str,
    id: &str,
    answer: &str,
    usage: Option<Value>,
) -> UpstreamResponse {
    let chunk = |choices: Value| {
        let object = if mode == Mode::Completions {
            "text_completion"
        } else {
            "chat.completion.chunk"
        };
        json!({"id": id, "object": object, "created": 0, "model": model, "choices": choices})
    };
    let mut events: Vec<Value> = Vec::new();
    if mode == Mode::Completions {
        for piece in split_text(answer, config) {
            events.push(chunk(
                json!([{"index": 0, "text": piece, "finish_reason": null}]),
            ));
        }
        events.push(chunk(
            json!([{"index": 0, "text": "", "finish_reason": "stop"}]),
        ));
    } else {
        events.push(chunk(json!([{"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": null}])));
        for piece in split_text(&config.reasoning_text, config) {
            events.push(chunk(
                json!([{"index": 0, "delta": {"reasoning_content": piece}, "finish_reason": null}]),
            ));
        }
        for piece in split_text(answer, config) {
            events.push(chunk(
                json!([{"index": 0, "delta": {"content": piece}, "finish_reason": null}]),
            ));
        }
        events.push(chunk(
            json!([{"index": 0, "delta": {}, "finish_reason": "stop"}]),
        ));
    }
    if let Some(usage) = usage {
        let mut last = chunk(json!([]));
        last["usage"] = usage;
        events.push(last);
    }
    let mut frames: Vec<Bytes> = events
        .iter()
        .map(|e| {
            let mut out = BytesMut::new();
            encode_event(&mut out, None, e.to_string().as_bytes());
            out.freeze()
        })
        .collect();
    frames.push(Bytes::from_static(b"data: [DONE]\n\n"));
    let delay = Duration::from_millis(config.chunk_delay_ms);
    let body: BodyStream = Box::pin(stream::unfold(
        (frames.into_iter(), true),
        move |(mut it, first)| async move {
            let frame = it.next()?;
            if !first && !delay.is_zero() {
                tokio::time::sleep(delay).await;
            }
            Some((Ok(frame), (it, false)))
        },
    ));
    let mut headers = HeaderMap::new();
    headers.insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("text/event-stream"),
    );
    UpstreamResponse {
        status: StatusCode::OK,
        headers,
        body,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_by_count_and_size() {
        let c = FakeConfig {
            stream_chunks: 3,
            ..FakeConfig::default()
        };
        assert_eq!(split_text("abcdefg", &c), vec!["abc", "def", "g"]);
        let c = FakeConfig::default();
        assert_eq!(split_text("abcdef", &c), vec!["abcd", "ef"]);
    }

    #[test]
    fn configs_parse_leniently() {
        let m = serde_json::from_str(r#"{"static_text":"x","usage":{"input_tokens":5},"junk":1}"#)
            .unwrap();
        let c = FakeConfig::from_configs(&m);
        assert_eq!(c.static_text, "x");
        assert_eq!(c.usage.input_tokens, 5);
    }
}
