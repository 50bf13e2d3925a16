//! Canonical stream events → Responses stream events (Responses client,
//! Chat/Anthropic/Gemini upstream).

mod blocks;

use std::collections::HashMap;

use serde_json::Map;

use super::error::code_from_ir;
use super::response::{item_id, set_status, skeleton, usage_from_ir};
use crate::Usage;
use crate::convert::{EncodeOptions, StreamEncoder};
use crate::ir::{BlockKind, Error, StopReason, StreamEvent};
use crate::responses::{
    ContentPart, Item, MessageContent, MessageItem, ResponseError, ResponseObject,
    ResponsesStreamEvent as E,
};

type Out = Vec<E>;

/// Encodes canonical events as a Responses stream, with the lifecycle a
/// Responses client expects:
///
/// - `response.created` and `response.in_progress` first (status
///   `in_progress`, empty output);
/// - each text block: `output_item.added` (an assistant message),
///   `content_part.added`, `output_text.delta`s, `output_text.done`,
///   `content_part.done`, `output_item.done`;
/// - each thinking block: a reasoning item whose text streams as one
///   summary part (`reasoning_summary_part.added`,
///   `reasoning_summary_text.delta`s, `…text.done`, `…part.done`) and whose
///   signature is the `encrypted_content` of `output_item.done`; redacted
///   thinking and tool-call signatures ride in reasoning items per
///   [`super::reasoning`];
/// - each tool call: a `function_call` item, `function_call_arguments.delta`s
///   (`{}` when none streamed) and `.done`;
/// - at the end `response.completed`, `response.incomplete` (length,
///   content filter) or `response.failed`, carrying every output item and
///   the usage.
///
/// Sequence numbers increase from 0; item ids
/// (`msg_`/`rs_`/`fc_` + response id + output index) are stable from
/// `added` to `done` and in the final response. Blocks that overlap
/// (interleaved upstream tool calls) are separate items streamed as they
/// come; every event names its `output_index` and `item_id`. An error
/// becomes an `error` event, followed by `response.failed` once the
/// response was announced.
#[derive(Debug)]
pub struct ResponsesStreamEncoder {
    opts: EncodeOptions,
    id: String,
    model: String,
    created: i64,
    seq: u64,
    started: bool,
    blocks: HashMap<u32, OpenItem>,
    output: Vec<(u32, Item)>,
    next_output: u32,
    finish: Option<StopReason>,
    usage: Option<Usage>,
    ended: bool,
}

#[derive(Debug)]
struct OpenItem {
    output_index: u32,
    item_id: String,
    kind: BlockKind,
    text: String,
    signature: String,
    summary_open: bool,
}

impl ResponsesStreamEncoder {
    /// An encoder reporting per `opts`.
    pub fn new(opts: EncodeOptions) -> Self {
        Self {
            model: opts.model.clone().unwrap_or_default(),
            created: opts.created,
            opts,
            id: String::new(),
            seq: 0,
            started: false,
            blocks: HashMap::new(),
            output: Vec::new(),
            next_output: 0,
            finish: None,
            usage: None,
            ended: false,
        }
    }

    pub(super) fn seq(&mut self) -> u64 {
        let n = self.seq;
        self.seq += 1;
        n
    }

    fn snapshot(&self, status: &str) -> Box<ResponseObject> {
        Box::new(skeleton(&self.id, &self.model, self.created, status))
    }

    fn start(&mut self, out: &mut Out) {
        if self.started {
            return;
        }
        self.started = true;
        self.id = self.snapshot("in_progress").id;
        let response = self.snapshot("in_progress");
        let sequence_number = self.seq();
        out.push(E::Created {
            response: response.clone(),
            sequence_number,
        });
        let sequence_number = self.seq();
        out.push(E::InProgress {
            response,
            sequence_number,
        });
    }

    pub(super) fn next_output(&mut self) -> u32 {
        let n = self.next_output;
        self.next_output += 1;
        n
    }

    pub(super) fn added(&mut self, output_index: u32, item: Item, out: &mut Out) {
        let sequence_number = self.seq();
        out.push(E::OutputItemAdded {
            output_index,
            item,
            sequence_number,
        });
    }

    pub(super) fn done(&mut self, output_index: u32, item: Item, out: &mut Out) {
        let sequence_number = self.seq();
        out.push(E::OutputItemDone {
            output_index,
            item: item.clone(),
            sequence_number,
        });
        self.output.push((output_index, item));
    }

    fn close_all(&mut self, out: &mut Out) {
        let mut open: Vec<u32> = self.blocks.keys().copied().collect();
        open.sort_unstable();
        for index in open {
            self.block_stop(index, out);
        }
    }

    fn final_response(&self, reason: &StopReason) -> Box<ResponseObject> {
        let mut response = self.snapshot("completed");
        let mut output = self.output.clone();
        output.sort_by_key(|(i, _)| *i);
        response.output = output.into_iter().map(|(_, item)| item).collect();
        set_status(&mut response, reason);
        response.usage = self.usage.as_ref().map(usage_from_ir);
        response
    }

    fn end(&mut self, out: &mut Out) {
        self.start(out);
        self.close_all(out);
        let reason = self.finish.clone().unwrap_or(StopReason::Stop);
        let response = self.final_response(&reason);
        let sequence_number = self.seq();
        out.push(match response.status.as_str() {
            "incomplete" => E::Incomplete {
                response,
                sequence_number,
            },
            "failed" => E::Failed {
                response,
                sequence_number,
            },
            _ => E::Completed {
                response,
                sequence_number,
            },
        });
        self.ended = true;
    }

    fn error(&mut self, error: &Error, out: &mut Out) {
        let code = code_from_ir(error);
        let sequence_number = self.seq();
        out.push(E::Error {
            code: Some(code.clone()),
            message: error.message.clone(),
            param: None,
            error: None,
            sequence_number,
        });
        if self.started {
            let mut response = self.final_response(&StopReason::Error);
            response.error = Some(ResponseError {
                code: Some(code),
                message: error.message.clone(),
                extra: Map::new(),
            });
            let sequence_number = self.seq();
            out.push(E::Failed {
                response,
                sequence_number,
            });
        }
        self.ended = true;
    }
}

fn item_id_for(response_id: &str, prefix: &str, output_index: u32) -> String {
    item_id(prefix, response_id, output_index as usize)
}

fn message(id: &str, status: &str, parts: Vec<ContentPart>) -> Item {
    Item::Message(MessageItem {
        id: Some(id.to_owned()),
        role: "assistant".to_owned(),
        content: MessageContent::Parts(parts),
        status: Some(status.to_owned()),
        extra: Map::new(),
    })
}

impl StreamEncoder for ResponsesStreamEncoder {
    type Item = E;

    fn encode_event(&mut self, event: &StreamEvent, out: &mut Out) {
        if self.ended {
            return;
        }
        match event {
            StreamEvent::MessageStart { id, model, created } => {
                if !self.started {
                    self.id.clone_from(id);
                    if self.opts.model.is_none() {
                        self.model.clone_from(model);
                    }
                    if let Some(created) = created {
                        self.created = *created;
                    }
                }
                self.start(out);
            }
            StreamEvent::Error(error) => self.error(error, out),
            StreamEvent::BlockStart { index, kind } => {
                self.start(out);
                self.block_start(*index, kind, out);
            }
            StreamEvent::BlockStop { index } => self.block_stop(*index, out),
            StreamEvent::TextDelta { index, .. }
            | StreamEvent::ThinkingDelta { index, .. }
            | StreamEvent::SignatureDelta { index, .. }
            | StreamEvent::ToolArgsDelta { index, .. } => self.delta(*index, event, out),
            StreamEvent::Finish { reason, .. } => self.finish = Some(reason.clone()),
            StreamEvent::Usage(usage) => self.usage = Some(*usage),
            StreamEvent::Done => self.end(out),
        }
    }

    fn event_name(item: &E) -> Option<&'static str> {
        Some(item.name())
    }
}
