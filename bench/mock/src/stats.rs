//! Counters served at `GET /stats` so a harness can check, e.g., that the events a
//! client received equal the events the mock sent.

use std::sync::atomic::AtomicU64;
use std::sync::atomic::Ordering::Relaxed;

use serde::Serialize;

/// Which endpoint a request hit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    /// OpenAI `/v1/chat/completions`.
    ChatCompletions,
    /// OpenAI legacy `/v1/completions`.
    Completions,
    /// OpenAI `/v1/embeddings`.
    Embeddings,
    /// Anthropic `/v1/messages`.
    Messages,
    /// Gemini `…:generateContent` and `…:streamGenerateContent`.
    Gemini,
    /// `/health`.
    Health,
    /// Anything else.
    NotFound,
}

/// Live counters (all monotonic except `streams_open`).
#[derive(Debug, Default)]
pub struct Stats {
    /// Requests per endpoint, indexed like [`Endpoint`].
    requests: [AtomicU64; 7],
    /// TCP connections accepted.
    pub connections: AtomicU64,
    /// Request body bytes received.
    pub bytes_in: AtomicU64,
    /// Response body bytes produced.
    pub bytes_out: AtomicU64,
    /// Requests answered with an injected error.
    pub errors_injected: AtomicU64,
    /// Streams started.
    pub streams_started: AtomicU64,
    /// Streams whose last event was handed to the connection.
    pub streams_completed: AtomicU64,
    /// Streams dropped before their last event (client went away).
    pub streams_aborted: AtomicU64,
    /// Streams currently open.
    pub streams_open: AtomicU64,
    /// SSE events (or JSON-array elements) handed to the connection.
    pub sse_events_sent: AtomicU64,
    /// Content-carrying events among them.
    pub content_chunks_sent: AtomicU64,
}

/// A point-in-time copy of [`Stats`], as served by `GET /stats`.
#[derive(Debug, Clone, Default, Serialize, serde::Deserialize, PartialEq, Eq)]
pub struct StatsSnapshot {
    /// All requests, including `/health` and unknown paths (not `/stats`).
    pub requests_total: u64,
    /// Requests by endpoint.
    pub requests: EndpointCounts,
    /// TCP connections accepted (connection churn shows here).
    pub connections: u64,
    /// Request body bytes received.
    pub bytes_in: u64,
    /// Response body bytes produced.
    pub bytes_out: u64,
    /// Requests answered with an injected error.
    pub errors_injected: u64,
    /// Streams started.
    pub streams_started: u64,
    /// Streams fully sent.
    pub streams_completed: u64,
    /// Streams dropped early by the client.
    pub streams_aborted: u64,
    /// Streams open now.
    pub streams_open: u64,
    /// Stream events sent.
    pub sse_events_sent: u64,
    /// Content chunks sent.
    pub content_chunks_sent: u64,
}

/// Request counts by endpoint.
#[derive(Debug, Clone, Default, Serialize, serde::Deserialize, PartialEq, Eq)]
pub struct EndpointCounts {
    /// OpenAI chat completions.
    pub chat_completions: u64,
    /// OpenAI legacy completions.
    pub completions: u64,
    /// OpenAI embeddings.
    pub embeddings: u64,
    /// Anthropic messages.
    pub messages: u64,
    /// Gemini generateContent / streamGenerateContent.
    pub gemini: u64,
    /// Health checks.
    pub health: u64,
    /// Unknown paths.
    pub not_found: u64,
}

impl Stats {
    /// Counts one request to `endpoint`.
    pub fn hit(&self, endpoint: Endpoint) {
        self.requests[endpoint as usize].fetch_add(1, Relaxed);
    }

    /// Copies the counters.
    pub fn snapshot(&self) -> StatsSnapshot {
        let r = |e: Endpoint| self.requests[e as usize].load(Relaxed);
        let requests = EndpointCounts {
            chat_completions: r(Endpoint::ChatCompletions),
            completions: r(Endpoint::Completions),
            embeddings: r(Endpoint::Embeddings),
            messages: r(Endpoint::Messages),
            gemini: r(Endpoint::Gemini),
            health: r(Endpoint::Health),
            not_found: r(Endpoint::NotFound),
        };
        StatsSnapshot {
            requests_total: self.requests.iter().map(|c| c.load(Relaxed)).sum(),
            requests,
            connections: self.connections.load(Relaxed),
            bytes_in: self.bytes_in.load(Relaxed),
            bytes_out: self.bytes_out.load(Relaxed),
            errors_injected: self.errors_injected.load(Relaxed),
            streams_started: self.streams_started.load(Relaxed),
            streams_completed: self.streams_completed.load(Relaxed),
            streams_aborted: self.streams_aborted.load(Relaxed),
            streams_open: self.streams_open.load(Relaxed),
            sse_events_sent: self.sse_events_sent.load(Relaxed),
            content_chunks_sent: self.content_chunks_sent.load(Relaxed),
        }
    }

    /// Zeroes every counter except `streams_open`.
    pub fn reset(&self) {
        for c in &self.requests {
            c.store(0, Relaxed);
        }
        for c in [
            &self.connections,
            &self.bytes_in,
            &self.bytes_out,
            &self.errors_injected,
            &self.streams_started,
            &self.streams_completed,
            &self.streams_aborted,
            &self.sse_events_sent,
            &self.content_chunks_sent,
        ] {
            c.store(0, Relaxed);
        }
    }
}
