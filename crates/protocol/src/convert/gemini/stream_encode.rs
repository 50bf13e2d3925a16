//! Canonical stream events → Gemini stream chunks.

use std::collections::HashMap;

use serde::Serialize;
use serde_json::Map;

use super::error::error_from_ir;
use super::response::{candidate, finish_reason_from_ir};
use crate::Usage;
use crate::convert::util::arguments_to_object;
use crate::convert::{EncodeOptions, StreamEncoder};
use crate::gemini::{FunctionCall, GeminiErrorBody, GenerateContentResponse, Part, UsageMetadata};
use crate::ir::{BlockKind, StopReason, StreamEvent};

/// One client event of a Gemini stream: a chunk, or an error object
/// (`data: {"error":{…}}`) when the upstream failed mid-stream.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum GeminiStreamItem {
    /// A `GenerateContentResponse` chunk.
    Chunk(Box<GenerateContentResponse>),
    /// An error.
    Error(GeminiErrorBody),
}

/// Encodes canonical events as `streamGenerateContent?alt=sse` chunks.
///
/// Gemini has no start or block events: each text or thinking delta is
/// sent at once as a chunk with one part (`text`, or `text` +
/// `thought: true`). A thinking block's signature is sent when the block
/// stops, on an empty part (`thought: true` when the block had text, so a
/// client echoing the parts back gets them joined into one signed
/// thought). Function calls must arrive whole, so a tool call's argument
/// fragments (and signature) are held until its block stops and then sent
/// as one `functionCall` part with its id and `thoughtSignature` — the
/// only buffering. Redacted thinking is dropped. The last chunk, at
/// [`StreamEvent::Done`], carries the `finishReason` and the
/// `usageMetadata`; every chunk carries `modelVersion` and `responseId`.
#[derive(Debug)]
pub struct GeminiStreamEncoder {
    opts: EncodeOptions,
    id: String,
    model: String,
    blocks: HashMap<u32, Block>,
    finish: Option<StopReason>,
    usage: Option<Usage>,
    ended: bool,
}

#[derive(Debug)]
enum Block {
    Text,
    Thinking {
        had_text: bool,
        signature: String,
    },
    Tool {
        id: String,
        name: String,
        args: String,
        signature: String,
    },
    Skipped,
}

impl GeminiStreamEncoder {
    /// An encoder reporting per `opts`.
    pub fn new(opts: EncodeOptions) -> Self {
        Self {
            model: opts.model.clone().unwrap_or_default(),
            opts,
            id: String::new(),
            blocks: HashMap::new(),
            finish: None,
            usage: None,
            ended: false,
        }
    }

    fn chunk(&self, parts: Vec<Part>, finish: Option<&str>) -> GeminiStreamItem {
        GeminiStreamItem::Chunk(Box::new(GenerateContentResponse {
            candidates: vec![candidate(parts, finish)],
            prompt_feedback: None,
            usage_metadata: None,
            model_version: Some(self.model.clone()),
            response_id: (!self.id.is_empty()).then(|| self.id.clone()),
            error: None,
            extra: Map::new(),
        }))
    }

    /// The part a stopped block still owes the client, if any.
    fn closing_part(block: Block) -> Option<Part> {
        match block {
            Block::Thinking {
                had_text,
                signature,
            } if !signature.is_empty() => Some(Part {
                text: Some(String::new()),
                thought: had_text.then_some(true),
                thought_signature: Some(signature),
                ..Part::default()
            }),
            Block::Tool {
                id,
                name,
                args,
                signature,
            } => Some(Part {
                function_call: Some(FunctionCall {
                    id: Some(id),
                    name,
                    args: Some(arguments_to_object(&args)),
                    extra: Map::new(),
                }),
                thought_signature: (!signature.is_empty()).then_some(signature),
                ..Part::default()
            }),
            _ => None,
        }
    }

    fn finish_stream(&mut self, out: &mut Vec<GeminiStreamItem>) {
        let mut open: Vec<u32> = self.blocks.keys().copied().collect();
        open.sort_unstable();
        let parts: Vec<Part> = open
            .into_iter()
            .filter_map(|i| self.blocks.remove(&i))
            .filter_map(Self::closing_part)
            .collect();
        let reason = self.finish.take().unwrap_or(StopReason::Stop);
        let item = self.chunk(parts, Some(finish_reason_from_ir(&reason)));
        if let GeminiStreamItem::Chunk(mut chunk) = item {
            chunk.usage_metadata = Some(UsageMetadata::from_usage(&self.usage.unwrap_or_default()));
            out.push(GeminiStreamItem::Chunk(chunk));
        }
        self.ended = true;
    }
}

impl StreamEncoder for GeminiStreamEncoder {
    type Item = GeminiStreamItem;

    fn encode_event(&mut self, event: &StreamEvent, out: &mut Vec<GeminiStreamItem>) {
        if self.ended {
            return;
        }
        let part = match event {
            StreamEvent::MessageStart { id, model, .. } => {
                self.id.clone_from(id);
                if self.opts.model.is_none() {
                    self.model.clone_from(model);
                }
                return;
            }
            StreamEvent::BlockStart { index, kind } => {
                let block = match kind {
                    BlockKind::Text => Block::Text,
                    BlockKind::Thinking => Block::Thinking {
                        had_text: false,
                        signature: String::new(),
                    },
                    BlockKind::ToolCall { id, name } => Block::Tool {
                        id: id.clone(),
                        name: name.clone(),
                        args: String::new(),
                        signature: String::new(),
                    },
                    BlockKind::RedactedThinking { .. } => Block::Skipped,
                };
                self.blocks.insert(*index, block);
                return;
            }
            StreamEvent::TextDelta { index, text } => {
                if text.is_empty() || !matches!(self.blocks.get(index), Some(Block::Text)) {
                    return;
                }
                Part::text(text.clone())
            }
            StreamEvent::ThinkingDelta { index, text } => {
                let Some(Block::Thinking { had_text, .. }) = self.blocks.get_mut(index) else {
                    return;
                };
                if text.is_empty() {
                    return;
                }
                *had_text = true;
                Part {
                    text: Some(text.clone()),
                    thought: Some(true),
                    ..Part::default()
                }
            }
            StreamEvent::SignatureDelta { index, signature } => {
                if let Some(
                    Block::Thinking { signature: s, .. } | Block::Tool { signature: s, .. },
                ) = self.blocks.get_mut(index)
                {
                    s.push_str(signature);
                }
                return;
            }
            StreamEvent::ToolArgsDelta { index, fragment } => {
                if let Some(Block::Tool { args, .. }) = self.blocks.get_mut(index) {
                    args.push_str(fragment);
                }
                return;
            }
            StreamEvent::BlockStop { index } => {
                let Some(part) = self.blocks.remove(index).and_then(Self::closing_part) else {
                    return;
                };
                part
            }
            StreamEvent::Finish { reason, .. } => {
                self.finish = Some(reason.clone());
                return;
            }
            StreamEvent::Usage(usage) => {
                self.usage = Some(*usage);
                return;
            }
            StreamEvent::Done => {
                self.finish_stream(out);
                return;
            }
            StreamEvent::Error(error) => {
                self.ended = true;
                out.push(GeminiStreamItem::Error(error_from_ir(error)));
                return;
            }
        };
        out.push(self.chunk(vec![part], None));
    }

    fn event_name(_item: &GeminiStreamItem) -> Option<&'static str> {
        None
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;

    #[test]
    fn tool_arguments_are_sent_whole() {
        let mut enc = GeminiStreamEncoder::new(EncodeOptions {
            model: Some("gemini-pro".into()),
            ..EncodeOptions::default()
        });
        let events = [
            StreamEvent::MessageStart {
                id: "r".into(),
                model: "up".into(),
                created: None,
            },
            StreamEvent::BlockStart {
                index: 0,
                kind: BlockKind::ToolCall {
                    id: "c".into(),
                    name: "f".into(),
                },
            },
            StreamEvent::ToolArgsDelta {
                index: 0,
                fragment: "{\"a\":".into(),
            },
            StreamEvent::BlockStart {
                index: 1,
                kind: BlockKind::Text,
            },
            StreamEvent::TextDelta {
                index: 1,
                text: "x".into(),
            },
            StreamEvent::ToolArgsDelta {
                index: 0,
                fragment: "1}".into(),
            },
            StreamEvent::BlockStop { index: 0 },
            StreamEvent::BlockStop { index: 1 },
            StreamEvent::Finish {
                reason: StopReason::ToolCalls,
                stop_sequence: None,
            },
            StreamEvent::Usage(Usage::from_counts(5, 7)),
            StreamEvent::Done,
        ];
        let mut items = Vec::new();
        for e in &events {
            enc.encode_event(e, &mut items);
        }
        let values: Vec<Value> = items
            .iter()
            .map(|i| serde_json::to_value(i).unwrap())
            .collect();
        assert_eq!(values.len(), 3);
        assert_eq!(
            values[0]["candidates"][0]["content"]["parts"],
            json!([{"text": "x"}])
        );
        assert_eq!(
            values[1]["candidates"][0]["content"]["parts"],
            json!([{"functionCall": {"id": "c", "name": "f", "args": {"a": 1}}}])
        );
        assert_eq!(values[2]["candidates"][0]["finishReason"], "STOP");
        assert_eq!(values[2]["usageMetadata"]["totalTokenCount"], 12);
        assert_eq!(values[2]["modelVersion"], "gemini-pro");
        assert_eq!(values[2]["responseId"], "r");
    }
}
