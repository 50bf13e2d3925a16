//! The bounded log queue and its batch writer.
//!
//! Each batch is written in one transaction together with its summary rows
//! (`store::summaries`), so statistics are counted exactly once per entry.
//! As a batch arrives, the writer also emits one process-log line per
//! request, records the per-request Prometheus metrics and feeds the live
//! rates — all off the request path.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::record::{LogEntry, LogRecord};
use crate::stats::rates::{LiveRates, RateKey};
use crate::store::Store;
use crate::store::logs::UsageCounters;

/// Largest batch written in one transaction.
pub const BATCH_SIZE: usize = 512;
/// How long the writer waits for a batch to fill once it has an entry:
/// bigger, fewer transactions at the cost of this much log latency.
const LINGER: Duration = Duration::from_millis(20);
const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// The sending side, cloned into every request.
#[derive(Clone, Debug)]
pub struct LogSink {
    tx: mpsc::Sender<LogEntry>,
    tasks: TaskTracker,
    rates: Arc<LiveRates>,
}

/// The writer task's handle, used once at shutdown.
#[derive(Debug)]
pub struct LogWriter {
    stop: CancellationToken,
    done: tokio::task::JoinHandle<()>,
    tasks: TaskTracker,
}

impl LogSink {
    /// Create the queue and start the writer.
    pub fn start(store: Store, capacity: usize) -> (Self, LogWriter) {
        let (tx, rx) = mpsc::channel(capacity);
        let stop = CancellationToken::new();
        let tasks = TaskTracker::new();
        let rates = Arc::new(LiveRates::default());
        let done = tokio::spawn(write_loop(store, rx, stop.clone(), rates.clone()));
        (
            Self {
                tx,
                tasks: tasks.clone(),
                rates,
            },
            LogWriter { stop, done, tasks },
        )
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
        self.tx.max_capacity() - self.tx.capacity()
    }

    /// Live request and token rates of the requests this instance finished.
    pub fn rates(&self) -> &LiveRates {
        &self.rates
    }
}

impl LogWriter {
    /// Wait for finishing tasks, then drain the queue into the database.
    /// Gives up after `timeout` (reporting how much was still queued).
    pub async fn shutdown(self, timeout: Duration) {
        self.tasks.close();
        let _ = tokio::time::timeout(timeout, self.tasks.wait()).await;
        self.stop.cancel();
        if tokio::time::timeout(timeout, self.done).await.is_err() {
            tracing::error!("log writer did not finish draining within {timeout:?}");
        }
    }
}

async fn write_loop(
    store: Store,
    mut rx: mpsc::Receiver<LogEntry>,
    stop: CancellationToken,
    rates: Arc<LiveRates>,
) {
    let mut batch = Vec::with_capacity(BATCH_SIZE);
    let mut pending_counters = UsageCounters::default();
    loop {
        let received = tokio::select! {
            n = rx.recv_many(&mut batch, BATCH_SIZE) => n,
            () = stop.cancelled() => {
                rx.close();
                while rx.recv_many(&mut batch, BATCH_SIZE).await > 0 {
                    observe(&batch, &rates);
                    write_batch(&store, &mut batch, &mut pending_counters, Some(&stop)).await;
                }
                break;
            }
        };
        if received == 0 {
            break;
        }
        let deadline = tokio::time::Instant::now() + LINGER;
        while batch.len() < BATCH_SIZE {
            let room = BATCH_SIZE - batch.len();
            match tokio::time::timeout_at(deadline, rx.recv_many(&mut batch, room)).await {
                Ok(n) if n > 0 => {}
                _ => break,
            }
        }
        observe(&batch, &rates);
        write_batch(&store, &mut batch, &mut pending_counters, None).await;
    }
    if !pending_counters.is_empty()
        && let Err(e) = store.apply_usage_counters(&pending_counters).await
    {
        tracing::error!(error = %e, "usage counters could not be saved at shutdown");
    }
}

/// Write one batch, retrying with back-off until it is stored. While
/// shutting down (`stopping`), gives up after a few tries.
async fn write_batch(
    store: &Store,
    batch: &mut Vec<LogEntry>,
    counters: &mut UsageCounters,
    stopping: Option<&CancellationToken>,
) {
    let mut delay = Duration::from_millis(100);
    let mut tries = 0;
    loop {
        let started = Instant::now();
        let result = store.insert_log_batch(batch).await;
        crate::telemetry::record_log_write(started.elapsed(), batch.len(), result.is_ok());
        match result {
            Ok(()) => break,
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
    }
    let mut fresh = UsageCounters::default();
    for entry in batch.iter() {
        fresh.add(entry);
    }
    batch.clear();
    counters.merge(fresh);
    match store.apply_usage_counters(counters).await {
        Ok(()) => *counters = UsageCounters::default(),
        Err(e) => {
            tracing::warn!(error = %e, "usage counters not saved yet; will retry with the next batch")
        }
    }
}

/// What a batch tells the outside world before it is written: one process
/// log line and the metrics per finished request, and the live rates.
fn observe(batch: &[LogEntry], rates: &LiveRates) {
    for entry in batch {
        let (LogEntry::Request { record, .. } | LogEntry::CountOnly(record)) = entry else {
            continue;
        };
        trace_request(record);
        crate::telemetry::record_finished(record);
        let mut keys = vec![RateKey::Group(
            record.group_id.clone(),
            record.token_name.clone(),
            record.model.clone(),
        )];
        if record.channel_id > 0 {
            keys.push(RateKey::Channel(record.channel_id, record.model.clone()));
        }
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
