//! Forwarding a Gemini or Responses stream to a client of the same protocol
//! byte for byte: each event as it arrives, metered through the dialect's
//! inspection functions, with the requested model name written into the
//! Responses lifecycle events, and an error before any output held back so
//! the relay can retry elsewhere.
//!
//! A Gemini stream has no opening events, so a failure before output can
//! continue on another channel; a Responses stream opens with
//! `response.created`, which cannot be replayed, so it is committed at its
//! first output instead. Once committed with output, a Responses read of
//! nothing but whole output deltas goes to the client as it came. (Every
//! Gemini chunk reports usage, so every one is read.)

use bytes::{Bytes, BytesMut};
use switchyard_protocol::convert;
use switchyard_protocol::inspect::{EventFacts, UsageTracker};
use switchyard_protocol::ir;
use switchyard_protocol::json::{
    Patch, ValueKind, quote_str, scan_object, scan_object_at, set_member,
};
use switchyard_protocol::sse::{
    SseDecoder, SseError, SseEvent, SseItem, encode_comment, encode_event,
};

use super::events::MAX_EVENT_BYTES;
use super::processor::{Continuation, Progress, StreamProcessor, take_whole_events};

/// Which same-protocol stream is forwarded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// Gemini `streamGenerateContent?alt=sse`.
    Gemini,
    /// OpenAI Responses.
    Responses,
}

/// A same-protocol stream forwarded event by event.
#[derive(Debug)]
pub struct Passthrough {
    dialect: Dialect,
    requested_model: String,
    decoder: SseDecoder,
    progress: Progress,
    usage: UsageTracker,
    /// Events held while nothing but opening events arrived (Responses).
    held: BytesMut,
    committed: bool,
}

impl Passthrough {
    /// A stream of `dialect` reporting `requested_model`.
    pub fn new(dialect: Dialect, requested_model: &str) -> Self {
        Self {
            dialect,
            requested_model: requested_model.to_owned(),
            decoder: SseDecoder::new(MAX_EVENT_BYTES),
            progress: Progress::default(),
            usage: UsageTracker::default(),
            held: BytesMut::new(),
            committed: dialect == Dialect::Gemini,
        }
    }

    fn inspect(&self, event: &SseEvent) -> EventFacts {
        match self.dialect {
            Dialect::Gemini => convert::gemini::inspect::inspect_event(&event.data),
            Dialect::Responses => {
                convert::responses::inspect::inspect_event(event.event_name(), &event.data)
            }
        }
    }

    fn on_item(&mut self, item: SseItem, out: &mut BytesMut) {
        match item {
            SseItem::Comment(text) => encode_comment(out, &text),
            SseItem::Event(event) => self.on_event(&event, out),
        }
    }

    fn on_event(&mut self, event: &SseEvent, out: &mut BytesMut) {
        self.progress.events_in += 1;
        let facts = self.inspect(event);
        if let Some(report) = facts.usage {
            self.usage.add(report);
            self.progress.usage = self.usage.usage();
        }
        if self.progress.upstream_id.is_empty()
            && let Some(id) = facts.upstream_id
        {
            self.progress.upstream_id = id;
        }
        if let Some(message) = facts.error {
            self.progress.upstream_error = Some(message);
            if !self.progress.saw_output {
                return;
            }
        }
        self.progress.saw_output |= facts.has_output;
        self.progress.saw_end |= facts.is_end;
        let data = self.rewrite_model(&event.data);
        let target = if self.committed || self.progress.saw_output || self.progress.saw_end {
            if !self.committed {
                self.committed = true;
                out.extend_from_slice(&self.held.split());
            }
            &mut *out
        } else {
            &mut self.held
        };
        encode_event(
            target,
            event.event.as_deref(),
            data.as_deref().unwrap_or(&event.data),
        );
        self.progress.events_out += 1;
    }

    /// Responses lifecycle events carry the model in `response.model`.
    fn rewrite_model(&self, data: &[u8]) -> Option<Bytes> {
        if self.dialect != Dialect::Responses {
            return None;
        }
        let scan = scan_object(data).ok()?;
        let response = scan
            .get(data, "response")
            .filter(|m| m.kind == ValueKind::Object)?;
        let inner = scan_object_at(data, &response).ok()?;
        let model = inner.get(data, "model")?;
        if model.read_str(data).ok()? == self.requested_model {
            return None;
        }
        let mut patch = Patch::new();
        set_member(
            &mut patch,
            data,
            &inner,
            "model",
            &quote_str(&self.requested_model),
        );
        patch.apply(data).ok()
    }
}

impl StreamProcessor for Passthrough {
    fn feed(&mut self, chunk: &Bytes, out: &mut BytesMut) -> Result<(), SseError> {
        self.decoder.push_shared(chunk)?;
        while let Some(item) = self.decoder.next_item() {
            self.on_item(item, out);
        }
        Ok(())
    }

    /// A committed Responses stream with output: whole output deltas that
    /// name no model change nothing but the counts (see
    /// [`is_plain_delta`](convert::responses::inspect::is_plain_delta)).
    fn forward_unchanged(&mut self, chunk: &[u8]) -> bool {
        self.dialect == Dialect::Responses
            && self.committed
            && self.progress.saw_output
            && take_whole_events(&mut self.progress, &self.decoder, chunk, |_, data| {
                convert::responses::inspect::is_plain_delta(data)
            })
    }

    fn finish(&mut self, out: &mut BytesMut) {
        while let Some(item) = self.decoder.finish() {
            self.on_item(item, out);
        }
        if self.dialect == Dialect::Gemini
            && self.progress.saw_output
            && self.progress.upstream_error.is_none()
        {
            // Gemini has no end event: a body that ends after output ended normally.
            self.progress.saw_end = true;
        }
    }

    fn progress(&self) -> &Progress {
        &self.progress
    }

    fn take_output_text(&mut self, _sent: &[&[u8]]) -> String {
        String::new()
    }

    fn write_error(&mut self, out: &mut BytesMut, message: &str, kind: &str) {
        let kind = if kind == "timeout_error" {
            ir::ErrorKind::Timeout
        } else {
            ir::ErrorKind::Api
        };
        let error = ir::Error::new(kind, message);
        match self.dialect {
            Dialect::Gemini => {
                let body = convert::gemini::error_from_ir(&error);
                let data = serde_json::to_vec(&body).unwrap_or_default();
                encode_event(out, None, &data);
            }
            Dialect::Responses => {
                let body = serde_json::json!({
                    "type": "error",
                    "code": if kind == ir::ErrorKind::Timeout { "timeout" } else { "upstream_error" },
                    "message": message,
                    "param": null,
                    "sequence_number": self.progress.events_in,
                });
                encode_event(out, Some(b"error"), body.to_string().as_bytes());
            }
        }
    }

    fn ready(&self) -> bool {
        self.committed && self.progress.events_out > 0
    }

    fn continuable(&self) -> bool {
        self.dialect == Dialect::Gemini
    }

    fn continuation(&self) -> Continuation {
        Continuation::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::relay::processor::testing::relay_reads;

    fn run(p: &mut Passthrough, input: &str) -> String {
        let mut out = BytesMut::new();
        for chunk in input.as_bytes().chunks(7) {
            p.feed(&Bytes::copy_from_slice(chunk), &mut out).unwrap();
        }
        p.finish(&mut out);
        String::from_utf8(out.to_vec()).unwrap()
    }

    #[test]
    fn gemini_chunks_pass_and_are_metered() {
        let stream = concat!(
            "data: {\"candidates\":[{\"content\":{\"role\":\"model\",\"parts\":[{\"text\":\"Hel\"}]}}],\"usageMetadata\":{\"promptTokenCount\":4,\"candidatesTokenCount\":1,\"totalTokenCount\":5},\"responseId\":\"r1\"}\n\n",
            "data: {\"candidates\":[{\"content\":{\"role\":\"model\",\"parts\":[{\"text\":\"lo\"}]},\"finishReason\":\"STOP\"}],\"usageMetadata\":{\"promptTokenCount\":4,\"candidatesTokenCount\":2,\"totalTokenCount\":6},\"responseId\":\"r1\"}\n\n",
        );
        let mut p = Passthrough::new(Dialect::Gemini, "asked");
        let out = run(&mut p, stream);
        assert_eq!(out, stream);
        let u = p.progress().usage.unwrap();
        assert_eq!((u.input_tokens, u.output_tokens), (4, 2));
        assert!(p.progress().saw_end && p.ready() && p.continuable());
        assert_eq!(p.progress().upstream_id, "r1");
    }

    #[test]
    fn responses_opening_events_wait_for_output_and_model_is_rewritten() {
        let created = "event: response.created\ndata: {\"type\":\"response.created\",\"sequence_number\":0,\"response\":{\"id\":\"resp_1\",\"model\":\"up\",\"status\":\"in_progress\",\"output\":[]}}\n\n";
        let mut p = Passthrough::new(Dialect::Responses, "asked");
        let mut out = BytesMut::new();
        p.feed(&Bytes::from_static(created.as_bytes()), &mut out)
            .unwrap();
        assert!(out.is_empty() && !p.ready(), "held until output");
        let delta = "event: response.output_text.delta\ndata: {\"type\":\"response.output_text.delta\",\"sequence_number\":1,\"item_id\":\"m\",\"output_index\":0,\"content_index\":0,\"delta\":\"Hi\"}\n\n";
        p.feed(&Bytes::from_static(delta.as_bytes()), &mut out)
            .unwrap();
        let text = String::from_utf8(out.to_vec()).unwrap();
        assert!(
            text.contains("\"model\":\"asked\"") && text.contains("\"delta\":\"Hi\""),
            "{text}"
        );
        assert!(p.ready() && !p.continuable());
    }

    #[test]
    fn error_before_output_is_held() {
        let mut p = Passthrough::new(Dialect::Gemini, "m");
        let out = run(
            &mut p,
            "data: {\"error\":{\"code\":503,\"message\":\"busy\",\"status\":\"UNAVAILABLE\"}}\n\n",
        );
        assert!(out.is_empty());
        assert_eq!(p.progress().upstream_error.as_deref(), Some("busy"));
    }

    #[test]
    fn responses_deltas_after_the_first_output_go_as_they_came() {
        let event = |kind: &str, data: String| format!("event: {kind}\ndata: {data}\n\n");
        let delta = |seq: u32, text: &str| {
            event(
                "response.output_text.delta",
                format!(
                    r#"{{"type":"response.output_text.delta","sequence_number":{seq},"item_id":"m","output_index":0,"content_index":0,"delta":"{text}"}}"#
                ),
            )
        };
        let reads = [
            event("response.created", r#"{"type":"response.created","sequence_number":0,"response":{"id":"resp_1","model":"up","status":"in_progress","output":[]}}"#.to_owned()),
            delta(1, "Hel"),
            delta(2, "lo"),
            delta(3, " w\\u00f6rld"),
            delta(4, "!"),
            event("response.completed", r#"{"type":"response.completed","sequence_number":5,"response":{"id":"resp_1","model":"up","status":"completed","usage":{"input_tokens":4,"output_tokens":3,"total_tokens":7}}}"#.to_owned()),
        ];
        let whole = reads.concat();
        let mut reference = Passthrough::new(Dialect::Responses, "asked");
        let reference_out = run(&mut reference, &whole);
        let reads: Vec<&str> = reads.iter().map(String::as_str).collect();
        let mut p = Passthrough::new(Dialect::Responses, "asked");
        let (out, forwarded) = relay_reads(&mut p, &reads);
        assert_eq!(out, reference_out);
        // "lo" and "!" go as they came; "Hel" is the first output and the
        // escaped one is read.
        assert_eq!(forwarded, 2);
        assert_eq!((p.progress().events_in, p.progress().events_out), (6, 6));
        assert_eq!(p.progress().usage.unwrap().total_tokens, 7);
        assert!(p.progress().saw_end && !out.contains("\"up\""), "{out}");
        let mut gemini = Passthrough::new(Dialect::Gemini, "asked");
        let mut sink = BytesMut::new();
        let chunk = "data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"a\"}]}}]}\n\n";
        gemini
            .feed(&Bytes::from_static(chunk.as_bytes()), &mut sink)
            .unwrap();
        assert!(
            !gemini.forward_unchanged(chunk.as_bytes()),
            "Gemini reads are all read"
        );
    }
}
