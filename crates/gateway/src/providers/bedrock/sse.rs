//! Bedrock event stream → Anthropic SSE bytes, so the gateway's Anthropic
//! stream pipeline consumes Bedrock answers unchanged.

use serde::Deserialize;
use serde_json::json;

use super::{BedrockEvent, EventStreamDecoder, EventStreamError, anthropic_error_type};

/// An Anthropic `event: error` SSE frame.
pub fn anthropic_error_sse(error_type: &str, message: &str) -> Vec<u8> {
    let data = json!({"type": "error", "error": {"type": error_type, "message": message}});
    format!("event: error\ndata: {data}\n\n").into_bytes()
}

impl EventStreamError {
    /// This decoding failure as an Anthropic `event: error` SSE frame
    /// (`api_error`), for a caller that ends the client stream with it.
    pub fn to_anthropic_sse(&self) -> Vec<u8> {
        anthropic_error_sse("api_error", &format!("Bedrock stream: {self}"))
    }
}

#[derive(Deserialize)]
struct EventType {
    #[serde(rename = "type")]
    kind: String,
}

/// Feeds `invoke-with-response-stream` body bytes through an
/// [`EventStreamDecoder`] and returns Anthropic SSE: each `chunk` becomes
/// `event: <type>\ndata: <json>\n\n`; an exception becomes one
/// `event: error` frame (throttling → `rate_limit_error`, validation →
/// `invalid_request_error`, serviceUnavailable → `overloaded_error`, else
/// `api_error`), after which further input is ignored.
#[derive(Debug, Default)]
pub struct BedrockToSse {
    decoder: EventStreamDecoder,
    exception: Option<(String, String)>,
}

impl BedrockToSse {
    /// A converter with a default decoder.
    pub fn new() -> Self {
        Self::default()
    }

    /// A converter around a configured decoder (e.g. a smaller frame cap).
    pub fn with_decoder(decoder: EventStreamDecoder) -> Self {
        Self {
            decoder,
            exception: None,
        }
    }

    /// Push received bytes; returns the SSE bytes of every event completed
    /// by them (possibly empty). A decoding error is final: the caller
    /// should end the stream (e.g. with [`EventStreamError::to_anthropic_sse`]).
    pub fn push(&mut self, bytes: &[u8]) -> Result<Vec<u8>, EventStreamError> {
        let mut out = Vec::new();
        if self.exception.is_some() {
            return Ok(out);
        }
        self.decoder.push(bytes);
        while let Some(event) = self.decoder.next_event()? {
            match event {
                BedrockEvent::Chunk(json) => write_chunk(&mut out, &json)?,
                BedrockEvent::Exception {
                    exception_type,
                    message,
                } => {
                    let kind = anthropic_error_type(&exception_type).unwrap_or("api_error");
                    out.extend(anthropic_error_sse(kind, &message));
                    self.exception = Some((exception_type, message));
                    break;
                }
                BedrockEvent::Other { .. } => {}
            }
        }
        Ok(out)
    }

    /// Call at end of body: an error if the stream stopped inside a message.
    pub fn finish(&self) -> Result<(), EventStreamError> {
        if self.exception.is_some() {
            return Ok(());
        }
        self.decoder.finish()
    }

    /// The upstream exception (`:exception-type`, message), once one arrived.
    pub fn exception(&self) -> Option<(&str, &str)> {
        self.exception
            .as_ref()
            .map(|(t, m)| (t.as_str(), m.as_str()))
    }
}

fn write_chunk(out: &mut Vec<u8>, json: &[u8]) -> Result<(), EventStreamError> {
    let event: EventType =
        serde_json::from_slice(json).map_err(|e| EventStreamError::Chunk(e.to_string()))?;
    if event.kind.contains(['\n', '\r']) {
        return Err(EventStreamError::Chunk(
            "event type contains a line break".into(),
        ));
    }
    out.extend_from_slice(b"event: ");
    out.extend_from_slice(event.kind.as_bytes());
    out.extend_from_slice(b"\ndata: ");
    if json.contains(&b'\n') || json.contains(&b'\r') {
        let value: serde_json::Value =
            serde_json::from_slice(json).map_err(|e| EventStreamError::Chunk(e.to_string()))?;
        out.extend(value.to_string().into_bytes());
    } else {
        out.extend_from_slice(json);
    }
    out.extend_from_slice(b"\n\n");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::{encode_chunk_frame, encode_exception_frame};
    use super::*;

    use serde_json::{Value, json};

    /// Split SSE text into (event, parsed data) pairs, checking the framing.
    fn frames(sse: &[u8]) -> Vec<(String, Value)> {
        let text = std::str::from_utf8(sse).unwrap();
        assert!(text.is_empty() || text.ends_with("\n\n"));
        text.split_terminator("\n\n")
            .map(|frame| {
                let (event, data) = frame.split_once('\n').unwrap();
                let event = event.strip_prefix("event: ").unwrap().to_owned();
                (
                    event,
                    serde_json::from_str(data.strip_prefix("data: ").unwrap()).unwrap(),
                )
            })
            .collect()
    }

    #[test]
    fn chunks_become_anthropic_sse() {
        let start =
            br#"{"type":"message_start","message":{"id":"msg_1","usage":{"input_tokens":3}}}"#;
        let delta = b"{\"type\":\"content_block_delta\",\n \"index\":0}";
        let mut bytes = encode_chunk_frame(start);
        bytes.extend(encode_chunk_frame(delta));
        let mut conv = BedrockToSse::new();
        let (a, b) = bytes.split_at(10);
        let mut out = conv.push(a).unwrap();
        assert!(out.is_empty());
        out.extend(conv.push(b).unwrap());
        conv.finish().unwrap();
        let first = format!(
            "event: message_start\ndata: {}\n\n",
            std::str::from_utf8(start).unwrap()
        );
        assert!(
            out.starts_with(first.as_bytes()),
            "compact JSON is passed through byte for byte"
        );
        assert_eq!(
            frames(&out),
            [
                (
                    "message_start".to_owned(),
                    serde_json::from_slice(start).unwrap()
                ),
                (
                    "content_block_delta".to_owned(),
                    json!({"type":"content_block_delta","index":0})
                ),
            ]
        );
    }

    #[test]
    fn exceptions_become_error_events() {
        let cases = [
            ("throttlingException", "rate_limit_error"),
            ("validationException", "invalid_request_error"),
            ("serviceUnavailableException", "overloaded_error"),
            ("modelStreamErrorException", "api_error"),
            ("internalServerException", "api_error"),
        ];
        for (exception, kind) in cases {
            let mut conv = BedrockToSse::new();
            let mut bytes = encode_chunk_frame(br#"{"type":"ping"}"#);
            bytes.extend(encode_exception_frame(exception, "went \"wrong\""));
            bytes.extend(encode_chunk_frame(br#"{"type":"message_stop"}"#));
            let out = conv.push(&bytes).unwrap();
            assert_eq!(
                frames(&out),
                [
                    ("ping".to_owned(), json!({"type":"ping"})),
                    (
                        "error".to_owned(),
                        json!({"type":"error","error":{"type":kind,"message":"went \"wrong\""}})
                    ),
                ]
            );
            assert_eq!(conv.exception(), Some((exception, "went \"wrong\"")));
            assert!(conv.push(&encode_chunk_frame(b"{}")).unwrap().is_empty());
            conv.finish().unwrap();
        }
    }

    #[test]
    fn decoding_errors_are_final_and_renderable() {
        let mut frame = encode_chunk_frame(br#"{"type":"ping"}"#);
        let last = frame.len() - 1;
        frame[last] ^= 1;
        let mut conv = BedrockToSse::new();
        let err = conv.push(&frame).unwrap_err();
        assert_eq!(err, EventStreamError::MessageCrc);
        let sse = String::from_utf8(err.to_anthropic_sse()).unwrap();
        assert!(
            sse.starts_with("event: error\ndata: {")
                && sse.contains("api_error")
                && sse.ends_with("\n\n")
        );
        assert!(conv.finish().is_err());
        let mut conv = BedrockToSse::new();
        assert!(matches!(
            conv.push(&encode_chunk_frame(b"not json")),
            Err(EventStreamError::Chunk(_))
        ));
    }
}
