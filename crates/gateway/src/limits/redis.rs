//! Redis limiter backend: several instances, one set of counters.
//!
//! Each acquire is one `EVALSHA` of `lua/acquire.lua` over every key of the
//! request (atomic: Redis runs a script alone), each settle or release one
//! `EVALSHA` of `lua/settle.lua`. The scripts read Redis `TIME`, so
//! instances with skewed clocks agree, and set key expiries so idle keys
//! vanish after their window. Concurrency slots are sorted-set members
//! scored by expiry: leases a crashed instance never released free
//! themselves after `lease_ttl`.
//!
//! Keys are `{key_prefix}w:{key}` (windows, hashes) and
//! `{key_prefix}c:{key}` (concurrency, sorted sets). A multi-key script
//! needs all keys on one node, so this backend targets a single Redis (or a
//! primary with replicas), not Redis Cluster.
//!
//! When Redis fails the [`RedisFailureMode`] decides, every time, per
//! request: never a silent fall-back to per-instance counting. A call that
//! timed out after the script ran has still recorded its window costs (an
//! over-count of one request, the safe side); any slots it may have taken
//! are released, as they are when an acquire is cancelled mid-call.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use redis::Script;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};

use super::BACKEND_ERRORS;
use super::admission::{Admission, Held, Step, reserved};
use super::types::{
    CONCURRENCY_RETRY_AFTER, CheckStatus, LimitCheck, LimitError, LimitKind, LimitRejection,
    precheck,
};
use super::window::{bucket_width_ms, window_ms};

/// Largest number Lua (doubles) handles exactly; larger limits are clamped.
const LUA_MAX_EXACT: u64 = 1 << 53;

/// What the limiter does when Redis cannot answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RedisFailureMode {
    /// Admit the request without counting it. The admission says so
    /// ([`Admission::is_degraded`]), [`RedisLimiter::backend_errors`] and
    /// the `switchyard_limiter_backend_errors_total` metric count it, and a
    /// warning is logged (at most once a second), so the operator can alert.
    /// Limits are not enforced at all while Redis is down.
    #[default]
    Open,
    /// Refuse the request with [`LimitRejection::Unavailable`] (the caller
    /// answers 503, not 429). Limits are never exceeded; availability
    /// depends on Redis.
    Closed,
}

/// Settings of the Redis backend.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedisLimiterConfig {
    /// `redis://…` URL.
    pub url: String,
    /// Prefix of every key (tests use a unique one each).
    pub key_prefix: String,
    /// Behaviour when Redis fails.
    pub failure_mode: RedisFailureMode,
    /// How long a concurrency slot lives if its release never arrives
    /// (instance crash). Must exceed the longest request, streams included.
    pub lease_ttl: Duration,
    /// How long one script call may take before it counts as a failure.
    pub response_timeout: Duration,
    /// How long one connection attempt may take.
    pub connection_timeout: Duration,
}

impl RedisLimiterConfig {
    /// Defaults for `url`: prefix `switchyard:limit:`, fail open, 30 min
    /// leases, 1 s response and connection timeouts.
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            key_prefix: "switchyard:limit:".into(),
            failure_mode: RedisFailureMode::Open,
            lease_ttl: Duration::from_secs(30 * 60),
            response_timeout: Duration::from_secs(1),
            connection_timeout: Duration::from_secs(1),
        }
    }
}

/// The Redis backend. Clones share one auto-reconnecting connection.
#[derive(Clone)]
pub struct RedisLimiter {
    inner: Arc<Inner>,
}

struct Inner {
    conn: ConnectionManager,
    prefix: String,
    failure_mode: RedisFailureMode,
    lease_ttl_ms: u64,
    acquire: Script,
    settle: Script,
    errors: AtomicU64,
    started: Instant,
    last_warned_s: AtomicU64,
}

impl std::fmt::Debug for RedisLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisLimiter")
            .field("prefix", &self.inner.prefix)
            .field("failure_mode", &self.inner.failure_mode)
            .field("errors", &self.backend_errors())
            .finish_non_exhaustive()
    }
}

impl RedisLimiter {
    /// A limiter for `config`. Connects lazily (on first use, then
    /// reconnecting as needed), so a Redis that is down at start-up is
    /// handled by the failure mode like any later outage. Fails only on a
    /// malformed URL. Must be called inside a Tokio runtime.
    pub fn new(config: RedisLimiterConfig) -> Result<Self, LimitError> {
        let conn = lazy_connection(
            &config.url,
            config.response_timeout,
            config.connection_timeout,
        )?;
        Ok(Self {
            inner: Arc::new(Inner {
                conn,
                prefix: config.key_prefix,
                failure_mode: config.failure_mode,
                lease_ttl_ms: window_ms(config.lease_ttl).max(1),
                acquire: Script::new(include_str!("lua/acquire.lua")),
                settle: Script::new(include_str!("lua/settle.lua")),
                errors: AtomicU64::new(0),
                started: Instant::now(),
                last_warned_s: AtomicU64::new(u64::MAX),
            }),
        })
    }

    /// Failed Redis calls (acquire and settle) since start.
    pub fn backend_errors(&self) -> u64 {
        self.inner.errors.load(Ordering::Relaxed)
    }

    /// The configured failure mode.
    pub fn failure_mode(&self) -> RedisFailureMode {
        self.inner.failure_mode
    }

    /// Admit every check of `request` and record its cost, or none of them;
    /// one script call.
    pub async fn acquire(&self, request: &[LimitCheck]) -> Result<Admission, LimitRejection> {
        precheck(request)?;
        if request.is_empty() {
            return Ok(Admission::empty());
        }
        let lease = uuid::Uuid::now_v7().simple().to_string();
        let keys: Vec<String> = request.iter().map(|c| self.key_for(c)).collect();
        let mut call = self.inner.acquire.prepare_invoke();
        call.arg(&lease);
        for (check, key) in request.iter().zip(&keys) {
            let (tag, span) = match check.kind {
                LimitKind::Window { window, .. } => ("w", window_ms(window)),
                LimitKind::Concurrency { .. } => ("c", self.inner.lease_ttl_ms),
            };
            let limit = check.kind.limit().min(LUA_MAX_EXACT);
            call.key(key).arg(tag).arg(limit).arg(span).arg(check.cost);
        }
        // If this future is dropped mid-call, or the call fails after the
        // script may have run, the slots it may have taken are released.
        let mut pending = PendingLease::new(self, request, &keys, &lease);
        let mut conn = self.inner.conn.clone();
        let reply: redis::RedisResult<Vec<i64>> = call.invoke_async(&mut conn).await;
        let decoded = match reply {
            Ok(reply) => self.decode(request, keys, lease, &reply),
            Err(e) => Err(LimitError::from(e)),
        };
        match decoded {
            Ok(outcome) => {
                pending.disarm();
                outcome
            }
            Err(e) => self.fail_acquire(&e, request),
        }
    }

    fn key_for(&self, check: &LimitCheck) -> String {
        let tag = match check.kind {
            LimitKind::Window { .. } => "w:",
            LimitKind::Concurrency { .. } => "c:",
        };
        format!("{}{tag}{}", self.inner.prefix, check.key)
    }

    /// Turn the script's reply into an admission or a rejection.
    fn decode(
        &self,
        request: &[LimitCheck],
        keys: Vec<String>,
        lease: String,
        reply: &[i64],
    ) -> Result<Result<Admission, LimitRejection>, LimitError> {
        let bad = || LimitError::Reply(format!("{reply:?}"));
        let num = |i: usize| reply.get(i).copied().ok_or_else(bad);
        let unsigned = |i: usize| num(i).map(|v| u64::try_from(v).unwrap_or(0));
        if num(0)? == 0 {
            let index = usize::try_from(num(1)? - 1).map_err(|_| bad())?;
            let check = request.get(index).ok_or_else(bad)?;
            let retry_after = match check.kind {
                LimitKind::Window { .. } => Duration::from_millis(unsigned(3)?),
                LimitKind::Concurrency { .. } => CONCURRENCY_RETRY_AFTER,
            };
            return Ok(Err(LimitRejection::Exceeded {
                index,
                key: check.key.to_string(),
                limit: check.kind.limit(),
                used: unsigned(2)?,
                cost: check.cost,
                retry_after,
            }));
        }
        if reply.len() != 1 + 3 * request.len() {
            return Err(bad());
        }
        let mut statuses = Vec::with_capacity(request.len());
        let mut reservations = Vec::with_capacity(request.len());
        for (i, (check, key)) in request.iter().zip(keys).enumerate() {
            let reset = num(2 + 3 * i)?;
            let width = match check.kind {
                LimitKind::Window { window, .. } => bucket_width_ms(window),
                LimitKind::Concurrency { .. } => 0,
            };
            statuses.push(CheckStatus {
                key: check.key.clone(),
                limit: check.kind.limit(),
                remaining: unsigned(1 + 3 * i)?,
                reset_after: u64::try_from(reset).ok().map(Duration::from_millis),
            });
            reservations.push(reserved(key.into(), check, width, unsigned(3 + 3 * i)?));
        }
        let held = Held::Redis {
            limiter: self.clone(),
            lease,
        };
        Ok(Ok(Admission::new(statuses, reservations, held)))
    }

    fn fail_acquire(
        &self,
        error: &LimitError,
        request: &[LimitCheck],
    ) -> Result<Admission, LimitRejection> {
        self.note_failure("acquire", error);
        match self.inner.failure_mode {
            RedisFailureMode::Open => Ok(Admission::degraded(request)),
            RedisFailureMode::Closed => Err(LimitRejection::Unavailable {
                reason: error.to_string(),
            }),
        }
    }

    /// Count a failure; warn at most once a second.
    fn note_failure(&self, op: &'static str, error: &LimitError) {
        self.inner.errors.fetch_add(1, Ordering::Relaxed);
        metrics::counter!(BACKEND_ERRORS, "backend" => "redis", "op" => op).increment(1);
        let now_s = self.inner.started.elapsed().as_secs();
        let last = self.inner.last_warned_s.swap(now_s, Ordering::Relaxed);
        if last != now_s {
            tracing::warn!(
                op,
                %error,
                mode = ?self.inner.failure_mode,
                total_errors = self.backend_errors(),
                "rate-limit backend (redis) failed"
            );
        }
    }

    /// Apply settle/release steps in one script call.
    pub(crate) async fn apply(&self, steps: &[Step], lease: &str) -> Result<(), LimitError> {
        let mut call = self.inner.settle.prepare_invoke();
        call.arg(lease);
        for step in steps {
            match step {
                Step::Adjust {
                    key,
                    width,
                    bucket,
                    delta,
                } => call.key(&**key).arg("a").arg(width).arg(bucket).arg(delta),
                Step::Release { key, slots } => call.key(&**key).arg("r").arg(0).arg(0).arg(slots),
            };
        }
        let mut conn = self.inner.conn.clone();
        let reply: redis::RedisResult<i64> = call.invoke_async(&mut conn).await;
        reply.map(|_| ()).map_err(|e| {
            let e = LimitError::from(e);
            self.note_failure("settle", &e);
            e
        })
    }

    /// Release slots from a `Drop`: on a spawned task when a Tokio runtime
    /// is around; otherwise (or if the call fails) the leases expire.
    pub(crate) fn release_in_background(&self, steps: Vec<Step>, lease: String) {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let limiter = self.clone();
        runtime.spawn(async move {
            // Failures are counted and logged by `apply`.
            let _ = limiter.apply(&steps, &lease).await;
        });
    }
}

/// An auto-reconnecting Redis connection that connects on first use, with
/// bounded timeouts and one quick retry: a Redis that is down at start-up
/// is then handled like any later outage. Fails only on a malformed URL.
pub(crate) fn lazy_connection(
    url: &str,
    response_timeout: Duration,
    connection_timeout: Duration,
) -> Result<ConnectionManager, redis::RedisError> {
    let client = redis::Client::open(url)?;
    let manager = ConnectionManagerConfig::new()
        .set_response_timeout(Some(response_timeout))
        .set_connection_timeout(Some(connection_timeout))
        .set_number_of_retries(1)
        .set_max_delay(Duration::from_millis(500));
    ConnectionManager::new_lazy_with_config(client, manager)
}

/// Releases the concurrency slots an acquire may have taken unless the
/// acquire produced an [`Admission`] or a clean refusal: covers a request
/// cancelled while its script call was in flight, and a reply lost after
/// the script ran. Releasing slots that were never taken is harmless.
struct PendingLease {
    release: Option<(RedisLimiter, Vec<Step>, String)>,
}

impl PendingLease {
    fn new(limiter: &RedisLimiter, request: &[LimitCheck], keys: &[String], lease: &str) -> Self {
        let steps: Vec<Step> = request
            .iter()
            .zip(keys)
            .filter(|(c, _)| matches!(c.kind, LimitKind::Concurrency { .. }) && c.cost > 0)
            .map(|(c, key)| Step::Release {
                key: key.as_str().into(),
                slots: c.cost,
            })
            .collect();
        let release = (!steps.is_empty()).then(|| (limiter.clone(), steps, lease.to_owned()));
        Self { release }
    }

    fn disarm(&mut self) {
        self.release = None;
    }
}

impl Drop for PendingLease {
    fn drop(&mut self) {
        if let Some((limiter, steps, lease)) = self.release.take() {
            limiter.release_in_background(steps, lease);
        }
    }
}
