//! Canonical stream events → OpenAI chat chunk stream.

use std::collections::HashMap;

use serde::Serialize;
use serde_json::{Map, json};

use super::error::error_from_ir;
use super::response::{finish_reason_from_ir, usage_from_ir};
use crate::Usage;
use crate::convert::{EncodeOptions, StreamEncoder};
use crate::ir::{BlockKind, StreamEvent};
use crate::openai::{
    ChatCompletionChunk, ChunkChoice, ChunkDelta, ErrorBody, FunctionDelta, ThinkingBlock,
    ToolCallDelta,
};

/// One client event of an OpenAI stream: a chunk, or an error object
/// (`data: {"error":{…}}`) when the upstream failed mid-stream.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum OpenAiStreamItem {
    /// A `chat.completion.chunk`.
    Chunk(Box<ChatCompletionChunk>),
    /// An error.
    Error(ErrorBody),
}

/// Encodes canonical events as `chat.completion.chunk`s.
///
/// The first chunk carries `role: assistant`; text is `content`, thinking
/// `reasoning_content`, signatures `reasoning_signature`, redacted thinking
/// a `thinking_blocks` entry; tool calls get OpenAI indices 0, 1, … in
/// start order, the first fragment carrying id and name and an empty
/// `arguments`; a call that streamed no arguments gets `{}`. `Finish` is a
/// chunk with an empty delta and `finish_reason`; at `Done`, a usage-only
/// chunk follows when the client asked for `include_usage`. The caller
/// writes `data: [DONE]` after the stream ends normally.
#[derive(Debug)]
pub struct OpenAiStreamEncoder {
    opts: EncodeOptions,
    id: String,
    model: String,
    created: i64,
    started: bool,
    tools: HashMap<u32, ToolSlot>,
    next_tool: u32,
    usage: Option<Usage>,
}

#[derive(Debug)]
struct ToolSlot {
    wire_index: u32,
    sent_args: bool,
}

impl OpenAiStreamEncoder {
    /// An encoder reporting per `opts`.
    pub fn new(opts: EncodeOptions) -> Self {
        Self {
            id: String::new(),
            model: opts.model.clone().unwrap_or_default(),
            created: opts.created,
            opts,
            started: false,
            tools: HashMap::new(),
            next_tool: 0,
            usage: None,
        }
    }

    fn chunk(&self, delta: ChunkDelta, finish_reason: Option<String>) -> OpenAiStreamItem {
        OpenAiStreamItem::Chunk(Box::new(ChatCompletionChunk {
            id: self.id.clone(),
            object: "chat.completion.chunk".to_owned(),
            created: self.created,
            model: self.model.clone(),
            choices: vec![ChunkChoice {
                index: 0,
                delta,
                finish_reason,
                extra: Map::new(),
            }],
            usage: None,
            error: None,
            extra: Map::new(),
        }))
    }

    fn start(&mut self, out: &mut Vec<OpenAiStreamItem>) {
        if self.started {
            return;
        }
        self.started = true;
        let delta = ChunkDelta {
            role: Some("assistant".to_owned()),
            content: Some(String::new()),
            ..ChunkDelta::default()
        };
        out.push(self.chunk(delta, None));
    }

    fn tool_delta(&self, index: u32, call: ToolCallDelta) -> ChunkDelta {
        ChunkDelta {
            tool_calls: Some(vec![ToolCallDelta {
                index: Some(index),
                ..call
            }]),
            ..ChunkDelta::default()
        }
    }

    fn args_delta(&self, wire_index: u32, fragment: String) -> ChunkDelta {
        self.tool_delta(
            wire_index,
            ToolCallDelta {
                function: Some(FunctionDelta {
                    name: None,
                    arguments: Some(fragment),
                }),
                ..ToolCallDelta::default()
            },
        )
    }
}

impl StreamEncoder for OpenAiStreamEncoder {
    type Item = OpenAiStreamItem;

    fn encode_event(&mut self, event: &StreamEvent, out: &mut Vec<OpenAiStreamItem>) {
        if let StreamEvent::MessageStart { id, model, created } = event {
            self.id.clone_from(id);
            if self.opts.model.is_none() {
                self.model.clone_from(model);
            }
            if let Some(created) = created {
                self.created = *created;
            }
        }
        if let StreamEvent::Error(error) = event {
            out.push(OpenAiStreamItem::Error(error_from_ir(error)));
            return;
        }
        self.start(out);
        let delta = match event {
            StreamEvent::MessageStart { .. } | StreamEvent::Error(_) => return,
            StreamEvent::BlockStart { index, kind } => match kind {
                BlockKind::Text | BlockKind::Thinking => return,
                BlockKind::RedactedThinking { data } => ChunkDelta {
                    thinking_blocks: Some(vec![ThinkingBlock {
                        kind: "redacted_thinking".to_owned(),
                        data: Some(data.clone()),
                        ..ThinkingBlock::default()
                    }]),
                    ..ChunkDelta::default()
                },
                BlockKind::ToolCall { id, name } => {
                    let wire_index = self.next_tool;
                    self.next_tool += 1;
                    self.tools.insert(
                        *index,
                        ToolSlot {
                            wire_index,
                            sent_args: false,
                        },
                    );
                    self.tool_delta(
                        wire_index,
                        ToolCallDelta {
                            id: Some(id.clone()),
                            kind: Some("function".to_owned()),
                            function: Some(FunctionDelta {
                                name: Some(name.clone()),
                                arguments: Some(String::new()),
                            }),
                            ..ToolCallDelta::default()
                        },
                    )
                }
            },
            StreamEvent::TextDelta { text, .. } => ChunkDelta {
                content: Some(text.clone()),
                ..ChunkDelta::default()
            },
            StreamEvent::ThinkingDelta { text, .. } => ChunkDelta {
                reasoning_content: Some(text.clone()),
                ..ChunkDelta::default()
            },
            StreamEvent::SignatureDelta { index, signature } => match self.tools.get(index) {
                Some(slot) => {
                    let mut extra = Map::new();
                    extra.insert(
                        "extra_content".to_owned(),
                        json!({"google": {"thought_signature": signature}}),
                    );
                    self.tool_delta(
                        slot.wire_index,
                        ToolCallDelta {
                            extra,
                            ..ToolCallDelta::default()
                        },
                    )
                }
                None => ChunkDelta {
                    reasoning_signature: Some(signature.clone()),
                    ..ChunkDelta::default()
                },
            },
            StreamEvent::ToolArgsDelta { index, fragment } => {
                let Some(slot) = self.tools.get_mut(index) else {
                    return;
                };
                slot.sent_args = true;
                let wire_index = slot.wire_index;
                self.args_delta(wire_index, fragment.clone())
            }
            StreamEvent::BlockStop { index } => match self.tools.get(index) {
                Some(slot) if !slot.sent_args => self.args_delta(slot.wire_index, "{}".to_owned()),
                _ => return,
            },
            StreamEvent::Finish { reason, .. } => {
                let finish = finish_reason_from_ir(reason).to_owned();
                out.push(self.chunk(ChunkDelta::default(), Some(finish)));
                return;
            }
            StreamEvent::Usage(usage) => {
                self.usage = Some(*usage);
                return;
            }
            StreamEvent::Done => {
                if self.opts.include_usage {
                    let usage = self.usage.unwrap_or_default();
                    out.push(OpenAiStreamItem::Chunk(Box::new(ChatCompletionChunk {
                        id: self.id.clone(),
                        object: "chat.completion.chunk".to_owned(),
                        created: self.created,
                        model: self.model.clone(),
                        choices: Vec::new(),
                        usage: Some(usage_from_ir(&usage)),
                        error: None,
                        extra: Map::new(),
                    })));
                }
                return;
            }
        };
        out.push(self.chunk(delta, None));
    }

    fn event_name(_item: &OpenAiStreamItem) -> Option<&'static str> {
        None
    }
}
