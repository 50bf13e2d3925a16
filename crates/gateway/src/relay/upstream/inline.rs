//! Plain-HTTP upstreams over HTTP/1.1 connections that the waiting task
//! reads itself (the hot path for upstreams in the same network: local
//! models, the benchmark's mock, sidecars). A pool of idle connections per
//! host, the request, and the response body that reads its connection and
//! hands it back to the pool when the body ends.
//!
//! hyper-util's pooled client runs every connection as a task of its own:
//! each upstream read wakes that task, which decodes the bytes, hands them
//! over to the task reading the body through a channel and wakes it in
//! turn. Here the body's reader reads the socket itself ([`conn`]) and
//! decodes the HTTP/1 framing in place ([`codec`]): one wake-up and no
//! copy per upstream read. HTTPS upstreams stay on hyper-util's client,
//! which also speaks HTTP/2.

mod codec;
mod conn;

use std::pin::Pin;
use std::sync::{Arc, Mutex, Weak};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use foldhash::{HashMap, HashMapExt};
use futures_util::Stream;
use http::uri::Authority;
use http::{HeaderMap, Method, Uri};
use hyper_util::client::legacy::connect::HttpConnector;
use tower::ServiceExt;

use self::codec::{BodyDecoder, Decoded, ResponseHead, encode_request_head};
use self::conn::Conn;
use super::{UpstreamError, UpstreamResponse, error_chain};

/// How often idle connections past their time are closed, at most.
const SWEEP_EVERY: Duration = Duration::from_secs(15);
/// How much sooner than an upstream's `Keep-Alive: timeout` the pool stops
/// using a connection: the upstream's clock starts when it has sent the
/// response, ours when we have read it, and a request takes a while to
/// arrive.
const KEEP_ALIVE_MARGIN: Duration = Duration::from_secs(1);

/// Idle HTTP/1 connections to plain-HTTP upstreams, by host.
#[derive(Debug)]
pub(super) struct InlinePool {
    connector: HttpConnector,
    idle: Mutex<HashMap<Authority, Vec<Conn>>>,
    idle_timeout: Duration,
    max_idle_per_host: usize,
}

impl InlinePool {
    /// A pool connecting with `connector` (plain TCP; its time-out and
    /// `TCP_NODELAY` apply), keeping at most `max_idle_per_host` idle
    /// connections per host for at most `idle_timeout`, or a second less
    /// than the upstream's `Keep-Alive: timeout` when that is shorter.
    /// Inside a Tokio runtime a background task closes expired connections.
    pub(super) fn new(
        connector: HttpConnector,
        idle_timeout: Duration,
        max_idle_per_host: usize,
    ) -> Arc<Self> {
        let pool = Arc::new(Self {
            connector,
            idle: Mutex::new(HashMap::new()),
            idle_timeout,
            max_idle_per_host,
        });
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            let every = idle_timeout.clamp(Duration::from_millis(1), SWEEP_EVERY);
            runtime.spawn(sweep_while_alive(Arc::downgrade(&pool), every));
        }
        pool
    }

    /// Send `method uri` (absolute URI) with `headers` and `body`, and
    /// return the response once its head has arrived. A pooled connection
    /// that turns out closed before the request was written is replaced by
    /// a new one; once written, a request is never sent twice.
    pub(super) async fn send(
        self: &Arc<Self>,
        method: Method,
        uri: Uri,
        headers: &HeaderMap,
        body: Bytes,
    ) -> Result<UpstreamResponse, UpstreamError> {
        let authority = uri
            .authority()
            .cloned()
            .ok_or_else(|| UpstreamError::Connect(format!("no host in {uri}")))?;
        let target = uri.path_and_query().map_or("/", |p| p.as_str());
        let head =
            encode_request_head(&method, target, authority.as_str(), headers, body.len()).freeze();
        let mut pooled = self.checkout(&authority);
        loop {
            let reused = pooled.is_some();
            let mut conn = match pooled.take() {
                Some(conn) => conn,
                None => self.connect(&uri).await?,
            };
            if let Err(e) = conn.write_request(head.clone(), body.clone()).await {
                if reused {
                    continue;
                }
                return Err(UpstreamError::Connect(error_chain(&e)));
            }
            return match conn.read_head(&method).await {
                Ok(head) => Ok(self.respond(authority, conn, head)),
                Err(e) => Err(UpstreamError::Connect(e.to_string())),
            };
        }
    }

    async fn connect(&self, uri: &Uri) -> Result<Conn, UpstreamError> {
        let io = self
            .connector
            .clone()
            .oneshot(uri.clone())
            .await
            .map_err(|e| UpstreamError::Connect(error_chain(&e)))?;
        Ok(Conn::new(io.into_inner()))
    }

    fn respond(
        self: &Arc<Self>,
        authority: Authority,
        conn: Conn,
        head: ResponseHead,
    ) -> UpstreamResponse {
        let body = InlineBody {
            conn: Some(conn),
            decoder: head.body,
            keep_alive: head.keep_alive,
            keep_alive_timeout: head.keep_alive_timeout,
            pool: Arc::downgrade(self),
            authority,
        };
        UpstreamResponse {
            status: head.status,
            headers: head.headers,
            body: Box::pin(body),
        }
    }

    /// The most recently used open connection to `authority`; closed and
    /// expired ones met on the way are dropped.
    fn checkout(&self, authority: &Authority) -> Option<Conn> {
        let now = Instant::now();
        let mut idle = self.idle.lock().ok()?;
        let conns = idle.get_mut(authority)?;
        while let Some(mut conn) = conns.pop() {
            if now < conn.idle_until && conn.is_reusable() {
                return Some(conn);
            }
        }
        None
    }

    /// Keep a connection whose response has ended, if it can take another
    /// request, may stay idle a while (`upstream_timeout`: the upstream's
    /// `Keep-Alive: timeout`) and the host has room.
    fn checkin(&self, authority: Authority, mut conn: Conn, upstream_timeout: Option<Duration>) {
        let idle_for = upstream_timeout.map_or(self.idle_timeout, |upstream| {
            upstream
                .saturating_sub(KEEP_ALIVE_MARGIN)
                .min(self.idle_timeout)
        });
        if idle_for.is_zero() || !conn.is_reusable() {
            return;
        }
        conn.idle_until = Instant::now() + idle_for;
        if let Ok(mut idle) = self.idle.lock() {
            let conns = idle.entry(authority).or_default();
            if conns.len() < self.max_idle_per_host {
                conns.push(conn);
            }
        }
    }

    /// Close idle connections past their time; forget hosts left with none.
    fn sweep(&self) {
        let now = Instant::now();
        if let Ok(mut idle) = self.idle.lock() {
            idle.retain(|_, conns| {
                conns.retain(|c| now < c.idle_until);
                !conns.is_empty()
            });
        }
    }

    /// Idle connections kept, over every host.
    #[cfg(test)]
    fn idle_count(&self) -> usize {
        self.idle
            .lock()
            .map(|idle| idle.values().map(Vec::len).sum())
            .unwrap_or(0)
    }
}

/// Sweep `pool` `every` so often until it is dropped.
async fn sweep_while_alive(pool: Weak<InlinePool>, every: Duration) {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        match pool.upgrade() {
            Some(pool) => pool.sweep(),
            None => return,
        }
    }
}

/// A response body read straight from its connection; at its end a
/// connection that may carry another request goes back to the pool, and
/// if dropped before, the connection is closed.
struct InlineBody {
    /// `None` once the body has ended or failed.
    conn: Option<Conn>,
    decoder: BodyDecoder,
    keep_alive: bool,
    /// The upstream's `Keep-Alive: timeout`, if it sent one.
    keep_alive_timeout: Option<Duration>,
    pool: Weak<InlinePool>,
    authority: Authority,
}

impl InlineBody {
    fn end(&mut self) {
        if let Some(conn) = self.conn.take()
            && self.keep_alive
            && let Some(pool) = self.pool.upgrade()
        {
            pool.checkin(self.authority.clone(), conn, self.keep_alive_timeout);
        }
    }

    fn fail(
        &mut self,
        error: impl std::fmt::Display,
    ) -> Poll<Option<Result<Bytes, UpstreamError>>> {
        self.conn = None;
        Poll::Ready(Some(Err(UpstreamError::Body(error.to_string()))))
    }
}

impl Stream for InlineBody {
    type Item = Result<Bytes, UpstreamError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        loop {
            let Some(conn) = this.conn.as_mut() else {
                return Poll::Ready(None);
            };
            match this.decoder.decode(&mut conn.read) {
                Ok(Decoded::Data(data)) => return Poll::Ready(Some(Ok(data))),
                Ok(Decoded::End) => {
                    this.end();
                    return Poll::Ready(None);
                }
                Err(e) => return this.fail(e),
                Ok(Decoded::More) => {}
            }
            match std::task::ready!(conn.poll_fill(cx)) {
                Ok(0) => {
                    if let Err(e) = this.decoder.at_eof() {
                        return this.fail(e);
                    }
                    this.conn = None;
                    return Poll::Ready(None);
                }
                Ok(_) => {}
                Err(e) => return this.fail(e),
            }
        }
    }
}

#[cfg(test)]
mod tests;
