//! Anthropic content blocks, shared by requests, responses and stream
//! events. [`ContentBlock`] is a typed enum for the block types the
//! converters understand and keeps any other block (`server_tool_use`,
//! `web_search_tool_result`, `search_result`, …) verbatim as
//! [`ContentBlock::Other`], so a same-protocol round trip loses nothing.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

/// `cache_control`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CacheControl {
    /// `ephemeral`.
    #[serde(rename = "type")]
    pub kind: String,
    /// `5m` or `1h`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttl: Option<String>,
    /// Members this type does not model.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A content block.
#[derive(Debug, Clone, PartialEq)]
pub enum ContentBlock {
    /// `text`.
    Text(TextBlock),
    /// `image`.
    Image(MediaBlock),
    /// `document`.
    Document(MediaBlock),
    /// `tool_use`.
    ToolUse(ToolUseBlock),
    /// `tool_result`.
    ToolResult(ToolResultBlock),
    /// `thinking`.
    Thinking(ThinkingBlock),
    /// `redacted_thinking`.
    RedactedThinking(RedactedThinkingBlock),
    /// Any other block, verbatim (including its `type`).
    Other(Value),
}

/// A `text` block.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TextBlock {
    /// The text.
    #[serde(default)]
    pub text: String,
    /// Cache breakpoint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_control: Option<CacheControl>,
    /// Members this type does not model (`citations`, …).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// An `image` or `document` block.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MediaBlock {
    /// Where the bytes are.
    pub source: Source,
    /// Document title.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Document context.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context: Option<String>,
    /// Cache breakpoint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_control: Option<CacheControl>,
    /// Members this type does not model (`citations`, …).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A media source: `base64`, `url`, `text`, `file` or `content`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Source {
    /// Source type.
    #[serde(rename = "type")]
    pub kind: String,
    /// MIME type (`base64`, `text`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    /// Base64 payload or plain text (`base64`, `text`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<String>,
    /// URL (`url`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Uploaded file id (`file`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_id: Option<String>,
    /// Members this type does not model (`content` of content documents).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A `tool_use` block.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ToolUseBlock {
    /// Call id (`toolu_…`).
    #[serde(default)]
    pub id: String,
    /// Tool name.
    #[serde(default)]
    pub name: String,
    /// Arguments object.
    #[serde(default)]
    pub input: Value,
    /// Cache breakpoint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_control: Option<CacheControl>,
    /// Members this type does not model.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A `tool_result` block.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ToolResultBlock {
    /// The `tool_use` id this answers.
    #[serde(default)]
    pub tool_use_id: String,
    /// Result content: a string or blocks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<ToolResultContent>,
    /// Whether the tool failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_error: Option<bool>,
    /// Cache breakpoint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_control: Option<CacheControl>,
    /// Members this type does not model.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `tool_result.content`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ToolResultContent {
    /// Plain text.
    Text(String),
    /// Blocks (text, image, document, search results).
    Blocks(Vec<ContentBlock>),
}

/// A `thinking` block.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ThinkingBlock {
    /// Reasoning text.
    #[serde(default)]
    pub thinking: String,
    /// Signature; required when sending the block back.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature: Option<String>,
    /// Members this type does not model.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A `redacted_thinking` block.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RedactedThinkingBlock {
    /// Encrypted payload.
    #[serde(default)]
    pub data: String,
    /// Members this type does not model.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl ContentBlock {
    /// A plain `text` block.
    pub fn text(text: impl Into<String>) -> Self {
        Self::Text(TextBlock {
            text: text.into(),
            ..TextBlock::default()
        })
    }

    /// The block's `type` name.
    pub fn type_name(&self) -> &str {
        match self {
            Self::Text(_) => "text",
            Self::Image(_) => "image",
            Self::Document(_) => "document",
            Self::ToolUse(_) => "tool_use",
            Self::ToolResult(_) => "tool_result",
            Self::Thinking(_) => "thinking",
            Self::RedactedThinking(_) => "redacted_thinking",
            Self::Other(v) => v.get("type").and_then(Value::as_str).unwrap_or(""),
        }
    }
}

/// The tagged form used for serialising known blocks.
#[derive(Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Tagged<'a> {
    Text(&'a TextBlock),
    Image(&'a MediaBlock),
    Document(&'a MediaBlock),
    ToolUse(&'a ToolUseBlock),
    ToolResult(&'a ToolResultBlock),
    Thinking(&'a ThinkingBlock),
    RedactedThinking(&'a RedactedThinkingBlock),
}

impl Serialize for ContentBlock {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Text(b) => Tagged::Text(b).serialize(serializer),
            Self::Image(b) => Tagged::Image(b).serialize(serializer),
            Self::Document(b) => Tagged::Document(b).serialize(serializer),
            Self::ToolUse(b) => Tagged::ToolUse(b).serialize(serializer),
            Self::ToolResult(b) => Tagged::ToolResult(b).serialize(serializer),
            Self::Thinking(b) => Tagged::Thinking(b).serialize(serializer),
            Self::RedactedThinking(b) => Tagged::RedactedThinking(b).serialize(serializer),
            Self::Other(v) => v.serialize(serializer),
        }
    }
}

impl<'de> Deserialize<'de> for ContentBlock {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let mut value = Value::deserialize(deserializer)?;
        let kind = value
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned();
        let block = match kind.as_str() {
            "text" => Self::Text(untag(&mut value)?),
            "image" => Self::Image(untag(&mut value)?),
            "document" => Self::Document(untag(&mut value)?),
            "tool_use" => Self::ToolUse(untag(&mut value)?),
            "tool_result" => Self::ToolResult(untag(&mut value)?),
            "thinking" => Self::Thinking(untag(&mut value)?),
            "redacted_thinking" => Self::RedactedThinking(untag(&mut value)?),
            _ => Self::Other(value),
        };
        Ok(block)
    }
}

/// Removes `type` and deserialises the rest into `T`.
fn untag<T: DeserializeOwned, E: serde::de::Error>(value: &mut Value) -> Result<T, E> {
    if let Value::Object(map) = value {
        map.remove("type");
    }
    T::deserialize(std::mem::take(value)).map_err(E::custom)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_and_unknown_blocks_round_trip() {
        let text = r#"[{"type":"text","text":"hi","cache_control":{"type":"ephemeral"},"citations":null},
            {"type":"tool_use","id":"t1","name":"f","input":{"a":1}},
            {"type":"server_tool_use","id":"s1","name":"web_search","input":{}},
            {"type":"thinking","thinking":"hm","signature":"sig"}]"#;
        let blocks: Vec<ContentBlock> = serde_json::from_str(text).unwrap();
        assert!(matches!(blocks[0], ContentBlock::Text(_)));
        assert!(matches!(blocks[2], ContentBlock::Other(_)));
        assert_eq!(blocks[2].type_name(), "server_tool_use");
        let back = serde_json::to_value(&blocks).unwrap();
        let orig: Value = serde_json::from_str(text).unwrap();
        assert_eq!(back, orig);
    }
}
