//! Time source of the in-memory limiter backend.
//!
//! The memory backend reads time through [`Clock`] so unit tests can move
//! time by hand ([`ManualClock`]); production uses [`SystemClock`]. The Redis
//! backend never reads a local clock: its Lua scripts call Redis `TIME`, so
//! instances with skewed clocks agree.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// A source of milliseconds on a monotonic timeline.
///
/// Only differences between readings matter; the origin is arbitrary but
/// fixed for the clock's lifetime.
pub trait Clock: Send + Sync + std::fmt::Debug {
    /// Milliseconds since this clock's origin. Never decreases.
    fn now_ms(&self) -> u64;
}

/// The process's monotonic clock (`Instant`), origin at construction.
#[derive(Debug, Clone, Copy)]
pub struct SystemClock {
    origin: Instant,
}

impl SystemClock {
    /// A clock whose origin is now.
    pub fn new() -> Self {
        Self {
            origin: Instant::now(),
        }
    }
}

impl Default for SystemClock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock for SystemClock {
    fn now_ms(&self) -> u64 {
        u64::try_from(self.origin.elapsed().as_millis()).unwrap_or(u64::MAX)
    }
}

/// A clock that only moves when told to; for tests. Clones share the time.
#[derive(Debug, Clone, Default)]
pub struct ManualClock {
    now: Arc<AtomicU64>,
}

impl ManualClock {
    /// A clock reading `start_ms`.
    pub fn new(start_ms: u64) -> Self {
        Self {
            now: Arc::new(AtomicU64::new(start_ms)),
        }
    }

    /// Move time forward by `by`.
    pub fn advance(&self, by: Duration) {
        let ms = u64::try_from(by.as_millis()).unwrap_or(u64::MAX);
        self.now.fetch_add(ms, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now_ms(&self) -> u64 {
        self.now.load(Ordering::SeqCst)
    }
}
