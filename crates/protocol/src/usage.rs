//! The normalised usage record every protocol's usage is converted into.
//!
//! Convention (the OpenAI one, as AI Proxy uses it): `input_tokens` includes
//! cached and cache-creation tokens; `output_tokens` includes reasoning tokens.
//! The relay fills one of these per request; billing and logs read it.

use serde::{Deserialize, Serialize};

/// Token and request counters for one upstream call, in a protocol-neutral form.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Usage {
    /// All prompt tokens, including cached and cache-creation tokens.
    pub input_tokens: i64,
    /// Prompt tokens that were images.
    pub image_input_tokens: i64,
    /// Prompt tokens that were audio.
    pub audio_input_tokens: i64,
    /// Prompt tokens that were video.
    pub video_input_tokens: i64,
    /// All completion tokens, including reasoning tokens.
    pub output_tokens: i64,
    /// Completion tokens that were images.
    pub image_output_tokens: i64,
    /// Completion tokens that were audio.
    pub audio_output_tokens: i64,
    /// Prompt tokens read from the provider's prompt cache.
    pub cached_tokens: i64,
    /// Prompt tokens written to the provider's prompt cache.
    pub cache_creation_tokens: i64,
    /// Completion tokens spent on reasoning.
    pub reasoning_tokens: i64,
    /// Total tokens as reported (or input + output).
    pub total_tokens: i64,
    /// Number of web searches the provider ran.
    pub web_search_count: i64,
}

impl Usage {
    /// A usage with only input and output tokens; total is their sum.
    pub fn from_counts(input_tokens: i64, output_tokens: i64) -> Self {
        Self {
            input_tokens,
            output_tokens,
            total_tokens: input_tokens + output_tokens,
            ..Self::default()
        }
    }

    /// True when no counter is set.
    pub fn is_zero(&self) -> bool {
        *self == Self::default()
    }

    /// The prompt's counters only (input, its media parts and the prompt
    /// cache), with the total equal to the input: what an upstream has
    /// reported of a stream before its final usage, whose output counts
    /// are not yet known.
    pub fn input_only(&self) -> Self {
        Self {
            input_tokens: self.input_tokens,
            image_input_tokens: self.image_input_tokens,
            audio_input_tokens: self.audio_input_tokens,
            video_input_tokens: self.video_input_tokens,
            cached_tokens: self.cached_tokens,
            cache_creation_tokens: self.cache_creation_tokens,
            total_tokens: self.input_tokens,
            ..Self::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn input_only_keeps_the_prompt_side_and_totals_it() {
        let full = Usage {
            input_tokens: 40,
            image_input_tokens: 3,
            audio_input_tokens: 2,
            video_input_tokens: 1,
            output_tokens: 9,
            image_output_tokens: 4,
            audio_output_tokens: 5,
            cached_tokens: 10,
            cache_creation_tokens: 6,
            reasoning_tokens: 7,
            total_tokens: 49,
            web_search_count: 1,
        };
        assert_eq!(
            full.input_only(),
            Usage {
                input_tokens: 40,
                image_input_tokens: 3,
                audio_input_tokens: 2,
                video_input_tokens: 1,
                cached_tokens: 10,
                cache_creation_tokens: 6,
                total_tokens: 40,
                ..Usage::default()
            }
        );
    }
}
