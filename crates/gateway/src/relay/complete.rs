//! Turning a finished request into its log entry: usage (reported or
//! estimated with the built-in tokenizer), the status and error, and the
//! captured bodies under the detail rules of AI Proxy (bodies for failures,
//! or for everything with `SaveAllLogDetail`; request bodies of auth and
//! limit failures are not kept).

use std::time::Instant;

use bytes::Bytes;
use switchyard_protocol::{Usage, tokens};

use super::accounting::Accounting;
use super::mode::Mode;
use crate::config::options::Options;
use crate::error::Dialect;
use crate::logs::record::{LogDetail, LogEntry, LogRecord, cap_text};
use crate::model::model_config::EffectiveModelSettings;
use crate::store::now_ms;

/// Everything known about a request from arrival, kept until it completes.
#[derive(Debug, Clone)]
pub struct LogContext {
    /// The log row being filled in. Boxed: the context is moved through
    /// every state of the request's future, and the row (about 1 KB) is
    /// moved into the queue's entry as it is, without a copy.
    pub record: Box<LogRecord>,
    /// Arrival instant (for TTFB).
    pub received: Instant,
    /// The client's request body.
    pub request_body: Bytes,
    /// Relay mode.
    pub mode: Mode,
    /// Error shape of the client's protocol.
    pub dialect: Dialect,
    /// Price and reservations, settled when the entry is made.
    pub accounting: Accounting,
    logging_enabled: bool,
    save_all: bool,
    force_detail: bool,
    request_cap: i64,
    response_cap: i64,
}

/// How a request ended.
#[derive(Debug, Default)]
pub struct Outcome {
    /// Status (499 when the client went away).
    pub code: u16,
    /// Error text.
    pub content: String,
    /// Final channel.
    pub channel_id: i64,
    /// Upstream model.
    pub actual_model: String,
    /// Reported usage.
    pub usage: Option<Usage>,
    /// Output text seen, for estimation when usage is missing.
    pub output_text: String,
    /// Input counts reported without an output count: the estimate keeps
    /// them and counts only the output.
    pub input_usage: Option<Usage>,
    /// Whether an upstream produced anything worth metering.
    pub reached_upstream: bool,
    /// Upstream response id.
    pub upstream_id: String,
    /// Retries made.
    pub retry_times: u32,
    /// Start of the last retry (ms).
    pub retry_at: i64,
    /// First byte to the client (ms since arrival).
    pub ttfb_ms: i64,
    /// What was sent to the client (capped by the caller).
    pub response_body: Bytes,
}

impl Outcome {
    /// True when the log entry needs the tokenizer (the upstream reported no usage).
    pub fn needs_estimate(&self) -> bool {
        self.usage.is_none() && self.reached_upstream
    }
}

impl LogContext {
    /// Start the context of a request.
    pub fn new(
        record: LogRecord,
        received: Instant,
        request_body: Bytes,
        mode: Mode,
        options: &Options,
    ) -> Self {
        Self {
            record: Box::new(record),
            received,
            request_body,
            mode,
            dialect: Dialect::OpenAi,
            accounting: Accounting::default(),
            logging_enabled: options.log_storage_hours >= 0,
            save_all: options.save_all_log_detail,
            force_detail: false,
            request_cap: options.log_detail_request_body_max_size,
            response_cap: options.log_detail_response_body_max_size,
        }
    }

    /// Apply a model's detail settings once the model is known.
    pub fn apply_model_settings(&mut self, settings: &EffectiveModelSettings) {
        self.force_detail = settings.force_save_detail;
        if settings.request_body_storage_max_size != 0 {
            self.request_cap = settings.request_body_storage_max_size;
        }
        if settings.response_body_storage_max_size != 0 {
            self.response_cap = settings.response_body_storage_max_size;
        }
    }

    /// Request and response body caps for captured details.
    pub fn detail_caps(&self) -> (i64, i64) {
        (self.request_cap, self.response_cap)
    }

    /// Largest response prefix worth capturing for the detail (0: all).
    pub fn response_capture_limit(&self) -> Option<usize> {
        match self.response_cap {
            n if n < 0 => Some(0),
            0 => None,
            n => usize::try_from(n).ok().map(|n| n + 1),
        }
    }

    /// Milliseconds since arrival.
    pub fn elapsed_ms(&self) -> i64 {
        i64::try_from(self.received.elapsed().as_millis()).unwrap_or(i64::MAX)
    }

    /// True unless request logging is disabled (`LogStorageHours` < 0).
    pub fn logging_enabled(&self) -> bool {
        self.logging_enabled
    }

    /// Build the log entry, estimating usage when the upstream gave none.
    /// With request logging disabled the entry only updates usage counters.
    pub async fn into_entry(self, outcome: Outcome) -> LogEntry {
        let detail = self.detail(&outcome);
        let logging_enabled = self.logging_enabled;
        let (usage, estimated) = match outcome.usage {
            Some(u) => (u, false),
            None if outcome.reached_upstream => (
                estimate(
                    self.mode,
                    &self.request_body,
                    outcome.output_text,
                    outcome.input_usage,
                )
                .await,
                true,
            ),
            None => (Usage::default(), false),
        };
        let charge = self.accounting.charge(&usage, outcome.code == 200);
        self.accounting.settle(&usage, charge.as_ref()).await;
        let mut record = self.record;
        if let Some(charge) = &charge {
            record.used_amount = charge.used_amount();
        }
        record.charge = charge;
        record.created_at = now_ms();
        record.code = i64::from(outcome.code);
        record.content = truncate_content(outcome.content);
        record.channel_id = outcome.channel_id;
        record.actual_model = outcome.actual_model;
        record.usage = usage;
        record.usage_estimated = estimated;
        record.upstream_id = outcome.upstream_id;
        record.retry_times = i64::from(outcome.retry_times);
        record.retry_at = outcome.retry_at;
        record.ttfb_milliseconds = outcome.ttfb_ms;
        if !logging_enabled {
            return LogEntry::CountOnly(record);
        }
        LogEntry::Request {
            record,
            detail: detail.map(Box::new),
        }
    }

    /// Whether a request ending with `code` keeps its bodies in a log
    /// detail: failures always do, successes with `SaveAllLogDetail` or the
    /// model's `force_save_detail`; nothing does with logging off.
    pub fn keeps_detail(&self, code: u16) -> bool {
        self.logging_enabled && (self.save_all || self.force_detail || code != 200)
    }

    fn detail(&self, outcome: &Outcome) -> Option<LogDetail> {
        if !self.keeps_detail(outcome.code) {
            return None;
        }
        let drop_request =
            !self.force_detail && matches!(outcome.code, 401 | 402 | 403 | 404 | 405 | 429);
        let (request_body, request_body_truncated) = if drop_request {
            (String::new(), false)
        } else {
            cap_text(&self.request_body, self.request_cap)
        };
        let (response_body, response_body_truncated) =
            cap_text(&outcome.response_body, self.response_cap);
        Some(LogDetail {
            request_body,
            response_body,
            request_body_truncated,
            response_body_truncated,
        })
    }
}

/// Cap the `content` column at 1 KB, as AI Proxy does.
fn truncate_content(content: String) -> String {
    const MAX: i64 = 1024;
    if content.len() <= MAX as usize {
        return content;
    }
    cap_text(content.as_bytes(), MAX).0
}

/// Estimate usage with the built-in tokenizer, on the blocking pool (the
/// BPE tables are built on first use, which takes a moment). Input counts
/// the upstream reported (`input_usage`) are kept as they are.
async fn estimate(
    mode: Mode,
    body: &Bytes,
    output_text: String,
    input_usage: Option<Usage>,
) -> Usage {
    let body = body.clone();
    let count = move || {
        if let Some(reported) = input_usage {
            let output_tokens = tokens::count_text(&output_text);
            return Usage {
                output_tokens,
                total_tokens: reported.input_tokens + output_tokens,
                ..reported
            };
        }
        let input = match mode {
            Mode::ChatCompletions | Mode::Anthropic => {
                tokens::count_chat_prompt(&body).unwrap_or(0)
            }
            Mode::Completions | Mode::Embeddings => {
                let field = if mode == Mode::Embeddings {
                    "input"
                } else {
                    "prompt"
                };
                serde_json::from_slice::<serde_json::Value>(&body)
                    .ok()
                    .and_then(|v| v.get(field).map(tokens::count_input_value))
                    .unwrap_or(0)
            }
            _ => tokens::estimate_from_bytes(body.len()),
        };
        Usage::from_counts(input, tokens::count_text(&output_text))
    };
    tokio::task::spawn_blocking(count).await.unwrap_or_default()
}
