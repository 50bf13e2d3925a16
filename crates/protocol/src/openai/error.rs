//! The OpenAI error body `{"error":{"message","type","param","code"}}`.

use serde::{Deserialize, Serialize};

/// The whole error document.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct ErrorBody {
    /// The error object.
    pub error: ErrorObject,
}

/// The inner error object; unknown fields are kept.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct ErrorObject {
    /// Human-readable message.
    #[serde(default)]
    pub message: String,
    /// Error class, e.g. `invalid_request_error`.
    #[serde(default, rename = "type")]
    pub kind: String,
    /// The offending parameter, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub param: Option<serde_json::Value>,
    /// A machine-readable code (string or number, depending on the provider).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<serde_json::Value>,
    /// Fields this type does not know.
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

impl ErrorBody {
    /// Parse an upstream error body, accepting only the OpenAI shape.
    pub fn parse(bytes: &[u8]) -> Option<Self> {
        serde_json::from_slice::<Self>(bytes).ok()
    }
}
