//! Chat messages and their content parts, shared by requests and responses.
//!
//! # Reasoning fields (an extension, documented here once)
//!
//! OpenAI has no field for visible reasoning; Switchyard follows the
//! DeepSeek/AI Proxy convention and adds, on assistant messages and stream
//! deltas:
//!
//! - `reasoning_content`: the reasoning text (all thinking blocks joined);
//! - `reasoning_signature`: the provider signature of that reasoning
//!   (Anthropic's thinking `signature`), so a client that echoes the
//!   assistant message back keeps a multi-turn tool conversation with
//!   thinking valid;
//! - `thinking_blocks`: the full-fidelity list of thinking and redacted
//!   thinking blocks, each with its own signature (LiteLLM's field name and
//!   shape: `{"type":"thinking","thinking","signature"}` /
//!   `{"type":"redacted_thinking","data"}`). When present it wins over the
//!   two fields above.
//!
//! `reasoning` (OpenRouter's name) is accepted as an alias of
//! `reasoning_content` on input.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::request::function_type;

/// One chat message (any role). `content` is always serialised, as `null`
/// when absent, which is what OpenAI sends for tool-call-only answers.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ChatMessage {
    /// `system`, `developer`, `user`, `assistant`, `tool` or `function`.
    pub role: String,
    /// Text or content parts.
    #[serde(default)]
    pub content: Option<ChatContent>,
    /// Participant name (or function name for legacy `function` messages).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Tool calls of an assistant message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_calls: Option<Vec<ChatToolCall>>,
    /// The call a `tool` message answers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_call_id: Option<String>,
    /// Refusal text of an assistant message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refusal: Option<String>,
    /// Reasoning text (extension; see the module docs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasoning_content: Option<String>,
    /// Reasoning signature (extension; see the module docs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasoning_signature: Option<String>,
    /// Full-fidelity thinking blocks (extension; see the module docs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thinking_blocks: Option<Vec<ThinkingBlock>>,
    /// Members this type does not model.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Message content: a plain string or a list of parts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ChatContent {
    /// Plain text.
    Text(String),
    /// Typed parts.
    Parts(Vec<ChatContentPart>),
}

/// One content part. Kept as one lenient struct (rather than an enum) so
/// unknown part types survive a round trip.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ChatContentPart {
    /// `text`, `image_url`, `input_audio`, `file`, `refusal`, …
    #[serde(rename = "type")]
    pub kind: String,
    /// Text of a `text` part.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// Image of an `image_url` part.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_url: Option<ImageUrl>,
    /// Audio of an `input_audio` part.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_audio: Option<InputAudio>,
    /// File of a `file` part.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<FileData>,
    /// Refusal text of a `refusal` part.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refusal: Option<String>,
    /// Members this type does not model (e.g. `cache_control`).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl ChatContentPart {
    /// A `text` part.
    pub fn text(text: impl Into<String>) -> Self {
        Self {
            kind: "text".to_owned(),
            text: Some(text.into()),
            ..Self::default()
        }
    }
}

/// `image_url`. Also accepts a bare URL string, which some clients send.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(from = "ImageUrlRepr")]
pub struct ImageUrl {
    /// An http(s) URL or a `data:` URL.
    pub url: String,
    /// `low`, `high` or `auto`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// Members this type does not model.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The accepted input forms of [`ImageUrl`].
#[derive(Deserialize)]
#[serde(untagged)]
enum ImageUrlRepr {
    Bare(String),
    Full {
        url: String,
        #[serde(default)]
        detail: Option<String>,
        #[serde(flatten)]
        extra: Map<String, Value>,
    },
}

impl From<ImageUrlRepr> for ImageUrl {
    fn from(repr: ImageUrlRepr) -> Self {
        match repr {
            ImageUrlRepr::Bare(url) => Self {
                url,
                ..Self::default()
            },
            ImageUrlRepr::Full { url, detail, extra } => Self { url, detail, extra },
        }
    }
}

/// `input_audio`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct InputAudio {
    /// Base64 audio.
    pub data: String,
    /// `wav`, `mp3`, …
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<String>,
    /// Members this type does not model.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `file`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FileData {
    /// A `data:` URL with the file's bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_data: Option<String>,
    /// An uploaded file's id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_id: Option<String>,
    /// File name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filename: Option<String>,
    /// Members this type does not model.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A complete tool call (in a request's history or a response message).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ChatToolCall {
    /// Call id.
    #[serde(default)]
    pub id: String,
    /// Always `function`.
    #[serde(rename = "type", default = "function_type")]
    pub kind: String,
    /// The call.
    #[serde(default)]
    pub function: FunctionCall,
    /// Members this type does not model (Gemini's OpenAI endpoint puts
    /// `extra_content.google.thought_signature` here).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A function call: name and JSON arguments text.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FunctionCall {
    /// Function name.
    #[serde(default)]
    pub name: String,
    /// Arguments as JSON text.
    #[serde(default)]
    pub arguments: String,
}

/// One entry of `thinking_blocks` (extension; see the module docs).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ThinkingBlock {
    /// `thinking` or `redacted_thinking`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Reasoning text of a `thinking` block.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thinking: Option<String>,
    /// Signature of a `thinking` block.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature: Option<String>,
    /// Payload of a `redacted_thinking` block.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<String>,
}
