//! Command-line flags ([`LoadArgs`]) and the resolved run configuration ([`LoadConfig`]).

use std::time::Duration;

use bytes::Bytes;
use http::header::{CONTENT_TYPE, HeaderName, HeaderValue};
use http::{HeaderMap, Method, Uri};

use crate::LoadError;

/// How requests are issued.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum ModeName {
    /// Open loop: a fixed arrival rate.
    Rate,
    /// Closed loop: `--workers` back-to-back requesters, as fast as possible.
    Saturate,
    /// Closed loop: `--streams` streaming requests kept open continuously.
    Streams,
}

impl ModeName {
    /// The lowercase name used on the command line and in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            ModeName::Rate => "rate",
            ModeName::Saturate => "saturate",
            ModeName::Streams => "streams",
        }
    }
}

/// Command-line flags of `switchyard-load`.
#[derive(Debug, Clone, clap::Parser)]
#[command(
    name = "switchyard-load",
    version,
    about = "Open-loop HTTP load driver with SSE stream metrics"
)]
pub struct LoadArgs {
    /// Target URL (http:// only).
    #[arg(long)]
    pub url: String,
    /// HTTP method.
    #[arg(long, default_value = "POST")]
    pub method: String,
    /// Extra request header `K: V` (repeatable).
    #[arg(long = "header", short = 'H')]
    pub headers: Vec<String>,
    /// Request body read from a file (sent as is).
    #[arg(long, conflicts_with = "body_bytes")]
    pub body_file: Option<std::path::PathBuf>,
    /// Generate an OpenAI chat request padded to about N bytes (default 1024 for POST).
    #[arg(long)]
    pub body_bytes: Option<usize>,
    /// Model name in the generated body.
    #[arg(long, default_value = "mock-model")]
    pub model: String,
    /// Set `"stream": true` in the generated body (implied by `--mode streams`).
    #[arg(long)]
    pub stream: bool,
    /// Add `"stream_options": {"include_usage": true}` to a generated streaming body.
    #[arg(long)]
    pub include_usage: bool,
    /// Load mode (`--streams` alone selects `streams`).
    #[arg(long, value_enum)]
    pub mode: Option<ModeName>,
    /// Arrival rate in requests per second (rate mode).
    #[arg(long, default_value_t = 100.0)]
    pub rate: f64,
    /// Closed-loop workers (saturate mode).
    #[arg(long, default_value_t = 32)]
    pub workers: usize,
    /// Concurrent streams kept open (streams mode).
    #[arg(long)]
    pub streams: Option<usize>,
    /// Measured duration, e.g. `10s`, `500ms`, `2m`.
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    pub duration: Duration,
    /// Warm-up before measuring (requests sent, results discarded).
    #[arg(long, default_value = "2s", value_parser = parse_duration)]
    pub warmup: Duration,
    /// Per-request timeout, covering the whole response body.
    #[arg(long, default_value = "30s", value_parser = parse_duration)]
    pub timeout: Duration,
    /// Rate mode: maximum requests in flight; an arrival beyond it is dropped and reported.
    #[arg(long, default_value_t = 10_000)]
    pub concurrency_limit: usize,
    /// Idle keep-alive connections kept in the pool (more are opened when needed).
    #[arg(long, default_value_t = 256)]
    pub connections: usize,
    /// Use HTTP/2 with prior knowledge instead of HTTP/1.1.
    #[arg(long)]
    pub http2: bool,
    /// Count a streamed response whose SSE event count differs from N as an error.
    #[arg(long)]
    pub expect_events: Option<u64>,
    /// Tokio worker threads; 1 runs a current-thread runtime.
    #[arg(long, default_value_t = 1)]
    pub threads: usize,
    /// Print one JSON object instead of the table.
    #[arg(long)]
    pub json: bool,
    /// Free-form label copied into the report.
    #[arg(long)]
    pub label: Option<String>,
}

/// The load mode with its parameter.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Mode {
    /// Open loop at this many requests per second.
    Rate(f64),
    /// Closed loop with this many workers.
    Saturate(usize),
    /// Closed loop with this many concurrent streams.
    Streams(usize),
}

impl Mode {
    /// The mode's name.
    pub fn name(&self) -> ModeName {
        match self {
            Mode::Rate(_) => ModeName::Rate,
            Mode::Saturate(_) => ModeName::Saturate,
            Mode::Streams(_) => ModeName::Streams,
        }
    }
}

/// A resolved run configuration (what [`crate::run`] takes).
#[derive(Debug, Clone)]
pub struct LoadConfig {
    /// Target URL.
    pub url: Uri,
    /// HTTP method.
    pub method: Method,
    /// Request headers (a `content-type: application/json` is added for non-empty bodies).
    pub headers: HeaderMap,
    /// Request body, built once and shared by every request.
    pub body: Bytes,
    /// Load mode.
    pub mode: Mode,
    /// Measured duration.
    pub duration: Duration,
    /// Warm-up before measuring.
    pub warmup: Duration,
    /// Per-request timeout.
    pub timeout: Duration,
    /// Rate mode: maximum in-flight requests before arrivals are dropped.
    pub concurrency_limit: usize,
    /// Idle keep-alive connections kept in the pool.
    pub connections: usize,
    /// HTTP/2 prior knowledge.
    pub http2: bool,
    /// Expected SSE events per streamed response.
    pub expect_events: Option<u64>,
    /// Report label.
    pub label: Option<String>,
}

impl LoadConfig {
    /// A configuration with the CLI defaults: POST of a generated 1 KB chat request at
    /// 100 req/s for 10 s after a 2 s warm-up.
    pub fn new(url: &str) -> Result<Self, LoadError> {
        Ok(Self {
            url: parse_url(url)?,
            method: Method::POST,
            headers: json_headers(),
            body: chat_body("mock-model", 1024, false, false),
            mode: Mode::Rate(100.0),
            duration: Duration::from_secs(10),
            warmup: Duration::from_secs(2),
            timeout: Duration::from_secs(30),
            concurrency_limit: 10_000,
            connections: 256,
            http2: false,
            expect_events: None,
            label: None,
        })
    }

    /// Resolves parsed flags (reads `--body-file`, generates the body, checks values).
    pub fn from_args(args: &LoadArgs) -> Result<Self, LoadError> {
        let mode = match (args.mode, args.streams) {
            (Some(ModeName::Rate), _) | (None, None) => Mode::Rate(args.rate),
            (Some(ModeName::Saturate), _) => Mode::Saturate(args.workers),
            (Some(ModeName::Streams), s) | (None, s @ Some(_)) => {
                Mode::Streams(s.unwrap_or(args.workers))
            }
        };
        let method: Method = args
            .method
            .parse()
            .map_err(|_| LoadError::Config(format!("bad method {:?}", args.method)))?;
        let body = match (&args.body_file, args.body_bytes) {
            (Some(path), _) => Bytes::from(
                std::fs::read(path)
                    .map_err(|e| LoadError::Config(format!("{}: {e}", path.display())))?,
            ),
            (None, Some(n)) => chat_body(
                &args.model,
                n,
                args.stream || matches!(mode, Mode::Streams(_)),
                args.include_usage,
            ),
            (None, None) if method == Method::POST => chat_body(
                &args.model,
                1024,
                args.stream || matches!(mode, Mode::Streams(_)),
                args.include_usage,
            ),
            (None, None) => Bytes::new(),
        };
        let mut headers = HeaderMap::new();
        for h in &args.headers {
            let (k, v) = parse_header(h)?;
            headers.append(k, v);
        }
        if !body.is_empty() && !headers.contains_key(CONTENT_TYPE) {
            headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        }
        let config = Self {
            url: parse_url(&args.url)?,
            method,
            headers,
            body,
            mode,
            duration: args.duration,
            warmup: args.warmup,
            timeout: args.timeout,
            concurrency_limit: args.concurrency_limit,
            connections: args.connections,
            http2: args.http2,
            expect_events: args.expect_events,
            label: args.label.clone(),
        };
        config.validate()?;
        Ok(config)
    }

    /// Checks that the numbers make sense.
    pub fn validate(&self) -> Result<(), LoadError> {
        let bad = |m: &str| Err(LoadError::Config(m.to_string()));
        match self.mode {
            Mode::Rate(r) if !(r.is_finite() && r > 0.0) => return bad("--rate must be > 0"),
            Mode::Saturate(0) | Mode::Streams(0) => return bad("--workers/--streams must be > 0"),
            _ => {}
        }
        if self.duration.is_zero() {
            return bad("--duration must be > 0");
        }
        if self.concurrency_limit == 0 {
            return bad("--concurrency-limit must be > 0");
        }
        Ok(())
    }
}

fn json_headers() -> HeaderMap {
    let mut h = HeaderMap::new();
    h.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    h
}

fn parse_url(url: &str) -> Result<Uri, LoadError> {
    let uri: Uri = url
        .parse()
        .map_err(|e| LoadError::Config(format!("bad url {url:?}: {e}")))?;
    if uri.scheme_str() != Some("http") || uri.host().is_none() {
        return Err(LoadError::Config(format!(
            "url must be http://host[:port]/path, got {url:?}"
        )));
    }
    Ok(uri)
}

/// Parses `K: V` into a header.
pub fn parse_header(s: &str) -> Result<(HeaderName, HeaderValue), LoadError> {
    let bad = || LoadError::Config(format!("bad header {s:?}, expected 'Name: value'"));
    let (k, v) = s.split_once(':').ok_or_else(bad)?;
    let name = HeaderName::from_bytes(k.trim().as_bytes()).map_err(|_| bad())?;
    let value = HeaderValue::from_str(v.trim()).map_err(|_| bad())?;
    Ok((name, value))
}

/// Parses `10s`, `500ms`, `250us`, `2m`, `1h`, `1.5s`; a bare number is seconds.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let split = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let value: f64 = num.parse().map_err(|_| format!("bad duration {s:?}"))?;
    let secs = match unit.trim() {
        "" | "s" => value,
        "ms" => value / 1e3,
        "us" | "µs" => value / 1e6,
        "m" => value * 60.0,
        "h" => value * 3600.0,
        _ => return Err(format!("bad duration unit in {s:?} (use us, ms, s, m, h)")),
    };
    Duration::try_from_secs_f64(secs).map_err(|e| format!("bad duration {s:?}: {e}"))
}

/// An OpenAI chat request whose single user message is padded so the whole body is
/// about `bytes` long (never shorter than the JSON around the message).
pub fn chat_body(model: &str, bytes: usize, stream: bool, include_usage: bool) -> Bytes {
    let model = serde_json::to_string(model).unwrap_or_else(|_| "\"mock-model\"".to_string());
    let head = format!(r#"{{"model":{model},"messages":[{{"role":"user","content":""#);
    let tail = match (stream, include_usage) {
        (true, true) => r#""}],"stream":true,"stream_options":{"include_usage":true}}"#,
        (true, false) => r#""}],"stream":true}"#,
        (false, _) => r#""}],"stream":false}"#,
    };
    let pad = bytes.saturating_sub(head.len() + tail.len());
    let mut body = Vec::with_capacity(head.len() + pad + tail.len());
    body.extend_from_slice(head.as_bytes());
    body.extend(b"benchmark prompt text ".iter().copied().cycle().take(pad));
    body.extend_from_slice(tail.as_bytes());
    Bytes::from(body)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("10s"), Ok(Duration::from_secs(10)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("1.5"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("250us"), Ok(Duration::from_micros(250)));
        assert!(parse_duration("5 parsecs").is_err());
    }

    #[test]
    fn generated_body_has_requested_size_and_is_json() {
        for n in [0, 200, 1024, 100_000] {
            let body = chat_body("m\"x", n, true, true);
            assert!(body.len() == n || n < 120, "{n} -> {}", body.len());
            let v: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
            assert_eq!(v["model"], "m\"x");
            assert_eq!(v["stream_options"]["include_usage"], true);
        }
    }

    #[test]
    fn args_resolve() -> anyhow::Result<()> {
        let args = LoadArgs::try_parse_from([
            "switchyard-load",
            "--url",
            "http://127.0.0.1:1/v1/chat/completions",
            "-H",
            "authorization: Bearer x",
            "--streams",
            "10",
        ])?;
        let config = LoadConfig::from_args(&args)?;
        assert_eq!(config.mode, Mode::Streams(10));
        assert!(config.headers.contains_key("authorization"));
        assert!(memchr::memmem::find(&config.body, b"\"stream\":true").is_some());
        assert!(LoadConfig::new("https://x/").is_err());
        Ok(())
    }
}
