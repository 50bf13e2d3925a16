//! Responses stream events → canonical stream events (Responses upstream,
//! Chat/Anthropic/Gemini client).

mod items;

use std::collections::{BTreeMap, HashMap};

use super::error::{event_error, response_error};
use super::response::status_to_ir;
use crate::convert::{ConvertError, StreamDecoder};
use crate::ir::{BlockKind, Error, ErrorKind, StopReason, StreamEvent};
use crate::responses::{ContentPart, Item, ResponseObject, ResponsesStreamEvent};

type Out = Vec<StreamEvent>;

/// Decodes a Responses stream.
///
/// - Lifecycle events (`response.created`, `in_progress`, `queued`) yield
///   nothing: [`StreamEvent::MessageStart`] (with the upstream's id, model
///   and time) is held until the first output, so an upstream that fails
///   before producing anything yields only a [`StreamEvent::Error`] and
///   the gateway can still retry elsewhere (AI Proxy's lifecycle-event
///   buffering, without a timer).
/// - Each content part of a message item (`output_text` or `refusal`) is a
///   text block; each function call a tool-call block (opened at
///   `output_item.added`, id = `call_id`); each reasoning item a thinking
///   block (summary and raw reasoning text, parts separated by a blank
///   line), its `encrypted_content` a [`StreamEvent::SignatureDelta`] at
///   `output_item.done`. Text blocks and thinking blocks open at their
///   first text.
/// - Text, arguments or reasoning an upstream gives only in a `.done`
///   event (or only in `response.completed`) is emitted then, so nothing
///   is lost from upstreams that skip deltas.
/// - `response.completed`/`incomplete` close every block and yield
///   `Finish` (per [`status_to_ir`]; tool calls make a completed response
///   [`StopReason::ToolCalls`]), `Usage` and `Done`; `response.failed` and
///   `error` yield an error. Built-in tool items are skipped.
#[derive(Debug, Default)]
pub struct ResponsesStreamDecoder {
    pending_start: Option<(String, String, Option<i64>)>,
    started: bool,
    items: HashMap<u32, ItemState>,
    by_id: HashMap<String, u32>,
    next_block: u32,
    saw_tool: bool,
    ended: bool,
}

/// A reasoning text piece: (`true` for summary, `false` for raw text, index).
type Piece = (bool, u32);

#[derive(Debug, Default)]
struct ItemState {
    /// Message parts by content index: (block, open).
    parts: BTreeMap<u32, (u32, bool)>,
    /// The reasoning or tool-call block.
    block: Option<u32>,
    open: bool,
    streamed: bool,
    pieces: Vec<Piece>,
    signed: bool,
}

fn item_id_of(item: &Item) -> Option<&str> {
    match item {
        Item::Message(m) => m.id.as_deref(),
        Item::Reasoning(r) => r.id.as_deref(),
        Item::FunctionCall(c) => c.id.as_deref(),
        _ => None,
    }
}

fn part_text(part: &ContentPart) -> &str {
    match part {
        ContentPart::OutputText(p) => &p.text,
        ContentPart::Refusal(p) => &p.refusal,
        _ => "",
    }
}

impl ResponsesStreamDecoder {
    /// A decoder for a new stream.
    pub fn new() -> Self {
        Self::default()
    }

    fn ensure_start(&mut self, out: &mut Out) {
        if !self.started {
            self.started = true;
            let (id, model, created) = self.pending_start.take().unwrap_or_default();
            out.push(StreamEvent::MessageStart { id, model, created });
        }
    }

    fn open(&mut self, kind: BlockKind, out: &mut Out) -> u32 {
        self.ensure_start(out);
        let index = self.next_block;
        self.next_block += 1;
        out.push(StreamEvent::BlockStart { index, kind });
        index
    }

    /// The key (output index) of an item, preferring its id.
    fn key(&self, output_index: u32, item_id: &str) -> u32 {
        self.by_id.get(item_id).copied().unwrap_or(output_index)
    }

    fn state(&mut self, key: u32, item_id: &str) -> &mut ItemState {
        if !item_id.is_empty() {
            self.by_id.entry(item_id.to_owned()).or_insert(key);
        }
        self.items.entry(key).or_default()
    }

    fn terminal(&mut self, response: &ResponseObject, out: &mut Out) {
        for (key, item) in (0_u32..).zip(&response.output) {
            if !self.items.contains_key(&key)
                && item_id_of(item).is_none_or(|id| !self.by_id.contains_key(id))
            {
                self.finish_item(key, item, out);
            }
        }
        let mut keys: Vec<u32> = self.items.keys().copied().collect();
        keys.sort_unstable();
        for key in keys {
            self.close_item(key, out);
        }
        self.ensure_start(out);
        let reason = response
            .incomplete_details
            .as_ref()
            .and_then(|d| d.reason.as_deref());
        let reason = match status_to_ir(&response.status, reason) {
            None | Some(StopReason::Stop) if self.saw_tool => StopReason::ToolCalls,
            None => StopReason::Stop,
            Some(reason) => reason,
        };
        out.push(StreamEvent::Finish {
            reason,
            stop_sequence: None,
        });
        if let Some(usage) = &response.usage {
            out.push(StreamEvent::Usage(usage.to_usage()));
        }
        out.push(StreamEvent::Done);
        self.ended = true;
    }

    fn fail(&mut self, error: Error, out: &mut Out) {
        self.ended = true;
        out.push(StreamEvent::Error(error));
    }
}

impl StreamDecoder for ResponsesStreamDecoder {
    fn decode(
        &mut self,
        _event: Option<&str>,
        data: &[u8],
        out: &mut Out,
    ) -> Result<(), ConvertError> {
        use ResponsesStreamEvent as E;
        if self.ended {
            return Ok(());
        }
        match serde_json::from_slice::<E>(data)? {
            E::Created { response, .. }
            | E::Queued { response, .. }
            | E::InProgress { response, .. } => {
                if !self.started && self.pending_start.is_none() {
                    let created = (response.created_at != 0).then_some(response.created_at);
                    self.pending_start = Some((response.id, response.model, created));
                }
            }
            E::OutputItemAdded {
                output_index, item, ..
            } => {
                let key = self.key(output_index, item_id_of(&item).unwrap_or(""));
                self.added(key, &item, out);
            }
            E::OutputItemDone {
                output_index, item, ..
            } => {
                let key = self.key(output_index, item_id_of(&item).unwrap_or(""));
                self.finish_item(key, &item, out);
            }
            E::OutputTextDelta {
                item_id,
                output_index,
                content_index,
                delta,
                ..
            }
            | E::RefusalDelta {
                item_id,
                output_index,
                content_index,
                delta,
                ..
            } => {
                let key = self.key(output_index, &item_id);
                self.text(key, content_index, &delta, out);
            }
            E::OutputTextDone {
                item_id,
                output_index,
                content_index,
                text,
                ..
            }
            | E::RefusalDone {
                item_id,
                output_index,
                content_index,
                refusal: text,
                ..
            } => {
                let key = self.key(output_index, &item_id);
                self.part_done(key, content_index, &text, out);
            }
            E::ContentPartDone {
                item_id,
                output_index,
                content_index,
                part,
                ..
            } => {
                let key = self.key(output_index, &item_id);
                self.part_done(key, content_index, part_text(&part), out);
            }
            E::FunctionCallArgumentsDelta {
                item_id,
                output_index,
                delta,
                ..
            } => {
                let key = self.key(output_index, &item_id);
                self.args(key, &delta, out);
            }
            E::FunctionCallArgumentsDone {
                item_id,
                output_index,
                arguments,
                ..
            } => {
                let key = self.key(output_index, &item_id);
                if self.items.get(&key).is_none_or(|s| !s.streamed) {
                    self.args(key, &arguments, out);
                }
            }
            E::ReasoningSummaryTextDelta {
                item_id,
                output_index,
                summary_index,
                delta,
                ..
            } => {
                let key = self.key(output_index, &item_id);
                self.thinking(key, (true, summary_index), &delta, out);
            }
            E::ReasoningSummaryTextDone {
                item_id,
                output_index,
                summary_index,
                text,
                ..
            } => {
                let key = self.key(output_index, &item_id);
                self.piece_done(key, (true, summary_index), &text, out);
            }
            E::ReasoningSummaryPartDone {
                item_id,
                output_index,
                summary_index,
                part,
                ..
            } => {
                let key = self.key(output_index, &item_id);
                self.piece_done(key, (true, summary_index), &part.text, out);
            }
            E::ReasoningTextDelta {
                item_id,
                output_index,
                content_index,
                delta,
                ..
            } => {
                let key = self.key(output_index, &item_id);
                self.thinking(key, (false, content_index), &delta, out);
            }
            E::ReasoningTextDone {
                item_id,
                output_index,
                content_index,
                text,
                ..
            } => {
                let key = self.key(output_index, &item_id);
                self.piece_done(key, (false, content_index), &text, out);
            }
            E::Completed { response, .. } | E::Incomplete { response, .. } => {
                self.terminal(&response, out);
            }
            E::Failed { response, .. } => {
                let error = response_error(&response)
                    .unwrap_or_else(|| Error::new(ErrorKind::Api, "the upstream response failed"));
                self.fail(error, out);
            }
            E::Error {
                code,
                message,
                error,
                ..
            } => {
                self.fail(event_error(code, message, error.as_ref()), out);
            }
            E::ContentPartAdded { .. } | E::ReasoningSummaryPartAdded { .. } | E::Unknown => {}
        }
        Ok(())
    }

    fn finish(&mut self, out: &mut Out) {
        if !self.ended {
            self.fail(
                Error::new(
                    ErrorKind::Api,
                    "upstream stream ended before the response was complete",
                ),
                out,
            );
        }
    }
}
