//! The non-streamed chat completion (`chat.completion`) and the usage
//! serialiser shared with stream chunks.

use serde::{Deserialize, Serialize, Serializer};
use serde_json::{Map, Value};

use super::OpenAiUsage;
use super::message::ChatMessage;

/// A `chat.completion` response body.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ChatCompletion {
    /// Completion id.
    #[serde(default)]
    pub id: String,
    /// Always `chat.completion`.
    #[serde(default)]
    pub object: String,
    /// Creation time, Unix seconds.
    #[serde(default)]
    pub created: i64,
    /// Model name.
    #[serde(default)]
    pub model: String,
    /// The choices (the converters read and write one).
    #[serde(default)]
    pub choices: Vec<ChatChoice>,
    /// Token usage.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        serialize_with = "serialize_usage"
    )]
    pub usage: Option<OpenAiUsage>,
    /// Members this type does not model (`system_fingerprint`, …).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// One choice of a completion.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ChatChoice {
    /// Choice index.
    #[serde(default)]
    pub index: u32,
    /// The assistant message.
    #[serde(default)]
    pub message: ChatMessage,
    /// `stop`, `length`, `tool_calls`, `content_filter`, …
    #[serde(default)]
    pub finish_reason: Option<String>,
    /// Members this type does not model (`logprobs`, …).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Serialises an [`OpenAiUsage`] without its absent (`null`) counters, as
/// OpenAI does.
pub(super) fn serialize_usage<S: Serializer>(
    usage: &Option<OpenAiUsage>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    let Some(usage) = usage else {
        return serializer.serialize_none();
    };
    let mut value = serde_json::to_value(usage).map_err(serde::ser::Error::custom)?;
    strip_nulls(&mut value);
    value.serialize(serializer)
}

fn strip_nulls(value: &mut Value) {
    if let Value::Object(map) = value {
        map.retain(|_, v| !v.is_null());
        map.values_mut().for_each(strip_nulls);
    }
}
