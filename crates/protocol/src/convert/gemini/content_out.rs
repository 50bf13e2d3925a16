//! Canonical parts → Gemini parts (requests to Gemini upstreams and
//! answers to Gemini clients).
//!
//! - Thinking with text becomes a `thought: true` part carrying its
//!   signature. A signature-only thinking part (IR invariant 6) puts its
//!   signature on the next part that has none (text, media, function
//!   call, thought), or on an empty text part when nothing follows. Parts
//!   are never merged, so a signed part stays separate from unsigned ones,
//!   as Google requires. Redacted thinking (Anthropic's) is dropped.
//!   Signatures are opaque: one that came from another provider (a
//!   conversation moved from Claude to Gemini) is forwarded too, since the
//!   canonical form cannot tell them apart.
//! - Tool calls become `functionCall` parts (arguments parsed leniently:
//!   empty → `{}`, invalid JSON → `{"_raw_arguments": "<text>"}`) with the
//!   call's signature as `thoughtSignature`.
//! - Tool results become `functionResponse` parts named after the result's
//!   name, else the matching earlier call's, else the call id. The
//!   response is the result text parsed as a JSON object when it is one,
//!   else `{"output": "<text>"}`; a failed result is `{"error": …}`.
//!   Images or documents inside a result follow as separate parts.
//! - Ids (`functionCall.id`, `functionResponse.id`) are written only when
//!   `with_ids` is set (answers to Gemini clients); Gemini upstreams pair
//!   calls and responses by name and order, and some reject ids.

use std::collections::HashMap;

use serde_json::{Map, Value};

use super::GeminiRequestOptions;
use super::media::{MediaKind, media_to_gemini};
use crate::convert::util::arguments_to_object;
use crate::gemini::{FunctionCall, FunctionResponse, Part};
use crate::ir::{Part as IrPart, ToolCall, ToolResult};

/// Encodes parts, keeping state across the messages of one request.
#[derive(Debug)]
pub(super) struct PartEncoder<'a> {
    opts: &'a GeminiRequestOptions,
    with_ids: bool,
    names: HashMap<String, String>,
}

impl<'a> PartEncoder<'a> {
    /// An encoder; `with_ids` writes call ids.
    pub(super) fn new(opts: &'a GeminiRequestOptions, with_ids: bool) -> Self {
        Self {
            opts,
            with_ids,
            names: HashMap::new(),
        }
    }

    /// Encodes one message's parts.
    pub(super) fn encode(&mut self, parts: &[IrPart]) -> Vec<Part> {
        let mut out = Vec::with_capacity(parts.len());
        let mut pending: Option<String> = None;
        for part in parts {
            let encoded = match part {
                IrPart::Thinking { text, signature } if text.is_empty() => {
                    if let Some(signature) = signature.as_ref().filter(|s| !s.is_empty())
                        && let Some(previous) = pending.replace(signature.clone())
                    {
                        out.push(carrier(previous));
                    }
                    continue;
                }
                IrPart::Thinking { text, signature } => Part {
                    text: Some(text.clone()),
                    thought: Some(true),
                    thought_signature: signature.clone().filter(|s| !s.is_empty()),
                    ..Part::default()
                },
                IrPart::RedactedThinking { .. } => continue,
                IrPart::Text { text, .. } | IrPart::Refusal(text) if text.is_empty() => continue,
                IrPart::Text { text, .. } | IrPart::Refusal(text) => Part::text(text.clone()),
                IrPart::Image(image) => media_to_gemini(&image.source, MediaKind::Image, self.opts),
                IrPart::Audio(audio) => media_to_gemini(&audio.source, MediaKind::Audio, self.opts),
                IrPart::Document(doc) => {
                    media_to_gemini(&doc.source, MediaKind::Document, self.opts)
                }
                IrPart::ToolCall(call) => self.call(call),
                IrPart::ToolResult(result) => {
                    let response = self.result(result);
                    push(&mut out, response, &mut pending);
                    for nested in &result.content {
                        if let IrPart::Image(_) | IrPart::Audio(_) | IrPart::Document(_) = nested {
                            let encoded = self.encode(std::slice::from_ref(nested));
                            out.extend(encoded);
                        }
                    }
                    continue;
                }
            };
            push(&mut out, encoded, &mut pending);
        }
        if let Some(signature) = pending {
            out.push(carrier(signature));
        }
        out
    }

    fn call(&mut self, call: &ToolCall) -> Part {
        self.names.insert(call.id.clone(), call.name.clone());
        Part {
            function_call: Some(FunctionCall {
                id: self.with_ids.then(|| call.id.clone()),
                name: call.name.clone(),
                args: Some(arguments_to_object(&call.arguments)),
                extra: Map::new(),
            }),
            thought_signature: call.signature.clone().filter(|s| !s.is_empty()),
            ..Part::default()
        }
    }

    fn result(&self, result: &ToolResult) -> Part {
        let name = result
            .name
            .clone()
            .filter(|n| !n.is_empty())
            .or_else(|| self.names.get(&result.call_id).cloned())
            .unwrap_or_else(|| result.call_id.clone());
        Part {
            function_response: Some(FunctionResponse {
                id: self.with_ids.then(|| result.call_id.clone()),
                name,
                response: response_value(result),
                extra: Map::new(),
            }),
            ..Part::default()
        }
    }
}

/// Appends `part`, giving it the pending signature (or writing that one
/// on its own part first when `part` is already signed).
fn push(out: &mut Vec<Part>, mut part: Part, pending: &mut Option<String>) {
    if let Some(signature) = pending.take() {
        if part.thought_signature.is_none() {
            part.thought_signature = Some(signature);
        } else {
            out.push(carrier(signature));
        }
    }
    out.push(part);
}

/// An empty text part carrying a signature.
fn carrier(signature: String) -> Part {
    Part {
        text: Some(String::new()),
        thought_signature: Some(signature),
        ..Part::default()
    }
}

/// The `functionResponse.response` object for a result.
fn response_value(result: &ToolResult) -> Value {
    let text = result
        .content
        .iter()
        .filter_map(IrPart::as_text)
        .collect::<Vec<_>>()
        .join("\n");
    let parsed = match serde_json::from_str::<Value>(text.trim()) {
        Ok(Value::Object(map)) => Some(Value::Object(map)),
        _ => None,
    };
    let key = if result.is_error {
        "error"
    } else if let Some(object) = parsed {
        return object;
    } else {
        "output"
    };
    let mut map = Map::new();
    map.insert(key.to_owned(), parsed.unwrap_or(Value::String(text)));
    Value::Object(map)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::ir::{ImagePart, MediaSource};

    fn encode(parts: &[IrPart], with_ids: bool) -> Value {
        let opts = GeminiRequestOptions::default();
        serde_json::to_value(PartEncoder::new(&opts, with_ids).encode(parts)).unwrap()
    }

    fn call(id: &str, args: &str, signature: Option<&str>) -> IrPart {
        IrPart::ToolCall(ToolCall {
            id: id.into(),
            name: "f".into(),
            arguments: args.into(),
            signature: signature.map(str::to_owned),
            cache_control: None,
        })
    }

    #[test]
    fn signatures_find_their_parts() {
        let sig = |s: &str| IrPart::Thinking {
            text: String::new(),
            signature: Some(s.into()),
        };
        let parts = vec![
            IrPart::Thinking {
                text: "hm".into(),
                signature: None,
            },
            sig("A"),
            IrPart::text("answer"),
            sig("B"),
            call("c1", "{\"x\":1}", Some("C")),
            call("c2", "", None),
            sig("D"),
        ];
        assert_eq!(
            encode(&parts, false),
            json!([
                {"text": "hm", "thought": true},
                {"text": "answer", "thoughtSignature": "A"},
                {"text": "", "thoughtSignature": "B"},
                {"functionCall": {"name": "f", "args": {"x": 1}}, "thoughtSignature": "C"},
                {"functionCall": {"name": "f", "args": {}}},
                {"text": "", "thoughtSignature": "D"}
            ])
        );
    }

    #[test]
    fn results() {
        let result = |text: &str, is_error: bool| {
            IrPart::ToolResult(ToolResult {
                call_id: "c1".into(),
                name: None,
                content: vec![
                    IrPart::text(text),
                    IrPart::Image(ImagePart {
                        source: MediaSource::Base64 {
                            media_type: "image/png".into(),
                            data: "AA".into(),
                        },
                        detail: None,
                        cache_control: None,
                    }),
                ],
                is_error,
                cache_control: None,
            })
        };
        let out = encode(
            &[
                call("c1", "{}", None),
                result("{\"t\":1}", false),
                result("sunny", false),
                result("boom", true),
            ],
            true,
        );
        assert_eq!(
            out[1],
            json!({"functionResponse": {"id": "c1", "name": "f", "response": {"t": 1}}})
        );
        assert_eq!(
            out[2],
            json!({"inlineData": {"mimeType": "image/png", "data": "AA"}})
        );
        assert_eq!(
            out[3]["functionResponse"]["response"],
            json!({"output": "sunny"})
        );
        assert_eq!(
            out[5]["functionResponse"]["response"],
            json!({"error": "boom"})
        );
        assert_eq!(out[0]["functionCall"]["id"], "c1");
    }
}
