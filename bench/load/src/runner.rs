//! The load loops: open loop at a fixed arrival rate, and closed loop with a fixed
//! number of workers (saturation and continuous streams).

use std::sync::atomic::Ordering::Relaxed;
use std::sync::atomic::{AtomicU64, AtomicUsize};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use tokio::task::JoinSet;

use crate::LoadError;
use crate::client::Target;
use crate::config::{LoadConfig, Mode};
use crate::report::Report;
use crate::schedule::{Pacer, Schedule};
use crate::stats::{Failure, Recorder};

/// Longest period over which closed-loop workers' starts are spread.
const MAX_STAGGER: Duration = Duration::from_secs(1);

/// Runs the configured load on the current tokio runtime and returns the report.
///
/// Rate mode: a dedicated blocking thread waits until each arrival is due (an OS sleep
/// corrected for its learned oversleep, see [`Pacer`], so tens of µs precision rather
/// than tokio's 1 ms timer) and spawns the request onto the runtime; latency counts
/// from the due time (or the send, if that was earlier). Saturate and streams modes: N workers
/// each send requests back to back, their starts spread evenly over the warm-up (at
/// most 1 s) so streams do not tick in lockstep; latency counts from the send.
pub async fn run(config: LoadConfig) -> Result<Report, LoadError> {
    config.validate()?;
    let target = Target::new(&config);
    let recorder = Recorder::new(config.expect_events)?;
    let shared = Arc::new(Shared {
        target,
        recorder: Mutex::new(recorder),
        in_flight: AtomicUsize::new(0),
        max_in_flight: AtomicU64::new(0),
    });
    let started = Instant::now();
    match config.mode {
        Mode::Rate(rate) => open_loop(&config, rate, &shared).await?,
        Mode::Saturate(workers) | Mode::Streams(workers) => {
            closed_loop(&config, workers, &shared).await
        }
    }
    let wall = started.elapsed();
    let max_in_flight = shared.max_in_flight.load(Relaxed);
    let recorder = lock(&shared.recorder);
    Ok(Report::new(&config, &recorder, max_in_flight, wall))
}

struct Shared {
    target: Target,
    recorder: Mutex<Recorder>,
    in_flight: AtomicUsize,
    max_in_flight: AtomicU64,
}

impl Shared {
    fn enter(&self, limit: usize) -> bool {
        let now = self.in_flight.fetch_add(1, Relaxed) + 1;
        if now > limit {
            self.in_flight.fetch_sub(1, Relaxed);
            return false;
        }
        self.max_in_flight.fetch_max(now as u64, Relaxed);
        true
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

async fn open_loop(config: &LoadConfig, rate: f64, shared: &Arc<Shared>) -> Result<(), LoadError> {
    let handle = tokio::runtime::Handle::current();
    let schedule = Schedule::new(
        Instant::now() + Duration::from_millis(5),
        rate,
        config.warmup,
        config.duration,
    );
    let limit = config.concurrency_limit;
    let scheduler_shared = shared.clone();
    tokio::task::spawn_blocking(move || {
        let shared = scheduler_shared;
        let mut pacer = Pacer::new();
        for i in 0..schedule.total() {
            let due = schedule.due(i);
            pacer.wait_until(due);
            let measured = schedule.measured(i);
            if !shared.enter(limit) {
                if measured {
                    lock(&shared.recorder).record_dropped();
                }
                continue;
            }
            let task_shared = shared.clone();
            handle.spawn(async move {
                let sent = Instant::now();
                let outcome = task_shared.target.execute().await;
                if measured {
                    // sent a little early (pacer) → measure from the actual send
                    lock(&task_shared.recorder).record(due.min(sent), sent, outcome);
                }
                task_shared.in_flight.fetch_sub(1, Relaxed);
            });
        }
    })
    .await?;
    let deadline = Instant::now() + config.timeout + Duration::from_secs(1);
    while shared.in_flight.load(Relaxed) > 0 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    Ok(())
}

async fn closed_loop(config: &LoadConfig, workers: usize, shared: &Arc<Shared>) {
    let start = Instant::now();
    let measure_from = start + config.warmup;
    let end = measure_from + config.duration;
    let stagger =
        config.warmup.min(MAX_STAGGER) / u32::try_from(workers).unwrap_or(u32::MAX).max(1);
    let mut set = JoinSet::new();
    for w in 0..workers {
        let shared = shared.clone();
        let first = start + stagger * u32::try_from(w).unwrap_or(u32::MAX);
        set.spawn(async move {
            tokio::time::sleep_until(first.into()).await;
            loop {
                let sent = Instant::now();
                if sent >= end {
                    break;
                }
                shared.enter(usize::MAX);
                let outcome = shared.target.execute().await;
                shared.in_flight.fetch_sub(1, Relaxed);
                let refused = matches!(outcome, Err(Failure::Connect));
                if sent >= measure_from {
                    lock(&shared.recorder).record(sent, sent, outcome);
                }
                if refused {
                    // avoid a hot loop against a server that is down
                    tokio::time::sleep(Duration::from_millis(1)).await;
                }
            }
        });
    }
    while set.join_next().await.is_some() {}
}
