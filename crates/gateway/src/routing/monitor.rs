//! Per (channel, model) error-rate windows and temporary bans, in memory.
//!
//! The window is 12 slices of 10 s (2 minutes). A rate is reported only once
//! the window holds at least `min_requests` attempts. Crossing a channel's
//! `max_error_rate` bans the pair for the ban duration ±10 %; banned pairs
//! are skipped by selection while anything else can serve.
//!
//! An optional [`MonitorObserver`] hears about bans and error rates as they
//! happen (the alert notifier); the background re-test lists banned pairs
//! with [`Monitor::banned_pairs`] and lifts bans with [`Monitor::unban`].

use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use foldhash::{HashMap, HashMapExt};
use rand::Rng;

const SLICES: usize = 12;
const SLICE: Duration = Duration::from_secs(10);
/// Attempts a window needs before its rate counts.
pub const MIN_REQUESTS: u32 = 10;

#[derive(Debug, Clone, Copy, Default)]
struct Slice {
    epoch: u64,
    requests: u32,
    errors: u32,
}

#[derive(Debug, Default)]
struct Window {
    slices: [Slice; SLICES],
    banned_until: Option<Instant>,
}

impl Window {
    fn record(&mut self, epoch: u64, is_error: bool) {
        let slot = &mut self.slices[(epoch % SLICES as u64) as usize];
        if slot.epoch != epoch {
            *slot = Slice {
                epoch,
                ..Slice::default()
            };
        }
        slot.requests += 1;
        slot.errors += u32::from(is_error);
    }

    fn totals(&self, epoch: u64) -> (u32, u32) {
        self.slices
            .iter()
            .filter(|s| epoch.saturating_sub(s.epoch) < SLICES as u64 && s.epoch <= epoch)
            .fold((0, 0), |(r, e), s| (r + s.requests, e + s.errors))
    }

    fn rate(&self, epoch: u64) -> f64 {
        let (requests, errors) = self.totals(epoch);
        if requests < MIN_REQUESTS {
            0.0
        } else {
            f64::from(errors) / f64::from(requests)
        }
    }
}

/// What recording an attempt changed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Recorded {
    /// Error rate after the attempt (0 below the minimum sample).
    pub error_rate: f64,
    /// The attempt banned the pair.
    pub newly_banned: bool,
}

/// The health of one pair at selection time.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Health {
    /// Recent error rate.
    pub error_rate: f64,
    /// Currently banned.
    pub banned: bool,
}

/// What the monitor knows about one (channel, model) pair.
#[derive(Debug, Clone, PartialEq)]
pub struct PairStats {
    /// Channel.
    pub channel: i64,
    /// Model.
    pub model: String,
    /// Attempts in the window.
    pub requests: u32,
    /// Failed attempts in the window.
    pub errors: u32,
    /// Error rate as routing sees it (0 below the minimum sample).
    pub error_rate: f64,
    /// Currently banned.
    pub banned: bool,
}

/// Something the monitor saw that an observer may act on.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum MonitorEvent<'a> {
    /// The pair was banned: its error rate crossed the channel's maximum
    /// (`error_rate` > 0), or an upstream refused the channel (`error_rate` 0).
    Banned {
        /// Channel id.
        channel: i64,
        /// Model.
        model: &'a str,
        /// Error rate at the ban.
        error_rate: f64,
    },
    /// A failed attempt left the pair with this (non-zero) error rate.
    ErrorRate {
        /// Channel id.
        channel: i64,
        /// Model.
        model: &'a str,
        /// Error rate over the window.
        error_rate: f64,
    },
}

/// Hears monitor events; called synchronously, so it must not block.
pub trait MonitorObserver: Send + Sync + std::fmt::Debug {
    /// One event.
    fn observe(&self, event: MonitorEvent<'_>);
}

/// Error rates and bans for every (channel, model) pair seen.
#[derive(Debug)]
pub struct Monitor {
    started: Instant,
    ban: Duration,
    pairs: Mutex<HashMap<i64, HashMap<String, Window>>>,
    observer: OnceLock<Arc<dyn MonitorObserver>>,
}

impl Monitor {
    /// A monitor whose bans last `ban` (±10 %).
    pub fn new(ban: Duration) -> Self {
        Self {
            started: Instant::now(),
            ban,
            pairs: Mutex::new(HashMap::new()),
            observer: OnceLock::new(),
        }
    }

    /// Install the observer (once; later calls are ignored).
    pub fn set_observer(&self, observer: Arc<dyn MonitorObserver>) {
        let _ = self.observer.set(observer);
    }

    fn emit(&self, event: MonitorEvent<'_>) {
        if let Some(observer) = self.observer.get() {
            observer.observe(event);
        }
    }

    fn epoch(&self, now: Instant) -> u64 {
        (now.saturating_duration_since(self.started).as_secs() / SLICE.as_secs()) + SLICES as u64
    }

    fn jittered_ban(&self) -> Duration {
        let factor = rand::rng().random_range(0.9..=1.1);
        self.ban.mul_f64(factor)
    }

    /// Record one attempt; bans the pair when `max_error_rate > 0` and the rate reaches it.
    pub fn record(
        &self,
        channel: i64,
        model: &str,
        is_error: bool,
        max_error_rate: f64,
    ) -> Recorded {
        let recorded = self.record_at(Instant::now(), channel, model, is_error, max_error_rate);
        if recorded.newly_banned {
            self.emit(MonitorEvent::Banned {
                channel,
                model,
                error_rate: recorded.error_rate,
            });
        } else if is_error && recorded.error_rate > 0.0 {
            self.emit(MonitorEvent::ErrorRate {
                channel,
                model,
                error_rate: recorded.error_rate,
            });
        }
        recorded
    }

    fn record_at(
        &self,
        now: Instant,
        channel: i64,
        model: &str,
        is_error: bool,
        max_error_rate: f64,
    ) -> Recorded {
        let epoch = self.epoch(now);
        let ban = self.jittered_ban();
        let Ok(mut pairs) = self.pairs.lock() else {
            return Recorded {
                error_rate: 0.0,
                newly_banned: false,
            };
        };
        let models = pairs.entry(channel).or_default();
        if !models.contains_key(model) {
            models.insert(model.to_owned(), Window::default());
        }
        let Some(window) = models.get_mut(model) else {
            return Recorded {
                error_rate: 0.0,
                newly_banned: false,
            };
        };
        window.record(epoch, is_error);
        let error_rate = window.rate(epoch);
        let already = window.banned_until.is_some_and(|t| t > now);
        let newly_banned =
            !already && is_error && max_error_rate > 0.0 && error_rate >= max_error_rate;
        if newly_banned {
            window.banned_until = Some(now + ban);
        }
        Recorded {
            error_rate,
            newly_banned,
        }
    }

    /// Ban a pair at once (no-permission statuses on channels that ask for it).
    pub fn ban(&self, channel: i64, model: &str) {
        let until = Instant::now() + self.jittered_ban();
        if let Ok(mut pairs) = self.pairs.lock() {
            pairs
                .entry(channel)
                .or_default()
                .entry(model.to_owned())
                .or_default()
                .banned_until = Some(until);
        }
        self.emit(MonitorEvent::Banned {
            channel,
            model,
            error_rate: 0.0,
        });
    }

    /// Health of `model` on each of `channels`, in order.
    pub fn health(&self, model: &str, channels: &[i64]) -> Vec<Health> {
        self.health_at(Instant::now(), model, channels)
    }

    fn health_at(&self, now: Instant, model: &str, channels: &[i64]) -> Vec<Health> {
        let epoch = self.epoch(now);
        let Ok(pairs) = self.pairs.lock() else {
            return vec![Health::default(); channels.len()];
        };
        channels
            .iter()
            .map(|id| {
                pairs
                    .get(id)
                    .and_then(|m| m.get(model))
                    .map_or_else(Health::default, |w| Health {
                        error_rate: w.rate(epoch),
                        banned: w.banned_until.is_some_and(|t| t > now),
                    })
            })
            .collect()
    }

    /// Window totals, rate and ban state of every pair seen (for the monitor API).
    pub fn stats(&self) -> Vec<PairStats> {
        let now = Instant::now();
        let epoch = self.epoch(now);
        let Ok(pairs) = self.pairs.lock() else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for (channel, models) in pairs.iter() {
            for (model, w) in models {
                let (requests, errors) = w.totals(epoch);
                let banned = w.banned_until.is_some_and(|t| t > now);
                if requests == 0 && !banned {
                    continue;
                }
                out.push(PairStats {
                    channel: *channel,
                    model: model.clone(),
                    requests,
                    errors,
                    error_rate: w.rate(epoch),
                    banned,
                });
            }
        }
        out
    }

    /// Forget one pair's statistics and ban.
    pub fn clear_pair(&self, channel: i64, model: &str) {
        if let Ok(mut pairs) = self.pairs.lock()
            && let Some(models) = pairs.get_mut(&channel)
        {
            models.remove(model);
        }
    }

    /// Forget a channel's statistics and bans (after it is edited or deleted).
    pub fn clear_channel(&self, channel: i64) {
        if let Ok(mut pairs) = self.pairs.lock() {
            pairs.remove(&channel);
        }
    }

    /// Forget everything.
    pub fn clear(&self) {
        if let Ok(mut pairs) = self.pairs.lock() {
            pairs.clear();
        }
    }

    /// Every (channel, model) pair banned right now.
    pub fn banned_pairs(&self) -> Vec<(i64, String)> {
        let now = Instant::now();
        let Ok(pairs) = self.pairs.lock() else {
            return Vec::new();
        };
        pairs
            .iter()
            .flat_map(|(channel, models)| {
                models
                    .iter()
                    .filter(|(_, w)| w.banned_until.is_some_and(|t| t > now))
                    .map(|(model, _)| (*channel, model.clone()))
            })
            .collect()
    }

    /// Lift a pair's ban and forget its error window (it passed a test).
    /// Returns whether it was banned.
    pub fn unban(&self, channel: i64, model: &str) -> bool {
        let now = Instant::now();
        let Ok(mut pairs) = self.pairs.lock() else {
            return false;
        };
        let Some(models) = pairs.get_mut(&channel) else {
            return false;
        };
        let was = models
            .remove(model)
            .is_some_and(|w| w.banned_until.is_some_and(|t| t > now));
        if models.is_empty() {
            pairs.remove(&channel);
        }
        was
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_needs_minimum_sample() {
        let m = Monitor::new(Duration::from_secs(60));
        let now = Instant::now();
        for _ in 0..9 {
            m.record_at(now, 1, "m", true, 0.0);
        }
        assert_eq!(m.health_at(now, "m", &[1])[0].error_rate, 0.0);
        let r = m.record_at(now, 1, "m", false, 0.0);
        assert!((r.error_rate - 0.9).abs() < 1e-9);
    }

    #[test]
    fn crossing_max_rate_bans_and_ban_expires() {
        let m = Monitor::new(Duration::from_secs(60));
        let now = Instant::now();
        let mut banned = 0;
        for _ in 0..10 {
            banned += u32::from(m.record_at(now, 1, "m", true, 0.5).newly_banned);
        }
        assert_eq!(banned, 1);
        assert!(m.health_at(now, "m", &[1])[0].banned);
        assert!(!m.health_at(now, "other", &[1])[0].banned);
        assert!(!m.health_at(now + Duration::from_secs(67), "m", &[1])[0].banned);
    }

    #[test]
    fn window_slides() {
        let m = Monitor::new(Duration::from_secs(60));
        let now = Instant::now();
        for _ in 0..10 {
            m.record_at(now, 1, "m", true, 0.0);
        }
        assert_eq!(m.health_at(now, "m", &[1])[0].error_rate, 1.0);
        let later = now + Duration::from_secs(130);
        assert_eq!(m.health_at(later, "m", &[1])[0].error_rate, 0.0);
    }

    #[derive(Debug, Default)]
    struct Seen(Mutex<Vec<String>>);

    impl MonitorObserver for Seen {
        fn observe(&self, event: MonitorEvent<'_>) {
            self.0.lock().unwrap().push(format!("{event:?}"));
        }
    }

    #[test]
    fn observer_hears_bans_and_rates_and_unban_lifts() {
        let m = Monitor::new(Duration::from_secs(60));
        let seen = Arc::new(Seen::default());
        m.set_observer(seen.clone());
        for _ in 0..10 {
            m.record(1, "m", true, 0.5);
        }
        let events = seen.0.lock().unwrap().clone();
        assert_eq!(events.iter().filter(|e| e.starts_with("Banned")).count(), 1);
        assert_eq!(m.banned_pairs(), vec![(1, "m".to_owned())]);
        assert!(m.unban(1, "m"));
        assert!(m.banned_pairs().is_empty());
        assert!(!m.unban(1, "m"));
    }

    #[test]
    fn clear_forgets() {
        let m = Monitor::new(Duration::from_secs(60));
        m.ban(1, "m");
        assert!(m.health("m", &[1])[0].banned);
        m.clear_channel(1);
        assert!(!m.health("m", &[1])[0].banned);
    }
}
