//! Drives an in-process mock (port 0) with each load mode for about a second and
//! checks the reports: counts, zero errors, stream events, drops at the limit.

use std::time::Duration;

use http::{HeaderName, HeaderValue};
use switchyard_bench_load::{LoadConfig, Mode, chat_body, run};
use switchyard_bench_mock::{MockConfig, MockServer, run as mock};

async fn start() -> anyhow::Result<MockServer> {
    Ok(mock(MockConfig {
        listen: "127.0.0.1:0".parse()?,
        ..MockConfig::default()
    })
    .await?)
}

fn header(config: &mut LoadConfig, name: &'static str, value: &'static str) {
    config.headers.insert(
        HeaderName::from_static(name),
        HeaderValue::from_static(value),
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn open_loop_holds_the_rate() -> anyhow::Result<()> {
    let server = start().await?;
    let mut config = LoadConfig::new(&format!("http://{}/v1/chat/completions", server.addr()))?;
    config.mode = Mode::Rate(500.0);
    config.warmup = Duration::from_millis(200);
    config.duration = Duration::from_secs(1);
    let report = run(config).await?;
    assert_eq!(
        report.count, 500,
        "exactly rate × duration arrivals are measured"
    );
    assert_eq!(report.ok, 500, "{:?}", report.errors_by_kind);
    assert_eq!(report.latency_us.count, 500);
    assert!(report.latency_us.p50 > 0 && report.latency_us.p50 <= report.latency_us.p99);
    assert!(report.stream.is_none());
    assert_eq!(
        server.stats().requests.chat_completions,
        600,
        "warm-up requests are sent too"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn streams_mode_counts_every_event() -> anyhow::Result<()> {
    let server = start().await?;
    let mut config = LoadConfig::new(&format!("http://{}/v1/chat/completions", server.addr()))?;
    config.mode = Mode::Streams(20);
    config.body = chat_body("m", 1024, true, true);
    config.warmup = Duration::ZERO;
    config.duration = Duration::from_secs(1);
    config.expect_events = Some(54);
    header(&mut config, "x-mock-chunk-delay-ms", "2");
    let report = run(config).await?;
    assert_eq!(report.errors, 0, "{:?}", report.errors_by_kind);
    let stream = report.stream.unwrap_or_default();
    assert_eq!((stream.events_min, stream.events_max), (54, 54));
    assert_eq!(stream.events_total, 54 * report.ok);
    assert_eq!(stream.gap_us.count, 53 * report.ok);
    // 50 delayed chunks of 2 ms: the gaps add up to the stream's length,
    // so their mean is about the delay. (Not the median: on a busy host two
    // events can arrive in one read, which shortens one gap and lengthens
    // the next, and moves the median but not the mean.)
    assert!(
        (1_500.0..=6_000.0).contains(&stream.gap_us.mean),
        "gap mean {}",
        stream.gap_us.mean
    );
    assert!(report.latency_us.p50 >= 100_000, "a stream lasts 50 × 2 ms");
    let stats = server.stats();
    assert_eq!(
        stats.sse_events_sent, stream.events_total,
        "chunks in == chunks out"
    );
    assert_eq!(stats.streams_open, 0);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn saturate_mode_reports_throughput() -> anyhow::Result<()> {
    let server = start().await?;
    let mut config = LoadConfig::new(&format!("http://{}/v1/messages", server.addr()))?;
    config.mode = Mode::Saturate(4);
    config.warmup = Duration::from_millis(100);
    config.duration = Duration::from_millis(500);
    let report = run(config).await?;
    assert_eq!(report.errors, 0, "{:?}", report.errors_by_kind);
    assert!(report.achieved_rate > 100.0, "{}", report.achieved_rate);
    assert_eq!(report.max_in_flight, 4);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn arrivals_beyond_the_limit_are_dropped_not_delayed() -> anyhow::Result<()> {
    let server = start().await?;
    let mut config = LoadConfig::new(&format!("http://{}/v1/chat/completions", server.addr()))?;
    config.mode = Mode::Rate(100.0);
    config.concurrency_limit = 1;
    config.warmup = Duration::ZERO;
    config.duration = Duration::from_millis(500);
    header(&mut config, "x-mock-latency-ms", "45");
    let report = run(config).await?;
    assert_eq!(report.count, 50);
    assert!(report.dropped >= 30, "dropped {}", report.dropped);
    assert_eq!(report.ok + report.dropped, report.count);
    assert!(report.latency_us.p50 >= 45_000);
    Ok(())
}
