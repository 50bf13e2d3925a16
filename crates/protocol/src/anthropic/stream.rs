//! Anthropic streaming events: the JSON `data` of each SSE event. The SSE
//! `event:` name always equals the JSON `type` ([`MessageStreamEvent::name`]).

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::content::ContentBlock;
use super::error::AnthropicErrorObject;
use super::response::{AnthropicUsage, MessagesResponse};

/// One stream event. Unknown event types decode as
/// [`MessageStreamEvent::Unknown`] and are skipped by the converters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum MessageStreamEvent {
    /// The message starts; `message.content` is empty, `usage` holds the
    /// input counters.
    MessageStart {
        /// The message skeleton.
        message: MessagesResponse,
    },
    /// A content block opens (text empty, tool input `{}`).
    ContentBlockStart {
        /// Block index.
        index: u32,
        /// The block skeleton.
        content_block: ContentBlock,
    },
    /// A block grows.
    ContentBlockDelta {
        /// Block index.
        index: u32,
        /// The increment.
        delta: BlockDelta,
    },
    /// A block is complete.
    ContentBlockStop {
        /// Block index.
        index: u32,
    },
    /// Top-level changes: stop reason and cumulative usage.
    MessageDelta {
        /// Stop reason and sequence.
        delta: MessageDeltaBody,
        /// Cumulative usage so far.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        usage: Option<AnthropicUsage>,
    },
    /// The stream is complete.
    MessageStop,
    /// Keep-alive.
    Ping,
    /// A mid-stream error.
    Error {
        /// The error.
        error: AnthropicErrorObject,
    },
    /// Any event type this crate does not know.
    #[serde(other)]
    Unknown,
}

impl MessageStreamEvent {
    /// The SSE event name (the JSON `type`).
    pub fn name(&self) -> &'static str {
        match self {
            Self::MessageStart { .. } => "message_start",
            Self::ContentBlockStart { .. } => "content_block_start",
            Self::ContentBlockDelta { .. } => "content_block_delta",
            Self::ContentBlockStop { .. } => "content_block_stop",
            Self::MessageDelta { .. } => "message_delta",
            Self::MessageStop => "message_stop",
            Self::Ping => "ping",
            Self::Error { .. } => "error",
            Self::Unknown => "unknown",
        }
    }
}

/// `content_block_delta.delta`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum BlockDelta {
    /// Text.
    TextDelta {
        /// The text.
        text: String,
    },
    /// A fragment of a tool call's input JSON.
    InputJsonDelta {
        /// The fragment.
        partial_json: String,
    },
    /// Reasoning text.
    ThinkingDelta {
        /// The text.
        thinking: String,
    },
    /// The thinking block's signature.
    SignatureDelta {
        /// The signature.
        signature: String,
    },
    /// A citation attached to a text block.
    CitationsDelta {
        /// The citation.
        citation: Value,
    },
    /// Any other delta type.
    #[serde(other)]
    Unknown,
}

/// `message_delta.delta`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MessageDeltaBody {
    /// Why generation stopped.
    #[serde(default)]
    pub stop_reason: Option<String>,
    /// The stop sequence hit.
    #[serde(default)]
    pub stop_sequence: Option<String>,
}
