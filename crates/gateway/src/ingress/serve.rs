//! The accept loop: takes client connections off the listener, serves each
//! on its own task with HTTP/1.1 (or HTTP/2 with prior knowledge, told
//! apart by the connection's first bytes), closes connections that send no
//! request head within the client idle timeout (HTTP/2: that leave a ping
//! unanswered after as long a quiet spell), and on shutdown stops
//! accepting, asks every connection to finish its in-flight request and
//! close, and waits for them.
//!
//! This is what `axum::serve` does, minus its cost on the hot path: axum
//! polls a shutdown future beside the connection every time the connection
//! wakes (a lock in `Notify` each time, several times a request and once per
//! streamed event). Here a connection registers for the shutdown signal once
//! and afterwards only reads a flag.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;
use tokio::sync::futures::OwnedNotified;
use tokio_util::task::TaskTracker;

use super::lane::{Connection, MakeConnection};

/// Tells the accept loop and every connection that the server is stopping.
#[derive(Debug, Default)]
pub struct Shutdown {
    started: AtomicBool,
    notify: Arc<Notify>,
}

impl Shutdown {
    /// Begin the shutdown: no new connections, and each connection closes
    /// once its current request is answered.
    pub fn start(&self) {
        self.started.store(true, Ordering::Release);
        self.notify.notify_waiters();
    }

    fn started(&self) -> bool {
        self.started.load(Ordering::Acquire)
    }
}

/// The HTTP/2 connection preface (RFC 9113 §3.4).
const H2_PREFACE: &[u8; 24] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
/// How soon a connection that has sent part of the HTTP/2 preface is
/// looked at again.
const PREFACE_RETRY: Duration = Duration::from_millis(5);

/// How connections are served: one builder per HTTP version, and the
/// client idle timeout.
#[derive(Debug)]
struct Protocols {
    http1: auto::Builder<TokioExecutor>,
    http2: auto::Builder<TokioExecutor>,
    idle: Option<Duration>,
}

impl Protocols {
    fn new(idle: Option<Duration>) -> Self {
        let mut http1 = auto::Builder::new(TokioExecutor::new());
        let mut http2 = auto::Builder::new(TokioExecutor::new());
        if let Some(idle) = idle {
            http1
                .http1()
                .timer(TokioTimer::new())
                .header_read_timeout(idle);
            // HTTP/2 has no request-head timeout: a connection that has been
            // quiet for `idle` is pinged instead, and closed if the ping is
            // not answered within `idle` (a client that vanished without a
            // FIN, or one that never answers frames).
            http2
                .http2()
                .timer(TokioTimer::new())
                .keep_alive_interval(idle)
                .keep_alive_timeout(idle);
        }
        Self {
            http1: http1.http1_only(),
            http2: http2.http2_only(),
            idle,
        }
    }
}

/// Serve `listener` with `make` until `shutdown` starts, then wait for the
/// open connections to finish (the caller bounds the wait). A connection
/// is closed when, within `idle`, it does not say which HTTP it speaks
/// (its first bytes) or, on HTTP/1.1, does not send a whole request head
/// once it is idle (a keep-alive connection left open, a client sending
/// its head a byte at a time), or, on HTTP/2, does not answer the ping
/// sent after `idle` without a frame from it.
pub async fn serve(
    listener: TcpListener,
    make: MakeConnection,
    shutdown: Arc<Shutdown>,
    idle: Option<Duration>,
) {
    let protocols = Arc::new(Protocols::new(idle));
    let connections = TaskTracker::new();
    let stopping = shutdown.notify.notified();
    tokio::pin!(stopping);
    while !shutdown.started() {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = &mut stopping => break,
        };
        let (tcp, peer) = match accepted {
            Ok(accepted) => accepted,
            Err(e) => {
                accept_failed(e).await;
                continue;
            }
        };
        // Small SSE frames must leave at once, not wait for Nagle and the
        // client's delayed ACK.
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::debug!(error = %e, "could not set TCP_NODELAY");
        }
        let connection = serve_connection(&protocols, tcp, peer, &make, &shutdown);
        connections.spawn(connection);
    }
    drop(listener);
    connections.close();
    connections.wait().await;
}

/// One client connection, shut down gracefully when `shutdown` starts.
fn serve_connection(
    protocols: &Arc<Protocols>,
    tcp: TcpStream,
    peer: SocketAddr,
    make: &MakeConnection,
    shutdown: &Arc<Shutdown>,
) -> impl Future<Output = ()> + Send + 'static {
    let protocols = protocols.clone();
    let service = make.connection(peer);
    let shutdown = shutdown.clone();
    async move {
        let mut signal = Box::pin(shutdown.notify.clone().notified_owned());
        // The shutdown signal is polled first, so this task's waker is
        // registered with it from here on.
        let builder = tokio::select! {
            biased;
            () = signal.as_mut() => return,
            opening = opening(&tcp, protocols.idle) => match opening {
                Some(Opening::Http1) => &protocols.http1,
                Some(Opening::Http2) => &protocols.http2,
                None => return,
            },
        };
        let graceful = Graceful {
            connection: Box::pin(builder.serve_connection(TokioIo::new(tcp), service)),
            _signal: signal,
            shutdown,
            closing: false,
        };
        if let Err(e) = graceful.await {
            tracing::trace!(error = %e, "connection ended with an error");
        }
    }
}

/// Which HTTP a connection speaks, from its first bytes.
enum Opening {
    Http1,
    Http2,
}

/// Look at (without taking) the connection's first bytes: the HTTP/2
/// preface, or anything else (HTTP/1). `None` when the client closes, fails
/// or says nothing telling within `idle`.
async fn opening(tcp: &TcpStream, idle: Option<Duration>) -> Option<Opening> {
    match idle {
        Some(idle) => tokio::time::timeout(idle, peek_opening(tcp)).await.ok()?,
        None => peek_opening(tcp).await,
    }
}

async fn peek_opening(tcp: &TcpStream) -> Option<Opening> {
    let mut start = [0u8; H2_PREFACE.len()];
    loop {
        let n = tcp.peek(&mut start).await.ok()?;
        if n == 0 {
            return None;
        }
        if start[..n] != H2_PREFACE[..n] {
            return Some(Opening::Http1);
        }
        if n == H2_PREFACE.len() {
            return Some(Opening::Http2);
        }
        // Part of the preface: the rest is on its way.
        tokio::time::sleep(PREFACE_RETRY).await;
    }
}

/// A transient accept error (a client that gave up) is skipped; anything
/// else (out of file descriptors) is logged and retried after a pause, as
/// `axum::serve` does.
async fn accept_failed(error: io::Error) {
    if matches!(
        error.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
    ) {
        return;
    }
    tracing::error!(error = %error, "accept failed; retrying in 1 s");
    tokio::time::sleep(Duration::from_secs(1)).await;
}

/// A client connection as hyper serves it.
type ServedConnection<'a> = auto::Connection<'a, TokioIo<TcpStream>, Connection, TokioExecutor>;

/// Drives `connection`, asking it to close once the shutdown starts.
struct Graceful<'a> {
    connection: Pin<Box<ServedConnection<'a>>>,
    shutdown: Arc<Shutdown>,
    /// Already polled, so this task's waker is registered with the shutdown
    /// signal (a spawned task's waker never changes): kept to stay
    /// registered, and only the flag is read.
    _signal: Pin<Box<OwnedNotified>>,
    /// The connection was asked to close.
    closing: bool,
}

impl Future for Graceful<'_> {
    type Output = <ServedConnection<'static> as Future>::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        if !this.closing && this.shutdown.started() {
            this.closing = true;
            this.connection.as_mut().graceful_shutdown();
        }
        this.connection.as_mut().poll(cx)
    }
}
