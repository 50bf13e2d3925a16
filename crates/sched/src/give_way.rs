//! Cooperative yielding for long work on a CPU shared with latency-sensitive
//! threads.
//!
//! Where it sits: the log writer turns it on for its own thread
//! ([`give_way_every`]) and its SQLite steps call [`give_way`] often (from
//! SQLite's progress handler and while binding values). Nothing on the
//! request path calls it.
//!
//! Why: under EEVDF a normal-policy thread, however low its weight, keeps the
//! CPU once picked until its slice is used or it blocks; with a 250 Hz tick a
//! log batch picked while the request thread was already runnable held the
//! CPU for up to 4 ms. Yielding every so often of the batch's own work bounds
//! that hold to about the interval, and when nothing else is runnable a yield
//! is a system call that returns at once. A yield with another thread
//! runnable also gives up the rest of this thread's turn, so on a saturated
//! CPU the yielding thread runs mostly while the others wait; the log writer
//! is bounded by its queue, whose senders then wait for room.

use std::cell::Cell;
use std::time::{Duration, Instant};

/// When yields are due: at most one per interval.
#[derive(Debug, Clone, Copy)]
struct Pacer {
    every: Duration,
    last: Instant,
}

impl Pacer {
    /// A pacer whose first yield is due `every` after `now`.
    fn new(every: Duration, now: Instant) -> Self {
        Self { every, last: now }
    }

    /// Whether a yield is due at `now`; if so, the next is due `every` later.
    fn due(&mut self, now: Instant) -> bool {
        if now.saturating_duration_since(self.last) < self.every {
            return false;
        }
        self.last = now;
        true
    }
}

thread_local! {
    static PACER: Cell<Option<Pacer>> = const { Cell::new(None) };
    static YIELDS: Cell<u64> = const { Cell::new(0) };
}

/// Make [`give_way`] on the calling thread yield at most once per `every`;
/// `None` turns it off (the default).
pub fn give_way_every(every: Option<Duration>) {
    PACER.set(every.map(|every| Pacer::new(every, Instant::now())));
}

/// Yield the CPU if the calling thread asked to ([`give_way_every`]) and a
/// yield is due. Cheap when not: a thread-local read and a clock read.
pub fn give_way() {
    let Some(mut pacer) = PACER.get() else {
        return;
    };
    if pacer.due(Instant::now()) {
        std::thread::yield_now();
        YIELDS.set(YIELDS.get() + 1);
    }
    PACER.set(Some(pacer));
}

/// How many times [`give_way`] has yielded on the calling thread.
pub fn yields() -> u64 {
    YIELDS.get()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_yield_is_due_once_per_interval() {
        let start = Instant::now();
        let every = Duration::from_micros(50);
        let mut pacer = Pacer::new(every, start);
        assert!(!pacer.due(start));
        assert!(!pacer.due(start + Duration::from_micros(49)));
        assert!(pacer.due(start + every));
        assert!(!pacer.due(start + Duration::from_micros(99)));
        assert!(pacer.due(start + Duration::from_micros(100)));
        // A clock that steps back is not due.
        assert!(!pacer.due(start));
    }

    #[test]
    fn give_way_yields_only_when_turned_on() {
        let before = yields();
        for _ in 0..1000 {
            give_way();
        }
        assert_eq!(yields(), before, "off by default");
        give_way_every(Some(Duration::ZERO));
        for _ in 0..10 {
            give_way();
        }
        assert_eq!(yields(), before + 10);
        give_way_every(Some(Duration::from_secs(3600)));
        give_way();
        assert_eq!(yields(), before + 10, "not due for an hour");
        give_way_every(None);
        give_way();
        assert_eq!(yields(), before + 10);
    }
}
