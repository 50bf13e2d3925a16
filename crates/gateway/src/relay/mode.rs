//! The relay mode: which client-facing API a request uses. The numeric ids
//! are AI Proxy's (`mode` column of logs, `type` of model configs).

use std::time::Duration;

/// A client-facing API shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Mode {
    /// Unknown / any.
    Unknown,
    /// `/v1/chat/completions`.
    ChatCompletions,
    /// `/v1/completions`.
    Completions,
    /// `/v1/embeddings`.
    Embeddings,
    /// `/v1/moderations`.
    Moderations,
    /// `/v1/images/generations`.
    ImagesGenerations,
    /// `/v1/images/edits`.
    ImagesEdits,
    /// `/v1/audio/speech`.
    AudioSpeech,
    /// `/v1/audio/transcriptions`.
    AudioTranscription,
    /// `/v1/audio/translations`.
    AudioTranslation,
    /// `/v1/rerank`.
    Rerank,
    /// `/v1/parse/pdf`.
    ParsePdf,
    /// `/v1/messages`.
    Anthropic,
    /// Video generation jobs.
    VideoGenerationsJobs,
    /// Video job status.
    VideoGenerationsGetJobs,
    /// Video content.
    VideoGenerationsContent,
    /// `/v1/responses`.
    Responses,
    /// `GET /v1/responses/{id}`.
    ResponsesGet,
    /// `DELETE /v1/responses/{id}`.
    ResponsesDelete,
    /// `POST /v1/responses/{id}/cancel`.
    ResponsesCancel,
    /// `GET /v1/responses/{id}/input_items`.
    ResponsesInputItems,
    /// Gemini native generateContent.
    Gemini,
    /// Web search.
    WebSearch,
}

const ALL: [Mode; 23] = [
    Mode::Unknown,
    Mode::ChatCompletions,
    Mode::Completions,
    Mode::Embeddings,
    Mode::Moderations,
    Mode::ImagesGenerations,
    Mode::ImagesEdits,
    Mode::AudioSpeech,
    Mode::AudioTranscription,
    Mode::AudioTranslation,
    Mode::Rerank,
    Mode::ParsePdf,
    Mode::Anthropic,
    Mode::VideoGenerationsJobs,
    Mode::VideoGenerationsGetJobs,
    Mode::VideoGenerationsContent,
    Mode::Responses,
    Mode::ResponsesGet,
    Mode::ResponsesDelete,
    Mode::ResponsesCancel,
    Mode::ResponsesInputItems,
    Mode::Gemini,
    Mode::WebSearch,
];

impl Mode {
    /// AI Proxy's numeric id.
    pub fn id(self) -> i64 {
        ALL.iter()
            .position(|m| *m == self)
            .and_then(|p| i64::try_from(p).ok())
            .unwrap_or(0)
    }

    /// The mode for a numeric id.
    pub fn from_id(id: i64) -> Option<Self> {
        usize::try_from(id).ok().and_then(|i| ALL.get(i).copied())
    }

    fn is_text_generation(self) -> bool {
        matches!(
            self,
            Self::ChatCompletions
                | Self::Completions
                | Self::Anthropic
                | Self::Gemini
                | Self::Responses
        )
    }

    /// Whether a model typed `self` may serve a request in `request` mode.
    pub fn accepts(self, request: Mode) -> bool {
        match self {
            Self::Unknown => true,
            Self::Responses => request.is_text_generation() && request != Self::Completions,
            m if m.is_text_generation() => request.is_text_generation(),
            Self::ImagesGenerations | Self::ImagesEdits => {
                matches!(request, Self::ImagesGenerations | Self::ImagesEdits)
            }
            m => m == request,
        }
    }

    /// Default time to the upstream's first byte (AI Proxy's table), scaled
    /// for big prompts on text generation.
    pub fn default_ttfb_timeout(self, stream: bool, estimated_input_tokens: i64) -> Duration {
        let minutes = |m: u64| Duration::from_secs(m * 60);
        match self {
            Self::Embeddings => Duration::from_secs(30),
            Self::Moderations | Self::AudioTranscription | Self::AudioTranslation => minutes(5),
            Self::ImagesGenerations | Self::ImagesEdits => minutes(10),
            Self::Rerank | Self::ParsePdf => minutes(3),
            m if m.is_text_generation() => {
                let tier = if estimated_input_tokens > 102_400 {
                    2
                } else if estimated_input_tokens > 10_240 {
                    1
                } else {
                    0
                };
                let table: [u64; 3] = if stream { [3, 5, 10] } else { [5, 10, 15] };
                minutes(table[tier])
            }
            _ if stream => minutes(3),
            Self::AudioSpeech => minutes(5),
            _ => Duration::from_secs(30),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_match_ai_proxy() {
        assert_eq!(Mode::ChatCompletions.id(), 1);
        assert_eq!(Mode::Embeddings.id(), 3);
        assert_eq!(Mode::Anthropic.id(), 12);
        assert_eq!(Mode::Responses.id(), 16);
        assert_eq!(Mode::Gemini.id(), 21);
        assert_eq!(Mode::from_id(2), Some(Mode::Completions));
        assert_eq!(Mode::from_id(99), None);
    }

    #[test]
    fn endpoint_compatibility() {
        assert!(Mode::ChatCompletions.accepts(Mode::Completions));
        assert!(!Mode::Responses.accepts(Mode::Completions));
        assert!(!Mode::Embeddings.accepts(Mode::ChatCompletions));
        assert!(Mode::Unknown.accepts(Mode::Embeddings));
    }

    #[test]
    fn timeouts_scale_with_prompt() {
        assert_eq!(
            Mode::ChatCompletions.default_ttfb_timeout(true, 10),
            Duration::from_secs(180)
        );
        assert_eq!(
            Mode::ChatCompletions.default_ttfb_timeout(false, 20_000),
            Duration::from_secs(600)
        );
        assert_eq!(
            Mode::Embeddings.default_ttfb_timeout(false, 0),
            Duration::from_secs(30)
        );
    }
}
