//! OpenAI wire types: usage blocks, error bodies, the model list, the pieces
//! of streamed chat chunks the relay inspects, and the full Chat Completions
//! request, response and chunk types the protocol converters use.
//!
//! On the same-protocol path request bodies are never deserialised into
//! these types; the relay peeks at them with [`crate::json`]. The full types
//! ([`ChatRequest`], [`ChatCompletion`], [`ChatCompletionChunk`]) are for
//! cross-protocol conversion; each keeps unknown members in an `extra` map.

mod chunk;
mod completion;
mod error;
mod message;
mod models;
mod plain;
mod request;
mod stream_chunk;
mod usage;

pub use chunk::{ChunkView, chunk_content_text, stream_content_text};
pub use completion::{ChatChoice, ChatCompletion};
pub use error::{ErrorBody, ErrorObject};
pub use message::{
    ChatContent, ChatContentPart, ChatMessage, ChatToolCall, FileData, FunctionCall, ImageUrl,
    InputAudio, ThinkingBlock,
};
pub use models::{ModelEntry, ModelList};
pub use plain::is_plain_chunk;
pub use request::{
    ChatRequest, ChatResponseFormat, ChatTool, ChatToolChoice, FunctionDef, FunctionName,
    JsonSchemaFormat, NamedToolChoice, StopField, StreamOptions,
};
pub use stream_chunk::{
    ChatCompletionChunk, ChunkChoice, ChunkDelta, FunctionDelta, ToolCallDelta,
};
pub use usage::{CompletionDetails, OpenAiUsage, PromptDetails};
