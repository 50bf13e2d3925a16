//! Canonical stream events: what every dialect's stream decodes into, one
//! upstream event at a time, and what every client dialect is encoded from.

use crate::Usage;

use super::{Error, StopReason};

/// The kind of a content block opened by [`StreamEvent::BlockStart`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BlockKind {
    /// Visible text; filled by [`StreamEvent::TextDelta`].
    Text,
    /// Reasoning; filled by [`StreamEvent::ThinkingDelta`] and
    /// [`StreamEvent::SignatureDelta`].
    Thinking,
    /// Encrypted reasoning, complete at start.
    RedactedThinking {
        /// Opaque payload.
        data: String,
    },
    /// A tool call; arguments follow as [`StreamEvent::ToolArgsDelta`].
    ToolCall {
        /// Call id (non-empty; decoders synthesise one if the upstream
        /// omits it).
        id: String,
        /// Function name.
        name: String,
    },
}

/// One step of a streamed answer.
///
/// # Grammar
///
/// ```text
/// stream  := MessageStart body (Finish)? (Usage)? Done
///          | MessageStart? body Error
/// body    := (BlockStart | delta | BlockStop)*
/// delta   := TextDelta | ThinkingDelta | SignatureDelta | ToolArgsDelta
/// ```
///
/// - `index` identifies a block within the answer. Indices are unique and
///   strictly increasing in `BlockStart` order but need not be contiguous
///   (a decoder may skip upstream blocks it cannot represent).
/// - A block's deltas come after its `BlockStart` and before its
///   `BlockStop`; the delta kind matches the block kind (`SignatureDelta` may
///   target a thinking or a tool-call block).
/// - Blocks may overlap: an OpenAI upstream can stream several tool calls'
///   arguments interleaved, so several blocks can be open at once. Encoders
///   whose dialect allows one open block at a time (Anthropic) serialise.
/// - Every started block is stopped before `Finish`, `Usage` and `Done`.
/// - `Usage` appears at most once, carries the final cumulative totals, and
///   comes after `Finish` and right before `Done`: encoders report it once
///   and never add it to anything.
/// - `Error` ends the stream; nothing follows it.
#[derive(Debug, Clone, PartialEq)]
pub enum StreamEvent {
    /// The answer starts.
    MessageStart {
        /// Upstream response id.
        id: String,
        /// Upstream model name.
        model: String,
        /// Creation time (Unix seconds), when the upstream gives one.
        created: Option<i64>,
    },
    /// A content block opens.
    BlockStart {
        /// Block index.
        index: u32,
        /// What the block holds.
        kind: BlockKind,
    },
    /// Text appended to a text block.
    TextDelta {
        /// Block index.
        index: u32,
        /// The text.
        text: String,
    },
    /// Reasoning text appended to a thinking block.
    ThinkingDelta {
        /// Block index.
        index: u32,
        /// The text.
        text: String,
    },
    /// Signature text appended to a thinking block's (or tool call's)
    /// signature.
    SignatureDelta {
        /// Block index.
        index: u32,
        /// The signature fragment.
        signature: String,
    },
    /// A fragment of a tool call's JSON arguments; the concatenation of all
    /// fragments is the arguments text, byte for byte.
    ToolArgsDelta {
        /// Block index.
        index: u32,
        /// The fragment.
        fragment: String,
    },
    /// A content block is complete.
    BlockStop {
        /// Block index.
        index: u32,
    },
    /// Generation ended.
    Finish {
        /// Why.
        reason: StopReason,
        /// The stop sequence hit, if any.
        stop_sequence: Option<String>,
    },
    /// Final usage totals.
    Usage(Usage),
    /// The upstream failed mid-stream.
    Error(Error),
    /// The stream completed normally.
    Done,
}
