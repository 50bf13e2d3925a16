//! The retry loop as an owned state machine.
//!
//! [`AttemptLoop`] tries channels until one answers or the failure is final:
//! client errors (400/413/422/451) end it at once; refusals (401–404,
//! misconfiguration) exclude the channel without using the retry budget;
//! transient failures use the budget, move to another channel, and — when
//! every candidate has failed — stay on the healthiest one that failed
//! transiently, backing off before re-using a channel after a 429/503.
//! It is owned (not borrowed from the request) so a streaming response can
//! keep it and continue on another channel if its upstream fails before the
//! first output.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::StatusCode;
use rand::Rng;

use super::Plan;
use super::attempt::{self, AttemptInput, Failure, FailureClass, Success};
use super::complete::LogContext;
use super::head::RequestHead;
use super::mode::Mode;
use super::processor::Continuation;
use super::protocol::Protocol;
use crate::logs::record::{LogDetail, LogEntry, RetryRecord, cap_text};
use crate::providers::ClientHints;
use crate::routing::select::{MAX_HEALTHY_ERROR_RATE, pick};
use crate::snapshot::ChannelEntry;
use crate::state::AppState;
use crate::store::now_ms;

/// How the loop ended.
pub enum Finished {
    /// A channel answered.
    Success {
        /// The channel.
        channel: Arc<ChannelEntry>,
        /// Model name sent upstream.
        upstream_model: String,
        /// The answer.
        success: Success,
    },
    /// The last attempt's failure is final.
    Failed {
        /// The channel of the last attempt.
        channel: Arc<ChannelEntry>,
        /// Model name sent upstream.
        upstream_model: String,
        /// Why it failed.
        failure: Failure,
    },
}

/// The parts of a request the retry loop keeps.
pub struct LoopRequest {
    /// Relay mode of the client's endpoint.
    pub mode: Mode,
    /// Protocol the client speaks.
    pub client: Protocol,
    /// Client headers passed on to some upstreams.
    pub hints: ClientHints,
    /// Request head.
    pub head: Arc<RequestHead>,
    /// Client body.
    pub body: Bytes,
}

/// Per-channel failure history within one request.
#[derive(Default)]
struct Tried {
    excluded: Vec<i64>,
    failures: HashMap<i64, (u32, Instant, Option<StatusCode>)>,
}

impl Tried {
    fn note(&mut self, channel: i64, failure: &Failure) {
        self.excluded.push(channel);
        let entry = self
            .failures
            .entry(channel)
            .or_insert((0, Instant::now(), None));
        entry.0 += 1;
        entry.1 = Instant::now();
        entry.2 = if failure.class == FailureClass::NoPermission {
            None
        } else {
            failure.status.or(Some(StatusCode::BAD_GATEWAY))
        };
    }

    /// Back-off before reusing `channel` after a 429/503 from it.
    fn backoff(&self, channel: i64) -> Duration {
        let Some((count, at, Some(status))) = self.failures.get(&channel) else {
            return Duration::ZERO;
        };
        if !matches!(status.as_u16(), 429 | 503) {
            return Duration::ZERO;
        }
        let jitter = rand::rng().random_range(0.0..1.0);
        let wait = Duration::from_secs_f64((f64::from(*count) + jitter).min(5.0));
        wait.saturating_sub(at.elapsed())
    }
}

/// Everything the retry loop needs, owned.
pub struct AttemptLoop {
    app: AppState,
    mode: Mode,
    client: Protocol,
    hints: ClientHints,
    head: Arc<RequestHead>,
    body: Bytes,
    plan: Arc<Plan>,
    ttfb: Duration,
    ids: Vec<i64>,
    tried: Tried,
    budget: u32,
    sticky: Option<Arc<ChannelEntry>>,
    continuation: Option<Continuation>,
    /// Retries made so far.
    pub retries: u32,
    /// Start of the last retry (ms).
    pub retry_at: i64,
    /// Time spent in upstream exchanges and back-off.
    pub upstream_time: Duration,
}

impl AttemptLoop {
    /// A loop over `plan`'s candidates.
    pub fn new(app: AppState, request: LoopRequest, plan: Arc<Plan>, ttfb: Duration) -> Self {
        let LoopRequest {
            mode,
            client,
            hints,
            head,
            body,
        } = request;
        let ids = plan.candidates.iter().map(|c| c.channel.id).collect();
        let sticky = plan.pinned.then(|| plan.candidates[0].clone());
        let budget = plan.retry_budget;
        Self {
            app,
            mode,
            client,
            hints,
            head,
            body,
            plan,
            ttfb,
            ids,
            tried: Tried::default(),
            budget,
            sticky,
            continuation: None,
            retries: 0,
            retry_at: 0,
            upstream_time: Duration::ZERO,
        }
    }

    /// The model as routing knows it.
    pub fn model(&self) -> &str {
        &self.plan.model
    }

    /// The first channel to try, `None` if every candidate is unusable.
    pub fn first_channel(&self) -> Option<Arc<ChannelEntry>> {
        self.sticky.clone().or_else(|| self.next_channel())
    }

    /// From now on attempts continue a stream the client already receives.
    pub fn continue_stream(&mut self, continuation: Continuation) {
        self.continuation = Some(continuation);
    }

    /// Try `channel`, retrying per the rules, until an answer or a final failure.
    pub async fn run(&mut self, mut channel: Arc<ChannelEntry>, ctx: &LogContext) -> Finished {
        loop {
            let upstream_model = channel.upstream_model(&self.plan.model).to_owned();
            let started = now_ms();
            let input = AttemptInput {
                app: &self.app,
                mode: self.mode,
                client: self.client,
                head: &self.head,
                body: &self.body,
                hints: &self.hints,
                ttfb: self.ttfb,
                continuation: self.continuation.as_ref(),
                think_split: self.plan.settings.think_split && self.client == Protocol::Chat,
            };
            let (result, spent) = attempt::run(&input, &channel, &upstream_model).await;
            self.upstream_time += spent;
            let failure = match result {
                Ok(success) => {
                    return Finished::Success {
                        channel,
                        upstream_model,
                        success,
                    };
                }
                Err(failure) => failure,
            };
            let Some(next) = self.after_failure(&channel, &failure) else {
                return Finished::Failed {
                    channel,
                    upstream_model,
                    failure,
                };
            };
            let failed = FailedAttempt {
                spent,
                channel: &channel,
                upstream_model: &upstream_model,
                failure: &failure,
                started,
            };
            self.log_retry(ctx, failed).await;
            self.wait_before(&next).await;
            channel = next;
        }
    }

    /// Account a failed attempt on `channel` and choose the next channel,
    /// or `None` when the failure is final.
    pub fn after_failure(
        &mut self,
        channel: &ChannelEntry,
        failure: &Failure,
    ) -> Option<Arc<ChannelEntry>> {
        let id = channel.channel.id;
        crate::telemetry::record_upstream_error(id, failure.code());
        if failure.class != FailureClass::Client {
            self.app
                .monitor
                .record(id, &self.plan.model, true, channel.channel.max_error_rate);
            if failure.class == FailureClass::NoPermission
                && channel.channel.enabled_no_permission_ban
            {
                self.app.monitor.ban(id, &self.plan.model);
            }
            if let (FailureClass::NoPermission, Some(status)) = (failure.class, failure.status) {
                crate::notify::channel_alerts::no_permission(
                    &self.app.notifier,
                    &channel.channel,
                    &self.plan.model,
                    status.as_u16(),
                    &failure.message,
                );
            }
        }
        self.tried.note(id, failure);
        match failure.class {
            FailureClass::Client => None,
            FailureClass::NoPermission if self.sticky.is_some() => None,
            FailureClass::NoPermission => self.next_channel(),
            FailureClass::Retryable if self.budget == 0 => None,
            FailureClass::Retryable => {
                self.budget -= 1;
                if let Some(sticky) = &self.sticky {
                    return Some(sticky.clone());
                }
                self.next_channel().or_else(|| {
                    self.sticky = self.fallback_channel();
                    self.sticky.clone()
                })
            }
        }
    }

    /// Back off if `next` was failing with 429/503, then count the retry.
    pub async fn wait_before(&mut self, next: &ChannelEntry) {
        let backoff = self.tried.backoff(next.channel.id);
        tokio::time::sleep(backoff).await;
        self.upstream_time += backoff;
        self.retries += 1;
        self.retry_at = now_ms();
    }

    fn next_channel(&self) -> Option<Arc<ChannelEntry>> {
        let health = self.app.monitor.health(&self.plan.model, &self.ids);
        pick(&self.plan.candidates, &health, |c| {
            self.tried.excluded.contains(&c.channel.id)
        })
        .map(|i| self.plan.candidates[i].clone())
    }

    /// When every candidate failed: stay on the healthiest one that failed
    /// transiently (not for refusals), if its error rate allows.
    fn fallback_channel(&self) -> Option<Arc<ChannelEntry>> {
        let health = self.app.monitor.health(&self.plan.model, &self.ids);
        self.plan
            .candidates
            .iter()
            .zip(health)
            .filter(|(c, h)| {
                h.error_rate <= MAX_HEALTHY_ERROR_RATE
                    && self
                        .tried
                        .failures
                        .get(&c.channel.id)
                        .is_some_and(|(_, _, status)| status.is_some())
            })
            .min_by(|a, b| a.1.error_rate.total_cmp(&b.1.error_rate))
            .map(|(c, _)| c.clone())
    }

    /// Write the retry log of a failed attempt that is about to be retried.
    pub async fn log_retry(&self, ctx: &LogContext, failed: FailedAttempt<'_>) {
        if !ctx.logging_enabled() {
            return;
        }
        let (request_cap, response_cap) = ctx.detail_caps();
        let (request_body, request_body_truncated) = cap_text(&ctx.request_body, request_cap);
        let (response_body, response_body_truncated) = cap_text(&failed.failure.body, response_cap);
        let record = RetryRecord {
            request_id: ctx.record.request_id.clone(),
            request_at: ctx.record.request_at,
            retry_at: failed.started,
            created_at: now_ms(),
            ttfb_milliseconds: i64::try_from(failed.spent.as_millis()).unwrap_or(i64::MAX),
            group_id: ctx.record.group_id.clone(),
            token_name: ctx.record.token_name.clone(),
            model: self.plan.model.clone(),
            actual_model: failed.upstream_model.to_owned(),
            channel_id: failed.channel.channel.id,
            mode: ctx.record.mode,
            code: failed.failure.code(),
            attempt: i64::from(self.retries),
            content: failed.failure.message.clone(),
            detail: LogDetail {
                request_body,
                response_body,
                request_body_truncated,
                response_body_truncated,
            },
            ..RetryRecord::default()
        };
        self.app.sink.send(LogEntry::Retry(Box::new(record))).await;
    }
}

/// A failed attempt that is about to be retried.
pub struct FailedAttempt<'a> {
    /// Time the attempt spent upstream.
    pub spent: Duration,
    /// Its channel.
    pub channel: &'a ChannelEntry,
    /// Model sent upstream.
    pub upstream_model: &'a str,
    /// What failed.
    pub failure: &'a Failure,
    /// When it started (ms).
    pub started: i64,
}
