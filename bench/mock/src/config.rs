//! Mock configuration: command-line flags (each with an environment variable) and the
//! per-request overrides read from `x-mock-*` headers.

use std::net::SocketAddr;
use std::time::Duration;

use http::HeaderMap;
use http::header::HeaderName;

/// Default number of content chunks in a streamed response.
pub const DEFAULT_CHUNKS: u32 = 50;
/// Default approximate size, in bytes, of the generated response text.
pub const DEFAULT_RESPONSE_BYTES: usize = 256;
/// Default embedding vector length.
pub const DEFAULT_EMBEDDING_DIMS: usize = 1536;
/// Default listen address.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:9000";

/// Settings of the mock server. Every behaviour knob can be overridden per request by
/// the matching `x-mock-*` header (see [`Knobs::with_headers`]).
#[derive(Debug, Clone, clap::Parser)]
#[command(
    name = "switchyard-mock",
    version,
    about = "Fast mock LLM upstream (OpenAI, Anthropic, Gemini) for benchmarks"
)]
pub struct MockConfig {
    /// Address to listen on (port 0 picks a free port; the bound address is printed).
    #[arg(long, env = "MOCK_LISTEN", default_value = DEFAULT_LISTEN)]
    pub listen: SocketAddr,
    /// Tokio worker threads (binary only; the library runs on the caller's runtime).
    #[arg(long, env = "MOCK_THREADS", default_value_t = 1)]
    pub threads: usize,
    /// Delay before the response headers, in milliseconds (fractions allowed).
    #[arg(long = "latency-ms", env = "MOCK_LATENCY_MS", default_value_t = 0.0)]
    pub latency_ms: f64,
    /// Number of content chunks in a streamed response.
    #[arg(long, env = "MOCK_CHUNKS", default_value_t = DEFAULT_CHUNKS)]
    pub chunks: u32,
    /// Delay before each streamed content chunk, in milliseconds (deadline schedule).
    #[arg(
        long = "chunk-delay-ms",
        env = "MOCK_CHUNK_DELAY_MS",
        default_value_t = 0.0
    )]
    pub chunk_delay_ms: f64,
    /// Fraction (0..1) of requests answered with `--error-status`.
    #[arg(long = "error-rate", env = "MOCK_ERROR_RATE", default_value_t = 0.0)]
    pub error_rate: f64,
    /// HTTP status of injected errors.
    #[arg(
        long = "error-status",
        env = "MOCK_ERROR_STATUS",
        default_value_t = 500
    )]
    pub error_status: u16,
    /// Approximate size in bytes of the generated completion text.
    #[arg(long = "response-bytes", env = "MOCK_RESPONSE_BYTES", default_value_t = DEFAULT_RESPONSE_BYTES)]
    pub response_bytes: usize,
    /// Length of each embedding vector (a request's `dimensions` field overrides it).
    #[arg(long = "embedding-dims", env = "MOCK_EMBEDDING_DIMS", default_value_t = DEFAULT_EMBEDDING_DIMS)]
    pub embedding_dims: usize,
}

impl Default for MockConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 9000)),
            threads: 1,
            latency_ms: 0.0,
            chunks: DEFAULT_CHUNKS,
            chunk_delay_ms: 0.0,
            error_rate: 0.0,
            error_status: 500,
            response_bytes: DEFAULT_RESPONSE_BYTES,
            embedding_dims: DEFAULT_EMBEDDING_DIMS,
        }
    }
}

/// The behaviour of one request: the configured defaults with header overrides applied.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Knobs {
    /// Delay before the response headers.
    pub latency: Duration,
    /// Number of streamed content chunks.
    pub chunks: u32,
    /// Delay before each streamed content chunk.
    pub chunk_delay: Duration,
    /// Fraction of requests answered with an error.
    pub error_rate: f64,
    /// Status of injected errors.
    pub error_status: u16,
    /// Approximate generated text size.
    pub response_bytes: usize,
}

const H_LATENCY: HeaderName = HeaderName::from_static("x-mock-latency-ms");
const H_CHUNKS: HeaderName = HeaderName::from_static("x-mock-chunks");
const H_CHUNK_DELAY: HeaderName = HeaderName::from_static("x-mock-chunk-delay-ms");
const H_ERROR_RATE: HeaderName = HeaderName::from_static("x-mock-error-rate");
const H_ERROR_STATUS: HeaderName = HeaderName::from_static("x-mock-error-status");
const H_RESPONSE_BYTES: HeaderName = HeaderName::from_static("x-mock-response-bytes");

impl Knobs {
    /// The defaults from the configuration.
    pub fn from_config(config: &MockConfig) -> Self {
        Self {
            latency: millis(config.latency_ms),
            chunks: config.chunks,
            chunk_delay: millis(config.chunk_delay_ms),
            error_rate: config.error_rate.clamp(0.0, 1.0),
            error_status: valid_status(config.error_status).unwrap_or(500),
            response_bytes: config.response_bytes,
        }
    }

    /// Applies the `x-mock-*` header overrides; unparsable values are ignored.
    pub fn with_headers(mut self, headers: &HeaderMap) -> Self {
        if let Some(v) = header::<f64>(headers, &H_LATENCY) {
            self.latency = millis(v);
        }
        if let Some(v) = header::<u32>(headers, &H_CHUNKS) {
            self.chunks = v;
        }
        if let Some(v) = header::<f64>(headers, &H_CHUNK_DELAY) {
            self.chunk_delay = millis(v);
        }
        if let Some(v) = header::<f64>(headers, &H_ERROR_RATE) {
            self.error_rate = v.clamp(0.0, 1.0);
        }
        if let Some(v) = header::<u16>(headers, &H_ERROR_STATUS).and_then(valid_status) {
            self.error_status = v;
        }
        if let Some(v) = header::<usize>(headers, &H_RESPONSE_BYTES) {
            self.response_bytes = v;
        }
        self
    }
}

/// Converts fractional milliseconds into a duration (negative and NaN become zero).
fn millis(ms: f64) -> Duration {
    if ms.is_finite() && ms > 0.0 {
        Duration::from_secs_f64(ms / 1000.0)
    } else {
        Duration::ZERO
    }
}

fn valid_status(code: u16) -> Option<u16> {
    (100..=599).contains(&code).then_some(code)
}

fn header<T: std::str::FromStr>(headers: &HeaderMap, name: &HeaderName) -> Option<T> {
    headers.get(name)?.to_str().ok()?.trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    #[test]
    fn headers_override_defaults() {
        let base = Knobs::from_config(&MockConfig::default());
        let mut h = HeaderMap::new();
        h.insert(H_LATENCY, HeaderValue::from_static("1.5"));
        h.insert(H_CHUNKS, HeaderValue::from_static("7"));
        h.insert(H_ERROR_STATUS, HeaderValue::from_static("999"));
        h.insert(H_ERROR_RATE, HeaderValue::from_static("3"));
        let k = base.with_headers(&h);
        assert_eq!(k.latency, Duration::from_micros(1500));
        assert_eq!(k.chunks, 7);
        assert_eq!(k.error_status, 500, "invalid status ignored");
        assert!((k.error_rate - 1.0).abs() < f64::EPSILON, "rate clamped");
        assert_eq!(k.response_bytes, DEFAULT_RESPONSE_BYTES);
    }
}
