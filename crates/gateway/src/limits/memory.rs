//! In-memory limiter backend: one instance, exact.
//!
//! All counters sit behind one `std::sync::Mutex`, held only for the
//! arithmetic of one acquire or settle (never across an `.await`), which
//! makes a multi-check acquire atomic without lock ordering. Idle keys are
//! swept at most every `sweep_every` of clock time, by whichever acquire
//! comes first after that (no background task). Time comes from a
//! [`Clock`], injectable for tests.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use foldhash::HashMap;

use super::admission::{Admission, Held, Step, reserved};
use super::clock::{Clock, SystemClock};
use super::types::{
    CONCURRENCY_RETRY_AFTER, CheckStatus, LimitCheck, LimitKind, LimitRejection, precheck,
};
use super::window::{WindowState, bucket_width_ms, window_ms};

/// Tuning of the memory backend.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MemoryLimiterConfig {
    /// How long a concurrency slot lives if never released (same meaning
    /// as the Redis lease; only `mem::forget` can skip the release here).
    pub lease_ttl: Duration,
    /// How often idle keys are swept out of the map.
    pub sweep_every: Duration,
}

impl Default for MemoryLimiterConfig {
    fn default() -> Self {
        Self {
            lease_ttl: Duration::from_secs(30 * 60),
            sweep_every: Duration::from_secs(30),
        }
    }
}

/// The in-memory backend. Clones share the counters.
#[derive(Debug, Clone)]
pub struct MemoryLimiter {
    inner: Arc<MemoryInner>,
}

/// Shared state of a [`MemoryLimiter`]; admissions keep it alive.
#[derive(Debug)]
pub(crate) struct MemoryInner {
    state: Mutex<State>,
    clock: Arc<dyn Clock>,
    lease_ttl_ms: u64,
    sweep_every_ms: u64,
}

#[derive(Debug, Default)]
struct State {
    windows: KeyMap<WindowState>,
    slots: KeyMap<Leases>,
    next_lease: u64,
    last_sweep_ms: u64,
}

/// Counters by key, found (and made) from a `&str`: the key is copied only
/// when it is new.
type KeyMap<V> = hashbrown::HashMap<String, V, foldhash::fast::RandomState>;

/// Concurrency slots held under one key: lease id → (slots, expiry ms).
#[derive(Debug, Default)]
struct Leases {
    held: HashMap<u64, (u64, u64)>,
    in_use: u64,
}

impl Leases {
    fn expire(&mut self, now_ms: u64) {
        let mut freed = 0;
        self.held.retain(|_, &mut (slots, expiry)| {
            let live = expiry > now_ms;
            if !live {
                freed += slots;
            }
            live
        });
        self.in_use = self.in_use.saturating_sub(freed);
    }

    fn release(&mut self, lease: u64) {
        if let Some((slots, _)) = self.held.remove(&lease) {
            self.in_use = self.in_use.saturating_sub(slots);
        }
    }
}

impl Default for MemoryLimiter {
    fn default() -> Self {
        Self::new()
    }
}

impl MemoryLimiter {
    /// A limiter on the process clock with default tuning.
    pub fn new() -> Self {
        Self::with_clock(Arc::new(SystemClock::new()), MemoryLimiterConfig::default())
    }

    /// A limiter reading time from `clock`.
    pub fn with_clock(clock: Arc<dyn Clock>, config: MemoryLimiterConfig) -> Self {
        Self {
            inner: Arc::new(MemoryInner {
                state: Mutex::new(State::default()),
                clock,
                lease_ttl_ms: window_ms(config.lease_ttl).max(1),
                sweep_every_ms: window_ms(config.sweep_every),
            }),
        }
    }

    /// Admit every check of `request` and record its cost, or none of them.
    pub fn acquire(&self, request: &[LimitCheck]) -> Result<Admission, LimitRejection> {
        precheck(request)?;
        if request.is_empty() {
            return Ok(Admission::empty());
        }
        let now = self.inner.clock.now_ms();
        let mut state = self.inner.lock();
        if now.saturating_sub(state.last_sweep_ms) >= self.inner.sweep_every_ms {
            state.sweep(now);
        }
        state.check_all(request, now)?;
        state.next_lease += 1;
        let lease = state.next_lease;
        let mut statuses = Vec::with_capacity(request.len());
        let mut reservations = Vec::with_capacity(request.len());
        for check in request {
            let limit = check.kind.limit();
            let (status, width, bucket) = match check.kind {
                LimitKind::Window { window, .. } => {
                    let width = bucket_width_ms(window);
                    let w = state.window(&check.key, width, now);
                    let bucket = w.add(now, check.cost);
                    let reset = w.reset_after_ms(now).map(Duration::from_millis);
                    (status(check, limit, w.used(), reset), width, bucket)
                }
                LimitKind::Concurrency { .. } => {
                    let leases = state.slots.entry_ref(&*check.key).or_default();
                    if check.cost > 0 {
                        let expiry = now.saturating_add(self.inner.lease_ttl_ms);
                        let held = leases.held.entry(lease).or_insert((0, expiry));
                        held.0 += check.cost;
                        leases.in_use = leases.in_use.saturating_add(check.cost);
                    }
                    (status(check, limit, leases.in_use, None), 0, 0)
                }
            };
            statuses.push(status);
            reservations.push(reserved(check.key.clone(), check, width, bucket));
        }
        drop(state);
        let held = Held::Memory {
            inner: Arc::clone(&self.inner),
            lease,
        };
        Ok(Admission::new(statuses, reservations, held))
    }

    /// Drop every key with nothing counted and no slot held; returns how
    /// many keys are left. Runs on its own every `sweep_every`.
    pub fn evict_idle(&self) -> usize {
        let now = self.inner.clock.now_ms();
        let mut state = self.inner.lock();
        state.sweep(now);
        state.windows.len() + state.slots.len()
    }

    /// Number of keys currently tracked (windows plus concurrency keys).
    pub fn tracked_keys(&self) -> usize {
        let state = self.inner.lock();
        state.windows.len() + state.slots.len()
    }
}

fn status(check: &LimitCheck, limit: u64, used: u64, reset: Option<Duration>) -> CheckStatus {
    CheckStatus {
        key: check.key.clone(),
        limit,
        remaining: limit.saturating_sub(used),
        reset_after: reset,
    }
}

impl MemoryInner {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock cannot leave the counters
        // inconsistent beyond one request's arithmetic; keep going.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Apply settle/release steps under the lock.
    pub(crate) fn apply(&self, steps: &[Step], lease: u64) {
        let now = self.clock.now_ms();
        let mut state = self.lock();
        for step in steps {
            match step {
                Step::Adjust {
                    key,
                    width,
                    bucket,
                    delta,
                } => {
                    if *delta > 0 {
                        state
                            .window(key, *width, now)
                            .add(now, delta.unsigned_abs());
                    } else if let Some(w) = state.windows.get_mut(&**key)
                        && w.width() == *width
                    {
                        w.subtract(*bucket, delta.unsigned_abs());
                    }
                }
                Step::Release { key, .. } => {
                    if let Some(leases) = state.slots.get_mut(&**key) {
                        leases.release(lease);
                    }
                }
            }
        }
    }
}

impl State {
    /// The window under `key`, evicted up to `now`; a window built for a
    /// different bucket width (the key's window changed) starts over.
    fn window(&mut self, key: &str, width: u64, now: u64) -> &mut WindowState {
        // Looked up by `&str`: the key is copied only for a new window.
        let w = self
            .windows
            .entry_ref(key)
            .or_insert_with(|| WindowState::new(width));
        if w.width() != width {
            *w = WindowState::new(width);
        }
        w.evict(now);
        w
    }

    /// Refuse the request if any check would go over its limit, counting
    /// earlier checks of the same request on the same key.
    fn check_all(&mut self, request: &[LimitCheck], now: u64) -> Result<(), LimitRejection> {
        for (index, check) in request.iter().enumerate() {
            let is_window = matches!(check.kind, LimitKind::Window { .. });
            // What earlier checks of this request put on the same counter (a
            // request has a handful of checks: a scan beats a map).
            let prior: u64 = request[..index]
                .iter()
                .filter(|c| {
                    matches!(c.kind, LimitKind::Window { .. }) == is_window && c.key == check.key
                })
                .map(|c| c.cost)
                .sum();
            let limit = check.kind.limit();
            let (used, retry_after) = match check.kind {
                LimitKind::Window { window, .. } => {
                    let w = self.window(&check.key, bucket_width_ms(window), now);
                    let used = w.used().saturating_add(prior);
                    let excess = used.saturating_add(check.cost).saturating_sub(limit);
                    (used, Duration::from_millis(w.retry_after_ms(now, excess)))
                }
                LimitKind::Concurrency { .. } => {
                    let leases = self.slots.entry_ref(&*check.key).or_default();
                    leases.expire(now);
                    (leases.in_use.saturating_add(prior), CONCURRENCY_RETRY_AFTER)
                }
            };
            if used.saturating_add(check.cost) > limit {
                return Err(LimitRejection::Exceeded {
                    index,
                    key: check.key.to_string(),
                    limit,
                    used,
                    cost: check.cost,
                    retry_after,
                });
            }
        }
        Ok(())
    }

    fn sweep(&mut self, now: u64) {
        self.windows.retain(|_, w| {
            w.evict(now);
            !w.is_empty()
        });
        self.slots.retain(|_, l| {
            l.expire(now);
            !l.held.is_empty()
        });
        self.last_sweep_ms = now;
    }
}
