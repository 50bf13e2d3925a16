//! The relay: from an authenticated request to the upstream's answer.
//!
//! [`relay`] runs each request so that a client that goes away cannot cancel
//! the accounting of an upstream call already made: in the connection's
//! task while the client waits, in a task of its own if it leaves
//! ([`detach`]). The steps:
//! read the head of the body, resolve the model (allow-list, model config,
//! endpoint type), gather candidate channels in the caller's sets, then try
//! channels — retrying on transient failures, excluding channels that refuse
//! — and deliver the answer (whole, or streamed event by event), logging the
//! request exactly once.

pub mod accounting;
pub mod admit;
pub mod anthropic_stream;
pub mod attempt;
pub mod attempts;
pub mod complete;
pub mod converting;
pub mod detach;
pub mod events;
pub mod failure;
pub mod head;
pub mod media;
pub mod mode;
pub mod passthrough;
pub mod processor;
pub mod protocol;
pub mod sent;
pub mod stored;
pub mod stream;
pub mod think_split;
pub mod translate;
pub mod upstream;

use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::{Duration, Instant};

use self::attempt::Success;
use self::attempts::{AttemptLoop, Finished, LoopRequest};
use self::complete::{LogContext, Outcome};
use self::detach::Detachable;
use self::head::{PathParams, RequestHead, parse_head};
use self::mode::Mode;
use self::protocol::Protocol;
use self::stored::StoreIntent;
use self::stream::{Finisher, StreamRelay};
use crate::auth::Principal;
use crate::error::{ApiError, X_REQUEST_ID};
use crate::logs::record::LogRecord;
use crate::model::model_config::EffectiveModelSettings;
use crate::providers::{self, ClientHints};
use crate::snapshot::{ChannelEntry, Snapshot};
use crate::state::AppState;
use crate::telemetry::{self, Timing};
use axum::body::Body;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use futures_util::FutureExt;
use http::{HeaderName, HeaderValue, StatusCode};

const SERVER_TIMING: HeaderName = HeaderName::from_static("server-timing");
const X_ACCEL_BUFFERING: HeaderName = HeaderName::from_static("x-accel-buffering");
/// Headers an answer usually carries (content type, server timing, request
/// id, six rate-limit headers, CORS): reserved at once instead of growing
/// the map twice.
const ANSWER_HEADERS: usize = 12;

/// An authenticated relay request.
#[derive(Debug)]
pub struct RelayRequest {
    /// Endpoint kind (the log's `mode`, the model config's endpoint check).
    pub mode: Mode,
    /// Protocol the client speaks.
    pub protocol: Protocol,
    /// What the URL says (Gemini's model and stream flag).
    pub path: PathParams,
    /// Request path (moved into the log row when the relay starts).
    pub endpoint: String,
    /// Raw body.
    pub body: Bytes,
    /// Caller.
    pub principal: Principal,
    /// `Aiproxy-Channel` header value.
    pub pinned_channel: Option<i64>,
    /// Unique request id (moved into the log row when the relay starts).
    pub request_id: String,
    /// Arrival.
    pub received: Instant,
    /// Arrival (ms since epoch).
    pub received_ms: i64,
    /// Client IP (moved into the log row when the relay starts).
    pub ip: String,
    /// Client headers some upstreams need passed on.
    pub hints: ClientHints,
    /// The channel that must serve it (it holds the previous Responses-API response).
    pub sticky_channel: Option<i64>,
    /// Store the Responses-API answer.
    pub store: Option<StoreIntent>,
}

/// Relay one request; always answers (errors in the client's shape).
///
/// The relay runs in the caller's task and, should the caller drop it (the
/// client hung up), finishes in a task of its own ([`detach`]). A panic in
/// it is answered with a 500 in the client's shape.
pub async fn relay(app: AppState, request: RelayRequest) -> Response {
    // The answer's `X-Request-Id`, made before the request moves into the
    // relay (which takes the id for its log row).
    let request_id = HeaderValue::from_str(&request.request_id).ok();
    let dialect = request.protocol.dialect();
    // Boxed: the relay future is several KB, and a box can move to a task.
    let relay = Detachable::build(|| run(app, request));
    let mut response = match AssertUnwindSafe(relay).catch_unwind().await {
        Ok(response) => response,
        Err(_) => {
            let id = request_id.as_ref().and_then(|v| v.to_str().ok());
            let id = id.unwrap_or_default();
            tracing::error!(request_id = id, "relay panicked");
            ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "aiproxy_error",
                "internal error",
            )
            .with_request_id(id)
            .in_dialect(dialect)
            .into_response()
        }
    };
    if let Some(v) = request_id {
        response.headers_mut().insert(X_REQUEST_ID, v);
    }
    response
}

/// What routing decided before the first attempt.
pub struct Plan {
    /// Protocol the client speaks.
    pub client: Protocol,
    /// Canonical model name.
    pub model: String,
    /// Effective per-model settings.
    pub settings: EffectiveModelSettings,
    /// Channels that may serve it.
    pub candidates: Vec<Arc<ChannelEntry>>,
    /// `candidates` is the single pinned channel.
    pub pinned: bool,
    /// Retries allowed.
    pub retry_budget: u32,
}

/// The request's log row as far as arrival tells it. The id, endpoint and
/// address move into it: nothing after reads them from the request.
fn skeleton(req: &mut RelayRequest) -> LogRecord {
    LogRecord {
        request_id: std::mem::take(&mut req.request_id),
        request_at: req.received_ms,
        group_id: req.principal.group_id().to_owned(),
        token_id: req.principal.token_id(),
        token_name: req.principal.token_name().to_owned(),
        mode: req.mode.id(),
        endpoint: std::mem::take(&mut req.endpoint),
        ip: std::mem::take(&mut req.ip),
        ..LogRecord::default()
    }
}

async fn run(app: AppState, mut req: RelayRequest) -> Response {
    let snapshot = app.snapshot.get();
    let mut ctx = LogContext::new(
        skeleton(&mut req),
        req.received,
        req.body.clone(),
        req.mode,
        &snapshot.options,
    );
    ctx.dialect = req.protocol.dialect();
    let head = match parse_head(req.protocol, &req.body, &req.path) {
        Ok(head) => head,
        Err(e) => return reject(&app, ctx, e, Outcome::default()).await,
    };
    ctx.record.model = head.model.clone();
    ctx.record.user = head.user.clone();
    ctx.record.metadata = head.metadata.clone();
    ctx.record.stream = head.stream;
    let plan = match plan(&snapshot, &req, &head) {
        Ok(plan) => plan,
        Err(e) => return reject(&app, ctx, e, Outcome::default()).await,
    };
    ctx.record.model = plan.model.clone();
    ctx.apply_model_settings(&plan.settings);
    let admitted = match admit::admit(
        &app,
        &snapshot,
        &req.principal,
        req.body.len(),
        &head,
        &plan.model,
        &plan.settings,
    )
    .await
    {
        Ok(admitted) => admitted,
        Err(e) => return refuse(&ctx, e),
    };
    ctx.accounting = admitted.accounting;
    let mut response = attempts(&app, &req, head, plan, ctx).await;
    admitted.rate.write_to(response.headers_mut());
    response
}

/// Answer a request refused by its limits or caps. Like AI Proxy, no log
/// row is written (a flood of refusals must not flood the log database);
/// the refusal is counted in the metrics.
fn refuse(ctx: &LogContext, error: ApiError) -> Response {
    client_error(ctx, error, Duration::ZERO).into_response()
}

/// Count an error answer in the metrics and shape it for the client (its
/// dialect, the request id).
fn client_error(ctx: &LogContext, error: ApiError, upstream: Duration) -> ApiError {
    let timing = Timing {
        total: ctx.received.elapsed(),
        upstream,
    };
    telemetry::record_request(ctx.mode, error.status.as_u16(), timing);
    error
        .with_request_id(&ctx.record.request_id)
        .in_dialect(ctx.dialect)
}

fn plan(snapshot: &Snapshot, req: &RelayRequest, head: &RequestHead) -> Result<Plan, ApiError> {
    if snapshot.options.disable_serve {
        return Err(ApiError::unavailable("service is under maintenance"));
    }
    let client = req.protocol;
    let allow = req.principal.allowed_models();
    if !allow.is_empty() && !allow.iter().any(|m| m.eq_ignore_ascii_case(&head.model)) {
        return Err(ApiError::model_not_found(&head.model));
    }
    let pinned = req
        .pinned_channel
        .map(|id| pinned_channel(snapshot, req, id))
        .transpose()?;
    let model = match &pinned {
        Some(channel) => channel
            .models
            .iter()
            .find(|m| m.eq_ignore_ascii_case(&head.model))
            .cloned()
            .ok_or_else(|| {
                ApiError::unavailable(format!(
                    "channel {} does not serve model `{}`",
                    channel.channel.id, head.model
                ))
            })?,
        None => snapshot
            .canonical_model(&head.model)
            .ok_or_else(|| ApiError::model_not_found(&head.model))?
            .to_owned(),
    };
    let config = snapshot
        .model_config(&model)
        .ok_or_else(|| ApiError::model_not_found(&head.model))?;
    if !config.allows_mode(req.mode) {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "invalid_request_error",
            format!(
                "The model `{}` does not exist on this endpoint.",
                head.model
            ),
        )
        .with_code("model_not_found"));
    }
    let mut candidates: Vec<_> = match &pinned {
        Some(channel) => vec![channel.clone()],
        None => snapshot
            .candidates(&model, req.principal.sets())
            .into_iter()
            .filter(|c| providers::supports(c.info, req.protocol))
            .collect(),
    };
    if let Some(sticky) = req.sticky_channel {
        candidates.retain(|c| c.channel.id == sticky);
        if candidates.is_empty() {
            return Err(ApiError::unavailable(format!(
                "channel {sticky}, which holds the previous response, cannot serve model `{}` now",
                head.model
            )));
        }
    }
    if candidates.is_empty() {
        return Err(ApiError::model_not_found(&head.model));
    }
    let group = snapshot
        .group_model_config(req.principal.group_id(), &model)
        .map(AsRef::as_ref);
    let settings = EffectiveModelSettings::resolve(&config, group);
    let retry_budget = if settings.retry_times > 0 {
        settings.retry_times
    } else {
        snapshot.options.retry_times
    };
    Ok(Plan {
        client,
        model,
        settings,
        candidates,
        pinned: pinned.is_some(),
        retry_budget,
    })
}

/// The channel named by `Aiproxy-Channel` (internal keys only; any status).
fn pinned_channel(
    snapshot: &Snapshot,
    req: &RelayRequest,
    id: i64,
) -> Result<Arc<ChannelEntry>, ApiError> {
    if !req.principal.is_internal() {
        return Err(ApiError::forbidden(
            "the Aiproxy-Channel header is only allowed with an internal key",
        ));
    }
    let channel = snapshot
        .channels
        .get(&id)
        .ok_or_else(|| ApiError::unavailable(format!("channel {id} does not exist")))?;
    if !providers::supports(channel.info, req.protocol) {
        return Err(ApiError::unavailable(format!(
            "channel {id} does not support this endpoint"
        )));
    }
    Ok(channel.clone())
}

fn ttfb_timeout(
    req: &RelayRequest,
    head: &RequestHead,
    settings: &EffectiveModelSettings,
) -> Duration {
    let configured = if head.stream {
        settings.timeout.stream_request_timeout
    } else {
        settings.timeout.request_timeout
    };
    match u64::try_from(configured) {
        Ok(secs) if secs > 0 => Duration::from_secs(secs),
        _ => req.mode.default_ttfb_timeout(
            head.stream,
            switchyard_protocol::tokens::estimate_from_bytes(req.body.len()),
        ),
    }
}

async fn attempts(
    app: &AppState,
    req: &RelayRequest,
    head: RequestHead,
    plan: Plan,
    ctx: LogContext,
) -> Response {
    let ttfb = ttfb_timeout(req, &head, &plan.settings);
    let request = LoopRequest {
        mode: req.mode,
        client: plan.client,
        hints: req.hints.clone(),
        head: Arc::new(head),
        body: req.body.clone(),
    };
    let mut lp = AttemptLoop::new(app.clone(), request, Arc::new(plan), ttfb);
    let Some(first) = lp.first_channel() else {
        let error = ApiError::unavailable("the upstream load is saturated, please try again later");
        return reject(app, ctx, error, Outcome::default()).await;
    };
    match lp.run(first, &ctx).await {
        Finished::Success {
            channel,
            upstream_model,
            success,
        } => {
            let base = Outcome {
                channel_id: channel.channel.id,
                actual_model: upstream_model,
                retry_times: lp.retries,
                retry_at: lp.retry_at,
                reached_upstream: true,
                ..Outcome::default()
            };
            deliver(app, lp, channel, success, ctx, base, req.store.clone()).await
        }
        Finished::Failed {
            channel,
            upstream_model,
            failure,
        } => {
            let outcome = Outcome {
                channel_id: channel.channel.id,
                actual_model: upstream_model,
                retry_times: lp.retries,
                retry_at: lp.retry_at,
                ..Outcome::default()
            };
            let error = failure::to_api_error(&failure);
            let upstream = lp.upstream_time;
            reject_with_body(app, ctx, error, outcome, failure.body, upstream).await
        }
    }
}

async fn deliver(
    app: &AppState,
    lp: AttemptLoop,
    channel: Arc<ChannelEntry>,
    success: Success,
    ctx: LogContext,
    base: Outcome,
    store: Option<StoreIntent>,
) -> Response {
    let timing = Timing {
        total: ctx.received.elapsed(),
        upstream: lp.upstream_time,
    };
    telemetry::record_request(ctx.mode, 200, timing);
    let mut response = match success {
        Success::Full {
            body,
            content_type,
            usage,
            upstream_id,
        } => {
            app.monitor.record(
                base.channel_id,
                lp.model(),
                false,
                channel.channel.max_error_rate,
            );
            let output_text = if usage.is_none() {
                response_text(&body)
            } else {
                String::new()
            };
            let outcome = Outcome {
                code: 200,
                usage,
                upstream_id,
                output_text,
                ttfb_ms: ctx.elapsed_ms(),
                response_body: body.clone(),
                ..base
            };
            if let Some(intent) = store
                && let Ok(object) = serde_json::from_slice(&body)
            {
                stored::record(app, &channel, &outcome.actual_model, intent, object);
            }
            log(app, ctx, outcome).await;
            let mut response = answer(Body::from(body));
            response
                .headers_mut()
                .insert(http::header::CONTENT_TYPE, content_type);
            response
        }
        Success::Stream {
            rest,
            processor,
            pending,
        } => {
            // Until the first output, a failing upstream can still be replaced.
            let retry = processor.retryable().then_some(lp);
            let finisher = Finisher {
                app: app.clone(),
                ctx,
                base,
                channel,
                store,
            };
            let relay = StreamRelay::new(
                rest,
                processor,
                pending,
                app.config.stream_idle_timeout,
                finisher,
                retry,
            );
            let mut response = answer(Body::from_stream(relay));
            let headers = response.headers_mut();
            headers.insert(
                http::header::CONTENT_TYPE,
                HeaderValue::from_static("text/event-stream"),
            );
            headers.insert(
                http::header::CACHE_CONTROL,
                HeaderValue::from_static("no-cache"),
            );
            headers.insert(X_ACCEL_BUFFERING, HeaderValue::from_static("no"));
            response
        }
    };
    if let Some(v) = timing.server_timing() {
        response.headers_mut().insert(SERVER_TIMING, v);
    }
    response
}

/// A response for an upstream's answer, its header map sized for the
/// headers an answer gets.
fn answer(body: Body) -> Response {
    let mut response = Response::new(body);
    response.headers_mut().reserve(ANSWER_HEADERS);
    response
}

/// The visible text of a non-stream answer (OpenAI or Anthropic shape), for
/// usage estimation.
fn response_text(body: &[u8]) -> String {
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(body) else {
        return String::new();
    };
    let mut out = String::new();
    for choice in value
        .get("choices")
        .and_then(|c| c.as_array())
        .into_iter()
        .flatten()
    {
        for pointer in ["/message/content", "/message/reasoning_content", "/text"] {
            if let Some(text) = choice.pointer(pointer).and_then(|t| t.as_str()) {
                out.push_str(text);
            }
        }
    }
    // Anthropic messages: content blocks.
    for block in value
        .get("content")
        .and_then(|c| c.as_array())
        .into_iter()
        .flatten()
    {
        for field in ["text", "thinking"] {
            if let Some(text) = block.get(field).and_then(|t| t.as_str()) {
                out.push_str(text);
            }
        }
    }
    out
}

/// Queue the request's log entry. Waits for room in the queue (back-pressure)
/// unless the entry needs the tokenizer, which then runs off the request path.
async fn log(app: &AppState, ctx: LogContext, outcome: Outcome) {
    if outcome.needs_estimate() {
        let sink = app.sink.clone();
        app.sink
            .spawn(async move { sink.send(ctx.into_entry(outcome).await).await });
        return;
    }
    app.sink.send(ctx.into_entry(outcome).await).await;
}

async fn reject(app: &AppState, ctx: LogContext, error: ApiError, outcome: Outcome) -> Response {
    reject_with_body(app, ctx, error, outcome, Bytes::new(), Duration::ZERO).await
}

async fn reject_with_body(
    app: &AppState,
    ctx: LogContext,
    error: ApiError,
    outcome: Outcome,
    upstream_body: Bytes,
    upstream: Duration,
) -> Response {
    let error = client_error(&ctx, error, upstream);
    let rendered = Bytes::from(error.body().to_string());
    let response_body = if upstream_body.is_empty() {
        rendered
    } else {
        upstream_body
    };
    let outcome = Outcome {
        code: error.status.as_u16(),
        content: error.message.clone(),
        ttfb_ms: ctx.elapsed_ms(),
        response_body,
        ..outcome
    };
    log(app, ctx, outcome).await;
    error.into_response()
}
