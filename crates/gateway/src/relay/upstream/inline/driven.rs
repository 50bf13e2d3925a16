//! One upstream HTTP/1 connection, driven by whichever task is waiting on
//! it: the request's task while the response head is awaited, the task
//! reading the response body after that. hyper's connection future is
//! polled here instead of in a task of its own, so an upstream read wakes
//! the reader once, with no hand-off between two tasks.
//!
//! The body channel between hyper's connection and its `Incoming` body
//! wakes its peer on every chunk. Both ends live in the same task here, so
//! those wake-ups are noticed while polling ([`PollWaker`]) and answered by
//! polling again at once, instead of scheduling the task a second time. And
//! as a task of its own would be, the connection is polled only after
//! something woke it: the reader polls the body more often than data comes.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::task::{Context, Poll, Wake, Waker};
use std::time::Instant;

use bytes::Bytes;
use futures_util::task::AtomicWaker;
use http_body_util::Full;
use hyper::client::conn::http1::{Connection, SendRequest};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

/// hyper's HTTP/1 connection over plain TCP.
type Conn = Connection<TokioIo<TcpStream>, Full<Bytes>>;

/// Rounds of polling one `poll` may take when it keeps waking itself,
/// before it yields to the runtime (as hyper's own dispatcher does).
const MAX_ROUNDS: usize = 32;

const IDLE: u8 = 0;
const POLLING: u8 = 1;
const WOKEN: u8 = 2;

/// The waker handed to hyper: outside a poll it wakes the owning task;
/// during one it only records the wake-up, which the poll answers itself.
/// Either way it marks the connection as due a poll.
#[derive(Debug)]
struct PollWaker {
    state: AtomicU8,
    task: AtomicWaker,
    conn_due: AtomicBool,
}

impl PollWaker {
    fn new() -> Self {
        Self {
            state: AtomicU8::new(IDLE),
            task: AtomicWaker::new(),
            conn_due: AtomicBool::new(true),
        }
    }

    /// True, once, after a wake-up: the connection has work to do.
    fn take_conn_due(&self) -> bool {
        self.conn_due.swap(false, Ordering::AcqRel)
    }

    /// A poll starts: wake-ups from now on are the poller's to answer.
    fn begin(&self, task: &Waker) {
        self.task.register(task);
        self.state.store(POLLING, Ordering::Release);
    }

    /// The poll is about to return `Pending`: true when nothing woke it
    /// meanwhile (later wake-ups go to the task); false, and still polling,
    /// when something did.
    fn settle(&self) -> bool {
        match self
            .state
            .compare_exchange(POLLING, IDLE, Ordering::AcqRel, Ordering::Acquire)
        {
            Ok(_) => true,
            Err(_) => {
                self.state.store(POLLING, Ordering::Release);
                false
            }
        }
    }

    /// The poll returns `Ready`: the caller polls again when it wants more,
    /// so a wake-up recorded meanwhile needs no answer.
    fn finish(&self) {
        self.state.store(IDLE, Ordering::Release);
    }
}

impl Wake for PollWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.conn_due.store(true, Ordering::Release);
        if self
            .state
            .compare_exchange(POLLING, WOKEN, Ordering::AcqRel, Ordering::Acquire)
            == Err(IDLE)
        {
            self.task.wake();
        }
    }
}

/// An HTTP/1 connection and the handle that sends requests on it.
pub(super) struct Driven {
    sender: SendRequest<Full<Bytes>>,
    /// `None` once the connection has ended (closed or failed).
    conn: Option<Conn>,
    poll_waker: Arc<PollWaker>,
    waker: Waker,
    /// When the connection last finished a response (for the pool).
    pub(super) idle_since: Instant,
}

impl std::fmt::Debug for Driven {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Driven")
            .field("open", &self.conn.is_some())
            .field("idle_since", &self.idle_since)
            .finish()
    }
}

impl Driven {
    /// A fresh connection from hyper's handshake.
    pub(super) fn new(sender: SendRequest<Full<Bytes>>, conn: Conn) -> Self {
        let poll_waker = Arc::new(PollWaker::new());
        Self {
            sender,
            conn: Some(conn),
            waker: Waker::from(poll_waker.clone()),
            poll_waker,
            idle_since: Instant::now(),
        }
    }

    /// The request sender (its futures need the connection driven). The
    /// connection is due a poll: a pooled one was last polled with no waker.
    pub(super) fn sender(&mut self) -> &mut SendRequest<Full<Bytes>> {
        self.poll_waker.conn_due.store(true, Ordering::Release);
        &mut self.sender
    }

    /// Drive the connection and poll `wanted` (the response head, or the
    /// body's next frame) until `wanted` is ready or nothing is left to do
    /// without waiting.
    pub(super) fn drive<T>(
        &mut self,
        cx: &mut Context<'_>,
        mut wanted: impl FnMut(&mut Context<'_>) -> Poll<T>,
    ) -> Poll<T> {
        self.poll_waker.begin(cx.waker());
        let mut inner = Context::from_waker(&self.waker);
        for _ in 0..MAX_ROUNDS {
            if self.poll_waker.take_conn_due() {
                poll_conn(&mut self.conn, &mut inner);
            }
            if let Poll::Ready(value) = wanted(&mut inner) {
                self.poll_waker.finish();
                return Poll::Ready(value);
            }
            if self.poll_waker.settle() {
                return Poll::Pending;
            }
        }
        self.poll_waker.finish();
        cx.waker().wake_by_ref();
        Poll::Pending
    }

    /// True when another request can go out on this connection: it has not
    /// ended (an idle connection the upstream closed ends when polled) and
    /// it is waiting for a request. Registers no waker.
    pub(super) fn is_reusable(&mut self) -> bool {
        poll_conn(&mut self.conn, &mut Context::from_waker(Waker::noop()));
        self.conn.is_some() && self.sender.is_ready()
    }
}

/// Poll the connection once; forget it when it has ended. Its outcome
/// reaches the caller through the response or the body it fails.
fn poll_conn(conn: &mut Option<Conn>, cx: &mut Context<'_>) {
    if let Some(open) = conn.as_mut()
        && Pin::new(open).poll(cx).is_ready()
    {
        *conn = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    #[derive(Default)]
    struct Count(AtomicUsize);

    impl Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::Relaxed);
        }
    }

    fn task() -> (Arc<Count>, Waker) {
        let count = Arc::new(Count::default());
        (count.clone(), Waker::from(count))
    }

    #[test]
    fn wake_ups_during_a_poll_are_recorded_not_sent() {
        let (count, task_waker) = task();
        let poll_waker = Arc::new(PollWaker::new());
        let waker = Waker::from(poll_waker.clone());
        assert!(poll_waker.take_conn_due(), "a new connection is due a poll");
        assert!(!poll_waker.take_conn_due());
        poll_waker.begin(&task_waker);
        waker.wake_by_ref();
        waker.wake_by_ref();
        assert!(poll_waker.take_conn_due());
        assert_eq!(count.0.load(Ordering::Relaxed), 0);
        assert!(
            !poll_waker.settle(),
            "a recorded wake-up asks for another round"
        );
        assert!(poll_waker.settle(), "a quiet round settles");
        waker.wake_by_ref();
        assert_eq!(
            count.0.load(Ordering::Relaxed),
            1,
            "after settling, the task is woken"
        );
    }

    #[test]
    fn a_ready_poll_drops_its_recorded_wake_ups_and_later_ones_reach_the_task() {
        let (count, task_waker) = task();
        let poll_waker = Arc::new(PollWaker::new());
        let waker = Waker::from(poll_waker.clone());
        poll_waker.begin(&task_waker);
        waker.wake_by_ref();
        poll_waker.finish();
        assert_eq!(count.0.load(Ordering::Relaxed), 0);
        poll_waker.begin(&task_waker);
        assert!(poll_waker.settle());
        assert!(poll_waker.take_conn_due());
        waker.wake();
        assert_eq!(count.0.load(Ordering::Relaxed), 1);
        assert!(
            poll_waker.take_conn_due(),
            "wake-ups outside a poll also mark it"
        );
    }
}
