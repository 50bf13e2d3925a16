//! The inline pool against raw TCP upstreams: reuse, upstreams that close,
//! streamed bodies, failures.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use bytes::Bytes;
use futures_util::StreamExt;
use hyper_util::client::legacy::connect::HttpConnector;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;

use super::InlinePool;
use crate::relay::upstream::{UpstreamError, UpstreamResponse};

const IDLE: Duration = Duration::from_secs(5);

fn pool() -> Arc<InlinePool> {
    let mut tcp = HttpConnector::new();
    tcp.set_nodelay(true);
    InlinePool::new(tcp, Duration::from_secs(90), 4)
}

/// POST `body` to `/v1/x?y=1` on the upstream at `port`.
async fn send(
    pool: &Arc<InlinePool>,
    port: u16,
    body: &'static str,
) -> Result<UpstreamResponse, UpstreamError> {
    let uri = format!("http://127.0.0.1:{port}/v1/x?y=1").parse().unwrap();
    let mut headers = http::HeaderMap::new();
    headers.insert(
        http::header::HOST,
        http::HeaderValue::from_str(&format!("127.0.0.1:{port}")).unwrap(),
    );
    let body = Bytes::from_static(body.as_bytes());
    pool.send(http::Method::POST, uri, &headers, body).await
}

/// Read one request (head and `content-length` body) from `socket`; `None`
/// when the peer closed first.
async fn read_request(socket: &mut TcpStream) -> Option<String> {
    let mut seen = Vec::new();
    let mut buf = [0u8; 4096];
    let head_end = loop {
        if let Some(at) = seen.windows(4).position(|w| w == b"\r\n\r\n") {
            break at + 4;
        }
        let n = socket.read(&mut buf).await.ok()?;
        if n == 0 {
            return None;
        }
        seen.extend_from_slice(&buf[..n]);
    };
    let head = String::from_utf8_lossy(&seen[..head_end]).to_lowercase();
    let length: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length: "))
        .map_or(0, |v| v.trim().parse().unwrap());
    while seen.len() < head_end + length {
        let n = socket.read(&mut buf).await.ok()?;
        if n == 0 {
            return None;
        }
        seen.extend_from_slice(&buf[..n]);
    }
    Some(String::from_utf8_lossy(&seen).into_owned())
}

fn ok(body: &str) -> String {
    format!(
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    )
}

/// An upstream answering every request on every connection with `reply`,
/// counting connections; each request's text goes to the returned channel.
async fn keep_alive_upstream(
    reply: fn(&str) -> String,
) -> (u16, Arc<AtomicUsize>, mpsc::UnboundedReceiver<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let accepted = Arc::new(AtomicUsize::new(0));
    let (seen, requests) = mpsc::unbounded_channel();
    let counter = accepted.clone();
    tokio::spawn(async move {
        loop {
            let (mut socket, _) = listener.accept().await.unwrap();
            counter.fetch_add(1, Ordering::SeqCst);
            let seen = seen.clone();
            tokio::spawn(async move {
                while let Some(text) = read_request(&mut socket).await {
                    let answer = reply(&text);
                    let _ = seen.send(text);
                    if socket.write_all(answer.as_bytes()).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    (port, accepted, requests)
}

async fn body_text(response: UpstreamResponse) -> String {
    let body = response.read_all(1 << 20, IDLE).await.unwrap();
    String::from_utf8(body.to_vec()).unwrap()
}

#[tokio::test]
async fn sequential_requests_share_one_connection() {
    let (port, accepted, mut requests) = keep_alive_upstream(|_| ok("{\"n\":1}")).await;
    let pool = pool();
    for body in ["{\"a\":1}", "{\"a\":2}", "{\"a\":3}"] {
        let response = send(&pool, port, body).await.unwrap();
        assert_eq!(response.status, http::StatusCode::OK);
        assert_eq!(body_text(response).await, "{\"n\":1}");
        let seen = requests.recv().await.unwrap();
        assert!(
            seen.starts_with("POST /v1/x?y=1 HTTP/1.1\r\n"),
            "origin-form request line: {seen}"
        );
        assert!(
            seen.to_lowercase()
                .contains(&format!("host: 127.0.0.1:{port}"))
        );
        assert!(seen.ends_with(body), "{seen}");
        assert_eq!(pool.idle_count(), 1);
    }
    assert_eq!(accepted.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn concurrent_requests_open_their_own_connections_and_all_return_to_the_pool() {
    let (port, accepted, _requests) = keep_alive_upstream(|_| ok("{}")).await;
    let pool = pool();
    let responses = futures_util::future::join_all((0..3).map(|_| send(&pool, port, "{}"))).await;
    let mut bodies = Vec::new();
    for response in responses {
        bodies.push(body_text(response.unwrap()).await);
    }
    assert_eq!(bodies, ["{}", "{}", "{}"]);
    assert_eq!(accepted.load(Ordering::SeqCst), 3);
    assert_eq!(pool.idle_count(), 3);
}

#[tokio::test]
async fn a_pooled_connection_the_upstream_closed_is_replaced() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let upstream = tokio::spawn(async move {
        for n in 0..2 {
            let (mut socket, _) = listener.accept().await.unwrap();
            read_request(&mut socket).await.unwrap();
            // Keep-alive by the headers, then closed: as an upstream whose
            // idle time-out has passed.
            socket
                .write_all(ok(&n.to_string()).as_bytes())
                .await
                .unwrap();
            socket.shutdown().await.unwrap();
        }
    });
    let pool = pool();
    let first = send(&pool, port, "{}").await.unwrap();
    assert_eq!(body_text(first).await, "0");
    // Let the upstream's FIN arrive.
    tokio::time::sleep(Duration::from_millis(50)).await;
    let second = send(&pool, port, "{}").await.unwrap();
    assert_eq!(body_text(second).await, "1");
    upstream.await.unwrap();
}

#[tokio::test]
async fn connection_close_answers_are_not_pooled() {
    let (port, accepted, _requests) = keep_alive_upstream(|_| {
        "HTTP/1.1 200 OK\r\nconnection: close\r\ncontent-length: 2\r\n\r\n{}".to_owned()
    })
    .await;
    let pool = pool();
    for _ in 0..2 {
        let response = send(&pool, port, "{}").await.unwrap();
        assert_eq!(body_text(response).await, "{}");
        assert_eq!(pool.idle_count(), 0);
    }
    assert_eq!(accepted.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn chunks_arrive_as_the_upstream_writes_them() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let (next, mut go) = mpsc::unbounded_channel::<()>();
    let upstream = tokio::spawn(async move {
        let (mut socket, _) = listener.accept().await.unwrap();
        read_request(&mut socket).await.unwrap();
        let head = "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n";
        socket.write_all(head.as_bytes()).await.unwrap();
        for event in ["data: 1\n\n", "data: 2\n\n"] {
            let chunk = format!("{:x}\r\n{event}\r\n", event.len());
            socket.write_all(chunk.as_bytes()).await.unwrap();
            go.recv().await.unwrap();
        }
        socket.write_all(b"0\r\n\r\n").await.unwrap();
        // The connection stays open: the next request reuses it.
        read_request(&mut socket).await.unwrap();
        socket.write_all(ok("again").as_bytes()).await.unwrap();
    });
    let pool = pool();
    let response = send(&pool, port, "{}").await.unwrap();
    assert!(response.is_event_stream());
    let mut body = response.body;
    // The second event is written only after the first was read here.
    assert_eq!(body.next().await.unwrap().unwrap(), "data: 1\n\n");
    next.send(()).unwrap();
    assert_eq!(body.next().await.unwrap().unwrap(), "data: 2\n\n");
    next.send(()).unwrap();
    assert!(body.next().await.is_none());
    assert_eq!(pool.idle_count(), 1);
    let again = send(&pool, port, "{}").await.unwrap();
    assert_eq!(body_text(again).await, "again");
    upstream.await.unwrap();
}

#[tokio::test]
async fn a_body_dropped_early_closes_its_connection() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let upstream = tokio::spawn(async move {
        let (mut socket, _) = listener.accept().await.unwrap();
        read_request(&mut socket).await.unwrap();
        let head = "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nfirst\r\n";
        socket.write_all(head.as_bytes()).await.unwrap();
        // The client leaves: the next read sees the connection closed.
        let mut buf = [0u8; 16];
        socket.read(&mut buf).await.unwrap()
    });
    let pool = pool();
    let response = send(&pool, port, "{}").await.unwrap();
    let mut body = response.body;
    assert_eq!(body.next().await.unwrap().unwrap(), "first");
    drop(body);
    let read = tokio::time::timeout(IDLE, upstream).await.unwrap().unwrap();
    assert_eq!(read, 0, "the upstream sees end of file");
    assert_eq!(pool.idle_count(), 0);
}

#[tokio::test]
async fn a_body_cut_short_is_a_body_error_and_the_connection_is_dropped() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        let (mut socket, _) = listener.accept().await.unwrap();
        read_request(&mut socket).await.unwrap();
        let reply = "HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\nonly ten..";
        socket.write_all(reply.as_bytes()).await.unwrap();
    });
    let pool = pool();
    let response = send(&pool, port, "{}").await.unwrap();
    let error = response.read_all(1 << 20, IDLE).await.unwrap_err();
    assert!(
        matches!(&error, UpstreamError::Body(text) if text.contains("closed the connection before the body ended")),
        "{error:?}"
    );
    assert_eq!(pool.idle_count(), 0);
}

#[tokio::test]
async fn refused_connections_and_early_closes_are_connect_errors() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let pool = pool();
    let error = send(&pool, port, "{}").await.err().expect("fails");
    assert!(
        matches!(&error, UpstreamError::Connect(text) if text.contains("refused")),
        "{error:?}"
    );

    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        let (mut socket, _) = listener.accept().await.unwrap();
        read_request(&mut socket).await.unwrap();
    });
    let error = send(&pool, port, "{}").await.err().expect("fails");
    assert!(
        matches!(&error, UpstreamError::Connect(text) if text.contains("closed")),
        "{error:?}"
    );
}

#[tokio::test]
async fn expired_idle_connections_are_swept() {
    let (port, accepted, _requests) = keep_alive_upstream(|_| ok("{}")).await;
    let mut tcp = HttpConnector::new();
    tcp.set_nodelay(true);
    let pool = InlinePool::new(tcp, Duration::from_millis(30), 4);
    let response = send(&pool, port, "{}").await.unwrap();
    assert_eq!(body_text(response).await, "{}");
    assert_eq!(pool.idle_count(), 1);
    tokio::time::sleep(Duration::from_millis(60)).await;
    pool.sweep();
    assert_eq!(pool.idle_count(), 0);
    // An expired connection is not used: the next request connects anew.
    let response = send(&pool, port, "{}").await.unwrap();
    assert_eq!(body_text(response).await, "{}");
    assert_eq!(accepted.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn an_answer_trickled_a_byte_at_a_time_is_read_whole_and_the_connection_reused() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let upstream = tokio::spawn(async move {
        let (mut socket, _) = listener.accept().await.unwrap();
        socket.set_nodelay(true).unwrap();
        read_request(&mut socket).await.unwrap();
        let reply = "HTTP/1.1 103 Early Hints\r\nlink: </a>\r\n\r\nHTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n4;x=y\r\nabcd\r\n2\r\nef\r\n0\r\nx-trailer: 1\r\n\r\n";
        for byte in reply.as_bytes() {
            socket.write_all(&[*byte]).await.unwrap();
            tokio::time::sleep(Duration::from_micros(200)).await;
        }
        read_request(&mut socket).await.unwrap();
        socket.write_all(ok("again").as_bytes()).await.unwrap();
    });
    let pool = pool();
    let response = send(&pool, port, "{}").await.unwrap();
    assert_eq!(response.status, http::StatusCode::OK);
    assert_eq!(body_text(response).await, "abcdef");
    assert_eq!(pool.idle_count(), 1, "kept after the trailers");
    let again = send(&pool, port, "{}").await.unwrap();
    assert_eq!(body_text(again).await, "again");
    upstream.await.unwrap();
}

#[tokio::test]
async fn a_malformed_chunked_body_is_a_body_error() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        let (mut socket, _) = listener.accept().await.unwrap();
        read_request(&mut socket).await.unwrap();
        let reply = "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nnot-hex\r\n";
        socket.write_all(reply.as_bytes()).await.unwrap();
        tokio::time::sleep(IDLE).await;
    });
    let pool = pool();
    let response = send(&pool, port, "{}").await.unwrap();
    let error = response.read_all(1 << 20, IDLE).await.unwrap_err();
    assert!(
        matches!(&error, UpstreamError::Body(text) if text.contains("invalid chunk size")),
        "{error:?}"
    );
    assert_eq!(pool.idle_count(), 0);
}

/// An empty JSON answer with `keep_alive` as its `Keep-Alive` field.
fn ok_keeping_alive(keep_alive: &str) -> String {
    format!("HTTP/1.1 200 OK\r\nkeep-alive: {keep_alive}\r\ncontent-length: 2\r\n\r\n{{}}")
}

#[tokio::test]
async fn a_connection_is_used_until_a_second_before_the_upstreams_keep_alive_timeout() {
    let (short, short_accepted, _r1) = keep_alive_upstream(|_| ok_keeping_alive("timeout=2")).await;
    let (long, long_accepted, _r2) =
        keep_alive_upstream(|_| ok_keeping_alive("timeout=3, max=100")).await;
    let pool = pool();
    for port in [short, long] {
        assert_eq!(
            body_text(send(&pool, port, "{}").await.unwrap()).await,
            "{}"
        );
    }
    assert_eq!(pool.idle_count(), 2);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    // `timeout=2`: kept for one second, so past its time; `timeout=3`: two.
    for port in [short, long] {
        assert_eq!(
            body_text(send(&pool, port, "{}").await.unwrap()).await,
            "{}"
        );
    }
    assert_eq!(short_accepted.load(Ordering::SeqCst), 2, "reconnected");
    assert_eq!(long_accepted.load(Ordering::SeqCst), 1, "reused");
}

#[tokio::test]
async fn a_connection_the_upstream_keeps_a_second_or_less_is_not_kept() {
    let (port, accepted, _requests) = keep_alive_upstream(|_| ok_keeping_alive("timeout=1")).await;
    let pool = pool();
    for _ in 0..2 {
        assert_eq!(
            body_text(send(&pool, port, "{}").await.unwrap()).await,
            "{}"
        );
        assert_eq!(pool.idle_count(), 0);
    }
    assert_eq!(accepted.load(Ordering::SeqCst), 2);
}
