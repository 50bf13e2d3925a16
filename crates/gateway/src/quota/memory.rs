//! In-memory spend ledger: one instance. A short critical section per
//! reserve and settle, never held across `.await`.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use super::{HoldBackend, SpendCheck, SpendHold, SpendRejection};

#[derive(Debug, Default)]
struct Entry {
    spent: i64,
    reserved: i64,
    leases: HashMap<String, i64>,
}

/// Ledger state shared by clones and holds.
#[derive(Debug, Default)]
pub(crate) struct Inner {
    entries: Mutex<HashMap<String, Entry>>,
    next_lease: AtomicU64,
}

/// The in-memory backend.
#[derive(Debug, Clone, Default)]
pub struct MemoryLedger {
    inner: Arc<Inner>,
}

impl MemoryLedger {
    pub(super) fn reserve(&self, checks: Vec<SpendCheck>) -> Result<SpendHold, SpendRejection> {
        let lease = self
            .inner
            .next_lease
            .fetch_add(1, Ordering::Relaxed)
            .to_string();
        let mut entries = self
            .inner
            .entries
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        for (index, check) in checks.iter().enumerate() {
            let entry = entries.entry(check.key.clone()).or_default();
            entry.spent = entry.spent.max(check.base);
            let total = entry
                .spent
                .saturating_add(entry.reserved)
                .saturating_add(check.cost);
            if total > check.limit {
                return Err(SpendRejection::Exhausted {
                    index,
                    key: check.key.clone(),
                    kind: check.kind,
                    spent: entry.spent,
                    reserved: entry.reserved,
                    cost: check.cost,
                    limit: check.limit,
                });
            }
        }
        for check in &checks {
            // Every key has an entry since the first pass.
            let Some(entry) = entries.get_mut(&check.key) else {
                continue;
            };
            entry.reserved = entry.reserved.saturating_add(check.cost);
            *entry.leases.entry(lease.clone()).or_default() += check.cost;
        }
        let keys = checks.into_iter().map(|c| c.key).collect();
        Ok(SpendHold::new(
            keys,
            lease,
            HoldBackend::Memory(self.inner.clone()),
        ))
    }

    /// Spent and reserved on `key` (nano-units), for tests and the admin API.
    pub fn state(&self, key: &str) -> (i64, i64) {
        let entries = self
            .inner
            .entries
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        entries
            .get(key)
            .map(|e| (e.spent, e.reserved))
            .unwrap_or_default()
    }
}

impl Inner {
    pub(super) fn settle(&self, keys: &[String], lease: &str, amount: i64) {
        let mut entries = self
            .entries
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        for key in keys {
            if let Some(entry) = entries.get_mut(key) {
                if let Some(cost) = entry.leases.remove(lease) {
                    entry.reserved = (entry.reserved - cost).max(0);
                }
                entry.spent = entry.spent.saturating_add(amount);
            }
        }
    }
}
