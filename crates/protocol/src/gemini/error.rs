//! The Gemini (Google API) error body
//! `{"error":{"code":400,"message":"…","status":"INVALID_ARGUMENT"}}`,
//! also the data of an error event in a stream.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The whole error document.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct GeminiErrorBody {
    /// The error object.
    pub error: GeminiErrorObject,
}

/// The inner error object.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct GeminiErrorObject {
    /// The HTTP status code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<i64>,
    /// Human-readable message.
    #[serde(default)]
    pub message: String,
    /// The canonical status name: `INVALID_ARGUMENT`, `UNAUTHENTICATED`,
    /// `PERMISSION_DENIED`, `NOT_FOUND`, `RESOURCE_EXHAUSTED`, `INTERNAL`,
    /// `UNAVAILABLE`, `DEADLINE_EXCEEDED`, ….
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub status: String,
    /// Structured details (`google.rpc.ErrorInfo`, `BadRequest`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details: Option<Vec<Value>>,
    /// Members this type does not model.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl GeminiErrorBody {
    /// Parse an error body, accepting only the Google shape: a `status`
    /// name, or a numeric `code` without OpenAI's `type`. Google also
    /// answers some errors as a one-element array of this object; that is
    /// accepted too.
    pub fn parse(bytes: &[u8]) -> Option<Self> {
        let body = match bytes.trim_ascii_start().first() {
            Some(b'[') => serde_json::from_slice::<Vec<Self>>(bytes)
                .ok()?
                .into_iter()
                .next()?,
            _ => serde_json::from_slice::<Self>(bytes).ok()?,
        };
        let e = &body.error;
        let google = !e.status.is_empty() || (e.code.is_some() && !e.extra.contains_key("type"));
        google.then_some(body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_google_shape_parses() {
        let g = GeminiErrorBody::parse(
            br#"{"error":{"code":429,"message":"quota","status":"RESOURCE_EXHAUSTED","details":[]}}"#,
        )
        .unwrap();
        assert_eq!(
            (g.error.code, g.error.status.as_str()),
            (Some(429), "RESOURCE_EXHAUSTED")
        );
        assert!(
            GeminiErrorBody::parse(
                br#"[{"error":{"code":400,"message":"m","status":"INVALID_ARGUMENT"}}]"#
            )
            .is_some()
        );
        assert!(
            GeminiErrorBody::parse(
                br#"{"error":{"message":"m","type":"invalid_request_error","code":"x"}}"#
            )
            .is_none()
        );
        assert!(
            GeminiErrorBody::parse(
                br#"{"error":{"message":"m","type":"server_error","code":500}}"#
            )
            .is_none()
        );
        assert!(GeminiErrorBody::parse(b"not json").is_none());
    }
}
