//! Canonical stream events → Anthropic stream events.

use std::collections::VecDeque;

use serde_json::Map;

use super::content::empty_object;
use super::error::error_from_ir;
use super::response::stop_reason_from_ir;
use crate::Usage;
use crate::anthropic::{
    AnthropicUsage, BlockDelta, ContentBlock, MessageDeltaBody, MessageStreamEvent,
    MessagesResponse, RedactedThinkingBlock, TextBlock, ThinkingBlock, ToolUseBlock,
};
use crate::convert::{EncodeOptions, StreamEncoder};
use crate::ir::{BlockKind, StopReason, StreamEvent};

/// Encodes canonical events as an Anthropic Messages stream.
///
/// `message_start` comes first (input tokens from
/// [`EncodeOptions::estimated_input_tokens`], or 0; the real counts follow
/// in `message_delta`), then each block as `content_block_start`, deltas
/// and `content_block_stop`, then `message_delta` (stop reason and final
/// usage, Anthropic's counting) and `message_stop`. An error becomes an
/// `error` event and ends the stream.
///
/// Anthropic allows one open block at a time. When canonical blocks
/// overlap (interleaved OpenAI tool calls), the first stays on the wire and
/// the events of the others are held until it stops, then replayed in
/// order — the only buffering, and only for overlapping blocks. A thinking
/// block's signature fragments are joined and sent as one `signature_delta`
/// just before the block stops (the SDKs assign, not append, signatures).
#[derive(Debug)]
pub struct AnthropicStreamEncoder {
    opts: EncodeOptions,
    id: String,
    model: String,
    started: bool,
    next_index: u32,
    active: Option<Active>,
    pending: VecDeque<Pending>,
    finish: Option<(StopReason, Option<String>)>,
    usage: Option<Usage>,
    saw_tool: bool,
    ended: bool,
}

#[derive(Debug)]
struct Active {
    ir: u32,
    wire: u32,
    thinking: bool,
    signature: String,
}

#[derive(Debug)]
struct Pending {
    ir: u32,
    kind: BlockKind,
    events: Vec<StreamEvent>,
    stopped: bool,
}

type Out = Vec<MessageStreamEvent>;

impl AnthropicStreamEncoder {
    /// An encoder reporting per `opts`.
    pub fn new(opts: EncodeOptions) -> Self {
        Self {
            model: opts.model.clone().unwrap_or_default(),
            opts,
            id: String::new(),
            started: false,
            next_index: 0,
            active: None,
            pending: VecDeque::new(),
            finish: None,
            usage: None,
            saw_tool: false,
            ended: false,
        }
    }

    fn start(&mut self, out: &mut Out) {
        if self.started {
            return;
        }
        self.started = true;
        let id = if self.id.is_empty() {
            "msg_unknown".to_owned()
        } else {
            self.id.clone()
        };
        out.push(MessageStreamEvent::MessageStart {
            message: MessagesResponse {
                id,
                kind: "message".to_owned(),
                role: "assistant".to_owned(),
                model: self.model.clone(),
                content: Vec::new(),
                stop_reason: None,
                stop_sequence: None,
                usage: AnthropicUsage {
                    input_tokens: Some(self.opts.estimated_input_tokens.unwrap_or(0)),
                    output_tokens: Some(0),
                    ..AnthropicUsage::default()
                },
                extra: Map::new(),
            },
        });
    }

    fn activate(&mut self, ir: u32, kind: &BlockKind, out: &mut Out) {
        let wire = self.next_index;
        self.next_index += 1;
        let content_block = match kind {
            BlockKind::Text => ContentBlock::Text(TextBlock::default()),
            BlockKind::Thinking => ContentBlock::Thinking(ThinkingBlock {
                signature: Some(String::new()),
                ..ThinkingBlock::default()
            }),
            BlockKind::RedactedThinking { data } => {
                ContentBlock::RedactedThinking(RedactedThinkingBlock {
                    data: data.clone(),
                    extra: Map::new(),
                })
            }
            BlockKind::ToolCall { id, name } => {
                self.saw_tool = true;
                ContentBlock::ToolUse(ToolUseBlock {
                    id: id.clone(),
                    name: name.clone(),
                    input: empty_object(),
                    cache_control: None,
                    extra: Map::new(),
                })
            }
        };
        out.push(MessageStreamEvent::ContentBlockStart {
            index: wire,
            content_block,
        });
        self.active = Some(Active {
            ir,
            wire,
            thinking: *kind == BlockKind::Thinking,
            signature: String::new(),
        });
    }

    /// Writes a delta for the active block.
    fn delta(&mut self, event: &StreamEvent, out: &mut Out) {
        let Some(active) = &mut self.active else {
            return;
        };
        let delta = match event {
            StreamEvent::TextDelta { text, .. } => BlockDelta::TextDelta { text: text.clone() },
            StreamEvent::ThinkingDelta { text, .. } => BlockDelta::ThinkingDelta {
                thinking: text.clone(),
            },
            StreamEvent::ToolArgsDelta { fragment, .. } => BlockDelta::InputJsonDelta {
                partial_json: fragment.clone(),
            },
            StreamEvent::SignatureDelta { signature, .. } => {
                if active.thinking {
                    active.signature.push_str(signature);
                }
                return;
            }
            _ => return,
        };
        out.push(MessageStreamEvent::ContentBlockDelta {
            index: active.wire,
            delta,
        });
    }

    fn stop_active(&mut self, out: &mut Out) {
        let Some(active) = self.active.take() else {
            return;
        };
        if !active.signature.is_empty() {
            out.push(MessageStreamEvent::ContentBlockDelta {
                index: active.wire,
                delta: BlockDelta::SignatureDelta {
                    signature: active.signature,
                },
            });
        }
        out.push(MessageStreamEvent::ContentBlockStop { index: active.wire });
    }

    /// Replays held blocks while nothing is on the wire; `force` also
    /// stops blocks that have not stopped yet (end of stream).
    fn drain(&mut self, force: bool, out: &mut Out) {
        while self.active.is_none() {
            let Some(block) = self.pending.pop_front() else {
                return;
            };
            self.activate(block.ir, &block.kind, out);
            for event in &block.events {
                self.delta(event, out);
            }
            if block.stopped || force {
                self.stop_active(out);
            }
        }
    }

    fn finish_message(&mut self, out: &mut Out) {
        self.stop_active(out);
        self.drain(true, out);
        self.stop_active(out);
        let (reason, sequence) = self.finish.take().unwrap_or(if self.saw_tool {
            (StopReason::ToolCalls, None)
        } else {
            (StopReason::Stop, None)
        });
        out.push(MessageStreamEvent::MessageDelta {
            delta: MessageDeltaBody {
                stop_reason: Some(stop_reason_from_ir(&reason, sequence.is_some()).to_owned()),
                stop_sequence: sequence,
            },
            usage: Some(AnthropicUsage::from_usage(&self.usage.unwrap_or_default())),
        });
        out.push(MessageStreamEvent::MessageStop);
        self.ended = true;
    }
}

fn event_index(event: &StreamEvent) -> Option<u32> {
    match event {
        StreamEvent::TextDelta { index, .. }
        | StreamEvent::ThinkingDelta { index, .. }
        | StreamEvent::SignatureDelta { index, .. }
        | StreamEvent::ToolArgsDelta { index, .. } => Some(*index),
        _ => None,
    }
}

impl StreamEncoder for AnthropicStreamEncoder {
    type Item = MessageStreamEvent;

    fn encode_event(&mut self, event: &StreamEvent, out: &mut Out) {
        if self.ended {
            return;
        }
        match event {
            StreamEvent::MessageStart { id, model, .. } => {
                self.id.clone_from(id);
                if self.opts.model.is_none() {
                    self.model.clone_from(model);
                }
                self.start(out);
            }
            StreamEvent::Error(error) => {
                self.ended = true;
                out.push(MessageStreamEvent::Error {
                    error: error_from_ir(error).error,
                });
            }
            StreamEvent::BlockStart { index, kind } => {
                self.start(out);
                if self.active.is_none() && self.pending.is_empty() {
                    self.activate(*index, kind, out);
                } else {
                    self.pending.push_back(Pending {
                        ir: *index,
                        kind: kind.clone(),
                        events: Vec::new(),
                        stopped: false,
                    });
                }
            }
            StreamEvent::BlockStop { index } => {
                if self.active.as_ref().is_some_and(|a| a.ir == *index) {
                    self.stop_active(out);
                    self.drain(false, out);
                } else if let Some(block) = self.pending.iter_mut().find(|p| p.ir == *index) {
                    block.stopped = true;
                }
            }
            StreamEvent::Finish {
                reason,
                stop_sequence,
            } => self.finish = Some((reason.clone(), stop_sequence.clone())),
            StreamEvent::Usage(usage) => self.usage = Some(*usage),
            StreamEvent::Done => {
                self.start(out);
                self.finish_message(out);
            }
            delta => {
                let Some(index) = event_index(delta) else {
                    return;
                };
                if self.active.as_ref().is_some_and(|a| a.ir == index) {
                    self.delta(delta, out);
                } else if let Some(block) = self.pending.iter_mut().find(|p| p.ir == index) {
                    block.events.push(delta.clone());
                }
            }
        }
    }

    fn event_name(item: &MessageStreamEvent) -> Option<&'static str> {
        Some(item.name())
    }
}
