//! One upstream attempt: build the target, send the (patched) body, and
//! classify the answer. A streamed answer is read until its first output
//! event before it is committed, so an upstream that fails early can still
//! be retried on another channel. AWS Bedrock and Vertex AI, which sign or
//! authorize each request themselves, are sent by its `bedrock` and `vertex` modules.

mod bedrock;
mod vertex;

use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use futures_util::StreamExt;
use http::{HeaderValue, StatusCode};
use switchyard_protocol::Usage;
use switchyard_protocol::convert::error_body_to_ir;
use switchyard_protocol::json::scan_object;

use super::head::RequestHead;
use super::media;
use super::mode::Mode;
use super::processor::{Continuation, ProcessorOptions, StreamProcessor, processor};
use super::protocol::Protocol;
use super::think_split::{ThinkSplitStream, split_answer};
use super::translate::{self, AnswerContext, TranslateError, UpstreamOptions};
use super::upstream::{BodyStream, UpstreamClient, UpstreamError, UpstreamResponse, post_json};
use crate::model::channel::Channel;
use crate::providers::{self, Adaptor, ClientHints, TargetRequest, fake};
use crate::snapshot::ChannelEntry;
use crate::state::AppState;

/// Largest upstream error body read.
const MAX_ERROR_BODY: usize = 1024 * 1024;

/// How a failed attempt affects the retry loop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureClass {
    /// The request itself is bad (400/413/422/451): answer the client, do not retry.
    Client,
    /// The channel cannot serve (401/402/403/404, misconfiguration): exclude it without using a retry.
    NoPermission,
    /// Transient (429, 5xx, transport, timeout): retry elsewhere.
    Retryable,
}

impl FailureClass {
    /// Classify an upstream status.
    pub fn of(status: StatusCode) -> Self {
        match status.as_u16() {
            400 | 413 | 422 | 451 => Self::Client,
            401..=404 => Self::NoPermission,
            _ => Self::Retryable,
        }
    }
}

/// A failed attempt.
#[derive(Debug, Clone)]
pub struct Failure {
    /// Upstream status; `None` for transport errors and timeouts.
    pub status: Option<StatusCode>,
    /// What went wrong.
    pub message: String,
    /// The upstream's machine-readable error code, if it sent one.
    pub code: Option<String>,
    /// Raw upstream body (for the log detail).
    pub body: Bytes,
    /// `Retry-After` from the upstream.
    pub retry_after: Option<Box<HeaderValue>>,
    /// The time-to-first-byte timeout expired.
    pub timed_out: bool,
    /// Retry consequence.
    pub class: FailureClass,
}

impl Failure {
    fn transport(error: &UpstreamError) -> Self {
        Self {
            status: None,
            message: error.to_string(),
            code: None,
            body: Bytes::new(),
            retry_after: None,
            timed_out: matches!(error, UpstreamError::Timeout(_) | UpstreamError::Idle(_)),
            class: FailureClass::Retryable,
        }
    }

    /// A stream that failed before any output (retryable elsewhere).
    pub fn stream(message: String) -> Self {
        Self {
            status: None,
            message,
            code: None,
            body: Bytes::new(),
            retry_after: None,
            timed_out: false,
            class: FailureClass::Retryable,
        }
    }

    /// A transport-level failure (connection, body, timeout).
    pub fn from_upstream(error: &UpstreamError) -> Self {
        Self::transport(error)
    }

    fn misconfigured(message: String) -> Self {
        Self {
            status: None,
            message,
            code: None,
            body: Bytes::new(),
            retry_after: None,
            timed_out: false,
            class: FailureClass::NoPermission,
        }
    }

    /// The client's request cannot be sent (it cannot be converted or
    /// patched for the upstream): a 400, not retried.
    fn client(message: String) -> Self {
        Self {
            status: Some(StatusCode::BAD_REQUEST),
            message,
            code: Some("invalid_request".to_owned()),
            body: Bytes::new(),
            retry_after: None,
            timed_out: false,
            class: FailureClass::Client,
        }
    }

    /// An upstream answered 200 with only an error object: retryable.
    fn error_with_200(body: Bytes, message: &str) -> Self {
        Self {
            status: None,
            message: format!("upstream returned an error with status 200: {message}"),
            code: None,
            body,
            retry_after: None,
            timed_out: false,
            class: FailureClass::Retryable,
        }
    }

    fn from_status(status: StatusCode, body: Bytes, retry_after: Option<HeaderValue>) -> Self {
        let error = error_body_to_ir(status.as_u16(), &body);
        Self {
            status: Some(status),
            message: error.message.chars().take(512).collect(),
            code: error.code,
            body,
            retry_after: retry_after.map(Box::new),
            timed_out: false,
            class: FailureClass::of(status),
        }
    }

    /// The status recorded for this attempt (0 for transport errors).
    pub fn code(&self) -> i64 {
        self.status.map_or(0, |s| i64::from(s.as_u16()))
    }
}

/// A successful attempt.
pub enum Success {
    /// A complete JSON body.
    Full {
        /// Body for the client (model rewritten, converted if needed).
        body: Bytes,
        /// Content type to answer with.
        content_type: HeaderValue,
        /// Reported usage.
        usage: Option<Usage>,
        /// Upstream id.
        upstream_id: String,
    },
    /// A stream primed up to the point where it can be committed.
    Stream {
        /// The rest of the upstream body (`None` when it already ended).
        rest: Option<BodyStream>,
        /// The processor, after the primed events.
        processor: Box<dyn StreamProcessor>,
        /// Encoded events ready for the client.
        pending: BytesMut,
    },
}

/// Everything an attempt needs from the request.
pub struct AttemptInput<'a> {
    /// Services.
    pub app: &'a AppState,
    /// Relay mode of the client's endpoint.
    pub mode: Mode,
    /// Protocol the client speaks.
    pub client: Protocol,
    /// Request head.
    pub head: &'a RequestHead,
    /// Client body.
    pub body: &'a Bytes,
    /// Client headers passed on to some upstreams.
    pub hints: &'a ClientHints,
    /// Time to the first upstream byte.
    pub ttfb: Duration,
    /// Set when this attempt continues a stream the client already receives.
    pub continuation: Option<&'a Continuation>,
    /// Split `<think>` blocks into reasoning: the model's think-split plugin
    /// is on and the client speaks OpenAI Chat.
    pub think_split: bool,
}

impl AttemptInput<'_> {
    /// The client an upstream request on `channel` goes out on (by its
    /// proxy and TLS settings).
    fn upstream_client(&self, channel: &Channel) -> Result<UpstreamClient, Failure> {
        self.app
            .http
            .upstream(&channel.proxy_url, channel.skip_tls_verify)
            .map_err(|e| Failure::misconfigured(e.to_string()))
    }
}

/// What came back from the upstream before the gateway inspects it.
enum Exchanged {
    /// A whole JSON (or other) body.
    Body(Bytes, HeaderValue),
    /// A primed stream.
    Stream(Success),
}

/// Run one attempt on `channel`. Also returns the time spent on the
/// upstream exchange itself (send, wait, read or prime), which the
/// gateway-overhead figure subtracts.
pub async fn run(
    input: &AttemptInput<'_>,
    channel: &ChannelEntry,
    upstream_model: &str,
) -> (Result<Success, Failure>, Duration) {
    let Some(upstream) =
        providers::upstream_protocol_for_model(channel.info, input.client, upstream_model)
    else {
        let message = format!("channel {} cannot serve this endpoint", channel.channel.id);
        return (Err(Failure::misconfigured(message)), Duration::ZERO);
    };
    let upstream_body = match request_body(input, upstream, upstream_model).await {
        Ok(body) => body,
        Err(failure) => return (Err(failure), Duration::ZERO),
    };
    let started = Instant::now();
    let exchanged = exchange(input, channel, upstream, upstream_model, upstream_body).await;
    let spent = started.elapsed();
    let result = exchanged.and_then(|e| match e {
        Exchanged::Body(body, content_type) => answer(input, upstream, body, content_type),
        Exchanged::Stream(success) => Ok(success),
    });
    (result, spent)
}

/// The body sent upstream: the client's bytes patched when the protocols
/// match, a conversion otherwise (with remote media inlined for upstreams
/// that cannot fetch URLs).
async fn request_body(
    input: &AttemptInput<'_>,
    upstream: Protocol,
    upstream_model: &str,
) -> Result<Bytes, Failure> {
    let translated = if input.client == upstream {
        translate::request::same_protocol_body(upstream, input.head, input.body, upstream_model)
    } else if input.client.is_embedding() {
        translate::embed::request_body(input.client, upstream, input.body, upstream_model)
    } else {
        let mut request =
            translate::decode_request(input.client, input.body, input.head, upstream_model)
                .map_err(translate_failure)?;
        if upstream == Protocol::Gemini {
            media::inline_remote_media(&mut request, &input.app.media)
                .await
                .map_err(|e| Failure::client(e.to_string()))?;
        }
        translate::encode_request(upstream, &request, &UpstreamOptions::default())
    };
    translated.map_err(translate_failure)
}

fn translate_failure(error: TranslateError) -> Failure {
    match error {
        e @ TranslateError::Unsupported { .. } => Failure::misconfigured(e.to_string()),
        e @ TranslateError::Response(_) => {
            let mut failure = Failure::stream(e.to_string());
            failure.class = FailureClass::Retryable;
            failure
        }
        e => Failure::client(e.to_string()),
    }
}

/// A whole answer for the client: inspected in place when both sides speak
/// the same protocol, converted otherwise.
fn answer(
    input: &AttemptInput<'_>,
    upstream: Protocol,
    body: Bytes,
    content_type: HeaderValue,
) -> Result<Success, Failure> {
    let ctx = AnswerContext {
        requested_model: &input.head.model,
        created: crate::store::now_secs(),
        embedding_base64: input.client == Protocol::Embeddings
            && upstream != Protocol::Embeddings
            && asks_for_base64(input.body),
    };
    let content_type = if input.client == upstream {
        content_type
    } else {
        HeaderValue::from_static("application/json")
    };
    match translate::convert_answer(input.client, upstream, body.clone(), &ctx) {
        Ok(Ok(answer)) => Ok(Success::Full {
            body: if input.think_split {
                split_answer(&answer.body)
            } else {
                answer.body
            },
            content_type,
            usage: answer.usage,
            upstream_id: answer.upstream_id,
        }),
        Ok(Err(message)) => Err(Failure::error_with_200(body, &message)),
        Err(e) => {
            let mut failure = translate_failure(e);
            failure.body = body;
            Err(failure)
        }
    }
}

/// An OpenAI embeddings request asked for `encoding_format: "base64"`.
fn asks_for_base64(body: &[u8]) -> bool {
    scan_object(body).ok().is_some_and(|scan| {
        scan.get(body, "encoding_format")
            .and_then(|v| v.read_str(body).ok())
            .is_some_and(|f| f == "base64")
    })
}

/// An upstream error body with the channel's key masked (it reaches the
/// client message, the log row and the process log).
fn redacted(body: Bytes, key: &str) -> Bytes {
    match std::str::from_utf8(&body)
        .ok()
        .and_then(|text| crate::secrets::redact(text, key))
    {
        Some(masked) => Bytes::from(masked),
        None => body,
    }
}

async fn exchange(
    input: &AttemptInput<'_>,
    channel: &ChannelEntry,
    upstream: Protocol,
    upstream_model: &str,
    upstream_body: Bytes,
) -> Result<Exchanged, Failure> {
    let response = send(input, channel, upstream, upstream_model, upstream_body).await?;
    if !response.status.is_success() {
        let status = response.status;
        let retry_after = response.headers.get(http::header::RETRY_AFTER).cloned();
        let idle = input.app.config.stream_idle_timeout;
        let body = response
            .read_all(MAX_ERROR_BODY, idle)
            .await
            .unwrap_or_default();
        let body = redacted(body, &channel.channel.key);
        tracing::debug!(channel = channel.channel.id, %status, body = %String::from_utf8_lossy(&body), "upstream error");
        return Err(Failure::from_status(status, body, retry_after));
    }
    if input.head.stream && response.is_event_stream() {
        let idle = input.app.config.stream_idle_timeout;
        let opts = ProcessorOptions {
            requested_model: input.head.model.clone(),
            client_include_usage: input.head.client_include_usage,
            continuation: input.continuation.cloned(),
            created: crate::store::now_secs(),
            estimated_input_tokens: Some(switchyard_protocol::tokens::estimate_from_bytes(
                input.body.len(),
            )),
        };
        let mut processor = processor(input.client, upstream, &opts);
        if input.think_split {
            processor = Box::new(ThinkSplitStream::new(processor));
        }
        return prime_stream(response, processor, idle)
            .await
            .map(Exchanged::Stream);
    }
    let content_type = response
        .headers
        .get(http::header::CONTENT_TYPE)
        .cloned()
        .unwrap_or_else(|| HeaderValue::from_static("application/json"));
    let body = response
        .read_all(
            input.app.config.max_response_body_size,
            input.app.config.stream_idle_timeout,
        )
        .await
        .map_err(|e| Failure::transport(&e))?;
    Ok(Exchanged::Body(body, content_type))
}

async fn send(
    input: &AttemptInput<'_>,
    channel: &ChannelEntry,
    upstream: Protocol,
    upstream_model: &str,
    body: Bytes,
) -> Result<UpstreamResponse, Failure> {
    match channel.info.adaptor {
        Adaptor::Fake => {
            let config = fake::FakeConfig::from_configs(&channel.channel.configs);
            let respond = fake::respond(
                &config,
                upstream.upstream_mode(),
                upstream_model,
                input.head.stream,
                &body,
            );
            tokio::time::timeout(input.ttfb, respond)
                .await
                .map_err(|_| Failure::transport(&UpstreamError::Timeout(input.ttfb)))
        }
        Adaptor::FakeError => Ok(fake::error_response(&fake::FakeConfig::from_configs(
            &channel.channel.configs,
        ))),
        Adaptor::Bedrock => bedrock::send(input, channel, upstream_model, &body).await,
        Adaptor::Vertex => vertex::send(input, channel, upstream, upstream_model, body).await,
        Adaptor::OpenAi { .. } | Adaptor::Azure { .. } | Adaptor::Anthropic | Adaptor::Gemini => {
            let request = TargetRequest {
                protocol: upstream,
                upstream_model,
                stream: input.head.stream,
                hints: input.hints,
            };
            let target = providers::target(&channel.channel, &request)
                .map_err(|e| Failure::misconfigured(e.to_string()))?;
            let client = input.upstream_client(&channel.channel)?;
            post_json(&client, &target, body, input.head.stream, input.ttfb)
                .await
                .map_err(|e| Failure::transport(&e))
        }
    }
}

/// Read a stream until the processor may commit it (its first client event
/// when forwarding, its first output when converting or continuing), so
/// that a failure before that point is still retryable.
async fn prime_stream(
    response: UpstreamResponse,
    mut processor: Box<dyn StreamProcessor>,
    idle: Duration,
) -> Result<Success, Failure> {
    let mut body = response.body;
    let mut pending = BytesMut::new();
    let mut ended = false;
    while !processor.ready() && processor.progress().upstream_error.is_none() {
        match tokio::time::timeout(idle, body.next()).await {
            Err(_) => return Err(Failure::transport(&UpstreamError::Idle(idle))),
            Ok(None) => {
                processor.finish(&mut pending);
                ended = true;
                break;
            }
            Ok(Some(Err(e))) => return Err(Failure::transport(&e)),
            Ok(Some(Ok(chunk))) => processor
                .feed(&chunk, &mut pending)
                .map_err(|e| Failure::transport(&UpstreamError::Body(e.to_string())))?,
        }
    }
    let progress = processor.progress();
    let message = match &progress.upstream_error {
        Some(m) if !progress.saw_output => Some(format!("upstream stream error: {m}")),
        _ if ended && !progress.saw_output && !progress.saw_end => {
            Some("upstream stream ended before any output".to_owned())
        }
        _ => None,
    };
    if let Some(message) = message {
        return Err(Failure::stream(message));
    }
    Ok(Success::Stream {
        rest: (!ended).then_some(body),
        processor,
        pending,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classification() {
        assert_eq!(
            FailureClass::of(StatusCode::BAD_REQUEST),
            FailureClass::Client
        );
        assert_eq!(
            FailureClass::of(StatusCode::UNAUTHORIZED),
            FailureClass::NoPermission
        );
        assert_eq!(
            FailureClass::of(StatusCode::NOT_FOUND),
            FailureClass::NoPermission
        );
        assert_eq!(
            FailureClass::of(StatusCode::TOO_MANY_REQUESTS),
            FailureClass::Retryable
        );
        assert_eq!(
            FailureClass::of(StatusCode::INTERNAL_SERVER_ERROR),
            FailureClass::Retryable
        );
    }

    #[test]
    fn error_with_200_is_a_retryable_failure() {
        let f = Failure::error_with_200(Bytes::from_static(b"{}"), "quota");
        assert_eq!(f.class, FailureClass::Retryable);
        assert!(f.message.contains("quota"));
    }

    #[test]
    fn base64_embeddings_are_detected() {
        assert!(asks_for_base64(
            br#"{"input":"a","encoding_format":"base64"}"#
        ));
        assert!(!asks_for_base64(
            br#"{"input":"a","encoding_format":"float"}"#
        ));
        assert!(!asks_for_base64(b"not json"));
    }

    #[test]
    fn upstream_error_message_is_extracted() {
        let f = Failure::from_status(
            StatusCode::BAD_REQUEST,
            Bytes::from_static(
                br#"{"error":{"message":"bad temp","type":"invalid_request_error"}}"#,
            ),
            None,
        );
        assert_eq!(f.message, "bad temp");
        let f = Failure::from_status(
            StatusCode::BAD_GATEWAY,
            Bytes::from_static(b"<html>oops</html>"),
            None,
        );
        assert_eq!(f.message, "<html>oops</html>");
    }
}
