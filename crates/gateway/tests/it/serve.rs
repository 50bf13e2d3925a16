//! The accept loop and its shutdown: HTTP/1.1 keep-alive and HTTP/2 with
//! prior knowledge are served; on shutdown an idle connection is closed at
//! once (not held until the shutdown timeout), a request in flight on
//! another connection is answered, and no new connection is accepted.

use std::time::{Duration, Instant};

use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::support::upstream::chat_json;
use crate::support::{FakeUpstream, Gateway, Reply};

fn chat() -> serde_json::Value {
    json!({"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]})
}

/// Send one HTTP/1.1 request on `tcp` and read its answer's head.
async fn status_on(tcp: &mut TcpStream, path: &str) -> String {
    let request = format!("GET {path} HTTP/1.1\r\nHost: gateway\r\n\r\n");
    tcp.write_all(request.as_bytes()).await.unwrap();
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        assert_eq!(tcp.read(&mut byte).await.unwrap(), 1, "connection closed");
        head.push(byte[0]);
    }
    let head = String::from_utf8(head).unwrap();
    head.lines().next().unwrap().to_owned()
}

#[tokio::test]
async fn shutdown_closes_idle_connections_answers_in_flight_ones_and_stops_accepting() {
    // One answer takes a second, so it is in flight when the shutdown starts.
    let up = FakeUpstream::start(|_, _| {
        Reply::Delay(
            Duration::from_millis(1000),
            Box::new(Reply::Json(200, chat_json("gpt-4o", "late", Some((3, 1))))),
        )
    })
    .await;
    let (gw, key) = Gateway::with_one_channel(&up, json!({})).await;
    let address = gw.url.trim_start_matches("http://").to_owned();

    let mut idle = TcpStream::connect(&address).await.unwrap();
    // Any status will do: the connection is open and has served a request.
    let first = status_on(&mut idle, "/api/status").await;
    assert!(first.starts_with("HTTP/1.1 "), "{first}");

    let slow = {
        let http = gw.http.clone();
        let url = format!("{}/v1/chat/completions", gw.url);
        tokio::spawn(async move {
            http.post(url)
                .bearer_auth(key)
                .header("content-type", "application/json")
                .body(chat().to_string())
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap()
        })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    let started = Instant::now();
    let stopping = tokio::spawn(gw.stop());

    // The idle connection is closed by the gateway well before the 30 s
    // shutdown timeout.
    let mut rest = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(5), idle.read_to_end(&mut rest)).await;
    assert!(read.is_ok(), "the idle connection was not closed");
    assert!(started.elapsed() < Duration::from_secs(5));

    let answer = slow.await.unwrap();
    assert!(
        answer.contains("late"),
        "the in-flight request was answered: {answer}"
    );
    tokio::time::timeout(Duration::from_secs(10), stopping)
        .await
        .expect("the server stopped once its connections finished")
        .unwrap();
    assert!(
        TcpStream::connect(&address).await.is_err(),
        "no connection is accepted after the shutdown"
    );
}

#[tokio::test]
async fn http2_with_prior_knowledge_is_served() {
    let up =
        FakeUpstream::start(|_, _| Reply::Json(200, chat_json("gpt-4o", "Hello!", Some((9, 3)))))
            .await;
    let (gw, key) = Gateway::with_one_channel(&up, json!({})).await;
    let h2 = reqwest::Client::builder()
        .http2_prior_knowledge()
        .build()
        .unwrap();
    let response = h2
        .post(format!("{}/v1/chat/completions", gw.url))
        .bearer_auth(&key)
        .header("content-type", "application/json")
        .body(chat().to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(response.version(), reqwest::Version::HTTP_2);
    assert_eq!(response.status(), 200);
    let body: serde_json::Value = serde_json::from_str(&response.text().await.unwrap()).unwrap();
    assert_eq!(body["choices"][0]["message"]["content"], "Hello!");
    gw.stop().await;
}
