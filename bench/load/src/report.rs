//! The run report: one JSON object (`--json`) or a human-readable table.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::config::{LoadConfig, Mode, ModeName};
use crate::stats::{Percentiles, Recorder, StreamSummary};

/// Results of a run. Times are in microseconds, rates in requests per second.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// `--label`.
    pub label: Option<String>,
    /// `rate`, `saturate` or `streams`.
    pub mode: ModeName,
    /// Target URL.
    pub url: String,
    /// HTTP method.
    pub method: String,
    /// Request body size.
    pub body_bytes: usize,
    /// Arrival rate (rate mode).
    pub target_rate: Option<f64>,
    /// Workers or streams (closed-loop modes).
    pub concurrency: Option<usize>,
    /// Measured window.
    pub duration_s: f64,
    /// Warm-up before it.
    pub warmup_s: f64,
    /// Wall time of the whole run (warm-up and drain included).
    pub wall_s: f64,
    /// Measured requests, dropped ones included.
    pub count: u64,
    /// Successful requests (2xx, body complete, expected event count if set).
    pub ok: u64,
    /// `count - ok`.
    pub errors: u64,
    /// Arrivals dropped at `--concurrency-limit` (also in `errors_by_kind`).
    pub dropped: u64,
    /// Errors by kind: `status_NNN`, `timeout`, `connect`, `request`, `body`,
    /// `dropped`, `events_mismatch`.
    pub errors_by_kind: BTreeMap<String, u64>,
    /// Responses by HTTP status.
    pub status_codes: BTreeMap<String, u64>,
    /// Requests actually sent per second of the measured window.
    pub sent_rate: f64,
    /// Successful requests per second of the measured window.
    pub achieved_rate: f64,
    /// Most requests in flight at once (whole run).
    pub max_in_flight: u64,
    /// Response body bytes received.
    pub bytes_in: u64,
    /// Due time (rate mode) or send time → last byte, successes only.
    pub latency_us: Percentiles,
    /// Due/send time → first body byte.
    pub ttfb_us: Percentiles,
    /// Actual send → last byte (equals latency in closed-loop modes).
    pub service_time_us: Percentiles,
    /// Due → actual send: the driver's own lateness (zero in closed-loop modes).
    pub send_lag_us: Percentiles,
    /// Present when any 2xx response was `text/event-stream`.
    pub stream: Option<StreamSummary>,
}

impl Report {
    /// Builds the report from a finished run.
    pub fn new(config: &LoadConfig, rec: &Recorder, max_in_flight: u64, wall: Duration) -> Self {
        let secs = config.duration.as_secs_f64();
        let dropped = rec.errors.get("dropped").copied().unwrap_or(0);
        let (target_rate, concurrency) = match config.mode {
            Mode::Rate(r) => (Some(r), None),
            Mode::Saturate(n) | Mode::Streams(n) => (None, Some(n)),
        };
        Self {
            label: config.label.clone(),
            mode: config.mode.name(),
            url: config.url.to_string(),
            method: config.method.to_string(),
            body_bytes: config.body.len(),
            target_rate,
            concurrency,
            duration_s: secs,
            warmup_s: config.warmup.as_secs_f64(),
            wall_s: wall.as_secs_f64(),
            count: rec.count,
            ok: rec.ok,
            errors: rec.count - rec.ok,
            dropped,
            errors_by_kind: rec.errors.clone(),
            status_codes: rec
                .statuses
                .iter()
                .map(|(k, v)| (k.to_string(), *v))
                .collect(),
            sent_rate: (rec.count - dropped) as f64 / secs,
            achieved_rate: rec.ok as f64 / secs,
            max_in_flight,
            bytes_in: rec.bytes_in,
            latency_us: rec.latency(),
            ttfb_us: rec.ttfb(),
            service_time_us: rec.service_time(),
            send_lag_us: rec.send_lag(),
            stream: rec.stream(),
        }
    }

    /// The human-readable table.
    pub fn to_table(&self) -> String {
        let mut t = String::new();
        let _ = self.write_table(&mut t);
        t
    }

    fn write_table(&self, t: &mut String) -> std::fmt::Result {
        if let Some(label) = &self.label {
            writeln!(t, "label        {label}")?;
        }
        let load = match (self.target_rate, self.concurrency) {
            (Some(r), _) => format!("rate {r} req/s"),
            (None, Some(c)) => format!("{c} concurrent"),
            (None, None) => String::new(),
        };
        writeln!(
            t,
            "target       {} {}  ({} B body)",
            self.method, self.url, self.body_bytes
        )?;
        writeln!(
            t,
            "load         {}, {load}, {:.1}s measured after {:.1}s warm-up (wall {:.1}s)",
            self.mode.as_str(),
            self.duration_s,
            self.warmup_s,
            self.wall_s
        )?;
        writeln!(
            t,
            "requests     {} total, {} ok, {} errors ({} dropped), max in flight {}",
            self.count, self.ok, self.errors, self.dropped, self.max_in_flight
        )?;
        writeln!(
            t,
            "throughput   sent {:.1}/s, ok {:.1}/s",
            self.sent_rate, self.achieved_rate
        )?;
        if !self.errors_by_kind.is_empty() {
            let kinds: Vec<String> = self
                .errors_by_kind
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            writeln!(t, "errors       {}", kinds.join(" "))?;
        }
        writeln!(
            t,
            "{:<13}{:>9} {:>9} {:>9} {:>9} {:>9} {:>9}",
            "ms", "p50", "p90", "p99", "p99.9", "max", "mean"
        )?;
        let mut row = |name: &str, p: &Percentiles| {
            let ms = |us: u64| us as f64 / 1000.0;
            writeln!(
                t,
                "{name:<13}{:>9.3} {:>9.3} {:>9.3} {:>9.3} {:>9.3} {:>9.3}",
                ms(p.p50),
                ms(p.p90),
                ms(p.p99),
                ms(p.p999),
                ms(p.max),
                p.mean / 1000.0
            )
        };
        row("latency", &self.latency_us)?;
        row("ttfb", &self.ttfb_us)?;
        if self.mode == ModeName::Rate {
            row("service", &self.service_time_us)?;
            row("send lag", &self.send_lag_us)?;
        }
        if let Some(s) = &self.stream {
            row("event gap", &s.gap_us)?;
            writeln!(
                t,
                "stream       {} responses, {} events, per stream min {} avg {:.1} max {}, mismatched {}",
                s.responses,
                s.events_total,
                s.events_min,
                s.events_avg,
                s.events_max,
                s.events_mismatched
            )?;
        }
        Ok(())
    }
}
