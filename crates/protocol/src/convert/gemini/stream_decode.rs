//! Gemini `streamGenerateContent?alt=sse` chunks → canonical stream events.

use super::content_in::{CallTracker, call_to_ir};
use super::error::error_to_ir;
use super::response::{call_prefix, finish_reason_to_ir};
use crate::Usage;
use crate::convert::{ConvertError, StreamDecoder};
use crate::gemini::{GenerateContentResponse, Part, UsageMetadata};
use crate::ir::{BlockKind, Error, ErrorKind, StopReason, StreamEvent};

/// Decodes a Gemini SSE stream (candidate 0).
///
/// Every chunk is a whole `GenerateContentResponse`; blocks are inferred,
/// since Gemini has none. Consecutive thought parts form one thinking
/// block, consecutive text parts one text block; a signed thought part
/// closes its block (its signature as a [`StreamEvent::SignatureDelta`]).
/// A `thoughtSignature` on any other non-call part becomes a thinking
/// block holding only the signature, just before that part's text (IR
/// invariant 6). Function calls arrive complete: each is a tool block
/// with one [`StreamEvent::ToolArgsDelta`] holding the whole arguments
/// JSON, its signature, and the stop. `finishReason` closes everything
/// and is the [`StreamEvent::Finish`] (`STOP` after calls is tool calls);
/// a blocked prompt (`promptFeedback.blockReason`) finishes as content
/// filter. `usageMetadata` is cumulative on every chunk: the last one is
/// reported once, normalised, when the body ends ([`StreamDecoder::finish`]
/// emits usage and [`StreamEvent::Done`]; Gemini has no end event). An
/// `{"error":…}` chunk becomes [`StreamEvent::Error`].
#[derive(Debug, Default)]
pub struct GeminiStreamDecoder {
    started: bool,
    next_index: u32,
    text: Option<u32>,
    thinking: Option<u32>,
    calls: CallTracker,
    saw_tool: bool,
    finished: bool,
    usage: Option<Usage>,
    ended: bool,
}

impl GeminiStreamDecoder {
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

    fn close_all(&mut self, out: &mut Vec<StreamEvent>) {
        self.close_thinking(out);
        self.close_text(out);
    }

    fn thinking_block(&mut self, out: &mut Vec<StreamEvent>) -> u32 {
        if let Some(index) = self.thinking {
            return index;
        }
        self.close_text(out);
        let index = self.open(BlockKind::Thinking, out);
        self.thinking = Some(index);
        index
    }

    fn text_block(&mut self, out: &mut Vec<StreamEvent>) -> u32 {
        if let Some(index) = self.text {
            return index;
        }
        self.close_thinking(out);
        let index = self.open(BlockKind::Text, out);
        self.text = Some(index);
        index
    }

    fn part(&mut self, part: Part, out: &mut Vec<StreamEvent>) {
        let signature = part.thought_signature.clone().filter(|s| !s.is_empty());
        if part.is_thought() {
            if let Some(text) = part.text.filter(|t| !t.is_empty()) {
                let index = self.thinking_block(out);
                out.push(StreamEvent::ThinkingDelta { index, text });
            }
            if let Some(signature) = signature {
                let index = self.thinking_block(out);
                out.push(StreamEvent::SignatureDelta { index, signature });
                self.close_thinking(out);
            }
            return;
        }
        if let Some(call) = part.function_call {
            self.close_all(out);
            self.saw_tool = true;
            let call = call_to_ir(call, None, &mut self.calls);
            let index = self.open(
                BlockKind::ToolCall {
                    id: call.id,
                    name: call.name,
                },
                out,
            );
            out.push(StreamEvent::ToolArgsDelta {
                index,
                fragment: call.arguments,
            });
            if let Some(signature) = signature {
                out.push(StreamEvent::SignatureDelta { index, signature });
            }
            out.push(StreamEvent::BlockStop { index });
            return;
        }
        if let Some(signature) = signature {
            self.close_all(out);
            let index = self.open(BlockKind::Thinking, out);
            out.push(StreamEvent::SignatureDelta { index, signature });
            out.push(StreamEvent::BlockStop { index });
        }
        if let Some(text) = part.text.filter(|t| !t.is_empty()) {
            let index = self.text_block(out);
            out.push(StreamEvent::TextDelta { index, text });
        }
    }

    fn finish_with(&mut self, reason: StopReason, out: &mut Vec<StreamEvent>) {
        self.close_all(out);
        self.finished = true;
        out.push(StreamEvent::Finish {
            reason,
            stop_sequence: None,
        });
    }
}

impl StreamDecoder for GeminiStreamDecoder {
    fn decode(
        &mut self,
        _event: Option<&str>,
        data: &[u8],
        out: &mut Vec<StreamEvent>,
    ) -> Result<(), ConvertError> {
        if self.ended {
            return Ok(());
        }
        let chunk: GenerateContentResponse = serde_json::from_slice(data)?;
        if let Some(error) = &chunk.error {
            self.ended = true;
            out.push(StreamEvent::Error(error_to_ir(None, error)));
            return Ok(());
        }
        if !self.started {
            self.started = true;
            self.calls = CallTracker::new(call_prefix(chunk.response_id.as_deref()));
            out.push(StreamEvent::MessageStart {
                id: chunk.response_id.clone().unwrap_or_default(),
                model: chunk.model_version.clone().unwrap_or_default(),
                created: None,
            });
        }
        if let Some(usage) = &chunk.usage_metadata {
            self.usage = Some(UsageMetadata::to_usage(usage));
        }
        if self.finished {
            return Ok(());
        }
        let blocked = chunk
            .prompt_feedback
            .as_ref()
            .is_some_and(|f| f.block_reason.is_some());
        let Some(candidate) = chunk
            .candidates
            .into_iter()
            .find(|c| c.index.unwrap_or(0) == 0)
        else {
            if blocked {
                self.finish_with(StopReason::ContentFilter, out);
            }
            return Ok(());
        };
        for part in candidate.content.map(|c| c.parts).unwrap_or_default() {
            self.part(part, out);
        }
        if let Some(reason) = candidate.finish_reason.filter(|r| !r.is_empty()) {
            let reason = finish_reason_to_ir(&reason, self.saw_tool);
            self.finish_with(reason, out);
        }
        Ok(())
    }

    fn finish(&mut self, out: &mut Vec<StreamEvent>) {
        if self.ended {
            return;
        }
        self.ended = true;
        if !self.finished {
            out.push(StreamEvent::Error(Error::new(
                ErrorKind::Api,
                "upstream stream ended before the response was complete",
            )));
            return;
        }
        if let Some(usage) = self.usage.take() {
            out.push(StreamEvent::Usage(usage));
        }
        out.push(StreamEvent::Done);
    }

    /// `usageMetadata` is cumulative, so its prompt count is final on the
    /// first chunk that carries one; its output counts are not yet.
    fn input_usage(&self) -> Option<Usage> {
        self.usage
            .filter(|usage| usage.input_tokens > 0)
            .map(|usage| usage.input_only())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(chunks: &[&str]) -> Vec<StreamEvent> {
        let mut d = GeminiStreamDecoder::new();
        let mut out = Vec::new();
        for chunk in chunks {
            d.decode(None, chunk.as_bytes(), &mut out).unwrap();
        }
        d.finish(&mut out);
        out
    }

    #[test]
    fn a_cut_stream_keeps_the_reported_prompt_count() {
        let mut d = GeminiStreamDecoder::new();
        let mut out = Vec::new();
        d.decode(
            None,
            br#"{"candidates":[{"content":{"role":"model","parts":[{"text":"Hi"}]}}]}"#,
            &mut out,
        )
        .unwrap();
        assert_eq!(d.input_usage(), None, "no usageMetadata yet");
        d.decode(
            None,
            br#"{"candidates":[{"content":{"role":"model","parts":[{"text":" there"}]}}],"usageMetadata":{"promptTokenCount":8,"cachedContentTokenCount":2,"candidatesTokenCount":2,"thoughtsTokenCount":1}}"#,
            &mut out,
        )
        .unwrap();
        out.clear();
        d.finish(&mut out);
        assert!(matches!(out.as_slice(), [StreamEvent::Error(_)]), "{out:?}");
        assert_eq!(
            d.input_usage(),
            Some(Usage {
                input_tokens: 8,
                cached_tokens: 2,
                total_tokens: 8,
                ..Usage::default()
            })
        );
    }

    #[test]
    fn thoughts_text_and_calls() {
        let events = decode(&[
            r#"{"candidates":[{"content":{"role":"model","parts":[{"text":"hm","thought":true}]}}],"responseId":"r1","modelVersion":"gemini-2.5-flash"}"#,
            r#"{"candidates":[{"content":{"role":"model","parts":[{"text":"Hi"},{"functionCall":{"name":"f","args":{"a":1}},"thoughtSignature":"S"}]},"finishReason":"STOP"}],"usageMetadata":{"promptTokenCount":3,"candidatesTokenCount":4,"thoughtsTokenCount":2}}"#,
        ]);
        let tool = BlockKind::ToolCall {
            id: "call_r1_0".into(),
            name: "f".into(),
        };
        assert_eq!(
            events,
            vec![
                StreamEvent::MessageStart {
                    id: "r1".into(),
                    model: "gemini-2.5-flash".into(),
                    created: None
                },
                StreamEvent::BlockStart {
                    index: 0,
                    kind: BlockKind::Thinking
                },
                StreamEvent::ThinkingDelta {
                    index: 0,
                    text: "hm".into()
                },
                StreamEvent::BlockStop { index: 0 },
                StreamEvent::BlockStart {
                    index: 1,
                    kind: BlockKind::Text
                },
                StreamEvent::TextDelta {
                    index: 1,
                    text: "Hi".into()
                },
                StreamEvent::BlockStop { index: 1 },
                StreamEvent::BlockStart {
                    index: 2,
                    kind: tool
                },
                StreamEvent::ToolArgsDelta {
                    index: 2,
                    fragment: "{\"a\":1}".into()
                },
                StreamEvent::SignatureDelta {
                    index: 2,
                    signature: "S".into()
                },
                StreamEvent::BlockStop { index: 2 },
                StreamEvent::Finish {
                    reason: StopReason::ToolCalls,
                    stop_sequence: None
                },
                StreamEvent::Usage(Usage {
                    input_tokens: 3,
                    output_tokens: 6,
                    reasoning_tokens: 2,
                    total_tokens: 9,
                    ..Usage::default()
                }),
                StreamEvent::Done,
            ]
        );
    }

    #[test]
    fn errors_and_truncation() {
        let events = decode(&[r#"{"error":{"code":503,"message":"busy","status":"UNAVAILABLE"}}"#]);
        assert!(matches!(&events[0], StreamEvent::Error(e) if e.kind == ErrorKind::Overloaded));
        assert_eq!(events.len(), 1);
        let events = decode(&[r#"{"candidates":[{"content":{"parts":[{"text":"x"}]}}]}"#]);
        assert!(matches!(events.last(), Some(StreamEvent::Error(_))));
    }
}
