//! Gemini parts → canonical parts (requests and responses).
//!
//! - A `thought: true` part is [`Part::Thinking`](IrPart::Thinking);
//!   consecutive thought parts (a streamed thought a client echoed back
//!   chunk by chunk) are joined into one, taking the signature that ends
//!   the run.
//! - A `thoughtSignature` on a `functionCall` part is the call's
//!   [`ToolCall::signature`]; on any other part it becomes a thinking part
//!   with empty text just before it (IR invariant 6).
//! - A `functionCall` without an `id` gets one: `<prefix><n>`, where the
//!   prefix is `call_` in requests and `call_<responseId>_` in responses.
//!   A `functionResponse` takes the id it names, else that of the earliest
//!   unanswered call of the same name (Gemini pairs them by name and
//!   order), else a new one.
//! - A `functionResponse.response` of `{"output": x}` or `{"error": x}`
//!   (Google's convention) is read as `x`, the latter as a failed result;
//!   any other value is the result as JSON text. Media in its `parts`
//!   (Gemini 3's multimodal function responses) follow as result content.
//! - `executableCode`, `codeExecutionResult` and other parts no other
//!   dialect can run are dropped; so are empty text parts.

use serde_json::Value;

use super::media::{blob_to_ir, file_to_ir};
use crate::convert::util::object_to_arguments;
use crate::gemini::{FunctionCall, FunctionResponse, Part};
use crate::ir::{Part as IrPart, ToolCall, ToolResult};

/// Pairs function calls with their responses and names synthetic ids.
#[derive(Debug, Default)]
pub(super) struct CallTracker {
    prefix: String,
    next: usize,
    pending: Vec<(String, String)>,
}

impl CallTracker {
    /// A tracker whose synthetic ids are `<prefix><n>`.
    pub(super) fn new(prefix: String) -> Self {
        Self {
            prefix,
            next: 0,
            pending: Vec::new(),
        }
    }

    fn fresh(&mut self) -> String {
        let id = format!("{}{}", self.prefix, self.next);
        self.next += 1;
        id
    }

    /// The id of a call (its own, or a synthetic one), remembered as
    /// unanswered.
    pub(super) fn call_id(&mut self, call: &FunctionCall) -> String {
        let id = match call.id.as_deref().filter(|id| !id.is_empty()) {
            Some(id) => id.to_owned(),
            None => self.fresh(),
        };
        self.pending.push((call.name.clone(), id.clone()));
        id
    }

    /// The id of the call a response answers.
    fn result_id(&mut self, resp: &FunctionResponse) -> String {
        if let Some(id) = resp.id.as_deref().filter(|id| !id.is_empty()) {
            self.pending.retain(|(_, pending)| pending != id);
            return id.to_owned();
        }
        match self.pending.iter().position(|(name, _)| *name == resp.name) {
            Some(pos) => self.pending.remove(pos).1,
            None => self.fresh(),
        }
    }
}

/// Decodes the parts of one content.
pub(super) fn parts_to_ir(parts: Vec<Part>, calls: &mut CallTracker) -> Vec<IrPart> {
    let mut out = Vec::with_capacity(parts.len());
    let mut in_thought = false;
    for part in parts {
        let signature = part.thought_signature.clone().filter(|s| !s.is_empty());
        if part.is_thought() {
            let text = part.text.unwrap_or_default();
            if in_thought
                && let Some(IrPart::Thinking {
                    text: joined,
                    signature: last @ None,
                }) = out.last_mut()
            {
                joined.push_str(&text);
                *last = signature;
                continue;
            }
            in_thought = true;
            out.push(IrPart::Thinking { text, signature });
            continue;
        }
        in_thought = false;
        if let Some(call) = part.function_call {
            out.push(IrPart::ToolCall(call_to_ir(call, signature, calls)));
            continue;
        }
        if let Some(signature) = signature {
            out.push(IrPart::Thinking {
                text: String::new(),
                signature: Some(signature),
            });
        }
        if let Some(resp) = part.function_response {
            out.push(IrPart::ToolResult(result_to_ir(resp, calls)));
        } else if let Some(blob) = part.inline_data {
            out.push(blob_to_ir(blob));
        } else if let Some(file) = part.file_data {
            out.push(file_to_ir(file));
        } else if let Some(text) = part.text.filter(|t| !t.is_empty()) {
            out.push(IrPart::text(text));
        }
    }
    out
}

/// A function call as a canonical tool call.
pub(super) fn call_to_ir(
    call: FunctionCall,
    signature: Option<String>,
    calls: &mut CallTracker,
) -> ToolCall {
    ToolCall {
        id: calls.call_id(&call),
        arguments: call
            .args
            .as_ref()
            .map_or_else(|| "{}".to_owned(), object_to_arguments),
        name: call.name,
        signature,
        cache_control: None,
    }
}

fn result_to_ir(mut resp: FunctionResponse, calls: &mut CallTracker) -> ToolResult {
    let call_id = calls.result_id(&resp);
    let (value, is_error) = match std::mem::take(&mut resp.response) {
        Value::Object(mut map) if map.len() == 1 && map.contains_key("error") => {
            (map.remove("error").unwrap_or_default(), true)
        }
        Value::Object(mut map) if map.len() == 1 && map.contains_key("output") => {
            (map.remove("output").unwrap_or_default(), false)
        }
        other => (other, false),
    };
    let text = match value {
        Value::String(s) => s,
        Value::Null => String::new(),
        other => other.to_string(),
    };
    let mut content = Vec::new();
    if !text.is_empty() {
        content.push(IrPart::text(text));
    }
    if let Some(parts) = resp
        .extra
        .remove("parts")
        .and_then(|p| serde_json::from_value::<Vec<Part>>(p).ok())
    {
        let mut nested = CallTracker::default();
        content.extend(
            parts_to_ir(parts, &mut nested)
                .into_iter()
                .filter(|p| !matches!(p, IrPart::Thinking { .. })),
        );
    }
    ToolResult {
        call_id,
        name: (!resp.name.is_empty()).then_some(resp.name),
        content,
        is_error,
        cache_control: None,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn parts(v: Value) -> Vec<Part> {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn thoughts_join_and_signatures_move() {
        let mut calls = CallTracker::new("call_".into());
        let out = parts_to_ir(
            parts(json!([
                {"text": "a", "thought": true}, {"text": "b", "thought": true},
                {"text": "", "thought": true, "thoughtSignature": "S1"},
                {"text": "answer", "thoughtSignature": "S2"},
                {"functionCall": {"name": "f", "args": {"x": 1}}, "thoughtSignature": "S3"},
                {"functionCall": {"name": "f"}}
            ])),
            &mut calls,
        );
        assert_eq!(
            out[0],
            IrPart::Thinking {
                text: "ab".into(),
                signature: Some("S1".into())
            }
        );
        assert_eq!(
            out[1],
            IrPart::Thinking {
                text: String::new(),
                signature: Some("S2".into())
            }
        );
        assert_eq!(out[2], IrPart::text("answer"));
        let IrPart::ToolCall(call) = &out[3] else {
            panic!()
        };
        assert_eq!(
            (
                call.id.as_str(),
                call.arguments.as_str(),
                call.signature.as_deref()
            ),
            ("call_0", "{\"x\":1}", Some("S3"))
        );
        let IrPart::ToolCall(call) = &out[4] else {
            panic!()
        };
        assert_eq!(
            (call.id.as_str(), call.arguments.as_str()),
            ("call_1", "{}")
        );
    }

    #[test]
    fn responses_pair_by_id_then_name() {
        let mut calls = CallTracker::new("call_".into());
        parts_to_ir(
            parts(
                json!([{"functionCall": {"name": "a"}}, {"functionCall": {"name": "b"}},
                         {"functionCall": {"name": "a", "id": "own"}}]),
            ),
            &mut calls,
        );
        let out = parts_to_ir(
            parts(json!([
                {"functionResponse": {"name": "a", "id": "own", "response": {"output": "x"}}},
                {"functionResponse": {"name": "b", "response": {"error": {"code": 1}}}},
                {"functionResponse": {"name": "a", "response": {"temp": 20}}},
                {"functionResponse": {"name": "zzz", "response": {}}}
            ])),
            &mut calls,
        );
        let results: Vec<(String, String, bool)> = out
            .iter()
            .map(|p| match p {
                IrPart::ToolResult(r) => (
                    r.call_id.clone(),
                    r.content
                        .first()
                        .and_then(IrPart::as_text)
                        .unwrap_or("")
                        .to_owned(),
                    r.is_error,
                ),
                _ => panic!(),
            })
            .collect();
        assert_eq!(
            results,
            vec![
                ("own".into(), "x".into(), false),
                ("call_1".into(), "{\"code\":1}".into(), true),
                ("call_0".into(), "{\"temp\":20}".into(), false),
                ("call_2".into(), "{}".into(), false),
            ]
        );
    }
}
