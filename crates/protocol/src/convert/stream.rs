//! Incremental stream conversion: a [`StreamDecoder`] turns one upstream
//! SSE event at a time into canonical [`StreamEvent`]s, a [`StreamEncoder`]
//! turns each canonical event into zero or more client events, and
//! [`StreamConverter`] chains the two. Nothing waits for the whole answer:
//! every upstream event is converted as soon as it arrives (the Anthropic
//! encoder only holds back what its dialect cannot express yet, see
//! [`AnthropicStreamEncoder`](super::anthropic::AnthropicStreamEncoder)).

use bytes::BytesMut;
use serde::Serialize;

use super::ConvertError;
use crate::Usage;
use crate::ir::{self, StreamEvent};
use crate::sse::{SseEvent, encode_event};

/// Decodes an upstream dialect's stream into canonical events.
pub trait StreamDecoder {
    /// Decodes one upstream SSE event (`event:` name, if any, and `data`),
    /// appending the canonical events it yields to `out`.
    ///
    /// # Errors
    /// Malformed data. Nothing is appended then; the caller usually ends
    /// the client stream with [`StreamConverter::abort`].
    fn decode(
        &mut self,
        event: Option<&str>,
        data: &[u8],
        out: &mut Vec<StreamEvent>,
    ) -> Result<(), ConvertError>;

    /// The upstream body ended. Appends the closing events if the stream
    /// was complete, or an [`StreamEvent::Error`] if it was cut short.
    /// Appends nothing if the stream already ended.
    fn finish(&mut self, out: &mut Vec<StreamEvent>);

    /// The prompt's counts as the upstream reported them before its final
    /// usage ([`Usage::input_only`]): Anthropic's `message_start`, Gemini's
    /// `usageMetadata` on any chunk. A stream cut before its final usage is
    /// billed these for its input and an estimate for its output. `None`
    /// until reported, and always for dialects that report usage only at
    /// the end.
    fn input_usage(&self) -> Option<Usage> {
        None
    }
}

/// Encodes canonical events into a client dialect's stream.
pub trait StreamEncoder {
    /// One client event (serialised as the SSE `data`).
    type Item: Serialize;

    /// Appends the client events for one canonical event.
    fn encode_event(&mut self, event: &StreamEvent, out: &mut Vec<Self::Item>);

    /// The SSE `event:` name for an item, if the dialect uses names.
    fn event_name(item: &Self::Item) -> Option<&'static str>;

    /// Encodes one canonical event straight to SSE bytes.
    fn encode(&mut self, event: &StreamEvent, out: &mut BytesMut) {
        let mut items = Vec::new();
        self.encode_event(event, &mut items);
        write_sse::<Self>(&items, out);
    }
}

/// Writes items as SSE events.
pub fn write_sse<E: StreamEncoder + ?Sized>(items: &[E::Item], out: &mut BytesMut) {
    for item in items {
        // Serialising these types cannot fail (string keys, no custom
        // serialisers that error on valid data); skip rather than panic.
        if let Ok(data) = serde_json::to_vec(item) {
            encode_event(out, E::event_name(item).map(str::as_bytes), &data);
        }
    }
}

/// A decoder and an encoder chained: upstream SSE events in, client SSE
/// bytes out, plus the final usage for metering.
///
/// The caller feeds each upstream event to [`push`](Self::push) as the SSE
/// decoder yields it, calls [`finish`](Self::finish) when the upstream body
/// ends, and [`abort`](Self::abort) on an upstream I/O failure. For OpenAI
/// clients the caller writes the final `data: [DONE]` itself after a normal
/// end (it is not a JSON event).
#[derive(Debug)]
pub struct StreamConverter<D, E> {
    decoder: D,
    encoder: E,
    scratch: Vec<StreamEvent>,
    usage: Option<Usage>,
    ended: bool,
    failed: bool,
}

impl<D: StreamDecoder, E: StreamEncoder> StreamConverter<D, E> {
    /// Chains `decoder` into `encoder`.
    pub fn new(decoder: D, encoder: E) -> Self {
        Self {
            decoder,
            encoder,
            scratch: Vec::new(),
            usage: None,
            ended: false,
            failed: false,
        }
    }

    /// Converts one upstream event, appending client SSE bytes to `out`.
    ///
    /// # Errors
    /// The upstream event was malformed; nothing was written.
    pub fn push(
        &mut self,
        event: Option<&str>,
        data: &[u8],
        out: &mut BytesMut,
    ) -> Result<(), ConvertError> {
        if self.ended {
            return Ok(());
        }
        self.scratch.clear();
        self.decoder.decode(event, data, &mut self.scratch)?;
        self.flush(out);
        Ok(())
    }

    /// Like [`push`](Self::push), but appends the client events as typed
    /// values instead of SSE bytes (for callers that post-process them).
    ///
    /// # Errors
    /// As [`push`](Self::push).
    pub fn push_items(
        &mut self,
        event: Option<&str>,
        data: &[u8],
        out: &mut Vec<E::Item>,
    ) -> Result<(), ConvertError> {
        if self.ended {
            return Ok(());
        }
        self.scratch.clear();
        self.decoder.decode(event, data, &mut self.scratch)?;
        let events = std::mem::take(&mut self.scratch);
        for event in &events {
            if !self.track(event) {
                break;
            }
            self.encoder.encode_event(event, out);
        }
        self.scratch = events;
        Ok(())
    }

    /// [`push`](Self::push) for a decoded [`SseEvent`].
    ///
    /// # Errors
    /// As [`push`](Self::push).
    pub fn push_sse(&mut self, event: &SseEvent, out: &mut BytesMut) -> Result<(), ConvertError> {
        self.push(event.event_name(), &event.data, out)
    }

    /// The upstream body ended: writes the closing events (or an error
    /// event if the upstream stopped mid-answer).
    pub fn finish(&mut self, out: &mut BytesMut) {
        if self.ended {
            return;
        }
        self.scratch.clear();
        self.decoder.finish(&mut self.scratch);
        self.flush(out);
    }

    /// Ends the client stream with `error` in the client's dialect (upstream
    /// I/O failure, malformed upstream data, timeout). No-op once ended.
    pub fn abort(&mut self, error: ir::Error, out: &mut BytesMut) {
        if self.ended {
            return;
        }
        self.scratch.clear();
        self.scratch.push(StreamEvent::Error(error));
        self.flush(out);
    }

    /// The final usage reported by the upstream, once seen (reported once,
    /// never summed).
    pub fn usage(&self) -> Option<Usage> {
        self.usage
    }

    /// Whether the stream has ended (normally or with an error).
    pub fn is_ended(&self) -> bool {
        self.ended
    }

    /// Whether the stream ended with an error event.
    pub fn is_failed(&self) -> bool {
        self.failed
    }

    fn flush(&mut self, out: &mut BytesMut) {
        let events = std::mem::take(&mut self.scratch);
        for event in &events {
            if !self.track(event) {
                break;
            }
            self.encoder.encode(event, out);
        }
        self.scratch = events;
    }

    /// Records what the converter must know about `event`; false once the
    /// stream has already ended (the event must not be encoded).
    fn track(&mut self, event: &StreamEvent) -> bool {
        if self.ended {
            return false;
        }
        match event {
            StreamEvent::Usage(usage) => self.usage = Some(*usage),
            StreamEvent::Done => self.ended = true,
            StreamEvent::Error(_) => {
                self.ended = true;
                self.failed = true;
            }
            _ => {}
        }
        true
    }
}
