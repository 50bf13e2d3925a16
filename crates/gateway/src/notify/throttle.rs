//! Per-key alert throttling: Redis `SET NX PX` shared by every instance of
//! an installation when Redis is configured (falling back to memory if it
//! fails), memory otherwise. Owned by the delivery task, so no locking.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use redis::aio::{ConnectionManager, ConnectionManagerConfig};

use super::Level;

/// Entries kept in memory before expired ones are swept.
const SWEEP_AT: usize = 4096;

pub(super) struct Throttle {
    redis: Option<ConnectionManager>,
    namespace: String,
    local: HashMap<String, Instant>,
}

impl Throttle {
    pub(super) fn new(redis_url: Option<&str>, namespace: String) -> Self {
        let redis = redis_url.and_then(|url| {
            redis::Client::open(url)
                .and_then(|c| {
                    ConnectionManager::new_lazy_with_config(c, ConnectionManagerConfig::new())
                })
                .map_err(
                    |e| tracing::warn!(error = %e, "alert throttle: Redis unusable, using memory"),
                )
                .ok()
        });
        Self {
            redis,
            namespace,
            local: HashMap::new(),
        }
    }

    /// True when the alert may be sent now (and starts its window).
    pub(super) async fn admit(&mut self, level: Level, key: &str, window: Duration) -> bool {
        if window.is_zero() {
            return true;
        }
        let key = format!("notifylimit:{}:{key}", level.as_str());
        if let Some(conn) = &mut self.redis {
            let full = format!("{}:{key}", self.namespace);
            let millis = u64::try_from(window.as_millis()).unwrap_or(u64::MAX);
            let set: redis::RedisResult<Option<String>> = redis::cmd("SET")
                .arg(&full)
                .arg(1)
                .arg("NX")
                .arg("PX")
                .arg(millis)
                .query_async(conn)
                .await;
            match set {
                Ok(answer) => return answer.is_some(),
                Err(e) => tracing::warn!(error = %e, "alert throttle: Redis failed, using memory"),
            }
        }
        self.admit_local(key, window, Instant::now())
    }

    fn admit_local(&mut self, key: String, window: Duration, now: Instant) -> bool {
        if self.local.len() >= SWEEP_AT {
            self.local.retain(|_, until| *until > now);
        }
        match self.local.get(&key) {
            Some(until) if *until > now => false,
            _ => {
                self.local.insert(key, now + window);
                true
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_window() {
        let mut t = Throttle::new(None, String::new());
        let now = Instant::now();
        let w = Duration::from_secs(60);
        assert!(t.admit_local("a".into(), w, now));
        assert!(!t.admit_local("a".into(), w, now + Duration::from_secs(59)));
        assert!(t.admit_local("b".into(), w, now));
        assert!(t.admit_local("a".into(), w, now + Duration::from_secs(61)));
    }
}
