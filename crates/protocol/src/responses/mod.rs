//! OpenAI Responses API wire types (`POST /v1/responses`): the request, the
//! `response` object, input/output items, content parts, usage and the
//! streaming events.
//!
//! On the same-protocol path (Responses client, Responses upstream) bodies
//! are forwarded byte for byte and never deserialised into these types; the
//! relay observes them with
//! [`convert::responses::inspect`](crate::convert::responses::inspect).
//! The full types are for cross-protocol conversion
//! ([`crate::convert::responses`]). Every struct keeps members it does not
//! model in an `extra` map, and [`Item`], [`ContentPart`] and
//! [`ResponsesTool`] keep unknown `type`s verbatim (`Other`), so parsing and
//! re-serialising a Responses body loses nothing.

mod content;
mod event_meta;
mod item;
mod request;
mod response;
mod stream;
mod tagged;

pub use content::{
    ContentPart, FilePart, FunctionOutput, ImagePart, InputAudio, InputAudioPart, MessageContent,
    OutputTextPart, ReasoningTextPart, RefusalPart, TextPart,
};
pub use item::{
    FunctionCallItem, FunctionCallOutputItem, Item, ItemReference, MessageItem, ReasoningItem,
};
pub use request::{
    FunctionTool, Input, NamedToolChoice, ReasoningConfig, ResponsesRequest, ResponsesTool,
    ResponsesToolChoice, TextConfig, TextFormat,
};
pub use response::{
    IncompleteDetails, InputTokensDetails, OutputTokensDetails, ResponseError, ResponseObject,
    ResponsesUsage,
};
pub use stream::ResponsesStreamEvent;
