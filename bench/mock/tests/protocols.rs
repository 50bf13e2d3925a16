//! Starts the mock in-process on port 0 and drives every endpoint with the load
//! driver's library API: no errors, and each stream has the expected number of events.

use std::time::Duration;

use bytes::Bytes;
use http::{HeaderName, HeaderValue};
use switchyard_bench_load::{LoadConfig, Mode, Report, chat_body, run as load};
use switchyard_bench_mock::{MockConfig, run as mock};

const CHUNKS: u64 = 5;

async fn drive(url: &str, body: Bytes, expect_events: Option<u64>) -> anyhow::Result<Report> {
    let mut config = LoadConfig::new(url)?;
    config.body = body;
    config.mode = Mode::Streams(4);
    config.warmup = Duration::ZERO;
    config.duration = Duration::from_millis(150);
    config.expect_events = expect_events;
    config.headers.insert(
        HeaderName::from_static("x-mock-chunk-delay-ms"),
        HeaderValue::from_static("0.2"),
    );
    let report = load(config).await?;
    assert!(report.ok > 0, "{url}: no successful request");
    assert_eq!(report.errors, 0, "{url}: {:?}", report.errors_by_kind);
    match expect_events {
        Some(n) => {
            let s = report.stream.clone().unwrap_or_default();
            assert_eq!((s.events_min, s.events_max), (n, n), "{url}");
            assert_eq!(s.responses, report.ok);
        }
        None => assert!(report.stream.is_none(), "{url}: unexpected SSE"),
    }
    Ok(report)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_protocol_streams_and_answers() -> anyhow::Result<()> {
    let server = mock(MockConfig {
        listen: "127.0.0.1:0".parse()?,
        chunks: CHUNKS as u32,
        ..MockConfig::default()
    })
    .await?;
    let base = format!("http://{}", server.addr());
    let chat = format!("{base}/v1/chat/completions");
    let legacy = format!("{base}/v1/completions");
    let messages = format!("{base}/v1/messages");
    let gemini = format!("{base}/v1beta/models/gemini-x:generateContent");
    let gemini_sse = format!("{base}/v1beta/models/gemini-x:streamGenerateContent?alt=sse");
    let embeddings = format!("{base}/v1/embeddings");
    let plain = chat_body("m", 512, false, false);
    let stream = chat_body("m", 512, true, false);
    let stream_usage = chat_body("m", 512, true, true);

    let mut events = 0;
    for (url, body, expect) in [
        (&chat, plain.clone(), None),
        (&chat, stream.clone(), Some(CHUNKS + 3)),
        (&chat, stream_usage.clone(), Some(CHUNKS + 4)),
        (&legacy, plain.clone(), None),
        (&legacy, stream_usage.clone(), Some(CHUNKS + 3)),
        (&messages, plain.clone(), None),
        (&messages, stream.clone(), Some(CHUNKS + 5)),
        (&gemini, plain.clone(), None),
        (&gemini_sse, plain.clone(), Some(CHUNKS)),
        (
            &embeddings,
            Bytes::from_static(br#"{"model":"e","input":["a","b"]}"#),
            None,
        ),
    ] {
        let report = drive(url, body, expect).await?;
        events += report.stream.map_or(0, |s| s.events_total);
    }

    let stats = server.stats();
    assert_eq!(
        stats.sse_events_sent, events,
        "events out of the mock == events counted by the driver"
    );
    assert_eq!(stats.streams_open, 0);
    assert_eq!(stats.streams_aborted, 0);
    assert_eq!(stats.streams_started, stats.streams_completed);
    assert!(
        stats.requests.gemini > 0 && stats.requests.embeddings > 0 && stats.requests.messages > 0
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn injected_errors_use_the_protocol_shape() -> anyhow::Result<()> {
    let server = mock(MockConfig {
        listen: "127.0.0.1:0".parse()?,
        error_rate: 1.0,
        error_status: 503,
        ..MockConfig::default()
    })
    .await?;
    let mut config = LoadConfig::new(&format!("http://{}/v1/messages", server.addr()))?;
    config.mode = Mode::Rate(200.0);
    config.warmup = Duration::ZERO;
    config.duration = Duration::from_millis(200);
    let report = load(config).await?;
    assert_eq!(report.ok, 0);
    assert_eq!(report.errors_by_kind.get("status_503"), Some(&report.count));
    assert_eq!(server.stats().errors_injected, report.count);
    Ok(())
}
