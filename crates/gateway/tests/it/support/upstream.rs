//! A fake upstream provider: an axum server on port 0 whose answers a test
//! scripts with a closure, recording every request it receives.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::response::Response;
use futures_util::stream;
use http::{HeaderMap, StatusCode, Uri};
use serde_json::Value;

/// One request the fake upstream received.
#[derive(Debug, Clone)]
pub struct Received {
    pub path: String,
    pub headers: HeaderMap,
    pub body: Value,
    /// The body as received (for non-JSON bodies and signature checks).
    pub raw: Bytes,
}

/// How the fake upstream answers.
#[derive(Debug, Clone)]
pub enum Reply {
    /// JSON with a status.
    Json(u16, Value),
    /// Raw bytes with a status and content type.
    Raw(u16, &'static str, String),
    /// SSE: each frame (already formatted, e.g. "data: {...}\n\n") after its delay.
    Sse(Vec<(Duration, String)>),
    /// Wait, then answer.
    Delay(Duration, Box<Reply>),
    /// Binary chunks with a status and content type, each after its delay
    /// (e.g. an AWS event stream).
    Chunks(u16, &'static str, Vec<(Duration, Vec<u8>)>),
}

type Script = Arc<dyn Fn(&Received, usize) -> Reply + Send + Sync>;

#[derive(Clone)]
struct Shared {
    script: Script,
    received: Arc<Mutex<Vec<Received>>>,
    hits: Arc<AtomicUsize>,
}

/// A running fake upstream.
pub struct FakeUpstream {
    pub addr: SocketAddr,
    shared: Shared,
}

impl FakeUpstream {
    /// Start with a script: (request, 0-based request number) → reply.
    pub async fn start(script: impl Fn(&Received, usize) -> Reply + Send + Sync + 'static) -> Self {
        let shared = Shared {
            script: Arc::new(script),
            received: Arc::default(),
            hits: Arc::default(),
        };
        let app = Router::new().fallback(handle).with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self { addr, shared }
    }

    /// Base URL in the OpenAI convention (`…/v1`).
    pub fn base_url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    /// Requests received so far.
    pub fn received(&self) -> Vec<Received> {
        self.shared.received.lock().unwrap().clone()
    }

    /// Number of requests received.
    pub fn hits(&self) -> usize {
        self.shared.hits.load(Ordering::SeqCst)
    }
}

async fn handle(
    State(shared): State<Shared>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let received = Received {
        path: uri
            .path_and_query()
            .map(|p| p.to_string())
            .unwrap_or_default(),
        headers,
        body: serde_json::from_slice(&body).unwrap_or(Value::Null),
        raw: body,
    };
    let n = shared.hits.fetch_add(1, Ordering::SeqCst);
    let reply = (shared.script)(&received, n);
    shared.received.lock().unwrap().push(received);
    render(reply).await
}

fn render(reply: Reply) -> std::pin::Pin<Box<dyn std::future::Future<Output = Response> + Send>> {
    Box::pin(async move {
        match reply {
            Reply::Json(status, value) => Response::builder()
                .status(StatusCode::from_u16(status).unwrap())
                .header("content-type", "application/json")
                .body(Body::from(value.to_string()))
                .unwrap(),
            Reply::Raw(status, content_type, text) => Response::builder()
                .status(StatusCode::from_u16(status).unwrap())
                .header("content-type", content_type)
                .body(Body::from(text))
                .unwrap(),
            Reply::Delay(d, inner) => {
                tokio::time::sleep(d).await;
                render(*inner).await
            }
            Reply::Chunks(status, content_type, chunks) => {
                let body = stream::unfold(chunks.into_iter(), |mut it| async move {
                    let (delay, chunk) = it.next()?;
                    if !delay.is_zero() {
                        tokio::time::sleep(delay).await;
                    }
                    Some((Ok::<_, Infallible>(Bytes::from(chunk)), it))
                });
                Response::builder()
                    .status(StatusCode::from_u16(status).unwrap())
                    .header("content-type", content_type)
                    .body(Body::from_stream(body))
                    .unwrap()
            }
            Reply::Sse(frames) => {
                let body = stream::unfold(frames.into_iter(), |mut it| async move {
                    let (delay, frame) = it.next()?;
                    if !delay.is_zero() {
                        tokio::time::sleep(delay).await;
                    }
                    Some((Ok::<_, Infallible>(Bytes::from(frame)), it))
                });
                Response::builder()
                    .header("content-type", "text/event-stream")
                    .body(Body::from_stream(body))
                    .unwrap()
            }
        }
    })
}

/// An OpenAI chat completion answer.
pub fn chat_json(model: &str, text: &str, usage: Option<(i64, i64)>) -> Value {
    let mut v = serde_json::json!({
        "id": "chatcmpl-up1", "object": "chat.completion", "created": 1, "model": model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
    });
    if let Some((p, c)) = usage {
        v["usage"] =
            serde_json::json!({"prompt_tokens": p, "completion_tokens": c, "total_tokens": p + c});
    }
    v
}

/// The body a client receives for paced SSE `frames`: the frames in order.
pub fn frames_text(frames: Vec<(Duration, String)>) -> String {
    frames.into_iter().map(|(_, frame)| frame).collect()
}

/// OpenAI SSE frames: role chunk, one chunk per piece, finish chunk, optional usage chunk, [DONE].
pub fn chat_sse(
    model: &str,
    pieces: &[&str],
    usage: Option<(i64, i64)>,
    gap: Duration,
) -> Vec<(Duration, String)> {
    let chunk = |delta: Value, finish: Value| {
        let v = serde_json::json!({"id": "chatcmpl-up1", "object": "chat.completion.chunk", "created": 1, "model": model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]});
        format!("data: {v}\n\n")
    };
    let mut frames = vec![(
        Duration::ZERO,
        chunk(
            serde_json::json!({"role": "assistant", "content": ""}),
            Value::Null,
        ),
    )];
    for p in pieces {
        frames.push((gap, chunk(serde_json::json!({"content": p}), Value::Null)));
    }
    frames.push((
        gap,
        chunk(serde_json::json!({}), Value::String("stop".into())),
    ));
    if let Some((p, c)) = usage {
        let v = serde_json::json!({"id": "chatcmpl-up1", "object": "chat.completion.chunk", "created": 1, "model": model,
            "choices": [], "usage": {"prompt_tokens": p, "completion_tokens": c, "total_tokens": p + c}});
        frames.push((Duration::ZERO, format!("data: {v}\n\n")));
    }
    frames.push((Duration::ZERO, "data: [DONE]\n\n".to_owned()));
    frames
}
