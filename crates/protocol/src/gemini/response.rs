//! The `generateContent` response, which is also the shape of every
//! `streamGenerateContent` chunk, and Gemini's `usageMetadata`.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::content::Content;
use super::error::GeminiErrorObject;
use crate::Usage;

/// A response, or one stream chunk. In a stream every chunk repeats the
/// cumulative `usageMetadata`; the last one carries `finishReason`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GenerateContentResponse {
    /// Candidates (one unless `candidateCount` > 1; none when the prompt
    /// was blocked).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub candidates: Vec<Candidate>,
    /// Why the prompt was blocked, if it was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt_feedback: Option<PromptFeedback>,
    /// Token counts (cumulative in streams).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage_metadata: Option<UsageMetadata>,
    /// The model that answered, e.g. `gemini-2.5-flash`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model_version: Option<String>,
    /// Response id, the same on every chunk of a stream.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_id: Option<String>,
    /// Not part of Google's schema: a stream chunk that is an error object
    /// (`{"error":{…}}`) decodes with only this set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<GeminiErrorObject>,
    /// Members this type does not model (`createTime`, …).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// One candidate answer.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Candidate {
    /// The answer's parts (absent when blocked).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<Content>,
    /// `STOP`, `MAX_TOKENS`, `SAFETY`, `RECITATION`, `LANGUAGE`, `OTHER`,
    /// `BLOCKLIST`, `PROHIBITED_CONTENT`, `SPII`,
    /// `MALFORMED_FUNCTION_CALL`, `IMAGE_SAFETY`, …; absent until the end.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finish_reason: Option<String>,
    /// Candidate index.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub index: Option<u32>,
    /// Human-readable detail for the finish reason.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finish_message: Option<String>,
    /// Members this type does not model (`safetyRatings`,
    /// `citationMetadata`, `groundingMetadata`, …).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `promptFeedback`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PromptFeedback {
    /// `SAFETY`, `OTHER`, `BLOCKLIST`, `PROHIBITED_CONTENT`, ….
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub block_reason: Option<String>,
    /// Members this type does not model (`safetyRatings`).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `usageMetadata`. `candidatesTokenCount` excludes thinking tokens, which
/// `thoughtsTokenCount` reports separately; `promptTokenCount` includes
/// the cached tokens.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UsageMetadata {
    /// Prompt tokens, cached ones included.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt_token_count: Option<i64>,
    /// Prompt tokens served from the context cache.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cached_content_token_count: Option<i64>,
    /// Answer tokens, thinking excluded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub candidates_token_count: Option<i64>,
    /// Prompt tokens of built-in tool results (search, code execution).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_use_prompt_token_count: Option<i64>,
    /// Thinking tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thoughts_token_count: Option<i64>,
    /// Total.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total_token_count: Option<i64>,
    /// Prompt tokens per modality.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt_tokens_details: Option<Vec<ModalityTokenCount>>,
    /// Cached tokens per modality.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_tokens_details: Option<Vec<ModalityTokenCount>>,
    /// Answer tokens per modality.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub candidates_tokens_details: Option<Vec<ModalityTokenCount>>,
    /// Members this type does not model (`toolUsePromptTokensDetails`,
    /// `trafficType`, …).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// One per-modality count.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ModalityTokenCount {
    /// `TEXT`, `IMAGE`, `AUDIO`, `VIDEO`, `DOCUMENT`.
    #[serde(default)]
    pub modality: String,
    /// Tokens of that modality.
    #[serde(default)]
    pub token_count: i64,
}

/// The tokens of one modality in a details list.
fn modality(details: Option<&Vec<ModalityTokenCount>>, name: &str) -> i64 {
    details
        .into_iter()
        .flatten()
        .filter(|d| d.modality.eq_ignore_ascii_case(name))
        .map(|d| d.token_count)
        .sum()
}

impl UsageMetadata {
    /// Normalise: input = `promptTokenCount` + `toolUsePromptTokenCount`;
    /// output = `candidatesTokenCount` + `thoughtsTokenCount`; reasoning =
    /// thoughts; cached = `cachedContentTokenCount`; per-modality splits
    /// from the details lists; total as reported (or input + output).
    ///
    /// AI Proxy leaves `toolUsePromptTokenCount` out of the input; Google
    /// bills it as input, so it is counted here (it is zero unless a
    /// built-in tool such as Google Search ran).
    pub fn to_usage(&self) -> Usage {
        let input =
            self.prompt_token_count.unwrap_or(0) + self.tool_use_prompt_token_count.unwrap_or(0);
        let thoughts = self.thoughts_token_count.unwrap_or(0);
        let output = self.candidates_token_count.unwrap_or(0) + thoughts;
        let prompt = self.prompt_tokens_details.as_ref();
        let answer = self.candidates_tokens_details.as_ref();
        Usage {
            input_tokens: input,
            image_input_tokens: modality(prompt, "IMAGE"),
            audio_input_tokens: modality(prompt, "AUDIO"),
            video_input_tokens: modality(prompt, "VIDEO"),
            output_tokens: output,
            image_output_tokens: modality(answer, "IMAGE"),
            audio_output_tokens: modality(answer, "AUDIO"),
            cached_tokens: self.cached_content_token_count.unwrap_or(0),
            cache_creation_tokens: 0,
            reasoning_tokens: thoughts,
            total_tokens: self
                .total_token_count
                .filter(|t| *t > 0)
                .unwrap_or(input + output),
            web_search_count: 0,
        }
    }

    /// Render a normalised usage: `candidatesTokenCount` = output −
    /// reasoning, `thoughtsTokenCount` = reasoning (omitted when zero),
    /// `cachedContentTokenCount` = cached (omitted when zero), per-modality
    /// prompt details when any non-text modality was counted.
    pub fn from_usage(usage: &Usage) -> Self {
        let thoughts = usage.reasoning_tokens.clamp(0, usage.output_tokens.max(0));
        let media = [
            ("IMAGE", usage.image_input_tokens),
            ("AUDIO", usage.audio_input_tokens),
            ("VIDEO", usage.video_input_tokens),
        ];
        let media_total: i64 = media.iter().map(|(_, n)| n).sum();
        let prompt_tokens_details = (media_total > 0).then(|| {
            let text = (usage.input_tokens - media_total).max(0);
            std::iter::once(("TEXT", text))
                .chain(media)
                .filter(|(_, n)| *n > 0)
                .map(|(m, n)| ModalityTokenCount {
                    modality: m.to_owned(),
                    token_count: n,
                })
                .collect()
        });
        Self {
            prompt_token_count: Some(usage.input_tokens),
            cached_content_token_count: (usage.cached_tokens > 0).then_some(usage.cached_tokens),
            candidates_token_count: Some(usage.output_tokens - thoughts),
            tool_use_prompt_token_count: None,
            thoughts_token_count: (thoughts > 0).then_some(thoughts),
            total_token_count: Some(if usage.total_tokens > 0 {
                usage.total_tokens
            } else {
                usage.input_tokens + usage.output_tokens
            }),
            prompt_tokens_details,
            cache_tokens_details: None,
            candidates_tokens_details: None,
            extra: Map::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usage_normalisation() {
        let meta: UsageMetadata = serde_json::from_str(
            r#"{"promptTokenCount":100,"candidatesTokenCount":50,"thoughtsTokenCount":30,
                "cachedContentTokenCount":40,"totalTokenCount":180,
                "promptTokensDetails":[{"modality":"TEXT","tokenCount":90},{"modality":"IMAGE","tokenCount":10}]}"#,
        )
        .unwrap();
        let u = meta.to_usage();
        assert_eq!(
            (u.input_tokens, u.output_tokens, u.reasoning_tokens),
            (100, 80, 30)
        );
        assert_eq!(
            (u.cached_tokens, u.image_input_tokens, u.total_tokens),
            (40, 10, 180)
        );
        let back = UsageMetadata::from_usage(&u);
        assert_eq!(back.candidates_token_count, Some(50));
        assert_eq!(back.thoughts_token_count, Some(30));
        assert_eq!(back.cached_content_token_count, Some(40));
        assert_eq!(back.to_usage(), u);
    }

    #[test]
    fn tool_use_prompt_tokens_are_input() {
        let meta: UsageMetadata = serde_json::from_str(
            r#"{"promptTokenCount":10,"toolUsePromptTokenCount":5,"candidatesTokenCount":2}"#,
        )
        .unwrap();
        let u = meta.to_usage();
        assert_eq!((u.input_tokens, u.total_tokens), (15, 17));
    }
}
