//! The bounded log queue and its batch writer.
//!
//! Each batch is written in one transaction together with its summary rows
//! (`store::summaries`), so statistics are counted exactly once per entry,
//! and, when the logs are kept in the main database (the default), with the
//! usage counters of tokens, groups and channels: a crash or a failed write
//! never leaves rows whose usage was not counted, or the reverse.
//! As a batch arrives, the writer also emits one process-log line per
//! request, records the per-request Prometheus metrics and feeds the live
//! rates — all off the request path.
//!
//! The writer runs on its own thread, with its own single-threaded runtime
//! and its own database connections ([`super::destination`]: on SQLite it
//! steps the statements itself), so that the kernel can preempt a batch in
//! favour of requests instead of requests waiting behind it on the runtime.
//! By default at nice 19 with a long time slice (`LOG_WRITER_PRIORITY=low`),
//! which any thread it starts inherits: a waking request preempts a batch
//! at once, and the writer still gets a share of a saturated CPU. Its
//! SQLite work also yields every 50 µs, so that a request thread that was
//! already runnable when a batch was picked waits no longer than that; on a
//! saturated CPU the writer then runs mostly while requests wait for room
//! in the full queue.
//! Optionally at Linux's `SCHED_IDLE` priority (`idle`): then logging
//! never delays a request, but when the CPU has no idle time the queue
//! fills and `send` waits (the same back-pressure as a slow database).

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::oneshot;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::destination::Destination;
use super::queue::{QueueReceiver, QueueSender, log_queue};
use super::record::{LogEntry, LogRecord};
use crate::config::DatabaseConfig;
use crate::stats::rates::{LiveRates, RateKeyRef};
use crate::store::StoreError;
use crate::store::logs::UsageCounters;
use crate::telemetry::FinishedMetrics;

/// Largest batch written in one transaction.
pub const BATCH_SIZE: usize = 512;
/// How long the writer waits for a batch to fill once it has an entry:
/// bigger, fewer transactions at the cost of this much log latency.
const LINGER: Duration = Duration::from_millis(20);
const MAX_BACKOFF: Duration = Duration::from_secs(5);
/// Connections of the writer's own pools.
const WRITER_CONNECTIONS: u32 = 2;
/// Time slice of the writer at `low`: longer than any request thread's
/// (the kernel's base slice, 0.75 ms × (1 + log2 CPUs), 3 ms at most).
/// Under EEVDF (Linux 6.12 and later) a thread that wakes with a shorter
/// slice than the running one ends the running one's slice protection, so
/// a request that wakes while a log batch runs preempts it at once instead
/// of waiting out the batch's slice. The writer's share of a busy CPU is
/// still that of nice 19. Not much longer: a batch picked while a request
/// thread is already runnable (not waking) runs its whole slice first, and
/// at 10 ms that lengthened the tail near capacity.
const LOW_PRIORITY_SLICE: Duration = Duration::from_millis(4);

/// How much of a batch's work the writer does at most before it yields the
/// CPU to a runnable request thread, at `low` and `idle`
/// ([`switchyard_sched::give_way`]; SQLite's steps check it). Without it a
/// batch picked while the request thread was already runnable held the CPU
/// until the next scheduler tick, 4 ms at 250 Hz.
const GIVE_WAY_EVERY: Duration = Duration::from_micros(50);

/// CPU priority of the writer thread.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum WriterPriority {
    /// The normal priority: shares the CPU fairly with the request path.
    Normal,
    /// Nice 19 (the normal policy) with a 4 ms time slice: a request that
    /// wakes up preempts the writer at once (Linux 6.12 and later; on
    /// earlier kernels once its slice is used), so a batch delays requests far
    /// less than at `normal`, yet the writer keeps a small share of a
    /// saturated CPU and is never starved. The default.
    #[default]
    Low,
    /// Linux `SCHED_IDLE`: runs only on CPU time the request path leaves
    /// free, so it never delays a request. Near saturation the queue fills
    /// and requests wait for it: less peak throughput, and an overloaded
    /// gateway holds many more requests in memory.
    Idle,
}

/// The sending side, cloned into every request.
#[derive(Clone, Debug)]
pub struct LogSink {
    tx: QueueSender,
    tasks: TaskTracker,
    rates: Arc<LiveRates>,
}

/// The writer's handle, used once at shutdown.
#[derive(Debug)]
pub struct LogWriter {
    stop: CancellationToken,
    done: oneshot::Receiver<()>,
    tasks: TaskTracker,
}

impl LogSink {
    /// Create the queue and start the writer thread at `priority`; it opens
    /// its own connections to `database`. Fails if it cannot.
    pub async fn start(
        database: &DatabaseConfig,
        capacity: usize,
        priority: WriterPriority,
    ) -> Result<(Self, LogWriter), StoreError> {
        let (tx, rx) = log_queue(capacity);
        let stop = CancellationToken::new();
        let rates = Arc::new(LiveRates::default());
        let (ready_tx, ready_rx) = oneshot::channel();
        let (done_tx, done) = oneshot::channel();
        let database = DatabaseConfig {
            max_connections: WRITER_CONNECTIONS,
            ..database.clone()
        };
        let thread = WriterThread {
            database,
            priority,
            rx,
            stop: stop.clone(),
            rates: rates.clone(),
            ready: ready_tx,
            done: done_tx,
        };
        std::thread::Builder::new()
            .name("switchyard-log-writer".into())
            .spawn(move || thread.run())
            .map_err(|e| StoreError::Database(sqlx::Error::Io(e)))?;
        ready_rx
            .await
            .map_err(|_| StoreError::Database(sqlx::Error::WorkerCrashed))??;
        let tasks = TaskTracker::new();
        Ok((
            Self {
                tx,
                tasks: tasks.clone(),
                rates,
            },
            LogWriter { stop, done, tasks },
        ))
    }

    /// Queue an entry, waiting while the queue is full.
    pub async fn send(&self, entry: LogEntry) {
        if self.tx.send(entry).await.is_err() {
            tracing::error!("log queue closed; a log entry could not be queued");
        }
    }

    /// Run a finishing task (stream completion) that is awaited at shutdown.
    pub fn spawn<F>(&self, future: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        self.tasks.spawn(future);
    }

    /// Entries waiting to be written.
    pub fn queued(&self) -> usize {
        self.tx.queued()
    }

    /// Live request and token rates of the requests this instance finished.
    pub fn rates(&self) -> &LiveRates {
        &self.rates
    }
}

impl LogWriter {
    /// Wait for finishing tasks, then drain the queue into the database.
    /// Gives up after `timeout`.
    pub async fn shutdown(self, timeout: Duration) {
        self.tasks.close();
        let _ = tokio::time::timeout(timeout, self.tasks.wait()).await;
        self.stop.cancel();
        if tokio::time::timeout(timeout, self.done).await.is_err() {
            tracing::error!("log writer did not finish draining within {timeout:?}");
        }
    }
}

/// What the writer thread owns.
struct WriterThread {
    database: DatabaseConfig,
    priority: WriterPriority,
    rx: QueueReceiver,
    stop: CancellationToken,
    rates: Arc<LiveRates>,
    ready: oneshot::Sender<Result<(), StoreError>>,
    done: oneshot::Sender<()>,
}

impl WriterThread {
    /// Lower the priority if asked, connect, report readiness, write until
    /// stopped or every sender is gone, then close the connections.
    fn run(self) {
        let Self {
            database,
            priority,
            rx,
            stop,
            rates,
            ready,
            done,
        } = self;
        lower_priority(priority);
        let runtime = match tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        {
            Ok(runtime) => runtime,
            Err(e) => {
                let _ = ready.send(Err(StoreError::Database(sqlx::Error::Io(e))));
                return;
            }
        };
        runtime.block_on(async move {
            let mut destination = match Destination::open(&database).await {
                Ok(destination) => destination,
                Err(e) => {
                    let _ = ready.send(Err(e));
                    return;
                }
            };
            let _ = ready.send(Ok(()));
            write_loop(&mut destination, rx, stop, rates).await;
            destination.close().await;
        });
        let _ = done.send(());
    }
}

/// Put the calling thread (and so the SQLite threads it starts, which
/// inherit it) at `priority`. Best effort: where that is not allowed the
/// writer keeps the normal priority.
fn lower_priority(priority: WriterPriority) {
    use switchyard_sched::{Policy, set_current_thread};
    let policy = match priority {
        WriterPriority::Normal => return,
        WriterPriority::Low => Policy::Normal {
            nice: 19,
            slice: Some(LOW_PRIORITY_SLICE),
        },
        WriterPriority::Idle => Policy::Idle,
    };
    if let Err(e) = set_current_thread(policy) {
        tracing::debug!(error = %e, "log writer keeps the normal CPU priority");
    }
    switchyard_sched::give_way_every(Some(GIVE_WAY_EVERY));
}

async fn write_loop(
    destination: &mut Destination,
    mut rx: QueueReceiver,
    stop: CancellationToken,
    rates: Arc<LiveRates>,
) {
    let mut batch = Vec::with_capacity(BATCH_SIZE);
    let mut pending_counters = UsageCounters::default();
    let mut metrics = FinishedMetrics::default();
    loop {
        let received = tokio::select! {
            n = rx.recv_many(&mut batch, BATCH_SIZE) => n,
            () = stop.cancelled() => {
                rx.close();
                while rx.recv_many(&mut batch, BATCH_SIZE).await > 0 {
                    observe(&batch, &rates, &mut metrics);
                    write_batch(destination, &mut batch, &mut pending_counters, Some(&stop)).await;
                }
                break;
            }
        };
        if received == 0 {
            break;
        }
        // Let the batch fill without waiting on the queue: a waiting
        // receiver is woken (a futex call and a context switch, across
        // threads) by every entry sent, a sleeping one by none.
        if batch.len() < BATCH_SIZE {
            tokio::select! {
                () = tokio::time::sleep(LINGER) => {}
                () = stop.cancelled() => {}
            }
            while batch.len() < BATCH_SIZE
                && let Some(entry) = rx.try_recv()
            {
                batch.push(entry);
            }
        }
        // Room for as many new entries, in one hand-over.
        rx.free(batch.len());
        observe(&batch, &rates, &mut metrics);
        write_batch(destination, &mut batch, &mut pending_counters, None).await;
    }
    if !pending_counters.is_empty()
        && let Err(e) = destination.apply_usage_counters(&pending_counters).await
    {
        tracing::error!(error = %e, "usage counters could not be saved at shutdown");
    }
}

/// Write one batch, retrying with back-off until it is stored, with the
/// usage it adds to tokens, groups and channels (`counters` also holds any
/// earlier batch's that could not be saved yet). Where the counters live in
/// the log database they are saved in the batch's own transaction; else
/// right after it, and kept for the next batch if that fails. While
/// shutting down (`stopping`), gives up on the rows after a few tries; their
/// counters are still kept for the final attempt at shutdown.
async fn write_batch(
    destination: &mut Destination,
    batch: &mut Vec<LogEntry>,
    counters: &mut UsageCounters,
    stopping: Option<&CancellationToken>,
) {
    for entry in batch.iter() {
        counters.add(entry);
    }
    let mut delay = Duration::from_millis(100);
    let mut tries = 0;
    let counters_saved = loop {
        let started = Instant::now();
        let result = destination.insert_log_batch(batch, counters).await;
        crate::telemetry::record_log_write(started.elapsed(), batch.len(), result.is_ok());
        match result {
            Ok(counters_saved) => break counters_saved,
            Err(e) => {
                tries += 1;
                tracing::error!(error = %e, entries = batch.len(), tries, "writing logs failed; retrying");
                if stopping.is_some() && tries >= 5 {
                    tracing::error!(
                        entries = batch.len(),
                        "log entries lost at shutdown: database unavailable"
                    );
                    batch.clear();
                    return;
                }
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(MAX_BACKOFF);
            }
        }
    };
    batch.clear();
    if counters_saved {
        *counters = UsageCounters::default();
        return;
    }
    match destination.apply_usage_counters(counters).await {
        Ok(()) => *counters = UsageCounters::default(),
        Err(e) => {
            tracing::warn!(error = %e, "usage counters not saved yet; will retry with the next batch")
        }
    }
}

/// What a batch tells the outside world before it is written: one process
/// log line and the metrics per finished request, and the live rates.
fn observe(batch: &[LogEntry], rates: &LiveRates, metrics: &mut FinishedMetrics) {
    for entry in batch {
        let (LogEntry::Request { record, .. } | LogEntry::CountOnly(record)) = entry else {
            continue;
        };
        trace_request(record);
        metrics.record(record);
        let group = RateKeyRef::Group(&record.group_id, &record.token_name, &record.model);
        let channel =
            (record.channel_id > 0).then(|| RateKeyRef::Channel(record.channel_id, &record.model));
        let keys = std::iter::once(group).chain(channel);
        rates.record(record.created_at, record.usage.total_tokens, keys);
    }
}

/// The process log line of a finished request.
fn trace_request(r: &LogRecord) {
    tracing::info!(
        target: "switchyard::request",
        request_id = %r.request_id,
        group = %r.group_id,
        token = %r.token_name,
        model = %r.model,
        channel = r.channel_id,
        endpoint = %r.endpoint,
        code = r.code,
        duration_ms = r.created_at - r.request_at,
        ttfb_ms = r.ttfb_milliseconds,
        retries = r.retry_times,
        input_tokens = r.usage.input_tokens,
        output_tokens = r.usage.output_tokens,
        amount = r.used_amount,
        ip = %r.ip,
        "request finished"
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::DbTarget;
    use crate::store::Store;

    /// Scheduling attributes of this process's thread named `name`.
    ///
    /// Other threads may exit while the list is read (the store's SQLite
    /// threads, dropped just before): one that is gone is skipped, not taken
    /// for the end of the search.
    fn thread_sched(name: &str) -> Option<switchyard_sched::Observed> {
        std::fs::read_dir("/proc/self/task")
            .ok()?
            .filter_map(|task| task.ok().map(|t| t.path()))
            .find(|path| {
                std::fs::read_to_string(path.join("comm")).is_ok_and(|comm| comm.trim_end() == name)
            })
            .and_then(|path| switchyard_sched::observe(&path))
    }

    #[tokio::test]
    async fn the_writer_runs_at_nice_19_with_a_long_slice_by_default() {
        let dir = tempfile::tempdir().unwrap();
        let database = DatabaseConfig {
            main: DbTarget::Sqlite(dir.path().join("logs.db")),
            logs: None,
            max_connections: 2,
            sqlite_busy_timeout: Duration::from_secs(3),
        };
        Store::connect(&database)
            .await
            .unwrap()
            .migrate()
            .await
            .unwrap();
        let (sink, writer) = LogSink::start(&database, 16, WriterPriority::default())
            .await
            .unwrap();
        let writer_thread = thread_sched("switchyard-log-").unwrap();
        assert_eq!(
            (writer_thread.nice, writer_thread.policy),
            (19, 0),
            "nice 19, SCHED_OTHER"
        );
        if switchyard_sched::custom_slices_supported()
            && let Some(slice) = writer_thread.slice_ns
        {
            assert_eq!(u128::from(slice), LOW_PRIORITY_SLICE.as_nanos());
        }
        drop(sink);
        writer.shutdown(Duration::from_secs(5)).await;
    }
}
