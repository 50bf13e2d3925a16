//! Spending caps: a token's lifetime `quota`, its `period_quota` and a
//! group's `budget`, enforced atomically against money already spent plus
//! the reservations of requests still in flight.
//!
//! Request path: after `limits` admitted the request and before routing,
//! the relay prices the request's worst case it can foresee (estimated
//! prompt + `max_tokens` at the model's price) and calls
//! [`SpendLedger::reserve`] with one [`SpendCheck`] per cap. The returned
//! [`SpendHold`] is settled with the request's actual amount when its log
//! entry is made; dropping it releases the reservation.
//!
//! Semantics (both backends):
//! - **All or nothing**: every cap admits the reservation, or none records it.
//! - **Admit iff `spent + reserved + cost <= limit`**, with a cost of at
//!   least one unit, so an exhausted cap refuses even free-looking requests.
//! - **The bound**: concurrent requests cannot overspend a cap by more than
//!   the sum of their under-estimates (actual − reserved) while in flight;
//!   a request whose client sets `max_tokens` is reserved exactly.
//! - **Spent** is the larger of the ledger's own running total and the
//!   database's (`base`, from the snapshot): the database is the durable
//!   record (the log sink persists every amount), the ledger adds what is
//!   not flushed yet. A ledger that lost its state (restart, Redis flush)
//!   re-seeds from the database, missing at most the last unflushed batch.
//!
//! Amounts are integer nano-units (1e-9 of the currency), exact in the
//! Redis scripts up to 2^53 nano-units (about 9 million).

mod memory;
mod redis;

use std::sync::Arc;

use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;

pub use self::memory::MemoryLedger;
pub use self::redis::{RedisLedger, RedisLedgerConfig};

/// Nano-units per currency unit.
pub const NANOS_PER_UNIT: i64 = 1_000_000_000;

/// Currency amount → nano-units (rounded; negative and NaN become 0).
pub fn to_nanos(amount: f64) -> i64 {
    if !amount.is_finite() || amount <= 0.0 {
        return 0;
    }
    let nanos = (amount * NANOS_PER_UNIT as f64).round();
    if nanos >= i64::MAX as f64 {
        i64::MAX
    } else {
        nanos as i64
    }
}

/// Decimal amount → nano-units (rounded; negative becomes 0).
pub fn decimal_to_nanos(amount: Decimal) -> i64 {
    if amount <= Decimal::ZERO {
        return 0;
    }
    amount
        .checked_mul(Decimal::from(NANOS_PER_UNIT))
        .and_then(|n| n.round().to_i64())
        .unwrap_or(i64::MAX)
}

/// Which cap a check enforces (for the error message).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpendKind {
    /// The token's lifetime `quota`.
    TokenQuota,
    /// The token's `period_quota` for the current period.
    TokenPeriodQuota,
    /// The group's `budget`.
    GroupBudget,
}

/// One cap a request must fit under.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpendCheck {
    /// Counter name, e.g. `t:{token}`, `t:{token}:p:{period start}`, `g:{group}`.
    pub key: String,
    /// Which cap.
    pub kind: SpendKind,
    /// The cap (nano-units, > 0).
    pub limit: i64,
    /// Spent according to the database (nano-units).
    pub base: i64,
    /// What this request reserves (nano-units).
    pub cost: i64,
}

/// A refused reservation. Nothing was recorded for any check.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SpendRejection {
    /// Check `index` has no room for this request.
    #[error("{kind:?} `{key}` exhausted: {spent} spent + {reserved} reserved + {cost} > {limit}")]
    Exhausted {
        /// Position of the failing check.
        index: usize,
        /// Its key.
        key: String,
        /// Which cap.
        kind: SpendKind,
        /// Spent (nano-units).
        spent: i64,
        /// Reserved by requests in flight (nano-units).
        reserved: i64,
        /// This request's reservation (nano-units).
        cost: i64,
        /// The cap (nano-units).
        limit: i64,
    },
    /// The shared backend failed and the ledger fails closed.
    #[error("spend ledger unavailable: {0}")]
    Unavailable(String),
}

/// The spend ledger of one gateway instance. Clones share state.
#[derive(Debug, Clone)]
pub enum SpendLedger {
    /// In this process (one instance).
    Memory(MemoryLedger),
    /// In Redis (several instances).
    Redis(RedisLedger),
}

impl SpendLedger {
    /// An in-memory ledger.
    pub fn memory() -> Self {
        Self::Memory(MemoryLedger::default())
    }

    /// Reserve `checks`' costs, all or nothing.
    pub async fn reserve(&self, checks: Vec<SpendCheck>) -> Result<SpendHold, SpendRejection> {
        if checks.is_empty() {
            return Ok(SpendHold::empty());
        }
        let checks = checks
            .into_iter()
            .map(|c| SpendCheck {
                cost: c.cost.max(1),
                base: c.base.max(0),
                ..c
            })
            .collect::<Vec<_>>();
        match self {
            Self::Memory(m) => m.reserve(checks),
            Self::Redis(r) => r.reserve(checks).await,
        }
    }
}

/// Where a hold's reservation lives.
#[derive(Debug)]
pub(crate) enum HoldBackend {
    Memory(Arc<memory::Inner>),
    Redis(RedisLedger),
}

/// An admitted request's reservations. Settle with the actual amount;
/// dropping it releases the reservations without charging.
#[derive(Debug)]
#[must_use = "dropping a SpendHold releases its reservation at once"]
pub struct SpendHold {
    keys: Vec<String>,
    lease: String,
    backend: Option<HoldBackend>,
}

impl SpendHold {
    pub(crate) fn new(keys: Vec<String>, lease: String, backend: HoldBackend) -> Self {
        Self {
            keys,
            lease,
            backend: Some(backend),
        }
    }

    /// A hold that reserved nothing.
    pub fn empty() -> Self {
        Self {
            keys: Vec::new(),
            lease: String::new(),
            backend: None,
        }
    }

    /// Charge `amount` (nano-units) to every cap and release the reservations.
    pub async fn settle(mut self, amount: i64) {
        let Some(backend) = self.backend.take() else {
            return;
        };
        let keys = std::mem::take(&mut self.keys);
        match backend {
            HoldBackend::Memory(inner) => inner.settle(&keys, &self.lease, amount.max(0)),
            HoldBackend::Redis(ledger) => {
                let lease = std::mem::take(&mut self.lease);
                // Its own task: a cancelled caller cannot lose the charge.
                let task =
                    tokio::spawn(async move { ledger.settle(&keys, &lease, amount.max(0)).await });
                let _ = task.await;
            }
        }
    }
}

impl Drop for SpendHold {
    fn drop(&mut self) {
        let Some(backend) = self.backend.take() else {
            return;
        };
        let keys = std::mem::take(&mut self.keys);
        let lease = std::mem::take(&mut self.lease);
        match backend {
            HoldBackend::Memory(inner) => inner.settle(&keys, &lease, 0),
            HoldBackend::Redis(ledger) => {
                if let Ok(runtime) = tokio::runtime::Handle::try_current() {
                    runtime.spawn(async move { ledger.settle(&keys, &lease, 0).await });
                }
            }
        }
    }
}

#[cfg(test)]
mod tests;
