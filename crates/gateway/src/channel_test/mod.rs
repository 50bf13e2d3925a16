//! Channel tests: send one minimal request for a model through a channel
//! and report whether it answered — the "Model Test" of AI Proxy's admin UI.
//!
//! Off the request path: the admin API ([`crate::admin::channel_tests`]) and
//! the background re-test of banned pairs ([`retest`]) call [`run_test`].
//! A test runs the same attempt the relay would (adaptor, conversion,
//! upstream call, answer inspection) without routing, retries, limits or a
//! log row. The request is chosen by the model's configured type: chat by
//! default, embeddings, Anthropic Messages, Responses, Gemini or legacy
//! completions. Models of other types (images, audio, rerank, …) cannot be
//! tested and are skipped.

pub mod retest;

use std::time::Instant;

use bytes::Bytes;
use futures_util::StreamExt;

use crate::model::channel_test::ChannelTestResult;
use crate::providers::ClientHints;
use crate::relay::attempt::{self, AttemptInput, Success};
use crate::relay::head::{PathParams, parse_head};
use crate::relay::mode::Mode;
use crate::relay::protocol::Protocol;
use crate::snapshot::{ChannelEntry, Snapshot};
use crate::state::AppState;
use crate::store::now_ms;

/// Most bytes of an answer kept in a result.
const MAX_RESPONSE: usize = 4096;
/// Tests run at once by the "test all" endpoints.
pub const CONCURRENCY: usize = 5;

/// The request a test sends for a model, by the model's configured type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TestKind {
    /// Endpoint mode (stored with the result).
    pub mode: Mode,
    /// Protocol of the test request.
    pub protocol: Protocol,
}

/// What to send for `model`, or `None` when its type cannot be tested.
pub fn test_kind(snapshot: &Snapshot, model: &str) -> Option<TestKind> {
    let mode = snapshot
        .model_configs
        .get(model)
        .and_then(|c| Mode::from_id(c.model_type))
        .unwrap_or(Mode::Unknown);
    let (mode, protocol) = match mode {
        Mode::Unknown | Mode::ChatCompletions => (Mode::ChatCompletions, Protocol::Chat),
        Mode::Completions => (Mode::Completions, Protocol::Completions),
        Mode::Embeddings => (Mode::Embeddings, Protocol::Embeddings),
        Mode::Anthropic => (Mode::Anthropic, Protocol::Anthropic),
        Mode::Responses => (Mode::Responses, Protocol::Responses),
        Mode::Gemini => (Mode::Gemini, Protocol::Gemini),
        _ => return None,
    };
    Some(TestKind { mode, protocol })
}

/// The minimal body of a test request.
pub fn test_body(protocol: Protocol, model: &str) -> Bytes {
    let body = match protocol {
        Protocol::Embeddings | Protocol::GeminiEmbed | Protocol::GeminiBatchEmbed => {
            serde_json::json!({"model": model, "input": "hi"})
        }
        Protocol::Completions => serde_json::json!({"model": model, "prompt": "hi"}),
        Protocol::Anthropic => serde_json::json!({
            "model": model, "max_tokens": 16,
            "messages": [{"role": "user", "content": "hi"}],
        }),
        Protocol::Responses => serde_json::json!({"model": model, "input": "hi", "store": false}),
        Protocol::Gemini => {
            serde_json::json!({"contents": [{"role": "user", "parts": [{"text": "hi"}]}]})
        }
        Protocol::Chat => serde_json::json!({
            "model": model, "messages": [{"role": "user", "content": "hi"}],
        }),
    };
    Bytes::from(body.to_string())
}

/// Test `model` on `channel` (which need not be saved). Never fails: a
/// problem is a result with `success: false`.
pub async fn run_test(
    app: &AppState,
    channel: &ChannelEntry,
    model: &str,
    kind: TestKind,
) -> ChannelTestResult {
    let upstream_model = channel.upstream_model(model).to_owned();
    let started = Instant::now();
    let test_at = now_ms();
    let outcome = tokio::time::timeout(
        app.config.channel_test_timeout,
        attempt_once(app, channel, model, &upstream_model, kind),
    )
    .await
    .unwrap_or_else(|_| {
        Err((
            0,
            format!(
                "the test did not finish within {}s",
                app.config.channel_test_timeout.as_secs()
            ),
        ))
    });
    let elapsed = started.elapsed();
    let (success, code, response, error) = match outcome {
        Ok(body) => (true, 200, body, None),
        Err((code, message)) => (false, code, String::new(), Some(message)),
    };
    ChannelTestResult {
        channel_id: channel.channel.id,
        channel_name: channel.channel.name.clone(),
        channel_type: channel.channel.channel_type,
        model: model.to_owned(),
        actual_model: upstream_model,
        mode: kind.mode.id(),
        test_at,
        took: elapsed.as_secs_f64(),
        duration_ms: i64::try_from(elapsed.as_millis()).unwrap_or(i64::MAX),
        success,
        code,
        response: error.clone().unwrap_or(response),
        error,
    }
}

/// One attempt: the answer text on success, `(status, message)` on failure.
async fn attempt_once(
    app: &AppState,
    channel: &ChannelEntry,
    model: &str,
    upstream_model: &str,
    kind: TestKind,
) -> Result<String, (i64, String)> {
    let body = test_body(kind.protocol, model);
    let path = PathParams {
        model: (kind.protocol == Protocol::Gemini).then(|| model.to_owned()),
        stream: false,
    };
    let head = parse_head(kind.protocol, &body, &path).map_err(|e| (400, e.message.clone()))?;
    let hints = ClientHints::default();
    let input = AttemptInput {
        app,
        mode: kind.mode,
        client: kind.protocol,
        head: &head,
        body: &body,
        hints: &hints,
        ttfb: app.config.channel_test_timeout,
        continuation: None,
        think_split: false,
    };
    let (result, _) = attempt::run(&input, channel, upstream_model).await;
    match result {
        Ok(Success::Full { body, .. }) => Ok(truncate(&body)),
        Ok(Success::Stream { pending, rest, .. }) => {
            let mut text = truncate(&pending);
            if let Some(mut rest) = rest
                && text.len() < MAX_RESPONSE
                && let Some(Ok(chunk)) = rest.next().await
            {
                text.push_str(&truncate(&chunk));
            }
            Ok(text)
        }
        Err(failure) => {
            let message = if failure.message.is_empty() {
                "the upstream failed".to_owned()
            } else {
                failure.message.clone()
            };
            let message = match failure.status {
                Some(status) => format!("upstream answered {}: {message}", status.as_u16()),
                None => message,
            };
            Err((failure.code(), message))
        }
    }
}

fn truncate(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(&bytes[..bytes.len().min(MAX_RESPONSE)]);
    text.into_owned()
}

/// Test, store the result for a saved channel, and update the monitor:
/// success lifts a ban on the pair; failure stamps `last_test_error_at`.
pub async fn test_and_store(
    app: &AppState,
    channel: &ChannelEntry,
    model: &str,
    kind: TestKind,
) -> ChannelTestResult {
    let result = run_test(app, channel, model, kind).await;
    if channel.channel.id > 0 {
        if let Err(e) = app.store.save_channel_test(&result).await {
            tracing::warn!(error = %e, channel = channel.channel.id, model, "could not store the channel test");
        }
        if result.success {
            app.monitor.unban(channel.channel.id, model);
        } else if let Err(e) = app
            .store
            .set_last_test_error(channel.channel.id, result.test_at)
            .await
        {
            tracing::warn!(error = %e, "could not stamp last_test_error_at");
        }
    }
    result
}

/// The models a channel test covers: those the channel lists (or its type's
/// default models), each with its test kind; untestable types are left out.
pub fn testable_models(snapshot: &Snapshot, channel: &ChannelEntry) -> Vec<(String, TestKind)> {
    let listed = if channel.channel.models.is_empty() {
        channel.models.clone()
    } else {
        channel.channel.models.clone()
    };
    listed
        .into_iter()
        .filter(|m| {
            snapshot
                .model_configs
                .get(m)
                .is_none_or(|c| !c.exclude_from_tests)
        })
        .filter_map(|m| test_kind(snapshot, &m).map(|k| (m, k)))
        .collect()
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::model::model_config::ModelConfig;

    fn snapshot(models: &[(&str, i64)]) -> Snapshot {
        let mut s = Snapshot::default();
        for (model, mode) in models {
            let mut config = ModelConfig::empty(model, 0);
            config.model_type = *mode;
            s.model_configs
                .insert((*model).to_owned(), Arc::new(config));
        }
        s
    }

    #[test]
    fn kind_follows_the_model_type() {
        let s = snapshot(&[("e", 3), ("a", 12), ("img", 5), ("any", 0)]);
        assert_eq!(test_kind(&s, "e").unwrap().protocol, Protocol::Embeddings);
        assert_eq!(test_kind(&s, "a").unwrap().protocol, Protocol::Anthropic);
        assert_eq!(test_kind(&s, "any").unwrap().protocol, Protocol::Chat);
        assert_eq!(
            test_kind(&s, "unconfigured").unwrap().mode,
            Mode::ChatCompletions
        );
        assert!(test_kind(&s, "img").is_none());
    }

    #[test]
    fn every_test_body_passes_request_checks() {
        for protocol in [
            Protocol::Chat,
            Protocol::Completions,
            Protocol::Embeddings,
            Protocol::Anthropic,
            Protocol::Responses,
            Protocol::Gemini,
        ] {
            let path = PathParams {
                model: (protocol == Protocol::Gemini).then(|| "m".to_owned()),
                stream: false,
            };
            let head = parse_head(protocol, &test_body(protocol, "m"), &path)
                .unwrap_or_else(|e| panic!("{protocol:?}: {}", e.message));
            assert_eq!(head.model, "m");
            assert!(!head.stream);
        }
    }
}
