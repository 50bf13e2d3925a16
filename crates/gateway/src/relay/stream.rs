//! The streaming response body: forwards each upstream event as it arrives
//! (a chunk the client is to receive unchanged is sent as it came, without
//! a copy), enforces the idle timeout, and writes the log entry exactly
//! once — when the upstream finishes, when it fails, or when the client goes
//! away (the body is dropped), in which case the usage seen so far is
//! recorded.
//!
//! The response is committed at the upstream's first event. If that
//! upstream fails before any output (an error event, an early end, a broken
//! connection, silence), the body keeps the retry loop and continues the
//! same client stream on another channel, dropping the new upstream's
//! leading role chunk — the client sees one uninterrupted stream.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use futures_util::Stream;
use tokio::time::{Instant, Sleep};

use super::attempt::{Failure, Success};
use super::attempts::{AttemptLoop, FailedAttempt, Finished};
use super::complete::{LogContext, Outcome};
use super::failure::to_api_error;
use super::processor::StreamProcessor;
use super::sent::{SentChunks, reserve_in_blocks};
use super::stored::{self, ResponseTap, StoreIntent};
use super::upstream::{BodyStream, UpstreamError};
use crate::snapshot::ChannelEntry;
use crate::state::AppState;
use crate::store::now_ms;

/// What the finaliser needs besides the stream state.
pub struct Finisher {
    /// Shared services (sink, monitor).
    pub app: AppState,
    /// The request's log context.
    pub ctx: LogContext,
    /// Outcome fields known before streaming (channel, retries, model).
    pub base: Outcome,
    /// The channel currently streaming.
    pub channel: Arc<ChannelEntry>,
    /// Store the Responses-API answer once complete.
    pub store: Option<StoreIntent>,
}

type Resume = Pin<Box<dyn Future<Output = (AttemptLoop, Finished)> + Send>>;

/// The body of a streamed response.
///
/// Every event touches this struct, and at a thousand streams it is seldom
/// in the CPU's cache, so what only the start and the end need (the
/// finisher, the retry loop, the Responses tap) is boxed apart: the fields
/// an event reads stay within a few cache lines.
pub struct StreamRelay {
    upstream: Option<BodyStream>,
    state: Box<dyn StreamProcessor>,
    pending: BytesMut,
    idle: Duration,
    last_activity: Instant,
    sleep: Pin<Box<Sleep>>,
    /// The idle timer is registered to wake this task at `at`, and has not
    /// fired: polling it again would only touch it.
    armed: Option<ArmedTimer>,
    finisher: Option<Box<Finisher>>,
    retry: Option<Box<AttemptLoop>>,
    resuming: Option<Resume>,
    /// What the client was sent, kept for the log detail and the estimate.
    sent: SentChunks,
    tap: Option<Box<ResponseTap>>,
    ttfb_ms: i64,
}

/// Where the idle timer stands after a poll that left it pending.
struct ArmedTimer {
    at: Instant,
    waker: Waker,
}

/// The timer is polled again when it is within this much of firing, so a
/// timer that fires a little before its instant is still seen.
const TIMER_MARGIN: Duration = Duration::from_millis(5);

/// Room beyond an upstream read's own size that its events may take once
/// rewritten for the client (the model name, SSE framing).
const OUTPUT_SLACK: usize = 256;

impl StreamRelay {
    /// Start relaying. `pending` holds events already read while priming;
    /// `upstream` is `None` when the upstream already ended; `retry` is the
    /// retry loop while a failure can still be replaced by another channel.
    pub fn new(
        upstream: Option<BodyStream>,
        state: Box<dyn StreamProcessor>,
        pending: BytesMut,
        idle: Duration,
        finisher: Finisher,
        retry: Option<AttemptLoop>,
    ) -> Self {
        let sent = SentChunks::new(finisher.ctx.response_capture_limit());
        let tap = finisher
            .store
            .is_some()
            .then(|| Box::new(ResponseTap::default()));
        let mut relay = Self {
            upstream,
            state,
            pending,
            idle,
            last_activity: Instant::now(),
            sleep: Box::pin(tokio::time::sleep(idle)),
            armed: None,
            finisher: Some(Box::new(finisher)),
            retry: retry.map(Box::new),
            resuming: None,
            sent,
            tap,
            ttfb_ms: 0,
        };
        if relay.upstream.is_none() {
            relay.complete();
        }
        relay
    }

    /// Note a chunk handed to the connection. `forwarded` marks a chunk
    /// forwarded unchanged: it shares the upstream's read buffer.
    fn record_sent(&mut self, bytes: &Bytes, forwarded: bool) {
        if self.ttfb_ms == 0
            && let Some(f) = &self.finisher
        {
            self.ttfb_ms = f.ctx.elapsed_ms().max(1);
        }
        if let Some(tap) = self.tap.as_mut() {
            tap.feed(bytes);
        }
        let for_estimate = self.state.needs_sent_output();
        if forwarded {
            self.sent.record_borrowed(bytes, for_estimate);
        } else {
            self.sent.record(bytes, for_estimate);
        }
    }

    /// The upstream ended normally (or with an error event).
    fn complete(&mut self) {
        self.upstream = None;
        self.state.finish(&mut self.pending);
        let progress = self.state.progress();
        let error = progress.upstream_error.clone();
        if !progress.saw_output && (error.is_some() || !progress.saw_end) {
            let message = match error {
                Some(m) => format!("upstream stream error: {m}"),
                None => "upstream stream ended before any output".to_owned(),
            };
            if self.try_continue(Failure::stream(message.clone())) {
                return;
            }
            self.state
                .write_error(&mut self.pending, &message, "upstream_error");
            self.finish(502, message, true);
            return;
        }
        match error {
            Some(message) => {
                let message = format!("upstream stream error: {message}");
                self.state
                    .write_error(&mut self.pending, &message, "upstream_error");
                self.finish(502, message, true);
            }
            None => self.finish(200, String::new(), false),
        }
    }

    /// The upstream broke off (body error or silence).
    fn fail(&mut self, error: &UpstreamError) {
        self.upstream = None;
        if !self.state.progress().saw_output && self.try_continue(Failure::from_upstream(error)) {
            return;
        }
        let (code, kind) = match error {
            UpstreamError::Idle(_) | UpstreamError::Timeout(_) => (504, "timeout_error"),
            _ => (502, "upstream_error"),
        };
        let message = format!("{error} after {} events", self.state.progress().events_in);
        self.state.write_error(&mut self.pending, &message, kind);
        self.finish(code, message, true);
    }

    /// Before any output: hand the request to the next channel, continuing
    /// this client stream. False when no retry is possible.
    fn try_continue(&mut self, failure: Failure) -> bool {
        let (Some(mut lp), Some(f)) = (self.retry.take().map(|lp| *lp), &self.finisher) else {
            return false;
        };
        let channel = f.channel.clone();
        let Some(next) = lp.after_failure(&channel, &failure) else {
            return false;
        };
        lp.continue_stream(self.state.continuation());
        self.upstream = None;
        let ctx = f.ctx.clone();
        let upstream_model = f.base.actual_model.clone();
        let started = now_ms();
        self.resuming = Some(Box::pin(async move {
            let failed = FailedAttempt {
                spent: Duration::ZERO,
                channel: &channel,
                upstream_model: &upstream_model,
                failure: &failure,
                started,
            };
            lp.log_retry(&ctx, failed).await;
            lp.wait_before(&next).await;
            let finished = lp.run(next, &ctx).await;
            (lp, finished)
        }));
        true
    }

    /// The retry loop produced an answer for a continued stream.
    fn resume(&mut self, lp: AttemptLoop, finished: Finished) {
        let (channel, upstream_model) = match &finished {
            Finished::Success {
                channel,
                upstream_model,
                ..
            }
            | Finished::Failed {
                channel,
                upstream_model,
                ..
            } => (channel.clone(), upstream_model.clone()),
        };
        if let Some(f) = self.finisher.as_mut() {
            f.base.channel_id = channel.channel.id;
            f.base.actual_model = upstream_model;
            f.base.retry_times = lp.retries;
            f.base.retry_at = lp.retry_at;
            f.channel = channel;
        }
        match finished {
            Finished::Success {
                success:
                    Success::Stream {
                        rest,
                        processor,
                        pending,
                    },
                ..
            } => {
                self.state = processor;
                self.pending.extend_from_slice(&pending);
                self.last_activity = Instant::now();
                self.retry = self.state.retryable().then(|| Box::new(lp));
                self.upstream = rest;
                if self.upstream.is_none() {
                    self.complete();
                }
            }
            Finished::Success { .. } => {
                let message = "the retried upstream answered without a stream".to_owned();
                self.state
                    .write_error(&mut self.pending, &message, "upstream_error");
                self.finish(502, message, true);
            }
            Finished::Failed { failure, .. } => {
                let error = to_api_error(&failure);
                self.state
                    .write_error(&mut self.pending, &error.message, error.kind);
                self.finish(error.status.as_u16(), error.message, true);
            }
        }
    }

    fn finish(&mut self, code: u16, content: String, upstream_failed: bool) {
        let Some(f) = self.finisher.take().map(|f| *f) else {
            return;
        };
        self.retry = None;
        if self.ttfb_ms == 0 {
            self.ttfb_ms = f.ctx.elapsed_ms();
        }
        let usage = self.state.progress().usage;
        let output_text = match usage {
            Some(_) => String::new(),
            None => self
                .state
                .take_output_text(&self.sent.output(&self.pending)),
        };
        let outcome = Outcome {
            code,
            content,
            usage,
            output_text,
            input_usage: self.state.progress().input_usage,
            reached_upstream: true,
            upstream_id: self.state.progress().upstream_id.clone(),
            ttfb_ms: self.ttfb_ms,
            response_body: if f.ctx.keeps_detail(code) {
                self.sent.capture(&self.pending)
            } else {
                Bytes::new()
            },
            ..f.base
        };
        if let (Some(intent), Some(mut tap)) = (f.store, self.tap.take())
            && code == 200
        {
            // The final events may still be waiting to go out.
            tap.feed(&self.pending);
            if let Some(object) = tap.into_response() {
                stored::record(&f.app, &f.channel, &outcome.actual_model, intent, object);
            }
        }
        let model = f.ctx.record.model.clone();
        if upstream_failed {
            crate::telemetry::record_upstream_error(outcome.channel_id, i64::from(code));
        }
        f.app.monitor.record(
            outcome.channel_id,
            &model,
            upstream_failed,
            f.channel.channel.max_error_rate,
        );
        let sink = f.app.sink.clone();
        let ctx = f.ctx;
        f.app.sink.spawn(async move {
            sink.send(ctx.into_entry(outcome).await).await;
        });
    }

    /// Poll the idle timer; true when the stream has been silent too long.
    ///
    /// The timer is re-armed lazily: it keeps its earlier deadline until it
    /// fires and is moved only then, instead of moving in the timer wheel on
    /// every event (50,000 times a second at 1,000 streams). Until then it
    /// is not polled at all while it would wake this same task anyway.
    fn idle_expired(&mut self, cx: &mut Context<'_>) -> bool {
        let now = Instant::now();
        let deadline = self.last_activity + self.idle;
        if now >= deadline {
            return true;
        }
        if let Some(armed) = &self.armed
            && now + TIMER_MARGIN < armed.at
            && armed.waker.will_wake(cx.waker())
        {
            return false;
        }
        loop {
            if self.sleep.deadline() > deadline {
                self.sleep.as_mut().reset(deadline);
            }
            if self.sleep.as_mut().poll(cx).is_pending() {
                self.armed = Some(ArmedTimer {
                    at: self.sleep.deadline(),
                    waker: cx.waker().clone(),
                });
                return false;
            }
            // Fired at an old deadline while events kept coming: re-arm,
            // unless the new one has passed meanwhile.
            if Instant::now() >= deadline {
                return true;
            }
            self.sleep.as_mut().reset(deadline);
        }
    }

    /// Read the upstream once. Ready with a chunk the client is to receive
    /// as it came (nothing else waits to go out before it); ready without
    /// one when the read's effect is in `pending` or the state.
    fn poll_upstream(&mut self, cx: &mut Context<'_>) -> Poll<Option<Bytes>> {
        let Some(upstream) = self.upstream.as_mut() else {
            return Poll::Ready(None);
        };
        match upstream.as_mut().poll_next(cx) {
            Poll::Ready(Some(Ok(chunk))) => {
                self.last_activity = Instant::now();
                if self.pending.is_empty() && self.state.forward_unchanged(&chunk) {
                    return Poll::Ready(Some(chunk));
                }
                reserve_in_blocks(&mut self.pending, chunk.len() + OUTPUT_SLACK);
                if let Err(e) = self.state.feed(&chunk, &mut self.pending) {
                    self.fail(&UpstreamError::Body(e.to_string()));
                } else if self.state.progress().upstream_error.is_some()
                    && !self.state.progress().saw_output
                {
                    // An error event before any output: treat like an early end.
                    self.complete();
                }
            }
            Poll::Ready(Some(Err(e))) => self.fail(&e),
            Poll::Ready(None) => self.complete(),
            Poll::Pending => {
                if !self.idle_expired(cx) {
                    return Poll::Pending;
                }
                self.fail(&UpstreamError::Idle(self.idle));
            }
        }
        Poll::Ready(None)
    }
}

impl Stream for StreamRelay {
    type Item = Result<Bytes, Infallible>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        loop {
            if !this.pending.is_empty() {
                let out = this.pending.split().freeze();
                this.record_sent(&out, false);
                return Poll::Ready(Some(Ok(out)));
            }
            if let Some(resuming) = this.resuming.as_mut() {
                let Poll::Ready((lp, finished)) = resuming.as_mut().poll(cx) else {
                    return Poll::Pending;
                };
                this.resuming = None;
                this.resume(lp, finished);
                continue;
            }
            if this.upstream.is_none() {
                return Poll::Ready(None);
            }
            match this.poll_upstream(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Some(unchanged)) => {
                    this.record_sent(&unchanged, true);
                    return Poll::Ready(Some(Ok(unchanged)));
                }
                Poll::Ready(None) => {}
            }
        }
    }
}

impl Drop for StreamRelay {
    fn drop(&mut self) {
        if self.finisher.is_some() {
            self.upstream = None;
            self.resuming = None;
            self.finish(
                499,
                "client closed the connection before the stream ended".into(),
                false,
            );
        }
    }
}
