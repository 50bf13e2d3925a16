//! The log queue between the request path and the log writer thread.
//!
//! Entries travel on an unbounded channel; the queue's capacity is a
//! semaphore the senders take a slot of before sending, so a full queue
//! makes them wait (logs are never dropped). The writer hands the slots of
//! the entries it took back in one message per batch, and a small task on
//! the senders' runtime returns them to the semaphore there.
//!
//! Why not a bounded channel: its receiver frees each slot itself, waking
//! each waiting sender from the writer's thread. On a busy CPU every such
//! wake-up lets the request thread preempt the writer, serve one request
//! and go idle again — a pair of context switches per request while the
//! queue is full (seen at saturation: 0.68 a request). Returning the slots
//! on the senders' own thread wakes them all in one go, without a system
//! call each.

use std::sync::Arc;

use tokio::sync::{Semaphore, mpsc};

use super::record::LogEntry;

/// Create a queue of `capacity` entries. Must be called on the runtime the
/// senders run on: the task that returns freed slots is spawned there, and
/// ends when the receiver is dropped.
pub fn log_queue(capacity: usize) -> (QueueSender, QueueReceiver) {
    let capacity = capacity.clamp(1, Semaphore::MAX_PERMITS);
    let room = Arc::new(Semaphore::new(capacity));
    let (tx, rx) = mpsc::unbounded_channel();
    let (freed, mut freed_rx) = mpsc::unbounded_channel::<usize>();
    let returned = room.clone();
    tokio::spawn(async move {
        let mut counts = Vec::new();
        while freed_rx.recv_many(&mut counts, 64).await > 0 {
            returned.add_permits(counts.drain(..).sum());
        }
    });
    (
        QueueSender {
            tx,
            room: room.clone(),
            capacity,
        },
        QueueReceiver { rx, freed, room },
    )
}

/// The request path's end, cloned into every request.
#[derive(Clone, Debug)]
pub struct QueueSender {
    tx: mpsc::UnboundedSender<LogEntry>,
    room: Arc<Semaphore>,
    capacity: usize,
}

impl QueueSender {
    /// Queue an entry, waiting while the queue is full. Gives the entry back
    /// if the writer has stopped taking entries.
    pub async fn send(&self, entry: LogEntry) -> Result<(), Box<LogEntry>> {
        match self.room.acquire().await {
            Ok(slot) => slot.forget(),
            Err(_) => return Err(Box::new(entry)),
        }
        self.tx.send(entry).map_err(|e| Box::new(e.0))
    }

    /// Entries queued and not yet taken by the writer; the slots of entries
    /// it has just taken count until they are back (a batch's hand-over).
    pub fn queued(&self) -> usize {
        self.capacity.saturating_sub(self.room.available_permits())
    }
}

/// The writer's end.
#[derive(Debug)]
pub struct QueueReceiver {
    rx: mpsc::UnboundedReceiver<LogEntry>,
    freed: mpsc::UnboundedSender<usize>,
    room: Arc<Semaphore>,
}

impl QueueReceiver {
    /// Wait for entries and append up to `limit` to `batch`; 0 once the
    /// queue is closed and empty. Their slots stay taken until [`Self::free`].
    pub async fn recv_many(&mut self, batch: &mut Vec<LogEntry>, limit: usize) -> usize {
        self.rx.recv_many(batch, limit).await
    }

    /// An entry already queued, without waiting.
    pub fn try_recv(&mut self) -> Option<LogEntry> {
        self.rx.try_recv().ok()
    }

    /// Give the slots of `taken` entries back to the senders (one wake-up
    /// of their runtime, however many).
    pub fn free(&self, taken: usize) {
        if taken > 0 && self.freed.send(taken).is_err() {
            // The senders' runtime is gone; nobody waits for room any more.
            self.room.add_permits(taken);
        }
    }

    /// Refuse further entries (senders waiting for room are refused too);
    /// those already queued can still be received.
    pub fn close(&mut self) {
        self.rx.close();
        self.room.close();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::logs::record::LogRecord;
    use std::time::Duration;

    fn entry(id: &str) -> LogEntry {
        LogEntry::CountOnly(Box::new(LogRecord {
            request_id: id.into(),
            ..LogRecord::default()
        }))
    }

    fn ids(batch: &[LogEntry]) -> Vec<String> {
        batch
            .iter()
            .map(|e| match e {
                LogEntry::CountOnly(r) => r.request_id.clone(),
                _ => String::new(),
            })
            .collect()
    }

    #[tokio::test]
    async fn a_full_queue_holds_senders_until_the_writer_frees_their_room() {
        let (tx, mut rx) = log_queue(2);
        tx.send(entry("a")).await.unwrap();
        tx.send(entry("b")).await.unwrap();
        assert_eq!(tx.queued(), 2);
        let sender = tx.clone();
        let third = tokio::spawn(async move { sender.send(entry("c")).await });
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(!third.is_finished(), "no room: the third entry waits");

        let mut batch = Vec::new();
        assert_eq!(rx.recv_many(&mut batch, 16).await, 2);
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(!third.is_finished(), "taken but not freed: still no room");

        rx.free(batch.len());
        tokio::time::timeout(Duration::from_secs(5), third)
            .await
            .expect("freed room lets the sender in")
            .unwrap()
            .unwrap();
        assert_eq!(rx.recv_many(&mut batch, 16).await, 1);
        assert_eq!(ids(&batch), ["a", "b", "c"], "nothing lost, in order");
        assert_eq!(tx.queued(), 1, "the third entry's slot is not freed yet");
    }

    #[tokio::test]
    async fn slots_freed_from_another_thread_reach_the_senders() {
        let (tx, mut rx) = log_queue(1);
        tx.send(entry("a")).await.unwrap();
        let writer = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async move {
                let mut batch = Vec::new();
                while rx.recv_many(&mut batch, 8).await > 0 {
                    rx.free(batch.len());
                    if batch.len() == 3 {
                        break;
                    }
                }
                ids(&batch)
            })
        });
        tokio::time::timeout(Duration::from_secs(5), async {
            tx.send(entry("b")).await.unwrap();
            tx.send(entry("c")).await.unwrap();
        })
        .await
        .expect("the writer thread frees room for each entry");
        assert_eq!(writer.join().unwrap(), ["a", "b", "c"]);
    }

    #[tokio::test]
    async fn closing_refuses_new_and_waiting_senders_but_keeps_queued_entries() {
        let (tx, mut rx) = log_queue(1);
        tx.send(entry("a")).await.unwrap();
        let sender = tx.clone();
        let waiting = tokio::spawn(async move { sender.send(entry("b")).await });
        tokio::time::sleep(Duration::from_millis(20)).await;
        rx.close();
        let refused = waiting.await.unwrap().unwrap_err();
        assert!(matches!(*refused, LogEntry::CountOnly(ref r) if r.request_id == "b"));
        assert!(tx.send(entry("c")).await.is_err());
        let mut batch = Vec::new();
        assert_eq!(rx.recv_many(&mut batch, 8).await, 1);
        assert_eq!(ids(&batch), ["a"]);
        assert_eq!(rx.recv_many(&mut batch, 8).await, 0, "closed and drained");
    }
}
