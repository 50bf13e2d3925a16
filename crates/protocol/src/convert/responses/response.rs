//! Non-streamed responses, statuses and usage: Responses ⇄ canonical.

use serde_json::{Map, Value, json};

use super::content::{part_to_ir, part_to_output};
use super::reasoning::{self, Decoded};
use crate::Usage;
use crate::convert::EncodeOptions;
use crate::ir::{Part, Response, StopReason, ToolCall};
use crate::responses::{
    ContentPart, FunctionCallItem, IncompleteDetails, Item, MessageContent, MessageItem,
    ResponseError, ResponseObject, ResponsesUsage,
};

/// Decodes a `response` object. Output items become parts in order
/// (reasoning per [`super::reasoning`], message parts, function calls with
/// `call_id` as the id); built-in tool items are dropped. The stop reason
/// follows [`status_to_ir`], tool calls turning a completed response into
/// [`StopReason::ToolCalls`]. A `failed` response decodes with
/// [`StopReason::Error`]; use [`response_error`](super::response_error)
/// to answer with its error instead.
pub fn response_to_ir(resp: ResponseObject) -> Response {
    let mut content = Vec::new();
    let mut tool_signatures = Vec::new();
    for (n, item) in resp.output.into_iter().enumerate() {
        match item {
            Item::Message(msg) => match msg.content {
                MessageContent::Text(text) if text.is_empty() => {}
                MessageContent::Text(text) => content.push(Part::text(text)),
                MessageContent::Parts(parts) => {
                    content.extend(parts.into_iter().filter_map(part_to_ir))
                }
            },
            Item::FunctionCall(call) => {
                let id = if call.call_id.is_empty() {
                    call.id.unwrap_or_else(|| format!("call_{}_{n}", resp.id))
                } else {
                    call.call_id
                };
                content.push(Part::ToolCall(ToolCall {
                    id,
                    name: call.name,
                    arguments: call.arguments,
                    signature: None,
                    cache_control: None,
                }));
            }
            Item::Reasoning(item) => match reasoning::decode(&item) {
                Decoded::Part(part) => content.push(part),
                Decoded::ToolSignature { call_id, signature } => {
                    tool_signatures.push((call_id, signature));
                }
                Decoded::Nothing => {}
            },
            Item::FunctionCallOutput(_) | Item::ItemReference(_) | Item::Other(_) => {}
        }
    }
    for (call_id, signature) in tool_signatures {
        for part in &mut content {
            if let Part::ToolCall(call) = part
                && call.id == call_id
            {
                call.signature = Some(signature.clone());
            }
        }
    }
    let reason = resp
        .incomplete_details
        .as_ref()
        .and_then(|d| d.reason.as_deref());
    let stop_reason = status_to_ir(&resp.status, reason).map(|r| match r {
        StopReason::Stop if content.iter().any(|p| matches!(p, Part::ToolCall(_))) => {
            StopReason::ToolCalls
        }
        other => other,
    });
    Response {
        id: resp.id,
        model: resp.model,
        created: (resp.created_at != 0).then_some(resp.created_at),
        content,
        stop_reason,
        stop_sequence: None,
        usage: resp.usage.as_ref().map(ResponsesUsage::to_usage),
    }
}

/// Responses `status` (and `incomplete_details.reason`) → canonical:
/// `completed` → stop; `incomplete` → length for `max_output_tokens` (or no
/// reason), content filter for `content_filter`; `failed` → error;
/// `cancelled` → other; `in_progress`/`queued` → `None`.
pub fn status_to_ir(status: &str, incomplete_reason: Option<&str>) -> Option<StopReason> {
    Some(match status {
        "completed" => StopReason::Stop,
        "incomplete" => match incomplete_reason {
            None | Some("max_output_tokens") => StopReason::Length,
            Some("content_filter") => StopReason::ContentFilter,
            Some(other) => StopReason::Other(other.to_owned()),
        },
        "failed" => StopReason::Error,
        "in_progress" | "queued" | "" => return None,
        other => StopReason::Other(other.to_owned()),
    })
}

/// Canonical → Responses `status` and `incomplete_details.reason`: length →
/// `incomplete`/`max_output_tokens`; content filter → `incomplete`/
/// `content_filter`; error → `failed`; everything else (tool calls,
/// refusals, pauses) → `completed`.
pub fn status_from_ir(reason: &StopReason) -> (&'static str, Option<&'static str>) {
    match reason {
        StopReason::Length => ("incomplete", Some("max_output_tokens")),
        StopReason::ContentFilter => ("incomplete", Some("content_filter")),
        StopReason::Error => ("failed", None),
        StopReason::Stop
        | StopReason::ToolCalls
        | StopReason::Refusal
        | StopReason::Pause
        | StopReason::Other(_) => ("completed", None),
    }
}

/// Renders a normalised usage as Responses `usage`.
pub fn usage_from_ir(usage: &Usage) -> ResponsesUsage {
    ResponsesUsage::from_usage(usage)
}

/// An output item id: `<prefix>_<response id>_<output index>`.
pub(super) fn item_id(prefix: &str, response_id: &str, index: usize) -> String {
    format!("{prefix}_{response_id}_{index}")
}

/// A `response` object with the members typed clients require and the
/// converters cannot know (the request's settings) set to neutral values.
pub(super) fn skeleton(id: &str, model: &str, created_at: i64, status: &str) -> ResponseObject {
    let mut extra = Map::new();
    for (key, value) in [
        ("instructions", Value::Null),
        ("metadata", json!({})),
        ("parallel_tool_calls", Value::Bool(true)),
        ("temperature", Value::Null),
        ("top_p", Value::Null),
        ("tool_choice", json!("auto")),
        ("tools", json!([])),
    ] {
        extra.insert(key.to_owned(), value);
    }
    ResponseObject {
        id: if id.is_empty() { "resp_unknown" } else { id }.to_owned(),
        object: "response".to_owned(),
        created_at,
        status: status.to_owned(),
        error: None,
        incomplete_details: None,
        model: model.to_owned(),
        output: Vec::new(),
        usage: None,
        extra,
    }
}

/// Sets status, `incomplete_details` and `error` for a stop reason.
pub(super) fn set_status(resp: &mut ResponseObject, reason: &StopReason) {
    let (status, incomplete) = status_from_ir(reason);
    status.clone_into(&mut resp.status);
    resp.incomplete_details = incomplete.map(|r| IncompleteDetails {
        reason: Some(r.to_owned()),
        extra: Map::new(),
    });
    if status == "failed" {
        resp.error = Some(ResponseError {
            code: Some("server_error".to_owned()),
            message: "the upstream model failed to generate a response".to_owned(),
            extra: Map::new(),
        });
    }
}

/// Encodes a canonical response as a `response` object (see
/// [`status_from_ir`]). Consecutive text and refusal parts form one
/// assistant message; thinking becomes reasoning items and a tool call's
/// signature a reasoning item after it, per [`super::reasoning`]; item ids
/// are derived from the response id. Images, audio and documents in the
/// output are dropped.
pub fn response_from_ir(resp: &Response, opts: &EncodeOptions) -> ResponseObject {
    let model = opts.model.as_deref().unwrap_or(&resp.model);
    let mut out = skeleton(
        &resp.id,
        model,
        resp.created.unwrap_or(opts.created),
        "completed",
    );
    let id = out.id.clone();
    let mut text: Vec<ContentPart> = Vec::new();
    let mut items: Vec<Item> = Vec::new();
    let flush = |text: &mut Vec<ContentPart>, items: &mut Vec<Item>| {
        if !text.is_empty() {
            items.push(Item::Message(MessageItem {
                id: Some(item_id("msg", &id, items.len())),
                role: "assistant".to_owned(),
                content: MessageContent::Parts(std::mem::take(text)),
                status: Some("completed".to_owned()),
                extra: Map::new(),
            }));
        }
    };
    for part in &resp.content {
        match part {
            Part::Text { .. } | Part::Refusal(_) => text.extend(part_to_output(part)),
            Part::Thinking { .. } | Part::RedactedThinking { .. } => {
                flush(&mut text, &mut items);
                let rs = item_id("rs", &id, items.len());
                items.extend(reasoning::item_for_client(part, rs).map(Item::Reasoning));
            }
            Part::ToolCall(call) => {
                flush(&mut text, &mut items);
                items.push(Item::FunctionCall(FunctionCallItem {
                    id: Some(item_id("fc", &id, items.len())),
                    call_id: call.id.clone(),
                    name: call.name.clone(),
                    arguments: if call.arguments.trim().is_empty() {
                        "{}".to_owned()
                    } else {
                        call.arguments.clone()
                    },
                    status: Some("completed".to_owned()),
                    extra: Map::new(),
                }));
                if let Some(signature) = &call.signature {
                    let rs = item_id("rs", &id, items.len());
                    items.push(Item::Reasoning(reasoning::tool_signature_item(
                        &call.id, signature, rs,
                    )));
                }
            }
            Part::Image(_) | Part::Audio(_) | Part::Document(_) | Part::ToolResult(_) => {}
        }
    }
    flush(&mut text, &mut items);
    out.output = items;
    set_status(
        &mut out,
        resp.stop_reason.as_ref().unwrap_or(&StopReason::Stop),
    );
    if out.status == "incomplete"
        && let Some(Item::Message(last)) = out.output.last_mut()
    {
        last.status = Some("incomplete".to_owned());
    }
    out.usage = resp.usage.as_ref().map(usage_from_ir);
    out
}
