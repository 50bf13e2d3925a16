//! The bounded log queue and its batch writer.

use std::future::Future;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::record::LogEntry;
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
        let done = tokio::spawn(write_loop(store, rx, stop.clone()));
        (
            Self {
                tx,
                tasks: tasks.clone(),
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

async fn write_loop(store: Store, mut rx: mpsc::Receiver<LogEntry>, stop: CancellationToken) {
    let mut batch = Vec::with_capacity(BATCH_SIZE);
    let mut pending_counters = UsageCounters::default();
    loop {
        let received = tokio::select! {
            n = rx.recv_many(&mut batch, BATCH_SIZE) => n,
            () = stop.cancelled() => {
                rx.close();
                while rx.recv_many(&mut batch, BATCH_SIZE).await > 0 {
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
        match store.insert_log_batch(batch).await {
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
