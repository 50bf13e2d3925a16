//! Observing an Anthropic answer the gateway forwards byte for byte
//! (Anthropic client, Anthropic upstream): usage, id, output, errors, end.

use serde::Deserialize;

use crate::anthropic::AnthropicUsage;
use crate::inspect::{EventFacts, ResponseFacts, UsageReport};
use crate::sse::replay_events;

#[derive(Deserialize, Default)]
#[serde(default)]
struct EventView {
    #[serde(rename = "type")]
    kind: String,
    message: Option<MessageView>,
    usage: Option<AnthropicUsage>,
    delta: Option<DeltaView>,
    content_block: Option<BlockView>,
    error: Option<ErrorView>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct MessageView {
    id: Option<String>,
    usage: Option<AnthropicUsage>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct DeltaView {
    stop_reason: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct BlockView {
    #[serde(rename = "type")]
    kind: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ErrorView {
    message: String,
}

/// What one streamed event (`event:` name, `data`) says.
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
    match kind {
        "message_start" => {
            if let Some(message) = &view.message {
                facts.upstream_id = message.id.clone();
                facts.usage = message
                    .usage
                    .as_ref()
                    .map(|u| UsageReport::Input(u.to_usage()));
            }
        }
        "content_block_start" => {
            facts.has_output = view.content_block.as_ref().is_some_and(|b| {
                matches!(
                    b.kind.as_str(),
                    "tool_use" | "redacted_thinking" | "server_tool_use"
                )
            });
        }
        "content_block_delta" => facts.has_output = true,
        "message_delta" => {
            facts.has_output = view.delta.as_ref().is_some_and(|d| d.stop_reason.is_some());
            facts.usage = view
                .usage
                .as_ref()
                .map(|u| UsageReport::Output(u.to_usage()));
        }
        "message_stop" => facts.is_end = true,
        "error" => {
            facts.error = Some(
                view.error
                    .map(|e| e.message)
                    .unwrap_or_else(|| "upstream error".into()),
            )
        }
        _ => {}
    }
    facts
}

/// Whether an event's `data` names itself a `content_block_delta` in its
/// leading member (`{"type":"content_block_delta",…`, the form Anthropic
/// writes). [`inspect_event`] finds in such an event output and nothing
/// else: no usage, id, error or end. `false` only means "inspect it".
pub fn is_content_delta(data: &[u8]) -> bool {
    data.strip_prefix(br#"{"type":"content_block_delta""#)
        .is_some_and(|rest| matches!(rest.first(), Some(b',' | b'}')))
}

/// The output of a Messages stream read back from its bytes (in order,
/// split anywhere): the `text`, `thinking` and `partial_json` of every
/// event's `delta`, for estimating output tokens when the upstream reported
/// no usage. An event larger than `max_event_bytes` ends the reading.
pub fn stream_delta_text<'a>(
    pieces: impl IntoIterator<Item = &'a [u8]>,
    max_event_bytes: usize,
) -> String {
    #[derive(Deserialize, Default)]
    #[serde(default)]
    struct WithDelta {
        delta: Option<DeltaText>,
    }
    #[derive(Deserialize, Default)]
    #[serde(default)]
    struct DeltaText {
        text: Option<String>,
        thinking: Option<String>,
        partial_json: Option<String>,
    }
    let mut out = String::new();
    replay_events(pieces, max_event_bytes, |event| {
        let Ok(WithDelta { delta: Some(delta) }) = serde_json::from_slice(&event.data) else {
            return;
        };
        for part in [delta.text, delta.thinking, delta.partial_json]
            .into_iter()
            .flatten()
        {
            out.push_str(&part);
        }
    });
    out
}

/// What a whole Messages response body says.
pub fn inspect_response(body: &[u8]) -> ResponseFacts {
    #[derive(Deserialize, Default)]
    #[serde(default)]
    struct ResponseView {
        #[serde(rename = "type")]
        kind: String,
        id: Option<String>,
        usage: Option<AnthropicUsage>,
        error: Option<ErrorView>,
    }
    let Ok(view) = serde_json::from_slice::<ResponseView>(body) else {
        return ResponseFacts::default();
    };
    ResponseFacts {
        usage: view.usage.as_ref().map(AnthropicUsage::to_usage),
        upstream_id: view.id,
        error: (view.kind == "error").then(|| view.error.map(|e| e.message).unwrap_or_default()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stream_events() {
        let start = br#"{"type":"message_start","message":{"id":"msg_1","usage":{"input_tokens":10,"cache_read_input_tokens":5,"output_tokens":1}}}"#;
        let f = inspect_event(Some("message_start"), start);
        assert_eq!(f.upstream_id.as_deref(), Some("msg_1"));
        let Some(UsageReport::Input(u)) = f.usage else {
            panic!("input usage")
        };
        assert_eq!((u.input_tokens, u.cached_tokens), (15, 5));
        assert!(!f.has_output);
        assert!(
            inspect_event(
                None,
                br#"{"type":"content_block_delta","delta":{"type":"text_delta","text":"x"}}"#
            )
            .has_output
        );
        assert!(
            !inspect_event(
                None,
                br#"{"type":"content_block_start","content_block":{"type":"text","text":""}}"#
            )
            .has_output
        );
        let d = inspect_event(None, br#"{"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":12}}"#);
        assert!(d.has_output);
        assert!(matches!(d.usage, Some(UsageReport::Output(u)) if u.output_tokens == 12));
        assert!(inspect_event(None, br#"{"type":"message_stop"}"#).is_end);
        let e = inspect_event(
            Some("error"),
            br#"{"type":"error","error":{"type":"overloaded_error","message":"busy"}}"#,
        );
        assert_eq!(e.error.as_deref(), Some("busy"));
    }

    #[test]
    fn whole_response() {
        let f = inspect_response(br#"{"id":"msg_2","type":"message","usage":{"input_tokens":3,"output_tokens":4,"cache_creation_input_tokens":2}}"#);
        assert_eq!(f.usage.unwrap().input_tokens, 5);
        assert_eq!(f.upstream_id.as_deref(), Some("msg_2"));
        assert!(
            inspect_response(br#"{"type":"error","error":{"message":"bad"}}"#)
                .error
                .is_some()
        );
    }

    #[test]
    fn a_content_delta_is_known_by_its_leading_type() {
        assert!(is_content_delta(
            br#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"x"}}"#
        ));
        assert!(is_content_delta(br#"{"type":"content_block_delta"}"#));
        for other in [
            &br#"{"type":"content_block_deltas","index":0}"#[..],
            br#"{"index":0,"type":"content_block_delta"}"#,
            br#"{ "type":"content_block_delta","index":0}"#,
            br#"{"type":"message_delta","usage":{"output_tokens":3}}"#,
            br#"{"type":"content_block_delta""#,
        ] {
            assert!(
                !is_content_delta(other),
                "{}",
                String::from_utf8_lossy(other)
            );
        }
    }

    #[test]
    fn delta_text_is_read_back_from_the_stream() {
        let stream = concat!(
            "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"m\"}}\n\n",
            "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"thinking_delta\",\"thinking\":\"hm\"}}\n\n",
            "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":1,\"delta\":{\"type\":\"text_delta\",\"text\":\"H\\u00e9\"}}\n\n",
            ": ping\n\n",
            "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":2,\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":\"{\\\"a\\\"\"}}\n\n",
            "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\"}}\n\n",
        );
        let pieces: Vec<&[u8]> = stream.as_bytes().chunks(9).collect();
        assert_eq!(stream_delta_text(pieces, 1 << 20), "hmHé{\"a\"");
    }
}
