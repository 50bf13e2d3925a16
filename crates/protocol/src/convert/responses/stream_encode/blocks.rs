//! Per-block encoding of [`ResponsesStreamEncoder`]: the item, content-part,
//! delta and `.done` events of text, reasoning and function-call blocks.

use serde_json::Map;

use super::{OpenItem, Out, ResponsesStreamEncoder, item_id_for, message};
use crate::convert::responses::reasoning::{self, REDACTED_PREFIX};
use crate::convert::responses::response::item_id;
use crate::ir::{BlockKind, Part, StreamEvent};
use crate::responses::{
    ContentPart, FunctionCallItem, Item, ReasoningItem, ReasoningTextPart,
    ResponsesStreamEvent as E,
};

impl ResponsesStreamEncoder {
    pub(super) fn block_start(&mut self, index: u32, kind: &BlockKind, out: &mut Out) {
        let output_index = self.next_output();
        let oi = output_index as usize;
        let (prefix, item) = match kind {
            BlockKind::Text => ("msg", None),
            BlockKind::Thinking => ("rs", None),
            BlockKind::RedactedThinking { data } => (
                "rs",
                Some(Item::Reasoning(ReasoningItem {
                    encrypted_content: Some(format!("{REDACTED_PREFIX}{data}")),
                    ..ReasoningItem::default()
                })),
            ),
            BlockKind::ToolCall { id, name } => (
                "fc",
                Some(Item::FunctionCall(FunctionCallItem {
                    call_id: id.clone(),
                    name: name.clone(),
                    status: Some("in_progress".to_owned()),
                    ..FunctionCallItem::default()
                })),
            ),
        };
        let item_id = item_id(prefix, &self.id, oi);
        let item = match item {
            Some(Item::Reasoning(r)) => Item::Reasoning(ReasoningItem {
                id: Some(item_id.clone()),
                ..r
            }),
            Some(Item::FunctionCall(c)) => Item::FunctionCall(FunctionCallItem {
                id: Some(item_id.clone()),
                ..c
            }),
            _ if prefix == "rs" => Item::Reasoning(ReasoningItem {
                id: Some(item_id.clone()),
                ..ReasoningItem::default()
            }),
            _ => message(&item_id, "in_progress", Vec::new()),
        };
        self.added(output_index, item, out);
        if *kind == BlockKind::Text {
            let sequence_number = self.seq();
            out.push(E::ContentPartAdded {
                item_id: item_id.clone(),
                output_index,
                content_index: 0,
                part: ContentPart::output_text(""),
                sequence_number,
            });
        }
        self.blocks.insert(
            index,
            OpenItem {
                output_index,
                item_id,
                kind: kind.clone(),
                text: String::new(),
                signature: String::new(),
                summary_open: false,
            },
        );
    }

    pub(super) fn delta(&mut self, index: u32, event: &StreamEvent, out: &mut Out) {
        let sequence_number = 0;
        let Some(open) = self.blocks.get_mut(&index) else {
            return;
        };
        let (item_id, output_index) = (open.item_id.clone(), open.output_index);
        let mut events = Vec::new();
        match (event, &open.kind) {
            (StreamEvent::TextDelta { text, .. }, BlockKind::Text) => {
                open.text.push_str(text);
                events.push(E::OutputTextDelta {
                    item_id,
                    output_index,
                    content_index: 0,
                    delta: text.clone(),
                    logprobs: Vec::new(),
                    sequence_number,
                });
            }
            (StreamEvent::ThinkingDelta { text, .. }, BlockKind::Thinking) => {
                open.text.push_str(text);
                if !open.summary_open {
                    open.summary_open = true;
                    events.push(E::ReasoningSummaryPartAdded {
                        item_id: item_id.clone(),
                        output_index,
                        summary_index: 0,
                        part: ReasoningTextPart::summary(""),
                        sequence_number,
                    });
                }
                events.push(E::ReasoningSummaryTextDelta {
                    item_id,
                    output_index,
                    summary_index: 0,
                    delta: text.clone(),
                    sequence_number,
                });
            }
            (StreamEvent::ToolArgsDelta { fragment, .. }, BlockKind::ToolCall { .. }) => {
                open.text.push_str(fragment);
                events.push(E::FunctionCallArgumentsDelta {
                    item_id,
                    output_index,
                    delta: fragment.clone(),
                    sequence_number,
                });
            }
            (StreamEvent::SignatureDelta { signature, .. }, _) => {
                open.signature.push_str(signature);
            }
            _ => {}
        }
        self.push_numbered(events, out);
    }

    /// Appends events, renumbering them consecutively.
    pub(super) fn push_numbered(&mut self, events: Vec<E>, out: &mut Out) {
        for mut event in events {
            event.set_sequence_number(self.seq());
            out.push(event);
        }
    }

    pub(super) fn block_stop(&mut self, index: u32, out: &mut Out) {
        let Some(open) = self.blocks.remove(&index) else {
            return;
        };
        let OpenItem {
            output_index,
            item_id,
            kind,
            mut text,
            signature,
            summary_open,
        } = open;
        let mut events = Vec::new();
        let item = match kind {
            BlockKind::Text => {
                events.push(E::OutputTextDone {
                    item_id: item_id.clone(),
                    output_index,
                    content_index: 0,
                    text: text.clone(),
                    logprobs: Vec::new(),
                    sequence_number: 0,
                });
                events.push(E::ContentPartDone {
                    item_id: item_id.clone(),
                    output_index,
                    content_index: 0,
                    part: ContentPart::output_text(text.clone()),
                    sequence_number: 0,
                });
                message(&item_id, "completed", vec![ContentPart::output_text(text)])
            }
            BlockKind::Thinking => {
                if summary_open {
                    events.push(E::ReasoningSummaryTextDone {
                        item_id: item_id.clone(),
                        output_index,
                        summary_index: 0,
                        text: text.clone(),
                        sequence_number: 0,
                    });
                    events.push(E::ReasoningSummaryPartDone {
                        item_id: item_id.clone(),
                        output_index,
                        summary_index: 0,
                        part: ReasoningTextPart::summary(text.clone()),
                        sequence_number: 0,
                    });
                }
                let part = Part::Thinking {
                    text,
                    signature: (!signature.is_empty()).then_some(signature.clone()),
                };
                let rs = reasoning::item_for_client(&part, item_id.clone());
                Item::Reasoning(rs.unwrap_or_default())
            }
            BlockKind::RedactedThinking { data } => Item::Reasoning(ReasoningItem {
                id: Some(item_id.clone()),
                encrypted_content: Some(format!("{REDACTED_PREFIX}{data}")),
                ..ReasoningItem::default()
            }),
            BlockKind::ToolCall { id, name } => {
                if text.is_empty() {
                    text = "{}".to_owned();
                    events.push(E::FunctionCallArgumentsDelta {
                        item_id: item_id.clone(),
                        output_index,
                        delta: text.clone(),
                        sequence_number: 0,
                    });
                }
                events.push(E::FunctionCallArgumentsDone {
                    item_id: item_id.clone(),
                    output_index,
                    name: Some(name.clone()),
                    arguments: text.clone(),
                    sequence_number: 0,
                });
                self.push_numbered(std::mem::take(&mut events), out);
                let call = Item::FunctionCall(FunctionCallItem {
                    id: Some(item_id.clone()),
                    call_id: id.clone(),
                    name,
                    arguments: text,
                    status: Some("completed".to_owned()),
                    extra: Map::new(),
                });
                self.done(output_index, call, out);
                if !signature.is_empty() {
                    let oi = self.next_output();
                    let rs = reasoning::tool_signature_item(
                        &id,
                        &signature,
                        item_id_for(&self.id, "rs", oi),
                    );
                    self.added(oi, Item::Reasoning(rs.clone()), out);
                    self.done(oi, Item::Reasoning(rs), out);
                }
                return;
            }
        };
        self.push_numbered(events, out);
        self.done(output_index, item, out);
    }
}
