//! The guard an admitted request holds until it finishes.
//!
//! Sits between `limits` on the way in (`Limiter::acquire` returns it) and
//! accounting on the way out (`Admission::settle` reconciles reservations
//! with actual usage). Dropping it without settling — a cancelled request,
//! a client that went away, an error path — releases its concurrency slots
//! and keeps window costs as reserved (a TPM reservation is then the
//! request's charge against the window). Only a process crash can skip the
//! release; the Redis backend's slots are leases that expire on their own
//! for that case (`RedisLimiterConfig::lease_ttl`).

use std::sync::Arc;

use super::memory::MemoryInner;
use super::redis::RedisLimiter;
use super::types::{CheckStatus, LimitCheck, LimitError, LimitKind};

/// What acquire recorded for one check, needed to undo or adjust it.
#[derive(Debug, Clone)]
pub(crate) struct Reserved {
    /// Backend key (the caller's key for memory, prefixed for Redis).
    pub key: Arc<str>,
    /// Bucket width in ms for window checks; `None` for concurrency.
    pub width: Option<u64>,
    /// The reserved cost (slots for concurrency).
    pub cost: u64,
    /// The bucket the cost went into (window checks).
    pub bucket: u64,
}

/// One change a settle or release applies to a backend.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Step {
    /// Add `delta` (> 0) to the current bucket, or take `-delta` (< 0) back
    /// out of `bucket`, never below zero.
    Adjust {
        key: Arc<str>,
        width: u64,
        bucket: u64,
        delta: i64,
    },
    /// Give back `slots` concurrency slots of the admission's lease.
    Release { key: Arc<str>, slots: u64 },
}

/// Which backend holds the reservation, and under which lease id.
#[derive(Debug)]
pub(crate) enum Held {
    Memory {
        inner: Arc<MemoryInner>,
        lease: u64,
    },
    Redis {
        limiter: RedisLimiter,
        lease: String,
    },
}

/// An admitted request's reservations. Settle it with the actual costs
/// when the request is done; dropping it releases its concurrency slots.
#[derive(Debug)]
#[must_use = "dropping an Admission at once releases its concurrency slots"]
pub struct Admission {
    statuses: Vec<CheckStatus>,
    reserved: Vec<Reserved>,
    held: Option<Held>,
    degraded: bool,
}

impl Admission {
    pub(crate) fn new(statuses: Vec<CheckStatus>, reserved: Vec<Reserved>, held: Held) -> Self {
        Self {
            statuses,
            reserved,
            held: Some(held),
            degraded: false,
        }
    }

    /// An admission that recorded nothing: an empty request.
    pub(crate) fn empty() -> Self {
        Self {
            statuses: Vec::new(),
            reserved: Vec::new(),
            held: None,
            degraded: false,
        }
    }

    /// An admission granted without consulting the backend (fail-open):
    /// nominal statuses, nothing to settle or release.
    pub(crate) fn degraded(request: &[LimitCheck]) -> Self {
        let statuses = request
            .iter()
            .map(|c| CheckStatus {
                key: c.key.clone(),
                limit: c.kind.limit(),
                remaining: c.kind.limit().saturating_sub(c.cost),
                reset_after: None,
            })
            .collect();
        Self {
            statuses,
            reserved: Vec::new(),
            held: None,
            degraded: true,
        }
    }

    /// Per-check state after admission, in request order (for the
    /// `X-RateLimit-*` headers).
    pub fn checks(&self) -> &[CheckStatus] {
        &self.statuses
    }

    /// True when the backend failed and the limiter admitted the request
    /// anyway (`RedisFailureMode::Open`): nothing was counted, `checks()`
    /// holds nominal values, and the caller should alert.
    pub fn is_degraded(&self) -> bool {
        self.degraded
    }

    /// Reconcile reservations with what the request really cost and release
    /// its concurrency slots.
    ///
    /// `actual_costs[i]` is the actual cost of check `i` of the request; a
    /// shorter slice leaves the remaining checks as reserved, and entries of
    /// concurrency checks are ignored. A window check is adjusted by
    /// `actual − reserved`: a surplus is taken back out of the bucket the
    /// reservation went into (never below zero; nothing if that bucket has
    /// already left the window), an overrun is added to the current bucket.
    ///
    /// Redis: one script call, run on its own task so that cancelling this
    /// future does not cancel the release. On error the adjustment is lost
    /// and slots are freed when their lease expires.
    pub async fn settle(mut self, actual_costs: &[u64]) -> Result<(), LimitError> {
        let Some(held) = self.held.take() else {
            return Ok(());
        };
        let steps = steps(&self.reserved, Some(actual_costs));
        if steps.is_empty() {
            return Ok(());
        }
        match held {
            Held::Memory { inner, lease } => {
                inner.apply(&steps, lease);
                Ok(())
            }
            Held::Redis { limiter, lease } => {
                let task = tokio::spawn(async move { limiter.apply(&steps, &lease).await });
                match task.await {
                    Ok(result) => result,
                    Err(e) => Err(LimitError::Reply(format!("settle task failed: {e}"))),
                }
            }
        }
    }
}

impl Drop for Admission {
    fn drop(&mut self) {
        let Some(held) = self.held.take() else {
            return;
        };
        let steps = steps(&self.reserved, None);
        if steps.is_empty() {
            return;
        }
        match held {
            Held::Memory { inner, lease } => inner.apply(&steps, lease),
            Held::Redis { limiter, lease } => limiter.release_in_background(steps, lease),
        }
    }
}

/// The backend steps for a settle (`Some(actual)`) or a bare release
/// (`None`: concurrency slots only, window costs stay as reserved).
fn steps(reserved: &[Reserved], actual: Option<&[u64]>) -> Vec<Step> {
    let mut out = Vec::new();
    for (i, r) in reserved.iter().enumerate() {
        match r.width {
            None if r.cost > 0 => out.push(Step::Release {
                key: r.key.clone(),
                slots: r.cost,
            }),
            None => {}
            Some(width) => {
                let Some(actual) = actual else { continue };
                let spent = actual.get(i).copied().unwrap_or(r.cost);
                let delta = i128::from(spent) - i128::from(r.cost);
                let delta =
                    i64::try_from(delta).unwrap_or(if delta < 0 { i64::MIN } else { i64::MAX });
                if delta != 0 {
                    out.push(Step::Adjust {
                        key: r.key.clone(),
                        width,
                        bucket: r.bucket,
                        delta,
                    });
                }
            }
        }
    }
    out
}

/// The reservation record for `check` admitted into `bucket`.
pub(crate) fn reserved(key: Arc<str>, check: &LimitCheck, width: u64, bucket: u64) -> Reserved {
    let width = match check.kind {
        LimitKind::Window { .. } => Some(width),
        LimitKind::Concurrency { .. } => None,
    };
    Reserved {
        key,
        width,
        cost: check.cost,
        bucket,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn window(key: &str, cost: u64) -> Reserved {
        Reserved {
            key: key.into(),
            width: Some(1000),
            cost,
            bucket: 7,
        }
    }

    #[test]
    fn settle_steps_adjust_windows_and_release_slots() {
        let reserved = [
            window("rpm", 1),
            window("tpm", 100),
            Reserved {
                key: "conc".into(),
                width: None,
                cost: 1,
                bucket: 0,
            },
        ];
        let got = steps(&reserved, Some(&[1, 30, 99]));
        assert_eq!(
            got,
            vec![
                Step::Adjust {
                    key: "tpm".into(),
                    width: 1000,
                    bucket: 7,
                    delta: -70
                },
                Step::Release {
                    key: "conc".into(),
                    slots: 1
                },
            ]
        );
        // a short slice leaves the rest as reserved
        assert_eq!(steps(&reserved, Some(&[])).len(), 1);
        // a bare release never touches windows
        assert_eq!(steps(&reserved, None).len(), 1);
    }
}
