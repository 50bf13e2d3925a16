//! Redis spend ledger: several instances, one set of caps. One script call
//! per reserve (`lua/reserve.lua`) and per settle (`lua/settle.lua`).
//! Reservations are leases that expire on their own if an instance dies
//! before settling. What happens when Redis fails is the limiter's
//! [`RedisFailureMode`]: admit without reserving (open) or refuse (closed),
//! never a silent switch to per-instance counting.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use redis::Script;
use redis::aio::ConnectionManager;

use super::{HoldBackend, SpendCheck, SpendHold, SpendRejection};
use crate::limits::RedisFailureMode;
use crate::limits::redis_connection as lazy_connection;

/// Counter of failed ledger calls.
pub const LEDGER_ERRORS: &str = "switchyard_spend_ledger_errors_total";

/// Settings of the Redis ledger.
#[derive(Debug, Clone)]
pub struct RedisLedgerConfig {
    /// `redis://…` URL.
    pub url: String,
    /// Prefix of every key.
    pub key_prefix: String,
    /// Behaviour when Redis fails.
    pub failure_mode: RedisFailureMode,
    /// How long a reservation lives if never settled (instance crash).
    pub lease_ttl: Duration,
    /// How long an idle cap's state is kept (then re-seeded from the database).
    pub key_ttl: Duration,
    /// Per-call timeout.
    pub response_timeout: Duration,
}

impl RedisLedgerConfig {
    /// Defaults: prefix `switchyard:spend:`, fail open, 30 min leases, 1 day keys, 1 s timeout.
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            key_prefix: "switchyard:spend:".into(),
            failure_mode: RedisFailureMode::Open,
            lease_ttl: Duration::from_secs(30 * 60),
            key_ttl: Duration::from_secs(24 * 3600),
            response_timeout: Duration::from_secs(1),
        }
    }
}

struct Inner {
    conn: ConnectionManager,
    prefix: String,
    failure_mode: RedisFailureMode,
    lease_ttl_ms: u64,
    key_ttl_ms: u64,
    reserve: Script,
    settle: Script,
    errors: AtomicU64,
}

/// The Redis backend. Clones share one connection.
#[derive(Clone)]
pub struct RedisLedger {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for RedisLedger {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisLedger")
            .field("prefix", &self.inner.prefix)
            .field("errors", &self.inner.errors.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX).max(1)
}

impl RedisLedger {
    /// A ledger for `config`; connects lazily. Fails only on a malformed URL.
    pub fn new(config: RedisLedgerConfig) -> Result<Self, redis::RedisError> {
        let conn = lazy_connection(
            &config.url,
            config.response_timeout,
            config.response_timeout,
        )?;
        Ok(Self {
            inner: Arc::new(Inner {
                conn,
                prefix: config.key_prefix,
                failure_mode: config.failure_mode,
                lease_ttl_ms: millis(config.lease_ttl),
                key_ttl_ms: millis(config.key_ttl),
                reserve: Script::new(include_str!("lua/reserve.lua")),
                settle: Script::new(include_str!("lua/settle.lua")),
                errors: AtomicU64::new(0),
            }),
        })
    }

    fn keys(&self, key: &str) -> [String; 2] {
        let hash = format!("{}{key}", self.inner.prefix);
        let leases = format!("{hash}:x");
        [hash, leases]
    }

    pub(super) async fn reserve(
        &self,
        checks: Vec<SpendCheck>,
    ) -> Result<SpendHold, SpendRejection> {
        let lease = uuid::Uuid::now_v7().simple().to_string();
        let mut call = self.inner.reserve.prepare_invoke();
        call.arg(&lease)
            .arg(self.inner.lease_ttl_ms)
            .arg(self.inner.key_ttl_ms);
        for check in &checks {
            for key in self.keys(&check.key) {
                call.key(key);
            }
            call.arg(check.limit).arg(check.base).arg(check.cost);
        }
        let mut conn = self.inner.conn.clone();
        let reply: redis::RedisResult<Vec<i64>> = call.invoke_async(&mut conn).await;
        match reply {
            Ok(reply) if reply.first() == Some(&0) => {
                let keys = checks.into_iter().map(|c| c.key).collect();
                Ok(SpendHold::new(
                    keys,
                    lease,
                    HoldBackend::Redis(self.clone()),
                ))
            }
            Ok(reply) => Err(self.rejection(&checks, &reply)),
            Err(e) => self.failed(&e),
        }
    }

    fn rejection(&self, checks: &[SpendCheck], reply: &[i64]) -> SpendRejection {
        let index = reply
            .first()
            .and_then(|i| usize::try_from(*i - 1).ok())
            .filter(|i| *i < checks.len());
        let Some(index) = index else {
            return SpendRejection::Unavailable(format!("unexpected ledger reply {reply:?}"));
        };
        let check = &checks[index];
        SpendRejection::Exhausted {
            index,
            key: check.key.clone(),
            kind: check.kind,
            spent: reply.get(1).copied().unwrap_or(0),
            reserved: reply.get(2).copied().unwrap_or(0),
            cost: check.cost,
            limit: check.limit,
        }
    }

    fn failed(&self, error: &redis::RedisError) -> Result<SpendHold, SpendRejection> {
        self.note_failure("reserve", error);
        match self.inner.failure_mode {
            RedisFailureMode::Open => Ok(SpendHold::empty()),
            RedisFailureMode::Closed => Err(SpendRejection::Unavailable(error.to_string())),
        }
    }

    fn note_failure(&self, op: &'static str, error: &redis::RedisError) {
        self.inner.errors.fetch_add(1, Ordering::Relaxed);
        metrics::counter!(LEDGER_ERRORS, "op" => op).increment(1);
        tracing::warn!(op, %error, mode = ?self.inner.failure_mode, "spend ledger (redis) failed");
    }

    pub(super) async fn settle(&self, keys: &[String], lease: &str, amount: i64) {
        let mut call = self.inner.settle.prepare_invoke();
        call.arg(lease).arg(amount).arg(self.inner.key_ttl_ms);
        for key in keys {
            for k in self.keys(key) {
                call.key(k);
            }
        }
        let mut conn = self.inner.conn.clone();
        let reply: redis::RedisResult<i64> = call.invoke_async(&mut conn).await;
        if let Err(e) = reply {
            self.note_failure("settle", &e);
        }
    }
}
