//! Live request and token rates (RPM/TPM over the last 60 s, RPS/TPS over
//! the last second) per channel × model and per group × token × model.
//!
//! Fed by the log writer as finished requests arrive (off the request path),
//! read by the monitor and dashboard endpoints. Counters are per instance:
//! with several instances each reports the traffic it served.

use std::hash::{Hash, Hasher};
use std::sync::Mutex;

use hashbrown::Equivalent;

const SECONDS: usize = 60;
/// Keys idle this long (s) are dropped on the next sweep.
const IDLE_SECONDS: i64 = 120;

/// Requests and tokens per minute and per second.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Rate {
    /// Requests in the last 60 s.
    pub rpm: i64,
    /// Tokens in the last 60 s.
    pub tpm: i64,
    /// Requests in the current second.
    pub rps: i64,
    /// Tokens in the current second.
    pub tps: i64,
}

impl Rate {
    /// Add another rate.
    pub fn add(&mut self, o: Rate) {
        self.rpm += o.rpm;
        self.tpm += o.tpm;
        self.rps += o.rps;
        self.tps += o.tps;
    }
}

/// What a rate is kept for.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum RateKey {
    /// A (channel, model) pair.
    Channel(i64, String),
    /// A (group, token name, model) triple.
    Group(String, String, String),
}

/// A [`RateKey`] borrowing its names: requests are counted under it, and
/// the names are copied only the first time a key is seen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RateKeyRef<'a> {
    /// A (channel, model) pair.
    Channel(i64, &'a str),
    /// A (group, token name, model) triple.
    Group(&'a str, &'a str, &'a str),
}

impl RateKey {
    /// The key, borrowed.
    pub fn as_ref(&self) -> RateKeyRef<'_> {
        match self {
            Self::Channel(channel, model) => RateKeyRef::Channel(*channel, model),
            Self::Group(group, token, model) => RateKeyRef::Group(group, token, model),
        }
    }
}

/// The owned key of a borrowed one: what the map keeps for a new key.
impl From<&RateKeyRef<'_>> for RateKey {
    fn from(key: &RateKeyRef<'_>) -> Self {
        match *key {
            RateKeyRef::Channel(channel, model) => Self::Channel(channel, model.to_owned()),
            RateKeyRef::Group(group, token, model) => {
                Self::Group(group.to_owned(), token.to_owned(), model.to_owned())
            }
        }
    }
}

// A key and its borrowed form hash alike, so the map finds one by the other.
impl Hash for RateKeyRef<'_> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        match self {
            Self::Channel(channel, model) => (0u8, channel, model).hash(state),
            Self::Group(group, token, model) => (1u8, group, token, model).hash(state),
        }
    }
}

impl Hash for RateKey {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_ref().hash(state);
    }
}

impl Equivalent<RateKey> for RateKeyRef<'_> {
    fn equivalent(&self, key: &RateKey) -> bool {
        *self == key.as_ref()
    }
}

#[derive(Debug, Clone, Copy, Default)]
struct Slot {
    second: i64,
    requests: i64,
    tokens: i64,
}

#[derive(Debug)]
struct Window {
    slots: [Slot; SECONDS],
    last: i64,
}

impl Default for Window {
    fn default() -> Self {
        Self {
            slots: [Slot::default(); SECONDS],
            last: 0,
        }
    }
}

impl Window {
    fn add(&mut self, second: i64, tokens: i64) {
        let slot = &mut self.slots[second.rem_euclid(SECONDS as i64) as usize];
        if slot.second != second {
            *slot = Slot {
                second,
                ..Slot::default()
            };
        }
        slot.requests += 1;
        slot.tokens += tokens;
        self.last = self.last.max(second);
    }

    fn rate(&self, now: i64) -> Rate {
        let mut r = Rate::default();
        for s in &self.slots {
            if s.second > now - SECONDS as i64 && s.second <= now {
                r.rpm += s.requests;
                r.tpm += s.tokens;
                if s.second == now {
                    r.rps += s.requests;
                    r.tps += s.tokens;
                }
            }
        }
        r
    }
}

/// Sliding one-minute windows of finished requests.
#[derive(Debug, Default)]
pub struct LiveRates {
    windows: Mutex<hashbrown::HashMap<RateKey, Window, foldhash::fast::RandomState>>,
}

impl LiveRates {
    /// Count a request that finished at `at_ms` with `tokens` tokens under each key.
    pub fn record<'k>(
        &self,
        at_ms: i64,
        tokens: i64,
        keys: impl IntoIterator<Item = RateKeyRef<'k>>,
    ) {
        let second = at_ms.div_euclid(1000);
        let Ok(mut windows) = self.windows.lock() else {
            return;
        };
        for key in keys {
            windows.entry_ref(&key).or_default().add(second, tokens);
        }
        if windows.len() > 1024 {
            windows.retain(|_, w| w.last > second - IDLE_SECONDS);
        }
    }

    /// Every key with traffic in the last minute, with its rate at `now_ms`.
    pub fn snapshot(&self, now_ms: i64) -> Vec<(RateKey, Rate)> {
        let now = now_ms.div_euclid(1000);
        let Ok(windows) = self.windows.lock() else {
            return Vec::new();
        };
        windows
            .iter()
            .map(|(k, w)| (k.clone(), w.rate(now)))
            .filter(|(_, r)| r.rpm > 0)
            .collect()
    }

    /// The summed rate of the keys `select` accepts.
    pub fn sum(&self, now_ms: i64, select: impl Fn(&RateKey) -> bool) -> Rate {
        let mut total = Rate::default();
        for (k, r) in self.snapshot(now_ms) {
            if select(&k) {
                total.add(r);
            }
        }
        total
    }

    /// Forget everything.
    pub fn clear(&self) {
        if let Ok(mut w) = self.windows.lock() {
            w.clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_slides_and_sums() {
        let r = LiveRates::default();
        let key = RateKeyRef::Channel(1, "m");
        r.record(100_000, 10, [key]);
        r.record(100_500, 5, [key, RateKeyRef::Group("g", "t", "m")]);
        r.record(130_000, 1, [key]);
        let now = r.sum(130_100, |k| matches!(k, RateKey::Channel(..)));
        assert_eq!(
            now,
            Rate {
                rpm: 3,
                tpm: 16,
                rps: 1,
                tps: 1
            }
        );
        let later = r.sum(160_100, |k| matches!(k, RateKey::Channel(..)));
        assert_eq!(later.rpm, 1, "the first two left the window");
        assert!(r.snapshot(300_000).is_empty());
    }

    #[test]
    fn borrowed_keys_find_their_owned_keys() {
        let r = LiveRates::default();
        let group = || RateKeyRef::Group("g", "t", "m");
        for _ in 0..3 {
            r.record(100_000, 1, [group(), RateKeyRef::Channel(1, "m")]);
        }
        r.record(
            100_000,
            1,
            [
                RateKeyRef::Group("g", "tm", ""),
                RateKeyRef::Channel(2, "m"),
            ],
        );
        let mut keys = r.snapshot(100_000);
        keys.sort_by(|a, b| a.0.cmp(&b.0));
        let counts: Vec<_> = keys
            .iter()
            .map(|(k, rate)| (k.as_ref(), rate.rpm))
            .collect();
        assert_eq!(
            counts,
            [
                (RateKeyRef::Channel(1, "m"), 3),
                (RateKeyRef::Channel(2, "m"), 1),
                (group(), 3),
                (RateKeyRef::Group("g", "tm", ""), 1),
            ],
            "one window per key; names that concatenate alike stay apart"
        );
    }
}
