//! Observing a Responses answer the gateway forwards byte for byte
//! (Responses client, Responses upstream): usage, id, output, errors, end.
//! Only the members needed are decoded; everything else is skipped.

use memchr::memmem;
use serde::Deserialize;

use crate::inspect::{EventFacts, ResponseFacts, UsageReport};
use crate::responses::ResponsesUsage;

#[derive(Deserialize, Default)]
#[serde(default)]
struct EventView {
    #[serde(rename = "type")]
    kind: String,
    response: Option<ResponseView>,
    item: Option<ItemView>,
    delta: Option<serde::de::IgnoredAny>,
    message: Option<String>,
    error: Option<ErrorView>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ResponseView {
    id: Option<String>,
    object: Option<String>,
    status: Option<String>,
    usage: Option<ResponsesUsage>,
    error: Option<ErrorView>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ItemView {
    #[serde(rename = "type")]
    kind: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ErrorView {
    message: String,
}

/// The output delta events, by `type`.
const OUTPUT_DELTAS: [&str; 5] = [
    "response.output_text.delta",
    "response.refusal.delta",
    "response.function_call_arguments.delta",
    "response.reasoning_summary_text.delta",
    "response.reasoning_text.delta",
];

/// Whether an event's `data` is an output delta by its leading member
/// (`{"type":"response.output_text.delta",…`, the form OpenAI writes) and
/// holds no `response` object: [`inspect_event`] finds in it output and
/// nothing else (no usage, id, error or end), and it names no model. A
/// `\u` escape anywhere answers `false` (a key could be spelled with one).
/// `false` only means "inspect it".
pub fn is_plain_delta(data: &[u8]) -> bool {
    let Some(rest) = data.strip_prefix(br#"{"type":""#) else {
        return false;
    };
    let leading = OUTPUT_DELTAS.iter().any(|kind| {
        rest.strip_prefix(kind.as_bytes())
            .and_then(|r| r.strip_prefix(b"\""))
            .is_some_and(|r| matches!(r.first(), Some(b',' | b'}')))
    });
    leading
        && memmem::find(data, br#""response""#).is_none()
        && memmem::find(data, br"\u").is_none()
}

/// What one streamed event (`event:` name, `data`) says:
///
/// - usage ([`UsageReport::Total`]) from `response.completed`,
///   `response.incomplete` and `response.failed`;
/// - the upstream id from the lifecycle events' `response.id`;
/// - output on text, refusal, function-argument and reasoning deltas, on
///   `output_item.added` of a `function_call`, and on the completed and
///   incomplete ends (they carry the finish);
/// - an error on `error` and `response.failed`;
/// - the end on `response.completed`, `response.incomplete` and
///   `response.failed`.
pub fn inspect_event(event_name: Option<&str>, data: &[u8]) -> EventFacts {
    let Ok(view) = serde_json::from_slice::<EventView>(data) else {
        return EventFacts::default();
    };
    let kind = if view.kind.is_empty() {
        event_name.unwrap_or("")
    } else {
        view.kind.as_str()
    };
    let mut facts = EventFacts::default();
    let response = view.response.as_ref();
    match kind {
        "response.created" | "response.in_progress" | "response.queued" => {
            facts.upstream_id = response.and_then(|r| r.id.clone());
        }
        "response.output_text.delta"
        | "response.refusal.delta"
        | "response.function_call_arguments.delta"
        | "response.reasoning_summary_text.delta"
        | "response.reasoning_text.delta" => facts.has_output = view.delta.is_some(),
        "response.output_item.added" => {
            facts.has_output = view
                .item
                .as_ref()
                .is_some_and(|i| i.kind == "function_call");
        }
        "response.completed" | "response.incomplete" | "response.failed" => {
            facts.is_end = true;
            facts.has_output = kind != "response.failed";
            facts.upstream_id = response.and_then(|r| r.id.clone());
            facts.usage = response
                .and_then(|r| r.usage.as_ref())
                .map(|u| UsageReport::Total(u.to_usage()));
            if kind == "response.failed" {
                facts.error = Some(
                    response
                        .and_then(|r| r.error.as_ref())
                        .map(|e| e.message.clone())
                        .filter(|m| !m.is_empty())
                        .unwrap_or_else(|| "upstream response failed".to_owned()),
                );
            }
        }
        "error" => {
            facts.error = Some(
                view.message
                    .filter(|m| !m.is_empty())
                    .or_else(|| view.error.map(|e| e.message))
                    .filter(|m| !m.is_empty())
                    .unwrap_or_else(|| "upstream error".to_owned()),
            );
        }
        _ => {}
    }
    facts
}

/// What a whole response body says: usage, id, and an error when the body
/// is an error object or a `failed` response.
pub fn inspect_response(body: &[u8]) -> ResponseFacts {
    let Ok(view) = serde_json::from_slice::<ResponseView>(body) else {
        return ResponseFacts::default();
    };
    let is_response = view.object.as_deref() == Some("response");
    let error = match (&view.error, view.status.as_deref()) {
        (Some(e), _) if !is_response => Some(e.message.clone()),
        (e, Some("failed")) => Some(
            e.as_ref()
                .map(|e| e.message.clone())
                .filter(|m| !m.is_empty())
                .unwrap_or_else(|| "upstream response failed".to_owned()),
        ),
        _ => None,
    };
    ResponseFacts {
        usage: view.usage.as_ref().map(ResponsesUsage::to_usage),
        upstream_id: view.id.filter(|_| is_response || error.is_none()),
        error,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stream_events() {
        let created = br#"{"type":"response.created","sequence_number":0,"response":{"id":"resp_1","object":"response","status":"in_progress","output":[],"usage":null}}"#;
        let f = inspect_event(Some("response.created"), created);
        assert_eq!(f.upstream_id.as_deref(), Some("resp_1"));
        assert!(!f.has_output && !f.is_end && f.usage.is_none());
        let text = br#"{"type":"response.output_text.delta","item_id":"msg_1","output_index":0,"content_index":0,"delta":"Hi"}"#;
        assert!(inspect_event(None, text).has_output);
        let added = br#"{"type":"response.output_item.added","output_index":0,"item":{"type":"message","id":"m","role":"assistant","content":[]}}"#;
        assert!(!inspect_event(None, added).has_output);
        let call = br#"{"type":"response.output_item.added","output_index":1,"item":{"type":"function_call","id":"fc","call_id":"c","name":"f","arguments":""}}"#;
        assert!(inspect_event(None, call).has_output);
        let reasoning = br#"{"type":"response.reasoning_summary_text.delta","item_id":"rs","output_index":0,"summary_index":0,"delta":"x"}"#;
        assert!(inspect_event(None, reasoning).has_output);
        let done = br#"{"type":"response.completed","response":{"id":"resp_1","object":"response","status":"completed","output":[],
            "usage":{"input_tokens":10,"input_tokens_details":{"cached_tokens":4},"output_tokens":6,"output_tokens_details":{"reasoning_tokens":2},"total_tokens":16}}}"#;
        let f = inspect_event(Some("response.completed"), done);
        assert!(f.is_end && f.has_output);
        let Some(UsageReport::Total(u)) = f.usage else {
            panic!("total usage")
        };
        assert_eq!(
            (
                u.input_tokens,
                u.cached_tokens,
                u.output_tokens,
                u.reasoning_tokens
            ),
            (10, 4, 6, 2)
        );
        let failed = br#"{"type":"response.failed","response":{"id":"resp_1","status":"failed","error":{"code":"server_error","message":"boom"},"usage":null}}"#;
        let f = inspect_event(None, failed);
        assert_eq!(f.error.as_deref(), Some("boom"));
        assert!(f.is_end && !f.has_output);
        let err = br#"{"type":"error","code":"rate_limit_exceeded","message":"slow","param":null,"sequence_number":3}"#;
        assert_eq!(
            inspect_event(Some("error"), err).error.as_deref(),
            Some("slow")
        );
        assert_eq!(inspect_event(None, b"not json"), EventFacts::default());
    }

    #[test]
    fn whole_response() {
        let ok = br#"{"id":"resp_2","object":"response","status":"completed","error":null,"output":[],"usage":{"input_tokens":3,"output_tokens":4,"total_tokens":7}}"#;
        let f = inspect_response(ok);
        assert_eq!(f.usage.unwrap().total_tokens, 7);
        assert_eq!(f.upstream_id.as_deref(), Some("resp_2"));
        assert!(f.error.is_none());
        let failed = br#"{"id":"resp_3","object":"response","status":"failed","error":{"code":"server_error","message":"bad"},"output":[]}"#;
        assert_eq!(inspect_response(failed).error.as_deref(), Some("bad"));
        let body = br#"{"error":{"message":"nope","type":"invalid_request_error","param":null,"code":null}}"#;
        assert_eq!(inspect_response(body).error.as_deref(), Some("nope"));
    }

    #[test]
    fn a_plain_delta_is_known_by_its_leading_type() {
        for plain in [
            &br#"{"type":"response.output_text.delta","sequence_number":3,"item_id":"m","output_index":0,"content_index":0,"delta":"Hi"}"#[..],
            br#"{"type":"response.function_call_arguments.delta","delta":"{\"a\""}"#,
            br#"{"type":"response.reasoning_text.delta"}"#,
        ] {
            assert!(is_plain_delta(plain), "{}", String::from_utf8_lossy(plain));
            assert!(inspect_event(None, plain).usage.is_none());
        }
        for other in [
            &br#"{"type":"response.output_text.done","text":"Hi"}"#[..],
            br#"{"type":"response.output_text.deltas","delta":"x"}"#,
            br#"{"sequence_number":3,"type":"response.output_text.delta","delta":"x"}"#,
            br#"{"type":"response.output_text.delta","response":{"model":"up"}}"#,
            br#"{"type":"response.output_text.delta","delta":"caf\u00e9"}"#,
            br#"{"type":"response.completed","response":{"usage":{"total_tokens":3}}}"#,
        ] {
            assert!(!is_plain_delta(other), "{}", String::from_utf8_lossy(other));
        }
    }
}
