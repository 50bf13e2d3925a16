//! The think-split filter (model config `plugin.think-split`): models that
//! write their reasoning inline (DeepSeek-R1 distills, QwQ, many
//! self-hosted models) start the answer with `<think>…</think>`; this moves
//! that block out of the content and into the reasoning (OpenAI
//! `reasoning_content`). The gateway runs it on an OpenAI Chat upstream's
//! content deltas (and on a whole non-streamed answer) before encoding for
//! the client.
//!
//! # Rules
//!
//! - Only a `<think>` at the **start** of the content counts, optionally
//!   preceded by whitespace (AI Proxy's heads `"<think>\n"` and
//!   `"\n<think>\n"`, and any other leading whitespace). The whitespace
//!   before the tag is dropped.
//! - Line breaks right after `<think>` are dropped; the rest up to
//!   `</think>` is reasoning, verbatim.
//! - Line breaks right after `</think>` (AI Proxy's tail `"</think>\n"`) are
//!   dropped; everything after is content, verbatim (a later `<think>` is
//!   content too).
//! - No tag at the start: everything is content. Text is held back only
//!   while it could still be the start of the tag (leading whitespace or a
//!   prefix of `<think>`), and inside the block only a possible partial
//!   `</think>` at the end of a delta is held.
//! - An unterminated block is all reasoning; at [`ThinkSplitter::finish`]
//!   anything still held is flushed where it belongs.
//!
//! The output does not depend on how the text is split into deltas, down to
//! one byte per delta (the tags are ASCII, so a split never falls inside a
//! held multi-byte character).

const OPEN: &str = "<think>";
const CLOSE: &str = "</think>";

/// Content and reasoning produced by one step of the splitter.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Split {
    /// Visible answer text.
    pub content: String,
    /// Reasoning text.
    pub reasoning: String,
}

impl Split {
    /// Whether both halves are empty.
    pub fn is_empty(&self) -> bool {
        self.content.is_empty() && self.reasoning.is_empty()
    }

    fn extend(&mut self, other: Split) {
        self.content.push_str(&other.content);
        self.reasoning.push_str(&other.reasoning);
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Deciding whether the content starts with `<think>`.
    Head,
    /// Inside the block; `fresh` while only line breaks were seen.
    Thinking { fresh: bool },
    /// After the block; `fresh` while only line breaks were seen.
    After { fresh: bool },
    /// No block: everything passes through.
    Content,
}

/// The streaming splitter: feed content deltas to [`push`](Self::push),
/// call [`finish`](Self::finish) at the end.
#[derive(Debug, Clone)]
pub struct ThinkSplitter {
    state: State,
    held: String,
}

impl Default for ThinkSplitter {
    fn default() -> Self {
        Self::new()
    }
}

impl ThinkSplitter {
    /// A splitter for a new answer.
    pub fn new() -> Self {
        Self {
            state: State::Head,
            held: String::new(),
        }
    }

    /// Whether the splitter is inside a `<think>` block.
    pub fn is_thinking(&self) -> bool {
        matches!(self.state, State::Thinking { .. })
    }

    /// Splits one content delta.
    pub fn push(&mut self, delta: &str) -> Split {
        let mut out = Split::default();
        let mut rest: String = std::mem::take(&mut self.held);
        rest.push_str(delta);
        let mut rest = rest.as_str();
        loop {
            match self.state {
                State::Head => {
                    let trimmed = rest.trim_start();
                    if trimmed.starts_with(OPEN) {
                        self.state = State::Thinking { fresh: true };
                        rest = trimmed.get(OPEN.len()..).unwrap_or_default();
                    } else if OPEN.starts_with(trimmed) {
                        // Whitespace only, or a prefix of the tag: wait.
                        rest.clone_into(&mut self.held);
                        return out;
                    } else {
                        self.state = State::Content;
                    }
                }
                State::Thinking { fresh } => {
                    let text = if fresh { skip_breaks(rest) } else { rest };
                    if let Some(end) = text.find(CLOSE) {
                        out.reasoning.push_str(text.get(..end).unwrap_or_default());
                        rest = text.get(end + CLOSE.len()..).unwrap_or_default();
                        self.state = State::After { fresh: true };
                        continue;
                    }
                    let keep = partial_suffix(text, CLOSE);
                    let (now, later) = text.split_at(text.len() - keep);
                    out.reasoning.push_str(now);
                    later.clone_into(&mut self.held);
                    if !text.is_empty() {
                        self.state = State::Thinking { fresh: false };
                    }
                    return out;
                }
                State::After { fresh } => {
                    let text = if fresh { skip_breaks(rest) } else { rest };
                    if !text.is_empty() {
                        self.state = State::After { fresh: false };
                    }
                    out.content.push_str(text);
                    return out;
                }
                State::Content => {
                    out.content.push_str(rest);
                    return out;
                }
            }
        }
    }

    /// The content ended: flushes anything held back (a lone prefix of
    /// `<think>` or leading whitespace is content; a partial `</think>`
    /// inside an unterminated block is reasoning).
    pub fn finish(&mut self) -> Split {
        let held = std::mem::take(&mut self.held);
        let mut out = Split::default();
        match self.state {
            State::Head | State::After { .. } | State::Content => out.content = held,
            State::Thinking { .. } => out.reasoning = held,
        }
        self.state = State::Content;
        out
    }
}

/// Splits a whole (non-streamed) content string.
pub fn split_think(text: &str) -> Split {
    let mut splitter = ThinkSplitter::new();
    let mut out = splitter.push(text);
    out.extend(splitter.finish());
    out
}

/// `text` without leading `\r`/`\n`.
fn skip_breaks(text: &str) -> &str {
    text.trim_start_matches(['\r', '\n'])
}

/// Length of the longest proper suffix of `text` that is a prefix of `tag`.
fn partial_suffix(text: &str, tag: &str) -> usize {
    let max = tag.len().saturating_sub(1).min(text.len());
    (1..=max)
        .rev()
        .find(|&n| {
            text.get(text.len() - n..)
                .is_some_and(|suffix| tag.starts_with(suffix))
        })
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn both(content: &str, reasoning: &str) -> Split {
        Split {
            content: content.to_owned(),
            reasoning: reasoning.to_owned(),
        }
    }

    #[test]
    fn whole_strings() {
        assert_eq!(
            split_think("<think>\nhmm\n</think>\n\nAnswer"),
            both("Answer", "hmm\n")
        );
        assert_eq!(split_think("\n<think>\nx</think>y"), both("y", "x"));
        assert_eq!(split_think("  <think>x</think>\n y"), both(" y", "x"));
        assert_eq!(
            split_think("Hello <think>x</think>"),
            both("Hello <think>x</think>", "")
        );
        assert_eq!(split_think("<thin"), both("<thin", ""));
        assert_eq!(split_think("<think>never closed"), both("", "never closed"));
        assert_eq!(split_think("<think>a</thi"), both("", "a</thi"));
        assert_eq!(split_think(""), both("", ""));
        assert_eq!(split_think(" \n"), both(" \n", ""));
        assert_eq!(
            split_think("<think></think>x<think>y</think>"),
            both("x<think>y</think>", "")
        );
        assert_eq!(split_think("<think>ü</think>ö"), both("ö", "ü"));
    }

    #[test]
    fn nothing_is_held_without_a_tag() {
        let mut s = ThinkSplitter::new();
        assert_eq!(s.push("Hi"), both("Hi", ""));
        assert_eq!(s.push(" there"), both(" there", ""));
        let mut s = ThinkSplitter::new();
        assert_eq!(s.push("<th"), both("", ""));
        assert_eq!(s.push("x"), both("<thx", ""));
    }

    #[test]
    fn tags_split_across_deltas() {
        let mut s = ThinkSplitter::new();
        let mut out = Split::default();
        for piece in ["<", "thi", "nk>", "\n", "abc</", "thi", "nk", ">\n", "ok"] {
            out.extend(s.push(piece));
        }
        out.extend(s.finish());
        assert_eq!(out, both("ok", "abc"));
        assert!(!s.is_thinking());
    }

    /// Text built from pieces likely to form (partial) tags.
    fn tricky_text() -> impl proptest::strategy::Strategy<Value = String> {
        use proptest::prelude::*;
        let piece = prop_oneof![
            Just("<think>".to_owned()),
            Just("</think>".to_owned()),
            Just("<".to_owned()),
            Just("</".to_owned()),
            Just("<th".to_owned()),
            Just("\n".to_owned()),
            Just(" ".to_owned()),
            Just("é".to_owned()),
            "[a-z]{1,3}",
        ];
        proptest::collection::vec(piece, 0..12).prop_map(|v| v.concat())
    }

    proptest::proptest! {
        #[test]
        fn any_split_gives_the_same_result(
            text in tricky_text(),
            cuts in proptest::collection::vec(proptest::prelude::any::<proptest::sample::Index>(), 0..10),
        ) {
            let whole = split_think(&text);
            let mut points: Vec<usize> = cuts.iter().map(|i| i.index(text.len() + 1)).collect();
            points.retain(|&p| text.is_char_boundary(p));
            points.sort_unstable();
            points.dedup();
            let mut s = ThinkSplitter::new();
            let mut out = Split::default();
            let mut start = 0;
            for p in points.into_iter().chain([text.len()]) {
                out.extend(s.push(&text[start..p]));
                start = p;
            }
            out.extend(s.finish());
            proptest::prop_assert_eq!(out, whole);
        }

        #[test]
        fn one_byte_deltas(text in tricky_text()) {
            let mut s = ThinkSplitter::new();
            let mut out = Split::default();
            let mut start = 0;
            for end in (1..=text.len()).filter(|&i| text.is_char_boundary(i)) {
                out.extend(s.push(&text[start..end]));
                start = end;
            }
            out.extend(s.finish());
            proptest::prop_assert_eq!(out, split_think(&text));
        }
    }
}
