//! Per-event processing of an OpenAI SSE stream on the same-protocol path:
//! forward each event as it arrives with `model` rewritten, meter usage from
//! the final chunk, and drop the usage-only chunk the client did not ask for.
//! If the upstream never reports usage, the output is estimated from what
//! the client was sent, which the relay keeps until then.

use super::processor::{Continuation, Progress, StreamProcessor, take_whole_events};
use bytes::{Bytes, BytesMut};
use switchyard_protocol::json::{ObjectScan, Patch, ValueKind, quote_str, scan_object, set_member};
use switchyard_protocol::openai::{ChunkView, OpenAiUsage, is_plain_chunk, stream_content_text};
use switchyard_protocol::sse::{
    SseDecoder, SseError, SseEvent, SseItem, encode_comment, encode_event, is_done_data,
};

/// Largest single SSE event accepted from an upstream.
pub const MAX_EVENT_BYTES: usize = 16 * 1024 * 1024;

/// What has been seen on a stream so far.
#[derive(Debug)]
pub struct StreamState {
    requested_model: String,
    client_include_usage: bool,
    /// Continuing a stream another upstream began: drop this upstream's
    /// events that carry no output (its role chunk) until its first output.
    skip_leading_silent: bool,
    decoder: SseDecoder,
    progress: Progress,
}

impl StreamState {
    /// State for a stream answering a request for `requested_model`.
    /// `skip_leading_silent` is set when this upstream continues a stream
    /// already started on the client by another one.
    pub fn new(
        requested_model: &str,
        client_include_usage: bool,
        skip_leading_silent: bool,
    ) -> Self {
        Self {
            requested_model: requested_model.to_owned(),
            client_include_usage,
            skip_leading_silent,
            decoder: SseDecoder::new(MAX_EVENT_BYTES),
            progress: Progress::default(),
        }
    }

    /// Feed upstream bytes; complete events are written to `out`.
    pub fn feed(&mut self, chunk: &Bytes, out: &mut BytesMut) -> Result<(), SseError> {
        self.decoder.push_shared(chunk)?;
        while let Some(item) = self.decoder.next_item() {
            self.on_item(item, out);
        }
        Ok(())
    }

    /// Past the first output, a chunk of whole canonical events that are
    /// all plain (no usage, no error, the requested model: see
    /// [`is_plain_chunk`]) is exactly what [`Self::feed`] would write: count
    /// its events and let the relay send the chunk itself.
    pub fn forward_unchanged(&mut self, chunk: &[u8]) -> bool {
        let model = &self.requested_model;
        self.progress.saw_output
            && !self.progress.upstream_id.is_empty()
            && take_whole_events(&mut self.progress, &self.decoder, chunk, |name, data| {
                name.is_none() && !is_done_data(data) && is_plain_chunk(data, model)
            })
    }

    /// The upstream ended: flush a final event that lacked its blank line.
    pub fn finish(&mut self, out: &mut BytesMut) {
        while let Some(item) = self.decoder.finish() {
            self.on_item(item, out);
        }
    }

    fn on_item(&mut self, item: SseItem, out: &mut BytesMut) {
        match item {
            SseItem::Comment(text) => encode_comment(out, &text),
            SseItem::Event(event) => self.on_event(event, out),
        }
    }

    fn on_event(&mut self, event: SseEvent, out: &mut BytesMut) {
        self.progress.events_in += 1;
        if event.is_done() {
            self.progress.saw_end = true;
            self.emit(out, &event, &event.data);
            return;
        }
        let data = &event.data;
        // Past the first output, most chunks only need forwarding.
        if self.progress.saw_output
            && !self.progress.upstream_id.is_empty()
            && is_plain_chunk(data, &self.requested_model)
        {
            self.emit(out, &event, data);
            return;
        }
        let Ok(scan) = scan_object(data) else {
            self.emit(out, &event, data);
            return;
        };
        let before_output = !self.progress.saw_output;
        if before_output {
            // Until the first output the relay may still retry, so it needs to
            // know exactly what the chunk carries.
            if let Ok(view) = serde_json::from_slice::<ChunkView<'_>>(data) {
                self.progress.saw_output = view.has_output() && view.error.is_none();
            }
        }
        let usage_only = self.read_usage(data, &scan);
        if self.progress.upstream_id.is_empty()
            && let Some(id) = scan.get(data, "id").and_then(|v| v.read_str(data).ok())
        {
            self.progress.upstream_id = id.into_owned();
        }
        if let Some(error) = scan
            .get(data, "error")
            .filter(|e| e.kind == ValueKind::Object)
        {
            let value = error
                .raw(data)
                .ok()
                .and_then(|r| serde_json::from_slice(r).ok())
                .unwrap_or_default();
            self.progress.upstream_error = Some(error_message(&value));
        }
        if usage_only && !self.client_include_usage {
            return;
        }
        // An error before any output is held back: the relay retries on
        // another channel or answers with its own error event.
        if before_output
            && (self.progress.upstream_error.is_some()
                || (self.skip_leading_silent && !self.progress.saw_output))
        {
            return;
        }
        let rewrite = scan.get(data, "model").filter(|m| {
            m.kind == ValueKind::String
                && m.read_str(data)
                    .is_ok_and(|name| name != self.requested_model)
        });
        match rewrite {
            Some(_) => {
                let mut patch = Patch::new();
                set_member(
                    &mut patch,
                    data,
                    &scan,
                    "model",
                    &quote_str(&self.requested_model),
                );
                match patch.apply(data) {
                    Ok(patched) => self.emit(out, &event, &patched),
                    Err(_) => self.emit(out, &event, data),
                }
            }
            None => self.emit(out, &event, data),
        }
    }

    /// Record a chunk's usage; true when the chunk carries nothing else
    /// (`choices` empty), i.e. it is the usage chunk a client may not want.
    fn read_usage(&mut self, data: &[u8], scan: &ObjectScan) -> bool {
        let Some(span) = scan
            .get(data, "usage")
            .filter(|u| u.kind == ValueKind::Object)
        else {
            return false;
        };
        if let Some(usage) = span
            .raw(data)
            .ok()
            .and_then(|r| serde_json::from_slice::<OpenAiUsage>(r).ok())
        {
            self.progress.usage = Some(usage.to_usage());
        }
        let no_choices = scan.get(data, "choices").is_none_or(|c| {
            c.kind == ValueKind::Array
                && c.raw(data)
                    .is_ok_and(|raw| raw.iter().filter(|b| !b.is_ascii_whitespace()).count() == 2)
        });
        no_choices && scan.get(data, "error").is_none()
    }

    fn emit(&mut self, out: &mut BytesMut, event: &SseEvent, data: &[u8]) {
        self.progress.events_out += 1;
        encode_event(out, event.event.as_deref(), data);
    }
}

impl StreamProcessor for StreamState {
    fn feed(&mut self, chunk: &Bytes, out: &mut BytesMut) -> Result<(), SseError> {
        StreamState::feed(self, chunk, out)
    }

    fn forward_unchanged(&mut self, chunk: &[u8]) -> bool {
        StreamState::forward_unchanged(self, chunk)
    }

    fn finish(&mut self, out: &mut BytesMut) {
        StreamState::finish(self, out);
    }

    fn progress(&self) -> &Progress {
        &self.progress
    }

    fn take_output_text(&mut self, sent: &[&[u8]]) -> String {
        stream_content_text(sent.iter().copied(), MAX_EVENT_BYTES)
    }

    fn needs_sent_output(&self) -> bool {
        self.progress.usage.is_none()
    }

    fn write_error(&mut self, out: &mut BytesMut, message: &str, kind: &str) {
        encode_error_event(out, message, kind);
    }

    fn ready(&self) -> bool {
        self.progress.events_out > 0
    }

    fn continuable(&self) -> bool {
        true
    }

    fn continuation(&self) -> Continuation {
        Continuation::default()
    }
}

/// The message of an OpenAI-style error value.
pub fn error_message(error: &serde_json::Value) -> String {
    error
        .get("message")
        .and_then(|m| m.as_str())
        .map(str::to_owned)
        .unwrap_or_else(|| error.to_string())
}

/// Write an OpenAI error event (sent when a stream fails after it started).
pub fn encode_error_event(out: &mut BytesMut, message: &str, kind: &str) {
    let body = serde_json::json!({"error": {"message": message, "type": kind}});
    encode_event(out, None, body.to_string().as_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::relay::processor::testing::{relay_reads, three_splits};

    fn run(input: &str, model: &str, include_usage: bool) -> (StreamState, String) {
        let mut s = StreamState::new(model, include_usage, false);
        let mut out = BytesMut::new();
        for b in input.as_bytes().chunks(7) {
            s.feed(&Bytes::copy_from_slice(b), &mut out).unwrap();
        }
        s.finish(&mut out);
        (s, String::from_utf8(out.to_vec()).unwrap())
    }

    const STREAM: &str = concat!(
        "data: {\"id\":\"c1\",\"model\":\"up-model\",\"choices\":[{\"delta\":{\"role\":\"assistant\",\"content\":\"\"}}]}\n\n",
        ": keep-alive\n\n",
        "data: {\"id\":\"c1\",\"model\":\"up-model\",\"choices\":[{\"delta\":{\"content\":\"Hi\"}}]}\n\n",
        "data: {\"id\":\"c1\",\"model\":\"up-model\",\"choices\":[{\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n",
        "data: {\"id\":\"c1\",\"model\":\"up-model\",\"choices\":[],\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":1,\"total_tokens\":6}}\n\n",
        "data: [DONE]\n\n",
    );

    #[test]
    fn rewrites_model_meters_usage_and_hides_unrequested_usage_chunk() {
        let (s, out) = run(STREAM, "asked", false);
        assert_eq!(s.progress().usage.unwrap().total_tokens, 6);
        assert_eq!(s.progress().upstream_id, "c1");
        assert!(s.progress().saw_end && s.progress().saw_output);
        assert!(!out.contains("up-model"));
        assert!(out.contains("\"model\":\"asked\""));
        assert!(!out.contains("usage"), "{out}");
        assert!(out.contains(": keep-alive"));
        assert_eq!(s.progress().events_in, 5);
        assert_eq!(s.progress().events_out, 4);
    }

    #[test]
    fn usage_chunk_forwarded_when_client_asked() {
        let (s, out) = run(STREAM, "asked", true);
        assert!(out.contains("\"usage\""));
        assert_eq!(s.progress().events_out, 5);
    }

    #[test]
    fn output_is_estimated_from_what_was_sent_until_usage_arrives() {
        let input = "data: {\"choices\":[{\"delta\":{\"content\":\"Hello\"}}]}\n\ndata: {\"choices\":[{\"delta\":{\"content\":\" world\"}}]}";
        let (mut s, out) = run(input, "m", false);
        assert!(s.progress().usage.is_none() && s.needs_sent_output());
        assert_eq!(s.take_output_text(&[out.as_bytes()]), "Hello world");
        let (s, _) = run(STREAM, "m", false);
        assert!(!s.needs_sent_output(), "usage reported");
    }

    #[test]
    fn error_before_output_is_held_back() {
        let (s, out) = run("data: {\"error\":{\"message\":\"boom\"}}\n\n", "m", false);
        assert_eq!(s.progress().upstream_error.as_deref(), Some("boom"));
        assert!(!s.progress().saw_output);
        assert!(out.is_empty(), "{out}");
    }

    #[test]
    fn chunks_after_the_first_output_are_still_metered_and_rewritten() {
        // The upstream reports the requested model, so its content chunks
        // are forwarded without a member scan; the rest must still be seen.
        let input = concat!(
            "data: {\"id\":\"c1\",\"model\":\"asked\",\"choices\":[{\"delta\":{\"content\":\"Hi\"}}]}\n\n",
            "data: {\"id\":\"c1\",\"model\":\"asked\",\"choices\":[{\"delta\":{\"content\":\" there\"}}],\"usage\":null}\n\n",
            "data: {\"id\":\"c1\",\"model\":\"other\",\"choices\":[{\"delta\":{\"content\":\"!\"}}]}\n\n",
            "data: {\"id\":\"c1\",\"model\":\"asked\",\"choices\":[],\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":3,\"total_tokens\":8}}\n\n",
            "data: [DONE]\n\n",
        );
        let (s, out) = run(input, "asked", false);
        assert_eq!(s.progress().usage.unwrap().total_tokens, 8);
        assert!(!out.contains("other"), "{out}");
        assert!(out.contains("\"content\":\"!\""), "{out}");
        assert!(!out.contains("total_tokens"), "{out}");
        assert_eq!((s.progress().events_in, s.progress().events_out), (5, 4));

        let without_usage = input.replace(
            "\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":3,\"total_tokens\":8}",
            "\"usage\":null",
        );
        let (mut s, out) = run(&without_usage, "asked", false);
        assert!(s.progress().usage.is_none());
        assert_eq!(s.take_output_text(&[out.as_bytes()]), "Hi there!");

        let failing = input.replace(
            "\"model\":\"other\"",
            "\"model\":\"asked\",\"error\":{\"message\":\"boom\"}",
        );
        let (s, _) = run(&failing, "asked", false);
        assert_eq!(s.progress().upstream_error.as_deref(), Some("boom"));
    }

    #[test]
    fn plain_chunks_forwarded_unchanged_give_the_same_stream_and_counts() {
        let content = |text: &str| {
            format!(
                "data: {{\"id\":\"c1\",\"model\":\"asked\",\"choices\":[{{\"delta\":{{\"content\":\"{text}\"}}}}]}}\n\n"
            )
        };
        let events = [
            "data: {\"id\":\"c1\",\"model\":\"up\",\"choices\":[{\"delta\":{\"role\":\"assistant\",\"content\":\"\"}}]}\n\n".to_owned(),
            content("Hel"),
            content("lo"),
            content(" you"),
            "data: {\"id\":\"c1\",\"model\":\"up\",\"choices\":[{\"delta\":{\"content\":\"!\"}}]}\n\n".to_owned(),
            content(""),
            "data: {\"id\":\"c1\",\"model\":\"asked\",\"choices\":[],\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":4,\"total_tokens\":9}}\n\n".to_owned(),
            "data: [DONE]\n\n".to_owned(),
        ];
        let whole = events.concat();
        let (_, reference) = run(&whole, "asked", true);
        // One event a read: "lo", " you" and the empty delta go as they
        // came; "Hel" is the first output, so it and all before are decoded.
        for ((split, chunks), expected_forwarded) in
            three_splits(&events).into_iter().zip([3, 1, 0])
        {
            let mut s = StreamState::new("asked", true, false);
            let (out, forwarded) = relay_reads(&mut s, &chunks);
            assert_eq!(out, reference, "{split}");
            assert_eq!(forwarded, expected_forwarded, "{split}");
            let p = s.progress();
            assert_eq!((p.events_in, p.events_out), (8, 8), "{split}");
            assert_eq!(p.usage.unwrap().total_tokens, 9, "{split}");
            assert!(p.saw_end && p.saw_output, "{split}");
        }
        // The model other than the requested one is rewritten, not forwarded.
        assert!(!reference.contains("\"up\""), "{reference}");
    }

    #[test]
    fn nothing_is_forwarded_unchanged_before_the_first_output_or_mid_event() {
        let mut s = StreamState::new("asked", false, false);
        let plain = "data: {\"id\":\"c1\",\"model\":\"asked\",\"choices\":[{\"delta\":{\"content\":\"a\"}}]}\n\n";
        assert!(!s.forward_unchanged(plain.as_bytes()), "before output");
        let mut out = BytesMut::new();
        s.feed(&Bytes::from_static(plain.as_bytes()), &mut out)
            .unwrap();
        assert!(s.forward_unchanged(plain.as_bytes()));
        let (head, tail) = plain.split_at(20);
        s.feed(&Bytes::from_static(head.as_bytes()), &mut out)
            .unwrap();
        assert!(
            !s.forward_unchanged(plain.as_bytes()),
            "an event is half read"
        );
        s.feed(&Bytes::from_static(tail.as_bytes()), &mut out)
            .unwrap();
        assert!(s.forward_unchanged(plain.as_bytes()));
        assert!(!s.forward_unchanged(b"data: [DONE]\n\n"));
        assert!(!s.forward_unchanged(": ping\n\n".as_bytes()));
        assert_eq!(s.progress().events_in, 4);
    }

    #[test]
    fn continuation_skips_the_new_role_chunk() {
        let mut s = StreamState::new("asked", false, true);
        let mut out = BytesMut::new();
        s.feed(&Bytes::from_static(STREAM.as_bytes()), &mut out)
            .unwrap();
        let out = String::from_utf8(out.to_vec()).unwrap();
        assert!(!out.contains("\"role\""), "{out}");
        assert!(out.contains("\"content\":\"Hi\""));
    }
}
