//! Gemini API wire types: `generateContent` / `streamGenerateContent`
//! requests and responses (a stream chunk is a response), usage metadata,
//! the Google error body, and the `countTokens`, `embedContent` and
//! `batchEmbedContents` bodies.
//!
//! Every struct keeps members it does not model in an `extra` map, so
//! parsing and re-serialising a Gemini body loses nothing; snake_case
//! member names, which the REST API also accepts, are read as aliases.
//! Conversions to and from the canonical form live in
//! [`crate::convert::gemini`]; same-protocol observation in
//! [`crate::convert::gemini::inspect`].

mod content;
mod embed;
mod error;
mod request;
mod response;

pub use content::{Blob, Content, FileData, FunctionCall, FunctionResponse, Part};
pub use embed::{
    BatchEmbedContentsRequest, BatchEmbedContentsResponse, ContentEmbedding, CountTokensRequest,
    CountTokensResponse, EmbedContentRequest, EmbedContentResponse,
};
pub use error::{GeminiErrorBody, GeminiErrorObject};
pub use request::{
    FunctionCallingConfig, FunctionDeclaration, GenerateContentRequest, GenerationConfig,
    SafetySetting, ThinkingConfig, Tool, ToolConfig,
};
pub use response::{
    Candidate, GenerateContentResponse, ModalityTokenCount, PromptFeedback, UsageMetadata,
};
