//! The wire protocol each side of an exchange speaks. The client's comes
//! from the endpoint it called; the upstream's from the channel type (and,
//! for OpenAI channels, the model). When they differ, the relay converts
//! requests, answers and streams through the canonical form; when they
//! match, it forwards bytes.

use super::mode::Mode;
use crate::error::Dialect;

/// A request/answer protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Protocol {
    /// OpenAI Chat Completions.
    Chat,
    /// OpenAI legacy Completions.
    Completions,
    /// OpenAI Embeddings.
    Embeddings,
    /// Anthropic Messages.
    Anthropic,
    /// Gemini `generateContent` / `streamGenerateContent`.
    Gemini,
    /// OpenAI Responses.
    Responses,
    /// Gemini `embedContent` (one input).
    GeminiEmbed,
    /// Gemini `batchEmbedContents`.
    GeminiBatchEmbed,
}

impl Protocol {
    /// The protocol a client speaks on the endpoint of `mode` (Gemini's
    /// embedding endpoints are chosen by their ingress, not by the mode).
    pub fn of_client(mode: Mode) -> Option<Self> {
        match mode {
            Mode::ChatCompletions => Some(Self::Chat),
            Mode::Completions => Some(Self::Completions),
            Mode::Embeddings => Some(Self::Embeddings),
            Mode::Anthropic => Some(Self::Anthropic),
            Mode::Gemini => Some(Self::Gemini),
            Mode::Responses => Some(Self::Responses),
            _ => None,
        }
    }

    /// The relay mode whose upstream endpoint speaks this protocol.
    pub fn upstream_mode(self) -> Mode {
        match self {
            Self::Chat => Mode::ChatCompletions,
            Self::Completions => Mode::Completions,
            Self::Embeddings | Self::GeminiEmbed | Self::GeminiBatchEmbed => Mode::Embeddings,
            Self::Anthropic => Mode::Anthropic,
            Self::Gemini => Mode::Gemini,
            Self::Responses => Mode::Responses,
        }
    }

    /// The error shape of this protocol's clients.
    pub fn dialect(self) -> Dialect {
        match self {
            Self::Anthropic => Dialect::Anthropic,
            Self::Gemini | Self::GeminiEmbed | Self::GeminiBatchEmbed => Dialect::Gemini,
            _ => Dialect::OpenAi,
        }
    }

    /// A text-generation protocol (converted through the canonical form).
    pub fn is_generation(self) -> bool {
        matches!(
            self,
            Self::Chat | Self::Anthropic | Self::Gemini | Self::Responses
        )
    }

    /// An embeddings protocol.
    pub fn is_embedding(self) -> bool {
        matches!(
            self,
            Self::Embeddings | Self::GeminiEmbed | Self::GeminiBatchEmbed
        )
    }
}
