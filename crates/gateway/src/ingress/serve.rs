//! The accept loop: takes client connections off the listener, serves each
//! on its own task with HTTP/1.1 (or HTTP/2 with prior knowledge), and on
//! shutdown stops accepting, asks every connection to finish its in-flight
//! request and close, and waits for them.
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

use hyper_util::rt::{TokioExecutor, TokioIo};
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

/// Serve `listener` with `make` until `shutdown` starts, then wait for the
/// open connections to finish (the caller bounds the wait).
pub async fn serve(listener: TcpListener, make: MakeConnection, shutdown: Arc<Shutdown>) {
    let builder = Arc::new(auto::Builder::new(TokioExecutor::new()));
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
        let connection = serve_connection(&builder, tcp, peer, &make, &shutdown);
        connections.spawn(connection);
    }
    drop(listener);
    connections.close();
    connections.wait().await;
}

/// One client connection, shut down gracefully when `shutdown` starts.
fn serve_connection(
    builder: &Arc<auto::Builder<TokioExecutor>>,
    tcp: TcpStream,
    peer: SocketAddr,
    make: &MakeConnection,
    shutdown: &Arc<Shutdown>,
) -> impl Future<Output = ()> + Send + 'static {
    let builder = builder.clone();
    let service = make.connection(peer);
    let shutdown = shutdown.clone();
    async move {
        let graceful = Graceful {
            connection: Box::pin(builder.serve_connection(TokioIo::new(tcp), service)),
            signal: Box::pin(shutdown.notify.clone().notified_owned()),
            shutdown,
            registered: false,
            closing: false,
        };
        if let Err(e) = graceful.await {
            tracing::trace!(error = %e, "connection ended with an error");
        }
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
    /// Polled once, to register this task's waker with the shutdown signal
    /// (a spawned task's waker never changes); afterwards only the flag is
    /// read.
    signal: Pin<Box<OwnedNotified>>,
    registered: bool,
    /// The connection was asked to close.
    closing: bool,
}

impl Future for Graceful<'_> {
    type Output = <ServedConnection<'static> as Future>::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        if !this.closing {
            let signalled = !std::mem::replace(&mut this.registered, true)
                && this.signal.as_mut().poll(cx).is_ready();
            if signalled || this.shutdown.started() {
                this.closing = true;
                this.connection.as_mut().graceful_shutdown();
            }
        }
        this.connection.as_mut().poll(cx)
    }
}
