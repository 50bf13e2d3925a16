//! The limiter's vocabulary: what a request asks for ([`LimitCheck`]), what
//! an admitted request learns per check ([`CheckStatus`], for the
//! `X-RateLimit-*` headers), why a request is refused ([`LimitRejection`],
//! for the 429) and what can go wrong talking to a backend ([`LimitError`]).

use std::sync::Arc;
use std::time::Duration;

/// How long a client is told to wait after a concurrency refusal: slots
/// free up when other requests finish, which the limiter cannot predict.
pub const CONCURRENCY_RETRY_AFTER: Duration = Duration::from_secs(1);

/// How long a client is told to wait when the limiter fails closed.
pub const UNAVAILABLE_RETRY_AFTER: Duration = Duration::from_secs(1);

/// What kind of limit a check enforces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LimitKind {
    /// At most `limit` cost within any sliding `window` (RPM: cost 1 per
    /// request; TPM: cost = reserved tokens). See `limits::window`.
    Window {
        /// Largest total cost admitted within the window.
        limit: u64,
        /// Length of the window (60 s for RPM/TPM).
        window: Duration,
    },
    /// At most `limit` slots held at once; a slot is held from admission
    /// until the [`Admission`](super::Admission) is settled or dropped.
    Concurrency {
        /// Largest number of slots held at once.
        limit: u64,
    },
}

impl LimitKind {
    /// The configured limit.
    pub fn limit(&self) -> u64 {
        match *self {
            Self::Window { limit, .. } | Self::Concurrency { limit } => limit,
        }
    }
}

/// One limit a request must pass.
///
/// Keys name the counter, e.g. `rpm:g:{group}:{model}`,
/// `tpm:t:{token}:{model}`, `conc:g:{group}`. Window keys and concurrency
/// keys live in separate namespaces, and a window key should always be used
/// with the same window (a different window resets its counter).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LimitCheck {
    /// Counter name, shared by every request (and instance) it applies to.
    /// Shared text: the admission's statuses and reservations keep it
    /// without copying it.
    pub key: Arc<str>,
    /// The limit and its kind.
    pub kind: LimitKind,
    /// What this request reserves: 1 for RPM and concurrency, estimated
    /// prompt + max output tokens for TPM. A check with cost 0 is admitted
    /// whenever the counter is not already above its limit.
    pub cost: u64,
}

/// A key from its parts, written straight into its shared allocation (one
/// allocation for keys up to `INLINE_KEY` bytes, two for longer ones).
pub fn limit_key(parts: &[&str]) -> Arc<str> {
    let mut buf = [0u8; INLINE_KEY];
    let mut len = 0;
    for part in parts {
        let Some(slot) = buf.get_mut(len..len + part.len()) else {
            return Arc::from(parts.concat());
        };
        slot.copy_from_slice(part.as_bytes());
        len += part.len();
    }
    // Whole `str`s end to end are UTF-8; the fallback is never taken.
    match std::str::from_utf8(&buf[..len]) {
        Ok(key) => Arc::from(key),
        Err(_) => Arc::from(parts.concat()),
    }
}

/// Longest key [`limit_key`] builds on the stack.
pub const INLINE_KEY: usize = 160;

impl LimitCheck {
    /// A sliding-window check.
    pub fn window(key: impl Into<Arc<str>>, limit: u64, window: Duration, cost: u64) -> Self {
        Self {
            key: key.into(),
            kind: LimitKind::Window { limit, window },
            cost,
        }
    }

    /// A 60-second sliding-window check (RPM with cost 1, TPM with tokens).
    pub fn per_minute(key: impl Into<Arc<str>>, limit: u64, cost: u64) -> Self {
        Self::window(key, limit, Duration::from_secs(60), cost)
    }

    /// A concurrency check taking one slot.
    pub fn concurrency(key: impl Into<Arc<str>>, limit: u64) -> Self {
        Self {
            key: key.into(),
            kind: LimitKind::Concurrency { limit },
            cost: 1,
        }
    }
}

/// The state of one check right after admission, in request order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckStatus {
    /// The check's key.
    pub key: Arc<str>,
    /// The configured limit (`X-RateLimit-Limit-*`).
    pub limit: u64,
    /// What is left after this request's reservation
    /// (`X-RateLimit-Remaining-*`).
    pub remaining: u64,
    /// Window checks: time until the oldest counted cost leaves the window,
    /// i.e. when `remaining` next grows (`X-RateLimit-Reset-*`). `None` for
    /// concurrency checks and for degraded (fail-open) admissions.
    pub reset_after: Option<Duration>,
}

/// Why a request was refused. Nothing was recorded for any of its checks.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LimitRejection {
    /// Admitting the request would take check `index` over its limit.
    #[error(
        "limit `{key}` exceeded: {used} in use + {cost} requested > {limit}; retry after {}s",
        retry_after.as_secs_f64().ceil()
    )]
    Exceeded {
        /// Position of the failing check in the request.
        index: usize,
        /// Its key.
        key: String,
        /// Its limit.
        limit: u64,
        /// What was already counted (including earlier checks of this
        /// request on the same key).
        used: u64,
        /// What this request asked for.
        cost: u64,
        /// Time until enough of the window expires for this cost to fit
        /// (an upper bound when costs are settled down meanwhile);
        /// [`CONCURRENCY_RETRY_AFTER`] for concurrency checks.
        retry_after: Duration,
    },
    /// The request alone needs more than the whole limit: it can never be
    /// admitted, however long the client waits.
    #[error("request needs {cost} of limit `{key}`, more than the whole limit of {limit}")]
    TooLarge {
        /// Position of the failing check in the request.
        index: usize,
        /// Its key.
        key: String,
        /// Its limit.
        limit: u64,
        /// What this request asked for.
        cost: u64,
    },
    /// The shared backend (Redis) failed and the limiter fails closed.
    #[error("rate-limit backend unavailable: {reason}")]
    Unavailable {
        /// The backend error, for logs (not for clients).
        reason: String,
    },
}

impl LimitRejection {
    /// How long the client should wait (`Retry-After`); `None` when waiting
    /// cannot help ([`TooLarge`](Self::TooLarge)).
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::Exceeded { retry_after, .. } => Some(*retry_after),
            Self::TooLarge { .. } => None,
            Self::Unavailable { .. } => Some(UNAVAILABLE_RETRY_AFTER),
        }
    }

    /// [`retry_after`](Self::retry_after) in whole seconds, rounded up and
    /// at least 1, as the `Retry-After` header wants it.
    pub fn retry_after_secs(&self) -> Option<u64> {
        self.retry_after()
            .map(|d| d.as_millis().div_ceil(1000).clamp(1, u128::from(u64::MAX)))
            .map(|s| u64::try_from(s).unwrap_or(u64::MAX))
    }

    /// Position and key of the check that failed (none for
    /// [`Unavailable`](Self::Unavailable)).
    pub fn check(&self) -> Option<(usize, &str)> {
        match self {
            Self::Exceeded { index, key, .. } | Self::TooLarge { index, key, .. } => {
                Some((*index, key))
            }
            Self::Unavailable { .. } => None,
        }
    }

    /// The limit of the check that failed.
    pub fn limit(&self) -> Option<u64> {
        match self {
            Self::Exceeded { limit, .. } | Self::TooLarge { limit, .. } => Some(*limit),
            Self::Unavailable { .. } => None,
        }
    }
}

/// A failure talking to the limiter's backend.
#[derive(Debug, thiserror::Error)]
pub enum LimitError {
    /// Redis refused, timed out or could not be reached.
    #[error("redis: {0}")]
    Redis(#[from] redis::RedisError),
    /// A script answered something the limiter does not understand.
    #[error("unexpected reply from the limiter script: {0}")]
    Reply(String),
}

/// Refuse outright any check whose cost exceeds its whole limit; shared by
/// both backends so the answer does not depend on Redis being reachable.
pub(crate) fn precheck(request: &[LimitCheck]) -> Result<(), LimitRejection> {
    for (index, check) in request.iter().enumerate() {
        let limit = check.kind.limit();
        if check.cost > limit {
            return Err(LimitRejection::TooLarge {
                index,
                key: check.key.to_string(),
                limit,
                cost: check.cost,
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limit_keys_join_their_parts_at_any_length() {
        assert_eq!(
            &*limit_key(&["rpm:g:", "team", ":", "gpt-4o"]),
            "rpm:g:team:gpt-4o"
        );
        assert_eq!(&*limit_key(&[]), "");
        let model = "m\u{e9}".repeat(INLINE_KEY);
        let long = limit_key(&["tpm:g:", "team", ":", &model]);
        assert_eq!(
            *long,
            *["tpm:g:team:", &model].concat(),
            "past the inline room"
        );
        let exact = "x".repeat(INLINE_KEY - 2);
        assert_eq!(
            limit_key(&["k:", &exact]).len(),
            INLINE_KEY,
            "exactly the room"
        );
    }

    #[test]
    fn retry_after_secs_rounds_up_to_at_least_one() {
        let r = |ms| LimitRejection::Exceeded {
            index: 0,
            key: "k".into(),
            limit: 1,
            used: 1,
            cost: 1,
            retry_after: Duration::from_millis(ms),
        };
        assert_eq!(r(0).retry_after_secs(), Some(1));
        assert_eq!(r(1000).retry_after_secs(), Some(1));
        assert_eq!(r(1001).retry_after_secs(), Some(2));
        let big = LimitRejection::TooLarge {
            index: 2,
            key: "tpm".into(),
            limit: 10,
            cost: 11,
        };
        assert_eq!(big.retry_after_secs(), None);
        assert_eq!(big.check(), Some((2, "tpm")));
        assert!(big.to_string().contains("more than the whole limit"));
    }

    #[test]
    fn precheck_refuses_costs_above_the_whole_limit() {
        let ok = [LimitCheck::per_minute("a", 5, 5)];
        assert!(precheck(&ok).is_ok());
        let too_big = [
            LimitCheck::per_minute("a", 5, 1),
            LimitCheck::per_minute("b", 5, 6),
        ];
        assert_eq!(
            precheck(&too_big).unwrap_err().check(),
            Some((1, "b")),
            "the failing check is named"
        );
    }
}
