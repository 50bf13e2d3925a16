//! Sending one request and reading its response to the end, timing the first byte
//! and every SSE event on the way.

use std::time::{Duration, Instant};

use bytes::Bytes;
use http::header::CONTENT_TYPE;
use http::{HeaderMap, Method, Request, Uri};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioTimer};

use crate::config::LoadConfig;
use crate::sse::EventCounter;
use crate::stats::{Completed, Failure, micros};

/// What every request of a run shares: the pooled client and the request template.
#[derive(Debug, Clone)]
pub struct Target {
    client: Client<HttpConnector, Full<Bytes>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
    timeout: Duration,
}

impl Target {
    /// Builds the client (keep-alive pool of `connections` idle connections per host,
    /// TCP_NODELAY) and the request template.
    pub fn new(config: &LoadConfig) -> Self {
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        let client = Client::builder(TokioExecutor::new())
            .pool_timer(TokioTimer::new())
            .pool_max_idle_per_host(config.connections)
            .pool_idle_timeout(Duration::from_secs(90))
            .http2_only(config.http2)
            .build(connector);
        Self {
            client,
            method: config.method.clone(),
            uri: config.url.clone(),
            headers: config.headers.clone(),
            body: config.body.clone(),
            timeout: config.timeout,
        }
    }

    fn request(&self) -> Request<Full<Bytes>> {
        let mut req = Request::new(Full::new(self.body.clone()));
        *req.method_mut() = self.method.clone();
        *req.uri_mut() = self.uri.clone();
        *req.headers_mut() = self.headers.clone();
        req
    }

    /// Sends one request and reads the whole response, within the timeout.
    pub async fn execute(&self) -> Result<Completed, Failure> {
        tokio::time::timeout(self.timeout, self.exchange())
            .await
            .unwrap_or(Err(Failure::Timeout))
    }

    async fn exchange(&self) -> Result<Completed, Failure> {
        let response = self.client.request(self.request()).await.map_err(|e| {
            if e.is_connect() {
                Failure::Connect
            } else {
                Failure::Request
            }
        })?;
        let status = response.status().as_u16();
        let sse = response
            .headers()
            .get(CONTENT_TYPE)
            .is_some_and(|v| v.as_bytes().starts_with(b"text/event-stream"));
        let mut body = response.into_body();
        let mut first_byte = None;
        let mut bytes = 0u64;
        let mut counter = EventCounter::new();
        let mut last_event: Option<Instant> = None;
        let mut gaps_us = Vec::new();
        while let Some(frame) = body.frame().await {
            let frame = frame.map_err(|_| Failure::Body)?;
            let Some(data) = frame.data_ref() else {
                continue;
            };
            if data.is_empty() {
                continue;
            }
            let now = Instant::now();
            first_byte.get_or_insert(now);
            bytes += data.len() as u64;
            if sse {
                for _ in 0..counter.feed(data) {
                    if let Some(prev) = last_event {
                        gaps_us.push(micros(prev, now));
                    }
                    last_event = Some(now);
                }
            }
        }
        Ok(Completed {
            status,
            first_byte,
            end: Instant::now(),
            sse,
            events: counter.events(),
            gaps_us,
            bytes,
        })
    }
}
