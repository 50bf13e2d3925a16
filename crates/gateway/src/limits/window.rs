//! Sliding-window arithmetic shared by both limiter backends.
//!
//! A window of length `W` is cut into [`BUCKETS`] buckets of width
//! `w = ceil(W / 60)` milliseconds (1 s for the usual 60 s RPM/TPM window,
//! as in AI Proxy). A cost recorded at time `t` lands in bucket
//! `floor(t / w)` and is counted while the current bucket index is at most
//! 60 past it, so every cost stays counted for **at least `W` and at most
//! `W + w`**: within any interval of length `W` no more than the limit is
//! ever admitted (the conservative side of bucketing).
//!
//! The memory backend uses [`WindowState`] directly; the Redis backend's
//! `lua/acquire.lua` and `lua/settle.lua` implement the same rules, and the
//! conformance tests run the same cases against both.

use std::collections::VecDeque;
use std::time::Duration;

/// Buckets per window. A bucket stays live for `BUCKETS + 1` bucket widths.
pub const BUCKETS: u64 = 60;

/// Milliseconds of `window`, saturating.
pub fn window_ms(window: Duration) -> u64 {
    u64::try_from(window.as_millis()).unwrap_or(u64::MAX)
}

/// Bucket width for `window`: `ceil(window / BUCKETS)`, at least 1 ms.
pub fn bucket_width_ms(window: Duration) -> u64 {
    window_ms(window).div_ceil(BUCKETS).max(1)
}

/// The bucket containing `now_ms`.
pub fn bucket_of(now_ms: u64, width: u64) -> u64 {
    now_ms / width
}

/// The instant (ms) at which a cost recorded in `bucket` stops counting.
pub fn bucket_expiry_ms(bucket: u64, width: u64) -> u64 {
    bucket.saturating_add(BUCKETS + 1).saturating_mul(width)
}

/// Whether `bucket` is still counted at `now_ms`.
pub fn is_live(bucket: u64, width: u64, now_ms: u64) -> bool {
    bucket_expiry_ms(bucket, width) > now_ms
}

/// One key's counted costs: live buckets in ascending order and their sum.
#[derive(Debug, Clone)]
pub struct WindowState {
    width: u64,
    buckets: VecDeque<(u64, u64)>,
    total: u64,
}

impl WindowState {
    /// An empty window with buckets of `width` ms.
    pub fn new(width: u64) -> Self {
        Self {
            width,
            buckets: VecDeque::new(),
            total: 0,
        }
    }

    /// The bucket width this state was built for.
    pub fn width(&self) -> u64 {
        self.width
    }

    /// Forget buckets that stopped counting at `now_ms`.
    pub fn evict(&mut self, now_ms: u64) {
        while let Some(&(bucket, cost)) = self.buckets.front() {
            if is_live(bucket, self.width, now_ms) {
                break;
            }
            self.total = self.total.saturating_sub(cost);
            self.buckets.pop_front();
        }
    }

    /// The sum of live costs (call [`evict`](Self::evict) first).
    pub fn used(&self) -> u64 {
        self.total
    }

    /// Whether nothing is counted.
    pub fn is_empty(&self) -> bool {
        self.buckets.is_empty()
    }

    /// Record `cost` in the bucket of `now_ms`; returns that bucket.
    pub fn add(&mut self, now_ms: u64, cost: u64) -> u64 {
        let bucket = bucket_of(now_ms, self.width);
        if cost == 0 {
            return bucket;
        }
        self.total = self.total.saturating_add(cost);
        match self.buckets.binary_search_by_key(&bucket, |&(b, _)| b) {
            Ok(i) => {
                if let Some(slot) = self.buckets.get_mut(i) {
                    slot.1 = slot.1.saturating_add(cost);
                }
            }
            Err(i) => self.buckets.insert(i, (bucket, cost)),
        }
        bucket
    }

    /// Take up to `amount` back out of `bucket`, never below zero; a bucket
    /// that already expired (or never existed) is left alone.
    pub fn subtract(&mut self, bucket: u64, amount: u64) {
        let Ok(i) = self.buckets.binary_search_by_key(&bucket, |&(b, _)| b) else {
            return;
        };
        let Some(slot) = self.buckets.get_mut(i) else {
            return;
        };
        let taken = slot.1.min(amount);
        slot.1 -= taken;
        self.total = self.total.saturating_sub(taken);
        if slot.1 == 0 {
            self.buckets.remove(i);
        }
    }

    /// Milliseconds from `now_ms` until at least `excess` has left the
    /// window (oldest buckets first). When the live buckets cannot free that
    /// much, a full window plus one bucket.
    pub fn retry_after_ms(&self, now_ms: u64, excess: u64) -> u64 {
        let mut freed = 0u64;
        for &(bucket, cost) in &self.buckets {
            freed = freed.saturating_add(cost);
            if freed >= excess {
                return bucket_expiry_ms(bucket, self.width).saturating_sub(now_ms);
            }
        }
        (BUCKETS + 1).saturating_mul(self.width)
    }

    /// Milliseconds from `now_ms` until the oldest counted cost leaves the
    /// window (when `remaining` next grows); `None` when nothing is counted.
    pub fn reset_after_ms(&self, now_ms: u64) -> Option<u64> {
        self.buckets
            .front()
            .map(|&(bucket, _)| bucket_expiry_ms(bucket, self.width).saturating_sub(now_ms))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn width_is_a_sixtieth_of_the_window_rounded_up() {
        assert_eq!(bucket_width_ms(Duration::from_secs(60)), 1000);
        assert_eq!(bucket_width_ms(Duration::from_secs(3600)), 60_000);
        assert_eq!(bucket_width_ms(Duration::from_millis(61)), 2);
        assert_eq!(bucket_width_ms(Duration::ZERO), 1);
    }

    #[test]
    fn a_cost_counts_for_at_least_the_window_and_at_most_one_bucket_more() {
        let width = 1000;
        // recorded at the very end of bucket 5 (5999 ms)
        assert!(is_live(5, width, 5999 + 60_000));
        assert!(is_live(5, width, 65_999));
        assert!(!is_live(5, width, 66_000));
        // recorded at the very start of bucket 5 (5000 ms): 61 s
        assert_eq!(bucket_expiry_ms(5, width) - 5000, 61_000);
    }

    #[test]
    fn evict_add_subtract_keep_the_total() {
        let mut w = WindowState::new(1000);
        assert_eq!(w.add(500, 3), 0);
        assert_eq!(w.add(1500, 4), 1);
        assert_eq!(w.add(1600, 1), 1);
        assert_eq!(w.used(), 8);
        w.subtract(1, 10);
        assert_eq!(w.used(), 3);
        w.subtract(7, 10);
        assert_eq!(w.used(), 3);
        w.evict(60_999);
        assert_eq!(w.used(), 3);
        w.evict(61_000);
        assert_eq!(w.used(), 0);
        assert!(w.is_empty());
    }

    #[test]
    fn retry_after_frees_the_oldest_buckets_first() {
        let mut w = WindowState::new(1000);
        w.add(0, 2);
        w.add(10_000, 5);
        w.add(20_000, 3);
        let now = 30_000;
        assert_eq!(w.retry_after_ms(now, 1), 61_000 - now);
        assert_eq!(w.retry_after_ms(now, 3), 71_000 - now);
        assert_eq!(w.retry_after_ms(now, 10), 81_000 - now);
        assert_eq!(w.retry_after_ms(now, 11), 61_000);
        assert_eq!(w.reset_after_ms(now), Some(31_000));
        assert_eq!(WindowState::new(1000).reset_after_ms(now), None);
    }
}
