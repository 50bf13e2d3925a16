//! The hyper server: listener, routing, latency and error injection.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::sync::atomic::Ordering::Relaxed;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http::header::{CACHE_CONTROL, CONTENT_TYPE, HeaderValue, RETRY_AFTER};
use http::{Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Either, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use tokio::net::{TcpListener, TcpSocket};
use tokio::task::JoinHandle;

use crate::config::{Knobs, MockConfig};
use crate::ctx::Ctx;
use crate::scan::Probe;
use crate::sse::{SseBody, StreamPlan};
use crate::stats::{Endpoint, Stats, StatsSnapshot};
use crate::{anthropic, gemini, openai, text};

/// Response body: a complete buffer or a scheduled stream.
pub type MockBody = Either<Full<Bytes>, SseBody>;

const DEFAULT_MODEL: &str = "mock-model";
/// Embedding requests up to this size are parsed to count their inputs.
const EMBEDDINGS_PARSE_LIMIT: usize = 256 * 1024;

/// A running mock server. Dropping it stops accepting new connections.
#[derive(Debug)]
pub struct MockServer {
    addr: SocketAddr,
    stats: Arc<Stats>,
    task: JoinHandle<()>,
}

impl MockServer {
    /// The bound address (useful with port 0).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The live counters.
    pub fn stats(&self) -> StatsSnapshot {
        self.stats.snapshot()
    }

    /// Waits until the accept loop ends (it only ends when aborted).
    pub async fn wait(mut self) {
        let _ = (&mut self.task).await;
    }
}

impl Drop for MockServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Binds `config.listen` and serves on the current tokio runtime until the returned
/// [`MockServer`] is dropped. `config.threads` is ignored here (the binary uses it).
pub async fn run(config: MockConfig) -> std::io::Result<MockServer> {
    let socket = if config.listen.is_ipv4() {
        TcpSocket::new_v4()?
    } else {
        TcpSocket::new_v6()?
    };
    socket.set_reuseaddr(true)?;
    socket.bind(config.listen)?;
    let listener = socket.listen(4096)?;
    let addr = listener.local_addr()?;
    let state = Arc::new(State::new(&config));
    let stats = state.stats.clone();
    let task = tokio::spawn(accept_loop(listener, state));
    Ok(MockServer { addr, stats, task })
}

struct State {
    knobs: Knobs,
    stats: Arc<Stats>,
    text: Bytes,
    embedding_dims: usize,
    embedding_json: Bytes,
    embedding_base64: Bytes,
    created: u64,
    next_id: AtomicU64,
}

impl State {
    fn new(config: &MockConfig) -> Self {
        let knobs = Knobs::from_config(config);
        let text_len = text::PREBUILT_TEXT_BYTES
            .max(knobs.response_bytes)
            .max(knobs.chunks as usize);
        Self {
            knobs,
            stats: Arc::new(Stats::default()),
            text: text::generate(text_len),
            embedding_dims: config.embedding_dims,
            embedding_json: text::embedding_json(config.embedding_dims),
            embedding_base64: text::embedding_base64(config.embedding_dims),
            created: SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_secs()),
            next_id: AtomicU64::new(1),
        }
    }
}

async fn accept_loop(listener: TcpListener, state: Arc<State>) {
    let builder = Arc::new(auto::Builder::new(TokioExecutor::new()));
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            // Typically EMFILE under extreme load: back off instead of spinning.
            tokio::time::sleep(Duration::from_millis(5)).await;
            continue;
        };
        let _ = stream.set_nodelay(true);
        state.stats.connections.fetch_add(1, Relaxed);
        let state = state.clone();
        let builder = builder.clone();
        tokio::spawn(async move {
            let service = service_fn(move |req| handle(state.clone(), req));
            let _ = builder
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

#[derive(Debug, Clone, Copy)]
enum Route<'a> {
    Chat,
    Completions,
    Embeddings,
    Messages,
    Gemini { model: &'a str, stream: bool },
    Health,
    Stats,
    StatsReset,
    NotFound,
}

fn route<'a>(method: &Method, path: &'a str) -> Route<'a> {
    let post = method == Method::POST;
    match path {
        "/v1/chat/completions" | "/chat/completions" if post => Route::Chat,
        "/v1/completions" | "/completions" if post => Route::Completions,
        "/v1/embeddings" | "/embeddings" if post => Route::Embeddings,
        "/v1/messages" if post => Route::Messages,
        "/health" | "/healthz" => Route::Health,
        "/stats" if method == Method::GET => Route::Stats,
        "/stats/reset" if post => Route::StatsReset,
        _ if post => match gemini::parse_path(path) {
            Some((model, stream)) => Route::Gemini { model, stream },
            None => Route::NotFound,
        },
        _ => Route::NotFound,
    }
}

async fn handle(
    state: Arc<State>,
    req: Request<Incoming>,
) -> Result<Response<MockBody>, Infallible> {
    let (parts, body) = req.into_parts();
    let response = match route(&parts.method, parts.uri.path()) {
        Route::Health => {
            state.stats.hit(Endpoint::Health);
            full(StatusCode::OK, "text/plain", Bytes::from_static(b"ok"))
        }
        Route::Stats => {
            let json = serde_json::to_vec(&state.stats.snapshot()).unwrap_or_default();
            full(StatusCode::OK, "application/json", Bytes::from(json))
        }
        Route::StatsReset => {
            state.stats.reset();
            full(
                StatusCode::OK,
                "application/json",
                Bytes::from_static(b"{}"),
            )
        }
        Route::NotFound => {
            state.stats.hit(Endpoint::NotFound);
            full(
                StatusCode::NOT_FOUND,
                "application/json",
                openai::error_json(404),
            )
        }
        route => {
            let knobs = state.knobs.with_headers(&parts.headers);
            let body = match body.collect().await {
                Ok(collected) => collected.to_bytes(),
                Err(_) => return Ok(full(StatusCode::BAD_REQUEST, "text/plain", Bytes::new())),
            };
            api(&state, route, parts.uri.query(), knobs, body).await
        }
    };
    Ok(response)
}

async fn api(
    state: &State,
    route: Route<'_>,
    query: Option<&str>,
    knobs: Knobs,
    body: Bytes,
) -> Response<MockBody> {
    state.stats.bytes_in.fetch_add(body.len() as u64, Relaxed);
    state.stats.hit(match route {
        Route::Chat => Endpoint::ChatCompletions,
        Route::Completions => Endpoint::Completions,
        Route::Embeddings => Endpoint::Embeddings,
        Route::Messages => Endpoint::Messages,
        _ => Endpoint::Gemini,
    });
    if !knobs.latency.is_zero() {
        tokio::time::sleep(knobs.latency).await;
    }
    if knobs.error_rate > 0.0 && rand::random::<f64>() < knobs.error_rate {
        state.stats.errors_injected.fetch_add(1, Relaxed);
        return error(state, route, knobs.error_status);
    }
    let (model, stream, include_usage) = match route {
        Route::Gemini { model, stream } => (model, stream, false),
        Route::Embeddings => return embeddings(state, &body),
        _ => {
            let p = Probe::chat(&body);
            (p.model.unwrap_or(DEFAULT_MODEL), p.stream, p.include_usage)
        }
    };
    let chunks = knobs.chunks as usize;
    let text_len = if stream {
        knobs.response_bytes.max(chunks)
    } else {
        knobs.response_bytes
    };
    let ctx = Ctx {
        model,
        id: state.next_id.fetch_add(1, Relaxed),
        created: state.created,
        prompt_tokens: text::tokens(body.len()),
        text: text::text_of_len(&state.text, text_len),
        chunks,
        include_usage,
    };
    if !stream {
        let json = match route {
            Route::Completions => openai::completion_json(&ctx),
            Route::Messages => anthropic::message_json(&ctx),
            Route::Gemini { .. } => gemini::generate_json(&ctx),
            _ => openai::chat_json(&ctx),
        };
        state.stats.bytes_out.fetch_add(json.len() as u64, Relaxed);
        return full(StatusCode::OK, "application/json", json);
    }
    let alt_sse = query.is_some_and(|q| q.split('&').any(|kv| kv == "alt=sse"));
    let plan = match route {
        Route::Completions => openai::completion_stream(&ctx),
        Route::Messages => anthropic::message_stream(&ctx),
        Route::Gemini { .. } => gemini::generate_stream(&ctx, alt_sse),
        _ => openai::chat_stream(&ctx),
    };
    let sse = !matches!(route, Route::Gemini { .. }) || alt_sse;
    streamed(state, plan, knobs.chunk_delay, sse)
}

fn streamed(state: &State, plan: StreamPlan, delay: Duration, sse: bool) -> Response<MockBody> {
    let body = SseBody::new(plan, delay, state.stats.clone());
    let mut response = Response::new(Either::Right(body));
    let content_type = if sse {
        "text/event-stream"
    } else {
        "application/json"
    };
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}

fn embeddings(state: &State, body: &Bytes) -> Response<MockBody> {
    let probe = Probe::embeddings(body);
    let inputs = count_inputs(body);
    let dims = probe.dimensions.filter(|d| (1..=65_536).contains(d));
    let vector = match dims {
        Some(d) if d != state.embedding_dims => {
            if probe.base64 {
                text::embedding_base64(d)
            } else {
                text::embedding_json(d)
            }
        }
        _ if probe.base64 => state.embedding_base64.clone(),
        _ => state.embedding_json.clone(),
    };
    let ctx = Ctx {
        model: probe.model.unwrap_or(DEFAULT_MODEL),
        id: state.next_id.fetch_add(1, Relaxed),
        created: state.created,
        prompt_tokens: text::tokens(body.len()),
        text: Bytes::new(),
        chunks: 0,
        include_usage: false,
    };
    let json = openai::embeddings_json(&ctx, inputs, &vector, probe.base64);
    state.stats.bytes_out.fetch_add(json.len() as u64, Relaxed);
    full(StatusCode::OK, "application/json", json)
}

/// Number of embedding inputs: a string or a token array is one input, an array of
/// strings or of token arrays is one per element. Large bodies count as one input.
fn count_inputs(body: &[u8]) -> usize {
    #[derive(serde::Deserialize)]
    struct Input {
        input: serde_json::Value,
    }
    if body.len() > EMBEDDINGS_PARSE_LIMIT {
        return 1;
    }
    match serde_json::from_slice::<Input>(body).map(|i| i.input) {
        Ok(serde_json::Value::Array(items)) if items.iter().all(serde_json::Value::is_number) => 1,
        Ok(serde_json::Value::Array(items)) => items.len().max(1),
        _ => 1,
    }
}

fn error(state: &State, route: Route<'_>, status: u16) -> Response<MockBody> {
    let json = match route {
        Route::Messages => anthropic::error_json(status),
        Route::Gemini { .. } => gemini::error_json(status),
        _ => openai::error_json(status),
    };
    state.stats.bytes_out.fetch_add(json.len() as u64, Relaxed);
    let code = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = full(code, "application/json", json);
    if status == 429 {
        response
            .headers_mut()
            .insert(RETRY_AFTER, HeaderValue::from_static("1"));
    }
    response
}

fn full(status: StatusCode, content_type: &'static str, body: Bytes) -> Response<MockBody> {
    let mut response = Response::new(Either::Left(Full::new(body)));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes() {
        assert!(matches!(
            route(&Method::POST, "/v1/chat/completions"),
            Route::Chat
        ));
        assert!(matches!(
            route(&Method::GET, "/v1/chat/completions"),
            Route::NotFound
        ));
        assert!(matches!(
            route(&Method::POST, "/v1beta/models/g:streamGenerateContent"),
            Route::Gemini {
                model: "g",
                stream: true
            }
        ));
        assert!(matches!(route(&Method::GET, "/health"), Route::Health));
    }

    #[test]
    fn embedding_input_counts() {
        assert_eq!(count_inputs(br#"{"input":"a"}"#), 1);
        assert_eq!(count_inputs(br#"{"input":["a","b","c"]}"#), 3);
        assert_eq!(count_inputs(br#"{"input":[1,2,3]}"#), 1);
        assert_eq!(count_inputs(br#"{"input":[[1],[2]]}"#), 2);
    }
}
