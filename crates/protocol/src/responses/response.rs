//! The `response` object (the non-streamed answer, and the `response` of
//! the lifecycle stream events) and Responses usage.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::item::Item;
use crate::Usage;

/// A `response` object.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ResponseObject {
    /// Response id (`resp_…`).
    #[serde(default)]
    pub id: String,
    /// Always `response`.
    #[serde(default = "response_object")]
    pub object: String,
    /// Creation time, Unix seconds.
    #[serde(default)]
    pub created_at: i64,
    /// `completed`, `incomplete`, `failed`, `in_progress`, `queued` or
    /// `cancelled`.
    #[serde(default)]
    pub status: String,
    /// Why a `failed` response failed; `null` otherwise (always written).
    #[serde(default)]
    pub error: Option<ResponseError>,
    /// Why an `incomplete` response stopped; `null` otherwise (always
    /// written).
    #[serde(default)]
    pub incomplete_details: Option<IncompleteDetails>,
    /// Model name.
    #[serde(default)]
    pub model: String,
    /// Output items in order.
    #[serde(default)]
    pub output: Vec<Item>,
    /// Token usage; `null` until the response is complete (always written).
    #[serde(default)]
    pub usage: Option<ResponsesUsage>,
    /// Members this type does not model (`instructions`, `tools`,
    /// `tool_choice`, `metadata`, `reasoning`, `text`, …).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

fn response_object() -> String {
    "response".to_owned()
}

/// `error` of a failed response.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ResponseError {
    /// `server_error`, `rate_limit_exceeded`, `invalid_prompt`, …
    #[serde(default)]
    pub code: Option<String>,
    /// Human-readable message.
    #[serde(default)]
    pub message: String,
    /// Members this type does not model.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `incomplete_details`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct IncompleteDetails {
    /// `max_output_tokens` or `content_filter`.
    #[serde(default)]
    pub reason: Option<String>,
    /// Members this type does not model.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Responses `usage`. Same convention as [`Usage`]: `input_tokens`
/// includes cached tokens, `output_tokens` includes reasoning tokens.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ResponsesUsage {
    /// All input tokens.
    #[serde(default)]
    pub input_tokens: i64,
    /// Input breakdown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_tokens_details: Option<InputTokensDetails>,
    /// All output tokens.
    #[serde(default)]
    pub output_tokens: i64,
    /// Output breakdown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_tokens_details: Option<OutputTokensDetails>,
    /// Input + output.
    #[serde(default)]
    pub total_tokens: i64,
}

/// `usage.input_tokens_details`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct InputTokensDetails {
    /// Tokens read from the prompt cache.
    #[serde(default)]
    pub cached_tokens: i64,
    /// Tokens written to the prompt cache (Switchyard/AI Proxy extension;
    /// written only when non-zero).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_creation_tokens: Option<i64>,
}

/// `usage.output_tokens_details`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct OutputTokensDetails {
    /// Tokens spent on reasoning.
    #[serde(default)]
    pub reasoning_tokens: i64,
}

impl ResponsesUsage {
    /// Normalise into a [`Usage`] (the total is derived when missing).
    pub fn to_usage(&self) -> Usage {
        let input = self.input_tokens_details.clone().unwrap_or_default();
        let output = self.output_tokens_details.clone().unwrap_or_default();
        Usage {
            input_tokens: self.input_tokens,
            output_tokens: self.output_tokens,
            cached_tokens: input.cached_tokens,
            cache_creation_tokens: input.cache_creation_tokens.unwrap_or(0),
            reasoning_tokens: output.reasoning_tokens,
            total_tokens: if self.total_tokens > 0 {
                self.total_tokens
            } else {
                self.input_tokens + self.output_tokens
            },
            ..Usage::default()
        }
    }

    /// Renders a normalised usage; both detail objects are always written.
    pub fn from_usage(usage: &Usage) -> Self {
        Self {
            input_tokens: usage.input_tokens,
            input_tokens_details: Some(InputTokensDetails {
                cached_tokens: usage.cached_tokens,
                cache_creation_tokens: (usage.cache_creation_tokens > 0)
                    .then_some(usage.cache_creation_tokens),
            }),
            output_tokens: usage.output_tokens,
            output_tokens_details: Some(OutputTokensDetails {
                reasoning_tokens: usage.reasoning_tokens,
            }),
            total_tokens: if usage.total_tokens > 0 {
                usage.total_tokens
            } else {
                usage.input_tokens + usage.output_tokens
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usage_both_ways() {
        let wire: ResponsesUsage = serde_json::from_str(
            r#"{"input_tokens":100,"input_tokens_details":{"cached_tokens":60},
                "output_tokens":50,"output_tokens_details":{"reasoning_tokens":30},"total_tokens":150}"#,
        )
        .unwrap();
        let u = wire.to_usage();
        assert_eq!(
            (
                u.input_tokens,
                u.cached_tokens,
                u.output_tokens,
                u.reasoning_tokens,
                u.total_tokens
            ),
            (100, 60, 50, 30, 150)
        );
        assert_eq!(ResponsesUsage::from_usage(&u), wire);
        let bare: ResponsesUsage =
            serde_json::from_str(r#"{"input_tokens":3,"output_tokens":4}"#).unwrap();
        assert_eq!(bare.to_usage().total_tokens, 7);
    }
}
