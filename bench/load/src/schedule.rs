//! The open-loop arrival schedule.
//!
//! Arrival `i` is due at `start + i / rate`, whatever happened to earlier requests.
//! Latency is measured from that due time, not from when the request was actually
//! sent, so a slow server (or a late driver) shows up in the numbers instead of
//! quietly lowering the offered load (coordinated omission).

use std::time::{Duration, Instant};

/// Fixed-rate arrivals split into a warm-up and a measured window.
#[derive(Debug, Clone, Copy)]
pub struct Schedule {
    start: Instant,
    rate: f64,
    warmup_arrivals: u64,
    total_arrivals: u64,
}

impl Schedule {
    /// A schedule starting at `start`, `rate` arrivals per second, measuring the
    /// arrivals due in `[start + warmup, start + warmup + duration)`.
    pub fn new(start: Instant, rate: f64, warmup: Duration, duration: Duration) -> Self {
        Self {
            start,
            rate,
            warmup_arrivals: arrivals_before(rate, warmup),
            total_arrivals: arrivals_before(rate, warmup + duration),
        }
    }

    /// When arrival `i` is due.
    pub fn due(&self, i: u64) -> Instant {
        self.start + offset(self.rate, i)
    }

    /// Whether arrival `i` falls in the measured window.
    pub fn measured(&self, i: u64) -> bool {
        i >= self.warmup_arrivals
    }

    /// Number of arrivals in the whole run (warm-up included).
    pub fn total(&self) -> u64 {
        self.total_arrivals
    }

    /// Number of measured arrivals.
    pub fn measured_total(&self) -> u64 {
        self.total_arrivals - self.warmup_arrivals
    }
}

/// Cap on the oversleep estimate.
const MAX_COMPENSATION: Duration = Duration::from_micros(200);

/// Sleeps a thread until about an instant with better precision than a plain sleep:
/// it learns how late the OS wakes it (timer slack, ~50–100 µs on Linux, more in a
/// VM) and sleeps that much less. It does not spin: on a 2-core machine shared with
/// the server under test, a spinning driver hurts the tail more than it helps. It may
/// therefore return a few µs early; callers measure from `min(due, sent)`.
#[derive(Debug, Default, Clone)]
pub struct Pacer {
    oversleep_ns: u64,
}

impl Pacer {
    /// A pacer with no estimate yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Current estimate of how late a sleep wakes up.
    pub fn oversleep(&self) -> Duration {
        Duration::from_nanos(self.oversleep_ns)
    }

    /// Feeds one observation: a sleep meant to end at `wanted` ended at `woke`.
    pub fn observe(&mut self, wanted: Instant, woke: Instant) {
        let late = woke.saturating_duration_since(wanted).min(MAX_COMPENSATION);
        let late = u64::try_from(late.as_nanos()).unwrap_or(u64::MAX);
        // exponentially weighted: 1/8 of each new observation
        self.oversleep_ns = self.oversleep_ns - self.oversleep_ns / 8 + late / 8;
    }

    /// Blocks the thread until about `due` (returns at once if it has passed).
    pub fn wait_until(&mut self, due: Instant) {
        let wake = due.checked_sub(self.oversleep()).unwrap_or(due);
        let now = Instant::now();
        if wake > now {
            std::thread::sleep(wake - now);
            self.observe(wake, Instant::now());
        }
    }
}

/// Offset of arrival `i` from the start.
pub fn offset(rate: f64, i: u64) -> Duration {
    Duration::from_secs_f64(i as f64 / rate)
}

/// Number of arrivals due strictly before `elapsed` (`ceil(elapsed × rate)`).
pub fn arrivals_before(rate: f64, elapsed: Duration) -> u64 {
    let exact = elapsed.as_secs_f64() * rate;
    // Guard against 1e-12 rounding turning 2000.0 into 2000.000000001.
    (exact - 1e-9).ceil().max(0.0) as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_match_rate_times_duration() {
        let s = Schedule::new(
            Instant::now(),
            2000.0,
            Duration::from_secs(2),
            Duration::from_secs(10),
        );
        assert_eq!(s.total(), 24_000);
        assert_eq!(s.measured_total(), 20_000);
        assert!(!s.measured(3_999));
        assert!(s.measured(4_000));
    }

    #[test]
    fn due_times_are_evenly_spaced_without_drift() {
        let t0 = Instant::now();
        let s = Schedule::new(t0, 3000.0, Duration::ZERO, Duration::from_secs(1));
        assert_eq!(s.due(0), t0);
        let last = s.due(2999) - t0;
        let expected = Duration::from_nanos(999_666_667);
        assert!(
            last.abs_diff(expected) < Duration::from_nanos(2),
            "{last:?}"
        );
        // one hour at 10k/s: the 36 millionth arrival is still exact to the microsecond
        let far = offset(10_000.0, 36_000_000);
        assert!(far.abs_diff(Duration::from_secs(3600)) < Duration::from_micros(1));
    }

    #[test]
    fn pacer_learns_oversleep() {
        let mut p = Pacer::new();
        let t0 = Instant::now();
        for _ in 0..64 {
            p.observe(t0, t0 + Duration::from_micros(80));
        }
        assert!(p.oversleep().abs_diff(Duration::from_micros(80)) < Duration::from_micros(2));
        p.observe(t0, t0 + Duration::from_secs(1));
        assert!(p.oversleep() < MAX_COMPENSATION, "one huge stall is capped");
        let due = Instant::now() + Duration::from_millis(2);
        p.wait_until(due);
        assert!(Instant::now() + MAX_COMPENSATION >= due);
    }

    #[test]
    fn fractional_rates() {
        assert_eq!(arrivals_before(0.5, Duration::from_secs(3)), 2);
        assert_eq!(arrivals_before(7.0, Duration::from_millis(1000)), 7);
        assert_eq!(arrivals_before(7.0, Duration::from_millis(1001)), 8);
        assert_eq!(arrivals_before(100.0, Duration::ZERO), 0);
        assert_eq!(offset(4.0, 3), Duration::from_millis(750));
    }
}
