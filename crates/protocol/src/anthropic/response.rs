//! The Messages response body and Anthropic's usage block.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::content::ContentBlock;
use crate::Usage;

/// A `message` object: the non-streamed response, and the `message` of a
/// stream's `message_start` event (with empty `content`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MessagesResponse {
    /// Message id (`msg_…`).
    #[serde(default)]
    pub id: String,
    /// Always `message`.
    #[serde(rename = "type", default = "message_type")]
    pub kind: String,
    /// Always `assistant`.
    #[serde(default = "assistant_role")]
    pub role: String,
    /// Model name.
    #[serde(default)]
    pub model: String,
    /// Output blocks.
    #[serde(default)]
    pub content: Vec<ContentBlock>,
    /// `end_turn`, `max_tokens`, `stop_sequence`, `tool_use`, `pause_turn`,
    /// `refusal`, …; `null` in `message_start`.
    #[serde(default)]
    pub stop_reason: Option<String>,
    /// The stop sequence hit, if any.
    #[serde(default)]
    pub stop_sequence: Option<String>,
    /// Token usage (Anthropic's counting; see [`AnthropicUsage`]).
    #[serde(default)]
    pub usage: AnthropicUsage,
    /// Members this type does not model (`container`, …).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

fn message_type() -> String {
    "message".to_owned()
}

fn assistant_role() -> String {
    "assistant".to_owned()
}

/// Anthropic `usage`. **`input_tokens` excludes** cache reads and cache
/// writes (Anthropic's definition), unlike [`Usage::input_tokens`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AnthropicUsage {
    /// Uncached input tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_tokens: Option<i64>,
    /// Output tokens (thinking included).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_tokens: Option<i64>,
    /// Input tokens written to the cache.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_creation_input_tokens: Option<i64>,
    /// Input tokens read from the cache.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_read_input_tokens: Option<i64>,
    /// Server tool counters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_tool_use: Option<ServerToolUse>,
    /// Members this type does not model (`service_tier`, `cache_creation`
    /// breakdown, …).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `usage.server_tool_use`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ServerToolUse {
    /// Web searches run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub web_search_requests: Option<i64>,
    /// Members this type does not model.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl AnthropicUsage {
    /// Normalise: input = `input_tokens + cache_read + cache_creation`,
    /// cached = cache reads, cache creation = cache writes, web searches
    /// from `server_tool_use`.
    pub fn to_usage(&self) -> Usage {
        let cache_read = self.cache_read_input_tokens.unwrap_or(0);
        let cache_creation = self.cache_creation_input_tokens.unwrap_or(0);
        let input = self.input_tokens.unwrap_or(0) + cache_read + cache_creation;
        let output = self.output_tokens.unwrap_or(0);
        Usage {
            input_tokens: input,
            output_tokens: output,
            cached_tokens: cache_read,
            cache_creation_tokens: cache_creation,
            total_tokens: input + output,
            web_search_count: self
                .server_tool_use
                .as_ref()
                .and_then(|s| s.web_search_requests)
                .unwrap_or(0),
            ..Usage::default()
        }
    }

    /// Render a normalised usage in Anthropic's counting: `input_tokens`
    /// excludes cache reads and writes (never below zero).
    pub fn from_usage(usage: &Usage) -> Self {
        let uncached =
            (usage.input_tokens - usage.cached_tokens - usage.cache_creation_tokens).max(0);
        Self {
            input_tokens: Some(uncached),
            output_tokens: Some(usage.output_tokens),
            cache_creation_input_tokens: Some(usage.cache_creation_tokens),
            cache_read_input_tokens: Some(usage.cached_tokens),
            server_tool_use: (usage.web_search_count > 0).then(|| ServerToolUse {
                web_search_requests: Some(usage.web_search_count),
                extra: Map::new(),
            }),
            extra: Map::new(),
        }
    }

    /// Overlay the counters `later` reports (a stream's `message_delta`
    /// usage, cumulative) onto these (from `message_start`).
    pub fn merge(&mut self, later: &Self) {
        let pairs = [
            (&mut self.input_tokens, later.input_tokens),
            (&mut self.output_tokens, later.output_tokens),
            (
                &mut self.cache_creation_input_tokens,
                later.cache_creation_input_tokens,
            ),
            (
                &mut self.cache_read_input_tokens,
                later.cache_read_input_tokens,
            ),
        ];
        for (slot, value) in pairs {
            if value.is_some() {
                *slot = value;
            }
        }
        if later.server_tool_use.is_some() {
            self.server_tool_use.clone_from(&later.server_tool_use);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cache_tokens_are_added_and_subtracted() {
        let a: AnthropicUsage = serde_json::from_str(
            r#"{"input_tokens":100,"output_tokens":7,"cache_creation_input_tokens":10,"cache_read_input_tokens":20}"#,
        )
        .unwrap();
        let u = a.to_usage();
        assert_eq!(
            (u.input_tokens, u.cached_tokens, u.cache_creation_tokens),
            (130, 20, 10)
        );
        assert_eq!(u.total_tokens, 137);
        let back = AnthropicUsage::from_usage(&u);
        assert_eq!(back.input_tokens, Some(100));
        assert_eq!(back.cache_read_input_tokens, Some(20));
        assert_eq!(back.cache_creation_input_tokens, Some(10));
    }

    #[test]
    fn delta_usage_overlays_start_usage() {
        let mut start: AnthropicUsage = serde_json::from_str(
            r#"{"input_tokens":50,"output_tokens":1,"cache_read_input_tokens":5}"#,
        )
        .unwrap();
        let delta: AnthropicUsage = serde_json::from_str(r#"{"output_tokens":42}"#).unwrap();
        start.merge(&delta);
        let u = start.to_usage();
        assert_eq!((u.input_tokens, u.output_tokens), (55, 42));
    }
}
