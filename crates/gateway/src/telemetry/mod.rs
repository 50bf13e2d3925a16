//! Prometheus metrics, rendered at `/metrics`, with bounded labels only
//! (relay mode, status class, configured model, channel id, limit kind;
//! never a request id, group or token).
//!
//! Two sources: the relay records response time, upstream time and gateway
//! overhead when the response headers go out ([`record_request`]); the log
//! writer records every finished request (count, duration, TTFB, tokens,
//! amount) and its own queue and write latency, off the request path
//! ([`FinishedMetrics`], [`record_log_write`]). Upstream errors are counted
//! per failed attempt ([`record_upstream_error`]) and limiter refusals by
//! the limits module ([`record_limiter_rejection`]).
//!
//! The gateway-overhead histogram is the gateway's own view of its cost:
//! time to the response headers minus the time spent waiting for upstreams
//! (and in deliberate back-off). The same figure is sent to clients as
//! `Server-Timing: gateway;dur=…, upstream;dur=…`.

use std::sync::OnceLock;
use std::time::Duration;

use foldhash::HashMap;
use http::HeaderValue;
use metrics::{Counter, Gauge, Histogram, Label};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use crate::header_text::joined_value;
use crate::logs::record::LogRecord;
use crate::relay::mode::Mode;

/// Requests answered, by mode and status class.
pub const REQUESTS: &str = "switchyard_requests_total";
/// Time from arrival to response headers.
pub const RESPONSE_TIME: &str = "switchyard_response_time_seconds";
/// Time spent waiting for upstreams before the response headers.
pub const UPSTREAM_TIME: &str = "switchyard_upstream_time_seconds";
/// Response time minus upstream time.
pub const OVERHEAD: &str = "switchyard_gateway_overhead_seconds";
/// Entries waiting in the log queue.
pub const LOG_QUEUE: &str = "switchyard_log_queue_depth";
/// Finished requests by model, channel and status class.
pub const MODEL_REQUESTS: &str = "switchyard_model_requests_total";
/// Arrival to completion (the whole stream) by model, channel and status class.
pub const REQUEST_DURATION: &str = "switchyard_request_duration_seconds";
/// Arrival to the first byte sent to the client, by model and channel.
pub const TTFB: &str = "switchyard_ttfb_seconds";
/// Tokens by model, channel and kind (input, output, cached, reasoning).
pub const TOKENS: &str = "switchyard_tokens_total";
/// Amount charged by model and channel (a monotonic gauge: amounts are fractional).
pub const AMOUNT: &str = "switchyard_used_amount";
/// Failed upstream attempts by channel and status class (`transport` for no answer).
pub const UPSTREAM_ERRORS: &str = "switchyard_upstream_errors_total";
/// Requests refused by the limiter, by `kind` (rpm, tpm, concurrency, quota).
pub const LIMITER_REJECTIONS: &str = "switchyard_limiter_rejections_total";
/// Time to write one log batch (rows, details, summaries) to the database.
pub const LOG_WRITE_TIME: &str = "switchyard_log_write_seconds";
/// Log entries written.
pub const LOG_ENTRIES: &str = "switchyard_log_entries_written_total";
/// Failed log batch writes (each is retried).
pub const LOG_WRITE_ERRORS: &str = "switchyard_log_write_errors_total";
/// The kinds of limiter refusal.
pub const LIMITER_KINDS: [&str; 4] = ["rpm", "tpm", "concurrency", "quota"];

const OVERHEAD_BUCKETS: &[f64] = &[
    0.000_025, 0.000_05, 0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1,
];
const TIME_BUCKETS: &[f64] = &[
    0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0,
];

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
/// The request-path metrics' handles, registered once with the installed
/// recorder: [`record_request`] then costs a few atomic adds instead of
/// building, hashing and looking up four labelled keys per request.
static REQUEST_HANDLES: OnceLock<RequestHandles> = OnceLock::new();

/// Install the process-wide recorder (once) and return its handle.
pub fn install() -> PrometheusHandle {
    HANDLE
        .get_or_init(|| {
            let builder = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Full(OVERHEAD.into()), OVERHEAD_BUCKETS)
                .and_then(|b| {
                    b.set_buckets_for_metric(Matcher::Full(RESPONSE_TIME.into()), TIME_BUCKETS)
                })
                .and_then(|b| {
                    b.set_buckets_for_metric(Matcher::Full(UPSTREAM_TIME.into()), TIME_BUCKETS)
                })
                .and_then(|b| {
                    b.set_buckets_for_metric(Matcher::Full(REQUEST_DURATION.into()), TIME_BUCKETS)
                })
                .and_then(|b| b.set_buckets_for_metric(Matcher::Full(TTFB.into()), TIME_BUCKETS))
                .and_then(|b| {
                    b.set_buckets_for_metric(Matcher::Full(LOG_WRITE_TIME.into()), TIME_BUCKETS)
                });
            let recorder = match builder {
                Ok(b) => b.build_recorder(),
                Err(_) => PrometheusBuilder::new().build_recorder(),
            };
            let handle = recorder.handle();
            if metrics::set_global_recorder(recorder).is_err() {
                tracing::warn!("a metrics recorder was already installed; /metrics may be empty");
            }
            metrics::gauge!("switchyard_build_info", "version" => env!("CARGO_PKG_VERSION"))
                .set(1.0);
            describe();
            // Rendered from the start, so dashboards and alerts see zeros, not gaps.
            for kind in LIMITER_KINDS {
                metrics::counter!(LIMITER_REJECTIONS, "kind" => kind).absolute(0);
            }
            metrics::gauge!(LOG_QUEUE).set(0.0);
            let _ = REQUEST_HANDLES.set(RequestHandles::register());
            handle
        })
        .clone()
}

/// Fold raw histogram samples into their buckets every few seconds; the
/// exporter otherwise keeps every sample until the next scrape.
pub async fn upkeep(handle: PrometheusHandle, stop: tokio_util::sync::CancellationToken) {
    let mut every = tokio::time::interval(std::time::Duration::from_secs(5));
    loop {
        tokio::select! {
            _ = every.tick() => handle.run_upkeep(),
            () = stop.cancelled() => return,
        }
    }
}

/// The label of a status class (`2xx`, `4xx`, …).
pub fn status_class(status: u16) -> &'static str {
    STATUS_CLASSES[status_index(status)]
}

/// The relay-mode labels of the request metrics.
const MODE_LABELS: [&str; 7] = [
    "chat",
    "completions",
    "embeddings",
    "messages",
    "gemini",
    "responses",
    "other",
];
/// The status classes of [`status_class`], in the order of its matches.
const STATUS_CLASSES: [&str; 5] = ["1xx", "2xx", "3xx", "4xx", "5xx"];

/// Index into [`MODE_LABELS`].
fn mode_index(mode: Mode) -> usize {
    match mode {
        Mode::ChatCompletions => 0,
        Mode::Completions => 1,
        Mode::Embeddings => 2,
        Mode::Anthropic => 3,
        Mode::Gemini => 4,
        Mode::Responses => 5,
        _ => 6,
    }
}

/// Index into [`STATUS_CLASSES`].
fn status_index(status: u16) -> usize {
    match status {
        100..=199 => 0,
        200..=299 => 1,
        300..=399 => 2,
        400..=499 => 3,
        _ => 4,
    }
}

/// One relay mode's request metrics.
struct ModeHandles {
    requests: [Counter; STATUS_CLASSES.len()],
    response_time: Histogram,
    upstream_time: Histogram,
    overhead: Histogram,
}

/// [`ModeHandles`] of every mode label.
struct RequestHandles([ModeHandles; MODE_LABELS.len()]);

impl RequestHandles {
    /// Register every handle with the installed recorder.
    fn register() -> Self {
        Self(MODE_LABELS.map(|mode| {
            ModeHandles {
                requests: STATUS_CLASSES
                    .map(|class| metrics::counter!(REQUESTS, "mode" => mode, "code" => class)),
                response_time: metrics::histogram!(RESPONSE_TIME, "mode" => mode),
                upstream_time: metrics::histogram!(UPSTREAM_TIME, "mode" => mode),
                overhead: metrics::histogram!(OVERHEAD, "mode" => mode),
            }
        }))
    }
}

/// Time spent on one request up to its response headers.
#[derive(Debug, Clone, Copy, Default)]
pub struct Timing {
    /// Arrival to response headers.
    pub total: Duration,
    /// Waiting for upstreams (all attempts) and in back-off.
    pub upstream: Duration,
}

impl Timing {
    /// The gateway's own share.
    pub fn overhead(&self) -> Duration {
        self.total.saturating_sub(self.upstream)
    }

    /// `Server-Timing` header value (milliseconds, three decimals).
    pub fn server_timing(&self) -> Option<HeaderValue> {
        // Whole microseconds, rounded, written as milliseconds with three
        // decimals from integers: float formatting, or `fmt` at all, costs
        // more than the rest of the header.
        let micros = |d: Duration| (d.as_nanos() + 500) / 1000;
        let (gateway, upstream) = (micros(self.overhead()), micros(self.upstream));
        let (mut gateway_ms, mut upstream_ms) = (itoa::Buffer::new(), itoa::Buffer::new());
        joined_value(&[
            b"gateway;dur=",
            gateway_ms.format(gateway / 1000).as_bytes(),
            &milli_decimals(gateway),
            b", upstream;dur=",
            upstream_ms.format(upstream / 1000).as_bytes(),
            &milli_decimals(upstream),
        ])
    }
}

/// The decimal point and the three decimals of `micros` as milliseconds.
fn milli_decimals(micros: u128) -> [u8; 4] {
    let fraction = micros % 1000;
    let digit = |n: u128| b'0' + (n % 10) as u8;
    [
        b'.',
        digit(fraction / 100),
        digit(fraction / 10),
        digit(fraction),
    ]
}

/// Record a request answered with `status`.
pub fn record_request(mode: Mode, status: u16, timing: Timing) {
    let Some(RequestHandles(modes)) = REQUEST_HANDLES.get() else {
        return; // no recorder installed: nothing would be kept
    };
    let handles = &modes[mode_index(mode)];
    handles.requests[status_index(status)].increment(1);
    handles.response_time.record(timing.total.as_secs_f64());
    if !timing.upstream.is_zero() {
        handles.upstream_time.record(timing.upstream.as_secs_f64());
        handles.overhead.record(timing.overhead().as_secs_f64());
    }
}

fn describe() {
    metrics::describe_counter!(
        REQUESTS,
        "Requests answered, by relay mode and status class."
    );
    metrics::describe_histogram!(RESPONSE_TIME, "Arrival to response headers (s).");
    metrics::describe_histogram!(
        UPSTREAM_TIME,
        "Time waiting for upstreams before the response headers (s)."
    );
    metrics::describe_histogram!(
        OVERHEAD,
        "Response time minus upstream time: the gateway's own cost (s)."
    );
    metrics::describe_gauge!(LOG_QUEUE, "Entries waiting in the log queue.");
    metrics::describe_counter!(
        MODEL_REQUESTS,
        "Finished requests by model, channel and status class."
    );
    metrics::describe_histogram!(
        REQUEST_DURATION,
        "Arrival to completion, whole stream included (s)."
    );
    metrics::describe_histogram!(TTFB, "Arrival to the first byte sent to the client (s).");
    metrics::describe_counter!(TOKENS, "Tokens by model, channel and kind.");
    metrics::describe_gauge!(AMOUNT, "Amount charged by model and channel (monotonic).");
    metrics::describe_counter!(
        UPSTREAM_ERRORS,
        "Failed upstream attempts by channel and status class."
    );
    metrics::describe_counter!(
        LIMITER_REJECTIONS,
        "Requests refused by the limiter, by kind."
    );
    metrics::describe_histogram!(LOG_WRITE_TIME, "Time to write one log batch (s).");
    metrics::describe_counter!(LOG_ENTRIES, "Log entries written.");
    metrics::describe_counter!(LOG_WRITE_ERRORS, "Failed log batch writes (retried).");
    metrics::describe_gauge!(
        "switchyard_build_info",
        "Build information; the value is always 1."
    );
}

/// The status-class label of a final status (`2xx`…`5xx`, `other`).
fn class_label(code: i64) -> &'static str {
    match code {
        100..=199 => "1xx",
        200..=299 => "2xx",
        300..=399 => "3xx",
        400..=499 => "4xx",
        500..=599 => "5xx",
        _ => "other",
    }
}

/// The per-request metrics of finished requests, recorded by the log
/// writer. The series of each (model, channel, status class) are looked
/// up once and their handles kept: building the labelled key and finding
/// it in the registry cost more than the increments.
#[derive(Default)]
pub struct FinishedMetrics {
    by_model: HashMap<String, HashMap<(i64, &'static str), Series>>,
    series: usize,
}

/// Most label sets kept; past this the cache starts again (the registry
/// keeps the series either way).
const MAX_CACHED_SERIES: usize = 4096;

/// The handles of one (model, channel, status class).
struct Series {
    requests: Counter,
    duration: Histogram,
    ttfb: Option<Histogram>,
    tokens: [Option<Counter>; 4],
    amount: Option<Gauge>,
}

const TOKEN_KINDS: [&str; 4] = ["input", "output", "cached", "reasoning"];

impl Series {
    fn register(model: &str, channel: i64, class: &'static str) -> Self {
        let mut labels = series_labels(model, channel);
        let ttfb = (channel > 0).then(|| metrics::histogram!(TTFB, labels.clone()));
        labels.push(Label::from_static_parts("status_class", class));
        Self {
            requests: metrics::counter!(MODEL_REQUESTS, labels.clone()),
            duration: metrics::histogram!(REQUEST_DURATION, labels),
            ttfb,
            tokens: [None, None, None, None],
            amount: None,
        }
    }
}

impl FinishedMetrics {
    /// Record a finished request from its log row. The model label is only
    /// the configured model of a request that reached a channel (empty
    /// otherwise), so a client cannot create label values.
    pub fn record(&mut self, r: &LogRecord) {
        let (model, channel) = if r.channel_id > 0 {
            (r.model.as_str(), r.channel_id)
        } else {
            ("", 0)
        };
        let class = class_label(r.code);
        let Some(series) = self.series(model, channel, class) else {
            return;
        };
        let seconds = |ms: i64| ms.max(0) as f64 / 1000.0;
        series.requests.increment(1);
        series.duration.record(seconds(r.created_at - r.request_at));
        let Some(ttfb) = &series.ttfb else { return };
        ttfb.record(seconds(r.ttfb_milliseconds));
        let u = &r.usage;
        let counts = [
            u.input_tokens,
            u.output_tokens,
            u.cached_tokens,
            u.reasoning_tokens,
        ];
        for (i, n) in counts.into_iter().enumerate() {
            if let Ok(n) = u64::try_from(n)
                && n > 0
            {
                if series.tokens[i].is_none() {
                    let mut labels = series_labels(model, channel);
                    labels.push(Label::from_static_parts("kind", TOKEN_KINDS[i]));
                    series.tokens[i] = Some(metrics::counter!(TOKENS, labels));
                }
                if let Some(counter) = &series.tokens[i] {
                    counter.increment(n);
                }
            }
        }
        if r.used_amount > 0.0 {
            let gauge = series
                .amount
                .get_or_insert_with(|| metrics::gauge!(AMOUNT, series_labels(model, channel)));
            gauge.increment(r.used_amount);
        }
    }

    fn series(&mut self, model: &str, channel: i64, class: &'static str) -> Option<&mut Series> {
        let known = self
            .by_model
            .get(model)
            .is_some_and(|m| m.contains_key(&(channel, class)));
        if !known {
            if self.series >= MAX_CACHED_SERIES {
                self.by_model.clear();
                self.series = 0;
            }
            let series = Series::register(model, channel, class);
            self.by_model
                .entry(model.to_owned())
                .or_default()
                .insert((channel, class), series);
            self.series += 1;
        }
        self.by_model.get_mut(model)?.get_mut(&(channel, class))
    }
}

fn series_labels(model: &str, channel: i64) -> Vec<Label> {
    vec![
        Label::new("model", model.to_owned()),
        Label::new("channel", channel.to_string()),
    ]
}

/// Record a failed upstream attempt (`status` 0: no answer).
pub fn record_upstream_error(channel: i64, status: i64) {
    let class = if status == 0 {
        "transport"
    } else {
        class_label(status)
    };
    metrics::counter!(UPSTREAM_ERRORS, "channel" => channel.to_string(), "status_class" => class)
        .increment(1);
}

/// Record a limiter refusal; `kind` is one of [`LIMITER_KINDS`].
pub fn record_limiter_rejection(kind: &'static str) {
    metrics::counter!(LIMITER_REJECTIONS, "kind" => kind).increment(1);
}

/// Record one log batch write: its duration, entries and whether it failed.
pub fn record_log_write(elapsed: Duration, entries: usize, ok: bool) {
    metrics::histogram!(LOG_WRITE_TIME).record(elapsed.as_secs_f64());
    if ok {
        metrics::counter!(LOG_ENTRIES).increment(entries as u64);
    } else {
        metrics::counter!(LOG_WRITE_ERRORS).increment(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_timing_format() {
        let t = Timing {
            total: Duration::from_micros(10_500),
            upstream: Duration::from_millis(10),
        };
        assert_eq!(
            t.server_timing().unwrap(),
            "gateway;dur=0.500, upstream;dur=10.000"
        );
        let rounded = Timing {
            total: Duration::from_nanos(1_234_567_890),
            upstream: Duration::from_nanos(1_000_000_499),
        };
        assert_eq!(
            rounded.server_timing().unwrap(),
            "gateway;dur=234.567, upstream;dur=1000.000"
        );
        assert_eq!(
            Timing {
                total: Duration::ZERO,
                upstream: Duration::from_secs(1)
            }
            .overhead(),
            Duration::ZERO
        );
    }

    #[test]
    fn classes() {
        assert_eq!(status_class(200), "2xx");
        assert_eq!(status_class(499), "4xx");
        assert_eq!(status_class(503), "5xx");
    }
}
