//! Anthropic stream events → canonical stream events.

use std::collections::HashMap;

use super::defaults::JSON_TOOL_NAME;
use super::error::error_to_ir;
use super::response::stop_reason_to_ir;
use crate::Usage;
use crate::anthropic::{AnthropicUsage, BlockDelta, ContentBlock, MessageStreamEvent};
use crate::convert::util::object_to_arguments;
use crate::convert::{ConvertError, StreamDecoder};
use crate::ir::{BlockKind, Error, ErrorKind, StopReason, StreamEvent};

/// Decodes an Anthropic Messages stream.
///
/// Blocks map one to one (canonical index = Anthropic index); blocks of
/// unknown types (server tool use, web search results) are skipped with
/// their deltas. A block of the JSON-output tool is decoded as text. Usage
/// from `message_start` is overlaid with `message_delta`'s cumulative
/// counters and reported once, normalised, at `message_stop`; until then
/// `message_start`'s input counts are the [`StreamDecoder::input_usage`].
#[derive(Debug, Default)]
pub struct AnthropicStreamDecoder {
    blocks: HashMap<u32, Kind>,
    usage: AnthropicUsage,
    saw_tool: bool,
    finished: bool,
    ended: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Text,
    Thinking,
    Tool,
    JsonTool,
    Redacted,
}

impl AnthropicStreamDecoder {
    /// A decoder for a new stream.
    pub fn new() -> Self {
        Self::default()
    }

    fn block_start(&mut self, index: u32, block: ContentBlock, out: &mut Vec<StreamEvent>) {
        let (kind, ir_kind) = match &block {
            ContentBlock::Text(_) => (Kind::Text, BlockKind::Text),
            ContentBlock::Thinking(_) => (Kind::Thinking, BlockKind::Thinking),
            ContentBlock::RedactedThinking(b) => (
                Kind::Redacted,
                BlockKind::RedactedThinking {
                    data: b.data.clone(),
                },
            ),
            ContentBlock::ToolUse(b) if b.name == JSON_TOOL_NAME => {
                (Kind::JsonTool, BlockKind::Text)
            }
            ContentBlock::ToolUse(b) => {
                self.saw_tool = true;
                (
                    Kind::Tool,
                    BlockKind::ToolCall {
                        id: b.id.clone(),
                        name: b.name.clone(),
                    },
                )
            }
            _ => return,
        };
        self.blocks.insert(index, kind);
        out.push(StreamEvent::BlockStart {
            index,
            kind: ir_kind,
        });
        // Start events normally carry empty content; pass on anything else.
        match block {
            ContentBlock::Text(b) if !b.text.is_empty() => {
                out.push(StreamEvent::TextDelta {
                    index,
                    text: b.text,
                });
            }
            ContentBlock::Thinking(b) => {
                if !b.thinking.is_empty() {
                    out.push(StreamEvent::ThinkingDelta {
                        index,
                        text: b.thinking,
                    });
                }
                if let Some(signature) = b.signature.filter(|s| !s.is_empty()) {
                    out.push(StreamEvent::SignatureDelta { index, signature });
                }
            }
            ContentBlock::ToolUse(b) if b.input.as_object().is_some_and(|m| !m.is_empty()) => {
                let text = object_to_arguments(&b.input);
                out.push(if kind == Kind::JsonTool {
                    StreamEvent::TextDelta { index, text }
                } else {
                    StreamEvent::ToolArgsDelta {
                        index,
                        fragment: text,
                    }
                });
            }
            _ => {}
        }
    }

    fn block_delta(&mut self, index: u32, delta: BlockDelta, out: &mut Vec<StreamEvent>) {
        let Some(kind) = self.blocks.get(&index).copied() else {
            return;
        };
        let event = match (kind, delta) {
            (Kind::Text, BlockDelta::TextDelta { text }) => StreamEvent::TextDelta { index, text },
            (Kind::Thinking, BlockDelta::ThinkingDelta { thinking }) => {
                StreamEvent::ThinkingDelta {
                    index,
                    text: thinking,
                }
            }
            (Kind::Thinking, BlockDelta::SignatureDelta { signature }) => {
                StreamEvent::SignatureDelta { index, signature }
            }
            (Kind::Tool, BlockDelta::InputJsonDelta { partial_json }) => {
                StreamEvent::ToolArgsDelta {
                    index,
                    fragment: partial_json,
                }
            }
            (Kind::JsonTool, BlockDelta::InputJsonDelta { partial_json }) => {
                StreamEvent::TextDelta {
                    index,
                    text: partial_json,
                }
            }
            _ => return,
        };
        let empty = match &event {
            StreamEvent::TextDelta { text, .. } | StreamEvent::ThinkingDelta { text, .. } => {
                text.is_empty()
            }
            StreamEvent::ToolArgsDelta { fragment, .. } => fragment.is_empty(),
            _ => false,
        };
        if !empty {
            out.push(event);
        }
    }

    fn close_all(&mut self, out: &mut Vec<StreamEvent>) {
        let mut open: Vec<u32> = self.blocks.drain().map(|(i, _)| i).collect();
        open.sort_unstable();
        out.extend(
            open.into_iter()
                .map(|index| StreamEvent::BlockStop { index }),
        );
    }

    fn end(&mut self, out: &mut Vec<StreamEvent>) {
        self.close_all(out);
        if !self.finished {
            self.finished = true;
            out.push(StreamEvent::Finish {
                reason: if self.saw_tool {
                    StopReason::ToolCalls
                } else {
                    StopReason::Stop
                },
                stop_sequence: None,
            });
        }
        out.push(StreamEvent::Usage(self.usage.to_usage()));
        out.push(StreamEvent::Done);
        self.ended = true;
    }
}

impl StreamDecoder for AnthropicStreamDecoder {
    fn decode(
        &mut self,
        _event: Option<&str>,
        data: &[u8],
        out: &mut Vec<StreamEvent>,
    ) -> Result<(), ConvertError> {
        if self.ended {
            return Ok(());
        }
        match serde_json::from_slice::<MessageStreamEvent>(data)? {
            MessageStreamEvent::MessageStart { message } => {
                self.usage = message.usage;
                out.push(StreamEvent::MessageStart {
                    id: message.id,
                    model: message.model,
                    created: None,
                });
            }
            MessageStreamEvent::ContentBlockStart {
                index,
                content_block,
            } => self.block_start(index, content_block, out),
            MessageStreamEvent::ContentBlockDelta { index, delta } => {
                self.block_delta(index, delta, out);
            }
            MessageStreamEvent::ContentBlockStop { index } => {
                if self.blocks.remove(&index).is_some() {
                    out.push(StreamEvent::BlockStop { index });
                }
            }
            MessageStreamEvent::MessageDelta { delta, usage } => {
                if let Some(usage) = &usage {
                    self.usage.merge(usage);
                }
                if let Some(reason) = delta.stop_reason.filter(|_| !self.finished) {
                    self.close_all(out);
                    self.finished = true;
                    let reason = match reason.as_str() {
                        "tool_use" if !self.saw_tool => StopReason::Stop,
                        other => stop_reason_to_ir(other),
                    };
                    out.push(StreamEvent::Finish {
                        reason,
                        stop_sequence: delta.stop_sequence,
                    });
                }
            }
            MessageStreamEvent::MessageStop => self.end(out),
            MessageStreamEvent::Error { error } => {
                self.ended = true;
                out.push(StreamEvent::Error(error_to_ir(None, &error)));
            }
            MessageStreamEvent::Ping | MessageStreamEvent::Unknown => {}
        }
        Ok(())
    }

    fn finish(&mut self, out: &mut Vec<StreamEvent>) {
        if self.ended {
            return;
        }
        if self.finished {
            self.end(out);
        } else {
            self.ended = true;
            out.push(StreamEvent::Error(Error::new(
                ErrorKind::Api,
                "upstream stream ended before the response was complete",
            )));
        }
    }

    /// `message_start`'s output count is a placeholder (usually 1), so only
    /// its input counts are given.
    fn input_usage(&self) -> Option<Usage> {
        self.usage
            .input_tokens
            .is_some()
            .then(|| self.usage.to_usage().input_only())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const START: &str = r#"{"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","model":"m","content":[],"usage":{"input_tokens":12,"cache_read_input_tokens":5,"output_tokens":1}}}"#;

    fn decode(decoder: &mut AnthropicStreamDecoder, data: &str) -> Vec<StreamEvent> {
        let mut out = Vec::new();
        decoder.decode(None, data.as_bytes(), &mut out).unwrap();
        out
    }

    #[test]
    fn message_start_gives_the_input_and_not_the_placeholder_output() {
        let mut decoder = AnthropicStreamDecoder::new();
        assert_eq!(decoder.input_usage(), None);
        decode(&mut decoder, START);
        let expected = Usage {
            input_tokens: 17,
            cached_tokens: 5,
            total_tokens: 17,
            ..Usage::default()
        };
        assert_eq!(decoder.input_usage(), Some(expected));
        // Cut here: the stream ends in an error and no usage event.
        let mut out = Vec::new();
        decoder.finish(&mut out);
        assert!(matches!(out.as_slice(), [StreamEvent::Error(_)]), "{out:?}");
        assert_eq!(decoder.input_usage(), Some(expected));
    }

    #[test]
    fn no_input_usage_when_message_start_has_no_counts() {
        let mut decoder = AnthropicStreamDecoder::new();
        decode(
            &mut decoder,
            r#"{"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","model":"m","content":[]}}"#,
        );
        assert_eq!(decoder.input_usage(), None);
    }
}
