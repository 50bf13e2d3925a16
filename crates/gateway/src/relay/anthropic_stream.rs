//! Forwarding an Anthropic Messages stream to an Anthropic client byte for
//! byte: each event as it arrives, with `message.model` in `message_start`
//! rewritten to the name the client asked for, usage metered from
//! `message_start` and `message_delta`, and an `error` event before any
//! output held back so the relay can retry elsewhere. Once output has gone,
//! a read of nothing but whole `content_block_delta` events (most of a
//! stream) goes to the client as it came, neither decoded nor parsed; if no
//! usage arrives, the output is read back from what the client was sent.

use std::collections::HashSet;

use bytes::{Bytes, BytesMut};
use serde::Deserialize;
use switchyard_protocol::anthropic::AnthropicUsage;
use switchyard_protocol::convert::anthropic::inspect::{
    inspect_event, is_content_delta, stream_delta_text,
};
use switchyard_protocol::inspect::UsageReport;
use switchyard_protocol::json::{
    Patch, ValueKind, quote_str, scan_object, scan_object_at, set_member,
};
use switchyard_protocol::sse::{
    SseDecoder, SseError, SseEvent, SseItem, encode_comment, encode_event,
};

use super::events::MAX_EVENT_BYTES;
use super::processor::{Continuation, Progress, StreamProcessor, take_whole_events};

/// An Anthropic-to-Anthropic stream.
#[derive(Debug)]
pub struct AnthropicPassthrough {
    requested_model: String,
    continuation: bool,
    decoder: SseDecoder,
    progress: Progress,
    usage: Option<AnthropicUsage>,
    started_blocks: HashSet<u64>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct View {
    index: Option<u64>,
    message: Option<UsageHolder>,
    usage: Option<AnthropicUsage>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct UsageHolder {
    usage: Option<AnthropicUsage>,
}

impl AnthropicPassthrough {
    /// A stream reporting `requested_model`; `continuation` when it takes
    /// over a client stream another upstream began.
    pub fn new(requested_model: &str, continuation: Option<&Continuation>) -> Self {
        Self {
            requested_model: requested_model.to_owned(),
            continuation: continuation.is_some(),
            decoder: SseDecoder::new(MAX_EVENT_BYTES),
            progress: Progress::default(),
            usage: None,
            started_blocks: continuation
                .map(|c| c.started_blocks.iter().copied().collect())
                .unwrap_or_default(),
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
        let facts = inspect_event(event.event_name(), &event.data);
        let view: View = serde_json::from_slice(&event.data).unwrap_or_default();
        self.meter(&facts.usage, &view);
        if self.progress.upstream_id.is_empty()
            && let Some(id) = facts.upstream_id
        {
            self.progress.upstream_id = id;
        }
        let before_output = !self.progress.saw_output;
        if let Some(message) = facts.error {
            self.progress.upstream_error = Some(message);
            if before_output {
                return;
            }
        }
        self.progress.saw_output |= facts.has_output;
        self.progress.saw_end |= facts.is_end;
        let name = event.event_name().unwrap_or("");
        if self.continuation && before_output && self.skip_on_continuation(name, &view) {
            return;
        }
        if name == "content_block_start"
            && let Some(index) = view.index
        {
            self.started_blocks.insert(index);
        }
        if name == "message_start"
            && let Some(patched) = self.rewrite_model(&event.data)
        {
            self.emit(out, event, &patched);
            return;
        }
        self.emit(out, event, &event.data);
    }

    /// While continuing another upstream's stream, drop what the client
    /// already has: this upstream's `message_start`, pings, and the start of
    /// blocks already opened.
    fn skip_on_continuation(&self, name: &str, view: &View) -> bool {
        match name {
            "message_start" | "ping" => true,
            "content_block_start" => view.index.is_some_and(|i| self.started_blocks.contains(&i)),
            _ => false,
        }
    }

    fn meter(&mut self, report: &Option<UsageReport>, view: &View) {
        let later = match report {
            Some(UsageReport::Input(_)) => view.message.as_ref().and_then(|m| m.usage.clone()),
            Some(UsageReport::Output(_)) => view.usage.clone(),
            _ => None,
        };
        let Some(later) = later else { return };
        match &mut self.usage {
            Some(usage) => usage.merge(&later),
            None => self.usage = Some(later),
        }
        let usage = self.usage.as_ref().map(AnthropicUsage::to_usage);
        if matches!(report, Some(UsageReport::Output(_))) {
            self.progress.usage = usage;
        } else {
            // `message_start`'s output count is a placeholder (usually 1):
            // until `message_delta` reports it, only the input is known,
            // also when the stream is cut or the client leaves.
            self.progress.input_usage = usage;
        }
    }

    fn rewrite_model(&self, data: &[u8]) -> Option<bytes::Bytes> {
        let scan = scan_object(data).ok()?;
        let message = scan
            .get(data, "message")
            .filter(|m| m.kind == ValueKind::Object)?;
        let inner = scan_object_at(data, &message).ok()?;
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

    fn emit(&mut self, out: &mut BytesMut, event: &SseEvent, data: &[u8]) {
        self.progress.events_out += 1;
        encode_event(out, event.event.as_deref(), data);
    }
}

impl StreamProcessor for AnthropicPassthrough {
    fn feed(&mut self, chunk: &Bytes, out: &mut BytesMut) -> Result<(), SseError> {
        self.decoder.push_shared(chunk)?;
        while let Some(item) = self.decoder.next_item() {
            self.on_item(item, out);
        }
        Ok(())
    }

    /// Past the first output, a read of whole `content_block_delta` events
    /// in canonical form is exactly what [`Self::feed`] would write, and
    /// such events change nothing but the counts (see [`is_content_delta`]).
    fn forward_unchanged(&mut self, chunk: &[u8]) -> bool {
        self.progress.saw_output
            && take_whole_events(&mut self.progress, &self.decoder, chunk, |_, data| {
                is_content_delta(data)
            })
    }

    fn finish(&mut self, out: &mut BytesMut) {
        while let Some(item) = self.decoder.finish() {
            self.on_item(item, out);
        }
    }

    fn progress(&self) -> &Progress {
        &self.progress
    }

    fn take_output_text(&mut self, sent: &[&[u8]]) -> String {
        stream_delta_text(sent.iter().copied(), MAX_EVENT_BYTES)
    }

    fn needs_sent_output(&self) -> bool {
        self.progress.usage.is_none()
    }

    fn write_error(&mut self, out: &mut BytesMut, message: &str, kind: &str) {
        let kind = if kind == "timeout_error" {
            "timeout_error"
        } else {
            "api_error"
        };
        let body =
            serde_json::json!({"type": "error", "error": {"type": kind, "message": message}});
        encode_event(out, Some(b"error"), body.to_string().as_bytes());
    }

    fn ready(&self) -> bool {
        self.progress.events_out > 0
    }

    fn continuable(&self) -> bool {
        true
    }

    fn continuation(&self) -> Continuation {
        let mut started_blocks: Vec<u64> = self.started_blocks.iter().copied().collect();
        started_blocks.sort_unstable();
        Continuation { started_blocks }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::relay::processor::testing::{relay_reads, three_splits};

    const STREAM: &str = concat!(
        "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\",\"model\":\"claude-up\",\"usage\":{\"input_tokens\":10,\"cache_read_input_tokens\":4,\"output_tokens\":1}}}\n\n",
        "event: ping\ndata: {\"type\":\"ping\"}\n\n",
        "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n",
        "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"Hi\"}}\n\n",
        "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n",
        "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\"},\"usage\":{\"output_tokens\":5}}\n\n",
        "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n",
    );

    fn run(p: &mut AnthropicPassthrough, input: &str) -> String {
        let mut out = BytesMut::new();
        for chunk in input.as_bytes().chunks(11) {
            p.feed(&Bytes::copy_from_slice(chunk), &mut out).unwrap();
        }
        p.finish(&mut out);
        String::from_utf8(out.to_vec()).unwrap()
    }

    #[test]
    fn forwards_rewrites_model_and_meters() {
        let mut p = AnthropicPassthrough::new("claude-asked", None);
        let out = run(&mut p, STREAM);
        assert!(out.contains("\"model\":\"claude-asked\"") && !out.contains("claude-up"));
        assert!(out.contains("event: ping"));
        let u = p.progress().usage.unwrap();
        assert_eq!(
            (u.input_tokens, u.cached_tokens, u.output_tokens),
            (14, 4, 5)
        );
        assert!(p.progress().saw_end && p.progress().saw_output);
        assert_eq!(p.progress().upstream_id, "msg_1");
        assert_eq!(p.progress().events_out, 7);
    }

    #[test]
    fn error_before_output_is_held() {
        let mut p = AnthropicPassthrough::new("m", None);
        let out = run(
            &mut p,
            "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"busy\"}}\n\n",
        );
        assert!(out.is_empty());
        assert_eq!(p.progress().upstream_error.as_deref(), Some("busy"));
    }

    #[test]
    fn continuation_drops_what_the_client_has() {
        let mut first = AnthropicPassthrough::new("m", None);
        let head: String = STREAM
            .split("\n\n")
            .take(3)
            .map(|e| format!("{e}\n\n"))
            .collect();
        run(&mut first, &head);
        let mut next = AnthropicPassthrough::new("m", Some(&first.continuation()));
        let out = run(&mut next, STREAM);
        assert!(
            !out.contains("message_start")
                && !out.contains("content_block_start")
                && !out.contains("ping")
        );
        assert!(out.contains("\"text\":\"Hi\"") && out.contains("message_stop"));
    }

    /// A longer stream: text over several deltas, then a tool call.
    fn events() -> Vec<String> {
        let delta = |index: u32, delta: &str| {
            format!(
                "event: content_block_delta\ndata: {{\"type\":\"content_block_delta\",\"index\":{index},\"delta\":{delta}}}\n\n"
            )
        };
        let mut events: Vec<String> = STREAM
            .split_inclusive("\n\n")
            .take(3)
            .map(str::to_owned)
            .collect();
        events.extend([
            delta(0, r#"{"type":"text_delta","text":"Hel"}"#),
            delta(0, r#"{"type":"text_delta","text":"lo"}"#),
            delta(0, r#"{"type":"text_delta","text":" w\u00f6rld"}"#),
            "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n".to_owned(),
            "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":1,\"content_block\":{\"type\":\"tool_use\",\"id\":\"t\",\"name\":\"f\",\"input\":{}}}\n\n".to_owned(),
            delta(1, r#"{"type":"input_json_delta","partial_json":"{\"a\":"}"#),
            delta(1, r#"{"type":"input_json_delta","partial_json":"1}"}"#),
            "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":1}\n\n".to_owned(),
        ]);
        events
    }

    #[test]
    fn whole_deltas_after_the_first_output_go_as_they_came() {
        let mut events = events();
        events.extend(STREAM.split_inclusive("\n\n").skip(5).map(str::to_owned));
        let whole = events.concat();
        let mut reference = AnthropicPassthrough::new("claude-asked", None);
        let reference_out = run(&mut reference, &whole);
        // One event a read: "Hel" is the first output, so it is decoded;
        // the four deltas after it go as they came. Two a read: the pairs
        // ("lo", " wörld") and the two tool-input deltas.
        for ((split, reads), expected_forwarded) in three_splits(&events).into_iter().zip([4, 2, 0])
        {
            let mut p = AnthropicPassthrough::new("claude-asked", None);
            let (out, forwarded) = relay_reads(&mut p, &reads);
            assert_eq!(out, reference_out, "{split}");
            assert_eq!(forwarded, expected_forwarded, "{split}");
            let progress = p.progress();
            assert_eq!(
                (progress.events_in, progress.events_out),
                (13, 13),
                "{split}"
            );
            assert_eq!(progress.usage.unwrap().output_tokens, 5, "{split}");
            assert!(progress.saw_end && progress.saw_output, "{split}");
        }
        assert!(reference_out.contains("claude-asked") && !reference_out.contains("claude-up"));
    }

    #[test]
    fn nothing_but_deltas_goes_unchanged_and_only_after_output() {
        let mut p = AnthropicPassthrough::new("m", None);
        let delta = "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"a\"}}\n\n";
        assert!(!p.forward_unchanged(delta.as_bytes()), "before output");
        let mut out = BytesMut::new();
        p.feed(&Bytes::from_static(delta.as_bytes()), &mut out)
            .unwrap();
        assert!(p.forward_unchanged(delta.as_bytes()));
        let (head, tail) = delta.split_at(30);
        p.feed(&Bytes::from_static(head.as_bytes()), &mut out)
            .unwrap();
        assert!(
            !p.forward_unchanged(delta.as_bytes()),
            "an event is half read"
        );
        p.feed(&Bytes::from_static(tail.as_bytes()), &mut out)
            .unwrap();
        for other in [
            "event: message_delta\ndata: {\"type\":\"message_delta\",\"usage\":{\"output_tokens\":1}}\n\n",
            "event: error\ndata: {\"type\":\"error\",\"error\":{\"message\":\"x\"}}\n\n",
            ": ping\n\n",
            "event: content_block_delta\r\ndata: {\"type\":\"content_block_delta\"}\r\n\r\n",
        ] {
            let both = format!("{delta}{other}");
            assert!(!p.forward_unchanged(both.as_bytes()), "{other:?}");
        }
        assert_eq!(p.progress().events_in, 3);
    }

    #[test]
    fn without_usage_the_output_is_read_back_from_what_was_sent() {
        let mut p = AnthropicPassthrough::new("m", None);
        let mut reads = events();
        // No usage anywhere: a message_start without it, no message_delta.
        reads[0] = "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\",\"model\":\"m\"}}\n\n".to_owned();
        let reads: Vec<&str> = reads.iter().map(String::as_str).collect();
        let (out, forwarded) = relay_reads(&mut p, &reads);
        assert_eq!(forwarded, 4);
        assert!(p.progress().usage.is_none() && p.needs_sent_output());
        let sent: Vec<&[u8]> = out.as_bytes().chunks(5).collect();
        assert_eq!(p.take_output_text(&sent), "Hello w\u{f6}rld{\"a\":1}");
    }

    #[test]
    fn a_stream_cut_before_message_delta_keeps_the_input_and_leaves_the_output_to_estimate() {
        let mut p = AnthropicPassthrough::new("m", None);
        let cut: String = STREAM
            .split("\n\n")
            .take(4)
            .map(|e| format!("{e}\n\n"))
            .collect();
        let out = run(&mut p, &cut);
        assert!(out.contains("\"text\":\"Hi\""));
        let progress = p.progress();
        assert!(progress.usage.is_none() && !progress.saw_end);
        assert!(
            p.needs_sent_output(),
            "the output is read back from what was sent"
        );
        let input = progress
            .input_usage
            .expect("message_start's counts are kept");
        assert_eq!(
            (input.input_tokens, input.cached_tokens),
            (14, 4),
            "input and cache reads as reported"
        );
    }
}
