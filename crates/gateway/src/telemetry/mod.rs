//! Prometheus metrics: counters and histograms recorded on the request path
//! with bounded labels (relay mode, status class), rendered at `/metrics`.
//!
//! The gateway-overhead histogram is the gateway's own view of its cost:
//! time to the response headers minus the time spent waiting for upstreams
//! (and in deliberate back-off). The same figure is sent to clients as
//! `Server-Timing: gateway;dur=…, upstream;dur=…`.

use std::sync::OnceLock;
use std::time::Duration;

use http::HeaderValue;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

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

const OVERHEAD_BUCKETS: &[f64] = &[
    0.000_025, 0.000_05, 0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1,
];
const TIME_BUCKETS: &[f64] = &[
    0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0,
];

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

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
    match status {
        100..=199 => "1xx",
        200..=299 => "2xx",
        300..=399 => "3xx",
        400..=499 => "4xx",
        _ => "5xx",
    }
}

fn mode_label(mode: Mode) -> &'static str {
    match mode {
        Mode::ChatCompletions => "chat",
        Mode::Completions => "completions",
        Mode::Embeddings => "embeddings",
        Mode::Anthropic => "messages",
        Mode::Gemini => "gemini",
        Mode::Responses => "responses",
        _ => "other",
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
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        HeaderValue::from_str(&format!(
            "gateway;dur={:.3}, upstream;dur={:.3}",
            ms(self.overhead()),
            ms(self.upstream)
        ))
        .ok()
    }
}

/// Record a request answered with `status`.
pub fn record_request(mode: Mode, status: u16, timing: Timing) {
    let mode = mode_label(mode);
    metrics::counter!(REQUESTS, "mode" => mode, "code" => status_class(status)).increment(1);
    metrics::histogram!(RESPONSE_TIME, "mode" => mode).record(timing.total.as_secs_f64());
    if !timing.upstream.is_zero() {
        metrics::histogram!(UPSTREAM_TIME, "mode" => mode).record(timing.upstream.as_secs_f64());
        metrics::histogram!(OVERHEAD, "mode" => mode).record(timing.overhead().as_secs_f64());
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
