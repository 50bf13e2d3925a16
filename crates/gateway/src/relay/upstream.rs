//! Talking to upstreams over HTTP: pooled clients (one per proxy/TLS
//! setting), the time-to-first-byte timeout, and the response type shared
//! with the fake channels.

use std::collections::HashMap;
use std::pin::Pin;
use std::sync::{LazyLock, Mutex, RwLock};
use std::time::Duration;

use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use http::{HeaderMap, HeaderValue, StatusCode};
use thiserror::Error;

use crate::providers::UpstreamTarget;

/// A failure reaching or reading an upstream.
#[derive(Debug, Clone, Error, PartialEq, Eq)]
pub enum UpstreamError {
    /// The request could not be sent or the connection failed.
    #[error("upstream connection failed: {0}")]
    Connect(String),
    /// No response headers within the time-to-first-byte timeout.
    #[error("upstream did not answer within {0:?}")]
    Timeout(Duration),
    /// The body broke off.
    #[error("upstream response body failed: {0}")]
    Body(String),
    /// A stream stayed silent longer than the idle timeout.
    #[error("upstream stream was idle for {0:?}")]
    Idle(Duration),
    /// A response was larger than allowed.
    #[error("upstream response is larger than {0} bytes")]
    TooLarge(usize),
    /// The channel's proxy setting is unusable.
    #[error("invalid proxy_url: {0}")]
    Proxy(String),
}

/// A response body as a stream of chunks.
pub type BodyStream = Pin<Box<dyn Stream<Item = Result<Bytes, UpstreamError>> + Send>>;

/// An upstream answer: status, headers, body.
pub struct UpstreamResponse {
    /// Status.
    pub status: StatusCode,
    /// Headers.
    pub headers: HeaderMap,
    /// Body chunks as they arrive.
    pub body: BodyStream,
}

impl UpstreamResponse {
    /// True when the body is an event stream.
    pub fn is_event_stream(&self) -> bool {
        self.headers
            .get(http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|ct| ct.contains("event-stream") || ct.contains("x-ndjson"))
    }

    /// Read the whole body, failing past `limit` bytes or when no data
    /// arrives for `idle`.
    pub async fn read_all(mut self, limit: usize, idle: Duration) -> Result<Bytes, UpstreamError> {
        let mut first: Option<Bytes> = None;
        let mut buf: Vec<u8> = Vec::new();
        loop {
            let next = tokio::time::timeout(idle, self.body.next())
                .await
                .map_err(|_| UpstreamError::Idle(idle))?;
            let Some(chunk) = next else { break };
            let chunk = chunk?;
            let total = first.as_ref().map_or(0, Bytes::len) + buf.len() + chunk.len();
            if total > limit {
                return Err(UpstreamError::TooLarge(limit));
            }
            match first.take() {
                None if buf.is_empty() => first = Some(chunk),
                Some(prev) => {
                    buf.extend_from_slice(&prev);
                    buf.extend_from_slice(&chunk);
                }
                None => buf.extend_from_slice(&chunk),
            }
        }
        Ok(first.unwrap_or_else(|| Bytes::from(buf)))
    }
}

/// Pooled HTTP clients keyed by (proxy URL, skip TLS verification).
#[derive(Debug)]
pub struct HttpClients {
    default: reqwest::Client,
    custom: Mutex<HashMap<(String, bool), reqwest::Client>>,
}

fn builder() -> reqwest::ClientBuilder {
    reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(10))
        .pool_idle_timeout(Duration::from_secs(90))
        // Idle connections keep their read buffers, which grow when events
        // pile up in a busy socket; cap how many are kept per upstream host.
        .pool_max_idle_per_host(256)
        .tcp_nodelay(true)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("switchyard/", env!("CARGO_PKG_VERSION")))
}

impl HttpClients {
    /// Build the default client.
    pub fn new() -> Result<Self, UpstreamError> {
        Ok(Self {
            default: builder()
                .build()
                .map_err(|e| UpstreamError::Connect(e.to_string()))?,
            custom: Mutex::new(HashMap::new()),
        })
    }

    /// The client for a channel's proxy and TLS settings.
    pub fn get(
        &self,
        proxy_url: &str,
        skip_tls_verify: bool,
    ) -> Result<reqwest::Client, UpstreamError> {
        if proxy_url.is_empty() && !skip_tls_verify {
            return Ok(self.default.clone());
        }
        let key = (proxy_url.to_owned(), skip_tls_verify);
        if let Some(client) = self.custom.lock().ok().and_then(|m| m.get(&key).cloned()) {
            return Ok(client);
        }
        let mut b = builder();
        if !proxy_url.is_empty() {
            b = b.proxy(
                reqwest::Proxy::all(proxy_url).map_err(|e| UpstreamError::Proxy(e.to_string()))?,
            );
        }
        if skip_tls_verify {
            b = b.tls_danger_accept_invalid_certs(true);
        }
        let client = b.build().map_err(|e| UpstreamError::Proxy(e.to_string()))?;
        if let Ok(mut m) = self.custom.lock() {
            m.insert(key, client.clone());
        }
        Ok(client)
    }
}

/// POST `body` as JSON to `target`, waiting at most `ttfb` for the response headers.
pub async fn post_json(
    client: &reqwest::Client,
    target: &UpstreamTarget,
    body: Bytes,
    stream: bool,
    ttfb: Duration,
) -> Result<UpstreamResponse, UpstreamError> {
    let request = request_to(client, http::Method::POST, &target.url)
        .header(
            http::header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )
        .header(
            http::header::ACCEPT,
            HeaderValue::from_static(if stream {
                "text/event-stream"
            } else {
                "application/json"
            }),
        )
        .body(body);
    dispatch(request, target, ttfb).await
}

/// POST `body` to `target` with exactly its credentials and headers — no
/// default content type or accept, because the caller signed them (AWS
/// SigV4) — waiting at most `ttfb` for the response headers.
pub async fn post_exact(
    client: &reqwest::Client,
    target: &UpstreamTarget,
    body: Bytes,
    ttfb: Duration,
) -> Result<UpstreamResponse, UpstreamError> {
    let request = request_to(client, http::Method::POST, &target.url).body(body);
    dispatch(request, target, ttfb).await
}

/// Upstream URLs already parsed, by their text. Parsing a URL (its host
/// above all) cost more than the rest of building a request, and a gateway
/// sends to few distinct URLs. Bounded: cleared when full.
static PARSED_URLS: LazyLock<RwLock<HashMap<String, reqwest::Url>>> =
    LazyLock::new(|| RwLock::new(HashMap::new()));
const PARSED_URLS_MAX: usize = 4096;

/// A request to `url`, parsed once per distinct URL. A URL that does not
/// parse is handed to reqwest as text, which reports it when sending.
fn request_to(
    client: &reqwest::Client,
    method: http::Method,
    url: &str,
) -> reqwest::RequestBuilder {
    match parsed_url(url) {
        Some(parsed) => client.request(method, parsed),
        None => client.request(method, url),
    }
}

fn parsed_url(text: &str) -> Option<reqwest::Url> {
    if let Some(url) = PARSED_URLS.read().ok().and_then(|m| m.get(text).cloned()) {
        return Some(url);
    }
    let url = reqwest::Url::parse(text).ok()?;
    if let Ok(mut m) = PARSED_URLS.write() {
        if m.len() >= PARSED_URLS_MAX {
            m.clear();
        }
        m.insert(text.to_owned(), url.clone());
    }
    Some(url)
}

/// Add `target`'s credentials and headers, send, and wait at most `ttfb`
/// for the response headers.
async fn dispatch(
    mut request: reqwest::RequestBuilder,
    target: &UpstreamTarget,
    ttfb: Duration,
) -> Result<UpstreamResponse, UpstreamError> {
    if let Some((name, value)) = &target.auth {
        request = request.header(name.clone(), value.clone());
    }
    for (name, value) in &target.headers {
        request = request.header(name.clone(), value.clone());
    }
    let response = tokio::time::timeout(ttfb, request.send())
        .await
        .map_err(|_| UpstreamError::Timeout(ttfb))?
        .map_err(|e| UpstreamError::Connect(error_chain(&e)))?;
    let status = response.status();
    let headers = response.headers().clone();
    let body = response
        .bytes_stream()
        .map(|r| r.map_err(|e| UpstreamError::Body(error_chain(&e))));
    Ok(UpstreamResponse {
        status,
        headers,
        body: Box::pin(body),
    })
}

/// An error and its sources, `: `-separated (reqwest hides the cause otherwise).
pub(crate) fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}

/// Send a request without a body (`GET`, `DELETE`, a bare `POST`) to `url`
/// with `target`'s credentials and headers.
pub async fn send_bodyless(
    client: &reqwest::Client,
    method: http::Method,
    url: &str,
    target: &UpstreamTarget,
    ttfb: Duration,
) -> Result<UpstreamResponse, UpstreamError> {
    let request = request_to(client, method, url).header(
        http::header::ACCEPT,
        HeaderValue::from_static("application/json"),
    );
    dispatch(request, target, ttfb).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parsed_urls_are_reused_and_bad_ones_left_to_reqwest() {
        let text = "http://127.0.0.1:9/v1/chat/completions?x=1";
        let first = parsed_url(text).expect("parses");
        assert_eq!(first.as_str(), text);
        assert_eq!(parsed_url(text), Some(first));
        assert!(PARSED_URLS.read().is_ok_and(|m| m.contains_key(text)));
        assert_eq!(parsed_url("not a url"), None);
        let client = reqwest::Client::new();
        let built = request_to(&client, http::Method::POST, "not a url").build();
        assert!(built.is_err(), "reqwest reports the bad URL");
    }
}
