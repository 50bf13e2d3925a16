//! The streamed chat completion chunk (`chat.completion.chunk`), fully
//! typed for the converters (the relay's same-protocol path uses the
//! borrowed [`ChunkView`](super::ChunkView) instead).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::OpenAiUsage;
use super::completion::serialize_usage;
use super::message::ThinkingBlock;

/// A `chat.completion.chunk`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ChatCompletionChunk {
    /// Completion id (the same on every chunk).
    #[serde(default)]
    pub id: String,
    /// Always `chat.completion.chunk`.
    #[serde(default)]
    pub object: String,
    /// Creation time, Unix seconds.
    #[serde(default)]
    pub created: i64,
    /// Model name.
    #[serde(default)]
    pub model: String,
    /// Choice deltas; empty on the final usage-only chunk.
    #[serde(default)]
    pub choices: Vec<ChunkChoice>,
    /// Usage, on the final chunk when `include_usage` was asked for.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        serialize_with = "serialize_usage"
    )]
    pub usage: Option<OpenAiUsage>,
    /// An in-stream error (sent by some providers, and by Switchyard when an
    /// upstream fails mid-stream).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<Value>,
    /// Members this type does not model.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// One choice's delta.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ChunkChoice {
    /// Choice index.
    #[serde(default)]
    pub index: u32,
    /// What this chunk adds.
    #[serde(default)]
    pub delta: ChunkDelta,
    /// Set on the choice's last chunk; serialised as `null` otherwise.
    #[serde(default)]
    pub finish_reason: Option<String>,
    /// Members this type does not model (`logprobs`, …).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The delta of a chunk choice.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ChunkDelta {
    /// `assistant` on the first chunk.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    /// Text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<String>,
    /// Reasoning text (extension; see [`ChatMessage`](super::ChatMessage)).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasoning_content: Option<String>,
    /// OpenRouter's name for reasoning text (read only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasoning: Option<String>,
    /// Reasoning signature fragment (extension).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasoning_signature: Option<String>,
    /// Whole thinking blocks (extension; used for redacted thinking).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thinking_blocks: Option<Vec<ThinkingBlock>>,
    /// Refusal text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refusal: Option<String>,
    /// Tool-call fragments.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_calls: Option<Vec<ToolCallDelta>>,
    /// Members this type does not model.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A fragment of a tool call. The first fragment of a call carries `id`,
/// `type` and `function.name`; later ones only `index` and argument text.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ToolCallDelta {
    /// Position of the call among this turn's calls.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub index: Option<u32>,
    /// Call id (first fragment).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// `function` (first fragment).
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Name and argument fragment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub function: Option<FunctionDelta>,
    /// Members this type does not model.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The function part of a tool-call fragment.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FunctionDelta {
    /// Function name (first fragment).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// A piece of the JSON arguments text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arguments: Option<String>,
}
