//! Talking to upstreams over HTTP: pooled clients (for direct connections,
//! our own HTTP/1 pool for plain HTTP (the `inline` module) and hyper-util's for
//! HTTPS; reqwest's per proxy/TLS setting), the time-to-first-byte timeout,
//! and the response type shared with the fake channels.

mod inline;

use std::pin::Pin;
use std::sync::{Arc, LazyLock, Mutex, RwLock};
use std::time::Duration;

use bytes::Bytes;
use foldhash::{HashMap, HashMapExt};
use futures_util::{Stream, StreamExt};
use http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use http_body_util::{BodyDataStream, Full};
use hyper_rustls::{HttpsConnector, HttpsConnectorBuilder};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use rustls_platform_verifier::BuilderVerifierExt;
use thiserror::Error;

use crate::gather::Gathered;
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
        let mut gathered = Gathered::default();
        loop {
            let next = tokio::time::timeout(idle, self.body.next())
                .await
                .map_err(|_| UpstreamError::Idle(idle))?;
            let Some(chunk) = next else { break };
            let chunk = chunk?;
            if gathered.len() + chunk.len() > limit {
                return Err(UpstreamError::TooLarge(limit));
            }
            gathered.push(chunk);
        }
        Ok(gathered.into_bytes())
    }
}

/// Pooled HTTP clients: hyper's own client for upstreams reached directly
/// (the hot path), reqwest for channels behind a proxy or with TLS
/// verification off, and for everything when the process has a proxy in
/// its environment (`HTTPS_PROXY` and the like, which reqwest honours).
#[derive(Debug)]
pub struct HttpClients {
    direct: Option<Arc<DirectClient>>,
    default: reqwest::Client,
    custom: Mutex<HashMap<(String, bool), reqwest::Client>>,
}

/// The clients for upstreams reached directly: plain HTTP on our own
/// HTTP/1.1 connections, read by the task that waits on them; HTTPS on hyper-util's pooled client
/// (HTTP/1.1 or HTTP/2 by ALPN).
#[derive(Debug)]
pub struct DirectClient {
    plain: Arc<inline::InlinePool>,
    tls: Client<HttpsConnector<HttpConnector>, Full<Bytes>>,
}

/// The client an upstream request goes out on.
#[derive(Debug, Clone)]
pub enum UpstreamClient {
    /// Straight to the upstream; `fallback` takes URLs hyper cannot send
    /// as they are (credentials in the authority, characters that need
    /// escaping), which reqwest normalises.
    Direct {
        /// The hot-path client (shared: one pool for every channel).
        hyper: Arc<DirectClient>,
        /// reqwest, for the URLs above.
        fallback: reqwest::Client,
    },
    /// Through reqwest (a proxy, TLS verification off).
    Reqwest(reqwest::Client),
}

const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long an idle pooled connection is kept (HTTPS, and every upstream
/// reqwest reaches): under the 60 s after which AWS load balancers close
/// idle connections by default (nginx: 75 s), so that a request is not sent
/// on a connection the upstream's side is closing at that moment.
const POOL_IDLE_TIMEOUT: Duration = Duration::from_secs(55);
/// How long the inline pool keeps an idle plain-HTTP connection: under the
/// 5 s after which uvicorn (so vLLM and SGLang), llama.cpp's server, Node
/// and Apache close theirs, so that a request never goes out on a
/// connection the upstream is closing at that moment. Such upstreams are
/// mostly near (a new connection costs a round trip, no TLS handshake),
/// and under load connections are reused long before this.
const PLAIN_POOL_IDLE_TIMEOUT: Duration = Duration::from_secs(4);
/// Idle connections keep their read buffers, which grow when events pile
/// up in a busy socket; cap how many are kept per upstream host.
const POOL_MAX_IDLE_PER_HOST: usize = 256;
const USER_AGENT: &str = concat!("switchyard/", env!("CARGO_PKG_VERSION"));
/// Environment variables that give reqwest a system proxy.
const PROXY_VARIABLES: [&str; 6] = [
    "HTTP_PROXY",
    "http_proxy",
    "HTTPS_PROXY",
    "https_proxy",
    "ALL_PROXY",
    "all_proxy",
];

fn builder() -> reqwest::ClientBuilder {
    reqwest::Client::builder()
        .connect_timeout(CONNECT_TIMEOUT)
        .pool_idle_timeout(POOL_IDLE_TIMEOUT)
        .pool_max_idle_per_host(POOL_MAX_IDLE_PER_HOST)
        .tcp_nodelay(true)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(USER_AGENT)
}

/// The direct clients with the same settings as [`builder`]: the inline
/// pool for plain HTTP; for HTTPS, hyper-util's client with HTTP/1.1 and
/// HTTP/2 (by ALPN) and the platform's trust store. No redirects.
fn direct_client() -> Result<DirectClient, UpstreamError> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .and_then(|b| b.with_platform_verifier())
        .map_err(|e| UpstreamError::Connect(format!("TLS set-up failed: {e}")))?
        .with_no_client_auth();
    let mut tcp = HttpConnector::new();
    tcp.set_connect_timeout(Some(CONNECT_TIMEOUT));
    tcp.set_nodelay(true);
    tcp.enforce_http(false);
    let plain =
        inline::InlinePool::new(tcp.clone(), PLAIN_POOL_IDLE_TIMEOUT, POOL_MAX_IDLE_PER_HOST);
    let connector = HttpsConnectorBuilder::new()
        .with_tls_config(tls)
        .https_or_http()
        .enable_all_versions()
        .wrap_connector(tcp);
    let tls = Client::builder(TokioExecutor::new())
        .pool_idle_timeout(POOL_IDLE_TIMEOUT)
        .pool_max_idle_per_host(POOL_MAX_IDLE_PER_HOST)
        .pool_timer(TokioTimer::new())
        .build(connector);
    Ok(DirectClient { plain, tls })
}

impl HttpClients {
    /// Build the default clients.
    pub fn new() -> Result<Self, UpstreamError> {
        let proxied = PROXY_VARIABLES
            .iter()
            .any(|v| std::env::var_os(v).is_some_and(|v| !v.is_empty()));
        Ok(Self {
            direct: if proxied {
                None
            } else {
                Some(Arc::new(direct_client()?))
            },
            default: builder()
                .build()
                .map_err(|e| UpstreamError::Connect(e.to_string()))?,
            custom: Mutex::new(HashMap::new()),
        })
    }

    /// The client an upstream request on a channel with these proxy and
    /// TLS settings goes out on.
    pub fn upstream(
        &self,
        proxy_url: &str,
        skip_tls_verify: bool,
    ) -> Result<UpstreamClient, UpstreamError> {
        match &self.direct {
            Some(hyper) if proxy_url.is_empty() && !skip_tls_verify => Ok(UpstreamClient::Direct {
                hyper: hyper.clone(),
                fallback: self.default.clone(),
            }),
            _ => self
                .get(proxy_url, skip_tls_verify)
                .map(UpstreamClient::Reqwest),
        }
    }

    /// The reqwest client for a channel's proxy and TLS settings (token
    /// endpoints, balances, notifications).
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

/// An upstream request before it goes out on a client.
struct Outgoing<'a> {
    method: http::Method,
    url: &'a str,
    headers: HeaderMap,
    body: Bytes,
}

impl<'a> Outgoing<'a> {
    /// `defaults`, then `target`'s credentials and headers, appended in
    /// that order (a header named twice is sent twice).
    fn new(
        method: http::Method,
        url: &'a str,
        target: &UpstreamTarget,
        defaults: &[(HeaderName, HeaderValue)],
        body: Bytes,
    ) -> Self {
        let mut headers = HeaderMap::with_capacity(defaults.len() + target.headers.len() + 2);
        for (name, value) in defaults.iter().chain(&target.auth).chain(&target.headers) {
            headers.append(name.clone(), value.clone());
        }
        Self {
            method,
            url,
            headers,
            body,
        }
    }
}

fn json_headers(stream: bool) -> [(HeaderName, HeaderValue); 2] {
    let accept = if stream {
        "text/event-stream"
    } else {
        "application/json"
    };
    [
        (
            http::header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        ),
        (http::header::ACCEPT, HeaderValue::from_static(accept)),
    ]
}

/// POST `body` as JSON to `target`, waiting at most `ttfb` for the response headers.
pub async fn post_json(
    client: &UpstreamClient,
    target: &UpstreamTarget,
    body: Bytes,
    stream: bool,
    ttfb: Duration,
) -> Result<UpstreamResponse, UpstreamError> {
    let outgoing = Outgoing::new(
        http::Method::POST,
        &target.url,
        target,
        &json_headers(stream),
        body,
    );
    send(client, outgoing, ttfb).await
}

/// POST `body` to `target` with exactly its credentials and headers — no
/// default content type or accept, because the caller signed them (AWS
/// SigV4) — waiting at most `ttfb` for the response headers.
pub async fn post_exact(
    client: &UpstreamClient,
    target: &UpstreamTarget,
    body: Bytes,
    ttfb: Duration,
) -> Result<UpstreamResponse, UpstreamError> {
    let outgoing = Outgoing::new(http::Method::POST, &target.url, target, &[], body);
    send(client, outgoing, ttfb).await
}

/// Send a request without a body (`GET`, `DELETE`, a bare `POST`) to `url`
/// with `target`'s credentials and headers.
pub async fn send_bodyless(
    client: &UpstreamClient,
    method: http::Method,
    url: &str,
    target: &UpstreamTarget,
    ttfb: Duration,
) -> Result<UpstreamResponse, UpstreamError> {
    let accept = [(
        http::header::ACCEPT,
        HeaderValue::from_static("application/json"),
    )];
    let outgoing = Outgoing::new(method, url, target, &accept, Bytes::new());
    send(client, outgoing, ttfb).await
}

/// Send on `client`, waiting at most `ttfb` for the response headers.
async fn send(
    client: &UpstreamClient,
    outgoing: Outgoing<'_>,
    ttfb: Duration,
) -> Result<UpstreamResponse, UpstreamError> {
    match client {
        UpstreamClient::Direct { hyper, fallback } => match direct_uri(outgoing.url) {
            Some(uri) => send_direct(hyper, uri, outgoing, ttfb).await,
            None => send_reqwest(fallback, outgoing, ttfb).await,
        },
        UpstreamClient::Reqwest(client) => send_reqwest(client, outgoing, ttfb).await,
    }
}

async fn send_direct(
    client: &DirectClient,
    DirectUri { uri, host }: DirectUri,
    outgoing: Outgoing<'_>,
    ttfb: Duration,
) -> Result<UpstreamResponse, UpstreamError> {
    let Outgoing {
        method,
        mut headers,
        body,
        ..
    } = outgoing;
    if !headers.contains_key(http::header::USER_AGENT) {
        headers.insert(
            http::header::USER_AGENT,
            HeaderValue::from_static(USER_AGENT),
        );
    }
    headers.entry(http::header::HOST).or_insert(host);
    if uri.scheme() == Some(&http::uri::Scheme::HTTP) {
        return tokio::time::timeout(ttfb, client.plain.send(method, uri, &headers, body))
            .await
            .map_err(|_| UpstreamError::Timeout(ttfb))?;
    }
    let mut request = http::Request::new(Full::new(body));
    *request.method_mut() = method;
    *request.uri_mut() = uri;
    *request.headers_mut() = headers;
    let response = tokio::time::timeout(ttfb, client.tls.request(request))
        .await
        .map_err(|_| UpstreamError::Timeout(ttfb))?
        .map_err(|e| UpstreamError::Connect(error_chain(&e)))?;
    let (parts, body) = response.into_parts();
    let body =
        BodyDataStream::new(body).map(|r| r.map_err(|e| UpstreamError::Body(error_chain(&e))));
    Ok(UpstreamResponse {
        status: parts.status,
        headers: parts.headers,
        body: Box::pin(body),
    })
}

async fn send_reqwest(
    client: &reqwest::Client,
    outgoing: Outgoing<'_>,
    ttfb: Duration,
) -> Result<UpstreamResponse, UpstreamError> {
    let Outgoing {
        method,
        url,
        headers,
        body,
    } = outgoing;
    let mut request = client.request(method, url).headers(headers);
    if !body.is_empty() {
        request = request.body(body);
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

/// An upstream URL as hyper sends it, with its `Host` header value.
#[derive(Debug, Clone, PartialEq)]
struct DirectUri {
    uri: http::Uri,
    /// `host[:port]`, the port only when not the scheme's default: the
    /// value hyper-util would otherwise format anew for every request.
    host: HeaderValue,
}

/// Upstream URLs already parsed for hyper, by their text; `None` for URLs
/// hyper cannot send as they are. A gateway sends to few distinct URLs.
/// Bounded: cleared when full.
static PARSED_URIS: LazyLock<RwLock<HashMap<String, Option<DirectUri>>>> =
    LazyLock::new(|| RwLock::new(HashMap::new()));
const PARSED_URIS_MAX: usize = 4096;

/// `url` as hyper sends it: absolute, `http` or `https`, no credentials in
/// the authority. Parsed once per distinct URL.
fn direct_uri(url: &str) -> Option<DirectUri> {
    if let Some(known) = PARSED_URIS.read().ok().and_then(|m| m.get(url).cloned()) {
        return known;
    }
    let parsed = url.parse::<http::Uri>().ok().and_then(|uri| {
        let default_port = match uri.scheme_str()? {
            "http" => 80,
            "https" => 443,
            _ => return None,
        };
        let authority = uri.authority().filter(|a| !a.as_str().contains('@'))?;
        let host = match authority.port().filter(|p| p.as_u16() != default_port) {
            Some(port) => HeaderValue::try_from([authority.host(), port.as_str()].join(":")),
            None => HeaderValue::from_str(authority.host()),
        }
        .ok()?;
        Some(DirectUri { uri, host })
    });
    if let Ok(mut m) = PARSED_URIS.write() {
        if m.len() >= PARSED_URIS_MAX {
            m.clear();
        }
        m.insert(url.to_owned(), parsed.clone());
    }
    parsed
}

/// An error and its sources, `: `-separated (reqwest and hyper hide the
/// cause otherwise).
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

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    #[test]
    fn direct_uris_are_reused_and_the_rest_left_to_reqwest() {
        let text = "http://127.0.0.1:9/v1/chat/completions?x=1";
        let first = direct_uri(text).expect("parses");
        assert_eq!(first.uri.to_string(), text);
        assert_eq!(first.host, "127.0.0.1:9");
        assert_eq!(direct_uri(text), Some(first));
        assert!(PARSED_URIS.read().is_ok_and(|m| m.contains_key(text)));
        for (url, host) in [
            ("https://api.example.com/v1", "api.example.com"),
            ("https://api.example.com:443/v1", "api.example.com"),
            ("http://api.example.com:80/v1", "api.example.com"),
            ("http://api.example.com:443/v1", "api.example.com:443"),
            ("http://[::1]:8080/v1", "[::1]:8080"),
        ] {
            assert_eq!(direct_uri(url).expect(url).host, host, "{url}");
        }
        for url in [
            "not a url",
            "/relative",
            "ftp://127.0.0.1/x",
            "http://user:pass@127.0.0.1:9/x",
        ] {
            assert_eq!(direct_uri(url), None, "{url}");
        }
    }

    /// Answer one request on `listener` with `200 {}` and return its head.
    async fn answer_once(listener: &tokio::net::TcpListener) -> String {
        let (mut socket, _) = listener.accept().await.unwrap();
        let mut seen = Vec::new();
        let mut buf = [0u8; 4096];
        while !seen.windows(4).any(|w| w == b"\r\n\r\n") {
            let n = socket.read(&mut buf).await.unwrap();
            assert!(n > 0, "connection closed before the head ended");
            seen.extend_from_slice(&buf[..n]);
        }
        let reply = b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{}";
        socket.write_all(reply).await.unwrap();
        String::from_utf8_lossy(&seen).to_lowercase()
    }

    #[tokio::test]
    async fn direct_client_sends_the_headers_and_falls_back_for_credentials() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let clients = HttpClients::new().unwrap();
        let client = clients.upstream("", false).unwrap();
        assert!(matches!(client, UpstreamClient::Direct { .. }));
        let target = |url: String| UpstreamTarget {
            url,
            auth: Some((
                http::header::AUTHORIZATION,
                HeaderValue::from_static("Bearer sk-up"),
            )),
            headers: vec![(
                HeaderName::from_static("x-extra"),
                HeaderValue::from_static("1"),
            )],
        };
        let direct = target(format!("http://127.0.0.1:{port}/v1/chat/completions"));
        let (head, response) = tokio::join!(
            answer_once(&listener),
            post_json(
                &client,
                &direct,
                Bytes::from_static(b"{}"),
                true,
                Duration::from_secs(5)
            )
        );
        let response = response.unwrap();
        assert_eq!(response.status, StatusCode::OK);
        let body = response
            .read_all(1024, Duration::from_secs(5))
            .await
            .unwrap();
        assert_eq!(&body[..], b"{}");
        for line in [
            "post /v1/chat/completions http/1.1",
            "content-type: application/json",
            "accept: text/event-stream",
            "authorization: bearer sk-up",
            "x-extra: 1",
            "user-agent: switchyard/",
            "content-length: 2",
            &format!("host: 127.0.0.1:{port}"),
        ] {
            assert!(head.contains(line), "{line} missing from {head}");
        }
        // Credentials in the URL: reqwest turns them into basic auth.
        let mut with_user = target(format!("http://u:p@127.0.0.1:{port}/x"));
        with_user.auth = None;
        let (head, response) = tokio::join!(
            answer_once(&listener),
            post_exact(
                &client,
                &with_user,
                Bytes::from_static(b"{}"),
                Duration::from_secs(5)
            )
        );
        assert_eq!(response.unwrap().status, StatusCode::OK);
        assert!(head.contains("authorization: basic dtpw"), "{head}");
    }
}
