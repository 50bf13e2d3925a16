//! Per-item decoding state of [`ResponsesStreamDecoder`]: opening, filling
//! and closing the canonical blocks of message parts, function calls and
//! reasoning items, including what an upstream gives only in `.done`
//! events.

use super::{Out, Piece, ResponsesStreamDecoder, item_id_of, part_text};
use crate::convert::responses::reasoning::{self, Decoded, REDACTED_PREFIX};
use crate::ir::{BlockKind, Part, StreamEvent};
use crate::responses::{Item, MessageContent};

impl ResponsesStreamDecoder {
    pub(super) fn added(&mut self, key: u32, item: &Item, out: &mut Out) {
        self.state(key, item_id_of(item).unwrap_or(""));
        match item {
            Item::FunctionCall(call) => {
                let id = [call.call_id.as_str(), call.id.as_deref().unwrap_or("")]
                    .into_iter()
                    .find(|s| !s.is_empty())
                    .map_or_else(|| format!("call_{key}"), str::to_owned);
                self.open_call(key, id, call.name.clone(), out);
                self.args(key, &call.arguments, out);
            }
            Item::Reasoning(r)
                if r.encrypted_content
                    .as_deref()
                    .is_some_and(|e| e.starts_with(REDACTED_PREFIX)) =>
            {
                self.finish_item(key, item, out);
            }
            _ => {}
        }
    }

    pub(super) fn open_call(&mut self, key: u32, id: String, name: String, out: &mut Out) {
        if self.items.get(&key).is_some_and(|s| s.block.is_some()) {
            return;
        }
        self.saw_tool = true;
        let block = self.open(BlockKind::ToolCall { id, name }, out);
        let state = self.state(key, "");
        state.block = Some(block);
        state.open = true;
    }

    pub(super) fn args(&mut self, key: u32, fragment: &str, out: &mut Out) {
        if fragment.is_empty() {
            return;
        }
        if self.items.get(&key).is_none_or(|s| s.block.is_none()) {
            self.open_call(key, format!("call_{key}"), String::new(), out);
        }
        if let Some(state) = self.items.get_mut(&key)
            && let (Some(index), true) = (state.block, state.open)
        {
            state.streamed = true;
            out.push(StreamEvent::ToolArgsDelta {
                index,
                fragment: fragment.to_owned(),
            });
        }
    }

    pub(super) fn text(&mut self, key: u32, content_index: u32, text: &str, out: &mut Out) {
        if text.is_empty() {
            return;
        }
        let existing = self.state(key, "").parts.get(&content_index).copied();
        let index = match existing {
            Some((_, false)) => return,
            Some((index, true)) => index,
            None => {
                let index = self.open(BlockKind::Text, out);
                self.state(key, "")
                    .parts
                    .insert(content_index, (index, true));
                index
            }
        };
        out.push(StreamEvent::TextDelta {
            index,
            text: text.to_owned(),
        });
    }

    /// Emits a part's full text if nothing was streamed for it, then closes it.
    pub(super) fn part_done(&mut self, key: u32, content_index: u32, full: &str, out: &mut Out) {
        let seen = self
            .items
            .get(&key)
            .and_then(|s| s.parts.get(&content_index).copied());
        if seen.is_none() {
            self.text(key, content_index, full, out);
        }
        if let Some(state) = self.items.get_mut(&key)
            && let Some((index, open)) = state.parts.get_mut(&content_index)
            && *open
        {
            *open = false;
            out.push(StreamEvent::BlockStop { index: *index });
        }
    }

    pub(super) fn thinking(&mut self, key: u32, piece: Piece, text: &str, out: &mut Out) {
        if text.is_empty() {
            return;
        }
        let block = match self.state(key, "").block {
            Some(block) => block,
            None => {
                let block = self.open(BlockKind::Thinking, out);
                let state = self.state(key, "");
                state.block = Some(block);
                state.open = true;
                block
            }
        };
        let state = self.state(key, "");
        if !state.open {
            return;
        }
        state.streamed = true;
        if state.pieces.last().is_some_and(|last| *last != piece) {
            out.push(StreamEvent::ThinkingDelta {
                index: block,
                text: "\n\n".to_owned(),
            });
        }
        if state.pieces.last() != Some(&piece) {
            state.pieces.push(piece);
        }
        out.push(StreamEvent::ThinkingDelta {
            index: block,
            text: text.to_owned(),
        });
    }

    /// A reasoning piece's full text, emitted if it was not streamed.
    pub(super) fn piece_done(&mut self, key: u32, piece: Piece, full: &str, out: &mut Out) {
        if !self
            .items
            .get(&key)
            .is_some_and(|s| s.pieces.contains(&piece))
        {
            self.thinking(key, piece, full, out);
        }
    }

    pub(super) fn close_item(&mut self, key: u32, out: &mut Out) {
        if let Some(state) = self.items.get_mut(&key) {
            for (index, open) in state.parts.values_mut() {
                if *open {
                    *open = false;
                    out.push(StreamEvent::BlockStop { index: *index });
                }
            }
            if let (Some(index), true) = (state.block, state.open) {
                state.open = false;
                out.push(StreamEvent::BlockStop { index });
            }
        }
    }

    /// An item is complete: emits what was not streamed, then closes it.
    pub(super) fn finish_item(&mut self, key: u32, item: &Item, out: &mut Out) {
        self.state(key, item_id_of(item).unwrap_or(""));
        match item {
            Item::Message(msg) => {
                if let MessageContent::Parts(parts) = &msg.content {
                    for (i, part) in (0_u32..).zip(parts) {
                        self.part_done(key, i, part_text(part), out);
                    }
                } else if let MessageContent::Text(text) = &msg.content {
                    self.part_done(key, 0, text, out);
                }
            }
            Item::FunctionCall(call) => {
                if self.items.get(&key).is_some_and(|s| s.block.is_none()) {
                    self.added(key, item, out);
                } else if self.items.get(&key).is_some_and(|s| !s.streamed) {
                    self.args(key, &call.arguments, out);
                }
            }
            Item::Reasoning(r) => match reasoning::decode(r) {
                Decoded::Part(Part::RedactedThinking { data })
                    if self.items.get(&key).is_some_and(|s| s.block.is_none()) =>
                {
                    let index = self.open(BlockKind::RedactedThinking { data }, out);
                    out.push(StreamEvent::BlockStop { index });
                    self.state(key, "").block = Some(index);
                }
                Decoded::Part(Part::Thinking { text, signature }) => {
                    if self.items.get(&key).is_some_and(|s| !s.streamed) {
                        self.thinking(key, (true, 0), &text, out);
                    }
                    if let Some(signature) = signature {
                        self.signature(key, signature, out);
                    }
                }
                _ => {}
            },
            _ => {}
        }
        self.close_item(key, out);
    }

    pub(super) fn signature(&mut self, key: u32, signature: String, out: &mut Out) {
        if self.items.get(&key).is_some_and(|s| s.signed) {
            return;
        }
        if self.items.get(&key).is_some_and(|s| s.block.is_none()) {
            let block = self.open(BlockKind::Thinking, out);
            let state = self.state(key, "");
            state.block = Some(block);
            state.open = true;
        }
        let state = self.state(key, "");
        state.signed = true;
        if let (Some(index), true) = (state.block, state.open) {
            out.push(StreamEvent::SignatureDelta { index, signature });
        }
    }
}
