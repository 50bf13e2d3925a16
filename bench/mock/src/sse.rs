//! Streamed responses: a plan of events rendered into one buffer at request time, and a
//! body that hands each event to hyper as its own frame on a deadline schedule.
//!
//! Event `k` that carries content is released at `start + (k + 1) × chunk_delay`
//! (`start` = when the headers were sent), so timer lateness never accumulates. Framing
//! events (role chunk, `message_start`, `[DONE]`, …) go out without delay.

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use tokio::time::{Instant, Sleep};

use crate::stats::Stats;

/// How events are framed on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    /// `data: …\n\n`, optionally preceded by `event: NAME\n`.
    Sse,
    /// `data: …\r\n\r\n` (what Gemini sends).
    SseCrlf,
    /// A JSON array written element by element (Gemini without `alt=sse`).
    JsonArray,
}

#[derive(Debug, Clone, Copy)]
struct Span {
    end: usize,
    delayed: bool,
}

/// Renders the events of one stream into a single buffer.
#[derive(Debug)]
pub struct StreamBuilder {
    framing: Framing,
    buf: Vec<u8>,
    spans: Vec<Span>,
}

impl StreamBuilder {
    /// A builder for about `events` events of about `event_bytes` each.
    pub fn new(framing: Framing, events: usize, event_bytes: usize) -> Self {
        Self {
            framing,
            buf: Vec::with_capacity(events * (event_bytes + 16) + 16),
            spans: Vec::with_capacity(events),
        }
    }

    /// Appends one event; `write` renders its JSON payload. `delayed` events carry
    /// content and wait for their slot in the chunk-delay schedule.
    pub fn event(&mut self, name: Option<&str>, delayed: bool, write: impl FnOnce(&mut Vec<u8>)) {
        match self.framing {
            Framing::Sse | Framing::SseCrlf => {
                if let Some(name) = name {
                    self.buf.extend_from_slice(b"event: ");
                    self.buf.extend_from_slice(name.as_bytes());
                    self.buf.extend_from_slice(self.eol());
                }
                self.buf.extend_from_slice(b"data: ");
                write(&mut self.buf);
                let eol = self.eol();
                self.buf.extend_from_slice(eol);
                self.buf.extend_from_slice(eol);
            }
            Framing::JsonArray => {
                self.buf.extend_from_slice(if self.spans.is_empty() {
                    b"["
                } else {
                    b",\r\n"
                });
                write(&mut self.buf);
            }
        }
        self.spans.push(Span {
            end: self.buf.len(),
            delayed,
        });
    }

    fn eol(&self) -> &'static [u8] {
        if self.framing == Framing::SseCrlf {
            b"\r\n"
        } else {
            b"\n"
        }
    }

    /// Finishes the stream (closing the JSON array when that is the framing).
    pub fn finish(mut self) -> StreamPlan {
        if self.framing == Framing::JsonArray {
            if self.spans.is_empty() {
                self.buf.push(b'[');
            }
            self.buf.push(b']');
            match self.spans.last_mut() {
                Some(last) => last.end = self.buf.len(),
                None => self.spans.push(Span {
                    end: self.buf.len(),
                    delayed: false,
                }),
            }
        }
        StreamPlan {
            buf: Bytes::from(self.buf),
            spans: self.spans,
        }
    }
}

/// The rendered events of one stream.
#[derive(Debug, Clone)]
pub struct StreamPlan {
    buf: Bytes,
    spans: Vec<Span>,
}

impl StreamPlan {
    /// Number of events.
    pub fn len(&self) -> usize {
        self.spans.len()
    }

    /// Whether the plan has no events.
    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }

    /// The whole stream as one buffer (what a client receives).
    pub fn bytes(&self) -> &Bytes {
        &self.buf
    }

    /// Event `i` as a cheap slice of the buffer.
    fn event(&self, i: usize) -> Option<(Bytes, bool)> {
        let span = self.spans.get(i)?;
        let start = i
            .checked_sub(1)
            .and_then(|p| self.spans.get(p))
            .map_or(0, |p| p.end);
        Some((self.buf.slice(start..span.end), span.delayed))
    }
}

/// A response body that releases the events of a [`StreamPlan`] one frame at a time.
pub struct SseBody {
    plan: StreamPlan,
    next: usize,
    delayed_sent: u32,
    delay: Duration,
    start: Instant,
    sleep: Option<Pin<Box<Sleep>>>,
    stats: Arc<Stats>,
    finished: bool,
}

impl SseBody {
    /// Starts the schedule now; counts the stream as open until the body is dropped.
    pub fn new(plan: StreamPlan, delay: Duration, stats: Arc<Stats>) -> Self {
        stats.streams_started.fetch_add(1, Relaxed);
        stats.streams_open.fetch_add(1, Relaxed);
        Self {
            plan,
            next: 0,
            delayed_sent: 0,
            delay,
            start: Instant::now(),
            sleep: None,
            stats,
            finished: false,
        }
    }

    fn deadline(&self) -> Instant {
        self.start + self.delay * (self.delayed_sent + 1)
    }
}

impl Body for SseBody {
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = self.get_mut();
        let Some((bytes, delayed)) = this.plan.event(this.next) else {
            if !this.finished {
                this.finished = true;
                this.stats.streams_completed.fetch_add(1, Relaxed);
            }
            return Poll::Ready(None);
        };
        if delayed && !this.delay.is_zero() {
            let deadline = this.deadline();
            if Instant::now() < deadline {
                let sleep = this
                    .sleep
                    .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(deadline)));
                if sleep.deadline() != deadline {
                    sleep.as_mut().reset(deadline);
                }
                if sleep.as_mut().poll(cx).is_pending() {
                    return Poll::Pending;
                }
            }
        }
        this.next += 1;
        if delayed {
            this.delayed_sent += 1;
            this.stats.content_chunks_sent.fetch_add(1, Relaxed);
        }
        this.stats.sse_events_sent.fetch_add(1, Relaxed);
        this.stats.bytes_out.fetch_add(bytes.len() as u64, Relaxed);
        Poll::Ready(Some(Ok(Frame::data(bytes))))
    }

    fn is_end_stream(&self) -> bool {
        self.finished
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::default()
    }
}

impl Drop for SseBody {
    fn drop(&mut self) {
        self.stats.streams_open.fetch_sub(1, Relaxed);
        if !self.finished {
            self.stats.streams_aborted.fetch_add(1, Relaxed);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sse_framing_with_names() {
        let mut b = StreamBuilder::new(Framing::Sse, 2, 8);
        b.event(Some("ping"), false, |o| o.extend_from_slice(b"{}"));
        b.event(None, true, |o| o.extend_from_slice(b"[DONE]"));
        let plan = b.finish();
        assert_eq!(
            plan.bytes().as_ref(),
            b"event: ping\ndata: {}\n\ndata: [DONE]\n\n"
        );
        assert_eq!(plan.len(), 2);
        assert_eq!(
            plan.event(1).map(|e| e.0),
            Some(Bytes::from_static(b"data: [DONE]\n\n"))
        );
    }

    #[test]
    fn crlf_and_array_framing() {
        let mut b = StreamBuilder::new(Framing::SseCrlf, 1, 2);
        b.event(None, true, |o| o.extend_from_slice(b"{}"));
        assert_eq!(b.finish().bytes().as_ref(), b"data: {}\r\n\r\n");
        let mut b = StreamBuilder::new(Framing::JsonArray, 2, 2);
        b.event(None, true, |o| o.extend_from_slice(b"{}"));
        b.event(None, true, |o| o.extend_from_slice(b"{}"));
        let plan = b.finish();
        assert_eq!(plan.bytes().as_ref(), b"[{},\r\n{}]");
        assert_eq!(plan.len(), 2);
    }
}
