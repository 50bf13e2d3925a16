//! Recording request outcomes into histograms and summarising them.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use serde::Serialize;

/// Highest value the histograms track, in microseconds (one hour).
const MAX_US: u64 = 3_600_000_000;

/// Why a request did not produce a complete response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// The whole exchange exceeded `--timeout`.
    Timeout,
    /// The connection could not be established.
    Connect,
    /// The request failed on an established connection.
    Request,
    /// The response body failed midway.
    Body,
    /// The arrival found `--concurrency-limit` requests in flight and was not sent.
    Dropped,
}

impl Failure {
    /// Name used in `errors_by_kind`.
    pub fn name(self) -> &'static str {
        match self {
            Failure::Timeout => "timeout",
            Failure::Connect => "connect",
            Failure::Request => "request",
            Failure::Body => "body",
            Failure::Dropped => "dropped",
        }
    }
}

/// A response read to its end.
#[derive(Debug, Clone)]
pub struct Completed {
    /// HTTP status.
    pub status: u16,
    /// First body byte, if the body was not empty.
    pub first_byte: Option<Instant>,
    /// Last body byte (end of the exchange).
    pub end: Instant,
    /// Whether the response was `text/event-stream`.
    pub sse: bool,
    /// SSE events received.
    pub events: u64,
    /// Gaps between consecutive SSE events, in microseconds.
    pub gaps_us: Vec<u64>,
    /// Body bytes received.
    pub bytes: u64,
}

/// Summary of one histogram, in microseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, serde::Deserialize)]
pub struct Percentiles {
    /// Number of values.
    pub count: u64,
    /// Smallest value.
    pub min: u64,
    /// Mean.
    pub mean: f64,
    /// Median.
    pub p50: u64,
    /// 90th percentile.
    pub p90: u64,
    /// 99th percentile.
    pub p99: u64,
    /// 99.9th percentile.
    pub p999: u64,
    /// Largest value.
    pub max: u64,
}

impl Percentiles {
    /// Summarises a histogram (all zeros when empty).
    pub fn of(h: &Histogram<u64>) -> Self {
        if h.is_empty() {
            return Self::default();
        }
        Self {
            count: h.len(),
            min: h.min(),
            mean: h.mean(),
            p50: h.value_at_quantile(0.50),
            p90: h.value_at_quantile(0.90),
            p99: h.value_at_quantile(0.99),
            p999: h.value_at_quantile(0.999),
            max: h.max(),
        }
    }
}

/// Stream figures over all streamed (SSE) 2xx responses.
#[derive(Debug, Clone, Default, PartialEq, Serialize, serde::Deserialize)]
pub struct StreamSummary {
    /// Streamed responses.
    pub responses: u64,
    /// SSE events over all of them.
    pub events_total: u64,
    /// Fewest events in one response.
    pub events_min: u64,
    /// Mean events per response.
    pub events_avg: f64,
    /// Most events in one response.
    pub events_max: u64,
    /// Responses whose event count differed from `--expect-events`.
    pub events_mismatched: u64,
    /// Gaps between consecutive events, in microseconds.
    pub gap_us: Percentiles,
}

/// Accumulates the measured outcomes of a run.
#[derive(Debug)]
pub struct Recorder {
    expect_events: Option<u64>,
    /// Measured requests (including dropped ones).
    pub count: u64,
    /// 2xx responses read completely (with the expected event count, if set).
    pub ok: u64,
    /// Failures and non-2xx responses by kind.
    pub errors: BTreeMap<String, u64>,
    /// Responses by status code.
    pub statuses: BTreeMap<u16, u64>,
    /// Body bytes received.
    pub bytes_in: u64,
    latency: Histogram<u64>,
    service: Histogram<u64>,
    lag: Histogram<u64>,
    ttfb: Histogram<u64>,
    gaps: Histogram<u64>,
    stream: StreamSummary,
}

fn histogram() -> Result<Histogram<u64>, hdrhistogram::CreationError> {
    Histogram::new_with_bounds(1, MAX_US, 3)
}

/// Microseconds between two instants (zero if `to` is earlier).
pub fn micros(from: Instant, to: Instant) -> u64 {
    u64::try_from(to.saturating_duration_since(from).as_micros()).unwrap_or(u64::MAX)
}

impl Recorder {
    /// An empty recorder.
    pub fn new(expect_events: Option<u64>) -> Result<Self, hdrhistogram::CreationError> {
        Ok(Self {
            expect_events,
            count: 0,
            ok: 0,
            errors: BTreeMap::new(),
            statuses: BTreeMap::new(),
            bytes_in: 0,
            latency: histogram()?,
            service: histogram()?,
            lag: histogram()?,
            ttfb: histogram()?,
            gaps: histogram()?,
            stream: StreamSummary::default(),
        })
    }

    /// Records one request. `origin` is when it was due (open loop) or sent (closed
    /// loop); latency and TTFB are measured from it. `sent` is when it was really sent.
    pub fn record(&mut self, origin: Instant, sent: Instant, outcome: Result<Completed, Failure>) {
        self.count += 1;
        let done = match outcome {
            Ok(done) => done,
            Err(failure) => {
                self.error(failure.name());
                return;
            }
        };
        *self.statuses.entry(done.status).or_default() += 1;
        self.bytes_in += done.bytes;
        let success = (200..300).contains(&done.status);
        let mut events_ok = true;
        if success && done.sse {
            events_ok = self.record_stream(&done);
        }
        if !success {
            self.error(&format!("status_{}", done.status));
            return;
        }
        if !events_ok {
            self.error("events_mismatch");
            return;
        }
        self.ok += 1;
        self.latency.saturating_record(micros(origin, done.end));
        self.service.saturating_record(micros(sent, done.end));
        self.lag.saturating_record(micros(origin, sent));
        self.ttfb
            .saturating_record(micros(origin, done.first_byte.unwrap_or(done.end)));
    }

    /// Records an arrival dropped at the concurrency limit.
    pub fn record_dropped(&mut self) {
        self.count += 1;
        self.error(Failure::Dropped.name());
    }

    fn error(&mut self, kind: &str) {
        match self.errors.get_mut(kind) {
            Some(n) => *n += 1,
            None => {
                self.errors.insert(kind.to_string(), 1);
            }
        }
    }

    fn record_stream(&mut self, done: &Completed) -> bool {
        let s = &mut self.stream;
        s.events_min = if s.responses == 0 {
            done.events
        } else {
            s.events_min.min(done.events)
        };
        s.events_max = s.events_max.max(done.events);
        s.responses += 1;
        s.events_total += done.events;
        for &gap in &done.gaps_us {
            self.gaps.saturating_record(gap);
        }
        let matches = self.expect_events.is_none_or(|n| n == done.events);
        if !matches {
            s.events_mismatched += 1;
        }
        matches
    }

    /// Latency (due/sent → last byte) of successful requests.
    pub fn latency(&self) -> Percentiles {
        Percentiles::of(&self.latency)
    }

    /// Service time (actually sent → last byte).
    pub fn service_time(&self) -> Percentiles {
        Percentiles::of(&self.service)
    }

    /// Send lag (due → actually sent); zero in closed-loop modes.
    pub fn send_lag(&self) -> Percentiles {
        Percentiles::of(&self.lag)
    }

    /// Time to first body byte.
    pub fn ttfb(&self) -> Percentiles {
        Percentiles::of(&self.ttfb)
    }

    /// Stream figures, if any SSE response was seen.
    pub fn stream(&self) -> Option<StreamSummary> {
        (self.stream.responses > 0).then(|| StreamSummary {
            events_avg: self.stream.events_total as f64 / self.stream.responses as f64,
            gap_us: Percentiles::of(&self.gaps),
            ..self.stream.clone()
        })
    }
}

/// Converts a duration to whole microseconds (saturating).
pub fn duration_us(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn done(origin: Instant, us: u64, status: u16) -> Completed {
        Completed {
            status,
            first_byte: Some(origin + Duration::from_micros(us / 2)),
            end: origin + Duration::from_micros(us),
            sse: false,
            events: 0,
            gaps_us: Vec::new(),
            bytes: 10,
        }
    }

    #[test]
    fn percentiles_of_uniform_values() -> anyhow::Result<()> {
        let t0 = Instant::now();
        let mut r = Recorder::new(None)?;
        for us in 1..=10_000 {
            r.record(t0, t0, Ok(done(t0, us, 200)));
        }
        let p = r.latency();
        assert_eq!(p.count, 10_000);
        assert_eq!(p.min, 1);
        assert!(
            p.max.abs_diff(10_000) <= 10,
            "3 significant digits: within 0.1%"
        );
        for (got, want) in [
            (p.p50, 5_000),
            (p.p90, 9_000),
            (p.p99, 9_900),
            (p.p999, 9_990),
        ] {
            assert!(got.abs_diff(want) <= want / 1000 + 1, "{got} vs {want}");
        }
        assert!((p.mean - 5_000.5).abs() < 10.0);
        assert!(r.ttfb().p50.abs_diff(2_500) <= 5);
        Ok(())
    }

    #[test]
    fn errors_and_statuses_are_split() -> anyhow::Result<()> {
        let t0 = Instant::now();
        let mut r = Recorder::new(None)?;
        r.record(t0, t0, Ok(done(t0, 100, 200)));
        r.record(t0, t0, Ok(done(t0, 100, 503)));
        r.record(t0, t0, Err(Failure::Timeout));
        r.record_dropped();
        assert_eq!((r.count, r.ok), (4, 1));
        assert_eq!(r.errors.get("status_503"), Some(&1));
        assert_eq!(r.errors.get("timeout"), Some(&1));
        assert_eq!(r.errors.get("dropped"), Some(&1));
        assert_eq!(r.statuses.get(&503), Some(&1));
        assert_eq!(
            r.latency().count,
            1,
            "only successes enter the latency histogram"
        );
        Ok(())
    }

    #[test]
    fn latency_counts_from_the_due_time() -> anyhow::Result<()> {
        let due = Instant::now();
        let sent = due + Duration::from_micros(300);
        let mut r = Recorder::new(None)?;
        r.record(due, sent, Ok(done(due, 1_000, 200)));
        assert_eq!(r.latency().p50, 1_000);
        assert_eq!(r.service_time().p50, 700);
        assert_eq!(r.send_lag().p50, 300);
        Ok(())
    }

    #[test]
    fn stream_summary_and_expected_events() -> anyhow::Result<()> {
        let t0 = Instant::now();
        let mut r = Recorder::new(Some(3))?;
        for events in [3, 3, 5] {
            let mut d = done(t0, 100, 200);
            d.sse = true;
            d.events = events;
            d.gaps_us = vec![10; events as usize - 1];
            r.record(t0, t0, Ok(d));
        }
        let s = r.stream().unwrap_or_default();
        assert_eq!(
            (s.responses, s.events_total, s.events_min, s.events_max),
            (3, 11, 3, 5)
        );
        assert_eq!(s.events_mismatched, 1);
        assert_eq!(s.gap_us.count, 8);
        assert_eq!(r.ok, 2);
        assert_eq!(r.errors.get("events_mismatch"), Some(&1));
        Ok(())
    }
}
