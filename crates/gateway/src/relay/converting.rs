//! Relaying a stream across protocols: each upstream SSE event is decoded
//! into canonical events and encoded for the client as it arrives. The
//! canonical events tell when output starts (the response is committed
//! then: the client-side encoder's opening events cannot be replayed for
//! another upstream) and an error before output is held back for a retry.
//! The prompt's counts an upstream reports before its final usage are kept,
//! so a stream cut short is billed them for its input.

use bytes::{Bytes, BytesMut};
use switchyard_protocol::convert::{StreamDecoder, StreamEncoder};
use switchyard_protocol::ir::{self, BlockKind, StreamEvent};
use switchyard_protocol::sse::{SseDecoder, SseError, SseItem, encode_comment};

use super::events::MAX_EVENT_BYTES;
use super::processor::{Continuation, Progress, StreamProcessor};

/// A stream converted from the upstream's protocol to the client's.
pub struct Converting<D, E> {
    sse: SseDecoder,
    decoder: D,
    encoder: E,
    progress: Progress,
    events: Vec<StreamEvent>,
    text: String,
    ended: bool,
    /// The client speaks OpenAI: a normal end is followed by `data: [DONE]`.
    openai_client: bool,
}

impl<D: StreamDecoder, E: StreamEncoder> Converting<D, E> {
    /// Chain `decoder` (upstream protocol) into `encoder` (client protocol).
    pub fn new(decoder: D, encoder: E, openai_client: bool) -> Self {
        Self {
            sse: SseDecoder::new(MAX_EVENT_BYTES),
            decoder,
            encoder,
            progress: Progress::default(),
            events: Vec::new(),
            text: String::new(),
            ended: false,
            openai_client,
        }
    }

    fn on_item(&mut self, item: SseItem, out: &mut BytesMut) {
        match item {
            SseItem::Comment(text) => encode_comment(out, &text),
            SseItem::Event(event) => {
                self.progress.events_in += 1;
                self.events.clear();
                if let Err(e) =
                    self.decoder
                        .decode(event.event_name(), &event.data, &mut self.events)
                {
                    self.progress.upstream_error = Some(format!("malformed upstream event: {e}"));
                    return;
                }
                if self.progress.input_usage.is_none() {
                    self.progress.input_usage = self.decoder.input_usage();
                }
                self.encode_pending(out);
            }
        }
    }

    fn encode_pending(&mut self, out: &mut BytesMut) {
        let events = std::mem::take(&mut self.events);
        for event in &events {
            if self.ended {
                break;
            }
            if !self.observe(event) {
                continue;
            }
            let before = out.len();
            self.encoder.encode(event, out);
            if out.len() > before {
                self.progress.events_out += 1;
            }
        }
        self.events = events;
    }

    /// Record what `event` shows; false when it must not reach the client.
    fn observe(&mut self, event: &StreamEvent) -> bool {
        match event {
            StreamEvent::MessageStart { id, .. } if self.progress.upstream_id.is_empty() => {
                self.progress.upstream_id.clone_from(id);
            }
            StreamEvent::BlockStart { kind, .. } => {
                if matches!(
                    kind,
                    BlockKind::ToolCall { .. } | BlockKind::RedactedThinking { .. }
                ) {
                    self.progress.saw_output = true;
                }
            }
            StreamEvent::TextDelta { text, .. } | StreamEvent::ThinkingDelta { text, .. } => {
                self.progress.saw_output = true;
                if self.progress.usage.is_none() {
                    self.text.push_str(text);
                }
            }
            StreamEvent::ToolArgsDelta { .. } | StreamEvent::Finish { .. } => {
                self.progress.saw_output = true
            }
            StreamEvent::Usage(usage) => self.progress.usage = Some(*usage),
            StreamEvent::Error(error) => {
                self.progress.upstream_error = Some(error.message.clone());
                if !self.progress.saw_output {
                    return false;
                }
                self.ended = true;
            }
            StreamEvent::Done => {
                self.progress.saw_end = true;
                self.ended = true;
            }
            _ => {}
        }
        true
    }
}

impl<D, E> StreamProcessor for Converting<D, E>
where
    D: StreamDecoder + Send,
    E: StreamEncoder + Send,
{
    fn feed(&mut self, chunk: &Bytes, out: &mut BytesMut) -> Result<(), SseError> {
        self.sse.push_shared(chunk)?;
        while let Some(item) = self.sse.next_item() {
            self.on_item(item, out);
        }
        Ok(())
    }

    fn finish(&mut self, out: &mut BytesMut) {
        while let Some(item) = self.sse.finish() {
            self.on_item(item, out);
        }
        if !self.ended {
            self.events.clear();
            self.decoder.finish(&mut self.events);
            self.encode_pending(out);
        }
        if self.openai_client && self.progress.saw_end && self.progress.upstream_error.is_none() {
            out.extend_from_slice(b"data: [DONE]\n\n");
            self.progress.events_out += 1;
        }
    }

    fn progress(&self) -> &Progress {
        &self.progress
    }

    fn take_output_text(&mut self, _sent: &[&[u8]]) -> String {
        std::mem::take(&mut self.text)
    }

    fn write_error(&mut self, out: &mut BytesMut, message: &str, kind: &str) {
        if self.ended && self.progress.upstream_error.is_none() {
            return;
        }
        let kind = if kind == "timeout_error" {
            ir::ErrorKind::Timeout
        } else {
            ir::ErrorKind::Api
        };
        let error = ir::Error::new(kind, message);
        self.encoder.encode(&StreamEvent::Error(error), out);
        self.ended = true;
    }

    fn ready(&self) -> bool {
        self.progress.saw_output || self.progress.saw_end
    }

    fn continuable(&self) -> bool {
        false
    }

    fn continuation(&self) -> Continuation {
        Continuation::default()
    }
}
