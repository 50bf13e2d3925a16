//! Rate, token and concurrency limits: RPM/TPM per (group, model) and per
//! token, concurrency per group — exact on one instance and across many.
//!
//! Request path: after `auth` has resolved key → token → group and before
//! `routing`, the relay builds the request's [`LimitCheck`]s and calls
//! [`Limiter::acquire`]. A refusal becomes a 429 (or a 503 for
//! [`LimitRejection::Unavailable`]) with `Retry-After`; an [`Admission`]
//! supplies the `X-RateLimit-*` values and is settled by accounting with
//! the actual usage once the response is done.
//!
//! Semantics, identical for both backends (one conformance suite runs
//! against both):
//! - **All or nothing.** An acquire admits every check and records every
//!   cost, or records nothing.
//! - **Sliding windows** of 60 buckets (`window.rs`): every recorded cost
//!   counts for at least the window and at most one bucket (1 s of 60 s)
//!   longer, so any interval of one window admits at most the limit.
//! - **Admit iff `used + cost <= limit`.** TPM reserves estimated prompt +
//!   max output up front, so a request never crosses the limit by more
//!   than its own under-estimate; a cost above the whole limit is refused
//!   outright ([`LimitRejection::TooLarge`]).
//! - **Reserve, then reconcile** ([`Admission::settle`]), and dropping an
//!   unsettled admission releases its concurrency slots.
//!
//! The backend is an enum rather than a trait object: there are exactly
//! two, async methods stay plain `async fn`s without boxing, and matching
//! keeps the failure policy visible in one place. The memory backend is
//! for a single instance; with `REDIS` set every instance must use the
//! Redis backend, whose [`RedisFailureMode`] says what happens when Redis
//! fails (never a silent switch to per-instance counting).

mod admission;
mod clock;
mod memory;
mod redis;
mod types;
mod window;

pub use admission::Admission;
pub use clock::{Clock, ManualClock, SystemClock};
pub use memory::{MemoryLimiter, MemoryLimiterConfig};
pub use redis::{RedisFailureMode, RedisLimiter, RedisLimiterConfig};
pub use types::{
    CONCURRENCY_RETRY_AFTER, CheckStatus, LimitCheck, LimitError, LimitKind, LimitRejection,
    UNAVAILABLE_RETRY_AFTER, limit_key,
};
pub use window::BUCKETS;

pub(crate) use redis::lazy_connection as redis_connection;

/// Counter of failed backend calls, labelled `backend` and `op`.
pub const BACKEND_ERRORS: &str = "switchyard_limiter_backend_errors_total";

/// The limiter of one gateway instance. Clones share counters.
#[derive(Debug, Clone)]
pub enum Limiter {
    /// Counters in this process (one instance).
    Memory(MemoryLimiter),
    /// Counters in Redis (several instances).
    Redis(RedisLimiter),
}

impl Limiter {
    /// An in-memory limiter with default tuning.
    pub fn memory() -> Self {
        Self::Memory(MemoryLimiter::new())
    }

    /// A Redis limiter (connects lazily; see [`RedisLimiter::new`]).
    pub fn redis(config: RedisLimiterConfig) -> Result<Self, LimitError> {
        RedisLimiter::new(config).map(Self::Redis)
    }

    /// Admit every check of `request` and record its cost, or none.
    ///
    /// Memory: a short critical section, no `.await`. Redis: one script
    /// call; on a Redis failure the [`RedisFailureMode`] decides.
    pub async fn acquire(&self, request: &[LimitCheck]) -> Result<Admission, LimitRejection> {
        match self {
            Self::Memory(m) => m.acquire(request),
            Self::Redis(r) => r.acquire(request).await,
        }
    }

    /// Failed backend calls since start (always 0 for memory).
    pub fn backend_errors(&self) -> u64 {
        match self {
            Self::Memory(_) => 0,
            Self::Redis(r) => r.backend_errors(),
        }
    }
}

#[cfg(test)]
mod tests;
