//! The Anthropic error body `{"type":"error","error":{"type","message"}}`,
//! also the data of a stream's `error` event.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The whole error document.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AnthropicErrorBody {
    /// Always `error`.
    #[serde(rename = "type", default = "error_type")]
    pub kind: String,
    /// The error object.
    #[serde(default)]
    pub error: AnthropicErrorObject,
    /// Request id, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

/// The inner error object.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AnthropicErrorObject {
    /// `invalid_request_error`, `authentication_error`, `billing_error`,
    /// `permission_error`, `not_found_error`, `request_too_large`,
    /// `rate_limit_error`, `api_error`, `timeout_error`, `overloaded_error`.
    #[serde(rename = "type", default)]
    pub kind: String,
    /// Human-readable message.
    #[serde(default)]
    pub message: String,
    /// Members this type does not model.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

fn error_type() -> String {
    "error".to_owned()
}

impl AnthropicErrorBody {
    /// Parse an error body, accepting only the Anthropic shape: a top-level
    /// `"type": "error"` (an OpenAI error object also has an inner `type`).
    pub fn parse(bytes: &[u8]) -> Option<Self> {
        #[derive(Deserialize)]
        struct Top {
            #[serde(rename = "type")]
            kind: Option<String>,
        }
        let top = serde_json::from_slice::<Top>(bytes).ok()?;
        if top.kind.as_deref() != Some("error") {
            return None;
        }
        serde_json::from_slice::<Self>(bytes)
            .ok()
            .filter(|b| !b.error.kind.is_empty())
    }
}
