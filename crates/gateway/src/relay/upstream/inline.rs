//! Plain-HTTP upstreams over HTTP/1 connections that the waiting task
//! drives itself (the hot path for upstreams in the same network: local
//! models, the benchmark's mock, sidecars). A pool of idle connections per
//! host, the request, and the response body that keeps driving its
//! connection and hands it back to the pool when the body ends.
//!
//! hyper-util's pooled client runs every connection as a task of its own:
//! each upstream read wakes that task, which hands the bytes over to the
//! task reading the body and wakes it in turn. Here the body's reader polls
//! the connection itself ([`driven`]). HTTPS upstreams stay on hyper-util's
//! client, which also speaks HTTP/2.

mod driven;

use std::future::poll_fn;
use std::pin::Pin;
use std::sync::{Arc, Mutex, Weak};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use foldhash::{HashMap, HashMapExt};
use futures_util::Stream;
use http::uri::Authority;
use http_body::Body;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper_util::client::legacy::connect::HttpConnector;
use tower::ServiceExt;

use self::driven::Driven;
use super::{UpstreamError, UpstreamResponse, error_chain};

/// How often idle connections past their time are closed.
const SWEEP_EVERY: Duration = Duration::from_secs(15);

/// Idle HTTP/1 connections to plain-HTTP upstreams, by host.
#[derive(Debug)]
pub(super) struct InlinePool {
    connector: HttpConnector,
    idle: Mutex<HashMap<Authority, Vec<Driven>>>,
    idle_timeout: Duration,
    max_idle_per_host: usize,
}

impl InlinePool {
    /// A pool connecting with `connector` (plain TCP; its time-out and
    /// `TCP_NODELAY` apply), keeping at most `max_idle_per_host` idle
    /// connections per host for at most `idle_timeout`. Inside a Tokio
    /// runtime a background task closes expired connections.
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
            runtime.spawn(sweep_while_alive(Arc::downgrade(&pool)));
        }
        pool
    }

    /// Send `request` (absolute URI, `Host` set) and return the response
    /// once its head has arrived. A pooled connection that turns out closed
    /// before the request was written is replaced by a new one.
    pub(super) async fn send(
        self: &Arc<Self>,
        mut request: http::Request<Full<Bytes>>,
    ) -> Result<UpstreamResponse, UpstreamError> {
        let uri = request.uri().clone();
        let authority = uri
            .authority()
            .cloned()
            .ok_or_else(|| UpstreamError::Connect(format!("no host in {uri}")))?;
        if let Some(path) = uri.path_and_query() {
            *request.uri_mut() = http::Uri::from(path.clone());
        }
        let mut pooled = self.checkout(&authority);
        loop {
            let reused = pooled.is_some();
            let mut driven = match pooled.take() {
                Some(driven) => driven,
                None => self.connect(&uri).await?,
            };
            let mut response = std::pin::pin!(driven.sender().try_send_request(request));
            let answer =
                poll_fn(|cx| driven.drive(cx, |inner| response.as_mut().poll(inner))).await;
            match answer {
                Ok(response) => return Ok(self.respond(authority, driven, response)),
                Err(mut failed) => match failed.take_message() {
                    // Never written: the pooled connection had closed.
                    Some(unsent) if reused => request = unsent,
                    _ => return Err(UpstreamError::Connect(error_chain(failed.error()))),
                },
            }
        }
    }

    async fn connect(&self, uri: &http::Uri) -> Result<Driven, UpstreamError> {
        let io = self
            .connector
            .clone()
            .oneshot(uri.clone())
            .await
            .map_err(|e| UpstreamError::Connect(error_chain(&e)))?;
        let (sender, conn) = hyper::client::conn::http1::handshake(io)
            .await
            .map_err(|e| UpstreamError::Connect(error_chain(&e)))?;
        Ok(Driven::new(sender, conn))
    }

    fn respond(
        self: &Arc<Self>,
        authority: Authority,
        driven: Driven,
        response: http::Response<Incoming>,
    ) -> UpstreamResponse {
        let (parts, body) = response.into_parts();
        let body = InlineBody {
            body,
            driven: Some(driven),
            pool: Arc::downgrade(self),
            authority,
        };
        UpstreamResponse {
            status: parts.status,
            headers: parts.headers,
            body: Box::pin(body),
        }
    }

    /// The most recently used open connection to `authority`; closed and
    /// expired ones met on the way are dropped.
    fn checkout(&self, authority: &Authority) -> Option<Driven> {
        let now = Instant::now();
        let mut idle = self.idle.lock().ok()?;
        let conns = idle.get_mut(authority)?;
        while let Some(mut driven) = conns.pop() {
            if now.duration_since(driven.idle_since) < self.idle_timeout && driven.is_reusable() {
                return Some(driven);
            }
        }
        None
    }

    /// Keep a connection whose response has ended, if it can take another
    /// request and the host has room.
    fn checkin(&self, authority: Authority, mut driven: Driven) {
        if !driven.is_reusable() {
            return;
        }
        driven.idle_since = Instant::now();
        if let Ok(mut idle) = self.idle.lock() {
            let conns = idle.entry(authority).or_default();
            if conns.len() < self.max_idle_per_host {
                conns.push(driven);
            }
        }
    }

    /// Close idle connections past their time; forget hosts left with none.
    fn sweep(&self) {
        let now = Instant::now();
        if let Ok(mut idle) = self.idle.lock() {
            idle.retain(|_, conns| {
                conns.retain(|c| now.duration_since(c.idle_since) < self.idle_timeout);
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

/// Sweep `pool` every [`SWEEP_EVERY`] until it is dropped.
async fn sweep_while_alive(pool: Weak<InlinePool>) {
    let mut tick = tokio::time::interval(SWEEP_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        match pool.upgrade() {
            Some(pool) => pool.sweep(),
            None => return,
        }
    }
}

/// A response body that drives its own connection; at its end the
/// connection goes back to the pool, and if dropped before, it is closed.
struct InlineBody {
    body: Incoming,
    /// `None` once the body has ended.
    driven: Option<Driven>,
    pool: Weak<InlinePool>,
    authority: Authority,
}

impl InlineBody {
    fn end(&mut self) {
        if let (Some(driven), Some(pool)) = (self.driven.take(), self.pool.upgrade()) {
            pool.checkin(self.authority.clone(), driven);
        }
    }
}

impl Stream for InlineBody {
    type Item = Result<Bytes, UpstreamError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        loop {
            let Some(driven) = this.driven.as_mut() else {
                return Poll::Ready(None);
            };
            let body = &mut this.body;
            let frame =
                std::task::ready!(driven.drive(cx, |inner| Pin::new(&mut *body).poll_frame(inner)));
            match frame {
                Some(Ok(frame)) => {
                    if let Ok(data) = frame.into_data() {
                        return Poll::Ready(Some(Ok(data)));
                    }
                    // Trailers: not part of the data.
                }
                Some(Err(e)) => {
                    this.driven = None;
                    return Poll::Ready(Some(Err(UpstreamError::Body(error_chain(&e)))));
                }
                None => {
                    this.end();
                    return Poll::Ready(None);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests;
