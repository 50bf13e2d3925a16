//! Responses streaming events: the JSON `data` of each SSE event. The SSE
//! `event:` name always equals the JSON `type` ([`ResponsesStreamEvent::name`]).
//! Every event carries a `sequence_number`, increasing from 0. There is no
//! `[DONE]`: the stream ends with `response.completed`,
//! `response.incomplete` or `response.failed`.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::content::{ContentPart, ReasoningTextPart};
use super::item::Item;
use super::response::ResponseObject;

/// One stream event. Unknown event types decode as
/// [`ResponsesStreamEvent::Unknown`] and are skipped by the converters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum ResponsesStreamEvent {
    /// The response was created (`status: in_progress`, empty output).
    #[serde(rename = "response.created")]
    Created {
        /// The response skeleton.
        response: Box<ResponseObject>,
        /// Event sequence number.
        #[serde(default)]
        sequence_number: u64,
    },
    /// The response is queued (background mode).
    #[serde(rename = "response.queued")]
    Queued {
        /// The response skeleton.
        response: Box<ResponseObject>,
        /// Event sequence number.
        #[serde(default)]
        sequence_number: u64,
    },
    /// Generation is in progress.
    #[serde(rename = "response.in_progress")]
    InProgress {
        /// The response skeleton.
        response: Box<ResponseObject>,
        /// Event sequence number.
        #[serde(default)]
        sequence_number: u64,
    },
    /// The response completed; carries the full response and usage.
    #[serde(rename = "response.completed")]
    Completed {
        /// The final response.
        response: Box<ResponseObject>,
        /// Event sequence number.
        #[serde(default)]
        sequence_number: u64,
    },
    /// The response stopped early (`incomplete_details.reason`).
    #[serde(rename = "response.incomplete")]
    Incomplete {
        /// The final response.
        response: Box<ResponseObject>,
        /// Event sequence number.
        #[serde(default)]
        sequence_number: u64,
    },
    /// The response failed (`response.error`).
    #[serde(rename = "response.failed")]
    Failed {
        /// The final response.
        response: Box<ResponseObject>,
        /// Event sequence number.
        #[serde(default)]
        sequence_number: u64,
    },
    /// An output item starts.
    #[serde(rename = "response.output_item.added")]
    OutputItemAdded {
        /// Position in `output`.
        #[serde(default)]
        output_index: u32,
        /// The item skeleton.
        item: Item,
        /// Event sequence number.
        #[serde(default)]
        sequence_number: u64,
    },
    /// An output item is complete.
    #[serde(rename = "response.output_item.done")]
    OutputItemDone {
        /// Position in `output`.
        #[serde(default)]
        output_index: u32,
        /// The complete item.
        item: Item,
        /// Event sequence number.
        #[serde(default)]
        sequence_number: u64,
    },
    /// A content part of a message item starts.
    #[serde(rename = "response.content_part.added")]
    ContentPartAdded {
        /// The message item's id.
        #[serde(default)]
        item_id: String,
        /// Position of the item in `output`.
        #[serde(default)]
        output_index: u32,
        /// Position of the part in the item's `content`.
        #[serde(default)]
        content_index: u32,
        /// The part skeleton.
        part: ContentPart,
        /// Event sequence number.
        #[serde(default)]
        sequence_number: u64,
    },
    /// A content part is complete.
    #[serde(rename = "response.content_part.done")]
    ContentPartDone {
        /// The message item's id.
        #[serde(default)]
        item_id: String,
        /// Position of the item in `output`.
        #[serde(default)]
        output_index: u32,
        /// Position of the part in the item's `content`.
        #[serde(default)]
        content_index: u32,
        /// The complete part.
        part: ContentPart,
        /// Event sequence number.
        #[serde(default)]
        sequence_number: u64,
    },
    /// Text appended to an `output_text` part.
    #[serde(rename = "response.output_text.delta")]
    OutputTextDelta {
        /// The message item's id.
        #[serde(default)]
        item_id: String,
        /// Position of the item in `output`.
        #[serde(default)]
        output_index: u32,
        /// Position of the part in the item's `content`.
        #[serde(default)]
        content_index: u32,
        /// The text.
        #[serde(default)]
        delta: String,
        /// Token log probabilities (`[]` unless requested).
        #[serde(default)]
        logprobs: Vec<Value>,
        /// Event sequence number.
        #[serde(default)]
        sequence_number: u64,
    },
    /// An `output_text` part is complete.
    #[serde(rename = "response.output_text.done")]
    OutputTextDone {
        /// The message item's id.
        #[serde(default)]
        item_id: String,
        /// Position of the item in `output`.
        #[serde(default)]
        output_index: u32,
        /// Position of the part in the item's `content`.
        #[serde(default)]
        content_index: u32,
        /// The whole text.
        #[serde(default)]
        text: String,
        /// Token log probabilities (`[]` unless requested).
        #[serde(default)]
        logprobs: Vec<Value>,
        /// Event sequence number.
        #[serde(default)]
        sequence_number: u64,
    },
    /// Text appended to a `refusal` part.
    #[serde(rename = "response.refusal.delta")]
    RefusalDelta {
        /// The message item's id.
        #[serde(default)]
        item_id: String,
        /// Position of the item in `output`.
        #[serde(default)]
        output_index: u32,
        /// Position of the part in the item's `content`.
        #[serde(default)]
        content_index: u32,
        /// The text.
        #[serde(default)]
        delta: String,
        /// Event sequence number.
        #[serde(default)]
        sequence_number: u64,
    },
    /// A `refusal` part is complete.
    #[serde(rename = "response.refusal.done")]
    RefusalDone {
        /// The message item's id.
        #[serde(default)]
        item_id: String,
        /// Position of the item in `output`.
        #[serde(default)]
        output_index: u32,
        /// Position of the part in the item's `content`.
        #[serde(default)]
        content_index: u32,
        /// The whole refusal.
        #[serde(default)]
        refusal: String,
        /// Event sequence number.
        #[serde(default)]
        sequence_number: u64,
    },
    /// A fragment of a function call's arguments.
    #[serde(rename = "response.function_call_arguments.delta")]
    FunctionCallArgumentsDelta {
        /// The function-call item's id.
        #[serde(default)]
        item_id: String,
        /// Position of the item in `output`.
        #[serde(default)]
        output_index: u32,
        /// The fragment.
        #[serde(default)]
        delta: String,
        /// Event sequence number.
        #[serde(default)]
        sequence_number: u64,
    },
    /// A function call's arguments are complete.
    #[serde(rename = "response.function_call_arguments.done")]
    FunctionCallArgumentsDone {
        /// The function-call item's id.
        #[serde(default)]
        item_id: String,
        /// Position of the item in `output`.
        #[serde(default)]
        output_index: u32,
        /// The function name (newer API versions).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        name: Option<String>,
        /// The whole arguments text.
        #[serde(default)]
        arguments: String,
        /// Event sequence number.
        #[serde(default)]
        sequence_number: u64,
    },
    /// A reasoning summary part starts.
    #[serde(rename = "response.reasoning_summary_part.added")]
    ReasoningSummaryPartAdded {
        /// The reasoning item's id.
        #[serde(default)]
        item_id: String,
        /// Position of the item in `output`.
        #[serde(default)]
        output_index: u32,
        /// Position of the part in the item's `summary`.
        #[serde(default)]
        summary_index: u32,
        /// The part skeleton (`summary_text`, empty).
        part: ReasoningTextPart,
        /// Event sequence number.
        #[serde(default)]
        sequence_number: u64,
    },
    /// A reasoning summary part is complete.
    #[serde(rename = "response.reasoning_summary_part.done")]
    ReasoningSummaryPartDone {
        /// The reasoning item's id.
        #[serde(default)]
        item_id: String,
        /// Position of the item in `output`.
        #[serde(default)]
        output_index: u32,
        /// Position of the part in the item's `summary`.
        #[serde(default)]
        summary_index: u32,
        /// The complete part.
        part: ReasoningTextPart,
        /// Event sequence number.
        #[serde(default)]
        sequence_number: u64,
    },
    /// Text appended to a reasoning summary part.
    #[serde(rename = "response.reasoning_summary_text.delta")]
    ReasoningSummaryTextDelta {
        /// The reasoning item's id.
        #[serde(default)]
        item_id: String,
        /// Position of the item in `output`.
        #[serde(default)]
        output_index: u32,
        /// Position of the part in the item's `summary`.
        #[serde(default)]
        summary_index: u32,
        /// The text.
        #[serde(default)]
        delta: String,
        /// Event sequence number.
        #[serde(default)]
        sequence_number: u64,
    },
    /// A reasoning summary part's text is complete.
    #[serde(rename = "response.reasoning_summary_text.done")]
    ReasoningSummaryTextDone {
        /// The reasoning item's id.
        #[serde(default)]
        item_id: String,
        /// Position of the item in `output`.
        #[serde(default)]
        output_index: u32,
        /// Position of the part in the item's `summary`.
        #[serde(default)]
        summary_index: u32,
        /// The whole text.
        #[serde(default)]
        text: String,
        /// Event sequence number.
        #[serde(default)]
        sequence_number: u64,
    },
    /// Raw reasoning text appended (`reasoning_text` content parts).
    #[serde(rename = "response.reasoning_text.delta")]
    ReasoningTextDelta {
        /// The reasoning item's id.
        #[serde(default)]
        item_id: String,
        /// Position of the item in `output`.
        #[serde(default)]
        output_index: u32,
        /// Position of the part in the item's `content`.
        #[serde(default)]
        content_index: u32,
        /// The text.
        #[serde(default)]
        delta: String,
        /// Event sequence number.
        #[serde(default)]
        sequence_number: u64,
    },
    /// A raw reasoning text part is complete.
    #[serde(rename = "response.reasoning_text.done")]
    ReasoningTextDone {
        /// The reasoning item's id.
        #[serde(default)]
        item_id: String,
        /// Position of the item in `output`.
        #[serde(default)]
        output_index: u32,
        /// Position of the part in the item's `content`.
        #[serde(default)]
        content_index: u32,
        /// The whole text.
        #[serde(default)]
        text: String,
        /// Event sequence number.
        #[serde(default)]
        sequence_number: u64,
    },
    /// An error. The documented shape has `code`, `message` and `param` at
    /// the top level; some upstreams nest them in `error`, kept here too.
    #[serde(rename = "error")]
    Error {
        /// Error code.
        #[serde(default)]
        code: Option<String>,
        /// Human-readable message.
        #[serde(default)]
        message: String,
        /// The offending parameter.
        #[serde(default)]
        param: Option<String>,
        /// A nested error object (non-standard upstreams).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        error: Option<Value>,
        /// Event sequence number.
        #[serde(default)]
        sequence_number: u64,
    },
    /// Any event type this crate does not know.
    #[serde(other)]
    Unknown,
}
