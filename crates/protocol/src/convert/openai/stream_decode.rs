//! OpenAI chat chunk stream → canonical stream events.

use super::error::error_value_to_ir;
use super::response::finish_reason_to_ir;
use crate::Usage;
use crate::convert::util::JsonCompletion;
use crate::convert::{ConvertError, StreamDecoder};
use crate::ir::{BlockKind, Error, ErrorKind, StopReason, StreamEvent};
use crate::openai::{ChatCompletionChunk, ChunkDelta, OpenAiUsage, ToolCallDelta};

/// Decodes an OpenAI `chat.completion.chunk` stream (choice 0).
///
/// Block structure is inferred, since OpenAI has no block events:
/// reasoning (`reasoning_content`/`reasoning`), text (`content`, and
/// `refusal`) and each tool call (by `index`) are blocks. A text or
/// thinking block closes when another kind of output starts. A tool call
/// closes when a new tool call starts *and* its arguments already form a
/// complete JSON value, or at the end; so the usual sequential streams are
/// passed on block by block, and interleaved argument streams stay correct
/// (the blocks overlap). Usage is kept (latest wins) and reported once,
/// right before [`StreamEvent::Done`], which `[DONE]` or the end of the body
/// produces.
#[derive(Debug, Default)]
pub struct OpenAiStreamDecoder {
    started: bool,
    id: String,
    next_index: u32,
    text: Option<u32>,
    thinking: Option<u32>,
    tools: Vec<ToolSlot>,
    finished: bool,
    usage: Option<Usage>,
    ended: bool,
}

#[derive(Debug)]
struct ToolSlot {
    wire_index: Option<u32>,
    id: String,
    block: u32,
    open: bool,
    args: JsonCompletion,
}

impl OpenAiStreamDecoder {
    /// A decoder for a new stream.
    pub fn new() -> Self {
        Self::default()
    }

    fn open(&mut self, kind: BlockKind, out: &mut Vec<StreamEvent>) -> u32 {
        let index = self.next_index;
        self.next_index += 1;
        out.push(StreamEvent::BlockStart { index, kind });
        index
    }

    fn close_text(&mut self, out: &mut Vec<StreamEvent>) {
        if let Some(index) = self.text.take() {
            out.push(StreamEvent::BlockStop { index });
        }
    }

    fn close_thinking(&mut self, out: &mut Vec<StreamEvent>) {
        if let Some(index) = self.thinking.take() {
            out.push(StreamEvent::BlockStop { index });
        }
    }

    /// Closes open tool blocks; only those with complete arguments unless
    /// `all`.
    fn close_tools(&mut self, all: bool, out: &mut Vec<StreamEvent>) {
        for slot in self.tools.iter_mut().filter(|s| s.open) {
            if all || slot.args.is_complete() {
                slot.open = false;
                out.push(StreamEvent::BlockStop { index: slot.block });
            }
        }
    }

    fn close_all(&mut self, out: &mut Vec<StreamEvent>) {
        self.close_thinking(out);
        self.close_text(out);
        self.close_tools(true, out);
    }

    fn thinking_block(&mut self, out: &mut Vec<StreamEvent>) -> u32 {
        if let Some(index) = self.thinking {
            return index;
        }
        self.close_text(out);
        self.close_tools(true, out);
        let index = self.open(BlockKind::Thinking, out);
        self.thinking = Some(index);
        index
    }

    fn text_block(&mut self, out: &mut Vec<StreamEvent>) -> u32 {
        if let Some(index) = self.text {
            return index;
        }
        self.close_thinking(out);
        self.close_tools(true, out);
        let index = self.open(BlockKind::Text, out);
        self.text = Some(index);
        index
    }

    fn delta(&mut self, delta: ChunkDelta, out: &mut Vec<StreamEvent>) {
        let reasoning = delta.reasoning_content.or(delta.reasoning);
        if let Some(text) = reasoning.filter(|t| !t.is_empty()) {
            let index = self.thinking_block(out);
            out.push(StreamEvent::ThinkingDelta { index, text });
        }
        if let Some(signature) = delta.reasoning_signature.filter(|s| !s.is_empty()) {
            let index = self.thinking_block(out);
            out.push(StreamEvent::SignatureDelta { index, signature });
        }
        for block in delta.thinking_blocks.unwrap_or_default() {
            if block.kind == "redacted_thinking"
                && let Some(data) = block.data
            {
                self.close_all(out);
                let index = self.open(BlockKind::RedactedThinking { data }, out);
                out.push(StreamEvent::BlockStop { index });
            }
        }
        for text in [delta.content, delta.refusal].into_iter().flatten() {
            if !text.is_empty() {
                let index = self.text_block(out);
                out.push(StreamEvent::TextDelta { index, text });
            }
        }
        for call in delta.tool_calls.unwrap_or_default() {
            self.tool_delta(call, out);
        }
    }

    fn tool_delta(&mut self, call: ToolCallDelta, out: &mut Vec<StreamEvent>) {
        let found = match (call.index, call.id.as_deref()) {
            (Some(i), _) => self.tools.iter().position(|s| s.wire_index == Some(i)),
            (None, Some(id)) => self.tools.iter().position(|s| s.id == id),
            (None, None) => self.tools.len().checked_sub(1),
        };
        let (name, arguments) = call
            .function
            .map(|f| (f.name, f.arguments))
            .unwrap_or_default();
        let slot = match found {
            Some(slot) => slot,
            None => {
                self.close_thinking(out);
                self.close_text(out);
                self.close_tools(false, out);
                let n = self.tools.len();
                let id = call
                    .id
                    .filter(|id| !id.is_empty())
                    .unwrap_or_else(|| format!("call_{}_{n}", self.id));
                let block = self.open(
                    BlockKind::ToolCall {
                        id: id.clone(),
                        name: name.unwrap_or_default(),
                    },
                    out,
                );
                self.tools.push(ToolSlot {
                    wire_index: call.index,
                    id,
                    block,
                    open: true,
                    args: JsonCompletion::default(),
                });
                n
            }
        };
        let Some(slot) = self.tools.get_mut(slot) else {
            return;
        };
        // A closed call only ever gets trailing whitespace in valid streams.
        if let Some(fragment) = arguments.filter(|a| !a.is_empty())
            && slot.open
        {
            slot.args.feed(&fragment);
            out.push(StreamEvent::ToolArgsDelta {
                index: slot.block,
                fragment,
            });
        }
    }

    fn end(&mut self, out: &mut Vec<StreamEvent>) {
        self.close_all(out);
        if !self.finished {
            self.finished = true;
            let reason = if self.tools.is_empty() {
                StopReason::Stop
            } else {
                StopReason::ToolCalls
            };
            out.push(StreamEvent::Finish {
                reason,
                stop_sequence: None,
            });
        }
        if let Some(usage) = self.usage.take() {
            out.push(StreamEvent::Usage(usage));
        }
        out.push(StreamEvent::Done);
        self.ended = true;
    }
}

impl StreamDecoder for OpenAiStreamDecoder {
    fn decode(
        &mut self,
        _event: Option<&str>,
        data: &[u8],
        out: &mut Vec<StreamEvent>,
    ) -> Result<(), ConvertError> {
        if self.ended {
            return Ok(());
        }
        if data.trim_ascii() == b"[DONE]" {
            self.end(out);
            return Ok(());
        }
        let chunk: ChatCompletionChunk = serde_json::from_slice(data)?;
        if let Some(error) = chunk.error {
            out.push(StreamEvent::Error(error_value_to_ir(None, &error)));
            self.ended = true;
            return Ok(());
        }
        if !self.started {
            self.started = true;
            self.id.clone_from(&chunk.id);
            out.push(StreamEvent::MessageStart {
                id: chunk.id.clone(),
                model: chunk.model.clone(),
                created: (chunk.created != 0).then_some(chunk.created),
            });
        }
        if let Some(usage) = &chunk.usage {
            self.usage = Some(usage.to_usage());
        }
        for choice in chunk.choices.into_iter().filter(|c| c.index == 0) {
            // Moonshot reports usage inside the last choice.
            if let Some(usage) = choice
                .extra
                .get("usage")
                .and_then(|u| serde_json::from_value::<OpenAiUsage>(u.clone()).ok())
            {
                self.usage = Some(usage.to_usage());
            }
            if self.finished {
                break;
            }
            self.delta(choice.delta, out);
            if let Some(reason) = choice.finish_reason.filter(|r| !r.is_empty()) {
                self.close_all(out);
                self.finished = true;
                out.push(StreamEvent::Finish {
                    reason: finish_reason_to_ir(&reason),
                    stop_sequence: None,
                });
            }
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
}
