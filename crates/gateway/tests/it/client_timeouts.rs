//! The client idle timeout (`--client-idle-timeout`, here 1 s): a connection
//! that sends no request head in time is closed (silent from the start,
//! sending its head a byte at a time, or idle after a keep-alive request);
//! a request body that stalls is answered 408 in the client's protocol; a
//! body that keeps coming, however slowly, is relayed; answers that take
//! longer are not affected; an HTTP/2 client that answers no ping is
//! closed, one that answers is kept; 0 turns it off.

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::support::upstream::{chat_json, chat_sse, frames_text};
use crate::support::{FakeUpstream, Gateway, Reply};

async fn gateway(idle_seconds: &str) -> (Gateway, String, FakeUpstream) {
    let up =
        FakeUpstream::start(|_, _| Reply::Json(200, chat_json("gpt-4o", "Hello!", Some((9, 3)))))
            .await;
    gateway_before(up, idle_seconds).await
}

async fn gateway_before(up: FakeUpstream, idle_seconds: &str) -> (Gateway, String, FakeUpstream) {
    let gw = Gateway::start(&["--client-idle-timeout", idle_seconds]).await;
    gw.model("gpt-4o").await;
    gw.channel(json!({"type": 1, "name": "up", "base_url": up.base_url(), "models": ["gpt-4o"]}))
        .await;
    let key = gw.token("team", json!({"name": "ci"})).await;
    (gw, key, up)
}

async fn connect(gw: &Gateway) -> TcpStream {
    TcpStream::connect(gw.url.trim_start_matches("http://"))
        .await
        .unwrap()
}

/// How long until the gateway closes `tcp` (reading and dropping whatever
/// it sends); `None` if it is still open after `within`.
async fn closed_after(tcp: &mut TcpStream, within: Duration) -> Option<Duration> {
    let started = Instant::now();
    let mut rest = Vec::new();
    tokio::time::timeout(within, tcp.read_to_end(&mut rest))
        .await
        .ok()
        .map(|_| started.elapsed())
}

/// Read one answer from `tcp`: its status line and its JSON body.
async fn answer(tcp: &mut TcpStream) -> (String, Value) {
    let mut seen = Vec::new();
    let mut buf = [0u8; 4096];
    let read = async {
        loop {
            if let Some(at) = seen.windows(4).position(|w| w == b"\r\n\r\n") {
                let head = String::from_utf8_lossy(&seen[..at]).to_lowercase();
                let length: usize = head
                    .lines()
                    .find_map(|l| l.strip_prefix("content-length: "))
                    .map_or(0, |v| v.trim().parse().unwrap());
                if seen.len() >= at + 4 + length {
                    let status = head.lines().next().unwrap().to_owned();
                    let body = serde_json::from_slice(&seen[at + 4..at + 4 + length]).unwrap();
                    return (status, body);
                }
            }
            let n = tcp.read(&mut buf).await.unwrap();
            assert!(n > 0, "closed before a whole answer: {seen:?}");
            seen.extend_from_slice(&buf[..n]);
        }
    };
    tokio::time::timeout(Duration::from_secs(10), read)
        .await
        .expect("an answer")
}

fn post_head(path: &str, key: &str, length: usize) -> String {
    format!(
        "POST {path} HTTP/1.1\r\nhost: gateway\r\nauthorization: Bearer {key}\r\nx-api-key: {key}\r\ncontent-type: application/json\r\ncontent-length: {length}\r\n\r\n"
    )
}

/// A connection that has sent the head of a POST of `body` to `path` and
/// its first 10 bytes, and then stalls.
async fn stalled_post(gw: &Gateway, path: &str, key: &str, body: &str) -> TcpStream {
    let mut tcp = connect(gw).await;
    tcp.write_all(post_head(path, key, body.len()).as_bytes())
        .await
        .unwrap();
    tcp.write_all(&body.as_bytes()[..10]).await.unwrap();
    tcp
}

fn chat() -> String {
    json!({"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]}).to_string()
}

#[tokio::test]
async fn connections_that_send_no_request_head_in_time_are_closed() {
    let (gw, key, _up) = gateway("1").await;
    let window = Duration::from_secs(5);

    // Silent from the start.
    let mut silent = connect(&gw).await;
    // Sending a head a byte every 300 ms: never whole within the second.
    let mut trickling = connect(&gw).await;
    let trickle = tokio::spawn(async move {
        for byte in b"GET /api/status HTTP/1.1\r\nhost: gateway\r\n" {
            if trickling.write_all(&[*byte]).await.is_err() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
        closed_after(&mut trickling, window).await
    });
    let silent_for = closed_after(&mut silent, window).await.expect("closed");
    assert!(silent_for >= Duration::from_millis(900), "{silent_for:?}");
    let trickled_for = trickle.await.unwrap();
    assert!(trickled_for.is_some(), "the trickling client was closed");

    // A keep-alive connection serves requests while they come within the
    // timeout, each one restarting it, and is closed once idle past it.
    let mut kept = connect(&gw).await;
    for _ in 0..3 {
        kept.write_all(post_head("/v1/chat/completions", &key, chat().len()).as_bytes())
            .await
            .unwrap();
        kept.write_all(chat().as_bytes()).await.unwrap();
        let (status, body) = answer(&mut kept).await;
        assert_eq!(status, "http/1.1 200 ok", "{body}");
        assert_eq!(body["choices"][0]["message"]["content"], "Hello!");
        tokio::time::sleep(Duration::from_millis(600)).await;
    }
    let idle_for = closed_after(&mut kept, window).await.expect("closed");
    assert!(idle_for < Duration::from_secs(2), "{idle_for:?}");
    gw.stop().await;
}

#[tokio::test]
async fn a_request_body_that_stalls_is_answered_408_in_the_clients_protocol() {
    let (gw, key, up) = gateway("1").await;
    let body = chat();

    let mut openai = stalled_post(&gw, "/v1/chat/completions", &key, &body).await;
    let started = Instant::now();
    let (status, error) = answer(&mut openai).await;
    assert!(started.elapsed() >= Duration::from_millis(900));
    assert_eq!(status, "http/1.1 408 request timeout", "{error}");
    assert_eq!(error["error"]["code"], "request_timeout", "{error}");
    assert_eq!(error["error"]["type"], "invalid_request_error");
    assert!(
        error["error"]["message"]
            .as_str()
            .unwrap()
            .contains("stalled"),
        "{error}"
    );
    assert!(error["aiproxy"].as_str().is_some_and(|id| !id.is_empty()));

    let claude = json!({"model": "gpt-4o", "max_tokens": 16, "messages": [{"role": "user", "content": "hi"}]}).to_string();
    let mut anthropic = stalled_post(&gw, "/v1/messages", &key, &claude).await;
    let (status, error) = answer(&mut anthropic).await;
    assert_eq!(status, "http/1.1 408 request timeout", "{error}");
    assert_eq!(error["type"], "error", "{error}");
    assert_eq!(error["error"]["type"], "invalid_request_error");

    assert_eq!(up.hits(), 0, "nothing stalled reached the upstream");
    gw.stop().await;
}

#[tokio::test]
async fn a_body_that_keeps_coming_slowly_is_relayed() {
    let (gw, key, up) = gateway("1").await;
    let body = chat();
    let mut tcp = connect(&gw).await;
    tcp.write_all(post_head("/v1/chat/completions", &key, body.len()).as_bytes())
        .await
        .unwrap();
    // Four parts 600 ms apart: 1.8 s in all, no gap as long as the timeout.
    let parts = body.as_bytes().chunks(body.len().div_ceil(4));
    for part in parts {
        tokio::time::sleep(Duration::from_millis(600)).await;
        tcp.write_all(part).await.unwrap();
    }
    let (status, answer) = answer(&mut tcp).await;
    assert_eq!(status, "http/1.1 200 ok", "{answer}");
    assert_eq!(answer["choices"][0]["message"]["content"], "Hello!");
    assert_eq!(up.hits(), 1);
    gw.stop().await;
}

#[tokio::test]
async fn zero_turns_the_client_idle_timeout_off() {
    let (gw, key, _up) = gateway("0").await;
    let body = chat();
    let mut silent = connect(&gw).await;
    let mut stalled = stalled_post(&gw, "/v1/chat/completions", &key, &body).await;
    let window = Duration::from_millis(2500);
    let (silent_closed, stalled_closed) = tokio::join!(
        closed_after(&mut silent, window),
        closed_after(&mut stalled, window)
    );
    assert_eq!(silent_closed, None, "a silent connection stays open");
    assert_eq!(stalled_closed, None, "a stalled body is still awaited");
    // The stalled request still completes when the rest of its body comes.
    stalled.write_all(&body.as_bytes()[10..]).await.unwrap();
    let (status, answer) = answer(&mut stalled).await;
    assert_eq!(status, "http/1.1 200 ok", "{answer}");
    gw.stop().await;
}

#[tokio::test]
async fn http2_is_told_from_a_preface_split_across_writes_and_a_stalled_one_is_closed() {
    const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
    // An empty SETTINGS frame: length 0, type 4, no flags, stream 0.
    const SETTINGS: [u8; 9] = [0, 0, 0, 4, 0, 0, 0, 0, 0];
    let (gw, _key, _up) = gateway("1").await;

    let mut split = connect(&gw).await;
    split.write_all(&PREFACE[..10]).await.unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    split.write_all(&PREFACE[10..]).await.unwrap();
    split.write_all(&SETTINGS).await.unwrap();
    let mut frame = [0u8; 9];
    tokio::time::timeout(Duration::from_secs(5), split.read_exact(&mut frame))
        .await
        .expect("the server's first frame")
        .unwrap();
    assert_eq!(
        frame[3], 4,
        "the server answers with its SETTINGS: {frame:?}"
    );

    let mut stalled = connect(&gw).await;
    stalled.write_all(&PREFACE[..10]).await.unwrap();
    let closed = closed_after(&mut stalled, Duration::from_secs(5)).await;
    assert!(
        closed.is_some(),
        "a half-sent preface is not waited on for ever"
    );
    // An HTTP/2 connection is closed at shutdown once its client has
    // acknowledged the GOAWAY: this one never would.
    drop(split);
    gw.stop().await;
}

/// The type of each HTTP/2 frame the server sends on `tcp` until it closes
/// the connection (or `within` passes), and how long that took.
async fn frames_until_closed(tcp: &mut TcpStream, within: Duration) -> (Vec<u8>, Option<Duration>) {
    let started = Instant::now();
    let mut types = Vec::new();
    let read = async {
        let mut head = [0u8; 9];
        while tcp.read_exact(&mut head).await.is_ok() {
            types.push(head[3]);
            let length =
                usize::from(head[0]) << 16 | usize::from(head[1]) << 8 | usize::from(head[2]);
            let mut payload = vec![0u8; length];
            if tcp.read_exact(&mut payload).await.is_err() {
                break;
            }
        }
    };
    let closed = tokio::time::timeout(within, read)
        .await
        .ok()
        .map(|()| started.elapsed());
    (types, closed)
}

#[tokio::test]
async fn an_http2_client_that_leaves_a_ping_unanswered_is_closed_and_one_that_answers_is_kept() {
    const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
    const SETTINGS: [u8; 9] = [0, 0, 0, 4, 0, 0, 0, 0, 0];
    const PING: u8 = 6;
    const GOAWAY: u8 = 7;
    let (gw, _key, _up) = gateway("1").await;

    // A client that opens the connection, then never sends another frame.
    let mut mute = connect(&gw).await;
    mute.write_all(PREFACE).await.unwrap();
    mute.write_all(&SETTINGS).await.unwrap();
    let (types, closed) = frames_until_closed(&mut mute, Duration::from_secs(8)).await;
    let closed = closed.expect("a client that answers no ping is not kept");
    assert!(
        types.contains(&PING),
        "pinged before being closed: {types:?}"
    );
    assert!(types.contains(&GOAWAY), "told why: {types:?}");
    assert!(
        closed >= Duration::from_millis(1800),
        "a quiet spell, then a ping's wait: {closed:?}"
    );

    // A client whose HTTP/2 stack answers pings keeps its connection through
    // quiet spells longer than the timeout.
    let tcp = connect(&gw).await;
    let (mut sender, connection) =
        hyper::client::conn::http2::Builder::new(hyper_util::rt::TokioExecutor::new())
            .handshake::<_, String>(hyper_util::rt::TokioIo::new(tcp))
            .await
            .unwrap();
    let driven = tokio::spawn(connection);
    for _ in 0..2 {
        let status = hyper::Request::get(format!("{}/api/status", gw.url))
            .body(String::new())
            .unwrap();
        let response = sender.send_request(status).await.unwrap();
        assert_eq!(response.status(), 200);
        tokio::time::sleep(Duration::from_millis(3200)).await;
        assert!(
            !driven.is_finished(),
            "the answering client is kept after 3.2 s quiet"
        );
    }
    drop(sender);
    gw.stop().await;
}

#[tokio::test]
async fn answers_that_take_longer_than_the_timeout_are_not_cut() {
    let frames = chat_sse(
        "gpt-4o",
        &["a", "b", "c"],
        Some((5, 3)),
        Duration::from_millis(600),
    );
    let expected = frames_text(frames.clone());
    let up = FakeUpstream::start(move |_, n| match n {
        0 => Reply::Delay(
            Duration::from_millis(1800),
            Box::new(Reply::Json(200, chat_json("gpt-4o", "late", Some((9, 3))))),
        ),
        _ => Reply::Sse(frames.clone()),
    })
    .await;
    let (gw, key, _up) = gateway_before(up, "1").await;
    let slow = gw
        .post(
            "/v1/chat/completions",
            &key,
            &serde_json::from_str(&chat()).unwrap(),
        )
        .await;
    assert_eq!(slow.status, 200, "{}", slow.text);
    assert_eq!(slow.json["choices"][0]["message"]["content"], "late");

    let streamed =
        json!({"model": "gpt-4o", "stream": true, "messages": [{"role": "user", "content": "hi"}]});
    let stream = gw.post("/v1/chat/completions", &key, &streamed).await;
    assert_eq!(stream.status, 200, "{}", stream.text);
    // 2.4 s of events, all relayed (the usage chunk the gateway asked for
    // is not passed on: the client did not ask for it).
    let without_usage: String = expected
        .split_inclusive("\n\n")
        .filter(|frame| !frame.contains("\"usage\""))
        .collect();
    assert_eq!(stream.text, without_usage);
    gw.stop().await;
}
