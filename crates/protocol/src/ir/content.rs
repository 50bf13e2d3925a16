//! Messages and their content parts.

/// Who wrote a message. System instructions are not messages (see
/// [`Request::system`](super::Request::system)).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// The end user, or the application reporting tool results.
    User,
    /// The model.
    Assistant,
}

/// One conversation turn.
#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    /// Author.
    pub role: Role,
    /// Content in order. May be empty (an assistant turn the client sent
    /// with no content); encoders skip what their dialect rejects.
    pub content: Vec<Part>,
    /// Participant name (OpenAI `name`); dropped by dialects without one.
    pub name: Option<String>,
}

impl Message {
    /// A message with the given parts and no name.
    pub fn new(role: Role, content: Vec<Part>) -> Self {
        Self {
            role,
            content,
            name: None,
        }
    }
}

/// A prompt-caching hint (Anthropic `cache_control`), carried on the part,
/// system part or tool it marks. Dialects without explicit caching drop it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CacheControl {
    /// The cache type; `ephemeral` is the only one Anthropic defines.
    pub kind: String,
    /// Optional lifetime such as `5m` or `1h`.
    pub ttl: Option<String>,
}

impl CacheControl {
    /// The default ephemeral cache breakpoint.
    pub fn ephemeral() -> Self {
        Self {
            kind: "ephemeral".to_owned(),
            ttl: None,
        }
    }
}

/// One piece of message content.
#[derive(Debug, Clone, PartialEq)]
pub enum Part {
    /// Plain text.
    Text {
        /// The text.
        text: String,
        /// Cache breakpoint after this part.
        cache_control: Option<CacheControl>,
    },
    /// An image input (or output, for image-generating models).
    Image(ImagePart),
    /// An audio input.
    Audio(AudioPart),
    /// A document or other file: PDF, plain text, video, anything that is
    /// neither an image nor audio.
    Document(DocumentPart),
    /// A tool call made by the assistant.
    ToolCall(ToolCall),
    /// The result of a tool call, sent back in a user message.
    ToolResult(ToolResult),
    /// Visible reasoning. `signature` is the provider's opaque proof
    /// (Anthropic `signature`), required to send the block back to it.
    Thinking {
        /// Reasoning text (may be empty when only a signature is carried).
        text: String,
        /// Opaque provider signature, if any.
        signature: Option<String>,
    },
    /// Reasoning the provider encrypted (Anthropic `redacted_thinking`);
    /// `data` must be sent back verbatim.
    RedactedThinking {
        /// Opaque encrypted payload.
        data: String,
    },
    /// A refusal message from the model (OpenAI `refusal`).
    Refusal(String),
}

impl Part {
    /// A text part without cache control.
    pub fn text(text: impl Into<String>) -> Self {
        Self::Text {
            text: text.into(),
            cache_control: None,
        }
    }

    /// The part's text, if it is a text part.
    pub fn as_text(&self) -> Option<&str> {
        match self {
            Self::Text { text, .. } => Some(text),
            _ => None,
        }
    }
}

/// Where the bytes of an image, audio clip or document come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MediaSource {
    /// A URL the upstream (or the gateway) must fetch. Never a `data:` URL:
    /// decoders turn those into [`MediaSource::Base64`].
    Url(String),
    /// Inline base64 data.
    Base64 {
        /// MIME type, e.g. `image/png`, `application/pdf`.
        media_type: String,
        /// Base64 payload without any `data:` prefix.
        data: String,
    },
    /// Inline plain text (Anthropic text documents).
    Text {
        /// MIME type, usually `text/plain`.
        media_type: String,
        /// The text.
        text: String,
    },
    /// A file previously uploaded to the provider.
    FileId(String),
}

/// An image part.
#[derive(Debug, Clone, PartialEq)]
pub struct ImagePart {
    /// The image bytes or location.
    pub source: MediaSource,
    /// OpenAI `detail` (`low`, `high`, `auto`), if given.
    pub detail: Option<String>,
    /// Cache breakpoint after this part.
    pub cache_control: Option<CacheControl>,
}

/// An audio part.
#[derive(Debug, Clone, PartialEq)]
pub struct AudioPart {
    /// The audio bytes or location.
    pub source: MediaSource,
    /// Format name as OpenAI gives it (`wav`, `mp3`), if known.
    pub format: Option<String>,
}

/// A document or other file.
#[derive(Debug, Clone, PartialEq)]
pub struct DocumentPart {
    /// The document bytes or location.
    pub source: MediaSource,
    /// File name, if given.
    pub filename: Option<String>,
    /// Title (Anthropic `title`), if given.
    pub title: Option<String>,
    /// Extra context about the document (Anthropic `context`).
    pub context: Option<String>,
    /// Cache breakpoint after this part.
    pub cache_control: Option<CacheControl>,
}

/// A tool call.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolCall {
    /// Call id; tool results refer to it. Always non-empty after decoding.
    pub id: String,
    /// Function name.
    pub name: String,
    /// Arguments as raw JSON text, exactly as produced (may be invalid).
    pub arguments: String,
    /// Provider signature bound to this call (Gemini `thoughtSignature`).
    pub signature: Option<String>,
    /// Cache breakpoint after this part.
    pub cache_control: Option<CacheControl>,
}

/// A tool result.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolResult {
    /// The id of the [`ToolCall`] this answers.
    pub call_id: String,
    /// The function name, when known (Gemini needs it).
    pub name: Option<String>,
    /// Result content: text, images, documents.
    pub content: Vec<Part>,
    /// Whether the tool failed (Anthropic `is_error`).
    pub is_error: bool,
    /// Cache breakpoint after this part.
    pub cache_control: Option<CacheControl>,
}
