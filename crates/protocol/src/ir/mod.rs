//! The canonical intermediate representation (IR) every dialect converts
//! through: OpenAI Chat Completions, OpenAI Responses, Anthropic Messages and
//! Gemini `generateContent` all decode into these types and encode out of
//! them, so any client dialect can reach any upstream dialect with one
//! decoder and one encoder per dialect instead of one converter per pair.
//!
//! The IR is a *superset*: every field a dialect can express that another
//! dialect can use has a home here. Fields only one dialect understands and
//! nobody else can map (e.g. Anthropic `service_tier`) are dropped on
//! cross-protocol paths; same-protocol traffic never goes through the IR.
//!
//! # Types
//!
//! - [`Request`]: model, [`SystemPart`]s, [`Message`]s, [`Tool`]s,
//!   [`ToolChoice`], [`Sampling`], [`ResponseFormat`], [`Reasoning`],
//!   user/metadata and the stream flags.
//! - [`Message`] = [`Role`] + ordered [`Part`]s. A part is text, an image,
//!   audio, a document, a [`ToolCall`], a [`ToolResult`], thinking, redacted
//!   thinking or a refusal.
//! - [`Response`]: one non-streamed answer (id, model, parts, [`StopReason`],
//!   [`Usage`](crate::Usage)).
//! - [`StreamEvent`]: one step of a streamed answer.
//! - [`Error`]: a protocol-neutral error (status, [`ErrorKind`], message).
//!
//! # Invariants (decoders must establish them, encoders may rely on them)
//!
//! 1. **System prompt is hoisted.** Every system/developer instruction, wherever
//!    it appeared (OpenAI `system`/`developer` messages, Anthropic `system`,
//!    Gemini `systemInstruction`, Responses `instructions`), is a
//!    [`SystemPart`] in [`Request::system`], in order of appearance.
//!    [`Request::messages`] holds only [`Role::User`] and [`Role::Assistant`].
//! 2. **Tool results live in user messages.** An OpenAI `tool` message, an
//!    Anthropic `tool_result` block, a Gemini `functionResponse` part and a
//!    Responses `function_call_output` item all become a [`Part::ToolResult`]
//!    inside a [`Role::User`] message. [`ToolResult::name`] is filled from the
//!    matching earlier [`ToolCall`] when the dialect does not say it.
//! 3. **Adjacent messages may share a role.** Decoders do not merge turns;
//!    encoders merge or split as their dialect requires (Anthropic merges
//!    consecutive user turns and puts tool results first; OpenAI splits tool
//!    results into `tool` messages).
//! 4. **Parts keep the model's order.** In assistant messages thinking and
//!    redacted-thinking parts come first, as produced, then text and tool
//!    calls. Encoders must not reorder assistant parts.
//! 5. **Tool-call arguments are raw JSON text**, exactly as produced,
//!    possibly invalid or empty. Encoders that need an object must parse
//!    leniently and never panic (see the converters' docs for the fallback).
//! 6. **Signatures are opaque and provider-bound.** An Anthropic thinking
//!    signature lives in [`Part::Thinking`]; a Gemini `thoughtSignature` on a
//!    function call lives in [`ToolCall::signature`] (a signature Gemini puts
//!    on a non-call part is carried as a `Thinking` part with empty text just
//!    before it). Encoders pass on the signatures their dialect can carry and
//!    drop the rest.
//! 7. **Usage follows [`Usage`](crate::Usage)'s convention**: input includes
//!    cached and cache-creation tokens, output includes reasoning tokens.
//!    Dialects that count differently (Anthropic) convert at the edge.
//!
//! Stream-event invariants are listed on [`StreamEvent`].

mod content;
mod error;
mod params;
mod request;
mod response;
mod stream;
mod tool;

pub use content::{
    AudioPart, CacheControl, DocumentPart, ImagePart, MediaSource, Message, Part, Role, ToolCall,
    ToolResult,
};
pub use error::{Error, ErrorKind};
pub use params::{Effort, Reasoning, ResponseFormat, Sampling};
pub use request::{Request, SystemPart};
pub use response::{Response, StopReason};
pub use stream::{BlockKind, StreamEvent};
pub use tool::{Tool, ToolChoice};
