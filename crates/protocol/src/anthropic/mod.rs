//! Anthropic Messages API wire types: requests, responses, content blocks,
//! stream events, usage and errors.
//!
//! Every struct keeps members it does not model in an `extra` map and
//! [`ContentBlock`] keeps unknown block types verbatim, so parsing and
//! re-serialising an Anthropic body loses nothing. Conversions to and from
//! the canonical form live in [`crate::convert::anthropic`].

mod content;
mod error;
mod request;
mod response;
mod stream;

pub use content::{
    CacheControl, ContentBlock, MediaBlock, RedactedThinkingBlock, Source, TextBlock,
    ThinkingBlock, ToolResultBlock, ToolResultContent, ToolUseBlock,
};
pub use error::{AnthropicErrorBody, AnthropicErrorObject};
pub use request::{
    AnthropicMessage, AnthropicTool, AnthropicToolChoice, MessageContent, MessagesRequest,
    Metadata, OutputConfig, SystemPrompt, ThinkingConfig,
};
pub use response::{AnthropicUsage, MessagesResponse, ServerToolUse};
pub use stream::{BlockDelta, MessageDeltaBody, MessageStreamEvent};
