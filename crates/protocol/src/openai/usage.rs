//! OpenAI `usage` objects (chat, completions, embeddings) and their mapping
//! onto the normalised [`Usage`].

use serde::{Deserialize, Serialize};

use crate::Usage;

/// An OpenAI-style `usage` object, lenient about which fields are present.
///
/// Providers vary: DeepSeek reports `prompt_cache_hit_tokens`, Moonshot a
/// top-level `cached_tokens`, embeddings omit `completion_tokens`.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct OpenAiUsage {
    /// Prompt tokens.
    pub prompt_tokens: Option<i64>,
    /// Completion tokens.
    pub completion_tokens: Option<i64>,
    /// Total tokens.
    pub total_tokens: Option<i64>,
    /// Prompt breakdown.
    pub prompt_tokens_details: Option<PromptDetails>,
    /// Completion breakdown.
    pub completion_tokens_details: Option<CompletionDetails>,
    /// DeepSeek's cache-hit counter.
    pub prompt_cache_hit_tokens: Option<i64>,
    /// Moonshot's top-level cache counter.
    pub cached_tokens: Option<i64>,
    /// AI Proxy's web search counter extension.
    pub web_search_count: Option<i64>,
}

/// `prompt_tokens_details`.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct PromptDetails {
    /// Tokens read from the prompt cache.
    pub cached_tokens: Option<i64>,
    /// Audio prompt tokens.
    pub audio_tokens: Option<i64>,
    /// Image prompt tokens.
    pub image_tokens: Option<i64>,
    /// Tokens written to the prompt cache (AI Proxy extension).
    pub cache_creation_tokens: Option<i64>,
}

/// `completion_tokens_details`.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct CompletionDetails {
    /// Reasoning tokens.
    pub reasoning_tokens: Option<i64>,
    /// Audio completion tokens.
    pub audio_tokens: Option<i64>,
    /// Image completion tokens.
    pub image_tokens: Option<i64>,
}

impl OpenAiUsage {
    /// Normalise into a [`Usage`]; missing counters are derived where possible
    /// (completion = total − prompt when only the total is given).
    pub fn to_usage(&self) -> Usage {
        let prompt = self.prompt_tokens.unwrap_or(0);
        let completion = match (self.completion_tokens, self.total_tokens) {
            (Some(c), _) => c,
            (None, Some(t)) => (t - prompt).max(0),
            (None, None) => 0,
        };
        let prompt_details = self.prompt_tokens_details.clone().unwrap_or_default();
        let completion_details = self.completion_tokens_details.clone().unwrap_or_default();
        let cached = prompt_details
            .cached_tokens
            .or(self.prompt_cache_hit_tokens)
            .or(self.cached_tokens)
            .unwrap_or(0);
        Usage {
            input_tokens: prompt,
            image_input_tokens: prompt_details.image_tokens.unwrap_or(0),
            audio_input_tokens: prompt_details.audio_tokens.unwrap_or(0),
            video_input_tokens: 0,
            output_tokens: completion,
            image_output_tokens: completion_details.image_tokens.unwrap_or(0),
            audio_output_tokens: completion_details.audio_tokens.unwrap_or(0),
            cached_tokens: cached,
            cache_creation_tokens: prompt_details.cache_creation_tokens.unwrap_or(0),
            reasoning_tokens: completion_details.reasoning_tokens.unwrap_or(0),
            total_tokens: self.total_tokens.unwrap_or(prompt + completion),
            web_search_count: self.web_search_count.unwrap_or(0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chat_usage_with_details() {
        let u: OpenAiUsage = serde_json::from_str(
            r#"{"prompt_tokens":100,"completion_tokens":50,"total_tokens":150,
                "prompt_tokens_details":{"cached_tokens":40},
                "completion_tokens_details":{"reasoning_tokens":20}}"#,
        )
        .unwrap();
        let n = u.to_usage();
        assert_eq!(n.input_tokens, 100);
        assert_eq!(n.output_tokens, 50);
        assert_eq!(n.cached_tokens, 40);
        assert_eq!(n.reasoning_tokens, 20);
        assert_eq!(n.total_tokens, 150);
    }

    #[test]
    fn embeddings_usage_has_no_completion() {
        let u: OpenAiUsage =
            serde_json::from_str(r#"{"prompt_tokens":8,"total_tokens":8}"#).unwrap();
        let n = u.to_usage();
        assert_eq!((n.input_tokens, n.output_tokens, n.total_tokens), (8, 0, 8));
    }

    #[test]
    fn total_only_derives_completion() {
        let u: OpenAiUsage =
            serde_json::from_str(r#"{"prompt_tokens":8,"total_tokens":20}"#).unwrap();
        assert_eq!(u.to_usage().output_tokens, 12);
    }

    #[test]
    fn deepseek_cache_hit_field() {
        let u: OpenAiUsage = serde_json::from_str(
            r#"{"prompt_tokens":10,"completion_tokens":1,"prompt_cache_hit_tokens":6}"#,
        )
        .unwrap();
        assert_eq!(u.to_usage().cached_tokens, 6);
    }
}
